/* Node-API wrappers of omni/config.h, the engine configuration (config.c),
 * registered by addon.c with the helpers push.c shares with it (push.h). */
#ifndef OMNI_NODE_CONFIG_H
#define OMNI_NODE_CONFIG_H

#include <node_api.h>

#include <omni/omni.h>

#include "push.h"

/* Defines configNew, configCheck, configApply, configAccount,
 * configAccountJson, configAccountIds, configSummary, configEngineJson,
 * configStorage, configTransport, configDelivery, configWorkflow,
 * configStep, configClose and configIsClosed on exports; helpers must
 * outlive the module (addon.c passes a static const). */
napi_status omni_node_config_register(napi_env env, napi_value exports,
                                      const omni_node_push_helpers *helpers);

/* For other wrappers (the pipeline): holds the configuration of a handle
 * made by configNew so that configClose cannot free it while in use.
 * Returns a reference (NULL after throwing: not a configuration, or
 * closed) and the configuration in *out; release it with
 * omni_node_config_release. */
void *omni_node_config_acquire(napi_env env, napi_value v, const omni_node_push_helpers *h,
                               const omni_config **out);
void omni_node_config_release(void *ref);

#endif
