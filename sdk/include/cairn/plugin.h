/*
 * cairn/plugin.h -- the whole contract between the cairn core and its plugins.
 *
 * A plugin is a libtool module (-module -avoid-version) that exports exactly one
 * symbol, `cairn_plugin`, a `struct cairn_plugin_descriptor`.  It links against
 * nothing of the core: every service it needs arrives in the `struct
 * cairn_services` table handed to its init function, so a test can load a plugin
 * into a fake core.
 *
 * ABI versions (major.minor).  The loader accepts a plugin when its major equals
 * the core's and its minor is not newer than the core's.  Minor bumps only append
 * members at the end of tables; every table starts with its own size and the core
 * calls a method only when the table is big enough to hold it.
 *
 *   1.0  first version: backend, auth and policy kinds.
 *   1.1  services->body_write_ref (response bytes handed over without a copy);
 *        auth ops->authenticate_form (browser POST uploads).
 *
 * Ownership, for every call in this file unless its comment says otherwise:
 *   - pointer inputs are borrowed for the duration of the call only;
 *   - whoever allocates frees: memory a plugin returns inside a request comes from
 *     services->req_alloc() and dies with the request; nothing else crosses;
 *   - strings are NUL-terminated UTF-8; byte buffers come with a length.
 *
 * Threads: operations run on core worker threads and may block (disk, network).
 * Several operations of one plugin instance run at the same time; a plugin
 * protects its own shared state.  init and fini run alone.
 *
 * Errors: functions return 0 (or a documented positive value) on success and a
 * negative CAIRN_E_* code on failure.  Only the core writes S3 error XML; it maps
 * each code to its S3 error code and HTTP status with the table below.
 */
#ifndef CAIRN_PLUGIN_H
#define CAIRN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_ABI_MAJOR 1
#define CAIRN_ABI_MINOR 1

/* 1 when the size-prefixed table `t` is big enough to hold `member` (which a
 * newer minor appended): check before calling or reading such a member. */
#define CAIRN_TABLE_HAS(t, member) \
    ((t)->size >= offsetof(__typeof__(*(t)), member) + sizeof((t)->member))

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * X(NAME, value, S3 error code, HTTP status, default message).
 * The core renders CAIRN_E_<NAME> as <Error><Code>S3 error code</Code>... with
 * that status.  New codes are appended with the next free value.
 */
#define CAIRN_ERROR_TABLE(X)                                                              \
    X(INTERNAL, -1, "InternalError", 500,                                                 \
      "We encountered an internal error. Please try again.")                              \
    X(NOMEM, -2, "InternalError", 500, "Out of memory.")                                   \
    X(IO, -3, "InternalError", 500, "A drive reported an I/O error.")                      \
    X(CLIENT_GONE, -4, "RequestTimeout", 400,                                              \
      "The client went away before the request completed.")                               \
    X(NO_SUCH_BUCKET, -10, "NoSuchBucket", 404, "The specified bucket does not exist")     \
    X(NO_SUCH_KEY, -11, "NoSuchKey", 404, "The specified key does not exist.")             \
    X(NO_SUCH_VERSION, -12, "NoSuchVersion", 404,                                          \
      "The specified version does not exist.")                                            \
    X(NO_SUCH_UPLOAD, -13, "NoSuchUpload", 404,                                            \
      "The specified multipart upload does not exist.")                                   \
    X(NO_SUCH_CONFIG, -14, "NoSuchConfiguration", 404,                                     \
      "The specified configuration does not exist.")                                      \
    X(BUCKET_OWNED_BY_YOU, -20, "BucketAlreadyOwnedByYou", 409,                            \
      "Your previous request to create the named bucket succeeded and you already own it.") \
    X(BUCKET_EXISTS, -21, "BucketAlreadyExists", 409,                                      \
      "The requested bucket name is not available.")                                      \
    X(BUCKET_NOT_EMPTY, -22, "BucketNotEmpty", 409,                                        \
      "The bucket you tried to delete is not empty")                                      \
    X(INVALID_BUCKET_NAME, -23, "InvalidBucketName", 400,                                  \
      "The specified bucket is not valid.")                                               \
    X(INVALID_OBJECT_NAME, -24, "InvalidArgument", 400,                                    \
      "Object name contains a path segment that is not allowed (\".\", \"..\" or empty).")  \
    X(KEY_TOO_LONG, -25, "KeyTooLongError", 400, "Your key is too long")                  \
    X(INVALID_ARGUMENT, -30, "InvalidArgument", 400, "Invalid Argument")                   \
    X(INVALID_RANGE, -31, "InvalidRange", 416, "The requested range is not satisfiable")  \
    X(BAD_DIGEST, -32, "BadDigest", 400,                                                   \
      "The Content-MD5 or checksum you specified did not match what we received.")        \
    X(INVALID_DIGEST, -33, "InvalidDigest", 400,                                           \
      "The Content-MD5 you specified is not valid.")                                      \
    X(INVALID_PART, -34, "InvalidPart", 400,                                               \
      "One or more of the specified parts could not be found.")                           \
    X(INVALID_PART_ORDER, -35, "InvalidPartOrder", 400,                                    \
      "The list of parts was not in ascending order.")                                    \
    X(ENTITY_TOO_SMALL, -36, "EntityTooSmall", 400,                                        \
      "Your proposed upload is smaller than the minimum allowed object size.")            \
    X(ENTITY_TOO_LARGE, -37, "EntityTooLarge", 400,                                        \
      "Your proposed upload exceeds the maximum allowed object size.")                    \
    X(INCOMPLETE_BODY, -38, "IncompleteBody", 400,                                         \
      "You did not provide the number of bytes specified by the Content-Length HTTP header.") \
    X(MALFORMED_XML, -39, "MalformedXML", 400,                                             \
      "The XML you provided was not well-formed or did not validate against our published schema.") \
    X(MALFORMED_POLICY, -40, "MalformedPolicy", 400, "Policy has invalid resource.")      \
    X(INVALID_REQUEST, -41, "InvalidRequest", 400, "Invalid Request")                      \
    X(INVALID_STORAGE_CLASS, -42, "InvalidStorageClass", 400,                              \
      "The storage class you specified is not valid")                                     \
    X(PRECONDITION_FAILED, -43, "PreconditionFailed", 412,                                 \
      "At least one of the pre-conditions you specified did not hold")                    \
    X(NOT_MODIFIED, -44, "NotModified", 304, "Not Modified")                               \
    X(METHOD_NOT_ALLOWED, -45, "MethodNotAllowed", 405,                                    \
      "The specified method is not allowed against this resource.")                       \
    X(ACCESS_DENIED, -50, "AccessDenied", 403, "Access Denied.")                           \
    X(SIGNATURE_MISMATCH, -51, "SignatureDoesNotMatch", 403,                               \
      "The request signature we calculated does not match the signature you provided. "   \
      "Check your key and signing method.")                                               \
    X(INVALID_ACCESS_KEY, -52, "InvalidAccessKeyId", 403,                                  \
      "The Access Key Id you provided does not exist in our records.")                    \
    X(SHA256_MISMATCH, -53, "XAmzContentSHA256Mismatch", 400,                              \
      "The provided 'x-amz-content-sha256' header does not match what was computed.")     \
    X(REQUEST_TIME_SKEWED, -54, "RequestTimeTooSkewed", 403,                               \
      "The difference between the request time and the server's time is too large.")      \
    X(AUTH_HEADER_MALFORMED, -55, "AuthorizationHeaderMalformed", 400,                     \
      "The authorization header is malformed.")                                           \
    X(MISSING_SECURITY_HEADER, -56, "MissingSecurityHeader", 400,                          \
      "Your request is missing a required header.")                                       \
    X(EXPIRED_REQUEST, -57, "AccessDenied", 403, "Request has expired")                    \
    X(AUTH_QUERY_MALFORMED, -58, "AuthorizationQueryParametersError", 400,                 \
      "Error parsing the X-Amz-Credential parameter.")                                    \
    X(NOT_IMPLEMENTED, -60, "NotImplemented", 501,                                         \
      "A header you provided implies functionality that is not implemented")              \
    X(SLOW_DOWN, -61, "SlowDown", 503, "Please reduce your request rate.")                  \
    X(WRITE_QUORUM, -62, "ServiceUnavailable", 503,                                        \
      "Not enough drives are online to write this object.")                               \
    X(READ_QUORUM, -63, "ServiceUnavailable", 503,                                         \
      "Not enough drives are online to read this object.")                                \
    X(REQUEST_TIMEOUT, -64, "RequestTimeout", 400,                                         \
      "Your socket connection to the server was not read from or written to within the timeout period.") \
    X(HEADERS_TOO_LARGE, -65, "MetadataTooLarge", 400,                                     \
      "Your metadata headers exceed the maximum allowed metadata size.")                  \
    X(INVALID_URI, -66, "InvalidURI", 400, "Couldn't parse the specified URI.")            \
    X(BAD_REQUEST, -67, "BadRequest", 400, "Bad Request")                                  \
    X(DRIVE_NOT_FOUND, -70, "InternalError", 500, "A drive is missing or not formatted.")  \
    X(CORRUPT, -71, "InternalError", 500,                                                  \
      "Stored data failed its checksum and could not be reconstructed.")

enum cairn_error {
#define CAIRN_X_ENUM(name, value, code, status, msg) CAIRN_E_##name = (value),
    CAIRN_ERROR_TABLE(CAIRN_X_ENUM)
#undef CAIRN_X_ENUM
};

/* Positive, non-error results. */
#define CAIRN_OK 0
/* An auth plugin does not recognise the request's scheme: try the next one. */
#define CAIRN_DECLINED 1

/* ------------------------------------------------------------------------ */
/* Common types                                                              */
/* ------------------------------------------------------------------------ */

/* A name/value pair.  Names of HTTP headers are lower-case. */
struct cairn_kv {
    const char *name;
    const char *value;
};

/*
 * One request in flight, opaque to plugins.  It carries the request's body
 * streams, its memory arena and its log context.  Valid until the operation
 * it was passed to returns.
 */
struct cairn_req;

/* A plugin instance's configuration section, opaque; read it through services. */
struct cairn_config;

enum cairn_log_level {
    CAIRN_LOG_ERROR = 0,
    CAIRN_LOG_WARN = 1,
    CAIRN_LOG_INFO = 2,
    CAIRN_LOG_DEBUG = 3,
};

enum cairn_hash_algo {
    CAIRN_HASH_MD5 = 1,    /* 16-byte digest */
    CAIRN_HASH_SHA1 = 2,   /* 20 */
    CAIRN_HASH_SHA256 = 3, /* 32 */
    CAIRN_HASH_CRC32 = 4,  /* 4, big-endian, as S3's x-amz-checksum-crc32 */
    CAIRN_HASH_CRC32C = 5, /* 4, big-endian */
    CAIRN_HASH_CRC64NVME = 6, /* 8, big-endian */
    CAIRN_HASH_XXH64 = 7,  /* 8, big-endian; fast bitrot checksum */
};

/* An incremental hash.  Opaque; made by services->hash_new. */
struct cairn_hash;

/* ------------------------------------------------------------------------ */
/* Services the core offers every plugin                                     */
/* ------------------------------------------------------------------------ */

struct cairn_identity;

/*
 * Handed to init; valid until fini returns.  Grows only at the end: check
 * `size` before calling a member added after 1.0.
 */
struct cairn_services {
    size_t size;
    uint32_t abi_major;
    uint32_t abi_minor;

    /* Log a line.  `req` may be NULL; when set the line carries its request ID.
     * Never pass secrets. */
    void (*log)(struct cairn_req *req, enum cairn_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* Configuration of this plugin instance.  Strings stay valid until fini.
     * config_string returns `dflt` when the setting is absent. */
    const char *(*config_string)(const struct cairn_config *cfg, const char *name,
                                 const char *dflt);
    int64_t (*config_int)(const struct cairn_config *cfg, const char *name, int64_t dflt);
    /* Lists (e.g. "drives"): count, then items 0..count-1; absent -> 0. */
    size_t (*config_list_count)(const struct cairn_config *cfg, const char *name);
    const char *(*config_list_item)(const struct cairn_config *cfg, const char *name,
                                    size_t index);

    /* Memory with the lifetime of the request: freed when the request ends. */
    void *(*req_alloc)(struct cairn_req *req, size_t size);
    /* A request-lifetime copy of a string. */
    char *(*req_strdup)(struct cairn_req *req, const char *s);

    /*
     * Request body (PutObject, UploadPart).  Blocks until bytes are available.
     * Returns the number of bytes read (>0), 0 at the end of a body that passed
     * every check (payload signature, Content-MD5, x-amz-checksum-*), or a
     * negative error: the body failed a check, the client went away, or the
     * body was shorter than announced.  A backend commits a PUT only after it
     * has seen 0; on an error it removes everything it wrote.
     */
    ssize_t (*body_read)(struct cairn_req *req, void *buf, size_t len);

    /*
     * Response body (GetObject).  Blocks while the client is slower than the
     * backend (bounded buffering).  Returns 0, or CAIRN_E_CLIENT_GONE when the
     * client went away: stop and return that error.
     */
    int (*body_write)(struct cairn_req *req, const void *buf, size_t len);

    /* Hashing and checksums; see enum cairn_hash_algo for digest sizes. */
    struct cairn_hash *(*hash_new)(enum cairn_hash_algo algo);
    void (*hash_update)(struct cairn_hash *h, const void *data, size_t len);
    /* Writes the digest to `out` (at least 32 bytes) and frees `h`; returns its length. */
    size_t (*hash_final)(struct cairn_hash *h, uint8_t *out);
    /* One-shot HMAC-SHA256 (32-byte output). */
    void (*hmac_sha256)(const void *key, size_t key_len, const void *data, size_t len,
                        uint8_t out[32]);

    /* Wall clock in milliseconds since the Unix epoch. */
    int64_t (*now_ms)(void);
    /* Cryptographically random bytes. */
    int (*random_bytes)(void *buf, size_t len);

    /* Add `delta` to the counter `name` (Prometheus metric name). */
    void (*metric_add)(const char *name, double delta);

    /*
     * The IAM store: look an access key up.  On success fills `id_r` (strings
     * are request-lifetime copies made with req_alloc) and copies the secret
     * into `secret_r` (NUL-terminated).  CAIRN_E_INVALID_ACCESS_KEY when the key
     * is unknown; CAIRN_E_ACCESS_DENIED when the user is disabled.
     */
    int (*iam_lookup)(struct cairn_req *req, const char *access_key, struct cairn_identity *id_r,
                      char *secret_r, size_t secret_cap);

    /*
     * Set a trailing header of the request (an auth plugin decoding aws-chunked
     * trailers reports x-amz-checksum-* this way).  Copied.
     */
    int (*req_set_trailer)(struct cairn_req *req, const char *name, const char *value);

    /* ---- 1.1 ---- */

    /*
     * Response body by reference: like body_write, but the core keeps `buf`
     * instead of copying it, and calls release(buf, arg) exactly once (from
     * any thread, possibly before this returns) when it no longer needs the
     * bytes: after they were sent, or when the client went away.  Returns as
     * body_write does.  The buffer must not change until it is released.
     */
    int (*body_write_ref)(struct cairn_req *req, const void *buf, size_t len,
                          void (*release)(const void *buf, void *arg), void *arg);
};

/* ------------------------------------------------------------------------ */
/* Plugin kinds                                                              */
/* ------------------------------------------------------------------------ */

enum cairn_plugin_kind {
    CAIRN_PLUGIN_BACKEND = 1,
    CAIRN_PLUGIN_AUTH = 2,
    CAIRN_PLUGIN_POLICY = 3,
};

/* ---- backend ----------------------------------------------------------- */

enum cairn_versioning {
    CAIRN_VERSIONING_OFF = 0,       /* never enabled: one "null" version per key */
    CAIRN_VERSIONING_ENABLED = 1,   /* every write makes a new version */
    CAIRN_VERSIONING_SUSPENDED = 2, /* writes replace the "null" version */
};

/* What a backend knows of a bucket. */
struct cairn_bucket_info {
    const char *name;
    int64_t created_ms;
    const char *owner; /* access key or user name of the creator; may be "" */
};

/*
 * What a backend stores about one object version.  `attrs` are the object's
 * HTTP-visible attributes, stored and returned verbatim, in order: content-type,
 * content-encoding, cache-control, content-disposition, content-language,
 * expires, x-amz-meta-*, x-amz-checksum-*, x-amz-tagging, x-amz-storage-class,
 * and anything else the core decides to keep.  The backend never interprets them.
 */
struct cairn_object_info {
    uint64_t size;
    int64_t mtime_ms;
    char etag[80];        /* unquoted: 32 hex digits, or "<hex>-<parts>" for multipart */
    char version_id[64];  /* "null" for the null version; "" when not versioned */
    int is_delete_marker;
    int is_latest;
    uint32_t parts_count; /* 0 for a single-part object */
    size_t n_attrs;
    struct cairn_kv *attrs;
};

/* PutObject and UploadPart. */
struct cairn_put {
    const char *bucket;
    const char *key;
    int64_t content_length; /* decoded length, or -1 when unknown until EOF */
    enum cairn_versioning versioning;
    size_t n_attrs;
    const struct cairn_kv *attrs;
    /*
     * Filled by the core once body_read has returned 0: size, etag, and any
     * checksum attrs computed on the body.  The backend stores what it finds
     * here (plus mtime and version_id, which it sets itself).
     */
    struct cairn_object_info *final;
};

/*
 * GetObject and HeadObject.  The backend opens the version (holding whatever it
 * needs for a consistent read), then calls decide() with its info.  decide()
 * returns 0 and sets [*offset_r, *offset_r + *length_r) to stream that range
 * with body_write; returns 1 when no body is wanted (HEAD, 304); or returns a
 * negative error, which the backend returns as its own result.
 */
struct cairn_get {
    const char *bucket;
    const char *key;
    const char *version_id; /* NULL or "" for the latest */
    int (*decide)(void *ctx, const struct cairn_object_info *info, uint64_t *offset_r,
                  uint64_t *length_r);
    void *ctx;
};

enum cairn_list_entry_kind {
    CAIRN_LIST_OBJECT = 0,
    CAIRN_LIST_PREFIX = 1, /* a CommonPrefix rolled up at the delimiter */
};

struct cairn_list_entry {
    enum cairn_list_entry_kind kind;
    const char *key;              /* the key, or the common prefix */
    struct cairn_object_info info; /* for objects; attrs may be left empty */
};

/* ListObjects(V2), ListObjectVersions. */
struct cairn_list {
    const char *bucket;
    const char *prefix;    /* "" for all */
    const char *delimiter; /* "" for none; may be any string */
    const char *after;     /* list keys (and prefixes) strictly greater than this; "" for start */
    const char *after_version; /* with versions: resume after this version of `after` */
    int versions;          /* 1: every version, newest first within a key; 0: latest only,
                              skipping keys whose latest version is a delete marker */
    /* Called in byte order of key; return 0 to go on, 1 to stop, <0 to fail. */
    int (*emit)(void *ctx, const struct cairn_list_entry *entry);
    void *ctx;
};

struct cairn_part_info {
    uint32_t number;
    char etag[80]; /* unquoted */
    uint64_t size;
    int64_t mtime_ms;
    size_t n_attrs; /* checksums of the part, e.g. x-amz-checksum-crc32 */
    struct cairn_kv *attrs;
};

struct cairn_upload_info {
    const char *key;
    const char *upload_id;
    int64_t initiated_ms;
    size_t n_attrs;
    struct cairn_kv *attrs; /* the attrs given to mpu_create */
};

/*
 * The backend's operations.  Every one takes the instance state returned by
 * init and the request.  Keys are UTF-8 up to 1024 bytes and may contain '/',
 * ':', spaces and a trailing '/'; a backend must refuse a key with a "." or ".."
 * path segment (CAIRN_E_INVALID_OBJECT_NAME) and must never touch a path outside
 * its drives.  Bucket names were validated by the core; names starting with '.'
 * are reserved for the core (its IAM store) and must be accepted.
 */
struct cairn_backend_ops {
    size_t size;

    int (*bucket_create)(void *state, struct cairn_req *req, const struct cairn_bucket_info *b);
    /* CAIRN_E_BUCKET_NOT_EMPTY when any object version or upload remains. */
    int (*bucket_delete)(void *state, struct cairn_req *req, const char *bucket);
    /* Fills *info_r (strings request-lifetime); CAIRN_E_NO_SUCH_BUCKET. */
    int (*bucket_head)(void *state, struct cairn_req *req, const char *bucket,
                       struct cairn_bucket_info *info_r);
    /* Calls emit for every bucket in byte order (names starting with '.' included). */
    int (*bucket_list)(void *state, struct cairn_req *req,
                       int (*emit)(void *ctx, const struct cairn_bucket_info *b), void *ctx);
    /* Small per-bucket documents (policy, versioning, tagging, lifecycle, ...) by name.
     * get: *data_r is request-lifetime; CAIRN_E_NO_SUCH_CONFIG when absent.
     * put replaces atomically; delete of an absent document succeeds. */
    int (*bucket_config_get)(void *state, struct cairn_req *req, const char *bucket,
                             const char *name, char **data_r, size_t *len_r);
    int (*bucket_config_put)(void *state, struct cairn_req *req, const char *bucket,
                             const char *name, const void *data, size_t len);
    int (*bucket_config_delete)(void *state, struct cairn_req *req, const char *bucket,
                                const char *name);

    /* Streams the body with services->body_read and commits only after it
     * returned 0.  Fills *info_r with what was stored. */
    int (*object_put)(void *state, struct cairn_req *req, const struct cairn_put *put,
                      struct cairn_object_info *info_r);
    int (*object_get)(void *state, struct cairn_req *req, const struct cairn_get *get);
    /* Deletes `version_id`, or (NULL) the latest as S3 does for `versioning`:
     * OFF removes the object, ENABLED adds a delete marker, SUSPENDED replaces
     * the null version with a delete marker.  Deleting an absent key succeeds.
     * *info_r tells what happened (version_id, is_delete_marker). */
    int (*object_delete)(void *state, struct cairn_req *req, const char *bucket, const char *key,
                         const char *version_id, enum cairn_versioning versioning,
                         struct cairn_object_info *info_r);
    /* Replaces the attrs of one version without touching its data (tagging). */
    int (*object_set_attrs)(void *state, struct cairn_req *req, const char *bucket,
                            const char *key, const char *version_id, size_t n_attrs,
                            const struct cairn_kv *attrs);
    int (*object_list)(void *state, struct cairn_req *req, const struct cairn_list *list);

    /* Multipart.  upload_id_r receives a NUL-terminated id of at most 127 bytes. */
    int (*mpu_create)(void *state, struct cairn_req *req, const char *bucket, const char *key,
                      size_t n_attrs, const struct cairn_kv *attrs, char upload_id_r[128]);
    /* put->key is the object key; `part_number` is 1..10000.  Replaces an
     * earlier part of the same number. */
    int (*mpu_put_part)(void *state, struct cairn_req *req, const char *upload_id,
                        uint32_t part_number, const struct cairn_put *put,
                        struct cairn_object_info *info_r);
    /* Emits parts in ascending number greater than `after_part`. */
    int (*mpu_list_parts)(void *state, struct cairn_req *req, const char *bucket,
                          const char *key, const char *upload_id, uint32_t after_part,
                          int (*emit)(void *ctx, const struct cairn_part_info *p), void *ctx);
    /*
     * Completes with `parts` (ascending, checked by the core).  The backend
     * checks that each part exists with that ETag (CAIRN_E_INVALID_PART) and
     * that every part but the last is at least `min_part_size` bytes
     * (CAIRN_E_ENTITY_TOO_SMALL); it computes the multipart ETag (MD5 of the
     * concatenated binary part MD5s, "-N"), stores `n_attrs` attrs (merged over
     * the ones given at create), and commits without copying part data.
     */
    int (*mpu_complete)(void *state, struct cairn_req *req, const char *bucket, const char *key,
                        const char *upload_id, const struct cairn_part_info *parts,
                        size_t n_parts, uint64_t min_part_size, enum cairn_versioning versioning,
                        size_t n_attrs, const struct cairn_kv *attrs,
                        struct cairn_object_info *info_r);
    int (*mpu_abort)(void *state, struct cairn_req *req, const char *bucket, const char *key,
                     const char *upload_id);
    /* Emits uploads of `bucket` whose key starts with `prefix`, ordered by key then
     * initiation, after (key_marker, upload_id_marker). */
    int (*mpu_list)(void *state, struct cairn_req *req, const char *bucket, const char *prefix,
                    const char *key_marker, const char *upload_id_marker,
                    int (*emit)(void *ctx, const struct cairn_upload_info *u), void *ctx);

    /*
     * Heal: verify and repair `bucket`/`key` (every version), or everything
     * when bucket is NULL.  Reports progress through services->log and
     * metric_add.  Optional (NULL when the layout has nothing to heal).
     */
    int (*heal)(void *state, struct cairn_req *req, const char *bucket, const char *key);
};

/* ---- auth -------------------------------------------------------------- */

enum cairn_auth_type {
    CAIRN_AUTH_ANONYMOUS = 0,
    CAIRN_AUTH_HEADER = 1,  /* Authorization header */
    CAIRN_AUTH_QUERY = 2,   /* presigned URL */
    CAIRN_AUTH_POST = 3,    /* browser POST form */
};

/* Who the caller is. Strings are request-lifetime. */
struct cairn_identity {
    const char *access_key; /* "" when anonymous */
    const char *user;       /* user name (for a service account: the account's own name) */
    const char *parent;     /* parent user of a service account, else "" */
    int is_root;
    int is_anonymous;
    enum cairn_auth_type auth_type;
    int signature_version; /* 2 or 4; 0 when anonymous */
    const char *content_sha256; /* the x-amz-content-sha256 value seen, or "" */
};

/* The request as the auth plugin sees it.  Strings are borrowed. */
struct cairn_http_request {
    const char *method;
    const char *raw_path;  /* as sent, percent-encoded, without the query */
    const char *raw_query; /* as sent, without '?', "" when none */
    size_t n_headers;
    const struct cairn_kv *headers; /* names lower-case, in arrival order */
    const char *host;
    const char *remote_addr;
    int is_tls;
    const char *region; /* the region the server is configured for */
    int64_t now_ms;
};

/*
 * A body decoder an auth plugin installs for aws-chunked or signed payloads.
 * The core feeds it the raw body as it arrives, on the worker thread.
 *   decode: consume up to in_len bytes of raw input, produce up to out_cap
 *     decoded bytes; set *consumed_r and *produced_r.  Returns 0, or a negative
 *     error (CAIRN_E_SIGNATURE_MISMATCH, CAIRN_E_SHA256_MISMATCH, ...).  Called
 *     with in_len == 0 at the end of the raw body; it must then check that the
 *     stream is complete (final chunk, trailer, payload hash) and may still
 *     produce bytes.  Trailing headers are reported with req_set_trailer.
 *   decoded_length: the decoded length when known (x-amz-decoded-content-length), else -1.
 *   destroy: frees the decoder's state.
 */
struct cairn_body_decoder {
    size_t size;
    void *state;
    int64_t decoded_length;
    int (*decode)(void *state, struct cairn_req *req, const uint8_t *in, size_t in_len,
                  size_t *consumed_r, uint8_t *out, size_t out_cap, size_t *produced_r);
    void (*destroy)(void *state);
};

struct cairn_auth_ops {
    size_t size;
    /*
     * Identify the caller.  Returns CAIRN_DECLINED when the request does not
     * use this plugin's scheme (the core tries the next auth plugin, and treats
     * the request as anonymous when all decline); 0 with *id_r filled; or a
     * negative error (bad signature, unknown key, expired, skewed clock, ...).
     * When the body needs decoding or verification, sets *decoder_r (allocated
     * by the plugin, freed through its destroy); otherwise leaves it NULL.
     * `detail_r`, when set to a request-lifetime string, is added to the error
     * XML (e.g. "<StringToSign>..</StringToSign><CanonicalRequest>..</CanonicalRequest>"
     * as escaped XML elements).
     */
    int (*authenticate)(void *state, struct cairn_req *req, const struct cairn_http_request *http,
                        struct cairn_identity *id_r, struct cairn_body_decoder **decoder_r,
                        const char **detail_r);

    /* ---- 1.1 ---- */

    /*
     * Identify the signer of a browser POST upload (multipart/form-data to a
     * bucket).  `fields` are the form's fields before the file, names
     * lower-cased (e.g. "policy" (base64 of the policy document),
     * "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature",
     * or SigV2's "awsaccesskeyid" and "signature").  The plugin checks the
     * signature over the policy field; the core checks the policy document's
     * expiration and conditions.  CAIRN_DECLINED when the fields do not use
     * this plugin's scheme (no plugin accepting -> anonymous); 0 with *id_r
     * filled; or a negative error.  `detail_r` as for authenticate.  May be
     * NULL (a 1.0 plugin, or one without form support).
     */
    int (*authenticate_form)(void *state, struct cairn_req *req, size_t n_fields,
                             const struct cairn_kv *fields, struct cairn_identity *id_r,
                             const char **detail_r);
};

/* ---- policy ------------------------------------------------------------ */

enum cairn_decision {
    CAIRN_NO_OPINION = 0,
    CAIRN_ALLOW = 1,
    CAIRN_DENY = 2, /* explicit deny */
};

/* One authorization question. Strings borrowed. */
struct cairn_policy_query {
    const struct cairn_identity *who;
    const char *action;   /* "s3:GetObject" */
    const char *resource; /* "arn:aws:s3:::bucket/key" or "arn:aws:s3:::bucket" or "*" */
    const char *bucket_owner; /* "" when unknown */
    /* The caller's identity-based policies (user, its groups, its parent for a
     * service account), JSON documents. */
    size_t n_identity_policies;
    const char *const *identity_policies;
    const char *bucket_policy; /* JSON, or NULL */
    /* Condition context: aws:SourceIp, aws:SecureTransport, s3:prefix, ...
     * A key may appear more than once (multi-valued keys). */
    size_t n_context;
    const struct cairn_kv *context;
};

struct cairn_policy_ops {
    size_t size;
    /* Checks a policy document (a bucket policy if is_bucket_policy, else an
     * identity policy).  0, or CAIRN_E_MALFORMED_POLICY with a reason copied
     * to reason_r. */
    int (*validate)(void *state, const char *json, size_t len, int is_bucket_policy,
                    char *reason_r, size_t reason_cap);
    /* Decides.  When explain_r is not NULL, writes a short human explanation
     * (the statement that decided).  Returns enum cairn_decision (>= 0) or a
     * negative error. */
    int (*evaluate)(void *state, struct cairn_req *req, const struct cairn_policy_query *q,
                    char *explain_r, size_t explain_cap);
};

/* ------------------------------------------------------------------------ */
/* The descriptor                                                            */
/* ------------------------------------------------------------------------ */

struct cairn_plugin_descriptor {
    /* Must come first: they protect the rest. */
    uint32_t abi_major;
    uint32_t abi_minor;
    enum cairn_plugin_kind kind;
    const char *name;    /* e.g. "backend-ec" */
    const char *version; /* the plugin's own version */
    /*
     * Creates an instance from its configuration section.  A plugin may be
     * instantiated more than once (two backends of one kind).  Returns 0 and
     * *state_r, or a negative error after logging why.
     */
    int (*init)(const struct cairn_services *services, const struct cairn_config *config,
                void **state_r);
    void (*fini)(void *state);
    /* Exactly one, matching `kind`. */
    const struct cairn_backend_ops *backend;
    const struct cairn_auth_ops *auth;
    const struct cairn_policy_ops *policy;
};

/* The one symbol a plugin exports. */
#define CAIRN_PLUGIN_SYMBOL "cairn_plugin"

/* Convenience for plugins: declare the exported descriptor. */
#define CAIRN_PLUGIN_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
}
#endif
#endif /* CAIRN_PLUGIN_H */
