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

#endif
