/* Fuzz target for the Inteliquent adapter (lib/carriers/inteliquent.c):
 * arbitrary inbound message bodies with verification off, and
 * "<X-Inteliquent-Secret value>\n<body>" against a fixed shared secret (see
 * fuzz_carrier_common.h for the invariants). */
#include "fuzz_carrier_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const fz_target target = {
    "inteliquent",
    "{\"carriers\":{\"inteliquent\":{\"secret\":\"fuzz-shared-secret\"}}}",
    "X-Inteliquent-Secret",
    "fuzz-shared-secret",
    NULL,
    "/webhooks/inteliquent",
    "2024-06-03T09:50:00Z",
};

static fz_state state;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_run(&target, &state, data, size);
    return 0;
}
