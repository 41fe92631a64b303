/*
 * s3-copy.c -- CopyObject and the copy stream shared with UploadPartCopy.
 *
 * s3_copy_stream runs the source's object_get on a second thread.  Its
 * body_write feeds a bounded pipe; the destination PUT, running on the calling
 * thread, reads the pipe through call->req.read (wrapped by the body pipeline
 * so the copy gets its MD5 and checksums like any PUT).  Memory is bounded by
 * the pipe size whatever the object size.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "s3-internal.h"
#include "s3-placement.h"
#include "s3-router.h"
#include "xml-writer.h"

#define S3_PIPE_CAP (1024 * 1024)

struct s3_pipe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *buf;
    size_t head, len;     /* ring buffer */
    int writer_done;      /* the source finished (result in src_rc) */
    int reader_gone;      /* the destination stopped reading */
    int src_rc;
};

struct s3_copy {
    struct s3_call *call;
    struct s3_pipe pipe;
    struct cairn_req src_req;
    /* The backend the source bucket lives on (per-bucket placement): not
     * necessarily the destination's call->be. */
    const struct cairn_backend_ops *src_be;
    void *src_state;
    const char *bucket, *key, *version;
    uint64_t offset;
    int64_t length;
    struct cairn_object_info src_seen; /* in src_req's arena */
    int decided;          /* decide() ran: the source exists */
    int decide_rc;
};

/* Source side: body_write into the pipe. */
static int s3_pipe_write(struct cairn_req *req, const void *data, size_t len)
{
    struct s3_copy *c = req->owner;
    struct s3_pipe *p = &c->pipe;
    const uint8_t *src = data;
    pthread_mutex_lock(&p->mu);
    while (len > 0) {
        while (p->len == S3_PIPE_CAP && !p->reader_gone)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->reader_gone) {
            pthread_mutex_unlock(&p->mu);
            return CAIRN_E_CLIENT_GONE;
        }
        size_t tail = (p->head + p->len) % S3_PIPE_CAP;
        size_t room = S3_PIPE_CAP - p->len;
        size_t n = len < room ? len : room;
        if (n > S3_PIPE_CAP - tail)
            n = S3_PIPE_CAP - tail;
        memcpy(p->buf + tail, src, n);
        p->len += n;
        src += n;
        len -= n;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return 0;
}

static ssize_t s3_pipe_no_read(struct cairn_req *req, void *buf, size_t len)
{
    return 0;
}

/* Destination side: the raw source of the body pipeline. */
static ssize_t s3_pipe_read(void *ctx, void *buf, size_t len)
{
    struct s3_copy *c = ctx;
    struct s3_pipe *p = &c->pipe;
    pthread_mutex_lock(&p->mu);
    while (p->len == 0 && !p->writer_done)
        pthread_cond_wait(&p->cv, &p->mu);
    ssize_t rc;
    if (p->len == 0) {
        rc = p->src_rc < 0 ? p->src_rc : 0;
    } else {
        size_t n = len < p->len ? len : p->len;
        if (n > S3_PIPE_CAP - p->head)
            n = S3_PIPE_CAP - p->head;
        memcpy(buf, p->buf + p->head, n);
        p->head = (p->head + n) % S3_PIPE_CAP;
        p->len -= n;
        rc = (ssize_t)n;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* Copies `in` into `arena` (strings and attrs); 0 or CAIRN_E_NOMEM. */
static int s3_info_copy(struct arena *arena, const struct cairn_object_info *in,
                        struct cairn_object_info *out)
{
    *out = *in;
    out->attrs = NULL;
    out->n_attrs = 0;
    if (!in->n_attrs)
        return 0;
    out->attrs = arena_alloc(arena, in->n_attrs * sizeof(*out->attrs));
    if (!out->attrs)
        return CAIRN_E_NOMEM;
    for (size_t i = 0; i < in->n_attrs; i++) {
        out->attrs[i].name = arena_strdup(arena, in->attrs[i].name);
        out->attrs[i].value = arena_strdup(arena, in->attrs[i].value ? in->attrs[i].value : "");
        if (!out->attrs[i].name || !out->attrs[i].value)
            return CAIRN_E_NOMEM;
    }
    out->n_attrs = in->n_attrs;
    return 0;
}

/* Runs on the source thread: checks the source and picks the byte range. */
static int s3_copy_decide_locked(struct s3_copy *c, const struct cairn_object_info *info,
                                 uint64_t *offset_r, uint64_t *length_r)
{
    /* Source-thread memory: the calling request's arena is not thread-safe. */
    int rc = s3_info_copy(c->src_req.arena, info, &c->src_seen);
    if (rc < 0)
        return rc;
    if (info->is_delete_marker)
        return (c->version && *c->version) ? CAIRN_E_INVALID_REQUEST : CAIRN_E_NO_SUCH_KEY;
    rc = s3_copy_source_conditions(c->call, info);
    if (rc < 0)
        return rc;
    if (c->length < 0) {
        if (c->offset > info->size)
            return CAIRN_E_INVALID_RANGE;
        *length_r = info->size - c->offset;
    } else {
        if (c->offset > info->size || (uint64_t)c->length > info->size - c->offset)
            return CAIRN_E_INVALID_RANGE;
        *length_r = (uint64_t)c->length;
    }
    *offset_r = c->offset;
    return 0;
}

static int s3_copy_decide(void *ctx, const struct cairn_object_info *info, uint64_t *offset_r,
                          uint64_t *length_r)
{
    struct s3_copy *c = ctx;
    int rc = s3_copy_decide_locked(c, info, offset_r, length_r);
    pthread_mutex_lock(&c->pipe.mu);
    c->decided = 1;
    c->decide_rc = rc;
    pthread_cond_broadcast(&c->pipe.cv);
    pthread_mutex_unlock(&c->pipe.mu);
    return rc;
}

static void *s3_copy_thread(void *arg)
{
    struct s3_copy *c = arg;
    struct cairn_get get = {
        .bucket = c->bucket,
        .key = c->key,
        .version_id = c->version,
        .decide = s3_copy_decide,
        .ctx = c,
    };
    int rc = c->src_be->object_get(c->src_state, &c->src_req, &get);
    if (rc == 1)
        rc = 0;
    pthread_mutex_lock(&c->pipe.mu);
    c->pipe.src_rc = rc < 0 ? rc : 0;
    c->pipe.writer_done = 1;
    pthread_cond_broadcast(&c->pipe.cv);
    pthread_mutex_unlock(&c->pipe.mu);
    return NULL;
}

/*
 * The operation table and state serving `bucket`: the call's own (which may be
 * a caching wrapper) when the bucket lives on the call's backend, else the
 * other backend's.  0 or a negative error.
 */
static int copy_source_backend(struct s3_call *call, const char *bucket,
                               const struct cairn_backend_ops **be_r, void **state_r)
{
    const struct loaded_plugin *p = call->backend;
    if (call->s3) {
        int rc = s3_placement_backend_of(call, bucket, &p);
        if (rc < 0)
            return rc;
    }
    if (!p || p == call->backend) {
        *be_r = call->be;
        *state_r = call->be_state;
    } else {
        *be_r = p->desc->backend;
        *state_r = p->state;
    }
    return 0;
}

int s3_authorize_copy_source(struct s3_call *call, const char *bucket, const char *key,
                             const char *version)
{
    const struct cairn_backend_ops *be;
    void *state;
    int rc = copy_source_backend(call, bucket, &be, &state);
    if (rc < 0)
        return rc;
    /* authorization reads the bucket's owner and policy through call->be:
     * point it at the source bucket's backend for this one question. */
    const struct cairn_backend_ops *saved_be = call->be;
    void *saved_state = call->be_state;
    call->be = be;
    call->be_state = state;
    rc = s3_authorize_action(call, version ? "s3:GetObjectVersion" : "s3:GetObject", bucket, key);
    call->be = saved_be;
    call->be_state = saved_state;
    return rc;
}

int s3_copy_stream(struct s3_call *call, const char *src_bucket, const char *src_key,
                   const char *src_version, uint64_t offset, int64_t length,
                   int (*put_fn)(struct s3_call *call, void *ctx), void *ctx,
                   struct cairn_object_info *src_info_r)
{
    struct s3_call_ext *ext = s3_call_ext(call);
    if (!ext || !call->be)
        return CAIRN_E_INTERNAL;
    if (ext->body)
        return CAIRN_E_INTERNAL; /* the request body was already consumed */
    const struct cairn_backend_ops *src_be;
    void *src_state;
    int rc = copy_source_backend(call, src_bucket, &src_be, &src_state);
    if (rc < 0)
        return rc;
    if (!src_be->object_get)
        return CAIRN_E_NOT_IMPLEMENTED;
    struct s3_copy *c = calloc(1, sizeof(*c));
    if (!c)
        return CAIRN_E_NOMEM;
    c->pipe.buf = malloc(S3_PIPE_CAP);
    c->src_req.arena = arena_new();
    if (!c->pipe.buf || !c->src_req.arena) {
        free(c->pipe.buf);
        arena_free(c->src_req.arena);
        free(c);
        return CAIRN_E_NOMEM;
    }
    pthread_mutex_init(&c->pipe.mu, NULL);
    pthread_cond_init(&c->pipe.cv, NULL);
    c->call = call;
    c->src_be = src_be;
    c->src_state = src_state;
    c->bucket = src_bucket;
    c->key = src_key;
    c->version = src_version;
    c->offset = offset;
    c->length = length;
    memset(src_info_r, 0, sizeof(*src_info_r));
    c->src_req.request_id = call->req.request_id;
    c->src_req.read = s3_pipe_no_read;
    c->src_req.write = s3_pipe_write;
    c->src_req.owner = c;

    /* The copy's bytes replace the request body as the pipeline's raw source
     * (a CopyObject request has no body of its own). */
    s3_raw_read_fn saved_read = ext->raw_read;
    void *saved_ctx = ext->raw_ctx;
    struct cairn_body_decoder *saved_decoder = call->decoder;
    ext->raw_read = s3_pipe_read;
    ext->raw_ctx = c;
    call->decoder = NULL;

    pthread_t tid;
    if (pthread_create(&tid, NULL, s3_copy_thread, c) != 0) {
        rc = CAIRN_E_INTERNAL;
    } else {
        /* Wait until the source is known (its attrs may be the destination's). */
        pthread_mutex_lock(&c->pipe.mu);
        while (!c->decided && !c->pipe.writer_done)
            pthread_cond_wait(&c->pipe.cv, &c->pipe.mu);
        int decided = c->decided;
        rc = c->decided ? c->decide_rc : c->pipe.src_rc;
        pthread_mutex_unlock(&c->pipe.mu);
        if (decided)
            if (s3_info_copy(call->req.arena, &c->src_seen, src_info_r) < 0 && rc == 0)
                rc = CAIRN_E_NOMEM;
        if (rc == 0 && !decided)
            rc = CAIRN_E_NO_SUCH_KEY;
        if (rc == 0) {
            ext->copying = 1;
            rc = put_fn(call, ctx);
            ext->copying = 0;
        }
        /* Stop the source if the destination gave up early, then wait for it. */
        pthread_mutex_lock(&c->pipe.mu);
        c->pipe.reader_gone = 1;
        pthread_cond_broadcast(&c->pipe.cv);
        pthread_mutex_unlock(&c->pipe.mu);
        pthread_join(tid, NULL);
        /* A read failure of the source explains a failed put best. */
        if (rc < 0 && c->pipe.src_rc < 0 && c->pipe.src_rc != CAIRN_E_CLIENT_GONE)
            rc = c->pipe.src_rc;
    }
    ext->raw_read = saved_read;
    ext->raw_ctx = saved_ctx;
    call->decoder = saved_decoder;

    pthread_cond_destroy(&c->pipe.cv);
    pthread_mutex_destroy(&c->pipe.mu);
    free(c->pipe.buf);
    arena_free(c->src_req.arena);
    free(c);
    return rc;
}

/* ---- CopyObject ------------------------------------------------------------- */

int s3_parse_copy_source(struct s3_call *call, const char **bucket_r, const char **key_r,
                         const char **version_r)
{
    const char *src = s3_header(call, "x-amz-copy-source");
    if (!src || !*src)
        return CAIRN_E_INVALID_ARGUMENT;
    if (*src == '/')
        src++;
    const char *q = strchr(src, '?');
    size_t plen = q ? (size_t)(q - src) : strlen(src);
    *version_r = NULL;
    if (q) {
        struct s3_param *params;
        size_t n;
        if (s3_parse_query(call->req.arena, q + 1, &params, &n) < 0)
            return CAIRN_E_INVALID_ARGUMENT;
        const char *v = s3_params_get(params, n, "versionId");
        if (v && *v)
            *version_r = v;
    }
    char *path;
    if (s3_percent_decode(call->req.arena, src, plen, 0, &path) < 0)
        return CAIRN_E_INVALID_ARGUMENT;
    char *slash = strchr(path, '/');
    if (!slash || slash == path || !slash[1])
        return s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                        "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                        NULL), 1;
    *slash = '\0';
    *bucket_r = path;
    *key_r = slash + 1;
    if (!s3_bucket_name_valid(path))
        return CAIRN_E_INVALID_BUCKET_NAME;
    if (strlen(slash + 1) > 1024)
        return CAIRN_E_KEY_TOO_LONG;
    return 0;
}

struct copy_put_ctx {
    int replace_meta;
    int replace_tags;
    struct cairn_object_info *src;
    struct cairn_object_info final;
    struct cairn_object_info info;
    enum cairn_versioning versioning;
};

/* The destination's attrs: the request's (REPLACE) or the source's (COPY),
 * minus checksums (recomputed on the copied bytes when asked for). */
static size_t copy_attrs(struct s3_call *call, struct copy_put_ctx *c, struct cairn_kv **attrs_r)
{
    struct cairn_kv *req_attrs;
    size_t n_req = s3_request_object_attrs(call, &req_attrs);
    size_t cap = n_req + c->src->n_attrs + 1;
    struct cairn_kv *out = s3_alloc(call, cap * sizeof(*out));
    size_t n = 0;
    if (!out) {
        *attrs_r = NULL;
        return 0;
    }
    const struct cairn_kv *base = c->replace_meta ? req_attrs : c->src->attrs;
    size_t n_base = c->replace_meta ? n_req : c->src->n_attrs;
    for (size_t i = 0; i < n_base; i++) {
        const char *name = base[i].name;
        if (strncmp(name, "x-amz-checksum-", 15) == 0 || strcmp(name, "x-amz-tagging") == 0 ||
            strcmp(name, S3_PART_SIZES_ATTR) == 0)
            continue; /* recomputed, or chosen below; a copy is a single part */
        out[n++] = base[i];
    }
    /* Tags follow x-amz-tagging-directive, independently of the metadata. */
    const char *tags = NULL;
    if (c->replace_tags) {
        tags = s3_header(call, "x-amz-tagging");
    } else {
        for (size_t i = 0; i < c->src->n_attrs; i++)
            if (strcmp(c->src->attrs[i].name, "x-amz-tagging") == 0)
                tags = c->src->attrs[i].value;
    }
    if (tags && *tags)
        out[n++] = (struct cairn_kv){"x-amz-tagging", tags};
    *attrs_r = out;
    return n;
}

static int copy_put(struct s3_call *call, void *vctx)
{
    struct copy_put_ctx *c = vctx;
    int rc = s3_body_begin_put(call, &c->final);
    if (rc < 0)
        return rc;
    struct cairn_kv *attrs;
    size_t n_attrs = copy_attrs(call, c, &attrs);
    if (!attrs)
        return CAIRN_E_NOMEM;
    struct cairn_put put = {
        .bucket = call->bucket,
        .key = call->key,
        .content_length = (int64_t)c->src->size,
        .versioning = c->versioning,
        .n_attrs = n_attrs,
        .attrs = attrs,
        .final = &c->final,
    };
    return call->be->object_put(call->be_state, &call->req, &put, &c->info);
}

int s3_op_copy_object(struct s3_call *call)
{
    const char *sb, *sk, *sv;
    int rc = s3_parse_copy_source(call, &sb, &sk, &sv);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    const char *md = s3_header(call, "x-amz-metadata-directive");
    const char *td = s3_header(call, "x-amz-tagging-directive");
    if (md && strcmp(md, "COPY") != 0 && strcmp(md, "REPLACE") != 0)
        return s3_error(call, CAIRN_E_INVALID_ARGUMENT, "Unknown metadata directive.", NULL);
    if (td && strcmp(td, "COPY") != 0 && strcmp(td, "REPLACE") != 0)
        return s3_error(call, CAIRN_E_INVALID_ARGUMENT, "Unknown tagging directive.", NULL);
    struct copy_put_ctx c;
    memset(&c, 0, sizeof(c));
    c.replace_meta = md && strcmp(md, "REPLACE") == 0;
    c.replace_tags = td && strcmp(td, "REPLACE") == 0;
    if (strcmp(sb, call->bucket) == 0 && strcmp(sk, call->key) == 0 && !sv && !c.replace_meta &&
        !s3_header(call, "x-amz-storage-class") &&
        !s3_header(call, "x-amz-website-redirect-location"))
        return s3_error(call, CAIRN_E_INVALID_REQUEST,
                        "This copy request is illegal because it is trying to copy an object to "
                        "itself without changing the object's metadata, storage class, website "
                        "redirect location or encryption attributes.",
                        NULL);
    rc = s3_authorize_copy_source(call, sb, sk, sv);
    if (rc < 0)
        return rc;
    c.versioning = s3_bucket_versioning(call);
    struct cairn_object_info src;
    c.src = &src;
    rc = s3_copy_stream(call, sb, sk, sv, 0, -1, copy_put, &c, &src);
    if (rc == CAIRN_E_NO_SUCH_KEY && sv)
        rc = CAIRN_E_NO_SUCH_VERSION;
    if (rc < 0)
        return rc;

    struct xml_writer w;
    xml_writer_init(&w);
    xml_open(&w, "CopyObjectResult", S3_XMLNS);
    xml_elem(&w, "LastModified",
             s3_time_iso8601(call, c.info.mtime_ms ? c.info.mtime_ms : call->services->now_ms()));
    const char *etag = *c.info.etag ? c.info.etag : c.final.etag;
    xml_elem(&w, "ETag", s3_printf(call, "\"%s\"", etag));
    for (size_t i = 0; i < c.final.n_attrs; i++) {
        /* x-amz-checksum-crc32 -> ChecksumCRC32 */
        const char *alg = c.final.attrs[i].name + 15;
        char elem[32] = "Checksum";
        size_t o = 8;
        for (const char *p = alg; *p && o + 1 < sizeof(elem); p++)
            elem[o++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
        elem[o] = '\0';
        xml_elem(&w, elem, c.final.attrs[i].value);
    }
    xml_close(&w, "CopyObjectResult");
    struct cairn_kv *h = NULL;
    size_t n = 0, cap = 0;
    if (c.versioning != CAIRN_VERSIONING_OFF && *c.info.version_id)
        s3_headers_add(call, &h, &n, &cap, "x-amz-version-id",
                       s3_printf(call, "%s", c.info.version_id));
    if (*src.version_id)
        s3_headers_add(call, &h, &n, &cap, "x-amz-copy-source-version-id",
                       s3_printf(call, "%s", src.version_id));
    rc = w.failed ? CAIRN_E_NOMEM : 0;
    if (rc == 0)
        s3_respond_xml(call, 200, w.buf, w.len, h, n);
    xml_writer_clear(&w);
    return rc;
}
