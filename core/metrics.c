/* metrics.c -- named counters and their Prometheus text rendering. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/plugin.h>

#include "metrics.h"

struct counter {
    char *name;
    double value;
};

static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static struct counter *counters; /* kept sorted by name: lookups are binary searches */
static size_t n_counters, cap_counters;
static double dropped;

/* Prometheus: [a-zA-Z_:][a-zA-Z0-9_:]*, then optionally {labels} with quoted
 * values and nothing after the closing brace. */
static int valid_name(const char *s)
{
    size_t i = 0;
    if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_' ||
                s[0] == ':'))
        return 0;
    for (i = 1; s[i] && s[i] != '{'; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ':'))
            return 0;
    }
    if (!s[i])
        return i <= 200;
    size_t len = strlen(s);
    if (len > 512 || s[len - 1] != '}')
        return 0;
    int quoted = 0;
    for (size_t j = i + 1; j < len - 1; j++) {
        if (s[j] == '\n')
            return 0;
        if (quoted && s[j] == '\\' && j + 1 < len - 1) {
            j++;
            continue;
        }
        if (s[j] == '"')
            quoted = !quoted;
        else if (!quoted && (s[j] == '{' || s[j] == '}'))
            return 0;
    }
    return !quoted;
}

static size_t base_len(const char *name)
{
    const char *brace = strchr(name, '{');
    return brace ? (size_t)(brace - name) : strlen(name);
}

/* Orders by metric name first, then labels, so that every label set of one
 * metric is contiguous (one TYPE line each). */
static int name_cmp(const char *a, const char *b)
{
    size_t la = base_len(a), lb = base_len(b);
    int c = strncmp(a, b, la < lb ? la : lb);
    if (c != 0)
        return c;
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a + la, b + lb);
}

/* Index of `name`, or -(insertion point) - 1.  Caller holds the lock. */
static long find(const char *name)
{
    size_t lo = 0, hi = n_counters;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = name_cmp(counters[mid].name, name);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

void metrics_add(const char *name, double delta)
{
    if (!valid_name(name)) {
        pthread_mutex_lock(&metrics_lock);
        dropped += 1;
        pthread_mutex_unlock(&metrics_lock);
        return;
    }
    pthread_mutex_lock(&metrics_lock);
    long i = find(name);
    if (i >= 0) {
        counters[i].value += delta;
        goto out;
    }
    size_t at = (size_t)(-i - 1);
    if (n_counters >= METRICS_MAX_COUNTERS)
        goto drop;
    if (n_counters == cap_counters) {
        size_t cap = cap_counters ? cap_counters * 2 : 64;
        struct counter *c = realloc(counters, cap * sizeof(*c));
        if (!c)
            goto drop;
        counters = c;
        cap_counters = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        goto drop;
    memmove(&counters[at + 1], &counters[at], (n_counters - at) * sizeof(*counters));
    counters[at].name = copy;
    counters[at].value = delta;
    n_counters++;
    goto out;
drop:
    dropped += 1;
out:
    pthread_mutex_unlock(&metrics_lock);
}

double metrics_get(const char *name)
{
    double v = 0;
    if (!name)
        return 0;
    pthread_mutex_lock(&metrics_lock);
    if (strcmp(name, "cairn_metrics_dropped_total") == 0) {
        v = dropped;
    } else {
        long i = find(name);
        if (i >= 0)
            v = counters[i].value;
    }
    pthread_mutex_unlock(&metrics_lock);
    return v;
}

/* A growing output buffer. */
struct text {
    char *buf;
    size_t len, cap;
    int failed;
};

static void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_printf(struct text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)n + 1;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->failed = 1;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

int metrics_render(char **text_r, size_t *len_r)
{
    struct text t = {.buf = malloc(1024), .cap = 1024};
    if (!t.buf)
        return CAIRN_E_NOMEM;
    t.buf[0] = '\0';
    pthread_mutex_lock(&metrics_lock);
    const char *prev = NULL;
    size_t prev_len = 0;
    for (size_t i = 0; i < n_counters; i++) {
        const char *name = counters[i].name;
        size_t bl = base_len(name);
        if (!prev || prev_len != bl || strncmp(prev, name, bl) != 0)
            text_printf(&t, "# TYPE %.*s counter\n", (int)bl, name);
        prev = name;
        prev_len = bl;
        text_printf(&t, "%s %.17g\n", name, counters[i].value);
    }
    text_printf(&t, "# TYPE cairn_metrics_dropped_total counter\n");
    text_printf(&t, "cairn_metrics_dropped_total %.17g\n", dropped);
    pthread_mutex_unlock(&metrics_lock);
    if (t.failed) {
        free(t.buf);
        return CAIRN_E_NOMEM;
    }
    *text_r = t.buf;
    *len_r = t.len;
    return 0;
}

void metrics_reset(void)
{
    pthread_mutex_lock(&metrics_lock);
    for (size_t i = 0; i < n_counters; i++)
        free(counters[i].name);
    free(counters);
    counters = NULL;
    n_counters = cap_counters = 0;
    dropped = 0;
    pthread_mutex_unlock(&metrics_lock);
}
