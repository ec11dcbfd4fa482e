/* omni — the libomni command-line tool. See `omni --help`. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const cli_command cli_commands[] = {
    {"version", cmd_version, "print the library version",
     "usage: omni version\n\nPrints {\"version\":\"X.Y.Z\",\"versionNumber\":N}.\n"},
    {"uuid5", cmd_uuid5, "name-based UUID (RFC 9562 version 5)",
     "usage: omni uuid5 NAMESPACE NAME...\n\n"
     "NAMESPACE is a UUID or one of dns, url, oid, x500. Prints one UUID per NAME.\n"},
    {"uuid7", cmd_uuid7, "time-ordered UUID (RFC 9562 version 7)",
     "usage: omni uuid7 [--count N]\n\n"
     "Prints N (default 1, at most 1000000) UUIDv7 values, strictly increasing.\n"
     "--now and --seed make the output reproducible.\n"},
    {"base64url", cmd_base64url, "base64url (RFC 4648 section 5) encode or decode",
     "usage: omni base64url encode|decode [FILE]\n\n"
     "encode: reads bytes from FILE or stdin, prints the unpadded base64url text.\n"
     "decode: reads base64url text (padding optional; surrounding whitespace\n"
     "ignored), writes the decoded bytes to stdout.\n"},
    {"jwt", cmd_jwt, "sign or verify JSON Web Tokens (HS256, RS256, ES256)",
     "usage: omni jwt sign --alg HS256|RS256|ES256 KEY [--header JSON] [--iat]\n"
     "                    [--expires-in SECONDS] [CLAIMS_JSON_FILE]\n"
     "       omni jwt verify --alg HS256|RS256|ES256 KEY [--leeway SECONDS] [TOKEN_FILE]\n\n"
     "KEY is one of:\n"
     "  --secret S          HS256 secret (visible to other users in ps; prefer:)\n"
     "  --secret-env NAME   HS256 secret from an environment variable\n"
     "  --secret-file FILE  HS256 secret from a file (bytes as they are)\n"
     "  --key PEM_FILE      RS256/ES256 key: private to sign; public, private or\n"
     "                      certificate to verify\n\n"
     "sign reads the claims (a JSON object) from the file or stdin and prints the\n"
     "token. --iat adds \"iat\" and --expires-in adds \"exp\" from the clock (--now).\n"
     "verify reads a token, checks signature, exp and nbf (with --leeway), prints the\n"
     "claims; exit 1 when the token is not valid.\n"},
    {"render", cmd_render, "render a Handlebars / mustache template",
     "usage: omni render TEMPLATE [DATA] [--partial NAME=FILE]... [--escape html|none|json]\n"
     "                   [--mode handlebars|mustache] [--strict] [--locale L]\n"
     "                   [--time-zone ZONE]\n\n"
     "Renders the template file with the JSON data (a file, or stdin when DATA is\n"
     "absent) and writes exactly the rendered bytes to stdout. --escape html (the\n"
     "default) escapes {{x}} as handlebars.js does; none for SMS, WhatsApp and push\n"
     "text; json for JSON string bodies. --strict fails with MISSING_VARIABLE and\n"
     "lists every missing path. --locale and --time-zone set the defaults of\n"
     "formatNumber, formatCurrency and formatDate.\n"},
    {"sms-segments", cmd_sms_segments, "SMS encoding and segment count of a text",
     "usage: omni sms-segments [TEXT]\n\n"
     "Counts TEXT (or stdin) as an SMS: GSM-7 (160 / 153 septets) or UCS-2 (70 / 67\n"
     "units) and prints {\"encoding\",\"segments\",\"units\",\"parts\"}.\n"},
    {"template", cmd_template, "validate a template for a channel",
     "usage: omni template validate --channel sms|email|whatsapp|push TEMPLATE\n"
     "                              [--data FILE] [--max-segments N]\n"
     "                              [--whatsapp-parameters N] [--locale L]\n\n"
     "TEMPLATE is a NotificationTemplate JSON document or a bare template body.\n"
     "Prints {\"valid\",\"channel\",\"findings\":[...]}; exit 1 when a finding is an\n"
     "error.\n"},
    {"webhook", cmd_webhook, cmd_webhook_summary, cmd_webhook_usage},
    {"phone", cmd_phone, cmd_phone_summary, cmd_phone_usage},
    {"identity", cmd_identity, cmd_identity_summary, cmd_identity_usage},
    {"conversation", cmd_conversation, cmd_conversation_summary, cmd_conversation_usage},
    {"rules", cmd_rules, cmd_rules_summary, cmd_rules_usage},
    {"analyze", cmd_analyze, cmd_analyze_summary, cmd_analyze_usage},
    {"preroute", cmd_preroute, cmd_preroute_summary, cmd_preroute_usage},
    {"aws", cmd_aws, cmd_aws_summary, cmd_aws_usage},
    {"outbound", cmd_outbound, cmd_outbound_summary, cmd_outbound_usage},
    {"webpush", cmd_webpush, cmd_webpush_summary, cmd_webpush_usage},
    {"devices", cmd_devices, cmd_devices_summary, cmd_devices_usage},
    {"push", cmd_push, cmd_push_summary, cmd_push_usage},
    {"notify", cmd_notify, cmd_notify_summary, cmd_notify_usage},
    {"config", cmd_config, cmd_config_summary, cmd_config_usage},
    {NULL, NULL, NULL, NULL},
};

static void print_help(void)
{
    printf("omni %s — the libomni command-line tool\n\n"
           "usage: omni [--now RFC3339] [--seed N] COMMAND [ARGS]\n"
           "       omni COMMAND --help\n\ncommands:\n",
           omni_version());
    for (const cli_command *c = cli_commands; c->name; c++)
        printf("  %-13s %s\n", c->name, c->summary);
    printf("\nConventions: input from a FILE argument or stdin; results on stdout;\n"
           "errors on stderr as JSON {code, message, retryable}; exit 0 ok,\n"
           "2 invalid input, 1 other failure. --now and --seed pin the clock and\n"
           "random hooks so a run can be reproduced.\n");
}

int main(int argc, char **argv)
{
    cli c = {NULL, NULL, NULL};
    /* Take the global options out of argv, wherever they stand. */
    int n = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < argc)
                argv[n++] = argv[i++];
            break;
        }
        int r = cli_opt(argc, argv, &i, "--now", &c.now);
        if (r == 0)
            r = cli_opt(argc, argv, &i, "--seed", &c.seed);
        if (r < 0)
            return CLI_USAGE;
        if (r == 0)
            argv[n++] = argv[i];
    }
    argc = n;
    argv[argc] = NULL;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc >= 3 && strcmp(argv[1], "help") == 0) {
            for (const cli_command *cmd = cli_commands; cmd->name; cmd++)
                if (strcmp(cmd->name, argv[2]) == 0) {
                    fputs(cmd->usage, stdout);
                    return CLI_OK;
                }
        }
        print_help();
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("omni %s\n", omni_version());
        return CLI_OK;
    }
    for (const cli_command *cmd = cli_commands; cmd->name; cmd++) {
        if (strcmp(cmd->name, argv[1]) != 0)
            continue;
        if (cli_wants_help(argc - 1, argv + 1)) {
            fputs(cmd->usage, stdout);
            return CLI_OK;
        }
        int rc = cmd->run(&c, argc - 1, argv + 1);
        omni_engine_free(c.engine);
        if (fflush(stdout) != 0 && rc == CLI_OK)
            rc = CLI_FAIL;
        return rc;
    }
    return cli_usage_error("unknown command \"%s\"; see omni --help", argv[1]);
}
