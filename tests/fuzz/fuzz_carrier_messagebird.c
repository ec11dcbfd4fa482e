/* Fuzz target for the MessageBird adapter (lib/carriers/messagebird.c):
 * arbitrary Conversations webhook bodies with verification off, and
 * "<MessageBird-Signature-JWT>\n<body>" against a fixed signing key and
 * clock (see fuzz_carrier_common.h for the invariants). The corpus holds
 * tokens that verify at that time for https://hooks.example.com/webhooks/
 * messagebird. */
#include "fuzz_carrier_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const fz_target target = {
    "messagebird",
    "{\"carriers\":{\"messagebird\":{\"signingKey\":\"fuzz-signing-key\"}}}",
    "MessageBird-Signature-JWT",
    "fuzz-signing-key",
    NULL,
    "/webhooks/messagebird",
    "2024-06-03T09:30:10Z",
};

static fz_state state;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_run(&target, &state, data, size);
    return 0;
}
