/* Template helpers: the host helper registry (omni_helpers) and the
 * omni_helper_call API through which helpers read their arguments and
 * produce their result. */
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/error.h"
#include "template_internal.h"

/* ---- registry ------------------------------------------------------------ */

int omni_helpers_new(omni_helpers **out)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "omni_helpers_new: out is NULL");
    *out = calloc(1, sizeof(omni_helpers));
    if (!*out)
        return omni__err(OMNI_ENOMEM, NULL);
    return OMNI_OK;
}

static int valid_name(const char *name, size_t *len)
{
    size_t n = 0;
    for (; name[n]; n++) {
        char c = name[n];
        if (n >= 64)
            return 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '$' || c == '-'))
            return 0;
    }
    *len = n;
    return n > 0;
}

const omni__host_helper *omni__helpers_find(const omni_helpers *h, const char *name, size_t len)
{
    if (!h)
        return NULL;
    for (size_t i = 0; i < h->n; i++)
        if (h->items[i].len == len && memcmp(h->items[i].name, name, len) == 0)
            return &h->items[i];
    return NULL;
}

int omni_helpers_add(omni_helpers *helpers, const char *name, omni_helper_fn fn, void *ctx)
{
    size_t len = 0;
    if (!helpers)
        return omni__err(OMNI_EINVAL, "omni_helpers_add: helpers is NULL");
    if (!fn)
        return omni__err(OMNI_EINVAL, "omni_helpers_add: fn is NULL");
    if (!name || !valid_name(name, &len))
        return omni__err(OMNI_EINVAL,
                         "omni_helpers_add: a helper name is 1..64 bytes of [A-Za-z0-9_$-]");
    if (omni__helpers_find(helpers, name, len))
        return omni__err(OMNI_EEXISTS, "helper \"%s\" is already registered", name);
    if (helpers->n == helpers->cap) {
        size_t cap = helpers->cap ? helpers->cap * 2 : 8;
        omni__host_helper *p = realloc(helpers->items, cap * sizeof(*p));
        if (!p)
            return omni__err(OMNI_ENOMEM, NULL);
        helpers->items = p;
        helpers->cap = cap;
    }
    omni__host_helper *h = &helpers->items[helpers->n++];
    memcpy(h->name, name, len + 1);
    h->len = len;
    h->fn = fn;
    h->ctx = ctx;
    return OMNI_OK;
}

void omni_helpers_free(omni_helpers *helpers)
{
    if (!helpers)
        return;
    free(helpers->items);
    free(helpers);
}

/* ---- reading a call -------------------------------------------------------- */

size_t omni_helper_argc(const omni_helper_call *call)
{
    return call ? call->argc : 0;
}

const omni_value *omni_helper_arg(const omni_helper_call *call, size_t i)
{
    if (!call || i >= call->argc)
        return NULL;
    return call->args[i];
}

const omni_value *omni_helper_hash(const omni_helper_call *call, const char *name)
{
    if (!call || !name)
        return NULL;
    size_t n = strlen(name);
    /* keys are unique (handlebars' hash object, built at compile time) */
    for (size_t i = 0; i < call->c->nhash; i++) {
        const omni__hashpair *p = &call->c->hash[i];
        if (p->klen == n && memcmp(p->key, name, n) == 0)
            return call->hvals[i];
    }
    return NULL;
}

size_t omni_helper_hash_count(const omni_helper_call *call)
{
    return call ? call->c->nhash : 0;
}

const char *omni_helper_hash_key(const omni_helper_call *call, size_t i)
{
    if (!call || i >= call->c->nhash)
        return NULL;
    return call->c->hash[i].key;
}

const omni_value *omni_helper_hash_value(const omni_helper_call *call, size_t i)
{
    if (!call || i >= call->c->nhash)
        return NULL;
    return call->hvals[i];
}

const omni_value *omni_helper_context(const omni_helper_call *call)
{
    return call ? omni__helper_this(call) : NULL;
}

int omni_helper_is_block(const omni_helper_call *call)
{
    return call ? call->is_block : 0;
}

const char *omni_helper_name(const omni_helper_call *call)
{
    return call ? call->c->name.original : NULL;
}

/* ---- producing a result ---------------------------------------------------- */

static int set_string(omni_helper_call *call, const char *s, size_t len, uint8_t flags)
{
    if (!call)
        return omni__err(OMNI_EINVAL, "helper call is NULL");
    if (!s && len)
        return omni__err(OMNI_EINVAL, "helper result: NULL string");
    if (len > OMNI_TEMPLATE_MAX_OUTPUT)
        return omni__err(OMNI_ETOOLARGE, "helper result is %zu bytes, over the limit of %u",
                         len, OMNI_TEMPLATE_MAX_OUTPUT);
    char *copy = omni__arena_strdup(&call->st->arena, s ? s : "", len);
    if (!copy)
        return omni__err(OMNI_ENOMEM, NULL);
    call->use_acc = 0;
    call->result = (omni_value){OMNI_VALUE_STRING, flags, 0, 0, (uint32_t)len, {.str = copy}};
    return OMNI_OK;
}

int omni_helper_return_string(omni_helper_call *call, const char *s, size_t len)
{
    return set_string(call, s, len, 0);
}

int omni_helper_return_safe(omni_helper_call *call, const char *s, size_t len)
{
    return set_string(call, s, len, OMNI__V_SAFE);
}

int omni_helper_return_number(omni_helper_call *call, double value)
{
    if (!call)
        return omni__err(OMNI_EINVAL, "helper call is NULL");
    call->use_acc = 0;
    call->result = (omni_value){OMNI_VALUE_NUMBER, 0, 0, 0, 0, {.num = value}};
    return OMNI_OK;
}

int omni_helper_return_bool(omni_helper_call *call, int value)
{
    if (!call)
        return omni__err(OMNI_EINVAL, "helper call is NULL");
    call->use_acc = 0;
    call->result = value ? omni__true_value : omni__false_value;
    return OMNI_OK;
}

int omni_helper_return_null(omni_helper_call *call)
{
    if (!call)
        return omni__err(OMNI_EINVAL, "helper call is NULL");
    call->use_acc = 0;
    call->result = omni__null_value;
    return OMNI_OK;
}

int omni_helper_make_value(const omni_value **out, omni_helper_call *call, const char *json,
                           size_t len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "omni_helper_make_value: out is NULL");
    *out = NULL;
    if (!call)
        return omni__err(OMNI_EINVAL, "helper call is NULL");
    return omni__data_parse_with(out, json, len, 0, "helper value", omni__arena_alloc_cb,
                                 &call->st->arena);
}

int omni_helper_return_json(omni_helper_call *call, const char *json, size_t len)
{
    const omni_value *v;
    int rc = omni_helper_make_value(&v, call, json, len);
    if (rc)
        return rc;
    call->use_acc = 0;
    call->result = *v;
    return OMNI_OK;
}

/* What a block helper's body may do: the call is a block call and the
 * render has not failed. */
static int check_block(const omni_helper_call *call)
{
    if (!call)
        return omni__err(OMNI_EINVAL, "helper call is NULL");
    if (!call->is_block)
        return omni__err(OMNI_EINVAL, "helper \"%s\" was not called as a block",
                         call->c->name.original);
    return call->st->status;
}

/* Renders prog into `into` (NUL-terminated unless it failed) by swapping it
 * with the render's output. */
static int render_into(omni_buf *into, omni_helper_call *call, const omni__prog *prog,
                       const omni_value *ctx)
{
    omni__rs *st = call->st;
    omni_buf saved = st->out;
    st->out = *into;
    int rc = omni__render_child(call, prog, ctx, NULL, NULL, NULL);
    *into = st->out;
    st->out = saved;
    if (into->data && !into->failed)
        into->data[into->len] = '\0';
    return rc;
}

static int append_prog(omni_helper_call *call, const omni__prog *prog, const omni_value *ctx)
{
    int rc = check_block(call);
    if (rc)
        return rc;
    omni__rs *st = call->st;
    if (!call->use_acc) {
        /* the text so far: the current result's string form */
        omni__buf_reset(&call->acc);
        call->acc.limit = OMNI_TEMPLATE_MAX_OUTPUT;
        if (call->result.type != OMNI_VALUE_UNDEFINED && call->result.type != OMNI_VALUE_NULL)
            omni__js_string(&call->acc, &call->result);
        call->use_acc = 1;
    }
    if (!prog)
        return OMNI_OK; /* no body / inverse: the empty string (handlebars' noop) */
    rc = render_into(&call->acc, call, prog, ctx);
    if (!rc && call->acc.failed)
        rc = omni__render_fail(st, call->acc.failed, "helper output exceeds its size limit");
    return rc;
}

int omni_helper_append_block(omni_helper_call *call, const omni_value *context)
{
    return append_prog(call, call ? call->fn : NULL, context);
}

int omni_helper_append_inverse(omni_helper_call *call, const omni_value *context)
{
    return append_prog(call, call ? call->inverse : NULL, context);
}

static int render_prog_text(char **out, size_t *out_len, omni_helper_call *call,
                            const omni__prog *prog, const omni_value *ctx)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "omni_helper_render_block: out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    int rc = check_block(call);
    if (rc)
        return rc;
    omni_buf text = OMNI_BUF_INIT;
    text.limit = OMNI_TEMPLATE_MAX_OUTPUT;
    if (prog)
        rc = render_into(&text, call, prog, ctx);
    return omni__buf_finish(&text, rc, out, out_len);
}

int omni_helper_render_block(char **out, size_t *out_len, omni_helper_call *call,
                             const omni_value *context)
{
    return render_prog_text(out, out_len, call, call ? call->fn : NULL, context);
}

int omni_helper_render_inverse(char **out, size_t *out_len, omni_helper_call *call,
                               const omni_value *context)
{
    return render_prog_text(out, out_len, call, call ? call->inverse : NULL, context);
}
