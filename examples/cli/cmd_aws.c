/* omni aws sign | presign — AWS Signature Version 4 (omni/aws.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cmd_aws_summary[] = "sign an HTTP request or presign a URL with AWS SigV4";
const char cmd_aws_usage[] =
    "usage: omni aws sign --region R --service S [--s3] [--unsigned-payload]\n"
    "                     [--access-key K --secret-key S [--session-token T]] [REQUEST]\n"
    "       omni aws presign --region R --service S --expires N\n"
    "                     [--access-key K --secret-key S [--session-token T]] METHOD URL\n"
    "\n"
    "sign: reads an HTTP request in its JSON form ({\"method\",\"url\",\"headers\",\n"
    "\"body\"|\"bodyBase64\"}) from REQUEST or stdin, signs it with AWS Signature\n"
    "Version 4 (adding Host, X-Amz-Date unless present, X-Amz-Security-Token,\n"
    "X-Amz-Content-Sha256 with --s3 / --unsigned-payload, and Authorization) and\n"
    "prints the signed request as JSON.\n"
    "  --s3                S3 rules (path encoded once, x-amz-content-sha256 added)\n"
    "  --unsigned-payload  x-amz-content-sha256: UNSIGNED-PAYLOAD\n"
    "\n"
    "presign: prints a presigned URL (query-string authentication) valid for N\n"
    "seconds (1..604800); service s3 uses S3's rules and UNSIGNED-PAYLOAD.\n"
    "\n"
    "Credentials: --access-key / --secret-key / --session-token, else the\n"
    "environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (optional)\n"
    "AWS_SESSION_TOKEN (preferred: arguments are visible to other users of the\n"
    "machine through the process list). Secrets are never printed. The time is\n"
    "the clock's (--now RFC3339 pins it); a request's own X-Amz-Date header wins.\n";

typedef struct aws_args {
    const char *region;
    const char *service;
    const char *expires;
    const char *access_key, *secret_key, *session_token;
    int s3;
    int unsigned_payload;
    const char *pos[3];
    int npos;
} aws_args;

static int parse_args(int argc, char **argv, aws_args *a, int presign)
{
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = cli_opt(argc, argv, &i, "--region", &a->region)) ||
            (r = cli_opt(argc, argv, &i, "--service", &a->service)) ||
            (r = cli_opt(argc, argv, &i, "--access-key", &a->access_key)) ||
            (r = cli_opt(argc, argv, &i, "--secret-key", &a->secret_key)) ||
            (r = cli_opt(argc, argv, &i, "--session-token", &a->session_token)) ||
            (presign && (r = cli_opt(argc, argv, &i, "--expires", &a->expires)))) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (!presign && strcmp(argv[i], "--s3") == 0) {
            a->s3 = 1;
            continue;
        }
        if (!presign && strcmp(argv[i], "--unsigned-payload") == 0) {
            a->unsigned_payload = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("unknown option \"%s\" for aws %s", argv[i], argv[1]);
        if (a->npos >= (presign ? 2 : 1))
            return cli_usage_error(presign ? "aws presign takes METHOD and URL"
                                           : "aws sign takes at most one request file");
        a->pos[a->npos++] = argv[i];
    }
    if (!a->region)
        return cli_usage_error("--region is required");
    if (!a->service)
        return cli_usage_error("--service is required");
    if (presign && !a->expires)
        return cli_usage_error("--expires is required (seconds, 1..604800)");
    if (presign && a->npos != 2)
        return cli_usage_error("aws presign takes METHOD and URL");
    return CLI_OK;
}

/* Credentials from the options, else from the environment. */
static int env_credentials(omni_aws_credentials *cred, const aws_args *a)
{
    *cred = (omni_aws_credentials)OMNI_AWS_CREDENTIALS_INIT;
    if (a->access_key || a->secret_key) {
        if (!a->access_key || !a->secret_key)
            return cli_usage_error("--access-key and --secret-key go together");
        cred->access_key_id = a->access_key;
        cred->secret_access_key = a->secret_key;
        cred->session_token = a->session_token && *a->session_token ? a->session_token : NULL;
        return CLI_OK;
    }
    cred->access_key_id = getenv("AWS_ACCESS_KEY_ID");
    cred->secret_access_key = getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = a->session_token ? a->session_token : getenv("AWS_SESSION_TOKEN");
    cred->session_token = token && *token ? token : NULL;
    if (!cred->access_key_id || !*cred->access_key_id)
        return cli_usage_error("AWS_ACCESS_KEY_ID is not set");
    if (!cred->secret_access_key || !*cred->secret_access_key)
        return cli_usage_error("AWS_SECRET_ACCESS_KEY is not set");
    return CLI_OK;
}

static int aws_now(cli *c, int64_t *now)
{
    omni_engine *e;
    int rc = cli_engine(c, &e);
    if (rc)
        return rc;
    *now = omni_engine_now_ms(e);
    return CLI_OK;
}

static int aws_sign(cli *c, const aws_args *a)
{
    omni_aws_credentials cred;
    int rc = env_credentials(&cred, a);
    if (rc)
        return rc;
    int64_t now;
    if ((rc = aws_now(c, &now)) != 0)
        return rc;
    char *text;
    size_t len;
    rc = cli_read_input(a->npos ? a->pos[0] : NULL, CLI_MAX_INPUT, &text, &len);
    if (rc)
        return rc;
    omni_http_request *req;
    int st = omni_http_request_from_json(&req, text, len);
    free(text);
    if (st)
        return cli_fail(st);
    unsigned flags = (a->s3 ? OMNI_AWS_SIGV4_S3 : 0u) |
                     (a->unsigned_payload ? OMNI_AWS_SIGV4_UNSIGNED_PAYLOAD : 0u);
    st = omni_aws_sigv4_sign(req, &cred, a->region, a->service, now, flags);
    char *out = NULL;
    size_t out_len = 0;
    if (!st)
        st = omni_http_request_to_json(&out, &out_len, req);
    omni_http_request_free(req);
    if (st)
        return cli_fail(st);
    cli_print_json(out, out_len);
    omni_free(out);
    return CLI_OK;
}

static int aws_presign(cli *c, const aws_args *a)
{
    char *end;
    errno = 0;
    unsigned long expires = strtoul(a->expires, &end, 10);
    if (errno || *end || !*a->expires || a->expires[0] == '-' || expires < 1 ||
        expires > 604800)
        return cli_usage_error("--expires must be 1..604800 seconds");
    omni_aws_credentials cred;
    int rc = env_credentials(&cred, a);
    if (rc)
        return rc;
    int64_t now;
    if ((rc = aws_now(c, &now)) != 0)
        return rc;
    char *out = NULL;
    size_t out_len = 0;
    int st = omni_aws_sigv4_presign(&out, &out_len, a->pos[0], a->pos[1], &cred, a->region,
                                    a->service, now, (uint32_t)expires);
    if (st)
        return cli_fail(st);
    cli_print_line(out, out_len);
    omni_free(out);
    return CLI_OK;
}

int cmd_aws(cli *c, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("usage: omni aws sign|presign ... (see omni aws --help)");
    aws_args a;
    memset(&a, 0, sizeof(a));
    if (strcmp(argv[1], "sign") == 0) {
        int rc = parse_args(argc, argv, &a, 0);
        return rc ? rc : aws_sign(c, &a);
    }
    if (strcmp(argv[1], "presign") == 0) {
        int rc = parse_args(argc, argv, &a, 1);
        return rc ? rc : aws_presign(c, &a);
    }
    return cli_usage_error("unknown aws command \"%s\" (sign, presign)", argv[1]);
}
