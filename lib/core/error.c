/* The status table and the thread-local last error. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"

#define OMNI__MSG_MAX 512

typedef struct {
    int status;
    const char *code;
    int retryable;
    const char *message;
} status_info;

static const status_info status_table[] = {
#define OMNI__STATUS_ROW(name, value, code, retry, msg) {value, code, retry, msg},
    OMNI_STATUS_MAP(OMNI__STATUS_ROW)
#undef OMNI__STATUS_ROW
};

static const status_info *status_find(int status)
{
    /* The table is ordered 0, -1, -2, ... so the index is -status. */
    if (status > 0 || -status >= (int)(sizeof(status_table) / sizeof(status_table[0])))
        return NULL;
    return &status_table[-status];
}

const char *omni_strerror(int status)
{
    const status_info *s = status_find(status);
    return s ? s->message : "unknown error";
}

const char *omni_status_code(int status)
{
    const status_info *s = status_find(status);
    return s ? s->code : "UNKNOWN_ERROR";
}

int omni__status_retryable(int status)
{
    const status_info *s = status_find(status);
    return s ? s->retryable : 0;
}

typedef struct {
    omni_error pub;
    char message[OMNI__MSG_MAX];
    char *details;
    unsigned long serial;
} thread_error;

static _Thread_local thread_error last_error = {
    {OMNI_OK, 0, "OK", "success", NULL}, {0}, NULL, 0};

static void error_store(int status, int retryable, const char *details, const char *fmt,
                        va_list ap)
{
    thread_error *e = &last_error;
    e->pub.status = status;
    e->pub.code = omni_status_code(status);
    e->pub.retryable = retryable < 0 ? omni__status_retryable(status) : !!retryable;
    if (fmt) {
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
    } else {
        snprintf(e->message, sizeof(e->message), "%s", omni_strerror(status));
    }
    e->pub.message = e->message;
    free(e->details);
    e->details = details ? strdup(details) : NULL;
    e->pub.details = e->details;
    e->serial++;
}

int omni__err(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_store(status, -1, NULL, fmt, ap);
    va_end(ap);
    return status;
}

int omni__err_details(int status, const char *details_json, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_store(status, -1, details_json, fmt, ap);
    va_end(ap);
    return status;
}

int omni__err_retry(int status, int retryable, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_store(status, retryable, NULL, fmt, ap);
    va_end(ap);
    return status;
}

unsigned long omni__err_mark(void)
{
    return last_error.serial;
}

int omni__err_from_hook(int status, unsigned long mark, const char *what)
{
    if (status >= 0)
        status = OMNI_EHOOK;
    if (last_error.serial == mark || last_error.pub.status != status)
        return omni__err(status, "%s hook failed (%s)", what, omni_status_code(status));
    return status;
}

int omni_error_set(int status, const char *message, int retryable)
{
    if (status >= 0)
        status = OMNI_EHOOK;
    if (message)
        return omni__err_retry(status, retryable, "%s", message);
    return omni__err_retry(status, retryable, NULL);
}

const omni_error *omni_error_last(void)
{
    return &last_error.pub;
}

int omni_error_last_status(void)
{
    return last_error.pub.status;
}

const char *omni_error_last_code(void)
{
    return last_error.pub.code;
}

const char *omni_error_last_message(void)
{
    return last_error.pub.message;
}

int omni_error_last_retryable(void)
{
    return last_error.pub.retryable;
}

void omni_error_clear(void)
{
    thread_error *e = &last_error;
    free(e->details);
    e->details = NULL;
    e->pub = (omni_error){OMNI_OK, 0, "OK", "success", NULL};
    e->message[0] = '\0';
}

int omni_error_last_json(char **out, size_t *out_len)
{
    if (!out)
        return OMNI_EINVAL; /* keep the last error intact */
    const omni_error *e = &last_error.pub;
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_key(&b, "code");
    omni__json_w_str(&b, e->code);
    omni__json_w_key(&b, "message");
    omni__json_w_str(&b, e->message);
    omni__json_w_key(&b, "retryable");
    omni__json_w_bool(&b, e->retryable);
    if (e->details) {
        omni__json_w_key(&b, "details");
        omni__json_w_raw(&b, e->details, strlen(e->details));
    }
    omni__json_w_obj_end(&b);
    if (b.failed) {
        omni__buf_free(&b);
        return OMNI_ENOMEM;
    }
    return omni__buf_detach(&b, out, out_len);
}

void *omni_malloc(size_t size)
{
    return malloc(size ? size : 1);
}

void omni_free(void *ptr)
{
    free(ptr);
}
