/*
 * ec-internal.h -- shared state and helpers of the backend-ec plugin (never
 * installed).  The plugin's files: ec-plugin.c (descriptor, init, drives and
 * formats, scanner), ec-meta.c (quorum reads and commits of object metadata),
 * ec-io.c (streaming shard writes and reads), ec-object.c (object operations),
 * ec-bucket.c (buckets, configs, listing), ec-mpu.c (multipart), ec-heal.c.
 */
#ifndef CAIRN_EC_INTERNAL_H
#define CAIRN_EC_INTERNAL_H

#include <cairn/plugin.h>
#include <pthread.h>
#include <stdint.h>

#include "ec-codec.h"
#include "sc-drive.h"
#include "sc-lock.h"
#include "sc-meta.h"
#include "sc-objmeta.h"
#include "sc-parallel.h"
#include "sc-walk.h"

#define EC_MAX_SET 16
#define EC_PATH 4096

struct ec_state {
    const struct cairn_services *sv;
    const struct cairn_config *cfg;
    struct sc_drive **drives;
    size_t n_drives, set_size, n_sets;
    int parity;        /* default (STANDARD) parity */
    char codec[32];    /* default codec */
    uint64_t block_size, inline_limit;
    int sync;
    char deployment[33];
    struct sc_locks locks;        /* per key */
    struct sc_locks upload_locks; /* per multipart upload; may be held while taking a key lock */
    struct sc_dircache *dircache;
    pthread_mutex_t mu; /* codecs, drive state, scanner */
    struct ec_codec *codecs[3][EC_MAX_SET + 1][EC_MAX_SET + 1];
    /* scanner */
    pthread_t scanner;
    int scanner_running, stop;
    pthread_cond_t cond;
    int64_t scanner_interval_s;
    int heal_pending; /* a drive was found empty: heal everything soon */
    int fresh;        /* no drive had a format: a new deployment */
    /* counters (also sent to metric_add) */
    uint64_t healed_shards, healed_meta, heal_errors;
};

/* snprintf that callers use for paths; truncation is checked by the callers
 * through the sizes they pass (returns what vsnprintf returns). */
int ec_fmt(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));


/* The drives of set `s` (set_size of them). */
static inline struct sc_drive **ec_set_drives(struct ec_state *st, size_t s)
{
    return &st->drives[s * st->set_size];
}

/* The set holding bucket/key. */
size_t ec_set_of(struct ec_state *st, const char *bucket, const char *key);

/* The codec for (name, k, m), created on first use; NULL when unknown. */
struct ec_codec *ec_codec_get(struct ec_state *st, const char *name, int k, int m);

/* Parity and codec for a PUT's x-amz-storage-class attr; CAIRN_E_INVALID_STORAGE_CLASS. */
int ec_storage_class(struct ec_state *st, size_t n_attrs, const struct cairn_kv *attrs,
                     int *m_r, const char **codec_r);

/* Write quorum for k+m as MinIO: k, plus one when k == m. */
static inline int ec_write_quorum(int k, int m)
{
    return k + (k == m ? 1 : 0);
}

/* Shard placement: dist[shard] = drive position in the set, rotated per key. */
void ec_distribution(const char *bucket, const char *key, int n, uint8_t *dist);

/* Paths (relative to a drive root). 0 or CAIRN_E_KEY_TOO_LONG/INVALID_*. */
int ec_bucket_rel(const char *bucket, char *out, size_t cap);
int ec_key_rel(const char *bucket, const char *key, char *out, size_t cap);

/* 1 when the bucket exists on any online drive of the set (cheap check). */
int ec_bucket_exists(struct ec_state *st, size_t set, const char *bucket);

/* Maps a negative errno from a drive to a CAIRN_E_* code. */
int ec_errno(int rc);

/* Re-checks drive formats (a wiped drive gets formatted and marked for heal). */
void ec_check_drives(struct ec_state *st);

/* ---- metadata quorum (ec-meta.c) ---- */

/* A key's metadata file as read from the drives of its set: the shared type
 * of sc-meta.h under the name the ec files use. */
#define ec_qmeta sc_qmeta

/* The commit policy of backend-ec (inline bytes are per-drive shards, no
 * tombstones). */
void ec_meta_policy(struct ec_state *st, struct sc_meta_policy *p);

/*
 * Reads a key's head metadata (.obj: its latest version) from every drive of
 * its set and picks the copy k drives agree on.  Returns 0 (q->chosen >= 0),
 * CAIRN_E_NO_SUCH_KEY (absent on enough drives), or CAIRN_E_READ_QUORUM.
 * Always release q with ec_qmeta_clear.
 */
int ec_meta_read(struct ec_state *st, size_t set, const char *bucket, const char *key,
                 struct ec_qmeta *q);
/* The same for the older version file .v/<vname> (vname NULL: the head). */
int ec_meta_read_at(struct ec_state *st, size_t set, const char *bucket, const char *key,
                    const char *vname, struct ec_qmeta *q);
/* Every version of the key, newest first, for ListObjectVersions
 * (sc_meta_read_all); takes the key's read lock.  0 or an error; clear *all. */
int ec_meta_read_all(struct ec_state *st, size_t set, const char *bucket, const char *key,
                     struct sc_objmeta *all);

/* One key with backend-ec's read and commit rules, for the shared version
 * operations of sc-meta.h (ops.be points back to it). */
struct ec_key {
    struct ec_state *st;
    size_t set;
    const char *bucket, *key;
    struct sc_meta_key ops;
};
void ec_key_init(struct ec_key *k, struct ec_state *st, size_t set, const char *bucket,
                 const char *key);

static inline void ec_qmeta_clear(struct ec_qmeta *q)
{
    sc_qmeta_clear(q);
}

/* Per-drive step of a commit (sc_mutate_fn). */
typedef sc_mutate_fn ec_mutate_fn;

/* sc_meta_commit on the key's drives with backend-ec's policy; `promote` is
 * what an emptied head gives way to (a loaded .v file), or NULL. */
int ec_meta_commit(struct ec_state *st, size_t set, const char *bucket, const char *key,
                   struct ec_qmeta *q, int wq, ec_mutate_fn mutate, void *ctx,
                   const struct ec_qmeta *promote);

/* The agreed version list (q->m[q->chosen]) or an empty list. */
static inline const struct sc_objmeta *ec_qmeta_agreed(const struct ec_qmeta *q)
{
    return sc_qmeta_agreed(q);
}

/* Removes data dir ".d.<id>" of a key on every online drive of the set. */
void ec_remove_data_dir(struct ec_state *st, size_t set, const char *bucket, const char *key,
                        const char *data_dir);

/* Fills a cairn_object_info from a version (attrs copied into request memory). */
int ec_fill_info(struct ec_state *st, struct cairn_req *req, const struct sc_version *v,
                 int is_latest, enum cairn_versioning shown, struct cairn_object_info *info);

/* ---- shard I/O (ec-io.c) ---- */

/* The result of streaming a body into shards. */
struct ec_written {
    char codec[32];
    int k, m;
    uint64_t block_size;
    uint8_t dist[SC_MAX_SHARDS];
    uint64_t size;
    char id[33];                    /* tmp files SC_TMP_DIR/<id>.<shard> */
    int ok[SC_MAX_SHARDS];          /* shard written and synced */
    int is_inline;
    uint8_t *inl[SC_MAX_SHARDS];    /* inline shard (block format) */
    size_t inl_len[SC_MAX_SHARDS];
};

/*
 * Reads the request body with body_read and writes k+m shards to temporary
 * files on the set's drives (or keeps them inline when `allow_inline` and the
 * body is small).  Commits nothing.  Returns 0 after body_read returned 0 and
 * write quorum holds; else removes what it wrote and returns the error.
 */
int ec_write_body(struct ec_state *st, struct cairn_req *req, size_t set, const char *bucket,
                  const char *key, int m, const char *codec, int allow_inline,
                  struct ec_written *w);
/* Removes leftover temporary files and frees inline buffers. */
void ec_written_clear(struct ec_state *st, size_t set, struct ec_written *w);

/* Frees the stripe buffers kept for later GETs that nobody took for idle_ms
 * (they are kept so a busy server does not page-fault fresh ones, and given
 * back once it is quiet); returns how many were freed. */
size_t ec_read_release_idle(int64_t idle_ms);

/*
 * Streams bytes [off, off+len) of version `v` (agreed metadata in q) to
 * body_write.  Shards that fail (missing, unreadable, bad checksum) are
 * reconstructed; *damaged_r is set when any was found.
 */
int ec_read_range(struct ec_state *st, struct cairn_req *req, size_t set, const char *bucket,
                  const char *key, const struct ec_qmeta *q, const struct sc_version *v,
                  uint64_t off, uint64_t len, int *damaged_r);

/* The version entry with `id` in drive `pos`'s own metadata, if it agrees. */
static inline const struct sc_version *ec_drive_version(const struct ec_qmeta *q, int pos,
                                                        const char *id)
{
    return sc_qmeta_drive_version(q, pos, id);
}

/* ---- heal (ec-heal.c) ---- */
/* Heals one key (every version); takes the key's write lock. */
int ec_heal_key(struct ec_state *st, struct cairn_req *req, const char *bucket, const char *key);
/* Heals every bucket and object. */
int ec_heal_all(struct ec_state *st, struct cairn_req *req);

/* ---- ops tables pieces ---- */
int ec_bucket_create(void *state, struct cairn_req *req, const struct cairn_bucket_info *b);
int ec_bucket_delete(void *state, struct cairn_req *req, const char *bucket);
int ec_bucket_head(void *state, struct cairn_req *req, const char *bucket,
                   struct cairn_bucket_info *info_r);
int ec_bucket_list(void *state, struct cairn_req *req,
                   int (*emit)(void *ctx, const struct cairn_bucket_info *b), void *ctx);
int ec_bucket_config_get(void *state, struct cairn_req *req, const char *bucket, const char *name,
                         char **data_r, size_t *len_r);
int ec_bucket_config_put(void *state, struct cairn_req *req, const char *bucket, const char *name,
                         const void *data, size_t len);
int ec_bucket_config_delete(void *state, struct cairn_req *req, const char *bucket,
                            const char *name);
int ec_object_put(void *state, struct cairn_req *req, const struct cairn_put *put,
                  struct cairn_object_info *info_r);
int ec_object_get(void *state, struct cairn_req *req, const struct cairn_get *get);
int ec_object_delete(void *state, struct cairn_req *req, const char *bucket, const char *key,
                     const char *version_id, enum cairn_versioning versioning,
                     struct cairn_object_info *info_r);
int ec_object_set_attrs(void *state, struct cairn_req *req, const char *bucket, const char *key,
                        const char *version_id, size_t n_attrs, const struct cairn_kv *attrs);
int ec_object_list(void *state, struct cairn_req *req, const struct cairn_list *list);
int ec_mpu_create(void *state, struct cairn_req *req, const char *bucket, const char *key,
                  size_t n_attrs, const struct cairn_kv *attrs, char upload_id_r[128]);
int ec_mpu_put_part(void *state, struct cairn_req *req, const char *upload_id,
                    uint32_t part_number, const struct cairn_put *put,
                    struct cairn_object_info *info_r);
int ec_mpu_list_parts(void *state, struct cairn_req *req, const char *bucket, const char *key,
                      const char *upload_id, uint32_t after_part,
                      int (*emit)(void *ctx, const struct cairn_part_info *p), void *ctx);
int ec_mpu_complete(void *state, struct cairn_req *req, const char *bucket, const char *key,
                    const char *upload_id, const struct cairn_part_info *parts, size_t n_parts,
                    uint64_t min_part_size, enum cairn_versioning versioning, size_t n_attrs,
                    const struct cairn_kv *attrs, struct cairn_object_info *info_r);
int ec_mpu_abort(void *state, struct cairn_req *req, const char *bucket, const char *key,
                 const char *upload_id);
int ec_mpu_list(void *state, struct cairn_req *req, const char *bucket, const char *prefix,
                const char *key_marker, const char *upload_id_marker,
                int (*emit)(void *ctx, const struct cairn_upload_info *u), void *ctx);
int ec_heal(void *state, struct cairn_req *req, const char *bucket, const char *key);

/* Version commit shared by PUT and multipart complete: adds `nv` (per drive:
 * shard index and inline data from w) to bucket/key under versioning rules. */
int ec_commit_version(struct ec_state *st, struct cairn_req *req, size_t set, const char *bucket,
                      const char *key, enum cairn_versioning versioning, struct sc_version *nv,
                      const struct ec_written *w, const char *tmp_prefix_or_null,
                      int (*move_data)(void *ctx, int pos), void *move_ctx);

#endif
