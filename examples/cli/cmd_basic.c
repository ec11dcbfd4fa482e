/* omni version | uuid5 | uuid7 | base64url */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_version(cli *c, int argc, char **argv)
{
    (void)c;
    (void)argv;
    if (argc > 1)
        return cli_usage_error("version takes no arguments");
    printf("{\"version\":\"%s\",\"versionNumber\":%d}\n", omni_version(), omni_version_number());
    return CLI_OK;
}

static const char *namespace_uuid(const char *name)
{
    static const struct {
        const char *name;
        const char *uuid;
    } known[] = {{"dns", OMNI_UUID_NS_DNS},
                 {"url", OMNI_UUID_NS_URL},
                 {"oid", OMNI_UUID_NS_OID},
                 {"x500", OMNI_UUID_NS_X500}};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(name, known[i].name) == 0)
            return known[i].uuid;
    return name;
}

int cmd_uuid5(cli *c, int argc, char **argv)
{
    (void)c;
    if (argc < 3)
        return cli_usage_error("usage: omni uuid5 NAMESPACE NAME...");
    const char *ns = namespace_uuid(argv[1]);
    for (int i = 2; i < argc; i++) {
        char out[OMNI_UUID_STRLEN];
        int rc = omni_uuid5(out, ns, argv[i], strlen(argv[i]));
        if (rc)
            return cli_fail(rc);
        cli_print_line(out, strlen(out));
    }
    return CLI_OK;
}

int cmd_uuid7(cli *c, int argc, char **argv)
{
    long count = 1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r = cli_opt(argc, argv, &i, "--count", &v);
        if (r < 0)
            return CLI_USAGE;
        if (r == 0)
            return cli_usage_error("unexpected argument \"%s\"", argv[i]);
        char *end;
        count = strtol(v, &end, 10);
        if (*end || !*v || count < 1 || count > 1000000)
            return cli_usage_error("--count must be an integer from 1 to 1000000");
    }
    omni_engine *e;
    int rc = cli_engine(c, &e);
    if (rc)
        return rc;
    for (long k = 0; k < count; k++) {
        char out[OMNI_UUID_STRLEN];
        rc = omni_uuid7(out, e);
        if (rc)
            return cli_fail(rc);
        cli_print_line(out, strlen(out));
    }
    return CLI_OK;
}

int cmd_base64url(cli *c, int argc, char **argv)
{
    (void)c;
    if (argc < 2 || argc > 3 ||
        (strcmp(argv[1], "encode") != 0 && strcmp(argv[1], "decode") != 0))
        return cli_usage_error("usage: omni base64url encode|decode [FILE]");
    char *in;
    size_t len;
    int rc = cli_read_input(argc == 3 ? argv[2] : NULL, CLI_MAX_INPUT, &in, &len);
    if (rc)
        return rc;
    if (strcmp(argv[1], "encode") == 0) {
        char *out;
        size_t out_len;
        rc = omni_base64url_encode(&out, &out_len, in, len);
        free(in);
        if (rc)
            return cli_fail(rc);
        cli_print_line(out, out_len);
        omni_free(out);
        return CLI_OK;
    }
    /* decode: ignore surrounding whitespace (a trailing newline from echo) */
    size_t start = 0, end = len;
    while (start < end && isspace((unsigned char)in[start]))
        start++;
    while (end > start && isspace((unsigned char)in[end - 1]))
        end--;
    uint8_t *out;
    size_t out_len;
    rc = omni_base64url_decode(&out, &out_len, in + start, end - start);
    free(in);
    if (rc)
        return cli_fail(rc);
    fwrite(out, 1, out_len, stdout);
    omni_free(out);
    return CLI_OK;
}
