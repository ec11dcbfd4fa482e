/* SMS encoding and segments (omni_sms_count, omni_sms_segments). Every
 * expected count below is worked out by hand from 3GPP TS 23.038 (GSM 7-bit
 * default alphabet 6.2.1, extension table 6.2.1.1) and the concatenated SMS
 * sizes of 3GPP TS 23.040 (6-byte UDH: 153 septets / 67 UCS-2 units). */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

static char *repeat(const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * n + 1);
    cr_assert_not_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * u, unit, u);
    s[u * n] = '\0';
    return s;
}

static char *cat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    cr_assert_not_null(s);
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

static void count(const char *text, int enc, uint32_t segments, uint32_t units)
{
    int e = 0;
    uint32_t s = 0, u = 0;
    int rc = omni_sms_count(&e, &s, &u, text, strlen(text));
    cr_assert_eq(rc, OMNI_OK, "rc %d: %s", rc, omni_error_last_message());
    cr_assert_eq(e, enc, "encoding %d, expected %d", e, enc);
    cr_assert_eq(s, segments, "segments %u, expected %u", s, segments);
    cr_assert_eq(u, units, "units %u, expected %u", u, units);
}

/* omni_sms_segments parsed; the caller frees with cJSON_Delete. */
static cJSON *segments_json(const char *text, size_t len)
{
    char *out = NULL;
    size_t n = 0;
    int rc = omni_sms_segments(&out, &n, text, len);
    cr_assert_eq(rc, OMNI_OK, "rc %d: %s", rc, omni_error_last_message());
    cr_assert_eq(strlen(out), n);
    cJSON *j = cJSON_ParseWithLength(out, n);
    cr_assert_not_null(j, "bad JSON: %s", out);
    omni_free(out);
    return j;
}

static const char *part(const cJSON *j, int i)
{
    cJSON *parts = cJSON_GetObjectItemCaseSensitive(j, "parts");
    cJSON *p = cJSON_GetArrayItem(parts, i);
    cr_assert(cJSON_IsString(p));
    return p->valuestring;
}

static int nparts(const cJSON *j)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "parts"));
}

/* The parts joined must give the text back. */
static void check_join(const cJSON *j, const char *text)
{
    size_t off = 0, tl = strlen(text);
    for (int i = 0; i < nparts(j); i++) {
        const char *p = part(j, i);
        size_t pl = strlen(p);
        cr_assert(off + pl <= tl);
        cr_assert_eq(memcmp(text + off, p, pl), 0, "part %d differs", i);
        off += pl;
    }
    cr_assert_eq(off, tl);
}

Test(sms, empty_is_one_gsm_segment)
{
    count("", OMNI_SMS_GSM7, 1, 0);
    int e = 0;
    uint32_t s = 9, u = 9;
    cr_assert_eq(omni_sms_count(&e, &s, &u, NULL, 0), OMNI_OK);
    cr_assert_eq(s, 1);
    cr_assert_eq(u, 0);
    char *out = NULL;
    size_t n = 0;
    cr_assert_eq(omni_sms_segments(&out, &n, "", 0), OMNI_OK);
    cr_assert_str_eq(out, "{\"encoding\":\"GSM-7\",\"segments\":1,\"units\":0,\"parts\":[\"\"]}");
    omni_free(out);
}

Test(sms, gsm_single_and_concatenated_limits)
{
    char *t160 = repeat("a", 160), *t161 = repeat("a", 161);
    char *t306 = repeat("a", 306), *t307 = repeat("a", 307), *t459 = repeat("a", 459);
    count(t160, OMNI_SMS_GSM7, 1, 160);
    count(t161, OMNI_SMS_GSM7, 2, 161);
    count(t306, OMNI_SMS_GSM7, 2, 306); /* 153 * 2 */
    count(t307, OMNI_SMS_GSM7, 3, 307);
    count(t459, OMNI_SMS_GSM7, 3, 459); /* 153 * 3 */

    cJSON *j = segments_json(t161, 161);
    cr_assert_eq(nparts(j), 2);
    cr_assert_eq(strlen(part(j, 0)), 153);
    cr_assert_eq(strlen(part(j, 1)), 8);
    check_join(j, t161);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "encoding")->valuestring, "GSM-7");
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(j, "segments")->valueint, 2);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(j, "units")->valueint, 161);
    cJSON_Delete(j);

    j = segments_json(t307, 307);
    cr_assert_eq(nparts(j), 3);
    cr_assert_eq(strlen(part(j, 2)), 1);
    check_join(j, t307);
    cJSON_Delete(j);

    j = segments_json(t160, 160);
    cr_assert_eq(nparts(j), 1);
    cr_assert_str_eq(part(j, 0), t160);
    cJSON_Delete(j);
    free(t160), free(t161), free(t306), free(t307), free(t459);
}

Test(sms, extension_characters_count_two)
{
    /* ^ { } \ [ ~ ] | € and form feed: ESC + code, 2 septets each. */
    count("^{}\\[~]|\xE2\x82\xAC\f", OMNI_SMS_GSM7, 1, 20);
    /* 80 euro signs = 160 septets: still one message; 81 = 162: two. */
    char *e80 = repeat("\xE2\x82\xAC", 80), *e81 = repeat("\xE2\x82\xAC", 81);
    count(e80, OMNI_SMS_GSM7, 1, 160);
    count(e81, OMNI_SMS_GSM7, 2, 162);
    free(e80), free(e81);
    /* 159 letters and one '{' = 161 septets. */
    char *a159 = repeat("a", 159), *t = cat(a159, "{");
    count(t, OMNI_SMS_GSM7, 2, 161);
    free(a159), free(t);
}

Test(sms, whole_default_alphabet_is_gsm)
{
    /* Every character of the default alphabet (6.2.1) except ESC: 127. */
    const char *all =
        "@\xC2\xA3$\xC2\xA5\xC3\xA8\xC3\xA9\xC3\xB9\xC3\xAC\xC3\xB2\xC3\x87\n\xC3\x98\xC3\xB8\r"
        "\xC3\x85\xC3\xA5\xCE\x94_\xCE\xA6\xCE\x93\xCE\x9B\xCE\xA9\xCE\xA0\xCE\xA8\xCE\xA3"
        "\xCE\x98\xCE\x9E\xC3\x86\xC3\xA6\xC3\x9F\xC3\x89"
        " !\"#\xC2\xA4%&'()*+,-./0123456789:;<=>?"
        "\xC2\xA1" "ABCDEFGHIJKLMNOPQRSTUVWXYZ\xC3\x84\xC3\x96\xC3\x91\xC3\x9C\xC2\xA7"
        "\xC2\xBF" "abcdefghijklmnopqrstuvwxyz\xC3\xA4\xC3\xB6\xC3\xB1\xC3\xBC\xC3\xA0";
    count(all, OMNI_SMS_GSM7, 1, 127);
}

Test(sms, characters_outside_gsm_switch_to_ucs2)
{
    count("`", OMNI_SMS_UCS2, 1, 1);             /* grave accent: not in 6.2.1 */
    count("\t", OMNI_SMS_UCS2, 1, 1);            /* tab */
    count("\xC3\xA7", OMNI_SMS_UCS2, 1, 1);      /* small c cedilla */
    count("caf\xC3\xA2", OMNI_SMS_UCS2, 1, 4);   /* a with circumflex */
    count("\xE2\x80\x99", OMNI_SMS_UCS2, 1, 1);  /* right single quotation mark */
    /* 100 GSM letters and one non-GSM character: 101 UCS-2 units = 67 + 34. */
    char *a100 = repeat("a", 100), *t = cat(a100, "\xC3\xA2");
    count(t, OMNI_SMS_UCS2, 2, 101);
    free(a100), free(t);
}

Test(sms, ucs2_limits)
{
    /* DEVANAGARI LETTER A (U+0905), one UTF-16 unit each. */
    char *t70 = repeat("\xE0\xA4\x85", 70), *t71 = repeat("\xE0\xA4\x85", 71);
    char *t134 = repeat("\xE0\xA4\x85", 134), *t135 = repeat("\xE0\xA4\x85", 135);
    count(t70, OMNI_SMS_UCS2, 1, 70);
    count(t71, OMNI_SMS_UCS2, 2, 71);
    count(t134, OMNI_SMS_UCS2, 2, 134); /* 67 * 2 */
    count(t135, OMNI_SMS_UCS2, 3, 135);
    cJSON *j = segments_json(t71, strlen(t71));
    cr_assert_eq(nparts(j), 2);
    cr_assert_eq(strlen(part(j, 0)), 67 * 3);
    cr_assert_eq(strlen(part(j, 1)), 4 * 3);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "encoding")->valuestring, "UCS-2");
    check_join(j, t71);
    cJSON_Delete(j);
    free(t70), free(t71), free(t134), free(t135);
}

Test(sms, emoji_counts_two_units_and_is_never_split)
{
    count("\xF0\x9F\x98\x80", OMNI_SMS_UCS2, 1, 2); /* U+1F600: a surrogate pair */
    /* 35 emoji = 70 units: one message. */
    char *e35 = repeat("\xF0\x9F\x98\x80", 35);
    count(e35, OMNI_SMS_UCS2, 1, 70);
    free(e35);
    /* 66 units, then an emoji that would straddle units 67/68, then 5 more:
     * 73 units; the emoji moves whole to part 2 (66 + 7). */
    char *a66 = repeat("\xE0\xA4\x85", 66), *a5 = repeat("\xE0\xA4\x85", 5);
    char *t1 = cat(a66, "\xF0\x9F\x98\x80"), *t = cat(t1, a5);
    count(t, OMNI_SMS_UCS2, 2, 73);
    cJSON *j = segments_json(t, strlen(t));
    cr_assert_eq(nparts(j), 2);
    cr_assert_str_eq(part(j, 0), a66);
    cr_assert_eq(strncmp(part(j, 1), "\xF0\x9F\x98\x80", 4), 0);
    check_join(j, t);
    cJSON_Delete(j);
    free(a66), free(a5), free(t1), free(t);
    /* 67 emoji = 134 units: 33 per part (66 units) -> 3 parts (33+33+1),
     * where a naive 134/67 would say 2. */
    char *e67 = repeat("\xF0\x9F\x98\x80", 67);
    count(e67, OMNI_SMS_UCS2, 3, 134);
    free(e67);
}

Test(sms, escape_sequence_is_never_split)
{
    /* 152 letters, then '€' (2 septets) would take septets 153-154: it
     * starts part 2. 152 + 2 + 10 = 164 septets, parts 152 and 12. */
    char *a152 = repeat("a", 152), *a10 = repeat("a", 10);
    char *t1 = cat(a152, "\xE2\x82\xAC"), *t = cat(t1, a10);
    count(t, OMNI_SMS_GSM7, 2, 164);
    cJSON *j = segments_json(t, strlen(t));
    cr_assert_str_eq(part(j, 0), a152);
    cr_assert_eq(strncmp(part(j, 1), "\xE2\x82\xAC", 3), 0);
    check_join(j, t);
    cJSON_Delete(j);
    free(t1), free(t);

    /* 152 + '{' + 152 = 306 septets = 2 * 153, but '{' cannot straddle the
     * boundary: parts 152, 153 ('{' + 151), 1 -> 3 segments. */
    char *a151 = repeat("a", 151);
    t1 = cat(a152, "{");
    char *t2 = cat(t1, a152);
    count(t2, OMNI_SMS_GSM7, 3, 306);
    j = segments_json(t2, strlen(t2));
    cr_assert_eq(nparts(j), 3);
    cr_assert_str_eq(part(j, 0), a152);
    char *want = cat("{", a151);
    cr_assert_str_eq(part(j, 1), want);
    cr_assert_str_eq(part(j, 2), "a");
    check_join(j, t2);
    cJSON_Delete(j);
    free(t1), free(t2), free(want), free(a151), free(a152), free(a10);
}

Test(sms, hindi_and_kannada_are_ucs2)
{
    /* नमस्ते: न म स ् त े = 6 code points. */
    count("\xE0\xA4\xA8\xE0\xA4\xAE\xE0\xA4\xB8\xE0\xA5\x8D\xE0\xA4\xA4\xE0\xA5\x87",
          OMNI_SMS_UCS2, 1, 6);
    /* ನಮಸ್ಕಾರ: ನ ಮ ಸ ್ ಕ ಾ ರ = 7 code points. */
    count("\xE0\xB2\xA8\xE0\xB2\xAE\xE0\xB2\xB8\xE0\xB3\x8D\xE0\xB2\x95\xE0\xB2\xBE\xE0\xB2\xB0",
          OMNI_SMS_UCS2, 1, 7);
    /* "Order 42 ready" in Hindi with digits and spaces: UCS-2 as a whole.
     * ऑर्डर (5) + " 42 " (4) + तैयार (5) + " है" (3) = 17. */
    count("\xE0\xA4\x91\xE0\xA4\xB0\xE0\xA5\x8D\xE0\xA4\xA1\xE0\xA4\xB0 42 "
          "\xE0\xA4\xA4\xE0\xA5\x88\xE0\xA4\xAF\xE0\xA4\xBE\xE0\xA4\xB0 \xE0\xA4\xB9\xE0\xA5\x88",
          OMNI_SMS_UCS2, 1, 17);
}

Test(sms, json_escapes_parts)
{
    cJSON *j = segments_json("say \"hi\"\n\\", 10);
    cr_assert_str_eq(part(j, 0), "say \"hi\"\n\\");
    /* 9 basic characters and the extension character backslash (2 septets). */
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(j, "units")->valueint, 11);
    cJSON_Delete(j);
    char *out = NULL;
    cr_assert_eq(omni_sms_segments(&out, NULL, "a\"b", 3), OMNI_OK);
    cr_assert_str_eq(out,
                     "{\"encoding\":\"GSM-7\",\"segments\":1,\"units\":3,\"parts\":[\"a\\\"b\"]}");
    omni_free(out);
}

Test(sms, embedded_nul_is_ucs2)
{
    count("", OMNI_SMS_GSM7, 1, 0);
    int e = 0;
    uint32_t s = 0, u = 0;
    cr_assert_eq(omni_sms_count(&e, &s, &u, "a\0b", 3), OMNI_OK);
    cr_assert_eq(e, OMNI_SMS_UCS2);
    cr_assert_eq(u, 3);
}

Test(sms, invalid_utf8)
{
    static const char *bad[] = {"\xFF", "a\xC0\xAF", "\xE0\xA4", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                "ok\x80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int e = 7;
        cr_assert_eq(omni_sms_count(&e, NULL, NULL, bad[i], strlen(bad[i])), OMNI_EENCODING);
        cr_assert_eq(e, 7, "output changed on error");
        cr_assert_eq(omni_error_last_status(), OMNI_EENCODING);
        char *out = (char *)1;
        cr_assert_eq(omni_sms_segments(&out, NULL, bad[i], strlen(bad[i])), OMNI_EENCODING);
        cr_assert_null(out);
    }
    cr_assert_not_null(strstr(omni_error_last_message(), "byte 2"));
}

Test(sms, argument_errors)
{
    cr_assert_eq(omni_sms_count(NULL, NULL, NULL, NULL, 3), OMNI_EINVAL);
    cr_assert_eq(omni_sms_segments(NULL, NULL, "a", 1), OMNI_EINVAL);
    char *out = NULL;
    cr_assert_eq(omni_sms_segments(&out, NULL, NULL, 1), OMNI_EINVAL);
    char *big = repeat("a", OMNI_SMS_MAX_INPUT + 1);
    cr_assert_eq(omni_sms_count(NULL, NULL, NULL, big, OMNI_SMS_MAX_INPUT + 1), OMNI_ETOOLARGE);
    cr_assert_eq(omni_sms_segments(&out, NULL, big, OMNI_SMS_MAX_INPUT + 1), OMNI_ETOOLARGE);
    /* Exactly at the limit is fine: 65536 / 153 = 428.3 -> 429 parts. */
    {
        uint32_t s = 0, u = 0;
        cr_assert_eq(omni_sms_count(NULL, &s, &u, big, OMNI_SMS_MAX_INPUT), OMNI_OK);
        cr_assert_eq(u, OMNI_SMS_MAX_INPUT);
        cr_assert_eq(s, 429);
        cJSON *j = segments_json(big, OMNI_SMS_MAX_INPUT);
        cr_assert_eq(nparts(j), 429);
        cJSON_Delete(j);
    }
    free(big);
}
