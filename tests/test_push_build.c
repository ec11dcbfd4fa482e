/* The fast path of omni_push_build (issue 8, >= 500,000 builds per second):
 *  - push_build: the message is read from spans of its text (core/json_span.h)
 *    with exactly the meaning the cJSON tree it replaced gave it, pinned here:
 *    a "\u0000" escape ends a string or key, the first of repeated members is
 *    the one read (data keeps them all), escaped member names are names,
 *    numbers are strtod's reading, data values are written back as cJSON's
 *    printer wrote them; lone surrogates are refused as cJSON refused them;
 *  - http_make: a request made in one block (omni__http_request_make) behaves
 *    as any other afterwards (headers added past its array, truncated below
 *    its own ones, body replaced, cloned, written as JSON, freed: ASan checks
 *    that nothing in the block is freed on its own); omni__http_check_header
 *    gives omni_http_request_add_header's errors;
 *  - json_tape: the taping scan (core/json_scan.h) agrees with the validator
 *    and lays out entries, keys and children as documented, on the heap too;
 *  - json_cjson: the helpers that read as cJSON does, on the cases that differ
 *    from plain reading (NUL escapes, long names, numbers, surrogates). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "golden.h"
#include "lib/core/buf.h"
#include "lib/core/json.h"
#include "lib/core/json_scan.h"
#include "lib/core/json_span.h"
#include "lib/transport/transport_internal.h"

#define TOKEN "5b6f0c4ee2d4e7c1a3f9b8d2c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f801234"
#define NOW_MS 1705312800000LL /* 2024-01-15T10:00:00Z */

static omni_push *apns, *fcm;

static void setup(void)
{
    size_t len = 0;
    char *pem = golden_read("push/apns", "AuthKey_TEST123456.p8", &len);
    char *sa = golden_read("push/fcm", "service_account.json", &len);
    cr_assert(pem && sa);
    cr_assert_eq(setenv("OMNI_TEST_APNS_KEY", pem, 1), 0);
    static const char a[] = "{\"apns\":{\"teamId\":\"ABCDE12345\",\"keyId\":\"TEST123456\","
                            "\"topic\":\"com.example.app\",\"privateKey\":{\"env\":"
                            "\"OMNI_TEST_APNS_KEY\"}}}";
    cr_assert_eq(omni_push_new(&apns, a, strlen(a)), OMNI_OK, "%s", omni_error_last_message());
    size_t cap = strlen(sa) + 64;
    char *f = malloc(cap);
    cr_assert_not_null(f);
    snprintf(f, cap, "{\"fcm\":{\"serviceAccount\":%s}}", sa);
    cr_assert_eq(omni_push_new(&fcm, f, strlen(f)), OMNI_OK, "%s", omni_error_last_message());
    static const char tok[] = "{\"access_token\":\"ya29.t\",\"expires_in\":3599,"
                              "\"token_type\":\"Bearer\"}";
    omni_http_response *r;
    cr_assert_eq(omni_http_response_new(&r), OMNI_OK);
    omni_http_response_set_status(r, 200);
    omni_http_response_set_body(r, tok, sizeof(tok) - 1);
    cr_assert_eq(omni_push_token_response(fcm, r, NOW_MS), OMNI_OK);
    omni_http_response_free(r);
    free(f);
    free(sa);
    free(pem);
}

static void teardown(void)
{
    omni_push_free(apns);
    omni_push_free(fcm);
}

TestSuite(push_build, .init = setup, .fini = teardown);

/* The body of the request built from msg (asserting success); free(). */
static char *body_of(omni_push *p, const char *msg)
{
    omni_http_request *req = NULL;
    int rc = omni_push_build(&req, p, msg, strlen(msg), NOW_MS);
    cr_assert_eq(rc, OMNI_OK, "%s: %s", msg, omni_error_last_message());
    size_t len = 0;
    char *b = strdup(omni_http_request_body(req, &len));
    omni_http_request_free(req);
    return b;
}

static void expect_body(omni_push *p, const char *msg, const char *want)
{
    char *b = body_of(p, msg);
    cr_assert_str_eq(b, want, "%s", msg);
    free(b);
}

static void expect_error(omni_push *p, const char *msg, int status, const char *want)
{
    omni_http_request *req = (omni_http_request *)1;
    int rc = omni_push_build(&req, p, msg, strlen(msg), NOW_MS);
    cr_assert_eq(rc, status, "%s: %d %s", msg, rc, omni_error_last_message());
    cr_assert_null(req);
    cr_assert_str_eq(omni_error_last_message(), want);
}

#define IOS "\"platform\":\"ios\",\"token\":\"" TOKEN "\""
#define ANDROID "\"platform\":\"android\",\"token\":\"t1\""

Test(push_build, nul_escape_ends_strings_and_names)
{
    expect_body(apns, "{" IOS ",\"payload\":{\"title\":\"a\\u0000b\",\"body\":\"c\"}}",
                "{\"aps\":{\"alert\":{\"title\":\"a\",\"body\":\"c\"}}}");
    /* "title\u0000x" is the name "title", and the first "title" */
    expect_body(apns, "{" IOS ",\"payload\":{\"title\\u0000x\":\"T\",\"title\":\"U\"}}",
                "{\"aps\":{\"alert\":{\"title\":\"T\"}}}");
    /* a token cut to nothing is empty */
    expect_error(apns, "{\"platform\":\"ios\",\"token\":\"\\u0000" TOKEN "\",\"payload\":{}}",
                 OMNI_EINVAL, "push ios: token must be a string of 1..4096 bytes");
    expect_body(fcm, "{" ANDROID ",\"payload\":{\"data\":{\"k\\u0000z\":\"v\\u0000w\"}}}",
                "{\"message\":{\"token\":\"t1\",\"data\":{\"k\":\"v\"}}}");
}

Test(push_build, first_of_repeated_members)
{
    expect_body(apns, "{" IOS ",\"payload\":{\"title\":\"x\",\"title\":\"y\"},\"payload\":5}",
                "{\"aps\":{\"alert\":{\"title\":\"x\"}}}");
    expect_error(apns, "{" IOS ",\"payload\":5,\"payload\":{\"title\":\"x\"}}", OMNI_EINVAL,
                 "push ios: payload must be an object");
    expect_body(apns, "{\"platform\":\"ios\",\"platform\":\"web\",\"token\":\"" TOKEN
                      "\",\"payload\":{}}",
                "{\"aps\":{}}");
    /* data is copied member by member: repeats stay */
    expect_body(apns, "{" IOS ",\"payload\":{\"data\":{\"k\":1,\"k\":\"2\"}}}",
                "{\"aps\":{},\"k\":1,\"k\":\"2\"}");
}

Test(push_build, escaped_member_names)
{
    expect_body(apns, "{\"pl\\u0061tform\":\"io\\u0073\",\"token\":\"" TOKEN
                      "\",\"p\\u0061yload\":{\"\\u0074itle\":\"\\u00e9\\/\"}}",
                "{\"aps\":{\"alert\":{\"title\":\"\xc3\xa9/\"}}}");
    expect_error(apns, "{" IOS ",\"payload\":{\"data\":{\"\\u0061ps\":1}}}", OMNI_EINVAL,
                 "push ios: payload.data must not hold \"aps\" (APNs's own dictionary)");
    expect_error(fcm, "{" ANDROID ",\"payload\":{\"data\":{\"fro\\u006d\\u0000z\":1}}}",
                 OMNI_EINVAL, "push android: payload.data key \"from\" is reserved");
}

Test(push_build, numbers_as_strtod_reads_them)
{
    expect_body(apns, "{" IOS ",\"payload\":{\"badge\":2.0E0}}", "{\"aps\":{\"badge\":2}}");
    expect_error(apns, "{" IOS ",\"payload\":{\"badge\":2.5}}", OMNI_EINVAL,
                 "push ios: payload.badge must be an integer 0..2147483647");
    expect_body(apns,
                "{" IOS ",\"payload\":{\"data\":{\"a\":[1.50,-0,1e400,1E-3,"
                "12345678901234567890,0.1]}}}",
                "{\"aps\":{},\"a\":[1.5,0,null,0.001,1.2345678901234567e+19,0.1]}");
    /* FCM data values that are not strings: their compact JSON text */
    expect_body(fcm,
                "{" ANDROID ",\"payload\":{\"data\":{\"n\":1.0,\"o\":"
                "{\"x\":[true,null,\"\\u00e9\"]}}}}",
                "{\"message\":{\"token\":\"t1\",\"data\":{\"n\":\"1\",\"o\":"
                "\"{\\\"x\\\":[true,null,\\\"\xc3\xa9\\\"]}\"}}}");
}

Test(push_build, lone_surrogates_refused_as_before)
{
    expect_error(apns, "{" IOS ",\"payload\":{\"title\":\"\\ud800\"}}", OMNI_EJSON,
                 "push message: invalid \\u escape or out of memory near offset 113");
    /* a pair is a character */
    expect_body(apns, "{" IOS ",\"payload\":{\"title\":\"\\ud83d\\ude00\"}}",
                "{\"aps\":{\"alert\":{\"title\":\"\xf0\x9f\x98\x80\"}}}");
}

Test(push_build, overrides_still_merge)
{
    expect_body(apns,
                "{" IOS ",\"payload\":{\"title\":\"x\",\"data\":{\"z\":{\"a\":1}}},\"apns\":"
                "{\"payload\":{\"aps\":{\"alert\":null,\"badge\":3},\"z\":{\"b\":2}}}}",
                "{\"aps\":{\"badge\":3},\"z\":{\"a\":1,\"b\":2}}");
    expect_body(fcm,
                "{" ANDROID ",\"payload\":{\"sound\":\"s\"},\"android\":{\"notification\":"
                "{\"sound\":\"t\",\"tag\":\"u\"},\"ttl\":\"5s\"}}",
                "{\"message\":{\"token\":\"t1\",\"android\":{\"notification\":{\"sound\":\"t\","
                "\"tag\":\"u\"},\"ttl\":\"5s\"}}}");
}

Test(push_build, merged_payload_over_the_limit)
{
    /* a merge that grows the payload past 4096 bytes is refused (it used to
     * leave an empty body once past 64 KiB) */
    omni_buf m = OMNI_BUF_INIT;
    omni__buf_puts(&m, "{" IOS ",\"payload\":{},\"apns\":{\"payload\":{\"a\":[");
    for (int i = 0; i < 12000; i++)
        omni__buf_puts(&m, i ? ",9e15" : "9e15");
    omni__buf_puts(&m, "]}}}");
    expect_error(apns, m.data, OMNI_ETOOLARGE,
                 "push ios: the payload is 204016 bytes, over APNs's 4096");
    omni__buf_free(&m);
}

Test(push_build, collapse_id_with_a_line_break)
{
    expect_error(apns, "{" IOS ",\"payload\":{},\"options\":{\"collapseKey\":\"a\\r\\nb\"}}",
                 OMNI_EINVAL, "request header \"apns-collapse-id\" has a CR or LF in its value");
}

/* ---- the one-block request object ---------------------------------------------- */

static omni_http_request *made(void)
{
    static const omni__http_field f[] = {{"authorization", "bearer x.y.z", 12},
                                         {"apns-topic", "com.example.app", 15},
                                         {"content-type", "application/json", 16}};
    char *body = malloc(16);
    cr_assert_not_null(body);
    memcpy(body, "{\"aps\":{}}", 11);
    omni_http_request *r = NULL;
    cr_assert_eq(omni__http_request_make(&r, "POST", "https://api.push.apple.com/3/device/",
                                         36, TOKEN, 64, f, 3, body, 10, 16),
                 OMNI_OK);
    return r;
}

Test(http_make, reads_as_a_request)
{
    omni_http_request *r = made();
    cr_assert_str_eq(omni_http_request_method(r), "POST");
    cr_assert_str_eq(omni_http_request_url(r), "https://api.push.apple.com/3/device/" TOKEN);
    cr_assert_eq(omni_http_request_header_count(r), 3);
    cr_assert_str_eq(omni_http_request_header(r, "APNS-Topic"), "com.example.app");
    size_t len = 0;
    cr_assert_str_eq(omni_http_request_body(r, &len), "{\"aps\":{}}");
    cr_assert_eq(len, 10);
    char *j = NULL;
    cr_assert_eq(omni_http_request_to_json(&j, NULL, r), OMNI_OK);
    cr_assert_str_eq(j, "{\"method\":\"POST\",\"url\":\"https://api.push.apple.com/3/device/" TOKEN
                        "\",\"headers\":{\"authorization\":\"bearer x.y.z\",\"apns-topic\":"
                        "\"com.example.app\",\"content-type\":\"application/json\"},"
                        "\"body\":\"{\\\"aps\\\":{}}\"}");
    omni_free(j);
    omni_http_request_free(r);
}

Test(http_make, changed_like_any_request)
{
    omni_http_request *r = made();
    char name[16];
    for (int i = 0; i < 20; i++) { /* past the block's array */
        snprintf(name, sizeof name, "x-h%d", i);
        cr_assert_eq(omni_http_request_add_header(r, name, "v"), OMNI_OK);
    }
    cr_assert_eq(omni_http_request_header_count(r), 23);
    cr_assert_str_eq(omni_http_request_header_name(r, 22), "x-h19");
    cr_assert_str_eq(omni_http_request_header_value(r, 0), "bearer x.y.z");
    omni__http_request_truncate_headers(r, 1); /* below the block's own headers */
    cr_assert_eq(omni_http_request_header_count(r), 1);
    cr_assert_eq(omni_http_request_add_header(r, "x-again", "1"), OMNI_OK);
    cr_assert_eq(omni_http_request_set_body(r, "new", 3), OMNI_OK);
    omni_http_request *copy = NULL;
    cr_assert_eq(omni__http_request_clone(&copy, r), OMNI_OK);
    omni_http_request_free(r);
    size_t len = 0;
    cr_assert_str_eq(omni_http_request_body(copy, &len), "new");
    cr_assert_str_eq(omni_http_request_header(copy, "x-again"), "1");
    cr_assert_str_eq(omni_http_request_url(copy), "https://api.push.apple.com/3/device/" TOKEN);
    omni_http_request_free(copy);
}

Test(http_make, empty_body_and_no_headers)
{
    omni_http_request *r = NULL;
    cr_assert_eq(omni__http_request_make(&r, "GET", "http://127.0.0.1:9/", 19, "", 0, NULL, 0,
                                         NULL, 0, 0),
                 OMNI_OK);
    size_t len = 1;
    cr_assert_str_eq(omni_http_request_body(r, &len), "");
    cr_assert_eq(len, 0);
    cr_assert_eq(omni_http_request_header_count(r), 0);
    cr_assert_eq(omni_http_request_add_header(r, "a", "b"), OMNI_OK);
    omni_http_request_free(r);
}

Test(http_make, check_header_as_add_header)
{
    static const char *const cases[][2] = {
        {"apns-collapse-id", "a\rb"}, {"bad name", "v"}, {"", "v"}, {"ok", "fine"}};
    omni_http_request *r = NULL;
    cr_assert_eq(omni_http_request_new(&r, "POST", "https://example.com/"), OMNI_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int a = omni_http_request_add_header(r, cases[i][0], cases[i][1]);
        char want[256];
        snprintf(want, sizeof want, "%s", omni_error_last_message());
        omni_error_clear();
        int b = omni__http_check_header(cases[i][0], cases[i][1]);
        cr_assert_eq(a, b, "%s", cases[i][0]);
        if (a)
            cr_assert_str_eq(omni_error_last_message(), want);
    }
    omni_http_request_free(r);
}

/* ---- the taping scan ------------------------------------------------------------- */

Test(json_tape, entries_keys_children)
{
    static const char doc[] = " {\"a\": [1, {}], \"b\\u0000\" :\"x\"} ";
    omni__jtape_ent local[2]; /* too small: the tape moves to the heap */
    omni__jtape t;
    omni__jtape_init(&t, local, 2);
    cr_assert_eq(omni__json_scan_tape(doc, sizeof(doc) - 1, 0, "doc", &t), OMNI_OK);
    cr_assert_eq(t.n, 5);
    const omni__jtape_ent *e = t.ents;
    cr_assert_eq(e[0].start, 1);
    cr_assert_eq(e[0].len, sizeof(doc) - 3);
    cr_assert_eq(e[0].klen, 0);
    cr_assert_eq(e[0].next, 5);
    /* "a": [1, {}] */
    cr_assert_eq(e[1].next, 4);
    cr_assert_eq(strncmp(doc + e[1].key, "\"a\"", e[1].klen), 0);
    cr_assert_eq(strncmp(doc + e[1].start, "[1, {}]", e[1].len), 0);
    cr_assert_eq(e[2].len, 1);
    cr_assert_eq(e[2].next, 3);
    cr_assert_eq(strncmp(doc + e[3].start, "{}", e[3].len), 0);
    cr_assert_eq(e[3].next, 4);
    /* "b\u0000": "x" (a key with an escape is flagged) */
    cr_assert_eq(e[4].klen, 9u | OMNI__JSON_ESCAPED);
    cr_assert_eq(strncmp(doc + e[4].key, "\"b\\u0000\"", 9), 0);
    cr_assert_eq(strncmp(doc + e[4].start, "\"x\"", e[4].len), 0);
    /* lookups through the tape, as cJSON would find them */
    omni__jdoc d = {doc, t.ents, t.n};
    static const omni__jname names[] = {OMNI__JNAME("b"), OMNI__JNAME("a"), OMNI__JNAME("c")};
    omni__jspan out[3];
    omni__jdoc_fields(&d, omni__j_root(doc, sizeof(doc) - 1), names, out, 3);
    cr_assert(out[0].p == doc + e[4].start && out[1].p == doc + e[1].start && !out[2].p);
    omni__jtape_free(&t);
}

Test(json_tape, errors_as_the_validator)
{
    static const char *const docs[] = {"", "{", "[1,]", "{\"a\" 1}", "\"\\x\"", "01", "[1] x"};
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        int v = omni__json_validate(docs[i], strlen(docs[i]), 0, "doc");
        char want[256];
        snprintf(want, sizeof want, "%s", omni_error_last_message());
        omni__jtape_ent local[4];
        omni__jtape t;
        omni__jtape_init(&t, local, 4);
        cr_assert_eq(omni__json_scan_tape(docs[i], strlen(docs[i]), 0, "doc", &t), v);
        cr_assert_str_eq(omni_error_last_message(), want);
        omni__jtape_free(&t);
    }
    omni__jtape_ent local[4];
    omni__jtape t;
    omni__jtape_init(&t, local, 4);
    cr_assert_eq(omni__json_scan_tape("[1,2]", 5, 3, "doc", &t), OMNI_ETOOLARGE);
    omni__jtape_free(&t);
}

/* ---- reading as cJSON reads ------------------------------------------------------- */

Test(json_cjson, decode_and_names)
{
    omni__jspan s = {"\"ab\\u0000cd\"", 12};
    char buf[16];
    cr_assert_eq(omni__j_decode(s, buf, sizeof buf), 2);
    cr_assert_eq(memcmp(buf, "ab", 2), 0);
    omni__jspan l = {"\"\\u00e9\"", 8};
    cr_assert_eq(omni__j_decode(l, buf, 2), 2); /* exactly fits */
    cr_assert_eq(omni__j_decode(l, buf, 1), 2); /* longer than 1: cap + 1 */
    cr_assert(omni__j_ckey_is((omni__jspan){"\"t\\u0069tle\"", 12}, "title", 5));
    cr_assert(omni__j_ckey_is((omni__jspan){"\"title\\u0000!\"", 14}, "title", 5));
    cr_assert(!omni__j_ckey_is((omni__jspan){"\"title!\"", 8}, "title", 5));
    cr_assert(omni__j_ckey_is((omni__jspan){"\"\\u0000\"", 8}, "", 0));
    cr_assert(omni__j_has_surrogate("\"\\uD83D\\uDE00\"", 14));
    cr_assert(!omni__j_has_surrogate("\"\\\\ud800\"", 9)); /* an escaped backslash */
    cr_assert(!omni__j_has_surrogate("\"\\u00e9\"", 8));
}

Test(json_cjson, numbers_and_writing)
{
    static const char *const nums[] = {"0", "-0", "15", "-123456789012345", "1234567890123456",
                                       "1.5", "1e400", "-2.5E-3", "0.1"};
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        cJSON *c = cJSON_Parse(nums[i]);
        double d = omni__j_num((omni__jspan){nums[i], strlen(nums[i])});
        cr_assert(d == c->valuedouble, "%s", nums[i]);
        cJSON_Delete(c);
    }
    static const char doc[] = "{\"k\\u0000x\" : [1.0, \"\\u0001\\/\", {\"a\":null}], \"k\":true}";
    cJSON *c = cJSON_Parse(doc);
    omni_buf a = OMNI_BUF_INIT, b = OMNI_BUF_INIT;
    omni__json_w_item(&a, c);
    omni__j_write(&b, omni__j_root(doc, sizeof(doc) - 1));
    cr_assert_str_eq(b.data, a.data);
    cr_assert_str_eq(b.data, "{\"k\":[1,\"\\u0001/\",{\"a\":null}],\"k\":true}");
    omni__buf_free(&a);
    omni__buf_free(&b);
    cJSON_Delete(c);
    cr_assert_eq(omni__j_count((omni__jspan){"[1, [2, 3], {}]", 15}), 3);
    cr_assert_eq(omni__j_count((omni__jspan){"{}", 2}), 0);
}
