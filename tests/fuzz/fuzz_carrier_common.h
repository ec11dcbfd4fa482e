/* Shared by the carrier fuzz targets (fuzz_carrier_<name>.c): runs
 * arbitrary bytes through one carrier's adapter via the public inbound API
 * and abort()s when an invariant breaks.
 *
 * Input: "<credential>\n<body>" when the target names a credential header
 * (the first line is that header's value; without a '\n' the whole input
 * is the body and the header is left out), else just the body. The body is
 * handled with verification off, then the request is verified and handled
 * with fixed settings.
 * Invariants: a call returns OMNI_OK or an expected error code and never
 * crashes, leaks or hangs; a failed call hands out nothing; verify and
 * handle agree on verification failures; a result is valid JSON of the
 * documented shape whose events name the carrier, have a known kind and
 * the correlationId UUIDv5(carrier:message id); the configured secret
 * appears in a result only when the body itself has it, and a body member
 * holding it (LiveChat's secret_key) is never part of a rawPayload. */
#ifndef OMNI_FUZZ_CARRIER_COMMON_H
#define OMNI_FUZZ_CARRIER_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "lib/core/json.h"

typedef struct fz_target {
    const char *carrier;
    const char *config_on;     /* settings with credentials */
    const char *header;        /* the credential header, or NULL (secret in the body) */
    const char *secret;        /* not in a result unless the body has it */
    const char *secret_member; /* a body member never copied to rawPayload, or NULL */
    const char *url;           /* request target */
    const char *clock;         /* the engine's fixed time */
} fz_target;

typedef struct fz_state {
    omni_inbound *off;
    omni_inbound *on;
    omni_engine *engine;
} fz_state;

static inline void fz_init(fz_state *s, const fz_target *t)
{
    if (s->engine)
        return;
    char off[128], clock[96];
    snprintf(off, sizeof(off), "{\"carriers\":{\"%s\":{\"verify\":false}}}", t->carrier);
    snprintf(clock, sizeof(clock), "{\"clock\":{\"fixed\":\"%s\"}}", t->clock);
    if (omni_inbound_new(&s->off, off, strlen(off), NULL) ||
        omni_inbound_new(&s->on, t->config_on, strlen(t->config_on), NULL) ||
        omni_engine_new(&s->engine, clock, strlen(clock), NULL))
        abort();
}

static inline int fz_expected(int rc)
{
    return rc == OMNI_OK || rc == OMNI_EWEBHOOK || rc == OMNI_ETOOLARGE || rc == OMNI_ENOMEM ||
           rc == OMNI_ESIGNATURE;
}

static inline const char *fz_str(const cJSON *o, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(it))
        abort();
    return it->valuestring;
}

/* 1 when s occurs in data[0..n). */
static inline int fz_contains(const uint8_t *data, size_t n, const char *s)
{
    size_t k = strlen(s);
    for (size_t i = 0; k && i + k <= n; i++)
        if (memcmp(data + i, s, k) == 0)
            return 1;
    return 0;
}

static inline void fz_check_result(const fz_target *t, const char *out, size_t len,
                                   const uint8_t *body, size_t blen)
{
    if (!out || strlen(out) != len)
        abort();
    if (omni__json_validate(out, len, 64u * 1024u * 1024u, "result") != OMNI_OK)
        abort();
    if (t->secret && strstr(out, t->secret) && !fz_contains(body, blen, t->secret))
        abort();
    cJSON *root = cJSON_ParseWithLength(out, len);
    if (!cJSON_IsObject(root) || strcmp(fz_str(root, "carrier"), t->carrier) != 0)
        abort();
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(root, "events");
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(root, "response");
    if (!cJSON_IsArray(events) || !cJSON_IsObject(resp))
        abort();
    const cJSON *ev;
    cJSON_ArrayForEach(ev, events)
    {
        if (!cJSON_IsObject(ev) || strcmp(fz_str(ev, "carrier"), t->carrier) != 0)
            abort();
        const char *kind = fz_str(ev, "kind");
        const char *id;
        if (strcmp(kind, "message") == 0) {
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(ev, "message");
            id = fz_str(m, "id");
            fz_str(m, "content");
            fz_str(m, "contentType");
            fz_str(m, "timestamp");
            fz_str(ev, "channelType");
            const cJSON *raw = cJSON_GetObjectItemCaseSensitive(ev, "rawPayload");
            if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ev, "senderIdentifier")) ||
                !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ev, "recipientIdentifier")) ||
                !raw)
                abort();
            if (t->secret_member && cJSON_GetObjectItemCaseSensitive(raw, t->secret_member))
                abort();
        } else if (strcmp(kind, "status") == 0) {
            id = fz_str(ev, "carrierMessageId");
            fz_str(ev, "status");
            fz_str(ev, "timestamp");
        } else {
            abort();
        }
        char name[1200], cid[OMNI_UUID_STRLEN];
        int n = snprintf(name, sizeof(name), "%s:%s", t->carrier, id);
        if (n < 0 || (size_t)n >= sizeof(name) ||
            omni_uuid5(cid, OMNI_CARRIER_MESSAGE_NAMESPACE, name, (size_t)n) != OMNI_OK ||
            strcmp(cid, fz_str(ev, "correlationId")) != 0)
            abort();
    }
    cJSON_Delete(root);
}

/* Handles req with cfg; checks the outcome. Returns the status. */
static inline int fz_handle(const fz_target *t, const fz_state *s, const omni_inbound *cfg,
                            const omni_webhook *req, const uint8_t *body, size_t blen)
{
    char *out = NULL;
    size_t len = 0;
    int rc = omni_inbound_handle(&out, &len, cfg, s->engine, t->carrier, req);
    if (rc == OMNI_OK)
        fz_check_result(t, out, len, body, blen);
    else if (out || len || !fz_expected(rc))
        abort();
    omni_free(out);
    return rc;
}

static inline omni_webhook *fz_request(const fz_target *t, const char *header_value,
                                       const uint8_t *body, size_t len)
{
    omni_webhook *req = NULL;
    if (omni_webhook_new(&req, "POST", t->url) != OMNI_OK)
        abort();
    if (omni_webhook_add_header(req, "Host", "hooks.example.com") != OMNI_OK)
        abort();
    if (header_value && t->header &&
        omni_webhook_add_header(req, t->header, header_value) != OMNI_OK) {
        omni_webhook_free(req);
        return NULL; /* not a valid header value: nothing to test */
    }
    if (omni_webhook_set_body(req, body, len) != OMNI_OK) {
        omni_webhook_free(req);
        return NULL;
    }
    return req;
}

static inline void fz_run(const fz_target *t, fz_state *s, const uint8_t *data, size_t size)
{
    fz_init(s, t);
    const uint8_t *nl = t->header ? memchr(data, '\n', size) : NULL;
    char *cred = NULL;
    const uint8_t *body = data;
    size_t blen = size;
    if (nl) {
        size_t n = (size_t)(nl - data);
        cred = malloc(n + 1);
        if (!cred)
            abort();
        memcpy(cred, data, n);
        cred[n] = '\0';
        body = nl + 1;
        blen = size - n - 1;
    }

    /* 1. the body, verification off */
    omni_webhook *req = fz_request(t, NULL, body, blen);
    if (req) {
        fz_handle(t, s, s->off, req, body, blen);
        omni_webhook_free(req);
    }

    /* 2. credential and body against the fixed settings */
    if (cred && strlen(cred) != (size_t)(nl - data)) {
        free(cred); /* a NUL byte: not a header value */
        return;
    }
    req = fz_request(t, cred, body, blen);
    free(cred);
    if (!req)
        return;
    int vrc = omni_inbound_verify(s->on, s->engine, t->carrier, req);
    if (!fz_expected(vrc))
        abort();
    int hrc = fz_handle(t, s, s->on, req, body, blen);
    if (vrc != OMNI_OK && hrc != vrc)
        abort(); /* verification failures are the same through handle */
    omni_webhook_free(req);
}

/* ---- for the targets with their own driver (Twilio, WhatsApp) ----------- */

static inline void fz_check(int cond)
{
    if (!cond)
        abort();
}

static inline omni_inbound *fz_open_inbound(const char *config)
{
    omni_inbound *in = NULL;
    fz_check(omni_inbound_new(&in, config, strlen(config), NULL) == OMNI_OK);
    return in;
}

/* Handles w with in (system clock); a failure must hand out nothing and be
 * a documented error, a result must be JSON with an "events" array of at
 * most OMNI_WEBHOOK_MAX_EVENTS message/status events and a "response"
 * object. Returns the parsed result (caller deletes) or NULL on a failure. */
static inline cJSON *fz_handle_events(const omni_inbound *in, const char *carrier,
                                      const omni_webhook *w)
{
    char *out = (char *)1;
    size_t len = 1;
    int rc = omni_inbound_handle(&out, &len, in, NULL, carrier, w);
    if (rc != OMNI_OK) {
        fz_check(out == NULL && len == 0);
        fz_check(rc == OMNI_EWEBHOOK || rc == OMNI_ESIGNATURE || rc == OMNI_ETOOLARGE ||
                 rc == OMNI_ENOMEM);
        return NULL;
    }
    fz_check(out && strlen(out) == len);
    cJSON *root = cJSON_ParseWithLength(out, len);
    fz_check(root != NULL);
    omni_free(out);
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(root, "events");
    fz_check(cJSON_IsArray(events) && cJSON_GetArraySize(events) <= OMNI_WEBHOOK_MAX_EVENTS);
    const cJSON *ev;
    cJSON_ArrayForEach(ev, events)
    {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(ev, "kind");
        fz_check(cJSON_IsString(kind));
        fz_check(strcmp(kind->valuestring, "message") == 0 ||
                 strcmp(kind->valuestring, "status") == 0);
    }
    fz_check(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "response")));
    return root;
}

#endif
