/* Internal: the delivery engine's configuration, stored message record,
 * and the pieces shared by its files (see include/omni/delivery.h):
 * config.c (configuration), record.c (records, due index, results),
 * job.c (the sans-I/O state machine), guard.c (circuit breaker and rate
 * limits), driver.c (send and tick through the transport), dlq.c. */
#ifndef OMNI_DELIVERY_INTERNAL_H
#define OMNI_DELIVERY_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include <omni/delivery.h>
#include <omni/omni.h>

#include "../core/buf.h"

#define OMNI__DLV_NS "delivery"
#define OMNI__DLV_NS_DUE "delivery_due"
#define OMNI__DLV_NS_DLQ "delivery_dlq"
#define OMNI__DLV_NS_CIRCUIT "delivery_circuit"
#define OMNI__DLV_NS_RATE "delivery_rate"

#define OMNI__DLV_CARRIERS 16  /* carriers named in fallback / rateLimits */
#define OMNI__DLV_FALLBACKS 3  /* fallbacks per carrier */
#define OMNI__DLV_NAME_MAX 31  /* a carrier name */
#define OMNI__DLV_ID_LEN 36    /* a messageId (UUID text) */
#define OMNI__DLV_CAS_TRIES 16 /* compare-and-swap retries on one record */

typedef struct omni__dlv_fallback {
    char carrier[OMNI__DLV_NAME_MAX + 1];
    char next[OMNI__DLV_FALLBACKS][OMNI__DLV_NAME_MAX + 1];
    int count;
} omni__dlv_fallback;

typedef struct omni__dlv_rate {
    char carrier[OMNI__DLV_NAME_MAX + 1];
    double per_second, burst;
} omni__dlv_rate;

/* Successes this process has seen but not yet written to a carrier's
 * circuit record (a closed circuit without failures is not rewritten on
 * every success). */
typedef struct omni__dlv_local {
    char carrier[OMNI__DLV_NAME_MAX + 1];
    int64_t successes;
} omni__dlv_local;

struct omni_delivery {
    omni_engine *engine;
    const omni_outbound *outbound;
    omni_push *push; /* NULL: push carriers are not configured */
    /* retryPolicy */
    int max_retries;
    double multiplier;
    int64_t max_backoff_ms, initial_backoff_ms;
    /* fallback */
    omni__dlv_fallback fallback[OMNI__DLV_CARRIERS];
    int fallback_count;
    /* circuitBreaker */
    int64_t cb_threshold, cb_min_requests, cb_window_ms, cb_cooldown_ms;
    double cb_rate;
    /* rateLimits */
    omni__dlv_rate rate[OMNI__DLV_CARRIERS];
    int rate_count;
    int64_t lease_ms, idempotency_ttl_ms, dlq_ttl_ms;
    int in_doubt_retry, retry_timeouts;
    char *webhook_url; /* NULL: "" */
    pthread_mutex_t mu; /* guards local */
    omni__dlv_local local[OMNI__DLV_CARRIERS];
};

/* 1 when `name` is a carrier the engine can send through: an outbound
 * adapter's, or a push carrier ("apns", "fcm", "webpush"). */
int omni__dlv_carrier_known(const char *name);
/* The push platform of a push carrier ("apns" -> "ios", "fcm" ->
 * "android", "webpush" -> "web"), or NULL for any other carrier. */
const char *omni__dlv_push_platform(const char *carrier);

/* Record states. */
enum { DLV_PENDING, DLV_SENDING, DLV_DELIVERED, DLV_DEAD, DLV_EXPIRED };
const char *omni__dlv_state_name(int state);
int omni__dlv_state_from(const char *name);

struct omni_delivery_job {
    omni_delivery *d;
    char id[OMNI__DLV_ID_LEN + 1];
    cJSON *rec;       /* the stored record as last read or written */
    uint64_t version; /* its version */
    int fresh;        /* rec is what this job last wrote or read in this step */
    int duplicate;    /* found by its idempotency key */
    char *event_text; /* rec.event (a push carrier's: rec.event.push) printed once, for the
                         adapters */
    size_t event_len;
    omni_http_request *request; /* the outstanding SEND, NULL when none */
    int probe;                  /* the SEND is the circuit's half-open probe */
    cJSON *events; /* the conversation's change events (message.delivery_updated), and
                      device.invalidated when a push provider refused the token */
    int token_exchange; /* the SEND is FCM's access-token request, not an attempt */
    int token_fetched;  /* this job fetched one already (never twice) */
    /* what happened to it in this job (for tick's summary) */
    int n_in_doubt, n_retry_scheduled;
};

/* ---- records (record.c) ---------------------------------------------------------- */

/* "<13-digit ms>/<messageId>" */
void omni__dlv_due_key(char *out, size_t cap, int64_t at_ms, const char *id);
/* The messageId of an idempotency key (UUID version 8 of its SHA-256). */
int omni__dlv_message_id(char out[OMNI__DLV_ID_LEN + 1], const char *key, size_t len);
int omni__dlv_state(const cJSON *rec);
int64_t omni__dlv_num(const cJSON *obj, const char *name, int64_t def);
void omni__dlv_set_num(cJSON *obj, const char *name, double v);
int omni__dlv_set_str(cJSON *obj, const char *name, const char *v);
/* Reads the record of job->id into job (rec, version, event_text).
 * OMNI_ENOTFOUND (no last error set), or a storage/corrupt error. */
int omni__dlv_load(omni_delivery_job *job, int64_t now_ms);
/* What the adapter builds from: rec.event, or for a push carrier
 * rec.event.push (NULL when that is not an object). */
const cJSON *omni__dlv_message(const cJSON *rec);
/* Writes job->rec by compare-and-swap on job->version, moving its due entry
 * to due_at (0: none, the record is final): the new entry is written first,
 * the old one removed after, so a crash leaves a stale entry at worst (tick
 * skips and removes those). OMNI_ECONFLICT when the record changed. */
int omni__dlv_save(omni_delivery_job *job, int64_t due_at, int64_t now_ms);
/* The PublishOutboundResult of a record (events: the conversation's change
 * events to include, or NULL). */
int omni__dlv_result(omni_buf *b, const omni_delivery *d, const cJSON *rec, int duplicate,
                     const cJSON *events, int64_t now_ms);
/* A storage failure as OMNI_ESTORAGE naming `what` (ENOMEM and ECONFLICT kept). */
int omni__dlv_db_error(int rc, const char *what);

/* ---- circuit breaker and rate limits (guard.c) ------------------------------------------- */

/* 0: the carrier may be sent to (*probe 1 when this send is the half-open
 * probe); 1: its circuit is open until *until_ms; < 0: error. */
int omni__dlv_circuit_check(omni_delivery *d, const char *carrier, int64_t now_ms, int *probe,
                            int64_t *until_ms);
/* Records a send's outcome (ok 1/0) in the carrier's circuit. */
int omni__dlv_circuit_record(omni_delivery *d, const char *carrier, int ok, int probe,
                             int64_t now_ms);
/* Takes a token for (carrier, sender): 0 taken (or no limit); 1 none until
 * *until_ms; < 0 error. */
int omni__dlv_rate_take(omni_delivery *d, const char *carrier, const char *sender,
                        int64_t now_ms, int64_t *until_ms);

/* ---- dead letters (dlq.c) ------------------------------------------------------------------ */

/* Writes the dead letter of a record that is becoming dead. */
int omni__dlv_dlq_put(omni_delivery *d, const cJSON *rec, int64_t now_ms);
void omni__dlv_dlq_drop(omni_delivery *d, const char *id, int64_t now_ms);

#endif
