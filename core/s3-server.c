/*
 * s3-server.c -- the S3 layer's entry: one call per HTTP exchange.
 *
 *   make the call (arena, request handle) -> health check -> parse target and
 *   query -> route -> validate names -> authenticate (auth chain) ->
 *   authorize (policy plugin) -> run the operation -> error XML on failure ->
 *   access log -> release.
 */
#include <stdlib.h>
#include <string.h>

#include "body-ref.h"
#include "bucket-cache.h"
#include "s3-internal.h"
#include "s3-placement.h"
#include "s3-post-object.h"
#include "s3-router.h"
#include "services.h"

#define S3_MAX_KEY_BYTES 1024
#define S3_MAX_CACHED_BACKENDS 8

/* The server plus what only this file and s3-placement.c need (struct
 * s3_server itself is shared by every s3-*.c file). */
struct s3_server_full {
    struct s3_server base; /* first: a struct s3_server * points here */
    struct s3_placement_cache *placement;
    /* A bucket cache in front of each loaded backend (by backend state);
     * a backend without one (out of memory) is used directly. */
    struct bucket_cache *bucket_caches[S3_MAX_CACHED_BACKENDS];
    void *cached_states[S3_MAX_CACHED_BACKENDS];
    size_t n_bucket_caches;
};

/* Puts a bucket cache in front of `p` unless it has one already. */
static void add_bucket_cache(struct s3_server_full *full, const struct loaded_plugin *p)
{
    for (size_t i = 0; i < full->n_bucket_caches; i++)
        if (full->cached_states[i] == p->state)
            return;
    if (full->n_bucket_caches == S3_MAX_CACHED_BACKENDS)
        return;
    struct bucket_cache *bc = bucket_cache_new(p->desc->backend, p->state, BUCKET_CACHE_TTL_MS,
                                               BUCKET_CACHE_MAX_BUCKETS);
    if (!bc)
        return;
    full->bucket_caches[full->n_bucket_caches] = bc;
    full->cached_states[full->n_bucket_caches++] = p->state;
}

/* Points the call's backend table at the bucket cache of its backend, if any
 * (again after placement chose the bucket's backend). */
static void use_bucket_cache(struct s3_call *call)
{
    const struct s3_server_full *full = (const struct s3_server_full *)call->s3;
    for (size_t i = 0; i < full->n_bucket_caches; i++)
        if (full->cached_states[i] == call->be_state &&
            bucket_cache_backend(full->bucket_caches[i]) == call->be) {
            call->be = bucket_cache_ops(full->bucket_caches[i]);
            return;
        }
}

struct s3_server *s3_server_new(const struct s3_settings *settings,
                                const struct s3_plugins *plugins,
                                const struct cairn_services *services)
{
    if (!settings || !plugins || !services || !plugins->backend ||
        !plugins->backend->desc->backend)
        return NULL;
    for (size_t i = 0; i < plugins->n_backends; i++)
        if (!plugins->backends || !plugins->backends[i] || !plugins->backends[i]->desc->backend)
            return NULL;
    struct s3_server_full *full = calloc(1, sizeof(*full));
    if (!full)
        return NULL;
    if (plugins->n_backends > 1 && !(full->placement = s3_placement_cache_new(4096))) {
        free(full);
        return NULL;
    }
    struct s3_server *s3 = &full->base;
    s3->settings = settings;
    s3->plugins = plugins;
    s3->services = services;
    add_bucket_cache(full, plugins->backend);
    for (size_t i = 0; i < plugins->n_backends; i++)
        add_bucket_cache(full, plugins->backends[i]);
    return s3;
}

struct s3_placement_cache *s3_server_placement_cache(const struct s3_server *s3)
{
    return s3 ? ((const struct s3_server_full *)s3)->placement : NULL;
}

void s3_server_free(struct s3_server *s3)
{
    if (!s3)
        return;
    struct s3_server_full *full = (struct s3_server_full *)s3;
    s3_placement_cache_free(full->placement);
    for (size_t i = 0; i < full->n_bucket_caches; i++)
        bucket_cache_free(full->bucket_caches[i]);
    free(full);
}

/* cairn_req.read before any body pipeline: raw bytes from the exchange. */
static ssize_t s3_req_read_raw(struct cairn_req *req, void *buf, size_t len)
{
    struct s3_call_ext *ext = req->owner;
    if (!ext || !ext->call->ex)
        return 0;
    return http_exchange_read(ext->call->ex, buf, len);
}

int s3_req_write(struct cairn_req *req, const void *buf, size_t len)
{
    struct s3_call_ext *ext = req->owner;
    if (!ext || !ext->call->ex)
        return CAIRN_E_CLIENT_GONE;
    int rc = http_exchange_write(ext->call->ex, buf, len);
    if (rc == 0)
        ext->bytes_out += len;
    return rc;
}

int s3_req_write_ref(struct cairn_req *req, const void *buf, size_t len,
                     void (*release)(const void *buf, void *arg), void *arg)
{
    if (!req || !req->write) {
        if (release)
            release(buf, arg);
        return CAIRN_E_INTERNAL;
    }
    struct s3_call_ext *ext = req->owner;
    if (req->write != s3_req_write || !ext || !ext->call->ex) {
        int rc = req->write(req, buf, len);
        if (release)
            release(buf, arg);
        return rc;
    }
    int rc = http_exchange_write_ref(ext->call->ex, buf, len, release, arg);
    if (rc == 0)
        ext->bytes_out += len;
    return rc;
}

/* Runs the auth chain.  0 with call->who set (anonymous when every plugin
 * declined), or a negative error with call->auth_detail possibly set. */
static int s3_authenticate(struct s3_call *call)
{
    const struct http_request_head *head = call->head;
    struct cairn_http_request http = {
        .method = head->method,
        .raw_path = head->raw_path,
        .raw_query = head->raw_query ? head->raw_query : "",
        .n_headers = head->n_headers,
        .headers = head->headers,
        .host = s3_header(call, "host") ? s3_header(call, "host") : "",
        .remote_addr = head->remote_addr ? head->remote_addr : "",
        .is_tls = head->is_tls,
        .region = call->settings->region,
        .now_ms = call->services->now_ms(),
    };
    const struct s3_plugins *plugins = call->s3->plugins;
    for (size_t i = 0; i < plugins->n_auth; i++) {
        const struct loaded_plugin *p = plugins->auth[i];
        if (!p || !p->desc->auth || !p->desc->auth->authenticate)
            continue;
        struct cairn_identity id;
        memset(&id, 0, sizeof(id));
        struct cairn_body_decoder *decoder = NULL;
        const char *detail = NULL;
        int rc = p->desc->auth->authenticate(p->state, &call->req, &http, &id, &decoder, &detail);
        if (rc == CAIRN_DECLINED) {
            if (decoder && decoder->destroy)
                decoder->destroy(decoder->state);
            continue;
        }
        if (rc < 0) {
            if (decoder && decoder->destroy)
                decoder->destroy(decoder->state);
            call->auth_detail = detail;
            return rc;
        }
        call->who = id;
        if (!call->who.access_key)
            call->who.access_key = "";
        if (!call->who.user)
            call->who.user = "";
        if (!call->who.parent)
            call->who.parent = "";
        if (!call->who.content_sha256)
            call->who.content_sha256 = "";
        call->decoder = decoder;
        return 0;
    }
    call->who = (struct cairn_identity){
        .access_key = "",
        .user = "",
        .parent = "",
        .is_anonymous = 1,
        .auth_type = CAIRN_AUTH_ANONYMOUS,
        .content_sha256 = "",
    };
    return 0;
}

/* Runs the routed operation; negative errors are rendered by the caller. */
static int s3_dispatch(struct s3_call *call)
{
    switch (call->op) {
    case S3_OP_HEALTH:
        return s3_respond_empty(call, 200, NULL, 0);
    case S3_OP_LIST_BUCKETS:
        return s3_op_list_buckets(call);
    case S3_OP_LIST_OBJECTS_V1:
    case S3_OP_LIST_OBJECTS_V2:
        return s3_op_list_objects(call);
    case S3_OP_LIST_OBJECT_VERSIONS:
        return s3_op_list_object_versions(call);
    case S3_OP_LIST_MULTIPART_UPLOADS:
        return s3_op_list_multipart_uploads(call);
    case S3_OP_DELETE_OBJECTS:
        return s3_op_delete_objects(call);
    case S3_OP_CREATE_MULTIPART_UPLOAD:
        return s3_op_create_multipart_upload(call);
    case S3_OP_UPLOAD_PART:
        return s3_op_upload_part(call);
    case S3_OP_UPLOAD_PART_COPY:
        return s3_op_upload_part_copy(call);
    case S3_OP_COMPLETE_MULTIPART_UPLOAD:
        return s3_op_complete_multipart_upload(call);
    case S3_OP_ABORT_MULTIPART_UPLOAD:
        return s3_op_abort_multipart_upload(call);
    case S3_OP_LIST_PARTS:
        return s3_op_list_parts(call);
    case S3_OP_PUT_OBJECT:
        return s3_op_put_object(call);
    case S3_OP_COPY_OBJECT:
        return s3_op_copy_object(call);
    case S3_OP_GET_OBJECT:
    case S3_OP_HEAD_OBJECT:
        return s3_op_get_object(call);
    case S3_OP_DELETE_OBJECT:
        return s3_op_delete_object(call);
    case S3_OP_GET_OBJECT_ATTRIBUTES:
        return s3_op_get_object_attributes(call);
    case S3_OP_GET_OBJECT_TAGGING:
    case S3_OP_PUT_OBJECT_TAGGING:
    case S3_OP_DELETE_OBJECT_TAGGING:
        return s3_op_object_tagging(call);
    case S3_OP_GET_OBJECT_ACL:
    case S3_OP_PUT_OBJECT_ACL:
        return s3_op_object_acl(call);
    case S3_OP_POST_OBJECT:
        return s3_op_post_object(call);
    case S3_OP_UNKNOWN:
        return CAIRN_E_NOT_IMPLEMENTED;
    default:
        return s3_op_bucket(call);
    }
}

/* Parses, routes, authenticates, authorizes and runs the call. */
static int s3_serve(struct s3_call *call)
{
    const struct http_request_head *head = call->head;
    call->bucket = "";
    call->key = "";
    if (s3_is_health_path(head->raw_path) &&
        (strcmp(head->method, "GET") == 0 || strcmp(head->method, "HEAD") == 0)) {
        call->op = S3_OP_HEALTH;
        return s3_dispatch(call);
    }

    char *bucket = NULL, *key = NULL;
    int rc = s3_parse_target(call->req.arena, head->raw_path, s3_header(call, "host"),
                             call->settings->domain, &bucket, &key);
    if (rc < 0)
        return rc;
    call->bucket = bucket;
    call->key = key;
    struct s3_param *params = NULL;
    size_t n_params = 0;
    rc = s3_parse_query(call->req.arena, head->raw_query, &params, &n_params);
    if (rc < 0)
        return rc;
    call->params = params;
    call->n_params = n_params;
    call->op = s3_route(head->method, bucket, key, params, n_params,
                        s3_header(call, "x-amz-copy-source") != NULL, NULL);

    rc = s3_authenticate(call);
    if (rc < 0)
        return rc;

    if (*bucket && !s3_bucket_name_valid(bucket))
        return CAIRN_E_INVALID_BUCKET_NAME;
    if (strlen(key) > S3_MAX_KEY_BYTES)
        return CAIRN_E_KEY_TOO_LONG;
    if (call->op == S3_OP_UNKNOWN)
        return CAIRN_E_NOT_IMPLEMENTED;

    /* Before authorization: a bucket policy lives on the bucket's backend. */
    rc = s3_placement_route(call);
    if (rc < 0)
        return rc;
    use_bucket_cache(call);

    rc = s3_authorize(call);
    if (rc < 0)
        return rc;
    return s3_dispatch(call);
}

/* Appends `s` to the line at *p, never past `end`. */
static void line_put(char **p, const char *end, const char *s)
{
    size_t n = strlen(s), room = (size_t)(end - *p);
    if (n > room)
        n = room;
    memcpy(*p, s, n);
    *p += n;
}

static void line_num(char **p, const char *end, long long v)
{
    char buf[24], *b = buf + sizeof(buf);
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    *--b = '\0';
    do {
        *--b = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--b = '-';
    line_put(p, end, b);
}

/* "GET /bucket/key GetObject 200 4096 0ms user [ErrorCode]", built by hand
 * (it is written for every request). */
static void access_log(struct s3_call *call, struct s3_call_ext *ext, int64_t ms)
{
    const struct http_request_head *head = call->head;
    char line[2048], *p = line;
    const char *end = line + sizeof(line) - 1;
    line_put(&p, end, head->method);
    line_put(&p, end, " ");
    line_put(&p, end, head->raw_path);
    line_put(&p, end, " ");
    line_put(&p, end, s3_op_name(call->op));
    line_put(&p, end, " ");
    line_num(&p, end, ext->status);
    line_put(&p, end, " ");
    line_num(&p, end, (long long)ext->bytes_out);
    line_put(&p, end, " ");
    line_num(&p, end, (long long)ms);
    line_put(&p, end, "ms ");
    line_put(&p, end, call->who.is_anonymous || !call->who.user || !*call->who.user
                          ? "-" : call->who.user);
    if (ext->error_code) {
        line_put(&p, end, " ");
        line_put(&p, end, ext->error_code);
    }
    core_log_access(&call->req, line, (size_t)(p - line));
}

void s3_server_handle(struct http_exchange *ex, void *arg)
{
    struct s3_server *s3 = arg;
    const struct cairn_services *sv = s3->services;
    int64_t start = sv->now_ms();
    const struct http_request_head *head = http_exchange_head(ex);
    struct arena *arena = arena_new();
    struct s3_call *call = arena ? arena_alloc(arena, sizeof(*call)) : NULL;
    struct s3_call_ext *ext = arena ? arena_alloc(arena, sizeof(*ext)) : NULL;
    if (!call || !ext) {
        arena_free(arena);
        http_exchange_respond(ex, 503, NULL, 0, 0);
        http_exchange_finish(ex);
        return;
    }
    call->s3 = s3;
    call->settings = s3->settings;
    call->services = sv;
    call->ex = ex;
    call->head = head;
    call->req.request_id = head->request_id ? head->request_id : "";
    call->req.arena = arena;
    call->req.read = s3_req_read_raw;
    call->req.write = s3_req_write;
    call->req.set_trailer = s3_req_set_trailer;
    call->req.owner = ext;
    ext->call = call;
    call->backend = s3->plugins->backend;
    call->be = call->backend->desc->backend;
    call->be_state = call->backend->state;
    use_bucket_cache(call);

    int rc = s3_serve(call);
    if (rc < 0 && !http_exchange_responded(ex))
        s3_error(call, rc, rc == CAIRN_E_NOT_IMPLEMENTED && call->op == S3_OP_UNKNOWN
                               ? "The requested operation is not implemented."
                               : NULL,
                 call->auth_detail);
    else if (!http_exchange_responded(ex))
        s3_error(call, CAIRN_E_INTERNAL, NULL, NULL); /* an operation that forgot to answer */

    /* One access-log line; never the query (presigned signatures live there). */
    access_log(call, ext, sv->now_ms() - start);

    s3_body_end(call);
    if (call->decoder && call->decoder->destroy)
        call->decoder->destroy(call->decoder->state);
    http_exchange_finish(ex);
    arena_free(arena);
}
