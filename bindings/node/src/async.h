/* Node-API wrappers of omni/async.h (async.c): the asynchronous transport on
 * Node's own libuv loop, registered by addon.c with the helpers push.c shares
 * with it (push.h). */
#ifndef OMNI_NODE_ASYNC_H
#define OMNI_NODE_ASYNC_H

#include <node_api.h>

#include "push.h"

/* Defines asyncNew, asyncSend, asyncStats, asyncPending, asyncClose and
 * asyncIsClosed on exports; helpers must outlive the module. */
napi_status omni_node_async_register(napi_env env, napi_value exports,
                                     const omni_node_push_helpers *helpers);

/* Starts pushNotification (omni_push_notify_async) for delivery d through the
 * AsyncTransport handle `transport`; returns a Promise of the result's JSON
 * text (rejected with an OmniError). `keep` (the Delivery's JS object) is
 * held until the promise settles; release(release_ctx) then runs (also when
 * the start fails), so the caller can keep d's objects from being freed
 * meanwhile. NULL after throwing (a bad handle; release has run). */
typedef void (*omni_node_release_fn)(void *ctx);
napi_value omni_node_async_notify(napi_env env, napi_value transport, omni_delivery *d,
                                  napi_value keep, const char *event, size_t len,
                                  const omni_node_push_helpers *helpers,
                                  omni_node_release_fn release, void *release_ctx);

#endif
