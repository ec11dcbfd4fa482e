/* The delivery engine's guards, kept in the store so every process shares
 * them: a circuit breaker per carrier and token buckets per carrier and
 * sender. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "delivery_internal.h"

/* ---- circuit breaker ------------------------------------------------------------------- */

/* {"state": "closed"|"open"|"half_open", "consecutive", "windowStart", "total",
 *  "failures", "openedAt", "probeUntil"} */
typedef struct circuit {
    int state; /* 0 closed, 1 open, 2 half_open */
    int64_t consecutive, window_start, total, failures, opened_at, probe_until;
    uint64_t version; /* 0: absent */
} circuit;

static const char *const circuit_states[] = {"closed", "open", "half_open"};

static int circuit_read(omni_delivery *d, const char *carrier, int64_t now, circuit *c)
{
    memset(c, 0, sizeof *c);
    char *text = NULL;
    size_t len = 0;
    int rc = omni_store_get(omni_engine_store(d->engine), OMNI__DLV_NS_CIRCUIT, carrier, now,
                            &text, &len, &c->version, NULL);
    if (rc == OMNI_ENOTFOUND) {
        omni_error_clear();
        c->version = 0;
        return OMNI_OK;
    }
    if (rc)
        return omni__dlv_db_error(rc, "reading a circuit breaker");
    cJSON *o = NULL;
    rc = omni__json_parse(&o, text, len, 0, "circuit record");
    omni_free(text);
    if (rc)
        return omni__err(OMNI_ESTORAGE, "delivery: the circuit record of %s is not valid",
                         carrier);
    const char *s = omni__json_str(o, "state");
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, circuit_states[i]) == 0)
            c->state = i;
    c->consecutive = omni__dlv_num(o, "consecutive", 0);
    c->window_start = omni__dlv_num(o, "windowStart", now);
    c->total = omni__dlv_num(o, "total", 0);
    c->failures = omni__dlv_num(o, "failures", 0);
    c->opened_at = omni__dlv_num(o, "openedAt", 0);
    c->probe_until = omni__dlv_num(o, "probeUntil", 0);
    cJSON_Delete(o);
    return OMNI_OK;
}

/* Writes c by compare-and-swap (create when absent): OMNI_OK, OMNI_ECONFLICT
 * (re-read and try again) or an error. */
static int circuit_write(omni_delivery *d, const char *carrier, const circuit *c, int64_t now)
{
    char text[320];
    int n = snprintf(text, sizeof text,
                     "{\"state\":\"%s\",\"consecutive\":%lld,\"windowStart\":%lld,\"total\":%lld,"
                     "\"failures\":%lld,\"openedAt\":%lld,\"probeUntil\":%lld}",
                     circuit_states[c->state], (long long)c->consecutive,
                     (long long)c->window_start, (long long)c->total, (long long)c->failures,
                     (long long)c->opened_at, (long long)c->probe_until);
    int rc = omni_store_put(omni_engine_store(d->engine), OMNI__DLV_NS_CIRCUIT, carrier, text,
                            (size_t)n, c->version ? c->version : OMNI_STORE_CREATE, 0, now, NULL);
    if (rc == OMNI_ECONFLICT || rc == OMNI_EEXISTS || rc == OMNI_ENOTFOUND) {
        omni_error_clear();
        return OMNI_ECONFLICT;
    }
    return rc ? omni__dlv_db_error(rc, "writing a circuit breaker") : OMNI_OK;
}

int omni__dlv_circuit_check(omni_delivery *d, const char *carrier, int64_t now, int *probe,
                            int64_t *until)
{
    *probe = 0;
    for (int tries = 0; tries < OMNI__DLV_CAS_TRIES; tries++) {
        circuit c;
        int rc = circuit_read(d, carrier, now, &c);
        if (rc)
            return rc;
        if (c.state == 0)
            return 0;
        int64_t free_at = c.state == 1 ? c.opened_at + d->cb_cooldown_ms : c.probe_until;
        if (now < free_at) {
            *until = free_at;
            return 1;
        }
        /* cool-down over (or the last probe's lease ran out): this send probes */
        c.state = 2;
        c.probe_until = now + d->lease_ms;
        rc = circuit_write(d, carrier, &c, now);
        if (rc == OMNI_OK) {
            *probe = 1;
            return 0;
        }
        if (rc != OMNI_ECONFLICT)
            return rc;
    }
    return omni__err(OMNI_ECONFLICT, "delivery: the circuit breaker of %s keeps changing",
                     carrier);
}

/* This process's successes not yet written for carrier; taken (zeroed)
 * when take is set. */
static int64_t local_successes(omni_delivery *d, const char *carrier, int64_t add, int take)
{
    int64_t n = 0;
    pthread_mutex_lock(&d->mu);
    omni__dlv_local *slot = NULL;
    for (int i = 0; i < OMNI__DLV_CARRIERS; i++) {
        if (strcmp(d->local[i].carrier, carrier) == 0) {
            slot = &d->local[i];
            break;
        }
        if (!slot && !d->local[i].carrier[0])
            slot = &d->local[i];
    }
    if (slot) {
        if (!slot->carrier[0])
            snprintf(slot->carrier, sizeof slot->carrier, "%s", carrier);
        slot->successes += add;
        n = slot->successes;
        if (take)
            slot->successes = 0;
    }
    pthread_mutex_unlock(&d->mu);
    return n;
}

int omni__dlv_circuit_record(omni_delivery *d, const char *carrier, int ok, int probe,
                             int64_t now)
{
    for (int tries = 0; tries < OMNI__DLV_CAS_TRIES; tries++) {
        circuit c;
        int rc = circuit_read(d, carrier, now, &c);
        if (rc)
            return rc;
        if (ok && c.state == 0 && c.consecutive == 0 && c.failures == 0) {
            (void)local_successes(d, carrier, 1, 0); /* nothing to record in the store */
            return OMNI_OK;
        }
        if (ok && !probe && c.state != 0)
            return OMNI_OK; /* a send that started before the circuit opened */
        if (now - c.window_start >= d->cb_window_ms || c.version == 0) {
            c.window_start = now;
            c.total = c.failures = 0;
        }
        int64_t local = local_successes(d, carrier, 0, 0);
        c.total += local + 1;
        if (ok) {
            c.consecutive = 0;
            if (probe) {
                c.state = 0;
                c.window_start = now;
                c.total = c.failures = 0;
            }
        } else {
            c.failures++;
            c.consecutive++;
            if (probe || (c.state == 0 && (c.consecutive >= d->cb_threshold ||
                                          (c.total >= d->cb_min_requests &&
                                           (double)c.failures >= d->cb_rate * (double)c.total)))) {
                c.state = 1;
                c.opened_at = now;
                c.probe_until = 0;
            }
        }
        rc = circuit_write(d, carrier, &c, now);
        if (rc == OMNI_OK) {
            (void)local_successes(d, carrier, -local, 0);
            return OMNI_OK;
        }
        if (rc != OMNI_ECONFLICT)
            return rc;
    }
    return omni__err(OMNI_ECONFLICT, "delivery: the circuit breaker of %s keeps changing",
                     carrier);
}

/* ---- token buckets ------------------------------------------------------------------------ */

int omni__dlv_rate_take(omni_delivery *d, const char *carrier, const char *sender, int64_t now,
                        int64_t *until)
{
    const omni__dlv_rate *r = NULL;
    for (int i = 0; i < d->rate_count; i++)
        if (strcmp(d->rate[i].carrier, carrier) == 0)
            r = &d->rate[i];
    if (!r)
        return 0;
    char key[OMNI__DLV_NAME_MAX + 260];
    snprintf(key, sizeof key, "%s/%.255s", carrier, sender && *sender ? sender : "-");
    omni_store *st = omni_engine_store(d->engine);
    for (int tries = 0; tries < OMNI__DLV_CAS_TRIES; tries++) {
        char *text = NULL;
        size_t len = 0;
        uint64_t version = 0;
        double tokens = r->burst;
        int rc = omni_store_get(st, OMNI__DLV_NS_RATE, key, now, &text, &len, &version, NULL);
        if (rc == OMNI_OK) {
            cJSON *o = NULL;
            if (omni__json_parse(&o, text, len, 0, "rate record") == OMNI_OK) {
                double t = 0;
                int64_t at = omni__dlv_num(o, "at", now);
                if (omni__json_num(o, "tokens", &t) == OMNI_OK && now >= at)
                    tokens = fmin(r->burst, t + (double)(now - at) * r->per_second / 1000.0);
                else if (omni__json_num(o, "tokens", &t) == OMNI_OK)
                    tokens = t; /* another process's clock is ahead: no refill */
            }
            cJSON_Delete(o);
            omni_free(text);
        } else if (rc == OMNI_ENOTFOUND) {
            omni_error_clear();
            version = 0;
        } else {
            return omni__dlv_db_error(rc, "reading a rate limit");
        }
        if (tokens < 1.0) {
            *until = now + (int64_t)ceil((1.0 - tokens) * 1000.0 / r->per_second);
            if (*until <= now)
                *until = now + 1;
            return 1;
        }
        char val[96];
        int n = snprintf(val, sizeof val, "{\"tokens\":%.6f,\"at\":%lld}", tokens - 1.0,
                         (long long)now);
        /* an idle bucket is full again after burst / perSecond seconds */
        int64_t expires = now + (int64_t)ceil(r->burst * 1000.0 / r->per_second) + 1000;
        rc = omni_store_put(st, OMNI__DLV_NS_RATE, key, val, (size_t)n,
                            version ? version : OMNI_STORE_CREATE, expires, now, NULL);
        if (rc == OMNI_OK)
            return 0;
        if (rc != OMNI_ECONFLICT && rc != OMNI_EEXISTS && rc != OMNI_ENOTFOUND)
            return omni__dlv_db_error(rc, "writing a rate limit");
        omni_error_clear();
    }
    return omni__err(OMNI_ECONFLICT, "delivery: the rate limit of %s keeps changing", carrier);
}
