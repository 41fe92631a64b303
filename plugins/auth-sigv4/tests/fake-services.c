/*
 * fake-services.c -- the fake core behind the auth-sigv4 tests.
 */
#include "fake-services.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

struct fake_user {
    const char *ak, *secret, *user;
    int disabled;
};
static struct fake_user users[16];
static int n_users;
static int n_lookups;

void fake_iam_add(const char *access_key, const char *secret, const char *user, int disabled)
{
    if (n_users < 16)
        users[n_users++] = (struct fake_user){access_key, secret, user, disabled};
}

int fake_iam_lookups(void)
{
    return n_lookups;
}

static void fake_log(struct cairn_req *req, enum cairn_log_level level, const char *fmt, ...)
{
    if (!getenv("SIGV4_TEST_VERBOSE"))
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "log[%d]: ", (int)level);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

static const char *cfg_find(const struct cairn_config *cfg, const char *name)
{
    for (int i = 0; cfg && i < cfg->n; i++)
        if (strcmp(cfg->names[i], name) == 0)
            return cfg->values[i];
    return NULL;
}

static const char *fake_config_string(const struct cairn_config *cfg, const char *name,
                                      const char *dflt)
{
    const char *v = cfg_find(cfg, name);
    return v ? v : dflt;
}

static int64_t fake_config_int(const struct cairn_config *cfg, const char *name, int64_t dflt)
{
    const char *v = cfg_find(cfg, name);
    return v ? strtoll(v, NULL, 10) : dflt;
}

static size_t fake_list_count(const struct cairn_config *cfg, const char *name)
{
    return 0;
}

static const char *fake_list_item(const struct cairn_config *cfg, const char *name, size_t i)
{
    return NULL;
}

static void *fake_req_alloc(struct cairn_req *req, size_t size)
{
    if (req->n_ptrs == req->cap_ptrs) {
        size_t cap = req->cap_ptrs ? req->cap_ptrs * 2 : 64;
        void **n = realloc(req->ptrs, cap * sizeof(*n));
        if (!n)
            return NULL;
        req->ptrs = n;
        req->cap_ptrs = cap;
    }
    void *p = calloc(1, size ? size : 1);
    if (p)
        req->ptrs[req->n_ptrs++] = p;
    return p;
}

static char *fake_req_strdup(struct cairn_req *req, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = fake_req_alloc(req, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

struct cairn_hash {
    EVP_MD_CTX *ctx;
};

static struct cairn_hash *fake_hash_new(enum cairn_hash_algo algo)
{
    const EVP_MD *md = algo == CAIRN_HASH_SHA256 ? EVP_sha256()
                       : algo == CAIRN_HASH_SHA1 ? EVP_sha1()
                       : algo == CAIRN_HASH_MD5  ? EVP_md5()
                                                 : NULL;
    if (!md)
        return NULL;
    struct cairn_hash *h = malloc(sizeof(*h));
    if (!h)
        return NULL;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || !EVP_DigestInit_ex(h->ctx, md, NULL)) {
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return NULL;
    }
    return h;
}

static void fake_hash_update(struct cairn_hash *h, const void *data, size_t len)
{
    EVP_DigestUpdate(h->ctx, data, len);
}

static size_t fake_hash_final(struct cairn_hash *h, uint8_t *out)
{
    unsigned int n = 0;
    EVP_DigestFinal_ex(h->ctx, out, &n);
    EVP_MD_CTX_free(h->ctx);
    free(h);
    return n;
}

static void fake_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                             uint8_t out[32])
{
    uint8_t tmp[32];
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)key_len, data, len, tmp, &n);
    memcpy(out, tmp, 32); /* out may alias key */
}

static int64_t fake_now_ms(void)
{
    return 1369353600000; /* 2013-05-24T00:00:00Z */
}

static int fake_iam_lookup(struct cairn_req *req, const char *access_key,
                           struct cairn_identity *id_r, char *secret_r, size_t secret_cap)
{
    n_lookups++;
    for (int i = 0; i < n_users; i++) {
        if (strcmp(users[i].ak, access_key) != 0)
            continue;
        if (users[i].disabled)
            return CAIRN_E_ACCESS_DENIED;
        if (strlen(users[i].secret) >= secret_cap)
            return CAIRN_E_INTERNAL;
        strcpy(secret_r, users[i].secret);
        id_r->access_key = fake_req_strdup(req, access_key);
        id_r->user = fake_req_strdup(req, users[i].user);
        id_r->parent = "";
        return 0;
    }
    return CAIRN_E_INVALID_ACCESS_KEY;
}

static int fake_set_trailer(struct cairn_req *req, const char *name, const char *value)
{
    if (req->n_trailers >= 32)
        return CAIRN_E_INVALID_REQUEST;
    req->trailer_names[req->n_trailers] = strdup(name);
    req->trailer_values[req->n_trailers] = strdup(value);
    req->n_trailers++;
    return 0;
}

const char *fake_req_trailer(const struct cairn_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_trailers; i++)
        if (strcmp(req->trailer_names[i], name) == 0)
            return req->trailer_values[i];
    return NULL;
}

static struct cairn_services services;

const struct cairn_services *fake_services(void)
{
    if (!services.size) {
        services.size = sizeof(services);
        services.abi_major = CAIRN_ABI_MAJOR;
        services.abi_minor = CAIRN_ABI_MINOR;
        services.log = fake_log;
        services.config_string = fake_config_string;
        services.config_int = fake_config_int;
        services.config_list_count = fake_list_count;
        services.config_list_item = fake_list_item;
        services.req_alloc = fake_req_alloc;
        services.req_strdup = fake_req_strdup;
        services.hash_new = fake_hash_new;
        services.hash_update = fake_hash_update;
        services.hash_final = fake_hash_final;
        services.hmac_sha256 = fake_hmac_sha256;
        services.now_ms = fake_now_ms;
        services.iam_lookup = fake_iam_lookup;
        services.req_set_trailer = fake_set_trailer;
    }
    return &services;
}

struct cairn_req *fake_req_new(void)
{
    return calloc(1, sizeof(struct cairn_req));
}

void fake_req_free(struct cairn_req *req)
{
    if (!req)
        return;
    for (size_t i = 0; i < req->n_ptrs; i++)
        free(req->ptrs[i]);
    free(req->ptrs);
    for (size_t i = 0; i < req->n_trailers; i++) {
        free(req->trailer_names[i]);
        free(req->trailer_values[i]);
    }
    free(req);
}
