/*
 * test-ec-basic.c -- backend-ec through its descriptor with a fake core:
 * buckets and configs, put/get/head/delete, ranges, inline and sharded
 * objects, empty objects, listing order, delimiter roll-up, pagination,
 * awkward keys, versioning, multipart, codecs, concurrent PUTs of one key.
 */
#include "fake-core.h"
#include "tap.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *root;

static void *start(int n, const char *codec, const char *extra_name, const char *extra_val)
{
    static struct cairn_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    for (int i = 0; i < n; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s-%d-d%d", root, codec, n, i);
        mkdir(p, 0755);
        fc_config_list_add(&cfg, "drives", p);
    }
    fc_config_set(&cfg, "codec", codec);
    fc_config_set(&cfg, "block_size", "65536");
    fc_config_set(&cfg, "inline_limit", "4096");
    fc_config_set(&cfg, "sync", "none");
    fc_config_set(&cfg, "scanner_interval_s", "0");
    if (extra_name)
        fc_config_set(&cfg, extra_name, extra_val);
    void *st = NULL;
    int rc = cairn_plugin.init(fc_services(), &cfg, &st);
    return rc ? NULL : st;
}

static int roundtrip(void *st, const char *b, const char *key, size_t size, uint64_t seed)
{
    uint8_t *data = malloc(size + 1), *got = NULL;
    size_t glen = 0;
    fc_fill(data, size, seed);
    int ok = fc_put(st, b, key, data, size, CAIRN_VERSIONING_OFF, NULL, NULL) == 0 &&
             fc_get(st, b, key, NULL, 0, UINT64_MAX, &got, &glen, NULL) == 0 && glen == size &&
             memcmp(got, data, size) == 0;
    free(data);
    free(got);
    return ok;
}

static int list_is(void *st, const char *b, const char *prefix, const char *delim,
                   const char *after, int versions, int max, const char *expect)
{
    char **out;
    size_t n;
    int rc = fc_list(st, b, prefix, delim, after, versions, max, &out, &n);
    char joined[8192] = "";
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(joined, " ");
        strncat(joined, out[i], sizeof(joined) - strlen(joined) - 2);
    }
    fc_list_free(out, n);
    int good = rc == 0 && !strcmp(joined, expect);
    if (!good)
        printf("#   list got \"%s\" (rc %d), want \"%s\"\n", joined, rc, expect);
    return good;
}

struct conc {
    void *st;
    int id;
    uint8_t *data;
    size_t len;
};

static void *conc_put(void *arg)
{
    struct conc *c = arg;
    for (int i = 0; i < 3; i++)
        fc_put(c->st, "bk", "contended", c->data, c->len, CAIRN_VERSIONING_OFF, NULL, NULL);
    return NULL;
}

static void test_core(void *st)
{
    struct cairn_req *r = fc_req_new();
    is_int(fc_create_bucket(st, "bk"), 0, "create bucket");
    is_int(fc_create_bucket(st, "bk"), CAIRN_E_BUCKET_OWNED_BY_YOU, "create again");
    is_int(fc_create_bucket(st, ".sys"), 0, "bucket starting with '.'");
    struct cairn_bucket_info bi;
    is_int(FC_OPS->bucket_head(st, r, "bk", &bi), 0, "head bucket");
    is_str(bi.owner, "tester", "owner kept");
    is_int(FC_OPS->bucket_head(st, r, "nope", &bi), CAIRN_E_NO_SUCH_BUCKET, "head missing");
    is_int(fc_put(st, "nope", "k", "x", 1, 0, NULL, NULL), CAIRN_E_NO_SUCH_BUCKET,
           "put into missing bucket");

    /* configs */
    is_int(FC_OPS->bucket_config_put(st, r, "bk", "policy", "{\"a\":1}", 7), 0, "config put");
    char *cd;
    size_t cl;
    is_int(FC_OPS->bucket_config_get(st, r, "bk", "policy", &cd, &cl), 0, "config get");
    ok(cl == 7 && !memcmp(cd, "{\"a\":1}", 7), "config content");
    is_int(FC_OPS->bucket_config_delete(st, r, "bk", "policy"), 0, "config delete");
    is_int(FC_OPS->bucket_config_get(st, r, "bk", "policy", &cd, &cl), CAIRN_E_NO_SUCH_CONFIG,
           "config gone");
    is_int(FC_OPS->bucket_config_delete(st, r, "bk", "policy"), 0, "delete absent config ok");

    /* sizes: empty, inline, one block, several blocks, unaligned */
    static const size_t sizes[] = {0, 1, 100, 4096, 4097, 65535, 65536, 65537, 300001};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++)
        ok(roundtrip(st, "bk", "obj", sizes[i], i + 1), "round trip %zu bytes", sizes[i]);

    /* head, etag, attrs, ranges */
    size_t big = 200000;
    uint8_t *data = malloc(big);
    fc_fill(data, big, 42);
    const char *attrs[] = {"content-type", "text/plain", "x-amz-meta-color", "blue", NULL};
    struct cairn_object_info info;
    is_int(fc_put(st, "bk", "big", data, big, 0, attrs, &info), 0, "put big");
    char md5[33];
    fc_md5_hex(data, big, md5);
    is_str(info.etag, md5, "etag is the md5");
    is_str(info.version_id, "", "unversioned: empty version id");
    is_int(fc_get(st, "bk", "big", NULL, 0, 0, NULL, NULL, &info), 0, "head");
    is_int(info.size, big, "head size");
    is_int(info.n_attrs, 2, "attrs stored");
    int ranges_ok = 1;
    static const uint64_t rg[][2] = {{0, 1}, {1, 10}, {65535, 2}, {65536, 65536}, {100, 150000},
                                     {199999, 1}, {131072, 68928}, {5, 0}};
    for (size_t i = 0; i < sizeof(rg) / sizeof(*rg); i++) {
        uint8_t *got;
        size_t gl;
        if (fc_get(st, "bk", "big", NULL, rg[i][0], rg[i][1], &got, &gl, NULL) ||
            gl != rg[i][1] || memcmp(got, data + rg[i][0], gl))
            ranges_ok = 0;
        free(got);
    }
    ok(ranges_ok, "ranges across block boundaries byte-exact");
    uint8_t *got;
    size_t gl;
    is_int(fc_get(st, "bk", "big", NULL, big + 1, 1, &got, &gl, NULL), CAIRN_E_INVALID_RANGE,
           "range past the end refused");
    /* body error: nothing visible */
    {
        struct cairn_req *br = fc_req_new();
        struct cairn_object_info fin = {0};
        struct cairn_put put = {"bk", "failed", 100000, 0, 0, NULL, &fin};
        br->body = data;
        br->body_len = 100000;
        br->body_error = CAIRN_E_BAD_DIGEST;
        is_int(FC_OPS->object_put(st, br, &put, NULL), CAIRN_E_BAD_DIGEST, "body error returned");
        fc_req_free(br);
        is_int(fc_get(st, "bk", "failed", NULL, 0, 0, NULL, NULL, NULL), CAIRN_E_NO_SUCH_KEY,
               "failed put left nothing");
    }
    /* delete */
    is_int(FC_OPS->object_delete(st, r, "bk", "big", NULL, 0, &info), 0, "delete");
    is_int(fc_get(st, "bk", "big", NULL, 0, 0, NULL, NULL, NULL), CAIRN_E_NO_SUCH_KEY, "gone");
    is_int(FC_OPS->object_delete(st, r, "bk", "big", NULL, 0, &info), 0, "delete absent ok");

    /* awkward keys */
    char k1024[1025];
    memset(k1024, 'w', 1024);
    k1024[1024] = 0;
    k1024[500] = '/';
    static const char *awk[] = {"a/b", "a:b", "dir/", "caf\xc3\xa9/\xe2\x82\xac", ".hidden",
                                "x/.y/..z", "sp ace", "a//b", "%41", NULL};
    int awk_ok = 1;
    for (int i = 0; awk[i]; i++)
        awk_ok &= roundtrip(st, "bk", awk[i], 10 + (size_t)i * 3000, (uint64_t)i);
    ok(awk_ok, "awkward keys round trip");
    ok(roundtrip(st, "bk", k1024, 5000, 9), "1024-byte key");
    k1024[1000] = 0;
    memset(k1024, 'v', 1000);
    ok(roundtrip(st, "bk", k1024, 70000, 9), "1000-byte single segment");
    is_int(fc_put(st, "bk", "../x", "x", 1, 0, NULL, NULL), CAIRN_E_INVALID_OBJECT_NAME,
           "../x refused");
    is_int(fc_put(st, "bk", "a/./b", "x", 1, 0, NULL, NULL), CAIRN_E_INVALID_OBJECT_NAME,
           "a/./b refused");
    char k1025[1026];
    memset(k1025, 'z', 1025);
    k1025[1025] = 0;
    is_int(fc_put(st, "bk", k1025, "x", 1, 0, NULL, NULL), CAIRN_E_KEY_TOO_LONG, "1025 refused");
    ok(roundtrip(st, ".sys", "config/iam.json", 300, 1), "object in '.'-bucket");

    /* listing */
    fc_create_bucket(st, "ls");
    static const char *lk[] = {"a-b", "a/c", "a0", "a", "b/x/1", "b/x/2", "b/y", "c", NULL};
    for (int i = 0; lk[i]; i++)
        fc_put(st, "ls", lk[i], "d", 1, 0, NULL, NULL);
    ok(list_is(st, "ls", "", "", "", 0, 0, "O:a O:a-b O:a/c O:a0 O:b/x/1 O:b/x/2 O:b/y O:c"),
       "listing in byte order");
    ok(list_is(st, "ls", "", "/", "", 0, 0, "O:a O:a-b P:a/ O:a0 P:b/ O:c"), "delimiter /");
    ok(list_is(st, "ls", "b/", "/", "", 0, 0, "P:b/x/ O:b/y"), "prefix b/ delimiter /");
    ok(list_is(st, "ls", "", "x", "", 0, 0, "O:a O:a-b O:a/c O:a0 P:b/x O:b/y O:c"),
       "delimiter x (any string)");
    ok(list_is(st, "ls", "", "", "a/c", 0, 3, "O:a0 O:b/x/1 O:b/x/2"), "page after a/c");
    ok(list_is(st, "ls", "", "/", "b/", 0, 0, "O:c"), "after a common prefix skips it");
    ok(list_is(st, "ls", "a", "", "", 0, 0, "O:a O:a-b O:a/c O:a0"), "prefix a");
    ok(list_is(st, "ls", "zz", "", "", 0, 0, ""), "prefix with nothing");

    /* versioning */
    fc_create_bucket(st, "vb");
    struct cairn_object_info v1, v2, dm;
    fc_put(st, "vb", "k", "one", 3, CAIRN_VERSIONING_ENABLED, NULL, &v1);
    fc_put(st, "vb", "k", "two!", 4, CAIRN_VERSIONING_ENABLED, NULL, &v2);
    ok(strlen(v1.version_id) == 32 && strcmp(v1.version_id, v2.version_id),
       "enabled: distinct version ids");
    is_int(fc_get(st, "vb", "k", NULL, 0, UINT64_MAX, &got, &gl, &info), 0, "get latest");
    ok(gl == 4 && !memcmp(got, "two!", 4), "latest is v2");
    free(got);
    is_int(fc_get(st, "vb", "k", v1.version_id, 0, UINT64_MAX, &got, &gl, &info), 0, "get v1");
    ok(gl == 3 && !memcmp(got, "one", 3) && !info.is_latest, "v1 content, not latest");
    free(got);
    is_int(FC_OPS->object_delete(st, r, "vb", "k", NULL, CAIRN_VERSIONING_ENABLED, &dm), 0,
           "delete adds marker");
    ok(dm.is_delete_marker && strlen(dm.version_id) == 32, "marker reported");
    is_int(fc_get(st, "vb", "k", NULL, 0, 0, NULL, NULL, NULL), CAIRN_E_NO_SUCH_KEY,
           "latest is a marker");
    is_int(fc_get(st, "vb", "k", dm.version_id, 0, 0, NULL, NULL, NULL),
           CAIRN_E_METHOD_NOT_ALLOWED, "get of a marker version");
    ok(list_is(st, "vb", "", "", "", 0, 0, ""), "marker hides the key");
    char expect[300];
    snprintf(expect, sizeof(expect), "O:k@%s(dm) O:k@%s O:k@%s", dm.version_id, v2.version_id,
             v1.version_id);
    ok(list_is(st, "vb", "", "", "", 1, 0, expect), "versions newest first");
    is_int(FC_OPS->object_delete(st, r, "vb", "k", dm.version_id, CAIRN_VERSIONING_ENABLED, &info),
           0, "delete the marker");
    is_int(fc_get(st, "vb", "k", NULL, 0, UINT64_MAX, &got, &gl, NULL), 0, "v2 back");
    free(got);
    fc_put(st, "vb", "k", "null1", 5, CAIRN_VERSIONING_SUSPENDED, NULL, &info);
    is_str(info.version_id, "null", "suspended: null version");
    fc_put(st, "vb", "k", "null2", 5, CAIRN_VERSIONING_SUSPENDED, NULL, &info);
    snprintf(expect, sizeof(expect), "O:k@null O:k@%s O:k@%s", v2.version_id, v1.version_id);
    ok(list_is(st, "vb", "", "", "", 1, 0, expect), "null version replaced");
    /* set attrs */
    struct cairn_kv tag = {"x-amz-tagging", "a=b"};
    is_int(FC_OPS->object_set_attrs(st, r, "vb", "k", v1.version_id, 1, &tag), 0, "set attrs");
    fc_get(st, "vb", "k", v1.version_id, 0, 0, NULL, NULL, &info);
    is_int(info.n_attrs, 1, "attrs replaced");

    /* multipart */
    fc_create_bucket(st, "mp");
    char uid[128], uid2[128];
    is_int(FC_OPS->mpu_create(st, r, "mp", "big/file", 1, &tag, uid), 0, "mpu create");
    is_int(FC_OPS->mpu_create(st, r, "mp", "other", 0, NULL, uid2), 0, "mpu create 2");
    size_t psz[3] = {100000, 70000, 12345};
    uint8_t *pd[3];
    struct cairn_part_info parts[3];
    char md5cat[16 * 3];
    for (int i = 0; i < 3; i++) {
        pd[i] = malloc(psz[i]);
        fc_fill(pd[i], psz[i], 100 + (uint64_t)i);
        struct cairn_req *pr = fc_req_new();
        struct cairn_object_info fin = {0}, pi;
        fin.size = psz[i];
        fc_md5_hex(pd[i], psz[i], fin.etag);
        struct cairn_put put = {"mp", "big/file", (int64_t)psz[i], 0, 0, NULL, &fin};
        pr->body = pd[i];
        pr->body_len = psz[i];
        is_int(FC_OPS->mpu_put_part(st, pr, uid, (uint32_t)i + 1, &put, &pi), 0, "part %d", i + 1);
        fc_req_free(pr);
        memset(&parts[i], 0, sizeof(parts[i]));
        parts[i].number = (uint32_t)i + 1;
        snprintf(parts[i].etag, sizeof(parts[i].etag), "%s", fin.etag);
        for (int j = 0; j < 16; j++) {
            unsigned x;
            sscanf(fin.etag + 2 * j, "%2x", &x);
            md5cat[16 * i + j] = (char)x;
        }
    }
    char **lo;
    size_t ln;
    (void)lo;
    (void)ln;
    is_int(FC_OPS->mpu_complete(st, r, "mp", "big/file", uid, parts, 3, 80000, 0, 0, NULL, &info),
           CAIRN_E_ENTITY_TOO_SMALL, "part 2 below the minimum refused");
    struct cairn_part_info badp[2] = {parts[0], parts[1]};
    badp[1].etag[0] ^= 1;
    is_int(FC_OPS->mpu_complete(st, r, "mp", "big/file", uid, badp, 2, 5, 0, 0, NULL, &info),
           CAIRN_E_INVALID_PART, "wrong etag refused");
    is_int(FC_OPS->mpu_complete(st, r, "mp", "big/file", uid, parts, 3, 5, 0, 0, NULL, &info), 0,
           "complete");
    char want_etag[80];
    fc_md5_hex(md5cat, sizeof(md5cat), want_etag);
    strcat(want_etag, "-3");
    is_str(info.etag, want_etag, "multipart etag");
    is_int(fc_get(st, "mp", "big/file", NULL, 0, UINT64_MAX, &got, &gl, &info), 0, "get mpu");
    ok(gl == psz[0] + psz[1] + psz[2] && !memcmp(got, pd[0], psz[0]) &&
           !memcmp(got + psz[0], pd[1], psz[1]) && !memcmp(got + psz[0] + psz[1], pd[2], psz[2]),
       "multipart object byte-exact");
    is_int(info.parts_count, 3, "parts count");
    free(got);
    is_int(fc_get(st, "mp", "big/file", NULL, 99990, 20, &got, &gl, NULL), 0, "range over parts");
    ok(gl == 20 && !memcmp(got, pd[0] + 99990, 10) && !memcmp(got + 10, pd[1], 10),
       "range across a part boundary");
    free(got);
    is_int(FC_OPS->mpu_abort(st, r, "mp", "big/file", uid), CAIRN_E_NO_SUCH_UPLOAD,
           "completed upload is gone");
    is_int(FC_OPS->mpu_abort(st, r, "mp", "other", uid2), 0, "abort");
    is_int(FC_OPS->mpu_abort(st, r, "mp", "other", "../../etc"), CAIRN_E_NO_SUCH_UPLOAD,
           "bad upload id");
    for (int i = 0; i < 3; i++)
        free(pd[i]);

    /* bucket delete */
    is_int(FC_OPS->bucket_delete(st, r, "mp"), CAIRN_E_BUCKET_NOT_EMPTY, "non-empty bucket");
    FC_OPS->object_delete(st, r, "mp", "big/file", NULL, 0, &info);
    is_int(FC_OPS->bucket_delete(st, r, "mp"), 0, "empty bucket deleted");
    is_int(FC_OPS->bucket_head(st, r, "mp", &bi), CAIRN_E_NO_SUCH_BUCKET, "deleted bucket gone");

    /* concurrent PUTs of one key */
    pthread_t th[4];
    struct conc cs[4];
    for (int i = 0; i < 4; i++) {
        cs[i].st = st;
        cs[i].id = i;
        cs[i].len = 150000 + (size_t)i * 1000;
        cs[i].data = malloc(cs[i].len);
        fc_fill(cs[i].data, cs[i].len, 500 + (uint64_t)i);
        pthread_create(&th[i], NULL, conc_put, &cs[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    int winner_ok = 0;
    if (fc_get(st, "bk", "contended", NULL, 0, UINT64_MAX, &got, &gl, NULL) == 0) {
        for (int i = 0; i < 4; i++)
            winner_ok |= gl == cs[i].len && !memcmp(got, cs[i].data, gl);
        free(got);
    }
    ok(winner_ok, "concurrent PUTs: one complete winner");
    for (int i = 0; i < 4; i++)
        free(cs[i].data);
    free(data);
    fc_req_free(r);
}

int main(void)
{
    root = fc_tmpdir("basic");
    void *st = start(4, "isal-rs", NULL, NULL);
    ok(st != NULL, "init 4 drives");
    if (st) {
        test_core(st);
        cairn_plugin.fini(st);
    }
    /* every codec, and a geometry with more data shards */
    static const char *codecs[] = {"jerasure-rs-vand", "jerasure-cauchy", "isal-rs"};
    for (int i = 0; i < 3; i++) {
        void *s2 = start(6 + 2 * i, codecs[i], NULL, NULL);
        ok(s2 != NULL, "init %s over %d drives", codecs[i], 6 + 2 * i);
        if (!s2)
            continue;
        fc_create_bucket(s2, "c");
        int all = 1;
        static const size_t sz[] = {0, 3, 4096, 5000, 65536, 200003};
        for (size_t j = 0; j < sizeof(sz) / sizeof(*sz); j++)
            all &= roundtrip(s2, "c", "obj", sz[j], j);
        ok(all, "%s round trips", codecs[i]);
        const char *rrs[] = {"x-amz-storage-class", "REDUCED_REDUNDANCY", NULL};
        const char *bad[] = {"x-amz-storage-class", "NO_SUCH_CLASS", NULL};
        uint8_t buf[70000];
        fc_fill(buf, sizeof(buf), 3);
        is_int(fc_put(s2, "c", "rrs", buf, sizeof(buf), 0, rrs, NULL), 0,
               "REDUCED_REDUNDANCY put");
        uint8_t *g2 = NULL;
        size_t g2l = 0;
        ok(fc_get(s2, "c", "rrs", NULL, 0, UINT64_MAX, &g2, &g2l, NULL) == 0 &&
               g2l == sizeof(buf) && !memcmp(g2, buf, g2l), "REDUCED_REDUNDANCY read back");
        free(g2);
        is_int(fc_put(s2, "c", "bad", buf, 10, 0, bad, NULL), CAIRN_E_INVALID_STORAGE_CLASS,
               "unknown storage class refused");
        cairn_plugin.fini(s2);
    }
    /* bad config */
    ok(start(4, "no-such-codec", NULL, NULL) == NULL, "unknown codec refused");
    ok(start(4, "isal-rs", "parity", "3") == NULL, "parity over half refused");
    ok(start(4, "isal-rs", "set_size", "3") == NULL, "set size not dividing refused");
    fc_rmtree(root);
    free(root);
    return tap_done();
}
