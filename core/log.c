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

void core_log(struct cairn_req *req, enum cairn_log_level level, const char *fmt, ...)
{
    if ((int)level > atomic_load(&log_level))
        return;
    if ((int)level < CAIRN_LOG_ERROR)
        level = CAIRN_LOG_ERROR;
    if ((int)level > CAIRN_LOG_DEBUG)
        level = CAIRN_LOG_DEBUG;

    /* Build the whole line first and write it with one call, so lines of
     * concurrent threads never interleave. */
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[level]);
    if (req && req->request_id && n > 0 && (size_t)n < sizeof(line))
        n += snprintf(line + n, sizeof(line) - (size_t)n, "req=%s ", req->request_id);
    if (n > 0 && (size_t)n < sizeof(line)) {
        va_list ap;
        va_start(ap, fmt);
        n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 5;
    if ((size_t)n >= sizeof(line) - 1)
        memcpy(line + len, "...", 3), len += 3; /* truncated */
    /* One event, one line: a message must not break the format. */
    for (size_t i = 0; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
