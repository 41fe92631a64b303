/*
 * s3-router.h -- the pure parts of the S3 layer, kept free of I/O so that unit
 * tests can call them: target parsing (path- and virtual-host style), query
 * parsing, routing to an operation, bucket-name rules (s3-router.c), and the
 * Range and conditional-request rules of GetObject (s3-object.c).
 */
#ifndef CAIRN_S3_ROUTER_H
#define CAIRN_S3_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "s3-internal.h"

/* The S3 name of an operation ("GET_OBJECT" -> "GetObject" style is not kept:
 * the enum's own name, e.g. "GET_OBJECT") and its main IAM action. */
const char *s3_op_name(enum s3_op op);
const char *s3_op_action(enum s3_op op);

/*
 * Percent-decodes `len` bytes of `s` into a request-lifetime string.
 * `plus_is_space`: '+' decodes to ' ' (query strings); in paths '+' stays '+'.
 * Returns 0, or CAIRN_E_INVALID_URI for a bad escape or an encoded NUL byte.
 */
int s3_percent_decode(struct arena *a, const char *s, size_t len, int plus_is_space,
                      char **out_r);

/*
 * Splits the request target into bucket and key.  Path style: "/" -> ("", ""),
 * "/b" and "/b/" -> ("b", ""), "/b/k/x" -> ("b", "k/x").  When `domain` is set
 * and `host` (port stripped, any case) is "<bucket>.<domain>", the bucket comes
 * from the host and the whole path is the key.  The key is percent-decoded;
 * the bucket is decoded too.  Returns 0 or CAIRN_E_INVALID_URI.
 */
int s3_parse_target(struct arena *a, const char *raw_path, const char *host, const char *domain,
                    char **bucket_r, char **key_r);

/* Parses the raw query into params decoded and sorted by name (stable).
 * Returns 0 or CAIRN_E_INVALID_URI / CAIRN_E_NOMEM. */
int s3_parse_query(struct arena *a, const char *raw_query, struct s3_param **params_r,
                   size_t *n_r);

/* Looks `name` up in sorted params: its value, or NULL. */
const char *s3_params_get(const struct s3_param *params, size_t n, const char *name);

/*
 * Routes method + bucket/key shape + query subresources (+ whether the request
 * carries x-amz-copy-source) to an operation; S3_OP_UNKNOWN when cairn does
 * not implement the combination.  `*subresource_r` (may be NULL) receives the
 * config subresource name for S3_OP_GET_BUCKET_OTHER_CONFIG ("website", ...).
 */
enum s3_op s3_route(const char *method, const char *bucket, const char *key,
                    const struct s3_param *params, size_t n_params, int has_copy_source,
                    const char **subresource_r);

/* Bucket-name rules: 3-63 characters of [a-z0-9.-], starting and ending with a
 * letter or digit, no "..", not shaped like an IPv4 address.  1 when valid. */
int s3_bucket_name_valid(const char *name);

/* True for the unauthenticated health paths (/minio/health/live, ready, cluster). */
int s3_is_health_path(const char *raw_path);

/* ---- GetObject rules (s3-object.c) ---------------------------------------- */

/*
 * Parses a Range header against an object of `size` bytes.  Returns 0 with
 * [*offset_r, *offset_r + *length_r) for a satisfiable single range; 1 when
 * there is no range to apply (absent, malformed or multi-range: S3 then sends
 * the whole object); CAIRN_E_INVALID_RANGE when it cannot be satisfied.
 */
int s3_parse_range(const char *header, uint64_t size, uint64_t *offset_r, uint64_t *length_r);

/* Parses an HTTP date (RFC 1123, RFC 850 or asctime) into ms since the epoch;
 * -1 when malformed. */
int64_t s3_parse_http_date(const char *s);

/*
 * S3's conditional-request rules for GET/HEAD, given the object's ETag
 * (unquoted) and mtime.  Any argument may be NULL (header absent).
 * Returns 0 (serve), CAIRN_E_PRECONDITION_FAILED (412) or CAIRN_E_NOT_MODIFIED (304):
 *   If-Match false -> 412; else If-Unmodified-Since false (only checked when
 *   If-Match is absent) -> 412; If-None-Match matches -> 304; else
 *   If-Modified-Since not modified (only checked when If-None-Match is absent) -> 304.
 */
int s3_check_conditions(const char *if_match, const char *if_none_match,
                        const char *if_modified_since, const char *if_unmodified_since,
                        const char *etag, int64_t mtime_ms);

/* 1 when the If-Match / If-None-Match list `header` matches `etag` ("*" matches
 * anything; quotes and W/ prefixes are ignored). */
int s3_etag_matches(const char *header, const char *etag);

#endif
