/* services.c -- the `struct cairn_services` table every plugin receives. */
#include <time.h>

#include <openssl/rand.h>

#include "arena.h"
#include "body-ref.h"
#include "checksum.h"
#include "iam-store.h"
#include "metrics.h"
#include "plugin-config.h"
#include "request.h"
#include "services.h"

static void *svc_req_alloc(struct cairn_req *req, size_t size)
{
    if (!req || !req->arena)
        return NULL;
    return arena_alloc(req->arena, size);
}

static char *svc_req_strdup(struct cairn_req *req, const char *s)
{
    if (!req || !req->arena)
        return NULL;
    return arena_strdup(req->arena, s);
}

static ssize_t svc_body_read(struct cairn_req *req, void *buf, size_t len)
{
    if (!req || !req->read)
        return CAIRN_E_INTERNAL;
    return req->read(req, buf, len);
}

static int svc_body_write(struct cairn_req *req, const void *buf, size_t len)
{
    if (!req || !req->write)
        return CAIRN_E_INTERNAL;
    return req->write(req, buf, len);
}

/* Straight to the socket when the request answers a client (see body-ref.h). */
static int svc_body_write_ref(struct cairn_req *req, const void *buf, size_t len,
                              void (*release)(const void *buf, void *arg), void *arg)
{
    return s3_req_write_ref(req, buf, len, release, arg);
}

static int svc_set_trailer(struct cairn_req *req, const char *name, const char *value)
{
    if (!req || !req->set_trailer)
        return CAIRN_E_INTERNAL;
    return req->set_trailer(req, name, value);
}

static int64_t svc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int svc_random_bytes(void *buf, size_t len)
{
    /* RAND_bytes takes an int length: feed large requests in pieces. */
    unsigned char *p = buf;
    while (len > 0) {
        int n = len > (1u << 30) ? (1 << 30) : (int)len;
        if (RAND_bytes(p, n) != 1)
            return CAIRN_E_INTERNAL;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static const struct cairn_services services = {
    .size = sizeof(struct cairn_services),
    .abi_major = CAIRN_ABI_MAJOR,
    .abi_minor = CAIRN_ABI_MINOR,
    .log = core_log,
    .config_string = plugin_config_string,
    .config_int = plugin_config_int,
    .config_list_count = plugin_config_list_count,
    .config_list_item = plugin_config_list_item,
    .req_alloc = svc_req_alloc,
    .req_strdup = svc_req_strdup,
    .body_read = svc_body_read,
    .body_write = svc_body_write,
    .hash_new = checksum_new,
    .hash_update = checksum_update,
    .hash_final = checksum_final,
    .hmac_sha256 = checksum_hmac_sha256,
    .now_ms = svc_now_ms,
    .random_bytes = svc_random_bytes,
    .metric_add = metrics_add,
    .iam_lookup = iam_lookup,
    .req_set_trailer = svc_set_trailer,
    .body_write_ref = svc_body_write_ref,
};

const struct cairn_services *core_services(void)
{
    return &services;
}
