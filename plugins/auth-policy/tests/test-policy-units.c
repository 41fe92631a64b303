/*
 * test-policy-units.c -- unit tests of the pieces under the policy engine:
 * wildcard matching, typed values, the cache, the descriptor and explanations.
 */
#include <stdlib.h>
#include <string.h>

#include "fake-core.h"
#include "glob.h"
#include "policy-cache.h"
#include "policy-decide.h"
#include "policy-internal.h"
#include "policy-values.h"
#include "tap.h"

extern const struct cairn_plugin_descriptor cairn_plugin;

static void test_glob(void)
{
    ok(glob_match("*", "", 0), "* matches empty");
    ok(glob_match("a*c", "abbbc", 0), "a*c");
    ok(!glob_match("a*c", "abbb", 0), "a*c needs c");
    ok(glob_match("a?c", "abc", 0), "? one char");
    ok(!glob_match("a?c", "ac", 0), "? not zero chars");
    ok(glob_match("a?c", "a\xc3\xa9" "c", 0), "? is one UTF-8 character");
    ok(glob_match("*b*b*", "abxbx", 0), "backtracking over two stars");
    ok(!glob_match("ABC", "abc", 0), "case-sensitive by default");
    ok(glob_match("ABC", "abc", 1), "icase");
    ok(glob_match("a\\*c", "a*c", 0), "escaped star is literal");
    ok(!glob_match("a\\*c", "abc", 0), "escaped star is not a wildcard");
    ok(glob_match("a\\\\c", "a\\c", 0), "escaped backslash");
    char *g = glob_from_raw("x\\y*");
    ok(g && glob_match(g, "x\\yzz", 0), "glob_from_raw keeps backslash literal");
    free(g);
    struct sbuf b;
    sbuf_init(&b);
    for (int i = 0; i < 200; i++)
        glob_add_literal(&b, "*?", 2);
    ok(!b.failed && b.len == 800, "sbuf grows past its inline store");
    sbuf_release(&b);
}

static void test_values(void)
{
    int64_t ms;
    ok(pv_parse_date("2024-01-31T12:00:00Z", &ms) == 0 && ms == 1706702400000LL, "ISO date");
    ok(pv_parse_date("2024-01-31", &ms) == 0 && ms == 1706659200000LL, "date only");
    ok(pv_parse_date("2024-01-31T14:00:00+02:00", &ms) == 0 && ms == 1706702400000LL, "offset");
    ok(pv_parse_date("2024-01-31T12:00:00.250Z", &ms) == 0 && ms == 1706702400250LL, "fraction");
    ok(pv_parse_date("1706702400", &ms) == 0 && ms == 1706702400000LL, "epoch");
    ok(pv_parse_date("2023-02-29", &ms) < 0, "no Feb 29 in 2023");
    ok(pv_parse_date("2024-02-29", &ms) == 0, "Feb 29 in 2024");
    ok(pv_parse_date("2024-13-01", &ms) < 0, "month 13");
    ok(pv_parse_date("yesterday", &ms) < 0, "words");
    ok(pv_parse_date("", &ms) < 0, "empty date");
    char buf[40];
    pv_format_date(1706702400000LL, buf, sizeof(buf));
    is_str(buf, "2024-01-31T12:00:00Z", "format date");
    double d;
    ok(pv_parse_number("-1.5e2", &d) == 0 && d == -150, "number");
    ok(pv_parse_number("0x10", &d) < 0, "no hex");
    ok(pv_parse_number("nan", &d) < 0, "no nan");
    ok(pv_parse_number("", &d) < 0, "no empty number");
    struct pol_cidr net, a;
    ok(pv_parse_cidr("10.1.0.0/16", &net) == 0 && pv_parse_cidr("10.1.200.3", &a) == 0 &&
           pv_cidr_contains(&net, &a), "IPv4 CIDR contains");
    ok(pv_parse_cidr("10.2.0.1", &a) == 0 && !pv_cidr_contains(&net, &a), "IPv4 outside");
    ok(pv_parse_cidr("::ffff:10.1.2.3", &a) == 0 && a.family == 4 && pv_cidr_contains(&net, &a),
       "IPv4-mapped IPv6 is IPv4");
    ok(pv_parse_cidr("2001:db8::/32", &net) == 0 && pv_parse_cidr("2001:db8:1::5", &a) == 0 &&
           pv_cidr_contains(&net, &a), "IPv6 CIDR");
    ok(pv_parse_cidr("10.0.0.0/33", &net) < 0, "prefix too long");
    ok(pv_parse_cidr("10.0.0.0/", &net) < 0, "empty prefix");
    ok(pv_parse_cidr("300.0.0.1", &net) < 0, "bad octet");
    ok(pv_parse_cidr("0.0.0.0/0", &net) == 0 && pv_parse_cidr("8.8.8.8", &a) == 0 &&
           pv_cidr_contains(&net, &a), "/0 contains all");
}

static const char *allow_doc(int i, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\","
             "\"Resource\":\"arn:aws:s3:::b%d/*\"}}", i);
    return buf;
}

static void test_cache(void)
{
    struct policy_cache *c = policy_cache_new(3);
    char buf[256];
    const struct policy *p[5];
    struct policy_cache_entry *e[5];
    for (int i = 0; i < 5; i++) {
        allow_doc(i, buf, sizeof(buf));
        ok(policy_cache_get(c, buf, strlen(buf), &p[i], &e[i], NULL, 0) == 0, "compile %d", i);
    }
    struct policy_cache_stats st;
    policy_cache_stats(c, &st);
    is_int(st.entries, 3, "cache holds at most 3");
    is_int(st.evictions, 2, "two evicted");
    ok(p[0]->n_stmts == 1 && p[0]->stmts[0].allow, "evicted entry still usable while held");
    for (int i = 0; i < 5; i++)
        policy_cache_release(c, e[i]);
    allow_doc(4, buf, sizeof(buf));
    const struct policy *again;
    struct policy_cache_entry *ea;
    policy_cache_get(c, buf, strlen(buf), &again, &ea, NULL, 0);
    policy_cache_stats(c, &st);
    is_int(st.hits, 1, "same text is a hit");
    ok(again == p[4], "same compiled object");
    policy_cache_release(c, ea);
    char reason[64] = "";
    ok(policy_cache_get(c, "{", 1, &again, &ea, reason, sizeof(reason)) == CAIRN_E_MALFORMED_POLICY &&
           reason[0], "bad text: error with reason");
    policy_cache_free(c);
}

static void test_descriptor(void)
{
    struct cairn_services svc = fake_services();
    is_int(cairn_plugin.kind, CAIRN_PLUGIN_POLICY, "descriptor kind");
    is_str(cairn_plugin.name, "auth-policy", "descriptor name");
    ok(cairn_plugin.policy->size == sizeof(struct cairn_policy_ops), "ops size");
    const struct cairn_kv bad[] = { { "cache_size", "0" }, { NULL, NULL } };
    struct cairn_config cfg = { bad };
    void *st = NULL;
    ok(cairn_plugin.init(&svc, &cfg, &st) < 0, "cache_size 0 refused");
    is_int(cairn_plugin.init(&svc, NULL, &st), 0, "init");

    /* Explanations. */
    const char *deny_doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                           "\"Action\":\"s3:*\",\"Resource\":\"*\"},{\"Sid\":\"NoDelete\","
                           "\"Effect\":\"Deny\",\"Action\":\"s3:DeleteObject\",\"Resource\":\"*\"}]}";
    const char *ids[] = { deny_doc };
    struct cairn_identity bob = { .access_key = "AKBOB", .user = "bob", .parent = "" };
    struct cairn_policy_query q = { .who = &bob, .action = "s3:DeleteObject",
                                    .resource = "arn:aws:s3:::b/k", .bucket_owner = "",
                                    .n_identity_policies = 1, .identity_policies = ids };
    char ex[256];
    is_int(cairn_plugin.policy->evaluate(st, NULL, &q, ex, sizeof(ex)), CAIRN_DENY, "deny");
    is_str(ex, "explicit Deny by identity policy 1, statement 'NoDelete'", "deny explanation");
    q.action = "s3:GetObject";
    is_int(cairn_plugin.policy->evaluate(st, NULL, &q, ex, sizeof(ex)), CAIRN_ALLOW, "allow");
    is_str(ex, "Allow by identity policy 1, statement #1", "allow explanation uses index");
    q.n_identity_policies = 0;
    is_int(cairn_plugin.policy->evaluate(st, NULL, &q, ex, sizeof(ex)), CAIRN_NO_OPINION, "none");
    is_str(ex, "no statement matched (implicit deny)", "none explanation");
    is_int(cairn_plugin.policy->evaluate(st, NULL, &q, ex, 1), CAIRN_NO_OPINION, "tiny buffer");
    is_str(ex, "", "tiny buffer truncated to empty");
    is_int(cairn_plugin.policy->evaluate(st, NULL, &q, NULL, 0), CAIRN_NO_OPINION, "NULL buffer");

    /* A stored document that does not parse is an internal error, never an allow. */
    const char *broken[] = { "{\"Statement\":" };
    q.identity_policies = broken;
    q.n_identity_policies = 1;
    is_int(cairn_plugin.policy->evaluate(st, NULL, &q, ex, sizeof(ex)), CAIRN_E_INTERNAL,
           "broken stored policy: internal error");
    ok(strstr(ex, "not a valid policy") != NULL, "and says why");

    /* A large context (more keys than the on-stack scratch). */
    struct cairn_kv ctx[100];
    for (int i = 0; i < 100; i++)
        ctx[i] = (struct cairn_kv){ "aws:TagKeys", i == 99 ? "needle" : "hay" };
    const char *any_doc = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                          "\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":{"
                          "\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":\"needle\"}}}}";
    const char *ids2[] = { any_doc };
    q.identity_policies = ids2;
    q.n_context = 100;
    q.context = ctx;
    is_int(cairn_plugin.policy->evaluate(st, NULL, &q, NULL, 0), CAIRN_ALLOW,
           "100 context values, last one matches");

    /* The clock: aws:CurrentTime comes from services->now_ms when absent. */
    const char *date_doc = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
                           "\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":{"
                           "\"DateLessThan\":{\"aws:CurrentTime\":\"2025-01-01T00:00:00Z\"}}}}";
    const char *ids3[] = { date_doc };
    q.identity_policies = ids3;
    q.n_context = 0;
    fake_now_ms_value = 1717200000000LL;
    is_int(cairn_plugin.policy->evaluate(st, NULL, &q, NULL, 0), CAIRN_ALLOW, "clock before");
    fake_now_ms_value = 1767225600000LL; /* 2026-01-01 */
    is_int(cairn_plugin.policy->evaluate(st, NULL, &q, NULL, 0), CAIRN_NO_OPINION, "clock after");

    char reason[8];
    is_int(cairn_plugin.policy->validate(st, "[]", 2, 0, reason, sizeof(reason)),
           CAIRN_E_MALFORMED_POLICY, "validate: small reason buffer");
    is_int(strlen(reason), 7, "reason truncated to its buffer");
    is_int(cairn_plugin.policy->validate(st, NULL, 0, 0, NULL, 0), CAIRN_E_MALFORMED_POLICY,
           "validate NULL");
    cairn_plugin.fini(st);
}

int main(void)
{
    test_glob();
    test_values();
    test_cache();
    test_descriptor();
    return tap_done();
}
