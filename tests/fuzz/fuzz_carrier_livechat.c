/* Fuzz target for the LiveChat adapter (lib/carriers/livechat.c): arbitrary
 * webhook bodies with verification off and against a fixed secretKey, which
 * travels in the body and must never reach a result (see
 * fuzz_carrier_common.h for the invariants). */
#include "fuzz_carrier_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const fz_target target = {
    "livechat",
    "{\"carriers\":{\"livechat\":{\"secretKey\":\"fuzz-secret-key\"}}}",
    NULL,
    "fuzz-secret-key",
    "secret_key",
    "/webhooks/livechat",
    "2024-06-03T09:45:00Z",
};

static fz_state state;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_run(&target, &state, data, size);
    return 0;
}
