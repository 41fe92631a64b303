/* test-s3b-mpu-checksum.c -- multipart ETag, COMPOSITE and FULL_OBJECT checksums. */
#include <stdio.h>
#include <string.h>

#include "checksum.h"
#include "s3-mpu-checksum.h"
#include "tap.h"

/* Independent bitwise reference CRCs (reflected, init/xorout all ones). */
static uint64_t ref_crc(uint64_t poly, int width, const void *buf, size_t len)
{
    uint64_t mask = width == 64 ? ~0ull : ((1ull << width) - 1);
    uint64_t crc = mask;
    const unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ poly : crc >> 1;
    }
    return crc ^ mask;
}

static void b64_of(uint64_t v, int width, char *out)
{
    uint8_t be[8];
    int n = width / 8;
    for (int j = 0; j < n; j++)
        be[j] = (uint8_t)(v >> (8 * (n - 1 - j)));
    checksum_base64_encode(be, (size_t)n, out, 16);
}

static void test_etag(void)
{
    const char *etags[] = {"5d41402abc4b2a76b9719d911017c592", /* md5("hello") */
                           "7d793037a0760186574b0282f2f435e7"}; /* md5("world") */
    char out[80];
    is_int(s3_multipart_etag(etags, 2, out), 0, "multipart etag computes");
    is_str(out, "065947336a2f2a95ba8899f3675c3be6-2", "multipart etag known value");
    is_int(s3_multipart_etag(etags, 1, out), 0, "one-part etag computes");
    ok(strlen(out) == 34 && strcmp(out + 32, "-1") == 0, "one-part etag ends in -1");
    const char *upper[] = {"5D41402ABC4B2A76B9719D911017C592", "7d793037a0760186574b0282f2f435e7"};
    is_int(s3_multipart_etag(upper, 2, out), 0, "upper-case hex accepted");
    is_str(out, "065947336a2f2a95ba8899f3675c3be6-2", "upper-case hex gives the same etag");
    const char *bad[] = {"5d41402abc4b2a76b9719d911017c59", "zz"};
    is_int(s3_multipart_etag(bad, 1, out), CAIRN_E_INVALID_PART, "short etag refused");
    is_int(s3_multipart_etag(bad + 1, 1, out), CAIRN_E_INVALID_PART, "non-hex etag refused");
    is_int(s3_multipart_etag(etags, 0, out), CAIRN_E_INVALID_ARGUMENT, "no parts refused");
}

static void test_composite(void)
{
    char out[64];
    const char *crc32[] = {"NhCmhg==", "OncRQw=="};
    is_int(s3_composite_checksum(CAIRN_HASH_CRC32, crc32, 2, out, sizeof(out)), 0,
           "composite crc32");
    is_str(out, "wpn7tg==-2", "composite crc32 known value");
    const char *sha256[] = {"LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=",
                            "SG6kYiTRu0+2gPNPfJrZao8k7Ii+c+qOWmxlJg6cuKc="};
    is_int(s3_composite_checksum(CAIRN_HASH_SHA256, sha256, 2, out, sizeof(out)), 0,
           "composite sha256");
    is_str(out, "cwXbmyq8zXBsJW2z2X5f9I1nfP5NOlkEr7faDjlQ4eI=-2", "composite sha256 known value");
    const char *sha1[] = {"qvTGHdzF6KLavt4PO0gs2a6pQ00=", "fCEUM/AgcVl3Qeb/Wo6jR4mrv0M="};
    is_int(s3_composite_checksum(CAIRN_HASH_SHA1, sha1, 2, out, sizeof(out)), 0, "composite sha1");
    is_str(out, "znoNxIh8EVQQ1eN2GwlMi+XdFy4=-2", "composite sha1 known value");

    is_int(s3_composite_checksum(CAIRN_HASH_SHA256, crc32, 2, out, sizeof(out)),
           CAIRN_E_INVALID_ARGUMENT, "part checksum of the wrong length refused");
    const char *junk[] = {"@@@@"};
    is_int(s3_composite_checksum(CAIRN_HASH_CRC32, junk, 1, out, sizeof(out)),
           CAIRN_E_INVALID_ARGUMENT, "malformed base64 refused");
    const char *missing[] = {NULL};
    is_int(s3_composite_checksum(CAIRN_HASH_CRC32, missing, 1, out, sizeof(out)),
           CAIRN_E_INVALID_ARGUMENT, "missing part checksum refused");
    is_int(s3_composite_checksum(CAIRN_HASH_MD5, crc32, 2, out, sizeof(out)),
           CAIRN_E_INVALID_ARGUMENT, "MD5 is not a checksum algorithm");
    is_int(s3_composite_checksum(CAIRN_HASH_CRC32, crc32, 2, out, 8), CAIRN_E_INVALID_ARGUMENT,
           "small output refused");
}

static void test_full_object(void)
{
    char out[64];
    const char *crc32[] = {"NhCmhg==", "OncRQw=="};
    const uint64_t sizes[] = {5, 5};
    is_int(s3_full_object_crc(CAIRN_HASH_CRC32, crc32, sizes, 2, out, sizeof(out)), 0,
           "full-object crc32");
    is_str(out, "+esgrQ==", "full-object crc32 equals crc32(\"helloworld\")");

    static const struct {
        enum cairn_hash_algo algo;
        uint64_t poly;
        int width;
        const char *name;
    } algos[] = {
        {CAIRN_HASH_CRC32, 0xEDB88320u, 32, "crc32"},
        {CAIRN_HASH_CRC32C, 0x82F63B78u, 32, "crc32c"},
        {CAIRN_HASH_CRC64NVME, 0x9A6C9329AC4BC9B5ull, 64, "crc64nvme"},
    };
    is_int(ref_crc(0xEDB88320u, 32, "123456789", 9), 0xCBF43926u, "reference crc32 check value");
    is_int(ref_crc(0x82F63B78u, 32, "123456789", 9), 0xE3069283u, "reference crc32c check value");
    ok(ref_crc(0x9A6C9329AC4BC9B5ull, 64, "123456789", 9) == 0xAE8B14860A799888ull,
       "reference crc64nvme check value");

    /* Split a buffer at uneven points (including empty and large parts) and
     * check the combination against the CRC of the whole. */
    static unsigned char data[300000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 2654435761u >> 13);
    const size_t cuts[] = {0, 1, 7, 7, 4096, 100000, 299999, sizeof(data)};
    const size_t n_parts = sizeof(cuts) / sizeof(cuts[0]) - 1;
    for (size_t a = 0; a < sizeof(algos) / sizeof(algos[0]); a++) {
        char b64[16][16];
        const char *parts[16];
        uint64_t psizes[16];
        for (size_t i = 0; i < n_parts; i++) {
            psizes[i] = cuts[i + 1] - cuts[i];
            b64_of(ref_crc(algos[a].poly, algos[a].width, data + cuts[i], psizes[i]),
                   algos[a].width, b64[i]);
            parts[i] = b64[i];
        }
        char want[16];
        b64_of(ref_crc(algos[a].poly, algos[a].width, data, sizeof(data)), algos[a].width, want);
        is_int(s3_full_object_crc(algos[a].algo, parts, psizes, n_parts, out, sizeof(out)), 0,
               "full-object %s over %zu parts", algos[a].name, n_parts);
        is_str(out, want, "full-object %s equals the CRC of the whole", algos[a].name);
    }

    is_int(s3_full_object_crc(CAIRN_HASH_SHA256, crc32, sizes, 2, out, sizeof(out)),
           CAIRN_E_INVALID_ARGUMENT, "full-object needs a CRC");
    is_int(s3_full_object_crc(CAIRN_HASH_CRC64NVME, crc32, sizes, 2, out, sizeof(out)),
           CAIRN_E_INVALID_ARGUMENT, "wrong-width part CRC refused");
}

int main(void)
{
    test_etag();
    test_composite();
    test_full_object();
    return tap_done();
}
