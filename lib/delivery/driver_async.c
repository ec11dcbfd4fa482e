/* The delivery engine driven through the asynchronous transport
 * (omni/async.h): a job's SEND goes out through omni_async_send and its
 * answer is fed from the completion callback, on the loop's thread, so many
 * jobs are in flight at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/error.h"
#include "delivery_internal.h"

typedef struct run_async {
    omni_delivery_job *job;
    omni_async *a;
    omni_delivery_done_cb cb;
    void *user;
} run_async;

static int64_t clock_of(const omni_delivery_job *job, int64_t floor)
{
    int64_t now = omni_engine_now_ms(job->d->engine);
    return now > floor ? now : floor;
}

static void step(run_async *r, int64_t now);

static void finish(run_async *r, int status)
{
    omni_delivery_done_cb cb = r->cb;
    void *user = r->user;
    omni_delivery_job *job = r->job;
    free(r);
    cb(user, job, status);
}

static void answered(void *user, const omni_http_response *response, int status)
{
    run_async *r = user;
    int64_t now = clock_of(r->job, 0);
    int rc = omni_delivery_feed(r->job, status == OMNI_OK ? response : NULL, status, now);
    if (rc) {
        finish(r, rc);
        return;
    }
    step(r, now);
}

/* Runs the job's next actions until it sends (and returns: the callback
 * goes on) or stops. */
static void step(run_async *r, int64_t now)
{
    int action = 0;
    const omni_http_request *req = NULL;
    int rc = omni_delivery_next(r->job, now, &action, &req, NULL);
    if (rc) {
        finish(r, rc);
        return;
    }
    if (action != OMNI_DELIVERY_SEND) {
        finish(r, OMNI_OK); /* done, or a retry stored for tick */
        return;
    }
    rc = omni_async_send(r->a, req, answered, r);
    if (rc) { /* never sent: the outcome of the claimed attempt is this error */
        char msg[256];
        snprintf(msg, sizeof msg, "%s", omni_error_last_message());
        omni__err(rc, "%s", msg);
        int frc = omni_delivery_feed(r->job, NULL, rc < 0 ? rc : OMNI_ETRANSPORT, now);
        if (frc) {
            finish(r, frc);
            return;
        }
        step(r, clock_of(r->job, now));
    }
}

int omni_delivery_run_async(omni_delivery_job *job, omni_async *a, omni_delivery_done_cb cb,
                            void *user)
{
    if (!job || !a || !cb)
        return omni__err(OMNI_EINVAL, "delivery: job, async transport and callback are "
                                      "required");
    run_async *r = calloc(1, sizeof *r);
    if (!r)
        return omni__err(OMNI_ENOMEM, "delivery: out of memory");
    r->job = job;
    r->a = a;
    r->cb = cb;
    r->user = user;
    step(r, clock_of(job, 0));
    return OMNI_OK;
}
