/* test-http-pool.c -- the worker pool under the HTTP layer: FIFO jobs,
 * queueing when all workers are busy, and draining on free. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "worker-pool.h"

struct job {
    struct worker_job base;
    int index;
    atomic_int *counter;
    int *order; /* single-worker run: indexes in run order */
    atomic_int *pos;
    int sleep_us;
};

static void run(struct worker_job *w)
{
    struct job *j = (struct job *)w;
    if (j->sleep_us)
        usleep((useconds_t)j->sleep_us);
    if (j->order)
        j->order[atomic_fetch_add(j->pos, 1)] = j->index;
    atomic_fetch_add(j->counter, 1);
}

int main(void)
{
    alarm(30);
    ok(worker_pool_new(0) == NULL, "zero threads refused");

    /* Many jobs on four workers all run. */
    struct worker_pool *pool = worker_pool_new(4);
    ok(pool != NULL, "pool of 4");
    enum { N = 1000 };
    struct job *jobs = calloc(N, sizeof(*jobs));
    atomic_int counter = 0;
    for (int i = 0; i < N; i++) {
        jobs[i].base.fn = run;
        jobs[i].counter = &counter;
        worker_pool_submit(pool, &jobs[i].base);
    }
    for (int i = 0; i < 200 && atomic_load(&counter) < N; i++)
        usleep(10000);
    is_int(atomic_load(&counter), N, "all %d jobs ran", N);
    worker_pool_free(pool);

    /* One busy worker: later jobs queue and run in FIFO order; free drains them. */
    pool = worker_pool_new(1);
    atomic_int pos = 0;
    int order[8];
    atomic_store(&counter, 0);
    for (int i = 0; i < 8; i++) {
        jobs[i] = (struct job){.base.fn = run, .index = i, .counter = &counter, .order = order,
                               .pos = &pos, .sleep_us = i == 0 ? 200000 : 0};
        worker_pool_submit(pool, &jobs[i].base);
    }
    usleep(50000);
    is_int(worker_pool_busy(pool), 1, "one worker busy");
    is_int(worker_pool_queued(pool), 7, "seven jobs queued behind it");
    worker_pool_free(pool);
    is_int(atomic_load(&counter), 8, "free ran every queued job");
    int fifo = 1;
    for (int i = 0; i < 8; i++)
        fifo &= order[i] == i;
    ok(fifo, "jobs ran in submission order");
    worker_pool_free(NULL);
    free(jobs);
    return tap_done();
}
