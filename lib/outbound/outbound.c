/* Outbound adapters: the registry, the compiled configuration, dispatch to
 * the provider files, and the helpers they share (secrets, results, HTTP
 * error classes, Retry-After). */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <omni/omni.h>

#include "core/codec.h"
#include "core/error.h"
#include "core/json.h"
#include "core/tz.h"
#include "outbound_internal.h"

static const omni__ob_adapter *const adapters[] = {
    &omni__ob_twilio,   &omni__ob_whatsapp,    &omni__ob_aws_sns,     &omni__ob_aws_ses,
    &omni__ob_sendgrid, &omni__ob_bandwidth,   &omni__ob_messagebird, &omni__ob_inteliquent,
    &omni__ob_smtp,
};
#define N_ADAPTERS (sizeof(adapters) / sizeof(adapters[0]))

static const char *const names[] = {"twilio",    "whatsapp",    "aws-sns",     "aws-ses",
                                    "sendgrid",  "bandwidth",   "messagebird", "inteliquent",
                                    "smtp",      NULL};

struct omni_outbound {
    void *state[N_ADAPTERS];
    int configured[N_ADAPTERS];
};

const char *const *omni_outbound_carriers(void)
{
    return names;
}

static int adapter_index(const char *name)
{
    for (size_t i = 0; i < N_ADAPTERS; i++)
        if (strcmp(adapters[i]->name, name) == 0)
            return (int)i;
    return -1;
}

void omni_outbound_free(omni_outbound *ob)
{
    if (!ob)
        return;
    for (size_t i = 0; i < N_ADAPTERS; i++)
        if (ob->configured[i] && adapters[i]->free)
            adapters[i]->free(ob->state[i]);
    free(ob);
}

int omni_outbound_new(omni_outbound **out, const char *config_json, size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "outbound: out is NULL");
    *out = NULL;
    if (!config_json && len)
        return omni__err(OMNI_EINVAL, "outbound: NULL configuration");
    cJSON *root = NULL;
    int rc = omni__json_parse(&root, config_json ? config_json : "{}", config_json ? len : 2,
                              OMNI_LIMIT_CONFIG_BYTES, "outbound configuration");
    if (rc)
        return rc;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return omni__ob_config_error("", NULL, "the configuration must be a JSON object");
    }
    omni_outbound *ob = calloc(1, sizeof(*ob));
    if (!ob) {
        cJSON_Delete(root);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        int i = adapter_index(item->string);
        if (i < 0) {
            rc = omni__ob_config_error("", item->string, "is not an outbound provider");
            break;
        }
        if (ob->configured[i]) {
            rc = omni__ob_config_error("", item->string, "is given twice");
            break;
        }
        if (!cJSON_IsObject(item)) {
            rc = omni__ob_config_error("", item->string, "must be an object");
            break;
        }
        if ((rc = adapters[i]->config(&ob->state[i], item, item->string)))
            break;
        ob->configured[i] = 1;
    }
    cJSON_Delete(root);
    if (rc) {
        omni_outbound_free(ob);
        return rc;
    }
    *out = ob;
    return OMNI_OK;
}

static int pick(const omni_outbound *ob, const char *carrier, const char *what)
{
    int i = adapter_index(carrier);
    if (i < 0)
        return omni__err(OMNI_ECARRIER, "outbound: \"%.64s\" has no outbound adapter", carrier);
    if (!ob->configured[i])
        return omni__err(OMNI_ECONFIG, "outbound %s: the provider is not configured (%s)",
                         carrier, what);
    return i;
}

static const cJSON *object_member(const cJSON *root, const char *name, int *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (v && !cJSON_IsObject(v))
        *bad = 1;
    return cJSON_IsObject(v) ? v : NULL;
}

int omni_outbound_build(omni_http_request **out, const omni_outbound *ob, const char *carrier,
                        const char *event_json, size_t len, int64_t now_ms)
{
    if (out)
        *out = NULL;
    if (!out || !ob || (!event_json && len))
        return omni__err(OMNI_EINVAL, "outbound build: NULL argument");
    cJSON *root = NULL;
    int rc = omni__json_parse(&root, event_json ? event_json : "", len, OMNI_OUTBOUND_MAX_EVENT,
                              "outbound event");
    if (rc)
        return rc;
    omni__ob_event ev = {0};
    ev.root = root;
    int bad = 0;
    if (!cJSON_IsObject(root)) {
        rc = omni__err(OMNI_EINVAL, "outbound build: the event must be a JSON object");
        goto done;
    }
    ev.recipient = object_member(root, "recipient", &bad);
    ev.message = object_member(root, "message", &bad);
    ev.routing = object_member(root, "routing", &bad);
    ev.options = object_member(root, "options", &bad);
    const cJSON *win = object_member(root, "serviceWindow", &bad);
    if (bad || !ev.recipient || !ev.message) {
        rc = omni__err(OMNI_EINVAL, "outbound build: recipient and message must be objects; "
                                    "routing, options and serviceWindow objects when given");
        goto done;
    }
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(ev.recipient, "channelIdentifier");
    if (!cJSON_IsString(to) || !to->valuestring[0]) {
        rc = omni__err(OMNI_EINVAL, "outbound build: recipient.channelIdentifier must be a "
                                    "non-empty string");
        goto done;
    }
    ev.to = to->valuestring;
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(ev.message, "contentType");
    if (ct && !cJSON_IsString(ct)) {
        rc = omni__err(OMNI_EINVAL, "outbound build: message.contentType must be a string");
        goto done;
    }
    ev.content_type = ct ? ct->valuestring : "text";
    const cJSON *open = win ? cJSON_GetObjectItemCaseSensitive(win, "open") : NULL;
    ev.window_closed = cJSON_IsFalse(open);
    if (!carrier) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(ev.recipient, "carrier");
        if (!cJSON_IsString(c)) {
            rc = omni__err(OMNI_EINVAL, "outbound build: no carrier given and "
                                        "recipient.carrier is not a string");
            goto done;
        }
        carrier = c->valuestring;
    }
    int i = pick(ob, carrier, "build");
    if (i < 0) {
        rc = i;
        goto done;
    }
    rc = adapters[i]->build(out, ob->state[i], &ev, now_ms);
done:
    cJSON_Delete(root);
    return rc;
}

int omni_outbound_parse(char **out, size_t *out_len, const omni_outbound *ob, const char *carrier,
                        const omni_http_response *resp, int64_t now_ms)
{
    if (out)
        *out = NULL;
    if (!out || !ob || !carrier || !resp)
        return omni__err(OMNI_EINVAL, "outbound parse: NULL argument");
    int i = pick(ob, carrier, "parse");
    if (i < 0)
        return i;
    omni_buf b = OMNI_BUF_INIT;
    int rc = adapters[i]->parse(&b, ob->state[i], resp, now_ms);
    if (!rc)
        rc = omni__buf_status(&b);
    if (rc) {
        omni__buf_free(&b);
        return rc;
    }
    return omni__buf_detach(&b, out, out_len);
}

/* ---- configuration helpers -------------------------------------------------------- */

int omni__ob_config_error(const char *path, const char *member, const char *why)
{
    /* "push:apns" names another component's configuration (see
     * lib/push/push_internal.h): "push: apns.<member>: ..." */
    const char *component = "outbound";
    char comp[16];
    const char *colon = strchr(path, ':');
    if (colon && colon - path < (ptrdiff_t)sizeof(comp)) {
        memcpy(comp, path, (size_t)(colon - path));
        comp[colon - path] = '\0';
        component = comp;
        path = colon + 1;
    }
    char full[256];
    snprintf(full, sizeof(full), "%s%s%.128s", path, path[0] && member ? "." : "",
             member ? member : "");
    omni_buf d = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&d);
    omni__json_w_keyl(&d, "path");
    omni__json_w_str(&d, full);
    omni__json_w_obj_end(&d);
    int rc = full[0] ? omni__err_details(OMNI_ECONFIG, d.failed ? NULL : d.data, "%s: %s: %s",
                                         component, full, why)
                     : omni__err_details(OMNI_ECONFIG, d.failed ? NULL : d.data, "%s: %s",
                                         component, why);
    omni__buf_free(&d);
    return rc;
}

int omni__ob_string(char **out, const cJSON *cfg, const char *path, const char *member,
                    int required, size_t max_len)
{
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, member);
    if (!v)
        return required ? omni__ob_config_error(path, member, "is required") : OMNI_OK;
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > max_len) {
        char why[96];
        snprintf(why, sizeof(why), "must be a string of 1..%zu bytes", max_len);
        return omni__ob_config_error(path, member, why);
    }
    if (!(*out = strdup(v->valuestring)))
        return omni__err(OMNI_ENOMEM, NULL);
    return OMNI_OK;
}

int omni__ob_secret(char **out, const cJSON *cfg, const char *path, const char *member,
                    int required)
{
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, member);
    if (!v)
        return required ? omni__ob_config_error(path, member, "is required") : OMNI_OK;
    const char *value = NULL;
    if (cJSON_IsString(v)) {
        value = v->valuestring;
    } else if (cJSON_IsObject(v) && cJSON_GetArraySize(v) == 1 &&
               cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "env"))) {
        const char *name = cJSON_GetObjectItemCaseSensitive(v, "env")->valuestring;
        value = getenv(name);
        if (!value || !value[0]) {
            char why[160];
            snprintf(why, sizeof(why), "the environment variable %.100s is not set", name);
            return omni__ob_config_error(path, member, why);
        }
    } else {
        return omni__ob_config_error(path, member, "must be a string or {\"env\": \"NAME\"}");
    }
    if (!value[0] || strlen(value) > 4096)
        return omni__ob_config_error(path, member, "must be 1..4096 bytes");
    if (!(*out = strdup(value)))
        return omni__err(OMNI_ENOMEM, NULL);
    return OMNI_OK;
}

void omni__ob_secret_free(char *secret)
{
    if (!secret)
        return;
    OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
}

int omni__ob_base_url(char **out, const cJSON *cfg, const char *path, const char *member,
                      const char *def)
{
    int rc = omni__ob_string(out, cfg, path, member, 0, 1024);
    if (rc)
        return rc;
    if (!*out && !(*out = strdup(def)))
        return omni__err(OMNI_ENOMEM, NULL);
    size_t n = strlen(*out);
    while (n > 0 && (*out)[n - 1] == '/')
        (*out)[--n] = '\0';
    if (strncmp(*out, "https://", 8) != 0 && strncmp(*out, "http://", 7) != 0) {
        free(*out);
        *out = NULL;
        return omni__ob_config_error(path, member, "must be an http:// or https:// URL");
    }
    return OMNI_OK;
}

/* ---- AWS providers ------------------------------------------------------------------ */

int omni__ob_alnum(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n < 1 || n > max)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

static int region_ok(const char *r)
{
    size_t n = strlen(r);
    if (n < 1 || n > 64)
        return 0;
    for (; *r; r++)
        if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
            return 0;
    return 1;
}

int omni__ob_aws_config(omni__ob_aws *a, const cJSON *c, const char *path)
{
    int rc;
    if ((rc = omni__ob_string(&a->region, c, path, "region", 1, 64)))
        return rc;
    if (!region_ok(a->region))
        return omni__ob_config_error(path, "region", "must be 1..64 of [a-z0-9-]");
    if ((rc = omni__ob_secret(&a->key_id, c, path, "accessKeyId", 1)))
        return rc;
    if (!omni__ob_alnum(a->key_id, 128))
        return omni__ob_config_error(path, "accessKeyId", "must be 1..128 letters and digits");
    if ((rc = omni__ob_secret(&a->secret, c, path, "secretAccessKey", 1)))
        return rc;
    if (strlen(a->secret) > 128)
        return omni__ob_config_error(path, "secretAccessKey", "must be 1..128 bytes");
    return omni__ob_secret(&a->token, c, path, "sessionToken", 0);
}

void omni__ob_aws_free(omni__ob_aws *a)
{
    free(a->region);
    omni__ob_secret_free(a->key_id);
    omni__ob_secret_free(a->secret);
    omni__ob_secret_free(a->token);
    memset(a, 0, sizeof(*a));
}

int omni__ob_aws_sign(omni_http_request *req, const omni__ob_aws *a, const char *service,
                      int64_t now_ms)
{
    omni_aws_credentials cred = OMNI_AWS_CREDENTIALS_INIT;
    cred.access_key_id = a->key_id;
    cred.secret_access_key = a->secret;
    cred.session_token = a->token;
    return omni_aws_sigv4_sign(req, &cred, a->region, service, now_ms, 0);
}

/* ---- event helpers ------------------------------------------------------------------ */

int omni__ob_event_error(const char *carrier, const char *member, const char *why)
{
    return omni__err(OMNI_EINVAL, "outbound %s: %s %s", carrier, member, why);
}

int omni__ob_opt_str(const char **out, const cJSON *obj, const char *name, const char *where,
                     const char *carrier)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NULL;
    if (!v)
        return OMNI_OK;
    if (!cJSON_IsString(v)) {
        char member[96];
        snprintf(member, sizeof(member), "%s.%s", where, name);
        return omni__ob_event_error(carrier, member, "must be a string");
    }
    *out = v->valuestring;
    return OMNI_OK;
}

int omni__ob_mime_type_ok(const char *t)
{
    size_t n = strlen(t), slash = 0, parts[2] = {0, 0};
    if (n > 127)
        return 0;
    for (; *t; t++) {
        if (*t == '/') {
            if (slash++)
                return 0;
            continue;
        }
        if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f ||
            strchr("()<>@,;:\\\"[]?=", *t))
            return 0;
        parts[slash]++;
    }
    return slash == 1 && parts[0] && parts[1];
}

int omni__ob_base64_ok(const char *s)
{
    size_t n = strlen(s);
    size_t cap = omni__base64_decoded_max(n) + 1;
    uint8_t *tmp = malloc(cap);
    if (!tmp)
        return -1;
    size_t len;
    int rc = omni__base64_decode_into(tmp, cap, &len, s, n, 0);
    free(tmp);
    if (rc)
        omni_error_clear();
    return rc == OMNI_OK;
}

void omni__ob_clean_text(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0, i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = omni__utf8_next((const unsigned char *)s + i, n - i, &cp);
        const char *src = s + i;
        if (!k) {
            src = "?";
            k = 1;
            i++;
        } else {
            i += k;
        }
        if (o + k >= cap)
            break;
        memcpy(out + o, src, k);
        o += k;
    }
    out[o] = '\0';
}

const char *omni__ob_msg_str(const omni__ob_event *ev, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev->message, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- results --------------------------------------------------------------------------- */

void omni__ob_result_ok(omni_buf *out, const char *carrier, const char *message_id,
                        const char *status, double cost, const char *currency)
{
    omni__json_w_obj_begin(out);
    omni__json_w_keyl(out, "success");
    omni__json_w_bool(out, 1);
    omni__json_w_keyl(out, "carrier");
    omni__json_w_str(out, carrier);
    if (message_id) {
        omni__json_w_keyl(out, "carrierMessageId");
        omni__json_w_str(out, message_id);
    }
    omni__json_w_keyl(out, "status");
    omni__json_w_str(out, status);
    if (cost >= 0) {
        omni__json_w_keyl(out, "cost");
        omni__json_w_num(out, cost);
        if (currency) {
            omni__json_w_keyl(out, "currency");
            omni__json_w_str(out, currency);
        }
    }
    omni__json_w_obj_end(out);
}

void omni__ob_result_error(omni_buf *out, const char *carrier, const char *code,
                           const char *provider_code, const char *message, int retryable,
                           int64_t retry_after_ms)
{
    omni__json_w_obj_begin(out);
    omni__json_w_keyl(out, "success");
    omni__json_w_bool(out, 0);
    omni__json_w_keyl(out, "carrier");
    omni__json_w_str(out, carrier);
    omni__json_w_keyl(out, "status");
    omni__json_w_str(out, "failed");
    omni__json_w_keyl(out, "error");
    omni__json_w_obj_begin(out);
    omni__json_w_keyl(out, "code");
    omni__json_w_str(out, code);
    if (provider_code) {
        omni__json_w_keyl(out, "providerCode");
        omni__json_w_str(out, provider_code);
    }
    omni__json_w_keyl(out, "message");
    omni__json_w_str(out, message ? message : "");
    omni__json_w_keyl(out, "retryable");
    omni__json_w_bool(out, retryable);
    omni__json_w_obj_end(out);
    if (retry_after_ms >= 0) {
        omni__json_w_keyl(out, "retryAfterMs");
        omni__json_w_int(out, retry_after_ms);
    }
    omni__json_w_obj_end(out);
}

const char *omni__ob_http_class(int status, int *retryable)
{
    *retryable = 0;
    if (status == 429) {
        *retryable = 1;
        return "RATE_LIMITED";
    }
    if (status >= 500) {
        *retryable = 1;
        return "PROVIDER_UNAVAILABLE";
    }
    if (status == 401 || status == 403)
        return "AUTH_FAILED";
    if (status >= 400)
        return "INVALID_REQUEST";
    return "PROVIDER_ERROR";
}

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", RFC 9110 section 5.6.7)
 * in Unix ms, or -1. */
static int64_t imf_fixdate(const char *s)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char wd[4], mon[4], gmt[4];
    int d, y, hh, mm, ss, used = 0;
    if (sscanf(s, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wd, &d, mon, &y, &hh, &mm, &ss, gmt,
               &used) != 8 ||
        strcmp(gmt, "GMT") != 0 || s[used] != '\0')
        return -1;
    int m = -1;
    for (int i = 0; i < 12; i++)
        if (strcmp(mon, months[i]) == 0)
            m = i + 1;
    if (m < 0 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || y < 1970)
        return -1;
    return (omni__days_from_civil(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss) * 1000;
}

int64_t omni__ob_retry_after(const omni_http_response *resp, int64_t now_ms)
{
    const char *v = omni_http_response_header(resp, "Retry-After");
    if (!v)
        return -1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v >= '0' && *v <= '9') {
        int64_t secs = 0;
        for (; *v >= '0' && *v <= '9'; v++) {
            if (secs > 100000000)
                return -1;
            secs = secs * 10 + (*v - '0');
        }
        while (*v == ' ' || *v == '\t')
            v++;
        return *v ? -1 : secs * 1000;
    }
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", v);
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        buf[--n] = '\0';
    int64_t at = imf_fixdate(buf);
    if (at < 0)
        return -1;
    return at > now_ms ? at - now_ms : 0;
}

int omni__ob_post(omni_http_request **out, const char *carrier, omni_buf *body,
                  const char *scheme, const char *basic_user, const char *secret,
                  const char *content_type, const char *accept, const char *url_fmt, ...)
{
    *out = NULL;
    int rc = OMNI_OK;
    omni_buf url = OMNI_BUF_INIT, auth = OMNI_BUF_INIT, cred = OMNI_BUF_INIT;
    omni_http_request *req = NULL;
    if (body->failed)
        rc = omni__err(body->failed, "outbound %s: the request body is too large", carrier);
    if (!rc) {
        va_list ap;
        va_start(ap, url_fmt);
        omni__buf_vprintf(&url, url_fmt, ap);
        va_end(ap);
        omni__buf_putc(&url, '\0');
        omni__buf_printf(&auth, "%s ", scheme);
        if (basic_user) {
            omni__buf_printf(&cred, "%s:%s", basic_user, secret);
            if (!cred.failed)
                omni__base64_append(&auth, cred.data, cred.len, 0);
        } else {
            omni__buf_puts(&auth, secret);
        }
        omni__buf_putc(&auth, '\0');
        if (url.failed || auth.failed || cred.failed)
            rc = omni__err(OMNI_ENOMEM, NULL);
    }
    if (!rc)
        rc = omni_http_request_new(&req, "POST", url.data);
    if (!rc)
        rc = omni_http_request_add_header(req, "Authorization", auth.data);
    if (!rc)
        rc = omni_http_request_add_header(req, "Content-Type", content_type);
    if (!rc && accept)
        rc = omni_http_request_add_header(req, "Accept", accept);
    if (!rc)
        rc = omni_http_request_set_body(req, body->data, body->len);
    if (cred.data)
        OPENSSL_cleanse(cred.data, cred.cap);
    if (auth.data)
        OPENSSL_cleanse(auth.data, auth.cap);
    omni__buf_free(&cred);
    omni__buf_free(&auth);
    omni__buf_free(&url);
    omni__buf_free(body);
    if (rc) {
        omni_http_request_free(req);
        return rc;
    }
    *out = req;
    return OMNI_OK;
}

cJSON *omni__ob_body_object(const omni_http_response *resp)
{
    cJSON *j = omni__ob_body_json(resp);
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

void omni__ob_result_http_error(omni_buf *out, const char *carrier, const char *provider,
                                int status, int body_json, const omni_http_response *resp,
                                int64_t now_ms, const char *cls, int retryable,
                                const char *provider_code, const char *message)
{
    char text[512];
    if (message && message[0])
        snprintf(text, sizeof(text), "%s", message);
    else if (!body_json)
        snprintf(text, sizeof(text), "HTTP %d with a body that is not %s's JSON", status,
                 provider);
    else
        snprintf(text, sizeof(text), "HTTP %d", status);
    /* Not the provider's JSON: the HTTP status still tells a rate limit, an outage
     * or an authentication failure (proxies answer those too); anything else is
     * unexpected. */
    if (!body_json && !omni__ob_status_speaks(status))
        cls = "PROVIDER_ERROR";
    int64_t ra = retryable ? omni__ob_retry_after(resp, now_ms) : -1;
    omni__ob_result_error(out, carrier, cls, provider_code && provider_code[0] ? provider_code
                                                                             : NULL,
                          text, retryable, ra);
}

int omni__ob_status_speaks(int status)
{
    return status == 429 || status >= 500 || status == 401 || status == 403;
}

cJSON *omni__ob_body_json(const omni_http_response *resp)
{
    size_t n = 0;
    const char *body = omni_http_response_body(resp, &n);
    if (!body || !n)
        return NULL;
    cJSON *root = NULL;
    if (omni__json_parse(&root, body, n, OMNI_HTTP_MAX_BODY, "provider response")) {
        omni_error_clear();
        return NULL;
    }
    return root;
}
