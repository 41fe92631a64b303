/* ellipsis.c -- {1...4} range expansion as MinIO does it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/plugin.h>

#include "ellipsis.h"

/* One piece of a pattern: literal text followed by an optional range. */
struct segment {
    const char *text;
    size_t text_len;
    int has_range;
    unsigned long long lo, hi;
    int width; /* zero-pad to this many digits; 0: none */
};

#define MAX_SEGMENTS 16

static int is_digits(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Parses "{A...B}" at `open` (pointing at '{').  Returns the length consumed
 * (through '}'), 0 when this brace is literal, or -1 on error. */
static long parse_range(const char *open, struct segment *seg, const char *pattern, char *err,
                        size_t err_cap)
{
    const char *close = strchr(open, '}');
    if (!close) {
        /* An unclosed brace is an error only when it starts something range-like. */
        if (open[1] >= '0' && open[1] <= '9') {
            snprintf(err, err_cap, "%s: unclosed '{' in ellipsis range", pattern);
            return -1;
        }
        return 0;
    }
    const char *in = open + 1;
    size_t in_len = (size_t)(close - in);
    const char *dots = memchr(in, '.', in_len);
    /* Looks like a range at all?  Only digits and dots inside. */
    int rangey = in_len > 0 && dots;
    for (size_t i = 0; rangey && i < in_len; i++)
        if (!((in[i] >= '0' && in[i] <= '9') || in[i] == '.'))
            rangey = 0;
    if (!rangey)
        return 0;
    size_t a_len = (size_t)(dots - in);
    const char *b = dots + 3;
    if (in_len < a_len + 3 || strncmp(dots, "...", 3) != 0 || (b < close && *b == '.') ||
        !is_digits(in, a_len) || !is_digits(b, (size_t)(close - b))) {
        snprintf(err, err_cap, "%s: malformed ellipsis '%.*s' (expected {START...END}, e.g. {1...4})",
                 pattern, (int)(in_len + 2), open);
        return -1;
    }
    size_t b_len = (size_t)(close - b);
    if (a_len > 18 || b_len > 18) {
        snprintf(err, err_cap, "%s: ellipsis bound too large in '%.*s'", pattern,
                 (int)(in_len + 2), open);
        return -1;
    }
    seg->lo = strtoull(in, NULL, 10);
    seg->hi = strtoull(b, NULL, 10);
    if (seg->lo > seg->hi) {
        snprintf(err, err_cap, "%s: ellipsis range '%.*s' has its start after its end", pattern,
                 (int)(in_len + 2), open);
        return -1;
    }
    seg->has_range = 1;
    seg->width = (a_len > 1 && in[0] == '0') ? (int)(a_len > b_len ? a_len : b_len) : 0;
    return (long)(in_len + 2);
}

/* Splits `pattern` into segments; returns their count or -1 (err set). */
static int split(const char *pattern, struct segment *segs, char *err, size_t err_cap)
{
    int n = 0;
    const char *p = pattern, *text = pattern;
    while (*p) {
        if (*p != '{') {
            p++;
            continue;
        }
        struct segment seg = {0};
        long used = parse_range(p, &seg, pattern, err, err_cap);
        if (used < 0)
            return -1;
        if (used == 0) {
            p++;
            continue;
        }
        if (n == MAX_SEGMENTS) {
            snprintf(err, err_cap, "%s: more than %d ellipsis ranges", pattern, MAX_SEGMENTS);
            return -1;
        }
        seg.text = text;
        seg.text_len = (size_t)(p - text);
        segs[n++] = seg;
        p += used;
        text = p;
    }
    segs[n].text = text;
    segs[n].text_len = strlen(text);
    segs[n].has_range = 0;
    return n + 1;
}

int ellipsis_has_range(const char *s)
{
    struct segment segs[MAX_SEGMENTS + 1];
    char err[8];
    return s && split(s, segs, err, sizeof(err)) > 1;
}

void ellipsis_free(char **list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

int ellipsis_expand(const char *pattern, char ***list_r, size_t *n_r, char *err, size_t err_cap)
{
    struct segment segs[MAX_SEGMENTS + 1];
    *list_r = NULL;
    *n_r = 0;
    if (err_cap)
        err[0] = '\0';
    if (!pattern || !*pattern) {
        snprintf(err, err_cap, "empty drive or endpoint argument");
        return CAIRN_E_INVALID_ARGUMENT;
    }
    int nseg = split(pattern, segs, err, err_cap);
    if (nseg < 0)
        return CAIRN_E_INVALID_ARGUMENT;

    /* Count first, refusing absurd products before allocating anything. */
    size_t total = 1, max_len = 1;
    for (int i = 0; i < nseg; i++) {
        max_len += segs[i].text_len;
        if (!segs[i].has_range)
            continue;
        unsigned long long count = segs[i].hi - segs[i].lo + 1;
        if (count > ELLIPSIS_MAX_EXPANSION || total * count > ELLIPSIS_MAX_EXPANSION) {
            snprintf(err, err_cap, "%s: expands to more than %d names", pattern,
                     ELLIPSIS_MAX_EXPANSION);
            return CAIRN_E_INVALID_ARGUMENT;
        }
        total *= (size_t)count;
        max_len += 20 + (size_t)segs[i].width;
    }

    char **list = calloc(total, sizeof(*list));
    char *buf = malloc(max_len);
    if (!list || !buf) {
        free(list);
        free(buf);
        return CAIRN_E_NOMEM;
    }
    for (size_t idx = 0; idx < total; idx++) {
        /* Mixed-radix digits of idx, the last range varying fastest. */
        size_t rest = idx, len = 0;
        unsigned long long value[MAX_SEGMENTS + 1] = {0};
        for (int i = nseg - 1; i >= 0; i--) {
            if (!segs[i].has_range)
                continue;
            size_t count = (size_t)(segs[i].hi - segs[i].lo + 1);
            value[i] = segs[i].lo + rest % count;
            rest /= count;
        }
        for (int i = 0; i < nseg; i++) {
            memcpy(buf + len, segs[i].text, segs[i].text_len);
            len += segs[i].text_len;
            if (segs[i].has_range)
                len += (size_t)snprintf(buf + len, max_len - len, "%0*llu", segs[i].width,
                                        value[i]);
        }
        buf[len] = '\0';
        if (!(list[idx] = strdup(buf))) {
            ellipsis_free(list, idx);
            free(buf);
            return CAIRN_E_NOMEM;
        }
    }
    free(buf);
    *list_r = list;
    *n_r = total;
    return 0;
}
