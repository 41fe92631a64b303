/* checksum.c -- hashes, CRCs (ISA-L at run time or slice-by-8) and encodings. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <xxhash.h>

#include "checksum.h"

/* ---- CRC tables ---------------------------------------------------------- */

#define CRC32_POLY_REFL 0xEDB88320u          /* IEEE 802.3, reflected */
#define CRC32C_POLY_REFL 0x82F63B78u         /* Castagnoli, reflected */
#define CRC64NVME_POLY_REFL 0x9A6C9329AC4BC9B5ull /* 0xad93d23594c93659 reflected */

static uint32_t crc32_table[8][256];
static uint32_t crc32c_table[8][256];
static uint64_t crc64_table[8][256];

/* ISA-L entry points, resolved from libisal.so.2 when present. */
typedef uint32_t (*isal_crc32_gzip_fn)(uint32_t init, const unsigned char *buf, uint64_t len);
typedef unsigned int (*isal_crc32_iscsi_fn)(unsigned char *buf, int len, unsigned int init);
static isal_crc32_gzip_fn isal_gzip;
static isal_crc32_iscsi_fn isal_iscsi;
static void *isal_handle;
static int isal_enabled;

static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc32_make_table(uint32_t t[8][256], uint32_t poly)
{
    for (unsigned i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        t[0][i] = c;
    }
    for (unsigned i = 0; i < 256; i++)
        for (int j = 1; j < 8; j++)
            t[j][i] = (t[j - 1][i] >> 8) ^ t[0][t[j - 1][i] & 0xff];
}

static void crc64_make_table(uint64_t t[8][256], uint64_t poly)
{
    for (unsigned i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        t[0][i] = c;
    }
    for (unsigned i = 0; i < 256; i++)
        for (int j = 1; j < 8; j++)
            t[j][i] = (t[j - 1][i] >> 8) ^ t[0][t[j - 1][i] & 0xff];
}

static void crc_init(void)
{
    crc32_make_table(crc32_table, CRC32_POLY_REFL);
    crc32_make_table(crc32c_table, CRC32C_POLY_REFL);
    crc64_make_table(crc64_table, CRC64NVME_POLY_REFL);

    const char *no = getenv("CAIRN_NO_ISAL");
    if (no && *no && strcmp(no, "0") != 0)
        return;
    /* Plain dlopen: the library is found through the system's search path.
     * It stays loaded for the life of the process. */
    isal_handle = dlopen("libisal.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!isal_handle)
        return;
    isal_gzip = (isal_crc32_gzip_fn)dlsym(isal_handle, "crc32_gzip_refl");
    isal_iscsi = (isal_crc32_iscsi_fn)dlsym(isal_handle, "crc32_iscsi");
    if (!isal_gzip || !isal_iscsi) {
        isal_gzip = NULL;
        isal_iscsi = NULL;
        return;
    }
    isal_enabled = 1;
}

static inline uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t load_le64(const uint8_t *p)
{
    return (uint64_t)load_le32(p) | (uint64_t)load_le32(p + 4) << 32;
}

/* Slice-by-8 over the raw (un-inverted) CRC register. */
static uint32_t crc32_slice8(const uint32_t t[8][256], uint32_t crc, const uint8_t *p, size_t n)
{
    while (n >= 8) {
        uint32_t lo = load_le32(p) ^ crc;
        uint32_t hi = load_le32(p + 4);
        crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^
              t[4][lo >> 24] ^ t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
              t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

static uint64_t crc64_slice8(const uint64_t t[8][256], uint64_t crc, const uint8_t *p, size_t n)
{
    while (n >= 8) {
        uint64_t v = load_le64(p) ^ crc;
        crc = t[7][v & 0xff] ^ t[6][(v >> 8) & 0xff] ^ t[5][(v >> 16) & 0xff] ^
              t[4][(v >> 24) & 0xff] ^ t[3][(v >> 32) & 0xff] ^ t[2][(v >> 40) & 0xff] ^
              t[1][(v >> 48) & 0xff] ^ t[0][v >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

uint32_t checksum_crc32(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&crc_once, crc_init);
    if (len == 0)
        return crc;
    /* crc32_gzip_refl has zlib's convention: it inverts on entry and exit. */
    if (isal_enabled)
        return isal_gzip(crc, buf, len);
    return ~crc32_slice8(crc32_table, ~crc, buf, len);
}

uint32_t checksum_crc32c(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&crc_once, crc_init);
    if (len == 0)
        return crc;
    uint32_t raw = ~crc;
    if (isal_enabled) {
        /* crc32_iscsi works on the raw register and takes an int length. */
        const uint8_t *p = buf;
        while (len > 0) {
            int n = len > (1u << 30) ? (1 << 30) : (int)len;
            raw = isal_iscsi((unsigned char *)p, n, raw);
            p += n;
            len -= (size_t)n;
        }
        return ~raw;
    }
    return ~crc32_slice8(crc32c_table, raw, buf, len);
}

uint64_t checksum_crc64nvme(uint64_t crc, const void *buf, size_t len)
{
    pthread_once(&crc_once, crc_init);
    if (len == 0)
        return crc;
    return ~crc64_slice8(crc64_table, ~crc, buf, len);
}

int checksum_isal_available(void)
{
    pthread_once(&crc_once, crc_init);
    return isal_gzip != NULL;
}

int checksum_use_isal(int enable)
{
    pthread_once(&crc_once, crc_init);
    isal_enabled = enable && isal_gzip != NULL;
    return isal_enabled;
}

/* ---- incremental hashes -------------------------------------------------- */

struct cairn_hash {
    enum cairn_hash_algo algo;
    union {
        EVP_MD_CTX *md;
        uint32_t crc32; /* zlib convention (finished value) */
        uint64_t crc64;
        XXH64_state_t *xxh;
    } u;
};

size_t checksum_digest_len(enum cairn_hash_algo algo)
{
    switch (algo) {
    case CAIRN_HASH_MD5: return 16;
    case CAIRN_HASH_SHA1: return 20;
    case CAIRN_HASH_SHA256: return 32;
    case CAIRN_HASH_CRC32:
    case CAIRN_HASH_CRC32C: return 4;
    case CAIRN_HASH_CRC64NVME:
    case CAIRN_HASH_XXH64: return 8;
    }
    return 0;
}

/* The OpenSSL digests, fetched once: EVP_md5() and friends make every
 * EVP_DigestInit_ex look the implementation up again. */
static EVP_MD *md5_md, *sha1_md, *sha256_md;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_fetch(void)
{
    md5_md = EVP_MD_fetch(NULL, "MD5", NULL);
    sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The digest of algo (MD5, SHA1 or SHA256); the implicit one when a fetch failed. */
static const EVP_MD *fetched_md(enum cairn_hash_algo algo)
{
    pthread_once(&md_once, md_fetch);
    switch (algo) {
    case CAIRN_HASH_MD5: return md5_md ? md5_md : EVP_md5();
    case CAIRN_HASH_SHA1: return sha1_md ? sha1_md : EVP_sha1();
    default: return sha256_md ? sha256_md : EVP_sha256();
    }
}

struct cairn_hash *checksum_new(enum cairn_hash_algo algo)
{
    if (checksum_digest_len(algo) == 0)
        return NULL;
    struct cairn_hash *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->algo = algo;
    const EVP_MD *md = NULL;
    switch (algo) {
    case CAIRN_HASH_MD5:
    case CAIRN_HASH_SHA1:
    case CAIRN_HASH_SHA256: md = fetched_md(algo); break;
    case CAIRN_HASH_XXH64:
        h->u.xxh = XXH64_createState();
        if (!h->u.xxh || XXH64_reset(h->u.xxh, 0) != XXH_OK) {
            XXH64_freeState(h->u.xxh);
            free(h);
            return NULL;
        }
        return h;
    default: /* CRCs start at 0 */
        pthread_once(&crc_once, crc_init);
        return h;
    }
    h->u.md = EVP_MD_CTX_new();
    if (!h->u.md || EVP_DigestInit_ex(h->u.md, md, NULL) != 1) {
        EVP_MD_CTX_free(h->u.md);
        free(h);
        return NULL;
    }
    return h;
}

void checksum_update(struct cairn_hash *h, const void *data, size_t len)
{
    if (!h || len == 0)
        return;
    switch (h->algo) {
    case CAIRN_HASH_MD5:
    case CAIRN_HASH_SHA1:
    case CAIRN_HASH_SHA256: EVP_DigestUpdate(h->u.md, data, len); break;
    case CAIRN_HASH_CRC32: h->u.crc32 = checksum_crc32(h->u.crc32, data, len); break;
    case CAIRN_HASH_CRC32C: h->u.crc32 = checksum_crc32c(h->u.crc32, data, len); break;
    case CAIRN_HASH_CRC64NVME: h->u.crc64 = checksum_crc64nvme(h->u.crc64, data, len); break;
    case CAIRN_HASH_XXH64: XXH64_update(h->u.xxh, data, len); break;
    }
}

static void store_be(uint8_t *out, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

size_t checksum_final(struct cairn_hash *h, uint8_t *out)
{
    if (!h)
        return 0;
    size_t n = checksum_digest_len(h->algo);
    switch (h->algo) {
    case CAIRN_HASH_MD5:
    case CAIRN_HASH_SHA1:
    case CAIRN_HASH_SHA256: {
        unsigned int len = 0;
        EVP_DigestFinal_ex(h->u.md, out, &len);
        n = len;
        break;
    }
    case CAIRN_HASH_CRC32:
    case CAIRN_HASH_CRC32C: store_be(out, h->u.crc32, 4); break;
    case CAIRN_HASH_CRC64NVME: store_be(out, h->u.crc64, 8); break;
    case CAIRN_HASH_XXH64: store_be(out, XXH64_digest(h->u.xxh), 8); break;
    }
    checksum_free(h);
    return n;
}

void checksum_free(struct cairn_hash *h)
{
    if (!h)
        return;
    switch (h->algo) {
    case CAIRN_HASH_MD5:
    case CAIRN_HASH_SHA1:
    case CAIRN_HASH_SHA256: EVP_MD_CTX_free(h->u.md); break;
    case CAIRN_HASH_XXH64: XXH64_freeState(h->u.xxh); break;
    default: break;
    }
    free(h);
}

/* HMAC (RFC 2104) over SHA-256 (block size 64) with the digest fetched once:
 * OpenSSL 3's HMAC() fetches the MAC and its digest by name on every call
 * (~21k instructions; SigV4 makes five per request). */
void checksum_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                          uint8_t out[32])
{
    const EVP_MD *md = fetched_md(CAIRN_HASH_SHA256);
    uint8_t k[64], pad[64], inner[32];
    memset(k, 0, sizeof(k));
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c != NULL;
    if (ok && key_len > sizeof(k))
        ok = EVP_DigestInit_ex(c, md, NULL) == 1 && EVP_DigestUpdate(c, key, key_len) == 1 &&
             EVP_DigestFinal_ex(c, k, NULL) == 1;
    else if (key_len)
        memcpy(k, key, key_len);
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x36;
    ok = ok && EVP_DigestInit_ex(c, md, NULL) == 1 && EVP_DigestUpdate(c, pad, sizeof(pad)) == 1 &&
         EVP_DigestUpdate(c, data, len) == 1 && EVP_DigestFinal_ex(c, inner, NULL) == 1;
    for (size_t i = 0; i < sizeof(pad); i++)
        pad[i] = k[i] ^ 0x5c;
    ok = ok && EVP_DigestInit_ex(c, md, NULL) == 1 && EVP_DigestUpdate(c, pad, sizeof(pad)) == 1 &&
         EVP_DigestUpdate(c, inner, sizeof(inner)) == 1 && EVP_DigestFinal_ex(c, out, NULL) == 1;
    EVP_MD_CTX_free(c);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(inner, sizeof(inner));
    if (!ok)
        memset(out, 0, 32);
}

/* ---- encodings ----------------------------------------------------------- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int checksum_base64_encode(const void *in, size_t len, char *out, size_t out_cap)
{
    if (len > ((size_t)1 << 40) || out_cap < CHECKSUM_BASE64_LEN(len))
        return CAIRN_E_INVALID_ARGUMENT;
    const uint8_t *p = in;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return (int)o;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

ssize_t checksum_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap)
{
    if (in_len % 4 != 0)
        return CAIRN_E_INVALID_ARGUMENT;
    size_t o = 0;
    for (size_t i = 0; i < in_len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = in[i + k];
            if (c == '=' && i + 4 == in_len && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad) /* data after padding */
                return CAIRN_E_INVALID_ARGUMENT;
            v[k] = b64_value(c);
            if (v[k] < 0)
                return CAIRN_E_INVALID_ARGUMENT;
        }
        uint32_t bits = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                        (uint32_t)v[3];
        size_t n = 3 - (size_t)pad;
        if (o + n > out_cap)
            return CAIRN_E_INVALID_ARGUMENT;
        out[o++] = (uint8_t)(bits >> 16);
        if (n > 1)
            out[o++] = (uint8_t)(bits >> 8);
        if (n > 2)
            out[o++] = (uint8_t)bits;
    }
    return (ssize_t)o;
}

void checksum_hex_encode(const void *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *p = in;
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

ssize_t checksum_hex_decode(const char *in, size_t in_len, uint8_t *out, size_t out_cap)
{
    if (in_len % 2 != 0 || in_len / 2 > out_cap)
        return CAIRN_E_INVALID_ARGUMENT;
    for (size_t i = 0; i < in_len; i += 2) {
        int hi = hex_value(in[i]), lo = hex_value(in[i + 1]);
        if (hi < 0 || lo < 0)
            return CAIRN_E_INVALID_ARGUMENT;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (ssize_t)(in_len / 2);
}
