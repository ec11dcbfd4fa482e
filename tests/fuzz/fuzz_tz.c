/* Fuzz target: the TZif parser (RFC 8536) and the POSIX TZ footer on
 * arbitrary bytes. An input starting with 'F' is wrapped as the footer of
 * a minimal version 2 file, so the TZ string parser gets direct coverage.
 * Invariants: a rejected input leaves *out NULL with a message; an
 * accepted zone answers every query with an offset within +-26 hours, a
 * DST flag of 0 or 1 and a NUL-terminated abbreviation, and local -> UTC
 * lands on an instant whose local time is within a day of the request. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* header + one type (+1h, "STD") for both blocks, then "\n" footer "\n" */
static uint8_t *wrap_footer(const uint8_t *f, size_t n, size_t *out_len)
{
    size_t block = 44 + 6 + 4;
    size_t len = 2 * block + n + 2;
    uint8_t *p = calloc(1, len);
    if (!p)
        return NULL;
    for (int i = 0; i < 2; i++) {
        uint8_t *h = p + (size_t)i * block;
        memcpy(h, "TZif3", 5);
        put32(h + 36, 1);
        put32(h + 40, 4);
        put32(h + 44, 3600);
        memcpy(h + 50, "STD", 4);
    }
    p[2 * block] = '\n';
    memcpy(p + 2 * block + 1, f, n);
    p[len - 1] = '\n';
    *out_len = len;
    return p;
}

static void check(const omni__tz *tz, int64_t t)
{
    int32_t off = 0;
    int dst = -1;
    const char *abbr = NULL;
    if (omni__tz_offset(tz, t, &off, &dst, &abbr) != OMNI_OK)
        abort();
    if (off < -26 * 3600 || off > 26 * 3600 || (dst != 0 && dst != 1) || !abbr)
        abort();
    if (strlen(abbr) > 64)
        abort();
    int64_t local = t + off, back = 0;
    if (omni__tz_from_local(tz, local, &back) != OMNI_OK)
        abort();
    int32_t off2 = 0;
    if (omni__tz_offset(tz, back, &off2, NULL, NULL) != OMNI_OK)
        abort();
    int64_t diff = back + off2 - local;
    if (diff < -2 * 86400 || diff > 2 * 86400)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *wrapped = NULL;
    const uint8_t *in = data;
    size_t n = size;
    if (size > 0 && data[0] == 'F') {
        wrapped = wrap_footer(data + 1, size - 1, &n);
        if (!wrapped)
            return 0;
        in = wrapped;
    }
    omni__tz *tz = (omni__tz *)1;
    int rc = omni__tz_parse(&tz, in, n, "Fuzz/Zone");
    if (rc != OMNI_OK) {
        if (tz || omni_error_last_message()[0] == '\0')
            abort();
        if (rc != OMNI_EENCODING && rc != OMNI_EUNSUPPORTED && rc != OMNI_ETOOLARGE)
            abort();
        free(wrapped);
        return 0;
    }
    static const int64_t times[] = {
        INT64_C(-2208988800), -1, 0, 1, INT64_C(1772953200), INT64_C(1793512800),
        INT64_C(2147483647), INT64_C(4102444800), INT64_C(7273756800),
        INT64_C(253402300799), -OMNI__TZ_MAX_ABS_S + 3 * 86400, OMNI__TZ_MAX_ABS_S - 3 * 86400};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
        check(tz, times[i]);
    /* a walk through one year in 6-hour steps */
    for (int64_t t = INT64_C(1767225600); t < INT64_C(1798761600); t += 6 * 3600)
        check(tz, t);
    omni__tz_free(tz);
    free(wrapped);
    return 0;
}
