/* MessageBird (Bird) Conversations webhooks: the MessageBird-Signature-JWT
 * check (with MessageBird's published reference vectors and with tokens
 * signed here from a test key) and parsing of message.created /
 * message.updated into events, through the public omni_inbound API with
 * the fixtures of tests/data/webhooks/messagebird. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "carrier_fixture.h"

#define CARRIER "messagebird"
#define KEY "mb-test-signing-key-4d1f0b8e2c7a9d3f"
#define CONFIG "{\"carriers\":{\"messagebird\":{\"signingKey\":\"" KEY "\"}}}"
/* The fixtures' tokens: nbf 2024-06-03T09:30:00Z, exp one minute later. */
#define NBF 1717407000
#define NOW "2024-06-03T09:30:10Z"
#define PATH "/webhooks/messagebird?account=acme"
#define URL "https://hooks.example.com" PATH

FX_CARRIER_SUITE(messagebird, CONFIG, NOW);

/* ---- MessageBird's reference vectors ---------------------------------------
 * From MessageBird's SDKs (messagebird-nodejs
 * lib/testdata/webhook-signature-jwt-reference.json, shared by the other
 * SDKs): secret "36efdd1a...cebb", checked at 2021-07-05T12:00:00+02:00.
 * The request methods of the set do not matter and are left out; the
 * HS384 / HS512 tokens, valid for the SDKs, are refused here (HS256 only). */
typedef struct mb_vector {
    const char *name;
    const char *url;
    const char *payload; /* NULL: no body */
    const char *token;
    int want;
} mb_vector;

static const mb_vector vectors[] = {
    {"valid, no query, no payload",
     "https://example.com/",
     NULL,
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCw"
     "iZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmx"
     "faGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc"
     "4M2U5ZDcifQ.6Fp0rVOsRr1fj9S2GidXAfkmPVofKr8_RTffC6G6r2E",
     OMNI_OK},
    {"valid, query, no payload",
     "https://example.com/path?bar=1&foo=2",
     NULL,
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCw"
     "iZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiJjOTQ2YWY3Ny1lMTgyLTRlYWEtYjJmZi0xYTU0NWI1ZTk5MWEiLCJ1cmx"
     "faGFzaCI6IjQxZjA1ZjBkZGQwYTIyYWIyMDlhYzQ2ZjQ3YzQ1NzJkOWNlZmEyNTdlZDc0YjI0MDA0YmFlNzUzZWN"
     "lNmMyNjAifQ.huo2ou6JDoDc7sV25d75UMWeYhBeavQlLsqIibSZuac",
     OMNI_OK},
    {"valid, query and payload",
     "https://example.com/path?bar=1&foo=2",
     "Hello, World!",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCw"
     "iZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI5M2U1NTAwNi1hMGU4LTQ1MjYtYTE5MC1mYTVmZjAwZWExMTYiLCJ1cmx"
     "faGFzaCI6IjQxZjA1ZjBkZGQwYTIyYWIyMDlhYzQ2ZjQ3YzQ1NzJkOWNlZmEyNTdlZDc0YjI0MDA0YmFlNzUzZWN"
     "lNmMyNjAiLCJwYXlsb2FkX2hhc2giOiJkZmZkNjAyMWJiMmJkNWIwYWY2NzYyOTA4MDllYzNhNTMxOTFkZDgxYzd"
     "mNzBhNGIyODY4OGEzNjIxODI5ODZmIn0._H--TOuYFLpeEH39-rg5E3IHVkjHozBcaKVWPRC5m9I",
     OMNI_OK},
    {"received before it was issued (nbf)",
     "https://example.com/",
     NULL,
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ4MjgwMCw"
     "iZXhwIjoxNjI1NDgyODYwLCJqdGkiOiJmOWY4YzM4Mi0yNDQ5LTQzMTEtYjcyYi0xZGY3MTY4NzkzMWUiLCJ1cmx"
     "faGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc"
     "4M2U5ZDcifQ.ZELgDFNGhjZH9CffQKcq3sytBe2I0KciLxpBhcfstHQ",
     OMNI_ESIGNATURE},
    {"received after it expired (exp)",
     "https://example.com/",
     NULL,
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3NTYwMCw"
     "iZXhwIjoxNjI1NDc1NjYwLCJqdGkiOiI1ZjAyZjUyMi02MDMwLTQ2YzgtYjVhMy0wMTI0NjQ3OGQ4YmMiLCJ1cmx"
     "faGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc"
     "4M2U5ZDcifQ.45MSST3B_2PsjNUeiuW54_vUQgVw4rBXrdWrOUEz3lM",
     OMNI_ESIGNATURE},
    {"query parameters reordered",
     "https://example.com/path?foo=1&bar=2",
     NULL,
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCw"
     "iZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiJhNzVjOTA5Ni1lODIzLTQ0MmItODVmMi03ZDNjOWQ5YjcyNmIiLCJ1cmx"
     "faGFzaCI6IjZhMDIyZDgzNGMxODMzMGJhYWQ4YTJiZDYxMzUxNzNlZDIxNjEwYTQ1NDUxNmJlMGRmM2YxY2MwMTU"
     "xNjEwZWEifQ.z6Sw1XQIM0wuEQGBhXBdawDIIrtMg2XnmA_bpDq53pE",
     OMNI_ESIGNATURE},
    {"payload does not match",
     "https://example.com/",
     "Hello, World!",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCw"
     "iZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiIxNDUwMTUzMi05NmYyLTQ2ODQtOTgzMi02OGYwOTUxYWUzNDIiLCJ1cmx"
     "faGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc"
     "4M2U5ZDciLCJwYXlsb2FkX2hhc2giOiJmYjYyZjAyYWNkYTdkNzQxNzdhNzAxYTFjZTAwNmU2YmFjZDkwYzdkNGQ"
     "3YWI0ODE2OTJjMWRhNDdjODEwNzZiIn0.m79RCwO6dGa9pvzsQypkVuXQ6eM0CkRl6_U7MfWg6TM",
     OMNI_ESIGNATURE},
    {"different secret",
     "https://example.com/",
     NULL,
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCw"
     "iZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiIyNDNjMjdhZS0yZjAyLTQ2YTAtODg1Mi1jNjZmMzdlYTlmNDYiLCJ1cmx"
     "faGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc"
     "4M2U5ZDcifQ.JgSeYyOtlEKAXk8bz30iJI4tXgf4lxknoiezawuVhb4",
     OMNI_ESIGNATURE},
    {"payload removed in transit",
     "https://example.com/",
     NULL,
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCw"
     "iZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiIxNDUwMTUzMi05NmYyLTQ2ODQtOTgzMi02OGYwOTUxYWUzNDIiLCJ1cmx"
     "faGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc"
     "4M2U5ZDciLCJwYXlsb2FkX2hhc2giOiJkZmZkNjAyMWJiMmJkNWIwYWY2NzYyOTA4MDllYzNhNTMxOTFkZDgxYzd"
     "mNzBhNGIyODY4OGEzNjIxODI5ODZmIn0.bHfsjj3tljfzTufoG3EU3p_yFrQh9CufyzRSaRMd4ss",
     OMNI_ESIGNATURE},
    {"payload added in transit",
     "https://example.com/",
     "Hello, World!",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCw"
     "iZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmx"
     "faGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc"
     "4M2U5ZDcifQ.6Fp0rVOsRr1fj9S2GidXAfkmPVofKr8_RTffC6G6r2E",
     OMNI_ESIGNATURE},
    {"port number in the URL",
     "https://example.com:8080/",
     NULL,
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCw"
     "iZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmx"
     "faGFzaCI6IjA3Zjc4NjFhNjliMTNjMjI5YzZhZTU5NmQxOThiMjc2M2IwNTRjZjVlMDAwZDczNmQxYzQ4MTAyZDc"
     "3MGNmZmMifQ.vcpa0IicGAbpo064dOjiA2VbVOR2S5uZBEaBOP16sS8",
     OMNI_OK},
    {"special characters in the URL",
     "https://example.com/?obj%5Bfield1%5D=val1&obj%5Bfield2%5D=val2&param=value+with+spaces",
     NULL,
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCw"
     "iZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmx"
     "faGFzaCI6IjhhZmYzNzQ4ZDc4OWM0MzMzNTczZTFjMzFmZTViMDA0OTQwY2I1ZmM0NzQ2MGVkM2QwZTY1NGY3ZmM"
     "0ZTVmYWUifQ.mJBCMfEjKmN3IMuzqPXPHktWETrcu0iNdF3agE8PDyI",
     OMNI_OK},
    {"special characters in the payload",
     "https://example.com/",
     "Some text containg & < >, & and \\u0026",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCw"
     "iZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmx"
     "faGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc"
     "4M2U5ZDciLCJwYXlsb2FkX2hhc2giOiIyNDMxYmQ5Y2NiNDhlZDAxNmZhZDU2N2IwNzcxMjAzOGI1Y2RkOTQ5YWM"
     "5ZDQxZmU0NjkzZDVhMzg0NWNmN2U4In0.IQiKzeEPaO3A48lhKmBDSmxZyCESPCGxdSKFdi0dEJs",
     OMNI_OK},
    {"HS384 (accepted by the SDKs, refused here)",
     "https://example.com/",
     NULL,
     "eyJhbGciOiJIUzM4NCIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCw"
     "iZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmx"
     "faGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc"
     "4M2U5ZDcifQ.KNMW-29X77lZeuPmThmHWc_RUAvTkaDkpxIZK6mqE08v8mWKiU9Edh4QXwAJO2nv",
     OMNI_ESIGNATURE},
    {"HS512 (accepted by the SDKs, refused here)",
     "https://example.com/",
     NULL,
     "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJNZXNzYWdlQmlyZCIsIm5iZiI6MTYyNTQ3OTIwMCw"
     "iZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmx"
     "faGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc"
     "4M2U5ZDcifQ.rd6r0iMyNGnVPCwurETphE3Y8rpAyvvnUK0S8WvGUkt2E1QSRAZ7NZJZBHw1Y_Wb5W-sK9HJr_PR"
     "L2vz4jRT3Q",
     OMNI_ESIGNATURE},
    {"alg none",
     "https://example.com/",
     NULL,
     "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJNZXNzYWdlQmlyZCIsImlhdCI6MTYyNTQ3OTIwMCwi"
     "ZXhwIjoxNjI1NDc5MjYwLCJqdGkiOiI1OWEyNDRkYy1lOWFkLTRlMjMtOTc3OC0zNzFmYWEyMzhmNzIiLCJ1cmxf"
     "aGFzaCI6IjBmMTE1ZGIwNjJiN2MwZGQwMzBiMTY4NzhjOTlkZWE1YzM1NGI0OWRjMzdiMzhlYjg4NDYxNzljNzc4"
     "M2U5ZDcifQ.",
     OMNI_ESIGNATURE},
};

Test(messagebird, reference_vectors)
{
    omni_inbound *ref = fx_inbound("{\"carriers\":{\"messagebird\":{\"signingKey\":"
                                   "\"36efdd1aace2e26cd490f0d951138253bef2f7c6d34d18981da78155"
                                   "5cc4cebb\"}}}");
    omni_engine *e = fx_engine("2021-07-05T12:00:00+02:00");
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const mb_vector *v = &vectors[i];
        char h[1024];
        snprintf(h, sizeof(h), "MessageBird-Signature-JWT: %s", v->token);
        const char *headers[] = {h, NULL};
        omni_webhook *req = fx_request("POST", v->url, headers, v->payload);
        int rc = omni_inbound_verify(ref, e, CARRIER, req);
        cr_assert_eq(rc, v->want, "%s: %s (%s)", v->name, omni_status_code(rc),
                     omni_error_last_message());
        omni_webhook_free(req);
    }
    omni_engine_free(e);
    omni_inbound_free(ref);
}

/* ---- tokens signed here ------------------------------------------------------ */

static void hex_sha256(char out[65], const void *data, size_t len)
{
    uint8_t d[32];
    cr_assert_eq(omni_hash_digest(d, sizeof(d), OMNI_HASH_SHA256, data, len), OMNI_OK);
    for (size_t i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* A token over url and body; extra: more claims ("" or ",\"k\":v"), or a
 * full claims object when it starts with '{'. */
static char *sign(const char *key, const char *url, const char *body, long nbf, long exp,
                  const char *extra)
{
    char claims[2048], uh[65], ph[65];
    if (extra && extra[0] == '{') {
        snprintf(claims, sizeof(claims), "%s", extra);
    } else {
        hex_sha256(uh, url, strlen(url));
        char payload[100] = "";
        if (body && *body) {
            hex_sha256(ph, body, strlen(body));
            snprintf(payload, sizeof(payload), ",\"payload_hash\":\"%s\"", ph);
        }
        snprintf(claims, sizeof(claims),
                 "{\"iss\":\"MessageBird\",\"nbf\":%ld,\"exp\":%ld,\"jti\":\"1b7c6f52-9d1e-4f"
                 "3a-8c2b-5e6d7f8a9b0c\",\"url_hash\":\"%s\"%s%s}",
                 nbf, exp, uh, payload, extra ? extra : "");
    }
    char *tok = NULL;
    cr_assert_eq(omni_jwt_sign(&tok, NULL, "HS256", key, strlen(key), NULL, 0, claims,
                               strlen(claims)),
                 OMNI_OK, "%s", omni_error_last_message());
    return tok;
}

static omni_webhook *request_with(const char *token, const char *body)
{
    char h[2048];
    snprintf(h, sizeof(h), "MessageBird-Signature-JWT: %s", token);
    const char *headers[] = {"Host: hooks.example.com", "Content-Type: application/json", h,
                             NULL};
    return fx_request("POST", PATH, headers, body);
}

/* verify() of a freshly signed request at the engine's time `now`. */
static int check(const omni_inbound *cfg, const char *now, const char *token, const char *body)
{
    omni_engine *e = fx_engine(now);
    omni_webhook *req = request_with(token, body);
    int rc = omni_inbound_verify(cfg, e, CARRIER, req);
    omni_webhook_free(req);
    omni_engine_free(e);
    return rc;
}

static const char BODY[] = "{\"type\":\"conversation.updated\",\"conversation\":{\"id\":\"c1\"}}";

Test(messagebird, fresh_token_verifies_and_parses)
{
    char *tok = sign(KEY, URL, BODY, NBF, NBF + 60, "");
    cr_assert_eq(check(in, NOW, tok, BODY), OMNI_OK, "%s", omni_error_last_message());
    omni_webhook *req = request_with(tok, BODY);
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 0); /* conversation.* events: acknowledged */
    cJSON_Delete(res);
    omni_webhook_free(req);
    omni_free(tok);
}

Test(messagebird, nbf_and_exp_with_default_leeway)
{
    char *tok = sign(KEY, URL, BODY, NBF, NBF + 60, "");
    /* nbf 09:30:00, exp 09:31:00, leeway 5 s */
    cr_assert_eq(check(in, "2024-06-03T09:29:55Z", tok, BODY), OMNI_OK);
    cr_assert_eq(check(in, "2024-06-03T09:29:54.999Z", tok, BODY), OMNI_ESIGNATURE);
    cr_assert_eq(check(in, "2024-06-03T09:31:04.999Z", tok, BODY), OMNI_OK);
    cr_assert_eq(check(in, "2024-06-03T09:31:05Z", tok, BODY), OMNI_ESIGNATURE);
    cr_assert_str_eq(omni_error_last_code(), "SIGNATURE_INVALID");
    cr_assert_not_null(strstr(omni_error_last_message(), "expired"));
    omni_free(tok);
}

Test(messagebird, configured_leeway)
{
    omni_inbound *strict = fx_inbound("{\"carriers\":{\"messagebird\":{\"signingKey\":\"" KEY
                                      "\",\"leewaySeconds\":0}}}");
    omni_inbound *lax = fx_inbound("{\"carriers\":{\"messagebird\":{\"signingKey\":\"" KEY
                                   "\",\"leewaySeconds\":120}}}");
    char *tok = sign(KEY, URL, BODY, NBF, NBF + 60, "");
    cr_assert_eq(check(strict, "2024-06-03T09:30:00Z", tok, BODY), OMNI_OK);
    cr_assert_eq(check(strict, "2024-06-03T09:29:59.999Z", tok, BODY), OMNI_ESIGNATURE);
    cr_assert_eq(check(strict, "2024-06-03T09:31:00Z", tok, BODY), OMNI_ESIGNATURE);
    cr_assert_eq(check(lax, "2024-06-03T09:28:00Z", tok, BODY), OMNI_OK);
    cr_assert_eq(check(lax, "2024-06-03T09:32:59Z", tok, BODY), OMNI_OK);
    cr_assert_eq(check(lax, "2024-06-03T09:33:00Z", tok, BODY), OMNI_ESIGNATURE);
    omni_free(tok);
    omni_inbound_free(strict);
    omni_inbound_free(lax);
}

Test(messagebird, iat_in_the_future)
{
    char *tok = sign(KEY, URL, BODY, NBF, NBF + 60, ",\"iat\":1717407100");
    cr_assert_eq(check(in, NOW, tok, BODY), OMNI_ESIGNATURE);
    cr_assert_not_null(strstr(omni_error_last_message(), "iat"));
    omni_free(tok);
    tok = sign(KEY, URL, BODY, NBF, NBF + 60, ",\"iat\":1717407000");
    cr_assert_eq(check(in, NOW, tok, BODY), OMNI_OK);
    omni_free(tok);
    tok = sign(KEY, URL, BODY, NBF, NBF + 60, ",\"iat\":\"now\"");
    cr_assert_eq(check(in, NOW, tok, BODY), OMNI_ESIGNATURE);
    omni_free(tok);
}

Test(messagebird, url_hash_mismatch)
{
    /* signed for another path, host, scheme or query */
    static const char *const urls[] = {
        "https://hooks.example.com/webhooks/messagebird",
        "https://hooks.example.com/webhooks/messagebird?account=acme&x=1",
        "http://hooks.example.com/webhooks/messagebird?account=acme",
        "https://evil.example.com/webhooks/messagebird?account=acme",
        "https://hooks.example.com:8443/webhooks/messagebird?account=acme",
        NULL};
    for (size_t i = 0; urls[i]; i++) {
        char *tok = sign(KEY, urls[i], BODY, NBF, NBF + 60, "");
        cr_assert_eq(check(in, NOW, tok, BODY), OMNI_ESIGNATURE, "%s", urls[i]);
        cr_assert_not_null(strstr(omni_error_last_message(), "url_hash"));
        omni_free(tok);
    }
}

Test(messagebird, public_base_url_is_what_was_signed)
{
    omni_inbound *proxied = fx_inbound("{\"publicBaseUrl\":\"https://public.example.org/mb\","
                                       "\"carriers\":{\"messagebird\":{\"signingKey\":\"" KEY
                                       "\"}}}");
    char *tok = sign(KEY, "https://public.example.org/mb" PATH, BODY, NBF, NBF + 60, "");
    cr_assert_eq(check(proxied, NOW, tok, BODY), OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(check(in, NOW, tok, BODY), OMNI_ESIGNATURE);
    omni_free(tok);
    omni_inbound_free(proxied);
}

Test(messagebird, payload_hash_mismatch)
{
    char *tok = sign(KEY, URL, BODY, NBF, NBF + 60, "");
    const char other[] = "{\"type\":\"conversation.updated\",\"conversation\":{\"id\":\"c2\"}}";
    cr_assert_eq(check(in, NOW, tok, other), OMNI_ESIGNATURE);
    cr_assert_not_null(strstr(omni_error_last_message(), "payload_hash"));
    /* body removed */
    cr_assert_eq(check(in, NOW, tok, NULL), OMNI_ESIGNATURE);
    omni_free(tok);
    /* no payload_hash, but a body */
    tok = sign(KEY, URL, NULL, NBF, NBF + 60, "");
    cr_assert_eq(check(in, NOW, tok, BODY), OMNI_ESIGNATURE);
    cr_assert_eq(check(in, NOW, tok, NULL), OMNI_OK);
    omni_free(tok);
    /* upper-case hex is the same digest */
    char uh[65], ph[65], extra[400];
    hex_sha256(uh, URL, strlen(URL));
    hex_sha256(ph, BODY, strlen(BODY));
    for (char *p = ph; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 32);
    snprintf(extra, sizeof(extra),
             "{\"iss\":\"MessageBird\",\"nbf\":%d,\"exp\":%d,\"jti\":\"j\",\"url_hash\":\"%s\","
             "\"payload_hash\":\"%s\"}",
             NBF, NBF + 60, uh, ph);
    tok = sign(KEY, URL, BODY, 0, 0, extra);
    cr_assert_eq(check(in, NOW, tok, BODY), OMNI_OK);
    omni_free(tok);
    /* not hex, wrong length, not a string */
    static const char *const bad[] = {"\"zz\"", "\"0f115db062b7c0dd\"", "42", "null", NULL};
    for (size_t i = 0; bad[i]; i++) {
        snprintf(extra, sizeof(extra),
                 "{\"iss\":\"MessageBird\",\"nbf\":%d,\"exp\":%d,\"jti\":\"j\",\"url_hash\":"
                 "\"%s\",\"payload_hash\":%s}",
                 NBF, NBF + 60, uh, bad[i]);
        tok = sign(KEY, URL, BODY, 0, 0, extra);
        cr_assert_eq(check(in, NOW, tok, BODY), OMNI_ESIGNATURE, "%s", bad[i]);
        omni_free(tok);
    }
}

Test(messagebird, required_claims)
{
    char uh[65], claims[400];
    hex_sha256(uh, URL, strlen(URL));
    static const char *const fmt[] = {
        /* issuer */
        "{\"iss\":\"Messagebird\",\"nbf\":%d,\"exp\":%d,\"jti\":\"j\",\"url_hash\":\"%s\"}",
        "{\"nbf\":%d,\"exp\":%d,\"jti\":\"j\",\"url_hash\":\"%s\"}",
        /* jti */
        "{\"iss\":\"MessageBird\",\"nbf\":%d,\"exp\":%d,\"url_hash\":\"%s\"}",
        /* url_hash */
        "{\"iss\":\"MessageBird\",\"nbf\":%d,\"exp\":%d,\"jti\":\"j\",\"url\":\"%s\"}",
        /* exp */
        "{\"iss\":\"MessageBird\",\"nbf\":%d,\"ex\":%d,\"jti\":\"j\",\"url_hash\":\"%s\"}",
        NULL};
    for (size_t i = 0; fmt[i]; i++) {
        snprintf(claims, sizeof(claims), fmt[i], NBF, NBF + 60, uh);
        char *tok = sign(KEY, URL, NULL, 0, 0, claims);
        cr_assert_eq(check(in, NOW, tok, NULL), OMNI_ESIGNATURE, "%s", claims);
        omni_free(tok);
    }
    /* without nbf it is fine */
    snprintf(claims, sizeof(claims),
             "{\"iss\":\"MessageBird\",\"exp\":%d,\"jti\":\"j\",\"url_hash\":\"%s\"}", NBF + 60,
             uh);
    char *tok = sign(KEY, URL, NULL, 0, 0, claims);
    cr_assert_eq(check(in, NOW, tok, NULL), OMNI_OK, "%s", omni_error_last_message());
    omni_free(tok);
}

Test(messagebird, wrong_key_missing_or_garbage_token)
{
    char *tok = sign("another-key", URL, BODY, NBF, NBF + 60, "");
    cr_assert_eq(check(in, NOW, tok, BODY), OMNI_ESIGNATURE);
    cr_assert_null(strstr(omni_error_last_message(), KEY));
    omni_free(tok);
    static const char *const garbage[] = {"x", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9..", NULL};
    for (size_t i = 0; garbage[i]; i++)
        cr_assert_eq(check(in, NOW, garbage[i], BODY), OMNI_ESIGNATURE, "%s", garbage[i]);

    const char *headers[] = {"Host: hooks.example.com", NULL};
    omni_webhook *req = fx_request("POST", PATH, headers, BODY);
    cr_assert_eq(omni_inbound_verify(in, engine, CARRIER, req), OMNI_ESIGNATURE);
    fx_fails(in, engine, CARRIER, req, OMNI_ESIGNATURE);
    omni_webhook_free(req);
}

Test(messagebird, unconfigured_and_verify_off)
{
    omni_webhook *req = fx_load(CARRIER, "message_created_text_sms");
    omni_inbound *none = fx_inbound("{}");
    fx_fails(none, engine, CARRIER, req, OMNI_ESIGNATURE);
    omni_inbound_free(none);
    none = fx_inbound("{\"carriers\":{\"messagebird\":{\"leewaySeconds\":5}}}");
    fx_fails(none, engine, CARRIER, req, OMNI_ESIGNATURE);
    omni_inbound_free(none);
    /* verification off: any clock, no header needed */
    omni_inbound *off = fx_inbound("{\"carriers\":{\"messagebird\":{\"verify\":false}}}");
    omni_engine *late = fx_engine("2030-01-01T00:00:00Z");
    cJSON *res = fx_ok(off, late, CARRIER, req);
    cr_assert_eq(fx_count(res), 1);
    cJSON_Delete(res);
    omni_engine_free(late);
    omni_inbound_free(off);
    omni_webhook_free(req);
}

Test(messagebird, settings_are_checked)
{
    static const char *const bad[] = {
        "{\"carriers\":{\"messagebird\":{\"signingKey\":\"\"}}}",
        "{\"carriers\":{\"messagebird\":{\"signingKey\":7}}}",
        "{\"carriers\":{\"messagebird\":{\"signingKey\":\"k\",\"leewaySeconds\":-1}}}",
        "{\"carriers\":{\"messagebird\":{\"signingKey\":\"k\",\"leewaySeconds\":3601}}}",
        "{\"carriers\":{\"messagebird\":{\"signingKey\":\"k\",\"leewaySeconds\":1.5}}}",
        "{\"carriers\":{\"messagebird\":{\"signingKey\":\"k\",\"leewaySeconds\":\"5\"}}}",
        "{\"carriers\":{\"messagebird\":{\"signingkey\":\"k\"}}}",
        NULL};
    for (size_t i = 0; bad[i]; i++) {
        omni_inbound *c = NULL;
        cr_assert_eq(omni_inbound_new(&c, bad[i], strlen(bad[i]), NULL), OMNI_ECONFIG, "%s",
                     bad[i]);
        cr_assert_not_null(strstr(omni_error_last()->details, "carriers.messagebird."));
    }
}

/* ---- parsing (the fixtures, each verified with its own token) --------------- */

Test(messagebird, every_fixture_verifies)
{
    static const char *const names[] = {
        "message_created_text_sms", "message_created_whatsapp_image", "message_created_file",
        "message_created_location", "message_updated_delivered",      "message_updated_failed",
        "message_created_sent_pending", "conversation_created",       "malformed_no_message",
        "malformed_truncated",      NULL};
    fx_assert_fixtures_verify(in, engine, CARRIER, names);
}

Test(messagebird, sms_text)
{
    omni_webhook *req = fx_load(CARRIER, "message_created_text_sms");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 1);
    const cJSON *ev = fx_event(res, 0);
    char cid[OMNI_UUID_STRLEN];
    fx_correlation(cid, CARRIER, "93a1f7ba935c4ee298cb5ef952052ea7");
    fx_assert_str(ev, "kind", "message");
    fx_assert_str(ev, "correlationId", cid);
    fx_assert_str(ev, "carrier", "messagebird");
    fx_assert_str(ev, "channelType", "sms");
    fx_assert_str(ev, "senderIdentifier.userId", "9354647c5c144a2b94f4d8d1c7a0e3f1");
    /* contact.msisdn is a JSON number in the API */
    fx_assert_str(ev, "senderIdentifier.phoneNumber", "+31612345678");
    fx_assert_str(ev, "senderName", "Eva de Vries");
    fx_assert_str(ev, "recipientIdentifier.businessId", "619747f69cf940a98fb443140ce9aed2");
    fx_assert_str(ev, "recipientIdentifier.phoneNumber", "+31201234567");
    fx_assert_str(ev, "message.id", "93a1f7ba935c4ee298cb5ef952052ea7");
    fx_assert_str(ev, "message.content", "Can I reschedule my delivery to Friday?");
    fx_assert_str(ev, "message.contentType", "text");
    fx_assert_str(ev, "message.timestamp", "2024-06-03T09:30:00.880Z");
    fx_assert_str(ev, "rawPayload.type", "message.created");
    fx_assert_str(ev, "rawPayload.conversation.id", "2e15efafec384e1c82e9842075e87beb");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(messagebird, whatsapp_image_with_caption)
{
    omni_webhook *req = fx_load(CARRIER, "message_created_whatsapp_image");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 1);
    const cJSON *ev = fx_event(res, 0);
    fx_assert_str(ev, "channelType", "chat");
    fx_assert_str(ev, "senderIdentifier.userId", "b1c6f0e2a9d84e3fa7c5d2e1f0a9b8c7");
    fx_assert_str(ev, "senderIdentifier.phoneNumber", "+4915123456789");
    fx_assert_str(ev, "senderName", "Jonas Weber"); /* empty displayName: first + last */
    fx_assert_str(ev, "message.contentType", "media");
    fx_assert_str(ev, "message.content", "Scratch on the left door 🚗");
    fx_assert_str(ev, "message.mediaUrls.0",
                  "https://media.messagebird.com/v1/media/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d");
    fx_assert_str(ev, "media.0.caption", "Scratch on the left door 🚗");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(messagebird, file_without_caption)
{
    omni_webhook *req = fx_load(CARRIER, "message_created_file");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    const cJSON *ev = fx_event(res, 0);
    fx_assert_str(ev, "message.contentType", "media");
    fx_assert_str(ev, "message.content", "");
    fx_assert_str(ev, "media.0.url",
                  "https://media.messagebird.com/v1/media/7e8f9a0b-1c2d-4e3f-8a9b-0c1d2e3f4a5b");
    fx_assert_absent(ev, "media.0.caption");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(messagebird, location)
{
    omni_webhook *req = fx_load(CARRIER, "message_created_location");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    const cJSON *ev = fx_event(res, 0);
    fx_assert_str(ev, "message.contentType", "location");
    cr_assert_float_eq(fx_at(ev, "location.latitude")->valuedouble, 52.3676, 1e-9);
    cr_assert_float_eq(fx_at(ev, "location.longitude")->valuedouble, 4.9041, 1e-9);
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(messagebird, status_updates)
{
    omni_webhook *req = fx_load(CARRIER, "message_updated_delivered");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 1);
    const cJSON *ev = fx_event(res, 0);
    fx_assert_str(ev, "kind", "status");
    fx_assert_str(ev, "carrierMessageId", "e7d6c5b4a3f24e1d8c9b0a1f2e3d4c5b");
    fx_assert_str(ev, "status", "delivered");
    fx_assert_str(ev, "recipient", "+31612345678");
    fx_assert_str(ev, "timestamp", "2024-06-03T09:31:04.250Z");
    cJSON_Delete(res);
    omni_webhook_free(req);

    req = fx_load(CARRIER, "message_updated_failed");
    res = fx_ok(in, engine, CARRIER, req);
    fx_assert_str(fx_event(res, 0), "status", "failed");
    fx_assert_str(fx_event(res, 0), "recipient", "+4915123456789");
    cJSON_Delete(res);
    omni_webhook_free(req);

    req = fx_load(CARRIER, "message_created_sent_pending");
    res = fx_ok(in, engine, CARRIER, req);
    fx_assert_str(fx_event(res, 0), "status", "queued");
    cJSON_Delete(res);
    omni_webhook_free(req);
}

/* A verify-off inbound for bodies built here. */
static cJSON *parse_off(const char *body, int *rc)
{
    omni_inbound *off = fx_inbound("{\"carriers\":{\"messagebird\":{\"verify\":false}}}");
    const char *headers[] = {"Host: hooks.example.com", NULL};
    omni_webhook *req = fx_request("POST", PATH, headers, body);
    cJSON *res = fx_handle(off, engine, CARRIER, req, rc);
    omni_webhook_free(req);
    omni_inbound_free(off);
    return res;
}

Test(messagebird, status_mapping)
{
    static const char *const map[][2] = {
        {"accepted", "queued"}, {"pending", "queued"},       {"sent", "sent"},
        {"transmitted", "sent"}, {"delivered", "delivered"}, {"read", "read"},
        {"failed", "failed"},    {"rejected", "failed"},     {"unsupported", "failed"},
        {"deleted", NULL},       {"received", NULL},         {"whatever", NULL}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        char body[400];
        snprintf(body, sizeof(body),
                 "{\"type\":\"message.updated\",\"message\":{\"id\":\"m%zu\",\"direction\":"
                 "\"sent\",\"status\":\"%s\",\"to\":\"31612345678\",\"updatedDatetime\":"
                 "\"2024-06-03T09:31:00Z\"}}",
                 i, map[i][0]);
        int rc;
        cJSON *res = parse_off(body, &rc);
        cr_assert_eq(rc, OMNI_OK, "%s", map[i][0]);
        if (map[i][1]) {
            cr_assert_eq(fx_count(res), 1);
            fx_assert_str(fx_event(res, 0), "status", map[i][1]);
        } else {
            cr_assert_eq(fx_count(res), 0, "%s", map[i][0]);
        }
        cJSON_Delete(res);
    }
}

Test(messagebird, other_events_give_nothing)
{
    static const char *const bodies[] = {
        /* update of a received message (e.g. read by the agent) */
        "{\"type\":\"message.updated\",\"message\":{\"id\":\"m\",\"direction\":\"received\","
        "\"status\":\"read\"}}",
        "{\"type\":\"conversation.created\",\"conversation\":{\"id\":\"c\"}}",
        "{\"type\":\"conversation.updated\"}",
        "{\"type\":\"message.created\",\"message\":{\"id\":\"m\"}}", /* no direction */
        NULL};
    for (size_t i = 0; bodies[i]; i++) {
        int rc;
        cJSON *res = parse_off(bodies[i], &rc);
        cr_assert_eq(rc, OMNI_OK, "%s: %s", bodies[i], omni_error_last_message());
        cr_assert_eq(fx_count(res), 0);
        cJSON_Delete(res);
    }
    omni_webhook *req = fx_load(CARRIER, "conversation_created");
    cJSON *res = fx_ok(in, engine, CARRIER, req);
    cr_assert_eq(fx_count(res), 0);
    cJSON_Delete(res);
    omni_webhook_free(req);
}

Test(messagebird, sender_without_contact)
{
    int rc;
    cJSON *res = parse_off("{\"type\":\"message.created\",\"message\":{\"id\":\"m\",\"platform\":"
                           "\"sms\",\"direction\":\"received\",\"from\":\"447700900123\",\"to\":"
                           "\"abc-channel\",\"channelId\":\"ch\",\"type\":\"text\",\"content\":"
                           "{\"text\":\"hi\"}}}",
                           &rc);
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    const cJSON *ev = fx_event(res, 0);
    fx_assert_str(ev, "senderIdentifier.phoneNumber", "+447700900123");
    fx_assert_absent(ev, "senderIdentifier.userId");
    fx_assert_absent(ev, "recipientIdentifier.phoneNumber"); /* "to" is not a number */
    fx_assert_str(ev, "recipientIdentifier.businessId", "ch");
    fx_assert_absent(ev, "senderName");
    cJSON_Delete(res);

    /* a non-phone sender (e.g. a Telegram id) becomes the userId */
    res = parse_off("{\"type\":\"message.created\",\"message\":{\"id\":\"m2\",\"platform\":"
                    "\"telegram\",\"direction\":\"received\",\"from\":\"tg-8812\",\"type\":"
                    "\"text\",\"content\":{\"text\":\"hi\"}}}",
                    &rc);
    cr_assert_eq(rc, OMNI_OK);
    fx_assert_str(fx_event(res, 0), "senderIdentifier.userId", "tg-8812");
    fx_assert_str(fx_event(res, 0), "channelType", "chat");
    cJSON_Delete(res);
}

Test(messagebird, malformed)
{
    omni_webhook *req = fx_load(CARRIER, "malformed_no_message");
    fx_fails(in, engine, CARRIER, req, OMNI_EWEBHOOK);
    omni_webhook_free(req);
    req = fx_load(CARRIER, "malformed_truncated");
    fx_fails(in, engine, CARRIER, req, OMNI_EWEBHOOK);
    omni_webhook_free(req);

    static const char *const bad[] = {
        "",
        "[]",
        "{}",
        "{\"type\":1}",
        "{\"type\":\"message.created\",\"message\":[]}",
        "{\"type\":\"message.created\",\"message\":{}}",
        "{\"type\":\"message.created\",\"message\":{\"id\":\"\"}}",
        "{\"type\":\"message.created\",\"message\":{\"id\":\"m\",\"direction\":5}}",
        "{\"type\":\"message.created\",\"message\":{\"id\":\"m\",\"content\":\"hi\"}}",
        "{\"type\":\"message.created\",\"message\":{\"id\":\"m\",\"content\":{\"text\":1}}}",
        "{\"type\":\"message.created\",\"contact\":[],\"message\":{\"id\":\"m\"}}",
        "{\"type\":\"message.created\",\"message\":{\"id\":\"m\",\"direction\":\"received\","
        "\"type\":\"image\",\"content\":{\"image\":{}}}}",
        "{\"type\":\"message.created\",\"message\":{\"id\":\"m\",\"direction\":\"received\","
        "\"type\":\"location\",\"content\":{\"location\":{\"latitude\":\"52\"}}}}",
        "{\"type\":\"message.created\",\"message\":{\"id\":\"m\",\"direction\":\"received\","
        "\"type\":\"location\",\"content\":{\"location\":{\"latitude\":91,\"longitude\":0}}}}",
        NULL};
    for (size_t i = 0; bad[i]; i++) {
        int rc;
        cJSON *res = parse_off(bad[i], &rc);
        cr_assert_null(res);
        cr_assert_eq(rc, OMNI_EWEBHOOK, "%s: %s", bad[i], omni_status_code(rc));
    }
}

Test(messagebird, oversize)
{
    omni_inbound *small = fx_inbound("{\"maxBodyBytes\":256,\"carriers\":{\"messagebird\":"
                                     "{\"signingKey\":\"" KEY "\"}}}");
    omni_webhook *req = fx_load(CARRIER, "message_created_text_sms");
    cr_assert_eq(omni_inbound_verify(small, engine, CARRIER, req), OMNI_ETOOLARGE);
    fx_fails(small, engine, CARRIER, req, OMNI_ETOOLARGE);
    omni_webhook_free(req);
    omni_inbound_free(small);
}
