/* Internal: the one strict JSON scanner. It checks a document against
 * RFC 8259 and the library's limits (size, OMNI_LIMIT_JSON_DEPTH, strict
 * UTF-8, no raw control characters in strings) and reports the first error
 * with its offset, line and column. It is what omni__json_validate and
 * omni__json_parse run, and pass 1 of the template data parser, which asks
 * it to record the sizes its one-allocation second pass needs; a taping scan
 * also writes down where every value is (the push message reader). */
#ifndef OMNI_CORE_JSON_SCAN_H
#define OMNI_CORE_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* Set in a string's recorded length when the string holds an escape. */
#define OMNI__JSON_ESCAPED 0x80000000u

/* What a recording scan writes down, in document order:
 * - per container, at its opening bracket: the number of its children
 *   (an object's members, repeated keys included);
 * - per string and per key: its raw length (the bytes between the quotes),
 *   OR OMNI__JSON_ESCAPED when it holds an escape.
 * counts starts as the caller's buffer `local` (cap > 0 entries, n 0) and
 * moves to the heap when it fills: release it with omni__json_rec_free once
 * done (after an error too). */
typedef struct omni__json_rec {
    uint32_t *counts;
    size_t n, cap;
    uint32_t *local;
    size_t str_bytes; /* the sum over strings and keys of raw length + 1 */
    /* Called (when not NULL) as each container closes, kind '[' or '{',
     * with its number of children. */
    void (*close)(void *ud, int kind, uint32_t count);
    void *ud;
} omni__json_rec;

/* Scans text (len bytes, no terminator needed) as one JSON document.
 * `what` names it in error messages (NULL: "JSON"); max_bytes 0 means
 * OMNI_LIMIT_JSON_BYTES. rec NULL only validates. On error sets the last
 * error and returns it: OMNI_EINVAL (NULL text), OMNI_ETOOLARGE, OMNI_EJSON
 * and OMNI_ETOODEEP ("<what>: <why> at line L, column C", details
 * {"offset","line","column"}), OMNI_ENOMEM (recording only). */
int omni__json_scan(const char *text, size_t len, size_t max_bytes, const char *what,
                    omni__json_rec *rec);

/* Frees the heap copy of rec->counts, if any (rec is not used again). */
void omni__json_rec_free(omni__json_rec *rec);

/* A tape: one entry per value of the document, in document order (so by
 * increasing start), written by a taping scan as it validates. Entry 0 is
 * the root. A container's children follow it: they are i + 1, then each
 * next child at the previous child's `next`, while below the container's
 * own `next`. Offsets are into the scanned text. */
typedef struct omni__jtape_ent {
    uint32_t start, len; /* the value */
    uint32_t key, klen;  /* an object member's key (with its quotes), klen OR'ed with
                            OMNI__JSON_ESCAPED when it holds an escape; klen 0 otherwise */
    uint32_t next;       /* the index past this value and everything in it */
} omni__jtape_ent;

typedef struct omni__jtape {
    omni__jtape_ent *ents;
    size_t n, cap;
    omni__jtape_ent *local; /* the caller's buffer (cap > 0 entries) */
} omni__jtape;

/* Starts a tape on the caller's buffer of cap (> 0) entries. */
static inline void omni__jtape_init(omni__jtape *t, omni__jtape_ent *local, size_t cap)
{
    t->ents = t->local = local;
    t->n = 0;
    t->cap = cap;
}

/* omni__json_scan that also writes the tape (moving it to the heap when
 * the caller's buffer fills: release with omni__jtape_free, after an error
 * too). len must be below 2 GiB. Errors as omni__json_scan (OMNI_ENOMEM
 * when the tape cannot grow). */
int omni__json_scan_tape(const char *text, size_t len, size_t max_bytes, const char *what,
                         omni__jtape *tape);

/* Frees the heap copy of the tape, if any (the tape is not used again). */
void omni__jtape_free(omni__jtape *tape);

/* The value of a hexadecimal digit, or -1. */
static inline int omni__hexval(unsigned c)
{
    if (c >= '0' && c <= '9')
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

#endif
