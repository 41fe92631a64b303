/*
 * sc-metacache.h -- parsed metadata files kept in memory, keyed by drive and
 * path, shared by all drives of one backend (docs/on-disk-format.md,
 * "Metadata cache").
 *
 * An entry is what one drive's copy of a metadata file parsed to (or that it
 * was absent), with the file's identity when it was read: device, inode,
 * size, mtime and ctime in ns.  A lookup stats the file first and uses the
 * entry only when that identity is unchanged, so a file replaced or changed
 * by anything (heal, another tool, a test corrupting it) is read again.
 * Because kernel timestamps are coarse and inode numbers are reused, our own
 * writes also drop the entry explicitly: every rename onto a path and every
 * unlink of it through a local drive (sc-drive.c) calls sc_mc_invalidate.
 *
 * Race-freedom: each key hashes to a generation counter that invalidation
 * bumps (under the shard's mutex, after the file changed).  A reader takes
 * the generation before it stats and reads; its result is inserted only when
 * the generation is still the same, so a read that overlapped a write never
 * lands in the cache.  No mutex is held across a syscall.
 *
 * Entries are immutable and reference counted: a hit hands out a reference
 * (no copy); eviction (LRU per shard, within a byte budget counting the raw
 * file, the parsed versions and their inline data) only drops the cache's own
 * reference.
 */
#ifndef CAIRN_SC_METACACHE_H
#define CAIRN_SC_METACACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "sc-objmeta.h"

struct sc_drive;
struct sc_metacache;

#define SC_MC_DEFAULT_BYTES (16u << 20)

/* What a file was when it was read; present 0 means it did not exist. */
struct sc_mc_ident {
    int present;
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
};

/* One drive's copy of one metadata file, as parsed.  Read-only once published. */
struct sc_mc_entry {
    struct sc_mc_entry *next;             /* hash chain */
    struct sc_mc_entry *lru_prev, *lru_next;
    int refs;                             /* atomic */
    uint64_t hash;
    const struct sc_drive *drive;
    struct sc_mc_ident id;
    int status;                           /* 0 or -ENOENT */
    struct sc_objmeta m;
    uint64_t sig;
    uint8_t *raw;                         /* the framed file (undo of a commit) */
    size_t raw_len;
    size_t bytes;                         /* charged to the budget */
    char rel[];
};

/* A cache of at most `budget` bytes; NULL when budget is 0 (disabled) or out
 * of memory.  The creator holds one reference. */
struct sc_metacache *sc_mc_new(size_t budget);
void sc_mc_ref(struct sc_metacache *c);
void sc_mc_unref(struct sc_metacache *c);

/* Identity of a stat result (NULL: absent). */
void sc_mc_ident_of(const struct stat *st, struct sc_mc_ident *id);

/* The generation of drive/rel's slot: take it before statting and reading. */
uint64_t sc_mc_gen(struct sc_metacache *c, const struct sc_drive *d, const char *rel);

/* A referenced entry for drive/rel whose identity equals *id, or NULL. */
struct sc_mc_entry *sc_mc_get(struct sc_metacache *c, const struct sc_drive *d, const char *rel,
                              const struct sc_mc_ident *id);

/*
 * Publishes what drive/rel read as (status 0 with m, sig and raw, which the
 * cache takes over whether or not it keeps them; or -ENOENT with none) when
 * the slot's generation is still `gen`.  Returns a referenced entry holding
 * m and raw when one was made (the caller now uses its m and raw), else NULL
 * with *m and *raw left to the caller.
 */
struct sc_mc_entry *sc_mc_put(struct sc_metacache *c, const struct sc_drive *d, const char *rel,
                              uint64_t gen, const struct sc_mc_ident *id, int status,
                              struct sc_objmeta *m, uint64_t sig, uint8_t **raw, size_t raw_len);

void sc_mc_release(struct sc_mc_entry *e);

/* Drops drive/rel's entry and bumps its generation (call after the file changed). */
void sc_mc_invalidate(struct sc_metacache *c, const struct sc_drive *d, const char *rel);

struct sc_mc_stats {
    uint64_t hits, misses, inserts, evictions, invalidations, stale_skips;
    size_t bytes, entries, budget;
};
void sc_mc_stats(struct sc_metacache *c, struct sc_mc_stats *out);

#endif
