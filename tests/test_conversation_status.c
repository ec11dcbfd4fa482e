/* The conversation state machine's table: every cell against the table
 * documented in include/omni/conversation.h (read from the header at test
 * time, so code and documentation cannot drift apart), names, parsing and
 * errors. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#define N_STATUS 6
#define N_EVENT 11

static char *read_header(void)
{
    const char *src = getenv("OMNI_SOURCE_DIR");
    cr_assert_not_null(src, "OMNI_SOURCE_DIR is not set");
    char path[4096];
    snprintf(path, sizeof(path), "%s/include/omni/conversation.h", src);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    cr_assert_not_null(text);
    cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

Test(conversation_status, table_matches_the_documented_table)
{
    char *h = read_header();
    const char *t = strstr(h, "event \\ status");
    cr_assert_not_null(t, "the documented table is missing");
    t = strchr(t, '\n') + 1;
    int rows = 0;
    for (int e = 0; e < N_EVENT; e++) {
        /* " *   inbound_message     active    active ..." */
        char line[256];
        const char *nl = strchr(t, '\n');
        size_t len = (size_t)(nl - t);
        cr_assert_lt(len, sizeof(line));
        memcpy(line, t, len);
        line[len] = '\0';
        t = nl + 1;
        char *save = NULL;
        char *tok = strtok_r(line, " *", &save);
        cr_assert_not_null(tok);
        int ev = -1;
        cr_assert_eq(omni_conversation_event_parse(tok, &ev), OMNI_OK, "row %s", tok);
        cr_assert_eq(ev, e, "rows in enum order: %s", tok);
        for (int st = 0; st < N_STATUS; st++) {
            char *cell = strtok_r(NULL, " ", &save);
            cr_assert_not_null(cell, "row %s has too few cells", tok);
            int next = -7;
            int rc = omni_conversation_next_status(st, ev, &next);
            if (strcmp(cell, "-") == 0) {
                cr_assert_eq(rc, OMNI_ETRANSITION, "%s in %s should be refused", tok,
                             omni_conversation_status_name(st));
                cr_assert_eq(next, -7, "next is not written on a refusal");
                cr_assert_str_eq(omni_error_last_code(), "INVALID_TRANSITION");
                cr_assert_not_null(strstr(omni_error_last_message(), tok));
            } else {
                cr_assert_eq(rc, OMNI_OK, "%s in %s", tok, omni_conversation_status_name(st));
                cr_assert_str_eq(omni_conversation_status_name(next), cell, "%s in %s", tok,
                                 omni_conversation_status_name(st));
            }
        }
        cr_assert_null(strtok_r(NULL, " ", &save), "row %s has too many cells", tok);
        rows++;
    }
    cr_assert_eq(rows, N_EVENT);
    free(h);
}

Test(conversation_status, names_round_trip)
{
    static const char *const statuses[] = {"new",       "active",  "resolved",
                                           "escalated", "expired", "reopened"};
    for (int i = 0; i < N_STATUS; i++) {
        cr_assert_str_eq(omni_conversation_status_name(i), statuses[i]);
        int v = -1;
        cr_assert_eq(omni_conversation_status_parse(statuses[i], &v), OMNI_OK);
        cr_assert_eq(v, i);
    }
    for (int i = 0; i < N_EVENT; i++) {
        const char *name = omni_conversation_event_name(i);
        cr_assert_not_null(name);
        int v = -1;
        cr_assert_eq(omni_conversation_event_parse(name, &v), OMNI_OK);
        cr_assert_eq(v, i);
    }
    cr_assert_null(omni_conversation_status_name(-1));
    cr_assert_null(omni_conversation_status_name(N_STATUS));
    cr_assert_null(omni_conversation_event_name(-1));
    cr_assert_null(omni_conversation_event_name(N_EVENT));
    cr_assert_eq(OMNI_CONVERSATION_REOPENED, 5);
    cr_assert_eq(OMNI_CONVERSATION_SET_METADATA, 10);
}

Test(conversation_status, parse_errors)
{
    int v = 42;
    static const char *const bad[] = {"", "Active", "active ", "resolve", "inbound", "NEW"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(omni_conversation_status_parse(bad[i], &v), OMNI_EINVAL, "%s", bad[i]);
        cr_assert_eq(v, 42);
    }
    cr_assert_eq(omni_conversation_event_parse("reopened", &v), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_event_parse("Resolve", &v), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_status_parse(NULL, &v), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_status_parse("new", NULL), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_event_parse(NULL, &v), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_event_parse("resolve", NULL), OMNI_EINVAL);
    cr_assert_eq(v, 42);
}

Test(conversation_status, next_status_errors)
{
    int next = 9;
    cr_assert_eq(omni_conversation_next_status(-1, 0, &next), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_next_status(N_STATUS, 0, &next), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_next_status(0, -1, &next), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_next_status(0, N_EVENT, &next), OMNI_EINVAL);
    cr_assert_eq(omni_conversation_next_status(0, 0, NULL), OMNI_EINVAL);
    cr_assert_eq(next, 9);
    cr_assert_str_eq(omni_error_last_code(), "INVALID_ARGUMENT");
    /* the refusal names the event and the status in words */
    cr_assert_eq(omni_conversation_next_status(OMNI_CONVERSATION_ACTIVE,
                                               OMNI_CONVERSATION_REOPEN, &next),
                 OMNI_ETRANSITION);
    cr_assert_str_eq(omni_error_last_message(),
                     "conversation: reopen does not apply to a conversation that is active");
    cr_assert_eq(omni_error_last_retryable(), 0);
}
