/* The delivery engine driven through the engine's transport: one message
 * (omni_delivery_send, with inline retries inside a deadline) and the
 * stored work that is due (omni_delivery_tick). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"
#include "delivery_internal.h"

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Sends the job's SEND through the transport and feeds the outcome. */
static int send_one(omni_delivery_job *job, omni_transport *t, const omni_http_request *req,
                    int64_t now)
{
    omni_http_response *resp = NULL;
    int ts = omni_transport_send(t, req, &resp);
    int64_t clock = omni_engine_now_ms(job->d->engine);
    int rc = omni_delivery_feed(job, ts == OMNI_OK ? resp : NULL, ts, clock > now ? clock : now);
    omni_http_response_free(resp);
    return rc;
}

static int64_t later(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Drives a job from `now` until it waits past `deadline` (absolute; 0: no
 * waiting) or is done. Time only moves forward: the engine's clock, or
 * `now` when that is ahead (tick's time, a frozen clock). */
static int drive(omni_delivery_job *job, omni_transport *t, int64_t now, int64_t deadline)
{
    omni_engine *e = job->d->engine;
    for (;;) {
        int action = 0;
        const omni_http_request *req = NULL;
        int64_t until = 0;
        int rc = omni_delivery_next(job, now, &action, &req, &until);
        if (rc)
            return rc;
        if (action == OMNI_DELIVERY_SEND) {
            if ((rc = send_one(job, t, req, now)))
                return rc;
            now = later(omni_engine_now_ms(e), now);
        } else if (action == OMNI_DELIVERY_WAIT && deadline && until <= deadline) {
            sleep_ms(until - omni_engine_now_ms(e));
            now = later(omni_engine_now_ms(e), until); /* a frozen clock still moves on */
        } else {
            return OMNI_OK;
        }
    }
}

int omni_delivery_run(omni_delivery_job *job, int64_t deadline_ms)
{
    if (!job)
        return omni__err(OMNI_EINVAL, "delivery: job is NULL");
    if (deadline_ms < 0)
        return omni__err(OMNI_EINVAL, "delivery: deadline_ms must be >= 0");
    omni_transport *t = omni_engine_transport(job->d->engine);
    if (!t)
        return omni__err(OMNI_EUNSUPPORTED, "delivery: the engine has no transport");
    return drive(job, t, omni_engine_now_ms(job->d->engine), deadline_ms);
}

static int read_deadline(const char *options, size_t len, int64_t *deadline_ms)
{
    *deadline_ms = 0;
    if (!options || !len)
        return OMNI_OK;
    cJSON *o = NULL;
    int rc = omni__json_parse(&o, options, len, 64u * 1024u, "delivery options");
    if (rc)
        return rc;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, "deadlineMs");
    if (it && (omni__json_int(o, "deadlineMs", deadline_ms) || *deadline_ms < 0 ||
               *deadline_ms > 86400000))
        rc = omni__err(OMNI_EINVAL, "delivery: deadlineMs must be 0 to 86400000");
    cJSON_Delete(o);
    return rc;
}

int omni_delivery_send(char **out, size_t *out_len, omni_delivery *d, const char *event_json,
                       size_t len, const char *options, size_t options_len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "delivery: out is NULL");
    *out = NULL;
    if (!d)
        return omni__err(OMNI_EINVAL, "delivery: delivery is NULL");
    omni_transport *t = omni_engine_transport(d->engine);
    if (!t)
        return omni__err(OMNI_EUNSUPPORTED, "delivery: the engine has no transport");
    int64_t deadline_ms;
    int rc = read_deadline(options, options_len, &deadline_ms);
    if (rc)
        return rc;
    int64_t start = omni_engine_now_ms(d->engine);
    omni_delivery_job *job = NULL;
    if ((rc = omni_delivery_publish(&job, d, event_json, len, options, options_len, start)))
        return rc;
    rc = drive(job, t, start, deadline_ms ? start + deadline_ms : 0);
    if (!rc)
        rc = omni_delivery_job_result(job, out, out_len);
    omni_delivery_job_free(job);
    return rc;
}

/* ---- tick ------------------------------------------------------------------------------------- */

typedef struct due_list {
    char (*keys)[80];
    size_t n, cap;
    int64_t now;
    int64_t next_due; /* the first entry after now, 0: none seen */
} due_list;

static int64_t due_time(const char *key, size_t len)
{
    int64_t t = 0;
    for (size_t i = 0; i < 13 && i < len; i++) {
        if (key[i] < '0' || key[i] > '9')
            return -1;
        t = t * 10 + (key[i] - '0');
    }
    return len > 14 && key[13] == '/' ? t : -1;
}

static int due_item(void *ctx, const char *key, size_t key_len, const char *value,
                    size_t value_len, uint64_t version, int64_t expires_at)
{
    (void)value;
    (void)value_len;
    (void)version;
    (void)expires_at;
    due_list *l = ctx;
    int64_t t = due_time(key, key_len);
    if (t > l->now) {
        l->next_due = t;
        return 1;
    }
    if (key_len < 80 && l->n < l->cap)
        snprintf(l->keys[l->n++], 80, "%.*s", (int)key_len, key);
    return 0;
}

typedef struct tick_counts {
    int64_t processed, sent, retried, dead, expired, in_doubt, errors;
} tick_counts;

static void tick_one(omni_delivery *d, omni_transport *t, const char *key, int64_t now,
                     tick_counts *c)
{
    omni_store *st = omni_engine_store(d->engine);
    omni_delivery_job *job = NULL;
    int rc = omni_delivery_resume(&job, d, key + 14, now);
    const char *due_key = rc ? NULL : omni__json_str(job->rec, "dueKey");
    if (rc == OMNI_ENOTFOUND || (!rc && (!due_key || strcmp(due_key, key) != 0))) {
        /* left behind by a crash between writing an entry and the record */
        (void)omni_store_delete(st, OMNI__DLV_NS_DUE, key, OMNI_STORE_ANY_VERSION, now);
        omni_delivery_job_free(job);
        omni_error_clear();
        return;
    }
    if (!rc)
        rc = drive(job, t, now, 0);
    c->processed++;
    if (rc) {
        c->errors++;
        omni__log(d->engine, OMNI_LOG_WARN, "delivery", "tick: message %s: %s", key + 14,
                  omni_error_last_message());
        omni_error_clear();
        omni_delivery_job_free(job);
        return;
    }
    c->in_doubt += job->n_in_doubt;
    switch (omni__dlv_state(job->rec)) {
    case DLV_DELIVERED:
        c->sent++;
        break;
    case DLV_DEAD:
        c->dead++;
        break;
    case DLV_EXPIRED:
        c->expired++;
        break;
    default:
        if (job->n_retry_scheduled || cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
                                          job->rec, "attempts")) > 0)
            c->retried++;
        break;
    }
    omni_delivery_job_free(job);
}

int omni_delivery_tick(char **out, size_t *out_len, omni_delivery *d, int64_t now, size_t limit)
{
    if (out)
        *out = NULL;
    if (!d || now < 0 || limit < 1 || limit > 1000)
        return omni__err(OMNI_EINVAL, "delivery: tick needs a delivery, now_ms >= 0 and a limit "
                                      "of 1 to 1000");
    omni_transport *t = omni_engine_transport(d->engine);
    if (!t)
        return omni__err(OMNI_EUNSUPPORTED, "delivery: the engine has no transport");
    omni_store *st = omni_engine_store(d->engine);
    due_list l = {malloc(sizeof *l.keys * limit), 0, limit, now, 0};
    if (!l.keys)
        return omni__err(OMNI_ENOMEM, "delivery: out of memory");
    tick_counts c = {0};
    int rc = omni_store_list(st, OMNI__DLV_NS_DUE, "", "", limit, now, due_item, &l, NULL);
    for (size_t i = 0; !rc && i < l.n; i++)
        tick_one(d, t, l.keys[i], now, &c);
    if (!rc) { /* when the next piece of work is due */
        l.n = 0;
        l.cap = 0;
        l.now = -1; /* every entry is "after now": the first one stops the listing */
        l.next_due = 0;
        rc = omni_store_list(st, OMNI__DLV_NS_DUE, "", "", 1, now, due_item, &l, NULL);
    }
    free(l.keys);
    if (rc)
        return omni__dlv_db_error(rc, "listing due messages");
    omni_error_clear();
    if (!out)
        return OMNI_OK;
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "processed");
    omni__json_w_int(&b, c.processed);
    omni__json_w_keyl(&b, "sent");
    omni__json_w_int(&b, c.sent);
    omni__json_w_keyl(&b, "retried");
    omni__json_w_int(&b, c.retried);
    omni__json_w_keyl(&b, "deadLettered");
    omni__json_w_int(&b, c.dead);
    omni__json_w_keyl(&b, "expired");
    omni__json_w_int(&b, c.expired);
    omni__json_w_keyl(&b, "inDoubt");
    omni__json_w_int(&b, c.in_doubt);
    omni__json_w_keyl(&b, "errors");
    omni__json_w_int(&b, c.errors);
    omni__json_w_keyl(&b, "nextDueAt");
    char ts[40];
    if (l.next_due > 0 && omni_time_format(ts, sizeof ts, l.next_due) == OMNI_OK)
        omni__json_w_str(&b, ts);
    else
        omni__json_w_null(&b);
    omni__json_w_obj_end(&b);
    return omni__buf_finish(&b, omni__buf_status(&b), out, out_len);
}
