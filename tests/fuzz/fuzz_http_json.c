/* Fuzz target: HTTP request and response from_json on arbitrary bytes.
 * Invariants for every accepted input x:
 *   a = from_json(x); j = to_json(a); b = from_json(j) succeeds;
 *   b equals a (method, url, every header in order, body bytes, timeout /
 *   status); to_json(b) == j byte for byte. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static int str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static void requests(const char *text, size_t size)
{
    omni_http_request *a = NULL, *b = NULL;
    if (omni_http_request_from_json(&a, text, size) != OMNI_OK) {
        check(a == NULL);
        return;
    }
    char *j1 = NULL, *j2 = NULL;
    size_t l1 = 0, l2 = 0;
    check(omni_http_request_to_json(&j1, &l1, a) == OMNI_OK);
    check(omni_http_request_from_json(&b, j1, l1) == OMNI_OK);
    check(str_eq(omni_http_request_method(a), omni_http_request_method(b)));
    check(str_eq(omni_http_request_url(a), omni_http_request_url(b)));
    check(omni_http_request_timeout_ms(a) == omni_http_request_timeout_ms(b));
    size_t n = omni_http_request_header_count(a);
    check(n == omni_http_request_header_count(b));
    for (size_t i = 0; i < n; i++) {
        check(str_eq(omni_http_request_header_name(a, i), omni_http_request_header_name(b, i)));
        check(str_eq(omni_http_request_header_value(a, i),
                     omni_http_request_header_value(b, i)));
    }
    size_t ba, bb;
    const char *pa = omni_http_request_body(a, &ba);
    const char *pb = omni_http_request_body(b, &bb);
    check(ba == bb && memcmp(pa, pb, ba) == 0);
    check(omni_http_request_to_json(&j2, &l2, b) == OMNI_OK);
    check(l1 == l2 && memcmp(j1, j2, l1) == 0);
    omni_free(j1);
    omni_free(j2);
    omni_http_request_free(a);
    omni_http_request_free(b);
}

static void responses(const char *text, size_t size)
{
    omni_http_response *a = NULL, *b = NULL;
    if (omni_http_response_from_json(&a, text, size) != OMNI_OK) {
        check(a == NULL);
        return;
    }
    char *j1 = NULL, *j2 = NULL;
    size_t l1 = 0, l2 = 0;
    check(omni_http_response_to_json(&j1, &l1, a) == OMNI_OK);
    check(omni_http_response_from_json(&b, j1, l1) == OMNI_OK);
    int st = omni_http_response_status(a);
    check(st >= 100 && st <= 599 && st == omni_http_response_status(b));
    size_t n = omni_http_response_header_count(a);
    check(n == omni_http_response_header_count(b));
    for (size_t i = 0; i < n; i++) {
        check(str_eq(omni_http_response_header_name(a, i),
                     omni_http_response_header_name(b, i)));
        check(str_eq(omni_http_response_header_value(a, i),
                     omni_http_response_header_value(b, i)));
    }
    size_t ba, bb;
    const char *pa = omni_http_response_body(a, &ba);
    const char *pb = omni_http_response_body(b, &bb);
    check(ba == bb && memcmp(pa, pb, ba) == 0);
    check(omni_http_response_to_json(&j2, &l2, b) == OMNI_OK);
    check(l1 == l2 && memcmp(j1, j2, l1) == 0);
    omni_free(j1);
    omni_free(j2);
    omni_http_response_free(a);
    omni_http_response_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    requests((const char *)data, size);
    responses((const char *)data, size);
    return 0;
}
