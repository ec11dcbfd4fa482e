/* The omni_transport object: one hook table (a host's or a bundled one). */
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "core/engine.h"
#include "core/error.h"
#include "transport_internal.h"

struct omni_transport {
    omni_transport_hook hook; /* close set when the transport owns ctx */
};

/* Takes ownership of hook->ctx (closing it when the allocation fails). */
static int transport_make(omni_transport **out, const omni_transport_hook *hook)
{
    omni_transport *t = calloc(1, sizeof(*t));
    if (!t) {
        if (hook->close)
            hook->close(hook->ctx);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    t->hook = *hook;
    *out = t;
    return OMNI_OK;
}

int omni_transport_curl_new(omni_transport **out, const char *options_json, size_t options_len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "out is NULL");
    *out = NULL;
    omni_transport_hook hook;
    int rc = omni__curl_open(&hook, options_json, options_len);
    if (rc)
        return rc;
    return transport_make(out, &hook);
}

int omni_transport_scripted_new(omni_transport **out, const char *responses_json, size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "out is NULL");
    *out = NULL;
    omni_transport_hook hook;
    int rc = omni__scripted_open(&hook, responses_json, len);
    if (rc)
        return rc;
    return transport_make(out, &hook);
}

int omni_transport_scripted_sent(omni_transport *transport, char **out, size_t *out_len)
{
    if (!transport || !out)
        return omni__err(OMNI_EINVAL, "transport or out is NULL");
    if (transport->hook.send != omni__scripted_send)
        return omni__err(OMNI_EINVAL, "the transport is not a scripted transport");
    return omni__scripted_sent(transport->hook.ctx, out, out_len);
}

int omni_transport_wrap(omni_transport **out, const omni_transport_hook *hook)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "out is NULL");
    *out = NULL;
    if (!hook)
        return omni__err(OMNI_EINVAL, "transport hook is NULL");
    int rc = omni__hook_version_check(hook->version, OMNI_TRANSPORT_HOOK_VERSION, "transport");
    if (rc)
        return rc;
    if (!hook->send)
        return omni__err(OMNI_EINVAL, "transport hook has no send callback");
    omni_transport_hook copy = OMNI_TRANSPORT_HOOK_INIT;
    /* Version 1 is the only layout so far: copy all of it. */
    copy.version = hook->version;
    copy.ctx = hook->ctx;
    copy.send = hook->send;
    copy.close = hook->close;
    omni_transport *t = calloc(1, sizeof(*t));
    if (!t)
        return omni__err(OMNI_ENOMEM, NULL); /* ctx stays the caller's */
    t->hook = copy;
    *out = t;
    return OMNI_OK;
}

void omni_transport_free(omni_transport *transport)
{
    if (!transport)
        return;
    if (transport->hook.close)
        transport->hook.close(transport->hook.ctx);
    free(transport);
}

int omni_transport_send(omni_transport *transport, const omni_http_request *request,
                        omni_http_response **out)
{
    if (!transport || !request || !out)
        return omni__err(OMNI_EINVAL, "transport, request or out is NULL");
    omni_http_response *resp;
    int rc = omni_http_response_new(&resp);
    if (rc)
        return rc;
    unsigned long mark = omni__err_mark();
    rc = transport->hook.send(transport->hook.ctx, request, resp);
    if (rc != OMNI_OK) {
        omni_http_response_free(resp);
        return omni__err_from_hook(rc < 0 ? rc : OMNI_EHOOK, mark, "transport");
    }
    if (omni_http_response_status(resp) == 0) {
        omni_http_response_free(resp);
        return omni__err(OMNI_EHOOK, "transport hook returned OMNI_OK without a response status");
    }
    *out = resp;
    return OMNI_OK;
}

int omni_transport_get_hook(const omni_transport *transport, omni_transport_hook *out)
{
    if (!transport || !out)
        return omni__err(OMNI_EINVAL, "transport or out is NULL");
    *out = transport->hook;
    out->close = NULL;
    return OMNI_OK;
}
