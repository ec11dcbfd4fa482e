/* The CLI's delivery engine: CONFIG files of the form {"outbound"?, "push"?,
 * "delivery"?, "transport"?} compiled into an engine over a store, the
 * providers, the push adapters and the delivery engine (used by `omni
 * outbound send|tick|get|dlq` and `omni push send`). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

int cli_uint_opt(const char *name, const char *text, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || text[0] < '0' || text[0] > '9' || v > 9007199254740991ull)
        return cli_usage_error("%s must be a non-negative integer", name);
    *out = v;
    return CLI_OK;
}

static int config_error(const char *msg)
{
    omni_error_set(OMNI_ECONFIG, msg, 0);
    return cli_fail(OMNI_ECONFIG);
}

int cli_config_read(const char *path, cJSON **out)
{
    char *text;
    size_t len;
    int rc = cli_read_input(path, CLI_MAX_INPUT, &text, &len);
    if (rc)
        return rc;
    cJSON *doc = cJSON_ParseWithLength(text, len);
    free(text);
    if (!doc) {
        omni_error_set(OMNI_EJSON, "CONFIG is not a valid JSON document", 0);
        return cli_fail(OMNI_EJSON);
    }
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return config_error("CONFIG must be a JSON object");
    }
    *out = doc;
    return CLI_OK;
}

int cli_config_form(const cJSON *doc, const cJSON **ob_cfg)
{
    static const char *const members[] = {"outbound", "push", "delivery", "transport",
                                          "orchestrator"};
    const cJSON *it;
    cJSON_ArrayForEach(it, doc) {
        size_t k = 0;
        while (k < 5 && strcmp(it->string, members[k]) != 0)
            k++;
        if (k == 5) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "CONFIG: unknown member \"%.60s\" (expected outbound, push, delivery, "
                     "transport, orchestrator)",
                     it->string);
            return config_error(msg);
        }
        if (!cJSON_IsObject(it) && !(cJSON_IsNull(it) && k >= 2)) {
            char msg[96];
            snprintf(msg, sizeof msg, "CONFIG: %s must be a JSON object", it->string);
            return config_error(msg);
        }
    }
    *ob_cfg = cJSON_GetObjectItemCaseSensitive(doc, "outbound");
    if (!*ob_cfg && !cJSON_GetObjectItemCaseSensitive(doc, "push"))
        return config_error("CONFIG: \"outbound\" (the providers' configuration) or \"push\" "
                            "(the push platforms') is required");
    return CLI_OK;
}

int cli_json_text(const cJSON *doc, char **out)
{
    *out = cJSON_PrintUnformatted(doc);
    return *out ? CLI_OK : cli_fail(omni_error_set(OMNI_ENOMEM, NULL, -1));
}

int cli_outbound_load(const cJSON *cfg, omni_outbound **ob)
{
    char *text;
    int rc = cli_json_text(cfg, &text);
    if (rc)
        return rc;
    int st = omni_outbound_new(ob, text, strlen(text));
    free(text);
    return st ? cli_fail(st) : CLI_OK;
}

int cli_print_result(int st, char *out, size_t len)
{
    if (st)
        return cli_fail(st);
    cli_print_json(out, len);
    omni_free(out);
    return CLI_OK;
}

/* The engine: the store, the transport of CONFIG and the global --now /
 * --seed (as cli_engine_store does). */
static int delivery_engine(cli *c, const char *store, const cJSON *transport, omni_engine **out)
{
    cJSON *cfg = cJSON_CreateObject();
    cJSON *t = transport && !cJSON_IsNull(transport) ? cJSON_Duplicate(transport, 1)
                                                     : cJSON_CreateObject();
    if (t && !cJSON_GetObjectItemCaseSensitive(t, "type") &&
        !cJSON_AddStringToObject(t, "type", "curl")) {
        cJSON_Delete(t);
        t = NULL;
    }
    if (!cfg || !t || !cJSON_AddStringToObject(cfg, "storage", store ? store : "memory:")) {
        cJSON_Delete(t);
        cJSON_Delete(cfg);
        return cli_fail(omni_error_set(OMNI_ENOMEM, NULL, -1));
    }
    cJSON_AddItemToObject(cfg, "transport", t);
    if (c->now) {
        int64_t ms;
        if (omni_time_parse(&ms, c->now, strlen(c->now)) != OMNI_OK) {
            cJSON_Delete(cfg);
            return cli_fail(omni_error_last_status());
        }
        char iso[OMNI_TIME_STRLEN];
        omni_time_format(iso, sizeof iso, ms);
        cJSON *clock = cJSON_AddObjectToObject(cfg, "clock");
        cJSON_AddStringToObject(clock, "fixed", iso);
    }
    if (c->seed) {
        unsigned long long seed;
        if (cli_uint_opt("--seed", c->seed, &seed)) {
            cJSON_Delete(cfg);
            return CLI_USAGE;
        }
        cJSON *random = cJSON_AddObjectToObject(cfg, "random");
        cJSON_AddNumberToObject(random, "seed", (double)seed);
    }
    char *text;
    int rc = cli_json_text(cfg, &text);
    cJSON_Delete(cfg);
    if (rc)
        return rc;
    int st = omni_engine_new(out, text, strlen(text), NULL);
    free(text);
    return st ? cli_fail(st) : CLI_OK;
}

void cli_delivery_close(cli_delivery *x)
{
    omni_delivery_free(x->d);
    omni_push_free(x->push);
    omni_outbound_free(x->ob);
    omni_engine_free(x->engine);
    memset(x, 0, sizeof *x);
}

/* A member of CONFIG compiled with `compile` (NULL member: `def`). */
static int compile_member(const cJSON *doc, const char *name, const char *def, void **out,
                          int (*compile)(void **out, const char *text, size_t len))
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, name);
    char *text = NULL;
    if (m && !cJSON_IsNull(m)) {
        int rc = cli_json_text(m, &text);
        if (rc)
            return rc;
    }
    const char *t = text ? text : def;
    int st = compile(out, t, t ? strlen(t) : 0);
    free(text);
    return st ? cli_fail(st) : CLI_OK;
}

static int new_outbound(void **out, const char *text, size_t len)
{
    return omni_outbound_new((omni_outbound **)out, text, len);
}

static int new_push(void **out, const char *text, size_t len)
{
    return omni_push_new((omni_push **)out, text, len);
}

int cli_delivery_open(cli *c, const char *config, const char *store, cli_delivery *x)
{
    memset(x, 0, sizeof *x);
    cJSON *doc;
    const cJSON *ob_cfg;
    int rc = cli_config_read(config, &doc);
    if (rc)
        return rc;
    rc = cli_config_form(doc, &ob_cfg);
    if (!rc)
        rc = compile_member(doc, "outbound", "{}", (void **)&x->ob, new_outbound);
    if (!rc && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "push")))
        rc = compile_member(doc, "push", NULL, (void **)&x->push, new_push);
    if (!rc)
        rc = delivery_engine(c, store, cJSON_GetObjectItemCaseSensitive(doc, "transport"),
                             &x->engine);
    const cJSON *dcfg = cJSON_GetObjectItemCaseSensitive(doc, "delivery");
    char *text = NULL;
    if (!rc && dcfg && !cJSON_IsNull(dcfg))
        rc = cli_json_text(dcfg, &text);
    cJSON_Delete(doc);
    if (!rc) {
        int st = omni_delivery_new(&x->d, x->engine, x->ob, text, text ? strlen(text) : 0);
        if (!st && x->push)
            st = omni_delivery_set_push(x->d, x->push);
        if (st)
            rc = cli_fail(st);
    }
    free(text);
    if (rc)
        cli_delivery_close(x);
    return rc;
}
