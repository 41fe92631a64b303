/*
 * sigv4-auth.c -- SigV4 verification: Authorization header and presigned query,
 * the x-amz-content-sha256 payload modes and the body decoder each needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4-canon.h"
#include "sigv4-chunked.h"
#include "sigv4-internal.h"

/* Longest presigned URL lifetime S3 allows: 7 days. */
#define MAX_PRESIGN_EXPIRES 604800

/* The payload modes of x-amz-content-sha256. */
enum payload_mode {
    PAYLOAD_HASH,             /* 64 hex digits */
    PAYLOAD_UNSIGNED,         /* UNSIGNED-PAYLOAD */
    PAYLOAD_STREAM_SIGNED,    /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
    PAYLOAD_STREAM_UNSIGNED_TRAILER,
    PAYLOAD_STREAM_SIGNED_TRAILER,
};

/* Classifies the header value; -1 for a value S3 refuses (InvalidArgument),
 * CAIRN_E_NOT_IMPLEMENTED for SigV4a streaming. */
static int payload_mode_of(const char *v)
{
    if (sigv4_is_hex(v, 64))
        return PAYLOAD_HASH;
    if (strcmp(v, "UNSIGNED-PAYLOAD") == 0)
        return PAYLOAD_UNSIGNED;
    if (strcmp(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") == 0)
        return PAYLOAD_STREAM_SIGNED;
    if (strcmp(v, "STREAMING-UNSIGNED-PAYLOAD-TRAILER") == 0)
        return PAYLOAD_STREAM_UNSIGNED_TRAILER;
    if (strcmp(v, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") == 0)
        return PAYLOAD_STREAM_SIGNED_TRAILER;
    if (strncmp(v, "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", 40) == 0)
        return CAIRN_E_NOT_IMPLEMENTED;
    return -1;
}

/* Parses a non-negative decimal header value; -1 when absent or malformed. */
static int64_t header_int(const struct cairn_http_request *http, const char *name)
{
    const char *v = sigv4_header(http, name);
    if (!v || !*v)
        return -1;
    int64_t n = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9' || n > (INT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (*p - '0');
    }
    return n;
}

const char *sigv4_mismatch_detail(struct sigv4_ctx *cx, const char *access_key,
                                  const char *string_to_sign, const char *signature,
                                  const char *canonical_request)
{
    struct sigv4_buf b;
    sigv4_buf_init(&b, cx);
    sigv4_buf_adds(&b, "<AWSAccessKeyId>");
    sigv4_buf_add_xml(&b, access_key, strlen(access_key));
    sigv4_buf_adds(&b, "</AWSAccessKeyId><StringToSign>");
    sigv4_buf_add_xml(&b, string_to_sign, strlen(string_to_sign));
    sigv4_buf_adds(&b, "</StringToSign><SignatureProvided>");
    sigv4_buf_add_xml(&b, signature, strlen(signature));
    sigv4_buf_adds(&b, "</SignatureProvided><StringToSignBytes>");
    sigv4_buf_add_hex_bytes(&b, string_to_sign, strlen(string_to_sign));
    sigv4_buf_adds(&b, "</StringToSignBytes>");
    if (canonical_request) {
        sigv4_buf_adds(&b, "<CanonicalRequest>");
        sigv4_buf_add_xml(&b, canonical_request, strlen(canonical_request));
        sigv4_buf_adds(&b, "</CanonicalRequest><CanonicalRequestBytes>");
        sigv4_buf_add_hex_bytes(&b, canonical_request, strlen(canonical_request));
        sigv4_buf_adds(&b, "</CanonicalRequestBytes>");
    }
    return b.failed ? NULL : b.data;
}

/* Appends "YYYY-MM-DDTHH:MM:SSZ" (S3's ServerTime format). */
static void add_iso8601(struct sigv4_buf *b, int64_t secs)
{
    char basic[17], ext[21];
    sigv4_format_iso8601_basic(secs, basic);
    snprintf(ext, sizeof(ext), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", basic, basic + 4, basic + 6,
             basic + 9, basic + 11, basic + 13);
    sigv4_buf_adds(b, ext);
}

const char *sigv4_skew_detail(struct sigv4_ctx *cx, const char *request_time, int64_t now_ms,
                              int64_t max_skew_s)
{
    char ms[32];
    struct sigv4_buf b;
    sigv4_buf_init(&b, cx);
    sigv4_buf_adds(&b, "<RequestTime>");
    sigv4_buf_add_xml(&b, request_time, strlen(request_time));
    sigv4_buf_adds(&b, "</RequestTime><ServerTime>");
    add_iso8601(&b, now_ms / 1000);
    snprintf(ms, sizeof(ms), "%lld", (long long)max_skew_s * 1000);
    sigv4_buf_adds(&b, "</ServerTime><MaxAllowedSkewMilliseconds>");
    sigv4_buf_adds(&b, ms);
    sigv4_buf_adds(&b, "</MaxAllowedSkewMilliseconds>");
    return b.failed ? NULL : b.data;
}

const char *sigv4_expired_detail(struct sigv4_ctx *cx, const char *x_amz_expires,
                                 int64_t expires_s, int64_t now_ms)
{
    struct sigv4_buf b;
    sigv4_buf_init(&b, cx);
    if (x_amz_expires) {
        sigv4_buf_adds(&b, "<X-Amz-Expires>");
        sigv4_buf_add_xml(&b, x_amz_expires, strlen(x_amz_expires));
        sigv4_buf_adds(&b, "</X-Amz-Expires>");
    }
    sigv4_buf_adds(&b, "<Expires>");
    add_iso8601(&b, expires_s);
    sigv4_buf_adds(&b, "</Expires><ServerTime>");
    add_iso8601(&b, now_ms / 1000);
    sigv4_buf_adds(&b, "</ServerTime>");
    return b.failed ? NULL : b.data;
}

const char *sigv4_key_detail(struct sigv4_ctx *cx, const char *access_key)
{
    struct sigv4_buf b;
    sigv4_buf_init(&b, cx);
    sigv4_buf_adds(&b, "<AWSAccessKeyId>");
    sigv4_buf_add_xml(&b, access_key, strlen(access_key));
    sigv4_buf_adds(&b, "</AWSAccessKeyId>");
    return b.failed ? NULL : b.data;
}

int sigv4_lookup(struct sigv4_ctx *cx, const char *access_key, enum cairn_auth_type type,
                 int version, struct cairn_identity *id_r, char *secret_r)
{
    memset(id_r, 0, sizeof(*id_r));
    secret_r[0] = '\0';
    if (!cx->sv->iam_lookup)
        return CAIRN_E_INVALID_ACCESS_KEY;
    int rc = cx->sv->iam_lookup(cx->req, access_key, id_r, secret_r, SIGV4_SECRET_CAP);
    if (rc < 0) {
        sigv4_secure_zero(secret_r, SIGV4_SECRET_CAP);
        return rc;
    }
    secret_r[SIGV4_SECRET_CAP - 1] = '\0';
    if (!id_r->access_key || !*id_r->access_key)
        id_r->access_key = cx->sv->req_strdup(cx->req, access_key);
    if (!id_r->user)
        id_r->user = id_r->access_key;
    if (!id_r->parent)
        id_r->parent = "";
    id_r->is_anonymous = 0;
    id_r->auth_type = type;
    id_r->signature_version = version;
    id_r->content_sha256 = "";
    return id_r->access_key ? 0 : CAIRN_E_NOMEM;
}

/* What both SigV4 forms hand to the common verifier. */
struct v4_request {
    const struct sigv4_credential *cred;
    const char *amz_date;       /* "YYYYMMDDTHHMMSSZ" */
    const char *signed_headers;
    const char *signature;      /* as given (64 hex) */
    const char *payload;        /* payload hash line of the canonical request */
    const struct sigv4_param *params;
    int n_params;
    int presigned;              /* leave X-Amz-Signature out of the canonical query */
    enum cairn_auth_type type;
};

/*
 * Looks the key up, computes the signature and compares.  On success fills
 * *id_r and the signing key; on a mismatch sets *detail_r.
 */
static int v4_verify(struct sigv4_ctx *cx, const struct cairn_http_request *http,
                     const struct v4_request *vr, struct cairn_identity *id_r,
                     uint8_t key_r[32], const char **detail_r)
{
    char secret[SIGV4_SECRET_CAP];
    int rc = sigv4_lookup(cx, vr->cred->access_key, vr->type, 4, id_r, secret);
    if (rc == CAIRN_E_INVALID_ACCESS_KEY)
        *detail_r = sigv4_key_detail(cx, vr->cred->access_key);
    if (rc < 0)
        return rc;

    struct sigv4_buf cr;
    sigv4_buf_init(&cr, cx);
    sigv4_buf_adds(&cr, http->method ? http->method : "");
    sigv4_buf_addc(&cr, '\n');
    sigv4_canonical_uri(&cr, http->raw_path);
    sigv4_buf_addc(&cr, '\n');
    rc = sigv4_canonical_query(&cr, vr->params, vr->n_params,
                               vr->presigned ? "X-Amz-Signature" : NULL);
    sigv4_buf_addc(&cr, '\n');
    sigv4_canonical_headers(&cr, http, vr->signed_headers);
    sigv4_buf_addc(&cr, '\n');
    sigv4_buf_adds(&cr, vr->signed_headers);
    sigv4_buf_addc(&cr, '\n');
    sigv4_buf_adds(&cr, vr->payload);
    char *sts = NULL;
    if (rc == 0 && !cr.failed)
        sts = sigv4_string_to_sign(cx, vr->amz_date, vr->cred->scope, cr.data, cr.len);
    if (!sts) {
        sigv4_secure_zero(secret, sizeof(secret));
        return CAIRN_E_NOMEM;
    }

    char sig[65];
    sigv4_signing_key(cx->sv, secret, vr->cred->date, vr->cred->region, vr->cred->service, key_r);
    sigv4_secure_zero(secret, sizeof(secret));
    sigv4_hmac_hex(cx->sv, key_r, sts, strlen(sts), sig);
    /* Compared exactly (S3 does not accept upper-case hex either), in constant
     * time; the provided signature was checked to be 64 hex digits. */
    if (!sigv4_equal_ct(sig, vr->signature, 64)) {
        sigv4_secure_zero(key_r, 32);
        cx->sv->log(cx->req, CAIRN_LOG_DEBUG, "sigv4: signature mismatch for access key %s",
                    vr->cred->access_key);
        *detail_r = sigv4_mismatch_detail(cx, vr->cred->access_key, sts, vr->signature, cr.data);
        return CAIRN_E_SIGNATURE_MISMATCH;
    }
    return 0;
}

/* The "<Region>expected</Region>" detail S3 adds to a wrong-region error. */
static const char *region_detail(struct sigv4_ctx *cx, const struct cairn_http_request *http)
{
    struct sigv4_buf b;
    sigv4_buf_init(&b, cx);
    const char *r = sigv4_server_region(http);
    sigv4_buf_adds(&b, "<Region>");
    sigv4_buf_add_xml(&b, r, strlen(r));
    sigv4_buf_adds(&b, "</Region>");
    return b.failed ? NULL : b.data;
}

/*
 * Installs the decoder for the payload mode (after the signature verified).
 * `signature` seeds chunk signature chains.
 */
static int install_decoder(struct sigv4_ctx *cx, const struct cairn_http_request *http,
                           int mode, const char *payload, const uint8_t key[32],
                           const char *amz_date, const char *scope, const char *signature,
                           struct cairn_body_decoder **decoder_r)
{
    struct cairn_body_decoder *dec = NULL;
    struct sigv4_chunk_signing sg;
    switch (mode) {
    case PAYLOAD_UNSIGNED:
        return 0;
    case PAYLOAD_HASH:
        dec = sigv4_sha256_decoder_new(cx->sv, payload, header_int(http, "content-length"));
        break;
    case PAYLOAD_STREAM_SIGNED:
    case PAYLOAD_STREAM_SIGNED_TRAILER:
        memcpy(sg.key, key, 32);
        sg.amz_date = amz_date;
        sg.scope = scope;
        sg.seed_signature = signature;
        dec = sigv4_chunked_decoder_new(cx->sv,
                                        mode == PAYLOAD_STREAM_SIGNED ? SIGV4_CHUNKS_SIGNED
                                                                      : SIGV4_CHUNKS_SIGNED_TRAILER,
                                        &sg, header_int(http, "x-amz-decoded-content-length"));
        sigv4_secure_zero(sg.key, sizeof(sg.key));
        break;
    case PAYLOAD_STREAM_UNSIGNED_TRAILER:
        dec = sigv4_chunked_decoder_new(cx->sv, SIGV4_CHUNKS_UNSIGNED_TRAILER, NULL,
                                        header_int(http, "x-amz-decoded-content-length"));
        break;
    default:
        return CAIRN_E_INTERNAL;
    }
    if (!dec)
        return CAIRN_E_NOMEM;
    *decoder_r = dec;
    return 0;
}

int sigv4_auth_header(const struct sigv4_plugin *pl, struct sigv4_ctx *cx,
                      const struct cairn_http_request *http, const char *authorization,
                      struct cairn_identity *id_r, struct cairn_body_decoder **decoder_r,
                      const char **detail_r)
{
    struct sigv4_auth_header a;
    int rc = sigv4_parse_auth_header(cx, authorization, &a);
    if (rc == CAIRN_E_NOMEM)
        return rc;
    if (rc < 0)
        return CAIRN_E_AUTH_HEADER_MALFORMED;
    if (!sigv4_region_ok(pl, http, a.cred.region)) {
        *detail_r = region_detail(cx, http);
        return CAIRN_E_AUTH_HEADER_MALFORMED;
    }

    /* The request time: X-Amz-Date, else Date. */
    int64_t t;
    char amz_date[17];
    const char *xd = sigv4_header(http, "x-amz-date");
    if (xd) {
        if (sigv4_parse_iso8601_basic(xd, &t) < 0)
            return CAIRN_E_ACCESS_DENIED; /* S3: "AWS authentication requires a valid Date or x-amz-date header" */
        memcpy(amz_date, xd, 17);
    } else {
        const char *d = sigv4_header(http, "date");
        if (!d || sigv4_parse_http_date(d, &t) < 0)
            return CAIRN_E_ACCESS_DENIED;
        sigv4_format_iso8601_basic(t, amz_date);
    }
    if (strncmp(amz_date, a.cred.date, 8) != 0)
        return CAIRN_E_AUTH_HEADER_MALFORMED; /* credential date differs from the request's */
    int64_t now = http->now_ms / 1000;
    if (t > now + pl->max_skew_s || t < now - pl->max_skew_s) {
        *detail_r = sigv4_skew_detail(cx, xd ? xd : sigv4_header(http, "date"), http->now_ms,
                                      pl->max_skew_s);
        return CAIRN_E_REQUEST_TIME_SKEWED;
    }

    /* Payload: a missing header means an empty body, verified as such. */
    const char *payload = sigv4_header(http, "x-amz-content-sha256");
    const char *canon_payload = payload ? payload : SIGV4_EMPTY_SHA256;
    int mode = payload_mode_of(canon_payload);
    if (mode == CAIRN_E_NOT_IMPLEMENTED)
        return mode;
    if (mode < 0)
        return CAIRN_E_INVALID_ARGUMENT; /* S3: x-amz-content-sha256 must be ... */

    struct v4_request vr = {
        .cred = &a.cred,
        .amz_date = amz_date,
        .signed_headers = a.signed_headers,
        .signature = a.signature,
        .payload = canon_payload,
        .presigned = 0,
        .type = CAIRN_AUTH_HEADER,
    };
    rc = sigv4_split_query(cx, http->raw_query, (struct sigv4_param **)&vr.params);
    if (rc < 0)
        return rc;
    vr.n_params = rc;
    uint8_t key[32];
    rc = v4_verify(cx, http, &vr, id_r, key, detail_r);
    if (rc < 0)
        return rc;
    id_r->content_sha256 = payload ? cx->sv->req_strdup(cx->req, payload) : "";
    rc = install_decoder(cx, http, mode, canon_payload, key, amz_date, a.cred.scope, a.signature,
                         decoder_r);
    sigv4_secure_zero(key, sizeof(key));
    return rc;
}

int sigv4_auth_query(const struct sigv4_plugin *pl, struct sigv4_ctx *cx,
                     const struct cairn_http_request *http, const struct sigv4_param *params,
                     int n_params, struct cairn_identity *id_r,
                     struct cairn_body_decoder **decoder_r, const char **detail_r)
{
    const char *algo = sigv4_param(params, n_params, "X-Amz-Algorithm");
    const char *cred_s = sigv4_param(params, n_params, "X-Amz-Credential");
    const char *date = sigv4_param(params, n_params, "X-Amz-Date");
    const char *expires_s = sigv4_param(params, n_params, "X-Amz-Expires");
    const char *sh = sigv4_param(params, n_params, "X-Amz-SignedHeaders");
    const char *sig = sigv4_param(params, n_params, "X-Amz-Signature");
    if (!algo || strcmp(algo, "AWS4-HMAC-SHA256") != 0 || !cred_s || !date || !expires_s ||
        !sh || !sig || !sigv4_is_hex(sig, 64) || sigv4_check_signed_headers(sh) < 0)
        return CAIRN_E_AUTH_QUERY_MALFORMED;
    struct sigv4_credential cred;
    int rc = sigv4_parse_credential(cx, cred_s, &cred);
    if (rc == CAIRN_E_NOMEM)
        return rc;
    if (rc < 0)
        return CAIRN_E_AUTH_QUERY_MALFORMED;
    if (!sigv4_region_ok(pl, http, cred.region)) {
        *detail_r = region_detail(cx, http);
        return CAIRN_E_AUTH_QUERY_MALFORMED;
    }
    int64_t t;
    if (sigv4_parse_iso8601_basic(date, &t) < 0 || strncmp(date, cred.date, 8) != 0)
        return CAIRN_E_AUTH_QUERY_MALFORMED;
    int64_t expires = 0;
    if (!*expires_s || strlen(expires_s) > 7)
        return CAIRN_E_AUTH_QUERY_MALFORMED;
    for (const char *p = expires_s; *p; p++) {
        if (*p < '0' || *p > '9')
            return CAIRN_E_AUTH_QUERY_MALFORMED;
        expires = expires * 10 + (*p - '0');
    }
    if (expires > MAX_PRESIGN_EXPIRES)
        return CAIRN_E_AUTH_QUERY_MALFORMED; /* "X-Amz-Expires must be less than a week" */
    int64_t now = http->now_ms / 1000;
    if (t > now + pl->max_skew_s)
        return CAIRN_E_ACCESS_DENIED; /* "Request is not valid yet" */
    if (now > t + expires) {
        *detail_r = sigv4_expired_detail(cx, expires_s, t + expires, http->now_ms);
        return CAIRN_E_EXPIRED_REQUEST;
    }

    /* Presigned URLs carry UNSIGNED-PAYLOAD unless the signer put a hash in. */
    const char *payload = sigv4_param(params, n_params, "X-Amz-Content-Sha256");
    if (!payload)
        payload = sigv4_header(http, "x-amz-content-sha256");
    if (!payload)
        payload = "UNSIGNED-PAYLOAD";
    int mode = payload_mode_of(payload);
    if (mode == CAIRN_E_NOT_IMPLEMENTED)
        return mode;
    if (mode < 0)
        return CAIRN_E_INVALID_ARGUMENT;

    struct v4_request vr = {
        .cred = &cred,
        .amz_date = date,
        .signed_headers = sh,
        .signature = sig,
        .payload = payload,
        .params = params,
        .n_params = n_params,
        .presigned = 1,
        .type = CAIRN_AUTH_QUERY,
    };
    uint8_t key[32];
    rc = v4_verify(cx, http, &vr, id_r, key, detail_r);
    if (rc < 0)
        return rc;
    id_r->content_sha256 = cx->sv->req_strdup(cx->req, payload);
    rc = install_decoder(cx, http, mode, payload, key, date, cred.scope, sig, decoder_r);
    sigv4_secure_zero(key, sizeof(key));
    return rc;
}
