/* Differential test driver: renders every case of cases.json with libomni
 * and compares the bytes with handlebars.js' output (expected.json, written
 * at test time by render_handlebars.js). A case that fails in handlebars.js
 * must fail in libomni too. Each case is rendered from JSON text and from
 * parsed data; both must agree. Prints every mismatch by case name.
 *
 * usage: template_differential CASES_JSON EXPECTED_JSON */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/buf.h"
#include "lib/core/json.h"
#include "lib/template/template_internal.h"
#include "test_files.h"

/* ---- the twins of render_handlebars.js' helpers ------------------------------ */

static int ret_buf(omni_helper_call *call, omni_buf *b, int safe)
{
    int rc = b->failed ? OMNI_ENOMEM
                       : safe ? omni_helper_return_safe(call, b->data ? b->data : "", b->len)
                              : omni_helper_return_string(call, b->data ? b->data : "", b->len);
    omni__buf_free(b);
    return rc;
}

/* JavaScript's String(v), with null and undefined as "". */
static void text(omni_buf *b, const omni_value *v)
{
    int t = omni_value_type(v);
    if (t != OMNI_VALUE_UNDEFINED && t != OMNI_VALUE_NULL)
        omni__js_string(b, v);
}

static void html_escape(omni_buf *b, const omni_value *v)
{
    omni_buf t = OMNI_BUF_INIT;
    text(&t, v);
    for (size_t i = 0; i < t.len; i++) {
        switch (t.data[i]) {
        case '&': omni__buf_puts(b, "&amp;"); break;
        case '<': omni__buf_puts(b, "&lt;"); break;
        case '>': omni__buf_puts(b, "&gt;"); break;
        case '"': omni__buf_puts(b, "&quot;"); break;
        case '\'': omni__buf_puts(b, "&#x27;"); break;
        case '`': omni__buf_puts(b, "&#x60;"); break;
        case '=': omni__buf_puts(b, "&#x3D;"); break;
        default: omni__buf_putc(b, t.data[i]);
        }
    }
    omni__buf_free(&t);
}

static int h_shout(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    omni_buf b = OMNI_BUF_INIT;
    text(&b, omni_helper_arg(call, 0));
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] >= 'a' && b.data[i] <= 'z')
            b.data[i] = (char)(b.data[i] - 32);
    omni__buf_putc(&b, '!');
    return ret_buf(call, &b, 0);
}

static int h_bold(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    char *body;
    size_t n;
    int rc = omni_helper_render_block(&body, &n, call, NULL);
    if (rc)
        return rc;
    omni_buf b = OMNI_BUF_INIT;
    omni__buf_puts(&b, "<b>");
    omni__buf_append(&b, body, n);
    omni__buf_puts(&b, "</b>");
    omni_free(body);
    return ret_buf(call, &b, 0);
}

static int h_link(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    omni_buf b = OMNI_BUF_INIT;
    omni__buf_puts(&b, "<a href=\"");
    html_escape(&b, omni_helper_arg(call, 1));
    omni__buf_puts(&b, "\">");
    html_escape(&b, omni_helper_arg(call, 0));
    omni__buf_puts(&b, "</a>");
    return ret_buf(call, &b, 1);
}

static int h_concat(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    omni_buf b = OMNI_BUF_INIT;
    for (size_t i = 0; i < omni_helper_argc(call); i++)
        text(&b, omni_helper_arg(call, i));
    return ret_buf(call, &b, 0);
}

static int h_hashjson(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    for (size_t i = 0; i < omni_helper_hash_count(call); i++) {
        const omni_value *v = omni_helper_hash_value(call, i);
        if (omni_value_type(v) == OMNI_VALUE_UNDEFINED)
            continue; /* JSON.stringify leaves undefined out */
        omni__json_w_key(&b, omni_helper_hash_key(call, i));
        omni__value_write_json(&b, v);
    }
    omni__json_w_obj_end(&b);
    return ret_buf(call, &b, 0);
}

static int h_list(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    const omni_value *items = omni_helper_arg(call, 0);
    int rc = omni_helper_return_string(call, "", 0);
    for (size_t i = 0; !rc && i < omni_value_count(items); i++)
        rc = omni_helper_append_block(call, omni_value_at(items, i));
    return rc;
}

static int h_ifeven(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    double n = omni_value_number(omni_helper_arg(call, 0));
    int even = omni_value_type(omni_helper_arg(call, 0)) == OMNI_VALUE_NUMBER &&
               (long long)n % 2 == 0;
    return even ? omni_helper_append_block(call, NULL) : omni_helper_append_inverse(call, NULL);
}

static int h_add(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    return omni_helper_return_number(call, omni__js_tonumber(omni_helper_arg(call, 0)) +
                                               omni__js_tonumber(omni_helper_arg(call, 1)));
}

static int h_safe(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    omni_buf b = OMNI_BUF_INIT;
    text(&b, omni_helper_arg(call, 0));
    return ret_buf(call, &b, 1);
}

static int h_json(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    const omni_value *v = omni_helper_arg(call, 0);
    if (omni_value_type(v) == OMNI_VALUE_UNDEFINED)
        return 0; /* JSON.stringify(undefined) is undefined */
    char *s;
    size_t n;
    int rc = omni_value_json(&s, &n, v);
    if (rc)
        return rc;
    rc = omni_helper_return_string(call, s, n);
    omni_free(s);
    return rc;
}

static int h_withx(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    const omni_value *v = omni_helper_arg(call, 0);
    if (omni_value_type(v) != OMNI_VALUE_UNDEFINED) {
        omni__json_w_key(&b, "x");
        omni__value_write_json(&b, v);
    }
    omni__json_w_obj_end(&b);
    const omni_value *nv;
    int rc = omni_helper_make_value(&nv, call, b.data, b.len);
    omni__buf_free(&b);
    return rc ? rc : omni_helper_append_block(call, nv);
}

static int h_echo(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    const omni_value *v = omni_helper_arg(call, 0);
    if (omni_value_type(v) == OMNI_VALUE_UNDEFINED)
        return 0;
    char *s;
    size_t n;
    int rc = omni_value_json(&s, &n, v);
    if (!rc)
        rc = omni_helper_return_json(call, s, n);
    omni_free(s);
    return rc;
}

static int h_nullish(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    return omni_helper_return_null(call);
}

static int h_undef(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    (void)call;
    return 0;
}

static int h_fail(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    (void)call;
    return omni_error_set(OMNI_EINVAL, "boom", 0);
}

static int h_ctx(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    char *s;
    size_t n;
    int rc = omni_value_json(&s, &n, omni_helper_context(call));
    if (!rc)
        rc = omni_helper_return_string(call, s, n);
    omni_free(s);
    return rc;
}

static int h_name(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    const char *n = omni_helper_name(call);
    return omni_helper_return_string(call, n, strlen(n));
}

static int h_isblock(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    const char *s = omni_helper_is_block(call) ? "block" : "inline";
    return omni_helper_return_string(call, s, strlen(s));
}

static omni_helpers *make_helpers(void)
{
    omni_helpers *h;
    if (omni_helpers_new(&h))
        return NULL;
    static const struct {
        const char *name;
        omni_helper_fn fn;
    } list[] = {
        {"shout", h_shout},     {"link", h_link},       {"concat", h_concat},
        {"hashjson", h_hashjson}, {"list", h_list},     {"ifeven", h_ifeven},
        {"add", h_add},         {"safe", h_safe},       {"json", h_json},
        {"withx", h_withx},     {"echo", h_echo},       {"nullish", h_nullish},
        {"undef", h_undef},     {"fail", h_fail},       {"ctx", h_ctx},
        {"name", h_name},       {"isblock", h_isblock},     {"bold", h_bold},
    };
    for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++)
        if (omni_helpers_add(h, list[i].name, list[i].fn, NULL)) {
            omni_helpers_free(h);
            return NULL;
        }
    return h;
}

/* ---- the driver ----------------------------------------------------------- */

static omni_data *load(const char *path)
{
    size_t len = 0;
    char *text = test_read_file(path, &len);
    if (!text) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    omni_data *d = NULL;
    if (omni_data_parse(&d, text, len))
        fprintf(stderr, "%s: %s\n", path, omni_error_last_message());
    free(text);
    return d;
}

static char *json_of(const omni_value *v, size_t *n)
{
    char *s = NULL;
    if (omni_value_json(&s, n, v))
        return NULL;
    return s;
}

/* Options for the case: its "options" plus "partials". */
static char *case_options(const omni_value *c, size_t *n)
{
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    const omni_value *opts = omni_value_get(c, "options");
    for (size_t i = 0; i < omni_value_count(opts); i++) {
        omni__json_w_key(&b, omni_value_key(opts, i));
        omni__value_write_json(&b, omni_value_at(opts, i));
    }
    const omni_value *partials = omni_value_get(c, "partials");
    if (partials) {
        omni__json_w_key(&b, "partials");
        omni__value_write_json(&b, partials);
    }
    omni__json_w_obj_end(&b);
    char *s = NULL;
    if (omni__buf_detach(&b, &s, n))
        return NULL;
    return s;
}

static void show(const char *label, const char *s, size_t n)
{
    printf("    %s \"", label);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n')
            printf("\\n");
        else if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    printf("\"\n");
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s CASES_JSON EXPECTED_JSON\n", argv[0]);
        return 2;
    }
    omni_data *cases = load(argv[1]), *expected = load(argv[2]);
    omni_helpers *helpers = make_helpers();
    if (!cases || !expected || !helpers)
        return 2;
    const omni_value *list = omni_data_root(cases);
    size_t total = omni_value_count(list), failed = 0, errors = 0;
    for (size_t i = 0; i < total; i++) {
        const omni_value *c = omni_value_at(list, i);
        const char *name = omni_value_string(omni_value_get(c, "name"), NULL);
        size_t tlen;
        const char *tpl = omni_value_string(omni_value_get(c, "template"), &tlen);
        const omni_value *exp = omni_value_get(omni_data_root(expected), name ? name : "");
        if (!name || !tpl || !exp) {
            printf("FAIL %s: malformed case or no expected output\n", name ? name : "?");
            failed++;
            continue;
        }
        size_t olen = 0, dlen = 0;
        char *opts = case_options(c, &olen);
        const omni_value *data = omni_value_get(c, "data");
        char *djson = data ? json_of(data, &dlen) : NULL;
        size_t elen = 0;
        const char *want = omni_value_string(omni_value_get(exp, "output"), &elen);
        const char *want_err = omni_value_string(omni_value_get(exp, "error"), NULL);
        omni_template *t = NULL;
        char *out = NULL, *out2 = NULL;
        size_t n = 0, n2 = 0;
        int rc = omni_template_compile(&t, tpl, tlen, opts, olen, helpers);
        char msg[600] = "";
        if (!rc)
            rc = omni_template_render(&out, &n, t, djson ? djson : "{}", djson ? dlen : 2);
        if (rc)
            snprintf(msg, sizeof(msg), "%s: %s", omni_error_last_code(),
                     omni_error_last_message());
        if (!rc) {
            /* the same from parsed data */
            omni_data *d = NULL;
            if (omni_data_parse(&d, djson ? djson : "{}", djson ? dlen : 2) ||
                omni_template_render_data(&out2, &n2, t, d) || n2 != n ||
                memcmp(out, out2, n) != 0) {
                printf("FAIL %s: render_data and render disagree\n", name);
                failed++;
            }
            omni_data_free(d);
        }
        if (want_err) {
            errors++;
            if (!rc) {
                printf("FAIL %s: handlebars.js fails (%s) but libomni renders\n", name, want_err);
                show("libomni:", out, n);
                failed++;
            }
        } else if (rc) {
            printf("FAIL %s: libomni fails: %s\n", name, msg);
            show("handlebars:", want ? want : "", elen);
            failed++;
        } else if (!want || n != elen || memcmp(out, want, n) != 0) {
            printf("FAIL %s: output differs\n", name);
            printf("    template: %s\n", tpl);
            show("handlebars:", want ? want : "", elen);
            show("libomni:   ", out, n);
            failed++;
        }
        omni_free(out);
        omni_free(out2);
        omni_free(opts);
        omni_free(djson);
        omni_template_free(t);
    }
    printf("%zu cases (%zu expected errors), %zu failed\n", total, errors, failed);
    omni_helpers_free(helpers);
    omni_data_free(cases);
    omni_data_free(expected);
    return failed ? 1 : 0;
}
