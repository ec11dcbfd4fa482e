/* The "memory:" storage backend: an in-process, thread-safe key/value store.
 *
 * Records live in one open-addressing hash table keyed by (namespace, key)
 * with a keyed SipHash-1-3, for point operations: each slot holds the
 * record's hash and expiry beside the pointer, so a probe, a miss and a
 * sweep touch only the slot array, never the records they pass over; each namespace that has been listed
 * also keeps its records in a skip list ordered bytewise by key, for prefix
 * listings in O(log n + k). The skip list is built by the first listing of
 * a namespace (O(n) once), so namespaces nobody lists (references,
 * indexes) cost no ordering on writes.
 *
 * Expiry: a record whose expiry is <= now_ms is invisible. Writers sweep a
 * few slots per call: an expired record loses its value and leaves the
 * skip list, but stays in the hash table as a tombstone carrying its version
 * for OMNI__STORE_MEMORY_GRACE_MS, so a put over it continues the version
 * (and a stale compare-and-swap cannot succeed). Later sweeps free it.
 *
 * One rwlock guards everything; callbacks of list run without the lock (the
 * records are copied out in batches), so they may call into the store.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/engine.h"
#include "core/error.h"
#include "list_batch.h"
#include "store_internal.h"

#define MEM_MAX_LEVEL 24          /* skip list: p = 1/4, enough for 4^24 records */
#define MEM_INITIAL_SLOTS 64      /* power of two; the table is at most half full */
#define MEM_SWEEP_SLOTS 2         /* slots examined by every write */

typedef struct mem_ns mem_ns;
typedef struct mem_node mem_node;

struct mem_node {
    mem_ns *ns;
    uint64_t version;
    int64_t expires_at_ms; /* 0: never */
    char *value;           /* NUL-terminated copy; NULL: tombstone, not in the skip list */
    size_t value_len;
    size_t key_len;
    char *key; /* NUL-terminated, inside this allocation after fwd[] */
    int level;
    mem_node *fwd[]; /* skip list successors, `level` of them */
};

struct mem_ns {
    mem_ns *hnext;
    uint64_t hash;
    size_t refs; /* records and tombstones of this namespace */
    int indexed; /* the skip list is kept (from the first listing on) */
    int level;   /* levels in use in the skip list */
    mem_node *head[MEM_MAX_LEVEL];
    size_t name_len;
    char name[OMNI_STORE_MAX_NS + 1];
};

/* A slot of the record table (linear probing, backward-shift deletion);
 * node NULL: empty. expires_at_ms mirrors the record's, for the sweep. */
typedef struct mem_slot {
    uint64_t hash;
    mem_node *node;
    int64_t expires_at_ms;
} mem_slot;

typedef struct mem_store {
    pthread_rwlock_t lock;
    uint64_t k0, k1; /* hash key, random per store */
    mem_slot *slots;
    size_t nslots; /* power of two */
    size_t count;  /* records and tombstones */
    mem_ns **ns_buckets;
    size_t ns_nbuckets; /* power of two */
    size_t ns_count;
    size_t sweep; /* next bucket to sweep */
    uint64_t rng; /* skip list levels (xorshift64) */
} mem_store;

/* ---- hashing ------------------------------------------------------------ */

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                               \
    do {                                                                                       \
        v0 += v1;                                                                              \
        v1 = ROTL64(v1, 13);                                                                   \
        v1 ^= v0;                                                                              \
        v0 = ROTL64(v0, 32);                                                                   \
        v2 += v3;                                                                              \
        v3 = ROTL64(v3, 16);                                                                   \
        v3 ^= v2;                                                                              \
        v0 += v3;                                                                              \
        v3 = ROTL64(v3, 21);                                                                   \
        v3 ^= v0;                                                                              \
        v2 += v1;                                                                              \
        v1 = ROTL64(v1, 17);                                                                   \
        v1 ^= v2;                                                                              \
        v2 = ROTL64(v2, 32);                                                                   \
    } while (0)

/* SipHash-1-3 (Aumasson and Bernstein's construction with one compression
 * and three finalization rounds): keyed, so that chosen keys cannot flood
 * one bucket. Words are read in host order; only the distribution matters. */
static uint64_t siphash13(uint64_t k0, uint64_t k1, const unsigned char *in, size_t len)
{
    uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ k0;
    uint64_t v1 = UINT64_C(0x646f72616e646f6d) ^ k1;
    uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ k0;
    uint64_t v3 = UINT64_C(0x7465646279746573) ^ k1;
    size_t whole = len - (len % 8);
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m;
        memcpy(&m, in + i, 8);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = whole; i < len; i++)
        b |= (uint64_t)in[i] << (8 * (i - whole));
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* Hash of a record: namespace, a NUL separator (neither part holds one), key. */
static uint64_t record_hash(const mem_store *m, const char *ns, size_t ns_len, const char *key,
                            size_t key_len)
{
    unsigned char buf[OMNI_STORE_MAX_NS + 1 + OMNI_STORE_MAX_KEY];
    memcpy(buf, ns, ns_len);
    buf[ns_len] = 0;
    memcpy(buf + ns_len + 1, key, key_len);
    return siphash13(m->k0, m->k1, buf, ns_len + 1 + key_len);
}

static uint64_t ns_hash(const mem_store *m, const char *ns, size_t ns_len)
{
    return siphash13(m->k1, m->k0, (const unsigned char *)ns, ns_len);
}

/* ---- namespaces --------------------------------------------------------- */

static mem_ns *ns_find(const mem_store *m, const char *ns, size_t ns_len, uint64_t h)
{
    for (mem_ns *s = m->ns_buckets[h & (m->ns_nbuckets - 1)]; s; s = s->hnext)
        if (s->hash == h && s->name_len == ns_len && memcmp(s->name, ns, ns_len) == 0)
            return s;
    return NULL;
}

static void ns_grow(mem_store *m)
{
    size_t n = m->ns_nbuckets * 2;
    mem_ns **nb = calloc(n, sizeof(*nb));
    if (!nb)
        return; /* stays correct, only slower */
    for (size_t i = 0; i < m->ns_nbuckets; i++) {
        mem_ns *s = m->ns_buckets[i];
        while (s) {
            mem_ns *next = s->hnext;
            s->hnext = nb[s->hash & (n - 1)];
            nb[s->hash & (n - 1)] = s;
            s = next;
        }
    }
    free(m->ns_buckets);
    m->ns_buckets = nb;
    m->ns_nbuckets = n;
}

/* The namespace object, created when missing; NULL when out of memory. */
static mem_ns *ns_get(mem_store *m, const char *ns, size_t ns_len)
{
    uint64_t h = ns_hash(m, ns, ns_len);
    mem_ns *s = ns_find(m, ns, ns_len, h);
    if (s)
        return s;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->hash = h;
    s->name_len = ns_len;
    memcpy(s->name, ns, ns_len);
    s->hnext = m->ns_buckets[h & (m->ns_nbuckets - 1)];
    m->ns_buckets[h & (m->ns_nbuckets - 1)] = s;
    if (++m->ns_count > m->ns_nbuckets)
        ns_grow(m);
    return s;
}

static void ns_release(mem_store *m, mem_ns *s)
{
    if (--s->refs > 0)
        return;
    mem_ns **pp = &m->ns_buckets[s->hash & (m->ns_nbuckets - 1)];
    while (*pp != s)
        pp = &(*pp)->hnext;
    *pp = s->hnext;
    m->ns_count--;
    free(s);
}

/* ---- skip list ---------------------------------------------------------- */

static mem_node **succ(mem_ns *s, mem_node *x)
{
    return x ? x->fwd : s->head;
}

/* The last node of each level whose key is < key (NULL: the head). */
static void sl_preds(mem_ns *s, const char *key, mem_node **preds)
{
    mem_node *x = NULL;
    for (int i = s->level - 1; i >= 0; i--) {
        for (;;) {
            mem_node *nx = succ(s, x)[i];
            if (!nx || strcmp(nx->key, key) >= 0)
                break;
            x = nx;
        }
        preds[i] = x;
    }
}

static void sl_insert(mem_ns *s, mem_node *n)
{
    if (!s->indexed)
        return;
    mem_node *preds[MEM_MAX_LEVEL];
    sl_preds(s, n->key, preds);
    for (int i = s->level; i < n->level; i++)
        preds[i] = NULL;
    if (n->level > s->level)
        s->level = n->level;
    for (int i = 0; i < n->level; i++) {
        mem_node **p = succ(s, preds[i]);
        n->fwd[i] = p[i];
        p[i] = n;
    }
}

static void sl_remove(mem_ns *s, mem_node *n)
{
    if (!s->indexed)
        return;
    mem_node *preds[MEM_MAX_LEVEL];
    sl_preds(s, n->key, preds);
    for (int i = 0; i < n->level && i < s->level; i++) {
        mem_node **p = succ(s, preds[i]);
        if (p[i] == n)
            p[i] = n->fwd[i];
    }
    while (s->level > 0 && !s->head[s->level - 1])
        s->level--;
}

/* The first node whose key is > key (strict) or >= key. */
static mem_node *sl_seek(mem_ns *s, const char *key, int strict)
{
    mem_node *x = NULL;
    for (int i = s->level - 1; i >= 0; i--) {
        for (;;) {
            mem_node *nx = succ(s, x)[i];
            if (!nx)
                break;
            int c = strcmp(nx->key, key);
            if (c > 0 || (c == 0 && !strict))
                break;
            x = nx;
        }
    }
    return succ(s, x)[0];
}

static int random_level(mem_store *m)
{
    uint64_t r = m->rng;
    r ^= r << 13;
    r ^= r >> 7;
    r ^= r << 17;
    m->rng = r;
    int level = 1;
    while (level < MEM_MAX_LEVEL && (r & 3) == 0) {
        level++;
        r >>= 2;
    }
    return level;
}

/* ---- records ------------------------------------------------------------ */

static int expired(const mem_node *n, int64_t now_ms)
{
    return n->expires_at_ms != 0 && n->expires_at_ms <= now_ms;
}

/* The slot of (ns, key) with hash h, or (size_t)-1. */
static size_t lookup_slot(const mem_store *m, const char *ns, size_t ns_len, const char *key,
                          size_t key_len, uint64_t h)
{
    size_t mask = m->nslots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const mem_slot *sl = &m->slots[i];
        if (!sl->node)
            return (size_t)-1;
        const mem_node *n = sl->node;
        if (sl->hash == h && n->key_len == key_len && n->ns->name_len == ns_len &&
            memcmp(n->key, key, key_len) == 0 && memcmp(n->ns->name, ns, ns_len) == 0)
            return i;
    }
}

static mem_node *lookup(const mem_store *m, const char *ns, size_t ns_len, const char *key,
                        size_t key_len, uint64_t h)
{
    size_t i = lookup_slot(m, ns, ns_len, key, key_len, h);
    return i == (size_t)-1 ? NULL : m->slots[i].node;
}

/* Places a slot into a table with room (the key is not in it). */
static void slot_place(mem_slot *slots, size_t nslots, mem_slot sl)
{
    size_t mask = nslots - 1, i = sl.hash & mask;
    while (slots[i].node)
        i = (i + 1) & mask;
    slots[i] = sl;
}

/* Doubles the table; keeps it as it is when memory is short (the caller
 * then only probes longer: it grows before the table is full). */
static void grow(mem_store *m)
{
    size_t n = m->nslots * 2;
    mem_slot *ns = calloc(n, sizeof(*ns));
    if (!ns)
        return;
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slots[i].node)
            slot_place(ns, n, m->slots[i]);
    free(m->slots);
    m->slots = ns;
    m->nslots = n;
}

/* Empties slot i, moving later members of its probe run back so that
 * every record stays reachable from its home slot. */
static void slot_remove(mem_store *m, size_t i)
{
    size_t mask = m->nslots - 1;
    for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
        mem_slot *sj = &m->slots[j];
        if (!sj->node)
            break;
        size_t home = sj->hash & mask;
        /* sj may move to i when i lies cyclically in [home, j) */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = *sj;
            i = j;
        }
    }
    m->slots[i].node = NULL;
}

/* Turns an expired record into a tombstone: value freed, out of the list. */
static void bury(mem_node *n)
{
    sl_remove(n->ns, n);
    free(n->value);
    n->value = NULL;
    n->value_len = 0;
}

/* Frees a node already unlinked from its hash chain. */
static void drop(mem_store *m, mem_node *n)
{
    if (n->value)
        sl_remove(n->ns, n);
    free(n->value);
    m->count--;
    ns_release(m, n->ns);
    free(n);
}

static int grace_over(const mem_node *n, int64_t now_ms)
{
    return now_ms > n->expires_at_ms &&
           (uint64_t)now_ms - (uint64_t)n->expires_at_ms >= (uint64_t)OMNI__STORE_MEMORY_GRACE_MS;
}

/* Reclaims expired records in the next few slots (write lock held). */
static void sweep(mem_store *m, int64_t now_ms)
{
    for (int k = 0; k < MEM_SWEEP_SLOTS; k++) {
        size_t i = m->sweep++ & (m->nslots - 1);
        mem_slot *sl = &m->slots[i];
        if (!sl->node || sl->expires_at_ms == 0 || sl->expires_at_ms > now_ms)
            continue;
        mem_node *n = sl->node;
        if (n->value)
            bury(n);
        if (grace_over(n, now_ms)) {
            slot_remove(m, i);
            drop(m, n);
        }
    }
}

/* Checks the lengths of names a host may pass when calling the table
 * directly (the store has validated them already). */
static int lengths(const char *ns, const char *key, size_t *ns_len, size_t *key_len)
{
    if (!ns || !key)
        return omni__err(OMNI_EINVAL, "memory store: NULL namespace or key");
    *ns_len = strnlen(ns, OMNI_STORE_MAX_NS + 1);
    *key_len = strnlen(key, OMNI_STORE_MAX_KEY + 1);
    if (*ns_len == 0 || *ns_len > OMNI_STORE_MAX_NS || *key_len == 0 ||
        *key_len > OMNI_STORE_MAX_KEY)
        return omni__err(OMNI_EINVAL, "memory store: namespace or key length out of range");
    return OMNI_OK;
}

/* ---- the hook ----------------------------------------------------------- */

static int mem_get(void *ctx, const char *ns, const char *key, int64_t now_ms, char **value,
                   size_t *value_len, uint64_t *version, int64_t *expires_at_ms)
{
    mem_store *m = ctx;
    size_t ns_len, key_len;
    int rc = lengths(ns, key, &ns_len, &key_len);
    if (rc)
        return rc;
    uint64_t h = record_hash(m, ns, ns_len, key, key_len);
    char *copy = NULL;
    pthread_rwlock_rdlock(&m->lock);
    const mem_node *n = lookup(m, ns, ns_len, key, key_len, h);
    if (!n || !n->value || expired(n, now_ms)) {
        rc = OMNI_ENOTFOUND;
    } else if (!(copy = omni_malloc(n->value_len + 1))) {
        rc = OMNI_ENOMEM;
    } else {
        memcpy(copy, n->value, n->value_len + 1);
        *value = copy;
        *value_len = n->value_len;
        *version = n->version;
        *expires_at_ms = n->expires_at_ms;
    }
    pthread_rwlock_unlock(&m->lock);
    if (rc == OMNI_ENOTFOUND)
        return omni__store_not_found();
    if (rc)
        return omni__err(rc, NULL);
    return OMNI_OK;
}

/* Puts ops[0..n) atomically (all or none) under one write lock: every
 * condition is checked first, memory is reserved next, then all are
 * applied. On a refused condition *failed is its index. */
int omni__store_memory_batch(void *ctx, omni__store_op *ops, size_t n, int64_t now_ms,
                             size_t *failed)
{
    mem_store *m = ctx;
    if (n == 0 || n > OMNI__STORE_MAX_BATCH)
        return omni__err(OMNI_EINVAL, "memory store: a batch holds 1..%d puts",
                         OMNI__STORE_MAX_BATCH);
    size_t ns_len[OMNI__STORE_MAX_BATCH], key_len[OMNI__STORE_MAX_BATCH];
    uint64_t h[OMNI__STORE_MAX_BATCH];
    char *copy[OMNI__STORE_MAX_BATCH] = {0};
    mem_node *node[OMNI__STORE_MAX_BATCH] = {0}, *fresh[OMNI__STORE_MAX_BATCH] = {0};
    size_t at[OMNI__STORE_MAX_BATCH];
    mem_ns *space[OMNI__STORE_MAX_BATCH] = {0};
    int rc = OMNI_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = lengths(ops[i].ns, ops[i].key, &ns_len[i], &key_len[i]);
        if (!rc && (!ops[i].value || ops[i].value_len > OMNI_STORE_MAX_VALUE))
            rc = omni__err(OMNI_EINVAL, "memory store: NULL or oversized value");
        if (rc)
            break;
        h[i] = record_hash(m, ops[i].ns, ns_len[i], ops[i].key, key_len[i]);
        copy[i] = malloc(ops[i].value_len + 1);
        if (!copy[i]) {
            rc = omni__err(OMNI_ENOMEM, NULL);
            break;
        }
        memcpy(copy[i], ops[i].value, ops[i].value_len);
        copy[i][ops[i].value_len] = '\0';
    }
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(copy[i]);
        return rc;
    }

    uint64_t found = 0;
    size_t bad = 0;
    pthread_rwlock_wrlock(&m->lock);
    sweep(m, now_ms);
    /* 1: conditions (a key named twice in one batch sees the state before it) */
    for (size_t i = 0; i < n && !rc; i++) {
        at[i] = lookup_slot(m, ops[i].ns, ns_len[i], ops[i].key, key_len[i], h[i]);
        mem_node *x = at[i] == (size_t)-1 ? NULL : m->slots[at[i]].node;
        int live = x && x->value && !expired(x, now_ms);
        found = live ? x->version : 0;
        uint64_t want = ops[i].expected_version;
        if (want == OMNI_STORE_CREATE) {
            if (live)
                rc = OMNI_EEXISTS;
        } else if (want != OMNI_STORE_ANY_VERSION) {
            if (!live)
                rc = OMNI_ENOTFOUND;
            else if (x->version != want)
                rc = OMNI_ECONFLICT;
        }
        if (!rc && x && x->version >= UINT64_MAX - 1)
            rc = OMNI_ESTORAGE;
        for (size_t j = 0; j < i && !rc; j++)
            if (h[j] == h[i] && ns_len[j] == ns_len[i] && key_len[j] == key_len[i] &&
                strcmp(ops[j].ns, ops[i].ns) == 0 && strcmp(ops[j].key, ops[i].key) == 0)
                rc = OMNI_EINVAL;
        node[i] = x;
        bad = i;
    }
    /* 2: memory for new records */
    size_t adding = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (node[i])
            continue;
        space[i] = ns_get(m, ops[i].ns, ns_len[i]);
        int level = random_level(m);
        fresh[i] = space[i] ? malloc(sizeof(mem_node) + (size_t)level * sizeof(mem_node *) +
                                     key_len[i] + 1)
                            : NULL;
        if (!fresh[i]) {
            rc = OMNI_ENOMEM;
            break;
        }
        fresh[i]->level = level;
        space[i]->refs++; /* held by the new record from here on */
        adding++;
    }
    /* room in the table for the new records (at most half full); growing
     * moves slots, so the batch's existing records are found again */
    if (!rc && (m->count + adding) * 2 > m->nslots) {
        size_t before = m->nslots;
        while ((m->count + adding) * 2 > m->nslots) {
            size_t was = m->nslots;
            grow(m);
            if (m->nslots == was)
                break;
        }
        if (m->count + adding >= m->nslots)
            rc = OMNI_ENOMEM; /* could not grow and no free slot left */
        else if (m->nslots != before)
            for (size_t i = 0; i < n; i++)
                if (node[i])
                    at[i] = lookup_slot(m, ops[i].ns, ns_len[i], ops[i].key, key_len[i], h[i]);
    }
    /* 3: apply (cannot fail) */
    for (size_t i = 0; i < n && !rc; i++) {
        mem_node *x = node[i];
        if (x) {
            if (!x->value)
                sl_insert(x->ns, x);
            free(x->value);
            x->value = copy[i];
            x->value_len = ops[i].value_len;
            x->expires_at_ms = ops[i].expires_at_ms;
            m->slots[at[i]].expires_at_ms = x->expires_at_ms;
            ops[i].new_version = ++x->version;
        } else {
            x = fresh[i];
            fresh[i] = NULL;
            x->ns = space[i];
            x->version = ops[i].new_version = 1;
            x->expires_at_ms = ops[i].expires_at_ms;
            x->value = copy[i];
            x->value_len = ops[i].value_len;
            x->key_len = key_len[i];
            x->key = (char *)&x->fwd[x->level];
            memcpy(x->key, ops[i].key, key_len[i] + 1);
            sl_insert(x->ns, x);
            m->count++;
            slot_place(m->slots, m->nslots, (mem_slot){h[i], x, x->expires_at_ms});
        }
        copy[i] = NULL;
    }
    if (rc == OMNI_ENOMEM) {
        for (size_t i = 0; i < n; i++) {
            if (fresh[i]) {
                free(fresh[i]);
                space[i]->refs--;
            }
            if (space[i] && space[i]->refs == 0) {
                space[i]->refs = 1;
                ns_release(m, space[i]);
            }
        }
    }
    pthread_rwlock_unlock(&m->lock);
    for (size_t i = 0; i < n; i++)
        free(copy[i]);
    if (failed)
        *failed = bad;
    if (rc == OMNI_EINVAL)
        return omni__err(rc, "store: a batch names the same key twice");
    if (rc == OMNI_ENOMEM)
        return omni__err(rc, NULL);
    return omni__store_refused(rc, ops[bad].expected_version, found);
}

static int mem_put(void *ctx, const char *ns, const char *key, const char *value, size_t value_len,
                   uint64_t expected_version, int64_t expires_at_ms, int64_t now_ms,
                   uint64_t *new_version)
{
    return omni__store_put_one(omni__store_memory_batch, ctx, ns, key, value, value_len,
                               expected_version, expires_at_ms, now_ms, new_version);
}

static int mem_del(void *ctx, const char *ns, const char *key, uint64_t expected_version,
                   int64_t now_ms)
{
    mem_store *m = ctx;
    size_t ns_len, key_len;
    int rc = lengths(ns, key, &ns_len, &key_len);
    if (rc)
        return rc;
    uint64_t h = record_hash(m, ns, ns_len, key, key_len);
    uint64_t found = 0;
    pthread_rwlock_wrlock(&m->lock);
    sweep(m, now_ms);
    size_t at = lookup_slot(m, ns, ns_len, key, key_len, h);
    mem_node *n = at == (size_t)-1 ? NULL : m->slots[at].node;
    if (!n || !n->value) {
        rc = OMNI_ENOTFOUND;
    } else if (expired(n, now_ms)) {
        bury(n);
        rc = OMNI_ENOTFOUND;
    } else if (expected_version != OMNI_STORE_ANY_VERSION && n->version != expected_version) {
        found = n->version;
        rc = OMNI_ECONFLICT;
    } else {
        slot_remove(m, at);
        drop(m, n);
    }
    pthread_rwlock_unlock(&m->lock);
    if (rc == OMNI_ENOTFOUND)
        return omni__store_not_found();
    if (rc == OMNI_ECONFLICT)
        return omni__store_conflict(expected_version, found);
    return OMNI_OK;
}

static int has_prefix(const mem_node *n, const char *prefix, size_t prefix_len)
{
    return n->key_len >= prefix_len && memcmp(n->key, prefix, prefix_len) == 0;
}

/* Builds the namespace's skip list from the hash table: namespaces are
 * ordered only once they are listed, so writes to namespaces nobody lists
 * (references, indexes) stay O(1). Write lock held. */
static void sl_build(mem_store *m, mem_ns *s)
{
    s->indexed = 1;
    for (size_t i = 0; i < m->nslots; i++) {
        mem_node *n = m->slots[i].node;
        if (n && n->ns == s && n->value)
            sl_insert(s, n);
    }
}

static int mem_list(void *ctx, const char *ns, const char *prefix, const char *after_key,
                    size_t limit, int64_t now_ms, omni_store_list_cb cb, void *cb_ctx,
                    char **next_key)
{
    mem_store *m = ctx;
    if (!ns || !prefix || !after_key || !cb || !next_key)
        return omni__err(OMNI_EINVAL, "memory store: NULL argument to list");
    *next_key = NULL;
    size_t ns_len = strnlen(ns, OMNI_STORE_MAX_NS + 1);
    size_t prefix_len = strnlen(prefix, OMNI_STORE_MAX_KEY + 1);
    if (ns_len == 0 || ns_len > OMNI_STORE_MAX_NS || prefix_len > OMNI_STORE_MAX_KEY ||
        strnlen(after_key, OMNI_STORE_MAX_KEY + 1) > OMNI_STORE_MAX_KEY)
        return omni__err(OMNI_EINVAL, "memory store: list argument length out of range");
    uint64_t nsh = ns_hash(m, ns, ns_len);

    pthread_rwlock_rdlock(&m->lock);
    mem_ns *first = ns_find(m, ns, ns_len, nsh);
    int unindexed = first && !first->indexed;
    pthread_rwlock_unlock(&m->lock);
    if (unindexed) {
        pthread_rwlock_wrlock(&m->lock);
        mem_ns *s = ns_find(m, ns, ns_len, nsh);
        if (s && !s->indexed)
            sl_build(m, s);
        pthread_rwlock_unlock(&m->lock);
    }

    omni__list_batch b;
    omni__list_begin(&b, limit);
    while (omni__list_next_batch(&b)) {
        pthread_rwlock_rdlock(&m->lock);
        mem_ns *s = ns_find(m, ns, ns_len, nsh);
        if (s) {
            mem_node *x;
            if (b.has_cursor)
                x = sl_seek(s, b.cursor, 1);
            else if (strcmp(after_key, prefix) < 0)
                x = sl_seek(s, prefix, 0);
            else
                x = sl_seek(s, after_key, 1);
            for (; x && has_prefix(x, prefix, prefix_len); x = x->fwd[0]) {
                if (expired(x, now_ms))
                    continue;
                if (omni__list_full(&b))
                    break;
                omni__list_add(&b, x->key, x->key_len, x->value, x->value_len, x->version,
                               x->expires_at_ms);
            }
        }
        pthread_rwlock_unlock(&m->lock);
        if (b.arena.failed || !omni__list_deliver(&b, cb, cb_ctx))
            break;
    }
    return omni__list_finish(&b, OMNI_OK, next_key);
}

static void mem_close(void *ctx)
{
    mem_store *m = ctx;
    if (!m)
        return;
    for (size_t i = 0; i < m->nslots; i++) {
        mem_node *n = m->slots[i].node;
        if (n) {
            free(n->value);
            free(n);
        }
    }
    for (size_t i = 0; i < m->ns_nbuckets; i++) {
        mem_ns *s = m->ns_buckets[i];
        while (s) {
            mem_ns *next = s->hnext;
            free(s);
            s = next;
        }
    }
    free(m->slots);
    free(m->ns_buckets);
    pthread_rwlock_destroy(&m->lock);
    free(m);
}

int omni__store_memory_open(omni_storage_hook *out, const char *rest)
{
    if (rest && *rest)
        return omni__err(OMNI_EINVAL, "store URI: \"memory:\" takes nothing after the colon");
    uint64_t keys[2];
    int rc = omni__system_random((uint8_t *)keys, sizeof(keys));
    if (rc)
        return rc;
    mem_store *m = calloc(1, sizeof(*m));
    if (!m)
        return omni__err(OMNI_ENOMEM, NULL);
    m->k0 = keys[0];
    m->k1 = keys[1];
    m->rng = (keys[0] ^ keys[1]) | 1;
    m->nslots = MEM_INITIAL_SLOTS;
    m->ns_nbuckets = 8;
    m->slots = calloc(m->nslots, sizeof(*m->slots));
    m->ns_buckets = calloc(m->ns_nbuckets, sizeof(*m->ns_buckets));
    pthread_rwlockattr_t attr;
    int lock_rc = pthread_rwlockattr_init(&attr);
#if defined(__GLIBC__)
    /* writers must not starve behind a stream of readers */
    if (!lock_rc)
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    if (!lock_rc) {
        lock_rc = pthread_rwlock_init(&m->lock, &attr);
        pthread_rwlockattr_destroy(&attr);
    }
    if (lock_rc || !m->slots || !m->ns_buckets) {
        free(m->slots);
        free(m->ns_buckets);
        if (!lock_rc)
            pthread_rwlock_destroy(&m->lock);
        free(m);
        return omni__err(OMNI_ENOMEM, "memory store: cannot allocate its tables");
    }
    omni_storage_hook h = OMNI_STORAGE_HOOK_INIT;
    h.ctx = m;
    h.get = mem_get;
    h.put = mem_put;
    h.del = mem_del;
    h.list = mem_list;
    h.close = mem_close;
    *out = h;
    return OMNI_OK;
}

int omni__store_memory_owns(const omni_storage_hook *hook)
{
    return hook && hook->get == mem_get;
}
