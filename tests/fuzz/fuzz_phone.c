/* Fuzz target: the phone number parser (omni_phone_to_e164 / _parse), the
 * identity key and identifier canonicalization. An input "CC:rest" (two
 * letters and a colon) uses CC as the default region. Invariants: a result
 * is E.164 ('+' and at most 15 digits), parsing it again gives itself, its
 * parts agree with omni_phone_parse, and its identity key is valid E.164;
 * a failure leaves an empty output and a known status. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/json.h"
#include "lib/identity/identity_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_e164(const char *e)
{
    size_t n = strlen(e);
    if (n < 3 || n > 16 || e[0] != '+')
        abort();
    for (size_t i = 1; i < n; i++)
        if (e[i] < '0' || e[i] > '9')
            abort();
}

static void one(const char *raw, size_t len, const char *region, unsigned flags)
{
    omni__phone p;
    int rc = omni__phone_parse(&p, raw, len, region, flags);
    if (rc != OMNI_OK) {
        if (rc != OMNI_EIDENTIFIER && rc != OMNI_ETOOLARGE && rc != OMNI_EINVAL)
            abort();
        if (p.e164[0] != '\0' || p.region != NULL)
            abort();
        return;
    }
    check_e164(p.e164);
    if (!p.region || p.region->cc != p.cc || !omni__phone_nsn_valid(p.cc, p.nsn, p.nsn_len))
        abort();
    /* E.164 reads back as itself, without a region */
    char again[OMNI_E164_STRLEN];
    if (omni_phone_to_e164(again, sizeof(again), p.e164, strlen(p.e164), NULL) != OMNI_OK ||
        strcmp(again, p.e164) != 0)
        abort();
    unsigned cc;
    const char *nsn;
    size_t nsn_len;
    if (omni__phone_split_e164(p.e164, strlen(p.e164), &cc, &nsn, &nsn_len) != OMNI_OK ||
        cc != p.cc || nsn_len != p.nsn_len || memcmp(nsn, p.nsn, nsn_len) != 0)
        abort();
    char key[OMNI_E164_STRLEN];
    if (omni_phone_identity_key(key, sizeof(key), p.e164, OMNI_PHONE_BR_NINTH_DIGIT) != OMNI_OK)
        abort();
    check_e164(key);
    char key2[OMNI_E164_STRLEN];
    if (omni_phone_identity_key(key2, sizeof(key2), key, OMNI_PHONE_BR_NINTH_DIGIT) != OMNI_OK ||
        strcmp(key, key2) != 0)
        abort(); /* idempotent */
    if (!flags) {
        char *json = NULL;
        size_t jl = 0;
        if (omni_phone_parse(&json, &jl, raw, len, region) != OMNI_OK || !json ||
            !strstr(json, p.e164) || strlen(json) != jl ||
            omni__json_validate(json, jl, 0, "phone JSON") != OMNI_OK)
            abort();
        omni_free(json);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    const char *raw = (const char *)data;
    char region[3] = {0};
    const char *reg = NULL;
    if (size >= 3 && data[2] == ':' && data[0] >= 'A' && data[0] <= 'Z' && data[1] >= 'A' &&
        data[1] <= 'Z') {
        region[0] = (char)data[0];
        region[1] = (char)data[1];
        reg = region;
        raw += 3;
        size -= 3;
    }
    one(raw, size, reg, 0);
    one(raw, size, reg, OMNI__PHONE_INTERNATIONAL);
    /* canonicalization of link/unlink identifiers (NUL-terminated copy) */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, raw, size);
    s[size] = '\0';
    char canon[OMNI__IDENTIFIER_MAX + 1], key[OMNI__IDENTIFIER_MAX + 1];
    if (omni__identity_canonical(canon, sizeof(canon), s) == OMNI_OK) {
        if (omni__identity_key(key, sizeof(key), canon, strlen(canon), 1) != OMNI_OK &&
            (canon[0] == '+' || strncmp(canon, "wa:+", 4) == 0))
            abort();
    }
    free(s);
    return 0;
}
