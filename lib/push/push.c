/* Push platform adapters: the compiled configuration, dispatch by platform
 * to lib/push/apns.c, fcm.c and webpush_send.c, the message checks they
 * share, and the result writers (include/omni/push.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "core/error.h"
#include "core/json.h"
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

static int adapter_of(omni_push *p, const char *platform, size_t *index)
{
    for (size_t i = 0; i < N_ADAPTERS; i++) {
        if (strcmp(adapters[i]->platform, platform) != 0)
            continue;
        if (!p->configured[i])
            return omni__err_details(OMNI_ECONFIG, NULL, "push: %s is not configured (\"%s\")",
                                     platform, adapters[i]->config_key);
        *index = i;
        return OMNI_OK;
    }
    return omni__err(OMNI_EINVAL, "push: platform must be \"ios\", \"android\" or \"web\"");
}

int omni__push_msg_error(const char *platform, const char *member, const char *why)
{
    return omni__err(OMNI_EINVAL, "push %s: %s %s", platform, member, why);
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
    cJSON *root = NULL;
    int rc = omni__json_parse(&root, message_json, len, MAX_MESSAGE, "push message");
    if (rc)
        return rc;
    omni__push_msg m = {root, NULL, NULL, NULL};
    const char *platform = omni__json_str(root, "platform");
    size_t i = 0;
    if (!cJSON_IsObject(root))
        rc = omni__err(OMNI_EINVAL, "push: the message must be a JSON object");
    else if (!platform)
        rc = omni__err(OMNI_EINVAL, "push: platform is required");
    else if (!(rc = adapter_of(p, platform, &i))) {
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, "token");
        m.payload = cJSON_GetObjectItemCaseSensitive(root, "payload");
        m.options = cJSON_GetObjectItemCaseSensitive(root, "options");
        if (!cJSON_IsObject(m.payload))
            rc = omni__push_msg_error(platform, "payload", "must be an object");
        else if (m.options && !cJSON_IsObject(m.options))
            rc = omni__push_msg_error(platform, "options", "must be an object");
        else if (tok && (!cJSON_IsString(tok) || !tok->valuestring[0] ||
                         strlen(tok->valuestring) > 4096))
            rc = omni__push_msg_error(platform, "token", "must be a string of 1..4096 bytes");
        else {
            m.token = tok ? tok->valuestring : NULL;
            rc = adapters[i]->build(out, p->state[i], &m, now_ms);
        }
    }
    cJSON_Delete(root);
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
