/*
 * libomni — common definitions: export marker, status codes, errors, memory.
 *
 * Included by every other libomni header; include <omni/omni.h> instead.
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_COMMON_H
#define OMNI_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(OMNI_BUILDING_LIBRARY) && defined(__GNUC__)
#define OMNI_API __attribute__((visibility("default")))
#else
#define OMNI_API
#endif

#if defined(__GNUC__)
#define OMNI_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define OMNI_WARN_UNUSED
#endif

/*
 * Status codes. 0 is success; every error is negative. The numbers are part of
 * the ABI and are never renumbered; new codes are only appended.
 *
 * OMNI_STATUS_MAP(XX) expands XX(NAME, value, "CODE", retryable, "message")
 * once per code: one table produces the enum, the code strings (the seed's
 * WorkflowError.code) and the default messages, so they never drift apart.
 */
#define OMNI_STATUS_MAP(XX)                                                        \
    XX(OK, 0, "OK", 0, "success")                                                  \
    XX(EINVAL, -1, "INVALID_ARGUMENT", 0, "invalid argument")                      \
    XX(ENOMEM, -2, "OUT_OF_MEMORY", 1, "out of memory")                            \
    XX(EJSON, -3, "INVALID_JSON", 0, "malformed JSON document")                    \
    XX(ETOOLARGE, -4, "PAYLOAD_TOO_LARGE", 0, "input exceeds its size limit")      \
    XX(ETOODEEP, -5, "NESTING_TOO_DEEP", 0, "input exceeds its nesting limit")     \
    XX(ENOTFOUND, -6, "NOT_FOUND", 0, "not found")                                 \
    XX(ECONFLICT, -7, "VERSION_CONFLICT", 1, "version does not match")             \
    XX(EEXISTS, -8, "ALREADY_EXISTS", 0, "already exists")                         \
    XX(ESTORAGE, -9, "DATABASE_ERROR", 1, "storage operation failed")              \
    XX(ETRANSPORT, -10, "TRANSPORT_ERROR", 1, "transport failed")                  \
    XX(ETIMEOUT, -11, "TIMEOUT", 1, "operation timed out")                         \
    XX(ECONNECT, -12, "CONNECT_FAILED", 1, "could not connect")                    \
    XX(ETLS, -13, "TLS_ERROR", 0, "TLS handshake or verification failed")          \
    XX(EHOOK, -14, "HOOK_FAILED", 0, "a host hook failed")                         \
    XX(EVERSION, -15, "UNSUPPORTED_VERSION", 0, "unsupported structure version")   \
    XX(EENCODING, -16, "INVALID_ENCODING", 0, "invalid encoding")                  \
    XX(ESIGNATURE, -17, "SIGNATURE_INVALID", 0, "signature is invalid")            \
    XX(EEXPIRED, -18, "TOKEN_EXPIRED", 0, "token has expired")                     \
    XX(ENOTYET, -19, "TOKEN_NOT_YET_VALID", 0, "token is not valid yet")           \
    XX(EKEY, -20, "INVALID_KEY", 0, "invalid or unsupported key")                  \
    XX(ECRYPTO, -21, "CRYPTO_ERROR", 0, "cryptographic operation failed")          \
    XX(ETIME, -22, "INVALID_TIMESTAMP", 0, "invalid timestamp")                    \
    XX(ECONFIG, -23, "INVALID_CONFIG", 0, "invalid configuration")                 \
    XX(EUNSUPPORTED, -24, "UNSUPPORTED", 0, "not supported")                       \
    XX(ERESPONSE, -25, "RESPONSE_TOO_LARGE", 0, "response exceeds its size limit") \
    XX(EEXHAUSTED, -26, "SCRIPT_EXHAUSTED", 0, "no scripted response left")        \
    XX(EINTERNAL, -27, "INTERNAL_ERROR", 0, "internal error")                         \
    XX(ESYNTAX, -28, "TEMPLATE_SYNTAX_ERROR", 0, "template syntax error")             \
    XX(EMISSING, -29, "MISSING_VARIABLE", 0, "template variable is missing")          \
    XX(EHELPER, -30, "HELPER_ERROR", 0, "template helper failed or is unknown")       \
    XX(ECARRIER, -31, "UNKNOWN_CARRIER", 0, "unknown carrier")                         \
    XX(EWEBHOOK, -32, "MALFORMED_WEBHOOK", 0, "malformed webhook request")             \
    XX(EIDENTIFIER, -33, "INVALID_IDENTIFIER", 0, "malformed identifier")              \
    XX(EIDENTITY, -34, "IDENTITY_NOT_FOUND", 0, "customer record not found")           \
    XX(EROUTING, -35, "ROUTING_RESOLUTION_FAILED", 1, "cannot determine routing")    \
    XX(ETRANSITION, -36, "INVALID_TRANSITION", 0, "event does not apply in this state") \
    XX(EWINDOW, -37, "SERVICE_WINDOW_CLOSED", 0, "customer service window is closed") \
    XX(ECANCELED, -38, "CANCELED", 1, "canceled: the transport was closed")

typedef enum omni_status {
#define OMNI__STATUS_ENUM(name, value, code, retry, msg) OMNI_##name = value,
    OMNI_STATUS_MAP(OMNI__STATUS_ENUM)
#undef OMNI__STATUS_ENUM
    OMNI__STATUS_MIN = -38
} omni_status;

/* Static description of a status ("invalid argument"); never NULL. */
OMNI_API const char *omni_strerror(int status);

/* Static upper-case code of a status ("INVALID_ARGUMENT"); never NULL.
 * Unknown numbers give "UNKNOWN_ERROR". */
OMNI_API const char *omni_status_code(int status);

/*
 * The last error of the calling thread: what the most recent failing libomni
 * call on this thread reported. A successful call does not clear it. The
 * pointer and its strings stay valid until the next libomni call on this
 * thread that fails, or omni_error_clear(). Never NULL: with no error it is
 * {OMNI_OK, 0, "OK", "success", NULL}.
 *
 * code        upper-case string as in the seeds (WorkflowError.code)
 * message     plain sentence for humans; never contains secrets
 * retryable   1 when retrying the same call later may succeed
 * details     NULL, or a JSON object with structured details
 *             (e.g. {"line": 3, "column": 7} or {"path": "accounts[0].id"})
 *
 * Thread-safety: the error is thread-local; each thread sees its own.
 */
typedef struct omni_error {
    int status;
    int retryable;
    const char *code;
    const char *message;
    const char *details;
} omni_error;

OMNI_API const omni_error *omni_error_last(void);

/* Accessors for FFI callers that cannot read the struct. */
OMNI_API int omni_error_last_status(void);
OMNI_API const char *omni_error_last_code(void);
OMNI_API const char *omni_error_last_message(void);
OMNI_API int omni_error_last_retryable(void);

/*
 * The last error as the seed's WorkflowError JSON:
 * {"code":"...","message":"...","retryable":false[,"details":{...}]}.
 * *out is allocated and released with omni_free(). Returns OMNI_OK or
 * OMNI_ENOMEM (in which case the last error is left unchanged).
 */
OMNI_API int omni_error_last_json(char **out, size_t *out_len);

/* Resets the calling thread's last error to OK. */
OMNI_API void omni_error_clear(void);

/*
 * Reports an error from a host hook (storage, transport, ...): sets the
 * calling thread's last error to `status` with `message` (copied; NULL uses
 * the default message) and returns `status`, so a hook can write
 * `return omni_error_set(OMNI_ESTORAGE, "disk full");`.
 * `retryable` < 0 keeps the status' default.
 */
OMNI_API int omni_error_set(int status, const char *message, int retryable);

/*
 * Memory. Everything libomni returns through an `out` pointer (strings,
 * buffers) is released with omni_free(). Buffers that a hook hands to the
 * library (for example a storage value) are allocated with omni_malloc();
 * the library then owns and frees them. omni_free(NULL) does nothing.
 */
OMNI_API void *omni_malloc(size_t size);
OMNI_API void omni_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif
