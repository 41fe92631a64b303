/*
 * sc-bucket.h -- buckets and their configuration documents, as both storage
 * backends keep them.
 *
 * A bucket is a directory (its encoded name) on every drive holding
 * ".bucket" (framed JSON: name, created, owner) and ".config/<encoded name>"
 * documents.  These small documents are written to every online drive (a
 * write succeeds on a majority of all drives) and read by a vote of the
 * drives (struct sc_buckets says which vote).  What differs between the
 * backends is the vote and what decides whether a bucket still has content.
 */
#ifndef CAIRN_SC_BUCKET_H
#define CAIRN_SC_BUCKET_H

#include <cairn/plugin.h>
#include <stddef.h>
#include <stdint.h>

#include "sc-drive.h"
#include "sc-walk.h"

#define SC_BUCKET_FILE ".bucket"
#define SC_CONFIG_DIR ".config"
#define SC_CONFIG_MAX (20u << 20) /* the largest configuration document */
#define SC_BUCKET_FILE_MAX 65536

/* How drives that disagree about a document are settled. */
enum sc_vote {
    /*
     * backend-ec: at least half the drives must answer; the payload most of
     * them hold wins (absent counts as a value), a present one on a tie.
     * A deleted document is removed.
     */
    SC_VOTE_MAJORITY,
    /*
     * backend-replica: one answering drive is enough; any present payload
     * beats absent (drives that lost their contents must not hide a bucket
     * the others still have), then the most common one.  So a deleted
     * configuration document is written as a tombstone, not removed.
     */
    SC_VOTE_PRESENT,
};

/* A backend's view of its bucket documents (built from its state per call). */
struct sc_buckets {
    const struct cairn_services *sv;
    struct sc_drive *const *drives;
    size_t n_drives;
    struct sc_dircache *dircache; /* for the emptiness walk */
    int sync;                     /* fsync what is written */
    enum sc_vote vote;
};

/* The drive path of a bucket (its encoded name); CAIRN_E_INVALID_BUCKET_NAME. */
int sc_bucket_rel(const char *bucket, char *out, size_t cap);

/* The drive path of an object's directory, "<bucket>/<encoded key>"; 0,
 * CAIRN_E_INVALID_BUCKET_NAME, CAIRN_E_INVALID_OBJECT_NAME or
 * CAIRN_E_KEY_TOO_LONG. */
int sc_bucket_key_rel(const char *bucket, const char *key, char *out, size_t cap);

struct sc_qmeta;

/*
 * Before a commit writes the head of a key on drive `pos` of q: when q found
 * no head file there, makes the key's directory (mkdir_p: a new directory is
 * fsynced into its parent, as the loop in bench/durable-loop.c does first),
 * so the head's rename succeeds at its first try instead of failing with
 * ENOENT and being retried after the mkdir.  Nothing to do for a drive that
 * has the file or for a .v/ file.  0 or a negative errno.
 */
int sc_key_dir_prepare(const struct sc_qmeta *q, int pos);

/*
 * Reads document `rel` (at most `max` bytes) from every online drive and
 * settles on one by b->vote.  0 with *data_r (malloc'd, NUL-terminated) or
 * NULL when the vote says absent (or a tombstone); CAIRN_E_READ_QUORUM when
 * too few drives answered, CAIRN_E_NOMEM.  *unanimous_r (optional) is 1 when
 * every drive holds the winning payload.
 */
int sc_bucket_doc_read(const struct sc_buckets *b, const char *rel, size_t max, char **data_r,
                       size_t *len_r, int *unanimous_r);

/* Writes `data` as document `rel` on every online drive, or removes it when
 * data is NULL.  0 when a majority of all drives did, else
 * CAIRN_E_WRITE_QUORUM. */
int sc_bucket_doc_write(const struct sc_buckets *b, const char *rel, const void *data,
                        size_t len);

/* The bucket's .bucket document: 0 (with *info_r, strings in request memory,
 * when info_r is not NULL), CAIRN_E_NO_SUCH_BUCKET, CAIRN_E_CORRUPT or a read
 * error. */
int sc_bucket_head(const struct sc_buckets *b, struct cairn_req *req, const char *bucket,
                   struct cairn_bucket_info *info_r);

/* Makes the bucket directory on every online drive and writes its .bucket
 * document.  0, CAIRN_E_BUCKET_OWNED_BY_YOU when it exists, or an error. */
int sc_bucket_create(const struct sc_buckets *b, struct cairn_req *req,
                     const struct cairn_bucket_info *info);

/* The bucket names found on any online drive, decoded, sorted, without
 * duplicates (malloc'd; free with sc_names_free).  Always 0. */
int sc_bucket_names(const struct sc_buckets *b, char ***names_r, size_t *n_r);

/* Emits every bucket whose .bucket document reads, in name order. */
int sc_bucket_list(const struct sc_buckets *b, struct cairn_req *req,
                   int (*emit)(void *ctx, const struct cairn_bucket_info *info), void *ctx);

/*
 * Whether key `key` (seen by the listing walk) still counts as content of
 * `bucket`: 1 yes, 0 no (a key whose metadata is only a tombstone).  NULL:
 * every key the walk sees counts.
 */
typedef int (*sc_key_counts_fn)(void *ctx, const char *bucket, const char *key);

/*
 * Deletes an empty bucket: CAIRN_E_BUCKET_NOT_EMPTY while a key (that
 * `counts`) or a multipart upload remains; else removes the .bucket document
 * first (so a half-deleted bucket reads as absent), the uploads directory
 * and the bucket directory on every online drive.  0, CAIRN_E_NO_SUCH_BUCKET,
 * CAIRN_E_WRITE_QUORUM or a read error.
 */
int sc_bucket_delete(const struct sc_buckets *b, struct cairn_req *req, const char *bucket,
                     sc_key_counts_fn counts, void *ctx);

/* A configuration document of an existing bucket: 0 with *data_r in request
 * memory (NUL-terminated), CAIRN_E_NO_SUCH_CONFIG, CAIRN_E_NO_SUCH_BUCKET,
 * CAIRN_E_INVALID_ARGUMENT (bad name) or a read error. */
int sc_bucket_config_get(const struct sc_buckets *b, struct cairn_req *req, const char *bucket,
                         const char *name, char **data_r, size_t *len_r);

/* Stores a configuration document (at most SC_CONFIG_MAX bytes). */
int sc_bucket_config_put(const struct sc_buckets *b, struct cairn_req *req, const char *bucket,
                         const char *name, const void *data, size_t len);

/* Deletes a configuration document (absent is fine): removed under
 * SC_VOTE_MAJORITY, a tombstone under SC_VOTE_PRESENT. */
int sc_bucket_config_delete(const struct sc_buckets *b, struct cairn_req *req,
                            const char *bucket, const char *name);

/*
 * Heals the bucket's documents: puts the payload the vote settles on onto
 * every online drive that differs (or removes it there when the vote says
 * absent), for .bucket and every configuration name any drive holds.  Adds
 * what it rewrote to *healed_r and what failed to *errors_r.  0 or an error.
 */
int sc_bucket_heal(const struct sc_buckets *b, const char *bucket, uint64_t *healed_r,
                   uint64_t *errors_r);

#endif
