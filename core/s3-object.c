/*
 * s3-object.c -- object operations: PutObject, GetObject/HeadObject (Range,
 * conditionals, response-* overrides), DeleteObject, object tagging, ACLs and
 * GetObjectAttributes; plus the attribute and header helpers other operations
 * share.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "s3-internal.h"
#include "s3-router.h"
#include "xml-parse.h"
#include "xml-writer.h"

int s3_headers_add(struct s3_call *call, struct cairn_kv **headers_r, size_t *n_r,
                   size_t *cap_r, const char *name, const char *value)
{
    if (!name || !value)
        return CAIRN_E_NOMEM;
    if (*n_r == *cap_r) {
        size_t cap = *cap_r ? *cap_r * 2 : 16;
        struct cairn_kv *h = s3_alloc(call, cap * sizeof(*h));
        if (!h)
            return CAIRN_E_NOMEM;
        if (*n_r)
            memcpy(h, *headers_r, *n_r * sizeof(*h));
        *headers_r = h;
        *cap_r = cap;
    }
    (*headers_r)[(*n_r)++] = (struct cairn_kv){name, value};
    return 0;
}

/* Content-Encoding without the aws-chunked token (a transfer detail of
 * streaming uploads that S3 does not store); NULL when nothing remains. */
static const char *s3_strip_aws_chunked(struct s3_call *call, const char *ce)
{
    if (!ce || !strcasestr(ce, "aws-chunked"))
        return ce;
    char *out = s3_alloc(call, strlen(ce) + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const char *p = ce;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t > 0 && p[t - 1] == ' ')
            t--;
        if (t > 0 && !(t == 11 && strncasecmp(p, "aws-chunked", 11) == 0)) {
            if (o)
                out[o++] = ',';
            memcpy(out + o, p, t);
            o += t;
        }
        p += n;
    }
    out[o] = '\0';
    return o ? out : NULL;
}

size_t s3_request_object_attrs(struct s3_call *call, struct cairn_kv **attrs_r)
{
    static const char *const plain[] = {"content-encoding", "cache-control",
                                        "content-disposition", "content-language", "expires"};
    size_t n = 0, cap = 0;
    struct cairn_kv *attrs = NULL;
    const char *ct = s3_header(call, "content-type");
    s3_headers_add(call, &attrs, &n, &cap, "content-type",
                   ct && *ct ? ct : "binary/octet-stream");
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        const char *v = s3_header(call, plain[i]);
        if (v && i == 0)
            v = s3_strip_aws_chunked(call, v);
        if (v)
            s3_headers_add(call, &attrs, &n, &cap, plain[i], v);
    }
    if (call->head)
        for (size_t i = 0; i < call->head->n_headers; i++)
            if (strncmp(call->head->headers[i].name, "x-amz-meta-", 11) == 0)
                s3_headers_add(call, &attrs, &n, &cap, call->head->headers[i].name,
                               call->head->headers[i].value);
    static const char *const amz[] = {"x-amz-tagging", "x-amz-storage-class",
                                      "x-amz-website-redirect-location"};
    for (size_t i = 0; i < sizeof(amz) / sizeof(amz[0]); i++) {
        const char *v = s3_header(call, amz[i]);
        if (v && *v)
            s3_headers_add(call, &attrs, &n, &cap, amz[i], v);
    }
    *attrs_r = attrs;
    return n;
}

void s3_add_checksum_headers(struct s3_call *call, const struct cairn_object_info *info,
                             struct cairn_kv **headers_r, size_t *n_r, size_t *cap_r)
{
    for (size_t i = 0; i < info->n_attrs; i++)
        if (strncmp(info->attrs[i].name, "x-amz-checksum-", 15) == 0)
            s3_headers_add(call, headers_r, n_r, cap_r, info->attrs[i].name,
                           info->attrs[i].value);
}

/* ---- pure rules: Range, dates, conditionals ------------------------------ */

/* Parses an unsigned decimal of the whole [s, end); -1 when not a number. */
static int parse_u64(const char *s, const char *end, uint64_t *v_r)
{
    if (s == end)
        return -1;
    uint64_t v = 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *v_r = v;
    return 0;
}

int s3_parse_range(const char *header, uint64_t size, uint64_t *offset_r, uint64_t *length_r)
{
    if (!header)
        return 1;
    while (*header == ' ')
        header++;
    if (strncasecmp(header, "bytes=", 6) != 0)
        return 1;
    const char *spec = header + 6;
    while (*spec == ' ')
        spec++;
    const char *end = spec + strlen(spec);
    while (end > spec && end[-1] == ' ')
        end--;
    if (memchr(spec, ',', (size_t)(end - spec)))
        return 1; /* multiple ranges: S3 ignores the header */
    const char *dash = memchr(spec, '-', (size_t)(end - spec));
    if (!dash)
        return 1;
    uint64_t first, last;
    if (dash == spec) {
        /* suffix: the last n bytes */
        uint64_t n;
        if (parse_u64(dash + 1, end, &n) < 0)
            return 1;
        if (n == 0)
            return CAIRN_E_INVALID_RANGE;
        if (size == 0)
            return CAIRN_E_INVALID_RANGE;
        if (n > size)
            n = size;
        *offset_r = size - n;
        *length_r = n;
        return 0;
    }
    if (parse_u64(spec, dash, &first) < 0)
        return 1;
    if (dash + 1 == end) {
        last = UINT64_MAX;
    } else if (parse_u64(dash + 1, end, &last) < 0) {
        return 1;
    } else if (last < first) {
        return 1; /* syntactically invalid: ignored */
    }
    if (first >= size)
        return CAIRN_E_INVALID_RANGE;
    if (last >= size)
        last = size - 1;
    *offset_r = first;
    *length_r = last - first + 1;
    return 0;
}

static int month_index(const char *m)
{
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++)
        if (strncasecmp(m, months[i], 3) == 0)
            return i;
    return -1;
}

int64_t s3_parse_http_date(const char *s)
{
    if (!s)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    char mon[4] = {0}, wday[16] = {0};
    int day, year, hh, mm, ss, n = 0;
    /* RFC 1123: "Sun, 06 Nov 1994 08:49:37 GMT" */
    if (sscanf(s, "%15[A-Za-z], %d %3s %d %d:%d:%d GMT%n", wday, &day, mon, &year, &hh, &mm,
               &ss, &n) == 7 && n > 0) {
        /* ok */
    } else if (sscanf(s, "%15[A-Za-z], %d-%3s-%d %d:%d:%d GMT%n", wday, &day, mon, &year, &hh,
                      &mm, &ss, &n) == 7 && n > 0) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
        if (year < 100)
            year += year < 70 ? 2000 : 1900;
    } else if (sscanf(s, "%15[A-Za-z] %3s %d %d:%d:%d %d%n", wday, mon, &day, &hh, &mm, &ss,
                      &year, &n) == 7 && n > 0) {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
    } else {
        return -1;
    }
    int m = month_index(mon);
    if (m < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year < 1970 ||
        hh < 0 || mm < 0 || ss < 0)
        return -1;
    tm.tm_year = year - 1900;
    tm.tm_mon = m;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    return (int64_t)t * 1000;
}

int s3_etag_matches(const char *header, const char *etag)
{
    const char *p = header;
    size_t elen = strlen(etag);
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, ",");
        const char *t = p, *end = p + n;
        while (end > t && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end - t >= 2 && strncmp(t, "W/", 2) == 0)
            t += 2;
        if (end - t == 1 && *t == '*')
            return 1;
        if (end - t >= 2 && *t == '"' && end[-1] == '"') {
            t++;
            end--;
        }
        if ((size_t)(end - t) == elen && strncmp(t, etag, elen) == 0)
            return 1;
        p += n;
    }
    return 0;
}

int s3_check_conditions(const char *if_match, const char *if_none_match,
                        const char *if_modified_since, const char *if_unmodified_since,
                        const char *etag, int64_t mtime_ms)
{
    /* HTTP dates have one-second resolution. */
    int64_t mtime_s = mtime_ms >= 0 ? mtime_ms / 1000 : (mtime_ms - 999) / 1000;
    if (if_match) {
        if (!s3_etag_matches(if_match, etag))
            return CAIRN_E_PRECONDITION_FAILED;
    } else if (if_unmodified_since) {
        int64_t t = s3_parse_http_date(if_unmodified_since);
        if (t >= 0 && mtime_s > t / 1000)
            return CAIRN_E_PRECONDITION_FAILED;
    }
    if (if_none_match) {
        if (s3_etag_matches(if_none_match, etag))
            return CAIRN_E_NOT_MODIFIED;
    } else if (if_modified_since) {
        int64_t t = s3_parse_http_date(if_modified_since);
        if (t >= 0 && mtime_s <= t / 1000)
            return CAIRN_E_NOT_MODIFIED;
    }
    return 0;
}

int s3_copy_source_conditions(struct s3_call *call, const struct cairn_object_info *src)
{
    /* Same rules as GET, but every failure is 412 for a copy. */
    int rc = s3_check_conditions(s3_header(call, "x-amz-copy-source-if-match"),
                                 s3_header(call, "x-amz-copy-source-if-none-match"),
                                 s3_header(call, "x-amz-copy-source-if-modified-since"),
                                 s3_header(call, "x-amz-copy-source-if-unmodified-since"),
                                 src->etag, src->mtime_ms);
    return rc < 0 ? CAIRN_E_PRECONDITION_FAILED : 0;
}
