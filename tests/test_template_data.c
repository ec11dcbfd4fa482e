/* omni_data / omni_value: the template data parser (RFC 8259 JSON with the
 * strictness of lib/core/json.c: UTF-8, depth 64, size limit, no control
 * characters in strings, errors with offset/line/column), JavaScript's
 * object semantics (property order, repeated keys), the value accessors and
 * compact JSON output. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

#include "lib/core/json.h"

static omni_data *parse_ok(const char *json)
{
    omni_data *d = NULL;
    int rc = omni_data_parse(&d, json, strlen(json));
    cr_assert_eq(rc, OMNI_OK, "parse %s: %s", json, omni_error_last_message());
    cr_assert_not_null(d);
    return d;
}

static char *to_json(const omni_value *v)
{
    char *s = NULL;
    size_t n = 0;
    cr_assert_eq(omni_value_json(&s, &n, v), OMNI_OK);
    cr_assert_eq(strlen(s), n);
    return s;
}

/* Parses with omni_data_parse and omni__json_validate: both must fail with
 * the same status, message and details. */
static void expect_error(const char *json, size_t len, int status, const char *why)
{
    omni_data *d = (omni_data *)1;
    int rc = omni_data_parse(&d, json, len);
    cr_assert_eq(rc, status, "%s: got %d (%s)", why, rc, omni_error_last_message());
    cr_assert_null(d, "%s: out must be NULL on error", why);
    char *msg = strdup(omni_error_last_message());
    const char *det = omni_error_last()->details;
    char *details = det ? strdup(det) : NULL;
    cr_assert(strstr(msg, why) != NULL, "message \"%s\" should say \"%s\"", msg, why);
    int v = omni__json_validate(json, len, 0, "data");
    cr_assert_eq(v, rc, "%s: validator disagrees (%d vs %d)", why, v, rc);
    cr_assert_str_eq(omni_error_last_message(), msg);
    if (details)
        cr_assert_str_eq(omni_error_last()->details, details);
    free(msg);
    free(details);
}

Test(data, scalars)
{
    omni_data *d = parse_ok("[true,false,null,0,-0,12.5,\"s\",1e400,-1e400]");
    const omni_value *r = omni_data_root(d);
    cr_assert_eq(omni_value_type(r), OMNI_VALUE_ARRAY);
    cr_assert_eq(omni_value_count(r), 9);
    cr_assert_eq(omni_value_type(omni_value_at(r, 0)), OMNI_VALUE_BOOL);
    cr_assert(omni_value_truthy(omni_value_at(r, 0)));
    cr_assert(!omni_value_truthy(omni_value_at(r, 1)));
    cr_assert_eq(omni_value_type(omni_value_at(r, 2)), OMNI_VALUE_NULL);
    cr_assert_eq(omni_value_number(omni_value_at(r, 3)), 0);
    cr_assert(signbit(omni_value_number(omni_value_at(r, 4))), "-0 keeps its sign");
    cr_assert_eq(omni_value_number(omni_value_at(r, 5)), 12.5);
    cr_assert_str_eq(omni_value_string(omni_value_at(r, 6), NULL), "s");
    /* JSON.parse("1e400") is Infinity */
    cr_assert(isinf(omni_value_number(omni_value_at(r, 7))));
    cr_assert(omni_value_number(omni_value_at(r, 8)) < 0);
    cr_assert_null(omni_value_at(r, 9));
    cr_assert_null(omni_value_string(omni_value_at(r, 5), NULL), "not a string");
    cr_assert_eq(omni_value_number(omni_value_at(r, 6)), 0, "not a number");
    omni_data_free(d);
}

Test(data, numbers_exact)
{
    /* the fast path (<= 15 digits) and strtod agree with correct rounding */
    static const struct {
        const char *text;
        double value;
    } cases[] = {
        {"0.1", 0.1},
        {"123456789012345", 123456789012345.0},
        {"0.30000000000000004", 0.30000000000000004},
        {"9007199254740993", 9007199254740992.0},
        {"1.7976931348623157e308", 1.7976931348623157e308},
        {"5e-324", 5e-324},
        {"2.2250738585072014E-308", 2.2250738585072014e-308},
        {"-12.50e+2", -1250.0},
        {"100000000000000000000000", 1e23},
        {"0.000001", 1e-6},
        {"1e-400", 0.0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        omni_data *d = parse_ok(cases[i].text);
        cr_assert_eq(omni_value_number(omni_data_root(d)), cases[i].value, "%s", cases[i].text);
        omni_data_free(d);
    }
}

Test(data, strings_and_escapes)
{
    omni_data *d = parse_ok("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u20ac\", "
                            "\"\\ud83d\\ude00\", \"x\\ud800y\", \"\\udc00\", \"n\\u0000ul\", "
                            "\"h\xc3\xa9llo \xf0\x9f\x98\x80\"]");
    const omni_value *r = omni_data_root(d);
    size_t n;
    cr_assert_str_eq(omni_value_string(omni_value_at(r, 0), &n), "a\"b\\c/d\b\f\n\r\t");
    cr_assert_eq(n, 12);
    cr_assert_str_eq(omni_value_string(omni_value_at(r, 1), NULL), "\xc3\xa9\xe2\x82\xac");
    cr_assert_str_eq(omni_value_string(omni_value_at(r, 2), NULL), "\xf0\x9f\x98\x80",
                     "a surrogate pair is one code point");
    cr_assert_str_eq(omni_value_string(omni_value_at(r, 3), NULL), "x\xef\xbf\xbdy",
                     "a lone surrogate becomes U+FFFD");
    cr_assert_str_eq(omni_value_string(omni_value_at(r, 4), NULL), "\xef\xbf\xbd");
    const char *s = omni_value_string(omni_value_at(r, 5), &n);
    cr_assert_eq(n, 4, "an escaped NUL is kept");
    cr_assert_eq(memcmp(s, "n\0ul", 4), 0);
    cr_assert_str_eq(omni_value_string(omni_value_at(r, 6), NULL), "h\xc3\xa9llo \xf0\x9f\x98\x80");
    omni_data_free(d);
}

Test(data, objects_lookup_and_order)
{
    omni_data *d = parse_ok("{\"b\":1,\"a\":{\"c\":[1,2]},\"\":\"empty\",\"k\\u00e9\":true}");
    const omni_value *r = omni_data_root(d);
    cr_assert_eq(omni_value_type(r), OMNI_VALUE_OBJECT);
    cr_assert_eq(omni_value_count(r), 4);
    cr_assert_str_eq(omni_value_key(r, 0), "b");
    cr_assert_str_eq(omni_value_key(r, 1), "a");
    cr_assert_str_eq(omni_value_key(r, 2), "");
    cr_assert_eq(omni_value_number(omni_value_get(r, "b")), 1);
    cr_assert_eq(omni_value_count(omni_value_get(omni_value_get(r, "a"), "c")), 2);
    cr_assert_str_eq(omni_value_string(omni_value_get(r, ""), NULL), "empty");
    cr_assert(omni_value_truthy(omni_value_get(r, "k\xc3\xa9")));
    cr_assert_null(omni_value_get(r, "B"), "case-sensitive");
    cr_assert_null(omni_value_get(r, "zz"));
    cr_assert_null(omni_value_get(r, NULL));
    cr_assert_null(omni_value_get(NULL, "b"));
    cr_assert_null(omni_value_get(omni_value_get(r, "b"), "x"), "not an object");
    cr_assert_null(omni_value_key(r, 4));
    cr_assert_null(omni_value_key(omni_value_get(r, "b"), 0), "not an object");
    cr_assert_eq(omni_value_number(omni_value_at(r, 0)), 1, "at() on objects gives values");
    omni_data_free(d);
}

Test(data, javascript_property_order_and_repeated_keys)
{
    /* JSON.parse: array-index keys ascending first, then insertion order;
     * a repeated key keeps its first position and its last value */
    omni_data *d = parse_ok("{\"b\":1,\"10\":2,\"a\":3,\"2\":4,\"01\":5,\"b\":6,\"4294967295\":7,"
                            "\"4294967294\":8}");
    char *j = to_json(omni_data_root(d));
    cr_assert_str_eq(j, "{\"2\":4,\"10\":2,\"4294967294\":8,\"b\":6,\"a\":3,\"01\":5,"
                        "\"4294967295\":7}");
    omni_free(j);
    omni_data_free(d);
}

Test(data, large_objects_use_the_index)
{
    char json[20000];
    size_t n = 0;
    json[n++] = '{';
    for (int i = 0; i < 500; i++)
        n += (size_t)snprintf(json + n, sizeof(json) - n, "%s\"key%d\":%d", i ? "," : "", i, i);
    n += (size_t)snprintf(json + n, sizeof(json) - n, ",\"key7\":\"again\"}");
    omni_data *d = parse_ok(json);
    const omni_value *r = omni_data_root(d);
    cr_assert_eq(omni_value_count(r), 500, "the repeated key is one member");
    for (int i = 0; i < 500; i++) {
        char k[16];
        snprintf(k, sizeof(k), "key%d", i);
        const omni_value *v = omni_value_get(r, k);
        cr_assert_not_null(v, "%s", k);
        if (i == 7)
            cr_assert_str_eq(omni_value_string(v, NULL), "again");
        else
            cr_assert_eq(omni_value_number(v), i);
    }
    cr_assert_null(omni_value_get(r, "key500"));
    cr_assert_str_eq(omni_value_key(r, 7), "key7", "first position kept");
    omni_data_free(d);
}

Test(data, truthiness)
{
    omni_data *d = parse_ok("[0,-0,1,\"\",\"0\",\"false\",[],[0],{},null,false,true]");
    const omni_value *r = omni_data_root(d);
    static const int expected[] = {0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1};
    for (size_t i = 0; i < 12; i++)
        cr_assert_eq(omni_value_truthy(omni_value_at(r, i)), expected[i], "item %zu", i);
    cr_assert_eq(omni_value_truthy(NULL), 0, "undefined is falsy");
    cr_assert_eq(omni_value_type(NULL), OMNI_VALUE_UNDEFINED);
    cr_assert_eq(omni_value_count(NULL), 0);
    cr_assert_null(omni_value_at(NULL, 0));
    cr_assert_null(omni_value_string(NULL, NULL));
    omni_data_free(d);
}

Test(data, json_output_is_compact_with_javascript_numbers)
{
    omni_data *d = parse_ok(" { \"a\" : [ 1 , 2.50 , -0 , 1e21 , 1E-7 , 0.1 ] ,\n "
                            "\"s\" : \"q\\\"\\n\\u0001\" ,"
                            " \"t\" : true , \"n\" : null , \"o\" : { } , \"e\" : [ ] } ");
    char *j = to_json(omni_data_root(d));
    cr_assert_str_eq(j, "{\"a\":[1,2.5,0,1e+21,1e-7,0.1],\"s\":\"q\\\"\\n\\u0001\",\"t\":true,"
                        "\"n\":null,\"o\":{},\"e\":[]}");
    omni_free(j);
    j = to_json(NULL);
    cr_assert_str_eq(j, "null", "undefined as null");
    omni_free(j);
    cr_assert_eq(omni_value_json(NULL, NULL, NULL), OMNI_EINVAL);
    omni_data_free(d);
}

Test(data, roundtrip)
{
    const char *docs[] = {"[]", "{}", "\"\"", "0", "true", "null", "[[[[]]]]",
                          "{\"a\":{\"b\":{\"c\":[1,\"x\",null,false]}}}", "-1.5e-9"};
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        omni_data *d = parse_ok(docs[i]);
        char *j = to_json(omni_data_root(d));
        omni_data *again = parse_ok(j);
        char *j2 = to_json(omni_data_root(again));
        cr_assert_str_eq(j, j2, "%s", docs[i]);
        omni_free(j);
        omni_free(j2);
        omni_data_free(d);
        omni_data_free(again);
    }
}

Test(data, bare_scalars_without_terminator)
{
    /* the text is not NUL-terminated: the parser must not read past it */
    char buf[8] = {'4', '2', '.', '5', 'X', 'X', 'X', 'X'};
    omni_data *d = NULL;
    cr_assert_eq(omni_data_parse(&d, buf, 4), OMNI_OK);
    cr_assert_eq(omni_value_number(omni_data_root(d)), 42.5);
    omni_data_free(d);
    char t[6] = {'t', 'r', 'u', 'e', 'e', 'e'};
    cr_assert_eq(omni_data_parse(&d, t, 4), OMNI_OK);
    cr_assert(omni_value_truthy(omni_data_root(d)));
    omni_data_free(d);
}

Test(data, errors_match_the_core_validator)
{
    expect_error("", 0, OMNI_EJSON, "empty document");
    expect_error("   ", 3, OMNI_EJSON, "unexpected end of input");
    expect_error("{} x", 4, OMNI_EJSON, "trailing characters");
    expect_error("01", 2, OMNI_EJSON, "trailing characters");
    expect_error("[01]", 4, OMNI_EJSON, "expected ',' or ']'");
    expect_error("\"abc", 4, OMNI_EJSON, "unterminated string");
    expect_error("\"a\tb\"", 5, OMNI_EJSON, "control character in string");
    expect_error("\"\\x\"", 4, OMNI_EJSON, "invalid escape");
    expect_error("\"\\u12\"", 6, OMNI_EJSON, "truncated \\u escape");
    expect_error("\"\\u12G4\"", 8, OMNI_EJSON, "invalid \\u escape");
    expect_error("\"\xc0\xaf\"", 4, OMNI_EJSON, "invalid UTF-8");           /* overlong */
    expect_error("\"\xed\xa0\x80\"", 5, OMNI_EJSON, "invalid UTF-8");       /* surrogate */
    expect_error("\"\xe2\x82\"", 4, OMNI_EJSON, "invalid UTF-8");           /* truncated */
    expect_error("\"\xf4\x90\x80\x80\"", 6, OMNI_EJSON, "invalid UTF-8");   /* > U+10FFFF */
    expect_error("\xff", 1, OMNI_EJSON, "unexpected character");
    expect_error("{\"a\" 1}", 7, OMNI_EJSON, "expected ':'");
    expect_error("{\"a\":1 \"b\":2}", 13, OMNI_EJSON, "expected ',' or '}'");
    expect_error("{1:2}", 5, OMNI_EJSON, "expected a string key");
    expect_error("{\"a\":1,}", 8, OMNI_EJSON, "expected a string key");
    expect_error("[1,]", 4, OMNI_EJSON, "unexpected character");
    expect_error("-", 1, OMNI_EJSON, "invalid number");
    expect_error("1.", 2, OMNI_EJSON, "invalid number");
    expect_error("1e+", 3, OMNI_EJSON, "invalid number");
    expect_error("+1", 2, OMNI_EJSON, "unexpected character");
    expect_error(".5", 2, OMNI_EJSON, "unexpected character");
    expect_error("tru", 3, OMNI_EJSON, "unexpected character");
    expect_error("nul", 3, OMNI_EJSON, "unexpected character");
    expect_error("[", 1, OMNI_EJSON, "unexpected end of input");
    expect_error("{\"a\":", 5, OMNI_EJSON, "unexpected end of input");
    expect_error("\"a\\", 3, OMNI_EJSON, "unterminated string");
}

Test(data, error_position)
{
    omni_data *d;
    const char *json = "{\n  \"caf\xc3\xa9\": [1,\n   x]}";
    cr_assert_eq(omni_data_parse(&d, json, strlen(json)), OMNI_EJSON);
    cr_assert_str_eq(omni_error_last()->details, "{\"offset\":20,\"line\":3,\"column\":4}");
    cr_assert(strstr(omni_error_last_message(), "line 3, column 4") != NULL);
    cr_assert(strstr(omni_error_last_message(), "data: ") == omni_error_last_message());
}

Test(data, depth_limit)
{
    char deep[200];
    for (int i = 0; i < 64; i++)
        deep[i] = '[';
    for (int i = 0; i < 64; i++)
        deep[64 + i] = ']';
    omni_data *d = NULL;
    cr_assert_eq(omni_data_parse(&d, deep, 128), OMNI_OK, "depth 64 is allowed");
    omni_data_free(d);
    char deeper[200];
    for (int i = 0; i < 65; i++)
        deeper[i] = '[';
    expect_error(deeper, 65, OMNI_ETOODEEP, "nesting too deep");
}

Test(data, size_limit_and_arguments)
{
    size_t big = OMNI_LIMIT_JSON_BYTES + 1;
    char *text = malloc(big);
    cr_assert_not_null(text);
    memset(text, ' ', big);
    text[0] = '0';
    omni_data *d = (omni_data *)1;
    cr_assert_eq(omni_data_parse(&d, text, big), OMNI_ETOOLARGE);
    cr_assert_null(d);
    free(text);
    cr_assert_eq(omni_data_parse(NULL, "1", 1), OMNI_EINVAL);
    cr_assert_eq(omni_data_parse(&d, NULL, 1), OMNI_EINVAL);
    cr_assert_eq(omni_data_parse(&d, NULL, 0), OMNI_EJSON, "no text: an empty document");
    omni_data_free(NULL);
    cr_assert_null(omni_data_root(NULL));
}

Test(data, many_containers_and_strings)
{
    /* more containers and strings than the scanner's stack buffer */
    size_t cap = 200000, n = 0;
    char *json = malloc(cap);
    cr_assert_not_null(json);
    json[n++] = '[';
    for (int i = 0; i < 5000; i++)
        n += (size_t)snprintf(json + n, cap - n, "%s{\"k\":[\"v%d\",\"\\u00e9\"]}", i ? "," : "",
                              i);
    json[n++] = ']';
    omni_data *d = NULL;
    cr_assert_eq(omni_data_parse(&d, json, n), OMNI_OK, "%s", omni_error_last_message());
    const omni_value *r = omni_data_root(d);
    cr_assert_eq(omni_value_count(r), 5000);
    const omni_value *last = omni_value_get(omni_value_at(r, 4999), "k");
    cr_assert_str_eq(omni_value_string(omni_value_at(last, 0), NULL), "v4999");
    cr_assert_str_eq(omni_value_string(omni_value_at(last, 1), NULL), "\xc3\xa9");
    omni_data_free(d);
    free(json);
}
