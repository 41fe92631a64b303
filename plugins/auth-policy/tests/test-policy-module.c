/*
 * test-policy-module.c -- the built modules as the core loads them: dlopen
 * .libs/auth-policy.so and .libs/policy-simple.so, check that each exports
 * `cairn_plugin` and nothing of its internals, and take one decision through
 * each with a fake core.
 */
#include <dlfcn.h>

#include "fake-core.h"
#include "tap.h"

static void check_module(const char *path, const char *name, const char *internal,
                         const char *resource, int want)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ok(h != NULL, "dlopen %s%s%s", path, h ? "" : ": ", h ? "" : dlerror());
    if (!h)
        return;
    const struct cairn_plugin_descriptor *d = dlsym(h, CAIRN_PLUGIN_SYMBOL);
    ok(d != NULL, "%s exports %s", name, CAIRN_PLUGIN_SYMBOL);
    ok(dlsym(h, internal) == NULL, "%s hides %s", name, internal);
    if (d) {
        is_int(d->abi_major, CAIRN_ABI_MAJOR, "%s ABI major", name);
        ok(d->abi_minor <= CAIRN_ABI_MINOR, "%s ABI minor not newer", name);
        is_int(d->kind, CAIRN_PLUGIN_POLICY, "%s kind", name);
        is_str(d->name, name, "%s name", name);
        struct cairn_services svc = fake_services();
        void *st = NULL;
        is_int(d->init(&svc, NULL, &st), 0, "%s init", name);
        const char *doc = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                          "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::docs/*\"}}";
        const char *ids[] = { doc };
        struct cairn_identity bob = { .access_key = "AKBOB", .user = "bob", .parent = "" };
        struct cairn_policy_query q = { .who = &bob, .action = "s3:GetObject",
                                        .resource = resource, .bucket_owner = "",
                                        .n_identity_policies = 1, .identity_policies = ids };
        char why[128];
        is_int(d->policy->evaluate(st, NULL, &q, why, sizeof(why)), want, "%s decides (%s)", name,
               why);
        d->fini(st);
    }
    dlclose(h);
}

int main(void)
{
    check_module("./.libs/auth-policy.so", "auth-policy", "policy_decide",
                 "arn:aws:s3:::docs/readme", CAIRN_ALLOW);
    check_module("./.libs/policy-simple.so", "policy-simple", "simple_evaluate",
                 "arn:aws:s3:::public-docs/readme", CAIRN_ALLOW);
    return tap_done();
}
