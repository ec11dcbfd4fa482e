/* Node-API wrappers of omni/push.h's Web Push functions (push.c), registered
 * by addon.c with the helpers they share with it. */
#ifndef OMNI_NODE_PUSH_H
#define OMNI_NODE_PUSH_H

#include <node_api.h>

#include <omni/omni.h>

typedef struct omni_node_push_helpers {
    napi_value (*throw_status)(napi_env env, int status);    /* last error as OmniError */
    napi_value (*throw_invalid)(napi_env env, const char *message);
    napi_value (*throw_type)(napi_env env, const char *message);
    napi_value (*throw_napi)(napi_env env);                  /* a failed Node-API call */
    int (*get_engine_opt)(napi_env env, napi_value v, const omni_engine **out);
} omni_node_push_helpers;

/* Defines webpushEncrypt, webpushDecrypt, webpushKeypair and webpushVapid on
 * exports; helpers must outlive the module (addon.c passes a static const). */
napi_status omni_node_push_register(napi_env env, napi_value exports,
                                    const omni_node_push_helpers *helpers);

#endif
