/* Internal: setting the thread-local last error. */
#ifndef OMNI_CORE_ERROR_H
#define OMNI_CORE_ERROR_H

#include <omni/common.h>

#if defined(__GNUC__)
#define OMNI__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define OMNI__PRINTF(f, a)
#endif

/* Sets the calling thread's last error to `status` with a printf-style
 * message (NULL fmt: the status' default message) and returns `status`.
 * Messages are truncated at 512 bytes. Never put a secret in a message. */
int omni__err(int status, const char *fmt, ...) OMNI__PRINTF(2, 3);

/* As omni__err, with a details JSON object (copied; may be NULL). */
int omni__err_details(int status, const char *details_json, const char *fmt, ...)
    OMNI__PRINTF(3, 4);

/* As omni__err, overriding the status' default retryable flag. */
int omni__err_retry(int status, int retryable, const char *fmt, ...) OMNI__PRINTF(3, 4);

/* After a hook returned `status` < 0: if the hook did not set a message
 * (omni_error_set) during the call, sets a generic one naming `what`.
 * `mark` is the value of omni__err_mark() taken before calling the hook. */
unsigned long omni__err_mark(void);
int omni__err_from_hook(int status, unsigned long mark, const char *what);

/* Default retryable flag of a status. */
int omni__status_retryable(int status);

#endif
