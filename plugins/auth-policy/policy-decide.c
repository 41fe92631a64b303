/* policy-decide.c -- combining identity and bucket policies into a decision. */
#include "policy-decide.h"

#include <stdio.h>
#include <string.h>

static void explain(char *buf, size_t cap, const char *fmt, const char *what,
                    const struct pol_stmt *s)
{
    char name[160];
    if (buf && cap)
        snprintf(buf, cap, fmt, what, policy_stmt_name(s, name, sizeof(name)));
}

/* Evaluates one document; on a Deny fills the explanation and returns 1. */
static int judge(struct policy_cache *cache, const char *json, const struct pol_request *r,
                 int is_bucket, const char *what, int *allowed, char *allow_expl,
                 size_t allow_cap, char *explain_r, size_t explain_cap)
{
    const struct policy *p;
    struct policy_cache_entry *e;
    char reason[256];
    int rc = policy_cache_get(cache, json, strlen(json), &p, &e, reason, sizeof(reason));
    if (rc == CAIRN_E_MALFORMED_POLICY) {
        if (explain_r && explain_cap)
            snprintf(explain_r, explain_cap, "%s is not a valid policy: %s", what, reason);
        return CAIRN_E_INTERNAL;
    }
    if (rc < 0)
        return rc;
    struct pol_verdict v;
    rc = policy_eval(p, r, is_bucket, &v);
    if (rc == 0 && v.denied) {
        explain(explain_r, explain_cap, "explicit Deny by %s, %s", what, v.decider);
        rc = 1;
    } else if (rc == 0 && v.allowed && !*allowed) {
        *allowed = 1;
        explain(allow_expl, allow_cap, "Allow by %s, %s", what, v.decider);
    }
    policy_cache_release(cache, e);
    return rc;
}

int policy_decide(struct policy_cache *cache, const struct cairn_policy_query *q, int64_t now_ms,
                  char *explain_r, size_t explain_cap)
{
    struct pol_request r = { .q = q, .now_ms = now_ms };
    int anonymous = !q->who || q->who->is_anonymous;
    int allowed = 0, rc;
    char allow_expl[256] = "";
    /* Explanations are formatted only for a caller that wants one. */
    size_t allow_cap = explain_r && explain_cap ? sizeof(allow_expl) : 0;
    char what[64];

    if (!anonymous && q->identity_policies) {
        for (size_t i = 0; i < q->n_identity_policies; i++) {
            if (!q->identity_policies[i])
                continue;
            if (allow_cap)
                snprintf(what, sizeof(what), "identity policy %zu", i + 1);
            else
                what[0] = '\0';
            rc = judge(cache, q->identity_policies[i], &r, 0, what, &allowed, allow_expl,
                       allow_cap, explain_r, explain_cap);
            if (rc < 0)
                return rc;
            if (rc == 1)
                return CAIRN_DENY;
        }
    }
    if (q->bucket_policy && *q->bucket_policy) {
        rc = judge(cache, q->bucket_policy, &r, 1, "bucket policy", &allowed, allow_expl,
                   allow_cap, explain_r, explain_cap);
        if (rc < 0)
            return rc;
        if (rc == 1)
            return CAIRN_DENY;
    }
    if (allowed) {
        if (explain_r && explain_cap)
            snprintf(explain_r, explain_cap, "%s", allow_expl);
        return CAIRN_ALLOW;
    }
    if (explain_r && explain_cap)
        snprintf(explain_r, explain_cap, "no statement matched (implicit deny)");
    return CAIRN_NO_OPINION;
}
