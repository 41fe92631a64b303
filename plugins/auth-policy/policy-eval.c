/*
 * policy-eval.c -- deciding one request against one compiled policy:
 * statement matching (Principal, Action, Resource), policy variables and the
 * condition operators.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "glob.h"
#include "policy-internal.h"
#include "policy-values.h"

/* Everything one evaluation needs, built once per policy_eval call. */
struct evalctx {
    const struct pol_request *r;
    const struct cairn_identity *who;
    const char *username;      /* aws:username, NULL when none (anonymous) */
    const char *userid;        /* aws:userid */
    const char *principal_type; /* aws:PrincipalType */
    char now_iso[40];          /* aws:CurrentTime when the context lacks it */
    char now_epoch[32];        /* aws:EpochTime when the context lacks it */
    int clock_ready;           /* now_iso / now_epoch are filled (lazily) */
    const char **vals;         /* scratch for a key's request values */
    struct sbuf pat, seg1, seg2; /* scratch for substitution and ARN segments */
    int nomem;
};

static const char *nz(const char *s)
{
    return s ? s : "";
}

/* Keys the plugin derives itself; the request context cannot override them. */
static const char *derived_value(const struct evalctx *c, const char *key, int *is_derived)
{
    *is_derived = 1;
    if (strcasecmp(key, "aws:username") == 0)
        return c->username;
    if (strcasecmp(key, "aws:userid") == 0)
        return c->userid;
    if (strcasecmp(key, "aws:PrincipalType") == 0)
        return c->principal_type;
    *is_derived = 0;
    return NULL;
}

/* Default values for keys the core may leave to the plugin. */
static void clock_fill(struct evalctx *c)
{
    if (c->clock_ready)
        return;
    pv_format_date(c->r->now_ms, c->now_iso, sizeof(c->now_iso));
    snprintf(c->now_epoch, sizeof(c->now_epoch), "%lld", (long long)(c->r->now_ms / 1000));
    c->clock_ready = 1;
}

/* Values the plugin can derive when the core's context lacks them: the
 * clock, and what the identity says about how the request was signed. */
static const char *fallback_value(struct evalctx *c, const char *key)
{
    const struct cairn_identity *who = c->who;
    if (strcasecmp(key, "aws:CurrentTime") == 0)
        return clock_fill(c), c->now_iso;
    if (strcasecmp(key, "aws:EpochTime") == 0)
        return clock_fill(c), c->now_epoch;
    if (who->is_anonymous)
        return NULL;
    if (strcasecmp(key, "s3:authType") == 0)
        return who->auth_type == CAIRN_AUTH_HEADER  ? "REST-HEADER"
               : who->auth_type == CAIRN_AUTH_QUERY ? "REST-QUERY-STRING"
               : who->auth_type == CAIRN_AUTH_POST  ? "POST"
                                                    : NULL;
    if (strcasecmp(key, "s3:signatureversion") == 0)
        return who->signature_version == 4   ? "AWS4-HMAC-SHA256"
               : who->signature_version == 2 ? "AWS"
                                             : NULL;
    if (strcasecmp(key, "s3:x-amz-content-sha256") == 0)
        return who->content_sha256 && *who->content_sha256 ? who->content_sha256 : NULL;
    return NULL;
}

/* Collects the request values of `key` into c->vals; returns how many. */
static size_t lookup(struct evalctx *c, const char *key)
{
    int derived;
    const char *d = derived_value(c, key, &derived);
    if (derived) {
        if (!d)
            return 0;
        c->vals[0] = d;
        return 1;
    }
    const struct cairn_policy_query *q = c->r->q;
    size_t n = 0;
    for (size_t i = 0; i < q->n_context; i++)
        if (q->context[i].name && q->context[i].value && strcasecmp(q->context[i].name, key) == 0)
            c->vals[n++] = q->context[i].value;
    if (n == 0 && (d = fallback_value(c, key)))
        c->vals[n++] = d;
    return n;
}

/* The value of a policy variable: 1 with *val_r when it has exactly one
 * value, else 0 (absent, or multi-valued: not substitutable). */
static int var_lookup(struct evalctx *c, const char *key, size_t key_len, const char **val_r)
{
    char name[256];
    if (key_len >= sizeof(name))
        return 0;
    memcpy(name, key, key_len);
    name[key_len] = '\0';
    int derived;
    const char *d = derived_value(c, name, &derived);
    if (derived) {
        *val_r = d;
        return d != NULL;
    }
    const struct cairn_policy_query *q = c->r->q;
    size_t n = 0;
    for (size_t i = 0; i < q->n_context; i++) {
        if (q->context[i].name && q->context[i].value &&
            strcasecmp(q->context[i].name, name) == 0) {
            *val_r = q->context[i].value;
            n++;
        }
    }
    if (n == 0 && (d = fallback_value(c, name))) {
        *val_r = d;
        n = 1;
    }
    return n == 1;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

/*
 * Expands policy variables in `raw` into `out`: ${key}, ${key, 'default'},
 * and the escapes ${*} ${?} ${$}.  In glob mode the result is an escaped
 * glob (see glob.h) in which only the document's own * and ? are wildcards.
 * Returns 0, 1 when a variable has no value (the pattern cannot match), or
 * -1 when memory ran out.
 */
static int substitute(struct evalctx *c, const char *raw, int glob_mode, struct sbuf *out)
{
    sbuf_reset(out);
    for (const char *p = raw; *p;) {
        const char *close;
        if (p[0] == '$' && p[1] == '{' && (close = strchr(p + 2, '}'))) {
            const char *in = p + 2, *in_end = close;
            size_t n = (size_t)(in_end - in);
            if (n == 1 && (*in == '*' || *in == '?' || *in == '$')) {
                if (glob_mode && *in != '$')
                    sbuf_addc(out, '\\');
                sbuf_addc(out, *in);
            } else {
                const char *comma = memchr(in, ',', n), *name_end = comma ? comma : in_end;
                const char *name = in, *val;
                trim(&name, &name_end);
                if (var_lookup(c, name, (size_t)(name_end - name), &val)) {
                    if (glob_mode)
                        glob_add_literal(out, val, strlen(val));
                    else
                        sbuf_add(out, val, strlen(val));
                } else if (comma) {
                    /* ${key, 'default'}: the default must be quoted. */
                    const char *ds = comma + 1, *de = in_end;
                    trim(&ds, &de);
                    if (de - ds < 2 || *ds != '\'' || de[-1] != '\'')
                        return 1;
                    if (glob_mode)
                        glob_add_literal(out, ds + 1, (size_t)(de - ds - 2));
                    else
                        sbuf_add(out, ds + 1, (size_t)(de - ds - 2));
                } else {
                    return 1;
                }
            }
            p = close + 1;
            continue;
        }
        if (glob_mode && *p == '\\')
            sbuf_addc(out, '\\');
        sbuf_addc(out, *p++);
    }
    return out->failed ? -1 : 0;
}

/* The escaped glob of a policy string after substitution, or NULL when a
 * variable is missing (or memory ran out, which sets c->nomem). */
static const char *str_glob(struct evalctx *c, const struct pol_str *s)
{
    if (!s->has_vars)
        return s->glob;
    int rc = substitute(c, s->raw, 1, &c->pat);
    if (rc < 0)
        c->nomem = 1;
    return rc == 0 ? c->pat.p : NULL;
}

/* The literal text of a policy string after substitution, or NULL. */
static const char *str_literal(struct evalctx *c, const struct pol_str *s)
{
    if (!s->has_vars)
        return s->raw;
    int rc = substitute(c, s->raw, 0, &c->pat);
    if (rc < 0)
        c->nomem = 1;
    return rc == 0 ? c->pat.p : NULL;
}

static int list_matches(struct evalctx *c, const struct pol_list *l, const char *subject, int icase)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct pol_str *ps = &l->v[i];
        if (ps->lit_len && (icase ? strncasecmp(subject, ps->raw, ps->lit_len)
                                  : strncmp(subject, ps->raw, ps->lit_len)))
            continue;
        const char *g = str_glob(c, ps);
        if (g && glob_match(g, subject, icase))
            return 1;
    }
    return 0;
}

/* ---- ARN matching: six colon-separated parts, each a glob -------------- */

/* Finds the starts of the 6 ARN parts; `escaped` skips backslash pairs. */
static int arn_split(const char *s, int escaped, const char *starts[7])
{
    int k = 0;
    starts[k++] = s;
    for (const char *p = s; *p && k < 6; p++) {
        if (escaped && *p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p == ':')
            starts[k++] = p + 1;
    }
    if (k < 6)
        return -1;
    starts[6] = s + strlen(s) + 1; /* so that part 5 ends at the NUL */
    return 0;
}

static int arn_like(struct evalctx *c, const char *pattern, const char *value)
{
    const char *ps[7], *vs[7];
    if (arn_split(pattern, 1, ps) < 0 || arn_split(value, 0, vs) < 0)
        return 0;
    for (int k = 0; k < 6; k++) {
        sbuf_reset(&c->seg1);
        sbuf_reset(&c->seg2);
        sbuf_add(&c->seg1, ps[k], (size_t)(ps[k + 1] - ps[k] - 1));
        sbuf_add(&c->seg2, vs[k], (size_t)(vs[k + 1] - vs[k] - 1));
        if (c->seg1.failed || c->seg2.failed) {
            c->nomem = 1;
            return 0;
        }
        if (!glob_match(c->seg1.p, c->seg2.p, 0))
            return 0;
    }
    return 1;
}

/* ---- conditions --------------------------------------------------------- */

/* A request value, parsed once for the operator that compares it. */
struct req_value {
    const char *s;
    int ok;
    double num;
    int64_t date_ms;
    int boolean;
    struct pol_cidr ip;
};

static void parse_request_value(const struct pol_cond *cd, const char *s, struct req_value *rv)
{
    rv->s = s;
    rv->ok = 1;
    switch (cd->op) {
    case POL_OP_NUM_EQ: case POL_OP_NUM_LT: case POL_OP_NUM_LE: case POL_OP_NUM_GT:
    case POL_OP_NUM_GE:
        rv->ok = pv_parse_number(s, &rv->num) == 0;
        break;
    case POL_OP_DATE_EQ: case POL_OP_DATE_LT: case POL_OP_DATE_LE: case POL_OP_DATE_GT:
    case POL_OP_DATE_GE:
        rv->ok = pv_parse_date(s, &rv->date_ms) == 0;
        break;
    case POL_OP_BOOL:
        rv->ok = pv_parse_bool(s, &rv->boolean) == 0;
        break;
    case POL_OP_IP:
        rv->ok = pv_parse_cidr(s, &rv->ip) == 0;
        break;
    default:
        break;
    }
}

/* Does the request value match one policy value under the (positive) operator? */
static int value_matches(struct evalctx *c, const struct pol_cond *cd, const struct req_value *rv,
                         const struct pol_value *pv)
{
    const char *t;
    switch (cd->op) {
    case POL_OP_STRING_EQUALS:
        return (t = str_literal(c, &pv->s)) && strcmp(t, rv->s) == 0;
    case POL_OP_STRING_EQUALS_IC:
        return (t = str_literal(c, &pv->s)) && strcasecmp(t, rv->s) == 0;
    case POL_OP_STRING_LIKE:
        return (t = str_glob(c, &pv->s)) && glob_match(t, rv->s, 0);
    case POL_OP_ARN_LIKE:
        return (t = str_glob(c, &pv->s)) && arn_like(c, t, rv->s);
    case POL_OP_NUM_EQ: return pv->num == rv->num;
    case POL_OP_NUM_LT: return rv->num < pv->num;
    case POL_OP_NUM_LE: return rv->num <= pv->num;
    case POL_OP_NUM_GT: return rv->num > pv->num;
    case POL_OP_NUM_GE: return rv->num >= pv->num;
    case POL_OP_DATE_EQ: return rv->date_ms == pv->date_ms;
    case POL_OP_DATE_LT: return rv->date_ms < pv->date_ms;
    case POL_OP_DATE_LE: return rv->date_ms <= pv->date_ms;
    case POL_OP_DATE_GT: return rv->date_ms > pv->date_ms;
    case POL_OP_DATE_GE: return rv->date_ms >= pv->date_ms;
    case POL_OP_BOOL: return rv->boolean == pv->boolean;
    case POL_OP_IP: return pv_cidr_contains(&pv->cidr, &rv->ip);
    case POL_OP_NULL: return 0;
    }
    return 0;
}

/* Does the request value match any policy value (values are ORed)? */
static int any_value_matches(struct evalctx *c, const struct pol_cond *cd, const char *s)
{
    struct req_value rv;
    parse_request_value(cd, s, &rv);
    if (!rv.ok)
        return 0;
    for (size_t i = 0; i < cd->n_values; i++)
        if (cd->values[i].parsed_ok && value_matches(c, cd, &rv, &cd->values[i]))
            return 1;
    return 0;
}

/*
 * One key under one operator.  Missing keys: false, except for negated
 * operators (true), ...IfExists (true), ForAllValues (true) and
 * ForAnyValue (false).  Negated operators are the NOR of their values.
 */
static int cond_holds(struct evalctx *c, const struct pol_cond *cd)
{
    size_t n = lookup(c, cd->key);
    if (cd->op == POL_OP_NULL) {
        for (size_t i = 0; i < cd->n_values; i++)
            if (cd->values[i].parsed_ok && cd->values[i].boolean == (n == 0))
                return 1;
        return 0;
    }
    if (n == 0) {
        if (cd->if_exists || cd->set == POL_SET_ALL)
            return 1;
        if (cd->set == POL_SET_ANY)
            return 0;
        return cd->negated;
    }
    /* vals may be overwritten by nothing below: substitution uses var_lookup. */
    const char **vals = c->vals;
    switch (cd->set) {
    case POL_SET_ALL:
        for (size_t i = 0; i < n; i++)
            if (any_value_matches(c, cd, vals[i]) == cd->negated)
                return 0;
        return 1;
    case POL_SET_ANY:
        for (size_t i = 0; i < n; i++)
            if (any_value_matches(c, cd, vals[i]) != cd->negated)
                return 1;
        return 0;
    case POL_SET_NONE:
    default:
        for (size_t i = 0; i < n; i++)
            if (any_value_matches(c, cd, vals[i]))
                return !cd->negated;
        return cd->negated;
    }
}

/* ---- Principal ---------------------------------------------------------- */

static int principal_entry_matches(const struct cairn_identity *who, const char *e)
{
    const char *user = nz(who->user), *parent = nz(who->parent), *ak = nz(who->access_key);
    if ((*ak && strcmp(e, ak) == 0) || (*user && strcmp(e, user) == 0) ||
        (*parent && strcmp(e, parent) == 0))
        return 1;
    static const char iam[] = "arn:aws:iam::";
    if (strncmp(e, iam, sizeof(iam) - 1) != 0)
        return 0;
    const char *rest = strchr(e + sizeof(iam) - 1, ':'); /* skip the account */
    if (!rest)
        return 0;
    rest++;
    if (strcmp(rest, "root") == 0)
        return who->is_root;
    if (strncmp(rest, "user/", 5) != 0)
        return 0;
    const char *name = strrchr(rest, '/') + 1; /* user ARNs may carry a path */
    return (*user && strcmp(name, user) == 0) || (*parent && strcmp(name, parent) == 0);
}

static int principal_matches(const struct pol_principal *pr, const struct cairn_identity *who)
{
    int m = pr->any;
    if (!m && !who->is_anonymous)
        for (size_t i = 0; i < pr->n && !m; i++)
            m = principal_entry_matches(who, pr->aws[i]);
    return pr->negated ? !m : m;
}

/* ---- statements --------------------------------------------------------- */

static int stmt_applies(struct evalctx *c, const struct pol_stmt *s, int is_bucket_policy,
                        const char *action, const char *resource)
{
    if (list_matches(c, &s->actions, action, 1) == s->not_action)
        return 0;
    if (list_matches(c, &s->resources, resource, 0) == s->not_resource)
        return 0;
    /* A bucket policy statement names whom it is about; identity policies
     * are about their holder whatever they say. */
    if (is_bucket_policy && (!s->principal.present || !principal_matches(&s->principal, c->who)))
        return 0;
    for (size_t i = 0; i < s->n_conds; i++)
        if (!cond_holds(c, &s->conds[i]))
            return 0;
    return 1;
}

static void ctx_init(struct evalctx *c, const struct pol_request *r)
{
    static const struct cairn_identity nobody = { .access_key = "", .user = "", .parent = "",
                                                   .is_anonymous = 1 };
    memset(c, 0, sizeof(*c));
    c->r = r;
    c->who = r->q->who ? r->q->who : &nobody;
    if (c->who->is_anonymous) {
        c->username = NULL;
        c->userid = "anonymous";
        c->principal_type = "Anonymous";
    } else {
        /* A service account acts as its parent: ${aws:username} is the parent. */
        c->username = *nz(c->who->parent) ? c->who->parent : nz(c->who->user);
        if (!*c->username)
            c->username = NULL;
        c->userid = *nz(c->who->user) ? c->who->user : nz(c->who->access_key);
        c->principal_type = c->who->is_root ? "Account" : "User";
    }
    sbuf_init(&c->pat);
    sbuf_init(&c->seg1);
    sbuf_init(&c->seg2);
}

static void ctx_release(struct evalctx *c)
{
    sbuf_release(&c->pat);
    sbuf_release(&c->seg1);
    sbuf_release(&c->seg2);
}

int policy_eval(const struct policy *p, const struct pol_request *r, int is_bucket_policy,
                struct pol_verdict *v_r)
{
    struct evalctx c;
    const char *stack_vals[32];
    ctx_init(&c, r);
    size_t need = r->q->n_context + 1;
    c.vals = need <= 32 ? stack_vals : malloc(need * sizeof(*c.vals));
    if (!c.vals)
        return CAIRN_E_NOMEM;
    /* A request about no resource (ListAllMyBuckets) is about "arn:aws:s3:::". */
    const char *resource = r->q->resource;
    if (!resource || !*resource || strcmp(resource, "*") == 0)
        resource = "arn:aws:s3:::";
    const char *action = nz(r->q->action);

    memset(v_r, 0, sizeof(*v_r));
    for (size_t i = 0; i < p->n_stmts; i++) {
        const struct pol_stmt *s = &p->stmts[i];
        if (!stmt_applies(&c, s, is_bucket_policy, action, resource))
            continue;
        if (!s->allow) {
            v_r->denied = 1;
            v_r->allowed = 0;
            v_r->decider = s;
            break;
        }
        if (!v_r->allowed) {
            v_r->allowed = 1;
            v_r->decider = s;
        }
    }
    int nomem = c.nomem;
    if (c.vals != stack_vals)
        free(c.vals);
    ctx_release(&c);
    return nomem ? CAIRN_E_NOMEM : 0;
}
