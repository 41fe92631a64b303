/*
 * ec-mpu.c -- multipart uploads.
 *
 * An upload lives on the drives of its key's set, in
 * .cairn.sys/mpu/<bucket>/<upload id>/: "upload" (framed JSON: key, initiated,
 * attrs), "part.<n>" (framed JSON describing part n) and "d.<id>" (this
 * drive's shard file of a part, in the block-file format).  Completing moves
 * the part files into the object's data directory by rename: no data copy.
 */
#include "ec-internal.h"
#include "sc-blockfile.h"
#include "sc-frame.h"
#include "sc-util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int valid_upload_id(const char *id)
{
    if (!id || strlen(id) != 32)
        return 0;
    for (const char *c = id; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return 0;
    return 1;
}

static int upload_dir(const char *bucket, const char *id, char *out, size_t cap)
{
    char b[EC_PATH];
    int rc = ec_bucket_rel(bucket, b, sizeof(b));
    if (rc)
        return rc;
    ec_fmt(out, cap, SC_SYS_DIR "/mpu/%s/%s", b, id);
    return 0;
}

/* Most common payload of `rel` among the set's drives (needs k of them). */
static int set_read(struct ec_state *st, size_t set, const char *rel, char **data_r,
                    size_t *len_r)
{
    struct sc_drive **d = ec_set_drives(st, set);
    char *vals[EC_MAX_SET] = {0};
    size_t lens[EC_MAX_SET] = {0};
    int n = (int)st->set_size, best = -1, best_c = 0, absent = 0;
    for (int i = 0; i < n; i++) {
        if (!d[i]->online)
            continue;
        int r = sc_frame_read(d[i], rel, 1 << 20, &vals[i], &lens[i]);
        if (r == -ENOENT || r == -ENOTDIR)
            absent++;
    }
    for (int i = 0; i < n; i++) {
        if (!vals[i])
            continue;
        int c = 0;
        for (int j = 0; j < n; j++)
            c += vals[j] && lens[j] == lens[i] && !memcmp(vals[j], vals[i], lens[i]);
        if (c > best_c) {
            best = i;
            best_c = c;
        }
    }
    int k = n - st->parity, rc = 0;
    if (best < 0 || (best_c < k && absent > n - k))
        rc = -ENOENT;
    else if (best_c < k && best_c < n - absent - best_c)
        rc = CAIRN_E_READ_QUORUM;
    if (!rc) {
        *data_r = vals[best];
        *len_r = lens[best];
        vals[best] = NULL;
    }
    for (int i = 0; i < n; i++)
        free(vals[i]);
    return rc;
}

struct upload {
    json_t *o; /* key, initiated, attrs */
};

static int read_upload(struct ec_state *st, size_t set, const char *bucket, const char *key,
                       const char *id, json_t **o_r)
{
    if (!valid_upload_id(id))
        return CAIRN_E_NO_SUCH_UPLOAD;
    char dir[EC_PATH], rel[EC_PATH + 16];
    int rc = upload_dir(bucket, id, dir, sizeof(dir));
    if (rc)
        return rc;
    ec_fmt(rel, sizeof(rel), "%s/upload", dir);
    char *data;
    size_t len;
    rc = set_read(st, set, rel, &data, &len);
    if (rc == -ENOENT)
        return CAIRN_E_NO_SUCH_UPLOAD;
    if (rc)
        return rc;
    json_t *o = json_loadb(data, len, 0, NULL);
    free(data);
    const char *k = json_string_value(json_object_get(o, "key"));
    if (!k || (key && strcmp(k, key))) {
        json_decref(o);
        return CAIRN_E_NO_SUCH_UPLOAD;
    }
    *o_r = o;
    return 0;
}

static int write_set(struct ec_state *st, size_t set, const char *rel, const char *s, int wq)
{
    struct sc_drive **d = ec_set_drives(st, set);
    int ok = 0;
    for (size_t i = 0; i < st->set_size; i++)
        ok += d[i]->online && sc_frame_write(d[i], rel, s, strlen(s), st->sync) == 0;
    return ok >= wq ? 0 : CAIRN_E_WRITE_QUORUM;
}

static json_t *attrs_json(size_t n, const struct cairn_kv *a)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("[ss]", a[i].name, a[i].value));
    return arr;
}

static int default_wq(struct ec_state *st)
{
    return ec_write_quorum((int)st->set_size - st->parity, st->parity);
}

int ec_mpu_create(void *state, struct cairn_req *req, const char *bucket, const char *key,
                  size_t n_attrs, const struct cairn_kv *attrs, char upload_id_r[128])
{
    struct ec_state *st = state;
    char rel[EC_PATH];
    int rc = ec_key_rel(bucket, key, rel, sizeof(rel));
    if (rc)
        return rc;
    size_t set = ec_set_of(st, bucket, key);
    if (!ec_bucket_exists(st, set, bucket))
        return CAIRN_E_NO_SUCH_BUCKET;
    int m;
    const char *codec;
    if ((rc = ec_storage_class(st, n_attrs, attrs, &m, &codec)))
        return rc;
    char id[33], dir[EC_PATH], urel[EC_PATH + 16];
    sc_new_id(id);
    if ((rc = upload_dir(bucket, id, dir, sizeof(dir))))
        return rc;
    json_t *o = json_pack("{ss sI}", "key", key, "initiated", (json_int_t)st->sv->now_ms());
    json_object_set_new(o, "attrs", attrs_json(n_attrs, attrs));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return CAIRN_E_NOMEM;
    ec_fmt(urel, sizeof(urel), "%s/upload", dir);
    rc = write_set(st, set, urel, s, default_wq(st));
    free(s);
    if (!rc)
        ec_fmt(upload_id_r, 128, "%s", id);
    return rc;
}

/* The kv attrs stored in a JSON array of pairs, as request memory. */
static size_t json_attrs(struct ec_state *st, struct cairn_req *req, json_t *arr,
                         struct cairn_kv **out)
{
    size_t n = json_array_size(arr);
    *out = NULL;
    if (!n)
        return 0;
    *out = st->sv->req_alloc(req, n * sizeof(**out));
    if (!*out)
        return 0;
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(arr, i);
        const char *k = json_string_value(json_array_get(p, 0));
        const char *v = json_string_value(json_array_get(p, 1));
        (*out)[i].name = st->sv->req_strdup(req, k ? k : "");
        (*out)[i].value = st->sv->req_strdup(req, v ? v : "");
    }
    return n;
}

static int read_part(struct ec_state *st, size_t set, const char *dir, uint32_t number,
                     json_t **o_r)
{
    char rel[EC_PATH + 32];
    ec_fmt(rel, sizeof(rel), "%s/part.%u", dir, number);
    char *data;
    size_t len;
    int rc = set_read(st, set, rel, &data, &len);
    if (rc)
        return rc == -ENOENT ? CAIRN_E_INVALID_PART : rc;
    *o_r = json_loadb(data, len, 0, NULL);
    free(data);
    return *o_r ? 0 : CAIRN_E_CORRUPT;
}

int ec_mpu_put_part(void *state, struct cairn_req *req, const char *upload_id,
                    uint32_t part_number, const struct cairn_put *put,
                    struct cairn_object_info *info_r)
{
    struct ec_state *st = state;
    char rel[EC_PATH];
    int rc = ec_key_rel(put->bucket, put->key, rel, sizeof(rel));
    if (rc)
        return rc;
    if (part_number < 1 || part_number > 10000)
        return CAIRN_E_INVALID_ARGUMENT;
    size_t set = ec_set_of(st, put->bucket, put->key);
    json_t *up;
    if ((rc = read_upload(st, set, put->bucket, put->key, upload_id, &up)))
        return rc;
    struct cairn_kv *ua;
    size_t nua = json_attrs(st, req, json_object_get(up, "attrs"), &ua);
    json_decref(up);
    int m;
    const char *codec;
    if ((rc = ec_storage_class(st, nua, ua, &m, &codec)))
        return rc;
    struct ec_written w;
    if ((rc = ec_write_body(st, req, set, put->bucket, put->key, m, codec, 0, &w)))
        return rc;
    if (put->final && put->final->size != w.size) {
        ec_written_clear(st, set, &w);
        return CAIRN_E_INCOMPLETE_BODY;
    }
    char dir[EC_PATH];
    upload_dir(put->bucket, upload_id, dir, sizeof(dir));
    const char *etag = put->final ? put->final->etag : "";
    int64_t now = st->sv->now_ms();
    json_t *o = json_pack("{sI sI ss sI ss si si sI ss}", "number", (json_int_t)part_number,
                          "size", (json_int_t)w.size, "etag", etag, "mtime", (json_int_t)now,
                          "codec", w.codec, "k", w.k, "m", w.m, "block_size",
                          (json_int_t)w.block_size, "data", w.is_inline ? "" : w.id);
    json_t *dist = json_array();
    for (int s = 0; s < w.k + w.m; s++)
        json_array_append_new(dist, json_integer(w.dist[s]));
    json_object_set_new(o, "dist", dist);
    json_object_set_new(o, "block_sum", json_string(sc_block_sum_name(SC_SUM_DEFAULT)));
    json_object_set_new(o, "attrs", put->final ? attrs_json(put->final->n_attrs,
                                                            put->final->attrs)
                                               : json_array());
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s) {
        ec_written_clear(st, set, &w);
        return CAIRN_E_NOMEM;
    }
    pthread_rwlock_t *lk = sc_lock_for(&st->upload_locks, put->bucket, upload_id);
    pthread_rwlock_wrlock(lk);
    json_t *old = NULL;
    if (read_part(st, set, dir, part_number, &old))
        old = NULL;
    struct sc_drive **d = ec_set_drives(st, set);
    int ok = 0;
    char prel[EC_PATH + 32];
    ec_fmt(prel, sizeof(prel), "%s/part.%u", dir, part_number);
    for (int sh = 0; sh < w.k + w.m; sh++) {
        struct sc_drive *dr = d[w.dist[sh]];
        if (!w.ok[sh] || !dr->online)
            continue;
        struct stat sb;
        char up_rel[EC_PATH + 16];
        ec_fmt(up_rel, sizeof(up_rel), "%s/upload", dir);
        if (dr->ops->stat(dr, up_rel, &sb))
            continue; /* aborted meanwhile, or this drive missed the upload */
        if (!w.is_inline) {
            char from[128], to[EC_PATH + 64];
            ec_fmt(from, sizeof(from), SC_TMP_DIR "/%s.%d", w.id, sh);
            ec_fmt(to, sizeof(to), "%s/d.%s", dir, w.id);
            if (dr->ops->rename(dr, from, to))
                continue;
        }
        ok += sc_frame_write(dr, prel, s, strlen(s), st->sync) == 0;
    }
    rc = ok >= ec_write_quorum(w.k, w.m) ? 0 : CAIRN_E_WRITE_QUORUM;
    const char *olddata = old ? json_string_value(json_object_get(old, "data")) : NULL;
    if (!rc && olddata && olddata[0] && strcmp(olddata, w.id)) {
        char drel[EC_PATH + 64];
        ec_fmt(drel, sizeof(drel), "%s/d.%s", dir, olddata);
        for (size_t i = 0; i < st->set_size; i++)
            if (d[i]->online)
                d[i]->ops->unlink(d[i], drel);
    }
    pthread_rwlock_unlock(lk);
    json_decref(old);
    free(s);
    ec_written_clear(st, set, &w);
    if (!rc && info_r) {
        memset(info_r, 0, sizeof(*info_r));
        info_r->size = w.size;
        info_r->mtime_ms = now;
        ec_fmt(info_r->etag, sizeof(info_r->etag), "%s", etag);
    }
    return rc;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int ec_mpu_list_parts(void *state, struct cairn_req *req, const char *bucket, const char *key,
                      const char *upload_id, uint32_t after_part,
                      int (*emit)(void *ctx, const struct cairn_part_info *p), void *ctx)
{
    struct ec_state *st = state;
    char rel[EC_PATH];
    int rc = ec_key_rel(bucket, key, rel, sizeof(rel));
    if (rc)
        return rc;
    size_t set = ec_set_of(st, bucket, key);
    json_t *up;
    if ((rc = read_upload(st, set, bucket, key, upload_id, &up)))
        return rc;
    json_decref(up);
    char dir[EC_PATH];
    upload_dir(bucket, upload_id, dir, sizeof(dir));
    uint32_t *nums = NULL;
    size_t nn = 0;
    struct sc_drive **d = ec_set_drives(st, set);
    for (size_t i = 0; i < st->set_size; i++) {
        char **names;
        size_t cnt;
        if (!d[i]->online || d[i]->ops->readdir(d[i], dir, &names, &cnt))
            continue;
        uint32_t *nnums = realloc(nums, (nn + cnt + 1) * sizeof(*nums));
        if (nnums) {
            nums = nnums;
            for (size_t j = 0; j < cnt; j++) {
                unsigned long v;
                char *end;
                if (strncmp(names[j], "part.", 5))
                    continue;
                v = strtoul(names[j] + 5, &end, 10);
                if (*end == '\0' && v >= 1 && v <= 10000)
                    nums[nn++] = (uint32_t)v;
            }
        }
        sc_names_free(names, cnt);
    }
    if (nn)
        qsort(nums, nn, sizeof(*nums), cmp_u32);
    for (size_t i = 0; i < nn && !rc; i++) {
        if ((i && nums[i] == nums[i - 1]) || nums[i] <= after_part)
            continue;
        json_t *o;
        if (read_part(st, set, dir, nums[i], &o))
            continue;
        struct cairn_part_info p;
        memset(&p, 0, sizeof(p));
        p.number = nums[i];
        ec_fmt(p.etag, sizeof(p.etag), "%s", json_string_value(json_object_get(o, "etag")));
        p.size = (uint64_t)json_integer_value(json_object_get(o, "size"));
        p.mtime_ms = json_integer_value(json_object_get(o, "mtime"));
        p.n_attrs = json_attrs(st, req, json_object_get(o, "attrs"), &p.attrs);
        json_decref(o);
        int r = emit(ctx, &p);
        if (r < 0)
            rc = r;
        else if (r > 0)
            break;
    }
    free(nums);
    return rc;
}

static const char *unquote(const char *s, char *buf, size_t cap)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        ec_fmt(buf, cap, "%.*s", (int)(n - 2), s + 1);
        return buf;
    }
    return s;
}

struct complete_ctx {
    struct ec_state *st;
    size_t set;
    const char *bucket, *key, *dir, *data_dir;
    size_t n;
    uint32_t *numbers;
    char (*data)[40];
};

static int complete_move(void *vctx, int pos)
{
    struct complete_ctx *cx = vctx;
    struct sc_drive *d = ec_set_drives(cx->st, cx->set)[pos];
    char kdir[EC_PATH];
    int rc = ec_key_rel(cx->bucket, cx->key, kdir, sizeof(kdir));
    if (rc)
        return rc;
    size_t n = strlen(kdir);
    ec_fmt(kdir + n, sizeof(kdir) - n, "/.d.%s", cx->data_dir);
    if ((rc = d->ops->mkdir_p(d, kdir)))
        return ec_errno(rc);
    for (size_t i = 0; i < cx->n; i++) {
        if (!cx->data[i][0])
            continue;
        char from[EC_PATH + 64], to[EC_PATH + 64];
        ec_fmt(from, sizeof(from), "%s/d.%s", cx->dir, cx->data[i]);
        ec_fmt(to, sizeof(to), "%s/part.%u", kdir, cx->numbers[i]);
        if ((rc = d->ops->rename(d, from, to)))
            return ec_errno(rc);
    }
    if (cx->st->sync && (rc = d->ops->fsync_dir(d, kdir)))
        return ec_errno(rc);
    return 0;
}

int ec_mpu_complete(void *state, struct cairn_req *req, const char *bucket, const char *key,
                    const char *upload_id, const struct cairn_part_info *parts, size_t n_parts,
                    uint64_t min_part_size, enum cairn_versioning versioning, size_t n_attrs,
                    const struct cairn_kv *attrs, struct cairn_object_info *info_r)
{
    struct ec_state *st = state;
    char rel[EC_PATH];
    int rc = ec_key_rel(bucket, key, rel, sizeof(rel));
    if (rc)
        return rc;
    if (n_parts == 0 || n_parts > 10000)
        return CAIRN_E_MALFORMED_XML;
    size_t set = ec_set_of(st, bucket, key);
    json_t *up;
    if ((rc = read_upload(st, set, bucket, key, upload_id, &up)))
        return rc;
    char dir[EC_PATH];
    upload_dir(bucket, upload_id, dir, sizeof(dir));
    pthread_rwlock_t *lk = sc_lock_for(&st->upload_locks, bucket, upload_id);
    pthread_rwlock_wrlock(lk);
    struct sc_version nv;
    memset(&nv, 0, sizeof(nv));
    uint32_t *numbers = calloc(n_parts, sizeof(*numbers));
    char(*data)[40] = calloc(n_parts, sizeof(*data));
    nv.parts = calloc(n_parts, sizeof(*nv.parts));
    struct cairn_hash *h = st->sv->hash_new(CAIRN_HASH_MD5);
    if (!numbers || !data || !nv.parts || !h)
        rc = CAIRN_E_NOMEM;
    uint8_t expect_dist[SC_MAX_SHARDS];
    ec_distribution(bucket, key, (int)st->set_size, expect_dist);
    for (size_t i = 0; i < n_parts && !rc; i++) {
        json_t *o;
        if (i && parts[i].number <= parts[i - 1].number) {
            rc = CAIRN_E_INVALID_PART_ORDER;
            break;
        }
        if ((rc = read_part(st, set, dir, parts[i].number, &o)))
            break;
        char b1[80];
        const char *want = unquote(parts[i].etag, b1, sizeof(b1));
        const char *got = json_string_value(json_object_get(o, "etag"));
        struct sc_part *pt = &nv.parts[i];
        pt->number = parts[i].number;
        pt->size = (uint64_t)json_integer_value(json_object_get(o, "size"));
        pt->mtime_ms = json_integer_value(json_object_get(o, "mtime"));
        ec_fmt(pt->etag, sizeof(pt->etag), "%s", got ? got : "");
        ec_fmt(data[i], sizeof(data[i]), "%s", json_string_value(json_object_get(o, "data")));
        numbers[i] = parts[i].number;
        const char *codec = json_string_value(json_object_get(o, "codec"));
        int k = (int)json_integer_value(json_object_get(o, "k"));
        int m = (int)json_integer_value(json_object_get(o, "m"));
        uint64_t bs = (uint64_t)json_integer_value(json_object_get(o, "block_size"));
        /* absent: a part written before "block_sum" existed (xxh64) */
        enum sc_block_sum bsum = SC_SUM_XXH64;
        int bsum_bad =
            sc_block_sum_parse(json_string_value(json_object_get(o, "block_sum")), &bsum);
        json_t *dist = json_object_get(o, "dist");
        int same_dist = json_array_size(dist) == st->set_size;
        for (size_t s = 0; same_dist && s < st->set_size; s++)
            same_dist = json_integer_value(json_array_get(dist, s)) == expect_dist[s];
        if (!got || strcmp(got, want))
            rc = CAIRN_E_INVALID_PART;
        else if (i + 1 < n_parts && pt->size < min_part_size)
            rc = CAIRN_E_ENTITY_TOO_SMALL;
        else if (!codec || !same_dist || k + m != (int)st->set_size || bsum_bad ||
                 (i && (strcmp(codec, nv.codec) || k != nv.k || bs != nv.block_size ||
                        bsum != nv.block_sum)))
            rc = CAIRN_E_INTERNAL; /* parts written under different layouts */
        if (!rc) {
            ec_fmt(nv.codec, sizeof(nv.codec), "%s", codec);
            nv.k = k;
            nv.m = m;
            nv.block_size = bs;
            nv.block_sum = bsum;
            uint8_t md5[16];
            if (strlen(got) != 32 || sc_hex_decode(got, md5, 16))
                rc = CAIRN_E_INVALID_PART;
            else
                st->sv->hash_update(h, md5, 16);
            nv.size += pt->size;
        }
        json_decref(o);
        nv.n_parts = i + 1;
    }
    if (h) {
        uint8_t dg[32];
        st->sv->hash_final(h, dg);
        sc_hex_encode(dg, 16, nv.etag);
        ec_fmt(nv.etag + 32, sizeof(nv.etag) - 32, "-%zu", n_parts);
    }
    if (!rc) {
        memcpy(nv.dist, expect_dist, sizeof(nv.dist));
        nv.parts_count = (uint32_t)n_parts;
        char did[33];
        sc_new_id(did);
        ec_fmt(nv.data_dir, sizeof(nv.data_dir), "%s", did);
        /* attrs: those given at create, overridden by those given now */
        struct cairn_kv *ua;
        size_t nua = json_attrs(st, req, json_object_get(up, "attrs"), &ua);
        const char **names = calloc(nua + n_attrs + 1, sizeof(*names));
        const char **values = calloc(nua + n_attrs + 1, sizeof(*values));
        size_t na = 0;
        if (!names || !values)
            rc = CAIRN_E_NOMEM;
        for (size_t i = 0; !rc && i < nua + n_attrs; i++) {
            const struct cairn_kv *kv = i < nua ? &ua[i] : &attrs[i - nua];
            size_t j = 0;
            while (j < na && strcmp(names[j], kv->name))
                j++;
            names[j] = kv->name;
            values[j] = kv->value;
            if (j == na)
                na++;
        }
        if (!rc)
            rc = sc_attrs_set(&nv.attrs, &nv.n_attrs, na, names, values);
        free(names);
        free(values);
    }
    if (!rc) {
        struct complete_ctx cx = {st, set, bucket, key, dir, nv.data_dir, n_parts, numbers, data};
        rc = ec_commit_version(st, req, set, bucket, key, versioning, &nv, NULL, NULL,
                               complete_move, &cx);
    }
    if (!rc) {
        struct sc_drive **d = ec_set_drives(st, set);
        for (size_t i = 0; i < st->set_size; i++)
            if (d[i]->online)
                d[i]->ops->remove_tree(d[i], dir);
        if (info_r) {
            struct sc_version tmp = nv;
            tmp.n_attrs = 0;
            rc = ec_fill_info(st, req, &tmp, 1, versioning, info_r);
        }
    }
    pthread_rwlock_unlock(lk);
    json_decref(up);
    free(numbers);
    free(data);
    sc_version_clear(&nv);
    return rc;
}

int ec_mpu_abort(void *state, struct cairn_req *req, const char *bucket, const char *key,
                 const char *upload_id)
{
    struct ec_state *st = state;
    char rel[EC_PATH];
    int rc = ec_key_rel(bucket, key, rel, sizeof(rel));
    if (rc)
        return rc;
    size_t set = ec_set_of(st, bucket, key);
    json_t *up;
    if ((rc = read_upload(st, set, bucket, key, upload_id, &up)))
        return rc;
    json_decref(up);
    char dir[EC_PATH];
    upload_dir(bucket, upload_id, dir, sizeof(dir));
    pthread_rwlock_t *lk = sc_lock_for(&st->upload_locks, bucket, upload_id);
    pthread_rwlock_wrlock(lk);
    struct sc_drive **d = ec_set_drives(st, set);
    for (size_t i = 0; i < st->set_size; i++)
        if (d[i]->online)
            d[i]->ops->remove_tree(d[i], dir);
    pthread_rwlock_unlock(lk);
    return 0;
}

struct up_ent {
    char *key;
    char id[33];
    int64_t initiated;
    json_t *attrs;
};

static int up_cmp(const void *a, const void *b)
{
    const struct up_ent *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->id, y->id);
}

int ec_mpu_list(void *state, struct cairn_req *req, const char *bucket, const char *prefix,
                const char *key_marker, const char *upload_id_marker,
                int (*emit)(void *ctx, const struct cairn_upload_info *u), void *ctx)
{
    struct ec_state *st = state;
    char b[EC_PATH], base[EC_PATH];
    int rc = ec_bucket_head(st, req, bucket, NULL);
    if (rc || (rc = ec_bucket_rel(bucket, b, sizeof(b))))
        return rc;
    ec_fmt(base, sizeof(base), SC_SYS_DIR "/mpu/%s", b);
    struct up_ent *ents = NULL;
    size_t n = 0;
    for (size_t i = 0; i < st->n_drives; i++) {
        struct sc_drive *d = st->drives[i];
        char **names;
        size_t cnt;
        if (!d->online || d->ops->readdir(d, base, &names, &cnt))
            continue;
        for (size_t j = 0; j < cnt; j++) {
            int seen = !valid_upload_id(names[j]);
            for (size_t e = 0; e < n && !seen; e++)
                seen = !strcmp(ents[e].id, names[j]);
            if (seen)
                continue;
            char rel[EC_PATH + 64];
            ec_fmt(rel, sizeof(rel), "%s/%s/upload", base, names[j]);
            char *data;
            size_t len;
            if (sc_frame_read(d, rel, 1 << 20, &data, &len))
                continue;
            json_t *o = json_loadb(data, len, 0, NULL);
            free(data);
            const char *k = json_string_value(json_object_get(o, "key"));
            struct up_ent *ne = k ? realloc(ents, (n + 1) * sizeof(*ents)) : NULL;
            if (!ne) {
                json_decref(o);
                continue;
            }
            ents = ne;
            ents[n].key = strdup(k);
            ec_fmt(ents[n].id, sizeof(ents[n].id), "%s", names[j]);
            ents[n].initiated = json_integer_value(json_object_get(o, "initiated"));
            ents[n].attrs = json_incref(json_object_get(o, "attrs"));
            json_decref(o);
            if (ents[n].key)
                n++;
            else
                json_decref(ents[n].attrs);
        }
        sc_names_free(names, cnt);
    }
    if (n)
        qsort(ents, n, sizeof(*ents), up_cmp);
    const char *km = key_marker ? key_marker : "", *um = upload_id_marker ? upload_id_marker : "";
    for (size_t i = 0; i < n && !rc; i++) {
        if (prefix && strncmp(ents[i].key, prefix, strlen(prefix)))
            continue;
        int c = strcmp(ents[i].key, km);
        if (km[0] && (c < 0 || (c == 0 && (!um[0] || strcmp(ents[i].id, um) <= 0))))
            continue;
        struct cairn_upload_info u;
        u.key = st->sv->req_strdup(req, ents[i].key);
        u.upload_id = st->sv->req_strdup(req, ents[i].id);
        u.initiated_ms = ents[i].initiated;
        u.n_attrs = json_attrs(st, req, ents[i].attrs, &u.attrs);
        int r = emit(ctx, &u);
        if (r < 0)
            rc = r;
        else if (r > 0)
            break;
    }
    for (size_t i = 0; i < n; i++) {
        free(ents[i].key);
        json_decref(ents[i].attrs);
    }
    free(ents);
    return rc;
}
