/* Per-channel validation of a NotificationTemplate (or a bare body): every
 * source compiled, its variables compared with the declared ones and the
 * sample data, rendered with the sample data to measure SMS segments and
 * push payloads, and the channel rules (email subject, WhatsApp parameter
 * count, promotional opt-out, HTML in text channels). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "../core/error.h"
#include "../core/json.h"
#include "format.h"
#include "template_internal.h"

#define DOC_MAX (1024u * 1024u)
#define PUSH_MAX 4096u

typedef struct finding_list {
    omni_buf b; /* the findings array's items */
    int errors;
} finding_list;

static void add_finding(finding_list *f, int error, const char *code, const char *field,
                        const char *fmt, ...) OMNI__PRINTF(5, 6);
static void add_finding(finding_list *f, int error, const char *code, const char *field,
                        const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    omni__json_w_obj_begin(&f->b);
    omni__json_w_key(&f->b, "severity");
    omni__json_w_str(&f->b, error ? "error" : "warning");
    omni__json_w_key(&f->b, "code");
    omni__json_w_str(&f->b, code);
    omni__json_w_key(&f->b, "message");
    omni__json_w_str(&f->b, msg);
    omni__json_w_key(&f->b, "field");
    omni__json_w_str(&f->b, field);
    omni__json_w_obj_end(&f->b);
    if (error)
        f->errors++;
}

/* ---- small string sets ---------------------------------------------------- */

typedef struct strset {
    char **items;
    size_t count, cap;
    int failed;
} strset;

static int strset_has(const strset *s, const char *v, size_t n)
{
    for (size_t i = 0; i < s->count; i++)
        if (strlen(s->items[i]) == n && !memcmp(s->items[i], v, n))
            return 1;
    return 0;
}

static void strset_add(strset *s, const char *v, size_t n)
{
    if (s->failed || strset_has(s, v, n))
        return;
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **it = realloc(s->items, cap * sizeof(*it));
        if (!it) {
            s->failed = 1;
            return;
        }
        s->items = it;
        s->cap = cap;
    }
    char *c = malloc(n + 1);
    if (!c) {
        s->failed = 1;
        return;
    }
    memcpy(c, v, n);
    c[n] = '\0';
    s->items[s->count++] = c;
}

static void strset_free(strset *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->items[i]);
    free(s->items);
    memset(s, 0, sizeof(*s));
}

/* The top-level name of a declared variable ("order.id" -> "order",
 * "this.name" -> "name"), or 0 for names that do not give one ("this",
 * "@index", "../x"). */
static size_t path_root(const char *p, const char **root)
{
    if (!strncmp(p, "this.", 5) || !strncmp(p, "this/", 5))
        p += 5;
    else if (!strncmp(p, "./", 2))
        p += 2;
    if (!*p || *p == '@' || *p == '.' || !strcmp(p, "this"))
        return 0;
    *root = p;
    return strcspn(p, "./[");
}

/* ---- the top-level names a template reads --------------------------------- */

/*
 * Walks the compiled program and collects the names of the render data's
 * top level that it reads: paths evaluated in the root context ("name",
 * "order.id" -> "order"), "../" paths that climb back to it and @root
 * paths. Paths inside #each / #with / sections (which change the context)
 * read the current item and are not top-level names; #if / #unless and
 * other helpers keep the context. Block parameters and @data are skipped.
 */
static void walk_prog(const omni__prog *p, int level, strset *out);

static void walk_path(const omni__path *p, int level, strset *out)
{
    if (p->bp_level >= 0)
        return;
    if (p->data) {
        if (p->nseg >= 2 && !strcmp(p->segs[0].name, "root"))
            strset_add(out, p->segs[1].name, p->segs[1].len);
        return;
    }
    if (p->nseg == 0 || p->depth < level)
        return;
    strset_add(out, p->segs[0].name, p->segs[0].len);
}

static void walk_call(const omni__call *c, int level, int block, strset *out);

static void walk_expr(const omni__expr *e, int level, strset *out)
{
    if (e->kind == OMNI__EX_PATH)
        walk_path(&e->path, level, out);
    else if (e->kind == OMNI__EX_SUB && e->sub)
        walk_call(e->sub, level, 0, out);
}

static void walk_call(const omni__call *c, int level, int block, strset *out)
{
    for (uint16_t i = 0; i < c->nparams; i++)
        walk_expr(&c->params[i], level, out);
    for (uint16_t i = 0; i < c->nhash; i++)
        walk_expr(&c->hash[i].value, level, out);
    /* a name that is not a helper is a value lookup (a block: a section) */
    if (c->helper == OMNI__H_NONE && (block || (c->nparams == 0 && !c->has_hash)))
        walk_path(&c->name, level, out);
}

/* The context level a block's body runs at. */
static int body_level(const omni__call *c, int level)
{
    if (c->helper == OMNI__H_NONE)
        return level + 1; /* a section on a value */
    if (c->name.nseg == 1 && (!strcmp(c->name.segs[0].name, "each") ||
                              !strcmp(c->name.segs[0].name, "with")))
        return level + 1;
    return level;
}

static void walk_prog(const omni__prog *p, int level, strset *out)
{
    if (!p)
        return;
    for (uint32_t i = 0; i < p->n; i++) {
        const omni__node *n = p->body[i];
        switch (n->kind) {
        case OMNI__N_MUSTACHE:
            if (n->call)
                walk_call(n->call, level, 0, out);
            break;
        case OMNI__N_BLOCK:
            if (n->call) {
                walk_call(n->call, level, 1, out);
                walk_prog(n->prog, body_level(n->call, level), out);
            } else {
                walk_prog(n->prog, level, out);
            }
            walk_prog(n->inverse, level, out);
            break;
        case OMNI__N_PARTIAL:
            if (n->partial) {
                if (n->partial->has_context)
                    walk_expr(&n->partial->context, level, out);
                for (uint16_t k = 0; k < n->partial->nhash; k++)
                    walk_expr(&n->partial->hash[k].value, level, out);
                if (n->partial->dynamic)
                    walk_call(n->partial->dynamic, level, 0, out);
            }
            break;
        default:
            break;
        }
    }
}

/* ---- text checks ---------------------------------------------------------- */

/* Word characters for the keyword boundaries ("non-stop" is no STOP). */
static int is_word(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Case-insensitive whole-word search of an ASCII keyword. */
static int has_word(const char *s, size_t n, const char *kw)
{
    size_t k = strlen(kw);
    for (size_t i = 0; i + k <= n; i++) {
        size_t j = 0;
        while (j < k && lower(s[i + j]) == lower(kw[j]))
            j++;
        if (j < k)
            continue;
        if (i > 0 && is_word((unsigned char)s[i - 1]))
            continue;
        if (i + k < n && is_word((unsigned char)s[i + k]))
            continue;
        return 1;
    }
    return 0;
}

static int has_opt_out(const char *s, size_t n)
{
    static const char *const kws[] = {"stop", "unsubscribe", "optout", "opt-out", "opt out",
                                      NULL};
    for (size_t i = 0; kws[i]; i++)
        if (has_word(s, n, kws[i]))
            return 1;
    return 0;
}

static int is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* An HTML tag (<b>, </p>, <br/>, <a href=...>, <!-- ) or a character
 * reference (&amp; &#39; &#x27;). */
static int has_html(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '<') {
            size_t j = i + 1;
            if (j + 2 < n && s[j] == '!' && s[j + 1] == '-' && s[j + 2] == '-')
                return 1;
            if (j < n && s[j] == '/')
                j++;
            if (j >= n || !is_alpha(s[j]))
                continue;
            while (j < n && (is_alpha(s[j]) || (s[j] >= '0' && s[j] <= '9')))
                j++;
            if (j < n && (s[j] == '>' || s[j] == '/' || s[j] == ' ' || s[j] == '\t' ||
                          s[j] == '\n')) {
                const char *gt = memchr(s + j, '>', n - j);
                const char *lt = memchr(s + j, '<', n - j);
                if (gt && (!lt || gt < lt))
                    return 1;
            }
        } else if (s[i] == '&') {
            size_t j = i + 1, k;
            if (j < n && s[j] == '#') {
                j++;
                int hex = j < n && (s[j] == 'x' || s[j] == 'X');
                if (hex)
                    j++;
                for (k = j; k < n && k - j < 8; k++) {
                    char d = lower(s[k]);
                    if (!((d >= '0' && d <= '9') || (hex && d >= 'a' && d <= 'f')))
                        break;
                }
            } else {
                for (k = j; k < n && k - j < 10 && is_alpha(s[k]); k++)
                    ;
                if (k - j < 2)
                    continue;
            }
            if (k > j && k < n && s[k] == ';')
                return 1;
        }
    }
    return 0;
}

/* ---- compile, inspect and render one source ------------------------------- */

typedef struct vctx {
    const char *channel;
    finding_list f;
    const omni_data *data;
    const cJSON *data_json; /* NULL when no sample data was given */
    strset used_roots;      /* top-level names read by any source */
} vctx;

/* Compiles and renders `src`; on success *text holds the rendering (or NULL
 * when rendering failed, with a finding). `paths` (may be NULL) receives
 * the distinct variable paths. Returns 0 when compiled. */
static int run_source(vctx *v, const char *field, const char *src, int html, const char *locale,
                      char **text, size_t *text_len, strset *paths)
{
    *text = NULL;
    *text_len = 0;
    omni_buf o = OMNI_BUF_INIT;
    omni__compile_options(&o, html, locale);
    if (o.failed) {
        omni__buf_free(&o);
        return OMNI_ENOMEM;
    }
    omni_template *t = NULL;
    int rc = omni_template_compile(&t, src, strlen(src), o.data, o.len, NULL);
    omni__buf_free(&o);
    if (rc == OMNI_ENOMEM)
        return rc;
    if (rc) {
        add_finding(&v->f, 1, "SYNTAX_ERROR", field, "%s", omni_error_last_message());
        return 1;
    }
    if (paths) { /* the distinct variable paths, as omni_template_inspect lists them */
        char *ins = NULL;
        size_t ins_len = 0;
        rc = omni_template_inspect(&ins, &ins_len, t);
        if (rc) {
            omni_template_free(t);
            return rc < 0 ? rc : OMNI_EINTERNAL;
        }
        cJSON *j = NULL;
        rc = omni__json_parse(&j, ins, ins_len, 0, "template variables");
        omni_free(ins);
        if (rc) {
            omni_template_free(t);
            return rc;
        }
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(j, "variables")) {
            if (cJSON_IsString(p))
                strset_add(paths, p->valuestring, strlen(p->valuestring));
        }
        cJSON_Delete(j);
    }
    walk_prog(t->main, 0, &v->used_roots);
    rc = omni_template_render_data(text, text_len, t, v->data);
    omni_template_free(t);
    if (rc == OMNI_ENOMEM)
        return rc;
    if (rc) {
        *text = NULL;
        add_finding(&v->f, 1, "RENDER_ERROR", field, "rendering with the sample data failed: %s",
                    omni_error_last_message());
    }
    return 0;
}

/* ---- one variant (the content or a localization) ---------------------------- */

typedef struct variant {
    const char *path;   /* "content", "localizations.hi" */
    const char *locale; /* for the format helpers */
    const char *subject, *body, *html;
    int is_content;
} variant;

static void check_html_text(vctx *v, const char *field, const char *src, const char *text,
                            size_t text_len)
{
    if (has_html(src, strlen(src)) || (text && has_html(text, text_len)))
        add_finding(&v->f, 0, "HTML_IN_TEXT_CHANNEL", field,
                    "%s contains HTML markup or entities, which the %s channel shows as text",
                    field, v->channel);
}

static void json_pair(omni_buf *b, const char *key, const char *s, size_t n)
{
    omni__json_w_key(b, key);
    omni__json_w_strn(b, s, n);
}

static int check_variant(vctx *v, const variant *x, const cJSON *opts, int promotional,
                         omni_buf *extra)
{
    char field[256];
    int rc;
    char *subj = NULL, *body = NULL, *html = NULL;
    size_t subj_len = 0, body_len = 0, html_len = 0;
    int is_sms = !strcmp(v->channel, "sms"), is_email = !strcmp(v->channel, "email");
    int is_push = !strcmp(v->channel, "push"), is_wa = !strcmp(v->channel, "whatsapp");

    if (x->subject && (is_email || is_push)) {
        snprintf(field, sizeof(field), "%s.subject", x->path);
        if ((rc = run_source(v, field, x->subject, 0, x->locale, &subj, &subj_len, NULL)) < 0)
            return rc;
        if (is_push && rc == 0)
            check_html_text(v, field, x->subject, subj, subj_len);
    }
    if (!x->body) {
        snprintf(field, sizeof(field), "%s.body", x->path);
        add_finding(&v->f, 1, "MISSING_BODY", field, "%s is missing", field);
        omni_free(subj);
        return OMNI_OK;
    }
    snprintf(field, sizeof(field), "%s.body", x->path);
    strset paths = {0};
    int compiled = run_source(v, field, x->body, 0, x->locale, &body, &body_len, &paths);
    if (compiled < 0) {
        omni_free(subj);
        strset_free(&paths);
        return compiled;
    }
    if (x->html && is_email) {
        char hf[256];
        snprintf(hf, sizeof(hf), "%s.htmlBody", x->path);
        if ((rc = run_source(v, hf, x->html, 1, x->locale, &html, &html_len, NULL)) < 0) {
            omni_free(subj), omni_free(body);
            strset_free(&paths);
            return rc;
        }
    }
    int64_t maxseg = 0, wa = -1;
    omni__json_int(opts, "maxSmsSegments", &maxseg);
    if (omni__json_int(opts, "whatsappParameters", &wa))
        wa = -1;

    if (compiled == 0 && (is_sms || is_wa || is_push))
        check_html_text(v, field, x->body, body, body_len);
    if (is_sms && body) {
        char *seg = NULL;
        size_t seg_len = 0;
        int enc = 0;
        uint32_t segs = 0, units = 0;
        rc = omni_sms_count(&enc, &segs, &units, body, body_len);
        if (rc == OMNI_ETOOLARGE)
            add_finding(&v->f, 1, "SMS_TOO_MANY_SEGMENTS", field,
                        "%s renders to %zu bytes, over the %u-byte SMS limit", field, body_len,
                        OMNI_SMS_MAX_INPUT);
        if (rc == OMNI_OK && maxseg > 0 && segs > maxseg)
            add_finding(&v->f, 1, "SMS_TOO_MANY_SEGMENTS", field,
                        "%s renders to %u %s segments (%u %s); the maximum is %lld", field, segs,
                        enc == OMNI_SMS_GSM7 ? "GSM-7" : "UCS-2", units,
                        enc == OMNI_SMS_GSM7 ? "septets" : "UTF-16 units", (long long)maxseg);
        if (rc == OMNI_OK && x->is_content &&
            omni_sms_segments(&seg, &seg_len, body, body_len) == OMNI_OK) {
            omni__json_w_key(extra, "sms");
            omni__json_w_raw(extra, seg, seg_len);
            omni_free(seg);
        }
    }
    if (is_sms && promotional && compiled == 0 && !has_opt_out(x->body, strlen(x->body)) &&
        !(body && has_opt_out(body, body_len)))
        add_finding(&v->f, 1, "SMS_MISSING_OPT_OUT", field,
                    "a promotional SMS must tell how to opt out (for example \"Reply STOP to "
                    "unsubscribe\")");
    if (is_wa && compiled == 0 && wa >= 0 && (int64_t)paths.count != wa)
        add_finding(&v->f, 1, "WHATSAPP_PARAMETER_COUNT", field,
                    "%s uses %zu distinct variables; the approved WhatsApp template has %lld "
                    "parameters",
                    field, paths.count, (long long)wa);
    if (is_push && body) {
        omni_buf a = OMNI_BUF_INIT, g = OMNI_BUF_INIT;
        omni__json_w_obj_begin(&a);
        omni__json_w_key(&a, "aps");
        omni__json_w_obj_begin(&a);
        omni__json_w_key(&a, "alert");
        omni__json_w_obj_begin(&a);
        if (subj)
            json_pair(&a, "title", subj, subj_len);
        json_pair(&a, "body", body, body_len);
        omni__json_w_obj_end(&a);
        omni__json_w_obj_end(&a);
        omni__json_w_obj_end(&a);
        omni__json_w_obj_begin(&g);
        omni__json_w_key(&g, "notification");
        omni__json_w_obj_begin(&g);
        if (subj)
            json_pair(&g, "title", subj, subj_len);
        json_pair(&g, "body", body, body_len);
        omni__json_w_obj_end(&g);
        omni__json_w_obj_end(&g);
        if (a.failed || g.failed) {
            omni__buf_free(&a), omni__buf_free(&g);
            omni_free(subj), omni_free(body), omni_free(html);
            strset_free(&paths);
            return OMNI_ENOMEM;
        }
        if (a.len > PUSH_MAX)
            add_finding(&v->f, 1, "PAYLOAD_TOO_LARGE", field,
                        "the APNs payload is %zu bytes; the limit is %u", a.len, PUSH_MAX);
        if (g.len > PUSH_MAX)
            add_finding(&v->f, 1, "PAYLOAD_TOO_LARGE", field,
                        "the FCM notification payload is %zu bytes; the limit is %u", g.len,
                        PUSH_MAX);
        if (x->is_content) {
            omni__json_w_key(extra, "push");
            omni__json_w_obj_begin(extra);
            omni__json_w_key(extra, "apnsBytes");
            omni__json_w_int(extra, (int64_t)a.len);
            omni__json_w_key(extra, "fcmBytes");
            omni__json_w_int(extra, (int64_t)g.len);
            omni__json_w_obj_end(extra);
        }
        omni__buf_free(&a), omni__buf_free(&g);
    }
    int nomem = paths.failed;
    omni_free(subj), omni_free(body), omni_free(html);
    strset_free(&paths);
    return nomem ? OMNI_ENOMEM : OMNI_OK;
}

/* ---- options --------------------------------------------------------------- */

static int opt_err(const char *path, const char *msg)
{
    omni_buf d = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&d);
    omni__json_w_key(&d, "path");
    omni__json_w_str(&d, path);
    omni__json_w_obj_end(&d);
    int rc = omni__err_details(OMNI_EINVAL, d.failed ? NULL : d.data,
                               "validation options: %s %s", path, msg);
    omni__buf_free(&d);
    return rc;
}

static int check_options(const cJSON *o)
{
    if (!cJSON_IsObject(o))
        return omni__err(OMNI_EJSON, "validation options must be a JSON object");
    const cJSON *it;
    cJSON_ArrayForEach(it, o) {
        const char *k = it->string;
        if (!strcmp(k, "data"))
            continue;
        if (!strcmp(k, "maxSmsSegments") || !strcmp(k, "whatsappParameters")) {
            int64_t n;
            if (omni__json_int(o, k, &n) || n < (strcmp(k, "maxSmsSegments") ? 0 : 1) ||
                n > 100000)
                return opt_err(k, strcmp(k, "maxSmsSegments") ? "must be an integer >= 0"
                                                              : "must be an integer >= 1");
        } else if (!strcmp(k, "locale")) {
            if (!cJSON_IsString(it) || !omni__locale_get(it->valuestring))
                return opt_err(k, "must be a locale tag such as \"en-IN\"");
        } else {
            return opt_err(k, "is not a known option");
        }
    }
    return OMNI_OK;
}

/* ---- the public function ---------------------------------------------------- */

static const char *const CHANNELS[] = {"sms", "email", "whatsapp", "push", NULL};

/* A document when the text starts with '{' and then a '"' or '}' (a
 * Handlebars body starts "{{"). */
static int looks_like_document(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    if (i >= n || s[i] != '{')
        return 0;
    i++;
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i < n && (s[i] == '"' || s[i] == '}');
}

static const char *str_at(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

OMNI_API int omni_template_validate(char **out, size_t *out_len, const char *template_json,
                                    size_t len, const char *channel, const char *options_json,
                                    size_t options_len)
{
    if (!out)
        return omni__err(OMNI_EINVAL, "out is NULL");
    *out = NULL;
    if (out_len)
        *out_len = 0;
    int known = 0;
    for (size_t i = 0; channel && CHANNELS[i]; i++)
        known |= !strcmp(channel, CHANNELS[i]);
    if (!known)
        return omni__err(OMNI_EINVAL, "channel must be sms, email, whatsapp or push");
    if (!template_json)
        return omni__err(OMNI_EINVAL, "template is NULL");
    if (len > DOC_MAX)
        return omni__err(OMNI_ETOOLARGE, "a template is at most 1 MiB (got %zu bytes)", len);

    cJSON *opts = NULL, *doc = NULL;
    int rc = OMNI_OK;
    if (options_json && options_len) {
        rc = omni__json_parse(&opts, options_json, options_len, 0, "validation options");
        if (!rc)
            rc = check_options(opts);
    }
    char *body_copy = NULL;
    variant content = {"content", NULL, NULL, NULL, NULL, 1};
    if (!rc && looks_like_document(template_json, len)) {
        rc = omni__json_parse(&doc, template_json, len, DOC_MAX, "template");
        if (!rc && !cJSON_IsObject(doc))
            rc = omni__err(OMNI_EJSON, "the template document must be a JSON object");
    } else if (!rc) {
        size_t bad = 0;
        if (omni_utf8_validate(template_json, len, &bad) != OMNI_OK)
            rc = omni__err(OMNI_EENCODING, "the template is not valid UTF-8 at byte %zu", bad);
        body_copy = rc ? NULL : malloc(len + 1);
        if (!rc && !body_copy)
            rc = omni__err(OMNI_ENOMEM, NULL);
        if (!rc) {
            memcpy(body_copy, template_json, len);
            body_copy[len] = '\0';
            if (memchr(template_json, 0, len))
                rc = omni__err(OMNI_EINVAL, "the template contains a NUL byte");
        }
    }
    if (rc) {
        cJSON_Delete(opts);
        cJSON_Delete(doc);
        free(body_copy);
        return rc;
    }

    vctx v = {0};
    v.channel = channel;
    const char *locale = str_at(opts, "locale");
    const cJSON *cnt = doc ? cJSON_GetObjectItemCaseSensitive(doc, "content") : NULL;
    if (doc) {
        content.subject = str_at(cnt, "subject");
        content.body = str_at(cnt, "body");
        content.html = str_at(cnt, "htmlBody");
        if (!locale)
            locale = str_at(doc, "defaultLocale");
    } else {
        content.body = body_copy;
    }
    if (!locale || !omni__locale_get(locale))
        locale = "en";
    content.locale = locale;

    /* sample data */
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(opts, "data");
    char *data_text = NULL;
    size_t data_len = 0;
    omni_data *parsed = NULL;
    if (data)
        rc = omni__json_print(&data_text, &data_len, data);
    if (!rc)
        rc = data ? omni_data_parse(&parsed, data_text, data_len)
                  : omni_data_parse(&parsed, "{}", 2);
    free(data_text);
    v.data = parsed;
    v.data_json = data;

    omni_buf extra = OMNI_BUF_INIT; /* "sms" / "push" members of the result */
    const char *category = doc ? str_at(doc, "category") : NULL;
    int promotional = category && !strcmp(category, "promotional");
    if (!rc && !strcmp(channel, "email") && (!content.subject || !*content.subject))
        add_finding(&v.f, 1, "MISSING_SUBJECT", doc ? "content.subject" : "subject",
                    "an email template needs a subject");
    if (!rc)
        rc = check_variant(&v, &content, opts, promotional, &extra);
    const cJSON *locs = doc ? cJSON_GetObjectItemCaseSensitive(doc, "localizations") : NULL;
    if (!cJSON_IsObject(locs))
        locs = NULL;
    const cJSON *l;
    cJSON_ArrayForEach(l, locs) {
        if (rc)
            break;
        char path[200];
        snprintf(path, sizeof(path), "localizations.%s", l->string);
        variant x = {path, omni__locale_get(l->string) ? l->string : locale,
                     str_at(l, "subject"), str_at(l, "body"), str_at(l, "htmlBody"), 0};
        rc = check_variant(&v, &x, opts, promotional, &extra);
    }

    /* declared variables against the used ones and the sample data */
    const cJSON *vars = doc ? cJSON_GetObjectItemCaseSensitive(doc, "variables") : NULL;
    if (!rc && cJSON_IsArray(vars)) {
        strset declared = {0};
        const cJSON *d;
        cJSON_ArrayForEach(d, vars) {
            const char *name = str_at(d, "name");
            const char *root = NULL;
            size_t rl = name ? path_root(name, &root) : 0;
            if (rl)
                strset_add(&declared, root, rl);
            const cJSON *req = cJSON_GetObjectItemCaseSensitive(d, "required");
            if (name && cJSON_IsTrue(req) && data) {
                const cJSON *val = omni__json_at(data, name);
                if (!val || cJSON_IsNull(val))
                    add_finding(&v.f, 1, "MISSING_VARIABLE", "variables",
                                "the required variable %s is missing from the sample data",
                                name);
            }
        }
        for (size_t i = 0; i < v.used_roots.count; i++) {
            const char *u = v.used_roots.items[i];
            if (!strset_has(&declared, u, strlen(u)))
                add_finding(&v.f, 0, "UNKNOWN_VARIABLE", "variables",
                            "the template uses %s, which is not declared in variables", u);
        }
        if (declared.failed)
            rc = omni__err(OMNI_ENOMEM, NULL);
        strset_free(&declared);
    } else if (!rc && !doc && data) {
        for (size_t i = 0; i < v.used_roots.count; i++) {
            const char *u = v.used_roots.items[i];
            const cJSON *val =
                cJSON_IsObject(data) ? cJSON_GetObjectItemCaseSensitive(data, u) : NULL;
            if (!val)
                add_finding(&v.f, 0, "MISSING_VARIABLE", "data",
                            "the template uses %s, which the sample data does not have", u);
        }
    }
    if (!rc && (v.used_roots.failed || v.f.b.failed || extra.failed))
        rc = omni__err(OMNI_ENOMEM, NULL);

    omni_buf b = OMNI_BUF_INIT;
    if (!rc) {
        omni__json_w_obj_begin(&b);
        omni__json_w_key(&b, "valid");
        omni__json_w_bool(&b, v.f.errors == 0);
        omni__json_w_key(&b, "channel");
        omni__json_w_str(&b, channel);
        omni__json_w_key(&b, "findings");
        omni__json_w_arr_begin(&b);
        if (v.f.b.len)
            omni__json_w_raw(&b, v.f.b.data, v.f.b.len);
        omni__json_w_arr_end(&b);
        if (extra.len) {
            omni__buf_putc(&b, ',');
            omni__buf_append(&b, extra.data, extra.len);
        }
        omni__json_w_obj_end(&b);
    }
    omni__buf_free(&extra);
    omni__buf_free(&v.f.b);
    strset_free(&v.used_roots);
    omni_data_free(parsed);
    cJSON_Delete(opts);
    cJSON_Delete(doc);
    free(body_copy);
    return omni__buf_finish(&b, rc, out, out_len);
}
