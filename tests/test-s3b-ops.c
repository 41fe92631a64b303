/*
 * test-s3b-ops.c -- listings, DeleteObjects and multipart through the whole S3
 * layer in one process: s3_server_handle driven by the fake HTTP exchange of
 * fake-s3.c, a scripted in-memory backend
 * that records what the S3 layer asked of it, and a fake auth plugin (the
 * "authorization: root" header makes the caller root).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "fake-s3.h"
#include "s3-internal.h"
#include "services.h"
#include "tap.h"

/* ---- scripted in-memory backend ----------------------------------------------- */

/* Keys of bucket "lst", in byte order. */
static const char *const keys[] = {"a",     "b c",   "d/1",   "d/2",   "d/e/3", "f+g",
                                   "h/i/j", "k\xc3\xa9", "m/",    "n"};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static struct {
    int list_examined; /* entries the last object_list emitted */
    char deleted[16][64];
    int n_deleted;
    /* multipart */
    struct {
        uint32_t number;
        char etag[80];
        char crc32[16];
        uint64_t size;
    } parts[8];
    int n_parts;
    int upload_exists;
    size_t complete_n_parts;
    char complete_attr[128];
    uint64_t complete_min;
} be;

static int be_bucket_head(void *s, struct cairn_req *req, const char *bucket,
                          struct cairn_bucket_info *info_r)
{
    if (strcmp(bucket, "lst") != 0 && strcmp(bucket, "mpu") != 0)
        return CAIRN_E_NO_SUCH_BUCKET;
    info_r->name = bucket;
    info_r->created_ms = 1000;
    info_r->owner = "owner1";
    return 0;
}

static int be_bucket_list(void *s, struct cairn_req *req,
                          int (*emit)(void *ctx, const struct cairn_bucket_info *b), void *ctx)
{
    static const struct cairn_bucket_info list[] = {
        {".cairn-sys", 1, ""}, {"alpha", 1764072000000, "alice"}, {"beta", 2, "bob"}};
    for (size_t i = 0; i < 3; i++) {
        int rc = emit(ctx, &list[i]);
        if (rc)
            return rc < 0 ? rc : 0;
    }
    return 0;
}

static int be_config_get(void *s, struct cairn_req *req, const char *bucket, const char *name,
                         char **data_r, size_t *len_r)
{
    return CAIRN_E_NO_SUCH_CONFIG;
}

/* Lists `keys` with prefix, after and delimiter roll-up, as a backend must. */
static int be_object_list(void *s, struct cairn_req *req, const struct cairn_list *l)
{
    be.list_examined = 0;
    size_t plen = strlen(l->prefix), dlen = strlen(l->delimiter);
    char last_prefix[256] = "";
    for (size_t i = 0; i < N_KEYS; i++) {
        const char *k = keys[i];
        if (strncmp(k, l->prefix, plen) != 0 || strcmp(k, l->after) <= 0)
            continue;
        struct cairn_list_entry e;
        memset(&e, 0, sizeof(e));
        const char *d = dlen ? strstr(k + plen, l->delimiter) : NULL;
        char rolled[256];
        if (d) {
            snprintf(rolled, sizeof(rolled), "%.*s", (int)(d - k + (ptrdiff_t)dlen), k);
            if (strcmp(rolled, last_prefix) == 0 || strcmp(rolled, l->after) <= 0)
                continue;
            snprintf(last_prefix, sizeof(last_prefix), "%s", rolled);
            e.kind = CAIRN_LIST_PREFIX;
            e.key = rolled;
        } else {
            e.kind = CAIRN_LIST_OBJECT;
            e.key = k;
            e.info.size = strlen(k);
            e.info.mtime_ms = 1764072000123;
            snprintf(e.info.etag, sizeof(e.info.etag), "etag-%zu", i);
            if (l->versions) {
                snprintf(e.info.version_id, sizeof(e.info.version_id), "v%zu", i);
                e.info.is_latest = 1;
                e.info.is_delete_marker = strcmp(k, "n") == 0;
            }
        }
        be.list_examined++;
        int rc = l->emit(l->ctx, &e);
        if (rc)
            return rc < 0 ? rc : 0;
    }
    return 0;
}

static int be_object_delete(void *s, struct cairn_req *req, const char *bucket, const char *key,
                            const char *version_id, enum cairn_versioning versioning,
                            struct cairn_object_info *info_r)
{
    if (strcmp(key, "locked") == 0)
        return CAIRN_E_ACCESS_DENIED;
    if (be.n_deleted < 16)
        snprintf(be.deleted[be.n_deleted++], 64, "%s", key);
    if (strcmp(key, "absent") == 0)
        return CAIRN_E_NO_SUCH_KEY;
    if (strcmp(key, "versioned") == 0) {
        info_r->is_delete_marker = 1;
        snprintf(info_r->version_id, sizeof(info_r->version_id), "dm1");
    }
    return 0;
}

/* One source object for UploadPartCopy: mpu/"src key" = "helloworld". */
static int be_object_get(void *s, struct cairn_req *req, const struct cairn_get *get)
{
    static const char data[] = "helloworld";
    if (strcmp(get->bucket, "mpu") != 0 || strcmp(get->key, "src key") != 0 ||
        (get->version_id && *get->version_id && strcmp(get->version_id, "v7") != 0))
        return CAIRN_E_NO_SUCH_KEY;
    struct cairn_object_info info = {.size = 10, .mtime_ms = 1000};
    snprintf(info.etag, sizeof(info.etag), "fc5e038d38a57032085441e7fe7010b0");
    snprintf(info.version_id, sizeof(info.version_id), "v7");
    uint64_t off = 0, len = 0;
    int rc = get->decide(get->ctx, &info, &off, &len);
    if (rc != 0)
        return rc;
    return req->write(req, data + off, (size_t)len);
}

static int be_mpu_create(void *s, struct cairn_req *req, const char *bucket, const char *key,
                         size_t n_attrs, const struct cairn_kv *attrs, char upload_id_r[128])
{
    be.upload_exists = 1;
    be.n_parts = 0;
    snprintf(upload_id_r, 128, "up1");
    return 0;
}

static int be_mpu_put_part(void *s, struct cairn_req *req, const char *upload_id,
                           uint32_t part_number, const struct cairn_put *put,
                           struct cairn_object_info *info_r)
{
    if (!be.upload_exists || strcmp(upload_id, "up1") != 0)
        return CAIRN_E_NO_SUCH_UPLOAD;
    char buf[64];
    uint64_t size = 0;
    for (;;) {
        ssize_t n = req->read(req, buf, sizeof(buf));
        if (n < 0)
            return (int)n;
        if (n == 0)
            break;
        size += (uint64_t)n;
    }
    if (be.n_parts == 8)
        return CAIRN_E_INTERNAL;
    /* Keep parts in ascending order, as mpu_list_parts must emit them. */
    int i = be.n_parts++;
    while (i > 0 && be.parts[i - 1].number > part_number) {
        be.parts[i] = be.parts[i - 1];
        i--;
    }
    be.parts[i].number = part_number;
    be.parts[i].size = size;
    snprintf(be.parts[i].etag, sizeof(be.parts[i].etag), "%s", put->final->etag);
    be.parts[i].crc32[0] = '\0';
    for (size_t j = 0; j < put->final->n_attrs; j++)
        if (strcmp(put->final->attrs[j].name, "x-amz-checksum-crc32") == 0)
            snprintf(be.parts[i].crc32, sizeof(be.parts[i].crc32), "%s",
                     put->final->attrs[j].value);
    *info_r = *put->final;
    return 0;
}

static int be_mpu_list_parts(void *s, struct cairn_req *req, const char *bucket, const char *key,
                             const char *upload_id, uint32_t after_part,
                             int (*emit)(void *ctx, const struct cairn_part_info *p), void *ctx)
{
    if (!be.upload_exists || strcmp(upload_id, "up1") != 0)
        return CAIRN_E_NO_SUCH_UPLOAD;
    for (int i = 0; i < be.n_parts; i++) {
        if (be.parts[i].number <= after_part)
            continue;
        struct cairn_kv attr = {"x-amz-checksum-crc32", be.parts[i].crc32};
        struct cairn_part_info p = {.number = be.parts[i].number, .size = be.parts[i].size,
                                    .mtime_ms = 5000, .n_attrs = be.parts[i].crc32[0] ? 1 : 0,
                                    .attrs = &attr};
        snprintf(p.etag, sizeof(p.etag), "%s", be.parts[i].etag);
        int rc = emit(ctx, &p);
        if (rc)
            return rc < 0 ? rc : 0;
    }
    return 0;
}

static int be_mpu_complete(void *s, struct cairn_req *req, const char *bucket, const char *key,
                           const char *upload_id, const struct cairn_part_info *parts,
                           size_t n_parts, uint64_t min_part_size,
                           enum cairn_versioning versioning, size_t n_attrs,
                           const struct cairn_kv *attrs, struct cairn_object_info *info_r)
{
    be.complete_n_parts = n_parts;
    be.complete_min = min_part_size;
    be.complete_attr[0] = '\0';
    if (n_attrs)
        snprintf(be.complete_attr, sizeof(be.complete_attr), "%s=%s", attrs[0].name,
                 attrs[0].value);
    snprintf(info_r->etag, sizeof(info_r->etag), "abc-%zu", n_parts);
    be.upload_exists = 0;
    return 0;
}

static int be_mpu_abort(void *s, struct cairn_req *req, const char *bucket, const char *key,
                        const char *upload_id)
{
    if (!be.upload_exists || strcmp(upload_id, "up1") != 0)
        return CAIRN_E_NO_SUCH_UPLOAD;
    be.upload_exists = 0;
    return 0;
}

/* Uploads: the current one (key "obj", with its CRC32 algorithm) and some others. */
static int be_mpu_list(void *s, struct cairn_req *req, const char *bucket, const char *prefix,
                       const char *key_marker, const char *upload_id_marker,
                       int (*emit)(void *ctx, const struct cairn_upload_info *u), void *ctx)
{
    static struct cairn_kv attrs[] = {{"x-amz-checksum-algorithm", "CRC32"},
                                      {"x-amz-checksum-type", "COMPOSITE"}};
    struct cairn_upload_info list[] = {
        {"dir/x", "u-dx", 1000, 0, NULL},
        {"dir/y", "u-dy", 1000, 0, NULL},
        {"obj", "up1", 2000, 2, attrs},
        {"zed", "u-z", 3000, 0, NULL},
    };
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(list[i].upload_id, "up1") == 0 && !be.upload_exists)
            continue;
        if (strncmp(list[i].key, prefix, plen) != 0)
            continue;
        int c = strcmp(list[i].key, key_marker);
        if (c < 0 || (c == 0 && strcmp(list[i].upload_id, upload_id_marker) <= 0))
            continue;
        int rc = emit(ctx, &list[i]);
        if (rc)
            return rc < 0 ? rc : 0;
    }
    return 0;
}

static const struct cairn_backend_ops mem_ops = {
    .size = sizeof(struct cairn_backend_ops),
    .bucket_head = be_bucket_head,
    .bucket_list = be_bucket_list,
    .bucket_config_get = be_config_get,
    .object_delete = be_object_delete,
    .object_list = be_object_list,
    .object_get = be_object_get,
    .mpu_create = be_mpu_create,
    .mpu_put_part = be_mpu_put_part,
    .mpu_list_parts = be_mpu_list_parts,
    .mpu_complete = be_mpu_complete,
    .mpu_abort = be_mpu_abort,
    .mpu_list = be_mpu_list,
};

static int fake_auth(void *state, struct cairn_req *req, const struct cairn_http_request *http,
                     struct cairn_identity *id_r, struct cairn_body_decoder **decoder_r,
                     const char **detail_r)
{
    for (size_t i = 0; i < http->n_headers; i++)
        if (strcmp(http->headers[i].name, "authorization") == 0 &&
            strcmp(http->headers[i].value, "root") == 0) {
            *id_r = (struct cairn_identity){.access_key = "rootkey", .user = "rootkey",
                                            .is_root = 1, .auth_type = CAIRN_AUTH_HEADER,
                                            .signature_version = 4};
            return 0;
        }
    for (size_t i = 0; i < http->n_headers; i++)
        if (strcmp(http->headers[i].name, "x-test-user") == 0) {
            *id_r = (struct cairn_identity){.access_key = "alicekey", .user = "alice",
                                            .auth_type = CAIRN_AUTH_HEADER,
                                            .signature_version = 4};
            return 0;
        }
    return CAIRN_DECLINED;
}

/* Lets any user list buckets; nothing else. */
static int fake_evaluate(void *state, struct cairn_req *req, const struct cairn_policy_query *q,
                         char *explain, size_t cap)
{
    return strcmp(q->action, "s3:ListAllMyBuckets") == 0 ? CAIRN_ALLOW : CAIRN_NO_OPINION;
}

static const struct cairn_policy_ops fake_policy_ops = {sizeof(struct cairn_policy_ops), NULL,
                                                        fake_evaluate};

static const struct cairn_auth_ops fake_auth_ops = {.size = sizeof(struct cairn_auth_ops),
                                                    .authenticate = fake_auth};

/* ---- request driver ------------------------------------------------------------- */

static struct s3_server *server;
static int run_as_alice; /* run() authenticates as alice instead of root */

/* Runs one request as root: method, target, body (NULL: none), extra header pairs, NULL. */
static struct http_exchange *run(const char *method, const char *target, const char *body, ...)
{
    struct http_exchange *ex = fake_exchange_new(method, target, body, "00000000000000B0");
    fake_exchange_add_header(ex, "host", "127.0.0.1:19400");
    if (run_as_alice)
        fake_exchange_add_header(ex, "x-test-user", "alice");
    else
        fake_exchange_add_header(ex, "authorization", "root");
    va_list ap;
    va_start(ap, body);
    fake_exchange_add_headers(ex, ap);
    va_end(ap);
    s3_server_handle(ex, server);
    return ex;
}

/* Checks status and that every needle (NULL-terminated list) is in the body; frees ex. */
static void expect(struct http_exchange *ex, int status, const char *what, ...)
{
    int all = 1;
    const char *missing = NULL;
    va_list ap;
    va_start(ap, what);
    for (;;) {
        const char *needle = va_arg(ap, const char *);
        if (!needle)
            break;
        if (!has(ex, needle) && all) {
            all = 0;
            missing = needle;
        }
    }
    va_end(ap);
    ok(ex->status == status && all && ex->finished == 1, "%s", what);
    if (ex->status != status || !all)
        printf("#   status %d (want %d), missing \"%s\" in: %.600s\n", ex->status, status,
               missing ? missing : "", ex->resp_body);
    exchange_free(ex);
}

/* Copies the text of the first <elem>...</elem> of the body into out. */
static const char *elem_text(struct http_exchange *ex, const char *elem, char *out, size_t cap)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", elem);
    snprintf(close, sizeof(close), "</%s>", elem);
    const char *a = strstr(ex->resp_body, open);
    const char *b = a ? strstr(a, close) : NULL;
    if (!a || !b)
        return NULL;
    a += strlen(open);
    snprintf(out, cap, "%.*s", (int)(b - a), a);
    return out;
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_list_buckets(void)
{
    struct http_exchange *ex = run("GET", "/", NULL, NULL);
    is_int(ex->status, 200, "ListBuckets 200");
    ok(has(ex, "<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"),
       "ListBuckets namespaced");
    ok(has(ex, "<Owner><ID>rootkey</ID><DisplayName>rootkey</DisplayName></Owner>"),
       "ListBuckets owner");
    ok(has(ex, "<Bucket><Name>alpha</Name><CreationDate>2025-11-25T12:00:00.000Z</CreationDate>"
               "</Bucket>"),
       "ListBuckets bucket with ISO 8601 ms date");
    ok(has(ex, "<Name>beta</Name>"), "root sees every user's buckets");
    ok(!has(ex, ".cairn-sys"), "reserved '.' buckets hidden");
    exchange_free(ex);

    run_as_alice = 1;
    ex = run("GET", "/", NULL, NULL);
    run_as_alice = 0;
    is_int(ex->status, 200, "ListBuckets as a user 200");
    ok(has(ex, "<Owner><ID>alice</ID>"), "the user is the Owner");
    ok(has(ex, "<Name>alpha</Name>"), "a user sees its own bucket");
    ok(!has(ex, "<Name>beta</Name>"), "a user does not see another user's bucket");
    exchange_free(ex);
}

static void test_list_objects(void)
{
    expect(run("GET", "/lst?list-type=2", NULL, NULL), 200, "V2 lists everything",
           "<KeyCount>10</KeyCount>", "<IsTruncated>false</IsTruncated>", "<Key>a</Key>",
           "<Key>h/i/j</Key>", "<ETag>&quot;etag-0&quot;</ETag>",
           "<LastModified>2025-11-25T12:00:00.123Z</LastModified>", "<Size>1</Size>",
           "<StorageClass>STANDARD</StorageClass>", "<MaxKeys>1000</MaxKeys>", NULL);
    struct http_exchange *ex = run("GET", "/lst?list-type=2", NULL, NULL);
    ok(!has(ex, "<Owner>"), "V2 has no Owner without fetch-owner");
    ok(strstr(ex->resp_body, "<Key>a</Key>") < strstr(ex->resp_body, "<Key>b c</Key>") &&
           strstr(ex->resp_body, "<Key>m/</Key>") < strstr(ex->resp_body, "<Key>n</Key>"),
       "V2 in byte order");
    exchange_free(ex);

    expect(run("GET", "/lst?list-type=2&delimiter=%2F", NULL, NULL), 200, "V2 delimiter",
           "<Delimiter>/</Delimiter>", "<CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes>",
           "<CommonPrefixes><Prefix>h/</Prefix></CommonPrefixes>",
           "<CommonPrefixes><Prefix>m/</Prefix></CommonPrefixes>", "<KeyCount>8</KeyCount>",
           NULL);
    expect(run("GET", "/lst?list-type=2&prefix=d%2F&delimiter=%2F", NULL, NULL), 200,
           "V2 prefix and delimiter", "<Prefix>d/</Prefix>", "<Key>d/1</Key>", "<Key>d/2</Key>",
           "<CommonPrefixes><Prefix>d/e/</Prefix></CommonPrefixes>", "<KeyCount>3</KeyCount>",
           NULL);
    expect(run("GET", "/lst?list-type=2&delimiter=", NULL, NULL), 200,
           "V2 empty delimiter: no roll-up", "<KeyCount>10</KeyCount>", NULL);

    /* Paging with a delimiter: tokens round-trip, prefixes count, nothing twice. */
    char token[256] = "", target[512];
    char seen[2048] = "";
    int pages = 0;
    for (;;) {
        snprintf(target, sizeof(target), "/lst?list-type=2&delimiter=%%2F&max-keys=2%s%s",
                 *token ? "&continuation-token=" : "", token);
        ex = run("GET", target, NULL, NULL);
        pages++;
        ok(ex->status == 200 && has(ex, "<KeyCount>2</KeyCount>"), "page %d status and KeyCount",
           pages);
        ok(be.list_examined <= 3, "page %d: backend emitted at most max-keys+1 (%d)", pages,
           be.list_examined);
        for (const char *p = ex->resp_body; (p = strstr(p, "<Key>")) != NULL; p += 5)
            snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%.*s,",
                     (int)(strstr(p, "</Key>") - p - 5), p + 5);
        for (const char *p = ex->resp_body; (p = strstr(p, "<Prefix>")) != NULL; p += 8)
            if (p[8] != '<')
                snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%.*s,",
                         (int)(strstr(p, "</Prefix>") - p - 8), p + 8);
        int truncated = has(ex, "<IsTruncated>true</IsTruncated>");
        char raw[256];
        const char *t = elem_text(ex, "NextContinuationToken", raw, sizeof(raw));
        ok(!truncated == !t, "page %d: NextContinuationToken iff truncated", pages);
        token[0] = '\0';
        if (t) /* base64 may hold + / =: percent-encode it for the query */
            for (const char *c = t; *c; c++)
                snprintf(token + strlen(token), sizeof(token) - strlen(token),
                         (*c == '+' || *c == '/' || *c == '=') ? "%%%02X" : "%c", *c);
        exchange_free(ex);
        if (!truncated || pages > 10)
            break;
    }
    is_int(pages, 4, "8 entries in pages of 2");
    /* Byte order across pages; within a page Contents come before CommonPrefixes. */
    is_str(seen, "a,b c,f+g,d/,k\xc3\xa9,h/,n,m/,", "every entry once, in order");

    expect(run("GET", "/lst?list-type=2&start-after=f%2Bg&max-keys=1", NULL, NULL), 200,
           "start-after", "<StartAfter>f+g</StartAfter>", "<Key>h/i/j</Key>",
           "<IsTruncated>true</IsTruncated>", NULL);
    expect(run("GET", "/lst?list-type=2&max-keys=0", NULL, NULL), 200, "max-keys=0",
           "<KeyCount>0</KeyCount>", "<MaxKeys>0</MaxKeys>", "<IsTruncated>false</IsTruncated>",
           NULL);
    expect(run("GET", "/lst?list-type=2&max-keys=99999", NULL, NULL), 200, "max-keys clamped",
           "<MaxKeys>1000</MaxKeys>", NULL);
    expect(run("GET", "/lst?list-type=2&max-keys=x", NULL, NULL), 400, "bad max-keys",
           "<Code>InvalidArgument</Code>", NULL);
    expect(run("GET", "/lst?list-type=2&encoding-type=zip", NULL, NULL), 400,
           "bad encoding-type", "<Code>InvalidArgument</Code>", NULL);
    expect(run("GET", "/lst?list-type=2&continuation-token=%21%21", NULL, NULL), 400,
           "bad continuation token", "<Code>InvalidArgument</Code>", NULL);
    expect(run("GET", "/lst?list-type=2&fetch-owner=true&max-keys=1", NULL, NULL), 200,
           "fetch-owner", "<Owner><ID>owner1</ID><DisplayName>owner1</DisplayName></Owner>",
           NULL);
    expect(run("GET", "/lst?list-type=2&encoding-type=url", NULL, NULL), 200, "encoding-type=url",
           "<EncodingType>url</EncodingType>", "<Key>b%20c</Key>", "<Key>f%2Bg</Key>",
           "<Key>k%C3%A9</Key>", "<Key>h/i/j</Key>", NULL);
    expect(run("GET", "/lst?list-type=2&encoding-type=url&delimiter=%2F&prefix=d%2F", NULL, NULL),
           200, "encoding-type=url encodes prefixes", "<Prefix>d/</Prefix>",
           "<Delimiter>/</Delimiter>", NULL);
    expect(run("GET", "/nobucket?list-type=2", NULL, NULL), 404, "missing bucket",
           "<Code>NoSuchBucket</Code>", NULL);

    /* V1: Owner always, Marker, NextMarker only with a delimiter. */
    expect(run("GET", "/lst?max-keys=2", NULL, NULL), 200, "V1 page",
           "<Marker></Marker>", "<IsTruncated>true</IsTruncated>", "<Owner><ID>owner1</ID>",
           NULL);
    ex = run("GET", "/lst?max-keys=2", NULL, NULL);
    ok(!has(ex, "NextMarker"), "V1 without delimiter: no NextMarker");
    exchange_free(ex);
    expect(run("GET", "/lst?max-keys=3&delimiter=%2F", NULL, NULL), 200, "V1 NextMarker",
           "<NextMarker>d/</NextMarker>", NULL);
    ex = run("GET", "/lst?marker=d%2F&delimiter=%2F&max-keys=1", NULL, NULL);
    ok(ex->status == 200 && has(ex, "<Marker>d/</Marker>") && has(ex, "<Key>f+g</Key>") &&
           !has(ex, "<Prefix>d/</Prefix>"),
       "V1 resumes after a common-prefix marker without repeating it");
    exchange_free(ex);
}

static void test_list_versions(void)
{
    expect(run("GET", "/lst?versions&prefix=m", NULL, NULL), 200, "versions",
           "<ListVersionsResult", "<Version><Key>m/</Key><VersionId>v8</VersionId>"
                                  "<IsLatest>true</IsLatest>",
           "<KeyMarker></KeyMarker>", NULL);
    expect(run("GET", "/lst?versions&prefix=n", NULL, NULL), 200, "delete marker",
           "<DeleteMarker><Key>n</Key><VersionId>v9</VersionId>", NULL);
    expect(run("GET", "/lst?versions&max-keys=1", NULL, NULL), 200, "versions page",
           "<NextKeyMarker>a</NextKeyMarker>", "<NextVersionIdMarker>v0</NextVersionIdMarker>",
           "<IsTruncated>true</IsTruncated>", NULL);
    expect(run("GET", "/lst?versions&prefix=b&encoding-type=url", NULL, NULL), 200,
           "versions with encoding-type=url", "<Key>b%20c</Key>",
           "<EncodingType>url</EncodingType>", NULL);
    expect(run("GET", "/lst?versions&delimiter=%2F&prefix=d%2F", NULL, NULL), 200,
           "versions with a delimiter", "<Key>d/1</Key>",
           "<CommonPrefixes><Prefix>d/e/</Prefix></CommonPrefixes>", NULL);
    expect(run("GET", "/lst?versions&version-id-marker=v1", NULL, NULL), 400,
           "version-id-marker needs key-marker", "<Code>InvalidArgument</Code>", NULL);
}

static void test_delete_objects(void)
{
    be.n_deleted = 0;
    struct http_exchange *ex = run(
        "POST", "/lst?delete",
        "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>a</Key></Object>"
        "<Object><Key>absent</Key></Object><Object><Key>locked</Key></Object>"
        "<Object><Key>versioned</Key></Object><Object><Key>b c</Key><VersionId>v1</VersionId>"
        "</Object></Delete>",
        NULL);
    is_int(ex->status, 200, "DeleteObjects 200");
    ok(has(ex, "<Deleted><Key>a</Key></Deleted>"), "deleted key reported");
    ok(has(ex, "<Deleted><Key>absent</Key></Deleted>"), "absent key is a success");
    ok(has(ex, "<Error><Key>locked</Key><Code>AccessDenied</Code>"), "per-key error reported");
    ok(has(ex, "<Deleted><Key>versioned</Key><DeleteMarker>true</DeleteMarker>"
               "<DeleteMarkerVersionId>dm1</DeleteMarkerVersionId></Deleted>"),
       "delete marker reported");
    ok(has(ex, "<Deleted><Key>b c</Key><VersionId>v1</VersionId></Deleted>"),
       "version delete reported");
    is_int(be.n_deleted, 4, "backend asked for each key but the refused one");
    exchange_free(ex);

    expect(run("POST", "/lst?delete",
               "<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object>"
               "<Object><Key>locked</Key></Object></Delete>",
               NULL),
           200, "quiet delete reports errors only", "<Error><Key>locked</Key>", NULL);
    ex = run("POST", "/lst?delete",
             "<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object></Delete>", NULL);
    ok(!has(ex, "<Deleted>"), "quiet delete omits successes");
    exchange_free(ex);
    expect(run("POST", "/lst?delete", "<Delete><Object></Object></Delete>", NULL), 400,
           "object without key", "<Code>MalformedXML</Code>", NULL);
    expect(run("POST", "/lst?delete", "not xml", NULL), 400, "not XML",
           "<Code>MalformedXML</Code>", NULL);
    expect(run("POST", "/lst?delete",
               "<Delete><Object><Key>a</Key></Object></Delete>", "content-md5", "AAAAAAAAAAAAAAAAAAAAAA==", NULL),
           400, "Content-MD5 verified", "<Code>BadDigest</Code>", NULL);
    expect(run("POST", "/nobucket?delete", "<Delete><Object><Key>a</Key></Object></Delete>",
               NULL),
           404, "DeleteObjects on a missing bucket", "<Code>NoSuchBucket</Code>", NULL);
}

static void test_multipart(void)
{
    struct http_exchange *ex =
        run("POST", "/mpu/obj?uploads", NULL, "x-amz-checksum-algorithm", "crc32", NULL);
    is_int(ex->status, 200, "create 200");
    ok(has(ex, "<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
               "<Bucket>mpu</Bucket><Key>obj</Key><UploadId>up1</UploadId>"),
       "create result");
    is_str(resp_header(ex, "x-amz-checksum-algorithm"), "CRC32", "create echoes the algorithm");
    is_str(resp_header(ex, "x-amz-checksum-type"), "COMPOSITE", "default type COMPOSITE");
    exchange_free(ex);
    expect(run("POST", "/mpu/obj?uploads=", NULL, "x-amz-checksum-algorithm", "md5", NULL), 400,
           "unknown checksum algorithm", "<Code>InvalidRequest</Code>", NULL);

    /* Parts out of order, with their CRC32s (of "world" and "hello"). */
    ex = run("PUT", "/mpu/obj?partNumber=2&uploadId=up1", "world", "x-amz-checksum-crc32",
             "OncRQw==", NULL);
    is_int(ex->status, 200, "part 2 stored");
    is_str(resp_header(ex, "etag"), "\"7d793037a0760186574b0282f2f435e7\"", "part ETag quoted MD5");
    is_str(resp_header(ex, "x-amz-checksum-crc32"), "OncRQw==", "part checksum echoed");
    exchange_free(ex);
    expect(run("PUT", "/mpu/obj?partNumber=1&uploadId=up1", "hello", "x-amz-checksum-crc32",
               "NhCmhg==", NULL),
           200, "part 1 stored", NULL);
    expect(run("PUT", "/mpu/obj?partNumber=3&uploadId=up1", "bad", "x-amz-checksum-crc32",
               "NhCmhg==", NULL),
           400, "part with a wrong checksum", "<Code>BadDigest</Code>", NULL);
    expect(run("PUT", "/mpu/obj?partNumber=0&uploadId=up1", "x", NULL), 400, "part number 0",
           "<Code>InvalidArgument</Code>", NULL);
    expect(run("PUT", "/mpu/obj?partNumber=10001&uploadId=up1", "x", NULL), 400,
           "part number 10001", "<Code>InvalidArgument</Code>", NULL);
    expect(run("PUT", "/mpu/obj?partNumber=1&uploadId=nope", "x", NULL), 404, "unknown upload",
           "<Code>NoSuchUpload</Code>", NULL);

    expect(run("GET", "/mpu/obj?uploadId=up1", NULL, NULL), 200, "ListParts",
           "<PartNumber>2</PartNumber>", "<ETag>&quot;7d793037a0760186574b0282f2f435e7&quot;</ETag>",
           "<Size>5</Size>", "<ChecksumCRC32>OncRQw==</ChecksumCRC32>",
           "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm>", "<IsTruncated>false</IsTruncated>",
           NULL);
    expect(run("GET", "/mpu/obj?uploadId=up1&max-parts=1", NULL, NULL), 200, "ListParts page",
           "<IsTruncated>true</IsTruncated>", "<NextPartNumberMarker>1</NextPartNumberMarker>",
           "<MaxParts>1</MaxParts>", NULL);
    expect(run("GET", "/mpu/obj?uploadId=up1&part-number-marker=x", NULL, NULL), 400,
           "bad part-number-marker", "<Code>InvalidArgument</Code>", NULL);

    expect(run("GET", "/mpu?uploads", NULL, NULL), 200, "ListMultipartUploads",
           "<Upload><Key>obj</Key><UploadId>up1</UploadId>", "<Key>dir/x</Key>",
           "<IsTruncated>false</IsTruncated>", NULL);
    expect(run("GET", "/mpu?uploads&delimiter=%2F", NULL, NULL), 200, "uploads with delimiter",
           "<CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes>", "<Key>zed</Key>", NULL);
    expect(run("GET", "/mpu?uploads&delimiter=%2F&max-uploads=1", NULL, NULL), 200,
           "uploads page ends at a prefix", "<NextKeyMarker>dir/</NextKeyMarker>",
           "<IsTruncated>true</IsTruncated>", NULL);
    expect(run("GET", "/mpu?uploads&prefix=dir%2F&encoding-type=url&max-uploads=1", NULL, NULL),
           200, "uploads with prefix, encoding and a page", "<Prefix>dir/</Prefix>",
           "<Key>dir/x</Key>", "<NextKeyMarker>dir/x</NextKeyMarker>",
           "<NextUploadIdMarker>u-dx</NextUploadIdMarker>", "<EncodingType>url</EncodingType>",
           NULL);
    expect(run("GET", "/mpu?uploads&key-marker=dir%2Fx&upload-id-marker=u-dx", NULL, NULL), 200,
           "uploads resume after (key, upload id)", "<Key>dir/y</Key>", NULL);
    expect(run("GET", "/mpu?uploads&max-uploads=x", NULL, NULL), 400, "bad max-uploads",
           "<Code>InvalidArgument</Code>", NULL);
    ex = run("GET", "/mpu?uploads&delimiter=%2F&key-marker=dir%2F", NULL, NULL);
    ok(ex->status == 200 && !has(ex, "<Prefix>dir/</Prefix>") && has(ex, "<Key>obj</Key>"),
       "uploads resume after a prefix marker");
    exchange_free(ex);

    expect(run("POST", "/mpu/obj?uploadId=up1",
               "<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>x</ETag></Part>"
               "<Part><PartNumber>1</PartNumber><ETag>y</ETag></Part></CompleteMultipartUpload>",
               NULL),
           400, "parts out of order", "<Code>InvalidPartOrder</Code>", NULL);
    expect(run("POST", "/mpu/obj?uploadId=up1", "<CompleteMultipartUpload/>", NULL), 400,
           "no parts", "<Code>MalformedXML</Code>", NULL);
    expect(run("POST", "/mpu/obj?uploadId=up1",
               "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag>"
               "<ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>",
               NULL),
           400, "part checksum disagreeing with the stored one", "<Code>InvalidPart</Code>",
           NULL);
    expect(run("POST", "/mpu/obj?uploadId=up1",
               "<CompleteMultipartUpload><Part><PartNumber>3</PartNumber><ETag>a</ETag></Part>"
               "</CompleteMultipartUpload>",
               NULL),
           400, "part never uploaded", "<Code>InvalidPart</Code>", NULL);

    ex = run("POST", "/mpu/obj?uploadId=up1",
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
             "  <Part><ETag>&quot;5d41402abc4b2a76b9719d911017c592&quot;</ETag>"
             "<ChecksumCRC32>NhCmhg==</ChecksumCRC32><PartNumber>1</PartNumber></Part>\n"
             "  <Part><ETag>7d793037a0760186574b0282f2f435e7</ETag><PartNumber>2</PartNumber>"
             "</Part>\n</CompleteMultipartUpload>\n",
             "x-amz-checksum-crc32", "wpn7tg==-2", NULL);
    is_int(ex->status, 200, "complete 200");
    ok(has(ex, "<Location>http://127.0.0.1:19400/mpu/obj</Location><Bucket>mpu</Bucket>"
               "<Key>obj</Key><ETag>&quot;abc-2&quot;</ETag>"),
       "complete result");
    ok(has(ex, "<ChecksumCRC32>wpn7tg==-2</ChecksumCRC32><ChecksumType>COMPOSITE</ChecksumType>"),
       "COMPOSITE checksum in the result");
    is_str(be.complete_attr, "x-amz-checksum-crc32=wpn7tg==-2", "COMPOSITE checksum stored");
    is_int(be.complete_n_parts, 2, "backend got both parts");
    is_int(be.complete_min, 5 << 20, "backend got the minimum part size");
    exchange_free(ex);
    expect(run("POST", "/mpu/obj?uploadId=up1",
               "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>"
               "</CompleteMultipartUpload>",
               NULL),
           404, "completed upload is gone", "<Code>NoSuchUpload</Code>", NULL);

    /* UploadPartCopy into an upload with CRC32: copied parts get CRC32s too. */
    expect(run("POST", "/mpu/obj?uploads", NULL, "x-amz-checksum-algorithm", "CRC32", NULL), 200,
           "upload for copies", NULL);
    ex = run("PUT", "/mpu/obj?partNumber=1&uploadId=up1", NULL, "x-amz-copy-source",
             "/mpu/src%20key", "x-amz-copy-source-range", "bytes=0-4", NULL);
    is_int(ex->status, 200, "copy part 1");
    ok(has(ex, "<CopyPartResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LastModified>") &&
           has(ex, "<ETag>&quot;5d41402abc4b2a76b9719d911017c592&quot;</ETag>") &&
           has(ex, "<ChecksumCRC32>NhCmhg==</ChecksumCRC32>"),
       "copied range has the MD5 and CRC32 of \"hello\"");
    is_str(resp_header(ex, "x-amz-copy-source-version-id"), "v7", "source version echoed");
    exchange_free(ex);
    expect(run("PUT", "/mpu/obj?partNumber=2&uploadId=up1", NULL, "x-amz-copy-source",
               "mpu/src%20key?versionId=v7", "x-amz-copy-source-range", "bytes=5-9", NULL),
           200, "copy part 2 (no leading slash, version)",
           "<ETag>&quot;7d793037a0760186574b0282f2f435e7&quot;</ETag>", NULL);
    expect(run("PUT", "/mpu/obj?partNumber=3&uploadId=up1", NULL, "x-amz-copy-source",
               "/mpu/src%20key", "x-amz-copy-source-range", "bytes=5-10", NULL),
           416, "copy range beyond the source", "<Code>InvalidRange</Code>", NULL);
    expect(run("PUT", "/mpu/obj?partNumber=3&uploadId=up1", NULL, "x-amz-copy-source",
               "/mpu/src%20key", "x-amz-copy-source-range", "bytes=9-5", NULL),
           400, "reversed copy range", "<Code>InvalidArgument</Code>", NULL);
    expect(run("PUT", "/mpu/obj?partNumber=3&uploadId=up1", NULL, "x-amz-copy-source", "nokey",
               NULL),
           400, "copy source without a key", "<Code>InvalidArgument</Code>", NULL);
    expect(run("PUT", "/mpu/obj?partNumber=3&uploadId=up1", NULL, "x-amz-copy-source",
               "/mpu/absent", NULL),
           404, "absent copy source", "<Code>NoSuchKey</Code>", NULL);
    expect(run("PUT", "/mpu/obj?partNumber=3&uploadId=nope", NULL, "x-amz-copy-source",
               "/mpu/src%20key", NULL),
           404, "copy into an unknown upload", "<Code>NoSuchUpload</Code>", NULL);
    ex = run("POST", "/mpu/obj?uploadId=up1",
             "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>"
             "<ETag>5d41402abc4b2a76b9719d911017c592</ETag></Part><Part><PartNumber>2</PartNumber>"
             "<ETag>7d793037a0760186574b0282f2f435e7</ETag></Part></CompleteMultipartUpload>",
             NULL);
    is_int(ex->status, 200, "complete copied parts");
    is_str(be.complete_attr, "x-amz-checksum-crc32=wpn7tg==-2",
           "COMPOSITE checksum of copied parts stored");
    exchange_free(ex);

    expect(run("POST", "/mpu/obj?uploads", NULL, NULL), 200, "second upload", NULL);
    ex = run("DELETE", "/mpu/obj?uploadId=up1", NULL, NULL);
    is_int(ex->status, 204, "abort 204");
    exchange_free(ex);
    expect(run("DELETE", "/mpu/obj?uploadId=up1", NULL, NULL), 404, "abort again",
           "<Code>NoSuchUpload</Code>", NULL);
}

int main(void)
{
    core_log_set_level(CAIRN_LOG_ERROR);
    fake_read_piece = 5;
    server = fake_s3_server_new(&mem_ops, &fake_auth_ops, &fake_policy_ops);
    ok(server != NULL, "server made");
    test_list_buckets();
    test_list_objects();
    test_list_versions();
    test_delete_objects();
    test_multipart();
    s3_server_free(server);
    return tap_done();
}
