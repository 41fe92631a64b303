/*
 * fake-core.c -- see fake-core.h.
 */
#include "fake-core.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

int fc_verbose;
int fc_warnings;

static void f_log(struct cairn_req *req, enum cairn_log_level level, const char *fmt, ...)
{
    if (level <= CAIRN_LOG_WARN)
        __atomic_add_fetch(&fc_warnings, 1, __ATOMIC_RELAXED);
    if (!fc_verbose && level > CAIRN_LOG_WARN)
        return;
    if (!fc_verbose && !getenv("FC_LOG"))
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "# [%d] ", level);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static const char *f_config_string(const struct cairn_config *c, const char *name, const char *d)
{
    for (int i = 0; c && i < c->n; i++)
        if (!strcmp(c->name[i], name))
            return c->value[i];
    return d;
}

static int64_t f_config_int(const struct cairn_config *c, const char *name, int64_t d)
{
    const char *s = f_config_string(c, name, NULL);
    return s ? strtoll(s, NULL, 10) : d;
}

static int find_list(const struct cairn_config *c, const char *name)
{
    for (int i = 0; c && i < c->n_lists; i++)
        if (!strcmp(c->list_name[i], name))
            return i;
    return -1;
}

static size_t f_list_count(const struct cairn_config *c, const char *name)
{
    int i = find_list(c, name);
    return i < 0 ? 0 : (size_t)c->list_n[i];
}

static const char *f_list_item(const struct cairn_config *c, const char *name, size_t idx)
{
    int i = find_list(c, name);
    return i < 0 || idx >= (size_t)c->list_n[i] ? NULL : c->list_items[i][idx];
}

void fc_config_set(struct cairn_config *c, const char *name, const char *value)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->name[i], name)) {
            snprintf(c->value[i], sizeof(c->value[i]), "%s", value);
            return;
        }
    snprintf(c->name[c->n], sizeof(c->name[0]), "%s", name);
    snprintf(c->value[c->n], sizeof(c->value[0]), "%s", value);
    c->n++;
}

void fc_config_list_add(struct cairn_config *c, const char *name, const char *item)
{
    int i = find_list(c, name);
    if (i < 0) {
        i = c->n_lists++;
        snprintf(c->list_name[i], sizeof(c->list_name[i]), "%s", name);
        c->list_n[i] = 0;
    }
    snprintf(c->list_items[i][c->list_n[i]++], sizeof(c->list_items[0][0]), "%s", item);
}

static void *f_req_alloc(struct cairn_req *r, size_t size)
{
    void *p = calloc(1, size ? size : 1);
    void **nb = realloc(r->blocks, (r->n_blocks + 1) * sizeof(*nb));
    if (!p || !nb) {
        free(p);
        if (nb)
            r->blocks = nb;
        return NULL;
    }
    r->blocks = nb;
    r->blocks[r->n_blocks++] = p;
    return p;
}

static char *f_req_strdup(struct cairn_req *r, const char *s)
{
    size_t n = strlen(s);
    char *p = f_req_alloc(r, n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

static ssize_t f_body_read(struct cairn_req *r, void *buf, size_t len)
{
    size_t left = r->body_len - r->body_pos;
    if (left == 0)
        return r->body_error;
    /* hand out odd-sized chunks, as a network would */
    size_t n = len < left ? len : left;
    if (n > 65521)
        n = 65521;
    memcpy(buf, r->body + r->body_pos, n);
    r->body_pos += n;
    return (ssize_t)n;
}

static int f_body_write(struct cairn_req *r, const void *buf, size_t len)
{
    if (r->out_len + len > r->out_cap) {
        size_t nc = (r->out_len + len) * 2 + 64;
        uint8_t *no = realloc(r->out, nc);
        if (!no)
            return CAIRN_E_NOMEM;
        r->out = no;
        r->out_cap = nc;
    }
    memcpy(r->out + r->out_len, buf, len);
    r->out_len += len;
    return 0;
}

struct cairn_hash {
    enum cairn_hash_algo algo;
    EVP_MD_CTX *md;
    XXH64_state_t *xx;
};

static struct cairn_hash *f_hash_new(enum cairn_hash_algo algo)
{
    struct cairn_hash *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->algo = algo;
    if (algo == CAIRN_HASH_XXH64) {
        h->xx = XXH64_createState();
        XXH64_reset(h->xx, 0);
        return h;
    }
    const EVP_MD *md = algo == CAIRN_HASH_MD5 ? EVP_md5() : algo == CAIRN_HASH_SHA1 ? EVP_sha1()
                                                                                   : EVP_sha256();
    h->md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(h->md, md, NULL);
    return h;
}

static void f_hash_update(struct cairn_hash *h, const void *d, size_t len)
{
    if (h->xx)
        XXH64_update(h->xx, d, len);
    else
        EVP_DigestUpdate(h->md, d, len);
}

static size_t f_hash_final(struct cairn_hash *h, uint8_t *out)
{
    unsigned n = 8;
    if (h->xx) {
        uint64_t v = XXH64_digest(h->xx);
        for (int i = 7; i >= 0; i--, v >>= 8)
            out[i] = (uint8_t)v;
        XXH64_freeState(h->xx);
    } else {
        EVP_DigestFinal_ex(h->md, out, &n);
        EVP_MD_CTX_free(h->md);
    }
    free(h);
    return n;
}

static int64_t f_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int f_random(void *buf, size_t len)
{
    return getrandom(buf, len, 0) == (ssize_t)len ? 0 : CAIRN_E_INTERNAL;
}

static void f_metric_add(const char *name, double delta)
{
}

static const struct cairn_services services = {
    .size = sizeof(struct cairn_services),
    .abi_major = CAIRN_ABI_MAJOR,
    .abi_minor = CAIRN_ABI_MINOR,
    .log = f_log,
    .config_string = f_config_string,
    .config_int = f_config_int,
    .config_list_count = f_list_count,
    .config_list_item = f_list_item,
    .req_alloc = f_req_alloc,
    .req_strdup = f_req_strdup,
    .body_read = f_body_read,
    .body_write = f_body_write,
    .hash_new = f_hash_new,
    .hash_update = f_hash_update,
    .hash_final = f_hash_final,
    .now_ms = f_now_ms,
    .random_bytes = f_random,
    .metric_add = f_metric_add,
};

const struct cairn_services *fc_services(void)
{
    return &services;
}

struct cairn_req *fc_req_new(void)
{
    return calloc(1, sizeof(struct cairn_req));
}

void fc_req_free(struct cairn_req *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_blocks; i++)
        free(r->blocks[i]);
    free(r->blocks);
    free(r->out);
    free(r);
}

void fc_md5_hex(const void *data, size_t len, char out[33])
{
    uint8_t d[32];
    struct cairn_hash *h = f_hash_new(CAIRN_HASH_MD5);
    f_hash_update(h, data, len);
    f_hash_final(h, d);
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

void fc_fill(uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)(x >> 24);
    }
}

int fc_put(void *st, const char *bucket, const char *key, const void *data, size_t len,
           enum cairn_versioning v, const char *const *attrs, struct cairn_object_info *info_r)
{
    struct cairn_req *r = fc_req_new();
    struct cairn_kv kv[16];
    size_t na = 0;
    for (; attrs && attrs[2 * na] && na < 16; na++) {
        kv[na].name = attrs[2 * na];
        kv[na].value = attrs[2 * na + 1];
    }
    struct cairn_object_info final;
    memset(&final, 0, sizeof(final));
    final.size = len;
    fc_md5_hex(data, len, final.etag);
    struct cairn_put put = {bucket, key, (int64_t)len, v, na, kv, &final};
    r->body = data;
    r->body_len = len;
    struct cairn_object_info info;
    int rc = FC_OPS->object_put(st, r, &put, &info);
    if (info_r && !rc) {
        *info_r = info;
        info_r->attrs = NULL;
        info_r->n_attrs = 0;
    }
    fc_req_free(r);
    return rc;
}

struct get_ctx {
    uint64_t off, len;
    int head;
    struct cairn_object_info info;
};

static int decide(void *vctx, const struct cairn_object_info *info, uint64_t *off_r,
                  uint64_t *len_r)
{
    struct get_ctx *g = vctx;
    g->info = *info;
    g->info.attrs = NULL;
    g->info.n_attrs = info->n_attrs;
    if (g->head)
        return 1;
    if (g->off > info->size)
        return CAIRN_E_INVALID_RANGE;
    *off_r = g->off;
    *len_r = g->len == UINT64_MAX || g->len > info->size - g->off ? info->size - g->off : g->len;
    return 0;
}

int fc_get(void *st, const char *bucket, const char *key, const char *version, uint64_t off,
           uint64_t len, uint8_t **data_r, size_t *len_r, struct cairn_object_info *info_r)
{
    struct cairn_req *r = fc_req_new();
    struct get_ctx g = {off, len, data_r == NULL, {0}};
    struct cairn_get get = {bucket, key, version, decide, &g};
    int rc = FC_OPS->object_get(st, r, &get);
    if (!rc && data_r) {
        *data_r = r->out ? r->out : malloc(1);
        *len_r = r->out_len;
        r->out = NULL;
    }
    if (!rc && info_r)
        *info_r = g.info;
    fc_req_free(r);
    return rc;
}

int fc_create_bucket(void *st, const char *bucket)
{
    struct cairn_req *r = fc_req_new();
    struct cairn_bucket_info b = {bucket, f_now_ms(), "tester"};
    int rc = FC_OPS->bucket_create(st, r, &b);
    fc_req_free(r);
    return rc;
}

struct list_ctx {
    char **out;
    size_t n;
    int max;
};

static int list_emit(void *vctx, const struct cairn_list_entry *e)
{
    struct list_ctx *l = vctx;
    char **no = realloc(l->out, (l->n + 1) * sizeof(*no));
    if (!no)
        return CAIRN_E_NOMEM;
    l->out = no;
    size_t n = strlen(e->key) + 80;
    l->out[l->n] = malloc(n);
    if (e->kind == CAIRN_LIST_PREFIX)
        snprintf(l->out[l->n], n, "P:%s", e->key);
    else if (e->info.is_delete_marker || e->info.version_id[0])
        snprintf(l->out[l->n], n, "O:%s@%s%s", e->key, e->info.version_id,
                 e->info.is_delete_marker ? "(dm)" : "");
    else
        snprintf(l->out[l->n], n, "O:%s", e->key);
    l->n++;
    return l->max > 0 && (int)l->n >= l->max ? 1 : 0;
}

int fc_list(void *st, const char *bucket, const char *prefix, const char *delim, const char *after,
            int versions, int max, char ***out_r, size_t *n_r)
{
    struct cairn_req *r = fc_req_new();
    struct list_ctx l = {NULL, 0, max};
    struct cairn_list li = {bucket, prefix, delim, after, "", versions, list_emit, &l};
    int rc = FC_OPS->object_list(st, r, &li);
    fc_req_free(r);
    *out_r = l.out;
    *n_r = l.n;
    return rc;
}

void fc_list_free(char **out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(out[i]);
    free(out);
}

char *fc_tmpdir(const char *tag)
{
    /* tmpfs when there is one: these tests write a few hundred MB */
    const char *base = getenv("CAIRN_TEST_TMPDIR");
    if (!base)
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    if (!base)
        base = "/tmp";
    char *p = malloc(PATH_MAX);
    snprintf(p, PATH_MAX, "%s/cairn-ec-%s-XXXXXX", base, tag);
    if (!mkdtemp(p)) {
        free(p);
        return NULL;
    }
    return p;
}

void fc_rmtree(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
        struct stat st;
        if (!lstat(p, &st) && S_ISDIR(st.st_mode))
            fc_rmtree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(path);
}
