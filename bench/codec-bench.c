/*
 * codec-bench.c -- encode and decode throughput of each backend-ec codec for
 * 2+2, 4+2, 8+4 and 12+4, through backend-ec's codec layer (ec-codec.c) and
 * through the bare library calls on the same buffers, in the same run.
 *
 * One stripe is 1 MiB of object data split into k shards (the plugin's
 * default block size).  Decode rebuilds the first m data shards (the worst
 * case: parity must be used).  Throughput counts object data bytes (k * shard
 * length) per second.  Usage: codec-bench [seconds-per-measurement]
 */
#include "ec-codec.h"

#include <cauchy.h>
#include <isa-l/erasure_code.h>
#include <jerasure.h>
#include <reed_sol.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct bare {
    int k, m;
    const char *codec;
    /* isa-l */
    unsigned char *a, *tables;
    /* jerasure */
    int *matrix, *bitmatrix, **schedule;
};

static void bare_init(struct bare *b, const char *codec, int k, int m)
{
    memset(b, 0, sizeof(*b));
    b->k = k;
    b->m = m;
    b->codec = codec;
    if (!strcmp(codec, "isal-rs")) {
        b->a = malloc((size_t)(k + m) * (size_t)k);
        b->tables = malloc(32 * (size_t)k * (size_t)m);
        gf_gen_cauchy1_matrix(b->a, k + m, k);
        ec_init_tables(k, m, b->a + k * k, b->tables);
    } else if (!strcmp(codec, "jerasure-rs-vand")) {
        b->matrix = reed_sol_vandermonde_coding_matrix(k, m, 8);
    } else {
        b->matrix = cauchy_good_general_coding_matrix(k, m, 8);
        b->bitmatrix = jerasure_matrix_to_bitmatrix(k, m, 8, b->matrix);
        b->schedule = jerasure_smart_bitmatrix_to_schedule(k, m, 8, b->bitmatrix);
    }
}

static void bare_free(struct bare *b)
{
    free(b->a);
    free(b->tables);
    free(b->matrix);
    free(b->bitmatrix);
    if (b->schedule)
        jerasure_free_schedule(b->schedule);
}

static void bare_encode(struct bare *b, uint8_t **sh, size_t len)
{
    if (b->a)
        ec_encode_data((int)len, b->k, b->m, b->tables, sh, sh + b->k);
    else if (!b->bitmatrix)
        jerasure_matrix_encode(b->k, b->m, 8, b->matrix, (char **)sh, (char **)(sh + b->k),
                               (int)len);
    else
        jerasure_schedule_encode(b->k, b->m, 8, b->schedule, (char **)sh, (char **)(sh + b->k),
                                 (int)len, EC_CAUCHY_PACKET);
}

/* Rebuild data shards 0..m-1 with the libraries directly. */
static void bare_decode(struct bare *b, uint8_t **sh, size_t len)
{
    int k = b->k, m = b->m;
    if (b->a) {
        unsigned char mat[32 * 32], inv[32 * 32], rows[32 * 32], tbl[32 * 32 * 32];
        uint8_t *src[32];
        for (int r = 0; r < k; r++) {
            memcpy(&mat[r * k], &b->a[(m + r) * k], (size_t)k); /* survivors m..k+m-1 */
            src[r] = sh[m + r];
        }
        gf_invert_matrix(mat, inv, k);
        for (int e = 0; e < m; e++)
            memcpy(&rows[e * k], &inv[e * k], (size_t)k);
        ec_init_tables(k, m, rows, tbl);
        ec_encode_data((int)len, k, m, tbl, src, sh);
        return;
    }
    int erasures[33];
    for (int e = 0; e < m; e++)
        erasures[e] = e;
    erasures[m] = -1;
    if (!b->bitmatrix)
        jerasure_matrix_decode(k, m, 8, b->matrix, 1, erasures, (char **)sh, (char **)(sh + k),
                               (int)len);
    else
        jerasure_schedule_decode_lazy(k, m, 8, b->bitmatrix, erasures, (char **)sh,
                                      (char **)(sh + k), (int)len, EC_CAUCHY_PACKET, 1);
}

/* Runs fn repeatedly for about `secs`; returns MB/s of object data. */
#define MEASURE(secs, bytes, stmt)                                                           \
    ({                                                                                       \
        double t0 = now(), t;                                                                \
        long iters = 0;                                                                      \
        do {                                                                                 \
            stmt;                                                                            \
            iters++;                                                                         \
        } while ((t = now() - t0) < (secs));                                                 \
        (double)(bytes) * (double)iters / t / 1e6;                                           \
    })

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 0.3;
    static const char *codecs[] = {"isal-rs", "jerasure-rs-vand", "jerasure-cauchy"};
    static const int geo[][2] = {{2, 2}, {4, 2}, {8, 4}, {12, 4}};
    printf("%-17s %-5s %10s %10s %6s %10s %10s %6s\n", "codec", "k+m", "enc MB/s", "bare MB/s",
           "ratio", "dec MB/s", "bare MB/s", "ratio");
    int failures = 0;
    for (int ci = 0; ci < 3; ci++) {
        for (int gi = 0; gi < 4; gi++) {
            int k = geo[gi][0], m = geo[gi][1], n = k + m;
            size_t len = ec_shard_len(codecs[ci], k, 1 << 20);
            uint8_t *mem = aligned_alloc(64, (size_t)n * len), *copy = malloc((size_t)n * len);
            uint8_t *sh[32];
            for (int s = 0; s < n; s++)
                sh[s] = mem + (size_t)s * len;
            srand(1);
            for (size_t i = 0; i < (size_t)k * len; i++)
                mem[i] = (uint8_t)rand();
            struct ec_codec *c = ec_codec_new(codecs[ci], k, m);
            struct bare b;
            bare_init(&b, codecs[ci], k, m);
            size_t bytes = (size_t)k * len;
            double enc = MEASURE(secs, bytes, ec_codec_encode(c, sh, sh + k, len));
            double enc_b = MEASURE(secs, bytes, bare_encode(&b, sh, len));
            memcpy(copy, mem, (size_t)n * len);
            int present[32];
            for (int s = 0; s < n; s++)
                present[s] = s >= m;
            double dec = MEASURE(secs, bytes, ec_codec_reconstruct(c, sh, present, len));
            failures += memcmp(copy, mem, (size_t)n * len) != 0;
            double dec_b = MEASURE(secs, bytes, bare_decode(&b, sh, len));
            failures += memcmp(copy, mem, (size_t)n * len) != 0;
            char g[8];
            snprintf(g, sizeof(g), "%d+%d", k, m);
            printf("%-17s %-5s %10.0f %10.0f %6.2f %10.0f %10.0f %6.2f\n", codecs[ci], g, enc,
                   enc_b, enc / enc_b, dec, dec_b, dec / dec_b);
            bare_free(&b);
            ec_codec_free(c);
            free(mem);
            free(copy);
        }
    }
    if (failures)
        printf("DECODE MISMATCH in %d measurement(s)\n", failures);
    return failures ? 1 : 0;
}
