/* placeholder */
#include <omni/omni.h>
#include "error.h"
int omni_time_parse(int64_t *out_ms, const char *text, size_t len)
{
    (void)out_ms; (void)text; (void)len;
    return omni__err(OMNI_EUNSUPPORTED, "not implemented yet");
}
