/* Conversations over the engine's store (seed 001's workFlowBiDirectional):
 * the step (create, continue, reopen, duplicates, outbound, the WhatsApp
 * window), transitions, history, a customer's conversations, delivery
 * status, delete, settings, the pure apply, the journal protocol over a
 * host's storage hook (with writes lost after the commit), threads racing
 * on one engine, and every error path. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

/* 2025-01-02T03:04:05.000Z */
#define T0 INT64_C(1735787045000)
#define HOUR INT64_C(3600000)

/* ---- an engine with a clock the test moves -------------------------------- */

typedef struct fixture {
    int64_t now;
    omni_store *store;
    omni_engine *e;
} fixture;

static int64_t fx_clock(void *ctx)
{
    return ((fixture *)ctx)->now;
}

static void fx_open_with(fixture *f, const omni_storage_hook *storage)
{
    omni_clock_hook clock = OMNI_CLOCK_HOOK_INIT;
    clock.ctx = f;
    clock.now_ms = fx_clock;
    omni_hooks hooks = OMNI_HOOKS_INIT;
    hooks.clock = &clock;
    hooks.storage = storage;
    f->e = NULL;
    cr_assert_eq(omni_engine_new(&f->e, NULL, 0, &hooks), OMNI_OK, "%s",
                 omni_error_last_message());
}

static void fx_open(fixture *f)
{
    f->now = T0;
    cr_assert_eq(omni_store_open(&f->store, "memory:"), OMNI_OK);
    omni_storage_hook h;
    cr_assert_eq(omni_store_get_hook(f->store, &h), OMNI_OK);
    fx_open_with(f, &h);
}

static void fx_close(fixture *f)
{
    omni_engine_free(f->e);
    omni_store_free(f->store);
}

/* ---- events and results --------------------------------------------------- */

/* An IdentityLookupResult-shaped event. extra: more top-level members
 * (",\"direction\":\"outbound\"") or "". */
static char *event(const char *customer, const char *account, const char *carrier,
                   const char *channel_type, const char *id, const char *content_type,
                   const char *extra)
{
    char *buf = malloc(2048);
    cr_assert_not_null(buf);
    snprintf(buf, 2048,
             "{\"success\":true,\"correlationId\":\"corr-%s\",\"identity\":{\"customerId\":"
             "\"%s\",\"customerType\":\"known\"},\"routing\":{\"accountId\":\"%s\","
             "\"businessUnitId\":\"bu-1\",\"tenantId\":\"t-1\"},\"enrichedMessage\":{\"id\":"
             "\"%s\",\"carrier\":\"%s\",\"channelType\":\"%s\",\"content\":\"hello %s\","
             "\"contentType\":\"%s\",\"timestamp\":\"2025-01-02T03:04:00Z\"},"
             "\"nextStep\":\"workFlowBiDirectional\"%s}",
             id, customer, account, id, carrier, channel_type, id, content_type, extra);
    return buf;
}

static int step_rc(fixture *f, const char *ev, const char *options, cJSON **out)
{
    char *text = NULL;
    size_t len = 0;
    int rc = omni_conversation_step(&text, &len, f->e, ev, strlen(ev), options,
                                    options ? strlen(options) : 0);
    if (rc) {
        cr_assert_null(text);
        if (out)
            *out = NULL;
        return rc;
    }
    cr_assert_not_null(text);
    cr_assert_eq(strlen(text), len);
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j, "the result is JSON: %s", text);
    omni_free(text);
    if (out)
        *out = j;
    else
        cJSON_Delete(j);
    return rc;
}

static cJSON *step(fixture *f, const char *ev)
{
    cJSON *j = NULL;
    int rc = step_rc(f, ev, NULL, &j);
    cr_assert_eq(rc, OMNI_OK, "step: %s", omni_error_last_message());
    return j;
}

/* Steps a message and frees the event; returns the result. */
static cJSON *msg(fixture *f, const char *customer, const char *carrier, const char *type,
                  const char *id, const char *extra)
{
    char *ev = event(customer, "acc-1", carrier, type, id, "text", extra);
    cJSON *j = step(f, ev);
    free(ev);
    return j;
}

static const cJSON *at(const cJSON *j, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    const cJSON *cur = j;
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && cur;
         tok = strtok_r(NULL, ".", &save)) {
        if (cJSON_IsArray(cur))
            cur = cJSON_GetArrayItem(cur, atoi(tok));
        else
            cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    }
    return cur;
}

static const char *str(const cJSON *j, const char *path)
{
    const cJSON *v = at(j, path);
    cr_assert(cJSON_IsString(v), "%s is not a string", path);
    return v->valuestring;
}

static double num(const cJSON *j, const char *path)
{
    const cJSON *v = at(j, path);
    cr_assert(cJSON_IsNumber(v), "%s is not a number", path);
    return v->valuedouble;
}

static int count(const cJSON *j, const char *path)
{
    const cJSON *v = at(j, path);
    cr_assert(cJSON_IsArray(v), "%s is not an array", path);
    return cJSON_GetArraySize(v);
}

static char *conv_id(const cJSON *result)
{
    return strdup(str(result, "conversation.conversationId"));
}

static cJSON *call(int rc, char *text)
{
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j, "%s", text);
    omni_free(text);
    return j;
}

/* Evaluates the call before reading `out` (the comma operator orders them). */
static int called_rc;
#define CALLED(expr) (called_rc = (expr), call(called_rc, out))

static cJSON *get(fixture *f, const char *id)
{
    char *out = NULL;
    return CALLED(omni_conversation_get(&out, NULL, f->e, id));
}

static char *get_text(fixture *f, const char *id)
{
    char *out = NULL;
    cr_assert_eq(omni_conversation_get(&out, NULL, f->e, id), OMNI_OK);
    return out;
}

static int transition_rc(fixture *f, const char *id, const char *ev, cJSON **res)
{
    char *out = NULL;
    int rc = omni_conversation_transition(&out, NULL, f->e, id, ev, strlen(ev));
    if (rc) {
        cr_assert_null(out);
        return rc;
    }
    *res = call(rc, out);
    return rc;
}

static cJSON *transition(fixture *f, const char *id, const char *ev)
{
    cJSON *r = NULL;
    cr_assert_eq(transition_rc(f, id, ev, &r), OMNI_OK, "%s: %s", ev,
                 omni_error_last_message());
    return r;
}

static cJSON *history(fixture *f, const char *id, const char *query)
{
    char *out = NULL;
    return CALLED(omni_conversation_history(&out, NULL, f->e, id, query,
                                          query ? strlen(query) : 0));
}

static cJSON *delivery(fixture *f, const char *update)
{
    char *out = NULL;
    return CALLED(omni_conversation_delivery(&out, NULL, f->e, update, strlen(update)));
}

/* ---- the step ------------------------------------------------------------ */

Test(conversation, first_message_creates_and_the_next_continues)
{
    fixture f;
    fx_open(&f);
    cJSON *r1 = msg(&f, "cust-1", "twilio", "sms", "SM1", "");
    cr_assert(cJSON_IsTrue(at(r1, "success")));
    cr_assert(cJSON_IsFalse(at(r1, "duplicate")));
    cr_assert_str_eq(str(r1, "correlationId"), "corr-SM1");
    cr_assert_str_eq(str(r1, "conversation.status"), "new");
    cr_assert_str_eq(str(r1, "conversation.channel.type"), "sms");
    cr_assert_str_eq(str(r1, "conversation.channel.carrier"), "twilio");
    cr_assert_eq(count(r1, "conversation.participants"), 1);
    cr_assert_str_eq(str(r1, "conversation.participants.0.id"), "cust-1");
    cr_assert_str_eq(str(r1, "conversation.participants.0.type"), "customer");
    cr_assert_str_eq(str(r1, "conversation.participants.0.status"), "active");
    cr_assert_str_eq(str(r1, "conversation.participants.0.joinedAt"),
                     "2025-01-02T03:04:05.000Z");
    cr_assert_eq(num(r1, "conversation.metadata.messageCount"), 1);
    cr_assert_str_eq(str(r1, "conversation.metadata.priority"), "normal");
    cr_assert_eq(count(r1, "conversation.metadata.topics"), 0);
    cr_assert_null(at(r1, "conversation.serviceWindow"), "only WhatsApp has a window");
    cr_assert_eq(num(r1, "messageState.sequenceNumber"), 1);
    cr_assert_str_eq(str(r1, "messageState.deliveryStatus"), "processing");
    cr_assert_str_eq(str(r1, "messageState.direction"), "inbound");
    cr_assert_eq(strlen(str(r1, "messageState.messageId")), 36);
    cr_assert_str_eq(str(r1, "routing.accountId"), "acc-1");
    cr_assert_str_eq(str(r1, "routing.businessUnitId"), "bu-1");
    cr_assert_str_eq(str(r1, "routing.tenantId"), "t-1");
    cr_assert_str_eq(str(r1, "routing.customerId"), "cust-1");
    cr_assert_str_eq(str(r1, "routing.channel"), "sms");
    cr_assert_str_eq(str(r1, "nextStep"), "workFlowPreRoute");
    cr_assert_eq(count(r1, "events"), 2);
    cr_assert_str_eq(str(r1, "events.0.source"), "omni.workflow");
    cr_assert_str_eq(str(r1, "events.0.detailType"), "conversation.created");
    cr_assert_str_eq(str(r1, "events.0.detail.customerId"), "cust-1");
    cr_assert_str_eq(str(r1, "events.0.detail.status"), "new");
    cr_assert_str_eq(str(r1, "events.1.detailType"), "message.created");
    cr_assert_eq(num(r1, "events.1.detail.sequenceNumber"), 1);
    char *id = conv_id(r1);
    cr_assert_str_eq(str(r1, "routing.conversationId"), id);

    f.now += 1000;
    cJSON *r2 = msg(&f, "cust-1", "twilio", "mms", "SM2", "");
    cr_assert_str_eq(str(r2, "conversation.conversationId"), id, "sms and mms share one");
    cr_assert_str_eq(str(r2, "conversation.status"), "active");
    cr_assert_eq(num(r2, "messageState.sequenceNumber"), 2);
    cr_assert_eq(num(r2, "conversation.metadata.messageCount"), 2);
    cr_assert_str_eq(str(r2, "conversation.metadata.lastActivityAt"),
                     "2025-01-02T03:04:06.000Z");
    cr_assert_str_eq(str(r2, "conversation.metadata.startedAt"), "2025-01-02T03:04:05.000Z");
    cr_assert_eq(count(r2, "events"), 2);
    cr_assert_str_eq(str(r2, "events.0.detailType"), "conversation.status_changed");
    cr_assert_str_eq(str(r2, "events.0.detail.previousStatus"), "new");
    cr_assert_str_eq(str(r2, "events.0.detail.newStatus"), "active");
    cr_assert_str_neq(str(r2, "messageState.messageId"), str(r1, "messageState.messageId"));

    /* the stored document */
    cJSON *g = get(&f, id);
    cr_assert_str_eq(str(g, "customerId"), "cust-1");
    cr_assert_str_eq(str(g, "accountId"), "acc-1");
    cr_assert_str_eq(str(g, "status"), "active");
    cr_assert_str_eq(str(g, "lastInboundAt"), "2025-01-02T03:04:06.000Z");
    cr_assert_null(at(g, "lastMessage"), "an internal member never leaks");
    cJSON_Delete(g);
    free(id);
    cJSON_Delete(r1);
    cJSON_Delete(r2);
    fx_close(&f);
}

Test(conversation, a_message_stepped_again_returns_its_first_result)
{
    fixture f;
    fx_open(&f);
    char *a = event("cust-1", "acc-1", "twilio", "sms", "SM-A", "text", "");
    cJSON *first = step(&f, a);
    char *first_conv = cJSON_PrintUnformatted(at(first, "conversation"));
    f.now += 5000;
    cJSON *b = msg(&f, "cust-1", "twilio", "sms", "SM-B", "");
    char *id = conv_id(first);
    char *before = get_text(&f, id);
    for (int i = 0; i < 10; i++) {
        f.now += 1000;
        cJSON *again = step(&f, a);
        cr_assert(cJSON_IsTrue(at(again, "duplicate")));
        cr_assert_eq(count(again, "events"), 0);
        cr_assert_eq(num(again, "messageState.sequenceNumber"), 1);
        cr_assert_str_eq(str(again, "messageState.messageId"),
                         str(first, "messageState.messageId"));
        cr_assert_str_eq(str(again, "messageState.deliveryStatus"), "processing");
        char *conv = cJSON_PrintUnformatted(at(again, "conversation"));
        cr_assert_str_eq(conv, first_conv, "the conversation as the first result had it");
        free(conv);
        cJSON_Delete(again);
    }
    char *after = get_text(&f, id);
    cr_assert_str_eq(after, before, "a duplicate changes nothing");
    /* the latest message, stepped again, too */
    char *bev = event("cust-1", "acc-1", "twilio", "sms", "SM-B", "text", "");
    cJSON *b2 = step(&f, bev);
    cr_assert(cJSON_IsTrue(at(b2, "duplicate")));
    cr_assert_eq(num(b2, "messageState.sequenceNumber"), 2);
    cJSON *h = history(&f, id, NULL);
    cr_assert_eq(count(h, "items"), 2);
    cJSON_Delete(h);
    /* the same id outbound is another message */
    char *out = event("cust-1", "acc-1", "twilio", "sms", "SM-A", "text",
                      ",\"direction\":\"outbound\"");
    cJSON *o = step(&f, out);
    cr_assert(cJSON_IsFalse(at(o, "duplicate")));
    cr_assert_eq(num(o, "messageState.sequenceNumber"), 3);
    cr_assert_str_eq(str(o, "messageState.direction"), "outbound");
    cr_assert_str_eq(str(o, "messageState.deliveryStatus"), "pending");
    free(before);
    free(after);
    free(first_conv);
    free(id);
    free(a);
    free(bev);
    free(out);
    cJSON_Delete(first);
    cJSON_Delete(b);
    cJSON_Delete(b2);
    cJSON_Delete(o);
    fx_close(&f);
}

Test(conversation, resolved_and_inactive_conversations_reopen)
{
    fixture f;
    fx_open(&f);
    cJSON *r = msg(&f, "cust-1", "twilio", "sms", "SM1", "");
    char *id = conv_id(r);
    cJSON_Delete(transition(&f, id, "{\"event\":\"resolve\"}"));
    f.now += 1000;
    cJSON *r2 = msg(&f, "cust-1", "twilio", "sms", "SM2", "");
    cr_assert_str_eq(str(r2, "conversation.conversationId"), id);
    cr_assert_str_eq(str(r2, "conversation.status"), "reopened");
    cr_assert_str_eq(str(r2, "events.0.detail.previousStatus"), "resolved");
    cr_assert_str_eq(str(r2, "events.0.detail.newStatus"), "reopened");
    f.now += 1000;
    cJSON *r3 = msg(&f, "cust-1", "twilio", "sms", "SM3", "");
    cr_assert_str_eq(str(r3, "conversation.status"), "active");
    /* 24 hours without a message: the next one reopens it */
    f.now += 24 * HOUR;
    cJSON *r4 = msg(&f, "cust-1", "twilio", "sms", "SM4", "");
    cr_assert_str_eq(str(r4, "conversation.status"), "reopened");
    cr_assert_str_eq(str(r4, "events.0.detail.previousStatus"), "active");
    cr_assert_eq(num(r4, "messageState.sequenceNumber"), 4);
    /* just under the timeout: continued */
    f.now += 24 * HOUR - 1;
    cJSON *r5 = msg(&f, "cust-1", "twilio", "sms", "SM5", "");
    cr_assert_str_eq(str(r5, "conversation.status"), "active");
    /* the account's timeout, and an option over it */
    cr_assert_eq(omni_conversation_settings_set(f.e, "acc-1", "{\"inactivityTimeoutMs\":60000}",
                                                29),
                 OMNI_OK);
    f.now += 60000;
    cJSON *r6 = msg(&f, "cust-1", "twilio", "sms", "SM6", "");
    cr_assert_str_eq(str(r6, "conversation.status"), "reopened");
    f.now += 120000;
    char *ev = event("cust-1", "acc-1", "twilio", "sms", "SM7", "text", "");
    cJSON *r7 = NULL;
    cr_assert_eq(step_rc(&f, ev, "{\"inactivityTimeoutMs\":86400000}", &r7), OMNI_OK);
    cr_assert_str_eq(str(r7, "conversation.status"), "active");
    free(ev);
    free(id);
    cJSON *all[] = {r, r2, r3, r4, r5, r6, r7};
    for (size_t i = 0; i < 7; i++)
        cJSON_Delete(all[i]);
    fx_close(&f);
}

Test(conversation, whatsapp_service_window)
{
    fixture f;
    fx_open(&f);
    /* no inbound message yet: free text is refused, templates are not */
    char *o1 = event("cust-1", "acc-1", "whatsapp", "chat", "out-1", "text",
                     ",\"direction\":\"outbound\"");
    cr_assert_eq(step_rc(&f, o1, NULL, NULL), OMNI_EWINDOW);
    cr_assert_str_eq(omni_error_last_code(), "SERVICE_WINDOW_CLOSED");
    char *t1 = event("cust-1", "acc-1", "whatsapp", "chat", "out-t1", "template",
                     ",\"direction\":\"outbound\"");
    cJSON *rt = step(&f, t1);
    char *id = conv_id(rt);
    cr_assert(cJSON_IsFalse(at(rt, "conversation.serviceWindow.open")));
    cr_assert(cJSON_IsNull(at(rt, "conversation.serviceWindow.expiresAt")));
    /* the customer writes: open for 24 hours */
    f.now += 1000;
    cJSON *ri = msg(&f, "cust-1", "whatsapp", "chat", "wamid.1", "");
    cr_assert_str_eq(str(ri, "conversation.conversationId"), id);
    cr_assert(cJSON_IsTrue(at(ri, "conversation.serviceWindow.open")));
    cr_assert_str_eq(str(ri, "conversation.serviceWindow.expiresAt"),
                     "2025-01-03T03:04:06.000Z");
    int open = -1;
    int64_t exp = -1;
    cr_assert_eq(omni_conversation_window(f.e, id, &open, &exp), OMNI_OK);
    cr_assert_eq(open, 1);
    cr_assert_eq(exp, T0 + 1000 + 24 * HOUR);
    f.now += 24 * HOUR - 1;
    cJSON *ro = step(&f, o1);
    cr_assert(cJSON_IsFalse(at(ro, "duplicate")));
    /* a millisecond later the window has closed */
    f.now += 1;
    char *o2 = event("cust-1", "acc-1", "whatsapp", "chat", "out-2", "text",
                     ",\"direction\":\"outbound\"");
    char *before = get_text(&f, id);
    cr_assert_eq(step_rc(&f, o2, NULL, NULL), OMNI_EWINDOW);
    char *after = get_text(&f, id);
    cr_assert_str_eq(before, after, "a refused reply records nothing");
    cr_assert_eq(omni_conversation_window(f.e, id, &open, NULL), OMNI_OK);
    cr_assert_eq(open, 0);
    cr_assert_eq(omni_conversation_window(f.e, id, NULL, NULL), OMNI_OK);
    char *t2 = event("cust-1", "acc-1", "whatsapp", "chat", "out-t2", "template",
                     ",\"direction\":\"outbound\"");
    cJSON *rt2 = step(&f, t2);
    cr_assert_eq(num(rt2, "messageState.sequenceNumber"), 4);
    /* Twilio's WhatsApp ("chat") is the same channel */
    cJSON *tw = msg(&f, "cust-1", "twilio", "chat", "SMwa", "");
    cr_assert_str_eq(str(tw, "conversation.conversationId"), id);
    /* SMS has no window */
    cJSON *s = msg(&f, "cust-1", "twilio", "sms", "SM1", "");
    char *sid = conv_id(s);
    cr_assert_eq(omni_conversation_window(f.e, sid, &open, &exp), OMNI_OK);
    cr_assert_eq(open, 1);
    cr_assert_eq(exp, 0);
    free(sid);
    free(before);
    free(after);
    free(id);
    free(o1);
    free(o2);
    free(t1);
    free(t2);
    cJSON *all[] = {rt, ri, ro, rt2, tw, s};
    for (size_t i = 0; i < 6; i++)
        cJSON_Delete(all[i]);
    fx_close(&f);
}

Test(conversation, channels_are_derived_or_named)
{
    fixture f;
    fx_open(&f);
    struct {
        const char *carrier, *type, *extra, *channel;
    } cases[] = {
        {"twilio", "sms", "", "sms"},           {"bandwidth", "mms", "", "sms"},
        {"whatsapp", "chat", "", "whatsapp"},   {"twilio", "chat", "", "whatsapp"},
        {"livechat", "chat", "", "livechat"},   {"messagebird", "chat", "", "messagebird"},
        {"inteliquent", "voice", "", "voice"},  {"twilio", "sms", ",\"channel\":\"email\"", "email"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char id[16];
        snprintf(id, sizeof(id), "m%zu", i);
        cJSON *r = msg(&f, "cust-1", cases[i].carrier, cases[i].type, id, cases[i].extra);
        cr_assert_str_eq(str(r, "conversation.channel.type"), cases[i].channel, "case %zu", i);
        cJSON_Delete(r);
    }
    char *out = NULL;
    cr_assert_eq(omni_conversation_list(&out, NULL, f.e, "cust-1", NULL, 0), OMNI_OK);
    cJSON *l = call(OMNI_OK, out);
    cr_assert_eq(count(l, "items"), 6, "sms, whatsapp, livechat, messagebird, voice, email");
    cJSON_Delete(l);
    char *bad = event("cust-1", "acc-1", "twilio", "fax", "x", "text", "");
    cr_assert_eq(step_rc(&f, bad, NULL, NULL), OMNI_EINVAL);
    free(bad);
    bad = event("cust-1", "acc-1", "twilio", "sms", "x", "text", ",\"channel\":\"E-mail\"");
    cr_assert_eq(step_rc(&f, bad, NULL, NULL), OMNI_EINVAL);
    free(bad);
    fx_close(&f);
}

/* ---- transitions --------------------------------------------------------- */

Test(conversation, transitions_through_the_store)
{
    fixture f;
    fx_open(&f);
    cJSON *r = msg(&f, "cust-1", "twilio", "sms", "SM1", "");
    char *id = conv_id(r);
    cJSON_Delete(r);
    cJSON *t = transition(&f, id, "{\"event\":\"agent_assigned\",\"agentId\":\"agent-1\"}");
    cr_assert_str_eq(str(t, "conversation.status"), "active");
    cr_assert_str_eq(str(t, "conversation.assignedTo"), "agent-1");
    cr_assert_eq(count(t, "conversation.participants"), 2);
    cr_assert_eq(count(t, "events"), 2);
    cr_assert_str_eq(str(t, "events.0.detailType"), "conversation.status_changed");
    cr_assert_str_eq(str(t, "events.1.detailType"), "conversation.assigned");
    cr_assert(cJSON_IsNull(at(t, "events.1.detail.previousAssignee")));
    cr_assert_str_eq(str(t, "events.1.detail.newAssignee"), "agent-1");
    cJSON_Delete(t);
    t = transition(&f, id, "{\"event\":\"agent_transferred\",\"agentId\":\"agent-2\"}");
    cr_assert_str_eq(str(t, "conversation.participants.1.status"), "transferred");
    cr_assert_str_eq(str(t, "conversation.participants.2.id"), "agent-2");
    cr_assert_str_eq(str(t, "events.0.detail.previousAssignee"), "agent-1");
    cJSON_Delete(t);
    /* refused: nothing changes */
    char *before = get_text(&f, id);
    const char *refused[] = {"{\"event\":\"agent_transferred\",\"agentId\":\"agent-2\"}",
                             "{\"event\":\"reopen\"}", "{\"event\":\"inactivity_timeout\"}",
                             "{\"event\":\"agent_left\",\"agentId\":\"agent-1\"}"};
    for (size_t i = 0; i < 4; i++) {
        cJSON *x = NULL;
        cr_assert_eq(transition_rc(&f, id, refused[i], &x), OMNI_ETRANSITION, "%s", refused[i]);
        cr_assert_str_eq(omni_error_last_code(), "INVALID_TRANSITION");
    }
    char *after = get_text(&f, id);
    cr_assert_str_eq(before, after);
    free(before);
    free(after);
    t = transition(&f, id, "{\"event\":\"agent_left\"}");
    cr_assert(cJSON_IsNull(at(t, "conversation.assignedTo")));
    cr_assert_str_eq(str(t, "conversation.participants.2.status"), "left");
    cr_assert(cJSON_IsNull(at(t, "events.0.detail.newAssignee")));
    cJSON_Delete(t);
    t = transition(&f, id, "{\"event\":\"bot_handover\",\"botId\":\"bot-1\"}");
    cr_assert_str_eq(str(t, "conversation.assignedTo"), "bot-1");
    cr_assert_str_eq(str(t, "conversation.participants.3.type"), "bot");
    cJSON_Delete(t);
    t = transition(&f, id, "{\"event\":\"escalate\",\"priority\":\"urgent\",\"reason\":\"x\"}");
    cr_assert_str_eq(str(t, "conversation.status"), "escalated");
    cr_assert_str_eq(str(t, "conversation.metadata.priority"), "urgent");
    cr_assert_str_eq(str(t, "conversation.participants.3.status"), "transferred");
    cr_assert(cJSON_IsNull(at(t, "conversation.assignedTo")));
    cJSON_Delete(t);
    /* messages keep an escalated conversation escalated */
    r = msg(&f, "cust-1", "twilio", "sms", "SM2", "");
    cr_assert_str_eq(str(r, "conversation.status"), "escalated");
    cr_assert_str_eq(str(r, "routing.priority"), "urgent");
    cJSON_Delete(r);
    t = transition(&f, id, "{\"event\":\"set_metadata\",\"sentiment\":\"negative\","
                           "\"topics\":[\"billing\",\"refund\"]}");
    cr_assert_str_eq(str(t, "conversation.metadata.sentiment"), "negative");
    cr_assert_eq(count(t, "conversation.metadata.topics"), 2);
    cr_assert_eq(count(t, "events"), 0);
    cJSON_Delete(t);
    t = transition(&f, id, "{\"event\":\"resolve\"}");
    cr_assert_str_eq(str(t, "conversation.status"), "resolved");
    cJSON_Delete(t);
    /* the timeout from the account (default 24 h) */
    cJSON *x = NULL;
    cr_assert_eq(transition_rc(&f, id, "{\"event\":\"inactivity_timeout\"}", &x),
                 OMNI_ETRANSITION);
    f.now += 24 * HOUR;
    t = transition(&f, id, "{\"event\":\"inactivity_timeout\"}");
    cr_assert_str_eq(str(t, "conversation.status"), "expired");
    cJSON_Delete(t);
    t = transition(&f, id, "{\"event\":\"reopen\"}");
    cr_assert_str_eq(str(t, "conversation.status"), "reopened");
    cr_assert_str_eq(str(t, "conversation.metadata.sentiment"), "negative", "kept");
    cJSON_Delete(t);
    /* message events belong to the step; bad events and ids */
    cr_assert_eq(transition_rc(&f, id, "{\"event\":\"inbound_message\"}", &x), OMNI_EINVAL);
    cr_assert_eq(transition_rc(&f, id, "{\"event\":\"agent_assigned\"}", &x), OMNI_EINVAL);
    cr_assert_eq(transition_rc(&f, id, "{\"event\":\"bot_handover\"}", &x), OMNI_EINVAL);
    cr_assert_eq(transition_rc(&f, id, "{\"event\":\"set_metadata\"}", &x), OMNI_EINVAL);
    cr_assert_eq(transition_rc(&f, id, "{\"event\":\"resolve\",\"x\":1}", &x), OMNI_EINVAL);
    cr_assert_eq(transition_rc(&f, id, "{\"event\":\"fly\"}", &x), OMNI_EINVAL);
    cr_assert_eq(transition_rc(&f, id, "{\"priority\":\"high\"}", &x), OMNI_EINVAL);
    cr_assert_eq(transition_rc(&f, id, "{\"event\":\"resolve\",\"at\":\"yesterday\"}", &x),
                 OMNI_EINVAL);
    cr_assert_eq(transition_rc(&f, id, "[1]", &x), OMNI_EINVAL);
    cr_assert_eq(transition_rc(&f, id, "{\"event\":", &x), OMNI_EJSON);
    cr_assert_eq(transition_rc(&f, "no-such-id", "{\"event\":\"resolve\"}", &x), OMNI_ENOTFOUND);
    cr_assert_eq(transition_rc(&f, "bad id!", "{\"event\":\"resolve\"}", &x), OMNI_EINVAL);
    free(id);
    fx_close(&f);
}

/* ---- history, lists, delivery, delete ---------------------------------- */

Test(conversation, history_pages_and_filters)
{
    fixture f;
    fx_open(&f);
    char *id = NULL;
    for (int i = 1; i <= 25; i++) {
        char mid[16];
        snprintf(mid, sizeof(mid), "SM%02d", i);
        char *ev = event("cust-1", "acc-1", "twilio", "sms", mid, i % 5 == 0 ? "media" : "text",
                         i % 2 == 0 ? ",\"direction\":\"outbound\"" : "");
        cJSON *r = step(&f, ev);
        if (!id)
            id = conv_id(r);
        cJSON_Delete(r);
        free(ev);
        f.now += 1000;
    }
    cJSON *p1 = history(&f, id, "{\"limit\":10}");
    cr_assert_eq(count(p1, "items"), 10);
    cr_assert_eq(num(p1, "items.0.sequenceNumber"), 1);
    cr_assert_eq(num(p1, "items.9.sequenceNumber"), 10);
    cr_assert_str_eq(str(p1, "items.0.carrierMessageId"), "SM01");
    cr_assert_str_eq(str(p1, "items.0.message.content"), "hello SM01");
    cr_assert_str_eq(str(p1, "items.1.direction"), "outbound");
    char q[512];
    snprintf(q, sizeof(q), "{\"limit\":10,\"cursor\":\"%s\"}", str(p1, "next"));
    cJSON *p2 = history(&f, id, q);
    cr_assert_eq(num(p2, "items.0.sequenceNumber"), 11);
    snprintf(q, sizeof(q), "{\"limit\":10,\"cursor\":\"%s\"}", str(p2, "next"));
    cJSON *p3 = history(&f, id, q);
    cr_assert_eq(count(p3, "items"), 5);
    cr_assert_eq(num(p3, "items.4.sequenceNumber"), 25);
    cr_assert(cJSON_IsNull(at(p3, "next")));
    cJSON *all = history(&f, id, NULL);
    cr_assert_eq(count(all, "items"), 25);
    cJSON *out = history(&f, id, "{\"direction\":\"outbound\"}");
    cr_assert_eq(count(out, "items"), 12);
    cJSON *media = history(&f, id, "{\"contentType\":\"media\",\"direction\":\"inbound\"}");
    cr_assert_eq(count(media, "items"), 3, "5, 15, 25");
    /* createdAt: T0 + (i-1) s; since inclusive, until exclusive */
    cJSON *win = history(&f, id, "{\"since\":\"2025-01-02T03:04:10.000Z\","
                                 "\"until\":\"2025-01-02T03:04:15Z\"}");
    cr_assert_eq(count(win, "items"), 5);
    cr_assert_eq(num(win, "items.0.sequenceNumber"), 6);
    cJSON *filtered = history(&f, id, "{\"direction\":\"inbound\",\"limit\":4}");
    cr_assert_eq(count(filtered, "items"), 4);
    cr_assert_eq(num(filtered, "items.3.sequenceNumber"), 7);
    snprintf(q, sizeof(q), "{\"direction\":\"inbound\",\"limit\":4,\"cursor\":\"%s\"}",
             str(filtered, "next"));
    cJSON *filtered2 = history(&f, id, q);
    cr_assert_eq(num(filtered2, "items.0.sequenceNumber"), 9);
    const char *bad[] = {"{\"limit\":0}",         "{\"limit\":1001}",
                         "{\"limit\":\"5\"}",     "{\"direction\":\"up\"}",
                         "{\"since\":\"now\"}",   "{\"status\":\"new\"}",
                         "{\"cursor\":\"other/000000000001\"}", "[]", "{"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *o = NULL;
        int rc = omni_conversation_history(&o, NULL, f.e, id, bad[i], strlen(bad[i]));
        cr_assert(rc == OMNI_EINVAL || rc == OMNI_EJSON, "%s: %d", bad[i], rc);
        cr_assert_null(o);
    }
    char *o = NULL;
    cr_assert_eq(omni_conversation_history(&o, NULL, f.e, "unknown", NULL, 0), OMNI_ENOTFOUND);
    cr_assert_eq(omni_conversation_history(NULL, NULL, f.e, id, NULL, 0), OMNI_EINVAL);
    cJSON *x[] = {p1, p2, p3, all, out, media, win, filtered, filtered2};
    for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++)
        cJSON_Delete(x[i]);
    free(id);
    fx_close(&f);
}

Test(conversation, a_customers_conversations)
{
    fixture f;
    fx_open(&f);
    cJSON_Delete(msg(&f, "cust-1", "twilio", "sms", "a", ""));
    cJSON_Delete(msg(&f, "cust-1", "whatsapp", "chat", "b", ""));
    cJSON_Delete(msg(&f, "cust-10", "twilio", "sms", "c", ""));
    char *ev = event("cust-1", "acc-2", "twilio", "sms", "d", "text", "");
    cJSON *r = step(&f, ev);
    char *id = conv_id(r);
    cJSON_Delete(transition(&f, id, "{\"event\":\"resolve\"}"));
    char *out = NULL;
    cJSON *l = CALLED(omni_conversation_list(&out, NULL, f.e, "cust-1", NULL, 0));
    cr_assert_eq(count(l, "items"), 3, "not cust-10's");
    cr_assert_str_eq(str(l, "items.0.customerId"), "cust-1");
    cJSON_Delete(l);
    l = CALLED(omni_conversation_list(&out, NULL, f.e, "cust-1", "{\"status\":\"resolved\"}", 21));
    cr_assert_eq(count(l, "items"), 1);
    cr_assert_str_eq(str(l, "items.0.conversationId"), id);
    cJSON_Delete(l);
    l = CALLED(omni_conversation_list(&out, NULL, f.e, "cust-1", "{\"limit\":2}", 11));
    cr_assert_eq(count(l, "items"), 2);
    char q[600];
    snprintf(q, sizeof(q), "{\"limit\":2,\"cursor\":\"%s\"}", str(l, "next"));
    cJSON *l2 = CALLED(omni_conversation_list(&out, NULL, f.e, "cust-1", q, strlen(q)));
    cr_assert_eq(count(l2, "items"), 1);
    cr_assert(cJSON_IsNull(at(l2, "next")));
    cJSON_Delete(l);
    cJSON_Delete(l2);
    l = CALLED(omni_conversation_list(&out, NULL, f.e, "nobody", NULL, 0));
    cr_assert_eq(count(l, "items"), 0);
    cJSON_Delete(l);
    cr_assert_eq(omni_conversation_list(&out, NULL, f.e, "bad/id", NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_list(&out, NULL, f.e, "cust-1", "{\"status\":\"x\"}", 14),
                 OMNI_EINVAL);
    cr_assert_eq(omni_conversation_list(&out, NULL, NULL, "cust-1", NULL, 0), OMNI_EINVAL);
    free(ev);
    free(id);
    cJSON_Delete(r);
    fx_close(&f);
}

Test(conversation, delivery_status_never_moves_backwards)
{
    fixture f;
    fx_open(&f);
    char *ev = event("cust-1", "acc-1", "twilio", "sms", "SM-OUT", "text",
                     ",\"direction\":\"outbound\"");
    cJSON *r = step(&f, ev);
    char *id = conv_id(r);
    const char *order[] = {"queued", "sent", "delivered"};
    for (size_t i = 0; i < 3; i++) {
        char u[256];
        f.now += 1000;
        snprintf(u, sizeof(u),
                 "{\"kind\":\"status\",\"carrier\":\"twilio\",\"carrierMessageId\":\"SM-OUT\","
                 "\"status\":\"%s\"}",
                 order[i]);
        cJSON *d = delivery(&f, u);
        cr_assert(cJSON_IsTrue(at(d, "changed")));
        cr_assert_str_eq(str(d, "message.deliveryStatus"), order[i]);
        cr_assert_str_eq(str(d, "events.0.detailType"), "message.delivery_updated");
        cr_assert_str_eq(str(d, "events.0.detail.newStatus"), order[i]);
        cr_assert_str_eq(str(d, "events.0.detail.previousStatus"),
                         i == 0 ? "pending" : order[i - 1]);
        cJSON_Delete(d);
    }
    /* late, out-of-order callbacks change nothing */
    const char *late[] = {"sent", "queued", "failed", "undelivered", "delivered", "pending"};
    for (size_t i = 0; i < 6; i++) {
        char u[256];
        snprintf(u, sizeof(u),
                 "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM-OUT\",\"status\":\"%s\"}",
                 late[i]);
        cJSON *d = delivery(&f, u);
        cr_assert(cJSON_IsFalse(at(d, "changed")), "%s after delivered", late[i]);
        cr_assert_str_eq(str(d, "message.deliveryStatus"), "delivered");
        cr_assert_eq(count(d, "events"), 0);
        cJSON_Delete(d);
    }
    /* by conversation and sequence number; read is final */
    char u[256];
    snprintf(u, sizeof(u),
             "{\"conversationId\":\"%s\",\"sequenceNumber\":1,\"status\":\"read\","
             "\"timestamp\":\"2025-01-02T04:00:00Z\"}",
             id);
    cJSON *d = delivery(&f, u);
    cr_assert(cJSON_IsTrue(at(d, "changed")));
    cr_assert_str_eq(str(d, "message.updatedAt"), "2025-01-02T04:00:00.000Z");
    cJSON_Delete(d);
    snprintf(u, sizeof(u), "{\"conversationId\":\"%s\",\"sequenceNumber\":1,\"status\":\"failed\"}",
             id);
    d = delivery(&f, u);
    cr_assert(cJSON_IsFalse(at(d, "changed")));
    cJSON_Delete(d);
    /* failed only from pending, queued or sent, and final */
    char *ev2 = event("cust-1", "acc-1", "twilio", "sms", "SM-OUT2", "text",
                      ",\"direction\":\"outbound\"");
    cJSON_Delete(step(&f, ev2));
    d = delivery(&f, "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM-OUT2\","
                     "\"status\":\"failed\",\"errorCode\":30007,\"errorMessage\":\"filtered\"}");
    cr_assert(cJSON_IsTrue(at(d, "changed")));
    cr_assert_eq(num(d, "message.errorCode"), 30007);
    cr_assert_str_eq(str(d, "message.errorMessage"), "filtered");
    cJSON_Delete(d);
    d = delivery(&f, "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM-OUT2\","
                     "\"status\":\"delivered\"}");
    cr_assert(cJSON_IsFalse(at(d, "changed")));
    cJSON_Delete(d);
    /* the history shows the applied statuses */
    cJSON *h = history(&f, id, NULL);
    cr_assert_str_eq(str(h, "items.0.deliveryStatus"), "read");
    cr_assert_str_eq(str(h, "items.1.deliveryStatus"), "failed");
    cJSON_Delete(h);
    /* errors */
    const char *bad[] = {"{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM-OUT\"}",
                         "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM-OUT\","
                         "\"status\":\"lost\"}",
                         "{\"status\":\"sent\"}",
                         "{\"conversationId\":\"x\",\"status\":\"sent\"}",
                         "{\"conversationId\":\"x\",\"sequenceNumber\":0,\"status\":\"sent\"}",
                         "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM-OUT\","
                         "\"status\":\"sent\",\"timestamp\":\"never\"}",
                         "[]", "{"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *o = NULL;
        int rc = omni_conversation_delivery(&o, NULL, f.e, bad[i], strlen(bad[i]));
        cr_assert(rc == OMNI_EINVAL || rc == OMNI_EJSON, "%s: %d", bad[i], rc);
        cr_assert_null(o);
    }
    char *o = NULL;
    /* an unknown carrier id is parked (see test_conversation_delivery.c) */
    const char *unknown = "{\"carrier\":\"twilio\",\"carrierMessageId\":\"nope\",\"status\":"
                          "\"sent\"}";
    d = delivery(&f, unknown);
    cr_assert(cJSON_IsTrue(at(d, "parked")));
    cr_assert(cJSON_IsNull(at(d, "message")));
    cJSON_Delete(d);
    snprintf(u, sizeof(u), "{\"conversationId\":\"%s\",\"sequenceNumber\":9,\"status\":\"sent\"}",
             id);
    cr_assert_eq(omni_conversation_delivery(&o, NULL, f.e, u, strlen(u)), OMNI_ENOTFOUND);
    free(ev);
    free(ev2);
    free(id);
    cJSON_Delete(r);
    fx_close(&f);
}

Test(conversation, delete_removes_everything_and_the_next_message_starts_anew)
{
    fixture f;
    fx_open(&f);
    cJSON *r = msg(&f, "cust-1", "twilio", "sms", "SM1", "");
    cJSON_Delete(msg(&f, "cust-1", "twilio", "sms", "SM2", ""));
    char *id = conv_id(r);
    char *out = NULL;
    cJSON *d = CALLED(omni_conversation_delete(&out, NULL, f.e, id));
    cr_assert_str_eq(str(d, "events.0.detailType"), "conversation.deleted");
    cr_assert_str_eq(str(d, "events.0.detail.conversationId"), id);
    cJSON_Delete(d);
    cr_assert_eq(omni_conversation_get(&out, NULL, f.e, id), OMNI_ENOTFOUND);
    cr_assert_eq(omni_conversation_history(&out, NULL, f.e, id, NULL, 0), OMNI_ENOTFOUND);
    cr_assert_eq(omni_conversation_delete(&out, NULL, f.e, id), OMNI_ENOTFOUND);
    /* no message or reference record is left */
    size_t n = 0;
    char *next = NULL;
    cr_assert_eq(omni_store_list_json(f.store, "message", NULL, NULL, 100, f.now, &out, NULL),
                 OMNI_OK);
    cr_assert_str_eq(out, "{\"items\":[],\"next\":null}");
    omni_free(out);
    cr_assert_eq(omni_store_list_json(f.store, "message_ref", NULL, NULL, 100, f.now, &out,
                                      NULL),
                 OMNI_OK);
    cr_assert_str_eq(out, "{\"items\":[],\"next\":null}");
    omni_free(out);
    (void)n;
    (void)next;
    /* the same message again is new: a new conversation */
    cJSON *again = msg(&f, "cust-1", "twilio", "sms", "SM1", "");
    cr_assert(cJSON_IsFalse(at(again, "duplicate")));
    cr_assert_str_neq(str(again, "conversation.conversationId"), id);
    cr_assert_eq(num(again, "messageState.sequenceNumber"), 1);
    cr_assert_str_eq(str(again, "conversation.status"), "new");
    cJSON_Delete(again);
    cJSON_Delete(r);
    free(id);
    fx_close(&f);
}

Test(conversation, settings)
{
    fixture f;
    fx_open(&f);
    char *out = NULL;
    cr_assert_eq(omni_conversation_settings_get(&out, NULL, f.e, "acc-1"), OMNI_ENOTFOUND);
    const char *s = " { \"dedupeWindowMs\" : 0, \"inactivityTimeoutMs\": 3600000 }\n";
    cr_assert_eq(omni_conversation_settings_set(f.e, "acc-1", s, strlen(s)), OMNI_OK);
    cr_assert_eq(omni_conversation_settings_get(&out, NULL, f.e, "acc-1"), OMNI_OK);
    cr_assert_str_eq(out, "{\"inactivityTimeoutMs\":3600000,\"dedupeWindowMs\":0}");
    omni_free(out);
    const char *bad[] = {"{\"inactivityTimeoutMs\":0}", "{\"dedupeWindowMs\":-1}",
                         "{\"maxAttempts\":3}", "{\"inactivityTimeoutMs\":1.5}",
                         "{\"inactivityTimeoutMs\":1099511627777}", "[]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(omni_conversation_settings_set(f.e, "acc-1", bad[i], strlen(bad[i])),
                     OMNI_EINVAL, "%s", bad[i]);
    cr_assert_eq(omni_conversation_settings_set(f.e, "bad id", "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_settings_set(NULL, "a", "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_settings_get(NULL, NULL, f.e, "acc-1"), OMNI_EINVAL);
    /* dedupeWindowMs 0: references are kept for ever */
    char *ev = event("cust-1", "acc-1", "twilio", "sms", "SM1", "text", "");
    cJSON_Delete(step(&f, ev));
    f.now += 365 * 24 * HOUR;
    cJSON *r = step(&f, ev);
    cr_assert(cJSON_IsTrue(at(r, "duplicate")));
    cJSON_Delete(r);
    /* a one-second window: the reference expires */
    cr_assert_eq(omni_conversation_settings_set(f.e, "acc-1", "{\"dedupeWindowMs\":1000}", 23),
                 OMNI_OK);
    char *ev2 = event("cust-1", "acc-1", "twilio", "sms", "SM2", "text", "");
    cJSON_Delete(step(&f, ev2));
    f.now += 1000;
    r = step(&f, ev2);
    cr_assert(cJSON_IsFalse(at(r, "duplicate")), "past the dedupe window");
    cJSON_Delete(r);
    free(ev);
    free(ev2);
    fx_close(&f);
}

/* ---- the pure apply ------------------------------------------------------ */

static int apply_rc(const char *doc, const char *ev, int64_t now, cJSON **res)
{
    char *out = NULL;
    int rc = omni_conversation_apply(&out, NULL, doc, strlen(doc), ev, strlen(ev), now);
    if (rc) {
        cr_assert_null(out);
        return rc;
    }
    *res = call(rc, out);
    return rc;
}

Test(conversation, apply_is_pure)
{
    fixture f;
    fx_open(&f);
    cJSON *r = msg(&f, "cust-1", "whatsapp", "chat", "wamid.1", "");
    char *id = conv_id(r);
    char *doc = get_text(&f, id);
    cJSON *res = NULL;
    cr_assert_eq(apply_rc(doc, "{\"event\":\"agent_assigned\",\"agentId\":\"a-1\","
                               "\"at\":\"2025-01-02T05:00:00Z\"}",
                          T0, &res),
                 OMNI_OK, "%s", omni_error_last_message());
    cr_assert_str_eq(str(res, "conversation.assignedTo"), "a-1");
    cr_assert_str_eq(str(res, "conversation.participants.1.joinedAt"),
                     "2025-01-02T05:00:00.000Z");
    cr_assert_str_eq(str(res, "conversation.updatedAt"), "2025-01-02T05:00:00.000Z");
    cr_assert_str_eq(str(res, "events.1.detail.assignedAt"), "2025-01-02T05:00:00.000Z");
    cr_assert(cJSON_IsTrue(at(res, "conversation.serviceWindow.open")));
    /* the result is a document apply takes again */
    char *doc2 = cJSON_PrintUnformatted(at(res, "conversation"));
    cJSON *res2 = NULL;
    cr_assert_eq(apply_rc(doc2, "{\"event\":\"inbound_message\"}", T0 + 25 * HOUR, &res2),
                 OMNI_OK);
    cr_assert_eq(num(res2, "conversation.metadata.messageCount"), 2);
    cr_assert_str_eq(str(res2, "conversation.lastInboundAt"), "2025-01-03T04:04:05.000Z");
    cJSON_Delete(res2);
    cr_assert_eq(apply_rc(doc2, "{\"event\":\"reopen\"}", T0, &res2), OMNI_ETRANSITION);
    /* the store is untouched */
    char *again = get_text(&f, id);
    cr_assert_str_eq(again, doc);
    /* documents that are not conversations */
    const char *bad_docs[] = {"{}", "[]", "{\"conversationId\":\"x\"}", "null"};
    for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++)
        cr_assert_eq(apply_rc(bad_docs[i], "{\"event\":\"resolve\"}", T0, &res2), OMNI_EINVAL);
    cJSON *mod = cJSON_Parse(doc);
    cJSON_ReplaceItemInObjectCaseSensitive(mod, "status", cJSON_CreateString("sleeping"));
    char *bad = cJSON_PrintUnformatted(mod);
    cr_assert_eq(apply_rc(bad, "{\"event\":\"resolve\"}", T0, &res2), OMNI_EINVAL);
    cr_assert_str_eq(omni_error_last_message(), "conversation: \"status\" is missing or invalid");
    free(bad);
    cJSON_ReplaceItemInObjectCaseSensitive(mod, "status", cJSON_CreateString("active"));
    cJSON_ReplaceItemInObjectCaseSensitive(mod, "participants", cJSON_CreateString("x"));
    bad = cJSON_PrintUnformatted(mod);
    cr_assert_eq(apply_rc(bad, "{\"event\":\"resolve\"}", T0, &res2), OMNI_EINVAL);
    free(bad);
    cJSON_Delete(mod);
    cr_assert_eq(apply_rc(doc, "{\"event\":\"resolve\"", T0, &res2), OMNI_EJSON);
    cr_assert_eq(apply_rc("{", "{\"event\":\"resolve\"}", T0, &res2), OMNI_EJSON);
    cr_assert_eq(apply_rc(doc, "{\"event\":\"resolve\"}", -1, &res2), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_apply(NULL, NULL, doc, strlen(doc), "{}", 2, T0),
                 OMNI_EINVAL);
    /* at most 32 participants */
    char *cur = strdup(doc);
    int rc = OMNI_OK;
    for (int i = 0; i < 40 && rc == OMNI_OK; i++) {
        char ev[128];
        snprintf(ev, sizeof(ev), "{\"event\":\"agent_assigned\",\"agentId\":\"agent-%d\"}", i);
        cJSON *x = NULL;
        rc = apply_rc(cur, ev, T0, &x);
        if (rc == OMNI_OK) {
            free(cur);
            cur = cJSON_PrintUnformatted(at(x, "conversation"));
            cJSON_Delete(x);
        }
    }
    cr_assert_eq(rc, OMNI_ETOOLARGE);
    free(cur);
    free(again);
    free(doc2);
    cJSON_Delete(res);
    cJSON_Delete(r);
    free(doc);
    free(id);
    fx_close(&f);
}

/* ---- a host's storage hook: the journal protocol ------------------------- */

/* Forwards to a memory store's table (so the engine sees a host hook, which
 * has no atomic batch) and can lose the writes after a commit, as a host
 * that dies right after committing would. */
typedef struct host {
    omni_store *inner;
    omni_storage_hook h;
    int lose_writes;     /* puts to "message" / "message_ref" fail while > 0 */
    const char *lose_ns; /* only to this namespace (NULL: both) */
    int fail_all;    /* every call fails with OMNI_EHOOK-like status */
} host;

static int host_get(void *ctx, const char *ns, const char *key, int64_t now, char **v,
                    size_t *n, uint64_t *ver, int64_t *exp)
{
    host *h = ctx;
    if (h->fail_all)
        return OMNI_ESTORAGE;
    return h->h.get(h->h.ctx, ns, key, now, v, n, ver, exp);
}

static int host_put(void *ctx, const char *ns, const char *key, const char *v, size_t n,
                    uint64_t expected, int64_t exp, int64_t now, uint64_t *nv)
{
    host *h = ctx;
    if (h->fail_all)
        return OMNI_ESTORAGE;
    if (h->lose_writes > 0 && (h->lose_ns ? strcmp(ns, h->lose_ns) == 0
                                          : strcmp(ns, "message") == 0 ||
                                                strcmp(ns, "message_ref") == 0)) {
        h->lose_writes--;
        return OMNI_ESTORAGE;
    }
    return h->h.put(h->h.ctx, ns, key, v, n, expected, exp, now, nv);
}

static int host_del(void *ctx, const char *ns, const char *key, uint64_t expected, int64_t now)
{
    host *h = ctx;
    return h->h.del(h->h.ctx, ns, key, expected, now);
}

static int host_list(void *ctx, const char *ns, const char *prefix, const char *after,
                     size_t limit, int64_t now, omni_store_list_cb cb, void *cb_ctx, char **next)
{
    host *h = ctx;
    if (h->fail_all)
        return OMNI_ESTORAGE;
    return h->h.list(h->h.ctx, ns, prefix, after, limit, now, cb, cb_ctx, next);
}

static void host_open(fixture *f, host *h)
{
    memset(h, 0, sizeof(*h));
    f->now = T0;
    f->store = NULL;
    cr_assert_eq(omni_store_open(&h->inner, "memory:"), OMNI_OK);
    cr_assert_eq(omni_store_get_hook(h->inner, &h->h), OMNI_OK);
    omni_storage_hook t = OMNI_STORAGE_HOOK_INIT;
    t.ctx = h;
    t.get = host_get;
    t.put = host_put;
    t.del = host_del;
    t.list = host_list;
    fx_open_with(f, &t);
}

static int inner_has(host *h, const char *ns, const char *key, int64_t now)
{
    char *v = NULL;
    int rc = omni_store_get(h->inner, ns, key, now, &v, NULL, NULL, NULL);
    omni_free(v);
    return rc == OMNI_OK;
}

Test(conversation, host_hook_commits_survive_lost_writes)
{
    fixture f;
    host h;
    host_open(&f, &h);
    cJSON *r1 = msg(&f, "cust-1", "twilio", "sms", "SM1", "");
    char *id = conv_id(r1);
    char key[128];
    snprintf(key, sizeof(key), "%s/000000000001", id);
    cr_assert(inner_has(&h, "message", key, f.now));
    cr_assert(inner_has(&h, "message_ref", "in/twilio/SM1", f.now));
    /* the host "dies" after the commit: the write-out is lost */
    h.lose_writes = 1;
    cJSON *r2 = msg(&f, "cust-1", "twilio", "sms", "SM2", "");
    cr_assert_eq(num(r2, "messageState.sequenceNumber"), 2);
    snprintf(key, sizeof(key), "%s/000000000002", id);
    cr_assert(!inner_has(&h, "message", key, f.now));
    cr_assert(!inner_has(&h, "message_ref", "in/twilio/SM2", f.now));
    /* committed all the same: history has it, from the conversation record */
    cJSON *hist = history(&f, id, NULL);
    cr_assert_eq(count(hist, "items"), 2);
    cr_assert_str_eq(str(hist, "items.1.carrierMessageId"), "SM2");
    cJSON_Delete(hist);
    /* a redelivery answers with the first result, and writes it out */
    char *ev2 = event("cust-1", "acc-1", "twilio", "sms", "SM2", "text", "");
    cJSON *again = step(&f, ev2);
    cr_assert(cJSON_IsTrue(at(again, "duplicate")));
    cr_assert_str_eq(str(again, "messageState.messageId"), str(r2, "messageState.messageId"));
    cr_assert(inner_has(&h, "message", key, f.now));
    cr_assert(inner_has(&h, "message_ref", "in/twilio/SM2", f.now));
    cJSON_Delete(again);
    /* the reference written, the message record lost; the next message
     * writes it out before its own */
    h.lose_ns = "message";
    h.lose_writes = 1;
    cJSON *r3 = msg(&f, "cust-1", "twilio", "sms", "SM3", "");
    snprintf(key, sizeof(key), "%s/000000000003", id);
    cr_assert(!inner_has(&h, "message", key, f.now));
    cJSON *r4 = msg(&f, "cust-1", "twilio", "sms", "SM4", "");
    cr_assert(inner_has(&h, "message", key, f.now));
    cr_assert(inner_has(&h, "message_ref", "in/twilio/SM3", f.now));
    cr_assert_eq(num(r4, "messageState.sequenceNumber"), 4);
    h.lose_ns = NULL;
    /* a delivery update for a message not written out yet: its reference
     * is missing, so only its sequence number finds it (and writes it out) */
    char *out_ev = event("cust-1", "acc-1", "twilio", "sms", "SM-OUT", "text",
                         ",\"direction\":\"outbound\"");
    h.lose_writes = 1;
    cJSON_Delete(step(&f, out_ev));
    char *o = NULL;
    const char *by_carrier = "{\"carrier\":\"twilio\",\"carrierMessageId\":\"SM-OUT\","
                             "\"status\":\"sent\"}";
    cJSON *d = delivery(&f, by_carrier);
    cr_assert(cJSON_IsTrue(at(d, "parked")), "no reference yet: parked");
    cJSON_Delete(d);
    char u[256];
    snprintf(u, sizeof(u), "{\"conversationId\":\"%s\",\"sequenceNumber\":5,\"status\":"
                           "\"delivered\"}",
             id);
    /* writing the message out applies the parked status first */
    d = delivery(&f, u);
    cr_assert(cJSON_IsTrue(at(d, "changed")));
    cr_assert_eq(count(d, "events"), 2);
    cr_assert_str_eq(str(d, "events.0.detail.newStatus"), "sent");
    cr_assert_str_eq(str(d, "events.1.detail.previousStatus"), "sent");
    cr_assert_str_eq(str(d, "events.1.detail.newStatus"), "delivered");
    cJSON_Delete(d);
    d = delivery(&f, by_carrier);
    cr_assert(cJSON_IsFalse(at(d, "changed")), "found now; sent after delivered is ignored");
    cJSON_Delete(d);
    /* a transition writes a pending message out before it changes the record */
    h.lose_writes = 1;
    cJSON_Delete(msg(&f, "cust-1", "twilio", "sms", "SM6", ""));
    cJSON_Delete(transition(&f, id, "{\"event\":\"resolve\"}"));
    snprintf(key, sizeof(key), "%s/000000000006", id);
    cr_assert(inner_has(&h, "message", key, f.now));
    hist = history(&f, id, NULL);
    cr_assert_eq(count(hist, "items"), 6);
    for (int i = 0; i < 6; i++) {
        char p[32];
        snprintf(p, sizeof(p), "items.%d.sequenceNumber", i);
        cr_assert_eq(num(hist, p), i + 1);
    }
    cJSON_Delete(hist);
    /* the host's store fails: a retryable DATABASE_ERROR, nothing written */
    h.fail_all = 1;
    char *ev7 = event("cust-1", "acc-1", "twilio", "sms", "SM7", "text", "");
    cr_assert_eq(step_rc(&f, ev7, NULL, NULL), OMNI_ESTORAGE);
    cr_assert_str_eq(omni_error_last_code(), "DATABASE_ERROR");
    cr_assert_eq(omni_error_last_retryable(), 1);
    cr_assert_eq(omni_conversation_get(&o, NULL, f.e, id), OMNI_ESTORAGE);
    h.fail_all = 0;
    free(ev7);
    free(out_ev);
    free(ev2);
    free(id);
    cJSON_Delete(r1);
    cJSON_Delete(r2);
    cJSON_Delete(r3);
    cJSON_Delete(r4);
    omni_engine_free(f.e);
    omni_store_free(h.inner);
}

/* ---- threads racing on one engine ------------------------------------------ */

typedef struct racer {
    fixture *f;
    int index;
    int errors;
} racer;

#define RACE_THREADS 4
#define RACE_CUSTOMERS 3
#define RACE_MESSAGES 40

static void *race(void *arg)
{
    racer *r = arg;
    /* every thread delivers every message once, in its own order */
    for (int k = 0; k < RACE_CUSTOMERS * RACE_MESSAGES; k++) {
        int m = (k * 7 + r->index * 13) % (RACE_CUSTOMERS * RACE_MESSAGES);
        char cust[16], id[16];
        snprintf(cust, sizeof(cust), "cust-%d", m % RACE_CUSTOMERS);
        snprintf(id, sizeof(id), "M%03d", m);
        char *ev = event(cust, "acc-1", "twilio", "sms", id, "text", "");
        char *out = NULL;
        int rc;
        do
            rc = omni_conversation_step(&out, NULL, r->f->e, ev, strlen(ev), NULL, 0);
        while (rc == OMNI_ECONFLICT);
        if (rc)
            r->errors++;
        omni_free(out);
        free(ev);
    }
    return NULL;
}

Test(conversation, threads_record_each_message_once_with_dense_sequence_numbers)
{
    fixture f;
    fx_open(&f);
    pthread_t t[RACE_THREADS];
    racer r[RACE_THREADS];
    for (int i = 0; i < RACE_THREADS; i++) {
        r[i] = (racer){&f, i, 0};
        cr_assert_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < RACE_THREADS; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(r[i].errors, 0);
    }
    for (int c = 0; c < RACE_CUSTOMERS; c++) {
        char cust[16];
        snprintf(cust, sizeof(cust), "cust-%d", c);
        char *out = NULL;
        cJSON *l = CALLED(omni_conversation_list(&out, NULL, f.e, cust, NULL, 0));
        cr_assert_eq(count(l, "items"), 1);
        cr_assert_eq(num(l, "items.0.metadata.messageCount"), RACE_MESSAGES);
        cJSON *h = history(&f, str(l, "items.0.conversationId"), "{\"limit\":1000}");
        cr_assert_eq(count(h, "items"), RACE_MESSAGES);
        for (int i = 0; i < RACE_MESSAGES; i++) {
            char p[32];
            snprintf(p, sizeof(p), "items.%d.sequenceNumber", i);
            cr_assert_eq(num(h, p), i + 1);
        }
        cJSON_Delete(h);
        cJSON_Delete(l);
    }
    fx_close(&f);
}

/* ---- errors -------------------------------------------------------------- */

Test(conversation, step_errors_change_nothing)
{
    fixture f;
    fx_open(&f);
    char *ok = event("cust-1", "acc-1", "twilio", "sms", "SM1", "text", "");
    cJSON_Delete(step(&f, ok));
    char *before = NULL;
    cr_assert_eq(omni_store_list_json(f.store, "conversation", NULL, NULL, 100, f.now, &before,
                                      NULL),
                 OMNI_OK);
    struct {
        const char *json;
        int rc;
    } bad[] = {
        {"{", OMNI_EJSON},
        {"[]", OMNI_EINVAL},
        {"{\"identity\":{\"customerId\":\"c\"},\"routing\":{\"accountId\":\"a\"},"
         "\"enrichedMessage\":{\"id\":\"1\",\"carrier\":\"twilio\"}}",
         OMNI_EINVAL}, /* no correlationId */
        {"{\"correlationId\":\"c\",\"routing\":{\"accountId\":\"a\"},"
         "\"enrichedMessage\":{\"id\":\"1\",\"carrier\":\"twilio\"}}",
         OMNI_EINVAL},
        {"{\"correlationId\":\"c\",\"identity\":{\"customerId\":\"c/1\"},\"routing\":"
         "{\"accountId\":\"a\"},\"enrichedMessage\":{\"id\":\"1\",\"carrier\":\"twilio\"}}",
         OMNI_EINVAL},
        {"{\"correlationId\":\"c\",\"identity\":{\"customerId\":\"c\"},\"routing\":{},"
         "\"enrichedMessage\":{\"id\":\"1\",\"carrier\":\"twilio\"}}",
         OMNI_EINVAL},
        {"{\"correlationId\":\"c\",\"identity\":{\"customerId\":\"c\"},\"routing\":"
         "{\"accountId\":\"a\"},\"enrichedMessage\":{\"id\":\"\",\"carrier\":\"twilio\"}}",
         OMNI_EINVAL},
        {"{\"correlationId\":\"c\",\"identity\":{\"customerId\":\"c\"},\"routing\":"
         "{\"accountId\":\"a\"},\"enrichedMessage\":{\"id\":\"a\\u0001\",\"carrier\":"
         "\"twilio\"}}",
         OMNI_EINVAL},
        {"{\"correlationId\":\"c\",\"identity\":{\"customerId\":\"c\"},\"routing\":"
         "{\"accountId\":\"a\"},\"enrichedMessage\":{\"id\":\"1\"}}",
         OMNI_EINVAL},
        {"{\"correlationId\":\"c\",\"identity\":{\"customerId\":\"c\"},\"routing\":"
         "{\"accountId\":\"a\"},\"enrichedMessage\":{\"id\":\"1\",\"carrier\":\"Twi/lio\"}}",
         OMNI_EINVAL},
        {"{\"correlationId\":\"c\",\"identity\":{\"customerId\":\"c\"},\"routing\":"
         "{\"accountId\":\"a\"},\"enrichedMessage\":{\"id\":\"1\",\"carrier\":\"twilio\"},"
         "\"direction\":\"sideways\"}",
         OMNI_EINVAL},
        {"{\"correlationId\":\"c\",\"identity\":{\"customerId\":\"c\"},\"routing\":"
         "{\"accountId\":\"a\",\"tenantId\":5},\"enrichedMessage\":{\"id\":\"1\","
         "\"carrier\":\"twilio\"}}",
         OMNI_EINVAL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = step_rc(&f, bad[i].json, NULL, NULL);
        cr_assert_eq(rc, bad[i].rc, "case %zu: %d %s", i, rc, omni_error_last_message());
    }
    /* ids at and over their limits */
    char long_id[300];
    memset(long_id, 'x', 257);
    long_id[257] = '\0';
    char *ev = event("cust-1", "acc-1", "twilio", "sms", long_id, "text", "");
    cr_assert_eq(step_rc(&f, ev, NULL, NULL), OMNI_EINVAL);
    free(ev);
    long_id[256] = '\0';
    ev = event("cust-1", "acc-1", "twilio", "sms", long_id, "text", "");
    cJSON_Delete(step(&f, ev));
    free(ev);
    /* options */
    const char *opts[] = {"{\"maxAttempts\":0}", "{\"maxAttempts\":65}",
                          "{\"inactivityTimeoutMs\":0}", "{\"retries\":1}", "[1]", "{"};
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        int rc = step_rc(&f, ok, opts[i], NULL);
        cr_assert(rc == OMNI_EINVAL || rc == OMNI_EJSON, "%s", opts[i]);
    }
    /* sizes: the event 1 MiB, the message 256 KiB */
    size_t big = 300 * 1024;
    char *huge = malloc(big + 512);
    int n = snprintf(huge, 512,
                     "{\"correlationId\":\"c\",\"identity\":{\"customerId\":\"c\"},"
                     "\"routing\":{\"accountId\":\"a\"},\"enrichedMessage\":{\"id\":\"1\","
                     "\"carrier\":\"twilio\",\"content\":\"");
    memset(huge + n, 'a', big);
    strcpy(huge + n + big, "\"}}");
    cr_assert_eq(step_rc(&f, huge, NULL, NULL), OMNI_ETOOLARGE);
    free(huge);
    huge = malloc(2 * 1024 * 1024);
    memset(huge, ' ', 2 * 1024 * 1024 - 1);
    huge[0] = '{';
    huge[2 * 1024 * 1024 - 2] = '}';
    huge[2 * 1024 * 1024 - 1] = '\0';
    cr_assert_eq(step_rc(&f, huge, NULL, NULL), OMNI_ETOOLARGE);
    free(huge);
    char *out = NULL;
    cr_assert_eq(omni_conversation_step(NULL, NULL, f.e, ok, strlen(ok), NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_step(&out, NULL, NULL, ok, strlen(ok), NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_step(&out, NULL, f.e, NULL, 0, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_get(&out, NULL, f.e, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_get(NULL, NULL, f.e, "x"), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_get(&out, NULL, NULL, "x"), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_window(f.e, "nope", NULL, NULL), OMNI_ENOTFOUND);
    cr_assert_eq(omni_conversation_delete(NULL, NULL, f.e, "x"), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_transition(&out, NULL, f.e, "x", NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_delivery(&out, NULL, f.e, NULL, 0), OMNI_EINVAL);
    char *after = NULL;
    cr_assert_eq(omni_store_list_json(f.store, "conversation", NULL, NULL, 100, f.now, &after,
                                      NULL),
                 OMNI_OK);
    cJSON *b = cJSON_Parse(before), *a = cJSON_Parse(after);
    cr_assert_eq(cJSON_GetArraySize(at(a, "items")), 1);
    cr_assert_eq(num(a, "items.0.value.metadata.messageCount"), 2, "only the two valid ones");
    cJSON_Delete(a);
    cJSON_Delete(b);
    omni_free(before);
    omni_free(after);
    free(ok);
    fx_close(&f);
}
