/* Fuzz target for JWT: arbitrary bytes as a token are verified with a
 * fixed HS256 secret and with an ES256 public key (RFC 7515 A.3) and must
 * never crash; arbitrary bytes as claims that sign must verify, come back
 * as the signed payload, and re-sign to the identical token. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <omni/omni.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char secret[] = "fuzz-secret";

/* The public key of RFC 7515 Appendix A.3 (JWK x, y) as SPKI PEM. */
static const char es256_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV7\n"
    "6e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==\n"
    "-----END PUBLIC KEY-----\n";

static int is_error(int rc)
{
    return rc < 0 && rc >= OMNI__STATUS_MIN;
}

static void verify_any(const char *tok, size_t len, const char *alg, const char *key,
                       size_t key_len)
{
    char *out = NULL;
    size_t out_len = 0;
    int rc = omni_jwt_verify(&out, &out_len, NULL, tok, len, alg, key, key_len, 0);
    if (rc == OMNI_OK) {
        /* an accepted token yields a JSON object */
        if (!out || out_len == 0 || out[0] != '{' || strlen(out) > out_len)
            abort();
    } else if (!is_error(rc) || out) {
        abort();
    }
    omni_free(out);
}

static void roundtrip(const char *claims, size_t len)
{
    char *tok = NULL;
    size_t tok_len = 0;
    int rc = omni_jwt_sign(&tok, &tok_len, "HS256", secret, sizeof(secret) - 1, "{\"kid\":\"f\"}",
                           11, claims, len);
    if (rc != OMNI_OK) {
        if (!is_error(rc) || tok)
            abort();
        return;
    }
    if (tok_len != strlen(tok) || tok_len > OMNI_JWT_MAX_BYTES)
        abort();
    /* the signed payload part, decoded */
    const char *p1 = strchr(tok, '.');
    const char *p2 = p1 ? strchr(p1 + 1, '.') : NULL;
    if (!p2 || strchr(p2 + 1, '.'))
        abort();
    uint8_t *payload = NULL;
    size_t payload_len = 0;
    if (omni_base64url_decode(&payload, &payload_len, p1 + 1, (size_t)(p2 - p1 - 1)) != OMNI_OK)
        abort();

    char *out = NULL;
    size_t out_len = 0;
    rc = omni_jwt_verify(&out, &out_len, NULL, tok, tok_len, "HS256", secret,
                         sizeof(secret) - 1, INT32_MAX);
    if (rc == OMNI_OK) {
        if (out_len != payload_len || memcmp(out, payload, out_len) != 0)
            abort();
        /* the compact form is a fixed point: signing it again gives the
         * same token (HS256 is deterministic) */
        char *tok2 = NULL;
        if (omni_jwt_sign(&tok2, NULL, "HS256", secret, sizeof(secret) - 1, "{\"kid\":\"f\"}", 11,
                          out, out_len) != OMNI_OK ||
            strcmp(tok, tok2) != 0)
            abort();
        omni_free(tok2);
    } else if (rc == OMNI_EEXPIRED || rc == OMNI_ENOTYET) {
        /* only when the claims carry such a time */
        const char *name = rc == OMNI_EEXPIRED ? "\"exp\"" : "\"nbf\"";
        if (!memmem(payload, payload_len, name, 5))
            abort();
    } else {
        abort(); /* a token we signed must verify */
    }
    /* any change to the signature is detected */
    tok[tok_len - 1] = tok[tok_len - 1] == 'A' ? 'Q' : 'A';
    char *bad = NULL;
    rc = omni_jwt_verify(&bad, NULL, NULL, tok, tok_len, "HS256", secret, sizeof(secret) - 1,
                         INT32_MAX);
    if (rc == OMNI_OK || bad)
        abort();
    omni_free(out);
    omni_free(payload);
    omni_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    verify_any(text, size, "HS256", secret, sizeof(secret) - 1);
    verify_any(text, size, "ES256", es256_pub, sizeof(es256_pub) - 1);
    if (size <= 4096)
        roundtrip(text, size);
    return 0;
}
