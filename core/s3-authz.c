/*
 * s3-authz.c -- authorization: maps an S3 operation to its IAM action,
 * resource ARN and condition context, and asks the policy plugin.
 *
 * Rules, in order:
 *   1. root is allowed everything;
 *   2. without a policy plugin nobody else is allowed anything;
 *   3. the policy plugin evaluates the caller's identity policies (from the
 *      IAM store) and the bucket's policy: ALLOW goes on, DENY is refused;
 *   4. NO_OPINION is refused, except that the bucket's owner (the user that
 *      created it, or a service account of that user) may do anything to it:
 *      ownership acts as an implicit allow that an explicit DENY still beats.
 * Anonymous callers have no identity policies, so only a bucket policy can
 * let them in.
 */
#include <stdlib.h>
#include <string.h>

#include "iam-store.h"
#include "services.h"
#include "s3-internal.h"
#include "s3-router.h"

/* "arn:aws:s3:::bucket" or, with a key, "arn:aws:s3:::bucket/key" (arena). */
static char *resource_arn(struct s3_call *call, const char *bucket, const char *key)
{
    size_t bl = strlen(bucket), kl = key ? strlen(key) : 0;
    char *r = s3_alloc(call, 13 + bl + 1 + kl + 1);
    if (!r)
        return NULL;
    memcpy(r, "arn:aws:s3:::", 13);
    memcpy(r + 13, bucket, bl);
    if (key) {
        r[13 + bl] = '/';
        memcpy(r + 14 + bl, key, kl);
    }
    r[13 + bl + (key ? 1 + kl : 0)] = '\0';
    return r;
}

/* The IAM action of the call's operation, refined for versioned requests. */
static const char *op_action(const struct s3_call *call)
{
    int versioned = s3_param(call, "versionId") != NULL && *s3_param(call, "versionId");
    switch (call->op) {
    case S3_OP_GET_OBJECT:
    case S3_OP_HEAD_OBJECT:
        return versioned ? "s3:GetObjectVersion" : "s3:GetObject";
    case S3_OP_DELETE_OBJECT:
        return versioned ? "s3:DeleteObjectVersion" : "s3:DeleteObject";
    case S3_OP_GET_OBJECT_TAGGING:
        return versioned ? "s3:GetObjectVersionTagging" : "s3:GetObjectTagging";
    case S3_OP_PUT_OBJECT_TAGGING:
        return versioned ? "s3:PutObjectVersionTagging" : "s3:PutObjectTagging";
    case S3_OP_DELETE_OBJECT_TAGGING:
        return versioned ? "s3:DeleteObjectVersionTagging" : "s3:DeleteObjectTagging";
    case S3_OP_GET_OBJECT_ACL:
        return versioned ? "s3:GetObjectVersionAcl" : "s3:GetObjectAcl";
    case S3_OP_PUT_OBJECT_ACL:
        return versioned ? "s3:PutObjectVersionAcl" : "s3:PutObjectAcl";
    case S3_OP_GET_OBJECT_ATTRIBUTES:
        return versioned ? "s3:GetObjectVersionAttributes" : "s3:GetObjectAttributes";
    default:
        return s3_op_action(call->op);
    }
}

/* True for operations on an object (resource bucket/key). */
static int op_is_object(enum s3_op op)
{
    switch (op) {
    case S3_OP_PUT_OBJECT:
    case S3_OP_COPY_OBJECT:
    case S3_OP_GET_OBJECT:
    case S3_OP_HEAD_OBJECT:
    case S3_OP_DELETE_OBJECT:
    case S3_OP_GET_OBJECT_ATTRIBUTES:
    case S3_OP_GET_OBJECT_TAGGING:
    case S3_OP_PUT_OBJECT_TAGGING:
    case S3_OP_DELETE_OBJECT_TAGGING:
    case S3_OP_GET_OBJECT_ACL:
    case S3_OP_PUT_OBJECT_ACL:
    case S3_OP_CREATE_MULTIPART_UPLOAD:
    case S3_OP_UPLOAD_PART:
    case S3_OP_UPLOAD_PART_COPY:
    case S3_OP_COMPLETE_MULTIPART_UPLOAD:
    case S3_OP_ABORT_MULTIPART_UPLOAD:
    case S3_OP_LIST_PARTS:
        return 1;
    default:
        return 0;
    }
}

struct ctx_builder {
    struct s3_call *call;
    struct cairn_kv *kv;
    size_t n, cap;
};

static void ctx_add(struct ctx_builder *b, const char *name, const char *value)
{
    if (value)
        s3_headers_add(b->call, &b->kv, &b->n, &b->cap, name, value);
}

/* The condition context of the call (see cairn_policy_query). */
static void build_context(struct s3_call *call, struct ctx_builder *b)
{
    const struct http_request_head *head = call->head;
    int64_t now = call->services->now_ms();
    const char *iso = s3_time_iso8601(call, now);
    /* aws:CurrentTime is ISO 8601 without milliseconds. */
    char *current = NULL;
    if (iso && strlen(iso) == 24 && (current = s3_alloc(call, 21))) {
        memcpy(current, iso, 19);
        memcpy(current + 19, "Z", 2);
    } else if (iso) {
        current = s3_printf(call, "%.19sZ", iso);
    }
    /* aws:EpochTime: seconds, in decimal. */
    char epoch_buf[24], *e = epoch_buf + sizeof(epoch_buf);
    long long secs = (long long)(now / 1000);
    unsigned long long u = secs < 0 ? 0ull - (unsigned long long)secs : (unsigned long long)secs;
    *--e = '\0';
    do {
        *--e = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (secs < 0)
        *--e = '-';
    size_t elen = (size_t)(epoch_buf + sizeof(epoch_buf) - e);
    char *epoch = s3_alloc(call, elen);
    if (epoch)
        memcpy(epoch, e, elen);
    if (head) {
        ctx_add(b, "aws:SourceIp", head->remote_addr);
        ctx_add(b, "aws:SecureTransport", head->is_tls ? "true" : "false");
    }
    ctx_add(b, "aws:CurrentTime", current);
    ctx_add(b, "aws:EpochTime", epoch);
    ctx_add(b, "aws:UserAgent", s3_header(call, "user-agent"));
    ctx_add(b, "aws:Referer", s3_header(call, "referer"));
    if (!call->who.is_anonymous) {
        ctx_add(b, "aws:username", call->who.user);
        ctx_add(b, "aws:userid", call->who.user);
        ctx_add(b, "aws:PrincipalType", call->who.is_root ? "Account" : "User");
    }
    if (call->op == S3_OP_LIST_OBJECTS_V1 || call->op == S3_OP_LIST_OBJECTS_V2 ||
        call->op == S3_OP_LIST_OBJECT_VERSIONS || call->op == S3_OP_LIST_MULTIPART_UPLOADS) {
        ctx_add(b, "s3:prefix", s3_param(call, "prefix") ? s3_param(call, "prefix") : "");
        ctx_add(b, "s3:delimiter", s3_param(call, "delimiter"));
        ctx_add(b, "s3:max-keys", s3_param(call, "max-keys"));
    }
    ctx_add(b, "s3:x-amz-acl", s3_header(call, "x-amz-acl"));
    ctx_add(b, "s3:x-amz-content-sha256", s3_header(call, "x-amz-content-sha256"));
    ctx_add(b, "s3:x-amz-copy-source", s3_header(call, "x-amz-copy-source"));
    ctx_add(b, "s3:x-amz-metadata-directive", s3_header(call, "x-amz-metadata-directive"));
    ctx_add(b, "s3:x-amz-storage-class", s3_header(call, "x-amz-storage-class"));
    ctx_add(b, "s3:x-amz-server-side-encryption", s3_header(call, "x-amz-server-side-encryption"));
    if (call->who.signature_version == 2)
        ctx_add(b, "s3:signatureversion", "AWS");
    else if (call->who.signature_version == 4)
        ctx_add(b, "s3:signatureversion", "AWS4-HMAC-SHA256");
    switch (call->who.auth_type) {
    case CAIRN_AUTH_HEADER: ctx_add(b, "s3:authType", "REST-HEADER"); break;
    case CAIRN_AUTH_QUERY: ctx_add(b, "s3:authType", "REST-QUERY-STRING"); break;
    case CAIRN_AUTH_POST: ctx_add(b, "s3:authType", "POST"); break;
    default: break;
    }
    const char *vid = s3_param(call, "versionId");
    if (vid && *vid)
        ctx_add(b, "s3:VersionId", vid);
    const char *tagging = s3_header(call, "x-amz-tagging");
    if (tagging && *tagging) {
        struct s3_param *tags;
        size_t n;
        if (s3_parse_query(call->req.arena, tagging, &tags, &n) == 0)
            for (size_t i = 0; i < n; i++) {
                ctx_add(b, s3_printf(call, "s3:RequestObjectTag/%s", tags[i].name), tags[i].value);
                ctx_add(b, "s3:RequestObjectTagKeys", tags[i].name);
            }
    }
}

/* Decides `action` on `resource` in bucket `bucket` (may be ""). */
static int authorize(struct s3_call *call, const char *action, const char *resource,
                     const char *bucket)
{
    if (call->who.is_root)
        return 0;
    const struct loaded_plugin *pp = call->s3 ? call->s3->plugins->policy : NULL;
    if (!pp || !pp->desc->policy || !pp->desc->policy->evaluate)
        return CAIRN_E_ACCESS_DENIED;

    const char *owner = "";
    const char *bucket_policy = NULL;
    if (bucket && *bucket && call->be) {
        struct cairn_bucket_info info;
        memset(&info, 0, sizeof(info));
        if (call->be->bucket_head(call->be_state, &call->req, bucket, &info) == 0) {
            owner = info.owner ? info.owner : "";
            char *doc = NULL;
            size_t len = 0;
            if (call->be->bucket_config_get(call->be_state, &call->req, bucket, "policy", &doc,
                                            &len) == 0 && doc)
                bucket_policy = doc;
        }
    }

    const char *const *docs = NULL;
    size_t n_docs = 0;
    if (!call->who.is_anonymous && call->who.access_key && *call->who.access_key)
        if (iam_identity_policies(&call->req, call->who.access_key, &docs, &n_docs) < 0)
            return CAIRN_E_NOMEM;

    struct ctx_builder b = {.call = call};
    build_context(call, &b);
    struct cairn_policy_query q = {
        .who = &call->who,
        .action = action,
        .resource = resource,
        .bucket_owner = owner,
        .n_identity_policies = n_docs,
        .identity_policies = docs,
        .bucket_policy = bucket_policy,
        .n_context = b.n,
        .context = b.kv,
    };
    /* The explanation only feeds the debug line below: not asked for (and
     * not formatted by the plugin) unless that line is printed. */
    char explain[256] = "";
    int want_explain = core_log_enabled(CAIRN_LOG_DEBUG);
    int d = pp->desc->policy->evaluate(pp->state, &call->req, &q, want_explain ? explain : NULL,
                                       want_explain ? sizeof(explain) : 0);
    if (d < 0)
        return d;
    if (d == CAIRN_ALLOW)
        return 0;
    int is_owner = !call->who.is_anonymous && *owner &&
                   ((call->who.user && strcmp(owner, call->who.user) == 0) ||
                    (call->who.parent && *call->who.parent && strcmp(owner, call->who.parent) == 0));
    if (d == CAIRN_NO_OPINION && is_owner)
        return 0;
    call->services->log(&call->req, CAIRN_LOG_DEBUG, "access denied: %s on %s for %s (%s)",
                        action, resource, call->who.is_anonymous ? "anonymous" : call->who.user,
                        *explain ? explain : d == CAIRN_DENY ? "explicit deny" : "no allow");
    return CAIRN_E_ACCESS_DENIED;
}

int s3_authorize(struct s3_call *call)
{
    if (call->who.is_root)
        return 0;
    /* These operations authorize themselves once they know what they act on:
     * s3-delete-many.c each key (s3:DeleteObject or s3:DeleteObjectVersion,
     * AccessDenied per key as S3 answers), s3-post-object.c the key and signer
     * the form names (s3:PutObject). */
    if (call->op == S3_OP_DELETE_OBJECTS || call->op == S3_OP_POST_OBJECT)
        return 0;
    const char *resource;
    if (call->op == S3_OP_LIST_BUCKETS)
        resource = "*";
    else if (op_is_object(call->op))
        resource = resource_arn(call, call->bucket, call->key);
    else
        resource = resource_arn(call, call->bucket, NULL);
    if (!resource)
        return CAIRN_E_NOMEM;
    return authorize(call, op_action(call), resource, call->bucket);
}

int s3_authorize_action(struct s3_call *call, const char *action, const char *bucket,
                        const char *key)
{
    if (call->who.is_root)
        return 0;
    const char *resource = resource_arn(call, bucket, key && *key ? key : NULL);
    if (!resource)
        return CAIRN_E_NOMEM;
    return authorize(call, action, resource, bucket);
}

int s3_validate_bucket_policy(struct s3_call *call, const char *json, size_t len)
{
    const struct loaded_plugin *pp = call->s3 ? call->s3->plugins->policy : NULL;
    if (!pp || !pp->desc->policy || !pp->desc->policy->validate) {
        size_t i = 0;
        while (i < len && (json[i] == ' ' || json[i] == '\n' || json[i] == '\r' || json[i] == '\t'))
            i++;
        if (i == len || json[i] != '{') {
            s3_error(call, CAIRN_E_MALFORMED_POLICY,
                     "Policies must be valid JSON and the first byte must be '{'", NULL);
            return 1;
        }
        return 0;
    }
    char reason[512] = "";
    int rc = pp->desc->policy->validate(pp->state, json, len, 1, reason, sizeof(reason));
    if (rc == CAIRN_E_MALFORMED_POLICY) {
        s3_error(call, CAIRN_E_MALFORMED_POLICY, *reason ? reason : NULL, NULL);
        return 1;
    }
    return rc < 0 ? rc : 0;
}
