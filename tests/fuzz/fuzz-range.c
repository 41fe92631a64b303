/*
 * fuzz-range.c -- libFuzzer harness for GetObject's Range and conditional
 * rules (s3-object.c): s3_parse_range, s3_parse_http_date, s3_etag_matches,
 * s3_check_conditions.  Input: "RANGE\nSIZE\nIF-MATCH\nIF-NONE-MATCH\n
 * IF-MODIFIED-SINCE\nIF-UNMODIFIED-SINCE\nETAG" (later fields may be absent).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3-router.h"
#include "fuzz-fields.h"

/* The libFuzzer entry point (declared here: libFuzzer has no header). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_fields ff;
    if (fuzz_split(data, size, 7, &ff) < 0)
        return 0;
    const char *f[7] = {0};
    for (size_t i = 0; i < ff.n; i++)
        f[i] = ff.f[i];

    uint64_t obj_size = f[1] ? strtoull(f[1], NULL, 10) : 1000;
    uint64_t off = 0, len = 0;
    int rc = s3_parse_range(f[0], obj_size, &off, &len);
    if (rc == 0 && (off >= obj_size || len == 0 || len > obj_size - off))
        abort(); /* a satisfiable range must lie inside the object */
    (void)s3_parse_range(f[0], 0, &off, &len);
    (void)s3_parse_range(f[0], UINT64_MAX, &off, &len);

    for (size_t i = 0; i < ff.n; i++)
        (void)s3_parse_http_date(f[i]);
    const char *etag = f[6] ? f[6] : "d41d8cd98f00b204e9800998ecf8427e";
    if (f[2])
        (void)s3_etag_matches(f[2], etag);
    (void)s3_check_conditions(f[2], f[3], f[4], f[5], etag, 1700000000000LL);
    (void)s3_check_conditions(NULL, NULL, f[4], f[5], etag, -1);

    fuzz_fields_free(&ff);
    return 0;
}
