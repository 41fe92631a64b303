/*
 * sigv4-internal.h -- the auth-sigv4 plugin's instance state and the entry
 * points of its three schemes.  Not installed; shared by the plugin's files
 * and its unit tests.
 *
 * Configuration (the plugin's section):
 *   extra_regions = "dummy"   regions accepted besides the server's own
 *                             (comma or space separated; default none).
 *                             Sites running Loki without a region set "dummy".
 *   sigv2 = 1                 accept SigV2 header and presigned requests (0: refuse)
 *   max_skew_seconds = 900    allowed clock difference for header-signed requests
 *   domain = ""               virtual-host domain for SigV2's canonical resource
 *                             ("s3.example.com": host "b.s3.example.com" is bucket b)
 */
#ifndef SIGV4_INTERNAL_H
#define SIGV4_INTERNAL_H

#include <cairn/plugin.h>

#include "sigv4-util.h"

struct sigv4_plugin {
    const struct cairn_services *sv;
    char **extra_regions; /* malloc'd copies */
    size_t n_extra_regions;
    int sigv2_enabled;
    int64_t max_skew_s;
    const char *domain;   /* "" for none */
};

/* Secrets longer than this are refused by iam_lookup's cap. */
#define SIGV4_SECRET_CAP 256

/* 1 when `region` is the server's region or one of the extra ones. */
int sigv4_region_ok(const struct sigv4_plugin *pl, const struct cairn_http_request *http,
                    const char *region);

/* The server's region (http->region, or "us-east-1" when unset). */
const char *sigv4_server_region(const struct cairn_http_request *http);

/*
 * SigV4 with an "AWS4-HMAC-SHA256 ..." Authorization header.  Same contract as
 * cairn_auth_ops.authenticate (never declines).
 */
int sigv4_auth_header(const struct sigv4_plugin *pl, struct sigv4_ctx *cx,
                      const struct cairn_http_request *http, const char *authorization,
                      struct cairn_identity *id_r, struct cairn_body_decoder **decoder_r,
                      const char **detail_r);

/* SigV4 presigned query (X-Amz-Algorithm present in `params`). */
int sigv4_auth_query(const struct sigv4_plugin *pl, struct sigv4_ctx *cx,
                     const struct cairn_http_request *http, const struct sigv4_param *params,
                     int n_params, struct cairn_identity *id_r,
                     struct cairn_body_decoder **decoder_r, const char **detail_r);

/* SigV2 "AWS AK:signature" header. */
int sigv2_auth_header(const struct sigv4_plugin *pl, struct sigv4_ctx *cx,
                      const struct cairn_http_request *http, const char *authorization,
                      const struct sigv4_param *params, int n_params,
                      struct cairn_identity *id_r, const char **detail_r);

/* SigV2 presigned query (AWSAccessKeyId, Expires, Signature). */
int sigv2_auth_query(const struct sigv4_plugin *pl, struct sigv4_ctx *cx,
                     const struct cairn_http_request *http, const struct sigv4_param *params,
                     int n_params, struct cairn_identity *id_r, const char **detail_r);

/*
 * Browser POST forms (cairn_auth_ops.authenticate_form): SigV4 (x-amz-algorithm,
 * x-amz-credential, x-amz-date, x-amz-signature = hex HMAC-SHA256 of the policy
 * field with the credential's signing key) or SigV2 (awsaccesskeyid, signature =
 * base64 HMAC-SHA1 of the policy field).  CAIRN_DECLINED when the form carries
 * neither.  The policy's expiration and conditions are the core's to check.
 */
int sigv4_auth_form(const struct sigv4_plugin *pl, struct sigv4_ctx *cx, size_t n_fields,
                    const struct cairn_kv *fields, struct cairn_identity *id_r,
                    const char **detail_r);

/* base64(HMAC-SHA1(secret, data)) into out[29] (SigV2).  0 or CAIRN_E_INTERNAL. */
int sigv2_sign(const char *secret, const char *data, size_t len, char out[29]);

/*
 * Looks `access_key` up and compares `signature` with SigV2's signature of
 * `string_to_sign` in constant time.  0 with *id_r filled (auth `type`,
 * version 2); InvalidAccessKeyId / SignatureDoesNotMatch with their detail.
 */
int sigv2_check(struct sigv4_ctx *cx, const char *access_key, const char *string_to_sign,
                const char *signature, enum cairn_auth_type type, struct cairn_identity *id_r,
                const char **detail_r);

/* Logs and answers a SigV2 request while SigV2 is turned off (sigv2 = 0):
 * CAIRN_E_INVALID_REQUEST, as S3 does in SigV4-only regions. */
int sigv2_disabled(struct sigv4_ctx *cx);

/*
 * Looks the access key up and fills *id_r with the rest of the identity
 * (auth type, signature version, content_sha256 "" unless set later).  The
 * secret goes to secret_r (SIGV4_SECRET_CAP bytes).  Returns 0 or the IAM
 * store's error.
 */
int sigv4_lookup(struct sigv4_ctx *cx, const char *access_key, enum cairn_auth_type type,
                 int version, struct cairn_identity *id_r, char *secret_r);

/* S3's RequestTimeTooSkewed detail: RequestTime (as sent), ServerTime and
 * MaxAllowedSkewMilliseconds.  Request memory; NULL when out of memory. */
const char *sigv4_skew_detail(struct sigv4_ctx *cx, const char *request_time, int64_t now_ms,
                              int64_t max_skew_s);

/* S3's detail for an expired presigned URL: X-Amz-Expires (when not NULL),
 * Expires and ServerTime. */
const char *sigv4_expired_detail(struct sigv4_ctx *cx, const char *x_amz_expires,
                                 int64_t expires_s, int64_t now_ms);

/* "<AWSAccessKeyId>key</AWSAccessKeyId>", as S3 adds to InvalidAccessKeyId. */
const char *sigv4_key_detail(struct sigv4_ctx *cx, const char *access_key);

/*
 * Builds S3's SignatureDoesNotMatch detail elements (XML-escaped, request
 * memory): AWSAccessKeyId, StringToSign, SignatureProvided, StringToSignBytes
 * and, when canonical_request is not NULL, CanonicalRequest and
 * CanonicalRequestBytes.  NULL when out of memory.
 */
const char *sigv4_mismatch_detail(struct sigv4_ctx *cx, const char *access_key,
                                  const char *string_to_sign, const char *signature,
                                  const char *canonical_request);

#endif
