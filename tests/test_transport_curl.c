/* Tests of the libcurl transport against the real test server on 127.0.0.1. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <omni/omni.h>

#include "http_server.h"

static void no_proxy(void)
{
    /* curl honours the proxy variables; these tests talk to 127.0.0.1. */
    const char *vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                          "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
}

TestSuite(curl, .init = no_proxy);

static omni_test_server *server(omni_test_handler h, void *ctx)
{
    omni_test_server *srv = NULL;
    cr_assert_eq(omni_test_server_start(&srv, h, ctx), 0);
    return srv;
}

static omni_transport *curl_tp(const char *options)
{
    omni_transport *t = NULL;
    int rc = omni_transport_curl_new(&t, options, options ? strlen(options) : 0);
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    return t;
}

static omni_http_request *req(const char *method, const char *url)
{
    omni_http_request *r = NULL;
    cr_assert_eq(omni_http_request_new(&r, method, url), OMNI_OK, "%s",
                 omni_error_last_message());
    return r;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(curl, get_with_headers)
{
    omni_test_server *srv = server(NULL, NULL);
    omni_test_server_respond(srv, 200, "Content-Type: application/json\r\nX-Reply: yes\r\n"
                                       "X-Twice: a\r\nX-Twice: b\r\n",
                             "{\"ok\":true}", 11);
    omni_transport *t = curl_tp(NULL);
    omni_http_request *r = req("GET", omni_test_server_url(srv, "/v1/items?x=1&y=%20"));
    omni_http_request_add_header(r, "Authorization", "Bearer abc");
    omni_http_request_add_header(r, "X-Empty", "");
    omni_http_request_add_header(r, "X-Multi", "1");
    omni_http_request_add_header(r, "X-Multi", "2");
    omni_http_response *resp = NULL;
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(omni_http_response_status(resp), 200);
    cr_assert_str_eq(omni_http_response_body(resp, NULL), "{\"ok\":true}");
    cr_assert_str_eq(omni_http_response_header(resp, "content-type"), "application/json");
    cr_assert_str_eq(omni_http_response_header(resp, "X-REPLY"), "yes");
    cr_assert_str_eq(omni_http_response_header(resp, "content-length"), "11");
    /* Repeated response headers are kept in order. */
    size_t twice = 0;
    for (size_t i = 0; i < omni_http_response_header_count(resp); i++)
        if (strcmp(omni_http_response_header_name(resp, i), "X-Twice") == 0)
            cr_assert_str_eq(omni_http_response_header_value(resp, i), twice++ ? "b" : "a");
    cr_assert_eq(twice, 2);
    omni_http_response_free(resp);

    const omni_test_request *got = omni_test_server_request(srv, 0);
    cr_assert_not_null(got);
    cr_assert_str_eq(got->method, "GET");
    cr_assert_str_eq(got->target, "/v1/items?x=1&y=%20");
    cr_assert_str_eq(omni_test_request_header(got, "authorization"), "Bearer abc");
    cr_assert_str_eq(omni_test_request_header(got, "x-empty"), "");
    cr_assert_str_eq(omni_test_request_header(got, "User-Agent"), "libomni/" OMNI_VERSION_STRING);
    cr_assert_null(omni_test_request_header(got, "Accept"));  /* curl's default suppressed */
    cr_assert_null(omni_test_request_header(got, "Expect"));
    cr_assert_null(omni_test_request_header(got, "Content-Length"));
    size_t multi = 0;
    for (size_t i = 0; i < got->header_count; i++)
        if (strcmp(got->header_names[i], "X-Multi") == 0)
            cr_assert_str_eq(got->header_values[i], multi++ ? "2" : "1");
    cr_assert_eq(multi, 2);
    cr_assert_eq(got->body_len, 0);
    omni_http_request_free(r);
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

static void check_body_method(const char *method, int expect_length_header)
{
    omni_test_server *srv = server(NULL, NULL);
    omni_transport *t = curl_tp("{\"userAgent\":\"tester/1.0\"}");
    unsigned char body[1000];
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (unsigned char)(i * 31 + 7); /* every byte value, NULs included */
    omni_http_request *r = req(method, omni_test_server_url(srv, "/upload"));
    omni_http_request_add_header(r, "Content-Type", "application/octet-stream");
    omni_http_request_add_header(r, "Content-Length", "5"); /* wrong: curl computes it */
    omni_http_request_set_body(r, body, sizeof(body));
    omni_http_response *resp = NULL;
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_OK, "%s: %s", method,
                 omni_error_last_message());
    cr_assert_eq(omni_http_response_status(resp), 200);
    omni_http_response_free(resp);
    const omni_test_request *got = omni_test_server_request(srv, 0);
    cr_assert_str_eq(got->method, method);
    cr_assert_eq(got->body_len, sizeof(body));
    cr_assert_eq(memcmp(got->body, body, sizeof(body)), 0);
    cr_assert_str_eq(omni_test_request_header(got, "content-type"), "application/octet-stream");
    cr_assert_str_eq(omni_test_request_header(got, "user-agent"), "tester/1.0");
    if (expect_length_header)
        cr_assert_str_eq(omni_test_request_header(got, "content-length"), "1000");
    cr_assert_null(omni_test_request_header(got, "expect"));
    omni_http_request_free(r);
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

Test(curl, post_binary_body)
{
    check_body_method("POST", 1);
}

Test(curl, put_patch_delete_with_bodies)
{
    check_body_method("PUT", 1);
    check_body_method("PATCH", 1);
    check_body_method("DELETE", 1);
    check_body_method("OPTIONS", 1);
}

Test(curl, methods_without_body)
{
    omni_test_server *srv = server(NULL, NULL);
    omni_transport *t = curl_tp(NULL);
    const char *methods[] = {"DELETE", "POST", "PUT", "GET"};
    for (size_t i = 0; i < 4; i++) {
        omni_http_request *r = req(methods[i], omni_test_server_url(srv, "/x"));
        omni_http_response *resp;
        cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_OK, "%s", omni_error_last_message());
        omni_http_response_free(resp);
        omni_http_request_free(r);
        const omni_test_request *got = omni_test_server_request(srv, i);
        cr_assert_str_eq(got->method, methods[i]);
        cr_assert_eq(got->body_len, 0);
        /* POST and PUT announce their empty body; no form Content-Type is invented. */
        if (i == 1 || i == 2)
            cr_assert_str_eq(omni_test_request_header(got, "content-length"), "0");
        cr_assert_null(omni_test_request_header(got, "content-type"));
    }
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

Test(curl, head)
{
    omni_test_server *srv = server(NULL, NULL);
    omni_test_server_respond(srv, 200, "X-Head: 1\r\n", "twelve bytes", 12);
    omni_transport *t = curl_tp("{\"maxResponseBytes\":4}");
    omni_http_request *r = req("HEAD", omni_test_server_url(srv, "/h"));
    omni_http_response *resp;
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(omni_http_response_status(resp), 200);
    cr_assert_str_eq(omni_http_response_header(resp, "content-length"), "12");
    cr_assert_str_eq(omni_http_response_header(resp, "x-head"), "1");
    size_t len = 99;
    omni_http_response_body(resp, &len);
    cr_assert_eq(len, 0);
    omni_http_response_free(resp);
    cr_assert_str_eq(omni_test_server_request(srv, 0)->method, "HEAD");
    /* the connection is still usable afterwards */
    omni_http_request_free(r);
    r = req("GET", omni_test_server_url(srv, "/after"));
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_OK);
    omni_http_response_free(resp);
    cr_assert_eq(omni_test_server_connections(srv), 1);
    omni_http_request_free(r);
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

Test(curl, error_statuses_are_responses)
{
    omni_test_server *srv = server(NULL, NULL);
    omni_test_server_respond(srv, 404, NULL, "no such thing", 13);
    omni_test_server_respond(srv, 500, NULL, "boom", 4);
    omni_test_server_respond(srv, 429, "Retry-After: 7\r\n", "", 0);
    omni_test_server_respond(srv, 302, "Location: http://127.0.0.1:1/elsewhere\r\n", "", 0);
    omni_transport *t = curl_tp(NULL);
    int want[] = {404, 500, 429, 302};
    for (int i = 0; i < 4; i++) {
        omni_http_request *r = req("GET", omni_test_server_url(srv, "/e"));
        omni_http_response *resp = NULL;
        cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_OK, "%s", omni_error_last_message());
        cr_assert_eq(omni_http_response_status(resp), want[i]);
        if (i == 0)
            cr_assert_str_eq(omni_http_response_body(resp, NULL), "no such thing");
        if (i == 2)
            cr_assert_str_eq(omni_http_response_header(resp, "retry-after"), "7");
        omni_http_response_free(resp);
        omni_http_request_free(r);
    }
    /* the redirect was not followed */
    cr_assert_eq(omni_test_server_request_count(srv), 4);
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

Test(curl, headers_of_the_final_response_only)
{
    omni_test_server *srv = server(NULL, NULL);
    static const char raw[] = "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
                              "HTTP/1.1 201 Created\r\nContent-Length: 4\r\nX-Final: 1\r\n"
                              "X-Folded: first\r\n  second\r\n\r\ndone";
    omni_test_action a = {0};
    a.kind = OMNI_TEST_RAW;
    a.body = raw;
    a.body_len = sizeof(raw) - 1;
    omni_test_server_push(srv, &a);
    omni_transport *t = curl_tp(NULL);
    omni_http_request *r = req("POST", omni_test_server_url(srv, "/c"));
    omni_http_request_set_body(r, "x", 1);
    omni_http_response *resp;
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(omni_http_response_status(resp), 201);
    cr_assert_null(omni_http_response_header(resp, "x-interim"));
    cr_assert_str_eq(omni_http_response_header(resp, "x-final"), "1");
    cr_assert_str_eq(omni_http_response_header(resp, "x-folded"), "first second");
    cr_assert_str_eq(omni_http_response_body(resp, NULL), "done");
    omni_http_response_free(resp);
    omni_http_request_free(r);
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

Test(curl, keep_alive_reuse)
{
    omni_test_server *srv = server(NULL, NULL);
    omni_transport *t = curl_tp(NULL);
    for (int i = 0; i < 10; i++) {
        omni_http_request *r = req(i % 2 ? "POST" : "GET", omni_test_server_url(srv, "/k"));
        if (i % 2)
            omni_http_request_set_body(r, "data", 4);
        omni_http_response *resp;
        cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_OK, "%s", omni_error_last_message());
        cr_assert_str_eq(omni_http_response_body(resp, NULL), "ok");
        omni_http_response_free(resp);
        omni_http_request_free(r);
    }
    cr_assert_eq(omni_test_server_request_count(srv), 10);
    cr_assert_eq(omni_test_server_connections(srv), 1);
    for (size_t i = 0; i < 10; i++)
        cr_assert_eq(omni_test_server_request(srv, i)->connection, 1);
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

Test(curl, no_reuse_when_max_connections_is_zero)
{
    omni_test_server *srv = server(NULL, NULL);
    omni_transport *t = curl_tp("{\"maxConnections\":0}");
    for (int i = 0; i < 3; i++) {
        omni_http_request *r = req("GET", omni_test_server_url(srv, "/k"));
        omni_http_response *resp;
        cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_OK);
        omni_http_response_free(resp);
        omni_http_request_free(r);
    }
    cr_assert_eq(omni_test_server_connections(srv), 3);
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

Test(curl, timeout)
{
    omni_test_server *srv = server(NULL, NULL);
    omni_test_server_delay(srv, 5000, 200, "late");
    omni_test_server_delay(srv, 5000, 200, "late");
    omni_transport *t = curl_tp("{\"timeoutMs\":300}");
    /* the request's own timeout */
    omni_http_request *r = req("GET", omni_test_server_url(srv, "/slow"));
    omni_http_request_set_timeout_ms(r, 200);
    omni_http_response *resp = NULL;
    int64_t start = mono_ms();
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_ETIMEOUT, "%s",
                 omni_error_last_message());
    int64_t took = mono_ms() - start;
    cr_assert_lt(took, 3000, "took %lld ms", (long long)took);
    cr_assert_geq(took, 150);
    cr_assert_null(resp);
    cr_assert_eq(omni_error_last_retryable(), 1);
    cr_assert_str_eq(omni_error_last_code(), "TIMEOUT");
    cr_assert_not_null(strstr(omni_error_last_message(), "127.0.0.1"));
    omni_http_request_free(r);
    /* the transport's default */
    r = req("GET", omni_test_server_url(srv, "/slow"));
    start = mono_ms();
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_ETIMEOUT);
    took = mono_ms() - start;
    cr_assert_lt(took, 3000);
    cr_assert_geq(took, 250);
    omni_http_request_free(r);
    omni_transport_free(t);
    omni_test_server_stop(srv); /* does not wait for the delayed answers */
}

static uint16_t closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd); /* bound but never listening: now refuses connections */
    return ntohs(a.sin_port);
}

Test(curl, connection_refused)
{
    char url[64];
    uint16_t port = closed_port();
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x?token=SECRET", (unsigned)port);
    omni_transport *t = curl_tp(NULL);
    omni_http_request *r = req("POST", url);
    omni_http_request_add_header(r, "Authorization", "Bearer SECRET");
    omni_http_request_set_body(r, "SECRET", 6);
    omni_http_response *resp = NULL;
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_ECONNECT, "%s",
                 omni_error_last_message());
    cr_assert_null(resp);
    cr_assert_eq(omni_error_last_retryable(), 1);
    char host[32];
    snprintf(host, sizeof(host), "127.0.0.1:%u", (unsigned)port);
    cr_assert_not_null(strstr(omni_error_last_message(), host), "%s", omni_error_last_message());
    cr_assert_null(strstr(omni_error_last_message(), "SECRET"));
    omni_http_request_free(r);
    omni_transport_free(t);
}

Test(curl, closed_without_answer)
{
    omni_test_server *srv = server(NULL, NULL);
    omni_test_server_close_next(srv);
    omni_transport *t = curl_tp(NULL);
    omni_http_request *r = req("GET", omni_test_server_url(srv, "/c"));
    omni_http_response *resp = NULL;
    int rc = omni_transport_send(t, r, &resp);
    cr_assert_eq(rc, OMNI_ETRANSPORT, "%d %s", rc, omni_error_last_message());
    cr_assert_eq(omni_error_last_retryable(), 1);
    cr_assert_null(resp);
    cr_assert_eq(omni_test_server_request_count(srv), 1);
    /* the next request opens a new connection and works */
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_OK);
    omni_http_response_free(resp);
    omni_http_request_free(r);
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

Test(curl, garbage_answer)
{
    omni_test_server *srv = server(NULL, NULL);
    static const char junk[] = "SSH-2.0-OpenSSH\r\n\x01\x02\x03 not http at all\r\n\r\n";
    omni_test_action a = {0};
    a.kind = OMNI_TEST_RAW;
    a.body = junk;
    a.body_len = sizeof(junk) - 1;
    a.close_after = 1;
    omni_test_server_push(srv, &a);
    omni_transport *t = curl_tp(NULL);
    omni_http_request *r = req("GET", omni_test_server_url(srv, "/g"));
    omni_http_response *resp = NULL;
    int rc = omni_transport_send(t, r, &resp);
    cr_assert_eq(rc, OMNI_ETRANSPORT, "%d %s", rc, omni_error_last_message());
    cr_assert_null(resp);
    omni_http_request_free(r);
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

Test(curl, malformed_responses)
{
    /* Bad header lines and statuses: refused by curl or by the transport,
     * never turned into a half-parsed response. */
    static const char nul_raw[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Nul: a\0b\r\n\r\n";
    static const char *raws[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nNoColon\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nBad Name: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nName : x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n:empty\r\n\r\n",
        "HTTP/1.1 200 OK\r\n folded-first\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n",
        nul_raw,
    };
    static const size_t lens[] = {0, 0, 0, 0, 0, 0, sizeof(nul_raw) - 1};
    omni_test_server *srv = server(NULL, NULL);
    omni_transport *t = curl_tp(NULL);
    for (size_t i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
        omni_test_action a = {0};
        a.kind = OMNI_TEST_RAW;
        a.body = raws[i];
        a.body_len = lens[i] ? lens[i] : strlen(raws[i]);
        a.close_after = 1;
        omni_test_server_push(srv, &a);
        omni_http_request *r = req("GET", omni_test_server_url(srv, "/m"));
        omni_http_response *resp = NULL;
        int rc = omni_transport_send(t, r, &resp);
        cr_assert_eq(rc, OMNI_ETRANSPORT, "%zu: %d %s", i, rc, omni_error_last_message());
        cr_assert_null(resp);
        cr_assert_not_null(strstr(omni_error_last_message(), "127.0.0.1"));
        omni_http_request_free(r);
    }
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

Test(curl, response_size_limit)
{
    omni_test_server *srv = server(NULL, NULL);
    omni_test_action a = {0};
    a.kind = OMNI_TEST_HUGE;
    a.huge_len = 50u * 1024u * 1024u; /* announced with Content-Length */
    omni_test_server_push(srv, &a);
    a.no_length = 1; /* streamed until close: caught while receiving */
    omni_test_server_push(srv, &a);
    char exact[1024];
    memset(exact, 'e', sizeof(exact));
    omni_test_server_respond(srv, 200, NULL, exact, sizeof(exact));
    omni_transport *t = curl_tp("{\"maxResponseBytes\":1024}");
    omni_http_request *r = req("GET", omni_test_server_url(srv, "/huge"));
    omni_http_response *resp = NULL;
    int64_t start = mono_ms();
    for (int i = 0; i < 2; i++) {
        int rc = omni_transport_send(t, r, &resp);
        cr_assert_eq(rc, OMNI_ERESPONSE, "%d: %d %s", i, rc, omni_error_last_message());
        cr_assert_eq(omni_error_last_retryable(), 0);
        cr_assert_str_eq(omni_error_last_code(), "RESPONSE_TOO_LARGE");
        cr_assert_null(resp);
    }
    cr_assert_lt(mono_ms() - start, 5000);
    /* exactly the limit is fine */
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_OK, "%s", omni_error_last_message());
    size_t len;
    omni_http_response_body(resp, &len);
    cr_assert_eq(len, 1024);
    omni_http_response_free(resp);
    omni_http_request_free(r);
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

static void many_headers(void *ctx, const omni_test_request *req, omni_test_action *act)
{
    (void)req;
    static char buf[200 * 16];
    size_t n = 0;
    for (int i = 0; i < *(int *)ctx; i++)
        n += (size_t)sprintf(buf + n, "X-H%d: %d\r\n", i, i);
    act->headers = buf;
}

Test(curl, response_header_limit)
{
    int count = 200;
    omni_test_server *srv = server(many_headers, &count);
    omni_transport *t = curl_tp(NULL);
    omni_http_request *r = req("GET", omni_test_server_url(srv, "/h"));
    omni_http_response *resp = NULL;
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_ERESPONSE, "%s",
                 omni_error_last_message());
    omni_http_request_free(r);
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

Test(curl, https_to_plain_server_fails)
{
    omni_test_server *srv = server(NULL, NULL);
    char url[64];
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/tls", (unsigned)omni_test_server_port(srv));
    omni_transport *t = curl_tp("{\"timeoutMs\":3000}");
    omni_http_request *r = req("GET", url);
    omni_http_response *resp = NULL;
    int rc = omni_transport_send(t, r, &resp);
    cr_assert(rc == OMNI_ETLS || rc == OMNI_ECONNECT, "got %d: %s", rc,
              omni_error_last_message());
    cr_assert_null(resp);
    /* one attempt, no silent retry, and nothing reached the application */
    cr_assert_eq(omni_test_server_connections(srv), 1);
    cr_assert_eq(omni_test_server_request_count(srv), 0);
    if (rc == OMNI_ETLS)
        cr_assert_eq(omni_error_last_retryable(), 0);
    omni_http_request_free(r);
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

static void echo_path(void *ctx, const omni_test_request *req, omni_test_action *act)
{
    (void)ctx;
    act->body = req->target;
    act->body_len = strlen(req->target);
}

typedef struct worker {
    omni_transport *t;
    omni_test_server *srv;
    int id;
    int failures;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 10; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/t%d/r%d", w->id, i);
        omni_http_request *r = NULL;
        if (omni_http_request_new(&r, "POST", omni_test_server_url(w->srv, path)) != OMNI_OK) {
            w->failures++;
            continue;
        }
        omni_http_request_set_body(r, path, strlen(path));
        omni_http_response *resp = NULL;
        if (omni_transport_send(w->t, r, &resp) != OMNI_OK ||
            strcmp(omni_http_response_body(resp, NULL), path) != 0)
            w->failures++;
        omni_http_response_free(resp);
        omni_http_request_free(r);
    }
    return NULL;
}

Test(curl, concurrent_sends)
{
    omni_test_server *srv = server(echo_path, NULL);
    omni_transport *t = curl_tp(NULL);
    pthread_t th[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){t, srv, i, 0};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].failures, 0, "thread %d", i);
    }
    cr_assert_eq(omni_test_server_request_count(srv), 40);
    /* connections are pooled: never more than one per thread */
    cr_assert_leq(omni_test_server_connections(srv), 4);
    for (size_t i = 0; i < 40; i++) {
        const omni_test_request *got = omni_test_server_request(srv, i);
        cr_assert_eq(got->body_len, strlen(got->target));
        cr_assert_eq(memcmp(got->body, got->target, got->body_len), 0);
    }
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

Test(curl, hook_round_trip)
{
    omni_test_server *srv = server(NULL, NULL);
    omni_transport *t = curl_tp(NULL);
    omni_transport_hook hook;
    cr_assert_eq(omni_transport_get_hook(t, &hook), OMNI_OK);
    cr_assert_null(hook.close);
    omni_transport *w;
    cr_assert_eq(omni_transport_wrap(&w, &hook), OMNI_OK);
    omni_http_request *r = req("GET", omni_test_server_url(srv, "/w"));
    omni_http_response *resp;
    cr_assert_eq(omni_transport_send(w, r, &resp), OMNI_OK);
    omni_http_response_free(resp);
    omni_transport_free(w);
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_OK); /* still alive */
    omni_http_response_free(resp);
    char *out;
    cr_assert_eq(omni_transport_scripted_sent(t, &out, NULL), OMNI_EINVAL);
    omni_http_request_free(r);
    omni_transport_free(t);
    omni_test_server_stop(srv);
}

static void expect_bad_options(const char *json, const char *path)
{
    omni_transport *t = (omni_transport *)(uintptr_t)1;
    int rc = omni_transport_curl_new(&t, json, strlen(json));
    cr_assert_eq(rc, OMNI_ECONFIG, "%s gave %d (%s)", json, rc, omni_error_last_message());
    cr_assert_null(t);
    if (path) {
        char want[96];
        snprintf(want, sizeof(want), "{\"path\":\"%s\"}", path);
        cr_assert_str_eq(omni_error_last()->details, want, "%s", json);
    }
}

Test(curl, options)
{
    omni_transport_free(curl_tp(NULL));
    omni_transport_free(curl_tp(""));
    omni_transport_free(curl_tp("{}"));
    char path[] = "/tmp/omni-ca-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    char json[512];
    snprintf(json, sizeof(json),
             "{\"timeoutMs\":10000,\"connectTimeoutMs\":5000,\"maxResponseBytes\":1048576,"
             "\"maxConnections\":8,\"caFile\":\"%s\",\"userAgent\":\"libomni-test\"}",
             path);
    omni_transport_free(curl_tp(json));
    /* a transport with a caFile still talks plain http */
    omni_test_server *srv = server(NULL, NULL);
    omni_transport *ca = curl_tp(json);
    omni_http_request *r = req("GET", omni_test_server_url(srv, "/ca"));
    omni_http_response *resp;
    cr_assert_eq(omni_transport_send(ca, r, &resp), OMNI_OK, "%s", omni_error_last_message());
    cr_assert_str_eq(omni_test_request_header(omni_test_server_request(srv, 0), "user-agent"),
                     "libomni-test");
    omni_http_response_free(resp);
    omni_http_request_free(r);
    omni_transport_free(ca);
    omni_test_server_stop(srv);
    unlink(path);
    omni_transport_free(curl_tp("{\"maxConnections\":0,\"maxResponseBytes\":16777216}"));

    expect_bad_options("{", NULL);
    expect_bad_options("[]", NULL);
    expect_bad_options("null", NULL);
    expect_bad_options("{\"timeout\":5}", "timeout");
    expect_bad_options("{\"verifyPeer\":false}", "verifyPeer");
    expect_bad_options("{\"insecure\":true}", "insecure");
    expect_bad_options("{\"timeoutMs\":0}", "timeoutMs");
    expect_bad_options("{\"timeoutMs\":-5}", "timeoutMs");
    expect_bad_options("{\"timeoutMs\":1.5}", "timeoutMs");
    expect_bad_options("{\"timeoutMs\":\"100\"}", "timeoutMs");
    expect_bad_options("{\"timeoutMs\":3600001}", "timeoutMs");
    expect_bad_options("{\"timeoutMs\":100,\"timeoutMs\":200}", "timeoutMs");
    expect_bad_options("{\"connectTimeoutMs\":0}", "connectTimeoutMs");
    expect_bad_options("{\"maxResponseBytes\":0}", "maxResponseBytes");
    expect_bad_options("{\"maxResponseBytes\":16777217}", "maxResponseBytes");
    expect_bad_options("{\"maxConnections\":-1}", "maxConnections");
    expect_bad_options("{\"maxConnections\":65}", "maxConnections");
    expect_bad_options("{\"caFile\":\"/nonexistent/ca.pem\"}", "caFile");
    expect_bad_options("{\"caFile\":\"\"}", "caFile");
    expect_bad_options("{\"caFile\":null}", "caFile");
    expect_bad_options("{\"userAgent\":\"a\\r\\nX-Injected: 1\"}", "userAgent");
    expect_bad_options("{\"userAgent\":7}", "userAgent");
    expect_bad_options("{\"user\\\"Agent\":\"x\"}", "user?Agent");
    cr_assert_eq(omni_transport_curl_new(NULL, NULL, 0), OMNI_EINVAL);
    omni_transport *t;
    cr_assert_eq(omni_transport_curl_new(&t, NULL, 4), OMNI_EINVAL);
}
