/*
 * s3-list.c -- ListBuckets, ListObjects (V1 and V2) and ListObjectVersions.
 *
 * A page asks the backend for max-keys + 1 entries (the emit callback stops
 * it at the extra one, which only tells that the listing is truncated), so a
 * page costs what it returns, not what the bucket holds.  The backend rolls
 * keys up at the delimiter; CommonPrefixes count toward max-keys.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "s3-internal.h"
#include "s3-list-encoding.h"
#include "xml-writer.h"

#define S3_LIST_MAX 1000

/* One entry of a page, copied out of the backend's callback. */
struct page_entry {
    int is_prefix;
    const char *key;
    uint64_t size;
    int64_t mtime_ms;
    const char *etag;
    const char *version_id;
    int is_delete_marker;
    int is_latest;
    const char *storage_class;
};

struct page {
    struct s3_call *call;
    const char *marker;  /* the client's marker: nothing at or before it is shown */
    int max;
    size_t n;
    struct page_entry *entries;
    int truncated;
    int err;
};

static const char *attr_value(const struct cairn_object_info *info, const char *name)
{
    for (size_t i = 0; i < info->n_attrs; i++)
        if (info->attrs[i].name && strcasecmp(info->attrs[i].name, name) == 0)
            return info->attrs[i].value;
    return NULL;
}

static int page_emit(void *ctx, const struct cairn_list_entry *e)
{
    struct page *pg = ctx;
    if (!e || !e->key)
        return 0;
    /* A backend may resume at a rolled-up marker again; never show an entry twice. */
    if (pg->marker && *pg->marker) {
        if (strcmp(e->key, pg->marker) <= 0)
            return 0;
    }
    if (pg->n == (size_t)pg->max) {
        pg->truncated = 1;
        return 1;
    }
    struct arena *a = pg->call->req.arena;
    struct page_entry *pe = &pg->entries[pg->n];
    pe->is_prefix = e->kind == CAIRN_LIST_PREFIX;
    pe->key = arena_strdup(a, e->key);
    if (!pe->key) {
        pg->err = CAIRN_E_NOMEM;
        return CAIRN_E_NOMEM;
    }
    if (!pe->is_prefix) {
        const struct cairn_object_info *in = &e->info;
        const char *sc = attr_value(in, "x-amz-storage-class");
        pe->size = in->size;
        pe->mtime_ms = in->mtime_ms;
        pe->etag = arena_strndup(a, in->etag, strnlen(in->etag, sizeof(in->etag)));
        pe->version_id = arena_strndup(a, in->version_id, strnlen(in->version_id,
                                                                   sizeof(in->version_id)));
        pe->storage_class = arena_strdup(a, sc && *sc ? sc : "STANDARD");
        pe->is_delete_marker = in->is_delete_marker;
        pe->is_latest = in->is_latest;
        if (!pe->etag || !pe->version_id || !pe->storage_class) {
            pg->err = CAIRN_E_NOMEM;
            return CAIRN_E_NOMEM;
        }
    }
    pg->n++;
    return 0;
}

/* Fills `pg` with up to `max` entries after `after` (and `after_version`). */
static int list_page(struct s3_call *call, struct page *pg, const char *prefix,
                     const char *delimiter, const char *marker, const char *after,
                     const char *after_version, int versions, int max)
{
    memset(pg, 0, sizeof(*pg));
    pg->call = call;
    pg->marker = marker;
    pg->max = max;
    if (max == 0)
        return 0;
    pg->entries = s3_alloc(call, (size_t)max * sizeof(*pg->entries));
    if (!pg->entries)
        return CAIRN_E_NOMEM;
    if (!call->be->object_list)
        return CAIRN_E_NOT_IMPLEMENTED;
    struct cairn_list l = {
        .bucket = call->bucket,
        .prefix = prefix,
        .delimiter = delimiter,
        .after = after,
        .after_version = after_version,
        .versions = versions,
        .emit = page_emit,
        .ctx = pg,
    };
    int rc = call->be->object_list(call->be_state, &call->req, &l);
    if (pg->err < 0)
        return pg->err;
    return rc < 0 ? rc : 0;
}

/* encoding-type: absent or "url"; anything else is InvalidArgument. */
static int parse_encoding(struct s3_call *call, int *encode_r)
{
    const char *enc = s3_param(call, "encoding-type");
    *encode_r = 0;
    if (!enc || !*enc)
        return 0;
    if (strcasecmp(enc, "url") != 0) {
        s3_error(call, CAIRN_E_INVALID_ARGUMENT, "Invalid Encoding Method specified in Request",
                 NULL);
        return 1;
    }
    *encode_r = 1;
    return 0;
}

static void write_owner(struct xml_writer *w, const char *owner)
{
    xml_open(w, "Owner", NULL);
    xml_elem(w, "ID", owner);
    xml_elem(w, "DisplayName", owner);
    xml_close(w, "Owner");
}

/* The owner shown for objects: the bucket's owner, else the caller. */
static const char *shown_owner(struct s3_call *call, const char *bucket_owner)
{
    if (bucket_owner && *bucket_owner)
        return bucket_owner;
    if (call->who.user && *call->who.user)
        return call->who.user;
    return "cairn";
}

static int respond_writer(struct s3_call *call, struct xml_writer *w)
{
    int rc = w->failed ? CAIRN_E_NOMEM : 0;
    if (rc == 0)
        s3_respond_xml(call, 200, w->buf, w->len, NULL, 0);
    xml_writer_clear(w);
    return rc;
}

/* ---- ListBuckets ---------------------------------------------------------- */

struct bucket_list_ctx {
    struct s3_call *call;
    struct xml_writer *w;
    int err;
};

/* 1 when the caller may see a bucket owned by `owner` in ListBuckets. */
static int bucket_visible(const struct s3_call *call, const char *owner)
{
    const struct cairn_identity *who = &call->who;
    if (who->is_root)
        return 1;
    if (!owner || !*owner)
        return 0;
    return (who->user && strcmp(owner, who->user) == 0) ||
           (who->access_key && *who->access_key && strcmp(owner, who->access_key) == 0) ||
           (who->parent && *who->parent && strcmp(owner, who->parent) == 0);
}

static int bucket_emit(void *vctx, const struct cairn_bucket_info *b)
{
    struct bucket_list_ctx *ctx = vctx;
    if (!b || !b->name || b->name[0] == '.' || !bucket_visible(ctx->call, b->owner))
        return 0;
    xml_open(ctx->w, "Bucket", NULL);
    xml_elem(ctx->w, "Name", b->name);
    xml_elem(ctx->w, "CreationDate", s3_time_iso8601(ctx->call, b->created_ms));
    xml_close(ctx->w, "Bucket");
    return ctx->w->failed ? CAIRN_E_NOMEM : 0;
}

int s3_op_list_buckets(struct s3_call *call)
{
    if (!call->be->bucket_list)
        return CAIRN_E_NOT_IMPLEMENTED;
    struct xml_writer w;
    xml_writer_init(&w);
    xml_open(&w, "ListAllMyBucketsResult", S3_XMLNS);
    const char *me = call->who.user && *call->who.user ? call->who.user
                     : call->who.access_key            ? call->who.access_key
                                                       : "";
    write_owner(&w, me);
    xml_open(&w, "Buckets", NULL);
    struct bucket_list_ctx ctx = {.call = call, .w = &w};
    int rc = call->be->bucket_list(call->be_state, &call->req, bucket_emit, &ctx);
    if (rc < 0) {
        xml_writer_clear(&w);
        return rc;
    }
    xml_close(&w, "Buckets");
    xml_close(&w, "ListAllMyBucketsResult");
    return respond_writer(call, &w);
}

/* ---- ListObjects V1 / V2 ---------------------------------------------------- */

static void write_contents(struct s3_call *call, struct xml_writer *w, const struct page_entry *e,
                           int encode, const char *owner)
{
    struct arena *a = call->req.arena;
    xml_open(w, "Contents", NULL);
    xml_elem(w, "Key", s3_list_name(a, e->key, encode));
    xml_elem(w, "LastModified", s3_time_iso8601(call, e->mtime_ms));
    xml_elem(w, "ETag", s3_printf(call, "\"%s\"", e->etag));
    xml_elemf(w, "Size", "%llu", (unsigned long long)e->size);
    if (owner)
        write_owner(w, owner);
    xml_elem(w, "StorageClass", e->storage_class);
    xml_close(w, "Contents");
}

static void write_common_prefix(struct s3_call *call, struct xml_writer *w, const char *prefix,
                                int encode)
{
    xml_open(w, "CommonPrefixes", NULL);
    xml_elem(w, "Prefix", s3_list_name(call->req.arena, prefix, encode));
    xml_close(w, "CommonPrefixes");
}

int s3_op_list_objects(struct s3_call *call)
{
    int v2 = call->op == S3_OP_LIST_OBJECTS_V2;
    struct arena *a = call->req.arena;
    int encode;
    if (parse_encoding(call, &encode))
        return 0;
    int max;
    if (s3_parse_max(s3_param(call, "max-keys"), S3_LIST_MAX, S3_LIST_MAX, &max) < 0)
        return s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                        "Provided max-keys not an integer or within integer range", NULL);
    const char *prefix = s3_param(call, "prefix");
    const char *delimiter = s3_param(call, "delimiter");
    if (!prefix)
        prefix = "";
    if (!delimiter)
        delimiter = "";

    /* Where to resume: V2's continuation token (or start-after), V1's marker. */
    const char *token = v2 ? s3_param(call, "continuation-token") : NULL;
    const char *start_after = v2 ? s3_param(call, "start-after") : NULL;
    const char *marker = v2 ? start_after : s3_param(call, "marker");
    if (token) {
        char *decoded;
        if (s3_list_token_decode(a, token, &decoded) < 0)
            return s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                            "The continuation token provided is incorrect", NULL);
        marker = decoded;
    }
    if (!marker)
        marker = "";
    int fetch_owner = !v2;
    if (v2) {
        const char *fo = s3_param(call, "fetch-owner");
        fetch_owner = fo && strcasecmp(fo, "true") == 0;
    }

    /* Also answers NoSuchBucket when the bucket is gone, whatever the backend lists. */
    int err = 0;
    const char *bucket_owner = s3_bucket_owner(call, &err);
    if (err < 0)
        return err;
    const char *owner = fetch_owner ? shown_owner(call, bucket_owner) : NULL;

    const char *after = s3_list_backend_after(a, prefix, delimiter, marker);
    if (!after)
        return CAIRN_E_NOMEM;
    struct page pg;
    int rc = list_page(call, &pg, prefix, delimiter, marker, after, NULL, 0, max);
    if (rc < 0)
        return rc;

    struct xml_writer w;
    xml_writer_init(&w);
    xml_open(&w, "ListBucketResult", S3_XMLNS);
    xml_elem(&w, "Name", call->bucket);
    xml_elem(&w, "Prefix", s3_list_name(a, prefix, encode));
    const char *last = pg.n ? pg.entries[pg.n - 1].key : NULL;
    if (v2) {
        if (token)
            xml_elem(&w, "ContinuationToken", token);
        if (pg.truncated && last)
            xml_elem(&w, "NextContinuationToken", s3_list_token_encode(a, last));
        xml_elemf(&w, "KeyCount", "%zu", pg.n);
    } else {
        xml_elem(&w, "Marker", s3_list_name(a, marker, encode));
        /* S3 sends NextMarker only with a delimiter; without one the client
         * resumes from the last key. */
        if (pg.truncated && last && *delimiter)
            xml_elem(&w, "NextMarker", s3_list_name(a, last, encode));
    }
    xml_elemf(&w, "MaxKeys", "%d", max);
    if (*delimiter)
        xml_elem(&w, "Delimiter", s3_list_name(a, delimiter, encode));
    xml_elem(&w, "IsTruncated", pg.truncated ? "true" : "false");
    if (encode)
        xml_elem(&w, "EncodingType", "url");
    if (v2 && start_after)
        xml_elem(&w, "StartAfter", s3_list_name(a, start_after, encode));
    for (size_t i = 0; i < pg.n; i++)
        if (!pg.entries[i].is_prefix)
            write_contents(call, &w, &pg.entries[i], encode, owner);
    for (size_t i = 0; i < pg.n; i++)
        if (pg.entries[i].is_prefix)
            write_common_prefix(call, &w, pg.entries[i].key, encode);
    xml_close(&w, "ListBucketResult");
    return respond_writer(call, &w);
}

/* ---- ListObjectVersions ------------------------------------------------------ */

int s3_op_list_object_versions(struct s3_call *call)
{
    struct arena *a = call->req.arena;
    int encode;
    if (parse_encoding(call, &encode))
        return 0;
    int max;
    if (s3_parse_max(s3_param(call, "max-keys"), S3_LIST_MAX, S3_LIST_MAX, &max) < 0)
        return s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                        "Provided max-keys not an integer or within integer range", NULL);
    const char *prefix = s3_param(call, "prefix");
    const char *delimiter = s3_param(call, "delimiter");
    const char *key_marker = s3_param(call, "key-marker");
    const char *vid_marker = s3_param(call, "version-id-marker");
    if (!prefix)
        prefix = "";
    if (!delimiter)
        delimiter = "";
    if (!key_marker)
        key_marker = "";
    if (vid_marker && *vid_marker && !*key_marker)
        return s3_error(call, CAIRN_E_INVALID_ARGUMENT,
                        "A version-id marker cannot be specified without a key marker.", NULL);
    if (vid_marker && !*vid_marker)
        vid_marker = NULL;

    int err = 0;
    const char *owner = shown_owner(call, s3_bucket_owner(call, &err));
    if (err < 0)
        return err;

    /* With a version marker the backend resumes inside key_marker's versions;
     * without one, after all of them (and after a rolled-up prefix's keys). */
    const char *after = vid_marker ? key_marker
                                   : s3_list_backend_after(a, prefix, delimiter, key_marker);
    if (!after)
        return CAIRN_E_NOMEM;
    struct page pg;
    int rc = list_page(call, &pg, prefix, delimiter, vid_marker ? NULL : key_marker, after,
                       vid_marker, 1, max);
    if (rc < 0)
        return rc;

    struct xml_writer w;
    xml_writer_init(&w);
    xml_open(&w, "ListVersionsResult", S3_XMLNS);
    xml_elem(&w, "Name", call->bucket);
    xml_elem(&w, "Prefix", s3_list_name(a, prefix, encode));
    xml_elem(&w, "KeyMarker", s3_list_name(a, key_marker, encode));
    xml_elem(&w, "VersionIdMarker", vid_marker ? vid_marker : "");
    if (pg.truncated && pg.n) {
        const struct page_entry *last = &pg.entries[pg.n - 1];
        xml_elem(&w, "NextKeyMarker", s3_list_name(a, last->key, encode));
        if (!last->is_prefix)
            xml_elem(&w, "NextVersionIdMarker", *last->version_id ? last->version_id : "null");
    }
    xml_elemf(&w, "MaxKeys", "%d", max);
    if (*delimiter)
        xml_elem(&w, "Delimiter", s3_list_name(a, delimiter, encode));
    xml_elem(&w, "IsTruncated", pg.truncated ? "true" : "false");
    if (encode)
        xml_elem(&w, "EncodingType", "url");
    for (size_t i = 0; i < pg.n; i++) {
        const struct page_entry *e = &pg.entries[i];
        if (e->is_prefix)
            continue;
        const char *elem = e->is_delete_marker ? "DeleteMarker" : "Version";
        xml_open(&w, elem, NULL);
        xml_elem(&w, "Key", s3_list_name(a, e->key, encode));
        xml_elem(&w, "VersionId", *e->version_id ? e->version_id : "null");
        xml_elem(&w, "IsLatest", e->is_latest ? "true" : "false");
        xml_elem(&w, "LastModified", s3_time_iso8601(call, e->mtime_ms));
        if (!e->is_delete_marker) {
            xml_elem(&w, "ETag", s3_printf(call, "\"%s\"", e->etag));
            xml_elemf(&w, "Size", "%llu", (unsigned long long)e->size);
            xml_elem(&w, "StorageClass", e->storage_class);
        }
        write_owner(&w, owner);
        xml_close(&w, elem);
    }
    for (size_t i = 0; i < pg.n; i++)
        if (pg.entries[i].is_prefix)
            write_common_prefix(call, &w, pg.entries[i].key, encode);
    xml_close(&w, "ListVersionsResult");
    return respond_writer(call, &w);
}
