/*
 * test-ec-list.c -- listing reads one drive's metadata per key, and stays
 * right when drives disagree (EC 2+2 over 4 drives):
 *   - the walker counts the drives holding each key's metadata file;
 *   - a drive that missed a DELETE does not resurrect the key, a drive that
 *     alone holds a key (a PUT that failed elsewhere) does not show it;
 *   - damaged or missing metadata on the first drive neither hides a key nor
 *     shows a wrong size; delete markers are skipped (listed as versions).
 */
#include "ec-internal.h"
#include "sc-keypath.h"
#include "fake-core.h"
#include "tap.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *root;
static struct cairn_config cfg;

static void *start(int n)
{
    memset(&cfg, 0, sizeof(cfg));
    for (int i = 0; i < n; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/d%d", root, i);
        mkdir(p, 0755);
        fc_config_list_add(&cfg, "drives", p);
    }
    fc_config_set(&cfg, "sync", "none");
    fc_config_set(&cfg, "scanner_interval_s", "0");
    void *st = NULL;
    return cairn_plugin.init(fc_services(), &cfg, &st) ? NULL : st;
}

/* Absolute path of bucket/key's metadata file on drive i. */
static void meta_path(int i, const char *bucket, const char *key, char *out, size_t cap)
{
    char rel[EC_PATH];
    ec_key_rel(bucket, key, rel, sizeof(rel));
    snprintf(out, cap, "%s/d%d/%s/" SC_OBJ_FILE, root, i, rel);
}

static char *slurp(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    char *b = malloc(1 << 20);
    *len = b ? fread(b, 1, 1 << 20, f) : 0;
    fclose(f);
    return b;
}

static void spit(const char *p, const char *b, size_t len)
{
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite(b, 1, len, f);
        fclose(f);
    }
}

/* 1 when the listing `out` holds "O:key". */
static int listed(char **out, size_t n, const char *key)
{
    char want[300];
    snprintf(want, sizeof(want), "O:%s", key);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(out[i], want))
            return 1;
    return 0;
}

struct size_ctx {
    const char *key;
    long long size;
};

static int size_emit(void *ctx, const struct cairn_list_entry *e)
{
    struct size_ctx *c = ctx;
    if (e->kind == CAIRN_LIST_OBJECT && !strcmp(e->key, c->key))
        c->size = (long long)e->info.size;
    return 0;
}

/* Size the listing reports for a key (-1 when not listed). */
static long long listed_size(void *st, const char *key)
{
    struct size_ctx c = {key, -1};
    struct cairn_list l;
    memset(&l, 0, sizeof(l));
    l.bucket = "bk";
    l.emit = size_emit;
    l.ctx = &c;
    struct cairn_req *r = fc_req_new();
    FC_OPS->object_list(st, r, &l);
    fc_req_free(r);
    return c.size;
}

int main(void)
{
    root = fc_tmpdir("eclist");
    void *st = start(4);
    ok(st != NULL, "init 2+2");
    if (!st)
        return tap_done();
    is_int(fc_create_bucket(st, "bk"), 0, "bucket");
    char data[64];
    memset(data, 'x', sizeof(data));
    const char *keys[] = {"a", "b", "c", "d/e", "gone", "long", "dm"};
    for (size_t i = 0; i < 6; i++)
        fc_put(st, "bk", keys[i], data, i == 5 ? 60 : 10, 0, NULL, NULL);
    fc_put(st, "bk", "dm", data, 5, CAIRN_VERSIONING_ENABLED, NULL, NULL);
    struct cairn_req *r = fc_req_new();
    struct cairn_object_info info;
    is_int(FC_OPS->object_delete(st, r, "bk", "dm", NULL, CAIRN_VERSIONING_ENABLED, &info), 0,
           "delete marker on dm");
    fc_req_free(r);

    /* the walker's copy count */
    char rel[EC_PATH];
    ec_bucket_rel("bk", rel, sizeof(rel));
    struct ec_state *es = st;
    struct sc_walk *w = sc_walk_new(es->dircache, es->drives, es->n_drives, rel, "", "", 0);
    const char *k;
    int all4 = 1, nk = 0;
    while (sc_walk_next(w, &k) == 1) {
        nk++;
        all4 &= sc_walk_copies(w) == 4;
    }
    sc_walk_free(w);
    ok(nk == 7 && all4, "walker: 7 keys, each on 4 drives");

    char **out;
    size_t n;
    fc_list(st, "bk", "", "", "", 0, 1000, &out, &n);
    ok(n == 6 && listed(out, n, "a") && listed(out, n, "d/e") && !listed(out, n, "dm"),
       "listing: 6 keys, delete-marker latest skipped");
    fc_list_free(out, n);
    fc_list(st, "bk", "", "", "", 1, 1000, &out, &n);
    is_int((int)n, 8, "version listing: dm's marker and version shown");
    fc_list_free(out, n);

    /* drive 0 missed the DELETE of "gone": put its old file back */
    char p[PATH_MAX];
    size_t len;
    meta_path(0, "bk", "gone", p, sizeof(p));
    char *saved = slurp(p, &len);
    ok(saved != NULL, "read gone's metadata on drive 0");
    fc_put(st, "bk", "zz", data, 1, 0, NULL, NULL); /* a neighbour */
    r = fc_req_new();
    is_int(FC_OPS->object_delete(st, r, "bk", "gone", NULL, CAIRN_VERSIONING_OFF, &info), 0,
           "delete gone");
    fc_req_free(r);
    if (saved) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", p);
        *strrchr(dir, '/') = '\0';
        mkdir(dir, 0755); /* the key's directory was pruned */
        spit(p, saved, len);
    }
    free(saved);
    fc_list(st, "bk", "", "", "", 0, 1000, &out, &n);
    ok(!listed(out, n, "gone") && listed(out, n, "zz"), "a drive that missed a DELETE does not "
                                                       "resurrect the key");
    fc_list_free(out, n);

    /* a key only drive 0 has (a PUT that failed elsewhere) */
    char q[PATH_MAX];
    meta_path(0, "bk", "a", q, sizeof(q));
    saved = slurp(q, &len);
    meta_path(0, "bk", "lonely", p, sizeof(p));
    {
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s", p);
        *strrchr(dir, '/') = '\0';
        mkdir(dir, 0755);
    }
    if (saved)
        spit(p, saved, len);
    free(saved);
    fc_list(st, "bk", "", "", "", 0, 1000, &out, &n);
    ok(!listed(out, n, "lonely") && listed(out, n, "a"), "a key on one drive only is not listed");
    fc_list_free(out, n);

    /* damaged metadata on the first drive: still listed, right size */
    meta_path(0, "bk", "long", p, sizeof(p));
    saved = slurp(p, &len);
    if (saved && len > 40) {
        saved[len - 5] ^= 0x55;
        spit(p, saved, len);
    }
    free(saved);
    int w0 = fc_warnings;
    is_int((int)listed_size(st, "long"), 60, "damaged metadata on drive 0: listed with its size");
    ok(fc_warnings > w0, "damaged metadata logged");

    /* metadata missing on the first drive: still listed */
    meta_path(0, "bk", "b", p, sizeof(p));
    unlink(p);
    is_int((int)listed_size(st, "b"), 10, "metadata gone from drive 0: still listed");
    /* and on a middle drive */
    meta_path(2, "bk", "c", p, sizeof(p));
    unlink(p);
    is_int((int)listed_size(st, "c"), 10, "metadata gone from drive 2: still listed");

    /* pages: max-keys and start-after across the fallback keys */
    fc_list(st, "bk", "", "", "b", 0, 2, &out, &n);
    ok(n == 2 && !strcmp(out[0], "O:c") && !strcmp(out[1], "O:d/e"), "page after b: c, d/e");
    fc_list_free(out, n);
    fc_list(st, "bk", "", "/", "", 0, 1000, &out, &n);
    int has_prefix = 0;
    for (size_t i = 0; i < n; i++)
        has_prefix |= !strcmp(out[i], "P:d/");
    ok(has_prefix && !listed(out, n, "d/e"), "delimiter rolls d/e into d/");
    fc_list_free(out, n);

    cairn_plugin.fini(st);
    fc_rmtree(root);
    free(root);
    return tap_done();
}
