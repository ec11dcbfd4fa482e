/* The scripted transport: canned responses in order, every request recorded. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"
#include "transport_internal.h"

#define ERROR_MESSAGE_MAX 400

typedef struct entry {
    omni_http_response *response; /* NULL for an error entry */
    int error;                    /* OMNI_E* of an error entry */
    char *message;                /* NULL: a default message */
} entry;

typedef struct scripted {
    pthread_mutex_t mu;
    entry *entries;
    size_t count;
    size_t next; /* guarded by mu */
    omni_http_request **sent; /* guarded by mu */
    size_t sent_count;
    size_t sent_cap;
} scripted;

static const struct {
    const char *code;
    int status;
} error_kinds[] = {
    {"TIMEOUT", OMNI_ETIMEOUT},
    {"CONNECT_FAILED", OMNI_ECONNECT},
    {"TLS_ERROR", OMNI_ETLS},
    {"TRANSPORT_ERROR", OMNI_ETRANSPORT},
};

static void scripted_free(scripted *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++) {
        omni_http_response_free(s->entries[i].response);
        free(s->entries[i].message);
    }
    free(s->entries);
    for (size_t i = 0; i < s->sent_count; i++)
        omni_http_request_free(s->sent[i]);
    free(s->sent);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static void scripted_close(void *ctx)
{
    scripted_free(ctx);
}

static int bad_entry(size_t index, const char *fmt, const char *arg)
{
    char details[48];
    snprintf(details, sizeof(details), "{\"index\":%zu}", index);
    char msg[ERROR_MESSAGE_MAX];
    snprintf(msg, sizeof(msg), fmt, arg);
    return omni__err_details(OMNI_ECONFIG, details, "scripted transport: response [%zu]: %s",
                             index, msg);
}

static int parse_error_entry(entry *e, const cJSON *item, size_t index)
{
    const cJSON *kind = NULL, *message = NULL;
    for (const cJSON *c = item->child; c; c = c->next) {
        const char *key = c->string ? c->string : "";
        if (strcmp(key, "error") == 0 && !kind) {
            kind = c;
        } else if (strcmp(key, "message") == 0 && !message) {
            message = c;
        } else {
            return bad_entry(index, "unexpected or repeated key \"%.64s\" in an error entry",
                             key);
        }
    }
    if (!cJSON_IsString(kind))
        return bad_entry(index, "%s", "\"error\" must be a string");
    for (size_t k = 0; k < sizeof(error_kinds) / sizeof(error_kinds[0]); k++)
        if (strcmp(kind->valuestring, error_kinds[k].code) == 0)
            e->error = error_kinds[k].status;
    if (!e->error)
        return bad_entry(index,
                         "unknown error \"%.64s\" (expected TIMEOUT, CONNECT_FAILED, TLS_ERROR "
                         "or TRANSPORT_ERROR)",
                         kind->valuestring);
    if (message) {
        if (!cJSON_IsString(message))
            return bad_entry(index, "%s", "\"message\" must be a string");
        if (strlen(message->valuestring) > ERROR_MESSAGE_MAX)
            return bad_entry(index, "%s", "\"message\" is longer than 400 bytes");
        e->message = strdup(message->valuestring);
        if (!e->message)
            return omni__err(OMNI_ENOMEM, NULL);
    }
    return OMNI_OK;
}

static int parse_entry(entry *e, const cJSON *item, size_t index)
{
    if (!cJSON_IsObject(item))
        return bad_entry(index, "%s", "must be an object");
    if (cJSON_GetObjectItemCaseSensitive(item, "error"))
        return parse_error_entry(e, item, index);
    int rc = omni__http_response_from_cjson(&e->response, item);
    if (rc == OMNI_ENOMEM)
        return rc;
    if (rc) {
        char msg[ERROR_MESSAGE_MAX];
        snprintf(msg, sizeof(msg), "%s", omni_error_last_message());
        return bad_entry(index, "%s", msg);
    }
    return OMNI_OK;
}

int omni__scripted_open(omni_transport_hook *out, const char *json, size_t len)
{
    if (!json && len)
        return omni__err(OMNI_EINVAL, "scripted transport: responses JSON is NULL");
    cJSON *root;
    int rc = omni__json_parse(&root, json, len, OMNI__HTTP_JSON_MAX,
                              "scripted transport responses");
    if (rc == OMNI_EJSON || rc == OMNI_ETOOLARGE || rc == OMNI_ETOODEEP) {
        const omni_error *e = omni_error_last();
        char msg[ERROR_MESSAGE_MAX];
        snprintf(msg, sizeof(msg), "%s", e->message);
        char *details = e->details ? strdup(e->details) : NULL;
        rc = omni__err_details(OMNI_ECONFIG, details, "%s", msg);
        free(details);
        return rc;
    }
    if (rc)
        return rc;
    rc = omni__http_json_check_nul(json, len, "scripted transport responses");
    if (rc) {
        cJSON_Delete(root);
        return omni__err(OMNI_ECONFIG, "%s", omni_error_last_message());
    }
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return omni__err(OMNI_ECONFIG, "scripted transport: responses must be a JSON array");
    }
    scripted *s = calloc(1, sizeof(*s));
    if (!s) {
        cJSON_Delete(root);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s);
        cJSON_Delete(root);
        return omni__err(OMNI_ENOMEM, "scripted transport: cannot create a mutex");
    }
    size_t n = (size_t)cJSON_GetArraySize(root);
    s->entries = n ? calloc(n, sizeof(*s->entries)) : NULL;
    if (n && !s->entries) {
        scripted_free(s);
        cJSON_Delete(root);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    size_t i = 0;
    for (const cJSON *c = root->child; c; c = c->next, i++) {
        s->count = i + 1; /* so that scripted_free releases entry i */
        rc = parse_entry(&s->entries[i], c, i);
        if (rc) {
            scripted_free(s);
            cJSON_Delete(root);
            return rc;
        }
    }
    cJSON_Delete(root);
    omni_transport_hook hook = OMNI_TRANSPORT_HOOK_INIT;
    hook.ctx = s;
    hook.send = omni__scripted_send;
    hook.close = scripted_close;
    *out = hook;
    return OMNI_OK;
}

int omni__scripted_send(void *ctx, const omni_http_request *request,
                        omni_http_response *response)
{
    scripted *s = ctx;
    if (!s || !request || !response)
        return omni__err(OMNI_EINVAL, "scripted transport: NULL argument");
    omni_http_request *copy;
    int rc = omni__http_request_clone(&copy, request);
    if (rc)
        return rc;
    char host[256];
    omni__http_url_host(omni_http_request_url(request), host, sizeof(host));

    pthread_mutex_lock(&s->mu);
    if (s->sent_count == s->sent_cap) {
        size_t cap = s->sent_cap ? s->sent_cap * 2 : 8;
        omni_http_request **p = realloc(s->sent, cap * sizeof(*p));
        if (!p) {
            pthread_mutex_unlock(&s->mu);
            omni_http_request_free(copy);
            return omni__err(OMNI_ENOMEM, NULL);
        }
        s->sent = p;
        s->sent_cap = cap;
    }
    if (s->next >= s->count) {
        size_t used = s->count;
        /* Recorded too: the test wants to see the request that had no answer. */
        s->sent[s->sent_count++] = copy;
        pthread_mutex_unlock(&s->mu);
        return omni__err(OMNI_EEXHAUSTED,
                         "scripted transport: all %zu responses are used; no answer for %s %s",
                         used, omni_http_request_method(request), host);
    }
    const entry *e = &s->entries[s->next];
    if (e->response) {
        rc = omni__http_response_copy(response, e->response);
        if (rc) {
            pthread_mutex_unlock(&s->mu);
            omni_http_request_free(copy);
            return rc;
        }
    }
    s->next++;
    s->sent[s->sent_count++] = copy;
    pthread_mutex_unlock(&s->mu);
    if (e->response)
        return OMNI_OK;
    /* Entries are immutable once parsed: reading e after unlocking is safe. */
    if (e->message)
        return omni__err(e->error, "%s", e->message);
    return omni__err(e->error, "scripted %s for %s %s", omni_status_code(e->error),
                     omni_http_request_method(request), host);
}

int omni__scripted_sent(void *ctx, char **out, size_t *out_len)
{
    scripted *s = ctx;
    omni_buf b = OMNI_BUF_INIT;
    pthread_mutex_lock(&s->mu);
    omni__json_w_arr_begin(&b);
    for (size_t i = 0; i < s->sent_count; i++)
        omni__http_request_write_json(&b, s->sent[i]);
    omni__json_w_arr_end(&b);
    pthread_mutex_unlock(&s->mu);
    return omni__buf_detach(&b, out, out_len);
}
