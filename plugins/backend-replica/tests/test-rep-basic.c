/*
 * test-rep-basic.c -- backend-replica's object operations on 4 drives with 3
 * copies: PUT/GET (inline, one block, many blocks, ranges), copies on 3
 * distinct drives, versioning, delete markers, listing with delimiter and
 * `after`, attrs, multipart without copying, bucket configs, storage classes.
 */
#include "fake-core.h"
#include "tap.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *root;
static struct cairn_config cfg;

static void *start(int n, const char *copies)
{
    memset(&cfg, 0, sizeof(cfg));
    for (int i = 0; i < n; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/d%d", root, i);
        mkdir(p, 0755);
        fc_config_list_add(&cfg, "drives", p);
    }
    fc_config_set(&cfg, "block_size", "65536");
    fc_config_set(&cfg, "inline_limit", "4096");
    fc_config_set(&cfg, "sync", "none");
    fc_config_set(&cfg, "scanner_interval_s", "0");
    fc_config_set(&cfg, "copies", copies);
    fc_config_set(&cfg, "storage_class_REDUCED_REDUNDANCY_copies", "2");
    void *st = NULL;
    return cairn_plugin.init(fc_services(), &cfg, &st) ? NULL : st;
}

/* Counts part files and .obj files under a directory (outside .cairn.sys). */
static void count_files(const char *path, int *parts, int *metas)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            !strcmp(e->d_name, ".cairn.sys"))
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
        struct stat sb;
        if (lstat(p, &sb))
            continue;
        if (S_ISDIR(sb.st_mode))
            count_files(p, parts, metas);
        else if (!strncmp(e->d_name, "part.", 5))
            (*parts)++;
        else if (!strcmp(e->d_name, ".obj"))
            (*metas)++;
    }
    closedir(d);
}

static int drives_with_parts(int n, const char *bucket)
{
    int c = 0;
    for (int i = 0; i < n; i++) {
        char p[PATH_MAX];
        int parts = 0, metas = 0;
        snprintf(p, sizeof(p), "%s/d%d/%s", root, i, bucket);
        count_files(p, &parts, &metas);
        c += parts > 0;
    }
    return c;
}

static int roundtrip(void *st, const char *key, size_t len, uint64_t seed)
{
    uint8_t *buf = malloc(len ? len : 1), *got = NULL;
    fc_fill(buf, len, seed);
    int ok = fc_put(st, "b", key, buf, len, CAIRN_VERSIONING_OFF, NULL, NULL) == 0;
    size_t gl = 0;
    ok = ok && fc_get(st, "b", key, NULL, 0, UINT64_MAX, &got, &gl, NULL) == 0 && gl == len &&
         !memcmp(got, buf, len);
    free(got);
    /* a range across a block boundary */
    if (ok && len > 70000) {
        got = NULL;
        ok = fc_get(st, "b", key, NULL, 65000, 2000, &got, &gl, NULL) == 0 && gl == 2000 &&
             !memcmp(got, buf + 65000, 2000);
        free(got);
    }
    free(buf);
    return ok;
}

struct parts_seen {
    int n;
    char etag[4][80];
};

static int on_part(void *ctx, const struct cairn_part_info *p)
{
    struct parts_seen *ps = ctx;
    if (ps->n < 4)
        snprintf(ps->etag[ps->n], 80, "%s", p->etag);
    ps->n++;
    return 0;
}

int main(void)
{
    root = fc_tmpdir("rep-basic");
    void *st = start(4, "3");
    ok(st != NULL, "init with 4 drives, 3 copies");
    if (!st)
        return tap_done();
    is_int(fc_create_bucket(st, "b"), 0, "create bucket");
    is_int(fc_create_bucket(st, "b"), CAIRN_E_BUCKET_OWNED_BY_YOU, "create again");
    ok(roundtrip(st, "empty", 0, 1), "empty object");
    ok(roundtrip(st, "small", 100, 2), "inline object");
    ok(roundtrip(st, "one", 65536, 3), "one block");
    ok(roundtrip(st, "many/blocks", 300001, 4), "many blocks, ranges");
    is_int(fc_create_bucket(st, "solo"), 0, "bucket solo");
    uint8_t *one = malloc(10000);
    fc_fill(one, 10000, 9);
    is_int(fc_put(st, "solo", "k", one, 10000, CAIRN_VERSIONING_OFF, NULL, NULL), 0, "solo put");
    free(one);
    is_int(drives_with_parts(4, "solo"), 3, "a non-inline object has copies on 3 distinct drives");
    FC_OPS->object_delete(st, NULL, "solo", "k", NULL, CAIRN_VERSIONING_OFF, NULL);
    is_int(drives_with_parts(4, "solo"), 0, "its copies go with it");
    uint8_t x[10] = "abcdefghij";
    is_int(fc_put(st, "nob", "k", x, 10, CAIRN_VERSIONING_OFF, NULL, NULL),
           CAIRN_E_NO_SUCH_BUCKET, "PUT to a missing bucket");
    is_int(fc_put(st, "b", "a/../c", x, 10, CAIRN_VERSIONING_OFF, NULL, NULL),
           CAIRN_E_INVALID_OBJECT_NAME, "a .. segment is refused");
    const char *rr[] = {"x-amz-storage-class", "REDUCED_REDUNDANCY", NULL};
    const char *bad[] = {"x-amz-storage-class", "NOPE", NULL};
    is_int(fc_put(st, "b", "rr", x, 10, CAIRN_VERSIONING_OFF, bad, NULL),
           CAIRN_E_INVALID_STORAGE_CLASS, "unknown storage class refused");
    is_int(fc_put(st, "b", "rr", x, 10, CAIRN_VERSIONING_OFF, rr, NULL), 0,
           "REDUCED_REDUNDANCY put (2 copies)");

    /* versioning */
    struct cairn_object_info i1, i2, di;
    is_int(fc_put(st, "b", "v", "one", 3, CAIRN_VERSIONING_ENABLED, NULL, &i1), 0, "v1");
    is_int(fc_put(st, "b", "v", "two!", 4, CAIRN_VERSIONING_ENABLED, NULL, &i2), 0, "v2");
    ok(strcmp(i1.version_id, i2.version_id) < 0, "version ids grow");
    uint8_t *g = NULL;
    size_t gl = 0;
    ok(fc_get(st, "b", "v", i1.version_id, 0, UINT64_MAX, &g, &gl, NULL) == 0 && gl == 3 &&
           !memcmp(g, "one", 3), "GET of an older version");
    free(g);
    struct cairn_object_info dinfo;
    is_int(FC_OPS->object_delete(st, NULL, "b", "v", NULL, CAIRN_VERSIONING_ENABLED, &di), 0,
           "delete adds a marker");
    ok(di.is_delete_marker, "it is a delete marker");
    is_int(fc_get(st, "b", "v", NULL, 0, UINT64_MAX, &g, &gl, &dinfo), CAIRN_E_NO_SUCH_KEY,
           "latest is a marker: NoSuchKey");
    char **out;
    size_t n;
    fc_list(st, "b", "v", "", "", 1, 100, &out, &n);
    is_int((int)n, 3, "three versions listed (marker, v2, v1)");
    fc_list_free(out, n);
    is_int(FC_OPS->object_delete(st, NULL, "b", "v", di.version_id, CAIRN_VERSIONING_ENABLED,
                                 NULL), 0, "delete the marker");
    g = NULL;
    ok(fc_get(st, "b", "v", NULL, 0, UINT64_MAX, &g, &gl, NULL) == 0 && gl == 4, "v2 is back");
    free(g);

    /* listing */
    fc_put(st, "b", "dir/a", x, 1, CAIRN_VERSIONING_OFF, NULL, NULL);
    fc_put(st, "b", "dir/b", x, 1, CAIRN_VERSIONING_OFF, NULL, NULL);
    fc_put(st, "b", "dir2", x, 1, CAIRN_VERSIONING_OFF, NULL, NULL);
    fc_list(st, "b", "", "/", "", 0, 100, &out, &n);
    int has_prefix = 0, has_many = 0;
    for (size_t i = 0; i < n; i++) {
        has_prefix |= !strcmp(out[i], "P:dir/");
        has_many |= !strcmp(out[i], "P:many/");
    }
    ok(has_prefix && has_many, "delimiter roll-up");
    for (size_t i = 1; i < n; i++)
        if (strcmp(out[i - 1] + 2, out[i] + 2) >= 0)
            ok(0, "byte order: %s before %s", out[i - 1], out[i]);
    fc_list_free(out, n);
    fc_list(st, "b", "dir", "", "dir/a", 0, 100, &out, &n);
    ok(n == 2 && !strcmp(out[0], "O:dir/b") && !strcmp(out[1], "O:dir2"), "after");
    fc_list_free(out, n);

    /* attrs */
    struct cairn_kv kv[1] = {{"x-amz-tagging", "a=b"}};
    is_int(FC_OPS->object_set_attrs(st, NULL, "b", "small", NULL, 1, kv), 0, "set attrs");
    is_int(FC_OPS->object_set_attrs(st, NULL, "b", "nope", NULL, 1, kv), CAIRN_E_NO_SUCH_KEY,
           "set attrs of a missing key");

    /* multipart */
    char uid[128];
    is_int(FC_OPS->mpu_create(st, NULL, "b", "mp", 0, NULL, uid), 0, "mpu create");
    size_t plen = 70000;
    uint8_t *p1 = malloc(plen), *p2 = malloc(1000);
    fc_fill(p1, plen, 11);
    fc_fill(p2, 1000, 12);
    struct cairn_req *rq = fc_req_new();
    rq->body = p1;
    rq->body_len = plen;
    struct cairn_object_info fin;
    memset(&fin, 0, sizeof(fin));
    fin.size = plen;
    fc_md5_hex(p1, plen, fin.etag);
    struct cairn_put put = {"b", "mp", (int64_t)plen, CAIRN_VERSIONING_OFF, 0, NULL, &fin};
    struct cairn_object_info pi;
    is_int(FC_OPS->mpu_put_part(st, rq, uid, 1, &put, &pi), 0, "part 1");
    fc_req_free(rq);
    rq = fc_req_new();
    rq->body = p2;
    rq->body_len = 1000;
    fin.size = 1000;
    fc_md5_hex(p2, 1000, fin.etag);
    put.content_length = 1000;
    is_int(FC_OPS->mpu_put_part(st, rq, uid, 2, &put, &pi), 0, "part 2");
    fc_req_free(rq);
    struct parts_seen ps = {0};
    is_int(FC_OPS->mpu_list_parts(st, NULL, "b", "mp", uid, 0, on_part, &ps), 0, "list parts");
    is_int(ps.n, 2, "two parts");
    struct cairn_part_info parts[2];
    memset(parts, 0, sizeof(parts));
    parts[0].number = 1;
    snprintf(parts[0].etag, 80, "%s", ps.etag[0]);
    parts[1].number = 2;
    snprintf(parts[1].etag, 80, "%s", ps.etag[1]);
    struct cairn_part_info badp[2];
    memcpy(badp, parts, sizeof(badp));
    snprintf(badp[1].etag, 80, "00000000000000000000000000000000");
    struct cairn_object_info ci;
    is_int(FC_OPS->mpu_complete(st, NULL, "b", "mp", uid, badp, 2, 5, CAIRN_VERSIONING_OFF, 0,
                                NULL, &ci), CAIRN_E_INVALID_PART, "wrong part etag");
    is_int(FC_OPS->mpu_complete(st, NULL, "b", "mp", uid, parts, 2, 100000,
                                CAIRN_VERSIONING_OFF, 0, NULL, &ci), CAIRN_E_ENTITY_TOO_SMALL,
           "part too small");
    is_int(FC_OPS->mpu_complete(st, NULL, "b", "mp", uid, parts, 2, 5, CAIRN_VERSIONING_OFF, 0,
                                NULL, &ci), 0, "complete");
    ok(strlen(ci.etag) == 34 && !strcmp(ci.etag + 32, "-2"), "multipart etag %s", ci.etag);
    g = NULL;
    ok(fc_get(st, "b", "mp", NULL, 0, UINT64_MAX, &g, &gl, NULL) == 0 && gl == plen + 1000 &&
           !memcmp(g, p1, plen) && !memcmp(g + plen, p2, 1000), "completed object reads back");
    free(g);
    g = NULL;
    ok(fc_get(st, "b", "mp", NULL, plen - 10, 20, &g, &gl, NULL) == 0 && gl == 20 &&
           !memcmp(g, p1 + plen - 10, 10) && !memcmp(g + 10, p2, 10), "range across parts");
    free(g);
    is_int(FC_OPS->mpu_abort(st, NULL, "b", "mp", uid), CAIRN_E_NO_SUCH_UPLOAD,
           "upload is gone after complete");
    free(p1);
    free(p2);

    /* bucket configs */
    is_int(FC_OPS->bucket_config_put(st, NULL, "b", "policy", "{}", 2), 0, "config put");
    struct cairn_req *cr = fc_req_new();
    char *cd;
    size_t cl;
    ok(FC_OPS->bucket_config_get(st, cr, "b", "policy", &cd, &cl) == 0 && cl == 2 &&
           !memcmp(cd, "{}", 2), "config get");
    is_int(FC_OPS->bucket_config_delete(st, NULL, "b", "policy"), 0, "config delete");
    is_int(FC_OPS->bucket_config_get(st, cr, "b", "policy", &cd, &cl), CAIRN_E_NO_SUCH_CONFIG,
           "config gone");
    fc_req_free(cr);
    is_int(FC_OPS->bucket_delete(st, NULL, "b"), CAIRN_E_BUCKET_NOT_EMPTY, "bucket not empty");

    /* a deleted key leaves a tombstone that still counts as empty */
    is_int(fc_create_bucket(st, "e"), 0, "bucket e");
    fc_put(st, "e", "k", x, 10, CAIRN_VERSIONING_OFF, NULL, NULL);
    FC_OPS->object_delete(st, NULL, "e", "k", NULL, CAIRN_VERSIONING_OFF, NULL);
    is_int(fc_get(st, "e", "k", NULL, 0, UINT64_MAX, &g, &gl, NULL), CAIRN_E_NO_SUCH_KEY,
           "deleted key is gone");
    fc_list(st, "e", "", "", "", 0, 100, &out, &n);
    is_int((int)n, 0, "and not listed");
    fc_list_free(out, n);
    is_int(FC_OPS->heal(st, NULL, NULL, NULL), 0, "heal everything");
    is_int(FC_OPS->bucket_delete(st, NULL, "e"), 0, "delete the emptied bucket");

    cairn_plugin.fini(st);
    fc_rmtree(root);
    free(root);
    return tap_done();
}
