/*
 * form-data.c -- streaming multipart/form-data reader (see form-data.h).
 *
 * One fixed buffer holds a window of the raw body.  Every delimiter is
 * "\r\n--boundary": the buffer starts with a "\r\n" of our own so that the
 * body's first boundary line (which has no CRLF before it) looks the same.
 * Part content is handed out up to the point where a delimiter could begin:
 * the last dlen-1 bytes of the window wait for more input.
 */
#include <string.h>
#include <strings.h>

#include "form-data.h"

#define FORM_BUF (64 * 1024)
#define FORM_MAX_BOUNDARY 200

struct form_data {
    struct arena *arena;
    form_read_fn read;
    void *ctx;
    struct form_limits lim;

    char *delim; /* "\r\n--" boundary */
    size_t dlen;

    char *buf;
    size_t off, len; /* unread bytes are buf[off, len) */
    size_t safe_end; /* buf[off, safe_end) is known to be part content */
    size_t delim_at; /* where the next delimiter starts, when delim_found */
    int delim_found;
    int eof;

    struct form_field *fields;
    size_t n_fields;
    char *pool; /* field names and values */
    size_t pool_used, pool_cap;

    const char *filename;
    const char *file_type;
    int in_file, file_done;
};

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Reads a header parameter's value (a quoted string with backslash escapes,
 * or a token) into request memory; NULL when malformed. */
static char *param_value(struct arena *a, const char **pp)
{
    const char *p = *pp;
    char *out;
    if (*p == '"') {
        p++;
        size_t n = 0;
        out = arena_alloc(a, strlen(p) + 1);
        if (!out)
            return NULL;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1])
                p++;
            out[n++] = *p++;
        }
        if (*p != '"')
            return NULL;
        p++;
        out[n] = '\0';
    } else {
        size_t n = strcspn(p, "; \t");
        out = arena_strndup(a, p, n);
        p += n;
    }
    *pp = p;
    return out;
}

/*
 * Reads the next "; name=value" parameter of a header value at *pp: 1 with
 * the name (*nlen_r bytes, not NUL-terminated) and the value (request
 * memory), 0 at the end of the value, or FORM_E_MALFORMED.
 */
static int next_param(struct arena *a, const char **pp, const char **name_r, size_t *nlen_r,
                      char **value_r)
{
    const char *p = *pp + strspn(*pp, " \t");
    if (!*p)
        return 0;
    if (*p != ';')
        return FORM_E_MALFORMED;
    p++;
    p += strspn(p, " \t");
    *name_r = p;
    *nlen_r = strcspn(p, "=; \t");
    p += *nlen_r;
    p += strspn(p, " \t");
    if (*p != '=' || *nlen_r == 0)
        return FORM_E_MALFORMED;
    p++;
    p += strspn(p, " \t");
    if (!(*value_r = param_value(a, &p)))
        return FORM_E_MALFORMED;
    *pp = p;
    return 1;
}

int form_data_boundary(struct arena *a, const char *ct, char **boundary_r)
{
    *boundary_r = NULL;
    if (!ct)
        return FORM_E_MALFORMED;
    ct += strspn(ct, " \t");
    static const char type[] = "multipart/form-data";
    if (strncasecmp(ct, type, sizeof(type) - 1) != 0)
        return FORM_E_MALFORMED;
    const char *p = ct + sizeof(type) - 1, *name;
    size_t nlen;
    char *value;
    int rc;
    while ((rc = next_param(a, &p, &name, &nlen, &value)) > 0) {
        if (nlen != 8 || strncasecmp(name, "boundary", 8) != 0)
            continue;
        size_t vlen = strlen(value);
        if (vlen == 0 || vlen > FORM_MAX_BOUNDARY || strpbrk(value, "\r\n"))
            return FORM_E_MALFORMED;
        *boundary_r = value;
        return 0;
    }
    return FORM_E_MALFORMED;
}

struct form_data *form_data_new(struct arena *a, const char *boundary, form_read_fn read,
                                void *ctx, const struct form_limits *limits)
{
    struct form_data *fd = arena_alloc(a, sizeof(*fd));
    if (!fd || !boundary || !*boundary || strlen(boundary) > FORM_MAX_BOUNDARY)
        return NULL;
    fd->arena = a;
    fd->read = read;
    fd->ctx = ctx;
    fd->lim.max_field_bytes = limits && limits->max_field_bytes ? limits->max_field_bytes
                                                                : 64 * 1024;
    fd->lim.max_fields = limits && limits->max_fields ? limits->max_fields : 100;
    fd->lim.max_part_head = limits && limits->max_part_head ? limits->max_part_head : 8 * 1024;
    if (fd->lim.max_part_head > FORM_BUF / 2)
        fd->lim.max_part_head = FORM_BUF / 2;
    fd->dlen = 4 + strlen(boundary);
    fd->delim = arena_alloc(a, fd->dlen + 1);
    fd->buf = arena_alloc(a, FORM_BUF);
    fd->fields = arena_alloc(a, fd->lim.max_fields * sizeof(*fd->fields));
    /* Room for every name and value plus their NULs. */
    fd->pool_cap = fd->lim.max_field_bytes + 2 * fd->lim.max_fields;
    fd->pool = arena_alloc(a, fd->pool_cap);
    if (!fd->delim || !fd->buf || !fd->fields || !fd->pool)
        return NULL;
    memcpy(fd->delim, "\r\n--", 4);
    memcpy(fd->delim + 4, boundary, fd->dlen - 4);
    memcpy(fd->buf, "\r\n", 2); /* see the file comment */
    fd->len = 2;
    return fd;
}

/* Moves the unread bytes to the front and reads more behind them.  Returns
 * the bytes read (0 at the end of the body) or the source's error. */
static ssize_t fill(struct form_data *fd)
{
    if (fd->eof)
        return 0;
    if (fd->off > 0) {
        memmove(fd->buf, fd->buf + fd->off, fd->len - fd->off);
        fd->len -= fd->off;
        fd->safe_end -= fd->safe_end >= fd->off ? fd->off : fd->safe_end;
        if (fd->delim_found)
            fd->delim_at -= fd->off;
        fd->off = 0;
    }
    if (fd->len == FORM_BUF)
        return FORM_E_MALFORMED;
    ssize_t n = fd->read(fd->ctx, fd->buf + fd->len, FORM_BUF - fd->len);
    if (n < 0)
        return n;
    if (n == 0)
        fd->eof = 1;
    fd->len += (size_t)n;
    return n;
}

/*
 * The bytes of the current part's content available at buf + off: >0, 0 when
 * the delimiter starts at off, or an error (FORM_E_MALFORMED when the body
 * ends inside the part).
 */
static ssize_t part_avail(struct form_data *fd)
{
    for (;;) {
        if (fd->safe_end > fd->off)
            return (ssize_t)(fd->safe_end - fd->off);
        if (fd->delim_found)
            return 0; /* safe_end == delim_at == off */
        size_t have = fd->len - fd->off;
        const char *p = memmem(fd->buf + fd->off, have, fd->delim, fd->dlen);
        if (p) {
            fd->delim_found = 1;
            fd->delim_at = (size_t)(p - fd->buf);
            fd->safe_end = fd->delim_at;
            continue;
        }
        if (have >= fd->dlen) {
            fd->safe_end = fd->len - (fd->dlen - 1);
            continue;
        }
        ssize_t n = fill(fd);
        if (n < 0)
            return n;
        if (n == 0)
            return FORM_E_MALFORMED;
    }
}

/* Makes at least `want` unread bytes available; fewer only at the end. */
static int want_bytes(struct form_data *fd, size_t want)
{
    while (fd->len - fd->off < want) {
        ssize_t n = fill(fd);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return 0;
    }
    return 0;
}

/* Skips the delimiter at off and what ends its line.  Returns 1 when a part
 * follows (off at the CRLF that starts its header block), 0 at the closing
 * delimiter, or an error. */
static int next_part(struct form_data *fd)
{
    fd->off += fd->dlen;
    fd->delim_found = 0;
    fd->safe_end = fd->off;
    for (;;) {
        int rc = want_bytes(fd, 2);
        if (rc < 0)
            return rc;
        if (fd->len - fd->off < 2)
            return FORM_E_MALFORMED;
        const char *p = fd->buf + fd->off;
        if (p[0] == '-' && p[1] == '-')
            return 0;
        if (p[0] == '\r' && p[1] == '\n')
            return 1;
        if (p[0] != ' ' && p[0] != '\t') /* transport padding (RFC 2046) */
            return FORM_E_MALFORMED;
        fd->off++;
        fd->safe_end = fd->off;
    }
}

/* Parses a Content-Disposition value: form-data; name="x"; filename="y". */
static int parse_disposition(struct form_data *fd, const char *v, char **name_r,
                             char **filename_r)
{
    v += strspn(v, " \t");
    if (strncasecmp(v, "form-data", 9) != 0)
        return FORM_E_MALFORMED;
    const char *p = v + 9, *pname;
    size_t nlen;
    char *val;
    int rc;
    while ((rc = next_param(fd->arena, &p, &pname, &nlen, &val)) > 0) {
        if (nlen == 4 && strncasecmp(pname, "name", 4) == 0)
            *name_r = val;
        else if (nlen == 8 && strncasecmp(pname, "filename", 8) == 0)
            *filename_r = val;
    }
    return rc;
}

/* Parses the header block of the part at off (which starts at its CRLF) and
 * leaves off at its content.  *name_r gets the lower-cased field name. */
static int part_head(struct form_data *fd, char **name_r, char **filename_r, char **type_r)
{
    *name_r = *filename_r = *type_r = NULL;
    const char *end;
    for (;;) {
        size_t have = fd->len - fd->off;
        end = memmem(fd->buf + fd->off, have, "\r\n\r\n", 4);
        if (end)
            break;
        if (have > fd->lim.max_part_head)
            return FORM_E_MALFORMED;
        ssize_t n = fill(fd);
        if (n < 0)
            return (int)n;
        if (n == 0)
            return FORM_E_MALFORMED;
    }
    size_t block_len = (size_t)(end - (fd->buf + fd->off));
    if (block_len > fd->lim.max_part_head)
        return FORM_E_MALFORMED;
    if (memchr(fd->buf + fd->off, '\0', block_len))
        return FORM_E_MALFORMED;
    /* The block without its leading CRLF; lines split at CR and LF below. */
    char *block = arena_strndup(fd->arena, fd->buf + fd->off + 2, block_len);
    if (!block)
        return FORM_E_MALFORMED;
    fd->off += block_len + 4;
    fd->safe_end = fd->off;

    char *save = NULL;
    for (char *line = strtok_r(block, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char *colon = strchr(line, ':');
        if (!colon)
            return FORM_E_MALFORMED;
        *colon = '\0';
        const char *value = colon + 1;
        value += strspn(value, " \t");
        if (strcasecmp(line, "content-disposition") == 0) {
            int rc = parse_disposition(fd, value, name_r, filename_r);
            if (rc < 0)
                return rc;
        } else if (strcasecmp(line, "content-type") == 0) {
            *type_r = arena_strdup(fd->arena, value);
        }
    }
    if (!*name_r || !**name_r)
        return FORM_E_MALFORMED;
    for (char *c = *name_r; *c; c++)
        *c = (char)lower((unsigned char)*c);
    return 0;
}

/* Copies `n` bytes into the field pool; FORM_E_TOO_LARGE past the limit. */
static char *pool_add(struct form_data *fd, const char *s, size_t n)
{
    if (n + 1 > fd->pool_cap - fd->pool_used)
        return NULL;
    char *out = fd->pool + fd->pool_used;
    memcpy(out, s, n);
    out[n] = '\0';
    fd->pool_used += n + 1;
    return out;
}

/*
 * Reads the rest of the current part's content into `dst` (NULL: drops it),
 * at most `cap` bytes.  Returns 0 with *len_r, FORM_E_TOO_LARGE past `cap`,
 * or an error.
 */
static int part_content(struct form_data *fd, char *dst, size_t cap, size_t *len_r)
{
    size_t total = 0;
    for (;;) {
        ssize_t n = part_avail(fd);
        if (n < 0)
            return (int)n;
        if (n == 0)
            break;
        if ((size_t)n > cap - total)
            return FORM_E_TOO_LARGE;
        if (dst)
            memcpy(dst + total, fd->buf + fd->off, (size_t)n);
        total += (size_t)n;
        fd->off += (size_t)n;
    }
    *len_r = total;
    return 0;
}

/* Reads the content of the current (non-file) part into the pool. */
static int read_field_value(struct form_data *fd, struct form_field *f)
{
    if (fd->pool_used >= fd->pool_cap)
        return FORM_E_TOO_LARGE;
    char *start = fd->pool + fd->pool_used;
    size_t room = fd->pool_cap - fd->pool_used - 1, total = 0;
    if (room > fd->lim.max_field_bytes)
        room = fd->lim.max_field_bytes;
    int rc = part_content(fd, start, room, &total);
    if (rc < 0)
        return rc;
    start[total] = '\0';
    fd->pool_used += total + 1;
    f->value = start;
    f->value_len = total;
    return 0;
}

int form_data_read_fields(struct form_data *fd)
{
    /* The preamble before the first boundary is dropped (bounded). */
    size_t preamble;
    int rc = part_content(fd, NULL, fd->lim.max_field_bytes, &preamble);
    if (rc < 0)
        return rc == FORM_E_TOO_LARGE ? FORM_E_MALFORMED : rc;
    size_t field_bytes = 0;
    for (;;) {
        rc = next_part(fd);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return FORM_E_NO_FILE;
        char *name, *filename, *type;
        rc = part_head(fd, &name, &filename, &type);
        if (rc < 0)
            return rc;
        if (strcmp(name, "file") == 0) {
            fd->filename = filename ? filename : "";
            fd->file_type = type;
            fd->in_file = 1;
            return 0;
        }
        if (fd->n_fields == fd->lim.max_fields)
            return FORM_E_TOO_LARGE;
        for (size_t i = 0; i < fd->n_fields; i++)
            if (strcmp(fd->fields[i].name, name) == 0)
                return FORM_E_DUPLICATE;
        struct form_field *f = &fd->fields[fd->n_fields];
        size_t nlen = strlen(name);
        field_bytes += nlen;
        if (field_bytes > fd->lim.max_field_bytes || !(f->name = pool_add(fd, name, nlen)))
            return FORM_E_TOO_LARGE;
        rc = read_field_value(fd, f);
        if (rc < 0)
            return rc;
        field_bytes += f->value_len;
        if (field_bytes > fd->lim.max_field_bytes)
            return FORM_E_TOO_LARGE;
        fd->n_fields++;
    }
}

const struct form_field *form_data_fields(const struct form_data *fd, size_t *n_r)
{
    *n_r = fd->n_fields;
    return fd->fields;
}

const char *form_data_field(const struct form_data *fd, const char *name)
{
    for (size_t i = 0; i < fd->n_fields; i++)
        if (strcmp(fd->fields[i].name, name) == 0)
            return fd->fields[i].value;
    return NULL;
}

const char *form_data_filename(const struct form_data *fd)
{
    return fd->filename ? fd->filename : "";
}

const char *form_data_file_type(const struct form_data *fd)
{
    return fd->file_type;
}

ssize_t form_data_read_file(struct form_data *fd, void *buf, size_t len)
{
    if (!fd->in_file)
        return FORM_E_NO_FILE;
    if (fd->file_done || len == 0)
        return 0;
    ssize_t n = part_avail(fd);
    if (n < 0)
        return n;
    if (n == 0) {
        fd->file_done = 1;
        return 0;
    }
    if ((size_t)n > len)
        n = (ssize_t)len;
    memcpy(buf, fd->buf + fd->off, (size_t)n);
    fd->off += (size_t)n;
    return n;
}

int form_data_drain(struct form_data *fd, size_t max)
{
    size_t dropped = 0;
    while (!fd->eof) {
        dropped += fd->len - fd->off;
        fd->off = fd->len = fd->safe_end = 0;
        fd->delim_found = 0;
        if (dropped > max)
            return 1;
        ssize_t n = fill(fd);
        if (n < 0)
            return (int)n;
    }
    return 0;
}
