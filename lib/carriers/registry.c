/* The carrier registry (omni_carriers): the built-in adapters plus the
 * host's, registered through the public omni_carrier_adapter table. */
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "carrier_internal.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/json.h"

static const omni__carrier *const builtins[] = {
    &omni__carrier_twilio,    &omni__carrier_whatsapp,    &omni__carrier_bandwidth,
    &omni__carrier_messagebird, &omni__carrier_livechat, &omni__carrier_inteliquent,
};
#define N_BUILTINS (sizeof(builtins) / sizeof(builtins[0]))

int omni_carrier_adapter_init(omni_carrier_adapter *adapter, unsigned version)
{
    if (!adapter)
        return omni__err(OMNI_EINVAL, "carrier adapter table is NULL");
    int rc = omni__hook_version_check(version, OMNI_CARRIER_ADAPTER_VERSION, "carrier adapter");
    if (rc)
        return rc;
    omni_carrier_adapter tmpl = OMNI_CARRIER_ADAPTER_INIT;
    *adapter = tmpl;
    adapter->version = version;
    return OMNI_OK;
}

/* 1..32 bytes of [a-z0-9_-]. */
static int valid_name(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++) {
        char c = name[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
        if (n >= OMNI__CARRIER_NAME_MAX)
            return 0;
    }
    return n > 0;
}

const omni__carrier_entry *omni__carriers_find(const omni_carriers *registry, const char *name)
{
    if (!registry || !name)
        return NULL;
    for (size_t i = 0; i < registry->count; i++)
        if (strcmp(registry->items[i].name, name) == 0)
            return &registry->items[i];
    return NULL;
}

static int fill_builtins(omni_carriers *r)
{
    r->items = calloc(N_BUILTINS, sizeof(*r->items));
    if (!r->items)
        return omni__err(OMNI_ENOMEM, NULL);
    for (size_t i = 0; i < N_BUILTINS; i++) {
        const omni__carrier *c = builtins[i];
        omni__carrier_entry *e = &r->items[r->count++];
        strncpy(e->name, c->name, OMNI__CARRIER_NAME_MAX);
        e->builtin = c;
    }
    return OMNI_OK;
}

int omni_carriers_new(omni_carriers **out)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "carriers: out is NULL");
    *out = NULL;
    omni_carriers *r = calloc(1, sizeof(*r));
    if (!r)
        return omni__err(OMNI_ENOMEM, NULL);
    int rc = fill_builtins(r);
    if (rc) {
        free(r);
        return rc;
    }
    *out = r;
    return OMNI_OK;
}

void omni_carriers_free(omni_carriers *registry)
{
    if (!registry)
        return;
    free(registry->items);
    free(registry);
}

int omni__carriers_copy(omni_carriers **out, const omni_carriers *src)
{
    if (!src)
        return omni_carriers_new(out);
    *out = NULL;
    omni_carriers *r = calloc(1, sizeof(*r));
    if (!r)
        return omni__err(OMNI_ENOMEM, NULL);
    if (src->count) {
        r->items = malloc(src->count * sizeof(*r->items));
        if (!r->items) {
            free(r);
            return omni__err(OMNI_ENOMEM, NULL);
        }
        memcpy(r->items, src->items, src->count * sizeof(*r->items));
        r->count = src->count;
        for (size_t i = 0; i < r->count; i++)
            if (!r->items[i].builtin)
                r->items[i].host.name = r->items[i].name;
    }
    *out = r;
    return OMNI_OK;
}

int omni_carriers_register(omni_carriers *registry, const omni_carrier_adapter *adapter)
{
    if (!registry || !adapter)
        return omni__err(OMNI_EINVAL, "carriers: registry or adapter is NULL");
    int rc = omni__hook_version_check(adapter->version, OMNI_CARRIER_ADAPTER_VERSION,
                                      "carrier adapter");
    if (rc)
        return rc;
    if (!adapter->name || !valid_name(adapter->name))
        return omni__err(OMNI_EINVAL,
                         "carrier adapter name must be 1 to %d bytes of a-z, 0-9, '_' and '-'",
                         OMNI__CARRIER_NAME_MAX);
    if (!adapter->verify || !adapter->parse)
        return omni__err(OMNI_EINVAL, "carrier adapter \"%s\" needs both verify and parse",
                         adapter->name);
    omni__carrier_entry *e = (omni__carrier_entry *)omni__carriers_find(registry, adapter->name);
    if (!e) {
        omni__carrier_entry *items =
            realloc(registry->items, (registry->count + 1) * sizeof(*items));
        if (!items)
            return omni__err(OMNI_ENOMEM, NULL);
        registry->items = items;
        e = &items[registry->count++];
        memset(e, 0, sizeof(*e));
        strcpy(e->name, adapter->name);
    }
    e->builtin = NULL;
    e->host = *adapter;
    e->host.name = e->name;
    /* host.name must follow the entry when the array moves: re-point all. */
    for (size_t i = 0; i < registry->count; i++)
        if (!registry->items[i].builtin)
            registry->items[i].host.name = registry->items[i].name;
    return OMNI_OK;
}

int omni_carriers_list(char **out, size_t *out_len, const omni_carriers *registry)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "carriers: out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!registry)
        return omni__err(OMNI_EINVAL, "carriers: registry is NULL");
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_arr_begin(&b);
    for (size_t i = 0; i < registry->count; i++)
        omni__json_w_str(&b, registry->items[i].name);
    omni__json_w_arr_end(&b);
    return omni__buf_detach(&b, out, out_len);
}
