/* fake-core.c -- the stand-in core of the conformance suite; see fake-core.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <xxhash.h>

#include "arena.h"
#include "fake-core.h"

/* ---- configuration ------------------------------------------------------ */

static struct fake_setting *setting_find(const struct cairn_config *cfg, const char *name)
{
    for (size_t i = 0; cfg && i < cfg->n; i++)
        if (strcmp(cfg->settings[i].name, name) == 0)
            return &cfg->settings[i];
    return NULL;
}

static void setting_clear(struct fake_setting *s)
{
    for (size_t i = 0; i < s->n_items; i++)
        free(s->items[i]);
    free(s->items);
    free(s->name);
    free(s->value);
    memset(s, 0, sizeof *s);
}

int fake_config_set(struct cairn_config *cfg, const char *name, const char *value)
{
    struct fake_setting *s = setting_find(cfg, name);
    if (!s) {
        struct fake_setting *grown = realloc(cfg->settings, (cfg->n + 1) * sizeof *grown);
        if (!grown)
            return CAIRN_E_NOMEM;
        cfg->settings = grown;
        s = &cfg->settings[cfg->n++];
    } else {
        setting_clear(s);
    }
    memset(s, 0, sizeof *s);
    s->name = strdup(name);
    s->value = strdup(value);
    if (!s->name || !s->value)
        return CAIRN_E_NOMEM;
    /* Split on ',' into list items; "" is an empty list. */
    for (const char *p = value; *p;) {
        size_t len = strcspn(p, ",");
        char **grown = realloc(s->items, (s->n_items + 1) * sizeof *grown);
        if (!grown)
            return CAIRN_E_NOMEM;
        s->items = grown;
        if (!(s->items[s->n_items++] = strndup(p, len)))
            return CAIRN_E_NOMEM;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

void fake_config_clear(struct cairn_config *cfg)
{
    for (size_t i = 0; i < cfg->n; i++)
        setting_clear(&cfg->settings[i]);
    free(cfg->settings);
    cfg->settings = NULL;
    cfg->n = 0;
}

static const char *svc_config_string(const struct cairn_config *cfg, const char *name,
                                     const char *dflt)
{
    const struct fake_setting *s = setting_find(cfg, name);
    return s ? s->value : dflt;
}

static int64_t svc_config_int(const struct cairn_config *cfg, const char *name, int64_t dflt)
{
    const struct fake_setting *s = setting_find(cfg, name);
    char *end;
    if (!s)
        return dflt;
    long long v = strtoll(s->value, &end, 0);
    return end != s->value && *end == '\0' ? v : dflt;
}

static size_t svc_config_list_count(const struct cairn_config *cfg, const char *name)
{
    const struct fake_setting *s = setting_find(cfg, name);
    return s ? s->n_items : 0;
}

static const char *svc_config_list_item(const struct cairn_config *cfg, const char *name,
                                        size_t index)
{
    const struct fake_setting *s = setting_find(cfg, name);
    return s && index < s->n_items ? s->items[index] : NULL;
}

/* ---- log, memory, time -------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static void svc_log(struct cairn_req *req,
                                                          enum cairn_log_level level,
                                                          const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    va_list ap;
    fprintf(stderr, "[plugin %s%s%s] ", level <= CAIRN_LOG_DEBUG ? names[level] : "?",
            req ? " " : "", req ? req->request_id : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void *svc_req_alloc(struct cairn_req *req, size_t size)
{
    return req ? arena_alloc(req->arena, size) : NULL;
}

static char *svc_req_strdup(struct cairn_req *req, const char *s)
{
    return req ? arena_strdup(req->arena, s) : NULL;
}

static int64_t svc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int svc_random_bytes(void *buf, size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? 0 : CAIRN_E_INTERNAL;
}

static void svc_metric_add(const char *name, double delta)
{
    (void)name, (void)delta;
}

static int svc_iam_lookup(struct cairn_req *req, const char *access_key,
                          struct cairn_identity *id_r, char *secret_r, size_t secret_cap)
{
    return CAIRN_E_INVALID_ACCESS_KEY; /* the suite has no users */
}

static int svc_req_set_trailer(struct cairn_req *req, const char *name, const char *value)
{
    return 0;
}

/* ---- hashing ------------------------------------------------------------ */

struct cairn_hash {
    enum cairn_hash_algo algo;
    EVP_MD_CTX *md;     /* MD5, SHA1, SHA256 */
    XXH64_state_t *xxh; /* XXH64 */
    uint64_t crc;       /* the CRCs */
};

/* Reflected CRC, one bit at a time: slow and obviously right. */
static uint64_t crc_update(uint64_t crc, uint64_t poly, const uint8_t *p, size_t len)
{
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (poly & (0 - (crc & 1)));
    }
    return crc;
}

static uint64_t crc_poly(enum cairn_hash_algo algo)
{
    switch (algo) {
    case CAIRN_HASH_CRC32: return 0xEDB88320u;
    case CAIRN_HASH_CRC32C: return 0x82F63B78u;
    default: return 0x9A6C9329AC4BC9B5ull; /* CRC-64/NVME */
    }
}

static struct cairn_hash *svc_hash_new(enum cairn_hash_algo algo)
{
    struct cairn_hash *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->algo = algo;
    const EVP_MD *md = algo == CAIRN_HASH_MD5    ? EVP_md5()
                       : algo == CAIRN_HASH_SHA1 ? EVP_sha1()
                       : algo == CAIRN_HASH_SHA256 ? EVP_sha256()
                                                   : NULL;
    switch (algo) {
    case CAIRN_HASH_MD5:
    case CAIRN_HASH_SHA1:
    case CAIRN_HASH_SHA256:
        if (!(h->md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(h->md, md, NULL) != 1)
            goto fail;
        return h;
    case CAIRN_HASH_CRC32:
    case CAIRN_HASH_CRC32C:
        h->crc = 0xFFFFFFFFu;
        return h;
    case CAIRN_HASH_CRC64NVME:
        h->crc = ~0ull;
        return h;
    case CAIRN_HASH_XXH64:
        if (!(h->xxh = XXH64_createState()) || XXH64_reset(h->xxh, 0) != XXH_OK)
            goto fail;
        return h;
    }
fail:
    EVP_MD_CTX_free(h->md);
    XXH64_freeState(h->xxh);
    free(h);
    return NULL;
}

static void svc_hash_update(struct cairn_hash *h, const void *data, size_t len)
{
    if (h->md)
        EVP_DigestUpdate(h->md, data, len);
    else if (h->xxh)
        XXH64_update(h->xxh, data, len);
    else
        h->crc = crc_update(h->crc, crc_poly(h->algo), data, len);
}

static size_t put_be(uint8_t *out, uint64_t v, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        out[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    return bytes;
}

static size_t svc_hash_final(struct cairn_hash *h, uint8_t *out)
{
    size_t n = 0;
    if (h->md) {
        unsigned len = 0;
        EVP_DigestFinal_ex(h->md, out, &len);
        n = len;
    } else if (h->xxh) {
        n = put_be(out, XXH64_digest(h->xxh), 8);
    } else if (h->algo == CAIRN_HASH_CRC64NVME) {
        n = put_be(out, ~h->crc, 8);
    } else {
        n = put_be(out, ~h->crc & 0xFFFFFFFFu, 4);
    }
    EVP_MD_CTX_free(h->md);
    XXH64_freeState(h->xxh);
    free(h);
    return n;
}

static void svc_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                            uint8_t out[32])
{
    unsigned out_len = 32;
    HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len);
}

/* ---- bodies ------------------------------------------------------------- */

/* splitmix64: a good 64-bit mix, so every 8-byte block is independent. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint8_t fake_byte(uint32_t seed, uint64_t pos)
{
    return (uint8_t)(mix64(((uint64_t)seed << 40) ^ (pos >> 3)) >> (8 * (pos & 7)));
}

static void fill_stream(uint32_t seed, uint64_t pos, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = fake_byte(seed, pos + i);
}

void fake_stream_sha256(uint32_t seed, uint64_t offset, uint64_t length, uint8_t out[32])
{
    struct cairn_hash *h = svc_hash_new(CAIRN_HASH_SHA256);
    uint8_t buf[8192];
    while (length > 0) {
        size_t n = length < sizeof buf ? (size_t)length : sizeof buf;
        fill_stream(seed, offset, buf, n);
        svc_hash_update(h, buf, n);
        offset += n;
        length -= n;
    }
    svc_hash_final(h, out);
}

void fake_hex(const uint8_t *bytes, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++)
        sprintf(out + 2 * i, "%02x", bytes[i]);
    out[2 * len] = '\0';
}

void fake_body_init(struct fake_body *b, uint32_t seed, uint64_t size)
{
    memset(b, 0, sizeof *b);
    b->seed = seed;
    b->size = size;
    b->fail_after = -1;
    b->md5 = svc_hash_new(CAIRN_HASH_MD5);
    b->crc = svc_hash_new(CAIRN_HASH_CRC32);
}

void fake_body_release(struct fake_body *b)
{
    uint8_t scratch[32];
    if (b->md5)
        svc_hash_final(b->md5, scratch);
    if (b->crc)
        svc_hash_final(b->crc, scratch);
    b->md5 = b->crc = NULL;
}

/* The core's side of body_read for a fake body. */
static ssize_t body_read(struct cairn_req *req, void *buf, size_t len)
{
    struct fake_body *b = ((struct fake_req *)req->owner)->body;
    if (!b)
        return CAIRN_E_INTERNAL;
    if (b->fail_after >= 0 && b->pos >= (uint64_t)b->fail_after)
        return b->fail_error;
    if (b->pos == b->size) {
        if (b->md5) { /* the first end: finish what the core computes on a body */
            uint8_t digest[32];
            svc_hash_final(b->md5, digest);
            fake_hex(digest, 16, b->final.etag);
            size_t n = svc_hash_final(b->crc, digest);
            EVP_EncodeBlock((unsigned char *)b->crc_b64, digest, (int)n);
            b->md5 = b->crc = NULL;
            b->final.size = b->size;
            b->final_attr.name = "x-amz-checksum-crc32";
            b->final_attr.value = b->crc_b64;
            b->final.n_attrs = 1;
            b->final.attrs = &b->final_attr;
        }
        return 0;
    }
    /* Uneven pieces, as a network delivers them. */
    uint64_t n = 1 + (b->calls++ * 7919u + 13) % 70000;
    if (n > len)
        n = len;
    if (n > b->size - b->pos)
        n = b->size - b->pos;
    if (b->fail_after >= 0 && n > (uint64_t)b->fail_after - b->pos)
        n = (uint64_t)b->fail_after - b->pos;
    fill_stream(b->seed, b->pos, buf, (size_t)n);
    svc_hash_update(b->md5, buf, (size_t)n);
    svc_hash_update(b->crc, buf, (size_t)n);
    b->pos += n;
    return (ssize_t)n;
}

void fake_sink_init(struct fake_sink *s, int64_t gone_after)
{
    memset(s, 0, sizeof *s);
    s->gone_after = gone_after;
    s->sha256 = svc_hash_new(CAIRN_HASH_SHA256);
}

void fake_sink_finish(struct fake_sink *s)
{
    if (s->sha256)
        svc_hash_final(s->sha256, s->digest);
    s->sha256 = NULL;
}

static int body_write(struct cairn_req *req, const void *buf, size_t len)
{
    struct fake_sink *s = ((struct fake_req *)req->owner)->sink;
    if (!s)
        return CAIRN_E_INTERNAL;
    if (s->gone_after >= 0 && s->received + len > (uint64_t)s->gone_after)
        return CAIRN_E_CLIENT_GONE;
    s->writes++;
    s->received += len;
    svc_hash_update(s->sha256, buf, len);
    return 0;
}

static ssize_t svc_body_read(struct cairn_req *req, void *buf, size_t len)
{
    return req->read(req, buf, len);
}

static int svc_body_write(struct cairn_req *req, const void *buf, size_t len)
{
    return req->write(req, buf, len);
}

struct fake_req *fake_req_new(struct fake_body *body, struct fake_sink *sink)
{
    static unsigned counter;
    struct fake_req *r = calloc(1, sizeof *r);
    if (!r || !(r->req.arena = arena_new())) {
        free(r);
        return NULL;
    }
    char id[32];
    snprintf(id, sizeof id, "conf-%u", __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    r->req.request_id = arena_strdup(r->req.arena, id);
    r->req.read = body_read;
    r->req.write = body_write;
    r->req.set_trailer = svc_req_set_trailer;
    r->req.owner = r;
    r->body = body;
    r->sink = sink;
    return r;
}

void fake_req_free(struct fake_req *r)
{
    if (!r)
        return;
    arena_free(r->req.arena);
    free(r);
}

static const struct cairn_services services = {
    .size = sizeof(struct cairn_services),
    .abi_major = CAIRN_ABI_MAJOR,
    .abi_minor = CAIRN_ABI_MINOR,
    .log = svc_log,
    .config_string = svc_config_string,
    .config_int = svc_config_int,
    .config_list_count = svc_config_list_count,
    .config_list_item = svc_config_list_item,
    .req_alloc = svc_req_alloc,
    .req_strdup = svc_req_strdup,
    .body_read = svc_body_read,
    .body_write = svc_body_write,
    .hash_new = svc_hash_new,
    .hash_update = svc_hash_update,
    .hash_final = svc_hash_final,
    .hmac_sha256 = svc_hmac_sha256,
    .now_ms = svc_now_ms,
    .random_bytes = svc_random_bytes,
    .metric_add = svc_metric_add,
    .iam_lookup = svc_iam_lookup,
    .req_set_trailer = svc_req_set_trailer,
};

const struct cairn_services *fake_services(void)
{
    return &services;
}
