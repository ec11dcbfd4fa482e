/* omni webhook parse | verify: carrier webhooks through omni_inbound. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

const char cmd_webhook_summary[] = "verify and parse a carrier webhook request";

const char cmd_webhook_usage[] =
    "usage: omni webhook parse --carrier NAME [--config FILE] [SECRET] [--public-url BASE]\n"
    "                          [--full] [REQUEST]\n"
    "       omni webhook verify --carrier NAME SECRET [--config FILE] [--public-url BASE]\n"
    "                          [REQUEST]\n\n"
    "REQUEST is a JSON file (or stdin) {\"method\", \"url\", \"headers\", \"body\" |\n"
    "\"bodyBase64\"}: the request as the carrier sent it; \"url\" is the target as\n"
    "received (\"/hooks/twilio?x=1\") or an absolute URL.\n\n"
    "NAME: twilio, whatsapp, bandwidth, messagebird, livechat, inteliquent.\n"
    "SECRET is one of:\n"
    "  --secret S          the carrier's main secret: twilio authToken, whatsapp\n"
    "                      appSecret, messagebird signingKey, livechat secretKey,\n"
    "                      inteliquent secret, bandwidth \"user:password\"\n"
    "  --secret-env NAME   the same, from an environment variable\n"
    "--config FILE         an inbound configuration (see omni_inbound_new: carriers'\n"
    "                      settings, publicBaseUrl, trustForwardedHeaders, ...); a\n"
    "                      SECRET overrides the carrier's main secret in it\n"
    "--public-url BASE     the public base URL the carrier signed (publicBaseUrl):\n"
    "                      the signed URL is BASE + the request's path and query\n\n"
    "parse verifies the request when the carrier has settings (from --config or a\n"
    "SECRET), else only parses it, and prints the JSON array of normalized events\n"
    "(--full: the whole result {carrier, events, response}).\n"
    "verify prints {\"valid\": true|false, \"code\": ...}; exit 0 when valid, 1 when\n"
    "not.\n";

typedef struct webhook_args {
    const char *carrier;
    const char *config;
    const char *secret;
    const char *secret_env;
    const char *public_url;
    const char *input;
    int full;
} webhook_args;

static int parse_args(int argc, char **argv, webhook_args *a, int parse)
{
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = cli_opt(argc, argv, &i, "--carrier", &a->carrier)) ||
            (r = cli_opt(argc, argv, &i, "--config", &a->config)) ||
            (r = cli_opt(argc, argv, &i, "--secret", &a->secret)) ||
            (r = cli_opt(argc, argv, &i, "--secret-env", &a->secret_env)) ||
            (r = cli_opt(argc, argv, &i, "--public-url", &a->public_url))) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (parse && strcmp(argv[i], "--full") == 0) {
            a->full = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("unknown option \"%s\" for webhook %s", argv[i], argv[1]);
        if (a->input)
            return cli_usage_error("webhook %s takes at most one REQUEST file", argv[1]);
        a->input = argv[i];
    }
    if (!a->carrier)
        return cli_usage_error("--carrier is required");
    if (a->secret && a->secret_env)
        return cli_usage_error("give at most one of --secret and --secret-env");
    if (!parse && !a->secret && !a->secret_env && !a->config)
        return cli_usage_error("webhook verify needs --secret, --secret-env or --config");
    return CLI_OK;
}

/* Sets settings[name] = value (replacing). */
static int set_string(cJSON *obj, const char *name, const char *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
    return cJSON_AddStringToObject(obj, name, value) ? CLI_OK : cli_fail(OMNI_ENOMEM);
}

/* Puts the main secret where the carrier's settings keep it. */
static int apply_secret(cJSON *settings, const char *carrier, const char *secret)
{
    static const struct {
        const char *carrier, *key;
    } keys[] = {{"twilio", "authToken"},     {"whatsapp", "appSecret"},
                {"messagebird", "signingKey"}, {"livechat", "secretKey"},
                {"inteliquent", "secret"}};
    if (strcmp(carrier, "bandwidth") == 0) {
        const char *colon = strchr(secret, ':');
        if (!colon)
            return cli_usage_error("the bandwidth secret is \"user:password\"");
        char *user = strndup(secret, (size_t)(colon - secret));
        if (!user)
            return cli_fail(OMNI_ENOMEM);
        int rc = set_string(settings, "username", user);
        free(user);
        return rc ? rc : set_string(settings, "password", colon + 1);
    }
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(carrier, keys[i].carrier) == 0)
            return set_string(settings, keys[i].key, secret);
    return cli_usage_error("--secret has no meaning for carrier \"%s\"; use --config", carrier);
}

/* 1 when the library knows the carrier (built in). */
static int known_carrier(const char *name)
{
    omni_carriers *reg;
    char *list = NULL;
    int known = 0;
    if (omni_carriers_new(&reg) != OMNI_OK)
        return 0;
    if (omni_carriers_list(&list, NULL, reg) == OMNI_OK) {
        cJSON *arr = cJSON_Parse(list);
        const cJSON *it;
        cJSON_ArrayForEach(it, arr)
        {
            if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0)
                known = 1;
        }
        cJSON_Delete(arr);
        omni_free(list);
    }
    omni_carriers_free(reg);
    return known;
}

/* The inbound configuration from --config, --secret and --public-url. */
static int build_config(const webhook_args *a, int parse, char **out)
{
    cJSON *root = NULL;
    if (a->config) {
        char *text;
        size_t len;
        int rc = cli_read_input(a->config, OMNI_LIMIT_CONFIG_BYTES, &text, &len);
        if (rc)
            return rc;
        root = cJSON_ParseWithLength(text, len);
        free(text);
        if (!cJSON_IsObject(root)) {
            cJSON_Delete(root);
            omni_error_set(OMNI_ECONFIG, "--config must hold a JSON object", 0);
            return cli_fail(OMNI_ECONFIG);
        }
    } else if (!(root = cJSON_CreateObject())) {
        return cli_fail(OMNI_ENOMEM);
    }
    int rc = CLI_OK;
    cJSON *carriers = cJSON_GetObjectItemCaseSensitive(root, "carriers");
    if (!carriers)
        carriers = cJSON_AddObjectToObject(root, "carriers");
    if (!cJSON_IsObject(carriers)) {
        cJSON_Delete(root);
        omni_error_set(OMNI_ECONFIG, "configuration: \"carriers\" must be an object", 0);
        return cli_fail(OMNI_ECONFIG);
    }
    cJSON *settings = cJSON_GetObjectItemCaseSensitive(carriers, a->carrier);
    const char *secret = a->secret;
    if (a->secret_env) {
        secret = getenv(a->secret_env);
        if (!secret) {
            cJSON_Delete(root);
            return cli_usage_error("environment variable %s is not set", a->secret_env);
        }
    }
    if (secret || (!settings && parse && known_carrier(a->carrier))) {
        if (!settings)
            settings = cJSON_AddObjectToObject(carriers, a->carrier);
        if (!cJSON_IsObject(settings))
            rc = cli_usage_error("the configuration's settings for %s are not an object",
                                 a->carrier);
        else if (secret)
            rc = apply_secret(settings, a->carrier, secret);
        else if (!cJSON_AddFalseToObject(settings, "verify")) /* parse only */
            rc = cli_fail(OMNI_ENOMEM);
    }
    if (!rc && a->public_url)
        rc = set_string(root, "publicBaseUrl", a->public_url);
    if (!rc && !(*out = cJSON_PrintUnformatted(root)))
        rc = cli_fail(OMNI_ENOMEM);
    cJSON_Delete(root);
    return rc;
}

static int load(const webhook_args *a, int parse, omni_inbound **in, omni_webhook **req)
{
    char *config = NULL;
    int rc = build_config(a, parse, &config);
    if (rc)
        return rc;
    int st = omni_inbound_new(in, config, strlen(config), NULL);
    size_t n = strlen(config);
    memset(config, 0, n); /* it may hold a secret */
    free(config);
    if (st)
        return cli_fail(st);
    char *text;
    size_t len;
    if ((rc = cli_read_input(a->input, 16u * 1024u * 1024u, &text, &len))) {
        omni_inbound_free(*in);
        return rc;
    }
    st = omni_webhook_from_json(req, text, len);
    free(text);
    if (st) {
        omni_inbound_free(*in);
        return cli_fail(st);
    }
    return CLI_OK;
}

static int webhook_verify(cli *c, const webhook_args *a)
{
    omni_engine *e;
    int rc = cli_engine(c, &e);
    if (rc)
        return rc;
    omni_inbound *in;
    omni_webhook *req;
    if ((rc = load(a, 0, &in, &req)))
        return rc;
    int st = omni_inbound_verify(in, e, a->carrier, req);
    omni_webhook_free(req);
    omni_inbound_free(in);
    if (st == OMNI_ENOMEM || st == OMNI_EINVAL)
        return cli_fail(st);
    cJSON *res = cJSON_CreateObject();
    if (!res || !cJSON_AddBoolToObject(res, "valid", st == OMNI_OK) ||
        !cJSON_AddStringToObject(res, "code", omni_status_code(st)) ||
        (st && !cJSON_AddStringToObject(res, "message", omni_error_last_message()))) {
        cJSON_Delete(res);
        return cli_fail(OMNI_ENOMEM);
    }
    char *text = cJSON_PrintUnformatted(res);
    cJSON_Delete(res);
    if (!text)
        return cli_fail(OMNI_ENOMEM);
    cli_print_json(text, strlen(text));
    free(text);
    return st == OMNI_OK ? CLI_OK : CLI_FAIL;
}

static int webhook_parse(cli *c, const webhook_args *a)
{
    omni_engine *e;
    int rc = cli_engine(c, &e);
    if (rc)
        return rc;
    omni_inbound *in;
    omni_webhook *req;
    if ((rc = load(a, 1, &in, &req)))
        return rc;
    char *out;
    size_t len;
    int st = omni_inbound_handle(&out, &len, in, e, a->carrier, req);
    omni_webhook_free(req);
    omni_inbound_free(in);
    if (st)
        return cli_fail(st);
    if (a->full) {
        cli_print_json(out, len);
        omni_free(out);
        return CLI_OK;
    }
    cJSON *root = cJSON_ParseWithLength(out, len);
    omni_free(out);
    char *events = root ? cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(root,
                                                                                 "events"))
                        : NULL;
    cJSON_Delete(root);
    if (!events)
        return cli_fail(OMNI_ENOMEM);
    cli_print_json(events, strlen(events));
    free(events);
    return CLI_OK;
}

int cmd_webhook(cli *c, int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "parse") != 0 && strcmp(argv[1], "verify") != 0))
        return cli_usage_error("usage: omni webhook parse|verify ... (see omni webhook --help)");
    int parse = strcmp(argv[1], "parse") == 0;
    webhook_args a = {0};
    int rc = parse_args(argc, argv, &a, parse);
    if (rc)
        return rc;
    return parse ? webhook_parse(c, &a) : webhook_verify(c, &a);
}
