/*
 * ec-codec.c -- ISA-L and jerasure behind ec-codec.h.
 */
#include "ec-codec.h"

#include <cairn/plugin.h>
#include <cauchy.h>
#include <isa-l/erasure_code.h>
#include <jerasure.h>
#include <reed_sol.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_ISAL, K_VAND, K_CAUCHY };

struct ec_codec {
    enum kind kind;
    int k, m;
    /* ISA-L */
    uint8_t *enc_matrix; /* (k+m) x k */
    uint8_t *enc_tables; /* 32 * k * m */
    /* jerasure */
    int *matrix;    /* m x k */
    int *bitmatrix; /* cauchy */
    int **schedule; /* cauchy */
};

static int kind_of(const char *name, enum kind *k)
{
    if (!strcmp(name, "isal-rs"))
        *k = K_ISAL;
    else if (!strcmp(name, "jerasure-rs-vand"))
        *k = K_VAND;
    else if (!strcmp(name, "jerasure-cauchy"))
        *k = K_CAUCHY;
    else
        return -1;
    return 0;
}

int ec_codec_known(const char *name)
{
    enum kind k;
    return kind_of(name, &k) == 0;
}

size_t ec_codec_align(const char *name)
{
    return !strcmp(name, "jerasure-cauchy") ? 8 * EC_CAUCHY_PACKET : 16;
}

size_t ec_shard_len(const char *codec, int k, uint64_t data_len)
{
    size_t a = ec_codec_align(codec);
    uint64_t per = (data_len + (uint64_t)k - 1) / (uint64_t)k;
    if (per == 0)
        per = 1;
    return (size_t)((per + a - 1) / a * a);
}

void ec_codec_free(struct ec_codec *c)
{
    if (!c)
        return;
    free(c->enc_matrix);
    free(c->enc_tables);
    free(c->matrix);
    free(c->bitmatrix);
    if (c->schedule)
        jerasure_free_schedule(c->schedule);
    free(c);
}

struct ec_codec *ec_codec_new(const char *name, int k, int m)
{
    enum kind kind;
    if (kind_of(name, &kind) || k < 1 || m < 0 || k + m > 32)
        return NULL;
    struct ec_codec *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->kind = kind;
    c->k = k;
    c->m = m;
    if (m == 0)
        return c;
    switch (kind) {
    case K_ISAL:
        c->enc_matrix = malloc((size_t)(k + m) * (size_t)k);
        c->enc_tables = malloc(32 * (size_t)k * (size_t)m);
        if (!c->enc_matrix || !c->enc_tables)
            goto fail;
        gf_gen_cauchy1_matrix(c->enc_matrix, k + m, k);
        ec_init_tables(k, m, c->enc_matrix + k * k, c->enc_tables);
        break;
    case K_VAND:
        if (!(c->matrix = reed_sol_vandermonde_coding_matrix(k, m, 8)))
            goto fail;
        break;
    case K_CAUCHY:
        if (!(c->matrix = cauchy_good_general_coding_matrix(k, m, 8)) ||
            !(c->bitmatrix = jerasure_matrix_to_bitmatrix(k, m, 8, c->matrix)) ||
            !(c->schedule = jerasure_smart_bitmatrix_to_schedule(k, m, 8, c->bitmatrix)))
            goto fail;
        break;
    }
    return c;
fail:
    ec_codec_free(c);
    return NULL;
}

void ec_codec_encode(const struct ec_codec *c, uint8_t *const *data, uint8_t *const *parity,
                     size_t len)
{
    if (c->m == 0)
        return;
    switch (c->kind) {
    case K_ISAL:
        ec_encode_data((int)len, c->k, c->m, c->enc_tables, (unsigned char **)data,
                       (unsigned char **)parity);
        break;
    case K_VAND:
        jerasure_matrix_encode(c->k, c->m, 8, c->matrix, (char **)data, (char **)parity, (int)len);
        break;
    case K_CAUCHY:
        jerasure_schedule_encode(c->k, c->m, 8, c->schedule, (char **)data, (char **)parity,
                                 (int)len, EC_CAUCHY_PACKET);
        break;
    }
}

/* ISA-L: invert the rows of k present shards and recompute the missing ones. */
static int isal_reconstruct(const struct ec_codec *c, uint8_t *const *shards, const int *present,
                            size_t len)
{
    int k = c->k, n = c->k + c->m;
    uint8_t b[32 * 32], d[32 * 32], rows[32 * 32], tables[32 * 32 * 32];
    uint8_t *src[32], *out[32];
    int src_idx[32], nsrc = 0, nout = 0;
    for (int i = 0; i < n && nsrc < k; i++)
        if (present[i])
            src_idx[nsrc++] = i;
    if (nsrc < k)
        return CAIRN_E_READ_QUORUM;
    for (int r = 0; r < k; r++) {
        memcpy(&b[r * k], &c->enc_matrix[src_idx[r] * k], (size_t)k);
        src[r] = shards[src_idx[r]];
    }
    if (gf_invert_matrix(b, d, k) < 0)
        return CAIRN_E_CORRUPT;
    for (int e = 0; e < n; e++) {
        if (present[e])
            continue;
        uint8_t *row = &rows[nout * k];
        if (e < k) {
            memcpy(row, &d[e * k], (size_t)k);
        } else {
            /* parity row times the inverse: coefficients over the sources */
            for (int j = 0; j < k; j++) {
                uint8_t s = 0;
                for (int t = 0; t < k; t++)
                    s ^= gf_mul(c->enc_matrix[e * k + t], d[t * k + j]);
                row[j] = s;
            }
        }
        out[nout++] = shards[e];
    }
    if (!nout)
        return 0;
    ec_init_tables(k, nout, rows, tables);
    ec_encode_data((int)len, k, nout, tables, src, out);
    return 0;
}

int ec_codec_reconstruct(const struct ec_codec *c, uint8_t *const *shards, const int *present,
                         size_t len)
{
    int n = c->k + c->m, np = 0, erasures[33], ne = 0;
    for (int i = 0; i < n; i++) {
        if (present[i])
            np++;
        else
            erasures[ne++] = i;
    }
    erasures[ne] = -1;
    if (np < c->k)
        return CAIRN_E_READ_QUORUM;
    if (ne == 0)
        return 0;
    if (c->kind == K_ISAL)
        return isal_reconstruct(c, shards, present, len);
    char *data[32], *coding[32];
    for (int i = 0; i < c->k; i++)
        data[i] = (char *)shards[i];
    for (int i = 0; i < c->m; i++)
        coding[i] = (char *)shards[c->k + i];
    int rc;
    if (c->kind == K_VAND)
        rc = jerasure_matrix_decode(c->k, c->m, 8, c->matrix, 1, erasures, data, coding, (int)len);
    else
        rc = jerasure_schedule_decode_lazy(c->k, c->m, 8, c->bitmatrix, erasures, data, coding,
                                           (int)len, EC_CAUCHY_PACKET, 1);
    return rc < 0 ? CAIRN_E_CORRUPT : 0;
}
