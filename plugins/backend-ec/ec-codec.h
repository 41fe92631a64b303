/*
 * ec-codec.h -- the erasure codes backend-ec can use, behind one interface.
 *
 * Every code is systematic: shards 0..k-1 are the data itself, k..k+m-1 the
 * parity.  Names: "isal-rs" (ISA-L, Cauchy-built Reed-Solomon matrix, always
 * invertible), "jerasure-rs-vand" (jerasure Reed-Solomon Vandermonde, w=8),
 * "jerasure-cauchy" (jerasure good Cauchy matrix, bit-matrix with smart
 * scheduling, w=8, packet size EC_CAUCHY_PACKET).
 * A codec object is immutable after creation and may be used by many threads.
 */
#ifndef CAIRN_EC_CODEC_H
#define CAIRN_EC_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define EC_CAUCHY_PACKET 256

struct ec_codec;

/* 1 when `name` is a known codec. */
int ec_codec_known(const char *name);

/* A codec for k data and m parity shards (k >= 1, m >= 0, k + m <= 32);
 * NULL on an unknown name, bad geometry or no memory. */
struct ec_codec *ec_codec_new(const char *name, int k, int m);
void ec_codec_free(struct ec_codec *c);

/* Shard lengths must be a multiple of this: 16 (gf-complete wants regions
 * 16-byte aligned to each other), or 8 * EC_CAUCHY_PACKET for the bit-matrix code. */
size_t ec_codec_align(const char *name);

/* Length of each shard for `data_len` bytes of stripe data. */
size_t ec_shard_len(const char *codec, int k, uint64_t data_len);

/* Computes the m parity shards from the k data shards, each `len` bytes
 * (a multiple of the alignment). */
void ec_codec_encode(const struct ec_codec *c, uint8_t *const *data, uint8_t *const *parity,
                     size_t len);

/*
 * Rebuilds every shard i with present[i] == 0 (data or parity) in place from
 * the others.  shards[0..k+m) each hold `len` bytes.  Returns 0, or
 * CAIRN_E_READ_QUORUM when fewer than k are present.
 */
int ec_codec_reconstruct(const struct ec_codec *c, uint8_t *const *shards, const int *present,
                         size_t len);

#endif
