/*
 * test-http-bucket-cache.c -- the per-backend bucket cache (core/bucket-cache.c)
 * in front of a counting fake backend: reads are answered from memory, every
 * bucket write invalidates, errors are never cached, entries expire, a read
 * racing a write never puts back the old value, and the other operations are
 * the backend's own.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "bucket-cache.h"
#include "request.h"
#include "tap.h"

/* The fake backend: one bucket "b1" owned by "alice" with a "policy". */
static struct {
    int heads, gets, puts, deletes, creates, bucket_deletes;
    char policy[256];
    int has_policy;
    int bucket_exists;
    struct bucket_cache *race_with; /* invalidate during the next config read */
} fake;

static int fake_head(void *state, struct cairn_req *req, const char *bucket,
                     struct cairn_bucket_info *info_r)
{
    (void)state;
    fake.heads++;
    if (!fake.bucket_exists || strcmp(bucket, "b1") != 0)
        return CAIRN_E_NO_SUCH_BUCKET;
    info_r->name = arena_strdup(req->arena, bucket);
    info_r->owner = arena_strdup(req->arena, "alice");
    info_r->created_ms = 1234;
    return 0;
}

static int fake_config_get(void *state, struct cairn_req *req, const char *bucket,
                           const char *name, char **data_r, size_t *len_r)
{
    (void)state;
    fake.gets++;
    if (!fake.bucket_exists || strcmp(bucket, "b1") != 0)
        return CAIRN_E_NO_SUCH_BUCKET;
    if (strcmp(name, "policy") != 0 || !fake.has_policy)
        return CAIRN_E_NO_SUCH_CONFIG;
    *data_r = arena_strdup(req->arena, fake.policy);
    *len_r = strlen(fake.policy);
    if (fake.race_with) {
        /* A write lands while this read is on its way back. */
        struct bucket_cache *bc = fake.race_with;
        fake.race_with = NULL;
        snprintf(fake.policy, sizeof(fake.policy), "raced");
        bucket_cache_invalidate(bc, bucket);
    }
    return 0;
}

static int fake_config_put(void *state, struct cairn_req *req, const char *bucket,
                           const char *name, const void *data, size_t len)
{
    (void)state, (void)req, (void)bucket, (void)name;
    fake.puts++;
    snprintf(fake.policy, sizeof(fake.policy), "%.*s", (int)len, (const char *)data);
    fake.has_policy = 1;
    return 0;
}

static int fake_config_delete(void *state, struct cairn_req *req, const char *bucket,
                              const char *name)
{
    (void)state, (void)req, (void)bucket, (void)name;
    fake.deletes++;
    fake.has_policy = 0;
    return 0;
}

static int fake_create(void *state, struct cairn_req *req, const struct cairn_bucket_info *b)
{
    (void)state, (void)req, (void)b;
    fake.creates++;
    fake.bucket_exists = 1;
    return 0;
}

static int fake_bucket_delete(void *state, struct cairn_req *req, const char *bucket)
{
    (void)state, (void)req, (void)bucket;
    fake.bucket_deletes++;
    fake.bucket_exists = 0;
    return 0;
}

static int fake_object_get(void *state, struct cairn_req *req, const struct cairn_get *get)
{
    (void)state, (void)req, (void)get;
    return 0;
}

static const struct cairn_backend_ops fake_ops = {
    .size = sizeof(struct cairn_backend_ops),
    .bucket_create = fake_create,
    .bucket_delete = fake_bucket_delete,
    .bucket_head = fake_head,
    .bucket_config_get = fake_config_get,
    .bucket_config_put = fake_config_put,
    .bucket_config_delete = fake_config_delete,
    .object_get = fake_object_get,
};

static int fake_state;

/* Reads the policy through `ops`: 1 present (copied to out), 0 absent, <0 error. */
static int get_policy(const struct cairn_backend_ops *ops, struct cairn_req *req, const char *bucket,
                      char *out, size_t cap)
{
    char *data = NULL;
    size_t len = 0;
    int rc = ops->bucket_config_get(&fake_state, req, bucket, "policy", &data, &len);
    if (rc == CAIRN_E_NO_SUCH_CONFIG)
        return 0;
    if (rc < 0)
        return rc;
    snprintf(out, cap, "%.*s", (int)len, data);
    return 1;
}

int main(void)
{
    struct cairn_req req = {.request_id = "TEST", .arena = arena_new()};
    memset(&fake, 0, sizeof(fake));
    fake.bucket_exists = 1;
    fake.has_policy = 1;
    snprintf(fake.policy, sizeof(fake.policy), "{\"v\":1}");

    struct bucket_cache *bc = bucket_cache_new(&fake_ops, &fake_state, 60000, 4);
    ok(bc != NULL, "cache made");
    ok(bucket_cache_new(&fake_ops, &fake_state, 60000, 4) == NULL,
       "a second cache for the same backend is refused");
    const struct cairn_backend_ops *ops = bucket_cache_ops(bc);
    ok(ops && ops != &fake_ops && bucket_cache_backend(bc) == &fake_ops, "own table, wraps the backend's");
    ok(ops->object_get == fake_object_get && ops->size == fake_ops.size,
       "other operations are the backend's own");

    /* Head: read once, then from memory. */
    struct cairn_bucket_info info;
    memset(&info, 0, sizeof(info));
    ok(ops->bucket_head(&fake_state, &req, "b1", &info) == 0 && strcmp(info.owner, "alice") == 0 &&
           info.created_ms == 1234 && strcmp(info.name, "b1") == 0,
       "head: first read from the backend");
    memset(&info, 0, sizeof(info));
    ok(ops->bucket_head(&fake_state, &req, "b1", &info) == 0 && strcmp(info.owner, "alice") == 0 &&
           info.created_ms == 1234,
       "head: second answer the same");
    is_int(fake.heads, 1, "head: the backend was asked once");

    /* Config documents, present and absent. */
    char buf[256];
    ok(get_policy(ops, &req, "b1", buf, sizeof(buf)) == 1 && strcmp(buf, "{\"v\":1}") == 0,
       "policy: first read");
    ok(get_policy(ops, &req, "b1", buf, sizeof(buf)) == 1 && strcmp(buf, "{\"v\":1}") == 0,
       "policy: cached read");
    char *data = NULL;
    size_t len = 0;
    is_int(ops->bucket_config_get(&fake_state, &req, "b1", "versioning", &data, &len),
           CAIRN_E_NO_SUCH_CONFIG, "absent document: NoSuchConfig");
    is_int(ops->bucket_config_get(&fake_state, &req, "b1", "versioning", &data, &len),
           CAIRN_E_NO_SUCH_CONFIG, "absent document: NoSuchConfig again");
    is_int(fake.gets, 2, "config: the backend was asked once per document");

    /* Writes invalidate. */
    ok(ops->bucket_config_put(&fake_state, &req, "b1", "policy", "{\"v\":2}", 7) == 0 &&
           fake.puts == 1,
       "put goes to the backend");
    ok(get_policy(ops, &req, "b1", buf, sizeof(buf)) == 1 && strcmp(buf, "{\"v\":2}") == 0,
       "policy after put: the new document");
    is_int(fake.gets, 3, "policy after put: read from the backend");
    ok(ops->bucket_config_delete(&fake_state, &req, "b1", "policy") == 0 && fake.deletes == 1,
       "delete goes to the backend");
    is_int(get_policy(ops, &req, "b1", buf, sizeof(buf)), 0, "policy after delete: absent");
    ok(ops->bucket_delete(&fake_state, &req, "b1") == 0 && fake.bucket_deletes == 1,
       "bucket delete goes to the backend");
    is_int(ops->bucket_head(&fake_state, &req, "b1", &info), CAIRN_E_NO_SUCH_BUCKET,
           "head after bucket delete: NoSuchBucket");
    is_int(get_policy(ops, &req, "b1", buf, sizeof(buf)), CAIRN_E_NO_SUCH_BUCKET,
           "config after bucket delete: NoSuchBucket");
    int heads = fake.heads;
    is_int(ops->bucket_head(&fake_state, &req, "b1", &info), CAIRN_E_NO_SUCH_BUCKET,
           "errors are not cached: NoSuchBucket again");
    is_int(fake.heads, heads + 1, "errors are not cached: the backend was asked again");
    struct cairn_bucket_info nb = {.name = "b1", .owner = "bob"};
    ok(ops->bucket_create(&fake_state, &req, &nb) == 0 && fake.creates == 1,
       "create goes to the backend");
    ok(ops->bucket_head(&fake_state, &req, "b1", &info) == 0, "head after create: found");

    /* A read racing a write does not put the old value back. */
    fake.has_policy = 1;
    snprintf(fake.policy, sizeof(fake.policy), "old");
    bucket_cache_invalidate(bc, NULL);
    fake.race_with = bc;
    ok(get_policy(ops, &req, "b1", buf, sizeof(buf)) == 1 && strcmp(buf, "old") == 0,
       "racing read: answers what it read");
    ok(get_policy(ops, &req, "b1", buf, sizeof(buf)) == 1 && strcmp(buf, "raced") == 0,
       "racing read: the next read sees the write, not the stale value");

    /* More buckets than the bound: still correct answers. */
    int gets = fake.gets;
    for (int i = 0; i < 10; i++) {
        char name[16];
        snprintf(name, sizeof(name), "x%d", i);
        get_policy(ops, &req, name, buf, sizeof(buf)); /* NoSuchBucket, not cached */
    }
    is_int(fake.gets, gets + 10, "unknown buckets go to the backend every time");
    bucket_cache_free(bc);

    /* Entries expire. */
    bc = bucket_cache_new(&fake_ops, &fake_state, 30, 4);
    ops = bucket_cache_ops(bc);
    heads = fake.heads;
    ops->bucket_head(&fake_state, &req, "b1", &info);
    ops->bucket_head(&fake_state, &req, "b1", &info);
    is_int(fake.heads, heads + 1, "short TTL: cached at first");
    usleep(60 * 1000);
    ops->bucket_head(&fake_state, &req, "b1", &info);
    is_int(fake.heads, heads + 2, "short TTL: read again after expiry");
    bucket_cache_free(bc);

    /* A backend without the optional reads keeps them NULL. */
    struct cairn_backend_ops bare = {.size = sizeof(bare), .object_get = fake_object_get};
    bc = bucket_cache_new(&bare, &fake_state, 1000, 4);
    ok(bc && bucket_cache_ops(bc)->bucket_config_get == NULL &&
           bucket_cache_ops(bc)->bucket_head == NULL,
       "missing operations stay missing");
    bucket_cache_free(bc);

    arena_free(req.arena);
    return tap_done();
}
