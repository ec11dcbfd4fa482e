/* Arguments of the Node-API wrappers in push_adapters.c and config.c: the
 * call's arguments (missing ones undefined), the helpers passed as the
 * callback data, and strings copied for the call. */
#ifndef OMNI_NODE_ARGS_H
#define OMNI_NODE_ARGS_H

#include <node_api.h>

#include "push.h"

#define OMNI_NODE_MAX_ARGS 4
#define OMNI_NODE_STR_MAX (64u * 1024u * 1024u) /* a string argument */

typedef struct omni_node_args {
    size_t argc;
    napi_value argv[OMNI_NODE_MAX_ARGS];
    const omni_node_push_helpers *h; /* the callback data */
    char *owned[OMNI_NODE_MAX_ARGS];  /* strings copied for the call */
} omni_node_args;

/* Reads the call's arguments; -1 when Node-API fails (nothing thrown). */
int omni_node_args_get(napi_env env, napi_callback_info info, omni_node_args *a);
/* Frees the strings copied for the call. */
void omni_node_args_free(omni_node_args *a);
/* argv[i] as bytes: a string (copied, owned by a; no NUL inside unless
 * allow_bytes) or, with allow_bytes, a Uint8Array (borrowed). 0, or -1
 * after throwing (TypeError, too long, NUL, out of memory). */
int omni_node_args_bytes(napi_env env, omni_node_args *a, int i, const char *name,
                         int allow_bytes, const char **out, size_t *out_len);

#endif
