/*
 * s3-post-object.c -- PostObject, the browser upload: POST /bucket with a
 * multipart/form-data body whose fields (key, policy, signature, metadata)
 * come before the part named "file".
 *
 *   read the fields (bounded) -> signer from the auth plugins'
 *   authenticate_form -> policy: expiration, conditions, coverage ->
 *   s3:PutObject on bucket/key for the signer -> the file part streamed as a
 *   PUT body (content-length-range enforced as it flows; nothing is committed
 *   when it fails) -> 303 to success_action_redirect, or
 *   success_action_status 200 / 201 (PostResponse XML) / 204.
 */
#include <string.h>

#include "form-data.h"
#include "post-policy.h"
#include "s3-post-object.h"
#include "xml-writer.h"

/* Fields before the file, names and values together (S3 answers
 * MaxPostPreDataLengthExceeded past its own limit). */
#define POST_MAX_FIELD_BYTES (64 * 1024)
#define POST_MAX_KEY_BYTES 1024
#define POST_MAX_POLICY_BYTES (POST_MAX_FIELD_BYTES)

/* The raw request body, read the way the call read it before any pipeline. */
struct post_source {
    struct s3_call *call;
    ssize_t (*raw)(struct cairn_req *req, void *buf, size_t len);
};

static ssize_t post_source_read(void *ctx, void *buf, size_t len)
{
    struct post_source *src = ctx;
    return src->raw(&src->call->req, buf, len);
}

/* The file part as the PUT body, with the policy's content-length-range. */
struct post_file {
    struct form_data *fd;
    int has_range;
    int64_t min, max;
    uint64_t seen;
};

static ssize_t post_file_read(void *ctx, void *buf, size_t len)
{
    struct post_file *f = ctx;
    ssize_t n = form_data_read_file(f->fd, buf, len);
    if (n == FORM_E_MALFORMED)
        return CAIRN_E_INCOMPLETE_BODY; /* the body ended inside the file part */
    if (n < 0)
        return n;
    f->seen += (uint64_t)n;
    if (f->has_range && n > 0 && f->seen > (uint64_t)f->max)
        return CAIRN_E_ENTITY_TOO_LARGE;
    if (f->has_range && n == 0 && f->seen < (uint64_t)f->min)
        return CAIRN_E_ENTITY_TOO_SMALL;
    return n;
}

/* Renders this file's own error codes; CAIRN_E_* codes go back to the caller. */
static int post_error(struct s3_call *call, int rc, const char *why)
{
    switch (rc) {
    case FORM_E_MALFORMED:
        return s3_error_code(call, 400, "MalformedPOSTRequest",
                             "The body of your POST request is not well-formed "
                             "multipart/form-data.");
    case FORM_E_TOO_LARGE:
        return s3_error_code(call, 400, "MaxPostPreDataLengthExceeded",
                             "Your POST request fields preceding the upload file were too large.");
    case FORM_E_NO_FILE:
        return s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                        "POST requires exactly one file upload per request.", NULL);
    case FORM_E_DUPLICATE:
        return s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                        "A form field appears more than once.", NULL);
    case POLICY_E_INVALID:
        return s3_error_code(call, 400, "InvalidPolicyDocument", why);
    case POLICY_E_EXPIRED:
    case POLICY_E_CONDITION:
    case POLICY_E_EXTRA_FIELD:
        return s3_error(call, CAIRN_E_ACCESS_DENIED, why, NULL);
    default:
        return rc;
    }
}

/* True when the form carries a signature of any scheme. */
static int form_is_signed(const struct form_data *fd)
{
    static const char *const names[] = {"x-amz-signature", "x-amz-credential",
                                        "x-amz-algorithm", "signature", "awsaccesskeyid"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (form_data_field(fd, names[i]))
            return 1;
    return 0;
}

/* Identifies the form's signer through the auth chain; call->who keeps the
 * header identity (anonymous for a browser) when every plugin declines. */
static int post_authenticate(struct s3_call *call, const struct form_data *fd)
{
    size_t n;
    const struct form_field *ff = form_data_fields(fd, &n);
    struct cairn_kv *kv = s3_alloc(call, (n ? n : 1) * sizeof(*kv));
    if (!kv)
        return CAIRN_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        kv[i] = (struct cairn_kv){ff[i].name, ff[i].value};
    const struct s3_plugins *plugins = call->s3->plugins;
    for (size_t i = 0; i < plugins->n_auth; i++) {
        const struct loaded_plugin *p = plugins->auth[i];
        const struct cairn_auth_ops *ops = p ? p->desc->auth : NULL;
        if (!ops || !CAIRN_TABLE_HAS(ops, authenticate_form) || !ops->authenticate_form)
            continue;
        struct cairn_identity id;
        memset(&id, 0, sizeof(id));
        const char *detail = NULL;
        int rc = ops->authenticate_form(p->state, &call->req, n, kv, &id, &detail);
        if (rc == CAIRN_DECLINED)
            continue;
        if (rc < 0) {
            call->auth_detail = detail;
            return rc;
        }
        call->who = id;
        call->who.access_key = id.access_key ? id.access_key : "";
        call->who.user = id.user ? id.user : "";
        call->who.parent = id.parent ? id.parent : "";
        call->who.content_sha256 = "";
        call->who.auth_type = CAIRN_AUTH_POST;
        return 0;
    }
    if (form_is_signed(fd)) /* signed, but no plugin knows how to check it */
        return CAIRN_E_ACCESS_DENIED;
    return 0;
}

/* The key field with ${filename} replaced by the file's name. */
static const char *post_key(struct s3_call *call, const struct form_data *fd)
{
    const char *key = form_data_field(fd, "key");
    const char *var = key ? strstr(key, "${filename}") : NULL;
    if (!var)
        return key;
    return s3_printf(call, "%.*s%s%s", (int)(var - key), key, form_data_filename(fd),
                     var + strlen("${filename}"));
}

/* Decodes and checks the policy: 0 when it allows the form, 1 after
 * answering the error itself, or a negative error. */
static int post_check_policy(struct s3_call *call, const struct form_data *fd, const char *key,
                             struct post_file *file)
{
    const char *b64 = form_data_field(fd, "policy");
    if (!b64) {
        if (call->who.is_anonymous)
            return 0; /* an unsigned form needs no policy (a bucket policy decides) */
        s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                 "Bucket POST must contain a field named 'policy'.  If it is specified, "
                 "please check the order of the fields.", NULL);
        return 1;
    }
    size_t cap = strlen(b64);
    uint8_t *json = s3_alloc(call, cap + 1);
    if (!json)
        return CAIRN_E_NOMEM;
    ssize_t len = s3_base64_decode(b64, json, cap);
    const char *why = "Invalid Policy: Invalid Base64 Encoding.";
    struct post_policy *policy = NULL;
    int rc = len < 0 ? POLICY_E_INVALID
                     : post_policy_parse(call->req.arena, (const char *)json, (size_t)len,
                                         &policy, &why);
    if (rc == 0) {
        size_t n;
        const struct form_field *ff = form_data_fields(fd, &n);
        rc = post_policy_check(policy, call->req.arena, ff, n, call->bucket, key,
                               call->services->now_ms(), &why);
    }
    if (rc < 0) {
        rc = post_error(call, rc, why);
        return rc < 0 ? rc : 1;
    }
    file->has_range = post_policy_length_range(policy, &file->min, &file->max);
    return 0;
}

/* True for form fields that become object headers (as a PUT's headers would). */
static int post_object_header(const char *name)
{
    static const char *const names[] = {"content-type", "cache-control", "content-disposition",
                                        "content-encoding", "content-language", "expires",
                                        "content-md5", "x-amz-storage-class",
                                        "x-amz-website-redirect-location",
                                        "x-amz-checksum-algorithm"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return strncmp(name, "x-amz-meta-", 11) == 0 || strncmp(name, "x-amz-checksum-", 15) == 0;
}

/*
 * Points call->head at a copy whose headers are the form's object fields
 * (plus host, user-agent and referer), so that the PUT helpers (body
 * pipeline, stored attributes) read them as they read a PUT's headers.
 */
static int post_use_form_head(struct s3_call *call, const struct form_data *fd)
{
    struct http_request_head *head = s3_alloc(call, sizeof(*head));
    if (!head)
        return CAIRN_E_NOMEM;
    *head = *call->head;
    head->content_length = -1; /* the request's length is the whole form */
    head->chunked = 0;
    struct cairn_kv *h = NULL;
    size_t n = 0, cap = 0, nf;
    const struct form_field *ff = form_data_fields(fd, &nf);
    for (size_t i = 0; i < nf; i++)
        if (post_object_header(ff[i].name) &&
            s3_headers_add(call, &h, &n, &cap, ff[i].name, ff[i].value) < 0)
            return CAIRN_E_NOMEM;
    const char *type = form_data_file_type(fd);
    if (!form_data_field(fd, "content-type") && type &&
        s3_headers_add(call, &h, &n, &cap, "content-type", type) < 0)
        return CAIRN_E_NOMEM;
    static const char *const keep[] = {"host", "user-agent", "referer"};
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        const char *v = s3_header(call, keep[i]);
        if (v && s3_headers_add(call, &h, &n, &cap, keep[i], v) < 0)
            return CAIRN_E_NOMEM;
    }
    head->headers = h;
    head->n_headers = n;
    call->head = head;
    return 0;
}

/* Streams the file part into the backend. */
static int post_store(struct s3_call *call, struct post_file *file,
                      struct cairn_object_info *final, struct cairn_object_info *info,
                      enum cairn_versioning *versioning_r)
{
    struct s3_call_ext *ext = s3_call_ext(call);
    if (!ext)
        return CAIRN_E_INTERNAL;
    ext->raw_read = post_file_read;
    ext->raw_ctx = file;
    int rc = s3_body_begin_put(call, final);
    if (rc < 0)
        return rc;
    struct cairn_kv *attrs;
    size_t n_attrs = s3_request_object_attrs(call, &attrs);
    *versioning_r = s3_bucket_versioning(call);
    struct cairn_put put = {
        .bucket = call->bucket,
        .key = call->key,
        .content_length = -1,
        .versioning = *versioning_r,
        .n_attrs = n_attrs,
        .attrs = attrs,
        .final = final,
    };
    return call->be->object_put(call->be_state, &call->req, &put, info);
}

/* Percent-encodes everything but RFC 3986's unreserved characters. */
static char *query_encode(struct s3_call *call, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = s3_alloc(call, 3 * strlen(s) + 1), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

/* Answers a stored upload as the form asked. */
static int post_respond(struct s3_call *call, const struct form_data *fd, const char *etag,
                        const char *version_id)
{
    const char *host = s3_header(call, "host");
    const char *path_key = query_encode(call, call->key);
    const char *location = s3_printf(call, "%s://%s/%s/%s", call->head->is_tls ? "https" : "http",
                                     host ? host : "localhost", call->bucket,
                                     path_key ? path_key : "");
    const char *quoted = s3_printf(call, "\"%s\"", etag);
    struct cairn_kv *h = NULL;
    size_t n = 0, cap = 0;
    s3_headers_add(call, &h, &n, &cap, "etag", quoted);
    if (version_id && *version_id)
        s3_headers_add(call, &h, &n, &cap, "x-amz-version-id", version_id);

    const char *redirect = form_data_field(fd, "success_action_redirect");
    if (!redirect || !*redirect)
        redirect = form_data_field(fd, "redirect");
    if (redirect && (strncmp(redirect, "http://", 7) == 0 || strncmp(redirect, "https://", 8) == 0)) {
        const char *to = s3_printf(call, "%s%sbucket=%s&key=%s&etag=%s", redirect,
                                   strchr(redirect, '?') ? "&" : "?",
                                   query_encode(call, call->bucket), query_encode(call, call->key),
                                   query_encode(call, quoted ? quoted : ""));
        s3_headers_add(call, &h, &n, &cap, "location", to);
        return s3_respond_empty(call, 303, h, n);
    }
    s3_headers_add(call, &h, &n, &cap, "location", location);
    const char *status = form_data_field(fd, "success_action_status");
    if (status && strcmp(status, "200") == 0)
        return s3_respond_empty(call, 200, h, n);
    if (!status || strcmp(status, "201") != 0)
        return s3_respond_empty(call, 204, h, n);
    struct xml_writer w;
    xml_writer_init(&w);
    xml_open(&w, "PostResponse", NULL);
    xml_elem(&w, "Location", location);
    xml_elem(&w, "Bucket", call->bucket);
    xml_elem(&w, "Key", call->key);
    xml_elem(&w, "ETag", quoted);
    xml_close(&w, "PostResponse");
    int rc = w.failed ? CAIRN_E_NOMEM : s3_respond_xml(call, 201, w.buf, w.len, h, n);
    xml_writer_clear(&w);
    return rc;
}

/* Adds S3's size details to EntityTooLarge / EntityTooSmall. */
static int post_size_error(struct s3_call *call, int rc, const struct post_file *file)
{
    const char *extra = rc == CAIRN_E_ENTITY_TOO_LARGE
                            ? s3_printf(call, "<ProposedSize>%llu</ProposedSize>"
                                              "<MaxSizeAllowed>%lld</MaxSizeAllowed>",
                                        (unsigned long long)file->seen, (long long)file->max)
                            : s3_printf(call, "<ProposedSize>%llu</ProposedSize>"
                                              "<MinSizeAllowed>%lld</MinSizeAllowed>",
                                        (unsigned long long)file->seen, (long long)file->min);
    return s3_error(call, rc, NULL, extra);
}

int s3_op_post_object(struct s3_call *call)
{
    char *boundary = NULL;
    if (form_data_boundary(call->req.arena, s3_header(call, "content-type"), &boundary) < 0)
        return s3_error_code(call, 412, "PreconditionFailed",
                             "Bucket POST must be of the enclosure-type multipart/form-data");
    struct post_source src = {.call = call, .raw = call->req.read};
    struct form_limits limits = {.max_field_bytes = POST_MAX_FIELD_BYTES};
    struct form_data *fd =
        form_data_new(call->req.arena, boundary, post_source_read, &src, &limits);
    if (!fd)
        return CAIRN_E_NOMEM;
    int rc = form_data_read_fields(fd);
    if (rc < 0)
        return post_error(call, rc, NULL);

    const char *key = post_key(call, fd);
    if (!key || !*key)
        return s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                        "Bucket POST must contain a field named 'key'.  If it is specified, "
                        "please check the order of the fields.", NULL);
    if (strlen(key) > POST_MAX_KEY_BYTES)
        return CAIRN_E_KEY_TOO_LONG;

    rc = post_authenticate(call, fd);
    if (rc < 0)
        return rc;
    struct post_file file = {.fd = fd};
    rc = post_check_policy(call, fd, key, &file);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    call->key = key;
    rc = s3_authorize_action(call, "s3:PutObject", call->bucket, key);
    if (rc < 0)
        return rc;
    rc = post_use_form_head(call, fd);
    if (rc < 0)
        return rc;

    struct cairn_object_info final, info;
    memset(&final, 0, sizeof(final));
    memset(&info, 0, sizeof(info));
    enum cairn_versioning versioning = CAIRN_VERSIONING_OFF;
    rc = post_store(call, &file, &final, &info, &versioning);
    if (rc == CAIRN_E_ENTITY_TOO_LARGE || rc == CAIRN_E_ENTITY_TOO_SMALL)
        return post_size_error(call, rc, &file);
    if (rc < 0)
        return rc;
    form_data_drain(fd, 64 * 1024); /* fields after the file are ignored, as S3 does */
    return post_respond(call, fd, *info.etag ? info.etag : final.etag,
                        versioning != CAIRN_VERSIONING_OFF ? info.version_id : NULL);
}
