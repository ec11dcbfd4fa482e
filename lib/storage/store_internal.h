/* Internal: the store's backend table and fast paths for library components. */
#ifndef OMNI_STORAGE_STORE_INTERNAL_H
#define OMNI_STORAGE_STORE_INTERNAL_H

#include <cjson/cJSON.h>

#include <omni/omni.h>

/* A bundled backend's opener: fills *out (with a close callback that
 * releases its ctx) from the part of the URI after "scheme:". Sets the last
 * error on failure. */
typedef int (*omni__store_opener)(omni_storage_hook *out, const char *rest);

/* The "memory:" backend (lib/storage/memory.c). `rest` must be "". */
int omni__store_memory_open(omni_storage_hook *out, const char *rest);

/* The "sqlite:PATH" backend (lib/storage/sqlite.c; built when SQLite is
 * found, OMNI_HAVE_SQLITE in omni_config.h). `rest` is the file's path
 * (1..4096 bytes) or ":memory:". */
int omni__store_sqlite_open(omni_storage_hook *out, const char *rest);

/* One put of an atomic batch (omni__store_put_batch). */
typedef struct omni__store_op {
    const char *ns, *key, *value;
    size_t value_len;
    uint64_t expected_version; /* OMNI_STORE_CREATE, a version, OMNI_STORE_ANY_VERSION */
    int64_t expires_at_ms;
    uint64_t new_version; /* out */
} omni__store_op;

#define OMNI__STORE_MAX_BATCH 8

/* 1 when the store can put several records atomically (the bundled
 * backends; a host's hook table cannot yet). */
int omni__store_batch_supported(const omni_store *store);

/* Puts ops[0..n) (1..OMNI__STORE_MAX_BATCH, distinct keys) atomically: all
 * or none. Each op is checked as omni_store_put checks its arguments, but
 * values are trusted JSON (as omni__store_put_trusted). When an op's
 * condition fails (OMNI_EEXISTS, OMNI_ECONFLICT, OMNI_ENOTFOUND) nothing is
 * written and *failed (may be NULL) is its index. OMNI_EUNSUPPORTED when
 * the store cannot (see omni__store_batch_supported). */
int omni__store_put_batch(omni_store *store, omni__store_op *ops, size_t n, int64_t now_ms,
                          size_t *failed);

/* The backends' batches (ctx: their hook's ctx). */
int omni__store_memory_batch(void *ctx, omni__store_op *ops, size_t n, int64_t now_ms,
                             size_t *failed);
int omni__store_sqlite_batch(void *ctx, omni__store_op *ops, size_t n, int64_t now_ms,
                             size_t *failed);

/* 1 when hook is a table of that backend (its callbacks). */
int omni__store_memory_owns(const omni_storage_hook *hook);
int omni__store_sqlite_owns(const omni_storage_hook *hook);

/* 1 when the store is a bundled backend (opened by URI, or its table
 * wrapped again): its values are the JSON documents that were put, so
 * library components may skip validating what they read back. */
int omni__store_trusted(const omni_store *store);

/* How long the memory and sqlite backends keep an expired record's version
 * (so that a put over it continues the version) before they forget it. */
#define OMNI__STORE_MEMORY_GRACE_MS (60 * 60 * 1000)

/* Largest expiry accepted by put (9999-12-31T23:59:59.999Z), so that every
 * stored expiry can be formatted as RFC 3339. */
#define OMNI__STORE_MAX_EXPIRY_MS INT64_C(253402300799999)

/* Soft size cap of omni_store_list_json's document: the page ends early
 * (with "next" set) rather than grow past it. */
#define OMNI__STORE_LIST_JSON_SOFT_MAX (8u * 1024u * 1024u)

/* Argument checks as the public functions do them (set the last error). */
int omni__store_check_ns(const char *ns);
int omni__store_check_key(const char *key);

/* omni_store_put for values the library produced itself: every check but
 * the JSON validation of `value`, which the caller guarantees. */
int omni__store_put_trusted(omni_store *store, const char *ns, const char *key, const char *value,
                            size_t value_len, uint64_t expected_version, int64_t expires_at_ms,
                            int64_t now_ms, uint64_t *new_version);

/* Serializes `value` (compact) and puts it as omni__store_put_trusted does. */
int omni__store_put_json(omni_store *store, const char *ns, const char *key, const cJSON *value,
                         uint64_t expected_version, int64_t expires_at_ms, int64_t now_ms,
                         uint64_t *new_version);

/* omni_store_get, parsed: *out is a cJSON tree released with cJSON_Delete().
 * version and expires_at_ms may be NULL. A stored value that does not parse
 * gives OMNI_ESTORAGE (not retryable). */
int omni__store_get_json(omni_store *store, const char *ns, const char *key, int64_t now_ms,
                         cJSON **out, uint64_t *version, int64_t *expires_at_ms);

#endif
