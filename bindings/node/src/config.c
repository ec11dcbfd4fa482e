/*
 * Node-API wrappers of the engine configuration (omni/config.h):
 *   configNew(json) -> config handle          (throws INVALID_CONFIG with every error)
 *   configCheck(json) -> JSON text            (never throws for a bad document)
 *   configApply(config, engine) -> JSON text
 *   configAccount(config, address) -> accountId | null
 *   configAccountJson(config, accountId) -> JSON text
 *   configAccountIds(config) -> [accountId...]
 *   configSummary / configEngineJson / configDelivery / configWorkflow(config) -> JSON text
 *   configTransport(config) -> JSON text | null, configStorage(config) -> URI
 *   configStep(config, stepId) -> JSON text | null
 *   configClose(config), configIsClosed(config) -> boolean
 * JSON arguments are strings or Uint8Arrays. The handle is a type-tagged object
 * wrapping the omni_config (freed by configClose or the GC, once no holder is
 * left). addon.c's helpers reach each wrapper as the callback data.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "args.h"
#include "config.h"


static const napi_type_tag config_tag = {0x6f6d6e69636f6e66ull, 0x1d5a9e37c2b84f60ull};

typedef struct config_handle {
    omni_config *cfg;  /* NULL once closed */
    omni_config *held; /* freed when closed (or collected) and no holder is left */
    int refs;
    int finalized;
} config_handle;

static void config_settle(config_handle *c)
{
    if (c->refs > 0)
        return;
    if (!c->cfg || c->finalized) {
        omni_config_free(c->held);
        c->held = c->cfg = NULL;
    }
    if (c->finalized)
        free(c);
}

static void config_finalize(napi_env env, void *data, void *hint)
{
    (void)env;
    (void)hint;
    config_handle *c = data;
    c->finalized = 1;
    config_settle(c);
}

static int get_handle(napi_env env, const omni_node_push_helpers *h, napi_value v,
                      config_handle **out)
{
    napi_valuetype t;
    bool ok = false;
    if (napi_typeof(env, v, &t) != napi_ok || t != napi_object ||
        napi_check_object_type_tag(env, v, &config_tag, &ok) != napi_ok || !ok ||
        napi_unwrap(env, v, (void **)out) != napi_ok) {
        h->throw_type(env, "expected a libomni configuration handle");
        return -1;
    }
    return 0;
}

/* The live configuration in argv[0]. */
static int get_config(napi_env env, omni_node_args *a, const omni_config **out)
{
    config_handle *c;
    if (get_handle(env, a->h, a->argv[0], &c))
        return -1;
    if (!c->cfg) {
        a->h->throw_invalid(env, "config is closed");
        return -1;
    }
    *out = c->cfg;
    return 0;
}

/* A string (owned, no NUL inside unless allow_bytes) or a Uint8Array
 * (borrowed; only with allow_bytes). */
static napi_value make_text(napi_env env, const omni_node_push_helpers *h, const char *s,
                            size_t n)
{
    napi_value v;
    if (!s)
        return napi_get_null(env, &v) == napi_ok ? v : h->throw_napi(env);
    return napi_create_string_utf8(env, s, n, &v) == napi_ok ? v : h->throw_napi(env);
}

/* A library-allocated text (released), or the error thrown. */
static napi_value take_text(napi_env env, const omni_node_push_helpers *h, int rc, char *out,
                            size_t len)
{
    if (rc) {
        omni_free(out);
        return h->throw_status(env, rc);
    }
    napi_value v = make_text(env, h, out, len);
    omni_free(out);
    return v;
}

static napi_value w_config_new(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    const char *json;
    size_t len;
    if (omni_node_args_get(env, info, &a) ||
        omni_node_args_bytes(env, &a, 0, "config", 1, &json, &len)) {
        omni_node_args_free(&a);
        return NULL;
    }
    omni_config *cfg = NULL;
    int rc = omni_config_new(&cfg, json, len);
    omni_node_args_free(&a);
    if (rc)
        return a.h->throw_status(env, rc);
    config_handle *c = calloc(1, sizeof(*c));
    if (!c) {
        omni_config_free(cfg);
        return a.h->throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
    }
    c->cfg = c->held = cfg;
    napi_value obj;
    if (napi_create_object(env, &obj) != napi_ok) {
        config_finalize(env, c, NULL);
        return a.h->throw_napi(env);
    }
    if (napi_type_tag_object(env, obj, &config_tag) != napi_ok ||
        napi_wrap(env, obj, c, config_finalize, NULL, NULL) != napi_ok) {
        config_finalize(env, c, NULL);
        return a.h->throw_napi(env);
    }
    return obj;
}

static napi_value w_config_check(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    const char *json;
    size_t len;
    if (omni_node_args_get(env, info, &a) ||
        omni_node_args_bytes(env, &a, 0, "config", 1, &json, &len)) {
        omni_node_args_free(&a);
        return NULL;
    }
    char *out = NULL;
    size_t n = 0;
    int rc = omni_config_check(&out, &n, json, len);
    omni_node_args_free(&a);
    return take_text(env, a.h, rc, out, n);
}

static napi_value w_config_apply(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    const omni_config *cfg;
    const omni_engine *e = NULL;
    if (omni_node_args_get(env, info, &a) || get_config(env, &a, &cfg) ||
        a.h->get_engine_opt(env, a.argv[1], &e))
        return NULL;
    if (!e)
        return a.h->throw_type(env, "engine must be an Engine");
    char *out = NULL;
    size_t n = 0;
    /* the engine is thread-safe and lives on; apply runs no JavaScript */
    int rc = omni_config_apply(&out, &n, cfg, (omni_engine *)(uintptr_t)e);
    return take_text(env, a.h, rc, out, n);
}

static napi_value w_config_account(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    const omni_config *cfg;
    const char *addr;
    size_t n;
    if (omni_node_args_get(env, info, &a) || get_config(env, &a, &cfg) ||
        omni_node_args_bytes(env, &a, 1, "address", 0, &addr, &n)) {
        omni_node_args_free(&a);
        return NULL;
    }
    const char *id = omni_config_account(cfg, addr);
    omni_node_args_free(&a);
    if (!id && omni_error_last_status() != OMNI_ENOTFOUND)
        return a.h->throw_status(env, omni_error_last_status());
    return make_text(env, a.h, id, id ? strlen(id) : 0);
}

static napi_value w_config_account_json(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    const omni_config *cfg;
    const char *id;
    size_t n;
    if (omni_node_args_get(env, info, &a) || get_config(env, &a, &cfg) ||
        omni_node_args_bytes(env, &a, 1, "accountId", 0, &id, &n)) {
        omni_node_args_free(&a);
        return NULL;
    }
    size_t len = 0;
    const char *j = omni_config_account_json(cfg, id, &len);
    omni_node_args_free(&a);
    if (!j)
        return a.h->throw_status(env, omni_error_last_status());
    return make_text(env, a.h, j, len);
}

static napi_value w_config_account_ids(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    const omni_config *cfg;
    if (omni_node_args_get(env, info, &a) || get_config(env, &a, &cfg))
        return NULL;
    size_t n = omni_config_account_count(cfg);
    napi_value arr;
    if (napi_create_array_with_length(env, n, &arr) != napi_ok)
        return a.h->throw_napi(env);
    for (size_t i = 0; i < n; i++) {
        const char *id = omni_config_account_id(cfg, i);
        napi_value s;
        if (napi_create_string_utf8(env, id, strlen(id), &s) != napi_ok ||
            napi_set_element(env, arr, (uint32_t)i, s) != napi_ok)
            return a.h->throw_napi(env);
    }
    return arr;
}

/* The borrowed texts: kind 0 summary, 1 engine, 2 transport, 3 delivery,
 * 4 workflow, 5 storage. */
static napi_value borrowed(napi_env env, napi_callback_info info, int kind)
{
    omni_node_args a;
    const omni_config *cfg;
    if (omni_node_args_get(env, info, &a) || get_config(env, &a, &cfg))
        return NULL;
    size_t n = 0;
    const char *s = NULL;
    switch (kind) {
    case 0:
        s = omni_config_summary(cfg, &n);
        break;
    case 1:
        s = omni_config_engine_json(cfg, &n);
        break;
    case 2:
        s = omni_config_transport(cfg, &n);
        break;
    case 3:
        s = omni_config_delivery(cfg, &n);
        break;
    case 4:
        s = omni_config_workflow(cfg, &n);
        break;
    default:
        s = omni_config_storage(cfg);
        n = s ? strlen(s) : 0;
        break;
    }
    return make_text(env, a.h, s, n);
}

static napi_value w_config_summary(napi_env env, napi_callback_info info)
{
    return borrowed(env, info, 0);
}

static napi_value w_config_engine_json(napi_env env, napi_callback_info info)
{
    return borrowed(env, info, 1);
}

static napi_value w_config_transport(napi_env env, napi_callback_info info)
{
    return borrowed(env, info, 2);
}

static napi_value w_config_delivery(napi_env env, napi_callback_info info)
{
    return borrowed(env, info, 3);
}

static napi_value w_config_workflow(napi_env env, napi_callback_info info)
{
    return borrowed(env, info, 4);
}

static napi_value w_config_storage(napi_env env, napi_callback_info info)
{
    return borrowed(env, info, 5);
}

static napi_value w_config_step(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    const omni_config *cfg;
    const char *id;
    size_t n;
    if (omni_node_args_get(env, info, &a) || get_config(env, &a, &cfg) ||
        omni_node_args_bytes(env, &a, 1, "stepId", 0, &id, &n)) {
        omni_node_args_free(&a);
        return NULL;
    }
    size_t len = 0;
    const char *s = omni_config_step(cfg, id, &len);
    omni_node_args_free(&a);
    return make_text(env, a.h, s, len);
}

static napi_value w_config_close(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    config_handle *c;
    if (omni_node_args_get(env, info, &a) || get_handle(env, a.h, a.argv[0], &c))
        return NULL;
    c->cfg = NULL;
    config_settle(c);
    return NULL;
}

static napi_value w_config_is_closed(napi_env env, napi_callback_info info)
{
    omni_node_args a;
    config_handle *c;
    if (omni_node_args_get(env, info, &a) || get_handle(env, a.h, a.argv[0], &c))
        return NULL;
    napi_value b;
    return napi_get_boolean(env, c->cfg == NULL, &b) == napi_ok ? b : a.h->throw_napi(env);
}

void *omni_node_config_acquire(napi_env env, napi_value v, const omni_node_push_helpers *h,
                               const omni_config **out)
{
    config_handle *c;
    if (get_handle(env, h, v, &c))
        return NULL;
    if (!c->cfg) {
        h->throw_invalid(env, "config is closed");
        return NULL;
    }
    c->refs++;
    *out = c->cfg;
    return c;
}

void omni_node_config_release(void *ref)
{
    config_handle *c = ref;
    if (c && c->refs > 0) {
        c->refs--;
        config_settle(c);
    }
}

napi_status omni_node_config_register(napi_env env, napi_value exports,
                                      const omni_node_push_helpers *helpers)
{
    void *data = (void *)(uintptr_t)helpers;
#define FN(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_enumerable, data}
    napi_property_descriptor fns[] = {
        FN("configNew", w_config_new),
        FN("configCheck", w_config_check),
        FN("configApply", w_config_apply),
        FN("configAccount", w_config_account),
        FN("configAccountJson", w_config_account_json),
        FN("configAccountIds", w_config_account_ids),
        FN("configSummary", w_config_summary),
        FN("configEngineJson", w_config_engine_json),
        FN("configTransport", w_config_transport),
        FN("configDelivery", w_config_delivery),
        FN("configWorkflow", w_config_workflow),
        FN("configStorage", w_config_storage),
        FN("configStep", w_config_step),
        FN("configClose", w_config_close),
        FN("configIsClosed", w_config_is_closed),
    };
#undef FN
    return napi_define_properties(env, exports, sizeof(fns) / sizeof(fns[0]), fns);
}
