/* Tests of the scripted transport and of omni_transport_wrap around a host hook. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

static omni_transport *scripted(const char *json)
{
    omni_transport *t = NULL;
    int rc = omni_transport_scripted_new(&t, json, strlen(json));
    cr_assert_eq(rc, OMNI_OK, "%s: %s", json, omni_error_last_message());
    cr_assert_not_null(t);
    return t;
}

static omni_http_request *req(const char *method, const char *url)
{
    omni_http_request *r = NULL;
    cr_assert_eq(omni_http_request_new(&r, method, url), OMNI_OK);
    return r;
}

static int send_get(omni_transport *t, const char *url, omni_http_response **out)
{
    omni_http_request *r = req("GET", url);
    int rc = omni_transport_send(t, r, out);
    omni_http_request_free(r);
    return rc;
}

static char *sent(omni_transport *t)
{
    char *out = NULL;
    size_t len = 0;
    cr_assert_eq(omni_transport_scripted_sent(t, &out, &len), OMNI_OK);
    cr_assert_eq(len, strlen(out));
    return out;
}

Test(scripted, answers_in_order)
{
    omni_transport *t = scripted(
        "[{\"status\":200,\"headers\":{\"Content-Type\":\"application/json\"},"
        "\"body\":\"{\\\"id\\\":1}\"},"
        "{\"status\":404},"
        "{\"status\":500,\"headers\":[[\"X-A\",\"1\"],[\"X-A\",\"2\"]],\"bodyBase64\":\"AP8=\"}]");
    omni_http_response *resp = NULL;
    cr_assert_eq(send_get(t, "http://h/1", &resp), OMNI_OK);
    cr_assert_eq(omni_http_response_status(resp), 200);
    cr_assert_str_eq(omni_http_response_header(resp, "content-type"), "application/json");
    cr_assert_str_eq(omni_http_response_body(resp, NULL), "{\"id\":1}");
    omni_http_response_free(resp);

    cr_assert_eq(send_get(t, "http://h/2", &resp), OMNI_OK); /* 4xx is a response */
    cr_assert_eq(omni_http_response_status(resp), 404);
    cr_assert_eq(omni_http_response_header_count(resp), 0);
    omni_http_response_free(resp);

    cr_assert_eq(send_get(t, "http://h/3", &resp), OMNI_OK);
    cr_assert_eq(omni_http_response_status(resp), 500);
    cr_assert_eq(omni_http_response_header_count(resp), 2);
    cr_assert_str_eq(omni_http_response_header_value(resp, 1), "2");
    size_t len;
    const char *b = omni_http_response_body(resp, &len);
    cr_assert_eq(len, 2);
    cr_assert_eq(memcmp(b, "\x00\xff", 2), 0);
    omni_http_response_free(resp);
    omni_transport_free(t);
}

Test(scripted, records_deep_copies)
{
    omni_transport *t = scripted("[{\"status\":202},{\"status\":200}]");
    omni_http_request *r = req("POST", "https://api.example.com/send?x=1");
    omni_http_request_add_header(r, "Content-Type", "application/json");
    omni_http_request_set_body(r, "{\"to\":\"+15550001\"}", 18);
    omni_http_request_set_timeout_ms(r, 3000);
    omni_http_response *resp;
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_OK);
    omni_http_response_free(resp);
    omni_http_request_free(r); /* the transport keeps its own copy */

    r = req("DELETE", "http://h/x");
    omni_http_request_set_body(r, "\x01\x02\xff", 3);
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_OK);
    omni_http_response_free(resp);
    omni_http_request_free(r);

    char *out = sent(t);
    cr_assert_str_eq(out,
                     "[{\"method\":\"POST\",\"url\":\"https://api.example.com/send?x=1\","
                     "\"headers\":{\"Content-Type\":\"application/json\"},"
                     "\"body\":\"{\\\"to\\\":\\\"+15550001\\\"}\",\"timeoutMs\":3000},"
                     "{\"method\":\"DELETE\",\"url\":\"http://h/x\",\"headers\":{},"
                     "\"bodyBase64\":\"AQL/\"}]");
    /* The recorded requests are in the omni_http_request_to_json form. */
    omni_free(out);
    omni_transport_free(t);
}

Test(scripted, exhaustion)
{
    omni_transport *t = scripted("[{\"status\":200}]");
    omni_http_response *resp = NULL;
    cr_assert_eq(send_get(t, "http://h/a", &resp), OMNI_OK);
    omni_http_response_free(resp);
    resp = (omni_http_response *)(uintptr_t)1;
    cr_assert_eq(send_get(t, "http://h/b", &resp), OMNI_EEXHAUSTED);
    cr_assert_eq(resp, (omni_http_response *)(uintptr_t)1); /* untouched on error */
    cr_assert_str_eq(omni_error_last_code(), "SCRIPT_EXHAUSTED");
    cr_assert_eq(send_get(t, "http://h/c", &resp), OMNI_EEXHAUSTED);
    char *out = sent(t);
    /* The unanswered requests are recorded too. */
    cr_assert_not_null(strstr(out, "http://h/b"));
    cr_assert_not_null(strstr(out, "http://h/c"));
    omni_free(out);
    omni_transport_free(t);

    t = scripted("[]");
    cr_assert_eq(send_get(t, "http://h/a", &resp), OMNI_EEXHAUSTED);
    omni_transport_free(t);
    t = scripted(" [ ] ");
    out = sent(t);
    cr_assert_str_eq(out, "[]");
    omni_free(out);
    omni_transport_free(t);
}

Test(scripted, error_entries)
{
    omni_transport *t = scripted(
        "[{\"error\":\"TIMEOUT\",\"message\":\"carrier took too long\"},"
        "{\"error\":\"CONNECT_FAILED\"},"
        "{\"message\":\"bad certificate\",\"error\":\"TLS_ERROR\"},"
        "{\"error\":\"TRANSPORT_ERROR\",\"message\":\"reset by peer\"},"
        "{\"status\":200}]");
    omni_http_response *resp = NULL;
    cr_assert_eq(send_get(t, "http://h/", &resp), OMNI_ETIMEOUT);
    cr_assert_str_eq(omni_error_last_message(), "carrier took too long");
    cr_assert_eq(omni_error_last_retryable(), 1);
    cr_assert_eq(send_get(t, "http://carrier.example:8080/x?secret=1", &resp), OMNI_ECONNECT);
    cr_assert_eq(omni_error_last_retryable(), 1);
    cr_assert_not_null(strstr(omni_error_last_message(), "carrier.example:8080"));
    cr_assert_null(strstr(omni_error_last_message(), "secret"));
    cr_assert_eq(send_get(t, "http://h/", &resp), OMNI_ETLS);
    cr_assert_str_eq(omni_error_last_message(), "bad certificate");
    cr_assert_eq(omni_error_last_retryable(), 0);
    cr_assert_eq(send_get(t, "http://h/", &resp), OMNI_ETRANSPORT);
    cr_assert_str_eq(omni_error_last_code(), "TRANSPORT_ERROR");
    cr_assert_str_eq(omni_error_last_message(), "reset by peer");
    cr_assert_eq(omni_error_last_retryable(), 1);
    cr_assert_eq(send_get(t, "http://h/", &resp), OMNI_OK);
    omni_http_response_free(resp);
    char *out = sent(t);
    cr_assert_eq(strstr(out, "\"method\"") != NULL, 1);
    size_t count = 0;
    for (const char *p = out; (p = strstr(p, "\"method\"")) != NULL; p++)
        count++;
    cr_assert_eq(count, 5);
    omni_free(out);
    omni_transport_free(t);
}

static void expect_bad_script(const char *json, int status, int index)
{
    omni_transport *t = (omni_transport *)(uintptr_t)1;
    int rc = omni_transport_scripted_new(&t, json, json ? strlen(json) : 3);
    cr_assert_eq(rc, status, "%s gave %d (%s)", json, rc, omni_error_last_message());
    cr_assert_null(t);
    if (index >= 0) {
        char want[32];
        snprintf(want, sizeof(want), "{\"index\":%d}", index);
        cr_assert_not_null(omni_error_last()->details);
        cr_assert_str_eq(omni_error_last()->details, want);
        snprintf(want, sizeof(want), "[%d]", index);
        cr_assert_not_null(strstr(omni_error_last_message(), want), "%s",
                           omni_error_last_message());
    }
}

Test(scripted, bad_scripts)
{
    expect_bad_script("", OMNI_ECONFIG, -1);
    expect_bad_script("[", OMNI_ECONFIG, -1);
    expect_bad_script("{\"status\":200}", OMNI_ECONFIG, -1);
    expect_bad_script("\"x\"", OMNI_ECONFIG, -1);
    expect_bad_script("[1]", OMNI_ECONFIG, 0);
    expect_bad_script("[{\"status\":200},null]", OMNI_ECONFIG, 1);
    expect_bad_script("[{\"status\":200},{}]", OMNI_ECONFIG, 1);
    expect_bad_script("[{\"status\":99}]", OMNI_ECONFIG, 0);
    expect_bad_script("[{\"status\":\"200\"}]", OMNI_ECONFIG, 0);
    expect_bad_script("[{\"status\":200,\"stauts\":1}]", OMNI_ECONFIG, 0);
    expect_bad_script("[{\"status\":200,\"headers\":{\"A\":1}}]", OMNI_ECONFIG, 0);
    expect_bad_script("[{\"status\":200,\"bodyBase64\":\"%%%\"}]", OMNI_ECONFIG, 0);
    expect_bad_script("[{\"status\":200},{\"status\":200},{\"error\":\"BOOM\"}]", OMNI_ECONFIG, 2);
    expect_bad_script("[{\"error\":\"timeout\"}]", OMNI_ECONFIG, 0);
    expect_bad_script("[{\"error\":1}]", OMNI_ECONFIG, 0);
    expect_bad_script("[{\"error\":\"TIMEOUT\",\"message\":1}]", OMNI_ECONFIG, 0);
    expect_bad_script("[{\"error\":\"TIMEOUT\",\"delayMs\":100}]", OMNI_ECONFIG, 0);
    expect_bad_script("[{\"error\":\"TIMEOUT\",\"status\":200}]", OMNI_ECONFIG, 0);
    expect_bad_script("[{\"error\":\"TIMEOUT\",\"error\":\"TIMEOUT\"}]", OMNI_ECONFIG, 0);
    expect_bad_script("[{\"status\":200,\"body\":\"a\\u0000\"}]", OMNI_ECONFIG, -1);
    expect_bad_script(NULL, OMNI_EINVAL, -1);
    cr_assert_eq(omni_transport_scripted_new(NULL, "[]", 2), OMNI_EINVAL);
    char msg[600];
    memset(msg, 'm', sizeof(msg));
    char json[800];
    snprintf(json, sizeof(json), "[{\"error\":\"TIMEOUT\",\"message\":\"%.*s\"}]", 500, msg);
    expect_bad_script(json, OMNI_ECONFIG, 0);
}

Test(scripted, sent_errors)
{
    omni_transport *t = scripted("[]");
    char *out = NULL;
    cr_assert_eq(omni_transport_scripted_sent(NULL, &out, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_transport_scripted_sent(t, NULL, NULL), OMNI_EINVAL);
    omni_transport_free(t);
}

#define THREADS 4
#define PER_THREAD 25

static void *sender(void *arg)
{
    omni_transport *t = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        omni_http_response *resp = NULL;
        omni_http_request *r = NULL;
        if (omni_http_request_new(&r, "GET", "http://h/") != OMNI_OK)
            return (void *)1;
        int rc = omni_transport_send(t, r, &resp);
        omni_http_request_free(r);
        if (rc != OMNI_OK)
            return (void *)1;
        omni_http_response_free(resp);
    }
    return NULL;
}

Test(scripted, thread_safe)
{
    char *json = malloc(THREADS * PER_THREAD * 40 + 16);
    size_t n = 0;
    json[n++] = '[';
    for (int i = 0; i < THREADS * PER_THREAD; i++)
        n += (size_t)sprintf(json + n, "%s{\"status\":200,\"body\":\"%d\"}", i ? "," : "", i);
    json[n++] = ']';
    json[n] = '\0';
    omni_transport *t = scripted(json);
    free(json);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, sender, t);
    for (int i = 0; i < THREADS; i++) {
        void *res;
        pthread_join(th[i], &res);
        cr_assert_null(res);
    }
    omni_http_response *resp;
    cr_assert_eq(send_get(t, "http://h/", &resp), OMNI_EEXHAUSTED);
    char *out = sent(t);
    size_t count = 0;
    for (const char *p = out; (p = strstr(p, "\"method\"")) != NULL; p++)
        count++;
    cr_assert_eq(count, THREADS * PER_THREAD + 1);
    omni_free(out);
    omni_transport_free(t);
}

/* ---- omni_transport_wrap around a host hook ---------------------------- */

typedef struct host_ctx {
    int sends;
    int closes;
    int mode; /* 0 echo, 1 timeout with message, 2 error without message, 3 positive,
                 4 OK without status */
    char last_url[256];
} host_ctx;

static int host_send(void *ctx, const omni_http_request *request, omni_http_response *response)
{
    host_ctx *h = ctx;
    h->sends++;
    snprintf(h->last_url, sizeof(h->last_url), "%s", omni_http_request_url(request));
    switch (h->mode) {
    case 1:
        return omni_error_set(OMNI_ETIMEOUT, "host fetch timed out", -1);
    case 2:
        return OMNI_ECONNECT;
    case 3:
        return 7;
    case 4:
        return OMNI_OK;
    default:
        break;
    }
    size_t len;
    const char *body = omni_http_request_body(request, &len);
    omni_http_response_set_status(response, 201);
    omni_http_response_add_header(response, "X-Method", omni_http_request_method(request));
    omni_http_response_set_body(response, body, len);
    return OMNI_OK;
}

static void host_close(void *ctx)
{
    ((host_ctx *)ctx)->closes++;
}

Test(wrap, host_hook)
{
    host_ctx h = {0};
    omni_transport_hook hook;
    cr_assert_eq(omni_transport_hook_init(&hook, OMNI_TRANSPORT_HOOK_VERSION), OMNI_OK);
    cr_assert_eq(hook.version, OMNI_TRANSPORT_HOOK_VERSION);
    cr_assert_null(hook.send);
    hook.ctx = &h;
    hook.send = host_send;
    hook.close = host_close;
    omni_transport *t = NULL;
    cr_assert_eq(omni_transport_wrap(&t, &hook), OMNI_OK);
    hook.send = NULL; /* the table was copied */

    omni_http_request *r = req("PUT", "https://host.example/x");
    omni_http_request_set_body(r, "a\0b", 3);
    omni_http_response *resp = NULL;
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_OK);
    cr_assert_eq(omni_http_response_status(resp), 201);
    cr_assert_str_eq(omni_http_response_header(resp, "x-method"), "PUT");
    size_t len;
    const char *b = omni_http_response_body(resp, &len);
    cr_assert_eq(len, 3);
    cr_assert_eq(memcmp(b, "a\0b", 3), 0);
    omni_http_response_free(resp);
    cr_assert_str_eq(h.last_url, "https://host.example/x");

    /* errors propagate: with the hook's message ... */
    h.mode = 1;
    resp = NULL;
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_ETIMEOUT);
    cr_assert_null(resp);
    cr_assert_str_eq(omni_error_last_message(), "host fetch timed out");
    cr_assert_eq(omni_error_last_retryable(), 1);
    /* ... or a generic one naming the hook */
    h.mode = 2;
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_ECONNECT);
    cr_assert_not_null(strstr(omni_error_last_message(), "transport"));
    h.mode = 3;
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_EHOOK);
    h.mode = 4;
    cr_assert_eq(omni_transport_send(t, r, &resp), OMNI_EHOOK);
    cr_assert_null(resp);
    cr_assert_eq(h.sends, 5);

    cr_assert_eq(omni_transport_send(NULL, r, &resp), OMNI_EINVAL);
    cr_assert_eq(omni_transport_send(t, NULL, &resp), OMNI_EINVAL);
    cr_assert_eq(omni_transport_send(t, r, NULL), OMNI_EINVAL);
    char *out;
    cr_assert_eq(omni_transport_scripted_sent(t, &out, NULL), OMNI_EINVAL);
    omni_http_request_free(r);
    cr_assert_eq(h.closes, 0);
    omni_transport_free(t);
    cr_assert_eq(h.closes, 1);
    omni_transport_free(NULL);
}

Test(wrap, version_checks)
{
    host_ctx h = {0};
    omni_transport_hook hook = OMNI_TRANSPORT_HOOK_INIT;
    hook.ctx = &h;
    hook.send = host_send;
    hook.close = host_close;
    omni_transport *t = (omni_transport *)(uintptr_t)1;
    hook.version = 0;
    cr_assert_eq(omni_transport_wrap(&t, &hook), OMNI_EVERSION);
    cr_assert_null(t);
    hook.version = OMNI_TRANSPORT_HOOK_VERSION + 1;
    cr_assert_eq(omni_transport_wrap(&t, &hook), OMNI_EVERSION);
    hook.version = OMNI_TRANSPORT_HOOK_VERSION;
    hook.send = NULL;
    cr_assert_eq(omni_transport_wrap(&t, &hook), OMNI_EINVAL);
    cr_assert_eq(omni_transport_wrap(&t, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_transport_wrap(NULL, &hook), OMNI_EINVAL);
    cr_assert_eq(h.closes, 0); /* a failed wrap never closes the host's ctx */
    cr_assert_eq(omni_transport_hook_init(&hook, 0), OMNI_EVERSION);
    cr_assert_eq(omni_transport_hook_init(&hook, 2), OMNI_EVERSION);
    cr_assert_eq(omni_transport_hook_init(NULL, 1), OMNI_EINVAL);
}

Test(wrap, get_hook_round_trip)
{
    host_ctx h = {0};
    omni_transport_hook hook = OMNI_TRANSPORT_HOOK_INIT;
    hook.ctx = &h;
    hook.send = host_send;
    hook.close = host_close;
    omni_transport *t;
    cr_assert_eq(omni_transport_wrap(&t, &hook), OMNI_OK);
    omni_transport_hook copy;
    cr_assert_eq(omni_transport_get_hook(t, &copy), OMNI_OK);
    cr_assert_eq(copy.version, OMNI_TRANSPORT_HOOK_VERSION);
    cr_assert_eq(copy.ctx, &h);
    cr_assert_eq(copy.send, host_send);
    cr_assert_null(copy.close);
    omni_transport *t2;
    cr_assert_eq(omni_transport_wrap(&t2, &copy), OMNI_OK);
    omni_http_response *resp;
    cr_assert_eq(send_get(t2, "http://h/", &resp), OMNI_OK);
    omni_http_response_free(resp);
    cr_assert_eq(h.sends, 1);
    omni_transport_free(t2);
    cr_assert_eq(h.closes, 0);
    omni_transport_free(t);
    cr_assert_eq(h.closes, 1);
    cr_assert_eq(omni_transport_get_hook(NULL, &copy), OMNI_EINVAL);
    cr_assert_eq(omni_transport_get_hook(t2 = NULL, NULL), OMNI_EINVAL);
}

Test(wrap, bundled_hook_can_be_rewrapped)
{
    /* The hook of a scripted transport drives the same script. */
    omni_transport *t = scripted("[{\"status\":200,\"body\":\"one\"},"
                                 "{\"status\":200,\"body\":\"two\"}]");
    omni_transport_hook copy;
    cr_assert_eq(omni_transport_get_hook(t, &copy), OMNI_OK);
    cr_assert_null(copy.close);
    cr_assert_not_null(copy.send);
    omni_transport *w;
    cr_assert_eq(omni_transport_wrap(&w, &copy), OMNI_OK);
    omni_http_response *resp;
    cr_assert_eq(send_get(w, "http://h/", &resp), OMNI_OK);
    cr_assert_str_eq(omni_http_response_body(resp, NULL), "one");
    omni_http_response_free(resp);
    cr_assert_eq(send_get(t, "http://h/", &resp), OMNI_OK);
    cr_assert_str_eq(omni_http_response_body(resp, NULL), "two");
    omni_http_response_free(resp);
    omni_transport_free(w); /* does not release the script */
    char *out = sent(t);
    cr_assert_not_null(strstr(out, "http://h/"));
    omni_free(out);
    omni_transport_free(t);
}
