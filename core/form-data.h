/*
 * form-data.h -- a streaming multipart/form-data reader for browser POST
 * uploads (RFC 7578), in bounded memory.
 *
 * The fields before the part named "file" are read into the request arena
 * (names lower-cased, values NUL-terminated), up to a limit on their total
 * size.  The file part is then handed out piece by piece with form_data_read_file,
 * never held whole: the reader keeps one fixed buffer.  Fields after the file
 * are ignored, as S3 ignores them.
 *
 *   struct form_data *fd = form_data_new(arena, boundary, read, ctx, NULL);
 *   int rc = form_data_read_fields(fd);      // fields, up to the file part
 *   ... form_data_field(fd, "key") ...
 *   while ((n = form_data_read_file(fd, buf, sizeof(buf))) > 0) ...
 */
#ifndef CAIRN_FORM_DATA_H
#define CAIRN_FORM_DATA_H

#include <stddef.h>
#include <sys/types.h>

#include "arena.h"

/* Errors of this reader beyond the CAIRN_E_* codes its byte source returns. */
enum form_data_error {
    FORM_E_MALFORMED = -1001,  /* not well-formed multipart/form-data */
    FORM_E_TOO_LARGE = -1002,  /* the fields before the file exceed the limit */
    FORM_E_NO_FILE = -1003,    /* the body ended without a part named "file" */
    FORM_E_DUPLICATE = -1004,  /* a field name appears twice */
};

/* Where the raw body comes from: >0 bytes, 0 at its end, or a negative error. */
typedef ssize_t (*form_read_fn)(void *ctx, void *buf, size_t len);

struct form_limits {
    size_t max_field_bytes; /* names + values of all fields before the file; default 64 KiB */
    size_t max_fields;      /* default 100 */
    size_t max_part_head;   /* one part's header block; default 8 KiB */
};

/* One form field.  `name` is lower-cased; `value` may hold NUL bytes. */
struct form_field {
    const char *name;
    const char *value;
    size_t value_len;
};

struct form_data;

/*
 * Extracts the boundary from a Content-Type value ("multipart/form-data;
 * boundary=xyz", quoted or not, any case for the type and parameter name)
 * into request memory.  Returns 0, or FORM_E_MALFORMED when the type is not
 * multipart/form-data or the boundary is missing, empty or over 200 bytes.
 */
int form_data_boundary(struct arena *a, const char *content_type, char **boundary_r);

/* A reader of the body delimited by `boundary`, pulling bytes through `read`.
 * `limits` may be NULL for the defaults.  NULL when out of memory. */
struct form_data *form_data_new(struct arena *a, const char *boundary, form_read_fn read,
                                void *ctx, const struct form_limits *limits);

/*
 * Reads every field up to the part named "file" and that part's headers.
 * Returns 0 with the fields available, or FORM_E_* / the source's error.
 */
int form_data_read_fields(struct form_data *fd);

/* The fields read (in arrival order) and their count. */
const struct form_field *form_data_fields(const struct form_data *fd, size_t *n_r);

/* The value of field `name` (lower-case), or NULL when absent. */
const char *form_data_field(const struct form_data *fd, const char *name);

/* The file part's filename parameter ("" when absent) and Content-Type (NULL
 * when absent); valid after form_data_read_fields returned 0. */
const char *form_data_filename(const struct form_data *fd);
const char *form_data_file_type(const struct form_data *fd);

/*
 * Reads up to `len` bytes of the file's content.  Returns >0, 0 at the end of
 * the file part, or a negative error (FORM_E_MALFORMED when the body ends
 * before the part's closing delimiter, or the source's error).
 */
ssize_t form_data_read_file(struct form_data *fd, void *buf, size_t len);

/* Reads and drops what follows the file part, at most `max` bytes (so that the
 * connection can be kept alive).  Returns 0, 1 when more remained, or an error. */
int form_data_drain(struct form_data *fd, size_t max);

#endif
