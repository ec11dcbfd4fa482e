/* omni jwt sign | verify */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

typedef struct {
    const char *alg;
    const char *secret;
    const char *secret_env;
    const char *secret_file;
    const char *key_file;
    const char *header;
    const char *expires_in;
    const char *leeway;
    int iat;
    const char *input;
} jwt_args;

static int parse_args(int argc, char **argv, jwt_args *a, int sign)
{
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = cli_opt(argc, argv, &i, "--alg", &a->alg)) ||
            (r = cli_opt(argc, argv, &i, "--secret", &a->secret)) ||
            (r = cli_opt(argc, argv, &i, "--secret-env", &a->secret_env)) ||
            (r = cli_opt(argc, argv, &i, "--secret-file", &a->secret_file)) ||
            (r = cli_opt(argc, argv, &i, "--key", &a->key_file)) ||
            (sign && (r = cli_opt(argc, argv, &i, "--header", &a->header))) ||
            (sign && (r = cli_opt(argc, argv, &i, "--expires-in", &a->expires_in))) ||
            (!sign && (r = cli_opt(argc, argv, &i, "--leeway", &a->leeway)))) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (sign && strcmp(argv[i], "--iat") == 0) {
            a->iat = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("unknown option \"%s\" for jwt %s", argv[i], argv[1]);
        if (a->input)
            return cli_usage_error("jwt %s takes at most one input file", argv[1]);
        a->input = argv[i];
    }
    if (!a->alg)
        return cli_usage_error("--alg is required (HS256, RS256 or ES256)");
    int keys = !!a->secret + !!a->secret_env + !!a->secret_file + !!a->key_file;
    if (keys != 1)
        return cli_usage_error(
            "give exactly one of --secret, --secret-env, --secret-file or --key");
    return CLI_OK;
}

/* Loads the key bytes; never echoes them. */
static int load_key(const jwt_args *a, char **key, size_t *key_len)
{
    if (a->secret) {
        *key = strdup(a->secret);
        *key_len = strlen(a->secret);
        return *key ? CLI_OK : cli_fail(OMNI_ENOMEM);
    }
    if (a->secret_env) {
        const char *v = getenv(a->secret_env);
        if (!v)
            return cli_usage_error("environment variable %s is not set", a->secret_env);
        *key = strdup(v);
        *key_len = strlen(v);
        return *key ? CLI_OK : cli_fail(OMNI_ENOMEM);
    }
    return cli_read_input(a->secret_file ? a->secret_file : a->key_file, 1024 * 1024, key,
                          key_len);
}

static void wipe_free(char *p, size_t n)
{
    if (!p)
        return;
    volatile char *v = p;
    while (n--)
        *v++ = 0;
    free(p);
}

static int jwt_sign(cli *c, const jwt_args *a)
{
    char *claims_text;
    size_t claims_len;
    int rc = cli_read_input(a->input, OMNI_JWT_MAX_BYTES, &claims_text, &claims_len);
    if (rc)
        return rc;
    if (a->iat || a->expires_in) {
        /* Add the time claims from the clock (--now pins it). */
        cJSON *claims = cJSON_ParseWithLength(claims_text, claims_len);
        free(claims_text);
        if (!cJSON_IsObject(claims)) {
            cJSON_Delete(claims);
            omni_error_set(OMNI_EJSON, "claims must be a JSON object", 0);
            return cli_fail(OMNI_EJSON);
        }
        omni_engine *e;
        rc = cli_engine(c, &e);
        if (rc) {
            cJSON_Delete(claims);
            return rc;
        }
        double now = (double)(omni_engine_now_ms(e) / 1000);
        if (a->iat) {
            cJSON_DeleteItemFromObjectCaseSensitive(claims, "iat");
            cJSON_AddNumberToObject(claims, "iat", now);
        }
        if (a->expires_in) {
            char *end;
            errno = 0;
            long secs = strtol(a->expires_in, &end, 10);
            if (errno || *end || !*a->expires_in || secs < 0 || secs > 100L * 365 * 86400) {
                cJSON_Delete(claims);
                return cli_usage_error("--expires-in must be a number of seconds");
            }
            cJSON_DeleteItemFromObjectCaseSensitive(claims, "exp");
            cJSON_AddNumberToObject(claims, "exp", now + (double)secs);
        }
        claims_text = cJSON_PrintUnformatted(claims);
        cJSON_Delete(claims);
        if (!claims_text)
            return cli_fail(OMNI_ENOMEM);
        claims_len = strlen(claims_text);
    }
    char *key;
    size_t key_len;
    rc = load_key(a, &key, &key_len);
    if (rc) {
        free(claims_text);
        return rc;
    }
    char *token;
    size_t token_len;
    rc = omni_jwt_sign(&token, &token_len, a->alg, key, key_len, a->header,
                       a->header ? strlen(a->header) : 0, claims_text, claims_len);
    wipe_free(key, key_len);
    free(claims_text);
    if (rc)
        return cli_fail(rc);
    cli_print_line(token, token_len);
    omni_free(token);
    return CLI_OK;
}

static int jwt_verify(cli *c, const jwt_args *a)
{
    long leeway = 0;
    if (a->leeway) {
        char *end;
        errno = 0;
        leeway = strtol(a->leeway, &end, 10);
        if (errno || *end || !*a->leeway || leeway < 0 || leeway > 86400)
            return cli_usage_error("--leeway must be 0..86400 seconds");
    }
    char *token;
    size_t token_len;
    int rc = cli_read_input(a->input, OMNI_JWT_MAX_BYTES + 2, &token, &token_len);
    if (rc)
        return rc;
    size_t start = 0;
    while (start < token_len && isspace((unsigned char)token[start]))
        start++;
    while (token_len > start && isspace((unsigned char)token[token_len - 1]))
        token_len--;
    omni_engine *e;
    rc = cli_engine(c, &e);
    if (rc) {
        free(token);
        return rc;
    }
    char *key;
    size_t key_len;
    rc = load_key(a, &key, &key_len);
    if (rc) {
        free(token);
        return rc;
    }
    char *claims;
    size_t claims_len;
    rc = omni_jwt_verify(&claims, &claims_len, e, token + start, token_len - start, a->alg, key,
                         key_len, leeway);
    wipe_free(key, key_len);
    free(token);
    if (rc)
        return cli_fail(rc);
    cli_print_json(claims, claims_len);
    omni_free(claims);
    return CLI_OK;
}

int cmd_jwt(cli *c, int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "sign") != 0 && strcmp(argv[1], "verify") != 0))
        return cli_usage_error("usage: omni jwt sign|verify ... (see omni jwt --help)");
    int sign = strcmp(argv[1], "sign") == 0;
    jwt_args a = {0};
    int rc = parse_args(argc, argv, &a, sign);
    if (rc)
        return rc;
    return sign ? jwt_sign(c, &a) : jwt_verify(c, &a);
}
