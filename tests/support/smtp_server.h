/*
 * A small real SMTP server for tests (test support, not part of libomni).
 *
 * It listens on 127.0.0.1 on an ephemeral port and runs in its own thread
 * (poll() over the listener, the connections and a wake-up pipe), speaking
 * enough of RFC 5321 for libcurl: the 220 greeting, EHLO (advertising AUTH
 * PLAIN LOGIN, SIZE, 8BITMIME, ENHANCEDSTATUSCODES) and HELO, AUTH PLAIN
 * and AUTH LOGIN (RFC 4954), MAIL FROM, RCPT TO, DATA (dot-unstuffing, the
 * end at CRLF.CRLF), RSET, NOOP, QUIT. No TLS: STARTTLS is neither
 * advertised nor accepted. Every completed DATA is recorded as a mail
 * (envelope, authenticated user, data), every command line as a command.
 *
 * Replies can be scripted per stage: the next command of that stage (on any
 * connection) gets the scripted reply instead of the usual one, or no reply
 * at all (STALL: the connection is kept open and ignored), or the
 * connection is closed (CLOSE). A scripted 4xx/5xx refuses the command (no
 * state change); a scripted reply starting with 421 also closes the
 * connection, as RFC 5321 section 3.8 has it.
 *
 *     omni_test_smtp *srv;
 *     omni_test_smtp_start(&srv, NULL);
 *     omni_test_smtp_script(srv, "RCPT", OMNI_TEST_SMTP_REPLY, "550 5.1.1 No such user");
 *     ... send to omni_test_smtp_url(srv) ...
 *     const omni_test_mail *m = omni_test_smtp_mail(srv, 0);
 *     omni_test_smtp_stop(srv);
 *
 * Thread-safety: every function may be called from any thread while the
 * server runs.
 */
#ifndef OMNI_TEST_SMTP_SERVER_H
#define OMNI_TEST_SMTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct omni_test_smtp omni_test_smtp;

typedef struct omni_test_smtp_options {
    const char *user;     /* the credentials AUTH accepts; NULL: AUTH always fails */
    const char *password;
    int require_auth;     /* MAIL before a successful AUTH gets 530 5.7.0 */
} omni_test_smtp_options;

/* One transaction whose data arrived. Owned by the server; valid until
 * omni_test_smtp_stop. */
typedef struct omni_test_mail {
    size_t index;       /* order of arrival, from 0 */
    unsigned connection;/* id of its connection, from 1 */
    char *helo;         /* the EHLO/HELO argument ("" when none was given) */
    char *auth_user;    /* the authenticated user, or NULL */
    char *mail_from;    /* the reverse-path as sent, "<a@b>" */
    char *mail_params;  /* what followed it (" SIZE=123"), "" when nothing */
    size_t rcpt_count;
    char **rcpt;        /* the forward-paths as sent, "<x@y>" */
    uint8_t *data;      /* the message after dot-unstuffing, up to and including
                         * the CRLF before the final ".", followed by a NUL */
    size_t data_len;
    int reply;          /* the reply code sent for it (250 unless scripted) */
} omni_test_mail;

typedef enum omni_test_smtp_kind {
    OMNI_TEST_SMTP_REPLY = 0, /* send `reply` (lines separated by CRLF, no final CRLF) */
    OMNI_TEST_SMTP_STALL = 1, /* never answer; ignore the connection from then on */
    OMNI_TEST_SMTP_CLOSE = 2  /* close the connection without answering */
} omni_test_smtp_kind;

/* Starts a server; opts may be NULL (no credentials). 0, or -1 (errno). */
int omni_test_smtp_start(omni_test_smtp **out, const omni_test_smtp_options *opts);
/* Stops the thread, closes every connection, frees everything. Never blocks
 * on a client. NULL does nothing. */
void omni_test_smtp_stop(omni_test_smtp *srv);

uint16_t omni_test_smtp_port(const omni_test_smtp *srv);
/* "smtp://127.0.0.1:PORT" (owned by the server). */
const char *omni_test_smtp_url(const omni_test_smtp *srv);

/*
 * Queues an action for the next command of `stage`: "GREETING", "EHLO",
 * "HELO", "AUTH" (the final reply of an AUTH exchange), "MAIL", "RCPT",
 * "DATA" (the reply to the DATA command), "BODY" (when the first bytes of
 * the data arrive: STALL or CLOSE only), "DOT" (the reply to the end of the
 * data; the mail is recorded either way, except for CLOSE and STALL),
 * "RSET", "NOOP", "QUIT", "STARTTLS". 0, or -1 (bad stage or kind).
 */
int omni_test_smtp_script(omni_test_smtp *srv, const char *stage, int kind, const char *reply);

/* Connections accepted so far. */
size_t omni_test_smtp_connections(omni_test_smtp *srv);
/* Mails recorded so far, and the i-th (NULL when out of range). */
size_t omni_test_smtp_mail_count(omni_test_smtp *srv);
const omni_test_mail *omni_test_smtp_mail(omni_test_smtp *srv, size_t i);
/* Waits up to timeout_ms until at least n mails arrived; 1 if so. */
int omni_test_smtp_wait_mails(omni_test_smtp *srv, size_t n, unsigned timeout_ms);
/* Command lines received so far (without CRLF; data lines are not
 * commands), and the i-th. */
size_t omni_test_smtp_command_count(omni_test_smtp *srv);
const char *omni_test_smtp_command(omni_test_smtp *srv, size_t i);
/* 1 when some command line so far starts with `prefix` (ASCII
 * case-insensitive). */
int omni_test_smtp_saw(omni_test_smtp *srv, const char *prefix);

#endif
