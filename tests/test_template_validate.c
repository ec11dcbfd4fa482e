/* Per-channel template validation (omni_template_validate): every finding
 * code, the "sms" / "push" measurements, documents and bare bodies, and
 * every error path. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

static cJSON *validate(const char *tmpl, const char *channel, const char *opts)
{
    char *out = NULL;
    size_t n = 0;
    int rc = omni_template_validate(&out, &n, tmpl, strlen(tmpl), channel, opts,
                                    opts ? strlen(opts) : 0);
    cr_assert_eq(rc, OMNI_OK, "validate: %d %s", rc, omni_error_last_message());
    cr_assert_eq(strlen(out), n);
    cJSON *j = cJSON_Parse(out);
    cr_assert_not_null(j, "bad JSON: %s", out);
    omni_free(out);
    return j;
}

static int valid(const cJSON *r)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "valid"));
}

/* The number of findings with `code` (and, when given, `field` and
 * `severity`). */
static int count(const cJSON *r, const char *code, const char *field, const char *severity)
{
    int n = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(r, "findings")) {
        const char *c = cJSON_GetObjectItemCaseSensitive(f, "code")->valuestring;
        const char *fl = cJSON_GetObjectItemCaseSensitive(f, "field")->valuestring;
        const char *sv = cJSON_GetObjectItemCaseSensitive(f, "severity")->valuestring;
        cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(f, "message")));
        if (!strcmp(c, code) && (!field || !strcmp(fl, field)) &&
            (!severity || !strcmp(sv, severity)))
            n++;
    }
    return n;
}

static int nfindings(const cJSON *r)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "findings"));
}

static char *dump(const cJSON *r)
{
    static char buf[4096];
    char *s = cJSON_PrintUnformatted(r);
    snprintf(buf, sizeof(buf), "%s", s);
    free(s);
    return buf;
}

#define DOC(category, content, extra)                                                          \
    "{\"templateId\":\"t\",\"name\":\"T\",\"category\":\"" category "\","                      \
    "\"channels\":[\"sms\",\"email\",\"whatsapp\",\"push\"],\"content\":" content extra "}"

Test(template_validate, clean_sms_document)
{
    const char *d = DOC("order", "{\"body\":\"Hi {{name}}, order {{order.id}} shipped.\"}",
                        ",\"variables\":[{\"name\":\"name\",\"required\":true},"
                        "{\"name\":\"order\"}]");
    cJSON *r = validate(d, "sms", "{\"data\":{\"name\":\"Asha\",\"order\":{\"id\":42}}}");
    cr_assert(valid(r), "%s", dump(r));
    cr_assert_eq(nfindings(r), 0, "%s", dump(r));
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "channel")->valuestring, "sms");
    const cJSON *sms = cJSON_GetObjectItemCaseSensitive(r, "sms");
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(sms, "encoding")->valuestring, "GSM-7");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(sms, "units")->valueint, 26);
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sms, "parts"), 0)
                         ->valuestring,
                     "Hi Asha, order 42 shipped.");
    cJSON_Delete(r);
}

Test(template_validate, syntax_and_render_errors)
{
    cJSON *r = validate(DOC("order", "{\"body\":\"Hi {{#if x}}\"}", ""), "sms", NULL);
    cr_assert(!valid(r));
    cr_assert_eq(count(r, "SYNTAX_ERROR", "content.body", "error"), 1, "%s", dump(r));
    cJSON_Delete(r);
    /* a bare body */
    r = validate("Hi {{/each}}", "whatsapp", NULL);
    cr_assert_eq(count(r, "SYNTAX_ERROR", "content.body", "error"), 1, "%s", dump(r));
    cJSON_Delete(r);
    /* an unknown helper fails at render time */
    r = validate("Hi {{noSuchHelper name}}", "sms", NULL);
    cr_assert_eq(count(r, "RENDER_ERROR", "content.body", "error"), 1, "%s", dump(r));
    cr_assert(!valid(r));
    cJSON_Delete(r);
    /* a localization */
    r = validate(DOC("order", "{\"body\":\"ok\"}",
                     ",\"localizations\":{\"hi\":{\"body\":\"{{#each x}}\"}}"),
                 "sms", NULL);
    cr_assert_eq(count(r, "SYNTAX_ERROR", "localizations.hi.body", NULL), 1, "%s", dump(r));
    cJSON_Delete(r);
}

Test(template_validate, missing_body_and_subject)
{
    cJSON *r = validate(DOC("order", "{\"subject\":\"S\"}", ""), "push", NULL);
    cr_assert_eq(count(r, "MISSING_BODY", "content.body", "error"), 1, "%s", dump(r));
    cJSON_Delete(r);
    r = validate(DOC("order", "{\"body\":\"b\"}", ""), "email", NULL);
    cr_assert_eq(count(r, "MISSING_SUBJECT", "content.subject", "error"), 1, "%s", dump(r));
    cr_assert(!valid(r));
    cJSON_Delete(r);
    r = validate(DOC("order", "{\"body\":\"b\",\"subject\":\"\"}", ""), "email", NULL);
    cr_assert_eq(count(r, "MISSING_SUBJECT", NULL, NULL), 1);
    cJSON_Delete(r);
    r = validate("just a body", "email", NULL);
    cr_assert_eq(count(r, "MISSING_SUBJECT", "subject", "error"), 1, "%s", dump(r));
    cJSON_Delete(r);
    r = validate(DOC("order", "{\"body\":\"b\",\"subject\":\"Your order\","
                              "\"htmlBody\":\"<p>{{name}}</p>\"}", ""),
                 "email", "{\"data\":{\"name\":\"<b>\"}}");
    cr_assert(valid(r), "%s", dump(r));
    cr_assert_eq(nfindings(r), 0, "%s", dump(r));
    cJSON_Delete(r);
    /* subjects do not matter for SMS */
    r = validate(DOC("order", "{\"body\":\"b\"}", ""), "sms", NULL);
    cr_assert(valid(r));
    cJSON_Delete(r);
}

Test(template_validate, variables)
{
    const char *d = DOC("order", "{\"body\":\"Hi {{name}} {{order.id}} {{extra}} {{@index}}"
                                 " {{#each items}}{{this}}{{/each}}\"}",
                        ",\"variables\":[{\"name\":\"name\",\"required\":true},"
                        "{\"name\":\"order.id\",\"required\":true},{\"name\":\"items\"},"
                        "{\"name\":\"unused\",\"required\":false}]");
    /* without data: only the undeclared name is reported */
    cJSON *r = validate(d, "sms", NULL);
    cr_assert_eq(count(r, "UNKNOWN_VARIABLE", "variables", "warning"), 1, "%s", dump(r));
    cr_assert_eq(count(r, "MISSING_VARIABLE", NULL, NULL), 0, "%s", dump(r));
    cr_assert(valid(r), "warnings do not invalidate: %s", dump(r));
    cr_assert_not_null(strstr(dump(r), "extra"));
    cJSON_Delete(r);
    /* with data: required ones absent (or null) are errors */
    r = validate(d, "sms", "{\"data\":{\"order\":{\"id\":null},\"extra\":1}}");
    cr_assert_eq(count(r, "MISSING_VARIABLE", "variables", "error"), 2, "%s", dump(r));
    cr_assert(!valid(r));
    cJSON_Delete(r);
    r = validate(d, "sms", "{\"data\":{\"name\":\"A\",\"order\":{\"id\":7}}}");
    cr_assert_eq(count(r, "MISSING_VARIABLE", NULL, NULL), 0, "%s", dump(r));
    cJSON_Delete(r);
    /* a bare body with data: names the data lacks are warnings */
    r = validate("Hi {{name}}, {{city}}", "sms", "{\"data\":{\"name\":\"A\"}}");
    cr_assert_eq(count(r, "MISSING_VARIABLE", "data", "warning"), 1, "%s", dump(r));
    cr_assert(valid(r));
    cJSON_Delete(r);
    /* names inside #each / #with read the item, not the top level; ../ and
     * @root climb back; #if keeps the context; helper arguments count */
    const char *ctx = DOC("order",
                          "{\"body\":\"{{#each items}}{{name}} {{../currency}}{{/each}}"
                          " {{#with order}}{{id}}{{/with}} {{@root.brand}} {{@index}}"
                          " {{#if vip}}{{perk}}{{else}}{{fallback}}{{/if}}"
                          " {{formatNumber amount}} {{#each list as |x|}}{{x.y}}{{/each}}"
                          " {{lookup map key}}\"}",
                          ",\"variables\":[{\"name\":\"items\"},{\"name\":\"currency\"},"
                          "{\"name\":\"order\"},{\"name\":\"brand\"},{\"name\":\"vip\"},"
                          "{\"name\":\"amount\"},{\"name\":\"list\"},{\"name\":\"map\"},"
                          "{\"name\":\"key\"},{\"name\":\"fallback\"}]");
    r = validate(ctx, "sms", NULL);
    cr_assert_eq(count(r, "UNKNOWN_VARIABLE", NULL, NULL), 1, "%s", dump(r));
    cr_assert_not_null(strstr(dump(r), "uses perk"), "%s", dump(r));
    cJSON_Delete(r);
    /* a document without a variables array: no UNKNOWN_VARIABLE */
    r = validate(DOC("order", "{\"body\":\"Hi {{name}}\"}", ""), "sms", NULL);
    cr_assert_eq(nfindings(r), 0, "%s", dump(r));
    cJSON_Delete(r);
}

Test(template_validate, whatsapp_parameter_count)
{
    const char *d = DOC("order", "{\"body\":\"Hi {{name}}, {{order.id}} {{name}} {{eta}}\"}", "");
    cJSON *r = validate(d, "whatsapp", "{\"whatsappParameters\":3}");
    cr_assert_eq(count(r, "WHATSAPP_PARAMETER_COUNT", NULL, NULL), 0, "%s", dump(r));
    cr_assert(valid(r));
    cJSON_Delete(r);
    r = validate(d, "whatsapp", "{\"whatsappParameters\":2}");
    cr_assert_eq(count(r, "WHATSAPP_PARAMETER_COUNT", "content.body", "error"), 1, "%s",
                 dump(r));
    cr_assert(!valid(r));
    cJSON_Delete(r);
    r = validate("No parameters", "whatsapp", "{\"whatsappParameters\":0}");
    cr_assert(valid(r), "%s", dump(r));
    cJSON_Delete(r);
    r = validate(d, "whatsapp", NULL); /* not checked without the count */
    cr_assert(valid(r));
    cJSON_Delete(r);
}

Test(template_validate, push_payload_size)
{
    char *big = malloc(5000);
    memset(big, 'a', 4090);
    big[4090] = '\0';
    char *d = malloc(6000);
    snprintf(d, 6000, DOC("system", "{\"subject\":\"T\",\"body\":\"%s\"}", ""), big);
    cJSON *r = validate(d, "push", NULL);
    cr_assert_eq(count(r, "PAYLOAD_TOO_LARGE", "content.body", "error"), 2, "%s", dump(r));
    const cJSON *push = cJSON_GetObjectItemCaseSensitive(r, "push");
    /* {"aps":{"alert":{"title":"T","body":"aaa..."}}} and
     * {"notification":{"title":"T","body":"aaa..."}} */
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(push, "apnsBytes")->valueint,
                 (int)strlen("{\"aps\":{\"alert\":{\"title\":\"T\",\"body\":\"\"}}}") + 4090);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(push, "fcmBytes")->valueint,
                 (int)strlen("{\"notification\":{\"title\":\"T\",\"body\":\"\"}}") + 4090);
    cJSON_Delete(r);
    /* data that makes it large only when rendered */
    r = validate(DOC("system", "{\"subject\":\"{{t}}\",\"body\":\"{{b}}\"}", ""), "push",
                 "{\"data\":{\"t\":\"x\",\"b\":\"short\"}}");
    cr_assert(valid(r), "%s", dump(r));
    push = cJSON_GetObjectItemCaseSensitive(r, "push");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(push, "apnsBytes")->valueint,
                 (int)strlen("{\"aps\":{\"alert\":{\"title\":\"x\",\"body\":\"short\"}}}"));
    cJSON_Delete(r);
    free(big), free(d);
}

Test(template_validate, sms_segments_maximum)
{
    char body[400];
    memset(body, 'a', 320);
    body[320] = '\0';
    cJSON *r = validate(body, "sms", "{\"maxSmsSegments\":2}");
    cr_assert_eq(count(r, "SMS_TOO_MANY_SEGMENTS", "content.body", "error"), 1, "%s", dump(r));
    const cJSON *sms = cJSON_GetObjectItemCaseSensitive(r, "sms");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(sms, "segments")->valueint, 3);
    cJSON_Delete(r);
    r = validate(body, "sms", "{\"maxSmsSegments\":3}");
    cr_assert(valid(r));
    cJSON_Delete(r);
    r = validate(body, "sms", NULL);
    cr_assert(valid(r));
    cJSON_Delete(r);
    /* a rendering over the SMS input limit */
    size_t n = 70000;
    const char *pre = "{\"data\":{\"big\":\"";
    size_t pl = strlen(pre);
    char *opts = malloc(n + 32);
    memcpy(opts, pre, pl);
    memset(opts + pl, 'a', n);
    memcpy(opts + pl + n, "\"}}", 4);
    r = validate("{{big}}", "sms", opts);
    cr_assert_eq(count(r, "SMS_TOO_MANY_SEGMENTS", "content.body", "error"), 1, "%s", dump(r));
    cr_assert_null(cJSON_GetObjectItemCaseSensitive(r, "sms"));
    cJSON_Delete(r);
    free(opts);
    /* a Hindi localization needs more segments (UCS-2) */
    r = validate(DOC("order", "{\"body\":\"Order shipped\"}",
                     ",\"localizations\":{\"hi\":{\"body\":\"" /* 75 x अ */
                     "अअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअअ"
                     "\"}}"),
                 "sms", "{\"maxSmsSegments\":1}");
    cr_assert_eq(count(r, "SMS_TOO_MANY_SEGMENTS", "localizations.hi.body", NULL), 1, "%s",
                 dump(r));
    cr_assert_eq(count(r, "SMS_TOO_MANY_SEGMENTS", "content.body", NULL), 0);
    cJSON_Delete(r);
}

Test(template_validate, promotional_opt_out)
{
    cJSON *r = validate(DOC("promotional", "{\"body\":\"50% off today!\"}", ""), "sms", NULL);
    cr_assert_eq(count(r, "SMS_MISSING_OPT_OUT", "content.body", "error"), 1, "%s", dump(r));
    cr_assert(!valid(r));
    cJSON_Delete(r);
    static const char *ok[] = {"50% off! Reply STOP to opt out", "Sale. stop=unsubscribe",
                               "Sale (Unsubscribe: x.in/u)", "Sale. OPT-OUT: reply 0",
                               "Sale. To opt out text END", "Sale. optout",
                               "\xE0\xA4\xB8\xE0\xA5\x87\xE0\xA4\xB2 STOP"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char d[512];
        snprintf(d, sizeof(d), DOC("promotional", "{\"body\":\"%s\"}", ""), ok[i]);
        r = validate(d, "sms", NULL);
        cr_assert_eq(count(r, "SMS_MISSING_OPT_OUT", NULL, NULL), 0, "%s: %s", ok[i], dump(r));
        cJSON_Delete(r);
    }
    /* not whole words */
    static const char *bad[] = {"Non-stop deals", "STOPPED? no", "unsubscribed"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char d[512];
        snprintf(d, sizeof(d), DOC("promotional", "{\"body\":\"%s\"}", ""), bad[i]);
        r = validate(d, "sms", NULL);
        cr_assert_eq(count(r, "SMS_MISSING_OPT_OUT", NULL, NULL), 1, "%s: %s", bad[i], dump(r));
        cJSON_Delete(r);
    }
    /* from the data */
    r = validate(DOC("promotional", "{\"body\":\"Sale {{footer}}\"}", ""), "sms",
                 "{\"data\":{\"footer\":\"Reply STOP\"}}");
    cr_assert_eq(count(r, "SMS_MISSING_OPT_OUT", NULL, NULL), 0, "%s", dump(r));
    cJSON_Delete(r);
    /* only promotional SMS */
    r = validate(DOC("order", "{\"body\":\"Order shipped\"}", ""), "sms", NULL);
    cr_assert_eq(count(r, "SMS_MISSING_OPT_OUT", NULL, NULL), 0);
    cJSON_Delete(r);
    r = validate(DOC("promotional", "{\"body\":\"Sale\"}", ""), "whatsapp", NULL);
    cr_assert_eq(count(r, "SMS_MISSING_OPT_OUT", NULL, NULL), 0);
    cJSON_Delete(r);
    /* a localization without it */
    r = validate(DOC("promotional", "{\"body\":\"Sale, reply STOP\"}",
                     ",\"localizations\":{\"kn\":{\"body\":\"ಸೇಲ್\"}}"),
                 "sms", NULL);
    cr_assert_eq(count(r, "SMS_MISSING_OPT_OUT", "localizations.kn.body", NULL), 1, "%s",
                 dump(r));
    cJSON_Delete(r);
}

Test(template_validate, html_in_text_channels)
{
    static const char *html[] = {"Hi <b>{{name}}</b>", "Line<br/>two", "Line<br>two",
                                 "a <a href=\\\"x\\\">link</a>", "x <!-- c -->",
                                 "Tom &amp; Jerry", "it&#39;s", "it&#x27;s"};
    for (size_t i = 0; i < sizeof(html) / sizeof(html[0]); i++) {
        char d[512];
        snprintf(d, sizeof(d), DOC("order", "{\"subject\":\"s\",\"body\":\"%s\"}", ""), html[i]);
        for (int c = 0; c < 3; c++) {
            const char *ch = c == 0 ? "sms" : c == 1 ? "whatsapp" : "push";
            cJSON *r = validate(d, ch, NULL);
            cr_assert_eq(count(r, "HTML_IN_TEXT_CHANNEL", "content.body", "warning"), 1,
                         "%s on %s: %s", html[i], ch, dump(r));
            cr_assert(valid(r));
            cJSON_Delete(r);
        }
        /* email bodies may carry HTML */
        cJSON *r = validate(d, "email", NULL);
        cr_assert_eq(count(r, "HTML_IN_TEXT_CHANNEL", NULL, NULL), 0);
        cJSON_Delete(r);
    }
    static const char *plain[] = {"5 < 6 and 7 > 3", "a<b", "Tom & Jerry", "R&D; ok",
                                  "x &1; y", "<3 you"};
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        cJSON *r = validate(plain[i], "sms", NULL);
        cr_assert_eq(count(r, "HTML_IN_TEXT_CHANNEL", NULL, NULL), 0, "%s: %s", plain[i],
                     dump(r));
        cJSON_Delete(r);
    }
    /* HTML arriving through the data */
    cJSON *r = validate("Hi {{name}}", "sms", "{\"data\":{\"name\":\"<i>A</i>\"}}");
    cr_assert_eq(count(r, "HTML_IN_TEXT_CHANNEL", NULL, NULL), 1, "%s", dump(r));
    cJSON_Delete(r);
}

Test(template_validate, bare_bodies)
{
    /* "{{" starts a body, not a document */
    cJSON *r = validate("{{greeting}}, {{name}}!", "sms", NULL);
    cr_assert(valid(r), "%s", dump(r));
    cJSON_Delete(r);
    r = validate("  { not json", "sms", NULL);
    cr_assert(valid(r), "%s", dump(r));
    cJSON_Delete(r);
    char *out = NULL;
    cr_assert_eq(omni_template_validate(&out, NULL, "a\xFF", 2, "sms", NULL, 0), OMNI_EENCODING);
    cr_assert_eq(omni_template_validate(&out, NULL, "a\0b", 3, "sms", NULL, 0), OMNI_EINVAL);
    cr_assert_null(out);
}

Test(template_validate, errors)
{
    char *out = (char *)1;
    const char *t = "Hi";
    cr_assert_eq(omni_template_validate(NULL, NULL, t, 2, "sms", NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_template_validate(&out, NULL, t, 2, "fax", NULL, 0), OMNI_EINVAL);
    cr_assert_null(out);
    cr_assert_eq(omni_template_validate(&out, NULL, t, 2, NULL, NULL, 0), OMNI_EINVAL);
    cr_assert_eq(omni_template_validate(&out, NULL, NULL, 0, "sms", NULL, 0), OMNI_EINVAL);
    /* documents and options */
    cr_assert_eq(omni_template_validate(&out, NULL, "{\"a\":", 5, "sms", NULL, 0), OMNI_EJSON);
    cr_assert_eq(omni_template_validate(&out, NULL, t, 2, "sms", "{", 1), OMNI_EJSON);
    cr_assert_eq(omni_template_validate(&out, NULL, t, 2, "sms", "[]", 2), OMNI_EJSON);
    static const char *bad_opts[] = {"{\"maxSmsSegments\":0}", "{\"maxSmsSegments\":1.5}",
                                     "{\"maxSmsSegments\":\"3\"}", "{\"whatsappParameters\":-1}",
                                     "{\"locale\":\"e\"}", "{\"locale\":5}", "{\"colour\":1}"};
    for (size_t i = 0; i < sizeof(bad_opts) / sizeof(bad_opts[0]); i++) {
        cr_assert_eq(omni_template_validate(&out, NULL, t, 2, "sms", bad_opts[i],
                                            strlen(bad_opts[i])),
                     OMNI_EINVAL, "%s", bad_opts[i]);
        cr_assert_not_null(omni_error_last()->details);
    }
    size_t n = 1024 * 1024 + 1;
    char *big = malloc(n);
    memset(big, 'a', n);
    cr_assert_eq(omni_template_validate(&out, NULL, big, n, "sms", NULL, 0), OMNI_ETOOLARGE);
    free(big);
    cr_assert_null(out);
    /* data that is not an object still renders (nothing found in it) */
    cJSON *r = validate("Hi {{name}}", "sms", "{\"data\":[1,2]}");
    cr_assert_eq(count(r, "MISSING_VARIABLE", NULL, NULL), 1, "%s", dump(r));
    cJSON_Delete(r);
}
