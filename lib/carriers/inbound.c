/* Inbound webhook handling: the compiled configuration (omni_inbound), the
 * public URL a carrier signed, size limits, verification before parsing,
 * and the result document {carrier, events, response}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <omni/omni.h>

#include "carrier_internal.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"
#include "transport/transport_internal.h"

#define BASE_URL_MAX 2048
/* The public URL: a base or scheme + authority, plus the request target. */
#define PUBLIC_URL_MAX (BASE_URL_MAX + OMNI_WEBHOOK_MAX_URL + 16)
#define AUTHORITY_MAX 300
/* Largest result document. */
#define RESULT_MAX (64u * 1024u * 1024u)

typedef struct configured {
    const cJSON *settings; /* NULL: the carrier is not configured */
    char *settings_json;   /* compact text, for host adapters */
    size_t settings_len;
    void *state; /* from the built-in adapter's compile() */
    int verify_off;
} configured;

struct omni_inbound {
    cJSON *config;
    char *base_url; /* publicBaseUrl without a trailing '/', or NULL */
    int trust_forwarded;
    size_t max_body;
    char region[3];
    int has_region;
    omni_carriers *registry;
    configured *per; /* one per registry entry, same order */
    omni__uuid_ns *ns;
};

/* ---- configuration --------------------------------------------------------- */

static int cfg_err(const char *path, const char *fmt, const char *arg)
{
    omni_buf d = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&d);
    omni__json_w_key(&d, "path");
    omni__json_w_str(&d, path);
    omni__json_w_obj_end(&d);
    char why[256];
    snprintf(why, sizeof(why), fmt, arg ? arg : "");
    int rc = omni__err_details(OMNI_ECONFIG, d.failed ? NULL : d.data, "configuration: %s: %s",
                               path[0] ? path : "(root)", why);
    omni__buf_free(&d);
    return rc;
}

static int is_host_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("-._~%!$&'()*+,;=", c));
}

/* host[:port] with a reg-name, IPv4 or [IPv6] host and a port 1..65535.
 * *port_at receives the offset of ':' before the port, or n. */
static int valid_authority(const char *a, size_t n, size_t *port_at)
{
    size_t i = 0;
    if (n == 0 || n > AUTHORITY_MAX)
        return 0;
    if (a[0] == '[') {
        for (i = 1; i < n && a[i] != ']'; i++) {
            unsigned char c = (unsigned char)a[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == ':' || c == '.'))
                return 0;
        }
        if (i >= n || i == 1)
            return 0;
        i++;
    } else {
        while (i < n && a[i] != ':') {
            if (!is_host_char((unsigned char)a[i]))
                return 0;
            i++;
        }
        if (i == 0)
            return 0;
    }
    if (port_at)
        *port_at = i;
    if (i == n)
        return 1;
    if (a[i] != ':' || n - i - 1 < 1 || n - i - 1 > 5)
        return 0;
    unsigned long port = 0;
    for (size_t k = i + 1; k < n; k++) {
        if (a[k] < '0' || a[k] > '9')
            return 0;
        port = port * 10 + (unsigned long)(a[k] - '0');
    }
    return port >= 1 && port <= 65535;
}

/* "http(s)://authority[/path]" without query, fragment or user info. */
static int check_base_url(const char *url)
{
    size_t n = strlen(url);
    if (n > BASE_URL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7F || url[i] == '?' ||
            url[i] == '#')
            return 0;
    size_t skip = strncmp(url, "https://", 8) == 0 ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0;
    if (!skip)
        return 0;
    size_t alen = strcspn(url + skip, "/");
    return valid_authority(url + skip, alen, NULL);
}

static void wipe_strings(cJSON *item)
{
    for (; item; item = item->next) {
        if (cJSON_IsString(item) && item->valuestring)
            OPENSSL_cleanse(item->valuestring, strlen(item->valuestring));
        wipe_strings(item->child);
    }
}

void omni_inbound_free(omni_inbound *in)
{
    if (!in)
        return;
    if (in->per && in->registry) {
        for (size_t i = 0; i < in->registry->count; i++) {
            configured *cf = &in->per[i];
            const omni__carrier *b = in->registry->items[i].builtin;
            if (cf->state && b && b->state_free)
                b->state_free(cf->state);
            if (cf->settings_json) {
                OPENSSL_cleanse(cf->settings_json, cf->settings_len);
                free(cf->settings_json);
            }
        }
    }
    free(in->per);
    omni_carriers_free(in->registry);
    if (in->config) {
        wipe_strings(in->config);
        cJSON_Delete(in->config);
    }
    free(in->base_url);
    omni__uuid_ns_free(in->ns);
    free(in);
}

static int compile_carrier(omni_inbound *in, const cJSON *item)
{
    const char *name = item->string ? item->string : "";
    char path[64];
    snprintf(path, sizeof(path), "carriers.%.40s", name);
    const omni__carrier_entry *e = omni__carriers_find(in->registry, name);
    if (!e)
        return cfg_err(path, "unknown carrier%s", NULL);
    configured *cf = &in->per[e - in->registry->items];
    if (cf->settings)
        return cfg_err(path, "the carrier appears twice%s", NULL);
    if (!cJSON_IsObject(item))
        return cfg_err(path, "the settings must be an object%s", NULL);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, "verify");
    if (v && !cJSON_IsBool(v)) {
        snprintf(path, sizeof(path), "carriers.%.40s.verify", name);
        return cfg_err(path, "must be a boolean%s", NULL);
    }
    cf->verify_off = cJSON_IsFalse(v);
    int rc;
    if (e->builtin && e->builtin->compile) {
        if ((rc = e->builtin->compile(item, &cf->state)))
            return rc;
    }
    if ((rc = omni__json_print(&cf->settings_json, &cf->settings_len, item)))
        return rc;
    cf->settings = item;
    return OMNI_OK;
}

static int compile_config(omni_inbound *in, const cJSON *root)
{
    if (!cJSON_IsObject(root))
        return cfg_err("", "the inbound configuration must be a JSON object%s", NULL);
    static const char *const names[] = {"publicBaseUrl", "trustForwardedHeaders",
                                        "maxBodyBytes",  "defaultRegion",
                                        "carriers",      NULL};
    const cJSON *m[5] = {NULL, NULL, NULL, NULL, NULL};
    for (const cJSON *c = root->child; c; c = c->next) {
        const char *key = c->string ? c->string : "";
        size_t i = 0;
        while (names[i] && strcmp(names[i], key) != 0)
            i++;
        if (!names[i]) {
            char path[80];
            snprintf(path, sizeof(path), "%.64s", key);
            return cfg_err(path, "unknown key%s", NULL);
        }
        if (m[i])
            return cfg_err(names[i], "the key appears twice%s", NULL);
        m[i] = c;
    }
    if (m[0]) {
        if (!cJSON_IsString(m[0]) || !check_base_url(m[0]->valuestring))
            return cfg_err("publicBaseUrl",
                           "must be an http(s) URL with a host and an optional path (no query, "
                           "fragment or user information, at most 2048 bytes)%s",
                           NULL);
        size_t n = strlen(m[0]->valuestring);
        while (n > 0 && m[0]->valuestring[n - 1] == '/')
            n--;
        in->base_url = strndup(m[0]->valuestring, n);
        if (!in->base_url)
            return omni__err(OMNI_ENOMEM, NULL);
    }
    if (m[1]) {
        if (!cJSON_IsBool(m[1]))
            return cfg_err("trustForwardedHeaders", "must be a boolean%s", NULL);
        in->trust_forwarded = cJSON_IsTrue(m[1]);
    }
    if (m[2]) {
        int64_t v = 0;
        if (omni__json_int(m[2], NULL, &v) || v < 1 || v > (int64_t)OMNI_WEBHOOK_MAX_BODY)
            return cfg_err("maxBodyBytes", "must be an integer from 1 to 1048576%s", NULL);
        in->max_body = (size_t)v;
    }
    if (m[3]) {
        const char *r = cJSON_IsString(m[3]) ? m[3]->valuestring : NULL;
        if (!r || strlen(r) != 2 || r[0] < 'A' || r[0] > 'Z' || r[1] < 'A' || r[1] > 'Z')
            return cfg_err("defaultRegion",
                           "must be an ISO 3166-1 alpha-2 code in upper case (\"US\")%s", NULL);
        memcpy(in->region, r, 3);
        in->has_region = 1;
    }
    if (m[4]) {
        if (!cJSON_IsObject(m[4]))
            return cfg_err("carriers", "must be an object of carrier settings%s", NULL);
        for (const cJSON *c = m[4]->child; c; c = c->next) {
            int rc = compile_carrier(in, c);
            if (rc)
                return rc;
        }
    }
    return OMNI_OK;
}

int omni_inbound_new(omni_inbound **out, const char *config_json, size_t len,
                     const omni_carriers *registry)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "inbound: out is NULL");
    *out = NULL;
    if (!config_json && len)
        return omni__err(OMNI_EINVAL, "inbound: configuration is NULL");
    omni_inbound *in = calloc(1, sizeof(*in));
    if (!in)
        return omni__err(OMNI_ENOMEM, NULL);
    in->max_body = OMNI_WEBHOOK_MAX_BODY;
    int rc = omni__uuid_ns_new(&in->ns);
    if (!rc)
        rc = omni__carriers_copy(&in->registry, registry);
    if (!rc) {
        in->per = calloc(in->registry->count ? in->registry->count : 1, sizeof(*in->per));
        if (!in->per)
            rc = omni__err(OMNI_ENOMEM, NULL);
    }
    if (!rc && len) {
        rc = omni__json_parse(&in->config, config_json, len, OMNI_LIMIT_CONFIG_BYTES,
                              "inbound configuration");
        if (!rc)
            rc = omni__http_json_check_nul(config_json, len, "inbound configuration");
        if (!rc)
            rc = compile_config(in, in->config);
    }
    if (rc) {
        omni_inbound_free(in);
        return rc;
    }
    *out = in;
    return OMNI_OK;
}

/* ---- the public URL ---------------------------------------------------------- */

/* The first comma-separated element of a forwarded header, trimmed. */
static const char *first_token(const char *v, size_t *n)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t k = strcspn(v, ",");
    while (k > 0 && (v[k - 1] == ' ' || v[k - 1] == '\t'))
        k--;
    *n = k;
    return v;
}

static int is_default_port(const char *scheme, const char *port, size_t n)
{
    return (strcmp(scheme, "https") == 0 && n == 3 && memcmp(port, "443", 3) == 0) ||
           (strcmp(scheme, "http") == 0 && n == 2 && memcmp(port, "80", 2) == 0);
}

/* Appends to out (PUBLIC_URL_MAX bytes; the parts are bounded so that
 * they always fit). */
static void put(char *out, size_t *k, const char *s, size_t n)
{
    if (*k + n >= PUBLIC_URL_MAX)
        n = PUBLIC_URL_MAX - 1 - *k;
    memcpy(out + *k, s, n);
    *k += n;
}

/* Writes the URL the carrier signed into out (PUBLIC_URL_MAX bytes);
 * "" when it cannot be known. */
static void public_url(const omni_inbound *in, const omni_webhook *req, char *out)
{
    const char *url = omni_webhook_url(req);
    const char *scheme = "https";
    const char *auth = NULL, *target = url;
    size_t auth_len = 0;
    out[0] = '\0';
    if (url[0] != '/') {
        size_t skip = (url[4] == 's' || url[4] == 'S') ? 8 : 7;
        scheme = skip == 8 ? "https" : "http";
        auth = url + skip;
        auth_len = strcspn(auth, "/?#");
        target = auth + auth_len;
    }
    size_t tlen = strcspn(target, "#");
    const char *slash = (tlen == 0 || target[0] != '/') ? "/" : "";
    size_t k = 0;
    if (in->base_url) {
        put(out, &k, in->base_url, strlen(in->base_url));
        put(out, &k, slash, strlen(slash));
        put(out, &k, target, tlen);
        out[k] = '\0';
        return;
    }
    if (!auth) {
        auth = omni_webhook_header(req, "Host");
        auth_len = auth ? strlen(auth) : 0;
    }
    const char *port = NULL;
    size_t port_len = 0;
    if (in->trust_forwarded) {
        const char *v;
        size_t n;
        if ((v = omni_webhook_header(req, "X-Forwarded-Proto"))) {
            v = first_token(v, &n);
            if (n == 5 && strncasecmp(v, "https", 5) == 0)
                scheme = "https";
            else if (n == 4 && strncasecmp(v, "http", 4) == 0)
                scheme = "http";
        }
        if ((v = omni_webhook_header(req, "X-Forwarded-Host"))) {
            v = first_token(v, &n);
            if (valid_authority(v, n, NULL)) {
                auth = v;
                auth_len = n;
            }
        }
        if ((v = omni_webhook_header(req, "X-Forwarded-Port"))) {
            v = first_token(v, &n);
            char tmp[8];
            if (n >= 1 && n <= 5) {
                snprintf(tmp, sizeof(tmp), "h:%.*s", (int)n, v);
                if (valid_authority(tmp, n + 2, NULL)) {
                    port = v;
                    port_len = n;
                }
            }
        }
    }
    size_t host_len = 0;
    if (!auth || !valid_authority(auth, auth_len, &host_len))
        return;
    if (!port && host_len < auth_len) {
        port = auth + host_len + 1;
        port_len = auth_len - host_len - 1;
    }
    if (port && is_default_port(scheme, port, port_len))
        port = NULL;
    put(out, &k, scheme, strlen(scheme));
    put(out, &k, "://", 3);
    put(out, &k, auth, host_len);
    if (port) {
        put(out, &k, ":", 1);
        put(out, &k, port, port_len);
    }
    put(out, &k, slash, strlen(slash));
    put(out, &k, target, tlen);
    out[k] = '\0';
}

/* ---- handling ------------------------------------------------------------------ */

typedef struct call {
    const omni__carrier_entry *entry;
    const configured *cf;
    omni__carrier_req r;
    struct omni__carrier_scratch scratch;
    char url[PUBLIC_URL_MAX];
} call;

static int prepare(call *c, const omni_inbound *in, const omni_engine *engine,
                   const char *carrier, const omni_webhook *req)
{
    if (!in || !carrier || !req)
        return omni__err(OMNI_EINVAL, "inbound: inbound, carrier or request is NULL");
    c->entry = omni__carriers_find(in->registry, carrier);
    if (!c->entry) {
        int printable = strlen(carrier) <= OMNI__CARRIER_NAME_MAX;
        for (const char *p = carrier; printable && *p; p++)
            printable = *p > 0x20 && *p < 0x7F && *p != '"' && *p != '\\';
        return omni__err(OMNI_ECARRIER, "unknown carrier \"%s\"",
                         printable ? carrier : "(unprintable)");
    }
    c->cf = &in->per[c->entry - in->registry->items];
    size_t body_len = 0;
    const char *body = omni_webhook_body(req, &body_len);
    if (body_len > in->max_body)
        return omni__err(OMNI_ETOOLARGE, "%s webhook body is %zu bytes, over the limit of %zu",
                         c->entry->name, body_len, in->max_body);
    public_url(in, req, c->url);
    c->r = (omni__carrier_req){req,
                               omni_webhook_method(req),
                               c->url,
                               body,
                               body_len,
                               c->cf->settings,
                               omni_engine_now_ms(engine),
                               engine,
                               c->cf->state,
                               in->has_region ? in->region : NULL,
                               &c->scratch};
    return OMNI_OK;
}

static int run_verify(call *c)
{
    const char *name = c->entry->name;
    if (!c->cf->settings)
        return omni__carrier_bad_signature(name, "the inbound configuration has no settings "
                                                 "for this carrier, so nothing can be verified");
    if (c->cf->verify_off)
        return OMNI_OK;
    int rc;
    if (c->entry->builtin) {
        rc = c->entry->builtin->verify(&c->r);
        if (rc > 0)
            rc = omni__err(OMNI_EINTERNAL, "%s adapter: verify returned %d", name, rc);
        return rc;
    }
    const omni_carrier_adapter *h = &c->entry->host;
    unsigned long mark = omni__err_mark();
    rc = h->verify(h->ctx, c->r.req, c->r.public_url, c->cf->settings_json, c->cf->settings_len,
                   c->r.now_ms);
    if (rc > 0)
        return omni__err(OMNI_EHOOK, "carrier adapter \"%s\" verify returned %d", name, rc);
    return rc ? omni__err_from_hook(rc, mark, "carrier adapter verify") : OMNI_OK;
}

static void log_rejected(const omni_engine *engine, const char *carrier, int rc)
{
    omni__log(engine, OMNI_LOG_WARN, "carriers", "%s webhook rejected: %s", carrier,
              omni_status_code(rc));
}

int omni_inbound_verify(const omni_inbound *inbound, const omni_engine *engine,
                        const char *carrier, const omni_webhook *request)
{
    call c_;
    call *c = &c_;
    c->scratch = (struct omni__carrier_scratch)OMNI__CARRIER_SCRATCH_INIT;
    c->entry = NULL;
    int rc = prepare(c, inbound, engine, carrier, request);
    if (!rc)
        rc = run_verify(c);
    if (rc && rc != OMNI_EINVAL)
        log_rejected(engine, c->entry ? c->entry->name : "an unknown carrier's", rc);
    omni__carrier_scratch_free(&c->scratch);
    return rc;
}

int omni_inbound_handle(char **out, size_t *out_len, const omni_inbound *inbound,
                        const omni_engine *engine, const char *carrier,
                        const omni_webhook *request)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "inbound: out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    call c_;
    call *c = &c_;
    c->scratch = (struct omni__carrier_scratch)OMNI__CARRIER_SCRATCH_INIT;
    c->entry = NULL;
    int rc = prepare(c, inbound, engine, carrier, request);
    if (!rc)
        rc = run_verify(c);
    if (rc) {
        if (rc != OMNI_EINVAL)
            log_rejected(engine, c->entry ? c->entry->name : "an unknown carrier's", rc);
        omni__carrier_scratch_free(&c->scratch);
        return rc;
    }
    const char *name = c->entry->name;
    omni_buf b = OMNI_BUF_INIT;
    b.limit = RESULT_MAX;
    omni__json_w_obj_begin(&b);
    omni__json_w_key(&b, "carrier");
    omni__json_w_str(&b, name);
    omni__events ev;
    omni__events_begin(&ev, &b, name, &c->r, inbound->ns);
    if (c->entry->builtin) {
        rc = c->entry->builtin->parse(&c->r, &ev);
        if (rc > 0)
            rc = omni__err(OMNI_EINTERNAL, "%s adapter: parse returned %d", name, rc);
    } else {
        const omni_carrier_adapter *h = &c->entry->host;
        omni_event_sink sink = {&ev};
        unsigned long mark = omni__err_mark();
        rc = h->parse(h->ctx, request, c->cf->settings_json, c->cf->settings_len, &sink);
        sink.ev = NULL;
        if (rc > 0)
            rc = omni__err(OMNI_EHOOK, "carrier adapter \"%s\" parse returned %d", name, rc);
        else if (rc)
            rc = omni__err_from_hook(rc, mark, "carrier adapter parse");
    }
    if (!rc) {
        omni__events_end(&ev);
        omni__events_write_response(&ev);
        omni__json_w_obj_end(&b);
        if (b.failed == OMNI_ETOOLARGE)
            rc = omni__err(OMNI_ETOOLARGE, "%s webhook result exceeds %u bytes", name,
                           RESULT_MAX);
        else
            rc = omni__buf_detach(&b, out, out_len);
    }
    if (rc)
        log_rejected(engine, name, rc);
    omni__events_free(&ev);
    omni__buf_free(&b);
    omni__carrier_scratch_free(&c->scratch);
    return rc;
}
