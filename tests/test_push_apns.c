/* Push adapter "ios" (APNs, lib/push/apns.c): golden requests (tests/data/push/apns/<case>.json,
 * written from Apple's "Sending notification requests to APNs" and "Generating a remote
 * notification": URL, apns-* headers, the aps dictionary; the provider token is an ES256 JWT
 * verified with the test key's public half and its header and claims compared), the response ->
 * result table (responses.json: every reason of "Handling notification responses from APNs"),
 * the provider-token cache rules under a controlled clock (20 minutes, ExpiredProviderToken,
 * never twice within 60 s, concurrent builds), every configuration and message error, the
 * payload limits (4096 / 5120 for voip), and no secret in any error or result.
 * The test key tests/data/push/apns/AuthKey_TEST123456.p8 was made for these tests with
 * `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "golden.h"

#define DATA_DIR "push/apns"
#include "test_files.h"

#define TOKEN "5b6f0c4ee2d4e7c1a3f9b8d2c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f801234"
#define NOW_MS 1705312800000LL /* 2024-01-15T10:00:00Z */
#define KEY_ENV "OMNI_TEST_APNS_KEY"
/* A line of the test key's PEM body: must never show up in errors or results. */
#define KEY_FRAGMENT "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1RxfREgC6RCYE3A"

static char *key_pem;
static char *pub_pem;


static void setup(void)
{
    size_t len = 0;
    key_pem = golden_read(DATA_DIR, "AuthKey_TEST123456.p8", &len);
    cr_assert_not_null(key_pem, "cannot read the test key");
    cr_assert_not_null(strstr(key_pem, KEY_FRAGMENT));
    setenv(KEY_ENV, key_pem, 1);
    /* Its public half, for verifying the provider tokens. */
    pub_pem = strdup("-----BEGIN PUBLIC KEY-----\n"
                     "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEunp8/hcnc1KTkzdLooLhuI4EBm/e\n"
                     "zMT9ZaG0aSQg62aBMFknbY8zDBrPSk2Mk/UlJwwpGd92LCatrh+YJNfbgg==\n"
                     "-----END PUBLIC KEY-----\n");
}

static void teardown(void)
{
    free(key_pem);
    free(pub_pem);
}

TestSuite(push_apns, .init = setup, .fini = teardown);

static cJSON *load_json(const char *name)
{
    char why[512];
    cJSON *j = golden_load(DATA_DIR, name, why, sizeof why);
    cr_assert_not_null(j, "%s", why);
    return j;
}

static const char *const base_cfg =
    "{\"apns\":{\"teamId\":\"ABCDE12345\",\"keyId\":\"TEST123456\","
    "\"privateKey\":{\"env\":\"" KEY_ENV
    "\"},\"topic\":\"com.example.app\",\"baseUrl\":\"http://127.0.0.1:9\"}}";

static omni_push *compile(const char *cfg)
{
    omni_push *p = NULL;
    int rc = omni_push_new(&p, cfg, strlen(cfg));
    cr_assert_eq(rc, OMNI_OK, "config: %s", omni_error_last_message());
    return p;
}

/* The decoded JSON of a base64url JWT part. */
static cJSON *jwt_part(const char *s, size_t n)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    cr_assert_eq(omni_base64url_decode(&raw, &len, s, n), OMNI_OK);
    cJSON *j = cJSON_ParseWithLength((const char *)raw, len);
    cr_assert_not_null(j);
    omni_free(raw);
    return j;
}

/* Checks "bearer <JWT>": the ES256 signature with the test key's public half,
 * and the header and claims against want {"header", "claims"}. */
static void check_bearer(const char *value, const cJSON *want, const char *name)
{
    cr_assert_eq(strncmp(value, "bearer ", 7), 0, "%s: %s", name, value);
    const char *jwt = value + 7;
    char *claims = NULL;
    int rc = omni_jwt_verify(&claims, NULL, NULL, jwt, strlen(jwt), "ES256", pub_pem,
                             strlen(pub_pem), 0);
    cr_assert_eq(rc, OMNI_OK, "%s: %s", name, omni_error_last_message());
    const char *dot = strchr(jwt, '.');
    cr_assert_not_null(dot);
    cJSON *h = jwt_part(jwt, (size_t)(dot - jwt));
    cJSON *c = cJSON_Parse(claims);
    cr_assert(cJSON_Compare(h, cJSON_GetObjectItemCaseSensitive(want, "header"), 1),
              "%s: header %s", name, cJSON_PrintUnformatted(h));
    cr_assert(cJSON_Compare(c, cJSON_GetObjectItemCaseSensitive(want, "claims"), 1),
              "%s: claims %s", name, claims);
    /* Members in Apple's order. */
    cr_assert_str_eq(h->child->string, "alg");
    cr_assert_str_eq(c->child->string, "iss");
    cJSON_Delete(h);
    cJSON_Delete(c);
    omni_free(claims);
}

static int64_t parse_now(const cJSON *g)
{
    const char *s = cJSON_GetObjectItemCaseSensitive(g, "now")->valuestring;
    int64_t ms = 0;
    cr_assert_eq(omni_time_parse(&ms, s, strlen(s)), OMNI_OK);
    return ms;
}

static void check_golden(const char *name)
{
    cJSON *g = load_json(name);
    char *cfg = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(g, "config"));
    omni_push *p = compile(cfg);
    char *msg = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(g, "message"));
    omni_http_request *req = NULL;
    int rc = omni_push_build(&req, p, msg, strlen(msg), parse_now(g));
    cr_assert_eq(rc, OMNI_OK, "%s: %s", name, omni_error_last_message());
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(g, "request");
    cr_assert_str_eq(omni_http_request_method(req),
                     cJSON_GetObjectItemCaseSensitive(want, "method")->valuestring, "%s", name);
    cr_assert_str_eq(omni_http_request_url(req),
                     cJSON_GetObjectItemCaseSensitive(want, "url")->valuestring, "%s", name);
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(want, "headers");
    cr_assert_eq(omni_http_request_header_count(req), (size_t)cJSON_GetArraySize(hs),
                 "%s: header count", name);
    size_t i = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, hs)
    {
        cr_assert_str_eq(omni_http_request_header_name(req, i), h->string, "%s", name);
        const char *v = omni_http_request_header_value(req, i);
        if (strcmp(h->valuestring, "bearer {jwt}") == 0)
            check_bearer(v, cJSON_GetObjectItemCaseSensitive(g, "jwt"), name);
        else
            cr_assert_str_eq(v, h->valuestring, "%s: %s", name, h->string);
        i++;
    }
    size_t blen = 0;
    const char *body = omni_http_request_body(req, &blen);
    const char *wbody = cJSON_GetObjectItemCaseSensitive(want, "body")->valuestring;
    cr_assert_eq(blen, strlen(wbody), "%s: body length\n got: %s\nwant: %s", name, body, wbody);
    cr_assert_str_eq(body, wbody, "%s: body", name);
    omni_http_request_free(req);
    free(msg);
    free(cfg);
    omni_push_free(p);
    cJSON_Delete(g);
}

Test(push_apns, golden_requests)
{
    char names[64][128];
    int n = golden_list(DATA_DIR, NULL, names, 64);
    cr_assert_geq(n, 0, "cannot list %s", DATA_DIR);
    for (int i = 0; i < n; i++)
        check_golden(names[i]);
    cr_assert_geq(n, 10, "only %d golden cases", n);
}

/* ---- responses ---------------------------------------------------------------------- */

static char *parse_json_response(omni_push *p, const char *resp_json, int64_t now)
{
    omni_http_response *r = NULL;
    cr_assert_eq(omni_http_response_from_json(&r, resp_json, strlen(resp_json)), OMNI_OK, "%s",
                 omni_error_last_message());
    char *out = NULL;
    size_t n = 0;
    int rc = omni_push_parse(&out, &n, p, "ios", r, now);
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(strlen(out), n);
    omni_http_response_free(r);
    return out;
}

Test(push_apns, responses_table)
{
    cJSON *t = load_json("responses.json");
    omni_push *p = compile(base_cfg);
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, t)
    {
        const char *name = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
        char *resp = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(c, "response"));
        char *got = parse_json_response(p, resp, NOW_MS);
        cJSON *g = cJSON_Parse(got);
        cr_assert_not_null(g, "%s: %s", name, got);
        cr_assert(cJSON_Compare(g, cJSON_GetObjectItemCaseSensitive(c, "result"), 1),
                  "%s: got %s", name, got);
        cr_assert_null(strstr(got, KEY_FRAGMENT));
        cJSON_Delete(g);
        omni_free(got);
        free(resp);
        n++;
    }
    cr_assert_geq(n, 40);
    omni_push_free(p);
    cJSON_Delete(t);
}

Test(push_apns, parse_errors)
{
    omni_push *p = compile(base_cfg);
    omni_http_response *r = NULL;
    cr_assert_eq(omni_http_response_new(&r), OMNI_OK);
    cr_assert_eq(omni_http_response_set_status(r, 200), OMNI_OK);
    char *out = NULL;
    cr_assert_eq(omni_push_parse(&out, NULL, p, NULL, r, 0), OMNI_EINVAL);
    cr_assert_eq(omni_push_parse(&out, NULL, p, "ios", NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_push_parse(&out, NULL, p, "android", r, 0), OMNI_ECONFIG);
    cr_assert_eq(omni_push_parse(&out, NULL, p, "blackberry", r, 0), OMNI_EINVAL);
    cr_assert_null(out);
    cr_assert_eq(omni_push_parse(&out, NULL, p, "ios", r, 0), OMNI_OK);
    omni_free(out);
    omni_http_response_free(r);
    omni_push_free(p);
}

/* ---- the provider token cache ----------------------------------------------------------- */

static char *auth_at(omni_push *p, int64_t now)
{
    static const char msg[] = "{\"platform\":\"ios\",\"token\":\"" TOKEN
                              "\",\"payload\":{\"title\":\"t\"}}";
    omni_http_request *req = NULL;
    int rc = omni_push_build(&req, p, msg, strlen(msg), now);
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    char *a = strdup(omni_http_request_header(req, "authorization"));
    omni_http_request_free(req);
    return a;
}

static int64_t iat_of(const char *auth)
{
    const char *jwt = auth + 7;
    const char *d1 = strchr(jwt, '.');
    const char *d2 = strchr(d1 + 1, '.');
    cJSON *c = jwt_part(d1 + 1, (size_t)(d2 - d1 - 1));
    int64_t iat = (int64_t)cJSON_GetObjectItemCaseSensitive(c, "iat")->valuedouble;
    cJSON_Delete(c);
    return iat;
}

static void feed(omni_push *p, int status, const char *reason, int64_t now)
{
    char resp[160];
    snprintf(resp, sizeof(resp), "{\"status\":%d,\"body\":\"{\\\"reason\\\":\\\"%s\\\"}\"}",
             status, reason);
    omni_free(parse_json_response(p, resp, now));
}

Test(push_apns, token_reused_for_20_minutes)
{
    omni_push *p = compile(base_cfg);
    char *a0 = auth_at(p, NOW_MS + 999);
    cr_assert_eq(iat_of(a0), NOW_MS / 1000);
    char *a1 = auth_at(p, NOW_MS + 999 + 20 * 60 * 1000 - 1);
    cr_assert_str_eq(a0, a1);
    char *a2 = auth_at(p, NOW_MS + 999 + 20 * 60 * 1000);
    cr_assert_str_neq(a0, a2);
    cr_assert_eq(iat_of(a2), NOW_MS / 1000 + 1200);
    /* Other failures leave the token alone. */
    feed(p, 403, "InvalidProviderToken", NOW_MS + 1300000);
    feed(p, 429, "TooManyProviderTokenUpdates", NOW_MS + 1300000);
    char *a3 = auth_at(p, NOW_MS + 1400000);
    cr_assert_str_eq(a2, a3);
    free(a0);
    free(a1);
    free(a2);
    free(a3);
    omni_push_free(p);
}

Test(push_apns, expired_provider_token_discards)
{
    omni_push *p = compile(base_cfg);
    char *a0 = auth_at(p, NOW_MS);
    /* ExpiredProviderToken 30 s after signing: a new one not before 60 s. */
    feed(p, 403, "ExpiredProviderToken", NOW_MS + 30000);
    char *a1 = auth_at(p, NOW_MS + 59999);
    cr_assert_str_eq(a0, a1, "re-signed within a minute");
    char *a2 = auth_at(p, NOW_MS + 60000);
    cr_assert_str_neq(a0, a2);
    cr_assert_eq(iat_of(a2), NOW_MS / 1000 + 60);
    /* The new one is then kept for 20 minutes again. */
    char *a3 = auth_at(p, NOW_MS + 60000 + 5 * 60000);
    cr_assert_str_eq(a2, a3);
    /* Expired long after signing: re-signed at once. */
    feed(p, 403, "ExpiredProviderToken", NOW_MS + 10 * 60000);
    char *a4 = auth_at(p, NOW_MS + 10 * 60000);
    cr_assert_str_neq(a3, a4);
    cr_assert_eq(iat_of(a4), NOW_MS / 1000 + 600);
    /* A clock that went back before the signing time signs again. */
    char *a5 = auth_at(p, NOW_MS);
    cr_assert_str_neq(a4, a5);
    cr_assert_eq(iat_of(a5), NOW_MS / 1000);
    free(a0);
    free(a1);
    free(a2);
    free(a3);
    free(a4);
    free(a5);
    omni_push_free(p);
}

typedef struct thr_arg {
    omni_push *p;
    int ok;
    char first[512];
} thr_arg;

static void *thr(void *arg)
{
    thr_arg *t = arg;
    static const char msg[] = "{\"platform\":\"ios\",\"token\":\"" TOKEN
                              "\",\"payload\":{\"title\":\"t\"}}";
    t->ok = 1;
    for (int i = 0; i < 200; i++) {
        omni_http_request *req = NULL;
        if (omni_push_build(&req, t->p, msg, strlen(msg), NOW_MS + i)) {
            t->ok = 0;
            return NULL;
        }
        const char *a = omni_http_request_header(req, "authorization");
        if (i == 0)
            snprintf(t->first, sizeof(t->first), "%s", a);
        else if (strcmp(a, t->first) != 0)
            t->ok = 0;
        omni_http_request_free(req);
    }
    return NULL;
}

Test(push_apns, concurrent_builds_share_one_token)
{
    omni_push *p = compile(base_cfg);
    pthread_t th[8];
    thr_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i].p = p;
        cr_assert_eq(pthread_create(&th[i], NULL, thr, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        cr_assert(args[i].ok);
        cr_assert_str_eq(args[i].first, args[0].first);
    }
    omni_push_free(p);
}

/* ---- configuration errors -------------------------------------------------------------- */

static void expect_config_error(const char *cfg, const char *path)
{
    omni_push *p = (omni_push *)1;
    int rc = omni_push_new(&p, cfg, strlen(cfg));
    cr_assert_eq(rc, OMNI_ECONFIG, "%s: %d %s", cfg, rc, omni_error_last_message());
    cr_assert_null(p);
    const char *m = omni_error_last_message();
    cr_assert_null(strstr(m, KEY_FRAGMENT));
    cr_assert_null(strstr(m, "BEGIN"));
    char *json = NULL;
    size_t n = 0;
    cr_assert_eq(omni_error_last_json(&json, &n), OMNI_OK);
    cJSON *j = cJSON_Parse(json);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "details");
    const cJSON *pth = d ? cJSON_GetObjectItemCaseSensitive(d, "path") : NULL;
    cr_assert(cJSON_IsString(pth), "no details.path in %s", json);
    cr_assert_str_eq(pth->valuestring, path, "%s", m);
    cr_assert(strncmp(m, "push: apns", 10) == 0, "%s", m);
    cJSON_Delete(j);
    omni_free(json);
}

#define K "\"privateKey\":{\"env\":\"" KEY_ENV "\"}"
#define T "\"teamId\":\"ABCDE12345\""
#define I "\"keyId\":\"TEST123456\""
#define P "\"topic\":\"com.example.app\""

Test(push_apns, config_errors)
{
    expect_config_error("{\"apns\":{" T "," I "," K "," P ",\"extra\":1}}", "apns.extra");
    expect_config_error("{\"apns\":{" I "," K "," P "}}", "apns.teamId");
    expect_config_error("{\"apns\":{\"teamId\":\"abcde12345\"," I "," K "," P "}}",
                        "apns.teamId");
    expect_config_error("{\"apns\":{\"teamId\":\"ABCDE1234\"," I "," K "," P "}}", "apns.teamId");
    expect_config_error("{\"apns\":{\"teamId\":7," I "," K "," P "}}", "apns.teamId");
    expect_config_error("{\"apns\":{" T "," K "," P "}}", "apns.keyId");
    expect_config_error("{\"apns\":{" T ",\"keyId\":\"TEST-23456\"," K "," P "}}", "apns.keyId");
    expect_config_error("{\"apns\":{" T "," I "," K "}}", "apns.topic");
    expect_config_error("{\"apns\":{" T "," I "," K ",\"topic\":\"com example\"}}", "apns.topic");
    expect_config_error("{\"apns\":{" T "," I "," K "," P ",\"environment\":\"prod\"}}",
                        "apns.environment");
    expect_config_error("{\"apns\":{" T "," I "," K "," P ",\"baseUrl\":\"ftp://x\"}}",
                        "apns.baseUrl");
    expect_config_error("{\"apns\":{" T "," I "," P "}}", "apns.privateKey");
    expect_config_error("{\"apns\":{" T "," I "," P ",\"privateKey\":\"not a key\"}}",
                        "apns.privateKey");
    expect_config_error("{\"apns\":{" T "," I "," P ",\"privateKey\":{\"env\":\"OMNI_NOPE_X\"}}}",
                        "apns.privateKey");
    expect_config_error("{\"apns\":{" T "," I "," P ",\"privateKey\":[1]}}", "apns.privateKey");
    /* A P-384 key is not an ES256 key; the message must not quote it. */
    static const char p384[] =
        "-----BEGIN PRIVATE KEY-----\\n"
        "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDoJuvIlAN73C+s516v\\n"
        "aWuDRiXGJT52TsvKulHPoYIEN230gT3wvMC9OvagDVMho8mhZANiAASC9ru6OM3F\\n"
        "rO7a9ur7nRLwybZpmLYu3HvCgvSktobJ7VGoC8cWo52wSHFiSrE5D3w62GocY+oA\\n"
        "xfg0rv5xeF42UqVdCYyCltnulbNjO3wK7Jeb6vAus81a9UuQac+62Bo=\\n"
        "-----END PRIVATE KEY-----\\n";
    expect_config_error("{\"apns\":{" T "," I "," P ",\"privateKey\":\"" "" "\"}}",
                        "apns.privateKey");
    char cfg[2048];
    snprintf(cfg, sizeof(cfg), "{\"apns\":{" T "," I "," P ",\"privateKey\":\"%s\"}}", p384);
    expect_config_error(cfg, "apns.privateKey");
    cr_assert_null(strstr(omni_error_last_message(), "MIG2AgEA"));
    expect_config_error("{\"apns\":[]}", "apns");
    /* The key inline (as a string) works too. */
    char *esc = malloc(strlen(key_pem) * 2 + 1), *o = esc;
    for (const char *c = key_pem; *c; c++) {
        if (*c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    char *big = malloc(strlen(esc) + 256);
    sprintf(big,
            "{\"apns\":{" T "," I "," P ",\"environment\":\"production\",\"privateKey\":\"%s\"}}",
            esc);
    omni_push *p = compile(big);
    omni_push_free(p);
    free(big);
    free(esc);
}

/* ---- message errors ---------------------------------------------------------------------- */

static void expect_build_error(omni_push *p, const char *msg, int want, const char *needle)
{
    omni_http_request *req = (omni_http_request *)1;
    int rc = omni_push_build(&req, p, msg, strlen(msg), NOW_MS);
    cr_assert_eq(rc, want, "%s: %d %s", msg, rc, omni_error_last_message());
    cr_assert_null(req);
    const char *m = omni_error_last_message();
    cr_assert_not_null(strstr(m, needle), "%s: message %s lacks %s", msg, m, needle);
    cr_assert_null(strstr(m, KEY_FRAGMENT));
}

#define MSG(rest) "{\"platform\":\"ios\",\"token\":\"" TOKEN "\"," rest "}"
#define PL "\"payload\":{\"title\":\"t\"}"

Test(push_apns, message_errors)
{
    omni_push *p = compile(base_cfg);
    expect_build_error(p, "{\"platform\":\"ios\",\"payload\":{}}", OMNI_EINVAL, "token");
    expect_build_error(p, "{\"platform\":\"ios\",\"token\":\"abc\",\"payload\":{}}", OMNI_EINVAL,
                       "token");
    expect_build_error(p, "{\"platform\":\"ios\",\"token\":\"" TOKEN "0\",\"payload\":{}}",
                       OMNI_EINVAL, "token");
    expect_build_error(p, "{\"platform\":\"ios\",\"token\":\"" TOKEN "zz\",\"payload\":{}}",
                       OMNI_EINVAL, "token");
    expect_build_error(p, "{\"platform\":\"ios\",\"token\":7,\"payload\":{}}", OMNI_EINVAL,
                       "token");
    expect_build_error(p, MSG("\"topic\":\"news\"," PL), OMNI_EINVAL, "topic");
    expect_build_error(p, MSG("\"payload\":[]"), OMNI_EINVAL, "payload");
    expect_build_error(p, MSG("\"payload\":{\"title\":1}"), OMNI_EINVAL, "payload.title");
    expect_build_error(p, MSG("\"payload\":{\"subtitle\":true}"), OMNI_EINVAL,
                       "payload.subtitle");
    expect_build_error(p, MSG("\"payload\":{\"body\":{}}"), OMNI_EINVAL, "payload.body");
    expect_build_error(p, MSG("\"payload\":{\"sound\":1}"), OMNI_EINVAL, "payload.sound");
    expect_build_error(p, MSG("\"payload\":{\"category\":1}"), OMNI_EINVAL, "payload.category");
    expect_build_error(p, MSG("\"payload\":{\"clickAction\":1}"), OMNI_EINVAL,
                       "payload.clickAction");
    expect_build_error(p, MSG("\"payload\":{\"threadId\":1}"), OMNI_EINVAL, "payload.threadId");
    expect_build_error(p, MSG("\"payload\":{\"image\":1}"), OMNI_EINVAL, "payload.image");
    expect_build_error(p, MSG("\"payload\":{\"image\":\"\"}"), OMNI_EINVAL, "payload.image");
    expect_build_error(p, MSG("\"payload\":{\"badge\":-1}"), OMNI_EINVAL, "payload.badge");
    expect_build_error(p, MSG("\"payload\":{\"badge\":1.5}"), OMNI_EINVAL, "payload.badge");
    expect_build_error(p, MSG("\"payload\":{\"badge\":\"3\"}"), OMNI_EINVAL, "payload.badge");
    expect_build_error(p, MSG("\"payload\":{\"badge\":2147483648}"), OMNI_EINVAL,
                       "payload.badge");
    expect_build_error(p, MSG("\"payload\":{\"data\":[]}"), OMNI_EINVAL, "payload.data");
    expect_build_error(p, MSG("\"payload\":{\"data\":{\"aps\":{}}}"), OMNI_EINVAL,
                       "payload.data");
    expect_build_error(p, MSG("\"payload\":{\"image\":\"https://x/i.png\",\"data\":"
                              "{\"image-url\":\"y\"}}"),
                       OMNI_EINVAL, "payload.data");
    expect_build_error(p, MSG("\"payload\":{\"actions\":{}}"), OMNI_EINVAL, "payload.actions");
    expect_build_error(p, MSG("\"payload\":{\"actions\":[{\"id\":\"a\"}]}"), OMNI_EINVAL,
                       "payload.actions");
    expect_build_error(p, MSG(PL ",\"options\":[]"), OMNI_EINVAL, "options");
    expect_build_error(p, MSG(PL ",\"options\":{\"priority\":\"urgent\"}"), OMNI_EINVAL,
                       "options.priority");
    expect_build_error(p, MSG(PL ",\"options\":{\"priority\":5}"), OMNI_EINVAL,
                       "options.priority");
    expect_build_error(p, MSG(PL ",\"options\":{\"ttl\":-1}"), OMNI_EINVAL, "options.ttl");
    expect_build_error(p, MSG(PL ",\"options\":{\"ttl\":2592001}"), OMNI_EINVAL, "options.ttl");
    expect_build_error(p, MSG(PL ",\"options\":{\"ttl\":\"60\"}"), OMNI_EINVAL, "options.ttl");
    expect_build_error(p, MSG(PL ",\"options\":{\"collapseKey\":\"\"}"), OMNI_EINVAL,
                       "options.collapseKey");
    expect_build_error(p,
                       MSG(PL ",\"options\":{\"collapseKey\":\"0123456789012345678901234567890"
                              "1234567890123456789012345678901234\"}"),
                       OMNI_EINVAL, "options.collapseKey");
    expect_build_error(p, MSG(PL ",\"options\":{\"pushType\":\"banner\"}"), OMNI_EINVAL,
                       "options.pushType");
    expect_build_error(p, MSG(PL ",\"options\":{\"topic\":\"a b\"}"), OMNI_EINVAL,
                       "options.topic");
    expect_build_error(p, MSG(PL ",\"options\":{\"contentAvailable\":1}"), OMNI_EINVAL,
                       "options.contentAvailable");
    expect_build_error(p, MSG(PL ",\"options\":{\"mutableContent\":\"yes\"}"), OMNI_EINVAL,
                       "options.mutableContent");
    expect_build_error(p, MSG(PL ",\"apns\":1"), OMNI_EINVAL, "apns");
    expect_build_error(p, MSG(PL ",\"apns\":{\"headers\":[]}"), OMNI_EINVAL, "apns.headers");
    expect_build_error(p, MSG(PL ",\"apns\":{\"headers\":{\"authorization\":\"x\"}}"),
                       OMNI_EINVAL, "apns.headers");
    expect_build_error(p, MSG(PL ",\"apns\":{\"headers\":{\"apns-id\":\"a b\"}}"), OMNI_EINVAL,
                       "apns.headers");
    expect_build_error(p, MSG(PL ",\"apns\":{\"headers\":{\"apns-id\":true}}"), OMNI_EINVAL,
                       "apns.headers");
    expect_build_error(p, MSG(PL ",\"apns\":{\"headers\":{\"apns-priority\":7}}"), OMNI_EINVAL,
                       "apns-priority");
    expect_build_error(p, MSG(PL ",\"apns\":{\"payload\":[]}"), OMNI_EINVAL, "apns.payload");
    expect_build_error(p, MSG(PL ",\"apns\":{\"payload\":{\"aps\":null}}"), OMNI_EINVAL,
                       "apns.payload.aps");
    expect_build_error(p, MSG(PL ",\"apns\":{\"payload\":{\"aps\":\"x\"}}"), OMNI_EINVAL,
                       "apns.payload.aps");
    expect_build_error(p, "{\"platform\":\"ios\"}", OMNI_EINVAL, "payload");
    expect_build_error(p, "{\"platform\":\"android\"," PL "}", OMNI_ECONFIG, "android");
    expect_build_error(p, "[1]", OMNI_EINVAL, "object");
    expect_build_error(p, "{\"platform\":", OMNI_EJSON, "");

    /* Negative time. */
    omni_http_request *req = (omni_http_request *)1;
    const char *m = MSG(PL);
    cr_assert_eq(omni_push_build(&req, p, m, strlen(m), -1), OMNI_EINVAL);
    cr_assert_null(req);
    cr_assert_eq(omni_push_build(&req, NULL, m, strlen(m), 0), OMNI_EINVAL);
    cr_assert_eq(omni_push_build(NULL, p, m, strlen(m), 0), OMNI_EINVAL);
    omni_push_free(p);

    /* ios not configured. */
    omni_push *empty = compile("{}");
    expect_build_error(empty, MSG(PL), OMNI_ECONFIG, "ios");
    omni_push_free(empty);
}

/* A message whose body is an alert of `n` body bytes: the APNs body is
 * {"aps":{"alert":{"body":"..."}}} (29 bytes + n) plus options. */
static int build_sized(omni_push *p, size_t n, const char *options)
{
    char *text = malloc(n + 1);
    memset(text, 'x', n);
    text[n] = '\0';
    size_t cap = n + 512;
    char *msg = malloc(cap);
    snprintf(msg, cap, MSG("\"payload\":{\"body\":\"%s\"}%s"), text, options);
    omni_http_request *req = NULL;
    int rc = omni_push_build(&req, p, msg, strlen(msg), NOW_MS);
    if (!rc) {
        size_t len = 0;
        omni_http_request_body(req, &len);
        cr_assert_leq(len, 5120);
    }
    omni_http_request_free(req);
    free(msg);
    free(text);
    return rc;
}

Test(push_apns, payload_limits)
{
    omni_push *p = compile(base_cfg);
    cr_assert_eq(build_sized(p, 4096 - 29, ""), OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(build_sized(p, 4097 - 29, ""), OMNI_ETOOLARGE);
    cr_assert_not_null(strstr(omni_error_last_message(), "4097"));
    /* VoIP: 5120. */
    const char *voip = ",\"options\":{\"pushType\":\"voip\"}";
    cr_assert_eq(build_sized(p, 5120 - 29, voip), OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(build_sized(p, 5121 - 29, voip), OMNI_ETOOLARGE);
    /* voip set through the header override counts too. */
    const char *hvoip = ",\"apns\":{\"headers\":{\"apns-push-type\":\"voip\"}}";
    cr_assert_eq(build_sized(p, 5000, hvoip), OMNI_OK);
    /* An override that grows the payload over the limit. */
    cr_assert_eq(build_sized(p, 4000, ",\"apns\":{\"payload\":{\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxx"
                                      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}"),
                 OMNI_ETOOLARGE);
    omni_push_free(p);
}

Test(push_apns, topic_suffix_not_doubled)
{
    omni_push *p = compile(base_cfg);
    const char *m = MSG(PL ",\"options\":{\"pushType\":\"voip\",\"topic\":\"com.x.app.voip\"}");
    omni_http_request *req = NULL;
    cr_assert_eq(omni_push_build(&req, p, m, strlen(m), NOW_MS), OMNI_OK);
    cr_assert_str_eq(omni_http_request_header(req, "apns-topic"), "com.x.app.voip");
    omni_http_request_free(req);
    /* An explicit pushType background is priority 5 even when high. */
    m = MSG(PL ",\"options\":{\"pushType\":\"background\",\"priority\":\"high\"}");
    cr_assert_eq(omni_push_build(&req, p, m, strlen(m), NOW_MS), OMNI_OK);
    cr_assert_str_eq(omni_http_request_header(req, "apns-priority"), "5");
    cr_assert_str_eq(omni_http_request_header(req, "apns-push-type"), "background");
    omni_http_request_free(req);
    /* contentAvailable with an alert stays an alert (content-available set). */
    m = MSG(PL ",\"options\":{\"contentAvailable\":true}");
    cr_assert_eq(omni_push_build(&req, p, m, strlen(m), NOW_MS), OMNI_OK);
    cr_assert_str_eq(omni_http_request_header(req, "apns-push-type"), "alert");
    cr_assert_not_null(strstr(omni_http_request_body(req, NULL), "\"content-available\":1"));
    omni_http_request_free(req);
    omni_push_free(p);
}
