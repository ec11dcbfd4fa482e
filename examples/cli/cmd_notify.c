/* omni notify: the notification orchestrator (seed 000's notification-orchestrator,
 * POST /notifications/send and send-bulk) and the user notification preferences,
 * over a store (include/omni/orchestrator.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

int cmd_notify(cli *c, int argc, char **argv);
extern const char cmd_notify_summary[], cmd_notify_usage[];

const char cmd_notify_summary[] = "notification orchestrator: send, send-bulk, prefs";
const char cmd_notify_usage[] =
    "usage: omni notify send --config CONFIG [--store URI] [--deadline-ms N] [REQUEST]\n"
    "       omni notify send-bulk --config CONFIG [--store URI] [--deadline-ms N] [BULK]\n"
    "       omni notify prefs put [--store URI] [PREFS]\n"
    "       omni notify prefs get [--store URI] USER_ID\n"
    "       omni notify prefs delete [--store URI] USER_ID\n"
    "  store option: --store URI (default \"memory:\"; \"sqlite:PATH\" keeps the\n"
    "  preferences, devices and deliveries between runs)\n\n"
    "CONFIG (a file) is {\"orchestrator\": {\"channels\": {\"sms\"?: {\"carrier\",\n"
    "\"from\"?}, \"email\"?: {\"carrier\"}, \"whatsapp\"?: {...}, \"push\"?: {}},\n"
    "\"defaultLocale\"?}, \"outbound\"?: providers, \"push\"?: push platforms,\n"
    "\"delivery\"?: the delivery engine's configuration, \"transport\"?}.\n"
    "send reads a NotificationRequest {\"userId\", \"messageType\": urgent|important|\n"
    "informational, \"requestId\"?, \"content\": {\"subject\"?, \"body\"?, \"templateId\"?,\n"
    "\"variables\"?}, \"channels\"?, \"scheduledFor\"?, \"expiresAt\"?} (a file, or\n"
    "stdin) and prints the result {\"success\", \"channels\": [...], \"fallbackUsed\"}.\n"
    "send-bulk reads {\"notifications\": [...]} and prints {\"results\", \"summary\"}.\n"
    "prefs put reads the user's preferences {\"userId\", \"channels\", \"preferredChannels\"?,\n"
    "\"optOuts\"?, \"doNotDisturb\"?, \"quietHours\"?, \"timezone\"?, \"locale\"?} and prints\n"
    "the stored record; get prints it; delete prints {\"deleted\": true}.\n";

typedef struct args {
    const char *config, *store, *deadline;
    const char *pos[2];
    int npos;
} args;

static int parse(int argc, char **argv, int from, args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = from; i < argc; i++) {
        int r;
        if ((r = cli_opt(argc, argv, &i, "--config", &a->config)) ||
            (r = cli_opt(argc, argv, &i, "--store", &a->store)) ||
            (r = cli_opt(argc, argv, &i, "--deadline-ms", &a->deadline))) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1])
            return cli_usage_error("notify: unknown option %s", argv[i]);
        if (a->npos == 2)
            return cli_usage_error("notify: too many arguments");
        a->pos[a->npos++] = argv[i];
    }
    return CLI_OK;
}

static int do_send(cli *c, const args *a, int bulk)
{
    if (!a->config || strcmp(a->config, "-") == 0)
        return cli_usage_error("notify: --config FILE is required (not stdin)");
    if (a->npos > 1)
        return cli_usage_error("notify: one REQUEST file at most");
    char opts[64] = "{}";
    if (a->deadline) {
        unsigned long long ms = 0;
        int rc = cli_uint_opt("--deadline-ms", a->deadline, &ms);
        if (rc)
            return rc;
        snprintf(opts, sizeof opts, "{\"deadlineMs\":%llu}", ms);
    }
    cJSON *doc = NULL;
    int rc = cli_config_read(a->config, &doc);
    if (rc)
        return rc;
    const cJSON *oc = cJSON_GetObjectItemCaseSensitive(doc, "orchestrator");
    char *ocfg = NULL;
    if (!cJSON_IsObject(oc)) {
        cJSON_Delete(doc);
        omni_error_set(OMNI_ECONFIG, "CONFIG: \"orchestrator\" (an object) is required", 0);
        return cli_fail(OMNI_ECONFIG);
    }
    rc = cli_json_text(oc, &ocfg);
    cJSON_Delete(doc);
    if (rc)
        return rc;
    char *text = NULL;
    size_t len = 0;
    if ((rc = cli_read_input(a->npos ? a->pos[0] : NULL, CLI_MAX_INPUT, &text, &len))) {
        free(ocfg);
        return rc;
    }
    cli_delivery x;
    if ((rc = cli_delivery_open(c, a->config, a->store, &x))) {
        free(text);
        free(ocfg);
        return rc;
    }
    omni_orchestrator *o = NULL;
    int st = omni_orchestrator_new(&o, x.d, ocfg, strlen(ocfg));
    char *out = NULL;
    size_t n = 0;
    if (!st)
        st = bulk ? omni_notify_send_bulk(&out, &n, o, text, len, opts, strlen(opts))
                  : omni_notify_send(&out, &n, o, text, len, opts, strlen(opts));
    omni_orchestrator_free(o);
    free(text);
    free(ocfg);
    cli_delivery_close(&x);
    return cli_print_result(st, out, n);
}

static int do_prefs(cli *c, int argc, char **argv)
{
    if (argc < 3)
        return cli_usage_error("notify prefs: a subcommand is required (put, get, delete)");
    const char *sub = argv[2];
    args a;
    int rc = parse(argc, argv, 3, &a);
    if (rc)
        return rc;
    if (a.config || a.deadline)
        return cli_usage_error("notify prefs takes only --store");
    int put = strcmp(sub, "put") == 0, get = strcmp(sub, "get") == 0,
        del = strcmp(sub, "delete") == 0;
    if (!put && !get && !del)
        return cli_usage_error("notify prefs: unknown subcommand %s (put, get, delete)", sub);
    if (put ? a.npos > 1 : a.npos != 1)
        return cli_usage_error(put ? "notify prefs put: one PREFS file at most"
                                   : "notify prefs %s: USER_ID is required", sub);
    char *text = NULL;
    size_t len = 0;
    if (put && (rc = cli_read_input(a.npos ? a.pos[0] : NULL, CLI_MAX_INPUT, &text, &len)))
        return rc;
    omni_engine *e = NULL;
    if ((rc = cli_engine_store(c, a.store, &e))) {
        free(text);
        return rc;
    }
    char *out = NULL;
    size_t n = 0;
    int st;
    if (put)
        st = omni_notify_prefs_put(&out, &n, e, text, len);
    else if (get)
        st = omni_notify_prefs_get(&out, &n, e, a.pos[0]);
    else if ((st = omni_notify_prefs_delete(e, a.pos[0])) == OMNI_OK) {
        out = omni_malloc(18);
        if (out)
            memcpy(out, "{\"deleted\":true}", 17), n = 16;
    }
    free(text);
    return cli_print_result(st, out, n);
}

int cmd_notify(cli *c, int argc, char **argv)
{
    if (cli_wants_help(argc, argv) || argc < 2) {
        if (argc < 2)
            return cli_usage_error("notify: a subcommand is required (send, send-bulk, prefs)");
        fputs(cmd_notify_usage, stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "prefs") == 0)
        return do_prefs(c, argc, argv);
    int bulk = strcmp(argv[1], "send-bulk") == 0;
    if (!bulk && strcmp(argv[1], "send") != 0)
        return cli_usage_error("notify: unknown subcommand %s (send, send-bulk, prefs)",
                               argv[1]);
    args a;
    int rc = parse(argc, argv, 2, &a);
    return rc ? rc : do_send(c, &a, bulk);
}
