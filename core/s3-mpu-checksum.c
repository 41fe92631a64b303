/* s3-mpu-checksum.c -- multipart ETags, COMPOSITE and FULL_OBJECT checksums. */
#include <stdio.h>
#include <string.h>

#include "checksum.h"
#include "s3-mpu-checksum.h"

int s3_multipart_etag(const char *const *part_etags, size_t n, char out[80])
{
    if (n == 0)
        return CAIRN_E_INVALID_ARGUMENT;
    struct cairn_hash *h = checksum_new(CAIRN_HASH_MD5);
    if (!h)
        return CAIRN_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        uint8_t md5[16];
        if (strlen(part_etags[i]) != 32 ||
            checksum_hex_decode(part_etags[i], 32, md5, sizeof(md5)) != 16) {
            checksum_free(h);
            return CAIRN_E_INVALID_PART;
        }
        checksum_update(h, md5, sizeof(md5));
    }
    uint8_t digest[CHECKSUM_MAX_DIGEST];
    checksum_final(h, digest);
    char hex[33];
    checksum_hex_encode(digest, 16, hex);
    snprintf(out, 80, "%s-%zu", hex, n);
    return 0;
}

/* Decodes one part checksum, which must have exactly the algorithm's length. */
static int decode_part(const char *b64, size_t want, uint8_t *out)
{
    if (!b64)
        return CAIRN_E_INVALID_ARGUMENT;
    ssize_t got = checksum_base64_decode(b64, strlen(b64), out, CHECKSUM_MAX_DIGEST);
    return got == (ssize_t)want ? 0 : CAIRN_E_INVALID_ARGUMENT;
}

int s3_composite_checksum(enum cairn_hash_algo algo, const char *const *part_b64, size_t n,
                          char *out, size_t cap)
{
    size_t dlen = checksum_digest_len(algo);
    if (n == 0 || dlen == 0 || algo == CAIRN_HASH_MD5 || algo == CAIRN_HASH_XXH64)
        return CAIRN_E_INVALID_ARGUMENT;
    struct cairn_hash *h = checksum_new(algo);
    if (!h)
        return CAIRN_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        uint8_t d[CHECKSUM_MAX_DIGEST];
        if (decode_part(part_b64[i], dlen, d) < 0) {
            checksum_free(h);
            return CAIRN_E_INVALID_ARGUMENT;
        }
        checksum_update(h, d, dlen);
    }
    uint8_t digest[CHECKSUM_MAX_DIGEST];
    checksum_final(h, digest);
    char b64[CHECKSUM_BASE64_LEN(CHECKSUM_MAX_DIGEST)];
    if (checksum_base64_encode(digest, dlen, b64, sizeof(b64)) < 0)
        return CAIRN_E_INVALID_ARGUMENT;
    int w = snprintf(out, cap, "%s-%zu", b64, n);
    return w < 0 || (size_t)w >= cap ? CAIRN_E_INVALID_ARGUMENT : 0;
}

/*
 * Polynomial arithmetic modulo the CRC polynomial, in the reflected bit order
 * the CRCs use (x^0 is the top bit), as zlib's crc32_combine does it.
 */
static uint64_t gf2_multmod(uint64_t a, uint64_t b, uint64_t poly, int width)
{
    uint64_t m = (uint64_t)1 << (width - 1);
    uint64_t p = 0;
    while (m) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0)
                break;
        }
        m >>= 1;
        b = (b & 1) ? (b >> 1) ^ poly : b >> 1;
    }
    return p;
}

/* x^(8 * len) modulo the polynomial. */
static uint64_t gf2_x8n(uint64_t len, uint64_t poly, int width)
{
    uint64_t one = (uint64_t)1 << (width - 1);
    uint64_t p = one;
    uint64_t sq = one >> 8; /* x^8 */
    while (len) {
        if (len & 1)
            p = gf2_multmod(sq, p, poly, width);
        len >>= 1;
        sq = gf2_multmod(sq, sq, poly, width);
    }
    return p;
}

uint64_t s3_crc_combine(uint64_t crc_a, uint64_t crc_b, uint64_t len_b, uint64_t poly, int width)
{
    return gf2_multmod(gf2_x8n(len_b, poly, width), crc_a, poly, width) ^ crc_b;
}

int s3_full_object_crc(enum cairn_hash_algo algo, const char *const *part_b64,
                       const uint64_t *sizes, size_t n, char *out, size_t cap)
{
    uint64_t poly;
    int width;
    switch (algo) {
    case CAIRN_HASH_CRC32:
        poly = 0xEDB88320u, width = 32;
        break;
    case CAIRN_HASH_CRC32C:
        poly = 0x82F63B78u, width = 32;
        break;
    case CAIRN_HASH_CRC64NVME:
        poly = 0x9A6C9329AC4BC9B5ull, width = 64;
        break;
    default:
        return CAIRN_E_INVALID_ARGUMENT;
    }
    if (n == 0)
        return CAIRN_E_INVALID_ARGUMENT;
    size_t dlen = (size_t)width / 8;
    uint64_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t d[CHECKSUM_MAX_DIGEST];
        if (decode_part(part_b64[i], dlen, d) < 0)
            return CAIRN_E_INVALID_ARGUMENT;
        uint64_t v = 0;
        for (size_t j = 0; j < dlen; j++)
            v = v << 8 | d[j];
        crc = i == 0 ? v : s3_crc_combine(crc, v, sizes[i], poly, width);
    }
    uint8_t be[8];
    for (size_t j = 0; j < dlen; j++)
        be[j] = (uint8_t)(crc >> (8 * (dlen - 1 - j)));
    if (cap < CHECKSUM_BASE64_LEN(8) || checksum_base64_encode(be, dlen, out, cap) < 0)
        return CAIRN_E_INVALID_ARGUMENT;
    return 0;
}
