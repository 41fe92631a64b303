/*
 * sc-lock.h -- per-key locks: a fixed table of reader/writer locks picked by a
 * hash of bucket and key.  Reads hold the read side while they stream; commits,
 * deletes and heals hold the write side.  Two keys may share a lock; never take
 * two at once.
 */
#ifndef CAIRN_SC_LOCK_H
#define CAIRN_SC_LOCK_H

#include <pthread.h>

#define SC_LOCK_STRIPES 256

struct sc_locks {
    pthread_rwlock_t lock[SC_LOCK_STRIPES];
};

void sc_locks_init(struct sc_locks *l);
void sc_locks_destroy(struct sc_locks *l);
/* The lock for bucket/key. */
pthread_rwlock_t *sc_lock_for(struct sc_locks *l, const char *bucket, const char *key);

#endif
