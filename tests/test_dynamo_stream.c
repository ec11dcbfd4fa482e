/* DynamoDB Streams (seed 001's dynamoStream): AttributeValue unmarshalling
 * (every type, nesting, DynamoDB's number rules, base64, sets) and the
 * stream converter (every change event, skipped and failed records, times,
 * the AWS documentation's example events, every error path). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>

#include "lib/core/json.h"

#define NOW_MS 1735787045000LL /* 2025-01-02T03:04:05.000Z */
#define NOW "2025-01-02T03:04:05.000Z"

/* ---- helpers -------------------------------------------------------------- */

static void valid_json(const char *out, size_t len)
{
    cr_assert_not_null(out);
    cr_assert_eq(strlen(out), len);
    cr_assert_eq(omni__json_validate(out, len, 64u << 20, "output"), OMNI_OK, "%s", out);
}

static void unm_eq(const char *item, const char *expected)
{
    char *out = NULL;
    size_t len = 0;
    int rc = omni_dynamodb_unmarshall(&out, &len, item, strlen(item));
    cr_assert_eq(rc, OMNI_OK, "%s: %s", item, omni_error_last_message());
    valid_json(out, len);
    cr_assert_str_eq(out, expected, "%s", item);
    omni_free(out);
}

static void unm_err(const char *item, int status, const char *msg_part)
{
    char *out = (char *)"sentinel";
    size_t len = 99;
    int rc = omni_dynamodb_unmarshall(&out, &len, item, strlen(item));
    cr_assert_eq(rc, status, "%s: got %d (%s)", item, rc, omni_error_last_message());
    cr_assert_null(out);
    cr_assert_eq(len, 0);
    cr_assert_eq(omni_error_last_status(), status);
    if (msg_part)
        cr_assert(strstr(omni_error_last_message(), msg_part), "%s: message \"%s\" lacks \"%s\"",
                  item, omni_error_last_message(), msg_part);
}

/* An item with one attribute "a" whose AttributeValue is av. */
static void av_eq(const char *av, const char *expected_value)
{
    char item[512], expected[512];
    snprintf(item, sizeof(item), "{\"a\":%s}", av);
    snprintf(expected, sizeof(expected), "{\"a\":%s}", expected_value);
    unm_eq(item, expected);
}

static void av_err(const char *av, const char *msg_part)
{
    char item[512];
    snprintf(item, sizeof(item), "{\"a\":%s}", av);
    unm_err(item, OMNI_EINVAL, msg_part);
}

static char *stream(const char *event)
{
    char *out = NULL;
    size_t len = 0;
    int rc = omni_dynamodb_stream_events(&out, &len, event, strlen(event), NOW_MS);
    cr_assert_eq(rc, OMNI_OK, "%s", omni_error_last_message());
    valid_json(out, len);
    return out;
}

static void stream_eq(const char *event, const char *expected)
{
    char *out = stream(event);
    cr_assert_str_eq(out, expected);
    omni_free(out);
}

static void stream_err(const char *event, size_t len, int status)
{
    char *out = (char *)"sentinel";
    size_t out_len = 99;
    int rc = omni_dynamodb_stream_events(&out, &out_len, event, len, NOW_MS);
    cr_assert_eq(rc, status, "got %d (%s)", rc, omni_error_last_message());
    cr_assert_null(out);
    cr_assert_eq(out_len, 0);
    cr_assert_eq(omni_error_last_status(), status);
}

/* Parsed output of one event; the caller deletes it. */
static cJSON *stream_tree(const char *event)
{
    char *out = stream(event);
    cJSON *root = cJSON_Parse(out);
    omni_free(out);
    cr_assert_not_null(root);
    return root;
}

static const char *record_status(const cJSON *root, int i)
{
    return omni__json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "records"), i), "status");
}

static const char *record_error(const cJSON *root, int i)
{
    return omni__json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "records"), i), "error");
}

#define ARN(table)                                                                               \
    "arn:aws:dynamodb:us-east-1:123456789012:table/" table "/stream/2024-06-10T19:26:16.525"
#define REC(id, name, table, ddb)                                                            \
    "{\"eventID\":\"" id "\",\"eventName\":\"" name "\",\"eventVersion\":\"1.1\","           \
    "\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"us-east-1\",\"dynamodb\":" ddb         \
    ",\"eventSourceARN\":\"" ARN(table) "\"}"
#define EVENT(records) "{\"Records\":[" records "]}"
#define T0 "\"ApproximateCreationDateTime\":1700000000,"
#define AT0 "2023-11-14T22:13:20.000Z"

/* ---- unmarshall: every type ---------------------------------------------- */

Test(unmarshall, scalars)
{
    av_eq("{\"S\":\"hello\"}", "\"hello\"");
    av_eq("{\"S\":\"\"}", "\"\"");
    av_eq("{\"S\":\"caf\\u00e9 \\\"q\\\" \\n\"}", "\"caf\xc3\xa9 \\\"q\\\" \\n\"");
    av_eq("{\"N\":\"123\"}", "123");
    av_eq("{\"N\":\"-7.25\"}", "-7.25");
    av_eq("{\"B\":\"dGhpcyB0ZXh0IGlzIGJhc2U2NC1lbmNvZGVk\"}",
          "\"dGhpcyB0ZXh0IGlzIGJhc2U2NC1lbmNvZGVk\"");
    av_eq("{\"B\":\"\"}", "\"\"");
    av_eq("{\"BOOL\":true}", "true");
    av_eq("{\"BOOL\":false}", "false");
    av_eq("{\"NULL\":true}", "null");
}

Test(unmarshall, documents_and_sets)
{
    av_eq("{\"M\":{}}", "{}");
    av_eq("{\"L\":[]}", "[]");
    av_eq("{\"M\":{\"Name\":{\"S\":\"Joe\"},\"Age\":{\"N\":\"35\"}}}",
          "{\"Name\":\"Joe\",\"Age\":35}");
    av_eq("{\"L\":[{\"S\":\"Cookies\"},{\"S\":\"Coffee\"},{\"N\":\"3.14159\"}]}",
          "[\"Cookies\",\"Coffee\",3.14159]");
    av_eq("{\"SS\":[\"Giraffe\",\"Hippo\",\"Zebra\"]}", "[\"Giraffe\",\"Hippo\",\"Zebra\"]");
    av_eq("{\"NS\":[\"42.2\",\"-19\",\"7.5\",\"3.14\"]}", "[42.2,-19,7.5,3.14]");
    av_eq("{\"BS\":[\"U3Vubnk=\",\"UmFpbnk=\",\"U25vd3k=\"]}",
          "[\"U3Vubnk=\",\"UmFpbnk=\",\"U25vd3k=\"]");
    av_eq("{\"NS\":[\"007\",\".5\"]}", "[7,0.5]");
}

Test(unmarshall, nested)
{
    unm_eq("{\"id\":{\"S\":\"c-1\"},\"meta\":{\"M\":{\"tags\":{\"L\":[{\"M\":{\"k\":{\"S\":\"v\"},"
           "\"n\":{\"NULL\":true}}},{\"L\":[{\"BOOL\":true},{\"NS\":[\"1\",\"2\"]}]}]},"
           "\"deep\":{\"M\":{\"x\":{\"M\":{\"y\":{\"N\":\"0\"}}}}}}}}",
           "{\"id\":\"c-1\",\"meta\":{\"tags\":[{\"k\":\"v\",\"n\":null},[true,[1,2]]],"
           "\"deep\":{\"x\":{\"y\":0}}}}");
    unm_eq("{}", "{}");
    /* Attribute names are kept byte for byte, escaped as needed. */
    unm_eq("{\"a\\\"b\\u0001\":{\"S\":\"x\"},\"\\u00fc\":{\"N\":\"1\"}}",
           "{\"a\\\"b\\u0001\":\"x\",\"\xc3\xbc\":1}");
}

/* The AttributeValue examples of the DynamoDB API Reference
 * (API_AttributeValue: "S": "Hello", "N": "123.45", "B":
 * "dGhpcyB0ZXh0IGlzIGJhc2U2NC1lbmNvZGVk", "SS": ["Giraffe", "Hippo",
 * "Zebra"], "NS": ["42.2", "-19", "7.5", "3.14"], "BS": ["U3Vubnk=",
 * "UmFpbnk=", "U25vd3k="], "M": {"Name": {"S": "Joe"}, "Age": {"N": "35"}},
 * "L": [ {"S": "Cookies"} , {"S": "Coffee"}, {"N": "3.14159"}], "NULL":
 * true, "BOOL": true), all in one item. */
Test(unmarshall, aws_api_reference_examples)
{
    unm_eq("{\"s\":{\"S\":\"Hello\"},\"n\":{\"N\":\"123.45\"},"
           "\"b\":{\"B\":\"dGhpcyB0ZXh0IGlzIGJhc2U2NC1lbmNvZGVk\"},"
           "\"ss\":{\"SS\":[\"Giraffe\",\"Hippo\",\"Zebra\"]},"
           "\"ns\":{\"NS\":[\"42.2\",\"-19\",\"7.5\",\"3.14\"]},"
           "\"bs\":{\"BS\":[\"U3Vubnk=\",\"UmFpbnk=\",\"U25vd3k=\"]},"
           "\"m\":{\"M\":{\"Name\":{\"S\":\"Joe\"},\"Age\":{\"N\":\"35\"}}},"
           "\"l\":{\"L\":[{\"S\":\"Cookies\"},{\"S\":\"Coffee\"},{\"N\":\"3.14159\"}]},"
           "\"z\":{\"NULL\":true},\"t\":{\"BOOL\":true}}",
           "{\"s\":\"Hello\",\"n\":123.45,\"b\":\"dGhpcyB0ZXh0IGlzIGJhc2U2NC1lbmNvZGVk\","
           "\"ss\":[\"Giraffe\",\"Hippo\",\"Zebra\"],\"ns\":[42.2,-19,7.5,3.14],"
           "\"bs\":[\"U3Vubnk=\",\"UmFpbnk=\",\"U25vd3k=\"],\"m\":{\"Name\":\"Joe\",\"Age\":35},"
           "\"l\":[\"Cookies\",\"Coffee\",3.14159],\"z\":null,\"t\":true}");
}

/* ---- unmarshall: numbers -------------------------------------------------- */

/* DynamoDB numbers: up to 38 significant digits, magnitude 1E-130 ..
 * 9.9999999999999999999999999999999999999E+125 (Developer Guide, "Supported
 * data types and naming rules", Number). Forms DynamoDB accepts ('+3',
 * '.123', '0001.23', '1e+5', '0e1000') and refuses ('NaN', 'Infinity',
 * ' 1', '1 ') as ScyllaDB's test_number.py checks them against DynamoDB. */
Test(unmarshall, numbers_as_written)
{
    av_eq("{\"N\":\"3\"}", "3");
    av_eq("{\"N\":\"-7.1234\"}", "-7.1234");
    av_eq("{\"N\":\"-17e5\"}", "-17e5");
    av_eq("{\"N\":\"-17.4E37\"}", "-17.4E37");
    av_eq("{\"N\":\"1e+5\"}", "1e+5");
    av_eq("{\"N\":\"1E-005\"}", "1E-005");
    av_eq("{\"N\":\"1.50\"}", "1.50");
    av_eq("{\"N\":\"0\"}", "0");
    av_eq("{\"N\":\"-0\"}", "-0");
    /* Normalized into valid JSON. */
    av_eq("{\"N\":\"+3\"}", "3");
    av_eq("{\"N\":\".123\"}", "0.123");
    av_eq("{\"N\":\"-.5\"}", "-0.5");
    av_eq("{\"N\":\"0001.23\"}", "1.23");
    av_eq("{\"N\":\"007\"}", "7");
    av_eq("{\"N\":\"-007\"}", "-7");
    av_eq("{\"N\":\"000\"}", "0");
    av_eq("{\"N\":\"1.\"}", "1");
    av_eq("{\"N\":\"0e1000\"}", "0e1000");
    av_eq("{\"N\":\"+0.0e-99999999999999999999\"}", "0.0e-99999999999999999999");
}

Test(unmarshall, number_limits)
{
    /* 38 significant digits are kept exactly; 39 are refused. */
    av_eq("{\"N\":\"3.1415926535897932384626433832795028841\"}",
          "3.1415926535897932384626433832795028841");
    av_eq("{\"N\":\"314159265358979323846.26433832795028841\"}",
          "314159265358979323846.26433832795028841");
    av_eq("{\"N\":\"31415926535897932384626433832795028841e30\"}",
          "31415926535897932384626433832795028841e30");
    av_eq("{\"N\":\"99999999999999999999999999999999999999\"}",
          "99999999999999999999999999999999999999");
    av_err("{\"N\":\"3.14159265358979323846264338327950288419\"}", "38 significant digits");
    av_err("{\"N\":\"314159265358979323846.264338327950288419\"}", "38 significant digits");
    av_err("{\"N\":\"314159265358979323846264338327950288419e30\"}", "38 significant digits");
    /* Leading and trailing zeros are not significant. */
    av_eq("{\"N\":\"100000000000000000000000000000000000000000000000000\"}",
          "100000000000000000000000000000000000000000000000000");
    av_eq("{\"N\":\"0.00000000000000000000000000000000000000000000000001\"}",
          "0.00000000000000000000000000000000000000000000000001");
    /* Magnitude. */
    av_eq("{\"N\":\"1e125\"}", "1e125");
    av_eq("{\"N\":\"-9.99999999e125\"}", "-9.99999999e125");
    av_eq("{\"N\":\"9.9999999999999999999999999999999999999E+125\"}",
          "9.9999999999999999999999999999999999999E+125");
    av_eq("{\"N\":\"1e-130\"}", "1e-130");
    av_eq("{\"N\":\"-1E-130\"}", "-1E-130");
    av_eq("{\"N\":\"10e-131\"}", "10e-131");
    av_err("{\"N\":\"1e126\"}", "larger");
    av_err("{\"N\":\"11e125\"}", "larger");
    av_err("{\"N\":\"-1e126\"}", "larger");
    av_err("{\"N\":\"1e-131\"}", "smaller");
    av_err("{\"N\":\"0.9e-130\"}", "smaller");
    av_err("{\"N\":\"1e99999999999999999999999\"}", "larger");
    av_err("{\"N\":\"1e-99999999999999999999999\"}", "smaller");
}

Test(unmarshall, invalid_numbers)
{
    static const char *const bad[] = {
        "NaN", "Infinity", "-Infinity", "-NaN", "dog", "-dog", " 1", "1 ", "",  "-", "+",
        ".",   "-.",       "e5",        "1e",   "1e+", "1e-", "--1", "+-1", "1.2.3", "0x10",
        "1,5", "١",        "1e5.5",     ".e1",  "1_000", "∞",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char av[64];
        snprintf(av, sizeof(av), "{\"N\":\"%s\"}", bad[i]);
        av_err(av, "N is not a number");
    }
    av_err("{\"N\":123}", "N is not a string");
    av_err("{\"NS\":[\"1\",\"x\"]}", "NS element 1 is not a number");
    av_err("{\"NS\":[1]}", "NS element 0 is not a string");
}

/* ---- unmarshall: malformed AttributeValues -------------------------------- */

Test(unmarshall, malformed_attribute_values)
{
    av_err("{}", "no type");
    av_err("{\"S\":\"a\",\"N\":\"1\"}", "several types");
    av_err("{\"S\":\"a\",\"S\":\"b\"}", "several types");
    av_err("{\"X\":\"1\"}", "unknown type");
    av_err("{\"s\":\"a\"}", "unknown type");
    av_err("{\"Ss\":[\"a\"]}", "unknown type");
    av_err("\"a\"", "not an object");
    av_err("[{\"S\":\"a\"}]", "not an object");
    av_err("null", "not an object");
    av_err("{\"S\":1}", "S is not a string");
    av_err("{\"S\":null}", "S is not a string");
    av_err("{\"B\":true}", "B is not a string");
    av_err("{\"BOOL\":\"true\"}", "BOOL is not true or false");
    av_err("{\"BOOL\":1}", "BOOL is not true or false");
    av_err("{\"NULL\":false}", "NULL is not true");
    av_err("{\"NULL\":\"true\"}", "NULL is not true");
    av_err("{\"NULL\":null}", "NULL is not true");
    av_err("{\"M\":[]}", "M is not an object");
    av_err("{\"L\":{}}", "L is not an array");
    av_err("{\"SS\":\"a\"}", "SS is not an array");
    av_err("{\"SS\":[]}", "SS is an empty set");
    av_err("{\"NS\":[]}", "NS is an empty set");
    av_err("{\"BS\":[]}", "BS is an empty set");
    av_err("{\"SS\":[\"a\",1]}", "SS element 1 is not a string");
    av_err("{\"BS\":[null]}", "BS element 0 is not a string");
    /* Nested errors name where they are. */
    av_err("{\"M\":{\"x\":{\"L\":[{\"S\":\"ok\"},{\"M\":{\"y\":{\"N\":\"z\"}}}]}}}",
           "a.x[1].y: N is not a number");
    av_err("{\"L\":[{\"S\":\"ok\"},{}]}", "a[1]: AttributeValue has no type");
    /* The top level is an item, not an AttributeValue. */
    unm_err("[]", OMNI_EINVAL, "not an object of AttributeValues");
    unm_err("{\"S\":\"a\"}", OMNI_EINVAL, "S: AttributeValue is not an object");
    unm_err("\"x\"", OMNI_EINVAL, NULL);
    unm_err("42", OMNI_EINVAL, NULL);
    unm_err("null", OMNI_EINVAL, NULL);
}

Test(unmarshall, base64)
{
    av_eq("{\"B\":\"QQ==\"}", "\"QQ==\"");
    av_eq("{\"B\":\"QUI=\"}", "\"QUI=\"");
    av_eq("{\"B\":\"QUJD\"}", "\"QUJD\"");
    av_eq("{\"B\":\"+/+/\"}", "\"+/+/\"");
    static const char *const bad[] = {
        "QQ",  "QQ=",  "Q===", "====", "QR==", "QUJ=", "QU I=", "QUI=\\n", "QU-_",
        "QQ==QQ==", "=QQQ", "QUJD=", "Q", "\\u00e9\\u00e9\\u00e9\\u00e9",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char av[64];
        snprintf(av, sizeof(av), "{\"B\":\"%s\"}", bad[i]);
        av_err(av, "B is not");
        snprintf(av, sizeof(av), "{\"BS\":[\"QQ==\",\"%s\"]}", bad[i]);
        av_err(av, "BS element 1 is not");
    }
}

Test(unmarshall, duplicates)
{
    av_err("{\"SS\":[\"a\",\"b\",\"a\"]}", "SS has duplicate elements");
    av_err("{\"NS\":[\"1\",\"2\",\"1.0\"]}", "NS has duplicate elements");
    av_err("{\"NS\":[\"0\",\"-0.0e5\"]}", "NS has duplicate elements");
    av_err("{\"NS\":[\"100\",\"1e2\"]}", "NS has duplicate elements");
    av_err("{\"BS\":[\"QQ==\",\"QQ==\"]}", "BS has duplicate elements");
    av_eq("{\"NS\":[\"1\",\"-1\",\"10\",\"0.1\"]}", "[1,-1,10,0.1]");
    av_eq("{\"SS\":[\"a\",\"A\",\"a \"]}", "[\"a\",\"A\",\"a \"]");
    unm_err("{\"x\":{\"S\":\"1\"},\"x\":{\"S\":\"2\"}}", OMNI_EINVAL, "attribute name is repeated");
    av_err("{\"M\":{\"k\":{\"N\":\"1\"},\"k\":{\"N\":\"1\"}}}", "a: an attribute name is repeated");

    /* Large sets and maps take the sorted path. */
    char big[8192];
    size_t n = (size_t)snprintf(big, sizeof(big), "{\"a\":{\"NS\":[");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"%d\"", i ? "," : "", 300 - i);
    snprintf(big + n, sizeof(big) - n, "]}}");
    char *out = NULL;
    size_t len = 0;
    cr_assert_eq(omni_dynamodb_unmarshall(&out, &len, big, strlen(big)), OMNI_OK);
    valid_json(out, len);
    omni_free(out);
    snprintf(big + n, sizeof(big) - n, ",\"2.0e2\"]}}");
    unm_err(big, OMNI_EINVAL, "NS has duplicate elements");

    n = (size_t)snprintf(big, sizeof(big), "{");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"k%d\":{\"N\":\"%d\"}", i ? "," : "",
                              i, i);
    snprintf(big + n, sizeof(big) - n, "}");
    cr_assert_eq(omni_dynamodb_unmarshall(&out, &len, big, strlen(big)), OMNI_OK);
    valid_json(out, len);
    omni_free(out);
    snprintf(big + n, sizeof(big) - n, ",\"k150\":{\"N\":\"0\"}}");
    unm_err(big, OMNI_EINVAL, "attribute name is repeated");
}

Test(unmarshall, errors_of_the_call)
{
    unm_err("", OMNI_EJSON, NULL);
    unm_err("{", OMNI_EJSON, NULL);
    unm_err("{\"a\":{\"S\":\"x\"}} x", OMNI_EJSON, NULL);
    unm_err("{\"a\":{\"S\":\"\xff\"}}", OMNI_EJSON, NULL);

    char *out = (char *)"sentinel";
    size_t len = 5;
    cr_assert_eq(omni_dynamodb_unmarshall(NULL, &len, "{}", 2), OMNI_EINVAL);
    cr_assert_eq(len, 0);
    cr_assert_eq(omni_dynamodb_unmarshall(&out, &len, NULL, 3), OMNI_EINVAL);
    cr_assert_null(out);
    cr_assert_eq(omni_dynamodb_unmarshall(&out, &len, NULL, 0), OMNI_EJSON);
    /* out_len may be NULL. */
    cr_assert_eq(omni_dynamodb_unmarshall(&out, NULL, "{}", 2), OMNI_OK);
    cr_assert_str_eq(out, "{}");
    omni_free(out);

    /* 4 MiB. */
    size_t big = 4u * 1024u * 1024u + 1;
    char *text = malloc(big);
    cr_assert_not_null(text);
    memset(text, ' ', big);
    text[0] = '{';
    text[big - 1] = '}';
    out = (char *)"sentinel";
    cr_assert_eq(omni_dynamodb_unmarshall(&out, &len, text, big), OMNI_ETOOLARGE);
    cr_assert_null(out);
    text[big - 2] = '}';
    cr_assert_eq(omni_dynamodb_unmarshall(&out, &len, text, big - 1), OMNI_OK);
    cr_assert_str_eq(out, "{}");
    omni_free(out);
    free(text);

    /* Nesting beyond OMNI_LIMIT_JSON_DEPTH. */
    char deep[2048];
    size_t n = (size_t)snprintf(deep, sizeof(deep), "{");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "\"a\":{\"M\":{");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(deep + n, sizeof(deep) - n, "}}");
    snprintf(deep + n, sizeof(deep) - n, "}");
    unm_err(deep, OMNI_ETOODEEP, NULL);
}

/* ---- stream: the AWS documentation's example events ----------------------- */

/* The example event of the AWS Lambda Developer Guide ("Using AWS Lambda
 * with Amazon DynamoDB", example event; the same as `sam local
 * generate-event dynamodb update`). Its table is ExampleTableWithStream,
 * which is neither conversations nor messages: every record is skipped. */
#define LAMBDA_EXAMPLE(table)                                                                   \
    "{\"Records\":[{\"eventID\":\"c4ca4238a0b923820dcc509a6f75849b\",\"eventName\":\"INSERT\","  \
    "\"eventVersion\":\"1.1\",\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"eu-central-1\","  \
    "\"dynamodb\":{\"Keys\":{\"Id\":{\"N\":\"101\"}},\"NewImage\":{\"Message\":{\"S\":"           \
    "\"New item!\"},\"Id\":{\"N\":\"101\"}},\"ApproximateCreationDateTime\":1428537600,"         \
    "\"SequenceNumber\":\"4421584500000000017450439091\",\"SizeBytes\":26,"                      \
    "\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"},\"eventSourceARN\":\"arn:aws:dynamodb:"          \
    "eu-central-1:123456789012:table/" table "/stream/2015-06-27T00:48:05.899\","                \
    "\"userIdentity\":{\"principalId\":\"dynamodb.amazonaws.com\",\"type\":\"Service\"}},"      \
    "{\"eventID\":\"c81e728d9d4c2f636f067f89cc14862c\",\"eventName\":\"MODIFY\","               \
    "\"eventVersion\":\"1.1\",\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"eu-central-1\","  \
    "\"dynamodb\":{\"Keys\":{\"Id\":{\"N\":\"101\"}},\"NewImage\":{\"Message\":{\"S\":"           \
    "\"This item has changed\"},\"Id\":{\"N\":\"101\"}},\"OldImage\":{\"Message\":{\"S\":"        \
    "\"New item!\"},\"Id\":{\"N\":\"101\"}},\"ApproximateCreationDateTime\":1428537600,"         \
    "\"SequenceNumber\":\"4421584500000000017450439092\",\"SizeBytes\":59,"                      \
    "\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"},\"eventSourceARN\":\"arn:aws:dynamodb:"          \
    "eu-central-1:123456789012:table/" table "/stream/2015-06-27T00:48:05.899\"},"              \
    "{\"eventID\":\"eccbc87e4b5ce2fe28308fd9f2a7baf3\",\"eventName\":\"REMOVE\","               \
    "\"eventVersion\":\"1.1\",\"eventSource\":\"aws:dynamodb\",\"awsRegion\":\"eu-central-1\","  \
    "\"dynamodb\":{\"Keys\":{\"Id\":{\"N\":\"101\"}},\"OldImage\":{\"Message\":{\"S\":"           \
    "\"This item has changed\"},\"Id\":{\"N\":\"101\"}},\"ApproximateCreationDateTime\":"        \
    "1428537600,\"SequenceNumber\":\"4421584500000000017450439093\",\"SizeBytes\":38,"           \
    "\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"},\"eventSourceARN\":\"arn:aws:dynamodb:"          \
    "eu-central-1:123456789012:table/" table "/stream/2015-06-27T00:48:05.899\"}]}"

Test(stream, aws_lambda_example_event)
{
    stream_eq(LAMBDA_EXAMPLE("ExampleTableWithStream"),
              "{\"events\":[],\"records\":["
              "{\"eventID\":\"c4ca4238a0b923820dcc509a6f75849b\",\"status\":\"skipped\"},"
              "{\"eventID\":\"c81e728d9d4c2f636f067f89cc14862c\",\"status\":\"skipped\"},"
              "{\"eventID\":\"eccbc87e4b5ce2fe28308fd9f2a7baf3\",\"status\":\"skipped\"}]}");
}

/* The same records as if the table were "conversations": the items name
 * their id "Id" (names are case-sensitive), so the ids are null; the
 * MODIFY changes neither status nor assignedTo; times are
 * ApproximateCreationDateTime 1428537600 = 2015-04-09T00:00:00Z. */
Test(stream, aws_lambda_example_event_as_conversations)
{
    stream_eq(LAMBDA_EXAMPLE("conversations"),
              "{\"events\":["
              "{\"source\":\"omni.workflow\",\"detailType\":\"conversation.created\",\"detail\":"
              "{\"conversationId\":null,\"customerId\":null,\"accountId\":null,\"channel\":null,"
              "\"status\":null,\"createdAt\":null}},"
              "{\"source\":\"omni.workflow\",\"detailType\":\"conversation.deleted\",\"detail\":"
              "{\"conversationId\":null,\"deletedAt\":\"2015-04-09T00:00:00.000Z\"}}],"
              "\"records\":["
              "{\"eventID\":\"c4ca4238a0b923820dcc509a6f75849b\",\"status\":\"success\"},"
              "{\"eventID\":\"c81e728d9d4c2f636f067f89cc14862c\",\"status\":\"skipped\"},"
              "{\"eventID\":\"eccbc87e4b5ce2fe28308fd9f2a7baf3\",\"status\":\"success\"}]}");
}

/* The sample response of the DynamoDB Streams API Reference, GetRecords
 * ("To retrieve stream records from a shard"). GetRecords records carry no
 * eventSourceARN, so each one fails (and does not stop the others). Its
 * ApproximateCreationDateTime values are written 1.46480431E9. */
#define GETRECORDS_RECORD(time, subject, seq, id, name)                                          \
    "{\"awsRegion\":\"us-west-2\",\"dynamodb\":{\"ApproximateCreationDateTime\":" time ","       \
    "\"Keys\":{\"ForumName\":{\"S\":\"DynamoDB\"},\"Subject\":{\"S\":\"" subject "\"}},"        \
    "\"SequenceNumber\":\"" seq "\",\"SizeBytes\":41,\"StreamViewType\":\"KEYS_ONLY\"},"       \
    "\"eventID\":\"" id "\",\"eventName\":\"" name "\",\"eventSource\":\"aws:dynamodb\","       \
    "\"eventVersion\":\"1.0\"%s}"
#define GETRECORDS_EXAMPLE                                                                      \
    "{\"NextShardIterator\":\"arn:aws:dynamodb:us-west-2:111122223333:table/Forum/stream/"      \
    "2015-05-20T20:51:10.252|1|AAAAAAAAAAGQBYshYDEe ... <remaining characters omitted> ...\","  \
    "\"Records\":["                                                                             \
    GETRECORDS_RECORD("1.46480431E9", "DynamoDB Thread 3", "300000000000000499659",            \
                      "e2fd9c34eff2d779b297b26f5fef4206", "INSERT") ","                        \
    GETRECORDS_RECORD("1.46480527E9", "DynamoDB Thread 1", "400000000000000499660",            \
                      "4b25bd0da9a181a155114127e4837252", "MODIFY") ","                        \
    GETRECORDS_RECORD("1.46480646E9", "DynamoDB Thread 2", "500000000000000499661",            \
                      "740280c73a3df7842edab3548a1b08ad", "REMOVE") "]}"

Test(stream, aws_getrecords_example)
{
    char event[4096];
    snprintf(event, sizeof(event), GETRECORDS_EXAMPLE, "", "", "");
    stream_eq(event, "{\"events\":[],\"records\":["
                     "{\"eventID\":\"e2fd9c34eff2d779b297b26f5fef4206\",\"status\":\"failed\","
                     "\"error\":\"eventSourceARN is missing\"},"
                     "{\"eventID\":\"4b25bd0da9a181a155114127e4837252\",\"status\":\"failed\","
                     "\"error\":\"eventSourceARN is missing\"},"
                     "{\"eventID\":\"740280c73a3df7842edab3548a1b08ad\",\"status\":\"failed\","
                     "\"error\":\"eventSourceARN is missing\"}]}");

    /* With the stream ARN of the example's shard iterator: table Forum,
     * another table, skipped. */
#define FORUM ",\"eventSourceARN\":\"arn:aws:dynamodb:us-west-2:111122223333:table/Forum/stream/" \
              "2015-05-20T20:51:10.252\""
    snprintf(event, sizeof(event), GETRECORDS_EXAMPLE, FORUM, FORUM, FORUM);
    cJSON *root = stream_tree(event);
    for (int i = 0; i < 3; i++)
        cr_assert_str_eq(record_status(root, i), "skipped");
    cJSON_Delete(root);

    /* As "conversations" (KEYS_ONLY): no record has the image it needs. */
#define CONV ",\"eventSourceARN\":\"arn:aws:dynamodb:us-west-2:111122223333:table/conversations/" \
             "stream/2015-05-20T20:51:10.252\""
    snprintf(event, sizeof(event), GETRECORDS_EXAMPLE, CONV, CONV, CONV);
    root = stream_tree(event);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "events")), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_str_eq(record_status(root, i), "skipped");
    cJSON_Delete(root);
}

/* ---- stream: conversations ------------------------------------------------ */

#define CONV_IMAGE(status, assigned)                                                              \
    "{\"conversationId\":{\"S\":\"c-1\"},\"customerId\":{\"S\":\"cust-9\"},"                     \
    "\"accountId\":{\"S\":\"acct-1\"},\"channel\":{\"M\":{\"type\":{\"S\":\"sms\"},"              \
    "\"carrier\":{\"S\":\"twilio\"}}},\"status\":" status ",\"assignedTo\":" assigned ","        \
    "\"createdAt\":{\"S\":\"2025-01-01T00:00:00.000Z\"},\"metadata\":{\"M\":{\"messageCount\":"   \
    "{\"N\":\"3\"},\"topics\":{\"SS\":[\"billing\"]}}}}"

Test(stream, conversation_created)
{
    stream_eq(EVENT(REC("e1", "INSERT", "conversations",
                        "{" T0 "\"Keys\":{\"conversationId\":{\"S\":\"c-1\"}},\"NewImage\":"
                        CONV_IMAGE("{\"S\":\"new\"}", "{\"NULL\":true}") "}")),
              "{\"events\":[{\"source\":\"omni.workflow\",\"detailType\":\"conversation.created\","
              "\"detail\":{\"conversationId\":\"c-1\",\"customerId\":\"cust-9\","
              "\"accountId\":\"acct-1\",\"channel\":{\"type\":\"sms\",\"carrier\":\"twilio\"},"
              "\"status\":\"new\",\"createdAt\":\"2025-01-01T00:00:00.000Z\"}}],"
              "\"records\":[{\"eventID\":\"e1\",\"status\":\"success\"}]}");

    /* channel as a string; the id named "id"; missing members are null. */
    stream_eq(EVENT(REC("e2", "INSERT", "conversations",
                        "{\"NewImage\":{\"id\":{\"S\":\"c-2\"},"
                        "\"channel\":{\"S\":\"whatsapp\"}}}")),
              "{\"events\":[{\"source\":\"omni.workflow\",\"detailType\":\"conversation.created\","
              "\"detail\":{\"conversationId\":\"c-2\",\"customerId\":null,\"accountId\":null,"
              "\"channel\":\"whatsapp\",\"status\":null,\"createdAt\":null}}],"
              "\"records\":[{\"eventID\":\"e2\",\"status\":\"success\"}]}");

    /* conversationId wins over id; a NULL conversationId falls back to id. */
    cJSON *root = stream_tree(EVENT(
        REC("a", "INSERT", "conversations",
            "{\"NewImage\":{\"id\":{\"S\":\"x\"},\"conversationId\":{\"S\":\"y\"}}}") ","
        REC("b", "INSERT", "conversations",
            "{\"NewImage\":{\"id\":{\"N\":\"12\"},\"conversationId\":{\"NULL\":true}}}")));
    cr_assert_str_eq(omni__json_str(root, "events.0.detail.conversationId"), "y");
    int64_t id = 0;
    cr_assert_eq(omni__json_int(root, "events.1.detail.conversationId", &id), 0);
    cr_assert_eq(id, 12);
    cJSON_Delete(root);

    /* An INSERT without a NewImage (KEYS_ONLY, OLD_IMAGE) is skipped. */
    stream_eq(EVENT(REC("k", "INSERT", "conversations",
                        "{\"Keys\":{\"conversationId\":{\"S\":\"c-1\"}},"
                        "\"StreamViewType\":\"KEYS_ONLY\"}")),
              "{\"events\":[],\"records\":[{\"eventID\":\"k\",\"status\":\"skipped\"}]}");
    stream_eq(EVENT(REC("k", "INSERT", "conversations", "{\"NewImage\":null}")),
              "{\"events\":[],\"records\":[{\"eventID\":\"k\",\"status\":\"skipped\"}]}");
}

Test(stream, conversation_status_and_assignment)
{
    /* status only. */
    stream_eq(EVENT(REC("m1", "MODIFY", "conversations",
                        "{" T0 "\"NewImage\":" CONV_IMAGE("{\"S\":\"active\"}", "{\"S\":\"ag-1\"}")
                        ",\"OldImage\":" CONV_IMAGE("{\"S\":\"new\"}", "{\"S\":\"ag-1\"}") "}")),
              "{\"events\":[{\"source\":\"omni.workflow\",\"detailType\":"
              "\"conversation.status_changed\",\"detail\":{\"conversationId\":\"c-1\","
              "\"previousStatus\":\"new\",\"newStatus\":\"active\",\"changedAt\":\"" AT0 "\"}}],"
              "\"records\":[{\"eventID\":\"m1\",\"status\":\"success\"}]}");

    /* assignedTo only; absent previous assignee is null. */
    stream_eq(EVENT(REC("m2", "MODIFY", "conversations",
                        "{" T0 "\"NewImage\":{\"id\":{\"S\":\"c-3\"},"
                        "\"assignedTo\":{\"S\":\"ag-2\"}},"
                        "\"OldImage\":{\"id\":{\"S\":\"c-3\"}}}")),
              "{\"events\":[{\"source\":\"omni.workflow\",\"detailType\":\"conversation.assigned\","
              "\"detail\":{\"conversationId\":\"c-3\",\"previousAssignee\":null,"
              "\"newAssignee\":\"ag-2\",\"assignedAt\":\"" AT0 "\"}}],"
              "\"records\":[{\"eventID\":\"m2\",\"status\":\"success\"}]}");

    /* Both: status first, then the assignment (unassigned: null). */
    cJSON *root = stream_tree(EVENT(REC(
        "m3", "MODIFY", "conversations",
        "{\"NewImage\":" CONV_IMAGE("{\"S\":\"escalated\"}", "{\"NULL\":true}")
        ",\"OldImage\":" CONV_IMAGE("{\"S\":\"active\"}", "{\"S\":\"bot-1\"}") "}")));
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "events")), 2);
    cr_assert_str_eq(omni__json_str(root, "events.0.detailType"), "conversation.status_changed");
    cr_assert_str_eq(omni__json_str(root, "events.0.detail.newStatus"), "escalated");
    cr_assert_str_eq(omni__json_str(root, "events.0.detail.changedAt"), NOW);
    cr_assert_str_eq(omni__json_str(root, "events.1.detailType"), "conversation.assigned");
    cr_assert_str_eq(omni__json_str(root, "events.1.detail.previousAssignee"), "bot-1");
    cr_assert(cJSON_IsNull(omni__json_at(root, "events.1.detail.newAssignee")));
    cr_assert_str_eq(omni__json_str(root, "events.1.detail.assignedAt"), NOW);
    cr_assert_str_eq(record_status(root, 0), "success");
    cJSON_Delete(root);

    /* Neither changes (other attributes do): skipped. */
    stream_eq(EVENT(REC("m4", "MODIFY", "conversations",
                        "{\"NewImage\":" CONV_IMAGE("{\"S\":\"active\"}", "{\"S\":\"a\"}")
                        ",\"OldImage\":{\"conversationId\":{\"S\":\"c-1\"},\"status\":"
                        "{\"S\":\"active\"},\"assignedTo\":{\"S\":\"a\"}}}")),
              "{\"events\":[],\"records\":[{\"eventID\":\"m4\",\"status\":\"skipped\"}]}");
}

/* Changes are found on unmarshalled values, compared as JSON values. */
Test(stream, compare_values_not_text)
{
#define SAME(old, nw)                                                                            \
    EVENT(REC("s", "MODIFY", "conversations",                                                    \
              "{\"NewImage\":{\"status\":" nw "},\"OldImage\":{\"status\":" old "}}"))
    static const char *const same[] = {
        SAME("{\"N\":\"1\"}", "{\"N\":\"1.0\"}"),
        SAME("{\"N\":\"100\"}", "{\"N\":\"1e2\"}"),
        SAME("{\"N\":\"0\"}", "{\"N\":\"-0.000\"}"),
        SAME("{\"N\":\"0.5\"}", "{\"N\":\"+.50\"}"),
        SAME("{\"NULL\":true}", "{\"NULL\":true}"),
        SAME("{\"S\":\"QQ==\"}", "{\"B\":\"QQ==\"}"),
        SAME("{\"L\":[{\"S\":\"a\"},{\"N\":\"2\"}]}", "{\"SS\":[\"a\",\"2\"]}") /* differs */,
        SAME("{\"L\":[{\"S\":\"a\"},{\"N\":\"2\"}]}", "{\"L\":[{\"S\":\"a\"},{\"N\":\"2.00\"}]}"),
        SAME("{\"NS\":[\"1\",\"2\"]}", "{\"L\":[{\"N\":\"1\"},{\"N\":\"2e0\"}]}"),
        SAME("{\"M\":{\"a\":{\"S\":\"x\"},\"b\":{\"BOOL\":true}}}",
             "{\"M\":{\"b\":{\"BOOL\":true},\"a\":{\"S\":\"x\"}}}"),
        SAME("{\"M\":{}}", "{\"M\":{}}"),
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        cJSON *root = stream_tree(same[i]);
        cr_assert_str_eq(record_status(root, 0), i == 6 ? "success" : "skipped", "case %zu", i);
        cJSON_Delete(root);
    }
    static const char *const differ[] = {
        SAME("{\"N\":\"1\"}", "{\"S\":\"1\"}"),
        SAME("{\"N\":\"1\"}", "{\"N\":\"1.000000000000000000000000000000000001\"}"),
        SAME("{\"N\":\"-1\"}", "{\"N\":\"1\"}"),
        SAME("{\"S\":\"a\"}", "{\"S\":\"A\"}"),
        SAME("{\"BOOL\":true}", "{\"BOOL\":false}"),
        SAME("{\"NULL\":true}", "{\"BOOL\":false}"),
        SAME("{\"L\":[{\"S\":\"a\"},{\"S\":\"b\"}]}", "{\"L\":[{\"S\":\"b\"},{\"S\":\"a\"}]}"),
        SAME("{\"L\":[{\"S\":\"a\"}]}", "{\"L\":[{\"S\":\"a\"},{\"S\":\"a\"}]}"),
        SAME("{\"M\":{\"a\":{\"S\":\"x\"}}}", "{\"M\":{\"a\":{\"S\":\"y\"}}}"),
        SAME("{\"M\":{\"a\":{\"S\":\"x\"}}}", "{\"M\":{\"b\":{\"S\":\"x\"}}}"),
        SAME("{\"M\":{\"a\":{\"S\":\"x\"}}}", "{\"M\":{}}"),
        SAME("{\"M\":{}}", "{\"L\":[]}"),
    };
    for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
        cJSON *root = stream_tree(differ[i]);
        cr_assert_str_eq(record_status(root, 0), "success", "case %zu", i);
        cr_assert_str_eq(omni__json_str(root, "events.0.detailType"),
                         "conversation.status_changed");
        cJSON_Delete(root);
    }
    /* The new status is written as unmarshalled (numbers as written). */
    cJSON *root = stream_tree(SAME("{\"N\":\"1\"}", "{\"N\":\"2.50\"}"));
    char *text = cJSON_PrintUnformatted(omni__json_at(root, "events.0.detail"));
    cr_assert_str_eq(text, "{\"conversationId\":null,\"previousStatus\":1,\"newStatus\":2.5,"
                           "\"changedAt\":\"" NOW "\"}");
    free(text);
    cJSON_Delete(root);

    /* Missing and NULL are the same (both unmarshall to null). */
    stream_eq(EVENT(REC("n", "MODIFY", "conversations",
                        "{\"NewImage\":{\"assignedTo\":{\"NULL\":true}},\"OldImage\":{}}")),
              "{\"events\":[],\"records\":[{\"eventID\":\"n\",\"status\":\"skipped\"}]}");

    /* Large maps are compared whatever their member order. */
    char nw[6000], old[6000], event[13000];
    size_t a = (size_t)snprintf(nw, sizeof(nw), "{\"M\":{");
    size_t b = (size_t)snprintf(old, sizeof(old), "{\"M\":{");
    for (int i = 0; i < 100; i++) {
        a += (size_t)snprintf(nw + a, sizeof(nw) - a, "%s\"k%d\":{\"N\":\"%d\"}", i ? "," : "", i,
                              i);
        b += (size_t)snprintf(old + b, sizeof(old) - b, "%s\"k%d\":{\"N\":\"%d.0\"}",
                              i ? "," : "", 99 - i, 99 - i);
    }
    snprintf(nw + a, sizeof(nw) - a, "}}");
    snprintf(old + b, sizeof(old) - b, "}}");
    snprintf(event, sizeof(event),
             EVENT(REC("big", "MODIFY", "conversations",
                       "{\"NewImage\":{\"status\":%s},\"OldImage\":{\"status\":%s}}")),
             nw, old);
    root = stream_tree(event);
    cr_assert_str_eq(record_status(root, 0), "skipped");
    cJSON_Delete(root);
    nw[a - 3] = '7'; /* k99 -> 97 */
    snprintf(event, sizeof(event),
             EVENT(REC("big", "MODIFY", "conversations",
                       "{\"NewImage\":{\"status\":%s},\"OldImage\":{\"status\":%s}}")),
             nw, old);
    root = stream_tree(event);
    cr_assert_str_eq(record_status(root, 0), "success");
    cJSON_Delete(root);
}

Test(stream, conversation_images_needed)
{
    /* MODIFY needs both images (NEW_IMAGE / OLD_IMAGE streams: skipped). */
    stream_eq(EVENT(REC("x", "MODIFY", "conversations",
                        "{\"NewImage\":{\"status\":{\"S\":\"active\"}},"
                        "\"StreamViewType\":\"NEW_IMAGE\"}") ","
                    REC("y", "MODIFY", "conversations",
                        "{\"OldImage\":{\"status\":{\"S\":\"new\"}},"
                        "\"StreamViewType\":\"OLD_IMAGE\"}")),
              "{\"events\":[],\"records\":[{\"eventID\":\"x\",\"status\":\"skipped\"},"
              "{\"eventID\":\"y\",\"status\":\"skipped\"}]}");
}

Test(stream, conversation_deleted)
{
    stream_eq(EVENT(REC("d1", "REMOVE", "conversations",
                        "{\"ApproximateCreationDateTime\":1700000000.123,\"OldImage\":"
                        CONV_IMAGE("{\"S\":\"resolved\"}", "{\"NULL\":true}") "}")),
              "{\"events\":[{\"source\":\"omni.workflow\",\"detailType\":\"conversation.deleted\","
              "\"detail\":{\"conversationId\":\"c-1\","
              "\"deletedAt\":\"2023-11-14T22:13:20.123Z\"}}],"
              "\"records\":[{\"eventID\":\"d1\",\"status\":\"success\"}]}");
    /* KEYS_ONLY: no OldImage, skipped. */
    stream_eq(EVENT(REC("d2", "REMOVE", "conversations",
                        "{\"Keys\":{\"conversationId\":{\"S\":\"c-1\"}}}")),
              "{\"events\":[],\"records\":[{\"eventID\":\"d2\",\"status\":\"skipped\"}]}");
}

/* ---- stream: messages ----------------------------------------------------- */

#define MSG_IMAGE(status)                                                                        \
    "{\"messageId\":{\"S\":\"0190a1b2-0000-7000-8000-000000000001\"},"                          \
    "\"conversationId\":{\"S\":\"c-1\"},\"sequenceNumber\":{\"N\":\"42\"},"                     \
    "\"direction\":{\"S\":\"inbound\"},\"deliveryStatus\":" status ","                         \
    "\"createdAt\":{\"S\":\"2025-01-01T00:00:01.000Z\"}}"

Test(stream, message_events)
{
    stream_eq(EVENT(REC("i", "INSERT", "messages",
                        "{" T0 "\"NewImage\":" MSG_IMAGE("{\"S\":\"processing\"}") "}") ","
                    REC("u", "MODIFY", "messages",
                        "{" T0 "\"NewImage\":" MSG_IMAGE("{\"S\":\"delivered\"}")
                        ",\"OldImage\":" MSG_IMAGE("{\"S\":\"sent\"}") "}") ","
                    REC("same", "MODIFY", "messages",
                        "{" T0 "\"NewImage\":" MSG_IMAGE("{\"S\":\"sent\"}")
                        ",\"OldImage\":" MSG_IMAGE("{\"S\":\"sent\"}") "}") ","
                    REC("r", "REMOVE", "messages",
                        "{" T0 "\"OldImage\":" MSG_IMAGE("{\"S\":\"sent\"}") "}")),
              "{\"events\":["
              "{\"source\":\"omni.workflow\",\"detailType\":\"message.created\",\"detail\":"
              "{\"messageId\":\"0190a1b2-0000-7000-8000-000000000001\",\"conversationId\":\"c-1\","
              "\"sequenceNumber\":42,\"direction\":\"inbound\","
              "\"createdAt\":\"2025-01-01T00:00:01.000Z\"}},"
              "{\"source\":\"omni.workflow\",\"detailType\":\"message.delivery_updated\","
              "\"detail\":{\"messageId\":\"0190a1b2-0000-7000-8000-000000000001\","
              "\"conversationId\":\"c-1\",\"previousStatus\":\"sent\","
              "\"newStatus\":\"delivered\",\"updatedAt\":\"" AT0 "\"}}],"
              "\"records\":[{\"eventID\":\"i\",\"status\":\"success\"},"
              "{\"eventID\":\"u\",\"status\":\"success\"},"
              "{\"eventID\":\"same\",\"status\":\"skipped\"},"
              "{\"eventID\":\"r\",\"status\":\"skipped\"}]}");

    /* The id named "id"; ids from the OldImage when the NewImage lacks them. */
    cJSON *root = stream_tree(EVENT(
        REC("a", "INSERT", "messages", "{\"NewImage\":{\"id\":{\"S\":\"m-1\"}}}") ","
        REC("b", "MODIFY", "messages",
            "{\"NewImage\":{\"deliveryStatus\":{\"S\":\"read\"}},"
            "\"OldImage\":{\"id\":{\"S\":\"m-2\"},\"conversationId\":{\"S\":\"c-2\"}}}")));
    cr_assert_str_eq(omni__json_str(root, "events.0.detail.messageId"), "m-1");
    cr_assert(cJSON_IsNull(omni__json_at(root, "events.0.detail.sequenceNumber")));
    cr_assert_str_eq(omni__json_str(root, "events.1.detail.messageId"), "m-2");
    cr_assert_str_eq(omni__json_str(root, "events.1.detail.conversationId"), "c-2");
    cr_assert(cJSON_IsNull(omni__json_at(root, "events.1.detail.previousStatus")));
    cr_assert_str_eq(omni__json_str(root, "events.1.detail.newStatus"), "read");
    cr_assert_str_eq(omni__json_str(root, "events.1.detail.updatedAt"), NOW);
    cJSON_Delete(root);

    /* Other tables (the seed's customers) are skipped. */
    stream_eq(EVENT(REC("c", "INSERT", "customers", "{\"NewImage\":{\"id\":{\"S\":\"x\"}}}")),
              "{\"events\":[],\"records\":[{\"eventID\":\"c\",\"status\":\"skipped\"}]}");
}

/* ---- stream: times ---------------------------------------------------------- */

Test(stream, times)
{
#define DEL(time) EVENT(REC("t", "REMOVE", "conversations", "{" time "\"OldImage\":{}}"))
    static const struct {
        const char *event, *at;
    } cases[] = {
        {DEL(""), NOW},
        {DEL("\"ApproximateCreationDateTime\":null,"), NOW},
        {DEL("\"ApproximateCreationDateTime\":1428537600,"), "2015-04-09T00:00:00.000Z"},
        {DEL("\"ApproximateCreationDateTime\":1.46480431E9,"), "2016-06-01T18:05:10.000Z"},
        {DEL("\"ApproximateCreationDateTime\":1700000000.5,"), "2023-11-14T22:13:20.500Z"},
        {DEL("\"ApproximateCreationDateTime\":1700000000.0004,"), "2023-11-14T22:13:20.000Z"},
        {DEL("\"ApproximateCreationDateTime\":0,"), "1970-01-01T00:00:00.000Z"},
        {DEL("\"ApproximateCreationDateTime\":-1,"), "1969-12-31T23:59:59.000Z"},
        {DEL("\"ApproximateCreationDateTime\":253402300799.999,"), "9999-12-31T23:59:59.999Z"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *root = stream_tree(cases[i].event);
        cr_assert_str_eq(omni__json_str(root, "events.0.detail.deletedAt"), cases[i].at,
                         "case %zu", i);
        cJSON_Delete(root);
    }
    static const char *const bad[] = {
        DEL("\"ApproximateCreationDateTime\":\"1428537600\","),
        DEL("\"ApproximateCreationDateTime\":253402300800,"),
        DEL("\"ApproximateCreationDateTime\":-62167219201,"),
        DEL("\"ApproximateCreationDateTime\":1e300,"),
        DEL("\"ApproximateCreationDateTime\":{},"),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *root = stream_tree(bad[i]);
        cr_assert_str_eq(record_status(root, 0), "failed", "case %zu", i);
        cr_assert(strstr(record_error(root, 0), "ApproximateCreationDateTime"));
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "events")), 0);
        cJSON_Delete(root);
    }
}

/* ---- stream: failed records do not stop the others ------------------------- */

Test(stream, failed_records)
{
#define GOOD REC("ok", "REMOVE", "conversations", "{\"OldImage\":{\"id\":{\"S\":\"c\"}}}")
    static const struct {
        const char *record, *error;
    } cases[] = {
        {"42", "record is not an object"},
        {"[]", "record is not an object"},
        {"null", "record is not an object"},
        {"{}", "eventSourceARN is missing"},
        {"{\"eventID\":7,\"eventSourceARN\":\"" ARN("conversations") "\"}",
         "eventID is not a string"},
        {"{\"eventSourceARN\":5}", "eventSourceARN is missing"},
        {"{\"eventSourceARN\":\"sourcearn\"}", "not a DynamoDB stream ARN"},
        {"{\"eventSourceARN\":\"eventsourcearn\"}", "not a DynamoDB stream ARN"},
        {"{\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:1:table/conversations\"}",
         "not a DynamoDB stream ARN"},
        {"{\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:1:table/conversations/stream/\"}",
         "not a DynamoDB stream ARN"},
        {"{\"eventSourceARN\":\"arn:aws:kinesis:us-east-1:1:table/conversations/stream/x\"}",
         "not a DynamoDB stream ARN"},
        {"{\"eventSourceARN\":\"arn:aws:dynamodb::1:table/conversations/stream/x\"}",
         "not a DynamoDB stream ARN"},
        {"{\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1::table/conversations/stream/x\"}",
         "not a DynamoDB stream ARN"},
        {"{\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:1:table/ab/stream/x\"}",
         "not a DynamoDB stream ARN"},
        {"{\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:1:table/a b c/stream/x\"}",
         "not a DynamoDB stream ARN"},
        {"{\"eventSourceARN\":\"arn:aws:dynamodb:us-east-1:1:index/conversations/stream/x\"}",
         "not a DynamoDB stream ARN"},
        {"{\"eventSourceARN\":\"" ARN("conversations") "\"}", "eventName is not"},
        {"{\"eventSourceARN\":\"" ARN("conversations") "\",\"eventName\":\"insert\"}",
         "eventName is not"},
        {"{\"eventSourceARN\":\"" ARN("conversations") "\",\"eventName\":\"UPDATE\"}",
         "eventName is not"},
        {"{\"eventSourceARN\":\"" ARN("conversations") "\",\"eventName\":\"INSERT\"}",
         "dynamodb is missing or not an object"},
        {REC("x", "INSERT", "conversations", "[]"), "dynamodb is missing or not an object"},
        {REC("x", "INSERT", "conversations", "{\"NewImage\":[]}"), "NewImage: not an item"},
        {REC("x", "INSERT", "conversations", "{\"Keys\":\"k\"}"), "Keys: not an item"},
        {REC("x", "INSERT", "conversations", "{\"NewImage\":{\"status\":{\"S\":1}}}"),
         "NewImage.status: S is not a string"},
        {REC("x", "MODIFY", "conversations",
             "{\"NewImage\":{},\"OldImage\":{\"n\":{\"N\":\"1e999\"}}}"),
         "OldImage.n: N is larger"},
        {REC("x", "INSERT", "conversations", "{\"NewImage\":{\"b\":{\"B\":\"%%%%\"}}}"),
         "NewImage.b: B is not base64"},
        {REC("x", "INSERT", "conversations", "{\"NewImage\":{\"s\":{\"SS\":[]}}}"),
         "NewImage.s: SS is an empty set"},
        /* Malformed images fail even for tables that are skipped. */
        {REC("x", "INSERT", "customers", "{\"NewImage\":{\"a\":{}}}"),
         "NewImage.a: AttributeValue has no type"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char event[2048];
        snprintf(event, sizeof(event), EVENT(GOOD ",%s," GOOD), cases[i].record);
        cJSON *root = stream_tree(event);
        cr_assert_str_eq(record_status(root, 0), "success", "case %zu", i);
        cr_assert_str_eq(record_status(root, 1), "failed", "case %zu", i);
        cr_assert_str_eq(record_status(root, 2), "success", "case %zu", i);
        cr_assert(strstr(record_error(root, 1), cases[i].error), "case %zu: %s", i,
                  record_error(root, 1));
        cr_assert_null(record_error(root, 0));
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "events")), 2);
        cJSON *rec = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "records"), 1);
        const cJSON *id = cJSON_GetObjectItem(rec, "eventID");
        cr_assert(cJSON_IsNull(id) || cJSON_IsString(id));
        cJSON_Delete(root);
    }
    /* A record's failure does not touch the thread's last error. */
    omni_error_clear();
    char *out = stream(EVENT("42"));
    cr_assert_str_eq(out, "{\"events\":[],\"records\":[{\"eventID\":null,\"status\":\"failed\","
                          "\"error\":\"record is not an object\"}]}");
    omni_free(out);
    cr_assert_eq(omni_error_last_status(), OMNI_OK);

    /* A record without eventID, and one with a null eventID. */
    stream_eq(EVENT("{\"eventSourceARN\":\"" ARN("x_y.z-1") "\",\"eventName\":\"INSERT\","
                    "\"dynamodb\":{}},{\"eventID\":null,\"eventSourceARN\":\"" ARN("x_y.z-1")
                    "\",\"eventName\":\"REMOVE\",\"dynamodb\":{}}"),
              "{\"events\":[],\"records\":[{\"eventID\":null,\"status\":\"skipped\"},"
              "{\"eventID\":null,\"status\":\"skipped\"}]}");
}

Test(stream, arn_forms)
{
    /* Other partitions, the older docs' "account-id" placeholder, table
     * names with . _ - and digits, long labels. */
    static const char *const arns[] = {
        "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/conversations/stream/"
        "2024-01-01T00:00:00.000",
        "arn:aws-us-gov:dynamodb:us-gov-west-1:123456789012:table/conversations/stream/x",
        "arn:aws:dynamodb:us-west-2:account-id:table/conversations/stream/2015-06-27T00:48:05.899",
    };
    for (size_t i = 0; i < sizeof(arns) / sizeof(arns[0]); i++) {
        char event[1024];
        snprintf(event, sizeof(event),
                 "{\"Records\":[{\"eventID\":\"a\",\"eventName\":\"REMOVE\",\"eventSourceARN\":"
                 "\"%s\",\"dynamodb\":{\"OldImage\":{\"id\":{\"S\":\"c\"}}}}]}",
                 arns[i]);
        cJSON *root = stream_tree(event);
        cr_assert_str_eq(record_status(root, 0), "success", "case %zu", i);
        cJSON_Delete(root);
    }
    /* Names are exact: "Conversations" or "prod-conversations" are other tables. */
    stream_eq(EVENT(REC("a", "REMOVE", "Conversations", "{\"OldImage\":{}}") ","
                    REC("b", "REMOVE", "prod-conversations", "{\"OldImage\":{}}")),
              "{\"events\":[],\"records\":[{\"eventID\":\"a\",\"status\":\"skipped\"},"
              "{\"eventID\":\"b\",\"status\":\"skipped\"}]}");
}

/* ---- stream: errors of the whole call -------------------------------------- */

Test(stream, errors_of_the_call)
{
    stream_eq("{\"Records\":[]}", "{\"events\":[],\"records\":[]}");
    stream_eq("{\"Records\":[],\"other\":1}", "{\"events\":[],\"records\":[]}");

    stream_err("", 0, OMNI_EJSON);
    stream_err("{\"Records\":[", 12, OMNI_EJSON);
    stream_err("{\"Records\":[]}}", 15, OMNI_EJSON);
    stream_err("[]", 2, OMNI_EINVAL);
    stream_err("\"Records\"", 9, OMNI_EINVAL);
    stream_err("{}", 2, OMNI_EINVAL);
    stream_err("{\"records\":[]}", 14, OMNI_EINVAL);
    stream_err("{\"Records\":{}}", 14, OMNI_EINVAL);
    stream_err("{\"Records\":null}", 16, OMNI_EINVAL);
    cr_assert(strstr(omni_error_last_message(), "Records"));
    stream_err(NULL, 4, OMNI_EINVAL);
    stream_err(NULL, 0, OMNI_EJSON);

    size_t len = 0;
    cr_assert_eq(omni_dynamodb_stream_events(NULL, &len, "{\"Records\":[]}", 14, NOW_MS),
                 OMNI_EINVAL);
    char *out = (char *)"sentinel";
    cr_assert_eq(omni_dynamodb_stream_events(&out, &len, "{\"Records\":[]}", 14,
                                             253402300800000LL),
                 OMNI_EINVAL);
    cr_assert_null(out);
    cr_assert_eq(omni_dynamodb_stream_events(&out, &len, "{\"Records\":[]}", 14,
                                             -62167219200001LL),
                 OMNI_EINVAL);
    cr_assert_eq(omni_dynamodb_stream_events(&out, NULL, "{\"Records\":[]}", 14, 0), OMNI_OK);
    omni_free(out);

    /* 6 MiB. */
    size_t big = 6u * 1024u * 1024u + 1;
    char *text = malloc(big);
    cr_assert_not_null(text);
    memset(text, ' ', big);
    memcpy(text, "{\"Records\":[]}", 14);
    stream_err(text, big, OMNI_ETOOLARGE);
    out = NULL;
    cr_assert_eq(omni_dynamodb_stream_events(&out, &len, text, big - 1, NOW_MS), OMNI_OK);
    omni_free(out);
    free(text);

    /* 10000 records; one more is too many. */
    size_t cap = 16 + 10001 * 3;
    text = malloc(cap);
    cr_assert_not_null(text);
    size_t n = (size_t)snprintf(text, cap, "{\"Records\":[");
    for (int i = 0; i < 10000; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s{}", i ? "," : "");
    snprintf(text + n, cap - n, "]}");
    cJSON *root = stream_tree(text);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "records")), 10000);
    cJSON_Delete(root);
    snprintf(text + n, cap - n, ",{}]}");
    stream_err(text, strlen(text), OMNI_ETOOLARGE);
    free(text);
}

/* ---- both: outputs are JSON for a mixed batch ------------------------------ */

Test(stream, mixed_batch_is_valid_json)
{
    char *out = stream(EVENT(
        REC("1", "INSERT", "conversations",
            "{\"NewImage\":{\"id\":{\"S\":\"a\\\"b\\\\c\\u0001\"},"
            "\"channel\":{\"M\":{\"n\":{\"NS\":[\"1e5\",\".5\"]},\"b\":{\"BS\":[\"AA==\"]}}}}}") ","
        "17,"
        REC("2", "MODIFY", "messages",
            "{\"NewImage\":{\"deliveryStatus\":{\"L\":[{\"N\":\"-0\"}]}},"
            "\"OldImage\":{\"deliveryStatus\":{\"S\":\"sent\"}}}") ","
        LAMBDA_EXAMPLE("messages") /* an event is not a record: failed */));
    cJSON *root = cJSON_Parse(out);
    cr_assert_not_null(root);
    cr_assert_str_eq(omni__json_str(root, "events.0.detail.conversationId"), "a\"b\\c\x01");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "events")), 2);
    cr_assert_str_eq(record_status(root, 3), "failed");
    cJSON_Delete(root);
    omni_free(out);
}
