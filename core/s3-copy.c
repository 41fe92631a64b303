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
    struct s3_call *call = c->call;
    struct cairn_get get = {
        .bucket = c->bucket,
        .key = c->key,
        .version_id = c->version,
        .decide = s3_copy_decide,
        .ctx = c,
    };
    int rc = call->be->object_get(call->be_state, &c->src_req, &get);
    if (rc == 1)
        rc = 0;
    pthread_mutex_lock(&c->pipe.mu);
    c->pipe.src_rc = rc < 0 ? rc : 0;
    c->pipe.writer_done = 1;
    pthread_cond_broadcast(&c->pipe.cv);
    pthread_mutex_unlock(&c->pipe.mu);
    return NULL;
}

int s3_copy_stream(struct s3_call *call, const char *src_bucket, const char *src_key,
                   const char *src_version, uint64_t offset, int64_t length,
                   int (*put_fn)(struct s3_call *call, void *ctx), void *ctx,
                   struct cairn_object_info *src_info_r)
{
    struct s3_call_ext *ext = s3_call_ext(call);
    if (!ext || !call->be || !call->be->object_get)
        return CAIRN_E_INTERNAL;
    if (ext->body)
        return CAIRN_E_INTERNAL; /* the request body was already consumed */
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
    int rc;
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
