/* Fuzz target for application/x-www-form-urlencoded: arbitrary bytes are
 * decoded as a form body, and also cut into pairs that are encoded. The
 * invariants:
 *   - a body that decodes agrees with omni__form_parse, and (when no value
 *     holds a NUL) decode(encode(decode(body))) == decode(body);
 *   - pairs built from the input encode, and the body decodes back to
 *     exactly those pairs;
 *   - failures are OMNI_EENCODING with a byte offset and no output. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/buf.h"
#include "lib/core/codec.h"
#include "lib/core/json.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_body(const char *body, size_t size)
{
    char *json = (char *)1;
    size_t json_len = 5;
    int rc = omni_form_decode(&json, &json_len, body, size);
    omni__pairs pairs;
    int rc2 = omni__form_parse(&pairs, body, size);
    CHECK(rc == rc2);
    if (rc != OMNI_OK) {
        CHECK(rc == OMNI_EENCODING && json == NULL);
        CHECK(strstr(omni_error_last_message(), "byte offset") != NULL);
        CHECK(pairs.items == NULL && pairs.count == 0);
        return;
    }
    CHECK(strlen(json) == json_len);
    int has_nul = 0;
    for (size_t i = 0; i < pairs.count; i++) {
        const omni__pair *p = &pairs.items[i];
        CHECK(p->name[p->name_len] == 0 && p->value[p->value_len] == 0);
        CHECK(omni__utf8_valid(p->name, p->name_len, NULL));
        CHECK(omni__utf8_valid(p->value, p->value_len, NULL));
        if (strlen(p->name) != p->name_len || strlen(p->value) != p->value_len)
            has_nul = 1;
        CHECK(omni__pairs_find(&pairs, p->name, p->name_len) != NULL);
    }
    /* the JSON is valid and has one entry per pair */
    cJSON *root = NULL;
    CHECK(omni__json_parse(&root, json, json_len, 0, "fuzz") == OMNI_OK);
    CHECK(cJSON_IsArray(root) && (size_t)cJSON_GetArraySize(root) == pairs.count);
    cJSON_Delete(root);
    omni__pairs_free(&pairs);
    if (has_nul) {
        omni_free(json);
        return;
    }
    char *body2 = NULL;
    size_t body2_len = 0;
    CHECK(omni_form_encode(&body2, &body2_len, json, json_len) == OMNI_OK);
    char *json2 = NULL;
    size_t json2_len = 0;
    CHECK(omni_form_decode(&json2, &json2_len, body2, body2_len) == OMNI_OK);
    CHECK(json2_len == json_len && memcmp(json2, json, json_len) == 0);
    /* the serializer is a fixed point: encoding its own output's pairs
     * gives the same body */
    char *body3 = NULL;
    CHECK(omni_form_encode(&body3, NULL, json2, json2_len) == OMNI_OK);
    CHECK(strcmp(body3, body2) == 0);
    omni_free(json);
    omni_free(body2);
    omni_free(json2);
    omni_free(body3);
}

/* Cuts the input at 0x00 bytes into alternating names and values (bytes
 * that are not UTF-8 make the input unusable here) and checks that their
 * encoding decodes back to the same pairs. */
static void encode_pairs(const uint8_t *data, size_t size)
{
    if (!omni__utf8_valid((const char *)data, size, NULL))
        return;
    omni_buf in = OMNI_BUF_INIT;
    omni_buf want = OMNI_BUF_INIT;
    omni__json_w_arr_begin(&in);
    omni__json_w_arr_begin(&want);
    size_t start = 0, field = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != 0)
            continue;
        if (field % 2 == 0) {
            omni__json_w_arr_begin(&in);
            omni__json_w_arr_begin(&want);
        }
        omni__json_w_strn(&in, (const char *)data + start, i - start);
        omni__json_w_strn(&want, (const char *)data + start, i - start);
        if (field % 2 == 1) {
            omni__json_w_arr_end(&in);
            omni__json_w_arr_end(&want);
        }
        field++;
        start = i + 1;
    }
    if (field % 2 == 1) {
        omni__json_w_strn(&in, "", 0);
        omni__json_w_strn(&want, "", 0);
        omni__json_w_arr_end(&in);
        omni__json_w_arr_end(&want);
    }
    omni__json_w_arr_end(&in);
    omni__json_w_arr_end(&want);
    CHECK(!in.failed && !want.failed);

    char *body = NULL;
    size_t body_len = 0;
    CHECK(omni_form_encode(&body, &body_len, in.data, in.len) == OMNI_OK);
    /* only the serializer's byte set appears */
    for (size_t i = 0; i < body_len; i++) {
        unsigned char c = (unsigned char)body[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '*' || c == '-' || c == '.' || c == '_' || c == '+' || c == '%' ||
                 c == '=' || c == '&';
        CHECK(ok);
    }
    char *json = NULL;
    size_t json_len = 0;
    CHECK(omni_form_decode(&json, &json_len, body, body_len) == OMNI_OK);
    /* decoding skips nothing: every pair has an '=' so no segment is empty */
    CHECK(json_len == want.len && memcmp(json, want.data, json_len) == 0);
    omni_free(body);
    omni_free(json);
    omni__buf_free(&in);
    omni__buf_free(&want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    decode_body((const char *)data, size);
    encode_pairs(data, size);
    return 0;
}
