/*
 * s3-bucket.c -- bucket operations: create, delete, head, location,
 * versioning, policy, tagging, lifecycle, and the configuration
 * subresources cairn answers with S3's "nothing configured".
 */
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "s3-internal.h"
#include "s3-placement.h"
#include "s3-router.h"
#include "xml-parse.h"
#include "xml-writer.h"

enum cairn_versioning s3_bucket_versioning(struct s3_call *call)
{
    char *data = NULL;
    size_t len = 0;
    if (!call->be || !call->be->bucket_config_get)
        return CAIRN_VERSIONING_OFF;
    if (call->be->bucket_config_get(call->be_state, &call->req, call->bucket, "versioning",
                                    &data, &len) < 0 || !data)
        return CAIRN_VERSIONING_OFF;
    if (len >= 7 && strncmp(data, "Enabled", 7) == 0)
        return CAIRN_VERSIONING_ENABLED;
    if (len >= 9 && strncmp(data, "Suspended", 9) == 0)
        return CAIRN_VERSIONING_SUSPENDED;
    return CAIRN_VERSIONING_OFF;
}

const char *s3_bucket_owner(struct s3_call *call, int *err_r)
{
    struct cairn_bucket_info info;
    memset(&info, 0, sizeof(info));
    *err_r = 0;
    if (!call->be || !call->bucket || !*call->bucket) {
        *err_r = CAIRN_E_NO_SUCH_BUCKET;
        return "";
    }
    int rc = call->be->bucket_head(call->be_state, &call->req, call->bucket, &info);
    if (rc < 0) {
        *err_r = rc;
        return "";
    }
    return info.owner ? info.owner : "";
}

/* Answers an XML document built in `w` and frees it. */
static int respond_writer(struct s3_call *call, struct xml_writer *w)
{
    int rc = w->failed ? CAIRN_E_NOMEM : 0;
    if (rc == 0)
        s3_respond_xml(call, 200, w->buf, w->len, NULL, 0);
    xml_writer_clear(w);
    return rc;
}

/* An element with only the namespace: <Name xmlns="..."/>. */
static int respond_empty_doc(struct s3_call *call, const char *name)
{
    struct xml_writer w;
    xml_writer_init(&w);
    xml_open(&w, name, S3_XMLNS);
    xml_close(&w, name);
    return respond_writer(call, &w);
}

static int create_bucket(struct s3_call *call)
{
    const char *acl = s3_header(call, "x-amz-acl");
    if (acl && !s3_canned_acl_valid(acl))
        return CAIRN_E_INVALID_ARGUMENT;
    char *body;
    size_t len;
    int rc = s3_read_small_body(call, 64 * 1024, &body, &len);
    if (rc < 0)
        return rc == CAIRN_E_ENTITY_TOO_LARGE ? CAIRN_E_MALFORMED_XML : rc;
    if (len > 0) {
        struct xml_node *root = xml_parse(call->req.arena, body, len);
        if (!root || strcmp(root->name, "CreateBucketConfiguration") != 0)
            return CAIRN_E_MALFORMED_XML;
        const char *loc = xml_child_text(root, "LocationConstraint");
        if (loc && *loc && strcmp(loc, call->settings->region) != 0)
            return s3_error_code(call, 400, "InvalidLocationConstraint",
                                 "The specified location-constraint is not valid");
    }
    const struct loaded_plugin *chosen;
    const char *detail;
    rc = s3_placement_choose(call, &chosen, &detail);
    if (rc < 0)
        return s3_error(call, rc, detail, NULL);
    struct cairn_bucket_info existing;
    memset(&existing, 0, sizeof(existing));
    const char *me = call->who.user ? call->who.user : "";
    rc = call->be->bucket_head(call->be_state, &call->req, call->bucket, &existing);
    if (rc == 0) {
        const char *owner = existing.owner ? existing.owner : "";
        return (strcmp(owner, me) == 0 || (call->who.is_root && !*owner))
                   ? CAIRN_E_BUCKET_OWNED_BY_YOU
                   : CAIRN_E_BUCKET_EXISTS;
    }
    if (rc != CAIRN_E_NO_SUCH_BUCKET)
        return rc;
    struct cairn_bucket_info info = {
        .name = call->bucket,
        .created_ms = call->services->now_ms(),
        .owner = me,
    };
    rc = call->be->bucket_create(call->be_state, &call->req, &info);
    if (rc == CAIRN_E_BUCKET_EXISTS || rc == CAIRN_E_BUCKET_OWNED_BY_YOU) {
        /* Lost a race with another create: decide by the winner's owner. */
        if (call->be->bucket_head(call->be_state, &call->req, call->bucket, &existing) == 0)
            rc = existing.owner && strcmp(existing.owner, me) == 0 ? CAIRN_E_BUCKET_OWNED_BY_YOU
                                                                   : CAIRN_E_BUCKET_EXISTS;
    }
    if (rc < 0)
        return rc;
    rc = s3_placement_create(call, chosen, &info);
    if (rc < 0)
        return rc;
    struct cairn_kv h[] = {{"location", s3_printf(call, "/%s", call->bucket)}};
    return s3_respond_empty(call, 200, h, 1);
}

/* Reads a config document; 0 with data, 1 when absent, or a negative error. */
static int config_get(struct s3_call *call, const char *name, char **data_r, size_t *len_r)
{
    *data_r = NULL;
    *len_r = 0;
    int rc = call->be->bucket_config_get(call->be_state, &call->req, call->bucket, name, data_r,
                                         len_r);
    if (rc == CAIRN_E_NO_SUCH_CONFIG)
        return 1;
    if (rc < 0)
        return rc;
    return *data_r ? 0 : 1;
}

static int get_versioning(struct s3_call *call)
{
    enum cairn_versioning v = s3_bucket_versioning(call);
    struct xml_writer w;
    xml_writer_init(&w);
    xml_open(&w, "VersioningConfiguration", S3_XMLNS);
    if (v == CAIRN_VERSIONING_ENABLED)
        xml_elem(&w, "Status", "Enabled");
    else if (v == CAIRN_VERSIONING_SUSPENDED)
        xml_elem(&w, "Status", "Suspended");
    xml_close(&w, "VersioningConfiguration");
    return respond_writer(call, &w);
}

static int put_versioning(struct s3_call *call)
{
    char *body;
    size_t len;
    int rc = s3_read_small_body(call, 64 * 1024, &body, &len);
    if (rc < 0)
        return rc == CAIRN_E_ENTITY_TOO_LARGE ? CAIRN_E_MALFORMED_XML : rc;
    struct xml_node *root = xml_parse(call->req.arena, body, len);
    if (!root || strcmp(root->name, "VersioningConfiguration") != 0)
        return CAIRN_E_MALFORMED_XML;
    const char *status = xml_child_text(root, "Status");
    if (!status || !*status) {
        /* No Status: nothing changes (S3 accepts it). */
        return s3_respond_empty(call, 200, NULL, 0);
    }
    if (strcmp(status, "Enabled") != 0 && strcmp(status, "Suspended") != 0)
        return CAIRN_E_MALFORMED_XML;
    const char *mfa = xml_child_text(root, "MfaDelete");
    if (mfa && strcmp(mfa, "Enabled") == 0)
        return s3_error(call, CAIRN_E_NOT_IMPLEMENTED, "MFA delete is not supported.", NULL);
    rc = call->be->bucket_config_put(call->be_state, &call->req, call->bucket, "versioning",
                                     status, strlen(status));
    if (rc < 0)
        return rc;
    return s3_respond_empty(call, 200, NULL, 0);
}

/* Returns 1 when a bucket policy lets everyone in ("Principal": "*"). */
static int policy_is_public(const char *json)
{
    /* A cheap textual check: a Principal of "*" or {"AWS": "*"} in an Allow. */
    char *flat = malloc(strlen(json) + 1);
    if (!flat)
        return 0;
    size_t o = 0;
    for (const char *p = json; *p; p++)
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t')
            flat[o++] = *p;
    flat[o] = '\0';
    int pub = (strstr(flat, "\"Principal\":\"*\"") || strstr(flat, "\"AWS\":\"*\"") ||
               strstr(flat, "\"AWS\":[\"*\"")) &&
              strstr(flat, "\"Effect\":\"Allow\"");
    free(flat);
    return pub;
}

static int bucket_policy(struct s3_call *call)
{
    char *data;
    size_t len;
    int rc;
    switch (call->op) {
    case S3_OP_GET_BUCKET_POLICY:
    case S3_OP_GET_BUCKET_POLICY_STATUS:
        rc = config_get(call, "policy", &data, &len);
        if (rc < 0)
            return rc;
        if (rc == 1)
            return s3_error_code(call, 404, "NoSuchBucketPolicy",
                                 "The bucket policy does not exist");
        if (call->op == S3_OP_GET_BUCKET_POLICY)
            return s3_respond_body(call, 200, "application/json", data, len, NULL, 0);
        struct xml_writer w;
        xml_writer_init(&w);
        xml_open(&w, "PolicyStatus", S3_XMLNS);
        xml_elem(&w, "IsPublic", policy_is_public(data) ? "true" : "false");
        xml_close(&w, "PolicyStatus");
        return respond_writer(call, &w);
    case S3_OP_PUT_BUCKET_POLICY: {
        rc = s3_read_small_body(call, 20 * 1024, &data, &len);
        if (rc == CAIRN_E_ENTITY_TOO_LARGE)
            return s3_error_code(call, 400, "PolicyTooLarge",
                                 "Policy exceeds the maximum allowed document size.");
        if (rc < 0)
            return rc;
        if (len == 0)
            return s3_error_code(call, 400, "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'");
        rc = s3_validate_bucket_policy(call, data, len);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        rc = call->be->bucket_config_put(call->be_state, &call->req, call->bucket, "policy",
                                         data, len);
        if (rc < 0)
            return rc;
        return s3_respond_empty(call, 204, NULL, 0);
    }
    default:
        rc = call->be->bucket_config_delete(call->be_state, &call->req, call->bucket, "policy");
        if (rc < 0 && rc != CAIRN_E_NO_SUCH_CONFIG)
            return rc;
        return s3_respond_empty(call, 204, NULL, 0);
    }
}

/*
 * A stored XML document (tagging, lifecycle): GET answers it as stored (404
 * `absent_code` when absent); PUT checks that it is well-formed with root
 * `root_name` and stores it as-is; DELETE removes it (204).
 */
static int xml_config(struct s3_call *call, const char *name, const char *root_name,
                      const char *absent_code, const char *absent_message, int is_get,
                      int is_put)
{
    char *data;
    size_t len;
    int rc;
    if (is_get) {
        rc = config_get(call, name, &data, &len);
        if (rc < 0)
            return rc;
        if (rc == 1)
            return s3_error_code(call, 404, absent_code, absent_message);
        return s3_respond_xml(call, 200, data, len, NULL, 0);
    }
    if (is_put) {
        rc = s3_read_small_body(call, 256 * 1024, &data, &len);
        if (rc < 0)
            return rc == CAIRN_E_ENTITY_TOO_LARGE ? CAIRN_E_MALFORMED_XML : rc;
        struct xml_node *root = xml_parse(call->req.arena, data, len);
        if (!root || strcmp(root->name, root_name) != 0)
            return CAIRN_E_MALFORMED_XML;
        if (strcmp(name, "lifecycle") == 0) {
            char reason[256];
            rc = lifecycle_validate(data, len, reason, sizeof(reason));
            if (rc < 0)
                return s3_error(call, rc, reason, NULL);
        }
        if (strcmp(name, "tagging") == 0) {
            struct xml_node *set = xml_child(root, "TagSet");
            size_t count = 0;
            if (!set)
                return CAIRN_E_MALFORMED_XML;
            for (struct xml_node *t = set->first_child; t; t = t->next) {
                const char *k = xml_child_text(t, "Key");
                if (strcmp(t->name, "Tag") != 0 || !k)
                    return CAIRN_E_MALFORMED_XML;
                if (!*k || strlen(k) > 128)
                    return s3_error_code(call, 400, "InvalidTag",
                                         "The TagKey you have provided is invalid");
                for (struct xml_node *u = set->first_child; u != t; u = u->next)
                    if (strcmp(xml_child_text(u, "Key"), k) == 0)
                        return s3_error_code(call, 400, "InvalidTag",
                                             "Cannot provide multiple Tags with the same key");
                count++;
            }
            if (count > 50)
                return s3_error_code(call, 400, "InvalidTag",
                                     "Bucket tag count cannot be greater than 50");
        }
        rc = call->be->bucket_config_put(call->be_state, &call->req, call->bucket, name, data,
                                         len);
        if (rc < 0)
            return rc;
        return s3_respond_empty(call, 200, NULL, 0);
    }
    rc = call->be->bucket_config_delete(call->be_state, &call->req, call->bucket, name);
    if (rc < 0 && rc != CAIRN_E_NO_SUCH_CONFIG)
        return rc;
    return s3_respond_empty(call, 204, NULL, 0);
}

/* Configuration subresources cairn does not keep: S3's "nothing configured". */
static int other_config(struct s3_call *call)
{
    const char *sub = NULL;
    s3_route("GET", call->bucket, "", call->params, call->n_params, 0, &sub);
    if (!sub)
        return CAIRN_E_NOT_IMPLEMENTED;
    if (strcmp(sub, "website") == 0)
        return s3_error_code(call, 404, "NoSuchWebsiteConfiguration",
                             "The specified bucket does not have a website configuration");
    if (strcmp(sub, "replication") == 0)
        return s3_error_code(call, 404, "ReplicationConfigurationNotFoundError",
                             "The replication configuration was not found");
    if (strcmp(sub, "ownershipControls") == 0)
        return s3_error_code(call, 404, "OwnershipControlsNotFoundError",
                             "The bucket ownership controls were not found");
    if (strcmp(sub, "publicAccessBlock") == 0)
        return s3_error_code(call, 404, "NoSuchPublicAccessBlockConfiguration",
                             "The public access block configuration was not found");
    if (strcmp(sub, "logging") == 0)
        return respond_empty_doc(call, "BucketLoggingStatus");
    if (strcmp(sub, "notification") == 0)
        return respond_empty_doc(call, "NotificationConfiguration");
    if (strcmp(sub, "accelerate") == 0)
        return respond_empty_doc(call, "AccelerateConfiguration");
    if (strcmp(sub, "requestPayment") == 0) {
        struct xml_writer w;
        xml_writer_init(&w);
        xml_open(&w, "RequestPaymentConfiguration", S3_XMLNS);
        xml_elem(&w, "Payer", "BucketOwner");
        xml_close(&w, "RequestPaymentConfiguration");
        return respond_writer(call, &w);
    }
    static const char *const lists[][2] = {
        {"analytics", "ListBucketAnalyticsConfigurationResult"},
        {"metrics", "ListMetricsConfigurationsResult"},
        {"inventory", "ListInventoryConfigurationsResult"},
        {"intelligent-tiering", "ListBucketIntelligentTieringConfigurationsOutput"},
    };
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        if (strcmp(sub, lists[i][0]) == 0) {
            struct xml_writer w;
            xml_writer_init(&w);
            xml_open(&w, lists[i][1], S3_XMLNS);
            xml_elem(&w, "IsTruncated", "false");
            xml_close(&w, lists[i][1]);
            return respond_writer(call, &w);
        }
    return CAIRN_E_NOT_IMPLEMENTED;
}

int s3_op_bucket(struct s3_call *call)
{
    if (call->op == S3_OP_CREATE_BUCKET)
        return create_bucket(call);
    if (call->op == S3_OP_DELETE_BUCKET) {
        int rc = s3_placement_delete_bucket(call);
        return rc < 0 ? rc : s3_respond_empty(call, 204, NULL, 0);
    }
    /* Every other bucket operation needs the bucket to exist. */
    struct cairn_bucket_info info;
    memset(&info, 0, sizeof(info));
    int rc = call->be->bucket_head(call->be_state, &call->req, call->bucket, &info);
    if (rc < 0)
        return rc;
    switch (call->op) {
    case S3_OP_HEAD_BUCKET: {
        struct cairn_kv h[] = {{"x-amz-bucket-region", call->settings->region}};
        return s3_respond_empty(call, 200, h, 1);
    }
    case S3_OP_GET_BUCKET_LOCATION: {
        /* us-east-1 is S3's empty LocationConstraint. */
        const char *region = call->settings->region;
        for (const char *p = region; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
                region = ""; /* not a region name we can echo verbatim */
        struct xml_writer w;
        xml_writer_init(&w);
        xml_raw(&w, "<LocationConstraint xmlns=\"" S3_XMLNS "\">");
        if (strcmp(region, "us-east-1") != 0)
            xml_raw(&w, region);
        xml_raw(&w, "</LocationConstraint>");
        return respond_writer(call, &w);
    }
    case S3_OP_GET_BUCKET_VERSIONING:
        return get_versioning(call);
    case S3_OP_PUT_BUCKET_VERSIONING:
        return put_versioning(call);
    case S3_OP_GET_BUCKET_POLICY:
    case S3_OP_PUT_BUCKET_POLICY:
    case S3_OP_DELETE_BUCKET_POLICY:
    case S3_OP_GET_BUCKET_POLICY_STATUS:
        return bucket_policy(call);
    case S3_OP_GET_BUCKET_TAGGING:
    case S3_OP_PUT_BUCKET_TAGGING:
    case S3_OP_DELETE_BUCKET_TAGGING:
        return xml_config(call, "tagging", "Tagging", "NoSuchTagSet", "The TagSet does not exist",
                          call->op == S3_OP_GET_BUCKET_TAGGING,
                          call->op == S3_OP_PUT_BUCKET_TAGGING);
    case S3_OP_GET_BUCKET_LIFECYCLE:
    case S3_OP_PUT_BUCKET_LIFECYCLE:
    case S3_OP_DELETE_BUCKET_LIFECYCLE:
        return xml_config(call, "lifecycle", "LifecycleConfiguration",
                          "NoSuchLifecycleConfiguration",
                          "The lifecycle configuration does not exist",
                          call->op == S3_OP_GET_BUCKET_LIFECYCLE,
                          call->op == S3_OP_PUT_BUCKET_LIFECYCLE);
    case S3_OP_GET_BUCKET_CORS:
        return s3_error_code(call, 404, "NoSuchCORSConfiguration",
                             "The CORS configuration does not exist");
    case S3_OP_GET_BUCKET_ENCRYPTION:
        return s3_error_code(call, 404, "ServerSideEncryptionConfigurationNotFoundError",
                             "The server side encryption configuration was not found");
    case S3_OP_GET_OBJECT_LOCK_CONFIG:
        return s3_error_code(call, 404, "ObjectLockConfigurationNotFoundError",
                             "Object Lock configuration does not exist for this bucket");
    case S3_OP_GET_BUCKET_ACL: {
        struct xml_writer w;
        xml_writer_init(&w);
        rc = s3_write_owner_acl(call,
                                info.owner && *info.owner ? info.owner
                                                          : (call->who.user ? call->who.user : ""),
                                &w);
        if (rc < 0) {
            xml_writer_clear(&w);
            return rc;
        }
        return respond_writer(call, &w);
    }
    case S3_OP_PUT_BUCKET_ACL: {
        const char *acl = s3_header(call, "x-amz-acl");
        if (acl && !s3_canned_acl_valid(acl))
            return CAIRN_E_INVALID_ARGUMENT;
        if (!acl) {
            char *body;
            size_t len;
            rc = s3_read_small_body(call, 64 * 1024, &body, &len);
            if (rc < 0)
                return rc;
            if (len > 0 && !xml_parse(call->req.arena, body, len))
                return CAIRN_E_MALFORMED_XML;
        }
        return s3_respond_empty(call, 200, NULL, 0);
    }
    case S3_OP_GET_BUCKET_OTHER_CONFIG:
        return other_config(call);
    default:
        return CAIRN_E_NOT_IMPLEMENTED;
    }
}
