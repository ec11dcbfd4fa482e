/* omni analyze — content analysis of a message (include/omni/analyze.h). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cmd_analyze_summary[] = "spam score, sentiment, intents, entities and language";
const char cmd_analyze_usage[] =
    "usage: omni analyze [--config FILE] [--language L] [--sender S] [MESSAGE]\n"
    "       omni analyze [--config FILE] --json [REQUEST]\n"
    "\n"
    "Analyzes MESSAGE (the text itself, one argument; without it, stdin is the\n"
    "text) with the built-in analyzer and prints the ContentAnalysis JSON:\n"
    "{\"spam\",\"spamScore\",\"spamReasons\",\"sentiment\",\"sentimentScore\",\"intent\",\n"
    "\"entities\",\"language\",\"languageConfidence\"}.\n"
    "--language is the customer's language (a hint used when detection is not\n"
    "confident), --sender the sender checked against the blocklist.\n"
    "--json reads a request {\"content\",\"contentType\"?,\"language\"?,\"sender\"?}\n"
    "from the file REQUEST (or stdin) instead.\n"
    "--config FILE: an analyzer configuration (spam, sentiment, intents,\n"
    "entities, defaultRegion; see omni/analyze.h).\n"
    "Exit 0 on success, 2 for invalid input or usage, 1 otherwise.\n";

int cmd_analyze(cli *c, int argc, char **argv)
{
    (void)c;
    const char *config = NULL, *lang = NULL, *sender = NULL, *arg = NULL;
    int json = 0, have_arg = 0;
    for (int i = 1; i < argc; i++) {
        if (!have_arg && strcmp(argv[i], "--") == 0) {
            if (i + 1 < argc) {
                arg = argv[++i];
                have_arg = 1;
            }
            if (i + 1 < argc)
                return cli_usage_error("analyze takes one MESSAGE (quote it)");
            break;
        }
        int r = 0;
        if ((r = cli_opt(argc, argv, &i, "--config", &config)) ||
            (r = cli_opt(argc, argv, &i, "--language", &lang)) ||
            (r = cli_opt(argc, argv, &i, "--sender", &sender))) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] == '-')
            return cli_usage_error("unknown option \"%s\" for analyze", argv[i]);
        if (have_arg)
            return cli_usage_error("analyze takes one MESSAGE (quote it)");
        arg = argv[i];
        have_arg = 1;
    }
    if (json && (lang || sender))
        return cli_usage_error("--language and --sender go in the request with --json");

    omni_analyzer *a = NULL;
    if (config) {
        char *cfg;
        size_t cfg_len;
        int rc = cli_read_input(config, OMNI_ANALYZE_MAX_CONFIG, &cfg, &cfg_len);
        if (rc)
            return rc;
        int st = omni_analyzer_compile(&a, cfg, cfg_len);
        free(cfg);
        if (st)
            return cli_fail(st);
    }
    char *in = NULL, *out = NULL;
    size_t len = 0, out_len = 0;
    int st;
    if (json) {
        int rc = cli_read_input(arg, OMNI_ANALYZE_MAX_REQUEST, &in, &len);
        if (rc) {
            omni_analyzer_free(a);
            return rc;
        }
        st = omni_analyze(&out, &out_len, a, in, len);
    } else if (have_arg) {
        st = omni_analyze_text(&out, &out_len, a, arg, strlen(arg), lang, sender);
    } else {
        int rc = cli_read_input(NULL, OMNI_ANALYZE_MAX_CONTENT, &in, &len);
        if (rc) {
            omni_analyzer_free(a);
            return rc;
        }
        st = omni_analyze_text(&out, &out_len, a, in, len, lang, sender);
    }
    free(in);
    omni_analyzer_free(a);
    if (st)
        return cli_fail(st);
    cli_print_json(out, out_len);
    omni_free(out);
    return CLI_OK;
}
