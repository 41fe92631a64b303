/*
 * test-ec-metacache.c -- the parsed-metadata cache (sc-metacache.h):
 *   - the table alone: hit on an unchanged identity, miss on a changed one,
 *     invalidation, a read overlapping a write not published (generation),
 *     negative entries, eviction within the byte budget;
 *   - through backend-ec (2+2 on 4 drives): repeated GETs hit, a GET after an
 *     external rewrite or corruption of a cached .obj still returns the right
 *     bytes, our own rewrites of a same-size object are seen at once (200
 *     rewrites in a row, well inside one timestamp tick), absent keys,
 *     concurrent PUTs and GETs of a few keys (every GET whole and consistent),
 *     and metadata_cache_bytes = 0.
 */
#include "ec-internal.h"
#include "fake-core.h"
#include "sc-keypath.h"
#include "sc-metacache.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *root;
static struct cairn_config cfg;

static void *start(const char *tag, const char *cache_bytes)
{
    memset(&cfg, 0, sizeof(cfg));
    for (int i = 0; i < 4; i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s-d%d", root, tag, i);
        mkdir(p, 0755);
        fc_config_list_add(&cfg, "drives", p);
    }
    fc_config_set(&cfg, "sync", "none");
    fc_config_set(&cfg, "scanner_interval_s", "0");
    if (cache_bytes)
        fc_config_set(&cfg, "metadata_cache_bytes", cache_bytes);
    void *st = NULL;
    return cairn_plugin.init(fc_services(), &cfg, &st) ? NULL : st;
}

static void obj_path(const char *tag, int drive, const char *key, char *out, size_t cap)
{
    char rel[EC_PATH];
    ec_key_rel("b", key, rel, sizeof(rel));
    snprintf(out, cap, "%s/%s-d%d/%s/" SC_OBJ_FILE, root, tag, drive, rel);
}

static struct sc_mc_stats stats(void *st)
{
    struct sc_mc_stats s;
    sc_mc_stats(((struct ec_state *)st)->drives[0]->mc, &s);
    return s;
}

/* Object bytes for version `n` of a key: all the same size, all different. */
static void content(uint8_t *buf, size_t len, uint64_t n)
{
    fc_fill(buf, len, n * 7919 + 1);
    memcpy(buf, &n, sizeof(n));
}

static int get_is(void *st, const char *key, const uint8_t *want, size_t len)
{
    uint8_t *data = NULL;
    size_t got = 0;
    struct cairn_object_info info;
    int rc = fc_get(st, "b", key, NULL, 0, UINT64_MAX, &data, &got, &info);
    int same = !rc && got == len && !memcmp(data, want, len);
    free(data);
    return same;
}

static void table_alone(void)
{
    struct sc_metacache *c = sc_mc_new(16 * 8192); /* 8 KiB a shard */
    const struct sc_drive *d = (const struct sc_drive *)&c; /* an address as a key */
    struct stat sb = {0};
    sb.st_ino = 7;
    sb.st_size = 100;
    sb.st_ctim.tv_nsec = 5;
    struct sc_mc_ident id, id2;
    sc_mc_ident_of(&sb, &id);

    uint64_t gen = sc_mc_gen(c, d, "k/.obj");
    struct sc_objmeta m = {0};
    struct sc_version v = {0};
    strcpy(v.id, "null");
    sc_objmeta_insert(&m, 0, &v);
    uint8_t *raw = malloc(10);
    memcpy(raw, "0123456789", 10);
    struct sc_mc_entry *e = sc_mc_put(c, d, "k/.obj", gen, &id, 0, &m, 42, &raw, 10);
    ok(e && !raw && !m.v && e->m.n == 1 && e->sig == 42, "put keeps the parse and the raw file");
    sc_mc_release(e);

    e = sc_mc_get(c, d, "k/.obj", &id);
    ok(e && e->m.n == 1 && !strcmp(e->m.v[0].id, "null"), "same identity: hit");
    sc_mc_release(e);
    ok(!sc_mc_get(c, (const struct sc_drive *)&root, "k/.obj", &id), "another drive: miss");

    sb.st_ctim.tv_nsec = 6;
    sc_mc_ident_of(&sb, &id2);
    ok(!sc_mc_get(c, d, "k/.obj", &id2), "ctime changed: miss");
    sb.st_ctim.tv_nsec = 5;
    sb.st_ino = 8;
    sc_mc_ident_of(&sb, &id2);
    ok(!sc_mc_get(c, d, "k/.obj", &id2), "inode changed: miss");

    /* held references survive invalidation */
    e = sc_mc_get(c, d, "k/.obj", &id);
    sc_mc_invalidate(c, d, "k/.obj");
    ok(!sc_mc_get(c, d, "k/.obj", &id), "invalidated: miss");
    ok(e && e->m.n == 1, "a reader's reference outlives the invalidation");
    sc_mc_release(e);

    /* a read that overlapped a write is not published */
    gen = sc_mc_gen(c, d, "k/.obj");
    sc_mc_invalidate(c, d, "k/.obj");
    memset(&m, 0, sizeof(m));
    sc_objmeta_insert(&m, 0, &v);
    raw = malloc(4);
    e = sc_mc_put(c, d, "k/.obj", gen, &id, 0, &m, 1, &raw, 4);
    ok(!e && raw && m.n == 1, "stale generation: not kept, still the caller's");
    ok(!sc_mc_get(c, d, "k/.obj", &id), "and not found");
    free(raw);
    sc_objmeta_clear(&m);

    /* negative entries */
    struct sc_mc_ident absent;
    sc_mc_ident_of(NULL, &absent);
    gen = sc_mc_gen(c, d, "n/.obj");
    e = sc_mc_put(c, d, "n/.obj", gen, &absent, -ENOENT, NULL, 0, NULL, 0);
    sc_mc_release(e);
    e = sc_mc_get(c, d, "n/.obj", &absent);
    ok(e && e->status == -ENOENT, "absent file: negative hit");
    sc_mc_release(e);
    ok(!sc_mc_get(c, d, "n/.obj", &id), "created since: miss");

    /* eviction within the budget */
    for (int i = 0; i < 400; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "e%d/.obj", i);
        memset(&m, 0, sizeof(m));
        sc_objmeta_insert(&m, 0, &v);
        raw = malloc(1000);
        memset(raw, 'x', 1000);
        gen = sc_mc_gen(c, d, rel);
        sc_mc_release(sc_mc_put(c, d, rel, gen, &id, 0, &m, 1, &raw, 1000));
        free(raw);
        sc_objmeta_clear(&m);
    }
    struct sc_mc_stats s;
    sc_mc_stats(c, &s);
    ok(s.bytes <= s.budget && s.evictions > 0 && s.entries < 400,
       "400 entries of ~1.5 KiB in 128 KiB: evicted (%zu entries, %zu bytes, %llu evictions)",
       s.entries, s.bytes, (unsigned long long)s.evictions);
    e = sc_mc_get(c, d, "e399/.obj", &id);
    ok(e != NULL, "the newest entry is kept");
    sc_mc_release(e);
    sc_mc_unref(c);
    ok(sc_mc_new(0) == NULL, "budget 0: no cache");
}

struct mix {
    void *st;
    int id, errors, torn;
};

#define MIX_KEYS 3
#define MIX_LEN 4096

/* A PUT writes `n` in the first 8 bytes and bytes derived from n after:
 * a GET must see one whole version. */
static void *mix_main(void *arg)
{
    struct mix *x = arg;
    uint8_t buf[MIX_LEN], want[MIX_LEN];
    for (int i = 0; i < 150; i++) {
        char key[16];
        snprintf(key, sizeof(key), "mix%d", (i + x->id) % MIX_KEYS);
        if (x->id % 2 == 0) {
            content(buf, sizeof(buf), (uint64_t)(x->id * 1000 + i));
            x->errors += fc_put(x->st, "b", key, buf, sizeof(buf), CAIRN_VERSIONING_OFF, NULL,
                                NULL) != 0;
        } else {
            uint8_t *data = NULL;
            size_t len = 0;
            struct cairn_object_info info;
            if (fc_get(x->st, "b", key, NULL, 0, UINT64_MAX, &data, &len, &info)) {
                x->errors++;
                continue;
            }
            uint64_t n = 0;
            if (len == MIX_LEN)
                memcpy(&n, data, sizeof(n));
            content(want, sizeof(want), n);
            x->torn += len != MIX_LEN || memcmp(data, want, MIX_LEN);
            free(data);
        }
    }
    return NULL;
}

static void through_backend(void)
{
    void *st = start("c", NULL);
    ok(st != NULL, "init with 4 drives");
    ok(((struct ec_state *)st)->drives[0]->mc != NULL, "a cache by default");
    ok(((struct ec_state *)st)->drives[0]->mc == ((struct ec_state *)st)->drives[3]->mc,
       "one cache for the backend's drives");
    fc_create_bucket(st, "b");
    uint8_t a[4096], b2[4096];
    content(a, sizeof(a), 1);
    ok(fc_put(st, "b", "k", a, sizeof(a), CAIRN_VERSIONING_OFF, NULL, NULL) == 0, "put 4 KiB");
    ok(get_is(st, "k", a, sizeof(a)), "get");
    struct sc_mc_stats s0 = stats(st);
    for (int i = 0; i < 10; i++)
        get_is(st, "k", a, sizeof(a));
    struct sc_mc_stats s1 = stats(st);
    is_int(s1.hits - s0.hits, 40, "10 GETs: 40 hits (4 drives each)");
    is_int(s1.misses - s0.misses, 0, "and no miss");

    /* an external rewrite: drive 0's .obj put back to an older version's
     * file (valid, same size) after a newer PUT */
    char p0[PATH_MAX], saved[PATH_MAX], cmd[3 * PATH_MAX];
    obj_path("c", 0, "k", p0, sizeof(p0));
    snprintf(saved, sizeof(saved), "%s/saved.obj", root);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", p0, saved);
    ok(system(cmd) == 0, "drive 0's .obj of version 1 saved");
    content(b2, sizeof(b2), 1000);
    ok(fc_put(st, "b", "k", b2, sizeof(b2), CAIRN_VERSIONING_OFF, NULL, NULL) == 0 &&
           get_is(st, "k", b2, sizeof(b2)),
       "version 2 put and read (cached)");
    s1 = stats(st);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", saved, p0);
    ok(system(cmd) == 0, "drive 0's .obj overwritten in place with version 1's");
    ok(get_is(st, "k", b2, sizeof(b2)), "GET still returns version 2 (3 drives of 4 agree)");
    s0 = stats(st);
    is_int(s0.misses - s1.misses, 1, "the rewritten copy was read again, the others not");
    get_is(st, "k", b2, sizeof(b2)); /* reads drive 0's copy once more if heal rewrote it */
    s1 = stats(st);
    get_is(st, "k", b2, sizeof(b2));
    s0 = stats(st);
    is_int(s0.hits - s1.hits, 4, "then all 4 copies are hits again");

    /* corruption in place, same size: one byte of the frame's payload */
    ok(fc_put(st, "b", "k", a, sizeof(a), CAIRN_VERSIONING_OFF, NULL, NULL) == 0, "put again");
    get_is(st, "k", a, sizeof(a));
    int warn0 = fc_warnings;
    usleep(20000); /* a later timestamp tick than the write */
    int fd = open(p0, O_WRONLY);
    ok(fd >= 0 && pwrite(fd, "#", 1, 40) == 1, "a byte of drive 0's .obj changed in place");
    close(fd);
    ok(get_is(st, "k", a, sizeof(a)), "GET after the corruption: right bytes");
    ok(fc_warnings > warn0, "and the corrupt copy was seen (logged)");

    /* our own rewrites, same size, back to back */
    int all = 1;
    for (uint64_t n = 2; n < 202 && all; n++) {
        content(b2, sizeof(b2), n);
        all = fc_put(st, "b", "k", b2, sizeof(b2), CAIRN_VERSIONING_OFF, NULL, NULL) == 0 &&
              get_is(st, "k", b2, sizeof(b2));
    }
    ok(all, "200 same-size rewrites: each GET sees the last PUT");

    /* delete, absent keys */
    struct cairn_req *r = fc_req_new();
    struct cairn_object_info info;
    ok(FC_OPS->object_delete(st, r, "b", "k", NULL, CAIRN_VERSIONING_OFF, &info) == 0, "delete");
    fc_req_free(r);
    uint8_t *data = NULL;
    size_t len;
    is_int(fc_get(st, "b", "k", NULL, 0, UINT64_MAX, &data, &len, &info), CAIRN_E_NO_SUCH_KEY,
           "deleted: NoSuchKey");
    s0 = stats(st);
    is_int(fc_get(st, "b", "k", NULL, 0, UINT64_MAX, &data, &len, &info), CAIRN_E_NO_SUCH_KEY,
           "again");
    s1 = stats(st);
    is_int(s1.hits - s0.hits, 4, "absent on 4 drives: 4 negative hits");
    ok(fc_put(st, "b", "k", a, sizeof(a), CAIRN_VERSIONING_OFF, NULL, NULL) == 0 &&
           get_is(st, "k", a, sizeof(a)),
       "put after the negative entries: readable");

    /* concurrent PUTs and GETs of the same keys */
    for (int k = 0; k < MIX_KEYS; k++) {
        char key[16];
        snprintf(key, sizeof(key), "mix%d", k);
        content(b2, sizeof(b2), 0);
        fc_put(st, "b", key, b2, sizeof(b2), CAIRN_VERSIONING_OFF, NULL, NULL);
    }
    pthread_t th[4];
    struct mix mx[4];
    for (int i = 0; i < 4; i++) {
        mx[i] = (struct mix){st, i, 0, 0};
        pthread_create(&th[i], NULL, mix_main, &mx[i]);
    }
    int errors = 0, torn = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        errors += mx[i].errors;
        torn += mx[i].torn;
    }
    is_int(errors, 0, "2 writers, 2 readers: no error");
    is_int(torn, 0, "every GET a whole version");
    s1 = stats(st);
    ok(s1.bytes <= s1.budget, "within the budget (%zu of %zu bytes, %zu entries)", s1.bytes,
       s1.budget, s1.entries);
    cairn_plugin.fini(st);

    st = start("z", "0");
    ok(st && ((struct ec_state *)st)->drives[0]->mc == NULL, "metadata_cache_bytes = 0: off");
    fc_create_bucket(st, "b");
    ok(fc_put(st, "b", "k", a, sizeof(a), CAIRN_VERSIONING_OFF, NULL, NULL) == 0 &&
           get_is(st, "k", a, sizeof(a)),
       "and objects read as before");
    cairn_plugin.fini(st);
    ok(start("n", "-1") == NULL, "a negative size is refused");
}

int main(void)
{
    root = fc_tmpdir("metacache");
    table_alone();
    through_backend();
    fc_rmtree(root);
    free(root);
    return tap_done();
}
