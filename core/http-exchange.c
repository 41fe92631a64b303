/*
 * http-exchange.c -- the worker's side of one request: reading the body from
 * the bounded buffer the I/O thread fills, and queueing the response for the
 * I/O thread to send.  See http-server-internal.h for the locking rules.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http-server-internal.h"

void http_exchange_free(struct http_exchange *ex)
{
    if (!ex)
        return;
    arena_free(ex->arena);
    if (ex->body_in)
        evbuffer_free(ex->body_in);
    if (ex->out)
        evbuffer_free(ex->out);
    pthread_mutex_destroy(&ex->mu);
    pthread_cond_destroy(&ex->cond);
    free(ex);
}

void http_exchange_run(struct worker_job *job)
{
    struct http_exchange *ex = (struct http_exchange *)job;
    struct http_server *srv = ex->srv;
    /* http_exchange_finish sets this, so we can tell whether the handler
     * finished without touching `ex` afterwards (it may be freed by then). */
    int finished = 0;
    ex->finished_r = &finished;
    srv->handler(ex, srv->handler_arg);
    /* A handler that forgot to finish would hang the connection. */
    if (!finished)
        http_exchange_finish(ex);
}

const struct http_request_head *http_exchange_head(struct http_exchange *ex)
{
    return &ex->head;
}

const char *http_exchange_header(struct http_exchange *ex, const char *name)
{
    for (size_t i = 0; i < ex->head.n_headers; i++)
        if (strcmp(ex->head.headers[i].name, name) == 0)
            return ex->head.headers[i].value;
    return NULL;
}

void *http_exchange_alloc(struct http_exchange *ex, size_t size)
{
    return arena_alloc(ex->arena, size);
}

int http_exchange_responded(struct http_exchange *ex)
{
    return ex->responded;
}

size_t http_exchange_body_peak(struct http_exchange *ex)
{
    pthread_mutex_lock(&ex->mu);
    size_t n = ex->body_peak;
    pthread_mutex_unlock(&ex->mu);
    return n;
}

/* Queues "100 Continue" once when the client expects it and no answer was sent yet. */
static void send_continue_if_expected(struct http_exchange *ex)
{
    pthread_mutex_lock(&ex->mu);
    int send = ex->head.expect_continue && !ex->continue_sent && !ex->responded && !ex->gone;
    if (send) {
        evbuffer_add(ex->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        ex->continue_sent = 1;
    }
    pthread_mutex_unlock(&ex->mu);
    if (send)
        http_conn_notify(ex->conn, 0);
}

ssize_t http_exchange_read(struct http_exchange *ex, void *buf, size_t len)
{
    if (!ex->body_in) {
        /* No body (Content-Length: 0), but a client that asked for 100
         * Continue still waits for it before its next request on this
         * connection (botocore keeps the early answer's status otherwise). */
        send_continue_if_expected(ex);
        return 0;
    }
    int notify = 0;
    ssize_t n = 0;
    pthread_mutex_lock(&ex->mu);
    if (ex->head.expect_continue && !ex->continue_sent && !ex->responded && !ex->body_done &&
        !ex->gone) {
        evbuffer_add(ex->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
        ex->continue_sent = 1;
        pthread_mutex_unlock(&ex->mu);
        http_conn_notify(ex->conn, 0);
        pthread_mutex_lock(&ex->mu);
    }
    while (evbuffer_get_length(ex->body_in) == 0 && !ex->body_done && !ex->body_error)
        pthread_cond_wait(&ex->cond, &ex->mu);
    size_t held = evbuffer_get_length(ex->body_in);
    if (held > 0 && len > 0) {
        n = evbuffer_remove(ex->body_in, buf, len);
        if (n < 0)
            n = CAIRN_E_INTERNAL;
        /* Wake the I/O thread once half the buffer is free again. */
        if (ex->io_paused &&
            evbuffer_get_length(ex->body_in) <= ex->srv->opts.body_buffer_bytes / 2) {
            ex->io_paused = 0;
            notify = 1;
        }
    } else if (held == 0) {
        n = ex->body_error ? ex->body_error : 0;
    }
    pthread_mutex_unlock(&ex->mu);
    if (notify)
        http_conn_notify(ex->conn, 0);
    return n;
}

/* Header names the HTTP layer writes itself. */
static int reserved_header(const char *name)
{
    switch (name[0] | 0x20) {
    case 'c': return strcasecmp(name, "content-length") == 0 || strcasecmp(name, "connection") == 0;
    case 't': return strcasecmp(name, "transfer-encoding") == 0;
    case 'd': return strcasecmp(name, "date") == 0;
    case 's': return strcasecmp(name, "server") == 0;
    case 'k': return strcasecmp(name, "keep-alive") == 0;
    default: return 0;
    }
}

/* The length of `s`, or (size_t)-1 when it holds a CR or LF (which would
 * break the response framing). */
static size_t safe_len(const char *s)
{
    size_t n = strcspn(s, "\r\n");
    return s[n] ? (size_t)-1 : n;
}

/* A response head being built: on the stack unless it grows large. */
struct head_buf {
    char *buf;
    size_t len, cap;
    int failed;
    char local[2048];
};

static void hb_put(struct head_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n;
        char *p = b->buf == b->local ? malloc(cap) : realloc(b->buf, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        if (b->buf == b->local)
            memcpy(p, b->local, b->len);
        b->buf = p;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
}

#define HB_LIT(b, lit) hb_put((b), (lit), sizeof(lit) - 1)

/* Writes the decimal digits of `v` (no NUL) into `out`; returns their count. */
static size_t fmt_u64(char out[20], uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

int http_exchange_respond(struct http_exchange *ex, int status, const struct cairn_kv *headers,
                          size_t n_headers, int64_t content_length)
{
    if (ex->responded || status < 200 || status > 999)
        return CAIRN_E_INTERNAL;
    const struct http_request_head *h = &ex->head;
    ex->responded = 1;
    ex->status = status;
    int body_forbidden = status == 204 || status == 304;
    ex->no_body = ex->is_head_method || body_forbidden;

    pthread_mutex_lock(&ex->mu);
    if (ex->gone) {
        pthread_mutex_unlock(&ex->mu);
        return CAIRN_E_CLIENT_GONE;
    }
    int close_conn = !h->keep_alive || atomic_load(&ex->srv->stopping) || ex->force_close ||
                     ex->body_error;
    /* A client that sent Expect: 100-continue and gets a final answer
     * instead may not send its body, and some (botocore) mis-parse the next
     * answer on this connection: close it. */
    if (h->expect_continue && !ex->continue_sent)
        close_conn = 1;
    if (ex->body_in && !ex->body_done) {
        /* The rest of the body must be discarded: close when it is large or
         * unknown, or when the client still waits for 100 Continue. */
        if (h->content_length < 0 ||
            (uint64_t)h->content_length - ex->body_received >= HTTP_DISCARD_MAX ||
            (h->expect_continue && !ex->continue_sent))
            close_conn = 1;
    }
    ex->resp_len = content_length;
    if (content_length < 0 && !ex->no_body) {
        if (h->http_minor >= 1)
            ex->chunked_out = 1;
        else
            close_conn = 1; /* HTTP/1.0: the body ends at the close */
    }
    ex->close_after = close_conn;

    /* Formatted by hand into one buffer and added with one call: this runs
     * for every response (evbuffer_add_printf per line was a fifth of a
     * small GET's instructions). */
    struct head_buf b = {.cap = sizeof(b.local)};
    b.buf = b.local;
    char num[24];
    HB_LIT(&b, "HTTP/1.1 ");
    num[0] = (char)('0' + status / 100);
    num[1] = (char)('0' + status / 10 % 10);
    num[2] = (char)('0' + status % 10);
    num[3] = ' ';
    hb_put(&b, num, 4);
    const char *reason = http_reason(status);
    hb_put(&b, reason, strlen(reason));
    char date[30];
    HB_LIT(&b, "\r\nDate: ");
    hb_put(&b, date, http_date_now(date));
    HB_LIT(&b, "\r\nServer: cairn\r\n");
    for (size_t i = 0; i < n_headers; i++) {
        const struct cairn_kv *kv = &headers[i];
        if (!kv->name || !kv->value || !kv->name[0] || reserved_header(kv->name))
            continue;
        size_t nl = safe_len(kv->name), vl = safe_len(kv->value);
        if (nl == (size_t)-1 || vl == (size_t)-1)
            continue;
        hb_put(&b, kv->name, nl);
        HB_LIT(&b, ": ");
        hb_put(&b, kv->value, vl);
        HB_LIT(&b, "\r\n");
    }
    if (status == 204) {
        /* no length at all */
    } else if (content_length >= 0) {
        if (status != 304) {
            HB_LIT(&b, "Content-Length: ");
            hb_put(&b, num, fmt_u64(num, (uint64_t)content_length));
            HB_LIT(&b, "\r\n");
        }
    } else if (ex->chunked_out) {
        HB_LIT(&b, "Transfer-Encoding: chunked\r\n");
    }
    if (close_conn)
        HB_LIT(&b, "Connection: close\r\n");
    else if (h->http_minor == 0)
        HB_LIT(&b, "Connection: keep-alive\r\n");
    HB_LIT(&b, "\r\n");
    int rc = b.failed || evbuffer_add(ex->out, b.buf, b.len) != 0 ? CAIRN_E_NOMEM : 0;
    if (b.buf != b.local)
        free(b.buf);
    if (rc != 0) {
        /* No head went out: send nothing more, and close. */
        ex->force_close = 1;
        ex->no_body = 1;
        pthread_mutex_unlock(&ex->mu);
        return rc;
    }
    pthread_mutex_unlock(&ex->mu);
    /* When body bytes follow, the first write sends the head with them (one
     * wake-up of the I/O thread and one socket write less per response). */
    if (ex->no_body || content_length == 0)
        http_conn_notify(ex->conn, 0);
    return 0;
}

/* Waits (mu held) while the output queue is over its high-water mark. */
static void wait_for_room(struct http_exchange *ex)
{
    while (!ex->gone && evbuffer_get_length(ex->out) + ex->io_out_len > HTTP_OUT_HIGH)
        pthread_cond_wait(&ex->cond, &ex->mu);
}

/* What the caller of http_exchange_write_ref gets back when libevent lets go
 * of a reference. */
struct out_ref {
    void (*release)(const void *buf, void *arg);
    void *arg;
};

static void out_ref_cleanup(const void *data, size_t len, void *extra)
{
    struct out_ref *r = extra;
    (void)len;
    r->release(data, r->arg);
    free(r);
}

int http_exchange_write_ref(struct http_exchange *ex, const void *buf, size_t len,
                            void (*release)(const void *buf, void *arg), void *arg)
{
    if (!release)
        return http_exchange_write(ex, buf, len);
    if (!ex->responded || ex->no_body || len == 0) {
        int rc = ex->responded ? 0 : CAIRN_E_INTERNAL;
        release(buf, arg);
        return rc;
    }
    struct out_ref *r = malloc(sizeof(*r));
    if (!r) {
        int rc = http_exchange_write(ex, buf, len); /* copying needs no bookkeeping */
        release(buf, arg);
        return rc;
    }
    r->release = release;
    r->arg = arg;
    int rc = 0;
    pthread_mutex_lock(&ex->mu);
    wait_for_room(ex);
    if (ex->gone)
        rc = CAIRN_E_CLIENT_GONE;
    else if (ex->resp_len >= 0 && len > (uint64_t)ex->resp_len - ex->resp_written)
        rc = CAIRN_E_INTERNAL; /* more than the announced Content-Length */
    if (rc == 0 && ex->chunked_out)
        evbuffer_add_printf(ex->out, "%zx\r\n", len);
    if (rc == 0 && evbuffer_add_reference(ex->out, buf, len, out_ref_cleanup, r) != 0)
        rc = CAIRN_E_NOMEM;
    if (rc == 0) {
        if (ex->chunked_out)
            evbuffer_add(ex->out, "\r\n", 2);
        ex->resp_written += len;
    }
    pthread_mutex_unlock(&ex->mu);
    if (rc != 0) {
        free(r);
        release(buf, arg);
        return rc;
    }
    http_conn_notify(ex->conn, 0);
    return 0;
}

int http_exchange_write(struct http_exchange *ex, const void *buf, size_t len)
{
    if (!ex->responded)
        return CAIRN_E_INTERNAL;
    if (ex->no_body)
        return 0; /* HEAD, 204, 304: the body is not sent */
    const char *p = buf;
    int rc = 0;
    pthread_mutex_lock(&ex->mu);
    while (len > 0) {
        wait_for_room(ex);
        if (ex->gone) {
            rc = CAIRN_E_CLIENT_GONE;
            break;
        }
        size_t n = len < HTTP_OUT_CHUNK ? len : HTTP_OUT_CHUNK;
        if (ex->resp_len >= 0) {
            uint64_t room = (uint64_t)ex->resp_len - ex->resp_written;
            if (room == 0) {
                rc = CAIRN_E_INTERNAL; /* more than the announced Content-Length */
                break;
            }
            if (n > room)
                n = (size_t)room;
        }
        if (ex->chunked_out)
            evbuffer_add_printf(ex->out, "%zx\r\n", n);
        if (evbuffer_add(ex->out, p, n) != 0) {
            rc = CAIRN_E_NOMEM;
            break;
        }
        if (ex->chunked_out)
            evbuffer_add(ex->out, "\r\n", 2);
        ex->resp_written += n;
        p += n;
        len -= n;
        pthread_mutex_unlock(&ex->mu);
        http_conn_notify(ex->conn, 0);
        pthread_mutex_lock(&ex->mu);
    }
    pthread_mutex_unlock(&ex->mu);
    return rc;
}

void http_exchange_finish(struct http_exchange *ex)
{
    if (!ex->responded) {
        struct evbuffer *body = evbuffer_new();
        if (body) {
            http_error_xml(body, "InternalError",
                           "We encountered an internal error. Please try again.",
                           ex->head.request_id);
            size_t len = evbuffer_get_length(body);
            char *xml = malloc(len);
            if (xml) {
                evbuffer_remove(body, xml, len);
                struct cairn_kv hdrs[2] = {{"Content-Type", "application/xml"},
                                           {"x-amz-request-id", ex->head.request_id}};
                if (http_exchange_respond(ex, 500, hdrs, 2, (int64_t)len) == 0)
                    http_exchange_write(ex, xml, len);
                free(xml);
            }
            evbuffer_free(body);
        }
        if (!ex->responded) {
            pthread_mutex_lock(&ex->mu);
            ex->force_close = 1;
            pthread_mutex_unlock(&ex->mu);
        }
    }
    pthread_mutex_lock(&ex->mu);
    if (ex->chunked_out && !ex->gone)
        evbuffer_add(ex->out, "0\r\n\r\n", 5);
    if (!ex->no_body && ex->resp_len >= 0 && ex->resp_written < (uint64_t)ex->resp_len)
        ex->close_after = 1; /* short body: the client must see the connection end */
    if (ex->body_in && !ex->body_done) {
        const struct http_request_head *h = &ex->head;
        if (ex->body_error || h->content_length < 0 ||
            (uint64_t)h->content_length - ex->body_received >= HTTP_DISCARD_MAX ||
            (h->expect_continue && !ex->continue_sent))
            ex->close_after = 1;
    }
    pthread_mutex_unlock(&ex->mu);
    if (ex->finished_r)
        *ex->finished_r = 1;
    /* Last touch: after this the I/O thread owns (and frees) the exchange. */
    http_conn_notify(ex->conn, 1);
}
