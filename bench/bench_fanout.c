/* Fan-out benchmark (issue 8): 10,000 APNs notifications, each built with omni_push_build
 * for its own device token, sent through the asynchronous transport (omni/async.h):
 *  - over HTTP/2 to the local test server (tests/support/h2_server.c, TLS with ALPN h2 as
 *    APNs is reached, the test certificate of tests/data/tls): one multiplexed connection;
 *  - over HTTP/1.1 to the local HTTP/1.1 test server (tests/support/http_server.c),
 *    connections kept alive (reported), 64 in flight (a pool of 64 connections: with the
 *    default 256 the test server's listen backlog of 64 makes some connects wait for a
 *    SYN retransmission, a second);
 *  - the peer, in the same invocation: the same 10,000 sent one after the other through the
 *    blocking curl transport (omni_transport_curl_new) to the same HTTP/2 server;
 *  - the whole pushNotification step over HTTP/2: one event for 100 users with 100
 *    registered iOS devices each (the registry in the memory store, filled before the
 *    clock starts), omni_push_notify_async through the delivery engine (idempotency
 *    records, claims, results) and the asynchronous transport.
 * Goal: 10,000 in at most 1 s over HTTP/2. Every case runs in a forked child (the servers
 * stay in the parent), so its peak resident memory is the child's ru_maxrss; a child that
 * only builds the requests gives the baseline. Medians of several runs are printed as JSON
 * lines; no timing is ever asserted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <omni/omni.h>

#include "bench.h"
#include "h2_server.h"
#include "http_server.h"

#ifndef OMNI_BENCH_SOURCE_DIR
#define OMNI_BENCH_SOURCE_DIR "."
#endif
#define TLS_DIR OMNI_BENCH_SOURCE_DIR "/../tests/data/tls/"

/* The test key of tests/data/push/apns/AuthKey_TEST123456.p8 (made for the tests). */
static const char apns_key[] =
    "-----BEGIN PRIVATE KEY-----\\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1RxfREgC6RCYE3A/\\n"
    "2MZxsAqg/cCLNfeHRGoDOtn5LUShRANCAAS6enz+FydzUpOTN0uiguG4jgQGb97M\\n"
    "xP1lobRpJCDrZoEwWSdtjzMMGs9KTYyT9SUnDCkZ33YsJq2uH5gk19uC\\n"
    "-----END PRIVATE KEY-----\\n";

enum { CASE_BASELINE, CASE_H2, CASE_H11, CASE_BLOCKING, CASE_NOTIFY };

typedef struct outcome {
    double build_ms; /* building the requests */
    double send_ms;  /* from the first send to the last answer */
    long ok;         /* answers with status 200 */
    long connections;
    long retries;
} outcome;

typedef struct fan {
    long ok, failed;
} fan;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "omni-bench-fanout: %s: %s\n", what, omni_error_last_message());
    exit(1);
}

/* Answers like APNs: 200 with an apns-id. */
static void apns_h2(void *ctx, const omni_h2_request *req, omni_h2_response *resp)
{
    (void)ctx;
    (void)req;
    resp->status = 200;
    resp->headers = "apns-id: 6b0d4d3c-1b2a-4a5e-9f00-00000000a1b2\r\n";
    resp->body = "";
    resp->body_len = 0;
}

static void apns_h11(void *ctx, const omni_test_request *req, omni_test_action *act)
{
    (void)ctx;
    (void)req;
    act->status = 200;
    act->headers = "apns-id: 6b0d4d3c-1b2a-4a5e-9f00-00000000a1b2\r\n";
    act->body = "";
    act->body_len = 0;
}

static omni_http_request **build_all(const char *base_url, int n)
{
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"apns\":{\"teamId\":\"ABCDE12345\",\"keyId\":\"TEST123456\",\"topic\":"
             "\"com.example.app\",\"privateKey\":\"%s\",\"baseUrl\":\"%s\"}}",
             apns_key, base_url);
    omni_push *push = NULL;
    if (omni_push_new(&push, cfg, strlen(cfg)))
        die("push config");
    omni_http_request **reqs = calloc((size_t)n, sizeof(*reqs));
    if (!reqs)
        exit(1);
    for (int i = 0; i < n; i++) {
        char msg[512];
        int len = snprintf(msg, sizeof msg,
                           "{\"platform\":\"ios\",\"token\":\"%064x\",\"payload\":{\"title\":"
                           "\"Order AB-%06d\",\"body\":\"Your order ships today.\",\"badge\":1,"
                           "\"sound\":\"default\",\"data\":{\"orderId\":\"AB-%06d\"}},"
                           "\"options\":{\"priority\":\"high\",\"ttl\":3600}}",
                           i + 1, i, i);
        if (omni_push_build(&reqs[i], push, msg, (size_t)len, 1767225600000LL))
            die("push build");
    }
    omni_push_free(push);
    return reqs;
}

static void on_answer(void *user, const omni_http_response *resp, int status)
{
    fan *f = user;
    if (status == OMNI_OK && omni_http_response_status(resp) == 200) {
        f->ok++;
    } else {
        if (f->failed++ == 0)
            fprintf(stderr, "omni-bench-fanout: first failure: %s\n",
                    status ? omni_error_last_message() : "not 200");
    }
}

static long stat_field(omni_async *a, const char *key)
{
    char *js = NULL;
    size_t len = 0;
    if (omni_async_stats(a, &js, &len))
        die("stats");
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(js, pat);
    long v = p ? strtol(p + strlen(pat), NULL, 10) : -1;
    omni_free(js);
    return v;
}

static void on_notified(void *user, const char *json, size_t len, int status)
{
    outcome *o = user;
    if (status || !json) {
        fprintf(stderr, "omni-bench-fanout: notify failed: %s\n", omni_error_last_message());
        return;
    }
    const char *p = strstr(json, "\"summary\":{\"total\":");
    const char *sent = p ? strstr(p, "\"sent\":") : NULL;
    o->ok = sent ? strtol(sent + 7, NULL, 10) : 0;
    (void)len;
}

/* pushNotification through the delivery engine: n devices, 100 per user. */
static outcome run_notify(const char *base_url, int n)
{
    outcome o = {0};
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"apns\":{\"teamId\":\"ABCDE12345\",\"keyId\":\"TEST123456\",\"topic\":"
             "\"com.example.app\",\"privateKey\":\"%s\",\"baseUrl\":\"%s\"}}",
             apns_key, base_url);
    omni_engine *e = NULL;
    omni_outbound *ob = NULL;
    omni_push *push = NULL;
    omni_delivery *d = NULL;
    if (omni_engine_new(&e, NULL, 0, NULL) || omni_outbound_new(&ob, "{}", 2) ||
        omni_push_new(&push, cfg, strlen(cfg)) || omni_delivery_new(&d, e, ob, NULL, 0) ||
        omni_delivery_set_push(d, push))
        die("notify setup");
    int users = (n + 99) / 100;
    double t0 = now_ms();
    for (int i = 0; i < n; i++) {
        char dev[256];
        int len = snprintf(dev, sizeof dev,
                           "{\"userId\":\"agent-%03d\",\"deviceToken\":\"%064x\","
                           "\"platform\":\"ios\"}",
                           i / 100, i + 1);
        char *out = NULL;
        if (omni_device_register(&out, NULL, e, dev, (size_t)len))
            die("register");
        omni_free(out);
    }
    o.build_ms = now_ms() - t0;
    size_t cap = 512 + (size_t)users * 40;
    char *ev = malloc(cap);
    if (!ev)
        exit(1);
    size_t len = (size_t)snprintf(ev, cap,
                                  "{\"correlationId\":\"bench-1\",\"notificationType\":"
                                  "\"new_message\",\"payload\":{\"title\":\"New message\","
                                  "\"body\":\"A customer is waiting\",\"badge\":1},"
                                  "\"options\":{\"priority\":\"high\"},\"recipients\":[");
    for (int u = 0; u < users; u++)
        len += (size_t)snprintf(ev + len, cap - len, "%s{\"userId\":\"agent-%03d\"}",
                                u ? "," : "", u);
    len += (size_t)snprintf(ev + len, cap - len, "]}");
    const char *opts = "{\"httpVersion\":\"2\",\"caFile\":\"" TLS_DIR "ca.pem\"}";
    omni_async *a = NULL;
    if (omni_async_new(&a, NULL, opts, strlen(opts)))
        die("async transport");
    t0 = now_ms();
    if (omni_push_notify_async(a, d, ev, len, on_notified, &o) || omni_async_run(a))
        die("notify");
    o.send_ms = now_ms() - t0;
    o.connections = stat_field(a, "connections");
    o.retries = stat_field(a, "retries");
    omni_async_free(a);
    free(ev);
    omni_delivery_free(d);
    omni_push_free(push);
    omni_outbound_free(ob);
    omni_engine_free(e);
    return o;
}

/* One case, in the child. */
static outcome run_case(int kind, const char *base_url, int n)
{
    if (kind == CASE_NOTIFY)
        return run_notify(base_url, n);
    outcome o = {0};
    double t0 = now_ms();
    omni_http_request **reqs = build_all(base_url, n);
    o.build_ms = now_ms() - t0;
    if (kind == CASE_BASELINE) {
        for (int i = 0; i < n; i++)
            omni_http_request_free(reqs[i]);
        free(reqs);
        return o;
    }
    if (kind == CASE_BLOCKING) {
        const char *opts = "{\"caFile\":\"" TLS_DIR "ca.pem\"}";
        omni_transport *t = NULL;
        if (omni_transport_curl_new(&t, opts, strlen(opts)))
            die("curl transport");
        t0 = now_ms();
        for (int i = 0; i < n; i++) {
            omni_http_response *resp = NULL;
            if (omni_transport_send(t, reqs[i], &resp) == OMNI_OK &&
                omni_http_response_status(resp) == 200)
                o.ok++;
            omni_http_response_free(resp);
        }
        o.send_ms = now_ms() - t0;
        o.connections = -1;
        omni_transport_free(t);
    } else {
        const char *opts = kind == CASE_H2
                               ? "{\"httpVersion\":\"2\",\"caFile\":\"" TLS_DIR "ca.pem\"}"
                               : "{\"httpVersion\":\"1.1\",\"maxConcurrent\":64}";
        omni_async *a = NULL;
        if (omni_async_new(&a, NULL, opts, strlen(opts)))
            die("async transport");
        fan f = {0, 0};
        t0 = now_ms();
        for (int i = 0; i < n; i++)
            if (omni_async_send(a, reqs[i], on_answer, &f))
                die("send");
        if (omni_async_run(a))
            die("run");
        o.send_ms = now_ms() - t0;
        o.ok = f.ok;
        o.connections = stat_field(a, "connections");
        o.retries = stat_field(a, "retries");
        omni_async_free(a);
    }
    for (int i = 0; i < n; i++)
        omni_http_request_free(reqs[i]);
    free(reqs);
    return o;
}

/* Runs a case in a forked child; its outcome comes back through a pipe. */
static int fork_case(int kind, const char *base_url, int n, outcome *o, long *rss_kb,
                     double *cpu_ms)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fds[0]);
        outcome r = run_case(kind, base_url, n);
        ssize_t w = write(fds[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], o, sizeof *o);
    close(fds[0]);
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof *o)
        return -1;
    *rss_kb = ru.ru_maxrss;
    *cpu_ms = (double)ru.ru_utime.tv_sec * 1e3 + (double)ru.ru_utime.tv_usec / 1e3 +
              (double)ru.ru_stime.tv_sec * 1e3 + (double)ru.ru_stime.tv_usec / 1e3;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return v[n / 2];
}

/* Runs a case `runs` times; prints its line; returns the median send time. */
static double report(const char *name, int kind, int n, int runs, int smoke, long *rss_out)
{
    double send[16], build[16], rss_kb[16], cpu[16];
    outcome last = {0};
    for (int r = 0; r < runs; r++) {
        omni_h2_server *h2 = NULL;
        omni_test_server *h11 = NULL;
        char base[64];
        if (kind == CASE_H11) {
            if (omni_test_server_start(&h11, apns_h11, NULL)) {
                perror("http server");
                exit(1);
            }
            snprintf(base, sizeof base, "http://127.0.0.1:%u",
                     (unsigned)omni_test_server_port(h11));
        } else {
            omni_h2_options opts = {0};
            opts.max_concurrent_streams = 1000;
            opts.no_record = 1;
            opts.tls_cert_file = TLS_DIR "server.pem";
            opts.tls_key_file = TLS_DIR "server.key";
            if (omni_h2_server_start(&h2, &opts, apns_h2, NULL)) {
                fprintf(stderr, "omni-bench-fanout: cannot start the HTTP/2 server (%s)\n",
                        TLS_DIR);
                exit(1);
            }
            snprintf(base, sizeof base, "https://127.0.0.1:%u",
                     (unsigned)omni_h2_server_port(h2));
        }
        long rss = 0;
        double cpu_ms = 0;
        if (fork_case(kind, base, n, &last, &rss, &cpu_ms) != 0) {
            fprintf(stderr, "omni-bench-fanout: case %s failed\n", name);
            exit(1);
        }
        if (kind == CASE_H11)
            last.connections = (long)omni_test_server_connections(h11);
        omni_test_server_stop(h11);
        omni_h2_server_stop(h2);
        if (kind != CASE_BASELINE && last.ok != n) {
            fprintf(stderr, "omni-bench-fanout: %s: %ld of %d answered 200\n", name, last.ok,
                    n);
            exit(1);
        }
        send[r] = last.send_ms;
        build[r] = last.build_ms;
        rss_kb[r] = (double)rss;
        cpu[r] = cpu_ms;
    }
    double s = median(send, runs), b = median(build, runs), m = median(rss_kb, runs);
    double c = median(cpu, runs);
    if (rss_out)
        *rss_out = (long)m;
    if (kind == CASE_BASELINE) {
        printf("{\"name\":\"%s\",\"requests\":%d,\"build_ms\":%.1f,\"peak_rss_kb\":%.0f,"
               "\"runs\":%d%s}\n",
               name, n, b, m, runs, smoke ? ",\"smoke\":true" : "");
    } else {
        printf("{\"name\":\"%s\",\"requests\":%d,\"send_ms\":%.1f,\"ops_per_sec\":%.0f,"
               "\"ns_per_op\":%.1f,\"build_ms\":%.1f,\"client_cpu_ms\":%.0f,"
               "\"peak_rss_kb\":%.0f",
               name, n, s, n / (s / 1e3), s * 1e6 / n, b, c, m);
        if (last.connections >= 0)
            printf(",\"connections\":%ld", last.connections);
        if (kind != CASE_BLOCKING)
            printf(",\"retries\":%ld,\"max_concurrent\":%d", last.retries,
                   kind == CASE_H2 ? OMNI_ASYNC_DEFAULT_CONCURRENT : 64);
        printf(",\"runs\":%d%s}\n", runs, smoke ? ",\"smoke\":true" : "");
    }
    fflush(stdout);
    return s;
}

int main(int argc, char **argv)
{
    bench_opts o = {0, 200, 5, NULL};
    int rc = bench_args(&o, argc, argv, "omni-bench-fanout", NULL, NULL);
    if (rc)
        return rc;
    int n = o.smoke ? 200 : 10000;
    int runs = o.smoke ? 1 : (o.batches > 0 && o.batches <= 15 ? o.batches : 5);
    const char *f = o.filter;
    if (!f || strstr("fanout_apns_baseline", f))
        report("fanout_apns_baseline", CASE_BASELINE, n, runs, o.smoke, NULL);
    double h2 = 0, peer = 0;
    if (!f || strstr("fanout_apns_h2_async", f))
        h2 = report("fanout_apns_h2_async", CASE_H2, n, runs, o.smoke, NULL);
    if (!f || strstr("fanout_apns_http11_async", f))
        report("fanout_apns_http11_async", CASE_H11, n, runs, o.smoke, NULL);
    if (!f || strstr("fanout_apns_h2_blocking_curl", f))
        peer = report("fanout_apns_h2_blocking_curl", CASE_BLOCKING, n, runs, o.smoke, NULL);
    if (!f || strstr("fanout_push_notify_h2", f))
        report("fanout_push_notify_h2", CASE_NOTIFY, n, runs, o.smoke, NULL);
    if (h2 > 0 && peer > 0)
        printf("{\"name\":\"fanout_apns_h2_async\",\"peer\":\"fanout_apns_h2_blocking_curl\","
               "\"ratio\":%.2f%s}\n",
               peer / h2, o.smoke ? ",\"smoke\":true" : "");
    return 0;
}
