/* A small real SMTP test server on 127.0.0.1 (see smtp_server.h). */
#include "smtp_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE 4096u
#define MAX_DATA (32u * 1024u * 1024u)
#define CHUNK (64u * 1024u)

enum { S_CMD, S_DATA, S_AUTH_PLAIN, S_AUTH_USER, S_AUTH_PASS, S_STALLED };

static const char *const stages[] = {"GREETING", "EHLO", "HELO", "AUTH", "MAIL",
                                     "RCPT",     "DATA", "BODY", "DOT",  "RSET",
                                     "NOOP",     "QUIT", "STARTTLS"};
enum {
    ST_GREETING,
    ST_EHLO,
    ST_HELO,
    ST_AUTH,
    ST_MAIL,
    ST_RCPT,
    ST_DATA,
    ST_BODY,
    ST_DOT,
    ST_RSET,
    ST_NOOP,
    ST_QUIT,
    ST_STARTTLS,
    N_STAGES
};

typedef struct action {
    int stage, kind;
    char *reply;
} action;

typedef struct conn {
    int fd;
    unsigned id;
    int state;
    int dead;
    int close_after_write;
    char *in;
    size_t in_len, in_cap;
    char *out;
    size_t out_len, out_off, out_cap;
    char *helo, *auth_user, *login_user;
    int in_tx;
    char *from, *params;
    char **rcpt;
    size_t rcpt_count;
} conn;

struct omni_test_smtp {
    int lfd;
    int wake[2];
    uint16_t port;
    char url[64];
    pthread_t thread;
    char *user, *password;
    int require_auth;

    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t cv;
    action *queue;
    size_t q_len, q_cap;
    omni_test_mail **mails;
    size_t mail_count, mail_cap;
    char **cmds;
    size_t cmd_count, cmd_cap;
    size_t accepted;

    /* the server thread's own state */
    conn **conns;
    size_t conn_count, conn_cap;
};

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int prefix_ieq(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (lower((unsigned char)*s) != lower((unsigned char)*prefix))
            return 0;
    return 1;
}

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* RFC 4648 section 4 base64 into a NUL-terminated malloc'd buffer; NULL when
 * malformed. */
static char *b64_decode(const char *s, size_t *out_len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s);
    if (n % 4)
        return NULL;
    char *out = malloc(n / 4 * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = 0;
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            const char *p = s[i + k] ? strchr(alphabet, s[i + k]) : NULL;
            if (s[i + k] == '=' && i + 4 == n && k >= 2) {
                pad++;
                v <<= 6;
                continue;
            }
            if (!p || pad) {
                free(out);
                return NULL;
            }
            v = v << 6 | (uint32_t)(p - alphabet);
        }
        out[o++] = (char)(v >> 16);
        if (pad < 2)
            out[o++] = (char)(v >> 8 & 0xff);
        if (pad < 1)
            out[o++] = (char)(v & 0xff);
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* ---- scripts and records ---------------------------------------------------- */

int omni_test_smtp_script(omni_test_smtp *srv, const char *stage, int kind, const char *reply)
{
    int st = -1;
    for (int i = 0; i < N_STAGES && stage; i++)
        if (strcmp(stage, stages[i]) == 0)
            st = i;
    if (!srv || st < 0 || kind < OMNI_TEST_SMTP_REPLY || kind > OMNI_TEST_SMTP_CLOSE ||
        (kind == OMNI_TEST_SMTP_REPLY && (!reply || st == ST_BODY)))
        return -1;
    char *copy = reply ? strdup(reply) : NULL;
    if (reply && !copy)
        return -1;
    pthread_mutex_lock(&srv->mu);
    if (srv->q_len == srv->q_cap) {
        size_t cap = srv->q_cap ? srv->q_cap * 2 : 8;
        action *p = realloc(srv->queue, cap * sizeof(*p));
        if (!p) {
            pthread_mutex_unlock(&srv->mu);
            free(copy);
            return -1;
        }
        srv->queue = p;
        srv->q_cap = cap;
    }
    srv->queue[srv->q_len++] = (action){st, kind, copy};
    pthread_mutex_unlock(&srv->mu);
    return 0;
}

/* Takes the first queued action of a stage; 1 when there was one. */
static int take_action(omni_test_smtp *srv, int stage, action *out)
{
    int found = 0;
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; i < srv->q_len; i++) {
        if (srv->queue[i].stage != stage)
            continue;
        *out = srv->queue[i];
        memmove(srv->queue + i, srv->queue + i + 1, (srv->q_len - i - 1) * sizeof(action));
        srv->q_len--;
        found = 1;
        break;
    }
    pthread_mutex_unlock(&srv->mu);
    return found;
}

static void record_command(omni_test_smtp *srv, const char *line)
{
    char *copy = strdup(line);
    if (!copy)
        return;
    pthread_mutex_lock(&srv->mu);
    if (srv->cmd_count == srv->cmd_cap) {
        size_t cap = srv->cmd_cap ? srv->cmd_cap * 2 : 32;
        char **p = realloc(srv->cmds, cap * sizeof(*p));
        if (!p) {
            pthread_mutex_unlock(&srv->mu);
            free(copy);
            return;
        }
        srv->cmds = p;
        srv->cmd_cap = cap;
    }
    srv->cmds[srv->cmd_count++] = copy;
    pthread_mutex_unlock(&srv->mu);
}

static void mail_free(omni_test_mail *m)
{
    if (!m)
        return;
    free(m->helo);
    free(m->auth_user);
    free(m->mail_from);
    free(m->mail_params);
    for (size_t i = 0; i < m->rcpt_count; i++)
        free(m->rcpt[i]);
    free(m->rcpt);
    free(m->data);
    free(m);
}

/* ---- queries ------------------------------------------------------------------ */

uint16_t omni_test_smtp_port(const omni_test_smtp *srv)
{
    return srv ? srv->port : 0;
}

const char *omni_test_smtp_url(const omni_test_smtp *srv)
{
    return srv ? srv->url : NULL;
}

size_t omni_test_smtp_connections(omni_test_smtp *srv)
{
    pthread_mutex_lock(&srv->mu);
    size_t n = srv->accepted;
    pthread_mutex_unlock(&srv->mu);
    return n;
}

size_t omni_test_smtp_mail_count(omni_test_smtp *srv)
{
    pthread_mutex_lock(&srv->mu);
    size_t n = srv->mail_count;
    pthread_mutex_unlock(&srv->mu);
    return n;
}

const omni_test_mail *omni_test_smtp_mail(omni_test_smtp *srv, size_t i)
{
    pthread_mutex_lock(&srv->mu);
    const omni_test_mail *m = i < srv->mail_count ? srv->mails[i] : NULL;
    pthread_mutex_unlock(&srv->mu);
    return m;
}

int omni_test_smtp_wait_mails(omni_test_smtp *srv, size_t n, unsigned timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&srv->mu);
    while (srv->mail_count < n)
        if (pthread_cond_timedwait(&srv->cv, &srv->mu, &until) == ETIMEDOUT)
            break;
    int ok = srv->mail_count >= n;
    pthread_mutex_unlock(&srv->mu);
    return ok;
}

size_t omni_test_smtp_command_count(omni_test_smtp *srv)
{
    pthread_mutex_lock(&srv->mu);
    size_t n = srv->cmd_count;
    pthread_mutex_unlock(&srv->mu);
    return n;
}

const char *omni_test_smtp_command(omni_test_smtp *srv, size_t i)
{
    pthread_mutex_lock(&srv->mu);
    const char *c = i < srv->cmd_count ? srv->cmds[i] : NULL;
    pthread_mutex_unlock(&srv->mu);
    return c;
}

int omni_test_smtp_saw(omni_test_smtp *srv, const char *prefix)
{
    int found = 0;
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; i < srv->cmd_count && !found; i++)
        found = prefix_ieq(srv->cmds[i], prefix);
    pthread_mutex_unlock(&srv->mu);
    return found;
}

/* ---- connections ---------------------------------------------------------------- */

static void conn_close(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->dead = 1;
}

static void tx_reset(conn *c)
{
    free(c->from);
    free(c->params);
    for (size_t i = 0; i < c->rcpt_count; i++)
        free(c->rcpt[i]);
    free(c->rcpt);
    c->from = c->params = NULL;
    c->rcpt = NULL;
    c->rcpt_count = 0;
    c->in_tx = 0;
}

static void conn_free(conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    tx_reset(c);
    free(c->in);
    free(c->out);
    free(c->helo);
    free(c->auth_user);
    free(c->login_user);
    free(c);
}

static void conn_flush(conn *c)
{
    while (!c->dead && c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            conn_close(c);
            return;
        }
        c->out_off += (size_t)n;
    }
    if (c->dead)
        return;
    c->out_len = c->out_off = 0;
    if (c->close_after_write)
        conn_close(c);
}

/* Queues a reply (lines separated by CRLF, without the final CRLF). */
static void say(conn *c, const char *text)
{
    size_t n = strlen(text);
    if (c->out_len + n + 2 > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 1024;
        while (cap < c->out_len + n + 2)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p) {
            conn_close(c);
            return;
        }
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, text, n);
    memcpy(c->out + c->out_len + n, "\r\n", 2);
    c->out_len += n + 2;
    if (strncmp(text, "421", 3) == 0)
        c->close_after_write = 1;
    conn_flush(c);
}

/* A scripted action for the stage: 1 when it has done everything (a refusal,
 * a stall, a close); 0 when the command goes on as usual, with *custom the
 * positive reply to send instead of the usual one (free it). */
static int scripted(omni_test_smtp *srv, conn *c, int stage, char **custom)
{
    action a;
    *custom = NULL;
    if (!take_action(srv, stage, &a))
        return 0;
    if (a.kind == OMNI_TEST_SMTP_STALL) {
        c->state = S_STALLED;
        free(a.reply);
        return 1;
    }
    if (a.kind == OMNI_TEST_SMTP_CLOSE) {
        conn_close(c);
        free(a.reply);
        return 1;
    }
    if (a.reply[0] == '4' || a.reply[0] == '5') {
        say(c, a.reply);
        free(a.reply);
        return 1;
    }
    *custom = a.reply;
    return 0;
}

static void reply_usual(conn *c, char *custom, const char *usual)
{
    say(c, custom ? custom : usual);
    free(custom);
}

static void auth_check(omni_test_smtp *srv, conn *c, const char *user, const char *pass)
{
    char *custom;
    c->state = S_CMD;
    if (scripted(srv, c, ST_AUTH, &custom))
        return;
    if (!srv->user || !srv->password || strcmp(user, srv->user) != 0 ||
        strcmp(pass, srv->password) != 0) {
        free(custom);
        say(c, "535 5.7.8 Authentication credentials invalid");
        return;
    }
    free(c->auth_user);
    c->auth_user = strdup(user);
    reply_usual(c, custom, "235 2.7.0 Authentication successful");
}

/* AUTH PLAIN's response: [authzid] NUL authcid NUL passwd (RFC 4616). */
static void auth_plain(omni_test_smtp *srv, conn *c, const char *b64)
{
    size_t n = 0;
    char *raw = b64_decode(b64, &n);
    char *p1 = raw ? memchr(raw, '\0', n) : NULL;
    char *p2 = p1 ? memchr(p1 + 1, '\0', n - (size_t)(p1 + 1 - raw)) : NULL;
    if (!p2) {
        free(raw);
        c->state = S_CMD;
        say(c, "501 5.5.2 Cannot decode the AUTH PLAIN response");
        return;
    }
    auth_check(srv, c, p1 + 1, p2 + 1);
    free(raw);
}

static void record_mail(omni_test_smtp *srv, conn *c, const char *data, size_t len, int code)
{
    omni_test_mail *m = calloc(1, sizeof(*m));
    if (!m)
        return;
    m->connection = c->id;
    m->helo = strdup(c->helo ? c->helo : "");
    m->auth_user = c->auth_user ? strdup(c->auth_user) : NULL;
    m->mail_from = strdup(c->from ? c->from : "");
    m->mail_params = strdup(c->params ? c->params : "");
    m->rcpt = calloc(c->rcpt_count + 1, sizeof(char *));
    m->data = malloc(len + 1);
    m->reply = code;
    if (!m->helo || !m->mail_from || !m->mail_params || !m->rcpt || !m->data) {
        mail_free(m);
        return;
    }
    for (size_t i = 0; i < c->rcpt_count; i++)
        if ((m->rcpt[i] = strdup(c->rcpt[i])))
            m->rcpt_count++;
    /* dot-unstuffing (RFC 5321 section 4.5.2) */
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '.' && (i == 0 || (i >= 2 && data[i - 2] == '\r' && data[i - 1] == '\n')))
            continue;
        m->data[o++] = (uint8_t)data[i];
    }
    m->data[o] = 0;
    m->data_len = o;
    pthread_mutex_lock(&srv->mu);
    if (srv->mail_count == srv->mail_cap) {
        size_t cap = srv->mail_cap ? srv->mail_cap * 2 : 8;
        omni_test_mail **p = realloc(srv->mails, cap * sizeof(*p));
        if (!p) {
            pthread_mutex_unlock(&srv->mu);
            mail_free(m);
            return;
        }
        srv->mails = p;
        srv->mail_cap = cap;
    }
    m->index = srv->mail_count;
    srv->mails[srv->mail_count++] = m;
    pthread_cond_broadcast(&srv->cv);
    pthread_mutex_unlock(&srv->mu);
}

/* "FROM:<path> params" after the verb: *path and *params malloc'd. */
static int split_path(const char *arg, const char *keyword, char **path, char **params)
{
    size_t k = strlen(keyword);
    if (!prefix_ieq(arg, keyword))
        return 0;
    arg += k;
    while (*arg == ' ')
        arg++;
    const char *end = *arg == '<' ? strchr(arg, '>') : NULL;
    if (!end)
        return 0;
    *path = dupn(arg, (size_t)(end + 1 - arg));
    *params = strdup(end + 1);
    if (!*path || !*params) {
        free(*path);
        free(*params);
        return 0;
    }
    return 1;
}

static void command(omni_test_smtp *srv, conn *c, char *line)
{
    char *custom;
    record_command(srv, line);
    if (c->state == S_AUTH_PLAIN || c->state == S_AUTH_USER || c->state == S_AUTH_PASS) {
        if (strcmp(line, "*") == 0) {
            c->state = S_CMD;
            say(c, "501 5.0.0 Authentication cancelled");
        } else if (c->state == S_AUTH_PLAIN) {
            auth_plain(srv, c, line);
        } else if (c->state == S_AUTH_USER) {
            size_t n;
            free(c->login_user);
            c->login_user = b64_decode(line, &n);
            c->state = c->login_user ? S_AUTH_PASS : S_CMD;
            say(c, c->login_user ? "334 UGFzc3dvcmQ6" : "501 5.5.2 Cannot decode the user");
        } else {
            size_t n;
            char *pass = b64_decode(line, &n);
            if (pass)
                auth_check(srv, c, c->login_user, pass);
            else
                say(c, "501 5.5.2 Cannot decode the password");
            c->state = S_CMD;
            free(pass);
        }
        return;
    }
    size_t vlen = strcspn(line, " ");
    char *arg = line + vlen;
    while (*arg == ' ')
        arg++;
#define IS(v) (vlen == strlen(v) && prefix_ieq(line, v))
    if (IS("EHLO") || IS("HELO")) {
        int ehlo = IS("EHLO");
        if (scripted(srv, c, ehlo ? ST_EHLO : ST_HELO, &custom))
            return;
        free(c->helo);
        c->helo = strdup(arg);
        tx_reset(c);
        reply_usual(c, custom,
                    ehlo ? "250-omni-test greets you\r\n250-AUTH PLAIN LOGIN\r\n"
                           "250-SIZE 33554432\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES"
                         : "250 omni-test");
    } else if (IS("AUTH")) {
        if (c->auth_user) {
            say(c, "503 5.5.1 Error: already authenticated");
        } else if (prefix_ieq(arg, "PLAIN")) {
            const char *initial = arg + 5;
            while (*initial == ' ')
                initial++;
            if (*initial && strcmp(initial, "=") != 0) {
                auth_plain(srv, c, initial);
            } else {
                c->state = S_AUTH_PLAIN;
                say(c, "334 ");
            }
        } else if (prefix_ieq(arg, "LOGIN")) {
            const char *initial = arg + 5;
            while (*initial == ' ')
                initial++;
            size_t n;
            free(c->login_user);
            c->login_user = *initial ? b64_decode(initial, &n) : NULL;
            c->state = c->login_user ? S_AUTH_PASS : S_AUTH_USER;
            say(c, c->login_user ? "334 UGFzc3dvcmQ6" : "334 VXNlcm5hbWU6");
        } else {
            say(c, "504 5.5.4 Unrecognized authentication type");
        }
    } else if (IS("MAIL")) {
        char *path, *params;
        if (c->in_tx) {
            say(c, "503 5.5.1 Error: nested MAIL command");
        } else if (!split_path(arg, "FROM:", &path, &params)) {
            say(c, "501 5.5.4 Syntax: MAIL FROM:<address>");
        } else if (srv->require_auth && !c->auth_user) {
            free(path);
            free(params);
            say(c, "530 5.7.0 Authentication required");
        } else if (scripted(srv, c, ST_MAIL, &custom)) {
            free(path);
            free(params);
        } else {
            c->from = path;
            c->params = params;
            c->in_tx = 1;
            reply_usual(c, custom, "250 2.1.0 Ok");
        }
    } else if (IS("RCPT")) {
        char *path, *params;
        if (!c->in_tx) {
            say(c, "503 5.5.1 Error: need MAIL command");
        } else if (!split_path(arg, "TO:", &path, &params)) {
            say(c, "501 5.5.4 Syntax: RCPT TO:<address>");
        } else if (scripted(srv, c, ST_RCPT, &custom)) {
            free(path);
            free(params);
        } else {
            char **p = realloc(c->rcpt, (c->rcpt_count + 1) * sizeof(*p));
            if (!p) {
                free(path);
                free(params);
                free(custom);
                conn_close(c);
                return;
            }
            c->rcpt = p;
            c->rcpt[c->rcpt_count++] = path;
            free(params);
            reply_usual(c, custom, "250 2.1.5 Ok");
        }
    } else if (IS("DATA")) {
        if (!c->rcpt_count) {
            say(c, "503 5.5.1 Error: need RCPT command");
        } else if (!scripted(srv, c, ST_DATA, &custom)) {
            c->state = S_DATA;
            reply_usual(c, custom, "354 End data with <CR><LF>.<CR><LF>");
        }
    } else if (IS("RSET")) {
        if (!scripted(srv, c, ST_RSET, &custom)) {
            tx_reset(c);
            reply_usual(c, custom, "250 2.0.0 Ok");
        }
    } else if (IS("NOOP")) {
        if (!scripted(srv, c, ST_NOOP, &custom))
            reply_usual(c, custom, "250 2.0.0 Ok");
    } else if (IS("QUIT")) {
        if (!scripted(srv, c, ST_QUIT, &custom)) {
            c->close_after_write = 1;
            reply_usual(c, custom, "221 2.0.0 Bye");
        }
    } else if (IS("STARTTLS")) {
        if (!scripted(srv, c, ST_STARTTLS, &custom)) {
            free(custom);
            say(c, "454 4.7.0 TLS not available");
        }
    } else {
        say(c, "502 5.5.2 Error: command not recognized");
    }
#undef IS
}

/* The end of the data: "\r\n.\r\n", or ".\r\n" at its very start. Returns
 * the length of the data (through the CRLF before the dot) and sets *used
 * to the bytes consumed, or returns -1 when the end has not arrived. */
static long data_end(const char *s, size_t n, size_t *used)
{
    if (n >= 3 && memcmp(s, ".\r\n", 3) == 0) {
        *used = 3;
        return 0;
    }
    for (size_t i = 0; i + 5 <= n; i++)
        if (memcmp(s + i, "\r\n.\r\n", 5) == 0) {
            *used = i + 5;
            return (long)i + 2;
        }
    return -1;
}

static void consume(conn *c, size_t used)
{
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
}

static void process(omni_test_smtp *srv, conn *c)
{
    while (!c->dead && c->state != S_STALLED && c->in_len) {
        if (c->state == S_DATA) {
            action b;
            if (take_action(srv, ST_BODY, &b)) {
                free(b.reply);
                if (b.kind == OMNI_TEST_SMTP_CLOSE)
                    conn_close(c);
                else
                    c->state = S_STALLED;
                return;
            }
            size_t used = 0;
            long len = data_end(c->in, c->in_len, &used);
            if (len < 0) {
                if (c->in_len > MAX_DATA)
                    conn_close(c);
                return;
            }
            c->state = S_CMD;
            action a = {ST_DOT, OMNI_TEST_SMTP_REPLY, NULL};
            int scripted_dot = take_action(srv, ST_DOT, &a);
            if (scripted_dot && a.kind != OMNI_TEST_SMTP_REPLY) {
                free(a.reply);
                if (a.kind == OMNI_TEST_SMTP_CLOSE)
                    conn_close(c);
                else
                    c->state = S_STALLED;
                return;
            }
            record_mail(srv, c, c->in, (size_t)len, scripted_dot ? atoi(a.reply) : 250);
            consume(c, used);
            tx_reset(c);
            char usual[64];
            snprintf(usual, sizeof(usual), "250 2.0.0 Ok: queued as OMNI%04zu",
                     omni_test_smtp_mail_count(srv));
            reply_usual(c, a.reply, usual);
            continue;
        }
        char *nl = memchr(c->in, '\n', c->in_len);
        if (!nl) {
            if (c->in_len > MAX_LINE) {
                c->in_len = 0;
                say(c, "500 5.5.0 Line too long");
            }
            return;
        }
        size_t used = (size_t)(nl - c->in) + 1;
        size_t len = used - 1;
        if (len && c->in[len - 1] == '\r')
            len--;
        char *line = dupn(c->in, len);
        consume(c, used);
        if (!line) {
            conn_close(c);
            return;
        }
        command(srv, c, line);
        free(line);
    }
}

static void conn_read(omni_test_smtp *srv, conn *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < CHUNK + 1) {
            size_t cap = c->in_cap ? c->in_cap * 2 : CHUNK * 2;
            if (cap > MAX_DATA + CHUNK * 4) {
                conn_close(c);
                return;
            }
            char *p = realloc(c->in, cap);
            if (!p) {
                conn_close(c);
                return;
            }
            c->in = p;
            c->in_cap = cap;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            conn_close(c);
            return;
        }
        if (c->state == S_STALLED)
            continue; /* ignored */
        c->in_len += (size_t)n;
    }
    process(srv, c);
}

static void greet(omni_test_smtp *srv, conn *c)
{
    char *custom;
    if (!scripted(srv, c, ST_GREETING, &custom))
        reply_usual(c, custom, "220 omni-test ESMTP ready");
}

static void accept_all(omni_test_smtp *srv)
{
    for (;;) {
        int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        conn *c = calloc(1, sizeof(*c));
        if (c && srv->conn_count == srv->conn_cap) {
            size_t cap = srv->conn_cap ? srv->conn_cap * 2 : 16;
            conn **p = realloc(srv->conns, cap * sizeof(*p));
            if (p) {
                srv->conns = p;
                srv->conn_cap = cap;
            } else {
                free(c);
                c = NULL;
            }
        }
        if (!c) {
            close(fd);
            continue;
        }
        pthread_mutex_lock(&srv->mu);
        c->id = (unsigned)++srv->accepted;
        pthread_mutex_unlock(&srv->mu);
        c->fd = fd;
        c->state = S_CMD;
        srv->conns[srv->conn_count++] = c;
        greet(srv, c);
    }
}

static void *server_main(void *arg)
{
    omni_test_smtp *srv = arg;
    struct pollfd *pfds = NULL;
    size_t pcap = 0;
    for (;;) {
        size_t need = srv->conn_count + 2;
        if (need > pcap) {
            struct pollfd *p = realloc(pfds, need * 2 * sizeof(*p));
            if (!p)
                break;
            pfds = p;
            pcap = need * 2;
        }
        pfds[0] = (struct pollfd){srv->wake[0], POLLIN, 0};
        pfds[1] = (struct pollfd){srv->lfd, POLLIN, 0};
        for (size_t i = 0; i < srv->conn_count; i++) {
            conn *c = srv->conns[i];
            short ev = POLLIN;
            if (c->out_off < c->out_len)
                ev |= POLLOUT;
            pfds[i + 2] = (struct pollfd){c->fd, ev, 0};
        }
        int n = poll(pfds, srv->conn_count + 2, -1);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && (pfds[0].revents & POLLIN))
            break;
        size_t count = srv->conn_count; /* accepted ones join the next round */
        if (n > 0 && (pfds[1].revents & POLLIN))
            accept_all(srv);
        for (size_t i = 0; n > 0 && i < count; i++) {
            conn *c = srv->conns[i];
            short re = pfds[i + 2].revents;
            if (!c->dead && (re & POLLOUT))
                conn_flush(c);
            if (!c->dead && (re & (POLLIN | POLLHUP | POLLERR)))
                conn_read(srv, c);
        }
        size_t k = 0;
        for (size_t i = 0; i < srv->conn_count; i++) {
            if (srv->conns[i]->dead)
                conn_free(srv->conns[i]);
            else
                srv->conns[k++] = srv->conns[i];
        }
        srv->conn_count = k;
    }
    free(pfds);
    return NULL;
}

/* ---- start / stop --------------------------------------------------------------- */

int omni_test_smtp_start(omni_test_smtp **out, const omni_test_smtp_options *opts)
{
    *out = NULL;
    omni_test_smtp *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return -1;
    if (opts) {
        srv->require_auth = opts->require_auth;
        srv->user = opts->user ? strdup(opts->user) : NULL;
        srv->password = opts->password ? strdup(opts->password) : NULL;
    }
    srv->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (srv->lfd < 0) {
        free(srv->user);
        free(srv->password);
        free(srv);
        return -1;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof(addr);
    if (bind(srv->lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(srv->lfd, 64) != 0 ||
        getsockname(srv->lfd, (struct sockaddr *)&addr, &alen) != 0 ||
        pipe2(srv->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        int e = errno;
        close(srv->lfd);
        free(srv->user);
        free(srv->password);
        free(srv);
        errno = e;
        return -1;
    }
    srv->port = ntohs(addr.sin_port);
    snprintf(srv->url, sizeof(srv->url), "smtp://127.0.0.1:%u", (unsigned)srv->port);
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->cv, NULL);
    if (pthread_create(&srv->thread, NULL, server_main, srv) != 0) {
        close(srv->lfd);
        close(srv->wake[0]);
        close(srv->wake[1]);
        pthread_mutex_destroy(&srv->mu);
        pthread_cond_destroy(&srv->cv);
        free(srv->user);
        free(srv->password);
        free(srv);
        return -1;
    }
    *out = srv;
    return 0;
}

void omni_test_smtp_stop(omni_test_smtp *srv)
{
    if (!srv)
        return;
    ssize_t w;
    do {
        w = write(srv->wake[1], "x", 1);
    } while (w < 0 && errno == EINTR);
    pthread_join(srv->thread, NULL);
    for (size_t i = 0; i < srv->conn_count; i++)
        conn_free(srv->conns[i]);
    free(srv->conns);
    close(srv->lfd);
    close(srv->wake[0]);
    close(srv->wake[1]);
    for (size_t i = 0; i < srv->q_len; i++)
        free(srv->queue[i].reply);
    free(srv->queue);
    for (size_t i = 0; i < srv->mail_count; i++)
        mail_free(srv->mails[i]);
    free(srv->mails);
    for (size_t i = 0; i < srv->cmd_count; i++)
        free(srv->cmds[i]);
    free(srv->cmds);
    free(srv->user);
    free(srv->password);
    pthread_mutex_destroy(&srv->mu);
    pthread_cond_destroy(&srv->cv);
    free(srv);
}
