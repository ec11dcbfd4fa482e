/* Push adapter "android" (configuration key "fcm"): Firebase Cloud Messaging HTTP v1 and
 * its OAuth 2.0 token exchange for a service account (include/omni/push.h).
 *
 * Configuration {"serviceAccount", "projectId"?, "baseUrl"?, "tokenUrl"?}: serviceAccount
 * is the service-account JSON as text, as an object, or {"env": "NAME"} naming a variable
 * holding the text (at most 32 KiB). It must have "type": "service_account", "project_id",
 * "client_email", "private_key" (an RSA PEM private key of 2048..16384 bits, loaded once
 * here), "token_uri" (an http(s) URL) and may have "private_key_id" (the JWT's kid). Other
 * members of the service account are ignored; unknown configuration members are refused.
 *
 * Token exchange (Google "Using OAuth 2.0 for Server to Server Applications"; RFC 7523
 * section 2.1, the JWT bearer grant): when no access token is cached or it expires within
 * 5 minutes, omni_push_token_request gives
 *   POST {tokenUrl, default token_uri}
 *   Content-Type: application/x-www-form-urlencoded
 *   grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=<JWT>
 * where the JWT is RS256, header {"alg":"RS256","typ":"JWT"[,"kid":private_key_id]},
 * claims {"iss": client_email, "scope": "https://www.googleapis.com/auth/firebase.messaging",
 * "aud": token_uri, "iat": now (s), "exp": iat + 3600}. The answer 200 {"access_token",
 * "expires_in", "token_type": "Bearer"} is cached until now + expires_in; 400 invalid_grant /
 * invalid_client / unauthorized_client and 401 / 403 are OMNI_EKEY; 429 and 5xx
 * OMNI_ETRANSPORT (retryable); any other status OMNI_ETRANSPORT too (not the token endpoint's
 * documented answers). The cache is guarded by the state's mutex.
 *
 * Send (FCM HTTP v1 REST reference, projects.messages.send and Message):
 *   POST {baseUrl, default https://fcm.googleapis.com}/v1/projects/{projectId}/messages:send
 *   Authorization: Bearer <access token>; Content-Type: application/json
 *   {"message": {
 *     "token" | "topic" | "condition": exactly one of the message's "token" (the registration
 *         token), "topic" (1..900 of [A-Za-z0-9-_.~%], no "/topics/" prefix) and "condition"
 *         (1..1024 bytes, no control characters),
 *     "notification"?: {"title"?, "body"?, "image"?} from payload.title / body / image; left
 *         out when all three are absent (a data message),
 *     "data"?: payload.data with every value a string: strings as they are, any other value
 *         as its compact JSON text (3 -> "3", true -> "true", {"a":1} -> "{\"a\":1}");
 *         FCM's reserved keys ("from", "message_type", "notification", "gcm", and "google." or
 *         "gcm." prefixes) are refused. payload.actions [{"id", "title", "url"?}] (at most 10)
 *         go into data "actions" as JSON text: FCM notification messages have no action
 *         buttons on Android, the app renders them (a data key "actions" then is refused),
 *     "android"?: {"priority": "HIGH" (options.priority high or critical) | "NORMAL" (low or
 *         normal; absent when options.priority is absent: FCM's own default),
 *         "ttl": "<options.ttl>s" (0..2419200, FCM's 4-week maximum),
 *         "collapse_key": options.collapseKey,
 *         "notification": {"channel_id": options.channelId, "sound": payload.sound,
 *         "click_action": payload.clickAction, "tag": options.collapseKey (only with a
 *         notification: the shown notification is replaced, as apns-collapse-id does),
 *         "notification_count": payload.badge (an integer 0..2^31-1)}}, then message.android
 *         (an AndroidConfig object) merged over it member by member (objects recursively,
 *         anything else replaced),
 *     "apns"?: message.apns as it is (an ApnsConfig object: {"headers", "payload"}),
 *     "webpush"?: message.webpush as it is (a WebpushConfig object)}}
 * payload.subtitle, category and threadId, and options meant for APNs or Web Push, have no
 * Android counterpart and are not sent (use message.apns for iOS devices reached via FCM).
 * The build needs a cached access token that has not expired (OMNI_EEXPIRED otherwise).
 *
 * Response: 2xx {"name": "projects/<project>/messages/<id>"} -> success, messageId = name.
 * Errors are google.rpc.Status {"error": {"code", "message", "status", "details": [{"@type":
 * "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode"}, ...]}} mapped by the
 * FcmError errorCode (FCM ErrorCode enum), else by status:
 *   UNREGISTERED (404), SENDER_ID_MISMATCH (403)         INVALID_TOKEN, invalidToken
 *   INVALID_ARGUMENT (400) about the token: the message mentions "registration token"
 *     ("The registration token is not a valid FCM registration token") or a BadRequest
 *     fieldViolation names "message.token"               INVALID_TOKEN, invalidToken
 *   INVALID_ARGUMENT otherwise                           INVALID_REQUEST
 *   QUOTA_EXCEEDED (429), RESOURCE_EXHAUSTED             RATE_LIMITED, retryable
 *   UNAVAILABLE (503), INTERNAL (500)                    PROVIDER_UNAVAILABLE, retryable
 *   THIRD_PARTY_AUTH_ERROR (401: the APNs certificate or web push auth key was refused)
 *                                                        AUTH_FAILED
 *   any other 401 (UNAUTHENTICATED: the access token expired or was revoked)
 *                                                        TOKEN_EXPIRED, retryable; the
 *                                                        cached access token is discarded
 *   anything else by HTTP status (429 RATE_LIMITED, 5xx PROVIDER_UNAVAILABLE, 403
 *   AUTH_FAILED, other 4xx INVALID_REQUEST); a body that is not google.rpc.Status is
 *   PROVIDER_ERROR unless the status is 429, 5xx, 401 or 403. providerCode is the errorCode,
 *   else the status; Retry-After becomes retryAfterMs on retryable errors. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "core/codec.h"
#include "core/crypto_internal.h"
#include "core/error.h"
#include "core/json.h"
#include "outbound/outbound_internal.h"
#include "push_internal.h"
#include "transport/transport_internal.h"

#define PLATFORM "android"
#define SCOPE "https://www.googleapis.com/auth/firebase.messaging"
#define MAX_SA (32u * 1024u)
#define REFRESH_MS (5 * 60 * 1000)
#define MAX_TTL 2419200
#define MAX_ACTIONS 10
#define MAX_ACCESS_TOKEN 8192

typedef struct fcm_state {
    EVP_PKEY *key;
    char *client_email, *key_id, *aud, *token_url, *project_id, *base_url;
    char *send_url; /* {base_url}/v1/projects/{project_id}/messages:send */
    int send_url_ok; /* a URL omni_http_request_new accepts */
    pthread_mutex_t mu;
    char *auth; /* "Bearer <the cached access token>" (secret) or NULL */
    size_t auth_len;
    int64_t access_exp_ms;
} fcm_state;

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static void st_free(void *p)
{
    fcm_state *s = p;
    if (!s)
        return;
    EVP_PKEY_free(s->key);
    free(s->client_email);
    free(s->key_id);
    free(s->aud);
    free(s->token_url);
    free(s->project_id);
    free(s->base_url);
    free(s->send_url);
    wipe_free(s->auth);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- configuration ------------------------------------------------------------------- */

static int printable(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);
    if (n < min || n > max)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

static int http_url(const char *s)
{
    return (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0) &&
           printable(s, 8, 1024);
}

static int project_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 128)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '.' || *s == ':' || *s == '_'))
            return 0;
    return 1;
}

/* The service account's text: a string, or {"env": "NAME"}. */
static int sa_text(char **out, const cJSON *v, const char *path)
{
    *out = NULL;
    const char *value = NULL;
    if (cJSON_IsString(v)) {
        value = v->valuestring;
    } else {
        const char *name = cJSON_GetArraySize(v) == 1 ? omni__json_str(v, "env") : NULL;
        if (!name)
            return omni__ob_config_error(path, "serviceAccount",
                                         "must be the service-account JSON (text or object) "
                                         "or {\"env\": \"NAME\"}");
        value = getenv(name);
        if (!value || !value[0]) {
            char why[160];
            snprintf(why, sizeof why, "the environment variable %.100s is not set", name);
            return omni__ob_config_error(path, "serviceAccount", why);
        }
    }
    if (!value[0] || strlen(value) > MAX_SA)
        return omni__ob_config_error(path, "serviceAccount", "must be 1..32768 bytes");
    if (!(*out = strdup(value)))
        return omni__err(OMNI_ENOMEM, NULL);
    return OMNI_OK;
}

static int sa_string(char **out, const cJSON *sa, const char *name, int required,
                     const char *path)
{
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(sa, name);
    char why[96];
    if (!v) {
        if (!required)
            return OMNI_OK;
        snprintf(why, sizeof why, "has no \"%s\"", name);
        return omni__ob_config_error(path, "serviceAccount", why);
    }
    if (!cJSON_IsString(v) || !v->valuestring[0]) {
        snprintf(why, sizeof why, "\"%s\" must be a non-empty string", name);
        return omni__ob_config_error(path, "serviceAccount", why);
    }
    if (!(*out = strdup(v->valuestring)))
        return omni__err(OMNI_ENOMEM, NULL);
    return OMNI_OK;
}

static int load_sa(fcm_state *s, const cJSON *sa, const char *path)
{
    char *type = NULL, *pem = NULL, *project = NULL;
    int rc = sa_string(&type, sa, "type", 1, path);
    if (!rc && strcmp(type, "service_account") != 0)
        rc = omni__ob_config_error(path, "serviceAccount",
                                   "\"type\" must be \"service_account\"");
    if (!rc)
        rc = sa_string(&project, sa, "project_id", 1, path);
    if (!rc && !project_ok(project))
        rc = omni__ob_config_error(path, "serviceAccount",
                                   "\"project_id\" must be 1..128 of [A-Za-z0-9._:-]");
    if (!rc)
        rc = sa_string(&s->client_email, sa, "client_email", 1, path);
    if (!rc && (!printable(s->client_email, 3, 320) || !strchr(s->client_email, '@')))
        rc = omni__ob_config_error(path, "serviceAccount",
                                   "\"client_email\" must be an email address");
    if (!rc)
        rc = sa_string(&s->key_id, sa, "private_key_id", 0, path);
    if (!rc && s->key_id && !printable(s->key_id, 1, 256))
        rc = omni__ob_config_error(path, "serviceAccount",
                                   "\"private_key_id\" must be 1..256 printable ASCII bytes");
    if (!rc)
        rc = sa_string(&s->aud, sa, "token_uri", 1, path);
    if (!rc && !http_url(s->aud))
        rc = omni__ob_config_error(path, "serviceAccount",
                                   "\"token_uri\" must be an http:// or https:// URL");
    if (!rc)
        rc = sa_string(&pem, sa, "private_key", 1, path);
    if (!rc) {
        EVP_PKEY *k = NULL;
        rc = omni__pkey_from_pem(&k, pem, strlen(pem), 1, "FCM service account key");
        if (!rc && (rc = omni__pkey_check(k, OMNI__JWT_RS256)))
            EVP_PKEY_free(k);
        if (rc)
            rc = omni__ob_config_error(path, "serviceAccount",
                                       "\"private_key\" must be an unencrypted RSA PEM private "
                                       "key of 2048..16384 bits");
        else
            s->key = k;
    }
    if (!rc && !s->project_id) {
        s->project_id = project;
        project = NULL;
    }
    free(type);
    free(project);
    wipe_free(pem);
    return rc;
}

static int cfg(void **state, const cJSON *c, const char *path)
{
    *state = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, c) {
        static const char *const known[] = {"serviceAccount", "projectId", "baseUrl",
                                            "tokenUrl", NULL};
        int ok = 0;
        for (size_t i = 0; known[i]; i++)
            ok |= strcmp(it->string, known[i]) == 0;
        if (!ok)
            return omni__ob_config_error(path, it->string, "is not a known member");
    }
    const cJSON *sav = cJSON_GetObjectItemCaseSensitive(c, "serviceAccount");
    if (!sav)
        return omni__ob_config_error(path, "serviceAccount", "is required");
    fcm_state *s = calloc(1, sizeof *s);
    if (!s)
        return omni__err(OMNI_ENOMEM, NULL);
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        return omni__err(OMNI_ENOMEM, "push: cannot create a mutex");
    }
    int rc = omni__ob_string(&s->project_id, c, path, "projectId", 0, 128);
    if (!rc && s->project_id && !project_ok(s->project_id))
        rc = omni__ob_config_error(path, "projectId", "must be 1..128 of [A-Za-z0-9._:-]");
    if (!rc)
        rc = omni__ob_base_url(&s->base_url, c, path, "baseUrl", "https://fcm.googleapis.com");
    if (!rc && !http_url(s->base_url))
        rc = omni__ob_config_error(path, "baseUrl", "must be a printable ASCII URL");
    if (!rc) {
        cJSON *parsed = NULL;
        const cJSON *sa = sav;
        if (!cJSON_IsObject(sav) || cJSON_GetObjectItemCaseSensitive(sav, "env")) {
            char *text = NULL;
            rc = sa_text(&text, sav, path);
            if (!rc && omni__json_parse(&parsed, text, strlen(text), MAX_SA, "serviceAccount")) {
                omni_error_clear();
                rc = omni__ob_config_error(path, "serviceAccount", "is not valid JSON");
            }
            if (!rc && !cJSON_IsObject(parsed))
                rc = omni__ob_config_error(path, "serviceAccount", "must be a JSON object");
            wipe_free(text);
            sa = parsed;
        }
        if (!rc)
            rc = load_sa(s, sa, path);
        if (parsed) {
            /* the key's text is in the tree: wipe it before freeing */
            cJSON *pk = cJSON_GetObjectItemCaseSensitive(parsed, "private_key");
            if (cJSON_IsString(pk))
                OPENSSL_cleanse(pk->valuestring, strlen(pk->valuestring));
            cJSON_Delete(parsed);
        }
    }
    if (!rc) {
        const cJSON *tu = cJSON_GetObjectItemCaseSensitive(c, "tokenUrl");
        if (tu)
            rc = omni__ob_base_url(&s->token_url, c, path, "tokenUrl", "");
        else if (!(s->token_url = strdup(s->aud)))
            rc = omni__err(OMNI_ENOMEM, NULL);
        if (!rc && !http_url(s->token_url))
            rc = omni__ob_config_error(path, "tokenUrl", "must be a printable ASCII URL");
    }
    if (!rc) {
        /* The send URL never changes: made and checked once. */
        omni_buf url = OMNI_BUF_INIT;
        omni__buf_printf(&url, "%s/v1/projects/%s/messages:send", s->base_url, s->project_id);
        if ((rc = omni__buf_detach(&url, &s->send_url, NULL)) == OMNI_OK) {
            omni_http_request *probe = NULL;
            s->send_url_ok = omni_http_request_new(&probe, "POST", s->send_url) == OMNI_OK;
            omni_http_request_free(probe);
            if (!s->send_url_ok)
                omni_error_clear();
        }
    }
    if (rc) {
        st_free(s);
        return rc;
    }
    *state = s;
    return OMNI_OK;
}

/* ---- token exchange -------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int omni__push_fcm_token_request(omni_http_request **out, void *state, int64_t now_ms)
{
    fcm_state *s = state;
    *out = NULL;
    pthread_mutex_lock(&s->mu);
    int fresh = s->auth && now_ms < s->access_exp_ms - REFRESH_MS;
    pthread_mutex_unlock(&s->mu);
    if (fresh)
        return OMNI_OK;
    int64_t iat = floor_div(now_ms, 1000);
    if (iat < 0 || iat > INT64_C(253402300799))
        return omni__err(OMNI_EINVAL, "push android: now_ms is outside 1970..9999");
    omni_buf hdr = OMNI_BUF_INIT, claims = OMNI_BUF_INIT, body = OMNI_BUF_INIT;
    if (s->key_id) { /* "alg" and "typ" come first, from the signer */
        omni__json_w_obj_begin(&hdr);
        omni__json_w_keyl(&hdr, "kid");
        omni__json_w_str(&hdr, s->key_id);
        omni__json_w_obj_end(&hdr);
    }
    omni__json_w_obj_begin(&claims);
    omni__json_w_keyl(&claims, "iss");
    omni__json_w_str(&claims, s->client_email);
    omni__json_w_keyl(&claims, "scope");
    omni__json_w_str(&claims, SCOPE);
    omni__json_w_keyl(&claims, "aud");
    omni__json_w_str(&claims, s->aud);
    omni__json_w_keyl(&claims, "iat");
    omni__json_w_int(&claims, iat);
    omni__json_w_keyl(&claims, "exp");
    omni__json_w_int(&claims, iat + 3600);
    omni__json_w_obj_end(&claims);
    int rc = omni__buf_status(&hdr);
    if (!rc)
        rc = omni__buf_status(&claims);
    char *jwt = NULL;
    size_t jwt_len = 0;
    if (!rc)
        rc = omni__jwt_sign_pkey(&jwt, &jwt_len, OMNI__JWT_RS256, s->key, hdr.data, hdr.len,
                                 claims.data, claims.len);
    omni_http_request *req = NULL;
    if (!rc) {
        omni__buf_puts(&body, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
                              "&assertion=");
        omni__buf_append(&body, jwt, jwt_len); /* base64url and '.': nothing to encode */
        rc = omni__buf_status(&body);
    }
    if (!rc)
        rc = omni_http_request_new(&req, "POST", s->token_url);
    if (!rc)
        rc = omni_http_request_add_header(req, "Content-Type",
                                          "application/x-www-form-urlencoded");
    if (!rc)
        rc = omni_http_request_add_header(req, "Accept", "application/json");
    if (!rc)
        rc = omni_http_request_set_body(req, body.data, body.len);
    omni_free(jwt);
    omni__buf_free(&hdr);
    omni__buf_free(&claims);
    omni__buf_free(&body);
    if (rc) {
        omni_http_request_free(req);
        return rc;
    }
    *out = req;
    return OMNI_OK;
}

/* The endpoint's {"error", "error_description"} as "error: description" (cleaned). */
static void oauth_error(char *out, size_t cap, const omni_http_response *resp, char *code,
                        size_t code_cap)
{
    out[0] = '\0';
    code[0] = '\0';
    cJSON *j = omni__ob_body_object(resp);
    const char *e = omni__json_str(j, "error");
    const char *d = omni__json_str(j, "error_description");
    if (e)
        omni__ob_clean_text(code, code_cap, e, strlen(e));
    char desc[256] = "";
    if (d)
        omni__ob_clean_text(desc, sizeof desc, d, strlen(d));
    if (code[0] || desc[0])
        snprintf(out, cap, " (%s%s%s)", code, code[0] && desc[0] ? ": " : "", desc);
    cJSON_Delete(j);
}

int omni__push_fcm_token_response(void *state, const omni_http_response *resp, int64_t now_ms)
{
    fcm_state *s = state;
    int status = omni_http_response_status(resp);
    if (status != 200) {
        char detail[400], code[64];
        oauth_error(detail, sizeof detail, resp, code, sizeof code);
        if (status == 401 || status == 403 ||
            (status == 400 && (strcmp(code, "invalid_grant") == 0 ||
                               strcmp(code, "invalid_client") == 0 ||
                               strcmp(code, "unauthorized_client") == 0)))
            return omni__err(OMNI_EKEY,
                             "push android: the token endpoint refused the service account "
                             "(HTTP %d%s)",
                             status, detail);
        return omni__err(OMNI_ETRANSPORT, "push android: the token endpoint answered HTTP %d%s",
                         status, detail);
    }
    cJSON *j = omni__ob_body_object(resp);
    const char *tok = omni__json_str(j, "access_token");
    const char *type = omni__json_str(j, "token_type");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
    int rc = OMNI_OK;
    if (!j)
        rc = omni__err(OMNI_EJSON, "push android: the token response is not a JSON object");
    else if (!tok || !printable(tok, 1, MAX_ACCESS_TOKEN))
        rc = omni__err(OMNI_EJSON, "push android: the token response's access_token must be "
                                   "1..8192 printable ASCII bytes");
    else if (!type || strcasecmp(type, "Bearer") != 0)
        rc = omni__err(OMNI_EJSON, "push android: the token response's token_type must be "
                                   "\"Bearer\"");
    else if (!cJSON_IsNumber(exp) || exp->valuedouble < 1 || exp->valuedouble > 86400 * 366 ||
             exp->valuedouble != (double)(int64_t)exp->valuedouble)
        rc = omni__err(OMNI_EJSON, "push android: the token response's expires_in must be an "
                                   "integer number of seconds");
    char *copy = NULL;
    size_t copy_len = 0;
    if (!rc) {
        /* kept as the Authorization value the builds send */
        size_t tl = strlen(tok);
        if ((copy = malloc(tl + 8)) != NULL) {
            memcpy(copy, "Bearer ", 7);
            memcpy(copy + 7, tok, tl + 1);
            copy_len = tl + 7;
        } else {
            rc = omni__err(OMNI_ENOMEM, NULL);
        }
    }
    if (!rc) {
        pthread_mutex_lock(&s->mu);
        wipe_free(s->auth);
        s->auth = copy;
        s->auth_len = copy_len;
        s->access_exp_ms = now_ms + (int64_t)exp->valuedouble * 1000;
        pthread_mutex_unlock(&s->mu);
    }
    if (j) {
        cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "access_token");
        if (cJSON_IsString(t))
            OPENSSL_cleanse(t->valuestring, strlen(t->valuestring));
        cJSON_Delete(j);
    }
    return rc;
}

/* ---- build ------------------------------------------------------------------------------ */

static int printable_n(const char *s, size_t n, size_t min, size_t max)
{
    if (n < min || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

/* An optional non-empty string member (a span of the message). */
static int opt_string(omni__pstr *out, const omni__push_msg *m, omni__jspan v, const char *name,
                      const char *where)
{
    *out = (omni__pstr){NULL, 0, 0};
    if (!v.p)
        return OMNI_OK;
    if (omni__j_is(v, '"')) {
        int rc = omni__push_str(out, m, v);
        if (rc || out->n)
            return rc;
        *out = (omni__pstr){NULL, 0, 0};
    }
    char member[64];
    snprintf(member, sizeof member, "%s.%s", where, name);
    return omni__push_msg_error(PLATFORM, member, "must be a non-empty string");
}

static int topic_ok(omni__pstr t)
{
    if (t.n < 1 || t.n > 900)
        return 0;
    for (size_t i = 0; i < t.n; i++) {
        char c = t.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '~' || c == '%'))
            return 0;
    }
    return 1;
}

static int no_controls(omni__pstr s, size_t max)
{
    if (s.n < 1 || s.n > max)
        return 0;
    for (size_t i = 0; i < s.n; i++)
        if ((unsigned char)s.p[i] < 0x20 || s.p[i] == 0x7f)
            return 0;
    return 1;
}

static int reserved_key(const char *k)
{
    return strcmp(k, "from") == 0 || strcmp(k, "message_type") == 0 ||
           strcmp(k, "notification") == 0 || strcmp(k, "gcm") == 0 ||
           strncmp(k, "google.", 7) == 0 || strncmp(k, "gcm.", 4) == 0 || !k[0];
}

static int is_number(omni__jspan v)
{
    return v.p && v.n && (v.p[0] == '-' || (v.p[0] >= '0' && v.p[0] <= '9'));
}

/* What a build reads of the message, checked. */
typedef struct fcm_parts {
    const char *tkey; /* "token" | "topic" | "condition" */
    omni__pstr tval;
    omni__pstr title, body, image;
    omni__jspan data, actions; /* data: an object or absent; actions: checked */
    const char *priority;      /* "HIGH" | "NORMAL" | NULL */
    omni__pstr collapse, channel, sound, click;
    int has_ttl, has_badge;
    int64_t ttl;
    double badge;
} fcm_parts;

enum { PL_TITLE, PL_BODY, PL_IMAGE, PL_DATA, PL_ACTIONS, PL_SOUND, PL_CLICK, PL_BADGE, PL_COUNT };
static const omni__jname payload_members[PL_COUNT] = {
    OMNI__JNAME("title"), OMNI__JNAME("body"), OMNI__JNAME("image"), OMNI__JNAME("data"),
    OMNI__JNAME("actions"), OMNI__JNAME("sound"), OMNI__JNAME("clickAction"),
    OMNI__JNAME("badge")};

enum { OP_PRIORITY, OP_COLLAPSE, OP_CHANNEL, OP_TTL, OP_COUNT };
static const omni__jname option_members[OP_COUNT] = {
    OMNI__JNAME("priority"), OMNI__JNAME("collapseKey"), OMNI__JNAME("channelId"),
    OMNI__JNAME("ttl")};

/* The message's target: exactly one of token, topic, condition. */
static int target(fcm_parts *x, const omni__push_msg *m)
{
    omni__pstr topic, cond;
    int rc;
    if ((rc = opt_string(&topic, m, m->jtopic, "topic", "message")) ||
        (rc = opt_string(&cond, m, m->jcondition, "condition", "message")))
        return rc;
    if ((m->jtoken.p != NULL) + (topic.p != NULL) + (cond.p != NULL) != 1)
        return omni__push_msg_error(PLATFORM, "token, topic or condition",
                                    "is required (exactly one of them)");
    if (m->jtoken.p) {
        if (!printable_n(m->jtoken.p, m->jtoken.n, 1, 4096))
            return omni__push_msg_error(PLATFORM, "token", "must be printable ASCII");
        x->tkey = "token";
        x->tval = m->jtoken;
    } else if (topic.p) {
        if (!topic_ok(topic))
            return omni__push_msg_error(PLATFORM, "topic",
                                        "must be 1..900 of [A-Za-z0-9-_.~%] (no /topics/)");
        x->tkey = "topic";
        x->tval = topic;
    } else {
        if (!no_controls(cond, 1024))
            return omni__push_msg_error(PLATFORM, "condition",
                                        "must be 1..1024 bytes without control characters");
        x->tkey = "condition";
        x->tval = cond;
    }
    return OMNI_OK;
}

/* payload.actions: an array of at most 10 {"id", "title", "url"?} non-empty strings. With
 * b, also writes their compact JSON text. */
static int actions_text(omni_buf *b, const omni__push_msg *m, omni__jspan acts)
{
    if (!omni__j_is(acts, '[') || omni__j_count(acts) > MAX_ACTIONS)
        return omni__push_msg_error(PLATFORM, "payload.actions", "must be an array of 0..10");
    static const omni__jname names[] = {OMNI__JNAME("id"), OMNI__JNAME("title"),
                                        OMNI__JNAME("url")};
    omni__jiter it;
    omni__jspan a, f[3];
    omni__pstr id = {NULL, 0, 0}, title = {NULL, 0, 0}, url = {NULL, 0, 0};
    int rc;
    if (b)
        omni__json_w_arr_begin(b);
    omni__j_arr(&it, acts);
    while (omni__j_next_item(&it, &a)) {
        omni__push_fields(m, a, names, f, 3);
        if ((omni__j_is(f[0], '"') && (rc = omni__push_str(&id, m, f[0]))) ||
            (omni__j_is(f[1], '"') && (rc = omni__push_str(&title, m, f[1]))) ||
            (omni__j_is(f[2], '"') && (rc = omni__push_str(&url, m, f[2]))))
            return rc;
        if (!omni__j_is(a, '{') || !omni__j_is(f[0], '"') || !id.n || !omni__j_is(f[1], '"') ||
            !title.n || (f[2].p && (!omni__j_is(f[2], '"') || !url.n)))
            return omni__push_msg_error(PLATFORM, "payload.actions[]",
                                        "must be {\"id\", \"title\", \"url\"?} strings");
        if (!b)
            continue;
        omni__json_w_obj_begin(b);
        omni__json_w_keyl(b, "id");
        omni__push_w_str(b, id);
        omni__json_w_keyl(b, "title");
        omni__push_w_str(b, title);
        if (f[2].p) {
            omni__json_w_keyl(b, "url");
            omni__push_w_str(b, url);
        }
        omni__json_w_obj_end(b);
    }
    if (b)
        omni__json_w_arr_end(b);
    return OMNI_OK;
}

/* The "data" checks: an object whose keys are not FCM's reserved ones, and the actions. */
static int check_data(const fcm_parts *x, const omni__push_msg *m)
{
    if (x->data.p && !omni__j_is(x->data, '{'))
        return omni__push_msg_error(PLATFORM, "payload.data", "must be an object");
    if (!x->data.p && !x->actions.p)
        return OMNI_OK;
    omni__jiter it;
    omni__jspan k, v;
    if (omni__j_obj(&it, x->data)) {
        while (omni__j_next(&it, &k, &v)) {
            char key[65]; /* enough to compare with and to quote (%.64s) */
            size_t n = omni__j_decode(k, key, 64);
            key[n > 64 ? 64 : n] = '\0';
            if (reserved_key(key) || (x->actions.p && n == 7 && strcmp(key, "actions") == 0))
                return omni__err(OMNI_EINVAL,
                                 "push android: payload.data key \"%.64s\" is reserved", key);
        }
    }
    return x->actions.p ? actions_text(NULL, m, x->actions) : OMNI_OK;
}

/* The "data" object: payload.data with every value a string (other values as their compact
 * JSON text), then "actions" as JSON text. */
static void write_data(omni_buf *b, const fcm_parts *x, const omni__push_msg *m)
{
    omni_buf t = OMNI_BUF_INIT;
    omni__jiter it;
    omni__jspan k, v;
    omni__json_w_obj_begin(b);
    if (omni__j_obj(&it, x->data)) {
        while (omni__j_next(&it, &k, &v)) {
            omni__j_write_key(b, k);
            if (omni__j_is(v, '"')) {
                omni__j_write(b, v);
                continue;
            }
            omni__buf_reset(&t);
            omni__j_write(&t, v);
            if (t.failed)
                b->failed = t.failed;
            else
                omni__json_w_strn(b, t.data, t.len);
        }
    }
    if (x->actions.p) {
        omni__buf_reset(&t);
        omni__json_w_keyl(b, "actions");
        if (actions_text(&t, m, x->actions) || t.failed)
            b->failed = OMNI_ENOMEM;
        else
            omni__json_w_strn(b, t.data, t.len);
    }
    omni__json_w_obj_end(b);
    omni__buf_free(&t);
}

/* The "android" checks (AndroidConfig from options and payload). */
static int check_android(fcm_parts *x, const omni__push_msg *m, const omni__jspan *o,
                         const omni__jspan *pl)
{
    omni__pstr priority;
    int rc;
    if ((rc = opt_string(&priority, m, o[OP_PRIORITY], "priority", "options")) ||
        (rc = opt_string(&x->collapse, m, o[OP_COLLAPSE], "collapseKey", "options")) ||
        (rc = opt_string(&x->channel, m, o[OP_CHANNEL], "channelId", "options")) ||
        (rc = opt_string(&x->sound, m, pl[PL_SOUND], "sound", "payload")) ||
        (rc = opt_string(&x->click, m, pl[PL_CLICK], "clickAction", "payload")))
        return rc;
    if (priority.p) {
        if (omni__pstr_is(priority, "high") || omni__pstr_is(priority, "critical"))
            x->priority = "HIGH";
        else if (omni__pstr_is(priority, "normal") || omni__pstr_is(priority, "low"))
            x->priority = "NORMAL";
        else
            return omni__push_msg_error(PLATFORM, "options.priority",
                                        "must be \"low\", \"normal\", \"high\" or \"critical\"");
    }
    omni__jspan ttl = o[OP_TTL], badge = pl[PL_BADGE];
    double d = is_number(ttl) ? omni__j_num(ttl) : 0;
    if (ttl.p && (!is_number(ttl) || d < 0 || d > MAX_TTL || d != (double)(int64_t)d))
        return omni__push_msg_error(PLATFORM, "options.ttl",
                                    "must be an integer number of seconds 0..2419200");
    x->has_ttl = ttl.p != NULL;
    x->ttl = (int64_t)d;
    if (x->collapse.p && !no_controls(x->collapse, 256))
        return omni__push_msg_error(PLATFORM, "options.collapseKey",
                                    "must be 1..256 bytes without control characters");
    d = is_number(badge) ? omni__j_num(badge) : 0;
    if (badge.p &&
        (!is_number(badge) || d < 0 || d > 2147483647.0 || d != (double)(int64_t)d))
        return omni__push_msg_error(PLATFORM, "payload.badge", "must be an integer 0..2^31-1");
    x->has_badge = badge.p != NULL;
    x->badge = d;
    if (m->jandroid.p && !omni__j_is(m->jandroid, '{'))
        return omni__push_msg_error(PLATFORM, "android", "must be an object (AndroidConfig)");
    return OMNI_OK;
}

/* The AndroidConfig object from the message's fields; 0 when it has no member. */
static int write_android_object(omni_buf *b, const fcm_parts *x, int has_notification)
{
    int tag = has_notification && x->collapse.p;
    int notification = x->channel.p || x->sound.p || x->click.p || tag || x->has_badge;
    omni__json_w_obj_begin(b);
    if (x->priority) {
        omni__json_w_keyl(b, "priority");
        omni__json_w_str(b, x->priority);
    }
    if (x->has_ttl) {
        char t[32];
        size_t n = omni__push_utoa(t, (uint64_t)x->ttl);
        t[n++] = 's';
        omni__json_w_keyl(b, "ttl");
        omni__json_w_strn(b, t, n);
    }
    if (x->collapse.p) {
        omni__json_w_keyl(b, "collapse_key");
        omni__push_w_str(b, x->collapse);
    }
    if (notification) {
        omni__json_w_keyl(b, "notification");
        omni__json_w_obj_begin(b);
        if (x->channel.p) {
            omni__json_w_keyl(b, "channel_id");
            omni__push_w_str(b, x->channel);
        }
        if (x->sound.p) {
            omni__json_w_keyl(b, "sound");
            omni__push_w_str(b, x->sound);
        }
        if (x->click.p) {
            omni__json_w_keyl(b, "click_action");
            omni__push_w_str(b, x->click);
        }
        if (tag) {
            omni__json_w_keyl(b, "tag");
            omni__push_w_str(b, x->collapse);
        }
        if (x->has_badge) {
            omni__json_w_keyl(b, "notification_count");
            omni__json_w_num(b, x->badge);
        }
        omni__json_w_obj_end(b);
    }
    omni__json_w_obj_end(b);
    return x->priority || x->has_ttl || x->collapse.p || notification;
}

/* Merges src over dst (objects recursively, anything else replaced). */
static int merge(cJSON *dst, const cJSON *src)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, src) {
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(dst, it->string);
        if (cur && cJSON_IsObject(cur) && cJSON_IsObject(it)) {
            if (merge(cur, it))
                return OMNI_ENOMEM;
            continue;
        }
        cJSON *dup = cJSON_Duplicate(it, 1);
        if (!dup)
            return OMNI_ENOMEM;
        if (cur ? !cJSON_ReplaceItemInObjectCaseSensitive(dst, it->string, dup)
                : !cJSON_AddItemToObject(dst, it->string, dup)) {
            cJSON_Delete(dup);
            return OMNI_ENOMEM;
        }
    }
    return OMNI_OK;
}

/* "android": the object from the message's fields, with message.android merged over it
 * (member by member, objects recursively); left out when empty. */
static int write_android(omni_buf *b, const fcm_parts *x, const omni__push_msg *m,
                         int has_notification)
{
    if (!m->jandroid.p) {
        /* written in place, taken back when it has no member */
        size_t mark = b->len;
        omni__json_w_keyl(b, "android");
        if (!write_android_object(b, x, has_notification) && !b->failed) {
            b->len = mark;
            b->data[mark] = '\0';
        }
        return OMNI_OK;
    }
    omni_buf t = OMNI_BUF_INIT;
    write_android_object(&t, x, has_notification);
    cJSON *a = t.failed ? NULL : cJSON_ParseWithLength(t.data, t.len);
    cJSON *over = a ? cJSON_ParseWithLength(m->jandroid.p, m->jandroid.n) : NULL;
    int fail = !over || merge(a, over) != OMNI_OK;
    if (!fail && a->child) {
        omni__json_w_keyl(b, "android");
        omni__json_w_item(b, a);
    }
    cJSON_Delete(over);
    cJSON_Delete(a);
    omni__buf_free(&t);
    return fail ? omni__err(OMNI_ENOMEM, NULL) : OMNI_OK;
}

static int build(omni_http_request **out, void *state, const omni__push_msg *m, int64_t now_ms)
{
    fcm_state *s = state;
    *out = NULL;
    fcm_parts x;
    memset(&x, 0, sizeof(x));
    omni__jspan pl[PL_COUNT], o[OP_COUNT];
    omni__push_fields(m, m->jpayload, payload_members, pl, PL_COUNT);
    omni__push_fields(m, m->joptions, option_members, o, OP_COUNT);
    int rc;
    if ((rc = target(&x, m)) ||
        (rc = opt_string(&x.title, m, pl[PL_TITLE], "title", "payload")) ||
        (rc = opt_string(&x.body, m, pl[PL_BODY], "body", "payload")) ||
        (rc = opt_string(&x.image, m, pl[PL_IMAGE], "image", "payload")))
        return rc;
    if (m->japns.p && !omni__j_is(m->japns, '{'))
        return omni__push_msg_error(PLATFORM, "apns", "must be an object (ApnsConfig)");
    if (m->jwebpush.p && !omni__j_is(m->jwebpush, '{'))
        return omni__push_msg_error(PLATFORM, "webpush", "must be an object (WebpushConfig)");
    int has_notification = x.title.p || x.body.p || x.image.p;
    x.data = pl[PL_DATA];
    x.actions = pl[PL_ACTIONS];
    if ((rc = check_data(&x, m)) || (rc = check_android(&x, m, o, pl)))
        return rc;
    /* the Authorization value, copied under the lock */
    char auth[MAX_ACCESS_TOKEN + 8];
    size_t auth_len = 0;
    pthread_mutex_lock(&s->mu);
    int valid = s->auth && now_ms < s->access_exp_ms;
    if (valid) {
        auth_len = s->auth_len;
        memcpy(auth, s->auth, auth_len + 1);
    }
    pthread_mutex_unlock(&s->mu);
    if (!valid)
        return omni__err(OMNI_EEXPIRED, "push android: no valid FCM access token: run the "
                                        "token exchange (omni_push_token_request) first");
    omni_buf b = OMNI_BUF_INIT;
    omni__buf_reserve(&b, 512);
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "message");
    omni__json_w_obj_begin(&b);
    omni__json_w_key(&b, x.tkey);
    omni__push_w_str(&b, x.tval);
    if (has_notification) {
        omni__json_w_keyl(&b, "notification");
        omni__json_w_obj_begin(&b);
        if (x.title.p) {
            omni__json_w_keyl(&b, "title");
            omni__push_w_str(&b, x.title);
        }
        if (x.body.p) {
            omni__json_w_keyl(&b, "body");
            omni__push_w_str(&b, x.body);
        }
        if (x.image.p) {
            omni__json_w_keyl(&b, "image");
            omni__push_w_str(&b, x.image);
        }
        omni__json_w_obj_end(&b);
    }
    if (x.data.p || x.actions.p) {
        omni__json_w_keyl(&b, "data");
        write_data(&b, &x, m);
    }
    rc = write_android(&b, &x, m, has_notification);
    if (m->japns.p) {
        omni__json_w_keyl(&b, "apns");
        omni__j_write(&b, m->japns);
    }
    if (m->jwebpush.p) {
        omni__json_w_keyl(&b, "webpush");
        omni__j_write(&b, m->jwebpush);
    }
    omni__json_w_obj_end(&b);
    omni__json_w_obj_end(&b);
    if (!rc && b.failed)
        rc = omni__err(b.failed == OMNI_ETOOLARGE ? OMNI_ETOOLARGE : OMNI_ENOMEM,
                       "push android: the request is too large");
    if (!rc && !s->send_url_ok) {
        /* omni_http_request_new says what is wrong with the URL */
        if ((rc = omni_http_request_new(out, "POST", s->send_url)) == OMNI_OK) {
            omni_http_request_free(*out);
            *out = NULL;
        }
    }
    if (!rc) {
        /* the values are the cached "Bearer <token>" (printable ASCII) and a constant */
        const omni__http_field fields[] = {{"Authorization", auth, auth_len},
                                           {"Content-Type", "application/json", 16}};
        rc = omni__http_request_make(out, "POST", s->send_url, strlen(s->send_url), "", 0,
                                     fields, 2, b.data, b.len, b.cap);
        if (!rc)
            b = (omni_buf)OMNI_BUF_INIT;
    }
    OPENSSL_cleanse(auth, auth_len);
    omni__buf_free(&b);
    return rc;
}

/* ---- parse ------------------------------------------------------------------------------- */

static int mentions_token(const char *msg)
{
    static const char needle[] = "registration token";
    size_t n = strlen(needle);
    for (; msg && *msg; msg++)
        if (strncasecmp(msg, needle, n) == 0)
            return 1;
    return 0;
}

/* The FcmError errorCode in details, and whether a BadRequest names message.token. */
static const char *scan_details(const cJSON *details, int *token_field)
{
    const char *code = NULL;
    *token_field = 0;
    const cJSON *d, *list = cJSON_IsArray(details) ? details : NULL;
    cJSON_ArrayForEach(d, list) {
        const char *type = omni__json_str(d, "@type");
        if (!type)
            continue;
        size_t n = strlen(type);
        static const char fcm[] = "google.firebase.fcm.v1.FcmError";
        static const char bad[] = "google.rpc.BadRequest";
        if (!code && n >= sizeof fcm - 1 && strcmp(type + n - (sizeof fcm - 1), fcm) == 0) {
            code = omni__json_str(d, "errorCode");
        } else if (n >= sizeof bad - 1 && strcmp(type + n - (sizeof bad - 1), bad) == 0) {
            const cJSON *v, *fv = cJSON_GetObjectItemCaseSensitive(d, "fieldViolations");
            if (!cJSON_IsArray(fv))
                fv = NULL;
            cJSON_ArrayForEach(v, fv) {
                const char *f = omni__json_str(v, "field");
                if (f && strcmp(f, "message.token") == 0)
                    *token_field = 1;
            }
        }
    }
    return code;
}

static void discard_token(fcm_state *s)
{
    pthread_mutex_lock(&s->mu);
    wipe_free(s->auth);
    s->auth = NULL;
    s->auth_len = 0;
    s->access_exp_ms = 0;
    pthread_mutex_unlock(&s->mu);
}

static int parse(omni_buf *out, void *state, const omni_http_response *resp, int64_t now_ms)
{
    fcm_state *s = state;
    int status = omni_http_response_status(resp);
    cJSON *j = omni__ob_body_object(resp);
    if (status >= 200 && status < 300) {
        const char *name = omni__json_str(j, "name");
        char id[512];
        if (name)
            omni__ob_clean_text(id, sizeof id, name, strlen(name));
        omni__push_result_ok(out, PLATFORM, name ? id : NULL);
        cJSON_Delete(j);
        return OMNI_OK;
    }
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (!cJSON_IsObject(err))
        err = NULL;
    char msg[300], pcode[64];
    const char *emsg = omni__json_str(err, "message");
    const char *estatus = omni__json_str(err, "status");
    int token_field = 0;
    const char *ecode = scan_details(cJSON_GetObjectItemCaseSensitive(err, "details"),
                                     &token_field);
    const char *provider = ecode ? ecode : estatus;
    if (provider)
        omni__ob_clean_text(pcode, sizeof pcode, provider, strlen(provider));
    if (emsg && emsg[0])
        omni__ob_clean_text(msg, sizeof msg, emsg, strlen(emsg));
    else
        snprintf(msg, sizeof msg, "FCM answered HTTP %d", status);
    const char *key = ecode ? ecode : estatus ? estatus : "";
    const char *code;
    int retryable = 0, invalid = 0;
    if (!err && !omni__ob_status_speaks(status)) {
        code = "PROVIDER_ERROR";
    } else if (strcmp(key, "UNREGISTERED") == 0 || strcmp(key, "SENDER_ID_MISMATCH") == 0) {
        code = "INVALID_TOKEN";
        invalid = 1;
    } else if (strcmp(key, "INVALID_ARGUMENT") == 0) {
        invalid = mentions_token(emsg) || token_field;
        code = invalid ? "INVALID_TOKEN" : "INVALID_REQUEST";
    } else if (strcmp(key, "QUOTA_EXCEEDED") == 0 || strcmp(key, "RESOURCE_EXHAUSTED") == 0) {
        code = "RATE_LIMITED";
        retryable = 1;
    } else if (strcmp(key, "UNAVAILABLE") == 0 || strcmp(key, "INTERNAL") == 0) {
        code = "PROVIDER_UNAVAILABLE";
        retryable = 1;
    } else if (strcmp(key, "THIRD_PARTY_AUTH_ERROR") == 0) {
        code = "AUTH_FAILED";
    } else if (status == 401 || strcmp(key, "UNAUTHENTICATED") == 0) {
        code = "TOKEN_EXPIRED";
        retryable = 1;
        discard_token(s);
    } else {
        code = omni__ob_http_class(status, &retryable);
    }
    omni__push_result_error(out, PLATFORM, code, provider ? pcode : NULL, msg, retryable, invalid,
                            retryable ? omni__ob_retry_after(resp, now_ms) : -1);
    cJSON_Delete(j);
    return OMNI_OK;
}

const omni__push_adapter omni__push_fcm = {"android", "fcm", cfg, st_free, build, parse, 0};
