/* Email messages for the email adapters (aws-ses raw messages, smtp): the
 * event's mail members, and the RFC 5322 message with its MIME body
 * (RFC 2045, 2046, 2047). See outbound_internal.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/crypto_internal.h"
#include "core/error.h"
#include "core/tz.h"
#include "outbound_internal.h"

#define EW_LINE 76    /* RFC 2047 section 2: a line holding encoded-words */
#define EW_MAX 75     /* RFC 2047 section 2: one encoded-word */
#define SOFT_LINE 78  /* RFC 5322 section 2.1.1: SHOULD */
#define HARD_LINE 998 /* RFC 5322 section 2.1.1: MUST */
#define QP_LINE 76    /* RFC 2045 section 6.7 rule 5 */
#define MAX_DATE_MS INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */

static int printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

/* RFC 5322 section 3.2.3 atext. */
static int is_atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

int omni__mime_address_ok(const char *s)
{
    size_t n = strlen(s);
    const char *at = strchr(s, '@');
    if (n < 3 || n > 254 || !at || at == s || strchr(at + 1, '@'))
        return 0;
    size_t local = (size_t)(at - s);
    if (local > 64 || s[0] == '.' || at[-1] == '.')
        return 0;
    for (size_t i = 0; i < local; i++)
        if (!(is_atext((unsigned char)s[i]) || (s[i] == '.' && s[i + 1] != '.')))
            return 0;
    /* the domain: labels of letters, digits and '-' (not first or last),
     * separated by single dots */
    const char *d = at + 1;
    size_t label = 0;
    for (; *d; d++) {
        unsigned char c = (unsigned char)*d;
        if (c == '.') {
            if (!label || d[-1] == '-')
                return 0;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   (c == '-' && label)) {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label && d[-1] != '-';
}

/* ---- reading the event ----------------------------------------------------------- */

static int header_text(const char *carrier, const char *member, const char *s)
{
    if (strpbrk(s, "\r\n"))
        return omni__ob_event_error(carrier, member, "must not hold CR or LF");
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return omni__ob_event_error(carrier, member, "must not hold control characters");
    return OMNI_OK;
}

static int read_attachments(omni__mime_mail *m, const cJSON *arr, const char *carrier)
{
    if (!cJSON_IsArray(arr))
        return omni__ob_event_error(carrier, "message.attachments", "must be an array");
    if (cJSON_GetArraySize(arr) > OMNI__MIME_MAX_ATTACHMENTS)
        return omni__ob_event_error(carrier, "message.attachments",
                                    "must hold at most 100 attachments");
    const cJSON *a;
    int rc;
    cJSON_ArrayForEach(a, arr)
    {
        char where[64], member[96];
        snprintf(where, sizeof(where), "message.attachments[%zu]", m->n_att);
        if (!cJSON_IsObject(a))
            return omni__ob_event_error(carrier, where, "must be an object");
        omni__mime_attachment *t = &m->att[m->n_att];
        if ((rc = omni__ob_opt_str(&t->filename, a, "filename", where, carrier)) ||
            (rc = omni__ob_opt_str(&t->type, a, "contentType", where, carrier)) ||
            (rc = omni__ob_opt_str(&t->b64, a, "contentBase64", where, carrier)))
            return rc;
        snprintf(member, sizeof(member), "%s.filename", where);
        if (t->filename && strpbrk(t->filename, "\r\n"))
            return omni__ob_event_error(carrier, member, "must not hold CR or LF");
        if (!t->filename || !t->filename[0] || strlen(t->filename) > 255 ||
            !printable_ascii(t->filename) || strpbrk(t->filename, "\"\\"))
            return omni__ob_event_error(carrier, member,
                                        "must be 1..255 printable ASCII bytes without '\"' "
                                        "or '\\'");
        snprintf(member, sizeof(member), "%s.contentType", where);
        if (t->type && !omni__ob_mime_type_ok(t->type))
            return omni__ob_event_error(carrier, member, "must be \"type/subtype\"");
        snprintf(member, sizeof(member), "%s.contentBase64", where);
        if (!t->b64)
            return omni__ob_event_error(carrier, member, "must be a string");
        int ok = omni__ob_base64_ok(t->b64);
        if (ok < 0)
            return omni__err(OMNI_ENOMEM, NULL);
        if (!ok)
            return omni__ob_event_error(carrier, member,
                                        "is not valid base64 (RFC 4648 section 4)");
        if (!t->type)
            t->type = "application/octet-stream";
        m->n_att++;
    }
    return OMNI_OK;
}

int omni__mime_read(omni__mime_mail *m, const omni__ob_event *ev, const char *carrier)
{
    const cJSON *msg = ev->message;
    const char *content;
    int rc;
    if ((rc = omni__ob_opt_str(&m->subject, msg, "subject", "message", carrier)) ||
        (rc = omni__ob_opt_str(&m->text, msg, "text", "message", carrier)) ||
        (rc = omni__ob_opt_str(&m->html, msg, "html", "message", carrier)) ||
        (rc = omni__ob_opt_str(&content, msg, "content", "message", carrier)))
        return rc;
    if (!m->subject || !m->subject[0])
        return omni__ob_event_error(carrier, "message.subject", "must be a non-empty string");
    if (strlen(m->subject) > OMNI__MIME_MAX_SUBJECT)
        return omni__ob_event_error(carrier, "message.subject", "must be at most 998 bytes");
    if ((rc = header_text(carrier, "message.subject", m->subject)))
        return rc;
    if (!m->text && !m->html)
        m->text = content;
    if ((!m->text || !m->text[0]) && (!m->html || !m->html[0]))
        return omni__ob_event_error(carrier, "message.text",
                                    "(or html, or content) must be a non-empty string");
    if (m->text && !m->text[0])
        m->text = NULL;
    if (m->html && !m->html[0])
        m->html = NULL;
    const cJSON *atts = cJSON_GetObjectItemCaseSensitive(msg, "attachments");
    if (atts && (rc = read_attachments(m, atts, carrier)))
        return rc;
    return OMNI_OK;
}

/* ---- header fields ----------------------------------------------------------------- */

/* Bytes of the UTF-8 character at s (1 for an ill-formed byte; the JSON
 * parser has checked the event, so that does not happen). */
static size_t char_len(const char *s, size_t n)
{
    uint32_t cp;
    size_t l = omni__utf8_next((const unsigned char *)s, n, &cp);
    return l ? l : 1;
}

static size_t ew_len(size_t bytes)
{
    return 12 + 4 * ((bytes + 2) / 3); /* "=?UTF-8?B?" base64 "?=" */
}

/* Appends s[0..n) as RFC 2047 "B" encoded-words at column col, each holding
 * whole UTF-8 characters (section 5), folded so that no line is longer than
 * 76 columns; returns the column after the last word. */
static size_t encoded_words(omni_buf *b, size_t col, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t sep = i ? 1 : 0;
        if (col + sep + ew_len(char_len(s + i, n - i)) > EW_LINE) {
            omni__buf_puts(b, "\r\n "); /* the space between words is ignored (6.2) */
            col = 1;
        } else if (sep) {
            omni__buf_putc(b, ' ');
            col++;
        }
        size_t room = EW_LINE - col < EW_MAX ? EW_LINE - col : EW_MAX;
        size_t k = 0;
        while (i + k < n) {
            size_t l = char_len(s + i + k, n - i - k);
            if (ew_len(k + l) > room)
                break;
            k += l;
        }
        omni__buf_puts(b, "=?UTF-8?B?");
        omni__base64_append(b, s + i, k, 0);
        omni__buf_puts(b, "?=");
        col += ew_len(k);
        i += k;
    }
    return col;
}

/* The pieces a plain ASCII unstructured value is folded into: each starts
 * at a space followed by a non-space (the first at 0). Calls fn for each;
 * returns the longest piece. */
static size_t fold_pieces(const char *s, void (*fn)(void *, const char *, size_t), void *ud)
{
    size_t n = strlen(s), i = 0, longest = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && !(s[j] == ' ' && j + 1 < n && s[j + 1] != ' '))
            j++;
        if (fn)
            fn(ud, s + i, j - i);
        if (j - i > longest)
            longest = j - i;
        i = j;
    }
    return longest;
}

typedef struct folder {
    omni_buf *b;
    size_t col;
} folder;

static void fold_put(void *ud, const char *piece, size_t len)
{
    folder *f = ud;
    if (piece[0] == ' ' && f->col + len > SOFT_LINE) {
        omni__buf_puts(f->b, "\r\n"); /* folding white space: CRLF before a space */
        f->col = 0;
    }
    omni__buf_append(f->b, piece, len);
    f->col += len;
}

/* "Subject: ..." (RFC 5322 section 3.6.5): printable ASCII folded at spaces
 * to 78 columns when every piece fits; else (non-ASCII, a piece too long to
 * fold, or text that would read as an encoded-word) encoded-words. */
static void subject_header(omni_buf *b, const char *s)
{
    omni__buf_puts(b, "Subject: ");
    if (printable_ascii(s) && !strstr(s, "=?") && fold_pieces(s, NULL, NULL) <= SOFT_LINE - 9) {
        folder f = {b, 9};
        fold_pieces(s, fold_put, &f);
    } else {
        encoded_words(b, 9, s, strlen(s));
    }
    omni__buf_puts(b, "\r\n");
}

/* 1 when s is a phrase of atoms separated by single spaces. */
static int plain_phrase(const char *s)
{
    if (!*s || *s == ' ')
        return 0;
    for (; *s; s++)
        if (!(is_atext((unsigned char)*s) || (*s == ' ' && s[1] && s[1] != ' ')))
            return 0;
    return 1;
}

/* "From: ..." with a display name: as atoms, a quoted-string, or
 * encoded-words (RFC 5322 section 3.4, RFC 2047 section 5 (3)). */
static void from_header(omni_buf *b, const omni__mime_mail *m)
{
    omni__buf_puts(b, "From: ");
    if (m->from_raw) {
        omni__buf_printf(b, "%s\r\n", m->from_raw);
        return;
    }
    if (!m->from_name) {
        omni__buf_printf(b, "%s\r\n", m->from_email);
        return;
    }
    const char *name = m->from_name;
    size_t col;
    if (printable_ascii(name) && !strstr(name, "=?")) {
        if (plain_phrase(name)) {
            omni__buf_puts(b, name);
        } else {
            omni__buf_putc(b, '"');
            for (const char *p = name; *p; p++) {
                if (*p == '"' || *p == '\\')
                    omni__buf_putc(b, '\\');
                omni__buf_putc(b, *p);
            }
            omni__buf_putc(b, '"');
        }
        omni__buf_printf(b, " <%s>\r\n", m->from_email);
        return;
    }
    col = encoded_words(b, 6, name, strlen(name));
    if (col + 3 + strlen(m->from_email) > EW_LINE)
        omni__buf_puts(b, "\r\n");
    omni__buf_printf(b, " <%s>\r\n", m->from_email);
}

static int date_header(omni_buf *b, int64_t now_ms, const char *carrier)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (now_ms < 0 || now_ms > MAX_DATE_MS)
        return omni__err(OMNI_ETIME, "outbound %s: the time %lld ms is outside 1970..9999 "
                                     "(the Date header field)",
                         carrier, (long long)now_ms);
    omni__civil c;
    omni__civil_from_seconds(now_ms / 1000, &c);
    /* RFC 5322 section 3.3 */
    omni__buf_printf(b, "Date: %s, %02d %s %04lld %02d:%02d:%02d +0000\r\n", days[c.weekday],
                     c.day, months[c.month - 1], (long long)c.year, c.hour, c.minute, c.second);
    return OMNI_OK;
}

/* The domain of the From address: after the last '@', letters, digits,
 * '-' and '.'; "omni.invalid" when there is none. */
static void from_domain(char *out, size_t cap, const omni__mime_mail *m)
{
    const char *from = m->from_raw ? m->from_raw : m->from_email;
    const char *at = strrchr(from, '@');
    size_t n = 0;
    if (at)
        for (const char *p = at + 1; n + 1 < cap; p++, n++) {
            unsigned char c = (unsigned char)*p;
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.'))
                break;
            out[n] = *p;
        }
    while (n && out[n - 1] == '.')
        n--;
    out[n] = '\0';
    if (!n || out[0] == '.' || strstr(out, ".."))
        snprintf(out, cap, "omni.invalid");
}

static int hex_digest(char *hex, size_t bytes, const void *data, size_t len, const char *carrier)
{
    uint8_t h[32];
    if (omni__sha256(h, data, len))
        return omni__err(OMNI_ECRYPTO, "outbound %s: SHA-256 failed", carrier);
    for (size_t i = 0; i < bytes; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    return OMNI_OK;
}

static int message_id_header(omni_buf *b, const omni__mime_mail *m, int64_t now_ms,
                             const char *carrier)
{
    const char *cid = m->correlation_id ? m->correlation_id : "";
    omni_buf seed = OMNI_BUF_INIT;
    omni__buf_puts(&seed, "omni-message-id");
    omni__buf_putc(&seed, '\0');
    omni__buf_puts(&seed, cid);
    omni__buf_putc(&seed, '\0');
    omni__buf_puts(&seed, m->to);
    if (!cid[0])
        omni__buf_printf(&seed, "%c%lld", '\0', (long long)now_ms);
    if (seed.failed) {
        omni__buf_free(&seed);
        return omni__err(OMNI_ENOMEM, NULL);
    }
    char hex[33], domain[256];
    int rc = hex_digest(hex, 16, seed.data, seed.len, carrier);
    omni__buf_free(&seed);
    if (rc)
        return rc;
    from_domain(domain, sizeof(domain), m);
    omni__buf_printf(b, "Message-ID: <%s@%s>\r\n", hex, domain);
    return OMNI_OK;
}

/* ---- bodies ---------------------------------------------------------------------------- */

/* base64 of data in lines of 76 characters, each ended by CRLF. */
static void b64_lines(omni_buf *b, const void *data, size_t len)
{
    omni_buf t = OMNI_BUF_INIT;
    omni__base64_append(&t, data, len, 0);
    if (t.failed) {
        b->failed = t.failed;
    } else {
        for (size_t i = 0; i < t.len; i += 76) {
            size_t k = t.len - i < 76 ? t.len - i : 76;
            omni__buf_append(b, t.data + i, k);
            omni__buf_append(b, "\r\n", 2);
        }
    }
    omni__buf_free(&t);
}

/* 7bit is enough: printable ASCII and tabs, lines of at most 998 bytes, and
 * no "=_" (the boundaries' prefix, so that no line can be a delimiter). */
static int fits_7bit(const char *s)
{
    size_t line = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\r' || c == '\n') {
            line = 0;
            continue;
        }
        if ((c < 0x20 && c != '\t') || c > 0x7e || ++line > HARD_LINE ||
            (c == '=' && s[1] == '_'))
            return 0;
    }
    return 1;
}

/* Length of the line break at s (CRLF, CR or LF), or 0. */
static size_t line_break(const char *s)
{
    if (s[0] == '\r')
        return s[1] == '\n' ? 2 : 1;
    return s[0] == '\n';
}

static void put_7bit(omni_buf *b, const char *s)
{
    while (*s) {
        size_t k = strcspn(s, "\r\n");
        omni__buf_append(b, s, k);
        s += k;
        if (*s) {
            omni__buf_append(b, "\r\n", 2);
            s += line_break(s);
        }
    }
}

/* Quoted-printable (RFC 2045 section 6.7): line breaks become CRLF; '=',
 * controls, bytes over 126, and a space or tab ending a line are =XX; soft
 * line breaks keep every line within 76 characters. */
static void put_qp(omni_buf *b, const char *s)
{
    size_t col = 0;
    while (*s) {
        size_t br = line_break(s);
        if (br) {
            omni__buf_append(b, "\r\n", 2);
            col = 0;
            s += br;
            continue;
        }
        unsigned char c = (unsigned char)*s;
        int eol = !s[1] || line_break(s + 1);
        char tok[4];
        size_t tl = 1;
        if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !eol)) {
            tok[0] = (char)c;
        } else {
            snprintf(tok, sizeof(tok), "=%02X", c);
            tl = 3;
        }
        if (col + tl > (eol ? QP_LINE : QP_LINE - 1)) {
            omni__buf_append(b, "=\r\n", 3);
            col = 0;
        }
        omni__buf_append(b, tok, tl);
        col += tl;
        s++;
    }
}

/* The header fields of a text part (or of a single-part message). */
static void text_headers(omni_buf *b, const char *type, int qp)
{
    omni__buf_printf(b, "Content-Type: %s; charset=UTF-8\r\nContent-Transfer-Encoding: %s\r\n\r\n",
                     type, qp ? "quoted-printable" : "7bit");
}

static void text_content(omni_buf *b, const char *text, int qp)
{
    if (qp)
        put_qp(b, text);
    else
        put_7bit(b, text);
}

/* A body part of a multipart: delimiter, header fields, content, CRLF (the
 * CRLF before the next delimiter belongs to it, RFC 2046 section 5.1.1). */
static void text_part(omni_buf *b, const char *boundary, const char *type, const char *text)
{
    int qp = !fits_7bit(text);
    omni__buf_printf(b, "--%s\r\n", boundary);
    text_headers(b, type, qp);
    text_content(b, text, qp);
    omni__buf_append(b, "\r\n", 2);
}

/* The text of the message: one part, or multipart/alternative (text, then
 * HTML: the last is the preferred one, RFC 2046 section 5.1.4). At the
 * top level (boundary NULL) a single part's header fields are the
 * message's own. */
static void text_body(omni_buf *b, const omni__mime_mail *m, const char *boundary,
                      const char *alt)
{
    if (m->text && m->html) {
        if (boundary)
            omni__buf_printf(b, "--%s\r\n", boundary);
        omni__buf_printf(b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", alt);
        text_part(b, alt, "text/plain", m->text);
        text_part(b, alt, "text/html", m->html);
        omni__buf_printf(b, "--%s--\r\n", alt);
        return;
    }
    const char *type = m->text ? "text/plain" : "text/html";
    const char *text = m->text ? m->text : m->html;
    if (boundary) {
        text_part(b, boundary, type, text);
        return;
    }
    int qp = !fits_7bit(text);
    text_headers(b, type, qp);
    text_content(b, text, qp);
    if (b->len < 2 || memcmp(b->data + b->len - 2, "\r\n", 2) != 0)
        omni__buf_append(b, "\r\n", 2);
}

static int attachment_part(omni_buf *b, const char *boundary, const omni__mime_attachment *a)
{
    omni__buf_printf(b, "--%s\r\nContent-Type: %s; name=\"%s\"\r\n"
                        "Content-Disposition: attachment; filename=\"%s\"\r\n"
                        "Content-Transfer-Encoding: base64\r\n\r\n",
                     boundary, a->type, a->filename, a->filename);
    size_t n = strlen(a->b64), len = 0, cap = omni__base64_decoded_max(n) + 1;
    uint8_t *raw = malloc(cap);
    if (!raw)
        return omni__err(OMNI_ENOMEM, NULL);
    int rc = omni__base64_decode_into(raw, cap, &len, a->b64, n, 0);
    if (!rc)
        b64_lines(b, raw, len);
    free(raw);
    return rc; /* checked by omni__mime_read: a failure here has set the last error */
}

int omni__mime_build(omni_buf *out, const omni__mime_mail *m, int64_t now_ms,
                     const char *carrier)
{
    const char *seed = m->correlation_id ? m->correlation_id : "";
    char hex[25];
    int rc;
    if ((rc = hex_digest(hex, 12, seed, strlen(seed), carrier)))
        return rc;
    /* "=_" cannot occur in base64 or quoted-printable text, and 7bit text
     * holding it is sent quoted-printable: no part can hold a boundary. */
    char mixed[48], alt[48];
    snprintf(mixed, sizeof(mixed), "=_omni_mixed_%s", hex);
    snprintf(alt, sizeof(alt), "=_omni_alt_%s", hex);

    if ((rc = date_header(out, now_ms, carrier)))
        return rc;
    from_header(out, m);
    if (m->reply_to)
        omni__buf_printf(out, "Reply-To: %s\r\n", m->reply_to);
    omni__buf_printf(out, "To: %s\r\n", m->to);
    subject_header(out, m->subject);
    if ((rc = message_id_header(out, m, now_ms, carrier)))
        return rc;
    omni__buf_puts(out, "MIME-Version: 1.0\r\n");
    if (!m->n_att) {
        text_body(out, m, NULL, alt);
        return OMNI_OK;
    }
    omni__buf_printf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", mixed);
    text_body(out, m, mixed, alt);
    for (size_t i = 0; i < m->n_att; i++)
        if ((rc = attachment_part(out, mixed, &m->att[i])))
            return rc;
    omni__buf_printf(out, "--%s--\r\n", mixed);
    return OMNI_OK;
}
