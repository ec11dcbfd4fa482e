/* omni phone: phone numbers as written by people and carriers -> E.164. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cmd_phone_summary[] = "normalize phone numbers to E.164";
const char cmd_phone_usage[] =
    "usage: omni phone [--region CC] [NUMBER...]\n\n"
    "Normalizes each NUMBER, or each line of stdin when no NUMBER is given\n"
    "(blank lines are skipped), to E.164 and prints one JSON line per input:\n"
    "  {\"input\",\"e164\",\"countryCode\",\"region\",\"nationalNumber\",\"extension\"?}\n"
    "  {\"input\",\"error\":{\"code\",\"message\"}}\n"
    "--region CC is the ISO 3166-1 alpha-2 region of numbers written without a\n"
    "country code (\"(415) 555-0100\" needs --region US). Accepted: spaces,\n"
    "dashes, dots, parentheses, '+', international prefixes (00, 011, ...),\n"
    "trunk prefixes, tel:/whatsapp:/wa: prefixes, WhatsApp wa_id digits,\n"
    "extensions (\"x12\", \"ext. 12\", \";ext=12\").\n"
    "Exit 0 when every input parsed, 1 when any failed, 2 on usage errors.\n";

/* Writes s as a JSON string: invalid UTF-8 bytes become U+FFFD. */
static void put_json_string(const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    putchar('"');
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c == '"' || c == '\\') {
                putchar('\\');
                putchar(c);
            } else if (c < 0x20 || c == 0x7F) {
                printf("\\u00%c%c", hex[c >> 4], hex[c & 15]);
            } else {
                putchar(c);
            }
            i++;
            continue;
        }
        size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        if (k > 1 && i + k <= n && omni_utf8_validate(s + i, k, NULL) == OMNI_OK) {
            fwrite(s + i, 1, k, stdout);
            i += k;
        } else {
            fputs("\\ufffd", stdout);
            i++;
        }
    }
    putchar('"');
}

/* One input: prints its line; returns 1 when it failed. */
static int one(const char *in, size_t len, const char *region)
{
    char *json = NULL;
    size_t json_len = 0;
    int rc = omni_phone_parse(&json, &json_len, in, len, region);
    if (rc == OMNI_OK) {
        cli_print_json(json, json_len);
        omni_free(json);
        return 0;
    }
    fputs("{\"input\":", stdout);
    put_json_string(in, len);
    fputs(",\"error\":{\"code\":", stdout);
    const char *msg = omni_error_last_message();
    put_json_string(omni_status_code(rc), strlen(omni_status_code(rc)));
    fputs(",\"message\":", stdout);
    put_json_string(msg, strlen(msg));
    fputs("}}\n", stdout);
    return 1;
}

int cmd_phone(cli *c, int argc, char **argv)
{
    (void)c;
    const char *region = NULL;
    int first = argc, failed = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            first = i + 1;
            break;
        }
        int r = cli_opt(argc, argv, &i, "--region", &region);
        if (r < 0)
            return CLI_USAGE;
        if (r == 0) {
            if (argv[i][0] == '-' && argv[i][1] == '-')
                return cli_usage_error("unknown option \"%s\" for phone", argv[i]);
            first = i;
            break;
        }
    }
    if (region) {
        char out[OMNI_E164_STRLEN];
        if (omni_phone_to_e164(out, sizeof(out), "+12015550123", 12, region) == OMNI_EINVAL)
            return cli_usage_error("--region must be an ISO 3166-1 alpha-2 region code, such "
                                   "as US or DE");
    }
    if (first < argc) {
        /* options may not follow the numbers: "-1" could be a number's start */
        for (int i = first; i < argc; i++)
            failed |= one(argv[i], strlen(argv[i]), region);
        return failed ? CLI_FAIL : CLI_OK;
    }
    char *in;
    size_t len;
    int rc = cli_read_input(NULL, CLI_MAX_INPUT, &in, &len);
    if (rc)
        return rc;
    size_t start = 0;
    while (start < len) {
        size_t end = start;
        while (end < len && in[end] != '\n')
            end++;
        size_t stop = end;
        if (stop > start && in[stop - 1] == '\r')
            stop--;
        size_t k = start;
        while (k < stop && (in[k] == ' ' || in[k] == '\t'))
            k++;
        if (k < stop)
            failed |= one(in + start, stop - start, region);
        start = end + 1;
    }
    free(in);
    return failed ? CLI_FAIL : CLI_OK;
}
