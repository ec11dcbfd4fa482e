/* omni preroute: pre-routing of PreRouteEvents (seed 001's
 * workFlowPreRoute) with a configuration file, and the opt-out ledger. */
#include <stdlib.h>
#include <string.h>

#include <omni/preroute.h>

#include "cli.h"

const char cmd_preroute_summary[] = "pre-route messages (rules, auto-responses, opt-out)";
const char cmd_preroute_usage[] =
    "usage: omni preroute --config CONFIG [--store URI] [--lines] [EVENT]\n"
    "       omni preroute optout-get ACCOUNT_ID CUSTOMER_ID [--store URI]\n"
    "       omni preroute optout-set ACCOUNT_ID CUSTOMER_ID in|out [--keyword K]\n"
    "                     [--channel C] [--store URI]\n\n"
    "Runs one PreRouteEvent {\"correlationId\", \"conversation\", \"messageState\",\n"
    "\"routing\": {\"accountId\"}, \"identity\", \"message\"} (EVENT file, or stdin)\n"
    "through the configuration CONFIG (a JSON file: defaults, accounts, templates,\n"
    "analyzer; see omni/preroute.h) and prints the PreRouteResult. With --lines the\n"
    "input holds one event per line and one result is printed per line (a line\n"
    "that fails prints {\"success\": false, \"error\": {...}}; the exit status is\n"
    "then 1). optout-get prints the opt-out ledger record of a customer;\n"
    "optout-set records an opt-out (out) or opt-in (in) by hand and prints the\n"
    "record with \"changed\".\n"
    "  --store URI   the store (default \"memory:\"; \"sqlite:PATH\" keeps the\n"
    "                ledger and the auto-response windows between runs)\n"
    "--now pins the clock (business hours, windows, updatedAt).\n";

static int run_lines(omni_engine *e, const omni_preroute *p, char *in, size_t len)
{
    int failed = 0;
    char *s = in, *end = in + len;
    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        char *le = nl ? nl : end;
        size_t n = (size_t)(le - s);
        if (n > 0 && s[n - 1] == '\r')
            n--;
        size_t k = 0;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (k < n) {
            char *out = NULL;
            size_t olen = 0;
            int rc = omni_preroute_run(&out, &olen, e, p, s, n);
            if (rc) {
                char *err = NULL;
                size_t elen = 0;
                failed = 1;
                if (omni_error_last_json(&err, &elen) == OMNI_OK) {
                    fputs("{\"success\":false,\"error\":", stdout);
                    fwrite(err, 1, elen, stdout);
                    fputs("}\n", stdout);
                    omni_free(err);
                } else {
                    fputs("{\"success\":false}\n", stdout);
                }
            } else {
                cli_print_json(out, olen);
                omni_free(out);
            }
        }
        s = nl ? nl + 1 : end;
    }
    fflush(stdout);
    return failed ? CLI_FAIL : CLI_OK;
}

static int run_events(cli *c, const char *config, const char *store, int lines,
                      const char *path)
{
    char *cfg = NULL, *in = NULL;
    size_t cfg_len = 0, in_len = 0;
    int rc = cli_read_input(config, OMNI_LIMIT_CONFIG_BYTES, &cfg, &cfg_len);
    if (rc)
        return rc;
    omni_preroute *p = NULL;
    int st = omni_preroute_compile(&p, cfg, cfg_len);
    free(cfg);
    if (st)
        return cli_fail(st);
    omni_engine *e = NULL;
    rc = cli_engine_store(c, store ? store : "memory:", &e);
    if (!rc)
        rc = cli_read_input(path, lines ? CLI_MAX_INPUT : OMNI_PREROUTE_MAX_EVENT + 1, &in,
                            &in_len);
    if (rc) {
        omni_preroute_free(p);
        return rc;
    }
    if (lines) {
        rc = run_lines(e, p, in, in_len);
    } else {
        char *out = NULL;
        size_t olen = 0;
        st = omni_preroute_run(&out, &olen, e, p, in, in_len);
        if (st) {
            rc = cli_fail(st);
        } else {
            cli_print_json(out, olen);
            omni_free(out);
        }
    }
    free(in);
    omni_preroute_free(p);
    return rc;
}

static int optout(cli *c, int set, const char *store, const char **pos, const char *keyword,
                  const char *channel)
{
    int out_flag = 0;
    if (set) {
        if (strcmp(pos[2], "out") == 0)
            out_flag = 1;
        else if (strcmp(pos[2], "in") != 0)
            return cli_usage_error("optout-set takes \"in\" or \"out\", not \"%s\"", pos[2]);
    }
    omni_engine *e = NULL;
    int rc = cli_engine_store(c, store ? store : "memory:", &e);
    if (rc)
        return rc;
    int changed = 0;
    if (set) {
        rc = omni_optout_set(e, pos[0], pos[1], out_flag, keyword, channel, &changed);
        if (rc)
            return cli_fail(rc);
    }
    char *rec = NULL;
    size_t len = 0;
    rc = omni_optout_get(&rec, &len, e, pos[0], pos[1]);
    if (rc)
        return cli_fail(rc);
    if (set) {
        /* {"changed": bool, ...the record's members} */
        fputs(changed ? "{\"changed\":true," : "{\"changed\":false,", stdout);
        fwrite(rec + 1, 1, len - 1, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    } else {
        cli_print_json(rec, len);
    }
    omni_free(rec);
    return CLI_OK;
}

int cmd_preroute(cli *c, int argc, char **argv)
{
    int sub = 0; /* 0 run, 1 optout-get, 2 optout-set */
    int first = 1;
    if (argc >= 2 && strcmp(argv[1], "optout-get") == 0)
        sub = 1, first = 2;
    else if (argc >= 2 && strcmp(argv[1], "optout-set") == 0)
        sub = 2, first = 2;
    const char *config = NULL, *store = NULL, *keyword = NULL, *channel = NULL;
    const char *pos[3] = {NULL, NULL, NULL};
    int npos = 0, lines = 0;
    static const int max_pos[] = {1, 2, 3};
    for (int i = first; i < argc; i++) {
        int r;
        if ((r = cli_opt(argc, argv, &i, "--store", &store)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (sub == 0 && (r = cli_opt(argc, argv, &i, "--config", &config)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (sub == 2 && ((r = cli_opt(argc, argv, &i, "--keyword", &keyword)) != 0 ||
                         (r = cli_opt(argc, argv, &i, "--channel", &channel)) != 0)) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (sub == 0 && strcmp(argv[i], "--lines") == 0) {
            lines = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("unknown option \"%s\" for preroute", argv[i]);
        if (npos >= max_pos[sub])
            return cli_usage_error("too many arguments for preroute (see --help)");
        pos[npos++] = argv[i];
    }
    if (sub == 0) {
        if (!config)
            return cli_usage_error("preroute needs --config CONFIG (see --help)");
        return run_events(c, config, store, lines, pos[0]);
    }
    if (npos != max_pos[sub])
        return cli_usage_error("preroute %s takes %d arguments", argv[1], max_pos[sub]);
    return optout(c, sub == 2, store, pos, keyword, channel);
}
