/*
 * Test support: golden files under tests/data/<dir>/ (requests an adapter
 * must build exactly, response tables) and the checks every adapter test
 * makes with them. Functions report instead of asserting, so the support
 * library needs no test framework: a test asserts on what they return.
 */
#ifndef OMNI_TESTS_GOLDEN_H
#define OMNI_TESTS_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <omni/http.h>

/* tests/data/<dir>/<name> parsed ($OMNI_SOURCE_DIR); NULL when it cannot be
 * read or is not JSON (*why says which). Release with cJSON_Delete. */
cJSON *golden_load(const char *dir, const char *name, char *why, size_t why_cap);

/* The golden case files of tests/data/<dir>/ (every *.json except
 * responses.json and `skip`, which may be NULL), sorted; returns how many
 * (at most cap), -1 when the folder cannot be read. */
int golden_list(const char *dir, const char *skip, char names[][128], int cap);

/* The bytes of tests/data/<dir>/<name>, NUL-terminated, released with
 * free(); NULL when it cannot be read. */
char *golden_read(const char *dir, const char *name, size_t *len);

/* A golden's "now" (RFC 3339) in Unix ms, else def (RFC 3339, may be NULL:
 * 0). */
int64_t golden_now(const cJSON *golden, const char *def);

/* 0 when req is exactly want {"method", "url", "headers": {name: value},
 * "body"} (headers in that order when `ordered`, else as a set); else 1 with
 * the first difference in why. */
int golden_request_diff(const omni_http_request *req, const cJSON *want, int ordered,
                        char *why, size_t why_cap);

/* A response object from a table entry's "status", "headers" and "body"
 * (other members ignored); NULL when they do not make one. */
omni_http_response *golden_response(const cJSON *entry);

/* 1 when none of the NULL-terminated secrets occurs in text. */
int golden_no_secret(const char *text, const char *const *secrets);

/* The outbound adapters' goldens (tests/data/outbound/<provider>/): each
 * case {"config", "event", "now", "request"} built with the provider named
 * and again through recipient.carrier, compared with golden_request_diff.
 * Returns the number of cases, or -1 with the first failure in why. */
int golden_outbound_requests(const char *provider, int ordered, char *why, size_t why_cap);

/* The provider's responses.json: each {"status", "headers"?, "body",
 * "now"?, "result"} parsed with the adapter compiled from config; the
 * result must equal "result" and hold none of the secrets. default_now is
 * used when a case has no "now". Returns the number of cases, or -1. */
int golden_outbound_responses(const char *provider, const char *config,
                              const char *const *secrets, const char *default_now, char *why,
                              size_t why_cap);

/* The "path" of the last error's details (into out), or "" when there is
 * none. */
const char *golden_error_path(char *out, size_t cap);

#endif
