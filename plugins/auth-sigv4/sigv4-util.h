/*
 * sigv4-util.h -- small helpers shared by the auth-sigv4 plugin: a growable
 * request-lifetime string buffer, hex/base64, percent coding, time parsing,
 * header lookup and query splitting.
 *
 * Every allocation here comes from services->req_alloc and dies with the
 * request, so callers never free.  Functions taking a `struct sigv4_ctx` use
 * its services and request.
 */
#ifndef SIGV4_UTIL_H
#define SIGV4_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <cairn/plugin.h>

/* What every helper needs to allocate: the services table and the request. */
struct sigv4_ctx {
    const struct cairn_services *sv;
    struct cairn_req *req;
};

/* A growable string in request memory.  After an allocation failure `failed`
 * is set and further appends do nothing. */
struct sigv4_buf {
    struct sigv4_ctx *cx;
    char *data; /* NUL-terminated when not failed */
    size_t len;
    size_t cap;
    int failed;
};

/* Starts an empty buffer. */
void sigv4_buf_init(struct sigv4_buf *b, struct sigv4_ctx *cx);
/* Appends `len` bytes / a NUL-terminated string / one character. */
void sigv4_buf_add(struct sigv4_buf *b, const void *data, size_t len);
void sigv4_buf_adds(struct sigv4_buf *b, const char *s);
void sigv4_buf_addc(struct sigv4_buf *b, char c);
/* Appends `s` XML-escaped (&, <, >, ", '). */
void sigv4_buf_add_xml(struct sigv4_buf *b, const char *s, size_t len);
/* Appends `s` with every byte as two lower-case hex digits, separated by spaces
 * (S3's StringToSignBytes format). */
void sigv4_buf_add_hex_bytes(struct sigv4_buf *b, const char *s, size_t len);
/* Appends `s` percent-encoded per RFC 3986: unreserved characters stay, everything
 * else becomes %XX (upper-case); '/' stays when keep_slash. */
void sigv4_buf_add_uri_encoded(struct sigv4_buf *b, const char *s, size_t len, int keep_slash);

/* Request-lifetime copy of `len` bytes plus a NUL; NULL when out of memory. */
char *sigv4_strndup(struct sigv4_ctx *cx, const char *s, size_t len);

/* Writes `len` bytes as lower-case hex plus a NUL to `out` (2*len+1 bytes). */
void sigv4_hex(const uint8_t *in, size_t len, char *out);
/* 1 when `s` is exactly `n` hex digits (any case). */
int sigv4_is_hex(const char *s, size_t n);
/* Value of one hex digit, or -1. */
int sigv4_hexval(int c);

/* Base64 (standard alphabet, padded) of `len` bytes into `out` (4*((len+2)/3)+1). */
void sigv4_base64(const uint8_t *in, size_t len, char *out);

/*
 * Percent-decodes `s` (`len` bytes) into request memory.  '%' not followed by
 * two hex digits is kept as is; '+' is kept (RFC 3986, not form encoding).
 * The result is NUL-terminated; *out_len gets its length (it may contain NUL
 * bytes from %00).  NULL when out of memory.
 */
char *sigv4_percent_decode(struct sigv4_ctx *cx, const char *s, size_t len, size_t *out_len);

/* Constant-time comparison of two equally long byte strings: 1 when equal. */
int sigv4_equal_ct(const void *a, const void *b, size_t len);

/* Wipes `len` bytes (secrets, signing keys) so the compiler cannot skip it. */
void sigv4_secure_zero(void *p, size_t len);

/* Parses "YYYYMMDDTHHMMSSZ" into seconds since the epoch.  0 or -1. */
int sigv4_parse_iso8601_basic(const char *s, int64_t *secs_r);
/* Parses an RFC 1123 / RFC 822 date ("Wed, 25 Nov 2026 11:44:26 GMT" or a
 * "+0000"-style zone), the weekday optional.  0 or -1. */
int sigv4_parse_http_date(const char *s, int64_t *secs_r);
/* Formats `secs` as "YYYYMMDDTHHMMSSZ" into out[17]. */
void sigv4_format_iso8601_basic(int64_t secs, char out[17]);

/* The first header called `name` (lower-case), or NULL. */
const char *sigv4_header(const struct cairn_http_request *http, const char *name);

/* One query parameter, as split from the raw query. */
struct sigv4_param {
    const char *raw_name;  /* as sent, not decoded */
    size_t raw_name_len;
    const char *raw_value; /* as sent (after '='); "" when valueless */
    size_t raw_value_len;
    char *name;            /* percent-decoded, NUL-terminated */
    size_t name_len;       /* decoded length (may hold NULs from %00) */
    char *value;           /* percent-decoded, NUL-terminated; "" when valueless */
    size_t value_len;
};

/*
 * Splits `raw_query` at '&' into parameters (empty pieces skipped) in request
 * memory.  Returns the count (>= 0) and *params_r, or CAIRN_E_NOMEM.
 */
int sigv4_split_query(struct sigv4_ctx *cx, const char *raw_query, struct sigv4_param **params_r);

/* The decoded value of the first parameter named `name` (case-sensitive), or NULL. */
const char *sigv4_param(const struct sigv4_param *params, int n, const char *name);

/* Writes `v` with inner whitespace runs collapsed to one space and the ends
 * trimmed (SigV4 canonical header value) to `b`. */
void sigv4_buf_add_trimmed(struct sigv4_buf *b, const char *v);

#endif
