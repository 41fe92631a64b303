/*
 * sc-objmeta.c -- JSON form of the object metadata file.
 */
#include "sc-objmeta.h"
#include "sc-util.h"

#include <cairn/plugin.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void sc_attrs_free(struct sc_attr *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(attrs[i].name);
        free(attrs[i].value);
    }
    free(attrs);
}

int sc_attrs_set(struct sc_attr **attrs_r, size_t *n_r, size_t n, const char *const *names,
                 const char *const *values)
{
    struct sc_attr *a = n ? calloc(n, sizeof(*a)) : NULL;
    if (n && !a)
        return CAIRN_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        a[i].name = strdup(names[i]);
        a[i].value = strdup(values[i]);
        if (!a[i].name || !a[i].value) {
            sc_attrs_free(a, n);
            return CAIRN_E_NOMEM;
        }
    }
    *attrs_r = a;
    *n_r = n;
    return 0;
}

static int attrs_copy(struct sc_attr **dst, size_t *n_dst, const struct sc_attr *src, size_t n)
{
    const char *names[n ? n : 1], *values[n ? n : 1];
    for (size_t i = 0; i < n; i++) {
        names[i] = src[i].name;
        values[i] = src[i].value;
    }
    return sc_attrs_set(dst, n_dst, n, names, values);
}

void sc_version_clear(struct sc_version *v)
{
    sc_attrs_free(v->attrs, v->n_attrs);
    for (size_t i = 0; i < v->n_parts; i++)
        sc_attrs_free(v->parts[i].attrs, v->parts[i].n_attrs);
    free(v->parts);
    free(v->inline_data);
    memset(v, 0, sizeof(*v));
}

int sc_version_copy(struct sc_version *dst, const struct sc_version *src)
{
    *dst = *src;
    dst->attrs = NULL;
    dst->parts = NULL;
    dst->inline_data = NULL;
    dst->n_attrs = dst->n_parts = 0;
    if (attrs_copy(&dst->attrs, &dst->n_attrs, src->attrs, src->n_attrs))
        goto nomem;
    if (src->n_parts) {
        dst->parts = calloc(src->n_parts, sizeof(*dst->parts));
        if (!dst->parts)
            goto nomem;
        dst->n_parts = src->n_parts;
        for (size_t i = 0; i < src->n_parts; i++) {
            dst->parts[i] = src->parts[i];
            dst->parts[i].attrs = NULL;
            dst->parts[i].n_attrs = 0;
            if (attrs_copy(&dst->parts[i].attrs, &dst->parts[i].n_attrs, src->parts[i].attrs,
                           src->parts[i].n_attrs))
                goto nomem;
        }
    }
    if (src->inline_data) {
        dst->inline_data = malloc(src->inline_len ? src->inline_len : 1);
        if (!dst->inline_data)
            goto nomem;
        memcpy(dst->inline_data, src->inline_data, src->inline_len);
    }
    return 0;
nomem:
    sc_version_clear(dst);
    return CAIRN_E_NOMEM;
}

void sc_objmeta_clear(struct sc_objmeta *m)
{
    for (size_t i = 0; i < m->n; i++)
        sc_version_clear(&m->v[i]);
    free(m->v);
    m->v = NULL;
    m->n = 0;
}

int sc_objmeta_insert(struct sc_objmeta *m, size_t pos, const struct sc_version *v)
{
    struct sc_version *nv = realloc(m->v, (m->n + 1) * sizeof(*nv));
    if (!nv)
        return CAIRN_E_NOMEM;
    m->v = nv;
    memmove(&m->v[pos + 1], &m->v[pos], (m->n - pos) * sizeof(*nv));
    if (sc_version_copy(&m->v[pos], v)) {
        memmove(&m->v[pos], &m->v[pos + 1], (m->n - pos) * sizeof(*nv));
        return CAIRN_E_NOMEM;
    }
    m->n++;
    return 0;
}

void sc_objmeta_remove(struct sc_objmeta *m, size_t pos)
{
    sc_version_clear(&m->v[pos]);
    memmove(&m->v[pos], &m->v[pos + 1], (m->n - pos - 1) * sizeof(*m->v));
    m->n--;
}

/* ---- JSON ---- */

static json_t *attrs_to_json(const struct sc_attr *a, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("[ss]", a[i].name, a[i].value));
    return arr;
}

static int attrs_from_json(json_t *arr, struct sc_attr **a_r, size_t *n_r)
{
    *a_r = NULL;
    *n_r = 0;
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return -1;
    size_t n = json_array_size(arr);
    if (!n)
        return 0;
    struct sc_attr *a = calloc(n, sizeof(*a));
    if (!a)
        return -1;
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(arr, i);
        const char *k = json_string_value(json_array_get(p, 0));
        const char *v = json_string_value(json_array_get(p, 1));
        if (!k || !v || !(a[i].name = strdup(k)) || !(a[i].value = strdup(v))) {
            sc_attrs_free(a, n);
            return -1;
        }
    }
    *a_r = a;
    *n_r = n;
    return 0;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/*
 * A small object's inline shard is most of its metadata, and jansson checks
 * a string as UTF-8 when it is made and again, a character at a time, when
 * it is dumped: ~350k instructions per 2 KiB shard, 3/4 of a 4 KiB PUT's
 * user CPU.  Base64 needs no escaping, so each inline version is dumped with
 * an empty "inline" member and its base64 is written between those quotes
 * here.  The bytes "inline":"" can only be that member: the only object keys
 * are the fixed names below (attrs are [name, value] arrays), and a quote
 * inside a dumped string is escaped (\"), so no string value can look like it.
 */
#define INLINE_MEMBER "\"inline\":\"\""

static char *splice_inline(char *s, const struct sc_objmeta *m, size_t *len_r)
{
    size_t len = strlen(s), extra = 0;
    for (size_t i = 0; i < m->n; i++)
        if (!m->v[i].delete_marker && m->v[i].has_inline)
            extra += (m->v[i].inline_len + 2) / 3 * 4;
    if (!extra) {
        if (len_r)
            *len_r = len;
        return s;
    }
    char *out = malloc(len + extra + 1);
    if (!out) {
        free(s);
        return NULL;
    }
    const char *p = s;
    size_t o = 0;
    for (size_t i = 0; i < m->n; i++) {
        const struct sc_version *v = &m->v[i];
        if (v->delete_marker || !v->has_inline)
            continue;
        const char *at = strstr(p, INLINE_MEMBER);
        char *b = at ? sc_b64_encode(v->inline_data, v->inline_len) : NULL;
        if (!b) {
            free(out);
            free(s);
            return NULL;
        }
        size_t upto = (size_t)(at - p) + sizeof(INLINE_MEMBER) - 2; /* through the opening quote */
        size_t bl = (v->inline_len + 2) / 3 * 4;
        memcpy(out + o, p, upto);
        memcpy(out + o + upto, b, bl);
        o += upto + bl;
        p += upto;
        free(b);
    }
    size_t rest = strlen(p);
    memcpy(out + o, p, rest + 1);
    free(s);
    if (len_r)
        *len_r = o + rest;
    return out;
}

char *sc_objmeta_serialize(const struct sc_objmeta *m, size_t *len_r)
{
    json_t *root = json_object(), *vers = json_array();
    json_object_set_new(root, "format", json_integer(1));
    for (size_t i = 0; i < m->n; i++) {
        const struct sc_version *v = &m->v[i];
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(v->id));
        json_object_set_new(o, "mtime", json_integer(v->mtime_ms));
        json_object_set_new(o, "size", json_integer((json_int_t)v->size));
        json_object_set_new(o, "etag", json_string(v->etag));
        json_object_set_new(o, "delete_marker", json_boolean(v->delete_marker));
        json_object_set_new(o, "parts_count", json_integer(v->parts_count));
        json_object_set_new(o, "attrs", attrs_to_json(v->attrs, v->n_attrs));
        if (!v->delete_marker) {
            json_object_set_new(o, "codec", json_string(v->codec));
            json_object_set_new(o, "k", json_integer(v->k));
            json_object_set_new(o, "m", json_integer(v->m));
            json_object_set_new(o, "block_size", json_integer((json_int_t)v->block_size));
            json_object_set_new(o, "block_sum", json_string(sc_block_sum_name(v->block_sum)));
            json_object_set_new(o, "shard_index", json_integer(v->shard_index));
            json_t *d = json_array();
            for (int s = 0; s < v->k + v->m && s < SC_MAX_SHARDS; s++)
                json_array_append_new(d, json_integer(v->dist[s]));
            json_object_set_new(o, "dist", d);
            json_object_set_new(o, "data_dir", json_string(v->data_dir));
            json_t *parts = json_array();
            for (size_t p = 0; p < v->n_parts; p++) {
                const struct sc_part *pt = &v->parts[p];
                json_t *po = json_pack("{sI sI ss sI}", "number", (json_int_t)pt->number,
                                       "size", (json_int_t)pt->size, "etag", pt->etag, "mtime",
                                       (json_int_t)pt->mtime_ms);
                json_object_set_new(po, "attrs", attrs_to_json(pt->attrs, pt->n_attrs));
                json_array_append_new(parts, po);
            }
            json_object_set_new(o, "parts", parts);
            if (v->has_inline) /* filled in by splice_inline */
                json_object_set_new(o, "inline", json_string(""));
        }
        json_array_append_new(vers, o);
    }
    json_object_set_new(root, "versions", vers);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s ? splice_inline(s, m, len_r) : NULL;
}

static int version_from_json(json_t *o, struct sc_version *v)
{
    memset(v, 0, sizeof(*v));
    if (!json_is_object(o) || !json_is_string(json_object_get(o, "id")))
        return -1;
    copy_str(v->id, sizeof(v->id), json_string_value(json_object_get(o, "id")));
    v->mtime_ms = json_integer_value(json_object_get(o, "mtime"));
    v->size = (uint64_t)json_integer_value(json_object_get(o, "size"));
    copy_str(v->etag, sizeof(v->etag), json_string_value(json_object_get(o, "etag")));
    v->delete_marker = json_is_true(json_object_get(o, "delete_marker"));
    v->parts_count = (uint32_t)json_integer_value(json_object_get(o, "parts_count"));
    if (attrs_from_json(json_object_get(o, "attrs"), &v->attrs, &v->n_attrs))
        return -1;
    if (v->delete_marker)
        return 0;
    copy_str(v->codec, sizeof(v->codec), json_string_value(json_object_get(o, "codec")));
    v->k = (int)json_integer_value(json_object_get(o, "k"));
    v->m = (int)json_integer_value(json_object_get(o, "m"));
    v->block_size = (uint64_t)json_integer_value(json_object_get(o, "block_size"));
    v->shard_index = (int)json_integer_value(json_object_get(o, "shard_index"));
    /* an unknown sum (a newer server's) fails the parse (CAIRN_E_CORRUPT),
     * never a checksum mismatch that a heal would act on */
    json_t *bsum = json_object_get(o, "block_sum");
    if ((bsum && !json_is_string(bsum)) ||
        sc_block_sum_parse(json_string_value(bsum), &v->block_sum))
        return -1;
    if (v->k < 1 || v->m < 0 || v->k + v->m > SC_MAX_SHARDS || v->block_size == 0 ||
        v->shard_index < 0 || v->shard_index >= v->k + v->m)
        return -1;
    json_t *d = json_object_get(o, "dist");
    if (!json_is_array(d) || json_array_size(d) != (size_t)(v->k + v->m))
        return -1;
    for (int s = 0; s < v->k + v->m; s++) {
        json_int_t x = json_integer_value(json_array_get(d, (size_t)s));
        if (x < 0 || x >= SC_MAX_SHARDS)
            return -1;
        v->dist[s] = (uint8_t)x;
    }
    copy_str(v->data_dir, sizeof(v->data_dir), json_string_value(json_object_get(o, "data_dir")));
    for (const char *c = v->data_dir; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return -1;
    json_t *parts = json_object_get(o, "parts");
    size_t np = json_array_size(parts);
    if (np) {
        v->parts = calloc(np, sizeof(*v->parts));
        if (!v->parts)
            return -1;
        v->n_parts = np;
        uint64_t total = 0;
        for (size_t p = 0; p < np; p++) {
            json_t *po = json_array_get(parts, p);
            struct sc_part *pt = &v->parts[p];
            json_int_t num = json_integer_value(json_object_get(po, "number"));
            if (num < 1 || num > 10000)
                return -1;
            pt->number = (uint32_t)num;
            pt->size = (uint64_t)json_integer_value(json_object_get(po, "size"));
            pt->mtime_ms = json_integer_value(json_object_get(po, "mtime"));
            copy_str(pt->etag, sizeof(pt->etag), json_string_value(json_object_get(po, "etag")));
            if (attrs_from_json(json_object_get(po, "attrs"), &pt->attrs, &pt->n_attrs))
                return -1;
            total += pt->size;
        }
        if (total != v->size)
            return -1;
    }
    json_t *in = json_object_get(o, "inline");
    if (json_is_string(in)) {
        if (sc_b64_decode(json_string_value(in), &v->inline_data, &v->inline_len))
            return -1;
        v->has_inline = 1;
    }
    return 0;
}

int sc_objmeta_parse(const char *json, size_t len, struct sc_objmeta *m)
{
    memset(m, 0, sizeof(*m));
    json_t *root = json_loadb(json, len, 0, NULL);
    if (!root)
        return CAIRN_E_CORRUPT;
    json_t *vers = json_object_get(root, "versions");
    int rc = 0;
    if (!json_is_array(vers) || json_integer_value(json_object_get(root, "format")) != 1) {
        rc = CAIRN_E_CORRUPT;
        goto out;
    }
    size_t n = json_array_size(vers);
    m->v = calloc(n ? n : 1, sizeof(*m->v));
    if (!m->v) {
        rc = CAIRN_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (version_from_json(json_array_get(vers, i), &m->v[i])) {
            sc_version_clear(&m->v[i]);
            rc = CAIRN_E_CORRUPT;
            break;
        }
        m->n++;
    }
out:
    json_decref(root);
    if (rc)
        sc_objmeta_clear(m);
    return rc;
}

uint64_t sc_objmeta_signature(const struct sc_objmeta *m)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < m->n; i++) {
        const struct sc_version *v = &m->v[i];
        char buf[512];
        int n = snprintf(buf, sizeof(buf), "%s|%lld|%llu|%s|%d|%s|%d|%d|%s|%llu|%zu|%zu", v->id,
                         (long long)v->mtime_ms, (unsigned long long)v->size, v->etag,
                         v->delete_marker, v->codec, v->k, v->m, v->data_dir,
                         (unsigned long long)v->block_size, v->n_parts, v->n_attrs);
        h = h * 31 + sc_xxh64(buf, (size_t)n);
        if (!v->delete_marker && v->block_sum != SC_SUM_XXH64) /* xxh64: signature as before */
            h = h * 31 + (uint64_t)v->block_sum + 1;
        for (size_t a = 0; a < v->n_attrs; a++)
            h = h * 31 + sc_xxh64(v->attrs[a].value, strlen(v->attrs[a].value));
    }
    return h;
}
