/* Push platform adapters: the compiled configuration, dispatch by platform
 * to lib/push/apns.c, fcm.c and webpush_send.c, the message checks they
 * share, and the result writers (include/omni/push.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "core/error.h"
#include "core/json.h"
#include "core/json_scan.h"
#include "outbound/outbound_internal.h"
#include "push_internal.h"

#define MAX_MESSAGE (64u * 1024u)

static const omni__push_adapter *const adapters[] = {&omni__push_apns, &omni__push_fcm,
                                                      &omni__push_web};
#define N_ADAPTERS (sizeof(adapters) / sizeof(adapters[0]))

struct omni_push {
    void *state[N_ADAPTERS];
    int configured[N_ADAPTERS];
};

void omni_push_free(omni_push *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < N_ADAPTERS; i++)
        if (p->configured[i] && adapters[i]->free)
            adapters[i]->free(p->state[i]);
    free(p);
}

int omni_push_new(omni_push **out, const char *config_json, size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "push: out is NULL");
    *out = NULL;
    if (!config_json)
        return omni__err(OMNI_EINVAL, "push: the configuration is NULL");
    cJSON *root = NULL;
    int rc = omni__json_parse(&root, config_json, len, OMNI_LIMIT_CONFIG_BYTES,
                              "push configuration");
    if (rc)
        return rc;
    omni_push *p = calloc(1, sizeof *p);
    if (!p) {
        cJSON_Delete(root);
        return omni__err(OMNI_ENOMEM, "push: out of memory");
    }
    if (!cJSON_IsObject(root))
        rc = omni__ob_config_error("push:", NULL, "the configuration must be a JSON object");
    const cJSON *it, *members = rc ? NULL : root;
    cJSON_ArrayForEach(it, members) {
        size_t i = 0;
        while (i < N_ADAPTERS && strcmp(adapters[i]->config_key, it->string) != 0)
            i++;
        if (i == N_ADAPTERS) {
            rc = omni__ob_config_error("push:", it->string,
                                       "is not a platform (apns, fcm, webpush)");
            break;
        }
        char path[32];
        snprintf(path, sizeof path, "push:%s", adapters[i]->config_key);
        if (!cJSON_IsObject(it)) {
            rc = omni__ob_config_error(path, NULL, "must be an object");
            break;
        }
        if ((rc = adapters[i]->config(&p->state[i], it, path)))
            break;
        p->configured[i] = 1;
    }
    cJSON_Delete(root);
    if (rc) {
        omni_push_free(p);
        return rc;
    }
    *out = p;
    return OMNI_OK;
}

static int adapter_of_n(omni_push *p, const char *platform, size_t len, size_t *index)
{
    for (size_t i = 0; i < N_ADAPTERS; i++) {
        if (strlen(adapters[i]->platform) != len || memcmp(adapters[i]->platform, platform, len))
            continue;
        if (!p->configured[i])
            return omni__err_details(OMNI_ECONFIG, NULL, "push: %s is not configured (\"%s\")",
                                     adapters[i]->platform, adapters[i]->config_key);
        *index = i;
        return OMNI_OK;
    }
    return omni__err(OMNI_EINVAL, "push: platform must be \"ios\", \"android\" or \"web\"");
}

static int adapter_of(omni_push *p, const char *platform, size_t *index)
{
    return adapter_of_n(p, platform, strlen(platform), index);
}

size_t omni__push_utoa(char *out, uint64_t v)
{
    char d[20];
    size_t i = sizeof(d);
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    memcpy(out, d + i, sizeof(d) - i);
    out[sizeof(d) - i] = '\0';
    return sizeof(d) - i;
}

int omni__push_msg_error(const char *platform, const char *member, const char *why)
{
    return omni__err(OMNI_EINVAL, "push %s: %s %s", platform, member, why);
}

int omni__push_str(omni__pstr *out, const omni__push_msg *m, omni__jspan s)
{
    if (omni__j_plain(s)) {
        out->p = s.p + 1;
        out->n = s.n - 2;
        out->plain = 1;
        return OMNI_OK;
    }
    omni__push_strs *l = m->strs;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        char **items = realloc(l->items, cap * sizeof(*items));
        if (!items)
            return omni__err(OMNI_ENOMEM, NULL);
        l->items = items;
        l->cap = cap;
    }
    char *d = malloc(s.n - 1);
    if (!d)
        return omni__err(OMNI_ENOMEM, NULL);
    l->items[l->count++] = d;
    size_t n = omni__j_decode(s, d, s.n - 2);
    d[n] = '\0';
    out->p = d;
    out->n = n;
    out->plain = 0;
    return OMNI_OK;
}

/* The message's members every adapter may read (omni__push_msg). */
enum { M_PLATFORM, M_TOKEN, M_PAYLOAD, M_OPTIONS, M_TOPIC, M_CONDITION, M_APNS, M_ANDROID,
       M_WEBPUSH, M_COUNT };
static const omni__jname message_members[M_COUNT] = {
    OMNI__JNAME("platform"), OMNI__JNAME("token"), OMNI__JNAME("payload"),
    OMNI__JNAME("options"), OMNI__JNAME("topic"), OMNI__JNAME("condition"),
    OMNI__JNAME("apns"), OMNI__JNAME("android"), OMNI__JNAME("webpush")};

/* The checks every platform shares, then the adapter. The message is read
 * as spans of its text, as a cJSON tree of it would read (json_span.h), so
 * that omni__json_parse's tree is only built for adapters that want it. */
static int build_message(omni_http_request **out, omni_push *p, omni__push_msg *m,
                         const char *text, size_t len, int64_t now_ms, cJSON **tree)
{
    omni__jspan f[M_COUNT];
    m->jroot = omni__j_root(text, len);
    omni__push_fields(m, m->jroot, message_members, f, M_COUNT);
    omni__pstr platform = {NULL, 0, 0}, token = {NULL, 0, 0};
    size_t i = 0;
    int rc;
    if (omni__j_is(f[M_PLATFORM], '"') && (rc = omni__push_str(&platform, m, f[M_PLATFORM])))
        return rc;
    if (!omni__j_is(m->jroot, '{'))
        return omni__err(OMNI_EINVAL, "push: the message must be a JSON object");
    if (!platform.p)
        return omni__err(OMNI_EINVAL, "push: platform is required");
    if ((rc = adapter_of_n(p, platform.p, platform.n, &i)))
        return rc;
    const char *pf = adapters[i]->platform;
    omni__jspan tok = f[M_TOKEN];
    if (!omni__j_is(f[M_PAYLOAD], '{'))
        return omni__push_msg_error(pf, "payload", "must be an object");
    if (f[M_OPTIONS].p && !omni__j_is(f[M_OPTIONS], '{'))
        return omni__push_msg_error(pf, "options", "must be an object");
    if (tok.p && (!omni__j_is(tok, '"') || (rc = omni__push_str(&token, m, tok)) ||
                  token.n == 0 || token.n > 4096))
        return rc ? rc : omni__push_msg_error(pf, "token", "must be a string of 1..4096 bytes");
    m->jpayload = f[M_PAYLOAD];
    m->joptions = f[M_OPTIONS];
    m->jtopic = f[M_TOPIC];
    m->jcondition = f[M_CONDITION];
    m->japns = f[M_APNS];
    m->jandroid = f[M_ANDROID];
    m->jwebpush = f[M_WEBPUSH];
    m->jtoken = token;
    if (adapters[i]->tree) {
        /* validated and judged already: only memory can fail */
        if ((rc = omni__json_parse(tree, text, len, MAX_MESSAGE, "push message")))
            return rc;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(*tree, "token");
        m->root = *tree;
        m->payload = cJSON_GetObjectItemCaseSensitive(*tree, "payload");
        m->options = cJSON_GetObjectItemCaseSensitive(*tree, "options");
        m->token = t ? t->valuestring : NULL;
    }
    return adapters[i]->build(out, p->state[i], m, now_ms);
}

int omni_push_build(omni_http_request **out, omni_push *p, const char *message_json, size_t len,
                    int64_t now_ms)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "push: out is NULL");
    *out = NULL;
    if (!p || !message_json)
        return omni__err(OMNI_EINVAL, "push: push and message are required");
    if (len > MAX_MESSAGE)
        return omni__err(OMNI_ETOOLARGE, "push: the message is over %u bytes", MAX_MESSAGE);
    /* one pass validates the message and writes down where every value is */
    omni__jtape_ent local[128];
    omni__jtape tape;
    omni__jtape_init(&tape, local, sizeof(local) / sizeof(local[0]));
    int rc = omni__json_scan_tape(message_json, len, MAX_MESSAGE, "push message", &tape);
    if (rc) {
        omni__jtape_free(&tape);
        return rc;
    }
    cJSON *tree = NULL;
    if (omni__j_has_surrogate(message_json, len)) {
        /* cJSON refuses a lone surrogate escape: its verdict, as before */
        if ((rc = omni__json_parse(&tree, message_json, len, MAX_MESSAGE, "push message"))) {
            omni__jtape_free(&tape);
            return rc;
        }
        cJSON_Delete(tree);
        tree = NULL;
    }
    omni__push_strs strs = {NULL, 0, 0};
    omni__push_msg m;
    memset(&m, 0, sizeof(m));
    m.strs = &strs;
    m.doc = (omni__jdoc){message_json, tape.ents, tape.n};
    rc = build_message(out, p, &m, message_json, len, now_ms, &tree);
    for (size_t i = 0; i < strs.count; i++)
        free(strs.items[i]);
    free(strs.items);
    cJSON_Delete(tree);
    omni__jtape_free(&tape);
    if (rc && *out) {
        omni_http_request_free(*out);
        *out = NULL;
    }
    return rc;
}

int omni_push_parse(char **out, size_t *out_len, omni_push *p, const char *platform,
                    const omni_http_response *resp, int64_t now_ms)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "push: out is NULL");
    *out = NULL;
    if (!p || !platform || !resp)
        return omni__err(OMNI_EINVAL, "push: push, platform and response are required");
    size_t i;
    int rc = adapter_of(p, platform, &i);
    if (rc)
        return rc;
    omni_buf b = OMNI_BUF_INIT;
    rc = adapters[i]->parse(&b, p->state[i], resp, now_ms);
    return omni__buf_finish(&b, rc ? rc : omni__buf_status(&b), out, out_len);
}

int omni_push_token_request(omni_http_request **out, omni_push *p, int64_t now_ms)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "push: out is NULL");
    *out = NULL;
    if (!p)
        return omni__err(OMNI_EINVAL, "push: push is NULL");
    size_t i;
    int rc = adapter_of(p, "android", &i);
    return rc ? rc : omni__push_fcm_token_request(out, p->state[i], now_ms);
}

int omni_push_token_response(omni_push *p, const omni_http_response *resp, int64_t now_ms)
{
    if (!p || !resp)
        return omni__err(OMNI_EINVAL, "push: push and response are required");
    size_t i;
    int rc = adapter_of(p, "android", &i);
    return rc ? rc : omni__push_fcm_token_response(p->state[i], resp, now_ms);
}

/* ---- results ---------------------------------------------------------------------------- */

void omni__push_result_ok(omni_buf *b, const char *platform, const char *message_id)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "success");
    omni__json_w_bool(b, 1);
    omni__json_w_keyl(b, "platform");
    omni__json_w_str(b, platform);
    omni__json_w_keyl(b, "status");
    omni__json_w_str(b, "sent");
    if (message_id) {
        omni__json_w_keyl(b, "messageId");
        omni__json_w_str(b, message_id);
    }
    omni__json_w_obj_end(b);
}

void omni__push_result_error(omni_buf *b, const char *platform, const char *code,
                             const char *provider_code, const char *message, int retryable,
                             int invalid_token, int64_t retry_after_ms)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "success");
    omni__json_w_bool(b, 0);
    omni__json_w_keyl(b, "platform");
    omni__json_w_str(b, platform);
    omni__json_w_keyl(b, "status");
    omni__json_w_str(b, "failed");
    omni__json_w_keyl(b, "error");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "code");
    omni__json_w_str(b, code);
    if (provider_code) {
        omni__json_w_keyl(b, "providerCode");
        omni__json_w_str(b, provider_code);
    }
    omni__json_w_keyl(b, "message");
    omni__json_w_str(b, message);
    omni__json_w_keyl(b, "retryable");
    omni__json_w_bool(b, retryable);
    omni__json_w_obj_end(b);
    if (invalid_token) {
        omni__json_w_keyl(b, "invalidToken");
        omni__json_w_bool(b, 1);
    }
    if (retry_after_ms >= 0) {
        omni__json_w_keyl(b, "retryAfterMs");
        omni__json_w_int(b, retry_after_ms);
    }
    omni__json_w_obj_end(b);
}
