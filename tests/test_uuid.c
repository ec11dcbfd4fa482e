/* Tests for UUID parse/format, v5 and v7 (omni/uuid.h). */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

/* ---- hooks ------------------------------------------------------------- */

typedef struct fake {
    int64_t now;
    uint8_t bytes[10]; /* what the random hook returns (repeated) */
    int fail;          /* status the random hook returns */
    int calls;
} fake;

static int64_t fake_now(void *ctx)
{
    return ((fake *)ctx)->now;
}

static int fake_fill(void *ctx, uint8_t *buf, size_t len)
{
    fake *f = ctx;
    f->calls++;
    if (f->fail)
        return f->fail;
    for (size_t i = 0; i < len; i++)
        buf[i] = f->bytes[i % sizeof(f->bytes)];
    return 0;
}

static omni_engine *fake_engine(fake *f)
{
    omni_clock_hook ck = OMNI_CLOCK_HOOK_INIT;
    ck.ctx = f;
    ck.now_ms = fake_now;
    omni_random_hook rnd = OMNI_RANDOM_HOOK_INIT;
    rnd.ctx = f;
    rnd.fill = fake_fill;
    omni_hooks h = OMNI_HOOKS_INIT;
    h.clock = &ck;
    h.random = &rnd;
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, NULL, 0, &h), OMNI_OK);
    return e;
}

static void check_v7_bits(const char *s)
{
    cr_assert_eq(strlen(s), 36);
    cr_assert_eq(s[14], '7', "version nibble of %s", s);
    cr_assert(strchr("89ab", s[19]) != NULL, "variant of %s", s);
}

/* ---- parse / format ------------------------------------------------------ */

static const uint8_t dns_ns[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                   0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

Test(uuid, parse_forms)
{
    const char *forms[] = {
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "6BA7B810-9DAD-11D1-80B4-00C04FD430C8",
        "6bA7b810-9DaD-11d1-80B4-00c04Fd430C8",
        "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "URN:UUID:6BA7B810-9DAD-11D1-80B4-00C04FD430C8",
        "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        uint8_t u[16];
        cr_assert_eq(omni_uuid_parse(u, forms[i], strlen(forms[i])), OMNI_OK, "%s", forms[i]);
        cr_assert_eq(memcmp(u, dns_ns, 16), 0, "%s", forms[i]);
    }
    char s[OMNI_UUID_STRLEN];
    cr_assert_eq(omni_uuid_format(s, dns_ns), OMNI_OK);
    cr_assert_str_eq(s, OMNI_UUID_NS_DNS);
    /* nil and max UUIDs (RFC 9562 sections 5.9, 5.10) */
    uint8_t u[16];
    cr_assert_eq(omni_uuid_parse(u, "00000000-0000-0000-0000-000000000000", 36), OMNI_OK);
    cr_assert_eq(omni_uuid_format(s, u), OMNI_OK);
    cr_assert_str_eq(s, "00000000-0000-0000-0000-000000000000");
    cr_assert_eq(omni_uuid_parse(u, "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", 36), OMNI_OK);
    cr_assert_eq(omni_uuid_format(s, u), OMNI_OK);
    cr_assert_str_eq(s, "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

Test(uuid, parse_errors)
{
    const char *bad[] = {
        "",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c88",
        "6ba7b8109dad11d180b400c04fd430c8",
        "6ba7b810-9dad-11d1-80b400c04fd430c8-",
        "6ba7b810-9dad11d1--80b4-00c04fd430c8",
        "6ba7b81-09dad-11d1-80b4-00c04fd430c8",
        "6ba7b810_9dad_11d1_80b4_00c04fd430c8",
        "6ba7b810-9dad-11d1-80b4-00c04fd430cg",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c ",
        " 6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "6ba7b810-9dad-11d1-80b4+00c04fd430c8",
        "{6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
        "(6ba7b810-9dad-11d1-80b4-00c04fd430c8)",
        "{{6ba7b810-9dad-11d1-80b4-00c04fd430c8}}",
        "urn:uuid:{6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
        "urn:uuid:",
        "uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8x",
        "0x6ba7b810-9dad-11d1-80b4-00c04fd430",
        "6ba7b810-9dad-11d1-80b4-00c04fd4\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t u[16];
        memset(u, 0xEE, sizeof(u));
        cr_assert_eq(omni_uuid_parse(u, bad[i], strlen(bad[i])), OMNI_EINVAL, "%s", bad[i]);
        for (int k = 0; k < 16; k++)
            cr_assert_eq(u[k], 0xEE, "output changed on error");
    }
    uint8_t u[16];
    cr_assert_eq(omni_uuid_parse(u, "6ba7b810-9dad-11d1-80b4-00c04fd430c8\0", 37), OMNI_EINVAL);
    cr_assert_eq(omni_uuid_parse(NULL, OMNI_UUID_NS_DNS, 36), OMNI_EINVAL);
    cr_assert_eq(omni_uuid_parse(u, NULL, 36), OMNI_EINVAL);
    cr_assert_eq(omni_uuid_parse(u, NULL, 0), OMNI_EINVAL);
    char s[OMNI_UUID_STRLEN];
    cr_assert_eq(omni_uuid_format(NULL, u), OMNI_EINVAL);
    cr_assert_eq(omni_uuid_format(s, NULL), OMNI_EINVAL);
}

/* ---- v5 ------------------------------------------------------------------ */

/* RFC 9562 Appendix A.4: namespace DNS, name "www.example.com". */
Test(uuid, v5_rfc9562_a4)
{
    char s[OMNI_UUID_STRLEN];
    cr_assert_eq(omni_uuid5(s, OMNI_UUID_NS_DNS, "www.example.com", 15), OMNI_OK);
    cr_assert_str_eq(s, "2ed6657d-e927-568b-95e1-2665a8aea6a2");
    /* the namespace may come in any accepted form */
    cr_assert_eq(omni_uuid5(s, "urn:uuid:6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "www.example.com",
                            15),
                 OMNI_OK);
    cr_assert_str_eq(s, "2ed6657d-e927-568b-95e1-2665a8aea6a2");
}

Test(uuid, v5_properties)
{
    char a[OMNI_UUID_STRLEN], b[OMNI_UUID_STRLEN];
    /* deterministic; version 5 and variant 10 */
    cr_assert_eq(omni_uuid5(a, OMNI_UUID_NS_URL, "https://example.com/a", 21), OMNI_OK);
    cr_assert_eq(omni_uuid5(b, OMNI_UUID_NS_URL, "https://example.com/a", 21), OMNI_OK);
    cr_assert_str_eq(a, b);
    cr_assert_str_eq(a, "6639460f-3425-5329-8097-a58f06127860"); /* as Python's uuid.uuid5 */
    cr_assert_eq(a[14], '5');
    cr_assert(strchr("89ab", a[19]) != NULL);
    /* another namespace or name gives another UUID */
    cr_assert_eq(omni_uuid5(b, OMNI_UUID_NS_DNS, "https://example.com/a", 21), OMNI_OK);
    cr_assert_str_neq(a, b);
    cr_assert_eq(omni_uuid5(b, OMNI_UUID_NS_URL, "https://example.com/b", 21), OMNI_OK);
    cr_assert_str_neq(a, b);
    /* empty name; NULL with length 0 is the empty name */
    cr_assert_eq(omni_uuid5(a, OMNI_UUID_NS_DNS, "", 0), OMNI_OK);
    cr_assert_str_eq(a, "4ebd0208-8328-5d69-8c44-ec50939c0967");
    cr_assert_eq(omni_uuid5(b, OMNI_UUID_NS_DNS, NULL, 0), OMNI_OK);
    cr_assert_str_eq(a, b);
    /* names are bytes: an embedded NUL counts */
    cr_assert_eq(omni_uuid5(a, OMNI_UUID_NS_OID, "a\0b", 3), OMNI_OK);
    cr_assert_eq(omni_uuid5(b, OMNI_UUID_NS_OID, "a", 1), OMNI_OK);
    cr_assert_str_neq(a, b);
    cr_assert_eq(omni_uuid5(a, OMNI_UUID_NS_X500, "cn=x", 4), OMNI_OK);
    /* the largest name */
    char *big = calloc(1, OMNI_UUID_MAX_NAME + 1);
    cr_assert_eq(omni_uuid5(a, OMNI_UUID_NS_DNS, big, OMNI_UUID_MAX_NAME), OMNI_OK);
    cr_assert_eq(omni_uuid5(a, OMNI_UUID_NS_DNS, big, OMNI_UUID_MAX_NAME + 1), OMNI_ETOOLARGE);
    free(big);
}

Test(uuid, v5_errors)
{
    char s[OMNI_UUID_STRLEN];
    cr_assert_eq(omni_uuid5(s, "not-a-uuid", "x", 1), OMNI_EINVAL);
    cr_assert_eq(omni_uuid5(s, "", "x", 1), OMNI_EINVAL);
    cr_assert_eq(omni_uuid5(s, NULL, "x", 1), OMNI_EINVAL);
    cr_assert_eq(omni_uuid5(s, OMNI_UUID_NS_DNS, NULL, 1), OMNI_EINVAL);
    cr_assert_eq(omni_uuid5(NULL, OMNI_UUID_NS_DNS, "x", 1), OMNI_EINVAL);
    cr_assert_eq(omni_error_last()->status, OMNI_EINVAL);
}

/* ---- v7 ------------------------------------------------------------------ */

/* RFC 9562 Appendix A.6: unix_ts_ms 0x017F22E279B0, rand_a 0xCC3,
 * rand_b 0x18C4DC0C0C07398F. The random bytes r[0..9] map to UUID bytes
 * 6..15 with version and variant bits overwritten (see lib/core/uuid.c),
 * so r = 0C C3 18 C4 DC 0C 0C 07 39 8F. */
Test(uuid, v7_rfc9562_a6)
{
    fake f = {0x017F22E279B0LL, {0x0C, 0xC3, 0x18, 0xC4, 0xDC, 0x0C, 0x0C, 0x07, 0x39, 0x8F},
              0, 0};
    omni_engine *e = fake_engine(&f);
    char s[OMNI_UUID_STRLEN];
    cr_assert_eq(omni_uuid7(s, e), OMNI_OK);
    cr_assert_str_eq(s, "017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
    cr_assert_eq(f.calls, 1);
    /* same millisecond: the 74-bit random part counts up by one */
    cr_assert_eq(omni_uuid7(s, e), OMNI_OK);
    cr_assert_str_eq(s, "017f22e2-79b0-7cc3-98c4-dc0c0c073990");
    omni_engine_free(e);

    /* the bits under version and variant do not matter */
    fake g = {0x017F22E279B0LL, {0xFC, 0xC3, 0xD8, 0xC4, 0xDC, 0x0C, 0x0C, 0x07, 0x39, 0x8F},
              0, 0};
    e = fake_engine(&g);
    cr_assert_eq(omni_uuid7(s, e), OMNI_OK);
    cr_assert_str_eq(s, "017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
    omni_engine_free(e);

    /* the same instant from a configured fixed clock */
    const char *cfg = "{\"clock\":{\"fixed\":\"2022-02-22T19:22:22Z\"}}";
    cr_assert_eq(omni_engine_new(&e, cfg, strlen(cfg), NULL), OMNI_OK);
    cr_assert_eq(omni_uuid7(s, e), OMNI_OK);
    cr_assert_eq(strncmp(s, "017f22e2-79b0-7", 15), 0, "%s", s);
    omni_engine_free(e);
}

Test(uuid, v7_monotonic_frozen_clock)
{
    fake f = {1700000000000LL, {0}, 0, 0};
    for (int i = 0; i < 10; i++)
        f.bytes[i] = (uint8_t)(i * 37 + 11);
    omni_engine *e = fake_engine(&f);
    char prev[OMNI_UUID_STRLEN] = "", cur[OMNI_UUID_STRLEN];
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(omni_uuid7(cur, e), OMNI_OK);
        check_v7_bits(cur);
        cr_assert_gt(strcmp(cur, prev), 0, "%s after %s", cur, prev);
        cr_assert_eq(strncmp(cur, "018bcfe5-6800-", 14), 0, "timestamp kept: %s", cur);
        memcpy(prev, cur, sizeof(cur));
    }
    /* the clock steps back: still increasing, on the last timestamp */
    f.now -= 5000;
    cr_assert_eq(omni_uuid7(cur, e), OMNI_OK);
    cr_assert_gt(strcmp(cur, prev), 0);
    cr_assert_eq(strncmp(cur, "018bcfe5-6800-", 14), 0);
    memcpy(prev, cur, sizeof(cur));
    /* the clock moves on: the new timestamp with fresh random bits */
    f.now = 1700000000001LL;
    cr_assert_eq(omni_uuid7(cur, e), OMNI_OK);
    cr_assert_gt(strcmp(cur, prev), 0);
    cr_assert_eq(strncmp(cur, "018bcfe5-6801-", 14), 0, "%s", cur);
    omni_engine_free(e);
}

Test(uuid, v7_counter_carry)
{
    /* all random bits set: rand_a 0xFFF, rand_b 2^62-1; the next value
     * carries into the timestamp */
    fake f = {0x0123456789ABLL, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, 0,
              0};
    omni_engine *e = fake_engine(&f);
    char s[OMNI_UUID_STRLEN];
    cr_assert_eq(omni_uuid7(s, e), OMNI_OK);
    cr_assert_str_eq(s, "01234567-89ab-7fff-bfff-ffffffffffff");
    cr_assert_eq(omni_uuid7(s, e), OMNI_OK);
    cr_assert_str_eq(s, "01234567-89ac-7000-8000-000000000000");
    cr_assert_eq(omni_uuid7(s, e), OMNI_OK);
    cr_assert_str_eq(s, "01234567-89ac-7000-8000-000000000001");
    omni_engine_free(e);

    /* rand_b alone overflows into rand_a */
    fake g = {0x0123456789ABLL, {0x00, 0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, 0,
              0};
    e = fake_engine(&g);
    cr_assert_eq(omni_uuid7(s, e), OMNI_OK);
    cr_assert_str_eq(s, "01234567-89ab-7005-bfff-ffffffffffff");
    cr_assert_eq(omni_uuid7(s, e), OMNI_OK);
    cr_assert_str_eq(s, "01234567-89ab-7006-8000-000000000000");
    omni_engine_free(e);
}

Test(uuid, v7_clock_limits)
{
    /* before 1970 clamps to 0; beyond 48 bits clamps to the maximum */
    fake f = {-5, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0, 0};
    omni_engine *e = fake_engine(&f);
    char s[OMNI_UUID_STRLEN];
    cr_assert_eq(omni_uuid7(s, e), OMNI_OK);
    cr_assert_eq(strncmp(s, "00000000-0000-7", 15), 0, "%s", s);
    f.now = INT64_MAX;
    cr_assert_eq(omni_uuid7(s, e), OMNI_OK);
    cr_assert_eq(strncmp(s, "ffffffff-ffff-7", 15), 0, "%s", s);
    omni_engine_free(e);
    /* at the very last value nothing larger is left */
    fake g = {INT64_MAX, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, 0, 0};
    e = fake_engine(&g);
    cr_assert_eq(omni_uuid7(s, e), OMNI_OK);
    cr_assert_str_eq(s, "ffffffff-ffff-7fff-bfff-ffffffffffff");
    cr_assert_eq(omni_uuid7(s, e), OMNI_EINTERNAL);
    omni_engine_free(e);
}

Test(uuid, v7_random_hook_failure)
{
    fake f = {1700000000000LL, {0}, OMNI_EHOOK, 0};
    omni_engine *e = fake_engine(&f);
    char s[OMNI_UUID_STRLEN];
    cr_assert_eq(omni_uuid7(s, e), OMNI_EHOOK);
    cr_assert_str_eq(omni_error_last_code(), "HOOK_FAILED");
    f.fail = 1; /* a positive return is a failure too */
    cr_assert_eq(omni_uuid7(s, e), OMNI_EHOOK);
    /* the failure left no state behind: the next value starts fresh */
    f.fail = 0;
    cr_assert_eq(omni_uuid7(s, e), OMNI_OK);
    cr_assert_str_eq(s, "018bcfe5-6800-7000-8000-000000000000");
    omni_engine_free(e);
    cr_assert_eq(omni_uuid7(NULL, NULL), OMNI_EINVAL);
}

Test(uuid, v7_system_and_seeded)
{
    char a[OMNI_UUID_STRLEN], b[OMNI_UUID_STRLEN];
    int64_t before = omni_engine_now_ms(NULL);
    cr_assert_eq(omni_uuid7(a, NULL), OMNI_OK);
    check_v7_bits(a);
    uint8_t u[16];
    cr_assert_eq(omni_uuid_parse(u, a, 36), OMNI_OK);
    int64_t ts = 0;
    for (int i = 0; i < 6; i++)
        ts = ts << 8 | u[i];
    cr_assert_geq(ts, before);
    cr_assert_leq(ts, omni_engine_now_ms(NULL));
    cr_assert_eq(omni_uuid7(b, NULL), OMNI_OK);
    cr_assert_str_neq(a, b);

    /* the engine's seeded generator locks the engine's mutex itself:
     * uuid7 must not hold it while asking for random bytes */
    const char *cfg = "{\"random\":{\"seed\":42},\"clock\":{\"fixed\":\"2024-01-01T00:00:00Z\"}}";
    omni_engine *e1, *e2;
    cr_assert_eq(omni_engine_new(&e1, cfg, strlen(cfg), NULL), OMNI_OK);
    cr_assert_eq(omni_engine_new(&e2, cfg, strlen(cfg), NULL), OMNI_OK);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(omni_uuid7(a, e1), OMNI_OK);
        cr_assert_eq(omni_uuid7(b, e2), OMNI_OK);
        cr_assert_str_eq(a, b, "seeded engines are reproducible");
        check_v7_bits(a);
    }
    omni_engine_free(e1);
    omni_engine_free(e2);
}

#define THREADS 4
#define PER_THREAD 1000

typedef struct worker {
    omni_engine *e;
    char (*out)[OMNI_UUID_STRLEN];
    int rc;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < PER_THREAD && !w->rc; i++)
        w->rc = omni_uuid7(w->out[i], w->e);
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

Test(uuid, v7_threads_unique)
{
    const char *cfg = "{\"clock\":{\"fixed\":\"2024-01-01T00:00:00Z\"}}";
    omni_engine *e;
    cr_assert_eq(omni_engine_new(&e, cfg, strlen(cfg), NULL), OMNI_OK);
    char (*all)[OMNI_UUID_STRLEN] = calloc(THREADS * PER_THREAD, OMNI_UUID_STRLEN);
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){e, all + i * PER_THREAD, 0};
        cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(w[i].rc, OMNI_OK);
        /* each thread sees its own values increasing */
        for (int k = 1; k < PER_THREAD; k++)
            cr_assert_gt(strcmp(w[i].out[k], w[i].out[k - 1]), 0);
    }
    qsort(all, THREADS * PER_THREAD, OMNI_UUID_STRLEN, cmp_str);
    for (int k = 1; k < THREADS * PER_THREAD; k++)
        cr_assert_neq(strcmp(all[k], all[k - 1]), 0, "duplicate %s", all[k]);
    free(all);
    omni_engine_free(e);
}
