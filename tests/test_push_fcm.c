/* Push adapter "android" (FCM HTTP v1): golden send requests (tests/data/push/fcm/<case>.json,
 * written from the FCM HTTP v1 REST reference: projects.messages.send, Message, AndroidConfig),
 * the response -> result table (responses.json: FcmError codes, google.rpc.Status statuses,
 * Retry-After, bodies that are not JSON), the OAuth 2.0 token exchange (the RS256 assertion of
 * RFC 7523 section 2.1 verified with the test key's public half, the token endpoint's answers
 * and errors), the credential cache with controlled now_ms, every configuration and message
 * error, and no secret in any error or result.
 *
 * The test service account (tests/data/push/fcm/service_account.json, RSA 2048 generated with
 * `openssl genpkey` for these tests only) is handed over as {"env": "OMNI_TEST_FCM_SA"}. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "golden.h"

#define DATA_DIR "push/fcm"
#include "test_files.h"

#define ACCESS "ya29.test-access-token"
#define T0 INT64_C(1714564800000) /* 2024-05-01T12:00:00Z */


static char *read_data(const char *name, size_t *len)
{
    char *text = golden_read(DATA_DIR, name, len);
    cr_assert_not_null(text, "cannot read %s/%s", DATA_DIR, name);
    return text;
}

static cJSON *load_json(const char *name)
{
    char why[512];
    cJSON *j = golden_load(DATA_DIR, name, why, sizeof why);
    cr_assert_not_null(j, "%s", why);
    return j;
}

/* The service account's text in OMNI_TEST_FCM_SA; returns it (free()). */
static char *setup_env(void)
{
    size_t len = 0;
    char *sa = read_data("service_account.json", &len);
    cr_assert_eq(setenv("OMNI_TEST_FCM_SA", sa, 1), 0);
    return sa;
}

/* A fragment of the private key that must never show up anywhere. */
static char key_fragment[48];

static void remember_key(const char *sa)
{
    cJSON *j = cJSON_Parse(sa);
    const char *pk = cJSON_GetObjectItemCaseSensitive(j, "private_key")->valuestring;
    const char *p = strstr(pk, "-----\n");
    cr_assert_not_null(p);
    memcpy(key_fragment, p + 6 + 40, 24);
    key_fragment[24] = '\0';
    cJSON_Delete(j);
}

static void no_secret(const char *s)
{
    cr_assert_null(strstr(s, ACCESS), "access token leaked: %s", s);
    if (key_fragment[0])
        cr_assert_null(strstr(s, key_fragment), "key leaked: %s", s);
    cr_assert_null(strstr(s, "PRIVATE KEY"), "key leaked: %s", s);
}

static omni_http_response *response(int status, const char *body, const char *hname,
                                    const char *hvalue)
{
    omni_http_response *r = NULL;
    cr_assert_eq(omni_http_response_new(&r), OMNI_OK);
    cr_assert_eq(omni_http_response_set_status(r, status), OMNI_OK);
    if (hname)
        cr_assert_eq(omni_http_response_add_header(r, hname, hvalue), OMNI_OK);
    cr_assert_eq(omni_http_response_set_body(r, body, strlen(body)), OMNI_OK);
    return r;
}

static const char *const token_ok =
    "{\"access_token\":\"" ACCESS "\",\"expires_in\":3599,\"token_type\":\"Bearer\"}";

/* Runs the token exchange at now (a request must be due). */
static void exchange(omni_push *p, int64_t now)
{
    omni_http_request *req = NULL;
    cr_assert_eq(omni_push_token_request(&req, p, now), OMNI_OK, "%s",
                 omni_error_last_message());
    cr_assert_not_null(req, "no token request due");
    omni_http_request_free(req);
    omni_http_response *r = response(200, token_ok, NULL, NULL);
    cr_assert_eq(omni_push_token_response(p, r, now), OMNI_OK, "%s", omni_error_last_message());
    omni_http_response_free(r);
}

static omni_push *compile(const char *cfg)
{
    omni_push *p = NULL;
    cr_assert_eq(omni_push_new(&p, cfg, strlen(cfg)), OMNI_OK, "config: %s",
                 omni_error_last_message());
    return p;
}

static const char *const env_cfg = "{\"fcm\":{\"serviceAccount\":{\"env\":\"OMNI_TEST_FCM_SA\"}}}";

static omni_push *ready(void)
{
    free(setup_env());
    omni_push *p = compile(env_cfg);
    exchange(p, T0);
    return p;
}

static int64_t parse_now(const cJSON *j)
{
    const cJSON *now = cJSON_GetObjectItemCaseSensitive(j, "now");
    const char *s = cJSON_IsString(now) ? now->valuestring : "2024-05-01T12:00:00Z";
    int64_t ms = 0;
    cr_assert_eq(omni_time_parse(&ms, s, strlen(s)), OMNI_OK);
    return ms;
}

/* ---- golden requests ------------------------------------------------------------------ */

static void check_golden(const char *name)
{
    cJSON *g = load_json(name);
    char *cfg = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(g, "config"));
    omni_push *p = compile(cfg);
    int64_t now = parse_now(g);
    exchange(p, now);
    char *msg = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(g, "message"));
    omni_http_request *req = NULL;
    int rc = omni_push_build(&req, p, msg, strlen(msg), now);
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
        cr_assert_str_eq(omni_http_request_header_value(req, i), h->valuestring, "%s: %s", name,
                         h->string);
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

Test(push_fcm, golden_requests)
{
    free(setup_env());
    char names[64][128];
    int n = golden_list(DATA_DIR, "service_account.json", names, 64);
    cr_assert_geq(n, 0, "cannot list %s", DATA_DIR);
    for (int i = 0; i < n; i++)
        check_golden(names[i]);
    cr_assert_geq(n, 7, "only %d golden cases", n);
}

/* ---- responses ------------------------------------------------------------------------ */

Test(push_fcm, responses)
{
    omni_push *p = ready();
    cJSON *all = load_json("responses.json");
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, all)
    {
        cJSON *r = cJSON_Duplicate(c, 1);
        cJSON *want = cJSON_DetachItemFromObjectCaseSensitive(r, "result");
        cJSON_DeleteItemFromObjectCaseSensitive(r, "comment");
        char *rj = cJSON_PrintUnformatted(r);
        omni_http_response *resp = NULL;
        cr_assert_eq(omni_http_response_from_json(&resp, rj, strlen(rj)), OMNI_OK, "case %d: %s",
                     n, omni_error_last_message());
        char *out = NULL;
        size_t len = 0;
        cr_assert_eq(omni_push_parse(&out, &len, p, "android", resp, T0), OMNI_OK,
                     "case %d: %s", n, omni_error_last_message());
        cr_assert_eq(len, strlen(out));
        cJSON *got = cJSON_Parse(out);
        cr_assert_not_null(got, "case %d: result not JSON: %s", n, out);
        char *wj = cJSON_PrintUnformatted(want);
        cr_assert(cJSON_Compare(got, want, 1), "case %d:\n got: %s\nwant: %s", n, out, wj);
        no_secret(out);
        free(wj);
        free(rj);
        cJSON_Delete(got);
        cJSON_Delete(want);
        cJSON_Delete(r);
        omni_free(out);
        omni_http_response_free(resp);
        n++;
    }
    cr_assert_geq(n, 25);
    cJSON_Delete(all);
    omni_push_free(p);
}

/* ---- token exchange ------------------------------------------------------------------- */

static char *b64url_decode_str(const char *s, size_t n)
{
    uint8_t *out = NULL;
    size_t len = 0;
    cr_assert_eq(omni_base64url_decode(&out, &len, s, n), OMNI_OK);
    char *t = malloc(len + 1);
    memcpy(t, out, len);
    t[len] = '\0';
    omni_free(out);
    return t;
}

/* RFC 7523 section 2.1 / Google's service-account flow: the form body and the assertion,
 * verified with the public half of the test key. */
Test(push_fcm, token_request_assertion)
{
    char *sa = setup_env();
    remember_key(sa);
    omni_push *p = compile(env_cfg);
    int64_t now = (int64_t)time(NULL) * 1000 + 123; /* real time: omni_jwt_verify checks exp */
    omni_http_request *req = NULL;
    cr_assert_eq(omni_push_token_request(&req, p, now), OMNI_OK, "%s", omni_error_last_message());
    cr_assert_not_null(req);
    cr_assert_str_eq(omni_http_request_method(req), "POST");
    cr_assert_str_eq(omni_http_request_url(req), "https://oauth2.googleapis.com/token");
    cr_assert_eq(omni_http_request_header_count(req), 2);
    cr_assert_str_eq(omni_http_request_header(req, "Content-Type"),
                     "application/x-www-form-urlencoded");
    cr_assert_str_eq(omni_http_request_header(req, "Accept"), "application/json");
    cr_assert_null(omni_http_request_header(req, "Authorization"));
    const char *body = omni_http_request_body(req, NULL);
    static const char prefix[] =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
    cr_assert_eq(strncmp(body, prefix, sizeof prefix - 1), 0, "%s", body);
    const char *jwt = body + sizeof prefix - 1;
    cr_assert_null(strchr(jwt, '&'));
    no_secret(body);

    size_t pub_len = 0;
    char *pub = read_data("public_key.pem", &pub_len);
    char *claims = NULL;
    cr_assert_eq(omni_jwt_verify(&claims, NULL, NULL, jwt, strlen(jwt), "RS256", pub, pub_len, 0),
                 OMNI_OK, "%s", omni_error_last_message());
    int64_t iat = now / 1000;
    char want[512];
    snprintf(want, sizeof want,
             "{\"iss\":\"fcm-sender@omni-test.iam.gserviceaccount.com\","
             "\"scope\":\"https://www.googleapis.com/auth/firebase.messaging\","
             "\"aud\":\"https://oauth2.googleapis.com/token\",\"iat\":%lld,\"exp\":%lld}",
             (long long)iat, (long long)iat + 3600);
    cr_assert_str_eq(claims, want);
    char *hdr = b64url_decode_str(jwt, (size_t)(strchr(jwt, '.') - jwt));
    cr_assert_str_eq(hdr, "{\"alg\":\"RS256\",\"typ\":\"JWT\","
                          "\"kid\":\"0123456789abcdef0123456789abcdef01234567\"}");
    /* RSASSA-PKCS1-v1_5 is deterministic: the same now gives the same request */
    omni_http_request *again = NULL;
    cr_assert_eq(omni_push_token_request(&again, p, now), OMNI_OK);
    cr_assert_str_eq(omni_http_request_body(again, NULL), body);
    omni_http_request_free(again);
    free(hdr);
    omni_free(claims);
    free(pub);
    omni_http_request_free(req);
    omni_push_free(p);
    free(sa);
}

/* tokenUrl changes where the request goes, not the audience (token_uri); no kid without
 * private_key_id; serviceAccount given as an object and as JSON text. */
Test(push_fcm, token_request_variants)
{
    char *sa = setup_env();
    cJSON *j = cJSON_Parse(sa);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "private_key_id");
    cJSON *cfg = cJSON_CreateObject();
    cJSON *fcm = cJSON_AddObjectToObject(cfg, "fcm");
    cJSON_AddItemToObject(fcm, "serviceAccount", j);
    cJSON_AddStringToObject(fcm, "tokenUrl", "http://127.0.0.1:9/token");
    char *text = cJSON_PrintUnformatted(cfg);
    omni_push *p = compile(text);
    omni_http_request *req = NULL;
    cr_assert_eq(omni_push_token_request(&req, p, T0), OMNI_OK);
    cr_assert_str_eq(omni_http_request_url(req), "http://127.0.0.1:9/token");
    const char *jwt = strstr(omni_http_request_body(req, NULL), "assertion=") + 10;
    char *hdr = b64url_decode_str(jwt, (size_t)(strchr(jwt, '.') - jwt));
    cr_assert_str_eq(hdr, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}");
    const char *dot = strchr(jwt, '.') + 1;
    char *claims = b64url_decode_str(dot, (size_t)(strchr(dot, '.') - dot));
    cr_assert_not_null(strstr(claims, "\"aud\":\"https://oauth2.googleapis.com/token\""));
    cr_assert_not_null(strstr(claims, "\"iat\":1714564800,\"exp\":1714568400"));
    free(claims);
    free(hdr);
    omni_http_request_free(req);
    omni_push_free(p);
    free(text);
    cJSON_Delete(cfg);

    /* the service account as JSON text inside the configuration */
    cJSON *c2 = cJSON_CreateObject();
    cJSON *f2 = cJSON_AddObjectToObject(c2, "fcm");
    cJSON_AddStringToObject(f2, "serviceAccount", sa);
    text = cJSON_PrintUnformatted(c2);
    p = compile(text);
    exchange(p, T0);
    omni_push_free(p);
    free(text);
    cJSON_Delete(c2);
    free(sa);
}

/* The cache: a token is requested when missing or within 5 minutes of expiring; a build
 * uses it until it expires; a 401 from FCM discards it. */
Test(push_fcm, token_cache)
{
    omni_push *p = ready(); /* expires_in 3599 at T0 */
    int64_t exp = T0 + 3599 * 1000;
    omni_http_request *req = (omni_http_request *)1;
    cr_assert_eq(omni_push_token_request(&req, p, T0 + 1000), OMNI_OK);
    cr_assert_null(req);
    cr_assert_eq(omni_push_token_request(&req, p, exp - 300000 - 1), OMNI_OK);
    cr_assert_null(req);
    cr_assert_eq(omni_push_token_request(&req, p, exp - 300000), OMNI_OK);
    cr_assert_not_null(req);
    omni_http_request_free(req);

    static const char msg[] = "{\"platform\":\"android\",\"token\":\"t\",\"payload\":{}}";
    cr_assert_eq(omni_push_build(&req, p, msg, strlen(msg), exp - 1), OMNI_OK);
    cr_assert_str_eq(omni_http_request_header(req, "Authorization"), "Bearer " ACCESS);
    omni_http_request_free(req);
    cr_assert_eq(omni_push_build(&req, p, msg, strlen(msg), exp), OMNI_EEXPIRED);
    cr_assert_null(req);
    no_secret(omni_error_last_message());

    /* a new token replaces the old one */
    omni_http_response *r = response(
        200, "{\"access_token\":\"ya29.second\",\"expires_in\":60,\"token_type\":\"bearer\"}",
        NULL, NULL);
    cr_assert_eq(omni_push_token_response(p, r, exp), OMNI_OK);
    omni_http_response_free(r);
    cr_assert_eq(omni_push_build(&req, p, msg, strlen(msg), exp + 59999), OMNI_OK);
    cr_assert_str_eq(omni_http_request_header(req, "Authorization"), "Bearer ya29.second");
    omni_http_request_free(req);
    cr_assert_eq(omni_push_token_request(&req, p, exp), OMNI_OK); /* within 5 minutes */
    cr_assert_not_null(req);
    omni_http_request_free(req);

    /* 401 UNAUTHENTICATED discards it */
    r = response(401, "{\"error\":{\"code\":401,\"message\":\"x\",\"status\":\"UNAUTHENTICATED\"}}",
                 NULL, NULL);
    char *out = NULL;
    cr_assert_eq(omni_push_parse(&out, NULL, p, "android", r, exp), OMNI_OK);
    cr_assert_not_null(strstr(out, "TOKEN_EXPIRED"));
    omni_free(out);
    omni_http_response_free(r);
    cr_assert_eq(omni_push_build(&req, p, msg, strlen(msg), exp), OMNI_EEXPIRED);
    cr_assert_eq(omni_push_token_request(&req, p, exp), OMNI_OK);
    cr_assert_not_null(req);
    omni_http_request_free(req);
    /* THIRD_PARTY_AUTH_ERROR (also 401) keeps the token */
    exchange(p, exp);
    r = response(401,
                 "{\"error\":{\"code\":401,\"message\":\"x\",\"status\":\"UNAUTHENTICATED\","
                 "\"details\":[{\"@type\":\"type.googleapis.com/google.firebase.fcm.v1.FcmError\","
                 "\"errorCode\":\"THIRD_PARTY_AUTH_ERROR\"}]}}",
                 NULL, NULL);
    cr_assert_eq(omni_push_parse(&out, NULL, p, "android", r, exp), OMNI_OK);
    cr_assert_not_null(strstr(out, "AUTH_FAILED"));
    omni_free(out);
    omni_http_response_free(r);
    cr_assert_eq(omni_push_build(&req, p, msg, strlen(msg), exp), OMNI_OK);
    omni_http_request_free(req);
    omni_push_free(p);
}

Test(push_fcm, token_response_errors)
{
    free(setup_env());
    omni_push *p = compile(env_cfg);
    static const struct {
        int status;
        const char *body;
        int rc;
        const char *says;
    } cases[] = {
        {400, "{\"error\":\"invalid_grant\",\"error_description\":\"Invalid JWT Signature.\"}",
         OMNI_EKEY, "invalid_grant: Invalid JWT Signature."},
        {400, "{\"error\":\"invalid_client\"}", OMNI_EKEY, "invalid_client"},
        {400, "{\"error\":\"unauthorized_client\"}", OMNI_EKEY, "HTTP 400"},
        {401, "{\"error\":\"invalid_client\",\"error_description\":\"The OAuth client was not "
              "found.\"}",
         OMNI_EKEY, "not found"},
        {403, "", OMNI_EKEY, "HTTP 403"},
        {400, "{\"error\":\"invalid_scope\"}", OMNI_ETRANSPORT, "invalid_scope"},
        {429, "{\"error\":\"rate_limit_exceeded\"}", OMNI_ETRANSPORT, "HTTP 429"},
        {500, "<html>", OMNI_ETRANSPORT, "HTTP 500"},
        {503, "", OMNI_ETRANSPORT, "HTTP 503"},
        {404, "not found", OMNI_ETRANSPORT, "HTTP 404"},
        {201, token_ok, OMNI_ETRANSPORT, "HTTP 201"},
        {200, "not json", OMNI_EJSON, "not a JSON object"},
        {200, "[1]", OMNI_EJSON, "not a JSON object"},
        {200, "{\"expires_in\":3599,\"token_type\":\"Bearer\"}", OMNI_EJSON, "access_token"},
        {200, "{\"access_token\":\"\",\"expires_in\":3599,\"token_type\":\"Bearer\"}", OMNI_EJSON,
         "access_token"},
        {200, "{\"access_token\":\"a b\",\"expires_in\":3599,\"token_type\":\"Bearer\"}",
         OMNI_EJSON, "access_token"},
        {200, "{\"access_token\":\"" ACCESS "\",\"expires_in\":3599}", OMNI_EJSON, "token_type"},
        {200, "{\"access_token\":\"" ACCESS "\",\"expires_in\":3599,\"token_type\":\"MAC\"}",
         OMNI_EJSON, "token_type"},
        {200, "{\"access_token\":\"" ACCESS "\",\"expires_in\":\"3599\",\"token_type\":\"Bearer\"}",
         OMNI_EJSON, "expires_in"},
        {200, "{\"access_token\":\"" ACCESS "\",\"expires_in\":0,\"token_type\":\"Bearer\"}",
         OMNI_EJSON, "expires_in"},
        {200, "{\"access_token\":\"" ACCESS "\",\"expires_in\":1.5,\"token_type\":\"Bearer\"}",
         OMNI_EJSON, "expires_in"},
        {200, "{\"access_token\":\"" ACCESS "\",\"expires_in\":1e12,\"token_type\":\"Bearer\"}",
         OMNI_EJSON, "expires_in"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        omni_http_response *r = response(cases[i].status, cases[i].body, NULL, NULL);
        cr_assert_eq(omni_push_token_response(p, r, T0), cases[i].rc, "case %zu: %s", i,
                     omni_error_last_message());
        cr_assert_not_null(strstr(omni_error_last_message(), cases[i].says), "case %zu: %s", i,
                           omni_error_last_message());
        no_secret(omni_error_last_message());
        omni_http_response_free(r);
        /* nothing was cached */
        omni_http_request *req = NULL;
        cr_assert_eq(omni_push_token_request(&req, p, T0), OMNI_OK);
        cr_assert_not_null(req, "case %zu cached a token", i);
        omni_http_request_free(req);
    }
    /* an error keeps a token cached before */
    exchange(p, T0);
    omni_http_response *r = response(500, "", NULL, NULL);
    cr_assert_eq(omni_push_token_response(p, r, T0), OMNI_ETRANSPORT);
    omni_http_response_free(r);
    omni_http_request *req = (omni_http_request *)1;
    cr_assert_eq(omni_push_token_request(&req, p, T0), OMNI_OK);
    cr_assert_null(req);
    omni_push_free(p);
}

Test(push_fcm, not_configured_and_null)
{
    static const char cfg[] = "{}";
    omni_push *p = compile(cfg);
    omni_http_request *req = (omni_http_request *)1;
    cr_assert_eq(omni_push_token_request(&req, p, T0), OMNI_ECONFIG);
    cr_assert_null(req);
    omni_http_response *r = response(200, token_ok, NULL, NULL);
    cr_assert_eq(omni_push_token_response(p, r, T0), OMNI_ECONFIG);
    static const char msg[] = "{\"platform\":\"android\",\"token\":\"t\",\"payload\":{}}";
    cr_assert_eq(omni_push_build(&req, p, msg, strlen(msg), T0), OMNI_ECONFIG);
    char *out = NULL;
    cr_assert_eq(omni_push_parse(&out, NULL, p, "android", r, T0), OMNI_ECONFIG);
    cr_assert_eq(omni_push_token_request(NULL, p, T0), OMNI_EINVAL);
    cr_assert_eq(omni_push_token_request(&req, NULL, T0), OMNI_EINVAL);
    cr_assert_eq(omni_push_token_response(NULL, r, T0), OMNI_EINVAL);
    cr_assert_eq(omni_push_token_response(p, NULL, T0), OMNI_EINVAL);
    omni_http_response_free(r);
    omni_push_free(p);

    free(setup_env());
    p = compile(env_cfg);
    cr_assert_eq(omni_push_token_request(&req, p, -1), OMNI_EINVAL); /* before 1970 */
    cr_assert_null(req);
    omni_push_free(p);
}

/* ---- configuration errors ---------------------------------------------------------------- */

static void expect_path(const char *path)
{
    char *json = NULL;
    size_t n = 0;
    cr_assert_eq(omni_error_last_json(&json, &n), OMNI_OK);
    cJSON *j = cJSON_Parse(json);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "details");
    const cJSON *p = d ? cJSON_GetObjectItemCaseSensitive(d, "path") : NULL;
    cr_assert(cJSON_IsString(p), "no details.path in %s", json);
    cr_assert_str_eq(p->valuestring, path, "%s", omni_error_last_message());
    cJSON_Delete(j);
    omni_free(json);
}

/* The config with the service account's member `name` set to `value` (raw JSON; NULL
 * removes it). */
static char *sa_config(const char *sa, const char *name, const char *value)
{
    cJSON *j = cJSON_Parse(sa);
    cJSON_DeleteItemFromObjectCaseSensitive(j, name);
    if (value)
        cJSON_AddItemToObject(j, name, cJSON_Parse(value));
    cJSON *cfg = cJSON_CreateObject();
    cJSON_AddItemToObject(cJSON_AddObjectToObject(cfg, "fcm"), "serviceAccount", j);
    char *text = cJSON_PrintUnformatted(cfg);
    cJSON_Delete(cfg);
    return text;
}

Test(push_fcm, config_errors)
{
    char *sa = setup_env();
    remember_key(sa);
    cr_assert_eq(setenv("OMNI_TEST_FCM_BAD", "{not json", 1), 0);
    cr_assert_eq(setenv("OMNI_TEST_FCM_ARRAY", "[1,2]", 1), 0);
    unsetenv("OMNI_TEST_FCM_NONE");
    static const struct {
        const char *json, *path, *says;
    } cases[] = {
        {"{\"fcm\":{}}", "fcm.serviceAccount", "is required"},
        {"{\"fcm\":[]}", "fcm", "must be an object"},
        {"{\"fcm\":{\"serviceAccount\":12}}", "fcm.serviceAccount", "must be"},
        {"{\"fcm\":{\"serviceAccount\":\"\"}}", "fcm.serviceAccount", "1..32768"},
        {"{\"fcm\":{\"serviceAccount\":\"{}\"}}", "fcm.serviceAccount", "\"type\""},
        {"{\"fcm\":{\"serviceAccount\":{\"env\":\"OMNI_TEST_FCM_NONE\"}}}", "fcm.serviceAccount",
         "OMNI_TEST_FCM_NONE is not set"},
        {"{\"fcm\":{\"serviceAccount\":{\"env\":\"OMNI_TEST_FCM_BAD\"}}}", "fcm.serviceAccount",
         "not valid JSON"},
        {"{\"fcm\":{\"serviceAccount\":{\"env\":\"OMNI_TEST_FCM_ARRAY\"}}}", "fcm.serviceAccount",
         "JSON object"},
        {"{\"fcm\":{\"serviceAccount\":{\"env\":\"OMNI_TEST_FCM_SA\"},\"apiKey\":\"x\"}}",
         "fcm.apiKey", "not a known member"},
        {"{\"fcm\":{\"serviceAccount\":{\"env\":\"OMNI_TEST_FCM_SA\"},\"projectId\":\"a/b\"}}",
         "fcm.projectId", "[A-Za-z0-9._:-]"},
        {"{\"fcm\":{\"serviceAccount\":{\"env\":\"OMNI_TEST_FCM_SA\"},\"projectId\":7}}",
         "fcm.projectId", "must be a string"},
        {"{\"fcm\":{\"serviceAccount\":{\"env\":\"OMNI_TEST_FCM_SA\"},\"baseUrl\":\"fcm\"}}",
         "fcm.baseUrl", "http"},
        {"{\"fcm\":{\"serviceAccount\":{\"env\":\"OMNI_TEST_FCM_SA\"},"
         "\"baseUrl\":\"https://a b\"}}",
         "fcm.baseUrl", "printable"},
        {"{\"fcm\":{\"serviceAccount\":{\"env\":\"OMNI_TEST_FCM_SA\"},\"tokenUrl\":\"ftp://x\"}}",
         "fcm.tokenUrl", "http"},
        {"{\"fcm\":{\"serviceAccount\":{\"env\":\"OMNI_TEST_FCM_SA\"},\"tokenUrl\":\"\"}}",
         "fcm.tokenUrl", "1..1024"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        omni_push *p = (omni_push *)1;
        int rc = omni_push_new(&p, cases[i].json, strlen(cases[i].json));
        cr_assert_eq(rc, OMNI_ECONFIG, "case %zu: %d %s", i, rc, omni_error_last_message());
        cr_assert_null(p);
        expect_path(cases[i].path);
        cr_assert_not_null(strstr(omni_error_last_message(), cases[i].says), "case %zu: %s", i,
                           omni_error_last_message());
        cr_assert_eq(strncmp(omni_error_last_message(), "push: ", 6), 0, "%s",
                     omni_error_last_message());
        no_secret(omni_error_last_message());
    }
    /* the service account's members */
    static const struct {
        const char *name, *value, *says;
    } sa_cases[] = {
        {"type", "\"authorized_user\"", "\"type\" must be"},
        {"type", NULL, "has no \"type\""},
        {"project_id", NULL, "has no \"project_id\""},
        {"project_id", "\"a b\"", "project_id"},
        {"client_email", NULL, "client_email"},
        {"client_email", "\"nobody\"", "email address"},
        {"client_email", "5", "non-empty string"},
        {"private_key_id", "\"\"", "private_key_id"},
        {"private_key_id", "\"a\\nb\"", "private_key_id"},
        {"token_uri", NULL, "token_uri"},
        {"token_uri", "\"oauth2.googleapis.com/token\"", "token_uri"},
        {"private_key", NULL, "private_key"},
        {"private_key", "\"not a key\"", "RSA PEM private key"},
        /* a P-256 key (PKCS#8, generated for this test) is not an RSA key */
        {"private_key",
         "\"-----BEGIN PRIVATE KEY-----\\n"
         "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgesUdOoGFZ1UzD0NX\\n"
         "fxIWnBBMbZJCZyrAlztnI+ETJ5ehRANCAARYNKl0PtqPf8R4PvV+/DwA+LxLnf8C\\n"
         "RjbufK7N0roN+e5IEnsXJQ9hv1Xbk806o4+ty9GRxyUfkAlwlzltvj8S\\n"
         "-----END PRIVATE KEY-----\\n\"",
         "RSA PEM private key"},
    };
    for (size_t i = 0; i < sizeof sa_cases / sizeof sa_cases[0]; i++) {
        char *cfg = sa_config(sa, sa_cases[i].name, sa_cases[i].value);
        omni_push *p = (omni_push *)1;
        int rc = omni_push_new(&p, cfg, strlen(cfg));
        cr_assert_eq(rc, OMNI_ECONFIG, "sa case %zu: %d %s", i, rc, omni_error_last_message());
        cr_assert_null(p);
        expect_path("fcm.serviceAccount");
        cr_assert_not_null(strstr(omni_error_last_message(), sa_cases[i].says),
                           "sa case %zu: %s", i, omni_error_last_message());
        no_secret(omni_error_last_message());
        free(cfg);
    }
    free(sa);
}

/* ---- message errors -------------------------------------------------------------------- */

Test(push_fcm, message_errors)
{
    omni_push *p = ready();
    static const struct {
        const char *json, *says;
    } cases[] = {
        {"{\"platform\":\"android\",\"payload\":{\"title\":\"x\"}}", "exactly one"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"topic\":\"n\",\"payload\":{}}",
         "exactly one"},
        {"{\"platform\":\"android\",\"topic\":\"n\",\"condition\":\"'a' in topics\","
         "\"payload\":{}}",
         "exactly one"},
        {"{\"platform\":\"android\",\"token\":\"a b\",\"payload\":{}}", "token"},
        {"{\"platform\":\"android\",\"token\":7,\"payload\":{}}", "token"},
        {"{\"platform\":\"android\",\"topic\":\"/topics/news\",\"payload\":{}}", "topic"},
        {"{\"platform\":\"android\",\"topic\":\"\",\"payload\":{}}", "topic"},
        {"{\"platform\":\"android\",\"topic\":5,\"payload\":{}}", "topic"},
        {"{\"platform\":\"android\",\"condition\":\"a\\nb\",\"payload\":{}}", "condition"},
        {"{\"platform\":\"android\",\"token\":\"t\"}", "payload"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"title\":1}}", "payload.title"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"body\":\"\"}}", "payload.body"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"image\":[]}}", "payload.image"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"sound\":1}}", "payload.sound"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"clickAction\":true}}",
         "payload.clickAction"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"badge\":-1}}", "payload.badge"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"badge\":1.5}}", "payload.badge"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"badge\":\"2\"}}",
         "payload.badge"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"data\":[]}}", "payload.data"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"data\":{\"from\":\"x\"}}}",
         "reserved"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"data\":{\"google.x\":\"x\"}}}",
         "reserved"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"data\":{\"gcm.n\":\"x\"}}}",
         "reserved"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"data\":{\"\":\"x\"}}}",
         "reserved"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"data\":{\"actions\":\"x\"},"
         "\"actions\":[]}}",
         "reserved"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"actions\":{}}}",
         "payload.actions"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"actions\":[{\"id\":\"a\"}]}}",
         "payload.actions[]"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"actions\":[1]}}",
         "payload.actions[]"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"actions\":[{\"id\":\"a\","
         "\"title\":\"b\",\"url\":5}]}}",
         "payload.actions[]"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"actions\":[{},{},{},{},{},{},"
         "{},{},{},{},{}]}}",
         "0..10"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{},\"options\":[]}", "options"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{},\"options\":{\"priority\":"
         "\"urgent\"}}",
         "options.priority"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{},\"options\":{\"priority\":1}}",
         "options.priority"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{},\"options\":{\"ttl\":-1}}",
         "options.ttl"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{},\"options\":{\"ttl\":2419201}}",
         "options.ttl"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{},\"options\":{\"ttl\":1.5}}",
         "options.ttl"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{},\"options\":{\"ttl\":\"60\"}}",
         "options.ttl"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{},\"options\":{\"collapseKey\":"
         "\"a\\u0001\"}}",
         "options.collapseKey"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{},\"options\":{\"channelId\":2}}",
         "options.channelId"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{},\"android\":[]}", "android"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{},\"apns\":\"x\"}", "apns"},
        {"{\"platform\":\"android\",\"token\":\"t\",\"payload\":{},\"webpush\":1}", "webpush"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        omni_http_request *req = (omni_http_request *)1;
        int rc = omni_push_build(&req, p, cases[i].json, strlen(cases[i].json), T0);
        cr_assert_eq(rc, OMNI_EINVAL, "case %zu: %d %s", i, rc, omni_error_last_message());
        cr_assert_null(req);
        cr_assert_not_null(strstr(omni_error_last_message(), cases[i].says), "case %zu: %s", i,
                           omni_error_last_message());
        no_secret(omni_error_last_message());
    }
    /* a message that is fine needs no token exchange again */
    static const char ok[] = "{\"platform\":\"android\",\"token\":\"t\",\"payload\":{}}";
    omni_http_request *req = NULL;
    cr_assert_eq(omni_push_build(&req, p, ok, strlen(ok), T0), OMNI_OK);
    cr_assert_str_eq(omni_http_request_body(req, NULL), "{\"message\":{\"token\":\"t\"}}");
    omni_http_request_free(req);
    /* the message is checked before the access token */
    omni_push_free(p);
    free(setup_env());
    p = compile(env_cfg);
    cr_assert_eq(omni_push_build(&req, p, cases[0].json, strlen(cases[0].json), T0), OMNI_EINVAL);
    cr_assert_eq(omni_push_build(&req, p, ok, strlen(ok), T0), OMNI_EEXPIRED);
    omni_push_free(p);
}

/* ---- threads ----------------------------------------------------------------------------- */

typedef struct worker {
    omni_push *p;
    int failures;
} worker;

static void *build_loop(void *arg)
{
    worker *w = arg;
    static const char msg[] =
        "{\"platform\":\"android\",\"token\":\"t\",\"payload\":{\"title\":\"x\"}}";
    for (int i = 0; i < 300; i++) {
        omni_http_request *req = NULL;
        if (omni_push_build(&req, w->p, msg, strlen(msg), T0 + i) != OMNI_OK)
            w->failures++;
        omni_http_request_free(req);
    }
    return NULL;
}

Test(push_fcm, builds_while_refreshing)
{
    omni_push *p = ready();
    worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){p, 0};
        cr_assert_eq(pthread_create(&th[i], NULL, build_loop, &w[i]), 0);
    }
    for (int i = 0; i < 50; i++) {
        omni_http_response *r = response(200, token_ok, NULL, NULL);
        cr_assert_eq(omni_push_token_response(p, r, T0), OMNI_OK);
        omni_http_response_free(r);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].failures, 0);
    }
    omni_push_free(p);
}
