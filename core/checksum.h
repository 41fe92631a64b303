/*
 * checksum.h -- incremental hashes and checksums (services->hash_*), the CRCs
 * S3 uses for x-amz-checksum-*, and the encodings the S3 layer needs.
 *
 * MD5, SHA1 and SHA256 come from OpenSSL; XXH64 from libxxhash.  CRC32 and
 * CRC32C use ISA-L's SIMD code when libisal.so.2 can be loaded at run time
 * (the core never links ISA-L) and portable slice-by-8 tables otherwise;
 * CRC64NVME always uses slice-by-8 tables.  Every digest is written
 * big-endian, as S3 encodes it (base64 of these bytes).
 */
#ifndef CAIRN_CHECKSUM_H
#define CAIRN_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cairn/plugin.h>

/* The largest digest any algorithm produces. */
#define CHECKSUM_MAX_DIGEST 32

/* Bytes needed for the base64 text of `n` bytes, including the NUL. */
#define CHECKSUM_BASE64_LEN(n) (4 * (((n) + 2) / 3) + 1)

/* Returns a new hash of `algo`, or NULL for an unknown algorithm or no memory. */
struct cairn_hash *checksum_new(enum cairn_hash_algo algo);

/* Feeds `len` bytes.  `h` NULL is a no-op. */
void checksum_update(struct cairn_hash *h, const void *data, size_t len);

/* Writes the digest (big-endian) to `out` (at least CHECKSUM_MAX_DIGEST
 * bytes), frees `h` and returns the digest length (0 when `h` is NULL). */
size_t checksum_final(struct cairn_hash *h, uint8_t *out);

/* Frees a hash without finishing it; NULL is a no-op. */
void checksum_free(struct cairn_hash *h);

/* The digest length of `algo`, or 0 when unknown. */
size_t checksum_digest_len(enum cairn_hash_algo algo);

/*
 * One-shot CRCs with zlib's calling convention: start with 0 and pass the
 * previous result to continue (crc = checksum_crc32(crc, buf, len)).
 * checksum_crc32(0, "123456789", 9) == 0xCBF43926; CRC32C gives 0xE3069283;
 * CRC64NVME gives 0xAE8B14860A799888.
 */
uint32_t checksum_crc32(uint32_t crc, const void *buf, size_t len);
uint32_t checksum_crc32c(uint32_t crc, const void *buf, size_t len);
uint64_t checksum_crc64nvme(uint64_t crc, const void *buf, size_t len);

/*
 * Whether CRC32/CRC32C use ISA-L.  checksum_isal_available() tells whether
 * libisal.so.2 was found (CAIRN_NO_ISAL=1 in the environment hides it).
 * checksum_use_isal(0) forces the table code, checksum_use_isal(1) goes back
 * to ISA-L when it is available; returns whether ISA-L is now in use.  Meant
 * for tests and benchmarks; not to be called while other threads hash.
 */
int checksum_isal_available(void);
int checksum_use_isal(int enable);

/* One-shot HMAC-SHA256 (services->hmac_sha256). */
void checksum_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                          uint8_t out[32]);

/*
 * Standard base64 (RFC 4648, with padding).  Encode writes the text and its
 * NUL into `out` (CHECKSUM_BASE64_LEN(len) bytes) and returns the text length,
 * or CAIRN_E_INVALID_ARGUMENT when `out_cap` is too small.
 */
int checksum_base64_encode(const void *in, size_t len, char *out, size_t out_cap);

/* Decodes `in_len` characters of padded base64 into `out`.  Returns the
 * number of bytes, or CAIRN_E_INVALID_ARGUMENT for malformed text (bad
 * character, bad length or padding) or when `out_cap` is too small. */
ssize_t checksum_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap);

/* Lower-case hex of `len` bytes into `out` (2 * len + 1 bytes, NUL-terminated). */
void checksum_hex_encode(const void *in, size_t len, char *out);

/* Decodes exactly `in_len` hex digits (either case) into `out`.  Returns the
 * number of bytes, or CAIRN_E_INVALID_ARGUMENT (odd length, bad digit, too
 * small `out_cap`). */
ssize_t checksum_hex_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap);

#endif
