/*
 * test-ec-drives.c -- losing drives, bitrot and quorum:
 *   - EC 2+2 over 4 drives and 4+2 over 6: write objects of random sizes
 *     (inline, one block, many blocks, one of 32 MiB), wipe m drives, read
 *     everything byte-exact, heal, check every shard and metadata file is
 *     back (and that the healed drives alone plus k-m others serve reads);
 *   - bitrot: flip bytes in shard files and metadata files on up to m drives
 *     per object: reads stay byte-exact and the damage is repaired;
 *   - writes are refused without write quorum, reads go on with read quorum;
 *   - a foreign drive is refused with a message, an empty one formatted.
 */
#include "fake-core.h"
#include "tap.h"
#include "test-files.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *root;

static struct cairn_config cfg;

static void *start(const char *tag, int n)
{
    memset(&cfg, 0, sizeof(cfg));
    for (int i = 0; i < n; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s-d%d", root, tag, i);
        mkdir(p, 0755);
        fc_config_list_add(&cfg, "drives", p);
    }
    fc_config_set(&cfg, "block_size", "262144");
    fc_config_set(&cfg, "sync", "none");
    fc_config_set(&cfg, "scanner_interval_s", "0");
    void *st = NULL;
    return cairn_plugin.init(fc_services(), &cfg, &st) ? NULL : st;
}

static void drive_path(const char *tag, int i, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s-d%d", root, tag, i);
}

/* Removes everything inside a drive directory. */
static void wipe(const char *tag, int i)
{
    char p[PATH_MAX];
    drive_path(tag, i, p, sizeof(p));
    fc_rmtree(p);
    mkdir(p, 0755);
}

/* Counts files named part.* and .obj under a directory (outside .cairn.sys). */
static void count_files(const char *path, int *parts, int *metas)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !strcmp(e->d_name, ".cairn.sys"))
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(p, &st))
            continue;
        if (S_ISDIR(st.st_mode))
            count_files(p, parts, metas);
        else if (!strncmp(e->d_name, "part.", 5))
            (*parts)++;
        else if (!strcmp(e->d_name, ".obj"))
            (*metas)++;
    }
    closedir(d);
}

struct obj {
    char key[64];
    size_t size;
    uint64_t seed;
};

static size_t pick_size(unsigned *s)
{
    unsigned r = (unsigned)rand_r(s) % 100;
    if (r < 30)
        return (size_t)rand_r(s) % 5000;               /* inline, incl. 0 */
    if (r < 70)
        return 5000 + (size_t)rand_r(s) % 300000;      /* one or two blocks */
    if (r < 95)
        return 300000 + (size_t)rand_r(s) % 1200000;   /* several blocks */
    return 1500000 + (size_t)rand_r(s) % 3000000;      /* larger */
}

static int read_all(void *st, struct obj *objs, int n, int *bad_r)
{
    int good = 0;
    *bad_r = -1;
    for (int i = 0; i < n; i++) {
        uint8_t *got, *want = malloc(objs[i].size + 1);
        size_t gl;
        fc_fill(want, objs[i].size, objs[i].seed);
        if (fc_get(st, "bk", objs[i].key, NULL, 0, UINT64_MAX, &got, &gl, NULL) == 0) {
            if (gl == objs[i].size && !memcmp(got, want, gl))
                good++;
            else if (*bad_r < 0)
                *bad_r = i;
            free(got);
        } else if (*bad_r < 0) {
            *bad_r = i;
        }
        free(want);
    }
    return good;
}

static void drive_loss(const char *tag, int n, int m, int count, int with_32m)
{
    void *st = start(tag, n);
    ok(st != NULL, "%s: init %d drives", tag, n);
    if (!st)
        return;
    fc_create_bucket(st, "bk");
    struct obj *objs = calloc((size_t)count, sizeof(*objs));
    unsigned seed = (unsigned)n * 7919u;
    int put_ok = 0;
    for (int i = 0; i < count; i++) {
        snprintf(objs[i].key, sizeof(objs[i].key), "dir%d/obj-%04d", i % 7, i);
        objs[i].size = with_32m && i == 3 ? (32u << 20) : pick_size(&seed);
        objs[i].seed = (uint64_t)i * 1000003u + (uint64_t)n;
        uint8_t *d = malloc(objs[i].size + 1);
        fc_fill(d, objs[i].size, objs[i].seed);
        put_ok += fc_put(st, "bk", objs[i].key, d, objs[i].size, 0, NULL, NULL) == 0;
        free(d);
    }
    is_int(put_ok, count, "%s: %d objects written", tag, count);
    int parts0 = 0, metas0 = 0;
    char p[PATH_MAX];
    drive_path(tag, n - 1, p, sizeof(p));
    count_files(p, &parts0, &metas0);
    ok(metas0 == count, "%s: one metadata file per object per drive (%d)", tag, metas0);
    for (int i = 0; i < m; i++)
        wipe(tag, i);
    int bad;
    is_int(read_all(st, objs, count, &bad), count, "%s: all byte-exact with %d drives wiped", tag, m);
    if (bad >= 0)
        printf("#   first bad: %s (%zu bytes)\n", objs[bad].key, objs[bad].size);
    struct cairn_req *r = fc_req_new();
    is_int(FC_OPS->heal(st, r, NULL, NULL), 0, "%s: heal everything", tag);
    fc_req_free(r);
    int all_back = 1;
    for (int i = 0; i < m; i++) {
        int parts = 0, metas = 0;
        drive_path(tag, i, p, sizeof(p));
        count_files(p, &parts, &metas);
        if (parts != parts0 || metas != metas0) {
            all_back = 0;
            printf("#   drive %d: %d parts %d metas, want %d %d\n", i, parts, metas, parts0, metas0);
        }
    }
    ok(all_back, "%s: every shard and metadata file is back on the wiped drives", tag);
    /* the healed drives must be good: lose m other drives, read again */
    for (int i = m; i < 2 * m && i < n; i++)
        wipe(tag, i);
    is_int(read_all(st, objs, count, &bad), count, "%s: reads from healed drives byte-exact", tag);
    r = fc_req_new();
    FC_OPS->heal(st, r, NULL, NULL);
    fc_req_free(r);
    cairn_plugin.fini(st);

    /* restart: the deployment is recognised; a foreign drive is refused */
    st = start(tag, n);
    ok(st != NULL, "%s: restart", tag);
    is_int(read_all(st, objs, count < 20 ? count : 20, &bad), count < 20 ? count : 20,
           "%s: reads after restart", tag);
    cairn_plugin.fini(st);
    free(objs);
}

static void bitrot(void)
{
    const char *tag = "rot";
    int n = 6, m = 2, count = 40;
    void *st = start(tag, n);
    ok(st != NULL, "bitrot: init");
    if (!st)
        return;
    fc_create_bucket(st, "bk");
    struct obj objs[40];
    unsigned seed = 99;
    for (int i = 0; i < count; i++) {
        snprintf(objs[i].key, sizeof(objs[i].key), "r/%d", i);
        objs[i].size = i % 4 == 0 ? (size_t)(rand_r(&seed) % 4000) : pick_size(&seed);
        objs[i].seed = 777 + (uint64_t)i;
        uint8_t *d = malloc(objs[i].size + 1);
        fc_fill(d, objs[i].size, objs[i].seed);
        fc_put(st, "bk", objs[i].key, d, objs[i].size, 0, NULL, NULL);
        free(d);
    }
    /* damage: on drives 0 and 1 flip bytes in every shard file; on drives 2
     * and 3 flip a byte in every metadata file -- at most m damaged per object
     * for shards... so use disjoint pairs: shards on 0,1 and metadata on 0,1 */
    char **files = NULL;
    size_t nf = 0;
    for (int dr = 0; dr < m; dr++) {
        char p[PATH_MAX];
        drive_path(tag, dr, p, sizeof(p));
        tf_find_files(p, "part.", 0, &files, &nf);
        tf_find_files(p, ".obj", 0, &files, &nf);
    }
    uint8_t **orig = calloc(nf, sizeof(*orig));
    size_t *olen = calloc(nf, sizeof(*olen));
    for (size_t i = 0; i < nf; i++) {
        orig[i] = tf_read_file(files[i], &olen[i]);
        if (olen[i] == 0)
            continue;
        uint8_t *b = malloc(olen[i]);
        memcpy(b, orig[i], olen[i]);
        size_t off = (i * 7919u) % olen[i];
        b[off] ^= 0x5a;
        tf_write_file(files[i], b, olen[i]);
        free(b);
    }
    ok(nf > (size_t)count, "bitrot: damaged %zu files on %d drives", nf, m);
    int warn0 = fc_warnings, bad;
    is_int(read_all(st, objs, count, &bad), count, "bitrot: reads byte-exact");
    ok(fc_warnings > warn0, "bitrot: damage was logged");
    struct cairn_req *r = fc_req_new();
    FC_OPS->heal(st, r, NULL, NULL);
    fc_req_free(r);
    size_t repaired = 0;
    for (size_t i = 0; i < nf; i++) {
        size_t l;
        uint8_t *b = tf_read_file(files[i], &l);
        /* shard files must be restored exactly; metadata files must be valid
         * again (same bytes, since the encoding is deterministic) */
        repaired += b && l == olen[i] && !memcmp(b, orig[i], l);
        free(b);
        free(orig[i]);
        free(files[i]);
    }
    is_int(repaired, nf, "bitrot: every damaged file repaired");
    free(files);
    free(orig);
    free(olen);
    cairn_plugin.fini(st);
}

static void quorum(void)
{
    const char *tag = "quo";
    void *st = start(tag, 4);
    ok(st != NULL, "quorum: init");
    if (!st)
        return;
    fc_create_bucket(st, "bk");
    uint8_t d[100000];
    fc_fill(d, sizeof(d), 5);
    is_int(fc_put(st, "bk", "k", d, sizeof(d), 0, NULL, NULL), 0, "quorum: put with 4 drives");
    cairn_plugin.fini(st);
    /* two of four drives missing: 2+2 reads need 2, writes need 3 */
    char a[PATH_MAX], b[PATH_MAX + 16];
    for (int i = 0; i < 2; i++) {
        drive_path(tag, i, a, sizeof(a));
        snprintf(b, sizeof(b), "%s.away", a);
        rename(a, b);
    }
    int warn0 = fc_warnings;
    st = start(tag, 4); /* start() recreates the dirs empty: remove them again */
    cairn_plugin.fini(st);
    for (int i = 0; i < 2; i++) {
        drive_path(tag, i, a, sizeof(a));
        fc_rmtree(a);
    }
    memset(&cfg, 0, sizeof(cfg));
    for (int i = 0; i < 4; i++) {
        drive_path(tag, i, a, sizeof(a));
        fc_config_list_add(&cfg, "drives", a);
    }
    fc_config_set(&cfg, "sync", "none");
    fc_config_set(&cfg, "scanner_interval_s", "0");
    st = NULL;
    is_int(cairn_plugin.init(fc_services(), &cfg, &st), 0, "quorum: starts with 2 of 4 drives");
    ok(fc_warnings > warn0, "quorum: missing drives logged");
    uint8_t *got;
    size_t gl;
    is_int(fc_get(st, "bk", "k", NULL, 0, UINT64_MAX, &got, &gl, NULL), 0, "quorum: read works");
    ok(gl == sizeof(d) && !memcmp(got, d, gl), "quorum: read byte-exact");
    free(got);
    is_int(fc_put(st, "bk", "k2", d, 10, 0, NULL, NULL), CAIRN_E_WRITE_QUORUM,
           "quorum: write refused");
    is_int(fc_put(st, "bk", "k3", d, sizeof(d), 0, NULL, NULL), CAIRN_E_WRITE_QUORUM,
           "quorum: large write refused");
    cairn_plugin.fini(st);
    /* foreign drive: a format from another deployment */
    for (int i = 0; i < 2; i++) {
        drive_path(tag, i, a, sizeof(a));
        snprintf(b, sizeof(b), "%s.away", a);
        rename(b, a);
    }
    void *other = start("foreign", 1);
    cairn_plugin.fini(other);
    drive_path(tag, 3, a, sizeof(a));
    fc_rmtree(a);
    drive_path("foreign", 0, b, sizeof(b));
    rename(b, a);
    warn0 = fc_warnings;
    st = start(tag, 4);
    ok(st != NULL && fc_warnings > warn0, "quorum: foreign drive refused with a message");
    is_int(fc_get(st, "bk", "k", NULL, 0, UINT64_MAX, &got, &gl, NULL), 0,
           "quorum: reads without the foreign drive");
    if (st) {
        ok(gl == sizeof(d) && !memcmp(got, d, gl), "quorum: byte-exact");
        free(got);
        cairn_plugin.fini(st);
    }
}

int main(void)
{
    root = fc_tmpdir("drives");
    drive_loss("ec22", 4, 2, 200, 1);
    drive_loss("ec42", 6, 2, 200, 0);
    bitrot();
    quorum();
    fc_rmtree(root);
    free(root);
    return tap_done();
}
