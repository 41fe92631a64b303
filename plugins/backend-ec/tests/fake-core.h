/*
 * fake-core.h -- a small fake of the cairn core for backend-ec's unit tests:
 * a services table (config from an in-memory table, request arenas, bodies
 * from/to memory, OpenSSL hashes) and helpers that drive the plugin.
 */
#ifndef CAIRN_EC_FAKE_CORE_H
#define CAIRN_EC_FAKE_CORE_H

#include <cairn/plugin.h>
#include <stddef.h>
#include <stdint.h>

struct cairn_req {
    void **blocks;
    size_t n_blocks;
    const uint8_t *body;
    size_t body_len, body_pos;
    int body_error;       /* returned by body_read at the end instead of 0 */
    uint8_t *out;         /* response body */
    size_t out_len, out_cap;
};

struct cairn_config {
    int n;
    char name[64][64];
    char value[64][256];
    int n_lists;
    char list_name[4][64];
    int list_n[4];
    char list_items[4][32][256];
};

/* The services table (log lines go to stderr prefixed "# " when verbose). */
const struct cairn_services *fc_services(void);
extern int fc_verbose;
/* Counts of warnings and errors logged since start. */
extern int fc_warnings;

void fc_config_set(struct cairn_config *c, const char *name, const char *value);
void fc_config_list_add(struct cairn_config *c, const char *name, const char *item);

struct cairn_req *fc_req_new(void);
void fc_req_free(struct cairn_req *r);

/* The plugin under test (linked in). */
extern const struct cairn_plugin_descriptor cairn_plugin;
#define FC_OPS (cairn_plugin.backend)

/* PUT with an MD5 etag computed here; attrs optional (NULL-terminated pairs). */
int fc_put(void *st, const char *bucket, const char *key, const void *data, size_t len,
           enum cairn_versioning v, const char *const *attrs, struct cairn_object_info *info_r);
/*
 * GET of [off, off+len) (len UINT64_MAX: to the end).  On success *data_r is
 * malloc'd (free it) and info_r filled (attrs not kept).  head: no body.
 */
int fc_get(void *st, const char *bucket, const char *key, const char *version, uint64_t off,
           uint64_t len, uint8_t **data_r, size_t *len_r, struct cairn_object_info *info_r);
int fc_create_bucket(void *st, const char *bucket);
/* MD5 hex of a buffer into out (33 bytes). */
void fc_md5_hex(const void *data, size_t len, char out[33]);
/* Fills with deterministic pseudo-random bytes from `seed`. */
void fc_fill(uint8_t *buf, size_t len, uint64_t seed);

/* Listing into an array of "O:key" / "P:prefix" strings (malloc'd; fc_list_free). */
int fc_list(void *st, const char *bucket, const char *prefix, const char *delim, const char *after,
            int versions, int max, char ***out_r, size_t *n_r);
void fc_list_free(char **out, size_t n);

/* Makes a fresh temp directory under $CAIRN_TEST_TMPDIR, else /dev/shm, else
 * $TMPDIR or /tmp; returns a malloc'd path. */
char *fc_tmpdir(const char *tag);
/* rm -rf */
void fc_rmtree(const char *path);

#endif
