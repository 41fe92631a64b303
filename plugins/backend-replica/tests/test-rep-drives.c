/*
 * test-rep-drives.c -- losing drives, bitrot and quorum for backend-replica:
 *   - 3 copies on 3 drives and on 5: write objects of several sizes (inline,
 *     one block, many blocks, multipart), wipe N-1 drives, read everything
 *     byte-exact, heal, check every copy is back, then read from the healed
 *     drives alone;
 *   - bitrot: flip bytes in data and metadata copies (different blocks on
 *     every copy): reads stay byte-exact, the read heals the damage; the same
 *     block damaged on every copy gives an error, never wrong bytes;
 *   - writes are refused without a majority of copies; a failed body leaves
 *     nothing behind.
 */
#include "fake-core.h"
#include "tap.h"
#include "test-files.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define diag(...) (printf("# "), printf(__VA_ARGS__), printf("\n"))

static char *root;
static struct cairn_config cfg;

#define N_OBJ 6
static const size_t sizes[N_OBJ] = {0, 100, 65536, 300001, 2 << 20, 131072 + 7};

static void *start(const char *tag, int n, int copies)
{
    memset(&cfg, 0, sizeof(cfg));
    for (int i = 0; i < n; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s-d%d", root, tag, i);
        mkdir(p, 0755);
        fc_config_list_add(&cfg, "drives", p);
    }
    char c[16];
    snprintf(c, sizeof(c), "%d", copies);
    fc_config_set(&cfg, "copies", c);
    fc_config_set(&cfg, "block_size", "65536");
    fc_config_set(&cfg, "inline_limit", "4096");
    fc_config_set(&cfg, "sync", "none");
    fc_config_set(&cfg, "scanner_interval_s", "0");
    void *st = NULL;
    return cairn_plugin.init(fc_services(), &cfg, &st) ? NULL : st;
}

static void drive_path(const char *tag, int i, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s-d%d", root, tag, i);
}

static void wipe(const char *tag, int i)
{
    char p[PATH_MAX];
    drive_path(tag, i, p, sizeof(p));
    fc_rmtree(p);
    mkdir(p, 0755);
}

/* Collects paths of part.* and .obj files under a directory. */
static void collect(const char *path, char ***parts, size_t *np, char ***metas, size_t *nm)
{
    tf_find_files(path, "part.", 0, parts, np);
    tf_find_files(path, ".obj", 1, metas, nm);
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

static void count(const char *tag, int n, size_t *parts, size_t *metas)
{
    *parts = *metas = 0;
    for (int i = 0; i < n; i++) {
        char p[PATH_MAX], **pl = NULL, **ml = NULL;
        size_t np = 0, nm = 0;
        drive_path(tag, i, p, sizeof(p));
        collect(p, &pl, &np, &ml, &nm);
        *parts += np;
        *metas += nm;
        free_list(pl, np);
        free_list(ml, nm);
    }
}

/* Flips one byte at `off` of a file. */
static void flip(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    if (fd < 0)
        return;
    unsigned char c;
    if (pread(fd, &c, 1, off) == 1) {
        c ^= 0x5a;
        (void)!pwrite(fd, &c, 1, off);
    }
    close(fd);
}

static void put_all(void *st, const char *bucket)
{
    for (int i = 0; i < N_OBJ; i++) {
        char key[32];
        snprintf(key, sizeof(key), "obj/%d", i);
        uint8_t *buf = malloc(sizes[i] + 1);
        fc_fill(buf, sizes[i], (uint64_t)i + 100);
        if (fc_put(st, bucket, key, buf, sizes[i], CAIRN_VERSIONING_OFF, NULL, NULL))
            ok(0, "put %s", key);
        free(buf);
    }
}

/* 1 when every object reads back byte-exact. */
static int read_all(void *st, const char *bucket)
{
    int good = 1;
    for (int i = 0; i < N_OBJ; i++) {
        char key[32];
        snprintf(key, sizeof(key), "obj/%d", i);
        uint8_t *buf = malloc(sizes[i] + 1), *got = NULL;
        size_t gl = 0;
        fc_fill(buf, sizes[i], (uint64_t)i + 100);
        int rc = fc_get(st, bucket, key, NULL, 0, UINT64_MAX, &got, &gl, NULL);
        if (rc || gl != sizes[i] || memcmp(got, buf, gl)) {
            diag("%s: rc %d len %zu", key, rc, gl);
            good = 0;
        }
        free(got);
        free(buf);
    }
    return good;
}

static void drive_loss(const char *tag, int n)
{
    void *st = start(tag, n, 3);
    ok(st != NULL, "%s: init %d drives, 3 copies", tag, n);
    if (!st)
        return;
    fc_create_bucket(st, "b");
    put_all(st, "b");
    size_t parts0, metas0, parts, metas;
    count(tag, n, &parts0, &metas0);
    is_int((int)parts0, 4 * 3, "%s: 4 non-inline objects x 3 copies", tag);
    is_int((int)metas0, N_OBJ * 3, "%s: 3 metadata copies per object", tag);
    wipe(tag, 0);
    wipe(tag, 1);
    ok(read_all(st, "b"), "%s: every object byte-exact after losing 2 drives", tag);
    is_int(FC_OPS->heal(st, NULL, NULL, NULL), 0, "%s: heal everything", tag);
    count(tag, n, &parts, &metas);
    is_int((int)parts, (int)parts0, "%s: every data copy restored", tag);
    is_int((int)metas, (int)metas0, "%s: every metadata copy restored", tag);
    struct cairn_bucket_info bi;
    struct cairn_req *r = fc_req_new();
    is_int(FC_OPS->bucket_head(st, r, "b", &bi), 0, "%s: bucket still there", tag);
    fc_req_free(r);
    /* the healed copies serve reads: with 3 drives the two healed ones are
     * all that is left; with 5, two other drives go */
    wipe(tag, 2);
    if (n > 3)
        wipe(tag, 3);
    ok(read_all(st, "b"), "%s: after losing 2 other drives, every object byte-exact", tag);
    cairn_plugin.fini(st);
}

static void bitrot(void)
{
    const char *tag = "rot";
    void *st = start(tag, 3, 3);
    fc_create_bucket(st, "b");
    put_all(st, "b");
    /* damage a different block of the 2 MiB object on every copy; on drive 1
     * also the first block of every other data copy and every metadata copy */
    for (int i = 0; i < 3; i++) {
        char p[PATH_MAX], **pl = NULL, **ml = NULL;
        size_t np = 0, nm = 0;
        drive_path(tag, i, p, sizeof(p));
        collect(p, &pl, &np, &ml, &nm);
        for (size_t j = 0; j < np; j++) {
            struct stat sb;
            stat(pl[j], &sb);
            if (sb.st_size > 1000000)
                flip(pl[j], (off_t)(65536 + 8) * (off_t)(3 + i) + 100);
            else if (i == 1)
                flip(pl[j], 20);
        }
        if (i == 1)
            for (size_t j = 0; j < nm; j++)
                flip(ml[j], 40);
        free_list(pl, np);
        free_list(ml, nm);
    }
    ok(read_all(st, "b"), "bitrot: every object byte-exact with damaged copies");
    int fw = fc_warnings;
    ok(read_all(st, "b"), "bitrot: again after heal-on-read");
    is_int(fc_warnings, fw, "bitrot: the second read found nothing to repair");
    /* the same block damaged on every copy: an error, never wrong bytes */
    for (int i = 0; i < 3; i++) {
        char p[PATH_MAX], **pl = NULL, **ml = NULL;
        size_t np = 0, nm = 0;
        drive_path(tag, i, p, sizeof(p));
        collect(p, &pl, &np, &ml, &nm);
        for (size_t j = 0; j < np; j++) {
            struct stat sb;
            stat(pl[j], &sb);
            if (sb.st_size > 1000000)
                flip(pl[j], (off_t)(65536 + 8) * 10 + 50);
        }
        free_list(pl, np);
        free_list(ml, nm);
    }
    uint8_t *got = NULL;
    size_t gl = 0;
    int rc = fc_get(st, "b", "obj/4", NULL, 0, UINT64_MAX, &got, &gl, NULL);
    is_int(rc, CAIRN_E_CORRUPT, "every copy of a block damaged: CORRUPT");
    ok(gl <= (size_t)65536 * 10, "no byte of the damaged block was sent (%zu sent)", gl);
    free(got);
    got = NULL;
    rc = fc_get(st, "b", "obj/4", NULL, 0, 65536 * 2, &got, &gl, NULL);
    ok(rc == 0 && gl == 65536 * 2, "a range before the damage still reads");
    free(got);
    cairn_plugin.fini(st);
}

static void quorum(void)
{
    const char *tag = "q";
    void *st = start(tag, 3, 3);
    fc_create_bucket(st, "b");
    put_all(st, "b");
    cairn_plugin.fini(st);
    /* two drives gone: replaced by plain files */
    char p[PATH_MAX];
    for (int i = 1; i < 3; i++) {
        drive_path(tag, i, p, sizeof(p));
        fc_rmtree(p);
        FILE *f = fopen(p, "w");
        if (f)
            fclose(f);
    }
    st = start(tag, 3, 3);
    ok(st != NULL, "init with one of three drives");
    is_int(fc_put(st, "b", "new", "abc", 3, CAIRN_VERSIONING_OFF, NULL, NULL),
           CAIRN_E_WRITE_QUORUM, "PUT refused with 1 of 3 copies possible");
    is_int(FC_OPS->object_delete(st, NULL, "b", "obj/2", NULL, CAIRN_VERSIONING_OFF, NULL),
           CAIRN_E_WRITE_QUORUM, "DELETE refused too");
    ok(read_all(st, "b"), "reads go on from the one drive left");
    cairn_plugin.fini(st);
    drive_path(tag, 2, p, sizeof(p));
    unlink(p);
    mkdir(p, 0755);
    st = start(tag, 3, 3);
    is_int(fc_put(st, "b", "new", "abc", 3, CAIRN_VERSIONING_OFF, NULL, NULL), 0,
           "PUT accepted with 2 of 3");
    /* a body that fails its check commits nothing and leaves no files */
    struct cairn_req *r = fc_req_new();
    uint8_t big[200000];
    fc_fill(big, sizeof(big), 5);
    r->body = big;
    r->body_len = sizeof(big);
    r->body_error = CAIRN_E_BAD_DIGEST;
    struct cairn_put put = {"b", "bad", (int64_t)sizeof(big), CAIRN_VERSIONING_OFF, 0, NULL, NULL};
    struct cairn_object_info info;
    is_int(FC_OPS->object_put(st, r, &put, &info), CAIRN_E_BAD_DIGEST, "failed body refused");
    fc_req_free(r);
    uint8_t *got = NULL;
    size_t gl;
    is_int(fc_get(st, "b", "bad", NULL, 0, UINT64_MAX, &got, &gl, NULL), CAIRN_E_NO_SUCH_KEY,
           "nothing committed");
    int leftovers = 0;
    for (int i = 0; i < 3; i++) {
        char t[PATH_MAX];
        snprintf(t, sizeof(t), "%s/%s-d%d/.cairn.sys/tmp", root, tag, i);
        DIR *d = opendir(t);
        struct dirent *e;
        while (d && (e = readdir(d)))
            leftovers += e->d_name[0] != '.';
        if (d)
            closedir(d);
    }
    is_int(leftovers, 0, "no temporary files left");
    cairn_plugin.fini(st);
}

int main(void)
{
    root = fc_tmpdir("rep-drives");
    drive_loss("three", 3);
    drive_loss("five", 5);
    bitrot();
    quorum();
    fc_rmtree(root);
    free(root);
    return tap_done();
}
