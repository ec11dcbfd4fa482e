/* Arguments of the Node-API wrappers in push_adapters.c and config.c (see
 * args.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"

void omni_node_args_free(omni_node_args *a)
{
    for (int i = 0; i < OMNI_NODE_MAX_ARGS; i++)
        free(a->owned[i]);
}

int omni_node_args_get(napi_env env, napi_callback_info info, omni_node_args *a)
{
    memset(a, 0, sizeof(*a));
    a->argc = OMNI_NODE_MAX_ARGS;
    void *data = NULL;
    if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, &data) != napi_ok)
        return -1;
    a->h = data;
    for (size_t i = a->argc; i < OMNI_NODE_MAX_ARGS; i++)
        napi_get_undefined(env, &a->argv[i]);
    return 0;
}

int omni_node_args_bytes(napi_env env, omni_node_args *a, int i, const char *name,
                         int allow_bytes, const char **out, size_t *out_len)
{
    napi_value v = a->argv[i];
    char msg[96];
    bool is_ta = false;
    if (allow_bytes && napi_is_typedarray(env, v, &is_ta) == napi_ok && is_ta) {
        napi_typedarray_type type;
        size_t count = 0, offset = 0;
        void *p = NULL;
        napi_value ab;
        if (napi_get_typedarray_info(env, v, &type, &count, &p, &ab, &offset) != napi_ok ||
            type != napi_uint8_array) {
            snprintf(msg, sizeof(msg), "%s must be JSON text or a Uint8Array", name);
            a->h->throw_type(env, msg);
            return -1;
        }
        *out = p ? p : "";
        *out_len = count;
        return 0;
    }
    napi_valuetype t;
    if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) {
        snprintf(msg, sizeof(msg), "%s must be a string", name);
        a->h->throw_type(env, msg);
        return -1;
    }
    size_t n = 0;
    if (napi_get_value_string_utf8(env, v, NULL, 0, &n) != napi_ok) {
        a->h->throw_napi(env);
        return -1;
    }
    if (n > OMNI_NODE_STR_MAX) {
        snprintf(msg, sizeof(msg), "%s is too long", name);
        a->h->throw_invalid(env, msg);
        return -1;
    }
    char *s = malloc(n + 1);
    if (!s) {
        a->h->throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
        return -1;
    }
    if (napi_get_value_string_utf8(env, v, s, n + 1, &n) != napi_ok) {
        free(s);
        a->h->throw_napi(env);
        return -1;
    }
    a->owned[i] = s;
    if (!allow_bytes && strlen(s) != n) {
        snprintf(msg, sizeof(msg), "%s must not contain NUL characters", name);
        a->h->throw_invalid(env, msg);
        return -1;
    }
    *out = s;
    *out_len = n;
    return 0;
}
