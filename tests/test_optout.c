/* Opt-out keywords (lib/rules/optout.h): the default STOP / START / HELP
 * lists (Twilio's default and Advanced Opt-Out keywords, CTIA; the words of
 * 47 CFR 64.1200(a)(12)), punctuation, courtesy words, messages that must
 * not opt out, diacritics and other normalization, UTF-8 edge cases, the
 * built-in hi and kn lists, configured lists and locales, and every
 * configuration error. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/rules/optout.h"

enum { NONE = OMNI__OPTOUT_NONE, STOP = OMNI__OPTOUT_STOP, START = OMNI__OPTOUT_START,
       HELP = OMNI__OPTOUT_HELP };

static void expect(const omni__optout *o, const char *locale, const char *text, int cls)
{
    int got = omni__optout_classify(o, text, strlen(text), locale);
    cr_assert_eq(got, cls, "\"%s\" (locale %s): %d, expected %d", text, locale ? locale : "-",
                 got, cls);
}

static omni__optout *compile(const char *json)
{
    omni__optout *o = NULL;
    int rc = omni__optout_compile(&o, json, strlen(json));
    cr_assert_eq(rc, OMNI_OK, "compile %s: %d %s", json, rc, omni_error_last_message());
    cr_assert_not_null(o);
    return o;
}

static void expect_error(const char *json, int status, const char *needle)
{
    omni__optout *o = (omni__optout *)1;
    int rc = omni__optout_compile(&o, json, strlen(json));
    cr_assert_eq(rc, status, "%s: %d (%s), expected %d", json, rc, omni_error_last_message(),
                 status);
    cr_assert_null(o);
    if (needle)
        cr_assert(strstr(omni_error_last_message(), needle), "%s: message \"%s\" lacks \"%s\"",
                  json, omni_error_last_message(), needle);
}

Test(optout, default_keywords)
{
    const char *stop[] = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE",
                          "OPTOUT", "OPT OUT", "OPT-OUT", "ARRET"};
    const char *start[] = {"START", "UNSTOP", "YES"};
    const char *help[] = {"HELP", "INFO"};
    for (size_t i = 0; i < sizeof(stop) / sizeof(stop[0]); i++)
        expect(NULL, NULL, stop[i], STOP);
    for (size_t i = 0; i < sizeof(start) / sizeof(start[0]); i++)
        expect(NULL, NULL, start[i], START);
    for (size_t i = 0; i < sizeof(help) / sizeof(help[0]); i++)
        expect(NULL, NULL, help[i], HELP);
    /* any case */
    expect(NULL, NULL, "stop", STOP);
    expect(NULL, NULL, "Stop", STOP);
    expect(NULL, NULL, "sToP", STOP);
    expect(NULL, NULL, "Unsubscribe", STOP);
    expect(NULL, NULL, "unStop", START);
    expect(NULL, NULL, "Yes", START);
    expect(NULL, NULL, "info", HELP);
    /* "{}" compiles to the same defaults */
    omni__optout *o = compile("{}");
    expect(o, NULL, "Stop", STOP);
    expect(o, NULL, "start", START);
    expect(o, NULL, "help", HELP);
    expect(o, NULL, "stop please", STOP);
    expect(o, "hi", "रोकें", STOP);
    omni__optout_free(o);
}

Test(optout, whitespace_and_punctuation)
{
    const char *texts[] = {"  STOP  ", "STOP!!!", "stop.", "\"STOP\"", "STOP\n", "\tstop\r\n",
                           "...stop...", "Stop?", "(stop)", "STOP 🛑", "🛑STOP🛑",
                           "\xC2\xA0STOP\xC2\xA0", /* NBSP */
                           "¡STOP!", "«stop»", "STOP\xE2\x80\xA6", /* ellipsis */
                           "STOP\xE3\x80\x82",                      /* ideographic full stop */
                           "\xEF\xBC\x81STOP\xEF\xBC\x81"};          /* fullwidth ! */
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        expect(NULL, NULL, texts[i], STOP);
    expect(NULL, NULL, "HELP?", HELP);
    expect(NULL, NULL, "yes!", START);
    /* a NUL byte is a separator */
    cr_assert_eq(omni__optout_classify(NULL, "STOP\0", 5, NULL), STOP);
    cr_assert_eq(omni__optout_classify(NULL, "\0STOP", 5, NULL), STOP);
    /* a very long tail of punctuation is still just punctuation */
    size_t n = 100000;
    char *big = malloc(n);
    memset(big, '!', n);
    memcpy(big, "STOP", 4);
    cr_assert_eq(omni__optout_classify(NULL, big, n, NULL), STOP);
    omni__optout_free(NULL);
    free(big);
}

Test(optout, courtesy_text)
{
    const char *texts[] = {"Stop. Thank you", "stop please", "STOP PLEASE", "Stop please!",
                           "Please stop", "please stop texting me", "STOP ALL",
                           "Stop texting me", "Quit texting me please", "stop stop stop",
                           "Stop, thanks!", "Unsubscribe me", "End now", "cancel all messages",
                           "Thank you. STOP", "pls stop", "stop plz thx"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        expect(NULL, NULL, texts[i], STOP);
    expect(NULL, NULL, "Help me please", HELP);
    expect(NULL, NULL, "help!! please", HELP);
    expect(NULL, NULL, "Yes please", START);
    expect(NULL, NULL, "yes, thank you", START);
    expect(NULL, NULL, "START now", START);
    /* five extra words are the most */
    expect(NULL, NULL, "please stop texting me now thanks", STOP);
    expect(NULL, NULL, "please stop texting me now thanks sir", NONE);
    expect(NULL, NULL, "please please please please please stop", STOP);
    expect(NULL, NULL, "please please please please please please stop", NONE);
    /* keywords of the same class may repeat among the extra words */
    expect(NULL, NULL, "stop unsubscribe", STOP);
    expect(NULL, NULL, "Unsubscribe. Stop. Quit.", STOP);
}

Test(optout, must_not_match)
{
    const char *texts[] = {"Don't stop",
                           "I will stop by later",
                           "stop by later",
                           "Please don't stop",
                           "End of story",
                           "Cancel my order",
                           "Cancel my appointment please",
                           "stop start",
                           "start stop",
                           "help stop",
                           "stopping",
                           "stopp",
                           "s t o p",
                           "st op",
                           "STOP2",
                           "2 STOP",
                           "information",
                           "helpful",
                           "yesterday",
                           "unsubscribed",
                           "The end",
                           "When does the store open? STOP",
                           "no",
                           "optional",
                           "opt",
                           "out",
                           "",
                           "   ",
                           "!!!",
                           "🛑",
                           "please",
                           "thank you"};
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        expect(NULL, NULL, texts[i], NONE);
    cr_assert_eq(omni__optout_classify(NULL, NULL, 0, NULL), NONE);
    cr_assert_eq(omni__optout_classify(NULL, NULL, 10, "hi"), NONE);
    cr_assert_eq(omni__optout_classify(NULL, "STOP", 0, NULL), NONE);
    /* a long message that starts with STOP */
    char buf[2048];
    snprintf(buf, sizeof(buf), "STOP%s", " please");
    for (int i = 0; i < 100; i++)
        strcat(buf, " thanks");
    expect(NULL, NULL, buf, NONE);
    /* a word longer than any keyword */
    memset(buf, 'a', 500);
    memcpy(buf + 500, " stop", 6);
    expect(NULL, NULL, buf, NONE);
}

Test(optout, diacritics_and_folding)
{
    expect(NULL, NULL, "Arrêt", STOP);
    expect(NULL, NULL, "ARRÊT", STOP);
    expect(NULL, NULL, "Arre\xCC\x82t", STOP); /* NFD: e + combining circumflex */
    expect(NULL, NULL, "STÖP", STOP);
    expect(NULL, NULL, "stóp", STOP);
    expect(NULL, NULL, "ſtop", STOP);                  /* long s */
    expect(NULL, NULL, "\xEF\xBC\xB3\xEF\xBC\xB4\xEF\xBC\xAF\xEF\xBC\xB0", STOP); /* ＳＴＯＰ */
    expect(NULL, NULL, "st\xE2\x80\x8Dop", STOP);      /* a zero-width joiner inside */
    expect(NULL, NULL, "\xEF\xBB\xBFSTOP", STOP);       /* BOM */
    expect(NULL, NULL, "Yés", START);
    expect(NULL, NULL, "HÉLP", HELP);
    expect(NULL, NULL, "İnfo", HELP);
    /* a zero-width space is a separator */
    expect(NULL, NULL, "st\xE2\x80\x8Bop", NONE);
    /* normalization itself */
    char out[128];
    cr_assert_eq(omni__optout_normalize("Ärger-Straße  ÆON!", strlen("Ärger-Straße  ÆON!"), out,
                                        sizeof(out)),
                 3);
    cr_assert_str_eq(out, "arger strasse aeon");
    cr_assert_eq(omni__optout_normalize("don't", 5, out, sizeof(out)), 2);
    cr_assert_str_eq(out, "don t");
    cr_assert_eq(omni__optout_normalize("Œuvre Ĳssel Łódź ø", strlen("Œuvre Ĳssel Łódź ø"), out,
                                        sizeof(out)),
                 4);
    cr_assert_str_eq(out, "oeuvre ijssel lodz o");
    cr_assert_eq(omni__optout_normalize("बंद करें।", strlen("बंद करें।"), out, sizeof(out)), 2);
    cr_assert_str_eq(out, "बंद करें");
    cr_assert_eq(omni__optout_normalize("", 0, out, sizeof(out)), 0);
    cr_assert_str_eq(out, "");
    cr_assert_eq(omni__optout_normalize(NULL, 0, out, sizeof(out)), 0);
    cr_assert_eq(omni__optout_normalize(NULL, 3, out, sizeof(out)), -1);
    cr_assert_eq(omni__optout_normalize("stop", 4, out, 4), -1); /* no room for the NUL */
    cr_assert_eq(omni__optout_normalize("stop", 4, out, 5), 1);
    cr_assert_eq(omni__optout_normalize("stop", 4, NULL, 5), -1);
    cr_assert_eq(omni__optout_normalize("a b", 3, out, 3), -1);
}

Test(optout, invalid_utf8)
{
    expect(NULL, NULL, "STOP\xFF", STOP);
    expect(NULL, NULL, "\xFFSTOP", STOP);
    expect(NULL, NULL, "\xC3STOP", STOP);         /* truncated sequence */
    expect(NULL, NULL, "STOP\xE2\x80", STOP);     /* truncated at the end */
    expect(NULL, NULL, "\xC0\xAFSTOP", STOP);     /* overlong '/' */
    expect(NULL, NULL, "\xED\xA0\x80STOP", STOP); /* surrogate */
    expect(NULL, NULL, "ST\xFFOP", NONE);
}

Test(optout, hindi_defaults)
{
    const char *stop[] = {"रोकें", "रोको", "बंद", "बंद करें", "बंद करो", "बन्द", "बन्द करें",
                          "बन्द करो", "अनसब्सक्राइब", "band karo", "Band Karein", "BAND KAREN",
                          "बंद करें।", "कृपया बंद करें", "मुझे मैसेज भेजना बंद करें",
                          "रोकें, धन्यवाद", "STOP", "stop please", "कृपया stop"};
    for (size_t i = 0; i < sizeof(stop) / sizeof(stop[0]); i++)
        expect(NULL, "hi", stop[i], STOP);
    expect(NULL, "hi", "शुरू", START);
    expect(NULL, "hi", "शुरू करें", START);
    expect(NULL, "hi", "चालू करें", START);
    expect(NULL, "hi", "मदद", HELP);
    expect(NULL, "hi", "सहायता", HELP);
    expect(NULL, "hi", "कृपया मदद", HELP);
    /* not opt-outs */
    expect(NULL, "hi", "बंद नहीं", NONE);
    expect(NULL, "hi", "दुकान बंद है", NONE);
    expect(NULL, "hi", "band", NONE);
    /* region subtags and spelling of the locale */
    expect(NULL, "hi-IN", "रोकें", STOP);
    expect(NULL, "HI_in", "रोकें", STOP);
    expect(NULL, "HI", "मदद", HELP);
    /* without the locale the Hindi lists do not apply */
    expect(NULL, NULL, "रोकें", NONE);
    expect(NULL, "en", "रोकें", NONE);
    expect(NULL, "kn", "रोकें", NONE);
    expect(NULL, NULL, "band karo", NONE);
    /* malformed locales add nothing */
    expect(NULL, "h", "रोकें", NONE);
    expect(NULL, "hi!", "रोकें", NONE);
    expect(NULL, "", "रोकें", NONE);
    expect(NULL, "hi-IN-with-a-very-long-private-use-tag-x", "रोकें", NONE);
    expect(NULL, "-hi", "रोकें", NONE);
}

Test(optout, kannada_defaults)
{
    expect(NULL, "kn", "ನಿಲ್ಲಿಸಿ", STOP);
    expect(NULL, "kn", "ನಿಲ್ಲಿಸು", STOP);
    expect(NULL, "kn", "ದಯವಿಟ್ಟು ನಿಲ್ಲಿಸಿ", STOP);
    expect(NULL, "kn", "ನಿಲ್ಲಿಸಿ, ಧನ್ಯವಾದಗಳು", STOP);
    expect(NULL, "kn-IN", "ನಿಲ್ಲಿಸಿ", STOP);
    expect(NULL, "kn", "ಪ್ರಾರಂಭಿಸಿ", START);
    expect(NULL, "kn", "ಆರಂಭಿಸಿ", START);
    expect(NULL, "kn", "ಸಹಾಯ", HELP);
    expect(NULL, "kn", "STOP", STOP);
    expect(NULL, "kn", "ನಿಲ್ಲಿಸಿ ಬೇಡ", NONE);
    expect(NULL, NULL, "ನಿಲ್ಲಿಸಿ", NONE);
    /* ZWNJ inside a word is ignored */
    expect(NULL, "kn", "ನಿಲ್ಲಿ\xE2\x80\x8Cಸಿ", STOP);
}

Test(optout, configured_lists)
{
    omni__optout *o = compile("{\"stop\": [\"halt\", \"Leave me alone\"], \"start\": []}");
    expect(o, NULL, "stop", NONE);
    expect(o, NULL, "HALT!", STOP);
    expect(o, NULL, "leave me alone", STOP);
    expect(o, NULL, "Leave me alone, please", STOP);
    expect(o, NULL, "leave me", NONE);
    expect(o, NULL, "start", NONE); /* disabled */
    expect(o, NULL, "yes", NONE);
    expect(o, NULL, "help", HELP); /* kept */
    expect(o, "hi", "रोकें", STOP); /* built-in locales kept */
    omni__optout_free(o);

    /* no courtesy words: only whole-message matches */
    o = compile("{\"courtesy\": []}");
    expect(o, NULL, "stop please", NONE);
    expect(o, NULL, "STOP!", STOP);
    expect(o, NULL, "stop stop", STOP);
    omni__optout_free(o);

    /* exact beats courtesy, then the longer keyword */
    o = compile("{\"start\": [\"stop now\"], \"help\": [\"help\", \"support info\"]}");
    expect(o, NULL, "stop now", START);
    expect(o, NULL, "stop now please", START);
    expect(o, NULL, "stop please", STOP);
    expect(o, NULL, "Support-Info", HELP);
    expect(o, NULL, "support", NONE);
    omni__optout_free(o);

    /* a keyword of exactly 64 bytes and 8 words; 200 entries */
    char buf[8192];
    o = compile("{\"stop\": [\"a b c d e f g abcdefghijklmnopqrstuvwxyz"
                "abcdefghijklmnopqrstuvwx\"]}");
    expect(o, NULL, "A B C D E F G abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx!", STOP);
    omni__optout_free(o);
    int n = snprintf(buf, sizeof(buf), "{\"help\": [");
    for (int i = 0; i < 200; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s\"kw%d\"", i ? "," : "", i);
    snprintf(buf + n, sizeof(buf) - (size_t)n, "]}");
    o = compile(buf);
    expect(o, NULL, "KW199", HELP);
    expect(o, NULL, "help", NONE);
    omni__optout_free(o);
    /* a keyword repeated in its class is harmless */
    o = compile("{\"stop\": [\"stop\", \"STOP\", \"Stop!\"],"
                " \"locales\": {\"hi\": {\"stop\": [\"stop\"]}}}");
    expect(o, "hi", "stop", STOP);
    omni__optout_free(o);
}

Test(optout, configured_locales)
{
    omni__optout *o = compile("{\"locales\": {\"fr\": {\"stop\": [\"arrête\", \"arrêt\"],"
                              " \"help\": [\"aide\"], \"courtesy\": [\"merci\", \"svp\"]},"
                              " \"hi\": {\"stop\": []}, \"pt_BR\": {\"stop\": [\"parar\"]}}}");
    expect(o, "fr", "Arrête", STOP);
    expect(o, "fr-CA", "ARRÊTE, merci", STOP);
    expect(o, "fr-CA", "AIDE svp", HELP);
    expect(o, "fr", "stop", STOP);       /* the top-level lists still apply */
    expect(o, NULL, "Arrête", NONE);     /* only with the locale */
    expect(o, NULL, "stop merci", NONE); /* the locale's courtesy words too */
    expect(o, "hi", "रोकें", NONE);       /* the built-in hi stop list replaced by [] */
    expect(o, "hi", "शुरू", START);      /* the other hi lists are kept */
    expect(o, "hi", "कृपया stop", STOP);
    expect(o, "pt-BR", "Parar", STOP);
    expect(o, "pt", "Parar", NONE); /* "pt" is not "pt-br" */
    expect(o, "kn", "ನಿಲ್ಲಿಸಿ", STOP);
    omni__optout_free(o);

    /* 30 new locales (32 with hi and kn) are fine */
    char buf[8192];
    int n = snprintf(buf, sizeof(buf), "{\"locales\": {");
    for (int i = 0; i < 30; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s\"x%c%c\": {\"help\": [\"h%d\"]}",
                      i ? "," : "", 'a' + i / 26, 'a' + i % 26, i);
    snprintf(buf + n, sizeof(buf) - (size_t)n, "}}");
    o = compile(buf);
    expect(o, "xbd", "h29", HELP);
    expect(o, "xaa", "h29", NONE);
    omni__optout_free(o);
    /* 31 are too many */
    n = snprintf(buf, sizeof(buf), "{\"locales\": {");
    for (int i = 0; i < 31; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s\"x%c%c\": {}", i ? "," : "",
                      'a' + i / 26, 'a' + i % 26);
    snprintf(buf + n, sizeof(buf) - (size_t)n, "}}");
    expect_error(buf, OMNI_EINVAL, "more than 32 locales");
}

Test(optout, configuration_errors)
{
    omni__optout *o = (omni__optout *)1;
    cr_assert_eq(omni__optout_compile(NULL, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(omni__optout_compile(&o, NULL, 0), OMNI_EINVAL);
    cr_assert_null(o);
    expect_error("{\"stop\": [}", OMNI_EJSON, NULL);
    size_t big = OMNI__OPTOUT_MAX_BYTES + 1;
    char *doc = malloc(big + 1);
    memset(doc, ' ', big);
    memcpy(doc, "{}", 2);
    doc[big] = '\0';
    expect_error(doc, OMNI_ETOOLARGE, NULL);
    free(doc);
    expect_error("[]", OMNI_EINVAL, "optout: the configuration is not a JSON object");
    expect_error("{\"stopp\": []}", OMNI_EINVAL, "optout: unknown member \"stopp\"");
    expect_error("{\"stop\": [], \"stop\": []}", OMNI_EINVAL, "optout: stop appears twice");
    expect_error("{\"locales\": {}, \"locales\": {}}", OMNI_EINVAL, "locales appears twice");
    expect_error("{\"stop\": \"STOP\"}", OMNI_EINVAL, "optout: stop is not an array");
    expect_error("{\"help\": [\"help\", 5]}", OMNI_EINVAL, "optout: help[1] is not a string");
    expect_error("{\"start\": [\"\"]}", OMNI_EINVAL, "optout: start[0] is empty");
    expect_error("{\"stop\": [\"a b c d e f g abcdefghijklmnopqrstuvwxyz"
                 "abcdefghijklmnopqrstuvwxy\"]}",
                 OMNI_EINVAL, "optout: stop[0] is longer than 64 bytes");
    expect_error("{\"stop\": [\"stop\", \"!!!\"]}", OMNI_EINVAL,
                 "optout: stop[1] has no letters or digits");
    expect_error("{\"stop\": [\"a b c d e f g h i\"]}", OMNI_EINVAL,
                 "optout: stop[0] has more than 8 words");
    expect_error("{\"courtesy\": [\"thank you\"]}", OMNI_EINVAL,
                 "optout: courtesy[0] is not one word");
    char buf[8192];
    int n = snprintf(buf, sizeof(buf), "{\"stop\": [");
    for (int i = 0; i < 201; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s\"kw%d\"", i ? "," : "", i);
    snprintf(buf + n, sizeof(buf) - (size_t)n, "]}");
    expect_error(buf, OMNI_EINVAL, "optout: stop has more than 200 entries");
    /* locales */
    expect_error("{\"locales\": []}", OMNI_EINVAL, "optout: locales is not an object");
    expect_error("{\"locales\": {\"x\": {}}}", OMNI_EINVAL, "locales member #0 is not a locale");
    expect_error("{\"locales\": {\"hi\": {}, \"1x\": {}}}", OMNI_EINVAL,
                 "locales member #1 is not a locale");
    expect_error("{\"locales\": {\"hi!\": {}}}", OMNI_EINVAL, "is not a locale name");
    expect_error("{\"locales\": {\"abcdefghijklmnopqrstuvwxyz0123456789\": {}}}", OMNI_EINVAL,
                 "is not a locale name");
    expect_error("{\"locales\": {\"hi\": {}, \"HI\": {}}}", OMNI_EINVAL,
                 "optout: locales.HI appears twice");
    expect_error("{\"locales\": {\"fr\": {}, \"fr\": {}}}", OMNI_EINVAL,
                 "optout: locales.fr appears twice");
    expect_error("{\"locales\": {\"hi\": []}}", OMNI_EINVAL, "optout: locales.hi is not an object");
    expect_error("{\"locales\": {\"hi\": {\"locales\": {}}}}", OMNI_EINVAL,
                 "optout: locales.hi has an unknown member \"locales\"");
    expect_error("{\"locales\": {\"hi\": {\"stop\": [], \"stop\": []}}}", OMNI_EINVAL,
                 "optout: locales.hi.stop appears twice");
    expect_error("{\"locales\": {\"kn\": {\"help\": [\"x\", \"01234567890123456789"
                 "0123456789012345678901234567890123456789012345\"]}}}",
                 OMNI_EINVAL, "optout: locales.kn.help[1] is longer than 64 bytes");
    /* the same keyword in two classes */
    expect_error("{\"start\": [\"start\", \"stop\"]}", OMNI_EINVAL,
                 "optout: start[1] \"stop\" is also a stop keyword");
    expect_error("{\"help\": [\"STÖP\"]}", OMNI_EINVAL,
                 "optout: help[0] \"stop\" is also a stop keyword");
    expect_error("{\"locales\": {\"hi\": {\"stop\": [\"yes\"]}}}", OMNI_EINVAL,
                 "optout: locales.hi.stop[0] \"yes\" is also a start keyword");
    expect_error("{\"locales\": {\"fr\": {\"stop\": [\"x\"], \"help\": [\"X\"]}}}", OMNI_EINVAL,
                 "locales.fr.help[0] \"x\" is also a stop keyword");
    /* a conflict with a built-in list names the configured entry */
    expect_error("{\"locales\": {\"hi\": {\"help\": [\"बंद\"]}}}", OMNI_EINVAL,
                 "optout: locales.hi.help[0] \"बंद\" is also a stop keyword");
}
