/*
 * sc-parallel.c -- sc_parallel: one thread per job for now.
 */
#include "sc-parallel.h"
#include "sc-objmeta.h"

#include <pthread.h>

struct par_arg {
    void (*fn)(void *ctx, int i);
    void *ctx;
    int i;
};

static void *par_main(void *varg)
{
    struct par_arg *a = varg;
    a->fn(a->ctx, a->i);
    return NULL;
}

void sc_parallel(int n, void (*fn)(void *ctx, int i), void *ctx)
{
    pthread_t th[SC_MAX_SHARDS];
    struct par_arg args[SC_MAX_SHARDS];
    int started[SC_MAX_SHARDS] = {0};
    if (n > SC_MAX_SHARDS)
        n = SC_MAX_SHARDS;
    for (int i = 1; i < n; i++) {
        args[i] = (struct par_arg){fn, ctx, i};
        started[i] = pthread_create(&th[i], NULL, par_main, &args[i]) == 0;
        if (!started[i])
            fn(ctx, i);
    }
    if (n > 0)
        fn(ctx, 0);
    for (int i = 1; i < n; i++)
        if (started[i])
            pthread_join(th[i], NULL);
}
