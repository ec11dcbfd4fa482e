/* Fuzz target: delivery status updates (omni_conversation_delivery). Over a
 * fresh in-memory engine holding one conversation (an outbound message
 * "idem-1" of carrier twilio, sequence 1, and an inbound "SM-IN", 2) and a
 * status parked for twilio/SM-P, the input is applied as an update, with
 * every "@C" replaced by the conversation's id so attaches can name it.
 * Invariants: a failure leaves no output and a known status; a success is
 * {"changed", "parked", "message", "events"} where a parked update has no
 * message and no events, events are delivery changes between two different
 * known statuses, and the message's status is a known one; the same update
 * again succeeds again and changes nothing; the history stays readable. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "fuzz_check.h"
#include "lib/core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const statuses[] = {"pending",   "processing", "queued", "sent",
                                       "delivered", "read",       "failed", "undelivered"};

static int known_status(const cJSON *v)
{
    if (!cJSON_IsString(v))
        return 0;
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        if (strcmp(v->valuestring, statuses[i]) == 0)
            return 1;
    return 0;
}

static int known(int rc)
{
    return rc == OMNI_EINVAL || rc == OMNI_EJSON || rc == OMNI_ETOOLARGE ||
           rc == OMNI_ETOODEEP || rc == OMNI_ENOTFOUND || rc == OMNI_EEXISTS;
}

static cJSON *item(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

/* Steps a message; returns the conversation id (malloc'd). */
static char *step(omni_engine *e, const char *id, const char *direction)
{
    char ev[512];
    int n = snprintf(ev, sizeof(ev),
                     "{\"correlationId\":\"c-%s\",\"identity\":{\"customerId\":\"cust-1\"},"
                     "\"routing\":{\"accountId\":\"acc-1\"},\"enrichedMessage\":{\"id\":\"%s\","
                     "\"carrier\":\"twilio\",\"channelType\":\"sms\",\"content\":\"hi\","
                     "\"contentType\":\"text\"},\"direction\":\"%s\"}",
                     id, id, direction);
    char *out = NULL;
    CHECK(omni_conversation_step(&out, NULL, e, ev, (size_t)n, NULL, 0) == OMNI_OK);
    cJSON *r = cJSON_Parse(out);
    omni_free(out);
    const cJSON *cid = item(item(r, "conversation"), "conversationId");
    CHECK(cJSON_IsString(cid));
    char *copy = strdup(cid->valuestring);
    cJSON_Delete(r);
    CHECK(copy);
    return copy;
}

/* Checks one result; returns its "changed". */
static int check_result(const char *out, size_t len)
{
    CHECK(out && omni__json_validate(out, len, 0, NULL) == OMNI_OK);
    cJSON *r = cJSON_Parse(out);
    CHECK(r);
    const cJSON *changed = item(r, "changed"), *parked = item(r, "parked");
    const cJSON *msg = item(r, "message"), *events = item(r, "events");
    CHECK(cJSON_IsBool(changed) && cJSON_IsBool(parked) && cJSON_IsArray(events));
    if (cJSON_IsTrue(parked)) {
        CHECK(cJSON_IsNull(msg) && cJSON_GetArraySize(events) == 0 && cJSON_IsFalse(changed));
    } else {
        CHECK(cJSON_IsObject(msg) && known_status(item(msg, "deliveryStatus")));
    }
    const cJSON *ev;
    cJSON_ArrayForEach(ev, events)
    {
        const cJSON *type = item(ev, "detailType"), *detail = item(ev, "detail");
        CHECK(cJSON_IsString(type) &&
              strcmp(type->valuestring, "message.delivery_updated") == 0);
        const cJSON *from = item(detail, "previousStatus"), *to = item(detail, "newStatus");
        CHECK(known_status(from) && known_status(to) &&
              strcmp(from->valuestring, to->valuestring) != 0);
        CHECK(cJSON_IsTrue(changed));
    }
    int c = cJSON_IsTrue(changed);
    cJSON_Delete(r);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 128 * 1024)
        return 0;
    static const char cfg[] = "{\"clock\":{\"fixed\":\"2025-01-02T03:04:05Z\"},"
                              "\"random\":{\"seed\":1}}";
    omni_engine *e = NULL;
    CHECK(omni_engine_new(&e, cfg, sizeof(cfg) - 1, NULL) == OMNI_OK);
    char *out = NULL;
    size_t len = 0;
    static const char park[] = "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM-P\","
                               "\"status\":\"delivered\"}";
    CHECK(omni_conversation_delivery(&out, NULL, e, park, sizeof(park) - 1) == OMNI_OK);
    omni_free(out);
    char *cid = step(e, "idem-1", "outbound");
    free(step(e, "SM-IN", "inbound"));

    /* the input with "@C" replaced by the conversation id */
    size_t cl = strlen(cid), cap = size * (cl > 2 ? cl : 2) / 2 + 1;
    char *u = malloc(cap);
    CHECK(u);
    size_t n = 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '@' && i + 1 < size && data[i + 1] == 'C') {
            memcpy(u + n, cid, cl);
            n += cl;
            i++;
        } else {
            u[n++] = (char)data[i];
        }
    }

    out = (char *)1;
    int rc = omni_conversation_delivery(&out, &len, e, u, n);
    if (rc) {
        CHECK(!out && known(rc));
    } else {
        check_result(out, len);
        omni_free(out);
        /* the same update again changes nothing */
        out = NULL;
        CHECK(omni_conversation_delivery(&out, &len, e, u, n) == OMNI_OK);
        CHECK(check_result(out, len) == 0);
        omni_free(out);
    }
    /* the messages stay readable and their statuses known */
    out = NULL;
    CHECK(omni_conversation_history(&out, &len, e, cid, NULL, 0) == OMNI_OK);
    cJSON *h = cJSON_Parse(out);
    omni_free(out);
    const cJSON *it;
    int count = 0;
    cJSON_ArrayForEach(it, item(h, "items"))
    {
        CHECK(known_status(item(it, "deliveryStatus")));
        count++;
    }
    CHECK(count == 2);
    cJSON_Delete(h);
    free(u);
    free(cid);
    omni_engine_free(e);
    return 0;
}
