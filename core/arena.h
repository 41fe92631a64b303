/*
 * arena.h -- request-lifetime memory: many small allocations, one free.
 */
#ifndef CAIRN_ARENA_H
#define CAIRN_ARENA_H

#include <stddef.h>

struct arena;

/* Returns a new empty arena, or NULL when out of memory. */
struct arena *arena_new(void);

/* Returns `size` bytes aligned for any type, zeroed; NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t size);

/* Returns a copy of `s` (NULL gives NULL). */
char *arena_strdup(struct arena *a, const char *s);

/* Returns a NUL-terminated copy of the `len` bytes at `s`. */
char *arena_strndup(struct arena *a, const char *s, size_t len);

/* Frees the arena and everything allocated from it; NULL is a no-op. */
void arena_free(struct arena *a);

#endif
