/*
 * test-http.c -- the HTTP layer over real sockets: a test handler behind
 * http_server_start on 127.0.0.1 (ephemeral ports), driven with raw HTTP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "http-exchange.h"
#include "tap.h"

/* ------------------------------------------------------------------------ */
/* The test handler                                                          */
/* ------------------------------------------------------------------------ */

static atomic_int last_read_error; /* the error a body read ended with */
static atomic_int handler_done;    /* exchanges finished by /gone and /slowbody */
static atomic_size_t slow_peak;    /* body peak seen by /slowread */
static atomic_long refs_given;     /* buffers /get?ref=1 handed over by reference */
static atomic_long refs_released;  /* ... and the layer released */

static void count_release(const void *buf, void *arg)
{
    (void)arg;
    free((void *)buf);
    atomic_fetch_add(&refs_released, 1);
}

static void md5_hex(const unsigned char *digest, char out[33])
{
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", digest[i]);
}

static long query_num(const char *query, const char *name, long dflt)
{
    size_t n = strlen(name);
    for (const char *p = query; p && *p;) {
        if (strncmp(p, name, n) == 0 && p[n] == '=')
            return atol(p + n + 1);
        p = strchr(p, '&');
        if (p)
            p++;
    }
    return dflt;
}

static void respond_text(struct http_exchange *ex, int status, const char *text)
{
    struct cairn_kv h[1] = {{"Content-Type", "text/plain"}};
    http_exchange_respond(ex, status, h, 1, (int64_t)strlen(text));
    http_exchange_write(ex, text, strlen(text));
}

/* Reads the whole body; answers "len=N md5=HEX". */
static void h_echo(struct http_exchange *ex, int slow)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_md5(), NULL);
    static __thread char buf[65536];
    ssize_t n;
    uint64_t total = 0;
    while ((n = http_exchange_read(ex, buf, sizeof(buf))) > 0) {
        EVP_DigestUpdate(md, buf, (size_t)n);
        total += (uint64_t)n;
        if (slow)
            usleep(300);
    }
    unsigned char d[16];
    EVP_DigestFinal_ex(md, d, NULL);
    EVP_MD_CTX_free(md);
    char hex[33], text[256];
    md5_hex(d, hex);
    if (slow)
        atomic_store(&slow_peak, http_exchange_body_peak(ex));
    if (n < 0) {
        atomic_store(&last_read_error, (int)n);
        snprintf(text, sizeof(text), "error=%zd", n);
        respond_text(ex, 400, text);
        return;
    }
    snprintf(text, sizeof(text), "len=%llu md5=%s", (unsigned long long)total, hex);
    respond_text(ex, 200, text);
}

static void handler(struct http_exchange *ex, void *arg)
{
    const struct http_request_head *h = http_exchange_head(ex);
    const char *path = h->raw_path;
    if (strcmp(path, "/echo") == 0) {
        h_echo(ex, 0);
    } else if (strcmp(path, "/slowread") == 0) {
        h_echo(ex, 1);
    } else if (strcmp(path, "/gone") == 0) {
        char buf[4096];
        ssize_t n;
        while ((n = http_exchange_read(ex, buf, sizeof(buf))) > 0)
            ;
        atomic_store(&last_read_error, (int)n);
        respond_text(ex, n < 0 ? 400 : 200, "done");
        atomic_fetch_add(&handler_done, 1);
    } else if (strcmp(path, "/info") == 0) {
        char text[1024];
        const char *ua = http_exchange_header(ex, "x-test");
        snprintf(text, sizeof(text),
                 "method=%s path=%s query=%s target=%s n=%zu x-test=%s cl=%lld chunked=%d "
                 "expect=%d minor=%d ka=%d tls=%d addr=%s rid=%s",
                 h->method, h->raw_path, h->raw_query, h->raw_target, h->n_headers,
                 ua ? ua : "-", (long long)h->content_length, h->chunked, h->expect_continue,
                 h->http_minor, h->keep_alive, h->is_tls, h->remote_addr, h->request_id);
        respond_text(ex, 200, text);
    } else if (strcmp(path, "/get") == 0) {
        long n = query_num(h->raw_query, "n", 10);
        int chunked = (int)query_num(h->raw_query, "chunked", 0);
        int by_ref = (int)query_num(h->raw_query, "ref", 0); /* each piece by reference */
        http_exchange_respond(ex, 200, NULL, 0, chunked ? -1 : n);
        char *buf = by_ref ? NULL : malloc(65536);
        for (long off = 0; off < n;) {
            size_t k = (size_t)(n - off < 65536 ? n - off : 65536);
            if (by_ref)
                buf = malloc(k);
            for (size_t i = 0; i < k; i++)
                buf[i] = (char)('a' + (off + (long)i) % 26);
            int rc;
            if (by_ref) {
                atomic_fetch_add(&refs_given, 1);
                rc = http_exchange_write_ref(ex, buf, k, count_release, NULL);
            } else {
                rc = http_exchange_write(ex, buf, k);
            }
            if (rc != 0)
                break;
            off += (long)k;
        }
        if (!by_ref)
            free(buf);
    } else if (strcmp(path, "/sleepread") == 0) {
        usleep((useconds_t)query_num(h->raw_query, "ms", 100) * 1000);
        h_echo(ex, 0);
    } else if (strcmp(path, "/noread") == 0) {
        respond_text(ex, 403, "denied");
    } else if (strcmp(path, "/sleep") == 0) {
        usleep((useconds_t)query_num(h->raw_query, "ms", 100) * 1000);
        respond_text(ex, 200, "slept");
    } else if (strcmp(path, "/noresp") == 0) {
        /* finishes without responding: the layer answers 500 */
    } else if (strcmp(path, "/nocontent") == 0) {
        http_exchange_respond(ex, 204, NULL, 0, 0);
    } else {
        respond_text(ex, 404, "no such path");
    }
    http_exchange_finish(ex);
}

/* ------------------------------------------------------------------------ */
/* A raw HTTP client                                                         */
/* ------------------------------------------------------------------------ */

struct cli {
    int fd;
    SSL *ssl;
    char buf[1 << 16];
    size_t len;
};

struct resp {
    int status;
    char head[16384];
    char *body;
    size_t body_len;
};

static struct cli *cli_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return NULL;
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct cli *c = calloc(1, sizeof(*c));
    c->fd = fd;
    return c;
}

static void cli_close(struct cli *c)
{
    if (!c)
        return;
    if (c->ssl)
        SSL_free(c->ssl);
    close(c->fd);
    free(c);
}

static int cli_send(struct cli *c, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = c->ssl ? SSL_write(c->ssl, p, (int)len) : send(c->fd, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int cli_sendstr(struct cli *c, const char *s)
{
    return cli_send(c, s, strlen(s));
}

/* Reads more bytes into c->buf; returns the count, 0 at EOF, <0 on error/timeout. */
static ssize_t cli_fill(struct cli *c)
{
    if (c->len == sizeof(c->buf))
        return -1;
    ssize_t n = c->ssl ? SSL_read(c->ssl, c->buf + c->len, (int)(sizeof(c->buf) - c->len))
                       : recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

static void cli_consume(struct cli *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Reads one line (without CRLF) into out.  Returns 0 or -1. */
static int cli_line(struct cli *c, char *out, size_t cap)
{
    for (;;) {
        char *nl = memmem(c->buf, c->len, "\r\n", 2);
        if (nl) {
            size_t l = (size_t)(nl - c->buf);
            if (l >= cap)
                return -1;
            memcpy(out, c->buf, l);
            out[l] = '\0';
            cli_consume(c, l + 2);
            return 0;
        }
        if (cli_fill(c) <= 0)
            return -1;
    }
}

static int cli_bytes(struct cli *c, char *out, size_t n)
{
    while (n > 0) {
        if (c->len == 0 && cli_fill(c) <= 0)
            return -1;
        size_t k = c->len < n ? c->len : n;
        memcpy(out, c->buf, k);
        cli_consume(c, k);
        out += k;
        n -= k;
    }
    return 0;
}

/* The value of header `name` in a raw head, copied to out; NULL when absent. */
static const char *resp_header(const struct resp *r, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t l = e ? (size_t)(e - v) : strlen(v);
            if (l >= cap)
                l = cap - 1;
            memcpy(out, v, l);
            out[l] = '\0';
            return out;
        }
    }
    return NULL;
}

/* Reads one response (its head; then the body unless `head_only`).  A 100
 * Continue is returned as its own response.  Returns 0 or -1. */
static int cli_response(struct cli *c, struct resp *r, int head_only)
{
    memset(r, 0, sizeof(*r));
    char line[8192];
    if (cli_line(c, line, sizeof(line)) != 0)
        return -1;
    if (sscanf(line, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    snprintf(r->head, sizeof(r->head), "%s", line);
    for (;;) {
        if (cli_line(c, line, sizeof(line)) != 0)
            return -1;
        size_t hl = strlen(r->head);
        snprintf(r->head + hl, sizeof(r->head) - hl, "\r\n%s", line);
        if (!line[0])
            break;
    }
    if (head_only || r->status < 200 || r->status == 204 || r->status == 304)
        return 0;
    char v[64];
    if (resp_header(r, "content-length", v, sizeof(v))) {
        r->body_len = (size_t)atoll(v);
        r->body = malloc(r->body_len + 1);
        if (cli_bytes(c, r->body, r->body_len) != 0)
            return -1;
        r->body[r->body_len] = '\0';
    } else if (resp_header(r, "transfer-encoding", v, sizeof(v))) {
        size_t cap = 1024;
        r->body = malloc(cap);
        for (;;) {
            if (cli_line(c, line, sizeof(line)) != 0)
                return -1;
            size_t n = strtoul(line, NULL, 16);
            if (n == 0)
                break;
            if (r->body_len + n + 1 > cap) {
                while (r->body_len + n + 1 > cap)
                    cap *= 2;
                r->body = realloc(r->body, cap);
            }
            if (cli_bytes(c, r->body + r->body_len, n) != 0 || cli_line(c, line, 8) != 0)
                return -1;
            r->body_len += n;
        }
        if (cli_line(c, line, sizeof(line)) != 0) /* end of (empty) trailer */
            return -1;
        r->body[r->body_len] = '\0';
    } else {
        /* close-delimited */
        while (cli_fill(c) > 0)
            ;
        r->body = malloc(c->len + 1);
        memcpy(r->body, c->buf, c->len);
        r->body_len = c->len;
        r->body[c->len] = '\0';
        c->len = 0;
    }
    return 0;
}

static void resp_free(struct resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* True when the server closed the connection (EOF or reset) within the
 * socket timeout, with no further bytes. */
static int cli_closed(struct cli *c)
{
    if (c->len)
        return 0;
    char b;
    ssize_t n = c->ssl ? SSL_read(c->ssl, &b, 1) : recv(c->fd, &b, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

static int has_header(const struct resp *r, const char *name, const char *value)
{
    char v[256];
    return resp_header(r, name, v, sizeof(v)) && (!value || strcasecmp(v, value) == 0);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int wait_for(atomic_int *v, int want, double seconds)
{
    double end = now_s() + seconds;
    while (atomic_load(v) < want && now_s() < end)
        usleep(10000);
    return atomic_load(v) >= want;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

/* Waits until *a == *b (both stable), up to `seconds`. */
static int wait_for_equal(atomic_long *a, atomic_long *b, double seconds)
{
    double end = now_s() + seconds;
    while (now_s() < end) {
        if (atomic_load(a) == atomic_load(b))
            return 1;
        usleep(10000);
    }
    return 0;
}

static struct http_server *start(struct http_server_options *o)
{
    static const char *const addr[] = {"127.0.0.1:0"};
    if (!o->listen) {
        o->listen = addr;
        o->n_listen = 1;
    }
    return http_server_start(o, handler, NULL);
}

static void base_options(struct http_server_options *o)
{
    http_server_options_init(o);
    o->io_threads = 2;
    o->worker_threads = 4;
    o->max_header_bytes = 8192;
    o->max_url_bytes = 1024;
    o->max_headers = 20;
    o->idle_timeout_s = 5;
    o->read_timeout_s = 5;
    o->body_buffer_bytes = 64 * 1024;
    o->shutdown_timeout_s = 5;
}

static void test_simple_get(int port)
{
    struct cli *c = cli_open(port);
    ok(c != NULL, "connect");
    cli_sendstr(c, "GET /info?a=1&b HTTP/1.1\r\nHost: x\r\nX-Test:  padded value  \r\n\r\n");
    struct resp r;
    ok(cli_response(c, &r, 0) == 0, "GET: response read");
    is_int(r.status, 200, "GET: 200");
    ok(has_header(&r, "server", "cairn"), "GET: Server: cairn");
    ok(has_header(&r, "date", NULL), "GET: Date present");
    ok(has_header(&r, "content-length", NULL), "GET: Content-Length present");
    ok(r.body && strstr(r.body, "method=GET path=/info query=a=1&b target=/info?a=1&b n=2"),
       "GET: head parsed (%s)", r.body ? r.body : "");
    ok(r.body && strstr(r.body, "x-test=padded value cl=-1 chunked=0 expect=0 minor=1 ka=1 tls=0 addr=127.0.0.1"),
       "GET: header trimmed, flags, remote addr");
    const char *rid = r.body ? strstr(r.body, "rid=") : NULL;
    ok(rid && strlen(rid + 4) == 16 && strspn(rid + 4, "0123456789ABCDEF") == 16,
       "GET: request id is 16 upper-case hex");
    resp_free(&r);
    cli_close(c);
}

static void test_keepalive(int port)
{
    struct cli *c = cli_open(port);
    struct resp r1, r2;
    cli_sendstr(c, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n");
    int a = cli_response(c, &r1, 0);
    cli_sendstr(c, "GET /info?second HTTP/1.1\r\nHost: x\r\n\r\n");
    int b = cli_response(c, &r2, 0);
    ok(a == 0 && b == 0 && r1.status == 200 && r2.status == 200,
       "keep-alive: two requests on one connection");
    ok(r2.body && strstr(r2.body, "query=second"), "keep-alive: second request parsed");
    const char *i1 = r1.body ? strstr(r1.body, "rid=") : NULL;
    const char *i2 = r2.body ? strstr(r2.body, "rid=") : NULL;
    ok(i1 && i2 && strcmp(i1, i2) != 0, "keep-alive: request ids differ");
    resp_free(&r1);
    resp_free(&r2);
    cli_close(c);
}

static void test_pipelining(int port)
{
    struct cli *c = cli_open(port);
    /* The first one is slow: the others must still come back after it. */
    cli_sendstr(c, "GET /sleep?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n"
                   "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                   "GET /info?third HTTP/1.1\r\nHost: x\r\n\r\n");
    struct resp r[3];
    int okc = 1;
    for (int i = 0; i < 3; i++)
        okc &= cli_response(c, &r[i], 0) == 0;
    ok(okc, "pipelining: three responses");
    ok(okc && strcmp(r[0].body, "slept") == 0, "pipelining: first answered first");
    ok(okc && strcmp(r[1].body, "len=5 md5=5d41402abc4b2a76b9719d911017c592") == 0,
       "pipelining: second carries its body");
    ok(okc && strstr(r[2].body, "query=third") != NULL, "pipelining: third last");
    for (int i = 0; i < 3; i++)
        resp_free(&r[i]);
    cli_close(c);
}

static void test_expect_continue(int port)
{
    struct cli *c = cli_open(port);
    cli_sendstr(c, "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    struct resp r;
    ok(cli_response(c, &r, 0) == 0 && r.status == 100, "100-continue: 100 before the body");
    cli_sendstr(c, "hello");
    ok(cli_response(c, &r, 0) == 0 && r.status == 200 &&
           strcmp(r.body, "len=5 md5=5d41402abc4b2a76b9719d911017c592") == 0,
       "100-continue: final response after the body");
    resp_free(&r);
    /* A handler that answers without reading: no 100, and the connection closes. */
    cli_sendstr(c, "PUT /noread HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.status == 403, "100-continue: early 403 without 100");
    ok(has_header(&r, "connection", "close"), "100-continue: early answer closes");
    ok(cli_closed(c), "100-continue: connection closed");
    resp_free(&r);
    cli_close(c);
}

static void test_chunked_request(int port)
{
    struct cli *c = cli_open(port);
    cli_sendstr(c, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "3\r\nhel\r\n"
                   "2;name=value\r\nlo\r\n"
                   "6\r\n world\r\n"
                   "0\r\nx-amz-checksum-crc32: AAAAAA==\r\nother: t\r\n\r\n");
    struct resp r;
    ok(cli_response(c, &r, 0) == 0 && r.status == 200, "chunked body: 200");
    /* md5("hello world") */
    is_str(r.body, "len=11 md5=5eb63bbbe01eeed093cb22bb8f5acdc3", "chunked body: de-chunked");
    resp_free(&r);
    cli_sendstr(c, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.status == 200 && strstr(r.body, "n=1 "),
       "chunked body: trailers not taken as the next request's headers");
    resp_free(&r);
    cli_close(c);
}

struct sender {
    struct cli *c;
    size_t total;
    unsigned char md5[16];
    int rc;
};

static void *send_big(void *arg)
{
    struct sender *s = arg;
    char *buf = malloc(65536);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_md5(), NULL);
    s->rc = 0;
    for (size_t off = 0; off < s->total; off += 65536) {
        for (size_t i = 0; i < 65536; i++)
            buf[i] = (char)((off / 65536 * 7 + i * 13) & 0xff);
        EVP_DigestUpdate(md, buf, 65536);
        if (cli_send(s->c, buf, 65536) != 0) {
            s->rc = -1;
            break;
        }
    }
    EVP_DigestFinal_ex(md, s->md5, NULL);
    EVP_MD_CTX_free(md);
    free(buf);
    return NULL;
}

static void test_big_body(int port, size_t buffer_bytes, size_t head_bytes)
{
    struct cli *c = cli_open(port);
    struct timeval tv = {20, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sender s = {.c = c, .total = 20u << 20};
    char head[256];
    snprintf(head, sizeof(head), "PUT /slowread HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
             s.total);
    cli_sendstr(c, head);
    pthread_t t;
    double t0 = now_s();
    pthread_create(&t, NULL, send_big, &s);
    struct resp r;
    int rc = cli_response(c, &r, 0);
    pthread_join(t, NULL);
    char hex[33], want[128];
    md5_hex(s.md5, hex);
    snprintf(want, sizeof(want), "len=%zu md5=%s", s.total, hex);
    ok(rc == 0 && s.rc == 0 && r.status == 200, "20 MiB body: 200 (%.2fs)", now_s() - t0);
    is_str(r.body, want, "20 MiB body: length and MD5 match");
    size_t peak = atomic_load(&slow_peak);
    ok(peak > 0 && peak <= buffer_bytes + head_bytes,
       "20 MiB body: body buffer stayed bounded (peak %zu <= %zu)", peak,
       buffer_bytes + head_bytes);
    resp_free(&r);
    cli_close(c);
}

static void test_limits(int port)
{
    struct resp r;
    char *big = malloc(20000);
    /* head too large */
    struct cli *c = cli_open(port);
    strcpy(big, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
    size_t l = strlen(big);
    memset(big + l, 'a', 10000);
    strcpy(big + l + 10000, "\r\n\r\n");
    cli_sendstr(c, big);
    ok(cli_response(c, &r, 0) == 0 && r.status == 431, "oversized head: 431");
    ok(has_header(&r, "content-type", "application/xml") && r.body &&
           strstr(r.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>") == r.body &&
           strstr(r.body, "<RequestId>"),
       "oversized head: S3 error XML");
    ok(cli_closed(c), "oversized head: connection closed");
    resp_free(&r);
    cli_close(c);
    /* URL too long */
    c = cli_open(port);
    strcpy(big, "GET /");
    memset(big + 5, 'u', 2000);
    strcpy(big + 2005, " HTTP/1.1\r\nHost: x\r\n\r\n");
    cli_sendstr(c, big);
    ok(cli_response(c, &r, 0) == 0 && r.status == 414, "long URL: 414");
    ok(cli_closed(c), "long URL: connection closed");
    resp_free(&r);
    cli_close(c);
    /* too many headers */
    c = cli_open(port);
    strcpy(big, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 30; i++)
        sprintf(big + strlen(big), "X-H%d: v\r\n", i);
    strcat(big, "\r\n");
    cli_sendstr(c, big);
    ok(cli_response(c, &r, 0) == 0 && r.status == 431, "too many headers: 431");
    ok(r.body && strstr(r.body, "<Code>RequestHeaderSectionTooLarge</Code>"),
       "too many headers: error code");
    resp_free(&r);
    cli_close(c);
    /* garbage */
    c = cli_open(port);
    cli_sendstr(c, "\x01\x02garbage that is not HTTP\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.status == 400, "garbage: 400");
    ok(r.body && strstr(r.body, "<Code>BadRequest</Code>"), "garbage: BadRequest XML");
    ok(cli_closed(c), "garbage: connection closed");
    resp_free(&r);
    cli_close(c);
    /* Content-Length and chunked together are ambiguous */
    c = cli_open(port);
    cli_sendstr(c, "POST /echo HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.status == 400, "CL + chunked: 400");
    resp_free(&r);
    cli_close(c);
    free(big);
}

static void test_client_gone(int port)
{
    atomic_store(&last_read_error, 0);
    int before = atomic_load(&handler_done);
    struct cli *c = cli_open(port);
    cli_sendstr(c, "PUT /gone HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial body");
    usleep(100000);
    cli_close(c);
    ok(wait_for(&handler_done, before + 1, 3), "disconnect mid-body: handler returned");
    is_int(atomic_load(&last_read_error), CAIRN_E_CLIENT_GONE, "disconnect mid-body: CLIENT_GONE");
    c = cli_open(port);
    struct resp r;
    cli_sendstr(c, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.status == 200, "disconnect mid-body: server still serves");
    resp_free(&r);
    cli_close(c);
}

static void test_head_and_chunked_response(int port)
{
    struct cli *c = cli_open(port);
    struct resp r;
    cli_sendstr(c, "HEAD /get?n=12345 HTTP/1.1\r\nHost: x\r\n\r\n");
    ok(cli_response(c, &r, 1) == 0 && r.status == 200, "HEAD: 200");
    ok(has_header(&r, "content-length", "12345"), "HEAD: Content-Length of the GET");
    cli_sendstr(c, "GET /get?n=3 HTTP/1.1\r\nHost: x\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.status == 200 && strcmp(r.body, "abc") == 0,
       "HEAD: no body bytes were sent (next response parses)");
    resp_free(&r);
    cli_sendstr(c, "GET /get?n=100000&chunked=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.status == 200, "chunked response: 200");
    ok(has_header(&r, "transfer-encoding", "chunked") && !has_header(&r, "content-length", NULL),
       "chunked response: Transfer-Encoding: chunked");
    int good = r.body_len == 100000;
    for (size_t i = 0; good && i < r.body_len; i++)
        good = r.body[i] == (char)('a' + i % 26);
    ok(good, "chunked response: body intact (%zu bytes)", r.body_len);
    resp_free(&r);
    cli_sendstr(c, "GET /nocontent HTTP/1.1\r\nHost: x\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.status == 204 && !has_header(&r, "content-length", NULL),
       "204: no length, no body");
    cli_sendstr(c, "GET /noresp HTTP/1.1\r\nHost: x\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.status == 500 && r.body &&
           strstr(r.body, "<Code>InternalError</Code>"),
       "no response from handler: 500 InternalError");
    resp_free(&r);
    /* big response through the bounded output queue */
    cli_sendstr(c, "GET /get?n=8388608 HTTP/1.1\r\nHost: x\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.status == 200 && r.body_len == 8388608 &&
           r.body[8388607] == (char)('a' + 8388607 % 26),
       "8 MiB response streamed");
    resp_free(&r);
    cli_close(c);
}

static void test_small_unread_body(int port)
{
    struct cli *c = cli_open(port);
    struct resp r;
    char req[2048] = "PUT /noread HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n";
    size_t l = strlen(req);
    memset(req + l, 'z', 1000);
    cli_send(c, req, l + 1000);
    ok(cli_response(c, &r, 0) == 0 && r.status == 403 && !has_header(&r, "connection", "close"),
       "small unread body: answered, connection kept");
    resp_free(&r);
    cli_sendstr(c, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.status == 200, "small unread body: discarded, next request works");
    resp_free(&r);
    cli_close(c);
}

static void test_http10(int port)
{
    struct cli *c = cli_open(port);
    struct resp r;
    cli_sendstr(c, "GET /info HTTP/1.0\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.status == 200 && strstr(r.body, "minor=0 ka=0"),
       "HTTP/1.0: answered");
    ok(has_header(&r, "connection", "close") && cli_closed(c), "HTTP/1.0: closed after");
    resp_free(&r);
    cli_close(c);
    c = cli_open(port);
    cli_sendstr(c, "GET /info HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && has_header(&r, "connection", "keep-alive"),
       "HTTP/1.0 keep-alive: kept");
    resp_free(&r);
    cli_sendstr(c, "GET /get?n=5&chunked=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && strcmp(r.body, "abcde") == 0 && !has_header(&r, "transfer-encoding", NULL),
       "HTTP/1.0: unknown length is close-delimited");
    resp_free(&r);
    cli_close(c);
}

static void test_timeouts(void)
{
    struct http_server_options o;
    base_options(&o);
    o.idle_timeout_s = 1;
    o.read_timeout_s = 1;
    struct http_server *srv = start(&o);
    int port = http_server_port(srv);
    /* idle keep-alive connection */
    struct cli *c = cli_open(port);
    struct resp r;
    cli_sendstr(c, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n");
    cli_response(c, &r, 0);
    resp_free(&r);
    double t0 = now_s();
    ok(cli_closed(c), "idle timeout: closed");
    double dt = now_s() - t0;
    ok(dt > 0.5 && dt < 3.5, "idle timeout: after about 1 s (%.2f)", dt);
    cli_close(c);
    /* slow client mid-body */
    atomic_store(&last_read_error, 0);
    c = cli_open(port);
    cli_sendstr(c, "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
    t0 = now_s();
    int got = cli_response(c, &r, 0);
    ok(got == 0 && r.status == 400 && strstr(r.body, "error=-64"),
       "slow client: handler read got REQUEST_TIMEOUT (%.2fs)", now_s() - t0);
    is_int(atomic_load(&last_read_error), CAIRN_E_REQUEST_TIMEOUT, "slow client: error code");
    ok(cli_closed(c), "slow client: closed");
    resp_free(&r);
    cli_close(c);
    /* A slow handler (not a slow client): while the body buffer is full the
     * client is not blamed, so no timeout although it sends nothing for 1.5 s. */
    c = cli_open(port);
    {
        enum { LEN = 100000 };
        char *body = malloc(LEN);
        memset(body, 'q', LEN);
        char head[160];
        snprintf(head, sizeof(head), "PUT /sleepread?ms=1500 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", LEN);
        cli_sendstr(c, head);
        cli_send(c, body, LEN);
        free(body);
        ok(cli_response(c, &r, 0) == 0 && r.status == 200 && strncmp(r.body, "len=100000 ", 11) == 0,
           "slow handler behind a full buffer: no timeout");
        resp_free(&r);
    }
    cli_close(c);
    /* slow head */
    c = cli_open(port);
    cli_sendstr(c, "GET /info HTTP/1.1\r\nHost:");
    ok(cli_closed(c), "slow head: closed");
    cli_close(c);
    http_server_stop(srv);
}

struct stopper {
    struct http_server *srv;
    double done_at;
};

static void *stop_thread(void *arg)
{
    struct stopper *s = arg;
    http_server_stop(s->srv);
    s->done_at = now_s();
    return NULL;
}

static void test_graceful_stop(void)
{
    struct http_server_options o;
    base_options(&o);
    struct http_server *srv = start(&o);
    int port = http_server_port(srv);
    struct cli *c = cli_open(port);
    struct cli *idle = cli_open(port);
    cli_sendstr(c, "GET /sleep?ms=500 HTTP/1.1\r\nHost: x\r\n\r\n");
    usleep(150000);
    struct stopper s = {srv, 0};
    pthread_t t;
    double t0 = now_s();
    pthread_create(&t, NULL, stop_thread, &s);
    ok(cli_closed(idle), "graceful stop: idle connection closed");
    struct resp r;
    ok(cli_response(c, &r, 0) == 0 && r.status == 200 && strcmp(r.body, "slept") == 0,
       "graceful stop: in-flight request finished");
    ok(has_header(&r, "connection", "close"), "graceful stop: Connection: close");
    resp_free(&r);
    pthread_join(t, NULL);
    ok(s.done_at - t0 < 3, "graceful stop: returned promptly (%.2fs)", s.done_at - t0);
    struct cli *late = cli_open(port);
    ok(late == NULL, "graceful stop: no longer accepting");
    cli_close(late);
    cli_close(c);
    cli_close(idle);

    /* A handler stuck past the grace period: stop still returns. */
    o.shutdown_timeout_s = 1;
    srv = start(&o);
    port = http_server_port(srv);
    c = cli_open(port);
    cli_sendstr(c, "PUT /gone HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
    usleep(100000);
    t0 = now_s();
    http_server_stop(srv);
    ok(now_s() - t0 < 3, "forced stop: blocked reader released (%.2fs)", now_s() - t0);
    cli_close(c);
}

static void test_max_connections(void)
{
    struct http_server_options o;
    base_options(&o);
    o.max_connections = 2;
    struct http_server *srv = start(&o);
    int port = http_server_port(srv);
    struct cli *a = cli_open(port), *b = cli_open(port);
    struct resp r;
    cli_sendstr(a, "GET /info HTTP/1.1\r\n\r\n");
    cli_sendstr(b, "GET /info HTTP/1.1\r\n\r\n");
    int ab = cli_response(a, &r, 0) == 0;
    resp_free(&r);
    ab &= cli_response(b, &r, 0) == 0;
    resp_free(&r);
    ok(ab, "max connections: two served");
    struct cli *c = cli_open(port);
    cli_sendstr(c, "GET /info HTTP/1.1\r\n\r\n");
    ok(cli_closed(c), "max connections: third refused");
    cli_close(c);
    cli_close(a);
    usleep(100000);
    c = cli_open(port);
    cli_sendstr(c, "GET /info HTTP/1.1\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.status == 200, "max connections: slot freed on close");
    resp_free(&r);
    cli_close(c);
    cli_close(b);
    http_server_stop(srv);
}

/* One worker: concurrent requests queue and are all served. */
static void test_worker_queue(void)
{
    struct http_server_options o;
    base_options(&o);
    o.worker_threads = 1;
    struct http_server *srv = start(&o);
    int port = http_server_port(srv);
    struct cli *c[3];
    double t0 = now_s();
    for (int i = 0; i < 3; i++) {
        c[i] = cli_open(port);
        cli_sendstr(c[i], "GET /sleep?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    int good = 1;
    for (int i = 0; i < 3; i++) {
        struct resp r;
        good &= cli_response(c[i], &r, 0) == 0 && r.status == 200;
        resp_free(&r);
        cli_close(c[i]);
    }
    double dt = now_s() - t0;
    ok(good, "one worker: three concurrent requests served");
    ok(dt >= 0.55, "one worker: they queued (%.2fs)", dt);
    http_server_stop(srv);
}

/* A client that half-closes after its request still gets the answer. */
static void test_half_close(int port)
{
    struct cli *c = cli_open(port);
    cli_sendstr(c, "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    usleep(50000);
    shutdown(c->fd, SHUT_WR);
    struct resp r;
    ok(cli_response(c, &r, 0) == 0 && r.status == 200 &&
           strcmp(r.body, "len=5 md5=5d41402abc4b2a76b9719d911017c592") == 0,
       "half-close after the request: answered");
    ok(cli_closed(c), "half-close: then closed");
    resp_free(&r);
    cli_close(c);
}

/* IPv6 loopback, when the machine has it. */
static void test_ipv6(void)
{
    struct http_server_options o;
    base_options(&o);
    static const char *const addr[] = {"[::1]:0"};
    o.listen = addr;
    o.n_listen = 1;
    struct http_server *srv = http_server_start(&o, handler, NULL);
    if (!srv) {
        ok(1, "# SKIP no IPv6 loopback");
        return;
    }
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)http_server_port(srv))};
    sa.sin6_addr = in6addr_loopback;
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[2048] = "";
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        const char *req = "GET /info HTTP/1.0\r\n\r\n";
        send(fd, req, strlen(req), MSG_NOSIGNAL);
        size_t got = 0;
        ssize_t n;
        while (got < sizeof(buf) - 1 && (n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0)) > 0)
            got += (size_t)n;
        buf[got] = '\0';
    }
    close(fd);
    ok(strstr(buf, "addr=::1 ") != NULL, "IPv6: served, remote_addr ::1");
    http_server_stop(srv);
}

static void test_tls(void)
{
    char dir[] = "/tmp/cairn-http-tls-XXXXXX";
    if (!mkdtemp(dir)) {
        ok(0, "TLS: temp dir");
        return;
    }
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
             "-keyout %s/private.key -out %s/public.crt >/dev/null 2>&1",
             dir, dir);
    int rc = system(cmd);
    ok(rc == 0, "TLS: self-signed certificate generated");
    struct http_server_options o;
    base_options(&o);
    static const char *const addr[] = {"127.0.0.1:0"};
    o.listen = addr;
    o.n_listen = 1;
    o.tls_listen = addr;
    o.n_tls_listen = 1;
    o.certs_dir = dir;
    struct http_server *srv = start(&o);
    ok(srv != NULL, "TLS: server started");
    if (srv) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        struct cli *c = cli_open(http_server_port(srv));
        c->ssl = SSL_new(ctx);
        SSL_set_fd(c->ssl, c->fd);
        ok(SSL_connect(c->ssl) == 1, "TLS: handshake");
        struct resp r;
        cli_sendstr(c, "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
        ok(cli_response(c, &r, 0) == 0 && r.status == 200 &&
               strcmp(r.body, "len=5 md5=5d41402abc4b2a76b9719d911017c592") == 0,
           "TLS: body round trip");
        resp_free(&r);
        cli_sendstr(c, "GET /info HTTP/1.1\r\nHost: x\r\n\r\n");
        ok(cli_response(c, &r, 0) == 0 && strstr(r.body, "tls=1"), "TLS: is_tls set");
        resp_free(&r);
        SSL_shutdown(c->ssl);
        cli_close(c);
        SSL_CTX_free(ctx);
        http_server_stop(srv);
    }
    /* a missing certificate is a clear start failure */
    o.certs_dir = "/nonexistent-cairn-certs";
    ok(start(&o) == NULL, "TLS: missing certificate refused");
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        ok(0, "TLS: cleanup");
}

/* Under AddressSanitizer, freed memory sits in a quarantine that RSS counts:
 * ask the allocator for the live bytes instead (weak: absent otherwise). */
size_t __sanitizer_get_current_allocated_bytes(void) __attribute__((weak));

/* Memory in use by this process, in KiB: live heap bytes under a sanitizer,
 * else the resident set size. */
static long rss_kib(void)
{
    if (__sanitizer_get_current_allocated_bytes)
        return (long)(__sanitizer_get_current_allocated_bytes() / 1024);
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

/* 1,000 keep-alive connections, each after one request, then idle: the
 * server's memory must grow by well under 32 MiB. */
static void test_idle_memory(void)
{
    enum { N = 1000 };
    struct http_server_options o;
    base_options(&o);
    struct http_server *srv = start(&o);
    int port = http_server_port(srv);
    static int fds[N];
    const char *req = "GET /get?n=3 HTTP/1.1\r\nHost: x\r\n\r\n";
    long before = rss_kib();
    int served = 0;
    for (int i = 0; i < N; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        struct timeval tv = {5, 0};
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) != 0)
            continue;
        if (send(fds[i], req, strlen(req), MSG_NOSIGNAL) < 0)
            continue;
        char buf[1024];
        size_t got = 0;
        while (got < 4 || memcmp(buf + got - 3, "abc", 3) != 0) {
            ssize_t n = recv(fds[i], buf + got, sizeof(buf) - got, 0);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        served += got >= 3 && memcmp(buf + got - 3, "abc", 3) == 0;
    }
    usleep(200000);
    long after = rss_kib();
    is_int(served, N, "1000 keep-alive connections served");
    ok(after - before < 32 * 1024, "1000 idle keep-alive connections cost %ld KiB (< 32 MiB, %s)",
       after - before, __sanitizer_get_current_allocated_bytes ? "heap" : "RSS");
    for (int i = 0; i < N; i++)
        close(fds[i]);
    http_server_stop(srv);
}

/* Response bytes handed over by reference reach the client intact, in order,
 * with both framings, and every buffer is released exactly once: after
 * sending, for HEAD (nothing sent), and when the client goes away. */
static void test_write_ref(int port)
{
    struct cli *c = cli_open(port);
    struct resp r;
    cli_sendstr(c, "GET /get?n=3000000&ref=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.status == 200, "by reference: 200");
    int good = r.body_len == 3000000;
    for (size_t i = 0; good && i < r.body_len; i++)
        good = r.body[i] == (char)('a' + i % 26);
    ok(good, "by reference: 3 MB body intact (%zu bytes)", r.body_len);
    resp_free(&r);
    cli_sendstr(c, "GET /get?n=200000&ref=1&chunked=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.status == 200 &&
           has_header(&r, "transfer-encoding", "chunked"),
       "by reference, chunked: 200");
    good = r.body_len == 200000;
    for (size_t i = 0; good && i < r.body_len; i++)
        good = r.body[i] == (char)('a' + i % 26);
    ok(good, "by reference, chunked: body intact (%zu bytes)", r.body_len);
    resp_free(&r);
    cli_sendstr(c, "HEAD /get?n=100000&ref=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    ok(cli_response(c, &r, 1) == 0 && r.status == 200 &&
           has_header(&r, "content-length", "100000"),
       "by reference, HEAD: length, no body");
    cli_sendstr(c, "GET /get?n=5&ref=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    ok(cli_response(c, &r, 0) == 0 && r.body && strcmp(r.body, "abcde") == 0,
       "by reference: next response on the connection parses");
    resp_free(&r);
    cli_close(c);
    ok(wait_for_equal(&refs_given, &refs_released, 5.0),
       "by reference: every buffer released once (%ld of %ld)", atomic_load(&refs_released),
       atomic_load(&refs_given));

    /* A client that leaves mid-response: the queued buffers are released. */
    c = cli_open(port);
    cli_sendstr(c, "GET /get?n=67108864&ref=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    ok(cli_fill(c) > 0, "by reference, client gone: response started");
    cli_close(c);
    ok(wait_for_equal(&refs_given, &refs_released, 10.0),
       "by reference, client gone: every buffer released (%ld of %ld)",
       atomic_load(&refs_released), atomic_load(&refs_given));
}

int main(void)
{
    alarm(90);
    struct http_server_options o;
    base_options(&o);
    struct http_server *srv = start(&o);
    ok(srv != NULL, "server started");
    if (!srv)
        return tap_done();
    int port = http_server_port(srv);
    ok(port > 0, "bound port %d", port);

    test_simple_get(port);
    test_keepalive(port);
    test_pipelining(port);
    test_expect_continue(port);
    test_chunked_request(port);
    test_big_body(port, o.body_buffer_bytes, o.max_header_bytes + 1);
    test_limits(port);
    test_client_gone(port);
    test_head_and_chunked_response(port);
    test_write_ref(port);
    test_small_unread_body(port);
    test_http10(port);
    test_half_close(port);
    http_server_stop(srv);

    test_timeouts();
    test_graceful_stop();
    test_max_connections();
    test_tls();
    test_worker_queue();
    test_ipv6();
    test_idle_memory();

    struct http_server_options bad;
    base_options(&bad);
    static const char *const badaddr[] = {"no-port-here"};
    bad.listen = badaddr;
    bad.n_listen = 1;
    ok(http_server_start(&bad, handler, NULL) == NULL, "bad listen address refused");
    return tap_done();
}
