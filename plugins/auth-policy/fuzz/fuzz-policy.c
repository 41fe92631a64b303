/*
 * fuzz-policy.c -- libFuzzer entry point for the policy engine: the input is
 * a policy document.  It is validated (bucket and identity rules), compiled,
 * and evaluated against a few fixed requests, directly and through the
 * cache.  Built with -fsanitize=fuzzer by fuzz/build-libfuzzer.sh, and as an
 * ordinary program by `make check` (fuzz-replay.c) to replay the corpus.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy-cache.h"
#include "policy-decide.h"
#include "policy-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct cairn_identity users[] = {
    { .access_key = "AKBOB", .user = "bob", .parent = "", .auth_type = CAIRN_AUTH_HEADER,
      .signature_version = 4 },
    { .access_key = "AKSVC", .user = "svc1", .parent = "alice", .auth_type = CAIRN_AUTH_QUERY,
      .signature_version = 4 },
    { .access_key = "", .user = "", .parent = "", .is_anonymous = 1 },
    { .access_key = "root", .user = "root", .parent = "", .is_root = 1 },
};

static const struct cairn_kv context[] = {
    { "aws:SourceIp", "192.0.2.10" },   { "aws:SecureTransport", "false" },
    { "s3:prefix", "home/bob/" },       { "s3:max-keys", "1000" },
    { "aws:CurrentTime", "2024-06-01T12:00:00Z" }, { "aws:TagKeys", "env" },
    { "aws:TagKeys", "team" },          { "aws:Referer", "http://www.example.com/x" },
    { "aws:SourceArn", "arn:aws:sns:us-east-1:123456789012:topic-a" },
    { "aws:SourceIp", "2001:db8::1" },
};

static const struct {
    const char *action, *resource;
} requests[] = {
    { "s3:GetObject", "arn:aws:s3:::home-bucket/home/bob/file" },
    { "s3:ListBucket", "arn:aws:s3:::home-bucket" },
    { "s3:ListAllMyBuckets", "*" },
    { "s3:PutObject", "arn:aws:s3:::b/${x}/*?" },
};

static struct policy_cache *cache;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    char reason[128];
    policy_validate(json, size, 1, reason, sizeof(reason));
    policy_validate(json, size, 0, reason, sizeof(reason));
    policy_validate(json, size, 0, reason, 1); /* a tiny reason buffer truncates safely */

    struct policy *p;
    if (policy_compile(json, size, &p, reason, sizeof(reason)) != 0)
        return 0;
    for (size_t u = 0; u < sizeof(users) / sizeof(users[0]); u++) {
        for (size_t r = 0; r < sizeof(requests) / sizeof(requests[0]); r++) {
            struct cairn_policy_query q = {
                .who = &users[u], .action = requests[r].action,
                .resource = requests[r].resource, .bucket_owner = "",
                .n_context = (u + r) % 2 ? sizeof(context) / sizeof(context[0]) : 0,
                .context = context,
            };
            struct pol_request pr = { .q = &q, .now_ms = 1717200000000LL };
            struct pol_verdict v;
            policy_eval(p, &pr, (int)(r % 2), &v);
        }
    }
    policy_free(p);

    /* The same document through the cache, as identity and bucket policy;
     * the query's documents must be NUL-terminated strings. */
    if (!cache)
        cache = policy_cache_new(8);
    if (!cache || memchr(json, '\0', size))
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, json, size);
    text[size] = '\0';
    const char *ids[] = { text };
    struct cairn_policy_query q = {
        .who = &users[0], .action = "s3:GetObject",
        .resource = "arn:aws:s3:::home-bucket/home/bob/file", .bucket_owner = "",
        .n_identity_policies = 1, .identity_policies = ids, .bucket_policy = text,
        .n_context = sizeof(context) / sizeof(context[0]), .context = context,
    };
    char explain[96];
    policy_decide(cache, &q, 1717200000000LL, explain, sizeof(explain));
    free(text);
    return 0;
}
