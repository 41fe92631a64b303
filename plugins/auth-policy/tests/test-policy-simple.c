/*
 * test-policy-simple.c -- the policy-simple plugin through its descriptor
 * and a fake core: allow-by-bucket-prefix for authenticated callers only.
 */
#include "fake-core.h"
#include "tap.h"

extern const struct cairn_plugin_descriptor cairn_plugin;

static int decide(void *st, const struct cairn_identity *who, const char *resource, char *why,
                  size_t cap)
{
    struct cairn_policy_query q = { .who = who, .action = "s3:GetObject", .resource = resource,
                                    .bucket_owner = "" };
    return cairn_plugin.policy->evaluate(st, NULL, &q, why, cap);
}

int main(void)
{
    struct cairn_services svc = fake_services();
    is_int(cairn_plugin.kind, CAIRN_PLUGIN_POLICY, "kind is policy");
    is_int(cairn_plugin.abi_major, CAIRN_ABI_MAJOR, "ABI major");
    is_str(cairn_plugin.name, "policy-simple", "name");
    ok(cairn_plugin.policy && cairn_plugin.policy->size >= sizeof(struct cairn_policy_ops),
       "ops table size");

    const struct cairn_kv items[] = { { "prefix", "team-" }, { NULL, NULL } };
    struct cairn_config cfg = { items };
    void *st = NULL;
    is_int(cairn_plugin.init(&svc, &cfg, &st), 0, "init with prefix team-");

    struct cairn_identity bob = { .access_key = "AKBOB", .user = "bob", .parent = "" };
    struct cairn_identity anon = { .access_key = "", .user = "", .parent = "", .is_anonymous = 1 };
    char why[128];
    is_int(decide(st, &bob, "arn:aws:s3:::team-a/key", why, sizeof(why)), CAIRN_ALLOW,
           "object in a prefixed bucket: allow");
    ok(strstr(why, "prefix") != NULL, "explanation names the prefix rule");
    is_int(decide(st, &bob, "arn:aws:s3:::team-a", NULL, 0), CAIRN_ALLOW, "the bucket itself: allow");
    is_int(decide(st, &bob, "arn:aws:s3:::team-", NULL, 0), CAIRN_ALLOW, "bucket equal to prefix");
    is_int(decide(st, &bob, "arn:aws:s3:::other/team-a", NULL, 0), CAIRN_NO_OPINION,
           "other bucket, prefixed key: no opinion");
    is_int(decide(st, &bob, "arn:aws:s3:::tea", NULL, 0), CAIRN_NO_OPINION, "shorter name");
    is_int(decide(st, &bob, "*", NULL, 0), CAIRN_NO_OPINION, "no resource: no opinion");
    is_int(decide(st, &anon, "arn:aws:s3:::team-a/key", NULL, 0), CAIRN_NO_OPINION,
           "anonymous: no opinion");
    is_int(decide(st, NULL, "arn:aws:s3:::team-a/key", NULL, 0), CAIRN_NO_OPINION,
           "no identity: no opinion");
    char reason[128];
    is_int(cairn_plugin.policy->validate(st, " {\"x\":1}", 8, 1, reason, sizeof(reason)), 0,
           "validate accepts a JSON object");
    is_int(cairn_plugin.policy->validate(st, "nope", 4, 1, reason, sizeof(reason)),
           CAIRN_E_MALFORMED_POLICY, "validate rejects non-JSON");
    cairn_plugin.fini(st);

    /* Default prefix, and an empty one refused. */
    is_int(cairn_plugin.init(&svc, NULL, &st), 0, "init with defaults");
    is_int(decide(st, &bob, "arn:aws:s3:::public-x/k", NULL, 0), CAIRN_ALLOW, "default prefix public-");
    cairn_plugin.fini(st);
    const struct cairn_kv empty[] = { { "prefix", "" }, { NULL, NULL } };
    struct cairn_config ecfg = { empty };
    ok(cairn_plugin.init(&svc, &ecfg, &st) < 0, "empty prefix refused");
    return tap_done();
}
