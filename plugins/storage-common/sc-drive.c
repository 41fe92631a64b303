/*
 * sc-drive.c -- local-directory drives and helpers over any drive.
 */
#include "sc-drive.h"
#include "sc-metacache.h"
#include "sc-util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct local_drive {
    struct sc_drive base;
    char root[PATH_MAX];
    size_t root_len;
};

/* Builds root/rel into `out`; -ENAMETOOLONG when it does not fit. */
static int full_path(struct sc_drive *d, const char *rel, char out[PATH_MAX])
{
    struct local_drive *ld = (struct local_drive *)d;
    size_t rl = ld->root_len, n = strlen(rel);
    if (rl + 1 + n >= PATH_MAX)
        return -ENAMETOOLONG;
    memcpy(out, ld->root, rl);
    if (n) /* every metadata lookup passes here: no snprintf */
        out[rl++] = '/';
    memcpy(out + rl, rel, n + 1);
    return 0;
}

static int l_stat(struct sc_drive *d, const char *rel, struct stat *st_r)
{
    char p[PATH_MAX];
    int rc = full_path(d, rel, p);
    if (rc)
        return rc;
    return stat(p, st_r) ? -errno : 0;
}

/* fsyncs the directory containing absolute path p (a new entry in it). */
static void fsync_parent(char *p)
{
    char *slash = strrchr(p, '/');
    if (!slash || slash == p)
        return;
    *slash = '\0';
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *slash = '/';
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Creates one directory; a new one is made durable in its parent. */
static int mkdir_one(char *p)
{
    if (mkdir(p, 0755) == 0) {
        fsync_parent(p);
        return 0;
    }
    return errno == EEXIST ? 0 : -errno;
}

static int l_mkdir_p(struct sc_drive *d, const char *rel)
{
    char p[PATH_MAX];
    int rc = full_path(d, rel, p);
    if (rc)
        return rc;
    rc = mkdir_one(p);
    if (rc != -ENOENT)
        return rc;
    size_t rootlen = strlen(((struct local_drive *)d)->root);
    for (char *s = p + rootlen + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        int r = mkdir_one(p);
        *s = '/';
        if (r)
            return r;
    }
    return mkdir_one(p);
}

static int l_open(struct sc_drive *d, const char *rel, int create)
{
    char p[PATH_MAX];
    int rc = full_path(d, rel, p);
    if (rc)
        return rc;
    int fd = create ? open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                    : open(p, O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static ssize_t l_pwrite(struct sc_drive *d, int fh, const void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(fh, (const char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        done += (size_t)n;
    }
    return (ssize_t)done;
}

static ssize_t l_pwritev(struct sc_drive *d, int fh, const struct iovec *iov, int iovcnt,
                         uint64_t off)
{
    struct iovec v[8];
    if (iovcnt < 1 || iovcnt > 8)
        return -EINVAL;
    memcpy(v, iov, (size_t)iovcnt * sizeof(*v));
    size_t total = 0;
    int first = 0;
    for (;;) {
        while (first < iovcnt && v[first].iov_len == 0)
            first++;
        if (first == iovcnt)
            return (ssize_t)total;
        ssize_t n = pwritev(fh, v + first, iovcnt - first, (off_t)(off + total));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        total += (size_t)n;
        /* a short write: skip what went out and go on with the rest */
        while ((size_t)n >= v[first].iov_len) {
            n -= (ssize_t)v[first].iov_len;
            v[first].iov_len = 0;
            if (++first == iovcnt)
                return (ssize_t)total;
        }
        v[first].iov_base = (char *)v[first].iov_base + n;
        v[first].iov_len -= (size_t)n;
    }
}

static ssize_t l_pread(struct sc_drive *d, int fh, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fh, (char *)buf + done, len - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

static int l_fsync(struct sc_drive *d, int fh)
{
    return fdatasync(fh) ? -errno : 0;
}

static int l_close(struct sc_drive *d, int fh)
{
    return close(fh) ? -errno : 0;
}

static int l_rename(struct sc_drive *d, const char *from, const char *to)
{
    char a[PATH_MAX], b[PATH_MAX];
    int rc = full_path(d, from, a);
    if (!rc)
        rc = full_path(d, to, b);
    if (rc)
        return rc;
    rc = rename(a, b) ? -errno : 0;
    /* after the change: a reader that read the old file cannot publish it */
    sc_mc_invalidate(d->mc, d, to);
    return rc;
}

static int l_fsync_dir(struct sc_drive *d, const char *rel)
{
    char p[PATH_MAX];
    int rc = full_path(d, rel, p);
    if (rc)
        return rc;
    int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

static int l_readdir(struct sc_drive *d, const char *rel, char ***names_r, size_t *n_r)
{
    char p[PATH_MAX];
    int rc = full_path(d, rel, p);
    if (rc)
        return rc;
    DIR *dir = opendir(p);
    if (!dir)
        return -errno;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof(*nn));
            if (!nn)
                goto nomem;
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name)))
            goto nomem;
        n++;
    }
    closedir(dir);
    *names_r = names;
    *n_r = n;
    return 0;
nomem:
    closedir(dir);
    sc_names_free(names, n);
    return -ENOMEM;
}

static int l_unlink(struct sc_drive *d, const char *rel)
{
    char p[PATH_MAX];
    int rc = full_path(d, rel, p);
    if (rc)
        return rc;
    rc = unlink(p) ? -errno : 0;
    sc_mc_invalidate(d->mc, d, rel);
    return rc;
}

static int l_rmdir(struct sc_drive *d, const char *rel)
{
    char p[PATH_MAX];
    int rc = full_path(d, rel, p);
    if (rc)
        return rc;
    return rmdir(p) ? -errno : 0;
}

/* Recursive removal of an absolute path; does not follow symlinks. */
static int remove_abs(char *p, size_t len)
{
    struct stat st;
    if (lstat(p, &st))
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return unlink(p) && errno != ENOENT ? -errno : 0;
    DIR *dir = opendir(p);
    if (!dir)
        return -errno;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(dir))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        size_t nl = strlen(e->d_name);
        if (len + 1 + nl >= PATH_MAX) {
            rc = -ENAMETOOLONG;
            continue;
        }
        p[len] = '/';
        memcpy(p + len + 1, e->d_name, nl + 1);
        int r = remove_abs(p, len + 1 + nl);
        if (r && !rc)
            rc = r;
        p[len] = '\0';
    }
    closedir(dir);
    if (rmdir(p) && errno != ENOENT && !rc)
        rc = -errno;
    return rc;
}

static int l_remove_tree(struct sc_drive *d, const char *rel)
{
    char p[PATH_MAX];
    int rc = full_path(d, rel, p);
    if (rc)
        return rc;
    return remove_abs(p, strlen(p));
}

static void l_free(struct sc_drive *d)
{
    sc_mc_unref(d->mc);
    free(d->name);
    free(d);
}

static const struct sc_drive_ops local_ops = {
    .stat = l_stat, .mkdir_p = l_mkdir_p, .open = l_open, .pwrite = l_pwrite,
    .pread = l_pread, .fsync = l_fsync, .close = l_close, .rename = l_rename,
    .fsync_dir = l_fsync_dir, .readdir = l_readdir, .unlink = l_unlink, .rmdir = l_rmdir,
    .remove_tree = l_remove_tree, .free = l_free, .pwritev = l_pwritev,
};

struct sc_drive *sc_drive_local_new(const char *root)
{
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    if (n == 0 || n >= PATH_MAX - 64)
        return NULL;
    struct local_drive *ld = calloc(1, sizeof(*ld));
    if (!ld)
        return NULL;
    memcpy(ld->root, root, n);
    ld->root[n] = '\0';
    ld->root_len = n;
    ld->base.ops = &local_ops;
    ld->base.name = strdup(ld->root);
    if (!ld->base.name) {
        free(ld);
        return NULL;
    }
    return &ld->base;
}

void sc_drive_set_cache(struct sc_drive *d, struct sc_metacache *mc)
{
    sc_mc_ref(mc);
    sc_mc_unref(d->mc);
    d->mc = mc;
}

void sc_drive_free(struct sc_drive *d)
{
    if (d)
        d->ops->free(d);
}

void sc_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

void sc_path_parent(const char *rel, char *out, size_t cap)
{
    const char *slash = strrchr(rel, '/');
    size_t n = slash ? (size_t)(slash - rel) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, rel, n);
    out[n] = '\0';
}

int sc_drive_write_atomic(struct sc_drive *d, const char *rel, const void *data, size_t len,
                          int sync)
{
    char tmp[128], id[33], parent[PATH_MAX];
    sc_new_id(id);
    snprintf(tmp, sizeof(tmp), SC_TMP_DIR "/%s.w", id);
    int fh = d->ops->open(d, tmp, 1);
    if (fh == -ENOENT) {
        d->ops->mkdir_p(d, SC_TMP_DIR);
        fh = d->ops->open(d, tmp, 1);
    }
    if (fh < 0)
        return fh;
    ssize_t n = d->ops->pwrite(d, fh, data, len, 0);
    int rc = n < 0 ? (int)n : 0;
    if (!rc && sync)
        rc = d->ops->fsync(d, fh);
    int crc = d->ops->close(d, fh);
    if (!rc)
        rc = crc;
    if (!rc) {
        sc_path_parent(rel, parent, sizeof(parent));
        rc = d->ops->rename(d, tmp, rel);
        if (rc == -ENOENT && *parent) {
            rc = d->ops->mkdir_p(d, parent);
            if (!rc)
                rc = d->ops->rename(d, tmp, rel);
        }
        if (!rc && sync)
            rc = d->ops->fsync_dir(d, parent);
    }
    if (rc)
        d->ops->unlink(d, tmp);
    return rc;
}

int sc_drive_read_all(struct sc_drive *d, const char *rel, size_t max, uint8_t **data_r,
                      size_t *len_r)
{
    int fh = d->ops->open(d, rel, 0);
    if (fh < 0)
        return fh;
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap + 1);
    int rc = buf ? 0 : -ENOMEM;
    while (!rc) {
        if (len == cap) {
            if (cap >= max) {
                rc = -EFBIG;
                break;
            }
            cap *= 2;
            uint8_t *nb = realloc(buf, cap + 1);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            buf = nb;
        }
        ssize_t n = d->ops->pread(d, fh, buf + len, cap - len, len);
        if (n < 0)
            rc = (int)n;
        else if (n == 0)
            break;
        else
            len += (size_t)n;
    }
    d->ops->close(d, fh);
    if (!rc && len > max)
        rc = -EFBIG;
    if (rc) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *data_r = buf;
    *len_r = len;
    return 0;
}

void sc_drive_prune_dirs(struct sc_drive *d, const char *rel, const char *stop)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s", rel);
    size_t stoplen = strlen(stop);
    for (;;) {
        char *slash = strrchr(p, '/');
        if (!slash)
            return;
        *slash = '\0';
        if (strlen(p) <= stoplen)
            return;
        if (d->ops->rmdir(d, p))
            return;
    }
}
