/* Fuzz target: the business-hours compiler (lib/rules/hours.h) on arbitrary
 * schedule documents. A rejected document leaves *out NULL with a message
 * and one of the documented statuses. An accepted schedule is evaluated at
 * instants around the 2026 daylight-saving changes and at a few derived
 * from the input; invariants: next_change_ms is 0 or later than now, the
 * state just before next_change_ms is the current one and the state at
 * next_change_ms is the other. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/rules/hours.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const omni__hours *h, int64_t t)
{
    int open = -1, o2 = -1;
    int64_t next = -1, n2 = -1;
    if (omni__hours_at(h, t, &open, &next) != OMNI_OK || (open != 0 && open != 1))
        abort();
    if (next == 0)
        return;
    if (next <= t || next % 1000 != 0)
        abort();
    if (omni__hours_at(h, next - 1, &o2, &n2) != OMNI_OK || o2 != open || n2 != next)
        abort();
    if (omni__hours_at(h, next, &o2, &n2) != OMNI_OK || o2 != !open)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    omni__hours *h = (omni__hours *)1;
    int rc = omni__hours_compile(&h, (const char *)data, size);
    if (rc != OMNI_OK) {
        if (h || omni_error_last_message()[0] == '\0')
            abort();
        if (rc != OMNI_EINVAL && rc != OMNI_EJSON && rc != OMNI_ETOOLARGE &&
            rc != OMNI_ETOODEEP && rc != OMNI_ENOTFOUND && rc != OMNI_ENOMEM &&
            rc != OMNI_EENCODING && rc != OMNI_EUNSUPPORTED)
            abort();
        return 0;
    }
    static const int64_t times[] = {
        INT64_C(1767225600000), /* 2026-01-01 00:00Z */
        INT64_C(1772953200000), /* 2026-03-08 07:00Z, New York spring forward */
        INT64_C(1772949600000), INT64_C(1774746000000), /* 2026-03-29 01:00Z, EU */
        INT64_C(1777777777777), INT64_C(1792890000000), /* 2026-10-25 01:00Z, EU */
        INT64_C(1793512800000), /* 2026-11-01 06:00Z, New York fall back */
        INT64_C(1798675200000), /* 2026-12-31 */
        0, -1, INT64_C(-86400000) * 365 * 30,
        /* far out, leaving room for a next change within the range */
        OMNI__HOURS_MAX_ABS_MS - INT64_C(86400000) * 500, -OMNI__HOURS_MAX_ABS_MS};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
        check(h, times[i]);
    /* instants derived from the input */
    uint64_t x = 1469598103934665603u;
    for (size_t i = 0; i < size; i++)
        x = (x ^ data[i]) * 1099511628211u;
    for (int i = 0; i < 4; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        check(h, INT64_C(1767225600000) + (int64_t)(x % (UINT64_C(366) * 86400000)));
    }
    /* the same instants again give the same answers */
    int a = -1, b = -1;
    int64_t na = -1, nb = -1;
    if (omni__hours_at(h, INT64_C(1777777777777), &a, &na) != OMNI_OK ||
        omni__hours_at(h, INT64_C(1777777777777), &b, &nb) != OMNI_OK || a != b || na != nb)
        abort();
    omni__hours_free(h);
    return 0;
}
