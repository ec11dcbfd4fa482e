/* Fuzz target: SMS encoding and segments on arbitrary bytes.
 * Invariants: count and segments agree; the parts joined give the text
 * back; each part fits its encoding's per-part size (153 septets / 67
 * UTF-16 units, or 160 / 70 for a single message) and, in GSM-7, has only
 * GSM characters; a UCS-2 part never starts with half a character. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* UTF-16 units of valid UTF-8. */
static uint32_t utf16_units(const char *s, size_t n)
{
    uint32_t u = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            u += c >= 0xF0 ? 2 : 1;
    }
    return u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    int enc = 0;
    uint32_t segs = 0, units = 0;
    int rc = omni_sms_count(&enc, &segs, &units, text, size);
    char *out = NULL;
    size_t len = 0;
    int rc2 = omni_sms_segments(&out, &len, text, size);
    if (rc != rc2)
        abort();
    if (rc != OMNI_OK) {
        if (out || (rc != OMNI_EENCODING && rc != OMNI_ETOOLARGE))
            abort();
        return 0;
    }
    cJSON *j = NULL;
    if (omni__json_parse(&j, out, len, 0, "fuzz") != OMNI_OK)
        abort();
    omni_free(out);
    const char *e = omni__json_str(j, "encoding");
    int64_t js = 0, ju = 0;
    if (!e || omni__json_int(j, "segments", &js) || omni__json_int(j, "units", &ju))
        abort();
    if (strcmp(e, enc == OMNI_SMS_GSM7 ? "GSM-7" : "UCS-2") || js != segs || ju != units)
        abort();
    cJSON *parts = omni__json_at(j, "parts");
    if (!cJSON_IsArray(parts) || cJSON_GetArraySize(parts) != (int)segs || segs == 0)
        abort();
    /* cJSON strings end at a NUL byte: check part contents only without */
    int has_nul = memchr(text, 0, size) != NULL;
    size_t off = 0;
    uint32_t total = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, parts) {
        if (!cJSON_IsString(p))
            abort();
        if (has_nul)
            continue;
        size_t pl = strlen(p->valuestring);
        if (off + pl > size || memcmp(text + off, p->valuestring, pl))
            abort();
        off += pl;
        uint32_t pu;
        if (enc == OMNI_SMS_GSM7) {
            int pe = 0;
            if (omni_sms_count(&pe, NULL, &pu, p->valuestring, pl) || pe != OMNI_SMS_GSM7)
                abort();
        } else {
            pu = utf16_units(p->valuestring, pl);
        }
        uint32_t cap = segs == 1 ? (enc == OMNI_SMS_GSM7 ? 160 : 70)
                                 : (enc == OMNI_SMS_GSM7 ? 153 : 67);
        if (pu > cap || (segs > 1 && pu == 0))
            abort();
        total += pu;
    }
    if (!has_nul && (off != size || total != units))
        abort();
    cJSON_Delete(j);
    return 0;
}
