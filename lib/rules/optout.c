/* Opt-out compliance keywords: text normalization (word cutting, Latin
 * case and diacritic folding), the built-in STOP / START / HELP and
 * courtesy lists for the default, "hi" and "kn" locales, the configuration
 * compiler and the classifier (see optout.h for the rules). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/common.h>

#include "core/codec.h"
#include "core/error.h"
#include "core/json.h"
#include "optout.h"

#define NCLASS 4 /* 0 courtesy, then OMNI__OPTOUT_STOP, _START, _HELP */
#define LOCALE_MAX 35
#define MAX_TEXT_WORDS (OMNI__OPTOUT_MAX_KEYWORD_WORDS + OMNI__OPTOUT_MAX_EXTRA_WORDS)
/* Normalized text kept by the classifier: every word of a matching message
 * is at most a keyword long. */
#define TEXT_BUF (MAX_TEXT_WORDS * (OMNI__OPTOUT_MAX_KEYWORD_BYTES + 1) + 1)

typedef struct kwlist {
    const char *const *w; /* normalized keywords */
    size_t n;
    int configured; /* 1 when it came from the configuration document */
} kwlist;

typedef struct kwset {
    kwlist cls[NCLASS];
} kwset;

typedef struct locale_set {
    char name[LOCALE_MAX + 1]; /* normalized: lower case, '-' */
    char key[LOCALE_MAX + 1];  /* as written in the configuration */
    kwset set;
} locale_set;

struct omni__optout {
    kwset base;
    const locale_set *locales;
    size_t nlocales;
    void **pool; /* every allocation owned by a compiled configuration */
    size_t npool, pool_cap;
};

static const char *const class_names[NCLASS] = {"courtesy", "stop", "start", "help"};

/* ---- built-in lists (already in normalized form; a test checks that) ----- */

#define LIST(a) {a, sizeof(a) / sizeof(a[0]), 0}

static const char *const en_courtesy[] = {
    "please", "pls", "plz", "thanks", "thank", "thankyou", "thx", "ty", "tq", "you",
    "now", "asap", "immediately", "all", "me", "text", "texts", "texting", "msg", "msgs",
    "message", "messages", "messaging", "sending", "sir", "maam", "madam"};
static const char *const en_stop[] = {"stop", "stopall", "unsubscribe", "cancel", "end",
                                      "quit", "revoke", "optout", "opt out", "arret"};
static const char *const en_start[] = {"start", "unstop", "yes"};
static const char *const en_help[] = {"help", "info"};

static const char *const hi_courtesy[] = {"कृपया", "धन्यवाद", "शुक्रिया", "मैसेज", "संदेश",
                                          "मुझे", "भेजना", "अब", "जी"};
static const char *const hi_stop[] = {"रोकें", "रोको", "बंद", "बंद करें", "बंद करो", "बन्द",
                                      "बन्द करें", "बन्द करो", "अनसब्सक्राइब", "band karo",
                                      "band karein", "band karen"};
static const char *const hi_start[] = {"शुरू", "शुरू करें", "चालू करें"};
static const char *const hi_help[] = {"मदद", "सहायता"};

static const char *const kn_courtesy[] = {"ದಯವಿಟ್ಟು", "ಧನ್ಯವಾದ", "ಧನ್ಯವಾದಗಳು", "ಸಂದೇಶ", "ಈಗ"};
static const char *const kn_stop[] = {"ನಿಲ್ಲಿಸಿ", "ನಿಲ್ಲಿಸು"};
static const char *const kn_start[] = {"ಪ್ರಾರಂಭಿಸಿ", "ಆರಂಭಿಸಿ"};
static const char *const kn_help[] = {"ಸಹಾಯ"};

static const locale_set builtin_locales[] = {
    {"hi", "hi", {{LIST(hi_courtesy), LIST(hi_stop), LIST(hi_start), LIST(hi_help)}}},
    {"kn", "kn", {{LIST(kn_courtesy), LIST(kn_stop), LIST(kn_start), LIST(kn_help)}}},
};
#define NBUILTIN_LOCALES (sizeof(builtin_locales) / sizeof(builtin_locales[0]))

static const omni__optout builtin = {
    {{LIST(en_courtesy), LIST(en_stop), LIST(en_start), LIST(en_help)}},
    builtin_locales,
    NBUILTIN_LOCALES,
    NULL,
    0,
    0,
};

/* ---- normalization --------------------------------------------------------- */

enum { K_SEP, K_DROP, K_COPY, K_FOLD };

/* U+00C0..U+00FF; NULL marks × and ÷ (separators). */
static const char *const latin1_fold[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "y"};

/* U+0100..U+017F, one base letter each; '1' is "ij", '2' is "oe". */
static const char latin_ext_a[] = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii11jjkkk"
                                  "llllllllllnnnnnnnnnoooooo22rrrrrrssssssssttttttuuuuuuuuuuuu"
                                  "wwyyyzzzzzzs";
_Static_assert(sizeof(latin_ext_a) == 129, "one letter per code point U+0100..U+017F");

/* Decodes one UTF-8 sequence; returns its length (>= 1) with *cp, or 1
 * with *cp = UINT32_MAX for an invalid byte. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t k = omni__utf8_next(s, n, cp);
    if (k == 0) {
        *cp = UINT32_MAX;
        k = 1;
    }
    return k;
}

/* What a non-ASCII code point does to a word. */
static int cp_kind(uint32_t cp, const char **fold, char *tmp)
{
    if (cp == UINT32_MAX || cp <= 0xBF)
        return cp == 0xAD ? K_DROP : K_SEP; /* C1, NBSP, Latin-1 punctuation */
    if (cp <= 0xFF) {
        *fold = latin1_fold[cp - 0xC0];
        return *fold ? K_FOLD : K_SEP;
    }
    if (cp <= 0x17F) {
        char c = latin_ext_a[cp - 0x100];
        *fold = c == '1' ? "ij" : c == '2' ? "oe" : (tmp[0] = c, tmp[1] = '\0', tmp);
        return K_FOLD;
    }
    if (cp >= 0x300 && cp <= 0x36F)
        return K_DROP; /* combining diacritical marks */
    if (cp == 0x964 || cp == 0x965)
        return K_SEP; /* danda, double danda */
    if (cp == 0x200C || cp == 0x200D || cp == 0x2060 || cp == 0xFEFF ||
        (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0000 && cp <= 0xE007F))
        return K_DROP; /* joiners, BOM, variation selectors, tags */
    if ((cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x20A0 && cp <= 0x20CF) ||
        (cp >= 0x2100 && cp <= 0x2BFF) || (cp >= 0x2E00 && cp <= 0x2E7F) ||
        (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFE10 && cp <= 0xFE1F) ||
        (cp >= 0xFE30 && cp <= 0xFE6F) || (cp >= 0xFF00 && cp <= 0xFF0F) ||
        (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
        (cp >= 0xFF5B && cp <= 0xFF65) || (cp >= 0xFFF0 && cp <= 0xFFFF) ||
        (cp >= 0x1F000 && cp <= 0x1FBFF))
        return K_SEP;
    if (cp >= 0xFF10 && cp <= 0xFF19) { /* fullwidth digits */
        tmp[0] = (char)('0' + (cp - 0xFF10)), tmp[1] = '\0';
        *fold = tmp;
        return K_FOLD;
    }
    if ((cp >= 0xFF21 && cp <= 0xFF3A) || (cp >= 0xFF41 && cp <= 0xFF5A)) {
        tmp[0] = (char)('a' + (cp - (cp >= 0xFF41 ? 0xFF41 : 0xFF21))), tmp[1] = '\0';
        *fold = tmp;
        return K_FOLD;
    }
    return K_COPY;
}

typedef struct norm {
    char *out;
    size_t cap, len;
    int nwords, max_words;
    size_t max_word;     /* bytes of one word */
    uint16_t *ws, *we;   /* word spans (may be NULL) */
    size_t word_start;
    int in_word;
} norm;

static int norm_end_word(norm *nb)
{
    if (nb->in_word) {
        if (nb->ws) {
            nb->ws[nb->nwords - 1] = (uint16_t)nb->word_start;
            nb->we[nb->nwords - 1] = (uint16_t)nb->len;
        }
        nb->in_word = 0;
    }
    return 0;
}

static int norm_put(norm *nb, const char *p, size_t k)
{
    if (!nb->in_word) {
        if (nb->nwords >= nb->max_words)
            return -1;
        if (nb->nwords > 0) {
            if (nb->len + 1 >= nb->cap)
                return -1;
            nb->out[nb->len++] = ' ';
        }
        nb->word_start = nb->len;
        nb->in_word = 1;
        nb->nwords++;
    }
    if (k >= nb->cap - nb->len || nb->len + k - nb->word_start > nb->max_word)
        return -1;
    memcpy(nb->out + nb->len, p, k);
    nb->len += k;
    return 0;
}

/* Runs s[0..n) through the normalizer; -1 when a limit is hit. */
static int norm_run(norm *nb, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = u[i];
        if (c < 0x80) {
            i++;
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                char ch = (char)c;
                if (norm_put(nb, &ch, 1))
                    return -1;
            } else if (c >= 'A' && c <= 'Z') {
                char ch = (char)(c - 'A' + 'a');
                if (norm_put(nb, &ch, 1))
                    return -1;
            } else {
                norm_end_word(nb);
            }
            continue;
        }
        uint32_t cp;
        size_t k = utf8_next(u + i, n - i, &cp);
        const char *fold = NULL;
        char tmp[2];
        switch (cp_kind(cp, &fold, tmp)) {
        case K_SEP:
            norm_end_word(nb);
            break;
        case K_DROP:
            break;
        case K_FOLD:
            if (norm_put(nb, fold, strlen(fold)))
                return -1;
            break;
        default:
            if (norm_put(nb, s + i, k))
                return -1;
            break;
        }
        i += k;
    }
    norm_end_word(nb);
    if (nb->cap > 0)
        nb->out[nb->len] = '\0';
    return 0;
}

int omni__optout_normalize(const char *s, size_t n, char *out, size_t cap)
{
    if (!out || cap == 0)
        return -1;
    out[0] = '\0';
    if (!s)
        return n == 0 ? 0 : -1;
    norm nb = {out, cap, 0, 0, 1 << 30, (size_t)-1, NULL, NULL, 0, 0};
    if (norm_run(&nb, s, n)) {
        out[0] = '\0';
        return -1;
    }
    return nb.nwords;
}

/* ---- classification ------------------------------------------------------------ */

static int list_has(const kwlist *l, const char *w, size_t n)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *k = l->w[i];
        if (k[0] == w[0] && strncmp(k, w, n) == 0 && k[n] == '\0')
            return 1;
    }
    return 0;
}

static int set_has(const kwset *a, const kwset *b, int cls, const char *w, size_t n)
{
    return list_has(&a->cls[cls], w, n) || (b && list_has(&b->cls[cls], w, n));
}

/* Lower-cased, '_' -> '-' form of a locale name; 0 when malformed. */
static int locale_norm(const char *s, size_t n, char *out)
{
    if (n < 2 || n > LOCALE_MAX)
        return 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        else if (c == '_')
            c = '-';
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
        out[i] = c;
    }
    out[n] = '\0';
    return 1;
}

static const kwset *find_locale(const omni__optout *o, const char *locale)
{
    char name[LOCALE_MAX + 1];
    if (!locale || !locale_norm(locale, strnlen(locale, LOCALE_MAX + 1), name))
        return NULL;
    for (size_t i = 0; i < o->nlocales; i++)
        if (strcmp(o->locales[i].name, name) == 0)
            return &o->locales[i].set;
    char *dash = strchr(name, '-');
    if (!dash)
        return NULL;
    *dash = '\0';
    for (size_t i = 0; i < o->nlocales; i++)
        if (strcmp(o->locales[i].name, name) == 0)
            return &o->locales[i].set;
    return NULL;
}

/* The matching rule of optout.h on normalized words. */
static int classify_words(const kwset *base, const kwset *loc, const char *buf,
                          const uint16_t *ws, const uint16_t *we, int nw)
{
    int best = OMNI__OPTOUT_NONE, best_exact = 0, best_m = 0;
    for (int i = 0; i < nw && i <= OMNI__OPTOUT_MAX_EXTRA_WORDS; i++) {
        if (i > 0 && !set_has(base, loc, 0, buf + ws[i - 1], we[i - 1] - ws[i - 1]))
            break; /* words before the keyword must all be courtesy words */
        for (int cls = OMNI__OPTOUT_STOP; cls <= OMNI__OPTOUT_HELP; cls++) {
            for (int which = 0; which < 2; which++) {
                const kwlist *l = which == 0 ? &base->cls[cls] : loc ? &loc->cls[cls] : NULL;
                for (size_t k = 0; l && k < l->n; k++) {
                    const char *kw = l->w[k];
                    if (kw[0] != buf[ws[i]])
                        continue;
                    /* the keyword's words: count spaces */
                    int m = 1;
                    for (const char *p = kw; *p; p++)
                        m += *p == ' ';
                    if (i + m > nw)
                        continue;
                    size_t span = (size_t)(we[i + m - 1] - ws[i]);
                    if (strncmp(kw, buf + ws[i], span) != 0 || kw[span] != '\0')
                        continue;
                    int extra = nw - m;
                    if (extra > OMNI__OPTOUT_MAX_EXTRA_WORDS)
                        continue;
                    int ok = 1;
                    for (int j = i + m; j < nw && ok; j++) {
                        const char *w = buf + ws[j];
                        size_t wn = (size_t)(we[j] - ws[j]);
                        ok = set_has(base, loc, 0, w, wn) || set_has(base, loc, cls, w, wn);
                    }
                    if (!ok)
                        continue;
                    int exact = extra == 0;
                    if (best == OMNI__OPTOUT_NONE || exact > best_exact ||
                        (exact == best_exact && m > best_m)) {
                        best = cls;
                        best_exact = exact;
                        best_m = m;
                    }
                }
            }
        }
    }
    return best;
}

int omni__optout_classify(const omni__optout *o, const char *text, size_t len,
                          const char *locale)
{
    if (!o)
        o = &builtin;
    if (!text || len == 0)
        return OMNI__OPTOUT_NONE;
    char buf[TEXT_BUF];
    uint16_t ws[MAX_TEXT_WORDS], we[MAX_TEXT_WORDS];
    norm nb = {buf, sizeof(buf), 0, 0, MAX_TEXT_WORDS, OMNI__OPTOUT_MAX_KEYWORD_BYTES,
               ws, we, 0, 0};
    if (norm_run(&nb, text, len) || nb.nwords == 0)
        return OMNI__OPTOUT_NONE; /* too many or too long words for a keyword message */
    return classify_words(&o->base, find_locale(o, locale), buf, ws, we, nb.nwords);
}

/* ---- compiling ------------------------------------------------------------------ */

static void *pool_add(omni__optout *o, void *p)
{
    if (!p)
        return NULL;
    if (o->npool == o->pool_cap) {
        size_t cap = o->pool_cap ? o->pool_cap * 2 : 32;
        void **np = realloc(o->pool, cap * sizeof(void *));
        if (!np) {
            free(p);
            return NULL;
        }
        o->pool = np;
        o->pool_cap = cap;
    }
    o->pool[o->npool++] = p;
    return p;
}

void omni__optout_free(omni__optout *o)
{
    if (!o || o == &builtin)
        return;
    for (size_t i = 0; i < o->npool; i++)
        free(o->pool[i]);
    free(o->pool);
    free(o);
}

static int class_of(const char *name)
{
    for (int c = 0; c < NCLASS; c++)
        if (strcmp(name, class_names[c]) == 0)
            return c;
    return -1;
}

/* A member name fit for a message: printable ASCII, at most 40 bytes. */
static void safe_name(const char *s, char *out, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap && i < 40; i++)
        out[i] = s[i] >= 0x20 && s[i] < 0x7F && s[i] != '"' ? s[i] : '?';
    out[i] = '\0';
}

static int parse_list(omni__optout *o, const cJSON *v, const char *path, int cls, kwlist *out)
{
    if (!cJSON_IsArray(v))
        return omni__err(OMNI_EINVAL, "optout: %s is not an array of strings", path);
    int n = cJSON_GetArraySize(v);
    if (n > OMNI__OPTOUT_MAX_PER_CLASS)
        return omni__err(OMNI_EINVAL, "optout: %s has more than %d entries", path,
                         OMNI__OPTOUT_MAX_PER_CLASS);
    const char **arr = pool_add(o, malloc(((size_t)n + 1) * sizeof(char *)));
    if (!arr)
        return omni__err(OMNI_ENOMEM, "optout: out of memory");
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        if (!cJSON_IsString(e))
            return omni__err(OMNI_EINVAL, "optout: %s[%d] is not a string", path, i);
        size_t len = strlen(e->valuestring);
        if (len == 0)
            return omni__err(OMNI_EINVAL, "optout: %s[%d] is empty", path, i);
        if (len > OMNI__OPTOUT_MAX_KEYWORD_BYTES)
            return omni__err(OMNI_EINVAL, "optout: %s[%d] is longer than %d bytes", path, i,
                             OMNI__OPTOUT_MAX_KEYWORD_BYTES);
        char buf[OMNI__OPTOUT_MAX_KEYWORD_BYTES * 2 + 2];
        norm nb = {buf, sizeof(buf), 0, 0, OMNI__OPTOUT_MAX_KEYWORD_WORDS,
                   OMNI__OPTOUT_MAX_KEYWORD_BYTES, NULL, NULL, 0, 0};
        if (norm_run(&nb, e->valuestring, len))
            return omni__err(OMNI_EINVAL, "optout: %s[%d] has more than %d words", path, i,
                             OMNI__OPTOUT_MAX_KEYWORD_WORDS);
        if (nb.nwords == 0)
            return omni__err(OMNI_EINVAL, "optout: %s[%d] has no letters or digits", path, i);
        if (cls == 0 && nb.nwords != 1)
            return omni__err(OMNI_EINVAL, "optout: %s[%d] is not one word", path, i);
        char *copy = pool_add(o, strdup(buf));
        if (!copy)
            return omni__err(OMNI_ENOMEM, "optout: out of memory");
        arr[i] = copy;
    }
    arr[i] = NULL;
    out->w = arr;
    out->n = (size_t)i;
    out->configured = 1;
    return OMNI_OK;
}

/* Fills the lists of `set` named in object v (members among the classes). */
static int parse_set(omni__optout *o, const cJSON *v, const char *prefix, kwset *set,
                     int allow_locales, const cJSON **locales)
{
    int seen[NCLASS] = {0}, seen_locales = 0;
    for (const cJSON *m = v->child; m; m = m->next) {
        int c = class_of(m->string);
        char path[96];
        if (c < 0 && allow_locales && strcmp(m->string, "locales") == 0) {
            if (seen_locales++)
                return omni__err(OMNI_EINVAL, "optout: locales appears twice");
            *locales = m;
            continue;
        }
        if (c < 0) {
            char name[48];
            safe_name(m->string, name, sizeof(name));
            if (allow_locales)
                return omni__err(OMNI_EINVAL, "optout: unknown member \"%s\" (expected stop, "
                                              "start, help, courtesy, locales)",
                                 name);
            return omni__err(OMNI_EINVAL,
                             "optout: %.*s has an unknown member \"%s\" (expected stop, start, "
                             "help, courtesy)",
                             (int)(strlen(prefix) - 1), prefix, name);
        }
        snprintf(path, sizeof(path), "%s%s", prefix, class_names[c]);
        if (seen[c]++)
            return omni__err(OMNI_EINVAL, "optout: %s appears twice", path);
        int rc = parse_list(o, m, path, c, &set->cls[c]);
        if (rc)
            return rc;
    }
    return OMNI_OK;
}

typedef struct entry {
    const char *w;
    int cls;
    const kwlist *list;
    size_t index;
    const char *where; /* "" or the locale key */
} entry;

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = strcmp(x->w, y->w);
    return c ? c : (x->cls > y->cls) - (x->cls < y->cls);
}

static void entry_path(const entry *e, char *out, size_t cap)
{
    const char *cls = class_names[e->cls];
    const char *pre = e->list->configured ? "" : "built-in ";
    if (e->where[0])
        snprintf(out, cap, "%slocales.%s.%s[%zu]", pre, e->where, cls, e->index);
    else
        snprintf(out, cap, "%s%s[%zu]", pre, cls, e->index);
}

/* No keyword may be in two classes of the lists in effect together. */
static int check_conflicts(const kwset *base, const locale_set *loc)
{
    size_t total = 0;
    for (int c = 1; c < NCLASS; c++)
        total += base->cls[c].n + (loc ? loc->set.cls[c].n : 0);
    if (total == 0)
        return OMNI_OK;
    entry *es = malloc(total * sizeof(entry));
    if (!es)
        return omni__err(OMNI_ENOMEM, "optout: out of memory");
    size_t n = 0;
    for (int which = 0; which < 2; which++) {
        const kwset *s = which == 0 ? base : loc ? &loc->set : NULL;
        for (int c = 1; s && c < NCLASS; c++)
            for (size_t i = 0; i < s->cls[c].n; i++)
                es[n++] = (entry){s->cls[c].w[i], c, &s->cls[c], i, which ? loc->key : ""};
    }
    qsort(es, n, sizeof(entry), cmp_entry);
    int rc = OMNI_OK;
    for (size_t i = 1; i < n && !rc; i++) {
        if (strcmp(es[i - 1].w, es[i].w) != 0 || es[i - 1].cls == es[i].cls)
            continue;
        const entry *x = &es[i - 1], *y = &es[i];
        if (!y->list->configured && x->list->configured) {
            const entry *t = x;
            x = y;
            y = t;
        }
        char path[96];
        entry_path(y, path, sizeof(path));
        rc = omni__err(OMNI_EINVAL, "optout: %s \"%s\" is also a %s keyword", path, y->w,
                       class_names[x->cls]);
    }
    free(es);
    return rc;
}

static int parse_locales(omni__optout *o, const cJSON *v, locale_set *locs, size_t *nlocs)
{
    if (!cJSON_IsObject(v))
        return omni__err(OMNI_EINVAL, "optout: locales is not an object");
    int configured[OMNI__OPTOUT_MAX_LOCALES] = {0};
    int idx = 0;
    for (const cJSON *m = v->child; m; m = m->next, idx++) {
        char name[LOCALE_MAX + 1];
        if (!locale_norm(m->string, strlen(m->string), name))
            return omni__err(OMNI_EINVAL,
                             "optout: locales member #%d is not a locale name (2 to %d ASCII "
                             "letters, digits, '-' or '_', starting with a letter)",
                             idx, LOCALE_MAX);
        size_t at = *nlocs;
        for (size_t i = 0; i < *nlocs; i++)
            if (strcmp(locs[i].name, name) == 0)
                at = i;
        if (at < *nlocs && configured[at])
            return omni__err(OMNI_EINVAL, "optout: locales.%s appears twice", m->string);
        if (at == *nlocs) {
            if (*nlocs == OMNI__OPTOUT_MAX_LOCALES)
                return omni__err(OMNI_EINVAL, "optout: locales: more than %d locales",
                                 OMNI__OPTOUT_MAX_LOCALES);
            memset(&locs[at], 0, sizeof(locs[at]));
            memcpy(locs[at].name, name, sizeof(name));
            (*nlocs)++;
        }
        configured[at] = 1;
        snprintf(locs[at].key, sizeof(locs[at].key), "%s", m->string);
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "locales.%s.", m->string);
        if (!cJSON_IsObject(m))
            return omni__err(OMNI_EINVAL, "optout: locales.%s is not an object", m->string);
        int rc = parse_set(o, m, prefix, &locs[at].set, 0, NULL);
        if (rc)
            return rc;
    }
    return OMNI_OK;
}

static int compile_root(omni__optout *o, const cJSON *root)
{
    if (!cJSON_IsObject(root))
        return omni__err(OMNI_EINVAL, "optout: the configuration is not a JSON object");
    const cJSON *locales = NULL;
    o->base = builtin.base;
    int rc = parse_set(o, root, "", &o->base, 1, &locales);
    if (rc)
        return rc;
    locale_set *locs = pool_add(o, calloc(OMNI__OPTOUT_MAX_LOCALES, sizeof(locale_set)));
    if (!locs)
        return omni__err(OMNI_ENOMEM, "optout: out of memory");
    size_t nlocs = NBUILTIN_LOCALES;
    memcpy(locs, builtin_locales, sizeof(builtin_locales));
    if (locales && (rc = parse_locales(o, locales, locs, &nlocs)) != OMNI_OK)
        return rc;
    o->locales = locs;
    o->nlocales = nlocs;
    if ((rc = check_conflicts(&o->base, NULL)) != OMNI_OK)
        return rc;
    for (size_t i = 0; i < nlocs; i++)
        if ((rc = check_conflicts(&o->base, &locs[i])) != OMNI_OK)
            return rc;
    return OMNI_OK;
}

int omni__optout_compile(omni__optout **out, const char *json, size_t len)
{
    if (out)
        *out = NULL;
    if (!out || !json)
        return omni__err(OMNI_EINVAL, "optout: NULL argument");
    cJSON *root = NULL;
    int rc = omni__json_parse(&root, json, len, OMNI__OPTOUT_MAX_BYTES, "optout");
    if (rc)
        return rc;
    omni__optout *o = calloc(1, sizeof(*o));
    if (!o) {
        cJSON_Delete(root);
        return omni__err(OMNI_ENOMEM, "optout: out of memory");
    }
    rc = compile_root(o, root);
    cJSON_Delete(root);
    if (rc) {
        omni__optout_free(o);
        return rc;
    }
    *out = o;
    return OMNI_OK;
}
