/* log.c -- one line per event on stderr: time, level, request ID, message. */
#include <stdarg.h>
#include <stdatomic.h>
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

/* Ends the line (`n` characters were wanted, perhaps more than fit) and
 * writes it with one call, so lines of concurrent threads never interleave. */
static void log_emit(char *line, size_t n)
{
    size_t len = n < LOG_LINE_MAX - 1 ? n : LOG_LINE_MAX - 5;
    if (n >= LOG_LINE_MAX - 1)
        memcpy(line + len, "...", 3), len += 3; /* truncated */
    /* One event, one line: a message must not break the format. */
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
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

void core_log_text(struct cairn_req *req, enum cairn_log_level level, const char *text,
                   size_t len)
{
    if ((int)level > atomic_load(&log_level))
        return;
    level = clamp_level(level);
    char line[LOG_LINE_MAX];
    size_t n = log_prefix(line, req, level);
    size_t room = sizeof(line) - n - 1;
    memcpy(line + n, text, len < room ? len : room);
    log_emit(line, n + len);
}
