/* Internal: the conversation store layout (namespaces, keys, records) and
 * the record helpers shared by the step (step.c) and the queries
 * (query.c). */
#ifndef OMNI_CONVERSATION_RECORDS_H
#define OMNI_CONVERSATION_RECORDS_H

#include <omni/store.h>

#include "conversation_internal.h"

#define OMNI__NS_CONVERSATION "conversation"
#define OMNI__NS_CONVERSATION_ID "conversation_id"
#define OMNI__NS_MESSAGE "message"
#define OMNI__NS_MESSAGE_REF "message_ref"
#define OMNI__NS_SETTINGS "conversation_settings"
#define OMNI__NS_PARKED "delivery_parked"

/* A record read from the store (text released with omni_free). */
typedef struct omni__stored {
    char *text;
    size_t len;
    uint64_t version;
} omni__stored;

/* The members of a message record that the step and the queries use. */
typedef struct omni__msg {
    char message_id[OMNI__CONV_ID_MAX + 1];
    char conversation_id[OMNI__CONV_ID_MAX + 1];
    int64_t seq;
    char direction[16];
    char carrier[OMNI__CONV_CHANNEL_MAX + 1];
    char carrier_message_id[OMNI__CONV_MSGID_MAX + 1];
    char delivery_status[16];
    int64_t created_at;
} omni__msg;

/* Storage failures become DATABASE_ERROR (retryable) keeping the hook's
 * message; out of memory, conflicts and DATABASE_ERROR stay as they are. */
int omni__conv_db_error(int rc, const char *what);
/* A record that libomni did not write: DATABASE_ERROR, not retryable. */
int omni__conv_corrupt(const char *ns);

/* Reads and validates a record: OMNI_OK, OMNI_ENOTFOUND, or an error as
 * omni__conv_db_error / omni__conv_corrupt. */
int omni__conv_load(omni_store *store, const char *ns, const char *key, int64_t now,
                    omni__stored *out);
/* Reads a conversation record (by its key) into c; c->last_message points
 * into st->text. */
int omni__conv_load_conversation(omni_store *store, const char *key, int64_t now,
                                 omni__stored *st, omni__conv *c);

/* "<conversationId>/<seq, 12 digits>" */
void omni__conv_message_key(char *out, size_t cap, const char *conversation_id, int64_t seq);
/* "<in|out>/<carrier>/<carrier message id>" (direction "inbound"/"outbound") */
void omni__conv_ref_key(char *out, size_t cap, const char *direction, const char *carrier,
                        const char *carrier_message_id);
/* Reads a message record's members; OMNI_EINVAL (no last error) when one
 * is missing or malformed. */
int omni__conv_msg_read(omni__msg *m, omni__jspan rec);

/* Writes out the pending message of c (its reference and message records)
 * through the engine's store unless its message record exists already. An
 * outbound message written out gets the statuses parked for it
 * (omni__conv_apply_parked); their change events are appended to
 * parked_events (comma-separated elements; NULL: dropped). */
int omni__conv_flush_pending(omni_engine *engine, const omni__conv *c, int64_t now,
                             int64_t ref_ttl_ms, omni_buf *parked_events);

/* Finds a conversation by id: its record (st, c) and its key. Sets the
 * last error: OMNI_ENOTFOUND, or as omni__conv_load. */
int omni__conv_find(omni_store *store, const char *id, int64_t now, char *key, size_t key_cap,
                    omni__stored *st, omni__conv *c);

/* Applies the delivery statuses parked for the carrier's message id
 * (delivery.c) once an outbound reference "out/<carrier>/<id>" exists, in
 * the order they arrived, and deletes them. Their change events are
 * appended to events (comma-separated elements; NULL: dropped). OMNI_OK
 * when nothing is parked, or the reference or its message record is not
 * there yet (the statuses stay parked). */
int omni__conv_apply_parked(omni_engine *engine, const char *carrier,
                            const char *carrier_message_id, int64_t now, omni_buf *events);

/* Deletes the reference records of a message record (rec, read into m):
 * its stepped id, its current carrier id and every attached one, each only
 * while it names that message. */
int omni__conv_refs_delete(omni_store *store, omni__jspan rec, const omni__msg *m, int64_t now);

/* An account's settings (defaults where it has none), as this engine read
 * them within the last second. */
int omni__conv_account_settings(omni_engine *e, const char *account_id, int64_t now,
                                int64_t *timeout_ms, int64_t *dedupe_ms, int *has_timeout,
                                int *has_dedupe);
/* Drops this engine's copy of an account's settings (after it wrote them). */
void omni__conv_settings_forget(omni_engine *e, const char *account_id);

/* Reads settings or options ({"inactivityTimeoutMs", "dedupeWindowMs"}, and
 * "maxAttempts" when attempts is not NULL) from validated text. */
int omni__conv_settings_read(const char *json, size_t len, int64_t *timeout_ms,
                             int64_t *dedupe_ms, int *has_timeout, int *has_dedupe,
                             int64_t *attempts, const char *what);

#endif
