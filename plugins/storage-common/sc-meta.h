/*
 * sc-meta.h -- a key's metadata across the drives that hold it, shared by
 * backend-ec and backend-replica: quorum reads and crash-safe commits.
 *
 * Each drive holds, in the key's directory (docs/on-disk-format.md §4):
 *   .obj          the head: the latest version (object or delete marker)
 *   .v/<name>     one file per older version; <name> is the version id, or
 *                 "null" for the null version
 * Both are sc_objmeta files (sc-objmeta.h) with one entry (none for a
 * replica tombstone).  Reading or replacing the latest version touches only
 * .obj, so its cost does not grow with the number of versions.
 *
 * A struct sc_qmeta is one such file as read from every drive of the key,
 * plus the copy most drives agree on.  The backend decides how many must
 * agree (sc_qmeta_settle); commits go through sc_meta_commit.
 */
#ifndef CAIRN_SC_META_H
#define CAIRN_SC_META_H

#include <stddef.h>
#include <stdint.h>

#include "sc-objmeta.h"

struct sc_drive;
struct sc_mc_entry;
struct cairn_services;

#define SC_META_DRIVES 16     /* most drives holding one key's metadata */
#define SC_META_PATH 4096
#define SC_VERSIONS_DIR ".v"  /* older versions, in the key's directory */
#define SC_VNAME_MAX 40       /* a version file name and its NUL */

/* One metadata file of a key as read from each of its drives. */
struct sc_qmeta {
    int n;                                  /* drives of the key */
    struct sc_drive *drive[SC_META_DRIVES]; /* position -> drive */
    int order[SC_META_DRIVES];              /* position -> backend's drive index */
    char rel[SC_META_PATH];                 /* the file read: <key>/.obj or <key>/.v/<name> */
    size_t dir_len;                         /* rel[0..dir_len) is the key's directory */
    int is_head;                            /* rel is .obj */
    int status[SC_META_DRIVES];             /* 0 read, -ENOENT absent, else failed/corrupt */
    struct sc_objmeta m[SC_META_DRIVES];    /* per drive, when status == 0 */
    uint8_t *raw[SC_META_DRIVES];           /* the file as read (for undo) */
    struct sc_mc_entry *mc[SC_META_DRIVES]; /* when set, m[i] and raw[i] are this
                                               cached entry's (read-only, not freed) */
    size_t raw_len[SC_META_DRIVES];
    uint64_t sig[SC_META_DRIVES];           /* sc_objmeta_signature of m[i] */
    int agree[SC_META_DRIVES];              /* 1 when the drive holds the chosen copy */
    int chosen;                             /* a drive holding it, -1 when none */
    int n_agree, n_absent;
};

/* How a backend commits: its services and name (for the log), fsync policy,
 * and the two ways backend-ec and backend-replica differ. */
struct sc_meta_policy {
    const struct cairn_services *sv;
    const char *who;        /* "backend-ec" */
    int sync;
    int tombstones;         /* an emptied file is written as an empty list (so a
                               drive that missed the delete is outvoted) */
    int per_drive_inline;   /* inline bytes differ per drive (a shard): a stale
                               drive gets the agreed list without them */
};

/* Version file name of version id `id` into out[SC_VNAME_MAX]: "null" for the
 * null version ("" or "null"), else the id.  -1 when `id` is not a version id
 * this store makes (32 lower-case hex digits), so it cannot name a file. */
int sc_meta_vname(const char *id, char out[SC_VNAME_MAX]);

/* 1 when both ids name the same version ("" and "null" are the null version). */
int sc_meta_same_id(const char *a, const char *b);

/* Index of version `id` in m, or -1. */
int sc_meta_find(const struct sc_objmeta *m, const char *id);

/*
 * Reads <key_dir>/.obj (vname NULL) or <key_dir>/.v/<vname> from the n
 * drives (offline ones are skipped; a drive's copy whose identity is what
 * its cache entry recorded is taken from the cache, sc-metacache.h) and picks the copy most agree on (the
 * newer head on a tie): q->chosen, q->agree, q->n_agree.  bucket/key are for
 * the log.  0, or CAIRN_E_KEY_TOO_LONG.  Always release q with sc_qmeta_clear.
 */
int sc_qmeta_load(struct sc_qmeta *q, const struct sc_meta_policy *p, struct sc_drive *const *d,
                  int n, const char *key_dir, const char *vname, const char *bucket,
                  const char *key);

/* Drops the choice when fewer than `need` drives agree; 1 when it stands. */
int sc_qmeta_settle(struct sc_qmeta *q, int need);

void sc_qmeta_clear(struct sc_qmeta *q);

/* The agreed version list (q->m[q->chosen]) or an empty list. */
const struct sc_objmeta *sc_qmeta_agreed(const struct sc_qmeta *q);

/* The version `id` in drive `pos`'s own copy, when that copy agrees. */
const struct sc_version *sc_qmeta_drive_version(const struct sc_qmeta *q, int pos,
                                                const char *id);

/* Per-drive step of a commit: edits drive `pos`'s copy `m` (its own copy when
 * it agrees, else the agreed one fixed up for that drive) before it is
 * written; may also move data into place.  Returns 0, 1 (leave this drive as
 * it is, not counted) or an error (drive not counted). */
typedef int (*sc_mutate_fn)(void *ctx, int pos, struct sc_objmeta *m);

/*
 * Applies `mutate` on every online drive and writes the result, in an order
 * that leaves a readable key after a crash at any point (docs/on-disk-format
 * §4).  For the head file: entries after the first (the head a PUT or a
 * delete marker superseded) are first written to .v/<name>, then .obj is
 * replaced; an emptied head takes the version `promote` (a loaded .v file,
 * may be NULL) and that file is removed, or with nothing to promote becomes a
 * tombstone (policy) or is removed.  For a .v file: rewritten, or removed /
 * made a tombstone when emptied.  Succeeds when at least `wq` drives did;
 * otherwise puts back what it changed and returns CAIRN_E_WRITE_QUORUM.
 * `brel` is the bucket's directory (empty parents are pruned up to it).
 * Call with the key's write lock held.
 */
int sc_meta_commit(struct sc_qmeta *q, const struct sc_meta_policy *p, const char *brel, int wq,
                   sc_mutate_fn mutate, void *ctx, const struct sc_qmeta *promote);

/*
 * The older version files of the key (union of the drives' .v directories,
 * excluding `skip_name`), newest first: by the time in the id, the null
 * version by its mtime.  *names_r is a malloc'd array of malloc'd strings
 * (sc_names_free).  0 or CAIRN_E_NOMEM.
 */
int sc_meta_older_names(struct sc_drive *const *d, int n, const char *key_dir,
                        const char *skip_name, char ***names_r, size_t *n_r);

/* Sorts versions newest first (mtime, then id), for a listing. */
void sc_meta_sort_versions(struct sc_objmeta *m);

/* ---- version operations on one key, through the backend's own rules ---- */

/* One key of one backend: how it reads a metadata file by quorum (vname NULL
 * is the head; returns 0, CAIRN_E_NO_SUCH_KEY or CAIRN_E_READ_QUORUM), how
 * it commits (sc_meta_commit with its policy) and how it removes a version's
 * data directory. */
struct sc_meta_key {
    void *be;
    int (*read)(void *be, const char *vname, struct sc_qmeta *q);
    int (*commit)(void *be, struct sc_qmeta *q, int wq, sc_mutate_fn mutate, void *ctx,
                  const struct sc_qmeta *promote);
    void (*remove_data)(void *be, const char *data_dir);
};

/* The file holding version `id` (the head or its .v file): 0 with the version
 * in the agreed list, CAIRN_E_NO_SUCH_KEY, CAIRN_E_NO_SUCH_VERSION or
 * CAIRN_E_READ_QUORUM.  Always sc_qmeta_clear. */
int sc_meta_read_version(const struct sc_meta_key *k, const char *id, struct sc_qmeta *q);

/* Every version of the key, newest first (the head, then each .v file by
 * quorum), for ListObjectVersions.  0 or an error; clear *all.  Hold the
 * key's lock. */
int sc_meta_read_all(const struct sc_meta_key *k, struct sc_objmeta *all);

/* Removes version `id` from the file q holds it in (its data directory after);
 * a removed head gives way to the newest older version.  0 when it was not
 * there; else sc_meta_commit's result.  Hold the key's write lock. */
int sc_meta_delete_version(const struct sc_meta_key *k, struct sc_qmeta *q, const char *id,
                           int wq);

/* A null version that is not the head lives in .v/null; a new null version
 * replaces it, so it is removed (with its data) once the new head is
 * committed.  A crash before leaves it beside a null head: readers skip it,
 * heal removes it.  Hold the key's write lock. */
void sc_meta_drop_older_null(const struct sc_meta_key *k);

#endif
