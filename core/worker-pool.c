/* worker-pool.c -- fixed worker threads draining a FIFO of intrusive jobs. */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "worker-pool.h"

struct worker_pool {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct worker_job *head, *tail;
    size_t queued, busy;
    int stopping;
    int n_threads;
    pthread_t *threads;
    /* The trimmer: once the pool has been idle for a second after running
     * jobs, it hands the freed request buffers back to the kernel. */
    pthread_cond_t trim_cond;
    pthread_t trimmer;
    int trimmer_started;
    unsigned long jobs_run, jobs_at_trim;
};

static void *worker_main(void *arg)
{
    struct worker_pool *pool = arg;
    pthread_mutex_lock(&pool->mu);
    for (;;) {
        while (!pool->head && !pool->stopping)
            pthread_cond_wait(&pool->cond, &pool->mu);
        struct worker_job *job = pool->head;
        if (!job)
            break; /* stopping and nothing left to run */
        pool->head = job->next;
        if (!pool->head)
            pool->tail = NULL;
        pool->queued--;
        pool->busy++;
        pthread_mutex_unlock(&pool->mu);
        job->next = NULL;
        job->fn(job);
        pthread_mutex_lock(&pool->mu);
        pool->busy--;
        pool->jobs_run++;
    }
    pthread_mutex_unlock(&pool->mu);
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
    pthread_mutex_init(&pool->mu, NULL);
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
    pthread_cond_signal(&pool->cond);
    pthread_mutex_unlock(&pool->mu);
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
    size_t n = pool->busy;
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
