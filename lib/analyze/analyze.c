/* The built-in content analyzer: configuration compiler, request parsing,
 * the analysis itself (one normalization pass cutting words, hashed word
 * lookups, phrases, sentiment, language, entities, spam score) and the
 * ContentAnalysis JSON. See omni/analyze.h. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <omni/analyze.h>
#include <omni/identity.h>

#include "analyze_internal.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/error.h"
#include "core/json.h"
#include "rules/optout.h"

#define W_BLOCK 0x40u /* a one-word blocked spam phrase */

const char *const omni__ana_reason_names[R_COUNT] = {
    "blocked_sender",      "blocked_phrase", "shortened_link",  "suspicious_link",
    "repeated_characters", "all_caps",       "excessive_links", "excessive_punctuation"};
const double omni__ana_default_weights[R_COUNT] = {1.0, 0.6, 0.35, 0.45, 0.15, 0.2, 0.3, 0.15};

#define DEFAULT_THRESHOLD 0.5
#define NEUTRAL_BAND 0.2
#define STACK_TEXT 1024 /* content up to this size is analyzed without allocating */
#define MAX_SENDER 256

/* ---- configuration errors ------------------------------------------------------ */

static int cfg_err(const char *path, const char *fmt, ...) OMNI__PRINTF(2, 3);

static int cfg_err(const char *path, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    omni_buf d = OMNI_BUF_INIT;
    omni__buf_puts(&d, "{\"path\":\"");
    omni__json_escape(&d, path, strlen(path));
    omni__buf_puts(&d, "\"}");
    int rc;
    if (d.failed)
        rc = omni__err(OMNI_ECONFIG, "analyzer: %s: %s", path, msg);
    else
        rc = omni__err_details(OMNI_ECONFIG, d.data, "analyzer: %s: %s", path, msg);
    omni__buf_free(&d);
    return rc;
}

static int nomem(void)
{
    return omni__err(OMNI_ENOMEM, "analyzer: out of memory");
}

/* A member name fit for a message and a path: printable ASCII, 40 bytes. */
static void safe_name(const char *s, char *out, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap && i < 40; i++)
        out[i] = s[i] >= 0x20 && s[i] < 0x7F && s[i] != '"' ? s[i] : '?';
    out[i] = '\0';
}

/* ---- words ------------------------------------------------------------------------ */

/* Normalizes a keyword into its word hashes; returns the number of words,
 * 0 when it has none, -1 when it has more than `max` words. */
static int keyword_hashes(const char *s, size_t n, uint64_t *h, int max)
{
    char buf[ANA_MAX_KEYWORD_BYTES * 3 + 8];
    int nw = omni__optout_normalize(s, n, buf, sizeof(buf));
    if (nw < 0 || nw > max)
        return -1;
    int k = 0;
    const char *p = buf;
    while (*p) {
        const char *q = strchr(p, ' ');
        size_t wl = q ? (size_t)(q - p) : strlen(p);
        h[k++] = omni__ana_hash(p, wl);
        p += wl + (q ? 1 : 0);
    }
    return k;
}

static int add_phrase(omni_analyzer *a, const uint64_t *h, int n, int target)
{
    ana_word *w = omni__ana_insert(&a->words, h[0]);
    if (!w)
        return nomem();
    /* the same phrase for the same target once */
    for (int32_t p = w->phrase; p >= 0; p = a->phrases[p].next)
        if (a->phrases[p].n == n && a->phrases[p].target == target &&
            memcmp(a->phrases[p].h, h, (size_t)n * sizeof(uint64_t)) == 0)
            return OMNI_OK;
    if (a->nphrases == a->phrase_cap) {
        uint32_t cap = a->phrase_cap ? a->phrase_cap * 2 : 64;
        ana_phrase *np = realloc(a->phrases, cap * sizeof(ana_phrase));
        if (!np)
            return nomem();
        a->phrases = np;
        a->phrase_cap = cap;
    }
    ana_phrase *ph = &a->phrases[a->nphrases];
    memset(ph, 0, sizeof(*ph));
    memcpy(ph->h, h, (size_t)n * sizeof(uint64_t));
    ph->n = (uint8_t)n;
    ph->target = (int16_t)target;
    /* appended at the end of the chain: phrases keep their order */
    ph->next = -1;
    if (w->phrase < 0) {
        w->phrase = (int32_t)a->nphrases;
    } else {
        int32_t p = w->phrase;
        while (a->phrases[p].next >= 0)
            p = a->phrases[p].next;
        a->phrases[p].next = (int32_t)a->nphrases;
    }
    a->nphrases++;
    return OMNI_OK;
}

/* A keyword of intent `target` (or a blocked phrase: -1). */
static int add_keyword(omni_analyzer *a, const char *kw, size_t n, int target, const char *path)
{
    uint64_t h[ANA_MAX_PHRASE_WORDS];
    if (n == 0)
        return cfg_err(path, "is empty");
    if (n > ANA_MAX_KEYWORD_BYTES)
        return cfg_err(path, "is longer than %d bytes", ANA_MAX_KEYWORD_BYTES);
    int nw = keyword_hashes(kw, n, h, ANA_MAX_PHRASE_WORDS);
    if (nw < 0)
        return cfg_err(path, "has more than %d words", ANA_MAX_PHRASE_WORDS);
    if (nw == 0)
        return cfg_err(path, "has no letters or digits");
    if (nw > 1)
        return add_phrase(a, h, nw, target);
    ana_word *w = omni__ana_insert(&a->words, h[0]);
    if (!w)
        return nomem();
    if (target >= 0)
        w->intents |= (uint64_t)1 << target;
    else
        w->flags |= W_BLOCK;
    return OMNI_OK;
}

static int add_flags(omni_analyzer *a, const char *const *list, uint8_t flag)
{
    for (size_t i = 0; list[i]; i++) {
        uint64_t h[1];
        if (keyword_hashes(list[i], strlen(list[i]), h, 1) != 1)
            continue;
        ana_word *w = omni__ana_insert(&a->words, h[0]);
        if (!w)
            return nomem();
        w->flags |= flag;
    }
    return OMNI_OK;
}

/* ---- configuration ------------------------------------------------------------ */

static void analyzer_free(omni_analyzer *a)
{
    omni__ana_table_free(&a->words);
    free(a->phrases);
    for (int i = 0; i < a->nintents; i++)
        free(a->intent_names[i]);
    for (int i = 0; i < a->nlex; i++)
        omni__ana_table_free(&a->lex[i].t);
    free(a->lex);
    for (int i = 0; i < a->npatterns; i++)
        omni__regex_free(a->patterns[i].re);
    free(a->patterns);
    if (a->shorteners != (char **)omni__ana_shorteners) {
        for (size_t i = 0; i < a->nshorteners; i++)
            free(a->shorteners[i]);
        free(a->shorteners);
    }
    for (size_t i = 0; i < a->nsenders; i++)
        free(a->senders[i]);
    free(a->senders);
    free(a);
}

void omni_analyzer_free(omni_analyzer *analyzer)
{
    if (analyzer)
        analyzer_free(analyzer);
}

static int check_members(const cJSON *obj, const char *path, const char *const *allowed)
{
    for (const cJSON *m = obj->child; m; m = m->next) {
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            ok |= strcmp(m->string, allowed[i]) == 0;
        char name[48], p[128];
        safe_name(m->string, name, sizeof(name));
        snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", name);
        if (!ok)
            return cfg_err(p, "unknown member");
        for (const cJSON *o = obj->child; o != m; o = o->next)
            if (strcmp(o->string, m->string) == 0)
                return cfg_err(p, "appears twice");
    }
    return OMNI_OK;
}

static int string_array(const cJSON *v, const char *path, size_t max)
{
    if (!cJSON_IsArray(v))
        return cfg_err(path, "is not an array of strings");
    size_t n = 0;
    for (const cJSON *e = v->child; e; e = e->next, n++)
        if (!cJSON_IsString(e)) {
            char p[160];
            snprintf(p, sizeof(p), "%s[%zu]", path, n);
            return cfg_err(p, "is not a string");
        }
    if (n > max)
        return cfg_err(path, "has more than %zu entries", max);
    return OMNI_OK;
}

/* Normal form of a sender: E.164 for a phone number, else trimmed and
 * lower-cased (ASCII). Returns the length, or 0 when empty / too long. */
static size_t sender_norm(const char *s, const char *region, char *out, size_t cap)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    if (n == 0 || n >= cap)
        return 0;
    if (*s == '+' || (*s >= '0' && *s <= '9') || *s == '(') {
        char e164[OMNI_E164_STRLEN + 4];
        if (omni_phone_to_e164(e164, sizeof(e164), s, n, region) == OMNI_OK) {
            size_t k = strlen(e164);
            memcpy(out, e164, k + 1);
            return k;
        }
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    out[n] = '\0';
    return n;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static double clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

static int parse_spam(omni_analyzer *a, const cJSON *spam)
{
    static const char *const members[] = {"threshold", "phrases", "senders", "shorteners",
                                          "weights", NULL};
    if (!cJSON_IsObject(spam))
        return cfg_err("spam", "is not an object");
    int rc = check_members(spam, "spam", members);
    if (rc)
        return rc;
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(spam, "threshold"))) {
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1))
            return cfg_err("spam.threshold", "is not a number from 0 to 1");
        a->threshold = v->valuedouble;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(spam, "weights"))) {
        if (!cJSON_IsObject(v))
            return cfg_err("spam.weights", "is not an object");
        for (const cJSON *m = v->child; m; m = m->next) {
            int r = -1;
            for (int k = 0; k < R_COUNT; k++)
                if (strcmp(m->string, omni__ana_reason_names[k]) == 0)
                    r = k;
            char name[48], p[96];
            safe_name(m->string, name, sizeof(name));
            snprintf(p, sizeof(p), "spam.weights.%s", name);
            if (r < 0)
                return cfg_err(p, "is not a spam reason");
            if (!cJSON_IsNumber(m) || !(m->valuedouble >= 0 && m->valuedouble <= 1))
                return cfg_err(p, "is not a number from 0 to 1");
            a->weights[r] = m->valuedouble;
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(spam, "phrases"))) {
        if ((rc = string_array(v, "spam.phrases", ANA_MAX_LIST)))
            return rc;
        size_t i = 0;
        for (const cJSON *e = v->child; e; e = e->next, i++) {
            char p[64];
            snprintf(p, sizeof(p), "spam.phrases[%zu]", i);
            if ((rc = add_keyword(a, e->valuestring, strlen(e->valuestring), -1, p)))
                return rc;
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(spam, "shorteners"))) {
        if ((rc = string_array(v, "spam.shorteners", ANA_MAX_LIST)))
            return rc;
        size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
        a->nshorteners = 0;
        a->shorteners = calloc(n ? n : 1, sizeof(char *));
        if (!a->shorteners)
            return nomem();
        for (const cJSON *e = v->child; e; e = e->next, i++) {
            const char *s = e->valuestring;
            size_t len = strlen(s);
            int ok = len > 0 && len <= 253 && strchr(s, '.') && s[0] != '.' && s[len - 1] != '.';
            for (size_t k = 0; ok && k < len; k++) {
                char c = s[k];
                ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.';
            }
            if (!ok) {
                char p[64];
                snprintf(p, sizeof(p), "spam.shorteners[%zu]", i);
                return cfg_err(p, "is not a host name (ASCII letters, digits, '-' and '.')");
            }
            char *d = malloc(len + 1);
            if (!d)
                return nomem();
            for (size_t k = 0; k <= len; k++)
                d[k] = (char)(s[k] >= 'A' && s[k] <= 'Z' ? s[k] + 32 : s[k]);
            a->shorteners[a->nshorteners++] = d;
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(spam, "senders"))) {
        if ((rc = string_array(v, "spam.senders", ANA_MAX_SENDERS)))
            return rc;
        size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
        a->senders = calloc(n ? n : 1, sizeof(char *));
        if (!a->senders)
            return nomem();
        for (const cJSON *e = v->child; e; e = e->next, i++) {
            char norm[MAX_SENDER + 1];
            if (!sender_norm(e->valuestring, a->region, norm, sizeof(norm))) {
                char p[64];
                snprintf(p, sizeof(p), "spam.senders[%zu]", i);
                return cfg_err(p, "is empty or longer than %d bytes", MAX_SENDER);
            }
            if (!(a->senders[a->nsenders] = strdup(norm)))
                return nomem();
            a->nsenders++;
        }
        qsort(a->senders, a->nsenders, sizeof(char *), cmp_str);
    }
    return OMNI_OK;
}

static int parse_lexicon_words(omni_analyzer *a, ana_table *t, const cJSON *obj,
                               const char *lang, size_t *total)
{
    for (const cJSON *m = obj->child; m; m = m->next) {
        char name[48], p[128];
        safe_name(m->string, name, sizeof(name));
        snprintf(p, sizeof(p), "sentiment.lexicon.%s.%s", lang, name);
        if (++*total > ANA_MAX_LEXICON)
            return cfg_err("sentiment.lexicon", "has more than %d words", ANA_MAX_LEXICON);
        if (!cJSON_IsNumber(m) || !(m->valuedouble >= -5 && m->valuedouble <= 5))
            return cfg_err(p, "is not a number from -5 to 5");
        size_t n = strlen(m->string);
        if (n == 0 || n > ANA_MAX_KEYWORD_BYTES)
            return cfg_err(p, "is not a word of 1 to %d bytes", ANA_MAX_KEYWORD_BYTES);
        uint64_t h[1];
        if (keyword_hashes(m->string, n, h, 1) != 1)
            return cfg_err(p, "is not one word");
        ana_word *w = omni__ana_insert(t, h[0]);
        if (!w)
            return nomem();
        w->flags |= W_SENT;
        w->sent = (float)m->valuedouble;
    }
    (void)a;
    return OMNI_OK;
}

static int parse_sentiment(const cJSON *sent, int *replace)
{
    static const char *const members[] = {"lexicon", "replace", NULL};
    if (!cJSON_IsObject(sent))
        return cfg_err("sentiment", "is not an object");
    int rc = check_members(sent, "sentiment", members);
    if (rc)
        return rc;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(sent, "replace");
    if (v) {
        if (!cJSON_IsBool(v))
            return cfg_err("sentiment.replace", "is not a boolean");
        *replace = cJSON_IsTrue(v);
    }
    return OMNI_OK;
}

/* Lexicon words (after the built-in ones unless replaced). */
static int parse_lexicons(omni_analyzer *a, const cJSON *lex)
{
    if (!cJSON_IsObject(lex))
        return cfg_err("sentiment.lexicon", "is not an object");
    int rc;
    size_t total = 0;
    int nl = cJSON_GetArraySize(lex);
    a->lex = calloc(nl > 0 ? (size_t)nl : 1, sizeof(ana_lexicon));
    if (!a->lex)
        return nomem();
    for (const cJSON *m = lex->child; m; m = m->next) {
        char name[48], p[96];
        safe_name(m->string, name, sizeof(name));
        snprintf(p, sizeof(p), "sentiment.lexicon.%s", name);
        size_t n = strlen(m->string);
        int ok = n >= 2 && n <= 8;
        for (size_t k = 0; ok && k < n; k++)
            ok = (m->string[k] | 0x20) >= 'a' && (m->string[k] | 0x20) <= 'z';
        if (!ok)
            return cfg_err(p, "is not a language (a primary subtag: 2 to 8 ASCII letters)");
        if (!cJSON_IsObject(m))
            return cfg_err(p, "is not an object of words and numbers");
        char lang[9];
        for (size_t k = 0; k <= n; k++)
            lang[k] = (char)(m->string[k] | (k < n ? 0x20 : 0));
        for (const cJSON *o = lex->child; o != m; o = o->next)
            if (strcasecmp(o->string, m->string) == 0)
                return cfg_err(p, "appears twice");
        if (strcmp(lang, "en") == 0) {
            if ((rc = parse_lexicon_words(a, &a->words, m, name, &total)))
                return rc;
            continue;
        }
        if (a->nlex >= ANA_MAX_LANGS)
            return cfg_err("sentiment.lexicon", "has more than %d languages", ANA_MAX_LANGS);
        ana_lexicon *l = &a->lex[a->nlex++];
        memcpy(l->lang, lang, n + 1);
        if ((rc = parse_lexicon_words(a, &l->t, m, name, &total)))
            return rc;
    }
    return OMNI_OK;
}

/* Intent names: 1..64 bytes of ASCII letters, digits, '_', '-', '.'. */
static int intent_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ANA_MAX_NAME)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

typedef struct intent_src {
    const char *name;
    const char *const *builtin; /* or NULL */
    const cJSON *list;          /* configured list, or NULL */
} intent_src;

static int build_intents(omni_analyzer *a, const cJSON *cfg)
{
    intent_src src[ANA_MAX_INTENTS + 16];
    size_t n = 0;
    for (size_t i = 0; i < omni__ana_builtin_intents_n; i++)
        src[n++] = (intent_src){omni__ana_builtin_intents[i].name,
                                omni__ana_builtin_intents[i].kw, NULL};
    if (cfg) {
        if (!cJSON_IsObject(cfg))
            return cfg_err("intents", "is not an object");
        for (const cJSON *m = cfg->child; m; m = m->next) {
            char name[48], p[96];
            safe_name(m->string, name, sizeof(name));
            snprintf(p, sizeof(p), "intents.%s", name);
            if (!intent_name_ok(m->string))
                return cfg_err(p, "is not an intent name (1 to %d ASCII letters, digits, '_', "
                                  "'-' or '.')",
                               ANA_MAX_NAME);
            for (const cJSON *o = cfg->child; o != m; o = o->next)
                if (strcmp(o->string, m->string) == 0)
                    return cfg_err(p, "appears twice");
            int rc = string_array(m, p, ANA_MAX_LIST);
            if (rc)
                return rc;
            size_t at = n;
            for (size_t i = 0; i < n; i++)
                if (strcmp(src[i].name, m->string) == 0)
                    at = i;
            if (at == n) {
                if (n == sizeof(src) / sizeof(src[0]))
                    return cfg_err("intents", "has more than %d intents", ANA_MAX_INTENTS);
                n++;
            }
            src[at] = (intent_src){m->string, NULL, m};
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (src[i].list && cJSON_GetArraySize(src[i].list) == 0)
            continue; /* [] removes the intent */
        if (a->nintents == ANA_MAX_INTENTS)
            return cfg_err("intents", "has more than %d intents", ANA_MAX_INTENTS);
        int idx = a->nintents;
        if (!(a->intent_names[idx] = strdup(src[i].name)))
            return nomem();
        a->nintents++;
        char p[160];
        if (src[i].builtin) {
            for (size_t k = 0; src[i].builtin[k]; k++) {
                snprintf(p, sizeof(p), "built-in intents.%s[%zu]", src[i].name, k);
                const char *kw = src[i].builtin[k];
                int rc = add_keyword(a, kw, strlen(kw), idx, p);
                if (rc)
                    return rc;
            }
            continue;
        }
        size_t k = 0;
        for (const cJSON *e = src[i].list->child; e; e = e->next, k++) {
            char name[48];
            safe_name(src[i].name, name, sizeof(name));
            snprintf(p, sizeof(p), "intents.%s[%zu]", name, k);
            int rc = add_keyword(a, e->valuestring, strlen(e->valuestring), idx, p);
            if (rc)
                return rc;
        }
    }
    return OMNI_OK;
}

static int parse_entities(omni_analyzer *a, const cJSON *ents)
{
    if (!cJSON_IsObject(ents))
        return cfg_err("entities", "is not an object");
    int n = cJSON_GetArraySize(ents);
    if (n > ANA_MAX_PATTERNS)
        return cfg_err("entities", "has more than %d patterns", ANA_MAX_PATTERNS);
    a->patterns = calloc(n > 0 ? (size_t)n : 1, sizeof(ana_pattern));
    if (!a->patterns)
        return nomem();
    for (const cJSON *m = ents->child; m; m = m->next) {
        char name[48], p[96];
        safe_name(m->string, name, sizeof(name));
        snprintf(p, sizeof(p), "entities.%s", name);
        if (!intent_name_ok(m->string))
            return cfg_err(p, "is not an entity name (1 to %d ASCII letters, digits, '_', "
                              "'-' or '.')",
                           ANA_MAX_NAME);
        if (strcmp(m->string, "email") == 0 || strcmp(m->string, "phone") == 0 ||
            strcmp(m->string, "url") == 0)
            return cfg_err(p, "is a built-in entity type");
        for (const cJSON *o = ents->child; o != m; o = o->next)
            if (strcmp(o->string, m->string) == 0)
                return cfg_err(p, "appears twice");
        if (!cJSON_IsString(m))
            return cfg_err(p, "is not a string (a regular expression)");
        ana_pattern *pt = &a->patterns[a->npatterns];
        snprintf(pt->name, sizeof(pt->name), "%s", m->string);
        int rc = omni__regex_compile(&pt->re, m->valuestring, strlen(m->valuestring), 0);
        if (rc) {
            char msg[400];
            snprintf(msg, sizeof(msg), "%s", omni_error_last_message());
            return cfg_err(p, "%s", msg);
        }
        a->npatterns++;
    }
    return OMNI_OK;
}

static int parse_region(omni_analyzer *a, const cJSON *v)
{
    const char *bad = "is not an ISO 3166-1 alpha-2 region code such as \"US\" or \"IN\"";
    if (!cJSON_IsString(v) || strlen(v->valuestring) != 2)
        return cfg_err("defaultRegion", "%s", bad);
    char r[3] = {(char)(v->valuestring[0] & ~0x20), (char)(v->valuestring[1] & ~0x20), 0};
    char out[OMNI_E164_STRLEN + 4];
    if (r[0] < 'A' || r[0] > 'Z' || r[1] < 'A' || r[1] > 'Z' ||
        omni_phone_to_e164(out, sizeof(out), "+12015550123", 12, r) == OMNI_EINVAL)
        return cfg_err("defaultRegion", "%s", bad);
    memcpy(a->region, r, 3);
    return OMNI_OK;
}

static int compile_config(omni_analyzer *a, const cJSON *root)
{
    static const char *const members[] = {"spam", "sentiment", "intents", "entities",
                                          "defaultRegion", NULL};
    if (root) {
        if (!cJSON_IsObject(root))
            return omni__err(OMNI_ECONFIG, "analyzer: the configuration is not a JSON object");
        int rc = check_members(root, "", members);
        if (rc)
            return rc;
    }
    const cJSON *v;
    int rc, replace = 0;
    if (root && (v = cJSON_GetObjectItemCaseSensitive(root, "defaultRegion")) &&
        (rc = parse_region(a, v)))
        return rc;
    const cJSON *sent = root ? cJSON_GetObjectItemCaseSensitive(root, "sentiment") : NULL;
    if (sent && (rc = parse_sentiment(sent, &replace)))
        return rc;
    if (!replace) {
        for (size_t i = 0; i < omni__ana_lexicon_en_n; i++) {
            const ana_lexentry *e = &omni__ana_lexicon_en[i];
            ana_word *w = omni__ana_insert(&a->words, omni__ana_hash(e->w, strlen(e->w)));
            if (!w)
                return nomem();
            w->flags |= W_SENT;
            w->sent = e->v;
        }
    }
    if ((rc = add_flags(a, omni__ana_negators, W_NEG)) ||
        (rc = add_flags(a, omni__ana_intensifiers, W_INT)) ||
        (rc = add_flags(a, omni__ana_diminishers, W_DIM)) ||
        (rc = add_flags(a, omni__ana_common_en, W_EN)) ||
        (rc = add_flags(a, omni__ana_common_hi, W_HI)))
        return rc;
    if (sent && (v = cJSON_GetObjectItemCaseSensitive(sent, "lexicon")) &&
        (rc = parse_lexicons(a, v)))
        return rc;
    if ((rc = build_intents(a, root ? cJSON_GetObjectItemCaseSensitive(root, "intents") : NULL)))
        return rc;
    if (root && (v = cJSON_GetObjectItemCaseSensitive(root, "entities")) &&
        (rc = parse_entities(a, v)))
        return rc;
    if (root && (v = cJSON_GetObjectItemCaseSensitive(root, "spam")) && (rc = parse_spam(a, v)))
        return rc;
    return OMNI_OK;
}

int omni_analyzer_compile(omni_analyzer **out, const char *config_json, size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "omni_analyzer_compile: out is NULL");
    *out = NULL;
    if (!config_json && len > 0)
        return omni__err(OMNI_EINVAL, "omni_analyzer_compile: configuration is NULL");
    if (len > OMNI_ANALYZE_MAX_CONFIG)
        return omni__err(OMNI_ETOOLARGE,
                         "analyzer: the configuration is %zu bytes, over the limit of %u", len,
                         OMNI_ANALYZE_MAX_CONFIG);
    cJSON *root = NULL;
    if (len > 0) {
        int rc = omni__json_parse(&root, config_json, len, OMNI_ANALYZE_MAX_CONFIG,
                                  "analyzer configuration");
        if (rc)
            return rc;
    }
    omni_analyzer *a = calloc(1, sizeof(*a));
    if (!a) {
        cJSON_Delete(root);
        return nomem();
    }
    memcpy(a->weights, omni__ana_default_weights, sizeof(a->weights));
    a->threshold = DEFAULT_THRESHOLD;
    memcpy(a->region, "US", 3);
    a->shorteners = (char **)omni__ana_shorteners;
    while (omni__ana_shorteners[a->nshorteners])
        a->nshorteners++;
    int rc = compile_config(a, root);
    cJSON_Delete(root);
    if (rc) {
        analyzer_free(a);
        return rc;
    }
    *out = a;
    return OMNI_OK;
}

/* The defaults, compiled once per process (immutable afterwards). */
static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static omni_analyzer *default_analyzer;

static void default_init(void)
{
    if (omni_analyzer_compile(&default_analyzer, NULL, 0) != OMNI_OK)
        default_analyzer = NULL;
}

/* ---- the analysis ----------------------------------------------------------------- */

/* Writes v (within -1..1) rounded to two decimals: 0, 1, -0.6, 0.15. */
static void put_num2(omni_buf *b, double v)
{
    long c = lround(v * 100.0);
    char tmp[16];
    size_t n = 0;
    if (c < 0) {
        tmp[n++] = '-';
        c = -c;
    }
    tmp[n++] = (char)('0' + c / 100);
    long f = c % 100;
    if (f) {
        tmp[n++] = '.';
        tmp[n++] = (char)('0' + f / 10);
        if (f % 10)
            tmp[n++] = (char)('0' + f % 10);
    }
    omni__json_w_raw(b, tmp, n);
}

typedef struct ana_result {
    uint64_t intents;
    int blocked_phrase;
    double sentiment;
    const char *language;
    double lang_conf;
    ana_stats st;
    ana_scan sc;
} ana_result;

static const ana_lexicon *find_lexicon(const omni_analyzer *a, const char *lang)
{
    for (int i = 0; i < a->nlex; i++)
        if (strcmp(a->lex[i].lang, lang) == 0)
            return &a->lex[i];
    return NULL;
}

/* The word pass: normalization, word lookups, phrases, language, sentiment. */
static int word_pass(const omni_analyzer *a, const char *text, size_t len, const char *hint,
                     char *hint_buf, ana_result *r)
{
    char nbuf_local[STACK_TEXT + 16];
    uint64_t hs_local[STACK_TEXT / 2 + 2];
    const ana_word *ws_local[STACK_TEXT / 2 + 2];
    char *nbuf = nbuf_local;
    uint64_t *hs = hs_local;
    const ana_word **ws = ws_local;
    size_t cap = sizeof(nbuf_local), maxw = STACK_TEXT / 2 + 2;
    void *heap = NULL;
    if (len > STACK_TEXT) {
        /* normalization never makes the text longer (plus its terminator) */
        cap = len + 16;
        maxw = len / 2 + 2;
        heap = malloc(cap + maxw * (sizeof(uint64_t) + sizeof(ana_word *)));
        if (!heap)
            return nomem();
        hs = heap;
        ws = (const ana_word **)(hs + maxw);
        nbuf = (char *)(ws + maxw);
    }
    /* cut, hash and look up every word */
    size_t k = 0;
    uint64_t intents = 0;
    int blocked = 0, has_phrase = 0;
#define WORD_SEEN(h_, alpha_)                                                                  \
    do {                                                                                       \
        const ana_word *e_ = omni__ana_lookup(&a->words, (h_));                                \
        hs[k] = (h_);                                                                          \
        ws[k++] = e_;                                                                          \
        r->st.latin_words += (uint32_t)(alpha_);                                               \
        if (e_) {                                                                              \
            intents |= e_->intents;                                                            \
            blocked |= (e_->flags & W_BLOCK) != 0;                                             \
            r->st.en += (e_->flags & W_EN) != 0;                                               \
            r->st.hi += (e_->flags & W_HI) != 0;                                               \
            has_phrase |= e_->phrase >= 0;                                                     \
        }                                                                                      \
    } while (0)
    if (!r->st.nonascii) {
        /* ASCII text: what omni__optout_normalize does (words are runs of
         * letters and digits, lower-cased), without the copy */
        const unsigned char *u = (const unsigned char *)text;
        size_t i = 0;
        while (i < len) {
            unsigned c = u[i];
            if (!omni__ana_ascii_word[c]) {
                i++;
                continue;
            }
            uint64_t h = 0xcbf29ce484222325ull;
            int alpha = 1;
            do {
                unsigned l = omni__ana_ascii_word[c];
                alpha &= l >= 'a';
                h ^= l;
                h *= 0x100000001b3ull;
                c = ++i < len ? u[i] : 0;
            } while (i < len && omni__ana_ascii_word[c]);
            h = h ? h : 1;
            WORD_SEEN(h, alpha);
        }
    } else {
        int nw = omni__optout_normalize(text, len, nbuf, cap);
        if (nw < 0 || (size_t)nw > maxw) {
            free(heap);
            return omni__err(OMNI_EINTERNAL, "analyzer: normalized text does not fit");
        }
        const char *p = nbuf;
        while (*p) {
            const char *w = p;
            int alpha = 1;
            while (*p && *p != ' ') {
                unsigned char c = (unsigned char)*p;
                alpha &= c >= 'a' && c <= 'z';
                p++;
            }
            uint64_t h = omni__ana_hash(w, (size_t)(p - w));
            WORD_SEEN(h, alpha);
            if (*p == ' ')
                p++;
        }
    }
#undef WORD_SEEN
    if (has_phrase) {
        for (size_t i = 0; i < k; i++) {
            if (!ws[i] || ws[i]->phrase < 0)
                continue;
            for (int32_t q = ws[i]->phrase; q >= 0; q = a->phrases[q].next) {
                const ana_phrase *ph = &a->phrases[q];
                if (i + ph->n > k)
                    continue;
                int ok = 1;
                for (int j = 1; j < ph->n && ok; j++)
                    ok = hs[i + (size_t)j] == ph->h[j];
                if (!ok)
                    continue;
                if (ph->target >= 0)
                    intents |= (uint64_t)1 << ph->target;
                else
                    blocked = 1;
            }
        }
    }
    r->intents = intents;
    r->blocked_phrase = blocked;

    r->language = omni__ana_language(&r->st, hint, hint_buf, &r->lang_conf);

    /* sentiment: the language's lexicon first, then the en one */
    const ana_lexicon *lx = strcmp(r->language, "en") ? find_lexicon(a, r->language) : NULL;
    double sum = 0;
    int hits = 0;
    for (size_t i = 0; i < k; i++) {
        double v;
        const ana_word *e = NULL;
        if (lx)
            e = omni__ana_lookup(&lx->t, hs[i]);
        if (!e || !(e->flags & W_SENT))
            e = ws[i];
        if (!e || !(e->flags & W_SENT))
            continue;
        v = e->sent;
        for (size_t j = 1; j <= 2 && j <= i; j++) {
            const ana_word *m = ws[i - j];
            if (m && (m->flags & W_INT)) {
                v *= 1.5;
                break;
            }
            if (m && (m->flags & W_DIM)) {
                v *= 0.5;
                break;
            }
        }
        /* a negator among the 3 words before, with no lexicon word between */
        for (size_t j = 1; j <= 3 && j <= i; j++) {
            const ana_word *m = ws[i - j];
            if (m && (m->flags & W_NEG)) {
                v = -v;
                break;
            }
            if (m && (m->flags & W_SENT) && !(m->flags & (W_INT | W_DIM)))
                break;
        }
        sum += v;
        hits++;
    }
    double s = hits ? sum / (3.0 * sqrt((double)hits)) : 0;
    r->sentiment = s < -1 ? -1 : s > 1 ? 1 : s;
    free(heap);
    return OMNI_OK;
}

static int sender_blocked(const omni_analyzer *a, const char *sender)
{
    if (!sender || a->nsenders == 0)
        return 0;
    char norm[MAX_SENDER + 1];
    if (!sender_norm(sender, a->region, norm, sizeof(norm)))
        return 0;
    const char *key = norm;
    return bsearch(&key, a->senders, a->nsenders, sizeof(char *), cmp_str) != NULL;
}

/* Analyzes text[0..len) (valid UTF-8, within the limit) into b. */
static int analyze(const omni_analyzer *a, const char *text, size_t len, const char *hint,
                   const char *sender, int content, omni_buf *b)
{
    ana_result r;
    memset(&r.st, 0, sizeof(r.st));
    r.sc.nent = 0;
    r.sc.links = r.sc.shortened = r.sc.suspicious = 0;
    r.intents = 0;
    r.blocked_phrase = 0;
    r.sentiment = 0;
    char hint_buf[16];
    int rc;
    if (content) {
        omni__ana_text_stats(text, len, &r.st);
        if ((rc = word_pass(a, text, len, hint, hint_buf, &r)))
            return rc;
        if ((rc = omni__ana_entities(a, text, len, &r.sc)))
            return rc;
    } else {
        r.language = omni__ana_language(&r.st, hint, hint_buf, &r.lang_conf);
    }

    /* capitals of links and addresses do not count */
    for (int i = 0; i < r.sc.nent; i++) {
        const ana_entity *e = &r.sc.ent[i];
        if (e->type != ENT_URL && e->type != ENT_EMAIL)
            continue;
        for (uint32_t k = e->start; k < e->end; k++) {
            unsigned char c = (unsigned char)text[k];
            r.st.upper -= c >= 'A' && c <= 'Z';
            r.st.lower -= c >= 'a' && c <= 'z';
        }
    }
    int reasons[R_COUNT] = {0};
    reasons[R_BLOCKED_SENDER] = sender_blocked(a, sender);
    reasons[R_BLOCKED_PHRASE] = r.blocked_phrase;
    reasons[R_SHORTENED_LINK] = r.sc.shortened;
    reasons[R_SUSPICIOUS_LINK] = r.sc.suspicious;
    reasons[R_REPEATED_CHARS] = r.st.longest_run >= 6;
    uint32_t letters = r.st.upper + r.st.lower;
    reasons[R_ALL_CAPS] = letters >= 10 && r.st.upper * 5 > letters * 4;
    reasons[R_EXCESSIVE_LINKS] = r.sc.links > 3;
    reasons[R_EXCESSIVE_PUNCT] = r.st.longest_bang >= 4;
    double score = 0;
    for (int i = 0; i < R_COUNT; i++)
        if (reasons[i])
            score += a->weights[i];
    score = clamp01(score);
    score = floor(score * 100.0 + 0.5) / 100.0; /* as written */

    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "spam");
    omni__json_w_bool(b, score >= a->threshold && score > 0);
    omni__json_w_keyl(b, "spamScore");
    put_num2(b, score);
    omni__json_w_keyl(b, "spamReasons");
    omni__json_w_arr_begin(b);
    for (int i = 0; i < R_COUNT; i++)
        if (reasons[i])
            omni__json_w_str(b, omni__ana_reason_names[i]);
    omni__json_w_arr_end(b);
    double sent = floor(r.sentiment * 100.0 + 0.5) / 100.0;
    omni__json_w_keyl(b, "sentiment");
    omni__json_w_str(b, sent > NEUTRAL_BAND    ? "positive"
                        : sent < -NEUTRAL_BAND ? "negative"
                                               : "neutral");
    omni__json_w_keyl(b, "sentimentScore");
    put_num2(b, sent);
    omni__json_w_keyl(b, "intent");
    omni__json_w_arr_begin(b);
    for (int i = 0; i < a->nintents; i++)
        if (r.intents & ((uint64_t)1 << i))
            omni__json_w_str(b, a->intent_names[i]);
    omni__json_w_arr_end(b);
    omni__json_w_keyl(b, "entities");
    omni__json_w_arr_begin(b);
    for (int i = 0; i < r.sc.nent; i++) {
        const ana_entity *e = &r.sc.ent[i];
        static const char *const types[] = {"email", "phone", "url"};
        omni__json_w_obj_begin(b);
        omni__json_w_keyl(b, "type");
        omni__json_w_str(b, e->type == ENT_PATTERN ? a->patterns[e->pattern].name
                                                   : types[e->type]);
        omni__json_w_keyl(b, "value");
        omni__json_w_strn(b, text + e->start, e->end - e->start);
        omni__json_w_keyl(b, "normalized");
        omni__ana_entity_normalized(text, e, b);
        omni__json_w_keyl(b, "start");
        omni__json_w_int(b, e->start);
        omni__json_w_keyl(b, "end");
        omni__json_w_int(b, e->end);
        omni__json_w_obj_end(b);
    }
    omni__json_w_arr_end(b);
    omni__json_w_keyl(b, "language");
    omni__json_w_str(b, r.language);
    omni__json_w_keyl(b, "languageConfidence");
    put_num2(b, r.lang_conf);
    omni__json_w_obj_end(b);
    return OMNI_OK;
}

static int run(char **out, size_t *out_len, const omni_analyzer *a, const char *text, size_t len,
               const char *hint, const char *sender, int content)
{
    omni_analyzer *tmp = NULL;
    if (!a) {
        pthread_once(&default_once, default_init);
        a = default_analyzer;
        if (!a) { /* could not be built once: this call's own */
            int rc = omni_analyzer_compile(&tmp, NULL, 0);
            if (rc)
                return rc;
            a = tmp;
        }
    }
    omni_buf b = OMNI_BUF_INIT;
    omni__buf_reserve(&b, 256 + len * 2);
    int rc = analyze(a, text, len, hint, sender, content, &b);
    omni_analyzer_free(tmp);
    return omni__buf_finish(&b, rc, out, out_len);
}

static int check_text(const char *text, size_t len)
{
    if (len > OMNI_ANALYZE_MAX_CONTENT)
        return omni__err(OMNI_ETOOLARGE, "analyzer: content is %zu bytes, over the limit of %u",
                         len, OMNI_ANALYZE_MAX_CONTENT);
    size_t bad;
    if (!omni__utf8_valid(text, len, &bad))
        return omni__err(OMNI_EENCODING, "analyzer: content is not UTF-8 (%s at byte %zu)",
                         omni__utf8_reason(text, len, bad), bad);
    return OMNI_OK;
}

int omni_analyze_text(char **out, size_t *out_len, const omni_analyzer *analyzer,
                      const char *text, size_t len, const char *language_hint,
                      const char *sender)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "omni_analyze_text: out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!text && len > 0)
        return omni__err(OMNI_EINVAL, "omni_analyze_text: text is NULL");
    int rc = check_text(text ? text : "", len);
    if (rc)
        return rc;
    return run(out, out_len, analyzer, text ? text : "", len, language_hint, sender, 1);
}

/* An optional string member: NULL when absent or null; -1 when of another type. */
static int opt_string(const cJSON *root, const char *name, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return -1;
    *out = v->valuestring;
    return 0;
}

int omni_analyze(char **out, size_t *out_len, const omni_analyzer *analyzer,
                 const char *request_json, size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "omni_analyze: out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!request_json)
        return omni__err(OMNI_EINVAL, "omni_analyze: request is NULL");
    if (len > OMNI_ANALYZE_MAX_REQUEST)
        return omni__err(OMNI_ETOOLARGE, "analyzer: the request is %zu bytes, over the limit of %u",
                         len, OMNI_ANALYZE_MAX_REQUEST);
    cJSON *root = NULL;
    int rc = omni__json_parse(&root, request_json, len, OMNI_ANALYZE_MAX_REQUEST,
                              "analysis request");
    if (rc)
        return rc;
    const char *type = NULL, *hint = NULL, *sender = NULL;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(root, "content");
    int analyze_content = 1;
    if (!cJSON_IsObject(root)) {
        rc = omni__err(OMNI_EINVAL, "analyzer: the request is not a JSON object");
    } else if (!cJSON_IsString(content)) {
        rc = omni__err(OMNI_EINVAL, "analyzer: the request has no \"content\" string");
    } else if (opt_string(root, "contentType", &type)) {
        rc = omni__err(OMNI_EINVAL, "analyzer: \"contentType\" is not a string");
    } else if (opt_string(root, "language", &hint)) {
        rc = omni__err(OMNI_EINVAL, "analyzer: \"language\" is not a string");
    } else if (opt_string(root, "sender", &sender)) {
        rc = omni__err(OMNI_EINVAL, "analyzer: \"sender\" is not a string");
    } else if (type && strcmp(type, "text") && strcmp(type, "media") &&
               strcmp(type, "location") && strcmp(type, "contact")) {
        rc = omni__err(OMNI_EINVAL,
                       "analyzer: \"contentType\" is not one of text, media, location, contact");
    }
    if (!rc) {
        analyze_content = !type || strcmp(type, "text") == 0 || strcmp(type, "media") == 0;
        const char *text = content->valuestring;
        size_t n = strlen(text);
        rc = check_text(text, n);
        if (!rc)
            rc = run(out, out_len, analyzer, text, n, hint, sender, analyze_content);
    }
    cJSON_Delete(root);
    return rc;
}
