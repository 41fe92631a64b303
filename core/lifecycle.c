/*
 * lifecycle.c -- lifecycle rules: parser/validator, pure decisions, and the
 * background scanner thread (see lifecycle.h).
 */

#include "lifecycle.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "request.h"
#include "xml-parse.h"

/* ---- parsing -------------------------------------------------------------- */

static int fail(char *reason, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *reason, size_t cap, int rc, const char *fmt, ...)
{
    if (reason && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* A decimal integer in [lo, hi], whole string; -1 when not. */
static int64_t parse_int(const char *s, int64_t lo, int64_t hi)
{
    if (!s || !*s || strlen(s) > 18)
        return -1;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v < lo || v > hi ? -1 : v;
}

/* ISO 8601 date "YYYY-MM-DD[THH:MM:SS[.fff]Z]" (UTC) to ms; -1 when not one. */
static int64_t parse_date(const char *s)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return -1;
    const char *p = s + 10;
    if (*p == 'T') {
        int m = 0;
        if (sscanf(p, "T%2d:%2d:%2d%n", &h, &mi, &sec, &m) != 3 || m != 9)
            return -1;
        p += m;
        if (*p == '.') {
            p++;
            while (*p >= '0' && *p <= '9')
                p++;
        }
        if (*p == 'Z')
            p++;
        else if (strcmp(p, "+00:00") == 0)
            p += 6;
        else
            return -1;
    }
    if (*p || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
        mi > 59 || sec > 60)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = sec};
    return (int64_t)timegm(&tm) * 1000;
}

/* One <Tag><Key/><Value/></Tag> into the filter. */
static int parse_tag(const struct xml_node *t, struct lc_filter *f, char *reason, size_t cap)
{
    const char *k = xml_child_text(t, "Key");
    const char *v = xml_child_text(t, "Value");
    if (!k || !v)
        return fail(reason, cap, CAIRN_E_MALFORMED_XML, "A Tag needs a Key and a Value");
    if (!*k || strlen(k) > 128 || strlen(v) > 256)
        return fail(reason, cap, CAIRN_E_INVALID_ARGUMENT, "The TagKey you have provided is invalid");
    if (f->n_tags == LC_MAX_TAGS)
        return fail(reason, cap, CAIRN_E_INVALID_ARGUMENT, "Too many tags in a filter");
    for (size_t i = 0; i < f->n_tags; i++)
        if (strcmp(f->tags[i].name, k) == 0)
            return fail(reason, cap, CAIRN_E_INVALID_ARGUMENT, "Duplicate Tag Keys are not allowed.");
    f->tags[f->n_tags++] = (struct cairn_kv){k, v};
    return 0;
}

static int parse_size(const struct xml_node *n, int64_t *out, char *reason, size_t cap)
{
    int64_t v = parse_int(n->text, 0, INT64_MAX / 2);
    if (v < 0)
        return fail(reason, cap, CAIRN_E_INVALID_ARGUMENT, "%s must be a non-negative integer",
                    n->name);
    *out = v;
    return 0;
}

/* <Filter>: exactly one of Prefix, Tag, And, ObjectSizeGreaterThan, ObjectSizeLessThan
 * (or nothing: all objects). */
static int parse_filter(const struct xml_node *fnode, struct lc_filter *f, char *reason,
                        size_t cap)
{
    int seen = 0, rc;
    for (const struct xml_node *c = fnode->first_child; c; c = c->next) {
        seen++;
        if (strcmp(c->name, "Prefix") == 0) {
            f->prefix = c->text ? c->text : "";
        } else if (strcmp(c->name, "Tag") == 0) {
            if ((rc = parse_tag(c, f, reason, cap)) < 0)
                return rc;
        } else if (strcmp(c->name, "ObjectSizeGreaterThan") == 0) {
            if ((rc = parse_size(c, &f->size_gt, reason, cap)) < 0)
                return rc;
        } else if (strcmp(c->name, "ObjectSizeLessThan") == 0) {
            if ((rc = parse_size(c, &f->size_lt, reason, cap)) < 0)
                return rc;
        } else if (strcmp(c->name, "And") == 0) {
            for (const struct xml_node *a = c->first_child; a; a = a->next) {
                if (strcmp(a->name, "Prefix") == 0)
                    f->prefix = a->text ? a->text : "";
                else if (strcmp(a->name, "Tag") == 0) {
                    if ((rc = parse_tag(a, f, reason, cap)) < 0)
                        return rc;
                } else if (strcmp(a->name, "ObjectSizeGreaterThan") == 0) {
                    if ((rc = parse_size(a, &f->size_gt, reason, cap)) < 0)
                        return rc;
                } else if (strcmp(a->name, "ObjectSizeLessThan") == 0) {
                    if ((rc = parse_size(a, &f->size_lt, reason, cap)) < 0)
                        return rc;
                } else {
                    return fail(reason, cap, CAIRN_E_MALFORMED_XML, "Unknown element And/%s",
                                a->name);
                }
            }
        } else {
            return fail(reason, cap, CAIRN_E_MALFORMED_XML, "Unknown element Filter/%s", c->name);
        }
    }
    if (seen > 1)
        return fail(reason, cap, CAIRN_E_MALFORMED_XML,
                    "Filter must have exactly one of Prefix, Tag, And or ObjectSize*");
    if (f->size_gt >= 0 && f->size_lt >= 0 && f->size_lt <= f->size_gt)
        return fail(reason, cap, CAIRN_E_INVALID_ARGUMENT,
                    "ObjectSizeLessThan must be greater than ObjectSizeGreaterThan");
    return 0;
}

static int parse_rule(const struct xml_node *r, struct lc_rule *rule, char *reason, size_t cap)
{
    int rc;
    memset(rule, 0, sizeof(*rule));
    rule->id = "";
    rule->filter.prefix = "";
    rule->filter.size_gt = rule->filter.size_lt = -1;
    rule->exp_days = rule->exp_date_ms = rule->nc_days = rule->abort_days = -1;
    int has_filter = 0, has_prefix = 0, actions = 0, has_status = 0;
    for (const struct xml_node *c = r->first_child; c; c = c->next) {
        const char *t = c->text ? c->text : "";
        if (strcmp(c->name, "ID") == 0) {
            if (strlen(t) > 255)
                return fail(reason, cap, CAIRN_E_INVALID_ARGUMENT,
                            "ID length should not exceed allowed limit of 255");
            rule->id = t;
        } else if (strcmp(c->name, "Status") == 0) {
            has_status = 1;
            if (strcmp(t, "Enabled") == 0)
                rule->enabled = 1;
            else if (strcmp(t, "Disabled") != 0)
                return fail(reason, cap, CAIRN_E_MALFORMED_XML,
                            "Status must be Enabled or Disabled");
        } else if (strcmp(c->name, "Prefix") == 0) {
            has_prefix = 1;
            rule->filter.prefix = t;
        } else if (strcmp(c->name, "Filter") == 0) {
            has_filter = 1;
            if ((rc = parse_filter(c, &rule->filter, reason, cap)) < 0)
                return rc;
        } else if (strcmp(c->name, "Expiration") == 0) {
            actions++;
            int n = 0;
            for (const struct xml_node *e = c->first_child; e; e = e->next) {
                n++;
                if (strcmp(e->name, "Days") == 0) {
                    if ((rule->exp_days = parse_int(e->text, 1, INT32_MAX)) < 0)
                        return fail(reason, cap, CAIRN_E_INVALID_ARGUMENT,
                                    "'Days' for Expiration action must be a positive integer");
                } else if (strcmp(e->name, "Date") == 0) {
                    if ((rule->exp_date_ms = parse_date(e->text)) < 0)
                        return fail(reason, cap, CAIRN_E_INVALID_ARGUMENT,
                                    "'Date' must be in ISO 8601 format");
                } else if (strcmp(e->name, "ExpiredObjectDeleteMarker") == 0) {
                    if (!e->text || (strcmp(e->text, "true") && strcmp(e->text, "false")))
                        return fail(reason, cap, CAIRN_E_MALFORMED_XML,
                                    "ExpiredObjectDeleteMarker must be true or false");
                    rule->exp_delete_marker = strcmp(e->text, "true") == 0;
                } else {
                    return fail(reason, cap, CAIRN_E_MALFORMED_XML,
                                "Unknown element Expiration/%s", e->name);
                }
            }
            if (n != 1)
                return fail(reason, cap, CAIRN_E_MALFORMED_XML,
                            "Expiration needs exactly one of Days, Date or "
                            "ExpiredObjectDeleteMarker");
        } else if (strcmp(c->name, "NoncurrentVersionExpiration") == 0) {
            actions++;
            for (const struct xml_node *e = c->first_child; e; e = e->next) {
                if (strcmp(e->name, "NoncurrentDays") == 0) {
                    if ((rule->nc_days = parse_int(e->text, 1, INT32_MAX)) < 0)
                        return fail(reason, cap, CAIRN_E_INVALID_ARGUMENT,
                                    "'NoncurrentDays' for NoncurrentVersionExpiration action "
                                    "must be a positive integer");
                } else if (strcmp(e->name, "NewerNoncurrentVersions") == 0) {
                    if ((rule->nc_newer = parse_int(e->text, 1, 100)) < 0)
                        return fail(reason, cap, CAIRN_E_INVALID_ARGUMENT,
                                    "'NewerNoncurrentVersions' must be between 1 and 100");
                } else {
                    return fail(reason, cap, CAIRN_E_MALFORMED_XML,
                                "Unknown element NoncurrentVersionExpiration/%s", e->name);
                }
            }
            if (rule->nc_days < 0)
                return fail(reason, cap, CAIRN_E_MALFORMED_XML,
                            "NoncurrentVersionExpiration needs NoncurrentDays");
        } else if (strcmp(c->name, "AbortIncompleteMultipartUpload") == 0) {
            actions++;
            if ((rule->abort_days = parse_int(xml_child_text(c, "DaysAfterInitiation"), 1,
                                              INT32_MAX)) < 0)
                return fail(reason, cap, CAIRN_E_INVALID_ARGUMENT,
                            "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action "
                            "must be a positive integer");
        } else if (strcmp(c->name, "Transition") == 0 ||
                   strcmp(c->name, "NoncurrentVersionTransition") == 0) {
            return fail(reason, cap, CAIRN_E_NOT_IMPLEMENTED, "%s is not supported", c->name);
        } else {
            return fail(reason, cap, CAIRN_E_MALFORMED_XML, "Unknown element Rule/%s", c->name);
        }
    }
    if (!has_status)
        return fail(reason, cap, CAIRN_E_MALFORMED_XML, "A Rule needs a Status");
    if (has_filter && has_prefix)
        return fail(reason, cap, CAIRN_E_MALFORMED_XML,
                    "A Rule cannot have both Filter and a top-level Prefix");
    if (!actions)
        return fail(reason, cap, CAIRN_E_INVALID_ARGUMENT,
                    "At least one action needs to be specified in a rule");
    if (rule->filter.n_tags && rule->exp_delete_marker)
        return fail(reason, cap, CAIRN_E_INVALID_ARGUMENT,
                    "ExpiredObjectDeleteMarker cannot be specified with tags");
    if (rule->filter.n_tags && rule->abort_days >= 0)
        return fail(reason, cap, CAIRN_E_INVALID_ARGUMENT,
                    "AbortIncompleteMultipartUpload cannot be specified with tags");
    return 0;
}

int lifecycle_parse(struct arena *arena, const char *xml, size_t len, struct lc_config *cfg_r,
                    char *reason, size_t cap)
{
    if (reason && cap)
        reason[0] = '\0';
    memset(cfg_r, 0, sizeof(*cfg_r));
    struct xml_node *root = xml ? xml_parse(arena, xml, len) : NULL;
    if (!root || strcmp(root->name, "LifecycleConfiguration") != 0)
        return fail(reason, cap, CAIRN_E_MALFORMED_XML,
                    "The XML you provided was not well-formed or did not validate against our "
                    "published schema");
    size_t n = 0;
    for (struct xml_node *r = root->first_child; r; r = r->next) {
        if (strcmp(r->name, "Rule") != 0)
            return fail(reason, cap, CAIRN_E_MALFORMED_XML, "Unknown element %s", r->name);
        n++;
    }
    if (n == 0 || n > 1000)
        return fail(reason, cap, CAIRN_E_MALFORMED_XML, "A configuration needs 1 to 1000 rules");
    struct lc_rule *rules = arena_alloc(arena, n * sizeof(*rules));
    if (!rules)
        return fail(reason, cap, CAIRN_E_NOMEM, "out of memory");
    size_t i = 0;
    for (struct xml_node *r = root->first_child; r; r = r->next, i++) {
        int rc = parse_rule(r, &rules[i], reason, cap);
        if (rc < 0)
            return rc;
        for (size_t j = 0; j < i && *rules[i].id; j++)
            if (strcmp(rules[j].id, rules[i].id) == 0)
                return fail(reason, cap, CAIRN_E_INVALID_ARGUMENT,
                            "Rule ID must be unique. Found same ID for more than one rule");
    }
    cfg_r->n_rules = n;
    cfg_r->rules = rules;
    return 0;
}

int lifecycle_validate(const char *xml, size_t len, char *reason, size_t cap)
{
    struct arena *a = arena_new();
    if (!a)
        return CAIRN_E_NOMEM;
    struct lc_config cfg;
    int rc = lifecycle_parse(a, xml, len, &cfg, reason, cap);
    arena_free(a);
    return rc;
}

/* ---- decisions ------------------------------------------------------------ */

int lifecycle_rule_needs_tags(const struct lc_rule *rule)
{
    return rule->filter.n_tags > 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 1 when the URL-encoded field [s, s+n) decodes to exactly `want`. */
static int field_equals(const char *s, size_t n, const char *want)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++, w++) {
        int c = (unsigned char)s[i];
        if (c == '+')
            c = ' ';
        else if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
            i += 2;
        }
        if (want[w] == '\0' || (unsigned char)want[w] != c)
            return 0;
    }
    return want[w] == '\0';
}

/* 1 when `tagging` ("k=v&..." URL-encoded) holds tag k with value v. */
static int has_tag(const char *tagging, const char *k, const char *v)
{
    for (const char *p = tagging; p && *p;) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t kn = eq ? (size_t)(eq - p) : n;
        const char *val = eq ? eq + 1 : p + n;
        size_t vn = eq ? n - kn - 1 : 0;
        if (field_equals(p, kn, k) && field_equals(val, vn, v))
            return 1;
        p = end ? end + 1 : p + n;
    }
    return 0;
}

int lifecycle_filter_matches(const struct lc_rule *rule, const char *key, uint64_t size,
                             const char *tagging)
{
    const struct lc_filter *f = &rule->filter;
    if (strncmp(key, f->prefix, strlen(f->prefix)) != 0)
        return 0;
    if (f->size_gt >= 0 && size <= (uint64_t)f->size_gt)
        return 0;
    if (f->size_lt >= 0 && size >= (uint64_t)f->size_lt)
        return 0;
    for (size_t i = 0; i < f->n_tags; i++)
        if (!has_tag(tagging, f->tags[i].name, f->tags[i].value))
            return 0;
    return 1;
}

/* `since_ms` + `days` lifecycle days has passed at `now_ms`. */
static int aged(int64_t since_ms, int64_t days, int64_t now_ms, int64_t day_ms)
{
    return days >= 0 && now_ms - since_ms >= days * day_ms;
}

int lifecycle_expire_current(const struct lc_rule *rule, const char *key,
                             const struct cairn_object_info *info, const char *tagging,
                             int64_t now_ms, int64_t day_ms)
{
    if (!rule->enabled || info->is_delete_marker)
        return 0;
    if (rule->exp_days < 0 && rule->exp_date_ms < 0)
        return 0;
    if (!lifecycle_filter_matches(rule, key, info->size, tagging))
        return 0;
    if (rule->exp_date_ms >= 0)
        return now_ms >= rule->exp_date_ms;
    return aged(info->mtime_ms, rule->exp_days, now_ms, day_ms);
}

int lifecycle_expire_noncurrent(const struct lc_rule *rule, const char *key,
                                const struct cairn_object_info *info, const char *tagging,
                                int64_t noncurrent_since_ms, uint64_t newer_noncurrent,
                                int64_t now_ms, int64_t day_ms)
{
    if (!rule->enabled || rule->nc_days < 0)
        return 0;
    if (newer_noncurrent < (uint64_t)rule->nc_newer)
        return 0;
    if (!lifecycle_filter_matches(rule, key, info->size, tagging))
        return 0;
    return aged(noncurrent_since_ms, rule->nc_days, now_ms, day_ms);
}

int lifecycle_remove_marker(const struct lc_rule *rule, const char *key, int only_version)
{
    if (!rule->enabled || !only_version)
        return 0;
    if (!rule->exp_delete_marker && rule->exp_days < 0 && rule->exp_date_ms < 0)
        return 0;
    /* Markers have no size and no tags: only the prefix decides. */
    return rule->filter.n_tags == 0 && rule->filter.size_gt < 0 && rule->filter.size_lt < 0 &&
           strncmp(key, rule->filter.prefix, strlen(rule->filter.prefix)) == 0;
}

int lifecycle_abort_upload(const struct lc_rule *rule, const char *key, int64_t initiated_ms,
                           int64_t now_ms, int64_t day_ms)
{
    if (!rule->enabled || rule->abort_days < 0 || rule->filter.n_tags)
        return 0;
    if (strncmp(key, rule->filter.prefix, strlen(rule->filter.prefix)) != 0)
        return 0;
    return aged(initiated_ms, rule->abort_days, now_ms, day_ms);
}

/* ---- the scanner ---------------------------------------------------------- */

/* Internal requests have no body: reads end at once, writes are dropped. */
static ssize_t no_read(struct cairn_req *req, void *buf, size_t len)
{
    (void)req, (void)buf, (void)len;
    return 0;
}

static int no_write(struct cairn_req *req, const void *buf, size_t len)
{
    (void)req, (void)buf, (void)len;
    return 0;
}

static int req_init(struct cairn_req *req)
{
    memset(req, 0, sizeof(*req));
    req->request_id = "lifecycle";
    req->arena = arena_new();
    req->read = no_read;
    req->write = no_write;
    return req->arena ? 0 : CAIRN_E_NOMEM;
}

/* One version seen by the listing, copied into the page's arena. */
struct version {
    const char *key;
    struct cairn_object_info info;
};

/* A page of the version listing: whole keys only, at most ~PAGE versions. */
#define PAGE 1000
struct page {
    struct arena *arena;
    struct version *v;
    size_t n, cap;
    const char *last_key; /* key of the last kept version */
    int full;             /* stopped at a key boundary with more to come */
    int failed;
};

static int page_emit(void *ctx, const struct cairn_list_entry *e)
{
    struct page *p = ctx;
    if (e->kind != CAIRN_LIST_OBJECT)
        return 0;
    int new_key = !p->last_key || strcmp(p->last_key, e->key) != 0;
    if (new_key && p->n >= PAGE) {
        p->full = 1;
        return 1;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        struct version *nv = arena_alloc(p->arena, cap * sizeof(*nv));
        if (!nv) {
            p->failed = 1;
            return CAIRN_E_NOMEM;
        }
        if (p->n)
            memcpy(nv, p->v, p->n * sizeof(*nv));
        p->v = nv;
        p->cap = cap;
    }
    struct version *v = &p->v[p->n++];
    v->key = new_key ? arena_strdup(p->arena, e->key) : p->last_key;
    if (!v->key) {
        p->failed = 1;
        return CAIRN_E_NOMEM;
    }
    v->info = e->info;
    v->info.n_attrs = 0;
    v->info.attrs = NULL;
    p->last_key = v->key;
    return 0;
}

struct tag_probe {
    const char *tagging;
    struct arena *arena;
};

static int probe_decide(void *ctx, const struct cairn_object_info *info, uint64_t *off,
                        uint64_t *len)
{
    struct tag_probe *t = ctx;
    (void)off, (void)len;
    for (size_t i = 0; i < info->n_attrs; i++)
        if (strcmp(info->attrs[i].name, "x-amz-tagging") == 0)
            t->tagging = arena_strdup(t->arena, info->attrs[i].value);
    return 1;
}

/* The x-amz-tagging attr of one version, or NULL. */
static const char *version_tags(const struct cairn_backend_ops *be, void *state,
                                struct cairn_req *req, const char *bucket,
                                const struct version *v)
{
    struct tag_probe t = {NULL, req->arena};
    struct cairn_get get = {.bucket = bucket, .key = v->key,
                            .version_id = v->info.version_id[0] ? v->info.version_id : NULL,
                            .decide = probe_decide, .ctx = &t};
    if (be->object_get(state, req, &get) < 0)
        return NULL;
    return t.tagging;
}

struct scan {
    const struct cairn_backend_ops *be;
    void *state;
    const struct cairn_services *sv;
    int64_t day_ms;
    int64_t now_ms;
    int64_t stale_ms; /* abandoned-upload age; 0: no sweeping outside rules */
};

static void delete_version(struct scan *s, struct cairn_req *req, const char *bucket,
                           const struct version *v, const char *why)
{
    struct cairn_object_info out;
    memset(&out, 0, sizeof(out));
    const char *vid = v->info.version_id[0] ? v->info.version_id : "null";
    int rc = s->be->object_delete(s->state, req, bucket, v->key, vid, CAIRN_VERSIONING_ENABLED,
                                  &out);
    s->sv->log(NULL, rc < 0 ? CAIRN_LOG_WARN : CAIRN_LOG_INFO,
               "lifecycle: %s %s/%s version %s%s", why, bucket, v->key, vid,
               rc < 0 ? " failed" : "");
    if (rc >= 0)
        s->sv->metric_add("cairn_lifecycle_actions_total", 1);
}

/* Applies the rules to the versions [v, v+n) of one key (newest first). */
static void apply_key(struct scan *s, struct cairn_req *req, const char *bucket,
                      const struct lc_config *cfg, enum cairn_versioning vs,
                      const struct version *v, size_t n)
{
    const char *key = v[0].key;
    const char *tags = NULL;
    int tags_loaded = 0;
    int any_tags = 0;
    for (size_t r = 0; r < cfg->n_rules; r++)
        any_tags |= lifecycle_rule_needs_tags(&cfg->rules[r]);

    /* The latest version. */
    if (v[0].info.is_delete_marker) {
        for (size_t r = 0; r < cfg->n_rules; r++)
            if (lifecycle_remove_marker(&cfg->rules[r], key, n == 1)) {
                delete_version(s, req, bucket, &v[0], "removed expired delete marker");
                return;
            }
    } else {
        if (any_tags) {
            tags = version_tags(s->be, s->state, req, bucket, &v[0]);
            tags_loaded = 1;
        }
        for (size_t r = 0; r < cfg->n_rules; r++) {
            if (!lifecycle_expire_current(&cfg->rules[r], key, &v[0].info, tags, s->now_ms,
                                          s->day_ms))
                continue;
            struct cairn_object_info out;
            memset(&out, 0, sizeof(out));
            /* Versioned: a delete marker on top; otherwise the object goes. */
            int rc = s->be->object_delete(s->state, req, bucket, key, NULL, vs, &out);
            s->sv->log(NULL, rc < 0 ? CAIRN_LOG_WARN : CAIRN_LOG_INFO,
                       "lifecycle: expired %s/%s (rule '%s')%s", bucket, key,
                       cfg->rules[r].id, rc < 0 ? " failed" : "");
            if (rc >= 0)
                s->sv->metric_add("cairn_lifecycle_actions_total", 1);
            break;
        }
    }
    (void)tags_loaded;

    /* Noncurrent versions: v[i] became noncurrent when v[i-1] was written. */
    uint64_t newer_noncurrent = 0;
    for (size_t i = 1; i < n; i++) {
        const char *t = NULL;
        if (any_tags && !v[i].info.is_delete_marker)
            t = version_tags(s->be, s->state, req, bucket, &v[i]);
        for (size_t r = 0; r < cfg->n_rules; r++) {
            if (lifecycle_expire_noncurrent(&cfg->rules[r], key, &v[i].info, t,
                                            v[i - 1].info.mtime_ms, newer_noncurrent, s->now_ms,
                                            s->day_ms)) {
                delete_version(s, req, bucket, &v[i], "expired noncurrent");
                break;
            }
        }
        newer_noncurrent++;
    }
}

struct upload {
    const char *key;
    const char *upload_id;
    int64_t initiated_ms;
};

struct upload_list {
    struct arena *arena;
    struct upload *u;
    size_t n, cap;
};

static int upload_emit(void *ctx, const struct cairn_upload_info *u)
{
    struct upload_list *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct upload *nu = arena_alloc(l->arena, cap * sizeof(*nu));
        if (!nu)
            return CAIRN_E_NOMEM;
        if (l->n)
            memcpy(nu, l->u, l->n * sizeof(*nu));
        l->u = nu;
        l->cap = cap;
    }
    struct upload *d = &l->u[l->n];
    d->key = arena_strdup(l->arena, u->key);
    d->upload_id = arena_strdup(l->arena, u->upload_id);
    d->initiated_ms = u->initiated_ms;
    if (!d->key || !d->upload_id)
        return CAIRN_E_NOMEM;
    l->n++;
    return 0;
}

static enum cairn_versioning bucket_versioning(struct scan *s, struct cairn_req *req,
                                               const char *bucket)
{
    char *data = NULL;
    size_t len = 0;
    if (s->be->bucket_config_get(s->state, req, bucket, "versioning", &data, &len) < 0 || !data)
        return CAIRN_VERSIONING_OFF;
    if (len >= 7 && strncmp(data, "Enabled", 7) == 0)
        return CAIRN_VERSIONING_ENABLED;
    if (len >= 9 && strncmp(data, "Suspended", 9) == 0)
        return CAIRN_VERSIONING_SUSPENDED;
    return CAIRN_VERSIONING_OFF;
}

static _Atomic int stop_flag;

/* Scans one bucket with a lifecycle document. */
static int scan_bucket(struct scan *s, const char *bucket)
{
    struct cairn_req req;
    if (req_init(&req) < 0)
        return CAIRN_E_NOMEM;
    char *doc = NULL;
    size_t doc_len = 0;
    struct lc_config cfg = {0};
    char reason[256];
    int rc = s->be->bucket_config_get(s->state, &req, bucket, "lifecycle", &doc, &doc_len);
    if (rc < 0 && rc != CAIRN_E_NO_SUCH_CONFIG) {
        arena_free(req.arena);
        return rc;
    }
    rc = 0;
    if (doc && lifecycle_parse(req.arena, doc, doc_len, &cfg, reason, sizeof(reason)) < 0) {
        s->sv->log(NULL, CAIRN_LOG_WARN, "lifecycle: bucket %s: stored rules do not parse: %s",
                   bucket, reason);
        cfg = (struct lc_config){0};
        doc = NULL;
    }
    if (!doc && !s->stale_ms) {
        arena_free(req.arena);
        return 0;
    }
    enum cairn_versioning vs = doc ? bucket_versioning(s, &req, bucket) : CAIRN_VERSIONING_OFF;
    int need_versions = 0, need_uploads = s->stale_ms > 0;
    for (size_t r = 0; r < cfg.n_rules; r++) {
        const struct lc_rule *x = &cfg.rules[r];
        need_versions |= x->enabled && (x->exp_days >= 0 || x->exp_date_ms >= 0 ||
                                        x->exp_delete_marker || x->nc_days >= 0);
        need_uploads |= x->enabled && x->abort_days >= 0;
    }

    /* Versions, a page of whole keys at a time; actions after each page so the
     * backend is never called from inside its own listing. */
    char *after = strdup("");
    rc = after ? 0 : CAIRN_E_NOMEM;
    while (need_versions && rc == 0 && !stop_flag) {
        struct page p = {.arena = arena_new()};
        if (!p.arena) {
            rc = CAIRN_E_NOMEM;
            break;
        }
        struct cairn_list list = {.bucket = bucket, .prefix = "", .delimiter = "",
                                  .after = after, .after_version = "", .versions = 1,
                                  .emit = page_emit, .ctx = &p};
        rc = s->be->object_list(s->state, &req, &list);
        if (rc > 0)
            rc = 0;
        if (rc == 0 && p.failed)
            rc = CAIRN_E_NOMEM;
        for (size_t i = 0; rc == 0 && i < p.n;) {
            size_t j = i + 1;
            while (j < p.n && p.v[j].key == p.v[i].key)
                j++;
            apply_key(s, &req, bucket, &cfg, vs, &p.v[i], j - i);
            i = j;
        }
        int more = p.full && p.last_key;
        if (more) {
            free(after);
            after = strdup(p.last_key);
            if (!after)
                rc = CAIRN_E_NOMEM;
        }
        arena_free(p.arena);
        if (!more)
            break;
        /* Each page gets a fresh request arena (tag probes, deletes). */
        arena_free(req.arena);
        if (!(req.arena = arena_new())) {
            rc = CAIRN_E_NOMEM;
            break;
        }
        /* The parsed rules live in the old arena: parse again. */
        if (s->be->bucket_config_get(s->state, &req, bucket, "lifecycle", &doc, &doc_len) < 0 ||
            lifecycle_parse(req.arena, doc, doc_len, &cfg, reason, sizeof(reason)) < 0)
            break;
    }
    free(after);

    if (need_uploads && rc == 0 && !stop_flag) {
        struct upload_list l = {.arena = req.arena};
        int lrc = s->be->mpu_list(s->state, &req, bucket, "", "", "", upload_emit, &l);
        if (lrc < 0)
            rc = lrc;
        for (size_t i = 0; i < l.n; i++) {
            const char *why = s->stale_ms > 0 && s->now_ms - l.u[i].initiated_ms >= s->stale_ms
                                  ? "stale_upload_age"
                                  : NULL;
            for (size_t r = 0; !why && r < cfg.n_rules; r++)
                if (lifecycle_abort_upload(&cfg.rules[r], l.u[i].key, l.u[i].initiated_ms,
                                           s->now_ms, s->day_ms))
                    why = "a lifecycle rule";
            if (!why)
                continue;
            int arc = s->be->mpu_abort(s->state, &req, bucket, l.u[i].key, l.u[i].upload_id);
            s->sv->log(NULL, arc < 0 ? CAIRN_LOG_WARN : CAIRN_LOG_INFO,
                       "lifecycle: aborted upload %s of %s/%s (%s)%s", l.u[i].upload_id, bucket,
                       l.u[i].key, why, arc < 0 ? " failed" : "");
            if (arc >= 0)
                s->sv->metric_add("cairn_lifecycle_actions_total", 1);
        }
    }
    arena_free(req.arena);
    return rc;
}

struct name_list {
    char **names;
    size_t n, cap;
};

static int bucket_emit(void *ctx, const struct cairn_bucket_info *b)
{
    struct name_list *l = ctx;
    if (!b->name || b->name[0] == '.')
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **nn = realloc(l->names, cap * sizeof(*nn));
        if (!nn)
            return CAIRN_E_NOMEM;
        l->names = nn;
        l->cap = cap;
    }
    if (!(l->names[l->n] = strdup(b->name)))
        return CAIRN_E_NOMEM;
    l->n++;
    return 0;
}

int lifecycle_scan_once(const struct loaded_plugin *backend, const struct cairn_services *sv,
                        int64_t day_ms, int64_t stale_upload_ms)
{
    if (!backend || !backend->desc || !backend->desc->backend)
        return CAIRN_E_INVALID_ARGUMENT;
    struct scan s = {.be = backend->desc->backend, .state = backend->state, .sv = sv,
                     .day_ms = day_ms > 0 ? day_ms : 86400000, .now_ms = sv->now_ms(),
                     .stale_ms = stale_upload_ms > 0 ? stale_upload_ms : 0};
    if (s.be->size < offsetof(struct cairn_backend_ops, mpu_list) + sizeof(s.be->mpu_list))
        return CAIRN_E_INTERNAL;
    struct cairn_req req;
    if (req_init(&req) < 0)
        return CAIRN_E_NOMEM;
    struct name_list names = {0};
    int rc = s.be->bucket_list(s.state, &req, bucket_emit, &names);
    arena_free(req.arena);
    for (size_t i = 0; i < names.n; i++) {
        if (rc >= 0 && !stop_flag) {
            int brc = scan_bucket(&s, names.names[i]);
            if (brc < 0) {
                sv->log(NULL, CAIRN_LOG_WARN, "lifecycle: bucket %s: scan failed (%d)",
                        names.names[i], brc);
                rc = brc;
            }
        }
        free(names.names[i]);
    }
    free(names.names);
    return rc < 0 ? rc : 0;
}

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int running;
    const struct loaded_plugin *backends[16];
    size_t n_backends;
    const struct cairn_services *sv;
    struct lifecycle_settings settings;
} scanner = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static void *scanner_main(void *arg)
{
    (void)arg;
    int64_t interval = scanner.settings.interval_seconds > 0 ? scanner.settings.interval_seconds
                                                             : 3600;
    int64_t day_ms = (scanner.settings.day_seconds > 0 ? scanner.settings.day_seconds : 86400) *
                     1000;
    pthread_mutex_lock(&scanner.lock);
    while (!stop_flag) {
        pthread_mutex_unlock(&scanner.lock);
        for (size_t b = 0; b < scanner.n_backends && !stop_flag; b++)
            lifecycle_scan_once(scanner.backends[b], scanner.sv, day_ms,
                                scanner.settings.stale_upload_age_s * 1000);
        pthread_mutex_lock(&scanner.lock);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)interval;
        while (!stop_flag &&
               pthread_cond_timedwait(&scanner.wake, &scanner.lock, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&scanner.lock);
    return NULL;
}

/* 1 when the backend has every operation the scanner uses. */
static int scannable(const struct loaded_plugin *backend)
{
    const struct cairn_backend_ops *ops = backend && backend->desc ? backend->desc->backend : NULL;
    return ops && ops->bucket_list && ops->bucket_config_get && ops->object_list &&
           ops->object_get && ops->object_delete && ops->mpu_list && ops->mpu_abort;
}

int lifecycle_start(const struct loaded_plugin *const *backends, size_t n,
                    const struct cairn_services *sv, const struct lifecycle_settings *settings)
{
    pthread_mutex_lock(&scanner.lock);
    if (scanner.running) {
        pthread_mutex_unlock(&scanner.lock);
        return 0;
    }
    /* A backend without the operations the scanner needs (a test double, a
     * read-only layout) has nothing to expire. */
    scanner.n_backends = 0;
    for (size_t b = 0; b < n; b++) {
        if (scannable(backends[b]) &&
            scanner.n_backends < sizeof(scanner.backends) / sizeof(scanner.backends[0]))
            scanner.backends[scanner.n_backends++] = backends[b];
        else if (sv)
            sv->log(NULL, CAIRN_LOG_INFO, "lifecycle: backend %zu not scanned (it lacks the "
                                          "operations lifecycle needs)", b);
    }
    if (!scanner.n_backends) {
        pthread_mutex_unlock(&scanner.lock);
        return 0;
    }
    scanner.sv = sv;
    scanner.settings = *settings;
    stop_flag = 0;
    int rc = pthread_create(&scanner.thread, NULL, scanner_main, NULL);
    scanner.running = rc == 0;
    pthread_mutex_unlock(&scanner.lock);
    return rc == 0 ? 0 : CAIRN_E_INTERNAL;
}

void lifecycle_stop(void)
{
    pthread_mutex_lock(&scanner.lock);
    if (!scanner.running) {
        pthread_mutex_unlock(&scanner.lock);
        return;
    }
    stop_flag = 1;
    pthread_cond_broadcast(&scanner.wake);
    pthread_mutex_unlock(&scanner.lock);
    pthread_join(scanner.thread, NULL);
    scanner.running = 0;
}
