/* Internal: JSON over cJSON, used safely.
 *
 * - parse with an explicit length, a size limit, a depth limit, strict
 *   UTF-8 and no raw control characters in strings; errors carry the byte
 *   offset, line and column (never the global cJSON error pointer);
 * - case-sensitive lookups only, by dotted path ("a.b.0.c" or "a.b[0].c");
 * - a streaming writer into omni_buf that puts commas by itself.
 */
#ifndef OMNI_CORE_JSON_H
#define OMNI_CORE_JSON_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "buf.h"

/* Parses a document. `what` names it in error messages ("configuration").
 * max_bytes 0 means OMNI_LIMIT_JSON_BYTES. On error sets the last error
 * (OMNI_EJSON with details {"offset","line","column"}, OMNI_ETOOLARGE,
 * OMNI_ETOODEEP, OMNI_ENOMEM) and returns it. */
int omni__json_parse(cJSON **out, const char *text, size_t len, size_t max_bytes,
                     const char *what);

/* Checks that text is one well-formed JSON document within the limits
 * (same rules and errors as omni__json_parse) without building a tree. */
int omni__json_validate(const char *text, size_t len, size_t max_bytes, const char *what);

/* Item at a dotted path ("a.b.0", "a.b[0]"), or NULL. Case-sensitive. */
cJSON *omni__json_at(const cJSON *root, const char *path);

/* Typed getters by path. The string getter returns NULL when the item is
 * missing or not a string. The others return 0 on success, OMNI_ENOTFOUND
 * when missing, OMNI_EINVAL when of another type or out of range (int64:
 * integral numbers within +-2^53 only). They do not set the last error. */
const char *omni__json_str(const cJSON *root, const char *path);
int omni__json_int(const cJSON *root, const char *path, int64_t *out);
int omni__json_num(const cJSON *root, const char *path, double *out);
int omni__json_bool(const cJSON *root, const char *path, int *out);

/* An identifier that may arrive as a string or a number: copies the string,
 * or formats an integral number within +-2^53 (a larger number has lost
 * precision already and is refused). Returns 0, OMNI_ENOTFOUND, OMNI_EINVAL. */
int omni__json_id(const cJSON *item, char *buf, size_t cap);

/* Writer. Each value function emits a comma first when needed. */
void omni__json_w_obj_begin(omni_buf *b);
void omni__json_w_obj_end(omni_buf *b);
void omni__json_w_arr_begin(omni_buf *b);
void omni__json_w_arr_end(omni_buf *b);
void omni__json_w_key(omni_buf *b, const char *key);
/* A key that is a string literal needing no escapes, written as it is. */
#define omni__json_w_keyl(b, lit) omni__json_w_raw_key(b, "\"" lit "\":", sizeof(lit) + 2)
void omni__json_w_raw_key(omni_buf *b, const char *quoted_key_colon, size_t n);
void omni__json_w_str(omni_buf *b, const char *s);
void omni__json_w_strn(omni_buf *b, const char *s, size_t n);
void omni__json_w_int(omni_buf *b, int64_t v);
void omni__json_w_num(omni_buf *b, double v);
void omni__json_w_bool(omni_buf *b, int v);
void omni__json_w_null(omni_buf *b);
/* Appends an already serialized JSON value. */
void omni__json_w_raw(omni_buf *b, const char *json, size_t n);
/* Serializes a cJSON tree (compact). */
void omni__json_w_item(omni_buf *b, const cJSON *item);
/* Escapes s as the inside of a JSON string (no quotes). */
void omni__json_escape(omni_buf *b, const char *s, size_t n);

/* Compact text of a tree, allocated; release with free(). */
int omni__json_print(char **out, size_t *out_len, const cJSON *item);

#endif
