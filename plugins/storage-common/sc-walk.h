/*
 * sc-walk.h -- walk the object keys of a bucket in byte order, over the union
 * of several drives (so one missing drive does not hide keys).
 *
 * The walk is a merge over a heap of lower bounds: directories are read only
 * when the walk reaches them, a sorted listing of each directory is cached
 * (keyed by path, valid while every drive's mtime of it is unchanged; listings
 * of directories changed in the last seconds are not cached), and the
 * start position (`after` / `prefix`) and skipped prefixes (delimiter
 * roll-up) are found by binary search, so a page costs about what it returns.
 */
#ifndef CAIRN_SC_WALK_H
#define CAIRN_SC_WALK_H

#include <stddef.h>

struct sc_drive;
struct sc_dircache;
struct sc_walk;

/* A cache of directory listings shared by walks; thread-safe. */
struct sc_dircache *sc_dircache_new(void);
void sc_dircache_free(struct sc_dircache *c);

/*
 * Starts a walk of keys under `bucket_rel` (the bucket's directory on each
 * drive) that start with `prefix` and are greater than `after` (or equal to
 * it too when `inclusive`).  Returns NULL when out of memory.
 */
struct sc_walk *sc_walk_new(struct sc_dircache *cache, struct sc_drive *const *drives,
                            size_t n_drives, const char *bucket_rel, const char *prefix,
                            const char *after, int inclusive);

/* Next candidate key (an object file exists on at least one drive): 1 with
 * *key_r valid until the next call, 0 at the end, or a negative error. */
int sc_walk_next(struct sc_walk *w, const char **key_r);

/* How many drives hold the object file of the key sc_walk_next returned last
 * (drives that were online when its directory was read).  A backend can trust
 * one drive's copy of a key held by all its drives, and ask a quorum for the
 * others (a drive that missed a PUT or a DELETE). */
size_t sc_walk_copies(const struct sc_walk *w);

/* Skips every key that starts with `prefix` from now on. */
void sc_walk_skip(struct sc_walk *w, const char *prefix);

void sc_walk_free(struct sc_walk *w);

#endif
