/*
 * policy-internal.h -- the compiled form of an IAM / bucket policy document
 * and the functions that build, check and evaluate it.  Internal to the
 * auth-policy plugin (never installed).
 *
 * A document is compiled once (policy_compile) into an immutable
 * `struct policy` that any number of threads may evaluate at the same time.
 *
 * What is matched, in short (see README.md next to this file for details):
 *   - Action: `*` / `?` wildcards, case-insensitive.
 *   - Resource: `*` / `?` wildcards, case-sensitive, over the whole ARN; a
 *     request without a resource ("*", e.g. ListAllMyBuckets) is matched as
 *     "arn:aws:s3:::", so "arn:aws:s3:::*" and "*" both cover it.
 *   - Principal entries: "*" matches everyone (anonymous too); otherwise an
 *     entry matches an authenticated caller when it equals its user name,
 *     its access key, its parent user (service accounts), or is
 *     "arn:aws:iam::<any account>:user/<one of those names>";
 *     "arn:aws:iam::<any account>:root" matches the root identity.
 */
#ifndef CAIRN_POLICY_INTERNAL_H
#define CAIRN_POLICY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/plugin.h"

/* One pattern or value of a policy, kept as written. */
struct pol_str {
    char *raw;     /* as written in the document */
    char *glob;    /* escaped glob form (see glob.h) when has_vars is 0 */
    int has_vars;  /* contains ${...} and the document is 2012-10-17 */
    size_t lit_len; /* raw[0..lit_len) has no wildcard, variable or escape: a
                     * subject must start with it (a cheap early rejection) */
};

struct pol_list {
    size_t n;
    struct pol_str *v;
};

enum pol_op {
    POL_OP_STRING_EQUALS,
    POL_OP_STRING_EQUALS_IC,
    POL_OP_STRING_LIKE,
    POL_OP_NUM_EQ,
    POL_OP_NUM_LT,
    POL_OP_NUM_LE,
    POL_OP_NUM_GT,
    POL_OP_NUM_GE,
    POL_OP_DATE_EQ,
    POL_OP_DATE_LT,
    POL_OP_DATE_LE,
    POL_OP_DATE_GT,
    POL_OP_DATE_GE,
    POL_OP_BOOL,
    POL_OP_IP,
    POL_OP_NULL,
    POL_OP_ARN_LIKE, /* ArnEquals and ArnLike behave the same, as in AWS */
};

enum pol_set { POL_SET_NONE = 0, POL_SET_ANY, POL_SET_ALL };

/* A parsed IP network (address and prefix length). */
struct pol_cidr {
    int family; /* 4 or 6 */
    uint8_t addr[16];
    int bits;
};

/* One condition value, pre-parsed for the non-string operators. */
struct pol_value {
    struct pol_str s;
    double num;        /* Numeric* */
    int64_t date_ms;   /* Date* */
    int boolean;       /* Bool, Null: 1 = "true" */
    struct pol_cidr cidr;
    int parsed_ok;     /* 0: the value did not parse for this operator */
};

/* One key under one operator: "StringEquals": {"s3:prefix": ["a", "b"]}. */
struct pol_cond {
    enum pol_op op;
    int negated;   /* StringNotEquals, NumericNotEquals, NotIpAddress, ... */
    int if_exists; /* ...IfExists */
    enum pol_set set;
    char *key;
    size_t n_values;
    struct pol_value *values;
};

struct pol_principal {
    int present;   /* Principal or NotPrincipal was given */
    int negated;   /* NotPrincipal */
    int any;       /* "*" or {"AWS": "*"} among the entries */
    size_t n;      /* AWS entries other than "*" */
    char **aws;
};

struct pol_stmt {
    char *sid;     /* NULL when absent */
    size_t index;  /* position in the document, from 0 */
    int allow;     /* Effect: 1 Allow, 0 Deny */
    struct pol_principal principal;
    int not_action;
    struct pol_list actions;
    int not_resource;
    struct pol_list resources;
    size_t n_conds;
    struct pol_cond *conds;
};

struct policy {
    int version_2012; /* policy variables are expanded only in 2012-10-17 */
    size_t n_stmts;
    struct pol_stmt *stmts;
};

/*
 * Parses `json` (len bytes, need not be NUL-terminated) into a compiled
 * policy.  Only what evaluation needs is checked here; policy_validate adds
 * the stricter S3 rules.  Returns 0 and *policy_r, or
 * CAIRN_E_MALFORMED_POLICY with a reason in reason_r (when reason_cap > 0),
 * or CAIRN_E_NOMEM.
 */
int policy_compile(const char *json, size_t len, struct policy **policy_r, char *reason_r,
                   size_t reason_cap);

/* Frees a compiled policy; NULL is allowed. */
void policy_free(struct policy *p);

/*
 * Checks a document as PutBucketPolicy / CreatePolicy would: everything
 * policy_compile checks plus S3's rules (Effect, Action, Resource, Principal
 * for bucket policies only, known condition operators, well-formed values).
 * Returns 0, or CAIRN_E_MALFORMED_POLICY with a reason, or CAIRN_E_NOMEM.
 */
int policy_validate(const char *json, size_t len, int is_bucket_policy, char *reason_r,
                    size_t reason_cap);

/* The request an evaluation is about, plus the clock for aws:CurrentTime. */
struct pol_request {
    const struct cairn_policy_query *q;
    int64_t now_ms; /* used for aws:CurrentTime / aws:EpochTime when the context lacks them */
};

/* What one policy says about one request. */
struct pol_verdict {
    int denied;                     /* an explicit Deny applied */
    int allowed;                    /* an Allow applied (no Deny) */
    const struct pol_stmt *decider; /* the Deny, or the first Allow */
};

/*
 * Evaluates every statement of `p` against `r`.  `is_bucket_policy`
 * selects whether Principal / NotPrincipal is honoured (bucket policies) or
 * ignored (identity policies).  Stops at the first Deny.  Returns 0 or
 * CAIRN_E_NOMEM.
 */
int policy_eval(const struct policy *p, const struct pol_request *r, int is_bucket_policy,
                struct pol_verdict *v_r);

/* Writes a short description of a statement ("statement 'Sid'" or
 * "statement #3") to buf.  Returns buf. */
const char *policy_stmt_name(const struct pol_stmt *s, char *buf, size_t cap);

#endif
