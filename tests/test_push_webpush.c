/* Tests of the Web Push adapter (lib/push/webpush_send.c): golden requests
 * (tests/data/push/web/<case>.json: url and headers exactly, the body decrypted
 * with the subscription's key, the VAPID JWT verified), the responses table,
 * every configuration and message error, the VAPID header cache, threads,
 * and an end-to-end send through the curl transport to a push service on
 * 127.0.0.1. Keys are RFC 8291 Appendix A's. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include <omni/omni.h>

#include "http_server.h"
#include "lib/core/crypto_internal.h"
#include "lib/core/json.h"
#include "lib/push/push_internal.h"
#include "golden.h"

#define DATA_DIR "push/web"
#include "test_files.h"

/* RFC 8291 Appendix A keys. */
#define AS_PRIVATE "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
#define AS_PUBLIC                                                                          \
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
#define UA_PUBLIC                                                                          \
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
#define UA_PRIVATE "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
#define AUTH "BTBZMqHH6r4Tts7J_aSIgg"

#define CONFIG                                                                             \
    "{\"webpush\":{\"vapidPrivateKey\":\"" AS_PRIVATE "\",\"subject\":\"mailto:ops@example.com\"}}"
#define NOW_MS 1714564800000LL /* 2024-05-01T12:00:00Z */

/* ---- helpers ---------------------------------------------------------------------- */

static size_t b64(uint8_t *out, size_t cap, const char *text, size_t len)
{
    uint8_t *d = NULL;
    size_t n = 0;
    cr_assert_eq(omni_base64url_decode(&d, &n, text, len), OMNI_OK, "%.*s", (int)len, text);
    cr_assert_leq(n, cap);
    memcpy(out, d, n);
    omni_free(d);
    return n;
}


static cJSON *load_json(const char *name)
{
    char why[512];
    cJSON *j = golden_load(DATA_DIR, name, why, sizeof why);
    cr_assert_not_null(j, "%s", why);
    return j;
}

static int64_t parse_now(const cJSON *j, const char *def)
{
    const cJSON *now = cJSON_GetObjectItemCaseSensitive(j, "now");
    const char *s = cJSON_IsString(now) ? now->valuestring : def;
    int64_t ms = 0;
    cr_assert_eq(omni_time_parse(&ms, s, strlen(s)), OMNI_OK, "bad now %s", s);
    return ms;
}

static omni_push *compile(const char *cfg)
{
    omni_push *p = NULL;
    cr_assert_eq(omni_push_new(&p, cfg, strlen(cfg)), OMNI_OK, "%s", omni_error_last_message());
    return p;
}

/* Verifies "vapid t=<jwt>, k=<key>" (k must be AS_PUBLIC) and returns the
 * JWT's claims (omni_free). */
static char *vapid_claims(const char *header)
{
    cr_assert_not_null(header);
    cr_assert_eq(strncmp(header, "vapid t=", 8), 0, "%s", header);
    const char *sep = strstr(header, ", k=");
    cr_assert_not_null(sep);
    cr_assert_str_eq(sep + 4, AS_PUBLIC);
    uint8_t k[65];
    cr_assert_eq(b64(k, sizeof(k), sep + 4, strlen(sep + 4)), 65);
    EVP_PKEY *pk = NULL;
    cr_assert_eq(omni__p256_pkey_from_public(&pk, k), OMNI_OK);
    char *claims = NULL;
    /* NULL engine: the system clock; exp is checked, so verify the
     * signature with a large leeway (the claims are compared by the caller). */
    int rc = omni__jwt_verify_pkey(&claims, NULL, NULL, header + 8, (size_t)(sep - header - 8),
                                   OMNI__JWT_ES256, pk, 100LL * 365 * 86400);
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    EVP_PKEY_free(pk);
    return claims;
}

/* Decrypts a request body with the subscription's private key. */
static cJSON *decrypt_body(const uint8_t *body, size_t len)
{
    uint8_t priv[32], auth[16];
    cr_assert_eq(b64(priv, 32, UA_PRIVATE, strlen(UA_PRIVATE)), 32);
    cr_assert_eq(b64(auth, 16, AUTH, strlen(AUTH)), 16);
    uint8_t *plain = NULL;
    size_t plen = 0;
    cr_assert_eq(omni_webpush_decrypt(&plain, &plen, body, len, priv, auth), OMNI_OK, "%s",
                 omni_error_last_message());
    /* RFC 8291 section 4: a single record of at most 4096 bytes. */
    cr_assert_leq(len, 4096);
    cJSON *j = cJSON_ParseWithLength((const char *)plain, plen);
    cr_assert_not_null(j, "plaintext is not JSON: %.*s", (int)plen, plain);
    omni_free(plain);
    return j;
}

static char *message(const char *endpoint, const char *extra)
{
    char *m = NULL;
    cr_assert_gt(asprintf(&m,
                          "{\"platform\":\"web\",\"subscription\":{\"endpoint\":\"%s\",\"keys\":"
                          "{\"p256dh\":\"" UA_PUBLIC "\",\"auth\":\"" AUTH "\"}},"
                          "\"payload\":{\"title\":\"T\"}%s}",
                          endpoint, extra ? extra : ""),
                 0);
    return m;
}

static omni_http_request *build_ok(omni_push *p, const char *msg, int64_t now)
{
    omni_http_request *req = NULL;
    cr_assert_eq(omni_push_build(&req, p, msg, strlen(msg), now), OMNI_OK, "%s: %s", msg,
                 omni_error_last_message());
    return req;
}

/* ---- golden requests -------------------------------------------------------------- */

static void check_golden(const char *name)
{
    cJSON *g = load_json(name);
    char *cfg = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(g, "config"));
    omni_push *p = compile(cfg);
    char *msg = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(g, "message"));
    omni_http_request *req = NULL;
    int rc = omni_push_build(&req, p, msg, strlen(msg), parse_now(g, NULL));
    cr_assert_eq(rc, OMNI_OK, "%s: %s", name, omni_error_last_message());
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(g, "request");
    cr_assert_str_eq(omni_http_request_method(req), omni__json_str(want, "method"), "%s", name);
    cr_assert_str_eq(omni_http_request_url(req), omni__json_str(want, "url"), "%s", name);
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(want, "headers");
    cr_assert_eq(omni_http_request_header_count(req), (size_t)cJSON_GetArraySize(hs),
                 "%s: header count", name);
    size_t i = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, hs)
    {
        cr_assert_str_eq(omni_http_request_header_name(req, i), h->string, "%s", name);
        if (strcmp(h->string, "Authorization") != 0)
            cr_assert_str_eq(omni_http_request_header_value(req, i), h->valuestring, "%s: %s",
                             name, h->string);
        i++;
    }
    char *claims = vapid_claims(omni_http_request_header(req, "Authorization"));
    cJSON *cj = cJSON_Parse(claims);
    const cJSON *wc = cJSON_GetObjectItemCaseSensitive(g, "vapidClaims");
    char *wcs = cJSON_PrintUnformatted(wc);
    cr_assert(cJSON_Compare(cj, wc, 1), "%s: claims\n got: %s\nwant: %s", name, claims, wcs);
    size_t blen = 0;
    const char *body = omni_http_request_body(req, &blen);
    cJSON *plain = decrypt_body((const uint8_t *)body, blen);
    const cJSON *wb = cJSON_GetObjectItemCaseSensitive(want, "body");
    char *got = cJSON_PrintUnformatted(plain), *wbs = cJSON_PrintUnformatted(wb);
    /* exact text: member order is documented */
    cr_assert_str_eq(got, wbs, "%s: plaintext", name);
    free(got);
    free(wbs);
    free(wcs);
    cJSON_Delete(plain);
    cJSON_Delete(cj);
    omni_free(claims);
    omni_http_request_free(req);
    free(msg);
    free(cfg);
    omni_push_free(p);
    cJSON_Delete(g);
}

Test(push_webpush, golden_requests)
{
    char names[64][128];
    int n = golden_list(DATA_DIR, NULL, names, 64);
    cr_assert_geq(n, 0, "cannot list %s", DATA_DIR);
    for (int i = 0; i < n; i++)
        check_golden(names[i]);
    cr_assert_geq(n, 5);
}

/* ---- responses -------------------------------------------------------------------- */

Test(push_webpush, responses)
{
    omni_push *p = compile(CONFIG);
    cJSON *all = load_json("responses.json");
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, all)
    {
        cJSON *r = cJSON_Duplicate(c, 1);
        cJSON *want = cJSON_DetachItemFromObjectCaseSensitive(r, "result");
        int64_t now = parse_now(r, "2024-05-01T12:00:00Z");
        cJSON_DeleteItemFromObjectCaseSensitive(r, "now");
        char *rj = cJSON_PrintUnformatted(r);
        omni_http_response *resp = NULL;
        cr_assert_eq(omni_http_response_from_json(&resp, rj, strlen(rj)), OMNI_OK, "case %d: %s",
                     n, omni_error_last_message());
        char *out = NULL;
        size_t len = 0;
        cr_assert_eq(omni_push_parse(&out, &len, p, "web", resp, now), OMNI_OK, "case %d: %s", n,
                     omni_error_last_message());
        cr_assert_eq(strlen(out), len);
        cJSON *got = cJSON_Parse(out);
        cr_assert_not_null(got, "case %d: result not JSON: %s", n, out);
        char *wj = cJSON_PrintUnformatted(want);
        cr_assert(cJSON_Compare(got, want, 1), "case %d:\n got: %s\nwant: %s", n, out, wj);
        cr_assert_null(strstr(out, AS_PRIVATE));
        free(wj);
        cJSON_Delete(got);
        omni_free(out);
        omni_http_response_free(resp);
        free(rj);
        cJSON_Delete(want);
        cJSON_Delete(r);
        n++;
    }
    cr_assert_geq(n, 20);
    cJSON_Delete(all);
    omni_push_free(p);
}

Test(push_webpush, parse_errors)
{
    omni_push *p = compile(CONFIG);
    omni_http_response *resp = NULL;
    cr_assert_eq(omni_http_response_new(&resp), OMNI_OK);
    cr_assert_eq(omni_http_response_set_status(resp, 201), OMNI_OK);
    char *out = (char *)1;
    cr_assert_eq(omni_push_parse(&out, NULL, p, "web", NULL, NOW_MS), OMNI_EINVAL);
    cr_assert_null(out);
    cr_assert_eq(omni_push_parse(&out, NULL, NULL, "web", resp, NOW_MS), OMNI_EINVAL);
    cr_assert_eq(omni_push_parse(&out, NULL, p, NULL, resp, NOW_MS), OMNI_EINVAL);
    cr_assert_eq(omni_push_parse(NULL, NULL, p, "web", resp, NOW_MS), OMNI_EINVAL);
    cr_assert_eq(omni_push_parse(&out, NULL, p, "ios", resp, NOW_MS), OMNI_ECONFIG);
    cr_assert_eq(omni_push_parse(&out, NULL, p, "webx", resp, NOW_MS), OMNI_EINVAL);
    cr_assert_eq(omni_push_parse(&out, NULL, p, "web", resp, NOW_MS), OMNI_OK);
    cr_assert_str_eq(out, "{\"success\":true,\"platform\":\"web\",\"status\":\"sent\"}");
    omni_free(out);
    /* an over-long Location is cut, never overflows */
    char loc[3000];
    memset(loc, 'a', sizeof(loc) - 1);
    loc[sizeof(loc) - 1] = 0;
    cr_assert_eq(omni_http_response_add_header(resp, "Location", loc), OMNI_OK);
    cr_assert_eq(omni_push_parse(&out, NULL, p, "web", resp, NOW_MS), OMNI_OK);
    cJSON *j = cJSON_Parse(out);
    cr_assert_eq(strlen(omni__json_str(j, "messageId")), 1023);
    cJSON_Delete(j);
    omni_free(out);
    omni_http_response_free(resp);
    omni_push_free(p);
}

/* ---- configuration errors --------------------------------------------------------- */

static void config_fails(const char *cfg, int status, const char *path)
{
    omni_push *p = (omni_push *)1;
    cr_assert_eq(omni_push_new(&p, cfg, strlen(cfg)), status, "%s: %s", cfg,
                 omni_error_last_message());
    cr_assert_null(p);
    const char *m = omni_error_last_message();
    cr_assert_null(strstr(m, AS_PRIVATE), "%s", m);
    cr_assert_null(strstr(m, "yfWPiYE"), "%s", m);
    if (path) {
        char *json = NULL;
        size_t n = 0;
        cr_assert_eq(omni_error_last_json(&json, &n), OMNI_OK);
        cr_assert_not_null(strstr(json, path), "%s lacks %s", json, path);
        cr_assert_not_null(strstr(m, "push: "), "%s", m);
        omni_free(json);
    }
}

#define WP(x) "{\"webpush\":{" x "}}"
#define KEY "\"vapidPrivateKey\":\"" AS_PRIVATE "\""
#define SUBJ "\"subject\":\"mailto:ops@example.com\""

Test(push_webpush, config_errors)
{
    config_fails("{\"webpush\":[]}", OMNI_ECONFIG, "webpush");
    config_fails(WP(KEY "," SUBJ ",\"extra\":1"), OMNI_ECONFIG, "webpush.extra");
    config_fails(WP(SUBJ), OMNI_ECONFIG, "webpush.vapidPrivateKey");
    config_fails(WP("\"vapidPrivateKey\":5," SUBJ), OMNI_ECONFIG, "webpush.vapidPrivateKey");
    config_fails(WP("\"vapidPrivateKey\":\"\"," SUBJ), OMNI_ECONFIG, "webpush.vapidPrivateKey");
    /* not base64url (standard alphabet), 31 and 33 bytes, too long */
    config_fails(WP("\"vapidPrivateKey\":\"yfWPiYE+n46HLnH0KqZOF1fJJU3MYrct3AELtAQ+oRw\"," SUBJ),
                 OMNI_ECONFIG, "webpush.vapidPrivateKey");
    config_fails(WP("\"vapidPrivateKey\":\"yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oQ\"," SUBJ),
                 OMNI_ECONFIG, "webpush.vapidPrivateKey");
    config_fails(WP("\"vapidPrivateKey\":\"yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRwAAA\"," SUBJ),
                 OMNI_ECONFIG, "webpush.vapidPrivateKey");
    config_fails(WP("\"vapidPrivateKey\":\"" AS_PRIVATE AS_PRIVATE AS_PRIVATE "\"," SUBJ),
                 OMNI_ECONFIG, "webpush.vapidPrivateKey");
    /* zero and the group order's all-ones: not valid scalars */
    config_fails(WP("\"vapidPrivateKey\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"," SUBJ),
                 OMNI_ECONFIG, "webpush.vapidPrivateKey");
    config_fails(WP("\"vapidPrivateKey\":\"__________________________________________8\"," SUBJ),
                 OMNI_ECONFIG, "webpush.vapidPrivateKey");
    config_fails(WP("\"vapidPrivateKey\":{\"env\":\"OMNI_TEST_NO_SUCH_VAR_WPS\"}," SUBJ),
                 OMNI_ECONFIG, "webpush.vapidPrivateKey");
    config_fails(WP(KEY), OMNI_ECONFIG, "webpush.subject");
    config_fails(WP(KEY ",\"subject\":7"), OMNI_ECONFIG, "webpush.subject");
    config_fails(WP(KEY ",\"subject\":\"ops@example.com\""), OMNI_ECONFIG, "webpush.subject");
    config_fails(WP(KEY ",\"subject\":\"http://example.com\""), OMNI_ECONFIG, "webpush.subject");
    config_fails(WP(KEY ",\"subject\":\"mailto:\""), OMNI_ECONFIG, "webpush.subject");
    config_fails(WP(KEY ",\"subject\":\"mailto:a b@example.com\""), OMNI_ECONFIG,
                 "webpush.subject");
    config_fails(WP(KEY "," SUBJ ",\"vapidExpiresSeconds\":0"), OMNI_ECONFIG,
                 "webpush.vapidExpiresSeconds");
    config_fails(WP(KEY "," SUBJ ",\"vapidExpiresSeconds\":86401"), OMNI_ECONFIG,
                 "webpush.vapidExpiresSeconds");
    config_fails(WP(KEY "," SUBJ ",\"vapidExpiresSeconds\":1.5"), OMNI_ECONFIG,
                 "webpush.vapidExpiresSeconds");
    config_fails(WP(KEY "," SUBJ ",\"vapidExpiresSeconds\":\"60\""), OMNI_ECONFIG,
                 "webpush.vapidExpiresSeconds");
    config_fails("{\"webpush\":{" KEY "," SUBJ "}", OMNI_EJSON, NULL);
    /* the limits accepted */
    omni_push *p = compile(WP(KEY ",\"subject\":\"https://example.com\","
                                  "\"vapidExpiresSeconds\":86400"));
    omni_push_free(p);
    p = compile(WP(KEY "," SUBJ ",\"vapidExpiresSeconds\":1"));
    omni_push_free(p);
}

Test(push_webpush, config_env_secret)
{
    setenv("OMNI_TEST_WPS_KEY", AS_PRIVATE, 1);
    omni_push *p = compile(WP("\"vapidPrivateKey\":{\"env\":\"OMNI_TEST_WPS_KEY\"}," SUBJ));
    char *m = message("https://push.example.com/x", NULL);
    omni_http_request *req = build_ok(p, m, NOW_MS);
    char *claims = vapid_claims(omni_http_request_header(req, "Authorization"));
    omni_free(claims);
    omni_http_request_free(req);
    free(m);
    omni_push_free(p);
    unsetenv("OMNI_TEST_WPS_KEY");
}

/* ---- message errors ---------------------------------------------------------------- */

static void build_fails(omni_push *p, const char *msg, int status, const char *needle)
{
    omni_http_request *req = (omni_http_request *)1;
    cr_assert_eq(omni_push_build(&req, p, msg, strlen(msg), NOW_MS), status, "%s: %s", msg,
                 omni_error_last_message());
    cr_assert_null(req);
    const char *m = omni_error_last_message();
    cr_assert_null(strstr(m, AS_PRIVATE), "%s", m);
    if (needle)
        cr_assert_not_null(strstr(m, needle), "%s: '%s' lacks '%s'", msg, m, needle);
}

#define EP "https://push.example.com/sub/1"
#define KEYS "\"keys\":{\"p256dh\":\"" UA_PUBLIC "\",\"auth\":\"" AUTH "\"}"
#define MSG(sub, rest)                                                                     \
    "{\"platform\":\"web\",\"subscription\":" sub ",\"payload\":{\"title\":\"T\"}" rest "}"
#define SUB "{\"endpoint\":\"" EP "\"," KEYS "}"

Test(push_webpush, message_errors)
{
    omni_push *p = compile(CONFIG);
    build_fails(p, "{\"platform\":\"web\",\"payload\":{\"title\":\"T\"}}", OMNI_EINVAL,
                "subscription");
    build_fails(p, MSG("[]", ""), OMNI_EINVAL, "subscription");
    build_fails(p, MSG("{\"endpoint\":\"" EP "\"," KEYS ",\"x\":1}", ""), OMNI_EINVAL,
                "subscription.x");
    build_fails(p, MSG("{" KEYS "}", ""), OMNI_EINVAL, "subscription.endpoint");
    build_fails(p, MSG("{\"endpoint\":7," KEYS "}", ""), OMNI_EINVAL, "subscription.endpoint");
    build_fails(p, MSG("{\"endpoint\":\"\"," KEYS "}", ""), OMNI_EINVAL, "subscription.endpoint");
    build_fails(p, MSG("{\"endpoint\":\"http://push.example.com/x\"," KEYS "}", ""), OMNI_EINVAL,
                "subscription.endpoint");
    build_fails(p, MSG("{\"endpoint\":\"ftp://push.example.com/x\"," KEYS "}", ""), OMNI_EINVAL,
                "subscription.endpoint");
    build_fails(p, MSG("{\"endpoint\":\"https://u:p@push.example.com/x\"," KEYS "}", ""),
                OMNI_EINVAL, "subscription.endpoint");
    build_fails(p, MSG("{\"endpoint\":\"https:///x\"," KEYS "}", ""), OMNI_EINVAL,
                "subscription.endpoint");
    build_fails(p, MSG("{\"endpoint\":\"https://push.example.com/a b\"," KEYS "}", ""),
                OMNI_EINVAL, "subscription.endpoint");
    build_fails(p, MSG("{\"endpoint\":\"https://push.example.com:99999/\"," KEYS "}", ""),
                OMNI_EINVAL, "subscription.endpoint");
    build_fails(p, MSG("{\"endpoint\":\"" EP "\",\"expirationTime\":\"soon\"," KEYS "}", ""),
                OMNI_EINVAL, "subscription.expirationTime");
    build_fails(p, "{\"platform\":\"web\",\"token\":\"https://other.example.com/\","
                   "\"subscription\":" SUB ",\"payload\":{\"title\":\"T\"}}",
                OMNI_EINVAL, "token");
    build_fails(p, MSG("{\"endpoint\":\"" EP "\"}", ""), OMNI_EINVAL, "subscription.keys");
    build_fails(p, MSG("{\"endpoint\":\"" EP "\",\"keys\":[]}", ""), OMNI_EINVAL,
                "subscription.keys");
    build_fails(p, MSG("{\"endpoint\":\"" EP "\",\"keys\":{\"p256dh\":\"" UA_PUBLIC "\","
                       "\"auth\":\"" AUTH "\",\"x\":1}}", ""),
                OMNI_EINVAL, "subscription.keys.x");
    build_fails(p, MSG("{\"endpoint\":\"" EP "\",\"keys\":{\"auth\":\"" AUTH "\"}}", ""),
                OMNI_EINVAL, "subscription.keys.p256dh");
    build_fails(p, MSG("{\"endpoint\":\"" EP "\",\"keys\":{\"p256dh\":\"AAAA\",\"auth\":\"" AUTH
                       "\"}}", ""),
                OMNI_EINVAL, "subscription.keys.p256dh");
    build_fails(p, MSG("{\"endpoint\":\"" EP "\",\"keys\":{\"p256dh\":\"!!\",\"auth\":\"" AUTH
                       "\"}}", ""),
                OMNI_EINVAL, "subscription.keys.p256dh");
    /* 65 bytes but 0x05 first; 65 bytes 0x04 first but not on the curve */
    build_fails(p, MSG("{\"endpoint\":\"" EP "\",\"keys\":{\"p256dh\":\"BSVxsr7N_eNgVRqvHtD0zTZs"
                       "Ec6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4\","
                       "\"auth\":\"" AUTH "\"}}", ""),
                OMNI_EINVAL, "subscription.keys.p256dh");
    build_fails(p, MSG("{\"endpoint\":\"" EP "\",\"keys\":{\"p256dh\":\"BCVxsr7N_eNgVRqvHtD0zTZs"
                       "Ec6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw8\","
                       "\"auth\":\"" AUTH "\"}}", ""),
                OMNI_EKEY, "p256dh");
    build_fails(p, MSG("{\"endpoint\":\"" EP "\",\"keys\":{\"p256dh\":\"" UA_PUBLIC "\","
                       "\"auth\":\"BTBZMqHH6r4Tts7J_aSI\"}}", ""),
                OMNI_EINVAL, "subscription.keys.auth");
    build_fails(p, MSG("{\"endpoint\":\"" EP "\",\"keys\":{\"p256dh\":\"" UA_PUBLIC "\","
                       "\"auth\":5}}", ""),
                OMNI_EINVAL, "subscription.keys.auth");
    /* options */
    build_fails(p, MSG(SUB, ",\"options\":{\"ttl\":-1}"), OMNI_EINVAL, "options.ttl");
    build_fails(p, MSG(SUB, ",\"options\":{\"ttl\":2419201}"), OMNI_EINVAL, "options.ttl");
    build_fails(p, MSG(SUB, ",\"options\":{\"ttl\":1.5}"), OMNI_EINVAL, "options.ttl");
    build_fails(p, MSG(SUB, ",\"options\":{\"ttl\":\"60\"}"), OMNI_EINVAL, "options.ttl");
    build_fails(p, MSG(SUB, ",\"options\":{\"priority\":\"urgent\"}"), OMNI_EINVAL,
                "options.priority");
    build_fails(p, MSG(SUB, ",\"options\":{\"priority\":1}"), OMNI_EINVAL, "options.priority");
    build_fails(p, MSG(SUB, ",\"options\":{\"urgency\":\"critical\"}"), OMNI_EINVAL,
                "options.urgency");
    build_fails(p, MSG(SUB, ",\"options\":{\"urgency\":null}"), OMNI_EINVAL, "options.urgency");
    build_fails(p, MSG(SUB, ",\"options\":{\"webTopic\":\"\"}"), OMNI_EINVAL, "options.webTopic");
    build_fails(p, MSG(SUB, ",\"options\":{\"webTopic\":\"abcdefghijklmnopqrstuvwxyz0123456\"}"),
                OMNI_EINVAL, "options.webTopic");
    build_fails(p, MSG(SUB, ",\"options\":{\"webTopic\":\"a.b\"}"), OMNI_EINVAL,
                "options.webTopic");
    build_fails(p, MSG(SUB, ",\"options\":{\"webTopic\":\"a=\"}"), OMNI_EINVAL,
                "options.webTopic");
    build_fails(p, MSG(SUB, ",\"options\":{\"collapseKey\":\"\"}"), OMNI_EINVAL,
                "options.collapseKey");
    build_fails(p, MSG(SUB, ",\"options\":{\"collapseKey\":\"0123456789012345678901234567890123"
                            "456789012345678901234567890123456789\"}"),
                OMNI_EINVAL, "options.collapseKey");
    build_fails(p, MSG(SUB, ",\"options\":[]"), OMNI_EINVAL, "options");
    /* payload */
    const char *s = "{\"platform\":\"web\",\"subscription\":" SUB ",\"payload\":";
    char buf[1024];
    static const char *const bad_payloads[][2] = {
        {"{}", "payload.title"},
        {"{\"title\":5}", "payload.title"},
        {"{\"title\":\"T\",\"body\":[]}", "payload.body"},
        {"{\"title\":\"T\",\"image\":1}", "payload.image"},
        {"{\"title\":\"T\",\"sound\":true}", "payload.sound"},
        {"{\"title\":\"T\",\"clickAction\":{}}", "payload.clickAction"},
        {"{\"title\":\"T\",\"badge\":{}}", "payload.badge"},
        {"{\"title\":\"T\",\"data\":[1]}", "payload.data"},
        {"{\"title\":\"T\",\"data\":\"x\"}", "payload.data"},
        {"{\"title\":\"T\",\"actions\":{}}", "payload.actions"},
        {"{\"title\":\"T\",\"actions\":[1]}", "payload.actions"},
        {"{\"title\":\"T\",\"actions\":[{\"title\":\"x\"}]}", "payload.actions"},
        {"{\"title\":\"T\",\"actions\":[{\"id\":\"\",\"title\":\"x\"}]}", "payload.actions"},
        {"{\"title\":\"T\",\"actions\":[{\"id\":\"a\"}]}", "payload.actions"},
        {"{\"title\":\"T\",\"actions\":[{\"id\":\"a\",\"title\":\"x\",\"url\":1}]}",
         "payload.actions"},
        {"{\"title\":\"T\",\"actions\":[{},{},{},{},{},{},{},{},{},{},{}]}", "payload.actions"},
        {"[]", "payload"},
    };
    for (size_t i = 0; i < sizeof(bad_payloads) / sizeof(bad_payloads[0]); i++) {
        snprintf(buf, sizeof(buf), "%s%s}", s, bad_payloads[i][0]);
        build_fails(p, buf, OMNI_EINVAL, bad_payloads[i][1]);
    }
    /* not configured / not JSON / NULLs */
    build_fails(p, "{\"platform\":\"ios\",\"token\":\"ab\",\"payload\":{}}", OMNI_ECONFIG, "apns");
    build_fails(p, "{\"platform\":\"web\"", OMNI_EJSON, NULL);
    omni_http_request *req = NULL;
    cr_assert_eq(omni_push_build(&req, p, NULL, 0, NOW_MS), OMNI_EINVAL);
    cr_assert_eq(omni_push_build(NULL, p, "{}", 2, NOW_MS), OMNI_EINVAL);
    cr_assert_eq(omni_push_build(&req, NULL, "{}", 2, NOW_MS), OMNI_EINVAL);
    omni_push_free(p);
}

Test(push_webpush, too_large)
{
    omni_push *p = compile(CONFIG);
    /* {"title":"<n x a>"} is n + 12 bytes: 3981 fits exactly, 3982 does not */
    size_t n = OMNI_WEBPUSH_MAX_PLAINTEXT - 12;
    char *title = malloc(n + 2);
    memset(title, 'a', n + 1);
    title[n] = 0;
    char *m = NULL;
    cr_assert_gt(asprintf(&m,
                          "{\"platform\":\"web\",\"subscription\":" SUB
                          ",\"payload\":{\"title\":\"%s\"}}",
                          title),
                 0);
    omni_http_request *req = build_ok(p, m, NOW_MS);
    size_t blen = 0;
    const char *body = omni_http_request_body(req, &blen);
    cr_assert_eq(blen, 4096);
    cJSON *plain = decrypt_body((const uint8_t *)body, blen);
    cr_assert_eq(strlen(omni__json_str(plain, "title")), n);
    cJSON_Delete(plain);
    omni_http_request_free(req);
    free(m);
    title[n] = 'a';
    title[n + 1] = 0;
    cr_assert_gt(asprintf(&m,
                          "{\"platform\":\"web\",\"subscription\":" SUB
                          ",\"payload\":{\"title\":\"%s\"}}",
                          title),
                 0);
    build_fails(p, m, OMNI_ETOOLARGE, "3993");
    free(m);
    free(title);
    omni_push_free(p);
}

/* ---- VAPID header cache ------------------------------------------------------------ */

static char *auth_of(omni_push *p, const char *endpoint, int64_t now)
{
    char *m = message(endpoint, NULL);
    omni_http_request *req = build_ok(p, m, now);
    char *a = strdup(omni_http_request_header(req, "Authorization"));
    omni_http_request_free(req);
    free(m);
    return a;
}

static int64_t claim_exp(const char *header, const char *aud)
{
    char *claims = vapid_claims(header);
    cJSON *j = cJSON_Parse(claims);
    cr_assert_str_eq(omni__json_str(j, "aud"), aud);
    int64_t exp = 0;
    cr_assert_eq(omni__json_int(j, "exp", &exp), 0);
    cJSON_Delete(j);
    omni_free(claims);
    return exp;
}

Test(push_webpush, vapid_cache)
{
    omni_push *p = compile(WP(KEY "," SUBJ ",\"vapidExpiresSeconds\":600"));
    const char *a_url = "https://a.example.com/x", *a_aud = "https://a.example.com";
    char *h1 = auth_of(p, a_url, NOW_MS);
    cr_assert_eq(claim_exp(h1, a_aud), NOW_MS / 1000 + 600);
    /* the same origin (another path, the host in upper case) within half the lifetime:
     * the same header, byte for byte (ECDSA signatures are randomized) */
    char *h2 = auth_of(p, "https://A.EXAMPLE.COM/other?q=1", NOW_MS + 299999);
    cr_assert_str_eq(h1, h2);
    /* another origin: its own header */
    char *h3 = auth_of(p, "https://b.example.com/x", NOW_MS + 1000);
    cr_assert_eq(claim_exp(h3, "https://b.example.com"), NOW_MS / 1000 + 601);
    /* half the lifetime passed: re-signed */
    char *h4 = auth_of(p, a_url, NOW_MS + 300000);
    cr_assert_str_neq(h1, h4);
    cr_assert_eq(claim_exp(h4, a_aud), NOW_MS / 1000 + 900);
    char *h5 = auth_of(p, a_url, NOW_MS + 300001);
    cr_assert_str_eq(h4, h5);
    /* the clock went back before the header was made: re-signed */
    char *h6 = auth_of(p, a_url, NOW_MS + 100000);
    cr_assert_str_neq(h4, h6);
    cr_assert_eq(claim_exp(h6, a_aud), NOW_MS / 1000 + 700);
    /* b is still cached */
    char *h7 = auth_of(p, "https://b.example.com/y", NOW_MS + 2000);
    cr_assert_str_eq(h3, h7);
    /* a failed build changes no cache entry */
    char *bad = message("https://c.example.com/x", ",\"options\":{\"ttl\":-1}");
    build_fails(p, bad, OMNI_EINVAL, "options.ttl");
    free(bad);
    char *h8 = auth_of(p, "https://b.example.com/z", NOW_MS + 3000);
    cr_assert_str_eq(h3, h8);
    /* more origins than cache slots: all still work, evicting the oldest */
    for (int i = 0; i < 80; i++) {
        char url[64];
        snprintf(url, sizeof(url), "https://h%d.example.com/x", i);
        char aud[64];
        snprintf(aud, sizeof(aud), "https://h%d.example.com", i);
        char *h = auth_of(p, url, NOW_MS + 4000 + i);
        cr_assert_eq(claim_exp(h, aud), (NOW_MS + 4000 + i) / 1000 + 600);
        free(h);
    }
    free(h1);
    free(h2);
    free(h3);
    free(h4);
    free(h5);
    free(h6);
    free(h7);
    free(h8);
    omni_push_free(p);
}

typedef struct thr_arg {
    omni_push *p;
    int id;
    int failures;
} thr_arg;

static void *thr_build(void *v)
{
    thr_arg *a = v;
    for (int i = 0; i < 25; i++) {
        char *m = NULL;
        if (asprintf(&m,
                     "{\"platform\":\"web\",\"subscription\":{\"endpoint\":"
                     "\"https://h%d.example.com/x\"," KEYS "},\"payload\":{\"title\":\"T\"}}",
                     (a->id + i) % 5) < 0)
            return NULL;
        omni_http_request *req = NULL;
        if (omni_push_build(&req, a->p, m, strlen(m), NOW_MS + i * 1000))
            a->failures++;
        omni_http_request_free(req);
        free(m);
    }
    return NULL;
}

Test(push_webpush, threads)
{
    omni_push *p = compile(WP(KEY "," SUBJ ",\"vapidExpiresSeconds\":20"));
    pthread_t t[6];
    thr_arg args[6];
    for (int i = 0; i < 6; i++) {
        args[i] = (thr_arg){p, i, 0};
        cr_assert_eq(pthread_create(&t[i], NULL, thr_build, &args[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(args[i].failures, 0);
    }
    omni_push_free(p);
}

/* ---- end to end: curl transport to a push service on 127.0.0.1 ---------------------- */

Test(push_webpush, end_to_end_curl)
{
    omni_test_server *srv = NULL;
    cr_assert_eq(omni_test_server_start(&srv, NULL, NULL), 0);
    cr_assert_eq(omni_test_server_respond(srv, 201, "Location: /m/msg-1\r\n", "", 0), 0);
    cr_assert_eq(omni_test_server_respond(srv, 410, "Content-Type: application/json\r\n",
                                          "{\"errno\":106,\"message\":\"expired\"}", 33),
                 0);
    omni_push *p = compile(CONFIG);
    omni_transport *tr = NULL;
    cr_assert_eq(omni_transport_curl_new(&tr, NULL, 0), OMNI_OK, "%s",
                 omni_error_last_message());
    const char *endpoint = omni_test_server_url(srv, "/push/sub-1");
    char *m = NULL;
    cr_assert_gt(asprintf(&m,
                          "{\"platform\":\"web\",\"token\":\"%s\",\"subscription\":{\"endpoint\":"
                          "\"%s\"," KEYS "},\"payload\":{\"title\":\"Hello\",\"body\":\"World\","
                          "\"data\":{\"k\":\"v\"}},\"options\":{\"ttl\":60,\"webTopic\":\"t1\"}}",
                          endpoint, endpoint),
                 0);
    const char *expect_results[] = {
        "{\"success\":true,\"platform\":\"web\",\"status\":\"sent\",\"messageId\":\"/m/msg-1\"}",
        "{\"success\":false,\"platform\":\"web\",\"status\":\"failed\",\"error\":{\"code\":"
        "\"INVALID_TOKEN\",\"providerCode\":\"410 Gone\",\"message\":\"the push service "
        "answered 410 Gone: expired\",\"retryable\":false},\"invalidToken\":true}"};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    for (int round = 0; round < 2; round++) {
        omni_http_request *req = build_ok(p, m, now);
        omni_http_response *resp = NULL;
        cr_assert_eq(omni_transport_send(tr, req, &resp), OMNI_OK, "%s",
                     omni_error_last_message());
        char *out = NULL;
        cr_assert_eq(omni_push_parse(&out, NULL, p, "web", resp, now), OMNI_OK);
        cr_assert_str_eq(out, expect_results[round]);
        omni_free(out);
        omni_http_response_free(resp);
        omni_http_request_free(req);

        const omni_test_request *r = omni_test_server_request(srv, (size_t)round);
        cr_assert_not_null(r);
        cr_assert_str_eq(r->method, "POST");
        cr_assert_str_eq(r->target, "/push/sub-1");
        cr_assert_str_eq(omni_test_request_header(r, "TTL"), "60");
        cr_assert_str_eq(omni_test_request_header(r, "Urgency"), "normal");
        cr_assert_str_eq(omni_test_request_header(r, "Topic"), "t1");
        cr_assert_str_eq(omni_test_request_header(r, "Content-Encoding"), "aes128gcm");
        cr_assert_str_eq(omni_test_request_header(r, "Content-Type"), "application/octet-stream");
        /* the service's checks: the VAPID JWT verifies with k, for this origin */
        char *claims = vapid_claims(omni_test_request_header(r, "Authorization"));
        cJSON *cj = cJSON_Parse(claims);
        char aud[64];
        snprintf(aud, sizeof(aud), "http://127.0.0.1:%u", (unsigned)omni_test_server_port(srv));
        cr_assert_str_eq(omni__json_str(cj, "aud"), aud);
        cr_assert_str_eq(omni__json_str(cj, "sub"), "mailto:ops@example.com");
        int64_t exp = 0;
        cr_assert_eq(omni__json_int(cj, "exp", &exp), 0);
        cr_assert_eq(exp, now / 1000 + 43200);
        cJSON_Delete(cj);
        omni_free(claims);
        /* the user agent decrypts the body */
        cJSON *plain = decrypt_body(r->body, r->body_len);
        char *text = cJSON_PrintUnformatted(plain);
        cr_assert_str_eq(text, "{\"title\":\"Hello\",\"body\":\"World\",\"data\":{\"k\":\"v\"}}");
        free(text);
        cJSON_Delete(plain);
    }
    free(m);
    omni_transport_free(tr);
    omni_push_free(p);
    omni_test_server_stop(srv);
}
