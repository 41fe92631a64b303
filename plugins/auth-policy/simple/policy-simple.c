/*
 * policy-simple.c -- a deliberately simple policy plugin ("allow by bucket
 * prefix") that proves the policy ABI boundary: it shares no code with
 * auth-policy and knows nothing of the IAM policy language.
 *
 * Decision: an authenticated (non-anonymous) caller is allowed every action
 * on a bucket whose name starts with the configured prefix, and on the
 * objects in it; everything else gets no opinion (the core then denies).
 * Requests without a bucket (ListAllMyBuckets: resource "*") get no opinion.
 *
 * Configuration:
 *   prefix = "public-";   the bucket-name prefix (default "public-"; may not be empty)
 *
 * Policy documents are not interpreted: validate accepts any JSON object
 * text (it must start with '{') so that PutBucketPolicy keeps working.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/plugin.h"

struct simple_state {
    char *prefix;
};

static int simple_init(const struct cairn_services *svc, const struct cairn_config *cfg,
                       void **state_r)
{
    const char *prefix = "public-";
    if (svc && svc->config_string && cfg)
        prefix = svc->config_string(cfg, "prefix", "public-");
    if (!prefix || !*prefix) {
        if (svc && svc->log)
            svc->log(NULL, CAIRN_LOG_ERROR, "policy-simple: prefix must not be empty");
        return CAIRN_E_INVALID_ARGUMENT;
    }
    struct simple_state *st = calloc(1, sizeof(*st));
    if (!st || !(st->prefix = strdup(prefix))) {
        free(st);
        return CAIRN_E_NOMEM;
    }
    *state_r = st;
    return 0;
}

static void simple_fini(void *state)
{
    struct simple_state *st = state;
    if (st)
        free(st->prefix);
    free(st);
}

static int simple_validate(void *state, const char *json, size_t len, int is_bucket_policy,
                           char *reason_r, size_t reason_cap)
{
    size_t i = 0;
    while (json && i < len && (json[i] == ' ' || json[i] == '\n' || json[i] == '\t' ||
                               json[i] == '\r'))
        i++;
    if (json && i < len && json[i] == '{')
        return 0;
    if (reason_r && reason_cap)
        snprintf(reason_r, reason_cap, "Policies must be valid JSON and the first byte must be '{'");
    return CAIRN_E_MALFORMED_POLICY;
}

static int simple_evaluate(void *state, struct cairn_req *req, const struct cairn_policy_query *q,
                           char *explain_r, size_t explain_cap)
{
    struct simple_state *st = state;
    static const char arn[] = "arn:aws:s3:::";
    const char *why = "no opinion: not an authenticated request on a matching bucket";
    int decision = CAIRN_NO_OPINION;
    if (q && q->who && !q->who->is_anonymous && q->resource &&
        strncmp(q->resource, arn, sizeof(arn) - 1) == 0) {
        const char *bucket = q->resource + sizeof(arn) - 1;
        size_t blen = strcspn(bucket, "/"), plen = strlen(st->prefix);
        if (blen >= plen && strncmp(bucket, st->prefix, plen) == 0) {
            decision = CAIRN_ALLOW;
            why = "allowed: bucket name starts with the configured prefix";
        }
    }
    if (explain_r && explain_cap)
        snprintf(explain_r, explain_cap, "%s", why);
    return decision;
}

static const struct cairn_policy_ops simple_ops = {
    .size = sizeof(struct cairn_policy_ops),
    .validate = simple_validate,
    .evaluate = simple_evaluate,
};

CAIRN_PLUGIN_EXPORT const struct cairn_plugin_descriptor cairn_plugin = {
    .abi_major = CAIRN_ABI_MAJOR,
    .abi_minor = CAIRN_ABI_MINOR,
    .kind = CAIRN_PLUGIN_POLICY,
    .name = "policy-simple",
    .version = "0.1.0",
    .init = simple_init,
    .fini = simple_fini,
    .policy = &simple_ops,
};
