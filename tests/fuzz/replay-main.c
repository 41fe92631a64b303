/*
 * replay-main.c -- runs every file of a fuzz corpus through a harness's
 * LLVMFuzzerTestOneInput without libFuzzer, as a TAP test, so `make check`
 * (under ASan/UBSan) keeps every seed and past finding handled.  The corpus
 * directory is compiled in as CORPUS_DIR; files named on the command line are
 * replayed instead (handy for a crash reproducer).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads a whole file into an exact-size buffer (so ASan sees overreads). */
static uint8_t *read_file(const char *path, size_t *len_r)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0, n;
    uint8_t chunk[4096];
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + n > cap) {
            cap = (len + n) * 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    uint8_t *exact = malloc(len ? len : 1);
    if (exact && len)
        memcpy(exact, buf, len);
    free(buf);
    *len_r = len;
    return exact;
}

static void replay(const char *path, const char *label)
{
    size_t len = 0;
    uint8_t *buf = read_file(path, &len);
    if (!buf) {
        ok(0, "read %s", path);
        return;
    }
    /* A crash, leak or sanitizer report aborts the program: the test fails. */
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    ok(1, "replayed %s (%zu bytes)", label, len);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_hidden(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            replay(argv[i], argv[i]);
        return tap_done();
    }
    struct dirent **names;
    int n = scandir(CORPUS_DIR, &names, not_hidden, by_name);
    ok(n > 0, "corpus %s has entries", CORPUS_DIR);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, names[i]->d_name);
        replay(path, names[i]->d_name);
        free(names[i]);
    }
    if (n > 0)
        free(names);
    return tap_done();
}
