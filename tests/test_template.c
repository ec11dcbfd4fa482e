/* The template renderer: Handlebars features (escaping, paths, blocks,
 * whitespace control, partials, helpers), mustache mode, escape modes,
 * syntax errors with line/column, options, strict mode, host helpers and
 * the helper-call API, built-in helpers, limits (partial recursion, output
 * size, work, nesting), inspect, and a thread-safety smoke test. Exact
 * agreement with handlebars.js is checked by the differential test
 * (tests/template/); these tests also run without node. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

/* ---- helpers ---------------------------------------------------------------- */

static omni_template *compile_opts(const char *src, const char *opts, const omni_helpers *h)
{
    omni_template *t = NULL;
    int rc = omni_template_compile(&t, src, strlen(src), opts, opts ? strlen(opts) : 0, h);
    cr_assert_eq(rc, OMNI_OK, "compile \"%s\": %s", src, omni_error_last_message());
    return t;
}

/* Renders src with data (JSON) and options; returns the output (free it). */
static char *render_opts(const char *src, const char *data, const char *opts,
                         const omni_helpers *h)
{
    omni_template *t = compile_opts(src, opts, h);
    char *out = NULL;
    size_t len = 0;
    int rc = omni_template_render(&out, &len, t, data, strlen(data));
    cr_assert_eq(rc, OMNI_OK, "render \"%s\": %s", src, omni_error_last_message());
    cr_assert_eq(strlen(out), len);
    /* the same from parsed data */
    omni_data *d;
    cr_assert_eq(omni_data_parse(&d, data, strlen(data)), OMNI_OK);
    char *out2 = NULL;
    size_t len2 = 0;
    cr_assert_eq(omni_template_render_data(&out2, &len2, t, d), OMNI_OK);
    cr_assert_eq(len, len2);
    cr_assert_eq(memcmp(out, out2, len), 0);
    omni_free(out2);
    omni_data_free(d);
    omni_template_free(t);
    return out;
}

static void expect(const char *src, const char *data, const char *want)
{
    char *out = render_opts(src, data, NULL, NULL);
    cr_assert_str_eq(out, want, "template \"%s\" gave \"%s\"", src, out);
    omni_free(out);
}

static void expect_opts(const char *src, const char *data, const char *opts, const char *want)
{
    char *out = render_opts(src, data, opts, NULL);
    cr_assert_str_eq(out, want, "template \"%s\" options %s", src, opts);
    omni_free(out);
}

static int compile_status(const char *src, const char *opts)
{
    omni_template *t = NULL;
    int rc = omni_template_compile(&t, src, strlen(src), opts, opts ? strlen(opts) : 0, NULL);
    if (rc == OMNI_OK)
        omni_template_free(t);
    else
        cr_assert_null(t);
    return rc;
}

static int render_status(const char *src, const char *data, const char *opts)
{
    omni_template *t = compile_opts(src, opts, NULL);
    char *out = (char *)1;
    int rc = omni_template_render(&out, NULL, t, data, strlen(data));
    if (rc == OMNI_OK)
        omni_free(out);
    else
        cr_assert_null(out, "no output on error");
    omni_template_free(t);
    return rc;
}

/* ---- language ------------------------------------------------------------------ */

Test(template, interpolation_and_html_escaping)
{
    expect("Hi {{name}}!", "{\"name\":\"Asha\"}", "Hi Asha!");
    expect("{{v}}", "{\"v\":\"&<>\\\"'`=\"}", "&amp;&lt;&gt;&quot;&#x27;&#x60;&#x3D;");
    expect("{{{v}}}|{{&v}}", "{\"v\":\"<b>\"}", "<b>|<b>");
    expect("[{{missing}}][{{n}}][{{b}}][{{z}}]", "{\"n\":null,\"b\":false,\"z\":0}",
           "[][][false][0]");
}

Test(template, embedded_nul_in_output)
{
    omni_template *t = compile_opts("[{{v}}]", NULL, NULL);
    char *out;
    size_t len;
    const char *data = "{\"v\":\"a\\u0000<\"}";
    cr_assert_eq(omni_template_render(&out, &len, t, data, strlen(data)), OMNI_OK);
    cr_assert_eq(len, 8);
    cr_assert_eq(memcmp(out, "[a\0&lt;]", 8), 0);
    omni_free(out);
    omni_template_free(t);
}

Test(template, javascript_values)
{
    expect("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}}",
           "{\"a\":1e21,\"b\":0.30000000000000004,\"c\":-0,\"d\":12345678901234567890,"
           "\"e\":1e-7,\"f\":123.456}",
           "1e+21 0.30000000000000004 0 12345678901234567000 1e-7 123.456");
    expect("{{a}}|{{o}}|{{e}}", "{\"a\":[1,[2,3],null,\"x\"],\"o\":{\"k\":1},\"e\":[]}",
           "1,2,3,,x|[object Object]|");
    expect("{{s.length}} {{a.length}} {{s.[1]}}", "{\"s\":\"h\\u00e9\\ud83d\\ude00\",\"a\":[1,2]}",
           "4 2 \xc3\xa9");
}

Test(template, paths)
{
    const char *data = "{\"a\":{\"b\":{\"c\":\"C\"}},\"list\":[{\"n\":\"x\"}],\"top\":\"T\","
                       "\"first name\":\"F\"}";
    expect("{{a.b.c}} {{a/b/c}} {{this.top}} {{./top}} {{[first name]}} {{list.[0].n}}", data,
           "C C T T F x");
    expect("{{#with a}}{{#with b}}{{c}}{{../../top}}{{@root.top}}{{/with}}{{/with}}", data,
           "CTT");
    expect("{{#each list}}{{n}}{{../top}}{{/each}}", data, "xT");
    expect("{{a.nope.c}}|{{nope.x}}", data, "|");
}

Test(template, blocks)
{
    expect("{{#if a}}A{{else if b}}B{{else}}C{{/if}}", "{\"b\":1}", "B");
    expect("{{#unless a}}U{{else}}A{{/unless}}", "{\"a\":0}", "U");
    expect("{{#if z}}y{{else}}n{{/if}}{{#if z includeZero=true}}y{{else}}n{{/if}}", "{\"z\":0}",
           "ny");
    expect_opts("{{#if z}}y{{else}}n{{/if}}", "{\"z\":0}", "{\"includeZero\":true}", "y");
    expect("{{#if e}}y{{else}}n{{/if}}", "{\"e\":[]}", "n");
    expect("{{#each a}}{{@index}}{{@key}}{{this}}{{#if @first}}F{{/if}}{{#if @last}}L{{/if}},"
           "{{/each}}",
           "{\"a\":[\"x\",\"y\"]}", "00xF,11yL,");
    expect("{{#each o}}{{@key}}={{this}};{{else}}none{{/each}}", "{\"o\":{\"b\":1,\"2\":2}}",
           "2=2;b=1;");
    expect("{{#each o}}x{{else}}none{{/each}}", "{\"o\":{}}", "none");
    expect("{{#each a as |v i|}}{{i}}:{{v}} {{/each}}", "{\"a\":[7,8]}", "0:7 1:8 ");
    expect("{{#with p as |q|}}{{q.n}}{{/with}}{{#with nope}}x{{else}}-{{/with}}",
           "{\"p\":{\"n\":1}}", "1-");
    expect("{{#s}}[{{.}}]{{/s}}{{^e}}empty{{/e}}{{#z}}zero{{/z}}", "{\"s\":[1,2],\"e\":[],\"z\":0}",
           "[1][2]emptyzero");
    expect("{{lookup a 1}}{{lookup o k}}", "{\"a\":[\"p\",\"q\"],\"o\":{\"x\":\"X\"},\"k\":\"x\"}",
           "qX");
    expect("a{{log \"message\" level=\"warn\"}}b", "{}", "ab");
}

Test(template, whitespace_control_and_standalone_lines)
{
    expect("a  {{~v~}}  b", "{\"v\":\"V\"}", "aVb");
    expect("<ul>\n  {{#each a}}\n  <li>{{this}}</li>\n  {{/each}}\n</ul>", "{\"a\":[1,2]}",
           "<ul>\n  <li>1</li>\n  <li>2</li>\n</ul>");
    expect("{{#if a}}\nyes\n{{else}}\nno\n{{/if}}\n", "{}", "no\n");
    expect("a\n  {{! comment }}\nb", "{}", "a\nb");
    expect("a{{!-- }} --}}b\\{{c}}", "{\"c\":1}", "ab{{c}}");
    expect("a\r\n{{#if t}}\r\nb\r\n{{/if}}\r\nc", "{\"t\":true}", "a\r\nb\r\nc");
}

Test(template, partials)
{
    const char *opts = "{\"partials\":{\"item\":\"<li>{{name}}</li>\",\"greet\":\"{{greeting}} "
                       "{{name}}\",\"lines\":\"a\\nb\\n\",\"self\":\"{{name}}"
                       "{{#each kids}}({{> self}}){{/each}}\"}}";
    expect_opts("{{> item}}|{{> item p}}|{{> greet greeting=\"Hi\"}}",
                "{\"name\":\"N\",\"p\":{\"name\":\"P\"}}", opts, "<li>N</li>|<li>P</li>|Hi N");
    expect_opts("x\n  {{> lines}}\ny", "{}", opts, "x\n  a\n  b\ny");
    expect_opts("{{> self}}", "{\"name\":\"r\",\"kids\":[{\"name\":\"a\",\"kids\":[]}]}", opts,
                "r(a)");
    expect_opts("{{> (lookup . \"which\")}}", "{\"which\":\"item\",\"name\":\"D\"}", opts,
                "<li>D</li>");
    cr_assert_eq(render_status("{{> nope}}", "{}", NULL), OMNI_ENOTFOUND);
    cr_assert(strstr(omni_error_last_message(), "nope") != NULL);
}

Test(template, partial_recursion_is_bounded)
{
    const char *opts = "{\"partials\":{\"loop\":\"x{{> loop}}\"}}";
    cr_assert_eq(render_status("{{> loop}}", "{}", opts), OMNI_ETOODEEP);
    /* mutual recursion, and in mustache mode */
    const char *two = "{\"partials\":{\"a\":\"{{> b}}\",\"b\":\"{{> a}}\"}}";
    cr_assert_eq(render_status("{{> a}}", "{}", two), OMNI_ETOODEEP);
    const char *mu = "{\"mode\":\"mustache\",\"partials\":{\"m\":\"{{>m}}\"}}";
    cr_assert_eq(render_status("{{>m}}", "{}", mu), OMNI_ETOODEEP);
    /* 32 levels are fine */
    const char *depth = "{\"partials\":{\"d\":\"{{#if more}}{{> d more.more}}{{/if}}.\"}}";
    char data[4096] = "";
    size_t n = 0;
    for (int i = 0; i < 31; i++)
        n += (size_t)snprintf(data + n, sizeof(data) - n, "{\"more\":");
    n += (size_t)snprintf(data + n, sizeof(data) - n, "null");
    for (int i = 0; i < 31; i++)
        n += (size_t)snprintf(data + n, sizeof(data) - n, "}");
    char *out = render_opts("{{> d this}}", data, depth, NULL);
    cr_assert_eq(strlen(out), 16);
    omni_free(out);
}

Test(template, subexpressions_and_literals)
{
    expect("{{#if (eq a \"x\")}}yes{{/if}}", "{\"a\":\"x\"}", "yes");
    expect("{{lookup (lookup o \"a\") \"b\"}}", "{\"o\":{\"a\":{\"b\":\"deep\"}}}", "deep");
    expect("{{\"lit\"}}|{{1}}|{{true}}", "{\"lit\":\"L\",\"1\":\"one\",\"true\":\"T\"}", "L|one|T");
    expect("{{default nope 'fallback'}} {{default '' 0}} {{default}}|", "{}", "fallback 0 |");
}

Test(template, mustache_mode)
{
    const char *mu = "{\"mode\":\"mustache\"}";
    expect_opts("{{#a}}{{b}}{{/a}}", "{\"a\":{\"c\":1},\"b\":\"outer\"}", mu, "outer");
    expect_opts("{{=<% %>=}}<% v %> {{v}}", "{\"v\":\"x\"}", mu, "x {{v}}");
    expect_opts("{{if}}{{#each}}x{{/each}}", "{\"if\":\"I\"}", mu, "I");
    expect_opts("{{> missing}}ok", "{}", mu, "ok");
    expect_opts("{{.}}", "\"<s>\"", mu, "&lt;s&gt;");
    /* handlebars has no set-delimiter tags */
    cr_assert_eq(compile_status("{{=<% %>=}}", NULL), OMNI_ESYNTAX);
}

Test(template, escape_modes)
{
    expect_opts("{\"text\":\"{{msg}}\"}", "{\"msg\":\"a \\\"quote\\\"\\n\\u0001<b>\"}",
                "{\"escape\":\"json\"}", "{\"text\":\"a \\\"quote\\\"\\n\\u0001<b>\"}");
    expect_opts("{{msg}} {{{msg}}}", "{\"msg\":\"<b>&</b>\"}", "{\"escape\":\"none\"}",
                "<b>&</b> <b>&</b>");
    expect_opts("{{msg}}", "{\"msg\":\"<b>\"}", "{\"escape\":\"html\"}", "&lt;b&gt;");
    expect_opts("{{{msg}}}", "{\"msg\":\"\\\"\"}", "{\"escape\":\"json\"}", "\"");
}

/* ---- errors ----------------------------------------------------------------------- */

static void expect_syntax(const char *src, const char *opts, unsigned line, unsigned col,
                          const char *phrase)
{
    cr_assert_eq(compile_status(src, opts), OMNI_ESYNTAX, "\"%s\" should not compile", src);
    const omni_error *e = omni_error_last();
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "line %u, column %u: ", line, col);
    cr_assert(strncmp(e->message, prefix, strlen(prefix)) == 0, "\"%s\": message \"%s\"", src,
              e->message);
    cr_assert(strstr(e->message, phrase) != NULL, "\"%s\": message \"%s\" lacks \"%s\"", src,
              e->message, phrase);
    char details[96];
    snprintf(details, sizeof(details), "{\"line\":%u,\"column\":%u", line, col);
    cr_assert(e->details && strncmp(e->details, details, strlen(details)) == 0, "details %s",
              e->details ? e->details : "(null)");
    cr_assert_str_eq(e->code, "TEMPLATE_SYNTAX_ERROR");
}

Test(template, syntax_errors)
{
    expect_syntax("{{#if a}}x", NULL, 1, 11, "end of template");
    expect_syntax("ab\n{{#if a}}x{{/each}}", NULL, 2, 1, "if doesn't match each");
    expect_syntax("{{name", NULL, 1, 3, "unexpected 'n'");
    expect_syntax("a{{else}}b", NULL, 1, 2, "'{{else}}'");
    expect_syntax("{{a.this}}", NULL, 1, 3, "invalid path");
    expect_syntax("{{!-- x", NULL, 1, 1, "unterminated comment");
    expect_syntax("{{{a}}", NULL, 1, 5, "expected '}}}'");
    expect_syntax("x\n {{> p a b}}", NULL, 2, 2, "partial arguments");
    expect_syntax("{{foo bar=1 baz}}", NULL, 1, 13, "unexpected");
    expect_syntax("{{#> layout}}{{/layout}}", NULL, 1, 1, "partial blocks");
    expect_syntax("{{#*inline \"x\"}}{{/inline}}", NULL, 1, 1, "inline partials");
    expect_syntax("{{{{raw}}}}x{{{{/raw}}}}", NULL, 1, 1, "raw blocks");
    expect_syntax("{{* deco}}", NULL, 1, 1, "decorators");
    expect_syntax("\xc3\xa9\xc3{{x}}", NULL, 1, 2, "invalid UTF-8");
    omni_template *t;
    cr_assert_eq(omni_template_compile(&t, "a\0b", 3, NULL, 0, NULL), OMNI_ESYNTAX);
    cr_assert(strstr(omni_error_last_message(), "line 1, column 2: NUL") != NULL);
    cr_assert_eq(omni_template_compile(&t, "{{a}}\0", 6, NULL, 0, NULL), OMNI_ESYNTAX);
    /* mustache mode */
    expect_syntax("{{#a}}", "{\"mode\":\"mustache\"}", 1, 1, "unclosed section");
    expect_syntax("{{#a}}{{/b}}", "{\"mode\":\"mustache\"}", 1, 7, "doesn't match");
    expect_syntax("x{{y", "{\"mode\":\"mustache\"}", 1, 2, "unclosed tag");
    expect_syntax("{{= a =}}", "{\"mode\":\"mustache\"}", 1, 1, "set-delimiter");
    expect_syntax("{{/a}}", "{\"mode\":\"mustache\"}", 1, 1, "without an open section");
    expect_syntax("{{a..b}}", "{\"mode\":\"mustache\"}", 1, 1, "invalid name");
    expect_syntax("{{ }}", "{\"mode\":\"mustache\"}", 1, 1, "empty tag name");
}

Test(template, syntax_error_in_partial)
{
    omni_template *t;
    const char *opts = "{\"partials\":{\"card\":\"ok\\n  {{#if x}}\"}}";
    cr_assert_eq(omni_template_compile(&t, "{{> card}}", 10, opts, strlen(opts), NULL),
                 OMNI_ESYNTAX);
    cr_assert_str_eq(omni_error_last()->details, "{\"line\":2,\"column\":12,\"partial\":\"card\"}");
    cr_assert(strstr(omni_error_last_message(), "partial \"card\"") != NULL);
}

Test(template, nesting_and_size_limits)
{
    char src[2048] = "";
    size_t n = 0;
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(src + n, sizeof(src) - n, "{{#if a}}");
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(src + n, sizeof(src) - n, "{{/if}}");
    cr_assert_eq(compile_status(src, NULL), OMNI_ETOODEEP);
    /* 64 levels are fine */
    n = 0;
    for (int i = 0; i < 64; i++)
        n += (size_t)snprintf(src + n, sizeof(src) - n, "{{#if a}}");
    for (int i = 0; i < 64; i++)
        n += (size_t)snprintf(src + n, sizeof(src) - n, "{{/if}}");
    cr_assert_eq(compile_status(src, NULL), OMNI_OK);
    char sx[1024] = "{{x ";
    n = 4;
    for (int i = 0; i < 70; i++) {
        memcpy(sx + n, "(a ", 3);
        n += 3;
    }
    sx[n++] = 'y';
    for (int i = 0; i < 70; i++)
        sx[n++] = ')';
    memcpy(sx + n, "}}", 3);
    cr_assert_eq(compile_status(sx, NULL), OMNI_ETOODEEP);
    size_t big = OMNI_TEMPLATE_MAX_SOURCE + 1;
    char *huge = malloc(big);
    cr_assert_not_null(huge);
    memset(huge, 'x', big);
    omni_template *t;
    cr_assert_eq(omni_template_compile(&t, huge, big, NULL, 0, NULL), OMNI_ETOOLARGE);
    free(huge);
}

Test(template, output_and_work_limits)
{
    /* 20 copies of a 1 MB string: over the 16 MB output limit */
    size_t len = 1024 * 1024 + 32;
    char *data = malloc(len);
    cr_assert_not_null(data);
    size_t n = (size_t)snprintf(data, len, "{\"a\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,"
                                           "17,18,19,20],\"s\":\"");
    memset(data + n, 'x', 1024 * 1024 - 200);
    n += 1024 * 1024 - 200;
    memcpy(data + n, "\"}", 3);
    n += 2;
    omni_template *t = compile_opts("{{#each a}}{{../s}}{{/each}}", NULL, NULL);
    char *out;
    cr_assert_eq(omni_template_render(&out, NULL, t, data, n), OMNI_ETOOLARGE);
    omni_template_free(t);
    free(data);
    /* a loop bomb with no output ends at the work limit */
    t = compile_opts("{{#each a}}{{#each ../a}}{{#each ../../a}}{{#each ../../../a}}{{#each "
                     "../../../../a}}{{/each}}{{/each}}{{/each}}{{/each}}{{/each}}",
                     NULL, NULL);
    char arr[512] = "{\"a\":[0";
    n = strlen(arr);
    for (int i = 1; i < 40; i++)
        n += (size_t)snprintf(arr + n, sizeof(arr) - n, ",%d", i);
    memcpy(arr + n, "]}", 3);
    cr_assert_eq(omni_template_render(&out, NULL, t, arr, strlen(arr)), OMNI_ETOOLARGE);
    cr_assert(strstr(omni_error_last_message(), "work limit") != NULL);
    omni_template_free(t);
}

Test(template, render_errors)
{
    cr_assert_eq(render_status("{{nohelper 1}}", "{}", NULL), OMNI_EHELPER);
    cr_assert(strstr(omni_error_last_message(), "missing helper \"nohelper\"") != NULL);
    cr_assert_eq(render_status("{{name 1}}", "{\"name\":\"N\"}", NULL), OMNI_EHELPER);
    cr_assert_eq(render_status("{{#if a b}}x{{/if}}", "{}", NULL), OMNI_EHELPER);
    cr_assert(strstr(omni_error_last_message(), "#if requires exactly one argument") != NULL);
    cr_assert_eq(render_status("{{#each}}x{{/each}}", "{}", NULL), OMNI_EHELPER);
    cr_assert_eq(render_status("{{if a}}", "{\"a\":1}", NULL), OMNI_EHELPER);
    cr_assert_eq(render_status("{{#with}}x{{/with}}", "{}", NULL), OMNI_EHELPER);
    cr_assert_eq(render_status("{{x}}", "[1,", NULL), OMNI_EJSON);
    cr_assert_eq(render_status("{{> (dyn)}}", "{}", NULL), OMNI_ENOTFOUND);
    /* an unknown helper without arguments is undefined, as in handlebars.js */
    expect("[{{nohelper a=1}}]", "{}", "[]");
}

Test(template, options)
{
    cr_assert_eq(compile_status("x", "{\"mode\":\"jinja\"}"), OMNI_ECONFIG);
    cr_assert_eq(compile_status("x", "{\"escape\":1}"), OMNI_ECONFIG);
    cr_assert_eq(compile_status("x", "{\"strict\":\"yes\"}"), OMNI_ECONFIG);
    cr_assert_eq(compile_status("x", "{\"includeZero\":1}"), OMNI_ECONFIG);
    cr_assert_eq(compile_status("x", "{\"locale\":\"en IN\"}"), OMNI_ECONFIG);
    cr_assert_eq(compile_status("x", "{\"timeZone\":\"../etc/passwd\"}"), OMNI_ECONFIG);
    cr_assert_eq(compile_status("x", "{\"partials\":[]}"), OMNI_ECONFIG);
    cr_assert_eq(compile_status("x", "{\"partials\":{\"p\":1}}"), OMNI_ECONFIG);
    cr_assert_eq(compile_status("x", "{\"colour\":\"blue\"}"), OMNI_ECONFIG);
    cr_assert(strstr(omni_error_last_message(), "colour") != NULL);
    cr_assert_eq(compile_status("x", "[]"), OMNI_ECONFIG);
    cr_assert_eq(compile_status("x", "{"), OMNI_ECONFIG);
    cr_assert_eq(compile_status("x", ""), OMNI_OK, "empty options: defaults");
    cr_assert_eq(compile_status("x", "{\"mode\":\"handlebars\",\"escape\":\"html\","
                                     "\"strict\":false,\"includeZero\":false,"
                                     "\"locale\":\"kn-IN\",\"timeZone\":\"Asia/Kolkata\","
                                     "\"partials\":{}}"),
                 OMNI_OK);
}

Test(template, arguments)
{
    omni_template *t = NULL;
    char *out;
    cr_assert_eq(omni_template_compile(NULL, "x", 1, NULL, 0, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_template_compile(&t, NULL, 1, NULL, 0, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_template_compile(&t, "x", 1, NULL, 3, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_template_compile(&t, NULL, 0, NULL, 0, NULL), OMNI_OK, "empty template");
    cr_assert_eq(omni_template_render(NULL, NULL, t, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_template_render(&out, NULL, NULL, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_template_render(&out, NULL, t, NULL, 2), OMNI_EINVAL);
    cr_assert_eq(omni_template_render_data(&out, NULL, t, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_template_render_data(NULL, NULL, t, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_template_render_data(&out, NULL, NULL, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_template_inspect(NULL, NULL, t), OMNI_EINVAL);
    cr_assert_eq(omni_template_inspect(&out, NULL, NULL), OMNI_EINVAL);
    size_t n;
    cr_assert_eq(omni_template_render(&out, &n, t, NULL, 0), OMNI_OK, "no data: {}");
    cr_assert_eq(n, 0);
    omni_free(out);
    omni_template_free(t);
    omni_template_free(NULL);
}

/* ---- strict mode ---------------------------------------------------------------------- */

Test(template, strict_collects_every_missing_path)
{
    const char *opts = "{\"strict\":true}";
    const char *src = "{{name}} {{order.id}} {{order.total}} {{#each items}}{{sku}}{{/each}} "
                      "{{order.id}} {{@index}} {{../x}}";
    const char *data = "{\"name\":\"N\",\"order\":{\"total\":null},\"items\":[{},{\"sku\":1}]}";
    cr_assert_eq(render_status(src, data, opts), OMNI_EMISSING);
    const omni_error *e = omni_error_last();
    cr_assert_str_eq(e->code, "MISSING_VARIABLE");
    cr_assert_str_eq(e->details, "{\"missing\":[\"order.id\",\"sku\",\"@index\",\"../x\"]}");
    cr_assert(strstr(e->message, "4 missing variables") != NULL, "%s", e->message);
}

Test(template, strict_exempts_conditions_and_defaults)
{
    const char *opts = "{\"strict\":true}";
    expect_opts("{{#if a.b}}x{{/if}}{{#unless c}}u{{/unless}}{{#if (eq d 1)}}{{/if}}"
                "{{default e 'E'}}{{#f}}{{/f}}{{^g}}G{{/g}}{{#if h}}{{else if i}}{{/if}}",
                "{}", opts, "uEG");
    /* but not the body of a block */
    cr_assert_eq(render_status("{{#if t}}{{inside}}{{/if}}", "{\"t\":true}", opts), OMNI_EMISSING);
    cr_assert_str_eq(omni_error_last()->details, "{\"missing\":[\"inside\"]}");
    /* mustache mode */
    const char *mu = "{\"mode\":\"mustache\",\"strict\":true}";
    expect_opts("{{#a}}x{{/a}}{{^b}}y{{/b}}{{c}}", "{\"c\":1}", mu, "y1");
    cr_assert_eq(render_status("{{nope}}{{#a}}{{b.c}}{{/a}}", "{\"a\":{\"b\":{}}}", mu),
                 OMNI_EMISSING);
    cr_assert_str_eq(omni_error_last()->details, "{\"missing\":[\"nope\",\"b.c\"]}");
}

/* ---- host helpers ------------------------------------------------------------------------- */

static int h_args(void *ctx, omni_helper_call *call)
{
    cr_assert_str_eq(ctx, "context pointer");
    char buf[256];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "%s:%zu", omni_helper_name(call),
                                omni_helper_argc(call));
    for (size_t i = 0; i < omni_helper_argc(call); i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %d",
                              omni_value_type(omni_helper_arg(call, i)));
    cr_assert_null(omni_helper_arg(call, omni_helper_argc(call)));
    for (size_t i = 0; i < omni_helper_hash_count(call); i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s=%d", omni_helper_hash_key(call, i),
                              omni_value_type(omni_helper_hash_value(call, i)));
    cr_assert_null(omni_helper_hash_key(call, 99));
    cr_assert_null(omni_helper_hash_value(call, 99));
    cr_assert_null(omni_helper_hash(call, "absent"));
    return omni_helper_return_string(call, buf, n);
}

static int h_greet(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    const omni_value *who = omni_helper_hash(call, "who");
    const char *name = omni_value_string(who ? who : omni_helper_arg(call, 0), NULL);
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "<%s>", name ? name : "?");
    return omni_helper_return_string(call, buf, (size_t)n);
}

static int h_safe(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    return omni_helper_return_safe(call, "<b>safe</b>", 11);
}

static int h_types(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    const char *kind = omni_value_string(omni_helper_arg(call, 0), NULL);
    if (strcmp(kind, "num") == 0)
        return omni_helper_return_number(call, 0.5);
    if (strcmp(kind, "bool") == 0)
        return omni_helper_return_bool(call, 1);
    if (strcmp(kind, "null") == 0)
        return omni_helper_return_null(call);
    if (strcmp(kind, "json") == 0)
        return omni_helper_return_json(call, "[1,{\"a\":2}]", 11);
    if (strcmp(kind, "badjson") == 0)
        return omni_helper_return_json(call, "[1,", 3);
    return 0; /* undefined */
}

static int h_wrap(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    char *body;
    size_t n;
    int rc = omni_helper_render_block(&body, &n, call, NULL);
    if (rc)
        return rc;
    char buf[256];
    int k = snprintf(buf, sizeof(buf), "[%.*s]", (int)n, body);
    omni_free(body);
    return omni_helper_return_safe(call, buf, (size_t)k);
}

static int h_repeat(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    double times = omni_value_number(omni_helper_arg(call, 0));
    if (!omni_helper_is_block(call))
        return omni_error_set(OMNI_EINVAL, "repeat needs a block", 0);
    for (int i = 0; i < (int)times; i++) {
        const omni_value *v;
        char json[32];
        int n = snprintf(json, sizeof(json), "{\"i\":%d}", i);
        int rc = omni_helper_make_value(&v, call, json, (size_t)n);
        if (!rc)
            rc = omni_helper_append_block(call, v);
        if (rc)
            return rc;
    }
    return times > 0 ? 0 : omni_helper_append_inverse(call, NULL);
}

static int h_fail(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    (void)call;
    return omni_error_set(OMNI_EINVAL, "card declined", 0);
}

static int h_fail_silent(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    (void)call;
    return -1;
}

static int h_this(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    char *j;
    size_t n;
    int rc = omni_value_json(&j, &n, omni_helper_context(call));
    if (rc)
        return rc;
    rc = omni_helper_return_string(call, j, n);
    omni_free(j);
    return rc;
}

static int h_if_override(void *ctx, omni_helper_call *call)
{
    (void)ctx;
    return omni_helper_return_string(call, "host if", 7);
}

static omni_helpers *test_helpers(void)
{
    omni_helpers *h;
    cr_assert_eq(omni_helpers_new(&h), OMNI_OK);
    cr_assert_eq(omni_helpers_add(h, "args", h_args, "context pointer"), OMNI_OK);
    cr_assert_eq(omni_helpers_add(h, "greet", h_greet, NULL), OMNI_OK);
    cr_assert_eq(omni_helpers_add(h, "safe", h_safe, NULL), OMNI_OK);
    cr_assert_eq(omni_helpers_add(h, "types", h_types, NULL), OMNI_OK);
    cr_assert_eq(omni_helpers_add(h, "wrap", h_wrap, NULL), OMNI_OK);
    cr_assert_eq(omni_helpers_add(h, "repeat", h_repeat, NULL), OMNI_OK);
    cr_assert_eq(omni_helpers_add(h, "fail", h_fail, NULL), OMNI_OK);
    cr_assert_eq(omni_helpers_add(h, "fail-silent", h_fail_silent, NULL), OMNI_OK);
    cr_assert_eq(omni_helpers_add(h, "this_json", h_this, NULL), OMNI_OK);
    return h;
}

static void expect_h(omni_helpers *h, const char *src, const char *data, const char *want)
{
    char *out = render_opts(src, data, NULL, h);
    cr_assert_str_eq(out, want, "template \"%s\" gave \"%s\"", src, out);
    omni_free(out);
}

Test(helpers, registry)
{
    omni_helpers *h;
    cr_assert_eq(omni_helpers_new(NULL), OMNI_EINVAL);
    cr_assert_eq(omni_helpers_new(&h), OMNI_OK);
    cr_assert_eq(omni_helpers_add(h, "ok_Name-$1", h_safe, NULL), OMNI_OK);
    cr_assert_eq(omni_helpers_add(h, "ok_Name-$1", h_safe, NULL), OMNI_EEXISTS);
    cr_assert_eq(omni_helpers_add(h, "", h_safe, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_helpers_add(h, "has space", h_safe, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_helpers_add(h, "dot.ted", h_safe, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_helpers_add(h, NULL, h_safe, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_helpers_add(h, "nofn", NULL, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_helpers_add(NULL, "x", h_safe, NULL), OMNI_EINVAL);
    char name[80];
    memset(name, 'a', 65);
    name[65] = '\0';
    cr_assert_eq(omni_helpers_add(h, name, h_safe, NULL), OMNI_EINVAL, "65 bytes");
    name[64] = '\0';
    cr_assert_eq(omni_helpers_add(h, name, h_safe, NULL), OMNI_OK, "64 bytes");
    for (int i = 0; i < 40; i++) {
        char n[16];
        snprintf(n, sizeof(n), "h%d", i);
        cr_assert_eq(omni_helpers_add(h, n, h_safe, NULL), OMNI_OK);
    }
    omni_helpers_free(h);
    omni_helpers_free(NULL);
}

Test(helpers, arguments_hash_and_results)
{
    omni_helpers *h = test_helpers();
    expect_h(h, "{{{args 1 \"s\" true null undefined a b.c x=1 y=z}}}",
             "{\"a\":[1],\"b\":{\"c\":{}},\"z\":\"Z\"}", "args:7 3 4 2 1 0 5 6 y=4 x=3");
    /* hash pairs as handlebars.js' options.hash: unique keys, first value */
    expect_h(h, "{{{args k=1 j=2 k=\"s\"}}}", "{}", "args:0 k=3 j=3");
    expect_h(h, "{{greet name}} {{{greet name}}} {{greet who=name}}", "{\"name\":\"A&B\"}",
             "&lt;A&amp;B&gt; <A&B> &lt;A&amp;B&gt;");
    expect_h(h, "{{safe}}|{{types \"num\"}}|{{types \"bool\"}}|{{types \"null\"}}|"
                "{{types \"json\"}}|{{types \"undef\"}}|",
             "{}", "<b>safe</b>|0.5|true||1,[object Object]||");
    expect_h(h, "{{#wrap}}{{x}}<i>{{/wrap}}", "{\"x\":\"&\"}", "[&amp;<i>]");
    expect_h(h, "{{#repeat 3}}{{i}},{{/repeat}}|{{#repeat 0}}x{{else}}none{{/repeat}}", "{}",
             "0,1,2,|none");
    expect_h(h, "{{args (greet \"sub\") 2}}", "{}", "args:2 4 3");
    expect_h(h, "{{#each a}}{{this_json}};{{/each}}", "{\"a\":[null,{\"k\":1}]}",
             "{};{&quot;k&quot;:1};");
    omni_helpers_free(h);
}

Test(helpers, failures)
{
    omni_helpers *h = test_helpers();
    omni_template *t = compile_opts("a{{fail}}b", NULL, h);
    char *out = (char *)1;
    cr_assert_eq(omni_template_render(&out, NULL, t, "{}", 2), OMNI_EHELPER);
    cr_assert_null(out);
    cr_assert(strstr(omni_error_last_message(), "helper \"fail\" failed: card declined") != NULL,
              "%s", omni_error_last_message());
    omni_template_free(t);
    t = compile_opts("{{fail-silent}}", NULL, h);
    cr_assert_eq(omni_template_render(&out, NULL, t, "{}", 2), OMNI_EHELPER);
    omni_template_free(t);
    t = compile_opts("{{types \"badjson\"}}", NULL, h);
    cr_assert_eq(omni_template_render(&out, NULL, t, "{}", 2), OMNI_EHELPER);
    omni_template_free(t);
    t = compile_opts("{{repeat 2}}", NULL, h);
    cr_assert_eq(omni_template_render(&out, NULL, t, "{}", 2), OMNI_EHELPER);
    cr_assert(strstr(omni_error_last_message(), "repeat needs a block") != NULL);
    omni_template_free(t);
    /* an error inside the block body fails the render even if the helper ignores it */
    t = compile_opts("{{#wrap}}{{nohelper 1}}{{/wrap}}", NULL, h);
    cr_assert_eq(omni_template_render(&out, NULL, t, "{}", 2), OMNI_EHELPER);
    cr_assert(strstr(omni_error_last_message(), "nohelper") != NULL);
    omni_template_free(t);
    omni_helpers_free(h);
}

Test(helpers, host_overrides_builtin)
{
    omni_helpers *h;
    cr_assert_eq(omni_helpers_new(&h), OMNI_OK);
    cr_assert_eq(omni_helpers_add(h, "if", h_if_override, NULL), OMNI_OK);
    expect_h(h, "{{#if x}}body{{/if}}", "{\"x\":true}", "host if");
    omni_helpers_free(h);
    /* the registry may be freed after compiling: the template keeps what it needs */
    h = test_helpers();
    omni_template *t = compile_opts("{{greet \"x\"}}", NULL, h);
    omni_helpers_free(h);
    char *out;
    cr_assert_eq(omni_template_render(&out, NULL, t, "{}", 2), OMNI_OK);
    cr_assert_str_eq(out, "&lt;x&gt;");
    omni_free(out);
    omni_template_free(t);
}

/* ---- built-in notification helpers ------------------------------------------------------ */

Test(builtins, conditions)
{
    expect("{{eq 1 1}} {{eq 1 \"1\"}} {{ne a b}} {{gt 2 1}} {{lt \"a\" \"b\"}} {{gt n 0}}",
           "{\"a\":1,\"b\":2}", "true false true true true false");
    expect("{{and 1 \"x\" (not 0)}} {{and 1 e}} {{or 0 e \"\"}} {{or 0 1}} {{not e}} {{and}}",
           "{\"e\":[]}", "true false false true true false");
    expect("{{#eq s \"paid\"}}P{{else}}D{{/eq}}{{#not s}}-{{else}}+{{/not}}", "{\"s\":\"paid\"}",
           "P+");
}

Test(builtins, text)
{
    expect("{{uppercase s}}|{{lowercase s}}|{{uppercase n}}|{{uppercase}}",
           "{\"s\":\"Stra\xc3\x9f\x65 \xc3\xa9t\xc3\xa9 \xce\xb1\xd0\xb4\",\"n\":1.5}",
           "STRASSE \xc3\x89T\xc3\x89 \xce\x91\xd0\x94|stra\xc3\x9f\x65 \xc3\xa9t\xc3\xa9 "
           "\xce\xb1\xd0\xb4|1.5|");
    expect("{{truncate s 8}}|{{truncate s 8 \"...\"}}|{{truncate s 50 \"...\"}}|"
           "{{truncate u 2}}|{{truncate s 2 \"....\"}}",
           "{\"s\":\"Your order shipped\",\"u\":\"\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\"}",
           "Your ord|Your ...|Your order shipped|\xe0\xa4\xa8\xe0\xa4\xae|Yo");
    cr_assert_eq(render_status("{{truncate s}}", "{\"s\":\"x\"}", NULL), OMNI_EHELPER);
    cr_assert_eq(render_status("{{truncate s -1}}", "{\"s\":\"x\"}", NULL), OMNI_EHELPER);
    expect("{{default a b \"c\"}} {{default x \"y\"}}", "{\"b\":0}", "0 y");
}

Test(builtins, formatting)
{
    expect("{{formatNumber n}}|{{formatNumber n locale=\"en-IN\"}}|{{formatNumber n 2 2}}|"
           "{{formatNumber missing}}|{{formatNumber \"12.5\"}}",
           "{\"n\":1234567.891}", "1,234,567.891|12,34,567.891|1,234,567.89||12.5");
    expect_opts("{{formatNumber n}}", "{\"n\":1234567}", "{\"locale\":\"en-IN\"}", "12,34,567");
    expect("{{formatCurrency 123456 \"INR\" \"en-IN\"}}|{{formatCurrency 1234.5 currency=\"USD\"}}",
           "{}", "\xe2\x82\xb9" "1,23,456.00|$1,234.50");
    expect("{{formatDate d \"yyyy-MM-dd HH:mm\" \"Asia/Kolkata\"}}|"
           "{{formatDate d pattern=\"dd MMM yyyy\"}}|{{formatDate ms \"yyyy-MM-dd\"}}",
           "{\"d\":\"2024-03-10T20:00:00Z\",\"ms\":0}",
           "2024-03-11 01:30|10 Mar 2024|1970-01-01");
    expect_opts("{{formatDate d \"HH:mm\"}}", "{\"d\":\"2024-03-10T20:00:00Z\"}",
                "{\"timeZone\":\"Asia/Kolkata\"}", "01:30");
    cr_assert_eq(render_status("{{formatCurrency 1}}", "{}", NULL), OMNI_EHELPER);
    cr_assert_eq(render_status("{{formatDate \"yesterday\"}}", "{}", NULL), OMNI_EHELPER);
    cr_assert_eq(render_status("{{formatNumber 1 -2}}", "{}", NULL), OMNI_EHELPER);
}

/* ---- inspect ---------------------------------------------------------------------------- */

Test(template, inspect)
{
    const char *opts = "{\"partials\":{\"footer\":\"{{company.name}}\"}}";
    omni_template *t = compile_opts("Hi {{name}} {{#each items}}{{sku}}{{#if @first}}{{/if}}"
                                    "{{/each}}{{formatNumber total}}{{> footer}}{{@root.x}}"
                                    "{{unknown 1}}{{name}}{{this}}",
                                    opts, NULL);
    char *j;
    size_t n;
    cr_assert_eq(omni_template_inspect(&j, &n, t), OMNI_OK);
    cr_assert_str_eq(j, "{\"variables\":[\"name\",\"items\",\"sku\",\"total\",\"@root.x\","
                        "\"company.name\"],\"helpers\":[\"each\",\"if\",\"formatNumber\","
                        "\"unknown\"],\"partials\":[\"footer\"]}");
    cr_assert_eq(n, strlen(j));
    omni_free(j);
    omni_template_free(t);
}

/* ---- threads ------------------------------------------------------------------------------ */

typedef struct {
    const omni_template *t;
    const omni_data *d;
    const char *expected;
    int failures;
} thread_arg;

static void *render_many(void *p)
{
    thread_arg *a = p;
    for (int i = 0; i < 300; i++) {
        char *out;
        size_t n;
        if (omni_template_render_data(&out, &n, a->t, a->d) != OMNI_OK ||
            strcmp(out, a->expected) != 0)
            a->failures++;
        else
            omni_free(out);
    }
    return NULL;
}

Test(template, thread_safety_smoke)
{
    const char *opts = "{\"partials\":{\"row\":\"<tr>{{@index}}:{{name}}:{{formatNumber price 2 "
                       "2}}</tr>\"}}";
    omni_template *t = compile_opts("{{#each lines}}{{> row}}{{/each}}{{#if vip}}VIP{{/if}}", opts,
                                    NULL);
    const char *data = "{\"vip\":true,\"lines\":[{\"name\":\"<a>\",\"price\":1.5},{\"name\":\"b\","
                       "\"price\":1200}]}";
    omni_data *d;
    cr_assert_eq(omni_data_parse(&d, data, strlen(data)), OMNI_OK);
    char *expected;
    cr_assert_eq(omni_template_render_data(&expected, NULL, t, d), OMNI_OK);
    cr_assert_str_eq(expected, "<tr>0:&lt;a&gt;:1.50</tr><tr>1:b:1,200.00</tr>VIP");
    pthread_t th[8];
    thread_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (thread_arg){t, d, expected, 0};
        cr_assert_eq(pthread_create(&th[i], NULL, render_many, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(args[i].failures, 0, "thread %d", i);
    }
    omni_free(expected);
    omni_data_free(d);
    omni_template_free(t);
}
