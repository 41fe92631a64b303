/*
 * s3-mpu-checksum.h -- what a completed multipart upload's ETag and checksum
 * are made of (pure functions over the parts' digests).
 */
#ifndef CAIRN_S3_MPU_CHECKSUM_H
#define CAIRN_S3_MPU_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include <cairn/plugin.h>

/*
 * The multipart ETag: hex MD5 of the concatenated binary MD5s of the parts
 * (each given as 32 hex digits, unquoted), then "-N".  Writes it unquoted to
 * `out` (80 bytes).  Returns 0, or CAIRN_E_INVALID_PART when an ETag is not
 * 32 hex digits, CAIRN_E_INVALID_ARGUMENT when n is 0.
 */
int s3_multipart_etag(const char *const *part_etags, size_t n, char out[80]);

/*
 * The COMPOSITE checksum of an upload whose parts have base64 checksums
 * `part_b64[i]` of `algo`: base64(algo(concat(decoded part checksums))) + "-N".
 * Writes it to `out` (`cap` bytes, 64 is enough).  Returns 0, or
 * CAIRN_E_INVALID_ARGUMENT for an unknown algorithm, a malformed part checksum
 * or a too small `out`.
 */
int s3_composite_checksum(enum cairn_hash_algo algo, const char *const *part_b64, size_t n,
                          char *out, size_t cap);

/*
 * The FULL_OBJECT checksum for a CRC algorithm (CRC32, CRC32C, CRC64NVME): the
 * CRC of the whole object, combined from each part's CRC (`part_b64[i]`) and
 * length (`sizes[i]`) without reading any data.  Writes base64 (no "-N") to
 * `out`.  Returns 0 or CAIRN_E_INVALID_ARGUMENT (not a CRC, malformed input,
 * small `out`).
 */
int s3_full_object_crc(enum cairn_hash_algo algo, const char *const *part_b64,
                       const uint64_t *sizes, size_t n, char *out, size_t cap);

/*
 * crc(A || B) from crc(A), crc(B) and len(B), for the reflected CRCs S3 uses
 * (init and final xor all ones).  `width` is 32 or 64, `poly` the reflected
 * polynomial (CRC32 0xEDB88320, CRC32C 0x82F63B78, CRC64NVME 0x9A6C9329AC4BC9B5).
 */
uint64_t s3_crc_combine(uint64_t crc_a, uint64_t crc_b, uint64_t len_b, uint64_t poly, int width);

#endif
