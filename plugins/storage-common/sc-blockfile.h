/*
 * sc-blockfile.h -- bitrot-protected shard files.  A shard file is a sequence
 * of blocks, one per stripe; each is an 8-byte big-endian XXH64 (seed 0) of
 * the block's bytes followed by the bytes.  Every block but the last has the
 * same length, so block i starts at i * (8 + full_len).  Inline shards use the
 * same format in memory.
 */
#ifndef CAIRN_SC_BLOCKFILE_H
#define CAIRN_SC_BLOCKFILE_H

#include <stddef.h>
#include <stdint.h>

#define SC_BLOCK_SUM 8

struct sc_drive;

static inline uint64_t sc_block_offset(uint64_t block, size_t full_len)
{
    return block * (uint64_t)(SC_BLOCK_SUM + full_len);
}

/* Fills out[0..8+len) with the checksummed block. */
void sc_block_encode(const uint8_t *data, size_t len, uint8_t *out);

/* Writes a block to a file handle at block number `block`; 0 or negative errno. */
int sc_block_write(struct sc_drive *d, int fh, uint64_t block, size_t full_len,
                   const uint8_t *data, size_t len);

/* Reads and verifies a block into data[0..len); 0, a negative errno, or
 * -EBADMSG (short file or checksum mismatch).  `scratch` holds 8+len. */
int sc_block_read(struct sc_drive *d, int fh, uint64_t block, size_t full_len, uint8_t *data,
                  size_t len, uint8_t *scratch);

/* Same, without the scratch copy: the block is read straight to
 * data - SC_BLOCK_SUM, so the SC_BLOCK_SUM bytes before `data` must be
 * writable; their contents are saved and put back (they may hold the tail of
 * a neighbouring shard).  Used by healthy GETs, where the copy out of a
 * scratch buffer was one full pass over every byte served. */
int sc_block_read_inplace(struct sc_drive *d, int fh, uint64_t block, size_t full_len,
                          uint8_t *data, size_t len);

/* Same, from an in-memory (inline) shard. */
int sc_block_read_mem(const uint8_t *mem, size_t mem_len, uint64_t block, size_t full_len,
                      uint8_t *data, size_t len);

#endif
