/*
 * test-files.c -- see test-files.h.
 */
#include "test-files.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void tf_find_files(const char *path, const char *name, int exact, char ***out, size_t *n)
{
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            !strcmp(e->d_name, ".cairn.sys"))
            continue;
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
        struct stat sb;
        if (lstat(p, &sb))
            continue;
        if (S_ISDIR(sb.st_mode))
            tf_find_files(p, name, exact, out, n);
        else if (exact ? !strcmp(e->d_name, name) : !strncmp(e->d_name, name, strlen(name))) {
            *out = realloc(*out, (*n + 1) * sizeof(**out));
            (*out)[(*n)++] = strdup(p);
        }
    }
    closedir(d);
}

void tf_free_files(char **files, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
}

uint8_t *tf_read_file(const char *p, size_t *len)
{
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

void tf_write_file(const char *p, const uint8_t *b, size_t len)
{
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite(b, 1, len, f);
        fclose(f);
    }
}
