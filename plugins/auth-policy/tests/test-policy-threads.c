/*
 * test-policy-threads.c -- the policy cache under concurrent use: threads
 * evaluate more distinct documents than the cache holds (so entries are
 * evicted while other threads use them) and every decision must be right.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fake-core.h"
#include "tap.h"

extern const struct cairn_plugin_descriptor cairn_plugin;

#define N_THREADS 6
#define N_DOCS 24
#define ROUNDS 400

static void *state;
static char docs[N_DOCS][256];

struct worker {
    int id;
    int wrong;
    int errors;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct cairn_identity who = { .access_key = "AK", .user = "u", .parent = "" };
    char resource[64];
    for (int r = 0; r < ROUNDS; r++) {
        int d = (r * 7 + w->id * 5) % N_DOCS, target = (r + w->id) % N_DOCS;
        const char *ids[] = { docs[d] };
        snprintf(resource, sizeof(resource), "arn:aws:s3:::bucket%d/key", target);
        struct cairn_policy_query q = { .who = &who, .action = "s3:GetObject",
                                        .resource = resource, .bucket_owner = "",
                                        .n_identity_policies = 1, .identity_policies = ids };
        int got = cairn_plugin.policy->evaluate(state, NULL, &q, NULL, 0);
        /* Document d allows bucket d and denies bucket d+1 explicitly. */
        int want = target == d ? CAIRN_ALLOW
                   : target == (d + 1) % N_DOCS ? CAIRN_DENY : CAIRN_NO_OPINION;
        if (got < 0)
            w->errors++;
        else if (got != want)
            w->wrong++;
    }
    return NULL;
}

int main(void)
{
    struct cairn_services svc = fake_services();
    const struct cairn_kv items[] = { { "cache_size", "5" }, { NULL, NULL } };
    struct cairn_config cfg = { items };
    is_int(cairn_plugin.init(&svc, &cfg, &state), 0, "init with a 5-entry cache");
    for (int i = 0; i < N_DOCS; i++)
        snprintf(docs[i], sizeof(docs[i]),
                 "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
                 "\"s3:Get*\",\"Resource\":\"arn:aws:s3:::bucket%d/*\"},{\"Effect\":\"Deny\","
                 "\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::bucket%d/*\"}]}",
                 i, (i + 1) % N_DOCS);
    pthread_t t[N_THREADS];
    struct worker w[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (struct worker){ .id = i };
        ok(pthread_create(&t[i], NULL, work, &w[i]) == 0, "start thread %d", i);
    }
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(t[i], NULL);
        is_int(w[i].errors, 0, "thread %d: no errors", i);
        is_int(w[i].wrong, 0, "thread %d: every decision right (%d evaluations)", i, ROUNDS);
    }
    /* And the same through a cache big enough for all: hits only after warm-up. */
    cairn_plugin.fini(state);
    is_int(cairn_plugin.init(&svc, NULL, &state), 0, "init with the default cache");
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (struct worker){ .id = i };
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    int wrong = 0;
    for (int i = 0; i < N_THREADS; i++) {
        pthread_join(t[i], NULL);
        wrong += w[i].wrong + w[i].errors;
    }
    is_int(wrong, 0, "large cache: every decision right");
    cairn_plugin.fini(state);
    return tap_done();
}
