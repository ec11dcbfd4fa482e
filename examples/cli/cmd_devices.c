/* omni devices: the push device registry (seed 002's DeviceTokens, seed
 * 000's PUT device-token) over a store: register, get, list, remove. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

int cmd_devices(cli *c, int argc, char **argv);
extern const char cmd_devices_summary[], cmd_devices_usage[];

const char cmd_devices_summary[] = "push device registry: register, get, list, remove";
const char cmd_devices_usage[] =
    "usage: omni devices register [--store URI] [DEVICE]\n"
    "       omni devices get [--store URI] PLATFORM TOKEN\n"
    "       omni devices list [--store URI] --user ID [--platform P] [--limit N]\n"
    "                     [--cursor C]\n"
    "       omni devices list [--store URI] --platform P [--limit N] [--cursor C]\n"
    "       omni devices remove [--store URI] PLATFORM TOKEN [--reason R]\n"
    "  store option: --store URI (default \"memory:\"; \"sqlite:PATH\" keeps the\n"
    "  registry between runs)\n\n"
    "register reads DEVICE (a file, or stdin) {\"userId\", \"deviceToken\",\n"
    "\"platform\": \"ios\"|\"android\"|\"web\", \"subscription\"? (web: the browser's\n"
    "PushSubscription.toJSON()), \"appId\"?, \"locale\"?, \"timezone\"?, \"metadata\"?}\n"
    "and prints {\"device\", \"created\", \"events\"}; a token registered to another\n"
    "user moves (event \"device.moved\").\n"
    "get prints the device record. list prints one page {\"items\", \"next\"} of a\n"
    "user's devices (--platform: only that platform) or of a platform's devices;\n"
    "pass \"next\" as --cursor for the next page. remove prints {\"device\",\n"
    "\"events\"}: \"device.unregistered\", or with --reason (the provider's answer,\n"
    "e.g. \"Unregistered\", \"410 Gone\") \"device.invalidated\".\n"
    "--now pins the clock (registeredAt, updatedAt, event times).\n";

static int print_result(int rc, char *out, size_t len)
{
    if (rc)
        return cli_fail(rc);
    cli_print_json(out, len);
    omni_free(out);
    return CLI_OK;
}

/* A --limit value: 1..1000 digits only. */
static int parse_limit(const char *s, long *out)
{
    char *end = NULL;
    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 4)
        return -1;
    *out = strtol(s, &end, 10);
    return *out >= 1 && *out <= 1000 ? 0 : -1;
}

int cmd_devices(cli *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv) || argc < 2) {
        if (argc < 2)
            return cli_usage_error("devices: a subcommand is required (register, get, list, "
                                   "remove)");
        fputs(cmd_devices_usage, stdout);
        return CLI_OK;
    }
    const char *sub = argv[1];
    int is_reg = strcmp(sub, "register") == 0, is_get = strcmp(sub, "get") == 0;
    int is_list = strcmp(sub, "list") == 0, is_rm = strcmp(sub, "remove") == 0;
    if (!is_reg && !is_get && !is_list && !is_rm)
        return cli_usage_error("devices: unknown subcommand \"%s\"", sub);
    const char *store = NULL, *user = NULL, *platform = NULL, *limit = NULL, *cursor = NULL;
    const char *reason = NULL;
    const char *pos[3] = {NULL, NULL, NULL};
    int npos = 0;
    for (int i = 2; i < argc; i++) {
        int k;
        if ((k = cli_opt(argc, argv, &i, "--store", &store)) != 0 ||
            (is_list && (k = cli_opt(argc, argv, &i, "--user", &user)) != 0) ||
            (is_list && (k = cli_opt(argc, argv, &i, "--platform", &platform)) != 0) ||
            (is_list && (k = cli_opt(argc, argv, &i, "--limit", &limit)) != 0) ||
            (is_list && (k = cli_opt(argc, argv, &i, "--cursor", &cursor)) != 0) ||
            (is_rm && (k = cli_opt(argc, argv, &i, "--reason", &reason)) != 0)) {
            if (k < 0)
                return CLI_USAGE;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("devices %s: unknown option \"%s\"", sub, argv[i]);
        if (npos == 3)
            return cli_usage_error("devices %s: too many arguments", sub);
        pos[npos++] = argv[i];
    }
    int want = is_reg ? -1 : is_list ? 0 : 2;
    if (is_reg && npos > 1)
        return cli_usage_error("devices register: at most one DEVICE file");
    if (want >= 0 && npos != want)
        return cli_usage_error(is_list ? "devices list: no positional arguments (use --user "
                                         "or --platform)"
                                       : "devices %s: PLATFORM and TOKEN are required",
                               sub);
    if (is_list && !user && !platform)
        return cli_usage_error("devices list: --user or --platform is required");
    long lim = 0;
    if (limit && parse_limit(limit, &lim))
        return cli_usage_error("devices list: --limit must be 1 to 1000");

    omni_engine *e = NULL;
    int rc = cli_engine_store(c, store ? store : "memory:", &e);
    if (rc)
        return rc;
    char *out = NULL;
    size_t out_len = 0;
    if (is_reg) {
        char *text;
        size_t len;
        rc = cli_read_input(pos[0], CLI_MAX_INPUT, &text, &len);
        if (rc)
            return rc;
        rc = omni_device_register(&out, &out_len, e, text, len);
        free(text);
        return print_result(rc, out, out_len);
    }
    if (is_get || is_rm) {
        rc = is_get ? omni_device_get(&out, &out_len, e, pos[0], pos[1])
                    : omni_device_remove(&out, &out_len, e, pos[0], pos[1], reason);
        return print_result(rc, out, out_len);
    }

    /* list: the query document */
    cJSON *q = cJSON_CreateObject();
    int ok = q != NULL;
    if (ok && lim)
        ok = cJSON_AddNumberToObject(q, "limit", (double)lim) != NULL;
    if (ok && cursor)
        ok = cJSON_AddStringToObject(q, "cursor", cursor) != NULL;
    if (ok && user && platform)
        ok = cJSON_AddStringToObject(q, "platform", platform) != NULL;
    char *qtext = ok ? cJSON_PrintUnformatted(q) : NULL;
    cJSON_Delete(q);
    if (!qtext)
        return cli_fail(OMNI_ENOMEM);
    rc = omni_device_list(&out, &out_len, e, user, user ? NULL : platform, qtext,
                          strlen(qtext));
    free(qtext);
    return print_result(rc, out, out_len);
}
