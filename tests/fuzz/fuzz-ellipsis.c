/*
 * fuzz-ellipsis.c -- libFuzzer harness for MinIO's ellipsis expansion of
 * drive arguments (ellipsis.c).  The whole input, NUL-terminated, is the
 * pattern.  Patterns may legally expand to ELLIPSIS_MAX_EXPANSION strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ellipsis.h"

/* The libFuzzer entry point (declared here: libFuzzer has no header). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0; /* drive arguments are short; long ones only slow the fuzzer */
    char *pattern = malloc(size + 1);
    if (!pattern)
        return 0;
    memcpy(pattern, data, size);
    pattern[size] = '\0';

    char **list = NULL;
    size_t n = 0;
    char err[256];
    int has = ellipsis_has_range(pattern);
    int rc = ellipsis_expand(pattern, &list, &n, err, sizeof(err));
    if (rc == 0) {
        if (n == 0 || n > ELLIPSIS_MAX_EXPANSION)
            abort();
        if (!has && (n != 1 || strcmp(list[0], pattern) != 0))
            abort(); /* without a range the pattern is its own expansion */
        for (size_t i = 0; i < n; i++)
            (void)strlen(list[i]);
        ellipsis_free(list, n);
    } else {
        if (memchr(err, '\0', sizeof(err)) == NULL)
            abort(); /* the message must be terminated */
    }
    free(pattern);
    return 0;
}
