/* iam-store.c -- root credentials, users, groups and policies in memory. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "iam-store.h"
#include "request.h"

/* A malloc'd array of malloc'd strings. */
struct strlist {
    char **items;
    size_t n;
};

struct iam_user {
    char *access_key;
    char *secret;
    char *parent; /* "" for a plain user */
    int enabled;
    struct strlist policies;
};

struct iam_group {
    char *name;
    int enabled;
    struct strlist members;
    struct strlist policies;
};

struct iam_policy {
    char *name;
    char *json;
};

static pthread_rwlock_t iam_lock = PTHREAD_RWLOCK_INITIALIZER;
static char *root_key, *root_secret;
static struct iam_user *users;
static size_t n_users;
static struct iam_group *groups;
static size_t n_groups;
static struct iam_policy *policies;
static size_t n_policies;

#define ALLOW_ALL_S3 "\"Action\":[\"s3:*\"],\"Resource\":[\"arn:aws:s3:::*\"]"
static const struct {
    const char *name, *json;
} canned[] = {
    {"readwrite", "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\"," ALLOW_ALL_S3
                  "}]}"},
    {"readonly", "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                 "\"Action\":[\"s3:GetBucketLocation\",\"s3:GetObject\",\"s3:ListBucket\",\"s3:ListAllMyBuckets\"],"
                 "\"Resource\":[\"arn:aws:s3:::*\"]}]}"},
    {"writeonly", "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                  "\"Action\":[\"s3:PutObject\"],\"Resource\":[\"arn:aws:s3:::*\"]}]}"},
    {"diagnostics",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
     "\"Action\":[\"admin:ServerInfo\",\"admin:ServerTrace\",\"admin:ConsoleLog\","
     "\"admin:Profiling\",\"admin:TopLocksInfo\",\"admin:OBDInfo\",\"admin:BandwidthMonitor\","
     "\"admin:Prometheus\"],\"Resource\":[\"arn:aws:s3:::*\"]}]}"},
    {"consoleAdmin", "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                     "\"Action\":[\"admin:*\"]},{\"Effect\":\"Allow\"," ALLOW_ALL_S3 "}]}"},
};

const char *iam_canned_policy(const char *name)
{
    for (size_t i = 0; name && i < sizeof(canned) / sizeof(canned[0]); i++)
        if (strcmp(canned[i].name, name) == 0)
            return canned[i].json;
    return NULL;
}

/* ---- helpers --------------------------------------------------------------- */

static void strlist_clear(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static int strlist_find(const struct strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], s) == 0)
            return (int)i;
    return -1;
}

static int strlist_add(struct strlist *l, const char *s)
{
    if (strlist_find(l, s) >= 0)
        return 0;
    char **items = realloc(l->items, (l->n + 1) * sizeof(*items));
    if (!items)
        return CAIRN_E_NOMEM;
    l->items = items;
    if (!(l->items[l->n] = strdup(s)))
        return CAIRN_E_NOMEM;
    l->n++;
    return 0;
}

static void strlist_remove(struct strlist *l, const char *s)
{
    int i = strlist_find(l, s);
    if (i < 0)
        return;
    free(l->items[i]);
    memmove(&l->items[i], &l->items[i + 1], (l->n - (size_t)i - 1) * sizeof(*l->items));
    l->n--;
}

static int valid_key(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 3 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7f || c == '/' || c == ':' || c == ',')
            return 0;
    }
    return 1;
}

static int valid_secret(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 8 && n <= 40;
}

static int valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 128)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("_.+=@-", c)))
            return 0;
    }
    return 1;
}

static struct iam_user *find_user(const char *key)
{
    for (size_t i = 0; key && i < n_users; i++)
        if (strcmp(users[i].access_key, key) == 0)
            return &users[i];
    return NULL;
}

static struct iam_group *find_group(const char *name)
{
    for (size_t i = 0; name && i < n_groups; i++)
        if (strcmp(groups[i].name, name) == 0)
            return &groups[i];
    return NULL;
}

static struct iam_policy *find_policy(const char *name)
{
    for (size_t i = 0; name && i < n_policies; i++)
        if (strcmp(policies[i].name, name) == 0)
            return &policies[i];
    return NULL;
}

/* The document of a policy name, stored or canned; NULL when unknown. */
static const char *policy_doc(const char *name)
{
    struct iam_policy *p = find_policy(name);
    return p ? p->json : iam_canned_policy(name);
}

/* Replaces `l` with `names` after checking that every policy exists. */
static int set_policies(struct strlist *l, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!names || !names[i] || !policy_doc(names[i]))
            return CAIRN_E_INVALID_ARGUMENT;
    struct strlist fresh = {0};
    for (size_t i = 0; i < n; i++)
        if (strlist_add(&fresh, names[i]) < 0) {
            strlist_clear(&fresh);
            return CAIRN_E_NOMEM;
        }
    strlist_clear(l);
    *l = fresh;
    return 0;
}

static void user_release(struct iam_user *u)
{
    free(u->access_key);
    if (u->secret)
        memset(u->secret, 0, strlen(u->secret));
    free(u->secret);
    free(u->parent);
    strlist_clear(&u->policies);
}

static void group_release(struct iam_group *g)
{
    free(g->name);
    strlist_clear(&g->members);
    strlist_clear(&g->policies);
}

/* ---- root and lookup ------------------------------------------------------ */

int iam_store_set_root(const char *access_key, const char *secret)
{
    if (!valid_key(access_key) || !valid_secret(secret))
        return CAIRN_E_INVALID_ARGUMENT;
    char *k = strdup(access_key), *s = strdup(secret);
    if (!k || !s) {
        free(k);
        free(s);
        return CAIRN_E_NOMEM;
    }
    pthread_rwlock_wrlock(&iam_lock);
    free(root_key);
    if (root_secret)
        memset(root_secret, 0, strlen(root_secret));
    free(root_secret);
    root_key = k;
    root_secret = s;
    pthread_rwlock_unlock(&iam_lock);
    return 0;
}

void iam_store_clear(void)
{
    pthread_rwlock_wrlock(&iam_lock);
    free(root_key);
    if (root_secret)
        memset(root_secret, 0, strlen(root_secret));
    free(root_secret);
    root_key = root_secret = NULL;
    for (size_t i = 0; i < n_users; i++)
        user_release(&users[i]);
    free(users);
    users = NULL;
    n_users = 0;
    for (size_t i = 0; i < n_groups; i++)
        group_release(&groups[i]);
    free(groups);
    groups = NULL;
    n_groups = 0;
    for (size_t i = 0; i < n_policies; i++) {
        free(policies[i].name);
        free(policies[i].json);
    }
    free(policies);
    policies = NULL;
    n_policies = 0;
    pthread_rwlock_unlock(&iam_lock);
}

static const char *req_copy(struct cairn_req *req, const char *s)
{
    return arena_strdup(req->arena, s);
}

int iam_lookup(struct cairn_req *req, const char *access_key, struct cairn_identity *id_r,
               char *secret_r, size_t secret_cap)
{
    if (!req || !req->arena || !access_key || !id_r || !secret_r)
        return CAIRN_E_INTERNAL;
    int rc = 0;
    const char *secret = NULL, *parent = "";
    int is_root = 0;
    pthread_rwlock_rdlock(&iam_lock);
    if (root_key && strcmp(root_key, access_key) == 0) {
        secret = root_secret;
        is_root = 1;
    } else {
        struct iam_user *u = find_user(access_key);
        if (!u) {
            rc = CAIRN_E_INVALID_ACCESS_KEY;
            goto out;
        }
        struct iam_user *p = u->parent[0] ? find_user(u->parent) : NULL;
        if (!u->enabled || (p && !p->enabled)) {
            rc = CAIRN_E_ACCESS_DENIED;
            goto out;
        }
        secret = u->secret;
        parent = u->parent;
    }
    if (strlen(secret) + 1 > secret_cap) {
        rc = CAIRN_E_INVALID_ARGUMENT;
        goto out;
    }
    memset(id_r, 0, sizeof(*id_r));
    id_r->access_key = req_copy(req, access_key);
    id_r->user = req_copy(req, access_key);
    id_r->parent = req_copy(req, parent);
    id_r->content_sha256 = "";
    id_r->is_root = is_root;
    if (!id_r->access_key || !id_r->user || !id_r->parent) {
        rc = CAIRN_E_NOMEM;
        goto out;
    }
    memcpy(secret_r, secret, strlen(secret) + 1);
out:
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

/* ---- users ---------------------------------------------------------------- */

int iam_user_add(const char *access_key, const char *secret, const char *parent)
{
    if (!valid_key(access_key) || !valid_secret(secret))
        return CAIRN_E_INVALID_ARGUMENT;
    if (!parent)
        parent = "";
    int rc = CAIRN_E_INVALID_ARGUMENT;
    pthread_rwlock_wrlock(&iam_lock);
    if (find_user(access_key) || (root_key && strcmp(root_key, access_key) == 0))
        goto out;
    if (parent[0]) {
        struct iam_user *p = find_user(parent);
        int parent_is_root = root_key && strcmp(root_key, parent) == 0;
        if (!parent_is_root && (!p || p->parent[0])) /* no grandchildren */
            goto out;
    }
    rc = CAIRN_E_NOMEM;
    struct iam_user *grown = realloc(users, (n_users + 1) * sizeof(*users));
    if (!grown)
        goto out;
    users = grown;
    struct iam_user u = {.access_key = strdup(access_key), .secret = strdup(secret),
                         .parent = strdup(parent), .enabled = 1};
    if (!u.access_key || !u.secret || !u.parent) {
        user_release(&u);
        goto out;
    }
    users[n_users++] = u;
    rc = 0;
out:
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

/* Removes users[i] and its memberships; caller holds the write lock. */
static void remove_user_at(size_t i)
{
    for (size_t g = 0; g < n_groups; g++)
        strlist_remove(&groups[g].members, users[i].access_key);
    user_release(&users[i]);
    memmove(&users[i], &users[i + 1], (n_users - i - 1) * sizeof(*users));
    n_users--;
}

int iam_user_remove(const char *access_key)
{
    int rc = CAIRN_E_INVALID_ACCESS_KEY;
    pthread_rwlock_wrlock(&iam_lock);
    struct iam_user *u = find_user(access_key);
    if (u) {
        char *key = strdup(u->access_key);
        if (!key) {
            rc = CAIRN_E_NOMEM;
            goto out;
        }
        remove_user_at((size_t)(u - users));
        /* Service accounts die with their parent. */
        for (size_t i = 0; i < n_users;) {
            if (strcmp(users[i].parent, key) == 0)
                remove_user_at(i);
            else
                i++;
        }
        free(key);
        rc = 0;
    }
out:
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

int iam_user_set_enabled(const char *access_key, int enabled)
{
    int rc = CAIRN_E_INVALID_ACCESS_KEY;
    pthread_rwlock_wrlock(&iam_lock);
    struct iam_user *u = find_user(access_key);
    if (u) {
        u->enabled = !!enabled;
        rc = 0;
    }
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

int iam_user_set_policies(const char *access_key, const char *const *names, size_t n)
{
    int rc = CAIRN_E_INVALID_ACCESS_KEY;
    pthread_rwlock_wrlock(&iam_lock);
    struct iam_user *u = find_user(access_key);
    if (u)
        rc = set_policies(&u->policies, names, n);
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

int iam_user_list(int (*emit)(void *ctx, const struct iam_user_info *u), void *ctx)
{
    int rc = 0;
    pthread_rwlock_rdlock(&iam_lock);
    for (size_t i = 0; i < n_users && rc == 0; i++) {
        const struct iam_user *u = &users[i];
        const char **member_of = calloc(n_groups + 1, sizeof(*member_of));
        if (!member_of) {
            rc = CAIRN_E_NOMEM;
            break;
        }
        size_t ng = 0;
        for (size_t g = 0; g < n_groups; g++)
            if (strlist_find(&groups[g].members, u->access_key) >= 0)
                member_of[ng++] = groups[g].name;
        struct iam_user_info info = {
            .access_key = u->access_key,
            .parent = u->parent,
            .enabled = u->enabled,
            .n_policies = u->policies.n,
            .policies = (const char *const *)u->policies.items,
            .n_groups = ng,
            .groups = member_of,
        };
        rc = emit(ctx, &info);
        free(member_of);
    }
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

/* ---- groups --------------------------------------------------------------- */

int iam_group_add_members(const char *group, const char *const *members, size_t n)
{
    if (!valid_name(group))
        return CAIRN_E_INVALID_ARGUMENT;
    int rc = CAIRN_E_INVALID_ARGUMENT;
    pthread_rwlock_wrlock(&iam_lock);
    for (size_t i = 0; i < n; i++)
        if (!members || !find_user(members[i]))
            goto out;
    struct iam_group *g = find_group(group);
    if (!g) {
        rc = CAIRN_E_NOMEM;
        struct iam_group *grown = realloc(groups, (n_groups + 1) * sizeof(*groups));
        if (!grown)
            goto out;
        groups = grown;
        g = &groups[n_groups];
        memset(g, 0, sizeof(*g));
        if (!(g->name = strdup(group)))
            goto out;
        g->enabled = 1;
        n_groups++;
    }
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = strlist_add(&g->members, members[i]);
out:
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

int iam_group_remove_members(const char *group, const char *const *members, size_t n)
{
    int rc = CAIRN_E_INVALID_ARGUMENT;
    pthread_rwlock_wrlock(&iam_lock);
    struct iam_group *g = find_group(group);
    if (g) {
        for (size_t i = 0; members && i < n; i++)
            if (members[i])
                strlist_remove(&g->members, members[i]);
        rc = 0;
    }
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

int iam_group_remove(const char *group)
{
    int rc = CAIRN_E_INVALID_ARGUMENT;
    pthread_rwlock_wrlock(&iam_lock);
    struct iam_group *g = find_group(group);
    if (g && g->members.n > 0) {
        rc = CAIRN_E_INVALID_REQUEST;
    } else if (g) {
        size_t i = (size_t)(g - groups);
        group_release(g);
        memmove(&groups[i], &groups[i + 1], (n_groups - i - 1) * sizeof(*groups));
        n_groups--;
        rc = 0;
    }
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

int iam_group_set_enabled(const char *group, int enabled)
{
    int rc = CAIRN_E_INVALID_ARGUMENT;
    pthread_rwlock_wrlock(&iam_lock);
    struct iam_group *g = find_group(group);
    if (g) {
        g->enabled = !!enabled;
        rc = 0;
    }
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

int iam_group_set_policies(const char *group, const char *const *names, size_t n)
{
    int rc = CAIRN_E_INVALID_ARGUMENT;
    pthread_rwlock_wrlock(&iam_lock);
    struct iam_group *g = find_group(group);
    if (g)
        rc = set_policies(&g->policies, names, n);
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

/* ---- policies ------------------------------------------------------------- */

int iam_policy_put(const char *name, const char *json)
{
    if (!valid_name(name) || !json || iam_canned_policy(name))
        return CAIRN_E_INVALID_ARGUMENT;
    char *copy = strdup(json);
    if (!copy)
        return CAIRN_E_NOMEM;
    int rc = 0;
    pthread_rwlock_wrlock(&iam_lock);
    struct iam_policy *p = find_policy(name);
    if (p) {
        free(p->json);
        p->json = copy;
    } else {
        struct iam_policy *grown = realloc(policies, (n_policies + 1) * sizeof(*policies));
        char *n = strdup(name);
        if (!grown || !n) {
            if (grown)
                policies = grown;
            free(n);
            free(copy);
            rc = CAIRN_E_NOMEM;
        } else {
            policies = grown;
            policies[n_policies].name = n;
            policies[n_policies].json = copy;
            n_policies++;
        }
    }
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

int iam_policy_remove(const char *name)
{
    int rc = CAIRN_E_INVALID_ARGUMENT;
    pthread_rwlock_wrlock(&iam_lock);
    struct iam_policy *p = find_policy(name);
    if (p) {
        size_t i = (size_t)(p - policies);
        for (size_t u = 0; u < n_users; u++)
            strlist_remove(&users[u].policies, name);
        for (size_t g = 0; g < n_groups; g++)
            strlist_remove(&groups[g].policies, name);
        free(p->name);
        free(p->json);
        memmove(&policies[i], &policies[i + 1], (n_policies - i - 1) * sizeof(*policies));
        n_policies--;
        rc = 0;
    }
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

int iam_policy_get(const char *name, char **json_r)
{
    int rc = CAIRN_E_INVALID_ARGUMENT;
    pthread_rwlock_rdlock(&iam_lock);
    const char *doc = name ? policy_doc(name) : NULL;
    if (doc) {
        *json_r = strdup(doc);
        rc = *json_r ? 0 : CAIRN_E_NOMEM;
    }
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

/* Adds the documents named in `names` to docs (each document once). */
static void collect(const struct strlist *names, const char **docs, size_t *n, size_t cap)
{
    for (size_t i = 0; i < names->n; i++) {
        const char *doc = policy_doc(names->items[i]);
        if (!doc)
            continue;
        size_t k;
        for (k = 0; k < *n; k++)
            if (docs[k] == doc)
                break;
        if (k == *n && *n < cap)
            docs[(*n)++] = doc;
    }
}

int iam_identity_policies(struct cairn_req *req, const char *access_key,
                          const char *const **docs_r, size_t *n_r)
{
    *docs_r = NULL;
    *n_r = 0;
    if (!req || !req->arena || !access_key)
        return CAIRN_E_INTERNAL;
    int rc = 0;
    pthread_rwlock_rdlock(&iam_lock);
    struct iam_user *u = find_user(access_key);
    if (!u)
        goto out;
    /* Upper bound: every stored policy plus every canned one. */
    size_t cap = n_policies + sizeof(canned) / sizeof(canned[0]);
    const char **docs = calloc(cap ? cap : 1, sizeof(*docs));
    if (!docs) {
        rc = CAIRN_E_NOMEM;
        goto out;
    }
    size_t n = 0;
    const struct iam_user *who[2] = {u, u->parent[0] ? find_user(u->parent) : NULL};
    for (int w = 0; w < 2 && who[w]; w++) {
        collect(&who[w]->policies, docs, &n, cap);
        for (size_t g = 0; g < n_groups; g++)
            if (groups[g].enabled && strlist_find(&groups[g].members, who[w]->access_key) >= 0)
                collect(&groups[g].policies, docs, &n, cap);
    }
    const char **out = n ? arena_alloc(req->arena, n * sizeof(*out)) : NULL;
    if (n && !out)
        rc = CAIRN_E_NOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!(out[i] = arena_strdup(req->arena, docs[i])))
            rc = CAIRN_E_NOMEM;
    free(docs);
    if (rc == 0) {
        *docs_r = out;
        *n_r = n;
    }
out:
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

/* ---- attachment ------------------------------------------------------------ */

int iam_policy_attach(const char *name, const char *user, const char *group, int attach)
{
    if (!name || (!user) == (!group))
        return CAIRN_E_INVALID_ARGUMENT;
    int rc = 0;
    pthread_rwlock_wrlock(&iam_lock);
    struct strlist *l = NULL;
    if (user) {
        struct iam_user *u = find_user(user);
        if (!u)
            rc = CAIRN_E_INVALID_ACCESS_KEY;
        else
            l = &u->policies;
    } else {
        struct iam_group *g = find_group(group);
        if (!g)
            rc = CAIRN_E_INVALID_ARGUMENT;
        else
            l = &g->policies;
    }
    if (l && attach) {
        rc = policy_doc(name) ? strlist_add(l, name) : CAIRN_E_INVALID_ARGUMENT;
    } else if (l) {
        strlist_remove(l, name);
    }
    pthread_rwlock_unlock(&iam_lock);
    return rc;
}

/* ---- export / import ----------------------------------------------------- */

static json_t *strlist_json(const struct strlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->n; i++)
        if (json_array_append_new(a, json_string(l->items[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

int iam_store_export(int with_secrets, char **json_r)
{
    *json_r = NULL;
    json_t *doc = json_pack("{s:s, s:i}", "format", "cairn-iam", "version", 1);
    json_t *ju = json_array(), *jg = json_array(), *jp = json_array();
    int bad = !doc || !ju || !jg || !jp;
    pthread_rwlock_rdlock(&iam_lock);
    for (size_t i = 0; !bad && i < n_users; i++) {
        const struct iam_user *u = &users[i];
        json_t *o = json_pack("{s:s, s:s, s:b, s:o*}", "accessKey", u->access_key, "parent",
                              u->parent, "enabled", u->enabled, "policies",
                              strlist_json(&u->policies));
        if (o && with_secrets && json_object_set_new(o, "secretKey", json_string(u->secret)) < 0)
            bad = 1;
        if (!o || json_array_append_new(ju, o) < 0)
            bad = 1;
    }
    for (size_t i = 0; !bad && i < n_groups; i++) {
        const struct iam_group *g = &groups[i];
        json_t *o = json_pack("{s:s, s:b, s:o*, s:o*}", "name", g->name, "enabled", g->enabled,
                              "members", strlist_json(&g->members), "policies",
                              strlist_json(&g->policies));
        if (!o || json_array_append_new(jg, o) < 0)
            bad = 1;
    }
    for (size_t i = 0; !bad && i < n_policies; i++) {
        json_t *o = json_pack("{s:s, s:s}", "name", policies[i].name, "document", policies[i].json);
        if (!o || json_array_append_new(jp, o) < 0)
            bad = 1;
    }
    pthread_rwlock_unlock(&iam_lock);
    if (!bad && (json_object_set(doc, "users", ju) < 0 || json_object_set(doc, "groups", jg) < 0 ||
                 json_object_set(doc, "policies", jp) < 0))
        bad = 1;
    if (!bad)
        *json_r = json_dumps(doc, JSON_COMPACT);
    json_decref(ju);
    json_decref(jg);
    json_decref(jp);
    json_decref(doc);
    return *json_r ? 0 : CAIRN_E_NOMEM;
}

/* The tables an import builds before it swaps them in. */
struct iam_tables {
    struct iam_user *users;
    size_t n_users;
    struct iam_group *groups;
    size_t n_groups;
    struct iam_policy *policies;
    size_t n_policies;
};

static void tables_release(struct iam_tables *t)
{
    for (size_t i = 0; i < t->n_users; i++)
        user_release(&t->users[i]);
    free(t->users);
    for (size_t i = 0; i < t->n_groups; i++)
        group_release(&t->groups[i]);
    free(t->groups);
    for (size_t i = 0; i < t->n_policies; i++) {
        free(t->policies[i].name);
        free(t->policies[i].json);
    }
    free(t->policies);
    memset(t, 0, sizeof(*t));
}

#define IMPORT_FAIL(...)                                                                     \
    do {                                                                                     \
        if (err)                                                                             \
            snprintf(err, err_cap, __VA_ARGS__);                                             \
        goto fail;                                                                           \
    } while (0)

/* Fills `l` from a JSON array of strings (absent -> empty). 0 or -1. */
static int strlist_from_json(struct strlist *l, json_t *a)
{
    if (!a)
        return 0;
    if (!json_is_array(a))
        return -1;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || strlist_add(l, json_string_value(v)) < 0)
            return -1;
    }
    return 0;
}

static int tables_has_policy(const struct iam_tables *t, const char *name)
{
    for (size_t i = 0; i < t->n_policies; i++)
        if (strcmp(t->policies[i].name, name) == 0)
            return 1;
    return iam_canned_policy(name) != NULL;
}

static int tables_has_user(const struct iam_tables *t, const char *key, size_t upto)
{
    for (size_t i = 0; i < upto; i++)
        if (strcmp(t->users[i].access_key, key) == 0)
            return 1;
    return 0;
}

int iam_store_import(const char *json, size_t len, char *err, size_t err_cap)
{
    struct iam_tables t = {0};
    json_error_t jerr;
    json_t *doc = json ? json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    json_t *ju, *jg, *jp, *v;
    size_t i;
    if (err && err_cap)
        err[0] = '\0';
    if (!doc)
        IMPORT_FAIL("not JSON: %s", json ? jerr.text : "no document");
    const char *fmt = json_string_value(json_object_get(doc, "format"));
    if (!json_is_object(doc) || !fmt || strcmp(fmt, "cairn-iam") != 0)
        IMPORT_FAIL("not a cairn IAM document");
    if (json_integer_value(json_object_get(doc, "version")) != 1)
        IMPORT_FAIL("unsupported IAM document version");
    ju = json_object_get(doc, "users");
    jg = json_object_get(doc, "groups");
    jp = json_object_get(doc, "policies");
    if ((ju && !json_is_array(ju)) || (jg && !json_is_array(jg)) || (jp && !json_is_array(jp)))
        IMPORT_FAIL("users, groups and policies must be arrays");

    if (jp && !(t.policies = calloc(json_array_size(jp) + 1, sizeof(*t.policies))))
        IMPORT_FAIL("out of memory");
    json_array_foreach(jp, i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *body = json_string_value(json_object_get(v, "document"));
        if (!valid_name(name) || !body || iam_canned_policy(name))
            IMPORT_FAIL("policy %zu: bad name or document", i);
        for (size_t k = 0; k < t.n_policies; k++)
            if (strcmp(t.policies[k].name, name) == 0)
                IMPORT_FAIL("policy %s: listed twice", name);
        struct iam_policy *p = &t.policies[t.n_policies++];
        p->name = strdup(name);
        p->json = strdup(body);
        if (!p->name || !p->json)
            IMPORT_FAIL("out of memory");
    }

    if (ju && !(t.users = calloc(json_array_size(ju) + 1, sizeof(*t.users))))
        IMPORT_FAIL("out of memory");
    json_array_foreach(ju, i, v)
    {
        const char *key = json_string_value(json_object_get(v, "accessKey"));
        const char *secret = json_string_value(json_object_get(v, "secretKey"));
        const char *parent = json_string_value(json_object_get(v, "parent"));
        json_t *en = json_object_get(v, "enabled");
        if (!parent)
            parent = "";
        if (!valid_key(key) || !valid_secret(secret) || (en && !json_is_boolean(en)))
            IMPORT_FAIL("user %zu: bad access key, secret or enabled flag", i);
        if (tables_has_user(&t, key, t.n_users))
            IMPORT_FAIL("user %s: listed twice", key);
        /* A parent is an earlier user or (not checked here) the root of the
         * time: root credentials come from the environment, not this store. */
        if (parent[0] && !valid_key(parent))
            IMPORT_FAIL("user %s: bad parent", key);
        struct iam_user *u = &t.users[t.n_users++];
        u->access_key = strdup(key);
        u->secret = strdup(secret);
        u->parent = strdup(parent);
        u->enabled = en ? json_is_true(en) : 1;
        if (!u->access_key || !u->secret || !u->parent)
            IMPORT_FAIL("out of memory");
        if (strlist_from_json(&u->policies, json_object_get(v, "policies")) < 0)
            IMPORT_FAIL("user %s: bad policies", key);
        for (size_t k = 0; k < u->policies.n; k++)
            if (!tables_has_policy(&t, u->policies.items[k]))
                IMPORT_FAIL("user %s: unknown policy %s", key, u->policies.items[k]);
    }

    if (jg && !(t.groups = calloc(json_array_size(jg) + 1, sizeof(*t.groups))))
        IMPORT_FAIL("out of memory");
    json_array_foreach(jg, i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        json_t *en = json_object_get(v, "enabled");
        if (!valid_name(name) || (en && !json_is_boolean(en)))
            IMPORT_FAIL("group %zu: bad name or enabled flag", i);
        for (size_t k = 0; k < t.n_groups; k++)
            if (strcmp(t.groups[k].name, name) == 0)
                IMPORT_FAIL("group %s: listed twice", name);
        struct iam_group *g = &t.groups[t.n_groups++];
        g->enabled = en ? json_is_true(en) : 1;
        if (!(g->name = strdup(name)))
            IMPORT_FAIL("out of memory");
        if (strlist_from_json(&g->members, json_object_get(v, "members")) < 0 ||
            strlist_from_json(&g->policies, json_object_get(v, "policies")) < 0)
            IMPORT_FAIL("group %s: bad members or policies", name);
        for (size_t k = 0; k < g->members.n; k++)
            if (!tables_has_user(&t, g->members.items[k], t.n_users))
                IMPORT_FAIL("group %s: unknown member %s", name, g->members.items[k]);
        for (size_t k = 0; k < g->policies.n; k++)
            if (!tables_has_policy(&t, g->policies.items[k]))
                IMPORT_FAIL("group %s: unknown policy %s", name, g->policies.items[k]);
    }
    json_decref(doc);

    /* Swap the new tables in; the old ones are released outside the lock. */
    pthread_rwlock_wrlock(&iam_lock);
    struct iam_tables old = {users, n_users, groups, n_groups, policies, n_policies};
    users = t.users;
    n_users = t.n_users;
    groups = t.groups;
    n_groups = t.n_groups;
    policies = t.policies;
    n_policies = t.n_policies;
    pthread_rwlock_unlock(&iam_lock);
    tables_release(&old);
    return 0;

fail:
    json_decref(doc);
    tables_release(&t);
    return CAIRN_E_INVALID_ARGUMENT;
}
