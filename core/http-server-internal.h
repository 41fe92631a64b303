/*
 * http-server-internal.h -- the HTTP layer's private structures, shared by
 * http-server.c (threads, listeners, accept), http-conn.c (one connection on
 * its I/O thread: parsing, timeouts, socket I/O), http-exchange.c (the worker
 * side of one request) and http-format.c (status lines, dates, error XML).
 *
 * Threads and ownership:
 *   - A connection (`struct http_conn`) and its bufferevent belong to one I/O
 *     thread; only that thread touches them.
 *   - An exchange is shared between the I/O thread and one worker from the
 *     moment its head is complete until the worker calls http_exchange_finish.
 *     The shared fields are guarded by `ex->mu`; the worker sleeps on `ex->cond`.
 *   - The worker never calls libevent on the connection: it appends response
 *     bytes to `ex->out` and pokes the I/O thread with http_conn_notify(), which
 *     queues the connection on its I/O thread and activates that thread's wake
 *     event.  The I/O thread takes the exchange back only when it pops the
 *     "released" notification that http_exchange_finish posts last, so neither
 *     side can free memory the other still uses.
 */
#ifndef CAIRN_HTTP_SERVER_INTERNAL_H
#define CAIRN_HTTP_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <http_parser.h>
#include <openssl/ssl.h>

#include "arena.h"
#include "http-exchange.h"
#include "worker-pool.h"

/* The worker blocks in http_exchange_write while more than this is queued
 * for the socket (its own queue plus the bufferevent's output). */
#define HTTP_OUT_HIGH (1024 * 1024)
/* The largest piece the worker queues at once. */
#define HTTP_OUT_CHUNK (256 * 1024)
/* The bufferevent's write callback fires when its output falls to this. */
#define HTTP_OUT_LOW (512 * 1024)
/* The socket stops being read while this much unparsed input is buffered. */
#define HTTP_IN_HIGH (64 * 1024)
/* An unread request body smaller than this is discarded to keep the
 * connection; a larger one closes it. */
#define HTTP_DISCARD_MAX (64 * 1024)

struct http_server;
struct http_io;

enum http_conn_state {
    CONN_IDLE,    /* between requests (idle timeout applies) */
    CONN_HEAD,    /* receiving a request head */
    CONN_BODY,    /* exchange running, request body arriving */
    CONN_WAIT,    /* exchange running, no more input parsed for it */
    CONN_DISCARD, /* exchange done, discarding the rest of a small body */
    CONN_CLOSING, /* flushing output, then closing */
};

/* One header of the head being received: offsets into conn->hbuf. */
struct http_hdr_ref {
    uint32_t name_off, name_len, val_off, val_len;
};

struct http_conn {
    struct http_io *io;
    struct http_conn *prev, *next; /* io->conns */
    struct bufferevent *bev;       /* NULL once the socket is closed */
    http_parser parser;
    enum http_conn_state state;
    int is_tls;
    char remote_addr[64];

    /* The head being received (freed when handed to an exchange). */
    char *hbuf;
    size_t hlen, hcap;
    struct http_hdr_ref *hdrs;
    size_t n_hdrs, hdrs_cap;
    size_t url_len;   /* the URL is hbuf[0, url_len) */
    int hstate;       /* 0: in URL, 1: in a header name, 2: in a header value */
    size_t head_bytes; /* bytes of the current head parsed so far */
    int headers_done;
    int64_t head_started_ms; /* monotonic time the current head began */
    int err_status;   /* set by a parser callback that rejects the request */
    const char *err_code, *err_msg;

    /* The current exchange; `worker_active` while a worker holds it. */
    struct http_exchange *ex;
    int worker_active;
    int body_paused; /* body buffer full: input not parsed (no read timeout) */
    int read_eof;    /* client half-closed after sending its request */
    int applied_rsecs; /* read timeout last given to the bufferevent (-1: none yet) */

    /* Notification queue of io, guarded by io->qmu. */
    struct http_conn *qnext;
    int in_queue;
    int worker_released;
};

struct http_exchange {
    struct worker_job job;
    struct http_conn *conn;
    struct http_server *srv;
    struct arena *arena;
    struct http_request_head head;
    int is_head_method;

    pthread_mutex_t mu;
    pthread_cond_t cond;
    /* --- guarded by mu --- */
    struct evbuffer *body_in; /* de-chunked body bytes; NULL when no body */
    size_t body_peak;         /* most bytes ever held in body_in */
    uint64_t body_received;   /* body bytes parsed so far */
    int body_done;            /* whole body parsed */
    int body_error;           /* negative CAIRN_E_*: body ends with this */
    int io_paused;            /* I/O stopped parsing: body_in full */
    struct evbuffer *out;     /* response bytes for the I/O thread */
    size_t io_out_len;        /* bytes in the bufferevent's output, as last seen */
    int gone;                 /* connection closed: writes fail */
    int force_close;          /* close after this exchange whatever happens */
    /* --- worker only --- */
    int responded;
    int status;
    int no_body;     /* HEAD, 1xx, 204, 304 */
    int chunked_out; /* response uses chunked encoding */
    int close_after; /* Connection: close was (or will be) sent */
    int64_t resp_len;
    uint64_t resp_written;
    int continue_sent;
    int *finished_r; /* the worker's "handler finished" flag */
};

struct http_pending_fd {
    struct http_pending_fd *next;
    int fd;
    int is_tls;
    char remote_addr[64];
};

struct http_io {
    struct http_server *srv;
    int index;
    struct event_base *base;
    struct event *wake;
    pthread_t thread;
    int thread_started;
    pthread_mutex_t qmu;
    /* --- guarded by qmu --- */
    struct http_conn *q_head, *q_tail;
    struct http_pending_fd *fd_head, *fd_tail;
    int cmd_stop, cmd_kill, cmd_exit;
    int wake_pending; /* the wake event is active and the queue not yet seen empty */
    /* --- I/O thread only --- */
    struct http_conn *conns;
    struct evbuffer *scratch; /* response bytes on their way to a socket (http-conn.c) */
    int stop_done, kill_done;
};

struct http_listener {
    struct http_server *srv;
    struct evconnlistener *lev;
    int is_tls;
};

struct http_server {
    struct http_server_options opts; /* strings borrowed, used only at start */
    http_handler_fn handler;
    void *handler_arg;
    struct http_io *io;
    int n_io;
    struct worker_pool *pool;
    struct http_listener *listeners;
    size_t n_listeners;
    SSL_CTX *ssl_ctx;
    int port;
    atomic_int stopping;
    atomic_uint next_io;
    pthread_mutex_t mu; /* guards n_conns for the stop wait */
    pthread_cond_t cond;
    int n_conns;
};

/* ---- http-conn.c (I/O thread) ---- */

/* Adopts an accepted socket on `io` (its own thread).  Closes `fd` on failure. */
void http_conn_adopt(struct http_io *io, int fd, int is_tls, const char *remote_addr);

/* Handles a notification popped from the io queue; `released` when the worker
 * finished the exchange. */
void http_conn_on_notify(struct http_conn *conn, int released);

/* Graceful stop: closes the connection if it is idle, else lets the current
 * exchange end with Connection: close. */
void http_conn_stop(struct http_conn *conn);

/* Forced stop: closes the socket now; a worker still holding the exchange
 * sees CLIENT_GONE and the connection is freed when it finishes. */
void http_conn_kill(struct http_conn *conn);

/* Frees the connection and its exchange, whatever their state (I/O thread
 * exit, after the workers were joined). */
void http_conn_free(struct http_conn *conn);

/* ---- http-server.c ---- */

/* Worker -> I/O thread: queue `conn` for attention.  `released` says the
 * worker is done with the exchange and will not touch it again. */
void http_conn_notify(struct http_conn *conn, int released);

/* A new unique request ID: 16 upper-case hex digits and a NUL. */
void http_request_id(char out[17]);

/* Counts a connection out (it was freed). */
void http_server_conn_gone(struct http_server *srv);

/* ---- http-exchange.c ---- */

/* Frees an exchange the worker has released (I/O thread). */
void http_exchange_free(struct http_exchange *ex);

/* The worker-pool entry point for an exchange. */
void http_exchange_run(struct worker_job *job);

/* ---- http-format.c ---- */

/* The reason phrase of `status` ("OK", "Not Found", ...; "Unknown" otherwise). */
const char *http_reason(int status);

/* Writes an RFC 1123 date ("Sun, 06 Nov 1994 08:49:37 GMT") of now into `buf`
 * (at least 32 bytes). */
void http_format_date(char *buf, size_t cap);

/* Writes the current RFC 1123 date (29 characters and a NUL) into `out`;
 * formatted at most once per second per thread.  Returns 29. */
size_t http_date_now(char out[30]);

/* Appends an S3 error XML document for the HTTP layer's own errors. */
void http_error_xml(struct evbuffer *out, const char *code, const char *message,
                    const char *request_id);

/* Appends a complete error response (status line, headers, XML body) that
 * ends with Connection: close when `close_conn`. */
void http_error_response(struct evbuffer *out, int status, const char *code, const char *message,
                         const char *request_id, int close_conn);

#endif
