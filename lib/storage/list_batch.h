/* Internal: what the bundled storage backends share — batched listing
 * (records are copied out under the backend's lock in batches, and handed
 * to the caller's callback without the lock, so a callback may call back
 * into the store), the standard errors of a refused write, and put as a
 * batch of one. */
#ifndef OMNI_STORAGE_LIST_BATCH_H
#define OMNI_STORAGE_LIST_BATCH_H

#include <omni/omni.h>

#include "lib/core/buf.h"

#define OMNI__LIST_BATCH_RECORDS 64        /* records copied per lock hold */
#define OMNI__LIST_BATCH_BYTES (1u << 20)  /* bytes copied per lock hold (soft) */

typedef struct omni__list_item {
    size_t key_off, key_len, value_off, value_len;
    uint64_t version;
    int64_t expires_at_ms;
} omni__list_item;

typedef struct omni__list_batch {
    omni__list_item items[OMNI__LIST_BATCH_RECORDS];
    size_t count;     /* records in the current batch */
    size_t want;      /* records the current batch may take */
    omni_buf arena;   /* keys and values of the batch, each NUL-terminated */
    char cursor[OMNI_STORE_MAX_KEY + 1]; /* the last key handed to the callback */
    size_t cursor_len;
    int has_cursor;
    size_t delivered, limit;
    int more;         /* another visible record follows what was delivered */
} omni__list_batch;

void omni__list_begin(omni__list_batch *b, size_t limit);
/* Prepares the next batch; 0 when the limit has been delivered. */
int omni__list_next_batch(omni__list_batch *b);
/* 1 (and `more` set) when the batch can take no further record. */
int omni__list_full(omni__list_batch *b);
/* Copies one record into the batch (value may be NULL when value_len is 0). */
void omni__list_add(omni__list_batch *b, const char *key, size_t key_len, const void *value,
                    size_t value_len, uint64_t version, int64_t expires_at_ms);
/* Hands the batch to cb (outside the lock). Returns 1 when the listing
 * goes on with another batch, 0 when the callback stopped it or nothing
 * more follows. */
int omni__list_deliver(omni__list_batch *b, omni_store_list_cb cb, void *cb_ctx);
/* Ends the listing: frees the arena; returns `status` when it is an error,
 * OMNI_ENOMEM when copying failed, else sets *next_key (omni_malloc, or
 * NULL when the listing is complete) and returns OMNI_OK. */
int omni__list_finish(omni__list_batch *b, int status, char **next_key);

/* The errors every backend reports the same way. */
int omni__store_not_found(void);
int omni__store_conflict(uint64_t expected, uint64_t found);
/* A write a backend refused (status OMNI_EEXISTS, OMNI_ENOTFOUND,
 * OMNI_ECONFLICT, or OMNI_ESTORAGE: the version cannot grow) as its
 * standard error; `found` is the live record's version (0: none). OMNI_OK
 * and other statuses are returned as they are. */
int omni__store_refused(int status, uint64_t expected, uint64_t found);

/* A backend's put as its atomic batch of one (the hook's put callback). */
struct omni__store_op;
typedef int (*omni__store_batch_fn)(void *ctx, struct omni__store_op *ops, size_t n,
                                     int64_t now_ms, size_t *failed);
int omni__store_put_one(omni__store_batch_fn batch, void *ctx, const char *ns, const char *key,
                        const char *value, size_t value_len, uint64_t expected_version,
                        int64_t expires_at_ms, int64_t now_ms, uint64_t *new_version);

#endif
