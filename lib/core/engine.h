/* Internal: the engine's layout and helpers for components. */
#ifndef OMNI_CORE_ENGINE_H
#define OMNI_CORE_ENGINE_H

#include <pthread.h>

#include <omni/omni.h>

struct omni_engine {
    omni_clock_hook clock;
    omni_random_hook random;
    omni_log_hook log;
    omni_metrics_hook metrics;
    omni_analyzer_hook analyzer; /* analyze NULL: none */
    omni_store *store;         /* owned */
    omni_transport *transport; /* owned; NULL: sending unsupported */

    /* built-in deterministic hooks (configuration "clock.fixed", "random.seed") */
    int64_t fixed_now_ms;
    uint64_t seed_state;

    /* mutable state, guarded by mu: the seeded generator, UUIDv7 ordering */
    pthread_mutex_t mu;
    uint8_t uuid7_last[16];
    int uuid7_has_last;

    /* conversations whose latest message this engine wrote out itself
     * (hash of the conversation id -> sequence number), so the next step
     * need not read the store to know; guarded by mu */
    struct {
        uint64_t id_hash;
        int64_t seq;
    } conv_written[256];

    /* accounts' conversation settings as last read, for a second
     * (monotonic); guarded by mu */
    struct {
        char account[129]; /* "": empty slot */
        int64_t read_at_ns;
        int64_t timeout_ms, dedupe_ms;
        int has_timeout, has_dedupe;
    } conv_settings[32];
};

/* Checks a hook table's version field: OMNI_OK or OMNI_EVERSION. */
int omni__hook_version_check(unsigned version, unsigned known, const char *what);

/* Structured log through the engine's log hook (no-op when engine is NULL,
 * the hook is unset or level is below its minimum). The message must not
 * contain secrets. */
void omni__log(const omni_engine *e, int level, const char *component, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* A measurement through the engine's metrics hook (no-op when unset). */
void omni__metric(const omni_engine *e, const char *name, double value, const char *unit,
                  const char *dimensions_json);

/* The system clock in Unix ms. */
int64_t omni__system_now_ms(void);
/* OS random bytes; OMNI_OK or OMNI_ECRYPTO. */
int omni__system_random(uint8_t *buf, size_t len);

#endif
