/*
 * sc-util.h -- small helpers shared by the storage backends: hex and base64,
 * random identifiers, XXH64 checksums, big-endian integers.
 */
#ifndef CAIRN_SC_UTIL_H
#define CAIRN_SC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cairn/plugin.h>

/* Writes 2*len lower-case hex digits plus NUL to `out`. */
void sc_hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes exactly `len` bytes from 2*len hex digits; 0, or -1 on a bad digit. */
int sc_hex_decode(const char *hex, uint8_t *out, size_t len);

/* Base64 (RFC 4648, padded).  sc_b64_encode returns a malloc'd string or NULL.
 * sc_b64_decode returns 0 and a malloc'd buffer, or -1 on bad input. */
char *sc_b64_encode(const uint8_t *in, size_t len);
int sc_b64_decode(const char *in, uint8_t **out_r, size_t *len_r);

/* Fills `out` (33 bytes) with a 32-hex-digit id.  Time-ordered: the first 12
 * digits are the wall clock in ms, the next 4 a sequence within that ms, and
 * ids made by one process strictly increase; the last 16 digits are random. */
void sc_new_id(char out[33]);

/* XXH64 with seed 0 of `len` bytes. */
uint64_t sc_xxh64(const void *data, size_t len);

static inline void sc_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}
static inline uint64_t sc_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Milliseconds since the Unix epoch. */
int64_t sc_now_ms(void);

/* Reads the request body until `want` bytes or its end (*eof_r set then):
 * the byte count, or the negative error body_read reported. */
ssize_t sc_body_fill(const struct cairn_services *sv, struct cairn_req *req, uint8_t *buf,
                     size_t want, int *eof_r);

#endif
