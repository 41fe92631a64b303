/*
 * conformance.c -- the backend conformance suite.
 *
 *     cairn-conformance PLUGIN.la|.so [key=value ...]
 *
 * Loads any backend plugin through the core's real loader, hands it a fake core
 * (fake-core.c), and checks the contract of `struct cairn_backend_ops` as
 * <cairn/plugin.h> writes it: one TAP line per check on stdout, the plugin's
 * log on stderr.
 *
 * The suite makes a temporary folder and replaces "@TMP@" in every value with
 * it; every value (and list item) that then names a path inside it is created
 * as a folder before the plugin is loaded -- those are the plugin's
 * directories, and at the end the suite checks that nothing was created
 * anywhere else in the temporary folder.  Without arguments the settings are
 * `root=@TMP@/root drives=@TMP@/drive1,...,@TMP@/drive4`.  Set
 * CAIRN_CONFORMANCE_KEEP=1 to keep the folder for inspection.  The run gives
 * up ("Bail out!") after CAIRN_CONFORMANCE_TIMEOUT seconds (default 600).
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairn/plugin.h>

#include "fake-core.h"
#include "plugin-loader.h"
#include "tap.h"

#define MiB (1024 * 1024)
#define BUCKET "conformance"
#define OWNER "conformance-owner"

static const struct cairn_backend_ops *ops;
static void *state;

/* ------------------------------------------------------------------------ */
/* Calling the backend                                                       */
/* ------------------------------------------------------------------------ */

static const char *err_name(int rc)
{
    switch (rc) {
#define X(name, value, code, status, msg)                                                   \
    case value: return "CAIRN_E_" #name;
        CAIRN_ERROR_TABLE(X)
#undef X
    case 0: return "0";
    case 1: return "1";
    default: return "(unknown)";
    }
}

/* Like is_int, but names the error codes. */
#define is_rc(got, want, ...)                                                          \
    do {                                                                               \
        int g_ = (got), w_ = (want);                                                   \
        if (!ok(g_ == w_, __VA_ARGS__))                                                \
            printf("#   got %d %s, want %d %s\n", g_, err_name(g_), w_, err_name(w_));  \
    } while (0)

static int create_bucket(const char *name)
{
    struct fake_req *r = fake_req_new(NULL, NULL);
    struct cairn_bucket_info b = {.name = name, .created_ms = fake_services()->now_ms(),
                                  .owner = OWNER};
    int rc = ops->bucket_create(state, &r->req, &b);
    fake_req_free(r);
    return rc;
}

static int delete_bucket(const char *name)
{
    struct fake_req *r = fake_req_new(NULL, NULL);
    int rc = ops->bucket_delete(state, &r->req, name);
    fake_req_free(r);
    return rc;
}

/* What a put stored, copied out of request memory. */
struct put_result {
    uint64_t size;
    char etag[80];
};

/*
 * PUTs `size` bytes of stream `seed` to bucket/key with `attrs`; when
 * fail_after >= 0 the body fails with CAIRN_E_BAD_DIGEST after that many bytes.
 */
static int put_object_ex(const char *bucket, const char *key, uint32_t seed, uint64_t size,
                         int64_t fail_after, size_t n_attrs, const struct cairn_kv *attrs,
                         struct put_result *res)
{
    struct fake_body body;
    fake_body_init(&body, seed, size);
    body.fail_after = fail_after;
    body.fail_error = CAIRN_E_BAD_DIGEST;
    struct fake_req *r = fake_req_new(&body, NULL);
    struct cairn_object_info info = {0};
    struct cairn_put put = {.bucket = bucket,
                            .key = key,
                            .content_length = (int64_t)size,
                            .versioning = CAIRN_VERSIONING_OFF,
                            .n_attrs = n_attrs,
                            .attrs = attrs,
                            .final = &body.final};
    int rc = ops->object_put(state, &r->req, &put, &info);
    if (res) {
        res->size = info.size;
        memcpy(res->etag, info.etag, sizeof res->etag);
        res->etag[sizeof res->etag - 1] = '\0';
    }
    fake_body_release(&body);
    fake_req_free(r);
    return rc;
}

/* A PUT whose length is unknown until the body ends (chunked, aws-chunked). */
static int put_object_unknown_length(const char *bucket, const char *key, uint32_t seed,
                                     uint64_t size, struct put_result *res)
{
    struct fake_body body;
    fake_body_init(&body, seed, size);
    struct fake_req *r = fake_req_new(&body, NULL);
    struct cairn_object_info info = {0};
    struct cairn_put put = {.bucket = bucket,
                            .key = key,
                            .content_length = -1,
                            .versioning = CAIRN_VERSIONING_OFF,
                            .final = &body.final};
    int rc = ops->object_put(state, &r->req, &put, &info);
    res->size = info.size;
    snprintf(res->etag, sizeof res->etag, "%s", info.etag);
    fake_body_release(&body);
    fake_req_free(r);
    return rc;
}

static int put_object(const char *bucket, const char *key, uint32_t seed, uint64_t size)
{
    return put_object_ex(bucket, key, seed, size, -1, 0, NULL, NULL);
}

/* How decide() answers, and what it saw. */
struct get_ctx {
    int answer;            /* 0: stream the range; 1: no body; < 0: this error */
    int64_t offset, length; /* length < 0: to the end */
    unsigned calls;
    struct cairn_object_info info; /* attrs point into request memory */
};

static int decide(void *ctx, const struct cairn_object_info *info, uint64_t *offset_r,
                  uint64_t *length_r)
{
    struct get_ctx *g = ctx;
    g->calls++;
    g->info = *info;
    if (g->answer != 0)
        return g->answer;
    *offset_r = (uint64_t)g->offset;
    *length_r = g->length < 0 ? info->size - (uint64_t)g->offset : (uint64_t)g->length;
    return 0;
}

/*
 * GETs bucket/key with decide() answering as `g` says; the body goes into
 * `sink`.  When `r_out` is set the request stays alive (g->info's attrs stay
 * valid) and the caller frees it.
 */
static int get_object(const char *bucket, const char *key, struct get_ctx *g,
                      struct fake_sink *sink, struct fake_req **r_out)
{
    struct fake_req *r = fake_req_new(NULL, sink);
    struct cairn_get get = {.bucket = bucket, .key = key, .version_id = NULL, .decide = decide,
                            .ctx = g};
    int rc = ops->object_get(state, &r->req, &get);
    fake_sink_finish(sink);
    if (r_out)
        *r_out = r;
    else
        fake_req_free(r);
    return rc;
}

/* 1 when GET bucket/key streams exactly bytes [offset, offset+length) of `seed`. */
static int get_matches(const char *bucket, const char *key, uint32_t seed, uint64_t offset,
                       int64_t length, uint64_t want_len)
{
    struct get_ctx g = {.answer = 0, .offset = (int64_t)offset, .length = length};
    struct fake_sink sink;
    uint8_t want[32];
    fake_sink_init(&sink, -1);
    int rc = get_object(bucket, key, &g, &sink, NULL);
    fake_stream_sha256(seed, offset, want_len, want);
    if (rc != 0)
        printf("#   get %s: %s\n", key, err_name(rc));
    else if (sink.received != want_len)
        printf("#   got %" PRIu64 " bytes, want %" PRIu64 "\n", sink.received, want_len);
    return rc == 0 && sink.received == want_len && memcmp(sink.digest, want, 32) == 0;
}

/* The result of a HEAD (decide returns 1). */
static int head_object(const char *bucket, const char *key, struct get_ctx *g,
                       struct fake_sink *sink, struct fake_req **r_out)
{
    g->answer = 1;
    fake_sink_init(sink, -1);
    return get_object(bucket, key, g, sink, r_out);
}

static int delete_object(const char *bucket, const char *key)
{
    struct fake_req *r = fake_req_new(NULL, NULL);
    struct cairn_object_info info;
    int rc = ops->object_delete(state, &r->req, bucket, key, NULL, CAIRN_VERSIONING_OFF, &info);
    fake_req_free(r);
    return rc;
}

/* The expected (hex) MD5 of bytes of stream `seed`. */
static void stream_md5_hex(uint32_t seed, uint64_t size, char out[33])
{
    uint8_t buf[65536], digest[32];
    const struct cairn_services *sv = fake_services();
    struct cairn_hash *h = sv->hash_new(CAIRN_HASH_MD5);
    for (uint64_t pos = 0; pos < size;) {
        size_t n = size - pos < sizeof buf ? (size_t)(size - pos) : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = fake_byte(seed, pos + i);
        sv->hash_update(h, buf, n);
        pos += n;
    }
    sv->hash_final(h, digest);
    fake_hex(digest, 16, out);
}

static const char *attr_of(const struct cairn_object_info *info, const char *name)
{
    for (size_t i = 0; i < info->n_attrs; i++)
        if (strcmp(info->attrs[i].name, name) == 0)
            return info->attrs[i].value;
    return NULL;
}

/* ---- listing ----------------------------------------------------------- */

/* Collects listing entries as "key" or "key/" + " (prefix)" lines. */
struct listing {
    char *entries[256];
    int is_prefix[256];
    uint64_t sizes[256];
    char etags[256][80];
    size_t n;
    size_t stop_after; /* emit returns 1 after this many (0: never) */
    int fail;          /* emit returns this error at once (0: never) */
    int versions_ok;   /* with versions=1: every entry had a version_id */
};

static int list_emit(void *ctx, const struct cairn_list_entry *e)
{
    struct listing *l = ctx;
    if (l->fail)
        return l->fail;
    if (l->n == sizeof l->entries / sizeof *l->entries)
        return CAIRN_E_INTERNAL;
    l->entries[l->n] = strdup(e->key);
    l->is_prefix[l->n] = e->kind == CAIRN_LIST_PREFIX;
    l->sizes[l->n] = e->info.size;
    memcpy(l->etags[l->n], e->info.etag, sizeof l->etags[l->n]);
    l->etags[l->n][79] = '\0';
    if (e->kind == CAIRN_LIST_OBJECT && !e->info.version_id[0])
        l->versions_ok = 0;
    l->n++;
    return l->stop_after && l->n >= l->stop_after ? 1 : 0;
}

static void listing_clear(struct listing *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->entries[i]);
    l->n = 0;
}

static int list_objects_ex(const char *bucket, const char *prefix, const char *delimiter,
                           const char *after, int versions, struct listing *l)
{
    struct fake_req *r = fake_req_new(NULL, NULL);
    struct cairn_list list = {.bucket = bucket,
                              .prefix = prefix,
                              .delimiter = delimiter,
                              .after = after,
                              .after_version = "",
                              .versions = versions,
                              .emit = list_emit,
                              .ctx = l};
    l->versions_ok = 1;
    int rc = ops->object_list(state, &r->req, &list);
    fake_req_free(r);
    return rc;
}

static int list_objects(const char *bucket, const char *prefix, const char *delimiter,
                        const char *after, struct listing *l)
{
    return list_objects_ex(bucket, prefix, delimiter, after, 0, l);
}

/* Joins a listing as "a,b/,c" with prefixes marked by a trailing "(P)". */
static void listing_join(const struct listing *l, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < l->n; i++)
        used += (size_t)snprintf(out + used, used < cap ? cap - used : 0, "%s%s%s",
                                 i ? "," : "", l->entries[i], l->is_prefix[i] ? "(P)" : "");
}

/* One check: the listing equals `want` (joined as listing_join writes it). */
static void check_listing(const char *bucket, const char *prefix, const char *delimiter,
                          const char *after, const char *want, const char *name)
{
    struct listing l = {0};
    char got[8192];
    int rc = list_objects(bucket, prefix, delimiter, after, &l);
    listing_join(&l, got, sizeof got);
    if (rc != 0)
        snprintf(got, sizeof got, "error %s", err_name(rc));
    is_str(got, want, "%s", name);
    listing_clear(&l);
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                    */
/* ------------------------------------------------------------------------ */

static int emit_bucket(void *ctx, const struct cairn_bucket_info *b)
{
    struct listing *l = ctx;
    if (l->n < sizeof l->entries / sizeof *l->entries)
        l->entries[l->n++] = strdup(b->name);
    return 0;
}

static void check_ops_table(void)
{
    ok(ops->size >= sizeof(struct cairn_backend_ops), "operations table holds every 1.0 method");
    int all = ops->bucket_create && ops->bucket_delete && ops->bucket_head && ops->bucket_list &&
              ops->bucket_config_get && ops->bucket_config_put && ops->bucket_config_delete &&
              ops->object_put && ops->object_get && ops->object_delete &&
              ops->object_set_attrs && ops->object_list && ops->mpu_create &&
              ops->mpu_put_part && ops->mpu_list_parts && ops->mpu_complete && ops->mpu_abort &&
              ops->mpu_list;
    ok(all, "every required method is set (heal is optional)");
}

static void check_buckets(int64_t t0)
{
    struct fake_req *r;
    struct cairn_bucket_info info;

    is_rc(create_bucket(BUCKET), 0, "bucket_create");
    is_rc(create_bucket(BUCKET), CAIRN_E_BUCKET_OWNED_BY_YOU,
          "bucket_create of an existing bucket of the same owner: BUCKET_OWNED_BY_YOU");
    is_rc(create_bucket(".conformance-sys"), 0, "bucket_create of a reserved '.' bucket");
    is_rc(create_bucket("conformance-b"), 0, "bucket_create of a second bucket");

    r = fake_req_new(NULL, NULL);
    int rc = ops->bucket_head(state, &r->req, BUCKET, &info);
    int64_t now = fake_services()->now_ms();
    if (!ok(rc == 0 && info.name && strcmp(info.name, BUCKET) == 0 &&
                info.created_ms >= t0 - 2000 && info.created_ms <= now + 2000,
            "bucket_head: name and creation time"))
        printf("#   rc %s, name %s, created_ms %" PRId64 " (suite started at %" PRId64 ")\n",
               err_name(rc), rc == 0 && info.name ? info.name : "(null)",
               rc == 0 ? info.created_ms : 0, t0);
    ok(rc == 0 && info.owner && strcmp(info.owner, OWNER) == 0, "bucket_head: owner");
    is_rc(ops->bucket_head(state, &r->req, "conformance-absent", &info), CAIRN_E_NO_SUCH_BUCKET,
          "bucket_head of an absent bucket: NO_SUCH_BUCKET");
    fake_req_free(r);

    struct listing l = {0};
    char got[1024];
    r = fake_req_new(NULL, NULL);
    rc = ops->bucket_list(state, &r->req, emit_bucket, &l);
    fake_req_free(r);
    listing_join(&l, got, sizeof got);
    is_str(got, ".conformance-sys,conformance,conformance-b", "bucket_list in byte order");
    listing_clear(&l);

    is_rc(delete_bucket("conformance-absent"), CAIRN_E_NO_SUCH_BUCKET,
          "bucket_delete of an absent bucket: NO_SUCH_BUCKET");
    is_rc(delete_bucket(".conformance-sys"), 0, "bucket_delete of an empty bucket");
    r = fake_req_new(NULL, NULL);
    is_rc(ops->bucket_head(state, &r->req, ".conformance-sys", &info), CAIRN_E_NO_SUCH_BUCKET,
          "bucket_head after bucket_delete: NO_SUCH_BUCKET");
    fake_req_free(r);
    is_rc(put_object("conformance-absent", "k", 1, 10), CAIRN_E_NO_SUCH_BUCKET,
          "object_put into an absent bucket: NO_SUCH_BUCKET");
}

static void check_put_get_sizes(int64_t t0)
{
    static const uint64_t sizes[] = {0, 1, MiB + 1, 5 * MiB};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        uint64_t size = sizes[i];
        uint32_t seed = 100 + (uint32_t)i;
        char key[64], md5[33];
        struct put_result res;
        snprintf(key, sizeof key, "size/%" PRIu64, size);
        stream_md5_hex(seed, size, md5);
        int rc = put_object_ex(BUCKET, key, seed, size, -1, 0, NULL, &res);
        ok(rc == 0 && res.size == size && strcmp(res.etag, md5) == 0,
           "put %" PRIu64 " B: stored size and MD5 ETag reported", size);
        if (rc != 0)
            printf("#   put: %s\n", err_name(rc));
        ok(get_matches(BUCKET, key, seed, 0, -1, size), "get %" PRIu64 " B: byte-exact", size);

        struct get_ctx g = {0};
        struct fake_sink sink;
        rc = head_object(BUCKET, key, &g, &sink, NULL);
        ok(rc == 0 && g.calls == 1 && g.info.size == size && strcmp(g.info.etag, md5) == 0,
           "head %" PRIu64 " B: decide() sees size and ETag", size);
        ok(rc == 0 && sink.received == 0 && sink.writes == 0,
           "head %" PRIu64 " B: decide() returning 1 streams nothing", size);
        int64_t now = fake_services()->now_ms();
        if (!ok(rc == 0 && g.info.mtime_ms >= t0 - 2000 && g.info.mtime_ms <= now + 2000,
                "head %" PRIu64 " B: mtime is the time of the put", size))
            printf("#   mtime_ms %" PRId64 ", suite started at %" PRId64 "\n", g.info.mtime_ms, t0);
    }
}

static void check_unknown_length(void)
{
    struct put_result res;
    char md5[33];
    stream_md5_hex(110, 300001, md5);
    int rc = put_object_unknown_length(BUCKET, "chunked", 110, 300001, &res);
    ok(rc == 0 && res.size == 300001 && strcmp(res.etag, md5) == 0,
       "put with an unknown length (content_length -1): size and ETag");
    ok(get_matches(BUCKET, "chunked", 110, 0, -1, 300001), "get of it: byte-exact");
    is_rc(delete_object(BUCKET, "chunked"), 0, "delete it");
}

static void check_get_details(void)
{
    const uint64_t size = MiB + 1;
    const char *key = "size/1048577";
    const uint32_t seed = 102;

    ok(get_matches(BUCKET, key, seed, 0, 1, 1), "range: first byte");
    ok(get_matches(BUCKET, key, seed, size - 1, 1, 1), "range: last byte");
    ok(get_matches(BUCKET, key, seed, 1000, 300000, 300000), "range: middle");
    ok(get_matches(BUCKET, key, seed, 0, (int64_t)size, size), "range: whole object");
    ok(get_matches(BUCKET, key, seed, 70000, -1, size - 70000), "range: from an offset to the end");

    struct get_ctx g = {.answer = CAIRN_E_PRECONDITION_FAILED};
    struct fake_sink sink;
    fake_sink_init(&sink, -1);
    is_rc(get_object(BUCKET, key, &g, &sink, NULL), CAIRN_E_PRECONDITION_FAILED,
          "decide() error is returned as the get's result");
    ok(sink.received == 0, "decide() error: nothing streamed");

    memset(&g, 0, sizeof g);
    g.length = -1;
    fake_sink_init(&sink, 100000);
    is_rc(get_object(BUCKET, key, &g, &sink, NULL), CAIRN_E_CLIENT_GONE,
          "get to a client that goes away returns CLIENT_GONE");

    memset(&g, 0, sizeof g);
    fake_sink_init(&sink, -1);
    is_rc(get_object(BUCKET, "absent", &g, &sink, NULL), CAIRN_E_NO_SUCH_KEY,
          "get of an absent key: NO_SUCH_KEY");
    ok(g.calls == 0, "get of an absent key does not call decide()");
    is_rc(head_object(BUCKET, "absent", &g, &sink, NULL), CAIRN_E_NO_SUCH_KEY,
          "head of an absent key: NO_SUCH_KEY");
    fake_sink_init(&sink, -1);
    is_rc(get_object("conformance-absent", "k", &g, &sink, NULL), CAIRN_E_NO_SUCH_BUCKET,
          "get in an absent bucket: NO_SUCH_BUCKET");
}

static void check_attrs_overwrite_delete(void)
{
    const struct cairn_kv attrs[] = {{"content-type", "text/plain; charset=utf-8"},
                                     {"cache-control", "no-cache"},
                                     {"x-amz-meta-colour", "blue, green"},
                                     {"x-amz-meta-empty", ""}};
    struct get_ctx g = {0};
    struct fake_sink sink;
    struct fake_req *r;
    char want_crc[16];

    is_rc(put_object_ex(BUCKET, "attrs", 7, 5000, -1, 4, attrs, NULL), 0, "put with attrs");
    int rc = head_object(BUCKET, "attrs", &g, &sink, &r);
    int same = rc == 0;
    for (size_t i = 0; same && i < 4; i++) {
        const char *v = attr_of(&g.info, attrs[i].name);
        same = v && strcmp(v, attrs[i].value) == 0;
    }
    ok(same, "attrs come back verbatim");
    size_t order = 0;
    for (size_t i = 0; rc == 0 && i < g.info.n_attrs && order < 4; i++)
        if (strcmp(g.info.attrs[i].name, attrs[order].name) == 0)
            order++;
    ok(order == 4, "attrs come back in their order");
    /* The fake core puts x-amz-checksum-crc32 into put->final, as the real one does. */
    struct fake_body b;
    fake_body_init(&b, 7, 5000);
    uint8_t buf[5000];
    struct fake_req *br = fake_req_new(&b, NULL);
    while (fake_services()->body_read(&br->req, buf, sizeof buf) > 0)
        ;
    snprintf(want_crc, sizeof want_crc, "%s", b.crc_b64);
    fake_req_free(br);
    const char *crc = rc == 0 ? attr_of(&g.info, "x-amz-checksum-crc32") : NULL;
    ok(crc && strcmp(crc, want_crc) == 0,
       "checksum attrs the core computed (put->final) are stored");
    fake_req_free(r);

    /* set_attrs replaces attrs and leaves the data alone. */
    const struct cairn_kv tags[] = {{"content-type", "application/x-new"},
                                    {"x-amz-tagging", "a=1&b=2"}};
    r = fake_req_new(NULL, NULL);
    is_rc(ops->object_set_attrs(state, &r->req, BUCKET, "attrs", NULL, 2, tags), 0,
          "object_set_attrs");
    is_rc(ops->object_set_attrs(state, &r->req, BUCKET, "absent", NULL, 2, tags),
          CAIRN_E_NO_SUCH_KEY, "object_set_attrs of an absent key: NO_SUCH_KEY");
    fake_req_free(r);
    memset(&g, 0, sizeof g);
    rc = head_object(BUCKET, "attrs", &g, &sink, &r);
    const char *ct = rc == 0 ? attr_of(&g.info, "content-type") : NULL;
    const char *tg = rc == 0 ? attr_of(&g.info, "x-amz-tagging") : NULL;
    ok(ct && strcmp(ct, "application/x-new") == 0 && tg && strcmp(tg, "a=1&b=2") == 0 &&
           !attr_of(&g.info, "x-amz-meta-colour"),
       "object_set_attrs: the new attrs replace the old ones");
    ok(rc == 0 && g.info.size == 5000, "object_set_attrs: size unchanged");
    fake_req_free(r);
    ok(get_matches(BUCKET, "attrs", 7, 0, -1, 5000), "object_set_attrs: data unchanged");

    /* Overwrite and delete. */
    is_rc(put_object(BUCKET, "attrs", 8, 3000), 0, "overwrite an object");
    ok(get_matches(BUCKET, "attrs", 8, 0, -1, 3000), "get after overwrite: the new bytes");
    is_rc(delete_object(BUCKET, "attrs"), 0, "object_delete");
    memset(&g, 0, sizeof g);
    fake_sink_init(&sink, -1);
    is_rc(get_object(BUCKET, "attrs", &g, &sink, NULL), CAIRN_E_NO_SUCH_KEY,
          "get after delete: NO_SUCH_KEY");
    is_rc(delete_object(BUCKET, "attrs"), 0, "delete of an absent key succeeds");
    is_rc(delete_object("conformance-absent", "attrs"), CAIRN_E_NO_SUCH_BUCKET,
          "delete in an absent bucket: NO_SUCH_BUCKET");
}

static void check_aborted_puts(void)
{
    struct get_ctx g = {0};
    struct fake_sink sink;
    struct listing l = {0};

    is_rc(create_bucket("conformance-abort"), 0, "bucket_create for aborted puts");
    is_rc(put_object_ex("conformance-abort", "new", 5, 2 * MiB, 100000, 0, NULL, NULL),
          CAIRN_E_BAD_DIGEST, "put whose body fails mid-stream returns the body's error");
    fake_sink_init(&sink, -1);
    is_rc(get_object("conformance-abort", "new", &g, &sink, NULL), CAIRN_E_NO_SUCH_KEY,
          "aborted put of a new key: get gives NO_SUCH_KEY");
    int rc = list_objects("conformance-abort", "", "", "", &l);
    ok(rc == 0 && l.n == 0, "aborted put of a new key: listing is empty");
    listing_clear(&l);
    is_rc(put_object_ex("conformance-abort", "zero", 5, 10, 0, 0, NULL, NULL), CAIRN_E_BAD_DIGEST,
          "put whose body fails before the first byte returns the error");

    is_rc(put_object("conformance-abort", "old", 6, 300000), 0, "put an object to overwrite");
    is_rc(put_object_ex("conformance-abort", "old", 9, MiB, 500000, 0, NULL, NULL),
          CAIRN_E_BAD_DIGEST, "overwrite whose body fails mid-stream returns the error");
    ok(get_matches("conformance-abort", "old", 6, 0, -1, 300000),
       "aborted overwrite leaves the old object intact");
    rc = list_objects("conformance-abort", "", "", "", &l);
    ok(rc == 0 && l.n == 1 && strcmp(l.entries[0], "old") == 0 && l.sizes[0] == 300000,
       "aborted overwrite: listing shows the old object");
    listing_clear(&l);

    is_rc(delete_bucket("conformance-abort"), CAIRN_E_BUCKET_NOT_EMPTY,
          "bucket_delete of a bucket with an object: BUCKET_NOT_EMPTY");
    is_rc(delete_object("conformance-abort", "old"), 0, "delete the object");
    is_rc(delete_bucket("conformance-abort"), 0, "bucket_delete once empty");
}

static void check_listing_all(void)
{
    /* "a-b" < "a/" < "a0" in byte order ('-' 0x2d, '/' 0x2f, '0' 0x30). */
    static const char *const keys[] = {
        "a0",         "a/c",     "a-b",        "b",         "a/d/e",      "a/c/",
        "\xc3\xa9t\xc3\xa9", /* été */      "z",          "\xe6\x97\xa5", /* 日 */
        "x--y--z",    "x--w",    "x-y",        "A",         "a/d/f",
    };
    const size_t n_keys = sizeof keys / sizeof *keys;
    const char *bucket = "conformance-b";
    int all = 1;
    for (size_t i = 0; i < n_keys; i++)
        all &= put_object(bucket, keys[i], 200 + (uint32_t)i, i) == 0;
    ok(all, "put %zu keys for listing", n_keys);

    const char *sorted = "A,a-b,a/c,a/c/,a/d/e,a/d/f,a0,b,x--w,x--y--z,x-y,z,\xc3\xa9t\xc3\xa9,"
                         "\xe6\x97\xa5";
    check_listing(bucket, "", "", "", sorted, "list: every key in byte order (unicode last)");

    struct listing l = {0};
    int rc = list_objects(bucket, "", "", "", &l);
    int sizes_ok = rc == 0 && l.n == n_keys;
    for (size_t i = 0; sizes_ok && i < l.n; i++) {
        size_t k = 0;
        while (k < n_keys && strcmp(keys[k], l.entries[i]) != 0)
            k++;
        char md5[33];
        stream_md5_hex(200 + (uint32_t)k, k, md5);
        sizes_ok = k < n_keys && l.sizes[i] == k && strcmp(l.etags[i], md5) == 0 &&
                   !l.is_prefix[i];
    }
    ok(sizes_ok, "list: entries carry size and ETag");
    listing_clear(&l);

    /* Pagination: pages of 3 resumed with `after` give the whole listing. */
    char joined[4096] = "", after[1100] = "";
    size_t pages = 0;
    for (;;) {
        struct listing page = {.stop_after = 3};
        if (list_objects(bucket, "", "", after, &page) != 0 || page.n == 0 || ++pages > 20) {
            listing_clear(&page);
            break;
        }
        for (size_t i = 0; i < page.n; i++)
            snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s",
                     joined[0] ? "," : "", page.entries[i]);
        snprintf(after, sizeof after, "%s", page.entries[page.n - 1]);
        int stopped_early = page.n > 3;
        listing_clear(&page);
        if (stopped_early) {
            printf("#   emit returned 1 but the listing went on\n");
            break;
        }
    }
    is_str(joined, sorted, "pagination: emit returning 1 stops, `after` resumes");
    ok(pages == 5, "pagination: 14 keys in pages of 3 take 5 pages");

    check_listing(bucket, "", "", "a0", "b,x--w,x--y--z,x-y,z,\xc3\xa9t\xc3\xa9,\xe6\x97\xa5",
                  "after: strictly greater keys");
    check_listing(bucket, "", "", "a/", "a/c,a/c/,a/d/e,a/d/f,a0,b,x--w,x--y--z,x-y,z,"
                  "\xc3\xa9t\xc3\xa9,\xe6\x97\xa5", "after: a key that does not exist");
    check_listing(bucket, "a/", "", "", "a/c,a/c/,a/d/e,a/d/f", "prefix");
    check_listing(bucket, "a/c", "", "", "a/c,a/c/", "prefix equal to a key");
    check_listing(bucket, "nothing", "", "", "", "prefix matching nothing");
    check_listing(bucket, "", "/", "",
                  "A,a-b,a/(P),a0,b,x--w,x--y--z,x-y,z,\xc3\xa9t\xc3\xa9,\xe6\x97\xa5",
                  "delimiter '/': a/ rolled up in byte order");
    check_listing(bucket, "a/", "/", "", "a/c,a/c/(P),a/d/(P)", "prefix a/ with delimiter '/'");
    check_listing(bucket, "", "/", "a/", "a0,b,x--w,x--y--z,x-y,z,\xc3\xa9t\xc3\xa9,\xe6\x97\xa5",
                  "delimiter '/' after the common prefix a/ skips everything under it");
    check_listing(bucket, "x", "--", "", "x--(P),x-y", "multi-character delimiter '--'");
    check_listing(bucket, "x--", "--", "", "x--w,x--y--(P)", "prefix with multi-character delimiter");

    struct listing pl = {.stop_after = 2};
    rc = list_objects(bucket, "", "/", "", &pl);
    char got[256];
    listing_join(&pl, got, sizeof got);
    ok(rc == 0 && strcmp(got, "A,a-b") == 0, "delimiter: stop after 2");
    listing_clear(&pl);
    pl.stop_after = 0;
    rc = list_objects(bucket, "", "/", "a-b", &pl);
    ok(rc == 0 && pl.n > 0 && strcmp(pl.entries[0], "a/") == 0 && pl.is_prefix[0],
       "delimiter: resuming after a-b gives the common prefix a/");
    listing_clear(&pl);

    struct listing fail = {.fail = CAIRN_E_CLIENT_GONE};
    is_rc(list_objects(bucket, "", "", "", &fail), CAIRN_E_CLIENT_GONE,
          "emit returning an error fails the listing with it");
    struct listing none = {0};
    is_rc(list_objects("conformance-absent", "", "", "", &none), CAIRN_E_NO_SUCH_BUCKET,
          "list in an absent bucket: NO_SUCH_BUCKET");

    struct listing v = {0};
    rc = list_objects_ex(bucket, "a/", "", "", 1, &v);
    listing_join(&v, got, sizeof got);
    ok(rc == 0 && strcmp(got, "a/c,a/c/,a/d/e,a/d/f") == 0 && v.versions_ok,
       "versions listing: one version per key, each with a version id");
    listing_clear(&v);

    for (size_t i = 0; i < n_keys; i++)
        all &= delete_object(bucket, keys[i]) == 0;
    ok(all, "delete the listed keys");
    check_listing(bucket, "", "", "", "", "list after deleting everything: empty");
}

/* ---- multipart --------------------------------------------------------- */

struct parts_seen {
    uint32_t numbers[16];
    uint64_t sizes[16];
    char etags[16][80];
    size_t n;
};

static int emit_part(void *ctx, const struct cairn_part_info *p)
{
    struct parts_seen *s = ctx;
    if (s->n < 16) {
        s->numbers[s->n] = p->number;
        s->sizes[s->n] = p->size;
        memcpy(s->etags[s->n], p->etag, 80);
        s->etags[s->n][79] = '\0';
        s->n++;
    }
    return 0;
}

struct uploads_seen {
    char keys[8][64];
    char ids[8][128];
    size_t n;
};

static int emit_upload(void *ctx, const struct cairn_upload_info *u)
{
    struct uploads_seen *s = ctx;
    if (s->n < 8) {
        snprintf(s->keys[s->n], sizeof s->keys[s->n], "%s", u->key);
        snprintf(s->ids[s->n], sizeof s->ids[s->n], "%s", u->upload_id);
        s->n++;
    }
    return 0;
}

static int mpu_create(const char *key, size_t n_attrs, const struct cairn_kv *attrs,
                      char id[128])
{
    struct fake_req *r = fake_req_new(NULL, NULL);
    memset(id, 0, 128);
    int rc = ops->mpu_create(state, &r->req, BUCKET, key, n_attrs, attrs, id);
    fake_req_free(r);
    return rc;
}

static int mpu_put(const char *key, const char *id, uint32_t number, uint32_t seed,
                   uint64_t size, int64_t fail_after, char etag_r[80])
{
    struct fake_body body;
    fake_body_init(&body, seed, size);
    body.fail_after = fail_after;
    body.fail_error = CAIRN_E_SIGNATURE_MISMATCH;
    struct fake_req *r = fake_req_new(&body, NULL);
    struct cairn_object_info info = {0};
    struct cairn_put put = {.bucket = BUCKET,
                            .key = key,
                            .content_length = (int64_t)size,
                            .versioning = CAIRN_VERSIONING_OFF,
                            .final = &body.final};
    int rc = ops->mpu_put_part(state, &r->req, id, number, &put, &info);
    if (etag_r)
        snprintf(etag_r, 80, "%s", info.etag);
    fake_body_release(&body);
    fake_req_free(r);
    return rc;
}

static int mpu_parts(const char *key, const char *id, uint32_t after, struct parts_seen *s)
{
    struct fake_req *r = fake_req_new(NULL, NULL);
    memset(s, 0, sizeof *s);
    int rc = ops->mpu_list_parts(state, &r->req, BUCKET, key, id, after, emit_part, s);
    fake_req_free(r);
    return rc;
}

static int mpu_uploads_after(const char *prefix, const char *key_marker,
                             const char *upload_id_marker, struct uploads_seen *s)
{
    struct fake_req *r = fake_req_new(NULL, NULL);
    memset(s, 0, sizeof *s);
    int rc = ops->mpu_list(state, &r->req, BUCKET, prefix, key_marker, upload_id_marker,
                           emit_upload, s);
    fake_req_free(r);
    return rc;
}

static int mpu_uploads(const char *prefix, struct uploads_seen *s)
{
    return mpu_uploads_after(prefix, "", "", s);
}

static int mpu_complete(const char *key, const char *id, const struct cairn_part_info *parts,
                        size_t n, size_t n_attrs, const struct cairn_kv *attrs,
                        struct put_result *res)
{
    struct fake_req *r = fake_req_new(NULL, NULL);
    struct cairn_object_info info = {0};
    int rc = ops->mpu_complete(state, &r->req, BUCKET, key, id, parts, n, 5 * MiB,
                               CAIRN_VERSIONING_OFF, n_attrs, attrs, &info);
    if (res) {
        res->size = info.size;
        snprintf(res->etag, sizeof res->etag, "%s", info.etag);
    }
    fake_req_free(r);
    return rc;
}

static int mpu_abort(const char *key, const char *id)
{
    struct fake_req *r = fake_req_new(NULL, NULL);
    int rc = ops->mpu_abort(state, &r->req, BUCKET, key, id);
    fake_req_free(r);
    return rc;
}

/* The multipart ETag of parts given by their hex MD5s. */
static void multipart_etag(char md5s[][33], size_t n, char out[80])
{
    const struct cairn_services *sv = fake_services();
    struct cairn_hash *h = sv->hash_new(CAIRN_HASH_MD5);
    uint8_t digest[32];
    for (size_t i = 0; i < n; i++) {
        uint8_t bin[16];
        for (int k = 0; k < 16; k++)
            sscanf(md5s[i] + 2 * k, "%2hhx", &bin[k]);
        sv->hash_update(h, bin, 16);
    }
    sv->hash_final(h, digest);
    fake_hex(digest, 16, out);
    snprintf(out + 32, 48, "-%zu", n);
}

/* 1 when GET key streams part1 (seed s1, n1 bytes) then part2 then part3. */
static int get_concatenation(const char *key, const uint32_t *seeds, const uint64_t *sizes,
                             size_t n)
{
    struct get_ctx g = {.answer = 0, .offset = 0, .length = -1};
    struct fake_sink sink;
    fake_sink_init(&sink, -1);
    int rc = get_object(BUCKET, key, &g, &sink, NULL);
    const struct cairn_services *sv = fake_services();
    struct cairn_hash *h = sv->hash_new(CAIRN_HASH_SHA256);
    uint8_t buf[65536], want[32];
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        for (uint64_t pos = 0; pos < sizes[i];) {
            size_t len = sizes[i] - pos < sizeof buf ? (size_t)(sizes[i] - pos) : sizeof buf;
            for (size_t k = 0; k < len; k++)
                buf[k] = fake_byte(seeds[i], pos + k);
            sv->hash_update(h, buf, len);
            pos += len;
        }
        total += sizes[i];
    }
    sv->hash_final(h, want);
    return rc == 0 && sink.received == total && memcmp(sink.digest, want, 32) == 0;
}

static void check_multipart(void)
{
    const char *key = "multi/part object";
    const struct cairn_kv create_attrs[] = {{"content-type", "video/mp4"},
                                            {"x-amz-meta-a", "from-create"}};
    const struct cairn_kv complete_attrs[] = {{"x-amz-meta-a", "from-complete"},
                                              {"x-amz-checksum-type", "COMPOSITE"}};
    char id[128], id2[128], etags[4][80], md5s[3][33], want[80];
    struct parts_seen ps;
    struct uploads_seen us;
    struct put_result res;

    int rc = mpu_create(key, 2, create_attrs, id);
    ok(rc == 0 && id[0] && strlen(id) <= 127, "mpu_create gives an upload id");
    rc = mpu_uploads("multi/", &us);
    ok(rc == 0 && us.n == 1 && strcmp(us.keys[0], key) == 0 && strcmp(us.ids[0], id) == 0,
       "mpu_list shows the upload");

    /* Parts out of order; part 2 is then replaced. */
    const uint64_t sizes[] = {5 * MiB, 5 * MiB, 1000};
    is_rc(mpu_put(key, id, 3, 303, sizes[2], -1, etags[3]), 0, "put part 3 first");
    is_rc(mpu_put(key, id, 1, 301, sizes[0], -1, etags[1]), 0, "put part 1");
    is_rc(mpu_put(key, id, 2, 399, 4000, -1, etags[2]), 0, "put part 2");
    is_rc(mpu_put(key, id, 2, 302, sizes[1], -1, etags[2]), 0, "put part 2 again (replaces it)");
    is_rc(mpu_put(key, id, 4, 304, 3 * MiB, 200000, NULL), CAIRN_E_SIGNATURE_MISMATCH,
          "part whose body fails mid-stream returns the body's error");
    stream_md5_hex(301, sizes[0], md5s[0]);
    stream_md5_hex(302, sizes[1], md5s[1]);
    stream_md5_hex(303, sizes[2], md5s[2]);
    ok(strcmp(etags[1], md5s[0]) == 0 && strcmp(etags[2], md5s[1]) == 0 &&
           strcmp(etags[3], md5s[2]) == 0,
       "mpu_put_part reports each part's MD5 ETag");

    rc = mpu_parts(key, id, 0, &ps);
    ok(rc == 0 && ps.n == 3 && ps.numbers[0] == 1 && ps.numbers[1] == 2 && ps.numbers[2] == 3,
       "mpu_list_parts: parts 1, 2, 3 ascending (the failed part 4 is absent)");
    ok(rc == 0 && ps.n == 3 && ps.sizes[0] == sizes[0] && ps.sizes[1] == sizes[1] &&
           ps.sizes[2] == sizes[2] && strcmp(ps.etags[1], md5s[1]) == 0,
       "mpu_list_parts: sizes and ETags, the replaced part's new ones");
    rc = mpu_parts(key, id, 1, &ps);
    ok(rc == 0 && ps.n == 2 && ps.numbers[0] == 2, "mpu_list_parts after part 1");
    is_rc(mpu_parts(key, "no-such-upload", 0, &ps), CAIRN_E_NO_SUCH_UPLOAD,
          "mpu_list_parts of an unknown upload: NO_SUCH_UPLOAD");
    is_rc(mpu_parts(key, "../../x", 0, &ps), CAIRN_E_NO_SUCH_UPLOAD,
          "mpu_list_parts with a path in the upload id: NO_SUCH_UPLOAD");
    is_rc(mpu_parts("other key", id, 0, &ps), CAIRN_E_NO_SUCH_UPLOAD,
          "mpu_list_parts under another key: NO_SUCH_UPLOAD");

    struct cairn_part_info parts[3];
    memset(parts, 0, sizeof parts);
    for (uint32_t i = 0; i < 3; i++) {
        parts[i].number = i + 1;
        snprintf(parts[i].etag, sizeof parts[i].etag, "%s", md5s[i]);
    }
    struct cairn_part_info bad[3];
    memcpy(bad, parts, sizeof bad);
    snprintf(bad[1].etag, sizeof bad[1].etag, "%s", "0123456789abcdef0123456789abcdef");
    is_rc(mpu_complete(key, id, bad, 3, 0, NULL, NULL), CAIRN_E_INVALID_PART,
          "mpu_complete with a wrong ETag: INVALID_PART");
    memcpy(bad, parts, sizeof bad);
    bad[2].number = 7;
    is_rc(mpu_complete(key, id, bad, 3, 0, NULL, NULL), CAIRN_E_INVALID_PART,
          "mpu_complete with a part never uploaded: INVALID_PART");

    /* A second upload whose first part is too small. */
    rc = mpu_create(key, 0, NULL, id2);
    ok(rc == 0 && strcmp(id, id2) != 0, "a second upload of the same key gets its own id");
    char small[2][80];
    is_rc(mpu_put(key, id2, 1, 401, 1000, -1, small[0]), 0, "put a small part 1");
    is_rc(mpu_put(key, id2, 2, 402, 1000, -1, small[1]), 0, "put a small part 2");
    struct cairn_part_info sp[2] = {{.number = 1}, {.number = 2}};
    snprintf(sp[0].etag, sizeof sp[0].etag, "%s", small[0]);
    snprintf(sp[1].etag, sizeof sp[1].etag, "%s", small[1]);
    is_rc(mpu_complete(key, id2, sp, 2, 0, NULL, NULL), CAIRN_E_ENTITY_TOO_SMALL,
          "mpu_complete with a small part that is not the last: ENTITY_TOO_SMALL");
    rc = mpu_uploads("", &us);
    ok(rc == 0 && us.n == 2, "mpu_list shows both uploads");
    is_rc(mpu_abort(key, id2), 0, "mpu_abort");
    is_rc(mpu_parts(key, id2, 0, &ps), CAIRN_E_NO_SUCH_UPLOAD,
          "mpu_list_parts after abort: NO_SUCH_UPLOAD");
    is_rc(mpu_abort(key, id2), CAIRN_E_NO_SUCH_UPLOAD, "mpu_abort twice: NO_SUCH_UPLOAD");
    rc = mpu_uploads("", &us);
    ok(rc == 0 && us.n == 1 && strcmp(us.ids[0], id) == 0, "mpu_list after abort: one upload");

    struct get_ctx g = {0};
    struct fake_sink sink;
    fake_sink_init(&sink, -1);
    is_rc(get_object(BUCKET, key, &g, &sink, NULL), CAIRN_E_NO_SUCH_KEY,
          "before completion the object does not exist");

    rc = mpu_complete(key, id, parts, 3, 2, complete_attrs, &res);
    multipart_etag(md5s, 3, want);
    is_rc(rc, 0, "mpu_complete");
    is_str(res.etag, want, "multipart ETag is MD5 of the part MD5s, -3");
    ok(res.size == sizes[0] + sizes[1] + sizes[2], "mpu_complete reports the total size");
    const uint32_t seeds[] = {301, 302, 303};
    ok(get_concatenation(key, seeds, sizes, 3), "get after complete: the parts' bytes in order");
    struct fake_req *r;
    memset(&g, 0, sizeof g);
    rc = head_object(BUCKET, key, &g, &sink, &r);
    const char *ct = rc == 0 ? attr_of(&g.info, "content-type") : NULL;
    const char *a = rc == 0 ? attr_of(&g.info, "x-amz-meta-a") : NULL;
    const char *t = rc == 0 ? attr_of(&g.info, "x-amz-checksum-type") : NULL;
    ok(ct && strcmp(ct, "video/mp4") == 0 && a && strcmp(a, "from-complete") == 0 && t &&
           strcmp(t, "COMPOSITE") == 0,
       "completed object: complete's attrs merged over create's");
    ok(rc == 0 && g.info.parts_count == 3 && strcmp(g.info.etag, want) == 0,
       "completed object: parts_count 3 and the multipart ETag");
    fake_req_free(r);
    rc = mpu_uploads("", &us);
    ok(rc == 0 && us.n == 0, "mpu_list after complete: no upload left");
    is_rc(mpu_parts(key, id, 0, &ps), CAIRN_E_NO_SUCH_UPLOAD,
          "mpu_list_parts after complete: NO_SUCH_UPLOAD");
    is_rc(mpu_abort(key, "no-such-upload"), CAIRN_E_NO_SUCH_UPLOAD,
          "mpu_abort of an unknown upload: NO_SUCH_UPLOAD");

    /* Listing uploads: by key then initiation, resumed after (key, upload id). */
    char u1[128], u2[128], u3[128];
    int made = mpu_create("up/b", 0, NULL, u1) == 0;
    usleep(5000); /* initiation times are in ms: keep them apart */
    made &= mpu_create("up/a", 0, NULL, u2) == 0;
    usleep(5000);
    made &= mpu_create("up/b", 0, NULL, u3) == 0;
    ok(made, "mpu_create three uploads (two of one key)");
    rc = mpu_uploads("up/", &us);
    ok(rc == 0 && us.n == 3 && strcmp(us.keys[0], "up/a") == 0 &&
           strcmp(us.keys[1], "up/b") == 0 && strcmp(us.ids[1], u1) == 0 &&
           strcmp(us.ids[2], u3) == 0,
       "mpu_list: ordered by key, then initiation");
    rc = mpu_uploads_after("up/", "up/a", "", &us);
    ok(rc == 0 && us.n == 2 && strcmp(us.keys[0], "up/b") == 0,
       "mpu_list after a key marker: only later keys");
    rc = mpu_uploads_after("up/", "up/b", u1, &us);
    ok(rc == 0 && us.n == 1 && strcmp(us.ids[0], u3) == 0,
       "mpu_list after (key, upload id): the later upload of that key");
    rc = mpu_uploads("up/a", &us);
    ok(rc == 0 && us.n == 1 && strcmp(us.ids[0], u2) == 0, "mpu_list with a prefix");
    made = mpu_abort("up/b", u1) == 0 && mpu_abort("up/a", u2) == 0 && mpu_abort("up/b", u3) == 0;
    ok(made, "mpu_abort the three uploads");

    /* A pending upload keeps a bucket from being deleted. */
    is_rc(create_bucket("conformance-mpu"), 0, "bucket_create for a pending upload");
    struct fake_req *cr = fake_req_new(NULL, NULL);
    rc = ops->mpu_create(state, &cr->req, "conformance-mpu", "k", 0, NULL, id2);
    fake_req_free(cr);
    is_rc(rc, 0, "mpu_create in it");
    is_rc(delete_bucket("conformance-mpu"), CAIRN_E_BUCKET_NOT_EMPTY,
          "bucket_delete with a pending upload: BUCKET_NOT_EMPTY");
    cr = fake_req_new(NULL, NULL);
    rc = ops->mpu_abort(state, &cr->req, "conformance-mpu", "k", id2);
    fake_req_free(cr);
    is_rc(rc, 0, "mpu_abort the pending upload");
    is_rc(delete_bucket("conformance-mpu"), 0, "bucket_delete once the upload is gone");

    is_rc(delete_object(BUCKET, key), 0, "delete the multipart object");
}

/* ---- concurrency ------------------------------------------------------- */

/*
 * Writers overwrite one key with whole versions while readers GET it: a
 * reader must always see one complete version (never a mix, a short body or
 * an error), as the contract's "several operations at the same time" needs.
 */
#define RACE_VERSIONS 4
#define RACE_SIZE (256 * 1024 + 3)
#define RACE_ROUNDS 12

static uint8_t race_digests[RACE_VERSIONS][32];

struct race_thread {
    pthread_t tid;
    int writer;
    unsigned index;
    int failures;
    char why[160];
};

static void *race_run(void *arg)
{
    struct race_thread *t = arg;
    for (unsigned round = 0; round < RACE_ROUNDS; round++) {
        if (t->writer) {
            uint32_t v = (t->index + round) % RACE_VERSIONS;
            int rc = put_object(BUCKET, "race", 700 + v, RACE_SIZE);
            if (rc != 0 && t->failures++ == 0)
                snprintf(t->why, sizeof t->why, "put: %s", err_name(rc));
            continue;
        }
        struct get_ctx g = {.answer = 0, .offset = 0, .length = -1};
        struct fake_sink sink;
        fake_sink_init(&sink, -1);
        int rc = get_object(BUCKET, "race", &g, &sink, NULL);
        int known = 0;
        for (int v = 0; v < RACE_VERSIONS; v++)
            known |= memcmp(sink.digest, race_digests[v], 32) == 0;
        if ((rc != 0 || sink.received != RACE_SIZE || !known) && t->failures++ == 0)
            snprintf(t->why, sizeof t->why, "get: %s, %" PRIu64 " bytes, %s", err_name(rc),
                     sink.received, known ? "a whole version" : "not any version's bytes");
    }
    return NULL;
}

static void check_concurrency(void)
{
    for (uint32_t v = 0; v < RACE_VERSIONS; v++)
        fake_stream_sha256(700 + v, 0, RACE_SIZE, race_digests[v]);
    is_rc(put_object(BUCKET, "race", 700, RACE_SIZE), 0, "put the key that threads race on");
    struct race_thread threads[6];
    memset(threads, 0, sizeof threads);
    int started = 1;
    for (unsigned i = 0; i < 6; i++) {
        threads[i].writer = i < 2;
        threads[i].index = i;
        if (pthread_create(&threads[i].tid, NULL, race_run, &threads[i]) != 0) {
            started = 0;
            threads[i].writer = -1;
        }
    }
    int failures = 0;
    const char *why = "";
    for (unsigned i = 0; i < 6; i++) {
        if (threads[i].writer < 0)
            continue;
        pthread_join(threads[i].tid, NULL);
        if (threads[i].failures && !failures)
            why = threads[i].why;
        failures += threads[i].failures;
    }
    if (!ok(started && failures == 0,
            "2 writers overwrite a key while 4 readers GET it: every GET is one whole version"))
        printf("#   %d failures; first: %s\n", failures, why);
    is_rc(delete_object(BUCKET, "race"), 0, "delete the raced key");
}

/* ---- awkward keys ------------------------------------------------------ */

static void check_keys(void)
{
    static char long_key[1025], too_long[1026];
    memset(long_key, 'k', 1024);
    long_key[500] = '/';
    memset(too_long, 'k', 1025);
    const char *keys[] = {
        "a/b",
        "a:b",
        "dir/",
        "tenant/fp/1700000000:1700003600:abcdef",
        "with space",
        "a+b",
        "\xc3\xbc/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt", /* ü/日本語.txt */
        "a//b",
        "..a/b..",
        ".hidden",
        "%2e%2e/x",
        "new\nline",
        long_key,
    };
    const char *names[] = {"a/b", "a:b", "trailing slash", "Loki chunk key", "space", "plus",
                           "unicode", "empty segment", "dots inside segments", "leading dot",
                           "percent-encoded dots", "newline", "1024-byte key"};
    const size_t n = sizeof keys / sizeof *keys;
    const char *bucket = "conformance-keys";

    is_rc(create_bucket(bucket), 0, "bucket_create for awkward keys");
    for (size_t i = 0; i < n; i++) {
        int rc = put_object(bucket, keys[i], 500 + (uint32_t)i, 100 + i);
        is_rc(rc, 0, "put key: %s", names[i]);
        ok(get_matches(bucket, keys[i], 500 + (uint32_t)i, 0, -1, 100 + i), "get key: %s",
           names[i]);
    }
    is_rc(put_object(bucket, "dir", 600, 7), 0, "'dir' and 'dir/' are different keys");
    ok(get_matches(bucket, "dir/", 502, 0, -1, 102) && get_matches(bucket, "dir", 600, 0, -1, 7),
       "'dir' and 'dir/' keep their own bytes");

    struct listing l = {0};
    int rc = list_objects(bucket, "", "", "", &l);
    size_t found = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        for (size_t k = 0; k < l.n; k++)
            if (strcmp(l.entries[k], keys[i]) == 0) {
                found++;
                break;
            }
    ok(rc == 0 && found == n && l.n == n + 1, "list returns every awkward key exactly");
    int sorted = 1;
    for (size_t k = 1; k < l.n; k++)
        sorted &= strcmp(l.entries[k - 1], l.entries[k]) < 0;
    ok(sorted, "awkward keys list in byte order");
    listing_clear(&l);

    is_rc(put_object(bucket, too_long, 1, 1), CAIRN_E_KEY_TOO_LONG, "1025-byte key: KEY_TOO_LONG");
    static const char *const refused[] = {"../x", "a/../b", "./x", "..", ".", "a/.", "a/..",
                                          "a/./b", "../../../../../../../../tmp/escape"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        is_rc(put_object(bucket, refused[i], 1, 1), CAIRN_E_INVALID_OBJECT_NAME,
              "put '%s': INVALID_OBJECT_NAME", refused[i]);
    char id[128];
    struct fake_req *r = fake_req_new(NULL, NULL);
    is_rc(ops->mpu_create(state, &r->req, bucket, "a/../b", 0, NULL, id),
          CAIRN_E_INVALID_OBJECT_NAME, "mpu_create 'a/../b': INVALID_OBJECT_NAME");
    fake_req_free(r);
    struct get_ctx g = {0};
    struct fake_sink sink;
    fake_sink_init(&sink, -1);
    rc = get_object(bucket, "../x", &g, &sink, NULL);
    ok(rc == CAIRN_E_INVALID_OBJECT_NAME || rc == CAIRN_E_NO_SUCH_KEY,
       "get '../x': INVALID_OBJECT_NAME or NO_SUCH_KEY");

    int all = 1;
    for (size_t i = 0; i < n; i++)
        all &= delete_object(bucket, keys[i]) == 0;
    all &= delete_object(bucket, "dir") == 0;
    ok(all, "delete every awkward key");
    is_rc(delete_bucket(bucket), 0, "bucket_delete after deleting every key");
}

/* ---- bucket documents -------------------------------------------------- */

static void check_bucket_config(void)
{
    struct fake_req *r = fake_req_new(NULL, NULL);
    char *data = NULL;
    size_t len = 0;
    const char policy[] = "{\"Version\":\"2012-10-17\",\"Statement\":[]}";
    const char binary[] = {'a', '\0', 'b', '\n', (char)0xff};

    is_rc(ops->bucket_config_get(state, &r->req, BUCKET, "policy", &data, &len),
          CAIRN_E_NO_SUCH_CONFIG, "bucket_config_get of an absent document: NO_SUCH_CONFIG");
    is_rc(ops->bucket_config_put(state, &r->req, BUCKET, "policy", policy, strlen(policy)), 0,
          "bucket_config_put");
    int rc = ops->bucket_config_get(state, &r->req, BUCKET, "policy", &data, &len);
    ok(rc == 0 && len == strlen(policy) && memcmp(data, policy, len) == 0,
       "bucket_config_get returns the document");
    rc = ops->bucket_config_put(state, &r->req, BUCKET, "policy", binary, sizeof binary);
    is_rc(rc, 0, "bucket_config_put replaces");
    rc = ops->bucket_config_get(state, &r->req, BUCKET, "policy", &data, &len);
    ok(rc == 0 && len == sizeof binary && memcmp(data, binary, len) == 0,
       "bucket_config_get: the replacement, byte-exact (NUL, 0xff)");
    rc = ops->bucket_config_put(state, &r->req, BUCKET, "versioning", "", 0);
    is_rc(rc, 0, "bucket_config_put of an empty document");
    rc = ops->bucket_config_get(state, &r->req, BUCKET, "versioning", &data, &len);
    ok(rc == 0 && len == 0, "bucket_config_get of an empty document");
    is_rc(ops->bucket_config_delete(state, &r->req, BUCKET, "policy"), 0, "bucket_config_delete");
    is_rc(ops->bucket_config_get(state, &r->req, BUCKET, "policy", &data, &len),
          CAIRN_E_NO_SUCH_CONFIG, "bucket_config_get after delete: NO_SUCH_CONFIG");
    is_rc(ops->bucket_config_delete(state, &r->req, BUCKET, "policy"), 0,
          "bucket_config_delete of an absent document succeeds");
    is_rc(ops->bucket_config_delete(state, &r->req, BUCKET, "versioning"), 0,
          "bucket_config_delete of the empty document");
    is_rc(ops->bucket_config_put(state, &r->req, "conformance-absent", "policy", "x", 1),
          CAIRN_E_NO_SUCH_BUCKET, "bucket_config_put in an absent bucket: NO_SUCH_BUCKET");
    is_rc(ops->bucket_config_get(state, &r->req, "conformance-absent", "policy", &data, &len),
          CAIRN_E_NO_SUCH_BUCKET, "bucket_config_get in an absent bucket: NO_SUCH_BUCKET");
    fake_req_free(r);
}

static void check_final_cleanup(void)
{
    int all = 1;
    static const uint64_t sizes[] = {0, 1, MiB + 1, 5 * MiB};
    for (size_t i = 0; i < 4; i++) {
        char key[64];
        snprintf(key, sizeof key, "size/%" PRIu64, sizes[i]);
        all &= delete_object(BUCKET, key) == 0;
    }
    ok(all, "delete the sized objects");
    is_rc(delete_bucket(BUCKET), 0, "bucket_delete of the main bucket once empty");
    is_rc(delete_bucket("conformance-b"), 0, "bucket_delete of the second bucket");
    struct listing l = {0};
    struct fake_req *r = fake_req_new(NULL, NULL);
    int rc = ops->bucket_list(state, &r->req, emit_bucket, &l);
    fake_req_free(r);
    ok(rc == 0 && l.n == 0, "bucket_list is empty at the end");
    listing_clear(&l);
}

/* ------------------------------------------------------------------------ */
/* Set-up: temporary folder, configuration, containment                      */
/* ------------------------------------------------------------------------ */

static char tmp_dir[256];
static char *plugin_dirs[64];
static size_t n_plugin_dirs;

/* Replaces every "@TMP@" in `in` with the temporary folder (malloc'd). */
static char *substitute(const char *in)
{
    size_t cap = strlen(in) + 1, len = 0;
    for (const char *p = in; (p = strstr(p, "@TMP@")); p += 5)
        cap += strlen(tmp_dir);
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (const char *p = in; *p;) {
        if (strncmp(p, "@TMP@", 5) == 0) {
            len += (size_t)sprintf(out + len, "%s", tmp_dir);
            p += 5;
        } else {
            out[len++] = *p++;
        }
    }
    out[len] = '\0';
    return out;
}

/* mkdir -p */
static int make_dirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    return mkdir(buf, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* Remembers and creates a folder the configuration gives the plugin. */
static void add_plugin_dir(const char *path)
{
    size_t tl = strlen(tmp_dir);
    if (strncmp(path, tmp_dir, tl) != 0 || path[tl] != '/' ||
        n_plugin_dirs == sizeof plugin_dirs / sizeof *plugin_dirs)
        return;
    plugin_dirs[n_plugin_dirs++] = strdup(path);
    make_dirs(path);
}

static size_t n_strays;

static int find_stray(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    if (strcmp(path, tmp_dir) == 0)
        return 0;
    for (size_t i = 0; i < n_plugin_dirs; i++) {
        size_t dl = strlen(plugin_dirs[i]);
        if (strncmp(path, plugin_dirs[i], dl) == 0 && (path[dl] == '\0' || path[dl] == '/'))
            return 0;
        /* A parent of a plugin folder (made by make_dirs) is not a stray. */
        size_t pl = strlen(path);
        if (strncmp(plugin_dirs[i], path, pl) == 0 && plugin_dirs[i][pl] == '/')
            return 0;
    }
    if (n_strays++ < 5)
        printf("#   outside the plugin's folders: %s\n", path);
    return 0;
}

/* A plugin that hangs must not hang the test run. */
static void on_timeout(int sig)
{
    static const char msg[] = "Bail out! the plugin did not finish in time "
                              "(CAIRN_CONFORMANCE_TIMEOUT seconds)\n";
    (void)sig;
    if (write(STDOUT_FILENO, msg, sizeof msg - 1) < 0 ||
        write(STDOUT_FILENO, "# left ", 7) < 0 || write(STDOUT_FILENO, tmp_dir, strlen(tmp_dir)) < 0)
        _exit(1);
    _exit(write(STDOUT_FILENO, "\n", 1) < 0);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    remove(path);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fprintf(stderr,
                "usage: %s PLUGIN.la|.so [key=value ...]\n"
                "  Runs the backend conformance suite (TAP on stdout).  \"@TMP@\" in a value\n"
                "  is replaced by a temporary folder; default settings:\n"
                "  root=@TMP@/root drives=@TMP@/drive1,@TMP@/drive2,@TMP@/drive3,@TMP@/drive4\n",
                argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *limit = getenv("CAIRN_CONFORMANCE_TIMEOUT");
    signal(SIGALRM, on_timeout);
    alarm(limit && atoi(limit) > 0 ? (unsigned)atoi(limit) : 600);
    const char *base = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp_dir, sizeof tmp_dir, "%s/cairn-conformance-XXXXXX", base);
    if (!mkdtemp(tmp_dir)) {
        printf("Bail out! cannot make a temporary folder in %s: %s\n", base, strerror(errno));
        return 1;
    }

    /* The configuration: arguments, or the defaults. */
    struct cairn_config cfg = {0};
    static const char *const defaults[] = {
        "root=@TMP@/root", "drives=@TMP@/drive1,@TMP@/drive2,@TMP@/drive3,@TMP@/drive4"};
    const char *const *args = argc > 2 ? (const char *const *)argv + 2 : defaults;
    size_t n_args = argc > 2 ? (size_t)argc - 2 : 2;
    for (size_t i = 0; i < n_args; i++) {
        const char *eq = strchr(args[i], '=');
        if (!eq || eq == args[i]) {
            printf("Bail out! argument \"%s\" is not key=value\n", args[i]);
            return 1;
        }
        char *name = strndup(args[i], (size_t)(eq - args[i]));
        char *value = substitute(eq + 1);
        if (!name || !value || fake_config_set(&cfg, name, value) != 0) {
            printf("Bail out! out of memory\n");
            return 1;
        }
        for (size_t k = 0; k < cfg.n; k++) /* the setting just made: its folders */
            for (size_t j = 0; strcmp(cfg.settings[k].name, name) == 0 &&
                               j < cfg.settings[k].n_items; j++)
                add_plugin_dir(cfg.settings[k].items[j]);
        free(name);
        free(value);
    }

    /* Load through the core's real loader. */
    char err[512] = "";
    int64_t t0 = fake_services()->now_ms();
    struct plugin_loader *loader = plugin_loader_new("", fake_services());
    const struct loaded_plugin *lp =
        loader ? plugin_loader_load(loader, "conformance", argv[1], CAIRN_PLUGIN_BACKEND, &cfg,
                                    err, sizeof err)
               : NULL;
    ok(lp != NULL, "the loader loads %s as a backend", argv[1]);
    if (!lp || !lp->desc->backend) {
        printf("Bail out! %s\n", err[0] ? err : "cannot make a plugin loader");
        plugin_loader_free(loader);
        fake_config_clear(&cfg);
        return 1;
    }
    printf("# plugin %s %s\n", lp->desc->name, lp->desc->version);
    ops = lp->desc->backend;
    state = lp->state;

    check_ops_table();
    check_buckets(t0);
    check_put_get_sizes(t0);
    check_unknown_length();
    check_get_details();
    check_attrs_overwrite_delete();
    check_aborted_puts();
    check_listing_all();
    check_multipart();
    check_concurrency();
    check_keys();
    check_bucket_config();
    check_final_cleanup();

    plugin_loader_free(loader);
    nftw(tmp_dir, find_stray, 16, FTW_PHYS);
    ok(n_strays == 0, "nothing was created outside the plugin's folders");

    fake_config_clear(&cfg);
    for (size_t i = 0; i < n_plugin_dirs; i++)
        free(plugin_dirs[i]);
    if (getenv("CAIRN_CONFORMANCE_KEEP"))
        printf("# kept %s\n", tmp_dir);
    else
        nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return tap_done();
}
