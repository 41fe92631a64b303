/*
 * sc-lock.c -- striped per-key locks.
 */
#include "sc-lock.h"
#include "sc-util.h"

#include <string.h>
#include <xxhash.h>

void sc_locks_init(struct sc_locks *l)
{
    for (int i = 0; i < SC_LOCK_STRIPES; i++)
        pthread_rwlock_init(&l->lock[i], NULL);
}

void sc_locks_destroy(struct sc_locks *l)
{
    for (int i = 0; i < SC_LOCK_STRIPES; i++)
        pthread_rwlock_destroy(&l->lock[i]);
}

pthread_rwlock_t *sc_lock_for(struct sc_locks *l, const char *bucket, const char *key)
{
    uint64_t h = XXH64(bucket, strlen(bucket), 1) ^ XXH64(key, strlen(key), 2);
    return &l->lock[h % SC_LOCK_STRIPES];
}
