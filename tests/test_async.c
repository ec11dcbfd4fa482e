/* The asynchronous transport (lib/transport/async.c, omni/async.h) against real local servers:
 * the HTTP/2 test server (tests/support/h2_server.c, h2c with prior knowledge, on libnghttp2)
 * and the HTTP/1.1 one (tests/support/http_server.c). Covers one request, a fan-out of 1,000
 * over one multiplexed connection with every answer matched to its callback, the
 * maxConcurrent bound as the server sees it, HTTP/1.1 connection reuse, GOAWAY (RFC 9113
 * section 6.8: streams above last-stream-id were not processed and are sent again on a new
 * connection, each processed exactly once), an abrupt connection drop, a partly answered
 * request never sent twice, per-request timeouts, connect failures, the response size limit,
 * closing with requests in flight (own loop and a host loop), running on a loop the test
 * owns, APNs requests built by omni_push_build, and every error path of the API. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <omni/omni.h>
#include <uv.h>

#include "golden.h"
#include "h2_server.h"
#include "http_server.h"

/* ---- helpers -------------------------------------------------------------------- */

typedef struct result {
    int done;    /* callbacks received (must end at 1) */
    int status;  /* the callback's status */
    int http;    /* the response's status */
    char *body;
    char *header; /* the value of the header the test asked for */
    char code[48];
    char message[512];
    const char *want_header;
    int order; /* position among the callbacks */
} result;

static int g_order;

static void on_result(void *user, const omni_http_response *resp, int status)
{
    result *r = user;
    r->done++;
    r->status = status;
    r->order = g_order++;
    if (status == OMNI_OK) {
        cr_assert_not_null(resp);
        r->http = omni_http_response_status(resp);
        size_t len = 0;
        const char *b = omni_http_response_body(resp, &len);
        free(r->body);
        r->body = strndup(b, len);
        if (r->want_header) {
            const char *v = omni_http_response_header(resp, r->want_header);
            free(r->header);
            r->header = v ? strdup(v) : NULL;
        }
    } else {
        cr_assert_null(resp);
        cr_assert_eq(omni_error_last_status(), status, "the last error describes the failure");
        snprintf(r->code, sizeof r->code, "%s", omni_error_last_code());
        snprintf(r->message, sizeof r->message, "%s", omni_error_last_message());
    }
}

static void result_free(result *r)
{
    free(r->body);
    free(r->header);
    memset(r, 0, sizeof(*r));
}

static omni_async *new_async(void *loop, const char *opts)
{
    omni_async *a = NULL;
    int rc = omni_async_new(&a, loop, opts, opts ? strlen(opts) : 0);
    cr_assert_eq(rc, OMNI_OK, "omni_async_new: %s", omni_error_last_message());
    cr_assert_not_null(a);
    return a;
}

static omni_http_request *new_request(const char *method, const char *url, const char *body)
{
    omni_http_request *req = NULL;
    cr_assert_eq(omni_http_request_new(&req, method, url), OMNI_OK, "%s",
                 omni_error_last_message());
    if (body)
        cr_assert_eq(omni_http_request_set_body(req, body, strlen(body)), OMNI_OK);
    return req;
}

static void send_ok(omni_async *a, omni_http_request *req, result *r)
{
    int rc = omni_async_send(a, req, on_result, r);
    cr_assert_eq(rc, OMNI_OK, "send: %s", omni_error_last_message());
}

/* The stats document as cJSON (caller deletes). */
static cJSON *stats(omni_async *a)
{
    char *out = NULL;
    size_t len = 0;
    cr_assert_eq(omni_async_stats(a, &out, &len), OMNI_OK);
    cr_assert_eq(strlen(out), len);
    cJSON *j = cJSON_Parse(out);
    cr_assert_not_null(j, "stats: %s", out);
    omni_free(out);
    return j;
}

static int64_t stat_of(omni_async *a, const char *name)
{
    cJSON *j = stats(a);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    cr_assert(cJSON_IsNumber(v), "stat %s", name);
    int64_t n = (int64_t)v->valuedouble;
    cJSON_Delete(j);
    return n;
}

/* h2 handler: 200 with "echo <path>", a header naming the stream, optional delays. */
typedef struct echo_cfg {
    unsigned delay_ms;         /* every answer */
    const char *slow_path;     /* only this path waits slow_ms */
    unsigned slow_ms;
} echo_cfg;

static void echo_handler(void *ctx, const omni_h2_request *req, omni_h2_response *resp)
{
    static __thread char body[512];
    const echo_cfg *cfg = ctx;
    int n = snprintf(body, sizeof body, "echo %s %s", req->method, req->path);
    resp->status = 200;
    resp->headers = "x-served-by: h2\r\n";
    resp->body = body;
    resp->body_len = (size_t)n;
    if (cfg) {
        resp->delay_ms = cfg->delay_ms;
        if (cfg->slow_path && strcmp(req->path, cfg->slow_path) == 0)
            resp->delay_ms = cfg->slow_ms;
    }
}

static void echo11_handler(void *ctx, const omni_test_request *req, omni_test_action *act)
{
    static __thread char body[512];
    (void)ctx;
    int n = snprintf(body, sizeof body, "echo %s %s", req->method, req->target);
    act->status = 200;
    act->body = body;
    act->body_len = (size_t)n;
}

/* The test certificate (tests/data/tls): the server's chain and key, the CA the transport
 * verifies it with ("caFile": TLS verification always stays on). */
static char tls_cert[1024], tls_key[1024], tls_ca[1024];
static char ca_opts[1400]; /* {"httpVersion":"2","caFile":...} */

static void suite_setup(void)
{
    const char *src = getenv("OMNI_SOURCE_DIR");
    cr_assert_not_null(src, "OMNI_SOURCE_DIR is not set");
    snprintf(tls_cert, sizeof tls_cert, "%s/tests/data/tls/server.pem", src);
    snprintf(tls_key, sizeof tls_key, "%s/tests/data/tls/server.key", src);
    snprintf(tls_ca, sizeof tls_ca, "%s/tests/data/tls/ca.pem", src);
    snprintf(ca_opts, sizeof ca_opts, "{\"httpVersion\":\"2\",\"caFile\":\"%s\"}", tls_ca);
}

TestSuite(async, .init = suite_setup, .timeout = 60);

/* An HTTP/2 server over TLS (ALPN h2), the way APNs is reached. */
static omni_h2_server *h2_start(omni_h2_options *opts, omni_h2_handler h, void *ctx)
{
    omni_h2_options o = {0};
    if (!opts)
        opts = &o;
    opts->tls_cert_file = tls_cert;
    opts->tls_key_file = tls_key;
    omni_h2_server *srv = NULL;
    cr_assert_eq(omni_h2_server_start(&srv, opts, h, ctx), 0, "h2 server");
    return srv;
}

/* Sends n POSTs to <base>/<prefix>/<i> with results in rs[i]. */
static void send_many(omni_async *a, const char *base, const char *prefix, result *rs, int n)
{
    for (int i = 0; i < n; i++) {
        char url[256];
        snprintf(url, sizeof url, "%s/%s/%d", base, prefix, i);
        omni_http_request *req = new_request("POST", url, "{}");
        send_ok(a, req, &rs[i]);
        omni_http_request_free(req);
    }
}

/* Every rs[i] succeeded with the echo of its own request. */
static void check_echoes(result *rs, int n, const char *prefix)
{
    for (int i = 0; i < n; i++) {
        char want[128];
        snprintf(want, sizeof want, "echo POST /%s/%d", prefix, i);
        cr_assert_eq(rs[i].done, 1, "request %d: %d callbacks", i, rs[i].done);
        cr_assert_eq(rs[i].status, OMNI_OK, "request %d: %s", i, rs[i].message);
        cr_assert_eq(rs[i].http, 200);
        cr_assert_str_eq(rs[i].body, want, "request %d got another request's answer", i);
    }
}

/* The server processed each of /<prefix>/0..n-1 exactly once, and nothing else. */
static void check_processed_once(omni_h2_server *srv, const char *prefix, int n)
{
    cr_assert_eq(omni_h2_server_request_count(srv), (size_t)n, "processed %zu, want %d",
                 omni_h2_server_request_count(srv), n);
    char *seen = calloc((size_t)n, 1);
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < (size_t)n; i++) {
        const omni_h2_request *r = omni_h2_server_request(srv, i);
        cr_assert(r->path[0] == '/' && strncmp(r->path + 1, prefix, plen) == 0 &&
                      r->path[plen + 1] == '/',
                  "unexpected path %s", r->path);
        int k = atoi(r->path + plen + 2);
        cr_assert(k >= 0 && k < n);
        cr_assert_eq(seen[k], 0, "%s processed twice", r->path);
        seen[k] = 1;
    }
    free(seen);
}

static void free_results(result *rs, int n)
{
    for (int i = 0; i < n; i++)
        result_free(&rs[i]);
    free(rs);
}

/* ---- one request ------------------------------------------------------------------ */

Test(async, one_request_h2_tls)
{
    omni_h2_server *srv = h2_start(NULL, echo_handler, NULL);
    omni_async *a = new_async(NULL, ca_opts);
    omni_http_request *req = new_request("POST", omni_h2_server_url(srv, "/one?x=1"), "{\"a\":1}");
    cr_assert_eq(omni_http_request_add_header(req, "Content-Type", "application/json"), OMNI_OK);
    cr_assert_eq(omni_http_request_add_header(req, "X-Trace", "t-1"), OMNI_OK);
    result r = {0};
    r.want_header = "x-served-by";
    send_ok(a, req, &r);
    omni_http_request_free(req); /* copied by send */
    cr_assert_eq(omni_async_pending(a), 1);
    cr_assert_eq(r.done, 0, "the callback never runs inside send");
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(r.done, 1);
    cr_assert_eq(r.status, OMNI_OK, "%s", r.message);
    cr_assert_eq(r.http, 200);
    cr_assert_str_eq(r.body, "echo POST /one?x=1");
    cr_assert_str_eq(r.header, "h2");
    cr_assert_eq(omni_async_pending(a), 0);

    cr_assert_eq(omni_h2_server_request_count(srv), 1);
    const omni_h2_request *got = omni_h2_server_request(srv, 0);
    cr_assert_str_eq(got->method, "POST");
    cr_assert_str_eq(got->path, "/one?x=1");
    cr_assert_str_eq(got->scheme, "https");
    cr_assert_str_eq((const char *)got->body, "{\"a\":1}");
    cr_assert_str_eq(omni_h2_request_header(got, "content-type"), "application/json");
    cr_assert_str_eq(omni_h2_request_header(got, "x-trace"), "t-1");
    cr_assert_str_eq(omni_h2_request_header(got, "user-agent"), "libomni/" OMNI_VERSION_STRING);
    cr_assert_null(omni_h2_request_header(got, "expect"));
    cr_assert_null(omni_h2_request_header(got, "accept"), "curl's own Accept is not sent");

    cJSON *st = stats(a);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(st, "sent")->valueint, 1);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(st, "succeeded")->valueint, 1);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(st, "failed")->valueint, 0);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(st, "canceled")->valueint, 0);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(st, "retries")->valueint, 0);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(st, "connections")->valueint, 1);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(st, "inFlight")->valueint, 0);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(st, "queued")->valueint, 0);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(st, "peakInFlight")->valueint, 1);
    cJSON_Delete(st);
    /* nothing in flight: run returns at once */
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    omni_async_free(a);
    omni_h2_server_stop(srv);
    result_free(&r);
}

Test(async, get_and_head_h2)
{
    omni_h2_server *srv = h2_start(NULL, echo_handler, NULL);
    omni_async *a = new_async(NULL, ca_opts);
    result r1 = {0}, r2 = {0};
    omni_http_request *get = new_request("GET", omni_h2_server_url(srv, "/g"), NULL);
    omni_http_request *head = new_request("HEAD", omni_h2_server_url(srv, "/h"), NULL);
    send_ok(a, get, &r1);
    send_ok(a, head, &r2);
    omni_http_request_free(get);
    omni_http_request_free(head);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(r1.status, OMNI_OK, "%s", r1.message);
    cr_assert_str_eq(r1.body, "echo GET /g");
    cr_assert_eq(r2.status, OMNI_OK, "%s", r2.message);
    cr_assert_str_eq(r2.body, "", "a HEAD answer has no body");
    cr_assert_eq(omni_h2_server_request_count(srv), 2);
    omni_async_free(a);
    omni_h2_server_stop(srv);
    result_free(&r1);
    result_free(&r2);
}

/* Cleartext HTTP/2 with prior knowledge (loopback only). libcurl before 8.0.0 cannot reuse
 * such a connection (curl issue 10634): each request then gets its own. */
Test(async, h2c_prior_knowledge)
{
    omni_h2_server *srv = NULL;
    cr_assert_eq(omni_h2_server_start(&srv, NULL, echo_handler, NULL), 0);
    omni_async *a = new_async(NULL, "{\"httpVersion\":\"2\"}");
    enum { N = 5 };
    result *rs = calloc(N, sizeof(*rs));
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)omni_h2_server_port(srv));
    send_many(a, base, "h2c", rs, N);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    check_echoes(rs, N, "h2c");
    check_processed_once(srv, "h2c", N);
    const omni_h2_request *got = omni_h2_server_request(srv, 0);
    cr_assert_str_eq(got->scheme, "http");
    size_t conns = omni_h2_server_connections(srv);
    if (curl_version_info(CURLVERSION_NOW)->version_num < 0x080000)
        cr_assert_eq(conns, N, "one connection per request on libcurl 7.x");
    else
        cr_assert_eq(conns, 1);
    free_results(rs, N);
    omni_async_free(a);
    omni_h2_server_stop(srv);
}

/* ---- fan-out over one connection -------------------------------------------------------- */

Test(async, thousand_requests_one_h2_connection)
{
    enum { N = 1000 };
    omni_h2_server *srv = h2_start(NULL, echo_handler, NULL);
    omni_async *a = new_async(NULL, ca_opts);
    result *rs = calloc(N, sizeof(*rs));
    char base[64];
    snprintf(base, sizeof base, "https://127.0.0.1:%u", (unsigned)omni_h2_server_port(srv));
    send_many(a, base, "3/device", rs, N);
    cr_assert_eq(omni_async_pending(a), N);
    cr_assert_eq(stat_of(a, "inFlight"), OMNI_ASYNC_DEFAULT_CONCURRENT);
    cr_assert_eq(stat_of(a, "queued"), N - OMNI_ASYNC_DEFAULT_CONCURRENT);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    check_echoes(rs, N, "3/device");
    cr_assert_eq(omni_h2_server_connections(srv), 1, "one multiplexed connection");
    check_processed_once(srv, "3/device", N);
    cr_assert_eq(stat_of(a, "connections"), 1);
    cr_assert_eq(stat_of(a, "succeeded"), N);
    cr_assert_eq(stat_of(a, "retries"), 0);
    cr_assert_eq(stat_of(a, "peakInFlight"), OMNI_ASYNC_DEFAULT_CONCURRENT);
    free_results(rs, N);
    omni_async_free(a);
    omni_h2_server_stop(srv);
}

/* The server never sees more than maxConcurrent streams at once. */
Test(async, max_concurrent_bound)
{
    enum { N = 60, MAX = 7 };
    echo_cfg cfg = {30, NULL, 0}; /* answers held 30 ms, so requests pile up */
    omni_h2_server *srv = h2_start(NULL, echo_handler, &cfg);
    char opts[1600];
    snprintf(opts, sizeof opts, "{\"httpVersion\":\"2\",\"caFile\":\"%s\",\"maxConcurrent\":%d}",
             tls_ca, MAX);
    omni_async *a = new_async(NULL, opts);
    result *rs = calloc(N, sizeof(*rs));
    char base[64];
    snprintf(base, sizeof base, "https://127.0.0.1:%u", (unsigned)omni_h2_server_port(srv));
    send_many(a, base, "bound", rs, N);
    cr_assert_eq(stat_of(a, "inFlight"), MAX);
    cr_assert_eq(stat_of(a, "queued"), N - MAX);
    cr_assert_eq(omni_async_pending(a), N);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    check_echoes(rs, N, "bound");
    size_t peak = omni_h2_server_peak_streams(srv);
    cr_assert(peak <= MAX, "the server saw %zu streams at once", peak);
    cr_assert(peak >= 2, "requests overlapped (%zu)", peak);
    cr_assert_eq(stat_of(a, "peakInFlight"), MAX);
    for (int i = 1; i < N; i++)
        cr_assert(rs[i].order > rs[0].order || i < MAX, "queued requests start in order");
    free_results(rs, N);
    omni_async_free(a);
    omni_h2_server_stop(srv);
}

/* ---- HTTP/1.1: connections are reused ------------------------------------------------------ */

Test(async, http11_connection_reuse)
{
    enum { N = 200 };
    omni_test_server *srv = NULL;
    cr_assert_eq(omni_test_server_start(&srv, echo11_handler, NULL), 0);
    omni_async *a = new_async(NULL, "{\"maxConcurrent\":8}");
    result *rs = calloc(N, sizeof(*rs));
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)omni_test_server_port(srv));
    send_many(a, base, "fcm", rs, N);
    cr_assert_eq(stat_of(a, "inFlight"), 8);
    cr_assert_eq(stat_of(a, "queued"), N - 8);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    check_echoes(rs, N, "fcm");
    size_t conns = omni_test_server_connections(srv);
    cr_assert(conns >= 1 && conns <= 8, "%zu connections for %d requests", conns, N);
    cr_assert_eq((size_t)stat_of(a, "connections"), conns);
    cr_assert_eq(omni_test_server_request_count(srv), N);
    cr_assert_eq(stat_of(a, "peakInFlight"), 8);
    /* "1.1" forces HTTP/1.1 (the h2-capable https path is not used here) */
    omni_async *b = new_async(NULL, "{\"httpVersion\":\"1.1\",\"maxHostConnections\":2}");
    result r = {0};
    omni_http_request *req = new_request("GET", omni_test_server_url(srv, "/v11"), NULL);
    send_ok(b, req, &r);
    omni_http_request_free(req);
    cr_assert_eq(omni_async_run(b), OMNI_OK);
    cr_assert_eq(r.status, OMNI_OK, "%s", r.message);
    cr_assert_str_eq(r.body, "echo GET /v11");
    result_free(&r);
    omni_async_free(b);
    free_results(rs, N);
    omni_async_free(a);
    omni_test_server_stop(srv);
}

/* ---- GOAWAY and connection loss ------------------------------------------------------------ */

/* RFC 9113 section 6.8: GOAWAY names the last stream the server processed; streams above
 * it were not processed and may be sent again on a new connection. */
static void goaway_case(uint32_t error_code)
{
    enum { N = 100 };
    omni_h2_options o = {0};
    o.goaway_after = 10;
    o.goaway_error = error_code;
    o.goaway_min_open = N; /* GOAWAY when all 100 are in flight */
    o.affected_connections = 1;
    omni_h2_server *srv = h2_start(&o, echo_handler, NULL);
    omni_async *a = new_async(NULL, ca_opts);
    result *rs = calloc(N, sizeof(*rs));
    char base[64];
    snprintf(base, sizeof base, "https://127.0.0.1:%u", (unsigned)omni_h2_server_port(srv));
    send_many(a, base, "ga", rs, N);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    check_echoes(rs, N, "ga");
    check_processed_once(srv, "ga", N);
    cr_assert_eq(omni_h2_server_goaways(srv), 1);
    cr_assert(omni_h2_server_ignored(srv) > 0, "streams above last-stream-id were in flight");
    cr_assert_eq(omni_h2_server_connections(srv), 2, "the unanswered went to a 2nd connection");
    cr_assert_eq(stat_of(a, "connections"), 2);
    int64_t retries = stat_of(a, "retries");
    cr_assert((size_t)retries >= omni_h2_server_ignored(srv), "retries %lld, refused %zu",
              (long long)retries, omni_h2_server_ignored(srv));
    cr_assert(retries <= N - 10, "only the refused ones were sent again");
    cr_assert_eq(stat_of(a, "succeeded"), N);
    size_t first = 0;
    for (size_t i = 0; i < N; i++)
        if (omni_h2_server_request(srv, i)->connection == 1)
            first++;
    cr_assert_eq(first, 10, "the first connection processed 10, not %zu", first);
    free_results(rs, N);
    omni_async_free(a);
    omni_h2_server_stop(srv);
}

Test(async, goaway_no_error_retries_unprocessed_streams)
{
    goaway_case(0x0); /* NO_ERROR: graceful shutdown */
}

Test(async, goaway_with_error_code)
{
    goaway_case(0xb); /* ENHANCE_YOUR_CALM */
}

/* A connection that ends without GOAWAY after 10 answers: the unanswered requests are sent
 * again on a new connection; the answered ones are not. */
Test(async, abrupt_drop_retries_unanswered)
{
    enum { N = 100 };
    omni_h2_options o = {0};
    o.drop_after = 10;
    o.affected_connections = 1;
    omni_h2_server *srv = h2_start(&o, echo_handler, NULL);
    omni_async *a = new_async(NULL, ca_opts);
    result *rs = calloc(N, sizeof(*rs));
    char base[64];
    snprintf(base, sizeof base, "https://127.0.0.1:%u", (unsigned)omni_h2_server_port(srv));
    send_many(a, base, "drop", rs, N);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    check_echoes(rs, N, "drop");
    check_processed_once(srv, "drop", N);
    cr_assert_eq(omni_h2_server_drops(srv), 1);
    cr_assert_eq(omni_h2_server_connections(srv), 2);
    cr_assert_eq(stat_of(a, "connections"), 2);
    free_results(rs, N);
    omni_async_free(a);
    omni_h2_server_stop(srv);
}

/* The answer to /partial starts (headers and half its body), then the connection drops:
 * that request fails and is never sent again; the others succeed on a new connection. */
static void partial_handler(void *ctx, const omni_h2_request *req, omni_h2_response *resp)
{
    echo_handler(ctx, req, resp);
    if (strcmp(req->path, "/partial") == 0) {
        resp->body = "0123456789abcdefghij";
        resp->body_len = 20;
        resp->partial = 1;
        resp->delay_ms = 100; /* the others are in flight by then */
    } else {
        resp->delay_ms = 200;
    }
}

Test(async, answered_request_is_never_retried)
{
    enum { N = 20 };
    omni_h2_server *srv = h2_start(NULL, partial_handler, NULL);
    omni_async *a = new_async(NULL, ca_opts);
    result partial = {0};
    omni_http_request *req = new_request("POST", omni_h2_server_url(srv, "/partial"), "{}");
    send_ok(a, req, &partial);
    omni_http_request_free(req);
    result *rs = calloc(N, sizeof(*rs));
    char base[64];
    snprintf(base, sizeof base, "https://127.0.0.1:%u", (unsigned)omni_h2_server_port(srv));
    send_many(a, base, "other", rs, N);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(partial.done, 1);
    cr_assert_eq(partial.status, OMNI_ETRANSPORT, "%d %s", partial.status, partial.message);
    cr_assert_str_eq(partial.code, "TRANSPORT_ERROR");
    check_echoes(rs, N, "other");
    size_t seen = 0;
    for (size_t i = 0; i < omni_h2_server_request_count(srv); i++)
        if (strcmp(omni_h2_server_request(srv, i)->path, "/partial") == 0)
            seen++;
    cr_assert_eq(seen, 1, "the partly answered request was sent once");
    cr_assert_eq(stat_of(a, "failed"), 1);
    cr_assert_eq(stat_of(a, "succeeded"), N);
    result_free(&partial);
    free_results(rs, N);
    omni_async_free(a);
    omni_h2_server_stop(srv);
}

/* libcurl 7.88 resets every stream whose answer has no body (APNs' 200s have none); a server
 * with nghttp2's rapid-reset defence ends such a connection with GOAWAY ENHANCE_YOUR_CALM
 * after ~1000. The fan-out goes on over new connections and every request succeeds. */
static void empty_handler(void *ctx, const omni_h2_request *req, omni_h2_response *resp)
{
    (void)ctx;
    (void)req;
    resp->headers = "apns-id: 6b0d4d3c-1b2a-4a5e-9f00-00000000a1b2\r\n";
    resp->body = "";
    resp->body_len = 0;
}

Test(async, survives_rapid_reset_defence)
{
    enum { N = 2500 };
    omni_h2_options o = {0};
    o.strict_reset_limit = 1;
    omni_h2_server *srv = h2_start(&o, empty_handler, NULL);
    omni_async *a = new_async(NULL, ca_opts);
    result *rs = calloc(N, sizeof(*rs));
    char base[64];
    snprintf(base, sizeof base, "https://127.0.0.1:%u", (unsigned)omni_h2_server_port(srv));
    send_many(a, base, "calm", rs, N);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    for (int i = 0; i < N; i++)
        cr_assert_eq(rs[i].status, OMNI_OK, "request %d: %s", i, rs[i].message);
    check_processed_once(srv, "calm", N);
    size_t conns = omni_h2_server_connections(srv);
    cr_assert(conns >= 2, "%zu connection(s)", conns);
    cr_assert_eq((size_t)stat_of(a, "connections"), conns);
    free_results(rs, N);
    omni_async_free(a);
    omni_h2_server_stop(srv);
}

/* ---- failures ---------------------------------------------------------------------------- */

/* A stream the server resets (INTERNAL_ERROR) may have been processed: reported, not resent. */
static void reset_handler(void *ctx, const omni_h2_request *req, omni_h2_response *resp)
{
    echo_handler(ctx, req, resp);
    if (strcmp(req->path, "/reset") == 0)
        resp->reset = 0x2;
}

Test(async, reset_stream_is_reported_not_resent)
{
    omni_h2_server *srv = h2_start(NULL, reset_handler, NULL);
    omni_async *a = new_async(NULL, ca_opts);
    result r = {0}, ok = {0};
    omni_http_request *req = new_request("POST", omni_h2_server_url(srv, "/reset"), "{}");
    send_ok(a, req, &r);
    omni_http_request_free(req);
    req = new_request("POST", omni_h2_server_url(srv, "/fine"), "{}");
    send_ok(a, req, &ok);
    omni_http_request_free(req);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(r.status, OMNI_ETRANSPORT, "%d %s", r.status, r.message);
    cr_assert_eq(ok.status, OMNI_OK, "%s", ok.message);
    cr_assert_eq(omni_h2_server_request_count(srv), 2, "the reset request was sent once");
    cr_assert_eq(stat_of(a, "retries"), 0);
    result_free(&r);
    result_free(&ok);
    omni_async_free(a);
    omni_h2_server_stop(srv);
}

Test(async, per_request_timeout)
{
    enum { N = 10 };
    echo_cfg cfg = {0, "/slow", 3000};
    omni_h2_server *srv = h2_start(NULL, echo_handler, &cfg);
    omni_async *a = new_async(NULL, ca_opts);
    result slow = {0};
    omni_http_request *req = new_request("POST", omni_h2_server_url(srv, "/slow"), "{}");
    cr_assert_eq(omni_http_request_set_timeout_ms(req, 300), OMNI_OK);
    send_ok(a, req, &slow);
    omni_http_request_free(req);
    result *rs = calloc(N, sizeof(*rs));
    char base[64];
    snprintf(base, sizeof base, "https://127.0.0.1:%u", (unsigned)omni_h2_server_port(srv));
    send_many(a, base, "fast", rs, N);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(slow.status, OMNI_ETIMEOUT, "%s", slow.message);
    cr_assert_str_eq(slow.code, "TIMEOUT");
    cr_assert(strstr(slow.message, "timed out after 300 ms") != NULL, "%s", slow.message);
    cr_assert_null(strstr(slow.message, "/slow"), "no URL path in errors: %s", slow.message);
    check_echoes(rs, N, "fast");
    cr_assert_eq(stat_of(a, "retries"), 0, "a timeout is not sent again");
    result_free(&slow);
    free_results(rs, N);
    omni_async_free(a);
    omni_h2_server_stop(srv);
}

Test(async, default_timeout_option)
{
    omni_test_server *srv = NULL;
    cr_assert_eq(omni_test_server_start(&srv, NULL, NULL), 0);
    cr_assert_eq(omni_test_server_delay(srv, 2000, 200, "late"), 0);
    omni_async *a = new_async(NULL, "{\"timeoutMs\":150}");
    result r = {0};
    omni_http_request *req = new_request("GET", omni_test_server_url(srv, "/late"), NULL);
    send_ok(a, req, &r);
    omni_http_request_free(req);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(r.status, OMNI_ETIMEOUT, "%s", r.message);
    cr_assert(strstr(r.message, "150 ms") != NULL, "%s", r.message);
    result_free(&r);
    omni_async_free(a);
    omni_test_server_stop(srv);
}

Test(async, connect_refused)
{
    /* a port nobody listens on: bind one, note it, close it */
    omni_test_server *tmp = NULL;
    cr_assert_eq(omni_test_server_start(&tmp, NULL, NULL), 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/x", (unsigned)omni_test_server_port(tmp));
    omni_test_server_stop(tmp);
    omni_async *a = new_async(NULL, NULL);
    result r = {0};
    omni_http_request *req = new_request("GET", url, NULL);
    send_ok(a, req, &r);
    omni_http_request_free(req);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(r.status, OMNI_ECONNECT, "%s", r.message);
    cr_assert_str_eq(r.code, "CONNECT_FAILED");
    cr_assert(strstr(r.message, "127.0.0.1") != NULL, "%s", r.message);
    cr_assert_eq(stat_of(a, "failed"), 1);
    cr_assert_eq(stat_of(a, "retries"), 0);
    result_free(&r);
    omni_async_free(a);
}

static void big_handler(void *ctx, const omni_h2_request *req, omni_h2_response *resp)
{
    static char big[5000];
    (void)ctx;
    (void)req;
    memset(big, 'x', sizeof big);
    resp->body = big;
    resp->body_len = sizeof big;
}

Test(async, response_too_large)
{
    omni_h2_server *srv = h2_start(NULL, big_handler, NULL);
    char opts[1600];
    snprintf(opts, sizeof opts, "{\"caFile\":\"%s\",\"maxResponseBytes\":1000}", tls_ca);
    omni_async *a = new_async(NULL, opts);
    result r = {0};
    omni_http_request *req = new_request("GET", omni_h2_server_url(srv, "/big"), NULL);
    send_ok(a, req, &r);
    omni_http_request_free(req);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(r.status, OMNI_ERESPONSE, "%s", r.message);
    cr_assert_str_eq(r.code, "RESPONSE_TOO_LARGE");
    cr_assert(strstr(r.message, "1000 bytes") != NULL, "%s", r.message);
    result_free(&r);
    omni_async_free(a);
    omni_h2_server_stop(srv);

    /* HTTP/1.1 without Content-Length: the limit holds while receiving */
    omni_test_server *s11 = NULL;
    cr_assert_eq(omni_test_server_start(&s11, NULL, NULL), 0);
    omni_test_action act = {0};
    act.kind = OMNI_TEST_HUGE;
    act.huge_len = 1u << 20;
    act.no_length = 1;
    cr_assert_eq(omni_test_server_push(s11, &act), 0);
    a = new_async(NULL, "{\"maxResponseBytes\":1000}");
    req = new_request("GET", omni_test_server_url(s11, "/huge"), NULL);
    send_ok(a, req, &r);
    omni_http_request_free(req);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(r.status, OMNI_ERESPONSE, "%s", r.message);
    result_free(&r);
    omni_async_free(a);
    omni_test_server_stop(s11);
}

/* TLS verification is always on: a server whose CA is not given fails with OMNI_ETLS. */
Test(async, tls_verification_on)
{
    omni_h2_server *srv = h2_start(NULL, echo_handler, NULL);
    omni_async *a = new_async(NULL, "{\"httpVersion\":\"2\"}");
    result r = {0};
    omni_http_request *req = new_request("GET", omni_h2_server_url(srv, "/x"), NULL);
    send_ok(a, req, &r);
    omni_http_request_free(req);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(r.status, OMNI_ETLS, "%d %s", r.status, r.message);
    cr_assert_eq(omni_h2_server_request_count(srv), 0);
    result_free(&r);
    omni_async_free(a);
    omni_h2_server_stop(srv);
}

/* ---- closing with requests in flight -------------------------------------------------------- */

typedef struct close_ctx {
    omni_async *a;
    int done_calls;
    int free_in_done;
} close_ctx;

static void on_done(void *user)
{
    close_ctx *c = user;
    c->done_calls++;
    if (c->free_in_done)
        omni_async_free(c->a);
}

/* The first answer closes the transport from its callback, during omni_async_run. */
typedef struct closer {
    result r;
    close_ctx *cc;
} closer;

static void close_on_result(void *user, const omni_http_response *resp, int status)
{
    closer *c = user;
    on_result(&c->r, resp, status);
    omni_async_close(c->cc->a, on_done, c->cc);
    cr_assert_eq(c->cc->done_calls, 0, "done_cb runs once the handles are closed");
    cr_assert_eq(omni_async_pending(c->cc->a), 0, "every callback ran during close");
    omni_http_request *req = new_request("GET", "http://127.0.0.1:1/", NULL);
    cr_assert_eq(omni_async_send(c->cc->a, req, on_result, NULL), OMNI_ECANCELED);
    omni_http_request_free(req);
    cr_assert_eq(omni_async_run(c->cc->a), OMNI_EINVAL, "no run from a callback");
}

Test(async, close_from_callback_cancels_the_rest)
{
    enum { N = 30 };
    echo_cfg cfg = {1000, "/fast", 0}; /* only /fast is answered at once */
    omni_h2_server *srv = h2_start(NULL, echo_handler, &cfg);
    char opts[1600];
    snprintf(opts, sizeof opts, "{\"httpVersion\":\"2\",\"caFile\":\"%s\",\"maxConcurrent\":20}",
             tls_ca);
    omni_async *a = new_async(NULL, opts);
    close_ctx cc = {a, 0, 0};
    closer first = {{0}, &cc};
    omni_http_request *req = new_request("GET", omni_h2_server_url(srv, "/fast"), NULL);
    cr_assert_eq(omni_async_send(a, req, close_on_result, &first), OMNI_OK);
    omni_http_request_free(req);
    result *rs = calloc(N, sizeof(*rs));
    char base[64];
    snprintf(base, sizeof base, "https://127.0.0.1:%u", (unsigned)omni_h2_server_port(srv));
    send_many(a, base, "slow", rs, N); /* 19 in flight, 11 queued */
    cr_assert_eq(stat_of(a, "queued"), 11);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(cc.done_calls, 1, "done_cb before omni_async_run returns");
    cr_assert_eq(first.r.status, OMNI_OK, "%s", first.r.message);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(rs[i].done, 1);
        cr_assert_eq(rs[i].status, OMNI_ECANCELED, "request %d: %d", i, rs[i].status);
        cr_assert_str_eq(rs[i].code, "CANCELED");
        if (i > 0)
            cr_assert(rs[i].order > rs[i - 1].order, "canceled in the order sent");
    }
    cr_assert_eq(stat_of(a, "canceled"), N);
    cr_assert_eq(stat_of(a, "succeeded"), 1);
    omni_async_close(a, on_done, &cc); /* a second close does nothing */
    cr_assert_eq(cc.done_calls, 1);
    free_results(rs, N);
    result_free(&first.r);
    omni_async_free(a);
    omni_h2_server_stop(srv);
}

Test(async, close_and_free_without_running)
{
    omni_h2_server *srv = h2_start(NULL, echo_handler, NULL);
    omni_async *a = new_async(NULL, ca_opts);
    enum { N = 5 };
    result *rs = calloc(N, sizeof(*rs));
    char base[64];
    snprintf(base, sizeof base, "https://127.0.0.1:%u", (unsigned)omni_h2_server_port(srv));
    send_many(a, base, "never", rs, N);
    close_ctx cc = {a, 0, 0};
    omni_async_close(a, on_done, &cc);
    cr_assert_eq(cc.done_calls, 1, "own loop: done_cb before close returns");
    for (int i = 0; i < N; i++)
        cr_assert_eq(rs[i].status, OMNI_ECANCELED);
    cr_assert_eq(omni_async_pending(a), 0);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    omni_async_free(a);

    /* free with requests outstanding: their callbacks run with OMNI_ECANCELED */
    a = new_async(NULL, ca_opts);
    result r = {0};
    omni_http_request *req = new_request("GET", omni_h2_server_url(srv, "/x"), NULL);
    send_ok(a, req, &r);
    omni_http_request_free(req);
    omni_async_free(a);
    cr_assert_eq(r.done, 1);
    cr_assert_eq(r.status, OMNI_ECANCELED);
    result_free(&r);
    free_results(rs, N);
    omni_h2_server_stop(srv);
}

/* ---- a host's loop --------------------------------------------------------------------------- */

Test(async, runs_on_a_host_loop)
{
    enum { N = 50 };
    uv_loop_t loop;
    cr_assert_eq(uv_loop_init(&loop), 0);
    omni_h2_server *srv = h2_start(NULL, echo_handler, NULL);
    omni_async *a = new_async(&loop, ca_opts);
    cr_assert_eq(omni_async_run(a), OMNI_EINVAL, "run drives only an own loop");
    /* an idle transport does not keep the loop alive */
    cr_assert_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
    result *rs = calloc(N, sizeof(*rs));
    char base[64];
    snprintf(base, sizeof base, "https://127.0.0.1:%u", (unsigned)omni_h2_server_port(srv));
    send_many(a, base, "host", rs, N);
    uv_run(&loop, UV_RUN_DEFAULT); /* returns once nothing is in flight */
    check_echoes(rs, N, "host");
    cr_assert_eq(omni_async_pending(a), 0);
    /* a second round on the same loop and connection */
    for (int i = 0; i < N; i++)
        result_free(&rs[i]);
    send_many(a, base, "host", rs, N);
    uv_run(&loop, UV_RUN_DEFAULT);
    check_echoes(rs, N, "host");
    cr_assert_eq(omni_h2_server_connections(srv), 1);
    close_ctx cc = {a, 0, 0};
    omni_async_close(a, on_done, &cc);
    cr_assert_eq(cc.done_calls, 0, "host loop: done_cb never inside close");
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(cc.done_calls, 1);
    omni_async_free(a);
    cr_assert_eq(uv_loop_close(&loop), 0, "every handle is closed");
    free_results(rs, N);
    omni_h2_server_stop(srv);
}

/* A host timer closes the transport once 10 requests are at the server (which holds its
 * answers); done_cb frees it. */
typedef struct close_timer {
    close_ctx cc;
    omni_h2_server *srv;
} close_timer;

static void close_timer_cb(uv_timer_t *t)
{
    close_timer *ct = t->data;
    if (omni_h2_server_request_count(ct->srv) < 10)
        return; /* looks again in 5 ms */
    ct->cc.free_in_done = 1;
    omni_async_close(ct->cc.a, on_done, &ct->cc);
    uv_close((uv_handle_t *)t, NULL);
}

Test(async, host_loop_close_in_flight)
{
    enum { N = 40 };
    uv_loop_t loop;
    cr_assert_eq(uv_loop_init(&loop), 0);
    echo_cfg cfg = {2000, NULL, 0};
    omni_h2_server *srv = h2_start(NULL, echo_handler, &cfg);
    char opts[1600];
    snprintf(opts, sizeof opts, "{\"caFile\":\"%s\",\"maxConcurrent\":10}", tls_ca);
    omni_async *a = new_async(&loop, opts);
    result *rs = calloc(N, sizeof(*rs));
    char base[64];
    snprintf(base, sizeof base, "https://127.0.0.1:%u", (unsigned)omni_h2_server_port(srv));
    send_many(a, base, "inflight", rs, N);
    close_timer ct = {{a, 0, 0}, srv};
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    t.data = &ct;
    uv_timer_start(&t, close_timer_cb, 5, 5);
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_assert_eq(ct.cc.done_calls, 1);
    for (int i = 0; i < N; i++)
        cr_assert_eq(rs[i].status, OMNI_ECANCELED, "request %d", i);
    cr_assert_eq(omni_h2_server_request_count(srv), 10, "maxConcurrent were in flight");
    cr_assert_eq(uv_loop_close(&loop), 0);
    free_results(rs, N);
    omni_h2_server_stop(srv);
}

/* free on a host loop without close: callbacks canceled, memory released from the loop. */
Test(async, host_loop_free_in_flight)
{
    uv_loop_t loop;
    cr_assert_eq(uv_loop_init(&loop), 0);
    echo_cfg cfg = {2000, NULL, 0};
    omni_h2_server *srv = h2_start(NULL, echo_handler, &cfg);
    omni_async *a = new_async(&loop, ca_opts);
    enum { N = 5 };
    result *rs = calloc(N, sizeof(*rs));
    char base[64];
    snprintf(base, sizeof base, "https://127.0.0.1:%u", (unsigned)omni_h2_server_port(srv));
    send_many(a, base, "f", rs, N);
    uv_run(&loop, UV_RUN_NOWAIT); /* connecting */
    omni_async_free(a);
    for (int i = 0; i < N; i++)
        cr_assert_eq(rs[i].status, OMNI_ECANCELED);
    uv_run(&loop, UV_RUN_DEFAULT); /* the handles close, the memory goes */
    cr_assert_eq(uv_loop_close(&loop), 0);
    free_results(rs, N);
    omni_h2_server_stop(srv);
}

/* Callbacks may send more requests; run goes on until they are done too. */
typedef struct chain {
    omni_async *a;
    const char *url;
    int left;
    int ok;
} chain;

static void chain_cb(void *user, const omni_http_response *resp, int status)
{
    chain *c = user;
    cr_assert_eq(status, OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(omni_http_response_status(resp), 200);
    c->ok++;
    if (--c->left > 0) {
        omni_http_request *req = new_request("GET", c->url, NULL);
        cr_assert_eq(omni_async_send(c->a, req, chain_cb, c), OMNI_OK);
        omni_http_request_free(req);
    }
}

Test(async, send_from_callback)
{
    omni_test_server *srv = NULL;
    cr_assert_eq(omni_test_server_start(&srv, NULL, NULL), 0);
    omni_async *a = new_async(NULL, NULL);
    chain c = {a, omni_test_server_url(srv, "/chain"), 25, 0};
    omni_http_request *req = new_request("GET", c.url, NULL);
    cr_assert_eq(omni_async_send(a, req, chain_cb, &c), OMNI_OK);
    omni_http_request_free(req);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(c.ok, 25);
    cr_assert_eq(omni_test_server_request_count(srv), 25);
    cr_assert_eq(omni_test_server_connections(srv), 1, "the connection is reused");
    omni_async_free(a);
    omni_test_server_stop(srv);
}

/* ---- APNs requests built by omni_push_build ------------------------------------------------- */

#define APNS_OK "5b6f0c4ee2d4e7c1a3f9b8d2c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f800001"
#define APNS_GONE "5b6f0c4ee2d4e7c1a3f9b8d2c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f800410"
#define APNS_BAD "5b6f0c4ee2d4e7c1a3f9b8d2c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f800400"
#define APNS_EXPIRED "5b6f0c4ee2d4e7c1a3f9b8d2c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f800403"
#define APNS_BUSY "5b6f0c4ee2d4e7c1a3f9b8d2c6e0f1a2b3c4d5e6f708192a3b4c5d6e7f800429"

/* Answers the way APNs does ("Handling notification responses from APNs"). */
static void apns_handler(void *ctx, const omni_h2_request *req, omni_h2_response *resp)
{
    (void)ctx;
    const char *token = strrchr(req->path, '/');
    token = token ? token + 1 : "";
    resp->headers = "apns-id: 6b0d4d3c-1b2a-4a5e-9f00-00000000a1b2\r\n";
    resp->body = "";
    resp->body_len = 0;
    const char *why = NULL;
    if (strcmp(token, APNS_GONE) == 0) {
        resp->status = 410;
        why = "{\"reason\":\"Unregistered\",\"timestamp\":1705312800000}";
    } else if (strcmp(token, APNS_BAD) == 0) {
        resp->status = 400;
        why = "{\"reason\":\"BadDeviceToken\"}";
    } else if (strcmp(token, APNS_EXPIRED) == 0) {
        resp->status = 403;
        why = "{\"reason\":\"ExpiredProviderToken\"}";
    } else if (strcmp(token, APNS_BUSY) == 0) {
        resp->status = 429;
        why = "{\"reason\":\"TooManyRequests\"}";
    } else {
        resp->status = 200;
    }
    if (why) {
        resp->body = why;
        resp->body_len = strlen(why);
    }
}

Test(async, apns_requests_from_push_build)
{
    size_t klen = 0;
    char *key = golden_read("push/apns", "AuthKey_TEST123456.p8", &klen);
    cr_assert_not_null(key);
    setenv("OMNI_TEST_ASYNC_APNS_KEY", key, 1);
    free(key);
    omni_h2_server *srv = h2_start(NULL, apns_handler, NULL);
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"apns\":{\"teamId\":\"ABCDE12345\",\"keyId\":\"TEST123456\",\"privateKey\":"
             "{\"env\":\"OMNI_TEST_ASYNC_APNS_KEY\"},\"topic\":\"com.example.app\","
             "\"baseUrl\":\"https://127.0.0.1:%u\"}}",
             (unsigned)omni_h2_server_port(srv));
    omni_push *push = NULL;
    cr_assert_eq(omni_push_new(&push, cfg, strlen(cfg)), OMNI_OK, "%s",
                 omni_error_last_message());
    omni_async *a = new_async(NULL, ca_opts);
    static const char *const tokens[] = {APNS_OK, APNS_GONE, APNS_BAD, APNS_EXPIRED, APNS_BUSY};
    enum { T = 5 };
    result rs[T];
    memset(rs, 0, sizeof rs);
    const int64_t now = 1705312800000LL;
    for (int i = 0; i < T; i++) {
        char msg[512];
        snprintf(msg, sizeof msg,
                 "{\"platform\":\"ios\",\"token\":\"%s\",\"payload\":{\"title\":\"Hello\","
                 "\"body\":\"World\"}}",
                 tokens[i]);
        omni_http_request *req = NULL;
        cr_assert_eq(omni_push_build(&req, push, msg, strlen(msg), now), OMNI_OK, "%s",
                     omni_error_last_message());
        rs[i].want_header = "apns-id";
        send_ok(a, req, &rs[i]);
        omni_http_request_free(req);
    }
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(omni_h2_server_connections(srv), 1);
    cr_assert_eq(omni_h2_server_request_count(srv), T);
    for (size_t i = 0; i < T; i++) {
        const omni_h2_request *r = omni_h2_server_request(srv, i);
        cr_assert_str_eq(r->method, "POST");
        cr_assert_eq(strncmp(r->path, "/3/device/", 10), 0, "%s", r->path);
        cr_assert_eq(strlen(r->path), 10 + 64);
        cr_assert_str_eq(omni_h2_request_header(r, "apns-topic"), "com.example.app");
        cr_assert_str_eq(omni_h2_request_header(r, "apns-push-type"), "alert");
        cr_assert_str_eq(omni_h2_request_header(r, "apns-priority"), "10");
        cr_assert_str_eq(omni_h2_request_header(r, "content-type"), "application/json");
        const char *auth = omni_h2_request_header(r, "authorization");
        cr_assert(auth && strncmp(auth, "bearer ", 7) == 0);
        cr_assert_str_eq((const char *)r->body,
                         "{\"aps\":{\"alert\":{\"title\":\"Hello\",\"body\":\"World\"}}}");
    }
    static const int want_http[T] = {200, 410, 400, 403, 429};
    static const char *const want_code[T] = {NULL, "INVALID_TOKEN", "INVALID_TOKEN",
                                             "TOKEN_EXPIRED", "RATE_LIMITED"};
    for (int i = 0; i < T; i++) {
        cr_assert_eq(rs[i].status, OMNI_OK, "%s", rs[i].message);
        cr_assert_eq(rs[i].http, want_http[i]);
        cr_assert_str_eq(rs[i].header, "6b0d4d3c-1b2a-4a5e-9f00-00000000a1b2");
        /* the answer back through omni_push_parse */
        omni_http_response *resp = NULL;
        cr_assert_eq(omni_http_response_new(&resp), OMNI_OK);
        omni_http_response_set_status(resp, rs[i].http);
        omni_http_response_add_header(resp, "apns-id", rs[i].header);
        omni_http_response_set_body(resp, rs[i].body, strlen(rs[i].body));
        char *out = NULL;
        size_t out_len = 0;
        cr_assert_eq(omni_push_parse(&out, &out_len, push, "ios", resp, now), OMNI_OK, "%s",
                     omni_error_last_message());
        cJSON *j = cJSON_Parse(out);
        cr_assert_not_null(j);
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(j, "success");
        const cJSON *inv = cJSON_GetObjectItemCaseSensitive(j, "invalidToken");
        if (!want_code[i]) {
            cr_assert(cJSON_IsTrue(ok), "%s", out);
            cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "messageId")->valuestring,
                             "6b0d4d3c-1b2a-4a5e-9f00-00000000a1b2");
        } else {
            cr_assert(cJSON_IsFalse(ok), "%s", out);
            const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
            cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(err, "code")->valuestring,
                             want_code[i], "%s", out);
        }
        if (i == 1 || i == 2)
            cr_assert(cJSON_IsTrue(inv), "invalid token reported: %s", out);
        else
            cr_assert(!cJSON_IsTrue(inv), "%s", out);
        cJSON_Delete(j);
        omni_free(out);
        omni_http_response_free(resp);
        result_free(&rs[i]);
    }
    omni_async_free(a);
    omni_push_free(push);
    omni_h2_server_stop(srv);
}

/* ---- errors of the API ----------------------------------------------------------------------- */

static void expect_config_error(const char *opts, const char *path)
{
    omni_async *a = (omni_async *)1;
    int rc = omni_async_new(&a, NULL, opts, strlen(opts));
    cr_assert_eq(rc, OMNI_ECONFIG, "%s: %d %s", opts, rc, omni_error_last_message());
    cr_assert_null(a, "*out is NULL on error");
    const omni_error *e = omni_error_last();
    cr_assert_str_eq(e->code, "INVALID_CONFIG");
    if (path) {
        char want[96];
        snprintf(want, sizeof want, "{\"path\":\"%s\"}", path);
        cr_assert_not_null(e->details, "%s", opts);
        cr_assert_str_eq(e->details, want, "%s", opts);
    }
}

Test(async, bad_options)
{
    expect_config_error("{\"maxConcurrent\":0}", "maxConcurrent");
    expect_config_error("{\"maxConcurrent\":10001}", "maxConcurrent");
    expect_config_error("{\"maxConcurrent\":\"8\"}", "maxConcurrent");
    expect_config_error("{\"maxConcurrent\":1.5}", "maxConcurrent");
    expect_config_error("{\"maxQueued\":0}", "maxQueued");
    expect_config_error("{\"maxQueued\":10000001}", "maxQueued");
    expect_config_error("{\"timeoutMs\":0}", "timeoutMs");
    expect_config_error("{\"timeoutMs\":3600001}", "timeoutMs");
    expect_config_error("{\"connectTimeoutMs\":-1}", "connectTimeoutMs");
    expect_config_error("{\"maxResponseBytes\":0}", "maxResponseBytes");
    expect_config_error("{\"maxResponseBytes\":16777217}", "maxResponseBytes");
    expect_config_error("{\"caFile\":\"/nonexistent/ca.pem\"}", "caFile");
    expect_config_error("{\"caFile\":\"\"}", "caFile");
    expect_config_error("{\"caFile\":7}", "caFile");
    expect_config_error("{\"userAgent\":\"a\\nb\"}", "userAgent");
    expect_config_error("{\"userAgent\":null}", "userAgent");
    expect_config_error("{\"httpVersion\":\"3\"}", "httpVersion");
    expect_config_error("{\"httpVersion\":2}", "httpVersion");
    expect_config_error("{\"maxHostConnections\":1025}", "maxHostConnections");
    expect_config_error("{\"maxHostConnections\":-1}", "maxHostConnections");
    expect_config_error("{\"retryUnanswered\":6}", "retryUnanswered");
    expect_config_error("{\"retryUnanswered\":true}", "retryUnanswered");
    expect_config_error("{\"maxconcurrent\":8}", "maxconcurrent");
    expect_config_error("{\"timeoutMs\":100,\"timeoutMs\":200}", "timeoutMs");
    expect_config_error("[]", NULL);
    expect_config_error("\"x\"", NULL);
    expect_config_error("{\"timeoutMs\":", NULL);
    /* malformed JSON keeps its position */
    omni_async *a = NULL;
    cr_assert_eq(omni_async_new(&a, NULL, "{\n  \"timeoutMs\" 5}", 18), OMNI_ECONFIG);
    cr_assert_not_null(strstr(omni_error_last()->details, "\"line\":2"), "%s",
                       omni_error_last()->details);
    /* every option at once, valid */
    char opts[1800];
    snprintf(opts, sizeof opts,
             "{\"maxConcurrent\":3,\"maxQueued\":5,\"timeoutMs\":2000,\"connectTimeoutMs\":500,"
             "\"maxResponseBytes\":4096,\"caFile\":\"%s\",\"userAgent\":\"test/1\","
             "\"httpVersion\":\"auto\",\"maxHostConnections\":4,\"retryUnanswered\":0}",
             tls_ca);
    a = new_async(NULL, opts);
    omni_async_free(a);
    a = new_async(NULL, "");
    omni_async_free(a);
}

static void never_called(void *user, const omni_http_response *resp, int status)
{
    (void)user;
    (void)resp;
    (void)status;
    cr_assert_fail("a callback ran for a send that failed");
}

Test(async, api_errors)
{
    cr_assert_eq(omni_async_new(NULL, NULL, NULL, 0), OMNI_EINVAL);
    omni_async *a = NULL;
    cr_assert_eq(omni_async_new(&a, NULL, NULL, 3), OMNI_EINVAL);
    cr_assert_null(a);
    a = new_async(NULL, "{\"maxConcurrent\":1,\"maxQueued\":1}");
    omni_http_request *ok = new_request("GET", "http://127.0.0.1:9/x", NULL);
    cr_assert_eq(omni_async_send(NULL, ok, never_called, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_async_send(a, NULL, never_called, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_async_send(a, ok, NULL, NULL), OMNI_EINVAL);
    cr_assert_str_eq(omni_error_last_code(), "INVALID_ARGUMENT");

    omni_http_request *smtp = NULL;
    cr_assert_eq(omni_http_request_new(&smtp, "SEND", "smtp://127.0.0.1:2525"), OMNI_OK);
    cr_assert_eq(omni_async_send(a, smtp, never_called, NULL), OMNI_EUNSUPPORTED);
    cr_assert_str_eq(omni_error_last_code(), "UNSUPPORTED");
    omni_http_request_free(smtp);

    /* the queue bound: one in flight, one queued, the third refused */
    result r1 = {0}, r2 = {0};
    send_ok(a, ok, &r1);
    send_ok(a, ok, &r2);
    cr_assert_eq(omni_async_send(a, ok, never_called, NULL), OMNI_ETOOLARGE);
    cr_assert_eq(omni_async_pending(a), 2);
    cr_assert_eq(omni_async_run(a), OMNI_OK);
    cr_assert_eq(r1.status, OMNI_ECONNECT, "%s", r1.message); /* port 9: discard, closed */
    cr_assert_eq(r2.status, OMNI_ECONNECT);
    result_free(&r1);
    result_free(&r2);
    omni_async_free(a);

    /* cleartext HTTP/2 only to loopback hosts */
    a = new_async(NULL, "{\"httpVersion\":\"2\"}");
    omni_http_request *far = new_request("POST", "http://push.example.com/3/device/x", "{}");
    cr_assert_eq(omni_async_send(a, far, never_called, NULL), OMNI_EUNSUPPORTED);
    cr_assert_null(strstr(omni_error_last_message(), "/3/device"), "%s",
                   omni_error_last_message());
    omni_http_request_free(far);
    static const char *const loopback[] = {"http://localhost:9/x", "http://[::1]:9/x",
                                           "http://127.1.2.3:9/x"};
    for (size_t i = 0; i < 3; i++) {
        omni_http_request *lo = new_request("GET", loopback[i], NULL);
        result r = {0};
        send_ok(a, lo, &r);
        omni_http_request_free(lo);
        cr_assert_eq(omni_async_run(a), OMNI_OK);
        cr_assert(r.status == OMNI_ECONNECT || r.status == OMNI_ETRANSPORT, "%s: %s",
                  loopback[i], r.message);
        result_free(&r);
    }
    omni_async_close(a, NULL, NULL);
    cr_assert_eq(omni_async_send(a, ok, never_called, NULL), OMNI_ECANCELED);
    omni_async_free(a);

    cr_assert_eq(omni_async_run(NULL), OMNI_EINVAL);
    cr_assert_eq(omni_async_pending(NULL), 0);
    char *out = NULL;
    size_t len = 0;
    cr_assert_eq(omni_async_stats(NULL, &out, &len), OMNI_EINVAL);
    a = new_async(NULL, NULL);
    cr_assert_eq(omni_async_stats(a, NULL, &len), OMNI_EINVAL);
    cr_assert_eq(omni_async_stats(a, &out, NULL), OMNI_OK, "out_len may be NULL");
    omni_free(out);
    omni_async_free(a);
    omni_async_close(NULL, NULL, NULL);
    omni_async_free(NULL);
    omni_http_request_free(ok);
}
