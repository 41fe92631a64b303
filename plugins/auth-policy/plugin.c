/*
 * plugin.c -- the auth-policy plugin's descriptor: AWS IAM semantics for
 * identity and bucket policies.
 *
 * Configuration (all optional):
 *   cache_size = 1024;   compiled documents kept (least recently used go first)
 */
#include <stdlib.h>
#include <time.h>

#include "cairn/plugin.h"
#include "policy-cache.h"
#include "policy-decide.h"
#include "policy-internal.h"

struct policy_plugin {
    const struct cairn_services *svc;
    struct policy_cache *cache;
};

static int plugin_init(const struct cairn_services *svc, const struct cairn_config *cfg,
                       void **state_r)
{
    int64_t size = 1024;
    if (svc && svc->config_int && cfg)
        size = svc->config_int(cfg, "cache_size", 1024);
    if (size < 1 || size > 1000000) {
        if (svc && svc->log)
            svc->log(NULL, CAIRN_LOG_ERROR, "auth-policy: cache_size must be 1..1000000, not %lld",
                     (long long)size);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    struct policy_plugin *pp = calloc(1, sizeof(*pp));
    if (!pp || !(pp->cache = policy_cache_new((size_t)size))) {
        free(pp);
        return CAIRN_E_NOMEM;
    }
    pp->svc = svc;
    *state_r = pp;
    return 0;
}

static void plugin_fini(void *state)
{
    struct policy_plugin *pp = state;
    if (!pp)
        return;
    policy_cache_free(pp->cache);
    free(pp);
}

static int plugin_validate(void *state, const char *json, size_t len, int is_bucket_policy,
                           char *reason_r, size_t reason_cap)
{
    if (!json)
        return CAIRN_E_MALFORMED_POLICY;
    return policy_validate(json, len, is_bucket_policy, reason_r, reason_cap);
}

static int64_t wall_ms(const struct policy_plugin *pp)
{
    if (pp->svc && pp->svc->now_ms)
        return pp->svc->now_ms();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int plugin_evaluate(void *state, struct cairn_req *req, const struct cairn_policy_query *q,
                           char *explain_r, size_t explain_cap)
{
    struct policy_plugin *pp = state;
    if (!pp || !q)
        return CAIRN_E_INTERNAL;
    return policy_decide(pp->cache, q, wall_ms(pp), explain_r, explain_cap);
}

static const struct cairn_policy_ops policy_ops = {
    .size = sizeof(struct cairn_policy_ops),
    .validate = plugin_validate,
    .evaluate = plugin_evaluate,
};

CAIRN_PLUGIN_EXPORT const struct cairn_plugin_descriptor cairn_plugin = {
    .abi_major = CAIRN_ABI_MAJOR,
    .abi_minor = CAIRN_ABI_MINOR,
    .kind = CAIRN_PLUGIN_POLICY,
    .name = "auth-policy",
    .version = "0.1.0",
    .init = plugin_init,
    .fini = plugin_fini,
    .policy = &policy_ops,
};
