/*
 * fuzz-codec.c -- libFuzzer harness for base64 and hex decoding
 * (checksum.c), as used on Content-MD5, x-amz-checksum-* and SigV4 values.
 * Decodes the input both ways with exact and short output buffers, and
 * checks that what decodes round-trips through the encoder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checksum.h"

/* The libFuzzer entry point (declared here: libFuzzer has no header). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    char *in = malloc(size ? size : 1);
    if (!in)
        return 0;
    if (size)
        memcpy(in, data, size);
    size_t cap = size + 1;
    uint8_t *out = malloc(cap);
    char *text = malloc(2 * cap + 8);
    if (!out || !text)
        goto done;

    ssize_t n = checksum_base64_decode(in, size, out, cap);
    if (n >= 0) {
        if ((size_t)n > cap)
            abort();
        int m = checksum_base64_encode(out, (size_t)n, text, 2 * cap + 8);
        if (m < 0 || (size_t)m != size)
            abort(); /* padded base64: the length is fixed by the byte count */
        uint8_t *again = malloc((size_t)n + 1);
        if (again && (checksum_base64_decode(text, (size_t)m, again, (size_t)n + 1) != n ||
                      memcmp(again, out, (size_t)n) != 0))
            abort(); /* what decodes must re-encode to text that decodes the same */
        free(again);
        if (n > 0 && checksum_base64_decode(in, size, out, (size_t)n - 1) >= 0)
            abort(); /* a buffer one byte short must be refused */
    }
    (void)checksum_base64_decode(in, size, out, size / 2);

    n = checksum_hex_decode(in, size, out, cap);
    if (n >= 0) {
        if ((size_t)n * 2 != size)
            abort();
        checksum_hex_encode(out, (size_t)n, text);
        if (strncasecmp(text, in, size) != 0)
            abort();
    }
    (void)checksum_hex_decode(in, size, out, size / 4);

done:
    free(text);
    free(out);
    free(in);
    return 0;
}
