/* The normalized event writer shared by the carrier adapters (message
 * events in seed 001's IdentityLookupEvent shape, delivery-status events,
 * the HTTP answer to the carrier), host adapters' omni_event_emit, and the
 * small helpers adapters share (settings, errors, the decoded body cached
 * per request, carrier addresses as E.164, sorting form fields). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <omni/omni.h>

#include "carrier_internal.h"
#include "core/codec.h"
#include "core/error.h"
#include "core/json.h"
#include "identity/identity_internal.h"

/* Largest carrier message id accepted in an event. */
#define MAX_MESSAGE_ID 1024

/* ---- errors and settings --------------------------------------------------- */

int omni__carrier_bad_signature(const char *carrier, const char *why)
{
    return omni__err(OMNI_ESIGNATURE, "%s webhook: signature check failed: %s", carrier, why);
}

int omni__carrier_malformed(const char *carrier, const char *why)
{
    return omni__err(OMNI_EWEBHOOK, "%s webhook is malformed: %s", carrier, why);
}

int omni__carrier_bad_setting(const char *carrier, const char *member, const char *why)
{
    omni_buf d = OMNI_BUF_INIT;
    char path[128];
    snprintf(path, sizeof(path), "carriers.%s.%s", carrier, member);
    omni__json_w_obj_begin(&d);
    omni__json_w_key(&d, "path");
    omni__json_w_str(&d, path);
    omni__json_w_obj_end(&d);
    int rc = omni__err_details(OMNI_ECONFIG, d.failed ? NULL : d.data, "configuration: %s: %s",
                               path, why);
    omni__buf_free(&d);
    return rc;
}

const char *omni__carrier_setting(const omni__carrier_req *r, const char *name)
{
    if (!r || !r->settings || !name)
        return NULL;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(r->settings, name);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

int omni__carrier_verify_off(const omni__carrier_req *r)
{
    if (!r || !r->settings)
        return 0;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(r->settings, "verify");
    return cJSON_IsFalse(it);
}

/* ---- the per-request cache ------------------------------------------------- */

void omni__carrier_scratch_free(struct omni__carrier_scratch *s)
{
    if (!s)
        return;
    if (s->has_form)
        omni__pairs_free(&s->form);
    if (s->has_query)
        omni__pairs_free(&s->query);
    cJSON_Delete(s->json);
    *s = (struct omni__carrier_scratch)OMNI__CARRIER_SCRATCH_INIT;
}

/* Re-reports the last error (a codec or JSON error) as a malformed webhook
 * of `carrier`, keeping size and memory errors. */
static int malformed_from_last(int rc, const char *carrier, const char *what)
{
    if (rc == OMNI_ENOMEM || rc == OMNI_ETOOLARGE)
        return rc;
    char msg[512];
    snprintf(msg, sizeof(msg), "%s: %s", what, omni_error_last_message());
    return omni__carrier_malformed(carrier, msg);
}

int omni__carrier_query(const omni__carrier_req *r, const char *carrier,
                        const omni__pairs **out)
{
    struct omni__carrier_scratch *s = r->scratch;
    if (!s)
        return omni__err(OMNI_EINTERNAL, "carrier request has no scratch space");
    if (!s->has_query) {
        const char *url = r->req ? omni_webhook_url(r->req) : NULL;
        const char *q = url ? strchr(url, '?') : NULL;
        size_t n = 0;
        if (q) {
            q++;
            n = strcspn(q, "#");
        }
        int rc = omni__form_parse(&s->query, q ? q : "", n);
        if (rc)
            return malformed_from_last(rc, carrier, "the URL's query");
        s->has_query = 1;
    }
    *out = &s->query;
    return OMNI_OK;
}

int omni__carrier_form(const omni__carrier_req *r, const char *carrier, const omni__pairs **out)
{
    struct omni__carrier_scratch *s = r->scratch;
    if (!s)
        return omni__err(OMNI_EINTERNAL, "carrier request has no scratch space");
    if (r->method && strcmp(r->method, "GET") == 0)
        return omni__carrier_query(r, carrier, out);
    if (!s->has_form) {
        int rc = omni__form_parse(&s->form, r->body, r->body_len);
        if (rc)
            return malformed_from_last(rc, carrier, "the form body");
        s->has_form = 1;
    }
    *out = &s->form;
    return OMNI_OK;
}

int omni__carrier_json(const omni__carrier_req *r, const char *carrier, const cJSON **out)
{
    struct omni__carrier_scratch *s = r->scratch;
    if (!s)
        return omni__err(OMNI_EINTERNAL, "carrier request has no scratch space");
    if (!s->json) {
        int rc = omni__json_parse(&s->json, r->body, r->body_len, 0, "body");
        if (rc)
            return malformed_from_last(rc, carrier, "the JSON body");
    }
    *out = s->json;
    return OMNI_OK;
}

/* ---- phone numbers ------------------------------------------------------- */

static int ieq_prefix(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != *prefix)
            return 0;
    }
    return 1;
}

int omni__carrier_e164(char *out, const omni__carrier_req *r, const char *address)
{
    if (!address)
        return 0;
    static const char *const prefixes[] = {"tel:", "sms:", "whatsapp:", "wa:", NULL};
    for (size_t i = 0; prefixes[i]; i++) {
        if (ieq_prefix(address, prefixes[i])) {
            address += strlen(prefixes[i]);
            break;
        }
    }
    size_t n = strlen(address);
    if (n == 0 || n > OMNI_PHONE_MAX_INPUT)
        return 0;
    const char *region = r ? r->default_region : NULL;
    /* Digits without '+' and no region: international digits. The region
     * of the number is not needed here (the hot-path flag skips the +1
     * area-code search); the E.164 result is the same. */
    unsigned flags = OMNI__PHONE_NO_REGION;
    if (address[0] >= '0' && address[0] <= '9' && !region)
        flags |= OMNI__PHONE_INTERNATIONAL;
    omni__phone p;
    if (omni__phone_parse(&p, address, n, region, flags) != OMNI_OK)
        return 0;
    memcpy(out, p.e164, OMNI_E164_STRLEN);
    return 1;
}

int omni__carrier_is_short_code(const char *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (; s[n]; n++)
        if (s[n] < '0' || s[n] > '9')
            return 0;
    return n >= 3 && n <= 8;
}

/* ---- sorting form fields ----------------------------------------------------- */

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c;
    return (an > bn) - (an < bn);
}

static int pair_cmp(const omni__pairs *p, size_t x, size_t y, int by_value)
{
    const omni__pair *a = &p->items[x], *b = &p->items[y];
    /* Most names differ in their first byte (the NUL of an empty name
     * sorts first, as it should). */
    unsigned char fa = (unsigned char)a->name[0], fb = (unsigned char)b->name[0];
    if (fa != fb && a->name_len && b->name_len)
        return fa < fb ? -1 : 1;
    int c = cmp_bytes(a->name, a->name_len, b->name, b->name_len);
    if (!c && by_value)
        c = cmp_bytes(a->value, a->value_len, b->value, b->value_len);
    if (!c)
        c = (x > y) - (x < y);
    return c;
}

void omni__pairs_sort(size_t *idx, size_t *tmp, size_t n, const omni__pairs *p, int by_value)
{
    /* Insertion sort for short runs, then bottom-up merging. */
    const size_t run = 16;
    for (size_t lo = 0; lo < n; lo += run) {
        size_t hi = lo + run < n ? lo + run : n;
        for (size_t i = lo + 1; i < hi; i++) {
            size_t v = idx[i], j = i;
            while (j > lo && pair_cmp(p, idx[j - 1], v, by_value) > 0) {
                idx[j] = idx[j - 1];
                j--;
            }
            idx[j] = v;
        }
    }
    size_t *src = idx, *dst = tmp;
    for (size_t width = run; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = pair_cmp(p, src[i], src[j], by_value) <= 0 ? src[i++] : src[j++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        size_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != idx)
        memcpy(idx, src, n * sizeof(*idx));
}

/* ---- correlation ids --------------------------------------------------------- */

struct omni__uuid_ns {
    EVP_MD_CTX *ctx; /* SHA-1 after the 16 namespace bytes */
};

int omni__uuid_ns_new(omni__uuid_ns **out)
{
    *out = NULL;
    uint8_t ns[16];
    if (omni_uuid_parse(ns, OMNI_CARRIER_MESSAGE_NAMESPACE,
                        strlen(OMNI_CARRIER_MESSAGE_NAMESPACE)))
        return omni__err(OMNI_EINTERNAL, "the correlation namespace is not a UUID");
    omni__uuid_ns *u = calloc(1, sizeof(*u));
    if (!u)
        return omni__err(OMNI_ENOMEM, NULL);
    ERR_set_mark();
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA1", NULL);
    u->ctx = EVP_MD_CTX_new();
    int ok = md && u->ctx && EVP_DigestInit_ex(u->ctx, md, NULL) == 1 &&
             EVP_DigestUpdate(u->ctx, ns, sizeof(ns)) == 1;
    EVP_MD_free(md); /* the context keeps its own reference */
    ERR_pop_to_mark();
    if (!ok) {
        omni__uuid_ns_free(u);
        return omni__err(OMNI_ECRYPTO, "preparing SHA-1 for correlation ids failed");
    }
    *out = u;
    return OMNI_OK;
}

void omni__uuid_ns_free(omni__uuid_ns *u)
{
    if (!u)
        return;
    EVP_MD_CTX_free(u->ctx);
    free(u);
}

void omni__uuid_md_free(void *md)
{
    EVP_MD_CTX_free(md);
}

int omni__correlation_id(char out[OMNI_UUID_STRLEN], const char *carrier, const char *message_id,
                         const omni__uuid_ns *ns, void **md)
{
    char name[64 + MAX_MESSAGE_ID + 2];
    size_t cn = strlen(carrier), mn = strlen(message_id);
    if (cn > 64 || mn > MAX_MESSAGE_ID)
        return omni__err(OMNI_EWEBHOOK, "%s webhook: a message id is over %d bytes", carrier,
                         MAX_MESSAGE_ID);
    memcpy(name, carrier, cn);
    name[cn] = ':';
    memcpy(name + cn + 1, message_id, mn);
    if (!ns || !md)
        return omni_uuid5(out, OMNI_CARRIER_MESSAGE_NAMESPACE, name, cn + 1 + mn);
    /* RFC 9562 section 5.5: SHA-1 over namespace || name, first 16 bytes,
     * version 5, variant 10. The namespace part is already hashed. */
    if (!*md && !(*md = EVP_MD_CTX_new()))
        return omni__err(OMNI_ENOMEM, NULL);
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    ERR_set_mark();
    int ok = EVP_MD_CTX_copy_ex(*md, ns->ctx) == 1 &&
             EVP_DigestUpdate(*md, name, cn + 1 + mn) == 1 &&
             EVP_DigestFinal_ex(*md, digest, &dn) == 1 && dn >= 16;
    ERR_pop_to_mark();
    if (!ok)
        return omni__err(OMNI_ECRYPTO, "correlation id: SHA-1 failed");
    digest[6] = (uint8_t)((digest[6] & 0x0F) | 0x50);
    digest[8] = (uint8_t)((digest[8] & 0x3F) | 0x80);
    return omni_uuid_format(out, digest);
}

/* ---- rawPayload ---------------------------------------------------------------- */

/* Copies a JSON text that is known to be valid without the whitespace
 * between tokens: runs of ordinary bytes are copied at once. */
static void minify(omni_buf *b, const char *s, size_t n)
{
    /* 1: whitespace, 2: a quote, 4: ends a run inside a string. */
    static const unsigned char cls[256] = {
        [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, ['"'] = 2 | 4, ['\\'] = 4};
    if (omni__buf_reserve(b, n))
        return;
    char *o = b->data + b->len;
    size_t k = 0, i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && !(cls[(unsigned char)s[i]] & 3))
            i++;
        memcpy(o + k, s + start, i - start);
        k += i - start;
        if (i >= n)
            break;
        if (cls[(unsigned char)s[i]] & 1) {
            i++;
            continue;
        }
        /* a string: copy through its closing quote */
        start = i++;
        for (;;) {
            while (i < n && !(cls[(unsigned char)s[i]] & 4))
                i++;
            if (i >= n)
                break;
            if (s[i] == '\\') {
                i += 2;
                continue;
            }
            i++; /* the closing quote */
            break;
        }
        if (i > n)
            i = n;
        memcpy(o + k, s + start, i - start);
        k += i - start;
    }
    b->len += k;
    b->data[b->len] = '\0';
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
/* Non-zero when one of the 8 bytes of w is c. */
#define HAS_BYTE(w, c) ((((w) ^ (ONES * (c))) - ONES) & ~((w) ^ (ONES * (c))) & HIGHS)

/* The length of s's prefix that JSON strings take as it is (no control
 * byte, quote or backslash), eight bytes at a time. */
static size_t plain_prefix(const char *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        /* a byte below 0x20 (a false alarm only stops the fast loop) */
        if (((w - ONES * 0x20) & ~w & HIGHS) | HAS_BYTE(w, '"') | HAS_BYTE(w, '\\'))
            break;
    }
    while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != '"' && s[i] != '\\')
        i++;
    return i;
}

/* A JSON string value: copied at once when nothing needs escaping. */
static void w_strn(omni_buf *b, const char *s, size_t n)
{
    if (plain_prefix(s, n) < n) {
        omni__json_w_strn(b, s, n);
        return;
    }
    omni__json_w_raw(b, "\"", 1); /* the separator, then the quote */
    omni__buf_append(b, s, n);
    omni__buf_putc(b, '"');
}

static void w_str(omni_buf *b, const char *s)
{
    if (s)
        w_strn(b, s, strlen(s));
    else
        omni__json_w_null(b);
}

/* A key given with its length (form names may hold NUL bytes). */
static void w_keyn(omni_buf *b, const char *name, size_t n)
{
    w_strn(b, name, n);
    omni__buf_putc(b, ':');
}

/* A constant key that needs no escaping. */
#define W_KEY(b, k) omni__json_w_raw((b), "\"" k "\":", sizeof(k) + 2)

/* Writes the form fields as an object: names in order of first appearance,
 * a repeated name as the array of its values in body order. */
static int same_name(const omni__pair *a, const omni__pair *b)
{
    return a->name_len == b->name_len && (a->name_len == 0 || (a->name[0] == b->name[0] &&
                                                               memcmp(a->name, b->name,
                                                                      a->name_len) == 0));
}

/* 1 when two fields share a name; n <= 64 (a small open-addressing set). */
static int has_repeated_name(const omni__pairs *p)
{
    unsigned char slot[128] = {0}; /* index + 1 */
    for (size_t i = 0; i < p->count; i++) {
        const omni__pair *a = &p->items[i];
        size_t h = (a->name_len * 31u + (unsigned char)a->name[0] * 7u +
                    (a->name_len ? (unsigned char)a->name[a->name_len - 1] : 0u)) & 127u;
        while (slot[h]) {
            if (same_name(a, &p->items[slot[h] - 1]))
                return 1;
            h = (h + 1) & 127u;
        }
        slot[h] = (unsigned char)(i + 1);
    }
    return 0;
}

/* "name":"value" (after a comma unless first), copied at once when neither
 * needs escaping. */
static void w_member(omni_buf *b, const omni__pair *a, int first)
{
    size_t need = a->name_len + a->value_len + 6;
    if (plain_prefix(a->name, a->name_len) == a->name_len &&
        plain_prefix(a->value, a->value_len) == a->value_len && !omni__buf_reserve(b, need)) {
        char *o = b->data + b->len;
        size_t k = 0;
        if (!first)
            o[k++] = ',';
        o[k++] = '"';
        memcpy(o + k, a->name, a->name_len);
        k += a->name_len;
        memcpy(o + k, "\":\"", 3);
        k += 3;
        memcpy(o + k, a->value, a->value_len);
        k += a->value_len;
        o[k++] = '"';
        b->len += k;
        b->data[b->len] = '\0';
        return;
    }
    w_keyn(b, a->name, a->name_len);
    w_strn(b, a->value, a->value_len);
}

static int write_pairs_object(omni_buf *b, const omni__pairs *p)
{
    size_t n = p->count;
    omni__json_w_obj_begin(b);
    if (n <= 64 && !has_repeated_name(p)) {
        size_t total = 2;
        for (size_t i = 0; i < n; i++)
            total += p->items[i].name_len + p->items[i].value_len + 6;
        omni__buf_reserve(b, total);
        for (size_t i = 0; i < n; i++)
            w_member(b, &p->items[i], i == 0);
        omni__json_w_obj_end(b);
        return OMNI_OK;
    }
    if (n <= 32) {
        for (size_t i = 0; i < n; i++) {
            const omni__pair *a = &p->items[i];
            size_t j = 0, same = 0;
            for (; j < i; j++)
                if (same_name(a, &p->items[j]))
                    break;
            if (j < i)
                continue; /* written with its first occurrence */
            for (size_t k = i + 1; k < n; k++)
                same += same_name(a, &p->items[k]);
            w_keyn(b, a->name, a->name_len);
            if (!same) {
                w_strn(b, a->value, a->value_len);
                continue;
            }
            omni__json_w_arr_begin(b);
            for (size_t k = i; k < n; k++)
                if (same_name(a, &p->items[k]))
                    w_strn(b, p->items[k].value, p->items[k].value_len);
            omni__json_w_arr_end(b);
        }
        omni__json_w_obj_end(b);
        return OMNI_OK;
    }
    /* Many fields: group them through a stable sort by name. */
    size_t *idx = malloc(3 * n * sizeof(size_t));
    if (!idx)
        return omni__err(OMNI_ENOMEM, NULL);
    size_t *tmp = idx + n, *group = idx + 2 * n; /* group[i]: start in idx, or SIZE_MAX */
    for (size_t i = 0; i < n; i++) {
        idx[i] = i;
        group[i] = SIZE_MAX;
    }
    omni__pairs_sort(idx, tmp, n, p, 0);
    for (size_t s = 0; s < n;) {
        size_t e = s + 1;
        const omni__pair *a = &p->items[idx[s]];
        while (e < n && !cmp_bytes(a->name, a->name_len, p->items[idx[e]].name,
                                   p->items[idx[e]].name_len))
            e++;
        group[idx[s]] = s; /* idx[s] is the group's first occurrence (stable) */
        tmp[s] = e - s;    /* the group's size, kept at its start */
        s = e;
    }
    for (size_t i = 0; i < n; i++) {
        if (group[i] == SIZE_MAX)
            continue;
        size_t s = group[i], cnt = tmp[s];
        const omni__pair *a = &p->items[i];
        w_keyn(b, a->name, a->name_len);
        if (cnt == 1) {
            w_strn(b, a->value, a->value_len);
            continue;
        }
        omni__json_w_arr_begin(b);
        for (size_t k = s; k < s + cnt; k++)
            w_strn(b, p->items[idx[k]].value, p->items[idx[k]].value_len);
        omni__json_w_arr_end(b);
    }
    omni__json_w_obj_end(b);
    free(idx);
    return OMNI_OK;
}

int omni__events_raw_pairs(omni__events *ev, const omni__pairs *pairs)
{
    omni__buf_reset(&ev->raw);
    int rc = write_pairs_object(&ev->raw, pairs);
    if (rc)
        return rc;
    if ((rc = omni__buf_status(&ev->raw)))
        return rc;
    ev->raw_state = 1;
    return OMNI_OK;
}

static int is_json_start(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i < n && (s[i] == '{' || s[i] == '[');
}

/* Builds the default rawPayload from the request once. */
static int ensure_raw(omni__events *ev, const omni__carrier_req *r)
{
    if (ev->raw_state)
        return OMNI_OK;
    omni__buf_reset(&ev->raw);
    const struct omni__carrier_scratch *s = r ? r->scratch : NULL;
    const char *body = r ? r->body : "";
    size_t len = r ? r->body_len : 0;
    int rc;
    if (s && s->json) {
        minify(&ev->raw, body, len);
    } else if (s && s->has_form && r->method && strcmp(r->method, "GET") != 0) {
        return omni__events_raw_pairs(ev, &s->form);
    } else if (s && s->has_query && r->method && strcmp(r->method, "GET") == 0) {
        return omni__events_raw_pairs(ev, &s->query);
    } else if (len && is_json_start(body, len) &&
               omni__json_validate(body, len, 0, "body") == OMNI_OK) {
        minify(&ev->raw, body, len);
    } else {
        omni__pairs p = OMNI__PAIRS_INIT;
        if (len && omni__form_parse(&p, body, len) == OMNI_OK) {
            rc = write_pairs_object(&ev->raw, &p);
            omni__pairs_free(&p);
            if (rc)
                return rc;
        } else {
            omni__buf_puts(&ev->raw, "{}");
        }
    }
    if ((rc = omni__buf_status(&ev->raw)))
        return rc;
    ev->raw_state = 1;
    return OMNI_OK;
}

/* ---- writers ------------------------------------------------------------------ */

static int one_of(const char *s, const char *const *set)
{
    if (!s)
        return 0;
    for (size_t i = 0; set[i]; i++)
        if (strcmp(s, set[i]) == 0)
            return 1;
    return 0;
}

static const char *const channel_types[] = {"sms", "mms", "chat", "voice", NULL};
static const char *const content_types[] = {"text", "media", "location", "contact", NULL};
static const char *const statuses[] = {"queued", "sent", "delivered", "read", "failed",
                                       "undelivered", NULL};
/* Members an adapter's `extra` may not override. */
static const char *const reserved[] = {
    "kind",    "correlationId", "carrier",   "channelType", "senderIdentifier",
    "recipientIdentifier", "message", "rawPayload", "media", "location",
    "contacts", "reply", "reaction", "senderName", "context",
    "carrierMessageId", "status", "errorCode", "errorMessage", "timestamp",
    "recipient", NULL};

static void w_opt(omni_buf *b, const char *key, const char *value)
{
    if (value) {
        omni__json_w_key(b, key);
        w_str(b, value);
    }
}

static int begin_event(omni__events *ev)
{
    if (ev->count >= ev->max_events)
        return omni__err(OMNI_ETOOLARGE, "%s webhook yields more than %zu events", ev->carrier,
                         ev->max_events);
    return OMNI_OK;
}

static int end_event(omni__events *ev, size_t mark)
{
    omni_buf *b = ev->out;
    if (b->failed)
        return omni__buf_status(b);
    (void)mark;
    ev->count++;
    return OMNI_OK;
}

static void write_extra(omni_buf *b, const cJSON *extra)
{
    if (!cJSON_IsObject(extra))
        return;
    for (const cJSON *c = extra->child; c; c = c->next) {
        if (!c->string || one_of(c->string, reserved))
            continue;
        omni__json_w_key(b, c->string);
        omni__json_w_item(b, c);
    }
}

int omni__event_message(omni__events *ev, const omni__carrier_req *r, const omni__message *m,
                        const cJSON *raw_payload)
{
    if (!ev || !m)
        return omni__err(OMNI_EINTERNAL, "event writer: NULL argument");
    const char *carrier = ev->carrier;
    if (!m->message_id || !m->message_id[0])
        return omni__carrier_malformed(carrier, "a message has no id");
    if (!one_of(m->channel_type, channel_types) || !one_of(m->content_type, content_types))
        return omni__err(OMNI_EINTERNAL, "%s adapter: bad channel or content type", carrier);
    int rc = begin_event(ev);
    if (rc)
        return rc;
    char ts[OMNI_TIME_STRLEN];
    if (omni_time_format(ts, sizeof(ts), m->timestamp_ms))
        return omni__carrier_malformed(carrier, "a message timestamp is out of range");
    char cid[OMNI_UUID_STRLEN];
    if ((rc = omni__correlation_id(cid, carrier, m->message_id, ev->ns, &ev->md)))
        return rc;
    if (!raw_payload && (rc = ensure_raw(ev, r ? r : ev->req)))
        return rc;

    omni_buf *b = ev->out;
    size_t mark = b->len;
    omni__json_w_obj_begin(b);
    W_KEY(b, "kind");
    omni__json_w_str(b, "message");
    W_KEY(b, "correlationId");
    omni__json_w_str(b, cid);
    W_KEY(b, "carrier");
    omni__json_w_str(b, carrier);
    W_KEY(b, "channelType");
    omni__json_w_str(b, m->channel_type);

    W_KEY(b, "senderIdentifier");
    omni__json_w_obj_begin(b);
    w_opt(b, "phoneNumber", m->sender_phone);
    w_opt(b, "userId", m->sender_user_id);
    w_opt(b, "sessionId", m->sender_session_id);
    w_opt(b, "email", m->sender_email);
    omni__json_w_obj_end(b);

    W_KEY(b, "recipientIdentifier");
    omni__json_w_obj_begin(b);
    w_opt(b, "phoneNumber", m->recipient_phone);
    w_opt(b, "shortCode", m->recipient_short_code);
    w_opt(b, "businessId", m->recipient_business_id);
    omni__json_w_obj_end(b);

    W_KEY(b, "message");
    omni__json_w_obj_begin(b);
    W_KEY(b, "id");
    w_str(b, m->message_id);
    W_KEY(b, "content");
    w_str(b, m->content ? m->content : "");
    W_KEY(b, "contentType");
    omni__json_w_str(b, m->content_type);
    size_t urls = 0;
    for (size_t i = 0; i < m->media_count; i++)
        urls += m->media[i].url != NULL;
    if (urls) {
        W_KEY(b, "mediaUrls");
        omni__json_w_arr_begin(b);
        for (size_t i = 0; i < m->media_count; i++)
            if (m->media[i].url)
                omni__json_w_str(b, m->media[i].url);
        omni__json_w_arr_end(b);
    }
    W_KEY(b, "timestamp");
    omni__json_w_str(b, ts);
    omni__json_w_obj_end(b);

    w_opt(b, "senderName", m->sender_name);
    if (m->media_count) {
        W_KEY(b, "media");
        omni__json_w_arr_begin(b);
        for (size_t i = 0; i < m->media_count; i++) {
            const omni__media *md = &m->media[i];
            omni__json_w_obj_begin(b);
            w_opt(b, "url", md->url);
            w_opt(b, "id", md->id);
            w_opt(b, "contentType", md->content_type);
            w_opt(b, "caption", md->caption);
            w_opt(b, "filename", md->filename);
            w_opt(b, "sha256", md->sha256);
            omni__json_w_obj_end(b);
        }
        omni__json_w_arr_end(b);
    }
    if (m->location) {
        W_KEY(b, "location");
        omni__json_w_item(b, m->location);
    }
    if (m->contacts) {
        W_KEY(b, "contacts");
        omni__json_w_item(b, m->contacts);
    }
    if (m->reply_id || m->reply_title) {
        W_KEY(b, "reply");
        omni__json_w_obj_begin(b);
        w_opt(b, "id", m->reply_id);
        w_opt(b, "title", m->reply_title);
        omni__json_w_obj_end(b);
    }
    if (m->reaction_message_id || m->reaction_emoji) {
        W_KEY(b, "reaction");
        omni__json_w_obj_begin(b);
        w_opt(b, "messageId", m->reaction_message_id);
        w_opt(b, "emoji", m->reaction_emoji);
        omni__json_w_obj_end(b);
    }
    if (m->context_message_id) {
        W_KEY(b, "context");
        omni__json_w_obj_begin(b);
        w_opt(b, "messageId", m->context_message_id);
        omni__json_w_obj_end(b);
    }
    write_extra(b, m->extra);
    W_KEY(b, "rawPayload");
    if (raw_payload)
        omni__json_w_item(b, raw_payload);
    else
        omni__json_w_raw(b, ev->raw.data, ev->raw.len);
    omni__json_w_obj_end(b);
    return end_event(ev, mark);
}

int omni__event_status(omni__events *ev, const omni__carrier_req *r, const omni__status_event *s)
{
    (void)r;
    if (!ev || !s)
        return omni__err(OMNI_EINTERNAL, "event writer: NULL argument");
    const char *carrier = ev->carrier;
    if (!s->carrier_message_id || !s->carrier_message_id[0])
        return omni__carrier_malformed(carrier, "a status callback has no message id");
    if (!one_of(s->status, statuses))
        return omni__err(OMNI_EINTERNAL, "%s adapter: bad status", carrier);
    int rc = begin_event(ev);
    if (rc)
        return rc;
    char ts[OMNI_TIME_STRLEN];
    if (omni_time_format(ts, sizeof(ts), s->timestamp_ms))
        return omni__carrier_malformed(carrier, "a status timestamp is out of range");
    char cid[OMNI_UUID_STRLEN];
    if ((rc = omni__correlation_id(cid, carrier, s->carrier_message_id, ev->ns, &ev->md)))
        return rc;
    omni_buf *b = ev->out;
    size_t mark = b->len;
    omni__json_w_obj_begin(b);
    W_KEY(b, "kind");
    omni__json_w_str(b, "status");
    W_KEY(b, "correlationId");
    omni__json_w_str(b, cid);
    W_KEY(b, "carrier");
    omni__json_w_str(b, carrier);
    W_KEY(b, "carrierMessageId");
    w_str(b, s->carrier_message_id);
    W_KEY(b, "status");
    omni__json_w_str(b, s->status);
    w_opt(b, "errorCode", s->error_code);
    w_opt(b, "errorMessage", s->error_message);
    W_KEY(b, "timestamp");
    omni__json_w_str(b, ts);
    w_opt(b, "recipient", s->recipient);
    omni__json_w_obj_end(b);
    return end_event(ev, mark);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int omni__events_respond(omni__events *ev, int status, const char *content_type, const char *body)
{
    if (!ev || status < 100 || status > 599)
        return omni__err(OMNI_EINTERNAL, "event writer: bad response");
    char *ct = dup_or_null(content_type), *bd = dup_or_null(body);
    if ((content_type && !ct) || (body && !bd)) {
        free(ct);
        free(bd);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    free(ev->resp_content_type);
    free(ev->resp_body);
    ev->resp_status = status;
    ev->resp_content_type = ct;
    ev->resp_body = bd;
    return OMNI_OK;
}

void omni__events_begin(omni__events *ev, omni_buf *out, const char *carrier,
                        const omni__carrier_req *r, const omni__uuid_ns *ns)
{
    *ev = (omni__events){out,  carrier, 0, OMNI_WEBHOOK_MAX_EVENTS, 200, NULL, NULL,
                         OMNI_BUF_INIT, 0, r, ns, NULL};
    omni__json_w_key(out, "events");
    omni__json_w_arr_begin(out);
}

void omni__events_end(omni__events *ev)
{
    omni__json_w_arr_end(ev->out);
}

void omni__events_write_response(omni__events *ev)
{
    omni_buf *b = ev->out;
    omni__json_w_key(b, "response");
    omni__json_w_obj_begin(b);
    char status[4] = {(char)('0' + ev->resp_status / 100), (char)('0' + ev->resp_status / 10 % 10),
                      (char)('0' + ev->resp_status % 10), '\0'};
    omni__json_w_key(b, "status");
    omni__json_w_raw(b, status, 3);
    omni__json_w_key(b, "headers");
    omni__json_w_obj_begin(b);
    w_opt(b, "Content-Type", ev->resp_content_type);
    omni__json_w_obj_end(b);
    omni__json_w_key(b, "body");
    omni__json_w_str(b, ev->resp_body ? ev->resp_body : "");
    omni__json_w_obj_end(b);
}

void omni__events_free(omni__events *ev)
{
    if (!ev)
        return;
    free(ev->resp_content_type);
    free(ev->resp_body);
    omni__buf_free(&ev->raw);
    EVP_MD_CTX_free(ev->md);
    ev->md = NULL;
    ev->resp_content_type = ev->resp_body = NULL;
}

/* ---- host adapters' events ---------------------------------------------------- */

int omni_event_emit(omni_event_sink *sink, const char *event_json, size_t len)
{
    if (!sink || !sink->ev)
        return omni__err(OMNI_EINVAL, "event sink is NULL or no longer valid");
    if (!event_json && len)
        return omni__err(OMNI_EINVAL, "event JSON is NULL");
    omni__events *ev = sink->ev;
    cJSON *root;
    int rc = omni__json_parse(&root, event_json, len, 0, "event");
    if (rc)
        return rc;
    const char *kind = omni__json_str(root, "kind");
    const char *id = NULL;
    if (!cJSON_IsObject(root)) {
        rc = omni__err(OMNI_EINVAL, "event must be a JSON object");
    } else if (!kind || (strcmp(kind, "message") != 0 && strcmp(kind, "status") != 0)) {
        rc = omni__err(OMNI_EINVAL, "event \"kind\" must be \"message\" or \"status\"");
    } else if (strcmp(kind, "message") == 0) {
        id = omni__json_str(root, "message.id");
        if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "message")) || !id || !*id)
            rc = omni__err(OMNI_EINVAL, "message event needs \"message\": {\"id\": \"...\"}");
    } else {
        id = omni__json_str(root, "carrierMessageId");
        if (!id || !*id)
            rc = omni__err(OMNI_EINVAL, "status event needs a \"carrierMessageId\" string");
        else if (!one_of(omni__json_str(root, "status"), statuses))
            rc = omni__err(OMNI_EINVAL, "status event \"status\" must be one of queued, sent, "
                                        "delivered, read, failed, undelivered");
    }
    const char *given = omni__json_str(root, "correlationId");
    char cid[OMNI_UUID_STRLEN];
    if (!rc && !given)
        rc = omni__correlation_id(cid, ev->carrier, id, ev->ns, &ev->md);
    if (!rc)
        rc = begin_event(ev);
    if (rc) {
        cJSON_Delete(root);
        return rc;
    }
    omni_buf *b = ev->out;
    omni__json_w_obj_begin(b);
    omni__json_w_key(b, "kind");
    omni__json_w_str(b, kind);
    omni__json_w_key(b, "correlationId");
    omni__json_w_str(b, given ? given : cid);
    omni__json_w_key(b, "carrier");
    omni__json_w_str(b, ev->carrier);
    for (const cJSON *c = root->child; c; c = c->next) {
        const char *k = c->string ? c->string : "";
        if (!strcmp(k, "kind") || !strcmp(k, "correlationId") || !strcmp(k, "carrier"))
            continue;
        omni__json_w_key(b, k);
        omni__json_w_item(b, c);
    }
    omni__json_w_obj_end(b);
    cJSON_Delete(root);
    return end_event(ev, 0);
}

/* ---- HMAC with a prepared key ------------------------------------------------- */

struct omni__hmac_key {
    EVP_MD *md;
    EVP_MD_CTX *inner; /* after absorbing key ^ ipad */
    EVP_MD_CTX *outer; /* after absorbing key ^ opad */
    size_t size;
};

void omni__hmac_key_free(omni__hmac_key *k)
{
    if (!k)
        return;
    EVP_MD_CTX_free(k->inner);
    EVP_MD_CTX_free(k->outer);
    EVP_MD_free(k->md);
    free(k);
}

size_t omni__hmac_key_size(const omni__hmac_key *k)
{
    return k ? k->size : 0;
}

int omni__hmac_key_new(omni__hmac_key **out, int hash, const void *key, size_t key_len)
{
    *out = NULL;
    const char *name = hash == OMNI_HASH_SHA1 ? "SHA1" : hash == OMNI_HASH_SHA256 ? "SHA256" : NULL;
    if (!name || (!key && key_len))
        return omni__err(OMNI_EINVAL, "HMAC key: bad hash or key");
    omni__hmac_key *k = calloc(1, sizeof(*k));
    if (!k)
        return omni__err(OMNI_ENOMEM, NULL);
    uint8_t block[128], pad[128], digest[EVP_MAX_MD_SIZE];
    int ok = 0;
    ERR_set_mark();
    k->md = EVP_MD_fetch(NULL, name, NULL);
    k->inner = EVP_MD_CTX_new();
    k->outer = EVP_MD_CTX_new();
    if (k->md && k->inner && k->outer) {
        size_t bs = (size_t)EVP_MD_get_block_size(k->md);
        k->size = (size_t)EVP_MD_get_size(k->md);
        if (bs > sizeof(block) || bs == 0)
            goto out;
        memset(block, 0, sizeof(block));
        if (key_len > bs) {
            unsigned int dn = 0;
            if (EVP_Digest(key, key_len, digest, &dn, k->md, NULL) != 1)
                goto out;
            memcpy(block, digest, dn);
        } else if (key_len) {
            memcpy(block, key, key_len);
        }
        for (size_t i = 0; i < bs; i++)
            pad[i] = block[i] ^ 0x36;
        if (EVP_DigestInit_ex(k->inner, k->md, NULL) != 1 ||
            EVP_DigestUpdate(k->inner, pad, bs) != 1)
            goto out;
        for (size_t i = 0; i < bs; i++)
            pad[i] = block[i] ^ 0x5c;
        if (EVP_DigestInit_ex(k->outer, k->md, NULL) != 1 ||
            EVP_DigestUpdate(k->outer, pad, bs) != 1)
            goto out;
        ok = 1;
    }
out:
    ERR_pop_to_mark();
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(digest, sizeof(digest));
    if (!ok) {
        omni__hmac_key_free(k);
        return omni__err(OMNI_ECRYPTO, "HMAC key: preparing the digest failed");
    }
    *out = k;
    return OMNI_OK;
}

int omni__hmac_init(omni__hmac *h, const omni__hmac_key *key)
{
    h->key = key;
    h->failed = 0;
    h->ctx = EVP_MD_CTX_new();
    return h->ctx ? OMNI_OK : omni__err(OMNI_ENOMEM, NULL);
}

void omni__hmac_begin(omni__hmac *h)
{
    h->failed = EVP_MD_CTX_copy_ex(h->ctx, h->key->inner) != 1;
}

void omni__hmac_update(omni__hmac *h, const void *data, size_t len)
{
    if (!h->failed && len && EVP_DigestUpdate(h->ctx, data, len) != 1)
        h->failed = 1;
}

int omni__hmac_final(omni__hmac *h, uint8_t *out)
{
    uint8_t inner[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    ERR_set_mark();
    int ok = !h->failed && EVP_DigestFinal_ex(h->ctx, inner, &n) == 1 &&
             EVP_MD_CTX_copy_ex(h->ctx, h->key->outer) == 1 &&
             EVP_DigestUpdate(h->ctx, inner, n) == 1 && EVP_DigestFinal_ex(h->ctx, out, &n) == 1;
    ERR_pop_to_mark();
    return ok ? OMNI_OK : OMNI_ECRYPTO;
}

void omni__hmac_release(omni__hmac *h)
{
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

int omni__hex_decode(uint8_t *out, const char *hex, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + k];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0)
                return 0;
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    return 1;
}
