/* The delivery engine's configuration (include/omni/delivery.h): parsed,
 * checked member by member, and kept as plain numbers and names. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "delivery_internal.h"

static int cfg_error(const char *path, const char *why)
{
    char details[160];
    snprintf(details, sizeof details, "{\"path\":\"%s\"}", path);
    return omni__err_details(OMNI_ECONFIG, details, "delivery: %s: %s", path, why);
}

/* Only the listed member names are allowed in obj. */
static int only_members(const cJSON *obj, const char *path, const char *const *allowed)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(it->string, *a) == 0)
                ok = 1;
        if (!ok) {
            char p[128];
            snprintf(p, sizeof p, "%s%s%.60s", path, *path ? "." : "", it->string);
            return cfg_error(p, "unknown member");
        }
    }
    return OMNI_OK;
}

/* A number member within [lo, hi] (integral when `integral`). */
static int num_member(double *out, const cJSON *obj, const char *name, const char *path,
                      double lo, double hi, int integral)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!it)
        return OMNI_OK;
    char p[128];
    snprintf(p, sizeof p, "%s.%s", path, name);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < lo ||
        it->valuedouble > hi || (integral && it->valuedouble != floor(it->valuedouble))) {
        char why[96];
        snprintf(why, sizeof why, "must be a%s number from %g to %g", integral ? "n integral" : "",
                 lo, hi);
        return cfg_error(p, why);
    }
    *out = it->valuedouble;
    return OMNI_OK;
}

static int int_member(int64_t *out, const cJSON *obj, const char *name, const char *path,
                      double lo, double hi)
{
    double v = (double)*out;
    int rc = num_member(&v, obj, name, path, lo, hi, 1);
    *out = (int64_t)v;
    return rc;
}

int omni__dlv_carrier_known(const char *name)
{
    for (const char *const *c = omni_outbound_carriers(); *c; c++)
        if (strcmp(*c, name) == 0)
            return 1;
    return omni__dlv_push_platform(name) != NULL;
}

const char *omni__dlv_push_platform(const char *carrier)
{
    static const char *const map[][2] = {{"apns", "ios"}, {"fcm", "android"}, {"webpush", "web"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i][0], carrier) == 0)
            return map[i][1];
    return NULL;
}

static int carrier_name(char out[OMNI__DLV_NAME_MAX + 1], const char *name, const char *path)
{
    if (!omni__dlv_carrier_known(name))
        return cfg_error(path, "is not a carrier with an outbound adapter");
    snprintf(out, OMNI__DLV_NAME_MAX + 1, "%s", name);
    return OMNI_OK;
}

static int read_retry(omni_delivery *d, const cJSON *o)
{
    static const char *const allowed[] = {"maxRetries", "backoffMultiplier", "maxBackoff",
                                          "initialBackoff", NULL};
    if (!cJSON_IsObject(o))
        return cfg_error("retryPolicy", "must be an object");
    int rc = only_members(o, "retryPolicy", allowed);
    double retries = d->max_retries;
    if (!rc)
        rc = num_member(&retries, o, "maxRetries", "retryPolicy", 0, 20, 1);
    if (!rc)
        rc = num_member(&d->multiplier, o, "backoffMultiplier", "retryPolicy", 1, 10, 0);
    if (!rc)
        rc = int_member(&d->max_backoff_ms, o, "maxBackoff", "retryPolicy", 1, 86400000);
    if (!rc)
        rc = int_member(&d->initial_backoff_ms, o, "initialBackoff", "retryPolicy", 1, 86400000);
    d->max_retries = (int)retries;
    return rc;
}

static int read_fallback(omni_delivery *d, const cJSON *o)
{
    if (!cJSON_IsObject(o))
        return cfg_error("fallback", "must be an object");
    const cJSON *it;
    cJSON_ArrayForEach(it, o) {
        char path[96];
        snprintf(path, sizeof path, "fallback.%.60s", it->string);
        if (d->fallback_count == OMNI__DLV_CARRIERS)
            return cfg_error("fallback", "names too many carriers");
        omni__dlv_fallback *f = &d->fallback[d->fallback_count];
        int rc = carrier_name(f->carrier, it->string, path);
        if (rc)
            return rc;
        if (omni__dlv_push_platform(f->carrier))
            return cfg_error(path, "names a push carrier: a device token belongs to one "
                                   "platform, so push has no fallback");
        if (cJSON_IsString(it)) {
            if ((rc = carrier_name(f->next[0], it->valuestring, path)))
                return rc;
            f->count = 1;
        } else if (cJSON_IsArray(it)) {
            int n = cJSON_GetArraySize(it);
            if (n < 1 || n > OMNI__DLV_FALLBACKS)
                return cfg_error(path, "must list 1 to 3 carriers");
            const cJSON *c;
            cJSON_ArrayForEach(c, it) {
                if (!cJSON_IsString(c))
                    return cfg_error(path, "must list carrier names");
                if ((rc = carrier_name(f->next[f->count], c->valuestring, path)))
                    return rc;
                if (strcmp(f->next[f->count], f->carrier) == 0)
                    return cfg_error(path, "cannot fall back to the carrier itself");
                if (omni__dlv_push_platform(f->next[f->count]))
                    return cfg_error(path, "cannot fall back to a push carrier");
                f->count++;
            }
        } else {
            return cfg_error(path, "must be a carrier name or a list of them");
        }
        if (strcmp(f->next[0], f->carrier) == 0)
            return cfg_error(path, "cannot fall back to the carrier itself");
        if (omni__dlv_push_platform(f->next[0]))
            return cfg_error(path, "cannot fall back to a push carrier");
        d->fallback_count++;
    }
    return OMNI_OK;
}

static int read_circuit(omni_delivery *d, const cJSON *o)
{
    static const char *const allowed[] = {"failureThreshold", "failureRate", "minRequests",
                                          "windowMs", "cooldownMs", NULL};
    if (!cJSON_IsObject(o))
        return cfg_error("circuitBreaker", "must be an object");
    int rc = only_members(o, "circuitBreaker", allowed);
    if (!rc)
        rc = int_member(&d->cb_threshold, o, "failureThreshold", "circuitBreaker", 1, 1000);
    if (!rc)
        rc = num_member(&d->cb_rate, o, "failureRate", "circuitBreaker", 0.001, 1, 0);
    if (!rc)
        rc = int_member(&d->cb_min_requests, o, "minRequests", "circuitBreaker", 1, 1000000);
    if (!rc)
        rc = int_member(&d->cb_window_ms, o, "windowMs", "circuitBreaker", 1000, 86400000);
    if (!rc)
        rc = int_member(&d->cb_cooldown_ms, o, "cooldownMs", "circuitBreaker", 1, 86400000);
    return rc;
}

static int read_rates(omni_delivery *d, const cJSON *o)
{
    static const char *const allowed[] = {"perSecond", "burst", NULL};
    if (!cJSON_IsObject(o))
        return cfg_error("rateLimits", "must be an object");
    const cJSON *it;
    cJSON_ArrayForEach(it, o) {
        char path[96];
        snprintf(path, sizeof path, "rateLimits.%.60s", it->string);
        if (d->rate_count == OMNI__DLV_CARRIERS)
            return cfg_error("rateLimits", "names too many carriers");
        omni__dlv_rate *r = &d->rate[d->rate_count];
        int rc = carrier_name(r->carrier, it->string, path);
        if (rc)
            return rc;
        if (!cJSON_IsObject(it))
            return cfg_error(path, "must be an object");
        if ((rc = only_members(it, path, allowed)))
            return rc;
        if (!cJSON_GetObjectItemCaseSensitive(it, "perSecond"))
            return cfg_error(path, "needs perSecond");
        if ((rc = num_member(&r->per_second, it, "perSecond", path, 0.001, 1e6, 0)))
            return rc;
        r->burst = r->per_second < 1 ? 1 : r->per_second;
        if ((rc = num_member(&r->burst, it, "burst", path, 1, 1e6, 0)))
            return rc;
        d->rate_count++;
    }
    return OMNI_OK;
}

static int read_config(omni_delivery *d, const cJSON *root)
{
    static const char *const allowed[] = {
        "retryPolicy", "fallback",         "circuitBreaker",        "rateLimits", "leaseMs",
        "inDoubt",     "retryTimeouts",    "idempotencyTtlMs",      "deadLetterRetentionMs",
        "webhookUrl",  NULL};
    if (!cJSON_IsObject(root))
        return cfg_error("$", "the configuration must be a JSON object");
    int rc = only_members(root, "", allowed);
    const cJSON *it;
    if (!rc && (it = cJSON_GetObjectItemCaseSensitive(root, "retryPolicy")))
        rc = read_retry(d, it);
    if (!rc && (it = cJSON_GetObjectItemCaseSensitive(root, "fallback")))
        rc = read_fallback(d, it);
    if (!rc && (it = cJSON_GetObjectItemCaseSensitive(root, "circuitBreaker")))
        rc = read_circuit(d, it);
    if (!rc && (it = cJSON_GetObjectItemCaseSensitive(root, "rateLimits")))
        rc = read_rates(d, it);
    if (!rc)
        rc = int_member(&d->lease_ms, root, "leaseMs", "$", 1000, 3600000);
    if (!rc)
        rc = int_member(&d->idempotency_ttl_ms, root, "idempotencyTtlMs", "$", 1000,
                        3650.0 * 86400000);
    if (!rc)
        rc = int_member(&d->dlq_ttl_ms, root, "deadLetterRetentionMs", "$", 1000,
                        3650.0 * 86400000);
    if (rc)
        return rc;
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "inDoubt"))) {
        if (cJSON_IsString(it) && strcmp(it->valuestring, "deadLetter") == 0)
            d->in_doubt_retry = 0;
        else if (cJSON_IsString(it) && strcmp(it->valuestring, "retry") == 0)
            d->in_doubt_retry = 1;
        else
            return cfg_error("inDoubt", "must be \"deadLetter\" or \"retry\"");
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "retryTimeouts"))) {
        if (!cJSON_IsBool(it))
            return cfg_error("retryTimeouts", "must be true or false");
        d->retry_timeouts = cJSON_IsTrue(it);
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "webhookUrl"))) {
        if (!cJSON_IsString(it) || strlen(it->valuestring) > 2048)
            return cfg_error("webhookUrl", "must be a string of at most 2048 bytes");
        if (!(d->webhook_url = strdup(it->valuestring)))
            return omni__err(OMNI_ENOMEM, "delivery: out of memory");
    }
    return OMNI_OK;
}

int omni_delivery_new(omni_delivery **out, omni_engine *engine, const omni_outbound *outbound,
                      const char *config_json, size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "delivery: out is NULL");
    *out = NULL;
    if (!engine || !outbound)
        return omni__err(OMNI_EINVAL, "delivery: engine and outbound are required");
    omni_delivery *d = calloc(1, sizeof *d);
    if (!d)
        return omni__err(OMNI_ENOMEM, "delivery: out of memory");
    d->engine = engine;
    d->outbound = outbound;
    d->max_retries = 3;
    d->multiplier = 2;
    d->max_backoff_ms = 10000;
    d->initial_backoff_ms = 1000;
    d->cb_threshold = 5;
    d->cb_rate = 0.5;
    d->cb_min_requests = 20;
    d->cb_window_ms = 60000;
    d->cb_cooldown_ms = 30000;
    d->lease_ms = 60000;
    d->idempotency_ttl_ms = 7 * 86400000LL;
    d->dlq_ttl_ms = 14 * 86400000LL;
    d->retry_timeouts = 1;
    if (pthread_mutex_init(&d->mu, NULL) != 0) {
        free(d);
        return omni__err(OMNI_ENOMEM, "delivery: cannot create a mutex");
    }
    if (config_json && len) {
        cJSON *root = NULL;
        int rc = omni__json_parse(&root, config_json, len, OMNI_LIMIT_CONFIG_BYTES,
                                  "delivery configuration");
        if (!rc)
            rc = read_config(d, root);
        cJSON_Delete(root);
        if (rc) {
            omni_delivery_free(d);
            return rc;
        }
    }
    *out = d;
    return OMNI_OK;
}

void omni_delivery_free(omni_delivery *d)
{
    if (!d)
        return;
    pthread_mutex_destroy(&d->mu);
    free(d->webhook_url);
    free(d);
}

int omni_delivery_set_push(omni_delivery *d, omni_push *push)
{
    if (!d)
        return omni__err(OMNI_EINVAL, "delivery: delivery is NULL");
    d->push = push;
    return OMNI_OK;
}

omni_engine *omni_delivery_engine(const omni_delivery *d)
{
    return d ? d->engine : NULL;
}

omni_push *omni_delivery_push(const omni_delivery *d)
{
    return d ? d->push : NULL;
}
