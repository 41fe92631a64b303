/*
 * sigv4-canon.h -- the pieces of an AWS Signature Version 4 computation:
 * Authorization header and credential parsing, the canonical request (URI,
 * query, headers), the string to sign, the signing key and the signature.
 *
 * Canonicalisation follows S3 (not the generic AWS services): the URI path is
 * not normalised; each segment is percent-decoded and re-encoded with the RFC
 * 3986 unreserved set (so "%2f" and "%2F" and a raw '$' all canonicalise the way
 * botocore, the JS SDK and minio-go sign them); query parameters are decoded,
 * re-encoded and sorted by name then value.
 */
#ifndef SIGV4_CANON_H
#define SIGV4_CANON_H

#include "sigv4-util.h"

/* Hex SHA-256 of the empty string. */
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* The scope part of a credential: AK/YYYYMMDD/region/service/aws4_request. */
struct sigv4_credential {
    const char *access_key;
    const char *date;    /* YYYYMMDD */
    const char *region;
    const char *service; /* "s3" */
    const char *scope;   /* "date/region/service/aws4_request" */
};

/* A parsed "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." value. */
struct sigv4_auth_header {
    struct sigv4_credential cred;
    const char *signed_headers; /* "host;range;x-amz-date" */
    const char *signature;      /* 64 lower-case hex digits */
};

/*
 * Parses a credential string ("AK/20130524/us-east-1/s3/aws4_request") into
 * request memory.  Checks the date's shape, service "s3" and the terminator.
 * Returns 0, -1 when malformed, or CAIRN_E_NOMEM.
 */
int sigv4_parse_credential(struct sigv4_ctx *cx, const char *s, struct sigv4_credential *cred_r);

/*
 * Checks a SignedHeaders list: non-empty, ';'-separated, lower-case names
 * without spaces, containing "host".  0 or -1.
 */
int sigv4_check_signed_headers(const char *list);

/*
 * Parses an Authorization header value that starts with "AWS4-HMAC-SHA256".
 * Components may come in any order, separated by ',' and optional spaces.
 * Returns 0, -1 when malformed (AuthorizationHeaderMalformed), or CAIRN_E_NOMEM.
 */
int sigv4_parse_auth_header(struct sigv4_ctx *cx, const char *value, struct sigv4_auth_header *a_r);

/* Appends the canonical URI of `raw_path` ("/" when empty). */
void sigv4_canonical_uri(struct sigv4_buf *b, const char *raw_path);

/* Appends the canonical query string of `params`, leaving out the parameter
 * named `exclude` (decoded name; NULL for none).  Returns 0 or CAIRN_E_NOMEM. */
int sigv4_canonical_query(struct sigv4_buf *b, const struct sigv4_param *params, int n,
                          const char *exclude);

/* Appends "name:value\n" for each name in `signed_headers`: every value of that
 * header in arrival order, trimmed and joined with ','.  "host" falls back to
 * http->host; an absent "expect" to "100-continue" (proxies drop it). */
void sigv4_canonical_headers(struct sigv4_buf *b, const struct cairn_http_request *http,
                             const char *signed_headers);

/* Hex SHA-256 of `len` bytes into out[65]. */
void sigv4_sha256_hex(const struct cairn_services *sv, const void *data, size_t len,
                      char out[65]);

/* The SigV4 signing key for (secret, date, region, service). */
void sigv4_signing_key(const struct cairn_services *sv, const char *secret, const char *date,
                       const char *region, const char *service, uint8_t key_r[32]);

/* Hex HMAC-SHA256 of `data` with `key` into out[65]. */
void sigv4_hmac_hex(const struct cairn_services *sv, const uint8_t key[32], const char *data,
                    size_t len, char out[65]);

/*
 * Builds the string to sign: "AWS4-HMAC-SHA256\n" amz_date "\n" scope "\n"
 * hex(sha256(canonical_request)).  Request memory; NULL when out of memory.
 */
char *sigv4_string_to_sign(struct sigv4_ctx *cx, const char *amz_date, const char *scope,
                           const char *canonical_request, size_t cr_len);

#endif
