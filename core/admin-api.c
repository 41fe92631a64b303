/* admin-api.c -- the signed admin API (see admin-api.h). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admin-api.h"
#include "arena.h"
#include "iam-persist.h"
#include "iam-store.h"
#include "request.h"
#include "services.h"

/* The largest admin request body (a policy document is the big one). */
#define ADMIN_BODY_MAX (1u << 20)

struct admin_api {
    struct admin_api_settings s;
};

/* A request's array-of-strings field: v is NULL when the field is absent. */
struct admin_strings {
    const char **v;
    size_t n;
};

/* The request fields endpoints read, by meaning (see `struct field`); NULL
 * when an optional one is absent. */
struct admin_args {
    const char *access_key, *secret_key, *parent, *name;
    const char *user, *group, *action, *resource;
    const char *bucket, *key;
    struct admin_strings members;
};

/* What a handler gets and fills. */
struct admin_call {
    struct admin_api *api;
    struct cairn_req *req;
    const struct cairn_identity *who;
    json_t *in;     /* the request object (borrowed) */
    struct admin_args args; /* its fields the endpoint declares, read before it runs */
    json_t *out;    /* the reply object, set by the handler */
    int status;     /* 200 unless the handler failed */
    const char *code, *message;
};

/* ---- replies and errors --------------------------------------------------- */

static int fail(struct admin_call *c, int status, const char *code, const char *message)
{
    c->status = status;
    c->code = code;
    c->message = message;
    return -1;
}

/* An IAM-store or backend error as an admin error. */
static int fail_rc(struct admin_call *c, int rc, const char *what)
{
    switch (rc) {
#define X(name, value, code, status, msg)                                                       \
    case CAIRN_E_##name:                                                                        \
        return fail(c, status, code, what ? what : msg);
        CAIRN_ERROR_TABLE(X)
#undef X
    default:
        return fail(c, 500, "InternalError", what ? what : "internal error");
    }
}

static int reply(struct admin_call *c, json_t *out)
{
    if (!out)
        return fail(c, 500, "InternalError", "out of memory");
    c->out = out;
    return 0;
}

static int reply_ok(struct admin_call *c)
{
    return reply(c, json_pack("{s:s}", "status", "ok"));
}

/* ---- request fields --------------------------------------------------------- */

/*
 * An endpoint's request fields: read, checked and stored in c->args, in the
 * order listed, before the endpoint runs.  The first bad field fails the call
 * with 400 InvalidArgument.
 */
enum field_kind {
    FIELD_REQUIRED, /* a non-empty string */
    FIELD_OPTIONAL, /* a string, or absent or null (NULL) */
    FIELD_STRINGS,  /* an array of strings, or absent (v NULL) */
};

struct field {
    const char *json; /* its name in the request object; NULL ends the list */
    enum field_kind kind;
    size_t offset; /* where it goes in struct admin_args */
};

#define MAX_FIELDS 4
#define REQUIRED(json, member) {json, FIELD_REQUIRED, offsetof(struct admin_args, member)}
#define OPTIONAL(json, member) {json, FIELD_OPTIONAL, offsetof(struct admin_args, member)}
#define STRINGS(json, member) {json, FIELD_STRINGS, offsetof(struct admin_args, member)}

/* A FIELD_REQUIRED value; NULL after fail() when absent, empty or not a string. */
static const char *required_string(struct admin_call *c, const char *field, json_t *v)
{
    const char *s = json_string_value(v);
    if (!s || !*s) {
        char *m = arena_alloc(c->req->arena, 128);
        if (m)
            snprintf(m, 128, "missing or empty string field \"%s\"", field);
        fail(c, 400, "InvalidArgument", m ? m : "missing field");
        return NULL;
    }
    return s;
}

/* A FIELD_STRINGS value (v non-NULL) as a request-lifetime vector; -1 after fail(). */
static int string_array(struct admin_call *c, json_t *a, struct admin_strings *out)
{
    if (!json_is_array(a))
        return fail(c, 400, "InvalidArgument", "a list field is not an array");
    size_t n = json_array_size(a);
    const char **v = arena_alloc(c->req->arena, (n + 1) * sizeof(*v));
    if (!v)
        return fail(c, 500, "InternalError", "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!(v[i] = json_string_value(json_array_get(a, i))))
            return fail(c, 400, "InvalidArgument", "a list holds something other than strings");
    out->v = v;
    out->n = n;
    return 0;
}

/* Reads `fields` of c->in into c->args; 0, or -1 after fail(). */
static int read_fields(struct admin_call *c, const struct field *fields)
{
    for (size_t i = 0; i < MAX_FIELDS && fields[i].json; i++) {
        const struct field *f = &fields[i];
        json_t *v = json_object_get(c->in, f->json);
        void *slot = (char *)&c->args + f->offset;
        switch (f->kind) {
        case FIELD_REQUIRED:
            if (!(*(const char **)slot = required_string(c, f->json, v)))
                return -1;
            break;
        case FIELD_OPTIONAL:
            if (v && !json_is_null(v) && !json_is_string(v))
                return fail(c, 400, "InvalidArgument", "a field has the wrong type");
            *(const char **)slot = json_string_value(v);
            break;
        case FIELD_STRINGS:
            if (v && string_array(c, v, slot) < 0)
                return -1;
            break;
        }
    }
    return 0;
}

/* The store as export gives it (no secrets); NULL after fail(). */
static json_t *snapshot(struct admin_call *c)
{
    char *text = NULL;
    if (iam_store_export(0, &text) < 0) {
        fail(c, 500, "InternalError", "out of memory");
        return NULL;
    }
    json_t *doc = json_loads(text, 0, NULL);
    free(text);
    if (!doc)
        fail(c, 500, "InternalError", "out of memory");
    return doc;
}

/* The element of snapshot array `list` whose `field` equals `value`. */
static json_t *find_in(json_t *doc, const char *list, const char *field, const char *value)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(doc, list), i, v)
    {
        const char *s = json_string_value(json_object_get(v, field));
        if (s && strcmp(s, value) == 0)
            return v;
    }
    return NULL;
}

/* Saves the store after a change; the change stays in memory on failure,
 * and the caller hears of it. */
static int persist(struct admin_call *c)
{
    int rc = iam_persist_save();
    if (rc < 0)
        return fail_rc(c, rc, "the change is in effect but could not be saved to the drives");
    return reply_ok(c);
}

/* Ends an IAM change that returned `rc`: its error, or the store saved. */
static int finish_change(struct admin_call *c, int rc)
{
    return rc < 0 ? fail_rc(c, rc, NULL) : persist(c);
}

static int no_such_user(struct admin_call *c)
{
    return fail(c, 404, "NoSuchUser", "the user does not exist");
}

/* ---- users ---------------------------------------------------------------- */

/* A user's public description (from a snapshot entry) with its groups. */
static json_t *user_json(json_t *doc, json_t *u)
{
    json_t *o = json_deep_copy(u);
    json_t *groups = json_array();
    size_t i, k;
    json_t *g, *m;
    const char *key = json_string_value(json_object_get(u, "accessKey"));
    json_array_foreach(json_object_get(doc, "groups"), i, g)
    {
        json_array_foreach(json_object_get(g, "members"), k, m)
        {
            if (key && json_string_value(m) && strcmp(json_string_value(m), key) == 0)
                json_array_append(groups, json_object_get(g, "name"));
        }
    }
    if (o)
        json_object_set_new(o, "groups", groups);
    else
        json_decref(groups);
    return o;
}

static int user_add(struct admin_call *c)
{
    const char *key = c->args.access_key;
    json_t *doc = snapshot(c);
    if (!doc)
        return -1;
    int exists = find_in(doc, "users", "accessKey", key) != NULL;
    json_decref(doc);
    if (exists)
        return fail(c, 409, "UserAlreadyExists", "a user with this access key exists");
    int rc = iam_user_add(key, c->args.secret_key, NULL);
    if (rc == CAIRN_E_INVALID_ARGUMENT)
        return fail(c, 400, "InvalidArgument",
                    "the access key must be 3-128 characters without whitespace, '/', ':' or ','"
                    " and not root's; the secret 8-40 characters");
    return finish_change(c, rc);
}

static int user_remove(struct admin_call *c)
{
    int rc = iam_user_remove(c->args.access_key);
    return rc == CAIRN_E_INVALID_ACCESS_KEY ? no_such_user(c) : finish_change(c, rc);
}

static int user_set_enabled(struct admin_call *c, int enabled)
{
    int rc = iam_user_set_enabled(c->args.access_key, enabled);
    return rc == CAIRN_E_INVALID_ACCESS_KEY ? no_such_user(c) : finish_change(c, rc);
}

static int user_enable(struct admin_call *c) { return user_set_enabled(c, 1); }
static int user_disable(struct admin_call *c) { return user_set_enabled(c, 0); }

/* Lists plain users (parent "") or the service accounts of `parent`. */
static int list_users(struct admin_call *c, const char *parent)
{
    json_t *doc = snapshot(c);
    if (!doc)
        return -1;
    json_t *out = json_array();
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(doc, "users"), i, u)
    {
        const char *p = json_string_value(json_object_get(u, "parent"));
        if (out && p && strcmp(p, parent) == 0)
            json_array_append_new(out, user_json(doc, u));
    }
    json_decref(doc);
    return reply(c, out ? json_pack("{s:o}", parent[0] ? "serviceAccounts" : "users", out) : NULL);
}

static int user_list(struct admin_call *c) { return list_users(c, ""); }

static int user_info(struct admin_call *c)
{
    json_t *doc = snapshot(c);
    if (!doc)
        return -1;
    json_t *u = find_in(doc, "users", "accessKey", c->args.access_key);
    json_t *out = u ? user_json(doc, u) : NULL;
    json_decref(doc);
    return u ? reply(c, out) : no_such_user(c);
}

/* ---- service accounts ---------------------------------------------------- */

/* `n` random characters of `alphabet` into `out` (NUL-terminated). */
static int random_text(struct admin_call *c, const char *alphabet, char *out, size_t n)
{
    unsigned char raw[64];
    size_t len = strlen(alphabet);
    if (n > sizeof(raw) || c->api->s.services->random_bytes(raw, n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[raw[i] % len]; /* 256 % len bias is irrelevant here */
    out[n] = '\0';
    return 0;
}

static int svcacct_add(struct admin_call *c)
{
    const char *parent = c->args.parent;
    json_t *doc = snapshot(c);
    if (!doc)
        return -1;
    json_t *p = find_in(doc, "users", "accessKey", parent);
    const char *pp = p ? json_string_value(json_object_get(p, "parent")) : NULL;
    int ok = p && pp && !*pp;
    int is_self_root = c->who->is_root && strcmp(parent, c->who->access_key) == 0;
    json_decref(doc);
    if (!ok && !is_self_root)
        return fail(c, 404, "NoSuchUser", "the parent is not an existing plain user");
    char key[21], secret[41];
    if (random_text(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", key, 20) < 0 ||
        random_text(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+", secret,
                    40) < 0)
        return fail(c, 500, "InternalError", "no random bytes");
    int rc = iam_user_add(key, secret, parent);
    if (rc < 0)
        return fail_rc(c, rc, NULL);
    rc = iam_persist_save();
    if (rc < 0) {
        iam_user_remove(key);
        memset(secret, 0, sizeof(secret));
        return fail_rc(c, rc, "the service account could not be saved to the drives");
    }
    json_t *out = json_pack("{s:s, s:s, s:s}", "accessKey", key, "secretKey", secret, "parent",
                            parent);
    memset(secret, 0, sizeof(secret));
    return reply(c, out);
}

static int svcacct_remove(struct admin_call *c)
{
    const char *key = c->args.access_key;
    json_t *doc = snapshot(c);
    if (!doc)
        return -1;
    json_t *u = find_in(doc, "users", "accessKey", key);
    const char *p = u ? json_string_value(json_object_get(u, "parent")) : NULL;
    int is_svc = p && *p;
    json_decref(doc);
    if (!is_svc)
        return fail(c, 404, "NoSuchServiceAccount", "no service account has this access key");
    return finish_change(c, iam_user_remove(key));
}

static int svcacct_list(struct admin_call *c)
{
    return list_users(c, c->args.parent);
}

/* ---- policies --------------------------------------------------------------- */

static const struct loaded_plugin *policy_plugin(struct admin_call *c)
{
    const struct loaded_plugin *pp = c->api->s.plugins ? c->api->s.plugins->policy : NULL;
    return pp && pp->desc->policy ? pp : NULL;
}

static int policy_create(struct admin_call *c)
{
    const char *name = c->args.name;
    json_t *pv = json_object_get(c->in, "policy");
    char *text = json_is_string(pv)   ? strdup(json_string_value(pv))
                 : json_is_object(pv) ? json_dumps(pv, JSON_COMPACT)
                                      : NULL;
    if (!text)
        return fail(c, 400, "InvalidArgument",
                    "\"policy\" must be the policy document (an object or its JSON text)");
    if (iam_canned_policy(name)) {
        free(text);
        return fail(c, 400, "InvalidArgument", "a canned policy cannot be replaced");
    }
    const struct loaded_plugin *pp = policy_plugin(c);
    if (pp && pp->desc->policy->validate) {
        char reason[512] = "";
        int rc = pp->desc->policy->validate(pp->state, text, strlen(text), 0, reason,
                                            sizeof(reason));
        if (rc < 0) {
            free(text);
            char *m = arena_strdup(c->req->arena, reason[0] ? reason : "the policy is not valid");
            return fail(c, 400, "MalformedPolicy", m ? m : "the policy is not valid");
        }
    }
    int rc = iam_policy_put(name, text);
    free(text);
    if (rc == CAIRN_E_INVALID_ARGUMENT)
        return fail(c, 400, "InvalidArgument",
                    "a policy name is 1-128 characters of A-Z a-z 0-9 _ . + = @ -");
    return finish_change(c, rc);
}

static int policy_delete(struct admin_call *c)
{
    const char *name = c->args.name;
    if (iam_canned_policy(name))
        return fail(c, 400, "InvalidArgument", "a canned policy cannot be deleted");
    int rc = iam_policy_remove(name);
    if (rc < 0)
        return fail(c, 404, "NoSuchPolicy", "the policy does not exist");
    return persist(c);
}

static int policy_list(struct admin_call *c)
{
    static const char *const canned_names[] = {"readwrite", "readonly", "writeonly",
                                               "diagnostics", "consoleAdmin"};
    json_t *doc = snapshot(c);
    if (!doc)
        return -1;
    json_t *out = json_array();
    for (size_t i = 0; out && i < sizeof(canned_names) / sizeof(canned_names[0]); i++)
        json_array_append_new(out, json_pack("{s:s, s:b}", "name", canned_names[i], "canned", 1));
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(doc, "policies"), i, p)
    {
        if (out)
            json_array_append_new(out, json_pack("{s:O, s:b}", "name", json_object_get(p, "name"),
                                                 "canned", 0));
    }
    json_decref(doc);
    return reply(c, out ? json_pack("{s:o}", "policies", out) : NULL);
}

static int policy_info(struct admin_call *c)
{
    const char *name = c->args.name;
    char *text = NULL;
    if (iam_policy_get(name, &text) < 0)
        return fail(c, 404, "NoSuchPolicy", "the policy does not exist");
    json_t *doc = json_loads(text, 0, NULL);
    json_t *out = json_pack("{s:s, s:b, s:o}", "name", name, "canned",
                            iam_canned_policy(name) != NULL, "policy",
                            doc ? doc : json_string(text));
    free(text);
    return reply(c, out);
}

static int policy_attach_detach(struct admin_call *c, int attach)
{
    const char *name = c->args.name, *user = c->args.user, *group = c->args.group;
    if ((!user) == (!group))
        return fail(c, 400, "InvalidArgument", "give exactly one of \"user\" or \"group\"");
    char *text = NULL;
    if (attach && iam_policy_get(name, &text) < 0)
        return fail(c, 404, "NoSuchPolicy", "the policy does not exist");
    free(text);
    int rc = iam_policy_attach(name, user, group, attach);
    if (rc == CAIRN_E_INVALID_ACCESS_KEY)
        return no_such_user(c);
    if (rc == CAIRN_E_INVALID_ARGUMENT)
        return fail(c, 404, "NoSuchGroup", "the group does not exist");
    return finish_change(c, rc);
}

static int policy_attach(struct admin_call *c) { return policy_attach_detach(c, 1); }
static int policy_detach(struct admin_call *c) { return policy_attach_detach(c, 0); }

/* The bucket named by an S3 ARN ("arn:aws:s3:::bucket/key"), request-lifetime;
 * "" when none or when it holds a wildcard. */
static const char *arn_bucket(struct admin_call *c, const char *resource)
{
    const char *p = strncmp(resource, "arn:aws:s3:::", 13) == 0 ? resource + 13 : NULL;
    if (!p)
        return "";
    size_t n = strcspn(p, "/");
    if (n == 0 || memchr(p, '*', n) || memchr(p, '?', n))
        return "";
    const char *b = arena_strndup(c->req->arena, p, n);
    return b ? b : "";
}

static int policy_simulate(struct admin_call *c)
{
    const char *user = c->args.user, *action = c->args.action, *resource = c->args.resource;
    json_t *ctx = json_object_get(c->in, "context");
    if (ctx && !json_is_object(ctx))
        return fail(c, 400, "InvalidArgument", "\"context\" must be an object of strings");

    struct cairn_identity who;
    char secret[128];
    int rc = iam_lookup(c->req, user, &who, secret, sizeof(secret));
    memset(secret, 0, sizeof(secret));
    if (rc == CAIRN_E_INVALID_ACCESS_KEY)
        return no_such_user(c);
    if (rc == CAIRN_E_ACCESS_DENIED)
        return reply(c, json_pack("{s:s, s:s}", "decision", "deny", "explanation",
                                  "the user (or its parent) is disabled"));
    if (rc < 0)
        return fail_rc(c, rc, NULL);
    who.auth_type = CAIRN_AUTH_HEADER;
    who.signature_version = 4;
    if (who.is_root)
        return reply(c, json_pack("{s:s, s:s}", "decision", "allow", "explanation",
                                  "root is allowed everything"));

    /* The bucket's owner and policy, as the S3 layer would see them. */
    const char *owner = "", *bucket_policy = NULL;
    const char *bucket = arn_bucket(c, resource);
    const struct s3_plugins *pl = c->api->s.plugins;
    if (*bucket && pl && pl->backend) {
        const struct cairn_backend_ops *be = pl->backend->desc->backend;
        struct cairn_bucket_info info;
        memset(&info, 0, sizeof(info));
        if (be->bucket_head(pl->backend->state, c->req, bucket, &info) == 0) {
            owner = info.owner ? info.owner : "";
            char *docp = NULL;
            size_t len = 0;
            if (be->bucket_config_get(pl->backend->state, c->req, bucket, "policy", &docp, &len) ==
                    0 && docp)
                bucket_policy = docp;
        }
    }
    const char *const *docs = NULL;
    size_t n_docs = 0;
    if ((rc = iam_identity_policies(c->req, user, &docs, &n_docs)) < 0)
        return fail_rc(c, rc, NULL);

    size_t n_ctx = json_object_size(ctx) + 3;
    struct cairn_kv *kv = arena_alloc(c->req->arena, n_ctx * sizeof(*kv));
    if (!kv)
        return fail(c, 500, "InternalError", "out of memory");
    size_t n = 0;
    const char *k;
    json_t *v;
    int have_user = 0;
    json_object_foreach(ctx, k, v)
    {
        if (!json_is_string(v))
            return fail(c, 400, "InvalidArgument", "context values must be strings");
        kv[n++] = (struct cairn_kv){k, json_string_value(v)};
        if (strcmp(k, "aws:username") == 0)
            have_user = 1;
    }
    if (!have_user) {
        kv[n++] = (struct cairn_kv){"aws:username", who.user};
        kv[n++] = (struct cairn_kv){"aws:userid", who.user};
    }
    const struct loaded_plugin *pp = policy_plugin(c);
    if (!pp || !pp->desc->policy->evaluate)
        return reply(c, json_pack("{s:s, s:s}", "decision", "deny", "explanation",
                                  "no policy plugin is loaded: only root is allowed"));
    struct cairn_policy_query q = {
        .who = &who,
        .action = action,
        .resource = resource,
        .bucket_owner = owner,
        .n_identity_policies = n_docs,
        .identity_policies = docs,
        .bucket_policy = bucket_policy,
        .n_context = n,
        .context = kv,
    };
    char explain[512] = "";
    int d = pp->desc->policy->evaluate(pp->state, c->req, &q, explain, sizeof(explain));
    if (d < 0)
        return fail_rc(c, d, "the policy plugin could not decide");
    const char *decision = d == CAIRN_ALLOW ? "allow" : "deny";
    /* The S3 layer's owner rule: an owner with no opinion against it may act. */
    int is_owner = *owner && (strcmp(owner, who.user) == 0 ||
                              (who.parent && *who.parent && strcmp(owner, who.parent) == 0));
    if (d == CAIRN_NO_OPINION && is_owner) {
        decision = "allow";
        snprintf(explain, sizeof(explain), "no statement applies; the user owns the bucket");
    } else if (d == CAIRN_NO_OPINION && !explain[0]) {
        snprintf(explain, sizeof(explain), "implicit deny: no statement allows it");
    }
    return reply(c, json_pack("{s:s, s:s, s:s}", "decision", decision, "explanation", explain,
                              "evaluation",
                              d == CAIRN_ALLOW  ? "allow"
                              : d == CAIRN_DENY ? "explicit-deny"
                                                : "no-opinion"));
}

/* ---- groups --------------------------------------------------------------- */

static int group_add(struct admin_call *c)
{
    int rc = iam_group_add_members(c->args.name, c->args.members.v, c->args.members.n);
    if (rc == CAIRN_E_INVALID_ARGUMENT)
        return fail(c, 400, "InvalidArgument",
                    "a group name is 1-128 characters of A-Z a-z 0-9 _ . + = @ -, and every "
                    "member must be an existing user");
    return finish_change(c, rc);
}

/* Removes the listed members, or (no "members") every member and the group. */
static int group_remove(struct admin_call *c)
{
    const char *name = c->args.name;
    json_t *doc = snapshot(c);
    if (!doc)
        return -1;
    json_t *g = find_in(doc, "groups", "name", name);
    int rc = 0;
    if (!g) {
        json_decref(doc);
        return fail(c, 404, "NoSuchGroup", "the group does not exist");
    }
    if (c->args.members.v) {
        rc = iam_group_remove_members(name, c->args.members.v, c->args.members.n);
    } else {
        json_t *all = json_object_get(g, "members");
        size_t k, na = json_array_size(all);
        const char **v = arena_alloc(c->req->arena, (na + 1) * sizeof(*v));
        json_t *m;
        if (!v)
            rc = CAIRN_E_NOMEM;
        json_array_foreach(all, k, m)
        {
            if (v)
                v[k] = json_string_value(m);
        }
        if (rc == 0)
            rc = iam_group_remove_members(name, v, na);
        if (rc == 0)
            rc = iam_group_remove(name);
    }
    json_decref(doc);
    return finish_change(c, rc);
}

static int group_list(struct admin_call *c)
{
    json_t *doc = snapshot(c);
    if (!doc)
        return -1;
    json_t *out = json_pack("{s:O}", "groups", json_object_get(doc, "groups"));
    json_decref(doc);
    return reply(c, out);
}

static int group_info(struct admin_call *c)
{
    json_t *doc = snapshot(c);
    if (!doc)
        return -1;
    json_t *g = find_in(doc, "groups", "name", c->args.name);
    json_t *out = g ? json_deep_copy(g) : NULL;
    json_decref(doc);
    if (!g)
        return fail(c, 404, "NoSuchGroup", "the group does not exist");
    return reply(c, out);
}

/* ---- heal and info -------------------------------------------------------- */

static int heal(struct admin_call *c)
{
    const char *bucket = c->args.bucket, *key = c->args.key;
    if (key && !bucket)
        return fail(c, 400, "InvalidArgument", "a key needs a bucket");
    if (bucket && bucket[0] == '.')
        return fail(c, 400, "InvalidBucketName", "the bucket name is not valid");
    const struct s3_plugins *pl = c->api->s.plugins;
    const struct loaded_plugin *b = pl ? pl->backend : NULL;
    if (!b)
        return fail(c, 501, "NotImplemented", "no backend");
    const struct cairn_backend_ops *be = b->desc->backend;
    if (be->size < offsetof(struct cairn_backend_ops, heal) + sizeof(be->heal) || !be->heal)
        return reply(c, json_pack("{s:s, s:s}", "status", "ok", "detail",
                                  "the backend has nothing to heal"));
    int64_t t0 = c->api->s.services->now_ms();
    int rc = be->heal(b->state, c->req, bucket && *bucket ? bucket : NULL, key && *key ? key : NULL);
    if (rc < 0)
        return fail_rc(c, rc, NULL);
    return reply(c, json_pack("{s:s, s:s, s:s, s:I}", "status", "ok", "bucket",
                              bucket ? bucket : "", "key", key ? key : "", "durationMs",
                              (json_int_t)(c->api->s.services->now_ms() - t0)));
}

static int info(struct admin_call *c)
{
    const struct admin_api_settings *s = &c->api->s;
    json_t *plugins = json_array();
    size_t n = s->loader ? plugin_loader_count(s->loader) : 0;
    static const char *const kinds[] = {"?", "backend", "auth", "policy"};
    for (size_t i = 0; plugins && i < n; i++) {
        const struct loaded_plugin *p = plugin_loader_get(s->loader, i);
        unsigned k = (unsigned)p->desc->kind;
        json_array_append_new(plugins,
                              json_pack("{s:s, s:s, s:s, s:s}", "instance", p->instance_name,
                                        "plugin", p->desc->name, "kind", k < 4 ? kinds[k] : "?",
                                        "version", p->desc->version ? p->desc->version : ""));
    }
    const struct loaded_plugin *b = s->plugins ? s->plugins->backend : NULL;
    char abi[32];
    snprintf(abi, sizeof(abi), "%d.%d", CAIRN_ABI_MAJOR, CAIRN_ABI_MINOR);
    return reply(c, json_pack("{s:s, s:s, s:s, s:I, s:{s:s, s:s}, s:o*}", "version", s->version,
                              "abi", abi, "region", s->region,
                              "drives", (json_int_t)s->n_drives, "backend", "instance",
                              b ? b->instance_name : "", "plugin", b ? b->desc->name : "",
                              "plugins", plugins));
}

/* ---- dispatch -------------------------------------------------------------- */

static const struct endpoint {
    const char *path, *action;
    int (*run)(struct admin_call *c);
    struct field fields[MAX_FIELDS]; /* read into c->args before run */
} endpoints[] = {
    {"user/add", "admin:CreateUser", user_add,
     {REQUIRED("accessKey", access_key), REQUIRED("secretKey", secret_key)}},
    {"user/remove", "admin:DeleteUser", user_remove, {REQUIRED("accessKey", access_key)}},
    {"user/enable", "admin:EnableUser", user_enable, {REQUIRED("accessKey", access_key)}},
    {"user/disable", "admin:DisableUser", user_disable, {REQUIRED("accessKey", access_key)}},
    {"user/list", "admin:ListUsers", user_list, {{NULL}}},
    {"user/info", "admin:GetUser", user_info, {REQUIRED("accessKey", access_key)}},
    {"svcacct/add", "admin:CreateServiceAccount", svcacct_add, {REQUIRED("parent", parent)}},
    {"svcacct/remove", "admin:RemoveServiceAccount", svcacct_remove,
     {REQUIRED("accessKey", access_key)}},
    {"svcacct/list", "admin:ListServiceAccounts", svcacct_list, {REQUIRED("parent", parent)}},
    {"policy/create", "admin:CreatePolicy", policy_create, {REQUIRED("name", name)}},
    {"policy/delete", "admin:DeletePolicy", policy_delete, {REQUIRED("name", name)}},
    {"policy/list", "admin:ListUserPolicies", policy_list, {{NULL}}},
    {"policy/info", "admin:GetPolicy", policy_info, {REQUIRED("name", name)}},
    {"policy/attach", "admin:AttachUserOrGroupPolicy", policy_attach,
     {REQUIRED("name", name), OPTIONAL("user", user), OPTIONAL("group", group)}},
    {"policy/detach", "admin:AttachUserOrGroupPolicy", policy_detach,
     {REQUIRED("name", name), OPTIONAL("user", user), OPTIONAL("group", group)}},
    {"policy/simulate", "admin:SimulatePolicy", policy_simulate,
     {REQUIRED("user", user), REQUIRED("action", action), REQUIRED("resource", resource)}},
    {"group/add", "admin:AddUserToGroup", group_add,
     {REQUIRED("name", name), STRINGS("members", members)}},
    {"group/remove", "admin:RemoveUserFromGroup", group_remove,
     {REQUIRED("name", name), STRINGS("members", members)}},
    {"group/list", "admin:ListGroups", group_list, {{NULL}}},
    {"group/info", "admin:GetGroup", group_info, {REQUIRED("name", name)}},
    {"heal", "admin:Heal", heal, {OPTIONAL("bucket", bucket), OPTIONAL("key", key)}},
    {"info", "admin:ServerInfo", info, {{NULL}}},
};

/* 0 when `who` may perform `action`, else -1 after fail(). */
static int authorize(struct admin_call *c, const char *action)
{
    if (c->who->is_root)
        return 0;
    if (c->who->is_anonymous || !c->who->access_key || !*c->who->access_key)
        return fail(c, 403, "AccessDenied", "the admin API needs signed requests");
    const struct loaded_plugin *pp = policy_plugin(c);
    if (!pp || !pp->desc->policy->evaluate)
        return fail(c, 403, "AccessDenied", "only root may use the admin API");
    const char *const *docs = NULL;
    size_t n_docs = 0;
    if (iam_identity_policies(c->req, c->who->access_key, &docs, &n_docs) < 0)
        return fail(c, 500, "InternalError", "out of memory");
    struct cairn_kv ctx[] = {{"aws:username", c->who->user ? c->who->user : ""},
                             {"aws:userid", c->who->user ? c->who->user : ""}};
    struct cairn_policy_query q = {
        .who = c->who,
        .action = action,
        .resource = "arn:aws:s3:::*",
        .bucket_owner = "",
        .n_identity_policies = n_docs,
        .identity_policies = docs,
        .n_context = 2,
        .context = ctx,
    };
    int d = pp->desc->policy->evaluate(pp->state, c->req, &q, NULL, 0);
    if (d == CAIRN_ALLOW)
        return 0;
    return fail(c, 403, "AccessDenied", "Access Denied.");
}

struct admin_api *admin_api_new(const struct admin_api_settings *settings)
{
    struct admin_api *api = calloc(1, sizeof(*api));
    if (api)
        api->s = *settings;
    return api;
}

void admin_api_free(struct admin_api *api)
{
    free(api);
}

int admin_api_is_admin_path(const char *raw_path)
{
    return raw_path && strncmp(raw_path, ADMIN_API_PREFIX, strlen(ADMIN_API_PREFIX)) == 0;
}

int admin_api_call(struct admin_api *api, struct cairn_req *req, const struct cairn_identity *who,
                   const char *endpoint, const char *body, size_t len, char **json_r)
{
    struct admin_call c = {.api = api, .req = req, .who = who, .status = 200};
    const struct endpoint *e = NULL;
    json_t *in = NULL;
    *json_r = NULL;
    for (size_t i = 0; endpoint && i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
        if (strcmp(endpoints[i].path, endpoint) == 0)
            e = &endpoints[i];
    if (!e) {
        fail(&c, 404, "NoSuchEndpoint", "the admin API has no such endpoint");
        goto out;
    }
    if (authorize(&c, e->action) < 0)
        goto out;
    json_error_t jerr;
    in = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : json_object();
    if (!in || !json_is_object(in)) {
        fail(&c, 400, "MalformedJSON", "the request body must be a JSON object");
        goto out;
    }
    c.in = in;
    if (read_fields(&c, e->fields) == 0)
        e->run(&c);
out:
    json_decref(in);
    if (c.status == 200 && c.out) {
        *json_r = json_dumps(c.out, JSON_COMPACT);
    } else {
        if (c.status == 200)
            fail(&c, 500, "InternalError", "out of memory");
        json_t *err = json_pack("{s:s, s:s}", "Code", c.code, "Message",
                                c.message ? c.message : "");
        *json_r = err ? json_dumps(err, JSON_COMPACT) : NULL;
        json_decref(err);
    }
    json_decref(c.out);
    return c.status;
}

/* ---- HTTP ----------------------------------------------------------------- */

static ssize_t admin_req_read(struct cairn_req *req, void *buf, size_t len)
{
    return http_exchange_read(req->owner, buf, len);
}

static int admin_req_write(struct cairn_req *req, const void *buf, size_t len)
{
    return http_exchange_write(req->owner, buf, len);
}

/* Runs the auth chain as the S3 layer does; 0 with *who set (anonymous when
 * every plugin declined) or a negative error. */
static int authenticate(struct admin_api *api, struct cairn_req *req,
                        const struct http_request_head *head, struct http_exchange *ex,
                        struct cairn_identity *who, struct cairn_body_decoder **dec_r)
{
    const char *host = http_exchange_header(ex, "host");
    struct cairn_http_request http = {
        .method = head->method,
        .raw_path = head->raw_path,
        .raw_query = head->raw_query ? head->raw_query : "",
        .n_headers = head->n_headers,
        .headers = head->headers,
        .host = host ? host : "",
        .remote_addr = head->remote_addr ? head->remote_addr : "",
        .is_tls = head->is_tls,
        .region = api->s.region,
        .now_ms = api->s.services->now_ms(),
    };
    const struct s3_plugins *pl = api->s.plugins;
    for (size_t i = 0; pl && i < pl->n_auth; i++) {
        const struct loaded_plugin *p = pl->auth[i];
        if (!p || !p->desc->auth || !p->desc->auth->authenticate)
            continue;
        struct cairn_body_decoder *dec = NULL;
        const char *detail = NULL;
        memset(who, 0, sizeof(*who));
        int rc = p->desc->auth->authenticate(p->state, req, &http, who, &dec, &detail);
        if (rc == CAIRN_DECLINED || rc < 0) {
            if (dec && dec->destroy)
                dec->destroy(dec->state);
            if (rc < 0)
                return rc;
            continue;
        }
        if (!who->access_key)
            who->access_key = "";
        if (!who->user)
            who->user = "";
        if (!who->parent)
            who->parent = "";
        *dec_r = dec;
        return 0;
    }
    *who = (struct cairn_identity){.access_key = "", .user = "", .parent = "",
                                   .is_anonymous = 1, .content_sha256 = ""};
    return 0;
}

/* Reads the whole body (at most ADMIN_BODY_MAX) into request memory, through
 * the auth plugin's decoder when it installed one.  0 or a negative error. */
static int read_body(struct cairn_req *req, struct http_exchange *ex,
                     struct cairn_body_decoder *dec, char **body_r, size_t *len_r)
{
    char *raw = arena_alloc(req->arena, ADMIN_BODY_MAX + 1);
    char *out = dec ? arena_alloc(req->arena, ADMIN_BODY_MAX + 1) : raw;
    if (!raw || !out)
        return CAIRN_E_NOMEM;
    size_t n = 0;
    for (;;) {
        if (n == ADMIN_BODY_MAX)
            return CAIRN_E_ENTITY_TOO_LARGE;
        ssize_t r = http_exchange_read(ex, raw + n, ADMIN_BODY_MAX - n);
        if (r < 0)
            return (int)r;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    size_t produced_total = n;
    if (dec) {
        size_t in_pos = 0, out_len = 0;
        for (int final = 0; final < 2;) {
            size_t consumed = 0, produced = 0;
            size_t in_len = final ? 0 : n - in_pos;
            int rc = dec->decode(dec->state, req, (const uint8_t *)raw + in_pos, in_len, &consumed,
                                 (uint8_t *)out + out_len, ADMIN_BODY_MAX - out_len, &produced);
            if (rc < 0)
                return rc;
            in_pos += consumed;
            out_len += produced;
            if (final) {
                if (produced == 0)
                    break;
                continue;
            }
            if (in_pos == n)
                final = 1;
            else if (consumed == 0 && produced == 0)
                return CAIRN_E_BAD_REQUEST; /* the decoder makes no progress */
        }
        produced_total = out_len;
    }
    out[produced_total] = '\0';
    *body_r = out;
    *len_r = produced_total;
    return 0;
}

void admin_api_handle(struct http_exchange *ex, struct admin_api *api)
{
    const struct http_request_head *head = http_exchange_head(ex);
    const struct cairn_services *sv = api->s.services;
    int64_t t0 = sv->now_ms();
    struct cairn_req req = {.request_id = head->request_id ? head->request_id : "",
                            .arena = arena_new(),
                            .read = admin_req_read,
                            .write = admin_req_write,
                            .owner = ex};
    struct cairn_identity who;
    struct cairn_body_decoder *dec = NULL;
    char *json = NULL, *body = NULL;
    size_t len = 0;
    int status = 500;
    const char *endpoint = head->raw_path + strlen(ADMIN_API_PREFIX);
    memset(&who, 0, sizeof(who));
    who.user = "";
    if (!req.arena) {
        http_exchange_respond(ex, 503, NULL, 0, 0);
        http_exchange_finish(ex);
        return;
    }
    int rc = authenticate(api, &req, head, ex, &who, &dec);
    if (rc == 0 && strcmp(head->method, "POST") != 0 && strcmp(head->method, "GET") != 0)
        rc = CAIRN_E_METHOD_NOT_ALLOWED;
    if (rc == 0)
        rc = read_body(&req, ex, dec, &body, &len);
    if (rc == 0) {
        status = admin_api_call(api, &req, &who, endpoint, body, len, &json);
    } else {
        struct admin_call c = {.status = 500};
        fail_rc(&c, rc, NULL);
        status = c.status;
        json_t *err = json_pack("{s:s, s:s}", "Code", c.code, "Message", c.message);
        json = err ? json_dumps(err, JSON_COMPACT) : NULL;
        json_decref(err);
    }
    struct cairn_kv hdrs[] = {{"content-type", "application/json"},
                              {"x-amz-request-id", req.request_id}};
    size_t n = json ? strlen(json) : 0;
    if (http_exchange_respond(ex, json ? status : 500, hdrs, 2, (int64_t)n) == 0 && n)
        http_exchange_write(ex, json, n);
    /* Never the body: it may carry secrets. */
    sv->log(&req, CAIRN_LOG_INFO, "%s %s admin %d %lldms %s", head->method, head->raw_path,
            status, (long long)(sv->now_ms() - t0), who.user && *who.user ? who.user : "-");
    if (json) {
        memset(json, 0, n); /* svcacct/add's reply holds a secret */
        free(json);
    }
    if (dec && dec->destroy)
        dec->destroy(dec->state);
    http_exchange_finish(ex);
    arena_free(req.arena);
}
