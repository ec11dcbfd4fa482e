/* omni outbound — the outbound carrier adapters (omni/outbound.h: build, parse) and
 * the delivery engine over a store (omni/delivery.h: send, tick, get, dlq). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

const char cmd_outbound_summary[] =
    "build or read carrier requests; send, retry and dead-letter messages";
const char cmd_outbound_usage[] =
    "usage: omni outbound build --config CONFIG [--carrier NAME] [EVENT]\n"
    "       omni outbound parse --config CONFIG --carrier NAME [RESPONSE]\n"
    "       omni outbound send --config CONFIG [--store URI] [--deadline-ms N]\n"
    "                          [--idempotency-key K] [EVENT]\n"
    "       omni outbound tick --config CONFIG [--store URI] [--limit N]\n"
    "       omni outbound get --config CONFIG [--store URI] MESSAGE_ID\n"
    "       omni outbound dlq list --config CONFIG [--store URI] [--limit N] [--cursor C]\n"
    "       omni outbound dlq get|redrive --config CONFIG [--store URI] MESSAGE_ID\n"
    "       omni outbound dlq purge --config CONFIG [--store URI] (MESSAGE_ID | --all)\n"
    "\n"
    "build: reads a PublishOutboundEvent (EVENT file or stdin) and prints the\n"
    "HTTP request the provider's API takes, as JSON {\"method\",\"url\",\n"
    "\"headers\",\"body\"|\"bodyBase64\"}. The carrier is --carrier, else the\n"
    "event's recipient.carrier. Nothing is sent.\n"
    "parse: reads a provider's HTTP response in JSON form ({\"status\",\n"
    "\"headers\",\"body\"}) and prints the result {success, carrierMessageId,\n"
    "status, cost, error {code, message, retryable}, retryAfterMs}.\n"
    "\n"
    "The delivery engine (omni/delivery.h) keeps every message in the store until\n"
    "it is final, so use a store that outlives the command: --store sqlite:PATH\n"
    "(default \"memory:\", gone when the command ends).\n"
    "send: publishes the PublishOutboundEvent (EVENT file or stdin) and sends it\n"
    "through the HTTP transport; prints the PublishOutboundResult {success,\n"
    "correlationId, duplicate?, delivery {messageId, status, attempts,\n"
    "nextAttemptAt?, ...}, tracking, error?}. A repeated event (same\n"
    "idempotency key: --idempotency-key, options.idempotencyKey, else\n"
    "correlationId/recipient) is never sent again (\"duplicate\": true).\n"
    "--deadline-ms N waits for retries due within N ms (default 0: a retry is\n"
    "left stored for tick). Exit 0 whenever the call worked, also when the\n"
    "result is \"pending\" or \"failed\".\n"
    "tick: sends the stored work that is due now (retries, scheduled messages,\n"
    "expired leases), at most --limit N (1..1000, default 100) messages; prints\n"
    "{processed, sent, retried, deadLettered, expired, inDoubt, nextDueAt}.\n"
    "get: prints a stored message with its attempt history.\n"
    "dlq list: one page {items, next} of dead letters (--limit 1..1000, default\n"
    "50; --cursor is the previous page's next). dlq get: one dead letter.\n"
    "dlq redrive: makes a dead letter due again with a fresh retry budget (tick\n"
    "sends it); prints its PublishOutboundResult. dlq purge: removes one dead\n"
    "letter, or every one with --all; prints {\"purged\": n}.\n"
    "\n"
    "CONFIG: for build and parse, the providers' configuration (omni/outbound.h);\n"
    "for the others {\"outbound\": providers' configuration, \"delivery\"?: the\n"
    "delivery engine's configuration (retryPolicy, fallback, circuitBreaker,\n"
    "rateLimits, ...), \"transport\"?: libcurl options (timeoutMs,\n"
    "connectTimeoutMs, maxResponseBytes, caFile, ...; with \"type\" another\n"
    "transport of omni_engine_new)}; build and parse take that form too.\n"
    "Secrets in it may be {\"env\": \"NAME\"}. They never appear in any output.\n"
    "--now pins the clock (request signatures, Retry-After dates, the time tick\n"
    "runs at) and --seed the random hook (retry jitter).\n";

/* Which options a subcommand takes. */
enum {
    O_CARRIER = 1 << 0,
    O_STORE = 1 << 1,
    O_DEADLINE = 1 << 2,
    O_KEY = 1 << 3,
    O_LIMIT = 1 << 4,
    O_CURSOR = 1 << 5,
    O_ALL = 1 << 6
};

typedef struct ob_args {
    const char *config, *carrier, *store, *deadline, *key, *limit, *cursor;
    int all;
    unsigned given;      /* O_* bits of the options present */
    const char *pos[3];  /* positional arguments after the subcommand */
    int npos;
} ob_args;

static const char *const opt_names[] = {"--carrier", "--store",  "--deadline-ms",
                                        "--idempotency-key", "--limit", "--cursor",
                                        "--all"};

static int parse_args(int argc, char **argv, ob_args *a)
{
    const char **vals[] = {&a->carrier, &a->store, &a->deadline, &a->key, &a->limit, &a->cursor};
    for (int i = 2; i < argc; i++) {
        int r = cli_opt(argc, argv, &i, "--config", &a->config);
        for (int k = 0; r == 0 && k < 6; k++) {
            r = cli_opt(argc, argv, &i, opt_names[k], vals[k]);
            if (r > 0)
                a->given |= 1u << k;
        }
        if (r < 0)
            return CLI_USAGE;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--all") == 0) {
            a->all = 1;
            a->given |= O_ALL;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("unknown option \"%s\" for outbound %s", argv[i], argv[1]);
        if (a->npos == 3)
            return cli_usage_error("too many arguments for outbound %s", argv[1]);
        a->pos[a->npos++] = argv[i];
    }
    if (!a->config)
        return cli_usage_error("--config is required");
    return CLI_OK;
}

/* Rejects options the subcommand does not take and a wrong number of positional
 * arguments (from `first` on; pos_min..pos_max of them). */
static int check_args(const ob_args *a, const char *what, unsigned allowed, int first,
                      int pos_min, int pos_max, const char *pos_name)
{
    unsigned extra = a->given & ~allowed;
    for (int k = 0; extra && k < 7; k++)
        if (extra & (1u << k))
            return cli_usage_error("outbound %s does not take %s", what, opt_names[k]);
    int n = a->npos - first;
    if (n < pos_min)
        return cli_usage_error("outbound %s needs %s", what, pos_name);
    if (n > pos_max && pos_max == 0)
        return cli_usage_error("outbound %s takes no arguments", what);
    if (n > pos_max)
        return cli_usage_error("outbound %s takes %s one %s", what,
                               pos_min ? "exactly" : "at most", pos_name);
    return CLI_OK;
}

/* ---- build, parse ------------------------------------------------------------------ */

static int ob_build(cli *c, const ob_args *a, omni_outbound *ob)
{
    omni_engine *e;
    int rc = cli_engine(c, &e);
    if (rc)
        return rc;
    char *text;
    size_t len;
    if ((rc = cli_read_input(a->pos[0], CLI_MAX_INPUT, &text, &len)))
        return rc;
    omni_http_request *req;
    int st = omni_outbound_build(&req, ob, a->carrier, text, len, omni_engine_now_ms(e));
    free(text);
    if (st)
        return cli_fail(st);
    char *out;
    size_t n;
    st = omni_http_request_to_json(&out, &n, req);
    omni_http_request_free(req);
    return cli_print_result(st, out, n);
}

static int ob_parse(cli *c, const ob_args *a, omni_outbound *ob)
{
    if (!a->carrier)
        return cli_usage_error("outbound parse needs --carrier");
    omni_engine *e;
    int rc = cli_engine(c, &e);
    if (rc)
        return rc;
    char *text;
    size_t len;
    if ((rc = cli_read_input(a->pos[0], CLI_MAX_INPUT, &text, &len)))
        return rc;
    omni_http_response *resp;
    int st = omni_http_response_from_json(&resp, text, len);
    free(text);
    if (st)
        return cli_fail(st);
    char *out;
    size_t n;
    st = omni_outbound_parse(&out, &n, ob, a->carrier, resp, omni_engine_now_ms(e));
    omni_http_response_free(resp);
    return cli_print_result(st, out, n);
}

/* build and parse take the providers' configuration, or the delivery form. */
static int adapters(cli *c, const ob_args *a, int build)
{
    int rc = check_args(a, build ? "build" : "parse", O_CARRIER, 0, 0, 1, "input file");
    if (rc)
        return rc;
    cJSON *doc;
    if ((rc = cli_config_read(a->config, &doc)))
        return rc;
    const cJSON *cfg = doc;
    if (cJSON_GetObjectItemCaseSensitive(doc, "outbound") && (rc = cli_config_form(doc, &cfg))) {
        cJSON_Delete(doc);
        return rc;
    }
    omni_outbound *ob;
    rc = cli_outbound_load(cfg, &ob);
    cJSON_Delete(doc);
    if (rc)
        return rc;
    rc = build ? ob_build(c, a, ob) : ob_parse(c, a, ob);
    omni_outbound_free(ob);
    return rc;
}

/* ---- the delivery engine -------------------------------------------------------------- */

/* The options of send: {"deadlineMs"?, "idempotencyKey"?}, or NULL. */
static int send_options(const ob_args *a, char **out)
{
    *out = NULL;
    if (!a->deadline && !a->key)
        return CLI_OK;
    unsigned long long deadline = 0;
    if (a->deadline && cli_uint_opt("--deadline-ms", a->deadline, &deadline))
        return CLI_USAGE;
    cJSON *o = cJSON_CreateObject();
    int ok = o != NULL;
    if (ok && a->deadline)
        ok = cJSON_AddNumberToObject(o, "deadlineMs", (double)deadline) != NULL;
    if (ok && a->key)
        ok = cJSON_AddStringToObject(o, "idempotencyKey", a->key) != NULL;
    int rc = ok ? cli_json_text(o, out) : cli_fail(omni_error_set(OMNI_ENOMEM, NULL, -1));
    cJSON_Delete(o);
    return rc;
}

static int dlv_send(cli_delivery *x, const ob_args *a)
{
    char *opts, *text;
    size_t len;
    int rc = send_options(a, &opts);
    if (rc)
        return rc;
    if ((rc = cli_read_input(a->pos[0], CLI_MAX_INPUT, &text, &len))) {
        free(opts);
        return rc;
    }
    char *out = NULL;
    size_t n = 0;
    int st = omni_delivery_send(&out, &n, x->d, text, len, opts, opts ? strlen(opts) : 0);
    free(text);
    free(opts);
    return cli_print_result(st, out, n);
}

static int dlv_tick(cli_delivery *x, const ob_args *a)
{
    unsigned long long limit = 100;
    if (a->limit && cli_uint_opt("--limit", a->limit, &limit))
        return CLI_USAGE;
    char *out = NULL;
    size_t n = 0;
    int st = omni_delivery_tick(&out, &n, x->d, omni_engine_now_ms(x->engine), (size_t)limit);
    return cli_print_result(st, out, n);
}

static int dlv_list(cli_delivery *x, const ob_args *a)
{
    unsigned long long limit = 0;
    if (a->limit && cli_uint_opt("--limit", a->limit, &limit))
        return CLI_USAGE;
    cJSON *q = cJSON_CreateObject();
    int ok = q != NULL;
    if (ok && a->limit)
        ok = cJSON_AddNumberToObject(q, "limit", (double)limit) != NULL;
    if (ok && a->cursor)
        ok = cJSON_AddStringToObject(q, "cursor", a->cursor) != NULL;
    char *query = NULL;
    int rc = ok ? cli_json_text(q, &query) : cli_fail(omni_error_set(OMNI_ENOMEM, NULL, -1));
    cJSON_Delete(q);
    if (rc)
        return rc;
    char *out = NULL;
    size_t n = 0;
    int st = omni_delivery_dlq_list(&out, &n, x->d, query, strlen(query));
    free(query);
    return cli_print_result(st, out, n);
}

static int dlv_purge(cli_delivery *x, const ob_args *a)
{
    size_t count = 0;
    int st = omni_delivery_dlq_purge(x->d, a->all ? NULL : a->pos[1], &count);
    if (st)
        return cli_fail(st);
    printf("{\"purged\":%zu}\n", count);
    return CLI_OK;
}

/* The delivery subcommands: checks the arguments, opens the engine and runs one. */
static int delivery(cli *c, const ob_args *a, const char *cmd)
{
    int rc;
    const char *dlq = NULL;
    if (strcmp(cmd, "dlq") == 0) {
        if (a->npos == 0)
            return cli_usage_error("outbound dlq needs list, get, redrive or purge");
        dlq = a->pos[0];
    }
    if (!dlq && strcmp(cmd, "send") == 0) {
        rc = check_args(a, cmd, O_STORE | O_DEADLINE | O_KEY, 0, 0, 1, "input file");
    } else if (!dlq && strcmp(cmd, "tick") == 0) {
        rc = check_args(a, cmd, O_STORE | O_LIMIT, 0, 0, 0, NULL);
    } else if (!dlq) {
        rc = check_args(a, cmd, O_STORE, 0, 1, 1, "MESSAGE_ID");
    } else if (strcmp(dlq, "list") == 0) {
        rc = check_args(a, "dlq list", O_STORE | O_LIMIT | O_CURSOR, 1, 0, 0, NULL);
    } else if (strcmp(dlq, "get") == 0 || strcmp(dlq, "redrive") == 0) {
        rc = check_args(a, dlq[0] == 'g' ? "dlq get" : "dlq redrive", O_STORE, 1, 1, 1,
                        "MESSAGE_ID");
    } else if (strcmp(dlq, "purge") == 0) {
        rc = check_args(a, "dlq purge", O_STORE | O_ALL, 1, 0, 1, "MESSAGE_ID");
        if (!rc && (a->npos == 2) == (a->all != 0))
            rc = cli_usage_error("outbound dlq purge needs MESSAGE_ID or --all (not both)");
    } else {
        return cli_usage_error("unknown outbound dlq subcommand \"%s\"", dlq);
    }
    if (rc)
        return rc;

    cli_delivery x;
    if ((rc = cli_delivery_open(c, a->config, a->store, &x)))
        return rc;
    char *out = NULL;
    size_t n = 0;
    int st;
    if (!dlq && cmd[0] == 's') {
        rc = dlv_send(&x, a);
    } else if (!dlq && cmd[0] == 't') {
        rc = dlv_tick(&x, a);
    } else if (!dlq) {
        st = omni_delivery_get(&out, &n, x.d, a->pos[0]);
        rc = cli_print_result(st, out, n);
    } else if (strcmp(dlq, "list") == 0) {
        rc = dlv_list(&x, a);
    } else if (strcmp(dlq, "get") == 0) {
        st = omni_delivery_dlq_get(&out, &n, x.d, a->pos[1]);
        rc = cli_print_result(st, out, n);
    } else if (strcmp(dlq, "redrive") == 0) {
        st = omni_delivery_dlq_redrive(&out, &n, x.d, a->pos[1]);
        rc = cli_print_result(st, out, n);
    } else {
        rc = dlv_purge(&x, a);
    }
    cli_delivery_close(&x);
    return rc;
}

int cmd_outbound(cli *c, int argc, char **argv)
{
    static const char *const cmds[] = {"build", "parse", "send", "tick", "get", "dlq"};
    if (argc < 2)
        return cli_usage_error("usage: omni outbound build|parse|send|tick|get|dlq ... "
                               "(see omni outbound --help)");
    size_t k = 0;
    while (k < sizeof cmds / sizeof cmds[0] && strcmp(argv[1], cmds[k]) != 0)
        k++;
    if (k == sizeof cmds / sizeof cmds[0])
        return cli_usage_error("unknown outbound subcommand \"%s\"", argv[1]);
    ob_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    if (k < 2)
        return adapters(c, &a, k == 0);
    return delivery(c, &a, argv[1]);
}
