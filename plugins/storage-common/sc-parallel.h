/*
 * sc-parallel.h -- run one job per drive at the same time (fsyncs, metadata
 * commits) and wait for all of them.
 */
#ifndef CAIRN_SC_PARALLEL_H
#define CAIRN_SC_PARALLEL_H

/* Runs fn(ctx, i) for every i in [0, n) at the same time and returns when all
 * have returned; i = 0 runs in the caller's thread, and so does any job no
 * thread could be found for.  n is at most SC_MAX_SHARDS. */
void sc_parallel(int n, void (*fn)(void *ctx, int i), void *ctx);

#endif
