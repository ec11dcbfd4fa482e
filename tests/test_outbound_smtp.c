/* Tests of the outbound adapter "smtp" (lib/outbound/smtp.c), the MIME builder
 * it shares with aws-ses (lib/outbound/mime.c) and SMTP in the curl transport
 * (lib/transport/curl_smtp.c):
 *  - the golden requests of tests/data/outbound/smtp/<case>.json (method, URL,
 *    every header in order, the exact message), which an independent Python
 *    implementation produced and checked with Python's email package (the
 *    decoded subject, names, parts and attachments equal the event's);
 *  - the replies of tests/data/outbound/smtp/responses.json (RFC 5321 section
 *    4.2.3 reply codes, RFC 3463 enhanced codes, RFC 4954 section 6 AUTH
 *    replies);
 *  - every configuration and build error, header injection included;
 *  - MIME properties (RFC 2045 quoted-printable lines, RFC 2047 encoded-word
 *    lines, boundaries never in the content, deterministic Message-ID);
 *  - end to end through the curl transport against a real SMTP server on
 *    127.0.0.1 (tests/support/smtp_server.c): the delivered envelope and data
 *    equal the built request, AUTH, every refusal class, a stalled server
 *    (OMNI_ETIMEOUT), a closed connection (OMNI_ETRANSPORT), refused
 *    connections, TLS failures and the transport's own request checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>

#include <omni/omni.h>

#include "smtp_server.h"
#include "golden.h"

#define NOW_MS 1714564800000LL /* 2024-05-01T12:00:00Z */
#define PASSWORD "smtp-test-password"

static omni_outbound *ob_new(const char *config)
{
    omni_outbound *ob = NULL;
    int rc = omni_outbound_new(&ob, config, strlen(config));
    cr_assert_eq(rc, OMNI_OK, "config %s: %s", config, omni_error_last_message());
    return ob;
}

static omni_http_request *build(const omni_outbound *ob, const char *event, int64_t now)
{
    omni_http_request *req = NULL;
    int rc = omni_outbound_build(&req, ob, "smtp", event, strlen(event), now);
    cr_assert_eq(rc, OMNI_OK, "%s: %s", event, omni_error_last_message());
    return req;
}

/* The result of a response for smtp, parsed. */
static cJSON *parse_result(const omni_outbound *ob, const omni_http_response *resp)
{
    char *out = NULL;
    size_t len = 0;
    cr_assert_eq(omni_outbound_parse(&out, &len, ob, "smtp", resp, NOW_MS), OMNI_OK);
    cr_assert_eq(strlen(out), len);
    cJSON *j = cJSON_Parse(out);
    cr_assert(j, "not JSON: %s", out);
    cr_assert_null(strstr(out, PASSWORD));
    omni_free(out);
    return j;
}

static const char *error_code(const cJSON *result)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(result, "error");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    return cJSON_IsString(c) ? c->valuestring : "";
}

static int retryable(const cJSON *result)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(result, "error");
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "retryable"));
}

/* ---- golden requests ------------------------------------------------------------ */

/* Each golden request also survives its JSON form (smtp URLs included). */
static void check_json_round_trip(const char *file)
{
    char why[512];
    cJSON *g = golden_load("outbound/smtp", file, why, sizeof why);
    cr_assert(g, "%s", why);
    char *config = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(g, "config"));
    char *event = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(g, "event"));
    omni_outbound *ob = ob_new(config);
    omni_http_request *req = build(ob, event, golden_now(g, NULL));
    char *json = NULL;
    size_t jn = 0;
    cr_assert_eq(omni_http_request_to_json(&json, &jn, req), OMNI_OK);
    omni_http_request *back = NULL;
    cr_assert_eq(omni_http_request_from_json(&back, json, jn), OMNI_OK, "%s",
                 omni_error_last_message());
    cr_assert_str_eq(omni_http_request_url(back), omni_http_request_url(req));
    cr_assert_str_eq(omni_http_request_body(back, NULL), omni_http_request_body(req, NULL));
    omni_http_request_free(back);
    omni_free(json);
    omni_http_request_free(req);
    omni_outbound_free(ob);
    cJSON_free(config);
    cJSON_free(event);
    cJSON_Delete(g);
}

Test(outbound_smtp, golden_requests)
{
    char why[4096];
    int n = golden_outbound_requests("smtp", 1, why, sizeof why);
    cr_assert_geq(n, 6, "%s", why);
    char names[64][128];
    cr_assert_eq(golden_list("outbound/smtp", NULL, names, 64), n);
    for (int i = 0; i < n; i++)
        check_json_round_trip(names[i]);
}

Test(outbound_smtp, carriers_list)
{
    int found = 0;
    for (const char *const *c = omni_outbound_carriers(); *c; c++)
        found |= strcmp(*c, "smtp") == 0;
    cr_assert(found);
}

/* ---- responses ------------------------------------------------------------------- */

static const char *const CONFIG =
    "{\"smtp\":{\"url\":\"smtps://smtp.example.com:465\",\"username\":\"mailer\","
    "\"password\":\"" PASSWORD "\",\"from\":{\"email\":\"support@example.com\","
    "\"name\":\"Acme Support\"}}}";

Test(outbound_smtp, responses)
{
    static const char *const secrets[] = {PASSWORD, NULL};
    char why[4096];
    int n = golden_outbound_responses("smtp", CONFIG, secrets, "2024-05-01T12:00:00Z", why,
                                      sizeof why);
    cr_assert_geq(n, 40, "%s", why);
}

/* Replies of arbitrary bytes still give valid results: ill-formed UTF-8 is
 * cleaned, long replies are cut, a long queue id is not taken. */
Test(outbound_smtp, responses_odd_bytes)
{
    omni_outbound *ob = ob_new(CONFIG);
    omni_http_response *resp = NULL;
    cr_assert_eq(omni_http_response_new(&resp), OMNI_OK);
    const char *bad = "550 5.1.1 bad \xff\xfe user \xc3(\r\n";
    omni_http_response_set_status(resp, 550);
    omni_http_response_set_body(resp, bad, strlen(bad));
    cJSON *r = parse_result(ob, resp);
    cr_assert_str_eq(error_code(r), "INVALID_RECIPIENT");
    cJSON_Delete(r);

    char big[4096];
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "250 queued as ", 14);
    omni_http_response_set_status(resp, 250);
    omni_http_response_set_body(resp, big, strlen(big));
    r = parse_result(ob, resp);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "success")));
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r, "carrierMessageId"));
    cJSON_Delete(r);

    memcpy(big, "554 ", 4);
    omni_http_response_set_status(resp, 554);
    omni_http_response_set_body(resp, big, strlen(big));
    r = parse_result(ob, resp);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r, "error"), "message");
    cr_assert(strlen(msg->valuestring) < 600);
    cJSON_Delete(r);

    /* a reply with a NUL byte in it */
    omni_http_response_set_status(resp, 250);
    omni_http_response_set_body(resp, "250 id=A\0B", 10);
    r = parse_result(ob, resp);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "carrierMessageId")->valuestring, "A");
    cJSON_Delete(r);
    omni_http_response_free(resp);
    omni_outbound_free(ob);
}

/* ---- configuration errors --------------------------------------------------------- */

static void config_fails(const char *smtp_member, const char *path)
{
    char config[2048];
    snprintf(config, sizeof(config), "{\"smtp\":%s}", smtp_member);
    omni_outbound *ob = (omni_outbound *)1;
    int rc = omni_outbound_new(&ob, config, strlen(config));
    cr_assert_eq(rc, OMNI_ECONFIG, "%s -> %d %s", config, rc, omni_error_last_message());
    cr_assert_null(ob);
    const char *msg = omni_error_last_message();
    cr_assert(strstr(msg, path), "%s: message \"%s\" should name %s", config, msg, path);
    cr_assert_null(strstr(msg, "s3cret"), "%s", msg);
    char *json = NULL;
    size_t n = 0;
    cr_assert_eq(omni_error_last_json(&json, &n), OMNI_OK);
    cr_assert(strstr(json, "\"path\""), "%s", json);
    omni_free(json);
}

#define FROM "\"from\":{\"email\":\"a@example.com\"}"
#define URL "\"url\":\"smtps://smtp.example.com\""

Test(outbound_smtp, config_errors)
{
    config_fails("{" FROM "}", "smtp.url");
    config_fails("{\"url\":7," FROM "}", "smtp.url");
    config_fails("{\"url\":\"\"," FROM "}", "smtp.url");
    static const char *const bad_urls[] = {
        "https://smtp.example.com",    "smtp:/smtp.example.com",
        "smtp://",                     "smtp://:25",
        "smtp://host:0",               "smtp://host:65536",
        "smtp://host:",                "smtp://host:25x",
        "smtp://user:pw@host",         "smtp://host/a/b",
        "smtp://host/?x=1",            "smtp://host#f",
        "smtp://ho st",                "smtp://[::1",
        "smtp://[]:25",                "smtp://host/helo_domain",
        "ftp://host",                  "smtps://host/x%20y"};
    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        char m[512];
        snprintf(m, sizeof(m), "{\"url\":\"%s\"," FROM "}", bad_urls[i]);
        config_fails(m, "smtp.url");
    }
    char longurl[1200] = "{\"url\":\"smtp://";
    memset(longurl + strlen(longurl), 'a', 1030);
    strcpy(longurl + 15 + 1030, "\"," FROM "}");
    config_fails(longurl, "smtp.url");
    config_fails("{" URL ",\"username\":\"u\"," FROM "}", "smtp.password");
    config_fails("{" URL ",\"password\":\"s3cret\"," FROM "}", "smtp.username");
    config_fails("{" URL ",\"username\":\"u:v\",\"password\":\"s3cret\"," FROM "}",
                 "smtp.username");
    config_fails("{" URL ",\"username\":\"\",\"password\":\"s3cret\"," FROM "}", "smtp.username");
    config_fails("{" URL ",\"username\":5,\"password\":\"s3cret\"," FROM "}", "smtp.username");
    config_fails("{" URL ",\"username\":\"u\",\"password\":7," FROM "}", "smtp.password");
    config_fails("{" URL ",\"username\":\"u\",\"password\":\"\"," FROM "}", "smtp.password");
    config_fails("{" URL ",\"username\":\"u\",\"password\":{\"env\":\"OMNI_TEST_SURELY_UNSET\"},"
                 FROM "}",
                 "OMNI_TEST_SURELY_UNSET");
    config_fails("{" URL ",\"tls\":\"maybe\"," FROM "}", "smtp.tls");
    config_fails("{" URL ",\"tls\":true," FROM "}", "smtp.tls");
    config_fails("{" URL ",\"tls\":\"none\"," FROM "}", "smtp.tls"); /* smtps */
    config_fails("{\"url\":\"smtp://smtp.example.com:587\",\"tls\":\"none\"," FROM "}",
                 "smtp.tls");
    config_fails("{\"url\":\"smtp://127.0.0.2\",\"tls\":\"none\"," FROM "}", "smtp.tls");
    config_fails("{\"url\":\"smtp://localhost.example.com\",\"tls\":\"none\"," FROM "}",
                 "smtp.tls");
    config_fails("{" URL "}", "smtp.from");
    config_fails("{" URL ",\"from\":\"a@example.com\"}", "smtp.from");
    config_fails("{" URL ",\"from\":{}}", "smtp.from.email");
    config_fails("{" URL ",\"from\":{\"email\":7}}", "smtp.from.email");
    static const char *const bad_from[] = {"nobody", "a@b@c", "a b@c.d", "<a@b.c>",
                                           "a@b.c\\r\\nBcc: x@y.z", ".a@b.c", "a..b@c.d",
                                           "a@-", "a@b..c", "\\u00e9@b.c", "a@[1.2.3.4]",
                                           "\\\"q\\\"@b.c"};
    for (size_t i = 0; i < sizeof(bad_from) / sizeof(bad_from[0]); i++) {
        char m[512];
        snprintf(m, sizeof(m), "{" URL ",\"from\":{\"email\":\"%s\"}}", bad_from[i]);
        config_fails(m, "smtp.from.email");
    }
    config_fails("{" URL ",\"from\":{\"email\":\"a@b.c\",\"name\":\"A\\r\\nBcc: x@y.z\"}}",
                 "smtp.from.name");
    config_fails("{" URL ",\"from\":{\"email\":\"a@b.c\",\"name\":\"A\\u0007\"}}",
                 "smtp.from.name");
    config_fails("{" URL ",\"from\":{\"email\":\"a@b.c\",\"name\":\"\"}}", "smtp.from.name");
    config_fails("{" URL ",\"from\":{\"email\":\"a@b.c\",\"name\":[]}}", "smtp.from.name");
    config_fails("{" URL ",\"from\":{\"email\":\"a@b.c\",\"nick\":\"x\"}}", "smtp.from.nick");
    config_fails("{" URL "," FROM ",\"replyTo\":\"nope\"}", "smtp.replyTo");
    config_fails("{" URL "," FROM ",\"replyTo\":\"a@b.c\\nX: y\"}", "smtp.replyTo");
    config_fails("{" URL "," FROM ",\"replyTo\":1}", "smtp.replyTo");
    config_fails("{" URL "," FROM ",\"port\":25}", "smtp.port");
    /* a long name, a long address */
    char name[400] = "{" URL ",\"from\":{\"email\":\"a@b.c\",\"name\":\"";
    size_t k = strlen(name);
    memset(name + k, 'n', 257);
    strcpy(name + k + 257, "\"}}");
    config_fails(name, "smtp.from.name");
    char addr[400] = "{" URL ",\"from\":{\"email\":\"";
    k = strlen(addr);
    memset(addr + k, 'l', 65);
    strcpy(addr + k + 65, "@example.com\"}}");
    config_fails(addr, "smtp.from.email");
}

Test(outbound_smtp, config_accepted)
{
    static const char *const ok[] = {
        "{\"smtp\":{\"url\":\"smtp://localhost:2525\",\"tls\":\"none\"," FROM "}}",
        "{\"smtp\":{\"url\":\"SMTP://[::1]:25/\",\"tls\":\"none\"," FROM "}}",
        "{\"smtp\":{\"url\":\"smtp://127.0.0.1/helo.example.com\",\"tls\":\"none\"," FROM "}}",
        "{\"smtp\":{\"url\":\"smtps://[2001:db8::1]:465\",\"tls\":\"required\"," FROM "}}",
        "{\"smtp\":{\"url\":\"smtp://mail.example.com\",\"from\":{\"email\":"
        "\"o'brien+x@mail.example.com\",\"name\":\"O'Brien\"},\"replyTo\":\"r@e.io\"}}",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        omni_outbound_free(ob_new(ok[i]));
    setenv("OMNI_TEST_SMTP_PASSWORD", PASSWORD, 1);
    omni_outbound *ob =
        ob_new("{\"smtp\":{" URL ",\"username\":\"u\",\"password\":{\"env\":"
               "\"OMNI_TEST_SMTP_PASSWORD\"}," FROM "}}");
    omni_http_request *req = build(ob, "{\"recipient\":{\"channelIdentifier\":\"x@y.z\"},"
                                       "\"message\":{\"subject\":\"s\",\"content\":\"c\"}}",
                                   NOW_MS);
    /* base64("u:smtp-test-password") */
    cr_assert_str_eq(omni_http_request_header(req, "Authorization"),
                     "Basic dTpzbXRwLXRlc3QtcGFzc3dvcmQ=");
    omni_http_request_free(req);
    omni_outbound_free(ob);
}

/* ---- build errors ------------------------------------------------------------------- */

static void build_fails(const omni_outbound *ob, const char *to, const char *message, int want,
                        const char *needle)
{
    char ev[8192];
    snprintf(ev, sizeof(ev),
             "{\"correlationId\":\"c1\",\"recipient\":{\"channelIdentifier\":\"%s\"},"
             "\"message\":%s}",
             to, message);
    omni_http_request *req = (omni_http_request *)1;
    int rc = omni_outbound_build(&req, ob, "smtp", ev, strlen(ev), NOW_MS);
    cr_assert_eq(rc, want, "%s %s -> %d (%s)", to, message, rc, omni_error_last_message());
    cr_assert_null(req);
    const char *msg = omni_error_last_message();
    if (needle)
        cr_assert(strstr(msg, needle), "%s: message \"%s\" should name %s", message, msg, needle);
    cr_assert_null(strstr(msg, PASSWORD));
}

#define ATT(f) "{\"subject\":\"s\",\"content\":\"c\",\"attachments\":" f "}"
#define OKMSG "{\"subject\":\"s\",\"content\":\"c\"}"

Test(outbound_smtp, build_errors)
{
    omni_outbound *ob = ob_new(CONFIG);
    const char *to = "ada@example.com";
    static const char *const bad_to[] = {
        "ada",         "@example.com",   "ada@",         "a@b@c",          "a b@c.d",
        "<a@b.c>",     "a@b.c,d@e.f",    "\\u00e9@b.c",  "+14155550100",   "a@b.c\\r\\nx",
        "a@b.c\\n",    "\\\"a b\\\"@c.d", "a.@b.c",       "a@b.c.",         "a@b_c.d",
        "a(x)@b.c",    "a@b.c>",         "a;b@c.d",      "a\\\\b@c.d"};
    for (size_t i = 0; i < sizeof(bad_to) / sizeof(bad_to[0]); i++)
        build_fails(ob, bad_to[i], OKMSG, OMNI_EINVAL, "recipient.channelIdentifier");
    char longto[300];
    memset(longto, 'a', 60);
    longto[60] = '@';
    memset(longto + 61, 'b', 200);
    strcpy(longto + 261, ".com");
    build_fails(ob, longto, OKMSG, OMNI_EINVAL, "recipient.channelIdentifier");
    build_fails(ob, "a@b.c\\r\\nRCPT TO:<x@y.z>", OKMSG, OMNI_EINVAL, "CR or LF");
    build_fails(ob, to, "{\"content\":\"c\"}", OMNI_EINVAL, "message.subject");
    build_fails(ob, to, "{\"subject\":\"\",\"content\":\"c\"}", OMNI_EINVAL, "message.subject");
    build_fails(ob, to, "{\"subject\":7,\"content\":\"c\"}", OMNI_EINVAL, "message.subject");
    build_fails(ob, to, "{\"subject\":\"a\\r\\nBcc: x@y.z\",\"content\":\"c\"}", OMNI_EINVAL,
                "message.subject must not hold CR or LF");
    build_fails(ob, to, "{\"subject\":\"a\\nb\",\"content\":\"c\"}", OMNI_EINVAL,
                "message.subject must not hold CR or LF");
    build_fails(ob, to, "{\"subject\":\"a\\tb\",\"content\":\"c\"}", OMNI_EINVAL,
                "message.subject must not hold control characters");
    build_fails(ob, to, "{\"subject\":\"a\\u007fb\",\"content\":\"c\"}", OMNI_EINVAL,
                "message.subject");
    char subj[1100];
    memset(subj, 'x', sizeof(subj));
    memcpy(subj, "{\"content\":\"c\",\"subject\":\"", 26);
    strcpy(subj + 26 + 999, "\"}");
    build_fails(ob, to, subj, OMNI_EINVAL, "message.subject");
    build_fails(ob, to, "{\"subject\":\"s\"}", OMNI_EINVAL, "message.text");
    build_fails(ob, to, "{\"subject\":\"s\",\"text\":\"\",\"html\":\"\"}", OMNI_EINVAL,
                "message.text");
    build_fails(ob, to, "{\"subject\":\"s\",\"text\":1}", OMNI_EINVAL, "message.text");
    build_fails(ob, to, "{\"subject\":\"s\",\"html\":[]}", OMNI_EINVAL, "message.html");
    build_fails(ob, to, "{\"subject\":\"s\",\"content\":{}}", OMNI_EINVAL, "message.content");
    build_fails(ob, to, "{\"subject\":\"s\",\"content\":\"c\",\"contentType\":\"template\"}",
                OMNI_EINVAL, "message.contentType");
    build_fails(ob, to, "{\"subject\":\"s\",\"content\":\"c\",\"contentType\":\"interactive\"}",
                OMNI_EINVAL, "message.contentType");
    build_fails(ob, to, "{\"subject\":\"s\",\"content\":\"c\",\"templateId\":\"welcome\"}",
                OMNI_EINVAL, "message.templateId");
    build_fails(ob, to, ATT("{}"), OMNI_EINVAL, "message.attachments");
    build_fails(ob, to, ATT("[1]"), OMNI_EINVAL, "message.attachments[0]");
    build_fails(ob, to, ATT("[{\"contentBase64\":\"QQ==\"}]"), OMNI_EINVAL,
                "message.attachments[0].filename");
    build_fails(ob, to, ATT("[{\"filename\":\"a\\r\\nX-Evil: 1\",\"contentBase64\":\"QQ==\"}]"),
                OMNI_EINVAL, "message.attachments[0].filename must not hold CR or LF");
    build_fails(ob, to, ATT("[{\"filename\":\"a\\\"b\",\"contentBase64\":\"QQ==\"}]"),
                OMNI_EINVAL, "message.attachments[0].filename");
    build_fails(ob, to, ATT("[{\"filename\":\"caf\\u00e9\",\"contentBase64\":\"QQ==\"}]"),
                OMNI_EINVAL, "message.attachments[0].filename");
    build_fails(ob, to, ATT("[{\"filename\":7,\"contentBase64\":\"QQ==\"}]"), OMNI_EINVAL,
                "message.attachments[0].filename");
    build_fails(ob, to, ATT("[{\"filename\":\"a\"}]"), OMNI_EINVAL,
                "message.attachments[0].contentBase64");
    build_fails(ob, to,
                ATT("[{\"filename\":\"a\",\"contentBase64\":\"QQ==\"},"
                    "{\"filename\":\"b\",\"contentBase64\":\"QQ=\"}]"),
                OMNI_EINVAL, "message.attachments[1].contentBase64");
    build_fails(ob, to,
                ATT("[{\"filename\":\"a\",\"contentType\":\"text/plain\\r\\nX: y\","
                    "\"contentBase64\":\"QQ==\"}]"),
                OMNI_EINVAL, "message.attachments[0].contentType");
    build_fails(ob, to,
                ATT("[{\"filename\":\"a\",\"contentType\":\"pdf\",\"contentBase64\":\"QQ==\"}]"),
                OMNI_EINVAL, "message.attachments[0].contentType");
    char many[8192] = "[";
    for (int i = 0; i < 101; i++)
        strcat(many, i ? ",{}" : "{}");
    strcat(many, "]");
    char m[8300];
    snprintf(m, sizeof(m), ATT("%s"), many);
    build_fails(ob, to, m, OMNI_EINVAL, "message.attachments");
    /* correlationId of the wrong type */
    const char *ev = "{\"correlationId\":5,\"recipient\":{\"channelIdentifier\":\"a@b.c\"},"
                     "\"message\":" OKMSG "}";
    omni_http_request *req = (omni_http_request *)1;
    cr_assert_eq(omni_outbound_build(&req, ob, "smtp", ev, strlen(ev), NOW_MS), OMNI_EINVAL);
    cr_assert_null(req);
    cr_assert(strstr(omni_error_last_message(), "correlationId"));
    /* a time the Date header cannot show */
    ev = "{\"recipient\":{\"channelIdentifier\":\"a@b.c\"},\"message\":" OKMSG "}";
    cr_assert_eq(omni_outbound_build(&req, ob, "smtp", ev, strlen(ev), -1), OMNI_ETIME);
    cr_assert_null(req);
    cr_assert_eq(omni_outbound_build(&req, ob, "smtp", ev, strlen(ev), 253402300800000LL),
                 OMNI_ETIME);
    req = build(ob, ev, 253402300799999LL);
    cr_assert(strstr(omni_http_request_body(req, NULL), "Date: Fri, 31 Dec 9999 23:59:59 +0000"));
    omni_http_request_free(req);
    req = build(ob, ev, 0);
    cr_assert(strstr(omni_http_request_body(req, NULL), "Date: Thu, 01 Jan 1970 00:00:00 +0000"));
    omni_http_request_free(req);
    omni_outbound_free(ob);
}

/* The aws-ses adapter checks the same header fields with the same builder. */
Test(outbound_smtp, ses_header_injection)
{
    omni_outbound *ob = ob_new("{\"aws-ses\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AKID\","
                               "\"secretAccessKey\":\"" PASSWORD "\","
                               "\"fromEmailAddress\":\"a@example.com\"}}");
    const char *ev = "{\"recipient\":{\"channelIdentifier\":\"a@b.c\"},\"message\":{\"subject\":"
                     "\"x\\r\\nBcc: y@z.w\",\"content\":\"c\",\"attachments\":[{\"filename\":"
                     "\"f\",\"contentBase64\":\"QQ==\"}]}}";
    omni_http_request *req = (omni_http_request *)1;
    cr_assert_eq(omni_outbound_build(&req, ob, "aws-ses", ev, strlen(ev), NOW_MS), OMNI_EINVAL);
    cr_assert(strstr(omni_error_last_message(), "message.subject must not hold CR or LF"));
    ev = "{\"recipient\":{\"channelIdentifier\":\"a@b.c\"},\"message\":{\"subject\":\"s\","
         "\"content\":\"c\",\"attachments\":[{\"filename\":\"f\\nX: 1\",\"contentBase64\":"
         "\"QQ==\"}]}}";
    cr_assert_eq(omni_outbound_build(&req, ob, "aws-ses", ev, strlen(ev), NOW_MS), OMNI_EINVAL);
    cr_assert(strstr(omni_error_last_message(), "filename must not hold CR or LF"));
    /* raw messages need a Date */
    ev = "{\"recipient\":{\"channelIdentifier\":\"a@b.c\"},\"message\":{\"subject\":\"s\","
         "\"content\":\"c\",\"attachments\":[{\"filename\":\"f\",\"contentBase64\":\"QQ==\"}]}}";
    cr_assert_eq(omni_outbound_build(&req, ob, "aws-ses", ev, strlen(ev), 253402300800000LL),
                 OMNI_ETIME);
    omni_outbound_free(ob);
}

/* ---- MIME properties ------------------------------------------------------------- */

static char *message_of(const omni_outbound *ob, const char *cid, const char *to,
                        const char *message, int64_t now)
{
    char ev[16384];
    if (cid)
        snprintf(ev, sizeof(ev),
                 "{\"correlationId\":\"%s\",\"recipient\":{\"channelIdentifier\":\"%s\"},"
                 "\"message\":%s}",
                 cid, to, message);
    else
        snprintf(ev, sizeof(ev), "{\"recipient\":{\"channelIdentifier\":\"%s\"},\"message\":%s}",
                 to, message);
    omni_http_request *req = build(ob, ev, now);
    char *body = strdup(omni_http_request_body(req, NULL));
    omni_http_request_free(req);
    return body;
}

static void header_value(char *out, size_t cap, const char *msg, const char *name)
{
    const char *p = strstr(msg, name);
    cr_assert(p, "no %s in\n%s", name, msg);
    p += strlen(name);
    size_t n = strcspn(p, "\r");
    snprintf(out, cap, "%.*s", (int)n, p);
}

/* Every line ends with CRLF, is at most 998 bytes, and lines with encoded-words
 * at most 76 (RFC 5322 section 2.1.1, RFC 2047 section 2); quoted-printable
 * lines at most 76 (RFC 2045 section 6.7). */
static void check_lines(const char *msg)
{
    size_t n = strlen(msg);
    cr_assert(n >= 2 && memcmp(msg + n - 2, "\r\n", 2) == 0);
    int in_qp = 0;
    for (const char *p = msg; *p;) {
        const char *e = strstr(p, "\r\n");
        cr_assert(e, "a line without CRLF");
        size_t len = (size_t)(e - p);
        cr_assert(!memchr(p, '\n', len) && !memchr(p, '\r', len), "bare CR or LF");
        cr_assert_leq(len, 998);
        if (memmem(p, len, "=?UTF-8?B?", 10))
            cr_assert_leq(len, 76, "%.*s", (int)len, p);
        if (in_qp && len && p[0] != '-')
            cr_assert_leq(len, 76, "%.*s", (int)len, p);
        if (len >= 42 && memmem(p, len, "quoted-printable", 16))
            in_qp = 1;
        else if (len > 2 && p[0] == '-' && p[1] == '-')
            in_qp = 0;
        p = e + 2;
    }
}

Test(outbound_smtp, mime_properties)
{
    omni_outbound *ob = ob_new(CONFIG);
    /* boundaries from correlationId; "=_" in a text part forces quoted-printable,
     * so no line of a part can be a delimiter */
    char *m1 = message_of(ob, "b1", "x@y.z",
                          "{\"subject\":\"s\",\"text\":\"--=_omni_mixed_x\\n=_\",\"html\":\"h\","
                          "\"attachments\":[{\"filename\":\"f\",\"contentBase64\":\"QUJD\"}]}",
                          NOW_MS);
    char *m2 = message_of(ob, "b1", "x@y.z",
                          "{\"subject\":\"s\",\"text\":\"--=_omni_mixed_x\\n=_\",\"html\":\"h\","
                          "\"attachments\":[{\"filename\":\"f\",\"contentBase64\":\"QUJD\"}]}",
                          NOW_MS + 999);
    char *m3 = message_of(ob, "b2", "x@y.z",
                          "{\"subject\":\"s\",\"text\":\"t\",\"html\":\"h\","
                          "\"attachments\":[{\"filename\":\"f\",\"contentBase64\":\"QUJD\"}]}",
                          NOW_MS);
    cr_assert_str_eq(m1, m2);
    cr_assert(strstr(m1, "--=3D_omni_mixed_x\r\n=3D_"), "%s", m1);
    char b1[128], b3[128];
    header_value(b1, sizeof(b1), m1, "multipart/mixed; boundary=\"");
    header_value(b3, sizeof(b3), m3, "multipart/mixed; boundary=\"");
    cr_assert_str_neq(b1, b3);
    check_lines(m1);
    /* Message-ID: the same event gives the same id; another correlationId or
     * recipient another; without correlationId the time counts */
    char id1[128], id2[128], id3[128], id4[128], id5[128];
    char *a = message_of(ob, "m1", "x@y.z", OKMSG, NOW_MS);
    char *b = message_of(ob, "m1", "x@y.z", OKMSG, NOW_MS + 5000);
    char *c = message_of(ob, "m1", "w@y.z", OKMSG, NOW_MS);
    char *d = message_of(ob, NULL, "x@y.z", OKMSG, NOW_MS);
    char *e = message_of(ob, NULL, "x@y.z", OKMSG, NOW_MS + 1);
    header_value(id1, sizeof(id1), a, "Message-ID: ");
    header_value(id2, sizeof(id2), b, "Message-ID: ");
    header_value(id3, sizeof(id3), c, "Message-ID: ");
    header_value(id4, sizeof(id4), d, "Message-ID: ");
    header_value(id5, sizeof(id5), e, "Message-ID: ");
    cr_assert_str_eq(id1, id2);
    cr_assert_str_neq(id1, id3);
    cr_assert_str_neq(id4, id5);
    cr_assert_eq(strlen(id1), 1 + 32 + 1 + strlen("example.com") + 1, "%s", id1);
    cr_assert(strstr(id1, "@example.com>"));
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
    /* long lines, a long unbreakable subject, non-ASCII everywhere */
    char big[6000];
    strcpy(big, "{\"subject\":\"");
    size_t k = strlen(big);
    memset(big + k, 'S', 300); /* no space to fold at: encoded-words */
    k += 300;
    strcpy(big + k, "\",\"text\":\"");
    k = strlen(big);
    for (int i = 0; i < 1200; i++)
        big[k++] = i % 7 ? 'a' : ' ';
    strcpy(big + k, "\\n.leading dot\\n\",\"html\":\"\\u00fc\\u20ac \\t\\n\"}");
    char *l = message_of(ob, "long", "x@y.z", big, NOW_MS);
    check_lines(l);
    cr_assert(strstr(l, "Subject: =?UTF-8?B?"));
    cr_assert(strstr(l, "=C3=BC=E2=82=AC =09\r\n"), "%s", l);
    free(l);
    /* an ASCII subject folds at spaces to 78 columns */
    char *f = message_of(ob, "fold", "x@y.z",
                         "{\"subject\":\"one two three four five six seven eight nine ten eleven "
                         "twelve thirteen fourteen fifteen sixteen\",\"content\":\"c\"}",
                         NOW_MS);
    cr_assert(strstr(f, "Subject: one two three four five six seven eight nine ten eleven "
                        "twelve\r\n thirteen fourteen fifteen sixteen\r\n"),
              "%s", f);
    check_lines(f);
    free(f);
    free(m1);
    free(m2);
    free(m3);
    omni_outbound_free(ob);
}

/* ---- the transport: request checks --------------------------------------------------- */

static omni_transport *curl_transport(unsigned timeout_ms)
{
    char opts[64];
    snprintf(opts, sizeof(opts), "{\"timeoutMs\":%u}", timeout_ms);
    omni_transport *tp = NULL;
    cr_assert_eq(omni_transport_curl_new(&tp, opts, strlen(opts)), OMNI_OK, "%s",
                 omni_error_last_message());
    return tp;
}

static omni_http_request *hand_request(const char *method, const char *url)
{
    omni_http_request *req = NULL;
    cr_assert_eq(omni_http_request_new(&req, method, url), OMNI_OK, "%s",
                 omni_error_last_message());
    return req;
}

static void add(omni_http_request *req, const char *name, const char *value)
{
    cr_assert_eq(omni_http_request_add_header(req, name, value), OMNI_OK);
}

static void send_fails(omni_transport *tp, omni_http_request *req, int want, const char *needle)
{
    omni_http_response *resp = NULL; /* set only on OMNI_OK */
    int rc = omni_transport_send(tp, req, &resp);
    cr_assert_eq(rc, want, "-> %d %s", rc, omni_error_last_message());
    cr_assert_null(resp);
    if (needle)
        cr_assert(strstr(omni_error_last_message(), needle), "%s", omni_error_last_message());
    cr_assert_null(strstr(omni_error_last_message(), "c2VjcmV0"));
    omni_http_request_free(req);
}

Test(outbound_smtp, http_request_urls)
{
    omni_http_request *req = NULL;
    cr_assert_eq(omni_http_request_new(&req, "SEND", "smtp://h:25"), OMNI_OK);
    omni_http_request_free(req);
    cr_assert_eq(omni_http_request_new(&req, "SEND", "SMTPS://h/x"), OMNI_OK);
    omni_http_request_free(req);
    cr_assert_eq(omni_http_request_new(&req, "SEND", "smtp://u:p@h"), OMNI_EINVAL);
    cr_assert_eq(omni_http_request_new(&req, "SEND", "smtp:h"), OMNI_EINVAL);
    cr_assert_eq(omni_http_request_new(&req, "SEND", "smtpx://h"), OMNI_EINVAL);
    cr_assert_eq(omni_http_request_new(&req, "SEND", "ftp://h"), OMNI_EINVAL);
    cr_assert(strstr(omni_error_last_message(), "smtp://"));
}

Test(outbound_smtp, transport_request_checks)
{
    omni_transport *tp = curl_transport(2000);
    /* method */
    omni_http_request *r = hand_request("POST", "smtp://127.0.0.1:9");
    add(r, "Mail-From", "<a@b.c>");
    add(r, "Rcpt-To", "<d@e.f>");
    send_fails(tp, r, OMNI_EINVAL, "SEND");
    /* envelope */
    r = hand_request("SEND", "smtp://127.0.0.1:9");
    add(r, "Rcpt-To", "<d@e.f>");
    send_fails(tp, r, OMNI_EINVAL, "Mail-From");
    r = hand_request("SEND", "smtp://127.0.0.1:9");
    add(r, "Mail-From", "<a@b.c>");
    send_fails(tp, r, OMNI_EINVAL, "Rcpt-To");
    static const char *const bad_paths[] = {"a@b.c", "<a b@c.d>", "<a@b.c", "<>", "<<a@b>>",
                                            "<\xc3\xa9@b.c>"};
    for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
        r = hand_request("SEND", "smtp://127.0.0.1:9");
        add(r, "Mail-From", "<a@b.c>");
        add(r, "Rcpt-To", bad_paths[i]);
        send_fails(tp, r, OMNI_EINVAL, "Rcpt-To");
    }
    r = hand_request("SEND", "smtp://127.0.0.1:9");
    add(r, "Mail-From", "<a@b.c>");
    add(r, "Mail-From", "<a@b.c>");
    add(r, "Rcpt-To", "<d@e.f>");
    send_fails(tp, r, OMNI_EINVAL, "Mail-From");
    r = hand_request("SEND", "smtp://127.0.0.1:9");
    add(r, "Mail-From", "a@b.c");
    add(r, "Rcpt-To", "<d@e.f>");
    send_fails(tp, r, OMNI_EINVAL, "Mail-From");
    r = hand_request("SEND", "smtp://127.0.0.1:9");
    add(r, "Mail-From", "<a@b.c>");
    for (int i = 0; i < 101; i++)
        add(r, "Rcpt-To", "<d@e.f>");
    send_fails(tp, r, OMNI_EINVAL, "at most 100");
    /* TLS */
    static const char *const tls_bad[] = {"maybe", "NONE"};
    for (size_t i = 0; i < 2; i++) {
        r = hand_request("SEND", "smtp://127.0.0.1:9");
        add(r, "Mail-From", "<a@b.c>");
        add(r, "Rcpt-To", "<d@e.f>");
        add(r, "Smtp-Tls", tls_bad[i]);
        send_fails(tp, r, OMNI_EINVAL, "Smtp-Tls");
    }
    static const char *const not_loopback[] = {"smtp://192.0.2.1:25", "smtps://127.0.0.1:9",
                                               "smtp://127.0.0.10:25", "smtp://localhost.test"};
    for (size_t i = 0; i < 4; i++) {
        r = hand_request("SEND", not_loopback[i]);
        add(r, "Mail-From", "<a@b.c>");
        add(r, "Rcpt-To", "<d@e.f>");
        add(r, "Smtp-Tls", "none");
        send_fails(tp, r, OMNI_EINVAL, "Smtp-Tls none");
    }
    /* credentials: Basic only, base64 of user:password ("c2VjcmV0" is "secret") */
    static const char *const auth_bad[] = {"Bearer c2VjcmV0", "Basic c2VjcmV0",
                                           "Basic !!!!", "Basic OnNlY3JldA=="};
    for (size_t i = 0; i < 4; i++) {
        r = hand_request("SEND", "smtp://127.0.0.1:9");
        add(r, "Mail-From", "<a@b.c>");
        add(r, "Rcpt-To", "<d@e.f>");
        add(r, "Smtp-Tls", "none");
        add(r, "Authorization", auth_bad[i]);
        send_fails(tp, r, OMNI_EINVAL, "Authorization");
    }
    omni_transport_free(tp);
}

/* ---- end to end through the curl transport -------------------------------------- */

static char *config_for(const omni_test_smtp *srv, const char *extra)
{
    static char cfg[1024];
    snprintf(cfg, sizeof(cfg),
             "{\"smtp\":{\"url\":\"%s\",\"tls\":\"none\",\"from\":{\"email\":"
             "\"support@example.com\",\"name\":\"Acme Support\"}%s}}",
             omni_test_smtp_url(srv), extra);
    return cfg;
}

#define AUTH ",\"username\":\"mailer\",\"password\":\"" PASSWORD "\""

static const char *const EVENT =
    "{\"correlationId\":\"e2e-1\",\"recipient\":{\"channelIdentifier\":\"ada@example.org\","
    "\"carrier\":\"smtp\"},\"message\":{\"subject\":\"H\\u00e9llo Ada\",\"text\":\"Line one\\n"
    ".a line with a leading dot\\n..two dots\\n.\\nend\",\"html\":\"<p>Hi</p>\","
    "\"attachments\":[{\"filename\":\"a.bin\",\"contentBase64\":\"AAECAwQFBgcICQ==\"}]}}";

/* Sends EVENT built with `config` through a fresh curl transport; returns
 * the transport status and (on OMNI_OK) the parsed result. */
static int send_event(const char *config, const char *event, unsigned timeout_ms,
                      omni_http_request **req_out, cJSON **result)
{
    omni_outbound *ob = ob_new(config);
    omni_http_request *req = build(ob, event, NOW_MS);
    omni_transport *tp = curl_transport(timeout_ms);
    omni_http_response *resp = NULL;
    int rc = omni_transport_send(tp, req, &resp);
    *result = NULL;
    if (rc == OMNI_OK)
        *result = parse_result(ob, resp);
    else
        cr_assert_null(resp);
    omni_http_response_free(resp);
    omni_transport_free(tp);
    omni_outbound_free(ob);
    if (req_out)
        *req_out = req;
    else
        omni_http_request_free(req);
    return rc;
}

static omni_test_smtp *server(int require_auth)
{
    omni_test_smtp_options o = {"mailer", PASSWORD, require_auth};
    omni_test_smtp *srv = NULL;
    cr_assert_eq(omni_test_smtp_start(&srv, &o), 0);
    return srv;
}

Test(outbound_smtp, e2e_delivered)
{
    omni_test_smtp *srv = server(1);
    omni_http_request *req = NULL;
    cJSON *r = NULL;
    int rc = send_event(config_for(srv, AUTH), EVENT, 5000, &req, &r);
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    char *rs = cJSON_PrintUnformatted(r);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "success")), "%s", rs);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "status")->valuestring, "accepted");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "carrierMessageId")->valuestring,
                     "OMNI0001", "%s", rs);
    cJSON_free(rs);
    cr_assert_eq(omni_test_smtp_mail_count(srv), 1);
    const omni_test_mail *m = omni_test_smtp_mail(srv, 0);
    cr_assert_str_eq(m->auth_user, "mailer");
    cr_assert_str_eq(m->mail_from, omni_http_request_header(req, "Mail-From"));
    cr_assert_str_eq(m->mail_from, "<support@example.com>");
    cr_assert_eq(m->rcpt_count, 1);
    cr_assert_str_eq(m->rcpt[0], omni_http_request_header(req, "Rcpt-To"));
    cr_assert_str_eq(m->rcpt[0], "<ada@example.org>");
    size_t blen = 0;
    const char *body = omni_http_request_body(req, &blen);
    /* the delivered data, dot-unstuffed, is the built message byte for byte */
    cr_assert_eq(m->data_len, blen, "%zu vs %zu\n%s", m->data_len, blen, (const char *)m->data);
    cr_assert_eq(memcmp(m->data, body, blen), 0);
    cr_assert(strstr(body, "\r\n.a line with a leading dot\r\n..two dots\r\n.\r\nend\r\n"));
    /* dot-stuffing happened on the wire */
    cr_assert(omni_test_smtp_saw(srv, "AUTH PLAIN") || omni_test_smtp_saw(srv, "AUTH LOGIN"));
    cr_assert(omni_test_smtp_saw(srv, "QUIT")); /* clear-text connections are not kept */
    omni_http_request_free(req);
    cJSON_Delete(r);
    /* a second mail over a new connection */
    cr_assert_eq(send_event(config_for(srv, AUTH), EVENT, 5000, NULL, &r), OMNI_OK);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "carrierMessageId")->valuestring,
                     "OMNI0002");
    cJSON_Delete(r);
    cr_assert_eq(omni_test_smtp_connections(srv), 2);
    omni_test_smtp_stop(srv);
}

/* A request built by hand: several recipients, a large body, no AUTH, HELO
 * after a refused EHLO, and the domain of the URL's path in EHLO. */
Test(outbound_smtp, e2e_hand_request)
{
    omni_test_smtp *srv = server(0);
    omni_test_smtp_script(srv, "EHLO", OMNI_TEST_SMTP_REPLY, "502 5.5.2 no EHLO here");
    char url[128];
    snprintf(url, sizeof(url), "%s/client.example.com", omni_test_smtp_url(srv));
    omni_http_request *req = hand_request("SEND", url);
    add(req, "Mail-From", "<>");
    add(req, "Rcpt-To", "<a@example.com>");
    add(req, "Rcpt-To", "<b@example.com>");
    add(req, "Smtp-Tls", "none");
    add(req, "X-Ignored", "yes");
    size_t n = 300000;
    char *body = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        body[i] = (i % 77 == 75) ? '\r' : (i % 77 == 76) ? '\n' : (i % 77 == 0) ? '.' : 'x';
    cr_assert_eq(omni_http_request_set_body(req, body, n), OMNI_OK);
    omni_transport *tp = curl_transport(5000);
    omni_http_response *resp = NULL;
    cr_assert_eq(omni_transport_send(tp, req, &resp), OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(omni_http_response_status(resp), 250);
    cr_assert(strstr(omni_http_response_body(resp, NULL), "queued as OMNI0001"));
    const omni_test_mail *m = omni_test_smtp_mail(srv, 0);
    cr_assert_str_eq(m->helo, "client.example.com");
    cr_assert_null(m->auth_user);
    cr_assert_str_eq(m->mail_from, "<>");
    cr_assert_eq(m->rcpt_count, 2);
    cr_assert_str_eq(m->rcpt[1], "<b@example.com>");
    /* a body that does not end with CRLF gets one before the final dot */
    cr_assert_geq(m->data_len, n);
    cr_assert_eq(memcmp(m->data, body, n), 0);
    omni_http_response_free(resp);
    omni_transport_free(tp);
    omni_http_request_free(req);
    free(body);
    omni_test_smtp_stop(srv);
}

typedef struct refusal {
    const char *stage, *reply, *code, *provider_code;
    int retryable;
} refusal;

Test(outbound_smtp, e2e_refusals)
{
    static const refusal cases[] = {
        {"RCPT", "550 5.1.1 No such user", "INVALID_RECIPIENT", "550 5.1.1", 0},
        {"MAIL", "421 4.7.0 Try later", "PROVIDER_UNAVAILABLE", "421 4.7.0", 1},
        {"RCPT", "452 4.5.3 Too many recipients", "RATE_LIMITED", "452 4.5.3", 1},
        {"RCPT", "450 4.2.1 Mailbox busy", "PROVIDER_UNAVAILABLE", "450 4.2.1", 1},
        {"DATA", "554 5.5.1 No valid recipients", "PROVIDER_ERROR", "554 5.5.1", 0},
        {"DOT", "554 5.7.1 Message rejected as spam", "PROVIDER_ERROR", "554 5.7.1", 0},
        {"DOT", "552 5.3.4 Message too big", "INVALID_REQUEST", "552 5.3.4", 0},
        {"DOT", "451 4.3.0 Queue problem", "PROVIDER_UNAVAILABLE", "451 4.3.0", 1},
        {"GREETING", "554 5.3.2 No SMTP service here", "PROVIDER_ERROR", "554 5.3.2", 0},
        {"AUTH", "535 5.7.8 Authentication credentials invalid", "AUTH_FAILED", "535 5.7.8", 0},
        {"AUTH", "454 4.7.0 Temporary authentication failure", "PROVIDER_UNAVAILABLE",
         "454 4.7.0", 1},
    };
    omni_test_smtp *srv = server(0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const refusal *c = &cases[i];
        cr_assert_eq(omni_test_smtp_script(srv, c->stage, OMNI_TEST_SMTP_REPLY, c->reply), 0);
        cJSON *r = NULL;
        int rc = send_event(config_for(srv, AUTH), EVENT, 5000, NULL, &r);
        cr_assert_eq(rc, OMNI_OK, "%s: %s", c->reply, omni_error_last_message());
        char *rs = cJSON_PrintUnformatted(r);
        cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(r, "success")), "%s", rs);
        cr_assert_str_eq(error_code(r), c->code, "%s: %s", c->reply, rs);
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(e, "providerCode")->valuestring,
                         c->provider_code, "%s", rs);
        cr_assert_eq(retryable(r), c->retryable, "%s", rs);
        cr_assert(strstr(cJSON_GetObjectItemCaseSensitive(e, "message")->valuestring,
                         c->reply + 10),
                  "%s", rs);
        cJSON_free(rs);
        cJSON_Delete(r);
    }
    /* only the DOT refusals got as far as the data */
    cr_assert_eq(omni_test_smtp_mail_count(srv), 3);
    cr_assert_eq(omni_test_smtp_mail(srv, 0)->reply, 554);
    omni_test_smtp_stop(srv);
}

Test(outbound_smtp, e2e_auth)
{
    omni_test_smtp *srv = server(1);
    cJSON *r = NULL;
    /* no credentials: the server wants them */
    cr_assert_eq(send_event(config_for(srv, ""), EVENT, 5000, NULL, &r), OMNI_OK);
    cr_assert_str_eq(error_code(r), "AUTH_FAILED");
    cJSON_Delete(r);
    /* a wrong password */
    cr_assert_eq(send_event(config_for(srv, ",\"username\":\"mailer\",\"password\":\"wrong\""),
                            EVENT, 5000, NULL, &r),
                 OMNI_OK);
    cr_assert_str_eq(error_code(r), "AUTH_FAILED");
    cr_assert(!retryable(r));
    cJSON_Delete(r);
    cr_assert_eq(omni_test_smtp_mail_count(srv), 0);
    omni_test_smtp_stop(srv);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(outbound_smtp, e2e_stalled_server_times_out)
{
    static const char *const stages[] = {"GREETING", "MAIL", "RCPT", "BODY", "DOT"};
    omni_test_smtp *srv = server(0);
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(omni_test_smtp_script(srv, stages[i], OMNI_TEST_SMTP_STALL, NULL), 0);
        cJSON *r = NULL;
        double t0 = mono_s();
        int rc = send_event(config_for(srv, ""), EVENT, 300, NULL, &r);
        double took = mono_s() - t0;
        cr_assert_eq(rc, OMNI_ETIMEOUT, "%s: %d %s", stages[i], rc, omni_error_last_message());
        cr_assert(strstr(omni_error_last_message(), "timed out after 300 ms"));
        cr_assert_lt(took, 1.2, "%s took %.3f s", stages[i], took);
        cr_assert_null(r);
    }
    omni_test_smtp_stop(srv);
}

Test(outbound_smtp, e2e_closed_connection)
{
    static const char *const stages[] = {"GREETING", "RCPT", "BODY", "DOT"};
    omni_test_smtp *srv = server(0);
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(omni_test_smtp_script(srv, stages[i], OMNI_TEST_SMTP_CLOSE, NULL), 0);
        cJSON *r = NULL;
        int rc = send_event(config_for(srv, ""), EVENT, 3000, NULL, &r);
        cr_assert_eq(rc, OMNI_ETRANSPORT, "%s: %d %s", stages[i], rc,
                     omni_error_last_message());
        cr_assert_eq(omni_error_last_retryable(), 1);
    }
    cr_assert_eq(omni_test_smtp_mail_count(srv), 0);
    omni_test_smtp_stop(srv);
}

Test(outbound_smtp, e2e_connect_and_tls_failures)
{
    /* a port nobody listens on (the server's, once it stopped) */
    omni_test_smtp *srv = server(0);
    char url[64];
    snprintf(url, sizeof(url), "%s", omni_test_smtp_url(srv));
    omni_test_smtp_stop(srv);
    omni_transport *tp = curl_transport(2000);
    omni_http_request *r = hand_request("SEND", url);
    add(r, "Mail-From", "<a@b.c>");
    add(r, "Rcpt-To", "<d@e.f>");
    add(r, "Smtp-Tls", "none");
    send_fails(tp, r, OMNI_ECONNECT, "127.0.0.1");

    srv = server(0);
    /* STARTTLS required, the server offers none */
    r = hand_request("SEND", omni_test_smtp_url(srv));
    add(r, "Mail-From", "<a@b.c>");
    add(r, "Rcpt-To", "<d@e.f>");
    send_fails(tp, r, OMNI_ETLS, NULL);
    /* implicit TLS against a clear-text server */
    snprintf(url, sizeof(url), "smtps://127.0.0.1:%u", (unsigned)omni_test_smtp_port(srv));
    r = hand_request("SEND", url);
    add(r, "Mail-From", "<a@b.c>");
    add(r, "Rcpt-To", "<d@e.f>");
    add(r, "Smtp-Tls", "required");
    send_fails(tp, r, OMNI_ETLS, NULL);
    cr_assert_eq(omni_test_smtp_mail_count(srv), 0);
    cr_assert(!omni_test_smtp_saw(srv, "MAIL"));
    omni_test_smtp_stop(srv);
    omni_transport_free(tp);
}

/* HTTP requests keep http and https only; SMTP requests smtp and smtps. */
Test(outbound_smtp, e2e_http_still_http)
{
    omni_test_smtp *srv = server(0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)omni_test_smtp_port(srv));
    omni_transport *tp = curl_transport(1000);
    omni_http_request *r = hand_request("GET", url);
    /* the SMTP greeting is no HTTP answer */
    omni_http_response *resp = NULL;
    int rc = omni_transport_send(tp, r, &resp);
    cr_assert_neq(rc, OMNI_OK);
    omni_http_request_free(r);
    omni_transport_free(tp);
    cr_assert(!omni_test_smtp_saw(srv, "MAIL"));
    omni_test_smtp_stop(srv);
}
