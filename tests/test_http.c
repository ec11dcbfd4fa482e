/* Tests of the HTTP request and response objects and their JSON forms. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

static omni_http_request *req(const char *method, const char *url)
{
    omni_http_request *r = NULL;
    cr_assert_eq(omni_http_request_new(&r, method, url), OMNI_OK, "%s %s: %s", method, url,
                 omni_error_last_message());
    cr_assert_not_null(r);
    return r;
}

static void expect_bad_request(const char *method, const char *url, int status)
{
    omni_http_request *r = (omni_http_request *)(uintptr_t)1;
    int rc = omni_http_request_new(&r, method, url);
    cr_assert_eq(rc, status, "%s %s gave %d", method ? method : "(null)", url ? url : "(null)",
                 rc);
    cr_assert_null(r);
    cr_assert_eq(omni_error_last_status(), status);
    cr_assert_gt(strlen(omni_error_last_message()), 0);
}

/* ---- requests ---------------------------------------------------------- */

Test(request, construction_and_accessors)
{
    omni_http_request *r = req("POST", "https://api.example.com/v1/messages?x=1");
    cr_assert_str_eq(omni_http_request_method(r), "POST");
    cr_assert_str_eq(omni_http_request_url(r), "https://api.example.com/v1/messages?x=1");
    cr_assert_eq(omni_http_request_header_count(r), 0);
    size_t len = 99;
    cr_assert_str_eq(omni_http_request_body(r, &len), "");
    cr_assert_eq(len, 0);
    cr_assert_eq(omni_http_request_timeout_ms(r), 0);
    cr_assert_eq(omni_http_request_set_timeout_ms(r, 2500), OMNI_OK);
    cr_assert_eq(omni_http_request_timeout_ms(r), 2500);
    cr_assert_null(omni_http_request_header_name(r, 0));
    cr_assert_null(omni_http_request_header_value(r, 0));
    cr_assert_null(omni_http_request_header(r, "Content-Type"));
    omni_http_request_free(r);
    omni_http_request_free(NULL);
}

Test(request, methods)
{
    const char *ok[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND",
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        omni_http_request_free(req(ok[i], "http://h/"));
    const char *bad[] = {"", "get", "Get", "GET ", " GET", "GE T", "GET1", "M-SEARCH", "GET\r\n",
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_bad_request(bad[i], "http://h/", OMNI_EINVAL);
    expect_bad_request(NULL, "http://h/", OMNI_EINVAL);
    cr_assert_eq(omni_http_request_new(NULL, "GET", "http://h/"), OMNI_EINVAL);
}

Test(request, valid_urls)
{
    const char *ok[] = {"http://h", "http://h/", "https://api.example.com/v1/x?y=1&z=%20#frag",
                        "HTTPS://Example.COM/Path", "http://127.0.0.1:8080/x",
                        "http://[::1]:443/", "http://[2001:db8::1]/", "https://a.b-c_d.example/",
                        "http://h:65535/", "http://h?q", "http://h#f"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        omni_http_request_free(req("GET", ok[i]));
}

Test(request, invalid_urls)
{
    const char *bad[] = {"", "h/path", "/relative", "ftp://h/", "file:///etc/passwd",
                         "http:/h", "http://", "http:///path", "http://?q", "http://#f",
                         "http://a b/", "http://h/a b", "http://h/\x01", "http://h/\x7f",
                         "http://h/\xc3\xa9", "http://h\t/", "http://user:pw@h/",
                         "http://@h/", "http://h:0/", "http://h:65536/", "http://h:/",
                         "http://h:12a/", "http://h:99999999999999999999/", "http://[::1/",
                         "http://[]/", "http://[zz::1]/", "http://[::1]x/", "http://h^x/",
                         "http://h,x/", "http://:80/", "javascript:alert(1)"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_bad_request("GET", bad[i], OMNI_EINVAL);
    expect_bad_request("GET", NULL, OMNI_EINVAL);
}

Test(request, url_size_limit)
{
    /* OMNI_HTTP_MAX_URL bytes are fine, one more is too large. */
    char *url = malloc(OMNI_HTTP_MAX_URL + 2);
    strcpy(url, "http://h/");
    size_t n = strlen(url);
    memset(url + n, 'a', OMNI_HTTP_MAX_URL - n);
    url[OMNI_HTTP_MAX_URL] = '\0';
    omni_http_request_free(req("GET", url));
    url[OMNI_HTTP_MAX_URL] = 'a';
    url[OMNI_HTTP_MAX_URL + 1] = '\0';
    expect_bad_request("GET", url, OMNI_ETOOLARGE);
    free(url);
}

Test(request, url_errors_do_not_leak_the_query)
{
    omni_http_request *r;
    cr_assert_eq(omni_http_request_new(&r, "GET", "https://h/x?api_key=SECRET123 x"),
                 OMNI_EINVAL);
    cr_assert_null(strstr(omni_error_last_message(), "SECRET123"));
    cr_assert_eq(omni_http_request_new(&r, "GET", "https://user:SECRET123@h/"), OMNI_EINVAL);
    cr_assert_null(strstr(omni_error_last_message(), "SECRET123"));
}

Test(request, headers_order_and_lookup)
{
    omni_http_request *r = req("GET", "http://h/");
    cr_assert_eq(omni_http_request_add_header(r, "Accept", "application/json"), OMNI_OK);
    cr_assert_eq(omni_http_request_add_header(r, "X-Multi", "one"), OMNI_OK);
    cr_assert_eq(omni_http_request_add_header(r, "x-multi", "two"), OMNI_OK);
    cr_assert_eq(omni_http_request_add_header(r, "Empty", ""), OMNI_OK);
    cr_assert_eq(omni_http_request_add_header(r, "!#$%&'*+-.^_`|~09az", " spaced\tvalue "),
                 OMNI_OK);
    cr_assert_eq(omni_http_request_header_count(r), 5);
    cr_assert_str_eq(omni_http_request_header_name(r, 0), "Accept");
    cr_assert_str_eq(omni_http_request_header_value(r, 0), "application/json");
    cr_assert_str_eq(omni_http_request_header_name(r, 1), "X-Multi");
    cr_assert_str_eq(omni_http_request_header_name(r, 2), "x-multi");
    cr_assert_str_eq(omni_http_request_header_value(r, 2), "two");
    cr_assert_str_eq(omni_http_request_header_value(r, 4), " spaced\tvalue ");
    cr_assert_null(omni_http_request_header_name(r, 5));
    /* ASCII case-insensitive; the first of a repeated name wins. */
    cr_assert_str_eq(omni_http_request_header(r, "ACCEPT"), "application/json");
    cr_assert_str_eq(omni_http_request_header(r, "X-MULTI"), "one");
    cr_assert_str_eq(omni_http_request_header(r, "empty"), "");
    cr_assert_null(omni_http_request_header(r, "Accep"));
    cr_assert_null(omni_http_request_header(r, "Accept-"));
    cr_assert_null(omni_http_request_header(r, NULL));
    omni_http_request_free(r);
}

Test(request, header_validation)
{
    omni_http_request *r = req("GET", "http://h/");
    const char *bad_names[] = {"", "Bad Name", "Bad:Name", "Bad\rName", "Bad\nName", "(x)",
                               "a\"b", "caf\xc3\xa9", "a/b", "a@b", "a\tb"};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
        cr_assert_eq(omni_http_request_add_header(r, bad_names[i], "v"), OMNI_EINVAL, "%zu", i);
    const char *bad_values[] = {"a\rb", "a\nb", "SECRET\r\nX-Injected: 1", "\r", "\n"};
    for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
        cr_assert_eq(omni_http_request_add_header(r, "Authorization", bad_values[i]),
                     OMNI_EINVAL);
        cr_assert_null(strstr(omni_error_last_message(), "SECRET"));
    }
    cr_assert_eq(omni_http_request_add_header(r, NULL, "v"), OMNI_EINVAL);
    cr_assert_eq(omni_http_request_add_header(r, "N", NULL), OMNI_EINVAL);
    cr_assert_eq(omni_http_request_add_header(NULL, "N", "v"), OMNI_EINVAL);
    cr_assert_eq(omni_http_request_header_count(r), 0);
    omni_http_request_free(r);
}

Test(request, header_limits)
{
    omni_http_request *r = req("GET", "http://h/");
    /* name + value of exactly OMNI_HTTP_MAX_HEADER bytes is allowed. */
    char *v = malloc(OMNI_HTTP_MAX_HEADER + 1);
    memset(v, 'v', OMNI_HTTP_MAX_HEADER - 1);
    v[OMNI_HTTP_MAX_HEADER - 1] = '\0';
    cr_assert_eq(omni_http_request_add_header(r, "N", v), OMNI_OK);
    v[OMNI_HTTP_MAX_HEADER - 1] = 'v';
    v[OMNI_HTTP_MAX_HEADER] = '\0';
    cr_assert_eq(omni_http_request_add_header(r, "N", v), OMNI_ETOOLARGE);
    free(v);
    for (int i = 1; i < OMNI_HTTP_MAX_HEADERS; i++)
        cr_assert_eq(omni_http_request_add_header(r, "X", "y"), OMNI_OK);
    cr_assert_eq(omni_http_request_header_count(r), OMNI_HTTP_MAX_HEADERS);
    cr_assert_eq(omni_http_request_add_header(r, "X", "y"), OMNI_ETOOLARGE);
    cr_assert_eq(omni_http_request_header_count(r), OMNI_HTTP_MAX_HEADERS);
    omni_http_request_free(r);
}

Test(request, binary_body)
{
    omni_http_request *r = req("POST", "http://h/");
    unsigned char data[256];
    for (int i = 0; i < 256; i++)
        data[i] = (unsigned char)i;
    cr_assert_eq(omni_http_request_set_body(r, data, sizeof(data)), OMNI_OK);
    size_t len = 0;
    const char *b = omni_http_request_body(r, &len);
    cr_assert_eq(len, 256);
    cr_assert_eq(memcmp(b, data, 256), 0);
    cr_assert_eq(b[256], '\0'); /* NUL-terminated for convenience */
    cr_assert_eq(omni_http_request_set_body(r, "text", 4), OMNI_OK);
    cr_assert_str_eq(omni_http_request_body(r, &len), "text");
    cr_assert_eq(len, 4);
    /* errors keep the previous body */
    cr_assert_eq(omni_http_request_set_body(r, NULL, 3), OMNI_EINVAL);
    cr_assert_eq(omni_http_request_set_body(NULL, "x", 1), OMNI_EINVAL);
    cr_assert_str_eq(omni_http_request_body(r, &len), "text");
    cr_assert_eq(omni_http_request_set_body(r, NULL, 0), OMNI_OK);
    cr_assert_str_eq(omni_http_request_body(r, &len), "");
    cr_assert_eq(len, 0);
    omni_http_request_free(r);
}

Test(request, body_limit)
{
    omni_http_request *r = req("POST", "http://h/");
    char *big = calloc(1, OMNI_HTTP_MAX_BODY + 1);
    cr_assert_eq(omni_http_request_set_body(r, big, OMNI_HTTP_MAX_BODY), OMNI_OK);
    cr_assert_eq(omni_http_request_set_body(r, big, OMNI_HTTP_MAX_BODY + 1), OMNI_ETOOLARGE);
    size_t len;
    omni_http_request_body(r, &len);
    cr_assert_eq(len, OMNI_HTTP_MAX_BODY);
    free(big);
    omni_http_request_free(r);
}

Test(request, null_accessors)
{
    size_t len = 5;
    cr_assert_null(omni_http_request_method(NULL));
    cr_assert_null(omni_http_request_url(NULL));
    cr_assert_eq(omni_http_request_header_count(NULL), 0);
    cr_assert_null(omni_http_request_header_name(NULL, 0));
    cr_assert_null(omni_http_request_header_value(NULL, 0));
    cr_assert_null(omni_http_request_header(NULL, "a"));
    cr_assert_str_eq(omni_http_request_body(NULL, &len), "");
    cr_assert_eq(len, 0);
    cr_assert_eq(omni_http_request_timeout_ms(NULL), 0);
    cr_assert_eq(omni_http_request_set_timeout_ms(NULL, 1), OMNI_EINVAL);
}

/* ---- responses --------------------------------------------------------- */

Test(response, construction_and_accessors)
{
    omni_http_response *r = NULL;
    cr_assert_eq(omni_http_response_new(&r), OMNI_OK);
    cr_assert_eq(omni_http_response_status(r), 0);
    cr_assert_eq(omni_http_response_set_status(r, 201), OMNI_OK);
    cr_assert_eq(omni_http_response_status(r), 201);
    cr_assert_eq(omni_http_response_add_header(r, "Content-Type", "text/plain"), OMNI_OK);
    cr_assert_eq(omni_http_response_add_header(r, "Set-Cookie", "a=1"), OMNI_OK);
    cr_assert_eq(omni_http_response_add_header(r, "set-cookie", "b=2"), OMNI_OK);
    cr_assert_eq(omni_http_response_header_count(r), 3);
    cr_assert_str_eq(omni_http_response_header_name(r, 2), "set-cookie");
    cr_assert_str_eq(omni_http_response_header_value(r, 2), "b=2");
    cr_assert_null(omni_http_response_header_name(r, 3));
    cr_assert_null(omni_http_response_header_value(r, 3));
    cr_assert_str_eq(omni_http_response_header(r, "SET-COOKIE"), "a=1");
    cr_assert_str_eq(omni_http_response_header(r, "content-type"), "text/plain");
    cr_assert_null(omni_http_response_header(r, "X"));
    cr_assert_eq(omni_http_response_set_body(r, "a\0b", 3), OMNI_OK);
    cr_assert_eq(omni_http_response_append_body(r, "\0c", 2), OMNI_OK);
    size_t len;
    const char *b = omni_http_response_body(r, &len);
    cr_assert_eq(len, 5);
    cr_assert_eq(memcmp(b, "a\0b\0c", 5), 0);
    omni_http_response_free(r);
    omni_http_response_free(NULL);
}

Test(response, status_range)
{
    omni_http_response *r;
    cr_assert_eq(omni_http_response_new(&r), OMNI_OK);
    int ok[] = {100, 200, 299, 404, 429, 500, 599};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        cr_assert_eq(omni_http_response_set_status(r, ok[i]), OMNI_OK);
    int bad[] = {-1, 0, 99, 600, 1000};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(omni_http_response_set_status(r, bad[i]), OMNI_EINVAL);
    cr_assert_eq(omni_http_response_status(r), 599);
    omni_http_response_free(r);
}

Test(response, errors)
{
    omni_http_response *r;
    cr_assert_eq(omni_http_response_new(NULL), OMNI_EINVAL);
    cr_assert_eq(omni_http_response_set_status(NULL, 200), OMNI_EINVAL);
    cr_assert_eq(omni_http_response_add_header(NULL, "a", "b"), OMNI_EINVAL);
    cr_assert_eq(omni_http_response_set_body(NULL, "a", 1), OMNI_EINVAL);
    cr_assert_eq(omni_http_response_append_body(NULL, "a", 1), OMNI_EINVAL);
    cr_assert_eq(omni_http_response_status(NULL), 0);
    cr_assert_eq(omni_http_response_header_count(NULL), 0);
    cr_assert_null(omni_http_response_header(NULL, "a"));
    size_t len = 3;
    cr_assert_str_eq(omni_http_response_body(NULL, &len), "");
    cr_assert_eq(len, 0);
    cr_assert_eq(omni_http_response_new(&r), OMNI_OK);
    cr_assert_eq(omni_http_response_add_header(r, "Bad Name", "v"), OMNI_EINVAL);
    cr_assert_eq(omni_http_response_add_header(r, "N", "a\nb"), OMNI_EINVAL);
    cr_assert_eq(omni_http_response_append_body(r, NULL, 1), OMNI_EINVAL);
    cr_assert_eq(omni_http_response_set_body(r, NULL, 1), OMNI_EINVAL);
    cr_assert_eq(omni_http_response_append_body(r, NULL, 0), OMNI_OK);
    for (int i = 0; i < OMNI_HTTP_MAX_HEADERS; i++)
        cr_assert_eq(omni_http_response_add_header(r, "X", "y"), OMNI_OK);
    cr_assert_eq(omni_http_response_add_header(r, "X", "y"), OMNI_ETOOLARGE);
    omni_http_response_free(r);
}

Test(response, append_limit)
{
    omni_http_response *r;
    cr_assert_eq(omni_http_response_new(&r), OMNI_OK);
    char *chunk = calloc(1, 1024 * 1024);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(omni_http_response_append_body(r, chunk, 1024 * 1024), OMNI_OK);
    cr_assert_eq(omni_http_response_append_body(r, "x", 1), OMNI_ETOOLARGE);
    size_t len;
    omni_http_response_body(r, &len);
    cr_assert_eq(len, OMNI_HTTP_MAX_BODY);
    cr_assert_eq(omni_http_response_set_body(r, chunk, 1), OMNI_OK);
    cr_assert_eq(omni_http_response_set_body(r, NULL, 0), OMNI_OK);
    omni_http_response_body(r, &len);
    cr_assert_eq(len, 0);
    free(chunk);
    omni_http_response_free(r);
}

/* ---- JSON forms -------------------------------------------------------- */

static char *req_json(const omni_http_request *r, size_t *len)
{
    char *out = NULL;
    cr_assert_eq(omni_http_request_to_json(&out, len, r), OMNI_OK, "%s",
                 omni_error_last_message());
    return out;
}

static omni_http_request *req_from(const char *json)
{
    omni_http_request *r = NULL;
    int rc = omni_http_request_from_json(&r, json, strlen(json));
    cr_assert_eq(rc, OMNI_OK, "%s: %s", json, omni_error_last_message());
    return r;
}

static void expect_req_json_error(const char *json, size_t len, int status)
{
    omni_http_request *r = (omni_http_request *)(uintptr_t)1;
    int rc = omni_http_request_from_json(&r, json, len);
    cr_assert_eq(rc, status, "%.*s gave %d (%s)", (int)len, json, rc, omni_error_last_message());
    cr_assert_null(r);
}

static void expect_resp_json_error(const char *json, int status)
{
    omni_http_response *r = (omni_http_response *)(uintptr_t)1;
    int rc = omni_http_response_from_json(&r, json, strlen(json));
    cr_assert_eq(rc, status, "%s gave %d (%s)", json, rc, omni_error_last_message());
    cr_assert_null(r);
}

Test(json, request_to_json_exact)
{
    omni_http_request *r = req("POST", "https://api.example.com/x?a=1");
    omni_http_request_add_header(r, "Content-Type", "application/json");
    omni_http_request_add_header(r, "X-Quote", "say \"hi\"");
    omni_http_request_set_body(r, "{\"a\":\"\xc3\xa9\"}", 10);
    omni_http_request_set_timeout_ms(r, 1500);
    size_t len;
    char *out = req_json(r, &len);
    cr_assert_str_eq(out, "{\"method\":\"POST\",\"url\":\"https://api.example.com/x?a=1\","
                          "\"headers\":{\"Content-Type\":\"application/json\","
                          "\"X-Quote\":\"say \\\"hi\\\"\"},"
                          "\"body\":\"{\\\"a\\\":\\\"\xc3\xa9\\\"}\",\"timeoutMs\":1500}");
    cr_assert_eq(len, strlen(out));
    omni_free(out);
    omni_http_request_free(r);

    r = req("GET", "http://h/");
    out = req_json(r, NULL);
    cr_assert_str_eq(out, "{\"method\":\"GET\",\"url\":\"http://h/\",\"headers\":{}}");
    omni_free(out);
    omni_http_request_free(r);
}

Test(json, binary_body_uses_base64)
{
    /* RFC 4648 section 10 vector "foobar" is text; these are not. */
    struct {
        const char *body;
        size_t len;
        const char *json_body;
    } cases[] = {
        {"\xff\xfe", 2, "\"bodyBase64\":\"//4=\""},
        {"a\0b", 3, "\"bodyBase64\":\"YQBi\""},             /* NUL: never a JSON string */
        {"\xc0\x80", 2, "\"bodyBase64\":\"wIA=\""},         /* overlong NUL */
        {"\xed\xa0\x80", 3, "\"bodyBase64\":\"7aCA\""},     /* encoded surrogate */
        {"foobar", 6, "\"body\":\"foobar\""},
        {"tab\there\n", 9, "\"body\":\"tab\\there\\n\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        omni_http_request *r = req("POST", "http://h/");
        omni_http_request_set_body(r, cases[i].body, cases[i].len);
        char *out = req_json(r, NULL);
        cr_assert_not_null(strstr(out, cases[i].json_body), "%zu: %s", i, out);
        omni_http_request *back = req_from(out);
        size_t len;
        const char *b = omni_http_request_body(back, &len);
        cr_assert_eq(len, cases[i].len);
        cr_assert_eq(memcmp(b, cases[i].body, len), 0);
        omni_free(out);
        omni_http_request_free(back);
        omni_http_request_free(r);
    }
}

Test(json, to_json_keeps_the_last_error)
{
    omni_error_set(OMNI_ESTORAGE, "earlier failure", 1);
    omni_http_request *r = req("POST", "http://h/");
    omni_http_request_set_body(r, "\xff", 1);
    char *out = req_json(r, NULL);
    cr_assert_eq(omni_error_last_status(), OMNI_ESTORAGE);
    cr_assert_str_eq(omni_error_last_message(), "earlier failure");
    omni_free(out);
    omni_http_request_free(r);
}

Test(json, request_from_json_forms)
{
    omni_http_request *r = req_from(
        "{\"method\":\"PUT\",\"url\":\"http://h/p\",\"headers\":[[\"A\",\"1\"],[\"a\",\"2\"],"
        "[\"B\",\"\"]],\"bodyBase64\":\"AAEC/w==\",\"timeoutMs\":0}");
    cr_assert_str_eq(omni_http_request_method(r), "PUT");
    cr_assert_eq(omni_http_request_header_count(r), 3);
    cr_assert_str_eq(omni_http_request_header_name(r, 1), "a");
    cr_assert_str_eq(omni_http_request_header_value(r, 1), "2");
    size_t len;
    const char *b = omni_http_request_body(r, &len);
    cr_assert_eq(len, 4);
    cr_assert_eq(memcmp(b, "\x00\x01\x02\xff", 4), 0);
    /* Repeated names are written as pairs, so nothing is merged or lost. */
    char *out = req_json(r, NULL);
    cr_assert_str_eq(out, "{\"method\":\"PUT\",\"url\":\"http://h/p\",\"headers\":[[\"A\",\"1\"],"
                          "[\"a\",\"2\"],[\"B\",\"\"]],\"bodyBase64\":\"AAEC/w==\"}");
    omni_free(out);
    omni_http_request_free(r);

    r = req_from("{\"url\":\"http://h/\",\"headers\":{\"X-A\":\"1\",\"X-B\":\"2\"},"
                 "\"method\":\"GET\",\"body\":\"\",\"timeoutMs\":4294967295}");
    cr_assert_eq(omni_http_request_header_count(r), 2);
    cr_assert_str_eq(omni_http_request_header(r, "x-b"), "2");
    cr_assert_eq(omni_http_request_timeout_ms(r), 4294967295u);
    omni_http_request_body(r, &len);
    cr_assert_eq(len, 0);
    omni_http_request_free(r);
}

Test(json, request_round_trip)
{
    omni_http_request *r = req("PATCH", "http://[::1]:8443/a?b=c");
    omni_http_request_add_header(r, "Authorization", "Bearer t");
    omni_http_request_add_header(r, "X-Unicode", "\xe2\x82\xac");
    unsigned char data[300];
    for (int i = 0; i < 300; i++)
        data[i] = (unsigned char)(i * 7);
    omni_http_request_set_body(r, data, sizeof(data));
    omni_http_request_set_timeout_ms(r, 99);
    size_t len1, len2;
    char *j1 = req_json(r, &len1);
    omni_http_request *back = req_from(j1);
    char *j2 = req_json(back, &len2);
    cr_assert_eq(len1, len2);
    cr_assert_str_eq(j1, j2);
    cr_assert_str_eq(omni_http_request_method(back), "PATCH");
    cr_assert_str_eq(omni_http_request_url(back), "http://[::1]:8443/a?b=c");
    cr_assert_str_eq(omni_http_request_header(back, "x-unicode"), "\xe2\x82\xac");
    cr_assert_eq(omni_http_request_timeout_ms(back), 99);
    size_t bl;
    const char *b = omni_http_request_body(back, &bl);
    cr_assert_eq(bl, 300);
    cr_assert_eq(memcmp(b, data, 300), 0);
    omni_free(j1);
    omni_free(j2);
    omni_http_request_free(back);
    omni_http_request_free(r);
}

Test(json, request_from_json_errors)
{
#define BAD(json, status) expect_req_json_error(json, strlen(json), status)
    BAD("", OMNI_EJSON);
    BAD("{", OMNI_EJSON);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\"} x", OMNI_EJSON);
    BAD("[]", OMNI_EINVAL);
    BAD("\"GET\"", OMNI_EINVAL);
    BAD("{}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\"}", OMNI_EINVAL);
    BAD("{\"url\":\"http://h/\"}", OMNI_EINVAL);
    BAD("{\"method\":1,\"url\":\"http://h/\"}", OMNI_EINVAL);
    BAD("{\"method\":\"get\",\"url\":\"http://h/\"}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"ftp://h/\"}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"extra\":1}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"Method\":\"GET\"}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"method\":\"POST\"}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"headers\":\"A: b\"}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"headers\":{\"A\":1}}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"headers\":{\"A B\":\"1\"}}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"headers\":{\"A\":\"1\\r\\n\"}}",
        OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"headers\":[[\"A\"]]}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"headers\":[[\"A\",\"1\",\"2\"]]}",
        OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"headers\":[[\"A\",1]]}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"headers\":[\"A\"]}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"body\":1}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"body\":\"a\",\"bodyBase64\":\"YQ==\"}",
        OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"bodyBase64\":null}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"bodyBase64\":\"YQ\"}", OMNI_EENCODING);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"bodyBase64\":\"Y Q==\"}", OMNI_EENCODING);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"timeoutMs\":-1}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"timeoutMs\":4294967296}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"timeoutMs\":1.5}", OMNI_EINVAL);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"timeoutMs\":\"5\"}", OMNI_EINVAL);
    /* cJSON strings end at a NUL: a \u0000 would be cut silently. */
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"body\":\"a\\u0000b\"}", OMNI_EJSON);
    BAD("{\"method\":\"GET\",\"url\":\"http://h/\",\"headers\":{\"A\\u0000\":\"x\"}}",
        OMNI_EJSON);
#undef BAD
    /* An escaped backslash followed by "u0000" is text, not a NUL. */
    omni_http_request *r = req_from("{\"method\":\"GET\",\"url\":\"http://h/\","
                                    "\"body\":\"\\\\u0000\"}");
    cr_assert_str_eq(omni_http_request_body(r, NULL), "\\u0000");
    omni_http_request_free(r);
    expect_req_json_error(NULL, 5, OMNI_EINVAL);
    cr_assert_eq(omni_http_request_from_json(NULL, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_http_request_to_json(NULL, NULL, NULL), OMNI_EINVAL);
}

Test(json, body_base64_limit)
{
    /* A bodyBase64 that decodes past OMNI_HTTP_MAX_BODY is refused. */
    size_t n = ((OMNI_HTTP_MAX_BODY + 2) / 3) * 4 + 4; /* one quantum too many */
    char *json = malloc(n + 100);
    cr_assert_not_null(json);
    int k = sprintf(json, "{\"method\":\"GET\",\"url\":\"http://h/\",\"bodyBase64\":\"");
    memset(json + k, 'A', n);
    strcpy(json + k + n, "\"}");
    expect_req_json_error(json, strlen(json), OMNI_ETOOLARGE);
    free(json);
}

Test(json, response_forms)
{
    omni_http_response *r;
    cr_assert_eq(omni_http_response_new(&r), OMNI_OK);
    char *out = NULL;
    cr_assert_eq(omni_http_response_to_json(&out, NULL, r), OMNI_EINVAL); /* no status yet */
    omni_http_response_set_status(r, 429);
    omni_http_response_add_header(r, "Retry-After", "30");
    omni_http_response_set_body(r, "slow down", 9);
    size_t len;
    cr_assert_eq(omni_http_response_to_json(&out, &len, r), OMNI_OK);
    cr_assert_str_eq(out, "{\"status\":429,\"headers\":{\"Retry-After\":\"30\"},"
                          "\"body\":\"slow down\"}");
    omni_http_response *back;
    cr_assert_eq(omni_http_response_from_json(&back, out, len), OMNI_OK);
    cr_assert_eq(omni_http_response_status(back), 429);
    cr_assert_str_eq(omni_http_response_header(back, "retry-after"), "30");
    cr_assert_str_eq(omni_http_response_body(back, NULL), "slow down");
    omni_free(out);
    omni_http_response_free(back);

    omni_http_response_set_body(r, "\x89PNG\r\n\x1a\n", 8);
    omni_http_response_add_header(r, "retry-after", "31");
    cr_assert_eq(omni_http_response_to_json(&out, &len, r), OMNI_OK);
    cr_assert_str_eq(out, "{\"status\":429,\"headers\":[[\"Retry-After\",\"30\"],"
                          "[\"retry-after\",\"31\"]],\"bodyBase64\":\"iVBORw0KGgo=\"}");
    cr_assert_eq(omni_http_response_from_json(&back, out, len), OMNI_OK);
    size_t bl;
    const char *b = omni_http_response_body(back, &bl);
    cr_assert_eq(bl, 8);
    cr_assert_eq(memcmp(b, "\x89PNG\r\n\x1a\n", 8), 0);
    cr_assert_eq(omni_http_response_header_count(back), 2);
    omni_free(out);
    omni_http_response_free(back);
    omni_http_response_free(r);

    cr_assert_eq(omni_http_response_from_json(&back, "{\"status\":200.0}", 16), OMNI_OK);
    cr_assert_eq(omni_http_response_status(back), 200);
    omni_http_response_free(back);
}

Test(json, response_from_json_errors)
{
    expect_resp_json_error("", OMNI_EJSON);
    expect_resp_json_error("[]", OMNI_EINVAL);
    expect_resp_json_error("{}", OMNI_EINVAL);
    expect_resp_json_error("{\"status\":99}", OMNI_EINVAL);
    expect_resp_json_error("{\"status\":600}", OMNI_EINVAL);
    expect_resp_json_error("{\"status\":200.5}", OMNI_EINVAL);
    expect_resp_json_error("{\"status\":\"200\"}", OMNI_EINVAL);
    expect_resp_json_error("{\"status\":200,\"statusText\":\"OK\"}", OMNI_EINVAL);
    expect_resp_json_error("{\"status\":200,\"headers\":null}", OMNI_EINVAL);
    expect_resp_json_error("{\"status\":200,\"headers\":{\"\":\"x\"}}", OMNI_EINVAL);
    expect_resp_json_error("{\"status\":200,\"body\":[]}", OMNI_EINVAL);
    expect_resp_json_error("{\"status\":200,\"bodyBase64\":\"!!!!\"}", OMNI_EENCODING);
    expect_resp_json_error("{\"status\":200,\"body\":\"\\u0000\"}", OMNI_EJSON);
    expect_resp_json_error("{\"status\":200,\"status\":201}", OMNI_EINVAL);
    omni_http_response *r;
    cr_assert_eq(omni_http_response_from_json(NULL, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_http_response_from_json(&r, NULL, 2), OMNI_EINVAL);
    cr_assert_eq(omni_http_response_to_json(NULL, NULL, NULL), OMNI_EINVAL);
}
