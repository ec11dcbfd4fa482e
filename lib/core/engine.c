/* The engine: configuration, hooks, built-in clock and random. */
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "buf.h"
#include "error.h"
#include "json.h"

int64_t omni__system_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Small requests (UUIDs, nonces) are served from a per-thread pool of
 * RAND_bytes output, so each call does not pay for a DRBG round; bytes are
 * never handed out twice, and a forked child starts with an empty pool. */
#define RANDOM_POOL 512
static _Thread_local struct {
    uint8_t bytes[RANDOM_POOL];
    size_t left;
} random_pool;
static pthread_once_t random_once = PTHREAD_ONCE_INIT;

static void random_pool_forget(void)
{
    OPENSSL_cleanse(random_pool.bytes, sizeof(random_pool.bytes));
    random_pool.left = 0;
}

static void random_pool_setup(void)
{
    (void)pthread_atfork(NULL, NULL, random_pool_forget);
}

int omni__system_random(uint8_t *buf, size_t len)
{
    if (len > 0 && len <= 64) {
        pthread_once(&random_once, random_pool_setup);
        if (random_pool.left < len) {
            if (RAND_bytes(random_pool.bytes, RANDOM_POOL) != 1) {
                random_pool.left = 0;
                return omni__err(OMNI_ECRYPTO, "the system random generator failed");
            }
            random_pool.left = RANDOM_POOL;
        }
        uint8_t *src = random_pool.bytes + (RANDOM_POOL - random_pool.left);
        memcpy(buf, src, len);
        OPENSSL_cleanse(src, len);
        random_pool.left -= len;
        return OMNI_OK;
    }
    while (len > 0) {
        int chunk = len > 1u << 30 ? 1 << 30 : (int)len;
        if (RAND_bytes(buf, chunk) != 1)
            return omni__err(OMNI_ECRYPTO, "the system random generator failed");
        buf += chunk;
        len -= (size_t)chunk;
    }
    return OMNI_OK;
}

static int64_t fixed_clock(void *ctx)
{
    return ((const omni_engine *)ctx)->fixed_now_ms;
}

/* SplitMix64: a deterministic generator for reproducible runs (--seed);
 * not for secrets, which is why it is only ever selected explicitly. */
static int seeded_fill(void *ctx, uint8_t *buf, size_t len)
{
    omni_engine *e = ctx;
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < len; i += 8) {
        uint64_t z = (e->seed_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        for (size_t j = 0; j < 8 && i + j < len; j++)
            buf[i + j] = (uint8_t)(z >> (8 * j));
    }
    pthread_mutex_unlock(&e->mu);
    return OMNI_OK;
}

int64_t omni_engine_now_ms(const omni_engine *e)
{
    if (e && e->clock.now_ms)
        return e->clock.now_ms(e->clock.ctx);
    return omni__system_now_ms();
}

int omni_engine_random(const omni_engine *e, uint8_t *buf, size_t len)
{
    if (!buf && len)
        return omni__err(OMNI_EINVAL, "random: NULL buffer");
    if (e && e->random.fill) {
        unsigned long mark = omni__err_mark();
        int rc = e->random.fill(e->random.ctx, buf, len);
        if (rc)
            return omni__err_from_hook(rc < 0 ? rc : OMNI_EHOOK, mark, "random");
        return OMNI_OK;
    }
    return omni__system_random(buf, len);
}

omni_store *omni_engine_store(const omni_engine *e)
{
    return e ? e->store : NULL;
}

omni_transport *omni_engine_transport(const omni_engine *e)
{
    return e ? e->transport : NULL;
}

static const char *level_name(int level)
{
    if (level >= OMNI_LOG_ERROR)
        return "error";
    if (level >= OMNI_LOG_WARN)
        return "warn";
    if (level >= OMNI_LOG_INFO)
        return "info";
    return "debug";
}

void omni__log(const omni_engine *e, int level, const char *component, const char *fmt, ...)
{
    if (!e || !e->log.log || level < e->log.min_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_key(&b, "level");
    omni__json_w_str(&b, level_name(level));
    omni__json_w_key(&b, "component");
    omni__json_w_str(&b, component);
    omni__json_w_key(&b, "message");
    omni__json_w_str(&b, msg);
    omni__json_w_obj_end(&b);
    if (!b.failed)
        e->log.log(e->log.ctx, level, b.data, b.len);
    omni__buf_free(&b);
}

void omni__metric(const omni_engine *e, const char *name, double value, const char *unit,
                  const char *dimensions_json)
{
    if (!e || !e->metrics.record)
        return;
    const char *dims = dimensions_json ? dimensions_json : "{}";
    e->metrics.record(e->metrics.ctx, name, value, unit, dims, strlen(dims));
}

static int config_error(const char *path, const char *fmt, const char *arg)
{
    omni_buf d = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&d);
    omni__json_w_key(&d, "path");
    omni__json_w_str(&d, path);
    omni__json_w_obj_end(&d);
    char msg[256];
    snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
    int rc = omni__err_details(OMNI_ECONFIG, d.failed ? NULL : d.data, "configuration %s: %s",
                               path, msg);
    omni__buf_free(&d);
    return rc;
}

static int parse_level(const char *s, int *out)
{
    static const struct {
        const char *name;
        int level;
    } levels[] = {{"debug", OMNI_LOG_DEBUG}, {"info", OMNI_LOG_INFO}, {"warn", OMNI_LOG_WARN},
                  {"error", OMNI_LOG_ERROR}, {"off", OMNI_LOG_OFF}};
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcmp(s, levels[i].name) == 0) {
            *out = levels[i].level;
            return 0;
        }
    return -1;
}

static int open_transport(omni_engine *e, const cJSON *cfg)
{
    if (!cfg)
        return OMNI_OK;
    if (!cJSON_IsObject(cfg))
        return config_error("transport", "must be an object", NULL);
    const char *type = omni__json_str(cfg, "type");
    if (!type)
        return config_error("transport.type", "must be \"curl\", \"scripted\" or \"none\"", NULL);
    if (strcmp(type, "none") == 0)
        return OMNI_OK;
    if (strcmp(type, "scripted") == 0) {
        const cJSON *responses = cJSON_GetObjectItemCaseSensitive(cfg, "responses");
        if (!cJSON_IsArray(responses))
            return config_error("transport.responses", "must be an array", NULL);
        char *text;
        size_t len;
        int rc = omni__json_print(&text, &len, responses);
        if (rc)
            return rc;
        rc = omni_transport_scripted_new(&e->transport, text, len);
        free(text);
        return rc;
    }
    if (strcmp(type, "curl") == 0) {
        cJSON *opts = cJSON_Duplicate(cfg, 1);
        if (!opts)
            return omni__err(OMNI_ENOMEM, NULL);
        cJSON_DeleteItemFromObjectCaseSensitive(opts, "type");
        char *text;
        size_t len;
        int rc = omni__json_print(&text, &len, opts);
        cJSON_Delete(opts);
        if (rc)
            return rc;
        rc = omni_transport_curl_new(&e->transport, text, len);
        free(text);
        return rc;
    }
    return config_error("transport.type", "unknown transport type \"%s\"", type);
}

static int apply_config(omni_engine *e, const cJSON *root, int *clock_fixed, int *seeded,
                        const char **storage_uri)
{
    static const char *known[] = {"storage", "transport", "clock", "random", "log"};
    if (!cJSON_IsObject(root))
        return config_error("$", "must be a JSON object", NULL);
    for (const cJSON *it = root->child; it; it = it->next) {
        size_t i;
        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (strcmp(it->string, known[i]) == 0)
                break;
        if (i == sizeof(known) / sizeof(known[0]))
            return config_error(it->string, "unknown key \"%s\"", it->string);
    }
    const cJSON *storage = cJSON_GetObjectItemCaseSensitive(root, "storage");
    if (storage) {
        if (!cJSON_IsString(storage))
            return config_error("storage", "must be a store URI such as \"memory:\"", NULL);
        *storage_uri = storage->valuestring;
    }
    const cJSON *clock = cJSON_GetObjectItemCaseSensitive(root, "clock");
    if (clock) {
        const char *fixed = omni__json_str(clock, "fixed");
        if (!cJSON_IsObject(clock) || !fixed)
            return config_error("clock.fixed", "must be an RFC 3339 time", NULL);
        if (omni_time_parse(&e->fixed_now_ms, fixed, strlen(fixed)) != OMNI_OK)
            return config_error("clock.fixed", "\"%s\" is not an RFC 3339 time", fixed);
        *clock_fixed = 1;
    }
    const cJSON *random = cJSON_GetObjectItemCaseSensitive(root, "random");
    if (random) {
        int64_t seed;
        if (!cJSON_IsObject(random) || omni__json_int(random, "seed", &seed) || seed < 0)
            return config_error("random.seed", "must be a non-negative integer", NULL);
        e->seed_state = (uint64_t)seed;
        *seeded = 1;
    }
    const cJSON *log = cJSON_GetObjectItemCaseSensitive(root, "log");
    if (log) {
        const char *level = omni__json_str(log, "level");
        if (!cJSON_IsObject(log) || !level || parse_level(level, &e->log.min_level))
            return config_error("log.level", "must be debug, info, warn, error or off", NULL);
    }
    return OMNI_OK;
}

static int copy_hooks(omni_engine *e, const omni_hooks *h)
{
    int rc = omni__hook_version_check(h->version, OMNI_HOOKS_VERSION, "hooks");
    if (rc)
        return rc;
    if (h->clock) {
        if ((rc = omni__hook_version_check(h->clock->version, OMNI_CLOCK_HOOK_VERSION, "clock")))
            return rc;
        if (!h->clock->now_ms)
            return omni__err(OMNI_EINVAL, "clock hook: now_ms is NULL");
        e->clock = *h->clock;
    }
    if (h->random) {
        if ((rc = omni__hook_version_check(h->random->version, OMNI_RANDOM_HOOK_VERSION,
                                           "random")))
            return rc;
        if (!h->random->fill)
            return omni__err(OMNI_EINVAL, "random hook: fill is NULL");
        e->random = *h->random;
    }
    if (h->log) {
        if ((rc = omni__hook_version_check(h->log->version, OMNI_LOG_HOOK_VERSION, "log")))
            return rc;
        int level = e->log.min_level;
        e->log = *h->log;
        if (level != OMNI_LOG_INFO) /* the configuration's level wins when set */
            e->log.min_level = level;
    }
    if (h->metrics) {
        if ((rc = omni__hook_version_check(h->metrics->version, OMNI_METRICS_HOOK_VERSION,
                                           "metrics")))
            return rc;
        e->metrics = *h->metrics;
    }
    if (h->version >= 2 && h->analyzer) {
        if ((rc = omni__hook_version_check(h->analyzer->version, OMNI_ANALYZER_HOOK_VERSION,
                                           "analyzer")))
            return rc;
        if (!h->analyzer->analyze)
            return omni__err(OMNI_EINVAL, "analyzer hook: analyze is NULL");
        e->analyzer = *h->analyzer;
    }
    return OMNI_OK;
}

void omni_engine_free(omni_engine *e)
{
    if (!e)
        return;
    omni_store_free(e->store);
    omni_transport_free(e->transport);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

int omni_engine_new(omni_engine **out, const char *config_json, size_t config_len,
                    const omni_hooks *hooks)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "engine: out is NULL");
    *out = NULL;
    omni_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return omni__err(OMNI_ENOMEM, NULL);
    pthread_mutex_init(&e->mu, NULL);
    e->clock = (omni_clock_hook)OMNI_CLOCK_HOOK_INIT;
    e->random = (omni_random_hook)OMNI_RANDOM_HOOK_INIT;
    e->log = (omni_log_hook)OMNI_LOG_HOOK_INIT;
    e->metrics = (omni_metrics_hook)OMNI_METRICS_HOOK_INIT;
    e->analyzer = (omni_analyzer_hook)OMNI_ANALYZER_HOOK_INIT;

    int rc = OMNI_OK;
    cJSON *root = NULL;
    int clock_fixed = 0, seeded = 0;
    const char *storage_uri = "memory:";
    if (config_json && config_len > 0) {
        rc = omni__json_parse(&root, config_json, config_len, OMNI_LIMIT_CONFIG_BYTES,
                              "configuration");
        if (!rc)
            rc = apply_config(e, root, &clock_fixed, &seeded, &storage_uri);
    }
    if (!rc && clock_fixed) {
        e->clock.now_ms = fixed_clock;
        e->clock.ctx = e;
    }
    if (!rc && seeded) {
        e->random.fill = seeded_fill;
        e->random.ctx = e;
    }
    if (!rc && hooks)
        rc = copy_hooks(e, hooks);
    if (!rc) {
        if (hooks && hooks->storage)
            rc = omni_store_wrap(&e->store, hooks->storage);
        else
            rc = omni_store_open(&e->store, storage_uri);
    }
    if (!rc) {
        if (hooks && hooks->transport)
            rc = omni_transport_wrap(&e->transport, hooks->transport);
        else if (root)
            rc = open_transport(e, cJSON_GetObjectItemCaseSensitive(root, "transport"));
    }
    cJSON_Delete(root);
    if (rc) {
        omni_engine_free(e);
        return rc;
    }
    *out = e;
    return OMNI_OK;
}
