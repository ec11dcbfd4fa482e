/* omni webpush encrypt | decrypt | keypair | vapid — Web Push message
 * encryption (RFC 8291) and VAPID (RFC 8292) (omni/push.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cmd_webpush_summary[] = "Web Push message encryption (RFC 8291) and VAPID headers";
const char cmd_webpush_usage[] =
    "usage: omni webpush encrypt --ua-public B64URL --auth-secret B64URL [--salt B64URL]\n"
    "                            [--sender-private B64URL] [--record-size N] [PLAINTEXT_FILE]\n"
    "       omni webpush decrypt --ua-private B64URL --auth-secret B64URL [BODY_B64URL_FILE]\n"
    "       omni webpush keypair\n"
    "       omni webpush vapid --endpoint URL --subject mailto:...|https:... --private-key B64URL\n"
    "                          [--expires S]\n"
    "\n"
    "encrypt: reads the plaintext (bytes, at most 3993 with the default record size)\n"
    "from PLAINTEXT_FILE or stdin and prints the aes128gcm body (RFC 8188) as one\n"
    "line of base64url. --ua-public is the subscription's keys.p256dh (65 bytes),\n"
    "--auth-secret its keys.auth (16 bytes). --salt (16 bytes) and --sender-private\n"
    "(32 bytes) are only for reproducible output (tests, RFC 8291 Appendix A): every\n"
    "real message needs a fresh salt and key pair, which is the default.\n"
    "--record-size: 18..2147483647 (default 4096).\n"
    "\n"
    "decrypt: reads a base64url aes128gcm body and writes the plaintext bytes to\n"
    "stdout as they are (no newline added); the user agent's side.\n"
    "\n"
    "keypair: prints a new P-256 key pair {\"publicKey\",\"privateKey\"} (base64url,\n"
    "65 and 32 bytes): a VAPID application server key (--seed makes it reproducible).\n"
    "\n"
    "vapid: prints the Authorization header value \"vapid t=<JWT>, k=<public key>\"\n"
    "for a push endpoint: aud is the endpoint's origin, exp the clock (--now pins\n"
    "it) plus --expires seconds (1..86400, default 43200), sub the --subject.\n"
    "Keys are never printed in error messages.\n";

typedef struct wp_args {
    const char *ua_public, *ua_private, *auth, *salt, *sender_private, *record_size;
    const char *endpoint, *subject, *private_key, *expires;
    const char *pos[2];
    int npos;
} wp_args;

static int parse_args(int argc, char **argv, wp_args *a)
{
    for (int i = 2; i < argc; i++) {
        int r;
        if ((r = cli_opt(argc, argv, &i, "--ua-public", &a->ua_public)) ||
            (r = cli_opt(argc, argv, &i, "--ua-private", &a->ua_private)) ||
            (r = cli_opt(argc, argv, &i, "--auth-secret", &a->auth)) ||
            (r = cli_opt(argc, argv, &i, "--salt", &a->salt)) ||
            (r = cli_opt(argc, argv, &i, "--sender-private", &a->sender_private)) ||
            (r = cli_opt(argc, argv, &i, "--record-size", &a->record_size)) ||
            (r = cli_opt(argc, argv, &i, "--endpoint", &a->endpoint)) ||
            (r = cli_opt(argc, argv, &i, "--subject", &a->subject)) ||
            (r = cli_opt(argc, argv, &i, "--private-key", &a->private_key)) ||
            (r = cli_opt(argc, argv, &i, "--expires", &a->expires))) {
            if (r < 0)
                return CLI_USAGE;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error("unknown option \"%s\" for webpush %s", argv[i], argv[1]);
        if (a->npos == 2)
            return cli_usage_error("too many arguments for webpush %s", argv[1]);
        a->pos[a->npos++] = argv[i];
    }
    return CLI_OK;
}

/* Decodes a base64url option of exactly `len` bytes into out. */
static int key_arg(const char *name, const char *value, uint8_t *out, size_t len)
{
    if (!value)
        return cli_usage_error("%s is required", name);
    uint8_t *d = NULL;
    size_t n = 0;
    if (omni_base64url_decode(&d, &n, value, strlen(value)) != OMNI_OK)
        return cli_usage_error("%s is not base64url", name);
    int ok = n == len;
    if (ok)
        memcpy(out, d, len);
    omni_free(d);
    if (!ok)
        return cli_usage_error("%s must be %zu bytes (base64url), not %zu", name, len, n);
    return CLI_OK;
}

static int number_arg(const char *name, const char *value, unsigned long max, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(value, &end, 10);
    if (errno || !end || *end || value[0] < '0' || value[0] > '9' || v > max)
        return cli_usage_error("%s must be a number 0..%lu", name, max);
    *out = (uint32_t)v;
    return CLI_OK;
}

static int print_b64(const uint8_t *data, size_t len)
{
    char *s = NULL;
    size_t n = 0;
    int st = omni_base64url_encode(&s, &n, data, len);
    if (st)
        return cli_fail(st);
    cli_print_line(s, n);
    omni_free(s);
    return CLI_OK;
}

static int wp_encrypt(wp_args *a)
{
    uint8_t ua[OMNI_WEBPUSH_PUBLIC_KEY_LEN], auth[OMNI_WEBPUSH_AUTH_SECRET_LEN];
    uint8_t salt[OMNI_WEBPUSH_SALT_LEN], priv[OMNI_WEBPUSH_PRIVATE_KEY_LEN];
    uint32_t rs = 0;
    int rc;
    if ((rc = key_arg("--ua-public", a->ua_public, ua, sizeof(ua))) ||
        (rc = key_arg("--auth-secret", a->auth, auth, sizeof(auth))) ||
        (a->salt && (rc = key_arg("--salt", a->salt, salt, sizeof(salt)))) ||
        (a->sender_private &&
         (rc = key_arg("--sender-private", a->sender_private, priv, sizeof(priv)))) ||
        (a->record_size && (rc = number_arg("--record-size", a->record_size, 0xffffffffUL, &rs))))
        return rc;
    if (a->npos > 1)
        return cli_usage_error("webpush encrypt takes at most one PLAINTEXT_FILE");
    char *text = NULL;
    size_t len = 0;
    rc = cli_read_input(a->npos ? a->pos[0] : NULL, 1024 * 1024, &text, &len);
    if (rc)
        return rc;
    uint8_t *body = NULL;
    size_t blen = 0;
    int st = omni_webpush_encrypt(&body, &blen, (const uint8_t *)text, len, ua, auth,
                                  a->salt ? salt : NULL, a->sender_private ? priv : NULL, rs);
    free(text);
    memset(priv, 0, sizeof(priv));
    if (st)
        return cli_fail(st);
    rc = print_b64(body, blen);
    omni_free(body);
    return rc;
}

static int wp_decrypt(wp_args *a)
{
    uint8_t priv[OMNI_WEBPUSH_PRIVATE_KEY_LEN], auth[OMNI_WEBPUSH_AUTH_SECRET_LEN];
    int rc;
    if ((rc = key_arg("--ua-private", a->ua_private, priv, sizeof(priv))) ||
        (rc = key_arg("--auth-secret", a->auth, auth, sizeof(auth))))
        return rc;
    if (a->npos > 1)
        return cli_usage_error("webpush decrypt takes at most one BODY_B64URL_FILE");
    char *text = NULL;
    size_t len = 0;
    rc = cli_read_input(a->npos ? a->pos[0] : NULL, 2 * 1024 * 1024, &text, &len);
    if (rc)
        return rc;
    size_t start = 0;
    while (start < len && strchr(" \t\r\n", text[start]))
        start++;
    while (len > start && strchr(" \t\r\n", text[len - 1]))
        len--;
    uint8_t *body = NULL, *plain = NULL;
    size_t blen = 0, plen = 0;
    int st = omni_base64url_decode(&body, &blen, text + start, len - start);
    free(text);
    if (st)
        return cli_fail(st);
    st = omni_webpush_decrypt(&plain, &plen, body, blen, priv, auth);
    omni_free(body);
    memset(priv, 0, sizeof(priv));
    if (st)
        return cli_fail(st);
    fwrite(plain, 1, plen, stdout);
    omni_free(plain);
    return CLI_OK;
}

static int wp_keypair(cli *c, wp_args *a)
{
    if (a->npos)
        return cli_usage_error("webpush keypair takes no arguments");
    omni_engine *e = NULL;
    int rc = cli_engine(c, &e);
    if (rc)
        return rc;
    uint8_t pub[OMNI_WEBPUSH_PUBLIC_KEY_LEN], priv[OMNI_WEBPUSH_PRIVATE_KEY_LEN];
    int st = omni_webpush_keypair(pub, priv, e);
    if (st)
        return cli_fail(st);
    char *p = NULL, *k = NULL;
    st = omni_base64url_encode(&p, NULL, pub, sizeof(pub));
    if (!st)
        st = omni_base64url_encode(&k, NULL, priv, sizeof(priv));
    memset(priv, 0, sizeof(priv));
    if (!st)
        printf("{\"publicKey\":\"%s\",\"privateKey\":\"%s\"}\n", p, k);
    omni_free(p);
    omni_free(k);
    return st ? cli_fail(st) : CLI_OK;
}

static int wp_vapid(cli *c, wp_args *a)
{
    uint8_t priv[OMNI_WEBPUSH_PRIVATE_KEY_LEN];
    uint32_t expires = 43200;
    int rc;
    if (a->npos)
        return cli_usage_error("webpush vapid takes no positional arguments");
    if (!a->endpoint)
        return cli_usage_error("--endpoint is required");
    if (!a->subject)
        return cli_usage_error("--subject is required (mailto: or https: URI)");
    if ((rc = key_arg("--private-key", a->private_key, priv, sizeof(priv))) ||
        (a->expires && (rc = number_arg("--expires", a->expires, 0xffffffffUL, &expires))))
        return rc;
    omni_engine *e = NULL;
    rc = cli_engine(c, &e);
    if (rc)
        return rc;
    char *out = NULL;
    size_t n = 0;
    int st = omni_webpush_vapid(&out, &n, a->endpoint, a->subject, priv, omni_engine_now_ms(e),
                                expires);
    memset(priv, 0, sizeof(priv));
    if (st)
        return cli_fail(st);
    cli_print_line(out, n);
    omni_free(out);
    return CLI_OK;
}

int cmd_webpush(cli *c, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("usage: omni webpush encrypt|decrypt|keypair|vapid ... "
                               "(see omni webpush --help)");
    wp_args a;
    memset(&a, 0, sizeof(a));
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc;
    if (strcmp(argv[1], "encrypt") == 0)
        return wp_encrypt(&a);
    if (strcmp(argv[1], "decrypt") == 0)
        return wp_decrypt(&a);
    if (strcmp(argv[1], "keypair") == 0)
        return wp_keypair(c, &a);
    if (strcmp(argv[1], "vapid") == 0)
        return wp_vapid(c, &a);
    return cli_usage_error("unknown webpush command \"%s\" (encrypt, decrypt, keypair, vapid)",
                           argv[1]);
}
