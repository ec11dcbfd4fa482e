/* Fuzz target: conversation event and transition input. The input is
 * split at the first NUL byte into a conversation document and an event
 * (without a NUL, a fixed valid document and the whole input as the event).
 * Both go to omni_conversation_apply; the event also goes to the
 * conversation step and to a transition over an in-memory store.
 * Invariants: a success is JSON whose conversation is a document apply
 * accepts again and whose status is one the table allows; a failure leaves
 * no output and a known status; nothing crashes or leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base_doc[] =
    "{\"conversationId\":\"c-1\",\"channel\":{\"type\":\"whatsapp\",\"carrier\":\"whatsapp\"},"
    "\"status\":\"active\",\"assignedTo\":\"agent-1\",\"participants\":[{\"id\":\"cust-1\","
    "\"type\":\"customer\",\"joinedAt\":\"2025-01-02T03:04:05.000Z\",\"status\":\"active\"},"
    "{\"id\":\"agent-1\",\"type\":\"agent\",\"joinedAt\":\"2025-01-02T03:04:05.000Z\","
    "\"status\":\"active\"}],\"metadata\":{\"startedAt\":\"2025-01-02T03:04:05.000Z\","
    "\"lastActivityAt\":\"2025-01-02T03:04:05.000Z\",\"messageCount\":3,\"topics\":[\"a\"],"
    "\"priority\":\"normal\"},\"customerId\":\"cust-1\",\"accountId\":\"acc-1\","
    "\"businessUnitId\":\"\",\"tenantId\":\"\",\"lastInboundAt\":\"2025-01-02T03:04:05.000Z\","
    "\"createdAt\":\"2025-01-02T03:04:05.000Z\",\"updatedAt\":\"2025-01-02T03:04:05.000Z\"}";

#define NOW INT64_C(1735800000000)

static int known(int rc)
{
    return rc == OMNI_EINVAL || rc == OMNI_EJSON || rc == OMNI_ETOOLARGE ||
           rc == OMNI_ETOODEEP || rc == OMNI_ETRANSITION || rc == OMNI_EWINDOW ||
           rc == OMNI_ENOTFOUND;
}

static void apply_checked(const char *doc, size_t doc_len, const char *ev, size_t ev_len)
{
    char *out = (char *)1;
    size_t len = 0;
    int rc = omni_conversation_apply(&out, &len, doc, doc_len, ev, ev_len, NOW);
    if (rc) {
        if (out || !known(rc))
            abort();
        return;
    }
    if (!out || omni__json_validate(out, len, 0, NULL) != OMNI_OK)
        abort();
    cJSON *root = cJSON_Parse(out);
    cJSON *conv = root ? cJSON_GetObjectItemCaseSensitive(root, "conversation") : NULL;
    cJSON *st = conv ? cJSON_GetObjectItemCaseSensitive(conv, "status") : NULL;
    int status = -1;
    if (!cJSON_IsString(st) || omni_conversation_status_parse(st->valuestring, &status))
        abort();
    /* the result is a document that apply takes again */
    char *again = cJSON_PrintUnformatted(conv);
    char *out2 = NULL;
    static const char noop[] = "{\"event\":\"set_metadata\",\"priority\":\"low\"}";
    if (omni_conversation_apply(&out2, NULL, again, strlen(again), noop, sizeof(noop) - 1,
                                NOW) != OMNI_OK)
        abort();
    omni_free(out2);
    free(again);
    cJSON_Delete(root);
    omni_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    if (nul) {
        apply_checked(text, (size_t)(nul - text), nul + 1, size - (size_t)(nul - text) - 1);
        return 0;
    }
    apply_checked(base_doc, sizeof(base_doc) - 1, text, size);

    /* the same bytes as a step event and as a transition over a store */
    static const char cfg[] = "{\"clock\":{\"fixed\":\"2025-01-02T03:04:05Z\"},"
                              "\"random\":{\"seed\":1}}";
    omni_engine *e = NULL;
    if (omni_engine_new(&e, cfg, sizeof(cfg) - 1, NULL) != OMNI_OK)
        abort();
    char *out = (char *)1;
    int rc = omni_conversation_step(&out, NULL, e, text, size, NULL, 0);
    if (rc == OMNI_OK) {
        cJSON *root = cJSON_Parse(out);
        cJSON *c = root ? cJSON_GetObjectItemCaseSensitive(root, "conversation") : NULL;
        cJSON *id = c ? cJSON_GetObjectItemCaseSensitive(c, "conversationId") : NULL;
        if (!cJSON_IsString(id))
            abort();
        /* stepping it again is a duplicate */
        char *dup = NULL;
        if (omni_conversation_step(&dup, NULL, e, text, size, NULL, 0) != OMNI_OK ||
            !strstr(dup, "\"duplicate\":true"))
            abort();
        omni_free(dup);
        static const char ev[] = "{\"event\":\"resolve\"}";
        char *t = NULL;
        if (omni_conversation_transition(&t, NULL, e, id->valuestring, ev, sizeof(ev) - 1) !=
            OMNI_OK)
            abort();
        omni_free(t);
        cJSON_Delete(root);
        omni_free(out);
    } else if (out || !(known(rc) || rc == OMNI_ECONFLICT)) {
        abort();
    }
    /* and as a transition of a conversation that does not exist */
    out = (char *)1;
    rc = omni_conversation_transition(&out, NULL, e, "c-1", text, size);
    if (rc == OMNI_OK || out || !known(rc))
        abort();
    omni_engine_free(e);
    return 0;
}
