/*
 * s3-respond.c -- reading the request (params, headers) and answering it:
 * S3 error XML, XML and empty responses, dates, request-lifetime memory.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3-internal.h"
#include "xml-writer.h"

struct s3_error_entry {
    int err;
    const char *code;
    int status;
    const char *message;
};

static const struct s3_error_entry s3_errors[] = {
#define S3_X_ERR(name, value, code, status, msg) {value, code, status, msg},
    CAIRN_ERROR_TABLE(S3_X_ERR)
#undef S3_X_ERR
};

static const struct s3_error_entry *s3_error_lookup(int err)
{
    for (size_t i = 0; i < sizeof(s3_errors) / sizeof(s3_errors[0]); i++)
        if (s3_errors[i].err == err)
            return &s3_errors[i];
    return &s3_errors[0]; /* INTERNAL */
}

const char *s3_error_name(int err)
{
    return s3_error_lookup(err)->code;
}

int s3_error_status(int err)
{
    return s3_error_lookup(err)->status;
}

const char *s3_error_message(int err)
{
    return s3_error_lookup(err)->message;
}

struct s3_call_ext *s3_call_ext(const struct s3_call *call)
{
    struct s3_call_ext *ext = call->req.owner;
    return ext && ext->call == call ? ext : NULL;
}

const char *s3_param(const struct s3_call *call, const char *name)
{
    /* params are sorted by name: binary search. */
    size_t lo = 0, hi = call->n_params;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(call->params[mid].name, name);
        if (c == 0) {
            while (mid > 0 && strcmp(call->params[mid - 1].name, name) == 0)
                mid--;
            return call->params[mid].value;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *s3_header(const struct s3_call *call, const char *name)
{
    if (!call->head)
        return NULL;
    for (size_t i = 0; i < call->head->n_headers; i++)
        if (strcmp(call->head->headers[i].name, name) == 0)
            return call->head->headers[i].value;
    return NULL;
}

void *s3_alloc(struct s3_call *call, size_t size)
{
    return arena_alloc(call->req.arena, size);
}

char *s3_printf(struct s3_call *call, const char *fmt, ...)
{
    /* One formatting pass when the result is short (nearly always), two
     * (measure, then format into the arena) otherwise. */
    char local[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(local, sizeof(local), fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = s3_alloc(call, (size_t)n + 1);
    if (!p)
        return NULL;
    if ((size_t)n < sizeof(local)) {
        memcpy(p, local, (size_t)n + 1);
        return p;
    }
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* Fills the headers every response carries; returns how many. */
static size_t s3_std_headers(struct s3_call *call, struct cairn_kv *out)
{
    const char *id = call->req.request_id ? call->req.request_id : "";
    out[0] = (struct cairn_kv){"x-amz-request-id", id};
    /* x-amz-id-2: S3 sends an opaque host id; ours is derived from the request id. */
    size_t id_len = strlen(id);
    char *id2 = s3_alloc(call, id_len + 7);
    if (id2) {
        memcpy(id2, "cairn-", 6);
        memcpy(id2 + 6, id, id_len + 1);
    }
    out[1] = (struct cairn_kv){"x-amz-id-2", id2};
    if (!out[1].value)
        out[1].value = id;
    return 2;
}

int s3_respond_body(struct s3_call *call, int status, const char *content_type,
                    const void *body, size_t len, const struct cairn_kv *headers,
                    size_t n_headers)
{
    struct s3_call_ext *ext = s3_call_ext(call);
    if (ext)
        ext->status = status;
    if (!call->ex || http_exchange_responded(call->ex))
        return 0;
    size_t n = n_headers + 3;
    struct cairn_kv *h = s3_alloc(call, n * sizeof(*h));
    if (!h)
        return CAIRN_E_NOMEM;
    size_t k = s3_std_headers(call, h);
    if (content_type && len > 0)
        h[k++] = (struct cairn_kv){"content-type", content_type};
    for (size_t i = 0; i < n_headers; i++)
        h[k++] = headers[i];
    int is_head = call->head && strcmp(call->head->method, "HEAD") == 0;
    if (status == 304 || status == 204)
        len = 0;
    if (http_exchange_respond(call->ex, status, h, k, (int64_t)len) < 0)
        return 0;
    if (len > 0 && !is_head) {
        if (http_exchange_write(call->ex, body, len) == 0 && ext)
            ext->bytes_out += len;
    }
    return 0;
}

int s3_respond_xml(struct s3_call *call, int status, const char *xml, size_t len,
                   const struct cairn_kv *headers, size_t n_headers)
{
    return s3_respond_body(call, status, "application/xml", xml, len, headers, n_headers);
}

int s3_respond_empty(struct s3_call *call, int status, const struct cairn_kv *headers,
                     size_t n_headers)
{
    return s3_respond_body(call, status, NULL, NULL, 0, headers, n_headers);
}

/* The Resource of an error: the request path as the client sent it. */
static const char *s3_error_resource(struct s3_call *call)
{
    if (call->head && call->head->raw_path)
        return call->head->raw_path;
    return "/";
}

static int s3_error_render(struct s3_call *call, int status, const char *code,
                           const char *message, const char *extra_xml,
                           const struct cairn_kv *headers, size_t n_headers)
{
    struct s3_call_ext *ext = s3_call_ext(call);
    if (ext)
        ext->error_code = code;
    const char *id = call->req.request_id ? call->req.request_id : "";
    struct xml_writer w;
    xml_writer_init(&w);
    xml_open(&w, "Error", NULL);
    xml_elem(&w, "Code", code);
    xml_elem(&w, "Message", message);
    if (call->key && *call->key)
        xml_elem(&w, "Key", call->key);
    if (call->bucket && *call->bucket)
        xml_elem(&w, "BucketName", call->bucket);
    if (extra_xml)
        xml_raw(&w, extra_xml);
    xml_elem(&w, "Resource", s3_error_resource(call));
    xml_elem(&w, "RequestId", id);
    char hostid[64];
    snprintf(hostid, sizeof(hostid), "cairn-%s", id);
    xml_elem(&w, "HostId", hostid);
    xml_close(&w, "Error");
    int is_head = call->head && strcmp(call->head->method, "HEAD") == 0;
    if (w.failed || is_head || status == 304) {
        xml_writer_clear(&w);
        return s3_respond_empty(call, status, headers, n_headers);
    }
    /* S3 keeps a connection usable after an error, but an unread PUT body
     * makes the HTTP layer close it; nothing to do here. */
    s3_respond_xml(call, status, w.buf, w.len, headers, n_headers);
    xml_writer_clear(&w);
    return 0;
}

int s3_error(struct s3_call *call, int err, const char *message, const char *extra_xml)
{
    return s3_error_headers(call, err, message, extra_xml, NULL, 0);
}

int s3_error_headers(struct s3_call *call, int err, const char *message, const char *extra_xml,
                     const struct cairn_kv *headers, size_t n_headers)
{
    const struct s3_error_entry *e = s3_error_lookup(err);
    return s3_error_render(call, e->status, e->code, message ? message : e->message, extra_xml,
                           headers, n_headers);
}

int s3_error_code(struct s3_call *call, int status, const char *code, const char *message)
{
    return s3_error_render(call, status, code, message ? message : "", NULL, NULL, 0);
}

/* Splits ms since the epoch into UTC calendar fields. */
static void s3_gmtime(int64_t ms, struct tm *tm, int *millis)
{
    time_t t = (time_t)(ms / 1000);
    int m = (int)(ms % 1000);
    if (m < 0) {
        m += 1000;
        t -= 1;
    }
    gmtime_r(&t, tm);
    *millis = m;
}

/* Two and four decimal digits (the calendar fields below are in range). */
static char *put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

static char *put4(char *p, int v)
{
    v %= 10000;
    p[0] = (char)('0' + v / 1000);
    p[1] = (char)('0' + v / 100 % 10);
    return put2(p + 2, v % 100);
}

/* Dates are formatted by hand: they go into every GET's headers and every
 * policy check's context, where vsnprintf was most of the cost. */
const char *s3_time_iso8601(struct s3_call *call, int64_t ms)
{
    struct tm tm;
    int millis;
    s3_gmtime(ms, &tm, &millis);
    if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
        return s3_printf(call, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    char *out = s3_alloc(call, 25), *p = out;
    if (!out)
        return NULL;
    p = put4(p, tm.tm_year + 1900);
    *p++ = '-';
    p = put2(p, tm.tm_mon + 1);
    *p++ = '-';
    p = put2(p, tm.tm_mday);
    *p++ = 'T';
    p = put2(p, tm.tm_hour);
    *p++ = ':';
    p = put2(p, tm.tm_min);
    *p++ = ':';
    p = put2(p, tm.tm_sec);
    *p++ = '.';
    *p++ = (char)('0' + millis / 100);
    p = put2(p, millis % 100);
    memcpy(p, "Z", 2);
    return out;
}

const char *s3_time_rfc1123(struct s3_call *call, int64_t ms)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    int millis;
    s3_gmtime(ms, &tm, &millis);
    if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
        return s3_printf(call, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
                         tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
                         tm.tm_min, tm.tm_sec);
    char *out = s3_alloc(call, 30), *p = out;
    if (!out)
        return NULL;
    memcpy(p, days[tm.tm_wday % 7], 3);
    p += 3;
    *p++ = ',';
    *p++ = ' ';
    p = put2(p, tm.tm_mday);
    *p++ = ' ';
    memcpy(p, months[tm.tm_mon % 12], 3);
    p += 3;
    *p++ = ' ';
    p = put4(p, tm.tm_year + 1900);
    *p++ = ' ';
    p = put2(p, tm.tm_hour);
    *p++ = ':';
    p = put2(p, tm.tm_min);
    *p++ = ':';
    p = put2(p, tm.tm_sec);
    memcpy(p, " GMT", 5);
    return out;
}

/* ---- small encoders ----------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *s3_base64(struct s3_call *call, const uint8_t *data, size_t len)
{
    char *out = s3_alloc(call, (len + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64_alphabet, c) : NULL;
    return p ? (int)(p - b64_alphabet) : -1;
}

ssize_t s3_base64_decode(const char *in, uint8_t *out, size_t cap)
{
    size_t n = strlen(in);
    if (n % 4 != 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            if (in[i + j] == '=' && i + 4 == n && j >= 2) {
                v[j] = 0;
                pad++;
            } else {
                if (pad)
                    return -1; /* data after padding */
                v[j] = b64_value(in[i + j]);
                if (v[j] < 0)
                    return -1;
            }
        }
        uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                     (uint32_t)v[3];
        uint8_t bytes[3] = {(uint8_t)(x >> 16), (uint8_t)(x >> 8), (uint8_t)x};
        for (int j = 0; j < 3 - pad; j++) {
            if (o >= cap)
                return -1;
            out[o++] = bytes[j];
        }
    }
    return (ssize_t)o;
}

void s3_hex(const uint8_t *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * len] = '\0';
}

enum cairn_hash_algo s3_checksum_algo(const char *name)
{
    if (!name)
        return 0;
    if (strcasecmp(name, "crc32") == 0)
        return CAIRN_HASH_CRC32;
    if (strcasecmp(name, "crc32c") == 0)
        return CAIRN_HASH_CRC32C;
    if (strcasecmp(name, "crc64nvme") == 0)
        return CAIRN_HASH_CRC64NVME;
    if (strcasecmp(name, "sha1") == 0)
        return CAIRN_HASH_SHA1;
    if (strcasecmp(name, "sha256") == 0)
        return CAIRN_HASH_SHA256;
    return 0;
}
