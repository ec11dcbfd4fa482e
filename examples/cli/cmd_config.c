/* omni config: checks an engine configuration document (omni/config.h),
 * applies it to a store (routing records, conversation settings,
 * templates), and shows what it compiles to. */
#include <stdlib.h>
#include <string.h>

#include <omni/config.h>

#include "cli.h"

const char cmd_config_summary[] = "check or apply an engine configuration document";
const char cmd_config_usage[] =
    "usage: omni config check [CONFIG]\n"
    "       omni config apply [--store URI] [CONFIG]\n"
    "       omni config show [CONFIG]\n"
    "       omni config account CONFIG ADDRESS\n\n"
    "CONFIG is the engine configuration (a JSON file, or stdin): version,\n"
    "storage, transport, inbound, defaults, accounts, templates, analyzer,\n"
    "delivery, workflow (see omni/config.h). Secrets are strings or\n"
    "{\"env\": \"NAME\"}; they are never printed.\n"
    "  check    validates the whole document and prints {\"valid\", \"errors\":\n"
    "           [{\"path\", \"message\", \"code\"}...], \"accounts\", \"carriers\",\n"
    "           \"steps\", ...}; exit 0 when valid, 2 when not\n"
    "  apply    writes the routing record of every address, the accounts'\n"
    "           conversation settings and the templates into the store, only what\n"
    "           differs (running it twice writes nothing the second time); prints\n"
    "           {\"routing\": {\"written\", \"unchanged\"}, ...}\n"
    "  show     prints the compiled view: {\"summary\", \"engine\", \"workflow\",\n"
    "           \"accounts\": [account settings without secrets]}\n"
    "  account  prints the settings of the account that owns ADDRESS (a phone\n"
    "           number with '+', shortcode:N, mss:SID, waba:ID or business:ID)\n"
    "  --store URI   apply's store (default: the document's \"storage\")\n"
    "--now pins the clock (the templates' createdAt / updatedAt).\n";

static int load(const char *path, omni_config **cfg)
{
    char *doc = NULL;
    size_t len = 0;
    int rc = cli_read_input(path, OMNI_LIMIT_CONFIG_BYTES + 1, &doc, &len);
    if (rc)
        return rc;
    int st = omni_config_new(cfg, doc, len);
    free(doc);
    return st ? cli_fail(st) : CLI_OK;
}

static int check(const char *path)
{
    char *doc = NULL, *out = NULL;
    size_t len = 0, n = 0;
    int rc = cli_read_input(path, OMNI_LIMIT_CONFIG_BYTES + 1, &doc, &len);
    if (rc)
        return rc;
    int st = omni_config_check(&out, &n, doc, len);
    free(doc);
    if (st)
        return cli_fail(st);
    int valid = strncmp(out, "{\"valid\":true", 13) == 0;
    cli_print_json(out, n);
    omni_free(out);
    return valid ? CLI_OK : CLI_USAGE;
}

static int apply(cli *c, const char *store, const char *path)
{
    omni_config *cfg = NULL;
    int rc = load(path, &cfg);
    if (rc)
        return rc;
    omni_engine *e = NULL;
    rc = cli_engine_store(c, store ? store : omni_config_storage(cfg), &e);
    if (!rc) {
        char *out = NULL;
        size_t n = 0;
        int st = omni_config_apply(&out, &n, cfg, e);
        rc = cli_print_result(st, out, n);
    }
    omni_config_free(cfg);
    return rc;
}

static int show(const char *path)
{
    omni_config *cfg = NULL;
    int rc = load(path, &cfg);
    if (rc)
        return rc;
    size_t n = 0;
    fputs("{\"summary\":", stdout);
    fputs(omni_config_summary(cfg, &n), stdout);
    fputs(",\"engine\":", stdout);
    fputs(omni_config_engine_json(cfg, &n), stdout);
    fputs(",\"workflow\":", stdout);
    fputs(omni_config_workflow(cfg, &n), stdout);
    fputs(",\"accounts\":[", stdout);
    for (size_t i = 0; i < omni_config_account_count(cfg); i++) {
        if (i)
            fputc(',', stdout);
        fputs(omni_config_account_json(cfg, omni_config_account_id(cfg, i), &n), stdout);
    }
    fputs("]}\n", stdout);
    fflush(stdout);
    omni_config_free(cfg);
    return CLI_OK;
}

static int account(const char *path, const char *address)
{
    omni_config *cfg = NULL;
    int rc = load(path, &cfg);
    if (rc)
        return rc;
    const char *id = omni_config_account(cfg, address);
    if (!id) {
        rc = cli_fail(omni_error_last_status());
    } else {
        size_t n = 0;
        const char *j = omni_config_account_json(cfg, id, &n);
        cli_print_json(j, n);
    }
    omni_config_free(cfg);
    return rc;
}

int cmd_config(cli *c, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("config needs a subcommand: check, apply, show or account");
    const char *sub = argv[1];
    int which = strcmp(sub, "check") == 0     ? 0
                : strcmp(sub, "apply") == 0   ? 1
                : strcmp(sub, "show") == 0    ? 2
                : strcmp(sub, "account") == 0 ? 3
                                              : -1;
    if (which < 0)
        return cli_usage_error("unknown config subcommand \"%s\" (check, apply, show, account)",
                               sub);
    const char *store = NULL;
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    for (int i = 2; i < argc; i++) {
        int r;
        if (which == 1 && (r = cli_opt(argc, argv, &i, "--store", &store)) != 0) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("unknown option \"%s\" for config %s", argv[i], sub);
        if (npos >= (which == 3 ? 2 : 1))
            return cli_usage_error("too many arguments for config %s (see --help)", sub);
        pos[npos++] = argv[i];
    }
    switch (which) {
    case 0:
        return check(pos[0]);
    case 1:
        return apply(c, store, pos[0]);
    case 2:
        return show(pos[0]);
    default:
        if (npos != 2)
            return cli_usage_error("config account takes CONFIG and ADDRESS");
        return account(pos[0], pos[1]);
    }
}
