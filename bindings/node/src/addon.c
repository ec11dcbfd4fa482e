/*
 * Node-API addon (NAPI_VERSION 8): one thin C wrapper per libomni function,
 * plus the trampoline that runs template helpers written in JavaScript.
 * index.js builds the friendly API (camelCase names, JSON parsing, defaults)
 * on top of these; errors are thrown by throw_status() as OmniError objects.
 */
#include <node_api.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "async.h"
#include "config.h"
#include "devices.h"
#include "push.h"
#include "push_adapters.h"

/* ---- per-environment data --------------------------------------------- */

struct active_call;

typedef struct addon_data {
    napi_ref error_ctor;       /* OmniError class registered by index.js, or NULL */
    napi_ref helper_dispatch;  /* index.js' helper dispatcher, or NULL */
    double next_call_id;       /* ids of host helper calls (options.fn) */
    struct active_call *calls; /* the host helper calls in progress, innermost first */
    int render_depth;          /* renders in progress (nested through helpers) */
} addon_data;

static void addon_data_free(napi_env env, void *data, void *hint)
{
    (void)hint;
    addon_data *d = data;
    if (d->error_ctor)
        napi_delete_reference(env, d->error_ctor);
    if (d->helper_dispatch)
        napi_delete_reference(env, d->helper_dispatch);
    free(d);
}

/* ---- errors ------------------------------------------------------------- */

/* A Node-API call failed: make sure an exception is pending. Returns NULL. */
static napi_value throw_napi(napi_env env)
{
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) {
        const napi_extended_error_info *info = NULL;
        napi_get_last_error_info(env, &info);
        const char *msg = "Node-API call failed";
        if (info && info->error_message)
            msg = info->error_message;
        napi_throw_error(env, "ERR_OMNI_NAPI", msg);
    }
    return NULL;
}

#define NAPI_CALL(env, call)                                                                   \
    do {                                                                                       \
        if ((call) != napi_ok)                                                                 \
            return throw_napi(env);                                                            \
    } while (0)

/* JSON.parse(text); undefined when text is not valid JSON. */
static napi_value json_parse(napi_env env, const char *text, size_t len)
{
    napi_value global, json, parse, str, result = NULL;
    if (napi_get_global(env, &global) != napi_ok ||
        napi_get_named_property(env, global, "JSON", &json) != napi_ok ||
        napi_get_named_property(env, json, "parse", &parse) != napi_ok ||
        napi_create_string_utf8(env, text, len, &str) != napi_ok ||
        napi_call_function(env, json, parse, 1, &str, &result) != napi_ok) {
        napi_value ignored;
        napi_get_and_clear_last_exception(env, &ignored);
        napi_get_undefined(env, &result);
    }
    return result;
}

static void set_str(napi_env env, napi_value obj, const char *name, const char *value)
{
    napi_value v;
    if (napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v) == napi_ok)
        napi_set_named_property(env, obj, name, v);
}

/*
 * The single error helper: builds an OmniError (or a plain Error before
 * index.js registered the class) with message, code, status, retryable and
 * details (parsed) from the arguments.
 */
static napi_value make_error(napi_env env, int status, const char *code, const char *message,
                             int retryable, const char *details)
{
    napi_value msg, err = NULL, ctor = NULL, v;
    addon_data *d = NULL;
    if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) != napi_ok)
        return NULL;
    napi_get_instance_data(env, (void **)&d);
    if (d && d->error_ctor)
        napi_get_reference_value(env, d->error_ctor, &ctor);
    if (!ctor || napi_new_instance(env, ctor, 1, &msg, &err) != napi_ok) {
        napi_value ignored;
        napi_get_and_clear_last_exception(env, &ignored);
        if (napi_create_error(env, NULL, msg, &err) != napi_ok)
            return NULL;
    }
    set_str(env, err, "code", code);
    set_str(env, err, "message", message);
    if (napi_create_int32(env, status, &v) == napi_ok)
        napi_set_named_property(env, err, "status", v);
    if (napi_get_boolean(env, retryable != 0, &v) == napi_ok)
        napi_set_named_property(env, err, "retryable", v);
    if (details)
        v = json_parse(env, details, strlen(details));
    else
        napi_get_null(env, &v);
    napi_set_named_property(env, err, "details", v);
    return err;
}

/* The error for `status` from the calling thread's last libomni error. */
static napi_value make_status_error(napi_env env, int status)
{
    const omni_error *e = omni_error_last();
    if (e && e->status == status)
        return make_error(env, status, e->code, e->message, e->retryable, e->details);
    return make_error(env, status, omni_status_code(status), omni_strerror(status), 0, NULL);
}

static napi_value throw_value(napi_env env, napi_value err)
{
    if (err)
        napi_throw(env, err);
    else
        throw_napi(env);
    return NULL;
}

static napi_value throw_status(napi_env env, int status)
{
    return throw_value(env, make_status_error(env, status));
}

/* An INVALID_ARGUMENT error found by the addon itself. */
static napi_value throw_invalid(napi_env env, const char *message)
{
    return throw_value(env, make_error(env, OMNI_EINVAL, omni_status_code(OMNI_EINVAL), message,
                                       0, NULL));
}

static napi_value throw_type(napi_env env, const char *message)
{
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
    return NULL;
}

/* ---- arguments ------------------------------------------------------------- */

#define MAX_ARGS 10

typedef struct args {
    size_t argc;
    napi_value argv[MAX_ARGS];
} args;

static int get_args(napi_env env, napi_callback_info info, args *a)
{
    a->argc = MAX_ARGS;
    if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, NULL) != napi_ok) {
        throw_napi(env);
        return -1;
    }
    napi_value undef;
    napi_get_undefined(env, &undef);
    for (size_t i = a->argc; i < MAX_ARGS; i++)
        a->argv[i] = undef;
    return 0;
}

static int is_nullish(napi_env env, napi_value v)
{
    napi_valuetype t;
    return napi_typeof(env, v, &t) == napi_ok && (t == napi_undefined || t == napi_null);
}

/* Bytes from a Buffer, TypedArray, DataView, ArrayBuffer or string (UTF-8). */
typedef struct bytes_arg {
    const char *data;
    size_t len;
    char *owned;
} bytes_arg;

static void bytes_free(bytes_arg *b)
{
    free(b->owned);
    b->owned = NULL;
}

static size_t typedarray_elem_size(napi_typedarray_type t)
{
    switch (t) {
    case napi_int16_array:
    case napi_uint16_array: return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array: return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array: return 8;
    default: return 1;
    }
}

static int get_bytes(napi_env env, napi_value v, bytes_arg *out, const char *what)
{
    static const char empty[1] = "";
    napi_valuetype t;
    bool is = false;
    void *data = NULL;
    size_t len = 0;
    out->data = empty;
    out->len = 0;
    out->owned = NULL;
    if (napi_typeof(env, v, &t) != napi_ok) {
        throw_napi(env);
        return -1;
    }
    if (t == napi_string) {
        if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
            throw_napi(env);
            return -1;
        }
        char *buf = malloc(len + 1);
        if (!buf) {
            throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
            return -1;
        }
        if (napi_get_value_string_utf8(env, v, buf, len + 1, &len) != napi_ok) {
            free(buf);
            throw_napi(env);
            return -1;
        }
        out->data = out->owned = buf;
        out->len = len;
        return 0;
    }
    if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
        napi_typedarray_type type;
        size_t count;
        napi_value ab;
        size_t offset;
        if (napi_get_typedarray_info(env, v, &type, &count, &data, &ab, &offset) != napi_ok) {
            throw_napi(env);
            return -1;
        }
        len = count * typedarray_elem_size(type);
    } else if (napi_is_dataview(env, v, &is) == napi_ok && is) {
        napi_value ab;
        size_t offset;
        if (napi_get_dataview_info(env, v, &len, &data, &ab, &offset) != napi_ok) {
            throw_napi(env);
            return -1;
        }
    } else if (napi_is_arraybuffer(env, v, &is) == napi_ok && is) {
        if (napi_get_arraybuffer_info(env, v, &data, &len) != napi_ok) {
            throw_napi(env);
            return -1;
        }
    } else {
        char msg[128];
        snprintf(msg, sizeof(msg), "%s must be a Buffer, Uint8Array or string", what);
        throw_type(env, msg);
        return -1;
    }
    if (data && len > 0) {
        out->data = data;
        out->len = len;
    }
    return 0;
}

/* A string without NUL characters, copied (free it). nullable: undefined
 * and null give *out = NULL. */
static int get_cstr(napi_env env, napi_value v, char **out, const char *what, int nullable)
{
    napi_valuetype t;
    size_t len = 0;
    char msg[128];
    *out = NULL;
    if (napi_typeof(env, v, &t) != napi_ok) {
        throw_napi(env);
        return -1;
    }
    if (nullable && (t == napi_undefined || t == napi_null))
        return 0;
    if (t != napi_string) {
        snprintf(msg, sizeof(msg), "%s must be a string", what);
        throw_type(env, msg);
        return -1;
    }
    if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
        throw_napi(env);
        return -1;
    }
    char *buf = malloc(len + 1);
    if (!buf) {
        throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
        return -1;
    }
    if (napi_get_value_string_utf8(env, v, buf, len + 1, &len) != napi_ok) {
        free(buf);
        throw_napi(env);
        return -1;
    }
    if (strlen(buf) != len) {
        free(buf);
        snprintf(msg, sizeof(msg), "%s must not contain NUL characters", what);
        throw_invalid(env, msg);
        return -1;
    }
    *out = buf;
    return 0;
}

/* A signed 64-bit integer from a number (an integer) or a BigInt. */
static int get_i64(napi_env env, napi_value v, int64_t *out, const char *what)
{
    napi_valuetype t;
    char msg[128];
    if (napi_typeof(env, v, &t) != napi_ok) {
        throw_napi(env);
        return -1;
    }
    if (t == napi_bigint) {
        bool lossless = false;
        if (napi_get_value_bigint_int64(env, v, out, &lossless) != napi_ok) {
            throw_napi(env);
            return -1;
        }
        if (!lossless) {
            snprintf(msg, sizeof(msg), "%s is out of the int64 range", what);
            throw_invalid(env, msg);
            return -1;
        }
        return 0;
    }
    if (t == napi_number) {
        double d;
        napi_get_value_double(env, v, &d);
        if (!isfinite(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0 ||
            (double)(int64_t)d != d) {
            snprintf(msg, sizeof(msg), "%s must be an integer", what);
            throw_invalid(env, msg);
            return -1;
        }
        *out = (int64_t)d;
        return 0;
    }
    snprintf(msg, sizeof(msg), "%s must be a number or a BigInt", what);
    throw_type(env, msg);
    return -1;
}

/* An unsigned 64-bit integer from a number (an integer up to 2^53) or a BigInt. */
static int get_u64(napi_env env, napi_value v, uint64_t *out, const char *what)
{
    napi_valuetype t;
    char msg[128];
    if (napi_typeof(env, v, &t) != napi_ok) {
        throw_napi(env);
        return -1;
    }
    if (t == napi_bigint) {
        bool lossless = false;
        if (napi_get_value_bigint_uint64(env, v, out, &lossless) != napi_ok) {
            throw_napi(env);
            return -1;
        }
        if (!lossless) {
            snprintf(msg, sizeof(msg), "%s is out of the uint64 range", what);
            throw_invalid(env, msg);
            return -1;
        }
        return 0;
    }
    if (t == napi_number) {
        double d;
        napi_get_value_double(env, v, &d);
        if (!isfinite(d) || d < 0 || d > 9007199254740991.0 || (double)(uint64_t)d != d) {
            snprintf(msg, sizeof(msg), "%s must be a non-negative integer (BigInt above 2^53)",
                     what);
            throw_invalid(env, msg);
            return -1;
        }
        *out = (uint64_t)d;
        return 0;
    }
    snprintf(msg, sizeof(msg), "%s must be a number or a BigInt", what);
    throw_type(env, msg);
    return -1;
}

/* ---- results --------------------------------------------------------------- */

static napi_value make_string(napi_env env, const char *s, size_t len)
{
    napi_value v;
    NAPI_CALL(env, napi_create_string_utf8(env, s ? s : "", s ? len : 0, &v));
    return v;
}

static napi_value make_buffer(napi_env env, const void *data, size_t len)
{
    napi_value v;
    void *copy;
    NAPI_CALL(env, napi_create_buffer_copy(env, len, len ? data : "", &copy, &v));
    return v;
}

/* A library-allocated result as a string (or Buffer), released with omni_free. */
static napi_value take_string(napi_env env, char *s, size_t len)
{
    napi_value v = make_string(env, s, len);
    omni_free(s);
    return v;
}

static napi_value take_buffer(napi_env env, char *s, size_t len)
{
    napi_value v = make_buffer(env, s, len);
    omni_free(s);
    return v;
}

static napi_value make_i64(napi_env env, int64_t x)
{
    napi_value v;
    NAPI_CALL(env, napi_create_int64(env, x, &v));
    return v;
}

/* uint64 as a number when exact (<= 2^53 - 1), else a BigInt. */
static napi_value make_u64(napi_env env, uint64_t x)
{
    napi_value v;
    if (x <= 9007199254740991ull)
        NAPI_CALL(env, napi_create_double(env, (double)x, &v));
    else
        NAPI_CALL(env, napi_create_bigint_uint64(env, x, &v));
    return v;
}

static napi_value make_undefined(napi_env env)
{
    napi_value v;
    napi_get_undefined(env, &v);
    return v;
}

/* ---- handles: engines, stores, transports, templates, data ------------------- */

enum {
    KIND_ENGINE = 1,
    KIND_STORE = 2,
    KIND_TRANSPORT = 3,
    KIND_TEMPLATE = 4,
    KIND_DATA = 5,
    KIND_INBOUND = 6,
    KIND_RULES = 7,
    KIND_ANALYZER = 8,
    KIND_PREROUTE = 9,
    KIND_OUTBOUND = 10,
    KIND_DELIVERY = 11,
    KIND_DELIVERY_JOB = 12,
    KIND_ORCHESTRATOR = 13,
    KIND_LAST = KIND_ORCHESTRATOR
};

static const char *kind_names[] = {"",        "engine",  "store",    "transport", "template",
                                   "data",    "inbound", "rules",    "analyzer",  "preroute",
                                   "outbound", "delivery", "delivery job", "orchestrator"};

static const napi_type_tag kind_tags[] = {
    {0, 0},
    {0x6f6d6e69656e6731ull, 0x9a3c1f0e5b7d2a41ull}, /* engine */
    {0x6f6d6e6973746f72ull, 0x2e8b4c7a1d9f0362ull}, /* store */
    {0x6f6d6e697472616eull, 0x5c1a7e3b9d4f8026ull}, /* transport */
    {0x6f6d6e6974706c31ull, 0x7b2d9e4c1a6f3805ull}, /* template */
    {0x6f6d6e6964617461ull, 0x3f8a1c6e9d2b5047ull}, /* data */
    {0x6f6d6e69696e6264ull, 0x4d7e2a9c1b5f3086ull}, /* inbound */
    {0x6f6d6e6972756c65ull, 0x1c7f3a5e9b2d4068ull}, /* rules */
    {0x6f6d6e69616e6c7aull, 0x6a2e8d1f4c9b3057ull}, /* analyzer */
    {0x6f6d6e6970726572ull, 0x3b9f6c2a7e1d5084ull}, /* preroute */
    {0x6f6d6e696f757462ull, 0x5e2a7c1d9b3f4068ull}, /* outbound */
    {0x6f6d6e69646c7679ull, 0x8c3e1a7f5b2d9046ull}, /* delivery */
    {0x6f6d6e69646a6f62ull, 0x2f9b6d3a8e1c7054ull}, /* delivery job */
    {0x6f6d6e696f726368ull, 0x7d3a1e9c5b2f4068ull}, /* orchestrator */
};

static void tmpl_native_free(void *p);
static void orch_native_free(void *p);
static void dlv_native_free(void *p);
static void dlv_job_native_free(void *p);

/*
 * The native side of a JS handle object. An engine's handle is shared by
 * the store / transport handles borrowed from it (refs counts the JS object
 * plus each borrower), so finalizers may run in any order: a borrowed
 * handle stays valid memory while it exists and reports "closed" once its
 * engine is closed or collected.
 */
typedef struct handle {
    int kind;
    int refs;
    void *ptr;             /* NULL once closed */
    struct handle *parent; /* the engine of a borrowed store / transport */
    int busy;              /* renders using a template / data right now */
    void *pending;         /* closed while busy: released when busy drops to 0 */
} handle;

static void handle_release(handle *h)
{
    if (--h->refs == 0)
        free(h);
}

static void kind_free(int kind, void *p)
{
    switch (kind) {
    case KIND_ENGINE: omni_engine_free(p); break;
    case KIND_STORE: omni_store_free(p); break;
    case KIND_TRANSPORT: omni_transport_free(p); break;
    case KIND_TEMPLATE: tmpl_native_free(p); break;
    case KIND_DATA: omni_data_free(p); break;
    case KIND_INBOUND: omni_inbound_free(p); break;
    case KIND_RULES: omni_rules_free(p); break;
    case KIND_ANALYZER: omni_analyzer_free(p); break;
    case KIND_PREROUTE: omni_preroute_free(p); break;
    case KIND_OUTBOUND: omni_outbound_free(p); break;
    case KIND_DELIVERY: dlv_native_free(p); break;
    case KIND_DELIVERY_JOB: dlv_job_native_free(p); break;
    case KIND_ORCHESTRATOR: orch_native_free(p); break;
    default: break;
    }
}

static void handle_close(handle *h)
{
    void *p = h->ptr;
    h->ptr = NULL;
    if (!p || h->parent)
        return; /* closed already, or borrowed: the engine owns it */
    if (h->busy > 0) {
        h->pending = p; /* a render (a helper closed it) still uses it */
        return;
    }
    kind_free(h->kind, p);
}

/* A render that used h ended: release h's object if it was closed meanwhile. */
static void handle_unbusy(handle *h)
{
    if (!h || --h->busy > 0 || !h->pending)
        return;
    void *p = h->pending;
    h->pending = NULL;
    kind_free(h->kind, p);
}

static void handle_finalize(napi_env env, void *data, void *hint)
{
    (void)env;
    (void)hint;
    handle *h = data;
    handle_close(h);
    if (h->parent)
        handle_release(h->parent);
    handle_release(h);
}

static void *handle_ptr(const handle *h)
{
    if (!h->ptr || (h->parent && !h->parent->ptr))
        return NULL;
    return h->ptr;
}

/* Wraps ptr in a new JS object. On failure ptr is released (if owned). */
static napi_value new_handle(napi_env env, int kind, void *ptr, handle *parent,
                             napi_value parent_obj)
{
    napi_value obj;
    handle *h = calloc(1, sizeof(*h));
    if (!h) {
        if (!parent) {
            handle tmp = {kind, 1, ptr, NULL, 0, NULL};
            handle_close(&tmp);
        }
        return throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
    }
    h->kind = kind;
    h->refs = 1;
    h->ptr = ptr;
    h->parent = parent;
    if (parent)
        parent->refs++;
    if (napi_create_object(env, &obj) != napi_ok ||
        napi_type_tag_object(env, obj, &kind_tags[kind]) != napi_ok ||
        napi_wrap(env, obj, h, handle_finalize, NULL, NULL) != napi_ok) {
        handle_finalize(env, h, NULL);
        return throw_napi(env);
    }
    if (parent_obj) {
        /* keeps the engine's JS object (and so the engine) alive */
        napi_property_descriptor prop = {"engine", NULL, NULL, NULL, NULL, parent_obj,
                                         napi_default, NULL};
        napi_define_properties(env, obj, 1, &prop);
    }
    return obj;
}

/* The handle of kind `kind` in v (NULL and no exception when nullable and v
 * is undefined/null). Returns -1 with an exception pending on error. */
static int get_handle(napi_env env, napi_value v, int kind, handle **out, int nullable)
{
    bool ok = false;
    napi_valuetype t;
    char msg[96];
    *out = NULL;
    if (nullable && is_nullish(env, v))
        return 0;
    if (napi_typeof(env, v, &t) != napi_ok || t != napi_object ||
        napi_check_object_type_tag(env, v, &kind_tags[kind], &ok) != napi_ok || !ok ||
        napi_unwrap(env, v, (void **)out) != napi_ok) {
        snprintf(msg, sizeof(msg), "expected a libomni %s handle", kind_names[kind]);
        throw_type(env, msg);
        return -1;
    }
    return 0;
}

/* The live pointer of a handle argument, or NULL with an exception. */
static void *live_ptr(napi_env env, napi_value v, int kind, handle **hout)
{
    handle *h;
    char msg[64];
    if (get_handle(env, v, kind, &h, 0))
        return NULL;
    void *p = handle_ptr(h);
    if (!p) {
        snprintf(msg, sizeof(msg), "%s is closed", kind_names[kind]);
        throw_invalid(env, msg);
        return NULL;
    }
    if (hout)
        *hout = h;
    return p;
}

/* An optional engine argument: *out NULL for undefined/null. */
static int get_engine_opt(napi_env env, napi_value v, const omni_engine **out)
{
    *out = NULL;
    if (is_nullish(env, v))
        return 0;
    *out = live_ptr(env, v, KIND_ENGINE, NULL);
    return *out ? 0 : -1;
}

/* ---- version, limits, statuses ---------------------------------------------- */

static napi_value w_version(napi_env env, napi_callback_info info)
{
    (void)info;
    return make_string(env, omni_version(), strlen(omni_version()));
}

static napi_value w_version_number(napi_env env, napi_callback_info info)
{
    (void)info;
    return make_i64(env, omni_version_number());
}

static napi_value w_limit(napi_env env, napi_callback_info info)
{
    args a;
    int64_t id;
    if (get_args(env, info, &a) || get_i64(env, a.argv[0], &id, "id"))
        return NULL;
    if (id < INT32_MIN || id > INT32_MAX)
        return make_u64(env, 0);
    return make_u64(env, omni_limit((int)id));
}

static napi_value w_strerror(napi_env env, napi_callback_info info)
{
    args a;
    int64_t st;
    if (get_args(env, info, &a) || get_i64(env, a.argv[0], &st, "status"))
        return NULL;
    const char *s = omni_strerror(st < INT32_MIN || st > INT32_MAX ? INT32_MIN : (int)st);
    return make_string(env, s, strlen(s));
}

static napi_value w_status_code(napi_env env, napi_callback_info info)
{
    args a;
    int64_t st;
    if (get_args(env, info, &a) || get_i64(env, a.argv[0], &st, "status"))
        return NULL;
    const char *s = omni_status_code(st < INT32_MIN || st > INT32_MAX ? INT32_MIN : (int)st);
    return make_string(env, s, strlen(s));
}

/* setErrorClass(OmniError): the constructor make_error() instantiates. */
static napi_value w_set_error_class(napi_env env, napi_callback_info info)
{
    args a;
    napi_valuetype t;
    addon_data *d = NULL;
    if (get_args(env, info, &a))
        return NULL;
    NAPI_CALL(env, napi_typeof(env, a.argv[0], &t));
    if (t != napi_function)
        return throw_type(env, "the error class must be a function");
    NAPI_CALL(env, napi_get_instance_data(env, (void **)&d));
    if (!d)
        return throw_napi(env);
    if (d->error_ctor) {
        napi_delete_reference(env, d->error_ctor);
        d->error_ctor = NULL;
    }
    NAPI_CALL(env, napi_create_reference(env, a.argv[0], 1, &d->error_ctor));
    return make_undefined(env);
}

/* ---- encodings -------------------------------------------------------------- */

typedef int (*codec_fn)(char **out, size_t *out_len, const char *in, size_t len);

static int b64_encode(char **out, size_t *out_len, const char *in, size_t len)
{
    return omni_base64_encode(out, out_len, in, len);
}

static int b64_decode(char **out, size_t *out_len, const char *in, size_t len)
{
    uint8_t *o = NULL;
    int rc = omni_base64_decode(&o, out_len, in, len);
    *out = (char *)o;
    return rc;
}

static int b64url_encode(char **out, size_t *out_len, const char *in, size_t len)
{
    return omni_base64url_encode(out, out_len, in, len);
}

static int b64url_decode(char **out, size_t *out_len, const char *in, size_t len)
{
    uint8_t *o = NULL;
    int rc = omni_base64url_decode(&o, out_len, in, len);
    *out = (char *)o;
    return rc;
}

/* f(bytes) -> string (as_buffer 0) or Buffer (as_buffer 1). */
static napi_value codec(napi_env env, napi_callback_info info, codec_fn fn, int as_buffer)
{
    args a;
    bytes_arg in;
    char *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &in, "data"))
        return NULL;
    int rc = fn(&out, &out_len, in.data, in.len);
    bytes_free(&in);
    if (rc < 0)
        return throw_status(env, rc);
    return as_buffer ? take_buffer(env, out, out_len) : take_string(env, out, out_len);
}

static napi_value w_base64_encode(napi_env env, napi_callback_info info)
{
    return codec(env, info, b64_encode, 0);
}

static napi_value w_base64_decode(napi_env env, napi_callback_info info)
{
    return codec(env, info, b64_decode, 1);
}

static napi_value w_base64url_encode(napi_env env, napi_callback_info info)
{
    return codec(env, info, b64url_encode, 0);
}

static napi_value w_base64url_decode(napi_env env, napi_callback_info info)
{
    return codec(env, info, b64url_decode, 1);
}

static napi_value w_url_encode(napi_env env, napi_callback_info info)
{
    return codec(env, info, omni_url_encode, 0);
}

static napi_value w_url_decode(napi_env env, napi_callback_info info)
{
    return codec(env, info, omni_url_decode, 1);
}

/* formEncode(pairsJson) -> string */
static napi_value w_form_encode(napi_env env, napi_callback_info info)
{
    return codec(env, info, omni_form_encode, 0);
}

/* formDecode(body) -> JSON text of [[name, value], ...] */
static napi_value w_form_decode(napi_env env, napi_callback_info info)
{
    return codec(env, info, omni_form_decode, 0);
}

/* utf8Validate(data): throws INVALID_ENCODING with .offset. */
static napi_value w_utf8_validate(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg in;
    size_t offset = 0;
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &in, "data"))
        return NULL;
    int rc = omni_utf8_validate(in.data, in.len, &offset);
    bytes_free(&in);
    if (rc < 0) {
        napi_value err = make_status_error(env, rc), v;
        if (err && napi_create_double(env, (double)offset, &v) == napi_ok)
            napi_set_named_property(env, err, "offset", v);
        return throw_value(env, err);
    }
    return make_undefined(env);
}

/* ---- hashes, HMAC, JWT ---------------------------------------------------------- */

static napi_value w_hash_size(napi_env env, napi_callback_info info)
{
    args a;
    int64_t id;
    if (get_args(env, info, &a) || get_i64(env, a.argv[0], &id, "hash"))
        return NULL;
    return make_u64(env, omni_hash_size(id < 0 || id > INT32_MAX ? 0 : (int)id));
}

/* hashDigest(hashId, data) -> Buffer */
static napi_value w_hash_digest(napi_env env, napi_callback_info info)
{
    args a;
    int64_t id;
    bytes_arg in;
    uint8_t out[OMNI_HASH_MAX_SIZE];
    if (get_args(env, info, &a) || get_i64(env, a.argv[0], &id, "hash") ||
        get_bytes(env, a.argv[1], &in, "data"))
        return NULL;
    int hid = id < 0 || id > INT32_MAX ? 0 : (int)id;
    int rc = omni_hash_digest(out, sizeof(out), hid, in.data, in.len);
    bytes_free(&in);
    if (rc < 0)
        return throw_status(env, rc);
    return make_buffer(env, out, omni_hash_size(hid));
}

/* hmac(hashId, key, data) -> Buffer */
static napi_value w_hmac(napi_env env, napi_callback_info info)
{
    args a;
    int64_t id;
    bytes_arg key, in;
    uint8_t out[OMNI_HASH_MAX_SIZE];
    if (get_args(env, info, &a) || get_i64(env, a.argv[0], &id, "hash") ||
        get_bytes(env, a.argv[1], &key, "key"))
        return NULL;
    if (get_bytes(env, a.argv[2], &in, "data")) {
        bytes_free(&key);
        return NULL;
    }
    int hid = id < 0 || id > INT32_MAX ? 0 : (int)id;
    int rc = omni_hmac(out, sizeof(out), hid, key.data, key.len, in.data, in.len);
    bytes_free(&key);
    bytes_free(&in);
    if (rc < 0)
        return throw_status(env, rc);
    return make_buffer(env, out, omni_hash_size(hid));
}

/* ctEqual(a, b) -> boolean (false for different lengths) */
static napi_value w_ct_equal(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg x, y;
    napi_value v;
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &x, "a"))
        return NULL;
    if (get_bytes(env, a.argv[1], &y, "b")) {
        bytes_free(&x);
        return NULL;
    }
    int eq = x.len == y.len && omni_ct_equal(x.data, y.data, x.len) == 1;
    bytes_free(&x);
    bytes_free(&y);
    NAPI_CALL(env, napi_get_boolean(env, eq, &v));
    return v;
}

/* jwtSign(alg, key, headerJson | null, claimsJson) -> string */
static napi_value w_jwt_sign(napi_env env, napi_callback_info info)
{
    args a;
    char *alg = NULL, *out = NULL;
    bytes_arg key = {0}, header = {0}, claims = {0};
    size_t out_len = 0;
    int have_header = 0, rc;
    napi_value result = NULL;
    if (get_args(env, info, &a) || get_cstr(env, a.argv[0], &alg, "alg", 0))
        return NULL;
    if (get_bytes(env, a.argv[1], &key, "key"))
        goto done;
    if (!is_nullish(env, a.argv[2])) {
        if (get_bytes(env, a.argv[2], &header, "header"))
            goto done;
        have_header = 1;
    }
    if (get_bytes(env, a.argv[3], &claims, "claims"))
        goto done;
    rc = omni_jwt_sign(&out, &out_len, alg, key.data, key.len, have_header ? header.data : NULL,
                       have_header ? header.len : 0, claims.data, claims.len);
    if (rc < 0)
        throw_status(env, rc);
    else
        result = take_string(env, out, out_len);
done:
    free(alg);
    bytes_free(&key);
    bytes_free(&header);
    bytes_free(&claims);
    return result;
}

/* jwtVerify(token, alg, key, leewaySeconds, engine | null) -> claims JSON text */
static napi_value w_jwt_verify(napi_env env, napi_callback_info info)
{
    args a;
    char *alg = NULL, *out = NULL;
    bytes_arg token = {0}, key = {0};
    size_t out_len = 0;
    int64_t leeway = 0;
    const omni_engine *engine = NULL;
    napi_value result = NULL;
    int rc;
    if (get_args(env, info, &a) || get_cstr(env, a.argv[1], &alg, "alg", 0))
        return NULL;
    if (get_bytes(env, a.argv[0], &token, "token") || get_bytes(env, a.argv[2], &key, "key"))
        goto done;
    if (!is_nullish(env, a.argv[3]) && get_i64(env, a.argv[3], &leeway, "leeway"))
        goto done;
    if (get_engine_opt(env, a.argv[4], &engine))
        goto done;
    rc = omni_jwt_verify(&out, &out_len, engine, token.data, token.len, alg, key.data, key.len,
                         leeway);
    if (rc < 0)
        throw_status(env, rc);
    else
        result = take_string(env, out, out_len);
done:
    free(alg);
    bytes_free(&token);
    bytes_free(&key);
    return result;
}

/* ---- time ---------------------------------------------------------------------- */

static napi_value w_time_parse(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg in;
    int64_t ms = 0;
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &in, "text"))
        return NULL;
    int rc = omni_time_parse(&ms, in.data, in.len);
    bytes_free(&in);
    if (rc < 0)
        return throw_status(env, rc);
    return make_i64(env, ms);
}

static napi_value w_time_format(napi_env env, napi_callback_info info)
{
    args a;
    int64_t ms;
    char out[OMNI_TIME_STRLEN];
    if (get_args(env, info, &a) || get_i64(env, a.argv[0], &ms, "ms"))
        return NULL;
    int rc = omni_time_format(out, sizeof(out), ms);
    if (rc < 0)
        return throw_status(env, rc);
    return make_string(env, out, strlen(out));
}

/* ---- UUIDs ---------------------------------------------------------------------- */

static napi_value w_uuid5(napi_env env, napi_callback_info info)
{
    args a;
    char *ns = NULL;
    bytes_arg name;
    char out[OMNI_UUID_STRLEN];
    if (get_args(env, info, &a) || get_cstr(env, a.argv[0], &ns, "namespace", 0))
        return NULL;
    if (get_bytes(env, a.argv[1], &name, "name")) {
        free(ns);
        return NULL;
    }
    int rc = omni_uuid5(out, ns, name.data, name.len);
    free(ns);
    bytes_free(&name);
    if (rc < 0)
        return throw_status(env, rc);
    return make_string(env, out, strlen(out));
}

static napi_value w_uuid7(napi_env env, napi_callback_info info)
{
    args a;
    const omni_engine *engine;
    char out[OMNI_UUID_STRLEN];
    if (get_args(env, info, &a) || get_engine_opt(env, a.argv[0], &engine))
        return NULL;
    int rc = omni_uuid7(out, engine);
    if (rc < 0)
        return throw_status(env, rc);
    return make_string(env, out, strlen(out));
}

static napi_value w_uuid_parse(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg in;
    uint8_t out[16];
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &in, "text"))
        return NULL;
    int rc = omni_uuid_parse(out, in.data, in.len);
    bytes_free(&in);
    if (rc < 0)
        return throw_status(env, rc);
    return make_buffer(env, out, sizeof(out));
}

static napi_value w_uuid_format(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg in;
    char out[OMNI_UUID_STRLEN];
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &in, "uuid"))
        return NULL;
    if (in.len != 16) {
        bytes_free(&in);
        return throw_invalid(env, "a UUID is 16 bytes");
    }
    int rc = omni_uuid_format(out, (const uint8_t *)in.data);
    bytes_free(&in);
    if (rc < 0)
        return throw_status(env, rc);
    return make_string(env, out, strlen(out));
}

/* ---- engine ---------------------------------------------------------------------- */

typedef struct analyzer_ctx analyzer_ctx;
static int analyzer_ctx_new(napi_env env, napi_value fn, analyzer_ctx **out);
static void analyzer_ctx_finalize(napi_env env, void *data, void *hint);
static int js_analyzer(void *ctx, const char *request, size_t request_len, const char *builtin,
                       size_t builtin_len, char **out, size_t *out_len);

/* engineNew(configJson | null, analyzer(requestJson, builtinJson) -> json | null | undefined)
 * -> engine handle */
static napi_value w_engine_new(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg cfg = {0};
    omni_engine *engine = NULL;
    int have = 0;
    if (get_args(env, info, &a))
        return NULL;
    if (!is_nullish(env, a.argv[0])) {
        if (get_bytes(env, a.argv[0], &cfg, "config"))
            return NULL;
        have = 1;
    }
    analyzer_ctx *actx = NULL;
    omni_analyzer_hook ahook = OMNI_ANALYZER_HOOK_INIT;
    omni_hooks hooks = OMNI_HOOKS_INIT;
    if (!is_nullish(env, a.argv[1])) {
        if (analyzer_ctx_new(env, a.argv[1], &actx)) {
            bytes_free(&cfg);
            return NULL;
        }
        ahook.ctx = actx;
        ahook.analyze = js_analyzer;
        hooks.analyzer = &ahook;
    }
    int rc = omni_engine_new(&engine, have ? cfg.data : NULL, have ? cfg.len : 0,
                             actx ? &hooks : NULL);
    bytes_free(&cfg);
    if (rc < 0) {
        analyzer_ctx_finalize(env, actx, NULL);
        return throw_status(env, rc);
    }
    napi_value obj = new_handle(env, KIND_ENGINE, engine, NULL, NULL);
    if (obj && actx && napi_add_finalizer(env, obj, actx, analyzer_ctx_finalize, NULL, NULL) !=
                           napi_ok) {
        analyzer_ctx_finalize(env, actx, NULL); /* cannot happen with a fresh object */
        return throw_napi(env);
    }
    if (!obj)
        analyzer_ctx_finalize(env, actx, NULL);
    return obj;
}

static napi_value w_engine_now_ms(napi_env env, napi_callback_info info)
{
    args a;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, NULL);
    return e ? make_i64(env, omni_engine_now_ms(e)) : NULL;
}

/* engineRandom(engine, n) -> Buffer of n random bytes */
static napi_value w_engine_random(napi_env env, napi_callback_info info)
{
    args a;
    uint64_t n;
    void *data;
    napi_value buf;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, NULL);
    if (!e || get_u64(env, a.argv[1], &n, "n"))
        return NULL;
    if (n > 0x7fffffffu)
        return throw_invalid(env, "n is too large");
    NAPI_CALL(env, napi_create_buffer(env, (size_t)n, &data, &buf));
    int rc = omni_engine_random(e, data, (size_t)n);
    if (rc < 0)
        return throw_status(env, rc);
    return buf;
}

/* engineStore(engine) -> store handle borrowed from the engine */
static napi_value w_engine_store(napi_env env, napi_callback_info info)
{
    args a;
    handle *h = NULL;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, &h);
    if (!e)
        return NULL;
    omni_store *s = omni_engine_store(e);
    if (!s)
        return throw_status(env, omni_error_set(OMNI_EINTERNAL, "engine has no store", 0));
    return new_handle(env, KIND_STORE, s, h, a.argv[0]);
}

/* engineTransport(engine) -> transport handle borrowed from the engine, or null */
static napi_value w_engine_transport(napi_env env, napi_callback_info info)
{
    args a;
    handle *h = NULL;
    napi_value v;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, &h);
    if (!e)
        return NULL;
    omni_transport *t = omni_engine_transport(e);
    if (!t) {
        napi_get_null(env, &v);
        return v;
    }
    return new_handle(env, KIND_TRANSPORT, t, h, a.argv[0]);
}

/* close(handle): releases an owned handle, detaches a borrowed one; idempotent. */
static napi_value w_close(napi_env env, napi_callback_info info)
{
    args a;
    handle *h = NULL;
    napi_valuetype t;
    if (get_args(env, info, &a))
        return NULL;
    NAPI_CALL(env, napi_typeof(env, a.argv[0], &t));
    if (t != napi_object)
        return throw_type(env, "expected a libomni handle");
    for (int kind = KIND_ENGINE; kind <= KIND_LAST && !h; kind++) {
        bool ok = false;
        if (napi_check_object_type_tag(env, a.argv[0], &kind_tags[kind], &ok) == napi_ok && ok)
            NAPI_CALL(env, napi_unwrap(env, a.argv[0], (void **)&h));
    }
    if (!h)
        return throw_type(env, "expected a libomni handle");
    handle_close(h);
    return make_undefined(env);
}

/* isClosed(handle) -> boolean */
static napi_value w_is_closed(napi_env env, napi_callback_info info)
{
    args a;
    handle *h = NULL;
    napi_value v;
    if (get_args(env, info, &a))
        return NULL;
    for (int kind = KIND_ENGINE; kind <= KIND_LAST && !h; kind++) {
        bool ok = false;
        if (napi_check_object_type_tag(env, a.argv[0], &kind_tags[kind], &ok) == napi_ok && ok)
            NAPI_CALL(env, napi_unwrap(env, a.argv[0], (void **)&h));
    }
    if (!h)
        return throw_type(env, "expected a libomni handle");
    NAPI_CALL(env, napi_get_boolean(env, handle_ptr(h) == NULL, &v));
    return v;
}

/* ---- store ------------------------------------------------------------------------ */

static napi_value w_store_open(napi_env env, napi_callback_info info)
{
    args a;
    char *uri = NULL;
    omni_store *s = NULL;
    if (get_args(env, info, &a) || get_cstr(env, a.argv[0], &uri, "uri", 0))
        return NULL;
    int rc = omni_store_open(&s, uri);
    free(uri);
    if (rc < 0)
        return throw_status(env, rc);
    return new_handle(env, KIND_STORE, s, NULL, NULL);
}

/* storeGet(store, ns, key, nowMs) -> {value: json text, version, expiresAtMs} | null */
static napi_value w_store_get(napi_env env, napi_callback_info info)
{
    args a;
    char *ns = NULL, *key = NULL, *value = NULL;
    size_t value_len = 0;
    uint64_t version = 0;
    int64_t now = 0, expires = 0;
    napi_value result = NULL, obj, v;
    int rc;
    if (get_args(env, info, &a))
        return NULL;
    omni_store *s = live_ptr(env, a.argv[0], KIND_STORE, NULL);
    if (!s || get_cstr(env, a.argv[1], &ns, "ns", 0))
        return NULL;
    if (get_cstr(env, a.argv[2], &key, "key", 0) || get_i64(env, a.argv[3], &now, "nowMs"))
        goto done;
    rc = omni_store_get(s, ns, key, now, &value, &value_len, &version, &expires);
    if (rc == OMNI_ENOTFOUND) {
        napi_get_null(env, &result);
        goto done;
    }
    if (rc < 0) {
        throw_status(env, rc);
        goto done;
    }
    v = take_string(env, value, value_len);
    if (!v || napi_create_object(env, &obj) != napi_ok ||
        napi_set_named_property(env, obj, "value", v) != napi_ok)
        goto done;
    if (!(v = make_u64(env, version)) || napi_set_named_property(env, obj, "version", v) != napi_ok)
        goto done;
    if (!(v = make_i64(env, expires)) ||
        napi_set_named_property(env, obj, "expiresAtMs", v) != napi_ok)
        goto done;
    result = obj;
done:
    free(ns);
    free(key);
    if (!result)
        throw_napi(env);
    return result;
}

/* storePut(store, ns, key, valueJson, expectedVersion, expiresAtMs, nowMs) -> new version */
static napi_value w_store_put(napi_env env, napi_callback_info info)
{
    args a;
    char *ns = NULL, *key = NULL;
    bytes_arg value = {0};
    uint64_t expected = 0, version = 0;
    int64_t expires = 0, now = 0;
    napi_value result = NULL;
    int rc;
    if (get_args(env, info, &a))
        return NULL;
    omni_store *s = live_ptr(env, a.argv[0], KIND_STORE, NULL);
    if (!s || get_cstr(env, a.argv[1], &ns, "ns", 0))
        return NULL;
    if (get_cstr(env, a.argv[2], &key, "key", 0) || get_bytes(env, a.argv[3], &value, "value") ||
        get_u64(env, a.argv[4], &expected, "expectedVersion") ||
        get_i64(env, a.argv[5], &expires, "expiresAtMs") || get_i64(env, a.argv[6], &now, "nowMs"))
        goto done;
    rc = omni_store_put(s, ns, key, value.data, value.len, expected, expires, now, &version);
    if (rc < 0)
        throw_status(env, rc);
    else
        result = make_u64(env, version);
done:
    free(ns);
    free(key);
    bytes_free(&value);
    return result;
}

/* storeDelete(store, ns, key, expectedVersion, nowMs) */
static napi_value w_store_delete(napi_env env, napi_callback_info info)
{
    args a;
    char *ns = NULL, *key = NULL;
    uint64_t expected = 0;
    int64_t now = 0;
    napi_value result = NULL;
    int rc;
    if (get_args(env, info, &a))
        return NULL;
    omni_store *s = live_ptr(env, a.argv[0], KIND_STORE, NULL);
    if (!s || get_cstr(env, a.argv[1], &ns, "ns", 0))
        return NULL;
    if (get_cstr(env, a.argv[2], &key, "key", 0) ||
        get_u64(env, a.argv[3], &expected, "expectedVersion") ||
        get_i64(env, a.argv[4], &now, "nowMs"))
        goto done;
    rc = omni_store_delete(s, ns, key, expected, now);
    if (rc < 0)
        throw_status(env, rc);
    else
        result = make_undefined(env);
done:
    free(ns);
    free(key);
    return result;
}

/* storeList(store, ns, prefix, after | null, limit, nowMs) -> page JSON text */
static napi_value w_store_list(napi_env env, napi_callback_info info)
{
    args a;
    char *ns = NULL, *prefix = NULL, *after = NULL, *out = NULL;
    size_t out_len = 0;
    uint64_t limit = 0;
    int64_t now = 0;
    napi_value result = NULL;
    int rc;
    if (get_args(env, info, &a))
        return NULL;
    omni_store *s = live_ptr(env, a.argv[0], KIND_STORE, NULL);
    if (!s || get_cstr(env, a.argv[1], &ns, "ns", 0))
        return NULL;
    if (get_cstr(env, a.argv[2], &prefix, "prefix", 1) ||
        get_cstr(env, a.argv[3], &after, "after", 1) ||
        get_u64(env, a.argv[4], &limit, "limit") || get_i64(env, a.argv[5], &now, "nowMs"))
        goto done;
    if (limit > SIZE_MAX)
        limit = SIZE_MAX;
    rc = omni_store_list_json(s, ns, prefix ? prefix : "", after, (size_t)limit, now, &out,
                              &out_len);
    if (rc < 0)
        throw_status(env, rc);
    else
        result = take_string(env, out, out_len);
done:
    free(ns);
    free(prefix);
    free(after);
    return result;
}

/* ---- transports -------------------------------------------------------------------- */

/* transportCurl(optionsJson | null) -> transport handle */
static napi_value w_transport_curl(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg opts = {0};
    omni_transport *t = NULL;
    int have = 0;
    if (get_args(env, info, &a))
        return NULL;
    if (!is_nullish(env, a.argv[0])) {
        if (get_bytes(env, a.argv[0], &opts, "options"))
            return NULL;
        have = 1;
    }
    int rc = omni_transport_curl_new(&t, have ? opts.data : NULL, have ? opts.len : 0);
    bytes_free(&opts);
    if (rc < 0)
        return throw_status(env, rc);
    return new_handle(env, KIND_TRANSPORT, t, NULL, NULL);
}

/* transportScripted(responsesJson) -> transport handle */
static napi_value w_transport_scripted(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg json;
    omni_transport *t = NULL;
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &json, "responses"))
        return NULL;
    int rc = omni_transport_scripted_new(&t, json.data, json.len);
    bytes_free(&json);
    if (rc < 0)
        return throw_status(env, rc);
    return new_handle(env, KIND_TRANSPORT, t, NULL, NULL);
}

/* transportSend(transport, requestJson) -> response JSON text */
static napi_value w_transport_send(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg json;
    omni_http_request *req = NULL;
    omni_http_response *resp = NULL;
    char *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a))
        return NULL;
    omni_transport *t = live_ptr(env, a.argv[0], KIND_TRANSPORT, NULL);
    if (!t || get_bytes(env, a.argv[1], &json, "request"))
        return NULL;
    int rc = omni_http_request_from_json(&req, json.data, json.len);
    bytes_free(&json);
    if (rc < 0)
        return throw_status(env, rc);
    rc = omni_transport_send(t, req, &resp);
    omni_http_request_free(req);
    if (rc < 0)
        return throw_status(env, rc);
    rc = omni_http_response_to_json(&out, &out_len, resp);
    omni_http_response_free(resp);
    if (rc < 0)
        return throw_status(env, rc);
    return take_string(env, out, out_len);
}

/* transportSent(transport) -> JSON text of the requests a scripted transport got */
static napi_value w_transport_sent(napi_env env, napi_callback_info info)
{
    args a;
    char *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a))
        return NULL;
    omni_transport *t = live_ptr(env, a.argv[0], KIND_TRANSPORT, NULL);
    if (!t)
        return NULL;
    int rc = omni_transport_scripted_sent(t, &out, &out_len);
    if (rc < 0)
        return throw_status(env, rc);
    return take_string(env, out, out_len);
}

/* ---- templates: compile, render, host helpers ------------------------------------ */

/*
 * Host helpers written in JavaScript. index.js registers a dispatcher
 * (setHelperDispatch) that builds handlebars' `options` object, calls the
 * helper and normalises its result. A compiled template keeps one slot per
 * host helper (the omni_helpers ctx); the helper functions themselves stay
 * on the JS side and are passed to each render, so the native side holds no
 * strong reference that could keep a template alive.
 *
 * While a render runs, the template's frame stack says which functions and
 * which env to use (a helper may render the same template again: frames
 * nest). Each helper call in progress is on the env's active-call list, so
 * options.fn / options.inverse (helperBlock) find their omni_helper_call by
 * id and refuse calls made after the helper returned.
 */

struct tmpl_native;

typedef struct helper_slot {
    struct tmpl_native *owner;
    uint32_t index;
    int wants_this; /* convert the context to the helper's `this` */
} helper_slot;

typedef struct render_frame {
    napi_env env;
    napi_value fns;  /* array of the helper functions, by slot index */
    napi_ref exc;    /* the exception the failing helper threw (err.cause) */
    int body_status; /* a block body rendered by a helper failed with this */
    struct render_frame *prev;
} render_frame;

typedef struct tmpl_native {
    omni_template *t;
    size_t nslots;
    helper_slot *slots;
    render_frame *frame; /* innermost render in progress, or NULL */
} tmpl_native;

/* How deep renders may nest (a helper rendering a template whose helper renders a
 * template ...): deeper is NESTING_TOO_DEEP, well before the stack runs out. */
#define MAX_NESTED_RENDERS 64

typedef struct active_call {
    double id;
    omni_helper_call *call;
    render_frame *frame;
    struct active_call *prev;
} active_call;

static void tmpl_native_free(void *p)
{
    tmpl_native *tn = p;
    if (!tn)
        return;
    omni_template_free(tn->t);
    free(tn->slots);
    free(tn);
}

/* An omni_value as a JS value (arrays and objects through JSON.parse). */
static int value_to_js(napi_env env, const omni_value *v, napi_value *out)
{
    size_t len = 0;
    const char *s;
    char *json = NULL;
    switch (omni_value_type(v)) {
    case OMNI_VALUE_NULL: return napi_get_null(env, out) == napi_ok ? 0 : -1;
    case OMNI_VALUE_BOOL:
        return napi_get_boolean(env, omni_value_truthy(v) != 0, out) == napi_ok ? 0 : -1;
    case OMNI_VALUE_NUMBER:
        return napi_create_double(env, omni_value_number(v), out) == napi_ok ? 0 : -1;
    case OMNI_VALUE_STRING:
        s = omni_value_string(v, &len);
        return napi_create_string_utf8(env, s ? s : "", s ? len : 0, out) == napi_ok ? 0 : -1;
    case OMNI_VALUE_ARRAY:
    case OMNI_VALUE_OBJECT:
        if (omni_value_json(&json, &len, v) < 0)
            return -1;
        *out = json_parse(env, json, len);
        omni_free(json);
        return *out ? 0 : -1;
    default: return napi_get_undefined(env, out) == napi_ok ? 0 : -1;
    }
}

/* Clears a pending exception (if any) into *exc; 1 when there was one. */
static int take_exception(napi_env env, napi_value *exc)
{
    bool pending = false;
    *exc = NULL;
    if (napi_is_exception_pending(env, &pending) != napi_ok || !pending)
        return 0;
    return napi_get_and_clear_last_exception(env, exc) == napi_ok && *exc;
}

/* The text of a thrown value: its `message` when it is a non-empty string,
 * else String(value). Never leaves an exception pending. */
static void exception_text(napi_env env, napi_value exc, char *buf, size_t cap)
{
    napi_valuetype t;
    napi_value m = NULL, s, ignored;
    size_t n = 0;
    buf[0] = '\0';
    if (napi_typeof(env, exc, &t) != napi_ok)
        return;
    if (t == napi_object || t == napi_function) {
        napi_valuetype mt;
        if (napi_get_named_property(env, exc, "message", &m) != napi_ok ||
            napi_typeof(env, m, &mt) != napi_ok || mt != napi_string)
            m = NULL;
        take_exception(env, &ignored); /* a throwing getter */
        if (m && (napi_get_value_string_utf8(env, m, NULL, 0, &n) != napi_ok || n == 0))
            m = NULL;
    }
    if (!m)
        m = exc;
    if (napi_coerce_to_string(env, m, &s) != napi_ok ||
        napi_get_value_string_utf8(env, s, buf, cap, &n) != napi_ok) {
        take_exception(env, &ignored); /* e.g. a Symbol or a throwing toString */
        snprintf(buf, cap, "%s", "a JavaScript helper threw a value that is not an Error");
    }
}

/* The helper call failed in JavaScript: keep the exception as the cause and
 * make the helper fail (with the body's status when options.fn failed). */
static int helper_js_failed(napi_env env, render_frame *fr, const char *fallback)
{
    napi_value exc;
    char msg[512];
    if (take_exception(env, &exc)) {
        if (fr->exc) {
            napi_delete_reference(env, fr->exc);
            fr->exc = NULL;
        }
        napi_create_reference(env, exc, 1, &fr->exc);
        exception_text(env, exc, msg, sizeof(msg));
    } else {
        snprintf(msg, sizeof(msg), "%s", fallback);
    }
    if (fr->body_status < 0)
        return fr->body_status; /* the body's error (details and all) stands */
    return omni_error_set(OMNI_EHELPER, msg[0] ? msg : fallback, 0);
}

/* Sets the helper's result from what the dispatcher returned: a primitive,
 * or [1, text] (a SafeString) or [2, json] (an object or array). */
static int helper_set_result(napi_env env, render_frame *fr, omni_helper_call *call,
                             napi_value r)
{
    napi_valuetype t;
    bool b;
    double d;
    int rc, kind = 0;
    if (napi_typeof(env, r, &t) != napi_ok)
        return helper_js_failed(env, fr, "cannot read the helper's result");
    switch (t) {
    case napi_undefined: return OMNI_OK;
    case napi_null: return omni_helper_return_null(call);
    case napi_boolean:
        napi_get_value_bool(env, r, &b);
        return omni_helper_return_bool(call, b);
    case napi_number:
        napi_get_value_double(env, r, &d);
        return omni_helper_return_number(call, d);
    case napi_string: break;
    case napi_object: {
        napi_value k, text;
        bool is_array = false;
        uint32_t n = 0;
        int32_t k32 = 0;
        if (napi_is_array(env, r, &is_array) != napi_ok || !is_array ||
            napi_get_array_length(env, r, &n) != napi_ok || n != 2 ||
            napi_get_element(env, r, 0, &k) != napi_ok ||
            napi_get_value_int32(env, k, &k32) != napi_ok ||
            napi_get_element(env, r, 1, &text) != napi_ok)
            return helper_js_failed(env, fr, "the helper dispatcher returned a bad result");
        kind = k32;
        r = text;
        break;
    }
    default:
        return omni_error_set(OMNI_EHELPER, "a helper returned a value that is not text, a "
                              "number, a boolean, null, an object or an array", 0);
    }
    bytes_arg text;
    if (get_bytes(env, r, &text, "helper result"))
        return helper_js_failed(env, fr, "cannot read the helper's result");
    if (kind == 2)
        rc = omni_helper_return_json(call, text.data, text.len);
    else if (kind == 1)
        rc = omni_helper_return_safe(call, text.data, text.len);
    else
        rc = omni_helper_return_string(call, text.data, text.len);
    bytes_free(&text);
    return rc;
}

static int js_helper_call(napi_env env, addon_data *d, helper_slot *slot, render_frame *fr,
                          omni_helper_call *call)
{
    napi_value argv[7], dispatch = NULL, args_arr, hash, result, undef, v;
    size_t argc = omni_helper_argc(call), nhash = omni_helper_hash_count(call);
    const char *name = omni_helper_name(call);
    napi_get_undefined(env, &undef);
    if (!d->helper_dispatch || napi_get_reference_value(env, d->helper_dispatch, &dispatch) !=
                                   napi_ok || !dispatch)
        return omni_error_set(OMNI_EHELPER, "helper support is not initialised", 0);
    if (napi_get_element(env, fr->fns, slot->index, &argv[0]) != napi_ok)
        return helper_js_failed(env, fr, "cannot find the helper function");
    if (slot->wants_this) {
        if (value_to_js(env, omni_helper_context(call), &argv[1]))
            return helper_js_failed(env, fr, "cannot convert the helper's context");
    } else {
        argv[1] = undef;
    }
    if (napi_create_array_with_length(env, argc, &args_arr) != napi_ok)
        return helper_js_failed(env, fr, "out of memory");
    for (size_t i = 0; i < argc; i++)
        if (value_to_js(env, omni_helper_arg(call, i), &v) ||
            napi_set_element(env, args_arr, (uint32_t)i, v) != napi_ok)
            return helper_js_failed(env, fr, "cannot convert the helper's arguments");
    if (napi_create_object(env, &hash) != napi_ok)
        return helper_js_failed(env, fr, "out of memory");
    for (size_t i = 0; i < nhash; i++) {
        const char *key = omni_helper_hash_key(call, i);
        napi_value k;
        if (!key || value_to_js(env, omni_helper_hash_value(call, i), &v) ||
            napi_create_string_utf8(env, key, NAPI_AUTO_LENGTH, &k) != napi_ok ||
            napi_set_property(env, hash, k, v) != napi_ok)
            return helper_js_failed(env, fr, "cannot convert the helper's hash arguments");
    }
    argv[2] = args_arr;
    argv[3] = hash;
    active_call ac = {d->next_call_id, call, fr, d->calls};
    d->next_call_id += 1;
    if (napi_create_string_utf8(env, name ? name : "", NAPI_AUTO_LENGTH, &argv[4]) != napi_ok ||
        napi_get_boolean(env, omni_helper_is_block(call) != 0, &argv[5]) != napi_ok ||
        napi_create_double(env, ac.id, &argv[6]) != napi_ok)
        return helper_js_failed(env, fr, "out of memory");
    d->calls = &ac;
    napi_status st = napi_call_function(env, undef, dispatch, 7, argv, &result);
    d->calls = ac.prev;
    if (st != napi_ok)
        return helper_js_failed(env, fr, "the JavaScript helper failed");
    return helper_set_result(env, fr, call, result);
}

/* The omni_helper_fn of every JavaScript helper. */
static int js_helper(void *ctx, omni_helper_call *call)
{
    helper_slot *slot = ctx;
    render_frame *fr = slot->owner->frame;
    addon_data *d = NULL;
    napi_handle_scope scope;
    if (!fr)
        return omni_error_set(OMNI_EHELPER, "a JavaScript helper was called outside a render",
                              0);
    napi_env env = fr->env;
    if (napi_get_instance_data(env, (void **)&d) != napi_ok || !d)
        return omni_error_set(OMNI_EHELPER, "helper support is not initialised", 0);
    if (napi_open_handle_scope(env, &scope) != napi_ok)
        return omni_error_set(OMNI_EHELPER, "Node-API: cannot open a handle scope", 0);
    int rc = js_helper_call(env, d, slot, fr, call);
    napi_value ignored;
    if (take_exception(env, &ignored) && rc >= 0) /* nothing may stay pending */
        rc = omni_error_set(OMNI_EHELPER, "the JavaScript helper left an exception", 0);
    napi_close_handle_scope(env, scope);
    return rc;
}

/* setHelperDispatch(fn(helper, self, args, hash, name, isBlock, callId)) */
static napi_value w_set_helper_dispatch(napi_env env, napi_callback_info info)
{
    args a;
    napi_valuetype t;
    addon_data *d = NULL;
    if (get_args(env, info, &a))
        return NULL;
    NAPI_CALL(env, napi_typeof(env, a.argv[0], &t));
    if (t != napi_function)
        return throw_type(env, "the helper dispatcher must be a function");
    NAPI_CALL(env, napi_get_instance_data(env, (void **)&d));
    if (!d)
        return throw_napi(env);
    if (d->helper_dispatch) {
        napi_delete_reference(env, d->helper_dispatch);
        d->helper_dispatch = NULL;
    }
    NAPI_CALL(env, napi_create_reference(env, a.argv[0], 1, &d->helper_dispatch));
    return make_undefined(env);
}

/* An optional bytes argument: have = 0 for undefined / null. */
static int get_bytes_opt(napi_env env, napi_value v, bytes_arg *out, int *have, const char *what)
{
    *have = 0;
    out->data = "";
    out->len = 0;
    out->owned = NULL;
    if (is_nullish(env, v))
        return 0;
    if (get_bytes(env, v, out, what))
        return -1;
    *have = 1;
    return 0;
}

/* templateCompile(source, optionsJson | null, helperNames[] | null, wantsThis[] | null)
 * -> template handle */
static napi_value w_template_compile(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg src = {0}, opts = {0};
    int have_opts = 0, rc;
    uint32_t n = 0;
    omni_helpers *reg = NULL;
    tmpl_native *tn = NULL;
    napi_value result = NULL;
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &src, "source"))
        return NULL;
    if (get_bytes_opt(env, a.argv[1], &opts, &have_opts, "options"))
        goto done;
    if (!is_nullish(env, a.argv[2])) {
        bool is_array = false;
        if (napi_is_array(env, a.argv[2], &is_array) != napi_ok || !is_array) {
            throw_type(env, "helper names must be an array");
            goto done;
        }
        napi_get_array_length(env, a.argv[2], &n);
    }
    tn = calloc(1, sizeof(*tn));
    if (!tn || (n && !(tn->slots = calloc(n, sizeof(*tn->slots))))) {
        throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
        goto done;
    }
    tn->nslots = n;
    if (n && (rc = omni_helpers_new(&reg)) < 0) {
        throw_status(env, rc);
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) {
        napi_value nv, wv;
        char *name = NULL;
        bool wants = true;
        if (napi_get_element(env, a.argv[2], i, &nv) != napi_ok) {
            throw_napi(env);
            goto done;
        }
        if (get_cstr(env, nv, &name, "helper name", 0))
            goto done;
        if (!is_nullish(env, a.argv[3]) && napi_get_element(env, a.argv[3], i, &wv) == napi_ok)
            napi_get_value_bool(env, wv, &wants);
        tn->slots[i] = (helper_slot){tn, i, wants};
        rc = omni_helpers_add(reg, name, js_helper, &tn->slots[i]);
        free(name);
        if (rc < 0) {
            throw_status(env, rc);
            goto done;
        }
    }
    rc = omni_template_compile(&tn->t, src.data, src.len, have_opts ? opts.data : NULL,
                               have_opts ? opts.len : 0, reg);
    if (rc < 0) {
        throw_status(env, rc);
        goto done;
    }
    result = new_handle(env, KIND_TEMPLATE, tn, NULL, NULL);
    tn = NULL; /* owned by the handle (released by new_handle on failure) */
done:
    omni_helpers_free(reg);
    tmpl_native_free(tn);
    bytes_free(&src);
    bytes_free(&opts);
    return result;
}

/* dataParse(json) -> data handle */
static napi_value w_data_parse(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg json;
    omni_data *data = NULL;
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &json, "data"))
        return NULL;
    int rc = omni_data_parse(&data, json.data, json.len);
    bytes_free(&json);
    if (rc < 0)
        return throw_status(env, rc);
    return new_handle(env, KIND_DATA, data, NULL, NULL);
}

/* dataJson(data) -> the document as JSON text */
static napi_value w_data_json(napi_env env, napi_callback_info info)
{
    args a;
    char *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a))
        return NULL;
    omni_data *data = live_ptr(env, a.argv[0], KIND_DATA, NULL);
    if (!data)
        return NULL;
    int rc = omni_value_json(&out, &out_len, omni_data_root(data));
    if (rc < 0)
        return throw_status(env, rc);
    return take_string(env, out, out_len);
}

static int is_kind(napi_env env, napi_value v, int kind)
{
    napi_valuetype t;
    bool ok = false;
    return napi_typeof(env, v, &t) == napi_ok && t == napi_object &&
           napi_check_object_type_tag(env, v, &kind_tags[kind], &ok) == napi_ok && ok;
}

/* templateRender(template, data: JSON text | Buffer | data handle | null, helperFns[] | null)
 * -> string */
static napi_value w_template_render(napi_env env, napi_callback_info info)
{
    args a;
    handle *th = NULL, *dh = NULL;
    bytes_arg json = {0};
    omni_data *data = NULL;
    char *out = NULL;
    size_t out_len = 0;
    int rc;
    if (get_args(env, info, &a))
        return NULL;
    tmpl_native *tn = live_ptr(env, a.argv[0], KIND_TEMPLATE, &th);
    if (!tn)
        return NULL;
    if (is_kind(env, a.argv[1], KIND_DATA)) {
        if (!(data = live_ptr(env, a.argv[1], KIND_DATA, &dh)))
            return NULL;
    } else if (!is_nullish(env, a.argv[1]) && get_bytes(env, a.argv[1], &json, "data")) {
        return NULL;
    }
    if (tn->nslots) {
        bool is_array = false;
        uint32_t n = 0;
        if (napi_is_array(env, a.argv[2], &is_array) != napi_ok || !is_array ||
            napi_get_array_length(env, a.argv[2], &n) != napi_ok || n < tn->nslots) {
            bytes_free(&json);
            return throw_type(env, "the template's helper functions are missing");
        }
    }
    addon_data *d = NULL;
    napi_get_instance_data(env, (void **)&d);
    if (d && d->render_depth >= MAX_NESTED_RENDERS) {
        bytes_free(&json);
        return throw_status(env, omni_error_set(OMNI_ETOODEEP, "template renders nest deeper "
                                                "than 64 (a helper rendering templates)", 0));
    }
    render_frame fr = {env, a.argv[2], NULL, 0, tn->frame};
    tn->frame = &fr;
    if (d)
        d->render_depth++;
    th->busy++;
    if (dh)
        dh->busy++;
    if (data)
        rc = omni_template_render_data(&out, &out_len, tn->t, data);
    else
        rc = omni_template_render(&out, &out_len, tn->t, json.data, json.len);
    tn->frame = fr.prev;
    if (d)
        d->render_depth--;
    bytes_free(&json);
    napi_value err = NULL, exc = NULL, stray = NULL;
    if (rc < 0)
        err = make_status_error(env, rc);
    if (take_exception(env, &stray) && !fr.exc) /* should not happen: helpers clear theirs */
        exc = stray;
    if (fr.exc) {
        napi_get_reference_value(env, fr.exc, &exc);
        napi_delete_reference(env, fr.exc);
    }
    /* may release the template or the data when a helper closed them */
    handle_unbusy(th);
    handle_unbusy(dh);
    if (rc < 0) {
        if (err && exc && rc == OMNI_EHELPER)
            napi_set_named_property(env, err, "cause", exc);
        return throw_value(env, err);
    }
    return take_string(env, out, out_len);
}

/* templateInspect(template) -> JSON text */
static napi_value w_template_inspect(napi_env env, napi_callback_info info)
{
    args a;
    char *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a))
        return NULL;
    tmpl_native *tn = live_ptr(env, a.argv[0], KIND_TEMPLATE, NULL);
    if (!tn)
        return NULL;
    int rc = omni_template_inspect(&out, &out_len, tn->t);
    if (rc < 0)
        return throw_status(env, rc);
    return take_string(env, out, out_len);
}

/* helperBlock(callId, inverse, mode, payload) -> the rendered block body / inverse.
 * mode 0: the current context; 1: payload is the context as JSON text; 2: payload is
 * the index of the positional argument to use as the context. */
static napi_value w_helper_block(napi_env env, napi_callback_info info)
{
    args a;
    double id;
    bool inverse = false;
    int32_t mode = 0;
    addon_data *d = NULL;
    active_call *ac;
    const omni_value *ctx = NULL;
    char *out = NULL;
    size_t out_len = 0;
    int rc;
    if (get_args(env, info, &a))
        return NULL;
    NAPI_CALL(env, napi_get_instance_data(env, (void **)&d));
    if (napi_get_value_double(env, a.argv[0], &id) != napi_ok)
        return throw_type(env, "bad helper call id");
    napi_get_value_bool(env, a.argv[1], &inverse);
    napi_get_value_int32(env, a.argv[2], &mode);
    for (ac = d ? d->calls : NULL; ac && ac->id != id; ac = ac->prev)
        ;
    if (!ac)
        return throw_invalid(env, "options.fn / options.inverse called after the helper "
                                  "returned");
    if (mode == 1) {
        bytes_arg json;
        if (get_bytes(env, a.argv[3], &json, "context"))
            return NULL;
        rc = omni_helper_make_value(&ctx, ac->call, json.data, json.len);
        bytes_free(&json);
        if (rc < 0)
            return throw_status(env, rc);
    } else if (mode == 2) {
        uint32_t i = 0;
        napi_get_value_uint32(env, a.argv[3], &i);
        ctx = omni_helper_arg(ac->call, i);
    }
    if (inverse)
        rc = omni_helper_render_inverse(&out, &out_len, ac->call, ctx);
    else
        rc = omni_helper_render_block(&out, &out_len, ac->call, ctx);
    if (rc < 0) {
        if (omni_helper_is_block(ac->call))
            ac->frame->body_status = rc; /* the render fails with the body's error */
        return throw_status(env, rc);
    }
    return take_string(env, out, out_len);
}

/* ---- channel: SMS, validation, formatting --------------------------------------------- */

/* smsCount(text) -> {encoding, segments, units} */
static napi_value w_sms_count(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg text;
    int enc = 0;
    uint32_t segs = 0, units = 0;
    napi_value obj, v;
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &text, "text"))
        return NULL;
    int rc = omni_sms_count(&enc, &segs, &units, text.data, text.len);
    bytes_free(&text);
    if (rc < 0)
        return throw_status(env, rc);
    NAPI_CALL(env, napi_create_object(env, &obj));
    set_str(env, obj, "encoding", enc == OMNI_SMS_UCS2 ? "UCS-2" : "GSM-7");
    NAPI_CALL(env, napi_create_uint32(env, segs, &v));
    NAPI_CALL(env, napi_set_named_property(env, obj, "segments", v));
    NAPI_CALL(env, napi_create_uint32(env, units, &v));
    NAPI_CALL(env, napi_set_named_property(env, obj, "units", v));
    return obj;
}

/* smsSegments(text) -> JSON text */
static napi_value w_sms_segments(napi_env env, napi_callback_info info)
{
    return codec(env, info, omni_sms_segments, 0);
}

/* templateValidate(template, channel, optionsJson | null) -> JSON text */
static napi_value w_template_validate(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg tpl = {0}, opts = {0};
    char *channel = NULL, *out = NULL;
    size_t out_len = 0;
    int have_opts = 0, rc;
    napi_value result = NULL;
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &tpl, "template"))
        return NULL;
    if (get_cstr(env, a.argv[1], &channel, "channel", 0) ||
        get_bytes_opt(env, a.argv[2], &opts, &have_opts, "options"))
        goto done;
    rc = omni_template_validate(&out, &out_len, tpl.data, tpl.len, channel,
                                have_opts ? opts.data : NULL, have_opts ? opts.len : 0);
    if (rc < 0)
        throw_status(env, rc);
    else
        result = take_string(env, out, out_len);
done:
    bytes_free(&tpl);
    bytes_free(&opts);
    free(channel);
    return result;
}

static int get_double(napi_env env, napi_value v, double *out, const char *what)
{
    napi_valuetype t;
    char msg[96];
    if (napi_typeof(env, v, &t) != napi_ok) {
        throw_napi(env);
        return -1;
    }
    if (t == napi_number) {
        napi_get_value_double(env, v, out);
        return 0;
    }
    snprintf(msg, sizeof(msg), "%s must be a number", what);
    throw_type(env, msg);
    return -1;
}

/* formatNumber(value, locale | null, minFraction, maxFraction) -> string */
static napi_value w_format_number(napi_env env, napi_callback_info info)
{
    args a;
    double value;
    int64_t mn = -1, mx = -1;
    char *locale = NULL, *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a) || get_double(env, a.argv[0], &value, "value") ||
        get_cstr(env, a.argv[1], &locale, "locale", 1))
        return NULL;
    if ((!is_nullish(env, a.argv[2]) && get_i64(env, a.argv[2], &mn, "minFraction")) ||
        (!is_nullish(env, a.argv[3]) && get_i64(env, a.argv[3], &mx, "maxFraction"))) {
        free(locale);
        return NULL;
    }
    if (mn < -1 || mn > 1000 || mx < -1 || mx > 1000) {
        free(locale);
        return throw_invalid(env, "fraction digits are 0..20");
    }
    int rc = omni_format_number(&out, &out_len, value, locale, (int)mn, (int)mx);
    free(locale);
    if (rc < 0)
        return throw_status(env, rc);
    return take_string(env, out, out_len);
}

/* formatCurrency(value, code, locale | null) -> string */
static napi_value w_format_currency(napi_env env, napi_callback_info info)
{
    args a;
    double value;
    char *code = NULL, *locale = NULL, *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a) || get_double(env, a.argv[0], &value, "value") ||
        get_cstr(env, a.argv[1], &code, "code", 0))
        return NULL;
    if (get_cstr(env, a.argv[2], &locale, "locale", 1)) {
        free(code);
        return NULL;
    }
    int rc = omni_format_currency(&out, &out_len, value, code, locale);
    free(code);
    free(locale);
    if (rc < 0)
        return throw_status(env, rc);
    return take_string(env, out, out_len);
}

/* formatDate(rfc3339, pattern | null, timeZone | null, locale | null) -> string */
static napi_value w_format_date(napi_env env, napi_callback_info info)
{
    args a;
    char *when = NULL, *pattern = NULL, *tz = NULL, *locale = NULL, *out = NULL;
    size_t out_len = 0;
    napi_value result = NULL;
    if (get_args(env, info, &a) || get_cstr(env, a.argv[0], &when, "value", 0))
        return NULL;
    if (get_cstr(env, a.argv[1], &pattern, "pattern", 1) ||
        get_cstr(env, a.argv[2], &tz, "timeZone", 1) ||
        get_cstr(env, a.argv[3], &locale, "locale", 1))
        goto done;
    int rc = omni_format_date(&out, &out_len, when, pattern, tz, locale);
    if (rc < 0)
        throw_status(env, rc);
    else
        result = take_string(env, out, out_len);
done:
    free(when);
    free(pattern);
    free(tz);
    free(locale);
    return result;
}

/* ---- the template store (through an engine) ------------------------------------------ */

static int get_u32(napi_env env, napi_value v, uint32_t *out, const char *what)
{
    uint64_t x = 0;
    char msg[96];
    if (is_nullish(env, v)) {
        *out = 0;
        return 0;
    }
    if (get_u64(env, v, &x, what))
        return -1;
    if (x > UINT32_MAX) {
        snprintf(msg, sizeof(msg), "%s must be at most 2^32 - 1", what);
        throw_invalid(env, msg);
        return -1;
    }
    *out = (uint32_t)x;
    return 0;
}

/* templateCreate(engine, json) / templateUpdate(engine, json, expectedVersion) -> JSON */
static napi_value template_put(napi_env env, napi_callback_info info, int update)
{
    args a;
    bytes_arg json;
    uint32_t expected = 0;
    char *out = NULL;
    size_t out_len = 0;
    int rc;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, NULL);
    if (!e || (update && get_u32(env, a.argv[2], &expected, "expectedVersion")) ||
        get_bytes(env, a.argv[1], &json, "template"))
        return NULL;
    if (update)
        rc = omni_template_update(&out, &out_len, e, json.data, json.len, expected);
    else
        rc = omni_template_create(&out, &out_len, e, json.data, json.len);
    bytes_free(&json);
    if (rc < 0)
        return throw_status(env, rc);
    return take_string(env, out, out_len);
}

static napi_value w_template_create(napi_env env, napi_callback_info info)
{
    return template_put(env, info, 0);
}

static napi_value w_template_update(napi_env env, napi_callback_info info)
{
    return template_put(env, info, 1);
}

/* templateGet(engine, id, version) -> JSON */
static napi_value w_template_get(napi_env env, napi_callback_info info)
{
    args a;
    char *id = NULL, *out = NULL;
    size_t out_len = 0;
    uint32_t version = 0;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, NULL);
    if (!e || get_u32(env, a.argv[2], &version, "version") ||
        get_cstr(env, a.argv[1], &id, "templateId", 0))
        return NULL;
    int rc = omni_template_get(&out, &out_len, e, id, version);
    free(id);
    if (rc < 0)
        return throw_status(env, rc);
    return take_string(env, out, out_len);
}

/* templateDelete(engine, id) */
static napi_value w_template_delete(napi_env env, napi_callback_info info)
{
    args a;
    char *id = NULL;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, NULL);
    if (!e || get_cstr(env, a.argv[1], &id, "templateId", 0))
        return NULL;
    int rc = omni_template_delete(e, id);
    free(id);
    if (rc < 0)
        return throw_status(env, rc);
    return make_undefined(env);
}

/* templateList(engine, filterJson | null, after | null, limit) -> JSON */
static napi_value w_template_list(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg filter = {0};
    int have_filter = 0, rc;
    char *after = NULL, *out = NULL;
    size_t out_len = 0;
    uint64_t limit = 0;
    napi_value result = NULL;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, NULL);
    if (!e || get_u64(env, a.argv[3], &limit, "limit") ||
        get_cstr(env, a.argv[2], &after, "after", 1))
        return NULL;
    if (get_bytes_opt(env, a.argv[1], &filter, &have_filter, "filter"))
        goto done;
    if (limit > SIZE_MAX)
        limit = SIZE_MAX;
    rc = omni_template_list(&out, &out_len, e, have_filter ? filter.data : NULL,
                            have_filter ? filter.len : 0, after, (size_t)limit);
    if (rc < 0)
        throw_status(env, rc);
    else
        result = take_string(env, out, out_len);
done:
    free(after);
    bytes_free(&filter);
    return result;
}

/* templateRenderStored(engine, id, locale | null, defaultLocale | null, channel,
 * dataJson | null) -> JSON */
static napi_value w_template_render_stored(napi_env env, napi_callback_info info)
{
    args a;
    char *id = NULL, *locale = NULL, *def = NULL, *channel = NULL, *out = NULL;
    bytes_arg data = {0};
    int have_data = 0, rc;
    size_t out_len = 0;
    napi_value result = NULL;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, NULL);
    if (!e || get_cstr(env, a.argv[1], &id, "templateId", 0))
        return NULL;
    if (get_cstr(env, a.argv[2], &locale, "locale", 1) ||
        get_cstr(env, a.argv[3], &def, "defaultLocale", 1) ||
        get_cstr(env, a.argv[4], &channel, "channel", 0) ||
        get_bytes_opt(env, a.argv[5], &data, &have_data, "data"))
        goto done;
    rc = omni_template_render_stored(&out, &out_len, e, id, locale, def, channel,
                                     have_data ? data.data : NULL, have_data ? data.len : 0);
    if (rc < 0)
        throw_status(env, rc);
    else
        result = take_string(env, out, out_len);
done:
    free(id);
    free(locale);
    free(def);
    free(channel);
    bytes_free(&data);
    return result;
}

/* ---- inbound webhooks (omni/carrier.h) --------------------------------------------- */

/* inboundNew(configJson) -> inbound handle */
static napi_value w_inbound_new(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg cfg;
    omni_inbound *in = NULL;
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &cfg, "config"))
        return NULL;
    int rc = omni_inbound_new(&in, cfg.data, cfg.len, NULL);
    bytes_free(&cfg);
    if (rc < 0)
        return throw_status(env, rc);
    return new_handle(env, KIND_INBOUND, in, NULL, NULL);
}

/* A string property of obj (copied; free it), or NULL with an exception. */
static char *prop_cstr(napi_env env, napi_value obj, const char *name, const char *what)
{
    napi_value v;
    char *out = NULL;
    if (napi_get_named_property(env, obj, name, &v) != napi_ok) {
        throw_napi(env);
        return NULL;
    }
    if (get_cstr(env, v, &out, what, 0))
        return NULL;
    return out;
}

/* Adds the headers [[name, value], ...] (index.js turns objects into pairs). */
static int webhook_add_headers(napi_env env, omni_webhook *req, napi_value list)
{
    bool is = false;
    uint32_t n = 0;
    if (is_nullish(env, list))
        return 0;
    if (napi_is_array(env, list, &is) != napi_ok || !is) {
        throw_type(env, "request headers must be an array of [name, value] pairs");
        return -1;
    }
    if (napi_get_array_length(env, list, &n) != napi_ok) {
        throw_napi(env);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        napi_value pair, nv, vv;
        uint32_t plen = 0;
        char *name = NULL, *value = NULL;
        if (napi_get_element(env, list, i, &pair) != napi_ok) {
            throw_napi(env);
            return -1;
        }
        if (napi_is_array(env, pair, &is) != napi_ok || !is ||
            napi_get_array_length(env, pair, &plen) != napi_ok || plen != 2) {
            throw_type(env, "request headers must be an array of [name, value] pairs");
            return -1;
        }
        if (napi_get_element(env, pair, 0, &nv) != napi_ok ||
            napi_get_element(env, pair, 1, &vv) != napi_ok) {
            throw_napi(env);
            return -1;
        }
        if (get_cstr(env, nv, &name, "header name", 0))
            return -1;
        if (get_cstr(env, vv, &value, "header value", 0)) {
            free(name);
            return -1;
        }
        int rc = omni_webhook_add_header(req, name, value);
        free(name);
        free(value);
        if (rc < 0) {
            throw_status(env, rc);
            return -1;
        }
    }
    return 0;
}

/*
 * The omni_webhook of a request argument: its JSON text (string or Buffer:
 * omni_webhook_from_json) or an object {method, url, headers: [[n, v], ...],
 * body: string | Buffer | null} built field by field (binary-safe body).
 */
static omni_webhook *make_webhook(napi_env env, napi_value v)
{
    napi_valuetype t;
    bool is_buf = false;
    omni_webhook *req = NULL;
    int rc;
    if (napi_typeof(env, v, &t) != napi_ok)
        return (void)throw_napi(env), NULL;
    napi_is_typedarray(env, v, &is_buf);
    if (t == napi_string || is_buf) {
        bytes_arg json;
        if (get_bytes(env, v, &json, "request"))
            return NULL;
        rc = omni_webhook_from_json(&req, json.data, json.len);
        bytes_free(&json);
        if (rc < 0)
            return (void)throw_status(env, rc), NULL;
        return req;
    }
    if (t != napi_object)
        return (void)throw_type(env, "request must be an object or its JSON text"), NULL;
    char *method = prop_cstr(env, v, "method", "request method");
    if (!method)
        return NULL;
    char *url = prop_cstr(env, v, "url", "request url");
    if (!url) {
        free(method);
        return NULL;
    }
    rc = omni_webhook_new(&req, method, url);
    free(method);
    free(url);
    if (rc < 0)
        return (void)throw_status(env, rc), NULL;
    napi_value headers, body;
    if (napi_get_named_property(env, v, "headers", &headers) != napi_ok ||
        napi_get_named_property(env, v, "body", &body) != napi_ok) {
        omni_webhook_free(req);
        return (void)throw_napi(env), NULL;
    }
    if (webhook_add_headers(env, req, headers)) {
        omni_webhook_free(req);
        return NULL;
    }
    if (!is_nullish(env, body)) {
        bytes_arg b;
        if (get_bytes(env, body, &b, "request body")) {
            omni_webhook_free(req);
            return NULL;
        }
        rc = omni_webhook_set_body(req, b.data, b.len);
        bytes_free(&b);
        if (rc < 0) {
            omni_webhook_free(req);
            return (void)throw_status(env, rc), NULL;
        }
    }
    return req;
}

/* inboundHandle(inbound, engine | null, carrier, request) -> JSON text;
 * inboundVerify(...) -> undefined */
static napi_value inbound_call(napi_env env, napi_callback_info info, int verify_only)
{
    args a;
    const omni_engine *e = NULL;
    char *carrier = NULL, *out = NULL;
    size_t out_len = 0;
    int rc;
    if (get_args(env, info, &a))
        return NULL;
    omni_inbound *in = live_ptr(env, a.argv[0], KIND_INBOUND, NULL);
    if (!in || get_engine_opt(env, a.argv[1], &e) ||
        get_cstr(env, a.argv[2], &carrier, "carrier", 0))
        return NULL;
    omni_webhook *req = make_webhook(env, a.argv[3]);
    if (!req) {
        free(carrier);
        return NULL;
    }
    if (verify_only)
        rc = omni_inbound_verify(in, e, carrier, req);
    else
        rc = omni_inbound_handle(&out, &out_len, in, e, carrier, req);
    omni_webhook_free(req);
    free(carrier);
    if (rc < 0)
        return throw_status(env, rc);
    return verify_only ? make_undefined(env) : take_string(env, out, out_len);
}

static napi_value w_inbound_handle(napi_env env, napi_callback_info info)
{
    return inbound_call(env, info, 0);
}

static napi_value w_inbound_verify(napi_env env, napi_callback_info info)
{
    return inbound_call(env, info, 1);
}

/* ---- phone numbers and identifiers (omni/identity.h) ----------------------------- */

/* phoneToE164(raw, region | null) -> string */
static napi_value w_phone_to_e164(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg raw;
    char *region = NULL;
    char out[OMNI_E164_STRLEN];
    if (get_args(env, info, &a) || get_cstr(env, a.argv[1], &region, "region", 1))
        return NULL;
    if (get_bytes(env, a.argv[0], &raw, "raw")) {
        free(region);
        return NULL;
    }
    int rc = omni_phone_to_e164(out, sizeof(out), raw.data, raw.len, region);
    bytes_free(&raw);
    free(region);
    if (rc < 0)
        return throw_status(env, rc);
    return make_string(env, out, strlen(out));
}

/* phoneParse(raw, region | null) -> JSON text */
static napi_value w_phone_parse(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg raw;
    char *region = NULL, *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a) || get_cstr(env, a.argv[1], &region, "region", 1))
        return NULL;
    if (get_bytes(env, a.argv[0], &raw, "raw")) {
        free(region);
        return NULL;
    }
    int rc = omni_phone_parse(&out, &out_len, raw.data, raw.len, region);
    bytes_free(&raw);
    free(region);
    if (rc < 0)
        return throw_status(env, rc);
    return take_string(env, out, out_len);
}

/* phoneIdentityKey(e164, flags) -> string */
static napi_value w_phone_identity_key(napi_env env, napi_callback_info info)
{
    args a;
    char *e164 = NULL;
    uint32_t flags = 0;
    char out[OMNI_E164_STRLEN];
    if (get_args(env, info, &a) || get_u32(env, a.argv[1], &flags, "flags") ||
        get_cstr(env, a.argv[0], &e164, "e164", 0))
        return NULL;
    int rc = omni_phone_identity_key(out, sizeof(out), e164, flags);
    free(e164);
    if (rc < 0)
        return throw_status(env, rc);
    return make_string(env, out, strlen(out));
}

/* identityNormalize(carrier, senderJson, region | null) -> string */
static napi_value w_identity_normalize(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg sender;
    char *carrier = NULL, *region = NULL, *out = NULL;
    size_t out_len = 0;
    napi_value result = NULL;
    if (get_args(env, info, &a) || get_cstr(env, a.argv[0], &carrier, "carrier", 0))
        return NULL;
    if (get_cstr(env, a.argv[2], &region, "region", 1)) {
        free(carrier);
        return NULL;
    }
    if (get_bytes(env, a.argv[1], &sender, "sender"))
        goto done;
    int rc = omni_identity_normalize(&out, &out_len, carrier, sender.data, sender.len, region);
    bytes_free(&sender);
    if (rc < 0)
        throw_status(env, rc);
    else
        result = take_string(env, out, out_len);
done:
    free(carrier);
    free(region);
    return result;
}

/* ---- generic JSON calls ------------------------------------------------------------ */

/*
 * Most engine functions take an engine, some strings and JSON documents and give a
 * JSON document. json_call() parses such arguments as a spec says and calls an
 * adapter with them. Spec letters, one per argument in order: 'E' engine handle,
 * 'S' string (no NULs), 'J' JSON (string or bytes), 'O' JSON or null/undefined (NULL
 * to the adapter), 'T' int64 time (a number or a BigInt).
 */
#define CALL_MAX 4

typedef struct call_args {
    omni_engine *e;
    const char *str[CALL_MAX];  /* the 'S' arguments in order */
    const char *json[CALL_MAX]; /* the 'J' / 'O' arguments in order (NULL: absent 'O') */
    size_t len[CALL_MAX];
    int64_t t;
} call_args;

/* Calls the library; leaves *out NULL when the function gives no document. */
typedef int (*call_fn)(char **out, size_t *out_len, const call_args *a);

typedef struct call_spec {
    const char *args;            /* the spec letters */
    const char *names[CALL_MAX]; /* the arguments' names, for error messages */
    call_fn fn;
} call_spec;

/* fn(args per spec) -> JSON text, or undefined when fn gives no document */
static napi_value json_call(napi_env env, napi_callback_info info, const call_spec *spec)
{
    args a;
    call_args c = {0};
    char *strs[CALL_MAX] = {0};
    bytes_arg bytes[CALL_MAX] = {{0}};
    int ns = 0, nj = 0, ok = 0;
    char *out = NULL;
    size_t out_len = 0;
    napi_value result = NULL;
    if (get_args(env, info, &a))
        return NULL;
    for (int i = 0; i < CALL_MAX && spec->args[i]; i++) {
        napi_value v = a.argv[i];
        const char *what = spec->names[i];
        int have = 1;
        switch (spec->args[i]) {
        case 'E':
            if (!(c.e = live_ptr(env, v, KIND_ENGINE, NULL)))
                goto done;
            break;
        case 'S':
            if (get_cstr(env, v, &strs[ns], what, 0))
                goto done;
            c.str[ns] = strs[ns];
            ns++;
            break;
        case 'J':
        case 'O':
            if (spec->args[i] == 'J' ? get_bytes(env, v, &bytes[nj], what)
                                     : get_bytes_opt(env, v, &bytes[nj], &have, what))
                goto done;
            c.json[nj] = have ? bytes[nj].data : NULL;
            c.len[nj] = have ? bytes[nj].len : 0;
            nj++;
            break;
        case 'T':
            if (get_i64(env, v, &c.t, what))
                goto done;
            break;
        default:
            throw_invalid(env, "internal: bad argument spec");
            goto done;
        }
    }
    ok = 1;
done:
    if (ok) {
        int rc = spec->fn(&out, &out_len, &c);
        if (rc < 0)
            throw_status(env, rc);
        else
            result = out ? take_string(env, out, out_len) : make_undefined(env);
    }
    for (int i = 0; i < CALL_MAX; i++) {
        free(strs[i]);
        bytes_free(&bytes[i]);
    }
    return result;
}

/* Declares w_<name>, the wrapper of adapter <name> with spec letters and names. */
#define JSON_CALL(name, letters, ...)                                                          \
    static napi_value w_##name(napi_env env, napi_callback_info info)                          \
    {                                                                                          \
        static const call_spec spec = {letters, {__VA_ARGS__}, name};                          \
        return json_call(env, info, &spec);                                                    \
    }

/* routingSet(engine, key, json) */
static int routing_set(char **out, size_t *out_len, const call_args *a)
{
    (void)out;
    (void)out_len;
    return omni_routing_set(a->e, a->str[0], a->json[0], a->len[0]);
}
JSON_CALL(routing_set, "ESJ", NULL, "recipientKey", "routing")

typedef int (*engine_get_fn)(char **out, size_t *out_len, omni_engine *e, const char *id);
typedef int (*engine_del_fn)(omni_engine *e, const char *id);

/* fn(engine, string) -> JSON text */
static napi_value engine_get(napi_env env, napi_callback_info info, engine_get_fn fn,
                             const char *what)
{
    args a;
    char *id = NULL, *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, NULL);
    if (!e || get_cstr(env, a.argv[1], &id, what, 0))
        return NULL;
    int rc = fn(&out, &out_len, e, id);
    free(id);
    if (rc < 0)
        return throw_status(env, rc);
    return take_string(env, out, out_len);
}

/* fn(engine, string) -> undefined */
static napi_value engine_del(napi_env env, napi_callback_info info, engine_del_fn fn,
                             const char *what)
{
    args a;
    char *id = NULL;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, NULL);
    if (!e || get_cstr(env, a.argv[1], &id, what, 0))
        return NULL;
    int rc = fn(e, id);
    free(id);
    if (rc < 0)
        return throw_status(env, rc);
    return make_undefined(env);
}

static napi_value w_routing_get(napi_env env, napi_callback_info info)
{
    return engine_get(env, info, omni_routing_get, "recipientKey");
}

static napi_value w_routing_delete(napi_env env, napi_callback_info info)
{
    return engine_del(env, info, omni_routing_delete, "recipientKey");
}

static napi_value w_customer_get(napi_env env, napi_callback_info info)
{
    return engine_get(env, info, omni_customer_get, "customerId");
}

static napi_value w_identity_unlink(napi_env env, napi_callback_info info)
{
    return engine_del(env, info, omni_identity_unlink, "identifier");
}

/* customerPut(engine, json) -> JSON text */
static int customer_put(char **out, size_t *out_len, const call_args *a)
{
    return omni_customer_put(out, out_len, a->e, a->json[0], a->len[0]);
}
JSON_CALL(customer_put, "EJ", NULL, "customer")

/* identityLink(engine, customerId, identifier) */
static napi_value w_identity_link(napi_env env, napi_callback_info info)
{
    args a;
    char *id = NULL, *ident = NULL;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, NULL);
    if (!e || get_cstr(env, a.argv[1], &id, "customerId", 0))
        return NULL;
    if (get_cstr(env, a.argv[2], &ident, "identifier", 0)) {
        free(id);
        return NULL;
    }
    int rc = omni_identity_link(e, id, ident);
    free(id);
    free(ident);
    if (rc < 0)
        return throw_status(env, rc);
    return make_undefined(env);
}

/* identityLookup(engine, eventJson, optionsJson | null) -> JSON text */
static int identity_lookup(char **out, size_t *out_len, const call_args *a)
{
    return omni_identity_lookup(out, out_len, a->e, a->json[0], a->len[0], a->json[1],
                                a->len[1]);
}
JSON_CALL(identity_lookup, "EJO", NULL, "event", "options")

/* ---- conversations (omni/conversation.h) ------------------------------------------------- */

/* conversationStep(engine, eventJson, optionsJson | null) -> JSON text */
static int conversation_step(char **out, size_t *out_len, const call_args *a)
{
    return omni_conversation_step(out, out_len, a->e, a->json[0], a->len[0], a->json[1],
                                  a->len[1]);
}
JSON_CALL(conversation_step, "EJO", NULL, "event", "options")

/* conversationTransition(engine, conversationId, eventJson) -> JSON text */
static int conversation_transition(char **out, size_t *out_len, const call_args *a)
{
    return omni_conversation_transition(out, out_len, a->e, a->str[0], a->json[0], a->len[0]);
}
JSON_CALL(conversation_transition, "ESJ", NULL, "conversationId", "event")

/* conversationHistory(engine, conversationId, queryJson | null) -> JSON text */
static int conversation_history(char **out, size_t *out_len, const call_args *a)
{
    return omni_conversation_history(out, out_len, a->e, a->str[0], a->json[0], a->len[0]);
}
JSON_CALL(conversation_history, "ESO", NULL, "conversationId", "query")

/* conversationList(engine, customerId, queryJson | null) -> JSON text */
static int conversation_list(char **out, size_t *out_len, const call_args *a)
{
    return omni_conversation_list(out, out_len, a->e, a->str[0], a->json[0], a->len[0]);
}
JSON_CALL(conversation_list, "ESO", NULL, "customerId", "query")

/* conversationDelivery(engine, updateJson) -> JSON text */
static int conversation_delivery(char **out, size_t *out_len, const call_args *a)
{
    return omni_conversation_delivery(out, out_len, a->e, a->json[0], a->len[0]);
}
JSON_CALL(conversation_delivery, "EJ", NULL, "update")

/* conversationSettingsSet(engine, accountId, settingsJson) */
static int conversation_settings_set(char **out, size_t *out_len, const call_args *a)
{
    (void)out;
    (void)out_len;
    return omni_conversation_settings_set(a->e, a->str[0], a->json[0], a->len[0]);
}
JSON_CALL(conversation_settings_set, "ESJ", NULL, "accountId", "settings")

/* conversationApply(conversationJson, eventJson, nowMs) -> JSON text */
static int conversation_apply(char **out, size_t *out_len, const call_args *a)
{
    return omni_conversation_apply(out, out_len, a->json[0], a->len[0], a->json[1], a->len[1],
                                   a->t);
}
JSON_CALL(conversation_apply, "JJT", "conversation", "event", "nowMs")

/* dynamodbStreamEvents(eventJson, nowMs) -> JSON text */
static int dynamodb_stream_events(char **out, size_t *out_len, const call_args *a)
{
    return omni_dynamodb_stream_events(out, out_len, a->json[0], a->len[0], a->t);
}
JSON_CALL(dynamodb_stream_events, "JT", "event", "nowMs")

/* conversationGet / conversationDelete / conversationSettingsGet(engine, id) -> JSON text */
static napi_value w_conversation_get(napi_env env, napi_callback_info info)
{
    return engine_get(env, info, omni_conversation_get, "conversationId");
}

static napi_value w_conversation_delete(napi_env env, napi_callback_info info)
{
    return engine_get(env, info, omni_conversation_delete, "conversationId");
}

static napi_value w_conversation_settings_get(napi_env env, napi_callback_info info)
{
    return engine_get(env, info, omni_conversation_settings_get, "accountId");
}

/* dynamodbUnmarshall(itemJson) -> JSON text */
static napi_value w_dynamodb_unmarshall(napi_env env, napi_callback_info info)
{
    return codec(env, info, omni_dynamodb_unmarshall, 0);
}

/* conversationWindow(engine, conversationId) -> {open, expiresAtMs} */
static napi_value w_conversation_window(napi_env env, napi_callback_info info)
{
    args a;
    char *id = NULL;
    int open = 0;
    int64_t expires = 0;
    napi_value obj, v;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, NULL);
    if (!e || get_cstr(env, a.argv[1], &id, "conversationId", 0))
        return NULL;
    int rc = omni_conversation_window(e, id, &open, &expires);
    free(id);
    if (rc < 0)
        return throw_status(env, rc);
    NAPI_CALL(env, napi_create_object(env, &obj));
    NAPI_CALL(env, napi_get_boolean(env, open != 0, &v));
    NAPI_CALL(env, napi_set_named_property(env, obj, "open", v));
    if (!(v = make_i64(env, expires)))
        return NULL;
    NAPI_CALL(env, napi_set_named_property(env, obj, "expiresAtMs", v));
    return obj;
}

/* A status or event argument: its name, or its number. */
static int get_conv_enum(napi_env env, napi_value v, int (*parse)(const char *, int *), int *out,
                         const char *what)
{
    napi_valuetype t;
    if (napi_typeof(env, v, &t) != napi_ok) {
        throw_napi(env);
        return -1;
    }
    if (t == napi_string) {
        char *name = NULL;
        if (get_cstr(env, v, &name, what, 0))
            return -1;
        int rc = parse(name, out);
        free(name);
        if (rc < 0) {
            throw_status(env, rc);
            return -1;
        }
        return 0;
    }
    int64_t n;
    if (t != napi_number) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%s must be a name or a number", what);
        throw_type(env, msg);
        return -1;
    }
    if (get_i64(env, v, &n, what))
        return -1;
    *out = n < INT32_MIN || n > INT32_MAX ? INT32_MIN : (int)n; /* the library rejects it */
    return 0;
}

/* conversationNextStatus(status, event) -> the next status's name */
static napi_value w_conversation_next_status(napi_env env, napi_callback_info info)
{
    args a;
    int status, event, next = 0;
    if (get_args(env, info, &a) ||
        get_conv_enum(env, a.argv[0], omni_conversation_status_parse, &status, "status") ||
        get_conv_enum(env, a.argv[1], omni_conversation_event_parse, &event, "event"))
        return NULL;
    int rc = omni_conversation_next_status(status, event, &next);
    if (rc < 0)
        return throw_status(env, rc);
    const char *name = omni_conversation_status_name(next);
    return make_string(env, name, strlen(name));
}

/* conversationNames(events) -> the status names (events false) or the event names, by
 * number */
static napi_value w_conversation_names(napi_env env, napi_callback_info info)
{
    args a;
    bool events = false;
    napi_value list, v;
    const char *name;
    if (get_args(env, info, &a))
        return NULL;
    NAPI_CALL(env, napi_get_value_bool(env, a.argv[0], &events));
    NAPI_CALL(env, napi_create_array(env, &list));
    for (uint32_t i = 0;; i++) {
        name = events ? omni_conversation_event_name((int)i)
                      : omni_conversation_status_name((int)i);
        if (!name)
            break;
        if (!(v = make_string(env, name, strlen(name))))
            return NULL;
        NAPI_CALL(env, napi_set_element(env, list, i, v));
    }
    return list;
}

/* ---- module ----------------------------------------------------------------------- */

/* ---- pre-routing (omni/rules.h, omni/analyze.h, omni/preroute.h) ----------------------- */

/* The analyzer hook of an engine made with a JavaScript analyzer: the function
 * (index.js wraps the user's one: JSON text in, JSON text or null out) and the
 * env it lives in. Hooks are only called synchronously on the JS thread. */
struct analyzer_ctx {
    napi_env env;
    napi_ref fn;
};

static int analyzer_ctx_new(napi_env env, napi_value fn, analyzer_ctx **out)
{
    napi_valuetype t;
    *out = NULL;
    if (napi_typeof(env, fn, &t) != napi_ok || t != napi_function) {
        throw_type(env, "analyzer must be a function");
        return -1;
    }
    analyzer_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
        return -1;
    }
    c->env = env;
    if (napi_create_reference(env, fn, 1, &c->fn) != napi_ok) {
        free(c);
        throw_napi(env);
        return -1;
    }
    *out = c;
    return 0;
}

static void analyzer_ctx_finalize(napi_env env, void *data, void *hint)
{
    (void)hint;
    analyzer_ctx *c = data;
    if (!c)
        return;
    if (c->fn)
        napi_delete_reference(env, c->fn);
    free(c);
}

static int js_analyzer_call(napi_env env, analyzer_ctx *c, const char *request,
                            size_t request_len, const char *builtin, size_t builtin_len,
                            char **out, size_t *out_len)
{
    napi_value fn, argv[2], undef, result, exc;
    napi_valuetype t;
    char text[400], msg[480];
    size_t n = 0;
    napi_get_undefined(env, &undef);
    if (napi_get_reference_value(env, c->fn, &fn) != napi_ok || !fn ||
        napi_create_string_utf8(env, request, request_len, &argv[0]) != napi_ok ||
        napi_create_string_utf8(env, builtin, builtin_len, &argv[1]) != napi_ok)
        return omni_error_set(OMNI_EHOOK, "analyzer hook: cannot call the JavaScript function",
                              0);
    if (napi_call_function(env, undef, fn, 2, argv, &result) != napi_ok) {
        if (take_exception(env, &exc)) {
            exception_text(env, exc, text, sizeof(text));
            snprintf(msg, sizeof(msg), "analyzer hook threw: %s", text);
        } else {
            snprintf(msg, sizeof(msg), "analyzer hook failed");
        }
        return omni_error_set(OMNI_EHOOK, msg, 0);
    }
    if (is_nullish(env, result))
        return OMNI_OK;
    if (napi_typeof(env, result, &t) != napi_ok || t != napi_string ||
        napi_get_value_string_utf8(env, result, NULL, 0, &n) != napi_ok)
        return omni_error_set(OMNI_EHOOK, "analyzer hook: expected a JSON string or null", 0);
    char *buf = omni_malloc(n + 1);
    if (!buf)
        return omni_error_set(OMNI_ENOMEM, NULL, -1);
    napi_get_value_string_utf8(env, result, buf, n + 1, &n);
    *out = buf;
    *out_len = n;
    return OMNI_OK;
}

static int js_analyzer(void *ctx, const char *request, size_t request_len, const char *builtin,
                       size_t builtin_len, char **out, size_t *out_len)
{
    analyzer_ctx *c = ctx;
    napi_env env = c->env;
    napi_handle_scope scope;
    napi_value ignored;
    *out = NULL;
    *out_len = 0;
    if (napi_open_handle_scope(env, &scope) != napi_ok)
        return omni_error_set(OMNI_EHOOK, "Node-API: cannot open a handle scope", 0);
    int rc = js_analyzer_call(env, c, request, request_len, builtin, builtin_len, out, out_len);
    take_exception(env, &ignored); /* nothing may stay pending */
    napi_close_handle_scope(env, scope);
    return rc;
}

/* rulesCompile(rulesJson, optionsJson | null) -> rules handle */
static napi_value w_rules_compile(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg src = {0}, opts = {0};
    int have_opts = 0;
    omni_rules *r = NULL;
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &src, "rules"))
        return NULL;
    if (get_bytes_opt(env, a.argv[1], &opts, &have_opts, "options")) {
        bytes_free(&src);
        return NULL;
    }
    int rc = omni_rules_compile(&r, src.data, src.len, have_opts ? opts.data : NULL,
                                have_opts ? opts.len : 0);
    bytes_free(&src);
    bytes_free(&opts);
    if (rc < 0)
        return throw_status(env, rc);
    return new_handle(env, KIND_RULES, r, NULL, NULL);
}

/* rulesIds(rules) -> [id, ...] in document order */
static napi_value w_rules_ids(napi_env env, napi_callback_info info)
{
    args a;
    napi_value arr, s;
    if (get_args(env, info, &a))
        return NULL;
    omni_rules *r = live_ptr(env, a.argv[0], KIND_RULES, NULL);
    if (!r)
        return NULL;
    size_t n = omni_rules_count(r);
    NAPI_CALL(env, napi_create_array_with_length(env, n, &arr));
    for (size_t i = 0; i < n; i++) {
        const char *id = omni_rules_id(r, i);
        NAPI_CALL(env, napi_create_string_utf8(env, id ? id : "", NAPI_AUTO_LENGTH, &s));
        NAPI_CALL(env, napi_set_element(env, arr, (uint32_t)i, s));
    }
    return arr;
}

/* rulesEval(rules, facts (JSON text | data handle), nowMs, explain) -> JSON text;
 * rulesMatch(rules, facts, nowMs) -> [id, ...] */
static napi_value rules_run(napi_env env, napi_callback_info info, int match)
{
    args a;
    bytes_arg facts = {0};
    int64_t now = 0;
    bool explain = false;
    omni_data *data = NULL;
    char *out = NULL;
    size_t out_len = 0, count = 0;
    uint32_t *idx = NULL;
    int rc;
    if (get_args(env, info, &a))
        return NULL;
    omni_rules *r = live_ptr(env, a.argv[0], KIND_RULES, NULL);
    if (!r)
        return NULL;
    if (is_kind(env, a.argv[1], KIND_DATA)) {
        if (!(data = live_ptr(env, a.argv[1], KIND_DATA, NULL)))
            return NULL;
    } else if (get_bytes(env, a.argv[1], &facts, "facts")) {
        return NULL;
    }
    if (!is_nullish(env, a.argv[2]) && get_i64(env, a.argv[2], &now, "nowMs"))
        goto fail;
    if (!match) {
        napi_get_value_bool(env, a.argv[3], &explain);
        unsigned flags = explain ? OMNI_RULES_EXPLAIN : 0;
        rc = data ? omni_rules_eval_data(&out, &out_len, r, data, now, flags)
                  : omni_rules_eval(&out, &out_len, r, facts.data, facts.len, now, flags);
        bytes_free(&facts);
        return rc < 0 ? throw_status(env, rc) : take_string(env, out, out_len);
    }
    size_t cap = omni_rules_count(r);
    if (!(idx = malloc((cap ? cap : 1) * sizeof(*idx)))) {
        throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
        goto fail;
    }
    rc = data ? omni_rules_match_data(r, data, now, idx, cap, &count)
              : omni_rules_match(r, facts.data, facts.len, now, idx, cap, &count);
    bytes_free(&facts);
    if (rc < 0) {
        free(idx);
        return throw_status(env, rc);
    }
    napi_value arr, s;
    if (count > cap)
        count = cap;
    if (napi_create_array_with_length(env, count, &arr) != napi_ok) {
        free(idx);
        return throw_napi(env);
    }
    for (size_t i = 0; i < count; i++) {
        const char *id = omni_rules_id(r, idx[i]);
        if (napi_create_string_utf8(env, id ? id : "", NAPI_AUTO_LENGTH, &s) != napi_ok ||
            napi_set_element(env, arr, (uint32_t)i, s) != napi_ok) {
            free(idx);
            return throw_napi(env);
        }
    }
    free(idx);
    return arr;
fail:
    bytes_free(&facts);
    return NULL;
}

static napi_value w_rules_eval(napi_env env, napi_callback_info info)
{
    return rules_run(env, info, 0);
}

static napi_value w_rules_match(napi_env env, napi_callback_info info)
{
    return rules_run(env, info, 1);
}

/* analyzerCompile(configJson | null) -> analyzer handle */
static napi_value w_analyzer_compile(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg cfg = {0};
    int have = 0;
    omni_analyzer *an = NULL;
    if (get_args(env, info, &a) || get_bytes_opt(env, a.argv[0], &cfg, &have, "config"))
        return NULL;
    int rc = omni_analyzer_compile(&an, have ? cfg.data : NULL, have ? cfg.len : 0);
    bytes_free(&cfg);
    if (rc < 0)
        return throw_status(env, rc);
    return new_handle(env, KIND_ANALYZER, an, NULL, NULL);
}

/* analyze(analyzer | null, requestJson) -> JSON text;
 * analyzeText(analyzer | null, text, language | null, sender | null) -> JSON text */
static napi_value analyze_run(napi_env env, napi_callback_info info, int text_form)
{
    args a;
    bytes_arg in = {0};
    char *lang = NULL, *sender = NULL, *out = NULL;
    size_t out_len = 0;
    const omni_analyzer *an = NULL;
    napi_value result = NULL;
    if (get_args(env, info, &a))
        return NULL;
    if (!is_nullish(env, a.argv[0]) && !(an = live_ptr(env, a.argv[0], KIND_ANALYZER, NULL)))
        return NULL;
    if (get_bytes(env, a.argv[1], &in, text_form ? "text" : "request"))
        return NULL;
    if (text_form && (get_cstr(env, a.argv[2], &lang, "language", 1) ||
                      get_cstr(env, a.argv[3], &sender, "sender", 1)))
        goto done;
    int rc = text_form ? omni_analyze_text(&out, &out_len, an, in.data, in.len, lang, sender)
                       : omni_analyze(&out, &out_len, an, in.data, in.len);
    result = rc < 0 ? throw_status(env, rc) : take_string(env, out, out_len);
done:
    bytes_free(&in);
    free(lang);
    free(sender);
    return result;
}

static napi_value w_analyze(napi_env env, napi_callback_info info)
{
    return analyze_run(env, info, 0);
}

static napi_value w_analyze_text(napi_env env, napi_callback_info info)
{
    return analyze_run(env, info, 1);
}

/* prerouteCompile(configJson) -> preroute handle */
static napi_value w_preroute_compile(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg cfg = {0};
    omni_preroute *p = NULL;
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &cfg, "config"))
        return NULL;
    int rc = omni_preroute_compile(&p, cfg.data, cfg.len);
    bytes_free(&cfg);
    if (rc < 0)
        return throw_status(env, rc);
    return new_handle(env, KIND_PREROUTE, p, NULL, NULL);
}

/* prerouteRun(engine, preroute, eventJson) -> JSON text. The engine's analyzer hook
 * may run JavaScript that closes either handle: both stay alive until the run ends. */
static napi_value w_preroute_run(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg ev = {0};
    handle *he = NULL, *hp = NULL;
    char *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, &he);
    omni_preroute *p = e ? live_ptr(env, a.argv[1], KIND_PREROUTE, &hp) : NULL;
    if (!p || get_bytes(env, a.argv[2], &ev, "event"))
        return NULL;
    he->busy++;
    hp->busy++;
    int rc = omni_preroute_run(&out, &out_len, e, p, ev.data, ev.len);
    handle_unbusy(hp);
    handle_unbusy(he);
    bytes_free(&ev);
    return rc < 0 ? throw_status(env, rc) : take_string(env, out, out_len);
}

/* optoutGet(engine, accountId, customerId) -> JSON text */
static int optout_get(char **out, size_t *out_len, const call_args *a)
{
    return omni_optout_get(out, out_len, a->e, a->str[0], a->str[1]);
}
JSON_CALL(optout_get, "ESS", NULL, "accountId", "customerId")

/* optoutSet(engine, accountId, customerId, optedOut, keyword | null, channel | null)
 * -> changed */
static napi_value w_optout_set(napi_env env, napi_callback_info info)
{
    args a;
    char *acc = NULL, *cus = NULL, *kw = NULL, *ch = NULL;
    bool opted_out = false;
    int changed = 0;
    napi_value result = NULL;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, NULL);
    if (!e || get_cstr(env, a.argv[1], &acc, "accountId", 0) ||
        get_cstr(env, a.argv[2], &cus, "customerId", 0) ||
        get_cstr(env, a.argv[4], &kw, "keyword", 1) ||
        get_cstr(env, a.argv[5], &ch, "channel", 1))
        goto done;
    if (napi_get_value_bool(env, a.argv[3], &opted_out) != napi_ok) {
        throw_type(env, "optedOut must be a boolean");
        goto done;
    }
    int rc = omni_optout_set(e, acc, cus, opted_out ? 1 : 0, kw, ch, &changed);
    if (rc < 0)
        throw_status(env, rc);
    else
        napi_get_boolean(env, changed != 0, &result);
done:
    free(acc);
    free(cus);
    free(kw);
    free(ch);
    return result;
}

/* ---- AWS Signature Version 4 (omni/aws.h) -------------------------------------------- */

/* The credentials arguments at argv[i..i+2]: accessKeyId, secretAccessKey,
 * sessionToken | null. The strings are freed by aws_cred_free. */
typedef struct aws_cred_args {
    char *akid, *secret, *token;
    omni_aws_credentials cred;
} aws_cred_args;

static void aws_cred_free(aws_cred_args *c)
{
    free(c->akid);
    if (c->secret) {
        memset(c->secret, 0, strlen(c->secret)); /* do not leave the secret around */
        free(c->secret);
    }
    free(c->token);
}

static int aws_cred_get(napi_env env, const napi_value *argv, aws_cred_args *c)
{
    memset(c, 0, sizeof(*c));
    if (get_cstr(env, argv[0], &c->akid, "accessKeyId", 0) ||
        get_cstr(env, argv[1], &c->secret, "secretAccessKey", 0) ||
        get_cstr(env, argv[2], &c->token, "sessionToken", 1))
        return -1;
    omni_aws_credentials init = OMNI_AWS_CREDENTIALS_INIT;
    c->cred = init;
    c->cred.access_key_id = c->akid;
    c->cred.secret_access_key = c->secret;
    c->cred.session_token = c->token;
    return 0;
}

/* awsSigv4Sign(requestJson, accessKeyId, secretAccessKey, sessionToken | null, region, service,
 * nowMs, flags) -> signed request JSON; with canonical = 1 -> [canonicalRequest, stringToSign] */
static napi_value aws_sign_run(napi_env env, napi_callback_info info, int canonical)
{
    args a;
    bytes_arg json = {0};
    aws_cred_args c;
    char *region = NULL, *service = NULL, *out = NULL, *sts = NULL;
    size_t out_len = 0, sts_len = 0;
    int64_t now = 0;
    uint32_t flags = 0;
    omni_http_request *req = NULL;
    napi_value result = NULL;
    memset(&c, 0, sizeof(c));
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &json, "request"))
        return NULL;
    if (aws_cred_get(env, &a.argv[1], &c) || get_cstr(env, a.argv[4], &region, "region", 0) ||
        get_cstr(env, a.argv[5], &service, "service", 0) ||
        get_i64(env, a.argv[6], &now, "nowMs") || get_u32(env, a.argv[7], &flags, "flags"))
        goto done;
    int rc = omni_http_request_from_json(&req, json.data, json.len);
    if (rc >= 0 && canonical)
        rc = omni_aws_sigv4_canonical(&out, &out_len, &sts, &sts_len, req, &c.cred, region,
                                      service, now, flags);
    else if (rc >= 0)
        rc = omni_aws_sigv4_sign(req, &c.cred, region, service, now, flags);
    if (rc >= 0 && !canonical)
        rc = omni_http_request_to_json(&out, &out_len, req);
    if (rc < 0) {
        throw_status(env, rc);
        goto done;
    }
    if (!canonical) {
        result = take_string(env, out, out_len);
        out = NULL;
    } else {
        napi_value arr, s1, s2;
        if (napi_create_array_with_length(env, 2, &arr) != napi_ok ||
            napi_create_string_utf8(env, out, out_len, &s1) != napi_ok ||
            napi_create_string_utf8(env, sts, sts_len, &s2) != napi_ok ||
            napi_set_element(env, arr, 0, s1) != napi_ok ||
            napi_set_element(env, arr, 1, s2) != napi_ok)
            throw_napi(env);
        else
            result = arr;
    }
done:
    omni_free(out);
    omni_free(sts);
    omni_http_request_free(req);
    aws_cred_free(&c);
    free(region);
    free(service);
    bytes_free(&json);
    return result;
}

static napi_value w_aws_sigv4_sign(napi_env env, napi_callback_info info)
{
    return aws_sign_run(env, info, 0);
}

static napi_value w_aws_sigv4_canonical(napi_env env, napi_callback_info info)
{
    return aws_sign_run(env, info, 1);
}

/* awsSigv4Presign(method, url, accessKeyId, secretAccessKey, sessionToken | null, region,
 * service, nowMs, expiresS) -> URL */
static napi_value w_aws_sigv4_presign(napi_env env, napi_callback_info info)
{
    args a;
    aws_cred_args c;
    char *method = NULL, *url = NULL, *region = NULL, *service = NULL, *out = NULL;
    size_t out_len = 0;
    int64_t now = 0;
    uint32_t expires = 0;
    napi_value result = NULL;
    memset(&c, 0, sizeof(c));
    if (get_args(env, info, &a))
        return NULL;
    if (get_cstr(env, a.argv[0], &method, "method", 0) ||
        get_cstr(env, a.argv[1], &url, "url", 0) || aws_cred_get(env, &a.argv[2], &c) ||
        get_cstr(env, a.argv[5], &region, "region", 0) ||
        get_cstr(env, a.argv[6], &service, "service", 0) ||
        get_i64(env, a.argv[7], &now, "nowMs") || get_u32(env, a.argv[8], &expires, "expires"))
        goto done;
    int rc = omni_aws_sigv4_presign(&out, &out_len, method, url, &c.cred, region, service, now,
                                    expires);
    if (rc < 0)
        throw_status(env, rc);
    else
        result = take_string(env, out, out_len);
done:
    aws_cred_free(&c);
    free(method);
    free(url);
    free(region);
    free(service);
    return result;
}

/* ---- outbound carrier adapters (omni/outbound.h) ------------------------------------- */

/* outboundNew(configJson) -> outbound handle */
static napi_value w_outbound_new(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg cfg = {0};
    omni_outbound *ob = NULL;
    if (get_args(env, info, &a) || get_bytes(env, a.argv[0], &cfg, "config"))
        return NULL;
    int rc = omni_outbound_new(&ob, cfg.data, cfg.len);
    bytes_free(&cfg);
    if (rc < 0)
        return throw_status(env, rc);
    return new_handle(env, KIND_OUTBOUND, ob, NULL, NULL);
}

/* outboundBuild(outbound, eventJson, carrier | null, nowMs) -> request JSON */
static napi_value w_outbound_build(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg ev = {0};
    char *carrier = NULL, *out = NULL;
    size_t out_len = 0;
    int64_t now = 0;
    omni_http_request *req = NULL;
    napi_value result = NULL;
    if (get_args(env, info, &a))
        return NULL;
    omni_outbound *ob = live_ptr(env, a.argv[0], KIND_OUTBOUND, NULL);
    if (!ob || get_bytes(env, a.argv[1], &ev, "event"))
        return NULL;
    if (get_cstr(env, a.argv[2], &carrier, "carrier", 1) || get_i64(env, a.argv[3], &now, "nowMs"))
        goto done;
    int rc = omni_outbound_build(&req, ob, carrier, ev.data, ev.len, now);
    if (rc >= 0)
        rc = omni_http_request_to_json(&out, &out_len, req);
    result = rc < 0 ? throw_status(env, rc) : take_string(env, out, out_len);
done:
    omni_http_request_free(req);
    free(carrier);
    bytes_free(&ev);
    return result;
}

/* outboundParse(outbound, carrier, responseJson, nowMs) -> result JSON */
static napi_value w_outbound_parse(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg rj = {0};
    char *carrier = NULL, *out = NULL;
    size_t out_len = 0;
    int64_t now = 0;
    omni_http_response *resp = NULL;
    napi_value result = NULL;
    if (get_args(env, info, &a))
        return NULL;
    omni_outbound *ob = live_ptr(env, a.argv[0], KIND_OUTBOUND, NULL);
    if (!ob || get_cstr(env, a.argv[1], &carrier, "carrier", 0))
        return NULL;
    if (get_bytes(env, a.argv[2], &rj, "response") || get_i64(env, a.argv[3], &now, "nowMs"))
        goto done;
    int rc = omni_http_response_from_json(&resp, rj.data, rj.len);
    if (rc >= 0)
        rc = omni_outbound_parse(&out, &out_len, ob, carrier, resp, now);
    result = rc < 0 ? throw_status(env, rc) : take_string(env, out, out_len);
done:
    omni_http_response_free(resp);
    free(carrier);
    bytes_free(&rj);
    return result;
}

/* ---- the delivery engine (omni/delivery.h) -------------------------------------------- */

/* A delivery borrows its engine and outbound: it holds a reference on their
 * handles (the memory stays valid) and fails "... is closed" once either is
 * closed; the JS handle object keeps their JS objects alive. A job holds its
 * delivery's handle the same way. */
typedef struct dlv_native {
    omni_delivery *d;
    handle *engine, *outbound;
    void *push; /* a reference on the push handle (push_adapters.h), or NULL */
} dlv_native;

typedef struct dlv_job_native {
    omni_delivery_job *job;
    handle *delivery;
} dlv_job_native;

static void dlv_native_free(void *p)
{
    dlv_native *n = p;
    omni_delivery_free(n->d);
    handle_release(n->engine);
    handle_release(n->outbound);
    omni_node_push_release(n->push);
    free(n);
}

static void dlv_job_native_free(void *p)
{
    dlv_job_native *j = p;
    omni_delivery_job_free(j->job);
    handle_release(j->delivery);
    free(j);
}

/* NULL (with an exception) when the delivery's engine or outbound is closed. */
static dlv_native *dlv_check(napi_env env, dlv_native *n)
{
    if (!n)
        return NULL;
    if (!handle_ptr(n->engine)) {
        throw_invalid(env, "engine is closed");
        return NULL;
    }
    if (!handle_ptr(n->outbound)) {
        throw_invalid(env, "outbound is closed");
        return NULL;
    }
    if (n->push && !omni_node_push_get(n->push)) {
        throw_invalid(env, "push is closed");
        return NULL;
    }
    return n;
}

static dlv_native *dlv_live(napi_env env, napi_value v, handle **hout)
{
    return dlv_check(env, live_ptr(env, v, KIND_DELIVERY, hout));
}

static dlv_job_native *dlv_job_live(napi_env env, napi_value v)
{
    dlv_job_native *j = live_ptr(env, v, KIND_DELIVERY_JOB, NULL);
    if (!j)
        return NULL;
    dlv_native *n = handle_ptr(j->delivery);
    if (!n) {
        throw_invalid(env, "delivery is closed");
        return NULL;
    }
    return dlv_check(env, n) ? j : NULL;
}

/* A time argument: an integer (Unix ms), or null / undefined for the engine's clock. */
static int dlv_now(napi_env env, napi_value v, const dlv_native *n, int64_t *now)
{
    if (is_nullish(env, v)) {
        *now = omni_engine_now_ms(handle_ptr(n->engine));
        return 0;
    }
    return get_i64(env, v, now, "nowMs");
}

/* An optional JSON document argument (null / undefined: none). */
static int opt_bytes(napi_env env, napi_value v, bytes_arg *out, const char *what)
{
    if (is_nullish(env, v)) {
        out->data = NULL;
        out->len = 0;
        out->owned = NULL;
        return 0;
    }
    return get_bytes(env, v, out, what);
}

static napi_value set_props(napi_env env, napi_value obj, const char *n1, napi_value v1,
                            const char *n2, napi_value v2)
{
    napi_property_descriptor props[] = {
        {n1, NULL, NULL, NULL, NULL, v1, napi_default, NULL},
        {n2, NULL, NULL, NULL, NULL, v2, napi_default, NULL},
    };
    if (obj && napi_define_properties(env, obj, n2 ? 2 : 1, props) != napi_ok)
        return throw_napi(env);
    return obj;
}

static const omni_node_push_helpers push_helpers;

/* deliveryNew(engine, outbound, configJson | null, push | null) -> delivery handle */
static napi_value w_delivery_new(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg cfg = {0};
    handle *eh = NULL, *oh = NULL;
    omni_delivery *d = NULL;
    if (get_args(env, info, &a))
        return NULL;
    omni_engine *e = live_ptr(env, a.argv[0], KIND_ENGINE, &eh);
    if (!e)
        return NULL;
    omni_outbound *ob = live_ptr(env, a.argv[1], KIND_OUTBOUND, &oh);
    if (!ob || opt_bytes(env, a.argv[2], &cfg, "config"))
        return NULL;
    omni_push *push = NULL;
    void *push_ref = NULL;
    if (!is_nullish(env, a.argv[3]) &&
        !(push_ref = omni_node_push_acquire(env, a.argv[3], &push_helpers, &push))) {
        bytes_free(&cfg);
        return NULL;
    }
    int rc = omni_delivery_new(&d, e, ob, cfg.data, cfg.len);
    bytes_free(&cfg);
    if (rc == OMNI_OK && push)
        rc = omni_delivery_set_push(d, push);
    if (rc < 0) {
        omni_delivery_free(d);
        omni_node_push_release(push_ref);
        return throw_status(env, rc);
    }
    dlv_native *n = calloc(1, sizeof(*n));
    if (!n) {
        omni_delivery_free(d);
        omni_node_push_release(push_ref);
        return throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
    }
    n->d = d;
    n->push = push_ref;
    n->engine = eh;
    n->outbound = oh;
    eh->refs++;
    oh->refs++;
    return set_props(env, new_handle(env, KIND_DELIVERY, n, NULL, NULL), "engine", a.argv[0],
                     "outbound", a.argv[1]);
}

/* A new job handle (takes job), keeping the delivery's JS object alive. */
static napi_value new_job(napi_env env, omni_delivery_job *job, handle *dh, napi_value dobj)
{
    dlv_job_native *j = calloc(1, sizeof(*j));
    if (!j) {
        omni_delivery_job_free(job);
        return throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
    }
    j->job = job;
    j->delivery = dh;
    dh->refs++;
    return set_props(env, new_handle(env, KIND_DELIVERY_JOB, j, NULL, NULL), "delivery", dobj,
                     NULL, NULL);
}

typedef int (*dlv_event_fn)(char **out, size_t *out_len, omni_delivery *d, const char *event,
                            size_t len, const char *options, size_t options_len);

/* fn(delivery, eventJson, optionsJson | null) -> JSON text, for send and notify. */
static napi_value dlv_event_call(napi_env env, napi_callback_info info, dlv_event_fn fn)
{
    args a;
    bytes_arg ev = {0}, opts = {0};
    char *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a))
        return NULL;
    dlv_native *n = dlv_live(env, a.argv[0], NULL);
    if (!n || get_bytes(env, a.argv[1], &ev, "event"))
        return NULL;
    if (opt_bytes(env, a.argv[2], &opts, "options")) {
        bytes_free(&ev);
        return NULL;
    }
    int rc = fn(&out, &out_len, n->d, ev.data, ev.len, opts.data, opts.len);
    bytes_free(&ev);
    bytes_free(&opts);
    return rc < 0 ? throw_status(env, rc) : take_string(env, out, out_len);
}

/* deliverySend(delivery, eventJson, optionsJson | null) -> PublishOutboundResult JSON */
static napi_value w_delivery_send(napi_env env, napi_callback_info info)
{
    return dlv_event_call(env, info, omni_delivery_send);
}

/* deliveryNotify(delivery, eventJson, optionsJson | null) -> PushNotificationResult JSON */
static napi_value w_delivery_notify(napi_env env, napi_callback_info info)
{
    return dlv_event_call(env, info, omni_push_notify);
}

/* What an asynchronous notify keeps from being freed: the delivery and the
 * engine and outbound it uses (closing them meanwhile defers the free). */
typedef struct dlv_busy {
    handle *h[3];
} dlv_busy;

static void dlv_unbusy(void *ctx)
{
    dlv_busy *b = ctx;
    for (int i = 0; i < 3; i++)
        handle_unbusy(b->h[i]);
    free(b);
}

/* deliveryNotifyAsync(delivery, asyncTransport, eventJson) -> Promise<result JSON> */
static napi_value w_delivery_notify_async(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg ev = {0};
    handle *dh = NULL;
    if (get_args(env, info, &a))
        return NULL;
    dlv_native *n = dlv_live(env, a.argv[0], &dh);
    if (!n || get_bytes(env, a.argv[2], &ev, "event"))
        return NULL;
    dlv_busy *b = malloc(sizeof(*b));
    if (!b) {
        bytes_free(&ev);
        return throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
    }
    b->h[0] = dh;
    b->h[1] = n->engine;
    b->h[2] = n->outbound;
    for (int i = 0; i < 3; i++)
        b->h[i]->busy++;
    napi_value p = omni_node_async_notify(env, a.argv[1], n->d, a.argv[0], ev.data, ev.len,
                                          &push_helpers, dlv_unbusy, b);
    bytes_free(&ev);
    return p;
}

/* deliveryTick(delivery, nowMs | null, limit) -> summary JSON */
static napi_value w_delivery_tick(napi_env env, napi_callback_info info)
{
    args a;
    int64_t now, limit;
    char *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a))
        return NULL;
    dlv_native *n = dlv_live(env, a.argv[0], NULL);
    if (!n || dlv_now(env, a.argv[1], n, &now) || get_i64(env, a.argv[2], &limit, "limit"))
        return NULL;
    if (limit < 0)
        return throw_invalid(env, "limit must be 1 to 1000");
    int rc = omni_delivery_tick(&out, &out_len, n->d, now, (size_t)limit);
    return rc < 0 ? throw_status(env, rc) : take_string(env, out, out_len);
}

typedef int (*dlv_id_fn)(char **out, size_t *out_len, omni_delivery *d, const char *id);

/* fn(delivery, messageId) -> JSON, for get, dlq get and dlq redrive. */
static napi_value dlv_by_id(napi_env env, napi_callback_info info, dlv_id_fn fn)
{
    args a;
    char *id = NULL, *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a))
        return NULL;
    dlv_native *n = dlv_live(env, a.argv[0], NULL);
    if (!n || get_cstr(env, a.argv[1], &id, "messageId", 0))
        return NULL;
    int rc = fn(&out, &out_len, n->d, id);
    free(id);
    return rc < 0 ? throw_status(env, rc) : take_string(env, out, out_len);
}

static napi_value w_delivery_get(napi_env env, napi_callback_info info)
{
    return dlv_by_id(env, info, omni_delivery_get);
}

static napi_value w_delivery_dlq_get(napi_env env, napi_callback_info info)
{
    return dlv_by_id(env, info, omni_delivery_dlq_get);
}

static napi_value w_delivery_dlq_redrive(napi_env env, napi_callback_info info)
{
    return dlv_by_id(env, info, omni_delivery_dlq_redrive);
}

/* deliveryDlqList(delivery, queryJson | null) -> {items, next} JSON */
static napi_value w_delivery_dlq_list(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg q = {0};
    char *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a))
        return NULL;
    dlv_native *n = dlv_live(env, a.argv[0], NULL);
    if (!n || opt_bytes(env, a.argv[1], &q, "query"))
        return NULL;
    int rc = omni_delivery_dlq_list(&out, &out_len, n->d, q.data, q.len);
    bytes_free(&q);
    return rc < 0 ? throw_status(env, rc) : take_string(env, out, out_len);
}

/* deliveryDlqPurge(delivery, messageId | null) -> count */
static napi_value w_delivery_dlq_purge(napi_env env, napi_callback_info info)
{
    args a;
    char *id = NULL;
    size_t count = 0;
    if (get_args(env, info, &a))
        return NULL;
    dlv_native *n = dlv_live(env, a.argv[0], NULL);
    if (!n || get_cstr(env, a.argv[1], &id, "messageId", 1))
        return NULL;
    int rc = omni_delivery_dlq_purge(n->d, id, &count);
    free(id);
    return rc < 0 ? throw_status(env, rc) : make_u64(env, count);
}

/* deliveryPublish(delivery, eventJson, optionsJson | null, nowMs | null) -> job handle */
static napi_value w_delivery_publish(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg ev = {0}, opts = {0};
    handle *dh = NULL;
    int64_t now;
    omni_delivery_job *job = NULL;
    if (get_args(env, info, &a))
        return NULL;
    dlv_native *n = dlv_live(env, a.argv[0], &dh);
    if (!n || dlv_now(env, a.argv[3], n, &now) || get_bytes(env, a.argv[1], &ev, "event"))
        return NULL;
    if (opt_bytes(env, a.argv[2], &opts, "options")) {
        bytes_free(&ev);
        return NULL;
    }
    int rc = omni_delivery_publish(&job, n->d, ev.data, ev.len, opts.data, opts.len, now);
    bytes_free(&ev);
    bytes_free(&opts);
    return rc < 0 ? throw_status(env, rc) : new_job(env, job, dh, a.argv[0]);
}

/* deliveryResume(delivery, messageId, nowMs | null) -> job handle */
static napi_value w_delivery_resume(napi_env env, napi_callback_info info)
{
    args a;
    char *id = NULL;
    handle *dh = NULL;
    int64_t now;
    omni_delivery_job *job = NULL;
    if (get_args(env, info, &a))
        return NULL;
    dlv_native *n = dlv_live(env, a.argv[0], &dh);
    if (!n || dlv_now(env, a.argv[2], n, &now) ||
        get_cstr(env, a.argv[1], &id, "messageId", 0))
        return NULL;
    int rc = omni_delivery_resume(&job, n->d, id, now);
    free(id);
    return rc < 0 ? throw_status(env, rc) : new_job(env, job, dh, a.argv[0]);
}

/* deliveryNext(job, nowMs | null) -> [action, requestJson | null, waitUntilMs | null] */
static napi_value w_delivery_next(napi_env env, napi_callback_info info)
{
    args a;
    int64_t now, until = 0;
    int action = 0;
    const omni_http_request *req = NULL;
    char *out = NULL;
    size_t out_len = 0;
    napi_value arr, v0, v1, v2;
    if (get_args(env, info, &a))
        return NULL;
    dlv_job_native *j = dlv_job_live(env, a.argv[0]);
    if (!j || dlv_now(env, a.argv[1], handle_ptr(j->delivery), &now))
        return NULL;
    int rc = omni_delivery_next(j->job, now, &action, &req, &until);
    if (rc >= 0 && action == OMNI_DELIVERY_SEND)
        rc = omni_http_request_to_json(&out, &out_len, req);
    if (rc < 0)
        return throw_status(env, rc);
    if (out) {
        v1 = take_string(env, out, out_len);
        if (!v1)
            return NULL;
    } else {
        NAPI_CALL(env, napi_get_null(env, &v1));
    }
    if (action == OMNI_DELIVERY_WAIT) {
        if (!(v2 = make_i64(env, until)))
            return NULL;
    } else {
        NAPI_CALL(env, napi_get_null(env, &v2));
    }
    NAPI_CALL(env, napi_create_int32(env, action, &v0));
    NAPI_CALL(env, napi_create_array_with_length(env, 3, &arr));
    NAPI_CALL(env, napi_set_element(env, arr, 0, v0));
    NAPI_CALL(env, napi_set_element(env, arr, 1, v1));
    NAPI_CALL(env, napi_set_element(env, arr, 2, v2));
    return arr;
}

/* deliveryFeed(job, responseJson | null, transportStatus, nowMs | null) */
static napi_value w_delivery_feed(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg rj = {0};
    int64_t now, status;
    omni_http_response *resp = NULL;
    if (get_args(env, info, &a))
        return NULL;
    dlv_job_native *j = dlv_job_live(env, a.argv[0]);
    if (!j || dlv_now(env, a.argv[3], handle_ptr(j->delivery), &now) ||
        get_i64(env, a.argv[2], &status, "transportStatus"))
        return NULL;
    if (status < INT32_MIN || status > 0)
        return throw_invalid(env, "transportStatus must be 0 or a negative status");
    if (opt_bytes(env, a.argv[1], &rj, "response"))
        return NULL;
    int rc = OMNI_OK;
    if (rj.data)
        rc = omni_http_response_from_json(&resp, rj.data, rj.len);
    bytes_free(&rj);
    if (rc >= 0)
        rc = omni_delivery_feed(j->job, resp, (int)status, now);
    omni_http_response_free(resp);
    return rc < 0 ? throw_status(env, rc) : make_undefined(env);
}

/* deliveryRun(job, deadlineMs) -> undefined: drives the job through the transport */
static napi_value w_delivery_run(napi_env env, napi_callback_info info)
{
    args a;
    int64_t deadline = 0;
    if (get_args(env, info, &a))
        return NULL;
    dlv_job_native *j = dlv_job_live(env, a.argv[0]);
    if (!j || get_i64(env, a.argv[1], &deadline, "deadlineMs"))
        return NULL;
    int rc = omni_delivery_run(j->job, deadline);
    return rc < 0 ? throw_status(env, rc) : make_undefined(env);
}

/* ---- the notification orchestrator (omni/orchestrator.h) --------------------------- */

/* An orchestrator borrows its delivery: it holds a reference on the
 * delivery's handle and fails "delivery is closed" once that is closed. */
typedef struct orch_native {
    omni_orchestrator *o;
    handle *delivery;
} orch_native;

static void orch_native_free(void *p)
{
    orch_native *n = p;
    omni_orchestrator_free(n->o);
    handle_release(n->delivery);
    free(n);
}

/* orchestratorNew(delivery, configJson) -> orchestrator handle */
static napi_value w_orchestrator_new(napi_env env, napi_callback_info info)
{
    args a;
    bytes_arg cfg = {0};
    handle *dh = NULL;
    omni_orchestrator *o = NULL;
    if (get_args(env, info, &a))
        return NULL;
    dlv_native *d = dlv_live(env, a.argv[0], &dh);
    if (!d || get_bytes(env, a.argv[1], &cfg, "config"))
        return NULL;
    int rc = omni_orchestrator_new(&o, d->d, cfg.data, cfg.len);
    bytes_free(&cfg);
    if (rc < 0)
        return throw_status(env, rc);
    orch_native *n = calloc(1, sizeof(*n));
    if (!n) {
        omni_orchestrator_free(o);
        return throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
    }
    n->o = o;
    n->delivery = dh;
    dh->refs++;
    return set_props(env, new_handle(env, KIND_ORCHESTRATOR, n, NULL, NULL), "delivery",
                     a.argv[0], NULL, NULL);
}

typedef int (*orch_send_fn)(char **out, size_t *out_len, omni_orchestrator *o, const char *json,
                            size_t len, const char *options, size_t options_len);

/* fn(orchestrator, json, optionsJson | null) -> JSON text, for send and send-bulk. */
static napi_value orch_send(napi_env env, napi_callback_info info, orch_send_fn fn,
                            const char *what)
{
    args a;
    bytes_arg doc = {0}, opts = {0};
    char *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a))
        return NULL;
    orch_native *n = live_ptr(env, a.argv[0], KIND_ORCHESTRATOR, NULL);
    if (!n)
        return NULL;
    if (!dlv_check(env, handle_ptr(n->delivery)))
        return handle_ptr(n->delivery) ? NULL : throw_invalid(env, "delivery is closed");
    if (get_bytes(env, a.argv[1], &doc, what))
        return NULL;
    if (opt_bytes(env, a.argv[2], &opts, "options")) {
        bytes_free(&doc);
        return NULL;
    }
    int rc = fn(&out, &out_len, n->o, doc.data, doc.len, opts.data, opts.len);
    bytes_free(&doc);
    bytes_free(&opts);
    return rc < 0 ? throw_status(env, rc) : take_string(env, out, out_len);
}

static napi_value w_notify_send(napi_env env, napi_callback_info info)
{
    return orch_send(env, info, omni_notify_send, "request");
}

static napi_value w_notify_send_bulk(napi_env env, napi_callback_info info)
{
    return orch_send(env, info, omni_notify_send_bulk, "bulk");
}

/* notifyPrefsPut(engine, json) -> JSON text; notifyPrefsGet / Delete(engine, userId) */
static int notify_prefs_put(char **out, size_t *out_len, const call_args *a)
{
    return omni_notify_prefs_put(out, out_len, a->e, a->json[0], a->len[0]);
}
JSON_CALL(notify_prefs_put, "EJ", NULL, "prefs")

static napi_value w_notify_prefs_get(napi_env env, napi_callback_info info)
{
    return engine_get(env, info, omni_notify_prefs_get, "userId");
}

static napi_value w_notify_prefs_delete(napi_env env, napi_callback_info info)
{
    return engine_del(env, info, omni_notify_prefs_delete, "userId");
}

/* deliveryJobResult(job) -> PublishOutboundResult JSON */
static napi_value w_delivery_job_result(napi_env env, napi_callback_info info)
{
    args a;
    char *out = NULL;
    size_t out_len = 0;
    if (get_args(env, info, &a))
        return NULL;
    dlv_job_native *j = dlv_job_live(env, a.argv[0]);
    if (!j)
        return NULL;
    int rc = omni_delivery_job_result(j->job, &out, &out_len);
    return rc < 0 ? throw_status(env, rc) : take_string(env, out, out_len);
}

/* The helpers push.c's wrappers share (see push.h). */
static const omni_node_push_helpers push_helpers = {throw_status, throw_invalid, throw_type,
                                                    throw_napi, get_engine_opt};

#define FN(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, NULL}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */)
{
    static const napi_property_descriptor fns[] = {
        FN("version", w_version),
        FN("versionNumber", w_version_number),
        FN("limit", w_limit),
        FN("strerror", w_strerror),
        FN("statusCode", w_status_code),
        FN("setErrorClass", w_set_error_class),
        FN("base64Encode", w_base64_encode),
        FN("base64Decode", w_base64_decode),
        FN("base64urlEncode", w_base64url_encode),
        FN("base64urlDecode", w_base64url_decode),
        FN("urlEncode", w_url_encode),
        FN("urlDecode", w_url_decode),
        FN("formEncode", w_form_encode),
        FN("formDecode", w_form_decode),
        FN("utf8Validate", w_utf8_validate),
        FN("hashSize", w_hash_size),
        FN("hashDigest", w_hash_digest),
        FN("hmac", w_hmac),
        FN("ctEqual", w_ct_equal),
        FN("jwtSign", w_jwt_sign),
        FN("jwtVerify", w_jwt_verify),
        FN("timeParse", w_time_parse),
        FN("timeFormat", w_time_format),
        FN("uuid5", w_uuid5),
        FN("uuid7", w_uuid7),
        FN("uuidParse", w_uuid_parse),
        FN("uuidFormat", w_uuid_format),
        FN("engineNew", w_engine_new),
        FN("engineNowMs", w_engine_now_ms),
        FN("engineRandom", w_engine_random),
        FN("engineStore", w_engine_store),
        FN("engineTransport", w_engine_transport),
        FN("close", w_close),
        FN("isClosed", w_is_closed),
        FN("storeOpen", w_store_open),
        FN("storeGet", w_store_get),
        FN("storePut", w_store_put),
        FN("storeDelete", w_store_delete),
        FN("storeList", w_store_list),
        FN("transportCurl", w_transport_curl),
        FN("transportScripted", w_transport_scripted),
        FN("transportSend", w_transport_send),
        FN("transportSent", w_transport_sent),
        FN("setHelperDispatch", w_set_helper_dispatch),
        FN("templateCompile", w_template_compile),
        FN("templateRender", w_template_render),
        FN("templateInspect", w_template_inspect),
        FN("helperBlock", w_helper_block),
        FN("dataParse", w_data_parse),
        FN("dataJson", w_data_json),
        FN("smsCount", w_sms_count),
        FN("smsSegments", w_sms_segments),
        FN("templateValidate", w_template_validate),
        FN("formatNumber", w_format_number),
        FN("formatCurrency", w_format_currency),
        FN("formatDate", w_format_date),
        FN("templateCreate", w_template_create),
        FN("templateUpdate", w_template_update),
        FN("templateGet", w_template_get),
        FN("templateDelete", w_template_delete),
        FN("templateList", w_template_list),
        FN("templateRenderStored", w_template_render_stored),
        FN("inboundNew", w_inbound_new),
        FN("inboundHandle", w_inbound_handle),
        FN("inboundVerify", w_inbound_verify),
        FN("phoneToE164", w_phone_to_e164),
        FN("phoneParse", w_phone_parse),
        FN("phoneIdentityKey", w_phone_identity_key),
        FN("identityNormalize", w_identity_normalize),
        FN("routingSet", w_routing_set),
        FN("routingGet", w_routing_get),
        FN("routingDelete", w_routing_delete),
        FN("customerPut", w_customer_put),
        FN("customerGet", w_customer_get),
        FN("identityLink", w_identity_link),
        FN("identityUnlink", w_identity_unlink),
        FN("identityLookup", w_identity_lookup),
        FN("conversationStep", w_conversation_step),
        FN("conversationGet", w_conversation_get),
        FN("conversationTransition", w_conversation_transition),
        FN("conversationHistory", w_conversation_history),
        FN("conversationList", w_conversation_list),
        FN("conversationDelivery", w_conversation_delivery),
        FN("conversationDelete", w_conversation_delete),
        FN("conversationWindow", w_conversation_window),
        FN("conversationSettingsSet", w_conversation_settings_set),
        FN("conversationSettingsGet", w_conversation_settings_get),
        FN("conversationNextStatus", w_conversation_next_status),
        FN("conversationNames", w_conversation_names),
        FN("conversationApply", w_conversation_apply),
        FN("dynamodbUnmarshall", w_dynamodb_unmarshall),
        FN("dynamodbStreamEvents", w_dynamodb_stream_events),
        FN("rulesCompile", w_rules_compile),
        FN("rulesIds", w_rules_ids),
        FN("rulesEval", w_rules_eval),
        FN("rulesMatch", w_rules_match),
        FN("analyzerCompile", w_analyzer_compile),
        FN("analyze", w_analyze),
        FN("analyzeText", w_analyze_text),
        FN("prerouteCompile", w_preroute_compile),
        FN("prerouteRun", w_preroute_run),
        FN("optoutGet", w_optout_get),
        FN("optoutSet", w_optout_set),
        FN("awsSigv4Sign", w_aws_sigv4_sign),
        FN("awsSigv4Canonical", w_aws_sigv4_canonical),
        FN("awsSigv4Presign", w_aws_sigv4_presign),
        FN("outboundNew", w_outbound_new),
        FN("outboundBuild", w_outbound_build),
        FN("outboundParse", w_outbound_parse),
        FN("deliveryNew", w_delivery_new),
        FN("deliverySend", w_delivery_send),
        FN("deliveryTick", w_delivery_tick),
        FN("deliveryGet", w_delivery_get),
        FN("deliveryDlqList", w_delivery_dlq_list),
        FN("deliveryDlqGet", w_delivery_dlq_get),
        FN("deliveryDlqRedrive", w_delivery_dlq_redrive),
        FN("deliveryDlqPurge", w_delivery_dlq_purge),
        FN("deliveryPublish", w_delivery_publish),
        FN("deliveryResume", w_delivery_resume),
        FN("deliveryNext", w_delivery_next),
        FN("deliveryFeed", w_delivery_feed),
        FN("deliveryJobResult", w_delivery_job_result),
        FN("deliveryNotify", w_delivery_notify),
        FN("deliveryNotifyAsync", w_delivery_notify_async),
        FN("orchestratorNew", w_orchestrator_new),
        FN("notifySend", w_notify_send),
        FN("notifySendBulk", w_notify_send_bulk),
        FN("notifyPrefsPut", w_notify_prefs_put),
        FN("notifyPrefsGet", w_notify_prefs_get),
        FN("notifyPrefsDelete", w_notify_prefs_delete),
        FN("deliveryRun", w_delivery_run),
    };
    addon_data *d = calloc(1, sizeof(*d));
    if (!d || napi_set_instance_data(env, d, addon_data_free, NULL) != napi_ok) {
        free(d);
        napi_throw_error(env, "ERR_OMNI_INIT", "libomni addon: out of memory");
        return NULL;
    }
    if (napi_define_properties(env, exports, sizeof(fns) / sizeof(fns[0]), fns) != napi_ok)
        return throw_napi(env);
    if (omni_node_push_register(env, exports, &push_helpers) != napi_ok)
        return throw_napi(env);
    if (omni_node_devices_register(env, exports, &push_helpers) != napi_ok)
        return throw_napi(env);
    if (omni_node_push_adapters_register(env, exports, &push_helpers) != napi_ok)
        return throw_napi(env);
    if (omni_node_async_register(env, exports, &push_helpers) != napi_ok)
        return throw_napi(env);
    if (omni_node_config_register(env, exports, &push_helpers) != napi_ok)
        return throw_napi(env);
    napi_value any, create;
    if (napi_create_bigint_uint64(env, OMNI_STORE_ANY_VERSION, &any) != napi_ok ||
        napi_create_int32(env, (int32_t)OMNI_STORE_CREATE, &create) != napi_ok)
        return throw_napi(env);
    napi_property_descriptor consts[] = {
        {"ANY_VERSION", NULL, NULL, NULL, NULL, any, napi_enumerable, NULL},
        {"CREATE", NULL, NULL, NULL, NULL, create, napi_enumerable, NULL},
    };
    if (napi_define_properties(env, exports, 2, consts) != napi_ok)
        return throw_napi(env);
    return exports;
}
