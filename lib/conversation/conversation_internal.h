/* Internal: the conversation model shared by the pure document functions
 * (document.c), the store-backed step (step.c) and the queries (query.c). */
#ifndef OMNI_CONVERSATION_INTERNAL_H
#define OMNI_CONVERSATION_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include <omni/conversation.h>

#include "core/buf.h"
#include "core/json_span.h"

#define OMNI__CONV_STATUS_COUNT 6
#define OMNI__CONV_EVENT_COUNT 11

#define OMNI__CONV_ID_MAX 128      /* conversationId, customerId, accountId, agent and bot ids */
#define OMNI__CONV_TEXT_MAX 128    /* businessUnitId, tenantId */
#define OMNI__CONV_CHANNEL_MAX 32  /* channel type and carrier names */
#define OMNI__CONV_MSGID_MAX 256   /* carrier message ids */
#define OMNI__CONV_MAX_PARTICIPANTS 32
#define OMNI__CONV_MAX_TOPICS 32
#define OMNI__CONV_TOPIC_MAX 64
#define OMNI__CONV_EVENT_MAX (64u * 1024u)
#define OMNI__CONV_DEFAULT_TIMEOUT_MS (24LL * 60 * 60 * 1000)
#define OMNI__CONV_WINDOW_MS (24LL * 60 * 60 * 1000)
#define OMNI__CONV_MAX_MS ((int64_t)1 << 40)

enum { OMNI__P_CUSTOMER, OMNI__P_AGENT, OMNI__P_BOT };
enum { OMNI__PS_ACTIVE, OMNI__PS_LEFT, OMNI__PS_TRANSFERRED };
enum { OMNI__PRIO_LOW, OMNI__PRIO_NORMAL, OMNI__PRIO_HIGH, OMNI__PRIO_URGENT };

typedef struct omni__conv_participant {
    char id[OMNI__CONV_ID_MAX + 1];
    unsigned char type, status;
    int64_t joined_at;
} omni__conv_participant;

typedef struct omni__conv {
    char id[OMNI__CONV_ID_MAX + 1];
    char customer_id[OMNI__CONV_ID_MAX + 1];
    char account_id[OMNI__CONV_ID_MAX + 1];
    char business_unit_id[OMNI__CONV_TEXT_MAX + 1];
    char tenant_id[OMNI__CONV_TEXT_MAX + 1];
    char channel[OMNI__CONV_CHANNEL_MAX + 1];
    char carrier[OMNI__CONV_CHANNEL_MAX + 1];
    int status;
    char assigned_to[OMNI__CONV_ID_MAX + 1]; /* "": null */
    /* participants and topics: read only when an event needs them (until
     * then the document's text is written back as it was) */
    omni__jspan part_raw, topics_raw;
    int part_parsed, topics_parsed;
    size_t n_part;
    omni__conv_participant part[OMNI__CONV_MAX_PARTICIPANTS];
    int64_t started_at, last_activity_at, last_inbound_at /* 0: null */, created_at, updated_at;
    int64_t message_count;
    int sentiment; /* -1: none; 0 positive, 1 neutral, 2 negative */
    int priority;
    size_t n_topics;
    char topics[OMNI__CONV_MAX_TOPICS][OMNI__CONV_TOPIC_MAX + 1];
    omni__jspan last_message; /* stored form only: the pending message record */
} omni__conv;

/* A parsed event document (omni_conversation_apply's input). */
typedef struct omni__conv_event {
    int event;
    int64_t at;
    char agent_id[OMNI__CONV_ID_MAX + 1]; /* "": absent */
    char bot_id[OMNI__CONV_ID_MAX + 1];
    int64_t timeout_ms; /* 0: default */
    int sentiment;      /* -2: absent, -1: null (cleared) */
    int priority;       /* -1: absent */
    int has_topics;
    size_t n_topics;
    char topics[OMNI__CONV_MAX_TOPICS][OMNI__CONV_TOPIC_MAX + 1];
} omni__conv_event;

/* Copies the string src into dst (cap bytes; truncated to fit). */
static inline void omni__conv_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}
#define OMNI__CONV_COPY(dst, src) omni__conv_copy(dst, sizeof(dst), src)

/* Status / event name lookups ((s, n) need not be NUL-terminated); -1 when
 * unknown. */
int omni__conv_status_from(const char *s, size_t n);
int omni__conv_event_from(const char *s, size_t n);
int omni__conv_name_index(const char *const *names, int count, const char *s, size_t n);

/* An RFC 3339 string span as Unix ms: OMNI_OK, or OMNI_EINVAL when it is
 * not a string or not a time. */
int omni__conv_span_time(omni__jspan v, int64_t *out);

/* 1 when s (n bytes) is 1..OMNI__CONV_ID_MAX of [A-Za-z0-9._:@+-]. */
int omni__conv_plain_id(const char *s, size_t n);

/* Reads a conversation document from validated JSON text. `stored` also
 * takes "lastMessage" (a span of text). `lazy` leaves participants and
 * topics unread until omni__conv_apply needs them (for documents libomni
 * wrote itself). Sets the last error: OMNI_EINVAL naming the member. */
int omni__conv_read(omni__conv *c, const char *text, size_t len, int stored, int lazy);

/* What omni__conv_write emits. */
#define OMNI__CONV_W_IDS 1u     /* customerId, accountId, businessUnitId, tenantId, times */
#define OMNI__CONV_W_WINDOW 2u  /* serviceWindow (WhatsApp conversations) */
/* Writes the conversation as a JSON object value into b. The first members
 * are the step result's view of it: conversationId, channel, status,
 * assignedTo, participants, metadata; *view_end (may be NULL) receives the
 * offset in b just after them. last_message (JSON text, may be NULL)
 * becomes "lastMessage". */
void omni__conv_write(omni_buf *b, const omni__conv *c, unsigned what, int64_t now,
                      const char *last_message, size_t last_message_len, size_t *view_end);

/* The "serviceWindow" member (WhatsApp conversations; nothing for others). */
void omni__conv_w_window(omni_buf *b, const omni__conv *c, int64_t now);

/* The service window: 1 open / 0 closed, and when it closes (0: never
 * opened). Only WhatsApp conversations have one (others: open, 0). */
int omni__conv_window(const omni__conv *c, int64_t now, int64_t *expires_at);

/* Reads an event document (validated text) into ev; at defaults to now. */
int omni__conv_event_read(omni__conv_event *ev, const char *text, size_t len, int64_t now);

/* Applies ev to c (pure): the table, the preconditions, participants,
 * assignment and metadata. Appends change events (array elements) to
 * events. On error c is unchanged. */
int omni__conv_apply(omni__conv *c, const omni__conv_event *ev, omni_buf *events);

/* A change event's envelope: {"source": "omni.workflow", "detailType":
 * type, "detail": { ... }}; begin leaves "detail" open, end closes both. */
void omni__conv_ev_begin(omni_buf *b, const char *type);
void omni__conv_ev_end(omni_buf *b);

/* Change-event writers (array elements into b). */
void omni__conv_ev_created(omni_buf *b, const omni__conv *c);
void omni__conv_ev_status(omni_buf *b, const char *conversation_id, int from, int to,
                          int64_t at);
void omni__conv_ev_assigned(omni_buf *b, const char *conversation_id, const char *from,
                            const char *to, int64_t at);
void omni__conv_ev_deleted(omni_buf *b, const char *conversation_id, int64_t at);
void omni__conv_ev_message(omni_buf *b, const char *message_id, const char *conversation_id,
                           int64_t seq, const char *direction, int64_t at);
/* message.delivery_updated; error_code and error_message (JSON value spans,
 * {NULL, 0} when absent) are added for failed and undelivered. */
void omni__conv_ev_delivery(omni_buf *b, const char *message_id, const char *conversation_id,
                            const char *from, const char *to, int64_t at, omni__jspan error_code,
                            omni__jspan error_message);

/* Writes "key":"<RFC 3339>" (or null when ms is 0 and nullable). */
void omni__conv_w_time(omni_buf *b, const char *key, int64_t ms, int nullable);

#endif
