/*
 * libomni — AWS Signature Version 4 (SigV4): signing HTTP requests for AWS
 * services (SNS, SES, ...) as the outbound adapters do, and for the host's
 * own requests.
 *
 *   omni_http_request *req;   // POST https://sns.us-east-1.amazonaws.com/ with its body
 *   omni_aws_credentials cred = OMNI_AWS_CREDENTIALS_INIT;
 *   cred.access_key_id = getenv("AWS_ACCESS_KEY_ID");
 *   cred.secret_access_key = getenv("AWS_SECRET_ACCESS_KEY");
 *   cred.session_token = getenv("AWS_SESSION_TOKEN");      // may be NULL
 *   omni_aws_sigv4_sign(req, &cred, "us-east-1", "sns", omni_engine_now_ms(engine), 0);
 *
 * The algorithm is AWS's "Create a signed AWS API request" (header form,
 * AWS4-HMAC-SHA256): canonical request (method; the URL's path normalized
 * as RFC 3986 section 5.2.4 (empty segments dropped too) and each segment
 * of it, as written in the URL, percent-encoded once more with the
 * unreserved set A-Z a-z 0-9 - _ . ~ — so "%20" becomes "%2520", AWS's
 * "URI-encode twice" rule for every service but S3, see OMNI_AWS_SIGV4_S3;
 * the query parameters split at '&' and the first '=', each name and value
 * encoded once with the unreserved set (escapes in the URL taken as the
 * bytes they stand for, '+' a literal plus, a '%' without two hex digits
 * encoded as "%25"), sorted by encoded name then value; the headers
 * lower-cased, sorted, values trimmed with inner runs of spaces and tabs
 * folded to one, repeated names joined with ',' in order; the signed header
 * list; the hex SHA-256 of the body), string to sign, signing key HMAC
 * chain (date, region, service, "aws4_request"), and the Authorization
 * header. Verified against AWS's published SigV4 test suite
 * (tests/data/sigv4; three cases cannot be expressed as an
 * omni_http_request: see its README) and the IAM and S3 examples of AWS's
 * documentation.
 *
 * Which headers are signed: host (added when the request has none; the
 * URL's host, with the port when it is not the scheme's default), x-amz-*
 * and content-type always, and every other header of the request except
 * user-agent, expect, authorization, content-length, connection,
 * transfer-encoding and the hop-by-hop ones, which proxies may change.
 *
 * Time: X-Amz-Date is added from now_ms (Unix ms); when the request already
 * has an X-Amz-Date header (YYYYMMDD'T'HHMMSS'Z', spaces around it
 * allowed), that one is used and now_ms is ignored (AWS's test suite signs
 * this way).
 *
 * Session token: with cred->session_token, X-Amz-Security-Token is added
 * and signed; a request that already has that header with the same value
 * keeps it (another value is OMNI_EINVAL). Without one, an
 * X-Amz-Security-Token header of the request is signed like any other.
 *
 * Secrets: the secret key and session token never appear in error messages
 * or logs; intermediate keys are wiped after use.
 *
 * Thread-safety: the functions are pure and thread-safe; a request object
 * belongs to one thread at a time.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_AWS_H
#define OMNI_AWS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_http_request omni_http_request;

#define OMNI_AWS_CREDENTIALS_VERSION 1u

/* Credentials (borrowed strings). access_key_id 1..128 bytes of [A-Za-z0-9],
 * secret_access_key 1..128 bytes, session_token NULL or 1..4096 bytes. */
typedef struct omni_aws_credentials {
    unsigned version;
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;
} omni_aws_credentials;

#define OMNI_AWS_CREDENTIALS_INIT {OMNI_AWS_CREDENTIALS_VERSION, NULL, NULL, NULL}

/* Flags of omni_aws_sigv4_sign. */
/* S3 rules: the path is not normalized and is encoded once (escapes in the
 * URL taken as the bytes they stand for: "/a$b" and "/a%24b" both give
 * "/a%24b"); the x-amz-content-sha256 header is added (the body's hash). */
#define OMNI_AWS_SIGV4_S3 1u
/* The payload is not hashed: x-amz-content-sha256: UNSIGNED-PAYLOAD is
 * added and signed. With either flag, an x-amz-content-sha256 header the
 * request already has (1..64 bytes, e.g. "STREAMING-...") is kept and is
 * the payload hash. */
#define OMNI_AWS_SIGV4_UNSIGNED_PAYLOAD 2u

/*
 * Signs `request` in place: adds X-Amz-Date (unless present),
 * X-Amz-Security-Token (when a session token is given), X-Amz-Content-Sha256
 * (with either flag, unless present), Host (unless present) and
 * Authorization.
 * region: 1..64 bytes of [a-z0-9-]; service: 1..64 bytes of [a-z0-9-].
 * Errors: OMNI_EINVAL (NULL, bad region/service/credentials, a request that
 * is already signed (has an Authorization header), a malformed or repeated
 * X-Amz-Date, a repeated Host or X-Amz-Content-Sha256, a conflicting
 * X-Amz-Security-Token, unknown flags), OMNI_EVERSION (credentials
 * version), OMNI_ETIME (now_ms outside years 1970..9999, when it is used),
 * OMNI_ETOOLARGE (the headers to add do not fit the request's limits) /
 * OMNI_ENOMEM. On error the request is unchanged.
 */
OMNI_API int omni_aws_sigv4_sign(omni_http_request *request, const omni_aws_credentials *cred,
                                 const char *region, const char *service, int64_t now_ms,
                                 unsigned flags);

/*
 * The intermediate texts of signing `request` as omni_aws_sigv4_sign would
 * (without changing it), for tests and debugging: the canonical request and
 * the string to sign (each released with omni_free; either out may be
 * NULL). A missing Host / X-Amz-Date is taken as omni_aws_sigv4_sign would
 * add it. Errors as omni_aws_sigv4_sign.
 */
OMNI_API int omni_aws_sigv4_canonical(char **canonical_request, size_t *canonical_len,
                                      char **string_to_sign, size_t *string_len,
                                      const omni_http_request *request,
                                      const omni_aws_credentials *cred, const char *region,
                                      const char *service, int64_t now_ms, unsigned flags);

/*
 * A presigned URL (query-string form: X-Amz-Algorithm, X-Amz-Credential,
 * X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders=host[, X-Amz-Security-Token],
 * X-Amz-Signature) for `method` on `url`, valid for expires_s seconds
 * (1..604800), the payload UNSIGNED-PAYLOAD for s3 and the empty-body hash
 * otherwise. For service "s3" the S3 path rules apply. The URL's own query
 * is kept (and signed), its fragment dropped; the parameters are appended.
 * *out is released with omni_free. Errors as omni_aws_sigv4_sign, plus
 * OMNI_EINVAL for a bad method, URL (the rules of omni_http_request_new;
 * OMNI_ETOOLARGE over its size) or expiry, or a URL that already has
 * X-Amz-* presigning parameters.
 */
OMNI_API int omni_aws_sigv4_presign(char **out, size_t *out_len, const char *method,
                                    const char *url, const omni_aws_credentials *cred,
                                    const char *region, const char *service, int64_t now_ms,
                                    uint32_t expires_s);

#ifdef __cplusplus
}
#endif

#endif
