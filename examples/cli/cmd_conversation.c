/* omni conversation: the conversation state machine, message recording,
 * history, delivery status and DynamoDB Streams change events (seed 001's
 * workFlowBiDirectional and dynamoStream) over a store. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

const char cmd_conversation_summary[] = "conversation steps, history, delivery and change events";
const char cmd_conversation_usage[] =
    "usage: omni conversation step [EVENT] [--outbound] [--options JSON]\n"
    "       omni conversation get CONVERSATION_ID\n"
    "       omni conversation transition CONVERSATION_ID [EVENT]\n"
    "       omni conversation history CONVERSATION_ID [--limit N] [--cursor C]\n"
    "                     [--direction inbound|outbound] [--content-type T]\n"
    "                     [--since RFC3339] [--until RFC3339]\n"
    "       omni conversation list CUSTOMER_ID [--limit N] [--cursor C] [--status S]\n"
    "       omni conversation delivery [UPDATE]\n"
    "       omni conversation delete CONVERSATION_ID\n"
    "       omni conversation window CONVERSATION_ID\n"
    "       omni conversation settings-set ACCOUNT_ID [SETTINGS]\n"
    "       omni conversation settings-get ACCOUNT_ID\n"
    "       omni conversation apply CONVERSATION EVENT\n"
    "       omni conversation dynamo-stream [EVENT]\n"
    "       omni conversation dynamo-unmarshall [ITEM]\n"
    "  store option: --store URI (default \"memory:\"; \"sqlite:PATH\" keeps the\n"
    "  conversations between runs)\n\n"
    "Documents (EVENT, UPDATE, SETTINGS, ITEM) come from a file, or stdin.\n\n"
    "step records a message: EVENT is an IdentityLookupResult or BiDirectionalEvent\n"
    "{\"correlationId\", \"identity\": {\"customerId\"}, \"routing\": {\"accountId\"},\n"
    "\"enrichedMessage\": {\"id\", \"carrier\", \"channelType\", \"content\",\n"
    "\"contentType\", \"timestamp\"}, \"direction\"?} and the BiDirectionalResult is\n"
    "printed. EVENT may also be a JSON array of events: each is stepped in order and\n"
    "the array of results is printed (on an error, the results of the events\n"
    "before it, which are recorded, then the error). --outbound sets \"direction\":\n"
    "\"outbound\" in events that have no direction. --options is a JSON object\n"
    "{\"inactivityTimeoutMs\", \"dedupeWindowMs\", \"maxAttempts\"}.\n"
    "transition applies {\"event\": \"resolve\"|\"escalate\"|\"agent_assigned\"|...,\n"
    "\"agentId\"?, ...} to a stored conversation and prints {conversation, events}.\n"
    "delivery applies {\"conversationId\", \"sequenceNumber\", \"status\"} (with\n"
    "\"carrierMessageId\" and \"carrier\": attaches the provider's id to an outbound\n"
    "message) or a carrier status event {\"carrier\", \"carrierMessageId\", \"status\"}\n"
    "(kept as \"parked\" until that id is attached when no message has it yet).\n"
    "window prints {\"open\": bool, \"expiresAt\": RFC3339|null} (WhatsApp's 24-hour\n"
    "customer service window). SETTINGS is {\"inactivityTimeoutMs\",\n"
    "\"dedupeWindowMs\"}.\n"
    "apply is the pure transition of a conversation document (a file) by an event\n"
    "document (a file); \"-\" reads one of them from stdin.\n"
    "dynamo-stream converts a DynamoStreamEvent {\"Records\": [...]} into change\n"
    "events; dynamo-unmarshall turns a DynamoDB item into plain JSON.\n"
    "--now pins the clock (message and event times, the service window) and\n"
    "--seed the random hook (conversation and message ids).\n";

static int print_result(int rc, char *out, size_t len)
{
    if (rc)
        return cli_fail(rc);
    cli_print_json(out, len);
    omni_free(out);
    return CLI_OK;
}

/* Prints a cJSON document (consumed) on stdout. */
static int print_cjson(cJSON *doc)
{
    char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!text)
        return cli_fail(OMNI_ENOMEM);
    cli_print_line(text, strlen(text));
    free(text);
    return CLI_OK;
}

/* Skips JSON white space. */
static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Steps one event (an object's text) and returns the status. */
static int step_one(omni_engine *e, const char *ev, size_t ev_len, const char *options,
                    char **out, size_t *out_len)
{
    return omni_conversation_step(out, out_len, e, ev, ev_len, options,
                                  options ? strlen(options) : 0);
}

/* Adds "direction": "outbound" to an event object that has none. */
static int mark_outbound(cJSON *ev)
{
    if (!cJSON_IsObject(ev) || cJSON_GetObjectItemCaseSensitive(ev, "direction"))
        return 0;
    return cJSON_AddStringToObject(ev, "direction", "outbound") ? 0 : -1;
}

/* step: one event, or an array of events stepped in order. */
static int run_step(omni_engine *e, const char *path, int outbound, const char *options)
{
    char *text;
    size_t len;
    int rc = cli_read_input(path, CLI_MAX_INPUT, &text, &len);
    if (rc)
        return rc;
    const char *p = skip_ws(text, text + len);
    int is_array = p < text + len && *p == '[';
    cJSON *doc = NULL;
    if (is_array || outbound)
        doc = cJSON_ParseWithLength(text, len);
    if (!doc) {
        /* A single event as it is (or malformed JSON: the library reports
         * where). */
        char *out = NULL;
        size_t out_len = 0;
        int st = step_one(e, text, len, options, &out, &out_len);
        free(text);
        return print_result(st, out, out_len);
    }
    free(text);
    if (!is_array) {
        char *ev = NULL;
        if (mark_outbound(doc) || !(ev = cJSON_PrintUnformatted(doc))) {
            cJSON_Delete(doc);
            return cli_fail(OMNI_ENOMEM);
        }
        cJSON_Delete(doc);
        char *out = NULL;
        size_t out_len = 0;
        int st = step_one(e, ev, strlen(ev), options, &out, &out_len);
        free(ev);
        return print_result(st, out, out_len);
    }

    /* The results, as raw JSON texts joined into an array. */
    size_t cap = 256, used = 0;
    char *all = malloc(cap);
    int st = all ? OMNI_OK : OMNI_ENOMEM;
    if (all)
        all[used++] = '[';
    const cJSON *item;
    int n = 0;
    cJSON_ArrayForEach(item, doc)
    {
        if (st)
            break;
        if (outbound && mark_outbound((cJSON *)item)) {
            st = OMNI_ENOMEM;
            break;
        }
        char *ev = cJSON_PrintUnformatted(item);
        if (!ev) {
            st = OMNI_ENOMEM;
            break;
        }
        char *out = NULL;
        size_t out_len = 0;
        st = step_one(e, ev, strlen(ev), options, &out, &out_len);
        free(ev);
        if (st)
            break;
        if (used + out_len + 3 > cap) {
            while (used + out_len + 3 > cap)
                cap *= 2;
            char *grown = realloc(all, cap);
            if (!grown) {
                omni_free(out);
                st = omni_error_set(OMNI_ENOMEM, NULL, -1);
                break;
            }
            all = grown;
        }
        if (n++)
            all[used++] = ',';
        memcpy(all + used, out, out_len);
        used += out_len;
        omni_free(out);
    }
    cJSON_Delete(doc);
    if (!all)
        return cli_fail(OMNI_ENOMEM);
    all[used++] = ']';
    /* The events before a failure are recorded: show their results. */
    if (!st || n > 0)
        cli_print_line(all, used);
    free(all);
    return st ? cli_fail(st) : CLI_OK;
}

/* Parses an integer option value (for --limit). */
static int int_option(const char *name, const char *text, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end)
        return cli_usage_error("%s must be an integer", name);
    *out = v;
    return CLI_OK;
}

/* Reads a document and calls fn on it: the shared shape of the commands
 * that take one JSON document. */
typedef int (*doc_fn)(char **out, size_t *out_len, const char *doc, size_t len, void *ctx);

static int with_doc(const char *path, doc_fn fn, void *ctx)
{
    char *doc;
    size_t len;
    int rc = cli_read_input(path, CLI_MAX_INPUT, &doc, &len);
    if (rc)
        return rc;
    char *out = NULL;
    size_t out_len = 0;
    int st = fn(&out, &out_len, doc, len, ctx);
    free(doc);
    return print_result(st, out, out_len);
}

typedef struct doc_ctx {
    omni_engine *e;
    const char *id;
} doc_ctx;

static int do_transition(char **out, size_t *out_len, const char *doc, size_t len, void *ctx)
{
    doc_ctx *d = ctx;
    return omni_conversation_transition(out, out_len, d->e, d->id, doc, len);
}

static int do_delivery(char **out, size_t *out_len, const char *doc, size_t len, void *ctx)
{
    doc_ctx *d = ctx;
    return omni_conversation_delivery(out, out_len, d->e, doc, len);
}

static int do_settings_set(char **out, size_t *out_len, const char *doc, size_t len, void *ctx)
{
    doc_ctx *d = ctx;
    /* The library stores the document as given: leave the final newline of
     * a file or of `echo` out. */
    while (len && (doc[len - 1] == '\n' || doc[len - 1] == '\r' || doc[len - 1] == ' ' ||
                   doc[len - 1] == '\t'))
        len--;
    int st = omni_conversation_settings_set(d->e, d->id, doc, len);
    if (st)
        return st;
    return omni_conversation_settings_get(out, out_len, d->e, d->id);
}

static int do_stream(char **out, size_t *out_len, const char *doc, size_t len, void *ctx)
{
    doc_ctx *d = ctx;
    return omni_dynamodb_stream_events(out, out_len, doc, len, omni_engine_now_ms(d->e));
}

static int do_unmarshall(char **out, size_t *out_len, const char *doc, size_t len, void *ctx)
{
    (void)ctx;
    return omni_dynamodb_unmarshall(out, out_len, doc, len);
}

/* apply: two documents, at most one from stdin. */
static int run_apply(omni_engine *e, const char *conv_path, const char *event_path)
{
    if (strcmp(conv_path, "-") == 0 && strcmp(event_path, "-") == 0)
        return cli_usage_error("conversation apply reads at most one of its documents from "
                               "stdin");
    char *conv, *ev;
    size_t conv_len, ev_len;
    int rc = cli_read_input(conv_path, CLI_MAX_INPUT, &conv, &conv_len);
    if (rc)
        return rc;
    rc = cli_read_input(event_path, CLI_MAX_INPUT, &ev, &ev_len);
    if (rc) {
        free(conv);
        return rc;
    }
    char *out = NULL;
    size_t out_len = 0;
    int st = omni_conversation_apply(&out, &out_len, conv, conv_len, ev, ev_len,
                                     omni_engine_now_ms(e));
    free(conv);
    free(ev);
    return print_result(st, out, out_len);
}

static int run_window(omni_engine *e, const char *id)
{
    int open = 0;
    int64_t expires = 0;
    int st = omni_conversation_window(e, id, &open, &expires);
    if (st)
        return cli_fail(st);
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddBoolToObject(o, "open", open))
        goto nomem;
    if (expires > 0) {
        char iso[OMNI_TIME_STRLEN];
        if (omni_time_format(iso, sizeof(iso), expires) != OMNI_OK) {
            cJSON_Delete(o);
            return cli_fail(omni_error_last_status());
        }
        if (!cJSON_AddStringToObject(o, "expiresAt", iso))
            goto nomem;
    } else if (!cJSON_AddNullToObject(o, "expiresAt")) {
        goto nomem;
    }
    return print_cjson(o);
nomem:
    cJSON_Delete(o);
    return cli_fail(OMNI_ENOMEM);
}

/* Options of history and list, gathered into the query document. */
typedef struct query_opts {
    const char *limit, *cursor, *direction, *content_type, *since, *until, *status;
} query_opts;

static int run_query(omni_engine *e, int list, const char *id, const query_opts *q)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return cli_fail(OMNI_ENOMEM);
    int ok = 1;
    if (q->limit) {
        long long limit = 0;
        int rc = int_option("--limit", q->limit, &limit);
        if (rc) {
            cJSON_Delete(o);
            return rc;
        }
        ok = ok && cJSON_AddNumberToObject(o, "limit", (double)limit);
    }
    const struct {
        const char *member, *value;
    } strs[] = {{"cursor", q->cursor},     {"direction", q->direction},
                {"contentType", q->content_type}, {"since", q->since},
                {"until", q->until},       {"status", q->status}};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (strs[i].value)
            ok = ok && cJSON_AddStringToObject(o, strs[i].member, strs[i].value);
    char *query = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!query)
        return cli_fail(OMNI_ENOMEM);
    char *out = NULL;
    size_t out_len = 0;
    int st = list ? omni_conversation_list(&out, &out_len, e, id, query, strlen(query))
                  : omni_conversation_history(&out, &out_len, e, id, query, strlen(query));
    free(query);
    return print_result(st, out, out_len);
}

enum {
    SUB_STEP,
    SUB_GET,
    SUB_TRANSITION,
    SUB_HISTORY,
    SUB_LIST,
    SUB_DELIVERY,
    SUB_DELETE,
    SUB_WINDOW,
    SUB_SETTINGS_SET,
    SUB_SETTINGS_GET,
    SUB_APPLY,
    SUB_DYNAMO_STREAM,
    SUB_DYNAMO_UNMARSHALL,
    SUB_COUNT
};

/* Option bits: which subcommand takes which option. */
enum {
    O_STORE = 1 << 0,
    O_OUTBOUND = 1 << 1,
    O_OPTIONS = 1 << 2,
    O_LIMIT = 1 << 3,
    O_CURSOR = 1 << 4,
    O_DIRECTION = 1 << 5,
    O_CONTENT_TYPE = 1 << 6,
    O_SINCE = 1 << 7,
    O_UNTIL = 1 << 8,
    O_STATUS = 1 << 9
};

static const struct {
    const char *name;
    int min, max;
    int opts;
} subs[SUB_COUNT] = {
    [SUB_STEP] = {"step", 0, 1, O_STORE | O_OUTBOUND | O_OPTIONS},
    [SUB_GET] = {"get", 1, 1, O_STORE},
    [SUB_TRANSITION] = {"transition", 1, 2, O_STORE},
    [SUB_HISTORY] = {"history", 1, 1,
                     O_STORE | O_LIMIT | O_CURSOR | O_DIRECTION | O_CONTENT_TYPE | O_SINCE |
                         O_UNTIL},
    [SUB_LIST] = {"list", 1, 1, O_STORE | O_LIMIT | O_CURSOR | O_STATUS},
    [SUB_DELIVERY] = {"delivery", 0, 1, O_STORE},
    [SUB_DELETE] = {"delete", 1, 1, O_STORE},
    [SUB_WINDOW] = {"window", 1, 1, O_STORE},
    [SUB_SETTINGS_SET] = {"settings-set", 1, 2, O_STORE},
    [SUB_SETTINGS_GET] = {"settings-get", 1, 1, O_STORE},
    [SUB_APPLY] = {"apply", 2, 2, 0},
    [SUB_DYNAMO_STREAM] = {"dynamo-stream", 0, 1, 0},
    [SUB_DYNAMO_UNMARSHALL] = {"dynamo-unmarshall", 0, 1, 0},
};

int cmd_conversation(cli *c, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("usage: omni conversation step|get|transition|history|list|"
                               "delivery|delete|window|settings-set|settings-get|apply|"
                               "dynamo-stream|dynamo-unmarshall [ARGS] (see --help)");
    const char *sub = argv[1];
    int k = 0;
    while (k < SUB_COUNT && strcmp(subs[k].name, sub) != 0)
        k++;
    if (k == SUB_COUNT)
        return cli_usage_error("unknown conversation command \"%s\" (step, get, transition, "
                               "history, list, delivery, delete, window, settings-set, "
                               "settings-get, apply, dynamo-stream, dynamo-unmarshall)",
                               sub);

    const char *store = NULL, *options = NULL;
    query_opts q = {0};
    int outbound = 0;
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    for (int i = 2; i < argc; i++) {
        const struct {
            const char *name;
            int bit;
            const char **value;
        } vopts[] = {{"--store", O_STORE, &store},
                     {"--options", O_OPTIONS, &options},
                     {"--limit", O_LIMIT, &q.limit},
                     {"--cursor", O_CURSOR, &q.cursor},
                     {"--direction", O_DIRECTION, &q.direction},
                     {"--content-type", O_CONTENT_TYPE, &q.content_type},
                     {"--since", O_SINCE, &q.since},
                     {"--until", O_UNTIL, &q.until},
                     {"--status", O_STATUS, &q.status}};
        int r = 0;
        size_t j = 0;
        for (; j < sizeof(vopts) / sizeof(vopts[0]); j++) {
            r = cli_opt(argc, argv, &i, vopts[j].name, vopts[j].value);
            if (r)
                break;
        }
        if (r < 0)
            return CLI_USAGE;
        if (r == 1) {
            if (!(subs[k].opts & vopts[j].bit))
                return cli_usage_error("%s is not an option of conversation %s",
                                       vopts[j].name, sub);
            continue;
        }
        if (strcmp(argv[i], "--outbound") == 0) {
            if (!(subs[k].opts & O_OUTBOUND))
                return cli_usage_error("--outbound is not an option of conversation %s", sub);
            outbound = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("unknown option \"%s\" for conversation %s", argv[i], sub);
        if (npos >= subs[k].max)
            return cli_usage_error("too many arguments for conversation %s", sub);
        pos[npos++] = argv[i];
    }
    if (npos < subs[k].min)
        return cli_usage_error("conversation %s takes %d to %d arguments", sub, subs[k].min,
                               subs[k].max);

    omni_engine *e = NULL;
    int rc = (subs[k].opts & O_STORE) ? cli_engine_store(c, store ? store : "memory:", &e)
                                      : cli_engine(c, &e);
    if (rc)
        return rc;

    char *out = NULL;
    size_t len = 0;
    doc_ctx d = {e, pos[0]};
    switch (k) {
    case SUB_STEP:
        return run_step(e, pos[0], outbound, options);
    case SUB_GET:
        rc = omni_conversation_get(&out, &len, e, pos[0]);
        return print_result(rc, out, len);
    case SUB_TRANSITION:
        return with_doc(pos[1], do_transition, &d);
    case SUB_HISTORY:
        return run_query(e, 0, pos[0], &q);
    case SUB_LIST:
        return run_query(e, 1, pos[0], &q);
    case SUB_DELIVERY:
        return with_doc(pos[0], do_delivery, &d);
    case SUB_DELETE:
        rc = omni_conversation_delete(&out, &len, e, pos[0]);
        return print_result(rc, out, len);
    case SUB_WINDOW:
        return run_window(e, pos[0]);
    case SUB_SETTINGS_SET:
        return with_doc(pos[1], do_settings_set, &d);
    case SUB_SETTINGS_GET:
        rc = omni_conversation_settings_get(&out, &len, e, pos[0]);
        return print_result(rc, out, len);
    case SUB_APPLY:
        return run_apply(e, pos[0], pos[1]);
    case SUB_DYNAMO_STREAM:
        return with_doc(pos[0], do_stream, &d);
    default:
        return with_doc(pos[0], do_unmarshall, &d);
    }
}
