/* iam-persist.c -- the IAM store's document in the backend's system bucket. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "iam-persist.h"
#include "iam-store.h"
#include "request.h"
#include "services.h"

/* A stored document larger than this is refused on load (corruption guard). */
#define IAM_DOC_MAX (64u << 20)

static pthread_mutex_t persist_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct loaded_plugin *persist_backend;
static const struct cairn_services *persist_sv;

/* The body source of a save and the sink of a load, behind cairn_req.owner. */
struct doc_buf {
    char *data;
    size_t len, cap, pos;
    int too_big;
};

static ssize_t doc_read(struct cairn_req *req, void *buf, size_t len)
{
    struct doc_buf *d = req->owner;
    size_t n = d->len - d->pos < len ? d->len - d->pos : len;
    memcpy(buf, d->data + d->pos, n);
    d->pos += n;
    return (ssize_t)n;
}

static int doc_write(struct cairn_req *req, const void *buf, size_t len)
{
    struct doc_buf *d = req->owner;
    if (d->len + len + 1 > IAM_DOC_MAX) {
        d->too_big = 1;
        return CAIRN_E_CLIENT_GONE; /* stops the backend's stream */
    }
    if (d->len + len + 1 > d->cap) {
        size_t cap = d->cap ? d->cap : 4096;
        while (cap < d->len + len + 1)
            cap *= 2;
        char *p = realloc(d->data, cap);
        if (!p)
            return CAIRN_E_NOMEM;
        d->data = p;
        d->cap = cap;
    }
    memcpy(d->data + d->len, buf, len);
    d->len += len;
    d->data[d->len] = '\0';
    return 0;
}

/* An internal request over `d` with its own arena; 0 or CAIRN_E_NOMEM. */
static int internal_req(struct cairn_req *req, struct doc_buf *d)
{
    memset(req, 0, sizeof(*req));
    req->request_id = "iam-store";
    req->arena = arena_new();
    req->read = doc_read;
    req->write = doc_write;
    req->owner = d;
    return req->arena ? 0 : CAIRN_E_NOMEM;
}

/* object_get's decide: the whole object. */
static int decide_all(void *ctx, const struct cairn_object_info *info, uint64_t *offset_r,
                      uint64_t *length_r)
{
    (void)ctx;
    if (info->is_delete_marker)
        return CAIRN_E_NO_SUCH_KEY;
    if (info->size > IAM_DOC_MAX)
        return CAIRN_E_ENTITY_TOO_LARGE;
    *offset_r = 0;
    *length_r = info->size;
    return 0;
}

int iam_persist_start(const struct loaded_plugin *backend, const struct cairn_services *sv)
{
    const struct cairn_backend_ops *be = backend->desc->backend;
    if (!be || !be->bucket_create || !be->object_get || !be->object_put) {
        /* A backend without objects (test doubles): users live in memory only. */
        core_log(NULL, CAIRN_LOG_WARN,
                 "IAM store: backend '%s' cannot store objects; users, groups and policies "
                 "will not survive a restart", backend->instance_name);
        return 0;
    }
    struct doc_buf d = {0};
    struct cairn_req req;
    int rc = internal_req(&req, &d);
    if (rc < 0)
        return rc;
    struct cairn_bucket_info b = {.name = IAM_PERSIST_BUCKET, .created_ms = sv->now_ms(),
                                  .owner = ""};
    rc = be->bucket_create(backend->state, &req, &b);
    if (rc == CAIRN_E_BUCKET_OWNED_BY_YOU || rc == CAIRN_E_BUCKET_EXISTS)
        rc = 0;
    if (rc < 0) {
        core_log(NULL, CAIRN_LOG_ERROR, "IAM store: cannot create the system bucket: error %d",
                 rc);
        goto out;
    }
    struct cairn_get get = {.bucket = IAM_PERSIST_BUCKET, .key = IAM_PERSIST_KEY,
                            .decide = decide_all};
    rc = be->object_get(backend->state, &req, &get);
    if (rc == CAIRN_E_NO_SUCH_KEY) {
        core_log(NULL, CAIRN_LOG_INFO, "IAM store: no stored users yet");
        rc = 0;
    } else if (rc < 0 || d.too_big) {
        core_log(NULL, CAIRN_LOG_ERROR, "IAM store: cannot read the stored document: error %d",
                 d.too_big ? CAIRN_E_ENTITY_TOO_LARGE : rc);
        rc = rc < 0 ? rc : CAIRN_E_ENTITY_TOO_LARGE;
    } else {
        char why[256];
        rc = iam_store_import(d.data ? d.data : "", d.len, why, sizeof(why));
        if (rc < 0)
            core_log(NULL, CAIRN_LOG_ERROR, "IAM store: the stored document is not valid: %s",
                     why);
        else
            core_log(NULL, CAIRN_LOG_INFO, "IAM store: loaded from the backend");
    }
    if (rc == 0) {
        pthread_mutex_lock(&persist_lock);
        persist_backend = backend;
        persist_sv = sv;
        pthread_mutex_unlock(&persist_lock);
    }
out:
    arena_free(req.arena);
    if (d.data)
        memset(d.data, 0, d.len); /* it held secrets */
    free(d.data);
    return rc;
}

int iam_persist_save(void)
{
    pthread_mutex_lock(&persist_lock);
    const struct loaded_plugin *backend = persist_backend;
    const struct cairn_services *sv = persist_sv;
    if (!backend) {
        pthread_mutex_unlock(&persist_lock);
        return 0;
    }
    struct doc_buf d = {0};
    struct cairn_req req;
    struct cairn_object_info final;
    memset(&final, 0, sizeof(final));
    int rc = iam_store_export(1, &d.data);
    if (rc == 0)
        rc = internal_req(&req, &d);
    else
        req.arena = NULL;
    if (rc == 0) {
        d.len = strlen(d.data);
        /* The S3 body pipeline is not involved: size and ETag are ours to fill. */
        struct cairn_hash *h = sv->hash_new(CAIRN_HASH_MD5);
        uint8_t md5[32];
        if (!h) {
            rc = CAIRN_E_NOMEM;
        } else {
            sv->hash_update(h, d.data, d.len);
            size_t n = sv->hash_final(h, md5);
            for (size_t i = 0; i < n && i < 16; i++)
                snprintf(final.etag + 2 * i, 3, "%02x", md5[i]);
            final.size = d.len;
        }
    }
    if (rc == 0) {
        static const struct cairn_kv attrs[] = {{"content-type", "application/json"}};
        struct cairn_put put = {.bucket = IAM_PERSIST_BUCKET, .key = IAM_PERSIST_KEY,
                                .content_length = (int64_t)d.len,
                                .versioning = CAIRN_VERSIONING_OFF, .n_attrs = 1,
                                .attrs = attrs, .final = &final};
        struct cairn_object_info stored;
        memset(&stored, 0, sizeof(stored));
        rc = backend->desc->backend->object_put(backend->state, &req, &put, &stored);
        if (rc < 0)
            core_log(NULL, CAIRN_LOG_ERROR, "IAM store: saving failed: error %d", rc);
    }
    pthread_mutex_unlock(&persist_lock);
    arena_free(req.arena);
    if (d.data)
        memset(d.data, 0, d.len);
    free(d.data);
    return rc;
}

void iam_persist_stop(void)
{
    pthread_mutex_lock(&persist_lock);
    persist_backend = NULL;
    persist_sv = NULL;
    pthread_mutex_unlock(&persist_lock);
}
