/* Batched listing and shared errors of the bundled storage backends. */
#include "list_batch.h"

#include <string.h>

#include "lib/core/error.h"
#include "store_internal.h"

void omni__list_begin(omni__list_batch *b, size_t limit)
{
    b->count = 0;
    b->want = 0;
    omni__buf_init(&b->arena, 0);
    b->cursor[0] = '\0';
    b->cursor_len = 0;
    b->has_cursor = 0;
    b->delivered = 0;
    b->limit = limit;
    b->more = 0;
}

int omni__list_next_batch(omni__list_batch *b)
{
    if (b->delivered >= b->limit)
        return 0;
    size_t left = b->limit - b->delivered;
    b->want = left < OMNI__LIST_BATCH_RECORDS ? left : OMNI__LIST_BATCH_RECORDS;
    b->count = 0;
    b->more = 0;
    omni__buf_reset(&b->arena);
    return 1;
}

int omni__list_full(omni__list_batch *b)
{
    if (b->count == b->want || (b->count > 0 && b->arena.len >= OMNI__LIST_BATCH_BYTES)) {
        b->more = 1;
        return 1;
    }
    return 0;
}

void omni__list_add(omni__list_batch *b, const char *key, size_t key_len, const void *value,
                    size_t value_len, uint64_t version, int64_t expires_at_ms)
{
    omni__list_item *it = &b->items[b->count++];
    it->key_off = b->arena.len;
    it->key_len = key_len;
    omni__buf_append(&b->arena, key, key_len);
    omni__buf_putc(&b->arena, '\0');
    it->value_off = b->arena.len;
    it->value_len = value_len;
    if (value_len)
        omni__buf_append(&b->arena, value, value_len);
    omni__buf_putc(&b->arena, '\0');
    it->version = version;
    it->expires_at_ms = expires_at_ms;
}

int omni__list_deliver(omni__list_batch *b, omni_store_list_cb cb, void *cb_ctx)
{
    for (size_t i = 0; i < b->count; i++) {
        const omni__list_item *it = &b->items[i];
        const char *k = b->arena.data + it->key_off;
        memcpy(b->cursor, k, it->key_len + 1);
        b->cursor_len = it->key_len;
        b->has_cursor = 1;
        b->delivered++;
        if (cb(cb_ctx, k, it->key_len, b->arena.data + it->value_off, it->value_len,
               it->version, it->expires_at_ms)) {
            if (i + 1 < b->count)
                b->more = 1;
            return 0;
        }
    }
    return b->more;
}

int omni__list_finish(omni__list_batch *b, int status, char **next_key)
{
    int failed = b->arena.failed;
    omni__buf_free(&b->arena);
    if (status)
        return status;
    if (failed)
        return omni__err(OMNI_ENOMEM, NULL);
    if (b->more && b->has_cursor) {
        *next_key = omni_malloc(b->cursor_len + 1);
        if (!*next_key)
            return omni__err(OMNI_ENOMEM, NULL);
        memcpy(*next_key, b->cursor, b->cursor_len + 1);
    }
    return OMNI_OK;
}

int omni__store_not_found(void)
{
    return omni__err(OMNI_ENOTFOUND, "store: no record with this key");
}

int omni__store_conflict(uint64_t expected, uint64_t found)
{
    return omni__err(OMNI_ECONFLICT, "store: version conflict (expected %llu, found %llu)",
                     (unsigned long long)expected, (unsigned long long)found);
}

int omni__store_refused(int status, uint64_t expected, uint64_t found)
{
    switch (status) {
    case OMNI_EEXISTS:
        return omni__err(status, "store: a record with this key exists (version %llu)",
                         (unsigned long long)found);
    case OMNI_ENOTFOUND: return omni__store_not_found();
    case OMNI_ECONFLICT: return omni__store_conflict(expected, found);
    case OMNI_ESTORAGE:
        return omni__err_retry(status, 0, "store: the record's version cannot grow further");
    default: return status;
    }
}

int omni__store_put_one(omni__store_batch_fn batch, void *ctx, const char *ns, const char *key,
                        const char *value, size_t value_len, uint64_t expected_version,
                        int64_t expires_at_ms, int64_t now_ms, uint64_t *new_version)
{
    if (!new_version)
        return omni__err(OMNI_EINVAL, "store put: NULL new_version");
    omni__store_op op = {ns, key, value, value_len, expected_version, expires_at_ms, 0};
    int rc = batch(ctx, &op, 1, now_ms, NULL);
    if (!rc)
        *new_version = op.new_version;
    return rc;
}
