/*
 * fuzz-router.c -- libFuzzer harness for the S3 router's pure parsing
 * (s3-router.c): percent decoding, target splitting into bucket/key (path and
 * virtual-host style), query parsing, routing and the bucket-name rules.
 * Input: "METHOD\nPATH\nQUERY\nHOST\nDOMAIN" (later fields may be absent).
 */
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "s3-router.h"
#include "fuzz-fields.h"

/* The libFuzzer entry point (declared here: libFuzzer has no header). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_fields ff;
    if (fuzz_split(data, size, 5, &ff) < 0)
        return 0;
    const char *method = ff.f[0];
    const char *path = ff.n > 1 ? ff.f[1] : "/";
    const char *query = ff.n > 2 ? ff.f[2] : "";
    const char *host = ff.n > 3 ? ff.f[3] : NULL;
    const char *domain = ff.n > 4 && ff.f[4][0] ? ff.f[4] : NULL;

    struct arena *a = arena_new();
    if (!a) {
        fuzz_fields_free(&ff);
        return 0;
    }
    char *dec;
    if (s3_percent_decode(a, path, strlen(path), 0, &dec) == 0)
        (void)strlen(dec);
    if (s3_percent_decode(a, query, strlen(query), 1, &dec) == 0)
        (void)strlen(dec);

    char *bucket = NULL, *key = NULL;
    int trc = s3_parse_target(a, path, host, domain, &bucket, &key);
    struct s3_param *params = NULL;
    size_t n = 0;
    int qrc = s3_parse_query(a, query, &params, &n);
    if (qrc == 0) {
        for (size_t i = 0; i < n; i++)
            (void)s3_params_get(params, n, params[i].name);
        (void)s3_params_get(params, n, "uploadId");
    }
    if (trc == 0) {
        (void)s3_bucket_name_valid(bucket);
        const char *sub = NULL;
        enum s3_op op = s3_route(method, bucket, key, qrc == 0 ? params : NULL,
                                 qrc == 0 ? n : 0, size & 1, &sub);
        (void)strlen(s3_op_name(op));
        (void)s3_op_action(op);
        if (sub)
            (void)strlen(sub);
    }
    (void)s3_bucket_name_valid(method);
    (void)s3_is_health_path(path);

    arena_free(a);
    fuzz_fields_free(&ff);
    return 0;
}
