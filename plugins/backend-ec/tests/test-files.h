/*
 * test-files.h -- file helpers the storage tests share: finding shard and
 * metadata files under drive directories, whole-file reads and writes.
 */
#ifndef CAIRN_EC_TEST_FILES_H
#define CAIRN_EC_TEST_FILES_H

#include <stddef.h>
#include <stdint.h>

/* Appends to (*out, *n) the malloc'd paths of regular files under `path`
 * (recursively, skipping .cairn.sys) whose name starts with `name`, or equals
 * it when `exact`. */
void tf_find_files(const char *path, const char *name, int exact, char ***out, size_t *n);
/* Frees what tf_find_files collected. */
void tf_free_files(char **files, size_t n);
/* The whole file, malloc'd (one spare byte), or NULL. */
uint8_t *tf_read_file(const char *p, size_t *len);
void tf_write_file(const char *p, const uint8_t *b, size_t len);

#endif
