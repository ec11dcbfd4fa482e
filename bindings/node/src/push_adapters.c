/*
 * Node-API wrappers of the push platform adapters (omni/push.h):
 *   pushNew(configJson) -> push handle
 *   pushBuild(push, messageJson, nowMs) -> request JSON text
 *   pushParse(push, platform, responseJson, nowMs) -> result JSON text
 *   pushTokenRequest(push, nowMs) -> request JSON text | null
 *   pushTokenResponse(push, responseJson, nowMs) -> undefined
 *   pushClose(push), pushIsClosed(push) -> boolean
 * and, for addon.c's Delivery, references that keep a push alive while it is
 * held (omni_node_push_acquire / _get / _release).
 * JSON arguments are strings or Uint8Arrays. The handle is a type-tagged
 * object wrapping the omni_push (freed by pushClose or the GC). addon.c's
 * helpers reach each wrapper as the callback data (no global state).
 */
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "args.h"
#include "push_adapters.h"


static const napi_type_tag push_tag = {0x6f6d6e6970757368ull, 0x4b1e7d2a9c3f5086ull};

typedef struct push_handle {
    omni_push *push; /* NULL once closed */
    omni_push *held; /* the object, freed when closed or collected and no holder is left */
    int refs;        /* holders (Delivery objects) */
    int finalized;   /* the JS object was collected */
} push_handle;

/* Frees what nobody can reach any more. */
static void push_settle(push_handle *p)
{
    if (p->refs > 0)
        return;
    if (!p->push || p->finalized) {
        omni_push_free(p->held);
        p->held = p->push = NULL;
    }
    if (p->finalized)
        free(p);
}

static void push_finalize(napi_env env, void *data, void *hint)
{
    (void)env;
    (void)hint;
    push_handle *p = data;
    p->finalized = 1;
    push_settle(p);
}

/* The handle in argv[i] (closed or not). */
static int get_handle(napi_env env, omni_node_args *a, int i, push_handle **out)
{
    napi_valuetype t;
    bool ok = false;
    napi_value v = a->argv[i];
    if (napi_typeof(env, v, &t) != napi_ok || t != napi_object ||
        napi_check_object_type_tag(env, v, &push_tag, &ok) != napi_ok || !ok ||
        napi_unwrap(env, v, (void **)out) != napi_ok) {
        a->h->throw_type(env, "expected a libomni push handle");
        return -1;
    }
    return 0;
}

/* The live omni_push in argv[0]. */
static int get_push(napi_env env, omni_node_args *a, omni_push **out)
{
    push_handle *p;
    if (get_handle(env, a, 0, &p))
        return -1;
    if (!p->push) {
        a->h->throw_invalid(env, "push is closed");
        return -1;
    }
    *out = p->push;
    return 0;
}

/* A string (NUL-terminated, owned) or Uint8Array (borrowed) argument. */
/* A time in Unix ms (a number). */
static int get_ms(napi_env env, omni_node_args *a, int i, int64_t *out)
{
    napi_valuetype t;
    double d = 0;
    if (napi_typeof(env, a->argv[i], &t) != napi_ok || t != napi_number ||
        napi_get_value_double(env, a->argv[i], &d) != napi_ok) {
        a->h->throw_type(env, "nowMs must be a number");
        return -1;
    }
    if (!(d >= -9007199254740991.0 && d <= 9007199254740991.0)) {
        a->h->throw_invalid(env, "nowMs must be a safe integer");
        return -1;
    }
    *out = (int64_t)d;
    return 0;
}

/* A response in JSON form, parsed. */
static int get_response(napi_env env, omni_node_args *a, int i, omni_http_response **out)
{
    const char *json;
    size_t len;
    if (omni_node_args_bytes(env, a, i, "response", 1, &json, &len))
        return -1;
    int rc = omni_http_response_from_json(out, json, len);
    if (rc) {
        a->h->throw_status(env, rc);
        return -1;
    }
    return 0;
}

/* A library-allocated text as a JS string (released), or the error thrown. */
static napi_value take_text(napi_env env, const omni_node_push_helpers *h, int rc, char *out,
                            size_t len)
{
    if (rc) {
        omni_free(out);
        return h->throw_status(env, rc);
    }
    napi_value s;
    napi_status st = napi_create_string_utf8(env, out, len, &s);
    omni_free(out);
    return st == napi_ok ? s : h->throw_napi(env);
}

/* A request as its JSON text (the request is released). */
static napi_value request_text(napi_env env, const omni_node_push_helpers *h,
                               omni_http_request *req)
{
    char *out = NULL;
    size_t len = 0;
    int rc = omni_http_request_to_json(&out, &len, req);
    omni_http_request_free(req);
    return take_text(env, h, rc, out, len);
}

static napi_value w_push_new(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    const char *json;
    size_t len;
    if (omni_node_args_get(env, info, &a) ||
        omni_node_args_bytes(env, &a, 0, "config", 1, &json, &len)) {
        omni_node_args_free(&a);
        return NULL;
    }
    omni_push *push = NULL;
    int rc = omni_push_new(&push, json, len);
    omni_node_args_free(&a);
    if (rc)
        return a.h->throw_status(env, rc);
    push_handle *p = calloc(1, sizeof(*p));
    if (!p) {
        omni_push_free(push);
        return a.h->throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
    }
    p->push = p->held = push;
    napi_value obj;
    if (napi_create_object(env, &obj) != napi_ok) {
        push_finalize(env, p, NULL);
        return a.h->throw_napi(env);
    }
    if (napi_type_tag_object(env, obj, &push_tag) != napi_ok ||
        napi_wrap(env, obj, p, push_finalize, NULL, NULL) != napi_ok) {
        push_finalize(env, p, NULL);
        return a.h->throw_napi(env);
    }
    return obj;
}

static napi_value w_push_build(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    omni_push *push;
    const char *json;
    size_t len;
    int64_t now = 0;
    if (omni_node_args_get(env, info, &a) || get_push(env, &a, &push) ||
        omni_node_args_bytes(env, &a, 1, "message", 1, &json, &len) || get_ms(env, &a, 2, &now)) {
        omni_node_args_free(&a);
        return NULL;
    }
    omni_http_request *req = NULL;
    int rc = omni_push_build(&req, push, json, len, now);
    omni_node_args_free(&a);
    if (rc)
        return a.h->throw_status(env, rc);
    return request_text(env, a.h, req);
}

static napi_value w_push_parse(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    omni_push *push;
    const char *platform;
    size_t plen;
    int64_t now = 0;
    omni_http_response *resp = NULL;
    if (omni_node_args_get(env, info, &a) || get_push(env, &a, &push) ||
        omni_node_args_bytes(env, &a, 1, "platform", 0, &platform, &plen) ||
        get_ms(env, &a, 3, &now) ||
        get_response(env, &a, 2, &resp)) {
        omni_node_args_free(&a);
        return NULL;
    }
    char *out = NULL;
    size_t len = 0;
    int rc = omni_push_parse(&out, &len, push, platform, resp, now);
    omni_http_response_free(resp);
    omni_node_args_free(&a);
    return take_text(env, a.h, rc, out, len);
}

static napi_value w_push_token_request(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    omni_push *push;
    int64_t now = 0;
    if (omni_node_args_get(env, info, &a) || get_push(env, &a, &push) || get_ms(env, &a, 1, &now)) {
        omni_node_args_free(&a);
        return NULL;
    }
    omni_http_request *req = NULL;
    int rc = omni_push_token_request(&req, push, now);
    omni_node_args_free(&a);
    if (rc)
        return a.h->throw_status(env, rc);
    if (!req) {
        napi_value nul;
        return napi_get_null(env, &nul) == napi_ok ? nul : a.h->throw_napi(env);
    }
    return request_text(env, a.h, req);
}

static napi_value w_push_token_response(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    omni_push *push;
    int64_t now = 0;
    omni_http_response *resp = NULL;
    if (omni_node_args_get(env, info, &a) || get_push(env, &a, &push) || get_ms(env, &a, 2, &now) ||
        get_response(env, &a, 1, &resp)) {
        omni_node_args_free(&a);
        return NULL;
    }
    int rc = omni_push_token_response(push, resp, now);
    omni_http_response_free(resp);
    omni_node_args_free(&a);
    if (rc)
        return a.h->throw_status(env, rc);
    return NULL; /* undefined */
}

static napi_value w_push_close(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    push_handle *p;
    if (omni_node_args_get(env, info, &a) || get_handle(env, &a, 0, &p))
        return NULL;
    p->push = NULL;
    push_settle(p);
    return NULL;
}

void *omni_node_push_acquire(napi_env env, napi_value v, const omni_node_push_helpers *h,
                             omni_push **out)
{
    omni_node_args a;
    memset(&a, 0, sizeof a);
    a.argv[0] = v;
    a.h = h;
    omni_push *push;
    if (get_push(env, &a, &push))
        return NULL;
    push_handle *p;
    napi_unwrap(env, v, (void **)&p);
    p->refs++;
    *out = push;
    return p;
}

omni_push *omni_node_push_get(void *ref)
{
    return ref ? ((push_handle *)ref)->push : NULL;
}

void omni_node_push_release(void *ref)
{
    push_handle *p = ref;
    if (p && p->refs > 0) {
        p->refs--;
        push_settle(p);
    }
}

static napi_value w_push_is_closed(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    push_handle *p;
    if (omni_node_args_get(env, info, &a) || get_handle(env, &a, 0, &p))
        return NULL;
    napi_value b;
    return napi_get_boolean(env, p->push == NULL, &b) == napi_ok ? b : a.h->throw_napi(env);
}

napi_status omni_node_push_adapters_register(napi_env env, napi_value exports,
                                             const omni_node_push_helpers *helpers)
{
    void *data = (void *)(uintptr_t)helpers;
    napi_property_descriptor fns[] = {
        {"pushNew", NULL, w_push_new, NULL, NULL, NULL, napi_enumerable, data},
        {"pushBuild", NULL, w_push_build, NULL, NULL, NULL, napi_enumerable, data},
        {"pushParse", NULL, w_push_parse, NULL, NULL, NULL, napi_enumerable, data},
        {"pushTokenRequest", NULL, w_push_token_request, NULL, NULL, NULL, napi_enumerable,
         data},
        {"pushTokenResponse", NULL, w_push_token_response, NULL, NULL, NULL, napi_enumerable,
         data},
        {"pushClose", NULL, w_push_close, NULL, NULL, NULL, napi_enumerable, data},
        {"pushIsClosed", NULL, w_push_is_closed, NULL, NULL, NULL, napi_enumerable, data},
    };
    return napi_define_properties(env, exports, sizeof(fns) / sizeof(fns[0]), fns);
}
