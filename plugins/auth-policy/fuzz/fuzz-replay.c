/*
 * fuzz-replay.c -- replays the fuzz corpus (fuzz/corpus/, or the files named
 * on the command line) through LLVMFuzzerTestOneInput as a TAP test: each
 * input must be handled without a crash, leak or sanitizer report.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void replay(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        ok(0, "open %s", path);
        return;
    }
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;
    uint8_t chunk[4096];
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + n > cap) {
            cap = (len + n) * 2;
            buf = realloc(buf, cap);
            if (!buf)
                break;
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    /* Copy to an exact-size buffer so ASan catches any read past the end. */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact && len)
        memcpy(exact, buf, len);
    free(buf);
    if (!exact) {
        ok(0, "memory for %s", path);
        return;
    }
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    ok(1, "replayed %s (%zu bytes)", path, len);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            replay(argv[i]);
        return tap_done();
    }
    const char *srcdir = getenv("srcdir");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/fuzz/corpus", srcdir ? srcdir : ".");
    struct dirent **names;
    int n = scandir(dir, &names, NULL, by_name);
    ok(n > 2, "corpus directory %s has inputs", dir);
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            char path[8192];
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
            replay(path);
        }
        free(names[i]);
    }
    if (n >= 0)
        free(names);
    return tap_done();
}
