/* The mustache spec's required modules (comments, delimiters,
 * interpolation, inverted, partials, sections), every test, rendered in
 * mustache mode. The spec files are read at run time from
 * $OMNI_SHARED_DIR/spec/mustache (fallback $OMNI_SOURCE_DIR/../shared);
 * they are not copied into the repository. Lambdas (~lambdas) are an
 * optional module and not implemented. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "test_files.h"

#include "lib/core/buf.h"
#include "lib/core/json.h"


static char *spec_path(const char *module)
{
    static char path[4096];
    const char *shared = getenv("OMNI_SHARED_DIR");
    if (shared && *shared) {
        snprintf(path, sizeof(path), "%s/spec/mustache/%s.json", shared, module);
    } else {
        const char *src = getenv("OMNI_SOURCE_DIR");
        snprintf(path, sizeof(path), "%s/../shared/spec/mustache/%s.json", src ? src : ".",
                 module);
    }
    return path;
}

/* Renders one spec test; returns NULL when it passes, else a description. */
static char *run_one(const cJSON *test)
{
    const cJSON *tpl = cJSON_GetObjectItemCaseSensitive(test, "template");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(test, "data");
    const cJSON *partials = cJSON_GetObjectItemCaseSensitive(test, "partials");
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(test, "expected");
    omni_buf opts = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&opts);
    omni__json_w_key(&opts, "mode");
    omni__json_w_str(&opts, "mustache");
    if (partials) {
        omni__json_w_key(&opts, "partials");
        omni__json_w_item(&opts, partials);
    }
    omni__json_w_obj_end(&opts);
    char *djson = cJSON_PrintUnformatted(data);
    char *msg = NULL;
    omni_template *t = NULL;
    int rc = omni_template_compile(&t, tpl->valuestring, strlen(tpl->valuestring), opts.data,
                                   opts.len, NULL);
    if (rc) {
        if (asprintf(&msg, "compile failed: %s", omni_error_last_message()) < 0)
            msg = NULL;
    } else {
        char *out = NULL;
        size_t len = 0;
        rc = omni_template_render(&out, &len, t, djson, strlen(djson));
        if (rc) {
            if (asprintf(&msg, "render failed: %s", omni_error_last_message()) < 0)
                msg = NULL;
        } else if (len != strlen(expected->valuestring) ||
                   memcmp(out, expected->valuestring, len) != 0) {
            if (asprintf(&msg, "expected \"%s\", got \"%s\"", expected->valuestring, out) < 0)
                msg = NULL;
        }
        omni_free(out);
    }
    omni_template_free(t);
    cJSON_free(djson);
    omni__buf_free(&opts);
    return msg;
}

static void run_module(const char *module, int expected_tests)
{
    size_t len;
    char *text = test_read_file(spec_path(module), &len);
    cr_assert_not_null(text, "cannot read %s (set OMNI_SHARED_DIR)", spec_path(module));
    cJSON *root;
    cr_assert_eq(omni__json_parse(&root, text, len, 0, module), OMNI_OK);
    free(text);
    const cJSON *tests = cJSON_GetObjectItemCaseSensitive(root, "tests");
    int count = 0, failed = 0;
    omni_buf report = OMNI_BUF_INIT;
    for (const cJSON *test = tests ? tests->child : NULL; test; test = test->next) {
        count++;
        char *msg = run_one(test);
        if (msg) {
            failed++;
            omni__buf_printf(&report, "\n  %s / %s: %s", module,
                             cJSON_GetObjectItemCaseSensitive(test, "name")->valuestring, msg);
            free(msg);
        }
    }
    cJSON_Delete(root);
    cr_expect_eq(count, expected_tests, "%s: %d tests in the file, expected %d", module, count,
                 expected_tests);
    cr_assert_eq(failed, 0, "%s: %d of %d spec tests failed:%s", module, failed, count,
                 report.data ? report.data : "");
    omni__buf_free(&report);
}

Test(mustache_spec, comments)
{
    run_module("comments", 12);
}

Test(mustache_spec, delimiters)
{
    run_module("delimiters", 14);
}

Test(mustache_spec, interpolation)
{
    run_module("interpolation", 42);
}

Test(mustache_spec, inverted)
{
    run_module("inverted", 22);
}

Test(mustache_spec, partials)
{
    run_module("partials", 12);
}

Test(mustache_spec, sections)
{
    run_module("sections", 34);
}
