/*
 * blocksum-bench.c -- throughput of the candidate 8-byte bitrot sums for shard
 * blocks (sc-blockfile.h) on this machine: XXH64 (the format's original sum),
 * XXH3_64bits, and the ISA-L CRC-64 variants (run-time CPU dispatch).
 *
 * Each sum runs over 512 KiB blocks (a 1 MiB stripe split over k = 2, the
 * default layout) two ways: "hot" re-sums one block (it stays in L2, like a
 * block verified right after pread put it there), "cold" walks a 64 MiB ring
 * of blocks (memory bandwidth bound).  Prints the known-answer value of each
 * over "123456789" so the variant can be checked against the CRC catalogue.
 *
 * Usage: blocksum-bench [seconds-per-measurement] [block-bytes]
 */
#include <isa-l/crc64.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t s_xxh64(const uint8_t *p, size_t n) { return XXH64(p, n, 0); }
static uint64_t s_xxh3(const uint8_t *p, size_t n) { return XXH3_64bits(p, n); }
static uint64_t s_ecma(const uint8_t *p, size_t n) { return crc64_ecma_refl(0, p, n); }
static uint64_t s_iso(const uint8_t *p, size_t n) { return crc64_iso_refl(0, p, n); }
static uint64_t s_jones(const uint8_t *p, size_t n) { return crc64_jones_refl(0, p, n); }
static uint64_t s_ecma_norm(const uint8_t *p, size_t n) { return crc64_ecma_norm(0, p, n); }

static const struct {
    const char *name;
    uint64_t (*fn)(const uint8_t *, size_t);
} sums[] = {
    {"xxh64", s_xxh64},
    {"xxh3_64", s_xxh3},
    {"crc64_ecma_refl (CRC-64/XZ)", s_ecma},
    {"crc64_ecma_norm", s_ecma_norm},
    {"crc64_iso_refl (CRC-64/GO-ISO)", s_iso},
    {"crc64_jones_refl", s_jones},
};

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    size_t blk = argc > 2 ? (size_t)atol(argv[2]) : 512 * 1024;
    size_t ring = 64u << 20, nblk = ring / blk;
    uint8_t *buf = malloc(ring);
    if (!buf || !nblk)
        return 1;
    for (size_t i = 0; i < ring; i++)
        buf[i] = (uint8_t)(i * 2654435761u >> 13);
    printf("block %zu bytes, %.1f s per measurement\n", blk, secs);
    printf("%-32s %18s %10s %10s\n", "sum", "check(123456789)", "hot MB/s", "cold MB/s");
    volatile uint64_t sink = 0;
    for (size_t s = 0; s < sizeof(sums) / sizeof(sums[0]); s++) {
        double rate[2];
        for (int cold = 0; cold < 2; cold++) {
            size_t n = 0;
            double t0 = now(), t;
            do {
                for (int r = 0; r < 16; r++, n++)
                    sink ^= sums[s].fn(buf + (cold ? (n % nblk) * blk : 0), blk);
            } while ((t = now() - t0) < secs);
            rate[cold] = (double)n * (double)blk / t / 1e6;
        }
        printf("%-32s 0x%016llx %10.0f %10.0f\n", sums[s].name,
               (unsigned long long)sums[s].fn((const uint8_t *)"123456789", 9), rate[0], rate[1]);
    }
    (void)sink;
    free(buf);
    return 0;
}
