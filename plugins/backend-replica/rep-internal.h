/*
 * rep-internal.h -- shared state and helpers of the backend-replica plugin
 * (never installed).  Files: rep-plugin.c (descriptor, init, placement,
 * scanner), rep-meta.c (metadata across a key's drives), rep-io.c (writing a
 * body to N copies, reading a range from the first copy that verifies),
 * rep-object.c (object operations), rep-bucket.c (buckets, configs, listing),
 * rep-mpu.c (multipart), rep-heal.c (heal).
 *
 * On-disk layout (shared with backend-ec through storage-common): a bucket is
 * a directory on every drive; an object's metadata is SC_OBJ_FILE in its key
 * directory (sc-objmeta.h, k = 1, m = copies - 1, codec "replica", dist[s] =
 * the placement position of the drive holding copy s, which is s); its data is ".d.<id>/part.<n>" block files
 * (sc-blockfile.h: a checksum per block), or inline in the metadata when small.
 */
#ifndef CAIRN_REP_INTERNAL_H
#define CAIRN_REP_INTERNAL_H

#include <cairn/plugin.h>
#include <pthread.h>
#include <stdint.h>

#include "sc-drive.h"
#include "sc-lock.h"
#include "sc-meta.h"
#include "sc-objmeta.h"
#include "sc-walk.h"

#define REP_MAX 16 /* most copies of one object (and metadata drives of a key) */
#define REP_PATH 4096
#define REP_CODEC "replica"
#define REP_N_CLASSES 10

struct rep_state {
    const struct cairn_services *sv;
    const struct cairn_config *cfg;
    struct sc_drive **drives;
    size_t n_drives;
    int copies;      /* STANDARD copies */
    int meta_n;      /* drives holding a key's metadata: the most copies of any class */
    int class_copies[REP_N_CLASSES];
    uint64_t block_size, inline_limit;
    int sync;
    struct sc_locks locks;        /* per key */
    struct sc_locks upload_locks; /* per multipart upload */
    struct sc_dircache *dircache;
    pthread_mutex_t mu; /* drive state, scanner */
    pthread_t scanner;
    int scanner_running, stop;
    pthread_cond_t cond;
    int64_t scanner_interval_s;
    int64_t scanner_keys_per_s;
    /* counters (also sent to metric_add) */
    uint64_t healed_copies, healed_meta, heal_errors;
};

extern const char *const rep_class_names[REP_N_CLASSES];

/* snprintf for paths. */
int rep_fmt(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The drives of bucket/key in preference order: order[0..n_drives) is a
 * rotation of all drives starting at a hash of bucket and key.  Copies go to
 * the first `copies`, metadata to the first meta_n. */
void rep_placement(struct rep_state *st, const char *bucket, const char *key, int *order);

/* Majority of n. */
static inline int rep_quorum(int n)
{
    return n / 2 + 1;
}

/* Copies for a PUT's x-amz-storage-class attr; CAIRN_E_INVALID_STORAGE_CLASS. */
int rep_storage_class(struct rep_state *st, size_t n_attrs, const struct cairn_kv *attrs,
                      int *copies_r);

/* Paths relative to a drive root; 0 or CAIRN_E_*. */
int rep_bucket_rel(const char *bucket, char *out, size_t cap);
int rep_key_rel(const char *bucket, const char *key, char *out, size_t cap);

/* 1 when the bucket directory exists on any online drive. */
int rep_bucket_exists(struct rep_state *st, const char *bucket);

/* Negative errno -> CAIRN_E_*. */
int rep_errno(int rc);

/* Re-checks which drives are usable (a wiped drive is usable again). */
void rep_check_drives(struct rep_state *st);

/* Fills a cairn_object_info from a version (attrs copied into request memory). */
int rep_fill_info(struct rep_state *st, struct cairn_req *req, const struct sc_version *v,
                  int is_latest, enum cairn_versioning shown, struct cairn_object_info *info);

/* ---- metadata (rep-meta.c) ---- */

/* A key's metadata file as read from its metadata drives: the shared type
 * of sc-meta.h (order[] maps a position to its index in st->drives). */
#define rep_qmeta sc_qmeta

/* The commit policy of backend-replica (every copy holds the same inline
 * bytes; emptied files become tombstones). */
void rep_meta_policy(struct rep_state *st, struct sc_meta_policy *p);

/* Reads a key's head metadata (.obj: its latest version) from its metadata
 * drives and picks the copy most of them agree on (the newest on a tie).  One
 * readable copy is enough.  0, CAIRN_E_NO_SUCH_KEY, or CAIRN_E_READ_QUORUM.
 * Always rep_qmeta_clear. */
int rep_meta_read(struct rep_state *st, const char *bucket, const char *key, struct rep_qmeta *q);
/* The same for the older version file .v/<vname> (vname NULL: the head). */
int rep_meta_read_at(struct rep_state *st, const char *bucket, const char *key,
                     const char *vname, struct rep_qmeta *q);
/* Every version of the key, newest first, for ListObjectVersions
 * (sc_meta_read_all); takes the key's read lock.  0 or an error; clear *all. */
int rep_meta_read_all(struct rep_state *st, const char *bucket, const char *key,
                      struct sc_objmeta *all);

/* One key with backend-replica's read and commit rules, for the shared
 * version operations of sc-meta.h (ops.be points back to it). */
struct rep_key {
    struct rep_state *st;
    const char *bucket, *key;
    struct sc_meta_key ops;
};
void rep_key_init(struct rep_key *k, struct rep_state *st, const char *bucket, const char *key);

static inline void rep_qmeta_clear(struct rep_qmeta *q)
{
    sc_qmeta_clear(q);
}

static inline const struct sc_objmeta *rep_qmeta_agreed(const struct rep_qmeta *q)
{
    return sc_qmeta_agreed(q);
}

/* Edits the copy `m` of placement position `pos` before it is written
 * (sc_mutate_fn). */
typedef sc_mutate_fn rep_mutate_fn;

/* sc_meta_commit on the key's metadata drives with backend-replica's policy
 * (an emptied file is written as a tombstone, so a stale copy on a drive that
 * missed the delete is outvoted); `promote` is what an emptied head gives way
 * to (a loaded .v file) or NULL.  Hold the key's write lock. */
int rep_meta_commit(struct rep_state *st, const char *bucket, const char *key,
                    struct rep_qmeta *q, int wq, rep_mutate_fn mutate, void *ctx,
                    const struct rep_qmeta *promote);

/* Removes q's file from every drive that has it (heal drops tombstones every
 * drive agrees on, and version files left by a missed delete). */
void rep_meta_remove_file(struct rep_state *st, const char *bucket, struct rep_qmeta *q);

/* Removes data dir ".d.<id>" of a key on every online drive. */
void rep_remove_data_dir(struct rep_state *st, const char *bucket, const char *key,
                         const char *data_dir);

/* Index of version `id` in m ("" and "null" both name the null version), or -1. */
int rep_find_version(const struct sc_objmeta *m, const char *id);

/* ---- data (rep-io.c) ---- */

struct rep_written {
    int copies;
    int dist[REP_MAX];   /* drive of copy s */
    int ok[REP_MAX];     /* copy written and synced */
    uint64_t size;
    char id[33];         /* temporary files SC_TMP_DIR/<id>.<s> */
    int is_inline;
    uint8_t *inl;        /* inline data in block format (same for every copy) */
    size_t inl_len;
};

/* Reads the body with body_read into `copies` temporary files on order[0..copies)
 * (or inline when allow_inline and small).  0 after body_read returned 0 and a
 * majority of copies were written; else removes what it wrote. */
int rep_write_body(struct rep_state *st, struct cairn_req *req, const int *order, int copies,
                   int allow_inline, struct rep_written *w);
void rep_written_clear(struct rep_state *st, struct rep_written *w);
/* Temporary file name of copy s. */
void rep_tmp_name(const struct rep_written *w, int s, char *out, size_t cap);

/* Streams [off, off+len) of version v to body_write, block by block from the
 * first copy whose checksum verifies; *damaged_r set when any copy failed. */
int rep_read_range(struct rep_state *st, struct cairn_req *req, const char *bucket,
                   const char *key, const struct rep_qmeta *q, const struct sc_version *v,
                   uint64_t off, uint64_t len, int *damaged_r);

/* ---- versions (rep-object.c) ---- */
/* Adds version nv to bucket/key under the versioning rules; move_data is
 * called per placement position holding a copy before its metadata is written. */
int rep_commit_version(struct rep_state *st, const char *bucket, const char *key,
                       enum cairn_versioning versioning, struct sc_version *nv,
                       const struct rep_written *w, int (*move_data)(void *ctx, int pos),
                       void *move_ctx);

/* Sets v's attrs to a then f (f's values win for equal names). */
int rep_merge_attrs(struct sc_version *v, size_t na, const struct cairn_kv *a, size_t nf,
                    const struct cairn_kv *f);

/* ---- heal (rep-heal.c) ---- */
int rep_heal_key(struct rep_state *st, struct cairn_req *req, const char *bucket,
                 const char *key);
/* Heals every bucket and key; keys_per_s > 0 paces it. */
int rep_heal_all(struct rep_state *st, struct cairn_req *req, int64_t keys_per_s);
/* Bucket files (.bucket, configs) on every drive from the majority (rep-bucket.c). */
int rep_heal_bucket(struct rep_state *st, const char *bucket);
/* Names of buckets on any drive (sorted, unique); free with sc_names_free. */
int rep_bucket_names(struct rep_state *st, char ***names_r, size_t *n_r);

/* ---- ops ---- */
int rep_bucket_create(void *state, struct cairn_req *req, const struct cairn_bucket_info *b);
int rep_bucket_delete(void *state, struct cairn_req *req, const char *bucket);
int rep_bucket_head(void *state, struct cairn_req *req, const char *bucket,
                    struct cairn_bucket_info *info_r);
int rep_bucket_list(void *state, struct cairn_req *req,
                    int (*emit)(void *ctx, const struct cairn_bucket_info *b), void *ctx);
int rep_bucket_config_get(void *state, struct cairn_req *req, const char *bucket,
                          const char *name, char **data_r, size_t *len_r);
int rep_bucket_config_put(void *state, struct cairn_req *req, const char *bucket,
                          const char *name, const void *data, size_t len);
int rep_bucket_config_delete(void *state, struct cairn_req *req, const char *bucket,
                             const char *name);
int rep_object_put(void *state, struct cairn_req *req, const struct cairn_put *put,
                   struct cairn_object_info *info_r);
int rep_object_get(void *state, struct cairn_req *req, const struct cairn_get *get);
int rep_object_delete(void *state, struct cairn_req *req, const char *bucket, const char *key,
                      const char *version_id, enum cairn_versioning versioning,
                      struct cairn_object_info *info_r);
int rep_object_set_attrs(void *state, struct cairn_req *req, const char *bucket,
                         const char *key, const char *version_id, size_t n_attrs,
                         const struct cairn_kv *attrs);
int rep_object_list(void *state, struct cairn_req *req, const struct cairn_list *list);
int rep_mpu_create(void *state, struct cairn_req *req, const char *bucket, const char *key,
                   size_t n_attrs, const struct cairn_kv *attrs, char upload_id_r[128]);
int rep_mpu_put_part(void *state, struct cairn_req *req, const char *upload_id,
                     uint32_t part_number, const struct cairn_put *put,
                     struct cairn_object_info *info_r);
int rep_mpu_list_parts(void *state, struct cairn_req *req, const char *bucket, const char *key,
                       const char *upload_id, uint32_t after_part,
                       int (*emit)(void *ctx, const struct cairn_part_info *p), void *ctx);
int rep_mpu_complete(void *state, struct cairn_req *req, const char *bucket, const char *key,
                     const char *upload_id, const struct cairn_part_info *parts, size_t n_parts,
                     uint64_t min_part_size, enum cairn_versioning versioning, size_t n_attrs,
                     const struct cairn_kv *attrs, struct cairn_object_info *info_r);
int rep_mpu_abort(void *state, struct cairn_req *req, const char *bucket, const char *key,
                  const char *upload_id);
int rep_mpu_list(void *state, struct cairn_req *req, const char *bucket, const char *prefix,
                 const char *key_marker, const char *upload_id_marker,
                 int (*emit)(void *ctx, const struct cairn_upload_info *u), void *ctx);
int rep_heal(void *state, struct cairn_req *req, const char *bucket, const char *key);

#endif
