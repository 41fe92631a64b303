/*
 * sigv2-auth.c -- legacy AWS Signature Version 2: "Authorization: AWS AK:sig"
 * and presigned AWSAccessKeyId/Expires/Signature URLs (boto3's default
 * presigner, s3cmd signurl).  HMAC-SHA1 comes from OpenSSL directly.
 *
 * StringToSign = Method \n Content-MD5 \n Content-Type \n Date-or-Expires \n
 *                CanonicalizedAmzHeaders CanonicalizedResource
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4-canon.h"
#include "sigv4-internal.h"

/* The query parameters that are part of SigV2's canonical resource, sorted. */
static const char *const sub_resources[] = {
    "accelerate", "acl", "analytics", "cors", "delete", "encryption", "intelligent-tiering",
    "inventory", "legal-hold", "lifecycle", "location", "logging", "metrics", "notification",
    "object-lock", "ownershipControls", "partNumber", "policy", "policyStatus",
    "publicAccessBlock", "replication", "requestPayment", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "response-content-language",
    "response-content-type", "response-expires", "restore", "retention", "select",
    "select-type", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning",
    "versions", "website",
};

static int is_sub_resource(const char *name)
{
    for (size_t i = 0; i < sizeof(sub_resources) / sizeof(sub_resources[0]); i++)
        if (strcmp(sub_resources[i], name) == 0)
            return 1;
    return 0;
}

static int cmp_param_name(const void *a, const void *b)
{
    const struct sigv4_param *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* A header pointer, for sorting the x-amz-* headers by name (stable by index). */
struct amz_header {
    const char *name;
    const char *value;
    size_t index;
};

static int cmp_amz(const void *a, const void *b)
{
    const struct amz_header *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The bucket a virtual-host request addresses ("" for path style). */
static void add_virtual_bucket(const struct sigv4_plugin *pl, struct sigv4_buf *b,
                               const struct cairn_http_request *http)
{
    const char *host = sigv4_header(http, "host");
    if (!host)
        host = http->host;
    if (!host || !pl->domain || !*pl->domain)
        return;
    size_t hlen = strcspn(host, ":"), dlen = strlen(pl->domain);
    if (hlen > dlen + 1 && host[hlen - dlen - 1] == '.' &&
        strncasecmp(host + hlen - dlen, pl->domain, dlen) == 0) {
        sigv4_buf_addc(b, '/');
        sigv4_buf_add(b, host, hlen - dlen - 1);
    }
}

/* Builds the string to sign; `date_line` is the Date (or Expires) value. */
static char *v2_string_to_sign(const struct sigv4_plugin *pl, struct sigv4_ctx *cx,
                               const struct cairn_http_request *http, const char *date_line,
                               const struct sigv4_param *params, int n_params)
{
    struct sigv4_buf b;
    sigv4_buf_init(&b, cx);
    const char *md5 = sigv4_header(http, "content-md5");
    const char *ctype = sigv4_header(http, "content-type");
    sigv4_buf_adds(&b, http->method ? http->method : "");
    sigv4_buf_addc(&b, '\n');
    sigv4_buf_adds(&b, md5 ? md5 : "");
    sigv4_buf_addc(&b, '\n');
    sigv4_buf_adds(&b, ctype ? ctype : "");
    sigv4_buf_addc(&b, '\n');
    sigv4_buf_adds(&b, date_line);
    sigv4_buf_addc(&b, '\n');

    /* CanonicalizedAmzHeaders: x-amz-* sorted, repeated names joined with ','. */
    size_t n_amz = 0;
    struct amz_header *amz = cx->sv->req_alloc(cx->req, (http->n_headers + 1) * sizeof(*amz));
    if (!amz)
        return NULL;
    for (size_t i = 0; i < http->n_headers; i++) {
        const char *name = http->headers[i].name;
        if (name && strncmp(name, "x-amz-", 6) == 0) {
            amz[n_amz].name = name;
            amz[n_amz].value = http->headers[i].value ? http->headers[i].value : "";
            amz[n_amz].index = i;
            n_amz++;
        }
    }
    qsort(amz, n_amz, sizeof(*amz), cmp_amz);
    for (size_t i = 0; i < n_amz; i++) {
        if (i > 0 && strcmp(amz[i].name, amz[i - 1].name) == 0) {
            sigv4_buf_addc(&b, ',');
        } else {
            if (i > 0)
                sigv4_buf_addc(&b, '\n');
            sigv4_buf_adds(&b, amz[i].name);
            sigv4_buf_addc(&b, ':');
        }
        sigv4_buf_add_trimmed(&b, amz[i].value);
    }
    if (n_amz)
        sigv4_buf_addc(&b, '\n');

    /* CanonicalizedResource: [/bucket] path [?sub-resources]. */
    add_virtual_bucket(pl, &b, http);
    sigv4_buf_adds(&b, http->raw_path && *http->raw_path ? http->raw_path : "/");
    const struct sigv4_param **subs =
        cx->sv->req_alloc(cx->req, ((size_t)n_params + 1) * sizeof(*subs));
    if (!subs)
        return NULL;
    size_t n_subs = 0;
    for (int i = 0; i < n_params; i++)
        if (is_sub_resource(params[i].name))
            subs[n_subs++] = &params[i];
    qsort(subs, n_subs, sizeof(*subs), cmp_param_name);
    for (size_t i = 0; i < n_subs; i++) {
        sigv4_buf_addc(&b, i ? '&' : '?');
        sigv4_buf_adds(&b, subs[i]->name);
        /* "?uploads=" signs as "uploads=", "?uploads" as "uploads" (as botocore does);
         * raw_name points into the raw query, so the byte after it tells. */
        if (subs[i]->raw_name[subs[i]->raw_name_len] == '=') {
            sigv4_buf_addc(&b, '=');
            sigv4_buf_add(&b, subs[i]->value, subs[i]->value_len);
        }
    }
    return b.failed ? NULL : b.data;
}

int sigv2_sign(const char *secret, const char *data, size_t len, char out[29])
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    uint8_t *ok = HMAC(EVP_sha1(), secret, (int)strlen(secret), (const uint8_t *)data, len, mac,
                       &mac_len);
    if (!ok || mac_len != 20)
        return CAIRN_E_INTERNAL;
    sigv4_base64(mac, 20, out);
    sigv4_secure_zero(mac, sizeof(mac));
    return 0;
}

int sigv2_disabled(struct sigv4_ctx *cx)
{
    cx->sv->log(cx->req, CAIRN_LOG_DEBUG,
                "sigv2: refused, SigV2 is turned off (sigv2 = 0); sign with AWS4-HMAC-SHA256");
    return CAIRN_E_INVALID_REQUEST;
}

int sigv2_check(struct sigv4_ctx *cx, const char *access_key, const char *string_to_sign,
                const char *signature, enum cairn_auth_type type, struct cairn_identity *id_r,
                const char **detail_r)
{
    char secret[SIGV4_SECRET_CAP];
    int rc = sigv4_lookup(cx, access_key, type, 2, id_r, secret);
    if (rc == CAIRN_E_INVALID_ACCESS_KEY)
        *detail_r = sigv4_key_detail(cx, access_key);
    if (rc < 0)
        return rc;
    char expected[29];
    rc = sigv2_sign(secret, string_to_sign, strlen(string_to_sign), expected);
    sigv4_secure_zero(secret, sizeof(secret));
    if (rc < 0)
        return rc;
    if (strlen(signature) != 28 || !sigv4_equal_ct(expected, signature, 28)) {
        cx->sv->log(cx->req, CAIRN_LOG_DEBUG, "sigv2: signature mismatch for access key %s",
                    access_key);
        *detail_r = sigv4_mismatch_detail(cx, access_key, string_to_sign, signature, NULL);
        return CAIRN_E_SIGNATURE_MISMATCH;
    }
    return 0;
}

/* Builds the request's string to sign and checks the signature over it. */
static int v2_verify(const struct sigv4_plugin *pl, struct sigv4_ctx *cx,
                     const struct cairn_http_request *http, const char *access_key,
                     const char *signature, const char *date_line,
                     const struct sigv4_param *params, int n_params, enum cairn_auth_type type,
                     struct cairn_identity *id_r, const char **detail_r)
{
    char *sts = v2_string_to_sign(pl, cx, http, date_line, params, n_params);
    if (!sts)
        return CAIRN_E_NOMEM;
    return sigv2_check(cx, access_key, sts, signature, type, id_r, detail_r);
}

int sigv2_auth_header(const struct sigv4_plugin *pl, struct sigv4_ctx *cx,
                      const struct cairn_http_request *http, const char *authorization,
                      const struct sigv4_param *params, int n_params,
                      struct cairn_identity *id_r, const char **detail_r)
{
    if (!pl->sigv2_enabled)
        return sigv2_disabled(cx);
    const char *cred = authorization + 4; /* after "AWS " */
    while (*cred == ' ')
        cred++;
    const char *colon = strrchr(cred, ':');
    if (!colon || colon == cred || !colon[1])
        return CAIRN_E_AUTH_HEADER_MALFORMED;
    char *ak = sigv4_strndup(cx, cred, (size_t)(colon - cred));
    if (!ak)
        return CAIRN_E_NOMEM;
    const char *sig = colon + 1;

    /* Date: x-amz-date wins (and then the Date line is empty). */
    int64_t t;
    const char *xd = sigv4_header(http, "x-amz-date");
    const char *d = sigv4_header(http, "date");
    const char *date_line;
    if (xd) {
        if (sigv4_parse_http_date(xd, &t) < 0 && sigv4_parse_iso8601_basic(xd, &t) < 0)
            return CAIRN_E_ACCESS_DENIED;
        date_line = "";
    } else {
        if (!d || sigv4_parse_http_date(d, &t) < 0)
            return CAIRN_E_ACCESS_DENIED;
        date_line = d;
    }
    int64_t now = http->now_ms / 1000;
    if (t > now + pl->max_skew_s || t < now - pl->max_skew_s) {
        *detail_r = sigv4_skew_detail(cx, xd ? xd : d, http->now_ms, pl->max_skew_s);
        return CAIRN_E_REQUEST_TIME_SKEWED;
    }
    return v2_verify(pl, cx, http, ak, sig, date_line, params, n_params, CAIRN_AUTH_HEADER, id_r,
                     detail_r);
}

int sigv2_auth_query(const struct sigv4_plugin *pl, struct sigv4_ctx *cx,
                     const struct cairn_http_request *http, const struct sigv4_param *params,
                     int n_params, struct cairn_identity *id_r, const char **detail_r)
{
    if (!pl->sigv2_enabled)
        return sigv2_disabled(cx);
    const char *ak = sigv4_param(params, n_params, "AWSAccessKeyId");
    const char *sig = sigv4_param(params, n_params, "Signature");
    const char *expires = sigv4_param(params, n_params, "Expires");
    if (!ak || !*ak || !sig || !expires || !*expires || strlen(expires) > 18)
        return CAIRN_E_ACCESS_DENIED; /* S3: "Query-string authentication requires the
                                         Signature, Expires and AWSAccessKeyId parameters" */
    int64_t e = 0;
    for (const char *p = expires; *p; p++) {
        if (*p < '0' || *p > '9')
            return CAIRN_E_ACCESS_DENIED;
        e = e * 10 + (*p - '0');
    }
    if (http->now_ms / 1000 > e) {
        *detail_r = sigv4_expired_detail(cx, NULL, e, http->now_ms);
        return CAIRN_E_EXPIRED_REQUEST;
    }
    return v2_verify(pl, cx, http, ak, sig, expires, params, n_params, CAIRN_AUTH_QUERY, id_r,
                     detail_r);
}
