/*
 * s3-internal.h -- what the S3 layer's files share: one `struct s3_call` per
 * request, and the helpers every operation uses to read the request and
 * answer it.  Not installed; not seen by plugins.
 *
 * Files: s3-server.c (entry, routing, auth and policy), s3-respond.c (errors,
 * XML responses), s3-body.c (request body pipeline: decoder, MD5, checksums),
 * s3-bucket.c, s3-object.c (put/get/head/delete/copy/tagging), s3-list.c
 * (ListObjects V1/V2, ListObjectVersions, ListBuckets), s3-multipart.c,
 * s3-delete-many.c, xml-writer.c, xml-parse.c.
 */
#ifndef CAIRN_S3_INTERNAL_H
#define CAIRN_S3_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <cairn/plugin.h>

#include "http-exchange.h"
#include "plugin-loader.h"
#include "request.h"
#include "s3.h"

/* Every S3 operation cairn routes.  Unknown combinations are S3_OP_UNKNOWN (501). */
#define S3_OP_TABLE(X)                                                        \
    X(UNKNOWN, "")                                                            \
    X(HEALTH, "")                                                             \
    X(LIST_BUCKETS, "s3:ListAllMyBuckets")                                    \
    X(CREATE_BUCKET, "s3:CreateBucket")                                       \
    X(DELETE_BUCKET, "s3:DeleteBucket")                                       \
    X(HEAD_BUCKET, "s3:ListBucket")                                           \
    X(GET_BUCKET_LOCATION, "s3:GetBucketLocation")                            \
    X(GET_BUCKET_VERSIONING, "s3:GetBucketVersioning")                        \
    X(PUT_BUCKET_VERSIONING, "s3:PutBucketVersioning")                        \
    X(GET_BUCKET_POLICY, "s3:GetBucketPolicy")                                \
    X(PUT_BUCKET_POLICY, "s3:PutBucketPolicy")                                \
    X(DELETE_BUCKET_POLICY, "s3:DeleteBucketPolicy")                          \
    X(GET_BUCKET_POLICY_STATUS, "s3:GetBucketPolicyStatus")                   \
    X(GET_BUCKET_TAGGING, "s3:GetBucketTagging")                              \
    X(PUT_BUCKET_TAGGING, "s3:PutBucketTagging")                              \
    X(DELETE_BUCKET_TAGGING, "s3:PutBucketTagging")                           \
    X(GET_BUCKET_LIFECYCLE, "s3:GetLifecycleConfiguration")                   \
    X(PUT_BUCKET_LIFECYCLE, "s3:PutLifecycleConfiguration")                   \
    X(DELETE_BUCKET_LIFECYCLE, "s3:PutLifecycleConfiguration")                \
    X(GET_BUCKET_CORS, "s3:GetBucketCORS")                                    \
    X(GET_BUCKET_ENCRYPTION, "s3:GetEncryptionConfiguration")                 \
    X(GET_OBJECT_LOCK_CONFIG, "s3:GetBucketObjectLockConfiguration")          \
    X(GET_BUCKET_ACL, "s3:GetBucketAcl")                                      \
    X(PUT_BUCKET_ACL, "s3:PutBucketAcl")                                      \
    X(GET_BUCKET_OTHER_CONFIG, "s3:GetBucketWebsite") /* website, replication, ... -> 404 */ \
    X(LIST_OBJECTS_V1, "s3:ListBucket")                                       \
    X(LIST_OBJECTS_V2, "s3:ListBucket")                                       \
    X(LIST_OBJECT_VERSIONS, "s3:ListBucketVersions")                          \
    X(LIST_MULTIPART_UPLOADS, "s3:ListBucketMultipartUploads")                \
    X(DELETE_OBJECTS, "s3:DeleteObject")                                      \
    X(PUT_OBJECT, "s3:PutObject")                                             \
    X(COPY_OBJECT, "s3:PutObject")                                            \
    X(GET_OBJECT, "s3:GetObject")                                             \
    X(HEAD_OBJECT, "s3:GetObject")                                            \
    X(DELETE_OBJECT, "s3:DeleteObject")                                       \
    X(GET_OBJECT_ATTRIBUTES, "s3:GetObjectAttributes")                        \
    X(GET_OBJECT_TAGGING, "s3:GetObjectTagging")                              \
    X(PUT_OBJECT_TAGGING, "s3:PutObjectTagging")                              \
    X(DELETE_OBJECT_TAGGING, "s3:DeleteObjectTagging")                        \
    X(GET_OBJECT_ACL, "s3:GetObjectAcl")                                      \
    X(PUT_OBJECT_ACL, "s3:PutObjectAcl")                                      \
    X(CREATE_MULTIPART_UPLOAD, "s3:PutObject")                                \
    X(UPLOAD_PART, "s3:PutObject")                                            \
    X(UPLOAD_PART_COPY, "s3:PutObject")                                       \
    X(COMPLETE_MULTIPART_UPLOAD, "s3:PutObject")                              \
    X(ABORT_MULTIPART_UPLOAD, "s3:AbortMultipartUpload")                      \
    X(LIST_PARTS, "s3:ListMultipartUploadParts")                              \
    X(POST_OBJECT, "s3:PutObject")

enum s3_op {
#define S3_X_ENUM(name, action) S3_OP_##name,
    S3_OP_TABLE(S3_X_ENUM)
#undef S3_X_ENUM
};

/* A decoded query parameter (name and value percent-decoded; value "" when absent). */
struct s3_param {
    const char *name;
    const char *value;
};

/* One S3 request being served. Request-lifetime memory comes from req.arena. */
struct s3_call {
    struct s3_server *s3;
    const struct s3_settings *settings;
    const struct cairn_services *services;
    struct http_exchange *ex;
    const struct http_request_head *head;
    struct cairn_req req;          /* handed to plugins */
    enum s3_op op;
    const char *bucket;            /* "" when none; validated for bucket ops */
    const char *key;               /* "" when none; percent-decoded */
    size_t n_params;
    const struct s3_param *params; /* sorted by name */
    struct cairn_identity who;     /* filled by authentication */
    struct cairn_body_decoder *decoder; /* from the auth plugin, or NULL */
    const struct loaded_plugin *backend;
    const struct cairn_backend_ops *be; /* backend->desc->backend */
    void *be_state;                /* backend->state */
    const char *auth_detail;       /* extra XML for SignatureDoesNotMatch, or NULL */
};

/* Query parameter `name`: its value ("" when valueless), or NULL when absent. */
const char *s3_param(const struct s3_call *call, const char *name);

/* Request header `name` (lower-case), or NULL. */
const char *s3_header(const struct s3_call *call, const char *name);

/* Request-lifetime allocation and printf. */
void *s3_alloc(struct s3_call *call, size_t size);
char *s3_printf(struct s3_call *call, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Answers with S3's error XML for `err` (a CAIRN_E_* code): Code, Message
 * (`message` or the table's default), Resource (the request path), RequestId,
 * plus `extra_xml` (already-escaped elements, may be NULL).  HEAD requests get
 * the status with no body.  Returns 0.
 */
int s3_error(struct s3_call *call, int err, const char *message, const char *extra_xml);

/* Answers `status` with an XML body (`xml`, `len` bytes) and extra headers. */
int s3_respond_xml(struct s3_call *call, int status, const char *xml, size_t len,
                   const struct cairn_kv *headers, size_t n_headers);

/* Answers `status` with no body (Content-Length: 0) and extra headers. */
int s3_respond_empty(struct s3_call *call, int status, const struct cairn_kv *headers,
                     size_t n_headers);

/*
 * Reads the whole request body (for small XML/JSON bodies such as
 * CompleteMultipartUpload, DeleteObjects, policies) through the body pipeline,
 * up to `max` bytes (larger: CAIRN_E_ENTITY_TOO_LARGE / MALFORMED_XML as S3 does).
 * Returns 0 and a NUL-terminated request-lifetime buffer, or a negative error.
 */
int s3_read_small_body(struct s3_call *call, size_t max, char **data_r, size_t *len_r);

/* ISO 8601 with milliseconds ("2026-11-25T11:44:26.000Z") and RFC 1123
 * ("Wed, 25 Nov 2026 11:44:26 GMT") renderings, request-lifetime. */
const char *s3_time_iso8601(struct s3_call *call, int64_t ms);
const char *s3_time_rfc1123(struct s3_call *call, int64_t ms);

/* The versioning state of call->bucket (from the bucket's "versioning" config). */
enum cairn_versioning s3_bucket_versioning(struct s3_call *call);

/* Operation handlers: each answers the request itself and returns 0, or returns
 * a negative error for the dispatcher to render with s3_error. */
int s3_op_list_buckets(struct s3_call *call);
int s3_op_list_objects(struct s3_call *call);        /* V1 and V2 (call->op tells) */
int s3_op_list_object_versions(struct s3_call *call);
int s3_op_delete_objects(struct s3_call *call);
int s3_op_create_multipart_upload(struct s3_call *call);
int s3_op_upload_part(struct s3_call *call);
int s3_op_upload_part_copy(struct s3_call *call);
int s3_op_complete_multipart_upload(struct s3_call *call);
int s3_op_abort_multipart_upload(struct s3_call *call);
int s3_op_list_parts(struct s3_call *call);
int s3_op_list_multipart_uploads(struct s3_call *call);

/*
 * The object attributes a PUT (or CreateMultipartUpload) stores, taken from the
 * request headers: content-type (default binary/octet-stream), content-encoding,
 * cache-control, content-disposition, content-language, expires, every
 * x-amz-meta-* verbatim, x-amz-tagging, x-amz-storage-class, x-amz-website-redirect-location.
 */
size_t s3_request_object_attrs(struct s3_call *call, struct cairn_kv **attrs_r);

/*
 * Sets up the body pipeline for a PUT-like operation (PutObject, UploadPart):
 * installs call->req.read so that the backend's body_read gets decoded bytes,
 * MD5 and any requested x-amz-checksum-* computed on the fly, verified at EOF
 * (Content-MD5 -> BadDigest, checksum header or trailer -> BadDigest, length ->
 * IncompleteBody), and `final` filled (size, etag, checksum attrs) before EOF
 * is reported.  Returns 0 or a negative error (e.g. InvalidDigest).
 */
int s3_body_begin_put(struct s3_call *call, struct cairn_object_info *final);

/* Appends the x-amz-checksum-* response headers found in `info->attrs` to
 * (*headers_r, *n_r), allocating from the request. */
void s3_add_checksum_headers(struct s3_call *call, const struct cairn_object_info *info,
                             struct cairn_kv **headers_r, size_t *n_r, size_t *cap_r);

/* Objects copied by CopyObject and UploadPartCopy: streams `src_bucket`/`src_key`
 * (version `src_version` or latest) bytes [offset, offset+length) (length -1: all)
 * into a PUT of `dst` via a pipe thread, in bounded memory.  `src_info_r` gets
 * the source's info. */
int s3_copy_stream(struct s3_call *call, const char *src_bucket, const char *src_key,
                   const char *src_version, uint64_t offset, int64_t length,
                   int (*put_fn)(struct s3_call *call, void *ctx), void *ctx,
                   struct cairn_object_info *src_info_r);


/* ---- added by s3a ------------------------------------------------------ */

/*
 * Like s3_error, for S3 error codes that CAIRN_ERROR_TABLE lacks
 * (NoSuchBucketPolicy, NoSuchTagSet, NoSuchLifecycleConfiguration, ...):
 * answers `status` with <Code>code</Code> and `message`.  Returns 0.
 */
int s3_error_code(struct s3_call *call, int status, const char *code, const char *message);

/* s3_error with extra response headers (x-amz-delete-marker, Content-Range, ...). */
int s3_error_headers(struct s3_call *call, int err, const char *message, const char *extra_xml,
                     const struct cairn_kv *headers, size_t n_headers);

/* The S3 error code, HTTP status and default message of a CAIRN_E_* value
 * (unknown values map to InternalError / 500). */
const char *s3_error_name(int err);
int s3_error_status(int err);
const char *s3_error_message(int err);

/* Answers `status` with a body of `len` bytes of `content_type`. */
int s3_respond_body(struct s3_call *call, int status, const char *content_type,
                    const void *body, size_t len, const struct cairn_kv *headers,
                    size_t n_headers);

/* Source of raw (still encoded) request body bytes for the body pipeline. */
typedef ssize_t (*s3_raw_read_fn)(void *ctx, void *buf, size_t len);

struct s3_body;

/*
 * What the S3 layer keeps per call beyond struct s3_call.  s3-server.c makes
 * one per request; call->req.owner points at it.  Helpers cope with a call
 * whose req.owner is NULL (then no status is tracked and no body is read).
 */
struct s3_call_ext {
    struct s3_call *call;
    s3_raw_read_fn raw_read;    /* default: http_exchange_read(call->ex) */
    void *raw_ctx;
    struct s3_body *body;       /* the body pipeline once begun */
    size_t n_trailers, cap_trailers;
    struct cairn_kv *trailers;  /* from aws-chunked trailers (set_trailer) */
    int status;                 /* the status answered, for the access log */
    uint64_t bytes_out;         /* body bytes written */
    const char *error_code;     /* the S3 error code answered, or NULL */
    int copying;                /* the body is a copy source, not the request's */
};

/* The call's extension, or NULL. */
struct s3_call_ext *s3_call_ext(const struct s3_call *call);

/* Trailing header `name` (lower-case) reported through set_trailer, or NULL. */
const char *s3_trailer(const struct s3_call *call, const char *name);

/*
 * Parses x-amz-copy-source ("[/]bucket/key[?versionId=v]", percent-encoded)
 * of CopyObject and UploadPartCopy: 0 with the source's bucket, key and
 * version (NULL for the latest); a negative error; or 1 after answering
 * InvalidArgument for a source without bucket or key.
 */
int s3_parse_copy_source(struct s3_call *call, const char **bucket_r, const char **key_r,
                         const char **version_r);

/*
 * The backend `bucket` lives on (per-bucket placement, s3-placement.c), for a
 * request that touches a second bucket (CopyObject's and UploadPartCopy's
 * source): *backend_r is the default backend for reserved, unknown and
 * single-backend cases.  Uses and fills the server's placement cache.  0, or
 * a negative error (CAIRN_E_INTERNAL when the bucket's placement document
 * names a backend that is not loaded).
 */
int s3_placement_backend_of(struct s3_call *call, const char *bucket,
                            const struct loaded_plugin **backend_r);

/*
 * Authorizes reading the copy source (s3:GetObject, or s3:GetObjectVersion
 * with a version) against the source bucket's owner and policy, which live on
 * the backend that bucket is placed on.  0 or CAIRN_E_ACCESS_DENIED.
 */
int s3_authorize_copy_source(struct s3_call *call, const char *bucket, const char *key,
                             const char *version);

/*
 * Evaluates x-amz-copy-source-if-match / -none-match / -modified-since /
 * -unmodified-since against the copy source: 0 or CAIRN_E_PRECONDITION_FAILED.
 */
int s3_copy_source_conditions(struct s3_call *call, const struct cairn_object_info *src);

/* Releases what the body pipeline holds; called once when the request ends. */
void s3_body_end(struct s3_call *call);

/* Appends one header to a growing request-lifetime array; 0 or CAIRN_E_NOMEM. */
int s3_headers_add(struct s3_call *call, struct cairn_kv **headers_r, size_t *n_r,
                   size_t *cap_r, const char *name, const char *value);

/* The cairn_req.set_trailer implementation (copies into the call). */
int s3_req_set_trailer(struct cairn_req *req, const char *name, const char *value);

/* The cairn_req.write implementation: writes to the exchange, counts bytes. */
int s3_req_write(struct cairn_req *req, const void *buf, size_t len);

/*
 * Maps "crc32", "crc32c", "crc64nvme", "sha1", "sha256" (any case) to its
 * hash algorithm; 0 when unknown.
 */
enum cairn_hash_algo s3_checksum_algo(const char *name);

/* Base64 (standard alphabet, padded) of `len` bytes, request-lifetime. */
char *s3_base64(struct s3_call *call, const uint8_t *data, size_t len);
/* Decodes standard base64; returns the length or -1 when malformed or > cap. */
ssize_t s3_base64_decode(const char *in, uint8_t *out, size_t cap);
/* Lower-case hex of `len` bytes into out (2*len+1 bytes). */
void s3_hex(const uint8_t *data, size_t len, char *out);

/* The owner of call->bucket (request-lifetime), "" when unknown; or a
 * negative error (CAIRN_E_NO_SUCH_BUCKET) through *err_r. */
const char *s3_bucket_owner(struct s3_call *call, int *err_r);

/* The S3 layer (s3-server.c makes it). */
struct s3_server {
    const struct s3_settings *settings;
    const struct s3_plugins *plugins;
    const struct cairn_services *services;
};

/*
 * Checks a bucket policy document with the policy plugin's validate.  Returns
 * 0 when valid, a negative error, or 1 after answering MalformedPolicy with
 * the plugin's reason itself.  Without a policy plugin only JSON objects
 * ('{' first) are accepted.
 */
int s3_validate_bucket_policy(struct s3_call *call, const char *json, size_t len);

/* Authorization of call->op for call->who (s3-authz.c): 0 or CAIRN_E_ACCESS_DENIED. */
int s3_authorize(struct s3_call *call);

/* Authorization of one more action on another resource (CopyObject's source:
 * s3:GetObject on bucket/key): 0 or CAIRN_E_ACCESS_DENIED. */
int s3_authorize_action(struct s3_call *call, const char *action, const char *bucket,
                        const char *key);

struct xml_writer;
/* Writes an AccessControlPolicy granting `owner` FULL_CONTROL; 0 or CAIRN_E_NOMEM. */
int s3_write_owner_acl(struct s3_call *call, const char *owner, struct xml_writer *w);

/* 1 when `acl` is one of S3's canned ACL names (x-amz-acl). */
int s3_canned_acl_valid(const char *acl);

/*
 * Internal object attr holding the byte sizes of a multipart object's parts,
 * comma-separated in part order ("5242880,5242880,1048576").  CompleteMultipartUpload
 * should store it; GetObject/HeadObject ?partNumber=N read it.  Never sent to clients.
 */
#define S3_PART_SIZES_ATTR "x-cairn-part-sizes"

/* The byte range of part `part` of an object: 0, or CAIRN_E_INVALID_RANGE when
 * the part does not exist or its size is unknown. */
int s3_part_range(const struct cairn_object_info *info, uint32_t part, uint64_t *offset_r,
                  uint64_t *length_r);

/* s3a's operation handlers (dispatched by s3-server.c). */
int s3_op_bucket(struct s3_call *call);  /* every bucket-level op of s3-bucket.c */
int s3_op_put_object(struct s3_call *call);
int s3_op_get_object(struct s3_call *call); /* GET and HEAD */
int s3_op_delete_object(struct s3_call *call);
int s3_op_copy_object(struct s3_call *call);
int s3_op_object_tagging(struct s3_call *call); /* get, put, delete */
int s3_op_object_acl(struct s3_call *call);     /* get, put */
int s3_op_get_object_attributes(struct s3_call *call);

#endif
