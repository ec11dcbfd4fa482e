/* The opt-out ledger: one record per (account, customer) in store namespace
 * "optout", written by compare-and-swap (omni_optout_get / omni_optout_set
 * and the writes of omni_preroute_run's keyword step). */
#include <stdlib.h>
#include <string.h>

#include <omni/datetime.h>
#include <omni/omni.h>
#include <omni/preroute.h>
#include <omni/store.h>

#include "core/codec.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"
#include "preroute_internal.h"
#include "storage/store_internal.h"

#define LEDGER_ATTEMPTS 16
#define FIELD_MAX 257

int omni__pr_id_ok(const char *id, int is_account)
{
    if (!id)
        return 0;
    size_t n = strlen(id);
    if (n == 0 || n > OMNI__PR_MAX_ID)
        return 0;
    if (is_account && memchr(id, '/', n))
        return 0;
    return omni__utf8_valid(id, n, NULL); /* store keys are UTF-8 */
}

static int check_ids(const char *account_id, const char *customer_id)
{
    if (!omni__pr_id_ok(account_id, 1))
        return omni__err(OMNI_EINVAL, "optout: accountId must be 1..%d bytes of UTF-8 "
                                      "without '/'",
                         OMNI__PR_MAX_ID);
    if (!omni__pr_id_ok(customer_id, 0))
        return omni__err(OMNI_EINVAL, "optout: customerId must be 1..%d bytes of UTF-8",
                         OMNI__PR_MAX_ID);
    return OMNI_OK;
}

static void ledger_key(char *key, size_t cap, const char *account_id, const char *customer_id)
{
    size_t a = strlen(account_id), c = strlen(customer_id);
    if (a + c + 2 > cap) {
        key[0] = '\0';
        return;
    }
    memcpy(key, account_id, a);
    key[a] = '/';
    memcpy(key + a + 1, customer_id, c + 1);
}

typedef struct ledger_rec {
    char status[16];
    char keyword[FIELD_MAX], channel[FIELD_MAX], updated_at[40], message_id[FIELD_MAX];
    char message_hash[32];
    uint64_t version; /* 0: absent */
} ledger_rec;

static int corrupt(void)
{
    return omni__err_retry(OMNI_ESTORAGE, 0,
                           "optout: a stored optout record is not one libomni wrote");
}

static int ledger_read(omni_store *store, const char *key, int64_t now, ledger_rec *r)
{
    memset(r, 0, sizeof(*r));
    char *text = NULL;
    size_t len = 0;
    int rc = omni_store_get(store, OMNI__PR_NS_OPTOUT, key, now, &text, &len, &r->version, NULL);
    if (rc == OMNI_ENOTFOUND) {
        r->version = 0;
        memcpy(r->status, "opted_in", 9);
        return OMNI_OK;
    }
    if (rc)
        return rc;
    if (!omni__store_trusted(store) &&
        omni__json_validate(text, len, OMNI_STORE_MAX_VALUE, "optout record")) {
        omni_free(text);
        return corrupt();
    }
    omni__jspan root = omni__j_root(text, len);
    rc = OMNI_OK;
    if (omni__j_get_str(root, "status", r->status, sizeof(r->status)) <= 0 ||
        (strcmp(r->status, "opted_in") != 0 && strcmp(r->status, "opted_out") != 0) ||
        omni__j_get_str(root, "keyword", r->keyword, sizeof(r->keyword)) < 0 ||
        omni__j_get_str(root, "channel", r->channel, sizeof(r->channel)) < 0 ||
        omni__j_get_str(root, "updatedAt", r->updated_at, sizeof(r->updated_at)) < 0 ||
        omni__j_get_str(root, "messageId", r->message_id, sizeof(r->message_id)) < 0 ||
        omni__j_get_str(root, "messageHash", r->message_hash, sizeof(r->message_hash)) < 0)
        rc = corrupt();
    omni_free(text);
    return rc;
}

int omni__pr_optout_is_out(omni_engine *e, const char *account_id, const char *customer_id,
                           int64_t now)
{
    if (!omni__pr_id_ok(account_id, 1) || !omni__pr_id_ok(customer_id, 0))
        return 0; /* no ledger record can exist for such ids */
    char key[2 * OMNI__PR_MAX_ID + 2];
    ledger_key(key, sizeof(key), account_id, customer_id);
    ledger_rec r;
    int rc = ledger_read(e->store, key, now, &r);
    if (rc)
        return rc;
    return strcmp(r.status, "opted_out") == 0;
}

static void w_opt_str(omni_buf *b, const char *s)
{
    if (s && s[0])
        omni__json_w_str(b, s);
    else
        omni__json_w_null(b);
}

int omni__pr_optout_write(omni_engine *e, const char *account_id, const char *customer_id,
                          int opted_out, const char *keyword, const char *channel,
                          const omni__pr_msgref *msg, int64_t now, int *changed)
{
    int rc = check_ids(account_id, customer_id);
    if (rc)
        return rc;
    if ((keyword && strlen(keyword) > OMNI__PR_MAX_ID) ||
        (channel && strlen(channel) > OMNI__PR_MAX_ID))
        return omni__err(OMNI_EINVAL, "optout: keyword and channel are at most %d bytes",
                         OMNI__PR_MAX_ID);
    char key[2 * OMNI__PR_MAX_ID + 2];
    ledger_key(key, sizeof(key), account_id, customer_id);
    const char *target = opted_out ? "opted_out" : "opted_in";
    char when[OMNI_TIME_STRLEN + 1];
    if (omni_time_format(when, sizeof(when), now))
        return omni__err(OMNI_ETIME, "optout: the engine's clock is out of range");
    for (int attempt = 0; attempt < LEDGER_ATTEMPTS; attempt++) {
        ledger_rec cur;
        if ((rc = ledger_read(e->store, key, now, &cur)))
            return rc;
        if (strcmp(cur.status, target) == 0) {
            /* a retry of the message that made the change counts as the change */
            if (changed)
                *changed = msg && msg->id[0] && cur.version &&
                           strcmp(cur.message_id, msg->id) == 0 &&
                           strcmp(cur.message_hash, msg->hash) == 0;
            return OMNI_OK;
        }
        omni_buf b = OMNI_BUF_INIT;
        omni__json_w_obj_begin(&b);
        omni__json_w_keyl(&b, "accountId");
        omni__json_w_str(&b, account_id);
        omni__json_w_keyl(&b, "customerId");
        omni__json_w_str(&b, customer_id);
        omni__json_w_keyl(&b, "status");
        omni__json_w_str(&b, target);
        omni__json_w_keyl(&b, "keyword");
        w_opt_str(&b, keyword);
        omni__json_w_keyl(&b, "channel");
        w_opt_str(&b, channel);
        omni__json_w_keyl(&b, "updatedAt");
        omni__json_w_str(&b, when);
        if (msg && msg->id[0]) {
            omni__json_w_keyl(&b, "messageId");
            omni__json_w_str(&b, msg->id);
            omni__json_w_keyl(&b, "messageHash");
            omni__json_w_str(&b, msg->hash);
        }
        omni__json_w_obj_end(&b);
        if ((rc = omni__buf_status(&b))) {
            omni__buf_free(&b);
            return rc;
        }
        rc = omni__store_put_trusted(e->store, OMNI__PR_NS_OPTOUT, key, b.data, b.len,
                                     cur.version ? cur.version : OMNI_STORE_CREATE, 0, now, NULL);
        omni__buf_free(&b);
        if (rc == OMNI_OK) {
            if (changed)
                *changed = 1;
            return OMNI_OK;
        }
        if (rc != OMNI_ECONFLICT && rc != OMNI_EEXISTS)
            return rc;
    }
    return omni__err_retry(OMNI_ECONFLICT, 1,
                           "optout: the record kept changing; gave up after %d attempts",
                           LEDGER_ATTEMPTS);
}

int omni_optout_set(omni_engine *engine, const char *account_id, const char *customer_id,
                    int opted_out, const char *keyword, const char *channel, int *changed)
{
    if (!engine)
        return omni__err(OMNI_EINVAL, "optout: NULL engine");
    int c = 0;
    int rc = omni__pr_optout_write(engine, account_id, customer_id, opted_out != 0, keyword,
                                   channel, NULL, omni_engine_now_ms(engine), &c);
    if (!rc && changed)
        *changed = c;
    return rc;
}

int omni_optout_get(char **out, size_t *out_len, omni_engine *engine, const char *account_id,
                    const char *customer_id)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!out || !engine)
        return omni__err(OMNI_EINVAL, "optout: NULL argument");
    int rc = check_ids(account_id, customer_id);
    if (rc)
        return rc;
    char key[2 * OMNI__PR_MAX_ID + 2];
    ledger_key(key, sizeof(key), account_id, customer_id);
    ledger_rec r;
    if ((rc = ledger_read(engine->store, key, omni_engine_now_ms(engine), &r)))
        return rc;
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "accountId");
    omni__json_w_str(&b, account_id);
    omni__json_w_keyl(&b, "customerId");
    omni__json_w_str(&b, customer_id);
    omni__json_w_keyl(&b, "status");
    omni__json_w_str(&b, r.status);
    if (r.version) {
        omni__json_w_keyl(&b, "keyword");
        w_opt_str(&b, r.keyword);
        omni__json_w_keyl(&b, "channel");
        w_opt_str(&b, r.channel);
        omni__json_w_keyl(&b, "updatedAt");
        w_opt_str(&b, r.updated_at);
    }
    omni__json_w_obj_end(&b);
    return omni__buf_finish(&b, OMNI_OK, out, out_len);
}
