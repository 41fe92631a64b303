/*
 * sc-blockfile.h -- bitrot-protected shard files.  A shard file is a sequence
 * of blocks, one per stripe; each is an 8-byte big-endian checksum of the
 * block's bytes followed by the bytes.  Every block but the last has the
 * same length, so block i starts at i * (8 + full_len).  Inline shards use the
 * same format in memory.
 *
 * The checksum algorithm is recorded per version (sc_version.block_sum,
 * "block_sum" in the metadata JSON; docs/on-disk-format.md): CRC-64/XZ for
 * everything written now, XXH64 (seed 0) for versions written before the
 * field existed.  Every function below takes the version's algorithm.
 */
#ifndef CAIRN_SC_BLOCKFILE_H
#define CAIRN_SC_BLOCKFILE_H

#include <stddef.h>
#include <stdint.h>

#define SC_BLOCK_SUM 8

/* The 8-byte block checksums.  0 is what new versions get: a version struct
 * zeroed and filled by a writer is written with the current default. */
enum sc_block_sum {
    SC_SUM_CRC64XZ = 0, /* "crc64xz": CRC-64/XZ (ECMA-182, reflected), ISA-L */
    SC_SUM_XXH64 = 1,   /* "xxh64": XXH64 seed 0; versions with no "block_sum" */
};
#define SC_SUM_DEFAULT SC_SUM_CRC64XZ
_Static_assert(SC_SUM_DEFAULT == 0, "a zeroed sc_version must name the sum writers use");

/* The checksum of len bytes with algorithm `alg`. */
uint64_t sc_block_sum(enum sc_block_sum alg, const void *data, size_t len);
/* "crc64xz" / "xxh64". */
const char *sc_block_sum_name(enum sc_block_sum alg);
/* The algorithm named `name` (NULL: the field is absent, "xxh64"); 0, or -1
 * for a name this build does not know. */
int sc_block_sum_parse(const char *name, enum sc_block_sum *alg_r);

struct sc_drive;

static inline uint64_t sc_block_offset(uint64_t block, size_t full_len)
{
    return block * (uint64_t)(SC_BLOCK_SUM + full_len);
}

/* Fills out[0..8+len) with the checksummed block. */
void sc_block_encode(enum sc_block_sum alg, const uint8_t *data, size_t len, uint8_t *out);

/* Writes a block to a file handle at block number `block`; 0 or negative errno. */
int sc_block_write(struct sc_drive *d, int fh, uint64_t block, size_t full_len,
                   enum sc_block_sum alg, const uint8_t *data, size_t len);

/* Reads and verifies a block into data[0..len); 0, a negative errno, or
 * -EBADMSG (short file or checksum mismatch).  `scratch` holds 8+len. */
int sc_block_read(struct sc_drive *d, int fh, uint64_t block, size_t full_len,
                  enum sc_block_sum alg, uint8_t *data, size_t len, uint8_t *scratch);

/* Same, without the scratch copy: the block is read straight to
 * data - SC_BLOCK_SUM, so the SC_BLOCK_SUM bytes before `data` must be
 * writable; their contents are saved and put back (they may hold the tail of
 * a neighbouring shard).  Used by healthy GETs, where the copy out of a
 * scratch buffer was one full pass over every byte served. */
int sc_block_read_inplace(struct sc_drive *d, int fh, uint64_t block, size_t full_len,
                          enum sc_block_sum alg, uint8_t *data, size_t len);

/* Same, from an in-memory (inline) shard. */
int sc_block_read_mem(const uint8_t *mem, size_t mem_len, uint64_t block, size_t full_len,
                      enum sc_block_sum alg, uint8_t *data, size_t len);

/* Whole shard files of `size` data bytes in blocks of `bs` (a replica copy):
 * sc_blockfile_verify checks the file's length and every block (0, a negative
 * errno, -EBADMSG); sc_blockfile_copy rebuilds `rel` on `dst` block by block
 * from the first of `srcs` whose block verifies, through a temporary file
 * (fsynced with its directory when `sync`) renamed into place. */
int sc_blockfile_verify(struct sc_drive *d, const char *rel, uint64_t size, uint64_t bs,
                        enum sc_block_sum alg);
int sc_blockfile_copy(struct sc_drive *const *srcs, int n_src, struct sc_drive *dst,
                      const char *rel, uint64_t size, uint64_t bs, enum sc_block_sum alg,
                      int sync);

#endif
