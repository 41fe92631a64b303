/* log.c -- one line per event on stderr: time, level, request ID, message. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "request.h"
#include "services.h"

static atomic_int log_level = CAIRN_LOG_INFO;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

void core_log_set_level(enum cairn_log_level level)
{
    if ((int)level < CAIRN_LOG_ERROR)
        level = CAIRN_LOG_ERROR;
    if ((int)level > CAIRN_LOG_DEBUG)
        level = CAIRN_LOG_DEBUG;
    atomic_store(&log_level, (int)level);
}

int core_log_enabled(enum cairn_log_level level)
{
    return (int)level <= atomic_load(&log_level);
}

#define LOG_LINE_MAX 2048

static char *put_digits(char *p, long v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

/* Writes "2026-01-02T03:04:05.678Z INFO  req=ID " into `line` (formatted by
 * hand: this runs for every request's access line); returns its length. */
static size_t log_prefix(char *line, struct cairn_req *req, enum cairn_log_level level)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char *p = line;
    p = put_digits(p, (tm.tm_year + 1900) % 10000, 4);
    *p++ = '-';
    p = put_digits(p, tm.tm_mon + 1, 2);
    *p++ = '-';
    p = put_digits(p, tm.tm_mday, 2);
    *p++ = 'T';
    p = put_digits(p, tm.tm_hour, 2);
    *p++ = ':';
    p = put_digits(p, tm.tm_min, 2);
    *p++ = ':';
    p = put_digits(p, tm.tm_sec, 2);
    *p++ = '.';
    p = put_digits(p, ts.tv_nsec / 1000000, 3);
    *p++ = 'Z';
    *p++ = ' ';
    memcpy(p, level_names[level], 5); /* padded to 5 */
    size_t ln = strlen(level_names[level]);
    for (size_t i = ln; i < 5; i++)
        p[i] = ' ';
    p += 5;
    *p++ = ' ';
    if (req && req->request_id) {
        size_t n = strnlen(req->request_id, 64);
        memcpy(p, "req=", 4);
        memcpy(p + 4, req->request_id, n);
        p += 4 + n;
        *p++ = ' ';
    }
    return (size_t)(p - line);
}

/* Ends the line (`n` characters were wanted, perhaps more than fit): marks
 * a truncation, keeps it on one line and adds the newline.  Returns its
 * length. */
static size_t log_finish(char *line, size_t n)
{
    size_t len = n < LOG_LINE_MAX - 1 ? n : LOG_LINE_MAX - 5;
    if (n >= LOG_LINE_MAX - 1)
        memcpy(line + len, "...", 3), len += 3; /* truncated */
    /* One event, one line: a message must not break the format. */
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len++] = '\n';
    return len;
}

/*
 * The access log (one line per request) is buffered: a write(2) to the log
 * file per request was about 6% of a small GET's server CPU, and concurrent
 * appends contend on the file.  Access lines are written in blocks, at the
 * latest ACCESS_FLUSH_MS after the first one of a block, and before any other
 * log line (so the file keeps the order of events), and at exit.  A process
 * killed with SIGKILL may lose the access lines of its last ACCESS_FLUSH_MS.
 */
#define ACCESS_BUF (16 * 1024)
#define ACCESS_FLUSH_MS 100

static pthread_mutex_t access_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t access_cond = PTHREAD_COND_INITIALIZER;
static char access_buf[ACCESS_BUF];
static size_t access_len;        /* guarded by access_mu */
static int access_flusher;       /* 1: running, -1: could not start (write through) */

static void write_all(const char *p, size_t len)
{
    ssize_t w = write(STDERR_FILENO, p, len);
    (void)w; /* nothing sensible to do when the log cannot be written */
}

/* Writes the buffered access lines.  Locked. */
static void access_flush_locked(void)
{
    if (access_len) {
        write_all(access_buf, access_len);
        access_len = 0;
    }
}

static void access_flush_at_exit(void)
{
    pthread_mutex_lock(&access_mu);
    access_flush_locked();
    pthread_mutex_unlock(&access_mu);
}

static void *access_flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&access_mu);
    for (;;) {
        while (access_len == 0)
            pthread_cond_wait(&access_cond, &access_mu);
        pthread_mutex_unlock(&access_mu);
        struct timespec ts = {0, ACCESS_FLUSH_MS * 1000000L};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&access_mu);
        access_flush_locked();
    }
    return NULL;
}

/* Starts the flusher once.  Locked. */
static void access_start_locked(void)
{
    if (access_flusher)
        return;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    access_flusher = pthread_create(&t, &attr, access_flusher_main, NULL) == 0 ? 1 : -1;
    pthread_attr_destroy(&attr);
    if (access_flusher == 1)
        atexit(access_flush_at_exit);
}

/* Writes a finished line (not an access line) after the buffered ones. */
static void log_emit(char *line, size_t n)
{
    size_t len = log_finish(line, n);
    pthread_mutex_lock(&access_mu);
    access_flush_locked();
    write_all(line, len);
    pthread_mutex_unlock(&access_mu);
}

static enum cairn_log_level clamp_level(enum cairn_log_level level)
{
    if ((int)level < CAIRN_LOG_ERROR)
        return CAIRN_LOG_ERROR;
    if ((int)level > CAIRN_LOG_DEBUG)
        return CAIRN_LOG_DEBUG;
    return level;
}

void core_log(struct cairn_req *req, enum cairn_log_level level, const char *fmt, ...)
{
    if ((int)level > atomic_load(&log_level))
        return;
    level = clamp_level(level);
    char line[LOG_LINE_MAX];
    size_t n = log_prefix(line, req, level);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    log_emit(line, n + (size_t)m);
}

void core_log_access(struct cairn_req *req, const char *text, size_t len)
{
    if ((int)CAIRN_LOG_INFO > atomic_load(&log_level))
        return;
    char line[LOG_LINE_MAX];
    size_t n = log_prefix(line, req, CAIRN_LOG_INFO);
    size_t room = sizeof(line) - n - 1;
    memcpy(line + n, text, len < room ? len : room);
    size_t ll = log_finish(line, n + len);
    pthread_mutex_lock(&access_mu);
    access_start_locked();
    if (access_flusher < 0) {
        access_flush_locked();
        write_all(line, ll);
    } else {
        if (access_len + ll > sizeof(access_buf))
            access_flush_locked();
        int was_empty = access_len == 0;
        memcpy(access_buf + access_len, line, ll);
        access_len += ll;
        if (was_empty)
            pthread_cond_signal(&access_cond);
    }
    pthread_mutex_unlock(&access_mu);
}
