/* Fuzz target: the span reader (lib/core/json_span.c) and the taping scan
 * (lib/core/json_scan.c) against cJSON, which they stand in for on hot paths
 * (the push adapters read messages through them).
 * Invariants, for any bytes:
 *  - the taping scan accepts and refuses exactly what omni__json_validate
 *    does, with the same status and message;
 *  - cJSON refuses a validated document only when it holds a surrogate
 *    escape (omni__j_has_surrogate: callers then let cJSON judge);
 *  - on a document both accept: every tape entry's span is the span the
 *    walker (omni__j_skip) finds there, its key the key's span (flagged when
 *    it holds an escape), and the
 *    children of each container are the walker's members / items; walking
 *    the tape and the tree in document order, every value has the same
 *    type, every string and key decodes (omni__j_decode) to cJSON's
 *    NUL-terminated value, every number (omni__j_num) to cJSON's double;
 *    omni__j_write of any value writes what omni__json_w_item writes of its
 *    node; looking up an object's own keys (and a few fixed names) with
 *    omni__j_cfields and omni__jdoc_fields finds cJSON's member. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/buf.h"
#include "lib/core/json.h"
#include "lib/core/json_scan.h"
#include "lib/core/json_span.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                 \
    do {                                                                                         \
        if (!(c))                                                                                \
            abort();                                                                             \
    } while (0)

static const char *text_end; /* of the document being checked */

static const omni__jname fixed[] = {OMNI__JNAME("title"), OMNI__JNAME("a"), OMNI__JNAME(""),
                                    OMNI__JNAME("id")};

/* omni__j_write(v) == omni__json_w_item(node). */
static void same_writing(omni__jspan v, const cJSON *node)
{
    omni_buf a = OMNI_BUF_INIT, b = OMNI_BUF_INIT;
    omni__json_w_item(&a, node);
    omni__j_write(&b, v);
    CHECK(!a.failed && !b.failed && a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    omni__buf_free(&a);
    omni__buf_free(&b);
}

/* A string or key span decodes to cJSON's value. */
static void same_string(omni__jspan s, const char *value)
{
    char *d = malloc(s.n);
    CHECK(d);
    size_t n = omni__j_decode(s, d, s.n - 2);
    CHECK(n == strlen(value) && memcmp(d, value, n) == 0);
    free(d);
}

/* Looks up names in the object both ways and compares with cJSON. */
static void same_lookup(const omni__jdoc *doc, omni__jspan obj, const cJSON *node,
                        const omni__jname *names, size_t count)
{
    omni__jspan by_walk[8], by_tape[8];
    omni__j_cfields(obj, names, by_walk, count);
    omni__jdoc_fields(doc, obj, names, by_tape, count);
    for (size_t i = 0; i < count; i++) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(node, names[i].s);
        CHECK(by_walk[i].p == by_tape[i].p && by_walk[i].n == by_tape[i].n);
        CHECK(!c == !by_walk[i].p);
        if (c)
            same_writing(by_walk[i], c);
    }
}

/* Entry i of the tape against node, then its descendants; returns the
 * index past them. */
static size_t walk(const omni__jdoc *doc, size_t i, const cJSON *node)
{
    const omni__jtape_ent *e = &doc->ents[i];
    const char *end = doc->text + e->start + e->len;
    omni__jspan v = {doc->text + e->start, e->len};
    CHECK(e->len > 0 && omni__j_skip(v.p, text_end) == end);
    if (node->string) {
        omni__jspan k = {doc->text + e->key, e->klen & ~OMNI__JSON_ESCAPED};
        CHECK(k.n >= 2 && omni__j_skip_str(k.p, text_end) == k.p + k.n);
        CHECK((e->klen & OMNI__JSON_ESCAPED ? 0 : 1) == omni__j_plain(k));
        same_string(k, node->string);
    } else {
        CHECK(e->klen == 0);
    }
    switch (v.p[0]) {
    case '"':
        CHECK(cJSON_IsString(node));
        same_string(v, node->valuestring);
        break;
    case 't': CHECK(cJSON_IsTrue(node)); break;
    case 'f': CHECK(cJSON_IsFalse(node)); break;
    case 'n': CHECK(cJSON_IsNull(node)); break;
    case '{':
    case '[': {
        CHECK(v.p[0] == '{' ? cJSON_IsObject(node) : cJSON_IsArray(node));
        /* the children: the tape's, the walker's and the tree's agree */
        omni__jiter it;
        omni__jspan k, x;
        const cJSON *c = node->child;
        size_t j = i + 1;
        if (v.p[0] == '{')
            omni__j_obj(&it, v);
        else
            omni__j_arr(&it, v);
        while (v.p[0] == '{' ? omni__j_next(&it, &k, &x) : omni__j_next_item(&it, &x)) {
            CHECK(c && j < e->next);
            CHECK(x.p == doc->text + doc->ents[j].start && x.n == doc->ents[j].len);
            if (v.p[0] == '{')
                CHECK(k.p == doc->text + doc->ents[j].key &&
                      k.n == (doc->ents[j].klen & ~OMNI__JSON_ESCAPED));
            j = walk(doc, j, c);
            c = c->next;
        }
        CHECK(!c && j == e->next);
        if (v.p[0] == '{') {
            same_lookup(doc, v, node, fixed, sizeof(fixed) / sizeof(fixed[0]));
            /* each member's own name (when it is one a name can be) */
            for (c = node->child; c; c = c->next) {
                omni__jname n = {c->string, strlen(c->string)};
                if (n.n < 128)
                    same_lookup(doc, v, node, &n, 1);
            }
        }
        break;
    }
    default: {
        CHECK(cJSON_IsNumber(node));
        double d = omni__j_num(v);
        CHECK(d == node->valuedouble || (isnan(d) && isnan(node->valuedouble)));
        CHECK(signbit(d) == signbit(node->valuedouble));
    }
    }
    same_writing(v, node);
    return e->next;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    if (size > (1u << 20))
        return 0;
    int v = omni__json_validate(text, size, 1u << 20, "fuzz");
    char msg[512];
    snprintf(msg, sizeof msg, "%s", omni_error_last_message());
    omni__jtape_ent local[16];
    omni__jtape tape;
    omni__jtape_init(&tape, local, sizeof(local) / sizeof(local[0]));
    int t = omni__json_scan_tape(text, size, 1u << 20, "fuzz", &tape);
    CHECK(t == v);
    if (t != OMNI_OK) {
        CHECK(strcmp(msg, omni_error_last_message()) == 0);
        omni__jtape_free(&tape);
        return 0;
    }
    cJSON *root = cJSON_ParseWithLength(text, size);
    if (!root) {
        CHECK(omni__j_has_surrogate(text, size));
        omni__jtape_free(&tape);
        return 0;
    }
    omni__jdoc doc = {text, tape.ents, tape.n};
    text_end = text + size;
    omni__jspan r = omni__j_root(text, size);
    CHECK(tape.n > 0 && r.p == text + tape.ents[0].start && r.n == tape.ents[0].len);
    CHECK(walk(&doc, 0, root) == tape.n);
    cJSON_Delete(root);
    omni__jtape_free(&tape);
    return 0;
}
