/* placeholder */
#include <omni/omni.h>
#include "core/error.h"
int omni_store_open(omni_store **out, const char *uri) { (void)uri; *out = NULL; return 0; }
int omni_store_wrap(omni_store **out, const omni_storage_hook *hook) { (void)hook; *out = NULL; return 0; }
void omni_store_free(omni_store *store) { (void)store; }
