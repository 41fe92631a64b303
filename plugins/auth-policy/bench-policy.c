/*
 * bench-policy.c -- decisions per second for a 100-statement identity policy
 * plus a bucket policy, through the same path the plugin's evaluate takes
 * (cache lookup by hash of the text, then evaluation).
 *
 *   ./bench-policy [seconds [threads]]   (defaults: 2 seconds, 1 thread)
 *
 * With several threads every thread shares one cache, as the plugin's
 * worker threads do; the total rate is printed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "glob.h"
#include "policy-cache.h"
#include "policy-decide.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 100 statements of the kinds real policies hold; none but the last two
 * match the benchmark's request, so every statement is examined. */
static char *make_policy(void)
{
    struct sbuf b;
    sbuf_init(&b);
    char s[512];
    sbuf_add(&b, "{\"Version\":\"2012-10-17\",\"Statement\":[", 37);
    for (int i = 0; i < 98; i++) {
        switch (i % 4) {
        case 0:
            snprintf(s, sizeof(s),
                     "{\"Sid\":\"S%d\",\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:PutObject\"],"
                     "\"Resource\":\"arn:aws:s3:::bucket-%d/*\"},", i, i);
            break;
        case 1:
            snprintf(s, sizeof(s),
                     "{\"Sid\":\"S%d\",\"Effect\":\"Allow\",\"Action\":\"s3:List*\","
                     "\"Resource\":\"arn:aws:s3:::bucket-%d\",\"Condition\":{\"StringLike\":"
                     "{\"s3:prefix\":[\"home/${aws:username}/*\",\"shared/%d/*\"]}}},", i, i, i);
            break;
        case 2:
            snprintf(s, sizeof(s),
                     "{\"Sid\":\"S%d\",\"Effect\":\"Deny\",\"Action\":\"s3:Delete*\","
                     "\"Resource\":\"arn:aws:s3:::bucket-%d/locked/*\",\"Condition\":{\"IpAddress\":"
                     "{\"aws:SourceIp\":[\"10.%d.0.0/16\",\"2001:db8:%x::/48\"]}}},", i, i, i, i);
            break;
        default:
            snprintf(s, sizeof(s),
                     "{\"Sid\":\"S%d\",\"Effect\":\"Allow\",\"NotAction\":\"s3:*Bucket*\","
                     "\"Resource\":\"arn:aws:s3:::bucket-%d/home/${aws:username}/*\","
                     "\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"true\"},"
                     "\"DateLessThan\":{\"aws:CurrentTime\":\"2030-01-01T00:00:00Z\"}}},", i, i);
        }
        sbuf_add(&b, s, strlen(s));
    }
    snprintf(s, sizeof(s),
             "{\"Sid\":\"Home\",\"Effect\":\"Allow\",\"Action\":\"s3:*\","
             "\"Resource\":\"arn:aws:s3:::data/home/${aws:username}/*\"},"
             "{\"Sid\":\"NoHttp\",\"Effect\":\"Deny\",\"Action\":\"s3:*\",\"Resource\":\"*\","
             "\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}");
    sbuf_add(&b, s, strlen(s));
    char *out = strdup(b.p);
    sbuf_release(&b);
    return out;
}

struct bench {
    struct policy_cache *cache;
    const struct cairn_policy_query *q;
    double secs;
    long n;
    double t;
};

static void *run(void *arg)
{
    struct bench *b = arg;
    double t0 = now_s();
    do {
        for (int i = 0; i < 1000; i++)
            policy_decide(b->cache, b->q, 0, NULL, 0);
        b->n += 1000;
        b->t = now_s() - t0;
    } while (b->t < b->secs);
    return NULL;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 2.0;
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    if (threads < 1 || threads > 256)
        threads = 1;
    char *doc = make_policy();
    const char *bucket_policy =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Anon\",\"Effect\":\"Allow\","
        "\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::data/public/*\"}]}";
    struct policy_cache *cache = policy_cache_new(1024);
    struct cairn_identity who = { .access_key = "AKBOB", .user = "bob", .parent = "" };
    struct cairn_kv ctx[] = { { "aws:SourceIp", "192.0.2.10" }, { "aws:SecureTransport", "true" },
                              { "aws:CurrentTime", "2024-06-01T12:00:00Z" } };
    const char *ids[] = { doc };
    struct cairn_policy_query q = {
        .who = &who, .action = "s3:GetObject", .resource = "arn:aws:s3:::data/home/bob/report.csv",
        .bucket_owner = "", .n_identity_policies = 1, .identity_policies = ids,
        .bucket_policy = bucket_policy, .n_context = 3, .context = ctx,
    };
    char explain[256];
    int d = policy_decide(cache, &q, 0, explain, sizeof(explain));
    printf("policy: %zu bytes, 100 statements; decision %d (%s)\n", strlen(doc), d, explain);
    if (d != CAIRN_ALLOW) {
        fprintf(stderr, "unexpected decision\n");
        return 1;
    }
    struct bench b[256];
    pthread_t t[256];
    for (int i = 0; i < threads; i++) {
        b[i] = (struct bench){ .cache = cache, .q = &q, .secs = secs };
        pthread_create(&t[i], NULL, run, &b[i]);
    }
    long n = 0;
    double rate = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        n += b[i].n;
        rate += b[i].n / b[i].t;
    }
    printf("%d thread(s): %ld decisions, %.0f decisions/s in total, %.2f us/decision per thread\n",
           threads, n, rate, threads / rate * 1e6);
    policy_cache_free(cache);
    free(doc);
    return 0;
}
