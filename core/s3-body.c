/*
 * s3-body.c -- the request body pipeline.
 *
 *   raw bytes (http_exchange_read, or a test's fake source)
 *     -> the auth plugin's decoder, when set (aws-chunked, signed payloads)
 *     -> MD5 (for the ETag) and the checksum the client asked for
 *     -> the backend's body_read.
 *
 * At the end of the body everything is verified (length, Content-MD5,
 * x-amz-checksum-* header or trailer) before 0 is returned, so a backend that
 * commits only after reading 0 never commits a bad body.  Memory is bounded:
 * one raw buffer per request when a decoder is used, nothing otherwise.
 */
#include <stdlib.h>
#include <string.h>

#include "s3-internal.h"

#define S3_RAW_BUF (64 * 1024)

struct s3_body {
    struct s3_call *call;
    struct cairn_object_info *final;
    struct cairn_hash *md5;
    struct cairn_hash *cks;            /* the requested checksum, or NULL */
    enum cairn_hash_algo cks_algo;
    const char *cks_attr;              /* "x-amz-checksum-crc32" */
    const char *cks_header;            /* expected value from a header, or NULL */
    int cks_from_trailer;              /* expected value arrives as a trailer */
    int has_content_md5;
    uint8_t content_md5[16];
    int64_t expect_len;                /* -1 when unknown */
    uint64_t total;                    /* decoded bytes seen */
    /* Raw input buffer, used only with a decoder. */
    uint8_t *raw;
    size_t raw_off, raw_len;
    int raw_eof;
    int done;                          /* 1: verified EOF returned; */
    int err;                           /* sticky error */
};

static ssize_t s3_exchange_raw_read(void *ctx, void *buf, size_t len)
{
    return http_exchange_read(ctx, buf, len);
}

const char *s3_trailer(const struct s3_call *call, const char *name)
{
    struct s3_call_ext *ext = s3_call_ext(call);
    if (!ext)
        return NULL;
    for (size_t i = 0; i < ext->n_trailers; i++)
        if (strcasecmp(ext->trailers[i].name, name) == 0)
            return ext->trailers[i].value;
    return NULL;
}

int s3_req_set_trailer(struct cairn_req *req, const char *name, const char *value)
{
    struct s3_call_ext *ext = req->owner;
    if (!ext || !name || !value)
        return CAIRN_E_INTERNAL;
    struct s3_call *call = ext->call;
    if (ext->n_trailers >= 64)
        return CAIRN_E_HEADERS_TOO_LARGE;
    if (ext->n_trailers == ext->cap_trailers) {
        size_t cap = ext->cap_trailers ? ext->cap_trailers * 2 : 4;
        struct cairn_kv *t = s3_alloc(call, cap * sizeof(*t));
        if (!t)
            return CAIRN_E_NOMEM;
        if (ext->n_trailers)
            memcpy(t, ext->trailers, ext->n_trailers * sizeof(*t));
        ext->trailers = t;
        ext->cap_trailers = cap;
    }
    char *n = arena_strdup(call->req.arena, name);
    char *v = arena_strdup(call->req.arena, value);
    if (!n || !v)
        return CAIRN_E_NOMEM;
    for (char *p = n; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    ext->trailers[ext->n_trailers++] = (struct cairn_kv){n, v};
    return 0;
}

/* Reads raw bytes from the configured source. */
static ssize_t s3_body_raw(struct s3_call *call, void *buf, size_t len)
{
    struct s3_call_ext *ext = s3_call_ext(call);
    if (ext && ext->raw_read)
        return ext->raw_read(ext->raw_ctx, buf, len);
    if (call->ex)
        return s3_exchange_raw_read(call->ex, buf, len);
    return 0;
}

static void s3_body_free_hashes(struct s3_body *b)
{
    uint8_t scratch[64];
    if (b->md5)
        b->call->services->hash_final(b->md5, scratch);
    if (b->cks)
        b->call->services->hash_final(b->cks, scratch);
    b->md5 = b->cks = NULL;
}

static int s3_body_fail(struct s3_body *b, int err)
{
    if (!b->err)
        b->err = err;
    s3_body_free_hashes(b);
    return b->err;
}

/* Compares base64 values by their decoded bytes (tolerates padding quirks). */
static int s3_b64_equal(const char *given, const uint8_t *digest, size_t len)
{
    uint8_t buf[64];
    ssize_t n = s3_base64_decode(given, buf, sizeof(buf));
    return n == (ssize_t)len && memcmp(buf, digest, len) == 0;
}

/* The body ended: verify everything, then fill `final`. */
static int s3_body_finish(struct s3_body *b)
{
    struct s3_call *call = b->call;
    const struct cairn_services *sv = call->services;

    int64_t expect = b->expect_len;
    if (call->decoder && call->decoder->decoded_length >= 0)
        expect = call->decoder->decoded_length;
    if (expect >= 0 && b->total != (uint64_t)expect)
        return s3_body_fail(b, CAIRN_E_INCOMPLETE_BODY);

    uint8_t md5[32];
    sv->hash_final(b->md5, md5);
    b->md5 = NULL;
    if (b->has_content_md5 && memcmp(md5, b->content_md5, 16) != 0)
        return s3_body_fail(b, CAIRN_E_BAD_DIGEST);

    const char *cks_b64 = NULL;
    if (b->cks) {
        uint8_t digest[64];
        size_t dlen = sv->hash_final(b->cks, digest);
        b->cks = NULL;
        const char *expected = b->cks_header;
        if (!expected && b->cks_from_trailer)
            expected = s3_trailer(call, b->cks_attr); /* a missing trailer is allowed */
        if (expected && !s3_b64_equal(expected, digest, dlen))
            return s3_body_fail(b, CAIRN_E_BAD_DIGEST);
        cks_b64 = s3_base64(call, digest, dlen);
        if (!cks_b64)
            return s3_body_fail(b, CAIRN_E_NOMEM);
    }

    if (b->final) {
        b->final->size = b->total;
        s3_hex(md5, 16, b->final->etag);
        b->final->n_attrs = 0;
        b->final->attrs = NULL;
        if (cks_b64) {
            struct cairn_kv *a = s3_alloc(call, sizeof(*a));
            if (!a)
                return s3_body_fail(b, CAIRN_E_NOMEM);
            a->name = b->cks_attr;
            a->value = cks_b64;
            b->final->attrs = a;
            b->final->n_attrs = 1;
        }
    }
    b->done = 1;
    return 0;
}

static void s3_body_account(struct s3_body *b, const void *buf, size_t n)
{
    const struct cairn_services *sv = b->call->services;
    sv->hash_update(b->md5, buf, n);
    if (b->cks)
        sv->hash_update(b->cks, buf, n);
    b->total += n;
}

/* Pulls decoded bytes through the decoder. */
static ssize_t s3_body_decode(struct s3_body *b, uint8_t *out, size_t len)
{
    struct s3_call *call = b->call;
    struct cairn_body_decoder *d = call->decoder;
    for (;;) {
        if (b->raw_off == b->raw_len && !b->raw_eof) {
            b->raw_off = b->raw_len = 0;
            ssize_t n = s3_body_raw(call, b->raw, S3_RAW_BUF);
            if (n < 0)
                return n;
            if (n == 0)
                b->raw_eof = 1;
            b->raw_len = (size_t)n;
        }
        size_t avail = b->raw_len - b->raw_off;
        size_t consumed = 0, produced = 0;
        int rc = d->decode(d->state, &call->req, b->raw + b->raw_off, avail, &consumed, out,
                           len, &produced);
        if (rc < 0)
            return rc;
        if (consumed > avail)
            return CAIRN_E_INTERNAL;
        b->raw_off += consumed;
        if (produced > 0)
            return (ssize_t)produced;
        if (avail == 0 && b->raw_eof)
            return 0; /* the decoder had its in_len 0 call and produced nothing more */
        if (consumed == 0 && avail > 0) {
            /* The decoder wants more input than it was given: keep the rest and
             * read more behind it. */
            if (b->raw_eof)
                return CAIRN_E_INCOMPLETE_BODY;
            if (b->raw_off > 0) {
                memmove(b->raw, b->raw + b->raw_off, avail);
                b->raw_off = 0;
                b->raw_len = avail;
            }
            if (b->raw_len == S3_RAW_BUF)
                return CAIRN_E_BAD_REQUEST; /* a chunk header larger than the buffer */
            ssize_t n = s3_body_raw(call, b->raw + b->raw_len, S3_RAW_BUF - b->raw_len);
            if (n < 0)
                return n;
            if (n == 0)
                b->raw_eof = 1;
            b->raw_len += (size_t)n;
        }
    }
}

/* cairn_req.read while a body pipeline is installed. */
static ssize_t s3_body_read(struct cairn_req *req, void *buf, size_t len)
{
    struct s3_call_ext *ext = req->owner;
    struct s3_body *b = ext ? ext->body : NULL;
    if (!b)
        return CAIRN_E_INTERNAL;
    if (b->err)
        return b->err;
    if (b->done)
        return 0;
    if (len == 0)
        return CAIRN_E_INVALID_ARGUMENT;
    ssize_t n;
    if (b->call->decoder)
        n = s3_body_decode(b, buf, len);
    else
        n = s3_body_raw(b->call, buf, len);
    if (n < 0)
        return s3_body_fail(b, (int)n);
    if (n == 0) {
        int rc = s3_body_finish(b);
        return rc < 0 ? rc : 0;
    }
    s3_body_account(b, buf, (size_t)n);
    return n;
}

/* The checksum the client asked for: header value, or the trailer's name. */
static int s3_body_pick_checksum(struct s3_body *b)
{
    struct s3_call *call = b->call;
    static const char *const names[] = {"crc32", "crc32c", "crc64nvme", "sha1", "sha256"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *h = s3_printf(call, "x-amz-checksum-%s", names[i]);
        if (!h)
            return CAIRN_E_NOMEM;
        const char *v = s3_header(call, h);
        if (v) {
            b->cks_algo = s3_checksum_algo(names[i]);
            b->cks_attr = h;
            b->cks_header = v;
            uint8_t tmp[64];
            if (s3_base64_decode(v, tmp, sizeof(tmp)) < 0)
                return CAIRN_E_INVALID_ARGUMENT;
            return 0;
        }
    }
    const char *trailer = s3_header(call, "x-amz-trailer");
    if (trailer) {
        /* "x-amz-checksum-crc32", possibly a list; take the checksum one. */
        const char *p = strcasestr(trailer, "x-amz-checksum-");
        if (p) {
            p += strlen("x-amz-checksum-");
            size_t n = strcspn(p, ", \t");
            char alg[16];
            if (n < sizeof(alg)) {
                memcpy(alg, p, n);
                alg[n] = '\0';
                b->cks_algo = s3_checksum_algo(alg);
                if (b->cks_algo) {
                    for (size_t i = 0; i < n; i++)
                        if (alg[i] >= 'A' && alg[i] <= 'Z')
                            alg[i] = (char)(alg[i] - 'A' + 'a');
                    b->cks_attr = s3_printf(call, "x-amz-checksum-%s", alg);
                    b->cks_from_trailer = 1;
                    return b->cks_attr ? 0 : CAIRN_E_NOMEM;
                }
            }
        }
    }
    const char *sdk = s3_header(call, "x-amz-sdk-checksum-algorithm");
    if (!sdk)
        sdk = s3_header(call, "x-amz-checksum-algorithm");
    if (sdk) {
        b->cks_algo = s3_checksum_algo(sdk);
        if (!b->cks_algo)
            return CAIRN_E_INVALID_ARGUMENT;
        char alg[16];
        size_t n = strlen(sdk);
        if (n >= sizeof(alg))
            return CAIRN_E_INVALID_ARGUMENT;
        for (size_t i = 0; i <= n; i++)
            alg[i] = (char)(sdk[i] >= 'A' && sdk[i] <= 'Z' ? sdk[i] - 'A' + 'a' : sdk[i]);
        b->cks_attr = s3_printf(call, "x-amz-checksum-%s", alg);
        /* No value given: the value may still come as a trailer. */
        b->cks_from_trailer = 1;
        return b->cks_attr ? 0 : CAIRN_E_NOMEM;
    }
    return 0;
}

static int s3_body_install(struct s3_call *call, struct s3_call_ext *ext, struct s3_body *b);

int s3_body_begin_put(struct s3_call *call, struct cairn_object_info *final)
{
    struct s3_call_ext *ext = s3_call_ext(call);
    if (!ext)
        return CAIRN_E_INTERNAL;
    if (ext->body)
        return CAIRN_E_INTERNAL; /* one body per request */
    struct s3_body *b = s3_alloc(call, sizeof(*b));
    if (!b)
        return CAIRN_E_NOMEM;
    b->call = call;
    b->final = final;
    b->expect_len = -1;

    if (ext->copying) {
        /* CopyObject / UploadPartCopy: the bytes come from the source object;
         * the request's length and digest headers do not describe them. */
        const char *alg = s3_header(call, "x-amz-checksum-algorithm");
        if (alg) {
            b->cks_algo = s3_checksum_algo(alg);
            if (!b->cks_algo)
                return CAIRN_E_INVALID_ARGUMENT;
            char lower[16];
            size_t n = strlen(alg);
            for (size_t i = 0; i <= n && i < sizeof(lower); i++)
                lower[i] = (char)(alg[i] >= 'A' && alg[i] <= 'Z' ? alg[i] - 'A' + 'a' : alg[i]);
            b->cks_attr = s3_printf(call, "x-amz-checksum-%s", lower);
            if (!b->cks_attr)
                return CAIRN_E_NOMEM;
        }
        return s3_body_install(call, ext, b);
    }

    const char *dl = s3_header(call, "x-amz-decoded-content-length");
    if (dl) {
        char *end;
        long long v = strtoll(dl, &end, 10);
        if (*dl == '\0' || *end != '\0' || v < 0)
            return CAIRN_E_INVALID_ARGUMENT;
        b->expect_len = v;
    } else if (!call->decoder && call->head && call->head->content_length >= 0) {
        b->expect_len = call->head->content_length;
    }

    const char *cmd5 = s3_header(call, "content-md5");
    if (cmd5) {
        if (s3_base64_decode(cmd5, b->content_md5, sizeof(b->content_md5)) != 16)
            return CAIRN_E_INVALID_DIGEST;
        b->has_content_md5 = 1;
    }
    int rc = s3_body_pick_checksum(b);
    if (rc < 0)
        return rc;
    return s3_body_install(call, ext, b);
}

/* Makes the hashes and buffer and installs the pipeline as call->req.read. */
static int s3_body_install(struct s3_call *call, struct s3_call_ext *ext, struct s3_body *b)
{
    b->md5 = call->services->hash_new(CAIRN_HASH_MD5);
    if (!b->md5)
        return CAIRN_E_NOMEM;
    if (b->cks_algo) {
        b->cks = call->services->hash_new(b->cks_algo);
        if (!b->cks) {
            s3_body_free_hashes(b);
            return CAIRN_E_NOMEM;
        }
    }
    if (call->decoder) {
        b->raw = s3_alloc(call, S3_RAW_BUF);
        if (!b->raw) {
            s3_body_free_hashes(b);
            return CAIRN_E_NOMEM;
        }
    }
    ext->body = b;
    call->req.read = s3_body_read;
    return 0;
}

void s3_body_end(struct s3_call *call)
{
    struct s3_call_ext *ext = s3_call_ext(call);
    if (ext && ext->body)
        s3_body_free_hashes(ext->body);
}

int s3_read_small_body(struct s3_call *call, size_t max, char **data_r, size_t *len_r)
{
    struct s3_call_ext *ext = s3_call_ext(call);
    if (!ext)
        return CAIRN_E_INTERNAL;
    if (!ext->body) {
        struct cairn_object_info *final = s3_alloc(call, sizeof(*final));
        if (!final)
            return CAIRN_E_NOMEM;
        int rc = s3_body_begin_put(call, final);
        if (rc < 0)
            return rc;
    }
    if (call->head && call->head->content_length > (int64_t)max)
        return CAIRN_E_ENTITY_TOO_LARGE;
    char *buf = s3_alloc(call, max + 1);
    if (!buf)
        return CAIRN_E_NOMEM;
    size_t len = 0;
    for (;;) {
        char extra;
        /* Read into the buffer; one spare byte detects an oversized body. */
        void *dst = len < max ? buf + len : &extra;
        size_t room = len < max ? max - len : 1;
        ssize_t n = call->req.read(&call->req, dst, room);
        if (n < 0)
            return (int)n;
        if (n == 0)
            break;
        if (len >= max)
            return CAIRN_E_ENTITY_TOO_LARGE;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *data_r = buf;
    *len_r = len;
    return 0;
}
