/* The conversation state machine's transition table (one table, as the
 * public header documents it) and the status and event names. */
#include <string.h>

#include <omni/conversation.h>

#include "conversation_internal.h"
#include "core/error.h"

static const char *const status_names[OMNI__CONV_STATUS_COUNT] = {
    "new", "active", "resolved", "escalated", "expired", "reopened",
};

static const char *const event_names[OMNI__CONV_EVENT_COUNT] = {
    "inbound_message", "outbound_message", "agent_assigned", "agent_transferred",
    "agent_left",      "bot_handover",     "escalate",       "resolve",
    "inactivity_timeout", "reopen",        "set_metadata",
};

#define N_ OMNI_CONVERSATION_NEW
#define A_ OMNI_CONVERSATION_ACTIVE
#define R_ OMNI_CONVERSATION_RESOLVED
#define E_ OMNI_CONVERSATION_ESCALATED
#define X_ OMNI_CONVERSATION_EXPIRED
#define O_ OMNI_CONVERSATION_REOPENED
#define NO (-1)

/* next[event][status]; NO: the event does not apply in that status */
static const signed char next_table[OMNI__CONV_EVENT_COUNT][OMNI__CONV_STATUS_COUNT] = {
    /*                    new  active resolved escalated expired reopened */
    /* inbound_message */ {A_, A_, O_, E_, O_, A_},
    /* outbound_message */ {A_, A_, O_, E_, O_, A_},
    /* agent_assigned */ {A_, A_, NO, E_, NO, A_},
    /* agent_transferred */ {NO, A_, NO, E_, NO, A_},
    /* agent_left */ {NO, A_, NO, E_, NO, A_},
    /* bot_handover */ {A_, A_, NO, A_, NO, A_},
    /* escalate */ {E_, E_, NO, NO, NO, E_},
    /* resolve */ {R_, R_, NO, R_, NO, R_},
    /* inactivity_timeout */ {X_, X_, X_, X_, NO, X_},
    /* reopen */ {NO, NO, O_, O_, O_, NO},
    /* set_metadata */ {N_, A_, R_, E_, X_, O_},
};

int omni_conversation_next_status(int status, int event, int *next)
{
    if (!next || status < 0 || status >= OMNI__CONV_STATUS_COUNT || event < 0 ||
        event >= OMNI__CONV_EVENT_COUNT)
        return omni__err(OMNI_EINVAL, "conversation: unknown status or event number, or NULL "
                                      "next");
    int to = next_table[event][status];
    if (to == NO)
        return omni__err(OMNI_ETRANSITION, "conversation: %s does not apply to a conversation "
                                            "that is %s",
                         event_names[event], status_names[status]);
    *next = to;
    return OMNI_OK;
}

const char *omni_conversation_status_name(int status)
{
    return status >= 0 && status < OMNI__CONV_STATUS_COUNT ? status_names[status] : NULL;
}

const char *omni_conversation_event_name(int event)
{
    return event >= 0 && event < OMNI__CONV_EVENT_COUNT ? event_names[event] : NULL;
}

int omni__conv_name_index(const char *const *names, int count, const char *s, size_t n)
{
    for (int i = 0; i < count; i++)
        if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
            return i;
    return -1;
}

int omni__conv_status_from(const char *s, size_t n)
{
    return omni__conv_name_index(status_names, OMNI__CONV_STATUS_COUNT, s, n);
}

int omni__conv_event_from(const char *s, size_t n)
{
    return omni__conv_name_index(event_names, OMNI__CONV_EVENT_COUNT, s, n);
}

int omni_conversation_status_parse(const char *name, int *status)
{
    int i = name && status ? omni__conv_status_from(name, strlen(name)) : -1;
    if (i < 0)
        return omni__err(OMNI_EINVAL, "conversation: unknown status name");
    *status = i;
    return OMNI_OK;
}

int omni_conversation_event_parse(const char *name, int *event)
{
    int i = name && event ? omni__conv_event_from(name, strlen(name)) : -1;
    if (i < 0)
        return omni__err(OMNI_EINVAL, "conversation: unknown event name");
    *event = i;
    return OMNI_OK;
}
