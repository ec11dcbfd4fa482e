/* Delivery benchmark (issue 7): omni_delivery_send of new messages to a
 * local HTTP/1.1 server on 127.0.0.1 (answering like Twilio's Messages API)
 * through the bundled curl transport with keep-alive (goal: 5,000 sends per
 * second), with the in-memory store and with an SQLite file.
 *
 * The peer, run in the same invocation: the same request, built once, sent
 * through the same curl transport to the same server with nothing else —
 * the network floor. The ratio says what the engine's guarantees cost
 * (idempotency record, claim, outcome, circuit breaker) on top of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <omni/omni.h>

#include "bench.h"
#include "http_server.h"

static void answer(void *ctx, const omni_test_request *req, omni_test_action *act)
{
    static const char body[] = "{\"sid\":\"SM00000000000000000000000000000001\","
                               "\"status\":\"queued\",\"price\":null}";
    (void)ctx;
    (void)req;
    act->status = 201;
    act->headers = "Content-Type: application/json\r\n";
    act->body = body;
    act->body_len = sizeof body - 1;
}

typedef struct send_ctx {
    omni_delivery *d;
    unsigned long seq;
    const char *tag;
} send_ctx;

static void b_send(void *ctx, size_t n)
{
    send_ctx *s = ctx;
    for (size_t i = 0; i < n; i++) {
        char ev[640];
        int len = snprintf(ev, sizeof ev,
                           "{\"correlationId\":\"bench-%s-%lu\",\"messageType\":\"reply\","
                           "\"recipient\":{\"customerId\":\"cust-1\",\"channelIdentifier\":"
                           "\"+14155550100\",\"carrier\":\"twilio\",\"channel\":\"sms\"},"
                           "\"message\":{\"content\":\"Your order AB-123456 ships today.\","
                           "\"contentType\":\"text\"},\"routing\":{\"accountId\":\"acc-1\","
                           "\"conversationId\":\"conv-1\",\"fromNumber\":\"+14155550199\"}}",
                           s->tag, s->seq++);
        char *out = NULL;
        if (omni_delivery_send(&out, NULL, s->d, ev, (size_t)len, NULL, 0) != OMNI_OK) {
            fprintf(stderr, "send: %s\n", omni_error_last_message());
            exit(1);
        }
        bench_sink(out);
        omni_free(out);
    }
}

typedef struct floor_ctx {
    omni_transport *t;
    omni_http_request *req;
} floor_ctx;

static void b_floor(void *ctx, size_t n)
{
    floor_ctx *f = ctx;
    for (size_t i = 0; i < n; i++) {
        omni_http_response *resp = NULL;
        if (omni_transport_send(f->t, f->req, &resp) != OMNI_OK) {
            fprintf(stderr, "floor: %s\n", omni_error_last_message());
            exit(1);
        }
        omni_http_response_free(resp);
    }
}

static omni_delivery *open_delivery(omni_engine **e, omni_outbound *ob, const char *store)
{
    char cfg[256];
    snprintf(cfg, sizeof cfg,
             "{\"storage\":\"%s\",\"transport\":{\"type\":\"curl\",\"timeoutMs\":5000}}", store);
    omni_delivery *d = NULL;
    if (omni_engine_new(e, cfg, strlen(cfg), NULL) ||
        omni_delivery_new(&d, *e, ob, NULL, 0)) {
        fprintf(stderr, "delivery: %s\n", omni_error_last_message());
        exit(1);
    }
    return d;
}

int main(int argc, char **argv)
{
    bench_opts o = {0, 200, 7, NULL};
    int rc = bench_args(&o, argc, argv, "omni-bench-delivery", NULL, NULL);
    if (rc)
        return rc;
    omni_test_server *srv;
    if (omni_test_server_start(&srv, answer, NULL)) {
        perror("server");
        return 1;
    }
    char obc[512];
    snprintf(obc, sizeof obc,
             "{\"twilio\":{\"accountSid\":\"AC0123456789abcdef0123456789abcdef\","
             "\"authToken\":\"tw-secret\",\"baseUrl\":\"%s\"}}",
             omni_test_server_url(srv, ""));
    omni_outbound *ob;
    if (omni_outbound_new(&ob, obc, strlen(obc))) {
        fprintf(stderr, "outbound: %s\n", omni_error_last_message());
        return 1;
    }
    /* the floor's request: what the engine sends for one message */
    floor_ctx f = {NULL, NULL};
    const char *ev = "{\"correlationId\":\"floor\",\"recipient\":{\"channelIdentifier\":"
                     "\"+14155550100\",\"carrier\":\"twilio\",\"channel\":\"sms\"},"
                     "\"message\":{\"content\":\"Your order AB-123456 ships today.\","
                     "\"contentType\":\"text\"},\"routing\":{\"fromNumber\":\"+14155550199\"}}";
    if (omni_outbound_build(&f.req, ob, NULL, ev, strlen(ev), 0) ||
        omni_transport_curl_new(&f.t, "{\"timeoutMs\":5000}", 18)) {
        fprintf(stderr, "floor: %s\n", omni_error_last_message());
        return 1;
    }

    omni_engine *em;
    send_ctx mem = {open_delivery(&em, ob, "memory:"), 0, "mem"};
    bench_run(&o, "delivery_send_memory_store", b_send, &mem, "curl_transport_floor", b_floor,
              &f);

    char db[96], uri[112];
    snprintf(db, sizeof db, "/tmp/omni-bench-delivery-%d.db", (int)getpid());
    snprintf(uri, sizeof uri, "sqlite:%s", db);
    omni_engine *es;
    send_ctx sql = {open_delivery(&es, ob, uri), 0, "sql"};
    bench_run(&o, "delivery_send_sqlite_store", b_send, &sql, "curl_transport_floor", b_floor,
              &f);

    omni_delivery_free(mem.d);
    omni_delivery_free(sql.d);
    omni_engine_free(em);
    omni_engine_free(es);
    omni_http_request_free(f.req);
    omni_transport_free(f.t);
    omni_outbound_free(ob);
    omni_test_server_stop(srv);
    char p[128];
    unlink(db);
    snprintf(p, sizeof p, "%s-wal", db);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db);
    unlink(p);
    return 0;
}
