/* Dead letters of the delivery engine (the seed's dlqConfig: 14 days):
 * written before a message record becomes dead, listed, inspected,
 * re-driven and purged; and reading a stored message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "delivery_internal.h"

static int valid_id(const char *id)
{
    if (!id || !*id || strlen(id) > OMNI__DLV_ID_LEN)
        return omni__err(OMNI_EINVAL, "delivery: a messageId is required");
    return OMNI_OK;
}

static void w_member(omni_buf *b, const char *key, const cJSON *rec, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(rec, name);
    if (!it)
        return;
    omni__json_w_key(b, key);
    omni__json_w_item(b, it);
}

int omni__dlv_dlq_put(omni_delivery *d, const cJSON *rec, int64_t now)
{
    const cJSON *carriers = cJSON_GetObjectItemCaseSensitive(rec, "carriers");
    const cJSON *c = cJSON_GetArrayItem(carriers, (int)omni__dlv_num(rec, "carrierIndex", 0));
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    w_member(&b, "messageId", rec, "messageId");
    w_member(&b, "correlationId", rec, "correlationId");
    w_member(&b, "idempotencyKey", rec, "idempotencyKey");
    omni__json_w_keyl(&b, "carrier");
    omni__json_w_str(&b, cJSON_IsString(c) ? c->valuestring : "");
    omni__json_w_keyl(&b, "reason");
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "code");
    omni__json_w_str(&b, omni__json_str(rec, "lastError.code"));
    omni__json_w_keyl(&b, "message");
    omni__json_w_str(&b, omni__json_str(rec, "lastError.message"));
    omni__json_w_obj_end(&b);
    char t[40];
    if (omni_time_format(t, sizeof t, now) == OMNI_OK) {
        omni__json_w_keyl(&b, "deadAt");
        omni__json_w_str(&b, t);
    }
    w_member(&b, "attempts", rec, "attempts");
    w_member(&b, "event", rec, "event");
    omni__json_w_obj_end(&b);
    int rc = omni__buf_status(&b);
    if (!rc)
        rc = omni_store_put(omni_engine_store(d->engine), OMNI__DLV_NS_DLQ,
                            omni__json_str(rec, "messageId"), b.data, b.len,
                            OMNI_STORE_ANY_VERSION, now + d->dlq_ttl_ms, now, NULL);
    omni__buf_free(&b);
    return rc ? omni__dlv_db_error(rc, "writing a dead letter") : OMNI_OK;
}

void omni__dlv_dlq_drop(omni_delivery *d, const char *id, int64_t now)
{
    (void)omni_store_delete(omni_engine_store(d->engine), OMNI__DLV_NS_DLQ, id,
                            OMNI_STORE_ANY_VERSION, now);
    omni_error_clear();
}

static int get_doc(char **out, size_t *out_len, omni_delivery *d, const char *ns, const char *id,
                   const char *what)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "delivery: out is NULL");
    *out = NULL;
    if (!d)
        return omni__err(OMNI_EINVAL, "delivery: delivery is NULL");
    int rc = valid_id(id);
    if (rc)
        return rc;
    size_t n = 0;
    rc = omni_store_get(omni_engine_store(d->engine), ns, id, omni_engine_now_ms(d->engine), out,
                        &n, NULL, NULL);
    if (rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_ENOTFOUND, "delivery: no %s %s", what, id);
    if (rc)
        return omni__dlv_db_error(rc, "reading");
    if (out_len)
        *out_len = n;
    return OMNI_OK;
}

int omni_delivery_get(char **out, size_t *out_len, omni_delivery *d, const char *id)
{
    return get_doc(out, out_len, d, OMNI__DLV_NS, id, "message");
}

int omni_delivery_dlq_get(char **out, size_t *out_len, omni_delivery *d, const char *id)
{
    return get_doc(out, out_len, d, OMNI__DLV_NS_DLQ, id, "dead letter");
}

typedef struct page {
    omni_buf *b;
} page;

static int page_item(void *ctx, const char *key, size_t key_len, const char *value,
                     size_t value_len, uint64_t version, int64_t expires_at)
{
    (void)key;
    (void)key_len;
    (void)version;
    (void)expires_at;
    page *p = ctx;
    omni__json_w_raw(p->b, value, value_len);
    return 0;
}

int omni_delivery_dlq_list(char **out, size_t *out_len, omni_delivery *d, const char *query,
                           size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "delivery: out is NULL");
    *out = NULL;
    if (!d)
        return omni__err(OMNI_EINVAL, "delivery: delivery is NULL");
    int64_t limit = 50;
    char cursor[OMNI__DLV_ID_LEN + 1] = "";
    if (query && len) {
        cJSON *q = NULL;
        int rc = omni__json_parse(&q, query, len, 4096, "dead letter query");
        if (rc)
            return rc;
        const cJSON *it;
        if (!cJSON_IsObject(q))
            rc = omni__err(OMNI_EINVAL, "delivery: the query must be a JSON object");
        const cJSON *members = rc ? NULL : q;
        cJSON_ArrayForEach(it, members) {
            if (strcmp(it->string, "limit") == 0) {
                if (omni__json_int(q, "limit", &limit) || limit < 1 || limit > 1000)
                    rc = omni__err(OMNI_EINVAL, "delivery: limit must be 1 to 1000");
            } else if (strcmp(it->string, "cursor") == 0) {
                if (!cJSON_IsString(it) || strlen(it->valuestring) > OMNI__DLV_ID_LEN)
                    rc = omni__err(OMNI_EINVAL, "delivery: cursor is not one this list gave");
                else
                    snprintf(cursor, sizeof cursor, "%s", it->valuestring);
            } else {
                rc = omni__err(OMNI_EINVAL, "delivery: unknown query member \"%.60s\"",
                               it->string);
            }
            if (rc)
                break;
        }
        cJSON_Delete(q);
        if (rc)
            return rc;
    }
    omni_buf b = OMNI_BUF_INIT;
    page p = {&b};
    char *next = NULL;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "items");
    omni__json_w_arr_begin(&b);
    int rc = omni_store_list(omni_engine_store(d->engine), OMNI__DLV_NS_DLQ, "", cursor,
                             (size_t)limit, omni_engine_now_ms(d->engine), page_item, &p, &next);
    omni__json_w_arr_end(&b);
    omni__json_w_keyl(&b, "next");
    if (next)
        omni__json_w_str(&b, next);
    else
        omni__json_w_null(&b);
    omni__json_w_obj_end(&b);
    omni_free(next);
    if (rc)
        rc = omni__dlv_db_error(rc, "listing dead letters");
    return omni__buf_finish(&b, rc, out, out_len);
}

int omni_delivery_dlq_redrive(char **out, size_t *out_len, omni_delivery *d, const char *id)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "delivery: out is NULL");
    *out = NULL;
    if (!d)
        return omni__err(OMNI_EINVAL, "delivery: delivery is NULL");
    int rc = valid_id(id);
    if (rc)
        return rc;
    int64_t now = omni_engine_now_ms(d->engine);
    char *letter = NULL;
    rc = omni_store_get(omni_engine_store(d->engine), OMNI__DLV_NS_DLQ, id, now, &letter, NULL,
                        NULL, NULL);
    omni_free(letter);
    if (rc == OMNI_ENOTFOUND)
        return omni__err(OMNI_ENOTFOUND, "delivery: no dead letter %s", id);
    if (rc)
        return omni__dlv_db_error(rc, "reading a dead letter");
    omni_delivery_job *job = NULL;
    if ((rc = omni_delivery_resume(&job, d, id, now)))
        return rc == OMNI_ENOTFOUND ? omni__err(OMNI_ENOTFOUND, "delivery: no message %s", id)
                                    : rc;
    if (omni__dlv_state(job->rec) != DLV_DEAD) {
        omni_delivery_job_free(job);
        omni__dlv_dlq_drop(d, id, now); /* a letter left by a save that failed */
        return omni__err(OMNI_ECONFLICT, "delivery: message %s is not dead-lettered", id);
    }
    cJSON *rec = job->rec;
    rc = omni__dlv_set_str(rec, "state", "pending");
    omni__dlv_set_num(rec, "carrierIndex", 0);
    omni__dlv_set_num(rec, "retry", 0);
    omni__dlv_set_num(rec, "nextAttemptAt", (double)now);
    omni__dlv_set_num(rec, "redrives", (double)(omni__dlv_num(rec, "redrives", 0) + 1));
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "deadAt");
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "expiresAt"); /* an operator's decision */
    if (!rc)
        rc = omni__dlv_save(job, now, now);
    if (!rc) {
        omni__dlv_dlq_drop(d, id, now);
        rc = omni_delivery_job_result(job, out, out_len);
    }
    omni_delivery_job_free(job);
    return rc;
}

typedef struct keys {
    char (*ids)[OMNI__DLV_ID_LEN + 1];
    size_t n;
} keys;

static int collect(void *ctx, const char *key, size_t key_len, const char *value,
                   size_t value_len, uint64_t version, int64_t expires_at)
{
    (void)value;
    (void)value_len;
    (void)version;
    (void)expires_at;
    keys *k = ctx;
    if (key_len <= OMNI__DLV_ID_LEN)
        snprintf(k->ids[k->n++], OMNI__DLV_ID_LEN + 1, "%.*s", (int)key_len, key);
    return 0;
}

int omni_delivery_dlq_purge(omni_delivery *d, const char *id, size_t *count)
{
    if (count)
        *count = 0;
    if (!d)
        return omni__err(OMNI_EINVAL, "delivery: delivery is NULL");
    omni_store *st = omni_engine_store(d->engine);
    int64_t now = omni_engine_now_ms(d->engine);
    if (id) {
        int rc = valid_id(id);
        if (rc)
            return rc;
        rc = omni_store_delete(st, OMNI__DLV_NS_DLQ, id, OMNI_STORE_ANY_VERSION, now);
        if (rc == OMNI_ENOTFOUND)
            return omni__err(OMNI_ENOTFOUND, "delivery: no dead letter %s", id);
        if (rc)
            return omni__dlv_db_error(rc, "deleting a dead letter");
        if (count)
            *count = 1;
        return OMNI_OK;
    }
    keys k = {malloc(sizeof *k.ids * 256), 0};
    if (!k.ids)
        return omni__err(OMNI_ENOMEM, "delivery: out of memory");
    int rc;
    do {
        k.n = 0;
        rc = omni_store_list(st, OMNI__DLV_NS_DLQ, "", "", 256, now, collect, &k, NULL);
        for (size_t i = 0; !rc && i < k.n; i++) {
            int r = omni_store_delete(st, OMNI__DLV_NS_DLQ, k.ids[i], OMNI_STORE_ANY_VERSION, now);
            if (r == OMNI_OK && count)
                (*count)++;
            else if (r != OMNI_ENOTFOUND)
                rc = r;
        }
    } while (!rc && k.n > 0);
    free(k.ids);
    if (rc)
        return omni__dlv_db_error(rc, "purging dead letters");
    omni_error_clear();
    return OMNI_OK;
}
