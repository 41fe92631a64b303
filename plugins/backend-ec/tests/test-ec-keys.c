/*
 * test-ec-keys.c -- key to path encoding and the ordered listing walker of
 * storage-common.
 */
#include "sc-drive.h"
#include "sc-keypath.h"
#include "sc-walk.h"
#include "fake-core.h"
#include "tap.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ftw.h>
#include <time.h>
#include <fcntl.h>

/* Moves a file's mtime an hour back (so the walker may cache its listing). */
static int age(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    struct timespec ts[2] = {{0, UTIME_OMIT}, {0, 0}};
    ts[1].tv_sec = time(NULL) - 3600;
    utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
    return 0;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Creates the object file of `key` under bucket dir "b" on drive d. */
static void make_key(struct sc_drive *d, const char *key)
{
    char rel[PATH_MAX] = "b/";
    if (sc_key_encode(key, rel + 2, sizeof(rel) - 2))
        return;
    d->ops->mkdir_p(d, rel);
    strcat(rel, "/" SC_OBJ_FILE);
    sc_drive_write_atomic(d, rel, "x", 1, 0);
}

static int walk_all(struct sc_dircache *c, struct sc_drive **d, size_t nd, const char *prefix,
                    const char *after, char ***out, size_t *n)
{
    struct sc_walk *w = sc_walk_new(c, d, nd, "b", prefix, after, 0);
    const char *k;
    int rc;
    *out = NULL;
    *n = 0;
    while ((rc = sc_walk_next(w, &k)) == 1) {
        *out = realloc(*out, (*n + 1) * sizeof(**out));
        (*out)[(*n)++] = strdup(k);
    }
    sc_walk_free(w);
    return rc;
}

int main(void)
{
    char buf[8192], dec[300];
    is_int(sc_key_check("a/b"), 0, "a/b ok");
    is_int(sc_key_check("../x"), CAIRN_E_INVALID_OBJECT_NAME, "../x refused");
    is_int(sc_key_check("a/./b"), CAIRN_E_INVALID_OBJECT_NAME, "a/./b refused");
    is_int(sc_key_check("a/.."), CAIRN_E_INVALID_OBJECT_NAME, "a/.. refused");
    is_int(sc_key_check(""), CAIRN_E_INVALID_OBJECT_NAME, "empty refused");
    ok(sc_key_check("a/.b/..c/...") == 0, "dot-prefixed segments allowed");
    memset(buf, 'k', 1025);
    buf[1025] = 0;
    is_int(sc_key_check(buf), CAIRN_E_KEY_TOO_LONG, "1025 bytes refused");
    buf[1024] = 0;
    is_int(sc_key_check(buf), 0, "1024 bytes ok");
    ok(sc_key_encode(buf, buf + 1100, sizeof(buf) - 1100) == 0, "1024-byte key encodes");
    ok(strstr(buf + 1100, "/%+") != NULL, "long segment split with a marker");
    sc_key_encode(".hidden/a%b//", buf, sizeof(buf));
    is_str(buf, "%2Ehidden/a%25b/%/%", "escapes: leading dot, percent, empty segments");
    sc_key_encode("..x", buf, sizeof(buf));
    is_str(buf, "%2E.x", "..x is a safe name");
    is_int(sc_name_decode("%2Ehidden", dec, sizeof(dec)), 7, "decode length");
    is_str(dec, ".hidden", "decode");
    is_int(sc_name_decode("%", dec, sizeof(dec)), 0, "empty segment decodes");
    is_int(sc_name_decode("%zz", dec, sizeof(dec)), -1, "bad escape refused");

    char *root = fc_tmpdir("keys");
    char dpath[2][PATH_MAX];
    struct sc_drive *d[2];
    for (int i = 0; i < 2; i++) {
        snprintf(dpath[i], sizeof(dpath[i]), "%s/d%d", root, i);
        mkdir(dpath[i], 0755);
        d[i] = sc_drive_local_new(dpath[i]);
        d[i]->online = 1;
    }
    static const char *keys[] = {"a-b", "a/c", "a0", "a", "a/", "a//b", "a/b/c", "b", ".x",
                                 "x/.y", "z:colon", "sp ace", "\xc3\xa9t\xc3\xa9", "a/c/d",
                                 "c/", NULL};
    char long1[400], long2[400];
    memset(long1, 'q', 300);
    long1[300] = 0;
    memcpy(long2, long1, 301);
    long2[150] = '-';
    size_t nk = 0;
    char *all[64];
    for (int i = 0; keys[i]; i++) {
        make_key(d[i % 2], keys[i]); /* spread over drives: the walk is a union */
        all[nk++] = strdup(keys[i]);
    }
    make_key(d[0], long1);
    all[nk++] = strdup(long1);
    make_key(d[1], long2);
    all[nk++] = strdup(long2);
    make_key(d[0], "a/c"); /* on both drives: reported once */
    qsort(all, nk, sizeof(*all), cmpstr);
    struct sc_dircache *c = sc_dircache_new();
    char **out;
    size_t n;
    is_int(walk_all(c, d, 2, "", "", &out, &n), 0, "walk ok");
    is_int(n, nk, "every key once");
    int same = n == nk;
    for (size_t i = 0; same && i < n; i++)
        same = !strcmp(out[i], all[i]);
    ok(same, "byte order (a < a-b < a/ < a//b < a/c < a/c/d < a0 ...)");
    for (size_t i = 0; i < n; i++)
        free(out[i]);
    free(out);
    /* pagination: after each key, the rest */
    int pages_ok = 1;
    for (size_t i = 0; i < nk; i++) {
        walk_all(c, d, 2, "", all[i], &out, &n);
        if (n != nk - i - 1 || (n && strcmp(out[0], all[i + 1])))
            pages_ok = 0;
        for (size_t j = 0; j < n; j++)
            free(out[j]);
        free(out);
    }
    ok(pages_ok, "walk after every key resumes at the next");
    walk_all(c, d, 2, "a/", "", &out, &n);
    is_int(n, 5, "prefix a/ has 5 keys");
    if (n == 5) {
        is_str(out[0], "a/", "first a/");
        is_str(out[4], "a/c/d", "last a/c/d");
    }
    for (size_t j = 0; j < n; j++)
        free(out[j]);
    free(out);
    walk_all(c, d, 2, "a", "a/c", &out, &n);
    is_int(n, 2, "prefix a after a/c: a/c/d, a0");
    for (size_t j = 0; j < n; j++)
        free(out[j]);
    free(out);
    /* cached listings: old directories are cached, a change is still seen */
    for (int i = 0; i < 2; i++)
        nftw(dpath[i], age, 16, FTW_PHYS);
    int cached_ok = 1;
    for (int round = 0; round < 3; round++) {
        walk_all(c, d, 2, "", "", &out, &n);
        cached_ok &= n == nk;
        for (size_t j = 0; j < n; j++)
            cached_ok &= !strcmp(out[j], all[j]);
        for (size_t j = 0; j < n; j++)
            free(out[j]);
        free(out);
    }
    ok(cached_ok, "cached walks give the same keys");
    make_key(d[1], "a/c/e");
    walk_all(c, d, 2, "a/c/", "", &out, &n);
    ok(n == 2 && !strcmp(out[1], "a/c/e"), "a new key in a cached directory is seen");
    for (size_t j = 0; j < n; j++)
        free(out[j]);
    free(out);
    /* skip */
    struct sc_walk *w = sc_walk_new(c, d, 2, "b", "", "", 0);
    const char *k;
    int cnt = 0, saw_under = 0;
    while (sc_walk_next(w, &k) == 1) {
        cnt++;
        if (!strcmp(k, "a/"))
            sc_walk_skip(w, "a/");
        else if (!strncmp(k, "a/", 2))
            saw_under = 1;
    }
    sc_walk_free(w);
    ok(!saw_under && cnt == (int)nk + 1 - 5, "skip drops a rolled-up prefix");
    for (size_t i = 0; i < nk; i++)
        free(all[i]);
    sc_dircache_free(c);
    for (int i = 0; i < 2; i++)
        sc_drive_free(d[i]);
    fc_rmtree(root);
    free(root);
    return tap_done();
}
