/* Rule-engine benchmark (issue 6): generates rule sets of 10, 100, 1,000 and
 * 10,000 messaging rules and 1,000 facts per set (deterministic PRNG, fixed
 * seed) into a temporary folder, evaluates them with libomni
 * (omni_rules_match_data on facts parsed beforehand, omni_rules_match on the
 * JSON text with the parse included), with json-rules-engine 7.3.1 (as
 * shipped and with its pathResolver option set to a dotted-path walk) and
 * with a plain JavaScript evaluator of the same semantics
 * (bench/rules_peer.js, started by this program), checks that all of them
 * match the same rules for every fact, and prints rates and ratios.
 *
 * Families (the rules files are read by every engine that runs them):
 *   index   json-rules-engine format: every rule all of 1-3 equal / in
 *           conditions, each on its own values (few rules match a fact)
 *   mixed   json-rules-engine format: contains on arrays, greaterThan /
 *           lessThan on numbers, notEqual / notIn, any and not groups
 *   prefix  RoutingRule format: startsWith on phone numbers plus equals /
 *           in; libomni and plain-js only (json-rules-engine has no
 *           startsWith operator)
 * Each fact is generated to satisfy 0-5 chosen rules of its set (others may
 * match by chance).
 *
 * Output, one JSON line each: per (family, size, engine, input form)
 *   {"name","engine","family","rules","input","facts","ns_per_fact",
 *    "cpu_ns_per_fact","facts_per_sec"[,"matched_per_fact"]
 *    [,"batches","ratio","cpu_ratio","mismatches"]}
 * (medians of timed batches; libomni's batches cycle through the facts)
 * with ratio = the engine's ns per fact / libomni's in the same input form
 * (above 1: libomni is faster; "parsed" is compared with
 * omni_rules_match_data, "json-text" with omni_rules_match), cpu_ratio the
 * same with process CPU time (steadier on a busy machine); then per family
 * and size a "rules_summary" line with the goal ratios, per family a
 * "rules_scaling" line (libomni at 10,000 rules / at 10 rules), and a
 * "rules_check" line. Goals (issue 6): plain-js / libomni >= 10 at 100 and
 * 1,000 rules, parsed and text; libomni(10,000) / libomni(10) <= 3 for the
 * index (and prefix) family. Timings are reported, never asserted; a
 * disagreement between the engines (or between libomni's two input forms)
 * makes the exit status 1.
 *
 * json-rules-engine fires rules of equal priority in the order their
 * (asynchronous) evaluation completes, which depends on the shape of their
 * conditions, not in insertion order; its results are therefore compared
 * after a stable sort by priority (descending), and the facts where its raw
 * order differs are counted as "jre_equal_priority_reorders" (not an error).
 * libomni and plain-js are compared in exact order.
 *
 * json-rules-engine needs about 35 us per rule and fact at 10,000 rules
 * (over 5 minutes for 1,000 facts): by default it runs on the first
 * max(50, 500,000 / rules) facts of a case (all 1,000 up to 500 rules; 500
 * at 1,000 rules; 50 at 10,000), plain-js on all of them; --jre-all runs it
 * on every fact (a run of about half an hour).
 *
 * usage: omni-bench-rules [--smoke] [--filter NAME] [--batches N] [--no-peer]
 *                         [--keep-data] [--jre-all]
 * --smoke: 10 and 100 rules, 50 facts, one batch; the peer without npm.
 * --keep-data: leave the generated files (their folder is named on stderr).
 * Environment: OMNI_JRE_CACHE (where json-rules-engine is installed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <omni/omni.h>

#include "bench.h"
#include "lib/core/buf.h"

#ifndef OMNI_BENCH_SOURCE_DIR
#define OMNI_BENCH_SOURCE_DIR "bench"
#endif
#ifndef OMNI_BENCH_CACHE_DIR
#define OMNI_BENCH_CACHE_DIR "/tmp/omni-json-rules-engine"
#endif

#define SEED 0x6f6d6e6952554c45ull /* "omniRULE" */
#define SLEN 24
#define MAX_CONDS 12
#define MAX_MATCH 1024

/* ---- deterministic PRNG (splitmix64) ---------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnext(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned rnd(rng *r, unsigned n)
{
    return (unsigned)(rnext(r) % n);
}

/* ---- the facts model ------------------------------------------------------------ */

enum { K_STR, K_ARR, K_NUM };
enum { O_MESSAGE, O_ROUTING, O_IDENTITY, O_ANALYSIS, O_CONVERSATION, NOBJ };
enum {
    F_CHANNEL, F_CARRIER, F_FROM, F_TO, F_ACCOUNT, F_REGION, F_CUSTOMER, F_TIER, F_TAGS,
    F_LANGUAGE, F_INTENT, F_SENTIMENT, F_MSGCOUNT, F_STATUS, NFIELDS
};

static const char *const obj_names[NOBJ] = {"message", "routing", "identity", "contentAnalysis",
                                            "conversation"};

static const struct {
    int obj;
    const char *path;
    int kind;
} fields[NFIELDS] = {
    [F_CHANNEL] = {O_MESSAGE, "channel", K_STR},
    [F_CARRIER] = {O_MESSAGE, "carrier", K_STR},
    [F_FROM] = {O_MESSAGE, "from", K_STR},
    [F_TO] = {O_MESSAGE, "to", K_STR},
    [F_ACCOUNT] = {O_ROUTING, "accountId", K_STR},
    [F_REGION] = {O_ROUTING, "region", K_STR},
    [F_CUSTOMER] = {O_IDENTITY, "customerId", K_STR},
    [F_TIER] = {O_IDENTITY, "profile.tier", K_STR},
    [F_TAGS] = {O_IDENTITY, "profile.tags", K_ARR},
    [F_LANGUAGE] = {O_ANALYSIS, "language", K_STR},
    [F_INTENT] = {O_ANALYSIS, "intent", K_ARR},
    [F_SENTIMENT] = {O_ANALYSIS, "sentiment", K_NUM}, /* in steps of 0.05 */
    [F_MSGCOUNT] = {O_CONVERSATION, "metadata.messageCount", K_NUM},
    [F_STATUS] = {O_CONVERSATION, "status", K_STR},
};

static const char *const channels[] = {"sms", "whatsapp", "email", "webchat", "messenger",
                                       "instagram", "rcs", "voice"};
static const char *const carriers[] = {"twilio", "vonage", "sinch", "bandwidth", "plivo",
                                       "messagebird", "infobip", "telnyx"};
static const char *const regions[] = {"us-east", "us-west", "eu-west", "eu-central",
                                      "ap-south", "sa-east"};
static const char *const tiers[] = {"free", "pro", "business", "enterprise"};
static const char *const languages[] = {"en", "es", "fr", "de", "pt", "hi", "ar", "ja", "zh",
                                        "it"};
static const char *const statuses[] = {"open", "pending", "closed"};
static const char *const common_tags[] = {"vip", "churn-risk", "new-customer", "enterprise",
                                          "delinquent", "beta", "gold", "platinum",
                                          "opted-in", "do-not-disturb", "b2b", "promo"};
static const char *const common_intents[] = {"billing", "refund", "cancel", "upgrade",
                                             "support", "sales", "complaint", "shipping",
                                             "password-reset", "greeting", "appointment",
                                             "feedback"};
static const unsigned country_codes[] = {1, 44, 91, 49, 33, 55, 61, 81};
static const char *const contents[] = {
    "Hi, I was charged twice on my last bill, can you help?",
    "Where is my order? It was supposed to arrive yesterday.",
    "I want to cancel my subscription please",
    "Can I upgrade to the business plan today?",
    "Thanks, that solved it!",
    "I can't log in, password reset link does not work",
    "Need to reschedule my appointment for next week",
    "STOP",
    "Hola, necesito ayuda con mi factura",
    "Your service has been terrible this month and I am not happy",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAXARR 6

typedef struct fact {
    char s[NFIELDS][SLEN];
    char arr[NFIELDS][MAXARR][SLEN];
    int narr[NFIELDS];
    int num[NFIELDS];
    int present[NOBJ];
    unsigned content, id;
} fact;

/* A fresh random value of a string field. */
static void random_value(rng *r, int field, char *out)
{
    switch (field) {
    case F_CHANNEL:
        snprintf(out, SLEN, "%s", channels[rnd(r, COUNT(channels))]);
        break;
    case F_CARRIER:
        snprintf(out, SLEN, "%s", carriers[rnd(r, COUNT(carriers))]);
        break;
    case F_FROM: {
        unsigned cc = country_codes[rnd(r, COUNT(country_codes))];
        snprintf(out, SLEN, "+%u%05u%05u", cc, rnd(r, 100000), rnd(r, 100000));
        break;
    }
    case F_TO:
        snprintf(out, SLEN, "+1%03u%07u", 201 + rnd(r, 789), rnd(r, 10000000));
        break;
    case F_ACCOUNT:
        snprintf(out, SLEN, "acct-%06u", rnd(r, 200000));
        break;
    case F_REGION:
        snprintf(out, SLEN, "%s", regions[rnd(r, COUNT(regions))]);
        break;
    case F_CUSTOMER:
        snprintf(out, SLEN, "cust-%07u", rnd(r, 2000000));
        break;
    case F_TIER:
        snprintf(out, SLEN, "%s", tiers[rnd(r, COUNT(tiers))]);
        break;
    case F_TAGS:
        if (rnd(r, 3) == 0)
            snprintf(out, SLEN, "seg-%03u", rnd(r, 500));
        else
            snprintf(out, SLEN, "%s", common_tags[rnd(r, COUNT(common_tags))]);
        break;
    case F_LANGUAGE:
        /* mostly English */
        snprintf(out, SLEN, "%s", rnd(r, 2) ? "en" : languages[rnd(r, COUNT(languages))]);
        break;
    case F_INTENT:
        if (rnd(r, 4) == 0)
            snprintf(out, SLEN, "topic-%03u", rnd(r, 300));
        else
            snprintf(out, SLEN, "%s", common_intents[rnd(r, COUNT(common_intents))]);
        break;
    case F_STATUS:
        snprintf(out, SLEN, "%s", statuses[rnd(r, COUNT(statuses))]);
        break;
    default:
        out[0] = '\0';
    }
}

static int arr_has(const fact *f, int field, const char *v)
{
    for (int i = 0; i < f->narr[field]; i++)
        if (strcmp(f->arr[field][i], v) == 0)
            return 1;
    return 0;
}

static void arr_add(fact *f, int field, const char *v)
{
    if (arr_has(f, field, v))
        return;
    int i = f->narr[field] < MAXARR ? f->narr[field]++ : MAXARR - 1;
    snprintf(f->arr[field][i], SLEN, "%s", v);
}

static void arr_remove(fact *f, int field, const char *v)
{
    for (int i = 0; i < f->narr[field]; i++)
        if (strcmp(f->arr[field][i], v) == 0) {
            memmove(f->arr[field][i], f->arr[field][i + 1],
                    (size_t)(f->narr[field] - i - 1) * SLEN);
            f->narr[field]--;
            return;
        }
}

static void random_fact(rng *r, fact *f, unsigned id)
{
    memset(f, 0, sizeof(*f));
    f->id = id;
    for (int k = 0; k < NFIELDS; k++) {
        if (fields[k].kind == K_STR) {
            random_value(r, k, f->s[k]);
        } else if (fields[k].kind == K_ARR) {
            int n = (int)rnd(r, k == F_TAGS ? 5 : 4);
            for (int i = 0; i < n; i++) {
                char v[SLEN];
                random_value(r, k, v);
                arr_add(f, k, v);
            }
        }
    }
    f->num[F_SENTIMENT] = (int)rnd(r, 41) - 20;
    f->num[F_MSGCOUNT] = (int)rnd(r, 81);
    f->present[O_MESSAGE] = f->present[O_ROUTING] = 1;
    f->present[O_IDENTITY] = rnd(r, 100) < 85;
    f->present[O_ANALYSIS] = rnd(r, 100) < 90;
    f->present[O_CONVERSATION] = rnd(r, 100) < 70;
    f->content = rnd(r, COUNT(contents));
}

/* ---- rules ------------------------------------------------------------------------ */

enum { C_LEAF, C_ALL, C_ANY, C_NOT };
enum { OP_EQ, OP_NEQ, OP_IN, OP_NOTIN, OP_CONTAINS, OP_GT, OP_LT, OP_STARTS };
static const char *const jre_ops[] = {"equal", "notEqual", "in", "notIn", "contains",
                                      "greaterThan", "lessThan", NULL};
static const char *const routing_ops[] = {"equals", "notEquals", "in", "notIn", "contains",
                                          "greaterThan", "lessThan", "startsWith"};

typedef struct cond {
    int kind, field, op, nval, num, nkids;
    char val[3][SLEN];
    int kids[4];
} cond;

typedef struct rule {
    int priority, root, nc, action;
    cond c[MAX_CONDS];
} rule;

enum { FAM_INDEX, FAM_MIXED, FAM_PREFIX, NFAM };
static const char *const fam_names[NFAM] = {"index", "mixed", "prefix"};

static int add_cond(rule *r, int kind)
{
    cond *c = &r->c[r->nc];
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    return r->nc++;
}

static void add_kid(rule *r, int parent, int kid)
{
    r->c[parent].kids[r->c[parent].nkids++] = kid;
}

/* A leaf with a string value (or `nval` fresh distinct values for in/notIn). */
static int leaf(rule *ru, rng *r, int field, int op, int nval)
{
    int i = add_cond(ru, C_LEAF);
    cond *c = &ru->c[i];
    c->field = field;
    c->op = op;
    c->nval = nval;
    for (int k = 0; k < nval; k++) {
        int tries = 0;
        do
            random_value(r, field, c->val[k]);
        while (k > 0 && tries++ < 20 &&
               (strcmp(c->val[k], c->val[0]) == 0 || (k > 1 && !strcmp(c->val[k], c->val[1]))));
    }
    return i;
}

static int leaf_const(rule *ru, int field, int op, const char *v)
{
    int i = add_cond(ru, C_LEAF);
    cond *c = &ru->c[i];
    c->field = field;
    c->op = op;
    c->nval = 1;
    snprintf(c->val[0], SLEN, "%s", v);
    return i;
}

static int leaf_num(rule *ru, int field, int op, int num)
{
    int i = add_cond(ru, C_LEAF);
    ru->c[i].field = field;
    ru->c[i].op = op;
    ru->c[i].num = num;
    return i;
}

/* A phone-number prefix: the first `len` characters of a random number. */
static int leaf_prefix(rule *ru, rng *r, int field, int len)
{
    int i = add_cond(ru, C_LEAF);
    cond *c = &ru->c[i];
    c->field = field;
    c->op = OP_STARTS;
    c->nval = 1;
    random_value(r, field, c->val[0]);
    if (len < SLEN)
        c->val[0][len] = '\0';
    return i;
}

static void gen_index_rule(rng *r, rule *ru)
{
    ru->root = add_cond(ru, C_ALL);
    unsigned shape = rnd(r, 100);
    if (shape < 40) {
        add_kid(ru, ru->root, leaf(ru, r, F_ACCOUNT, OP_EQ, 1));
        if (rnd(r, 2))
            add_kid(ru, ru->root, leaf(ru, r, F_CHANNEL, OP_IN, 2));
    } else if (shape < 65) {
        add_kid(ru, ru->root, leaf(ru, r, F_TO, OP_EQ, 1));
        add_kid(ru, ru->root, leaf(ru, r, F_CHANNEL, OP_EQ, 1));
    } else if (shape < 85) {
        add_kid(ru, ru->root, leaf(ru, r, F_CUSTOMER, OP_EQ, 1));
        add_kid(ru, ru->root, leaf(ru, r, F_LANGUAGE, OP_IN, 2));
    } else {
        add_kid(ru, ru->root, leaf(ru, r, F_CARRIER, OP_EQ, 1));
        add_kid(ru, ru->root, leaf(ru, r, F_ACCOUNT, OP_IN, 3));
        add_kid(ru, ru->root, leaf(ru, r, F_REGION, OP_EQ, 1));
    }
}

static void gen_mixed_rule(rng *r, rule *ru)
{
    if (rnd(r, 100) >= 80) {
        /* any: [account, all: [customer, tags contains vip], to] */
        ru->root = add_cond(ru, C_ANY);
        add_kid(ru, ru->root, leaf(ru, r, F_ACCOUNT, OP_EQ, 1));
        int all = add_cond(ru, C_ALL);
        add_kid(ru, all, leaf(ru, r, F_CUSTOMER, OP_EQ, 1));
        add_kid(ru, all, leaf_const(ru, F_TAGS, OP_CONTAINS, "vip"));
        add_kid(ru, ru->root, all);
        add_kid(ru, ru->root, leaf(ru, r, F_TO, OP_EQ, 1));
        return;
    }
    ru->root = add_cond(ru, C_ALL);
    unsigned sel = rnd(r, 4);
    if (sel < 2) {
        add_kid(ru, ru->root, leaf(ru, r, F_ACCOUNT, OP_EQ, 1));
    } else if (sel == 2) {
        add_kid(ru, ru->root, leaf(ru, r, F_CUSTOMER, OP_EQ, 1));
    } else {
        int any = add_cond(ru, C_ANY);
        add_kid(ru, any, leaf(ru, r, F_ACCOUNT, OP_EQ, 1));
        add_kid(ru, any, leaf(ru, r, F_TO, OP_EQ, 1));
        add_kid(ru, ru->root, any);
    }
    unsigned extras = 1 + rnd(r, 2), used = 0;
    for (unsigned e = 0; e < extras; e++) {
        unsigned kind;
        do
            kind = rnd(r, 9);
        while (used & (1u << kind));
        used |= 1u << kind;
        int k = -1;
        switch (kind) {
        case 0:
            k = leaf_const(ru, F_TAGS, OP_CONTAINS, common_tags[rnd(r, COUNT(common_tags))]);
            break;
        case 1:
            k = leaf_const(ru, F_INTENT, OP_CONTAINS,
                           common_intents[rnd(r, COUNT(common_intents))]);
            break;
        case 2:
            k = leaf_num(ru, F_MSGCOUNT, OP_GT, (int)rnd(r, 40));
            break;
        case 3:
            k = leaf_num(ru, F_SENTIMENT, OP_LT, (int)rnd(r, 20) - 14);
            break;
        case 4:
            k = add_cond(ru, C_NOT);
            add_kid(ru, k, leaf(ru, r, F_CHANNEL, OP_EQ, 1));
            break;
        case 5:
            k = leaf(ru, r, F_LANGUAGE, OP_NOTIN, 2);
            break;
        case 6:
            k = leaf_const(ru, F_STATUS, OP_NEQ, "closed");
            break;
        case 7:
            k = leaf(ru, r, F_TIER, OP_IN, 2);
            break;
        default:
            k = add_cond(ru, C_ANY);
            add_kid(ru, k,
                    leaf_const(ru, F_TAGS, OP_CONTAINS, common_tags[rnd(r, COUNT(common_tags))]));
            add_kid(ru, k, leaf_const(ru, F_INTENT, OP_CONTAINS,
                                      common_intents[rnd(r, COUNT(common_intents))]));
            break;
        }
        add_kid(ru, ru->root, k);
    }
}

static void gen_prefix_rule(rng *r, rule *ru)
{
    ru->root = add_cond(ru, C_ALL);
    unsigned shape = rnd(r, 100);
    if (shape < 60) {
        /* a sender's number range on one channel: "+44" and 5-7 digits */
        int k = leaf_prefix(ru, r, F_FROM, 8 + (int)rnd(r, 3));
        add_kid(ru, ru->root, k);
        add_kid(ru, ru->root, leaf(ru, r, F_CHANNEL, OP_EQ, 1));
    } else if (shape < 85) {
        /* a business number block ("+1415555") on some carriers */
        add_kid(ru, ru->root, leaf_prefix(ru, r, F_TO, 8 + (int)rnd(r, 2)));
        add_kid(ru, ru->root, leaf(ru, r, F_CARRIER, OP_IN, 2));
    } else {
        /* an account's senders of one country/area */
        add_kid(ru, ru->root, leaf(ru, r, F_ACCOUNT, OP_EQ, 1));
        add_kid(ru, ru->root, leaf_prefix(ru, r, F_FROM, 4 + (int)rnd(r, 2)));
    }
}

/* Makes the fact satisfy (want = 1) or fail (want = 0) condition i. */
static void satisfy(rng *r, const rule *ru, int i, fact *f, int want)
{
    const cond *c = &ru->c[i];
    if (c->kind == C_ALL || (c->kind == C_ANY && want)) {
        if (c->kind == C_ANY)
            satisfy(r, ru, c->kids[0], f, 1);
        else
            for (int k = 0; k < c->nkids; k++)
                satisfy(r, ru, c->kids[k], f, want);
        return;
    }
    if (c->kind == C_ANY) {
        for (int k = 0; k < c->nkids; k++)
            satisfy(r, ru, c->kids[k], f, 0);
        return;
    }
    if (c->kind == C_NOT) {
        satisfy(r, ru, c->kids[0], f, !want);
        return;
    }
    int field = c->field;
    f->present[fields[field].obj] = 1;
    int pos = (c->op == OP_EQ || c->op == OP_IN || c->op == OP_CONTAINS || c->op == OP_GT ||
               c->op == OP_LT || c->op == OP_STARTS) == want;
    switch (c->op) {
    case OP_EQ:
    case OP_NEQ:
    case OP_IN:
    case OP_NOTIN:
        if (pos) {
            snprintf(f->s[field], SLEN, "%s", c->val[rnd(r, (unsigned)c->nval)]);
        } else {
            for (int tries = 0; tries < 50; tries++) {
                int hit = 0;
                for (int k = 0; k < c->nval; k++)
                    hit |= strcmp(f->s[field], c->val[k]) == 0;
                if (!hit)
                    break;
                random_value(r, field, f->s[field]);
            }
        }
        break;
    case OP_CONTAINS:
        if (pos)
            arr_add(f, field, c->val[0]);
        else
            arr_remove(f, field, c->val[0]);
        break;
    case OP_GT:
        f->num[field] = pos ? c->num + 1 + (int)rnd(r, 30) : c->num - (int)rnd(r, 3);
        break;
    case OP_LT:
        f->num[field] = pos ? c->num - 1 - (int)rnd(r, 3) : c->num + (int)rnd(r, 3);
        if (f->num[field] < -20)
            f->num[field] = -20;
        break;
    case OP_STARTS: {
        char full[SLEN];
        random_value(r, field, full);
        size_t pl = strlen(c->val[0]);
        if (pos) {
            /* the prefix, then random digits to a full number's length */
            size_t n = strlen(full) > pl ? strlen(full) : pl + 4;
            snprintf(f->s[field], SLEN, "%s", c->val[0]);
            for (size_t k = pl; k < n && k < SLEN - 1; k++)
                f->s[field][k] = (char)('0' + rnd(r, 10));
            f->s[field][n < SLEN - 1 ? n : SLEN - 1] = '\0';
        } else if (strncmp(f->s[field], c->val[0], pl) == 0) {
            snprintf(f->s[field], SLEN, "%s", full);
        }
        break;
    }
    default:
        break;
    }
}

/* ---- writing JSON ---------------------------------------------------------------- */

static void put_steps(omni_buf *b, int field, int num)
{
    if (field == F_SENTIMENT)
        omni__buf_printf(b, "%.2f", (double)num / 20.0);
    else
        omni__buf_printf(b, "%d", num);
}

static void put_value(omni_buf *b, const cond *c)
{
    if (c->op == OP_GT || c->op == OP_LT) {
        put_steps(b, c->field, c->num);
    } else if (c->op == OP_IN || c->op == OP_NOTIN) {
        omni__buf_putc(b, '[');
        for (int k = 0; k < c->nval; k++)
            omni__buf_printf(b, "%s\"%s\"", k ? "," : "", c->val[k]);
        omni__buf_putc(b, ']');
    } else {
        omni__buf_printf(b, "\"%s\"", c->val[0]);
    }
}

static void put_jre_cond(omni_buf *b, const rule *ru, int i)
{
    const cond *c = &ru->c[i];
    if (c->kind == C_LEAF) {
        omni__buf_printf(b, "{\"fact\":\"%s\",\"path\":\"$.%s\",\"operator\":\"%s\",\"value\":",
                         obj_names[fields[c->field].obj], fields[c->field].path,
                         jre_ops[c->op]);
        put_value(b, c);
        omni__buf_putc(b, '}');
        return;
    }
    if (c->kind == C_NOT) {
        omni__buf_puts(b, "{\"not\":");
        put_jre_cond(b, ru, c->kids[0]);
        omni__buf_putc(b, '}');
        return;
    }
    omni__buf_printf(b, "{\"%s\":[", c->kind == C_ALL ? "all" : "any");
    for (int k = 0; k < c->nkids; k++) {
        if (k)
            omni__buf_putc(b, ',');
        put_jre_cond(b, ru, c->kids[k]);
    }
    omni__buf_puts(b, "]}");
}

static const char *const action_types[] = {"route_to_queue", "add_tag", "route_to_agent",
                                           "set_priority", "escalate"};

static void put_action_params(omni_buf *b, const rule *ru, int id)
{
    switch (ru->action) {
    case 0:
        omni__buf_printf(b, "\"queueId\":\"queue-%d\"", id % 50);
        break;
    case 1:
        omni__buf_printf(b, "\"tag\":\"rule-%d\"", id);
        break;
    case 2:
        omni__buf_printf(b, "\"agentId\":\"agent-%d\"", id % 200);
        break;
    case 3:
        omni__buf_puts(b, "\"priority\":\"high\"");
        break;
    default:
        omni__buf_printf(b, "\"reason\":\"rule r%d\"", id);
        break;
    }
}

static void put_rule(omni_buf *b, const rule *ru, int id, int family)
{
    if (family == FAM_PREFIX) {
        /* RoutingRule: conditions as an array (all of them) */
        omni__buf_printf(b, "{\"id\":\"r%d\",\"name\":\"prefix rule %d\",\"priority\":%d,"
                            "\"conditions\":[", id, id, ru->priority);
        const cond *root = &ru->c[ru->root];
        for (int k = 0; k < root->nkids; k++) {
            const cond *c = &ru->c[root->kids[k]];
            omni__buf_printf(b, "%s{\"field\":\"%s.%s\",\"operator\":\"%s\",\"value\":",
                             k ? "," : "", obj_names[fields[c->field].obj],
                             fields[c->field].path, routing_ops[c->op]);
            put_value(b, c);
            omni__buf_putc(b, '}');
        }
        omni__buf_printf(b, "],\"actions\":[{\"type\":\"%s\",", action_types[ru->action]);
        put_action_params(b, ru, id);
        omni__buf_puts(b, "}]}");
        return;
    }
    omni__buf_printf(b, "{\"name\":\"r%d\",\"priority\":%d,\"conditions\":", id, ru->priority);
    put_jre_cond(b, ru, ru->root);
    omni__buf_printf(b, ",\"event\":{\"type\":\"%s\",\"params\":{", action_types[ru->action]);
    put_action_params(b, ru, id);
    omni__buf_puts(b, "}}}");
}

static void put_str_array(omni_buf *b, const fact *f, int field)
{
    omni__buf_putc(b, '[');
    for (int i = 0; i < f->narr[field]; i++)
        omni__buf_printf(b, "%s\"%s\"", i ? "," : "", f->arr[field][i]);
    omni__buf_putc(b, ']');
}

/* One fact as a line of JSON (a PreRouteEvent-like object). */
static void put_fact(omni_buf *b, const fact *f)
{
    omni__buf_printf(b, "{\"message\":{\"id\":\"msg-%08x\",\"channel\":\"%s\",\"carrier\":\"%s\","
                        "\"direction\":\"inbound\",\"from\":\"%s\",\"to\":\"%s\","
                        "\"content\":\"%s\",\"receivedAt\":\"2025-06-%02uT%02u:%02u:00.000Z\"},"
                        "\"routing\":{\"accountId\":\"%s\",\"region\":\"%s\"}",
                     f->id * 2654435761u, f->s[F_CHANNEL], f->s[F_CARRIER], f->s[F_FROM],
                     f->s[F_TO], contents[f->content], 1 + f->id % 28, f->id % 24, f->id % 60,
                     f->s[F_ACCOUNT], f->s[F_REGION]);
    if (f->present[O_IDENTITY]) {
        omni__buf_printf(b, ",\"identity\":{\"customerId\":\"%s\",\"profile\":{"
                            "\"displayName\":\"Customer %u\",\"tier\":\"%s\",\"tags\":",
                         f->s[F_CUSTOMER], f->id, f->s[F_TIER]);
        put_str_array(b, f, F_TAGS);
        omni__buf_puts(b, "}}");
    }
    if (f->present[O_ANALYSIS]) {
        omni__buf_puts(b, ",\"contentAnalysis\":{\"intent\":");
        put_str_array(b, f, F_INTENT);
        omni__buf_printf(b, ",\"language\":\"%s\",\"sentiment\":", f->s[F_LANGUAGE]);
        put_steps(b, F_SENTIMENT, f->num[F_SENTIMENT]);
        omni__buf_putc(b, '}');
    }
    if (f->present[O_CONVERSATION])
        omni__buf_printf(b, ",\"conversation\":{\"id\":\"conv-%u\",\"status\":\"%s\","
                            "\"metadata\":{\"messageCount\":%d}}",
                         f->id * 7u, f->s[F_STATUS], f->num[F_MSGCOUNT]);
    omni__buf_puts(b, "}\n");
}

static int write_file(const char *path, const omni_buf *b)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "omni-bench-rules: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- cases ------------------------------------------------------------------------ */

typedef struct bcase {
    int family, size, nfacts;
    char name[48];
    char rules_path[512], facts_path[512];
    int *priority;           /* per rule */
    omni_rules *rules;
    char **text;             /* facts as JSON text */
    size_t *text_len;
    omni_data **data;        /* facts parsed */
    char **ours;             /* libomni's match per fact: "3,17" */
    double avg_matched;
    double ns_parsed, ns_text;   /* wall clock per fact */
    double cpu_parsed, cpu_text; /* process CPU time per fact */
} bcase;

/* Generates a case's rules and facts files. */
static int generate(bcase *c, const char *dir)
{
    rng r = {SEED ^ ((uint64_t)c->family << 40) ^ (uint64_t)c->size};
    rule *rules = calloc((size_t)c->size, sizeof(rule));
    c->priority = calloc((size_t)c->size, sizeof(int));
    if (!rules || !c->priority)
        return -1;
    omni_buf b = OMNI_BUF_INIT;
    omni__buf_putc(&b, '[');
    for (int i = 0; i < c->size; i++) {
        rule *ru = &rules[i];
        if (c->family == FAM_INDEX)
            gen_index_rule(&r, ru);
        else if (c->family == FAM_MIXED)
            gen_mixed_rule(&r, ru);
        else
            gen_prefix_rule(&r, ru);
        ru->priority = c->priority[i] = 1 + (int)rnd(&r, 10);
        ru->action = (int)rnd(&r, COUNT(action_types));
        if (i)
            omni__buf_puts(&b, ",\n");
        put_rule(&b, ru, i, c->family);
    }
    omni__buf_puts(&b, "]\n");
    snprintf(c->rules_path, sizeof(c->rules_path), "%.400s/rules_%s_%d.json", dir,
             fam_names[c->family], c->size);
    int rc = omni__buf_status(&b) ? -1 : write_file(c->rules_path, &b);
    omni__buf_free(&b);

    /* facts: each made to satisfy 0-5 rules of the set (25% none, 40% one,
     * 20% two, 10% three, 5% four or five) */
    fact f;
    for (int i = 0; rc == 0 && i < c->nfacts; i++) {
        random_fact(&r, &f, (unsigned)i);
        unsigned p = rnd(&r, 100);
        int targets = p < 25 ? 0 : p < 65 ? 1 : p < 85 ? 2 : p < 95 ? 3 : 4 + (int)rnd(&r, 2);
        for (int t = 0; t < targets; t++) {
            const rule *ru = &rules[rnd(&r, (unsigned)c->size)];
            satisfy(&r, ru, ru->root, &f, 1);
        }
        put_fact(&b, &f);
    }
    snprintf(c->facts_path, sizeof(c->facts_path), "%.400s/facts_%s_%d.jsonl", dir,
             fam_names[c->family], c->size);
    if (rc == 0)
        rc = omni__buf_status(&b) ? -1 : write_file(c->facts_path, &b);
    omni__buf_free(&b);
    free(rules);
    return rc;
}


/* Compiles the rules and loads the facts (as text and parsed). */
static int load(bcase *c)
{
    size_t len;
    char *src = bench_read_file(c->rules_path, &len);
    const char *opts = c->family == FAM_PREFIX ? "{\"format\":\"routing\"}"
                                               : "{\"format\":\"json-rules-engine\"}";
    if (!src || omni_rules_compile(&c->rules, src, len, opts, strlen(opts))) {
        fprintf(stderr, "omni-bench-rules: %s: %s\n", c->rules_path,
                src ? omni_error_last_message() : "cannot read");
        omni_free(src);
        return -1;
    }
    omni_free(src);
    char *all = bench_read_file(c->facts_path, &len);
    c->text = calloc((size_t)c->nfacts, sizeof(char *));
    c->text_len = calloc((size_t)c->nfacts, sizeof(size_t));
    c->data = calloc((size_t)c->nfacts, sizeof(omni_data *));
    c->ours = calloc((size_t)c->nfacts, sizeof(char *));
    if (!all || !c->text || !c->text_len || !c->data || !c->ours) {
        omni_free(all);
        return -1;
    }
    char *p = all;
    for (int i = 0; i < c->nfacts; i++) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        c->text[i] = malloc(n + 1);
        if (!c->text[i])
            break;
        memcpy(c->text[i], p, n);
        c->text[i][n] = '\0';
        c->text_len[i] = n;
        if (omni_data_parse(&c->data[i], c->text[i], n)) {
            fprintf(stderr, "omni-bench-rules: fact %d: %s\n", i, omni_error_last_message());
            break;
        }
        p = nl ? nl + 1 : p + n;
    }
    omni_free(all);
    for (int i = 0; i < c->nfacts; i++)
        if (!c->data[i])
            return -1;
    return 0;
}

static void unload(bcase *c)
{
    for (int i = 0; i < c->nfacts; i++) {
        if (c->text)
            free(c->text[i]);
        if (c->data)
            omni_data_free(c->data[i]);
        if (c->ours)
            free(c->ours[i]);
    }
    free(c->text);
    free(c->text_len);
    free(c->data);
    free(c->ours);
    free(c->priority);
    omni_rules_free(c->rules);
}

/* ---- libomni: matching and timing -------------------------------------------- */

#define NOW_MS 1749418783000 /* fixed; the rules read no time.* facts */

/* "3,17": the rule indices as the peer prints them (malloc'd). */
static char *encode(const uint32_t *idx, size_t n)
{
    char *out = malloc(n * 11 + 1), *p = out;
    if (!out)
        return NULL;
    *p = '\0';
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s%u", i ? "," : "", (unsigned)idx[i]);
    return out;
}

/* Runs both libomni forms on every fact once, records the parsed form's
 * result and counts the facts where the text form disagrees. */
static long check_ours(bcase *c)
{
    long bad = 0, total = 0;
    uint32_t a[MAX_MATCH], t[MAX_MATCH];
    for (int i = 0; i < c->nfacts; i++) {
        size_t na = 0, nt = 0;
        int rc1 = omni_rules_match_data(c->rules, c->data[i], NOW_MS, a, MAX_MATCH, &na);
        if (rc1)
            fprintf(stderr, "omni-bench-rules: %s fact %d: %s\n", c->name, i,
                    omni_error_last_message());
        int rc2 = omni_rules_match(c->rules, c->text[i], c->text_len[i], NOW_MS, t, MAX_MATCH,
                                   &nt);
        if (na > MAX_MATCH)
            na = MAX_MATCH;
        if (nt > MAX_MATCH)
            nt = MAX_MATCH;
        if (rc1 || rc2 || na != nt || memcmp(a, t, na * sizeof(uint32_t)) != 0) {
            if (bad < 3)
                fprintf(stderr, "omni-bench-rules: %s fact %d: match and match_data differ\n",
                        c->name, i);
            bad++;
        }
        c->ours[i] = encode(a, rc1 ? 0 : na);
        total += (long)na;
    }
    c->avg_matched = (double)total / c->nfacts;
    return bad;
}

typedef struct mctx {
    bcase *c;
    int pos;
} mctx;

static void b_parsed(void *ctx, size_t iters)
{
    mctx *m = ctx;
    uint32_t idx[64];
    size_t n;
    for (size_t i = 0; i < iters; i++) {
        if (omni_rules_match_data(m->c->rules, m->c->data[m->pos], NOW_MS, idx, 64, &n) == 0)
            bench_sink((const void *)(uintptr_t)n);
        if (++m->pos == m->c->nfacts)
            m->pos = 0;
    }
}

static void b_text(void *ctx, size_t iters)
{
    mctx *m = ctx;
    uint32_t idx[64];
    size_t n;
    for (size_t i = 0; i < iters; i++) {
        if (omni_rules_match(m->c->rules, m->c->text[m->pos], m->c->text_len[m->pos], NOW_MS,
                             idx, 64, &n) == 0)
            bench_sink((const void *)(uintptr_t)n);
        if (++m->pos == m->c->nfacts)
            m->pos = 0;
    }
}


/* ---- the peer ------------------------------------------------------------------ */

enum { E_PLAIN, E_PLAIN_JSON, E_JRE, E_JRE_PATH, NENG };
static const char *const eng_ids[NENG] = {"plain-js", "plain-js-json", "jre", "jre-pathresolver"};
static const char *const eng_names[NENG] = {
    "plain-js", "plain-js (JSON.parse included)", "json-rules-engine 7.3.1",
    "json-rules-engine 7.3.1 + pathResolver"};

typedef struct peer_result {
    int family, size, engine;
    double ns, cpu_ns;
    int batches, nfacts;
    char *matches;
} peer_result;

typedef struct peer_results {
    peer_result r[64];
    int n;
    char error[512];
} peer_results;

static int family_of(const char *s)
{
    for (int f = 0; s && f < NFAM; f++)
        if (strcmp(s, fam_names[f]) == 0)
            return f;
    return -1;
}

static void run_peer(const char *manifest, int smoke, int batches, int jre_all,
                     peer_results *pr)
{
    const char *cache = getenv("OMNI_JRE_CACHE");
    if (!cache || !*cache)
        cache = OMNI_BENCH_CACHE_DIR;
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "node '%.1000s/rules_peer.js' '%.1000s' '%.1000s' --batches %d%s%s",
             OMNI_BENCH_SOURCE_DIR, manifest, cache, batches > 0 ? batches : 7,
             smoke ? " --smoke" : "", jre_all ? " --jre-facts all" : "");
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, p)) > 0) {
        omni_data *d;
        if (omni_data_parse(&d, line, strcspn(line, "\n"))) {
            fputs(line, stderr);
            continue;
        }
        const omni_value *root = omni_data_root(d);
        const char *err = omni_value_string(omni_value_get(root, "error"), NULL);
        const char *eng = omni_value_string(omni_value_get(root, "engine"), NULL);
        const char *m = omni_value_string(omni_value_get(root, "matches"), NULL);
        int e = -1;
        for (int k = 0; eng && k < NENG; k++)
            if (strcmp(eng, eng_ids[k]) == 0)
                e = k;
        if (err) {
            fprintf(stderr, "omni-bench-rules: peer: %s\n", err);
            snprintf(pr->error, sizeof(pr->error), "%s", err);
        } else if (e >= 0 && m && pr->n < (int)COUNT(pr->r)) {
            peer_result *r = &pr->r[pr->n++];
            r->family = family_of(omni_value_string(omni_value_get(root, "family"), NULL));
            r->size = (int)omni_value_number(omni_value_get(root, "rules"));
            r->engine = e;
            r->ns = omni_value_number(omni_value_get(root, "ns_per_fact"));
            r->cpu_ns = omni_value_number(omni_value_get(root, "cpu_ns_per_fact"));
            r->batches = (int)omni_value_number(omni_value_get(root, "batches"));
            r->nfacts = (int)omni_value_number(omni_value_get(root, "facts"));
            r->matches = strdup(m);
        }
        omni_data_free(d);
    }
    free(line);
    pclose(p);
}

static const peer_result *find_peer(const peer_results *pr, int family, int size, int engine)
{
    for (int i = 0; i < pr->n; i++)
        if (pr->r[i].family == family && pr->r[i].size == size && pr->r[i].engine == engine)
            return &pr->r[i];
    return NULL;
}

/* Sorts rule ids by priority (descending), ties by document order: the
 * order libomni and the plain evaluator report. */
static const int *sort_prio;

static int cmp_match(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    int px = sort_prio[x], py = sort_prio[y];
    if (px != py)
        return py - px;
    return (x > y) - (x < y);
}

/* Compares a peer's matches of the first nfacts facts with ours, fact by
 * fact; returns the number of facts that differ. For json-rules-engine
 * (canonical != 0) the peer's list is sorted first, and *reorders counts the
 * facts where that changed it. */
static long compare(const bcase *c, const char *theirs, int nfacts, const char *engine,
                    int canonical, long *reorders)
{
    long bad = 0;
    const char *p = theirs;
    if (nfacts <= 0 || nfacts > c->nfacts)
        return c->nfacts;
    for (int i = 0; i < nfacts; i++) {
        const char *end = p ? strchr(p, ';') : NULL;
        size_t n = !p ? 0 : end ? (size_t)(end - p) : strlen(p);
        char item[8192];
        if (!p || n >= sizeof(item)) {
            bad++;
            p = NULL;
            continue;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        p = end ? end + 1 : (i + 1 < nfacts ? NULL : p + n);
        if (canonical && n > 0) {
            unsigned ids[MAX_MATCH];
            size_t k = 0;
            for (char *s = item; *s && k < MAX_MATCH;) {
                unsigned long v = strtoul(s, &s, 10);
                ids[k++] = v < (unsigned long)c->size ? (unsigned)v : 0;
                if (*s == ',')
                    s++;
                else if (*s)
                    break;
            }
            unsigned raw[MAX_MATCH];
            memcpy(raw, ids, k * sizeof(unsigned));
            sort_prio = c->priority;
            qsort(ids, k, sizeof(unsigned), cmp_match);
            if (memcmp(raw, ids, k * sizeof(unsigned)) != 0)
                (*reorders)++;
            omni_buf b = OMNI_BUF_INIT;
            for (size_t j = 0; j < k; j++)
                omni__buf_printf(&b, "%s%u", j ? "," : "", ids[j]);
            snprintf(item, sizeof(item), "%s", b.data ? b.data : "");
            omni__buf_free(&b);
        }
        if (strcmp(item, c->ours[i] ? c->ours[i] : "") != 0) {
            if (bad < 5)
                fprintf(stderr, "omni-bench-rules: %s fact %d: libomni [%s], %s [%s]\n",
                        c->name, i, c->ours[i] ? c->ours[i] : "?", engine, item);
            bad++;
        }
    }
    return bad;
}

/* ---- main ------------------------------------------------------------------------- */

/* One measurement line: libomni's (pr NULL) or a peer's, with the ratios
 * against libomni's wall clock and CPU time in the same input form. */
static void print_line(const bench_opts *o, const bcase *c, const char *engine, int text,
                       long mismatches, const peer_result *pr)
{
    double ns = pr ? pr->ns : text ? c->ns_text : c->ns_parsed;
    double cpu = pr ? pr->cpu_ns : text ? c->cpu_text : c->cpu_parsed;
    double ours = text ? c->ns_text : c->ns_parsed, ours_cpu = text ? c->cpu_text : c->cpu_parsed;
    printf("{\"name\":\"%s_%s\",\"engine\":\"%s\",\"family\":\"%s\",\"rules\":%d,"
           "\"input\":\"%s\",\"facts\":%d,\"ns_per_fact\":%.1f,\"cpu_ns_per_fact\":%.1f,"
           "\"facts_per_sec\":%.0f",
           c->name, text ? "text" : "parsed", engine, fam_names[c->family], c->size,
           text ? "json-text" : "parsed", pr ? pr->nfacts : c->nfacts, ns, cpu,
           ns > 0 ? 1e9 / ns : 0.0);
    if (pr)
        printf(",\"batches\":%d,\"ratio\":%.2f,\"cpu_ratio\":%.2f,\"mismatches\":%ld",
               pr->batches, ours > 0 ? ns / ours : 0.0, ours_cpu > 0 ? cpu / ours_cpu : 0.0,
               mismatches);
    else
        printf(",\"matched_per_fact\":%.2f", c->avg_matched);
    printf("%s}\n", o->smoke ? ",\"smoke\":true" : "");
    fflush(stdout);
}

static double ratio(double num, double den)
{
    return num > 0 && den > 0 ? num / den : 0;
}

static void print_ratio(const char *key, double r)
{
    if (r > 0)
        printf(",\"%s\":%.2f", key, r);
    else
        printf(",\"%s\":null", key);
}

int main(int argc, char **argv)
{
    bench_opts o = {0, 100.0, 7, NULL};
    int no_peer = 0, keep = 0, jre_all = 0;
    char *rest[64];
    int nrest = 0;
    for (int i = 0; i < argc && nrest < 63; i++) {
        if (i > 0 && strcmp(argv[i], "--keep-data") == 0)
            keep = 1;
        else if (i > 0 && strcmp(argv[i], "--jre-all") == 0)
            jre_all = 1;
        else
            rest[nrest++] = argv[i];
    }
    rest[nrest] = NULL;
    if (bench_args(&o, nrest, rest, "omni-bench-rules [--keep-data] [--jre-all]", "--no-peer",
                   &no_peer))
        return 2;

    static const int full_sizes[] = {10, 100, 1000, 10000};
    static const int smoke_sizes[] = {10, 100};
    const int *sizes = o.smoke ? smoke_sizes : full_sizes;
    int nsizes = o.smoke ? 2 : 4;
    int nfacts = o.smoke ? 50 : 1000;

    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/omni-bench-rules-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "omni-bench-rules: mkdtemp: %s\n", strerror(errno));
        return 1;
    }

    bcase cases[NFAM * 4];
    int ncases = 0;
    memset(cases, 0, sizeof(cases));
    int failed = 0;
    omni_buf man = OMNI_BUF_INIT;
    omni__buf_puts(&man, "{\"cases\":[");
    for (int f = 0; f < NFAM && !failed; f++)
        for (int s = 0; s < nsizes && !failed; s++) {
            bcase *c = &cases[ncases];
            c->family = f;
            c->size = sizes[s];
            c->nfacts = nfacts;
            snprintf(c->name, sizeof(c->name), "rules_%s_%d", fam_names[f], sizes[s]);
            if (o.filter && !strstr(c->name, o.filter))
                continue;
            ncases++;
            if (generate(c, dir)) {
                failed = 1;
                break;
            }
            omni__buf_printf(&man, "%s\n{\"family\":\"%s\",\"size\":%d,\"format\":\"%s\","
                                   "\"rules\":\"%s\",\"facts\":\"%s\"}",
                             ncases > 1 ? "," : "", fam_names[f], sizes[s],
                             f == FAM_PREFIX ? "routing" : "jre", c->rules_path, c->facts_path);
        }
    omni__buf_puts(&man, "]}\n");
    char manifest[600];
    snprintf(manifest, sizeof(manifest), "%.400s/manifest.json", dir);
    if (!failed && (omni__buf_status(&man) || write_file(manifest, &man)))
        failed = 1;
    omni__buf_free(&man);

    /* the JavaScript side first (it runs alone: no competition for the CPU) */
    static peer_results pr;
    int have_node = !failed && !no_peer && system("command -v node >/dev/null 2>&1") == 0;
    if (have_node)
        run_peer(manifest, o.smoke, o.batches, jre_all, &pr);
    else if (!failed)
        fprintf(stderr, "omni-bench-rules: %s; libomni only\n",
                no_peer ? "--no-peer" : "node not found");

    long mismatches = 0, reorders = 0, compared = 0, facts_checked = 0;
    for (int i = 0; i < ncases && !failed; i++) {
        bcase *c = &cases[i];
        if (load(c)) {
            failed = 1;
            break;
        }
        mismatches += check_ours(c);
        facts_checked += c->nfacts;
        mctx m = {c, 0};
        bench_measure_cpu(&o, b_parsed, &m, &c->ns_parsed, &c->cpu_parsed);
        print_line(&o, c, "libomni", 0, 0, NULL);
        m.pos = 0;
        bench_measure_cpu(&o, b_text, &m, &c->ns_text, &c->cpu_text);
        print_line(&o, c, "libomni", 1, 0, NULL);
        for (int e = 0; e < NENG; e++) {
            const peer_result *r = find_peer(&pr, c->family, c->size, e);
            if (!r)
                continue;
            int jre = e == E_JRE || e == E_JRE_PATH;
            long bad = compare(c, r->matches, r->nfacts, eng_ids[e], jre, &reorders);
            mismatches += bad;
            compared += r->nfacts;
            print_line(&o, c, eng_names[e], e == E_PLAIN_JSON, bad, r);
        }
        const peer_result *pl = find_peer(&pr, c->family, c->size, E_PLAIN);
        const peer_result *pj = find_peer(&pr, c->family, c->size, E_PLAIN_JSON);
        const peer_result *j1 = find_peer(&pr, c->family, c->size, E_JRE);
        const peer_result *j2 = find_peer(&pr, c->family, c->size, E_JRE_PATH);
        printf("{\"name\":\"rules_summary\",\"family\":\"%s\",\"rules\":%d",
               fam_names[c->family], c->size);
        double rp = ratio(pl ? pl->ns : 0, c->ns_parsed), rt = ratio(pj ? pj->ns : 0, c->ns_text);
        double cp = ratio(pl ? pl->cpu_ns : 0, c->cpu_parsed);
        double ct = ratio(pj ? pj->cpu_ns : 0, c->cpu_text);
        print_ratio("plainjs_over_omni_parsed", rp);
        print_ratio("plainjs_json_over_omni_text", rt);
        print_ratio("plainjs_over_omni_parsed_cpu", cp);
        print_ratio("plainjs_json_over_omni_text_cpu", ct);
        if (c->family != FAM_PREFIX) {
            print_ratio("jre_over_omni_parsed", ratio(j1 ? j1->ns : 0, c->ns_parsed));
            print_ratio("jre_pathresolver_over_omni_parsed", ratio(j2 ? j2->ns : 0, c->ns_parsed));
        }
        if ((c->size == 100 || c->size == 1000) && pl && pj && !o.smoke)
            printf(",\"goal_10x_plainjs\":%s,\"goal_10x_plainjs_cpu\":%s",
                   rp >= 10 && rt >= 10 ? "true" : "false",
                   cp >= 10 && ct >= 10 ? "true" : "false");
        printf("%s}\n", o.smoke ? ",\"smoke\":true" : "");
        fflush(stdout);
    }

    /* scaling: libomni at the largest size over the smallest, per family */
    for (int f = 0; f < NFAM && !failed; f++) {
        const bcase *lo = NULL, *hi = NULL;
        for (int i = 0; i < ncases; i++)
            if (cases[i].family == f && cases[i].ns_parsed > 0) {
                if (!lo || cases[i].size < lo->size)
                    lo = &cases[i];
                if (!hi || cases[i].size > hi->size)
                    hi = &cases[i];
            }
        if (!lo || lo == hi)
            continue;
        printf("{\"name\":\"rules_scaling\",\"family\":\"%s\",\"from\":%d,\"to\":%d", fam_names[f],
               lo->size, hi->size);
        double sp = ratio(hi->ns_parsed, lo->ns_parsed), st = ratio(hi->ns_text, lo->ns_text);
        double sc = ratio(hi->cpu_parsed, lo->cpu_parsed), sct = ratio(hi->cpu_text, lo->cpu_text);
        print_ratio("omni_parsed_ratio", sp);
        print_ratio("omni_text_ratio", st);
        print_ratio("omni_parsed_ratio_cpu", sc);
        print_ratio("omni_text_ratio_cpu", sct);
        if (f != FAM_MIXED && lo->size == 10 && hi->size == 10000)
            printf(",\"goal_within_3x\":%s,\"goal_within_3x_cpu\":%s",
                   sp <= 3 && st <= 3 ? "true" : "false", sc <= 3 && sct <= 3 ? "true" : "false");
        printf("%s}\n", o.smoke ? ",\"smoke\":true" : "");
    }
    if (!failed) {
        printf("{\"name\":\"rules_check\",\"facts_checked\":%ld,\"peer_comparisons\":%ld,"
               "\"mismatches\":%ld,\"jre_equal_priority_reorders\":%ld,"
               "\"prefix_family\":\"libomni and plain-js only (json-rules-engine has no "
               "startsWith)\"",
               facts_checked, compared, mismatches, reorders);
        if (pr.error[0]) {
            for (char *q = pr.error; *q; q++)
                if (*q == '"' || *q == '\\' || (unsigned char)*q < 0x20)
                    *q = ' ';
            printf(",\"peer_error\":\"%.200s\"", pr.error);
        }
        printf("%s}\n", o.smoke ? ",\"smoke\":true" : "");
    }

    for (int i = 0; i < ncases; i++) {
        unload(&cases[i]);
        if (!keep) {
            unlink(cases[i].rules_path);
            unlink(cases[i].facts_path);
        }
    }
    for (int i = 0; i < pr.n; i++)
        free(pr.r[i].matches);
    if (keep) {
        fprintf(stderr, "omni-bench-rules: data kept in %s\n", dir);
    } else {
        unlink(manifest);
        rmdir(dir);
    }
    if (failed)
        return 1;
    return mismatches ? 1 : 0;
}
