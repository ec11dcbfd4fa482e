/* Hook table initialisation and version checks. */
#include <stddef.h>
#include <string.h>

#include <omni/omni.h>

#include "engine.h"
#include "error.h"

int omni__hook_version_check(unsigned version, unsigned known, const char *what)
{
    if (version == 0 || version > known)
        return omni__err(OMNI_EVERSION,
                         "%s hook table has version %u; this library knows versions 1..%u", what,
                         version, known);
    return OMNI_OK;
}

#define OMNI__HOOK_INIT_FN(fn, type, init, known, what)                                        \
    int fn(type *hook, unsigned version)                                                      \
    {                                                                                          \
        if (!hook)                                                                             \
            return omni__err(OMNI_EINVAL, "%s hook table is NULL", what);                      \
        int rc = omni__hook_version_check(version, known, what);                               \
        if (rc)                                                                                \
            return rc;                                                                         \
        type tmpl = init;                                                                      \
        *hook = tmpl;                                                                          \
        hook->version = version;                                                               \
        return OMNI_OK;                                                                        \
    }

OMNI__HOOK_INIT_FN(omni_clock_hook_init, omni_clock_hook, OMNI_CLOCK_HOOK_INIT,
                   OMNI_CLOCK_HOOK_VERSION, "clock")
OMNI__HOOK_INIT_FN(omni_random_hook_init, omni_random_hook, OMNI_RANDOM_HOOK_INIT,
                   OMNI_RANDOM_HOOK_VERSION, "random")
OMNI__HOOK_INIT_FN(omni_log_hook_init, omni_log_hook, OMNI_LOG_HOOK_INIT, OMNI_LOG_HOOK_VERSION,
                   "log")
OMNI__HOOK_INIT_FN(omni_metrics_hook_init, omni_metrics_hook, OMNI_METRICS_HOOK_INIT,
                   OMNI_METRICS_HOOK_VERSION, "metrics")
OMNI__HOOK_INIT_FN(omni_storage_hook_init, omni_storage_hook, OMNI_STORAGE_HOOK_INIT,
                   OMNI_STORAGE_HOOK_VERSION, "storage")
OMNI__HOOK_INIT_FN(omni_transport_hook_init, omni_transport_hook, OMNI_TRANSPORT_HOOK_INIT,
                   OMNI_TRANSPORT_HOOK_VERSION, "transport")
OMNI__HOOK_INIT_FN(omni_analyzer_hook_init, omni_analyzer_hook, OMNI_ANALYZER_HOOK_INIT,
                   OMNI_ANALYZER_HOOK_VERSION, "analyzer")

/* omni_hooks grew in version 2 (analyzer): a caller built against version 1
 * has the shorter table, so only that many bytes are written. */
int omni_hooks_init(omni_hooks *hooks, unsigned version)
{
    if (!hooks)
        return omni__err(OMNI_EINVAL, "hooks hook table is NULL");
    int rc = omni__hook_version_check(version, OMNI_HOOKS_VERSION, "hooks");
    if (rc)
        return rc;
    omni_hooks tmpl = OMNI_HOOKS_INIT;
    tmpl.version = version;
    size_t size = version >= 2 ? sizeof(tmpl) : offsetof(omni_hooks, analyzer);
    memcpy(hooks, &tmpl, size);
    return OMNI_OK;
}
