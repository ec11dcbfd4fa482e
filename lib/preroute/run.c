/* omni_preroute_run: one PreRouteEvent through opt-out keywords, content
 * analysis, spam blocking, the account's rules, the auto-responder and the
 * routing decision, into a PreRouteResult (seed 001's workFlowPreRoute).
 * The event is validated once and read with the span reader; the rules get
 * the event text with "contentAnalysis" appended; the store is touched only
 * for a keyword message or an auto-response that is due. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <omni/analyze.h>
#include <omni/omni.h>
#include <omni/preroute.h>
#include <omni/rules.h>
#include <omni/template.h>

#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"
#include "preroute_internal.h"
#include "rules/rules_internal.h"

#define STACK_TEXT 2048
#define STACK_IDX 128
#define MAX_TAGS (OMNI__RULES_DECISION_MAX_TAGS + 72)

/* ---- the event ------------------------------------------------------------------ */

typedef struct ev {
    omni__jspan correlation, conversation, message_state, routing, identity, message;
    char account_id[OMNI__PR_MAX_ID + 1];
    char customer_id[OMNI__PR_MAX_ID + 1];
    char conversation_id[OMNI__PR_MAX_ID + 1];
    char message_id[OMNI__PR_MAX_ID + 1];
    char channel[OMNI__PR_MAX_ID + 1];
    char conv_status[32];
    char pref_lang[OMNI__PR_MAX_LANG + 1];
    int pref_opted_out; /* identity.preferences.optOutStatus is true */
    char content_type[32];
    char sender[OMNI__PR_MAX_ID + 1];
    const char *content;
    size_t content_len;
    char *content_heap;
    omni__pr_guard guard;
    char content_stack[STACK_TEXT]; /* last: not cleared */
} ev;

static int bad(const char *what)
{
    return omni__err(OMNI_EINVAL, "preroute: %s", what);
}

/* absent or null: 0; the expected kind: 1; another kind: -1 */
static int kind(omni__jspan v, char c)
{
    if (!v.p || (v.n == 4 && memcmp(v.p, "null", 4) == 0))
        return 0;
    return v.p[0] == c ? 1 : -1;
}

/* A string span into buf: absent/null leaves "", a wrong type or an
 * oversized value is an error. */
static int span_str(omni__jspan v, char *buf, size_t cap, const char *what)
{
    buf[0] = '\0';
    if (kind(v, '"') == 0)
        return OMNI_OK;
    if (!omni__j_is(v, '"') || omni__j_str(v, buf, cap) < 0)
        return bad(what);
    return OMNI_OK;
}

/* The same where a bad value only means "not given". */
static void span_str_soft(omni__jspan v, char *buf, size_t cap)
{
    if (!omni__j_is(v, '"') || omni__j_str(v, buf, cap) < 0)
        buf[0] = '\0';
}

static int event_read(ev *e, const char *json, size_t len)
{
    int rc = omni__json_validate(json, len, OMNI_PREROUTE_MAX_EVENT, "event");
    if (rc)
        return rc;
    omni__jspan root = omni__j_root(json, len);
    if (!omni__j_is(root, '{'))
        return bad("the event must be a JSON object");
    static const char *const names[] = {"correlationId", "conversation", "messageState",
                                        "routing",       "identity",     "message"};
    omni__jspan f[6];
    omni__j_fields(root, names, f, 6);
    e->correlation = f[0];
    e->conversation = f[1];
    e->message_state = f[2];
    e->routing = f[3];
    e->identity = f[4];
    e->message = f[5];
    if (kind(f[0], '"') < 0)
        return bad("correlationId must be a string");
    if (kind(f[1], '{') < 0 || kind(f[2], '{') < 0 || kind(f[4], '{') < 0)
        return bad("conversation, messageState and identity must be objects");
    if (kind(f[3], '{') <= 0)
        return bad("the event has no routing object");
    if (kind(f[5], '{') <= 0)
        return bad("the event has no message object");

    static const char *const rnames[] = {"accountId", "customerId", "conversationId", "channel"};
    omni__jspan r[4];
    omni__j_fields(e->routing, rnames, r, 4);
    if (!omni__j_is(r[0], '"') || omni__j_str(r[0], e->account_id, sizeof(e->account_id)) <= 0)
        return bad("routing.accountId must be a string of 1..256 bytes");

    static const char *const inames[] = {"customerId", "customerType", "preferences"};
    omni__jspan id[3];
    omni__j_fields(e->identity, inames, id, 3);
    static const char *const cnames[] = {"conversationId", "status"};
    omni__jspan cv[2];
    omni__j_fields(e->conversation, cnames, cv, 2);
    static const char *const mnames[] = {"content",          "contentType", "direction", "id",
                                         "normalizedSender", "from",        "channelType"};
    omni__jspan m[7];
    omni__j_fields(e->message, mnames, m, 7);

    if ((rc = span_str(id[0], e->customer_id, sizeof(e->customer_id),
                       "identity.customerId must be a string of at most 256 bytes")))
        return rc;
    if (!e->customer_id[0] &&
        (rc = span_str(r[1], e->customer_id, sizeof(e->customer_id),
                       "routing.customerId must be a string of at most 256 bytes")))
        return rc;
    if ((rc = span_str(cv[0], e->conversation_id, sizeof(e->conversation_id),
                       "conversation.conversationId must be a string of at most 256 bytes")))
        return rc;
    if (!e->conversation_id[0] &&
        (rc = span_str(r[2], e->conversation_id, sizeof(e->conversation_id),
                       "routing.conversationId must be a string of at most 256 bytes")))
        return rc;
    if ((rc = span_str(omni__j_get(e->message_state, "messageId"), e->message_id,
                       sizeof(e->message_id),
                       "messageState.messageId must be a string of at most 256 bytes")))
        return rc;
    if (!e->message_id[0] && (rc = span_str(m[3], e->message_id, sizeof(e->message_id),
                                            "message.id must be a string of at most 256 bytes")))
        return rc;
    if ((rc = span_str(r[3], e->channel, sizeof(e->channel),
                       "routing.channel must be a string of at most 256 bytes")))
        return rc;
    if (!e->channel[0] && (rc = span_str(m[6], e->channel, sizeof(e->channel),
                                         "message.channelType must be a string of at most "
                                         "256 bytes")))
        return rc;
    span_str_soft(cv[1], e->conv_status, sizeof(e->conv_status)); /* unknown: no "new" */
    if (kind(id[2], '{') < 0)
        return bad("identity.preferences must be an object");
    /* not a usable language tag: no preference */
    span_str_soft(omni__j_get(id[2], "language"), e->pref_lang, sizeof(e->pref_lang));
    omni__jspan oos = omni__j_get(id[2], "optOutStatus");
    e->pref_opted_out = oos.p && oos.n == 4 && memcmp(oos.p, "true", 4) == 0;
    if ((rc = span_str(m[1], e->content_type, sizeof(e->content_type),
                       "message.contentType must be a string of at most 31 bytes")))
        return rc;
    if (kind(m[2], '"') < 0)
        return bad("message.direction must be a string");
    span_str_soft(m[4], e->sender, sizeof(e->sender));
    if (!e->sender[0])
        span_str_soft(m[5], e->sender, sizeof(e->sender));
    omni__jspan content = m[0];
    int k = kind(content, '"');
    if (k < 0)
        return bad("message.content must be a string");
    e->content = "";
    e->content_len = 0;
    if (k > 0) {
        char *buf = e->content_stack;
        size_t cap = sizeof(e->content_stack);
        if (content.n > cap) {
            buf = e->content_heap = malloc(content.n);
            if (!buf)
                return omni__err(OMNI_ENOMEM, NULL);
            cap = content.n;
        }
        long n = omni__j_str(content, buf, cap);
        if (n < 0)
            return bad("message.content holds a NUL character");
        e->content = buf;
        e->content_len = (size_t)n;
    }
    omni__pr_guard_read(&e->guard, e->message, id[1]);
    return OMNI_OK;
}

static int is_text(const ev *e)
{
    return !e->content_type[0] || strcmp(e->content_type, "text") == 0;
}

/* ---- content analysis -------------------------------------------------------------- */

static void analysis_request(omni_buf *b, const ev *e)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "content");
    omni__json_w_strn(b, e->content, e->content_len);
    omni__json_w_keyl(b, "contentType");
    omni__json_w_str(b, e->content_type[0] ? e->content_type : "text");
    if (e->pref_lang[0]) {
        omni__json_w_keyl(b, "language");
        omni__json_w_str(b, e->pref_lang);
    }
    if (e->sender[0]) {
        omni__json_w_keyl(b, "sender");
        omni__json_w_str(b, e->sender);
    }
    omni__json_w_obj_end(b);
}

static int hook_bad(const char *member, const char *what)
{
    return omni__err(OMNI_EHOOK, "preroute: the analyzer hook's result: \"%s\" %s", member, what);
}

static int analysis_check(const cJSON *ca)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(ca, "spam");
    if (!cJSON_IsBool(v))
        return hook_bad("spam", "must be a boolean");
    const char *s = omni__json_str(ca, "sentiment");
    if (!s || (strcmp(s, "positive") && strcmp(s, "neutral") && strcmp(s, "negative")))
        return hook_bad("sentiment", "must be positive, neutral or negative");
    v = cJSON_GetObjectItemCaseSensitive(ca, "intent");
    if (!cJSON_IsArray(v))
        return hook_bad("intent", "must be an array of strings");
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it))
            return hook_bad("intent", "must be an array of strings");
    }
    v = cJSON_GetObjectItemCaseSensitive(ca, "entities");
    if (!cJSON_IsArray(v))
        return hook_bad("entities", "must be an array of objects with type and value");
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsObject(it) || !omni__json_str(it, "type") || !omni__json_str(it, "value"))
            return hook_bad("entities", "must be an array of objects with type and value");
    }
    if (!omni__json_str(ca, "language"))
        return hook_bad("language", "must be a string");
    v = cJSON_GetObjectItemCaseSensitive(ca, "spamReasons");
    if (v && !cJSON_IsArray(v))
        return hook_bad("spamReasons", "must be an array");
    return OMNI_OK;
}

/* The engine's analyzer hook over the built-in result *ca (replaced). */
static int analysis_hook(omni_engine *eng, const ev *e, char **ca, size_t *ca_len)
{
    omni_buf req = OMNI_BUF_INIT;
    analysis_request(&req, e);
    int rc = omni__buf_status(&req);
    if (rc) {
        omni__buf_free(&req);
        return rc;
    }
    char *hout = NULL;
    size_t hlen = 0;
    unsigned long mark = omni__err_mark();
    rc = eng->analyzer.analyze(eng->analyzer.ctx, req.data, req.len, *ca, *ca_len, &hout, &hlen);
    omni__buf_free(&req);
    if (rc < 0) {
        omni_free(hout);
        return omni__err_from_hook(rc, mark, "analyzer");
    }
    if (!hout)
        return OMNI_OK;
    cJSON *h = NULL, *base = NULL;
    rc = omni__json_parse(&h, hout, hlen, OMNI_ANALYZE_MAX_REQUEST, "analyzer hook result");
    omni_free(hout);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", omni_error_last_message());
        return omni__err(OMNI_EHOOK, "preroute: the analyzer hook's result is not JSON (%s)",
                         msg);
    }
    if (!cJSON_IsObject(h)) {
        cJSON_Delete(h);
        return omni__err(OMNI_EHOOK, "preroute: the analyzer hook's result is not an object");
    }
    rc = omni__json_parse(&base, *ca, *ca_len, 0, "analysis");
    while (!rc && h->child) {
        cJSON *m = cJSON_DetachItemViaPointer(h, h->child);
        /* the member replaces the built-in one of the same name, in place */
        cJSON *old = cJSON_GetObjectItemCaseSensitive(base, m->string);
        if (old)
            cJSON_ReplaceItemViaPointer(base, old, m);
        else
            cJSON_AddItemToObject(base, m->string, m);
    }
    cJSON_Delete(h);
    if (!rc)
        rc = analysis_check(base);
    char *merged = NULL;
    size_t mlen = 0;
    if (!rc && omni__json_print(&merged, &mlen, base))
        rc = omni__err(OMNI_ENOMEM, NULL);
    cJSON_Delete(base);
    if (rc)
        return rc;
    char *copy = malloc(mlen + 1);
    if (!copy) {
        free(merged);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    memcpy(copy, merged, mlen + 1);
    free(merged);
    omni_free(*ca);
    *ca = copy;
    *ca_len = mlen;
    return OMNI_OK;
}

static int analyze(omni_engine *eng, const omni__pr_account *acc, const ev *e, int use_hook,
                   char **ca, size_t *ca_len)
{
    int rc;
    if (is_text(e)) {
        rc = omni_analyze_text(ca, ca_len, acc->analyzer, e->content, e->content_len,
                               e->pref_lang[0] ? e->pref_lang : NULL,
                               e->sender[0] ? e->sender : NULL);
    } else {
        omni_buf req = OMNI_BUF_INIT;
        analysis_request(&req, e);
        rc = omni__buf_status(&req);
        if (!rc)
            rc = omni_analyze(ca, ca_len, acc->analyzer, req.data, req.len);
        omni__buf_free(&req);
    }
    if (rc)
        return rc;
    if (use_hook && eng->analyzer.analyze) {
        rc = analysis_hook(eng, e, ca, ca_len);
        if (rc) {
            omni_free(*ca);
            *ca = NULL;
        }
    }
    return rc;
}

/* What the decision needs of the analysis. */
typedef struct facts_ca {
    int spam, blocked_sender, negative;
    char language[OMNI__PR_MAX_LANG + 1];
    omni__jspan intent;
} facts_ca;

static void analysis_read(facts_ca *f, const char *ca, size_t len)
{
    omni__jspan root = omni__j_root(ca, len);
    static const char *const names[] = {"spam", "spamReasons", "sentiment", "intent", "language"};
    omni__jspan v[5];
    omni__j_fields(root, names, v, 5);
    f->spam = v[0].n == 4 && memcmp(v[0].p, "true", 4) == 0;
    f->blocked_sender = 0;
    if (omni__j_is(v[1], '[')) {
        static const char needle[] = "\"blocked_sender\"";
        for (size_t i = 0; i + sizeof(needle) - 1 <= v[1].n; i++)
            if (memcmp(v[1].p + i, needle, sizeof(needle) - 1) == 0)
                f->blocked_sender = 1;
    }
    f->negative = v[2].n == 10 && memcmp(v[2].p, "\"negative\"", 10) == 0;
    f->intent = omni__j_is(v[3], '[') ? v[3] : (omni__jspan){NULL, 0};
    if (omni__j_str(v[4], f->language, sizeof(f->language)) < 0)
        f->language[0] = '\0';
}

/* ---- the result --------------------------------------------------------------------- */

typedef struct decision {
    const char *action;
    const char *dest_type, *dest_id, *dest_name, *dest_metadata;
    int priority;
    const char *tags[MAX_TAGS];
    size_t tag_lens[MAX_TAGS];
    size_t n_tags;
    /* auto-response */
    int responded;
    const char *response_type, *template_id, *language;
    char *content;
    size_t content_len;
    /* keyword */
    int has_optout, opted_out, changed;
    int routed;
} decision;

static void tag_add(decision *d, const char *t, size_t n)
{
    for (size_t i = 0; i < d->n_tags; i++)
        if (d->tag_lens[i] == n && memcmp(d->tags[i], t, n) == 0)
            return;
    if (d->n_tags < MAX_TAGS) {
        d->tags[d->n_tags] = t;
        d->tag_lens[d->n_tags++] = n;
    }
}

static const char *priority_level(int p)
{
    return p >= 90 ? "urgent" : p >= 70 ? "high" : p >= 40 ? "normal" : "low";
}

static void w_tags(omni_buf *b, const decision *d)
{
    omni__json_w_arr_begin(b);
    for (size_t i = 0; i < d->n_tags; i++)
        omni__json_w_strn(b, d->tags[i], d->tag_lens[i]);
    omni__json_w_arr_end(b);
}

static void result_write(omni_buf *b, const ev *e, const decision *d, const char *ca,
                         size_t ca_len, const facts_ca *fc, const omni_rules *rules,
                         const uint32_t *idx, size_t n_idx)
{
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "success");
    omni__json_w_bool(b, 1);
    omni__json_w_keyl(b, "correlationId");
    if (omni__j_is(e->correlation, '"'))
        omni__json_w_raw(b, e->correlation.p, e->correlation.n);
    else
        omni__json_w_null(b);
    omni__json_w_keyl(b, "routingDecision");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "action");
    omni__json_w_str(b, d->action);
    omni__json_w_keyl(b, "destination");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "type");
    omni__json_w_str(b, d->dest_type);
    omni__json_w_keyl(b, "id");
    omni__json_w_str(b, d->dest_id);
    omni__json_w_keyl(b, "name");
    omni__json_w_str(b, d->dest_name);
    omni__json_w_keyl(b, "metadata");
    omni__json_w_raw(b, d->dest_metadata, strlen(d->dest_metadata));
    omni__json_w_obj_end(b);
    omni__json_w_keyl(b, "priority");
    omni__json_w_int(b, d->priority);
    omni__json_w_keyl(b, "priorityLevel");
    omni__json_w_str(b, priority_level(d->priority));
    omni__json_w_keyl(b, "tags");
    w_tags(b, d);
    omni__json_w_obj_end(b);
    if (d->responded) {
        omni__json_w_keyl(b, "autoResponse");
        omni__json_w_obj_begin(b);
        omni__json_w_keyl(b, "enabled");
        omni__json_w_bool(b, 1);
        omni__json_w_keyl(b, "responseType");
        omni__json_w_str(b, d->response_type);
        omni__json_w_keyl(b, "templateId");
        omni__json_w_str(b, d->template_id);
        omni__json_w_keyl(b, "language");
        omni__json_w_str(b, d->language);
        omni__json_w_keyl(b, "content");
        omni__json_w_strn(b, d->content, d->content_len);
        omni__json_w_obj_end(b);
    }
    omni__json_w_keyl(b, "contentAnalysis");
    omni__json_w_raw(b, ca, ca_len);
    omni__json_w_keyl(b, "matchedRules");
    omni__json_w_arr_begin(b);
    for (size_t i = 0; i < n_idx; i++) {
        const char *id = omni_rules_id(rules, idx[i]);
        if (id)
            omni__json_w_str(b, id);
    }
    omni__json_w_arr_end(b);
    if (d->has_optout) {
        omni__json_w_keyl(b, "optOut");
        omni__json_w_obj_begin(b);
        omni__json_w_keyl(b, "status");
        omni__json_w_str(b, d->opted_out ? "opted_out" : "opted_in");
        omni__json_w_keyl(b, "changed");
        omni__json_w_bool(b, d->changed);
        omni__json_w_obj_end(b);
    }
    /* transformedMessage: the message with language, priority and tags */
    omni__json_w_keyl(b, "transformedMessage");
    omni__json_w_obj_begin(b);
    omni__jiter it;
    omni__jspan k, v;
    omni__j_obj(&it, e->message);
    while (omni__j_next(&it, &k, &v)) {
        if (omni__j_key_is(k, "language") || omni__j_key_is(k, "priority") ||
            omni__j_key_is(k, "tags"))
            continue;
        omni__json_w_raw_key(b, k.p, k.n); /* the key as written (validated) */
        omni__buf_putc(b, ':');
        omni__buf_append(b, v.p, v.n);
    }
    omni__json_w_keyl(b, "language");
    omni__json_w_str(b, fc->language[0] ? fc->language : "und");
    omni__json_w_keyl(b, "priority");
    omni__json_w_int(b, d->priority);
    omni__json_w_keyl(b, "tags");
    w_tags(b, d);
    omni__json_w_obj_end(b);
    int publish = d->responded, push = d->routed;
    omni__json_w_keyl(b, "nextStep");
    omni__json_w_str(b, publish ? "publishOutbound" : push ? "pushNotification" : "terminate");
    omni__json_w_keyl(b, "nextSteps");
    omni__json_w_arr_begin(b);
    if (publish)
        omni__json_w_str(b, "publishOutbound");
    if (push)
        omni__json_w_str(b, "pushNotification");
    omni__json_w_arr_end(b);
    omni__json_w_obj_end(b);
}

/* ---- priority ------------------------------------------------------------------------ */

static int has_vip(const omni__pr_account *acc, omni__jspan identity)
{
    omni__jspan tags = omni__j_get(omni__j_get(identity, "profile"), "tags");
    if (!omni__j_is(tags, '['))
        return 0;
    const char *p = tags.p + 1, *end = tags.p + tags.n;
    for (;;) {
        p = omni__j_ws(p, end);
        if (p >= end || *p == ']')
            return 0;
        const char *q = omni__j_skip(p, end);
        omni__jspan item = {p, (size_t)(q - p)};
        char buf[OMNI_RULES_MAX_ID + 1];
        if (omni__j_str(item, buf, sizeof(buf)) >= 0)
            for (size_t i = 0; i < acc->n_vip; i++)
                if (strcasecmp(buf, acc->vip_tags[i]) == 0)
                    return 1;
        p = omni__j_ws(q, end);
        if (p < end && *p == ',')
            p++;
    }
}

static int has_urgency(const omni__pr_account *acc, const ev *e)
{
    if (!acc->n_urgency || !e->content_len)
        return 0;
    char stack[STACK_TEXT];
    size_t cap = 2 * e->content_len + 16;
    char *norm = cap <= sizeof(stack) ? stack : malloc(cap);
    if (!norm)
        return 0;
    int found = 0;
    if (omni__optout_normalize(e->content, e->content_len, norm, cap) > 0) {
        size_t n = strlen(norm);
        for (size_t w = 0; w < acc->n_urgency && !found; w++) {
            const char *word = acc->urgency[w];
            size_t wl = strlen(word);
            for (const char *s = norm; (s = memmem(s, n - (size_t)(s - norm), word, wl)); s++) {
                size_t at = (size_t)(s - norm);
                if ((at == 0 || norm[at - 1] == ' ') && (at + wl == n || norm[at + wl] == ' ')) {
                    found = 1;
                    break;
                }
            }
        }
    }
    if (norm != stack)
        free(norm);
    return found;
}

static void add_intent_tags(decision *d, const facts_ca *fc)
{
    if (!fc->intent.p)
        return;
    const char *p = fc->intent.p + 1, *end = fc->intent.p + fc->intent.n;
    for (;;) {
        p = omni__j_ws(p, end);
        if (p >= end || *p != '"')
            return;
        const char *q = omni__j_skip_str(p, end);
        /* analyzer intents are plain identifiers: the text between quotes */
        if (q - p >= 2 && !memchr(p + 1, '\\', (size_t)(q - p - 2)))
            tag_add(d, p + 1, (size_t)(q - p - 2));
        p = omni__j_ws(q, end);
        if (p < end && *p == ',')
            p++;
    }
}

/* ---- templates ------------------------------------------------------------------------ */

static int render(const omni__pr_template *t, const ev *e, const facts_ca *fc,
                  const omni__pr_account *acc, const char *data, size_t data_len, char **out,
                  size_t *out_len, const char **lang)
{
    const char *cands[3] = {e->pref_lang, fc->language, acc->locale};
    const omni__pr_tlang *tl = omni__pr_template_lang(t, cands, 3);
    *lang = tl->lang;
    int rc = omni_template_render(out, out_len, tl->t, data, data_len);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", omni_error_last_message());
        return omni__err(rc, "preroute: rendering template \"%.256s\" (%s): %s", t->id, tl->lang,
                         msg);
    }
    return OMNI_OK;
}

static const omni__pr_template *template_by_id(const omni_preroute *p, const char *id)
{
    for (size_t i = 0; i < p->n_templates; i++)
        if (strcmp(p->templates[i].id, id) == 0)
            return &p->templates[i];
    return NULL;
}

/* ---- the run ----------------------------------------------------------------------------- */

/* The facts and template data: the event with "contentAnalysis" appended. */
static int facts_build(omni_buf *b, const char *json, size_t len, const char *ca, size_t ca_len)
{
    size_t end = len;
    while (end > 0 && (json[end - 1] == ' ' || json[end - 1] == '\t' || json[end - 1] == '\n' ||
                       json[end - 1] == '\r'))
        end--;
    end--; /* the closing brace */
    size_t i = end;
    while (i > 0 && (json[i - 1] == ' ' || json[i - 1] == '\t' || json[i - 1] == '\n' ||
                     json[i - 1] == '\r'))
        i--;
    int empty = json[i - 1] == '{';
    omni__buf_reserve(b, end + ca_len + 24);
    omni__buf_append(b, json, end);
    omni__buf_append(b, empty ? "\"contentAnalysis\":" : ",\"contentAnalysis\":",
                     empty ? 18 : 19);
    omni__buf_append(b, ca, ca_len);
    omni__buf_putc(b, '}');
    return omni__buf_status(b);
}

static void block_decision(decision *d)
{
    d->action = "block";
    d->dest_type = "queue";
    d->dest_id = "blocked";
    d->dest_name = "Blocked Messages";
    d->dest_metadata = "{}";
    d->priority = 0;
    d->routed = 0;
    tag_add(d, "blocked", 7);
}

static void default_destination(decision *d, const omni__pr_account *acc)
{
    d->dest_type = acc->dest_type;
    d->dest_id = acc->dest_id;
    d->dest_name = acc->dest_name;
    d->dest_metadata = acc->dest_metadata;
}

int omni_preroute_run(char **out, size_t *out_len, omni_engine *engine,
                      const omni_preroute *preroute, const char *event_json, size_t len)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!out || !engine || !preroute || !event_json)
        return omni__err(OMNI_EINVAL, "preroute: NULL argument");
    if (len > OMNI_PREROUTE_MAX_EVENT)
        return omni__err(OMNI_ETOOLARGE, "preroute: the event is over %u bytes",
                         OMNI_PREROUTE_MAX_EVENT);
    ev *e = malloc(sizeof(*e));
    if (!e)
        return omni__err(OMNI_ENOMEM, NULL);
    memset(e, 0, offsetof(ev, content_stack));
    int rc = event_read(e, event_json, len);
    if (rc) {
        free(e->content_heap);
        free(e);
        return rc;
    }
    const omni_preroute *p = preroute;
    const omni__pr_account *acc = omni__pr_account_find(p, e->account_id);
    int64_t now = omni_engine_now_ms(engine);
    decision d;
    memset(&d, 0, sizeof(d));
    char *ca = NULL, *confirm = NULL;
    size_t ca_len = 0, confirm_len = 0;
    omni_buf facts = OMNI_BUF_INIT, res = OMNI_BUF_INIT;
    facts_ca fc;
    uint32_t idx_stack[STACK_IDX], *idx = idx_stack;
    size_t n_idx = 0;

    omni__pr_msgref msg;
    omni__pr_msgref_init(&msg, e->message_id, e->content, e->content_len);

    /* 1. opt-out keywords */
    int cls = OMNI__OPTOUT_NONE;
    if (!e->guard.outbound && !e->guard.from_automaton && is_text(e) && e->content_len)
        cls = omni__optout_classify(acc->optout, e->content, e->content_len,
                                    e->pref_lang[0] ? e->pref_lang : acc->locale);
    if (cls != OMNI__OPTOUT_NONE && !e->customer_id[0] && cls != OMNI__OPTOUT_HELP) {
        rc = bad("an opt-out keyword message needs identity.customerId");
        goto done;
    }

    /* 2. content analysis (the host's hook not for keyword messages) */
    if ((rc = analyze(engine, acc, e, cls == OMNI__OPTOUT_NONE, &ca, &ca_len)))
        goto done;
    analysis_read(&fc, ca, ca_len);
    if ((rc = facts_build(&facts, event_json, len, ca, ca_len)))
        goto done;

    if (cls != OMNI__OPTOUT_NONE) {
        const omni__pr_template *t = cls == OMNI__OPTOUT_STOP    ? acc->confirm_stop
                                     : cls == OMNI__OPTOUT_START ? acc->confirm_start
                                                                 : acc->confirm_help;
        const char *lang = NULL;
        if (t && (rc = render(t, e, &fc, acc, facts.data, facts.len, &confirm, &confirm_len,
                              &lang)))
            goto done;
        int changed = 1;
        if (cls != OMNI__OPTOUT_HELP) {
            char kw[64];
            size_t kn = e->content_len < sizeof(kw) - 1 ? e->content_len : sizeof(kw) - 1;
            /* the keyword as written, cut at a character boundary */
            while (kn > 0 && kn < e->content_len && ((unsigned char)e->content[kn] & 0xc0) == 0x80)
                kn--;
            memcpy(kw, e->content, kn);
            kw[kn] = '\0';
            rc = omni__pr_optout_write(engine, e->account_id, e->customer_id,
                                       cls == OMNI__OPTOUT_STOP, kw,
                                       e->channel[0] ? e->channel : NULL, &msg, now, &changed);
            if (rc)
                goto done;
        }
        if (cls == OMNI__OPTOUT_START && !changed) {
            /* not opted out: "yes" is an ordinary answer for the agents */
            omni_free(confirm);
            confirm = NULL;
            cls = OMNI__OPTOUT_NONE;
            omni__buf_free(&facts);
            omni_free(ca);
            ca = NULL;
            if ((rc = analyze(engine, acc, e, 1, &ca, &ca_len)))
                goto done;
            analysis_read(&fc, ca, ca_len);
            if ((rc = facts_build(&facts, event_json, len, ca, ca_len)))
                goto done;
        } else {
            default_destination(&d, acc);
            d.priority = 0;
            d.has_optout = cls != OMNI__OPTOUT_HELP;
            d.opted_out = cls == OMNI__OPTOUT_STOP;
            d.changed = changed;
            tag_add(&d, cls == OMNI__OPTOUT_STOP ? "opt_out" : cls == OMNI__OPTOUT_START
                                                                   ? "opt_in"
                                                                   : "help",
                    cls == OMNI__OPTOUT_HELP ? 4 : cls == OMNI__OPTOUT_STOP ? 7 : 6);
            if (t && changed) {
                d.responded = 1;
                d.response_type = cls == OMNI__OPTOUT_STOP    ? "opt_out"
                                  : cls == OMNI__OPTOUT_START ? "opt_in"
                                                              : "help";
                d.template_id = t->id;
                d.language = lang;
                d.content = confirm;
                d.content_len = confirm_len;
                d.action = "auto_respond";
            } else {
                d.action = "block";
            }
            goto write;
        }
    }

    /* 3. spam or a blocked sender */
    if (fc.spam || fc.blocked_sender) {
        block_decision(&d);
        tag_add(&d, "spam", 4);
        goto write;
    }

    /* 4. the account's rules */
    omni__rules_decision rd;
    memset(&rd, 0, sizeof(rd));
    if (acc->rules) {
        size_t count = 0;
        rc = omni_rules_match(acc->rules, facts.data, facts.len, now, idx, STACK_IDX, &count);
        if (!rc && count > STACK_IDX) {
            idx = malloc(count * sizeof(*idx));
            if (!idx) {
                idx = idx_stack;
                rc = omni__err(OMNI_ENOMEM, NULL);
            } else {
                size_t again = 0;
                rc = omni_rules_match(acc->rules, facts.data, facts.len, now, idx, count, &again);
                count = again < count ? again : count;
            }
        }
        if (rc)
            goto done;
        n_idx = count;
        omni__rules_decide(acc->rules, idx, n_idx, &rd);
    }
    if (rd.block) {
        block_decision(&d);
        for (size_t i = 0; i < rd.tag_count; i++)
            tag_add(&d, rd.tags[i], strlen(rd.tags[i]));
        goto write;
    }

    /* 6. destination, priority, tags */
    if (rd.has_destination) {
        d.dest_type = rd.dest_type;
        d.dest_id = rd.dest_id;
        d.dest_name = rd.dest_name ? rd.dest_name : rd.dest_id;
        d.dest_metadata = rd.dest_metadata_json ? rd.dest_metadata_json : "{}";
    } else {
        default_destination(&d, acc);
    }
    int vip = has_vip(acc, e->identity), urgent = has_urgency(acc, e);
    d.priority = 50 + (vip ? 30 : 0) + (urgent ? 20 : 0) + (fc.negative ? 15 : 0);
    if (d.priority > 100)
        d.priority = 100;
    static const int levels[] = {0, 25, 50, 75, 100};
    if (rd.priority >= OMNI__RULES_PRIORITY_LOW && rd.priority <= OMNI__RULES_PRIORITY_URGENT)
        d.priority = levels[rd.priority];
    for (size_t i = 0; i < rd.tag_count; i++)
        tag_add(&d, rd.tags[i], strlen(rd.tags[i]));
    add_intent_tags(&d, &fc);
    if (vip)
        tag_add(&d, "vip", 3);
    if (urgent)
        tag_add(&d, "urgent", 6);
    if (fc.negative)
        tag_add(&d, "negative_sentiment", 18);
    d.action = rd.escalate ? "escalate" : strcmp(d.dest_type, "queue") == 0 ? "queue" : "route";
    d.routed = 1;

    /* 5. the auto-responder */
    if (!e->guard.outbound && !e->guard.from_automaton && e->conversation_id[0]) {
        const omni__pr_template *t = NULL;
        const char *type = NULL;
        if (rd.auto_respond_template && (t = template_by_id(p, rd.auto_respond_template))) {
            type = "custom";
        } else {
            if (acc->away.enabled && !omni__pr_open(acc, now)) {
                t = acc->away.tmpl;
                type = "away";
            } else if (strcmp(e->conv_status, "new") == 0 && acc->greeting.enabled) {
                t = acc->greeting.tmpl;
                type = "greeting";
            } else if (acc->ack.enabled) {
                t = acc->ack.tmpl;
                type = "acknowledgment";
            }
        }
        /* an opted-out customer gets nothing but the opt-out confirmation */
        if (t && e->customer_id[0]) {
            int out = e->pref_opted_out ||
                      omni__pr_optout_is_out(engine, e->account_id, e->customer_id, now);
            if (out < 0) {
                rc = out;
                goto done;
            }
            if (out)
                t = NULL;
        }
        if (t) {
            const char *lang = NULL;
            if ((rc = render(t, e, &fc, acc, facts.data, facts.len, &confirm, &confirm_len,
                             &lang)))
                goto done;
            int claimed = omni__pr_window_claim(engine, acc, e->conversation_id, e->account_id,
                                                &msg, type, t->id, now);
            if (claimed < 0) {
                rc = claimed;
                goto done;
            }
            if (claimed) {
                d.responded = 1;
                d.response_type = type;
                d.template_id = t->id;
                d.language = lang;
                d.content = confirm;
                d.content_len = confirm_len;
                if (!rd.escalate) {
                    d.action = "auto_respond";
                    d.routed = 0;
                }
            }
        }
    }

write:
    omni__buf_reserve(&res, facts.len + ca_len + 512);
    result_write(&res, e, &d, ca, ca_len, &fc, acc->rules, idx, n_idx);
    rc = omni__buf_finish(&res, OMNI_OK, out, out_len);
done:
    if (rc)
        omni__buf_free(&res);
    omni__buf_free(&facts);
    omni_free(ca);
    omni_free(confirm);
    if (idx != idx_stack)
        free(idx);
    free(e->content_heap);
    free(e);
    return rc;
}
