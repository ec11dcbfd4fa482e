/* Fuzz target: the DynamoDB Streams converter and the AttributeValue
 * unmarshaller. The input goes to both functions as it is, and is also
 * wrapped as the images of stream records of the conversations and
 * messages tables. Invariants: a success returns valid JSON of the
 * documented shape (one "records" entry per input record, every event from
 * "omni.workflow"); a failure leaves *out NULL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "lib/core/json.h"

#define NOW_MS 1735787045000LL
#define OUT_MAX (256u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(int rc, char *out, size_t len)
{
    if (rc != OMNI_OK) {
        if (out)
            abort();
        return;
    }
    if (!out || strlen(out) != len || omni__json_validate(out, len, OUT_MAX, "output") != OMNI_OK)
        abort();
}

static void check_stream(const char *in, size_t in_len)
{
    char *out = (char *)&check_stream; /* must be reset */
    size_t len = 0;
    int rc = omni_dynamodb_stream_events(&out, &len, in, in_len, NOW_MS);
    check_text(rc, out, len);
    if (rc != OMNI_OK)
        return;
    /* It succeeded, so the input is a JSON object with a Records array. */
    cJSON *root = cJSON_ParseWithLength(out, len);
    cJSON *input = cJSON_ParseWithLength(in, in_len);
    if (!root || !input)
        abort();
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(root, "events");
    const cJSON *records = cJSON_GetObjectItemCaseSensitive(root, "records");
    const cJSON *in_records = cJSON_GetObjectItemCaseSensitive(input, "Records");
    if (!cJSON_IsArray(events) || !cJSON_IsArray(records) || !cJSON_IsArray(in_records) ||
        cJSON_GetArraySize(records) != cJSON_GetArraySize(in_records))
        abort();
    int successes = 0;
    for (const cJSON *r = records->child; r; r = r->next) {
        const char *status = omni__json_str(r, "status");
        if (!status)
            abort();
        int failed = strcmp(status, "failed") == 0;
        if (!failed && strcmp(status, "success") != 0 && strcmp(status, "skipped") != 0)
            abort();
        if (failed != (omni__json_str(r, "error") != NULL))
            abort();
        successes += strcmp(status, "success") == 0;
    }
    int nevents = cJSON_GetArraySize(events);
    if (nevents < successes || nevents > 2 * successes)
        abort();
    for (const cJSON *e = events->child; e; e = e->next) {
        const char *source = omni__json_str(e, "source");
        if (!source || strcmp(source, "omni.workflow") != 0 || !omni__json_str(e, "detailType") ||
            !cJSON_IsObject(omni__json_at(e, "detail")))
            abort();
    }
    cJSON_Delete(input);
    cJSON_Delete(root);
    omni_free(out);
}

static const char wrap_head[] =
    "{\"Records\":[{\"eventID\":\"1\",\"eventName\":\"INSERT\",\"eventSourceARN\":"
    "\"arn:aws:dynamodb:us-east-1:123456789012:table/conversations/stream/x\","
    "\"dynamodb\":{\"ApproximateCreationDateTime\":1700000000.25,\"NewImage\":";
static const char wrap_mid[] =
    "}},{\"eventID\":\"2\",\"eventName\":\"MODIFY\",\"eventSourceARN\":"
    "\"arn:aws:dynamodb:us-east-1:123456789012:table/conversations/stream/x\","
    "\"dynamodb\":{\"OldImage\":{\"status\":{\"S\":\"new\"},\"assignedTo\":{\"S\":\"a\"}},"
    "\"NewImage\":";
static const char wrap_tail[] =
    "}},{\"eventID\":\"3\",\"eventName\":\"MODIFY\",\"eventSourceARN\":"
    "\"arn:aws:dynamodb:us-east-1:123456789012:table/messages/stream/x\","
    "\"dynamodb\":{\"NewImage\":{\"deliveryStatus\":{\"S\":\"sent\"}},\"OldImage\":";
static const char wrap_end[] = "}}]}";

static char *put(char *p, const void *s, size_t n)
{
    if (n)
        memcpy(p, s, n);
    return p + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;

    char *out = (char *)&check_text; /* must be reset */
    size_t len = 0;
    int rc = omni_dynamodb_unmarshall(&out, &len, text, size);
    check_text(rc, out, len);
    if (rc == OMNI_OK) {
        /* Unmarshalled output is a JSON object (the item's attributes). */
        if (out[0] != '{')
            abort();
        omni_free(out);
    }

    check_stream(text, size);

    /* The input as the images of three records. */
    if (size > 256u * 1024u)
        return 0;
    size_t n = sizeof(wrap_head) - 1 + sizeof(wrap_mid) - 1 + sizeof(wrap_tail) - 1 +
               sizeof(wrap_end) - 1 + 3 * size;
    char *event = malloc(n);
    if (!event)
        return 0;
    char *p = put(event, wrap_head, sizeof(wrap_head) - 1);
    p = put(p, text, size);
    p = put(p, wrap_mid, sizeof(wrap_mid) - 1);
    p = put(p, text, size);
    p = put(p, wrap_tail, sizeof(wrap_tail) - 1);
    p = put(p, text, size);
    put(p, wrap_end, sizeof(wrap_end) - 1);
    check_stream(event, n);
    free(event);
    return 0;
}
