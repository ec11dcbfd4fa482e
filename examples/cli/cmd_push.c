/* omni push build | token | parse | send — the push platform adapters (omni/push.h:
 * APNs, FCM HTTP v1, Web Push requests built and read without sending anything), and
 * pushNotification through the delivery engine (send). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

const char cmd_push_summary[] =
    "build or read push requests (APNs, FCM, Web Push); send notifications";
const char cmd_push_usage[] =
    "usage: omni push build --config CONFIG [--platform ios|android|web]\n"
    "                       [--access-token TOKEN [--token-expires-in S]] [MESSAGE]\n"
    "       omni push token --config CONFIG\n"
    "       omni push parse --config CONFIG --platform ios|android|web [RESPONSE]\n"
    "       omni push send --config DELIVERY_CONFIG [--store URI] [--deadline-ms N]\n"
    "                      [EVENT]\n"
    "\n"
    "CONFIG is the push configuration (omni/push.h): {\"apns\"?: {teamId, keyId,\n"
    "privateKey, topic, environment?}, \"fcm\"?: {serviceAccount, projectId?},\n"
    "\"webpush\"?: {vapidPrivateKey, subject, vapidExpiresSeconds?}}. Secrets in it\n"
    "may be {\"env\": \"NAME\"}; they never appear in any output.\n"
    "\n"
    "build: reads one device's message (MESSAGE file or stdin: {platform, token |\n"
    "subscription | topic | condition, payload, options?}) and prints the HTTP\n"
    "request the platform takes, as JSON {\"method\",\"url\",\"headers\",\"body\"|\n"
    "\"bodyBase64\"} (Web Push bodies are encrypted, hence binary: bodyBase64).\n"
    "--platform sets the message's \"platform\". Nothing is sent.\n"
    "FCM (android) needs an OAuth 2.0 access token: pass the one the token\n"
    "endpoint gave with --access-token (its lifetime with --token-expires-in,\n"
    "default 3600 s). Without it, build prints the token request (see token) and\n"
    "fails with exit 1.\n"
    "token: prints FCM's token request (a signed RS256 assertion for the service\n"
    "account's token endpoint), or {\"needed\": false}.\n"
    "parse: reads the platform's HTTP response in JSON form ({\"status\",\n"
    "\"headers\",\"body\"}) and prints the result {success, platform, messageId?,\n"
    "status, error? {code, providerCode?, message, retryable}, invalidToken?,\n"
    "retryAfterMs?}.\n"
    "send: reads a PushNotificationEvent (EVENT file or stdin: {correlationId,\n"
    "notificationType, recipients [{userId, deviceTokens?, preferences?}], payload,\n"
    "options?, context?}) and sends it to every device of every recipient (the\n"
    "registry's devices when deviceTokens is absent) through the delivery engine,\n"
    "after each recipient's preferences (disabled, type turned off, quiet hours\n"
    "unless priority is critical); prints {success, correlationId, deliveryResults\n"
    "[{recipientId, platform, status, messageId?, error?}], summary, events}.\n"
    "DELIVERY_CONFIG is {\"push\": CONFIG, \"delivery\"?, \"transport\"?} as for\n"
    "omni outbound send; --store keeps the messages (retries, dead letters, the\n"
    "registry; `omni outbound tick` with the same CONFIG sends stored retries).\n"
    "--deadline-ms N waits for retries due within N ms.\n"
    "\n"
    "--now pins the clock (the APNs provider token's iat, the VAPID exp, the\n"
    "FCM assertion's iat, Retry-After dates).\n";

typedef struct push_args {
    const char *config, *platform, *token, *expires, *store, *deadline;
    const char *pos[2];
    int npos;
} push_args;

static int parse_args(int argc, char **argv, push_args *a)
{
    for (int i = 2; i < argc; i++) {
        int r = cli_opt(argc, argv, &i, "--config", &a->config);
        if (r == 0)
            r = cli_opt(argc, argv, &i, "--platform", &a->platform);
        if (r == 0)
            r = cli_opt(argc, argv, &i, "--access-token", &a->token);
        if (r == 0)
            r = cli_opt(argc, argv, &i, "--token-expires-in", &a->expires);
        if (r == 0)
            r = cli_opt(argc, argv, &i, "--store", &a->store);
        if (r == 0)
            r = cli_opt(argc, argv, &i, "--deadline-ms", &a->deadline);
        if (r < 0)
            return CLI_USAGE;
        if (r > 0)
            continue;
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("unknown option \"%s\" for push %s", argv[i], argv[1]);
        if (a->npos == 2)
            return cli_usage_error("too many arguments for push %s", argv[1]);
        a->pos[a->npos++] = argv[i];
    }
    if (!a->config)
        return cli_usage_error("--config is required");
    return CLI_OK;
}

static int known_platform(const char *p)
{
    return strcmp(p, "ios") == 0 || strcmp(p, "android") == 0 || strcmp(p, "web") == 0;
}

/* Compiles CONFIG with omni_push_new. */
static int load_push(const char *path, omni_push **out)
{
    char *text;
    size_t len;
    int rc = cli_read_input(path, CLI_MAX_INPUT, &text, &len);
    if (rc)
        return rc;
    int st = omni_push_new(out, text, len);
    free(text);
    return st ? cli_fail(st) : CLI_OK;
}

/* Prints a request in the JSON form of omni/http.h and releases it. */
static int print_request(omni_http_request *req)
{
    char *out;
    size_t n;
    int st = omni_http_request_to_json(&out, &n, req);
    omni_http_request_free(req);
    if (st)
        return cli_fail(st);
    cli_print_json(out, n);
    omni_free(out);
    return CLI_OK;
}

/* The message with "platform" set to `platform` (when given): *out is malloc'd. */
static int set_platform(const char *text, size_t len, const char *platform, char **out,
                        size_t *out_len)
{
    cJSON *doc = cJSON_ParseWithLength(text, len);
    if (!doc) {
        omni_error_set(OMNI_EJSON, "MESSAGE is not a valid JSON document", 0);
        return cli_fail(OMNI_EJSON);
    }
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        omni_error_set(OMNI_EINVAL, "MESSAGE must be a JSON object", 0);
        return cli_fail(OMNI_EINVAL);
    }
    cJSON *p = cJSON_CreateString(platform);
    int ok = p != NULL;
    if (ok && cJSON_GetObjectItemCaseSensitive(doc, "platform"))
        ok = cJSON_ReplaceItemInObjectCaseSensitive(doc, "platform", p);
    else if (ok)
        ok = cJSON_AddItemToObject(doc, "platform", p);
    if (!ok)
        cJSON_Delete(p);
    *out = ok ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!*out)
        return cli_fail(omni_error_set(OMNI_ENOMEM, NULL, -1));
    *out_len = strlen(*out);
    return CLI_OK;
}

/* Feeds --access-token to the library as the token endpoint's answer would be,
 * so the cache is filled through the real path (omni_push_token_response). */
static int feed_token(omni_push *push, const push_args *a, int64_t now_ms)
{
    unsigned long long expires = 3600;
    if (a->expires) {
        char *end;
        errno = 0;
        expires = strtoull(a->expires, &end, 10);
        if (errno || *end || a->expires[0] < '0' || a->expires[0] > '9' || expires < 1 ||
            expires > 31622400)
            return cli_usage_error("--token-expires-in must be a number of seconds "
                                   "1..31622400");
    }
    cJSON *body = cJSON_CreateObject();
    int ok = body && cJSON_AddStringToObject(body, "access_token", a->token) &&
             cJSON_AddNumberToObject(body, "expires_in", (double)expires) &&
             cJSON_AddStringToObject(body, "token_type", "Bearer");
    char *text = ok ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    omni_http_response *resp = NULL;
    int st = text ? omni_http_response_new(&resp) : omni_error_set(OMNI_ENOMEM, NULL, -1);
    if (!st)
        st = omni_http_response_set_status(resp, 200);
    if (!st)
        st = omni_http_response_add_header(resp, "Content-Type", "application/json");
    if (!st)
        st = omni_http_response_set_body(resp, text, strlen(text));
    free(text);
    if (!st)
        st = omni_push_token_response(push, resp, now_ms);
    omni_http_response_free(resp);
    return st ? cli_fail(st) : CLI_OK;
}

static int push_build(omni_push *push, const push_args *a, int64_t now_ms)
{
    char *text;
    size_t len;
    int rc = cli_read_input(a->pos[0], CLI_MAX_INPUT, &text, &len);
    if (rc)
        return rc;
    if (a->platform) {
        char *msg = NULL;
        size_t n = 0;
        rc = set_platform(text, len, a->platform, &msg, &n);
        free(text);
        if (rc)
            return rc;
        text = msg;
        len = n;
    }
    if (a->token && (rc = feed_token(push, a, now_ms))) {
        free(text);
        return rc;
    }
    omni_http_request *req;
    int st = omni_push_build(&req, push, text, len, now_ms);
    free(text);
    if (st == OMNI_EEXPIRED && !a->token) {
        /* FCM without an access token: show the exchange to run. */
        omni_http_request *treq = NULL;
        int tst = omni_push_token_request(&treq, push, now_ms);
        if (tst)
            return cli_fail(tst);
        if (treq && (rc = print_request(treq)))
            return rc;
        omni_error_set(OMNI_EEXPIRED,
                       "FCM needs an OAuth 2.0 access token: send the token request printed "
                       "on stdout (omni push token) and pass the answer's access_token with "
                       "--access-token",
                       0);
        return cli_fail(OMNI_EEXPIRED);
    }
    if (st)
        return cli_fail(st);
    return print_request(req);
}

static int push_token(omni_push *push, int64_t now_ms)
{
    omni_http_request *req = NULL;
    int st = omni_push_token_request(&req, push, now_ms);
    if (st)
        return cli_fail(st);
    if (!req) {
        cli_print_line("{\"needed\":false}", 16);
        return CLI_OK;
    }
    return print_request(req);
}

static int push_parse(omni_push *push, const push_args *a, int64_t now_ms)
{
    char *text;
    size_t len;
    int rc = cli_read_input(a->pos[0], CLI_MAX_INPUT, &text, &len);
    if (rc)
        return rc;
    omni_http_response *resp;
    int st = omni_http_response_from_json(&resp, text, len);
    free(text);
    if (st)
        return cli_fail(st);
    char *out;
    size_t n;
    st = omni_push_parse(&out, &n, push, a->platform, resp, now_ms);
    omni_http_response_free(resp);
    if (st)
        return cli_fail(st);
    cli_print_json(out, n);
    omni_free(out);
    return CLI_OK;
}

/* pushNotification through the delivery engine. */
static int push_send(cli *c, const push_args *a)
{
    unsigned long long deadline = 0;
    if (a->deadline && cli_uint_opt("--deadline-ms", a->deadline, &deadline))
        return CLI_USAGE;
    char opts[64];
    snprintf(opts, sizeof opts, "{\"deadlineMs\":%llu}", deadline);
    char *text;
    size_t len;
    int rc = cli_read_input(a->pos[0], CLI_MAX_INPUT, &text, &len);
    if (rc)
        return rc;
    cli_delivery x;
    if ((rc = cli_delivery_open(c, a->config, a->store, &x))) {
        free(text);
        return rc;
    }
    char *out = NULL;
    size_t n = 0;
    int st = omni_push_notify(&out, &n, x.d, text, len, opts, strlen(opts));
    free(text);
    cli_delivery_close(&x);
    return cli_print_result(st, out, n);
}

/* Checks the options and arguments of subcommand k (0 build, 1 token, 2 parse,
 * 3 send). */
static int check_args(const push_args *a, int k, const char *name)
{
    if (k != 3 && (a->store || a->deadline))
        return cli_usage_error("push %s does not take %s", name,
                               a->store ? "--store" : "--deadline-ms");
    if (k == 3 && (a->platform || a->token || a->expires))
        return cli_usage_error("push send takes --config, --store and --deadline-ms");
    if (k == 1 && (a->platform || a->token || a->expires))
        return cli_usage_error("push token takes only --config");
    if (k == 2 && (a->token || a->expires))
        return cli_usage_error("push parse does not take %s",
                               a->token ? "--access-token" : "--token-expires-in");
    if (k == 2 && !a->platform)
        return cli_usage_error("push parse needs --platform (ios, android or web)");
    if (a->platform && !known_platform(a->platform))
        return cli_usage_error("--platform must be ios, android or web, not \"%s\"",
                               a->platform);
    if (a->expires && !a->token)
        return cli_usage_error("--token-expires-in needs --access-token");
    if (k == 1 && a->npos > 0)
        return cli_usage_error("push token takes no arguments");
    if (a->npos > 1)
        return cli_usage_error("push %s takes at most one %s", name,
                               k == 0 ? "MESSAGE file" : k == 3 ? "EVENT file" : "RESPONSE file");
    return CLI_OK;
}

int cmd_push(cli *c, int argc, char **argv)
{
    static const char *const cmds[] = {"build", "token", "parse", "send"};
    if (argc < 2)
        return cli_usage_error("usage: omni push build|token|parse|send ... (see omni push "
                               "--help)");
    int k = 0;
    while (k < 4 && strcmp(argv[1], cmds[k]) != 0)
        k++;
    if (k == 4)
        return cli_usage_error("unknown push subcommand \"%s\" (build, token, parse, send)",
                               argv[1]);
    push_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (!rc)
        rc = check_args(&a, k, cmds[k]);
    if (rc)
        return rc;
    if (k == 3)
        return push_send(c, &a);
    omni_engine *e;
    if ((rc = cli_engine(c, &e)))
        return rc;
    omni_push *push;
    if ((rc = load_push(a.config, &push)))
        return rc;
    int64_t now_ms = omni_engine_now_ms(e);
    if (k == 0)
        rc = push_build(push, &a, now_ms);
    else if (k == 1)
        rc = push_token(push, now_ms);
    else
        rc = push_parse(push, &a, now_ms);
    omni_push_free(push);
    return rc;
}
