/* The rule engine's results: the decision of a list of matched rules
 * (seed 001's resolveDestination, tags, priority, block, escalate,
 * auto_respond, stop) and the JSON of omni_rules_eval / _eval_data with the
 * optional explanation of every matched rule. */
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>
#include <omni/rules.h>

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/json.h"
#include "../template/template_internal.h"
#include "rules_internal.h"

static const char *const level_names[] = {NULL, "low", "normal", "high", "urgent"};

void omni__rules_decide(const omni_rules *r, const uint32_t *idx, size_t n,
                        omni__rules_decision *d)
{
    memset(d, 0, sizeof(*d));
    if (!r || (!idx && n))
        return;
    for (size_t i = 0; i < n; i++) {
        if (idx[i] >= r->nrules)
            continue;
        const rr_rule *rule = &r->rules[idx[i]];
        for (uint32_t k = 0; k < rule->act_n; k++) {
            const rr_action *a = &r->actions[rule->act_off + k];
            switch (a->type) {
            case RR_A_AGENT:
            case RR_A_QUEUE:
            case RR_A_BOT:
                if (!d->has_destination) {
                    d->has_destination = 1;
                    d->dest_type = a->dest_type;
                    d->dest_id = a->id;
                    d->dest_name = a->name;
                    d->dest_metadata_json = a->metadata ? a->metadata : "{}";
                }
                if (a->priority && !d->priority)
                    d->priority = a->priority;
                break;
            case RR_A_TAG: {
                int seen = 0;
                for (size_t t = 0; t < d->tag_count && !seen; t++)
                    seen = strcmp(d->tags[t], a->id) == 0;
                if (!seen && d->tag_count < OMNI__RULES_DECISION_MAX_TAGS)
                    d->tags[d->tag_count++] = a->id;
                break;
            }
            case RR_A_PRIORITY:
                if (!d->priority)
                    d->priority = a->priority;
                break;
            case RR_A_AUTO:
                if (!d->auto_respond_template) {
                    d->auto_respond_template = a->id;
                    d->auto_respond_rule = rule->id;
                }
                break;
            case RR_A_BLOCK: d->block = 1; break;
            case RR_A_ESCALATE: d->escalate = 1; break;
            case RR_A_STOP:
                if (!d->stopped_by)
                    d->stopped_by = rule->id;
                break;
            default: break;
            }
        }
    }
}

/* Every add_tag value in match order, first occurrences only (a hash set
 * when there are many). */
static int write_tags(omni_buf *b, const omni_rules *r, const uint32_t *idx, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const rr_rule *rule = &r->rules[idx[i]];
        for (uint32_t k = 0; k < rule->act_n; k++)
            total += r->actions[rule->act_off + k].type == RR_A_TAG;
    }
    const char **seen = NULL;
    size_t cap = 16;
    while (cap < total * 2)
        cap *= 2;
    if (total) {
        seen = calloc(cap, sizeof(*seen));
        if (!seen)
            return OMNI_ENOMEM;
    }
    omni__json_w_keyl(b, "tags");
    omni__json_w_arr_begin(b);
    for (size_t i = 0; i < n; i++) {
        const rr_rule *rule = &r->rules[idx[i]];
        for (uint32_t k = 0; k < rule->act_n; k++) {
            const rr_action *a = &r->actions[rule->act_off + k];
            if (a->type != RR_A_TAG)
                continue;
            size_t len = strlen(a->id), h = omni__rr_fnv(a->id, len) & (cap - 1);
            int dup = 0;
            while (seen[h]) {
                if (strcmp(seen[h], a->id) == 0) {
                    dup = 1;
                    break;
                }
                h = (h + 1) & (cap - 1);
            }
            if (dup)
                continue;
            seen[h] = a->id;
            omni__json_w_str(b, a->id);
        }
    }
    omni__json_w_arr_end(b);
    free(seen);
    return OMNI_OK;
}

static int build(char **out, size_t *out_len, const omni_rules *r, const omni_value *root,
                 int64_t now_ms, unsigned flags)
{
    rr_eval *ev;
    const uint32_t *m;
    size_t n;
    int st = omni__rr_match_value(r, root, now_ms, &ev, &m, &n);
    if (st)
        return st;
    omni__rules_decision d;
    omni__rules_decide(r, m, n, &d);
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "matched");
    omni__json_w_arr_begin(&b);
    for (size_t i = 0; i < n; i++)
        omni__json_w_raw(&b, r->rules[m[i]].id_json, strlen(r->rules[m[i]].id_json));
    omni__json_w_arr_end(&b);
    omni__json_w_keyl(&b, "actions");
    omni__json_w_arr_begin(&b);
    for (size_t i = 0; i < n; i++) {
        const rr_rule *rule = &r->rules[m[i]];
        for (uint32_t k = 0; k < rule->act_n; k++) {
            const rr_action *a = &r->actions[rule->act_off + k];
            omni__json_w_obj_begin(&b);
            omni__json_w_keyl(&b, "ruleId");
            omni__json_w_raw(&b, rule->id_json, strlen(rule->id_json));
            omni__json_w_raw(&b, a->json, strlen(a->json));
            omni__json_w_obj_end(&b);
        }
    }
    omni__json_w_arr_end(&b);
    omni__json_w_keyl(&b, "destination");
    omni__json_w_obj_begin(&b);
    omni__json_w_keyl(&b, "type");
    omni__json_w_str(&b, d.has_destination ? d.dest_type : "queue");
    omni__json_w_keyl(&b, "id");
    omni__json_w_str(&b, d.has_destination ? d.dest_id : "default");
    if (!d.has_destination || d.dest_name) {
        omni__json_w_keyl(&b, "name");
        omni__json_w_str(&b, d.has_destination ? d.dest_name : "Default Queue");
    }
    omni__json_w_keyl(&b, "metadata");
    const char *meta = d.has_destination ? d.dest_metadata_json : "{}";
    omni__json_w_raw(&b, meta, strlen(meta));
    omni__json_w_obj_end(&b);
    st = write_tags(&b, r, m, n);
    omni__json_w_keyl(&b, "priority");
    if (d.priority)
        omni__json_w_str(&b, level_names[d.priority]);
    else
        omni__json_w_null(&b);
    omni__json_w_keyl(&b, "block");
    omni__json_w_bool(&b, d.block);
    omni__json_w_keyl(&b, "escalate");
    omni__json_w_bool(&b, d.escalate);
    omni__json_w_keyl(&b, "autoRespond");
    if (d.auto_respond_template) {
        omni__json_w_obj_begin(&b);
        omni__json_w_keyl(&b, "ruleId");
        omni__json_w_str(&b, d.auto_respond_rule);
        omni__json_w_keyl(&b, "templateId");
        omni__json_w_str(&b, d.auto_respond_template);
        omni__json_w_obj_end(&b);
    } else {
        omni__json_w_null(&b);
    }
    omni__json_w_keyl(&b, "stoppedBy");
    if (d.stopped_by)
        omni__json_w_str(&b, d.stopped_by);
    else
        omni__json_w_null(&b);
    if (flags & OMNI_RULES_EXPLAIN) {
        omni__json_w_keyl(&b, "explain");
        omni__json_w_arr_begin(&b);
        for (size_t i = 0; i < n; i++) {
            omni__json_w_obj_begin(&b);
            omni__json_w_keyl(&b, "ruleId");
            omni__json_w_raw(&b, r->rules[m[i]].id_json, strlen(r->rules[m[i]].id_json));
            omni__json_w_keyl(&b, "conditions");
            omni__json_w_arr_begin(&b);
            omni__rr_explain_rule(ev, r, m[i], &b);
            omni__json_w_arr_end(&b);
            omni__json_w_obj_end(&b);
        }
        omni__json_w_arr_end(&b);
    }
    omni__json_w_obj_end(&b);
    omni__rr_eval_release(ev);
    if (st)
        st = omni__err(st, "rules: out of memory");
    return omni__buf_finish(&b, st, out, out_len);
}

static int check(char **out, size_t *out_len, const omni_rules *r, unsigned flags)
{
    if (out)
        *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!out)
        return omni__err(OMNI_EINVAL, "rules: out is NULL");
    if (!r)
        return omni__err(OMNI_EINVAL, "rules: rules is NULL");
    if (flags & ~(unsigned)OMNI_RULES_EXPLAIN)
        return omni__err(OMNI_EINVAL, "rules: unknown flags 0x%x", flags);
    return OMNI_OK;
}

typedef struct {
    void *block;
} facts_block;

static void *facts_alloc(void *ud, size_t n)
{
    facts_block *fb = ud;
    fb->block = malloc(n ? n : 1);
    return fb->block;
}

int omni_rules_eval(char **out, size_t *out_len, const omni_rules *r, const char *facts_json,
                    size_t len, int64_t now_ms, unsigned flags)
{
    int st = check(out, out_len, r, flags);
    if (st)
        return st;
    if (!facts_json)
        return omni__err(OMNI_EINVAL, "rules: facts is NULL");
    if (len > OMNI_RULES_MAX_FACTS)
        return omni__err(OMNI_ETOOLARGE, "rules: the facts are larger than %u bytes",
                         OMNI_RULES_MAX_FACTS);
    facts_block fb = {NULL};
    const omni_value *root;
    st = omni__data_parse_with(&root, facts_json, len, OMNI_RULES_MAX_FACTS, "facts",
                               facts_alloc, &fb);
    if (!st)
        st = build(out, out_len, r, root, now_ms, flags);
    free(fb.block);
    return st;
}

int omni_rules_eval_data(char **out, size_t *out_len, const omni_rules *r,
                         const omni_data *facts, int64_t now_ms, unsigned flags)
{
    int st = check(out, out_len, r, flags);
    if (st)
        return st;
    if (!facts)
        return omni__err(OMNI_EINVAL, "rules: facts is NULL");
    return build(out, out_len, r, omni_data_root(facts), now_ms, flags);
}
