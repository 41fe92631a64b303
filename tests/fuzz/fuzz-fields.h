/*
 * fuzz-fields.h -- splits a fuzz input into NUL-terminated fields, each in
 * its own exact-size malloc block so AddressSanitizer catches a read one byte
 * past any of them.  Fields are separated by '\n'; missing fields are NULL.
 */
#ifndef CAIRN_FUZZ_FIELDS_H
#define CAIRN_FUZZ_FIELDS_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_FIELDS 8

struct fuzz_fields {
    char *f[FUZZ_MAX_FIELDS];
    size_t len[FUZZ_MAX_FIELDS];
    size_t n;
};

/* Splits into at most `max` fields (the last one takes the rest, newlines
 * included).  Returns 0, or -1 when out of memory (fields freed). */
static inline int fuzz_split(const uint8_t *data, size_t size, size_t max, struct fuzz_fields *out)
{
    memset(out, 0, sizeof(*out));
    if (max > FUZZ_MAX_FIELDS)
        max = FUZZ_MAX_FIELDS;
    size_t start = 0;
    while (out->n < max) {
        size_t end = start;
        if (out->n + 1 < max)
            while (end < size && data[end] != '\n')
                end++;
        else
            end = size;
        char *s = malloc(end - start + 1);
        if (!s) {
            for (size_t i = 0; i < out->n; i++)
                free(out->f[i]);
            return -1;
        }
        memcpy(s, data + start, end - start);
        s[end - start] = '\0';
        out->len[out->n] = end - start;
        out->f[out->n++] = s;
        if (end >= size)
            break;
        start = end + 1;
    }
    return 0;
}

/* Frees what fuzz_split allocated. */
static inline void fuzz_fields_free(struct fuzz_fields *ff)
{
    for (size_t i = 0; i < ff->n; i++)
        free(ff->f[i]);
    ff->n = 0;
}

#endif
