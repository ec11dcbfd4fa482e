/*
 * Node-API wrappers of Web Push encryption and VAPID (omni/push.h). addon.c
 * calls omni_node_push_register() once with its error and engine helpers,
 * which reach each wrapper as the callback data (no global state).
 */
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "push.h"

#define PUSH_CALL(env, h, call)                                                               \
    do {                                                                                       \
        if ((call) != napi_ok)                                                                 \
            return (h)->throw_napi(env);                                                       \
    } while (0)

typedef struct push_args {
    size_t argc;
    napi_value argv[8];
    const omni_node_push_helpers *h;
} push_args;

static int get_args(napi_env env, napi_callback_info info, push_args *a)
{
    a->argc = 8;
    void *data = NULL;
    if (napi_get_cb_info(env, info, &a->argc, a->argv, NULL, &data) != napi_ok)
        return -1;
    a->h = data;
    for (size_t i = a->argc; i < 8; i++)
        napi_get_undefined(env, &a->argv[i]);
    return 0;
}

static int is_nullish(napi_env env, napi_value v)
{
    napi_valuetype t;
    return napi_typeof(env, v, &t) != napi_ok || t == napi_undefined || t == napi_null;
}

/* A Buffer / Uint8Array argument; *data NULL when nullish and optional.
 * want 0: any length. Returns 0, or -1 after throwing. */
static int get_bytes(napi_env env, const push_args *a, napi_value v, const char *name,
                     size_t want, int optional, const uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (optional && is_nullish(env, v))
        return 0;
    bool is_ta = false;
    napi_typedarray_type type;
    size_t count = 0, offset = 0;
    void *p = NULL;
    napi_value ab;
    if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta ||
        napi_get_typedarray_info(env, v, &type, &count, &p, &ab, &offset) != napi_ok ||
        type != napi_uint8_array) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%s must be a Buffer or Uint8Array", name);
        a->h->throw_type(env, msg);
        return -1;
    }
    if (want && count != want) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%s must be %zu bytes, not %zu", name, want, count);
        a->h->throw_invalid(env, msg);
        return -1;
    }
    static const uint8_t empty[1] = {0};
    *data = p ? p : empty;
    *len = count;
    return 0;
}

static napi_value make_buffer(napi_env env, const push_args *a, const uint8_t *data, size_t len)
{
    napi_value out;
    void *copy = NULL;
    PUSH_CALL(env, a->h, napi_create_buffer_copy(env, len, len ? data : (const void *)"", &copy,
                                                 &out));
    return out;
}

static int get_u32(napi_env env, const push_args *a, napi_value v, const char *name,
                   uint32_t dflt, uint32_t *out)
{
    *out = dflt;
    if (is_nullish(env, v))
        return 0;
    double d = 0;
    if (napi_get_value_double(env, v, &d) != napi_ok || d != d || d < 0 || d > 4294967295.0 ||
        d != (double)(uint32_t)d) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%s must be an integer 0..4294967295", name);
        a->h->throw_invalid(env, msg);
        return -1;
    }
    *out = (uint32_t)d;
    return 0;
}

/* webpushEncrypt(plaintext, uaPublic, authSecret, salt?, senderPrivate?, recordSize?) */
static napi_value w_webpush_encrypt(napi_env env, napi_callback_info info)
{
    push_args a;
    if (get_args(env, info, &a))
        return NULL;
    const uint8_t *plain, *ua, *auth, *salt, *priv;
    size_t pl, n;
    uint32_t rs;
    if (get_bytes(env, &a, a.argv[0], "plaintext", 0, 0, &plain, &pl) ||
        get_bytes(env, &a, a.argv[1], "uaPublic", OMNI_WEBPUSH_PUBLIC_KEY_LEN, 0, &ua, &n) ||
        get_bytes(env, &a, a.argv[2], "authSecret", OMNI_WEBPUSH_AUTH_SECRET_LEN, 0, &auth,
                  &n) ||
        get_bytes(env, &a, a.argv[3], "salt", OMNI_WEBPUSH_SALT_LEN, 1, &salt, &n) ||
        get_bytes(env, &a, a.argv[4], "senderPrivate", OMNI_WEBPUSH_PRIVATE_KEY_LEN, 1, &priv,
                  &n) ||
        get_u32(env, &a, a.argv[5], "recordSize", 0, &rs))
        return NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int st = omni_webpush_encrypt(&out, &out_len, plain, pl, ua, auth, salt, priv, rs);
    if (st)
        return a.h->throw_status(env, st);
    napi_value r = make_buffer(env, &a, out, out_len);
    omni_free(out);
    return r;
}

/* webpushDecrypt(body, uaPrivate, authSecret) */
static napi_value w_webpush_decrypt(napi_env env, napi_callback_info info)
{
    push_args a;
    if (get_args(env, info, &a))
        return NULL;
    const uint8_t *body, *priv, *auth;
    size_t bl, n;
    if (get_bytes(env, &a, a.argv[0], "body", 0, 0, &body, &bl) ||
        get_bytes(env, &a, a.argv[1], "uaPrivate", OMNI_WEBPUSH_PRIVATE_KEY_LEN, 0, &priv, &n) ||
        get_bytes(env, &a, a.argv[2], "authSecret", OMNI_WEBPUSH_AUTH_SECRET_LEN, 0, &auth, &n))
        return NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
    int st = omni_webpush_decrypt(&out, &out_len, body, bl, priv, auth);
    if (st)
        return a.h->throw_status(env, st);
    napi_value r = make_buffer(env, &a, out, out_len);
    omni_free(out);
    return r;
}

/* webpushKeypair(engineHandle?) -> [publicKey, privateKey] */
static napi_value w_webpush_keypair(napi_env env, napi_callback_info info)
{
    push_args a;
    if (get_args(env, info, &a))
        return NULL;
    const omni_engine *e = NULL;
    if (a.h->get_engine_opt(env, a.argv[0], &e))
        return NULL;
    uint8_t pub[OMNI_WEBPUSH_PUBLIC_KEY_LEN], priv[OMNI_WEBPUSH_PRIVATE_KEY_LEN];
    int st = omni_webpush_keypair(pub, priv, e);
    if (st)
        return a.h->throw_status(env, st);
    napi_value arr, p, k;
    p = make_buffer(env, &a, pub, sizeof(pub));
    k = p ? make_buffer(env, &a, priv, sizeof(priv)) : NULL;
    memset(priv, 0, sizeof(priv));
    if (!k)
        return NULL;
    PUSH_CALL(env, a.h, napi_create_array_with_length(env, 2, &arr));
    PUSH_CALL(env, a.h, napi_set_element(env, arr, 0, p));
    PUSH_CALL(env, a.h, napi_set_element(env, arr, 1, k));
    return arr;
}

static int get_string(napi_env env, const push_args *a, napi_value v, const char *name,
                      char **out)
{
    size_t len = 0;
    *out = NULL;
    if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%s must be a string", name);
        a->h->throw_type(env, msg);
        return -1;
    }
    char *s = malloc(len + 1);
    if (!s || napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) {
        free(s);
        a->h->throw_status(env, omni_error_set(OMNI_ENOMEM, NULL, -1));
        return -1;
    }
    if (strlen(s) != len) {
        free(s);
        char msg[96];
        snprintf(msg, sizeof(msg), "%s must not contain NUL", name);
        a->h->throw_invalid(env, msg);
        return -1;
    }
    *out = s;
    return 0;
}

/* webpushVapid(endpoint, subject, privateKey, nowMs, expiresS) */
static napi_value w_webpush_vapid(napi_env env, napi_callback_info info)
{
    push_args a;
    if (get_args(env, info, &a))
        return NULL;
    char *endpoint = NULL, *subject = NULL;
    const uint8_t *priv;
    size_t n;
    double now = 0;
    uint32_t expires;
    napi_value result = NULL;
    if (get_string(env, &a, a.argv[0], "endpoint", &endpoint) ||
        get_string(env, &a, a.argv[1], "subject", &subject) ||
        get_bytes(env, &a, a.argv[2], "privateKey", OMNI_WEBPUSH_PRIVATE_KEY_LEN, 0, &priv,
                  &n) ||
        get_u32(env, &a, a.argv[4], "expires", 43200, &expires))
        goto done;
    if (napi_get_value_double(env, a.argv[3], &now) != napi_ok || now != now ||
        now < -9.0e15 || now > 9.0e15) {
        a.h->throw_invalid(env, "nowMs must be a number of milliseconds");
        goto done;
    }
    char *out = NULL;
    size_t out_len = 0;
    int st = omni_webpush_vapid(&out, &out_len, endpoint, subject, priv, (int64_t)now, expires);
    if (st) {
        a.h->throw_status(env, st);
        goto done;
    }
    if (napi_create_string_utf8(env, out, out_len, &result) != napi_ok)
        result = a.h->throw_napi(env);
    omni_free(out);
done:
    free(endpoint);
    free(subject);
    return result;
}

napi_status omni_node_push_register(napi_env env, napi_value exports,
                                    const omni_node_push_helpers *helpers)
{
    void *data = (void *)helpers;
    napi_property_descriptor fns[] = {
        {"webpushEncrypt", NULL, w_webpush_encrypt, NULL, NULL, NULL, napi_enumerable, data},
        {"webpushDecrypt", NULL, w_webpush_decrypt, NULL, NULL, NULL, napi_enumerable, data},
        {"webpushKeypair", NULL, w_webpush_keypair, NULL, NULL, NULL, napi_enumerable, data},
        {"webpushVapid", NULL, w_webpush_vapid, NULL, NULL, NULL, napi_enumerable, data},
    };
    return napi_define_properties(env, exports, sizeof(fns) / sizeof(fns[0]), fns);
}
