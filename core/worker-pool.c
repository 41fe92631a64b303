/* worker-pool.c -- fixed worker threads draining a FIFO of intrusive jobs. */
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "worker-pool.h"

/*
 * Wake-ups.  Waking a sleeping worker (futex wake, then a context switch) was
 * the largest cost of a small request: the I/O thread paid it for every job.
 * So a job wakes a worker only when nobody else will take it soon:
 *   - a worker that finishes a job takes the next one without sleeping;
 *   - one worker at a time polls the queue for a short while (yielding the
 *     CPU between looks) before it sleeps: a job queued meanwhile needs no
 *     wake-up at all;
 *   - at most one wake-up is in flight: the woken worker, once it has a job,
 *     wakes the next one if more jobs wait (so a burst still spreads over
 *     the workers, and a worker blocked on a disk never holds up the queue:
 *     it passed the wake-up on before running its job).
 */
#define POOL_SPIN_ROUNDS 64

struct worker_pool {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct worker_job *_Atomic head; /* read without the lock by a polling worker */
    struct worker_job *tail;
    size_t queued;
    atomic_size_t busy;
    int idle;            /* workers asleep on cond */
    int wake_sent;       /* a signal sent whose worker has not taken a job yet */
    atomic_int polling;  /* a worker polls the queue before sleeping (0 or 1) */
    int stopping;
    int n_threads;
    pthread_t *threads;
    /* The trimmer: once the pool has been idle for a second after running
     * jobs, it hands the freed request buffers back to the kernel. */
    pthread_cond_t trim_cond;
    pthread_t trimmer;
    int trimmer_started;
    atomic_ulong jobs_run;
    unsigned long jobs_at_trim;
};

/* Whether to signal one sleeping worker: not when a wake-up is already on its
 * way or a worker is polling.  Locked; the caller signals after unlocking (a
 * worker woken while the signaller still holds the lock would block on it
 * at once: two more futex calls per wake-up). */
static int wake_one_locked(struct worker_pool *pool)
{
    if (pool->idle > 0 && !pool->wake_sent && !atomic_load(&pool->polling)) {
        pool->wake_sent = 1;
        return 1;
    }
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker_pool *pool = arg;
    for (;;) {
        /* Nothing queued: one worker at a time looks again for a while
         * (without the lock) before sleeping. */
        int expect = 0;
        if (!atomic_load(&pool->head) && atomic_compare_exchange_strong(&pool->polling, &expect, 1)) {
            for (int i = 0; i < POOL_SPIN_ROUNDS && !atomic_load(&pool->head); i++)
                sched_yield();
            atomic_store(&pool->polling, 0);
        }
        pthread_mutex_lock(&pool->mu);
        while (!pool->head && !pool->stopping) {
            pool->idle++;
            pthread_cond_wait(&pool->cond, &pool->mu);
            pool->idle--;
            pool->wake_sent = 0;
        }
        struct worker_job *job = pool->head;
        if (!job) {
            pthread_mutex_unlock(&pool->mu);
            break; /* stopping and nothing left to run */
        }
        pool->head = job->next;
        if (!pool->head)
            pool->tail = NULL;
        pool->queued--;
        atomic_fetch_add(&pool->busy, 1);
        int wake = pool->head && wake_one_locked(pool); /* more waiting: pass the wake-up on */
        pthread_mutex_unlock(&pool->mu);
        if (wake)
            pthread_cond_signal(&pool->cond);
        job->next = NULL;
        job->fn(job);
        atomic_fetch_sub(&pool->busy, 1);
        atomic_fetch_add(&pool->jobs_run, 1);
    }
    return NULL;
}

/* Requests use big short-lived buffers (EC stripes, body and output
 * buffers, a few MiB each).  glibc keeps freed ones in its arenas, which makes
 * the next request fast (no mmap and page faults: GET 1 MiB c=16 610 MB/s
 * against 80 MB/s with a fixed mmap threshold) but left 150+ MiB resident
 * after a burst of 64 concurrent GETs.  So the memory is kept while requests
 * run and given back by malloc_trim() after a quiet second. */
static void *trimmer_main(void *arg)
{
    struct worker_pool *pool = arg;
    pthread_mutex_lock(&pool->mu);
    while (!pool->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        unsigned long seen = pool->jobs_run;
        pthread_cond_timedwait(&pool->trim_cond, &pool->mu, &ts);
        if (pool->stopping)
            break;
        /* quiet: nothing ran during the last second, nothing runs now */
        if (seen == pool->jobs_run && pool->jobs_run != pool->jobs_at_trim && !pool->busy &&
            !pool->head) {
            pool->jobs_at_trim = pool->jobs_run;
            pthread_mutex_unlock(&pool->mu);
            malloc_trim(0);
            pthread_mutex_lock(&pool->mu);
        }
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

struct worker_pool *worker_pool_new(int n_threads)
{
    if (n_threads < 1)
        return NULL;
    struct worker_pool *pool = calloc(1, sizeof(*pool));
    if (!pool)
        return NULL;
    pool->threads = calloc((size_t)n_threads, sizeof(pthread_t));
    if (!pool->threads) {
        free(pool);
        return NULL;
    }
    /* Held for a few instructions at a time by every worker and I/O thread:
     * spin briefly on contention rather than sleep in the kernel. */
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&pool->mu, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_cond_init(&pool->cond, NULL);
    pthread_cond_init(&pool->trim_cond, NULL);
    /* without the trimmer the pool works, only keeps more memory */
    pool->trimmer_started = pthread_create(&pool->trimmer, NULL, trimmer_main, pool) == 0;
    for (int i = 0; i < n_threads; i++) {
        if (pthread_create(&pool->threads[i], NULL, worker_main, pool) != 0)
            break;
        pool->n_threads++;
    }
    if (pool->n_threads != n_threads) {
        worker_pool_free(pool);
        return NULL;
    }
    return pool;
}

void worker_pool_submit(struct worker_pool *pool, struct worker_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&pool->mu);
    if (pool->tail)
        pool->tail->next = job;
    else
        pool->head = job;
    pool->tail = job;
    pool->queued++;
    int wake = wake_one_locked(pool);
    pthread_mutex_unlock(&pool->mu);
    if (wake)
        pthread_cond_signal(&pool->cond);
}

size_t worker_pool_queued(struct worker_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    size_t n = pool->queued;
    pthread_mutex_unlock(&pool->mu);
    return n;
}

size_t worker_pool_busy(struct worker_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    size_t n = atomic_load(&pool->busy);
    pthread_mutex_unlock(&pool->mu);
    return n;
}

void worker_pool_free(struct worker_pool *pool)
{
    if (!pool)
        return;
    pthread_mutex_lock(&pool->mu);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->cond);
    pthread_cond_broadcast(&pool->trim_cond);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 0; i < pool->n_threads; i++)
        pthread_join(pool->threads[i], NULL);
    if (pool->trimmer_started)
        pthread_join(pool->trimmer, NULL);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cond);
    pthread_cond_destroy(&pool->trim_cond);
    free(pool->threads);
    free(pool);
}
