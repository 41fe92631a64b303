/*
 * http-echo-server.c -- the HTTP layer alone, for benchmarks of the transport:
 *
 *   http-echo-server [ADDRESS] [IO_THREADS] [WORKERS]     (default 127.0.0.1:19100 2 16)
 *
 * PUT/POST: reads the body and answers "len=N".  GET /?n=N: answers N bytes
 * (default 0).  SIGINT/SIGTERM stop it gracefully.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http-exchange.h"

static void echo_handler(struct http_exchange *ex, void *arg)
{
    static __thread char buf[256 * 1024];
    const struct http_request_head *h = http_exchange_head(ex);
    char text[64];
    if (strcmp(h->method, "PUT") == 0 || strcmp(h->method, "POST") == 0) {
        unsigned long long total = 0;
        ssize_t n;
        while ((n = http_exchange_read(ex, buf, sizeof(buf))) > 0)
            total += (unsigned long long)n;
        if (n < 0) {
            http_exchange_finish(ex); /* the layer answers 500 or the client is gone */
            return;
        }
        snprintf(text, sizeof(text), "len=%llu\n", total);
        http_exchange_respond(ex, 200, NULL, 0, (int64_t)strlen(text));
        http_exchange_write(ex, text, strlen(text));
    } else {
        const char *q = strstr(h->raw_query, "n=");
        long long want = q ? atoll(q + 2) : 0;
        http_exchange_respond(ex, 200, NULL, 0, want);
        memset(buf, 'x', sizeof(buf));
        for (long long off = 0; off < want;) {
            size_t k = (size_t)(want - off < (long long)sizeof(buf) ? want - off : (long long)sizeof(buf));
            if (http_exchange_write(ex, buf, k) != 0)
                break;
            off += (long long)k;
        }
    }
    http_exchange_finish(ex);
}

int main(int argc, char **argv)
{
    const char *addr = argc > 1 ? argv[1] : "127.0.0.1:19100";
    struct http_server_options o;
    http_server_options_init(&o);
    o.listen = &addr;
    o.n_listen = 1;
    if (argc > 2)
        o.io_threads = atoi(argv[2]);
    if (argc > 3)
        o.worker_threads = atoi(argv[3]);
    /* Block the stop signals in every thread; the main thread waits for them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct http_server *srv = http_server_start(&o, echo_handler, NULL);
    if (!srv)
        return 1;
    printf("listening on %s (port %d)\n", addr, http_server_port(srv));
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    http_server_stop(srv);
    return 0;
}
