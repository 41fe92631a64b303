/*
 * fake-core.h -- the stand-in core the conformance suite hands a backend: a
 * services table, a configuration built from command-line arguments, and
 * requests whose bodies come from a deterministic generator and go into a
 * digest.
 */
#ifndef CAIRN_FAKE_CORE_H
#define CAIRN_FAKE_CORE_H

#include <stddef.h>
#include <stdint.h>

#include <cairn/plugin.h>

#include "request.h"

/* One setting; lists ("a,b,c") are also split into items. */
struct fake_setting {
    char *name;
    char *value;
    size_t n_items;
    char **items;
};

/* The suite's own definition of the opaque configuration type. */
struct cairn_config {
    size_t n;
    struct fake_setting *settings;
};

/* Adds (or replaces) `name` = `value`.  0 or CAIRN_E_NOMEM. */
int fake_config_set(struct cairn_config *cfg, const char *name, const char *value);

/* Frees every setting; the struct itself is the caller's. */
void fake_config_clear(struct cairn_config *cfg);

/* The services table: config through struct cairn_config above, memory from
 * the request's arena, OpenSSL hashes, bitwise CRCs, log lines to stderr. */
const struct cairn_services *fake_services(void);

/* The byte at `pos` of the deterministic stream `seed`. */
uint8_t fake_byte(uint32_t seed, uint64_t pos);

/* SHA-256 of bytes [offset, offset + length) of stream `seed`. */
void fake_stream_sha256(uint32_t seed, uint64_t offset, uint64_t length, uint8_t out[32]);

/*
 * A request body: `size` bytes of stream `seed`, handed out in uneven pieces.
 * When fail_after >= 0, body_read returns `fail_error` once that many bytes
 * were delivered (a body that failed a check, or a client that went away).
 * At the end (body_read returning 0) it fills `*final` as the core does: size,
 * MD5 ETag and an x-amz-checksum-crc32 attr.
 */
struct fake_body {
    uint32_t seed;
    uint64_t size;
    int64_t fail_after;
    int fail_error;
    /* state */
    uint64_t pos;
    unsigned calls;
    struct cairn_hash *md5;
    struct cairn_hash *crc;
    struct cairn_object_info final;
    struct cairn_kv final_attr;
    char crc_b64[16];
};

/*
 * A response body: counts and hashes what the backend writes; when
 * gone_after >= 0 it reports CAIRN_E_CLIENT_GONE once more than that many
 * bytes were offered.
 */
struct fake_sink {
    int64_t gone_after;
    uint64_t received;
    unsigned writes;
    struct cairn_hash *sha256;
    uint8_t digest[32];
};

/* A request: the core's struct plus the body and sink it streams through. */
struct fake_req {
    struct cairn_req req;
    struct fake_body *body;
    struct fake_sink *sink;
};

/* Makes a request with a fresh arena; body and sink may be NULL. NULL on ENOMEM. */
struct fake_req *fake_req_new(struct fake_body *body, struct fake_sink *sink);

/* Frees the request's arena (all request memory) and the request. */
void fake_req_free(struct fake_req *r);

/* Prepares a body of `size` bytes of stream `seed` (no failure). */
void fake_body_init(struct fake_body *b, uint32_t seed, uint64_t size);

/* Releases hash state a body still holds (a body the backend did not finish). */
void fake_body_release(struct fake_body *b);

/* Prepares a sink; gone_after < 0 for a client that stays. */
void fake_sink_init(struct fake_sink *s, int64_t gone_after);

/* Finishes the sink's digest into s->digest. */
void fake_sink_finish(struct fake_sink *s);

/* Writes the lower-case hex of `len` bytes into out (2 * len + 1 bytes). */
void fake_hex(const uint8_t *bytes, size_t len, char *out);

#endif
