/* Internal: the built-in carrier adapters' interface and the normalized
 * event writer they share. One file per carrier (lib/carriers/<name>.c)
 * defines one `const omni__carrier omni__carrier_<name>`; registry.c lists
 * them. inbound.c owns configuration, URL reconstruction, size limits and
 * the result document; adapters only verify and parse. */
#ifndef OMNI_CARRIERS_INTERNAL_H
#define OMNI_CARRIERS_INTERNAL_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include <omni/omni.h>
#include <omni/carrier.h>

#include "lib/core/buf.h"
#include "lib/core/codec.h"

/* What an adapter gets for one request. */
typedef struct omni__carrier_req {
    const omni_webhook *req;
    const char *method;     /* "GET", "POST", ... */
    const char *public_url; /* the full URL the carrier signed (scheme://host[:port]/path?query) */
    const char *body;       /* NUL-terminated for convenience */
    size_t body_len;
    const cJSON *settings;  /* the carrier's object in the configuration, or NULL */
    int64_t now_ms;         /* from the engine's clock */
    const omni_engine *engine;
    /* Appended (carriers-a): */
    const void *state;          /* what the adapter's compile() made, or NULL */
    const char *default_region; /* configuration "defaultRegion" ("US"), or NULL */
    struct omni__carrier_scratch *scratch; /* per-request cache (omni__carrier_form/json) */
} omni__carrier_req;

/* Where parse writes events and the answer to the carrier. */
typedef struct omni__events omni__events;

typedef struct omni__carrier {
    const char *name;
    /* OMNI_OK or an error (OMNI_ESIGNATURE for a missing or wrong signature)
     * with the last error set; constant-time comparisons only. Called first,
     * and only when the carrier has settings that do not say "verify":
     * false (inbound.c answers OMNI_ESIGNATURE itself without settings). */
    int (*verify)(const omni__carrier_req *r);
    /* Appends zero or more events; OMNI_OK or OMNI_EWEBHOOK (malformed) with
     * the last error set. May set the response (omni__events_respond). */
    int (*parse)(const omni__carrier_req *r, omni__events *ev);
    /* Optional (may be left out of an initializer): checks the carrier's
     * settings object when the configuration is compiled (OMNI_OK, or
     * OMNI_ECONFIG through omni__carrier_bad_setting) and may precompute
     * what verify needs (keys, digests) into *state, handed to every call as
     * r->state and released with state_free. Without compile, inbound.c
     * only checks that the settings are an object whose "verify" is a
     * boolean. */
    int (*compile)(const cJSON *settings, void **state);
    void (*state_free)(void *state);
} omni__carrier;

/* A normalized inbound message (the IdentityLookupEvent's fields). All
 * strings are borrowed for the duration of omni__event_message; NULL means
 * absent. */
typedef struct omni__media {
    const char *url;          /* Twilio, Bandwidth, MessageBird, Inteliquent */
    const char *id;           /* WhatsApp media id */
    const char *content_type; /* MIME type */
    const char *caption;
    const char *filename;
    const char *sha256;
} omni__media;

typedef struct omni__message {
    const char *channel_type;       /* "sms" | "mms" | "chat" | "voice" */
    const char *sender_phone;       /* E.164 where the carrier gives a number */
    const char *sender_user_id;
    const char *sender_session_id;
    const char *sender_email;
    const char *sender_name;        /* profile name, when the carrier gives one */
    const char *recipient_phone;
    const char *recipient_short_code;
    const char *recipient_business_id;
    const char *message_id;         /* the carrier's message id (required) */
    const char *content;            /* text, caption, or "" */
    const char *content_type;       /* "text" | "media" | "location" | "contact" */
    int64_t timestamp_ms;           /* when the carrier received it */
    const omni__media *media;
    size_t media_count;
    const cJSON *location;          /* {latitude, longitude, name?, address?} or NULL */
    const cJSON *contacts;          /* array, or NULL */
    const char *reply_id;           /* interactive / button reply */
    const char *reply_title;
    const char *reaction_message_id;
    const char *reaction_emoji;
    const char *context_message_id; /* the message this one replies to */
    const cJSON *extra;             /* an object whose members are copied into the
                                     * event as they are (names of the standard
                                     * members are skipped) */
} omni__message;

typedef struct omni__status_event {
    const char *carrier_message_id;
    const char *status; /* queued|sent|delivered|read|failed|undelivered */
    const char *error_code;
    const char *error_message;
    const char *recipient;
    int64_t timestamp_ms;
} omni__status_event;

/* Writers. rawPayload: the request body parsed as JSON when it is JSON, or
 * for form bodies an object of the form fields (repeated names: arrays). The
 * writer derives correlationId = UUIDv5(carrier + ":" + message id). */
int omni__event_message(omni__events *ev, const omni__carrier_req *r, const omni__message *m,
                        const cJSON *raw_payload);
int omni__event_status(omni__events *ev, const omni__carrier_req *r,
                       const omni__status_event *s);
/* The HTTP answer the host should give the carrier (default: 200, empty). */
int omni__events_respond(omni__events *ev, int status, const char *content_type,
                         const char *body);
/* Sets the rawPayload of the following events written with raw_payload
 * NULL to the object of these decoded form fields (a form body, or the
 * query of a GET webhook). Without it, raw_payload NULL means the request
 * body: a JSON body is copied (minified), a form body decoded. */
struct omni__pairs;
int omni__events_raw_pairs(omni__events *ev, const struct omni__pairs *pairs);

/* Shared helpers for adapters. */
/* Reads the settings' string member, or NULL. */
const char *omni__carrier_setting(const omni__carrier_req *r, const char *name);
/* 1 when the settings say {"verify": false}. */
int omni__carrier_verify_off(const omni__carrier_req *r);
/* Standard errors with consistent messages (never a secret). */
int omni__carrier_bad_signature(const char *carrier, const char *why);
int omni__carrier_malformed(const char *carrier, const char *why);
/* OMNI_ECONFIG with details {"path": "carriers.<carrier>.<member>"}. */
int omni__carrier_bad_setting(const char *carrier, const char *member, const char *why);

/* The request body decoded once per request and shared by verify and
 * parse (the cache lives in r->scratch). omni__carrier_form: the body as
 * form fields (POST) or the URL's query (GET); omni__carrier_json: the
 * body parsed as JSON (limits of omni__json_parse). Both return OMNI_OK, or
 * OMNI_EWEBHOOK with the last error set (naming `carrier`). The results
 * are borrowed until the request is done. */
int omni__carrier_form(const omni__carrier_req *r, const char *carrier,
                       const struct omni__pairs **out);
int omni__carrier_json(const omni__carrier_req *r, const char *carrier, const cJSON **out);
/* The query string of the request's URL (as received, without '?'),
 * decoded into pairs; cached like omni__carrier_form. */
int omni__carrier_query(const omni__carrier_req *r, const char *carrier,
                        const struct omni__pairs **out);

/* A carrier address as E.164 (omni_phone_to_e164): accepts "+14155550100"
 * and the "tel:", "sms:", "whatsapp:" and "wa:" prefixes; digits without
 * '+' are a national number of r->default_region when one is configured,
 * else international digits (a WhatsApp wa_id: prepend '+' yourself, as it
 * is always international). Returns 1
 * and fills out (OMNI_E164_STRLEN bytes) when it is a phone number, 0 when
 * it is not (a short code, an alphanumeric sender, a user id); may then
 * leave omni_phone_to_e164's error as the last error (not a failure). */
int omni__carrier_e164(char *out, const omni__carrier_req *r, const char *address);
/* 1 when s is a short code: 3 to 8 digits. */
int omni__carrier_is_short_code(const char *s);

/* HMAC with a key prepared once (when the configuration is compiled):
 * the inner and outer digest states after the padded key are kept, so a
 * request costs two digest-state copies instead of fetching the digest
 * and hashing the key blocks. A key may be used by many threads at once
 * (each omni__hmac has its own context). hash: OMNI_HASH_SHA1 or
 * OMNI_HASH_SHA256. */
typedef struct omni__hmac_key omni__hmac_key;
int omni__hmac_key_new(omni__hmac_key **out, int hash, const void *key, size_t key_len);
void omni__hmac_key_free(omni__hmac_key *key);
/* The digest (SHA-1 / SHA-256) fetched for this key, for plain hashing. */
size_t omni__hmac_key_size(const omni__hmac_key *key);

typedef struct omni__hmac {
    void *ctx; /* EVP_MD_CTX */
    const omni__hmac_key *key;
    int failed;
} omni__hmac;
/* init allocates the context once; begin (re)starts a MAC with the key;
 * update never fails loudly (failure is sticky); final writes the MAC
 * (omni__hmac_key_size bytes) and returns OMNI_OK or OMNI_ECRYPTO (last
 * error not set); release frees the context. */
int omni__hmac_init(omni__hmac *h, const omni__hmac_key *key);
void omni__hmac_begin(omni__hmac *h);
void omni__hmac_update(omni__hmac *h, const void *data, size_t len);
int omni__hmac_final(omni__hmac *h, uint8_t *out);
void omni__hmac_release(omni__hmac *h);

/* Decodes 2n hex digits (either case) into n bytes: 1, or 0 if malformed. */
int omni__hex_decode(uint8_t *out, const char *hex, size_t n);

/* Sorts idx[0..n) (indices into p->items) by name bytes, then, when
 * by_value, by value bytes, then by index (stable); O(n log n). tmp is
 * scratch space of n entries. */
void omni__pairs_sort(size_t *idx, size_t *tmp, size_t n, const struct omni__pairs *p,
                      int by_value);

/* ---- for inbound.c and events.c only ---------------------------------- */

typedef struct omni__uuid_ns omni__uuid_ns;

struct omni__events {
    omni_buf *out;           /* the result document under construction */
    const char *carrier;     /* the carrier's name */
    size_t count;            /* events written */
    size_t max_events;
    int resp_status;         /* 200 by default */
    char *resp_content_type; /* NULL: no Content-Type */
    char *resp_body;         /* NULL: empty */
    omni_buf raw;            /* the cached rawPayload text */
    int raw_state;           /* 0 not built, 1 built from pairs or the body */
    const omni__carrier_req *req;
    const omni__uuid_ns *ns; /* the correlationId namespace, prepared; may be NULL */
    void *md;                /* an EVP_MD_CTX reused for correlation ids */
};

struct omni_event_sink {
    omni__events *ev;
};

/* Begins the "events" array in out; omni__events_end closes it. */
void omni__events_begin(omni__events *ev, omni_buf *out, const char *carrier,
                        const omni__carrier_req *r, const omni__uuid_ns *ns);
void omni__events_end(omni__events *ev);
/* Writes the "response" member. */
void omni__events_write_response(omni__events *ev);
void omni__events_free(omni__events *ev);

struct omni__carrier_scratch {
    struct omni__pairs form;  /* valid when has_form */
    int has_form;
    struct omni__pairs query; /* valid when has_query */
    int has_query;
    cJSON *json;              /* NULL until parsed */
};
#define OMNI__CARRIER_SCRATCH_INIT {{NULL, 0, NULL}, 0, {NULL, 0, NULL}, 0, NULL}
void omni__carrier_scratch_free(struct omni__carrier_scratch *s);

/* correlationId = UUIDv5(OMNI_CARRIER_MESSAGE_NAMESPACE, carrier ":" id).
 * omni__uuid_ns is the SHA-1 state after the namespace bytes, prepared
 * once per omni_inbound (shareable between threads); ns NULL computes it
 * through omni_uuid5. md: an EVP_MD_CTX to reuse (*md NULL: allocated and
 * left for the caller to free with omni__uuid_md_free). */
int omni__uuid_ns_new(omni__uuid_ns **out);
void omni__uuid_ns_free(omni__uuid_ns *ns);
void omni__uuid_md_free(void *md);
int omni__correlation_id(char out[OMNI_UUID_STRLEN], const char *carrier, const char *message_id,
                         const omni__uuid_ns *ns, void **md);

/* ---- the registry (registry.c; used by inbound.c) ---------------------- */

#define OMNI__CARRIER_NAME_MAX 32

typedef struct omni__carrier_entry {
    char name[OMNI__CARRIER_NAME_MAX + 1];
    const omni__carrier *builtin; /* NULL for a host adapter */
    omni_carrier_adapter host;    /* a host adapter's table (host.name = name) */
} omni__carrier_entry;

struct omni_carriers {
    omni__carrier_entry *items;
    size_t count;
};

/* The entry of that name, or NULL. */
const omni__carrier_entry *omni__carriers_find(const omni_carriers *registry, const char *name);
/* A copy of src (NULL: the built-ins only). OMNI_OK or OMNI_ENOMEM. */
int omni__carriers_copy(omni_carriers **out, const omni_carriers *src);

/* The built-in adapters. */
extern const omni__carrier omni__carrier_twilio;
extern const omni__carrier omni__carrier_whatsapp;
extern const omni__carrier omni__carrier_bandwidth;
extern const omni__carrier omni__carrier_messagebird;
extern const omni__carrier omni__carrier_livechat;
extern const omni__carrier omni__carrier_inteliquent;

#endif
