/*
 * fuzz-form-data.c -- libFuzzer harness for the streaming multipart/form-data
 * reader (form-data.c): boundary extraction, fields, the file part read in
 * pieces, the drain.  Input: "CONTENT-TYPE\nBODY"; the first byte of the
 * Content-Type also picks the source's read size (1..64) so that delimiters
 * straddle reads at every offset.
 */
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "arena.h"
#include "form-data.h"
#include "fuzz-fields.h"
#include "step-source.h"

/* The libFuzzer entry point (declared here: libFuzzer has no header). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_fields ff;
    if (fuzz_split(data, size, 2, &ff) < 0)
        return 0;
    struct arena *a = arena_new();
    char *boundary = NULL;
    if (a && ff.n == 2 && form_data_boundary(a, ff.f[0], &boundary) == 0) {
        struct step_source s = {.data = ff.f[1], .len = ff.len[1],
                        .step = 1 + (ff.len[0] ? (unsigned char)ff.f[0][0] % 64 : 0)};
        struct form_limits lim = {.max_field_bytes = 4096, .max_fields = 16, .max_part_head = 512};
        struct form_data *fd = form_data_new(a, boundary, step_source_read, &s, &lim);
        if (fd && form_data_read_fields(fd) == 0) {
            size_t n;
            const struct form_field *f = form_data_fields(fd, &n);
            for (size_t i = 0; i < n; i++)
                (void)strlen(f[i].name);
            (void)form_data_field(fd, "key");
            (void)strlen(form_data_filename(fd));
            char buf[37];
            ssize_t r;
            size_t want = 1;
            while ((r = form_data_read_file(fd, buf, want)) > 0)
                want = want % sizeof(buf) + 1;
            form_data_drain(fd, 1 << 16);
        }
    }
    arena_free(a);
    fuzz_fields_free(&ff);
    return 0;
}
