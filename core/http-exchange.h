/*
 * http-exchange.h -- the boundary between the HTTP layer (connections, parsing,
 * I/O threads) and the S3 layer (routing and operations, on worker threads).
 *
 * The HTTP layer accepts connections on I/O threads (one libevent base each),
 * parses requests with http-parser, and when a request's headers are complete
 * hands a `struct http_exchange` to a worker thread, which calls the handler.
 * The handler runs blocking code: it reads the request body through a bounded
 * buffer that the I/O thread fills (the socket stops being read while the buffer
 * is full), and writes the response, which the I/O thread drains to the socket
 * (the worker blocks while too much is queued).  Nothing here blocks an I/O thread.
 *
 * All functions below are called from the worker thread running the handler.
 */
#ifndef CAIRN_HTTP_EXCHANGE_H
#define CAIRN_HTTP_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cairn/plugin.h> /* struct cairn_kv */

struct http_exchange;

/* The parsed request head.  Valid until http_exchange_finish(). */
struct http_request_head {
    const char *method;      /* "GET", "PUT", ... */
    const char *raw_target;  /* request-target as sent */
    const char *raw_path;    /* target up to '?', still percent-encoded */
    const char *raw_query;   /* after '?', "" when none */
    size_t n_headers;
    const struct cairn_kv *headers; /* names lower-cased, values trimmed, arrival order */
    int64_t content_length;  /* -1 when absent (chunked, or no body) */
    int chunked;             /* Transfer-Encoding: chunked */
    int expect_continue;     /* Expect: 100-continue */
    int http_minor;          /* 0 or 1 */
    int keep_alive;
    int is_tls;
    const char *remote_addr; /* "127.0.0.1" */
    const char *request_id;  /* unique, 16 upper-case hex digits */
};

/* Returns the request head. */
const struct http_request_head *http_exchange_head(struct http_exchange *ex);

/* First value of header `name` (lower-case), or NULL. */
const char *http_exchange_header(struct http_exchange *ex, const char *name);

/*
 * Reads up to `len` bytes of the request body (de-chunked when the request is
 * chunked).  Sends "100 Continue" first when the client expects it.  Blocks
 * until bytes arrive.  Returns >0 bytes, 0 at the end of the body, or a negative
 * CAIRN_E_* error (CLIENT_GONE, INCOMPLETE_BODY, REQUEST_TIMEOUT).
 */
ssize_t http_exchange_read(struct http_exchange *ex, void *buf, size_t len);

/*
 * Starts the response: status line and headers.  `content_length` is the body
 * length to come, or -1 to use chunked encoding.  Date, Server, Connection and
 * Content-Length/Transfer-Encoding are added by the HTTP layer; for HEAD the
 * given Content-Length is sent and no body bytes are.  Returns 0 or
 * CAIRN_E_CLIENT_GONE.
 */
int http_exchange_respond(struct http_exchange *ex, int status, const struct cairn_kv *headers,
                          size_t n_headers, int64_t content_length);

/* Writes response body bytes; blocks while the output queue is full.
 * Returns 0 or CAIRN_E_CLIENT_GONE. */
int http_exchange_write(struct http_exchange *ex, const void *buf, size_t len);

/*
 * Writes response body bytes by reference: `buf` is queued for the socket
 * without a copy and release(buf, arg) is called exactly once when the bytes
 * were sent or dropped (on the I/O thread, or on this one when the write
 * fails or no body is sent).  Blocks first while the output queue is full, so
 * at most about 1 MiB plus one buffer is queued per exchange.
 * Returns as http_exchange_write.
 */
int http_exchange_write_ref(struct http_exchange *ex, const void *buf, size_t len,
                            void (*release)(const void *buf, void *arg), void *arg);

/* True when http_exchange_respond was already called. */
int http_exchange_responded(struct http_exchange *ex);

/*
 * Ends the exchange: finishes the response (a short body closes the
 * connection), discards an unread request body (or closes the connection when
 * it is large), and hands the connection back to its I/O thread for the next
 * pipelined request.  `ex` is invalid afterwards.  The handler must call it
 * exactly once.
 */
void http_exchange_finish(struct http_exchange *ex);

/* Request-lifetime memory (freed by http_exchange_finish). */
void *http_exchange_alloc(struct http_exchange *ex, size_t size);

/*
 * The most request-body bytes the bounded buffer ever held for this exchange
 * (for tests and metrics: shows the backpressure at work).
 */
size_t http_exchange_body_peak(struct http_exchange *ex);

/* The handler, called on a worker thread for each request. */
typedef void (*http_handler_fn)(struct http_exchange *ex, void *arg);

struct http_server_options {
    const char *const *listen;  /* "127.0.0.1:9000", ":9000", "[::1]:9000" */
    size_t n_listen;
    const char *certs_dir;      /* TLS: public.crt + private.key; NULL for plain HTTP */
    const char *const *tls_listen; /* addresses served with TLS (may equal the plain ones' list) */
    size_t n_tls_listen;
    int io_threads;             /* default 2 */
    int worker_threads;         /* default 16 */
    size_t max_header_bytes;    /* whole head; default 16 KiB -> 400/431 */
    size_t max_url_bytes;       /* default 8 KiB -> 414 */
    size_t max_headers;         /* default 100 */
    int idle_timeout_s;         /* keep-alive idle; default 60 */
    int read_timeout_s;         /* slow client: no byte for this long; default 30 */
    int max_connections;        /* default 10000 */
    size_t body_buffer_bytes;   /* per-request bounded buffer; default 1 MiB */
    int shutdown_timeout_s;     /* grace for in-flight requests; default 30 */
};

struct http_server;

/* Fills `opts` with the defaults above. */
void http_server_options_init(struct http_server_options *opts);

/* Binds the listeners and starts I/O and worker threads.  NULL on failure
 * (the reason is logged). */
struct http_server *http_server_start(const struct http_server_options *opts,
                                      http_handler_fn handler, void *handler_arg);

/* Stops accepting, lets in-flight requests finish within the shutdown timeout,
 * closes every connection and joins the threads. */
void http_server_stop(struct http_server *srv);

/* The port actually bound by the first listener (useful with port 0 in tests). */
int http_server_port(struct http_server *srv);

#endif
