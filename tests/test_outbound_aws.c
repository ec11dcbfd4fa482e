/* Tests of the outbound adapters aws-sns, aws-ses and sendgrid
 * (lib/outbound/aws_sns.c, aws_ses.c, sendgrid.c): the golden requests of
 * tests/data/outbound/<provider>/<case>.json (method, URL, every header and the
 * exact body; the SigV4 signatures in them were computed by an independent
 * implementation of AWS's "Create a signed AWS API request"), the
 * responses.json cases (every documented error class, Retry-After in
 * seconds and as an HTTP-date, 5xx, bodies that are not the provider's
 * format), and every error path of configuration and build, checking that
 * no secret reaches an error message, a result or a log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <cjson/cJSON.h>

#include <omni/omni.h>

#include "golden.h"

#define NOW_MS 1714564800000LL /* 2024-05-01T12:00:00Z */
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SG_KEY "SG.secret-sendgrid-key"

static omni_outbound *ob_new(const char *config)
{
    omni_outbound *ob = NULL;
    int rc = omni_outbound_new(&ob, config, strlen(config));
    cr_assert_eq(rc, OMNI_OK, "config %s: %s", config, omni_error_last_message());
    return ob;
}

/* ---- golden requests ------------------------------------------------------------ */

/* Every golden request of a provider (headers compared as a set: SigV4 adds
 * its own). */
static int check_dir(const char *provider)
{
    char why[2048];
    int n = golden_outbound_requests(provider, 0, why, sizeof why);
    cr_assert_geq(n, 0, "%s", why);
    return n;
}

Test(outbound_aws, golden_sns) { cr_assert_geq(check_dir("aws-sns"), 4); }
Test(outbound_aws, golden_ses) { cr_assert_geq(check_dir("aws-ses"), 6); }
Test(outbound_aws, golden_sendgrid) { cr_assert_geq(check_dir("sendgrid"), 4); }

/* ---- responses ------------------------------------------------------------------- */

static const char *const RESP_CONFIG =
    "{\"aws-sns\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AKIDEXAMPLE\","
    "\"secretAccessKey\":\"" SECRET "\"},"
    "\"aws-ses\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AKIDEXAMPLE\","
    "\"secretAccessKey\":\"" SECRET "\",\"fromEmailAddress\":\"a@example.com\"},"
    "\"sendgrid\":{\"apiKey\":\"" SG_KEY "\",\"from\":{\"email\":\"a@example.com\"}}}";

static void check_responses(const char *provider)
{
    static const char *const secrets[] = {SECRET, SG_KEY, NULL};
    char why[4096];
    int n = golden_outbound_responses(provider, RESP_CONFIG, secrets, "2024-05-01T12:00:00Z", why,
                                      sizeof why);
    cr_assert_geq(n, 10, "%s", why);
}

Test(outbound_aws, responses_sns) { check_responses("aws-sns"); }
Test(outbound_aws, responses_ses) { check_responses("aws-ses"); }
Test(outbound_aws, responses_sendgrid) { check_responses("sendgrid"); }

/* A response body of invalid UTF-8 still gives a valid JSON result. */
Test(outbound_aws, responses_invalid_utf8)
{
    omni_outbound *ob = ob_new(RESP_CONFIG);
    static const char *const carriers[] = {"aws-sns", "aws-ses", "sendgrid"};
    static const char *const bodies[] = {
        "<Error><Code>Bad\xff</Code><Message>m\xc3(\xe2\x82</Message></Error>",
        "{\"message\":\"x\"}", "{\"errors\":[{\"message\":\"x\"}]}"};
    for (int i = 0; i < 3; i++) {
        omni_http_response *resp = NULL;
        cr_assert_eq(omni_http_response_new(&resp), OMNI_OK);
        omni_http_response_set_status(resp, 400);
        omni_http_response_set_body(resp, bodies[i], strlen(bodies[i]));
        if (i == 1)
            omni_http_response_add_header(resp, "x-amzn-ErrorType", "Odd\xfe\xfeName:x");
        if (i == 2)
            omni_http_response_add_header(resp, "X-Message-Id", "id\xff");
        char *out = NULL;
        size_t len;
        cr_assert_eq(omni_outbound_parse(&out, &len, ob, carriers[i], resp, NOW_MS), OMNI_OK);
        cJSON *j = cJSON_Parse(out);
        cr_assert(j, "%s", out);
        cJSON_Delete(j);
        omni_free(out);
        /* and a success with a bad id */
        omni_http_response_set_status(resp, i == 2 ? 202 : 200);
        const char *ok = i == 0 ? "<MessageId>a\xffz</MessageId>" : "{\"MessageId\":\"b\"}";
        omni_http_response_set_body(resp, ok, strlen(ok));
        cr_assert_eq(omni_outbound_parse(&out, &len, ob, carriers[i], resp, NOW_MS), OMNI_OK);
        j = cJSON_Parse(out);
        cr_assert(j, "%s", out);
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "success")), "%s", out);
        cJSON_Delete(j);
        omni_free(out);
        omni_http_response_free(resp);
    }
    omni_outbound_free(ob);
}

/* ---- configuration errors --------------------------------------------------------- */

static void config_fails(const char *config, const char *path)
{
    omni_outbound *ob = (omni_outbound *)1;
    int rc = omni_outbound_new(&ob, config, strlen(config));
    cr_assert_eq(rc, OMNI_ECONFIG, "%s -> %d %s", config, rc, omni_error_last_message());
    cr_assert_null(ob);
    const char *msg = omni_error_last_message();
    cr_assert(strstr(msg, path), "%s: message %s should name %s", config, msg, path);
    cr_assert_null(strstr(msg, "EXAMPLEKEY"), "%s", msg);
    cr_assert_null(strstr(msg, "sg-secret"), "%s", msg);
}

#define AWS_CRED "\"accessKeyId\":\"AKID\",\"secretAccessKey\":\"EXAMPLEKEY\""

Test(outbound_aws, config_errors_sns)
{
    config_fails("{\"aws-sns\":{" AWS_CRED "}}", "aws-sns.region");
    config_fails("{\"aws-sns\":{\"region\":\"US_EAST\"," AWS_CRED "}}", "aws-sns.region");
    config_fails("{\"aws-sns\":{\"region\":7," AWS_CRED "}}", "aws-sns.region");
    config_fails("{\"aws-sns\":{\"region\":\"us-east-1\",\"secretAccessKey\":\"EXAMPLEKEY\"}}",
                 "aws-sns.accessKeyId");
    config_fails("{\"aws-sns\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AK/EXAMPLEKEY\","
                 "\"secretAccessKey\":\"x\"}}",
                 "aws-sns.accessKeyId");
    config_fails("{\"aws-sns\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AKID\"}}",
                 "aws-sns.secretAccessKey");
    config_fails("{\"aws-sns\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AKID\","
                 "\"secretAccessKey\":{\"env\":\"OMNI_TEST_SURELY_UNSET_VAR\"}}}",
                 "OMNI_TEST_SURELY_UNSET_VAR");
    config_fails("{\"aws-sns\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AKID\","
                 "\"secretAccessKey\":\"EXAMPLEKEYEXAMPLEKEYEXAMPLEKEYEXAMPLEKEYEXAMPLEKEYEXAMPLE"
                 "KEYEXAMPLEKEYEXAMPLEKEYEXAMPLEKEYEXAMPLEKEYEXAMPLEKEYEXAMPLEKEYEXAMPLEKEY\"}}",
                 "aws-sns.secretAccessKey");
    config_fails("{\"aws-sns\":{\"region\":\"us-east-1\"," AWS_CRED ",\"sessionToken\":5}}",
                 "aws-sns.sessionToken");
    config_fails("{\"aws-sns\":{\"region\":\"us-east-1\"," AWS_CRED ",\"smsType\":\"Bulk\"}}",
                 "aws-sns.smsType");
    config_fails("{\"aws-sns\":{\"region\":\"us-east-1\"," AWS_CRED ",\"senderId\":\"12345\"}}",
                 "aws-sns.senderId");
    config_fails("{\"aws-sns\":{\"region\":\"us-east-1\"," AWS_CRED
                 ",\"senderId\":\"WAYTOOLONGNAME\"}}",
                 "aws-sns.senderId");
    config_fails("{\"aws-sns\":{\"region\":\"us-east-1\"," AWS_CRED
                 ",\"originationNumber\":\"4155550100\"}}",
                 "aws-sns.originationNumber");
    config_fails("{\"aws-sns\":{\"region\":\"us-east-1\"," AWS_CRED ",\"endpoint\":\"ftp://x\"}}",
                 "aws-sns.endpoint");
    config_fails("{\"aws-sns\":{\"region\":\"us-east-1\"," AWS_CRED ",\"topicArn\":\"x\"}}",
                 "aws-sns.topicArn");
}

Test(outbound_aws, config_errors_ses)
{
    config_fails("{\"aws-ses\":{\"region\":\"us-east-1\"," AWS_CRED "}}",
                 "aws-ses.fromEmailAddress");
    config_fails("{\"aws-ses\":{\"region\":\"us-east-1\"," AWS_CRED
                 ",\"fromEmailAddress\":\"nobody\"}}",
                 "aws-ses.fromEmailAddress");
    config_fails("{\"aws-ses\":{\"region\":\"us-east-1\"," AWS_CRED
                 ",\"fromEmailAddress\":\"a@b\\r\\nBcc: x@y\"}}",
                 "aws-ses.fromEmailAddress");
    config_fails("{\"aws-ses\":{\"region\":\"\"," AWS_CRED ",\"fromEmailAddress\":\"a@b\"}}",
                 "aws-ses.region");
    config_fails("{\"aws-ses\":{\"region\":\"us-east-1\",\"fromEmailAddress\":\"a@b\"}}",
                 "aws-ses.accessKeyId");
    config_fails("{\"aws-ses\":{\"region\":\"us-east-1\",\"accessKeyId\":\"A-B\","
                 "\"secretAccessKey\":\"EXAMPLEKEY\",\"fromEmailAddress\":\"a@b\"}}",
                 "aws-ses.accessKeyId");
    config_fails("{\"aws-ses\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AKID\","
                 "\"fromEmailAddress\":\"a@b\"}}",
                 "aws-ses.secretAccessKey");
    config_fails("{\"aws-ses\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AKID\","
                 "\"secretAccessKey\":\"" SECRET SECRET SECRET SECRET "\","
                 "\"fromEmailAddress\":\"a@b\"}}",
                 "aws-ses.secretAccessKey");
    config_fails("{\"aws-ses\":{\"region\":\"us-east-1\"," AWS_CRED
                 ",\"fromEmailAddress\":\"a@b\",\"sessionToken\":[]}}",
                 "aws-ses.sessionToken");
    config_fails("{\"aws-ses\":{\"region\":\"us-east-1\"," AWS_CRED
                 ",\"fromEmailAddress\":\"a@b\",\"configurationSetName\":\"\"}}",
                 "aws-ses.configurationSetName");
    config_fails("{\"aws-ses\":{\"region\":\"us-east-1\"," AWS_CRED
                 ",\"fromEmailAddress\":\"a@b\",\"endpoint\":\"email.example\"}}",
                 "aws-ses.endpoint");
    config_fails("{\"aws-ses\":{\"region\":\"us-east-1\"," AWS_CRED
                 ",\"fromEmailAddress\":\"a@b\",\"replyTo\":\"x\"}}",
                 "aws-ses.replyTo");
}

Test(outbound_aws, config_errors_sendgrid)
{
    config_fails("{\"sendgrid\":{\"from\":{\"email\":\"a@example.com\"}}}", "sendgrid.apiKey");
    config_fails("{\"sendgrid\":{\"apiKey\":\"sg-secret\\u00e9\",\"from\":{\"email\":\"a@b.c\"}}}",
                 "sendgrid.apiKey");
    config_fails("{\"sendgrid\":{\"apiKey\":\"sg-secret\"}}", "sendgrid.from");
    config_fails("{\"sendgrid\":{\"apiKey\":\"sg-secret\",\"from\":\"a@b.c\"}}", "sendgrid.from");
    config_fails("{\"sendgrid\":{\"apiKey\":\"sg-secret\",\"from\":{}}}", "sendgrid.from.email");
    config_fails("{\"sendgrid\":{\"apiKey\":\"sg-secret\",\"from\":{\"email\":\"nope\"}}}",
                 "sendgrid.from.email");
    config_fails("{\"sendgrid\":{\"apiKey\":\"sg-secret\",\"from\":{\"email\":\"a@b.c\","
                 "\"name\":3}}}",
                 "sendgrid.from.name");
    config_fails("{\"sendgrid\":{\"apiKey\":\"sg-secret\",\"from\":{\"email\":\"a@b.c\","
                 "\"nick\":\"x\"}}}",
                 "sendgrid.from.nick");
    config_fails("{\"sendgrid\":{\"apiKey\":\"sg-secret\",\"from\":{\"email\":\"a@b.c\"},"
                 "\"baseUrl\":\"api.sendgrid.com\"}}",
                 "sendgrid.baseUrl");
    config_fails("{\"sendgrid\":{\"apiKey\":\"sg-secret\",\"from\":{\"email\":\"a@b.c\"},"
                 "\"sandbox\":true}}",
                 "sendgrid.sandbox");
}

/* Secrets from the environment. */
Test(outbound_aws, config_env_secrets)
{
    setenv("OMNI_TEST_AWS_SECRET", SECRET, 1);
    setenv("OMNI_TEST_SG_KEY", SG_KEY, 1);
    omni_outbound *ob = ob_new(
        "{\"aws-sns\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AKIDEXAMPLE\","
        "\"secretAccessKey\":{\"env\":\"OMNI_TEST_AWS_SECRET\"}},"
        "\"sendgrid\":{\"apiKey\":{\"env\":\"OMNI_TEST_SG_KEY\"},\"from\":{\"email\":\"a@b.c\"}}}");
    const char *ev = "{\"recipient\":{\"channelIdentifier\":\"x@y.z\"},"
                     "\"message\":{\"subject\":\"s\",\"content\":\"c\"}}";
    omni_http_request *req = NULL;
    cr_assert_eq(omni_outbound_build(&req, ob, "sendgrid", ev, strlen(ev), NOW_MS), OMNI_OK);
    cr_assert_str_eq(omni_http_request_header(req, "Authorization"), "Bearer " SG_KEY);
    omni_http_request_free(req);
    ev = "{\"recipient\":{\"channelIdentifier\":\"+14155550100\"},\"message\":{\"content\":\"c\"}}";
    cr_assert_eq(omni_outbound_build(&req, ob, "aws-sns", ev, strlen(ev), NOW_MS), OMNI_OK);
    cr_assert(strstr(omni_http_request_header(req, "Authorization"), "AKIDEXAMPLE/20240501/"));
    omni_http_request_free(req);
    omni_outbound_free(ob);
}

/* ---- build errors ------------------------------------------------------------------- */

static const char *const BUILD_CONFIG =
    "{\"aws-sns\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AKIDEXAMPLE\","
    "\"secretAccessKey\":\"" SECRET "\",\"sessionToken\":\"TOKENSECRET\"},"
    "\"aws-ses\":{\"region\":\"us-east-1\",\"accessKeyId\":\"AKIDEXAMPLE\","
    "\"secretAccessKey\":\"" SECRET "\",\"fromEmailAddress\":\"a@example.com\"},"
    "\"sendgrid\":{\"apiKey\":\"" SG_KEY "\",\"from\":{\"email\":\"a@example.com\"}}}";

static void build_fails(const omni_outbound *ob, const char *carrier, const char *to,
                        const char *message, int want, const char *needle)
{
    char ev[8192];
    snprintf(ev, sizeof(ev),
             "{\"correlationId\":\"c1\",\"recipient\":{\"channelIdentifier\":\"%s\"},"
             "\"message\":%s}",
             to, message);
    omni_http_request *req = (omni_http_request *)1;
    int rc = omni_outbound_build(&req, ob, carrier, ev, strlen(ev), NOW_MS);
    cr_assert_eq(rc, want, "%s %s -> %d (%s)", carrier, message, rc, omni_error_last_message());
    cr_assert_null(req);
    const char *msg = omni_error_last_message();
    if (needle)
        cr_assert(strstr(msg, needle), "%s %s: message \"%s\" should name %s", carrier, message,
                  msg, needle);
    cr_assert_null(strstr(msg, SECRET));
    cr_assert_null(strstr(msg, SG_KEY));
    cr_assert_null(strstr(msg, "TOKENSECRET"));
}

Test(outbound_aws, build_errors_sns)
{
    omni_outbound *ob = ob_new(BUILD_CONFIG);
    const char *to = "+14155550100";
    build_fails(ob, "aws-sns", "4155550100", "{\"content\":\"x\"}", OMNI_EINVAL,
                "recipient.channelIdentifier");
    build_fails(ob, "aws-sns", "+1415555010012345", "{\"content\":\"x\"}", OMNI_EINVAL,
                "recipient.channelIdentifier");
    build_fails(ob, "aws-sns", "+1-415", "{\"content\":\"x\"}", OMNI_EINVAL,
                "recipient.channelIdentifier");
    build_fails(ob, "aws-sns", "+0415555", "{\"content\":\"x\"}", OMNI_EINVAL,
                "recipient.channelIdentifier");
    build_fails(ob, "aws-sns", "ada@example.com", "{\"content\":\"x\"}", OMNI_EINVAL,
                "recipient.channelIdentifier");
    build_fails(ob, "aws-sns", to, "{}", OMNI_EINVAL, "message.content");
    build_fails(ob, "aws-sns", to, "{\"content\":\"\"}", OMNI_EINVAL, "message.content");
    build_fails(ob, "aws-sns", to, "{\"content\":5}", OMNI_EINVAL, "message.content");
    build_fails(ob, "aws-sns", to, "{\"content\":\"x\",\"contentType\":\"media\"}", OMNI_EINVAL,
                "message.contentType");
    build_fails(ob, "aws-sns", to, "{\"content\":\"x\",\"contentType\":\"template\"}",
                OMNI_EINVAL, "message.contentType");
    build_fails(ob, "aws-sns", to, "{\"content\":\"x\",\"smsType\":\"bulk\"}", OMNI_EINVAL,
                "message.smsType");
    build_fails(ob, "aws-sns", to, "{\"content\":\"x\",\"smsType\":1}", OMNI_EINVAL,
                "message.smsType");
    build_fails(ob, "aws-sns", to, "{\"content\":\"x\",\"senderId\":\"a b\"}", OMNI_EINVAL,
                "message.senderId");
    build_fails(ob, "aws-sns", to, "{\"content\":\"x\",\"senderId\":false}", OMNI_EINVAL,
                "message.senderId");
    char big[1700 + 64];
    memset(big, 'a', sizeof(big));
    memcpy(big, "{\"content\":\"", 12);
    strcpy(big + 12 + 1601, "\"}");
    build_fails(ob, "aws-sns", to, big, OMNI_ETOOLARGE, "1600");
    /* exactly 1600 bytes pass */
    strcpy(big + 12 + 1600, "\"}");
    char ev[4096];
    snprintf(ev, sizeof(ev), "{\"recipient\":{\"channelIdentifier\":\"%s\"},\"message\":%s}", to,
             big);
    omni_http_request *req = NULL;
    cr_assert_eq(omni_outbound_build(&req, ob, "aws-sns", ev, strlen(ev), NOW_MS), OMNI_OK);
    cr_assert_str_eq(omni_http_request_header(req, "X-Amz-Security-Token"), "TOKENSECRET");
    omni_http_request_free(req);
    /* a time SigV4 cannot stamp */
    const char *ok = "{\"recipient\":{\"channelIdentifier\":\"+14155550100\"},"
                     "\"message\":{\"content\":\"x\"}}";
    req = (omni_http_request *)1;
    cr_assert_eq(omni_outbound_build(&req, ob, "aws-sns", ok, strlen(ok), -1000), OMNI_ETIME);
    cr_assert_null(req);
    omni_outbound_free(ob);
}

#define ATT(f) "{\"subject\":\"s\",\"content\":\"c\",\"attachments\":" f "}"

static void email_errors(const char *carrier)
{
    omni_outbound *ob = ob_new(BUILD_CONFIG);
    const char *to = "ada@example.com";
    static const char *const bad_to[] = {"ada", "@example.com", "ada@", "a@b@c", "a b@c.d",
                                         "<a@b.c>", "a@b.c,d@e.f", "\\u00e9@b.c", "+14155550100"};
    for (size_t i = 0; i < sizeof(bad_to) / sizeof(bad_to[0]); i++)
        build_fails(ob, carrier, bad_to[i], "{\"subject\":\"s\",\"content\":\"c\"}", OMNI_EINVAL,
                    "recipient.channelIdentifier");
    build_fails(ob, carrier, to, "{\"content\":\"c\"}", OMNI_EINVAL, "message.subject");
    build_fails(ob, carrier, to, "{\"subject\":\"\",\"content\":\"c\"}", OMNI_EINVAL,
                "message.subject");
    build_fails(ob, carrier, to, "{\"subject\":7,\"content\":\"c\"}", OMNI_EINVAL,
                "message.subject");
    build_fails(ob, carrier, to, "{\"subject\":\"a\\r\\nBcc: x@y.z\",\"content\":\"c\"}",
                OMNI_EINVAL, "message.subject");
    build_fails(ob, carrier, to, "{\"subject\":\"s\"}", OMNI_EINVAL, "message.text");
    build_fails(ob, carrier, to, "{\"subject\":\"s\",\"text\":\"\",\"html\":\"\"}", OMNI_EINVAL,
                "message.text");
    build_fails(ob, carrier, to, "{\"subject\":\"s\",\"text\":1}", OMNI_EINVAL, "message.text");
    build_fails(ob, carrier, to, "{\"subject\":\"s\",\"html\":[]}", OMNI_EINVAL, "message.html");
    build_fails(ob, carrier, to, "{\"subject\":\"s\",\"content\":{}}", OMNI_EINVAL,
                "message.content");
    build_fails(ob, carrier, to, "{\"subject\":\"s\",\"content\":\"c\",\"contentType\":\"x\"}",
                OMNI_EINVAL, "message.contentType");
    build_fails(ob, carrier, to, "{\"contentType\":\"template\"}", OMNI_EINVAL,
                "message.templateId");
    build_fails(ob, carrier, to, "{\"templateId\":\"\"}", OMNI_EINVAL, "message.templateId");
    build_fails(ob, carrier, to, "{\"templateId\":3}", OMNI_EINVAL, "message.templateId");
    build_fails(ob, carrier, to, "{\"templateId\":\"t\",\"templateParams\":[1]}", OMNI_EINVAL,
                "message.templateParams");
    build_fails(ob, carrier, to, ATT("{}"), OMNI_EINVAL, "message.attachments");
    build_fails(ob, carrier, to, ATT("[1]"), OMNI_EINVAL, "message.attachments[0]");
    build_fails(ob, carrier, to, ATT("[{\"contentBase64\":\"QQ==\"}]"), OMNI_EINVAL,
                "message.attachments[0].filename");
    build_fails(ob, carrier, to, ATT("[{\"filename\":\"a\\nb\",\"contentBase64\":\"QQ==\"}]"),
                OMNI_EINVAL, "message.attachments[0].filename");
    build_fails(ob, carrier, to, ATT("[{\"filename\":7,\"contentBase64\":\"QQ==\"}]"),
                OMNI_EINVAL, "message.attachments[0].filename");
    build_fails(ob, carrier, to, ATT("[{\"filename\":\"a\"}]"), OMNI_EINVAL,
                "message.attachments[0].contentBase64");
    build_fails(ob, carrier, to,
                ATT("[{\"filename\":\"a\",\"contentBase64\":\"QQ==\"},"
                    "{\"filename\":\"b\",\"contentBase64\":\"QQ=\"}]"),
                OMNI_EINVAL, "message.attachments[1].contentBase64");
    build_fails(ob, carrier, to, ATT("[{\"filename\":\"a\",\"contentBase64\":\"Q Q==\"}]"),
                OMNI_EINVAL, "message.attachments[0].contentBase64");
    build_fails(ob, carrier, to,
                ATT("[{\"filename\":\"a\",\"contentType\":\"pdf\",\"contentBase64\":\"QQ==\"}]"),
                OMNI_EINVAL, "message.attachments[0].contentType");
    build_fails(ob, carrier, to,
                ATT("[{\"filename\":\"a\",\"contentType\":\"a/b; x=\\\"y\\\"\","
                    "\"contentBase64\":\"QQ==\"}]"),
                OMNI_EINVAL, "message.attachments[0].contentType");
    char many[8192] = "[";
    for (int i = 0; i < 101; i++)
        strcat(many, i ? ",{}" : "{}");
    strcat(many, "]");
    char m[8300];
    snprintf(m, sizeof(m), ATT("%s"), many);
    build_fails(ob, carrier, to, m, OMNI_EINVAL, "message.attachments");
    omni_outbound_free(ob);
}

Test(outbound_aws, build_errors_ses)
{
    email_errors("aws-ses");
    omni_outbound *ob = ob_new(BUILD_CONFIG);
    const char *to = "ada@example.com";
    build_fails(ob, "aws-ses", to,
                "{\"templateId\":\"t\",\"attachments\":[{\"filename\":\"a\","
                "\"contentBase64\":\"QQ==\"}]}",
                OMNI_EINVAL, "message.attachments");
    build_fails(ob, "aws-ses", to,
                ATT("[{\"filename\":\"a\\\"b\",\"contentBase64\":\"QQ==\"}]"), OMNI_EINVAL,
                "message.attachments[0].filename");
    build_fails(ob, "aws-ses", to, ATT("[{\"filename\":\"caf\\u00e9\",\"contentBase64\":\"\"}]"),
                OMNI_EINVAL, "message.attachments[0].filename");
    char subj[1100];
    memset(subj, 'x', sizeof(subj));
    memcpy(subj, "{\"content\":\"c\",\"subject\":\"", 26);
    strcpy(subj + 26 + 999, "\"}");
    build_fails(ob, "aws-ses", to, subj, OMNI_EINVAL, "message.subject");
    omni_outbound_free(ob);
}

Test(outbound_aws, build_errors_sendgrid)
{
    email_errors("sendgrid");
    omni_outbound *ob = ob_new(BUILD_CONFIG);
    build_fails(ob, "sendgrid", "ada@example.com", "{\"templateId\":\"d-1\",\"subject\":5}",
                OMNI_EINVAL, "message.subject");
    /* correlationId of the wrong type */
    const char *ev = "{\"correlationId\":5,\"recipient\":{\"channelIdentifier\":\"a@b.c\"},"
                     "\"message\":{\"subject\":\"s\",\"content\":\"c\"}}";
    omni_http_request *req = (omni_http_request *)1;
    cr_assert_eq(omni_outbound_build(&req, ob, "sendgrid", ev, strlen(ev), NOW_MS), OMNI_EINVAL);
    cr_assert_null(req);
    cr_assert(strstr(omni_error_last_message(), "correlationId"));
    omni_outbound_free(ob);
}

/* A provider that is not configured, and the placeholder-free dispatch. */
Test(outbound_aws, unconfigured)
{
    omni_outbound *ob = ob_new("{\"sendgrid\":{\"apiKey\":\"" SG_KEY "\","
                               "\"from\":{\"email\":\"a@b.c\"}}}");
    const char *ev = "{\"recipient\":{\"channelIdentifier\":\"+14155550100\","
                     "\"carrier\":\"aws-sns\"},\"message\":{\"content\":\"x\"}}";
    omni_http_request *req = (omni_http_request *)1;
    cr_assert_eq(omni_outbound_build(&req, ob, NULL, ev, strlen(ev), NOW_MS), OMNI_ECONFIG);
    cr_assert_null(req);
    cr_assert_eq(omni_outbound_build(&req, ob, "aws-ses", ev, strlen(ev), NOW_MS), OMNI_ECONFIG);
    omni_http_response *resp = NULL;
    cr_assert_eq(omni_http_response_new(&resp), OMNI_OK);
    omni_http_response_set_status(resp, 200);
    char *out = NULL;
    size_t len;
    cr_assert_eq(omni_outbound_parse(&out, &len, ob, "aws-sns", resp, NOW_MS), OMNI_ECONFIG);
    cr_assert_eq(omni_outbound_parse(&out, &len, ob, "aws-ses", resp, NOW_MS), OMNI_ECONFIG);
    omni_http_response_free(resp);
    omni_outbound_free(ob);
}

/* The same event gives the same raw MIME (boundaries from correlationId), and
 * another correlationId gives other boundaries. */
Test(outbound_aws, ses_raw_deterministic)
{
    omni_outbound *ob = ob_new(BUILD_CONFIG);
    const char *fmt = "{\"correlationId\":\"%s\",\"recipient\":{\"channelIdentifier\":"
                      "\"a@b.c\"},\"message\":{\"subject\":\"s\",\"content\":\"c\","
                      "\"attachments\":[{\"filename\":\"f\",\"contentBase64\":\"QUJD\"}]}}";
    char ev[1024];
    char *bodies[3];
    const char *ids[3] = {"x1", "x1", "x2"};
    for (int i = 0; i < 3; i++) {
        snprintf(ev, sizeof(ev), fmt, ids[i]);
        omni_http_request *req = NULL;
        cr_assert_eq(omni_outbound_build(&req, ob, "aws-ses", ev, strlen(ev), NOW_MS + i),
                     OMNI_OK);
        bodies[i] = strdup(omni_http_request_body(req, NULL));
        omni_http_request_free(req);
    }
    cr_assert_str_eq(bodies[0], bodies[1]);
    cr_assert_str_neq(bodies[0], bodies[2]);
    for (int i = 0; i < 3; i++)
        free(bodies[i]);
    omni_outbound_free(ob);
}
