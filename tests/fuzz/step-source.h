/*
 * step-source.h -- a byte source for streaming parsers under test: hands out
 * a buffer at most `step` bytes per read, so that every split of the input
 * across reads gets exercised (used by test-form-data and fuzz-form-data).
 */
#ifndef CAIRN_STEP_SOURCE_H
#define CAIRN_STEP_SOURCE_H
#include <string.h>
#include <sys/types.h>

struct step_source {
    const char *data;
    size_t len, off, step;
};

/* A form_read_fn-shaped reader: up to min(len, step) bytes, 0 at the end. */
static inline ssize_t step_source_read(void *ctx, void *buf, size_t len)
{
    struct step_source *s = ctx;
    size_t n = s->len - s->off;
    if (n > len)
        n = len;
    if (n > s->step)
        n = s->step;
    memcpy(buf, s->data + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

#endif
