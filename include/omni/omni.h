/*
 * libomni — the message-processing core of an omnichannel messaging
 * platform. Umbrella header: include this one.
 *
 * Conventions (see README.md "ABI rules"):
 *  - functions return 0 (OMNI_OK) or a negative omni_status; details of the
 *    failure are in omni_error_last() on the calling thread;
 *  - output parameters come first and are named out; inputs are borrowed;
 *  - everything returned through `out` is released with omni_free() or the
 *    type's _free(); every _free(NULL) does nothing;
 *  - JSON documents are UTF-8, passed as (const char *json, size_t len).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_H
#define OMNI_H

#include "common.h"
#include "hooks.h"
#include "store.h"
#include "http.h"
#include "encoding.h"
#include "crypto.h"
#include "datetime.h"
#include "uuid.h"
#include "template.h"
#include "channel.h"
#include "template_store.h"
#include "carrier.h"
#include "identity.h"
#include "conversation.h"
#include "rules.h"
#include "analyze.h"
#include "preroute.h"
#include "aws.h"
#include "outbound.h"
#include "delivery.h"
#include "push.h"
#include "async.h"
#include "config.h"
#include "orchestrator.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OMNI_VERSION_MAJOR 0
#define OMNI_VERSION_MINOR 1
#define OMNI_VERSION_PATCH 0
#define OMNI_VERSION_STRING "0.1.0"

/* The library's version string ("0.1.0"); static. */
OMNI_API const char *omni_version(void);
/* The version as one number: major * 10000 + minor * 100 + patch. */
OMNI_API int omni_version_number(void);

/*
 * Input limits. Every input has one; each is also available at run time
 * through omni_limit() for FFI callers that cannot see macros.
 */
#define OMNI_LIMIT_JSON_BYTES (4u * 1024u * 1024u) /* one JSON document */
#define OMNI_LIMIT_JSON_DEPTH 64                   /* nesting of arrays/objects */
#define OMNI_LIMIT_CONFIG_BYTES (8u * 1024u * 1024u)

typedef enum omni_limit_id {
    OMNI_LIMIT_ID_JSON_BYTES = 1,
    OMNI_LIMIT_ID_JSON_DEPTH = 2,
    OMNI_LIMIT_ID_CONFIG_BYTES = 3,
    OMNI_LIMIT_ID_STORE_NS = 4,
    OMNI_LIMIT_ID_STORE_KEY = 5,
    OMNI_LIMIT_ID_STORE_VALUE = 6,
    OMNI_LIMIT_ID_HTTP_BODY = 7,
    OMNI_LIMIT_ID_HTTP_HEADERS = 8,
    OMNI_LIMIT_ID_JWT_BYTES = 9,
    OMNI_LIMIT_ID_CODEC_BYTES = 10
} omni_limit_id;

/* The value of a limit, or 0 for an unknown id. */
OMNI_API uint64_t omni_limit(int id);

/*
 * The engine: configuration plus hooks, made once and shared.
 *
 * omni_engine_new() parses and validates `config_json` (NULL or "" for all
 * defaults) and copies the hook tables (`hooks` may be NULL). Configuration
 * keys (every one optional; unknown keys are rejected):
 *
 *   "storage":   store URI, "memory:" (default); see omni_store_open()
 *   "transport": {"type": "curl", ...options of omni_transport_curl_new()}
 *                | {"type": "scripted", "responses": [...]} | {"type": "none"}
 *                (default "none": sending fails with OMNI_EUNSUPPORTED)
 *   "clock":     {"fixed": "RFC 3339 time"} — freezes the clock (tests, --now)
 *   "random":    {"seed": N} — deterministic random bytes (tests, --seed)
 *   "log":       {"level": "debug"|"info"|"warn"|"error"|"off"}
 *
 * A hook given in `hooks` takes precedence over the configuration.
 * Errors: OMNI_EINVAL (out is NULL), OMNI_EJSON, OMNI_ETOOLARGE,
 * OMNI_ECONFIG (details: {"path": "..."}), OMNI_EVERSION (a hook table's
 * version), OMNI_ENOMEM, and the errors of opening the store or transport.
 *
 * Thread-safety: an engine is immutable after creation and may be used from
 * any number of threads at once; its hooks must then be thread-safe too.
 */
typedef struct omni_engine omni_engine;

OMNI_API int omni_engine_new(omni_engine **out, const char *config_json, size_t config_len,
                             const omni_hooks *hooks) OMNI_WARN_UNUSED;
OMNI_API void omni_engine_free(omni_engine *engine);

/* Current time from the engine's clock hook (Unix ms). NULL: system clock. */
OMNI_API int64_t omni_engine_now_ms(const omni_engine *engine);

/* Random bytes from the engine's random hook. NULL: OS random. */
OMNI_API int omni_engine_random(const omni_engine *engine, uint8_t *buf, size_t len);

/* The engine's store and transport; borrowed, valid while the engine lives. */
OMNI_API omni_store *omni_engine_store(const omni_engine *engine);
OMNI_API omni_transport *omni_engine_transport(const omni_engine *engine);

#ifdef __cplusplus
}
#endif

#endif
