/* Fuzz target for RFC 3339 timestamps: parsing arbitrary bytes never
 * crashes; an accepted input formats, and the formatted text parses back
 * to the same millisecond; any int64 that formats parses back to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void format_roundtrip(int64_t ms, int must_format)
{
    char buf[OMNI_TIME_STRLEN];
    int rc = omni_time_format(buf, sizeof(buf), ms);
    if (rc != OMNI_OK) {
        if (must_format || rc != OMNI_EINVAL)
            abort();
        return;
    }
    if (strlen(buf) != OMNI_TIME_STRLEN - 1 || buf[10] != 'T' || buf[23] != 'Z')
        abort();
    int64_t back = 0;
    if (omni_time_parse(&back, buf, strlen(buf)) != OMNI_OK || back != ms)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t ms = 0;
    int rc = omni_time_parse(&ms, (const char *)data, size);
    if (rc == OMNI_OK)
        format_roundtrip(ms, 1);
    else if (rc != OMNI_ETIME && rc != OMNI_ETOOLARGE)
        abort();
    if (size >= 8) {
        int64_t v;
        memcpy(&v, data, sizeof(v));
        format_roundtrip(v, 0);
        format_roundtrip(v % 253402300800000LL, 0);
    }
    return 0;
}
