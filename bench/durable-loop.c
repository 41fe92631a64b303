/*
 * durable-loop -- the ceiling for small PUTs: the durable file work that
 * backend-ec does for one object, in a plain C loop with no HTTP, no
 * erasure coding and no hashing, at the same concurrency.
 *
 *   durable-loop --size 4096 --data-shards 2 --inline-limit 131072 \
 *                --concurrency 16 --duration 10 DRIVE...
 *
 * Per object and per drive: objects up to --inline-limit write one metadata
 * file holding the drive's shard (size/k bytes) to a temporary name, fsync
 * it, rename it into the object's directory and fsync that directory; larger
 * objects first write and fsync a shard file in a fresh data directory, then
 * do the same metadata commit.  Drives are written one after another by the
 * worker, as a backend writing to a set does.  Prints objects per second.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static size_t size = 4096, inline_limit = 128 * 1024, meta_overhead = 512;
static int data_shards = 2, concurrency = 16;
static double duration = 10;
static char **drives;
static int ndrives;
static volatile int stop_flag;

struct worker {
    pthread_t t;
    int id;
    long done;
    char *buf;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_file_sync(const char *path, const char *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, buf + off, len - off);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)n;
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

static void *run(void *arg)
{
    struct worker *w = arg;
    size_t shard = (size + (size_t)data_shards - 1) / (size_t)data_shards;
    char dir[2048], data[3072], tmp[4096], dst[4096];
    while (!stop_flag) {
        long obj = w->done;
        for (int d = 0; d < ndrives; d++) {
            snprintf(dir, sizeof dir, "%s/bucket/w%d-o%ld", drives[d], w->id, obj % 1000);
            mkdir(dir, 0755);
            size_t meta = meta_overhead;
            if (size > inline_limit) {
                snprintf(data, sizeof data, "%s/d%ld", dir, obj);
                mkdir(data, 0755);
                snprintf(tmp, sizeof tmp, "%s/part.1", data);
                if (write_file_sync(tmp, w->buf, shard))
                    perror(tmp);
            } else {
                meta += shard;
            }
            snprintf(tmp, sizeof tmp, "%s/tmp/w%d.meta", drives[d], w->id);
            snprintf(dst, sizeof dst, "%s/meta", dir);
            if (write_file_sync(tmp, w->buf, meta) || rename(tmp, dst) || fsync_dir(dir))
                perror(dst);
        }
        w->done++;
    }
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
        mkdir(drives[d], 0755);
        snprintf(path, sizeof path, "%s/bucket", drives[d]);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/tmp", drives[d]);
        mkdir(path, 0755);
    }
    struct worker *ws = calloc((size_t)concurrency, sizeof *ws);
    for (int i = 0; i < concurrency; i++) {
        ws[i].id = i;
        ws[i].buf = malloc(size + meta_overhead + 1);
        memset(ws[i].buf, 'x', size + meta_overhead);
    }
    double t0 = now_s();
    for (int i = 0; i < concurrency; i++)
        pthread_create(&ws[i].t, NULL, run, &ws[i]);
    while (now_s() - t0 < duration)
        usleep(50000);
    stop_flag = 1;
    long total = 0;
    for (int i = 0; i < concurrency; i++) {
        pthread_join(ws[i].t, NULL);
        total += ws[i].done;
        free(ws[i].buf);
    }
    double el = now_s() - t0;
    printf("{\"objects\":%ld,\"seconds\":%.3f,\"ops_per_s\":%.1f,\"mb_per_s\":%.2f}\n", total, el,
           total / el, total * (double)size / el / 1e6);
    free(ws);
    return 0;
}
