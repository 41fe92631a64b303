/*
 * s3-multipart.c -- multipart uploads: Create, UploadPart, UploadPartCopy,
 * Complete, Abort, ListParts and ListMultipartUploads.
 *
 * The backend stores parts and commits the object; this file checks the
 * requests, keeps the upload's checksum algorithm and type (attrs given at
 * create), and at completion computes the object's checksum from the parts'
 * stored checksums: COMPOSITE = base64(hash(concat(part checksums))) + "-N",
 * FULL_OBJECT (CRCs only) = the CRC of the whole object, combined from the
 * parts' CRCs and sizes without reading any data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3-internal.h"
#include "s3-list-encoding.h"
#include "s3-mpu-checksum.h"
#include "s3-request-xml.h"
#include "s3-router.h"
#include "xml-writer.h"

#define S3_MAX_PART_SIZE (5ULL * 1024 * 1024 * 1024)
/* 10,000 parts with every checksum element, pretty-printed. */
#define S3_COMPLETE_BODY_MAX (8 * 1024 * 1024)
#define S3_LIST_PARTS_MAX 1000
#define S3_LIST_UPLOADS_MAX 1000

static const char *const checksum_names[] = {"crc32", "crc32c", "crc64nvme", "sha1", "sha256"};
static const char *const checksum_elems[] = {"ChecksumCRC32", "ChecksumCRC32C",
                                             "ChecksumCRC64NVME", "ChecksumSHA1",
                                             "ChecksumSHA256"};
#define N_CHECKSUMS (sizeof(checksum_names) / sizeof(checksum_names[0]))

static const char *kv_get(const struct cairn_kv *kv, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (kv[i].name && strcasecmp(kv[i].name, name) == 0)
            return kv[i].value;
    return NULL;
}

static const char *quoted(struct s3_call *call, const char *etag)
{
    return s3_printf(call, "\"%s\"", etag ? etag : "");
}

/* The checksum algorithm index (into checksum_names) of `name`, or -1. */
static int checksum_index(const char *name)
{
    for (size_t i = 0; name && i < N_CHECKSUMS; i++)
        if (strcasecmp(name, checksum_names[i]) == 0)
            return (int)i;
    return -1;
}

/* The upload id parameter; NULL when absent or empty. */
static const char *upload_id_param(struct s3_call *call)
{
    const char *id = s3_param(call, "uploadId");
    return id && *id ? id : NULL;
}

/* ---- finding one upload ----------------------------------------------------- */

struct find_ctx {
    struct s3_call *call;
    const char *key;
    const char *upload_id;
    struct cairn_upload_info *out;
    int found;
    int err;
};

static int find_emit(void *vctx, const struct cairn_upload_info *u)
{
    struct find_ctx *ctx = vctx;
    if (!u || !u->key || !u->upload_id)
        return 0;
    int c = strcmp(u->key, ctx->key);
    if (c > 0)
        return 1; /* ordered by key: it is not there */
    if (c < 0 || strcmp(u->upload_id, ctx->upload_id) != 0)
        return 0;
    struct arena *a = ctx->call->req.arena;
    struct cairn_upload_info *o = ctx->out;
    o->key = arena_strdup(a, u->key);
    o->upload_id = arena_strdup(a, u->upload_id);
    o->initiated_ms = u->initiated_ms;
    o->n_attrs = 0;
    o->attrs = u->n_attrs ? arena_alloc(a, u->n_attrs * sizeof(*o->attrs)) : NULL;
    if (!o->key || !o->upload_id || (u->n_attrs && !o->attrs)) {
        ctx->err = CAIRN_E_NOMEM;
        return CAIRN_E_NOMEM;
    }
    for (size_t i = 0; i < u->n_attrs; i++) {
        o->attrs[i].name = arena_strdup(a, u->attrs[i].name ? u->attrs[i].name : "");
        o->attrs[i].value = arena_strdup(a, u->attrs[i].value ? u->attrs[i].value : "");
        if (!o->attrs[i].name || !o->attrs[i].value) {
            ctx->err = CAIRN_E_NOMEM;
            return CAIRN_E_NOMEM;
        }
        o->n_attrs++;
    }
    ctx->found = 1;
    return 1;
}

/* Looks up upload `upload_id` of call->key: 0 with *info_r, or NoSuchUpload. */
static int find_upload(struct s3_call *call, const char *upload_id,
                       struct cairn_upload_info *info_r)
{
    if (!call->be->mpu_list)
        return CAIRN_E_NOT_IMPLEMENTED;
    memset(info_r, 0, sizeof(*info_r));
    struct find_ctx ctx = {.call = call, .key = call->key, .upload_id = upload_id, .out = info_r};
    int rc = call->be->mpu_list(call->be_state, &call->req, call->bucket, call->key, "", "",
                                find_emit, &ctx);
    if (ctx.err < 0)
        return ctx.err;
    if (rc < 0)
        return rc;
    return ctx.found ? 0 : CAIRN_E_NO_SUCH_UPLOAD;
}

/* The owner shown as Owner and Initiator: the bucket's owner, else the caller. */
static const char *shown_owner(struct s3_call *call)
{
    int err = 0;
    const char *owner = s3_bucket_owner(call, &err);
    if (owner && *owner)
        return owner;
    if (call->who.user && *call->who.user)
        return call->who.user;
    return "cairn";
}

static void write_person(struct xml_writer *w, const char *elem, const char *who)
{
    xml_open(w, elem, NULL);
    xml_elem(w, "ID", who);
    xml_elem(w, "DisplayName", who);
    xml_close(w, elem);
}

static int respond_writer(struct s3_call *call, struct xml_writer *w,
                          const struct cairn_kv *headers, size_t n_headers)
{
    int rc = w->failed ? CAIRN_E_NOMEM : 0;
    if (rc == 0)
        s3_respond_xml(call, 200, w->buf, w->len, headers, n_headers);
    xml_writer_clear(w);
    return rc;
}

/* ---- CreateMultipartUpload -------------------------------------------------- */

static int storage_class_known(const char *sc)
{
    static const char *const known[] = {"STANDARD",     "REDUCED_REDUNDANCY", "STANDARD_IA",
                                        "ONEZONE_IA",   "INTELLIGENT_TIERING", "GLACIER",
                                        "DEEP_ARCHIVE", "OUTPOSTS",            "GLACIER_IR",
                                        "EXPRESS_ONEZONE"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(sc, known[i]) == 0)
            return 1;
    return 0;
}

int s3_op_create_multipart_upload(struct s3_call *call)
{
    if (!call->be->mpu_create)
        return CAIRN_E_NOT_IMPLEMENTED;
    const char *sc = s3_header(call, "x-amz-storage-class");
    if (sc && *sc && !storage_class_known(sc))
        return CAIRN_E_INVALID_STORAGE_CLASS;

    /* x-amz-checksum-algorithm / -type: validated, normalised, kept as attrs. */
    const char *alg_h = s3_header(call, "x-amz-checksum-algorithm");
    const char *type_h = s3_header(call, "x-amz-checksum-type");
    const char *alg = NULL, *type = NULL;
    if (alg_h && *alg_h) {
        int i = checksum_index(alg_h);
        if (i < 0)
            return s3_error(call, CAIRN_E_INVALID_REQUEST,
                            "Checksum algorithm provided is unsupported. Please try again with "
                            "any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
                            NULL);
        static const char *const upper[] = {"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"};
        alg = upper[i];
    }
    if (type_h && *type_h) {
        if (strcasecmp(type_h, "COMPOSITE") == 0)
            type = "COMPOSITE";
        else if (strcasecmp(type_h, "FULL_OBJECT") == 0)
            type = "FULL_OBJECT";
        else
            return s3_error(call, CAIRN_E_INVALID_REQUEST,
                            "Value for x-amz-checksum-type header is invalid.", NULL);
        if (!alg)
            return s3_error(call, CAIRN_E_INVALID_REQUEST,
                            "The x-amz-checksum-type header requires x-amz-checksum-algorithm.",
                            NULL);
    }
    if (alg && !type)
        type = strcmp(alg, "CRC64NVME") == 0 ? "FULL_OBJECT" : "COMPOSITE";
    if (alg && strcmp(type, "FULL_OBJECT") == 0 && strncmp(alg, "SHA", 3) == 0)
        return s3_error(call, CAIRN_E_INVALID_REQUEST,
                        s3_printf(call, "The FULL_OBJECT checksum type cannot be used with the "
                                        "%s checksum algorithm.", alg),
                        NULL);
    if (alg && strcmp(type, "COMPOSITE") == 0 && strcmp(alg, "CRC64NVME") == 0)
        return s3_error(call, CAIRN_E_INVALID_REQUEST,
                        "The COMPOSITE checksum type cannot be used with the CRC64NVME checksum "
                        "algorithm.",
                        NULL);

    struct cairn_kv *attrs;
    size_t n_attrs = s3_request_object_attrs(call, &attrs);
    size_t cap = n_attrs;
    if (alg) {
        s3_headers_add(call, &attrs, &n_attrs, &cap, "x-amz-checksum-algorithm", alg);
        s3_headers_add(call, &attrs, &n_attrs, &cap, "x-amz-checksum-type", type);
    }

    char upload_id[128];
    memset(upload_id, 0, sizeof(upload_id));
    int rc = call->be->mpu_create(call->be_state, &call->req, call->bucket, call->key, n_attrs,
                                  attrs, upload_id);
    if (rc < 0)
        return rc;
    upload_id[sizeof(upload_id) - 1] = '\0';

    struct xml_writer w;
    xml_writer_init(&w);
    xml_open(&w, "InitiateMultipartUploadResult", S3_XMLNS);
    xml_elem(&w, "Bucket", call->bucket);
    xml_elem(&w, "Key", call->key);
    xml_elem(&w, "UploadId", upload_id);
    xml_close(&w, "InitiateMultipartUploadResult");
    struct cairn_kv *h = NULL;
    size_t n = 0, hcap = 0;
    if (alg) {
        s3_headers_add(call, &h, &n, &hcap, "x-amz-checksum-algorithm", alg);
        s3_headers_add(call, &h, &n, &hcap, "x-amz-checksum-type", type);
    }
    return respond_writer(call, &w, h, n);
}

/*
 * A request-lifetime copy of the request head, for the body pipeline (which
 * reads its checksum instructions from the headers): without any
 * x-amz-checksum-* and x-amz-sdk-checksum-algorithm header when
 * `drop_checksums`, plus `add_name: add_value` when add_name is set.
 * NULL when out of memory.
 */
static const struct http_request_head *edited_head(struct s3_call *call, int drop_checksums,
                                                   const char *add_name, const char *add_value)
{
    const struct http_request_head *orig = call->head;
    struct http_request_head *head = s3_alloc(call, sizeof(*head));
    struct cairn_kv *headers = s3_alloc(call, (orig->n_headers + 1) * sizeof(*headers));
    if (!head || !headers)
        return NULL;
    *head = *orig;
    size_t n = 0;
    for (size_t i = 0; i < orig->n_headers; i++) {
        const char *name = orig->headers[i].name;
        if (drop_checksums && (strncmp(name, "x-amz-checksum-", 15) == 0 ||
                               strcmp(name, "x-amz-sdk-checksum-algorithm") == 0))
            continue;
        headers[n++] = orig->headers[i];
    }
    if (add_name)
        headers[n++] = (struct cairn_kv){add_name, add_value};
    head->headers = headers;
    head->n_headers = n;
    return head;
}

/* ---- UploadPart / UploadPartCopy -------------------------------------------- */

/* Parses partNumber: 1..10000, else InvalidArgument (answered here, returns 1). */
static int part_number_param(struct s3_call *call, uint32_t *number_r)
{
    unsigned long v;
    if (s3_parse_uint(s3_param(call, "partNumber"), S3_MAX_PART_NUMBER, &v) < 0 || v < 1) {
        s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                 "Part number must be an integer between 1 and 10000, inclusive", NULL);
        return 1;
    }
    *number_r = (uint32_t)v;
    return 0;
}

/* The decoded length of the request body, -1 when unknown until its end. */
static int64_t body_length(struct s3_call *call)
{
    const char *dl = s3_header(call, "x-amz-decoded-content-length");
    if (dl) {
        char *end;
        long long v = strtoll(dl, &end, 10);
        return *dl && !*end && v >= 0 ? v : -1;
    }
    if (call->decoder)
        return call->decoder->decoded_length;
    return call->head ? call->head->content_length : -1;
}

/* Streams the body (request or copy pipe) into part `number`. */
static int put_part(struct s3_call *call, const char *upload_id, uint32_t number, int64_t length,
                    struct cairn_object_info *final, struct cairn_object_info *info)
{
    memset(final, 0, sizeof(*final));
    memset(info, 0, sizeof(*info));
    int rc = s3_body_begin_put(call, final);
    if (rc < 0)
        return rc;
    struct cairn_put put = {
        .bucket = call->bucket,
        .key = call->key,
        .content_length = length,
        .versioning = CAIRN_VERSIONING_OFF,
        .n_attrs = 0,
        .attrs = NULL,
        .final = final,
    };
    rc = call->be->mpu_put_part(call->be_state, &call->req, upload_id, number, &put, info);
    if (rc < 0)
        return rc;
    if (!info->etag[0])
        memcpy(info->etag, final->etag, sizeof(info->etag));
    return 0;
}

int s3_op_upload_part(struct s3_call *call)
{
    if (!call->be->mpu_put_part)
        return CAIRN_E_NOT_IMPLEMENTED;
    const char *upload_id = upload_id_param(call);
    if (!upload_id)
        return CAIRN_E_NO_SUCH_UPLOAD;
    uint32_t number;
    if (part_number_param(call, &number))
        return 0;
    int64_t length = body_length(call);
    if (length > (int64_t)S3_MAX_PART_SIZE)
        return CAIRN_E_ENTITY_TOO_LARGE;
    if (length < 0 && call->head && !call->head->chunked && !call->decoder &&
        call->head->content_length < 0)
        return s3_error_code(call, 411, "MissingContentLength",
                             "You must provide the Content-Length HTTP header.");

    struct cairn_object_info final, info;
    int rc = put_part(call, upload_id, number, length, &final, &info);
    if (rc < 0)
        return rc;
    struct cairn_kv *h = NULL;
    size_t n = 0, cap = 0;
    s3_headers_add(call, &h, &n, &cap, "etag", quoted(call, info.etag));
    s3_add_checksum_headers(call, &final, &h, &n, &cap);
    return s3_respond_empty(call, 200, h, n);
}

/* Parses x-amz-copy-source-range "bytes=first-last": 0, or InvalidArgument. */
static int parse_copy_range(const char *range, uint64_t *offset_r, int64_t *length_r)
{
    if (strncmp(range, "bytes=", 6) != 0)
        return CAIRN_E_INVALID_ARGUMENT;
    const char *p = range + 6;
    char *end;
    if (*p < '0' || *p > '9')
        return CAIRN_E_INVALID_ARGUMENT;
    unsigned long long first = strtoull(p, &end, 10);
    if (*end != '-' || end[1] < '0' || end[1] > '9')
        return CAIRN_E_INVALID_ARGUMENT;
    unsigned long long last = strtoull(end + 1, &end, 10);
    if (*end != '\0' || last < first || last - first + 1 > S3_MAX_PART_SIZE)
        return CAIRN_E_INVALID_ARGUMENT;
    *offset_r = first;
    *length_r = (int64_t)(last - first + 1);
    return 0;
}

struct part_copy {
    const char *upload_id;
    uint32_t number;
    int64_t length;               /* -1: the whole source */
    struct cairn_object_info *src; /* filled by s3_copy_stream before put */
    struct cairn_object_info final, info;
};

static int part_copy_put(struct s3_call *call, void *vctx)
{
    struct part_copy *pc = vctx;
    int64_t length = pc->length >= 0 ? pc->length : (int64_t)pc->src->size;
    return put_part(call, pc->upload_id, pc->number, length, &pc->final, &pc->info);
}

int s3_op_upload_part_copy(struct s3_call *call)
{
    if (!call->be->mpu_put_part)
        return CAIRN_E_NOT_IMPLEMENTED;
    const char *upload_id = upload_id_param(call);
    if (!upload_id)
        return CAIRN_E_NO_SUCH_UPLOAD;
    uint32_t number;
    if (part_number_param(call, &number))
        return 0;
    const char *src_bucket, *src_key, *src_version;
    int rc = s3_parse_copy_source(call, &src_bucket, &src_key, &src_version);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    uint64_t offset = 0;
    int64_t length = -1;
    const char *range = s3_header(call, "x-amz-copy-source-range");
    if (range && parse_copy_range(range, &offset, &length) < 0)
        return s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                        "The x-amz-copy-source-range value must be of the form "
                        "bytes=first-last where first and last are the zero-based offsets of "
                        "the first and last bytes to copy",
                        NULL);
    rc = s3_authorize_copy_source(call, src_bucket, src_key, src_version);
    if (rc < 0)
        return rc;
    /* The upload must exist before any byte is copied. */
    struct cairn_upload_info up;
    rc = find_upload(call, upload_id, &up);
    if (rc < 0)
        return rc;

    struct cairn_object_info src;
    struct part_copy *pc = s3_alloc(call, sizeof(*pc));
    if (!pc)
        return CAIRN_E_NOMEM;
    pc->upload_id = upload_id;
    pc->number = number;
    pc->length = length;
    pc->src = &src;
    /* When the upload has a checksum algorithm, the copied part gets that
     * checksum too (the pipeline computes what x-amz-checksum-algorithm names),
     * so that the completed object can have its COMPOSITE/FULL_OBJECT checksum. */
    const struct http_request_head *orig = call->head;
    const char *alg = kv_get(up.attrs, up.n_attrs, "x-amz-checksum-algorithm");
    if (alg && orig && !s3_header(call, "x-amz-checksum-algorithm")) {
        const struct http_request_head *head = edited_head(call, 0, "x-amz-checksum-algorithm",
                                                           alg);
        if (!head)
            return CAIRN_E_NOMEM;
        call->head = head;
    }
    rc = s3_copy_stream(call, src_bucket, src_key, src_version, offset, length, part_copy_put, pc,
                        &src);
    call->head = orig;
    if (rc == CAIRN_E_NO_SUCH_KEY && src_version)
        rc = CAIRN_E_NO_SUCH_VERSION;
    if (rc < 0)
        return rc;

    struct xml_writer w;
    xml_writer_init(&w);
    xml_open(&w, "CopyPartResult", S3_XMLNS);
    int64_t mtime = pc->info.mtime_ms ? pc->info.mtime_ms : call->services->now_ms();
    xml_elem(&w, "LastModified", s3_time_iso8601(call, mtime));
    xml_elem(&w, "ETag", quoted(call, pc->info.etag));
    for (size_t i = 0; i < N_CHECKSUMS; i++) {
        const char *v = kv_get(pc->final.attrs, pc->final.n_attrs,
                               s3_printf(call, "x-amz-checksum-%s", checksum_names[i]));
        if (v)
            xml_elem(&w, checksum_elems[i], v);
    }
    xml_close(&w, "CopyPartResult");
    struct cairn_kv *h = NULL;
    size_t n = 0, cap = 0;
    if (src.version_id[0])
        s3_headers_add(call, &h, &n, &cap, "x-amz-copy-source-version-id",
                       s3_printf(call, "%s", src.version_id));
    return respond_writer(call, &w, h, n);
}

/* ---- CompleteMultipartUpload ------------------------------------------------ */

/* What the backend stored for the parts being completed (checksum and size). */
struct stored_parts {
    struct s3_call *call;
    const char *attr;   /* x-amz-checksum-<alg> */
    const struct cairn_part_info *wanted;
    size_t n_wanted;
    size_t next;        /* index into wanted of the next part to match */
    const char **checksums; /* per wanted part, NULL when not stored */
    uint64_t *sizes;
    int *present;
    int err;
};

static int stored_emit(void *vctx, const struct cairn_part_info *p)
{
    struct stored_parts *sp = vctx;
    if (!p)
        return 0;
    while (sp->next < sp->n_wanted && sp->wanted[sp->next].number < p->number)
        sp->next++;
    if (sp->next == sp->n_wanted)
        return 1;
    if (sp->wanted[sp->next].number != p->number)
        return 0;
    size_t i = sp->next++;
    sp->present[i] = 1;
    sp->sizes[i] = p->size;
    const char *v = sp->attr ? kv_get(p->attrs, p->n_attrs, sp->attr) : NULL;
    if (v) {
        sp->checksums[i] = arena_strdup(sp->call->req.arena, v);
        if (!sp->checksums[i]) {
            sp->err = CAIRN_E_NOMEM;
            return CAIRN_E_NOMEM;
        }
    }
    return 0;
}

/*
 * Reads what the backend stored for the parts being completed: their sizes
 * and, when `checksum_attr` is set (x-amz-checksum-<alg>), their checksums.
 * 0 with sp filled, or a negative error (InvalidPart when a part is missing).
 */
static int read_stored_parts(struct s3_call *call, const char *upload_id,
                             const char *checksum_attr, const struct cairn_part_info *parts,
                             size_t n, struct stored_parts *sp)
{
    *sp = (struct stored_parts){
        .call = call,
        .attr = checksum_attr,
        .wanted = parts,
        .n_wanted = n,
        .checksums = s3_alloc(call, n * sizeof(char *)),
        .sizes = s3_alloc(call, n * sizeof(uint64_t)),
        .present = s3_alloc(call, n * sizeof(int)),
    };
    if (!sp->checksums || !sp->sizes || !sp->present)
        return CAIRN_E_NOMEM;
    memset(sp->checksums, 0, n * sizeof(char *));
    memset(sp->present, 0, n * sizeof(int));
    int rc = call->be->mpu_list_parts(call->be_state, &call->req, call->bucket, call->key,
                                      upload_id, 0, stored_emit, sp);
    if (sp->err < 0)
        return sp->err;
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (!sp->present[i])
            return CAIRN_E_INVALID_PART;
    return 0;
}

/*
 * The byte sizes of the completed parts, in order, as S3_PART_SIZES_ATTR
 * stores them ("5242880,5242880,17"): GetObject ?partNumber=N reads them.
 */
static const char *part_sizes_value(struct s3_call *call, const struct stored_parts *sp)
{
    size_t cap = sp->n_wanted * 21 + 1, o = 0;
    char *out = s3_alloc(call, cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (size_t i = 0; i < sp->n_wanted; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%llu", i ? "," : "",
                              (unsigned long long)sp->sizes[i]);
    return out;
}

/*
 * The object's checksum for an upload with algorithm `alg_name` and `type`,
 * from the parts' stored checksums in `sp`: 0 with *value_r (NULL when some
 * part has no stored checksum, e.g. copied parts, so none can be given), or
 * InvalidPart when the client's part checksum disagrees with the stored one.
 */
static int upload_checksum(struct s3_call *call, const char *upload_id, const char *alg_name,
                           const char *type, const struct stored_parts *sp,
                           const char **value_r)
{
    *value_r = NULL;
    int idx = checksum_index(alg_name);
    if (idx < 0 || !sp->attr)
        return 0;
    int complete = 1;
    for (size_t i = 0; i < sp->n_wanted; i++) {
        const struct cairn_part_info *part = &sp->wanted[i];
        const char *given = kv_get(part->attrs, part->n_attrs, sp->attr);
        if (given && sp->checksums[i] && strcmp(given, sp->checksums[i]) != 0)
            return CAIRN_E_INVALID_PART;
        if (!sp->checksums[i])
            complete = 0;
    }
    if (!complete) {
        call->services->log(&call->req, CAIRN_LOG_INFO,
                            "multipart upload %s: a part has no %s checksum; the object gets none",
                            upload_id, checksum_names[idx]);
        return 0;
    }
    enum cairn_hash_algo algo = s3_checksum_algo(checksum_names[idx]);
    char *out = s3_alloc(call, 80);
    if (!out)
        return CAIRN_E_NOMEM;
    int rc;
    if (type && strcmp(type, "FULL_OBJECT") == 0)
        rc = s3_full_object_crc(algo, sp->checksums, sp->sizes, sp->n_wanted, out, 80);
    else
        rc = s3_composite_checksum(algo, sp->checksums, sp->n_wanted, out, 80);
    if (rc < 0)
        return CAIRN_E_INVALID_PART; /* a stored part checksum is malformed */
    *value_r = out;
    return 0;
}

/*
 * Reads the CompleteMultipartUpload body.  Its x-amz-checksum-* headers give
 * the checksum of the whole object, not of this body, so the body pipeline
 * must not verify the body against them (Content-MD5 still applies).
 */
static int read_complete_body(struct s3_call *call, size_t max, char **body_r, size_t *len_r)
{
    const struct http_request_head *orig = call->head;
    if (!orig)
        return s3_read_small_body(call, max, body_r, len_r);
    const struct http_request_head *head = edited_head(call, 1, NULL, NULL);
    if (!head)
        return CAIRN_E_NOMEM;
    call->head = head;
    int rc = s3_read_small_body(call, max, body_r, len_r);
    call->head = orig;
    return rc;
}

int s3_op_complete_multipart_upload(struct s3_call *call)
{
    if (!call->be->mpu_complete)
        return CAIRN_E_NOT_IMPLEMENTED;
    const char *upload_id = upload_id_param(call);
    if (!upload_id)
        return CAIRN_E_NO_SUCH_UPLOAD;
    struct cairn_upload_info up;
    int rc = find_upload(call, upload_id, &up);
    if (rc < 0)
        return rc;

    size_t max = S3_COMPLETE_BODY_MAX;
    if (call->head && call->head->content_length >= 0 &&
        (uint64_t)call->head->content_length < max)
        max = (size_t)call->head->content_length;
    char *body;
    size_t len;
    rc = read_complete_body(call, max, &body, &len);
    if (rc < 0)
        return rc == CAIRN_E_ENTITY_TOO_LARGE ? CAIRN_E_MALFORMED_XML : rc;
    struct cairn_part_info *parts;
    size_t n_parts;
    rc = s3_parse_complete_body(call->req.arena, body, len, &parts, &n_parts);
    if (rc < 0) {
        if (rc == CAIRN_E_INVALID_ARGUMENT)
            return s3_error(call, rc,
                            "Part number must be an integer between 1 and 10000, inclusive", NULL);
        return rc;
    }

    /* The object's checksum, from the parts' stored checksums, and the part
     * sizes (kept for GetObject ?partNumber=N). */
    const char *alg = kv_get(up.attrs, up.n_attrs, "x-amz-checksum-algorithm");
    const char *type = kv_get(up.attrs, up.n_attrs, "x-amz-checksum-type");
    int idx = checksum_index(alg);
    const char *cks_attr = idx >= 0 ? s3_printf(call, "x-amz-checksum-%s", checksum_names[idx])
                                    : NULL;
    struct cairn_kv attrs[2];
    size_t n_attrs = 0;
    const char *cks = NULL, *sizes = NULL;
    if (call->be->mpu_list_parts && n_parts > 0) {
        struct stored_parts sp;
        rc = read_stored_parts(call, upload_id, cks_attr, parts, n_parts, &sp);
        if (rc < 0)
            return rc;
        rc = upload_checksum(call, upload_id, alg, type, &sp, &cks);
        if (rc < 0)
            return rc;
        if (!(sizes = part_sizes_value(call, &sp)))
            return CAIRN_E_NOMEM;
    }
    if (cks && cks_attr) {
        /* A whole-object checksum sent with the request must match. */
        const char *given = s3_header(call, cks_attr);
        if (given && strcmp(given, cks) != 0)
            return CAIRN_E_BAD_DIGEST;
        attrs[n_attrs++] = (struct cairn_kv){cks_attr, cks};
    }
    if (sizes)
        attrs[n_attrs++] = (struct cairn_kv){S3_PART_SIZES_ATTR, sizes};

    enum cairn_versioning versioning = s3_bucket_versioning(call);
    struct cairn_object_info info;
    memset(&info, 0, sizeof(info));
    rc = call->be->mpu_complete(call->be_state, &call->req, call->bucket, call->key, upload_id,
                                parts, n_parts, call->settings->min_part_size, versioning,
                                n_attrs, attrs, &info);
    if (rc < 0)
        return rc;
    if (!info.etag[0]) {
        const char **etags = s3_alloc(call, n_parts * sizeof(char *));
        if (!etags)
            return CAIRN_E_NOMEM;
        for (size_t i = 0; i < n_parts; i++)
            etags[i] = parts[i].etag;
        s3_multipart_etag(etags, n_parts, info.etag);
    }

    const char *host = s3_header(call, "host");
    const char *scheme = call->head && call->head->is_tls ? "https" : "http";
    struct xml_writer w;
    xml_writer_init(&w);
    xml_open(&w, "CompleteMultipartUploadResult", S3_XMLNS);
    xml_elem(&w, "Location",
             s3_printf(call, "%s://%s/%s/%s", scheme, host ? host : "localhost", call->bucket,
                       s3_url_encode(call->req.arena, call->key)));
    xml_elem(&w, "Bucket", call->bucket);
    xml_elem(&w, "Key", call->key);
    xml_elem(&w, "ETag", quoted(call, info.etag));
    if (cks && idx >= 0) {
        xml_elem(&w, checksum_elems[idx], cks);
        xml_elem(&w, "ChecksumType", type ? type : "COMPOSITE");
    }
    xml_close(&w, "CompleteMultipartUploadResult");
    struct cairn_kv *h = NULL;
    size_t n = 0, cap = 0;
    if (versioning != CAIRN_VERSIONING_OFF && info.version_id[0])
        s3_headers_add(call, &h, &n, &cap, "x-amz-version-id",
                       s3_printf(call, "%s", info.version_id));
    return respond_writer(call, &w, h, n);
}

/* ---- AbortMultipartUpload ---------------------------------------------------- */

int s3_op_abort_multipart_upload(struct s3_call *call)
{
    if (!call->be->mpu_abort)
        return CAIRN_E_NOT_IMPLEMENTED;
    const char *upload_id = upload_id_param(call);
    if (!upload_id)
        return CAIRN_E_NO_SUCH_UPLOAD;
    int rc = call->be->mpu_abort(call->be_state, &call->req, call->bucket, call->key, upload_id);
    if (rc < 0)
        return rc;
    return s3_respond_empty(call, 204, NULL, 0);
}

/* ---- ListParts ------------------------------------------------------------------ */

struct parts_page {
    struct s3_call *call;
    int max;
    size_t n;
    struct cairn_part_info *parts;
    int truncated;
    int err;
};

static int parts_emit(void *vctx, const struct cairn_part_info *p)
{
    struct parts_page *pg = vctx;
    if (!p)
        return 0;
    if (pg->n == (size_t)pg->max) {
        pg->truncated = 1;
        return 1;
    }
    struct arena *a = pg->call->req.arena;
    struct cairn_part_info *o = &pg->parts[pg->n];
    *o = *p;
    o->etag[sizeof(o->etag) - 1] = '\0';
    o->n_attrs = 0;
    o->attrs = p->n_attrs ? arena_alloc(a, p->n_attrs * sizeof(*o->attrs)) : NULL;
    if (p->n_attrs && !o->attrs) {
        pg->err = CAIRN_E_NOMEM;
        return CAIRN_E_NOMEM;
    }
    for (size_t i = 0; i < p->n_attrs; i++) {
        o->attrs[i].name = arena_strdup(a, p->attrs[i].name ? p->attrs[i].name : "");
        o->attrs[i].value = arena_strdup(a, p->attrs[i].value ? p->attrs[i].value : "");
        if (!o->attrs[i].name || !o->attrs[i].value) {
            pg->err = CAIRN_E_NOMEM;
            return CAIRN_E_NOMEM;
        }
        o->n_attrs++;
    }
    pg->n++;
    return 0;
}

int s3_op_list_parts(struct s3_call *call)
{
    if (!call->be->mpu_list_parts)
        return CAIRN_E_NOT_IMPLEMENTED;
    const char *upload_id = upload_id_param(call);
    if (!upload_id)
        return CAIRN_E_NO_SUCH_UPLOAD;
    unsigned long marker = 0;
    const char *marker_s = s3_param(call, "part-number-marker");
    if (marker_s && *marker_s && s3_parse_uint(marker_s, S3_MAX_PART_NUMBER, &marker) < 0)
        return s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                        "Provided part-number-marker not an integer or within integer range",
                        NULL);
    int max;
    if (s3_parse_max(s3_param(call, "max-parts"), S3_LIST_PARTS_MAX, S3_LIST_PARTS_MAX, &max) < 0)
        return s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                        "Provided max-parts not an integer or within integer range", NULL);
    struct cairn_upload_info up;
    int rc = find_upload(call, upload_id, &up);
    if (rc < 0)
        return rc;

    struct parts_page pg = {.call = call, .max = max};
    if (max > 0) {
        pg.parts = s3_alloc(call, (size_t)max * sizeof(*pg.parts));
        if (!pg.parts)
            return CAIRN_E_NOMEM;
        rc = call->be->mpu_list_parts(call->be_state, &call->req, call->bucket, call->key,
                                      upload_id, (uint32_t)marker, parts_emit, &pg);
        if (pg.err < 0)
            return pg.err;
        if (rc < 0)
            return rc;
    }

    const char *owner = shown_owner(call);
    const char *sc = kv_get(up.attrs, up.n_attrs, "x-amz-storage-class");
    const char *alg = kv_get(up.attrs, up.n_attrs, "x-amz-checksum-algorithm");
    const char *type = kv_get(up.attrs, up.n_attrs, "x-amz-checksum-type");
    struct xml_writer w;
    xml_writer_init(&w);
    xml_open(&w, "ListPartsResult", S3_XMLNS);
    xml_elem(&w, "Bucket", call->bucket);
    xml_elem(&w, "Key", call->key);
    xml_elem(&w, "UploadId", upload_id);
    write_person(&w, "Initiator", owner);
    write_person(&w, "Owner", owner);
    xml_elem(&w, "StorageClass", sc && *sc ? sc : "STANDARD");
    xml_elemf(&w, "PartNumberMarker", "%lu", marker);
    xml_elemf(&w, "NextPartNumberMarker", "%u", pg.n ? pg.parts[pg.n - 1].number : 0u);
    xml_elemf(&w, "MaxParts", "%d", max);
    xml_elem(&w, "IsTruncated", pg.truncated ? "true" : "false");
    if (alg) {
        xml_elem(&w, "ChecksumAlgorithm", alg);
        if (type)
            xml_elem(&w, "ChecksumType", type);
    }
    for (size_t i = 0; i < pg.n; i++) {
        const struct cairn_part_info *p = &pg.parts[i];
        xml_open(&w, "Part", NULL);
        xml_elemf(&w, "PartNumber", "%u", p->number);
        xml_elem(&w, "LastModified", s3_time_iso8601(call, p->mtime_ms));
        xml_elem(&w, "ETag", quoted(call, p->etag));
        xml_elemf(&w, "Size", "%llu", (unsigned long long)p->size);
        for (size_t j = 0; j < N_CHECKSUMS; j++) {
            const char *v = kv_get(p->attrs, p->n_attrs,
                                   s3_printf(call, "x-amz-checksum-%s", checksum_names[j]));
            if (v)
                xml_elem(&w, checksum_elems[j], v);
        }
        xml_close(&w, "Part");
    }
    xml_close(&w, "ListPartsResult");
    return respond_writer(call, &w, NULL, 0);
}

/* ---- ListMultipartUploads ------------------------------------------------------- */

struct upload_entry {
    int is_prefix;
    const char *key;
    const char *upload_id;
    int64_t initiated_ms;
    const char *storage_class;
};

struct uploads_page {
    struct s3_call *call;
    const char *prefix, *delimiter;
    const char *key_marker; /* without an upload-id marker: skip keys <= this */
    int max;
    size_t n;
    struct upload_entry *entries;
    int truncated;
    int err;
};

static int uploads_emit(void *vctx, const struct cairn_upload_info *u)
{
    struct uploads_page *pg = vctx;
    if (!u || !u->key || !u->upload_id)
        return 0;
    if (pg->key_marker && strcmp(u->key, pg->key_marker) <= 0)
        return 0;
    struct arena *a = pg->call->req.arena;
    char *rolled = NULL;
    int r = s3_list_roll_up(a, u->key, pg->prefix, pg->delimiter, &rolled);
    if (r < 0) {
        pg->err = CAIRN_E_NOMEM;
        return CAIRN_E_NOMEM;
    }
    if (r == 1) {
        /* Uploads come in key order: a prefix's uploads are consecutive. */
        if (pg->n && pg->entries[pg->n - 1].is_prefix &&
            strcmp(pg->entries[pg->n - 1].key, rolled) == 0)
            return 0;
        if (pg->key_marker && strcmp(rolled, pg->key_marker) <= 0)
            return 0;
    }
    if (pg->n == (size_t)pg->max) {
        pg->truncated = 1;
        return 1;
    }
    struct upload_entry *e = &pg->entries[pg->n];
    if (r == 1) {
        e->is_prefix = 1;
        e->key = rolled;
    } else {
        const char *sc = kv_get(u->attrs, u->n_attrs, "x-amz-storage-class");
        e->key = arena_strdup(a, u->key);
        e->upload_id = arena_strdup(a, u->upload_id);
        e->initiated_ms = u->initiated_ms;
        e->storage_class = arena_strdup(a, sc && *sc ? sc : "STANDARD");
        if (!e->key || !e->upload_id || !e->storage_class) {
            pg->err = CAIRN_E_NOMEM;
            return CAIRN_E_NOMEM;
        }
    }
    pg->n++;
    return 0;
}

int s3_op_list_multipart_uploads(struct s3_call *call)
{
    if (!call->be->mpu_list)
        return CAIRN_E_NOT_IMPLEMENTED;
    struct arena *a = call->req.arena;
    const char *enc = s3_param(call, "encoding-type");
    int encode = 0;
    if (enc && *enc) {
        if (strcasecmp(enc, "url") != 0)
            return s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                            "Invalid Encoding Method specified in Request", NULL);
        encode = 1;
    }
    int max;
    if (s3_parse_max(s3_param(call, "max-uploads"), S3_LIST_UPLOADS_MAX, S3_LIST_UPLOADS_MAX,
                     &max) < 0)
        return s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                        "Provided max-uploads not an integer or within integer range", NULL);
    const char *prefix = s3_param(call, "prefix");
    const char *delimiter = s3_param(call, "delimiter");
    const char *key_marker = s3_param(call, "key-marker");
    const char *uid_marker = s3_param(call, "upload-id-marker");
    if (!prefix)
        prefix = "";
    if (!delimiter)
        delimiter = "";
    if (!key_marker)
        key_marker = "";
    if (!uid_marker || !*key_marker)
        uid_marker = ""; /* S3 ignores an upload-id marker without a key marker */

    int err = 0;
    const char *bucket_owner = s3_bucket_owner(call, &err);
    if (err < 0)
        return err;
    const char *owner = bucket_owner && *bucket_owner ? bucket_owner : shown_owner(call);

    struct uploads_page pg = {
        .call = call,
        .prefix = prefix,
        .delimiter = delimiter,
        .key_marker = *key_marker && !*uid_marker ? key_marker : NULL,
        .max = max,
    };
    if (max > 0) {
        pg.entries = s3_alloc(call, (size_t)max * sizeof(*pg.entries));
        if (!pg.entries)
            return CAIRN_E_NOMEM;
        const char *after = *uid_marker ? key_marker
                                        : s3_list_backend_after(a, prefix, delimiter, key_marker);
        if (!after)
            return CAIRN_E_NOMEM;
        int rc = call->be->mpu_list(call->be_state, &call->req, call->bucket, prefix, after,
                                    uid_marker, uploads_emit, &pg);
        if (pg.err < 0)
            return pg.err;
        if (rc < 0)
            return rc;
    }

    struct xml_writer w;
    xml_writer_init(&w);
    xml_open(&w, "ListMultipartUploadsResult", S3_XMLNS);
    xml_elem(&w, "Bucket", call->bucket);
    xml_elem(&w, "KeyMarker", s3_list_name(a, key_marker, encode));
    xml_elem(&w, "UploadIdMarker", uid_marker);
    const struct upload_entry *last = pg.n ? &pg.entries[pg.n - 1] : NULL;
    xml_elem(&w, "NextKeyMarker", s3_list_name(a, pg.truncated && last ? last->key : "", encode));
    xml_elem(&w, "NextUploadIdMarker",
             pg.truncated && last && !last->is_prefix ? last->upload_id : "");
    if (*delimiter)
        xml_elem(&w, "Delimiter", s3_list_name(a, delimiter, encode));
    xml_elem(&w, "Prefix", s3_list_name(a, prefix, encode));
    xml_elemf(&w, "MaxUploads", "%d", max);
    xml_elem(&w, "IsTruncated", pg.truncated ? "true" : "false");
    for (size_t i = 0; i < pg.n; i++) {
        const struct upload_entry *e = &pg.entries[i];
        if (e->is_prefix)
            continue;
        xml_open(&w, "Upload", NULL);
        xml_elem(&w, "Key", s3_list_name(a, e->key, encode));
        xml_elem(&w, "UploadId", e->upload_id);
        write_person(&w, "Initiator", owner);
        write_person(&w, "Owner", owner);
        xml_elem(&w, "StorageClass", e->storage_class);
        xml_elem(&w, "Initiated", s3_time_iso8601(call, e->initiated_ms));
        xml_close(&w, "Upload");
    }
    for (size_t i = 0; i < pg.n; i++) {
        if (!pg.entries[i].is_prefix)
            continue;
        xml_open(&w, "CommonPrefixes", NULL);
        xml_elem(&w, "Prefix", s3_list_name(a, pg.entries[i].key, encode));
        xml_close(&w, "CommonPrefixes");
    }
    if (encode)
        xml_elem(&w, "EncodingType", "url");
    xml_close(&w, "ListMultipartUploadsResult");
    return respond_writer(call, &w, NULL, 0);
}
