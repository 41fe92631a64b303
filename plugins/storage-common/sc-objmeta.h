/*
 * sc-objmeta.h -- the per-object, per-drive metadata file (SC_OBJ_FILE in the
 * key's directory, framed by sc-frame.h) holding every version of one key.
 * The JSON layout is documented in docs/on-disk-format.md.
 *
 * Layout fields are generic: an erasure-coded backend stores k data and m
 * parity shards; a replicating backend can store k = 1, m = copies - 1.
 */
#ifndef CAIRN_SC_OBJMETA_H
#define CAIRN_SC_OBJMETA_H

#include <stddef.h>
#include <stdint.h>

#include "sc-blockfile.h"

#define SC_MAX_SHARDS 32

struct sc_attr {
    char *name;
    char *value;
};

/* One part of an object (a single-part object has one part, number 1). */
struct sc_part {
    uint32_t number;
    uint64_t size;
    char etag[80];
    int64_t mtime_ms;
    size_t n_attrs;
    struct sc_attr *attrs;
};

struct sc_version {
    char id[64];          /* "null" for the null version */
    int64_t mtime_ms;
    uint64_t size;
    char etag[80];
    int delete_marker;
    uint32_t parts_count; /* as S3 reports it: 0 for a single-part upload */
    size_t n_attrs;
    struct sc_attr *attrs;
    /* layout */
    char codec[32];
    int k, m;
    uint64_t block_size;  /* object bytes per stripe */
    enum sc_block_sum block_sum; /* shard block checksum ("block_sum"; absent: xxh64) */
    int shard_index;      /* which shard this drive holds (0-based; < k is data) */
    uint8_t dist[SC_MAX_SHARDS]; /* dist[shard] = drive position within the set */
    char data_dir[40];    /* ".d.<data_dir>" holds part.<n> shard files; "" when none */
    size_t n_parts;
    struct sc_part *parts;
    int has_inline;       /* this drive's shard is inline (block-file format) */
    uint8_t *inline_data;
    size_t inline_len;
};

/* All versions of a key, newest first. */
struct sc_objmeta {
    size_t n;
    struct sc_version *v;
};

/* Parses a payload; 0, or CAIRN_E_CORRUPT.  *m must be zeroed or cleared. */
int sc_objmeta_parse(const char *json, size_t len, struct sc_objmeta *m);
/* Serializes into a malloc'd JSON string; NULL when out of memory. */
char *sc_objmeta_serialize(const struct sc_objmeta *m, size_t *len_r);
/* Frees everything inside and zeroes it. */
void sc_objmeta_clear(struct sc_objmeta *m);

/* Deep copy; 0 or CAIRN_E_NOMEM. */
int sc_version_copy(struct sc_version *dst, const struct sc_version *src);
void sc_version_clear(struct sc_version *v);
/* Inserts a deep copy of `v` at position `pos`; 0 or CAIRN_E_NOMEM. */
int sc_objmeta_insert(struct sc_objmeta *m, size_t pos, const struct sc_version *v);
/* Removes (and clears) entry `pos`. */
void sc_objmeta_remove(struct sc_objmeta *m, size_t pos);

/* A hash of what must agree between drives (ids, times, sizes, etags, data
 * dirs, layout) and not of what differs per drive (shard index, inline bytes). */
uint64_t sc_objmeta_signature(const struct sc_objmeta *m);

/* Sets attrs to a deep copy of the n name/value pairs; 0 or CAIRN_E_NOMEM. */
int sc_attrs_set(struct sc_attr **attrs_r, size_t *n_r, size_t n, const char *const *names,
                 const char *const *values);
void sc_attrs_free(struct sc_attr *attrs, size_t n);

#endif
