/* DynamoDB Streams (seed 001's dynamoStream): the AttributeValue
 * unmarshaller and the converter from a DynamoStreamEvent to the change
 * events of omni/conversation.h.
 *
 * Both work on the tree of the strict parser. AttributeValues are checked
 * as DynamoDB defines them (one type per value; N a decimal of at most 38
 * significant digits with a decimal exponent in -130..125; B standard
 * base64; NULL true; sets non-empty and without duplicates; no repeated
 * attribute names) and written straight into the output. Change detection
 * compares unmarshalled values as JSON values (numbers by value, objects
 * whatever their member order). A record's problem never sets the thread's
 * last error: it becomes that record's "error". */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/conversation.h>
#include <omni/datetime.h>

#include "core/buf.h"
#include "core/error.h"
#include "conversation_internal.h"
#include "core/json.h"

#define ITEM_MAX_BYTES (4u * 1024u * 1024u)
#define STREAM_MAX_BYTES (6u * 1024u * 1024u)
#define STREAM_MAX_RECORDS 10000
#define NUM_MAX_DIGITS 38
#define NUM_MIN_EXP (-130)
#define NUM_MAX_EXP 125
#define SMALL_SORT 8 /* up to this many elements, pairwise comparisons */
#define MSG_CAP 200
#define PATH_CAP 120
#define KEY_SHOWN 32 /* bytes of an attribute name shown in a path */

/* 0000-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z */
#define TIME_MIN_MS (-62167219200000.0)
#define TIME_MAX_MS 253402300799999.0

/* ---- context: the first error, with the path where it happened ----------- */

typedef struct av_ctx {
    int status;  /* OMNI_OK, OMNI_EINVAL or OMNI_ENOMEM */
    int check;   /* 0: the values were checked already (no set/key scans) */
    char msg[PATH_CAP + MSG_CAP + 4];
    char path[PATH_CAP];
    size_t path_len;
} av_ctx;

static void ctx_init(av_ctx *c, int check)
{
    c->status = OMNI_OK;
    c->check = check;
    c->msg[0] = '\0';
    c->path[0] = '\0';
    c->path_len = 0;
}

static int fail(av_ctx *c, int status, const char *fmt, ...) OMNI__PRINTF(3, 4);

static int fail(av_ctx *c, int status, const char *fmt, ...)
{
    if (c->status)
        return c->status;
    c->status = status;
    char why[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (c->path_len)
        snprintf(c->msg, sizeof(c->msg), "%s: %s", c->path, why);
    else
        snprintf(c->msg, sizeof(c->msg), "%s", why);
    return status;
}

static void path_putc(av_ctx *c, char ch)
{
    if (c->path_len + 1 < sizeof(c->path)) {
        c->path[c->path_len++] = ch;
        c->path[c->path_len] = '\0';
    }
}

static void path_puts(av_ctx *c, const char *s)
{
    while (*s)
        path_putc(c, *s++);
}

/* Appends ".name" (printable ASCII kept, other bytes as '?', long names cut). */
static size_t path_key(av_ctx *c, const char *name)
{
    size_t mark = c->path_len;
    if (c->path_len)
        path_putc(c, '.');
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++, n++) {
        if (n == KEY_SHOWN) {
            path_puts(c, "...");
            break;
        }
        path_putc(c, *p >= 0x20 && *p < 0x7f ? (char)*p : '?');
    }
    return mark;
}

static size_t path_index(av_ctx *c, size_t i)
{
    size_t mark = c->path_len;
    char tmp[32];
    snprintf(tmp, sizeof(tmp), "[%zu]", i);
    path_puts(c, tmp);
    return mark;
}

static void path_pop(av_ctx *c, size_t mark)
{
    if (mark < sizeof(c->path)) {
        c->path_len = mark;
        c->path[mark] = '\0';
    }
}

/* ---- N: DynamoDB numbers ------------------------------------------------- */

/* A parsed number: the spans of its text and its value in canonical form
 * (sign, significant digits without leading or trailing zeros, and the
 * decimal exponent of the first digit). */
typedef struct dnum {
    int neg;
    size_t int_off, int_len;   /* digits before the point */
    size_t frac_off, frac_len; /* digits after the point */
    size_t exp_off;            /* 'e'/'E' (0: no exponent) */
    int nsig;                  /* 0: the value is zero */
    char sig[NUM_MAX_DIGITS];
    int64_t exp;
} dnum;

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Parses [+-]digits[.digits][(e|E)[+-]digits] (either digit run may be
 * empty, not both), as DynamoDB accepts it. Returns NULL or why not. */
static const char *dnum_parse(dnum *d, const char *s, size_t n)
{
    size_t i = 0;
    memset(d, 0, sizeof(*d));
    if (i < n && (s[i] == '+' || s[i] == '-'))
        d->neg = s[i++] == '-';
    d->int_off = i;
    while (i < n && is_digit(s[i]))
        i++;
    d->int_len = i - d->int_off;
    d->frac_off = i;
    if (i < n && s[i] == '.') {
        d->frac_off = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        d->frac_len = i - d->frac_off;
    }
    if (d->int_len + d->frac_len == 0)
        return "is not a number";
    int64_t ev = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        d->exp_off = i++;
        int eneg = 0;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        size_t start = i;
        while (i < n && is_digit(s[i])) {
            if (ev < 1000000000000LL) /* saturates: far outside the range */
                ev = ev * 10 + (s[i] - '0');
            i++;
        }
        if (i == start)
            return "is not a number";
        if (eneg)
            ev = -ev;
    }
    if (i != n)
        return "is not a number";

    /* The digits of both runs as one sequence. */
    size_t total = d->int_len + d->frac_len, first = total, last = 0;
    for (size_t k = 0; k < total; k++) {
        char ch = k < d->int_len ? s[d->int_off + k] : s[d->frac_off + k - d->int_len];
        if (ch != '0') {
            if (first == total)
                first = k;
            last = k;
        }
    }
    if (first == total)
        return NULL; /* zero, whatever its exponent */
    if (last - first + 1 > NUM_MAX_DIGITS)
        return "has more than 38 significant digits";
    d->exp = (int64_t)d->int_len - 1 - (int64_t)first + ev;
    if (d->exp > NUM_MAX_EXP)
        return "is larger than DynamoDB's 9.99...E+125";
    if (d->exp < NUM_MIN_EXP)
        return "is smaller than DynamoDB's 1E-130";
    for (size_t k = first; k <= last; k++)
        d->sig[d->nsig++] = k < d->int_len ? s[d->int_off + k] : s[d->frac_off + k - d->int_len];
    return NULL;
}

/* A total order that is equality of value (0 == -0, 1 == 1.0 == 10e-1). */
static int dnum_cmp(const dnum *a, const dnum *b)
{
    if (a->nsig == 0 || b->nsig == 0)
        return (a->nsig != 0) - (b->nsig != 0);
    if (a->neg != b->neg)
        return a->neg - b->neg;
    if (a->exp != b->exp)
        return a->exp < b->exp ? -1 : 1;
    int n = a->nsig < b->nsig ? a->nsig : b->nsig;
    int r = memcmp(a->sig, b->sig, (size_t)n);
    if (r)
        return r;
    return a->nsig - b->nsig;
}

/* Writes the number as JSON: the digits as written, without a '+' sign,
 * leading zeros or a bare point; "0" before a leading point. */
static void dnum_write(omni_buf *b, const dnum *d, const char *s, size_t n)
{
    size_t k = 0;
    while (k < d->int_len && s[d->int_off + k] == '0')
        k++;
    if (d->neg)
        omni__json_w_raw(b, "-", 1);
    if (k == d->int_len) {
        if (d->neg)
            omni__buf_putc(b, '0');
        else
            omni__json_w_raw(b, "0", 1);
    } else if (d->neg) {
        omni__buf_append(b, s + d->int_off + k, d->int_len - k);
    } else {
        omni__json_w_raw(b, s + d->int_off + k, d->int_len - k);
    }
    if (d->frac_len) {
        omni__buf_putc(b, '.');
        omni__buf_append(b, s + d->frac_off, d->frac_len);
    }
    if (d->exp_off)
        omni__buf_append(b, s + d->exp_off, n - d->exp_off);
}

static int num_cmp_text(const char *a, const char *b)
{
    dnum x, y;
    dnum_parse(&x, a, strlen(a));
    dnum_parse(&y, b, strlen(b));
    return dnum_cmp(&x, &y);
}

/* ---- B: standard base64 -------------------------------------------------- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* RFC 4648 section 4 with padding, canonical (zero trailing bits), as the
 * library's decoder accepts it. Returns NULL or why not. */
static const char *b64_check(const char *s, size_t n)
{
    if (n % 4)
        return "is not base64 (length not a multiple of 4)";
    size_t pad = 0;
    if (n && s[n - 1] == '=')
        pad = n >= 2 && s[n - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < n - pad; i++)
        if (b64_value((unsigned char)s[i]) < 0)
            return "is not base64 (invalid character)";
    if (pad == 1 && (b64_value((unsigned char)s[n - 2]) & 0x3))
        return "is not canonical base64 (non-zero trailing bits)";
    if (pad == 2 && (b64_value((unsigned char)s[n - 3]) & 0xF))
        return "is not canonical base64 (non-zero trailing bits)";
    return NULL;
}

/* ---- AttributeValue types ------------------------------------------------ */

enum { AV_S, AV_N, AV_B, AV_BOOL, AV_NULL, AV_M, AV_L, AV_SS, AV_NS, AV_BS, AV_COUNT };

static const char *const av_names[AV_COUNT] = {"S", "N", "B", "BOOL", "NULL",
                                               "M", "L", "SS", "NS", "BS"};

/* The type of an AttributeValue object with exactly one member, or -1. */
static int av_type(const cJSON *av, const cJSON **val)
{
    if (!cJSON_IsObject(av) || !av->child || av->child->next)
        return -1;
    for (int t = 0; t < AV_COUNT; t++) {
        if (strcmp(av->child->string, av_names[t]) == 0) {
            *val = av->child;
            return t;
        }
    }
    return -1;
}

/* As av_type, recording why an AttributeValue is malformed. */
static int av_split(av_ctx *c, const cJSON *av, const cJSON **val)
{
    int t = av_type(av, val);
    if (t >= 0)
        return t;
    if (!cJSON_IsObject(av))
        fail(c, OMNI_EINVAL, "AttributeValue is not an object");
    else if (!av->child)
        fail(c, OMNI_EINVAL, "AttributeValue has no type");
    else if (av->child->next)
        fail(c, OMNI_EINVAL, "AttributeValue has several types");
    else
        fail(c, OMNI_EINVAL, "AttributeValue has an unknown type");
    return -1;
}

/* ---- duplicates (set elements, attribute names) -------------------------- */

enum { DUP_KEY, DUP_STR, DUP_NUM };

static int cmp_key(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->valuestring,
                  (*(const cJSON *const *)b)->valuestring);
}

static int cmp_num(const void *a, const void *b)
{
    return num_cmp_text((*(const cJSON *const *)a)->valuestring,
                        (*(const cJSON *const *)b)->valuestring);
}

typedef int (*cmp_fn)(const void *, const void *);

static cmp_fn dup_cmp(int kind)
{
    return kind == DUP_KEY ? cmp_key : kind == DUP_STR ? cmp_str : cmp_num;
}

/* The children of a container in an allocated array, sorted by `kind`. */
static const cJSON **sorted_children(av_ctx *c, const cJSON *parent, size_t n, int kind)
{
    const cJSON **v = malloc(n * sizeof(*v));
    if (!v) {
        fail(c, OMNI_ENOMEM, "out of memory");
        return NULL;
    }
    size_t i = 0;
    for (const cJSON *e = parent->child; e && i < n; e = e->next)
        v[i++] = e;
    qsort(v, i, sizeof(*v), dup_cmp(kind));
    return v;
}

/* 1 when two children of parent (n of them, already valid) are equal by
 * `kind`, 0 when not, -1 out of memory. */
static int has_duplicate(av_ctx *c, const cJSON *parent, size_t n, int kind)
{
    cmp_fn cmp = dup_cmp(kind);
    if (n <= SMALL_SORT) {
        for (const cJSON *a = parent->child; a; a = a->next)
            for (const cJSON *b = a->next; b; b = b->next)
                if (cmp(&a, &b) == 0)
                    return 1;
        return 0;
    }
    const cJSON **v = sorted_children(c, parent, n, kind);
    if (!v)
        return -1;
    int dup = 0;
    for (size_t i = 1; i < n && !dup; i++)
        dup = cmp(&v[i - 1], &v[i]) == 0;
    free(v);
    return dup;
}

static size_t child_count(const cJSON *parent)
{
    size_t n = 0;
    for (const cJSON *e = parent->child; e; e = e->next)
        n++;
    return n;
}

/* ---- unmarshalling ------------------------------------------------------- */

static int av_emit(av_ctx *c, omni_buf *b, const cJSON *av);

/* An item or an M value: {"name": AttributeValue, ...} -> {"name": value}.
 * b NULL only checks. */
static int map_emit(av_ctx *c, omni_buf *b, const cJSON *obj)
{
    if (c->check) {
        int dup = has_duplicate(c, obj, child_count(obj), DUP_KEY);
        if (dup < 0)
            return c->status;
        if (dup)
            return fail(c, OMNI_EINVAL, "an attribute name is repeated");
    }
    if (b)
        omni__json_w_obj_begin(b);
    for (const cJSON *m = obj->child; m; m = m->next) {
        size_t mark = path_key(c, m->string);
        if (b)
            omni__json_w_key(b, m->string);
        int rc = av_emit(c, b, m);
        if (rc)
            return rc;
        path_pop(c, mark);
    }
    if (b)
        omni__json_w_obj_end(b);
    return OMNI_OK;
}

/* SS, NS, BS: a non-empty array of distinct strings of that kind. */
static int set_emit(av_ctx *c, omni_buf *b, int t, const cJSON *arr)
{
    const char *tn = av_names[t];
    if (!cJSON_IsArray(arr))
        return fail(c, OMNI_EINVAL, "%s is not an array", tn);
    if (!arr->child)
        return fail(c, OMNI_EINVAL, "%s is an empty set", tn);
    if (b)
        omni__json_w_arr_begin(b);
    size_t n = 0;
    for (const cJSON *e = arr->child; e; e = e->next, n++) {
        if (!cJSON_IsString(e))
            return fail(c, OMNI_EINVAL, "%s element %zu is not a string", tn, n);
        const char *s = e->valuestring;
        size_t len = strlen(s);
        if (t == AV_NS) {
            dnum d;
            const char *why = dnum_parse(&d, s, len);
            if (why)
                return fail(c, OMNI_EINVAL, "NS element %zu %s", n, why);
            if (b)
                dnum_write(b, &d, s, len);
            continue;
        }
        if (t == AV_BS) {
            const char *why = b64_check(s, len);
            if (why)
                return fail(c, OMNI_EINVAL, "BS element %zu %s", n, why);
        }
        if (b)
            omni__json_w_strn(b, s, len);
    }
    if (b)
        omni__json_w_arr_end(b);
    if (c->check) {
        int dup = has_duplicate(c, arr, n, t == AV_NS ? DUP_NUM : DUP_STR);
        if (dup < 0)
            return c->status;
        if (dup)
            return fail(c, OMNI_EINVAL, "%s has duplicate elements", tn);
    }
    return OMNI_OK;
}

/* Checks one AttributeValue and writes its plain JSON value (b NULL only
 * checks). Nesting is bounded by the parser's depth limit. */
static int av_emit(av_ctx *c, omni_buf *b, const cJSON *av)
{
    const cJSON *v = NULL;
    int t = av_split(c, av, &v);
    if (t < 0)
        return c->status;
    switch (t) {
    case AV_S:
        if (!cJSON_IsString(v))
            return fail(c, OMNI_EINVAL, "S is not a string");
        if (b)
            omni__json_w_str(b, v->valuestring);
        return OMNI_OK;
    case AV_N: {
        if (!cJSON_IsString(v))
            return fail(c, OMNI_EINVAL, "N is not a string");
        size_t len = strlen(v->valuestring);
        dnum d;
        const char *why = dnum_parse(&d, v->valuestring, len);
        if (why)
            return fail(c, OMNI_EINVAL, "N %s", why);
        if (b)
            dnum_write(b, &d, v->valuestring, len);
        return OMNI_OK;
    }
    case AV_B: {
        if (!cJSON_IsString(v))
            return fail(c, OMNI_EINVAL, "B is not a string");
        size_t len = strlen(v->valuestring);
        const char *why = b64_check(v->valuestring, len);
        if (why)
            return fail(c, OMNI_EINVAL, "B %s", why);
        if (b)
            omni__json_w_strn(b, v->valuestring, len);
        return OMNI_OK;
    }
    case AV_BOOL:
        if (!cJSON_IsBool(v))
            return fail(c, OMNI_EINVAL, "BOOL is not true or false");
        if (b)
            omni__json_w_bool(b, cJSON_IsTrue(v));
        return OMNI_OK;
    case AV_NULL:
        if (!cJSON_IsTrue(v))
            return fail(c, OMNI_EINVAL, "NULL is not true");
        if (b)
            omni__json_w_null(b);
        return OMNI_OK;
    case AV_M:
        if (!cJSON_IsObject(v))
            return fail(c, OMNI_EINVAL, "M is not an object");
        return map_emit(c, b, v);
    case AV_L: {
        if (!cJSON_IsArray(v))
            return fail(c, OMNI_EINVAL, "L is not an array");
        if (b)
            omni__json_w_arr_begin(b);
        size_t i = 0;
        for (const cJSON *e = v->child; e; e = e->next, i++) {
            size_t mark = path_index(c, i);
            int rc = av_emit(c, b, e);
            if (rc)
                return rc;
            path_pop(c, mark);
        }
        if (b)
            omni__json_w_arr_end(b);
        return OMNI_OK;
    }
    default:
        return set_emit(c, b, t, v);
    }
}

/* ---- equality of unmarshalled values ------------------------------------- */

/* A value: its AttributeValue type and payload (the member's value), or a
 * set element (type S, N or B, payload the string); absent is NULL. */
typedef struct val {
    int type;
    const cJSON *v;
} val;

static val val_of(const cJSON *av)
{
    val x = {AV_NULL, NULL};
    if (av)
        x.type = av_type(av, &x.v);
    return x;
}

/* What a type unmarshalls to: string, number, bool, null, object, array. */
static int val_class(int t)
{
    switch (t) {
    case AV_S:
    case AV_B: return 's';
    case AV_N: return 'n';
    case AV_BOOL: return 'b';
    case AV_NULL: return 'z';
    case AV_M: return 'o';
    default: return 'a';
    }
}

static val elem_of(int set_type, const cJSON *e)
{
    val x = {AV_NULL, e};
    switch (set_type) {
    case AV_L: x = val_of(e); break;
    case AV_SS: x.type = AV_S; break;
    case AV_NS: x.type = AV_N; break;
    default: x.type = AV_B; break;
    }
    return x;
}

static int val_equal(av_ctx *c, val x, val y);

/* Objects of checked AttributeValues (no repeated names): same names, equal
 * values. Returns 1, 0 or -1 (out of memory). */
static int map_equal(av_ctx *c, const cJSON *a, const cJSON *b)
{
    size_t n = child_count(a);
    if (n != child_count(b))
        return 0;
    if (n <= SMALL_SORT) {
        for (const cJSON *m = a->child; m; m = m->next) {
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(b, m->string);
            int eq = o ? val_equal(c, val_of(m), val_of(o)) : 0;
            if (eq <= 0)
                return eq;
        }
        return 1;
    }
    const cJSON **va = sorted_children(c, a, n, DUP_KEY);
    const cJSON **vb = va ? sorted_children(c, b, n, DUP_KEY) : NULL;
    int eq = vb ? 1 : -1;
    for (size_t i = 0; vb && i < n && eq == 1; i++) {
        if (strcmp(va[i]->string, vb[i]->string) != 0)
            eq = 0;
        else
            eq = val_equal(c, val_of(va[i]), val_of(vb[i]));
    }
    free(va);
    free(vb);
    return eq;
}

/* JSON equality of two unmarshalled values: 1, 0, or -1 (out of memory). */
static int val_equal(av_ctx *c, val x, val y)
{
    int cls = val_class(x.type);
    if (cls != val_class(y.type))
        return 0;
    switch (cls) {
    case 's': return strcmp(x.v->valuestring, y.v->valuestring) == 0;
    case 'n': return num_cmp_text(x.v->valuestring, y.v->valuestring) == 0;
    case 'b': return cJSON_IsTrue(x.v) == cJSON_IsTrue(y.v);
    case 'z': return 1;
    case 'o': return map_equal(c, x.v, y.v);
    default: break;
    }
    const cJSON *a = x.v->child, *b = y.v->child;
    for (; a && b; a = a->next, b = b->next) {
        int eq = val_equal(c, elem_of(x.type, a), elem_of(y.type, b));
        if (eq <= 0)
            return eq;
    }
    return !a && !b;
}

/* ---- omni_dynamodb_unmarshall -------------------------------------------- */

int omni_dynamodb_unmarshall(char **out, size_t *out_len, const char *item_json, size_t len)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!out)
        return omni__err(OMNI_EINVAL, "omni_dynamodb_unmarshall: out is NULL");
    if (!item_json && len)
        return omni__err(OMNI_EINVAL, "omni_dynamodb_unmarshall: item_json is NULL");
    cJSON *root = NULL;
    int rc = omni__json_parse(&root, item_json ? item_json : "", len, ITEM_MAX_BYTES,
                              "DynamoDB item");
    if (rc)
        return rc;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return omni__err(OMNI_EINVAL, "DynamoDB item: not an object of AttributeValues");
    }
    av_ctx c;
    ctx_init(&c, 1);
    omni_buf b = OMNI_BUF_INIT;
    rc = map_emit(&c, &b, root);
    cJSON_Delete(root);
    if (rc) {
        omni__buf_free(&b);
        if (rc == OMNI_ENOMEM)
            return omni__err(OMNI_ENOMEM, NULL);
        return omni__err(rc, "DynamoDB item: %s", c.msg);
    }
    return omni__buf_detach(&b, out, out_len);
}

/* ---- stream records ------------------------------------------------------ */

static int table_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) || ch == '_' ||
           ch == '-' || ch == '.';
}

/* A part of an ARN up to ':' (non-empty, no '/'); returns past the ':'. */
static const char *arn_part(const char *p)
{
    const char *s = p;
    while (*p && *p != ':' && *p != '/')
        p++;
    return p > s && *p == ':' ? p + 1 : NULL;
}

/* The table of "arn:<partition>:dynamodb:<region>:<account>:table/<name>/
 * stream/<label>" into table (cap >= 256). Returns 0 or -1. */
static int arn_table(const char *arn, char *table, size_t cap)
{
    if (strncmp(arn, "arn:", 4) != 0)
        return -1;
    const char *p = arn_part(arn + 4); /* partition */
    if (!p || strncmp(p, "dynamodb:", 9) != 0)
        return -1;
    p = arn_part(p + 9); /* region */
    p = p ? arn_part(p) : NULL; /* account */
    if (!p || strncmp(p, "table/", 6) != 0)
        return -1;
    p += 6;
    size_t n = 0;
    while (table_char(p[n]))
        n++;
    if (n < 3 || n > 255 || n >= cap || strncmp(p + n, "/stream/", 8) != 0 || !p[n + 8])
        return -1;
    for (const char *q = p + n + 8; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == '/')
            return -1;
    memcpy(table, p, n);
    table[n] = '\0';
    return 0;
}

enum { EV_INSERT, EV_MODIFY, EV_REMOVE };

typedef struct rec_view {
    const cJSON *new_img, *old_img;
    char at[OMNI_TIME_STRLEN]; /* the record's time */
    int events;
} rec_view;

/* An image's attribute, absent when missing. */
static const cJSON *attr(const cJSON *img, const char *name)
{
    return img ? cJSON_GetObjectItemCaseSensitive(img, name) : NULL;
}

/* An id attribute: `name`, else "id" (a NULL value counts as missing). */
static const cJSON *attr_id(const cJSON *img, const char *name)
{
    const cJSON *v = attr(img, name);
    if (v && val_of(v).type != AV_NULL)
        return v;
    return attr(img, "id");
}

static const cJSON *either(const cJSON *a, const cJSON *b)
{
    return a ? a : b;
}

/* Writes "key": <the unmarshalled attribute or null> (checked already). */
static void w_attr(omni_buf *b, const char *key, const cJSON *av)
{
    omni__json_w_key(b, key);
    if (!av) {
        omni__json_w_null(b);
        return;
    }
    av_ctx c;
    ctx_init(&c, 0);
    av_emit(&c, b, av);
}

static void ev_begin(omni_buf *b, rec_view *r, const char *type)
{
    omni__conv_ev_begin(b, type);
    r->events++;
}

static void ev_end(omni_buf *b, const char *time_key, const char *at)
{
    if (time_key) {
        omni__json_w_key(b, time_key);
        omni__json_w_str(b, at);
    }
    omni__conv_ev_end(b);
}

/* 1 when the attribute differs between the images, 0, or -1 (no memory). */
static int changed(av_ctx *c, rec_view *r, const char *name)
{
    int eq = val_equal(c, val_of(attr(r->old_img, name)), val_of(attr(r->new_img, name)));
    return eq < 0 ? -1 : !eq; /* -1: c->status is OMNI_ENOMEM */
}

static int conversation_events(av_ctx *c, omni_buf *b, rec_view *r, int kind)
{
    const cJSON *nw = r->new_img, *old = r->old_img;
    if (kind == EV_INSERT) {
        if (!nw)
            return OMNI_OK;
        ev_begin(b, r, "conversation.created");
        w_attr(b, "conversationId", attr_id(nw, "conversationId"));
        w_attr(b, "customerId", attr(nw, "customerId"));
        w_attr(b, "accountId", attr(nw, "accountId"));
        w_attr(b, "channel", attr(nw, "channel"));
        w_attr(b, "status", attr(nw, "status"));
        w_attr(b, "createdAt", attr(nw, "createdAt"));
        ev_end(b, NULL, NULL);
        return OMNI_OK;
    }
    if (kind == EV_REMOVE) {
        if (!old)
            return OMNI_OK;
        ev_begin(b, r, "conversation.deleted");
        w_attr(b, "conversationId", attr_id(old, "conversationId"));
        ev_end(b, "deletedAt", r->at);
        return OMNI_OK;
    }
    if (!nw || !old)
        return OMNI_OK;
    const cJSON *id = either(attr_id(nw, "conversationId"), attr_id(old, "conversationId"));
    int ch = changed(c, r, "status");
    if (ch < 0)
        return c->status;
    if (ch) {
        ev_begin(b, r, "conversation.status_changed");
        w_attr(b, "conversationId", id);
        w_attr(b, "previousStatus", attr(old, "status"));
        w_attr(b, "newStatus", attr(nw, "status"));
        ev_end(b, "changedAt", r->at);
    }
    ch = changed(c, r, "assignedTo");
    if (ch < 0)
        return c->status;
    if (ch) {
        ev_begin(b, r, "conversation.assigned");
        w_attr(b, "conversationId", id);
        w_attr(b, "previousAssignee", attr(old, "assignedTo"));
        w_attr(b, "newAssignee", attr(nw, "assignedTo"));
        ev_end(b, "assignedAt", r->at);
    }
    return OMNI_OK;
}

static int message_events(av_ctx *c, omni_buf *b, rec_view *r, int kind)
{
    const cJSON *nw = r->new_img, *old = r->old_img;
    if (kind == EV_INSERT) {
        if (!nw)
            return OMNI_OK;
        ev_begin(b, r, "message.created");
        w_attr(b, "messageId", attr_id(nw, "messageId"));
        w_attr(b, "conversationId", attr(nw, "conversationId"));
        w_attr(b, "sequenceNumber", attr(nw, "sequenceNumber"));
        w_attr(b, "direction", attr(nw, "direction"));
        w_attr(b, "createdAt", attr(nw, "createdAt"));
        ev_end(b, NULL, NULL);
        return OMNI_OK;
    }
    if (kind == EV_REMOVE || !nw || !old)
        return OMNI_OK;
    int ch = changed(c, r, "deliveryStatus");
    if (ch < 0)
        return c->status;
    if (ch) {
        ev_begin(b, r, "message.delivery_updated");
        w_attr(b, "messageId", either(attr_id(nw, "messageId"), attr_id(old, "messageId")));
        w_attr(b, "conversationId",
               either(attr(nw, "conversationId"), attr(old, "conversationId")));
        w_attr(b, "previousStatus", attr(old, "deliveryStatus"));
        w_attr(b, "newStatus", attr(nw, "deliveryStatus"));
        ev_end(b, "updatedAt", r->at);
    }
    return OMNI_OK;
}

/* An optional item of the record's "dynamodb" (null counts as absent). */
static int image(av_ctx *c, const cJSON *ddb, const char *name, const cJSON **img)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ddb, name);
    *img = NULL;
    if (!v || cJSON_IsNull(v))
        return OMNI_OK;
    size_t mark = path_key(c, name);
    if (!cJSON_IsObject(v))
        return fail(c, OMNI_EINVAL, "not an item");
    int rc = map_emit(c, NULL, v);
    if (rc)
        return rc;
    path_pop(c, mark);
    *img = v;
    return OMNI_OK;
}

/* Checks a record and writes its events into b. Returns OMNI_OK (r->events
 * says how many), OMNI_EINVAL (a malformed record: c->msg) or
 * OMNI_ENOMEM. */
static int record_events(av_ctx *c, omni_buf *b, const cJSON *rec, int64_t now_ms,
                         rec_view *r)
{
    if (!cJSON_IsObject(rec))
        return fail(c, OMNI_EINVAL, "record is not an object");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "eventID");
    if (id && !cJSON_IsString(id) && !cJSON_IsNull(id))
        return fail(c, OMNI_EINVAL, "eventID is not a string");
    const char *arn = omni__json_str(rec, "eventSourceARN");
    char table[256];
    if (!arn)
        return fail(c, OMNI_EINVAL, "eventSourceARN is missing");
    if (arn_table(arn, table, sizeof(table)))
        return fail(c, OMNI_EINVAL, "eventSourceARN is not a DynamoDB stream ARN");
    const char *name = omni__json_str(rec, "eventName");
    int kind;
    if (name && strcmp(name, "INSERT") == 0)
        kind = EV_INSERT;
    else if (name && strcmp(name, "MODIFY") == 0)
        kind = EV_MODIFY;
    else if (name && strcmp(name, "REMOVE") == 0)
        kind = EV_REMOVE;
    else
        return fail(c, OMNI_EINVAL, "eventName is not INSERT, MODIFY or REMOVE");
    const cJSON *ddb = cJSON_GetObjectItemCaseSensitive(rec, "dynamodb");
    if (!cJSON_IsObject(ddb))
        return fail(c, OMNI_EINVAL, "dynamodb is missing or not an object");
    const cJSON *keys;
    int rc = image(c, ddb, "Keys", &keys);
    if (!rc)
        rc = image(c, ddb, "NewImage", &r->new_img);
    if (!rc)
        rc = image(c, ddb, "OldImage", &r->old_img);
    if (rc)
        return rc;

    int64_t ms = now_ms;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(ddb, "ApproximateCreationDateTime");
    if (t && !cJSON_IsNull(t)) {
        if (!cJSON_IsNumber(t))
            return fail(c, OMNI_EINVAL, "ApproximateCreationDateTime is not a number");
        double x = t->valuedouble * 1000.0;
        if (!(x >= TIME_MIN_MS && x <= TIME_MAX_MS))
            return fail(c, OMNI_EINVAL, "ApproximateCreationDateTime is out of range");
        ms = (int64_t)llround(x);
    }
    if (omni_time_format(r->at, sizeof(r->at), ms))
        return fail(c, OMNI_EINVAL, "ApproximateCreationDateTime is out of range");

    if (strcmp(table, "conversations") == 0)
        return conversation_events(c, b, r, kind);
    if (strcmp(table, "messages") == 0)
        return message_events(c, b, r, kind);
    return OMNI_OK; /* another table */
}

/* Processes one record: its events into ev, its result into rs. Returns
 * OMNI_OK or OMNI_ENOMEM. */
static int record_process(const cJSON *rec, int64_t now_ms, omni_buf *ev, omni_buf *rs)
{
    av_ctx c;
    ctx_init(&c, 1);
    rec_view r;
    memset(&r, 0, sizeof(r));
    size_t mark = ev->len;
    int rc = record_events(&c, ev, rec, now_ms, &r);
    if (rc == OMNI_ENOMEM)
        return rc;
    if (rc) { /* nothing of a failed record stays */
        ev->len = mark;
        if (ev->data)
            ev->data[mark] = '\0';
    }
    const char *id = cJSON_IsObject(rec) ? omni__json_str(rec, "eventID") : NULL;
    omni__json_w_obj_begin(rs);
    omni__json_w_key(rs, "eventID");
    omni__json_w_str(rs, id);
    omni__json_w_key(rs, "status");
    omni__json_w_str(rs, rc ? "failed" : r.events ? "success" : "skipped");
    if (rc) {
        omni__json_w_key(rs, "error");
        omni__json_w_str(rs, c.msg);
    }
    omni__json_w_obj_end(rs);
    return OMNI_OK;
}

/* ---- omni_dynamodb_stream_events ----------------------------------------- */

int omni_dynamodb_stream_events(char **out, size_t *out_len, const char *event_json, size_t len,
                                int64_t now_ms)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!out)
        return omni__err(OMNI_EINVAL, "omni_dynamodb_stream_events: out is NULL");
    if (!event_json && len)
        return omni__err(OMNI_EINVAL, "omni_dynamodb_stream_events: event_json is NULL");
    char now[OMNI_TIME_STRLEN];
    if (now_ms < (int64_t)TIME_MIN_MS || now_ms > (int64_t)TIME_MAX_MS ||
        omni_time_format(now, sizeof(now), now_ms))
        return omni__err(OMNI_EINVAL, "omni_dynamodb_stream_events: now_ms is out of range");
    cJSON *root = NULL;
    int rc = omni__json_parse(&root, event_json ? event_json : "", len, STREAM_MAX_BYTES,
                              "DynamoDB stream event");
    if (rc)
        return rc;
    const cJSON *records = cJSON_IsObject(root)
                               ? cJSON_GetObjectItemCaseSensitive(root, "Records")
                               : NULL;
    if (!cJSON_IsObject(root))
        rc = omni__err(OMNI_EINVAL, "DynamoDB stream event: not an object");
    else if (!cJSON_IsArray(records))
        rc = omni__err(OMNI_EINVAL, "DynamoDB stream event: no \"Records\" array");
    else if (child_count(records) > STREAM_MAX_RECORDS)
        rc = omni__err(OMNI_ETOOLARGE, "DynamoDB stream event: more than %d records",
                       STREAM_MAX_RECORDS);
    omni_buf ev = OMNI_BUF_INIT, rs = OMNI_BUF_INIT, o = OMNI_BUF_INIT;
    for (const cJSON *rec = rc ? NULL : records->child; rec && !rc; rec = rec->next)
        rc = record_process(rec, now_ms, &ev, &rs);
    cJSON_Delete(root);
    if (rc == OMNI_ENOMEM)
        rc = omni__err(OMNI_ENOMEM, NULL);
    if (!rc)
        rc = omni__buf_status(&ev);
    if (!rc)
        rc = omni__buf_status(&rs);
    if (!rc) {
        omni__buf_puts(&o, "{\"events\":[");
        if (ev.len)
            omni__buf_append(&o, ev.data, ev.len);
        omni__buf_puts(&o, "],\"records\":[");
        if (rs.len)
            omni__buf_append(&o, rs.data, rs.len);
        omni__buf_puts(&o, "]}");
    }
    omni__buf_free(&ev);
    omni__buf_free(&rs);
    return omni__buf_finish(&o, rc, out, out_len);
}
