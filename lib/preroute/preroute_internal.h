/* Internal: the compiled pre-routing configuration and the pieces of one
 * run shared by config.c, autorespond.c, optout_ledger.c and run.c. */
#ifndef OMNI_PREROUTE_PREROUTE_INTERNAL_H
#define OMNI_PREROUTE_PREROUTE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <omni/analyze.h>
#include <omni/preroute.h>
#include <omni/rules.h>
#include <omni/template.h>

#include "core/buf.h"
#include "core/json_span.h"
#include "rules/hours.h"
#include "rules/optout.h"

#define OMNI__PR_NS_AUTORESPONSE "autoresponse"
#define OMNI__PR_NS_OPTOUT "optout"
#define OMNI__PR_MAX_ID 256   /* account, customer, conversation ids */
#define OMNI__PR_MAX_LANG 35  /* a language tag */
#define OMNI__PR_DEFAULT_WINDOW_MS (86400LL * 1000)
#define OMNI__PR_MAX_WINDOW_S (10LL * 366 * 86400)
#define OMNI__PR_MAX_WORDS 200 /* vipTags / urgencyWords entries */

/* A template in every language it was given in. */
typedef struct omni__pr_tlang {
    char lang[OMNI__PR_MAX_LANG + 1];
    omni_template *t;
} omni__pr_tlang;

typedef struct omni__pr_template {
    char *id;
    size_t n;
    omni__pr_tlang *langs;
} omni__pr_template;

typedef struct omni__pr_auto {
    int enabled;
    const omni__pr_template *tmpl; /* NULL when not enabled */
} omni__pr_auto;

/* The last answer of omni__hours_at of an account, valid for instants in
 * [from, until): business hours take microseconds to evaluate, the answer
 * holds until the next opening or closing. */
typedef struct omni__pr_hcache {
    pthread_mutex_t mu;
    int valid, open;
    int64_t from, until;
} omni__pr_hcache;

/* One account, with the defaults' members filled in. */
typedef struct omni__pr_account {
    char *account_id; /* NULL: the defaults */
    char time_zone[65];
    char locale[OMNI__PR_MAX_LANG + 1];
    omni__hours *hours; /* NULL: always open */
    omni__pr_hcache *hcache; /* for hours */
    omni_rules *rules;  /* NULL: no rules */
    omni__optout *optout;
    omni_analyzer *analyzer; /* the account's, the defaults' or the top-level one */
    int own_hours, own_rules, own_optout, own_analyzer; /* else shared */
    omni__pr_auto greeting, away, ack;
    int64_t window_ms; /* 0: no limit */
    const omni__pr_template *confirm_stop, *confirm_start, *confirm_help;
    char **vip_tags;
    size_t n_vip;
    char **urgency; /* normalized as omni__optout_normalize does */
    size_t n_urgency;
    char *dest_type, *dest_id, *dest_name, *dest_metadata; /* metadata: JSON */
} omni__pr_account;

struct omni_preroute {
    omni__pr_account defaults;
    omni__pr_account *accounts;
    size_t n_accounts;
    uint32_t *table; /* open addressing: account index + 1, 0 empty */
    size_t table_cap;
    omni__pr_template *templates;
    size_t n_templates;
    omni_analyzer *analyzer;
};

/* Whether the account is open at now_ms (1 without business hours). */
int omni__pr_open(const omni__pr_account *acc, int64_t now_ms);

/* The account for an id (the defaults when not listed). */
const omni__pr_account *omni__pr_account_find(const omni_preroute *p, const char *id);

/* The language of a template to use: the first it has of the candidates
 * (NULL entries skipped; an exact tag first, then its primary subtag),
 * "en", else its first. */
const omni__pr_tlang *omni__pr_template_lang(const omni__pr_template *t,
                                             const char *const *candidates, size_t n);

/* ---- the auto-responder (autorespond.c) ----------------------------------- */

/* What the loop guard needs of a message. */
typedef struct omni__pr_guard {
    int outbound;       /* message.direction "outbound" */
    int from_automaton; /* bot or agent sender, auto-generated message */
} omni__pr_guard;

/* The loop guard facts of the message span and identity.customerType. */
void omni__pr_guard_read(omni__pr_guard *g, omni__jspan message, omni__jspan customer_type);

/* Identifies a message for retries: its id and a hash of its content; a
 * retry is the same id with the same content. */
typedef struct omni__pr_msgref {
    const char *id; /* "" when the event has none: no retry detection */
    char hash[17];  /* FNV-1a 64 of the content, hex */
} omni__pr_msgref;

void omni__pr_msgref_init(omni__pr_msgref *m, const char *id, const char *content, size_t len);

/* Claims the auto-response window of a conversation: 1 when this message may
 * be answered (the record was created, or it was created for this same
 * message before: a retry), 0 when another response is within the window,
 * or a negative status (last error set). */
int omni__pr_window_claim(omni_engine *e, const omni__pr_account *acc, const char *conversation_id,
                          const char *account_id, const omni__pr_msgref *msg,
                          const char *response_type, const char *template_id, int64_t now);

/* ---- the opt-out ledger (optout_ledger.c) ---------------------------------- */

/* Sets the status of (account, customer) by compare-and-swap. *changed: 1
 * when the status changed (or the record shows this same message changed it
 * before: a retry), else 0. msg / keyword / channel may be NULL. Validates
 * the ids (OMNI_EINVAL). */
int omni__pr_optout_write(omni_engine *e, const char *account_id, const char *customer_id,
                          int opted_out, const char *keyword, const char *channel,
                          const omni__pr_msgref *msg, int64_t now, int *changed);

/* 1 when the ledger says (account, customer) opted out, 0 when not (or the
 * ids cannot have a record), or a negative status from the store. */
int omni__pr_optout_is_out(omni_engine *e, const char *account_id, const char *customer_id,
                           int64_t now);

/* 1 when an id is usable in the ledger (1..256 bytes of UTF-8; accountId
 * without '/'), else 0. */
int omni__pr_id_ok(const char *id, int is_account);

#endif
