/*
 * sigv4-chunked.h -- body decoders the auth-sigv4 plugin installs:
 *
 *  - a pass-through that checks the body against the hex SHA-256 the client
 *    signed in x-amz-content-sha256 (XAmzContentSHA256Mismatch at the end);
 *  - an aws-chunked decoder ("hex-size[;chunk-signature=sig]\r\n data \r\n" ...
 *    "0...\r\n" [trailer lines] "\r\n") that verifies chained chunk signatures
 *    as each chunk completes, reports trailing headers through
 *    services->req_set_trailer and verifies the trailer signature.
 *
 * Both accept input split at any byte boundary and keep only one chunk's hash
 * state, never the chunk itself.
 */
#ifndef SIGV4_CHUNKED_H
#define SIGV4_CHUNKED_H

#include <stdint.h>

#include <cairn/plugin.h>

enum sigv4_chunk_mode {
    SIGV4_CHUNKS_SIGNED = 0,          /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
    SIGV4_CHUNKS_UNSIGNED_TRAILER = 1, /* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
    SIGV4_CHUNKS_SIGNED_TRAILER = 2,   /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER */
};

/* The signing context the chunk signatures chain from. */
struct sigv4_chunk_signing {
    uint8_t key[32];       /* the request's signing key */
    const char *amz_date;  /* "YYYYMMDDTHHMMSSZ" */
    const char *scope;     /* "date/region/s3/aws4_request" (at most 127 bytes) */
    const char *seed_signature; /* the request's own signature (64 hex) */
};

/*
 * Creates an aws-chunked decoder (malloc'd; the core frees it with
 * ->destroy).  `signing` is needed for the signed modes and ignored for
 * SIGV4_CHUNKS_UNSIGNED_TRAILER (may be NULL then).  `decoded_length` is
 * x-amz-decoded-content-length or -1: when known, chunks beyond it are refused
 * and a shorter stream is an IncompleteBody.  NULL when out of memory or the
 * scope is too long.
 */
struct cairn_body_decoder *sigv4_chunked_decoder_new(const struct cairn_services *sv,
                                                     enum sigv4_chunk_mode mode,
                                                     const struct sigv4_chunk_signing *signing,
                                                     int64_t decoded_length);

/*
 * Creates a pass-through decoder that checks the body's SHA-256 against
 * `expected_hex` (64 hex digits, any case) at the end.  NULL when out of memory.
 */
struct cairn_body_decoder *sigv4_sha256_decoder_new(const struct cairn_services *sv,
                                                    const char *expected_hex,
                                                    int64_t decoded_length);

#endif
