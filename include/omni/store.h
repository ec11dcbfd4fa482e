/*
 * libomni — key/value store with compare-and-swap (the storage model).
 *
 * An omni_store wraps a storage hook (omni/hooks.h): a bundled backend
 * opened by URI, or a host's own table. The functions below validate every
 * argument (namespace, key and value limits in omni/hooks.h) before the
 * backend sees it, so backends can trust their input.
 *
 * Thread-safety: the bundled backends are thread-safe; a store wrapping a
 * host hook is as thread-safe as that hook.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_STORE_H
#define OMNI_STORE_H

#include "common.h"
#include "hooks.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_store omni_store;

/*
 * Opens a bundled backend by URI: "memory:" (in-process, thread-safe, gone
 * when freed; nothing may follow the colon) or "sqlite:PATH" (one SQLite
 * database file, created when missing, in WAL mode with synchronous=NORMAL;
 * PATH is a file name, never an SQLite "file:" URI, or ":memory:" for a
 * private in-memory database; several stores and processes may share one
 * file, compare-and-swap stays exact; a write waits up to 5 s for another
 * writer, then fails OMNI_ESTORAGE, retryable). The scheme is
 * case-insensitive; error messages name the scheme only, never the rest of
 * the URI. Errors: OMNI_EINVAL (NULL, no "scheme:", over 4096 bytes, an empty
 * sqlite PATH), OMNI_EUNSUPPORTED (unknown scheme, or a backend not built
 * into this library), OMNI_ESTORAGE (the file cannot be opened or created, is
 * read-only, is not a database, belongs to another application or to a newer
 * libomni), OMNI_ENOMEM.
 */
OMNI_API int omni_store_open(omni_store **out, const char *uri) OMNI_WARN_UNUSED;

/* Wraps a host's storage hook (copied; its ctx is borrowed and released with
 * hook->close, if set, when the store is freed). Errors: OMNI_EINVAL (NULL or
 * a required callback missing), OMNI_EVERSION, OMNI_ENOMEM. */
OMNI_API int omni_store_wrap(omni_store **out, const omni_storage_hook *hook) OMNI_WARN_UNUSED;

OMNI_API void omni_store_free(omni_store *store);

/* Reads a record. *value (NUL-terminated for convenience; *value_len
 * excludes the NUL) is released with omni_free(); on error *value is NULL.
 * value_len, version and expires_at_ms may be NULL. now_ms must be >= 0.
 * Errors: OMNI_EINVAL, OMNI_ENOTFOUND, OMNI_ESTORAGE, OMNI_ENOMEM, hook errors
 * (OMNI_EHOOK also for a hook that returns no value or version 0). */
OMNI_API int omni_store_get(omni_store *store, const char *ns, const char *key, int64_t now_ms,
                            char **value, size_t *value_len, uint64_t *version,
                            int64_t *expires_at_ms);

/* Writes a record if `expected_version` holds: OMNI_STORE_CREATE (absent
 * only), an exact version, or OMNI_STORE_ANY_VERSION. The value must be a
 * JSON document (validated; OMNI_EJSON otherwise); it is copied.
 * expires_at_ms: 0 (never) or 1..253402300799999 (year 9999). new_version
 * may be NULL and is only written on success.
 * Errors: OMNI_EINVAL, OMNI_EJSON, OMNI_ETOODEEP, OMNI_ETOOLARGE,
 * OMNI_EEXISTS, OMNI_ECONFLICT, OMNI_ENOTFOUND, OMNI_ESTORAGE, OMNI_ENOMEM. */
OMNI_API int omni_store_put(omni_store *store, const char *ns, const char *key, const char *value,
                            size_t value_len, uint64_t expected_version, int64_t expires_at_ms,
                            int64_t now_ms, uint64_t *new_version);

/* Deletes a record if `expected_version` (a version or
 * OMNI_STORE_ANY_VERSION; OMNI_STORE_CREATE is OMNI_EINVAL) holds.
 * Errors: OMNI_EINVAL, OMNI_ENOTFOUND, OMNI_ECONFLICT, OMNI_ESTORAGE. */
OMNI_API int omni_store_delete(omni_store *store, const char *ns, const char *key,
                               uint64_t expected_version, int64_t now_ms);

/* Lists records of `ns` whose key starts with `prefix` (bytewise; NULL or ""
 * for all), in ascending bytewise key order, strictly after `after_key` (NULL
 * or "" to start), at most `limit` (1..OMNI_STORE_MAX_LIST) of them, calling
 * `cb` for each; expired records are skipped. prefix and after_key are at
 * most OMNI_STORE_MAX_KEY bytes. *next_key (may be NULL to ignore) receives
 * the cursor for the next page (the key of the last record handed to cb,
 * also when cb stopped early), or NULL when no more records follow; release
 * it with omni_free(). If list fails, cb may have been called for some
 * records already. Errors: OMNI_EINVAL, OMNI_ENOMEM, OMNI_ESTORAGE, hook errors. */
OMNI_API int omni_store_list(omni_store *store, const char *ns, const char *prefix,
                             const char *after_key, size_t limit, int64_t now_ms,
                             omni_store_list_cb cb, void *cb_ctx, char **next_key);

/* The same listing as one JSON document:
 * {"items":[{"key":"...","value":<json>,"version":N,"expiresAt":"RFC3339"|null}],
 *  "next":"cursor"|null}, released with omni_free(); out_len may be NULL.
 * "value" is the stored document as it was written; "expiresAt" is formatted
 * as omni_time_format() does. A page stops early, with "next" set, before the
 * document would grow past 8 MiB (it always holds at least one record).
 * Errors: as omni_store_list, and OMNI_ESTORAGE when a host hook hands back a
 * key that is not UTF-8 or a value that is not JSON. */
OMNI_API int omni_store_list_json(omni_store *store, const char *ns, const char *prefix,
                                  const char *after_key, size_t limit, int64_t now_ms, char **out,
                                  size_t *out_len);

/* Copies the store's hook table into *out (for example to hand a bundled
 * backend to omni_engine_new through omni_hooks.storage). The table stays
 * valid while the store lives; its close callback is cleared in the copy.
 * Errors: OMNI_EINVAL (NULL). */
OMNI_API int omni_store_get_hook(const omni_store *store, omni_storage_hook *out);

#ifdef __cplusplus
}
#endif

#endif
