/* Node-API wrappers of omni/push.h's device registry (devices.c), registered
 * by addon.c with the helpers push.c shares with it (push.h). */
#ifndef OMNI_NODE_DEVICES_H
#define OMNI_NODE_DEVICES_H

#include <node_api.h>

#include "push.h"

/* Defines deviceRegister, deviceGet, deviceRemove and deviceList on exports;
 * helpers must outlive the module (addon.c passes a static const). */
napi_status omni_node_devices_register(napi_env env, napi_value exports,
                                       const omni_node_push_helpers *helpers);

#endif
