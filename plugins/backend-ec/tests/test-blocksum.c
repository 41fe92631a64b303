/*
 * test-blocksum.c -- the per-version shard block checksum (sc-blockfile.h):
 * known answers of every algorithm, the "block_sum" metadata field (absent
 * means xxh64, unknown names refuse to parse), and, through the plugin's
 * descriptor, that objects written before the field existed -- XXH64 blocks
 * and no "block_sum" -- are still read, and healed in their own format.
 *
 * Built twice: as test-ec-blocksum (backend-ec) and, with BLOCKSUM_REPLICA,
 * as test-rep-blocksum (backend-replica).
 */
#include "fake-core.h"
#include "sc-blockfile.h"
#include "sc-frame.h"
#include "sc-objmeta.h"
#include "sc-util.h"
#include "tap.h"
#include "test-files.h"

#ifndef BLOCKSUM_REPLICA
#include "ec-codec.h"
#endif

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define N_DRIVES 4

static char *root;

static void *start(void)
{
    static struct cairn_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    for (int i = 0; i < N_DRIVES; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/d%d", root, i);
        mkdir(p, 0755);
        fc_config_list_add(&cfg, "drives", p);
    }
    fc_config_set(&cfg, "block_size", "65536");
    fc_config_set(&cfg, "inline_limit", "4096");
    fc_config_set(&cfg, "sync", "none");
    fc_config_set(&cfg, "scanner_interval_s", "0");
#ifdef BLOCKSUM_REPLICA
    fc_config_set(&cfg, "copies", "3");
#else
    fc_config_set(&cfg, "codec", "isal-rs");
#endif
    void *st = NULL;
    return cairn_plugin.init(fc_services(), &cfg, &st) ? NULL : st;
}

/* Bytes of one shard block of a full stripe of version v. */
static size_t full_len(const struct sc_version *v)
{
#ifdef BLOCKSUM_REPLICA
    return (size_t)v->block_size;
#else
    return ec_shard_len(v->codec, v->k, v->block_size);
#endif
}

/* Re-sums every block of a shard file with `alg`; the number of blocks. */
static int resum_file(const char *path, size_t full, enum sc_block_sum alg)
{
    size_t len;
    uint8_t *b = tf_read_file(path, &len);
    if (!b)
        return -1;
    int n = 0;
    for (size_t off = 0; off + SC_BLOCK_SUM <= len; off += SC_BLOCK_SUM + full, n++) {
        size_t dl = len - off - SC_BLOCK_SUM < full ? len - off - SC_BLOCK_SUM : full;
        sc_put_be64(b + off, sc_block_sum(alg, b + off + SC_BLOCK_SUM, dl));
    }
    tf_write_file(path, b, len);
    free(b);
    return n;
}

/* 1 when every block of the shard file verifies with `alg`. */
static int file_sums_with(const char *path, size_t full, enum sc_block_sum alg)
{
    size_t len;
    uint8_t *b = tf_read_file(path, &len);
    if (!b)
        return 0;
    int good = len > 0;
    for (size_t off = 0; off + SC_BLOCK_SUM <= len && good; off += SC_BLOCK_SUM + full) {
        size_t dl = len - off - SC_BLOCK_SUM < full ? len - off - SC_BLOCK_SUM : full;
        good = sc_get_be64(b + off) == sc_block_sum(alg, b + off + SC_BLOCK_SUM, dl);
    }
    free(b);
    return good;
}

/* Reads a .obj file's versions; 0 or -1. */
static int load_meta(const char *path, struct sc_objmeta *m)
{
    size_t len, plen;
    const uint8_t *payload;
    uint8_t *b = tf_read_file(path, &len);
    int rc = b && sc_frame_unwrap(b, len, &payload, &plen) == 0 &&
                     sc_objmeta_parse((const char *)payload, plen, m) == 0
                 ? 0
                 : -1;
    free(b);
    return rc;
}

/*
 * Turns every object under the drives into what a server from before the
 * "block_sum" field wrote: XXH64 block sums (part files and inline shards)
 * and no "block_sum" in the metadata.  Returns the number of part files.
 */
static int make_legacy(void)
{
    char **files = NULL;
    size_t nf = 0;
    int parts = 0;
    tf_find_files(root, ".obj", 1, &files, &nf);
    for (size_t i = 0; i < nf; i++) {
        struct sc_objmeta m;
        if (load_meta(files[i], &m))
            continue;
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", files[i]);
        *strrchr(dir, '/') = '\0';
        for (size_t j = 0; j < m.n; j++) {
            struct sc_version *v = &m.v[j];
            if (v->delete_marker)
                continue;
            v->block_sum = SC_SUM_XXH64;
            if (v->has_inline && v->inline_len >= SC_BLOCK_SUM)
                sc_put_be64(v->inline_data, sc_block_sum(SC_SUM_XXH64,
                                                         v->inline_data + SC_BLOCK_SUM,
                                                         v->inline_len - SC_BLOCK_SUM));
            for (size_t p = 0; v->data_dir[0] && p < v->n_parts; p++) {
                char pp[PATH_MAX + 64];
                snprintf(pp, sizeof(pp), "%s/.d.%s/part.%u", dir, v->data_dir,
                         v->parts[p].number);
                if (resum_file(pp, full_len(v), SC_SUM_XXH64) > 0)
                    parts++;
            }
        }
        char *js = sc_objmeta_serialize(&m, NULL);
        json_t *root_j = json_loads(js, 0, NULL), *vers = json_object_get(root_j, "versions");
        for (size_t j = 0; j < json_array_size(vers); j++)
            json_object_del(json_array_get(vers, j), "block_sum");
        char *legacy = json_dumps(root_j, JSON_COMPACT);
        size_t flen;
        uint8_t *framed = sc_frame_wrap(legacy, strlen(legacy), &flen);
        tf_write_file(files[i], framed, flen);
        free(framed);
        free(legacy);
        json_decref(root_j);
        free(js);
        sc_objmeta_clear(&m);
    }
    tf_free_files(files, nf);
    return parts;
}

/* The algorithm every .obj names for key `leaf` (-1 when they differ or none). */
static int meta_sum(const char *leaf)
{
    char **files = NULL;
    size_t nf = 0;
    int alg = -2;
    tf_find_files(root, ".obj", 1, &files, &nf);
    for (size_t i = 0; i < nf; i++) {
        struct sc_objmeta m;
        if (strstr(files[i], leaf) && load_meta(files[i], &m) == 0) {
            if (m.n && alg == -2)
                alg = (int)m.v[0].block_sum;
            else if (m.n && alg != (int)m.v[0].block_sum)
                alg = -1;
            sc_objmeta_clear(&m);
        }
    }
    tf_free_files(files, nf);
    return alg < 0 ? -1 : alg;
}

static int get_is(void *st, const char *key, const uint8_t *want, size_t len)
{
    uint8_t *got = NULL;
    size_t glen = 0;
    int ok = fc_get(st, "bs", key, NULL, 0, UINT64_MAX, &got, &glen, NULL) == 0 &&
             glen == len && !memcmp(got, want, len);
    free(got);
    return ok;
}

static void test_known_answers(void)
{
    const char *s = "123456789";
    is_int(sc_block_sum(SC_SUM_CRC64XZ, s, 9) == 0x995DC9BBDF1939FAull, 1,
           "crc64xz(\"123456789\") is the CRC-64/XZ check value 0x995DC9BBDF1939FA");
    is_int(sc_block_sum(SC_SUM_XXH64, s, 9) == 0x8CB841DB40E6AE83ull, 1,
           "xxh64(\"123456789\", seed 0) is 0x8CB841DB40E6AE83");
    is_int(sc_block_sum(SC_SUM_CRC64XZ, "", 0) == 0, 1, "crc64xz of nothing is 0");
    /* the run-time dispatched kernel agrees with a bitwise CRC on a long,
     * unaligned buffer (covers the folding and tail paths) */
    size_t n = 100003;
    uint8_t *b = malloc(n);
    fc_fill(b, n, 7);
    uint64_t crc = ~0ull;
    for (size_t i = 1; i < n; i++) {
        crc ^= b[i];
        for (int k = 0; k < 8; k++)
            crc = crc & 1 ? (crc >> 1) ^ 0xC96C5795D7870F42ull : crc >> 1;
    }
    is_int(sc_block_sum(SC_SUM_CRC64XZ, b + 1, n - 1) == ~crc, 1,
           "crc64xz over 100002 unaligned bytes matches a bitwise CRC-64/XZ");
    free(b);
    enum sc_block_sum a = SC_SUM_CRC64XZ;
    is_int(sc_block_sum_parse(NULL, &a) == 0 && a == SC_SUM_XXH64, 1, "absent block_sum: xxh64");
    is_int(sc_block_sum_parse("crc64xz", &a) == 0 && a == SC_SUM_CRC64XZ, 1, "\"crc64xz\" parses");
    is_int(sc_block_sum_parse("xxh64", &a) == 0 && a == SC_SUM_XXH64, 1, "\"xxh64\" parses");
    is_int(sc_block_sum_parse("sha999", &a), -1, "an unknown name is refused");
    is_str(sc_block_sum_name(SC_SUM_DEFAULT), "crc64xz", "new writes use crc64xz");
}

static void test_metadata_field(void)
{
    const char *legacy = "{\"format\":1,\"versions\":[{\"id\":\"null\",\"mtime\":1,\"size\":5,"
                         "\"etag\":\"e\",\"delete_marker\":false,\"parts_count\":0,\"attrs\":[],"
                         "\"codec\":\"isal-rs\",\"k\":2,\"m\":2,\"block_size\":65536,"
                         "\"shard_index\":0,\"dist\":[0,1,2,3],\"data_dir\":\"\",\"parts\":[]}]}";
    struct sc_objmeta m;
    is_int(sc_objmeta_parse(legacy, strlen(legacy), &m), 0, "metadata without block_sum parses");
    is_int(m.n == 1 && m.v[0].block_sum == SC_SUM_XXH64, 1, "... as xxh64");
    uint64_t sig_legacy = sc_objmeta_signature(&m);
    char *js = sc_objmeta_serialize(&m, NULL);
    ok(js && strstr(js, "\"block_sum\":\"xxh64\""), "serialized again, it names xxh64");
    struct sc_objmeta m2;
    is_int(js && sc_objmeta_parse(js, strlen(js), &m2) == 0 && m2.v[0].block_sum == SC_SUM_XXH64 &&
               sc_objmeta_signature(&m2) == sig_legacy,
           1, "... and reads back as the same version (same signature)");
    sc_objmeta_clear(&m2);
    free(js);
    m.v[0].block_sum = SC_SUM_CRC64XZ;
    ok(sc_objmeta_signature(&m) != sig_legacy, "the sum is part of the cross-drive signature");
    js = sc_objmeta_serialize(&m, NULL);
    ok(js && strstr(js, "\"block_sum\":\"crc64xz\""), "a crc64xz version names it");
    free(js);
    sc_objmeta_clear(&m);
    char bad[1024];
    snprintf(bad, sizeof(bad), "%.*s,\"block_sum\":\"sha999\"}]}", (int)strlen(legacy) - 3,
             legacy);
    is_int(sc_objmeta_parse(bad, strlen(bad), &m), CAIRN_E_CORRUPT,
           "an unknown block_sum makes the metadata unreadable (not a checksum mismatch)");
    snprintf(bad, sizeof(bad), "%.*s,\"block_sum\":7}]}", (int)strlen(legacy) - 3, legacy);
    is_int(sc_objmeta_parse(bad, strlen(bad), &m), CAIRN_E_CORRUPT, "a non-string block_sum too");
}

static void test_legacy_objects(void)
{
    void *st = start();
    ok(st != NULL, "plugin started");
    if (!st)
        return;
    fc_create_bucket(st, "bs");
    size_t big_len = 300000, small_len = 1000;
    uint8_t *big = malloc(big_len), *small = malloc(small_len);
    fc_fill(big, big_len, 11);
    fc_fill(small, small_len, 12);
    is_int(fc_put(st, "bs", "big", big, big_len, CAIRN_VERSIONING_OFF, NULL, NULL), 0,
           "PUT 300000 bytes (5 blocks)");
    is_int(fc_put(st, "bs", "small", small, small_len, CAIRN_VERSIONING_OFF, NULL, NULL), 0,
           "PUT 1000 bytes (inline)");
    is_int(meta_sum("/big/"), SC_SUM_CRC64XZ, "new sharded version records crc64xz");
    is_int(meta_sum("/small/"), SC_SUM_CRC64XZ, "new inline version records crc64xz");
    cairn_plugin.fini(st);

    int parts = make_legacy();
    ok(parts >= 3, "rewrote %d part files and every .obj in the pre-block_sum format", parts);
    is_int(meta_sum("/big/"), SC_SUM_XXH64, "legacy metadata reads as xxh64");

    st = start();
    ok(get_is(st, "big", big, big_len), "legacy sharded object reads byte-exact");
    ok(get_is(st, "small", small, small_len), "legacy inline object reads byte-exact");
    uint8_t *got = NULL;
    size_t glen = 0;
    ok(fc_get(st, "bs", "big", NULL, 70000, 100000, &got, &glen, NULL) == 0 && glen == 100000 &&
           !memcmp(got, big + 70000, glen),
       "legacy sharded object: a range across blocks");
    free(got);

    /* damage: one part file removed, another's byte flipped (at most m=1 or
     * copies-1 bad), one .obj removed; heal must rebuild them as xxh64 */
    char **pf = NULL, **of = NULL;
    size_t npf = 0, nof = 0;
    tf_find_files(root, "part.1", 1, &pf, &npf);
    tf_find_files(root, ".obj", 1, &of, &nof);
    size_t l0 = 0, l1 = 0;
    uint8_t *orig0 = npf >= 2 ? tf_read_file(pf[0], &l0) : NULL;
    uint8_t *orig1 = npf >= 2 ? tf_read_file(pf[1], &l1) : NULL;
    struct sc_objmeta bm = {0, NULL};
    for (size_t i = 0; i < nof && !bm.n; i++)
        if (strstr(of[i], "/big/"))
            load_meta(of[i], &bm);
    int all_xxh = bm.n > 0 && npf >= 2, any_crc = 0;
    for (size_t i = 0; all_xxh && i < npf; i++) {
        all_xxh = file_sums_with(pf[i], full_len(&bm.v[0]), SC_SUM_XXH64);
        any_crc |= file_sums_with(pf[i], full_len(&bm.v[0]), SC_SUM_CRC64XZ);
    }
    ok(orig0 && orig1 && all_xxh && !any_crc, "%zu part files, every block sums as xxh64 only",
       npf);
    sc_objmeta_clear(&bm);
    remove(pf[0]);
    if (orig1) {
        uint8_t *b = malloc(l1);
        memcpy(b, orig1, l1);
        b[l1 / 2] ^= 0x40;
        tf_write_file(pf[1], b, l1);
        free(b);
    }
    char small_obj[PATH_MAX] = "";
    for (size_t i = 0; i < nof; i++)
        if (strstr(of[i], "/small/") && !small_obj[0]) {
            snprintf(small_obj, sizeof(small_obj), "%s", of[i]);
            remove(of[i]);
        }
    ok(get_is(st, "big", big, big_len), "damaged legacy object still reads byte-exact");
    struct cairn_req *r = fc_req_new();
    is_int(FC_OPS->heal(st, r, "bs", "big"), 0, "heal big");
    is_int(FC_OPS->heal(st, r, "bs", "small"), 0, "heal small");
    fc_req_free(r);
    size_t n0 = 0, n1 = 0;
    uint8_t *h0 = tf_read_file(pf[0], &n0), *h1 = tf_read_file(pf[1], &n1);
    ok(h0 && n0 == l0 && !memcmp(h0, orig0, l0), "removed part file rebuilt byte-exact (xxh64)");
    ok(h1 && n1 == l1 && !memcmp(h1, orig1, l1), "corrupt part file rebuilt byte-exact (xxh64)");
    struct sc_objmeta m;
    ok(small_obj[0] && load_meta(small_obj, &m) == 0 && m.n == 1 &&
           m.v[0].block_sum == SC_SUM_XXH64 && m.v[0].has_inline &&
           sc_get_be64(m.v[0].inline_data) ==
               sc_block_sum(SC_SUM_XXH64, m.v[0].inline_data + SC_BLOCK_SUM,
                            m.v[0].inline_len - SC_BLOCK_SUM),
       "removed inline metadata rebuilt, still xxh64, its shard verifies");
    if (small_obj[0] && m.n)
        sc_objmeta_clear(&m);
    ok(get_is(st, "small", small, small_len), "healed legacy inline object reads byte-exact");
    free(h0);
    free(h1);
    free(orig0);
    free(orig1);

    /* overwriting a legacy object gives a crc64xz version */
    is_int(fc_put(st, "bs", "big", small, small_len, CAIRN_VERSIONING_OFF, NULL, NULL), 0,
           "overwrite the legacy object");
    is_int(meta_sum("/big/"), SC_SUM_CRC64XZ, "the new version records crc64xz");
    ok(get_is(st, "big", small, small_len), "and reads back");
    tf_free_files(pf, npf);
    tf_free_files(of, nof);
    free(big);
    free(small);
    cairn_plugin.fini(st);
}

int main(void)
{
    root = fc_tmpdir("blocksum");
    test_known_answers();
    test_metadata_field();
    test_legacy_objects();
    fc_rmtree(root);
    free(root);
    return tap_done();
}
