/* Fuzz target: the template compiler and renderer.
 * Input: byte 0 selects the options (mode, escape, strict, includeZero);
 * the rest is the template source, optionally followed by 0xFF and the
 * source of a partial named "p" (also reachable as "self" for recursion).
 * Every input must compile or fail with a syntax/limit error; a compiled
 * template is rendered with a fixed data document from JSON text and from
 * parsed data (the results must agree) and inspected. Never a crash, leak
 * or hang (renders are bounded by the output, depth and work limits). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/buf.h"
#include "lib/core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_data[] =
    "{\"name\":\"Asha <&>\",\"n\":0,\"f\":1.5,\"t\":true,\"nul\":null,\"s\":\"\",\"e\":[],"
    "\"list\":[{\"name\":\"a\",\"v\":1},{\"name\":\"b\",\"v\":[1,2]},null,\"str\",3],"
    "\"o\":{\"k\":\"v\",\"2\":\"two\",\"deep\":{\"x\":{\"y\":\"z\"}}},\"which\":\"p\","
    "\"1\":\"one\",\"this\":\"T\"}";

static int h_block(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    int rc = omni_helper_append_block(call, omni_helper_arg(call, 0));
    if (!rc)
        rc = omni_helper_append_inverse(call, NULL);
    return rc == OMNI_EINVAL ? omni_helper_return_string(call, "x", 1) : rc;
}

static int h_json(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    const omni_value *v = omni_helper_hash(call, "v");
    char *s;
    size_t n;
    if (omni_value_json(&s, &n, v ? v : omni_helper_arg(call, 0)))
        return -1;
    int rc = omni_helper_return_json(call, s, n);
    omni_free(s);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const char *const modes[] = {"handlebars", "mustache"};
    static const char *const escapes[] = {"html", "none", "json", "html"};
    uint8_t sel = data[0];
    const char *src = (const char *)data + 1;
    size_t len = size - 1, plen = 0;
    const char *psrc = NULL;
    const uint8_t *sep = memchr(data + 1, 0xFF, len);
    if (sep) {
        len = (size_t)(sep - (data + 1));
        psrc = (const char *)sep + 1;
        plen = size - 1 - len - 1;
    }
    omni_buf o = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&o);
    omni__json_w_key(&o, "mode");
    omni__json_w_str(&o, modes[sel & 1]);
    omni__json_w_key(&o, "escape");
    omni__json_w_str(&o, escapes[(sel >> 1) & 3]);
    omni__json_w_key(&o, "strict");
    omni__json_w_bool(&o, (sel >> 3) & 1);
    omni__json_w_key(&o, "includeZero");
    omni__json_w_bool(&o, (sel >> 4) & 1);
    if (psrc) {
        omni__json_w_key(&o, "partials");
        omni__json_w_obj_begin(&o);
        omni__json_w_key(&o, "p");
        omni__json_w_strn(&o, psrc, plen);
        omni__json_w_key(&o, "self");
        omni__json_w_strn(&o, psrc, plen);
        omni__json_w_obj_end(&o);
    }
    omni__json_w_obj_end(&o);
    if (o.failed) {
        omni__buf_free(&o);
        return 0;
    }
    omni_helpers *h;
    if (omni_helpers_new(&h) || omni_helpers_add(h, "blk", h_block, NULL) ||
        omni_helpers_add(h, "js", h_json, NULL))
        abort();
    omni_template *t = NULL;
    int rc = omni_template_compile(&t, src, len, o.data, o.len, h);
    omni__buf_free(&o);
    omni_helpers_free(h);
    if (rc != OMNI_OK) {
        /* a partial's source that is not a JSON string (invalid UTF-8) is a
         * configuration error */
        if (t || (rc != OMNI_ESYNTAX && rc != OMNI_ETOODEEP && rc != OMNI_ETOOLARGE &&
                  rc != OMNI_ECONFIG))
            abort();
        if (omni_error_last_message()[0] == '\0')
            abort();
        return 0;
    }
    char *out = NULL, *out2 = NULL;
    size_t n = 0, n2 = 0;
    int r1 = omni_template_render(&out, &n, t, fixed_data, sizeof(fixed_data) - 1);
    omni_data *d = NULL;
    if (omni_data_parse(&d, fixed_data, sizeof(fixed_data) - 1))
        abort();
    int r2 = omni_template_render_data(&out2, &n2, t, d);
    if (r1 != r2)
        abort();
    if (r1 == OMNI_OK) {
        if (!out || !out2 || n != n2 || memcmp(out, out2, n) != 0 || out[n] != '\0')
            abort();
        if (n > OMNI_TEMPLATE_MAX_OUTPUT)
            abort();
    } else if (out || out2 || omni_error_last_message()[0] == '\0') {
        abort();
    }
    omni_free(out);
    omni_free(out2);
    omni_data_free(d);
    char *j = NULL;
    if (omni_template_inspect(&j, &n, t) != OMNI_OK)
        abort();
    omni_data *jd = NULL;
    if (omni_data_parse(&jd, j, n) != OMNI_OK)
        abort();
    omni_data_free(jd);
    omni_free(j);
    omni_template_free(t);
    return 0;
}
