/* Internal: the SigV4 pipeline shared by omni_aws_sigv4_sign / _canonical /
 * _presign, for later components (SNS, SES adapters) and tests.
 *
 * Thread-safety: all functions are pure and thread-safe. */
#ifndef OMNI_AWS_SIGV4_INTERNAL_H
#define OMNI_AWS_SIGV4_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* A borrowed name/value pair (a header, or a raw query parameter). */
typedef struct omni__sigv4_pair {
    const char *name;
    const char *value;
} omni__sigv4_pair;

/* Everything one signature covers; all strings borrowed and already
 * checked (aws.h rules). headers are the exact headers to canonicalize
 * (the excluded ones of aws.h are skipped here). query_extra are raw
 * parameters added to the URL's query (presigning). */
typedef struct omni__sigv4_input {
    const char *method;
    const char *url;
    const omni__sigv4_pair *headers;
    size_t nheaders;
    const omni__sigv4_pair *query_extra;
    size_t nquery_extra;
    const char *payload_hash; /* hex SHA-256, UNSIGNED-PAYLOAD, ... */
    const char *amz_date;     /* YYYYMMDD'T'HHMMSS'Z' */
    const char *region;
    const char *service;
    const char *secret;
    int s3; /* S3 path rules */
} omni__sigv4_input;

/* The results (malloc'd, NUL-terminated; released with
 * omni__aws_sigv4_result_free). */
typedef struct omni__sigv4_result {
    char *canonical;
    size_t canonical_len;
    char *string_to_sign;
    size_t string_len;
    char *signed_headers; /* "host;x-amz-date" */
    size_t signed_len;
    char signature[65]; /* lower-case hex */
} omni__sigv4_result;

/* Builds the canonical request, string to sign and signature. Errors (last
 * error set): OMNI_ENOMEM, OMNI_ECRYPTO; *r is then empty. */
int omni__aws_sigv4_build(omni__sigv4_result *r, const omni__sigv4_input *in);
void omni__aws_sigv4_result_free(omni__sigv4_result *r);

/* The SigV4 signing key: HMAC-SHA256 chain over "AWS4" + secret, date8
 * (YYYYMMDD), region, service, "aws4_request". The intermediate keys are
 * wiped. Errors: OMNI_EINVAL (secret over 128 bytes), OMNI_ECRYPTO. */
int omni__aws_sigv4_signing_key(uint8_t out[32], const char *secret, const char *date8,
                                const char *region, const char *service);

#endif
