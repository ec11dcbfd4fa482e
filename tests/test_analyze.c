/* Content analysis (include/omni/analyze.h): spam reasons and score,
 * sentiment with negation and intensifiers, intents (keywords, phrases,
 * diacritics, word boundaries, configuration order), entities (e-mail,
 * phone -> E.164, URLs, configured patterns, spans), language (script and
 * common words, hints), configuration merging, every error path and limit,
 * and the analyzer hook's init function. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/json.h"

/* ---- helpers ----------------------------------------------------------------- */

static omni_analyzer *compile(const char *cfg)
{
    omni_analyzer *a = NULL;
    int rc = omni_analyzer_compile(&a, cfg, cfg ? strlen(cfg) : 0);
    cr_assert_eq(rc, OMNI_OK, "compile %s: %s", cfg ? cfg : "(null)", omni_error_last_message());
    return a;
}

static cJSON *parse_out(char *out, size_t n)
{
    cJSON *root = NULL;
    cr_assert_eq(omni__json_parse(&root, out, n, 0, "result"), OMNI_OK, "%s", out);
    cr_assert_eq(strlen(out), n);
    omni_free(out);
    return root;
}

static cJSON *run_hs(const omni_analyzer *a, const char *text, const char *hint,
                     const char *sender)
{
    char *out = NULL;
    size_t n = 0;
    int rc = omni_analyze_text(&out, &n, a, text, strlen(text), hint, sender);
    cr_assert_eq(rc, OMNI_OK, "\"%s\": %s", text, omni_error_last_message());
    return parse_out(out, n);
}

static cJSON *run(const omni_analyzer *a, const char *text)
{
    return run_hs(a, text, NULL, NULL);
}

static int has_str(const cJSON *arr, const char *s)
{
    for (const cJSON *e = arr ? arr->child : NULL; e; e = e->next)
        if (cJSON_IsString(e) && strcmp(e->valuestring, s) == 0)
            return 1;
    return 0;
}

static int reason(const cJSON *r, const char *name)
{
    return has_str(omni__json_at(r, "spamReasons"), name);
}

static double num(const cJSON *r, const char *path)
{
    double v = -99;
    cr_assert_eq(omni__json_num(r, path, &v), 0, "%s", path);
    return v;
}

static const char *str(const cJSON *r, const char *path)
{
    const char *s = omni__json_str(r, path);
    cr_assert_not_null(s, "%s", path);
    return s;
}

/* The intents as one comma-separated string. */
static void intents(const cJSON *r, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (const cJSON *e = omni__json_at(r, "intent")->child; e; e = e->next) {
        if (buf[0])
            strncat(buf, ",", cap - strlen(buf) - 1);
        strncat(buf, e->valuestring, cap - strlen(buf) - 1);
    }
}

static void expect_intents(const omni_analyzer *a, const char *text, const char *want)
{
    cJSON *r = run(a, text);
    char got[512];
    intents(r, got, sizeof(got));
    cr_assert_str_eq(got, want, "\"%s\"", text);
    cJSON_Delete(r);
}

static void expect_sentiment(const omni_analyzer *a, const char *text, const char *label)
{
    cJSON *r = run(a, text);
    cr_assert_str_eq(str(r, "sentiment"), label, "\"%s\": %g", text, num(r, "sentimentScore"));
    cJSON_Delete(r);
}

static void expect_lang(const char *text, const char *hint, const char *lang, double min_conf,
                        double max_conf)
{
    cJSON *r = run_hs(NULL, text, hint, NULL);
    cr_assert_str_eq(str(r, "language"), lang, "\"%s\"", text);
    double c = num(r, "languageConfidence");
    cr_assert(c >= min_conf && c <= max_conf, "\"%s\": confidence %g", text, c);
    cJSON_Delete(r);
}

static int entity_count(const cJSON *r)
{
    return cJSON_GetArraySize(omni__json_at(r, "entities"));
}

/* Entity i must be {type, value, normalized} and its span must hold value. */
static void expect_entity(const cJSON *r, const char *text, int i, const char *type,
                          const char *value, const char *normalized)
{
    char p[64];
    snprintf(p, sizeof(p), "entities[%d]", i);
    const cJSON *e = omni__json_at(r, p);
    cr_assert_not_null(e, "\"%s\": no entity %d", text, i);
    cr_assert_str_eq(omni__json_str(e, "type"), type, "\"%s\" #%d", text, i);
    cr_assert_str_eq(omni__json_str(e, "value"), value, "\"%s\" #%d", text, i);
    cr_assert_str_eq(omni__json_str(e, "normalized"), normalized, "\"%s\" #%d", text, i);
    int64_t s = -1, en = -1;
    cr_assert_eq(omni__json_int(e, "start", &s), 0);
    cr_assert_eq(omni__json_int(e, "end", &en), 0);
    cr_assert_eq((size_t)(en - s), strlen(value));
    cr_assert_eq(memcmp(text + s, value, strlen(value)), 0);
    /* member order of the header */
    const char *order[] = {"type", "value", "normalized", "start", "end"};
    int k = 0;
    for (const cJSON *m = e->child; m; m = m->next, k++)
        cr_assert_str_eq(m->string, order[k]);
    cr_assert_eq(k, 5);
}

static void expect_error(int rc, int want, const char *needle)
{
    cr_assert_eq(rc, want, "rc %d (%s), want %d", rc, omni_error_last_message(), want);
    if (needle)
        cr_assert(strstr(omni_error_last_message(), needle), "message \"%s\" lacks \"%s\"",
                  omni_error_last_message(), needle);
}

static void expect_config_error(const char *cfg, const char *path, const char *needle)
{
    omni_analyzer *a = (omni_analyzer *)0x1;
    int rc = omni_analyzer_compile(&a, cfg, strlen(cfg));
    expect_error(rc, OMNI_ECONFIG, needle);
    cr_assert_null(a);
    if (path) {
        char want[200];
        snprintf(want, sizeof(want), "{\"path\":\"%s\"}", path);
        const char *d = omni_error_last()->details;
        cr_assert(d && strcmp(d, want) == 0, "details %s, want %s", d ? d : "(null)", want);
    }
}

/* ---- the result ---------------------------------------------------------------- */

Test(analyze_result, header_example_and_member_order)
{
    const char *req = "{\"content\":\"I want a refund for order AB-123456\"}";
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_analyze(&out, &n, NULL, req, strlen(req)), OMNI_OK);
    cJSON *r = parse_out(out, n);
    const char *order[] = {"spam",   "spamScore", "spamReasons", "sentiment", "sentimentScore",
                           "intent", "entities",  "language",    "languageConfidence"};
    int k = 0;
    for (const cJSON *m = r->child; m; m = m->next, k++)
        cr_assert_str_eq(m->string, order[k]);
    cr_assert_eq(k, 9);
    cr_assert(cJSON_IsFalse(omni__json_at(r, "spam")));
    cr_assert_eq(num(r, "spamScore"), 0);
    cr_assert_eq(cJSON_GetArraySize(omni__json_at(r, "spamReasons")), 0);
    cr_assert_str_eq(str(r, "sentiment"), "neutral");
    cr_assert(has_str(omni__json_at(r, "intent"), "billing"));
    cr_assert_eq(entity_count(r), 0); /* no order pattern configured */
    cr_assert_str_eq(str(r, "language"), "en");
    cr_assert_gt(num(r, "languageConfidence"), 0.5);
    cJSON_Delete(r);
}

Test(analyze_result, empty_text_and_outputs)
{
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_analyze_text(&out, &n, NULL, NULL, 0, NULL, NULL), OMNI_OK);
    cr_assert_str_eq(out, "{\"spam\":false,\"spamScore\":0,\"spamReasons\":[],\"sentiment\":"
                          "\"neutral\",\"sentimentScore\":0,\"intent\":[],\"entities\":[],"
                          "\"language\":\"und\",\"languageConfidence\":0}");
    omni_free(out);
    /* out_len may be NULL */
    cr_assert_eq(omni_analyze_text(&out, NULL, NULL, "hi", 2, NULL, NULL), OMNI_OK);
    omni_free(out);
}

/* ---- spam -------------------------------------------------------------------------- */

Test(analyze_spam, links)
{
    cJSON *r = run(NULL, "Claim now: https://bit.ly/3xYzAb");
    cr_assert(reason(r, "shortened_link"));
    cr_assert(!reason(r, "suspicious_link"));
    cr_assert_eq(num(r, "spamScore"), 0.35);
    cr_assert(cJSON_IsFalse(omni__json_at(r, "spam")));
    cJSON_Delete(r);
    const char *shorts[] = {"see tinyurl.com/abc", "http://T.CO/x", "www.bit.ly/x",
                            "go to cutt.ly/q1", "https://rb.gy/abc?x=1"};
    for (size_t i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++) {
        r = run(NULL, shorts[i]);
        cr_assert(reason(r, "shortened_link"), "%s", shorts[i]);
        cJSON_Delete(r);
    }
    const char *sus[] = {"http://192.168.10.1/login", "https://paypal.com@evil.example/x",
                         "https://xn--pypal-4ve.com/", "http://win-prize.xyz/claim",
                         "https://[2001:db8::1]/a", "www.free-stuff.top", "http://a.zip."};
    for (size_t i = 0; i < sizeof(sus) / sizeof(sus[0]); i++) {
        r = run(NULL, sus[i]);
        cr_assert(reason(r, "suspicious_link"), "%s", sus[i]);
        cr_assert_eq(num(r, "spamScore"), 0.45, "%s", sus[i]);
        cJSON_Delete(r);
    }
    const char *fine[] = {"https://example.com/a", "www.example.org", "https://zip.example.com/",
                          "bitly is a word", "example.com/bit.ly"};
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
        r = run(NULL, fine[i]);
        cr_assert_eq(cJSON_GetArraySize(omni__json_at(r, "spamReasons")), 0, "%s", fine[i]);
        cJSON_Delete(r);
    }
    r = run(NULL, "a https://a.com b https://b.com c https://c.com d https://d.com");
    cr_assert(reason(r, "excessive_links"));
    cJSON_Delete(r);
    r = run(NULL, "https://a.com https://b.com https://c.com");
    cr_assert(!reason(r, "excessive_links"));
    cJSON_Delete(r);
}

Test(analyze_spam, text_features_and_score)
{
    cJSON *r = run(NULL, "WIN A FREE CRUISE TODAY!!!! Click https://bit.ly/abc");
    cr_assert(reason(r, "all_caps"));
    cr_assert(reason(r, "excessive_punctuation"));
    cr_assert(reason(r, "shortened_link"));
    cr_assert_eq(num(r, "spamScore"), 0.7);
    cr_assert(cJSON_IsTrue(omni__json_at(r, "spam")));
    /* the header's reason order */
    const cJSON *rs = omni__json_at(r, "spamReasons");
    cr_assert_str_eq(cJSON_GetArrayItem(rs, 0)->valuestring, "shortened_link");
    cr_assert_str_eq(cJSON_GetArrayItem(rs, 1)->valuestring, "all_caps");
    cr_assert_str_eq(cJSON_GetArrayItem(rs, 2)->valuestring, "excessive_punctuation");
    cJSON_Delete(r);

    r = run(NULL, "Heyyyyyy there");
    cr_assert(reason(r, "repeated_characters"));
    cJSON_Delete(r);
    r = run(NULL, "Heyyyyy there, order 1000000 ok??? wow!!!"); /* 5 y, digits, 3 marks */
    cr_assert_eq(cJSON_GetArraySize(omni__json_at(r, "spamReasons")), 0);
    cJSON_Delete(r);
    r = run(NULL, "ééééééé");
    cr_assert(reason(r, "repeated_characters")); /* characters, not bytes */
    cJSON_Delete(r);
    r = run(NULL, "what?!?!");
    cr_assert(reason(r, "excessive_punctuation"));
    cJSON_Delete(r);
    r = run(NULL, "HELLO THERE"); /* 10 letters, all capitals */
    cr_assert(reason(r, "all_caps"));
    cJSON_Delete(r);
    r = run(NULL, "HELLO THEr"); /* 9 letters */
    cr_assert(!reason(r, "all_caps"));
    cJSON_Delete(r);
    r = run(NULL, "NASA and FBI said hi"); /* not over 80% */
    cr_assert(!reason(r, "all_caps"));
    cJSON_Delete(r);
    r = run(NULL, "ok see HTTPS://EXAMPLE.COM/ABCDEFGHIJ"); /* link letters do not count */
    cr_assert(!reason(r, "all_caps"));
    cJSON_Delete(r);
}

Test(analyze_spam, configured_blocklists_weights_threshold)
{
    omni_analyzer *a = compile(
        "{\"spam\":{\"threshold\":0.3,\"phrases\":[\"free money\",\"Viagra\",\"crédit rapide\"],"
        "\"senders\":[\"+1 (415) 555-0100\",\"Spammer@Example.com\"],"
        "\"shorteners\":[\"sho.rt\"],\"weights\":{\"shortened_link\":0.1,\"all_caps\":0}},"
        "\"defaultRegion\":\"US\"}");
    cJSON *r = run(a, "Get FREE-money now");
    cr_assert(reason(r, "blocked_phrase"));
    cr_assert_eq(num(r, "spamScore"), 0.6);
    cr_assert(cJSON_IsTrue(omni__json_at(r, "spam")));
    cJSON_Delete(r);
    r = run(a, "buy viagra");
    cr_assert(reason(r, "blocked_phrase"));
    cJSON_Delete(r);
    r = run(a, "Credit rapide!"); /* diacritics folded both ways */
    cr_assert(reason(r, "blocked_phrase"));
    cJSON_Delete(r);
    r = run(a, "free of money; viagras");
    cr_assert(!reason(r, "blocked_phrase"));
    cJSON_Delete(r);
    r = run_hs(a, "hello", NULL, "4155550100");
    cr_assert(reason(r, "blocked_sender"));
    cr_assert_eq(num(r, "spamScore"), 1);
    cJSON_Delete(r);
    r = run_hs(a, "hello", NULL, " spammer@EXAMPLE.com ");
    cr_assert(reason(r, "blocked_sender"));
    cJSON_Delete(r);
    r = run_hs(a, "hello", NULL, "+14155550101");
    cr_assert(!reason(r, "blocked_sender"));
    cJSON_Delete(r);
    /* the configured shortener list replaces the built-in one */
    r = run(a, "https://bit.ly/x and https://sho.rt/y");
    cr_assert(reason(r, "shortened_link"));
    cr_assert_eq(num(r, "spamScore"), 0.1);
    cr_assert(cJSON_IsFalse(omni__json_at(r, "spam")));
    cJSON_Delete(r);
    r = run(a, "https://bit.ly/x");
    cr_assert(!reason(r, "shortened_link"));
    cJSON_Delete(r);
    r = run(a, "ALL CAPITALS HERE"); /* a reason with weight 0 is listed, adds nothing */
    cr_assert(reason(r, "all_caps"));
    cr_assert_eq(num(r, "spamScore"), 0);
    cr_assert(cJSON_IsFalse(omni__json_at(r, "spam")));
    cJSON_Delete(r);
    omni_analyzer_free(a);

    /* the score is capped at 1 */
    a = compile("{\"spam\":{\"senders\":[\"x\"],\"phrases\":[\"win\"]}}");
    r = run_hs(a, "WIN WIN WIN WIN!!!!", NULL, "X");
    cr_assert_eq(num(r, "spamScore"), 1);
    cJSON_Delete(r);
    omni_analyzer_free(a);
}

/* ---- sentiment ------------------------------------------------------------------------ */

Test(analyze_sentiment, lexicon_negation_intensifiers)
{
    expect_sentiment(NULL, "Thanks, this is great!", "positive");
    expect_sentiment(NULL, "This is terrible, worst service ever", "negative");
    expect_sentiment(NULL, "I want to check my order", "neutral");
    expect_sentiment(NULL, "not good", "negative");
    expect_sentiment(NULL, "This isn't bad at all", "positive");
    expect_sentiment(NULL, "I don't love it", "negative"); /* don't -> "don t" */
    expect_sentiment(NULL, "I would like to know", "neutral");
    expect_sentiment(NULL, "no problem", "positive");
    expect_sentiment(NULL, "can't wait", "positive");
    expect_sentiment(NULL, "not good, very bad service", "negative"); /* scope ends at good */
    cJSON *a = run(NULL, "good");
    cJSON *b = run(NULL, "very good");
    cJSON *c = run(NULL, "slightly good");
    cr_assert_gt(num(b, "sentimentScore"), num(a, "sentimentScore"));
    cr_assert_lt(num(c, "sentimentScore"), num(a, "sentimentScore"));
    cr_assert_eq(num(a, "sentimentScore"), 0.67); /* 2 / (3 x sqrt 1) */
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
    a = run(NULL, "absolutely amazing wonderful perfect");
    cr_assert_eq(num(a, "sentimentScore"), 1); /* clamped */
    cJSON_Delete(a);
    a = run(NULL, "good but slow"); /* (2 - 1) / (3 sqrt 2) = 0.24 */
    cr_assert_eq(num(a, "sentimentScore"), 0.24);
    cr_assert_str_eq(str(a, "sentiment"), "positive");
    cJSON_Delete(a);
    a = run(NULL, "fine but slow and late"); /* (1 - 1 - 1) / (3 sqrt 3) = -0.19 */
    cr_assert_str_eq(str(a, "sentiment"), "neutral");
    cJSON_Delete(a);
    expect_sentiment(NULL, "ÉXCELLENT!", "positive"); /* diacritics and case */
}

Test(analyze_sentiment, configured_lexicons)
{
    omni_analyzer *a = compile("{\"sentiment\":{\"lexicon\":{\"en\":{\"meh\":-2,\"rad\":3,"
                               "\"good\":0},\"HI\":{\"bekaar\":-3,\"badhiya\":3}}}}");
    expect_sentiment(a, "meh", "negative");
    expect_sentiment(a, "rad", "positive");
    expect_sentiment(a, "good", "neutral"); /* overridden */
    expect_sentiment(a, "great", "positive"); /* built-in kept */
    expect_sentiment(a, "bahut bekaar hai yeh", "negative"); /* hi lexicon, hi detected */
    expect_sentiment(a, "yeh bahut badhiya hai", "positive");
    cJSON *r = run(a, "bekaar"); /* detected und: only the en lexicon */
    cr_assert_str_eq(str(r, "sentiment"), "neutral");
    cJSON_Delete(r);
    r = run_hs(a, "bekaar", "hi-IN", NULL); /* the hint picks the hi lexicon */
    cr_assert_str_eq(str(r, "sentiment"), "negative");
    cJSON_Delete(r);
    omni_analyzer_free(a);

    a = compile("{\"sentiment\":{\"replace\":true,\"lexicon\":{\"en\":{\"meh\":-1.5}}}}");
    expect_sentiment(a, "great", "neutral");
    expect_sentiment(a, "meh", "negative");
    expect_sentiment(a, "not meh", "positive");
    omni_analyzer_free(a);
    a = compile("{\"sentiment\":{\"replace\":false}}");
    expect_sentiment(a, "great", "positive");
    omni_analyzer_free(a);
}

/* ---- intents ------------------------------------------------------------------------------ */

Test(analyze_intents, builtin)
{
    expect_intents(NULL, "I was charged twice, I want my money back", "billing");
    expect_intents(NULL, "Please cancel my subscription", "cancel");
    expect_intents(NULL, "The app is not working", "support");
    expect_intents(NULL, "How much is the premium plan?", "sales");
    expect_intents(NULL, "Where is my order?", "order_status");
    expect_intents(NULL, "This is unacceptable", "complaint");
    expect_intents(NULL, "Good morning!", "greeting");
    expect_intents(NULL, "Let me talk to a real person", "human_agent");
    /* header order, whatever the text's order */
    expect_intents(NULL, "Hello, cancel it and refund me", "billing,cancel,greeting");
    /* word boundaries and normalization */
    expect_intents(NULL, "Réfund!", "billing");
    expect_intents(NULL, "REFUND", "billing");
    expect_intents(NULL, "refundable billboard", "");
    expect_intents(NULL, "the app doesn't work", "support");
    expect_intents(NULL, "नमस्ते", "greeting");
    expect_intents(NULL, "ನಮಸ್ಕಾರ", "greeting");
    expect_intents(NULL, "work not", "");
}

Test(analyze_intents, configured_merge_order_and_removal)
{
    omni_analyzer *a = compile("{\"intents\":{\"vip\":[\"platinum\",\"gold member\"],"
                               "\"billing\":[\"invoice\",\"charged twice\",\"Fächer\"],"
                               "\"greeting\":[],\"appointment\":[\"book a slot\"]}}");
    expect_intents(a, "refund", ""); /* billing's list replaced */
    expect_intents(a, "where is my invoice", "billing");
    expect_intents(a, "I was CHARGED... twice", "billing");
    expect_intents(a, "faecher? no: facher", "billing");
    expect_intents(a, "hello", ""); /* removed */
    expect_intents(a, "I am a gold member, book a slot", "vip,appointment");
    expect_intents(a, "platinum invoice, cancel", "billing,cancel,vip");
    expect_intents(a, "gold", "");
    omni_analyzer_free(a);
    /* an [] for an unknown intent adds nothing */
    a = compile("{\"intents\":{\"nothing\":[]}}");
    expect_intents(a, "nothing", "");
    omni_analyzer_free(a);
}

Test(analyze_intents, sixty_four_intents)
{
    char cfg[8192] = "{\"intents\":{";
    /* the 8 built-ins plus 56 more: 64 */
    for (int i = 0; i < 56; i++) {
        char m[64];
        snprintf(m, sizeof(m), "%s\"i%d\":[\"w%d\"]", i ? "," : "", i, i);
        strcat(cfg, m);
    }
    strcat(cfg, "}}");
    omni_analyzer *a = compile(cfg);
    expect_intents(a, "w55 w0 refund", "billing,i0,i55");
    omni_analyzer_free(a);
    cfg[strlen(cfg) - 2] = '\0';
    strcat(cfg, ",\"one_more\":[\"x\"]}}");
    expect_config_error(cfg, "intents", "more than 64 intents");
}

/* ---- entities ------------------------------------------------------------------------------- */

Test(analyze_entities, email_phone_url)
{
    const char *t = "Mail John.Doe+x@Example.COM or call (415) 555-0100, see "
                    "HTTPS://Shop.Example.com/Cart?id=7.";
    cJSON *r = run(NULL, t);
    cr_assert_eq(entity_count(r), 3);
    expect_entity(r, t, 0, "email", "John.Doe+x@Example.COM", "john.doe+x@example.com");
    expect_entity(r, t, 1, "phone", "(415) 555-0100", "+14155550100");
    expect_entity(r, t, 2, "url", "HTTPS://Shop.Example.com/Cart?id=7",
                  "https://shop.example.com/Cart?id=7");
    cJSON_Delete(r);

    t = "www.Example.org/a_(b) and (see http://x.io/p).";
    r = run(NULL, t);
    cr_assert_eq(entity_count(r), 2);
    expect_entity(r, t, 0, "url", "www.Example.org/a_(b)", "https://www.example.org/a_(b)");
    expect_entity(r, t, 1, "url", "http://x.io/p", "http://x.io/p");
    cJSON_Delete(r);

    t = "+44 20 7946 0958 / +1-212-555-0123 / 1-800-555-0100";
    r = run(NULL, t);
    cr_assert_eq(entity_count(r), 3);
    expect_entity(r, t, 0, "phone", "+44 20 7946 0958", "+442079460958");
    expect_entity(r, t, 1, "phone", "+1-212-555-0123", "+12125550123");
    expect_entity(r, t, 2, "phone", "1-800-555-0100", "+18005550100");
    cJSON_Delete(r);
}

Test(analyze_entities, not_entities)
{
    const char *none[] = {
        "order AB-1234567890",            /* digits after a letter and dash */
        "on 2024-01-15 10:30",            /* a date */
        "15.01.2024",                     /* a date */
        "x4155550100",                    /* inside a word */
        "4155550100abc",                  /* runs into a word */
        "12345678901234567",              /* too many digits */
        "call 555-0100",                  /* 7 digits: not a valid US number */
        "a@b",                            /* no dot in the domain */
        "john@example.c",                 /* one-letter TLD */
        ".@example.com",                  /* no local part */
        "httpx://example.com",            /* not a scheme */
        "http://",                        /* no host */
        "awww.example.com",               /* www. inside a word */
        "e.g. i.e. etc.",                 /* abbreviations */
        "$4155550100",                    /* money */
    };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        cJSON *r = run(NULL, none[i]);
        cr_assert_eq(entity_count(r), 0, "\"%s\" has %d entities", none[i], entity_count(r));
        cJSON_Delete(r);
    }
    /* digits inside links and addresses are not phone numbers */
    const char *t = "https://x.com/4155550100 4155550100@example.com";
    cJSON *r = run(NULL, t);
    cr_assert_eq(entity_count(r), 2);
    expect_entity(r, t, 0, "url", "https://x.com/4155550100", "https://x.com/4155550100");
    expect_entity(r, t, 1, "email", "4155550100@example.com", "4155550100@example.com");
    cJSON_Delete(r);
}

Test(analyze_entities, default_region)
{
    const char *t = "ruf an: 030 1234567";
    cJSON *r = run(NULL, t); /* US: not a number */
    cr_assert_eq(entity_count(r), 0);
    cJSON_Delete(r);
    omni_analyzer *a = compile("{\"defaultRegion\":\"de\"}");
    r = run(a, t);
    cr_assert_eq(entity_count(r), 1);
    expect_entity(r, t, 0, "phone", "030 1234567", "+49301234567");
    cJSON_Delete(r);
    omni_analyzer_free(a);
    a = compile("{\"defaultRegion\":\"IN\"}");
    t = "mera number 98765 43210 hai";
    r = run(a, t);
    expect_entity(r, t, 0, "phone", "98765 43210", "+919876543210");
    cJSON_Delete(r);
    omni_analyzer_free(a);
}

Test(analyze_entities, patterns)
{
    omni_analyzer *a = compile("{\"entities\":{\"order\":\"\\\\b[A-Z]{2}-\\\\d{6}\\\\b\","
                               "\"booking\":\"(?i)\\\\bBK\\\\d{4,}\",\"empty\":\"x*\"}}");
    const char *t = "Order AB-123456 and bk12345, not XAB-123456 or AB-1234567; CD-000001";
    cJSON *r = run(a, t);
    cr_assert_eq(entity_count(r), 3);
    expect_entity(r, t, 0, "order", "AB-123456", "AB-123456");
    expect_entity(r, t, 1, "booking", "bk12345", "bk12345");
    expect_entity(r, t, 2, "order", "CD-000001", "CD-000001");
    cJSON_Delete(r);
    omni_analyzer_free(a);
}

Test(analyze_entities, cap_keeps_the_first_in_text_order)
{
    /* 40 e-mails then 40 pattern matches then 40 phone numbers */
    omni_analyzer *a = compile("{\"entities\":{\"tag\":\"#[a-z]+\"}}");
    char t[8192] = "";
    for (int i = 0; i < 40; i++)
        sprintf(t + strlen(t), "u%d@x.io ", i);
    for (int i = 0; i < 40; i++)
        strcat(t, "#tag ");
    for (int i = 0; i < 40; i++)
        strcat(t, "+1 415 555 0100 ");
    cJSON *r = run(a, t);
    cr_assert_eq(entity_count(r), OMNI_ANALYZE_MAX_ENTITIES);
    int64_t prev = -1;
    for (int i = 0; i < OMNI_ANALYZE_MAX_ENTITIES; i++) {
        char p[64];
        snprintf(p, sizeof(p), "entities[%d].start", i);
        int64_t s;
        cr_assert_eq(omni__json_int(r, p, &s), 0);
        cr_assert_gt(s, prev);
        prev = s;
        snprintf(p, sizeof(p), "entities[%d].type", i);
        cr_assert_str_eq(str(r, p), i < 40 ? "email" : "tag");
    }
    cJSON_Delete(r);
    omni_analyzer_free(a);
}

/* ---- language ------------------------------------------------------------------------------- */

Test(analyze_language, scripts_and_words)
{
    expect_lang("नमस्ते, मुझे मदद चाहिए", NULL, "hi", 0.9, 0.95);
    expect_lang("ನಮಸ್ಕಾರ, ನನಗೆ ಸಹಾಯ ಬೇಕು", NULL, "kn", 0.9, 0.95);
    expect_lang("Hello नमस्ते", NULL, "hi", 0.6, 0.8); /* mixed: share of letters */
    expect_lang("I would like to know where my order is", NULL, "en", 0.9, 1);
    expect_lang("kya aap meri madad kar sakte hai", NULL, "hi", 0.9, 1);
    expect_lang("Hello", NULL, "en", 0.35, 0.45); /* one common word: not confident */
    expect_lang("Привет, как дела", NULL, "und", 0.9, 0.95); /* another script */
    expect_lang("12345 !!!", NULL, "und", 0, 0);
    expect_lang("xyzzy plugh", NULL, "und", 0, 0);
    /* the hint when detection is not confident */
    expect_lang("xyzzy plugh", "hi-IN", "hi", 0.5, 0.5);
    expect_lang("Hello", "kn", "kn", 0.5, 0.5);
    expect_lang("I would like to know where my order is", "hi", "en", 0.9, 1);
    expect_lang("Привет", "en", "und", 0.9, 0.95);
    expect_lang("xyzzy", "x", "und", 0, 0);          /* malformed hints are ignored */
    expect_lang("xyzzy", "toolongtag", "und", 0, 0);
    expect_lang("xyzzy", "e1", "und", 0, 0);
    expect_lang("", "EN_us", "en", 0.5, 0.5);
}

/* ---- requests ------------------------------------------------------------------------------- */

static int analyze_req(const char *req, char **out)
{
    size_t n;
    *out = NULL;
    return omni_analyze(out, &n, NULL, req, strlen(req));
}

Test(analyze_request, members)
{
    char *out;
    cr_assert_eq(analyze_req("{\"content\":\"xyzzy\",\"language\":\"hi\",\"sender\":\"+1\","
                             "\"contentType\":\"media\",\"other\":1}",
                             &out),
                 OMNI_OK);
    cJSON *r = parse_out(out, strlen(out));
    cr_assert_str_eq(str(r, "language"), "hi");
    cJSON_Delete(r);
    cr_assert_eq(analyze_req("{\"content\":\"REFUND NOW!!!! https://bit.ly/x\","
                             "\"contentType\":\"location\",\"language\":null,\"sender\":null}",
                             &out),
                 OMNI_OK);
    cr_assert_str_eq(out, "{\"spam\":false,\"spamScore\":0,\"spamReasons\":[],\"sentiment\":"
                          "\"neutral\",\"sentimentScore\":0,\"intent\":[],\"entities\":[],"
                          "\"language\":\"und\",\"languageConfidence\":0}");
    omni_free(out);
    /* a blocked sender counts for every content type */
    omni_analyzer *a = compile("{\"spam\":{\"senders\":[\"bad@x.io\"]}}");
    const char *req = "{\"content\":\"\",\"contentType\":\"contact\",\"sender\":\"BAD@x.io\"}";
    size_t n;
    cr_assert_eq(omni_analyze(&out, &n, a, req, strlen(req)), OMNI_OK);
    r = parse_out(out, n);
    cr_assert(reason(r, "blocked_sender"));
    cr_assert(cJSON_IsTrue(omni__json_at(r, "spam")));
    cJSON_Delete(r);
    omni_analyzer_free(a);
}

Test(analyze_request, errors)
{
    char *out = (char *)0x1;
    size_t n;
    expect_error(omni_analyze(NULL, &n, NULL, "{}", 2), OMNI_EINVAL, "out");
    expect_error(omni_analyze(&out, &n, NULL, NULL, 0), OMNI_EINVAL, "request");
    cr_assert_null(out);
    expect_error(analyze_req("{", &out), OMNI_EJSON, NULL);
    expect_error(analyze_req("[]", &out), OMNI_EINVAL, "not a JSON object");
    expect_error(analyze_req("{}", &out), OMNI_EINVAL, "content");
    expect_error(analyze_req("{\"content\":5}", &out), OMNI_EINVAL, "content");
    expect_error(analyze_req("{\"content\":\"\",\"language\":5}", &out), OMNI_EINVAL,
                 "language");
    expect_error(analyze_req("{\"content\":\"\",\"sender\":[]}", &out), OMNI_EINVAL, "sender");
    expect_error(analyze_req("{\"content\":\"\",\"contentType\":1}", &out), OMNI_EINVAL,
                 "contentType");
    expect_error(analyze_req("{\"content\":\"\",\"contentType\":\"video\"}", &out), OMNI_EINVAL,
                 "contentType");
    cr_assert_null(out);
    /* limits */
    size_t big = OMNI_ANALYZE_MAX_REQUEST + 1;
    char *req = malloc(big + 1);
    cr_assert_not_null(req);
    memset(req, ' ', big);
    memcpy(req, "{\"content\":\"\"}", 14);
    expect_error(omni_analyze(&out, &n, NULL, req, big), OMNI_ETOOLARGE, "request");
    size_t clen = OMNI_ANALYZE_MAX_CONTENT + 1;
    memcpy(req, "{\"content\":\"", 12);
    memset(req + 12, 'a', clen);
    memcpy(req + 12 + clen, "\"}", 3);
    expect_error(omni_analyze(&out, &n, NULL, req, strlen(req)), OMNI_ETOOLARGE, "content");
    /* at the limit: fine */
    memcpy(req + 12 + clen - 1, "\"}", 3);
    cr_assert_eq(omni_analyze(&out, &n, NULL, req, strlen(req)), OMNI_OK);
    omni_free(out);
    free(req);
}

Test(analyze_request, text_errors)
{
    char *out = (char *)0x1;
    size_t n = 7;
    expect_error(omni_analyze_text(NULL, &n, NULL, "a", 1, NULL, NULL), OMNI_EINVAL, "out");
    expect_error(omni_analyze_text(&out, &n, NULL, NULL, 1, NULL, NULL), OMNI_EINVAL, "text");
    cr_assert_null(out);
    cr_assert_eq(n, 0);
    expect_error(omni_analyze_text(&out, &n, NULL, "ab\xff", 3, NULL, NULL), OMNI_EENCODING,
                 "byte 2");
    expect_error(omni_analyze_text(&out, &n, NULL, "\xed\xa0\x80", 3, NULL, NULL),
                 OMNI_EENCODING, NULL); /* a surrogate */
    char *big = malloc(OMNI_ANALYZE_MAX_CONTENT + 1);
    cr_assert_not_null(big);
    memset(big, 'a', OMNI_ANALYZE_MAX_CONTENT + 1);
    expect_error(omni_analyze_text(&out, &n, NULL, big, OMNI_ANALYZE_MAX_CONTENT + 1, NULL,
                                   NULL),
                 OMNI_ETOOLARGE, "content");
    /* NUL bytes are content like any other */
    cr_assert_eq(omni_analyze_text(&out, &n, NULL, "a\0refund", 8, NULL, NULL), OMNI_OK);
    cJSON *r = parse_out(out, n);
    cr_assert(has_str(omni__json_at(r, "intent"), "billing"));
    cJSON_Delete(r);
    free(big);
}

Test(analyze_request, large_text)
{
    /* over the stack scratch size: the heap path */
    size_t len = OMNI_ANALYZE_MAX_CONTENT;
    char *t = malloc(len);
    cr_assert_not_null(t);
    for (size_t i = 0; i < len; i++)
        t[i] = "good order a@b.io "[i % 18];
    char *out;
    size_t n;
    cr_assert_eq(omni_analyze_text(&out, &n, NULL, t, len, NULL, NULL), OMNI_OK);
    cJSON *r = parse_out(out, n);
    cr_assert_str_eq(str(r, "sentiment"), "positive");
    cr_assert_eq(entity_count(r), OMNI_ANALYZE_MAX_ENTITIES);
    cJSON_Delete(r);
    free(t);
}

/* ---- configuration -------------------------------------------------------------------------- */

Test(analyze_config, defaults_and_empty)
{
    omni_analyzer *a = compile(NULL);
    omni_analyzer *b = compile("{}");
    const char *t = "refund please, this is awful";
    cJSON *x = run(a, t), *y = run(b, t);
    cJSON *z = run(NULL, t);
    cr_assert(cJSON_Compare(x, y, 1) && cJSON_Compare(x, z, 1));
    cJSON_Delete(x);
    cJSON_Delete(y);
    cJSON_Delete(z);
    omni_analyzer_free(a);
    omni_analyzer_free(b);
    omni_analyzer_free(NULL);
    /* an empty configuration (NULL, 0) */
    cr_assert_eq(omni_analyzer_compile(&a, "ignored", 0), OMNI_OK);
    omni_analyzer_free(a);
}

Test(analyze_config, errors)
{
    omni_analyzer *a = (omni_analyzer *)0x1;
    expect_error(omni_analyzer_compile(NULL, "{}", 2), OMNI_EINVAL, "out");
    expect_error(omni_analyzer_compile(&a, NULL, 3), OMNI_EINVAL, "NULL");
    cr_assert_null(a);
    expect_error(omni_analyzer_compile(&a, "{", 1), OMNI_EJSON, NULL);
    char deep[300];
    memset(deep, '[', sizeof(deep));
    expect_error(omni_analyzer_compile(&a, deep, sizeof(deep)), OMNI_ETOODEEP, NULL);
    expect_error(omni_analyzer_compile(&a, "{}", OMNI_ANALYZE_MAX_CONFIG + 1), OMNI_ETOOLARGE,
                 "configuration");
    cr_assert_null(a);
    expect_config_error("[]", NULL, "not a JSON object");
    expect_config_error("{\"spma\":{}}", "spma", "unknown member");
    expect_config_error("{\"spam\":{},\"spam\":{}}", "spam", "appears twice");
    expect_config_error("{\"spam\":[]}", "spam", "not an object");
    expect_config_error("{\"spam\":{\"x\":1}}", "spam.x", "unknown member");
    expect_config_error("{\"spam\":{\"threshold\":1.5}}", "spam.threshold", "0 to 1");
    expect_config_error("{\"spam\":{\"threshold\":\"0.5\"}}", "spam.threshold", "0 to 1");
    expect_config_error("{\"spam\":{\"weights\":[]}}", "spam.weights", "not an object");
    expect_config_error("{\"spam\":{\"weights\":{\"caps\":1}}}", "spam.weights.caps",
                        "not a spam reason");
    expect_config_error("{\"spam\":{\"weights\":{\"all_caps\":-0.1}}}", "spam.weights.all_caps",
                        "0 to 1");
    expect_config_error("{\"spam\":{\"phrases\":\"x\"}}", "spam.phrases", "array of strings");
    expect_config_error("{\"spam\":{\"phrases\":[\"a\",2]}}", "spam.phrases[1]",
                        "not a string");
    expect_config_error("{\"spam\":{\"phrases\":[\"\"]}}", "spam.phrases[0]", "empty");
    expect_config_error("{\"spam\":{\"phrases\":[\"!!!\"]}}", "spam.phrases[0]",
                        "no letters or digits");
    expect_config_error("{\"spam\":{\"phrases\":[\"a b c d e f g h i\"]}}", "spam.phrases[0]",
                        "more than 8 words");
    char longkw[300];
    snprintf(longkw, sizeof(longkw), "{\"spam\":{\"phrases\":[\"%0129d\"]}}", 0);
    expect_config_error(longkw, "spam.phrases[0]", "longer than 128 bytes");
    expect_config_error("{\"spam\":{\"shorteners\":[\"bit.ly\",\"no_dots\"]}}",
                        "spam.shorteners[1]", "host name");
    expect_config_error("{\"spam\":{\"shorteners\":[\".bit.ly\"]}}", "spam.shorteners[0]",
                        "host name");
    expect_config_error("{\"spam\":{\"senders\":[\"  \"]}}", "spam.senders[0]", "empty");
    expect_config_error("{\"sentiment\":1}", "sentiment", "not an object");
    expect_config_error("{\"sentiment\":{\"lexicons\":{}}}", "sentiment.lexicons",
                        "unknown member");
    expect_config_error("{\"sentiment\":{\"replace\":1}}", "sentiment.replace", "boolean");
    expect_config_error("{\"sentiment\":{\"lexicon\":[]}}", "sentiment.lexicon",
                        "not an object");
    expect_config_error("{\"sentiment\":{\"lexicon\":{\"en-US\":{}}}}",
                        "sentiment.lexicon.en-US", "primary subtag");
    expect_config_error("{\"sentiment\":{\"lexicon\":{\"en\":[]}}}", "sentiment.lexicon.en",
                        "not an object");
    expect_config_error("{\"sentiment\":{\"lexicon\":{\"en\":{},\"EN\":{}}}}",
                        "sentiment.lexicon.EN", "appears twice");
    expect_config_error("{\"sentiment\":{\"lexicon\":{\"en\":{\"x\":6}}}}",
                        "sentiment.lexicon.en.x", "-5 to 5");
    expect_config_error("{\"sentiment\":{\"lexicon\":{\"en\":{\"two words\":1}}}}",
                        "sentiment.lexicon.en.two words", "not one word");
    expect_config_error("{\"sentiment\":{\"lexicon\":{\"en\":{\"\":1}}}}",
                        "sentiment.lexicon.en.", "1 to 128 bytes");
    expect_config_error("{\"intents\":[]}", "intents", "not an object");
    expect_config_error("{\"intents\":{\"bad name\":[\"x\"]}}", "intents.bad name",
                        "not an intent name");
    expect_config_error("{\"intents\":{\"a\":[\"x\"],\"a\":[\"y\"]}}", "intents.a",
                        "appears twice");
    expect_config_error("{\"intents\":{\"a\":\"x\"}}", "intents.a", "array of strings");
    expect_config_error("{\"intents\":{\"a\":[\"ok\",\"...\"]}}", "intents.a[1]",
                        "no letters or digits");
    expect_config_error("{\"entities\":[]}", "entities", "not an object");
    expect_config_error("{\"entities\":{\"order\":\"a(?=b)\"}}", "entities.order",
                        "unsupported construct \"(?=\" at offset 1");
    expect_config_error("{\"entities\":{\"order\":5}}", "entities.order", "not a string");
    expect_config_error("{\"entities\":{\"phone\":\"x\"}}", "entities.phone", "built-in");
    expect_config_error("{\"entities\":{\"a b\":\"x\"}}", "entities.a b", "entity name");
    expect_config_error("{\"entities\":{\"o\":\"x\",\"o\":\"y\"}}", "entities.o",
                        "appears twice");
    expect_config_error("{\"defaultRegion\":\"XX\"}", "defaultRegion", "region");
    expect_config_error("{\"defaultRegion\":\"USA\"}", "defaultRegion", "region");
    expect_config_error("{\"defaultRegion\":1}", "defaultRegion", "region");
    /* a name that is not printable is not echoed */
    expect_config_error("{\"bad\\u0001\\\"\":1}", "bad??", "unknown member");
}

Test(analyze_config, list_limits)
{
    /* 1001 phrases */
    size_t cap = 16 + 1001 * 8;
    char *cfg = malloc(cap);
    cr_assert_not_null(cfg);
    strcpy(cfg, "{\"spam\":{\"phrases\":[");
    for (int i = 0; i < 1001; i++)
        sprintf(cfg + strlen(cfg), "%s\"p%d\"", i ? "," : "", i);
    strcat(cfg, "]}}");
    expect_config_error(cfg, "spam.phrases", "more than 1000 entries");
    free(cfg);
    /* 33 patterns */
    char ents[2048] = "{\"entities\":{";
    for (int i = 0; i < 33; i++)
        sprintf(ents + strlen(ents), "%s\"e%d\":\"x\"", i ? "," : "", i);
    strcat(ents, "}}");
    expect_config_error(ents, "entities", "more than 32 patterns");
    /* 17 lexicon languages */
    char lex[2048] = "{\"sentiment\":{\"lexicon\":{";
    for (int i = 0; i < 17; i++)
        sprintf(lex + strlen(lex), "%s\"l%c\":{}", i ? "," : "", 'a' + i);
    strcat(lex, "}}}");
    expect_config_error(lex, "sentiment.lexicon", "more than 16 languages");
}
/* ---- concurrency and the hook ---------------------------------------------------------------- */
/* ---- concurrency and the hook ----------------------------------------------------------------- */

#include <pthread.h>

static void *worker(void *arg)
{
    const omni_analyzer *a = arg;
    for (int i = 0; i < 200; i++) {
        char *out;
        size_t n;
        const char *t = "Hello, I was charged twice: call +1 415 555 0100 or a@b.io";
        if (omni_analyze_text(&out, &n, a, t, strlen(t), NULL, NULL) != OMNI_OK)
            return (void *)1;
        int ok = strstr(out, "\"billing\"") && strstr(out, "+14155550100");
        omni_free(out);
        if (!ok)
            return (void *)1;
    }
    return NULL;
}

Test(analyze_threads, shared_analyzer_and_defaults)
{
    omni_analyzer *a = compile("{\"entities\":{\"o\":\"\\\\d{3}\"}}");
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, worker, i % 2 ? a : NULL), 0);
    for (int i = 0; i < 8; i++) {
        void *res;
        pthread_join(th[i], &res);
        cr_assert_null(res);
    }
    omni_analyzer_free(a);
}

Test(analyze_hook, init)
{
    omni_analyzer_hook h;
    memset(&h, 0x5A, sizeof(h));
    cr_assert_eq(omni_analyzer_hook_init(&h, OMNI_ANALYZER_HOOK_VERSION), OMNI_OK);
    cr_assert_eq(h.version, OMNI_ANALYZER_HOOK_VERSION);
    cr_assert_null(h.ctx);
    cr_assert_null(h.analyze);
    cr_assert_eq(omni_analyzer_hook_init(NULL, OMNI_ANALYZER_HOOK_VERSION), OMNI_EINVAL);
    cr_assert_neq(omni_analyzer_hook_init(&h, OMNI_ANALYZER_HOOK_VERSION + 1), OMNI_OK);
    cr_assert_neq(omni_analyzer_hook_init(&h, 0), OMNI_OK);
    omni_analyzer_hook s = OMNI_ANALYZER_HOOK_INIT;
    cr_assert_eq(s.version, 1u);
}
