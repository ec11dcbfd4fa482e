/* UUIDs (RFC 9562): parsing, formatting, name-based v5 and time-ordered v7
 * (monotonic within an engine). */
#include <omni/uuid.h>
#include <omni/omni.h>

#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "engine.h"
#include "error.h"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int omni_uuid_parse(uint8_t out[16], const char *text, size_t len)
{
    if (!out || (!text && len))
        return omni__err(OMNI_EINVAL, "UUID parse: NULL argument");
    if (len >= 9 && strncasecmp(text, "urn:uuid:", 9) == 0) {
        text += 9;
        len -= 9;
    } else if (len == 38 && text[0] == '{' && text[37] == '}') {
        text++;
        len -= 2;
    }
    if (len != 36)
        return omni__err(OMNI_EINVAL, "not a UUID: expected 36 characters "
                                      "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
    uint8_t tmp[16];
    size_t n = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return omni__err(OMNI_EINVAL, "not a UUID: expected '-' at offset %zu", i);
            i++;
            continue;
        }
        int hi = hexval((unsigned char)text[i]), lo = hexval((unsigned char)text[i + 1]);
        if (hi < 0 || lo < 0)
            return omni__err(OMNI_EINVAL, "not a UUID: expected hex digits at offset %zu", i);
        tmp[n++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    memcpy(out, tmp, 16);
    return OMNI_OK;
}

int omni_uuid_format(char out[OMNI_UUID_STRLEN], const uint8_t uuid[16])
{
    static const char hex[] = "0123456789abcdef";
    if (!out || !uuid)
        return omni__err(OMNI_EINVAL, "UUID format: NULL argument");
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[uuid[i] >> 4];
        *p++ = hex[uuid[i] & 15];
    }
    *p = '\0';
    return OMNI_OK;
}

int omni_uuid5(char out[OMNI_UUID_STRLEN], const char *namespace_uuid, const char *name,
               size_t name_len)
{
    if (!out || !namespace_uuid || (!name && name_len))
        return omni__err(OMNI_EINVAL, "UUIDv5: NULL argument");
    if (name_len > OMNI_UUID_MAX_NAME)
        return omni__err(OMNI_ETOOLARGE, "UUIDv5: the name is %zu bytes, over the limit of %u",
                         name_len, OMNI_UUID_MAX_NAME);
    uint8_t ns[16];
    int rc = omni_uuid_parse(ns, namespace_uuid, strlen(namespace_uuid));
    if (rc)
        return omni__err(rc, "UUIDv5: the namespace is not a UUID");

    /* RFC 9562 section 5.5: SHA-1 over namespace bytes || name bytes; the
     * first 16 bytes of the digest, with version 5 and variant 10. */
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    int ok = 0;
    ERR_set_mark();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx)
        ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, ns, sizeof(ns)) == 1 &&
             (name_len == 0 || EVP_DigestUpdate(ctx, name, name_len) == 1) &&
             EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len >= 16;
    EVP_MD_CTX_free(ctx);
    ERR_pop_to_mark();
    if (!ctx)
        return omni__err(OMNI_ENOMEM, NULL);
    if (!ok)
        return omni__err(OMNI_ECRYPTO, "UUIDv5: SHA-1 failed");
    md[6] = (uint8_t)((md[6] & 0x0F) | 0x50);
    md[8] = (uint8_t)((md[8] & 0x3F) | 0x80);
    return omni_uuid_format(out, md);
}

/* UUIDv7 layout (RFC 9562 section 5.7): unix_ts_ms (48 bits, bytes 0-5),
 * ver (4 bits), rand_a (12 bits), var (2 bits), rand_b (62 bits). The 74
 * random bits are taken from 10 random bytes r[0..9] placed at bytes 6..15
 * with the version and variant bits overwritten:
 *   rand_a = (r[0] & 0x0F) << 8 | r[1]
 *   rand_b = (r[2] & 0x3F) << 56 | r[3] << 48 | ... | r[9]
 * For ordering, rand_a:rand_b is one 74-bit counter (RFC 9562 section
 * 6.2, method 2). */
#define TS_MAX ((UINT64_C(1) << 48) - 1)
#define RAND_B_MAX ((UINT64_C(1) << 62) - 1)

static void v7_pack(uint8_t u[16], uint64_t ts, unsigned rand_a, uint64_t rand_b)
{
    for (int i = 0; i < 6; i++)
        u[i] = (uint8_t)(ts >> (8 * (5 - i)));
    u[6] = (uint8_t)(0x70 | (rand_a >> 8));
    u[7] = (uint8_t)rand_a;
    u[8] = (uint8_t)(0x80 | (rand_b >> 56));
    for (int i = 9; i < 16; i++)
        u[i] = (uint8_t)(rand_b >> (8 * (15 - i)));
}

static void v7_unpack(const uint8_t u[16], uint64_t *ts, unsigned *rand_a, uint64_t *rand_b)
{
    *ts = 0;
    for (int i = 0; i < 6; i++)
        *ts = *ts << 8 | u[i];
    *rand_a = (unsigned)(u[6] & 0x0F) << 8 | u[7];
    *rand_b = u[8] & 0x3F;
    for (int i = 9; i < 16; i++)
        *rand_b = *rand_b << 8 | u[i];
}

int omni_uuid7(char out[OMNI_UUID_STRLEN], const omni_engine *engine)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "UUIDv7: out is NULL");
    /* Clock and random first, outside the lock: a hook (such as the
     * engine's seeded generator) may take the engine's mutex itself. */
    int64_t now = omni_engine_now_ms(engine);
    uint8_t r[10];
    int rc = omni_engine_random(engine, r, sizeof(r));
    if (rc)
        return rc;
    uint64_t ts = now < 0 ? 0 : (uint64_t)now > TS_MAX ? TS_MAX : (uint64_t)now;
    unsigned rand_a = (unsigned)(r[0] & 0x0F) << 8 | r[1];
    uint64_t rand_b = r[2] & 0x3F;
    for (int i = 3; i < 10; i++)
        rand_b = rand_b << 8 | r[i];

    uint8_t u[16];
    if (engine) {
        omni_engine *e = (omni_engine *)engine; /* uuid7_last is guarded by mu */
        pthread_mutex_lock(&e->mu);
        if (e->uuid7_has_last) {
            uint64_t lts, lb;
            unsigned la;
            v7_unpack(e->uuid7_last, &lts, &la, &lb);
            if (ts <= lts) { /* clock stood still or stepped back: count on */
                ts = lts;
                rand_a = la;
                rand_b = lb;
                if (rand_b < RAND_B_MAX) {
                    rand_b++;
                } else {
                    rand_b = 0;
                    if (rand_a < 0xFFF) {
                        rand_a++;
                    } else {
                        rand_a = 0;
                        if (ts == TS_MAX) {
                            pthread_mutex_unlock(&e->mu);
                            return omni__err(OMNI_EINTERNAL, "UUIDv7: no larger value left");
                        }
                        ts++;
                    }
                }
            }
        }
        v7_pack(u, ts, rand_a, rand_b);
        memcpy(e->uuid7_last, u, 16);
        e->uuid7_has_last = 1;
        pthread_mutex_unlock(&e->mu);
    } else {
        v7_pack(u, ts, rand_a, rand_b);
    }
    return omni_uuid_format(out, u);
}
