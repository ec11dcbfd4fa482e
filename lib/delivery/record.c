/* The delivery engine's stored message record: its id, reading and
 * compare-and-swap writing with the due index, and the
 * PublishOutboundResult made from it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto_internal.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"
#include "delivery_internal.h"

static const char *const state_names[] = {"pending", "sending", "delivered", "dead", "expired"};

const char *omni__dlv_state_name(int state)
{
    return state >= 0 && state <= DLV_EXPIRED ? state_names[state] : "pending";
}

int omni__dlv_state_from(const char *name)
{
    for (int i = 0; name && i <= DLV_EXPIRED; i++)
        if (strcmp(name, state_names[i]) == 0)
            return i;
    return -1;
}

int omni__dlv_state(const cJSON *rec)
{
    return omni__dlv_state_from(omni__json_str(rec, "state"));
}

void omni__dlv_due_key(char *out, size_t cap, int64_t at_ms, const char *id)
{
    snprintf(out, cap, "%013" PRId64 "/%s", at_ms < 0 ? 0 : at_ms, id);
}

int omni__dlv_message_id(char out[OMNI__DLV_ID_LEN + 1], const char *key, size_t len)
{
    static const char prefix[] = "omni-delivery:";
    uint8_t h[32];
    char *buf = malloc(sizeof prefix + len);
    if (!buf)
        return omni__err(OMNI_ENOMEM, "delivery: out of memory");
    memcpy(buf, prefix, sizeof prefix - 1);
    memcpy(buf + sizeof prefix - 1, key, len);
    int rc = omni__sha256(h, buf, sizeof prefix - 1 + len);
    free(buf);
    if (rc)
        return rc;
    h[6] = (uint8_t)((h[6] & 0x0f) | 0x80); /* version 8 (RFC 9562 section 5.8) */
    h[8] = (uint8_t)((h[8] & 0x3f) | 0x80); /* variant 10 */
    return omni_uuid_format(out, h);
}

int64_t omni__dlv_num(const cJSON *obj, const char *name, int64_t def)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(it) ? (int64_t)it->valuedouble : def;
}

void omni__dlv_set_num(cJSON *obj, const char *name, double v)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (cJSON_IsNumber(it))
        cJSON_SetNumberValue(it, v);
    else if (it)
        cJSON_ReplaceItemInObjectCaseSensitive(obj, name, cJSON_CreateNumber(v));
    else
        cJSON_AddNumberToObject(obj, name, v);
}

int omni__dlv_set_str(cJSON *obj, const char *name, const char *v)
{
    cJSON *s = cJSON_CreateString(v);
    if (!s)
        return omni__err(OMNI_ENOMEM, "delivery: out of memory");
    if (cJSON_GetObjectItemCaseSensitive(obj, name))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, name, s);
    else
        cJSON_AddItemToObject(obj, name, s);
    return OMNI_OK;
}

int omni__dlv_db_error(int rc, const char *what)
{
    if (rc == OMNI_ENOMEM || rc == OMNI_ECONFLICT || rc == OMNI_ESTORAGE)
        return rc;
    return omni__err(OMNI_ESTORAGE, "delivery: %s failed: %s", what, omni_error_last_message());
}

int omni__dlv_load(omni_delivery_job *job, int64_t now_ms)
{
    omni_store *st = omni_engine_store(job->d->engine);
    char *text = NULL;
    size_t len = 0;
    uint64_t version = 0;
    int rc = omni_store_get(st, OMNI__DLV_NS, job->id, now_ms, &text, &len, &version, NULL);
    if (rc == OMNI_ENOTFOUND) {
        omni_error_clear();
        return rc;
    }
    if (rc)
        return omni__dlv_db_error(rc, "reading a message");
    cJSON *rec = NULL;
    rc = omni__json_parse(&rec, text, len, OMNI_STORE_MAX_VALUE, "delivery record");
    omni_free(text);
    if (rc)
        return omni__err(OMNI_ESTORAGE, "delivery: the record of %s is not valid", job->id);
    if (omni__dlv_state(rec) < 0 || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(rec, "event")) ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(rec, "carriers")) ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(rec, "attempts"))) {
        cJSON_Delete(rec);
        return omni__err(OMNI_ESTORAGE, "delivery: the record of %s is not one libomni wrote",
                         job->id);
    }
    cJSON_Delete(job->rec);
    job->rec = rec;
    job->version = version;
    if (!job->event_text) {
        const cJSON *msg = omni__dlv_message(rec);
        if (!msg)
            return omni__err(OMNI_ESTORAGE, "delivery: the record of %s is not one libomni wrote",
                             job->id);
        if ((rc = omni__json_print(&job->event_text, &job->event_len, msg)))
            return rc;
    }
    return OMNI_OK;
}

const cJSON *omni__dlv_message(const cJSON *rec)
{
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(rec, "event");
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(rec, "carriers"), 0);
    if (!cJSON_IsString(first) || !omni__dlv_push_platform(first->valuestring))
        return ev;
    const cJSON *push = cJSON_GetObjectItemCaseSensitive(ev, "push");
    return cJSON_IsObject(push) ? push : NULL;
}

int omni__dlv_save(omni_delivery_job *job, int64_t due_at, int64_t now_ms)
{
    omni_delivery *d = job->d;
    omni_store *st = omni_engine_store(d->engine);
    char new_due[80] = "", old_due[80] = "";
    const char *od = omni__json_str(job->rec, "dueKey");
    if (od)
        snprintf(old_due, sizeof old_due, "%s", od);
    int rc;
    if (due_at > 0) {
        omni__dlv_due_key(new_due, sizeof new_due, due_at, job->id);
        if (strcmp(new_due, old_due) != 0) {
            rc = omni_store_put(st, OMNI__DLV_NS_DUE, new_due, "{}", 2, OMNI_STORE_ANY_VERSION, 0,
                                now_ms, NULL);
            if (rc)
                return omni__dlv_db_error(rc, "writing the due index");
        }
        if ((rc = omni__dlv_set_str(job->rec, "dueKey", new_due)))
            return rc;
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(job->rec, "dueKey");
    }
    omni__dlv_set_num(job->rec, "updatedAt", (double)now_ms);
    int state = omni__dlv_state(job->rec);
    int64_t expires = 0;
    if (state == DLV_DELIVERED || state == DLV_EXPIRED)
        expires = now_ms + d->idempotency_ttl_ms;
    else if (state == DLV_DEAD)
        expires = now_ms + (d->dlq_ttl_ms > d->idempotency_ttl_ms ? d->dlq_ttl_ms
                                                                   : d->idempotency_ttl_ms);
    char *text = NULL;
    size_t len = 0;
    if ((rc = omni__json_print(&text, &len, job->rec)))
        return rc;
    uint64_t nv = 0;
    rc = omni_store_put(st, OMNI__DLV_NS, job->id, text, len, job->version, expires, now_ms, &nv);
    free(text);
    if (rc == OMNI_ECONFLICT || rc == OMNI_ENOTFOUND || rc == OMNI_EEXISTS) {
        if (new_due[0] && strcmp(new_due, old_due) != 0)
            (void)omni_store_delete(st, OMNI__DLV_NS_DUE, new_due, OMNI_STORE_ANY_VERSION, now_ms);
        omni_error_clear();
        return omni__err(OMNI_ECONFLICT, "delivery: message %s changed meanwhile", job->id);
    }
    if (rc)
        return omni__dlv_db_error(rc, "writing a message");
    job->version = nv;
    if (old_due[0] && strcmp(new_due, old_due) != 0)
        (void)omni_store_delete(st, OMNI__DLV_NS_DUE, old_due, OMNI_STORE_ANY_VERSION, now_ms);
    omni_error_clear();
    return OMNI_OK;
}

static void w_time(omni_buf *b, const char *key, int64_t ms)
{
    char t[40];
    if (omni_time_format(t, sizeof t, ms) == OMNI_OK) {
        omni__json_w_key(b, key);
        omni__json_w_str(b, t);
    }
}

/* The webhookUrl with {carrier} and {messageId} replaced. */
static void w_webhook(omni_buf *b, const char *tpl, const char *carrier, const char *id)
{
    omni_buf u = OMNI_BUF_INIT;
    for (const char *p = tpl ? tpl : ""; *p;) {
        if (strncmp(p, "{carrier}", 9) == 0) {
            omni__buf_puts(&u, carrier);
            p += 9;
        } else if (strncmp(p, "{messageId}", 11) == 0) {
            omni__buf_puts(&u, id);
            p += 11;
        } else {
            omni__buf_putc(&u, *p++);
        }
    }
    omni__json_w_strn(b, u.data ? u.data : "", u.len);
    omni__buf_free(&u);
}

int omni__dlv_result(omni_buf *b, const omni_delivery *d, const cJSON *rec, int duplicate,
                     const cJSON *events, int64_t now_ms)
{
    int state = omni__dlv_state(rec);
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(rec, "result");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(rec, "lastError");
    const char *id = omni__json_str(rec, "messageId");
    const cJSON *carriers = cJSON_GetObjectItemCaseSensitive(rec, "carriers");
    int64_t idx = omni__dlv_num(rec, "carrierIndex", 0);
    const cJSON *c = cJSON_GetArrayItem(carriers, (int)idx);
    const char *carrier = cJSON_IsString(c) ? c->valuestring : "";
    int attempts = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(rec, "attempts"));
    int64_t next_at = omni__dlv_num(rec, "nextAttemptAt", 0);
    const char *status;
    switch (state) {
    case DLV_DELIVERED:
        status = omni__json_str(result, "status");
        if (!status || strcmp(status, "accepted") == 0)
            status = "queued";
        break;
    case DLV_SENDING:
        status = "sending";
        break;
    case DLV_DEAD:
        status = "failed";
        break;
    case DLV_EXPIRED:
        status = "expired";
        break;
    default:
        status = attempts == 0 && next_at > now_ms ? "scheduled" : "pending";
        break;
    }
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "success");
    omni__json_w_bool(b, state == DLV_DELIVERED);
    omni__json_w_keyl(b, "correlationId");
    omni__json_w_str(b, omni__json_str(rec, "correlationId"));
    if (duplicate) {
        omni__json_w_keyl(b, "duplicate");
        omni__json_w_bool(b, 1);
    }
    omni__json_w_keyl(b, "delivery");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "messageId");
    omni__json_w_str(b, id);
    const char *cmid = omni__json_str(result, "carrierMessageId");
    if (cmid) {
        omni__json_w_keyl(b, "carrierMessageId");
        omni__json_w_str(b, cmid);
    }
    omni__json_w_keyl(b, "status");
    omni__json_w_str(b, status);
    omni__json_w_keyl(b, "carrier");
    omni__json_w_str(b, state == DLV_DELIVERED && omni__json_str(result, "carrier")
                            ? omni__json_str(result, "carrier")
                            : carrier);
    w_time(b, "timestamp", omni__dlv_num(rec, "updatedAt", now_ms));
    double cost;
    if (omni__json_num(result, "cost", &cost) == OMNI_OK) {
        omni__json_w_keyl(b, "cost");
        omni__json_w_num(b, cost);
        const char *cur = omni__json_str(result, "currency");
        if (cur) {
            omni__json_w_keyl(b, "currency");
            omni__json_w_str(b, cur);
        }
    }
    omni__json_w_keyl(b, "attempts");
    omni__json_w_int(b, attempts);
    if (state == DLV_PENDING)
        w_time(b, "nextAttemptAt", next_at);
    omni__json_w_obj_end(b);
    omni__json_w_keyl(b, "tracking");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "trackingId");
    omni__json_w_str(b, id);
    omni__json_w_keyl(b, "webhookUrl");
    w_webhook(b, d->webhook_url, carrier, id);
    omni__json_w_obj_end(b);
    if (state != DLV_DELIVERED && cJSON_IsObject(err)) {
        omni__json_w_keyl(b, "error");
        omni__json_w_item(b, err);
    }
    if (events) {
        omni__json_w_keyl(b, "events");
        omni__json_w_item(b, events);
    }
    omni__json_w_obj_end(b);
    return omni__buf_status(b);
}
