/*
 * policy-parse.c -- JSON policy documents into the compiled form, and the
 * stricter checks PutBucketPolicy / CreatePolicy apply (policy_validate).
 */
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "glob.h"
#include "policy-internal.h"
#include "policy-values.h"

/* Bucket policies are limited to 20 KiB by S3. */
#define BUCKET_POLICY_MAX 20480

struct parser {
    int strict;      /* apply policy_validate's rules */
    int is_bucket;   /* a bucket policy (strict mode only) */
    int version_2012;
    char *reason;
    size_t reason_cap;
};

static int fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parser *ps, const char *fmt, ...)
{
    if (ps->reason && ps->reason_cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->reason, ps->reason_cap, fmt, ap);
        va_end(ap);
    }
    return CAIRN_E_MALFORMED_POLICY;
}

/* ---- freeing ------------------------------------------------------------ */

static void str_clear(struct pol_str *s)
{
    free(s->raw);
    free(s->glob);
}

static void list_clear(struct pol_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        str_clear(&l->v[i]);
    free(l->v);
}

static void stmt_clear(struct pol_stmt *s)
{
    free(s->sid);
    for (size_t i = 0; i < s->principal.n; i++)
        free(s->principal.aws[i]);
    free(s->principal.aws);
    list_clear(&s->actions);
    list_clear(&s->resources);
    for (size_t i = 0; i < s->n_conds; i++) {
        struct pol_cond *c = &s->conds[i];
        free(c->key);
        for (size_t j = 0; j < c->n_values; j++)
            str_clear(&c->values[j].s);
        free(c->values);
    }
    free(s->conds);
}

void policy_free(struct policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_stmts; i++)
        stmt_clear(&p->stmts[i]);
    free(p->stmts);
    free(p);
}

/* ---- strings and lists -------------------------------------------------- */

/* Fills `s` from `raw`.  vars_ok: policy variables may appear here. */
static int str_init(struct parser *ps, struct pol_str *s, const char *raw, int vars_ok)
{
    s->raw = strdup(raw);
    if (!s->raw)
        return CAIRN_E_NOMEM;
    s->has_vars = vars_ok && ps->version_2012 && strstr(raw, "${") != NULL;
    s->lit_len = strcspn(raw, "*?$\\");
    if (!s->has_vars) {
        s->glob = glob_from_raw(raw);
        if (!s->glob)
            return CAIRN_E_NOMEM;
    }
    return 0;
}

/* A string or a non-empty array of strings, as Action and Resource take. */
static int parse_string_list(struct parser *ps, json_t *j, const char *field, int vars_ok,
                             struct pol_list *l)
{
    size_t n = json_is_array(j) ? json_array_size(j) : 1;
    if (!json_is_string(j) && !json_is_array(j))
        return fail(ps, "%s must be a string or an array of strings", field);
    if (n == 0)
        return fail(ps, "%s must not be empty", field);
    l->v = calloc(n, sizeof(*l->v));
    if (!l->v)
        return CAIRN_E_NOMEM;
    l->n = n;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_is_array(j) ? json_array_get(j, i) : j;
        if (!json_is_string(e))
            return fail(ps, "%s must be a string or an array of strings", field);
        int rc = str_init(ps, &l->v[i], json_string_value(e), vars_ok);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- Principal ---------------------------------------------------------- */

static int add_principal(struct parser *ps, struct pol_principal *pr, json_t *e, int is_aws)
{
    if (!json_is_string(e))
        return fail(ps, "Invalid principal in policy: entries must be strings");
    const char *v = json_string_value(e);
    if (strcmp(v, "*") == 0) {
        pr->any = 1;
        return 0;
    }
    if (!*v)
        return fail(ps, "Invalid principal in policy: empty entry");
    if (!is_aws) /* CanonicalUser, Service, Federated: accepted, never matched here */
        return 0;
    char **nv = realloc(pr->aws, (pr->n + 1) * sizeof(*nv));
    if (!nv)
        return CAIRN_E_NOMEM;
    pr->aws = nv;
    if (!(pr->aws[pr->n] = strdup(v)))
        return CAIRN_E_NOMEM;
    pr->n++;
    return 0;
}

static int parse_principal(struct parser *ps, json_t *j, int negated, struct pol_principal *pr)
{
    pr->present = 1;
    pr->negated = negated;
    if (json_is_string(j)) {
        if (strcmp(json_string_value(j), "*") == 0) {
            pr->any = 1;
            return 0;
        }
        if (ps->strict)
            return fail(ps, "Invalid principal in policy: \"%s\" (use \"*\" or {\"AWS\": ...})",
                        json_string_value(j));
        /* MinIO-style plain string: treat as one AWS entry. */
        return add_principal(ps, pr, j, 1);
    }
    if (!json_is_object(j) || json_object_size(j) == 0)
        return fail(ps, "Invalid principal in policy");
    const char *type;
    json_t *val;
    json_object_foreach(j, type, val) {
        int is_aws = strcmp(type, "AWS") == 0;
        if (!is_aws && strcmp(type, "CanonicalUser") != 0 && strcmp(type, "Service") != 0 &&
            strcmp(type, "Federated") != 0)
            return fail(ps, "Invalid principal in policy: unknown principal type \"%s\"", type);
        if (json_is_array(val)) {
            if (json_array_size(val) == 0)
                return fail(ps, "Invalid principal in policy: empty list");
            size_t i;
            json_t *e;
            json_array_foreach(val, i, e) {
                int rc = add_principal(ps, pr, e, is_aws);
                if (rc < 0)
                    return rc;
            }
        } else {
            int rc = add_principal(ps, pr, val, is_aws);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* ---- Condition ---------------------------------------------------------- */

static const struct {
    const char *name;
    enum pol_op op;
    int negated;
} operators[] = {
    { "StringEquals", POL_OP_STRING_EQUALS, 0 },
    { "StringNotEquals", POL_OP_STRING_EQUALS, 1 },
    { "StringEqualsIgnoreCase", POL_OP_STRING_EQUALS_IC, 0 },
    { "StringNotEqualsIgnoreCase", POL_OP_STRING_EQUALS_IC, 1 },
    { "StringLike", POL_OP_STRING_LIKE, 0 },
    { "StringNotLike", POL_OP_STRING_LIKE, 1 },
    { "NumericEquals", POL_OP_NUM_EQ, 0 },
    { "NumericNotEquals", POL_OP_NUM_EQ, 1 },
    { "NumericLessThan", POL_OP_NUM_LT, 0 },
    { "NumericLessThanEquals", POL_OP_NUM_LE, 0 },
    { "NumericGreaterThan", POL_OP_NUM_GT, 0 },
    { "NumericGreaterThanEquals", POL_OP_NUM_GE, 0 },
    { "DateEquals", POL_OP_DATE_EQ, 0 },
    { "DateNotEquals", POL_OP_DATE_EQ, 1 },
    { "DateLessThan", POL_OP_DATE_LT, 0 },
    { "DateLessThanEquals", POL_OP_DATE_LE, 0 },
    { "DateGreaterThan", POL_OP_DATE_GT, 0 },
    { "DateGreaterThanEquals", POL_OP_DATE_GE, 0 },
    { "Bool", POL_OP_BOOL, 0 },
    { "IpAddress", POL_OP_IP, 0 },
    { "NotIpAddress", POL_OP_IP, 1 },
    { "Null", POL_OP_NULL, 0 },
    { "ArnEquals", POL_OP_ARN_LIKE, 0 },
    { "ArnLike", POL_OP_ARN_LIKE, 0 },
    { "ArnNotEquals", POL_OP_ARN_LIKE, 1 },
    { "ArnNotLike", POL_OP_ARN_LIKE, 1 },
};

/* Splits "ForAnyValue:StringLikeIfExists" into its parts.  0 or -1 (unknown). */
static int parse_operator(const char *name, struct pol_cond *c)
{
    static const char any[] = "ForAnyValue:", all[] = "ForAllValues:", ifx[] = "IfExists";
    c->set = POL_SET_NONE;
    if (strncasecmp(name, any, sizeof(any) - 1) == 0) {
        c->set = POL_SET_ANY;
        name += sizeof(any) - 1;
    } else if (strncasecmp(name, all, sizeof(all) - 1) == 0) {
        c->set = POL_SET_ALL;
        name += sizeof(all) - 1;
    }
    size_t n = strlen(name);
    c->if_exists = 0;
    if (n > sizeof(ifx) - 1 && strcmp(name + n - (sizeof(ifx) - 1), ifx) == 0) {
        c->if_exists = 1;
        n -= sizeof(ifx) - 1;
    }
    for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++) {
        if (strlen(operators[i].name) == n && strncmp(operators[i].name, name, n) == 0) {
            c->op = operators[i].op;
            c->negated = operators[i].negated;
            if (c->op == POL_OP_NULL && (c->if_exists || c->set != POL_SET_NONE))
                return -1;
            return 0;
        }
    }
    return -1;
}

/* Pre-parses one value for its operator; sets parsed_ok. */
static void parse_value(struct pol_cond *c, struct pol_value *v)
{
    const char *s = v->s.raw;
    switch (c->op) {
    case POL_OP_NUM_EQ: case POL_OP_NUM_LT: case POL_OP_NUM_LE: case POL_OP_NUM_GT:
    case POL_OP_NUM_GE:
        v->parsed_ok = pv_parse_number(s, &v->num) == 0;
        break;
    case POL_OP_DATE_EQ: case POL_OP_DATE_LT: case POL_OP_DATE_LE: case POL_OP_DATE_GT:
    case POL_OP_DATE_GE:
        v->parsed_ok = pv_parse_date(s, &v->date_ms) == 0;
        break;
    case POL_OP_BOOL: case POL_OP_NULL:
        v->parsed_ok = pv_parse_bool(s, &v->boolean) == 0;
        break;
    case POL_OP_IP:
        v->parsed_ok = pv_parse_cidr(s, &v->cidr) == 0;
        break;
    default:
        v->parsed_ok = 1;
    }
}

static int is_string_op(enum pol_op op)
{
    return op == POL_OP_STRING_EQUALS || op == POL_OP_STRING_EQUALS_IC ||
           op == POL_OP_STRING_LIKE || op == POL_OP_ARN_LIKE;
}

/* The text of a scalar condition value; numbers and booleans as JSON writes them. */
static int scalar_text(json_t *e, char *buf, size_t cap, const char **out)
{
    if (json_is_string(e))
        *out = json_string_value(e);
    else if (json_is_integer(e))
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(e)), *out = buf;
    else if (json_is_real(e))
        snprintf(buf, cap, "%.17g", json_real_value(e)), *out = buf;
    else if (json_is_boolean(e))
        *out = json_is_true(e) ? "true" : "false";
    else
        return -1;
    return 0;
}

static int parse_cond_key(struct parser *ps, const char *opname, const char *key, json_t *vals,
                          struct pol_cond *c)
{
    if (!*key)
        return fail(ps, "Condition key must not be empty (operator %s)", opname);
    if (!(c->key = strdup(key)))
        return CAIRN_E_NOMEM;
    size_t n = json_is_array(vals) ? json_array_size(vals) : 1;
    if (json_is_array(vals) && n == 0 && ps->strict)
        return fail(ps, "Condition %s on %s has an empty list of values", opname, key);
    c->values = calloc(n ? n : 1, sizeof(*c->values));
    if (!c->values)
        return CAIRN_E_NOMEM;
    c->n_values = n;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_is_array(vals) ? json_array_get(vals, i) : vals;
        char num[64];
        const char *text;
        if (scalar_text(e, num, sizeof(num), &text) < 0)
            return fail(ps, "Condition %s on %s: values must be strings, numbers or booleans",
                        opname, key);
        int rc = str_init(ps, &c->values[i].s, text, is_string_op(c->op));
        if (rc < 0)
            return rc;
        parse_value(c, &c->values[i]);
        if (!c->values[i].parsed_ok && ps->strict)
            return fail(ps, "Invalid value \"%s\" for condition operator %s on %s", text, opname,
                        key);
    }
    return 0;
}

static int parse_condition(struct parser *ps, json_t *j, struct pol_stmt *s)
{
    if (!json_is_object(j))
        return fail(ps, "Condition must be an object");
    size_t total = 0;
    const char *opname, *key;
    json_t *block, *vals;
    json_object_foreach(j, opname, block) {
        if (!json_is_object(block))
            return fail(ps, "Condition operator %s must map keys to values", opname);
        total += json_object_size(block);
    }
    s->conds = calloc(total ? total : 1, sizeof(*s->conds));
    if (!s->conds)
        return CAIRN_E_NOMEM;
    json_object_foreach(j, opname, block) {
        struct pol_cond proto;
        memset(&proto, 0, sizeof(proto));
        if (parse_operator(opname, &proto) < 0) {
            if (ps->strict)
                return fail(ps, "Unknown condition operator: %s", opname);
            /* Lenient: the condition can never hold; the statement never applies. */
            proto.op = POL_OP_STRING_EQUALS;
            proto.negated = 0;
            proto.set = POL_SET_ANY;
            proto.if_exists = 0;
            json_object_foreach(block, key, vals) {
                struct pol_cond *c = &s->conds[s->n_conds++];
                *c = proto;
                if (!(c->key = strdup("cairn:unknown-operator")))
                    return CAIRN_E_NOMEM;
            }
            continue;
        }
        json_object_foreach(block, key, vals) {
            struct pol_cond *c = &s->conds[s->n_conds++];
            *c = proto;
            int rc = parse_cond_key(ps, opname, key, vals, c);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* ---- statements --------------------------------------------------------- */

static int check_actions(struct parser *ps, const struct pol_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *a = l->v[i].raw;
        if (strcmp(a, "*") != 0 && strncasecmp(a, "s3:", 3) != 0)
            return fail(ps, "Policy has invalid action: %s", a);
    }
    return 0;
}

static int check_resources(struct parser *ps, const struct pol_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *r = l->v[i].raw;
        if (strcmp(r, "*") != 0 && strncmp(r, "arn:aws:s3:::", 13) != 0)
            return fail(ps, "Policy has invalid resource: %s", r);
    }
    return 0;
}

/* True when no action could name an S3 operation ("admin:*", "iam:..."). */
static int only_non_s3_actions(const struct pol_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *a = l->v[i].raw, *colon = strchr(a, ':');
        if (!colon || colon == a || strncasecmp(a, "s3:", 3) == 0 || strcspn(a, "*?") <
            (size_t)(colon - a))
            return 0;
    }
    return 1;
}

static int parse_statement(struct parser *ps, json_t *j, size_t index, struct pol_stmt *s)
{
    s->index = index;
    if (!json_is_object(j))
        return fail(ps, "Statement %zu must be an object", index + 1);
    const char *name;
    json_t *v;
    json_object_foreach(j, name, v) {
        static const char *const known[] = { "Sid", "Effect", "Principal", "NotPrincipal",
                                             "Action", "NotAction", "Resource", "NotResource",
                                             "Condition" };
        int found = 0;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            found |= strcmp(name, known[i]) == 0;
        if (!found && ps->strict)
            return fail(ps, "Unknown field %s in statement %zu", name, index + 1);
    }
    int rc;
    json_t *sid = json_object_get(j, "Sid");
    if (sid) {
        if (!json_is_string(sid))
            return fail(ps, "Sid must be a string");
        if (!(s->sid = strdup(json_string_value(sid))))
            return CAIRN_E_NOMEM;
    }
    json_t *effect = json_object_get(j, "Effect");
    if (!effect)
        return fail(ps, "Missing required field Effect");
    if (json_is_string(effect) && strcmp(json_string_value(effect), "Allow") == 0)
        s->allow = 1;
    else if (json_is_string(effect) && strcmp(json_string_value(effect), "Deny") == 0)
        s->allow = 0;
    else
        return fail(ps, "Invalid effect: %s",
                    json_is_string(effect) ? json_string_value(effect) : "(not a string)");

    json_t *pr = json_object_get(j, "Principal"), *npr = json_object_get(j, "NotPrincipal");
    if (pr && npr)
        return fail(ps, "Statement can't have both Principal and NotPrincipal");
    if (pr || npr) {
        if (ps->strict && !ps->is_bucket)
            return fail(ps, "Policy document should not specify a principal");
        if ((rc = parse_principal(ps, pr ? pr : npr, npr != NULL, &s->principal)) < 0)
            return rc;
    } else if (ps->strict && ps->is_bucket) {
        return fail(ps, "Missing required field Principal");
    }

    json_t *act = json_object_get(j, "Action"), *nact = json_object_get(j, "NotAction");
    if (act && nact)
        return fail(ps, "Statement can't have both Action and NotAction");
    if (!act && !nact)
        return fail(ps, "Missing required field Action");
    s->not_action = nact != NULL;
    if ((rc = parse_string_list(ps, act ? act : nact, act ? "Action" : "NotAction", 0,
                                &s->actions)) < 0)
        return rc;
    if (ps->strict && (rc = check_actions(ps, &s->actions)) < 0)
        return rc;

    json_t *res = json_object_get(j, "Resource"), *nres = json_object_get(j, "NotResource");
    if (res && nres)
        return fail(ps, "Statement can't have both Resource and NotResource");
    if (!res && !nres) {
        /* MinIO-style admin statements ({"Action": ["admin:*"]}, as in the
         * consoleAdmin canned policy) carry no Resource: outside validation
         * they cover every resource, but only when no action is an S3 one. */
        if (ps->strict || s->not_action || !only_non_s3_actions(&s->actions))
            return fail(ps, "Missing required field Resource");
        s->resources.v = calloc(1, sizeof(*s->resources.v));
        if (!s->resources.v)
            return CAIRN_E_NOMEM;
        s->resources.n = 1;
        if ((rc = str_init(ps, &s->resources.v[0], "*", 0)) < 0)
            return rc;
    } else {
        s->not_resource = nres != NULL;
        if ((rc = parse_string_list(ps, res ? res : nres, res ? "Resource" : "NotResource", 1,
                                    &s->resources)) < 0)
            return rc;
        if (ps->strict && (rc = check_resources(ps, &s->resources)) < 0)
            return rc;
    }

    json_t *cond = json_object_get(j, "Condition");
    if (cond && (rc = parse_condition(ps, cond, s)) < 0)
        return rc;
    return 0;
}

static int parse_document(struct parser *ps, json_t *root, struct policy *p)
{
    if (!json_is_object(root))
        return fail(ps, "Policies must be valid JSON and the first byte must be '{'");
    const char *name;
    json_t *v;
    json_object_foreach(root, name, v) {
        if (strcmp(name, "Version") && strcmp(name, "Id") && strcmp(name, "Statement") &&
            ps->strict)
            return fail(ps, "Unknown field %s", name);
    }
    json_t *ver = json_object_get(root, "Version");
    if (ver) {
        const char *vs = json_is_string(ver) ? json_string_value(ver) : "";
        if (strcmp(vs, "2012-10-17") == 0)
            ps->version_2012 = 1;
        else if (strcmp(vs, "2008-10-17") != 0)
            return fail(ps, "Invalid policy version: %s (use 2012-10-17 or 2008-10-17)",
                        json_is_string(ver) ? vs : "(not a string)");
    }
    json_t *id = json_object_get(root, "Id");
    if (id && !json_is_string(id))
        return fail(ps, "Id must be a string");
    p->version_2012 = ps->version_2012;
    json_t *st = json_object_get(root, "Statement");
    if (!st)
        return fail(ps, "Missing required field Statement");
    size_t n;
    if (json_is_object(st))
        n = 1;
    else if (json_is_array(st))
        n = json_array_size(st);
    else
        return fail(ps, "Statement must be an object or an array of objects");
    if (n == 0)
        return fail(ps, "Could not parse the policy: Statement is empty!");
    p->stmts = calloc(n, sizeof(*p->stmts));
    if (!p->stmts)
        return CAIRN_E_NOMEM;
    p->n_stmts = n;
    for (size_t i = 0; i < n; i++) {
        int rc = parse_statement(ps, json_is_array(st) ? json_array_get(st, i) : st, i,
                                 &p->stmts[i]);
        if (rc < 0)
            return rc;
        /* Quadratic, but documents are small (bucket policies <= 20 KB). */
        for (size_t j = 0; ps->strict && p->stmts[i].sid && *p->stmts[i].sid && j < i; j++)
            if (p->stmts[j].sid && strcmp(p->stmts[j].sid, p->stmts[i].sid) == 0)
                return fail(ps, "Statement IDs (SID) in a single policy must be unique: %s",
                            p->stmts[i].sid);
    }
    return 0;
}

static int parse(struct parser *ps, const char *json, size_t len, struct policy **policy_r)
{
    if (ps->reason && ps->reason_cap)
        ps->reason[0] = '\0';
    json_error_t err;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return fail(ps, "Policies must be valid JSON: %s (line %d, column %d)", err.text,
                    err.line, err.column);
    struct policy *p = calloc(1, sizeof(*p));
    int rc = p ? parse_document(ps, root, p) : CAIRN_E_NOMEM;
    json_decref(root);
    if (rc < 0) {
        policy_free(p);
        return rc;
    }
    if (policy_r)
        *policy_r = p;
    else
        policy_free(p);
    return 0;
}

int policy_compile(const char *json, size_t len, struct policy **policy_r, char *reason_r,
                   size_t reason_cap)
{
    struct parser ps = { .reason = reason_r, .reason_cap = reason_cap };
    return parse(&ps, json, len, policy_r);
}

int policy_validate(const char *json, size_t len, int is_bucket_policy, char *reason_r,
                    size_t reason_cap)
{
    struct parser ps = { .strict = 1, .is_bucket = is_bucket_policy, .reason = reason_r,
                         .reason_cap = reason_cap };
    if (is_bucket_policy && len > BUCKET_POLICY_MAX)
        return fail(&ps, "Policies cannot exceed 20 KB");
    return parse(&ps, json, len, NULL);
}

const char *policy_stmt_name(const struct pol_stmt *s, char *buf, size_t cap)
{
    if (s->sid && *s->sid)
        snprintf(buf, cap, "statement '%s'", s->sid);
    else
        snprintf(buf, cap, "statement #%zu", s->index + 1);
    return buf;
}
