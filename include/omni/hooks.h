/*
 * libomni — hook tables: how a host supplies storage, network, time,
 * randomness, logging and metrics.
 *
 * Every table starts with `unsigned version` and `void *ctx`. Fill a table
 * with its OMNI_*_INIT macro (or the matching omni_*_hook_init() function for
 * callers that cannot see macros), then set the callbacks you implement.
 * libomni refuses version 0 and versions newer than it knows
 * (OMNI_EVERSION). Fields are only ever appended; a newer library reads an
 * older table up to that table's version.
 *
 * Callbacks are only ever called synchronously, on the thread that called
 * into libomni, so Python and Node callbacks need no thread tricks. A
 * callback that returns a negative status makes the calling function fail;
 * it may call omni_error_set() first to give the message (the library
 * otherwise reports OMNI_EHOOK with a generic message). A callback must not
 * free or keep pointers it was lent after it returns.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_HOOKS_H
#define OMNI_HOOKS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- clock ------------------------------------------------------------ */

#define OMNI_CLOCK_HOOK_VERSION 1u

/* Wall-clock time as milliseconds since the Unix epoch (UTC).
 * Default: the system clock (CLOCK_REALTIME). */
typedef struct omni_clock_hook {
    unsigned version;
    void *ctx;
    int64_t (*now_ms)(void *ctx);
} omni_clock_hook;

#define OMNI_CLOCK_HOOK_INIT {OMNI_CLOCK_HOOK_VERSION, NULL, NULL}
OMNI_API int omni_clock_hook_init(omni_clock_hook *hook, unsigned version);

/* ---- random ----------------------------------------------------------- */

#define OMNI_RANDOM_HOOK_VERSION 1u

/* Fills `buf` with `len` random bytes. Default: the operating system's
 * CSPRNG (OpenSSL RAND_bytes). Used for UUIDv7, nonces, jitter. */
typedef struct omni_random_hook {
    unsigned version;
    void *ctx;
    int (*fill)(void *ctx, uint8_t *buf, size_t len);
} omni_random_hook;

#define OMNI_RANDOM_HOOK_INIT {OMNI_RANDOM_HOOK_VERSION, NULL, NULL}
OMNI_API int omni_random_hook_init(omni_random_hook *hook, unsigned version);

/* ---- log -------------------------------------------------------------- */

typedef enum omni_log_level {
    OMNI_LOG_DEBUG = 10,
    OMNI_LOG_INFO = 20,
    OMNI_LOG_WARN = 30,
    OMNI_LOG_ERROR = 40,
    OMNI_LOG_OFF = 100
} omni_log_level;

#define OMNI_LOG_HOOK_VERSION 1u

/* Receives one structured log record as a JSON object
 * {"level":"info","component":"...","message":"...", ...}. The record never
 * contains secrets. Default: records are dropped (the library never prints). */
typedef struct omni_log_hook {
    unsigned version;
    void *ctx;
    void (*log)(void *ctx, int level, const char *record_json, size_t len);
    int min_level; /* records below this level are not built at all */
} omni_log_hook;

#define OMNI_LOG_HOOK_INIT {OMNI_LOG_HOOK_VERSION, NULL, NULL, OMNI_LOG_INFO}
OMNI_API int omni_log_hook_init(omni_log_hook *hook, unsigned version);

/* ---- metrics ---------------------------------------------------------- */

#define OMNI_METRICS_HOOK_VERSION 1u

/* Receives one measurement: name ("ProcessingTime", "MessageProcessed"),
 * value, unit ("Milliseconds", "Count"), and dimensions as a JSON object of
 * strings ({"FunctionName":"identityLookup","AccountId":"acc-1"}).
 * Default: dropped. */
typedef struct omni_metrics_hook {
    unsigned version;
    void *ctx;
    void (*record)(void *ctx, const char *name, double value, const char *unit,
                   const char *dimensions_json, size_t dimensions_len);
} omni_metrics_hook;

#define OMNI_METRICS_HOOK_INIT {OMNI_METRICS_HOOK_VERSION, NULL, NULL}
OMNI_API int omni_metrics_hook_init(omni_metrics_hook *hook, unsigned version);

/* ---- storage ---------------------------------------------------------- */

/*
 * The storage model: namespaced keys to JSON values, each with a version
 * for compare-and-swap. A namespace ("identity", "conversation", ...) is
 * 1..OMNI_STORE_MAX_NS bytes of [a-z0-9_.-]; a key is 1..OMNI_STORE_MAX_KEY
 * bytes of UTF-8 without NUL (a NUL-terminated C string); a value is one JSON
 * document of at most OMNI_STORE_MAX_VALUE bytes. Versions start at 1 and
 * grow by one with every successful put; after a delete the key is free and
 * its versions start again at 1. Expiry is an absolute time in Unix
 * milliseconds (0: never; at most 9999-12-31T23:59:59.999Z); a record whose
 * expiry is <= `now_ms` does not exist for get, list, put and delete. A put
 * over an expired record that the backend still holds continues its version
 * (old + 1), so a stale compare-and-swap cannot succeed; backends reclaim
 * expired records later (the memory backend keeps their versions for one hour
 * after expiry). Callers pass a `now_ms` that does not go backward.
 *
 * The library validates all arguments before it calls a backend: a bad
 * namespace, key, prefix, cursor, limit, version or time is OMNI_EINVAL, a
 * value over the limit OMNI_ETOOLARGE, a value that is not JSON OMNI_EJSON.
 */
#define OMNI_STORE_MAX_NS 64
#define OMNI_STORE_MAX_KEY 1024
#define OMNI_STORE_MAX_VALUE (4u * 1024u * 1024u)
#define OMNI_STORE_MAX_LIST 1000

/* put's expected_version: create only (fails OMNI_EEXISTS if present). */
#define OMNI_STORE_CREATE ((uint64_t)0)
/* put's / delete's expected_version: whatever the current version is. */
#define OMNI_STORE_ANY_VERSION UINT64_MAX

/* Called by list once per record, in ascending bytewise key order. The
 * pointers are lent for the duration of the call. Return 0 to continue,
 * anything else to stop the listing early (list still returns OMNI_OK).
 * The bundled backends call it without holding a lock, so it may call into
 * the same store. */
typedef int (*omni_store_list_cb)(void *cb_ctx, const char *key, size_t key_len,
                                  const char *value, size_t value_len, uint64_t version,
                                  int64_t expires_at_ms);

#define OMNI_STORAGE_HOOK_VERSION 1u

/*
 * A backend. Each callback returns OMNI_OK or a negative status (after
 * omni_error_set() for a message); anything else is reported as OMNI_EHOOK.
 * A backend for many threads must be thread-safe itself.
 */
typedef struct omni_storage_hook {
    unsigned version;
    void *ctx;
    /* *value (value_len bytes; need not be NUL-terminated) is allocated with
     * omni_malloc() and the library frees it; *version is >= 1.
     * Absent or expired: OMNI_ENOTFOUND. */
    int (*get)(void *ctx, const char *ns, const char *key, int64_t now_ms, char **value,
               size_t *value_len, uint64_t *version, int64_t *expires_at_ms);
    /* expected_version: OMNI_STORE_CREATE, a version, or OMNI_STORE_ANY_VERSION.
     * Wrong version: OMNI_ECONFLICT; exists on create: OMNI_EEXISTS; absent when a
     * version was expected: OMNI_ENOTFOUND. *new_version receives the new version. */
    int (*put)(void *ctx, const char *ns, const char *key, const char *value, size_t value_len,
               uint64_t expected_version, int64_t expires_at_ms, int64_t now_ms,
               uint64_t *new_version);
    /* expected_version: a version or OMNI_STORE_ANY_VERSION. Absent or
     * expired: OMNI_ENOTFOUND; wrong version: OMNI_ECONFLICT. */
    int (*del)(void *ctx, const char *ns, const char *key, uint64_t expected_version,
               int64_t now_ms);
    /* Records of `ns` whose key starts with `prefix` (bytewise; "" for all),
     * strictly after `after_key` ("" for the start), at most `limit` of them,
     * expired ones skipped. *next_key (allocated with omni_malloc) is the key of
     * the last record handed to cb when more records follow it (also when cb
     * stopped the listing), else NULL; pass it as after_key to continue. */
    int (*list)(void *ctx, const char *ns, const char *prefix, const char *after_key,
                size_t limit, int64_t now_ms, omni_store_list_cb cb, void *cb_ctx,
                char **next_key);
    /* Optional: releases ctx when the store that wraps this hook is freed. */
    void (*close)(void *ctx);
} omni_storage_hook;

#define OMNI_STORAGE_HOOK_INIT {OMNI_STORAGE_HOOK_VERSION, NULL, NULL, NULL, NULL, NULL, NULL}
OMNI_API int omni_storage_hook_init(omni_storage_hook *hook, unsigned version);

/* ---- transport -------------------------------------------------------- */

typedef struct omni_http_request omni_http_request;
typedef struct omni_http_response omni_http_response;

#define OMNI_TRANSPORT_HOOK_VERSION 1u

/*
 * Executes one HTTP request (see omni/http.h for the accessors). Fill
 * `response` with omni_http_response_set_status/_add_header/_set_body and
 * return OMNI_OK, or return a transport error: OMNI_ETIMEOUT, OMNI_ECONNECT,
 * OMNI_ETLS, OMNI_ERESPONSE or OMNI_ETRANSPORT (after omni_error_set() for a
 * message). An HTTP error status (4xx, 5xx) is a response, not an error.
 * `response` arrives empty (status 0); returning OMNI_OK without setting a
 * status fails the send with OMNI_EHOOK, and whatever was put into
 * `response` is discarded when the hook fails. The request is lent for the
 * call. When the host sends from several threads at once, send is called
 * concurrently (on each of those threads).
 */
typedef struct omni_transport_hook {
    unsigned version;
    void *ctx;
    int (*send)(void *ctx, const omni_http_request *request, omni_http_response *response);
    /* Optional: releases ctx when the transport that wraps this hook is freed. */
    void (*close)(void *ctx);
} omni_transport_hook;

#define OMNI_TRANSPORT_HOOK_INIT {OMNI_TRANSPORT_HOOK_VERSION, NULL, NULL, NULL}
OMNI_API int omni_transport_hook_init(omni_transport_hook *hook, unsigned version);

/* ---- all hooks of an engine ------------------------------------------- */

#define OMNI_HOOKS_VERSION 2u

typedef struct omni_analyzer_hook omni_analyzer_hook; /* omni/analyze.h */

/* Pointers may be NULL: the engine then uses its configured default
 * (storage and transport from the configuration, system clock, OS random,
 * no log, no metrics). The engine copies the tables; it does not keep the
 * pointers. The ctx pointers must stay valid for the engine's lifetime. */
typedef struct omni_hooks {
    unsigned version;
    void *ctx; /* unused; keeps the common layout */
    const omni_storage_hook *storage;
    const omni_transport_hook *transport;
    const omni_clock_hook *clock;
    const omni_random_hook *random;
    const omni_log_hook *log;
    const omni_metrics_hook *metrics;
    /* version 2 */
    const omni_analyzer_hook *analyzer; /* content analysis (omni_preroute_run) */
} omni_hooks;

#define OMNI_HOOKS_INIT {OMNI_HOOKS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}
OMNI_API int omni_hooks_init(omni_hooks *hooks, unsigned version);

#ifdef __cplusplus
}
#endif

#endif
