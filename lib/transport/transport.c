/* placeholder */
#include <omni/omni.h>
#include "core/error.h"
int omni_transport_curl_new(omni_transport **out, const char *o, size_t n) { (void)o; (void)n; *out = NULL; return omni__err(OMNI_EUNSUPPORTED, NULL); }
int omni_transport_scripted_new(omni_transport **out, const char *o, size_t n) { (void)o; (void)n; *out = NULL; return omni__err(OMNI_EUNSUPPORTED, NULL); }
int omni_transport_wrap(omni_transport **out, const omni_transport_hook *h) { (void)h; *out = NULL; return omni__err(OMNI_EUNSUPPORTED, NULL); }
void omni_transport_free(omni_transport *t) { (void)t; }
