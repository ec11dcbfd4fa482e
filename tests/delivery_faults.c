/*
 * "Nothing lost, measured": publishes 10,000 messages through the delivery
 * engine (SQLite store, curl transport) while a local HTTP server that
 * answers like Twilio's Messages API fails 30% of the requests in mixed ways
 * (503, 429 with Retry-After, answers past the client's timeout, connections
 * closed without an answer), and kills the engine's process with SIGKILL
 * twice while it runs (each time a new process takes over the same store).
 *
 * Afterwards every message must be either delivered (the server accepted it
 * exactly once) or dead-lettered with a reason (then the server accepted it
 * at most once, and only when the reason is IN_DOUBT: the process died
 * between sending and recording); no message may reach the server twice and
 * none may be missing. A timed-out or closed request is a failure the server
 * did not act on. Prints the figures; exits 1 on any violation.
 *
 * Usage: delivery_faults [MESSAGES]   (default 10000; the engine's process
 * runs as `delivery_faults MESSAGES --engine DB URL`)
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "http_server.h"

static int n_messages = 10000;
static atomic_int *accepted; /* per message: how many times the server accepted it */
static atomic_int faults[4];  /* 503, 429, timeout, closed */
static atomic_long served;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The server's side: 30% failures, the rest accepted and counted. */
static void handler(void *ctx, const omni_test_request *req, omni_test_action *act)
{
    static char body[96];
    (void)ctx;
    atomic_fetch_add(&served, 1);
    unsigned roll = (unsigned)(next_random() % 100);
    if (roll < 12) {
        atomic_fetch_add(&faults[0], 1);
        act->status = 503;
        act->headers = "Content-Type: application/json\r\n";
        act->body = "{\"code\":20503,\"message\":\"Service unavailable\",\"status\":503}";
    } else if (roll < 22) {
        atomic_fetch_add(&faults[1], 1);
        act->status = 429;
        act->headers = "Retry-After: 0\r\nContent-Type: application/json\r\n";
        act->body = "{\"code\":20429,\"message\":\"Too Many Requests\",\"status\":429}";
    } else if (roll < 25) {
        atomic_fetch_add(&faults[2], 1);
        act->delay_ms = 150; /* the client gave up at 40 ms; this request is dropped */
        act->status = 503;
        act->body = "too late";
        act->close_after = 1;
    } else if (roll < 30) {
        atomic_fetch_add(&faults[3], 1);
        act->kind = OMNI_TEST_CLOSE;
    } else {
        const char *p = strstr((const char *)req->body, "Body=msg-");
        int i = p ? atoi(p + 9) : -1;
        if (i < 0 || i >= n_messages) {
            act->status = 400;
            act->body = "{\"code\":21602,\"message\":\"Message body is required\"}";
        } else {
            atomic_fetch_add(&accepted[i], 1);
            snprintf(body, sizeof body, "{\"sid\":\"SM%08d\",\"status\":\"queued\"}", i);
            act->status = 201;
            act->headers = "Content-Type: application/json\r\n";
            act->body = body;
        }
    }
    act->body_len = act->body ? strlen(act->body) : 0;
}

static const char *db_path;
static const char *server_url;

static int open_all(omni_engine **e, omni_outbound **ob, omni_delivery **d)
{
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"storage\":\"sqlite:%s\",\"transport\":{\"type\":\"curl\",\"timeoutMs\":40,"
             "\"connectTimeoutMs\":40}}",
             db_path);
    if (omni_engine_new(e, cfg, strlen(cfg), NULL))
        return -1;
    char obc[512];
    snprintf(obc, sizeof obc,
             "{\"twilio\":{\"accountSid\":\"AC00000000000000000000000000000001\","
             "\"authToken\":\"secret\",\"baseUrl\":\"%s\"}}",
             server_url);
    if (omni_outbound_new(ob, obc, strlen(obc)))
        return -1;
    const char *dc = "{\"retryPolicy\":{\"maxRetries\":10,\"initialBackoff\":1,\"maxBackoff\":20},"
                     "\"circuitBreaker\":{\"failureThreshold\":20,\"failureRate\":0.9,"
                     "\"cooldownMs\":20},\"leaseMs\":1000}";
    return omni_delivery_new(d, *e, *ob, dc, strlen(dc));
}

/* The engine's process: publish everything (again after a restart: the
 * idempotency keys make that safe), then tick until no work is left. */
static int engine_process(void)
{
    omni_engine *e = NULL;
    omni_outbound *ob = NULL;
    omni_delivery *d = NULL;
    if (open_all(&e, &ob, &d)) {
        fprintf(stderr, "engine: %s\n", omni_error_last_message());
        return 1;
    }
    for (int i = 0; i < n_messages; i++) {
        char ev[512];
        int n = snprintf(ev, sizeof ev,
                         "{\"correlationId\":\"fault-%d\",\"messageType\":\"notification\","
                         "\"recipient\":{\"channelIdentifier\":\"+14155550100\","
                         "\"carrier\":\"twilio\",\"channel\":\"sms\"},"
                         "\"message\":{\"content\":\"msg-%d\",\"contentType\":\"text\"},"
                         "\"routing\":{\"accountId\":\"acc\",\"conversationId\":\"conv\","
                         "\"fromNumber\":\"+14155550199\"}}",
                         i, i);
        char *out = NULL;
        if (omni_delivery_send(&out, NULL, d, ev, (size_t)n, NULL, 0)) {
            fprintf(stderr, "engine: send %d: %s\n", i, omni_error_last_message());
            return 1;
        }
        omni_free(out);
    }
    for (;;) {
        char *out = NULL;
        if (omni_delivery_tick(&out, NULL, d, omni_engine_now_ms(e), 1000)) {
            fprintf(stderr, "engine: tick: %s\n", omni_error_last_message());
            return 1;
        }
        cJSON *t = cJSON_Parse(out);
        omni_free(out);
        int processed = cJSON_GetObjectItem(t, "processed")->valueint;
        const cJSON *next = cJSON_GetObjectItem(t, "nextDueAt");
        int64_t due = 0;
        if (cJSON_IsString(next))
            (void)omni_time_parse(&due, next->valuestring, strlen(next->valuestring));
        cJSON_Delete(t);
        if (processed == 0 && !due)
            break;
        if (processed == 0) {
            int64_t wait = due - omni_engine_now_ms(e);
            if (wait > 0)
                usleep((useconds_t)(wait > 100 ? 100000 : wait * 1000));
        }
    }
    omni_delivery_free(d);
    omni_outbound_free(ob);
    omni_engine_free(e);
    return 0;
}

/* A fresh process (fork + exec of this program), not a fork of this
 * multi-threaded one. */
static pid_t spawn(void)
{
    char n[16];
    snprintf(n, sizeof n, "%d", n_messages);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", "delivery_faults", n, "--engine", db_path, server_url,
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* The parent's check of every stored message against the server's counts. */
static int audit(int kills, double seconds)
{
    omni_engine *e = NULL;
    omni_outbound *ob = NULL;
    omni_delivery *d = NULL;
    if (open_all(&e, &ob, &d)) {
        fprintf(stderr, "audit: %s\n", omni_error_last_message());
        return 1;
    }
    omni_store *st = omni_engine_store(e);
    char *seen = calloc((size_t)n_messages, 1);
    int delivered = 0, dead = 0, dead_in_doubt = 0, bad = 0, records = 0, letters = 0;
    char *cursor = NULL;
    do {
        char *page = NULL;
        size_t len = 0;
        int rc = omni_store_list_json(st, "delivery", "", cursor, 1000, omni_engine_now_ms(e),
                                      &page, &len);
        omni_free(cursor);
        cursor = NULL;
        if (rc) {
            fprintf(stderr, "audit: list: %s\n", omni_error_last_message());
            return 1;
        }
        cJSON *j = cJSON_ParseWithLength(page, len);
        omni_free(page);
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "items")) {
            const cJSON *rec = cJSON_GetObjectItem(it, "value");
            const char *corr = cJSON_GetObjectItem(rec, "correlationId")->valuestring;
            const char *state = cJSON_GetObjectItem(rec, "state")->valuestring;
            int i = atoi(corr + 6);
            records++;
            if (i < 0 || i >= n_messages || seen[i]++) {
                fprintf(stderr, "audit: %s recorded twice or unknown\n", corr);
                bad++;
                continue;
            }
            int got = atomic_load(&accepted[i]);
            if (strcmp(state, "delivered") == 0) {
                delivered++;
                if (got != 1) {
                    fprintf(stderr, "audit: %s delivered but the server accepted it %d times\n",
                            corr, got);
                    bad++;
                }
            } else if (strcmp(state, "dead") == 0) {
                dead++;
                const cJSON *err = cJSON_GetObjectItem(rec, "lastError");
                const char *code = cJSON_GetObjectItem(err, "code")->valuestring;
                int in_doubt = strcmp(code, "IN_DOUBT") == 0;
                dead_in_doubt += in_doubt;
                if (got > (in_doubt ? 1 : 0)) {
                    fprintf(stderr, "audit: %s dead (%s) but accepted %d times\n", corr, code,
                            got);
                    bad++;
                }
                char *letter = NULL;
                const char *id = cJSON_GetObjectItem(rec, "messageId")->valuestring;
                if (omni_delivery_dlq_get(&letter, NULL, d, id) == OMNI_OK)
                    letters++;
                else
                    fprintf(stderr, "audit: %s dead without a dead letter\n", corr), bad++;
                omni_free(letter);
            } else {
                fprintf(stderr, "audit: %s left in state %s\n", corr, state);
                bad++;
            }
        }
        const cJSON *next = cJSON_GetObjectItem(j, "next");
        if (cJSON_IsString(next))
            cursor = strdup(next->valuestring);
        cJSON_Delete(j);
    } while (cursor);
    int missing = 0, duplicates = 0;
    for (int i = 0; i < n_messages; i++) {
        missing += !seen[i];
        duplicates += atomic_load(&accepted[i]) > 1;
    }
    printf("delivery_faults: %d messages, %ld requests served (%d x 503, %d x 429, %d timeouts, "
           "%d closed), %d engine kills, %.1f s\n",
           n_messages, atomic_load(&served), atomic_load(&faults[0]), atomic_load(&faults[1]),
           atomic_load(&faults[2]), atomic_load(&faults[3]), kills, seconds);
    printf("delivery_faults: delivered exactly once %d, dead-lettered %d (in doubt %d; dead "
           "letters found %d), duplicates on the server %d, unaccounted %d, violations %d\n",
           delivered, dead, dead_in_doubt, letters, duplicates, missing, bad);
    free(seen);
    omni_delivery_free(d);
    omni_outbound_free(ob);
    omni_engine_free(e);
    return bad || missing || duplicates || delivered + dead != n_messages ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        n_messages = atoi(argv[1]);
    if (n_messages < 10)
        n_messages = 10;
    if (argc == 5 && strcmp(argv[2], "--engine") == 0) {
        db_path = argv[3];
        server_url = argv[4];
        return engine_process();
    }
    accepted = calloc((size_t)n_messages, sizeof *accepted);
    char db[96];
    snprintf(db, sizeof db, "/tmp/omni-delivery-faults-%d.db", (int)getpid());
    db_path = db;
    omni_test_server *srv;
    if (omni_test_server_start(&srv, handler, NULL)) {
        perror("server");
        return 1;
    }
    server_url = strdup(omni_test_server_url(srv, "")); /* outlives the server */
    int64_t start = mono_ms();
    long kill_at[2] = {n_messages * 3L / 10, n_messages * 8L / 10};
    int kills = 0, status = 0;
    pid_t pid = spawn();
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            if (kills < 2) { /* finished before the second kill: a short run */
                fprintf(stderr, "note: the engine finished after %d kills\n", kills);
            }
            break;
        }
        if (kills < 2 && atomic_load(&served) >= kill_at[kills]) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            kills++;
            pid = spawn();
            continue;
        }
        if (mono_ms() - start > 240000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fprintf(stderr, "delivery_faults: the engine did not finish in 240 s\n");
            omni_test_server_stop(srv);
            return 1;
        }
        usleep(2000);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "delivery_faults: the engine process failed (status %d)\n", status);
        omni_test_server_stop(srv);
        return 1;
    }
    double seconds = (double)(mono_ms() - start) / 1000.0;
    omni_test_server_stop(srv); /* no request can arrive during the audit */
    int rc = audit(kills, seconds);
    if (kills < 2)
        rc = 1;
    char p[128];
    unlink(db);
    snprintf(p, sizeof p, "%s-wal", db);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", db);
    unlink(p);
    free(accepted);
    return rc;
}
