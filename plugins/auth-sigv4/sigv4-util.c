/*
 * sigv4-util.c -- string, encoding and time helpers for auth-sigv4.
 */
#include "sigv4-util.h"

#include <string.h>

#include <openssl/crypto.h>

void sigv4_buf_init(struct sigv4_buf *b, struct sigv4_ctx *cx)
{
    memset(b, 0, sizeof(*b));
    b->cx = cx;
}

/* Makes room for `extra` more bytes plus a NUL; 0 or -1. */
static int buf_reserve(struct sigv4_buf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (extra > SIZE_MAX / 4 - b->len) {
        b->failed = 1;
        return -1;
    }
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *n = b->cx->sv->req_alloc(b->cx->req, cap);
    if (!n) {
        b->failed = 1;
        return -1;
    }
    if (b->len)
        memcpy(n, b->data, b->len);
    n[b->len] = '\0';
    b->data = n;
    b->cap = cap;
    return 0;
}

void sigv4_buf_add(struct sigv4_buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len) < 0)
        return;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void sigv4_buf_adds(struct sigv4_buf *b, const char *s)
{
    sigv4_buf_add(b, s, strlen(s));
}

void sigv4_buf_addc(struct sigv4_buf *b, char c)
{
    sigv4_buf_add(b, &c, 1);
}

/* Length of the valid UTF-8 sequence starting at s (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
    size_t n;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0)
        n = 2, cp = s[0] & 0x1f;
    else if ((s[0] & 0xf0) == 0xe0)
        n = 3, cp = s[0] & 0x0f;
    else if ((s[0] & 0xf8) == 0xf0)
        n = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (n > avail)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0; /* overlong, out of range or a surrogate */
    return n;
}

void sigv4_buf_add_xml(struct sigv4_buf *b, const char *s, size_t len)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': sigv4_buf_adds(b, "&amp;"); break;
        case '<': sigv4_buf_adds(b, "&lt;"); break;
        case '>': sigv4_buf_adds(b, "&gt;"); break;
        case '"': sigv4_buf_adds(b, "&quot;"); break;
        case '\'': sigv4_buf_adds(b, "&apos;"); break;
        case '\r': sigv4_buf_adds(b, "&#13;"); break;
        default: {
            size_t n = utf8_len((const unsigned char *)s + i, len - i);
            if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || n == 0) {
                /* Not representable in XML 1.0 (control byte, invalid UTF-8):
                 * a visible escape keeps the error document well-formed; the
                 * exact bytes are in the *Bytes elements. */
                char e[4] = {'\\', 'x', hx[c >> 4], hx[c & 15]};
                sigv4_buf_add(b, e, 4);
            } else {
                sigv4_buf_add(b, s + i, n);
                i += n - 1;
            }
        }
        }
    }
}

void sigv4_buf_add_hex_bytes(struct sigv4_buf *b, const char *s, size_t len)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char e[3] = {hx[c >> 4], hx[c & 15], ' '};
        sigv4_buf_add(b, e, i + 1 < len ? 3 : 2);
    }
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

void sigv4_buf_add_uri_encoded(struct sigv4_buf *b, const char *s, size_t len, int keep_slash)
{
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            sigv4_buf_addc(b, (char)c);
        } else {
            char e[3] = {'%', hx[c >> 4], hx[c & 15]};
            sigv4_buf_add(b, e, 3);
        }
    }
}

char *sigv4_strndup(struct sigv4_ctx *cx, const char *s, size_t len)
{
    char *d = cx->sv->req_alloc(cx->req, len + 1);
    if (!d)
        return NULL;
    if (len)
        memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

void sigv4_hex(const uint8_t *in, size_t len, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hx[in[i] >> 4];
        out[2 * i + 1] = hx[in[i] & 15];
    }
    out[2 * len] = '\0';
}

int sigv4_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sigv4_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (sigv4_hexval((unsigned char)s[i]) < 0)
            return 0;
    return s[n] == '\0';
}

void sigv4_base64(const uint8_t *in, size_t len, char *out)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = al[(v >> 18) & 63];
        out[o++] = al[(v >> 12) & 63];
        out[o++] = i + 1 < len ? al[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? al[v & 63] : '=';
    }
    out[o] = '\0';
}

char *sigv4_percent_decode(struct sigv4_ctx *cx, const char *s, size_t len, size_t *out_len)
{
    char *d = cx->sv->req_alloc(cx->req, len + 1);
    if (!d)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = sigv4_hexval((unsigned char)s[i + 1])) >= 0 &&
            (lo = sigv4_hexval((unsigned char)s[i + 2])) >= 0) {
            d[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[o++] = s[i];
        }
    }
    d[o] = '\0';
    if (out_len)
        *out_len = o;
    return d;
}

int sigv4_equal_ct(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}

void sigv4_secure_zero(void *p, size_t len)
{
    OPENSSL_cleanse(p, len);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's method). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* Validates the fields and converts; 0 or -1. */
static int civil_to_secs(int y, int mo, int d, int h, int mi, int s, int64_t *secs_r)
{
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
        h > 23 || mi > 59 || s > 60 || h < 0 || mi < 0 || s < 0)
        return -1;
    *secs_r = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    return 0;
}

/* Reads exactly `n` decimal digits; -1 when one is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int sigv4_parse_iso8601_basic(const char *s, int64_t *secs_r)
{
    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    int y = digits(s, 4), mo = digits(s + 4, 2), d = digits(s + 6, 2);
    int h = digits(s + 9, 2), mi = digits(s + 11, 2), se = digits(s + 13, 2);
    if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || se < 0)
        return -1;
    return civil_to_secs(y, mo, d, h, mi, se, secs_r);
}

void sigv4_format_iso8601_basic(int64_t secs, char out[17])
{
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    /* civil_from_days (Hinnant) */
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    y += m <= 2;
    int h = (int)(rem / 3600), mi = (int)(rem / 60 % 60), s = (int)(rem % 60);
    int yy = (int)(y < 0 ? 0 : y > 9999 ? 9999 : y);
    out[0] = (char)('0' + yy / 1000);
    out[1] = (char)('0' + yy / 100 % 10);
    out[2] = (char)('0' + yy / 10 % 10);
    out[3] = (char)('0' + yy % 10);
    out[4] = (char)('0' + m / 10);
    out[5] = (char)('0' + m % 10);
    out[6] = (char)('0' + d / 10);
    out[7] = (char)('0' + d % 10);
    out[8] = 'T';
    out[9] = (char)('0' + h / 10);
    out[10] = (char)('0' + h % 10);
    out[11] = (char)('0' + mi / 10);
    out[12] = (char)('0' + mi % 10);
    out[13] = (char)('0' + s / 10);
    out[14] = (char)('0' + s % 10);
    out[15] = 'Z';
    out[16] = '\0';
}

static const char *skip_spaces(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

int sigv4_parse_http_date(const char *s, int64_t *secs_r)
{
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (!s)
        return -1;
    s = skip_spaces(s);
    const char *comma = strchr(s, ',');
    if (comma && comma - s <= 9)
        s = skip_spaces(comma + 1);
    /* day: one or two digits */
    int d;
    if (s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9') {
        d = digits(s, 2);
        s += 2;
    } else if (s[0] >= '0' && s[0] <= '9') {
        d = s[0] - '0';
        s += 1;
    } else {
        return -1;
    }
    if (*s != ' ' && *s != '-')
        return -1;
    s++;
    int mo = 0;
    for (int i = 0; i < 12; i++)
        if (strncmp(s, months[i], 3) == 0)
            mo = i + 1;
    if (!mo)
        return -1;
    s += 3;
    if (*s != ' ' && *s != '-')
        return -1;
    s++;
    int y = digits(s, 4);
    if (y < 0)
        return -1;
    s += 4;
    if (*s != ' ')
        return -1;
    s++;
    int h = digits(s, 2);
    if (h < 0 || s[2] != ':')
        return -1;
    int mi = digits(s + 3, 2);
    if (mi < 0 || s[5] != ':')
        return -1;
    int se = digits(s + 6, 2);
    if (se < 0)
        return -1;
    s = skip_spaces(s + 8);
    int64_t offset = 0;
    if (strcmp(s, "GMT") == 0 || strcmp(s, "UTC") == 0 || strcmp(s, "Z") == 0 || *s == '\0') {
        offset = 0;
    } else if ((s[0] == '+' || s[0] == '-') && strlen(s) == 5) {
        int hh = digits(s + 1, 2), mm = digits(s + 3, 2);
        if (hh < 0 || mm < 0)
            return -1;
        offset = (int64_t)(hh * 3600 + mm * 60) * (s[0] == '-' ? -1 : 1);
    } else {
        return -1;
    }
    if (civil_to_secs(y, mo, d, h, mi, se, secs_r) < 0)
        return -1;
    *secs_r -= offset;
    return 0;
}

const char *sigv4_header(const struct cairn_http_request *http, const char *name)
{
    for (size_t i = 0; i < http->n_headers; i++)
        if (http->headers[i].name && strcmp(http->headers[i].name, name) == 0)
            return http->headers[i].value ? http->headers[i].value : "";
    return NULL;
}

int sigv4_split_query(struct sigv4_ctx *cx, const char *raw_query, struct sigv4_param **params_r)
{
    *params_r = NULL;
    if (!raw_query || !*raw_query)
        return 0;
    size_t n = 1;
    for (const char *p = raw_query; *p; p++)
        if (*p == '&')
            n++;
    struct sigv4_param *ps = cx->sv->req_alloc(cx->req, n * sizeof(*ps));
    if (!ps)
        return CAIRN_E_NOMEM;
    int count = 0;
    const char *p = raw_query;
    while (*p) {
        const char *end = strchr(p, '&');
        if (!end)
            end = p + strlen(p);
        if (end > p) {
            struct sigv4_param *q = &ps[count];
            const char *eq = memchr(p, '=', (size_t)(end - p));
            q->raw_name = p;
            q->raw_name_len = (size_t)((eq ? eq : end) - p);
            q->raw_value = eq ? eq + 1 : "";
            q->raw_value_len = eq ? (size_t)(end - eq - 1) : 0;
            q->name = sigv4_percent_decode(cx, q->raw_name, q->raw_name_len, &q->name_len);
            q->value = sigv4_percent_decode(cx, q->raw_value, q->raw_value_len, &q->value_len);
            if (!q->name || !q->value)
                return CAIRN_E_NOMEM;
            count++;
        }
        p = *end ? end + 1 : end;
    }
    *params_r = ps;
    return count;
}

const char *sigv4_param(const struct sigv4_param *params, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(params[i].name, name) == 0)
            return params[i].value;
    return NULL;
}

void sigv4_buf_add_trimmed(struct sigv4_buf *b, const char *v)
{
    const char *p = v;
    while (*p == ' ' || *p == '\t')
        p++;
    int pending_space = 0;
    for (; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            pending_space = 1;
            continue;
        }
        if (pending_space)
            sigv4_buf_addc(b, ' ');
        pending_space = 0;
        sigv4_buf_addc(b, *p);
    }
}
