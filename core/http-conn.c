/*
 * http-conn.c -- one client connection on its I/O thread: reads the socket,
 * feeds http-parser, builds request heads, hands exchanges to workers, streams
 * request bodies into the exchange's bounded buffer, moves response bytes to
 * the socket, enforces limits and timeouts, and closes.
 *
 * Request bodies: bytes are parsed only while the exchange's body buffer has
 * room; otherwise they stay in the bufferevent's input, whose read high-water
 * mark (HTTP_IN_HIGH) then stops libevent from reading the socket at all.
 * Pipelining: the parser pauses at the end of each message and resumes only
 * when the worker has finished the exchange, so requests are handled strictly
 * in order.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>

#include <sys/uio.h>

#include "http-server-internal.h"

/* An error response after which the peer may still be sending: keep reading
 * and discarding for at most this long / this much before closing, so the
 * close does not turn into a reset that destroys the response. */
#define LINGER_SECONDS 2
#define LINGER_MAX_BYTES (4 * 1024 * 1024)

static void process_input(struct http_conn *conn);

static const struct http_server_options *conn_opts(struct http_conn *conn)
{
    return &conn->io->srv->opts;
}

/* Sets the read timeout for the state (only while the client owes us bytes)
 * and the write timeout (a client that stops reading its response). */
static void update_timeouts(struct http_conn *conn)
{
    if (!conn->bev)
        return;
    const struct http_server_options *o = conn_opts(conn);
    int rsecs = 0;
    switch (conn->state) {
    case CONN_IDLE:
        rsecs = o->idle_timeout_s;
        break;
    case CONN_HEAD:
    case CONN_DISCARD:
        rsecs = o->read_timeout_s;
        break;
    case CONN_BODY:
        rsecs = conn->body_paused ? 0 : o->read_timeout_s;
        break;
    case CONN_WAIT:
        break;
    case CONN_CLOSING:
        rsecs = LINGER_SECONDS;
        break;
    }
    /* Unchanged (e.g. WAIT again at the end of the message): nothing to do.
     * libevent restarts a read timeout on every read by itself, and
     * re-enabling a disabled event applies the stored timeouts. */
    if (rsecs == conn->applied_rsecs)
        return;
    conn->applied_rsecs = rsecs;
    struct timeval rtv = {rsecs, 0}, wtv = {o->read_timeout_s, 0};
    bufferevent_set_timeouts(conn->bev, rsecs > 0 ? &rtv : NULL,
                             o->read_timeout_s > 0 ? &wtv : NULL);
}

static void set_state(struct http_conn *conn, enum http_conn_state st)
{
    conn->state = st;
    update_timeouts(conn);
}

static void reset_head(struct http_conn *conn)
{
    free(conn->hbuf);
    free(conn->hdrs);
    conn->hbuf = NULL;
    conn->hdrs = NULL;
    conn->hlen = conn->hcap = conn->n_hdrs = conn->hdrs_cap = 0;
    conn->url_len = 0;
    conn->hstate = 0;
    conn->head_bytes = 0;
    conn->headers_done = 0;
}

void http_conn_free(struct http_conn *conn)
{
    struct http_io *io = conn->io;
    if (conn->bev)
        bufferevent_free(conn->bev);
    if (conn->ex)
        http_exchange_free(conn->ex);
    reset_head(conn);
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        io->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    free(conn);
    http_server_conn_gone(io->srv);
}

/* Closes the socket; frees the connection unless a worker still holds its
 * exchange (then it is freed when the worker releases it). */
static void conn_close(struct http_conn *conn)
{
    if (conn->bev) {
        bufferevent_free(conn->bev);
        conn->bev = NULL;
    }
    if (!conn->worker_active)
        http_conn_free(conn);
}

/* The connection is dead: tell a worker holding the exchange, then close. */
static void conn_abort(struct http_conn *conn)
{
    struct http_exchange *ex = conn->ex;
    if (ex && conn->worker_active) {
        pthread_mutex_lock(&ex->mu);
        ex->gone = 1;
        if (!ex->body_done && !ex->body_error)
            ex->body_error = CAIRN_E_CLIENT_GONE;
        pthread_cond_broadcast(&ex->cond);
        pthread_mutex_unlock(&ex->mu);
    }
    conn_close(conn);
}

/* Stops reading requests; the connection closes once its output is flushed
 * (and, for plain TCP, after a short lingering read).  Returns 1 when the
 * connection was freed. */
static int conn_start_closing(struct http_conn *conn)
{
    if (!conn->bev || conn->state == CONN_CLOSING)
        return 0;
    set_state(conn, CONN_CLOSING);
    bufferevent_disable(conn->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0 && !conn->worker_active) {
        conn_close(conn);
        return 1;
    }
    return 0;
}

/* Output flushed in CLOSING: half-close and drain what the client still
 * sends, or close at once for TLS.  Returns 1 when the connection was freed. */
static int conn_flushed_closing(struct http_conn *conn)
{
    if (conn->worker_active)
        return 0;
    if (conn->is_tls || conn->read_eof) {
        conn_close(conn);
        return 1;
    }
    evutil_socket_t fd = bufferevent_getfd(conn->bev);
    if (fd < 0 || shutdown(fd, SHUT_WR) != 0) {
        conn_close(conn);
        return 1;
    }
    conn->head_bytes = 0; /* reused as the count of discarded bytes */
    evbuffer_drain(bufferevent_get_input(conn->bev),
                   evbuffer_get_length(bufferevent_get_input(conn->bev)));
    bufferevent_enable(conn->bev, EV_READ);
    update_timeouts(conn);
    return 0;
}

/* Answers an error found before any exchange exists, then closes. */
static void conn_head_error(struct http_conn *conn, int status, const char *code,
                            const char *msg)
{
    char rid[17];
    http_request_id(rid);
    http_error_response(bufferevent_get_output(conn->bev), status, code, msg, rid, 1);
    conn_start_closing(conn);
}

/* The body turned out bad (malformed chunk...) while a worker reads it: end
 * the body with `err`, stop reading, and close after the response. */
static void conn_body_error(struct http_conn *conn, int err)
{
    struct http_exchange *ex = conn->ex;
    pthread_mutex_lock(&ex->mu);
    if (!ex->body_done && !ex->body_error)
        ex->body_error = err;
    ex->force_close = 1;
    pthread_cond_broadcast(&ex->cond);
    pthread_mutex_unlock(&ex->mu);
    bufferevent_disable(conn->bev, EV_READ);
    set_state(conn, CONN_WAIT);
}

/* Ready for the next request, or closing.  Returns 1 when the caller must
 * stop touching the connection's input (closing or freed). */
static int conn_next_request(struct http_conn *conn)
{
    reset_head(conn);
    if (atomic_load(&conn->io->srv->stopping) || conn->read_eof) {
        conn_start_closing(conn);
        return 1;
    }
    http_parser_pause(&conn->parser, 0);
    set_state(conn, CONN_IDLE);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Parser callbacks                                                          */
/* ------------------------------------------------------------------------ */

static int hb_append(struct http_conn *conn, const char *at, size_t len)
{
    if (conn->hlen + len > conn->hcap) {
        size_t cap = conn->hcap ? conn->hcap * 2 : 512;
        while (cap < conn->hlen + len)
            cap *= 2;
        char *p = realloc(conn->hbuf, cap);
        if (!p)
            return -1;
        conn->hbuf = p;
        conn->hcap = cap;
    }
    memcpy(conn->hbuf + conn->hlen, at, len);
    conn->hlen += len;
    return 0;
}

static int reject(struct http_conn *conn, int status, const char *code, const char *msg)
{
    conn->err_status = status;
    conn->err_code = code;
    conn->err_msg = msg;
    return -1;
}

/* Monotonic clock in milliseconds. */
static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int on_message_begin(http_parser *p)
{
    struct http_conn *conn = p->data;
    if (conn->state == CONN_IDLE) {
        set_state(conn, CONN_HEAD);
        conn->head_started_ms = mono_ms();
    }
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct http_conn *conn = p->data;
    if (conn->url_len + len > conn_opts(conn)->max_url_bytes)
        return reject(conn, 414, "InvalidURI", "The request URI is too long.");
    if (hb_append(conn, at, len) != 0)
        return reject(conn, 500, "InternalError", "Out of memory.");
    conn->url_len += len;
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct http_conn *conn = p->data;
    if (conn->headers_done)
        return 0; /* a chunked body's trailer: not part of the head */
    if (conn->hstate != 1) {
        if (conn->n_hdrs >= conn_opts(conn)->max_headers)
            return reject(conn, 431, "RequestHeaderSectionTooLarge",
                          "Your request has too many header fields.");
        if (conn->n_hdrs == conn->hdrs_cap) {
            size_t cap = conn->hdrs_cap ? conn->hdrs_cap * 2 : 16;
            struct http_hdr_ref *h = realloc(conn->hdrs, cap * sizeof(*h));
            if (!h)
                return reject(conn, 500, "InternalError", "Out of memory.");
            conn->hdrs = h;
            conn->hdrs_cap = cap;
        }
        struct http_hdr_ref *h = &conn->hdrs[conn->n_hdrs++];
        h->name_off = (uint32_t)conn->hlen;
        h->name_len = h->val_off = h->val_len = 0;
        conn->hstate = 1;
    }
    if (hb_append(conn, at, len) != 0)
        return reject(conn, 500, "InternalError", "Out of memory.");
    conn->hdrs[conn->n_hdrs - 1].name_len += (uint32_t)len;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct http_conn *conn = p->data;
    if (conn->headers_done || conn->n_hdrs == 0)
        return 0;
    struct http_hdr_ref *h = &conn->hdrs[conn->n_hdrs - 1];
    if (conn->hstate != 2) {
        h->val_off = (uint32_t)conn->hlen;
        h->val_len = 0;
        conn->hstate = 2;
    }
    if (hb_append(conn, at, len) != 0)
        return reject(conn, 500, "InternalError", "Out of memory.");
    h->val_len += (uint32_t)len;
    return 0;
}

/* Builds the exchange from the received head and hands it to a worker. */
static int start_exchange(struct http_conn *conn)
{
    struct http_server *srv = conn->io->srv;
    http_parser *p = &conn->parser;
    struct http_exchange *ex = calloc(1, sizeof(*ex));
    if (!ex)
        return -1;
    ex->arena = arena_new();
    ex->out = evbuffer_new();
    pthread_mutex_init(&ex->mu, NULL);
    pthread_cond_init(&ex->cond, NULL);
    ex->conn = conn;
    ex->srv = srv;
    ex->job.fn = http_exchange_run;
    if (!ex->arena || !ex->out)
        goto fail;

    struct http_request_head *h = &ex->head;
    struct arena *a = ex->arena;
    h->method = http_method_str((enum http_method)p->method);
    char *target = arena_strndup(a, conn->hbuf ? conn->hbuf : "", conn->url_len);
    char *rid = arena_alloc(a, 17);
    char *addr = arena_strdup(a, conn->remote_addr);
    struct cairn_kv *kv = arena_alloc(a, (conn->n_hdrs + 1) * sizeof(*kv));
    if (!target || !rid || !addr || !kv)
        goto fail;
    h->raw_target = target;
    const char *q = strchr(target, '?');
    h->raw_path = q ? arena_strndup(a, target, (size_t)(q - target)) : target;
    h->raw_query = q ? q + 1 : "";
    if (!h->raw_path)
        goto fail;
    for (size_t i = 0; i < conn->n_hdrs; i++) {
        const struct http_hdr_ref *r = &conn->hdrs[i];
        char *name = arena_strndup(a, conn->hbuf + r->name_off, r->name_len);
        size_t vlen = r->val_len;
        const char *v = conn->hbuf + r->val_off;
        while (vlen && (v[0] == ' ' || v[0] == '\t'))
            v++, vlen--;
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        char *value = arena_strndup(a, vlen ? v : "", vlen);
        if (!name || !value)
            goto fail;
        for (char *c = name; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        kv[i].name = name;
        kv[i].value = value;
        if (strcmp(name, "expect") == 0 && strcasecmp(value, "100-continue") == 0)
            h->expect_continue = 1;
    }
    h->headers = kv;
    h->n_headers = conn->n_hdrs;
    h->chunked = (p->flags & F_CHUNKED) != 0;
    h->content_length = (p->flags & F_CONTENTLENGTH) && !h->chunked ? (int64_t)p->content_length : -1;
    h->http_minor = p->http_major == 1 ? p->http_minor : 0;
    if (h->http_minor == 0)
        h->expect_continue = 0;
    h->keep_alive = http_should_keep_alive(p);
    h->is_tls = conn->is_tls;
    h->remote_addr = addr;
    http_request_id(rid);
    h->request_id = rid;
    ex->is_head_method = p->method == HTTP_HEAD;
    if (h->chunked || h->content_length > 0) {
        ex->body_in = evbuffer_new();
        if (!ex->body_in)
            goto fail;
    }
    reset_head(conn);
    conn->headers_done = 1; /* later header callbacks are trailers */
    conn->ex = ex;
    conn->worker_active = 1;
    conn->body_paused = 0;
    set_state(conn, ex->body_in ? CONN_BODY : CONN_WAIT);
    worker_pool_submit(srv->pool, &ex->job);
    return 0;
fail:
    http_exchange_free(ex);
    return -1;
}

static int on_headers_complete(http_parser *p)
{
    struct http_conn *conn = p->data;
    conn->headers_done = 1;
    if (p->method == HTTP_CONNECT)
        return reject(conn, 405, "MethodNotAllowed",
                      "The specified method is not allowed against this resource.");
    /* An Upgrade request is served as plain HTTP: keep parsing its body. */
    p->upgrade = 0;
    if (start_exchange(conn) != 0)
        return reject(conn, 500, "InternalError", "Out of memory.");
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct http_conn *conn = p->data;
    struct http_exchange *ex = conn->ex;
    if (conn->state != CONN_BODY || !ex || !ex->body_in)
        return 0; /* discarding */
    pthread_mutex_lock(&ex->mu);
    if (!ex->body_error && evbuffer_add(ex->body_in, at, len) == 0) {
        ex->body_received += len;
        size_t held = evbuffer_get_length(ex->body_in);
        if (held > ex->body_peak)
            ex->body_peak = held;
        pthread_cond_signal(&ex->cond);
    }
    pthread_mutex_unlock(&ex->mu);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct http_conn *conn = p->data;
    /* Stop here: the next pipelined request waits for this exchange. */
    http_parser_pause(p, 1);
    if (conn->state == CONN_DISCARD) {
        conn->state = CONN_IDLE; /* process_input starts the next request */
        return 0;
    }
    struct http_exchange *ex = conn->ex;
    if (ex && conn->worker_active) {
        pthread_mutex_lock(&ex->mu);
        ex->body_done = 1;
        pthread_cond_broadcast(&ex->cond);
        pthread_mutex_unlock(&ex->mu);
    }
    set_state(conn, CONN_WAIT);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ------------------------------------------------------------------------ */
/* Input                                                                     */
/* ------------------------------------------------------------------------ */

/* A parse error: a clear answer before the exchange exists, else the body
 * ends in error for the worker. */
static void parse_failed(struct http_conn *conn)
{
    enum http_errno err = HTTP_PARSER_ERRNO(&conn->parser);
    if (conn->worker_active && conn->ex) {
        conn_body_error(conn, conn->err_status == 500 ? CAIRN_E_NOMEM : CAIRN_E_INCOMPLETE_BODY);
        return;
    }
    if (conn->err_status)
        conn_head_error(conn, conn->err_status, conn->err_code, conn->err_msg);
    else if (err == HPE_HEADER_OVERFLOW)
        conn_head_error(conn, 431, "RequestHeaderSectionTooLarge",
                        "Your request header section exceeds the maximum allowed size.");
    else
        conn_head_error(conn, 400, "BadRequest", "An error occurred when parsing the HTTP request.");
}

static void process_input(struct http_conn *conn)
{
    const struct http_server_options *o = conn_opts(conn);
    while (conn->bev) {
        struct evbuffer *in = bufferevent_get_input(conn->bev);
        size_t avail = evbuffer_get_length(in);
        if (conn->state == CONN_CLOSING) {
            /* Lingering after an error response: discard. */
            evbuffer_drain(in, avail);
            conn->head_bytes += avail;
            if (conn->head_bytes > LINGER_MAX_BYTES)
                conn_close(conn);
            return;
        }
        if (avail == 0 || conn->state == CONN_WAIT)
            return;
        size_t limit = avail;
        int in_head = !conn->headers_done && conn->state != CONN_DISCARD;
        /* The read timeout alone lets a client that trickles one byte at a
         * time (slowloris) hold a connection forever: the whole head must
         * arrive within read_timeout_s. */
        if (in_head && conn->state == CONN_HEAD && o->read_timeout_s > 0 &&
            mono_ms() - conn->head_started_ms > (int64_t)o->read_timeout_s * 1000) {
            conn_head_error(conn, 408, "RequestTimeout",
                            "Your socket connection to the server was not read from or written "
                            "to within the timeout period.");
            return;
        }
        if (in_head) {
            limit = o->max_header_bytes + 1 - conn->head_bytes;
        } else if (conn->state == CONN_BODY) {
            struct http_exchange *ex = conn->ex;
            pthread_mutex_lock(&ex->mu);
            size_t held = evbuffer_get_length(ex->body_in);
            limit = held < o->body_buffer_bytes ? o->body_buffer_bytes - held : 0;
            if (limit == 0)
                ex->io_paused = 1;
            pthread_mutex_unlock(&ex->mu);
            if (limit == 0) {
                /* Full: leave the bytes in the input; the high-water mark
                 * stops the socket reads until the worker drains. */
                conn->body_paused = 1;
                update_timeouts(conn);
                return;
            }
        }
        struct evbuffer_iovec vec;
        if (evbuffer_peek(in, -1, NULL, &vec, 1) < 1)
            return;
        size_t n = vec.iov_len < limit ? vec.iov_len : limit;
        size_t parsed = http_parser_execute(&conn->parser, &parser_settings, vec.iov_base, n);
        evbuffer_drain(in, parsed);
        enum http_errno err = HTTP_PARSER_ERRNO(&conn->parser);
        if (in_head && !conn->headers_done) {
            conn->head_bytes += parsed;
            if (err == HPE_OK && conn->head_bytes > o->max_header_bytes) {
                conn_head_error(conn, 431, "RequestHeaderSectionTooLarge",
                                "Your request header section exceeds the maximum allowed size.");
                return;
            }
        }
        if (err == HPE_PAUSED) {
            if (conn->state == CONN_IDLE) {
                /* A discarded body ended: on to the next request. */
                if (conn_next_request(conn))
                    return;
                continue;
            }
            return; /* CONN_WAIT until the exchange is finished */
        }
        if (err != HPE_OK) {
            parse_failed(conn);
            return;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* bufferevent callbacks                                                     */
/* ------------------------------------------------------------------------ */

/*
 * libevent 2.1 reads at most 4096 bytes per evbuffer_read (EVBUFFER_MAX_READ),
 * whatever max_single_read says: a 64 MiB body took 16k readv + ioctl +
 * epoll_wait rounds and as many worker wake-ups.  While a plain-TCP
 * connection streams a body, top its input up to HTTP_IN_HIGH with our own
 * readv.  EOF and errors are left for libevent to see on its next read.
 */
static void read_more_body(struct http_conn *conn)
{
    if (conn->is_tls || conn->state != CONN_BODY)
        return;
    struct evbuffer *in = bufferevent_get_input(conn->bev);
    size_t held = evbuffer_get_length(in);
    if (held >= HTTP_IN_HIGH)
        return;
    struct evbuffer_iovec vec[2];
    /* libevent keeps the input's end frozen outside its own reads */
    evbuffer_unfreeze(in, 0);
    int nvec = evbuffer_reserve_space(in, (ev_ssize_t)(HTTP_IN_HIGH - held), vec, 2);
    if (nvec < 1) {
        evbuffer_freeze(in, 0);
        return;
    }
    size_t want = HTTP_IN_HIGH - held;
    struct iovec iov[2];
    for (int i = 0; i < nvec; i++) {
        iov[i].iov_base = vec[i].iov_base;
        iov[i].iov_len = vec[i].iov_len < want ? vec[i].iov_len : want;
        want -= iov[i].iov_len;
    }
    ssize_t n = readv(bufferevent_getfd(conn->bev), iov, nvec);
    size_t got = n > 0 ? (size_t)n : 0;
    for (int i = 0; i < nvec; i++) {
        vec[i].iov_len = got < iov[i].iov_len ? got : iov[i].iov_len;
        got -= vec[i].iov_len;
    }
    evbuffer_commit_space(in, vec, nvec);
    evbuffer_freeze(in, 0);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    read_more_body(arg);
    process_input(arg);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    struct http_conn *conn = arg;
    size_t left = evbuffer_get_length(bufferevent_get_output(bev));
    struct http_exchange *ex = conn->ex;
    if (ex && conn->worker_active) {
        pthread_mutex_lock(&ex->mu);
        ex->io_out_len = left;
        pthread_cond_broadcast(&ex->cond);
        pthread_mutex_unlock(&ex->mu);
    }
    if (conn->state == CONN_CLOSING && left == 0 && !(bufferevent_get_enabled(bev) & EV_READ))
        conn_flushed_closing(conn);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct http_conn *conn = arg;
    if (what & BEV_EVENT_CONNECTED)
        return; /* TLS handshake done */
    if (conn->state == CONN_CLOSING) {
        conn_abort(conn);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        if ((what & BEV_EVENT_READING) && conn->state == CONN_BODY && conn->worker_active) {
            /* Slow client: the worker's read fails; its answer may still go out. */
            conn_body_error(conn, CAIRN_E_REQUEST_TIMEOUT);
            return;
        }
        conn_abort(conn); /* idle, slow head, or a client not reading */
        return;
    }
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && conn->worker_active &&
        conn->state == CONN_WAIT) {
        /* Half-close after a complete request: answer it, then close. */
        conn->read_eof = 1;
        bufferevent_disable(bev, EV_READ);
        return;
    }
    conn_abort(conn);
}

/* ------------------------------------------------------------------------ */
/* Entry points from http-server.c                                           */
/* ------------------------------------------------------------------------ */

void http_conn_adopt(struct http_io *io, int fd, int is_tls, const char *remote_addr)
{
    struct http_server *srv = io->srv;
    struct http_conn *conn = calloc(1, sizeof(*conn));
    struct bufferevent *bev = NULL;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    evutil_make_socket_nonblocking(fd);
    if (conn && is_tls) {
        SSL *ssl = SSL_new(srv->ssl_ctx);
        if (ssl) {
            bev = bufferevent_openssl_socket_new(io->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                 BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
            if (!bev)
                SSL_free(ssl);
            else
                bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
        }
    } else if (conn) {
        bev = bufferevent_socket_new(io->base, fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    }
    if (!bev) {
        close(fd);
        free(conn);
        http_server_conn_gone(srv);
        return;
    }
    conn->io = io;
    conn->bev = bev;
    conn->is_tls = is_tls;
    conn->applied_rsecs = -1;
    snprintf(conn->remote_addr, sizeof(conn->remote_addr), "%s", remote_addr);
    http_parser_init(&conn->parser, HTTP_REQUEST);
    conn->parser.data = conn;
    conn->next = io->conns;
    if (io->conns)
        io->conns->prev = conn;
    io->conns = conn;
    bufferevent_setcb(bev, read_cb, write_cb, event_cb, conn);
    bufferevent_setwatermark(bev, EV_READ, 0, HTTP_IN_HIGH);
    bufferevent_setwatermark(bev, EV_WRITE, HTTP_OUT_LOW, 0);
    /* libevent moves 16 KiB per read/write call by default: too little for
     * streaming objects. */
    bufferevent_set_max_single_read(bev, HTTP_IN_HIGH);
    bufferevent_set_max_single_write(bev, HTTP_OUT_CHUNK);
    set_state(conn, CONN_IDLE);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* Moves the worker's queued response bytes to the socket's output.  When
 * nothing is waiting there (the usual case: a small response in one piece),
 * a plain-TCP socket is written at once: the bufferevent would otherwise
 * turn its write event on and off again around the same writev (two
 * epoll_ctl calls and a loop round per response).  The bytes are taken out of
 * the exchange first, so that a write_ref release runs without `ex->mu` held,
 * as it does when the bufferevent sends them.  What the socket does not take,
 * and any error, is left to the bufferevent. */
static void move_output(struct http_conn *conn)
{
    struct http_exchange *ex = conn->ex;
    struct evbuffer *out = bufferevent_get_output(conn->bev);
    struct evbuffer *direct = NULL;
    if (!conn->is_tls && evbuffer_get_length(out) == 0)
        direct = conn->io->scratch;
    pthread_mutex_lock(&ex->mu);
    evbuffer_add_buffer(direct ? direct : out, ex->out);
    /* bytes in `direct` count as queued for the socket until written */
    ex->io_out_len = evbuffer_get_length(direct ? direct : out);
    pthread_mutex_unlock(&ex->mu);
    if (!direct || evbuffer_get_length(direct) == 0)
        return;
    evutil_socket_t fd = bufferevent_getfd(conn->bev);
    if (fd >= 0)
        evbuffer_write_atmost(direct, fd, HTTP_OUT_CHUNK);
    evbuffer_add_buffer(out, direct);
    pthread_mutex_lock(&ex->mu);
    ex->io_out_len = evbuffer_get_length(out);
    pthread_cond_broadcast(&ex->cond); /* a worker may wait for room */
    pthread_mutex_unlock(&ex->mu);
}

void http_conn_on_notify(struct http_conn *conn, int released)
{
    struct http_exchange *ex = conn->ex;
    if (!released) {
        if (!conn->bev || !ex || !conn->worker_active)
            return;
        move_output(conn);
        if (conn->state == CONN_BODY && conn->body_paused) {
            conn->body_paused = 0;
            update_timeouts(conn);
            process_input(conn);
        }
        return;
    }
    conn->worker_active = 0;
    if (!conn->bev) {
        http_conn_free(conn); /* the socket died while the worker ran */
        return;
    }
    move_output(conn);
    int close_conn = ex->close_after || ex->force_close || ex->gone;
    int body_complete = ex->body_done || !ex->body_in;
    conn->ex = NULL;
    http_exchange_free(ex);
    conn->body_paused = 0;
    if (conn->state == CONN_CLOSING) {
        if (evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0)
            conn_flushed_closing(conn);
        return;
    }
    if (close_conn || conn->read_eof) {
        conn_start_closing(conn);
        return;
    }
    if (!body_complete) {
        /* A small unread rest of the body: discard it, keep the connection. */
        set_state(conn, CONN_DISCARD);
        bufferevent_enable(conn->bev, EV_READ);
        process_input(conn);
        return;
    }
    if (conn_next_request(conn))
        return;
    process_input(conn);
}

void http_conn_stop(struct http_conn *conn)
{
    if (!conn->bev || conn->worker_active)
        return; /* closes after its exchange: the server is stopping */
    if (conn->state == CONN_IDLE || conn->state == CONN_DISCARD)
        conn_close(conn);
}

void http_conn_kill(struct http_conn *conn)
{
    conn_abort(conn);
}
