/*
 * libomni — the template renderer: Handlebars-compatible (handlebars.js 4.7
 * output, byte for byte) with a mustache-spec mode; compiled once, rendered
 * many times; channel-aware escaping.
 *
 *   omni_template *t;
 *   omni_template_compile(&t, "Hi {{name}}, order {{order.id}} ships {{formatDate eta}}",
 *                         len, "{\"escape\":\"none\"}", 20, NULL);
 *   char *text; size_t n;
 *   omni_template_render(&text, &n, t, "{\"name\":\"Asha\",...}", data_len);
 *   omni_free(text);
 *   omni_template_free(t);
 *
 * Thread-safety: a compiled omni_template and a parsed omni_data are
 * immutable and may be rendered from any number of threads at once. An
 * omni_helpers registry is not thread-safe while being filled; the template
 * copies what it needs at compile time. Host helper callbacks run
 * synchronously on the rendering thread.
 *
 * Limits: a template source is at most OMNI_TEMPLATE_MAX_SOURCE bytes; block
 * nesting at most OMNI_TEMPLATE_MAX_NESTING (also subexpression nesting);
 * partials nest at most OMNI_TEMPLATE_MAX_PARTIAL_DEPTH deep at render time
 * (a self-including partial fails with OMNI_ETOODEEP, never a stack
 * overflow), and blocks inside partials at most 512 levels in all; the
 * output of one render is at most OMNI_TEMPLATE_MAX_OUTPUT bytes, and one
 * render runs at most 2^24 nodes and loop iterations (both OMNI_ETOOLARGE),
 * so no template can hang.
 *
 * Handlebars mode (the default) follows handlebars.js 4.7.8 with its
 * default options (compat off, noEscape false, strict false): `{{x}}`
 * looks only in the current context (no context-stack walking; `../x` for
 * the parent), `{{x}}` of a missing value renders "", values print as
 * JavaScript prints them (1e+21, 0.30000000000000004, arrays joined with
 * ",", objects as "[object Object]"), a `{{#x}}` section on a value that
 * is no helper behaves as blockHelperMissing (arrays iterate, 0 and ""
 * render the block), standalone lines and `~` follow handlebars.js'
 * whitespace rules, a standalone partial's indentation applies to every
 * line of its output, and a missing partial fails (OMNI_ENOTFOUND).
 * Supported: {{{ }}}, {{& }}, paths (a.b, a/b, [a b], this, ., ../, @root,
 * @index, @key, @first, @last, @../index), #if/#unless (includeZero=),
 * #each (arrays and objects, `as |item key|`), #with (`as |x|`), lookup,
 * log, {{else}}, {{^}}, chained {{else if ...}}, {{! }} and {{!-- --}},
 * partials with a context argument and hash parameters, dynamic partials
 * {{> (expr)}}, helpers with literal (string, number, true/false, null,
 * undefined), path, hash and subexpression arguments, and \{{ escapes.
 * Not supported (OMNI_ESYNTAX): decorators and inline partials
 * ({{#*inline}}), partial blocks ({{#> }}), raw blocks ({{{{ }}}}).
 *
 * Mustache mode follows the mustache spec (comments, delimiters,
 * interpolation, inverted, partials, sections; no lambdas): names resolve
 * through the context stack, {{=<% %>=}} changes delimiters, a standalone
 * partial's indentation applies to the lines of the partial's template,
 * missing partials render "", and there are no helpers. Falsy values for
 * sections are those of JavaScript plus empty lists.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef OMNI_TEMPLATE_H
#define OMNI_TEMPLATE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct omni_engine omni_engine;
typedef struct omni_store omni_store;

#define OMNI_TEMPLATE_MAX_SOURCE (1024u * 1024u)
#define OMNI_TEMPLATE_MAX_NESTING 64
#define OMNI_TEMPLATE_MAX_PARTIAL_DEPTH 32
#define OMNI_TEMPLATE_MAX_OUTPUT (16u * 1024u * 1024u)

/* ---- values: parsed data, read by the renderer and by host helpers ---- */

/* A parsed JSON document (the render data), immutable and shareable.
 * Parse once and render many templates with it: lookups then cost no heap
 * allocation. Limits: OMNI_LIMIT_JSON_BYTES, depth OMNI_LIMIT_JSON_DEPTH.
 * The document is held in one allocation; object keys carry precomputed
 * hashes (and objects with more than 8 members a hash index). Objects
 * follow JavaScript's JSON.parse: members are in JavaScript's property
 * order (array-index keys such as "2" ascending first, then the others in
 * document order) and a repeated key keeps its first position and its last
 * value. A lone surrogate escape (\ud800) becomes U+FFFD, as JavaScript
 * writes it in UTF-8. */
typedef struct omni_data omni_data;
/* A value inside an omni_data (or made during a render); borrowed, valid
 * while its document (or the render call) lives. */
typedef struct omni_value omni_value;

typedef enum omni_value_kind {
    OMNI_VALUE_UNDEFINED = 0, /* a missing value (NULL pointers read as this) */
    OMNI_VALUE_NULL = 1,
    OMNI_VALUE_BOOL = 2,
    OMNI_VALUE_NUMBER = 3,
    OMNI_VALUE_STRING = 4,
    OMNI_VALUE_ARRAY = 5,
    OMNI_VALUE_OBJECT = 6
} omni_value_kind;

/* Strict JSON (RFC 8259, the same rules, messages and error positions as
 * every libomni JSON input: UTF-8, no raw control characters in strings).
 * Errors: OMNI_EINVAL (NULL out, or NULL json with len > 0), OMNI_EJSON
 * (details {"offset","line","column"}), OMNI_ETOOLARGE, OMNI_ETOODEEP,
 * OMNI_ENOMEM. */
OMNI_API int omni_data_parse(omni_data **out, const char *json, size_t len) OMNI_WARN_UNUSED;
OMNI_API void omni_data_free(omni_data *data);
OMNI_API const omni_value *omni_data_root(const omni_data *data);

/* The value's omni_value_kind (OMNI_VALUE_UNDEFINED for NULL). */
OMNI_API int omni_value_type(const omni_value *v);
/* The string (NUL-terminated; *len may be NULL; it may hold NUL bytes from
 * \u0000 escapes) or NULL when not a string. */
OMNI_API const char *omni_value_string(const omni_value *v, size_t *len);
/* The number, or 0 when not a number. */
OMNI_API double omni_value_number(const omni_value *v);
/* Handlebars truthiness: false for undefined, null, false, 0, NaN, "" and
 * empty arrays (handlebars.js `if`); objects are always true. */
OMNI_API int omni_value_truthy(const omni_value *v);
/* Elements of an array or members of an object (0 otherwise). */
OMNI_API size_t omni_value_count(const omni_value *v);
/* The i-th element / member value, or NULL. */
OMNI_API const omni_value *omni_value_at(const omni_value *v, size_t i);
/* The i-th member's key of an object, or NULL. */
OMNI_API const char *omni_value_key(const omni_value *v, size_t i);
/* A member by key (case-sensitive, the whole NUL-terminated key), or NULL. */
OMNI_API const omni_value *omni_value_get(const omni_value *v, const char *key);
/* Any value as compact JSON text (undefined and non-finite numbers as
 * "null", numbers as JavaScript prints them); release with omni_free. */
OMNI_API int omni_value_json(char **out, size_t *out_len, const omni_value *v);

/* ---- helpers from the host -------------------------------------------- */

/*
 * A helper is called for `{{name args... key=value...}}`, for block form
 * `{{#name args...}}body{{else}}inverse{{/name}}` and inside subexpressions
 * `(name args...)`. It reads its arguments through the call and produces
 * one result value, as a handlebars.js helper returns one:
 *   - omni_helper_return_* set the result (a later call replaces it);
 *   - omni_helper_append_block / _append_inverse render the body / inverse
 *     (options.fn(ctx) / options.inverse(ctx)) and append the text to the
 *     result, which then is a safe (unescaped) string.
 * A string result is HTML-escaped in `{{...}}` (in the template's escape
 * mode) unless returned with omni_helper_return_safe; `{{{...}}}` never
 * escapes, and neither does the result of a block helper (as in
 * handlebars.js). A helper that sets no result returns undefined (renders
 * ""). Return OMNI_OK, or a negative status (call omni_error_set first for
 * a message) to fail the whole render with OMNI_EHELPER ("helper "x"
 * failed: <message>").
 *
 * Helper names resolve at compile time: a name in helper position that is a
 * single simple identifier (not `this.x`, `../x`, `@x`, a dotted path or a
 * block parameter) and is registered (or built in) calls the helper; with
 * no arguments it is still a helper call ({{name}}), otherwise a path. A
 * name used with arguments that is no helper fails at render time with
 * OMNI_EHELPER ("missing helper"), as handlebars.js does; with only hash
 * arguments, or as a subexpression without arguments, it is undefined.
 *
 * Built-in helpers (a host helper of the same name overrides them):
 *   if / unless / each / with / lookup / log — as handlebars.js (log has
 *     no output);
 *   formatNumber value [minFractionDigits [maxFractionDigits]]
 *     (hash: minimumFractionDigits, maximumFractionDigits, locale);
 *   formatCurrency value currency [locale]   (hash: currency, locale);
 *   formatDate value [pattern [timeZone]]    (hash: pattern, timeZone,
 *     locale; value: RFC 3339 text or Unix milliseconds; default "medium")
 *     — through omni_format_number / _currency / _date with the template's
 *     "locale" and "timeZone" options as defaults; a missing value renders
 *     "", a formatting error fails the render (OMNI_EHELPER);
 *   uppercase text / lowercase text — ASCII, Latin-1, Latin Extended-A,
 *     Greek and Cyrillic (other characters unchanged; ß becomes SS);
 *   truncate text length [suffix] — at most `length` characters (code
 *     points); a longer text is cut and ends with `suffix` (default "")
 *     within that length (a suffix longer than `length` is left out);
 *   default value fallback... — the first argument that is not undefined,
 *     null or "", else the last argument;
 *   eq a b / ne a b — JavaScript's === / !==;  gt a b / lt a b —
 *     JavaScript's > / <;  and a b... / or a b... / not a — on truthiness
 *     (omni_value_truthy); all return true/false, and in block form
 *     ({{#eq a b}}...{{else}}...{{/eq}}) render the body or the inverse.
 */
typedef struct omni_helper_call omni_helper_call;
typedef int (*omni_helper_fn)(void *ctx, omni_helper_call *call);

OMNI_API size_t omni_helper_argc(const omni_helper_call *call);
/* Positional argument i (NULL, read as undefined, when i >= argc). */
OMNI_API const omni_value *omni_helper_arg(const omni_helper_call *call, size_t i);
/* Hash argument by name (NULL when absent). Hash pairs are those of
 * handlebars.js' options.hash: a key written twice counts once, with its
 * first value, and the pairs come in the order handlebars.js holds them
 * (the written order reversed). */
OMNI_API const omni_value *omni_helper_hash(const omni_helper_call *call, const char *name);
OMNI_API size_t omni_helper_hash_count(const omni_helper_call *call);
OMNI_API const char *omni_helper_hash_key(const omni_helper_call *call, size_t i);
OMNI_API const omni_value *omni_helper_hash_value(const omni_helper_call *call, size_t i);
/* The current context (`this`); as in handlebars.js an empty object when
 * the context is null or undefined. */
OMNI_API const omni_value *omni_helper_context(const omni_helper_call *call);
/* 1 when called as a block helper. */
OMNI_API int omni_helper_is_block(const omni_helper_call *call);
/* The helper's name as written in the template. */
OMNI_API const char *omni_helper_name(const omni_helper_call *call);

OMNI_API int omni_helper_return_string(omni_helper_call *call, const char *s, size_t len);
OMNI_API int omni_helper_return_safe(omni_helper_call *call, const char *s, size_t len);
OMNI_API int omni_helper_return_number(omni_helper_call *call, double value);
OMNI_API int omni_helper_return_bool(omni_helper_call *call, int value);
OMNI_API int omni_helper_return_null(omni_helper_call *call);
/* Any JSON value as the result (parsed into the render's memory; it lives
 * as long as the result is used). */
OMNI_API int omni_helper_return_json(omni_helper_call *call, const char *json, size_t len);
/* Renders the block body / inverse with `context` (NULL: the current one)
 * and appends it to the result (after the current result's text). Errors:
 * OMNI_EINVAL (not a block call), and any render error of the body, which
 * also fails the whole render. A call without an inverse appends "". */
OMNI_API int omni_helper_append_block(omni_helper_call *call, const omni_value *context);
OMNI_API int omni_helper_append_inverse(omni_helper_call *call, const omni_value *context);
/* Renders the block body / inverse with `context` (NULL: the current one)
 * and hands the text to the caller (*out released with omni_free), leaving
 * the result as it is: handlebars' options.fn(ctx) / options.inverse(ctx)
 * for helpers that compose text ("<b>" + body + "</b>"). A call without a
 * block or inverse renders "". Errors: OMNI_EINVAL (not a block call), and
 * any render error of the body (which also fails the whole render). */
OMNI_API int omni_helper_render_block(char **out, size_t *out_len, omni_helper_call *call,
                                      const omni_value *context);
OMNI_API int omni_helper_render_inverse(char **out, size_t *out_len, omni_helper_call *call,
                                        const omni_value *context);
/* Makes a value from JSON (for example a new context for
 * omni_helper_append_block). It lives until the template statement that
 * called the helper is done (for a block helper: its whole block), so a
 * helper must not keep it for later calls. */
OMNI_API int omni_helper_make_value(const omni_value **out, omni_helper_call *call,
                                    const char *json, size_t len);

/* A registry of host helpers by name. A host helper overrides a built-in of
 * the same name. Names: 1..64 bytes of [A-Za-z0-9_$-]. */
typedef struct omni_helpers omni_helpers;
OMNI_API int omni_helpers_new(omni_helpers **out) OMNI_WARN_UNUSED;
/* Errors: OMNI_EINVAL (bad name or NULL fn), OMNI_EEXISTS, OMNI_ENOMEM.
 * ctx must stay valid while any template compiled with it lives. */
OMNI_API int omni_helpers_add(omni_helpers *helpers, const char *name, omni_helper_fn fn,
                              void *ctx);
OMNI_API void omni_helpers_free(omni_helpers *helpers);

/* ---- compile and render ------------------------------------------------ */

typedef struct omni_template omni_template;

/*
 * Compiles a template. options_json (NULL or "" for defaults):
 *   {"mode": "handlebars" | "mustache",        default handlebars
 *    "escape": "html" | "none" | "json",       what {{x}} does; default html
 *    "strict": false,                          missing variables are errors
 *    "partials": {"name": "source", ...},      compiled with the template
 *    "locale": "en-IN", "timeZone": "Asia/Kolkata",   defaults for the
 *                                              format helpers
 *    "includeZero": false}                     handlebars `if` on 0
 * Unknown option keys and values of the wrong type are OMNI_ECONFIG. The
 * template and every partial must be UTF-8 (handlebars mode: without NUL
 * bytes, as handlebars.js' lexer refuses them); every partial is compiled
 * (and must be valid) even when unused. `helpers` may be NULL (built-ins
 * only); the template copies the helpers it uses, so the registry may be
 * freed after compiling (each helper's ctx must stay valid).
 *
 * Strict mode: a path is missing when one of its parts is not an own
 * property of the value it is looked up on (looking up on null, undefined
 * or a number included; a present null is not missing). Every missing path
 * is recorded as written ("order.id", "../x", "@index"), once, in order of
 * first use, and the render fails with OMNI_EMISSING after the whole
 * template was rendered. Not missing (conditions): the arguments of #if
 * and #unless (and of subexpressions in them, e.g. (eq a b)), of the
 * built-in `default`, and the value of a section {{#x}} / {{^x}} that is
 * no helper (and mustache sections). Helper names are not variables.
 *
 * Errors: OMNI_ESYNTAX (message "line L, column C: ..." — plus " (in
 * partial "name")" for a partial — details {"line","column","partial"?};
 * columns count characters), OMNI_ECONFIG (bad options), OMNI_EINVAL,
 * OMNI_ETOOLARGE (source or a partial over the limit), OMNI_ETOODEEP
 * (nesting; message and details as for OMNI_ESYNTAX), OMNI_ENOMEM.
 */
OMNI_API int omni_template_compile(omni_template **out, const char *source, size_t len,
                                   const char *options_json, size_t options_len,
                                   const omni_helpers *helpers) OMNI_WARN_UNUSED;
OMNI_API void omni_template_free(omni_template *t);

/* Renders with data given as JSON text (data_len 0: an empty object; the
 * data is parsed as omni_data_parse does). *out (NUL-terminated; it may hold
 * NUL bytes from the data, *out_len counts them) is released with
 * omni_free; nothing is handed out on error. Errors: OMNI_EINVAL,
 * OMNI_EJSON (data), OMNI_EMISSING (strict mode; details {"missing":
 * ["path", ...]} lists every missing path), OMNI_EHELPER (a helper used
 * with arguments is unknown, a built-in got wrong arguments, or a helper
 * failed), OMNI_ENOTFOUND (handlebars mode: a partial that does not
 * exist), OMNI_ETOODEEP (partial recursion, render depth), OMNI_ETOOLARGE
 * (output size or work limit), OMNI_ENOMEM. */
OMNI_API int omni_template_render(char **out, size_t *out_len, const omni_template *t,
                                  const char *data_json, size_t data_len);
/* Renders with already parsed data (the fast path for repeated renders: a
 * small render allocates only its result). Errors as omni_template_render;
 * data must not be NULL. */
OMNI_API int omni_template_render_data(char **out, size_t *out_len, const omni_template *t,
                                       const omni_data *data);

/* The variable paths the template reads (["name","order.id",...]) and the
 * helpers and partials it calls, as JSON {"variables":[...],"helpers":[...],
 * "partials":[...]}, each list without repeats in order of first
 * appearance, the partials compiled with the template included. variables:
 * every path as written ("name", "order.id", "../total", "this.x",
 * "@root.x") except `this`/`.`/`..` alone, block parameters and data
 * variables other than @root.*; paths inside #each/#with are relative to
 * their block's context. helpers: names called as helpers (built-in, host,
 * and unknown names used with arguments). partials: static partial names
 * ({{> name}}). */
OMNI_API int omni_template_inspect(char **out, size_t *out_len, const omni_template *t);

#ifdef __cplusplus
}
#endif

#endif
