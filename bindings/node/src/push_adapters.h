/* Node-API wrappers of omni/push.h's platform adapters (push_adapters.c),
 * registered by addon.c with the helpers push.c shares with it (push.h). */
#ifndef OMNI_NODE_PUSH_ADAPTERS_H
#define OMNI_NODE_PUSH_ADAPTERS_H

#include <node_api.h>

#include "push.h"

/* Defines pushNew, pushBuild, pushParse, pushTokenRequest, pushTokenResponse,
 * pushClose and pushIsClosed on exports; helpers must outlive the module. */
napi_status omni_node_push_adapters_register(napi_env env, napi_value exports,
                                             const omni_node_push_helpers *helpers);

/* A reference on the live push handle v for a holder that outlives the call
 * (a Delivery): *out is its omni_push. NULL (with an exception) when v is not
 * a push handle or is closed. The push stays allocated until every reference
 * is released, even after pushClose (then omni_node_push_get gives NULL). */
void *omni_node_push_acquire(napi_env env, napi_value v, const omni_node_push_helpers *helpers,
                             omni_push **out);
/* The referenced omni_push, or NULL once the push was closed. */
omni_push *omni_node_push_get(void *ref);
void omni_node_push_release(void *ref);

#endif
