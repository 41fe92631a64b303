/*
 * test-s3-placement.c -- placement rules, backend lookup by name and the
 * thread-safe bucket -> backend cache.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "s3-placement.h"
#include "tap.h"

static void test_match(void)
{
    const struct s3_placement_rule rules[] = {
        {"rep-", "replica"},
        {"rep-ec-", "ec2"}, /* shadowed: first match wins */
        {"logs", "cold"},
    };
    size_t n = sizeof(rules) / sizeof(rules[0]);
    is_str(s3_placement_match(rules, n, "rep-a"), "replica", "prefix rule matches");
    is_str(s3_placement_match(rules, n, "rep-ec-x"), "replica", "first matching rule wins");
    is_str(s3_placement_match(rules, n, "logs"), "cold", "prefix equal to the whole name");
    is_str(s3_placement_match(rules, n, "logs-2026"), "cold", "longer name");
    ok(s3_placement_match(rules, n, "rep") == NULL, "shorter than the prefix: no match");
    ok(s3_placement_match(rules, n, "data") == NULL, "no rule: default");
    ok(s3_placement_match(rules, n, "Rep-a") == NULL, "prefixes are case-sensitive");
    ok(s3_placement_match(rules, n, ".cairn-iam") == NULL, "reserved bucket stays on default");
    ok(s3_placement_match(rules, n, "") == NULL, "empty name: default");
    ok(s3_placement_match(rules, n, NULL) == NULL, "NULL name: default");
    ok(s3_placement_match(NULL, 0, "rep-a") == NULL, "no rules: default");

    const struct s3_placement_rule all[] = {{"", "replica"}};
    is_str(s3_placement_match(all, 1, "anything"), "replica", "empty prefix matches all");
    ok(s3_placement_match(all, 1, ".sys") == NULL, "empty prefix still skips reserved");
    const struct s3_placement_rule broken[] = {{"x", NULL}, {NULL, "b"}};
    is_str(s3_placement_match(broken, 2, "xy"), "b", "rule without backend is skipped; NULL prefix is \"\"");
}

static void test_find(void)
{
    struct loaded_plugin a = {.instance_name = "default"};
    struct loaded_plugin b = {.instance_name = "replica"};
    const struct loaded_plugin *list[] = {&a, &b};
    ok(s3_placement_find(list, 2, "replica") == &b, "find by instance name");
    ok(s3_placement_find(list, 2, "default") == &a, "find the default");
    ok(s3_placement_find(list, 2, "Replica") == NULL, "names are case-sensitive");
    ok(s3_placement_find(list, 2, "nope") == NULL, "unknown name");
    ok(s3_placement_find(list, 2, NULL) == NULL, "NULL name");
    ok(s3_placement_find(NULL, 0, "replica") == NULL, "empty list");
}

static void test_cache(void)
{
    ok(s3_placement_cache_new(0) == NULL, "capacity 0 is refused");
    struct s3_placement_cache *c = s3_placement_cache_new(3);
    ok(c != NULL, "cache made");
    size_t idx = 99;
    is_int(s3_placement_cache_get(c, "a", &idx), 0, "miss on an empty cache");
    is_int(idx, 99, "miss leaves the index alone");
    is_int(s3_placement_cache_put(c, "a", 1), 0, "put a");
    is_int(s3_placement_cache_put(c, "b", 0), 0, "put b");
    is_int(s3_placement_cache_get(c, "a", &idx), 1, "hit a");
    is_int(idx, 1, "a -> 1");
    is_int(s3_placement_cache_get(c, "b", &idx), 1, "hit b");
    is_int(idx, 0, "b -> 0");
    is_int(s3_placement_cache_put(c, "a", 2), 0, "overwrite a");
    is_int(s3_placement_cache_size(c), 2, "overwrite does not grow");
    s3_placement_cache_get(c, "a", &idx);
    is_int(idx, 2, "a -> 2 after overwrite");
    s3_placement_cache_forget(c, "a");
    is_int(s3_placement_cache_get(c, "a", &idx), 0, "forgotten");
    s3_placement_cache_forget(c, "never-there");
    is_int(s3_placement_cache_size(c), 1, "forget of an absent name is harmless");
    s3_placement_cache_put(c, "c", 1);
    s3_placement_cache_put(c, "d", 1);
    is_int(s3_placement_cache_size(c), 3, "full");
    s3_placement_cache_put(c, "e", 1);
    ok(s3_placement_cache_size(c) <= 3, "bounded: a put on a full cache empties it first");
    is_int(s3_placement_cache_get(c, "e", &idx), 1, "the new entry is there");
    is_int(s3_placement_cache_put(c, NULL, 1), CAIRN_E_INVALID_ARGUMENT, "NULL bucket refused");
    is_int(s3_placement_cache_get(NULL, "e", &idx), 0, "NULL cache misses");
    s3_placement_cache_forget(NULL, "e");
    s3_placement_cache_free(c);
    s3_placement_cache_free(NULL);
    ok(1, "free (and free of NULL)");
}

struct worker {
    struct s3_placement_cache *c;
    int id;
    int bad;
};

/* Each thread owns its names (the value is the thread id) and reads others'. */
static void *hammer(void *arg)
{
    struct worker *w = arg;
    char name[32];
    for (int round = 0; round < 2000; round++) {
        snprintf(name, sizeof(name), "t%d-b%d", w->id, round % 50);
        if (s3_placement_cache_put(w->c, name, (size_t)w->id) < 0)
            w->bad++;
        size_t idx;
        if (s3_placement_cache_get(w->c, name, &idx) && idx != (size_t)w->id)
            w->bad++;
        if (round % 7 == 0)
            s3_placement_cache_forget(w->c, name);
        snprintf(name, sizeof(name), "t%d-b%d", (w->id + 1) % 4, round % 50);
        if (s3_placement_cache_get(w->c, name, &idx) && idx != (size_t)((w->id + 1) % 4))
            w->bad++;
    }
    return NULL;
}

static void test_threads(void)
{
    struct s3_placement_cache *c = s3_placement_cache_new(64); /* small: evictions too */
    pthread_t t[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){c, i, 0};
        pthread_create(&t[i], NULL, hammer, &w[i]);
    }
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        bad += w[i].bad;
    }
    is_int(bad, 0, "4 threads: every hit returns the value its owner put");
    ok(s3_placement_cache_size(c) <= 64, "stays within capacity under contention");
    s3_placement_cache_free(c);
}

int main(void)
{
    test_match();
    test_find();
    test_cache();
    test_threads();
    return tap_done();
}
