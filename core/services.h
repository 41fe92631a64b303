/*
 * services.h -- the core's implementation of `struct cairn_services`, and the
 * logging the core itself uses.
 */
#ifndef CAIRN_SERVICES_H
#define CAIRN_SERVICES_H

#include <cairn/plugin.h>

/* The process-wide services table handed to every plugin. */
const struct cairn_services *core_services(void);

/* Log a line (same as services->log): timestamp, level, request ID when `req`
 * is set.  Never pass secrets. */
void core_log(struct cairn_req *req, enum cairn_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Logs one access line (INFO) of `len` bytes.  Access lines are buffered
 * and written within 100 ms, before any other line, and at exit. */
void core_log_access(struct cairn_req *req, const char *text, size_t len);

/* True when lines of `level` are printed. */
int core_log_enabled(enum cairn_log_level level);

/* Sets the least severe level that is printed (default CAIRN_LOG_INFO). */
void core_log_set_level(enum cairn_log_level level);

#endif
