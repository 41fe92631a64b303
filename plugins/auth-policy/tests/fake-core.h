/*
 * fake-core.h -- a stand-in for the cairn core in the policy plugins' unit
 * tests: a services table with a settable clock, a tiny key/value
 * configuration and logging to stderr.  The plugins under test reach nothing
 * else of the core.
 */
#ifndef CAIRN_POLICY_FAKE_CORE_H
#define CAIRN_POLICY_FAKE_CORE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/plugin.h"

/* The configuration: NULL-terminated name/value pairs. */
struct cairn_config {
    const struct cairn_kv *items;
};

static int64_t fake_now_ms_value = 1717200000000LL; /* 2024-06-01T00:00:00Z */

static void fake_log(struct cairn_req *req, enum cairn_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fake_log(struct cairn_req *req, enum cairn_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "# log[%d]: ", (int)level);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static const char *fake_config_string(const struct cairn_config *cfg, const char *name,
                                      const char *dflt)
{
    for (const struct cairn_kv *kv = cfg ? cfg->items : NULL; kv && kv->name; kv++)
        if (strcmp(kv->name, name) == 0)
            return kv->value;
    return dflt;
}

static int64_t fake_config_int(const struct cairn_config *cfg, const char *name, int64_t dflt)
{
    const char *v = fake_config_string(cfg, name, NULL);
    return v ? strtoll(v, NULL, 10) : dflt;
}

static int64_t fake_now_ms(void)
{
    return fake_now_ms_value;
}

static inline struct cairn_services fake_services(void)
{
    struct cairn_services s;
    memset(&s, 0, sizeof(s));
    s.size = sizeof(s);
    s.abi_major = CAIRN_ABI_MAJOR;
    s.abi_minor = CAIRN_ABI_MINOR;
    s.log = fake_log;
    s.config_string = fake_config_string;
    s.config_int = fake_config_int;
    s.now_ms = fake_now_ms;
    return s;
}

#endif
