/*
 * test-s3-ops.c -- the S3 layer end to end in one process: s3_server_handle
 * driven through the fake HTTP exchange of fake-s3.c, with an in-memory backend,
 * a fake auth plugin ("authorization: root" / "user alice") and a fake policy
 * plugin that allows nothing (so only root and bucket owners get in).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "fake-s3.h"
#include "s3-internal.h"
#include "services.h"
#include "tap.h"

/* ---- in-memory backend ------------------------------------------------------ */

#define MAX_ITEMS 64

struct mem_object {
    char *bucket, *key;
    char *data;
    struct cairn_object_info info;
    struct cairn_kv attrs[32];
};

struct mem_config {
    char *bucket, *name, *data;
    size_t len;
};

struct mem_bucket {
    char *name, *owner;
};

static struct mem_backend {
    pthread_mutex_t mu;
    struct mem_bucket buckets[MAX_ITEMS];
    struct mem_object objects[MAX_ITEMS];
    struct mem_config configs[MAX_ITEMS];
    int64_t clock;
} mem = {.mu = PTHREAD_MUTEX_INITIALIZER, .clock = 1700000000000LL};

static struct mem_bucket *find_bucket(const char *name)
{
    for (int i = 0; i < MAX_ITEMS; i++)
        if (mem.buckets[i].name && strcmp(mem.buckets[i].name, name) == 0)
            return &mem.buckets[i];
    return NULL;
}

static struct mem_object *find_object(const char *bucket, const char *key)
{
    for (int i = 0; i < MAX_ITEMS; i++)
        if (mem.objects[i].bucket && strcmp(mem.objects[i].bucket, bucket) == 0 &&
            strcmp(mem.objects[i].key, key) == 0)
            return &mem.objects[i];
    return NULL;
}

static void free_object(struct mem_object *o)
{
    free(o->bucket);
    free(o->key);
    free(o->data);
    for (size_t i = 0; i < o->info.n_attrs; i++) {
        free((char *)o->attrs[i].name);
        free((char *)o->attrs[i].value);
    }
    memset(o, 0, sizeof(*o));
}

static void set_attrs(struct mem_object *o, size_t n, const struct cairn_kv *attrs, size_t n2,
                      const struct cairn_kv *attrs2)
{
    for (size_t i = 0; i < o->info.n_attrs; i++) {
        free((char *)o->attrs[i].name);
        free((char *)o->attrs[i].value);
    }
    size_t k = 0;
    for (size_t i = 0; i < n && k < 32; i++, k++)
        o->attrs[k] = (struct cairn_kv){strdup(attrs[i].name), strdup(attrs[i].value)};
    for (size_t i = 0; i < n2 && k < 32; i++, k++)
        o->attrs[k] = (struct cairn_kv){strdup(attrs2[i].name), strdup(attrs2[i].value)};
    o->info.n_attrs = k;
    o->info.attrs = o->attrs;
}

static int be_bucket_create(void *s, struct cairn_req *req, const struct cairn_bucket_info *b)
{
    pthread_mutex_lock(&mem.mu);
    int rc = CAIRN_E_BUCKET_EXISTS;
    if (!find_bucket(b->name))
        for (int i = 0; i < MAX_ITEMS; i++)
            if (!mem.buckets[i].name) {
                mem.buckets[i].name = strdup(b->name);
                mem.buckets[i].owner = strdup(b->owner);
                rc = 0;
                break;
            }
    pthread_mutex_unlock(&mem.mu);
    return rc;
}

static int be_bucket_delete(void *s, struct cairn_req *req, const char *bucket)
{
    struct mem_bucket *b = find_bucket(bucket);
    if (!b)
        return CAIRN_E_NO_SUCH_BUCKET;
    for (int i = 0; i < MAX_ITEMS; i++)
        if (mem.objects[i].bucket && strcmp(mem.objects[i].bucket, bucket) == 0)
            return CAIRN_E_BUCKET_NOT_EMPTY;
    for (int i = 0; i < MAX_ITEMS; i++)
        if (mem.configs[i].bucket && strcmp(mem.configs[i].bucket, bucket) == 0) {
            free(mem.configs[i].bucket);
            free(mem.configs[i].name);
            free(mem.configs[i].data);
            memset(&mem.configs[i], 0, sizeof(mem.configs[i]));
        }
    free(b->name);
    free(b->owner);
    memset(b, 0, sizeof(*b));
    return 0;
}

static int be_bucket_head(void *s, struct cairn_req *req, const char *bucket,
                          struct cairn_bucket_info *info_r)
{
    struct mem_bucket *b = find_bucket(bucket);
    if (!b)
        return CAIRN_E_NO_SUCH_BUCKET;
    info_r->name = core_services()->req_strdup(req, b->name);
    info_r->owner = core_services()->req_strdup(req, b->owner);
    info_r->created_ms = 1;
    return 0;
}

static struct mem_config *find_config(const char *bucket, const char *name)
{
    for (int i = 0; i < MAX_ITEMS; i++)
        if (mem.configs[i].bucket && strcmp(mem.configs[i].bucket, bucket) == 0 &&
            strcmp(mem.configs[i].name, name) == 0)
            return &mem.configs[i];
    return NULL;
}

static int be_config_get(void *s, struct cairn_req *req, const char *bucket, const char *name,
                         char **data_r, size_t *len_r)
{
    if (!find_bucket(bucket))
        return CAIRN_E_NO_SUCH_BUCKET;
    struct mem_config *c = find_config(bucket, name);
    if (!c)
        return CAIRN_E_NO_SUCH_CONFIG;
    *data_r = core_services()->req_alloc(req, c->len + 1);
    memcpy(*data_r, c->data, c->len);
    *len_r = c->len;
    return 0;
}

static int be_config_put(void *s, struct cairn_req *req, const char *bucket, const char *name,
                         const void *data, size_t len)
{
    if (!find_bucket(bucket))
        return CAIRN_E_NO_SUCH_BUCKET;
    struct mem_config *c = find_config(bucket, name);
    for (int i = 0; !c && i < MAX_ITEMS; i++)
        if (!mem.configs[i].bucket) {
            c = &mem.configs[i];
            c->bucket = strdup(bucket);
            c->name = strdup(name);
        }
    free(c->data);
    c->data = malloc(len + 1);
    memcpy(c->data, data, len);
    c->len = len;
    return 0;
}

static int be_config_delete(void *s, struct cairn_req *req, const char *bucket, const char *name)
{
    struct mem_config *c = find_config(bucket, name);
    if (c) {
        free(c->bucket);
        free(c->name);
        free(c->data);
        memset(c, 0, sizeof(*c));
    }
    return 0;
}

static int be_object_put(void *s, struct cairn_req *req, const struct cairn_put *put,
                         struct cairn_object_info *info_r)
{
    if (!find_bucket(put->bucket))
        return CAIRN_E_NO_SUCH_BUCKET;
    size_t cap = 1024, len = 0;
    char *data = malloc(cap);
    for (;;) {
        if (len == cap)
            data = realloc(data, cap *= 2);
        ssize_t n = core_services()->body_read(req, data + len, cap - len);
        if (n < 0) {
            free(data);
            return (int)n; /* aborted: nothing stored */
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    pthread_mutex_lock(&mem.mu);
    struct mem_object *o = find_object(put->bucket, put->key);
    if (o)
        free_object(o);
    for (int i = 0; !o && i < MAX_ITEMS; i++)
        if (!mem.objects[i].bucket)
            o = &mem.objects[i];
    o->bucket = strdup(put->bucket);
    o->key = strdup(put->key);
    o->data = data;
    o->info.size = put->final->size;
    o->info.mtime_ms = mem.clock += 1000;
    memcpy(o->info.etag, put->final->etag, sizeof(o->info.etag));
    o->info.is_latest = 1;
    set_attrs(o, put->n_attrs, put->attrs, put->final->n_attrs, put->final->attrs);
    *info_r = o->info;
    info_r->n_attrs = 0;
    info_r->attrs = NULL;
    pthread_mutex_unlock(&mem.mu);
    return 0;
}

static int be_object_get(void *s, struct cairn_req *req, const struct cairn_get *get)
{
    pthread_mutex_lock(&mem.mu); /* the copy thread reads while the main thread writes */
    struct mem_object *o = find_object(get->bucket, get->key);
    if (!find_bucket(get->bucket) || !o) {
        pthread_mutex_unlock(&mem.mu);
        return find_bucket(get->bucket) ? CAIRN_E_NO_SUCH_KEY : CAIRN_E_NO_SUCH_BUCKET;
    }
    struct cairn_object_info info = o->info;
    char *data = malloc(o->info.size + 1);
    memcpy(data, o->data, o->info.size);
    pthread_mutex_unlock(&mem.mu);
    uint64_t off = 0, len = 0;
    int rc = get->decide(get->ctx, &info, &off, &len);
    if (rc == 0 && len > 0) {
        /* write in two pieces */
        uint64_t half = len / 2;
        rc = core_services()->body_write(req, data + off, half);
        if (rc == 0)
            rc = core_services()->body_write(req, data + off + half, len - half);
    }
    free(data);
    return rc < 0 ? rc : 0;
}

static int be_object_delete(void *s, struct cairn_req *req, const char *bucket, const char *key,
                            const char *version_id, enum cairn_versioning versioning,
                            struct cairn_object_info *info_r)
{
    if (!find_bucket(bucket))
        return CAIRN_E_NO_SUCH_BUCKET;
    struct mem_object *o = find_object(bucket, key);
    if (o)
        free_object(o);
    return 0;
}

static int be_object_set_attrs(void *s, struct cairn_req *req, const char *bucket,
                               const char *key, const char *version_id, size_t n_attrs,
                               const struct cairn_kv *attrs)
{
    struct mem_object *o = find_object(bucket, key);
    if (!o)
        return CAIRN_E_NO_SUCH_KEY;
    struct cairn_kv copy[32];
    size_t n = n_attrs < 32 ? n_attrs : 32;
    for (size_t i = 0; i < n; i++)
        copy[i] = (struct cairn_kv){strdup(attrs[i].name), strdup(attrs[i].value)};
    set_attrs(o, n, copy, 0, NULL);
    for (size_t i = 0; i < n; i++) {
        free((char *)copy[i].name);
        free((char *)copy[i].value);
    }
    return 0;
}

static const struct cairn_backend_ops mem_ops = {
    .size = sizeof(struct cairn_backend_ops),
    .bucket_create = be_bucket_create,
    .bucket_delete = be_bucket_delete,
    .bucket_head = be_bucket_head,
    .bucket_config_get = be_config_get,
    .bucket_config_put = be_config_put,
    .bucket_config_delete = be_config_delete,
    .object_put = be_object_put,
    .object_get = be_object_get,
    .object_delete = be_object_delete,
    .object_set_attrs = be_object_set_attrs,
};

/* ---- fake auth and policy plugins --------------------------------------------- */

static int fake_auth(void *state, struct cairn_req *req, const struct cairn_http_request *http,
                     struct cairn_identity *id_r, struct cairn_body_decoder **decoder_r,
                     const char **detail_r)
{
    const char *a = NULL;
    for (size_t i = 0; i < http->n_headers; i++)
        if (strcmp(http->headers[i].name, "authorization") == 0)
            a = http->headers[i].value;
    if (!a)
        return CAIRN_DECLINED;
    if (strcmp(a, "root") == 0) {
        *id_r = (struct cairn_identity){.access_key = "rootkey", .user = "rootkey", .is_root = 1,
                                        .auth_type = CAIRN_AUTH_HEADER, .signature_version = 4};
        return 0;
    }
    if (strcmp(a, "alice") == 0) {
        *id_r = (struct cairn_identity){.access_key = "alice", .user = "alice",
                                        .auth_type = CAIRN_AUTH_HEADER, .signature_version = 4};
        return 0;
    }
    *detail_r = "<StringToSign>x&amp;y</StringToSign>";
    return CAIRN_E_SIGNATURE_MISMATCH;
}

static const struct cairn_auth_ops fake_auth_ops = {.size = sizeof(struct cairn_auth_ops),
                                                    .authenticate = fake_auth};

static int fake_validate(void *state, const char *json, size_t len, int is_bucket_policy,
                         char *reason_r, size_t cap)
{
    if (len < 2 || json[0] != '{') {
        snprintf(reason_r, cap, "not a JSON object");
        return CAIRN_E_MALFORMED_POLICY;
    }
    return 0;
}

/* What the policy plugin was last asked. */
static char last_action[64], last_resource[256], last_context[2048];

static int fake_evaluate(void *state, struct cairn_req *req, const struct cairn_policy_query *q,
                         char *explain, size_t cap)
{
    snprintf(last_action, sizeof(last_action), "%s", q->action);
    snprintf(last_resource, sizeof(last_resource), "%s", q->resource);
    size_t o = 0;
    last_context[0] = '\0';
    for (size_t i = 0; i < q->n_context && o < sizeof(last_context); i++)
        o += (size_t)snprintf(last_context + o, sizeof(last_context) - o, "%s=%s;",
                              q->context[i].name, q->context[i].value);
    /* A bucket policy containing "public-read" lets anyone GetObject. */
    if (q->bucket_policy && strstr(q->bucket_policy, "public-read") &&
        strcmp(q->action, "s3:GetObject") == 0)
        return CAIRN_ALLOW;
    return CAIRN_NO_OPINION;
}

static const struct cairn_policy_ops fake_policy_ops = {sizeof(struct cairn_policy_ops),
                                                        fake_validate, fake_evaluate};

/* ---- request driver ----------------------------------------------------------------- */

static struct s3_server *server;

/* Runs one request: method, target ("/b/k?x"), body, then header pairs, NULL-terminated. */
static struct http_exchange *run(const char *method, const char *target, const char *body, ...)
{
    struct http_exchange *ex = fake_exchange_new(method, target, body, "00000000000000AB");
    fake_exchange_add_header(ex, "host", "127.0.0.1:19300");
    va_list ap;
    va_start(ap, body);
    fake_exchange_add_headers(ex, ap);
    va_end(ap);
    s3_server_handle(ex, server);
    return ex;
}

#define ROOT "authorization", "root"
#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

/* Checks status and (when code is set) the S3 error code; frees ex. */
static void expect(struct http_exchange *ex, int status, const char *code, const char *what)
{
    int code_ok = !code || (has(ex, "<Code>") && has(ex, code));
    ok(ex->status == status && code_ok && ex->finished == 1, "%s -> %d %s (got %d: %.200s)", what,
       status, code ? code : "", ex->status, ex->resp_body);
    exchange_free(ex);
}

static void test_health_and_errors(void)
{
    expect(run("GET", "/minio/health/live", NULL, NULL), 200, NULL, "health live, anonymous");
    expect(run("HEAD", "/minio/health/ready", NULL, NULL), 200, NULL, "health ready");

    struct http_exchange *ex = run("PUT", "/Bad_Bucket", NULL, ROOT, NULL);
    is_int(ex->status, 400, "invalid bucket name status");
    is_str(ex->resp_body,
           XML_DECL "<Error><Code>InvalidBucketName</Code><Message>The specified bucket is not "
                    "valid.</Message><BucketName>Bad_Bucket</BucketName><Resource>/Bad_Bucket"
                    "</Resource><RequestId>00000000000000AB</RequestId><HostId>cairn-"
                    "00000000000000AB</HostId></Error>",
           "error XML is exactly S3's shape");
    is_str(resp_header(ex, "content-type"), "application/xml", "error content type");
    is_str(resp_header(ex, "x-amz-request-id"), "00000000000000AB", "request id header");
    ok(resp_header(ex, "x-amz-id-2") != NULL, "x-amz-id-2 header");
    exchange_free(ex);

    expect(run("GET", "/", NULL, "authorization", "bogus", NULL), 403, "SignatureDoesNotMatch",
           "bad signature");
    ex = run("GET", "/abc", NULL, "authorization", "bogus", NULL);
    ok(has(ex, "<StringToSign>x&amp;y</StringToSign>"), "auth detail in the error XML");
    exchange_free(ex);
    expect(run("PUT", "/abc?cors", "<x/>", ROOT, NULL), 501, "NotImplemented", "PutBucketCors");
    expect(run("GET", "/abc", NULL, NULL), 403, "AccessDenied", "anonymous list");
    char longkey[1100] = "/abc/";
    memset(longkey + 5, 'k', 1025);
    longkey[1030] = '\0';
    expect(run("GET", longkey, NULL, ROOT, NULL), 400, "KeyTooLongError", "key over 1024 bytes");
    expect(run("GET", "/abc/x%zz", NULL, ROOT, NULL), 400, "InvalidURI", "bad escape");
}

static void test_buckets(void)
{
    expect(run("PUT", "/abc", NULL, ROOT, NULL), 200, NULL, "create bucket");
    expect(run("PUT", "/abc", NULL, ROOT, NULL), 409, "BucketAlreadyOwnedByYou", "create again");
    expect(run("PUT", "/abc", NULL, "authorization", "alice", NULL), 403, "AccessDenied",
           "alice may not create (no policy allows)");
    expect(run("PUT", "/xyz",
               "<CreateBucketConfiguration><LocationConstraint>eu-west-9</LocationConstraint>"
               "</CreateBucketConfiguration>",
               ROOT, NULL),
           400, "InvalidLocationConstraint", "foreign region");
    expect(run("PUT", "/xyz",
               "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
               "<LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>",
               ROOT, NULL),
           200, NULL, "our region");

    struct http_exchange *ex = run("HEAD", "/abc", NULL, ROOT, NULL);
    is_int(ex->status, 200, "head bucket");
    is_str(resp_header(ex, "x-amz-bucket-region"), "us-east-1", "bucket region header");
    exchange_free(ex);
    ex = run("HEAD", "/nope", NULL, ROOT, NULL);
    is_int(ex->status, 404, "head missing bucket");
    is_int(ex->resp_len, 0, "HEAD error has no body");
    exchange_free(ex);

    ex = run("GET", "/abc?location", NULL, ROOT, NULL);
    is_str(ex->resp_body,
           XML_DECL "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    "</LocationConstraint>",
           "location is empty for us-east-1");
    exchange_free(ex);
    ex = run("GET", "/abc?versioning", NULL, ROOT, NULL);
    is_str(ex->resp_body,
           XML_DECL "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    "</VersioningConfiguration>",
           "versioning never set");
    exchange_free(ex);
    expect(run("PUT", "/abc?versioning",
               "<VersioningConfiguration><Status>Bogus</Status></VersioningConfiguration>", ROOT,
               NULL),
           400, "MalformedXML", "bad versioning status");
    expect(run("PUT", "/xyz?versioning",
               "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>", ROOT,
               NULL),
           200, NULL, "enable versioning");
    ex = run("GET", "/xyz?versioning", NULL, ROOT, NULL);
    ok(has(ex, "<Status>Enabled</Status>"), "versioning reads back Enabled");
    exchange_free(ex);

    expect(run("GET", "/abc?policy", NULL, ROOT, NULL), 404, "NoSuchBucketPolicy", "no policy");
    expect(run("GET", "/abc?policyStatus", NULL, ROOT, NULL), 404, "NoSuchBucketPolicy",
           "no policy status");
    expect(run("GET", "/abc?tagging", NULL, ROOT, NULL), 404, "NoSuchTagSet", "no tags");
    expect(run("GET", "/abc?lifecycle", NULL, ROOT, NULL), 404, "NoSuchLifecycleConfiguration",
           "no lifecycle");
    expect(run("GET", "/abc?cors", NULL, ROOT, NULL), 404, "NoSuchCORSConfiguration", "no cors");
    expect(run("GET", "/abc?encryption", NULL, ROOT, NULL), 404,
           "ServerSideEncryptionConfigurationNotFoundError", "no encryption");
    expect(run("GET", "/abc?object-lock", NULL, ROOT, NULL), 404,
           "ObjectLockConfigurationNotFoundError", "no object lock");
    expect(run("GET", "/abc?website", NULL, ROOT, NULL), 404, "NoSuchWebsiteConfiguration",
           "no website");
    expect(run("GET", "/abc?logging", NULL, ROOT, NULL), 200, NULL, "logging answers empty");
    expect(run("GET", "/nope?cors", NULL, ROOT, NULL), 404, "NoSuchBucket", "config of a missing bucket");

    expect(run("PUT", "/abc?policy", "not json", ROOT, NULL), 400, "MalformedPolicy",
           "malformed policy");
    expect(run("PUT", "/abc?policy", "{\"public-read\":1}", ROOT, NULL), 204, NULL, "put policy");
    ex = run("GET", "/abc?policy", NULL, ROOT, NULL);
    is_str(ex->resp_body, "{\"public-read\":1}", "policy reads back as stored");
    exchange_free(ex);

    expect(run("PUT", "/abc?tagging",
               "<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>",
               ROOT, NULL),
           200, NULL, "put bucket tagging");
    ex = run("GET", "/abc?tagging", NULL, ROOT, NULL);
    ok(has(ex, "<Key>k</Key>"), "bucket tags read back");
    exchange_free(ex);
    expect(run("DELETE", "/abc?tagging", NULL, ROOT, NULL), 204, NULL, "delete bucket tagging");
    expect(run("GET", "/abc?tagging", NULL, ROOT, NULL), 404, "NoSuchTagSet", "tags gone");

    ex = run("GET", "/abc?acl", NULL, ROOT, NULL);
    ok(ex->status == 200 && has(ex, "<Permission>FULL_CONTROL</Permission>") &&
           has(ex, "<ID>rootkey</ID>"),
       "bucket ACL: owner FULL_CONTROL");
    exchange_free(ex);
    expect(run("PUT", "/abc?acl", NULL, ROOT, "x-amz-acl", "private", NULL), 200, NULL,
           "canned bucket ACL accepted");
    expect(run("PUT", "/abc?acl", NULL, ROOT, "x-amz-acl", "bogus", NULL), 400, "InvalidArgument",
           "unknown canned ACL");
}

static void test_objects(void)
{
    struct http_exchange *ex;
    ex = run("PUT", "/abc/dir/hello%20w+rld.txt", "hello world", ROOT, "content-type",
             "text/plain", "x-amz-meta-color", "Blue  two", "content-md5",
             "XrY7u+Ae7tCTyyK7j1rNww==", "x-amz-checksum-crc32", "DUoRhQ==", "cache-control",
             "no-cache", "x-amz-tagging", "a=1&b=2", NULL);
    is_int(ex->status, 200, "put object");
    is_str(resp_header(ex, "etag"), "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"", "put ETag quoted MD5");
    is_str(resp_header(ex, "x-amz-checksum-crc32"), "DUoRhQ==", "checksum echoed");
    exchange_free(ex);

    expect(run("PUT", "/abc/bad", "hello world", ROOT, "content-md5", "AAAAAAAAAAAAAAAAAAAAAA==",
               NULL),
           400, "BadDigest", "Content-MD5 mismatch");
    expect(run("GET", "/abc/bad", NULL, ROOT, NULL), 404, "NoSuchKey", "a failed PUT leaves nothing");
    expect(run("PUT", "/abc/bad", "hello world", ROOT, "content-md5", "zzz", NULL), 400,
           "InvalidDigest", "malformed Content-MD5");
    expect(run("PUT", "/abc/bad", "hello world", ROOT, "x-amz-checksum-crc32", "AAAAAA==", NULL),
           400, "BadDigest", "crc32 mismatch");
    expect(run("PUT", "/abc/bad", "x", ROOT, "x-amz-tagging", "a=1&a=2", NULL), 400, "InvalidTag",
           "duplicate tag keys");
    expect(run("PUT", "/nope/k", "x", ROOT, NULL), 404, "NoSuchBucket", "put into missing bucket");

    ex = run("GET", "/abc/dir/hello%20w+rld.txt", NULL, ROOT, NULL);
    is_int(ex->status, 200, "get object");
    is_str(ex->resp_body, "hello world", "get body");
    is_str(resp_header(ex, "content-type"), "text/plain", "content-type kept");
    is_str(resp_header(ex, "x-amz-meta-color"), "Blue  two", "metadata byte for byte");
    is_str(resp_header(ex, "cache-control"), "no-cache", "cache-control kept");
    is_str(resp_header(ex, "accept-ranges"), "bytes", "accept-ranges");
    is_str(resp_header(ex, "x-amz-tagging-count"), "2", "tag count");
    is_str(resp_header(ex, "last-modified"), "Tue, 14 Nov 2023 22:13:21 GMT", "RFC 1123 date");
    ok(resp_header(ex, "x-amz-checksum-crc32") == NULL, "no checksum without checksum mode");
    is_int(ex->resp_content_length, 11, "content length");
    exchange_free(ex);

    ex = run("GET", "/abc/dir/hello%20w+rld.txt", NULL, ROOT, "x-amz-checksum-mode", "ENABLED",
             NULL);
    is_str(resp_header(ex, "x-amz-checksum-crc32"), "DUoRhQ==", "checksum mode returns it");
    exchange_free(ex);

    ex = run("GET", "/abc/dir/hello%20w+rld.txt?response-content-type=a%2Fb&response-cache-control=x",
             NULL, ROOT, NULL);
    is_str(resp_header(ex, "content-type"), "a/b", "response-content-type override");
    is_str(resp_header(ex, "cache-control"), "x", "response-cache-control override");
    exchange_free(ex);

    ex = run("GET", "/abc/dir/hello%20w+rld.txt", NULL, ROOT, "range", "bytes=6-", NULL);
    is_int(ex->status, 206, "range status");
    is_str(ex->resp_body, "world", "range body");
    is_str(resp_header(ex, "content-range"), "bytes 6-10/11", "content-range");
    exchange_free(ex);
    ex = run("GET", "/abc/dir/hello%20w+rld.txt", NULL, ROOT, "range", "bytes=-3", NULL);
    is_str(ex->resp_body, "rld", "suffix range body");
    exchange_free(ex);
    ex = run("GET", "/abc/dir/hello%20w+rld.txt", NULL, ROOT, "range", "bytes=20-30", NULL);
    is_int(ex->status, 416, "unsatisfiable range");
    ok(has(ex, "<Code>InvalidRange</Code>"), "InvalidRange code");
    is_str(resp_header(ex, "content-range"), "bytes */11", "416 content-range");
    exchange_free(ex);
    ex = run("GET", "/abc/dir/hello%20w+rld.txt?partNumber=1", NULL, ROOT, NULL);
    is_int(ex->status, 206, "partNumber=1 of a single-part object");
    is_str(ex->resp_body, "hello world", "part 1 is the whole object");
    exchange_free(ex);
    expect(run("GET", "/abc/dir/hello%20w+rld.txt?partNumber=2", NULL, ROOT, NULL), 416,
           "InvalidPartNumber", "partNumber=2 of a single-part object");

    ex = run("GET", "/abc/dir/hello%20w+rld.txt", NULL, ROOT, "if-none-match",
             "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"", NULL);
    is_int(ex->status, 304, "If-None-Match -> 304");
    is_int(ex->resp_len, 0, "304 has no body");
    ok(resp_header(ex, "etag") != NULL, "304 carries the ETag");
    exchange_free(ex);
    expect(run("GET", "/abc/dir/hello%20w+rld.txt", NULL, ROOT, "if-match", "\"nope\"", NULL), 412,
           "PreconditionFailed", "If-Match mismatch -> 412");
    ex = run("HEAD", "/abc/dir/hello%20w+rld.txt", NULL, ROOT, NULL);
    ok(ex->status == 200 && ex->resp_len == 0 && ex->resp_content_length == 11,
       "HEAD: 200, Content-Length 11, no body");
    exchange_free(ex);
    ex = run("HEAD", "/abc/missing", NULL, ROOT, NULL);
    ok(ex->status == 404 && ex->resp_len == 0, "HEAD of a missing key: 404 without body");
    exchange_free(ex);

    /* anonymous read allowed by the bucket policy set in test_buckets */
    expect(run("GET", "/abc/dir/hello%20w+rld.txt", NULL, NULL), 200, NULL,
           "anonymous GetObject allowed by bucket policy");
    expect(run("PUT", "/abc/anon", "x", NULL), 403, "AccessDenied", "anonymous PutObject denied");

    /* object tagging */
    ex = run("GET", "/abc/dir/hello%20w+rld.txt?tagging", NULL, ROOT, NULL);
    ok(ex->status == 200 && has(ex, "<Tag><Key>a</Key><Value>1</Value></Tag>"),
       "tags from x-amz-tagging");
    exchange_free(ex);
    expect(run("PUT", "/abc/dir/hello%20w+rld.txt?tagging",
               "<Tagging><TagSet><Tag><Key>k 1</Key><Value>v&amp;x</Value></Tag></TagSet>"
               "</Tagging>",
               ROOT, NULL),
           200, NULL, "put object tagging");
    ex = run("GET", "/abc/dir/hello%20w+rld.txt?tagging", NULL, ROOT, NULL);
    ok(has(ex, "<Key>k 1</Key><Value>v&amp;x</Value>") && !has(ex, "<Key>a</Key>"),
       "tags replaced");
    exchange_free(ex);
    ex = run("GET", "/abc/dir/hello%20w+rld.txt", NULL, ROOT, NULL);
    is_str(resp_header(ex, "x-amz-meta-color"), "Blue  two", "tagging keeps metadata");
    exchange_free(ex);
    expect(run("DELETE", "/abc/dir/hello%20w+rld.txt?tagging", NULL, ROOT, NULL), 204, NULL,
           "delete object tagging");
    ex = run("GET", "/abc/dir/hello%20w+rld.txt?tagging", NULL, ROOT, NULL);
    ok(has(ex, "<TagSet></TagSet>"), "no tags left");
    exchange_free(ex);

    ex = run("GET", "/abc/dir/hello%20w+rld.txt?acl", NULL, ROOT, NULL);
    ok(ex->status == 200 && has(ex, "FULL_CONTROL"), "object ACL");
    exchange_free(ex);
    ex = run("GET", "/abc/dir/hello%20w+rld.txt?attributes", NULL, ROOT, "x-amz-object-attributes",
             "ETag,ObjectSize,StorageClass,Checksum", NULL);
    ok(ex->status == 200 && has(ex, "<ETag>5eb63bbbe01eeed093cb22bb8f5acdc3</ETag>") &&
           has(ex, "<ObjectSize>11</ObjectSize>") && has(ex, "<ChecksumCRC32>DUoRhQ==</ChecksumCRC32>"),
       "object attributes (%s)", ex->resp_body);
    exchange_free(ex);

    /* copy */
    ex = run("PUT", "/abc/copy", NULL, ROOT, "x-amz-copy-source", "abc/dir/hello%20w%2Brld.txt",
             NULL);
    ok(ex->status == 200 && has(ex, "<ETag>&quot;5eb63bbbe01eeed093cb22bb8f5acdc3&quot;</ETag>"),
       "copy object (%s)", ex->resp_body);
    exchange_free(ex);
    ex = run("GET", "/abc/copy", NULL, ROOT, NULL);
    ok(ex->status == 200 && strcmp(ex->resp_body, "hello world") == 0, "copied bytes");
    is_str(resp_header(ex, "x-amz-meta-color"), "Blue  two", "COPY keeps metadata");
    exchange_free(ex);
    expect(run("PUT", "/abc/copy", NULL, ROOT, "x-amz-copy-source", "/abc/copy", NULL), 400,
           "InvalidRequest", "copy onto itself without REPLACE");
    expect(run("PUT", "/abc/copy", NULL, ROOT, "x-amz-copy-source", "/abc/copy",
               "x-amz-metadata-directive", "REPLACE", "x-amz-meta-new", "1", NULL),
           200, NULL, "copy onto itself with REPLACE");
    ex = run("GET", "/abc/copy", NULL, ROOT, NULL);
    ok(resp_header(ex, "x-amz-meta-new") && !resp_header(ex, "x-amz-meta-color"),
       "REPLACE replaced metadata");
    is_str(ex->resp_body, "hello world", "data intact after self-copy");
    exchange_free(ex);
    expect(run("PUT", "/abc/c2", NULL, ROOT, "x-amz-copy-source", "/abc/missing", NULL), 404,
           "NoSuchKey", "copy of a missing source");
    expect(run("PUT", "/abc/c2", NULL, ROOT, "x-amz-copy-source", "/abc/copy",
               "x-amz-copy-source-if-match", "\"nope\"", NULL),
           412, "PreconditionFailed", "copy-source-if-match");

    expect(run("DELETE", "/abc", NULL, ROOT, NULL), 409, "BucketNotEmpty", "delete non-empty bucket");
    expect(run("DELETE", "/abc/copy", NULL, ROOT, NULL), 204, NULL, "delete object");
    expect(run("DELETE", "/abc/copy", NULL, ROOT, NULL), 204, NULL, "delete absent object");
    expect(run("DELETE", "/abc/dir/hello%20w+rld.txt", NULL, ROOT, NULL), 204, NULL, "delete object 2");
    expect(run("DELETE", "/abc", NULL, ROOT, NULL), 204, NULL, "delete empty bucket");
    expect(run("DELETE", "/xyz", NULL, ROOT, NULL), 204, NULL, "delete second bucket");
}

static void test_owner_rule(void)
{
    /* alice owns a bucket created behind the API: allowed without a policy. */
    struct cairn_bucket_info b = {"alices", 1, "alice"};
    be_bucket_create(NULL, NULL, &b);
    expect(run("PUT", "/alices/k", "data", "authorization", "alice", NULL), 200, NULL,
           "bucket owner may put");
    expect(run("GET", "/alices/k", NULL, "authorization", "alice", NULL), 200, NULL,
           "bucket owner may get");
    expect(run("PUT", "/alices", NULL, "authorization", "alice", NULL), 409,
           "BucketAlreadyOwnedByYou", "the owner re-creating its bucket");
    expect(run("PUT", "/others", NULL, "authorization", "alice", NULL), 403, "AccessDenied",
           "ownership of one bucket gives no CreateBucket");
    expect(run("GET", "/alices/k", NULL, NULL), 403, "AccessDenied", "anonymous denied");
    expect(run("DELETE", "/alices/k", NULL, "authorization", "alice", NULL), 204, NULL,
           "owner deletes");
    expect(run("DELETE", "/alices", NULL, "authorization", "alice", NULL), 204, NULL,
           "owner deletes the bucket");
}

/* A copy larger than the copy pipe (1 MiB) streams through it with backpressure. */
static void test_big_copy(void)
{
    size_t size = 3 * 1024 * 1024 + 17;
    char *big = malloc(size + 1);
    for (size_t i = 0; i < size; i++)
        big[i] = (char)('a' + (i * 7 + i / 4096) % 26);
    big[size] = '\0';
    expect(run("PUT", "/bigb", NULL, ROOT, NULL), 200, NULL, "bucket for the big copy");
    expect(run("PUT", "/bigb/src", big, ROOT, NULL), 200, NULL, "put 3 MiB");
    struct http_exchange *ex = run("PUT", "/bigb/dst", NULL, ROOT, "x-amz-copy-source", "bigb/src",
                                   "x-amz-checksum-algorithm", "SHA256", NULL);
    ok(ex->status == 200 && has(ex, "<ChecksumSHA256>"), "copy 3 MiB (%s)", ex->resp_body);
    exchange_free(ex);
    struct mem_object *dst = find_object("bigb", "dst");
    ok(dst && dst->info.size == size && memcmp(dst->data, big, size) == 0,
       "copied bytes are identical");
    struct mem_object *src = find_object("bigb", "src");
    ok(src && dst && strcmp(src->info.etag, dst->info.etag) == 0, "same ETag");
    expect(run("PUT", "/bigb/dst2", NULL, ROOT, "x-amz-copy-source", "bigb/src",
               "x-amz-copy-source-if-none-match", "*", NULL),
           412, "PreconditionFailed", "copy-source-if-none-match: * fails");
    ok(find_object("bigb", "dst2") == NULL, "a refused copy stores nothing");
    expect(run("DELETE", "/bigb/src", NULL, ROOT, NULL), 204, NULL, "cleanup src");
    expect(run("DELETE", "/bigb/dst", NULL, ROOT, NULL), 204, NULL, "cleanup dst");
    expect(run("DELETE", "/bigb", NULL, ROOT, NULL), 204, NULL, "cleanup bucket");
    free(big);
}

static void test_authz_query(void)
{
    struct cairn_bucket_info b = {"authz", 1, "rootkey"};
    be_bucket_create(NULL, NULL, &b);
    struct {
        const char *method, *target, *action, *resource;
    } cases[] = {
        {"GET", "/authz/k", "s3:GetObject", "arn:aws:s3:::authz/k"},
        {"GET", "/authz/k?versionId=v1", "s3:GetObjectVersion", "arn:aws:s3:::authz/k"},
        {"HEAD", "/authz/a%20b", "s3:GetObject", "arn:aws:s3:::authz/a b"},
        {"DELETE", "/authz/k?versionId=v1", "s3:DeleteObjectVersion", "arn:aws:s3:::authz/k"},
        {"PUT", "/authz/k?tagging", "s3:PutObjectTagging", "arn:aws:s3:::authz/k"},
        {"HEAD", "/authz", "s3:ListBucket", "arn:aws:s3:::authz"},
        {"GET", "/authz?location", "s3:GetBucketLocation", "arn:aws:s3:::authz"},
        {"GET", "/authz?list-type=2&prefix=p%2F&delimiter=%2F", "s3:ListBucket", "arn:aws:s3:::authz"},
        {"GET", "/", "s3:ListAllMyBuckets", "*"},
        /* POST ?delete asks per key (s3-delete-many.c); tests/e2e/t-s3-api.py */
        {"PUT", "/authz/k?partNumber=1&uploadId=u", "s3:PutObject", "arn:aws:s3:::authz/k"},
        {"GET", "/authz/k?uploadId=u", "s3:ListMultipartUploadParts", "arn:aws:s3:::authz/k"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        last_action[0] = last_resource[0] = '\0';
        struct http_exchange *ex = run(cases[i].method, cases[i].target, NULL, "authorization",
                                       "alice", "user-agent", "tester/1", NULL);
        ok(ex->status == 403 && strcmp(last_action, cases[i].action) == 0 &&
               strcmp(last_resource, cases[i].resource) == 0,
           "%s %s asks %s on %s (got %d, %s on %s)", cases[i].method, cases[i].target,
           cases[i].action, cases[i].resource, ex->status, last_action, last_resource);
        exchange_free(ex);
    }
    struct http_exchange *ex = run("GET", "/authz?prefix=p%2F&delimiter=%2F&max-keys=5", NULL,
                                   "authorization", "alice", "user-agent", "tester/1", NULL);
    ok(strstr(last_context, "aws:SourceIp=127.0.0.1;") != NULL, "context: aws:SourceIp");
    ok(strstr(last_context, "aws:SecureTransport=false;") != NULL, "context: aws:SecureTransport");
    ok(strstr(last_context, "aws:UserAgent=tester/1;") != NULL, "context: aws:UserAgent");
    ok(strstr(last_context, "aws:username=alice;") != NULL, "context: aws:username");
    ok(strstr(last_context, "s3:prefix=p/;") != NULL, "context: s3:prefix decoded");
    ok(strstr(last_context, "s3:delimiter=/;") != NULL, "context: s3:delimiter");
    ok(strstr(last_context, "s3:max-keys=5;") != NULL, "context: s3:max-keys");
    ok(strstr(last_context, "s3:signatureversion=AWS4-HMAC-SHA256;") != NULL,
       "context: s3:signatureversion");
    ok(strstr(last_context, "s3:authType=REST-HEADER;") != NULL, "context: s3:authType");
    ok(strstr(last_context, "aws:CurrentTime=") != NULL && strstr(last_context, "aws:EpochTime="),
       "context: time keys");
    exchange_free(ex);
    ex = run("PUT", "/authz/k", "x", "authorization", "alice", "x-amz-tagging", "team=a%20b",
             "x-amz-acl", "private", NULL);
    ok(strstr(last_context, "s3:RequestObjectTag/team=a b;") != NULL,
       "context: s3:RequestObjectTag/<key> (%s)", last_context);
    ok(strstr(last_context, "s3:x-amz-acl=private;") != NULL, "context: s3:x-amz-acl");
    exchange_free(ex);
    be_bucket_delete(NULL, NULL, "authz");
}

int main(void)
{
    core_log_set_level(CAIRN_LOG_WARN);
    server = fake_s3_server_new(&mem_ops, &fake_auth_ops, &fake_policy_ops);
    ok(server != NULL, "server made");
    test_health_and_errors();
    test_buckets();
    test_objects();
    test_owner_rule();
    test_authz_query();
    test_big_copy();
    s3_server_free(server);
    for (int i = 0; i < MAX_ITEMS; i++) {
        free_object(&mem.objects[i]);
        free(mem.buckets[i].name);
        free(mem.buckets[i].owner);
        free(mem.configs[i].bucket);
        free(mem.configs[i].name);
        free(mem.configs[i].data);
    }
    return tap_done();
}
