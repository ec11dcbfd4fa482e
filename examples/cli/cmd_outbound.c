/* omni outbound build | parse — the outbound carrier adapters (omni/outbound.h). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cmd_outbound_summary[] = "build a carrier's send request, or read its response";
const char cmd_outbound_usage[] =
    "usage: omni outbound build --config CONFIG [--carrier NAME] [EVENT]\n"
    "       omni outbound parse --config CONFIG --carrier NAME [RESPONSE]\n"
    "\n"
    "build: reads a PublishOutboundEvent (EVENT file or stdin) and prints the\n"
    "HTTP request the provider's API takes, as JSON {\"method\",\"url\",\n"
    "\"headers\",\"body\"|\"bodyBase64\"}. The carrier is --carrier, else the\n"
    "event's recipient.carrier. Nothing is sent.\n"
    "parse: reads a provider's HTTP response in JSON form ({\"status\",\n"
    "\"headers\",\"body\"}) and prints the result {success, carrierMessageId,\n"
    "status, cost, error {code, message, retryable}, retryAfterMs}.\n"
    "\n"
    "CONFIG is the providers' configuration (see omni/outbound.h); secrets in it\n"
    "may be {\"env\": \"NAME\"}. They never appear in any output. --now pins the\n"
    "clock (request signatures, Retry-After dates).\n";

typedef struct ob_args {
    const char *config, *carrier, *input;
} ob_args;

static int parse_args(int argc, char **argv, ob_args *a)
{
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = cli_opt(argc, argv, &i, "--config", &a->config)) ||
            (r = cli_opt(argc, argv, &i, "--carrier", &a->carrier))) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("unknown option \"%s\" for outbound %s", argv[i], argv[1]);
        if (a->input)
            return cli_usage_error("outbound %s takes at most one input file", argv[1]);
        a->input = argv[i];
    }
    if (!a->config)
        return cli_usage_error("--config is required");
    return CLI_OK;
}

static int load_config(const char *path, omni_outbound **ob)
{
    char *text;
    size_t len;
    int rc = cli_read_input(path, CLI_MAX_INPUT, &text, &len);
    if (rc)
        return rc;
    int st = omni_outbound_new(ob, text, len);
    free(text);
    return st ? cli_fail(st) : CLI_OK;
}

static int ob_build(cli *c, const ob_args *a, omni_outbound *ob)
{
    omni_engine *e;
    int rc = cli_engine(c, &e);
    if (rc)
        return rc;
    char *text;
    size_t len;
    if ((rc = cli_read_input(a->input, CLI_MAX_INPUT, &text, &len)))
        return rc;
    omni_http_request *req;
    int st = omni_outbound_build(&req, ob, a->carrier, text, len, omni_engine_now_ms(e));
    free(text);
    if (st)
        return cli_fail(st);
    char *out;
    size_t n;
    st = omni_http_request_to_json(&out, &n, req);
    omni_http_request_free(req);
    if (st)
        return cli_fail(st);
    cli_print_json(out, n);
    omni_free(out);
    return CLI_OK;
}

static int ob_parse(cli *c, const ob_args *a, omni_outbound *ob)
{
    if (!a->carrier)
        return cli_usage_error("outbound parse needs --carrier");
    omni_engine *e;
    int rc = cli_engine(c, &e);
    if (rc)
        return rc;
    char *text;
    size_t len;
    if ((rc = cli_read_input(a->input, CLI_MAX_INPUT, &text, &len)))
        return rc;
    omni_http_response *resp;
    int st = omni_http_response_from_json(&resp, text, len);
    free(text);
    if (st)
        return cli_fail(st);
    char *out;
    size_t n;
    st = omni_outbound_parse(&out, &n, ob, a->carrier, resp, omni_engine_now_ms(e));
    omni_http_response_free(resp);
    if (st)
        return cli_fail(st);
    cli_print_json(out, n);
    omni_free(out);
    return CLI_OK;
}

int cmd_outbound(cli *c, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("usage: omni outbound build|parse ... (see omni outbound --help)");
    int build = strcmp(argv[1], "build") == 0;
    if (!build && strcmp(argv[1], "parse") != 0)
        return cli_usage_error("unknown outbound subcommand \"%s\"", argv[1]);
    ob_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    omni_outbound *ob;
    if ((rc = load_config(a.config, &ob)))
        return rc;
    rc = build ? ob_build(c, &a, ob) : ob_parse(c, &a, ob);
    omni_outbound_free(ob);
    return rc;
}
