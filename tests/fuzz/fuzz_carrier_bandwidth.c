/* Fuzz target for the Bandwidth adapter (lib/carriers/bandwidth.c):
 * arbitrary callback bodies with verification off, and "<Authorization
 * header value>\n<body>" against fixed HTTP Basic credentials (see
 * fuzz_carrier_common.h for the invariants). */
#include "fuzz_carrier_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const fz_target target = {
    "bandwidth",
    "{\"carriers\":{\"bandwidth\":{\"username\":\"fuzz-user\",\"password\":\"fuzz-pass\"}}}",
    "Authorization",
    "fuzz-pass",
    NULL,
    "/webhooks/bandwidth",
    "2024-06-03T09:40:00Z",
};

static fz_state state;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_run(&target, &state, data, size);
    return 0;
}
