/* Internal: what other components (preroute) use of a compiled rule set
 * beyond include/omni/rules.h: the decision of a list of matched rules
 * (seed 001's resolveDestination, tags, priority, block, escalate,
 * auto_respond) without going through JSON. */
#ifndef OMNI_RULES_RULES_INTERNAL_H
#define OMNI_RULES_RULES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <omni/rules.h>

#include "../core/buf.h"

/* Priority levels of set_priority (and a routing action's "priority"). */
enum {
    OMNI__RULES_PRIORITY_NONE = 0,
    OMNI__RULES_PRIORITY_LOW = 1,
    OMNI__RULES_PRIORITY_NORMAL = 2,
    OMNI__RULES_PRIORITY_HIGH = 3,
    OMNI__RULES_PRIORITY_URGENT = 4
};

#define OMNI__RULES_DECISION_MAX_TAGS 64

/* The decision of matched rules. Every pointer points into the compiled
 * rules (valid while they live); strings are NUL-terminated. */
typedef struct omni__rules_decision {
    /* resolveDestination: the first route_to_agent / _queue / _bot action in
     * match order; has_destination 0 when none (the caller's default). */
    int has_destination;
    const char *dest_type;          /* "agent" | "queue" | "bot" */
    const char *dest_id;            /* agentId / queueId / botId */
    const char *dest_name;          /* agentName / queueName / botName, or NULL */
    const char *dest_metadata_json; /* the metadata object as compact JSON
                                       ({"skillSet": [...]}, {"estimatedWait": 5},
                                       {"capabilities": [...]}, or "{}") */
    int priority;                   /* OMNI__RULES_PRIORITY_*: first set_priority
                                       or routing action "priority" */
    int block, escalate;
    const char *auto_respond_template; /* first auto_respond, or NULL */
    const char *auto_respond_rule;     /* its rule id */
    const char *stopped_by;            /* rule id of a stop action, or NULL */
    size_t tag_count;                  /* add_tag values, first occurrences */
    const char *tags[OMNI__RULES_DECISION_MAX_TAGS];
} omni__rules_decision;

/* Fills *d from the matched rule indices idx[0..n) (as omni_rules_match
 * returns them, in match order). Never fails. */
void omni__rules_decide(const omni_rules *rules, const uint32_t *idx, size_t n,
                        omni__rules_decision *d);

/* Whether any rule reads a "time.*" fact (then the caller may want to pass
 * a real now_ms). */
int omni__rules_uses_time(const omni_rules *rules);

/* ======================================================================
 * Below: the rule engine's own internals (rules_compile.c, rules_match.c,
 * rules_output.c). Nothing here is used outside lib/rules/.
 *
 * Design (see rules_compile.c for the details):
 * - every distinct field path (RoutingRule "a.b.0", json-rules-engine fact +
 *   JSONPath) gets a field id; the paths form a trie whose nodes are stored
 *   with their children contiguous, and field ids are given in depth-first
 *   order so the fields below a trie node are the range [flo, fhi);
 * - a rule's conditions are a flat pre-order array of nodes (a group is
 *   followed by its children; node.size skips a whole subtree);
 * - the index: one hash table over keys (kind, field, value) whose entries
 *   hold posting lists of rule ranks (rank = position in match order).
 *   Every rule gets a set of "anchors" such that any match of the rule
 *   makes at least one anchor fire; rules without anchors are always
 *   candidates;
 * - evaluation resolves each trie field once into per-thread scratch,
 *   probes the index with the resolved values, sorts the candidate ranks
 *   and evaluates only those rules.
 * ====================================================================== */

/* Value types of conditions and resolved facts. */
enum {
    RR_MISSING = 0,
    RR_NULL,
    RR_BOOL,
    RR_NUM,
    RR_STR,
    RR_ARR,
    RR_OBJ
};

/* A scalar constant of a condition (strings live in the compiled rules). */
typedef struct rr_val {
    uint8_t type;
    uint8_t b;
    uint32_t len;
    uint32_t hash; /* rr_val_hash */
    double num;
    const char *s;
} rr_val;

/* Operators (json-rules-engine's map to these plus RR_F_STRICT). */
enum {
    RR_OP_EQ,
    RR_OP_NE,
    RR_OP_EQI,
    RR_OP_IN,
    RR_OP_NOTIN,
    RR_OP_CONTAINS,
    RR_OP_NOTCONTAINS,
    RR_OP_STARTS,
    RR_OP_ENDS,
    RR_OP_ANYBUT,
    RR_OP_EXISTS,
    RR_OP_GT,
    RR_OP_GE,
    RR_OP_LT,
    RR_OP_LE,
    RR_OP_BETWEEN,
    RR_OP_MATCHES
};

enum { RR_N_ALL, RR_N_ANY, RR_N_NOT, RR_N_COND };

#define RR_F_ICASE 1u  /* case-insensitive string comparison (values folded) */
#define RR_F_STRICT 2u /* json-rules-engine semantics (no per-element match) */

struct omni__regex;

/* A set of constants (in, notIn, anythingBut) with a hash index when large. */
typedef struct rr_set {
    const rr_val *v;
    uint32_t n;
    uint32_t bits;        /* log2 of the index size; 0: linear search */
    const uint32_t *tab;  /* value index + 1 per slot */
} rr_set;

typedef struct rr_node {
    uint8_t kind;  /* RR_N_* */
    uint8_t op;    /* RR_OP_* */
    uint8_t flags; /* RR_F_* */
    uint32_t size; /* nodes in this subtree, itself included */
    uint32_t field;
    rr_val v, v2;  /* value (folded with RR_F_ICASE); between: low, high */
    rr_set set;
    struct omni__regex *re;
    const char *path;       /* "[0].conditions[1]" */
    const char *op_name;    /* as written */
    const char *field_name; /* RoutingRule field, or json-rules-engine fact */
    const char *jpath;      /* json-rules-engine path, or NULL */
    const char *value_json; /* the value as written, compact (NULL: none) */
} rr_node;

/* Action types. */
enum {
    RR_A_AGENT,
    RR_A_QUEUE,
    RR_A_BOT,
    RR_A_TAG,
    RR_A_PRIORITY,
    RR_A_AUTO,
    RR_A_BLOCK,
    RR_A_ESCALATE,
    RR_A_STOP,
    RR_A_EVENT /* a json-rules-engine event of another type */
};

typedef struct rr_action {
    int type;
    const char *json;       /* members for the output: "\"type\":...,..." */
    const char *id, *name;  /* routing: destination id / name; tag; templateId */
    const char *dest_type;  /* "agent" | "queue" | "bot" */
    const char *metadata;   /* routing: the destination metadata object */
    int priority;           /* OMNI__RULES_PRIORITY_* (set_priority or routing) */
} rr_action;

typedef struct rr_rule {
    const char *id;
    const char *id_json; /* the id as a JSON string */
    int64_t priority;
    int enabled;
    int has_stop;
    uint32_t node_off, node_n; /* conditions: nodes[node_off .. +node_n) */
    uint32_t act_off, act_n;
    uint32_t rank;
} rr_rule;

/* The path trie. Children of a node are contiguous: tnodes[child_off ..
 * +child_n), with a hash index (tab) when more than 8. */
typedef struct rr_tnode {
    const char *key;
    uint32_t klen, hash; /* omni__hash of the key (as omni_data's members) */
    uint32_t khash;      /* omni__rr_khash of the key (the child tables) */
    int64_t index;       /* the key as an array index, or -1 */
    uint32_t field;      /* field id + 1, or 0 */
    uint32_t child_off, child_n;
    uint32_t tab_off, tab_bits; /* child index in tabs[], 0 bits: linear */
    uint32_t flo, fhi;          /* fields of the subtree */
    uint32_t tlo, thi;          /* trie nodes of the subtree (after itself) */
    int64_t max_index;          /* largest index child, -1 when none */
} rr_tnode;

/* Index kinds. */
enum {
    RR_K_EQ,     /* value equals (scalar fact or an array element) */
    RR_K_IEQ,    /* folded string equals */
    RR_K_PRE,    /* string prefix */
    RR_K_IPRE,   /* folded string prefix */
    RR_K_SUB,    /* substring of a string fact (per-field automaton) */
    RR_K_ISUB,   /* folded substring */
    RR_K_EXISTS, /* the field exists */
    RR_K_COUNT
};

typedef struct rr_entry {
    uint32_t hash;
    uint32_t field;
    uint8_t kind;
    rr_val v;
    uint32_t post_off, post_n;
} rr_entry;

/* Per field: what the index holds for it. */
typedef struct rr_findex {
    uint32_t kinds;                  /* 1 << RR_K_* */
    uint32_t exists_entry;           /* entry index + 1 */
    uint32_t pre_off, pre_n;         /* distinct prefix lengths (lens[]) */
    uint32_t ipre_off, ipre_n;
    uint32_t sub_off, sub_n;         /* entry indices (subs[]) */
    uint32_t isub_off, isub_n;
    uint32_t sub_acm, isub_acm;      /* automaton (acms[]) + 1; 0: linear list */
} rr_findex;

/* The substring needles of one field and kind (RR_K_SUB on the string,
 * RR_K_ISUB on the folded string) as an Aho-Corasick automaton compiled to
 * a DFA: scanning a text costs O(len + matches) whatever the number of
 * needles.
 * - alphabet: every byte occurring in a needle has its own class, all other
 *   bytes share class 0 (cls[byte]);
 * - states: trie nodes of the needles, 0 the root (the empty string);
 *   delta[s * nclass + c] is the next state of (s, class c) premultiplied by
 *   nclass, with RR_ACM_OUT set when that state or one of its suffixes ends
 *   a needle (needles are distinct entries, so a state ends at most one);
 * - out[s]: the entry ending exactly at s, + 1 (0: none); dict[s]: the
 *   longest proper suffix state (not the root) with an output, 0: none. An
 *   empty needle is out[0], reported once before a scan.
 * The DFA holds nstates * nclass transitions (nstates <= 1 + the needles'
 * bytes); when it would exceed RR_ACM_MAX_BYTES (64 MiB) for a field, or the
 * automata of a rule set would exceed RR_ACM_MAX_TOTAL (256 MiB) in all,
 * that field keeps the linear list (memmem per needle). */
#define RR_ACM_OUT 0x80000000u
#define RR_ACM_MAX_BYTES ((size_t)64 << 20)
#define RR_ACM_MAX_TOTAL ((size_t)256 << 20) /* all fields of a rule set */

typedef struct rr_acm {
    uint32_t nclass, nstates;
    uint32_t *delta;       /* nstates * nclass */
    uint32_t *out, *dict;  /* per state (one allocation: out, then dict) */
    uint8_t cls[256];
} rr_acm;

typedef struct rr_chunk {
    struct rr_chunk *next;
    size_t cap, used;
    /* data follows (8-aligned) */
} rr_chunk;

/* A bump allocator over chunks; pointers stay valid until reset/free. */
typedef struct rr_arena {
    rr_chunk *head;
    size_t total;
} rr_arena;

void *omni__rr_alloc(rr_arena *a, size_t n);
char *omni__rr_strdup(rr_arena *a, const char *s, size_t n);
void omni__rr_arena_reset(rr_arena *a); /* keeps one chunk (bounded) */
void omni__rr_arena_free(rr_arena *a);

struct omni__tz;

struct omni_rules {
    rr_arena arena;
    size_t nrules;
    rr_rule *rules;      /* document order */
    uint32_t *by_rank;   /* rank -> document index */
    rr_node *nodes;
    size_t nnodes;
    rr_action *actions;
    size_t nactions;
    /* fields and trie */
    size_t nfields, ntnodes;
    rr_tnode *tnodes;    /* [0] is the root (the facts object) */
    uint32_t *tabs;
    int time_node;       /* trie node of "time" under the root, or -1 */
    int uses_time;
    struct omni__tz *tz;
    /* index */
    rr_entry *entries;
    size_t nentries;
    uint32_t ebits;      /* log2 of the entry table size */
    uint32_t *etab;      /* entry index + 1 per slot */
    uint32_t *postings;  /* ranks */
    rr_findex *findex;   /* per field */
    uint32_t *ifields;   /* fields with index entries */
    size_t nifields;
    uint32_t *lens;      /* prefix lengths, per field sorted ascending */
    uint32_t *subs;      /* entry indices of substring entries */
    rr_acm *acms;        /* substring automata (rr_findex.sub_acm, isub_acm) */
    size_t nacms;
    uint32_t *always;    /* ranks of enabled rules without anchors, ascending */
    size_t nalways;
};

/* ---- shared helpers ---------------------------------------------------- */

/* FNV-1a (identical to omni__hash of the template data). */
static inline uint32_t omni__rr_fnv(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* A fast string hash (8 bytes per step) for keys and values; FNV-1a above
 * stays for what must match omni_data's member hashes and for prefixes
 * (hashed incrementally). */
static inline uint32_t omni__rr_khash(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (uint64_t)n;
    uint64_t v;
    if (n > 8) {
        /* 8-byte blocks, the last one overlapping the one before */
        const char *last = s + n - 8;
        while (s < last) {
            memcpy(&v, s, 8);
            h = (h ^ v) * 0xff51afd7ed558ccdull;
            h ^= h >> 32;
            s += 8;
        }
        memcpy(&v, last, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        v = ((uint64_t)a << 32) | b;
    } else if (n) {
        v = (uint64_t)(unsigned char)s[0] | ((uint64_t)(unsigned char)s[n >> 1] << 8) |
            ((uint64_t)(unsigned char)s[n - 1] << 16);
    } else {
        v = 0;
    }
    h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return (uint32_t)h;
}

/* Hash of a scalar (type-aware; numbers by value so 1 and 1.0 agree). */
uint32_t omni__rr_val_hash(int type, int b, double num, const char *s, size_t len);
/* The index key hash of a value hash for (kind, field). */
static inline uint32_t omni__rr_key_hash(uint32_t vh, uint32_t field, int kind)
{
    uint32_t h = vh ^ (field * 0x9E3779B1u) ^ ((uint32_t)kind * 0x85EBCA77u);
    h ^= h >> 16;
    h *= 0x7FEB352Du;
    h ^= h >> 15;
    h *= 0x846CA68Bu;
    h ^= h >> 16;
    return h;
}

/* Simple case folding of UTF-8 (ASCII, Latin-1, Latin Extended-A, Greek,
 * Cyrillic; ill-formed bytes copied). out needs n bytes (folding never
 * lengthens); returns the folded length. */
size_t omni__rr_fold(char *out, const char *s, size_t n);

/* Lookup of a child of trie node t by key; NULL when none. */
const rr_tnode *omni__rr_child(const omni_rules *r, const rr_tnode *t, const char *key,
                               size_t klen);

/* Operator names (RoutingRule spelling) for messages. */
const char *omni__rr_op_name(int op);

/* ---- evaluation (rules_match.c) ------------------------------------------ */

typedef struct omni_value omni_value;

/* A resolved scalar (or array / object marker) of the facts. */
typedef struct rr_item {
    uint8_t type;
    uint8_t b;
    uint8_t have; /* 1: hash computed, 2: fold computed, 4: fold hash computed */
    uint32_t len;
    uint32_t hash, fhash, flen;
    double num;
    const char *s, *fs;
} rr_item;

/* A resolved field. */
typedef struct rr_fact {
    rr_item v;
    uint32_t elem, nelem;  /* arrays: items in the scratch element list */
    const omni_value *dv;  /* data path: the value (explain) */
    const char *raw;       /* otherwise: its JSON text (explain), or NULL */
    size_t rawlen;
} rr_fact;

/* The state of one evaluation (per-thread scratch). */
typedef struct rr_eval rr_eval;

/* Matches parsed facts (root), and keeps the evaluation state for the
 * explanation: *ev_out is the evaluation (release with
 * omni__rr_eval_release) and the matched document indices are in
 * (*ev_out)->matched / nmatched. */
int omni__rr_match_value(const omni_rules *r, const omni_value *root, int64_t now_ms,
                         rr_eval **ev_out, const uint32_t **matched, size_t *nmatched);
void omni__rr_eval_release(rr_eval *ev);

/* Test hook: the number of candidate rules the index yields for the facts
 * (JSON text), i.e. the rules evaluated fully (before stop applies). */
int omni__rr_candidate_count(const omni_rules *r, const char *facts_json, size_t len,
                             size_t *n);

/* Re-evaluates rule `idx` (document index) writing one explain entry per
 * condition evaluated into b (inside a JSON array). Returns the result. */
int omni__rr_explain_rule(rr_eval *ev, const omni_rules *r, uint32_t idx, omni_buf *b);

#endif
