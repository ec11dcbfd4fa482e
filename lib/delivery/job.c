/* The delivery engine's sans-I/O core: publish (store or find by
 * idempotency key), next (expire, wait, guard, build, claim), feed (record
 * the outcome: delivered, retry with jittered backoff, fall back, or dead
 * letter). Every transition is one compare-and-swap on the message record. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"
#include "delivery_internal.h"

#define MAX_OPTIONS (64u * 1024u)
#define MAX_KEY 512

/* What one attempt came to. */
typedef struct outcome {
    int ok;
    char code[40];
    char message[320];
    int retryable;
    int fallback;      /* another carrier may succeed where this one failed */
    int breaks;        /* counts as a failure of the carrier (circuit breaker) */
    int64_t retry_after;
    int http_status;   /* 0: no response */
    int immediate;     /* retry at once (APNs ExpiredProviderToken: a new JWT is signed) */
    int invalid_token; /* the push provider refused the device token: remove the device */
    cJSON *result;     /* the adapter's result (ok or not) */
} outcome;

static void job_reset_request(omni_delivery_job *job)
{
    omni_http_request_free(job->request);
    job->request = NULL;
    job->probe = 0;
    job->token_exchange = 0;
}

void omni_delivery_job_free(omni_delivery_job *job)
{
    if (!job)
        return;
    job_reset_request(job);
    cJSON_Delete(job->rec);
    cJSON_Delete(job->events);
    free(job->event_text);
    free(job);
}

static int job_alloc(omni_delivery_job **out, omni_delivery *d, const char *id)
{
    omni_delivery_job *job = calloc(1, sizeof *job);
    if (!job)
        return omni__err(OMNI_ENOMEM, "delivery: out of memory");
    job->d = d;
    snprintf(job->id, sizeof job->id, "%s", id);
    *out = job;
    return OMNI_OK;
}

static const char *rec_carrier(const cJSON *rec)
{
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rec, "carriers"),
                                        (int)omni__dlv_num(rec, "carrierIndex", 0));
    return cJSON_IsString(c) ? c->valuestring : "";
}

static int set_error(cJSON *rec, const char *code, const char *message, int retryable)
{
    cJSON *e = cJSON_CreateObject();
    if (!e || !cJSON_AddStringToObject(e, "code", code) ||
        !cJSON_AddStringToObject(e, "message", message) ||
        !cJSON_AddBoolToObject(e, "retryable", retryable)) {
        cJSON_Delete(e);
        return omni__err(OMNI_ENOMEM, "delivery: out of memory");
    }
    if (cJSON_GetObjectItemCaseSensitive(rec, "lastError"))
        cJSON_ReplaceItemInObjectCaseSensitive(rec, "lastError", e);
    else
        cJSON_AddItemToObject(rec, "lastError", e);
    return OMNI_OK;
}

static int set_state(cJSON *rec, int state)
{
    return omni__dlv_set_str(rec, "state", omni__dlv_state_name(state));
}

/* ---- publish / resume ------------------------------------------------------------------- */

static int event_error(const char *member, const char *why)
{
    return omni__err(OMNI_EINVAL, "delivery: %s %s", member, why);
}

/* Merges options_json into event.options (its members win). */
static int merge_options(cJSON *ev, const char *options_json, size_t len)
{
    cJSON *opts = cJSON_GetObjectItemCaseSensitive(ev, "options");
    if (opts && !cJSON_IsObject(opts))
        return event_error("options", "must be an object");
    if (!options_json || !len)
        return OMNI_OK;
    cJSON *o = NULL;
    int rc = omni__json_parse(&o, options_json, len, MAX_OPTIONS, "delivery options");
    if (rc)
        return rc;
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return event_error("the options", "must be a JSON object");
    }
    if (!opts) {
        opts = cJSON_AddObjectToObject(ev, "options");
        if (!opts) {
            cJSON_Delete(o);
            return omni__err(OMNI_ENOMEM, "delivery: out of memory");
        }
    }
    cJSON *it = o->child;
    while (it) {
        cJSON *next = it->next;
        cJSON *item = cJSON_DetachItemViaPointer(o, it);
        if (strcmp(item->string, "deadlineMs") == 0) {
            cJSON_Delete(item);
        } else if (cJSON_GetObjectItemCaseSensitive(opts, item->string)) {
            cJSON_ReplaceItemInObjectCaseSensitive(opts, item->string, item);
        } else {
            cJSON_AddItemToObject(opts, item->string, item);
        }
        it = next;
    }
    cJSON_Delete(o);
    return OMNI_OK;
}

static int opt_time(const cJSON *opts, const char *name, int64_t *out)
{
    *out = 0;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(opts, name);
    if (!it || cJSON_IsNull(it))
        return OMNI_OK;
    if (!cJSON_IsString(it) || omni_time_parse(out, it->valuestring, strlen(it->valuestring)))
        return omni__err(OMNI_EINVAL, "delivery: options.%s must be an RFC 3339 time", name);
    return OMNI_OK;
}

/* The new record for a validated event (takes ev). */
static int new_record(cJSON **out, omni_delivery *d, cJSON *ev, const char *id, const char *key,
                      const char *carrier, int64_t scheduled, int64_t expires, int64_t now)
{
    cJSON *rec = cJSON_CreateObject();
    cJSON *carriers = cJSON_CreateArray(), *attempts = NULL;
    if (!rec || !carriers || !cJSON_AddItemToArray(carriers, cJSON_CreateString(carrier)))
        goto oom;
    for (int i = 0; i < d->fallback_count; i++)
        if (strcmp(d->fallback[i].carrier, carrier) == 0)
            for (int j = 0; j < d->fallback[i].count; j++)
                if (!cJSON_AddItemToArray(carriers, cJSON_CreateString(d->fallback[i].next[j])))
                    goto oom;
    /* every add is checked: cJSON's failures are silent otherwise */
    if (!cJSON_AddStringToObject(rec, "messageId", id) ||
        !cJSON_AddStringToObject(rec, "idempotencyKey", key) ||
        !cJSON_AddStringToObject(rec, "correlationId", omni__json_str(ev, "correlationId")) ||
        !cJSON_AddStringToObject(rec, "state", "pending") ||
        !cJSON_AddItemToObject(rec, "carriers", carriers))
        goto oom;
    carriers = NULL; /* rec owns it */
    if (!cJSON_AddNumberToObject(rec, "carrierIndex", 0) ||
        !cJSON_AddNumberToObject(rec, "retry", 0) || !(attempts = cJSON_CreateArray()) ||
        !cJSON_AddItemToObject(rec, "attempts", attempts))
        goto oom;
    attempts = NULL;
    if (!cJSON_AddNumberToObject(rec, "nextAttemptAt",
                                 (double)(scheduled > now ? scheduled : now)) ||
        !cJSON_AddNumberToObject(rec, "createdAt", (double)now) ||
        (scheduled && !cJSON_AddNumberToObject(rec, "scheduledAt", (double)scheduled)) ||
        (expires && !cJSON_AddNumberToObject(rec, "expiresAt", (double)expires)) ||
        !cJSON_AddItemToObject(rec, "event", ev))
        goto oom;
    ev = NULL;
    *out = rec;
    return OMNI_OK;
oom:
    cJSON_Delete(ev);
    cJSON_Delete(carriers);
    cJSON_Delete(attempts);
    cJSON_Delete(rec);
    return omni__err(OMNI_ENOMEM, "delivery: out of memory");
}

int omni_delivery_publish(omni_delivery_job **out, omni_delivery *d, const char *event_json,
                          size_t len, const char *options_json, size_t options_len,
                          int64_t now)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "delivery: out is NULL");
    *out = NULL;
    if (!d || !event_json)
        return omni__err(OMNI_EINVAL, "delivery: delivery and event are required");
    if (now < 0)
        return omni__err(OMNI_EINVAL, "delivery: now_ms must be >= 0");
    if (len > OMNI_OUTBOUND_MAX_EVENT)
        return omni__err(OMNI_ETOOLARGE, "delivery: the event is over %u bytes",
                         OMNI_OUTBOUND_MAX_EVENT);
    cJSON *ev = NULL;
    int rc = omni__json_parse(&ev, event_json, len, OMNI_OUTBOUND_MAX_EVENT, "outbound event");
    if (rc)
        return rc;
    const char *corr = NULL, *to = NULL, *carrier = NULL;
    const cJSON *recipient;
    if (!cJSON_IsObject(ev))
        rc = event_error("the event", "must be a JSON object");
    else if (!(corr = omni__json_str(ev, "correlationId")) || !*corr || strlen(corr) > 256)
        rc = event_error("correlationId", "must be a string of 1 to 256 bytes");
    else if (!cJSON_IsObject(recipient = cJSON_GetObjectItemCaseSensitive(ev, "recipient")))
        rc = event_error("recipient", "must be an object");
    else if (!(to = omni__json_str(recipient, "channelIdentifier")) || !*to || strlen(to) > 1024)
        rc = event_error("recipient.channelIdentifier", "must be a string of 1 to 1024 bytes");
    else if (!(carrier = omni__json_str(recipient, "carrier")) ||
             !omni__dlv_carrier_known(carrier))
        rc = event_error("recipient.carrier", "must name a carrier with an outbound adapter or "
                                              "a push carrier (apns, fcm, webpush)");
    else if (omni__dlv_push_platform(carrier) &&
             !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ev, "push")))
        rc = event_error("push", "must be an object (the device's push message) for a push "
                                 "carrier");
    else
        rc = merge_options(ev, options_json, options_len);
    int64_t scheduled = 0, expires = 0;
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(ev, "options");
    if (!rc)
        rc = opt_time(opts, "scheduledAt", &scheduled);
    if (!rc)
        rc = opt_time(opts, "expiresAt", &expires);
    omni_buf key = OMNI_BUF_INIT;
    if (!rc) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(opts, "idempotencyKey");
        if (k && (!cJSON_IsString(k) || !*k->valuestring || strlen(k->valuestring) > MAX_KEY))
            rc = event_error("options.idempotencyKey", "must be a string of 1 to 512 bytes");
        else if (k)
            omni__buf_puts(&key, k->valuestring);
        else
            omni__buf_printf(&key, "%s/%s", corr, to);
        if (!rc)
            rc = omni__buf_status(&key);
    }
    char id[OMNI__DLV_ID_LEN + 1];
    if (!rc)
        rc = omni__dlv_message_id(id, key.data, key.len);
    omni_delivery_job *job = NULL;
    if (!rc)
        rc = job_alloc(&job, d, id);
    if (rc) {
        omni__buf_free(&key);
        cJSON_Delete(ev);
        return rc;
    }
    rc = omni__dlv_load(job, now);
    if (rc == OMNI_OK) { /* published before */
        job->duplicate = 1;
        job->fresh = 1;
        omni__buf_free(&key);
        cJSON_Delete(ev);
        *out = job;
        return OMNI_OK;
    }
    if (rc != OMNI_ENOTFOUND) {
        omni__buf_free(&key);
        cJSON_Delete(ev);
        omni_delivery_job_free(job);
        return rc;
    }
    rc = new_record(&job->rec, d, ev, id, key.data, carrier, scheduled, expires, now);
    omni__buf_free(&key);
    if (!rc)
        rc = omni__json_print(&job->event_text, &job->event_len, omni__dlv_message(job->rec));
    /* stored by the first next(), in the state it decides (one write fewer
     * for a message sent at once) */
    job->version = OMNI_STORE_CREATE;
    if (rc) {
        omni_delivery_job_free(job);
        return rc;
    }
    job->fresh = 1;
    *out = job;
    return OMNI_OK;
}

int omni_delivery_resume(omni_delivery_job **out, omni_delivery *d, const char *message_id,
                         int64_t now)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "delivery: out is NULL");
    *out = NULL;
    if (!d || !message_id || !*message_id || strlen(message_id) > OMNI__DLV_ID_LEN)
        return omni__err(OMNI_EINVAL, "delivery: a messageId is required");
    omni_delivery_job *job = NULL;
    int rc = job_alloc(&job, d, message_id);
    if (rc)
        return rc;
    rc = omni__dlv_load(job, now);
    if (rc == OMNI_ENOTFOUND)
        rc = omni__err(OMNI_ENOTFOUND, "delivery: no message %s", message_id);
    if (rc) {
        omni_delivery_job_free(job);
        return rc;
    }
    job->fresh = 1;
    *out = job;
    return OMNI_OK;
}

/* ---- transitions ------------------------------------------------------------------------- */

/* Saves a record that may be becoming dead: its dead letter is written
 * first (a dead record always has one), and dropped when the save fails. */
static int save(omni_delivery_job *job, int64_t due_at, int64_t now)
{
    int dead = omni__dlv_state(job->rec) == DLV_DEAD;
    int rc;
    if (dead && (rc = omni__dlv_dlq_put(job->d, job->rec, now)))
        return rc;
    rc = omni__dlv_save(job, due_at, now);
    if (rc && dead)
        omni__dlv_dlq_drop(job->d, job->id, now);
    if (!rc) {
        int state = omni__dlv_state(job->rec);
        if (state == DLV_DEAD)
            omni__log(job->d->engine, OMNI_LOG_WARN, "delivery",
                      "message %s dead-lettered: %s", job->id,
                      omni__json_str(job->rec, "lastError.code")
                          ? omni__json_str(job->rec, "lastError.code")
                          : "");
    }
    return rc;
}

static int become_dead(cJSON *rec, const char *code, const char *message, int64_t now)
{
    int rc = set_state(rec, DLV_DEAD);
    if (!rc)
        rc = set_error(rec, code, message, 0);
    if (!rc)
        omni__dlv_set_num(rec, "deadAt", (double)now);
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "nextAttemptAt");
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "leaseUntil");
    return rc;
}

/* Moves to the next fallback carrier, due now; 0 when there is none. */
static int fall_back(cJSON *rec, int64_t now)
{
    int64_t idx = omni__dlv_num(rec, "carrierIndex", 0);
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rec, "carriers"));
    if (idx + 1 >= n)
        return 0;
    omni__dlv_set_num(rec, "carrierIndex", (double)(idx + 1));
    omni__dlv_set_num(rec, "retry", 0);
    omni__dlv_set_num(rec, "nextAttemptAt", (double)now);
    return 1;
}

static cJSON *add_attempt(cJSON *rec, const char *carrier, int64_t now, const char *outcome)
{
    cJSON *attempts = cJSON_GetObjectItemCaseSensitive(rec, "attempts");
    cJSON *a = cJSON_CreateObject();
    if (!a)
        return NULL;
    cJSON_AddNumberToObject(a, "n", cJSON_GetArraySize(attempts) + 1);
    cJSON_AddStringToObject(a, "carrier", carrier);
    cJSON_AddNumberToObject(a, "startedAt", (double)now);
    cJSON_AddStringToObject(a, "outcome", outcome);
    if (!cJSON_GetObjectItemCaseSensitive(a, "outcome")) {
        cJSON_Delete(a);
        return NULL;
    }
    cJSON_AddItemToArray(attempts, a);
    return a;
}

/* An attempt that never reached a provider (circuit open, not configured). */
static int note_skip(cJSON *rec, const char *carrier, int64_t now, const char *outcome,
                     const char *code, const char *message)
{
    cJSON *a = add_attempt(rec, carrier, now, outcome);
    if (!a)
        return omni__err(OMNI_ENOMEM, "delivery: out of memory");
    cJSON_AddNumberToObject(a, "endedAt", (double)now);
    cJSON *e = cJSON_AddObjectToObject(a, "error");
    if (e) {
        cJSON_AddStringToObject(e, "code", code);
        cJSON_AddStringToObject(e, "message", message);
    }
    return set_error(rec, code, message, 0);
}

/* The attempt numbered n (its outstanding SEND), or NULL. */
static cJSON *find_attempt(cJSON *rec, int64_t n)
{
    cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(rec, "attempts"))
        if (omni__dlv_num(a, "n", -1) == n)
            return a;
    return NULL;
}

static int64_t backoff(omni_delivery *d, int64_t retry, int64_t retry_after)
{
    double cap = (double)d->initial_backoff_ms * pow(d->multiplier, (double)(retry - 1));
    if (cap > (double)d->max_backoff_ms)
        cap = (double)d->max_backoff_ms;
    uint64_t r = 0;
    if (omni_engine_random(d->engine, (uint8_t *)&r, sizeof r) != OMNI_OK)
        r = 0;
    int64_t delay = (int64_t)(r % ((uint64_t)cap + 1)); /* full jitter */
    omni_error_clear();
    return delay < retry_after ? retry_after : delay;
}

/* Applies an attempt's outcome to rec; *due_at receives the next due time
 * (0: final). */
static int apply_outcome(omni_delivery_job *job, const outcome *oc, int64_t n, int64_t now,
                         int64_t *due_at)
{
    omni_delivery *d = job->d;
    cJSON *rec = job->rec;
    cJSON *a = find_attempt(rec, n);
    const char *carrier = rec_carrier(rec);
    const char *prev = omni__json_str(rec, "lastError.code");
    int immediate = oc->immediate && !(prev && strcmp(prev, oc->code) == 0); /* once in a row */
    if (a) {
        omni__dlv_set_num(a, "endedAt", (double)now);
        if (oc->http_status)
            omni__dlv_set_num(a, "httpStatus", oc->http_status);
        (void)omni__dlv_set_str(a, "outcome",
                                oc->ok ? "accepted" : oc->retryable ? "retry" : "failed");
        if (!oc->ok) {
            cJSON *e = cJSON_CreateObject();
            if (e) {
                cJSON_AddStringToObject(e, "code", oc->code);
                cJSON_AddStringToObject(e, "message", oc->message);
                cJSON_AddBoolToObject(e, "retryable", oc->retryable);
                cJSON_DeleteItemFromObjectCaseSensitive(a, "error");
                cJSON_AddItemToObject(a, "error", e);
            }
        }
    }
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "leaseUntil");
    *due_at = 0;
    if (oc->ok) {
        cJSON *res = cJSON_CreateObject();
        if (!res)
            return omni__err(OMNI_ENOMEM, "delivery: out of memory");
        cJSON_AddStringToObject(res, "carrier", carrier);
        const char *v = omni__json_str(oc->result, "carrierMessageId");
        if (v)
            cJSON_AddStringToObject(res, "carrierMessageId", v);
        v = omni__json_str(oc->result, "status");
        cJSON_AddStringToObject(res, "status", v ? v : "queued");
        double cost;
        if (omni__json_num(oc->result, "cost", &cost) == OMNI_OK) {
            cJSON_AddNumberToObject(res, "cost", cost);
            if ((v = omni__json_str(oc->result, "currency")))
                cJSON_AddStringToObject(res, "currency", v);
        }
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "result");
        cJSON_AddItemToObject(rec, "result", res);
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "lastError");
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "nextAttemptAt");
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "deadAt");
        return set_state(rec, DLV_DELIVERED);
    }
    int rc = set_error(rec, oc->code, oc->message, oc->retryable);
    if (rc)
        return rc;
    int64_t retry = omni__dlv_num(rec, "retry", 0);
    int64_t expires = omni__dlv_num(rec, "expiresAt", 0);
    if (oc->retryable && retry < d->max_retries) {
        int64_t at = immediate ? now : now + backoff(d, retry + 1, oc->retry_after);
        if (expires && at >= expires) {
            if ((rc = set_state(rec, DLV_EXPIRED)))
                return rc;
            cJSON_DeleteItemFromObjectCaseSensitive(rec, "nextAttemptAt");
            return set_error(rec, "EXPIRED", "the message expired before it could be retried",
                             0);
        }
        omni__dlv_set_num(rec, "retry", (double)(retry + 1));
        omni__dlv_set_num(rec, "nextAttemptAt", (double)at);
        job->n_retry_scheduled++;
        *due_at = at;
        return set_state(rec, DLV_PENDING);
    }
    if ((oc->retryable || oc->fallback) && fall_back(rec, now)) {
        *due_at = now;
        return set_state(rec, DLV_PENDING);
    }
    if (oc->retryable) {
        char msg[400];
        snprintf(msg, sizeof msg, "gave up after %lld retries: %s", (long long)retry, oc->message);
        return become_dead(rec, "RETRIES_EXHAUSTED", msg, now);
    }
    return become_dead(rec, oc->code, oc->message, now);
}

static void tell_conversation(omni_delivery_job *job, int64_t now);

/* ---- next ---------------------------------------------------------------------------------- */

static int build_failed(omni_delivery_job *job, int rc, const char *carrier, int64_t now,
                        int *fell_back)
{
    char msg[320];
    snprintf(msg, sizeof msg, "%s", omni_error_last_message());
    omni_error_clear();
    *fell_back = 0;
    if (rc == OMNI_ENOMEM)
        return omni__err(OMNI_ENOMEM, "delivery: out of memory");
    if (rc == OMNI_ECONFIG || rc == OMNI_ECARRIER) {
        int r2 = note_skip(job->rec, carrier, now, "not_configured", "PROVIDER_NOT_CONFIGURED",
                           msg);
        if (r2)
            return r2;
        if (fall_back(job->rec, now)) {
            *fell_back = 1;
            return OMNI_OK;
        }
        return become_dead(job->rec, "PROVIDER_NOT_CONFIGURED", msg, now);
    }
    const char *code = "INVALID_REQUEST";
    if (rc == OMNI_EWINDOW)
        code = "WINDOW_CLOSED";
    else if (omni__dlv_push_platform(carrier) && rc == OMNI_ETOOLARGE)
        code = "PAYLOAD_TOO_LARGE";
    else if (omni__dlv_push_platform(carrier) &&
             (rc == OMNI_EKEY || rc == OMNI_EEXPIRED || rc == OMNI_ECRYPTO))
        code = "AUTH_FAILED"; /* the credentials could not sign, or FCM has no access token */
    int r2 = note_skip(job->rec, carrier, now, "not_built", code, msg);
    if (r2)
        return r2;
    return become_dead(job->rec, code, msg, now);
}

static const char *rec_sender(const cJSON *rec)
{
    const char *s = omni__json_str(rec, "event.routing.fromNumber");
    return s ? s : "";
}

/* One decision on a fresh record: sets *action (and the request or wait
 * time) or changes the record (*saved_due set, returns 1: save and go on). */
static int decide(omni_delivery_job *job, int64_t now, int *action, int64_t *wait, int64_t *due)
{
    omni_delivery *d = job->d;
    cJSON *rec = job->rec;
    int state = omni__dlv_state(rec);
    if (state == DLV_DELIVERED || state == DLV_DEAD || state == DLV_EXPIRED) {
        *action = OMNI_DELIVERY_DONE;
        return 0;
    }
    if (state == DLV_SENDING) {
        int64_t lease = omni__dlv_num(rec, "leaseUntil", 0);
        if (lease > now) {
            *action = OMNI_DELIVERY_WAIT;
            *wait = lease;
            return 0;
        }
        /* the process that claimed the send stopped before recording it */
        cJSON *attempts = cJSON_GetObjectItemCaseSensitive(rec, "attempts");
        cJSON *a = cJSON_GetArrayItem(attempts, cJSON_GetArraySize(attempts) - 1);
        job->n_in_doubt++;
        outcome oc = {0};
        snprintf(oc.code, sizeof oc.code, "IN_DOUBT");
        snprintf(oc.message, sizeof oc.message,
                 "the process sending attempt %lld stopped before it recorded the provider's "
                 "answer; the provider may have the message",
                 (long long)omni__dlv_num(a, "n", 0));
        if (d->in_doubt_retry) {
            oc.retryable = 1;
            int rc = apply_outcome(job, &oc, omni__dlv_num(a, "n", 0), now, due);
            if (a)
                (void)omni__dlv_set_str(a, "outcome", "in_doubt");
            return rc ? rc : 1;
        }
        if (a) {
            (void)omni__dlv_set_str(a, "outcome", "in_doubt");
            omni__dlv_set_num(a, "endedAt", (double)now);
        }
        int rc = become_dead(rec, oc.code, oc.message, now);
        *due = 0;
        return rc ? rc : 1;
    }
    int64_t expires = omni__dlv_num(rec, "expiresAt", 0);
    if (expires && now >= expires) {
        int rc = set_state(rec, DLV_EXPIRED);
        if (!rc)
            rc = set_error(rec, "EXPIRED", "the message expired before it was sent", 0);
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "nextAttemptAt");
        *due = 0;
        return rc ? rc : 1;
    }
    int64_t next_at = omni__dlv_num(rec, "nextAttemptAt", now);
    if (next_at > now) {
        *action = OMNI_DELIVERY_WAIT;
        *wait = next_at;
        return 0;
    }
    const char *carrier = rec_carrier(rec);
    const char *platform = omni__dlv_push_platform(carrier);
    if (platform && d->push && !job->token_fetched && strcmp(carrier, "fcm") == 0) {
        /* FCM's access token first (shared by every send; not an attempt) */
        omni_http_request *treq = NULL;
        int rc = omni_push_token_request(&treq, d->push, now);
        if (rc == OMNI_ENOMEM)
            return rc;
        omni_error_clear(); /* a token that cannot be asked for: the build below says why */
        if (treq) {
            job->request = treq;
            job->token_exchange = 1;
            *action = OMNI_DELIVERY_SEND;
            return 0;
        }
    }
    int probe = 0;
    int64_t until = 0;
    int rc = omni__dlv_circuit_check(d, carrier, now, &probe, &until);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        char msg[128];
        snprintf(msg, sizeof msg, "the circuit breaker of %s is open", carrier);
        if ((rc = note_skip(rec, carrier, now, "circuit_open", "CIRCUIT_OPEN", msg)))
            return rc;
        if (!fall_back(rec, now))
            omni__dlv_set_num(rec, "nextAttemptAt", (double)until);
        *due = omni__dlv_num(rec, "nextAttemptAt", now);
        return 1;
    }
    rc = omni__dlv_rate_take(d, carrier, rec_sender(rec), now, &until);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        omni__dlv_set_num(rec, "nextAttemptAt", (double)until);
        *due = until;
        return 1;
    }
    omni_http_request *req = NULL;
    if (!platform)
        rc = omni_outbound_build(&req, d->outbound, carrier, job->event_text, job->event_len, now);
    else if (!d->push)
        rc = omni__err(OMNI_ECONFIG, "delivery: push is not configured (omni_delivery_set_push)");
    else
        rc = omni_push_build(&req, d->push, job->event_text, job->event_len, now);
    if (rc) {
        int fell_back = 0;
        if ((rc = build_failed(job, rc, carrier, now, &fell_back)))
            return rc;
        *due = fell_back ? now : 0;
        return 1;
    }
    uint32_t t = omni_http_request_timeout_ms(req); /* 0: the transport's own */
    if (t + (uint64_t)1000 > (uint64_t)d->lease_ms)
        (void)omni_http_request_set_timeout_ms(req, (uint32_t)(d->lease_ms - 1000));
    cJSON *a = add_attempt(rec, carrier, now, "sending");
    if (!a || set_state(rec, DLV_SENDING)) {
        omni_http_request_free(req);
        return omni__err(OMNI_ENOMEM, "delivery: out of memory");
    }
    omni__dlv_set_num(rec, "leaseUntil", (double)(now + d->lease_ms));
    rc = omni__dlv_save(job, now + d->lease_ms, now);
    if (rc) {
        omni_http_request_free(req);
        return rc;
    }
    job->request = req;
    job->probe = probe;
    *action = OMNI_DELIVERY_SEND;
    return 0;
}

int omni_delivery_next(omni_delivery_job *job, int64_t now, int *action,
                       const omni_http_request **request, int64_t *wait_until)
{
    if (!job || !action)
        return omni__err(OMNI_EINVAL, "delivery: job and action are required");
    if (job->request)
        return omni__err(OMNI_EINVAL, "delivery: the last SEND has not been fed");
    if (request)
        *request = NULL;
    if (wait_until)
        *wait_until = 0;
    for (int steps = 0; steps < 64; steps++) {
        int rc;
        if (!job->fresh) {
            int unsaved = job->version == OMNI_STORE_CREATE;
            if ((rc = omni__dlv_load(job, now))) {
                if (rc == OMNI_ENOTFOUND)
                    rc = omni__err(OMNI_ENOTFOUND, "delivery: message %s is gone", job->id);
                return rc;
            }
            if (unsaved) /* published at the same moment elsewhere */
                job->duplicate = 1;
        }
        job->fresh = 1;
        int64_t wait = 0, due = 0;
        rc = decide(job, now, action, &wait, &due);
        if (rc == 1) {
            rc = save(job, due, now);
            if (rc == OMNI_ECONFLICT) {
                omni_error_clear();
                job->fresh = 0;
                continue;
            }
            if (rc)
                return rc;
            if (due == 0) /* became dead or expired */
                tell_conversation(job, now);
            continue;
        }
        if (rc == OMNI_ECONFLICT) { /* claimed or changed elsewhere: look again */
            omni_error_clear();
            job->fresh = 0;
            continue;
        }
        if (rc) {
            job->fresh = 0;
            return rc;
        }
        if (*action == OMNI_DELIVERY_WAIT && job->version == OMNI_STORE_CREATE) {
            rc = save(job, wait, now); /* a new message that is not due yet */
            if (rc == OMNI_ECONFLICT) {
                omni_error_clear();
                job->fresh = 0;
                continue;
            }
            if (rc)
                return rc;
        }
        if (*action == OMNI_DELIVERY_SEND) {
            if (request)
                *request = job->request;
        } else {
            job->fresh = 0;
            if (wait_until)
                *wait_until = wait;
        }
        return OMNI_OK;
    }
    return omni__err(OMNI_ECONFLICT, "delivery: message %s keeps changing", job->id);
}

/* ---- feed ---------------------------------------------------------------------------------- */

static void transport_outcome(outcome *oc, const omni_delivery *d, int ts)
{
    const char *msg = omni_error_last_message();
    snprintf(oc->message, sizeof oc->message, "%s", msg && *msg ? msg : omni_strerror(ts));
    oc->breaks = 1;
    switch (ts) {
    case OMNI_ECONNECT:
        snprintf(oc->code, sizeof oc->code, "CONNECTION_FAILED");
        oc->retryable = 1; /* nothing reached the provider */
        break;
    case OMNI_ETLS:
        snprintf(oc->code, sizeof oc->code, "TLS_ERROR");
        oc->fallback = 1;
        break;
    case OMNI_ERESPONSE:
        snprintf(oc->code, sizeof oc->code, "RESPONSE_TOO_LARGE");
        oc->breaks = 0;
        break;
    case OMNI_ETIMEOUT:
        snprintf(oc->code, sizeof oc->code, "TIMEOUT");
        oc->retryable = d->retry_timeouts;
        break;
    default:
        snprintf(oc->code, sizeof oc->code, "TRANSPORT_ERROR");
        oc->retryable = d->retry_timeouts;
        break;
    }
}

static int response_outcome(outcome *oc, omni_delivery_job *job, const char *carrier,
                            const omni_http_response *resp, int64_t now)
{
    char *text = NULL;
    size_t len = 0;
    const char *platform = omni__dlv_push_platform(carrier);
    oc->http_status = omni_http_response_status(resp);
    int rc = platform ? omni_push_parse(&text, &len, job->d->push, platform, resp, now)
                      : omni_outbound_parse(&text, &len, job->d->outbound, carrier, resp, now);
    if (!rc)
        rc = omni__json_parse(&oc->result, text, len, 0, "outbound result");
    omni_free(text);
    if (rc)
        return rc;
    int success = 0;
    (void)omni__json_bool(oc->result, "success", &success);
    const char *push_id = platform ? omni__json_str(oc->result, "messageId") : NULL;
    if (push_id && !cJSON_AddStringToObject(oc->result, "carrierMessageId", push_id))
        return omni__err(OMNI_ENOMEM, "delivery: out of memory");
    if (success) {
        oc->ok = 1;
        return OMNI_OK;
    }
    const char *code = omni__json_str(oc->result, "error.code");
    const char *msg = omni__json_str(oc->result, "error.message");
    snprintf(oc->code, sizeof oc->code, "%s", code ? code : "PROVIDER_ERROR");
    snprintf(oc->message, sizeof oc->message, "%s", msg ? msg : "the provider refused it");
    (void)omni__json_bool(oc->result, "error.retryable", &oc->retryable);
    int64_t ra = 0;
    if (omni__json_int(oc->result, "retryAfterMs", &ra) == OMNI_OK && ra > 0)
        oc->retry_after = ra > 86400000 ? 86400000 : ra;
    oc->fallback = strcmp(oc->code, "AUTH_FAILED") == 0 || strcmp(oc->code, "PROVIDER_ERROR") == 0;
    oc->breaks = oc->fallback || strcmp(oc->code, "PROVIDER_UNAVAILABLE") == 0;
    if (platform) {
        oc->fallback = 0; /* a device token belongs to one platform */
        (void)omni__json_bool(oc->result, "invalidToken", &oc->invalid_token);
        oc->immediate = strcmp(oc->code, "TOKEN_EXPIRED") == 0;
    }
    return OMNI_OK;
}

/* A device token the push provider refused: the device leaves the registry
 * (omni_device_remove with the provider's reason) and its device.invalidated
 * event joins the job's events. A device that is not registered (its token
 * came in the event) is fine; other failures are logged. */
static void forget_device(omni_delivery_job *job, const cJSON *result, const char *platform)
{
    const cJSON *msg = omni__dlv_message(job->rec);
    const char *token = strcmp(platform, "web") == 0 ? omni__json_str(msg, "subscription.endpoint")
                                                      : omni__json_str(msg, "token");
    const char *reason = omni__json_str(result, "error.providerCode");
    if (!reason || !*reason)
        reason = omni__json_str(result, "error.code");
    if (!token)
        return;
    char *out = NULL;
    size_t n = 0;
    int rc = omni_device_remove(&out, &n, job->d->engine, platform, token,
                                reason && *reason ? reason : "INVALID_TOKEN");
    cJSON *res = NULL;
    if (!rc && omni__json_parse(&res, out, n, 0, "device removal") == OMNI_OK) {
        cJSON *events = cJSON_GetObjectItemCaseSensitive(res, "events");
        if (!job->events)
            job->events = cJSON_CreateArray();
        cJSON *ev;
        while (job->events && (ev = cJSON_DetachItemFromArray(events, 0)))
            cJSON_AddItemToArray(job->events, ev);
    } else if (rc && rc != OMNI_ENOTFOUND) {
        omni__log(job->d->engine, OMNI_LOG_WARN, "delivery",
                  "message %s: the refused device was not removed: %s", job->id,
                  omni_error_last_message());
    }
    cJSON_Delete(res);
    omni_free(out);
    omni_error_clear();
}

/* The token endpoint's answer to FCM's access-token request (a SEND that is
 * not an attempt of the message): cached, and the job goes on to build the
 * message; a refusal is the message's failure (a key the endpoint does not
 * accept is final; 429, 5xx and transport errors are retried). */
static int feed_token(omni_delivery_job *job, const omni_http_response *resp, int ts, int64_t now)
{
    omni_delivery *d = job->d;
    outcome oc = {0};
    snprintf(oc.code, sizeof oc.code, "PROVIDER_ERROR");
    if (ts != OMNI_OK) {
        transport_outcome(&oc, d, ts);
        oc.retryable = ts != OMNI_ETLS; /* a token request is safe to repeat */
    } else {
        int rc = omni_push_token_response(d->push, resp, now);
        if (rc == OMNI_ENOMEM)
            return rc;
        if (rc == OMNI_OK) {
            job_reset_request(job);
            job->token_fetched = 1;
            return OMNI_OK;
        }
        oc.http_status = omni_http_response_status(resp);
        oc.breaks = 1;
        if (rc == OMNI_EKEY)
            snprintf(oc.code, sizeof oc.code, "AUTH_FAILED");
        else if (rc == OMNI_ETRANSPORT)
            snprintf(oc.code, sizeof oc.code, "PROVIDER_UNAVAILABLE");
        oc.retryable = rc == OMNI_ETRANSPORT;
    }
    snprintf(oc.message, sizeof oc.message, "FCM access token: %s", omni_error_last_message());
    omni_error_clear();
    job_reset_request(job);
    int rc = OMNI_OK;
    for (int tries = 0; tries < OMNI__DLV_CAS_TRIES; tries++) {
        if (omni__dlv_state(job->rec) != DLV_PENDING)
            break; /* another process took it on meanwhile */
        cJSON *a = add_attempt(job->rec, "fcm", now, "token_refused");
        if (!a)
            return omni__err(OMNI_ENOMEM, "delivery: out of memory");
        int64_t due = 0;
        rc = apply_outcome(job, &oc, omni__dlv_num(a, "n", 0), now, &due);
        if (!rc)
            rc = save(job, due, now);
        if (rc != OMNI_ECONFLICT)
            break;
        omni_error_clear();
        if ((rc = omni__dlv_load(job, now)))
            break;
    }
    job->fresh = rc == OMNI_OK;
    return rc;
}

/* Tells the conversation recording this message (event.messageState +
 * routing.conversationId) what became of it: the provider's id and status
 * once accepted, or failed with the reason once dead or expired. Failures
 * are logged, not returned (the message went out, or not, either way); the
 * conversation's change events are kept for the job's result. */
static void tell_conversation(omni_delivery_job *job, int64_t now)
{
    const cJSON *rec = job->rec;
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(rec, "event");
    const char *conv = omni__json_str(ev, "routing.conversationId");
    int64_t seq = 0;
    int state = omni__dlv_state(rec);
    if (!conv || omni__json_int(ev, "messageState.sequenceNumber", &seq) != OMNI_OK ||
        (state != DLV_DELIVERED && state != DLV_DEAD && state != DLV_EXPIRED))
        return;
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "conversationId");
    omni__json_w_str(&b, conv);
    omni__json_w_keyl(&b, "sequenceNumber");
    omni__json_w_int(&b, seq);
    if (state == DLV_DELIVERED) {
        const char *cmid = omni__json_str(rec, "result.carrierMessageId");
        const char *status = omni__json_str(rec, "result.status");
        omni__json_w_keyl(&b, "status");
        omni__json_w_str(&b, status && strcmp(status, "sent") == 0 ? "sent" : "queued");
        if (cmid) {
            omni__json_w_keyl(&b, "carrier");
            omni__json_w_str(&b, omni__json_str(rec, "result.carrier"));
            omni__json_w_keyl(&b, "carrierMessageId");
            omni__json_w_str(&b, cmid);
        }
    } else {
        omni__json_w_keyl(&b, "status");
        omni__json_w_str(&b, "failed");
        omni__json_w_keyl(&b, "errorCode");
        omni__json_w_str(&b, omni__json_str(rec, "lastError.code"));
        omni__json_w_keyl(&b, "errorMessage");
        omni__json_w_str(&b, omni__json_str(rec, "lastError.message"));
    }
    char t[40];
    if (omni_time_format(t, sizeof t, now) == OMNI_OK) {
        omni__json_w_keyl(&b, "timestamp");
        omni__json_w_str(&b, t);
    }
    omni__json_w_obj_end(&b);
    char *out = NULL;
    size_t n = 0;
    int rc = omni__buf_status(&b);
    if (!rc)
        rc = omni_conversation_delivery(&out, &n, job->d->engine, b.data, b.len);
    if (rc) {
        omni__log(job->d->engine, OMNI_LOG_WARN, "delivery",
                  "message %s: the conversation record was not updated: %s", job->id,
                  omni_error_last_message());
    } else {
        cJSON *res = NULL;
        if (omni__json_parse(&res, out, n, 0, "conversation delivery") == OMNI_OK) {
            cJSON *events = cJSON_DetachItemFromObjectCaseSensitive(res, "events");
            if (cJSON_GetArraySize(events) > 0) {
                cJSON_Delete(job->events);
                job->events = events;
            } else {
                cJSON_Delete(events);
            }
        }
        cJSON_Delete(res);
    }
    omni_free(out);
    omni__buf_free(&b);
    omni_error_clear();
}

int omni_delivery_feed(omni_delivery_job *job, const omni_http_response *response, int ts,
                       int64_t now)
{
    if (!job)
        return omni__err(OMNI_EINVAL, "delivery: job is NULL");
    if (!job->request)
        return omni__err(OMNI_EINVAL, "delivery: there is no SEND to feed");
    if (ts == OMNI_OK && !response)
        return omni__err(OMNI_EINVAL, "delivery: a response or a transport error is required");
    if (job->token_exchange)
        return feed_token(job, response, ts, now);
    omni_delivery *d = job->d;
    cJSON *attempts = cJSON_GetObjectItemCaseSensitive(job->rec, "attempts");
    cJSON *last = cJSON_GetArrayItem(attempts, cJSON_GetArraySize(attempts) - 1);
    int64_t n = omni__dlv_num(last, "n", 0);
    char carrier[OMNI__DLV_NAME_MAX + 1];
    snprintf(carrier, sizeof carrier, "%s", rec_carrier(job->rec));
    outcome oc = {0};
    int rc = OMNI_OK;
    if (ts == OMNI_OK)
        rc = response_outcome(&oc, job, carrier, response, now);
    else
        transport_outcome(&oc, d, ts);
    if (rc) {
        cJSON_Delete(oc.result);
        return rc; /* out of memory: the claim stays until its lease ends */
    }
    omni_error_clear();
    int probe = job->probe;
    job_reset_request(job);
    if (oc.ok || oc.breaks)
        (void)omni__dlv_circuit_record(d, carrier, oc.ok, probe, now);
    omni_error_clear();
    char dims[160];
    snprintf(dims, sizeof dims, "{\"Carrier\":\"%s\",\"Outcome\":\"%s\"}", carrier,
             oc.ok ? "accepted" : oc.code);
    omni__metric(d->engine, "DeliveryAttempt", 1, "Count", dims);
    for (int tries = 0; tries < OMNI__DLV_CAS_TRIES; tries++) {
        int64_t due = 0;
        int state = omni__dlv_state(job->rec);
        cJSON *all = cJSON_GetObjectItemCaseSensitive(job->rec, "attempts");
        int64_t last_n = omni__dlv_num(cJSON_GetArrayItem(all, cJSON_GetArraySize(all) - 1), "n", 0);
        const char *last_code = omni__json_str(job->rec, "lastError.code");
        int ours = last_n == n && (state == DLV_SENDING ||
                                   (state == DLV_DEAD && oc.ok && last_code &&
                                    strcmp(last_code, "IN_DOUBT") == 0));
        if (!ours) { /* another process took the message over after our lease */
            omni__log(d->engine, OMNI_LOG_WARN, "delivery",
                      "message %s: attempt %lld answered after its lease ended", job->id,
                      (long long)n);
            break;
        }
        int was_dead = state == DLV_DEAD;
        rc = apply_outcome(job, &oc, n, now, &due);
        if (!rc)
            rc = save(job, due, now);
        if (rc == OMNI_OK) {
            if (was_dead)
                omni__dlv_dlq_drop(d, job->id, now);
            tell_conversation(job, now);
            if (oc.invalid_token)
                forget_device(job, oc.result, omni__dlv_push_platform(carrier));
            break;
        }
        if (rc != OMNI_ECONFLICT)
            break;
        omni_error_clear();
        if ((rc = omni__dlv_load(job, now)))
            break;
    }
    cJSON_Delete(oc.result);
    job->fresh = rc == OMNI_OK;
    return rc == OMNI_ENOTFOUND ? omni__err(OMNI_ENOTFOUND, "delivery: message %s is gone",
                                            job->id)
                                : rc;
}

int omni_delivery_job_result(const omni_delivery_job *job, char **out, size_t *out_len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "delivery: out is NULL");
    *out = NULL;
    if (!job || !job->rec)
        return omni__err(OMNI_EINVAL, "delivery: job is NULL");
    omni_buf b = OMNI_BUF_INIT;
    int rc = omni__dlv_result(&b, job->d, job->rec, job->duplicate, job->events,
                              omni_engine_now_ms(job->d->engine));
    return omni__buf_finish(&b, rc, out, out_len);
}
