/*
 * s3-router.c -- request target and query parsing, routing to an S3
 * operation, bucket-name rules.  Pure functions (no I/O): see s3-router.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3-router.h"

static const char *const s3_op_names[] = {
#define S3_X_NAME(name, action) #name,
    S3_OP_TABLE(S3_X_NAME)
#undef S3_X_NAME
};

static const char *const s3_op_actions[] = {
#define S3_X_ACTION(name, action) action,
    S3_OP_TABLE(S3_X_ACTION)
#undef S3_X_ACTION
};

#define S3_N_OPS (sizeof(s3_op_names) / sizeof(s3_op_names[0]))

const char *s3_op_name(enum s3_op op)
{
    return (size_t)op < S3_N_OPS ? s3_op_names[op] : "UNKNOWN";
}

const char *s3_op_action(enum s3_op op)
{
    return (size_t)op < S3_N_OPS ? s3_op_actions[op] : "";
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int s3_percent_decode(struct arena *a, const char *s, size_t len, int plus_is_space,
                      char **out_r)
{
    char *out = arena_alloc(a, len + 1);
    if (!out)
        return CAIRN_E_NOMEM;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len)
                return CAIRN_E_INVALID_URI;
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return CAIRN_E_INVALID_URI;
            c = (char)(hi << 4 | lo);
            if (c == '\0')
                return CAIRN_E_INVALID_URI;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        } else if (c == '\0') {
            return CAIRN_E_INVALID_URI;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    *out_r = out;
    return 0;
}

/* The host without its port (and without IPv6 brackets' port), lower-cased. */
static char *host_without_port(struct arena *a, const char *host)
{
    size_t n = strlen(host);
    if (host[0] != '[') {
        const char *colon = strrchr(host, ':');
        if (colon)
            n = (size_t)(colon - host);
    }
    char *h = arena_strndup(a, host, n);
    if (h)
        for (char *p = h; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    return h;
}

int s3_parse_target(struct arena *a, const char *raw_path, const char *host, const char *domain,
                    char **bucket_r, char **key_r)
{
    if (!raw_path || raw_path[0] != '/')
        return CAIRN_E_INVALID_URI;
    const char *vhost_bucket = NULL;
    size_t vhost_len = 0;
    char *h = NULL;
    if (domain && *domain && host && *host) {
        h = host_without_port(a, host);
        if (!h)
            return CAIRN_E_NOMEM;
        size_t hl = strlen(h), dl = strlen(domain);
        if (hl > dl + 1 && h[hl - dl - 1] == '.' && strcasecmp(h + hl - dl, domain) == 0) {
            vhost_bucket = h;
            vhost_len = hl - dl - 1;
        }
    }
    const char *path = raw_path + 1;
    if (vhost_bucket) {
        *bucket_r = arena_strndup(a, vhost_bucket, vhost_len);
        if (!*bucket_r)
            return CAIRN_E_NOMEM;
        return s3_percent_decode(a, path, strlen(path), 0, key_r);
    }
    const char *slash = strchr(path, '/');
    size_t blen = slash ? (size_t)(slash - path) : strlen(path);
    int rc = s3_percent_decode(a, path, blen, 0, bucket_r);
    if (rc < 0)
        return rc;
    const char *key = slash ? slash + 1 : "";
    return s3_percent_decode(a, key, strlen(key), 0, key_r);
}

struct param_sort {
    struct s3_param p;
    size_t index;
};

static int param_cmp(const void *x, const void *y)
{
    const struct param_sort *a = x, *b = y;
    int c = strcmp(a->p.name, b->p.name);
    if (c)
        return c;
    return a->index < b->index ? -1 : a->index > b->index;
}

int s3_parse_query(struct arena *a, const char *raw_query, struct s3_param **params_r,
                   size_t *n_r)
{
    *params_r = NULL;
    *n_r = 0;
    if (!raw_query || !*raw_query)
        return 0;
    size_t count = 1;
    for (const char *p = raw_query; *p; p++)
        if (*p == '&')
            count++;
    struct param_sort *tmp = calloc(count, sizeof(*tmp));
    if (!tmp)
        return CAIRN_E_NOMEM;
    size_t n = 0;
    int rc = 0;
    const char *p = raw_query;
    while (*p) {
        size_t plen = strcspn(p, "&");
        if (plen > 0) {
            const char *eq = memchr(p, '=', plen);
            size_t nlen = eq ? (size_t)(eq - p) : plen;
            char *name, *value;
            rc = s3_percent_decode(a, p, nlen, 1, &name);
            if (rc == 0)
                rc = eq ? s3_percent_decode(a, eq + 1, plen - nlen - 1, 1, &value)
                        : s3_percent_decode(a, "", 0, 1, &value);
            if (rc < 0)
                break;
            tmp[n].p.name = name;
            tmp[n].p.value = value;
            tmp[n].index = n;
            n++;
        }
        p += plen;
        if (*p == '&')
            p++;
    }
    if (rc == 0 && n > 0) {
        qsort(tmp, n, sizeof(*tmp), param_cmp);
        struct s3_param *out = arena_alloc(a, n * sizeof(*out));
        if (!out) {
            rc = CAIRN_E_NOMEM;
        } else {
            for (size_t i = 0; i < n; i++)
                out[i] = tmp[i].p;
            *params_r = out;
            *n_r = n;
        }
    }
    free(tmp);
    return rc;
}

const char *s3_params_get(const struct s3_param *params, size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(params[mid].name, name);
        if (c == 0) {
            while (mid > 0 && strcmp(params[mid - 1].name, name) == 0)
                mid--;
            return params[mid].value;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Bucket configuration subresources that answer a fixed "nothing configured". */
static const char *const s3_other_configs[] = {
    "website",         "replication",       "logging",           "notification",
    "accelerate",      "requestPayment",    "ownershipControls", "publicAccessBlock",
    "analytics",       "metrics",           "inventory",         "intelligent-tiering",
};

enum s3_op s3_route(const char *method, const char *bucket, const char *key,
                    const struct s3_param *params, size_t n_params, int has_copy_source,
                    const char **subresource_r)
{
#define HAS(name) (s3_params_get(params, n_params, (name)) != NULL)
    if (subresource_r)
        *subresource_r = NULL;
    int get = strcmp(method, "GET") == 0, head = strcmp(method, "HEAD") == 0;
    int put = strcmp(method, "PUT") == 0, post = strcmp(method, "POST") == 0;
    int del = strcmp(method, "DELETE") == 0;

    if (!bucket || !*bucket)
        return get ? S3_OP_LIST_BUCKETS : S3_OP_UNKNOWN;

    if (!key || !*key) {
        if (get) {
            if (HAS("location"))
                return S3_OP_GET_BUCKET_LOCATION;
            if (HAS("versioning"))
                return S3_OP_GET_BUCKET_VERSIONING;
            if (HAS("policyStatus"))
                return S3_OP_GET_BUCKET_POLICY_STATUS;
            if (HAS("policy"))
                return S3_OP_GET_BUCKET_POLICY;
            if (HAS("tagging"))
                return S3_OP_GET_BUCKET_TAGGING;
            if (HAS("lifecycle"))
                return S3_OP_GET_BUCKET_LIFECYCLE;
            if (HAS("cors"))
                return S3_OP_GET_BUCKET_CORS;
            if (HAS("encryption"))
                return S3_OP_GET_BUCKET_ENCRYPTION;
            if (HAS("object-lock"))
                return S3_OP_GET_OBJECT_LOCK_CONFIG;
            if (HAS("acl"))
                return S3_OP_GET_BUCKET_ACL;
            for (size_t i = 0; i < sizeof(s3_other_configs) / sizeof(s3_other_configs[0]); i++)
                if (HAS(s3_other_configs[i])) {
                    if (subresource_r)
                        *subresource_r = s3_other_configs[i];
                    return S3_OP_GET_BUCKET_OTHER_CONFIG;
                }
            if (HAS("uploads"))
                return S3_OP_LIST_MULTIPART_UPLOADS;
            if (HAS("versions"))
                return S3_OP_LIST_OBJECT_VERSIONS;
            const char *lt = s3_params_get(params, n_params, "list-type");
            if (lt && strcmp(lt, "2") == 0)
                return S3_OP_LIST_OBJECTS_V2;
            return S3_OP_LIST_OBJECTS_V1;
        }
        if (head)
            return S3_OP_HEAD_BUCKET;
        if (put) {
            if (HAS("versioning"))
                return S3_OP_PUT_BUCKET_VERSIONING;
            if (HAS("policy"))
                return S3_OP_PUT_BUCKET_POLICY;
            if (HAS("tagging"))
                return S3_OP_PUT_BUCKET_TAGGING;
            if (HAS("lifecycle"))
                return S3_OP_PUT_BUCKET_LIFECYCLE;
            if (HAS("acl"))
                return S3_OP_PUT_BUCKET_ACL;
            /* Any other configuration PUT is not implemented. */
            if (n_params > 0 && !HAS("x-id"))
                return S3_OP_UNKNOWN;
            return S3_OP_CREATE_BUCKET;
        }
        if (del) {
            if (HAS("policy"))
                return S3_OP_DELETE_BUCKET_POLICY;
            if (HAS("tagging"))
                return S3_OP_DELETE_BUCKET_TAGGING;
            if (HAS("lifecycle"))
                return S3_OP_DELETE_BUCKET_LIFECYCLE;
            if (n_params > 0 && !HAS("x-id"))
                return S3_OP_UNKNOWN;
            return S3_OP_DELETE_BUCKET;
        }
        if (post) {
            if (HAS("delete"))
                return S3_OP_DELETE_OBJECTS;
            /* A browser upload (multipart/form-data; s3-post-object.c checks the
             * content type and answers S3's errors for anything else). */
            if (n_params == 0 || (n_params == 1 && HAS("x-id")))
                return S3_OP_POST_OBJECT;
            return S3_OP_UNKNOWN;
        }
        return S3_OP_UNKNOWN;
    }

    if (get) {
        if (HAS("uploadId"))
            return S3_OP_LIST_PARTS;
        if (HAS("tagging"))
            return S3_OP_GET_OBJECT_TAGGING;
        if (HAS("acl"))
            return S3_OP_GET_OBJECT_ACL;
        if (HAS("attributes"))
            return S3_OP_GET_OBJECT_ATTRIBUTES;
        return S3_OP_GET_OBJECT;
    }
    if (head)
        return S3_OP_HEAD_OBJECT;
    if (put) {
        if (HAS("partNumber") && HAS("uploadId"))
            return has_copy_source ? S3_OP_UPLOAD_PART_COPY : S3_OP_UPLOAD_PART;
        if (HAS("tagging"))
            return S3_OP_PUT_OBJECT_TAGGING;
        if (HAS("acl"))
            return S3_OP_PUT_OBJECT_ACL;
        if (HAS("retention") || HAS("legal-hold"))
            return S3_OP_UNKNOWN;
        return has_copy_source ? S3_OP_COPY_OBJECT : S3_OP_PUT_OBJECT;
    }
    if (post) {
        if (HAS("uploads"))
            return S3_OP_CREATE_MULTIPART_UPLOAD;
        if (HAS("uploadId"))
            return S3_OP_COMPLETE_MULTIPART_UPLOAD;
        return S3_OP_UNKNOWN;
    }
    if (del) {
        if (HAS("uploadId"))
            return S3_OP_ABORT_MULTIPART_UPLOAD;
        if (HAS("tagging"))
            return S3_OP_DELETE_OBJECT_TAGGING;
        return S3_OP_DELETE_OBJECT;
    }
    return S3_OP_UNKNOWN;
#undef HAS
}

/* True when `name` looks like a dotted-quad IPv4 address. */
static int looks_like_ipv4(const char *name)
{
    int parts = 0;
    const char *p = name;
    while (*p) {
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            p++;
            digits++;
        }
        if (digits == 0 || digits > 3)
            return 0;
        parts++;
        if (*p == '.')
            p++;
        else if (*p)
            return 0;
    }
    return parts == 4;
}

static int is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int s3_bucket_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n < 3 || n > 63)
        return 0;
    if (!is_lower_alnum(name[0]) || !is_lower_alnum(name[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!is_lower_alnum(c) && c != '.' && c != '-')
            return 0;
        if (c == '.' && i + 1 < n && (name[i + 1] == '.' || name[i + 1] == '-'))
            return 0;
        if (c == '-' && i + 1 < n && name[i + 1] == '.')
            return 0;
    }
    return !looks_like_ipv4(name);
}

int s3_is_health_path(const char *raw_path)
{
    return strcmp(raw_path, "/minio/health/live") == 0 ||
           strcmp(raw_path, "/minio/health/ready") == 0 ||
           strcmp(raw_path, "/minio/health/cluster") == 0 ||
           strcmp(raw_path, "/minio/health/cluster/read") == 0;
}
