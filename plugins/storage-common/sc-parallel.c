/*
 * sc-parallel.c -- sc_parallel on a persistent pool of helper threads.
 *
 * A PUT runs two parallel phases (shard fsyncs, metadata commit); creating a
 * thread per drive per phase cost several pthread_create/join per request.
 * Helpers are started on demand (when more jobs wait than helpers are idle),
 * never exceed SC_POOL_MAX, and stay until the plugin is unloaded: the
 * destructor stops and joins them before the code they run goes away.
 */
#include "sc-parallel.h"
#include "sc-objmeta.h"

#include <pthread.h>
#include <stddef.h>

/* Enough for 16 workers each fanning out to a 16-drive set at once; beyond
 * it the calling thread runs its remaining jobs itself. */
#define SC_POOL_MAX 256

/* One sc_parallel call: its jobs and how many are not finished yet. */
struct batch {
    void (*fn)(void *ctx, int i);
    void *ctx;
    int pending;
    pthread_cond_t done;
};

struct task {
    struct batch *batch;
    int i;
    struct task *next;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work;
    struct task *head, *tail;
    int queued, idle, starting, stopping;
    int n_threads;
    pthread_t threads[SC_POOL_MAX];
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER};

/* Runs a task taken from the queue and reports it finished (mu held on
 * entry and on return). */
static void run_task(struct task *t)
{
    struct batch *b = t->batch;
    int i = t->i;
    pthread_mutex_unlock(&pool.mu);
    b->fn(b->ctx, i);
    pthread_mutex_lock(&pool.mu);
    if (--b->pending == 0)
        pthread_cond_signal(&b->done);
}

/* Unlinks `t` (prev is its predecessor or NULL); mu held. */
static void unlink_task(struct task *prev, struct task *t)
{
    if (prev)
        prev->next = t->next;
    else
        pool.head = t->next;
    if (pool.tail == t)
        pool.tail = prev;
    pool.queued--;
}

static void *helper_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&pool.mu);
    pool.starting--;
    for (;;) {
        while (!pool.head && !pool.stopping) {
            pool.idle++;
            pthread_cond_wait(&pool.work, &pool.mu);
            pool.idle--;
        }
        if (!pool.head)
            break; /* stopping, nothing left to run */
        struct task *t = pool.head;
        unlink_task(NULL, t);
        run_task(t);
    }
    pthread_mutex_unlock(&pool.mu);
    return NULL;
}

/* Starts helpers while queued jobs outnumber the helpers that will look at
 * the queue (idle ones and ones still starting); mu held. */
static void grow_pool(void)
{
    while (!pool.stopping && pool.queued > pool.idle + pool.starting &&
           pool.n_threads < SC_POOL_MAX) {
        if (pthread_create(&pool.threads[pool.n_threads], NULL, helper_main, NULL) != 0)
            return; /* the caller runs what no helper takes */
        pool.n_threads++;
        pool.starting++;
    }
}

void sc_parallel(int n, void (*fn)(void *ctx, int i), void *ctx)
{
    if (n > SC_MAX_SHARDS)
        n = SC_MAX_SHARDS;
    if (n <= 0)
        return;
    if (n == 1) {
        fn(ctx, 0);
        return;
    }
    struct batch b = {.fn = fn, .ctx = ctx, .pending = n - 1, .done = PTHREAD_COND_INITIALIZER};
    struct task tasks[SC_MAX_SHARDS];
    pthread_mutex_lock(&pool.mu);
    for (int i = 1; i < n; i++) {
        tasks[i] = (struct task){&b, i, NULL};
        if (pool.tail)
            pool.tail->next = &tasks[i];
        else
            pool.head = &tasks[i];
        pool.tail = &tasks[i];
        pool.queued++;
    }
    /* wake at most one idle helper per job; new helpers look at the queue
     * before they first wait */
    for (int i = 1; i < n && i <= pool.idle; i++)
        pthread_cond_signal(&pool.work);
    grow_pool();
    pthread_mutex_unlock(&pool.mu);

    fn(ctx, 0);

    /* Run whatever of ours no helper has taken yet, then wait for the rest. */
    pthread_mutex_lock(&pool.mu);
    struct task *prev = NULL, *t = pool.head;
    while (t) {
        struct task *next = t->next;
        if (t->batch == &b) {
            unlink_task(prev, t);
            run_task(t);
            /* the queue may have changed while mu was released */
            prev = NULL;
            t = pool.head;
            continue;
        }
        prev = t;
        t = next;
    }
    while (b.pending > 0)
        pthread_cond_wait(&b.done, &pool.mu);
    pthread_mutex_unlock(&pool.mu);
    pthread_cond_destroy(&b.done);
}

/* Runs when the plugin is unloaded (or the process exits): helpers finish
 * their current job and are joined, so none runs this code after it is gone. */
__attribute__((destructor)) static void sc_parallel_stop(void)
{
    pthread_mutex_lock(&pool.mu);
    pool.stopping = 1;
    pthread_cond_broadcast(&pool.work);
    int n = pool.n_threads;
    pthread_mutex_unlock(&pool.mu);
    for (int i = 0; i < n; i++)
        pthread_join(pool.threads[i], NULL);
    pthread_mutex_lock(&pool.mu);
    pool.n_threads = 0;
    pthread_mutex_unlock(&pool.mu);
}
