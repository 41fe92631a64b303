/* test-s3-router.c -- routing table, target/query parsing, bucket-name rules. */
#include <string.h>

#include "s3-router.h"
#include "tap.h"

struct route_case {
    const char *method, *path, *query;
    int copy_source;
    enum s3_op op;
    const char *bucket, *key;
};

static const struct route_case routes[] = {
    {"GET", "/", "", 0, S3_OP_LIST_BUCKETS, "", ""},
    {"PUT", "/b1b", "", 0, S3_OP_CREATE_BUCKET, "b1b", ""},
    {"PUT", "/b1b/", "", 0, S3_OP_CREATE_BUCKET, "b1b", ""},
    {"PUT", "/b1b", "x-id=CreateBucket", 0, S3_OP_CREATE_BUCKET, "b1b", ""},
    {"HEAD", "/b1b", "", 0, S3_OP_HEAD_BUCKET, "b1b", ""},
    {"DELETE", "/b1b", "", 0, S3_OP_DELETE_BUCKET, "b1b", ""},
    {"GET", "/b1b", "location", 0, S3_OP_GET_BUCKET_LOCATION, "b1b", ""},
    {"GET", "/b1b", "location=", 0, S3_OP_GET_BUCKET_LOCATION, "b1b", ""},
    {"GET", "/b1b", "versioning", 0, S3_OP_GET_BUCKET_VERSIONING, "b1b", ""},
    {"PUT", "/b1b", "versioning", 0, S3_OP_PUT_BUCKET_VERSIONING, "b1b", ""},
    {"GET", "/b1b", "policy", 0, S3_OP_GET_BUCKET_POLICY, "b1b", ""},
    {"GET", "/b1b", "policyStatus", 0, S3_OP_GET_BUCKET_POLICY_STATUS, "b1b", ""},
    {"PUT", "/b1b", "policy", 0, S3_OP_PUT_BUCKET_POLICY, "b1b", ""},
    {"DELETE", "/b1b", "policy", 0, S3_OP_DELETE_BUCKET_POLICY, "b1b", ""},
    {"GET", "/b1b", "tagging", 0, S3_OP_GET_BUCKET_TAGGING, "b1b", ""},
    {"PUT", "/b1b", "tagging", 0, S3_OP_PUT_BUCKET_TAGGING, "b1b", ""},
    {"DELETE", "/b1b", "tagging", 0, S3_OP_DELETE_BUCKET_TAGGING, "b1b", ""},
    {"GET", "/b1b", "lifecycle", 0, S3_OP_GET_BUCKET_LIFECYCLE, "b1b", ""},
    {"PUT", "/b1b", "lifecycle", 0, S3_OP_PUT_BUCKET_LIFECYCLE, "b1b", ""},
    {"DELETE", "/b1b", "lifecycle", 0, S3_OP_DELETE_BUCKET_LIFECYCLE, "b1b", ""},
    {"GET", "/b1b", "cors", 0, S3_OP_GET_BUCKET_CORS, "b1b", ""},
    {"GET", "/b1b", "encryption", 0, S3_OP_GET_BUCKET_ENCRYPTION, "b1b", ""},
    {"GET", "/b1b", "object-lock", 0, S3_OP_GET_OBJECT_LOCK_CONFIG, "b1b", ""},
    {"GET", "/b1b", "acl", 0, S3_OP_GET_BUCKET_ACL, "b1b", ""},
    {"PUT", "/b1b", "acl", 0, S3_OP_PUT_BUCKET_ACL, "b1b", ""},
    {"GET", "/b1b", "website", 0, S3_OP_GET_BUCKET_OTHER_CONFIG, "b1b", ""},
    {"GET", "/b1b", "publicAccessBlock", 0, S3_OP_GET_BUCKET_OTHER_CONFIG, "b1b", ""},
    {"GET", "/b1b", "", 0, S3_OP_LIST_OBJECTS_V1, "b1b", ""},
    {"GET", "/b1b", "prefix=a&delimiter=%2F", 0, S3_OP_LIST_OBJECTS_V1, "b1b", ""},
    {"GET", "/b1b/", "list-type=2&encoding-type=url", 0, S3_OP_LIST_OBJECTS_V2, "b1b", ""},
    {"GET", "/b1b", "versions", 0, S3_OP_LIST_OBJECT_VERSIONS, "b1b", ""},
    {"GET", "/b1b", "uploads", 0, S3_OP_LIST_MULTIPART_UPLOADS, "b1b", ""},
    {"POST", "/b1b", "delete", 0, S3_OP_DELETE_OBJECTS, "b1b", ""},
    {"POST", "/b1b", "delete=", 0, S3_OP_DELETE_OBJECTS, "b1b", ""},
    {"PUT", "/b1b", "cors", 0, S3_OP_UNKNOWN, "b1b", ""},
    {"PATCH", "/b1b", "", 0, S3_OP_UNKNOWN, "b1b", ""},
    {"PUT", "/b1b/k", "", 0, S3_OP_PUT_OBJECT, "b1b", "k"},
    {"PUT", "/b1b/k", "x-id=PutObject", 0, S3_OP_PUT_OBJECT, "b1b", "k"},
    {"PUT", "/b1b/k", "", 1, S3_OP_COPY_OBJECT, "b1b", "k"},
    {"PUT", "/b1b/k", "partNumber=1&uploadId=u", 0, S3_OP_UPLOAD_PART, "b1b", "k"},
    {"PUT", "/b1b/k", "partNumber=1&uploadId=u", 1, S3_OP_UPLOAD_PART_COPY, "b1b", "k"},
    {"PUT", "/b1b/k", "tagging", 0, S3_OP_PUT_OBJECT_TAGGING, "b1b", "k"},
    {"PUT", "/b1b/k", "acl", 0, S3_OP_PUT_OBJECT_ACL, "b1b", "k"},
    {"GET", "/b1b/k", "", 0, S3_OP_GET_OBJECT, "b1b", "k"},
    {"GET", "/b1b/k", "versionId=abc", 0, S3_OP_GET_OBJECT, "b1b", "k"},
    {"GET", "/b1b/k", "tagging", 0, S3_OP_GET_OBJECT_TAGGING, "b1b", "k"},
    {"GET", "/b1b/k", "acl", 0, S3_OP_GET_OBJECT_ACL, "b1b", "k"},
    {"GET", "/b1b/k", "attributes", 0, S3_OP_GET_OBJECT_ATTRIBUTES, "b1b", "k"},
    {"GET", "/b1b/k", "uploadId=u", 0, S3_OP_LIST_PARTS, "b1b", "k"},
    {"HEAD", "/b1b/k", "", 0, S3_OP_HEAD_OBJECT, "b1b", "k"},
    {"HEAD", "/b1b/k", "partNumber=1", 0, S3_OP_HEAD_OBJECT, "b1b", "k"},
    {"DELETE", "/b1b/k", "", 0, S3_OP_DELETE_OBJECT, "b1b", "k"},
    {"DELETE", "/b1b/k", "tagging", 0, S3_OP_DELETE_OBJECT_TAGGING, "b1b", "k"},
    {"DELETE", "/b1b/k", "uploadId=u", 0, S3_OP_ABORT_MULTIPART_UPLOAD, "b1b", "k"},
    {"POST", "/b1b/k", "uploads", 0, S3_OP_CREATE_MULTIPART_UPLOAD, "b1b", "k"},
    {"POST", "/b1b/k", "uploads=", 0, S3_OP_CREATE_MULTIPART_UPLOAD, "b1b", "k"},
    {"POST", "/b1b/k", "uploadId=u", 0, S3_OP_COMPLETE_MULTIPART_UPLOAD, "b1b", "k"},
    {"POST", "/b1b/k", "", 0, S3_OP_UNKNOWN, "b1b", "k"},
    /* key shapes */
    {"GET", "/b1b/a/b/c/", "", 0, S3_OP_GET_OBJECT, "b1b", "a/b/c/"},
    {"GET", "/b1b/t/fp/1:2:abc", "", 0, S3_OP_GET_OBJECT, "b1b", "t/fp/1:2:abc"},
    {"GET", "/b1b/a%20b+c", "", 0, S3_OP_GET_OBJECT, "b1b", "a b+c"},
    {"GET", "/b1b/a%2Bb", "", 0, S3_OP_GET_OBJECT, "b1b", "a+b"},
    {"GET", "/b1b/%E2%82%AC/%2F", "", 0, S3_OP_GET_OBJECT, "b1b", "\xE2\x82\xAC//"},
    {"GET", "/b1b//x", "", 0, S3_OP_GET_OBJECT, "b1b", "/x"},
};

static void test_routes(void)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route_case *c = &routes[i];
        struct arena *a = arena_new();
        char *bucket = NULL, *key = NULL;
        struct s3_param *params;
        size_t n;
        int rc = s3_parse_target(a, c->path, "127.0.0.1:9000", NULL, &bucket, &key);
        int rq = s3_parse_query(a, c->query, &params, &n);
        enum s3_op op = rc == 0 && rq == 0
                            ? s3_route(c->method, bucket, key, params, n, c->copy_source, NULL)
                            : S3_OP_UNKNOWN;
        ok(rc == 0 && rq == 0 && op == c->op && strcmp(bucket, c->bucket) == 0 &&
               strcmp(key, c->key) == 0,
           "%s %s?%s%s -> %s (got %s, bucket \"%s\", key \"%s\")", c->method, c->path, c->query,
           c->copy_source ? " +copy-source" : "", s3_op_name(c->op), s3_op_name(op),
           bucket ? bucket : "(null)", key ? key : "(null)");
        arena_free(a);
    }
}

static void test_other_config_subresource(void)
{
    struct arena *a = arena_new();
    struct s3_param *params;
    size_t n;
    const char *sub = NULL;
    s3_parse_query(a, "replication", &params, &n);
    is_int(s3_route("GET", "b1b", "", params, n, 0, &sub), S3_OP_GET_BUCKET_OTHER_CONFIG,
           "?replication routes to the other-config answer");
    is_str(sub, "replication", "and names its subresource");
    arena_free(a);
}

static void test_vhost(void)
{
    struct arena *a = arena_new();
    char *b, *k;
    is_int(s3_parse_target(a, "/dir/file.txt", "photos.s3.example.com:9000", "s3.example.com", &b,
                           &k),
           0, "virtual-host target parses");
    is_str(b, "photos", "bucket from the Host");
    is_str(k, "dir/file.txt", "whole path is the key");
    s3_parse_target(a, "/", "Photos.S3.Example.com", "s3.example.com", &b, &k);
    is_str(b, "photos", "host match ignores case");
    is_str(k, "", "root path is the bucket itself");
    s3_parse_target(a, "/bkt/key", "s3.example.com", "s3.example.com", &b, &k);
    is_str(b, "bkt", "the bare domain is path style");
    is_str(k, "key", "path-style key under the bare domain");
    s3_parse_target(a, "/bkt/key", "other.host", "s3.example.com", &b, &k);
    is_str(b, "bkt", "another host is path style");
    arena_free(a);
}

static void test_bad_targets(void)
{
    struct arena *a = arena_new();
    char *b, *k;
    is_int(s3_parse_target(a, "/b1b/a%zz", NULL, NULL, &b, &k), CAIRN_E_INVALID_URI,
           "bad escape is InvalidURI");
    is_int(s3_parse_target(a, "/b1b/a%2", NULL, NULL, &b, &k), CAIRN_E_INVALID_URI,
           "truncated escape is InvalidURI");
    is_int(s3_parse_target(a, "/b1b/a%00b", NULL, NULL, &b, &k), CAIRN_E_INVALID_URI,
           "encoded NUL is InvalidURI");
    is_int(s3_parse_target(a, "b1b/x", NULL, NULL, &b, &k), CAIRN_E_INVALID_URI,
           "target without leading slash is InvalidURI");
    arena_free(a);
}

static void test_query(void)
{
    struct arena *a = arena_new();
    struct s3_param *p;
    size_t n;
    is_int(s3_parse_query(a, "prefix=a+b%2Fc&delimiter=%2F&max-keys=2&uploads&z=1&a=", &p, &n), 0,
           "query parses");
    is_int(n, 6, "six params");
    is_str(p[0].name, "a", "sorted by name: a first");
    is_str(p[0].value, "", "empty value");
    is_str(s3_params_get(p, n, "prefix"), "a b/c", "'+' is a space and escapes decode in queries");
    is_str(s3_params_get(p, n, "delimiter"), "/", "delimiter decoded");
    is_str(s3_params_get(p, n, "uploads"), "", "valueless param is empty");
    ok(s3_params_get(p, n, "missing") == NULL, "absent param is NULL");
    is_int(s3_parse_query(a, "&&x=1&", &p, &n), 0, "empty pieces are skipped");
    is_int(n, 1, "one param");
    is_int(s3_parse_query(a, "a=%G1", &p, &n), CAIRN_E_INVALID_URI, "bad escape in query");
    is_int(s3_parse_query(a, "k=2&k=1", &p, &n), 0, "repeated name");
    is_str(s3_params_get(p, n, "k"), "2", "first occurrence wins");
    arena_free(a);
}

static void test_bucket_names(void)
{
    const char *good[] = {"abc", "my-bucket", "my.bucket.01", "0ab", "a-b.c-d",
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    const char *bad[] = {"ab", "", "Abc", "my_bucket", "-abc", "abc-", ".abc", "abc.", "a..b",
                         "192.168.1.1", "a b", "a.-b", "a-.b", ".cairn-iam",
                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ok(s3_bucket_name_valid(good[i]), "valid bucket name \"%s\"", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ok(!s3_bucket_name_valid(bad[i]), "invalid bucket name \"%s\"", bad[i]);
}

static void test_health_and_names(void)
{
    ok(s3_is_health_path("/minio/health/live"), "live is a health path");
    ok(s3_is_health_path("/minio/health/ready"), "ready is a health path");
    ok(s3_is_health_path("/minio/health/cluster"), "cluster is a health path");
    ok(!s3_is_health_path("/minio/health/other"), "other is not");
    is_str(s3_op_action(S3_OP_HEAD_BUCKET), "s3:ListBucket", "HeadBucket needs s3:ListBucket");
    is_str(s3_op_action(S3_OP_LIST_BUCKETS), "s3:ListAllMyBuckets", "ListBuckets action");
    is_str(s3_op_name(S3_OP_COPY_OBJECT), "COPY_OBJECT", "op name");
    is_str(s3_op_name((enum s3_op)9999), "UNKNOWN", "out-of-range op name");
}

int main(void)
{
    test_routes();
    test_other_config_subresource();
    test_vhost();
    test_bad_targets();
    test_query();
    test_bucket_names();
    test_health_and_names();
    return tap_done();
}
