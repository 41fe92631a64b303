/* test-checksum.c -- hashes, CRC check values, ISA-L vs table code, encodings. */
#include <stdlib.h>
#include <string.h>

#include "checksum.h"
#include "tap.h"

static const char *digest_hex(enum cairn_hash_algo algo, const void *data, size_t len)
{
    static char hex[2 * CHECKSUM_MAX_DIGEST + 1];
    uint8_t out[CHECKSUM_MAX_DIGEST];
    struct cairn_hash *h = checksum_new(algo);
    checksum_update(h, data, len);
    size_t n = checksum_final(h, out);
    checksum_hex_encode(out, n, hex);
    return hex;
}

static void test_vectors(void)
{
    const char *abc = "abc", *check = "123456789";
    is_str(digest_hex(CAIRN_HASH_MD5, "", 0), "d41d8cd98f00b204e9800998ecf8427e", "md5 empty");
    is_str(digest_hex(CAIRN_HASH_MD5, abc, 3), "900150983cd24fb0d6963f7d28e17f72", "md5 abc");
    is_str(digest_hex(CAIRN_HASH_SHA1, abc, 3), "a9993e364706816aba3e25717850c26c9cd0d89d",
           "sha1 abc");
    is_str(digest_hex(CAIRN_HASH_SHA256, abc, 3),
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 abc");
    is_str(digest_hex(CAIRN_HASH_SHA256, "", 0),
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256 empty");
    is_str(digest_hex(CAIRN_HASH_CRC32, check, 9), "cbf43926", "crc32 check value");
    is_str(digest_hex(CAIRN_HASH_CRC32C, check, 9), "e3069283", "crc32c check value");
    is_str(digest_hex(CAIRN_HASH_CRC64NVME, check, 9), "ae8b14860a799888",
           "crc64nvme check value");
    is_str(digest_hex(CAIRN_HASH_XXH64, "", 0), "ef46db3751d8e999", "xxh64 empty");
    is_str(digest_hex(CAIRN_HASH_CRC32, "", 0), "00000000", "crc32 empty");
    is_int(checksum_crc32(0, check, 9), 0xCBF43926u, "one-shot crc32");
    is_int(checksum_crc32c(0, check, 9), 0xE3069283u, "one-shot crc32c");
    ok(checksum_crc64nvme(0, check, 9) == 0xAE8B14860A799888ull, "one-shot crc64nvme");
    ok(checksum_new((enum cairn_hash_algo)99) == NULL, "unknown algorithm refused");
    is_int(checksum_final(NULL, NULL), 0, "final of NULL is 0");

    /* S3's documented empty-body crc32 in base64 is AAAAAA== */
    uint8_t out[CHECKSUM_MAX_DIGEST];
    char b64[CHECKSUM_BASE64_LEN(CHECKSUM_MAX_DIGEST)];
    struct cairn_hash *h = checksum_new(CAIRN_HASH_CRC32);
    size_t n = checksum_final(h, out);
    checksum_base64_encode(out, n, b64, sizeof(b64));
    is_str(b64, "AAAAAA==", "crc32 of empty body in base64");
}

/* Split updates must give the same digest as one update. */
static void test_split(unsigned seed)
{
    static const enum cairn_hash_algo algos[] = {CAIRN_HASH_MD5, CAIRN_HASH_SHA1,
                                                 CAIRN_HASH_SHA256, CAIRN_HASH_CRC32,
                                                 CAIRN_HASH_CRC32C, CAIRN_HASH_CRC64NVME,
                                                 CAIRN_HASH_XXH64};
    srand(seed);
    size_t len = 100000 + (size_t)(rand() % 50000);
    uint8_t *buf = malloc(len);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rand();
    for (size_t a = 0; a < sizeof(algos) / sizeof(algos[0]); a++) {
        uint8_t whole[CHECKSUM_MAX_DIGEST], split[CHECKSUM_MAX_DIGEST];
        struct cairn_hash *h = checksum_new(algos[a]);
        checksum_update(h, buf, len);
        size_t n1 = checksum_final(h, whole);
        h = checksum_new(algos[a]);
        for (size_t off = 0; off < len;) {
            size_t step = (size_t)(rand() % 9000);
            if (step > len - off)
                step = len - off;
            checksum_update(h, buf + off, step);
            off += step;
        }
        size_t n2 = checksum_final(h, split);
        ok(n1 == n2 && memcmp(whole, split, n1) == 0, "algo %d: split updates agree", (int)algos[a]);
    }
    free(buf);
}

/* ISA-L and the table code must agree on random buffers and split updates. */
static void test_isal_vs_tables(void)
{
    if (!checksum_isal_available()) {
        ok(1, "# SKIP libisal.so.2 not available");
        return;
    }
    ok(checksum_use_isal(1), "ISA-L in use");
    int mismatches = 0;
    srand(7);
    for (int iter = 0; iter < 200; iter++) {
        size_t len = (size_t)(rand() % 70000);
        size_t off = (size_t)(rand() % 16); /* unaligned starts too */
        uint8_t *buf = malloc(len + 16);
        for (size_t i = 0; i < len + 16; i++)
            buf[i] = (uint8_t)rand();
        size_t cut = len ? (size_t)rand() % len : 0;
        uint32_t seed32 = iter % 3 ? (uint32_t)rand() : 0;

        checksum_use_isal(1);
        uint32_t a1 = checksum_crc32(checksum_crc32(seed32, buf + off, cut), buf + off + cut,
                                     len - cut);
        uint32_t c1 = checksum_crc32c(checksum_crc32c(seed32, buf + off, cut), buf + off + cut,
                                      len - cut);
        checksum_use_isal(0);
        uint32_t a2 = checksum_crc32(seed32, buf + off, len);
        uint32_t c2 = checksum_crc32c(seed32, buf + off, len);
        if (a1 != a2 || c1 != c2)
            mismatches++;
        free(buf);
    }
    is_int(mismatches, 0, "ISA-L and slice-by-8 agree on 200 random buffers");
    checksum_use_isal(0);
    is_int(checksum_crc32(0, "123456789", 9), 0xCBF43926u, "fallback crc32 check value");
    is_int(checksum_crc32c(0, "123456789", 9), 0xE3069283u, "fallback crc32c check value");
    checksum_use_isal(1);
    is_int(checksum_crc32(0, "123456789", 9), 0xCBF43926u, "isal crc32 check value");
    is_int(checksum_crc32c(0, "123456789", 9), 0xE3069283u, "isal crc32c check value");
}

static void test_hmac(void)
{
    /* RFC 4231 test case 2 */
    uint8_t mac[32];
    char hex[65];
    checksum_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
    checksum_hex_encode(mac, 32, hex);
    is_str(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
           "hmac-sha256 RFC 4231 case 2");
}

static void test_encodings(void)
{
    char out[64];
    uint8_t bin[64];
    static const struct {
        const char *plain, *b64;
    } v[] = {{"", ""},         {"f", "Zg=="},       {"fo", "Zm8="},        {"foo", "Zm9v"},
             {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        int n = checksum_base64_encode(v[i].plain, strlen(v[i].plain), out, sizeof(out));
        is_str(out, v[i].b64, "base64 encode \"%s\"", v[i].plain);
        is_int(n, (int)strlen(v[i].b64), "base64 length \"%s\"", v[i].plain);
        ssize_t d = checksum_base64_decode(v[i].b64, strlen(v[i].b64), bin, sizeof(bin));
        ok(d == (ssize_t)strlen(v[i].plain) && memcmp(bin, v[i].plain, (size_t)d) == 0,
           "base64 decode \"%s\"", v[i].b64);
    }
    is_int(checksum_base64_encode("foo", 3, out, 4), CAIRN_E_INVALID_ARGUMENT,
           "encode refuses a small buffer");
    static const char *bad[] = {"Zg=", "Z===", "Zg==Zg==", "Zm9v!A==", "=Zm9", "Zg=a"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        is_int(checksum_base64_decode(bad[i], strlen(bad[i]), bin, sizeof(bin)),
               CAIRN_E_INVALID_ARGUMENT, "base64 decode refuses \"%s\"", bad[i]);
    is_int(checksum_base64_decode("Zm9vYmFy", 8, bin, 5), CAIRN_E_INVALID_ARGUMENT,
           "decode refuses a small buffer");
    /* Random text: decode never writes past its buffer (ASan checks). */
    srand(3);
    int weird = 0;
    for (int i = 0; i < 20000; i++) {
        static const char alphabet[] = "AZaz09+/=-_ ";
        char text[24];
        uint8_t small[12];
        size_t len = (size_t)(rand() % 24);
        for (size_t k = 0; k < len; k++)
            text[k] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
        ssize_t d = checksum_base64_decode(text, len, small, sizeof(small));
        if (d != CAIRN_E_INVALID_ARGUMENT && (d < 0 || (size_t)d > sizeof(small)))
            weird++;
    }
    is_int(weird, 0, "20000 random base64 inputs decoded or refused");
    checksum_hex_encode("\x01\xab\xff", 3, out);
    is_str(out, "01abff", "hex encode");
    is_int(checksum_hex_decode("01ABff", 6, bin, sizeof(bin)), 3, "hex decode");
    ok(bin[0] == 1 && bin[1] == 0xab && bin[2] == 0xff, "hex decode bytes");
    is_int(checksum_hex_decode("abc", 3, bin, sizeof(bin)), CAIRN_E_INVALID_ARGUMENT,
           "hex decode refuses odd length");
    is_int(checksum_hex_decode("zz", 2, bin, sizeof(bin)), CAIRN_E_INVALID_ARGUMENT,
           "hex decode refuses a bad digit");
}

int main(void)
{
    test_vectors();
    test_split(1);
    test_split(2);
    test_isal_vs_tables();
    test_hmac();
    test_encodings();
    return tap_done();
}
