/*
 * durable-loop -- the ceiling for small PUTs: the durable file work that
 * backend-ec does for one object, in a plain C loop with no HTTP, no
 * erasure coding and no hashing, at the same concurrency.
 *
 *   durable-loop --size 4096 --data-shards 2 --inline-limit 131072 \
 *                --concurrency 16 --duration 10 DRIVE...
 *
 * Every object has a new key (as cairn-bench's PUTs do), so its directory is
 * new.  Per object and per drive, exactly what backend-ec does (counted with
 * strace -f on single PUTs; see ec-io.c, ec-object.c, ec-meta.c and
 * storage-common's sc_drive_write_atomic):
 *
 *   inline (size <= --inline-limit; the drive's shard lives in the metadata):
 *     open tmp/ID.w (create), write the metadata (+ size/k bytes), fdatasync,
 *     close; rename to KEYDIR/.obj fails (no KEYDIR): mkdir KEYDIR, fsync
 *     the bucket dir; rename; fsync KEYDIR.  = 3 syncs, 1 rename, 1 mkdir.
 *   larger: first the shard file: open tmp/ID.s, one pwritev per 1 MiB stripe
 *     block (8-byte checksum + size/k bytes), fdatasync, close; then the
 *     commit: mkdir KEYDIR (fsync bucket dir), mkdir KEYDIR/.d.ID (fsync
 *     KEYDIR), rename the shard to .d.ID/part.1, fsync .d.ID, then the
 *     metadata as above (its rename finds KEYDIR).  = 6 syncs, 2 renames.
 *
 * backend-ec does each phase on all drives of the set at once (sc_parallel:
 * the caller takes drive 0, helper threads that persist across requests take
 * the others), so this loop does too: each worker keeps one helper thread
 * per other drive and hands it each phase.
 * Prints objects per second as JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static size_t size = 4096, inline_limit = 128 * 1024, meta_overhead = 1160; /* JSON metadata + frame header: a 4 KiB PUT writes 3216 bytes */
static int data_shards = 2, concurrency = 16;
static double duration = 10;
static char **drives;
static int ndrives;
static volatile int stop_flag;

struct worker;

/* A worker's persistent helper for one drive (drives 1..n-1). */
struct helper {
    pthread_t t;
    struct worker *w;
    int drive;
};

struct worker {
    pthread_t t;
    int id;
    long done, errors;
    char *buf;
    /* the phase handed to the helpers: a new generation starts one */
    pthread_mutex_t mu;
    pthread_cond_t go, finished;
    long gen, obj;
    int phase, running, failed, quit;
    struct helper *helpers;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writes len bytes of buf, each `block` bytes preceded by an 8-byte checksum
 * in the same pwritev when block > 0, as sc_block_write does; then
 * fdatasync and close. */
static int write_file_sync(const char *path, const char *buf, size_t len, size_t block)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t off = 0, written = 0;
    while (off < len) {
        size_t want = block && len - off > block ? block : len - off;
        struct iovec iov[2] = {{(void *)buf, 8}, {(void *)(buf + (block ? 0 : off)), want}};
        ssize_t n = block ? pwritev(fd, iov, 2, (off_t)written) : pwrite(fd, iov[1].iov_base, want, (off_t)written);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        written += (size_t)n;
        off += (size_t)n - (block ? 8 : 0);
    }
    int rc = fdatasync(fd);
    close(fd);
    return rc;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* One object's work on one drive; phase 0 is the shard file, phase 1 the
 * commit (the same split as backend-ec's write and commit). */
struct drive_job {
    struct worker *w;
    int drive, phase, failed;
    long obj;
};

static void drive_work(struct drive_job *j)
{
    struct worker *w = j->w;
    size_t shard = (size + (size_t)data_shards - 1) / (size_t)data_shards;
    char bucket[2048], dir[2100], data[3072], tmp[4096], dst[4096];
    snprintf(bucket, sizeof bucket, "%s/bucket", drives[j->drive]);
    snprintf(dir, sizeof dir, "%s/w%d-o%ld", bucket, w->id, j->obj);
    snprintf(data, sizeof data, "%s/.d.%ld", dir, j->obj);
    int big = size > inline_limit;
    if (j->phase == 0) {
        snprintf(tmp, sizeof tmp, "%s/tmp/w%d.s", drives[j->drive], w->id);
        /* stripes of 1 MiB (block_size): each drive gets 1 MiB / k per stripe */
        if (write_file_sync(tmp, w->buf, shard, (size_t)(1 << 20) / (size_t)data_shards))
            j->failed = 1;
        return;
    }
    size_t meta = meta_overhead + (big ? 0 : shard + 8);
    if (mkdir(dir, 0755) == 0)
        fsync_dir(bucket);
    if (big) {
        snprintf(tmp, sizeof tmp, "%s/tmp/w%d.s", drives[j->drive], w->id);
        snprintf(dst, sizeof dst, "%s/part.1", data);
        if (mkdir(data, 0755) == 0)
            fsync_dir(dir);
        if (rename(tmp, dst) || fsync_dir(data))
            j->failed = 1;
    }
    snprintf(tmp, sizeof tmp, "%s/tmp/w%d.w", drives[j->drive], w->id);
    snprintf(dst, sizeof dst, "%s/.obj", dir);
    if (write_file_sync(tmp, w->buf, meta, 0) || rename(tmp, dst) || fsync_dir(dir))
        j->failed = 1;
}

static void *helper_main(void *arg)
{
    struct helper *h = arg;
    struct worker *w = h->w;
    long seen = 0;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->gen == seen && !w->quit)
            pthread_cond_wait(&w->go, &w->mu);
        if (w->quit)
            break;
        seen = w->gen;
        struct drive_job j = {.w = w, .drive = h->drive, .phase = w->phase, .obj = w->obj};
        pthread_mutex_unlock(&w->mu);
        drive_work(&j);
        pthread_mutex_lock(&w->mu);
        w->failed += j.failed;
        if (--w->running == 0)
            pthread_cond_signal(&w->finished);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Runs one phase on every drive at once: drive 0 here, the others on the
 * worker's helpers.  Returns the number of drives that failed. */
static int all_drives(struct worker *w, long obj, int phase)
{
    pthread_mutex_lock(&w->mu);
    w->obj = obj;
    w->phase = phase;
    w->failed = 0;
    w->running = ndrives - 1;
    w->gen++;
    pthread_cond_broadcast(&w->go);
    pthread_mutex_unlock(&w->mu);
    struct drive_job j = {.w = w, .drive = 0, .phase = phase, .obj = obj};
    drive_work(&j);
    pthread_mutex_lock(&w->mu);
    while (w->running > 0)
        pthread_cond_wait(&w->finished, &w->mu);
    int failed = w->failed + j.failed;
    pthread_mutex_unlock(&w->mu);
    return failed;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->go, NULL);
    pthread_cond_init(&w->finished, NULL);
    w->helpers = calloc((size_t)ndrives, sizeof(*w->helpers));
    for (int d = 1; d < ndrives; d++) {
        w->helpers[d] = (struct helper){.w = w, .drive = d};
        pthread_create(&w->helpers[d].t, NULL, helper_main, &w->helpers[d]);
    }
    while (!stop_flag) {
        long obj = w->done + w->errors;
        int failed = size > inline_limit ? all_drives(w, obj, 0) : 0;
        failed += all_drives(w, obj, 1);
        /* a failed object is not a stored one: count it apart */
        if (failed)
            w->errors++;
        else
            w->done++;
    }
    pthread_mutex_lock(&w->mu);
    w->quit = 1;
    pthread_cond_broadcast(&w->go);
    pthread_mutex_unlock(&w->mu);
    for (int d = 1; d < ndrives; d++)
        pthread_join(w->helpers[d].t, NULL);
    free(w->helpers);
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {{"size", 1, 0, 's'}, {"data-shards", 1, 0, 'k'},
                                       {"inline-limit", 1, 0, 'i'}, {"concurrency", 1, 0, 'c'},
                                       {"duration", 1, 0, 'd'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 's': size = strtoul(optarg, NULL, 10); break;
        case 'k': data_shards = atoi(optarg); break;
        case 'i': inline_limit = strtoul(optarg, NULL, 10); break;
        case 'c': concurrency = atoi(optarg); break;
        case 'd': duration = atof(optarg); break;
        default:
            fprintf(stderr, "usage: durable-loop [--size B] [--data-shards K] [--inline-limit B] "
                            "[--concurrency N] [--duration S] DRIVE...\n");
            return 2;
        }
    }
    drives = argv + optind;
    ndrives = argc - optind;
    if (ndrives < 1 || data_shards < 1 || concurrency < 1) {
        fprintf(stderr, "durable-loop: need at least one drive\n");
        return 2;
    }
    char path[4096];
    for (int d = 0; d < ndrives; d++) {
        /* mkdir -p: the harness passes DIR/loop/dN with DIR/loop not made yet */
        snprintf(path, sizeof path, "%s", drives[d]);
        for (char *p = path + 1; *p; p++)
            if (*p == '/') {
                *p = '\0';
                mkdir(path, 0755);
                *p = '/';
            }
        mkdir(drives[d], 0755);
        snprintf(path, sizeof path, "%s/bucket", drives[d]);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/tmp", drives[d]);
        mkdir(path, 0755);
    }
    struct worker *ws = calloc((size_t)concurrency, sizeof *ws);
    for (int i = 0; i < concurrency; i++) {
        ws[i].id = i;
        size_t cap = size + meta_overhead + (1 << 20);
        ws[i].buf = malloc(cap);
        memset(ws[i].buf, 'x', cap);
    }
    double t0 = now_s();
    for (int i = 0; i < concurrency; i++)
        pthread_create(&ws[i].t, NULL, run, &ws[i]);
    while (now_s() - t0 < duration)
        usleep(50000);
    stop_flag = 1;
    long total = 0, errors = 0;
    for (int i = 0; i < concurrency; i++) {
        pthread_join(ws[i].t, NULL);
        total += ws[i].done;
        errors += ws[i].errors;
        free(ws[i].buf);
    }
    double el = now_s() - t0;
    printf("{\"objects\":%ld,\"errors\":%ld,\"seconds\":%.3f,\"ops_per_s\":%.1f,"
           "\"mb_per_s\":%.2f}\n", total, errors, el, total / el, total * (double)size / el / 1e6);
    free(ws);
    if (errors)
        fprintf(stderr, "durable-loop: %ld objects failed (check the drive paths)\n", errors);
    return errors ? 1 : 0;
}
