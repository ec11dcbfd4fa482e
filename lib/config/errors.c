/* The engine configuration's error list (every error with its JSON path),
 * JSON paths, name sets, and small checks shared by lib/config/. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config_internal.h"
#include "core/error.h"
#include "core/json.h"

/* ---- paths ------------------------------------------------------------------------ */

static void copy_cut(char *out, const char *s)
{
    size_t n = strlen(s);
    if (n >= OMNI__CFG_PATH_MAX)
        n = OMNI__CFG_PATH_MAX - 1;
    memmove(out, s, n);
    out[n] = '\0';
}

void omni__cfg_path(char *out, const char *prefix, const char *rest)
{
    char tmp[OMNI__CFG_PATH_MAX * 2 + 2];
    const char *sep = prefix[0] && rest[0] && rest[0] != '[' ? "." : "";
    snprintf(tmp, sizeof(tmp), "%s%s%s", prefix, sep, rest);
    copy_cut(out, tmp);
}

void omni__cfg_path_index(char *out, const char *prefix, size_t i)
{
    char tmp[OMNI__CFG_PATH_MAX + 32];
    snprintf(tmp, sizeof(tmp), "%s[%zu]", prefix, i);
    copy_cut(out, tmp);
}

/* ---- the error list -------------------------------------------------------------- */

static void add_error(omni__cfg_errors *E, const char *path, int status, const char *msg,
                      long line, long column)
{
    for (size_t i = 0; i < E->n; i++)
        if (strcmp(E->items[i].path, path) == 0)
            return;
    E->count++;
    if (E->n >= OMNI_CONFIG_MAX_ERRORS)
        return;
    if (E->n == E->cap) {
        size_t cap = E->cap ? E->cap * 2 : 8;
        omni__cfg_error *items = realloc(E->items, cap * sizeof(*items));
        if (!items) {
            E->nomem = 1;
            return;
        }
        E->items = items;
        E->cap = cap;
    }
    omni__cfg_error *e = &E->items[E->n];
    e->path = strdup(path);
    e->message = strdup(msg);
    e->code = omni_status_code(status ? status : OMNI_ECONFIG);
    e->line = line;
    e->column = column;
    if (!e->path || !e->message) {
        free(e->path);
        free(e->message);
        E->nomem = 1;
        return;
    }
    E->n++;
}

void omni__cfg_error_add(omni__cfg_errors *E, const char *path, int status, const char *fmt,
                         ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    add_error(E, path, status, msg, 0, 0);
}

/* The component's message without its "<component>: <path>: " lead. */
static const char *bare_message(const char *msg, const char *path)
{
    if (path[0]) {
        size_t n = strlen(path);
        for (const char *p = strstr(msg, path); p; p = strstr(p + 1, path)) {
            if (p[n] == ':' && p[n + 1] == ' ' && p[n + 2])
                return p + n + 2;
        }
    }
    /* "outbound: ...", "push: ...", "delivery configuration: ..." */
    size_t i = 0;
    while (i < 40 && ((msg[i] >= 'a' && msg[i] <= 'z') || msg[i] == ' '))
        i++;
    if (i > 0 && msg[i] == ':' && msg[i + 1] == ' ' && msg[i + 2])
        return msg + i + 2;
    return msg;
}

static void add_mapped(omni__cfg_errors *E, const char *prefix, const char *cpath, int status,
                       const char *msg, omni__cfg_path_map map, void *map_ctx)
{
    char mapped[OMNI__CFG_PATH_MAX], full[OMNI__CFG_PATH_MAX];
    const char *p = cpath;
    if (strcmp(p, "$") == 0 || strcmp(p, "(root)") == 0)
        p = "";
    if (map) {
        map(map_ctx, p, mapped);
        p = mapped;
    }
    omni__cfg_path(full, prefix, p);
    add_error(E, full, status, msg, 0, 0);
}

void omni__cfg_error_last(omni__cfg_errors *E, const char *prefix, int status,
                          omni__cfg_path_map map, void *map_ctx)
{
    const omni_error *le = omni_error_last();
    char msg[600];
    snprintf(msg, sizeof(msg), "%s", le->message ? le->message : omni_strerror(status));
    if (status == OMNI_EINVAL || status == OMNI_ESYNTAX || status == OMNI_EJSON)
        status = OMNI_ECONFIG;
    cJSON *d = NULL;
    if (le->details)
        d = cJSON_ParseWithLength(le->details, strlen(le->details));
    const char *cpath = d ? omni__json_str(d, "path") : NULL;
    const cJSON *list = d ? cJSON_GetObjectItemCaseSensitive(d, "errors") : NULL;
    if (cJSON_IsArray(list) && cJSON_GetArraySize(list) > 0) {
        /* the rules' error list: one error each (paths relative to the
         * component's configuration, as the top-level "path") */
        const cJSON *it;
        cJSON_ArrayForEach(it, list)
        {
            const char *p = omni__json_str(it, "path");
            const char *m = omni__json_str(it, "message");
            if (p)
                add_mapped(E, prefix, p, status, m && m[0] ? m : bare_message(msg, p), map,
                           map_ctx);
        }
    } else {
        add_mapped(E, prefix, cpath ? cpath : "", status, bare_message(msg, cpath ? cpath : ""),
                   map, map_ctx);
    }
    cJSON_Delete(d);
}

void omni__cfg_errors_free(omni__cfg_errors *E)
{
    for (size_t i = 0; i < E->n; i++) {
        free(E->items[i].path);
        free(E->items[i].message);
    }
    free(E->items);
    memset(E, 0, sizeof(*E));
}

void omni__cfg_errors_write(omni_buf *b, const omni__cfg_errors *E)
{
    omni__json_w_arr_begin(b);
    for (size_t i = 0; i < E->n; i++) {
        const omni__cfg_error *e = &E->items[i];
        omni__json_w_obj_begin(b);
        omni__json_w_keyl(b, "path");
        omni__json_w_str(b, e->path);
        omni__json_w_keyl(b, "message");
        omni__json_w_str(b, e->message);
        omni__json_w_keyl(b, "code");
        omni__json_w_str(b, e->code);
        if (e->line > 0) {
            omni__json_w_keyl(b, "line");
            omni__json_w_int(b, e->line);
            omni__json_w_keyl(b, "column");
            omni__json_w_int(b, e->column);
        }
        omni__json_w_obj_end(b);
    }
    omni__json_w_arr_end(b);
}

int omni__cfg_errors_raise(const omni__cfg_errors *E)
{
    if (E->nomem)
        return omni__err(OMNI_ENOMEM, NULL);
    omni_buf d = OMNI_BUF_INIT;
    const char *first = E->n ? E->items[0].path : "";
    omni__json_w_obj_begin(&d);
    omni__json_w_keyl(&d, "path");
    omni__json_w_str(&d, first);
    omni__json_w_keyl(&d, "errors");
    omni__cfg_errors_write(&d, E);
    omni__json_w_keyl(&d, "count");
    omni__json_w_int(&d, (int64_t)E->count);
    omni__json_w_obj_end(&d);
    if (d.failed) {
        omni__buf_free(&d);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    int rc = omni__err_details(OMNI_ECONFIG, d.data, "configuration: %zu error%s; first: %s: %s",
                               E->count, E->count == 1 ? "" : "s", first[0] ? first : "(root)",
                               E->n ? E->items[0].message : "");
    omni__buf_free(&d);
    return rc;
}

/* ---- name sets ------------------------------------------------------------------ */

int omni__cfg_names_add(omni__cfg_names *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i], name) == 0)
            return OMNI_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        char **items = realloc(s->items, cap * sizeof(*items));
        if (!items)
            return OMNI_ENOMEM;
        s->items = items;
        s->cap = cap;
    }
    if (!(s->items[s->n] = strdup(name)))
        return OMNI_ENOMEM;
    s->n++;
    return OMNI_OK;
}

void omni__cfg_names_free(omni__cfg_names *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i]);
    free(s->items);
    memset(s, 0, sizeof(*s));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void omni__cfg_names_write(omni_buf *b, const omni__cfg_names *s)
{
    if (s->n > 1)
        qsort(s->items, s->n, sizeof(*s->items), cmp_str);
    omni__json_w_arr_begin(b);
    for (size_t i = 0; i < s->n; i++)
        omni__json_w_str(b, s->items[i]);
    omni__json_w_arr_end(b);
}

/* ---- small checks ---------------------------------------------------------------- */

int omni__cfg_in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0)
            return 1;
    return 0;
}

void omni__cfg_only_members(omni__cfg_build *B, const cJSON *obj, const char *path,
                            const char *const *allowed)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (omni__cfg_in_list(it->string, allowed))
            continue;
        char p[OMNI__CFG_PATH_MAX];
        char name[80];
        snprintf(name, sizeof(name), "%.64s", it->string);
        omni__cfg_path(p, path, name);
        omni__cfg_error_add(&B->errs, p, OMNI_ECONFIG, "unknown member");
    }
}

int omni__cfg_plain_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '@' || c == '+' || c == '-'))
            return 0;
    }
    return 1;
}

static void wipe(cJSON *item)
{
    for (cJSON *c = item; c; c = c->next) {
        if (c->valuestring)
            OPENSSL_cleanse(c->valuestring, strlen(c->valuestring));
        wipe(c->child);
    }
}

void omni__cfg_wipe_delete(cJSON *item)
{
    if (!item)
        return;
    if (item->valuestring)
        OPENSSL_cleanse(item->valuestring, strlen(item->valuestring));
    wipe(item->child);
    cJSON_Delete(item);
}
