/*
 * Node-API wrappers of the asynchronous transport (omni/async.h) on Node's own
 * libuv loop (napi_get_uv_event_loop):
 *   asyncNew(optionsJson | null) -> handle
 *   asyncSend(handle, requestJson) -> Promise<response JSON text>
 *   asyncStats(handle) -> JSON text
 *   asyncPending(handle) -> number
 *   asyncClose(handle) -> Promise<undefined> (outstanding sends reject with CANCELED)
 *   asyncIsClosed(handle) -> boolean
 *
 * libomni links the system libuv (libuv1); loaded into node, its uv_* references
 * bind to the libuv node exports (the executable comes first in the symbol
 * lookup), so the transport's poll and timer handles are node's own kind on
 * node's loop. Nothing here blocks the loop. An idle transport's handles are
 * unreferenced, so it never keeps the process alive; while sends are in flight
 * they are referenced (as a pending socket is) and the handle object is held
 * from the GC. Answers are settled inside a callback scope, so promise
 * reactions run right after each one.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "async.h"

#define MAX_ARGS 2
#define STR_MAX (128u * 1024u * 1024u)

static const napi_type_tag async_tag = {0x6f6d6e6961737963ull, 0x2d7a4c1e9b0f3e55ull};

typedef struct node_async {
    omni_async *a; /* NULL once released */
    napi_env env;
    const omni_node_push_helpers *h;
    napi_ref self;  /* the handle object: weak, strong while sends or a close are pending */
    int strong;
    napi_async_context actx;
    napi_deferred close_deferred;
    size_t inflight;
    int in_js;   /* inside a call from JavaScript: no callback scope needed */
    int closing; /* asyncClose was called */
} node_async;

typedef struct send_req {
    node_async *na;
    napi_deferred deferred;
} send_req;

/* Holds the handle object while something will still settle a promise. */
static void keep_alive(node_async *na)
{
    int want = na->inflight > 0 || (na->closing && na->a);
    uint32_t count = 0;
    if (want && !na->strong) {
        if (napi_reference_ref(na->env, na->self, &count) == napi_ok)
            na->strong = 1;
    } else if (!want && na->strong) {
        if (napi_reference_unref(na->env, na->self, &count) == napi_ok)
            na->strong = 0;
    }
}

static void na_finalize(napi_env env, void *data, void *hint)
{
    (void)hint;
    node_async *na = data;
    /* Collected only while idle (see keep_alive): nothing is canceled here;
     * on node's loop the memory goes once libuv closed the handles. */
    omni_async_free(na->a);
    na->a = NULL;
    if (na->self)
        napi_delete_reference(env, na->self);
    napi_async_destroy(env, na->actx);
    free(na);
}

/* The OmniError for status (from the last error), as a value. */
static napi_value error_value(node_async *na, int status)
{
    napi_env env = na->env;
    napi_value err = NULL;
    na->h->throw_status(env, status);
    if (napi_get_and_clear_last_exception(env, &err) != napi_ok || !err) {
        napi_value msg;
        napi_create_string_utf8(env, omni_strerror(status), NAPI_AUTO_LENGTH, &msg);
        napi_create_error(env, NULL, msg, &err);
    }
    return err;
}

/* Runs the body of a libuv-side callback inside a handle scope and, outside
 * JavaScript, a callback scope (microtasks run when it closes). */
typedef struct scopes {
    napi_handle_scope hs;
    napi_callback_scope cs;
} scopes;

static int scopes_open(node_async *na, scopes *s)
{
    s->hs = NULL;
    s->cs = NULL;
    if (napi_open_handle_scope(na->env, &s->hs) != napi_ok)
        return -1;
    if (!na->in_js) {
        napi_value resource;
        if (napi_create_object(na->env, &resource) == napi_ok)
            napi_open_callback_scope(na->env, resource, na->actx, &s->cs);
    }
    return 0;
}

static void scopes_close(node_async *na, scopes *s)
{
    if (s->cs)
        napi_close_callback_scope(na->env, s->cs);
    napi_close_handle_scope(na->env, s->hs);
}

static void on_complete(void *user, const omni_http_response *resp, int status)
{
    send_req *sr = user;
    node_async *na = sr->na;
    napi_env env = na->env;
    scopes s;
    if (scopes_open(na, &s) == 0) {
        napi_value v = NULL;
        if (status == OMNI_OK) {
            char *json = NULL;
            size_t len = 0;
            status = omni_http_response_to_json(&json, &len, resp);
            if (status == OMNI_OK && napi_create_string_utf8(env, json, len, &v) != napi_ok)
                v = NULL;
            omni_free(json);
        }
        if (v)
            napi_resolve_deferred(env, sr->deferred, v);
        else
            napi_reject_deferred(env, sr->deferred,
                                 error_value(na, status ? status : OMNI_ENOMEM));
    }
    na->inflight--;
    keep_alive(na);
    if (s.hs)
        scopes_close(na, &s);
    free(sr);
}

static void on_closed(void *user)
{
    node_async *na = user;
    scopes s;
    int open = scopes_open(na, &s) == 0;
    if (open && na->close_deferred) {
        napi_value undef;
        napi_get_undefined(na->env, &undef);
        napi_resolve_deferred(na->env, na->close_deferred, undef);
    }
    na->close_deferred = NULL;
    omni_async_free(na->a); /* released once this callback returns */
    na->a = NULL;
    keep_alive(na);
    if (open)
        scopes_close(na, &s);
}

/* ---- arguments ---------------------------------------------------------------- */

typedef struct as_args {
    size_t argc;
    napi_value argv[MAX_ARGS];
    const omni_node_push_helpers *h;
    char *owned;
} as_args;

static int get_args(napi_env env, napi_callback_info info, as_args *a)
{
    memset(a, 0, sizeof(*a));
    a->argc = MAX_ARGS;
    void *data = NULL;
    if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, &data) != napi_ok)
        return -1;
    a->h = data;
    for (size_t i = a->argc; i < MAX_ARGS; i++)
        napi_get_undefined(env, &a->argv[i]);
    return 0;
}

static int is_nullish(napi_env env, napi_value v)
{
    napi_valuetype t;
    return napi_typeof(env, v, &t) != napi_ok || t == napi_undefined || t == napi_null;
}

/* A string argument as UTF-8 (a->owned); 0, or -1 after throwing. */
static int get_text(napi_env env, as_args *a, int i, const char *name, const char **out,
                    size_t *out_len)
{
    napi_valuetype t;
    char msg[96];
    if (napi_typeof(env, a->argv[i], &t) != napi_ok || t != napi_string) {
        snprintf(msg, sizeof(msg), "%s must be a string", name);
        a->h->throw_type(env, msg);
        return -1;
    }
    size_t n = 0;
    if (napi_get_value_string_utf8(env, a->argv[i], NULL, 0, &n) != napi_ok) {
        a->h->throw_napi(env);
        return -1;
    }
    if (n > STR_MAX) {
        snprintf(msg, sizeof(msg), "%s is too long", name);
        a->h->throw_invalid(env, msg);
        return -1;
    }
    char *s = malloc(n + 1);
    if (!s) {
        a->h->throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
        return -1;
    }
    if (napi_get_value_string_utf8(env, a->argv[i], s, n + 1, &n) != napi_ok) {
        free(s);
        a->h->throw_napi(env);
        return -1;
    }
    a->owned = s;
    *out = s;
    *out_len = n;
    return 0;
}

static node_async *get_handle(napi_env env, as_args *a)
{
    bool ok = false;
    void *p = NULL;
    napi_valuetype t;
    if (napi_typeof(env, a->argv[0], &t) != napi_ok || t != napi_object ||
        napi_check_object_type_tag(env, a->argv[0], &async_tag, &ok) != napi_ok || !ok ||
        napi_unwrap(env, a->argv[0], &p) != napi_ok || !p) {
        a->h->throw_type(env, "not an AsyncTransport handle");
        return NULL;
    }
    return p;
}

/* ---- wrappers ------------------------------------------------------------------- */

static napi_value w_async_new(napi_env env, napi_callback_info info)
{
    as_args a;
    const char *json = NULL;
    size_t len = 0;
    if (get_args(env, info, &a))
        return a.h ? a.h->throw_napi(env) : NULL;
    if (!is_nullish(env, a.argv[0]) && get_text(env, &a, 0, "options", &json, &len))
        return NULL;
    struct uv_loop_s *loop = NULL;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) {
        free(a.owned);
        return a.h->throw_napi(env);
    }
    omni_async *as = NULL;
    int rc = omni_async_new(&as, loop, json, len);
    free(a.owned);
    if (rc)
        return a.h->throw_status(env, rc);
    node_async *na = calloc(1, sizeof(*na));
    if (!na) {
        omni_async_free(as);
        return a.h->throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
    }
    na->a = as;
    na->env = env;
    na->h = a.h;
    napi_value obj, name;
    if (napi_create_string_utf8(env, "omni.AsyncTransport", NAPI_AUTO_LENGTH, &name) != napi_ok ||
        napi_async_init(env, NULL, name, &na->actx) != napi_ok) {
        omni_async_free(as);
        free(na);
        return a.h->throw_napi(env);
    }
    if (napi_create_object(env, &obj) != napi_ok ||
        napi_type_tag_object(env, obj, &async_tag) != napi_ok) {
        na_finalize(env, na, NULL);
        return a.h->throw_napi(env);
    }
    if (napi_wrap(env, obj, na, na_finalize, NULL, NULL) != napi_ok) {
        na_finalize(env, na, NULL);
        return a.h->throw_napi(env);
    }
    if (napi_create_reference(env, obj, 0, &na->self) != napi_ok)
        return a.h->throw_napi(env);
    return obj;
}

static napi_value w_async_send(napi_env env, napi_callback_info info)
{
    as_args a;
    const char *json;
    size_t len;
    if (get_args(env, info, &a))
        return a.h ? a.h->throw_napi(env) : NULL;
    node_async *na = get_handle(env, &a);
    if (!na || get_text(env, &a, 1, "request", &json, &len))
        return NULL;
    napi_deferred d;
    napi_value promise;
    if (napi_create_promise(env, &d, &promise) != napi_ok) {
        free(a.owned);
        return a.h->throw_napi(env);
    }
    omni_http_request *req = NULL;
    int rc = omni_http_request_from_json(&req, json, len);
    free(a.owned);
    send_req *sr = NULL;
    if (!rc && !na->a)
        rc = omni_error_set(OMNI_ECANCELED, "the AsyncTransport is closed", -1);
    if (!rc) {
        sr = malloc(sizeof(*sr));
        if (!sr)
            rc = omni_error_set(OMNI_ENOMEM, NULL, -1);
    }
    if (!rc) {
        sr->na = na;
        sr->deferred = d;
        rc = omni_async_send(na->a, req, on_complete, sr);
    }
    omni_http_request_free(req);
    if (rc) {
        free(sr);
        napi_reject_deferred(env, d, error_value(na, rc));
        return promise;
    }
    na->inflight++;
    keep_alive(na);
    return promise;
}

static napi_value w_async_stats(napi_env env, napi_callback_info info)
{
    as_args a;
    if (get_args(env, info, &a))
        return a.h ? a.h->throw_napi(env) : NULL;
    node_async *na = get_handle(env, &a);
    if (!na)
        return NULL;
    if (!na->a)
        return a.h->throw_status(env,
                                 omni_error_set(OMNI_ECANCELED, "the AsyncTransport is closed", 0));
    char *out = NULL;
    size_t len = 0;
    int rc = omni_async_stats(na->a, &out, &len);
    if (rc)
        return a.h->throw_status(env, rc);
    napi_value v;
    napi_status st = napi_create_string_utf8(env, out, len, &v);
    omni_free(out);
    return st == napi_ok ? v : a.h->throw_napi(env);
}

static napi_value w_async_pending(napi_env env, napi_callback_info info)
{
    as_args a;
    if (get_args(env, info, &a))
        return a.h ? a.h->throw_napi(env) : NULL;
    node_async *na = get_handle(env, &a);
    if (!na)
        return NULL;
    napi_value v;
    if (napi_create_double(env, (double)omni_async_pending(na->a), &v) != napi_ok)
        return a.h->throw_napi(env);
    return v;
}

static napi_value w_async_close(napi_env env, napi_callback_info info)
{
    as_args a;
    if (get_args(env, info, &a))
        return a.h ? a.h->throw_napi(env) : NULL;
    node_async *na = get_handle(env, &a);
    if (!na)
        return NULL;
    napi_deferred d;
    napi_value promise, undef;
    if (napi_create_promise(env, &d, &promise) != napi_ok)
        return a.h->throw_napi(env);
    if (na->closing || !na->a) { /* already closed or closing: nothing more to wait for */
        napi_get_undefined(env, &undef);
        napi_resolve_deferred(env, d, undef);
        return promise;
    }
    na->closing = 1;
    na->close_deferred = d;
    keep_alive(na);
    na->in_js = 1; /* the cancellations settle their promises now */
    omni_async_close(na->a, on_closed, na);
    na->in_js = 0;
    return promise;
}

static napi_value w_async_is_closed(napi_env env, napi_callback_info info)
{
    as_args a;
    if (get_args(env, info, &a))
        return a.h ? a.h->throw_napi(env) : NULL;
    node_async *na = get_handle(env, &a);
    if (!na)
        return NULL;
    napi_value v;
    if (napi_get_boolean(env, na->closing || !na->a, &v) != napi_ok)
        return a.h->throw_napi(env);
    return v;
}

/* ---- pushNotification through the transport ---------------------------------------- */

typedef struct notify_req {
    node_async *na;
    napi_deferred deferred;
    napi_ref keep;
    omni_node_release_fn release;
    void *release_ctx;
} notify_req;

static void on_notified(void *user, const char *json, size_t len, int status)
{
    notify_req *nr = user;
    node_async *na = nr->na;
    napi_env env = na->env;
    scopes s;
    if (scopes_open(na, &s) == 0) {
        napi_value v = NULL;
        if (status == OMNI_OK && napi_create_string_utf8(env, json, len, &v) != napi_ok)
            v = NULL;
        if (v)
            napi_resolve_deferred(env, nr->deferred, v);
        else
            napi_reject_deferred(env, nr->deferred,
                                 error_value(na, status ? status : OMNI_ENOMEM));
    }
    napi_delete_reference(env, nr->keep);
    nr->release(nr->release_ctx);
    na->inflight--;
    keep_alive(na);
    if (s.hs)
        scopes_close(na, &s);
    free(nr);
}

napi_value omni_node_async_notify(napi_env env, napi_value transport, omni_delivery *d,
                                  napi_value keep, const char *event, size_t len,
                                  const omni_node_push_helpers *helpers,
                                  omni_node_release_fn release, void *release_ctx)
{
    as_args a;
    memset(&a, 0, sizeof a);
    a.argv[0] = transport;
    a.h = helpers;
    node_async *na = get_handle(env, &a);
    napi_deferred deferred;
    napi_value promise;
    if (!na || napi_create_promise(env, &deferred, &promise) != napi_ok) {
        release(release_ctx);
        return na ? helpers->throw_napi(env) : NULL;
    }
    notify_req *nr = calloc(1, sizeof(*nr));
    int rc = nr ? OMNI_OK : omni_error_set(OMNI_ENOMEM, NULL, -1);
    if (!rc && (!na->a || na->closing))
        rc = omni_error_set(OMNI_ECANCELED, "the AsyncTransport is closed", -1);
    if (!rc && napi_create_reference(env, keep, 1, &nr->keep) != napi_ok)
        rc = omni_error_set(OMNI_ENOMEM, NULL, -1);
    if (rc) {
        free(nr);
        release(release_ctx);
        napi_reject_deferred(env, deferred, error_value(na, rc));
        return promise;
    }
    nr->na = na;
    nr->deferred = deferred;
    nr->release = release;
    nr->release_ctx = release_ctx;
    na->inflight++;
    keep_alive(na);
    na->in_js = 1; /* a batch with nothing to send settles at once */
    rc = omni_push_notify_async(na->a, d, event, len, on_notified, nr);
    na->in_js = 0;
    if (rc) { /* never started: settle here */
        napi_delete_reference(env, nr->keep);
        release(release_ctx);
        na->inflight--;
        keep_alive(na);
        free(nr);
        napi_reject_deferred(env, deferred, error_value(na, rc));
    }
    return promise;
}

napi_status omni_node_async_register(napi_env env, napi_value exports,
                                     const omni_node_push_helpers *helpers)
{
    void *data = (void *)(uintptr_t)helpers;
    napi_property_descriptor fns[] = {
        {"asyncNew", NULL, w_async_new, NULL, NULL, NULL, napi_enumerable, data},
        {"asyncSend", NULL, w_async_send, NULL, NULL, NULL, napi_enumerable, data},
        {"asyncStats", NULL, w_async_stats, NULL, NULL, NULL, napi_enumerable, data},
        {"asyncPending", NULL, w_async_pending, NULL, NULL, NULL, napi_enumerable, data},
        {"asyncClose", NULL, w_async_close, NULL, NULL, NULL, napi_enumerable, data},
        {"asyncIsClosed", NULL, w_async_is_closed, NULL, NULL, NULL, napi_enumerable, data},
    };
    return napi_define_properties(env, exports, sizeof(fns) / sizeof(fns[0]), fns);
}
