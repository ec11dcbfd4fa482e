/* Internal: a non-allocating reader over JSON text that omni__json_validate
 * (or omni__json_scan) accepted. Values are spans of the text; nothing is
 * copied until a string is asked for. On text that was not validated the
 * functions stay within the given bounds but their answers mean nothing.
 * This keeps hot paths (identity lookup, the conversation step, push request
 * building) at a few microseconds per document. (Only omni__j_num and the
 * writers allocate, for numbers and escaped strings too long for a stack
 * buffer.) */
#ifndef OMNI_CORE_JSON_SPAN_H
#define OMNI_CORE_JSON_SPAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct omni__jspan {
    const char *p; /* NULL: absent */
    size_t n;
} omni__jspan;

typedef struct omni__jiter {
    const char *p, *e;
} omni__jiter;

static inline const char *omni__j_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static inline int omni__j_is(omni__jspan v, char c)
{
    return v.p && v.n > 0 && v.p[0] == c;
}

/* Skips one string (p at its opening quote); returns the byte after it. */
const char *omni__j_skip_str(const char *p, const char *e);
/* Skips one value (leading whitespace included). */
const char *omni__j_skip(const char *p, const char *e);
/* Starts iterating the members of an object span; 0 when it is not one. */
int omni__j_obj(omni__jiter *it, omni__jspan obj);
/* Next member: key (with its quotes) and value spans; 0 at the end. */
int omni__j_next(omni__jiter *it, omni__jspan *key, omni__jspan *val);
/* Unescapes a string span into buf (NUL-terminated). Returns the length,
 * or -1 when it is not a string, does not fit or holds a NUL. */
long omni__j_str(omni__jspan v, char *buf, size_t cap);
/* 1 when the key span (with quotes) is `name` (len bytes). */
int omni__j_key_is_n(omni__jspan key, const char *name, size_t len);
#define omni__j_key_is(key, lit) omni__j_key_is_n(key, lit, sizeof(lit) - 1)
/* The first member `name` of an object span ({NULL, 0}: absent). */
omni__jspan omni__j_get(omni__jspan obj, const char *name);
/* The value of a validated document, trimmed of surrounding whitespace. */
omni__jspan omni__j_root(const char *text, size_t len);
/* One pass over an object: out[i] receives the first member names[i]
 * (absent: {NULL, 0}); at most 8 names. */
void omni__j_fields(omni__jspan obj, const char *const *names, omni__jspan *out, size_t count);
/* A JSON integer of at most 18 digits, no sign, fraction or exponent (a
 * count, a limit, milliseconds): 1 with *out, else 0. */
int omni__j_uint(omni__jspan v, int64_t *out);

/* A string member copied into buf; 0 when absent or null; -1 on a wrong
 * type or a value that does not fit. */
int omni__j_get_str(omni__jspan obj, const char *name, char *buf, size_t cap);

/* ---- reading as cJSON reads ----------------------------------------------
 * omni__json_parse hands out cJSON trees; these helpers read the same text
 * the way such a tree would, so that code moved from a tree to spans keeps
 * its exact behaviour: cJSON keeps strings and keys NUL-terminated, so a
 * "\u0000" escape ends them there; an object lookup finds the first member
 * of that name; a number is strtod's reading of its text. cJSON refuses a
 * document holding a lone UTF-16 surrogate escape (which the strict scanner
 * accepts): a caller first asks omni__j_has_surrogate and, when it says so,
 * lets omni__json_parse judge the document. */

/* 1 when the validated text holds a \u escape of a UTF-16 surrogate. */
int omni__j_has_surrogate(const char *text, size_t len);

/* 1 when a string span holds no escape: its value is the bytes between
 * the quotes, which need no escaping when written back. */
static inline int omni__j_plain(omni__jspan s)
{
    if (s.n > 32)
        return !memchr(s.p, '\\', s.n);
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] == '\\')
            return 0;
    return 1;
}

/* Decodes a string (or key) span as cJSON does, up to its first NUL:
 * stores at most cap bytes into out (not NUL-terminated) and returns the
 * decoded length, or cap + 1 when it is longer than cap. A span of n bytes
 * decodes to at most n - 2. */
size_t omni__j_decode(omni__jspan s, char *out, size_t cap);

/* 1 when a key span (with its quotes) is name[0..len) as cJSON sees it. */
int omni__j_ckey_is(omni__jspan key, const char *name, size_t len);

/* A member name and its length, for omni__j_cfields: OMNI__JNAME("title"). */
typedef struct omni__jname {
    const char *s;
    size_t n;
} omni__jname;
#define OMNI__JNAME(lit) {lit, sizeof(lit) - 1}

/* One pass over an object span with cJSON's lookup: out[i] receives the
 * first member names[i] ({NULL, 0}: absent, also when obj is not an object).
 * Names are shorter than 128 bytes. */
void omni__j_cfields(omni__jspan obj, const omni__jname *names, omni__jspan *out, size_t count);

/* The same over a document and its tape (omni__json_scan_tape, json_scan.h):
 * the object's members are found through the tape, without reading the
 * text again. obj must be a value span of that document (or absent). */
struct omni__jtape_ent;
typedef struct omni__jdoc {
    const char *text;
    const struct omni__jtape_ent *ents;
    size_t n;
} omni__jdoc;
void omni__jdoc_fields(const omni__jdoc *doc, omni__jspan obj, const omni__jname *names,
                       omni__jspan *out, size_t count);

/* Array iteration: omni__j_arr starts (0 when the span is not an array),
 * omni__j_next_item gives each element (0 at the end). */
int omni__j_arr(omni__jiter *it, omni__jspan arr);
int omni__j_next_item(omni__jiter *it, omni__jspan *val);
/* The number of elements of an array span (0 when it is not one). */
size_t omni__j_count(omni__jspan arr);

/* The value of a number span as cJSON reads it (strtod, locale-safe). */
double omni__j_num(omni__jspan v);

/* Writes a value span as omni__json_w_item writes the cJSON tree of that
 * text (compact; strings cut at a NUL escape and escaped again; numbers
 * through omni__json_w_num), and a key span as omni__json_w_key writes
 * the tree's key. */
struct omni_buf;
void omni__j_write(struct omni_buf *b, omni__jspan v);
void omni__j_write_key(struct omni_buf *b, omni__jspan key);

#endif
