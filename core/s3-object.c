/*
 * s3-object.c -- object operations: PutObject, GetObject/HeadObject (Range,
 * conditionals, response-* overrides), DeleteObject, object tagging, ACLs and
 * GetObjectAttributes; plus the attribute and header helpers other operations
 * share.
 */
#include <stdio.h>
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
    /* Field widths keep sscanf's %d from overflowing on absurd numbers. */
    if (sscanf(s, "%15[A-Za-z], %2d %3s %4d %2d:%2d:%2d GMT%n", wday, &day, mon, &year, &hh, &mm,
               &ss, &n) == 7 && n > 0) {
        /* ok */
    } else if (sscanf(s, "%15[A-Za-z], %2d-%3s-%4d %2d:%2d:%2d GMT%n", wday, &day, mon, &year, &hh,
                      &mm, &ss, &n) == 7 && n > 0) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
        if (year < 100)
            year += year < 70 ? 2000 : 1900;
    } else if (sscanf(s, "%15[A-Za-z] %3s %2d %2d:%2d:%2d %4d%n", wday, mon, &day, &hh, &mm, &ss,
                      &year, &n) == 7 && n > 0 && (s[n] == '\0' || s[n] == ' ')) {
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

/* ---- shared object helpers ---------------------------------------------- */

/* Value of attr `name` in info, or NULL. */
static const char *info_attr(const struct cairn_object_info *info, const char *name)
{
    for (size_t i = 0; i < info->n_attrs; i++)
        if (strcasecmp(info->attrs[i].name, name) == 0)
            return info->attrs[i].value;
    return NULL;
}

/* Number of tags in a URL-query-form tag set ("a=1&b=2" -> 2). */
static int count_tags(const char *tagging)
{
    if (!tagging || !*tagging)
        return 0;
    int n = 1;
    for (const char *p = tagging; *p; p++)
        if (*p == '&')
            n++;
    return n;
}

/* The version the request names (?versionId=), NULL for the latest. */
static const char *request_version(struct s3_call *call)
{
    const char *v = s3_param(call, "versionId");
    return v && *v ? v : NULL;
}

/* a, b and c one after the other (c may be NULL), in the arena. */
static char *s3_concat3(struct s3_call *call, const char *a, const char *b, const char *c)
{
    size_t al = strlen(a), bl = strlen(b), cl = c ? strlen(c) : 0;
    char *p = s3_alloc(call, al + bl + cl + 1);
    if (p) {
        memcpy(p, a, al);
        memcpy(p + al, b, bl);
        if (c)
            memcpy(p + al + bl, c, cl);
        p[al + bl + cl] = '\0';
    }
    return p;
}

static const char *quoted_etag(struct s3_call *call, const char *etag)
{
    return s3_concat3(call, "\"", etag, "\"");
}

/* AWS documents a narrow tag alphabet, but S3 accepts any printable UTF-8;
 * cairn refuses only control characters. */
static int tag_char_ok(unsigned char c)
{
    return c >= 0x20 && c != 0x7f;
}

static int tag_string_ok(const char *s, size_t max)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (!tag_char_ok(*p))
            return 0;
        if ((*p & 0xC0) != 0x80)
            chars++;
    }
    return chars <= max;
}

/*
 * Checks a tag set in URL-query form: at most 10 tags, unique keys of 1-128
 * characters, values up to 256.  Returns NULL when valid, else the message.
 */
static const char *validate_tagging(struct s3_call *call, const char *tagging)
{
    if (!tagging || !*tagging)
        return NULL;
    struct s3_param *tags;
    size_t n;
    if (s3_parse_query(call->req.arena, tagging, &tags, &n) < 0)
        return "The TagValue you have provided is invalid";
    if (n > 10)
        return "Object tags cannot be greater than 10";
    for (size_t i = 0; i < n; i++) {
        if (!*tags[i].name || !tag_string_ok(tags[i].name, 128))
            return "The TagKey you have provided is invalid";
        if (!tag_string_ok(tags[i].value, 256))
            return "The TagValue you have provided is invalid";
        if (i > 0 && strcmp(tags[i].name, tags[i - 1].name) == 0)
            return "Cannot provide multiple Tags with the same key";
    }
    return NULL;
}

static int is_storage_class_known(const char *sc)
{
    static const char *const known[] = {"STANDARD",    "REDUCED_REDUNDANCY", "STANDARD_IA",
                                        "ONEZONE_IA",  "INTELLIGENT_TIERING", "GLACIER",
                                        "DEEP_ARCHIVE", "OUTPOSTS",          "GLACIER_IR",
                                        "EXPRESS_ONEZONE"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(sc, known[i]) == 0)
            return 1;
    return 0;
}

/* The decoded length of the request body, -1 when unknown. */
static int64_t request_content_length(struct s3_call *call)
{
    const char *dl = s3_header(call, "x-amz-decoded-content-length");
    if (dl) {
        char *end;
        long long v = strtoll(dl, &end, 10);
        return *dl && !*end && v >= 0 ? v : -1;
    }
    if (call->decoder)
        return call->decoder->decoded_length;
    return call->head ? call->head->content_length : -1;
}

/* ---- PutObject ------------------------------------------------------------ */

#define S3_MAX_OBJECT_SIZE (5ULL * 1024 * 1024 * 1024 * 1024)

int s3_op_put_object(struct s3_call *call)
{
    const char *sc = s3_header(call, "x-amz-storage-class");
    if (sc && !is_storage_class_known(sc))
        return CAIRN_E_INVALID_STORAGE_CLASS;
    const char *bad = validate_tagging(call, s3_header(call, "x-amz-tagging"));
    if (bad)
        return s3_error_code(call, 400, "InvalidTag", bad);
    int64_t length = request_content_length(call);
    if (length > (int64_t)S3_MAX_OBJECT_SIZE)
        return CAIRN_E_ENTITY_TOO_LARGE;
    if (length < 0 && !call->head->chunked && !call->decoder &&
        call->head->content_length < 0)
        return s3_error_code(call, 411, "MissingContentLength",
                             "You must provide the Content-Length HTTP header.");

    struct cairn_object_info final;
    memset(&final, 0, sizeof(final));
    int rc = s3_body_begin_put(call, &final);
    if (rc < 0)
        return rc;
    struct cairn_kv *attrs;
    size_t n_attrs = s3_request_object_attrs(call, &attrs);
    enum cairn_versioning versioning = s3_bucket_versioning(call);
    struct cairn_put put = {
        .bucket = call->bucket,
        .key = call->key,
        .content_length = length,
        .versioning = versioning,
        .n_attrs = n_attrs,
        .attrs = attrs,
        .final = &final,
    };
    struct cairn_object_info info;
    memset(&info, 0, sizeof(info));
    rc = call->be->object_put(call->be_state, &call->req, &put, &info);
    if (rc < 0)
        return rc;

    struct cairn_kv *h = NULL;
    size_t n = 0, cap = 0;
    s3_headers_add(call, &h, &n, &cap, "etag", quoted_etag(call, *info.etag ? info.etag
                                                                           : final.etag));
    if (versioning != CAIRN_VERSIONING_OFF && *info.version_id)
        s3_headers_add(call, &h, &n, &cap, "x-amz-version-id",
                       s3_printf(call, "%s", info.version_id));
    s3_add_checksum_headers(call, &final, &h, &n, &cap);
    return s3_respond_empty(call, 200, h, n);
}

/* ---- GetObject / HeadObject ---------------------------------------------- */

struct s3_get_ctx {
    struct s3_call *call;
    int is_head;
    int decided;
};

/* The response-* query overrides, signed requests only in S3; cairn applies
 * them whenever given (being less strict than S3 here breaks nobody). */
static const char *override_of(struct s3_call *call, const char *header)
{
    static const char *const map[][2] = {
        {"content-type", "response-content-type"},
        {"content-language", "response-content-language"},
        {"expires", "response-expires"},
        {"cache-control", "response-cache-control"},
        {"content-disposition", "response-content-disposition"},
        {"content-encoding", "response-content-encoding"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i][0], header) == 0) {
            const char *v = s3_param(call, map[i][1]);
            return v && *v ? v : NULL;
        }
    return NULL;
}

/* Adds the object's stored headers (content-*, x-amz-meta-*, ...) with overrides. */
static void add_object_headers(struct s3_call *call, const struct cairn_object_info *info,
                               struct cairn_kv **h, size_t *n, size_t *cap)
{
    static const char *const plain[] = {"content-type", "content-encoding", "cache-control",
                                        "content-disposition", "content-language", "expires"};
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        const char *v = override_of(call, plain[i]);
        if (!v)
            v = info_attr(info, plain[i]);
        if (!v && i == 0)
            v = "binary/octet-stream";
        if (v)
            s3_headers_add(call, h, n, cap, plain[i], v);
    }
    for (size_t i = 0; i < info->n_attrs; i++) {
        const char *name = info->attrs[i].name;
        if (strncmp(name, "x-amz-meta-", 11) == 0 ||
            strcmp(name, "x-amz-website-redirect-location") == 0)
            s3_headers_add(call, h, n, cap, name, info->attrs[i].value);
        else if (strcmp(name, "x-amz-storage-class") == 0 &&
                 strcmp(info->attrs[i].value, "STANDARD") != 0)
            s3_headers_add(call, h, n, cap, name, info->attrs[i].value);
    }
    int tags = count_tags(info_attr(info, "x-amz-tagging"));
    if (tags > 0)
        s3_headers_add(call, h, n, cap, "x-amz-tagging-count", s3_printf(call, "%d", tags));
}

/* Headers every GET/HEAD/304 carries: ETag, Last-Modified, version. */
static void add_validator_headers(struct s3_call *call, const struct cairn_object_info *info,
                                  struct cairn_kv **h, size_t *n, size_t *cap)
{
    s3_headers_add(call, h, n, cap, "etag", quoted_etag(call, info->etag));
    s3_headers_add(call, h, n, cap, "last-modified", s3_time_rfc1123(call, info->mtime_ms));
    if (*info->version_id)
        s3_headers_add(call, h, n, cap, "x-amz-version-id",
                       s3_concat3(call, info->version_id, "", NULL));
}

int s3_part_range(const struct cairn_object_info *info, uint32_t part, uint64_t *offset_r,
                  uint64_t *length_r)
{
    if (part < 1)
        return CAIRN_E_INVALID_ARGUMENT;
    if (info->parts_count == 0) {
        if (part != 1)
            return CAIRN_E_INVALID_RANGE;
        *offset_r = 0;
        *length_r = info->size;
        return 0;
    }
    if (part > info->parts_count)
        return CAIRN_E_INVALID_RANGE;
    const char *sizes = info_attr(info, S3_PART_SIZES_ATTR);
    if (!sizes)
        return CAIRN_E_INVALID_RANGE;
    uint64_t off = 0;
    const char *p = sizes;
    for (uint32_t i = 1; i <= part; i++) {
        char *end;
        if (*p < '0' || *p > '9')
            return CAIRN_E_INVALID_RANGE;
        unsigned long long n = strtoull(p, &end, 10);
        if (i == part) {
            if (off > info->size || n > info->size - off)
                return CAIRN_E_INVALID_RANGE;
            *offset_r = off;
            *length_r = n;
            return 0;
        }
        off += n;
        if (*end != ',')
            return CAIRN_E_INVALID_RANGE;
        p = end + 1;
    }
    return CAIRN_E_INVALID_RANGE;
}

static int get_decide(void *vctx, const struct cairn_object_info *info, uint64_t *offset_r,
                      uint64_t *length_r)
{
    struct s3_get_ctx *ctx = vctx;
    struct s3_call *call = ctx->call;
    struct cairn_kv *h = NULL;
    size_t n = 0, cap = 0;
    ctx->decided = 1;

    if (info->is_delete_marker) {
        s3_headers_add(call, &h, &n, &cap, "x-amz-delete-marker", "true");
        if (*info->version_id)
            s3_headers_add(call, &h, &n, &cap, "x-amz-version-id",
                           s3_printf(call, "%s", info->version_id));
        if (request_version(call)) {
            s3_headers_add(call, &h, &n, &cap, "last-modified",
                           s3_time_rfc1123(call, info->mtime_ms));
            s3_error_headers(call, CAIRN_E_METHOD_NOT_ALLOWED, NULL, NULL, h, n);
        } else {
            s3_error_headers(call, CAIRN_E_NO_SUCH_KEY, NULL, NULL, h, n);
        }
        return 1;
    }

    int rc = s3_check_conditions(s3_header(call, "if-match"), s3_header(call, "if-none-match"),
                                 s3_header(call, "if-modified-since"),
                                 s3_header(call, "if-unmodified-since"), info->etag,
                                 info->mtime_ms);
    if (rc == CAIRN_E_NOT_MODIFIED) {
        add_validator_headers(call, info, &h, &n, &cap);
        s3_respond_empty(call, 304, h, n);
        return 1;
    }
    if (rc < 0)
        return rc;

    uint64_t off = 0, len = info->size;
    int partial = 0;
    const char *pn = s3_param(call, "partNumber");
    if (pn) {
        char *end;
        long v = strtol(pn, &end, 10);
        if (!*pn || *end || v < 1 || v > 10000)
            return CAIRN_E_INVALID_ARGUMENT;
        if (s3_header(call, "range"))
            return s3_error_code(call, 400, "InvalidRequest",
                                 "Cannot specify both Range header and partNumber query parameter"),
                   1;
        /* Part boundaries are not in the backend ABI: a multipart object
         * carries them in the S3_PART_SIZES_ATTR attr (set at completion);
         * a single-part object has one part, the whole object. */
        if (s3_part_range(info, (uint32_t)v, &off, &len) < 0) {
            s3_error_code(call, 416, "InvalidPartNumber",
                          "The requested partnumber is not satisfiable");
            return 1;
        }
        partial = info->size > 0;
    } else {
        rc = s3_parse_range(s3_header(call, "range"), info->size, &off, &len);
        if (rc == CAIRN_E_INVALID_RANGE) {
            s3_headers_add(call, &h, &n, &cap, "content-range",
                           s3_printf(call, "bytes */%llu", (unsigned long long)info->size));
            s3_error_headers(call, CAIRN_E_INVALID_RANGE, NULL, NULL, h, n);
            return 1;
        }
        partial = rc == 0;
        if (!partial) {
            off = 0;
            len = info->size;
        }
    }

    add_object_headers(call, info, &h, &n, &cap);
    add_validator_headers(call, info, &h, &n, &cap);
    s3_headers_add(call, &h, &n, &cap, "accept-ranges", "bytes");
    if (partial)
        s3_headers_add(call, &h, &n, &cap, "content-range",
                       s3_printf(call, "bytes %llu-%llu/%llu", (unsigned long long)off,
                                 (unsigned long long)(off + len - 1),
                                 (unsigned long long)info->size));
    if (pn && info->parts_count > 0) /* S3 sends the count only to partNumber reads */
        s3_headers_add(call, &h, &n, &cap, "x-amz-mp-parts-count",
                       s3_printf(call, "%u", info->parts_count));
    const char *mode = s3_header(call, "x-amz-checksum-mode");
    if (mode && strcasecmp(mode, "ENABLED") == 0 && !partial)
        s3_add_checksum_headers(call, info, &h, &n, &cap);

    int status = partial ? 206 : 200;
    struct s3_call_ext *ext = s3_call_ext(call);
    if (ext)
        ext->status = status;
    struct cairn_kv *all = s3_alloc(call, (n + 2) * sizeof(*all));
    if (!all)
        return CAIRN_E_NOMEM;
    all[0] = (struct cairn_kv){"x-amz-request-id", call->req.request_id};
    all[1] = (struct cairn_kv){"x-amz-id-2", s3_concat3(call, "cairn-", call->req.request_id, NULL)};
    if (n)
        memcpy(all + 2, h, n * sizeof(*h));
    if (http_exchange_respond(call->ex, status, all, n + 2, (int64_t)len) < 0)
        return CAIRN_E_CLIENT_GONE;
    if (ctx->is_head || len == 0)
        return 1;
    *offset_r = off;
    *length_r = len;
    return 0;
}

/* Finds whether the latest version of a key (or the version asked for) is a
 * delete marker, by listing the key's versions. */
struct marker_probe {
    const char *key;
    const char *version; /* NULL: the latest */
    int found;
    char version_id[64];
};

static int marker_emit(void *vctx, const struct cairn_list_entry *e)
{
    struct marker_probe *p = vctx;
    if (e->kind != CAIRN_LIST_OBJECT || strcmp(e->key, p->key) != 0)
        return 1; /* past the key: versions of one key come together, newest first */
    if (p->version && strcmp(e->info.version_id, p->version) != 0)
        return 0;
    p->found = e->info.is_delete_marker;
    snprintf(p->version_id, sizeof p->version_id, "%s", e->info.version_id);
    return 1;
}

/*
 * The backend refused a GET or HEAD (NoSuchKey for the latest, MethodNotAllowed
 * for a version) without showing us the version: when it is a delete marker,
 * answer as S3 does, with x-amz-delete-marker and the marker's version id.
 * Returns 1 when it answered.
 */
static int answer_delete_marker(struct s3_call *call, int err)
{
    if (!call->be->object_list || s3_bucket_versioning(call) == CAIRN_VERSIONING_OFF)
        return 0;
    struct marker_probe p = {.key = call->key, .version = request_version(call)};
    struct cairn_list list = {
        .bucket = call->bucket, .prefix = call->key, .delimiter = "", .after = "",
        .after_version = "", .versions = 1, .emit = marker_emit, .ctx = &p,
    };
    if (call->be->object_list(call->be_state, &call->req, &list) < 0 || !p.found)
        return 0;
    struct cairn_kv *h = NULL;
    size_t n = 0, cap = 0;
    s3_headers_add(call, &h, &n, &cap, "x-amz-delete-marker", "true");
    if (p.version_id[0])
        s3_headers_add(call, &h, &n, &cap, "x-amz-version-id", s3_printf(call, "%s", p.version_id));
    s3_error_headers(call, err, NULL, NULL, h, n);
    return 1;
}

int s3_op_get_object(struct s3_call *call)
{
    struct s3_get_ctx ctx = {.call = call, .is_head = call->op == S3_OP_HEAD_OBJECT};
    struct cairn_get get = {
        .bucket = call->bucket,
        .key = call->key,
        .version_id = request_version(call),
        .decide = get_decide,
        .ctx = &ctx,
    };
    int rc = call->be->object_get(call->be_state, &call->req, &get);
    if (rc < 0 && call->ex && http_exchange_responded(call->ex)) {
        /* The body broke off after the headers went out; the HTTP layer closes
         * the connection on the short body. */
        call->services->log(&call->req, CAIRN_LOG_WARN, "GET %s/%s failed mid-body: %s",
                            call->bucket, call->key, s3_error_name(rc));
        return 0;
    }
    if ((rc == CAIRN_E_NO_SUCH_KEY && !request_version(call)) ||
        (rc == CAIRN_E_METHOD_NOT_ALLOWED && request_version(call))) {
        if (answer_delete_marker(call, rc))
            return 0;
    }
    if (rc < 0 && request_version(call) && rc == CAIRN_E_NO_SUCH_KEY)
        rc = CAIRN_E_NO_SUCH_VERSION;
    return rc < 0 ? rc : 0;
}

/* ---- DeleteObject ----------------------------------------------------------- */

int s3_op_delete_object(struct s3_call *call)
{
    enum cairn_versioning versioning = s3_bucket_versioning(call);
    struct cairn_object_info info;
    memset(&info, 0, sizeof(info));
    int rc = call->be->object_delete(call->be_state, &call->req, call->bucket, call->key,
                                     request_version(call), versioning, &info);
    if (rc == CAIRN_E_NO_SUCH_KEY || rc == CAIRN_E_NO_SUCH_VERSION)
        rc = 0; /* S3 answers 204 for absent keys */
    if (rc < 0)
        return rc;
    struct cairn_kv *h = NULL;
    size_t n = 0, cap = 0;
    if (*info.version_id && (versioning != CAIRN_VERSIONING_OFF || request_version(call)))
        s3_headers_add(call, &h, &n, &cap, "x-amz-version-id",
                       s3_printf(call, "%s", info.version_id));
    if (info.is_delete_marker)
        s3_headers_add(call, &h, &n, &cap, "x-amz-delete-marker", "true");
    return s3_respond_empty(call, 204, h, n);
}

/* ---- object metadata reads (tagging, ACL, attributes) ---------------------- */

struct s3_info_ctx {
    struct s3_call *call;
    struct cairn_object_info info;
    int found;
};

static int info_decide(void *vctx, const struct cairn_object_info *info, uint64_t *offset_r,
                       uint64_t *length_r)
{
    struct s3_info_ctx *ctx = vctx;
    ctx->info = *info;
    /* Copy attrs: the backend's may not outlive the call. */
    ctx->info.attrs = NULL;
    ctx->info.n_attrs = 0;
    if (info->n_attrs) {
        ctx->info.attrs = s3_alloc(ctx->call, info->n_attrs * sizeof(*info->attrs));
        if (!ctx->info.attrs)
            return CAIRN_E_NOMEM;
        for (size_t i = 0; i < info->n_attrs; i++) {
            ctx->info.attrs[i].name = arena_strdup(ctx->call->req.arena, info->attrs[i].name);
            ctx->info.attrs[i].value =
                arena_strdup(ctx->call->req.arena, info->attrs[i].value ? info->attrs[i].value : "");
        }
        ctx->info.n_attrs = info->n_attrs;
    }
    ctx->found = 1;
    if (info->is_delete_marker)
        return request_version(ctx->call) ? CAIRN_E_METHOD_NOT_ALLOWED : CAIRN_E_NO_SUCH_KEY;
    return 1;
}

/* Reads the info of the requested version without its data. */
static int object_info(struct s3_call *call, struct cairn_object_info *info_r)
{
    struct s3_info_ctx ctx = {.call = call};
    struct cairn_get get = {
        .bucket = call->bucket,
        .key = call->key,
        .version_id = request_version(call),
        .decide = info_decide,
        .ctx = &ctx,
    };
    int rc = call->be->object_get(call->be_state, &call->req, &get);
    if (rc < 0) {
        if (rc == CAIRN_E_NO_SUCH_KEY && request_version(call))
            rc = CAIRN_E_NO_SUCH_VERSION;
        return rc;
    }
    if (!ctx.found)
        return CAIRN_E_NO_SUCH_KEY;
    *info_r = ctx.info;
    return 0;
}

/* Percent-encodes for the stored URL-query form of tags. */
static char *query_escape(struct s3_call *call, const char *s)
{
    char *out = s3_alloc(call, strlen(s) * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~", *p)) {
            out[o++] = (char)*p;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return out;
}

/* Replaces (or with value NULL removes) attr `name` and stores the attrs. */
static int object_replace_attr(struct s3_call *call, const struct cairn_object_info *info,
                               const char *name, const char *value)
{
    struct cairn_kv *attrs = s3_alloc(call, (info->n_attrs + 1) * sizeof(*attrs));
    if (!attrs)
        return CAIRN_E_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < info->n_attrs; i++)
        if (strcasecmp(info->attrs[i].name, name) != 0)
            attrs[n++] = info->attrs[i];
    if (value)
        attrs[n++] = (struct cairn_kv){name, value};
    if (!call->be->object_set_attrs)
        return CAIRN_E_NOT_IMPLEMENTED;
    const char *version = request_version(call);
    if (!version && *info->version_id)
        version = info->version_id;
    return call->be->object_set_attrs(call->be_state, &call->req, call->bucket, call->key,
                                      version, n, attrs);
}

/* Renders a URL-query-form tag set as <Tagging>. */
static void write_tagset(struct s3_call *call, struct xml_writer *w, const char *tagging)
{
    xml_open(w, "Tagging", S3_XMLNS);
    xml_open(w, "TagSet", NULL);
    struct s3_param *tags = NULL;
    size_t n = 0;
    if (tagging && *tagging && s3_parse_query(call->req.arena, tagging, &tags, &n) < 0)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        xml_open(w, "Tag", NULL);
        xml_elem(w, "Key", tags[i].name);
        xml_elem(w, "Value", tags[i].value);
        xml_close(w, "Tag");
    }
    xml_close(w, "TagSet");
    xml_close(w, "Tagging");
}

/*
 * Parses a <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>
 * body into URL-query form.  Returns 0 with *query_r, a negative error, or
 * 1 after answering InvalidTag itself.
 */
static int parse_tagging_body(struct s3_call *call, const char **query_r)
{
    char *body;
    size_t len;
    int rc = s3_read_small_body(call, 64 * 1024, &body, &len);
    if (rc < 0)
        return rc == CAIRN_E_ENTITY_TOO_LARGE ? CAIRN_E_MALFORMED_XML : rc;
    struct xml_node *root = xml_parse(call->req.arena, body, len);
    if (!root || strcmp(root->name, "Tagging") != 0)
        return CAIRN_E_MALFORMED_XML;
    struct xml_node *set = xml_child(root, "TagSet");
    if (!set)
        return CAIRN_E_MALFORMED_XML;
    size_t cap = 1, o = 0;
    for (struct xml_node *t = set->first_child; t; t = t->next)
        cap += 3 * 1024 + 2;
    char *q = s3_alloc(call, cap);
    if (!q)
        return CAIRN_E_NOMEM;
    for (struct xml_node *t = set->first_child; t; t = t->next) {
        if (strcmp(t->name, "Tag") != 0)
            return CAIRN_E_MALFORMED_XML;
        const char *k = xml_child_text(t, "Key"), *v = xml_child_text(t, "Value");
        if (!k)
            return CAIRN_E_MALFORMED_XML;
        if (!v)
            v = "";
        if (strlen(k) > 1024 || strlen(v) > 1024) {
            s3_error_code(call, 400, "InvalidTag", "The TagKey you have provided is too long");
            return 1;
        }
        char *ek = query_escape(call, k), *ev = query_escape(call, v);
        if (!ek || !ev)
            return CAIRN_E_NOMEM;
        o += (size_t)snprintf(q + o, cap - o, "%s%s=%s", o ? "&" : "", ek, ev);
    }
    q[o] = '\0';
    const char *bad = validate_tagging(call, q);
    if (bad) {
        s3_error_code(call, 400, "InvalidTag", bad);
        return 1;
    }
    *query_r = q;
    return 0;
}

int s3_op_object_tagging(struct s3_call *call)
{
    const char *new_tags = NULL;
    if (call->op == S3_OP_PUT_OBJECT_TAGGING) {
        int rc = parse_tagging_body(call, &new_tags);
        if (rc != 0)
            return rc < 0 ? rc : 0;
    }
    struct cairn_object_info info;
    int rc = object_info(call, &info);
    if (rc < 0)
        return rc;
    struct cairn_kv *h = NULL;
    size_t n = 0, cap = 0;
    if (*info.version_id)
        s3_headers_add(call, &h, &n, &cap, "x-amz-version-id",
                       s3_printf(call, "%s", info.version_id));
    if (call->op == S3_OP_GET_OBJECT_TAGGING) {
        struct xml_writer w;
        xml_writer_init(&w);
        write_tagset(call, &w, info_attr(&info, "x-amz-tagging"));
        if (w.failed) {
            xml_writer_clear(&w);
            return CAIRN_E_NOMEM;
        }
        s3_respond_xml(call, 200, w.buf, w.len, h, n);
        xml_writer_clear(&w);
        return 0;
    }
    rc = object_replace_attr(call, &info, "x-amz-tagging",
                             new_tags && *new_tags ? new_tags : NULL);
    if (rc < 0)
        return rc;
    return s3_respond_empty(call, call->op == S3_OP_PUT_OBJECT_TAGGING ? 200 : 204, h, n);
}

/* The owner shown in ACLs: the bucket's owner, else the caller. */
static const char *acl_owner(struct s3_call *call)
{
    int err = 0;
    const char *owner = s3_bucket_owner(call, &err);
    if (owner && *owner)
        return owner;
    return call->who.user && *call->who.user ? call->who.user : "cairn";
}

int s3_write_owner_acl(struct s3_call *call, const char *owner, struct xml_writer *w)
{
    xml_open(w, "AccessControlPolicy", S3_XMLNS);
    xml_open(w, "Owner", NULL);
    xml_elem(w, "ID", owner);
    xml_elem(w, "DisplayName", owner);
    xml_close(w, "Owner");
    xml_open(w, "AccessControlList", NULL);
    xml_raw(w, "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
               "xsi:type=\"CanonicalUser\">");
    xml_elem(w, "ID", owner);
    xml_elem(w, "DisplayName", owner);
    xml_raw(w, "</Grantee><Permission>FULL_CONTROL</Permission></Grant>");
    xml_close(w, "AccessControlList");
    xml_close(w, "AccessControlPolicy");
    return w->failed ? CAIRN_E_NOMEM : 0;
}

int s3_canned_acl_valid(const char *acl)
{
    static const char *const canned[] = {"private", "public-read", "public-read-write",
                                         "authenticated-read", "aws-exec-read",
                                         "bucket-owner-read", "bucket-owner-full-control",
                                         "log-delivery-write"};
    for (size_t i = 0; i < sizeof(canned) / sizeof(canned[0]); i++)
        if (strcmp(acl, canned[i]) == 0)
            return 1;
    return 0;
}

int s3_op_object_acl(struct s3_call *call)
{
    struct cairn_object_info info;
    if (call->op == S3_OP_PUT_OBJECT_ACL) {
        const char *acl = s3_header(call, "x-amz-acl");
        if (acl && !s3_canned_acl_valid(acl))
            return CAIRN_E_INVALID_ARGUMENT;
        if (!acl) {
            /* A body ACL: accepted when well-formed (cairn keeps no ACLs). */
            char *body;
            size_t len;
            int rc = s3_read_small_body(call, 64 * 1024, &body, &len);
            if (rc < 0)
                return rc;
            if (len > 0 && !xml_parse(call->req.arena, body, len))
                return CAIRN_E_MALFORMED_XML;
        }
    }
    int rc = object_info(call, &info);
    if (rc < 0)
        return rc;
    struct cairn_kv *h = NULL;
    size_t n = 0, cap = 0;
    if (*info.version_id)
        s3_headers_add(call, &h, &n, &cap, "x-amz-version-id",
                       s3_printf(call, "%s", info.version_id));
    if (call->op == S3_OP_PUT_OBJECT_ACL)
        return s3_respond_empty(call, 200, h, n);
    struct xml_writer w;
    xml_writer_init(&w);
    rc = s3_write_owner_acl(call, acl_owner(call), &w);
    if (rc == 0)
        s3_respond_xml(call, 200, w.buf, w.len, h, n);
    xml_writer_clear(&w);
    return rc;
}

/* True when the comma-separated list `list` names `item` (any case). */
static int list_has(const char *list, const char *item)
{
    size_t il = strlen(item);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t > 0 && p[t - 1] == ' ')
            t--;
        if (t == il && strncasecmp(p, item, il) == 0)
            return 1;
        p += n;
    }
    return 0;
}

int s3_op_get_object_attributes(struct s3_call *call)
{
    const char *want = s3_header(call, "x-amz-object-attributes");
    if (!want || !*want)
        return s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                        "The x-amz-object-attributes header specifying the attributes to be "
                        "retrieved is either missing or empty",
                        NULL);
    struct cairn_object_info info;
    int rc = object_info(call, &info);
    if (rc < 0)
        return rc;
    struct xml_writer w;
    xml_writer_init(&w);
    xml_open(&w, "GetObjectAttributesResponse", S3_XMLNS);
    if (list_has(want, "ETag"))
        xml_elem(&w, "ETag", info.etag);
    if (list_has(want, "Checksum")) {
        static const char *const algs[][2] = {{"x-amz-checksum-crc32", "ChecksumCRC32"},
                                              {"x-amz-checksum-crc32c", "ChecksumCRC32C"},
                                              {"x-amz-checksum-crc64nvme", "ChecksumCRC64NVME"},
                                              {"x-amz-checksum-sha1", "ChecksumSHA1"},
                                              {"x-amz-checksum-sha256", "ChecksumSHA256"}};
        int open = 0;
        for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
            const char *v = info_attr(&info, algs[i][0]);
            if (v) {
                if (!open)
                    xml_open(&w, "Checksum", NULL);
                open = 1;
                xml_elem(&w, algs[i][1], v);
            }
        }
        if (open)
            xml_close(&w, "Checksum");
    }
    if (list_has(want, "ObjectParts") && info.parts_count > 0) {
        xml_open(&w, "ObjectParts", NULL);
        xml_elemf(&w, "TotalPartsCount", "%u", info.parts_count);
        xml_close(&w, "ObjectParts");
    }
    if (list_has(want, "StorageClass")) {
        const char *sc = info_attr(&info, "x-amz-storage-class");
        xml_elem(&w, "StorageClass", sc ? sc : "STANDARD");
    }
    if (list_has(want, "ObjectSize"))
        xml_elemf(&w, "ObjectSize", "%llu", (unsigned long long)info.size);
    xml_close(&w, "GetObjectAttributesResponse");
    struct cairn_kv *h = NULL;
    size_t n = 0, cap = 0;
    s3_headers_add(call, &h, &n, &cap, "last-modified", s3_time_rfc1123(call, info.mtime_ms));
    if (*info.version_id)
        s3_headers_add(call, &h, &n, &cap, "x-amz-version-id",
                       s3_printf(call, "%s", info.version_id));
    rc = w.failed ? CAIRN_E_NOMEM : 0;
    if (rc == 0)
        s3_respond_xml(call, 200, w.buf, w.len, h, n);
    xml_writer_clear(&w);
    return rc;
}
