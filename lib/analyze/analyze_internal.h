/* Internal: the built-in content analyzer's compiled form (word tables,
 * phrases, patterns) and the pieces shared by analyze.c, lexicon.c,
 * entities.c and language.c. */
#ifndef OMNI_ANALYZE_INTERNAL_H
#define OMNI_ANALYZE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <omni/analyze.h>

#include "rules/regex.h"

#define ANA_MAX_INTENTS 64        /* intents in effect (one bit each) */
#define ANA_MAX_PHRASE_WORDS 8    /* words of one keyword or phrase */
#define ANA_MAX_KEYWORD_BYTES 128 /* one keyword / phrase / lexicon word */
#define ANA_MAX_LIST 1000         /* entries of one list */
#define ANA_MAX_SENDERS 10000
#define ANA_MAX_LEXICON 20000 /* configured lexicon words in all */
#define ANA_MAX_LANGS 16      /* configured lexicon languages */
#define ANA_MAX_PATTERNS 32
#define ANA_MAX_NAME 64

/* Word flags. */
#define W_SENT 0x01u /* has an en lexicon value */
#define W_NEG 0x02u  /* negator */
#define W_INT 0x04u  /* intensifier */
#define W_DIM 0x08u  /* diminisher */
#define W_EN 0x10u   /* common English word */
#define W_HI 0x20u   /* common romanized Hindi word */

/* Spam reasons, in output order. */
enum {
    R_BLOCKED_SENDER,
    R_BLOCKED_PHRASE,
    R_SHORTENED_LINK,
    R_SUSPICIOUS_LINK,
    R_REPEATED_CHARS,
    R_ALL_CAPS,
    R_EXCESSIVE_LINKS,
    R_EXCESSIVE_PUNCT,
    R_COUNT
};
extern const char *const omni__ana_reason_names[R_COUNT];
extern const double omni__ana_default_weights[R_COUNT];

/* One word of an open-addressing table keyed by the word's 64-bit hash
 * (the hash 0 marks an empty slot: real hashes are never 0). */
typedef struct ana_word {
    uint64_t h;
    uint64_t intents; /* bit i: a one-word keyword of intent i */
    float sent;       /* lexicon value (W_SENT) */
    int32_t phrase;   /* first phrase that starts with this word, or -1 */
    uint8_t flags;
} ana_word;

typedef struct ana_table {
    ana_word *slots;
    uint32_t mask; /* capacity - 1 (a power of two) */
    uint32_t n;
} ana_table;

/* A phrase (two or more words): an intent's, or a blocked spam phrase. */
typedef struct ana_phrase {
    uint64_t h[ANA_MAX_PHRASE_WORDS];
    uint8_t n;
    int16_t target; /* intent index, or -1: blocked phrase */
    int32_t next;   /* next phrase with the same first word, or -1 */
} ana_phrase;

typedef struct ana_lexicon {
    char lang[36]; /* lower case, '-' */
    ana_table t;
} ana_lexicon;

typedef struct ana_pattern {
    char name[ANA_MAX_NAME + 1];
    omni__regex *re;
} ana_pattern;

struct omni_analyzer {
    ana_table words; /* flags, en lexicon, intent keywords, phrase heads */
    ana_phrase *phrases;
    uint32_t nphrases, phrase_cap;
    char *intent_names[ANA_MAX_INTENTS];
    int nintents;
    ana_lexicon *lex; /* other languages' lexicons */
    int nlex;
    ana_pattern *patterns;
    int npatterns;
    char **shorteners; /* lower-case host names */
    size_t nshorteners;
    char **senders; /* normalized (E.164 or lower case), sorted */
    size_t nsenders;
    double weights[R_COUNT];
    double threshold;
    char region[8];
};

/* ---- words (lexicon.c) ----------------------------------------------------- */

static inline uint64_t omni__ana_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h ? h : 1;
}

static inline const ana_word *omni__ana_lookup(const ana_table *t, uint64_t h)
{
    if (!t->slots)
        return NULL;
    uint32_t i = (uint32_t)(h ^ (h >> 32)) & t->mask;
    for (;;) {
        const ana_word *w = &t->slots[i];
        if (w->h == h)
            return w;
        if (w->h == 0)
            return NULL;
        i = (i + 1) & t->mask;
    }
}

/* The slot of hash h, inserted (zeroed, phrase -1) when absent; NULL when
 * out of memory. Grows the table as needed. */
ana_word *omni__ana_insert(ana_table *t, uint64_t h);
void omni__ana_table_free(ana_table *t);

/* Built-in lists. */
typedef struct ana_lexentry {
    const char *w;
    signed char v;
} ana_lexentry;
extern const ana_lexentry omni__ana_lexicon_en[];
extern const size_t omni__ana_lexicon_en_n;
extern const char *const omni__ana_negators[];
extern const char *const omni__ana_intensifiers[];
extern const char *const omni__ana_diminishers[];
extern const char *const omni__ana_common_en[];
extern const char *const omni__ana_common_hi[];

typedef struct ana_builtin_intent {
    const char *name;
    const char *const *kw; /* NULL-terminated */
} ana_builtin_intent;
extern const ana_builtin_intent omni__ana_builtin_intents[];
extern const size_t omni__ana_builtin_intents_n;

extern const char *const omni__ana_shorteners[];
extern const char *const omni__ana_risky_tlds[];

/* ---- entities (entities.c) --------------------------------------------------- */

enum { ENT_EMAIL, ENT_PHONE, ENT_URL, ENT_PATTERN };

typedef struct ana_entity {
    uint32_t start, end;
    int type;      /* ENT_* */
    int pattern;   /* ENT_PATTERN: index of the pattern */
    char e164[20]; /* ENT_PHONE: the number in E.164 */
} ana_entity;

/* What the link and entity scan found. */
typedef struct ana_scan {
    ana_entity ent[OMNI_ANALYZE_MAX_ENTITIES];
    int nent;
    int links;      /* URLs found (also beyond the entity cap) */
    int shortened;  /* a URL to a known shortener */
    int suspicious; /* a URL with a suspicious host or userinfo */
} ana_scan;

/* Scans text[0..len) (valid UTF-8) for every entity kind. Returns OMNI_OK
 * or OMNI_ENOMEM (a pattern search's scratch). */
int omni__ana_entities(const omni_analyzer *a, const char *text, size_t len, ana_scan *sc);

/* Writes an entity's "normalized" value into b (a JSON string value). */
struct omni_buf;
void omni__ana_entity_normalized(const char *text, const ana_entity *e, struct omni_buf *b);

/* ---- text statistics and language (language.c) ---------------------------------- */

typedef struct ana_stats {
    uint32_t deva, kann, latin, other; /* letters by script */
    uint32_t upper, lower;             /* ASCII letters */
    uint32_t longest_run;              /* same character (not a digit or space) in a row */
    uint32_t longest_bang;             /* '!' and '?' in a row */
    uint32_t en, hi;                   /* common-word hits (filled by the word pass) */
    uint32_t latin_words;              /* words of ASCII letters (word pass) */
    uint32_t nonascii;                 /* characters outside ASCII */
} ana_stats;

/* ASCII letters and digits -> their lower case; 0 for everything else. */
extern const unsigned char omni__ana_ascii_word[256];

/* One pass over text[0..len) (valid UTF-8) for the byte-level figures. */
void omni__ana_text_stats(const char *text, size_t len, ana_stats *st);

/* The detected language ("en", "hi", "kn", "und") or the hint's primary
 * subtag (lower-cased into hint_buf, at least 9 bytes) and the confidence. */
const char *omni__ana_language(const ana_stats *st, const char *hint, char *hint_buf,
                               double *confidence);

#endif
