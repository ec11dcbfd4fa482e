/*
 * Node-API wrappers of the push device registry (omni/push.h):
 *   deviceRegister(engine, deviceJson) -> JSON text
 *   deviceGet(engine, platform, token) -> JSON text
 *   deviceRemove(engine, platform, token, reason | null) -> JSON text
 *   deviceList(engine, userId | null, platform | null, queryJson | null) -> JSON text
 * JSON arguments are strings or Buffers / Uint8Arrays. addon.c's helpers
 * reach each wrapper as the callback data (no global state).
 */
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "devices.h"

#define MAX_ARGS 4
#define STR_MAX (64u * 1024u * 1024u)

typedef struct dev_args {
    size_t argc;
    napi_value argv[MAX_ARGS];
    const omni_node_push_helpers *h;
    omni_engine *e;
    /* owned strings / borrowed bytes */
    char *str[MAX_ARGS];
    const char *json;
    size_t json_len;
    char *json_owned;
} dev_args;

static void args_free(dev_args *a)
{
    for (int i = 0; i < MAX_ARGS; i++)
        free(a->str[i]);
    free(a->json_owned);
}

static int is_nullish(napi_env env, napi_value v)
{
    napi_valuetype t;
    return napi_typeof(env, v, &t) != napi_ok || t == napi_undefined || t == napi_null;
}

/* Reads the arguments and the engine (argv[0]). Returns 0, or -1 after
 * throwing. */
static int get_args(napi_env env, napi_callback_info info, dev_args *a)
{
    memset(a, 0, sizeof(*a));
    a->argc = MAX_ARGS;
    void *data = NULL;
    if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, &data) != napi_ok)
        return -1;
    a->h = data;
    for (size_t i = a->argc; i < MAX_ARGS; i++)
        napi_get_undefined(env, &a->argv[i]);
    const omni_engine *e = NULL;
    if (a->h->get_engine_opt(env, a->argv[0], &e))
        return -1;
    if (!e) {
        a->h->throw_type(env, "engine must be an Engine");
        return -1;
    }
    a->e = (omni_engine *)(uintptr_t)e; /* the engine is thread-safe and lives on */
    return 0;
}

/* A string argument into a->str[i] (NULL when nullish and nullable).
 * Strings with NUL characters are refused. */
static int get_str(napi_env env, dev_args *a, int i, const char *name, int nullable)
{
    napi_value v = a->argv[i];
    if (nullable && is_nullish(env, v))
        return 0;
    napi_valuetype t;
    char msg[96];
    if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) {
        snprintf(msg, sizeof(msg), "%s must be a string%s", name, nullable ? " or null" : "");
        a->h->throw_type(env, msg);
        return -1;
    }
    size_t n = 0;
    if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) {
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
        a->h->throw_status(env, OMNI_ENOMEM);
        return -1;
    }
    if (napi_get_value_string_utf8(env, v, s, n + 1, &n) != napi_ok) {
        free(s);
        a->h->throw_napi(env);
        return -1;
    }
    a->str[i] = s;
    if (strlen(s) != n) {
        snprintf(msg, sizeof(msg), "%s must not contain NUL characters", name);
        a->h->throw_invalid(env, msg);
        return -1;
    }
    return 0;
}

/* A JSON argument: a string, or a Buffer / Uint8Array (borrowed). */
static int get_json(napi_env env, dev_args *a, int i, const char *name, int nullable)
{
    napi_value v = a->argv[i];
    if (nullable && is_nullish(env, v))
        return 0;
    bool is_ta = false;
    if (napi_is_typedarray(env, v, &is_ta) == napi_ok && is_ta) {
        napi_typedarray_type type;
        size_t count = 0, offset = 0;
        void *p = NULL;
        napi_value ab;
        if (napi_get_typedarray_info(env, v, &type, &count, &p, &ab, &offset) != napi_ok ||
            type != napi_uint8_array) {
            char msg[96];
            snprintf(msg, sizeof(msg), "%s must be JSON text or a Uint8Array", name);
            a->h->throw_type(env, msg);
            return -1;
        }
        a->json = p ? p : "";
        a->json_len = count;
        return 0;
    }
    char *saved = a->str[i];
    a->str[i] = NULL;
    if (get_str(env, a, i, name, 0)) {
        free(saved);
        return -1;
    }
    a->json_owned = a->str[i];
    a->str[i] = saved;
    a->json = a->json_owned;
    a->json_len = strlen(a->json_owned);
    return 0;
}

/* The result text as a JS string, or the error thrown. */
static napi_value finish(napi_env env, dev_args *a, int rc, char *out, size_t out_len)
{
    const omni_node_push_helpers *h = a->h;
    args_free(a);
    if (rc) {
        omni_free(out);
        return h->throw_status(env, rc);
    }
    napi_value s;
    napi_status st = napi_create_string_utf8(env, out, out_len, &s);
    omni_free(out);
    return st == napi_ok ? s : h->throw_napi(env);
}

static napi_value w_device_register(napi_env env, napi_callback_info info)
{
    dev_args a;
    if (get_args(env, info, &a) || get_json(env, &a, 1, "device", 0)) {
        args_free(&a);
        return NULL;
    }
    char *out = NULL;
    size_t len = 0;
    int rc = omni_device_register(&out, &len, a.e, a.json, a.json_len);
    return finish(env, &a, rc, out, len);
}

static napi_value w_device_get(napi_env env, napi_callback_info info)
{
    dev_args a;
    if (get_args(env, info, &a) || get_str(env, &a, 1, "platform", 0) ||
        get_str(env, &a, 2, "token", 0)) {
        args_free(&a);
        return NULL;
    }
    char *out = NULL;
    size_t len = 0;
    int rc = omni_device_get(&out, &len, a.e, a.str[1], a.str[2]);
    return finish(env, &a, rc, out, len);
}

static napi_value w_device_remove(napi_env env, napi_callback_info info)
{
    dev_args a;
    if (get_args(env, info, &a) || get_str(env, &a, 1, "platform", 0) ||
        get_str(env, &a, 2, "token", 0) || get_str(env, &a, 3, "reason", 1)) {
        args_free(&a);
        return NULL;
    }
    char *out = NULL;
    size_t len = 0;
    int rc = omni_device_remove(&out, &len, a.e, a.str[1], a.str[2], a.str[3]);
    return finish(env, &a, rc, out, len);
}

static napi_value w_device_list(napi_env env, napi_callback_info info)
{
    dev_args a;
    if (get_args(env, info, &a) || get_str(env, &a, 1, "userId", 1) ||
        get_str(env, &a, 2, "platform", 1) || get_json(env, &a, 3, "query", 1)) {
        args_free(&a);
        return NULL;
    }
    char *out = NULL;
    size_t len = 0;
    int rc = omni_device_list(&out, &len, a.e, a.str[1], a.str[2], a.json, a.json_len);
    return finish(env, &a, rc, out, len);
}

napi_status omni_node_devices_register(napi_env env, napi_value exports,
                                       const omni_node_push_helpers *helpers)
{
    void *data = (void *)(uintptr_t)helpers;
    napi_property_descriptor fns[] = {
        {"deviceRegister", NULL, w_device_register, NULL, NULL, NULL, napi_enumerable, data},
        {"deviceGet", NULL, w_device_get, NULL, NULL, NULL, napi_enumerable, data},
        {"deviceRemove", NULL, w_device_remove, NULL, NULL, NULL, napi_enumerable, data},
        {"deviceList", NULL, w_device_list, NULL, NULL, NULL, napi_enumerable, data},
    };
    return napi_define_properties(env, exports, sizeof(fns) / sizeof(fns[0]), fns);
}
