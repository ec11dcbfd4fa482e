/* Phone numbers: omni_phone_to_e164 / omni_phone_parse on real-world forms,
 * the numbering table's invariants, omni_phone_identity_key (Brazil's ninth
 * digit) and omni_identity_normalize (seed 001's normalizeIdentifier).
 * Expected values follow the national numbering plans (ITU-T E.164 and the
 * regulators' plans); the large differential check against libphonenumber
 * is tests/identity/phone_oracle.py. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/identity/identity_internal.h"

static void expect(const char *raw, const char *region, const char *want)
{
    char out[OMNI_E164_STRLEN];
    int rc = omni_phone_to_e164(out, sizeof(out), raw, strlen(raw), region);
    cr_assert_eq(rc, OMNI_OK, "%s [%s]: %s (%s)", raw, region ? region : "-",
                 omni_status_code(rc), omni_error_last_message());
    cr_assert_str_eq(out, want, "%s [%s]", raw, region ? region : "-");
}

static void reject(const char *raw, const char *region, int status)
{
    char out[OMNI_E164_STRLEN] = "x";
    int rc = omni_phone_to_e164(out, sizeof(out), raw, strlen(raw), region);
    cr_assert_eq(rc, status, "%s [%s]: got %s, e164 %s", raw, region ? region : "-",
                 omni_status_code(rc), out);
    cr_assert_str_eq(out, "");
    cr_assert_eq(omni_error_last_status(), status);
}

/* region of a parsed number */
static void expect_region(const char *raw, const char *region)
{
    char *json = NULL;
    size_t len;
    cr_assert_eq(omni_phone_parse(&json, &len, raw, strlen(raw), NULL), OMNI_OK, "%s", raw);
    char want[32];
    snprintf(want, sizeof(want), "\"region\":\"%s\"", region);
    cr_assert(strstr(json, want), "%s: %s", raw, json);
    omni_free(json);
}

Test(phone, nanp_written_forms)
{
    expect("(415) 555-0100", "US", "+14155550100");
    expect("415.555.0100", "US", "+14155550100");
    expect("1-415-555-0100", "US", "+14155550100");
    expect("+1 415 555 0100", NULL, "+14155550100");
    expect("+1 (415) 555-0100", "DE", "+14155550100");
    expect("4155550100", "CA", "+14155550100");
    expect("011 44 20 7946 0958", "US", "+442079460958");
    expect("011-49-30-1234567", "CA", "+49301234567");
}

Test(phone, trunk_prefixes)
{
    expect("020 7946 0958", "GB", "+442079460958");
    expect("+44 (0)20 7946 0958", NULL, "+442079460958");
    expect("07911 123456", "GB", "+447911123456");
    expect("030 1234567", "DE", "+49301234567");
    expect("+49 (0)30 1234567", NULL, "+49301234567");
    expect("0151 23456789", "DE", "+4915123456789");
    expect("06 12 34 56 78", "FR", "+33612345678");
    expect("01 23 45 67 89", "FR", "+33123456789");
    expect("098765 43210", "IN", "+919876543210");
    expect("0412 345 678", "AU", "+61412345678");
    expect("(02) 9876 5432", "AU", "+61298765432");
    expect("8 (912) 345-67-89", "RU", "+79123456789");
    expect("06 30 123 4567", "HU", "+36301234567");
    expect("090-1234-5678", "JP", "+819012345678");
    /* after a country code, a valid number that begins with trunk digits is
     * kept as it is, so E.164 always reads back as itself (found by fuzzing) */
    expect("0 803 430 48748", "BY", "+37580343048748");
    expect("+37580343048748", NULL, "+37580343048748");
    expect("+7 800 123 45 67", NULL, "+78001234567");
}

Test(phone, italy_keeps_its_leading_zero)
{
    expect("06 6982 1234", "IT", "+390669821234");
    expect("+39 06 6982 1234", NULL, "+390669821234");
    expect("0039 02 1234 5678", "FR", "+390212345678");
    expect("333 123 4567", "IT", "+393331234567");
    expect_region("+39 06 698 12345", "VA");
    expect_region("+39 06 1234 5678", "IT");
}

Test(phone, international_prefixes_of_each_region)
{
    expect("00 44 20 7946 0958", "DE", "+442079460958");
    expect("0011 1 415 555 0100", "AU", "+14155550100");
    expect("010 44 20 7946 0958", "JP", "+442079460958");
    expect("810 44 20 7946 0958", "RU", "+442079460958");
    expect("00 21 1 415 555 0100", "BR", "+14155550100"); /* 00 + carrier code 21 */
    expect("000 44 20 7946 0958", "KE", "+442079460958");
    expect("001 44 20 7946 0958", "KR", "+442079460958");
    /* "00" where the region's own prefix is another one (lenient) */
    expect("00 44 20 7946 0958", "US", "+442079460958");
    expect("0049 30 1234567", "BR", "+49301234567"); /* BR dials 00 + carrier code */
    /* without a region, "00" and "011" + code are international */
    expect("0044 20 7946 0958", NULL, "+442079460958");
    expect("011 49 30 1234567", NULL, "+49301234567");
}

Test(phone, shared_codes_resolve_their_region)
{
    expect_region("+1 416 555 0100", "CA");
    expect_region("+1 415 555 0100", "US");
    expect_region("+1 876 555 0100", "JM");
    expect_region("+1 787 555 0100", "PR");
    expect_region("+1 809 555 0100", "DO");
    expect_region("+7 701 123 4567", "KZ");
    expect_region("+7 912 345 6789", "RU");
    expect_region("+44 1481 123456", "GG");
    expect_region("+44 7797 123456", "JE");
    expect_region("+44 1624 123456", "IM");
    expect_region("+44 20 7946 0958", "GB");
    expect_region("+47 79 12 34 56", "SJ");
    expect_region("+358 18 123456", "AX");
    expect_region("+599 9 123 4567", "CW");
    expect_region("+599 7 123 456", "BQ");
    expect_region("+262 269 61 23 45", "YT");
    expect_region("+61 8 9164 1234", "CX");
    expect_region("+800 1234 5678", "001");
}

Test(phone, local_dialing_gets_the_area_code)
{
    expect("234 5678", "BB", "+12462345678");
    expect("123456", "GG", "+441481123456");
    expect("812345", "JE", "+441534812345");
    expect("9164 1234", "CX", "+61891641234");
    /* a US 7-digit number is not usable as E.164 */
    reject("555 0100", "US", OMNI_EIDENTIFIER);
}

Test(phone, schemes_wa_id_and_unicode)
{
    expect("tel:+1-415-555-0100", NULL, "+14155550100");
    expect("TEL:+44-20-7946-0958;ext=12", NULL, "+442079460958");
    expect("tel:7946-0958;phone-context=+44-20", NULL, "+442079460958");
    expect("sms:+14155550100?body=hi", NULL, "+14155550100");
    expect("whatsapp:+5511987654321", NULL, "+5511987654321");
    expect("wa:5511987654321", NULL, "+5511987654321");
    expect("whatsapp:14155550100", "GB", "+14155550100"); /* wa_id: never national */
    expect("16505551234", NULL, "+16505551234");          /* a wa_id */
    expect("+\xef\xbc\x91 415 555 0100", NULL, "+14155550100");         /* full-width 1 */
    expect("+\xd9\xa4\xd9\xa4 20 7946 0958", NULL, "+442079460958");    /* Arabic-Indic 44 */
    expect("+1\xc2\xa0" "415\xe2\x80\x91" "555\xe2\x80\x93" "0100", NULL, "+14155550100");
    expect("  +1 415 555 0100\r\n", NULL, "+14155550100");
}

Test(phone, extensions_are_stripped_and_reported)
{
    expect("+1 415 555 0100 x123", NULL, "+14155550100");
    expect("+1 415 555 0100 ext. 123", NULL, "+14155550100");
    expect("+1 415 555 0100;ext=123", NULL, "+14155550100");
    expect("(415) 555-0100 extension 7", "US", "+14155550100");
    expect("+1 415 555 0100 #55", NULL, "+14155550100");
    const char *in = "+49 30 1234567 Ext: 42";
    char *json = NULL;
    size_t len;
    cr_assert_eq(omni_phone_parse(&json, &len, in, strlen(in), NULL), OMNI_OK);
    cr_assert_str_eq(json, "{\"input\":\"+49 30 1234567 Ext: 42\",\"e164\":\"+49301234567\","
                           "\"countryCode\":49,\"region\":\"DE\",\"nationalNumber\":\"301234567\","
                           "\"extension\":\"42\"}");
    cr_assert_eq(len, strlen(json));
    omni_free(json);
    reject("+1 415 555 0100 x", NULL, OMNI_EIDENTIFIER);
    reject("+1 415 555 0100 x1234567890123456", NULL, OMNI_EIDENTIFIER);
    reject("+1 415 555 0100;x12", NULL, OMNI_EIDENTIFIER);
}

Test(phone, brazil_argentina_mexico)
{
    expect("(11) 98765-4321", "BR", "+5511987654321");
    expect("0 21 11 98765 4321", "BR", "+5511987654321"); /* trunk 0 + carrier 21 */
    expect("011 98765-4321", "BR", "+5511987654321");
    expect("+55 11 8765-4321", NULL, "+551187654321");   /* the old 8-digit form */
    expect("+55 11 2345-6789", NULL, "+551123456789");
    expect("4004-1234", "BR", "+5540041234");
    expect("011 15 2345-6789", "AR", "+5491123456789");
    expect("0351 15 234-5678", "AR", "+5493512345678");
    expect("+54 9 11 2345 6789", NULL, "+5491123456789");
    expect("011 2345-6789", "AR", "+541123456789");
    expect("01 55 1234 5678", "MX", "+525512345678");
    expect("044 55 1234 5678", "MX", "+525512345678");
    expect("+52 1 55 1234 5678", NULL, "+525512345678");
}

Test(phone, garbage_is_refused)
{
    reject("1-800-FLOWERS", "US", OMNI_EIDENTIFIER);
    reject("hello", NULL, OMNI_EIDENTIFIER);
    reject("", NULL, OMNI_EIDENTIFIER);
    reject("   ", "US", OMNI_EIDENTIFIER);
    reject("+", NULL, OMNI_EIDENTIFIER);
    reject("++1 415 555 0100", NULL, OMNI_EIDENTIFIER);
    reject("+1 415 +555 0100", NULL, OMNI_EIDENTIFIER);
    reject("+1 415 555", NULL, OMNI_EIDENTIFIER);
    reject("+1 415 555 01000", NULL, OMNI_EIDENTIFIER);
    reject("+1 055 555 0100", NULL, OMNI_EIDENTIFIER); /* NPA begins 2-9 */
    reject("+44 20 7946 095", NULL, OMNI_EIDENTIFIER);
    reject("+999 1234 5678", NULL, OMNI_EIDENTIFIER);
    reject("+379 1234 5678", NULL, OMNI_EIDENTIFIER);
    reject("+0 1234 5678", NULL, OMNI_EIDENTIFIER);
    reject("0412 345 678", NULL, OMNI_EIDENTIFIER); /* national, no region */
    reject("12345678901234567890123456", NULL, OMNI_EIDENTIFIER);
    reject("+1 415 555 0100, +1 415 555 0101", NULL, OMNI_EIDENTIFIER);
    reject("+1 415 555 \xff", NULL, OMNI_EIDENTIFIER);
    reject("+1 415 555 \xe2\x80", NULL, OMNI_EIDENTIFIER);
    reject("\xe2\x80\xae+1 415 555 0100", NULL, OMNI_EIDENTIFIER); /* RTL override */
    reject("tel:", NULL, OMNI_EIDENTIFIER);
    reject("tel:+1-415-555-0100;ext=12a", NULL, OMNI_EIDENTIFIER);
    reject("tel:+1-415-555-0100 x", NULL, OMNI_EIDENTIFIER);
    reject("tel:+1-415-555-0100;isub=\xff", NULL, OMNI_EIDENTIFIER);
    reject("00 0 30 1234567", "DE", OMNI_EIDENTIFIER); /* no code begins with 0 */
    reject("00 999 1234567", "DE", OMNI_EIDENTIFIER);  /* after an IDD: a code, or nothing */
}

Test(phone, errors_never_echo_the_number)
{
    char out[OMNI_E164_STRLEN];
    const char *in = "+44 20 7946 095";
    cr_assert_eq(omni_phone_to_e164(out, sizeof(out), in, strlen(in), NULL), OMNI_EIDENTIFIER);
    const char *msg = omni_error_last_message();
    cr_assert(!strstr(msg, "7946"), "%s", msg);
    cr_assert_str_eq(omni_error_last_code(), "INVALID_IDENTIFIER");
    cr_assert_eq(omni_error_last_retryable(), 0);
}

Test(phone, argument_errors)
{
    char out[OMNI_E164_STRLEN];
    const char *in = "+14155550100";
    cr_assert_eq(omni_phone_to_e164(NULL, 17, in, 12, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_phone_to_e164(out, 0, in, 12, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_phone_to_e164(out, sizeof(out), NULL, 0, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_phone_to_e164(out, 12, in, 12, NULL), OMNI_EINVAL); /* needs 13 */
    cr_assert_eq(omni_phone_to_e164(out, 13, in, 12, NULL), OMNI_OK);
    cr_assert_eq(omni_phone_to_e164(out, sizeof(out), in, 12, "XX"), OMNI_EINVAL);
    cr_assert_eq(omni_phone_to_e164(out, sizeof(out), in, 12, "USA"), OMNI_EINVAL);
    cr_assert_eq(omni_phone_to_e164(out, sizeof(out), in, 12, "u"), OMNI_EINVAL);
    cr_assert_eq(omni_phone_to_e164(out, sizeof(out), in, 12, "us"), OMNI_OK);
    cr_assert_eq(omni_phone_to_e164(out, sizeof(out), in, 12, ""), OMNI_OK);
    char big[OMNI_PHONE_MAX_INPUT + 2];
    memset(big, ' ', sizeof(big));
    memcpy(big, in, 12);
    cr_assert_eq(omni_phone_to_e164(out, sizeof(out), big, OMNI_PHONE_MAX_INPUT, NULL), OMNI_OK);
    cr_assert_eq(omni_phone_to_e164(out, sizeof(out), big, OMNI_PHONE_MAX_INPUT + 1, NULL),
                 OMNI_ETOOLARGE);
    cr_assert_eq(omni_phone_to_e164(out, sizeof(out), "+1415\0" "5550100", 12, NULL),
                 OMNI_EIDENTIFIER);
    char *json = (char *)1;
    size_t len = 9;
    cr_assert_eq(omni_phone_parse(NULL, &len, in, 12, NULL), OMNI_EINVAL);
    cr_assert_eq(omni_phone_parse(&json, &len, "x", 1, NULL), OMNI_EIDENTIFIER);
    cr_assert_null(json);
    cr_assert_eq(len, 0);
    cr_assert_eq(omni_phone_parse(&json, NULL, in, 12, NULL), OMNI_OK);
    omni_free(json);
}

Test(phone, identity_key_brazil_ninth_digit)
{
    char key[OMNI_E164_STRLEN];
    unsigned f = OMNI_PHONE_BR_NINTH_DIGIT;
    cr_assert_eq(omni_phone_identity_key(key, sizeof(key), "+551187654321", f), OMNI_OK);
    cr_assert_str_eq(key, "+5511987654321");
    cr_assert_eq(omni_phone_identity_key(key, sizeof(key), "+5511987654321", f), OMNI_OK);
    cr_assert_str_eq(key, "+5511987654321");
    cr_assert_eq(omni_phone_identity_key(key, sizeof(key), "+552176543210", f), OMNI_OK);
    cr_assert_str_eq(key, "+5521976543210");
    /* fixed lines (2-5) stay as they are */
    cr_assert_eq(omni_phone_identity_key(key, sizeof(key), "+551123456789", f), OMNI_OK);
    cr_assert_str_eq(key, "+551123456789");
    /* without the flag, and outside Brazil, the number is its own key */
    cr_assert_eq(omni_phone_identity_key(key, sizeof(key), "+551187654321", 0), OMNI_OK);
    cr_assert_str_eq(key, "+551187654321");
    cr_assert_eq(omni_phone_identity_key(key, sizeof(key), "+14155550100", f), OMNI_OK);
    cr_assert_str_eq(key, "+14155550100");
    /* errors */
    cr_assert_eq(omni_phone_identity_key(key, sizeof(key), "5511987654321", f),
                 OMNI_EIDENTIFIER);
    cr_assert_eq(omni_phone_identity_key(key, sizeof(key), "+55 11 98765-4321", f),
                 OMNI_EIDENTIFIER);
    cr_assert_eq(omni_phone_identity_key(key, sizeof(key), "+5511", f), OMNI_EIDENTIFIER);
    cr_assert_eq(omni_phone_identity_key(key, sizeof(key), "+99912345678", f),
                 OMNI_EIDENTIFIER);
    cr_assert_eq(omni_phone_identity_key(key, sizeof(key), "+14155550100", 2), OMNI_EINVAL);
    cr_assert_eq(omni_phone_identity_key(key, sizeof(key), NULL, f), OMNI_EINVAL);
    cr_assert_eq(omni_phone_identity_key(NULL, 17, "+14155550100", f), OMNI_EINVAL);
    cr_assert_eq(omni_phone_identity_key(key, 14, "+551187654321", f), OMNI_EINVAL);
    cr_assert_eq(omni_phone_identity_key(key, 15, "+551187654321", f), OMNI_OK);
}

static void norm(const char *carrier, const char *sender, const char *region, const char *want)
{
    char *out = NULL;
    size_t len = 0;
    int rc = omni_identity_normalize(&out, &len, carrier, sender, strlen(sender), region);
    cr_assert_eq(rc, OMNI_OK, "%s %s: %s", carrier, sender, omni_error_last_message());
    cr_assert_str_eq(out, want);
    cr_assert_eq(len, strlen(want));
    omni_free(out);
}

static void norm_fails(const char *carrier, const char *sender, int status)
{
    char *out = (char *)1;
    size_t len = 5;
    int rc = omni_identity_normalize(&out, &len, carrier, sender, sender ? strlen(sender) : 0,
                                     NULL);
    cr_assert_eq(rc, status, "%s %s: %s", carrier, sender, omni_status_code(rc));
    cr_assert_null(out);
    cr_assert_eq(len, 0);
}

Test(identifier, normalize_per_carrier)
{
    norm("twilio", "{\"phoneNumber\":\"+14155550100\"}", NULL, "+14155550100");
    norm("twilio", "{\"phoneNumber\":\"whatsapp:+14155550100\"}", NULL, "+14155550100");
    norm("bandwidth", "{\"phoneNumber\":\"(415) 555-0100\"}", "US", "+14155550100");
    norm("inteliquent", "{\"phoneNumber\":\"14155550100\"}", NULL, "+14155550100");
    norm("whatsapp", "{\"phoneNumber\":\"16505551234\"}", "DE", "wa:+16505551234");
    norm("whatsapp", "{\"phoneNumber\":\"+5511987654321\"}", NULL, "wa:+5511987654321");
    norm("whatsapp", "{\"userId\":\"US.13491208655302741918\"}", NULL,
         "wa:id:US.13491208655302741918");
    norm("livechat", "{\"sessionId\":\"S1A2B3\",\"userId\":\"u@x\"}", NULL, "lc:S1A2B3");
    norm("messagebird", "{\"userId\":\"2e15efafec384e1c82e9842075e87beb\","
                        "\"phoneNumber\":\"+31612345678\"}",
         NULL, "2e15efafec384e1c82e9842075e87beb");
    norm("messagebird", "{\"phoneNumber\":\"+31 6 12345678\",\"userId\":null}", NULL,
         "+31612345678");
    norm("twilio", "{\"phoneNumber\":\"+1415\\u0035550100\"}", NULL, "+14155550100");
}

Test(identifier, normalize_errors)
{
    norm_fails("sms-co", "{\"phoneNumber\":\"+14155550100\"}", OMNI_ECARRIER);
    norm_fails("Twilio", "{\"phoneNumber\":\"+14155550100\"}", OMNI_ECARRIER);
    norm_fails("twilio", "{}", OMNI_EIDENTIFIER);
    norm_fails("twilio", "{\"userId\":\"abc\"}", OMNI_EIDENTIFIER);
    norm_fails("twilio", "{\"phoneNumber\":14155550100}", OMNI_EIDENTIFIER);
    norm_fails("twilio", "{\"phoneNumber\":\"MyBrand\"}", OMNI_EIDENTIFIER);
    norm_fails("twilio", "[\"+14155550100\"]", OMNI_EIDENTIFIER);
    norm_fails("twilio", "{\"phoneNumber\":", OMNI_EJSON);
    norm_fails("livechat", "{\"phoneNumber\":\"+14155550100\"}", OMNI_EIDENTIFIER);
    norm_fails("livechat", "{\"sessionId\":\"\"}", OMNI_EIDENTIFIER);
    norm_fails("livechat", "{\"sessionId\":\"a\\nb\"}", OMNI_EIDENTIFIER);
    norm_fails("whatsapp", "{}", OMNI_EIDENTIFIER);
    norm_fails("messagebird", "{\"userId\":\"\"}", OMNI_EIDENTIFIER);
    norm_fails("twilio", NULL, OMNI_EINVAL);
    norm_fails(NULL, "{}", OMNI_EINVAL);
    char big[400];
    memset(big, 'a', sizeof(big));
    memcpy(big, "{\"sessionId\":\"", 14);
    memcpy(big + sizeof(big) - 3, "\"}", 3);
    norm_fails("livechat", big, OMNI_EIDENTIFIER);
    char *out;
    cr_assert_eq(omni_identity_normalize(&out, NULL, "twilio", "{}", 2, "ZZ"), OMNI_EINVAL);
    cr_assert_eq(omni_identity_normalize(NULL, NULL, "twilio", "{}", 2, NULL), OMNI_EINVAL);
}

/* ---- the numbering table ------------------------------------------------ */

static int pattern_ok(const char *p, int allow_classes)
{
    if (!p)
        return 1;
    for (; *p; p++) {
        if ((*p >= '0' && *p <= '9') || *p == '|' || *p == 'x')
            continue;
        if (allow_classes && (*p == '[' || *p == ']' || *p == '-'))
            continue;
        return 0;
    }
    return 1;
}

Test(phone_table, rows_are_sorted_and_complete)
{
    const omni__phone_region *t = omni__phone_regions;
    size_t n = omni__phone_region_count;
    cr_assert_gt(n, 240);
    size_t codes = 0;
    for (size_t i = 0; i < n; i++) {
        int main_row = i == 0 || t[i - 1].cc != t[i].cc;
        if (i > 0)
            cr_assert_geq(t[i].cc, t[i - 1].cc, "row %zu (%s) out of order", i, t[i].iso);
        codes += (size_t)main_row;
        if (main_row) {
            cr_assert_neq(t[i].lengths, 0, "%s: main row without lengths", t[i].iso);
            cr_assert_null(t[i].leading, "%s: main row with leading digits", t[i].iso);
            cr_assert_eq(omni__phone_cc_main(t[i].cc), &t[i], "%s", t[i].iso);
        } else {
            cr_assert_eq(t[i].lengths, 0, "%s: secondary row with lengths", t[i].iso);
            cr_assert_not_null(t[i].leading, "%s: secondary row without leading digits",
                               t[i].iso);
            cr_assert_null(t[i].rules, "%s", t[i].iso);
        }
        cr_assert(pattern_ok(t[i].trunk, 0) && pattern_ok(t[i].idd, 0), "%s", t[i].iso);
        cr_assert(pattern_ok(t[i].leading, 1), "%s", t[i].iso);
        cr_assert_eq(t[i].lengths & ~OMNI__LENS(2, 17), 0, "%s: length out of 2..17", t[i].iso);
        if (strcmp(t[i].iso, "001") != 0) {
            cr_assert_eq(strlen(t[i].iso), 2);
            cr_assert_eq(omni__phone_region_find(t[i].iso), &t[i], "%s listed twice", t[i].iso);
        } else {
            cr_assert(t[i].flags & OMNI__PH_NONGEO);
        }
    }
    /* 214 codes in use, counting +1 and +7 once */
    cr_assert_geq(codes, 210, "%zu codes", codes);
    cr_assert_null(omni__phone_cc_main(379));
    cr_assert_null(omni__phone_cc_main(0));
    cr_assert_null(omni__phone_cc_main(999));
    cr_assert_not_null(omni__phone_cc_main(998));
    cr_assert_not_null(omni__phone_cc_main(1));
}

Test(phone_table, prefix_patterns)
{
    size_t k = 0;
    cr_assert(omni__phone_prefix_match("12|3[4-6]x", "3591", 4, &k));
    cr_assert_eq(k, 3);
    cr_assert(!omni__phone_prefix_match("12|3[4-6]x", "3791", 4, &k));
    cr_assert(!omni__phone_prefix_match("123", "12", 2, &k));
    cr_assert(omni__phone_prefix_match("[1247]", "7", 1, &k));
    cr_assert(!omni__phone_prefix_match(NULL, "7", 1, &k));
    cr_assert(omni__phone_nsn_valid(1, "4155550100", 10));
    cr_assert(!omni__phone_nsn_valid(1, "1155550100", 10));
    cr_assert(!omni__phone_nsn_valid(44, "0207946095", 10)); /* trunk 0 is never in an NSN */
    cr_assert(omni__phone_nsn_valid(39, "0669821234", 10));
    cr_assert(!omni__phone_nsn_valid(4242, "1", 1));
}
