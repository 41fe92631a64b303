/* arena.c -- request-lifetime memory: a chain of blocks freed at once. */
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define ARENA_BLOCK 4096

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[]; /* aligned for any type */
};

struct arena {
    struct arena_block *head;
    struct arena_block *first; /* allocated with the arena itself */
};

/* The arena and its first block come from one allocation: a request makes
 * an arena or two, and most never need a second block. */
struct arena *arena_new(void)
{
    const size_t align = _Alignof(struct arena_block);
    size_t hdr = (sizeof(struct arena) + align - 1) & ~(align - 1);
    char *m = malloc(hdr + sizeof(struct arena_block) + ARENA_BLOCK);
    if (!m)
        return NULL;
    struct arena *a = (struct arena *)m;
    struct arena_block *b = (struct arena_block *)(m + hdr);
    b->next = NULL;
    b->used = 0;
    b->cap = ARENA_BLOCK;
    a->head = a->first = b;
    return a;
}

void *arena_alloc(struct arena *a, size_t size)
{
    const size_t align = _Alignof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    if (size == 0)
        size = align;
    struct arena_block *b = a->head;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        b = malloc(sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
    char *p = arena_alloc(a, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

void arena_free(struct arena *a)
{
    if (!a)
        return;
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        if (b != a->first)
            free(b);
        b = next;
    }
    free(a);
}
