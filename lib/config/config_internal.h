/* Internal: the compiled engine configuration (include/omni/config.h), the
 * error list that validation fills, and the build context shared by the
 * files of lib/config/. */
#ifndef OMNI_CONFIG_INTERNAL_H
#define OMNI_CONFIG_INTERNAL_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include <omni/omni.h>
#include <omni/config.h>

#include "core/buf.h"

/* The longest JSON path an error names (longer ones are cut). */
#define OMNI__CFG_PATH_MAX 512

/* ---- the compiled configuration --------------------------------------------- */

typedef struct omni__cfg_account {
    char *id;
    char *json; /* omni_config_account_json */
    size_t json_len;
    omni_inbound *inbound;   /* its own (carriers), or NULL: the shared one */
    omni_outbound *outbound; /* its own, or NULL: the defaults' */
    omni_push *push;         /* its own, or NULL: the defaults' */
    char *routing;           /* the routing record apply writes */
    char *conversation;      /* conversation settings (canonical) or NULL */
} omni__cfg_account;

typedef struct omni__cfg_address {
    char *key;      /* normalized routing key */
    size_t account; /* index into accounts */
} omni__cfg_address;

typedef struct omni__cfg_template {
    char *id;
    char *input; /* the document's template, compact */
    size_t input_len;
    cJSON *expected; /* its stored form without version, createdAt, updatedAt */
} omni__cfg_template;

typedef struct omni__cfg_step {
    char *id;
    char *json; /* normalized */
    size_t len;
} omni__cfg_step;

struct omni_config {
    char *storage;
    char *transport; /* NULL: none in the document */
    size_t transport_len;
    char *engine_json;
    size_t engine_len;
    char *delivery;
    size_t delivery_len;
    omni_inbound *inbound;
    omni_preroute *preroute;
    omni_outbound *def_outbound;
    omni_push *def_push;
    omni__cfg_account *accounts;
    size_t n_accounts;
    omni__cfg_address *addresses; /* sorted by key */
    size_t n_addresses;
    omni__cfg_template *templates;
    size_t n_templates;
    omni__cfg_step *steps;
    size_t n_steps;
    char *workflow;
    size_t workflow_len;
    char *summary;
    size_t summary_len;
};

/* ---- errors ---------------------------------------------------------------------- */

typedef struct omni__cfg_error {
    char *path;
    char *message;
    const char *code; /* static */
    long line, column; /* > 0 for JSON syntax errors */
} omni__cfg_error;

typedef struct omni__cfg_errors {
    omni__cfg_error *items;
    size_t n, cap;
    size_t count; /* every error found, listed or not */
    int nomem;    /* sticky: an allocation failed */
} omni__cfg_errors;

/* Records an error at `path` (status gives the code; 0 means
 * OMNI_ECONFIG). A second error at a path that already has one is dropped.
 * Messages never hold a value of the document: only names and limits. */
void omni__cfg_error_add(omni__cfg_errors *E, const char *path, int status, const char *fmt,
                         ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Records the calling thread's last error (a component's `status`) under
 * `prefix`: its details' "path" is appended to prefix, its details'
 * "errors" (rule errors) become one error each, and the component's own
 * "<component>: <path>: " is cut from the message. map (may be NULL)
 * rewrites a component path first (into a buffer of OMNI__CFG_PATH_MAX). */
typedef void (*omni__cfg_path_map)(void *ctx, const char *in, char *out);
void omni__cfg_error_last(omni__cfg_errors *E, const char *prefix, int status,
                          omni__cfg_path_map map, void *map_ctx);
void omni__cfg_errors_free(omni__cfg_errors *E);
/* Writes the errors as a JSON array. */
void omni__cfg_errors_write(omni_buf *b, const omni__cfg_errors *E);
/* Sets the last error: OMNI_ECONFIG with the details of config.h. */
int omni__cfg_errors_raise(const omni__cfg_errors *E);

/* prefix + "." + rest (no dot before "[" or for an empty part). */
void omni__cfg_path(char *out, const char *prefix, const char *rest);
void omni__cfg_path_index(char *out, const char *prefix, size_t i);

/* ---- a set of names (for the summary) ------------------------------------------- */

typedef struct omni__cfg_names {
    char **items;
    size_t n, cap;
} omni__cfg_names;

/* Adds a copy unless present; 0 or OMNI_ENOMEM. */
int omni__cfg_names_add(omni__cfg_names *s, const char *name);
void omni__cfg_names_free(omni__cfg_names *s);
/* Writes a sorted JSON array of the names. */
void omni__cfg_names_write(omni_buf *b, const omni__cfg_names *s);

/* ---- the build ------------------------------------------------------------------- */

typedef struct omni__cfg_acc_build {
    const cJSON *item;
    int usable;                /* an object with a valid, unique accountId */
    size_t cfg_index;          /* its index in cfg->accounts (when usable) */
    const cJSON *preroute;     /* its pre-route members (built), or NULL */
    omni__cfg_names carriers;  /* its inbound carriers (own and shared) */
} omni__cfg_acc_build;

typedef struct omni__cfg_build {
    omni_config *cfg;
    omni__cfg_errors errs;
    cJSON *root;
    omni_engine *scratch; /* a memory engine for checks that need one */
    const cJSON *sec_inbound, *sec_defaults, *sec_accounts, *sec_templates, *sec_analyzer,
        *sec_delivery, *sec_workflow, *sec_storage, *sec_transport;
    cJSON *inbound_resolved; /* "inbound" with its secrets read (wiped when freed) */
    int inbound_ok;
    int analyzer_ok;
    omni__cfg_acc_build *acc; /* one per element of "accounts" (up to the limit) */
    size_t n_acc;
    cJSON *pr_defaults;  /* the defaults' pre-route members */
    cJSON *pr_templates; /* the pre-route's "templates" made from "templates" */
    struct omni__cfg_addr_tmp *addr; /* every address seen, in document order */
    size_t n_addr, addr_cap;
    /* summary */
    size_t n_addresses_seen, n_templates_seen;
    omni__cfg_names carriers, outbound, push, steps;
} omni__cfg_build;

/* Members shared by DEFAULTS and ACCOUNT that go to the pre-route. */
extern const char *const omni__cfg_preroute_members[];

/* Each returns OMNI_OK or OMNI_ENOMEM (every other problem is recorded in
 * B->errs). */
int omni__cfg_inbound(omni__cfg_build *B);
int omni__cfg_defaults(omni__cfg_build *B);
int omni__cfg_accounts(omni__cfg_build *B);
int omni__cfg_templates(omni__cfg_build *B);
int omni__cfg_preroute(omni__cfg_build *B);
int omni__cfg_workflow(omni__cfg_build *B);
/* After a build without errors: account JSONs and the address index. */
int omni__cfg_accounts_finish(omni__cfg_build *B);
/* Releases what accounts.c keeps in B. */
void omni__cfg_accounts_free(omni__cfg_build *B);

/* SECRET values ({"env": "NAME"}) of carrier settings read in place into a
 * copy; errors recorded under `path`. *out is NULL when the input is not
 * an object. */
int omni__cfg_resolve_carriers(omni__cfg_build *B, const cJSON *carriers, const char *path,
                               cJSON **out);
/* Overwrites every string of a tree, then deletes it. */
void omni__cfg_wipe_delete(cJSON *item);

/* Unknown members of obj (an object) against a NULL-terminated list:
 * recorded as errors. */
void omni__cfg_only_members(omni__cfg_build *B, const cJSON *obj, const char *path,
                            const char *const *allowed);
/* Is `name` in the NULL-terminated list? */
int omni__cfg_in_list(const char *name, const char *const *list);

/* 1..128 bytes of [A-Za-z0-9._:@+-] (routing ids). */
int omni__cfg_plain_id(const char *s);

/* A routing key normalized (see omni_config_account); 0, or -1 when it is
 * no address. cap >= 200. */
int omni__cfg_routing_key(char *out, size_t cap, const char *key);

#endif
