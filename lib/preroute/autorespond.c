/* The auto-responder's loop guard and its per-conversation window: a record
 * in store namespace "autoresponse" (key: the conversation id) created by
 * compare-and-swap with an expiry of one window, so of two hosts racing to
 * answer the same conversation exactly one wins. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <omni/datetime.h>
#include <omni/omni.h>
#include <omni/store.h>

#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"
#include "preroute_internal.h"
#include "storage/store_internal.h"

#define CLAIM_ATTEMPTS 8

static int span_str_is(omni__jspan v, const char *s)
{
    char buf[64];
    return omni__j_str(v, buf, sizeof(buf)) >= 0 && strcasecmp(buf, s) == 0;
}

/* A header value that marks a message as automatic. */
static int header_auto(const char *name, omni__jspan v)
{
    char val[64];
    if (omni__j_str(v, val, sizeof(val)) < 0)
        val[0] = '\0';
    if (strcasecmp(name, "auto-submitted") == 0)
        return !omni__j_is(v, '"') || strcasecmp(val, "no") != 0;
    if (strcasecmp(name, "precedence") == 0)
        return strcasecmp(val, "bulk") == 0 || strcasecmp(val, "junk") == 0 ||
               strcasecmp(val, "list") == 0 || strcasecmp(val, "auto_reply") == 0;
    if (strcasecmp(name, "x-autoreply") == 0 || strcasecmp(name, "x-autorespond") == 0)
        return !(v.n == 4 && memcmp(v.p, "null", 4) == 0) && !span_str_is(v, "no");
    return 0;
}

static int headers_auto(omni__jspan headers)
{
    omni__jiter it;
    omni__jspan k, v;
    if (!omni__j_obj(&it, headers))
        return 0;
    while (omni__j_next(&it, &k, &v)) {
        char name[64];
        if (omni__j_str(k, name, sizeof(name)) >= 0 && header_auto(name, v))
            return 1;
    }
    return 0;
}

void omni__pr_guard_read(omni__pr_guard *g, omni__jspan message, omni__jspan customer_type)
{
    static const char *const names[] = {"direction", "senderType", "autoResponse", "metadata",
                                        "headers"};
    omni__jspan m[5];
    omni__j_fields(message, names, m, 5);
    g->outbound = span_str_is(m[0], "outbound");
    g->from_automaton = 0;
    if (span_str_is(m[1], "bot") || span_str_is(m[1], "agent") || span_str_is(m[1], "system"))
        g->from_automaton = 1;
    if (span_str_is(customer_type, "bot"))
        g->from_automaton = 1;
    if (m[2].n == 4 && memcmp(m[2].p, "true", 4) == 0)
        g->from_automaton = 1;
    if (omni__j_is(m[3], '{')) {
        static const char *const mnames[] = {"autoSubmitted", "headers"};
        omni__jspan md[2];
        omni__j_fields(m[3], mnames, md, 2);
        omni__jspan as = md[0];
        if ((as.n == 4 && memcmp(as.p, "true", 4) == 0) ||
            (omni__j_is(as, '"') && !span_str_is(as, "no") && as.n > 2))
            g->from_automaton = 1;
        if (headers_auto(md[1]))
            g->from_automaton = 1;
    }
    if (headers_auto(m[4]))
        g->from_automaton = 1;
}

void omni__pr_msgref_init(omni__pr_msgref *m, const char *id, const char *content, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)content[i]) * 1099511628211ULL;
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, h >>= 4)
        m->hash[i] = hex[h & 15];
    m->hash[16] = '\0';
    m->id = id ? id : "";
}

int omni__pr_window_claim(omni_engine *e, const omni__pr_account *acc, const char *conversation_id,
                          const char *account_id, const omni__pr_msgref *msg,
                          const char *response_type, const char *template_id, int64_t now)
{
    if (acc->window_ms == 0)
        return 1;
    char when[OMNI_TIME_STRLEN + 1];
    if (omni_time_format(when, sizeof(when), now))
        return omni__err(OMNI_ETIME, "preroute: the engine's clock is out of range");
    int64_t expires = now + acc->window_ms;
    if (expires > OMNI__STORE_MAX_EXPIRY_MS)
        expires = OMNI__STORE_MAX_EXPIRY_MS;
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "conversationId");
    omni__json_w_str(&b, conversation_id);
    omni__json_w_keyl(&b, "accountId");
    omni__json_w_str(&b, account_id);
    omni__json_w_keyl(&b, "responseType");
    omni__json_w_str(&b, response_type);
    omni__json_w_keyl(&b, "templateId");
    omni__json_w_str(&b, template_id);
    omni__json_w_keyl(&b, "messageId");
    omni__json_w_str(&b, msg->id);
    omni__json_w_keyl(&b, "messageHash");
    omni__json_w_str(&b, msg->hash);
    omni__json_w_keyl(&b, "sentAt");
    omni__json_w_str(&b, when);
    omni__json_w_obj_end(&b);
    int rc = omni__buf_status(&b);
    for (int attempt = 0; !rc && attempt < CLAIM_ATTEMPTS; attempt++) {
        rc = omni__store_put_trusted(e->store, OMNI__PR_NS_AUTORESPONSE, conversation_id, b.data,
                                     b.len, OMNI_STORE_CREATE, expires, now, NULL);
        if (rc == OMNI_OK) {
            omni__buf_free(&b);
            return 1;
        }
        if (rc != OMNI_EEXISTS && rc != OMNI_ECONFLICT)
            break;
        /* answered within the window: by this same message (a retry)? */
        char *text = NULL;
        size_t len = 0;
        rc = omni_store_get(e->store, OMNI__PR_NS_AUTORESPONSE, conversation_id, now, &text, &len,
                            NULL, NULL);
        if (rc == OMNI_ENOTFOUND) { /* expired or deleted meanwhile: try again */
            rc = OMNI_OK;
            continue;
        }
        if (rc)
            break;
        int same = 0;
        if (msg->id[0] &&
            (omni__store_trusted(e->store) ||
             !omni__json_validate(text, len, OMNI_STORE_MAX_VALUE, "autoresponse record"))) {
            char prev[OMNI__PR_MAX_ID + 1], hash[32];
            omni__jspan root = omni__j_root(text, len);
            same = omni__j_get_str(root, "messageId", prev, sizeof(prev)) > 0 &&
                   strcmp(prev, msg->id) == 0 &&
                   omni__j_get_str(root, "messageHash", hash, sizeof(hash)) > 0 &&
                   strcmp(hash, msg->hash) == 0;
        }
        omni_free(text);
        omni__buf_free(&b);
        return same;
    }
    omni__buf_free(&b);
    if (!rc)
        return omni__err_retry(OMNI_ECONFLICT, 1,
                               "preroute: the auto-response record kept changing");
    return rc;
}
