/* Quiet hours in a time zone, and the SHA-256 hex ids of tokens (see
 * quiet_hours.h). */
#include <string.h>

#include <omni/crypto.h>

#include "quiet_hours.h"

int omni__hhmm(const char *s)
{
    if (!s || strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    return h > 23 || m > 59 ? -1 : h * 60 + m;
}

int omni__quiet_hours(const omni__tz *tz, int start, int end, int64_t now_ms,
                      int64_t *until_ms)
{
    if (until_ms)
        *until_ms = 0;
    if (start == end)
        return 0;
    int32_t off = 0;
    int64_t s = now_ms >= 0 ? now_ms / 1000 : -((-now_ms + 999) / 1000);
    int rc = omni__tz_offset(tz, s, &off, NULL, NULL);
    if (rc)
        return rc;
    int64_t local = s + off;
    int64_t day = local - (((local % 86400) + 86400) % 86400);
    int minute = (int)((local - day) / 60);
    int quiet = start < end ? (minute >= start && minute < end) : (minute >= start || minute < end);
    if (!quiet || !until_ms)
        return quiet;
    int64_t end_local = day + (int64_t)end * 60; /* today's end, or tomorrow's */
    if (end <= minute)
        end_local += 86400;
    int64_t end_s = 0;
    if ((rc = omni__tz_from_local(tz, end_local, &end_s)))
        return rc;
    *until_ms = end_s * 1000 > now_ms ? end_s * 1000 : now_ms;
    return 1;
}

void omni__sha256_hex(char out[65], const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t h[32];
    if (omni_hash_digest(h, sizeof h, OMNI_HASH_SHA256, s, len) != OMNI_OK)
        memset(h, 0, sizeof h);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[h[i] >> 4];
        out[2 * i + 1] = hex[h[i] & 15];
    }
    out[64] = '\0';
}
