/* The engine configuration's "workflow": seed 001's WorkflowStepConfig
 * list checked (known step ids, ranges, conditions, next steps that exist,
 * no cycles) and written out with every default filled in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "core/error.h"
#include "core/json.h"

#define MAX_NEXT 10
#define MAX_TIMEOUT_MS 900000
#define MAX_BACKOFF_MS 86400000

static const char *const step_ids[] = {"workFlowIdentityLookup", "workFlowBiDirectional",
                                       "workFlowPreRoute",       "publishOutbound",
                                       "pushNotification",       NULL};
static const char *const conditions[] = {"always", "auto_response_enabled", "route_to_agent",
                                         "blocked", NULL};
static const char *const step_members[] = {"stepId",     "enabled",   "timeout", "retryPolicy",
                                           "conditions", "nextSteps", "options", NULL};

/* The seed's defaultStepConfigs and the two steps they lead to. */
static const char default_workflow[] =
    "{\"steps\":["
    "{\"stepId\":\"workFlowIdentityLookup\",\"nextSteps\":"
    "[{\"stepId\":\"workFlowBiDirectional\",\"condition\":\"always\"}]},"
    "{\"stepId\":\"workFlowBiDirectional\",\"nextSteps\":"
    "[{\"stepId\":\"workFlowPreRoute\",\"condition\":\"always\"}]},"
    "{\"stepId\":\"workFlowPreRoute\",\"nextSteps\":["
    "{\"stepId\":\"publishOutbound\",\"condition\":\"auto_response_enabled\"},"
    "{\"stepId\":\"pushNotification\",\"condition\":\"route_to_agent\"},"
    "{\"stepId\":\"terminate\",\"condition\":\"blocked\"}]},"
    "{\"stepId\":\"publishOutbound\"},"
    "{\"stepId\":\"pushNotification\"}]}";

typedef struct wf {
    omni__cfg_build *B;
    const cJSON *steps; /* the array */
    size_t n;
    const char **ids; /* per step: its id when valid and unique, else NULL */
    int (*next)[MAX_NEXT]; /* per step: indices of next steps (-1: terminate / bad) */
    int *n_next;
} wf;

static int index_of(const wf *w, const char *id)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->ids[i] && strcmp(w->ids[i], id) == 0)
            return (int)i;
    return -1;
}

static int int_in(const cJSON *v, int64_t lo, int64_t hi, int64_t *out)
{
    return v && !omni__json_int(v, NULL, out) && *out >= lo && *out <= hi;
}

/* ---- one step ---------------------------------------------------------------------- */

static void check_options(wf *w, const char *id, const cJSON *o, const char *path)
{
    omni__cfg_build *B = w->B;
    char p[OMNI__CFG_PATH_MAX];
    if (!cJSON_IsObject(o)) {
        omni__cfg_error_add(&B->errs, path, OMNI_ECONFIG, "must be an object");
        return;
    }
    static const char *const lookup[] = {"defaultRegion", "brazilNinthDigit", NULL};
    static const char *const conv[] = {"inactivityTimeoutMs", "dedupeWindowMs", "maxAttempts",
                                       NULL};
    static const char *const send[] = {"deadlineMs", NULL};
    static const char *const none[] = {NULL};
    const char *const *allowed = none;
    if (strcmp(id, "workFlowIdentityLookup") == 0)
        allowed = lookup;
    else if (strcmp(id, "workFlowBiDirectional") == 0)
        allowed = conv;
    else if (strcmp(id, "publishOutbound") == 0 || strcmp(id, "pushNotification") == 0)
        allowed = send;
    omni__cfg_only_members(B, o, path, allowed);
    const cJSON *v;
    int64_t x;
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "defaultRegion")) && allowed == lookup) {
        const char *r = cJSON_IsString(v) ? v->valuestring : "";
        char e164[OMNI_E164_STRLEN];
        if (strlen(r) != 2 || r[0] < 'A' || r[0] > 'Z' || r[1] < 'A' || r[1] > 'Z' ||
            omni_phone_to_e164(e164, sizeof(e164), "+14155550100", 12, r) != OMNI_OK) {
            omni__cfg_path(p, path, "defaultRegion");
            omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG,
                                "must be a known ISO 3166-1 alpha-2 code in upper case (\"US\")");
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "brazilNinthDigit")) && allowed == lookup &&
        !cJSON_IsBool(v)) {
        omni__cfg_path(p, path, "brazilNinthDigit");
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "must be true or false");
    }
    static const struct {
        const char *name;
        int64_t lo, hi;
        const char *range;
    } ints[] = {{"inactivityTimeoutMs", 1, INT64_C(1) << 40, "1..2^40"},
                {"dedupeWindowMs", 0, INT64_C(1) << 40, "0..2^40"},
                {"maxAttempts", 1, 64, "1..64"},
                {"deadlineMs", 0, 86400000, "0..86400000"}};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        if (!omni__cfg_in_list(ints[i].name, allowed))
            continue;
        if ((v = cJSON_GetObjectItemCaseSensitive(o, ints[i].name)) &&
            !int_in(v, ints[i].lo, ints[i].hi, &x)) {
            omni__cfg_path(p, path, ints[i].name);
            omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "must be an integer %s",
                                ints[i].range);
        }
    }
}

static void check_retry(wf *w, const cJSON *r, const char *path)
{
    omni__cfg_build *B = w->B;
    char p[OMNI__CFG_PATH_MAX];
    if (!cJSON_IsObject(r)) {
        omni__cfg_error_add(&B->errs, path, OMNI_ECONFIG, "must be an object");
        return;
    }
    static const char *const members[] = {"maxRetries", "backoffMultiplier", "maxBackoff",
                                          "initialBackoff", NULL};
    omni__cfg_only_members(B, r, path, members);
    const cJSON *v;
    int64_t x;
    if ((v = cJSON_GetObjectItemCaseSensitive(r, "maxRetries")) && !int_in(v, 0, 20, &x)) {
        omni__cfg_path(p, path, "maxRetries");
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "must be an integer 0..20");
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(r, "backoffMultiplier")) &&
        (!cJSON_IsNumber(v) || !(v->valuedouble >= 1 && v->valuedouble <= 10))) {
        omni__cfg_path(p, path, "backoffMultiplier");
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "must be a number 1..10");
    }
    const char *ms[] = {"maxBackoff", "initialBackoff"};
    for (int i = 0; i < 2; i++) {
        if ((v = cJSON_GetObjectItemCaseSensitive(r, ms[i])) &&
            !int_in(v, 1, MAX_BACKOFF_MS, &x)) {
            omni__cfg_path(p, path, ms[i]);
            omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG,
                                "must be an integer number of milliseconds 1..86400000");
        }
    }
}

static void check_condition(wf *w, const cJSON *c, const char *path)
{
    if (!cJSON_IsString(c) || !omni__cfg_in_list(c->valuestring, conditions))
        omni__cfg_error_add(&w->B->errs, path, OMNI_ECONFIG,
                            "must be \"always\", \"auto_response_enabled\", "
                            "\"route_to_agent\" or \"blocked\"");
}

/* Pass 1: the step's own members and id. */
static int step_own(wf *w, const cJSON *s, size_t i)
{
    omni__cfg_build *B = w->B;
    char path[OMNI__CFG_PATH_MAX], p[OMNI__CFG_PATH_MAX];
    omni__cfg_path_index(path, "workflow.steps", i);
    if (!cJSON_IsObject(s)) {
        omni__cfg_error_add(&B->errs, path, OMNI_ECONFIG, "must be an object");
        return OMNI_OK;
    }
    omni__cfg_only_members(B, s, path, step_members);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "stepId");
    omni__cfg_path(p, path, "stepId");
    if (!id) {
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "is required");
    } else if (!cJSON_IsString(id) || !omni__cfg_in_list(id->valuestring, step_ids)) {
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG,
                            "must be workFlowIdentityLookup, workFlowBiDirectional, "
                            "workFlowPreRoute, publishOutbound or pushNotification");
    } else if (index_of(w, id->valuestring) >= 0) {
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "repeats the step of steps[%d]",
                            index_of(w, id->valuestring));
    } else {
        w->ids[i] = id->valuestring;
    }
    if (cJSON_IsString(id) && omni__cfg_names_add(&B->steps, id->valuestring))
        return OMNI_ENOMEM;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, "enabled");
    if (v && !cJSON_IsBool(v)) {
        omni__cfg_path(p, path, "enabled");
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "must be true or false");
    }
    int64_t x;
    if ((v = cJSON_GetObjectItemCaseSensitive(s, "timeout")) && !int_in(v, 1, MAX_TIMEOUT_MS, &x)) {
        omni__cfg_path(p, path, "timeout");
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG,
                            "must be an integer number of milliseconds 1..900000");
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(s, "retryPolicy"))) {
        omni__cfg_path(p, path, "retryPolicy");
        check_retry(w, v, p);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(s, "conditions"))) {
        omni__cfg_path(p, path, "conditions");
        if (!cJSON_IsArray(v)) {
            omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "must be an array of conditions");
        } else {
            size_t k = 0;
            const cJSON *c;
            cJSON_ArrayForEach(c, v)
            {
                char q[OMNI__CFG_PATH_MAX];
                omni__cfg_path_index(q, p, k++);
                check_condition(w, c, q);
            }
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(s, "options")) && w->ids[i]) {
        omni__cfg_path(p, path, "options");
        check_options(w, w->ids[i], v, p);
    }
    return OMNI_OK;
}

/* Pass 2: next steps name steps of the list. */
static void step_next(wf *w, const cJSON *s, size_t i)
{
    omni__cfg_build *B = w->B;
    w->n_next[i] = 0;
    const cJSON *v = cJSON_IsObject(s) ? cJSON_GetObjectItemCaseSensitive(s, "nextSteps") : NULL;
    if (!v)
        return;
    char path[OMNI__CFG_PATH_MAX];
    omni__cfg_path_index(path, "workflow.steps", i);
    omni__cfg_path(path, path, "nextSteps");
    if (!cJSON_IsArray(v)) {
        omni__cfg_error_add(&B->errs, path, OMNI_ECONFIG,
                            "must be an array of {\"stepId\", \"condition\"}");
        return;
    }
    if (cJSON_GetArraySize(v) > MAX_NEXT) {
        omni__cfg_error_add(&B->errs, path, OMNI_ECONFIG, "more than %d next steps", MAX_NEXT);
        return;
    }
    size_t k = 0;
    const cJSON *n;
    cJSON_ArrayForEach(n, v)
    {
        char p[OMNI__CFG_PATH_MAX], q[OMNI__CFG_PATH_MAX];
        omni__cfg_path_index(p, path, k++);
        w->next[i][w->n_next[i]++] = -1;
        if (!cJSON_IsObject(n)) {
            omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG,
                                "must be an object {\"stepId\", \"condition\"}");
            continue;
        }
        static const char *const members[] = {"stepId", "condition", NULL};
        omni__cfg_only_members(B, n, p, members);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(n, "condition");
        if (c) {
            omni__cfg_path(q, p, "condition");
            check_condition(w, c, q);
        }
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(n, "stepId");
        omni__cfg_path(q, p, "stepId");
        if (!cJSON_IsString(id)) {
            omni__cfg_error_add(&B->errs, q, OMNI_ECONFIG, "is required: a step id or "
                                                            "\"terminate\"");
            continue;
        }
        if (strcmp(id->valuestring, "terminate") == 0)
            continue;
        int j = index_of(w, id->valuestring);
        if (j < 0) {
            if (omni__cfg_in_list(id->valuestring, step_ids))
                omni__cfg_error_add(&B->errs, q, OMNI_ECONFIG,
                                    "names a step that is not in the list (add a step with "
                                    "this stepId, or use \"terminate\")");
            else
                omni__cfg_error_add(&B->errs, q, OMNI_ECONFIG,
                                    "must be a stepId of the list or \"terminate\"");
            continue;
        }
        w->next[i][w->n_next[i] - 1] = j;
    }
}

/* ---- cycles --------------------------------------------------------------------------- */

/* Depth-first search; color 0 new, 1 on the stack, 2 done. A next step on
 * the stack closes a cycle, reported at that nextSteps entry. */
static void dfs(wf *w, int i, int *color, int *stack, int depth)
{
    color[i] = 1;
    stack[depth] = i;
    for (int k = 0; k < w->n_next[i]; k++) {
        int j = w->next[i][k];
        if (j < 0)
            continue;
        if (color[j] == 1) {
            char path[OMNI__CFG_PATH_MAX], msg[700];
            snprintf(path, sizeof(path), "workflow.steps[%d].nextSteps[%d].stepId", i, k);
            size_t m = 0;
            int from = depth;
            while (from > 0 && stack[from] != j)
                from--;
            for (int d = from; d <= depth && m < sizeof(msg) - 40; d++)
                m += (size_t)snprintf(msg + m, sizeof(msg) - m, "%s -> ", w->ids[stack[d]]);
            snprintf(msg + m, sizeof(msg) - m, "%s", w->ids[j]);
            omni__cfg_error_add(&w->B->errs, path, OMNI_ECONFIG, "makes a cycle: %s", msg);
        } else if (color[j] == 0) {
            dfs(w, j, color, stack, depth + 1);
        }
    }
    color[i] = 2;
}

/* ---- output --------------------------------------------------------------------------- */

static void write_step(omni_buf *b, const cJSON *s, const char *id)
{
    int pre = strcmp(id, "workFlowPreRoute") == 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, "enabled");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(s, "retryPolicy");
    int64_t x;
    double d;
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "stepId");
    omni__json_w_str(b, id);
    omni__json_w_keyl(b, "enabled");
    omni__json_w_bool(b, v ? cJSON_IsTrue(v) : 1);
    omni__json_w_keyl(b, "timeout");
    omni__json_w_int(b, omni__json_int(s, "timeout", &x) ? (pre ? 45000 : 30000) : x);
    omni__json_w_keyl(b, "retryPolicy");
    omni__json_w_obj_begin(b);
    omni__json_w_keyl(b, "maxRetries");
    omni__json_w_int(b, omni__json_int(r, "maxRetries", &x) ? 3 : x);
    omni__json_w_keyl(b, "backoffMultiplier");
    omni__json_w_num(b, omni__json_num(r, "backoffMultiplier", &d) ? 2 : d);
    omni__json_w_keyl(b, "maxBackoff");
    omni__json_w_int(b, omni__json_int(r, "maxBackoff", &x) ? (pre ? 15000 : 10000) : x);
    omni__json_w_keyl(b, "initialBackoff");
    omni__json_w_int(b, omni__json_int(r, "initialBackoff", &x) ? 1000 : x);
    omni__json_w_obj_end(b);
    omni__json_w_keyl(b, "conditions");
    v = cJSON_GetObjectItemCaseSensitive(s, "conditions");
    if (v)
        omni__json_w_item(b, v);
    else
        omni__json_w_raw(b, "[]", 2);
    omni__json_w_keyl(b, "nextSteps");
    omni__json_w_arr_begin(b);
    const cJSON *n;
    cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(s, "nextSteps"))
    {
        const char *c = omni__json_str(n, "condition");
        omni__json_w_obj_begin(b);
        omni__json_w_keyl(b, "stepId");
        omni__json_w_str(b, omni__json_str(n, "stepId"));
        omni__json_w_keyl(b, "condition");
        omni__json_w_str(b, c ? c : "always");
        omni__json_w_obj_end(b);
    }
    omni__json_w_arr_end(b);
    omni__json_w_keyl(b, "options");
    v = cJSON_GetObjectItemCaseSensitive(s, "options");
    if (v)
        omni__json_w_item(b, v);
    else
        omni__json_w_raw(b, "{}", 2);
    omni__json_w_obj_end(b);
}

static int finish(wf *w)
{
    omni_config *cfg = w->B->cfg;
    if (!(cfg->steps = calloc(w->n, sizeof(*cfg->steps))))
        return OMNI_ENOMEM;
    omni_buf all = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&all);
    omni__json_w_keyl(&all, "steps");
    omni__json_w_arr_begin(&all);
    size_t i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, w->steps)
    {
        omni_buf b = OMNI_BUF_INIT;
        write_step(&b, s, w->ids[i]);
        if (b.failed) {
            omni__buf_free(&b);
            omni__buf_free(&all);
            return OMNI_ENOMEM;
        }
        omni__json_w_raw(&all, b.data, b.len);
        omni__cfg_step *st = &cfg->steps[i];
        st->json = b.data;
        st->len = b.len;
        cfg->n_steps = ++i;
        if (!(st->id = strdup(w->ids[i - 1]))) {
            omni__buf_free(&all);
            return OMNI_ENOMEM;
        }
    }
    omni__json_w_arr_end(&all);
    omni__json_w_obj_end(&all);
    if (all.failed) {
        omni__buf_free(&all);
        return OMNI_ENOMEM;
    }
    cfg->workflow = all.data;
    cfg->workflow_len = all.len;
    return OMNI_OK;
}

/* ---- the section -------------------------------------------------------------------- */

static int check_steps(omni__cfg_build *B, const cJSON *steps)
{
    size_t n = (size_t)cJSON_GetArraySize(steps);
    if (n == 0) {
        omni__cfg_error_add(&B->errs, "workflow.steps", OMNI_ECONFIG, "needs at least one step");
        return OMNI_OK;
    }
    if (n > OMNI_CONFIG_MAX_STEPS) {
        omni__cfg_error_add(&B->errs, "workflow.steps", OMNI_ETOOLARGE, "more than %d steps",
                            OMNI_CONFIG_MAX_STEPS);
        return OMNI_OK;
    }
    wf w = {B, steps, n, NULL, NULL, NULL};
    w.ids = calloc(n, sizeof(*w.ids));
    w.next = calloc(n, sizeof(*w.next));
    w.n_next = calloc(n, sizeof(*w.n_next));
    int *color = calloc(n, sizeof(int)), *stack = calloc(n + 1, sizeof(int));
    int rc = OMNI_OK;
    if (!w.ids || !w.next || !w.n_next || !color || !stack)
        rc = OMNI_ENOMEM;
    size_t i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, steps)
    {
        if (!rc)
            rc = step_own(&w, s, i);
        i++;
    }
    i = 0;
    cJSON_ArrayForEach(s, steps)
    {
        if (!rc)
            step_next(&w, s, i);
        i++;
    }
    for (i = 0; !rc && i < n; i++)
        if (w.ids[i] && color[i] == 0)
            dfs(&w, (int)i, color, stack, 0);
    if (!rc && B->errs.count == 0)
        rc = finish(&w);
    free(w.ids);
    free(w.next);
    free(w.n_next);
    free(color);
    free(stack);
    return rc;
}

int omni__cfg_workflow(omni__cfg_build *B)
{
    const cJSON *w = B->sec_workflow;
    if (!w) {
        cJSON *def = cJSON_Parse(default_workflow);
        if (!def)
            return OMNI_ENOMEM;
        int rc = check_steps(B, cJSON_GetObjectItemCaseSensitive(def, "steps"));
        cJSON_Delete(def);
        return rc;
    }
    if (!cJSON_IsObject(w)) {
        omni__cfg_error_add(&B->errs, "workflow", OMNI_ECONFIG,
                            "must be an object {\"steps\": [...]}");
        return OMNI_OK;
    }
    static const char *const members[] = {"steps", NULL};
    omni__cfg_only_members(B, w, "workflow", members);
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(w, "steps");
    if (!cJSON_IsArray(steps)) {
        omni__cfg_error_add(&B->errs, "workflow.steps", OMNI_ECONFIG,
                            "is required: an array of steps (WorkflowStepConfig)");
        return OMNI_OK;
    }
    return check_steps(B, steps);
}
