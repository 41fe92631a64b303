/*
 * fuzz-post-policy.c -- libFuzzer harness for browser POST policy documents
 * (post-policy.c): JSON parsing, expiration, conditions and the field
 * coverage check against a fixed form.  Input: the JSON document.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "post-policy.h"

/* The libFuzzer entry point (declared here: libFuzzer has no header). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new();
    char *copy = malloc(size ? size : 1); /* exact size: ASan sees overreads */
    if (!a || !copy) {
        arena_free(a);
        free(copy);
        return 0;
    }
    memcpy(copy, data, size);
    struct post_policy *p = NULL;
    const char *why = NULL;
    if (post_policy_parse(a, copy, size, &p, &why) == 0) {
        static const struct form_field fields[] = {
            {"key", "user/a.txt", 10},
            {"content-type", "image/png, image/gif", 20},
            {"success_action_status", "201", 3},
            {"x-amz-meta-a", "", 0},
            {"policy", "e30=", 4},
        };
        int64_t lo, hi;
        (void)post_policy_length_range(p, &lo, &hi);
        (void)post_policy_expiration_ms(p);
        for (int64_t now = 0; now < 2; now++)
            if (post_policy_check(p, a, fields, sizeof(fields) / sizeof(fields[0]), "bucket",
                                  "user/a.txt", now * 4102444800000LL, &why) < 0)
                (void)strlen(why);
    } else {
        (void)strlen(why);
    }
    arena_free(a);
    free(copy);
    return 0;
}
