/*
 * sc-util.c -- hex, base64, ids and checksums for the storage backends.
 */
#include "sc-util.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <xxhash.h>

void sc_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sc_hex_decode(const char *hex, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int hi = hexval(hex[2 * i]);
        if (hi < 0)
            return -1;
        int lo = hexval(hex[2 * i + 1]);
        if (lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *sc_b64_encode(const uint8_t *in, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

/* Arithmetic rather than a strchr in b64[]: it runs for every byte of every
 * inline object's metadata on every GET. */
static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int sc_b64_decode(const char *in, uint8_t **out_r, size_t *len_r)
{
    size_t n = strlen(in);
    if (n % 4)
        return -1;
    uint8_t *out = malloc(n / 4 * 3 + 1);
    if (!out)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int j = 0; j < 4; j++) {
            if (in[i + j] == '=' && i + 4 == n && j >= 2) {
                v[j] = 0;
                pad++;
            } else if (pad || (v[j] = b64val(in[i + j])) < 0) {
                free(out);
                return -1;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[o++] = (uint8_t)(w >> 16);
        if (pad < 2)
            out[o++] = (uint8_t)(w >> 8);
        if (pad < 1)
            out[o++] = (uint8_t)w;
    }
    *out_r = out;
    *len_r = o;
    return 0;
}

int64_t sc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Random bytes for ids, taken from the kernel 25 ids at a time: a 4 KiB PUT
 * makes five ids (a temporary name per drive's metadata write and the
 * upload's), and each getrandom is a system call.  Per thread, so no lock;
 * a forked child starts with an empty pool so it never repeats its parent. */
#define ID_POOL 250
static __thread uint8_t id_pool[ID_POOL];
static __thread size_t id_pool_left;
static pthread_once_t id_atfork_once = PTHREAD_ONCE_INIT;

static void id_pool_drop(void)
{
    id_pool_left = 0;
}

static void id_atfork(void)
{
    pthread_atfork(NULL, NULL, id_pool_drop);
}

static int id_random(uint8_t *out, size_t n)
{
    pthread_once(&id_atfork_once, id_atfork);
    if (id_pool_left < n) {
        if (getrandom(id_pool, ID_POOL, 0) != ID_POOL)
            return -1;
        id_pool_left = ID_POOL;
    }
    memcpy(out, id_pool + ID_POOL - id_pool_left, n);
    id_pool_left -= n;
    return 0;
}

/* The first 8 bytes of an id: milliseconds since the epoch (48 bits) and a
 * sequence within the millisecond (16 bits), strictly increasing within the
 * process, so versions written in the same millisecond still sort in the
 * order they were made (version lists order equal times by id). */
static uint64_t id_clock(void)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static uint64_t last;
    uint64_t now = (uint64_t)sc_now_ms() << 16;
    pthread_mutex_lock(&mu);
    if (now <= last)
        now = last + 1;
    last = now;
    pthread_mutex_unlock(&mu);
    return now;
}

void sc_new_id(char out[33])
{
    uint8_t raw[16];
    uint64_t t = id_clock();
    for (int i = 7; i >= 0; i--) {
        raw[i] = (uint8_t)t;
        t >>= 8;
    }
    if (id_random(raw + 8, 8)) {
        /* Never expected; fall back to a weaker but unique-enough source. */
        static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        static uint64_t counter;
        pthread_mutex_lock(&mu);
        uint64_t c = ++counter ^ (uint64_t)clock();
        pthread_mutex_unlock(&mu);
        memcpy(raw + 8, &c, 8);
    }
    sc_hex_encode(raw, 16, out);
}

uint64_t sc_xxh64(const void *data, size_t len)
{
    return XXH64(data, len, 0);
}

ssize_t sc_body_fill(const struct cairn_services *sv, struct cairn_req *req, uint8_t *buf,
                     size_t want, int *eof_r)
{
    size_t got = 0;
    while (got < want) {
        ssize_t r = sv->body_read(req, buf + got, want - got);
        if (r < 0)
            return r;
        if (r == 0) {
            *eof_r = 1;
            break;
        }
        got += (size_t)r;
    }
    return (ssize_t)got;
}
