/*
 * http-server.c -- the HTTP server's threads: listeners on I/O thread 0 hand
 * accepted sockets round-robin to the I/O threads (one event_base each); a
 * worker pool runs the handler.  Also the cross-thread wake-up of I/O threads,
 * request IDs, and the graceful stop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/thread.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "http-server-internal.h"
#include "services.h"

/* Logging goes through core_log when the infra part is linked in; the weak
 * reference keeps this layer (and its tests) usable on its own. */
#pragma weak core_log

#define http_log(level, ...)                                                                  \
    do {                                                                                      \
        if (core_log)                                                                         \
            core_log(NULL, level, __VA_ARGS__);                                               \
        else {                                                                                \
            fprintf(stderr, "http: " __VA_ARGS__);                                            \
            fputc('\n', stderr);                                                              \
        }                                                                                     \
    } while (0)

void http_server_options_init(struct http_server_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->io_threads = 2;
    opts->worker_threads = 16;
    opts->max_header_bytes = 16 * 1024;
    opts->max_url_bytes = 8 * 1024;
    opts->max_headers = 100;
    opts->idle_timeout_s = 60;
    opts->read_timeout_s = 30;
    opts->max_connections = 10000;
    opts->body_buffer_bytes = 1024 * 1024;
    opts->shutdown_timeout_s = 30;
}

/* ------------------------------------------------------------------------ */
/* Request IDs                                                               */
/* ------------------------------------------------------------------------ */

static atomic_uint_fast64_t request_counter;
static uint64_t request_base;
static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    evthread_use_pthreads();
    /* Memory: requests use big, short-lived buffers (1 MiB body buffer, EC
     * stripes of a few MiB, 256 KiB output chunks).  After the first one is
     * freed glibc serves them from the calling thread's arena, and with one
     * arena per worker (up to 8 per core) each worker keeps its own copy
     * resident.  Two arenas share them between all threads.  (A fixed
     * M_MMAP_THRESHOLD instead mmaps and faults in every buffer per request:
     * measured GET 1 MiB c=16 80 MB/s with it against 610 MB/s without.) The
     * worker pool trims the cache after a quiet second (worker-pool.c). */
    mallopt(M_ARENA_MAX, 2);
    /* Writes to a vanished peer must fail with EPIPE, not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    /* IDs start at the current time in microseconds, so they sort roughly by
     * time like MinIO's, and stay unique across restarts; the low bits count. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    request_base = ((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u) << 8;
}

void http_request_id(char out[17])
{
    static const char hex[] = "0123456789ABCDEF";
    uint64_t v = request_base + atomic_fetch_add(&request_counter, 1);
    for (int i = 15; i >= 0; i--, v >>= 4)
        out[i] = hex[v & 15];
    out[16] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Cross-thread wake-up of an I/O thread                                     */
/* ------------------------------------------------------------------------ */

void http_conn_notify(struct http_conn *conn, int released)
{
    struct http_io *io = conn->io;
    pthread_mutex_lock(&io->qmu);
    if (released)
        conn->worker_released = 1;
    if (!conn->in_queue) {
        conn->in_queue = 1;
        conn->qnext = NULL;
        if (io->q_tail)
            io->q_tail->qnext = conn;
        else
            io->q_head = conn;
        io->q_tail = conn;
    }
    /* One wake-up serves every notification queued before the I/O thread
     * finds the queue empty: under load most notifications need no
     * event_active (a lock in libevent and an eventfd write each). */
    int wake = !io->wake_pending;
    io->wake_pending = 1;
    pthread_mutex_unlock(&io->qmu);
    /* io->wake lives until the I/O thread is joined, so this is safe even
     * when the connection is freed right after the lock is dropped. */
    if (wake)
        event_active(io->wake, EV_READ, 0);
}

static void io_post(struct http_io *io, int *cmd)
{
    pthread_mutex_lock(&io->qmu);
    *cmd = 1;
    pthread_mutex_unlock(&io->qmu);
    event_active(io->wake, EV_READ, 0);
}

static void free_listeners(struct http_server *srv)
{
    for (size_t i = 0; i < srv->n_listeners; i++) {
        if (srv->listeners[i].lev)
            evconnlistener_free(srv->listeners[i].lev);
        srv->listeners[i].lev = NULL;
    }
}

static void io_wake_cb(evutil_socket_t fd, short what, void *arg)
{
    struct http_io *io = arg;
    for (;;) {
        pthread_mutex_lock(&io->qmu);
        struct http_pending_fd *pend = io->fd_head;
        io->fd_head = io->fd_tail = NULL;
        struct http_conn *conn = io->q_head;
        if (conn) {
            io->q_head = conn->qnext;
            if (!io->q_head)
                io->q_tail = NULL;
            conn->in_queue = 0;
            conn->qnext = NULL;
        }
        int released = conn ? conn->worker_released : 0;
        if (conn)
            conn->worker_released = 0;
        else
            io->wake_pending = 0; /* queue empty: the next notification wakes us */
        int stop = io->cmd_stop, kill = io->cmd_kill, exit_now = io->cmd_exit;
        pthread_mutex_unlock(&io->qmu);

        while (pend) {
            struct http_pending_fd *next = pend->next;
            if (atomic_load(&io->srv->stopping)) {
                close(pend->fd);
                http_server_conn_gone(io->srv);
            } else {
                http_conn_adopt(io, pend->fd, pend->is_tls, pend->remote_addr);
            }
            free(pend);
            pend = next;
        }
        if (conn) {
            http_conn_on_notify(conn, released);
            continue;
        }
        if (stop && !io->stop_done) {
            io->stop_done = 1;
            if (io->index == 0)
                free_listeners(io->srv);
            for (struct http_conn *c = io->conns, *next; c; c = next) {
                next = c->next;
                http_conn_stop(c);
            }
        }
        if (kill && !io->kill_done) {
            io->kill_done = 1;
            for (struct http_conn *c = io->conns, *next; c; c = next) {
                next = c->next;
                http_conn_kill(c);
            }
        }
        if (exit_now)
            event_base_loopbreak(io->base);
        break;
    }
}

static void *io_main(void *arg)
{
    struct http_io *io = arg;
    event_base_loop(io->base, EVLOOP_NO_EXIT_ON_EMPTY);
    /* The workers are joined by now: nothing else refers to these. */
    while (io->conns)
        http_conn_free(io->conns);
    /* A freed bufferevent with deferred callbacks still queued is released
     * only when they run: let them, or the base would leak it. */
    for (int i = 0; i < 64 && event_base_loop(io->base, EVLOOP_NONBLOCK) == 0; i++)
        if (event_base_get_num_events(io->base, EVENT_BASE_COUNT_ACTIVE) == 0)
            break;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Accepting                                                                 */
/* ------------------------------------------------------------------------ */

void http_server_conn_gone(struct http_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    srv->n_conns--;
    pthread_cond_broadcast(&srv->cond);
    pthread_mutex_unlock(&srv->mu);
}

static void numeric_addr(const struct sockaddr *sa, socklen_t len, char *out, size_t cap)
{
    if (getnameinfo(sa, len, out, (socklen_t)cap, NULL, 0, NI_NUMERICHOST) != 0) {
        snprintf(out, cap, "unknown");
        return;
    }
    /* A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d. */
    if (strncmp(out, "::ffff:", 7) == 0 && strchr(out + 7, '.'))
        memmove(out, out + 7, strlen(out + 7) + 1);
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    struct http_listener *l = arg;
    struct http_server *srv = l->srv;
    if (atomic_load(&srv->stopping)) {
        close(fd);
        return;
    }
    pthread_mutex_lock(&srv->mu);
    int full = srv->n_conns >= srv->opts.max_connections;
    if (!full)
        srv->n_conns++;
    pthread_mutex_unlock(&srv->mu);
    if (full) {
        /* Refused: closing at once is the cheapest clear answer. */
        close(fd);
        return;
    }
    struct http_pending_fd *pend = calloc(1, sizeof(*pend));
    if (!pend) {
        close(fd);
        http_server_conn_gone(srv);
        return;
    }
    pend->fd = fd;
    pend->is_tls = l->is_tls;
    numeric_addr(sa, (socklen_t)salen, pend->remote_addr, sizeof(pend->remote_addr));
    struct http_io *io = &srv->io[atomic_fetch_add(&srv->next_io, 1) % (unsigned)srv->n_io];
    pthread_mutex_lock(&io->qmu);
    if (io->fd_tail)
        io->fd_tail->next = pend;
    else
        io->fd_head = pend;
    io->fd_tail = pend;
    pthread_mutex_unlock(&io->qmu);
    event_active(io->wake, EV_READ, 0);
}

static void relisten_cb(evutil_socket_t fd, short what, void *arg)
{
    struct http_listener *l = arg;
    if (l->lev && !atomic_load(&l->srv->stopping))
        evconnlistener_enable(l->lev);
}

static void accept_error_cb(struct evconnlistener *lev, void *arg)
{
    struct http_listener *l = arg;
    int err = EVUTIL_SOCKET_ERROR();
    http_log(CAIRN_LOG_WARN, "accept failed: %s", evutil_socket_error_to_string(err));
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        /* Out of descriptors: pause accepting briefly instead of spinning. */
        evconnlistener_disable(lev);
        struct timeval tv = {0, 100 * 1000};
        event_base_once(evconnlistener_get_base(lev), -1, EV_TIMEOUT, relisten_cb, l, &tv);
    }
}

/* Splits "host:port", ":port" or "[v6]:port".  host_r is "" for all
 * interfaces.  Returns 0 or -1. */
static int split_address(const char *addr, char *host_r, size_t host_cap, char *port_r,
                         size_t port_cap)
{
    const char *colon;
    size_t hlen;
    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        if (!end || end[1] != ':')
            return -1;
        hlen = (size_t)(end - addr - 1);
        if (hlen >= host_cap)
            return -1;
        memcpy(host_r, addr + 1, hlen);
        colon = end + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon)
            return -1;
        hlen = (size_t)(colon - addr);
        if (hlen >= host_cap)
            return -1;
        memcpy(host_r, addr, hlen);
    }
    host_r[hlen] = '\0';
    if (!colon[1] || strlen(colon + 1) >= port_cap)
        return -1;
    snprintf(port_r, port_cap, "%s", colon + 1);
    return 0;
}

/* Binds and listens; returns the socket or -1 after logging. */
static int bind_address(const char *addr, int *port_r)
{
    char host[256], port[32];
    if (split_address(addr, host, sizeof(host), port, sizeof(port)) != 0) {
        http_log(CAIRN_LOG_ERROR, "listen address \"%s\": expected host:port", addr);
        return -1;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    /* All interfaces: one dual-stack IPv6 socket when the host has IPv6. */
    int all = host[0] == '\0';
    hints.ai_family = all ? AF_INET6 : AF_UNSPEC;
    int rc = getaddrinfo(all ? NULL : host, port, &hints, &res);
    if (rc != 0 && all) {
        hints.ai_family = AF_INET;
        rc = getaddrinfo(NULL, port, &hints, &res);
    }
    if (rc != 0) {
        http_log(CAIRN_LOG_ERROR, "listen address \"%s\": %s", addr, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1, zero = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6 && all)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        http_log(CAIRN_LOG_ERROR, "cannot listen on %s: %s", addr, strerror(saved));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *port_r = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* The last OpenSSL error as text. */
static const char *ssl_error(char *buf, size_t cap)
{
    unsigned long e = ERR_get_error();
    if (!e)
        return "unknown error";
    ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
    return buf;
}

static SSL_CTX *tls_context(const char *certs_dir)
{
    char err[256];
    char crt[4096], key[4096];
    snprintf(crt, sizeof(crt), "%s/public.crt", certs_dir);
    snprintf(key, sizeof(key), "%s/private.key", certs_dir);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx, crt) != 1) {
        http_log(CAIRN_LOG_ERROR, "TLS: cannot load certificate %s: %s", crt,
                 ssl_error(err, sizeof(err)));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        http_log(CAIRN_LOG_ERROR, "TLS: cannot load private key %s: %s", key,
                 ssl_error(err, sizeof(err)));
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static int in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

static int add_listener(struct http_server *srv, const char *addr, int is_tls)
{
    int port = 0;
    int fd = bind_address(addr, &port);
    if (fd < 0)
        return -1;
    struct http_listener *l = &srv->listeners[srv->n_listeners];
    l->srv = srv;
    l->is_tls = is_tls;
    l->lev = evconnlistener_new(srv->io[0].base, accept_cb, l, LEV_OPT_CLOSE_ON_FREE, -1, fd);
    if (!l->lev) {
        close(fd);
        http_log(CAIRN_LOG_ERROR, "cannot listen on %s", addr);
        return -1;
    }
    evconnlistener_set_error_cb(l->lev, accept_error_cb);
    if (srv->n_listeners == 0)
        srv->port = port;
    srv->n_listeners++;
    return 0;
}

static void server_free(struct http_server *srv)
{
    free_listeners(srv);
    free(srv->listeners);
    for (int i = 0; i < srv->n_io; i++) {
        struct http_io *io = &srv->io[i];
        while (io->conns)
            http_conn_free(io->conns);
        while (io->fd_head) {
            struct http_pending_fd *next = io->fd_head->next;
            close(io->fd_head->fd);
            free(io->fd_head);
            io->fd_head = next;
        }
        if (io->wake)
            event_free(io->wake);
        if (io->scratch)
            evbuffer_free(io->scratch);
        if (io->base)
            event_base_free(io->base);
        pthread_mutex_destroy(&io->qmu);
    }
    free(srv->io);
    if (srv->ssl_ctx)
        SSL_CTX_free(srv->ssl_ctx);
    pthread_mutex_destroy(&srv->mu);
    pthread_cond_destroy(&srv->cond);
    free(srv);
}

struct http_server *http_server_start(const struct http_server_options *opts,
                                      http_handler_fn handler, void *handler_arg)
{
    pthread_once(&global_once, global_init);
    if (!opts || !handler || (opts->n_listen == 0 && opts->n_tls_listen == 0)) {
        http_log(CAIRN_LOG_ERROR, "http server: no listen address");
        return NULL;
    }
    struct http_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return NULL;
    srv->opts = *opts;
    struct http_server_options *o = &srv->opts;
    if (o->io_threads < 1)
        o->io_threads = 1;
    if (o->worker_threads < 1)
        o->worker_threads = 1;
    if (o->max_header_bytes < 256)
        o->max_header_bytes = 256;
    if (o->max_url_bytes < 16)
        o->max_url_bytes = 16;
    if (o->max_headers < 1)
        o->max_headers = 1;
    if (o->body_buffer_bytes < 1024)
        o->body_buffer_bytes = 1024;
    if (o->max_connections < 1)
        o->max_connections = 1;
    srv->handler = handler;
    srv->handler_arg = handler_arg;
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->cond, NULL);
    srv->n_io = o->io_threads;
    srv->io = calloc((size_t)srv->n_io, sizeof(struct http_io));
    srv->listeners = calloc(o->n_listen + o->n_tls_listen, sizeof(struct http_listener));
    if (!srv->io || !srv->listeners)
        goto fail_early;
    for (int i = 0; i < srv->n_io; i++) {
        struct http_io *io = &srv->io[i];
        io->srv = srv;
        io->index = i;
        pthread_mutex_init(&io->qmu, NULL);
        io->base = event_base_new();
        if (!io->base)
            goto fail_early;
        io->wake = event_new(io->base, -1, 0, io_wake_cb, io);
        io->scratch = evbuffer_new();
        if (!io->wake || !io->scratch)
            goto fail_early;
    }
    if (o->certs_dir && o->certs_dir[0]) {
        srv->ssl_ctx = tls_context(o->certs_dir);
        if (!srv->ssl_ctx)
            goto fail_early;
    }
    /* With a certs dir and no explicit TLS list, every listener speaks TLS. */
    int all_tls = srv->ssl_ctx && o->n_tls_listen == 0;
    for (size_t i = 0; i < o->n_listen; i++) {
        int tls = srv->ssl_ctx && (all_tls || in_list(o->listen[i], o->tls_listen, o->n_tls_listen));
        if (in_list(o->listen[i], o->listen, i)) /* duplicate */
            continue;
        if (add_listener(srv, o->listen[i], tls) != 0)
            goto fail_early;
    }
    if (srv->ssl_ctx) {
        for (size_t i = 0; i < o->n_tls_listen; i++) {
            if (in_list(o->tls_listen[i], o->listen, o->n_listen) ||
                in_list(o->tls_listen[i], o->tls_listen, i))
                continue;
            if (add_listener(srv, o->tls_listen[i], 1) != 0)
                goto fail_early;
        }
    }
    if (srv->n_listeners == 0)
        goto fail_early;
    srv->pool = worker_pool_new(o->worker_threads);
    if (!srv->pool)
        goto fail_early;
    for (int i = 0; i < srv->n_io; i++) {
        if (pthread_create(&srv->io[i].thread, NULL, io_main, &srv->io[i]) != 0) {
            http_log(CAIRN_LOG_ERROR, "http server: cannot start I/O thread");
            http_server_stop(srv);
            return NULL;
        }
        srv->io[i].thread_started = 1;
    }
    return srv;

fail_early:
    worker_pool_free(srv->pool);
    server_free(srv);
    return NULL;
}

int http_server_port(struct http_server *srv)
{
    return srv ? srv->port : -1;
}

/* Waits until every connection is gone or `deadline` passes; returns 1 when all gone. */
static int wait_conns(struct http_server *srv, const struct timespec *deadline)
{
    pthread_mutex_lock(&srv->mu);
    while (srv->n_conns > 0) {
        if (pthread_cond_timedwait(&srv->cond, &srv->mu, deadline) == ETIMEDOUT)
            break;
    }
    int done = srv->n_conns == 0;
    pthread_mutex_unlock(&srv->mu);
    return done;
}

void http_server_stop(struct http_server *srv)
{
    if (!srv)
        return;
    atomic_store(&srv->stopping, 1);
    /* 1. Stop accepting; close idle connections; busy ones close after
     *    their current exchange. */
    for (int i = 0; i < srv->n_io; i++)
        if (srv->io[i].thread_started)
            io_post(&srv->io[i], &srv->io[i].cmd_stop);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += srv->opts.shutdown_timeout_s > 0 ? srv->opts.shutdown_timeout_s : 0;
    if (!wait_conns(srv, &deadline)) {
        /* 2. Grace is over: close every socket.  Workers still running see
         *    CLIENT_GONE and end their exchanges. */
        http_log(CAIRN_LOG_WARN, "http server: shutdown timeout, closing %d connection(s)",
                 srv->n_conns);
        for (int i = 0; i < srv->n_io; i++)
            if (srv->io[i].thread_started)
                io_post(&srv->io[i], &srv->io[i].cmd_kill);
    }
    /* 3. Let the workers finish what they hold, then stop the I/O loops. */
    worker_pool_free(srv->pool);
    srv->pool = NULL;
    for (int i = 0; i < srv->n_io; i++) {
        if (!srv->io[i].thread_started)
            continue;
        io_post(&srv->io[i], &srv->io[i].cmd_exit);
        pthread_join(srv->io[i].thread, NULL);
    }
    server_free(srv);
}
