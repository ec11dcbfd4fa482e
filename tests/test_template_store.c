/* The template store (omni/template_store.h) through a real engine with
 * the memory store: create / get / update (CAS, kept versions) / delete /
 * list with filters and cursors, field validation, compile checks, the
 * locale fallback chain of render_stored, concurrent updates from two
 * threads, and storage failures through a fault-injecting storage hook. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

/* ---- helpers ----------------------------------------------------------------- */

static omni_engine *engine_new(void)
{
    omni_engine *e = NULL;
    int rc = omni_engine_new(&e, NULL, 0, NULL);
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    return e;
}

/* An engine whose clock starts at 2026-01-02T03:04:05.000Z and advances one
 * second per reading. */
static int64_t tick_now(void *ctx)
{
    int64_t *t = ctx;
    int64_t v = *t;
    *t += 1000;
    return v;
}

static int64_t clock_ms = 1767323045000; /* 2026-01-02T03:04:05.000Z */

static omni_engine *engine_ticking(void)
{
    static omni_clock_hook ck = OMNI_CLOCK_HOOK_INIT;
    ck.ctx = &clock_ms;
    ck.now_ms = tick_now;
    omni_hooks h = OMNI_HOOKS_INIT;
    h.clock = &ck;
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, NULL, 0, &h), OMNI_OK, "%s", omni_error_last_message());
    return e;
}

static cJSON *parse(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    cr_assert_not_null(j, "bad JSON: %s", s);
    return j;
}

static const char *jstr(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    cr_assert(cJSON_IsString(v), "%s is not a string", key);
    return v->valuestring;
}

static int jint(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    cr_assert(cJSON_IsNumber(v), "%s is not a number", key);
    return v->valueint;
}

#define ORDER_TEMPLATE                                                                      \
    "{\"templateId\":\"order_shipped\",\"name\":\"Order shipped\",\"category\":\"order\","   \
    "\"channels\":[\"sms\",\"email\",\"push\"],"                                             \
    "\"content\":{\"subject\":\"Order {{orderId}} shipped\","                                \
    "\"body\":\"Hi {{name}}, order {{orderId}} is on its way.\","                            \
    "\"htmlBody\":\"<p>Hi {{name}}</p>\"},"                                                  \
    "\"variables\":[{\"name\":\"name\",\"required\":true},{\"name\":\"orderId\"}],"          \
    "\"localizations\":{\"hi\":{"                                                         \
    "\"body\":\"नमस्ते {{name}}, ऑर्डर {{orderId}} भेज दिया गया है।\"},"                 \
    "\"kn_in\":{\"subject\":\"ಆರ್ಡರ್ {{orderId}}\","                                          \
    "\"body\":\"ನಮಸ್ಕಾರ {{name}}, ಆರ್ಡರ್ {{orderId}} ಕಳುಹಿಸಲಾಗಿದೆ.\"}}}"

static cJSON *create(omni_engine *e, const char *doc)
{
    char *out = NULL;
    size_t n = 0;
    int rc = omni_template_create(&out, &n, e, doc, strlen(doc));
    cr_assert_eq(rc, OMNI_OK, "create: %d %s", rc, omni_error_last_message());
    cr_assert_eq(strlen(out), n);
    cJSON *j = parse(out);
    omni_free(out);
    return j;
}

static cJSON *get(omni_engine *e, const char *id, uint32_t version)
{
    char *out = NULL;
    int rc = omni_template_get(&out, NULL, e, id, version);
    cr_assert_eq(rc, OMNI_OK, "get: %d %s", rc, omni_error_last_message());
    cJSON *j = parse(out);
    omni_free(out);
    return j;
}

/* A template document with a given id, category, channel list and body. */
static char *doc(const char *id, const char *category, const char *channels, const char *body,
                 const char *extra)
{
    char *s = malloc(4096);
    snprintf(s, 4096,
             "{\"templateId\":\"%s\",\"name\":\"n\",\"category\":\"%s\",\"channels\":%s,"
             "\"content\":{\"body\":\"%s\"}%s}",
             id, category, channels, body, extra ? extra : "");
    return s;
}

/* ---- create / get ---------------------------------------------------------------- */

Test(template_store, create_sets_version_and_timestamps)
{
    omni_engine *e = engine_ticking();
    cJSON *j = create(e, ORDER_TEMPLATE);
    cr_assert_eq(jint(j, "version"), 1);
    cr_assert_str_eq(jstr(j, "createdAt"), "2026-01-02T03:04:05.000Z");
    cr_assert_str_eq(jstr(j, "updatedAt"), "2026-01-02T03:04:05.000Z");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "isActive")));
    cr_assert_str_eq(jstr(j, "defaultLocale"), "en");
    /* the localization key is stored in canonical case */
    const cJSON *locs = cJSON_GetObjectItemCaseSensitive(j, "localizations");
    cr_assert_not_null(cJSON_GetObjectItemCaseSensitive(locs, "kn-IN"));
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(locs, "kn_in"));
    /* canonical field order */
    static const char *order[] = {"templateId", "name",          "category",
                                  "channels",   "content",       "variables",
                                  "version",    "isActive",      "defaultLocale",
                                  "localizations", "createdAt",  "updatedAt"};
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, j) {
        cr_assert(i < sizeof(order) / sizeof(order[0]));
        cr_assert_str_eq(it->string, order[i], "field %zu", i);
        i++;
    }
    cJSON_Delete(j);
    /* get returns the same document */
    char *a = NULL, *b = NULL;
    cr_assert_eq(omni_template_get(&a, NULL, e, "order_shipped", 0), OMNI_OK);
    cr_assert_eq(omni_template_get(&b, NULL, e, "order_shipped", 1), OMNI_OK);
    cr_assert_str_eq(a, b);
    omni_free(a), omni_free(b);
    omni_engine_free(e);
}

Test(template_store, create_defaults_and_client_fields_ignored)
{
    omni_engine *e = engine_new();
    cJSON *j = create(e, "{\"templateId\":\"a.b:c-d_1\",\"name\":\"x\",\"category\":\"system\","
                         "\"channels\":[\"whatsapp\"],\"content\":{\"body\":\"hi\"},"
                         "\"version\":42,\"createdAt\":\"1999-01-01T00:00:00.000Z\","
                         "\"isActive\":false,\"defaultLocale\":\"HI-in\"}");
    cr_assert_eq(jint(j, "version"), 1);
    cr_assert_str_neq(jstr(j, "createdAt"), "1999-01-01T00:00:00.000Z");
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "isActive")));
    cr_assert_str_eq(jstr(j, "defaultLocale"), "hi-IN");
    cr_assert(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "variables")));
    cJSON_Delete(j);
    omni_engine_free(e);
}

Test(template_store, create_twice_is_eexists)
{
    omni_engine *e = engine_new();
    cJSON_Delete(create(e, ORDER_TEMPLATE));
    char *out = (char *)1;
    cr_assert_eq(omni_template_create(&out, NULL, e, ORDER_TEMPLATE, strlen(ORDER_TEMPLATE)),
                 OMNI_EEXISTS);
    cr_assert_null(out);
    cr_assert_not_null(strstr(omni_error_last_message(), "order_shipped"));
    omni_engine_free(e);
}

Test(template_store, get_errors)
{
    omni_engine *e = engine_new();
    char *out = NULL;
    cr_assert_eq(omni_template_get(&out, NULL, e, "nope", 0), OMNI_ENOTFOUND);
    cr_assert_eq(omni_template_get(&out, NULL, e, "bad id", 0), OMNI_EINVAL);
    cr_assert_eq(omni_template_get(&out, NULL, e, "", 0), OMNI_EINVAL);
    cr_assert_eq(omni_template_get(&out, NULL, e, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_template_get(NULL, NULL, e, "x", 0), OMNI_EINVAL);
    cr_assert_eq(omni_template_get(&out, NULL, NULL, "x", 0), OMNI_EINVAL);
    cJSON_Delete(create(e, ORDER_TEMPLATE));
    cr_assert_eq(omni_template_get(&out, NULL, e, "order_shipped", 2), OMNI_ENOTFOUND);
    /* a damaged stored value */
    omni_store *st = omni_engine_store(e);
    cr_assert_eq(omni_store_put(st, "template", "broken", "[1,2]", 5, OMNI_STORE_ANY_VERSION, 0,
                                omni_engine_now_ms(e), NULL),
                 OMNI_OK);
    cr_assert_eq(omni_template_get(&out, NULL, e, "broken", 0), OMNI_ESTORAGE);
    cr_assert_eq(omni_template_delete(e, "broken"), OMNI_OK);
    cr_assert_null(out);
    omni_engine_free(e);
}

/* ---- update / versions / delete ------------------------------------------------- */

static int update(omni_engine *e, const char *d, uint32_t expected, cJSON **out_doc)
{
    char *out = NULL;
    int rc = omni_template_update(&out, NULL, e, d, strlen(d), expected);
    if (rc == OMNI_OK) {
        if (out_doc)
            *out_doc = parse(out);
        omni_free(out);
    } else {
        cr_assert_null(out);
    }
    return rc;
}

Test(template_store, update_keeps_versions)
{
    omni_engine *e = engine_ticking();
    cJSON *c = create(e, ORDER_TEMPLATE);
    char created[32];
    snprintf(created, sizeof(created), "%s", jstr(c, "createdAt"));
    cJSON_Delete(c);
    char *v2 = doc("order_shipped", "order", "[\"sms\"]", "version two {{x}}", NULL);
    cJSON *u = NULL;
    cr_assert_eq(update(e, v2, 1, &u), OMNI_OK, "%s", omni_error_last_message());
    cr_assert_eq(jint(u, "version"), 2);
    cr_assert_str_eq(jstr(u, "createdAt"), created);
    cr_assert_str_gt(jstr(u, "updatedAt"), created);
    cJSON_Delete(u);
    char *v3 = doc("order_shipped", "order", "[\"sms\"]", "version three", NULL);
    cr_assert_eq(update(e, v3, 0, &u), OMNI_OK);
    cr_assert_eq(jint(u, "version"), 3);
    cJSON_Delete(u);
    /* every version readable by number */
    cJSON *g1 = get(e, "order_shipped", 1), *g2 = get(e, "order_shipped", 2);
    cJSON *g3 = get(e, "order_shipped", 3), *g0 = get(e, "order_shipped", 0);
    cr_assert_str_eq(jstr(cJSON_GetObjectItemCaseSensitive(g1, "content"), "body"),
                     "Hi {{name}}, order {{orderId}} is on its way.");
    cr_assert_str_eq(jstr(cJSON_GetObjectItemCaseSensitive(g2, "content"), "body"),
                     "version two {{x}}");
    cr_assert_str_eq(jstr(cJSON_GetObjectItemCaseSensitive(g3, "content"), "body"),
                     "version three");
    cr_assert(cJSON_Compare(g3, g0, 1));
    cr_assert_eq(jint(g1, "version"), 1);
    cr_assert_eq(jint(g2, "version"), 2);
    cJSON_Delete(g0), cJSON_Delete(g1), cJSON_Delete(g2), cJSON_Delete(g3);
    /* CAS: stale expected version */
    cr_assert_eq(update(e, v3, 2, NULL), OMNI_ECONFLICT);
    cr_assert_not_null(strstr(omni_error_last_message(), "version 3"));
    cr_assert_eq(update(e, v3, 3, NULL), OMNI_OK);
    free(v2), free(v3);
    omni_engine_free(e);
}

Test(template_store, update_errors)
{
    omni_engine *e = engine_new();
    char *d = doc("missing", "order", "[\"sms\"]", "x", NULL);
    cr_assert_eq(update(e, d, 0, NULL), OMNI_ENOTFOUND);
    cr_assert_eq(update(e, d, 1, NULL), OMNI_ENOTFOUND);
    cr_assert_eq(update(e, "{", 0, NULL), OMNI_EJSON);
    cr_assert_eq(update(e, "{\"templateId\":\"x\"}", 0, NULL), OMNI_EINVAL);
    char *out = NULL;
    cr_assert_eq(omni_template_update(NULL, NULL, e, d, strlen(d), 0), OMNI_EINVAL);
    cr_assert_eq(omni_template_update(&out, NULL, NULL, d, strlen(d), 0), OMNI_EINVAL);
    cr_assert_eq(omni_template_update(&out, NULL, e, NULL, 0, 0), OMNI_EINVAL);
    /* a syntax error in an update changes nothing */
    cJSON_Delete(create(e, ORDER_TEMPLATE));
    char *bad = doc("order_shipped", "order", "[\"sms\"]", "{{#if x}}open", NULL);
    cr_assert_eq(update(e, bad, 0, NULL), OMNI_ESYNTAX);
    cJSON *g = get(e, "order_shipped", 0);
    cr_assert_eq(jint(g, "version"), 1);
    cJSON_Delete(g);
    free(d), free(bad);
    omni_engine_free(e);
}

Test(template_store, delete_removes_all_versions)
{
    omni_engine *e = engine_new();
    cJSON_Delete(create(e, ORDER_TEMPLATE));
    char *v2 = doc("order_shipped", "order", "[\"sms\"]", "two", NULL);
    cr_assert_eq(update(e, v2, 0, NULL), OMNI_OK);
    cr_assert_eq(update(e, v2, 0, NULL), OMNI_OK);
    cr_assert_eq(omni_template_delete(e, "order_shipped"), OMNI_OK);
    char *out = NULL;
    cr_assert_eq(omni_template_get(&out, NULL, e, "order_shipped", 0), OMNI_ENOTFOUND);
    cr_assert_eq(omni_template_get(&out, NULL, e, "order_shipped", 1), OMNI_ENOTFOUND);
    /* the kept versions are gone from the store */
    char *list = NULL;
    cr_assert_eq(omni_store_list_json(omni_engine_store(e), "template_version", "", NULL, 100,
                                      omni_engine_now_ms(e), &list, NULL),
                 OMNI_OK);
    cr_assert_str_eq(list, "{\"items\":[],\"next\":null}");
    omni_free(list);
    cr_assert_eq(omni_template_delete(e, "order_shipped"), OMNI_ENOTFOUND);
    cr_assert_eq(omni_template_delete(e, "bad id"), OMNI_EINVAL);
    cr_assert_eq(omni_template_delete(NULL, "x"), OMNI_EINVAL);
    /* the id can be used again, from version 1 */
    cJSON *j = create(e, ORDER_TEMPLATE);
    cr_assert_eq(jint(j, "version"), 1);
    cJSON_Delete(j);
    cr_assert_eq(omni_template_get(&out, NULL, e, "order_shipped", 2), OMNI_ENOTFOUND);
    free(v2);
    omni_engine_free(e);
}

/* ---- validation ------------------------------------------------------------------ */

static void expect_invalid(omni_engine *e, const char *d, int status, const char *path)
{
    char *out = (char *)1;
    int rc = omni_template_create(&out, NULL, e, d, strlen(d));
    cr_assert_eq(rc, status, "status %d, expected %d for %s (%s)", rc, status, d,
                 omni_error_last_message());
    cr_assert_null(out);
    if (path) {
        const char *details = omni_error_last()->details;
        cr_assert_not_null(details, "no details for %s", d);
        cJSON *j = parse(details);
        cr_assert_str_eq(jstr(j, "path"), path, "for %s", d);
        cJSON_Delete(j);
    }
}

#define BASE_FIELDS "\"name\":\"n\",\"category\":\"order\",\"channels\":[\"sms\"]"

Test(template_store, field_validation)
{
    omni_engine *e = engine_new();
    expect_invalid(e, "{", OMNI_EJSON, NULL);
    expect_invalid(e, "[1]", OMNI_EINVAL, "");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS ",\"content\":{\"body\":\"x\"},"
                      "\"chanels\":[]}", OMNI_EINVAL, "chanels");
    expect_invalid(e, "{" BASE_FIELDS ",\"content\":{\"body\":\"x\"}}", OMNI_EINVAL,
                   "templateId");
    expect_invalid(e, "{\"templateId\":\"a b\"," BASE_FIELDS ",\"content\":{\"body\":\"x\"}}",
                   OMNI_EINVAL, "templateId");
    expect_invalid(e, "{\"templateId\":\"a/b\"," BASE_FIELDS ",\"content\":{\"body\":\"x\"}}",
                   OMNI_EINVAL, "templateId");
    expect_invalid(e, "{\"templateId\":7," BASE_FIELDS ",\"content\":{\"body\":\"x\"}}",
                   OMNI_EINVAL, "templateId");
    char longid[400];
    snprintf(longid, sizeof(longid),
             "{\"templateId\":\"%0129d\"," BASE_FIELDS ",\"content\":{\"body\":\"x\"}}", 0);
    expect_invalid(e, longid, OMNI_EINVAL, "templateId");
    expect_invalid(e, "{\"templateId\":\"a\",\"category\":\"order\",\"channels\":[\"sms\"],"
                      "\"content\":{\"body\":\"x\"}}", OMNI_EINVAL, "name");
    expect_invalid(e, "{\"templateId\":\"a\",\"name\":\"\",\"category\":\"order\","
                      "\"channels\":[\"sms\"],\"content\":{\"body\":\"x\"}}", OMNI_EINVAL, "name");
    expect_invalid(e, "{\"templateId\":\"a\",\"name\":\"n\",\"description\":1,"
                      "\"category\":\"order\",\"channels\":[\"sms\"],\"content\":{\"body\":\"x\"}}",
                   OMNI_EINVAL, "description");
    expect_invalid(e, "{\"templateId\":\"a\",\"name\":\"n\",\"category\":\"marketing\","
                      "\"channels\":[\"sms\"],\"content\":{\"body\":\"x\"}}", OMNI_EINVAL,
                   "category");
    expect_invalid(e, "{\"templateId\":\"a\",\"name\":\"n\",\"channels\":[\"sms\"],"
                      "\"content\":{\"body\":\"x\"}}", OMNI_EINVAL, "category");
    expect_invalid(e, "{\"templateId\":\"a\",\"name\":\"n\",\"category\":\"order\","
                      "\"content\":{\"body\":\"x\"}}", OMNI_EINVAL, "channels");
    expect_invalid(e, "{\"templateId\":\"a\",\"name\":\"n\",\"category\":\"order\","
                      "\"channels\":[],\"content\":{\"body\":\"x\"}}", OMNI_EINVAL, "channels");
    expect_invalid(e, "{\"templateId\":\"a\",\"name\":\"n\",\"category\":\"order\","
                      "\"channels\":[\"sms\",\"fax\"],\"content\":{\"body\":\"x\"}}",
                   OMNI_EINVAL, "channels[1]");
    expect_invalid(e, "{\"templateId\":\"a\",\"name\":\"n\",\"category\":\"order\","
                      "\"channels\":[\"sms\",\"sms\"],\"content\":{\"body\":\"x\"}}",
                   OMNI_EINVAL, "channels[1]");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS "}", OMNI_EINVAL, "content");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS ",\"content\":\"x\"}", OMNI_EINVAL,
                   "content");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS ",\"content\":{}}", OMNI_EINVAL,
                   "content.body");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS ",\"content\":{\"body\":1}}",
                   OMNI_EINVAL, "content.body");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS
                      ",\"content\":{\"body\":\"x\",\"subject\":null}}",
                   OMNI_EINVAL, "content.subject");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS
                      ",\"content\":{\"body\":\"x\",\"footer\":\"y\"}}",
                   OMNI_EINVAL, "content.footer");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS
                      ",\"content\":{\"body\":\"x\"},\"variables\":{}}",
                   OMNI_EINVAL, "variables");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS
                      ",\"content\":{\"body\":\"x\"},\"variables\":[\"name\"]}",
                   OMNI_EINVAL, "variables[0]");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS
                      ",\"content\":{\"body\":\"x\"},\"variables\":[{\"required\":true}]}",
                   OMNI_EINVAL, "variables[0].name");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS
                      ",\"content\":{\"body\":\"x\"},\"variables\":[{\"name\":\"a b\"}]}",
                   OMNI_EINVAL, "variables[0].name");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS ",\"content\":{\"body\":\"x\"},"
                      "\"variables\":[{\"name\":\"a\"},{\"name\":\"a\"}]}",
                   OMNI_EINVAL, "variables[1].name");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS ",\"content\":{\"body\":\"x\"},"
                      "\"variables\":[{\"name\":\"a\",\"required\":\"yes\"}]}",
                   OMNI_EINVAL, "variables[0].required");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS ",\"content\":{\"body\":\"x\"},"
                      "\"variables\":[{\"name\":\"a\",\"type\":3}]}",
                   OMNI_EINVAL, "variables[0].type");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS
                      ",\"content\":{\"body\":\"x\"},\"isActive\":\"yes\"}",
                   OMNI_EINVAL, "isActive");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS
                      ",\"content\":{\"body\":\"x\"},\"defaultLocale\":\"e\"}",
                   OMNI_EINVAL, "defaultLocale");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS
                      ",\"content\":{\"body\":\"x\"},\"localizations\":[]}",
                   OMNI_EINVAL, "localizations");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS
                      ",\"content\":{\"body\":\"x\"},\"localizations\":{\"h i\":{\"body\":\"x\"}}}",
                   OMNI_EINVAL, "localizations.h i");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS ",\"content\":{\"body\":\"x\"},"
                      "\"localizations\":{\"hi-in\":{\"body\":\"x\"},\"hi_IN\":{\"body\":\"y\"}}}",
                   OMNI_EINVAL, "localizations.hi_IN");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS
                      ",\"content\":{\"body\":\"x\"},\"localizations\":{\"hi\":{}}}",
                   OMNI_EINVAL, "localizations.hi.body");
    /* nothing was stored */
    char *list = NULL;
    cr_assert_eq(omni_template_list(&list, NULL, e, NULL, 0, NULL, 0), OMNI_OK);
    cr_assert_str_eq(list, "{\"items\":[],\"next\":null}");
    omni_free(list);
    omni_engine_free(e);
}

Test(template_store, syntax_errors_are_rejected_with_path)
{
    omni_engine *e = engine_new();
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS ",\"content\":{\"body\":\"{{#if x}}\"}}",
                   OMNI_ESYNTAX, "content.body");
    cr_assert_not_null(strstr(omni_error_last_message(), "content.body"));
    cJSON *d = parse(omni_error_last()->details);
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(d, "line")));
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(d, "column")));
    cJSON_Delete(d);
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS
                      ",\"content\":{\"body\":\"ok\",\"subject\":\"{{x\"}}",
                   OMNI_ESYNTAX, "content.subject");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS
                      ",\"content\":{\"body\":\"ok\",\"htmlBody\":\"{{/each}}\"}}",
                   OMNI_ESYNTAX, "content.htmlBody");
    expect_invalid(e, "{\"templateId\":\"a\"," BASE_FIELDS ",\"content\":{\"body\":\"ok\"},"
                      "\"localizations\":{\"hi\":{\"body\":\"ok\",\"subject\":\"{{{x}}\"}}}",
                   OMNI_ESYNTAX, "localizations.hi.subject");
    omni_engine_free(e);
}

Test(template_store, size_limit)
{
    omni_engine *e = engine_new();
    size_t n = 1024 * 1024 + 1;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[n] = '\0';
    big[0] = '{';
    big[n - 1] = '}';
    char *out = NULL;
    cr_assert_eq(omni_template_create(&out, NULL, e, big, n), OMNI_ETOOLARGE);
    cr_assert_eq(omni_template_update(&out, NULL, e, big, n, 0), OMNI_ETOOLARGE);
    free(big);
    cr_assert_eq(omni_template_create(&out, NULL, e, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_template_create(NULL, NULL, e, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni_template_create(&out, NULL, NULL, "{}", 2), OMNI_EINVAL);
    omni_engine_free(e);
}

/* ---- list -------------------------------------------------------------------------- */

static cJSON *list(omni_engine *e, const char *filter, const char *after, size_t limit)
{
    char *out = NULL;
    int rc = omni_template_list(&out, NULL, e, filter, filter ? strlen(filter) : 0, after, limit);
    cr_assert_eq(rc, OMNI_OK, "list: %s", omni_error_last_message());
    cJSON *j = parse(out);
    omni_free(out);
    return j;
}

static void expect_ids(const cJSON *page, const char *ids)
{
    char got[512] = "";
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(page, "items")) {
        if (got[0])
            strcat(got, ",");
        strcat(got, jstr(it, "templateId"));
    }
    cr_assert_str_eq(got, ids);
}

static const char *next_of(const cJSON *page)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(page, "next");
    return cJSON_IsString(n) ? n->valuestring : NULL;
}

Test(template_store, list_filters_and_cursor)
{
    omni_engine *e = engine_new();
    struct {
        const char *id, *cat, *chs, *extra;
    } t[] = {
        {"t1", "order", "[\"sms\"]", NULL},
        {"t2", "payment", "[\"email\",\"sms\"]", NULL},
        {"t3", "promotional", "[\"whatsapp\"]", ",\"isActive\":false"},
        {"t4", "order", "[\"push\",\"sms\"]", NULL},
        {"t5", "system", "[\"email\"]", ",\"isActive\":false"},
    };
    for (size_t i = 0; i < 5; i++) {
        char *d = doc(t[i].id, t[i].cat, t[i].chs,
                      !strcmp(t[i].cat, "promotional") ? "x STOP" : "x", t[i].extra);
        cJSON_Delete(create(e, d));
        free(d);
    }
    cJSON *p = list(e, NULL, NULL, 0);
    expect_ids(p, "t1,t2,t3,t4,t5");
    cr_assert_null(next_of(p));
    cJSON_Delete(p);
    /* pages of two */
    p = list(e, "", NULL, 2);
    expect_ids(p, "t1,t2");
    cr_assert_str_eq(next_of(p), "t2");
    cJSON *p2 = list(e, NULL, next_of(p), 2);
    expect_ids(p2, "t3,t4");
    cJSON *p3 = list(e, NULL, next_of(p2), 2);
    expect_ids(p3, "t5");
    const char *n3 = next_of(p3);
    if (n3) { /* a cursor at the last record gives an empty last page */
        cJSON *p4 = list(e, NULL, n3, 2);
        expect_ids(p4, "");
        cr_assert_null(next_of(p4));
        cJSON_Delete(p4);
    }
    cJSON_Delete(p), cJSON_Delete(p2), cJSON_Delete(p3);
    /* filters */
    p = list(e, "{\"category\":\"order\"}", NULL, 0);
    expect_ids(p, "t1,t4");
    cJSON_Delete(p);
    p = list(e, "{\"channel\":\"sms\"}", NULL, 0);
    expect_ids(p, "t1,t2,t4");
    cJSON_Delete(p);
    p = list(e, "{\"isActive\":false}", NULL, 0);
    expect_ids(p, "t3,t5");
    cJSON_Delete(p);
    p = list(e, "{\"channel\":\"email\",\"isActive\":true}", NULL, 0);
    expect_ids(p, "t2");
    cJSON_Delete(p);
    p = list(e, "{\"channel\":\"sms\"}", NULL, 1);
    expect_ids(p, "t1");
    cr_assert_str_eq(next_of(p), "t1");
    p2 = list(e, "{\"channel\":\"sms\"}", next_of(p), 1);
    expect_ids(p2, "t2");
    cJSON_Delete(p), cJSON_Delete(p2);
    /* errors */
    char *out = NULL;
    cr_assert_eq(omni_template_list(&out, NULL, e, "{", 1, NULL, 0), OMNI_EJSON);
    cr_assert_eq(omni_template_list(&out, NULL, e, "[]", 2, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_template_list(&out, NULL, e, "{\"kind\":1}", 10, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_template_list(&out, NULL, e, "{\"category\":\"x\"}", 16, NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni_template_list(&out, NULL, e, "{\"channel\":1}", 13, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_template_list(&out, NULL, e, "{\"isActive\":1}", 14, NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni_template_list(&out, NULL, e, NULL, 0, NULL, 1001), OMNI_EINVAL);
    cr_assert_eq(omni_template_list(&out, NULL, e, NULL, 0, "bad cursor", 1), OMNI_EINVAL);
    cr_assert_eq(omni_template_list(NULL, NULL, e, NULL, 0, NULL, 1), OMNI_EINVAL);
    cr_assert_eq(omni_template_list(&out, NULL, NULL, NULL, 0, NULL, 1), OMNI_EINVAL);
    cr_assert_null(out);
    omni_engine_free(e);
}

/* ---- render_stored ------------------------------------------------------------------ */

static cJSON *render(omni_engine *e, const char *id, const char *locale, const char *def,
                     const char *channel, const char *data)
{
    char *out = NULL;
    int rc = omni_template_render_stored(&out, NULL, e, id, locale, def, channel, data,
                                         data ? strlen(data) : 0);
    cr_assert_eq(rc, OMNI_OK, "render: %d %s", rc, omni_error_last_message());
    cJSON *j = parse(out);
    omni_free(out);
    return j;
}

#define DATA "{\"name\":\"Asha <A&B>\",\"orderId\":\"A-42\"}"

Test(template_store, render_locale_fallback_chain)
{
    omni_engine *e = engine_new();
    cJSON_Delete(create(e, ORDER_TEMPLATE));
    struct {
        const char *locale, *def, *used;
    } cases[] = {
        {"kn-IN", NULL, "kn-IN"},  /* exact */
        {"kn_in", NULL, "kn-IN"},  /* any case, underscore */
        {"hi-IN", NULL, "hi"},     /* the language */
        {"kn", NULL, "en"},        /* no kn: the template's default (en) */
        {"ta-IN", "kn-IN", "kn-IN"}, /* the account default */
        {"ta-IN", "hi", "hi"},
        {"fr", "de", "en"},
        {NULL, NULL, "en"},
        {"", "", "en"},
        {"en-GB", NULL, "en"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *r = render(e, "order_shipped", cases[i].locale, cases[i].def, "sms", DATA);
        cr_assert_str_eq(jstr(r, "locale"), cases[i].used, "case %zu", i);
        cr_assert_str_eq(jstr(r, "templateId"), "order_shipped");
        cr_assert_eq(jint(r, "version"), 1);
        cJSON_Delete(r);
    }
    cJSON *r = render(e, "order_shipped", "hi", NULL, "sms", DATA);
    cr_assert_str_eq(jstr(r, "body"),
                     "नमस्ते Asha <A&B>, ऑर्डर A-42 भेज दिया गया है।");
    const cJSON *sms = cJSON_GetObjectItemCaseSensitive(r, "sms");
    cr_assert_str_eq(jstr(sms, "encoding"), "UCS-2");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r, "subject"));
    cJSON_Delete(r);
    omni_engine_free(e);
}

Test(template_store, render_channels_and_escaping)
{
    omni_engine *e = engine_new();
    cJSON_Delete(create(e, ORDER_TEMPLATE));
    cJSON *r = render(e, "order_shipped", "en", NULL, "email", DATA);
    cr_assert_str_eq(jstr(r, "subject"), "Order A-42 shipped");
    cr_assert_str_eq(jstr(r, "body"), "Hi Asha <A&B>, order A-42 is on its way.");
    cr_assert_str_eq(jstr(r, "htmlBody"), "<p>Hi Asha &lt;A&amp;B&gt;</p>");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r, "sms"));
    cJSON_Delete(r);
    /* a localization without htmlBody / subject uses the content's */
    r = render(e, "order_shipped", "hi", NULL, "email", DATA);
    cr_assert_str_eq(jstr(r, "locale"), "hi");
    cr_assert_str_eq(jstr(r, "subject"), "Order A-42 shipped");
    cr_assert_str_eq(jstr(r, "htmlBody"), "<p>Hi Asha &lt;A&amp;B&gt;</p>");
    cJSON_Delete(r);
    r = render(e, "order_shipped", "kn-IN", NULL, "push", DATA);
    cr_assert_str_eq(jstr(r, "subject"), "ಆರ್ಡರ್ A-42");
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r, "htmlBody"));
    cJSON_Delete(r);
    r = render(e, "order_shipped", "en", NULL, "sms", NULL); /* no data: empty values */
    cr_assert_str_eq(jstr(r, "body"), "Hi , order  is on its way.");
    const cJSON *sms = cJSON_GetObjectItemCaseSensitive(r, "sms");
    cr_assert_str_eq(jstr(sms, "encoding"), "GSM-7");
    cr_assert_eq(jint(sms, "segments"), 1);
    cJSON_Delete(r);
    omni_engine_free(e);
}

Test(template_store, render_uses_the_locale_for_format_helpers)
{
    omni_engine *e = engine_new();
    cJSON_Delete(create(e, "{\"templateId\":\"amount\",\"name\":\"A\","
                           "\"category\":\"payment\",\"channels\":[\"sms\"],"
                           "\"content\":{\"body\":\"Paid {{formatNumber x}}\"},"
                           "\"localizations\":{\"hi\":{\"body\":\"{{formatNumber x}} भुगतान\"}}}"));
    cJSON *r = render(e, "amount", "en-US", NULL, "sms", "{\"x\":1234567.5}");
    cr_assert_str_eq(jstr(r, "body"), "Paid 1,234,567.5");
    cJSON_Delete(r);
    r = render(e, "amount", "hi-IN", NULL, "sms", "{\"x\":1234567.5}");
    cr_assert_str_eq(jstr(r, "locale"), "hi");
    cr_assert_str_eq(jstr(r, "body"), "12,34,567.5 भुगतान");
    cJSON_Delete(r);
    omni_engine_free(e);
}

Test(template_store, render_errors)
{
    omni_engine *e = engine_new();
    cJSON_Delete(create(e, ORDER_TEMPLATE));
    char *d = doc("inactive", "order", "[\"sms\"]", "x", ",\"isActive\":false");
    cJSON_Delete(create(e, d));
    free(d);
    char *out = NULL;
    const char *id = "order_shipped";
    cr_assert_eq(omni_template_render_stored(&out, NULL, e, "nope", "en", NULL, "sms", NULL, 0),
                 OMNI_ENOTFOUND);
    cr_assert_eq(omni_template_render_stored(&out, NULL, e, "inactive", "en", NULL, "sms", NULL,
                                             0),
                 OMNI_EINVAL);
    cr_assert_not_null(strstr(omni_error_last_message(), "not active"));
    cr_assert_eq(omni_template_render_stored(&out, NULL, e, id, "en", NULL, "whatsapp", NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni_template_render_stored(&out, NULL, e, id, "en", NULL, "fax", NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni_template_render_stored(&out, NULL, e, id, "en", NULL, NULL, NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni_template_render_stored(&out, NULL, e, id, "e", NULL, "sms", NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni_template_render_stored(&out, NULL, e, id, "en", "x y", "sms", NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni_template_render_stored(&out, NULL, e, id, "en", NULL, "sms", "{", 1),
                 OMNI_EJSON);
    /* an unknown helper is a render-time error */
    d = doc("helperless", "order", "[\"sms\"]", "{{shout name}}", NULL);
    cJSON_Delete(create(e, d));
    free(d);
    cr_assert_eq(omni_template_render_stored(&out, NULL, e, "helperless", "en", NULL, "sms",
                                             "{\"name\":\"x\"}", 12),
                 OMNI_EHELPER);
    cr_assert_eq(omni_template_render_stored(&out, NULL, e, "bad id", "en", NULL, "sms", NULL,
                                             0),
                 OMNI_EINVAL);
    cr_assert_eq(omni_template_render_stored(NULL, NULL, e, id, "en", NULL, "sms", NULL, 0),
                 OMNI_EINVAL);
    cr_assert_eq(omni_template_render_stored(&out, NULL, NULL, id, "en", NULL, "sms", NULL, 0),
                 OMNI_EINVAL);
    cr_assert_null(out);
    omni_engine_free(e);
}

/* ---- concurrency ----------------------------------------------------------------------- */

typedef struct worker {
    omni_engine *e;
    int id;
    int cas; /* 1: read the version and update with it, retrying conflicts */
    int ok, conflicts;
} worker;

#define UPDATES 40

static void *run_worker(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < UPDATES; i++) {
        char body[64];
        snprintf(body, sizeof(body), "w%d-%d", w->id, i);
        char *d = doc("shared", "order", "[\"sms\"]", body, NULL);
        for (;;) {
            uint32_t expected = 0;
            if (w->cas) {
                char *cur = NULL;
                if (omni_template_get(&cur, NULL, w->e, "shared", 0) != OMNI_OK)
                    break;
                cJSON *j = cJSON_Parse(cur);
                expected = (uint32_t)cJSON_GetObjectItemCaseSensitive(j, "version")->valueint;
                cJSON_Delete(j);
                omni_free(cur);
            }
            char *out = NULL;
            int rc = omni_template_update(&out, NULL, w->e, d, strlen(d), expected);
            omni_free(out);
            if (rc == OMNI_OK) {
                w->ok++;
                break;
            }
            if (rc != OMNI_ECONFLICT)
                break;
            w->conflicts++;
        }
        free(d);
    }
    return NULL;
}

static void run_concurrent(int cas)
{
    omni_engine *e = engine_new();
    char *d = doc("shared", "order", "[\"sms\"]", "start", NULL);
    cJSON_Delete(create(e, d));
    free(d);
    worker w[2] = {{e, 0, cas, 0, 0}, {e, 1, cas, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, run_worker, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(w[0].ok, UPDATES);
    cr_assert_eq(w[1].ok, UPDATES);
    cJSON *cur = get(e, "shared", 0);
    cr_assert_eq(jint(cur, "version"), 1 + 2 * UPDATES);
    cJSON_Delete(cur);
    /* every version is kept, and each update's body appears exactly once */
    int seen[2][UPDATES] = {{0}};
    for (int v = 2; v <= 1 + 2 * UPDATES; v++) {
        cJSON *g = get(e, "shared", (uint32_t)v);
        cr_assert_eq(jint(g, "version"), v);
        int who, i;
        const char *body = jstr(cJSON_GetObjectItemCaseSensitive(g, "content"), "body");
        cr_assert_eq(sscanf(body, "w%d-%d", &who, &i), 2, "body %s", body);
        cr_assert(who >= 0 && who < 2 && i >= 0 && i < UPDATES);
        seen[who][i]++;
        cJSON_Delete(g);
    }
    for (int who = 0; who < 2; who++)
        for (int i = 0; i < UPDATES; i++)
            cr_assert_eq(seen[who][i], 1, "update w%d-%d seen %d times", who, i, seen[who][i]);
    omni_engine_free(e);
}

Test(template_store, concurrent_updates_with_cas)
{
    run_concurrent(1);
}

Test(template_store, concurrent_updates_any_version)
{
    run_concurrent(0);
}

/* ---- storage failures ------------------------------------------------------------------ */

typedef struct faulty {
    omni_storage_hook inner;
    const char *fail_ns; /* put / del in this namespace fail */
    int fail_list;
} faulty;

static int f_get(void *ctx, const char *ns, const char *key, int64_t now, char **v, size_t *n,
                 uint64_t *ver, int64_t *exp)
{
    faulty *f = ctx;
    return f->inner.get(f->inner.ctx, ns, key, now, v, n, ver, exp);
}

static int f_put(void *ctx, const char *ns, const char *key, const char *v, size_t n,
                 uint64_t expected, int64_t exp, int64_t now, uint64_t *nv)
{
    faulty *f = ctx;
    if (f->fail_ns && !strcmp(ns, f->fail_ns))
        return omni_error_set(OMNI_ESTORAGE, "disk full", 1);
    return f->inner.put(f->inner.ctx, ns, key, v, n, expected, exp, now, nv);
}

static int f_del(void *ctx, const char *ns, const char *key, uint64_t expected, int64_t now)
{
    faulty *f = ctx;
    if (f->fail_ns && !strcmp(ns, f->fail_ns))
        return omni_error_set(OMNI_ESTORAGE, "disk full", 1);
    return f->inner.del(f->inner.ctx, ns, key, expected, now);
}

static int f_list(void *ctx, const char *ns, const char *prefix, const char *after, size_t limit,
                  int64_t now, omni_store_list_cb cb, void *cb_ctx, char **next)
{
    faulty *f = ctx;
    if (f->fail_list)
        return omni_error_set(OMNI_ESTORAGE, "list failed", 1);
    return f->inner.list(f->inner.ctx, ns, prefix, after, limit, now, cb, cb_ctx, next);
}

Test(template_store, storage_failures)
{
    omni_store *mem = NULL;
    cr_assert_eq(omni_store_open(&mem, "memory:"), OMNI_OK);
    faulty f = {0};
    cr_assert_eq(omni_store_get_hook(mem, &f.inner), OMNI_OK);
    omni_storage_hook h = OMNI_STORAGE_HOOK_INIT;
    h.ctx = &f;
    h.get = f_get;
    h.put = f_put;
    h.del = f_del;
    h.list = f_list;
    omni_hooks hooks = OMNI_HOOKS_INIT;
    hooks.storage = &h;
    omni_engine *e = NULL;
    cr_assert_eq(omni_engine_new(&e, NULL, 0, &hooks), OMNI_OK, "%s", omni_error_last_message());
    char *out = NULL;
    f.fail_ns = "template";
    cr_assert_eq(omni_template_create(&out, NULL, e, ORDER_TEMPLATE, strlen(ORDER_TEMPLATE)),
                 OMNI_ESTORAGE);
    cr_assert_null(out);
    f.fail_ns = NULL;
    cJSON_Delete(create(e, ORDER_TEMPLATE));
    /* keeping the old version fails: the current one is not replaced */
    f.fail_ns = "template_version";
    char *v2 = doc("order_shipped", "order", "[\"sms\"]", "two", NULL);
    cr_assert_eq(omni_template_update(&out, NULL, e, v2, strlen(v2), 0), OMNI_ESTORAGE);
    f.fail_ns = NULL;
    cJSON *g = get(e, "order_shipped", 0);
    cr_assert_eq(jint(g, "version"), 1);
    cJSON_Delete(g);
    /* keeping the new version after the update fails: the update stands
     * and the version stays readable */
    f.fail_ns = NULL;
    cr_assert_eq(update(e, v2, 1, NULL), OMNI_OK);
    cr_assert_eq(update(e, v2, 2, NULL), OMNI_OK);
    g = get(e, "order_shipped", 2);
    cr_assert_eq(jint(g, "version"), 2);
    cJSON_Delete(g);
    /* deleting fails: nothing changes */
    f.fail_ns = "template";
    cr_assert_eq(omni_template_delete(e, "order_shipped"), OMNI_ESTORAGE);
    f.fail_ns = NULL;
    g = get(e, "order_shipped", 0);
    cr_assert_eq(jint(g, "version"), 3);
    cJSON_Delete(g);
    /* listing fails */
    f.fail_list = 1;
    cr_assert_eq(omni_template_list(&out, NULL, e, NULL, 0, NULL, 0), OMNI_ESTORAGE);
    cr_assert_null(out);
    /* the kept versions cannot be listed for deletion: the template is
     * deleted all the same, and a new one of that id does not show them */
    cr_assert_eq(omni_template_delete(e, "order_shipped"), OMNI_OK);
    f.fail_list = 0;
    cJSON_Delete(create(e, ORDER_TEMPLATE));
    cr_assert_eq(omni_template_get(&out, NULL, e, "order_shipped", 2), OMNI_ENOTFOUND);
    g = get(e, "order_shipped", 1);
    cr_assert_str_eq(jstr(cJSON_GetObjectItemCaseSensitive(g, "content"), "body"),
                     "Hi {{name}}, order {{orderId}} is on its way.");
    cJSON_Delete(g);
    /* creating: the kept copy of version 1 fails, the template is created */
    cr_assert_eq(omni_template_delete(e, "order_shipped"), OMNI_OK);
    f.fail_ns = "template_version";
    cJSON_Delete(create(e, ORDER_TEMPLATE));
    f.fail_ns = NULL;
    g = get(e, "order_shipped", 1);
    cr_assert_eq(jint(g, "version"), 1);
    cJSON_Delete(g);
    free(v2);
    omni_engine_free(e);
    omni_store_free(mem);
}
