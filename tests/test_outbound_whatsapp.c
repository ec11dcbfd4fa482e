/* Outbound adapter "whatsapp" (Cloud API): golden requests (tests/data/outbound/whatsapp/
 * <case>.json, written from the Cloud API Messages reference: POST /{version}/
 * {phone-number-id}/messages with Bearer auth; text, templates (object, positional and named
 * parameters), image/document/audio/video/sticker by link or id, interactive buttons and
 * lists, reply context), the response -> result table (responses.json: success, every mapped
 * Graph API error code, 429 / Retry-After, 5xx, non-JSON bodies), the 24-hour window refusal,
 * and every error path of configuration and build without secrets in errors or results. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <omni/omni.h>


#define PROVIDER "whatsapp"
#define SECRET "EAAG-wa-secret-access-token"
#include "outbound_golden.inc"

static const char *const base_cfg =
    "{\"whatsapp\":{\"accessToken\":\"" SECRET "\",\"phoneNumberId\":\"106540352242922\"}}";

Test(outbound_whatsapp, golden_requests)
{
    int n = run_goldens();
    cr_assert_geq(n, 14, "only %d golden cases", n);
}

Test(outbound_whatsapp, responses)
{
    int n = run_responses(base_cfg);
    cr_assert_geq(n, 24);
}

Test(outbound_whatsapp, config_errors)
{
    static const struct {
        const char *json, *path;
    } cases[] = {
        {"{\"whatsapp\":{\"phoneNumberId\":\"1\"}}", "whatsapp.accessToken"},
        {"{\"whatsapp\":{\"accessToken\":\"" SECRET "\"}}", "whatsapp.phoneNumberId"},
        {"{\"whatsapp\":{\"accessToken\":\"" SECRET "\",\"phoneNumberId\":\"12a\"}}",
         "whatsapp.phoneNumberId"},
        {"{\"whatsapp\":{\"accessToken\":\"" SECRET "\",\"phoneNumberId\":12}}",
         "whatsapp.phoneNumberId"},
        {"{\"whatsapp\":{\"accessToken\":\"" SECRET "\",\"phoneNumberId\":\"1\","
         "\"apiVersion\":\"21.0\"}}",
         "whatsapp.apiVersion"},
        {"{\"whatsapp\":{\"accessToken\":\"" SECRET "\",\"phoneNumberId\":\"1\","
         "\"apiVersion\":\"v21.\"}}",
         "whatsapp.apiVersion"},
        {"{\"whatsapp\":{\"accessToken\":\"" SECRET "\",\"phoneNumberId\":\"1\","
         "\"baseUrl\":\"graph.facebook.com\"}}",
         "whatsapp.baseUrl"},
        {"{\"whatsapp\":{\"accessToken\":\"" SECRET "\",\"phoneNumberId\":\"1\",\"token\":\"x\"}}",
         "whatsapp.token"},
        {"{\"whatsapp\":{\"accessToken\":[],\"phoneNumberId\":\"1\"}}", "whatsapp.accessToken"},
        {"{\"whatsapp\":{\"accessToken\":{\"env\":\"OMNI_TEST_NO_SUCH_WA_VAR\"},"
         "\"phoneNumberId\":\"1\"}}",
         "whatsapp.accessToken"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        omni_outbound *ob = (omni_outbound *)1;
        int rc = omni_outbound_new(&ob, cases[i].json, strlen(cases[i].json));
        cr_assert_eq(rc, OMNI_ECONFIG, "case %zu: %d", i, rc);
        cr_assert_null(ob);
        expect_path(cases[i].path);
        cr_assert_null(strstr(omni_error_last_message(), SECRET), "case %zu leaks", i);
    }
}

#define TO "\"recipient\":{\"channelIdentifier\":\"+14155550100\",\"carrier\":\"whatsapp\"}"

static int build(omni_outbound *ob, const char *event, omni_http_request **req)
{
    *req = NULL;
    return omni_outbound_build(req, ob, NULL, event, strlen(event), 0);
}

Test(outbound_whatsapp, build_errors)
{
    static const struct {
        const char *event, *needle;
    } cases[] = {
        {"{" TO ",\"message\":{}}", "message.content"},
        {"{" TO ",\"message\":{\"content\":7}}", "message.content"},
        {"{" TO ",\"message\":{\"content\":\"x\",\"previewUrl\":\"yes\"}}", "message.previewUrl"},
        {"{" TO ",\"message\":{\"content\":\"x\",\"replyTo\":5}}", "message.replyTo"},
        {"{" TO ",\"message\":{\"contentType\":\"location\"}}", "message.contentType"},
        {"{\"recipient\":{\"channelIdentifier\":\"ada@example.com\",\"carrier\":\"whatsapp\"},"
         "\"message\":{\"content\":\"x\"}}",
         "recipient.channelIdentifier"},
        {"{\"recipient\":{\"channelIdentifier\":\"+\",\"carrier\":\"whatsapp\"},"
         "\"message\":{\"content\":\"x\"}}",
         "recipient.channelIdentifier"},
        {"{\"recipient\":{\"channelIdentifier\":\"+123456789012345678901\",\"carrier\":"
         "\"whatsapp\"},\"message\":{\"content\":\"x\"}}",
         "recipient.channelIdentifier"},
        /* templates */
        {"{" TO ",\"message\":{\"contentType\":\"template\"}}", "message.templateId"},
        {"{" TO ",\"message\":{\"contentType\":\"template\",\"template\":\"x\"}}",
         "message.template"},
        {"{" TO ",\"message\":{\"contentType\":\"template\",\"template\":{\"language\":\"en\"}}}",
         "message.template.name"},
        {"{" TO ",\"message\":{\"contentType\":\"template\",\"template\":{\"name\":\"a\"}}}",
         "message.template.language"},
        {"{" TO ",\"message\":{\"contentType\":\"template\",\"template\":{\"name\":\"a\","
         "\"language\":{\"code\":1}}}}",
         "message.template.language"},
        {"{" TO ",\"message\":{\"contentType\":\"template\",\"template\":{\"name\":\"a\","
         "\"language\":\"en\",\"components\":{}}}}",
         "message.template.components"},
        {"{" TO ",\"message\":{\"contentType\":\"template\",\"template\":{\"name\":\"a\","
         "\"language\":\"en\",\"components\":[1]}}}",
         "message.template.components"},
        {"{" TO ",\"message\":{\"contentType\":\"template\",\"templateId\":\"a\","
         "\"templateParams\":\"x\"}}",
         "message.templateParams"},
        {"{" TO ",\"message\":{\"contentType\":\"template\",\"templateId\":\"a\","
         "\"templateParams\":[true]}}",
         "message.templateParams"},
        {"{" TO ",\"message\":{\"contentType\":\"template\",\"templateId\":\"a\","
         "\"language\":3}}",
         "message.language"},
        /* media */
        {"{" TO ",\"message\":{\"contentType\":\"media\"}}", "message.mediaUrls"},
        {"{" TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[\"https://a\","
         "\"https://b\"]}}",
         "message.mediaUrls"},
        {"{" TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[\"https://a\"],"
         "\"mediaType\":\"gif\"}}",
         "message.mediaType"},
        {"{" TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[\"file:///etc/x\"]}}",
         "link"},
        {"{" TO ",\"message\":{\"contentType\":\"media\",\"media\":[]}}", "message.media"},
        {"{" TO ",\"message\":{\"contentType\":\"media\",\"media\":{\"link\":\"https://a\"}}}",
         "message.media.type"},
        {"{" TO ",\"message\":{\"contentType\":\"media\",\"media\":{\"type\":\"image\"}}}",
         "message.media"},
        {"{" TO ",\"message\":{\"contentType\":\"media\",\"media\":{\"type\":\"image\","
         "\"link\":\"https://a\",\"id\":\"1\"}}}",
         "message.media"},
        {"{" TO ",\"message\":{\"contentType\":\"media\",\"media\":{\"type\":\"audio\","
         "\"id\":\"1\",\"caption\":\"c\"}}}",
         "caption"},
        {"{" TO ",\"message\":{\"contentType\":\"media\",\"media\":{\"type\":\"image\","
         "\"id\":\"1\",\"filename\":\"a.png\"}}}",
         "filename"},
        /* interactive */
        {"{" TO ",\"message\":{\"contentType\":\"interactive\",\"buttons\":[\"a\"]}}",
         "message.content"},
        {"{" TO ",\"message\":{\"contentType\":\"interactive\",\"content\":\"x\"}}",
         "message.buttons"},
        {"{" TO ",\"message\":{\"contentType\":\"interactive\",\"content\":\"x\","
         "\"buttons\":[\"a\",\"b\",\"c\",\"d\"]}}",
         "message.buttons"},
        {"{" TO ",\"message\":{\"contentType\":\"interactive\",\"content\":\"x\","
         "\"buttons\":[]}}",
         "message.buttons"},
        {"{" TO ",\"message\":{\"contentType\":\"interactive\",\"content\":\"x\","
         "\"buttons\":[{\"id\":\"a\"}]}}",
         "message.buttons[]"},
        {"{" TO ",\"message\":{\"contentType\":\"interactive\",\"content\":\"x\","
         "\"buttons\":[3]}}",
         "message.buttons[]"},
        {"{" TO ",\"message\":{\"contentType\":\"interactive\",\"content\":\"x\","
         "\"sections\":[{\"rows\":[\"a\"]}]}}",
         "message.buttonText"},
        {"{" TO ",\"message\":{\"contentType\":\"interactive\",\"content\":\"x\","
         "\"buttonText\":\"b\",\"sections\":[{\"rows\":[]}]}}",
         "message.sections[].rows"},
        {"{" TO ",\"message\":{\"contentType\":\"interactive\",\"content\":\"x\","
         "\"buttonText\":\"b\",\"sections\":[1]}}",
         "message.sections[]"},
        {"{" TO ",\"message\":{\"contentType\":\"interactive\",\"content\":\"x\","
         "\"buttonText\":\"b\",\"sections\":[{\"rows\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\"]},"
         "{\"rows\":[\"7\",\"8\",\"9\",\"10\",\"11\"]}]}}",
         "message.sections"},
        {"{" TO ",\"message\":{\"contentType\":\"interactive\",\"content\":\"x\","
         "\"buttonText\":\"b\",\"sections\":[{\"rows\":[{\"id\":\"1\",\"title\":\"t\","
         "\"description\":2}]}]}}",
         "description"},
        {"{" TO ",\"message\":{\"contentType\":\"interactive\",\"content\":\"x\","
         "\"buttons\":[\"a\"],\"sections\":[]}}",
         "message.buttons"},
        {"{" TO ",\"message\":{\"contentType\":\"interactive\",\"content\":\"x\","
         "\"header\":1,\"buttons\":[\"a\"]}}",
         "message.header"},
    };
    omni_outbound *ob = NULL;
    cr_assert_eq(omni_outbound_new(&ob, base_cfg, strlen(base_cfg)), OMNI_OK);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        omni_http_request *req = NULL;
        int rc = build(ob, cases[i].event, &req);
        cr_assert_eq(rc, OMNI_EINVAL, "case %zu: %d (%s)", i, rc, omni_error_last_message());
        cr_assert_null(req);
        cr_assert_not_null(strstr(omni_error_last_message(), cases[i].needle),
                           "case %zu: %s", i, omni_error_last_message());
        cr_assert_null(strstr(omni_error_last_message(), SECRET));
    }
    omni_outbound_free(ob);
}

/* Outside the customer's 24-hour window only templates pass (the golden
 * template_object case is sent with the window closed). */
Test(outbound_whatsapp, window_closed)
{
    static const char *const refused[] = {
        "{" TO ",\"message\":{\"content\":\"hi\"},\"serviceWindow\":{\"open\":false}}",
        "{" TO ",\"message\":{\"contentType\":\"media\",\"mediaUrls\":[\"https://a\"]},"
        "\"serviceWindow\":{\"open\":false}}",
        "{" TO ",\"message\":{\"contentType\":\"interactive\",\"content\":\"x\","
        "\"buttons\":[\"a\"]},\"serviceWindow\":{\"open\":false}}",
    };
    omni_outbound *ob = NULL;
    cr_assert_eq(omni_outbound_new(&ob, base_cfg, strlen(base_cfg)), OMNI_OK);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        omni_http_request *req = NULL;
        cr_assert_eq(build(ob, refused[i], &req), OMNI_EWINDOW, "case %zu", i);
        cr_assert_null(req);
        cr_assert_str_eq(omni_error_last_code(), "SERVICE_WINDOW_CLOSED");
        cr_assert_not_null(strstr(omni_error_last_message(), "template"));
    }
    omni_http_request *req = NULL;
    const char *tpl = "{" TO ",\"message\":{\"contentType\":\"template\",\"templateId\":\"hi\"},"
                      "\"serviceWindow\":{\"open\":false}}";
    cr_assert_eq(build(ob, tpl, &req), OMNI_OK);
    omni_http_request_free(req);
    const char *open =
        "{" TO ",\"message\":{\"content\":\"hi\"},\"serviceWindow\":{\"open\":true}}";
    cr_assert_eq(build(ob, open, &req), OMNI_OK);
    omni_http_request_free(req);
    const char *unknown = "{" TO ",\"message\":{\"content\":\"hi\"},\"serviceWindow\":{}}";
    cr_assert_eq(build(ob, unknown, &req), OMNI_OK);
    omni_http_request_free(req);
    omni_outbound_free(ob);
}

Test(outbound_whatsapp, env_token_and_unconfigured)
{
    setenv("OMNI_TEST_WA_TOKEN", SECRET, 1);
    const char *cfg = "{\"whatsapp\":{\"accessToken\":{\"env\":\"OMNI_TEST_WA_TOKEN\"},"
                      "\"phoneNumberId\":\"7\"}}";
    omni_outbound *ob = NULL;
    cr_assert_eq(omni_outbound_new(&ob, cfg, strlen(cfg)), OMNI_OK);
    omni_http_request *req = NULL;
    const char *ev = "{" TO ",\"message\":{\"content\":\"hi\"}}";
    cr_assert_eq(build(ob, ev, &req), OMNI_OK);
    cr_assert_str_eq(omni_http_request_header(req, "Authorization"), "Bearer " SECRET);
    cr_assert_str_eq(omni_http_request_url(req), "https://graph.facebook.com/v21.0/7/messages");
    omni_http_request_free(req);
    cr_assert_eq(omni_outbound_build(&req, ob, "twilio", ev, strlen(ev), 0), OMNI_ECONFIG);
    char *out = NULL;
    size_t n = 0;
    omni_http_response *resp = NULL;
    cr_assert_eq(omni_http_response_new(&resp), OMNI_OK);
    cr_assert_eq(omni_http_response_set_status(resp, 200), OMNI_OK);
    cr_assert_eq(omni_outbound_parse(&out, &n, ob, "twilio", resp, 0), OMNI_ECONFIG);
    cr_assert_eq(omni_outbound_parse(&out, &n, ob, "whatsapp", resp, 0), OMNI_OK);
    cr_assert_null(strstr(out, SECRET));
    omni_free(out);
    omni_http_response_free(resp);
    omni_outbound_free(ob);
    unsetenv("OMNI_TEST_WA_TOKEN");
}
