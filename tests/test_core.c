/* Core: status table, thread-local errors, memory, buffer, JSON helpers,
 * hook tables, the engine and its configuration. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/buf.h"
#include "lib/core/engine.h"
#include "lib/core/error.h"
#include "lib/core/json.h"

/* ---- status table and errors ------------------------------------------ */

Test(status, table_is_consistent)
{
    cr_assert_str_eq(omni_status_code(OMNI_OK), "OK");
    cr_assert_str_eq(omni_status_code(OMNI_EINVAL), "INVALID_ARGUMENT");
    cr_assert_str_eq(omni_status_code(OMNI_ESIGNATURE), "SIGNATURE_INVALID");
    cr_assert_str_eq(omni_status_code(OMNI_ESTORAGE), "DATABASE_ERROR");
    cr_assert_str_eq(omni_status_code(OMNI_EINTERNAL), "INTERNAL_ERROR");
    cr_assert_str_eq(omni_status_code(1), "UNKNOWN_ERROR");
    cr_assert_str_eq(omni_status_code(-9999), "UNKNOWN_ERROR");
    cr_assert_str_eq(omni_strerror(-9999), "unknown error");
    /* every code is distinct, upper-case, and numbers are dense 0..MIN */
    for (int s = 0; s >= OMNI__STATUS_MIN; s--) {
        const char *code = omni_status_code(s);
        cr_assert_str_neq(code, "UNKNOWN_ERROR", "status %d has no code", s);
        for (const char *p = code; *p; p++)
            cr_assert((*p >= 'A' && *p <= 'Z') || *p == '_', "code %s", code);
        for (int t = s - 1; t >= OMNI__STATUS_MIN; t--)
            cr_assert_str_neq(code, omni_status_code(t));
        cr_assert(strlen(omni_strerror(s)) > 0);
    }
}

Test(error, last_error_lifecycle)
{
    omni_error_clear();
    const omni_error *e = omni_error_last();
    cr_assert_eq(e->status, OMNI_OK);
    cr_assert_str_eq(e->code, "OK");
    cr_assert_null(e->details);

    cr_assert_eq(omni__err(OMNI_ETIMEOUT, "carrier %s timed out", "twilio"), OMNI_ETIMEOUT);
    e = omni_error_last();
    cr_assert_eq(e->status, OMNI_ETIMEOUT);
    cr_assert_str_eq(e->code, "TIMEOUT");
    cr_assert_str_eq(e->message, "carrier twilio timed out");
    cr_assert_eq(e->retryable, 1);
    cr_assert_eq(omni_error_last_status(), OMNI_ETIMEOUT);
    cr_assert_str_eq(omni_error_last_code(), "TIMEOUT");
    cr_assert_eq(omni_error_last_retryable(), 1);

    omni__err(OMNI_EJSON, NULL);
    cr_assert_str_eq(omni_error_last_message(), "malformed JSON document");
    cr_assert_eq(omni_error_last_retryable(), 0);

    omni__err_retry(OMNI_EJSON, 1, "forced");
    cr_assert_eq(omni_error_last_retryable(), 1);
    omni_error_clear();
    cr_assert_eq(omni_error_last_status(), OMNI_OK);
}

Test(error, message_is_truncated_not_overflowed)
{
    char big[2000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    omni__err(OMNI_EINVAL, "%s", big);
    cr_assert_eq(strlen(omni_error_last_message()), 511);
}

Test(error, json_form)
{
    omni__err_details(OMNI_ECONFIG, "{\"path\":\"accounts[0]\"}", "bad \"quote\"\n");
    char *json;
    size_t len;
    cr_assert_eq(omni_error_last_json(&json, &len), OMNI_OK);
    cr_assert_str_eq(json, "{\"code\":\"INVALID_CONFIG\",\"message\":\"bad \\\"quote\\\"\\n\","
                           "\"retryable\":false,\"details\":{\"path\":\"accounts[0]\"}}");
    cr_assert_eq(len, strlen(json));
    omni_free(json);
    cr_assert_eq(omni_error_last_json(NULL, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_error_last_status(), OMNI_ECONFIG, "last error kept");
}

Test(error, set_from_hook)
{
    cr_assert_eq(omni_error_set(OMNI_ESTORAGE, "disk full", -1), OMNI_ESTORAGE);
    cr_assert_str_eq(omni_error_last_message(), "disk full");
    cr_assert_eq(omni_error_last_retryable(), 1);
    cr_assert_eq(omni_error_set(OMNI_ESTORAGE, NULL, 0), OMNI_ESTORAGE);
    cr_assert_str_eq(omni_error_last_message(), "storage operation failed");
    cr_assert_eq(omni_error_last_retryable(), 0);
    /* a non-negative status is not an error: it becomes HOOK_FAILED */
    cr_assert_eq(omni_error_set(5, "odd", -1), OMNI_EHOOK);

    unsigned long mark = omni__err_mark();
    cr_assert_eq(omni__err_from_hook(OMNI_ETIMEOUT, mark, "transport"), OMNI_ETIMEOUT);
    cr_assert_str_eq(omni_error_last_message(), "transport hook failed (TIMEOUT)");
    mark = omni__err_mark();
    omni_error_set(OMNI_ETIMEOUT, "slow carrier", -1);
    cr_assert_eq(omni__err_from_hook(OMNI_ETIMEOUT, mark, "transport"), OMNI_ETIMEOUT);
    cr_assert_str_eq(omni_error_last_message(), "slow carrier", "hook's own message kept");
}

static void *other_thread(void *arg)
{
    (void)arg;
    /* a fresh thread starts with OK, and its error does not leak out */
    int ok = omni_error_last_status() == OMNI_OK;
    omni__err(OMNI_EKEY, "thread-local");
    return (void *)(intptr_t)ok;
}

Test(error, is_thread_local)
{
    omni__err(OMNI_ETIME, "main thread");
    pthread_t t;
    void *ok;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, &ok);
    cr_assert(ok);
    cr_assert_eq(omni_error_last_status(), OMNI_ETIME);
    cr_assert_str_eq(omni_error_last_message(), "main thread");
}

/* ---- version, limits, memory ------------------------------------------ */

Test(version, string_and_number)
{
    cr_assert_str_eq(omni_version(), OMNI_VERSION_STRING);
    cr_assert_eq(omni_version_number(),
                 OMNI_VERSION_MAJOR * 10000 + OMNI_VERSION_MINOR * 100 + OMNI_VERSION_PATCH);
    cr_assert_eq(omni_limit(OMNI_LIMIT_ID_JSON_DEPTH), OMNI_LIMIT_JSON_DEPTH);
    cr_assert_eq(omni_limit(OMNI_LIMIT_ID_STORE_VALUE), OMNI_STORE_MAX_VALUE);
    cr_assert_eq(omni_limit(0), 0);
    cr_assert_eq(omni_limit(999), 0);
    for (int id = 1; id <= 10; id++)
        cr_assert_gt(omni_limit(id), 0, "limit %d", id);
}

Test(memory, malloc_free)
{
    void *p = omni_malloc(0);
    cr_assert_not_null(p);
    omni_free(p);
    omni_free(NULL);
}

/* ---- buffer ----------------------------------------------------------- */

Test(buf, grows_and_detaches)
{
    omni_buf b = OMNI_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        omni__buf_printf(&b, "%d,", i);
    omni__buf_putc(&b, '!');
    cr_assert_eq(b.failed, 0);
    cr_assert(b.len > 3000);
    cr_assert_eq(b.data[b.len], '\0');
    cr_assert_eq(strncmp(b.data, "0,1,2,", 6), 0);
    char *out;
    size_t len;
    size_t expect = b.len;
    cr_assert_eq(omni__buf_detach(&b, &out, &len), OMNI_OK);
    cr_assert_eq(len, expect);
    cr_assert_null(b.data);
    free(out);

    /* empty buffer detaches as "" */
    omni__buf_init(&b, 0);
    cr_assert_eq(omni__buf_detach(&b, &out, &len), OMNI_OK);
    cr_assert_str_eq(out, "");
    cr_assert_eq(len, 0);
    free(out);
}

Test(buf, long_printf)
{
    omni_buf b = OMNI_BUF_INIT;
    char big[1000];
    memset(big, 'a', 999);
    big[999] = '\0';
    omni__buf_printf(&b, "<%s>", big);
    cr_assert_eq(b.len, 1001);
    cr_assert_eq(b.data[0], '<');
    cr_assert_eq(b.data[1000], '>');
    omni__buf_free(&b);
}

Test(buf, limit_is_sticky)
{
    omni_buf b;
    omni__buf_init(&b, 8);
    omni__buf_puts(&b, "12345678");
    cr_assert_eq(b.failed, 0);
    omni__buf_putc(&b, '9');
    cr_assert_eq(b.failed, OMNI_ETOOLARGE);
    omni__buf_puts(&b, "more");
    cr_assert_eq(b.len, 8);
    char *out = NULL;
    size_t len;
    cr_assert_eq(omni__buf_detach(&b, &out, &len), OMNI_ETOOLARGE);
    cr_assert_null(out);
    cr_assert_eq(omni_error_last_status(), OMNI_ETOOLARGE);
}

/* ---- JSON ------------------------------------------------------------- */

static int parse(const char *s, cJSON **root)
{
    return omni__json_parse(root, s, strlen(s), 0, "test document");
}

Test(json, parses_valid_documents)
{
    const char *ok[] = {"{}", "[]", "0", "-0.5e+10", "\"\\u00e9\\ud83d\\ude00\"", "true",
                        " null ", "{\"a\":[1,{\"b\":\"c\"}],\"d\":false}", "\"caf\xc3\xa9\"",
                        "[[[[[[[[[[]]]]]]]]]]", "\"\xf0\x9f\x98\x80\"", "1E3", "[1,2]\n"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        cJSON *root = NULL;
        cr_assert_eq(parse(ok[i], &root), OMNI_OK, "rejected %s: %s", ok[i],
                     omni_error_last_message());
        cr_assert_not_null(root);
        cJSON_Delete(root);
    }
}

Test(json, rejects_invalid_documents)
{
    const char *bad[] = {"",          "{",          "[1,]",        "{\"a\":}",    "{a:1}",
                         "01",        "1.",         ".5",          "+1",          "-",
                         "1e",        "tru",        "nul",         "\"abc",       "\"\\x\"",
                         "\"\\u12\"", "[1 2]",      "{\"a\" 1}",   "{\"a\":1,}",  "1 2",
                         "\"\x01\"",  "\"\xc3\"",   "\"\xc0\x80\"", "\"\xed\xa0\x80\"",
                         "\"\xf4\x90\x80\x80\"", "'a'", "[1]]", "{}{}", "NaN", "\xef\xbb\xbf{}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *root = (cJSON *)1;
        cr_assert_eq(parse(bad[i], &root), OMNI_EJSON, "accepted %s", bad[i]);
        cr_assert_null(root);
        cr_assert_str_eq(omni_error_last_code(), "INVALID_JSON");
        cr_assert_not_null(omni_error_last()->details);
    }
}

Test(json, error_position)
{
    cJSON *root;
    cr_assert_eq(parse("{\n  \"a\": 1,\n  \"b\": tru\n}", &root), OMNI_EJSON);
    cr_assert_str_eq(omni_error_last()->details, "{\"offset\":19,\"line\":3,\"column\":8}");
    cr_assert(strstr(omni_error_last_message(), "test document") != NULL);
    cr_assert(strstr(omni_error_last_message(), "line 3, column 8") != NULL);
}

Test(json, embedded_nul_is_rejected)
{
    cJSON *root;
    cr_assert_eq(omni__json_parse(&root, "{\"a\":\"x\0y\"}", 11, 0, NULL), OMNI_EJSON);
    cr_assert_eq(omni__json_parse(&root, "{}\0", 3, 0, NULL), OMNI_EJSON);
}

Test(json, depth_limit)
{
    char doc[2 * (OMNI_LIMIT_JSON_DEPTH + 1) + 1];
    for (int depth = OMNI_LIMIT_JSON_DEPTH; depth <= OMNI_LIMIT_JSON_DEPTH + 1; depth++) {
        memset(doc, '[', (size_t)depth);
        memset(doc + depth, ']', (size_t)depth);
        doc[2 * depth] = '\0';
        cJSON *root = NULL;
        int rc = parse(doc, &root);
        if (depth == OMNI_LIMIT_JSON_DEPTH) {
            cr_assert_eq(rc, OMNI_OK);
            cJSON_Delete(root);
        } else {
            cr_assert_eq(rc, OMNI_ETOODEEP);
            cr_assert_str_eq(omni_error_last_code(), "NESTING_TOO_DEEP");
        }
    }
    /* a deep object nesting too */
    omni_buf b = OMNI_BUF_INIT;
    for (int i = 0; i < 100; i++)
        omni__buf_puts(&b, "{\"a\":");
    omni__buf_puts(&b, "1");
    for (int i = 0; i < 100; i++)
        omni__buf_putc(&b, '}');
    cJSON *root;
    cr_assert_eq(omni__json_parse(&root, b.data, b.len, 0, NULL), OMNI_ETOODEEP);
    omni__buf_free(&b);
}

Test(json, size_limit)
{
    cJSON *root;
    cr_assert_eq(omni__json_parse(&root, "[1,2,3]", 7, 6, "doc"), OMNI_ETOOLARGE);
    cr_assert_eq(omni__json_parse(&root, "[1,2,3]", 7, 7, "doc"), OMNI_OK);
    cJSON_Delete(root);
    cr_assert_eq(omni__json_validate(NULL, 3, 0, NULL), OMNI_EINVAL);
}

Test(json, path_lookups)
{
    cJSON *root;
    cr_assert_eq(parse("{\"entry\":[{\"changes\":[{\"value\":{\"id\":\"wamid.1\",\"n\":42,"
                       "\"ok\":true,\"f\":1.5,\"big\":12345678901234567890,\"Case\":1}}]}]}",
                       &root),
                 OMNI_OK);
    cr_assert_str_eq(omni__json_str(root, "entry.0.changes.0.value.id"), "wamid.1");
    cr_assert_str_eq(omni__json_str(root, "entry[0].changes[0].value.id"), "wamid.1");
    cr_assert_null(omni__json_str(root, "entry.0.changes.0.value.n"));
    cr_assert_null(omni__json_str(root, "entry.1"));
    cr_assert_null(omni__json_str(root, "entry.x"));
    cr_assert_null(omni__json_at(root, "entry[0]changes"), "index form needs a dot after");
    int64_t n;
    cr_assert_eq(omni__json_int(root, "entry.0.changes.0.value.n", &n), 0);
    cr_assert_eq(n, 42);
    cr_assert_eq(omni__json_int(root, "entry.0.changes.0.value.f", &n), OMNI_EINVAL);
    cr_assert_eq(omni__json_int(root, "entry.0.changes.0.value.big", &n), OMNI_EINVAL);
    cr_assert_eq(omni__json_int(root, "entry.0.changes.0.value.none", &n), OMNI_ENOTFOUND);
    cr_assert_eq(omni__json_int(root, "entry.0.changes.0.value.id", &n), OMNI_EINVAL);
    double d;
    cr_assert_eq(omni__json_num(root, "entry.0.changes.0.value.f", &d), 0);
    cr_assert_float_eq(d, 1.5, 1e-12);
    int flag;
    cr_assert_eq(omni__json_bool(root, "entry.0.changes.0.value.ok", &flag), 0);
    cr_assert_eq(flag, 1);
    cr_assert_eq(omni__json_bool(root, "entry.0.changes.0.value.n", &flag), OMNI_EINVAL);
    /* lookups are case-sensitive */
    cr_assert_null(omni__json_at(root, "entry.0.changes.0.value.case"));
    cr_assert_not_null(omni__json_at(root, "entry.0.changes.0.value.Case"));

    char id[32];
    cr_assert_eq(omni__json_id(omni__json_at(root, "entry.0.changes.0.value.id"), id, sizeof(id)),
                 0);
    cr_assert_str_eq(id, "wamid.1");
    cr_assert_eq(omni__json_id(omni__json_at(root, "entry.0.changes.0.value.n"), id, sizeof(id)),
                 0);
    cr_assert_str_eq(id, "42");
    cr_assert_eq(
        omni__json_id(omni__json_at(root, "entry.0.changes.0.value.big"), id, sizeof(id)),
        OMNI_EINVAL, "precision already lost: refused");
    cr_assert_eq(omni__json_id(NULL, id, sizeof(id)), OMNI_ENOTFOUND);
    cr_assert_eq(omni__json_id(omni__json_at(root, "entry.0.changes.0.value.id"), id, 4),
                 OMNI_EINVAL);
    cJSON_Delete(root);
}

Test(json, writer)
{
    omni_buf b = OMNI_BUF_INIT;
    omni__json_w_obj_begin(&b);
    omni__json_w_key(&b, "s");
    omni__json_w_str(&b, "a\"b\\c\n\x01/\xc3\xa9");
    omni__json_w_key(&b, "arr");
    omni__json_w_arr_begin(&b);
    omni__json_w_int(&b, -42);
    omni__json_w_num(&b, 0.1);
    omni__json_w_num(&b, 1e21);
    omni__json_w_num(&b, 3.0);
    omni__json_w_bool(&b, 1);
    omni__json_w_null(&b);
    omni__json_w_obj_begin(&b);
    omni__json_w_obj_end(&b);
    omni__json_w_arr_begin(&b);
    omni__json_w_arr_end(&b);
    omni__json_w_str(&b, NULL);
    omni__json_w_arr_end(&b);
    omni__json_w_key(&b, "raw");
    omni__json_w_raw(&b, "{\"x\":1}", 7);
    omni__json_w_key(&b, "empty");
    omni__json_w_strn(&b, "", 0);
    omni__json_w_obj_end(&b);
    cr_assert_eq(b.failed, 0);
    cr_assert_str_eq(b.data, "{\"s\":\"a\\\"b\\\\c\\n\\u0001/\xc3\xa9\",\"arr\":[-42,0.1,1e+21,3,"
                             "true,null,{},[],null],\"raw\":{\"x\":1},\"empty\":\"\"}");
    /* the output parses back */
    cJSON *root;
    cr_assert_eq(omni__json_parse(&root, b.data, b.len, 0, NULL), OMNI_OK);
    cJSON_Delete(root);
    omni__buf_free(&b);
}

Test(json, print_round_trip)
{
    const char *doc = "{\"a\":[1,2.5,\"x\",null,true,false,{\"b\":{}}],\"c\":\"\\u0000\"}";
    cJSON *root;
    cr_assert_eq(parse(doc, &root), OMNI_OK);
    char *out;
    size_t len;
    cr_assert_eq(omni__json_print(&out, &len, root), OMNI_OK);
    /* cJSON strings stop at NUL, so "\u0000" comes back as "" */
    cr_assert_str_eq(out, "{\"a\":[1,2.5,\"x\",null,true,false,{\"b\":{}}],\"c\":\"\"}");
    free(out);
    cJSON_Delete(root);
}

Test(json, number_formatting_round_trips)
{
    double values[] = {0.1, 1.0 / 3.0, 123456.789, -2.5e-8, 9007199254740993.0, 1e300, 5e-324};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        omni_buf b = OMNI_BUF_INIT;
        omni__json_w_num(&b, values[i]);
        cr_assert_eq(strtod(b.data, NULL), values[i], "%s", b.data);
        omni__buf_free(&b);
    }
}

/* ---- hook tables ------------------------------------------------------ */

Test(hooks, init_functions)
{
    omni_clock_hook clock;
    cr_assert_eq(omni_clock_hook_init(&clock, OMNI_CLOCK_HOOK_VERSION), OMNI_OK);
    cr_assert_eq(clock.version, OMNI_CLOCK_HOOK_VERSION);
    cr_assert_null(clock.now_ms);
    cr_assert_eq(omni_clock_hook_init(&clock, 0), OMNI_EVERSION);
    cr_assert_eq(omni_clock_hook_init(&clock, 99), OMNI_EVERSION);
    cr_assert_str_eq(omni_error_last_code(), "UNSUPPORTED_VERSION");
    cr_assert_eq(omni_clock_hook_init(NULL, 1), OMNI_EINVAL);

    omni_log_hook log;
    cr_assert_eq(omni_log_hook_init(&log, 1), OMNI_OK);
    cr_assert_eq(log.min_level, OMNI_LOG_INFO);
    omni_storage_hook st;
    cr_assert_eq(omni_storage_hook_init(&st, 1), OMNI_OK);
    cr_assert_null(st.get);
    omni_transport_hook tr;
    cr_assert_eq(omni_transport_hook_init(&tr, 1), OMNI_OK);
    omni_random_hook rnd;
    cr_assert_eq(omni_random_hook_init(&rnd, 1), OMNI_OK);
    omni_metrics_hook met;
    cr_assert_eq(omni_metrics_hook_init(&met, 1), OMNI_OK);
    omni_hooks all;
    cr_assert_eq(omni_hooks_init(&all, 1), OMNI_OK);
    cr_assert_null(all.storage);
}

/* ---- engine ----------------------------------------------------------- */

static int new_engine(omni_engine **e, const char *config, const omni_hooks *hooks)
{
    return omni_engine_new(e, config, config ? strlen(config) : 0, hooks);
}

Test(engine, defaults)
{
    omni_engine *e;
    cr_assert_eq(new_engine(&e, NULL, NULL), OMNI_OK);
    cr_assert_not_null(omni_engine_store(e));
    cr_assert_null(omni_engine_transport(e), "no transport unless configured");
    int64_t now = omni_engine_now_ms(e);
    cr_assert(now > 1700000000000LL);
    uint8_t a[16] = {0}, b[16] = {0};
    cr_assert_eq(omni_engine_random(e, a, sizeof(a)), OMNI_OK);
    cr_assert_eq(omni_engine_random(e, b, sizeof(b)), OMNI_OK);
    cr_assert_neq(memcmp(a, b, 16), 0);
    cr_assert_eq(omni_engine_random(e, NULL, 4), OMNI_EINVAL);
    omni_engine_free(e);
    omni_engine_free(NULL);
    cr_assert_eq(omni_engine_new(NULL, NULL, 0, NULL), OMNI_EINVAL);
    cr_assert(omni_engine_now_ms(NULL) > 1700000000000LL);
}

Test(engine, fixed_clock_and_seed_are_reproducible)
{
    const char *cfg = "{\"clock\":{\"fixed\":\"2026-11-22T10:00:00.250Z\"},\"random\":{\"seed\":42}}";
    omni_engine *e1, *e2;
    cr_assert_eq(new_engine(&e1, cfg, NULL), OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(new_engine(&e2, cfg, NULL), OMNI_OK);
    cr_assert_eq(omni_engine_now_ms(e1), 1795341600250LL);
    uint8_t a[37], b[37];
    cr_assert_eq(omni_engine_random(e1, a, sizeof(a)), OMNI_OK);
    cr_assert_eq(omni_engine_random(e2, b, sizeof(b)), OMNI_OK);
    cr_assert_eq(memcmp(a, b, sizeof(a)), 0, "same seed, same bytes");
    cr_assert_eq(omni_engine_random(e1, a, 8), OMNI_OK);
    cr_assert_neq(memcmp(a, b, 8), 0, "the stream advances");
    omni_engine_free(e1);
    omni_engine_free(e2);
}

Test(engine, config_errors_name_the_path)
{
    struct {
        const char *cfg;
        int status;
        const char *path;
    } cases[] = {
        {"[]", OMNI_ECONFIG, "$"},
        {"{\"storag\":\"memory:\"}", OMNI_ECONFIG, "storag"},
        {"{\"storage\":1}", OMNI_ECONFIG, "storage"},
        {"{\"clock\":{\"fixed\":\"yesterday\"}}", OMNI_ECONFIG, "clock.fixed"},
        {"{\"clock\":5}", OMNI_ECONFIG, "clock.fixed"},
        {"{\"random\":{\"seed\":-1}}", OMNI_ECONFIG, "random.seed"},
        {"{\"random\":{\"seed\":1.5}}", OMNI_ECONFIG, "random.seed"},
        {"{\"log\":{\"level\":\"loud\"}}", OMNI_ECONFIG, "log.level"},
        {"{\"transport\":{\"type\":\"carrier-pigeon\"}}", OMNI_ECONFIG, "transport.type"},
        {"{\"transport\":{}}", OMNI_ECONFIG, "transport.type"},
        {"{\"transport\":{\"type\":\"scripted\"}}", OMNI_ECONFIG, "transport.responses"},
        {"{\"transport\":\"curl\"}", OMNI_ECONFIG, "transport"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        omni_engine *e = (omni_engine *)1;
        cr_assert_eq(new_engine(&e, cases[i].cfg, NULL), cases[i].status, "%s -> %s",
                     cases[i].cfg, omni_error_last_code());
        cr_assert_null(e);
        char want[128];
        snprintf(want, sizeof(want), "{\"path\":\"%s\"}", cases[i].path);
        cr_assert_str_eq(omni_error_last()->details, want, "%s", cases[i].cfg);
    }
    omni_engine *e;
    cr_assert_eq(new_engine(&e, "{\"log\":", NULL), OMNI_EJSON);
    cr_assert(strstr(omni_error_last_message(), "configuration") != NULL);
}

static int64_t hook_clock(void *ctx)
{
    return *(int64_t *)ctx;
}

static int hook_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    memset(buf, 0xAB, len);
    return OMNI_OK;
}

static int failing_random(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return -12345;
}

typedef struct {
    int count;
    char last[512];
} log_sink;

static void hook_log(void *ctx, int level, const char *record, size_t len)
{
    log_sink *s = ctx;
    (void)level;
    s->count++;
    snprintf(s->last, sizeof(s->last), "%.*s", (int)len, record);
}

typedef struct {
    int count;
    double value;
    char dims[128];
} metric_sink;

static void hook_metric(void *ctx, const char *name, double value, const char *unit,
                        const char *dims, size_t len)
{
    metric_sink *s = ctx;
    (void)name;
    (void)unit;
    s->count++;
    s->value = value;
    snprintf(s->dims, sizeof(s->dims), "%.*s", (int)len, dims);
}

Test(engine, host_hooks)
{
    int64_t now = 1234567;
    omni_clock_hook clock = OMNI_CLOCK_HOOK_INIT;
    clock.ctx = &now;
    clock.now_ms = hook_clock;
    omni_random_hook rnd = OMNI_RANDOM_HOOK_INIT;
    rnd.fill = hook_random;
    log_sink logs = {0};
    omni_log_hook log = OMNI_LOG_HOOK_INIT;
    log.ctx = &logs;
    log.log = hook_log;
    log.min_level = OMNI_LOG_WARN;
    metric_sink metrics = {0};
    omni_metrics_hook met = OMNI_METRICS_HOOK_INIT;
    met.ctx = &metrics;
    met.record = hook_metric;
    omni_hooks hooks = OMNI_HOOKS_INIT;
    hooks.clock = &clock;
    hooks.random = &rnd;
    hooks.log = &log;
    hooks.metrics = &met;

    /* host hooks take precedence over the configuration */
    omni_engine *e;
    cr_assert_eq(new_engine(&e, "{\"clock\":{\"fixed\":\"2020-01-01T00:00:00Z\"}}", &hooks),
                 OMNI_OK);
    cr_assert_eq(omni_engine_now_ms(e), 1234567);
    now = 99;
    cr_assert_eq(omni_engine_now_ms(e), 99, "the hook is called each time");
    uint8_t buf[4];
    cr_assert_eq(omni_engine_random(e, buf, 4), OMNI_OK);
    cr_assert_eq(buf[3], 0xAB);

    omni__log(e, OMNI_LOG_INFO, "test", "below the minimum");
    cr_assert_eq(logs.count, 0);
    omni__log(e, OMNI_LOG_ERROR, "identity", "lookup \"%s\" failed", "x");
    cr_assert_eq(logs.count, 1);
    cr_assert_str_eq(logs.last, "{\"level\":\"error\",\"component\":\"identity\","
                                "\"message\":\"lookup \\\"x\\\" failed\"}");
    omni__metric(e, "ProcessingTime", 12.5, "Milliseconds", "{\"FunctionName\":\"x\"}");
    cr_assert_eq(metrics.count, 1);
    cr_assert_float_eq(metrics.value, 12.5, 1e-9);
    cr_assert_str_eq(metrics.dims, "{\"FunctionName\":\"x\"}");
    omni_engine_free(e);

    /* a failing random hook makes the call fail with a message */
    rnd.fill = failing_random;
    cr_assert_eq(new_engine(&e, NULL, &hooks), OMNI_OK);
    cr_assert_eq(omni_engine_random(e, buf, 4), -12345);
    cr_assert(strstr(omni_error_last_message(), "random hook failed") != NULL);
    omni_engine_free(e);
}

Test(engine, bad_hook_tables_are_refused)
{
    omni_clock_hook clock = OMNI_CLOCK_HOOK_INIT;
    omni_hooks hooks = OMNI_HOOKS_INIT;
    hooks.clock = &clock;
    omni_engine *e;
    cr_assert_eq(new_engine(&e, NULL, &hooks), OMNI_EINVAL, "now_ms missing");
    clock.now_ms = hook_clock;
    clock.version = 7;
    cr_assert_eq(new_engine(&e, NULL, &hooks), OMNI_EVERSION);
    clock.version = 0;
    cr_assert_eq(new_engine(&e, NULL, &hooks), OMNI_EVERSION);
    hooks.clock = NULL;
    hooks.version = OMNI_HOOKS_VERSION + 1;
    cr_assert_eq(new_engine(&e, NULL, &hooks), OMNI_EVERSION);
    omni_random_hook rnd = OMNI_RANDOM_HOOK_INIT;
    hooks.version = 1;
    hooks.random = &rnd;
    cr_assert_eq(new_engine(&e, NULL, &hooks), OMNI_EINVAL, "fill missing");
}

static int no_analysis(void *ctx, const char *req, size_t req_len, const char *builtin,
                       size_t builtin_len, char **out, size_t *out_len)
{
    (void)ctx, (void)req, (void)req_len, (void)builtin, (void)builtin_len;
    *out = NULL;
    *out_len = 0;
    return OMNI_OK;
}

/* Version 2 of omni_hooks appended the analyzer; a version-1 table is read
 * without it, and omni_hooks_init(1) writes only the version-1 fields. */
Test(engine, analyzer_hook_needs_hooks_version_2)
{
    omni_analyzer_hook an = OMNI_ANALYZER_HOOK_INIT;
    omni_hooks hooks = OMNI_HOOKS_INIT;
    omni_engine *e;
    hooks.analyzer = &an;
    cr_assert_eq(new_engine(&e, NULL, &hooks), OMNI_EINVAL, "analyze missing");
    an.analyze = no_analysis;
    an.version = 2;
    cr_assert_eq(new_engine(&e, NULL, &hooks), OMNI_EVERSION);
    an.version = OMNI_ANALYZER_HOOK_VERSION;
    cr_assert_eq(new_engine(&e, NULL, &hooks), OMNI_OK);
    omni_engine_free(e);
    an.analyze = NULL; /* ignored in a version-1 table */
    hooks.version = 1;
    cr_assert_eq(new_engine(&e, NULL, &hooks), OMNI_OK);
    omni_engine_free(e);

    unsigned char raw[sizeof(omni_hooks)];
    memset(raw, 0xAB, sizeof(raw));
    cr_assert_eq(omni_hooks_init((omni_hooks *)(void *)raw, 1), OMNI_OK);
    cr_assert_eq(raw[sizeof(raw) - 1], 0xAB, "version 1 must not write the analyzer field");
    cr_assert_eq(omni_hooks_init((omni_hooks *)(void *)raw, 2), OMNI_OK);
    cr_assert_null(((omni_hooks *)(void *)raw)->analyzer);
    cr_assert_eq(omni_analyzer_hook_init(&an, 2), OMNI_EVERSION);
    cr_assert_eq(omni_analyzer_hook_init(&an, 1), OMNI_OK);
    cr_assert_null(an.analyze);
}

Test(engine, log_level_from_config)
{
    log_sink logs = {0};
    omni_log_hook log = OMNI_LOG_HOOK_INIT;
    log.ctx = &logs;
    log.log = hook_log;
    omni_hooks hooks = OMNI_HOOKS_INIT;
    hooks.log = &log;
    omni_engine *e;
    cr_assert_eq(new_engine(&e, "{\"log\":{\"level\":\"debug\"}}", &hooks), OMNI_OK);
    omni__log(e, OMNI_LOG_DEBUG, "test", "visible");
    cr_assert_eq(logs.count, 1);
    omni_engine_free(e);
    cr_assert_eq(new_engine(&e, "{\"log\":{\"level\":\"off\"}}", &hooks), OMNI_OK);
    omni__log(e, OMNI_LOG_ERROR, "test", "hidden");
    cr_assert_eq(logs.count, 1);
    omni_engine_free(e);
}
