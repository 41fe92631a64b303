/*
 * worker-pool.h -- a fixed set of threads running queued jobs in FIFO order.
 *
 * Jobs are intrusive: the caller embeds a `struct worker_job` in its own
 * object, so submitting never allocates and cannot fail.  When every worker is
 * busy, jobs wait in the queue.
 */
#ifndef CAIRN_WORKER_POOL_H
#define CAIRN_WORKER_POOL_H

#include <stddef.h>

struct worker_job;

/* The function a job runs; `job` is the node that was submitted. */
typedef void (*worker_job_fn)(struct worker_job *job);

struct worker_job {
    struct worker_job *next; /* owned by the pool while queued */
    worker_job_fn fn;
};

struct worker_pool;

/* Starts `n_threads` (>= 1) workers.  Returns NULL on failure. */
struct worker_pool *worker_pool_new(int n_threads);

/* Queues `job` (job->fn must be set).  The job object must stay valid until
 * its function has started running.  Thread-safe. */
void worker_pool_submit(struct worker_pool *pool, struct worker_job *job);

/* Number of jobs queued but not yet started, and of workers running a job. */
size_t worker_pool_queued(struct worker_pool *pool);
size_t worker_pool_busy(struct worker_pool *pool);

/* Runs every job still queued, then stops and joins the workers and frees the
 * pool.  Jobs must not be submitted once this has been called.  NULL is a no-op. */
void worker_pool_free(struct worker_pool *pool);

#endif
