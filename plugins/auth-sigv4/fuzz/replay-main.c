/*
 * replay-main.c -- replays a fuzz corpus through a harness's
 * LLVMFuzzerTestOneInput without libFuzzer (SQLite's fuzzcheck idea): one TAP
 * line per corpus file, so `make check` keeps every past finding fixed.
 * CORPUS_DIR is compiled in.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    DIR *dir = opendir(CORPUS_DIR);
    ok(dir != NULL, "corpus directory %s opens", CORPUS_DIR);
    if (!dir)
        return tap_done();
    char *names[4096];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL && n < 4096)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(dir);
    qsort(names, n, sizeof(names[0]), cmp_names);
    ok(n > 0, "corpus has %zu entries", n);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, names[i]);
        FILE *f = fopen(path, "rb");
        uint8_t *buf = NULL;
        size_t len = 0;
        if (f) {
            fseek(f, 0, SEEK_END);
            long sz = ftell(f);
            fseek(f, 0, SEEK_SET);
            buf = malloc(sz > 0 ? (size_t)sz : 1);
            len = buf && sz > 0 ? fread(buf, 1, (size_t)sz, f) : 0;
            fclose(f);
        }
        /* A crash, leak or sanitizer report aborts the program: the test fails. */
        if (buf)
            LLVMFuzzerTestOneInput(buf, len);
        ok(buf != NULL, "replayed %s (%zu bytes)", names[i], len);
        free(buf);
        free(names[i]);
    }
    return tap_done();
}
