/* Hook table initialisation and version checks. */
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
OMNI__HOOK_INIT_FN(omni_hooks_init, omni_hooks, OMNI_HOOKS_INIT, OMNI_HOOKS_VERSION, "hooks")
