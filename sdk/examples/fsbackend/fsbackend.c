/*
 * fsbackend.c -- an example cairn backend plugin: every bucket and object in one
 * folder of one filesystem.  It is the template a vendor copies: it implements
 * the whole `struct cairn_backend_ops` contract of <cairn/plugin.h>, simply and
 * correctly, and is built with nothing but that header:
 *
 *     cc $(pkg-config --cflags cairn-plugin) -shared -fPIC -o fsbackend.so fsbackend.c
 *
 * Configuration: `root` (required), the folder that holds everything.
 *
 * Layout under root:
 *
 *     tmp/<id>                      files and folders being written; emptied at init
 *     buckets/<bucket>/info         bucket record: created_ms, owner
 *     buckets/<bucket>/config/<n>   bucket documents (policy, versioning, ...)
 *     buckets/<bucket>/meta/<h>     object sidecar, h = hex SHA-256 of the key: the
 *                                   key, data id, size, mtime, ETag, attrs
 *     buckets/<bucket>/data/<id>    object bytes
 *     buckets/<bucket>/uploads/<u>/ one multipart upload: `info` (key, attrs),
 *                                   `part.<n>` sidecars and their data files
 *
 * Object files are named by a hash of the key, so no key -- whatever bytes it
 * holds -- can name a path outside its bucket.  Keys with "." or ".." segments
 * are still refused, as the contract requires of every backend.
 *
 * Commit discipline: data is written to tmp/, fsynced, and renamed into place;
 * the sidecar, written the same way, is the commit point (it names the data file
 * by id).  A PUT whose body fails leaves only a tmp/ file, which it removes.
 * A short mutex serialises the "swap sidecar, drop old data" steps so that a
 * concurrent reader, overwrite, delete or set_attrs never sees a sidecar whose
 * data file is gone.
 *
 * Simplifications, fine for an example and documented here rather than hidden:
 *   - versioning: OFF semantics only; ENABLED and SUSPENDED buckets behave as
 *     OFF (one version per key, version id "" -- "null" in version listings);
 *   - listing reads every sidecar of the bucket and sorts them (O(n) per page);
 *   - completing a multipart upload copies the parts into one data file;
 *   - after a crash, unreferenced data files may remain (never visible).
 *
 * Sidecars and records are netstrings ("<len>:<bytes>,\n"), so keys and values
 * may hold any byte but NUL.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw */
#endif

#include <cairn/plugin.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define FS_MAGIC "cairn-fsbackend-1"
#define IO_BUF_SIZE (64 * 1024)      /* the one body buffer of a request */
#define MAX_KEY_LEN 1024
#define MAX_RECORD_SIZE (1024 * 1024) /* largest sidecar or bucket document we read */
#define ID_LEN 32                     /* hex digits of a random id */

/* A private "not there" result; callers turn it into the right CAIRN_E_NO_SUCH_*. */
#define FS_ABSENT 1

/* Fixed fields of an object sidecar before its attrs. */
enum { F_MAGIC, F_KEY, F_DATA, F_SIZE, F_MTIME, F_ETAG, F_PARTS, F_N_FIXED };

struct fs {
    const struct cairn_services *sv;
    char root[PATH_MAX / 2]; /* leaves room below it for our own names */
    pthread_mutex_t commit_lock;
};

/* One sidecar: an object, a part, or an upload's info. */
struct fs_object {
    const char *key;
    const char *data_id; /* "" for an upload's info */
    struct cairn_object_info info;
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

/* Formats a path into out[PATH_MAX]; CAIRN_E_INVALID_ARGUMENT when too long. */
__attribute__((format(printf, 2, 3))) static int path_fmt(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, PATH_MAX, fmt, ap);
    va_end(ap);
    return n < 0 || n >= PATH_MAX ? CAIRN_E_INVALID_ARGUMENT : 0;
}

static int errno_error(int e)
{
    return e == ENOMEM ? CAIRN_E_NOMEM : CAIRN_E_IO;
}

/* Writes a fresh random hex id (ID_LEN digits) into id[ID_LEN + 1]. */
static int new_id(struct fs *fs, char *id)
{
    uint8_t raw[ID_LEN / 2];
    if (fs->sv->random_bytes(raw, sizeof raw) != 0)
        return CAIRN_E_INTERNAL;
    for (size_t i = 0; i < sizeof raw; i++)
        sprintf(id + 2 * i, "%02x", raw[i]);
    return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno_error(errno);
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsyncs the directory that holds `path`, so a rename into it is durable. */
static int fsync_parent(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return errno_error(errno);
    int rc = fsync(fd) == 0 ? 0 : errno_error(errno);
    close(fd);
    return rc;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* rm -rf */
static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* 1 when the directory has no entries, 0 when it has, negative on error. */
static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return errno_error(errno);
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            empty = 0;
            break;
        }
    closedir(d);
    return empty;
}

/* Writes `len` bytes to `dest` atomically: tmp file, fsync, rename, fsync dir.
 * FS_ABSENT when dest's folder does not exist (e.g. the bucket was deleted). */
static int write_file_atomic(struct fs *fs, const char *dest, const void *data, size_t len)
{
    char id[ID_LEN + 1], tmp[PATH_MAX];
    int rc = new_id(fs, id);
    if (rc == 0)
        rc = path_fmt(tmp, "%s/tmp/%s", fs->root, id);
    if (rc != 0)
        return rc;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno_error(errno);
    rc = write_all(fd, data, len);
    if (rc == 0 && fsync(fd) != 0)
        rc = errno_error(errno);
    close(fd);
    if (rc == 0 && rename(tmp, dest) != 0)
        rc = errno == ENOENT ? FS_ABSENT : errno_error(errno);
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    return fsync_parent(dest);
}

/* Reads a whole small file into request memory (NUL-terminated).  FS_ABSENT when
 * it does not exist. */
static int read_file(struct fs *fs, struct cairn_req *req, const char *path, char **data_r,
                     size_t *len_r)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? FS_ABSENT : errno_error(errno);
    struct stat st;
    int rc = 0;
    char *data = NULL;
    if (fstat(fd, &st) != 0)
        rc = errno_error(errno);
    else if (st.st_size > MAX_RECORD_SIZE)
        rc = CAIRN_E_CORRUPT;
    else if (!(data = fs->sv->req_alloc(req, (size_t)st.st_size + 1)))
        rc = CAIRN_E_NOMEM;
    size_t got = 0;
    while (rc == 0 && got < (size_t)st.st_size) {
        ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = n < 0 ? errno_error(errno) : CAIRN_E_CORRUPT;
        else
            got += (size_t)n;
    }
    close(fd);
    if (rc != 0)
        return rc;
    data[got] = '\0';
    *data_r = data;
    *len_r = got;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Records: a file of netstrings                                             */
/* ------------------------------------------------------------------------ */

static int record_write(struct fs *fs, const char *dest, const char *const *fields, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(fields[i]) + 24;
    char *buf = malloc(len + 1), *p = buf;
    if (!buf)
        return CAIRN_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%zu:%s,\n", strlen(fields[i]), fields[i]);
    int rc = write_file_atomic(fs, dest, buf, (size_t)(p - buf));
    free(buf);
    return rc;
}

/* Reads a record into request memory: *fields_r[0..*n_r) point into it. */
static int record_read(struct fs *fs, struct cairn_req *req, const char *path, char ***fields_r,
                       size_t *n_r)
{
    char *data;
    size_t len;
    int rc = read_file(fs, req, path, &data, &len);
    if (rc != 0)
        return rc;
    /* Every netstring takes at least 3 bytes ("0:,"). */
    char **fields = fs->sv->req_alloc(req, (len / 3 + 1) * sizeof *fields);
    if (!fields)
        return CAIRN_E_NOMEM;
    size_t n = 0, pos = 0;
    while (pos < len) {
        if (data[pos] == '\n') {
            pos++;
            continue;
        }
        char *end;
        if (data[pos] < '0' || data[pos] > '9')
            return CAIRN_E_CORRUPT;
        unsigned long long flen = strtoull(data + pos, &end, 10);
        /* The ':' is inside the data; `rest` bytes follow it: the field and its ','. */
        size_t rest = *end == ':' ? len - (size_t)(end + 1 - data) : 0;
        if (flen >= rest || end[1 + flen] != ',')
            return CAIRN_E_CORRUPT;
        fields[n++] = end + 1;
        end[1 + flen] = '\0'; /* the ',' becomes the string's terminator */
        pos = (size_t)(end + 1 + flen + 1 - data);
    }
    if (n == 0 || strcmp(fields[0], FS_MAGIC) != 0)
        return CAIRN_E_CORRUPT;
    *fields_r = fields;
    *n_r = n;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Object sidecars                                                           */
/* ------------------------------------------------------------------------ */

static int object_read(struct fs *fs, struct cairn_req *req, const char *path,
                       struct fs_object *o)
{
    char **f;
    size_t n;
    int rc = record_read(fs, req, path, &f, &n);
    if (rc != 0)
        return rc;
    if (n < F_N_FIXED || (n - F_N_FIXED) % 2 != 0 || strlen(f[F_ETAG]) >= sizeof o->info.etag)
        return CAIRN_E_CORRUPT;
    /* The data id becomes part of a path: only our own ids (or none) are valid. */
    size_t id_len = strlen(f[F_DATA]);
    if (id_len != 0 && (id_len != ID_LEN || strspn(f[F_DATA], "0123456789abcdef") != ID_LEN))
        return CAIRN_E_CORRUPT;
    memset(o, 0, sizeof *o);
    o->key = f[F_KEY];
    o->data_id = f[F_DATA];
    o->info.size = strtoull(f[F_SIZE], NULL, 10);
    o->info.mtime_ms = strtoll(f[F_MTIME], NULL, 10);
    strcpy(o->info.etag, f[F_ETAG]);
    o->info.parts_count = (uint32_t)strtoul(f[F_PARTS], NULL, 10);
    o->info.is_latest = 1;
    o->info.n_attrs = (n - F_N_FIXED) / 2;
    o->info.attrs = fs->sv->req_alloc(req, (o->info.n_attrs + 1) * sizeof *o->info.attrs);
    if (!o->info.attrs)
        return CAIRN_E_NOMEM;
    for (size_t i = 0; i < o->info.n_attrs; i++) {
        o->info.attrs[i].name = f[F_N_FIXED + 2 * i];
        o->info.attrs[i].value = f[F_N_FIXED + 2 * i + 1];
    }
    return 0;
}

static int object_write(struct fs *fs, const char *path, const struct fs_object *o)
{
    char size[24], mtime[24], parts[16];
    snprintf(size, sizeof size, "%" PRIu64, o->info.size);
    snprintf(mtime, sizeof mtime, "%" PRId64, o->info.mtime_ms);
    snprintf(parts, sizeof parts, "%" PRIu32, o->info.parts_count);
    size_t n = F_N_FIXED + 2 * o->info.n_attrs;
    const char **f = calloc(n, sizeof *f);
    if (!f)
        return CAIRN_E_NOMEM;
    f[F_MAGIC] = FS_MAGIC;
    f[F_KEY] = o->key;
    f[F_DATA] = o->data_id;
    f[F_SIZE] = size;
    f[F_MTIME] = mtime;
    f[F_ETAG] = o->info.etag;
    f[F_PARTS] = parts;
    for (size_t i = 0; i < o->info.n_attrs; i++) {
        f[F_N_FIXED + 2 * i] = o->info.attrs[i].name;
        f[F_N_FIXED + 2 * i + 1] = o->info.attrs[i].value;
    }
    int rc = record_write(fs, path, f, n);
    free(f);
    return rc;
}

/* `base` with every attr of `over` applied (same name: replaced in place, new
 * name: appended), in request memory. */
static int merge_attrs(struct fs *fs, struct cairn_req *req, const struct cairn_kv *base,
                       size_t n_base, const struct cairn_kv *over, size_t n_over,
                       struct cairn_kv **out_r, size_t *n_r)
{
    struct cairn_kv *out = fs->sv->req_alloc(req, (n_base + n_over + 1) * sizeof *out);
    if (!out)
        return CAIRN_E_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < n_base; i++)
        out[n++] = base[i];
    for (size_t j = 0; j < n_over; j++) {
        size_t i = 0;
        while (i < n && strcmp(out[i].name, over[j].name) != 0)
            i++;
        out[i] = over[j];
        if (i == n)
            n++;
    }
    *out_r = out;
    *n_r = n;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Names and paths                                                           */
/* ------------------------------------------------------------------------ */

static int check_bucket_name(const char *b)
{
    size_t len = strlen(b);
    if (len == 0 || len > 255 || strchr(b, '/') || strcmp(b, ".") == 0 || strcmp(b, "..") == 0)
        return CAIRN_E_INVALID_BUCKET_NAME;
    return 0;
}

/* Keys: 1..1024 bytes, no "." or ".." segment (the contract's rule). */
static int check_key(const char *key)
{
    size_t len = strlen(key);
    if (len == 0)
        return CAIRN_E_INVALID_OBJECT_NAME;
    if (len > MAX_KEY_LEN)
        return CAIRN_E_KEY_TOO_LONG;
    for (const char *seg = key;;) {
        size_t n = strcspn(seg, "/");
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return CAIRN_E_INVALID_OBJECT_NAME;
        if (seg[n] == '\0')
            return 0;
        seg += n + 1;
    }
}

/* Upload ids are our own hex ids; anything else cannot exist (and must never
 * reach a path). */
static int check_upload_id(const char *id)
{
    size_t len = strlen(id);
    return len == ID_LEN && strspn(id, "0123456789abcdef") == len ? 0 : CAIRN_E_NO_SUCH_UPLOAD;
}

/* Bucket documents have short plain names. */
static int check_config_name(const char *name)
{
    size_t len = strlen(name);
    const char *ok = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    return len > 0 && len <= 64 && strspn(name, ok) == len ? 0 : CAIRN_E_INVALID_ARGUMENT;
}

/* 0 when the bucket exists; CAIRN_E_NO_SUCH_BUCKET or a name error otherwise. */
static int bucket_check(struct fs *fs, const char *bucket)
{
    char path[PATH_MAX];
    struct stat st;
    int rc = check_bucket_name(bucket);
    if (rc == 0)
        rc = path_fmt(path, "%s/buckets/%s/info", fs->root, bucket);
    if (rc == 0 && stat(path, &st) != 0)
        rc = CAIRN_E_NO_SUCH_BUCKET;
    return rc;
}

/* The sidecar path of bucket/key: checks both names and that the bucket exists. */
static int meta_path(struct fs *fs, const char *bucket, const char *key, char *path)
{
    int rc = check_key(key);
    if (rc == 0)
        rc = bucket_check(fs, bucket);
    if (rc != 0)
        return rc;
    struct cairn_hash *h = fs->sv->hash_new(CAIRN_HASH_SHA256);
    if (!h)
        return CAIRN_E_NOMEM;
    uint8_t digest[32];
    char hex[65];
    fs->sv->hash_update(h, key, strlen(key));
    fs->sv->hash_final(h, digest);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", digest[i]);
    return path_fmt(path, "%s/buckets/%s/meta/%s", fs->root, bucket, hex);
}

static int upload_dir(struct fs *fs, const char *bucket, const char *upload_id, char *path)
{
    int rc = check_upload_id(upload_id);
    if (rc == 0)
        rc = bucket_check(fs, bucket);
    return rc != 0 ? rc : path_fmt(path, "%s/buckets/%s/uploads/%s", fs->root, bucket, upload_id);
}

/* Reads an upload's info and checks that it belongs to `key`. */
static int upload_open(struct fs *fs, struct cairn_req *req, const char *bucket, const char *key,
                       const char *upload_id, char *dir, struct fs_object *info)
{
    char path[PATH_MAX];
    int rc = upload_dir(fs, bucket, upload_id, dir);
    if (rc == 0)
        rc = path_fmt(path, "%s/info", dir);
    if (rc == 0)
        rc = object_read(fs, req, path, info);
    if (rc == FS_ABSENT || (rc == 0 && strcmp(info->key, key) != 0))
        rc = CAIRN_E_NO_SUCH_UPLOAD;
    return rc;
}

/* Moves a folder out of sight into tmp/ (atomically), then deletes it. */
static int remove_dir_atomic(struct fs *fs, const char *dir)
{
    char id[ID_LEN + 1], tmp[PATH_MAX];
    int rc = new_id(fs, id);
    if (rc == 0)
        rc = path_fmt(tmp, "%s/tmp/%s", fs->root, id);
    if (rc == 0 && rename(dir, tmp) != 0)
        rc = errno == ENOENT ? FS_ABSENT : errno_error(errno);
    if (rc == 0)
        remove_tree(tmp);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Writing bodies and committing                                             */
/* ------------------------------------------------------------------------ */

/*
 * Streams the request body into tmp/<id>, fsyncs it and fills `o` from the
 * put and from what the core computed on the body (put->final).  On failure
 * the tmp file is gone and the error (e.g. the body_read error) is returned.
 */
static int receive_body(struct fs *fs, struct cairn_req *req, const struct cairn_put *put,
                        char *id, struct fs_object *o)
{
    char tmp[PATH_MAX];
    uint8_t *buf = fs->sv->req_alloc(req, IO_BUF_SIZE);
    if (!buf)
        return CAIRN_E_NOMEM;
    if (!put->final)
        return CAIRN_E_INVALID_ARGUMENT;
    int rc = new_id(fs, id);
    if (rc == 0)
        rc = path_fmt(tmp, "%s/tmp/%s", fs->root, id);
    if (rc != 0)
        return rc;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno_error(errno);
    uint64_t size = 0;
    for (;;) {
        ssize_t n = fs->sv->body_read(req, buf, IO_BUF_SIZE);
        if (n <= 0) {
            rc = (int)n; /* 0: the body is complete and passed every check */
            break;
        }
        if ((rc = write_all(fd, buf, (size_t)n)) != 0)
            break;
        size += (uint64_t)n;
    }
    if (rc == 0 && put->content_length >= 0 && size != (uint64_t)put->content_length)
        rc = CAIRN_E_INCOMPLETE_BODY;
    if (rc == 0 && fsync(fd) != 0)
        rc = errno_error(errno);
    close(fd);
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    memset(o, 0, sizeof *o);
    o->key = put->key;
    o->data_id = id;
    o->info.size = size;
    o->info.mtime_ms = fs->sv->now_ms();
    o->info.is_latest = 1;
    snprintf(o->info.etag, sizeof o->info.etag, "%s", put->final->etag);
    rc = merge_attrs(fs, req, put->attrs, put->n_attrs, put->final->attrs, put->final->n_attrs,
                     &o->info.attrs, &o->info.n_attrs);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

/*
 * Makes `o` visible: moves tmp/<o->data_id> into `data_dir`, replaces the
 * sidecar at `meta` and drops the data file of the sidecar it replaced.
 * `guard` is a file that must still exist (the bucket's or upload's info);
 * when it does not, returns `guard_err` and leaves nothing behind.
 */
static int commit(struct fs *fs, struct cairn_req *req, const char *guard, int guard_err,
                  const char *data_dir, const char *meta, const struct fs_object *o)
{
    char tmp[PATH_MAX], data[PATH_MAX], old_data[PATH_MAX] = "";
    struct fs_object old;
    struct stat st;
    int rc = path_fmt(tmp, "%s/tmp/%s", fs->root, o->data_id);
    if (rc == 0)
        rc = path_fmt(data, "%s/%s", data_dir, o->data_id);
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    pthread_mutex_lock(&fs->commit_lock);
    if (stat(guard, &st) != 0)
        rc = guard_err;
    if (rc == 0 && object_read(fs, req, meta, &old) == 0)
        path_fmt(old_data, "%s/%s", data_dir, old.data_id);
    if (rc == 0 && rename(tmp, data) != 0)
        rc = errno == ENOENT ? guard_err : errno_error(errno);
    else if (rc == 0 && (rc = fsync_parent(data)) != 0) /* the data before the sidecar */
        unlink(data);
    if (rc == 0 && (rc = object_write(fs, meta, o)) != 0) {
        unlink(data);
        rc = rc == FS_ABSENT ? guard_err : rc;
    }
    if (rc == 0 && old_data[0])
        unlink(old_data);
    pthread_mutex_unlock(&fs->commit_lock);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

/* Copies `o`'s info into *info_r, attrs included (they are request memory). */
static void fill_info(const struct fs_object *o, struct cairn_object_info *info_r)
{
    if (info_r)
        *info_r = o->info;
}

/* ------------------------------------------------------------------------ */
/* Buckets                                                                   */
/* ------------------------------------------------------------------------ */

static int fs_bucket_head(void *state, struct cairn_req *req, const char *bucket,
                          struct cairn_bucket_info *info_r)
{
    struct fs *fs = state;
    char path[PATH_MAX], **f;
    size_t n;
    int rc = check_bucket_name(bucket);
    if (rc == 0)
        rc = path_fmt(path, "%s/buckets/%s/info", fs->root, bucket);
    if (rc == 0)
        rc = record_read(fs, req, path, &f, &n);
    if (rc == FS_ABSENT)
        return CAIRN_E_NO_SUCH_BUCKET;
    if (rc != 0)
        return rc;
    if (n != 3)
        return CAIRN_E_CORRUPT;
    info_r->name = fs->sv->req_strdup(req, bucket);
    info_r->created_ms = strtoll(f[1], NULL, 10);
    info_r->owner = f[2];
    return info_r->name ? 0 : CAIRN_E_NOMEM;
}

static int fs_bucket_create(void *state, struct cairn_req *req, const struct cairn_bucket_info *b)
{
    struct fs *fs = state;
    char id[ID_LEN + 1], tmp[PATH_MAX], path[PATH_MAX], dest[PATH_MAX], created[24];
    int rc = check_bucket_name(b->name);
    if (rc == 0)
        rc = new_id(fs, id);
    if (rc == 0)
        rc = path_fmt(dest, "%s/buckets/%s", fs->root, b->name);
    if (rc == 0)
        rc = path_fmt(tmp, "%s/tmp/%s", fs->root, id);
    if (rc != 0)
        return rc;
    /* Build the bucket folder in tmp/, then rename it into place in one step. */
    if (mkdir(tmp, 0755) != 0)
        return errno_error(errno);
    static const char *const subdirs[] = {"meta", "data", "uploads", "config"};
    for (size_t i = 0; rc == 0 && i < sizeof subdirs / sizeof *subdirs; i++)
        if ((rc = path_fmt(path, "%s/%s", tmp, subdirs[i])) == 0 && mkdir(path, 0755) != 0)
            rc = errno_error(errno);
    int64_t created_ms = b->created_ms > 0 ? b->created_ms : fs->sv->now_ms();
    snprintf(created, sizeof created, "%" PRId64, created_ms);
    const char *owner = b->owner ? b->owner : "";
    const char *fields[] = {FS_MAGIC, created, owner};
    if (rc == 0 && (rc = path_fmt(path, "%s/info", tmp)) == 0)
        rc = record_write(fs, path, fields, 3);
    if (rc == 0 && rename(tmp, dest) != 0) {
        /* A bucket folder is never empty, so rename refuses to replace one. */
        struct cairn_bucket_info old;
        if (errno != EEXIST && errno != ENOTEMPTY)
            rc = errno_error(errno);
        else if (fs_bucket_head(fs, req, b->name, &old) == 0 && strcmp(old.owner, owner) == 0)
            rc = CAIRN_E_BUCKET_OWNED_BY_YOU;
        else
            rc = CAIRN_E_BUCKET_EXISTS;
    }
    if (rc != 0) {
        remove_tree(tmp);
        return rc;
    }
    return fsync_parent(dest);
}

static int fs_bucket_delete(void *state, struct cairn_req *req, const char *bucket)
{
    struct fs *fs = state;
    char dir[PATH_MAX], meta[PATH_MAX], uploads[PATH_MAX];
    int rc = bucket_check(fs, bucket);
    if (rc == 0)
        rc = path_fmt(dir, "%s/buckets/%s", fs->root, bucket);
    if (rc == 0)
        rc = path_fmt(meta, "%s/meta", dir);
    if (rc == 0)
        rc = path_fmt(uploads, "%s/uploads", dir);
    if (rc != 0)
        return rc;
    /* Under the commit lock no object or upload can appear while we look. */
    pthread_mutex_lock(&fs->commit_lock);
    int empty = dir_is_empty(meta);
    if (empty == 1)
        empty = dir_is_empty(uploads);
    if (empty < 0)
        rc = empty;
    else if (empty == 0)
        rc = CAIRN_E_BUCKET_NOT_EMPTY;
    else
        rc = remove_dir_atomic(fs, dir);
    pthread_mutex_unlock(&fs->commit_lock);
    return rc == FS_ABSENT ? CAIRN_E_NO_SUCH_BUCKET : rc;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int fs_bucket_list(void *state, struct cairn_req *req,
                          int (*emit)(void *ctx, const struct cairn_bucket_info *b), void *ctx)
{
    struct fs *fs = state;
    char path[PATH_MAX];
    int rc = path_fmt(path, "%s/buckets", fs->root);
    if (rc != 0)
        return rc;
    DIR *d = opendir(path);
    if (!d)
        return errno_error(errno);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            char **grown = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof *names);
            if (!grown) {
                rc = CAIRN_E_NOMEM;
                break;
            }
            names = grown;
        }
        if (!(names[n++] = fs->sv->req_strdup(req, e->d_name)))
            rc = CAIRN_E_NOMEM;
    }
    closedir(d);
    if (rc == 0 && n > 1)
        qsort(names, n, sizeof *names, compare_strings);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct cairn_bucket_info b;
        int h = fs_bucket_head(fs, req, names[i], &b);
        if (h == CAIRN_E_NO_SUCH_BUCKET)
            continue; /* deleted meanwhile */
        rc = h != 0 ? h : emit(ctx, &b);
    }
    free(names);
    return rc > 0 ? 0 : rc; /* emit returned 1: stop */
}

/* ---- bucket documents -------------------------------------------------- */

static int config_path(struct fs *fs, const char *bucket, const char *name, char *path)
{
    int rc = check_config_name(name);
    if (rc == 0)
        rc = bucket_check(fs, bucket);
    return rc != 0 ? rc : path_fmt(path, "%s/buckets/%s/config/%s", fs->root, bucket, name);
}

static int fs_bucket_config_get(void *state, struct cairn_req *req, const char *bucket,
                                const char *name, char **data_r, size_t *len_r)
{
    char path[PATH_MAX];
    int rc = config_path(state, bucket, name, path);
    if (rc == 0)
        rc = read_file(state, req, path, data_r, len_r);
    return rc == FS_ABSENT ? CAIRN_E_NO_SUCH_CONFIG : rc;
}

static int fs_bucket_config_put(void *state, struct cairn_req *req, const char *bucket,
                                const char *name, const void *data, size_t len)
{
    char path[PATH_MAX];
    int rc = config_path(state, bucket, name, path);
    if (rc == 0 && len > MAX_RECORD_SIZE)
        rc = CAIRN_E_ENTITY_TOO_LARGE;
    if (rc == 0)
        rc = write_file_atomic(state, path, data, len);
    return rc == FS_ABSENT ? CAIRN_E_NO_SUCH_BUCKET : rc;
}

static int fs_bucket_config_delete(void *state, struct cairn_req *req, const char *bucket,
                                   const char *name)
{
    char path[PATH_MAX];
    int rc = config_path(state, bucket, name, path);
    if (rc == 0 && unlink(path) != 0 && errno != ENOENT)
        rc = errno_error(errno);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Objects                                                                   */
/* ------------------------------------------------------------------------ */

/* With versioning OFF the only version is the latest, "" or "null". */
static int is_latest_version(const char *version_id)
{
    return !version_id || !*version_id || strcmp(version_id, "null") == 0;
}

static int fs_object_put(void *state, struct cairn_req *req, const struct cairn_put *put,
                         struct cairn_object_info *info_r)
{
    struct fs *fs = state;
    char meta[PATH_MAX], guard[PATH_MAX], data_dir[PATH_MAX], id[ID_LEN + 1];
    struct fs_object o;
    int rc = meta_path(fs, put->bucket, put->key, meta);
    if (rc == 0)
        rc = path_fmt(guard, "%s/buckets/%s/info", fs->root, put->bucket);
    if (rc == 0)
        rc = path_fmt(data_dir, "%s/buckets/%s/data", fs->root, put->bucket);
    if (rc == 0)
        rc = receive_body(fs, req, put, id, &o);
    if (rc == 0)
        rc = commit(fs, req, guard, CAIRN_E_NO_SUCH_BUCKET, data_dir, meta, &o);
    if (rc == 0)
        fill_info(&o, info_r);
    return rc;
}

static int fs_object_get(void *state, struct cairn_req *req, const struct cairn_get *get)
{
    struct fs *fs = state;
    char meta[PATH_MAX], data[PATH_MAX];
    struct fs_object o;
    int rc = meta_path(fs, get->bucket, get->key, meta);
    if (rc != 0)
        return rc;
    if (!is_latest_version(get->version_id))
        return CAIRN_E_NO_SUCH_VERSION;
    /* Open the data under the lock: once open, an overwrite cannot take it away. */
    int fd = -1;
    pthread_mutex_lock(&fs->commit_lock);
    rc = object_read(fs, req, meta, &o);
    if (rc == 0 && strcmp(o.key, get->key) != 0)
        rc = FS_ABSENT; /* a hash collision: not our key */
    if (rc == 0)
        rc = path_fmt(data, "%s/buckets/%s/data/%s", fs->root, get->bucket, o.data_id);
    if (rc == 0 && (fd = open(data, O_RDONLY | O_CLOEXEC)) < 0)
        rc = errno_error(errno);
    pthread_mutex_unlock(&fs->commit_lock);
    if (rc != 0)
        return rc == FS_ABSENT ? CAIRN_E_NO_SUCH_KEY : rc;

    uint64_t offset = 0, length = 0;
    rc = get->decide(get->ctx, &o.info, &offset, &length);
    if (rc == 0 && (offset > o.info.size || length > o.info.size - offset))
        rc = CAIRN_E_INVALID_RANGE;
    uint8_t *buf = rc == 0 ? fs->sv->req_alloc(req, IO_BUF_SIZE) : NULL;
    if (rc == 0 && !buf)
        rc = CAIRN_E_NOMEM;
    while (rc == 0 && length > 0) {
        size_t want = length < IO_BUF_SIZE ? (size_t)length : IO_BUF_SIZE;
        ssize_t n = pread(fd, buf, want, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? errno_error(errno) : CAIRN_E_CORRUPT; /* file shorter than its size */
            break;
        }
        rc = fs->sv->body_write(req, buf, (size_t)n);
        offset += (uint64_t)n;
        length -= (uint64_t)n;
    }
    close(fd);
    return rc > 0 ? 0 : rc; /* decide() returned 1: no body wanted */
}

static int fs_object_delete(void *state, struct cairn_req *req, const char *bucket,
                            const char *key, const char *version_id,
                            enum cairn_versioning versioning, struct cairn_object_info *info_r)
{
    struct fs *fs = state;
    char meta[PATH_MAX], data[PATH_MAX];
    struct fs_object o;
    if (info_r)
        memset(info_r, 0, sizeof *info_r);
    int rc = meta_path(fs, bucket, key, meta);
    if (rc != 0 || !is_latest_version(version_id))
        return rc; /* an unknown version is absent: deleting it succeeds */
    pthread_mutex_lock(&fs->commit_lock);
    rc = object_read(fs, req, meta, &o);
    if (rc == 0 && strcmp(o.key, key) != 0)
        rc = FS_ABSENT;
    data[0] = '\0';
    if (rc == CAIRN_E_CORRUPT)
        rc = 0; /* a damaged sidecar can still be deleted; its data file stays as garbage */
    else if (rc == 0)
        rc = path_fmt(data, "%s/buckets/%s/data/%s", fs->root, bucket, o.data_id);
    if (rc == 0 && unlink(meta) != 0)
        rc = errno_error(errno);
    if (rc == 0) {
        if (data[0])
            unlink(data);
        rc = fsync_parent(meta);
    }
    pthread_mutex_unlock(&fs->commit_lock);
    return rc == FS_ABSENT ? 0 : rc;
}

static int fs_object_set_attrs(void *state, struct cairn_req *req, const char *bucket,
                               const char *key, const char *version_id, size_t n_attrs,
                               const struct cairn_kv *attrs)
{
    struct fs *fs = state;
    char meta[PATH_MAX];
    struct fs_object o;
    int rc = meta_path(fs, bucket, key, meta);
    if (rc != 0)
        return rc;
    if (!is_latest_version(version_id))
        return CAIRN_E_NO_SUCH_VERSION;
    pthread_mutex_lock(&fs->commit_lock);
    rc = object_read(fs, req, meta, &o);
    if (rc == 0 && strcmp(o.key, key) != 0)
        rc = FS_ABSENT;
    if (rc == 0) {
        o.info.attrs = (struct cairn_kv *)attrs; /* only read by object_write */
        o.info.n_attrs = n_attrs;
        rc = object_write(fs, meta, &o);
    }
    pthread_mutex_unlock(&fs->commit_lock);
    return rc == FS_ABSENT ? CAIRN_E_NO_SUCH_KEY : rc;
}

/* ---- listing ----------------------------------------------------------- */

struct list_item {
    const char *name; /* key or common prefix */
    struct fs_object *object; /* NULL for a common prefix */
};

static int compare_items(const void *a, const void *b)
{
    return strcmp(((const struct list_item *)a)->name, ((const struct list_item *)b)->name);
}

static int fs_object_list(void *state, struct cairn_req *req, const struct cairn_list *list)
{
    struct fs *fs = state;
    char dir[PATH_MAX], path[PATH_MAX];
    int rc = bucket_check(fs, list->bucket);
    if (rc == 0)
        rc = path_fmt(dir, "%s/buckets/%s/meta", fs->root, list->bucket);
    if (rc != 0)
        return rc;
    const char *prefix = list->prefix ? list->prefix : "";
    const char *delim = list->delimiter ? list->delimiter : "";
    const char *after = list->after ? list->after : "";
    size_t prefix_len = strlen(prefix);

    /* Read every sidecar, keep what matches, roll keys up at the delimiter. */
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? CAIRN_E_NO_SUCH_BUCKET : errno_error(errno);
    struct list_item *items = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        struct fs_object *o = fs->sv->req_alloc(req, sizeof *o);
        if (!o || path_fmt(path, "%s/%s", dir, e->d_name) != 0) {
            rc = o ? CAIRN_E_INTERNAL : CAIRN_E_NOMEM;
            break;
        }
        int r = object_read(fs, req, path, o);
        if (r == CAIRN_E_CORRUPT)
            fs->sv->log(req, CAIRN_LOG_WARN, "fsbackend: skipping damaged sidecar %s", path);
        if (r == FS_ABSENT || r == CAIRN_E_CORRUPT ||
            (r == 0 && strncmp(o->key, prefix, prefix_len) != 0))
            continue;
        if ((rc = r) != 0)
            break;
        struct list_item item = {o->key, o};
        const char *cut = *delim ? strstr(o->key + prefix_len, delim) : NULL;
        if (cut) {
            item.name = fs->sv->req_alloc(req, (size_t)(cut - o->key) + strlen(delim) + 1);
            if (!item.name) {
                rc = CAIRN_E_NOMEM;
                break;
            }
            memcpy((char *)item.name, o->key, (size_t)(cut - o->key) + strlen(delim));
            item.object = NULL;
        }
        if (strcmp(item.name, after) <= 0)
            continue;
        if (n == cap) {
            struct list_item *grown = realloc(items, (cap = cap ? 2 * cap : 64) * sizeof *items);
            if (!grown) {
                rc = CAIRN_E_NOMEM;
                break;
            }
            items = grown;
        }
        items[n++] = item;
    }
    closedir(d);
    if (rc == 0 && n > 1)
        qsort(items, n, sizeof *items, compare_items);

    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i > 0 && !items[i].object && strcmp(items[i].name, items[i - 1].name) == 0)
            continue; /* the same common prefix again */
        struct cairn_list_entry entry = {.key = items[i].name};
        if (items[i].object) {
            entry.kind = CAIRN_LIST_OBJECT;
            entry.info = items[i].object->info;
            if (list->versions)
                strcpy(entry.info.version_id, "null");
        } else {
            entry.kind = CAIRN_LIST_PREFIX;
        }
        rc = list->emit(list->ctx, &entry);
    }
    free(items);
    return rc > 0 ? 0 : rc; /* emit returned 1: stop */
}

/* ------------------------------------------------------------------------ */
/* Multipart uploads                                                         */
/* ------------------------------------------------------------------------ */

static int fs_mpu_create(void *state, struct cairn_req *req, const char *bucket, const char *key,
                         size_t n_attrs, const struct cairn_kv *attrs, char upload_id_r[128])
{
    struct fs *fs = state;
    char id[ID_LEN + 1], tmp[PATH_MAX], path[PATH_MAX], dest[PATH_MAX];
    int rc = check_key(key);
    if (rc == 0)
        rc = bucket_check(fs, bucket);
    if (rc == 0)
        rc = new_id(fs, upload_id_r);
    if (rc == 0)
        rc = new_id(fs, id);
    if (rc == 0)
        rc = path_fmt(tmp, "%s/tmp/%s", fs->root, id);
    if (rc == 0)
        rc = path_fmt(path, "%s/info", tmp);
    if (rc == 0)
        rc = path_fmt(dest, "%s/buckets/%s/uploads/%s", fs->root, bucket, upload_id_r);
    if (rc != 0)
        return rc;
    /* The upload's info is a sidecar without data: key, initiation time, attrs. */
    struct fs_object info = {.key = key, .data_id = ""};
    info.info.mtime_ms = fs->sv->now_ms();
    info.info.n_attrs = n_attrs;
    info.info.attrs = (struct cairn_kv *)attrs; /* only read */
    if (mkdir(tmp, 0755) != 0)
        return errno_error(errno);
    rc = object_write(fs, path, &info);
    if (rc == 0 && rename(tmp, dest) != 0)
        rc = errno == ENOENT ? CAIRN_E_NO_SUCH_BUCKET : errno_error(errno);
    if (rc != 0) {
        remove_tree(tmp);
        return rc;
    }
    return fsync_parent(dest);
}

static int fs_mpu_put_part(void *state, struct cairn_req *req, const char *upload_id,
                           uint32_t part_number, const struct cairn_put *put,
                           struct cairn_object_info *info_r)
{
    struct fs *fs = state;
    char dir[PATH_MAX], guard[PATH_MAX], meta[PATH_MAX], id[ID_LEN + 1];
    struct fs_object info, o;
    if (part_number < 1 || part_number > 10000)
        return CAIRN_E_INVALID_ARGUMENT;
    int rc = upload_open(fs, req, put->bucket, put->key, upload_id, dir, &info);
    if (rc == 0)
        rc = path_fmt(guard, "%s/info", dir);
    if (rc == 0)
        rc = path_fmt(meta, "%s/part.%" PRIu32, dir, part_number);
    if (rc == 0)
        rc = receive_body(fs, req, put, id, &o);
    if (rc == 0)
        rc = commit(fs, req, guard, CAIRN_E_NO_SUCH_UPLOAD, dir, meta, &o);
    if (rc == 0)
        fill_info(&o, info_r);
    return rc;
}

/* Reads part `number` of the upload in `dir`; FS_ABSENT when it has none. */
static int part_read(struct fs *fs, struct cairn_req *req, const char *dir, uint32_t number,
                     struct fs_object *o)
{
    char path[PATH_MAX];
    int rc = path_fmt(path, "%s/part.%" PRIu32, dir, number);
    return rc != 0 ? rc : object_read(fs, req, path, o);
}

static int compare_parts(const void *a, const void *b)
{
    uint32_t x = ((const struct cairn_part_info *)a)->number;
    uint32_t y = ((const struct cairn_part_info *)b)->number;
    return (x > y) - (x < y);
}

static int fs_mpu_list_parts(void *state, struct cairn_req *req, const char *bucket,
                             const char *key, const char *upload_id, uint32_t after_part,
                             int (*emit)(void *ctx, const struct cairn_part_info *p), void *ctx)
{
    struct fs *fs = state;
    char dir[PATH_MAX];
    struct fs_object info;
    int rc = upload_open(fs, req, bucket, key, upload_id, dir, &info);
    if (rc != 0)
        return rc;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? CAIRN_E_NO_SUCH_UPLOAD : errno_error(errno);
    struct cairn_part_info *parts = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char *end;
        if (strncmp(e->d_name, "part.", 5) != 0)
            continue;
        unsigned long number = strtoul(e->d_name + 5, &end, 10);
        struct fs_object o;
        if (*end != '\0' || number <= after_part || number > 10000)
            continue;
        int r = part_read(fs, req, dir, (uint32_t)number, &o);
        if (r == FS_ABSENT)
            continue;
        if ((rc = r) != 0)
            break;
        if (n == cap) {
            struct cairn_part_info *grown = realloc(parts, (cap = cap ? 2 * cap : 16) * sizeof *parts);
            if (!grown) {
                rc = CAIRN_E_NOMEM;
                break;
            }
            parts = grown;
        }
        struct cairn_part_info *p = &parts[n++];
        memset(p, 0, sizeof *p);
        p->number = (uint32_t)number;
        memcpy(p->etag, o.info.etag, sizeof p->etag);
        p->size = o.info.size;
        p->mtime_ms = o.info.mtime_ms;
        p->n_attrs = o.info.n_attrs;
        p->attrs = o.info.attrs;
    }
    closedir(d);
    if (rc == 0 && n > 1)
        qsort(parts, n, sizeof *parts, compare_parts);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = emit(ctx, &parts[i]);
    free(parts);
    return rc > 0 ? 0 : rc;
}

/* Compares ETags as clients send them: quotes and case do not matter. */
static int etag_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la >= 2 && a[0] == '"' && a[la - 1] == '"')
        a++, la -= 2;
    if (lb >= 2 && b[0] == '"' && b[lb - 1] == '"')
        b++, lb -= 2;
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* Parses the 32 hex digits of a single-part ETag into 16 bytes. */
static int etag_to_md5(const char *etag, uint8_t md5[16])
{
    for (int i = 0; i < 16; i++)
        if (sscanf(etag + 2 * i, "%2hhx", &md5[i]) != 1)
            return CAIRN_E_CORRUPT;
    return 0;
}

/* Appends the data file `src` to the open file `fd`. */
static int append_file(const char *src, int fd, uint8_t *buf)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return errno_error(errno);
    int rc = 0;
    for (;;) {
        ssize_t n = read(in, buf, IO_BUF_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? errno_error(errno) : 0;
            break;
        }
        if ((rc = write_all(fd, buf, (size_t)n)) != 0)
            break;
    }
    close(in);
    return rc;
}

static int fs_mpu_complete(void *state, struct cairn_req *req, const char *bucket,
                           const char *key, const char *upload_id,
                           const struct cairn_part_info *parts, size_t n_parts,
                           uint64_t min_part_size, enum cairn_versioning versioning,
                           size_t n_attrs, const struct cairn_kv *attrs,
                           struct cairn_object_info *info_r)
{
    struct fs *fs = state;
    char dir[PATH_MAX], meta[PATH_MAX], guard[PATH_MAX], data_dir[PATH_MAX], tmp[PATH_MAX];
    char path[PATH_MAX], id[ID_LEN + 1];
    struct fs_object info, o;
    int rc = upload_open(fs, req, bucket, key, upload_id, dir, &info);
    if (rc == 0)
        rc = meta_path(fs, bucket, key, meta);
    if (rc == 0)
        rc = path_fmt(guard, "%s/buckets/%s/info", fs->root, bucket);
    if (rc == 0)
        rc = path_fmt(data_dir, "%s/buckets/%s/data", fs->root, bucket);
    if (rc == 0 && n_parts == 0)
        rc = CAIRN_E_MALFORMED_XML;
    if (rc != 0)
        return rc;

    /* Check every part first (InvalidPart wins), then the sizes. */
    struct fs_object *stored = fs->sv->req_alloc(req, n_parts * sizeof *stored);
    if (!stored)
        return CAIRN_E_NOMEM;
    for (size_t i = 0; i < n_parts; i++) {
        if (i > 0 && parts[i].number <= parts[i - 1].number)
            return CAIRN_E_INVALID_PART_ORDER;
        rc = part_read(fs, req, dir, parts[i].number, &stored[i]);
        if (rc == FS_ABSENT || (rc == 0 && !etag_equal(parts[i].etag, stored[i].info.etag)))
            return CAIRN_E_INVALID_PART;
        if (rc != 0)
            return rc;
    }
    for (size_t i = 0; i + 1 < n_parts; i++)
        if (stored[i].info.size < min_part_size)
            return CAIRN_E_ENTITY_TOO_SMALL;

    /* The multipart ETag: MD5 of the concatenated binary part MD5s, "-N". */
    struct cairn_hash *h = fs->sv->hash_new(CAIRN_HASH_MD5);
    if (!h)
        return CAIRN_E_NOMEM;
    uint64_t size = 0;
    for (size_t i = 0; i < n_parts; i++) {
        uint8_t md5[16];
        if (rc == 0)
            rc = etag_to_md5(stored[i].info.etag, md5);
        if (rc == 0)
            fs->sv->hash_update(h, md5, sizeof md5);
        size += stored[i].info.size;
    }
    uint8_t digest[32];
    fs->sv->hash_final(h, digest);
    if (rc != 0)
        return rc;

    memset(&o, 0, sizeof o);
    o.key = key;
    o.data_id = id;
    o.info.size = size;
    o.info.is_latest = 1;
    o.info.parts_count = (uint32_t)n_parts;
    for (int i = 0; i < 16; i++)
        sprintf(o.info.etag + 2 * i, "%02x", digest[i]);
    snprintf(o.info.etag + 32, sizeof o.info.etag - 32, "-%zu", n_parts);
    rc = merge_attrs(fs, req, info.info.attrs, info.info.n_attrs, attrs, n_attrs, &o.info.attrs,
                     &o.info.n_attrs);

    /* An example's shortcut: copy the parts into one new data file. */
    uint8_t *buf = fs->sv->req_alloc(req, IO_BUF_SIZE);
    if (rc == 0 && !buf)
        rc = CAIRN_E_NOMEM;
    if (rc == 0)
        rc = new_id(fs, id);
    if (rc == 0)
        rc = path_fmt(tmp, "%s/tmp/%s", fs->root, id);
    if (rc != 0)
        return rc;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno_error(errno);
    for (size_t i = 0; rc == 0 && i < n_parts; i++)
        if ((rc = path_fmt(path, "%s/%s", dir, stored[i].data_id)) == 0)
            rc = append_file(path, fd, buf);
    if (rc == 0 && fsync(fd) != 0)
        rc = errno_error(errno);
    close(fd);
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    o.info.mtime_ms = fs->sv->now_ms();
    rc = commit(fs, req, guard, CAIRN_E_NO_SUCH_BUCKET, data_dir, meta, &o);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&fs->commit_lock);
    remove_dir_atomic(fs, dir);
    pthread_mutex_unlock(&fs->commit_lock);
    fill_info(&o, info_r);
    return 0;
}

static int fs_mpu_abort(void *state, struct cairn_req *req, const char *bucket, const char *key,
                        const char *upload_id)
{
    struct fs *fs = state;
    char dir[PATH_MAX];
    struct fs_object info;
    int rc = upload_open(fs, req, bucket, key, upload_id, dir, &info);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&fs->commit_lock);
    rc = remove_dir_atomic(fs, dir);
    pthread_mutex_unlock(&fs->commit_lock);
    return rc == FS_ABSENT ? CAIRN_E_NO_SUCH_UPLOAD : rc;
}

/* Uploads sort by key, then initiation time, then id. */
static int compare_uploads(const void *a, const void *b)
{
    const struct cairn_upload_info *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c == 0)
        c = (x->initiated_ms > y->initiated_ms) - (x->initiated_ms < y->initiated_ms);
    return c != 0 ? c : strcmp(x->upload_id, y->upload_id);
}

static int fs_mpu_list(void *state, struct cairn_req *req, const char *bucket, const char *prefix,
                       const char *key_marker, const char *upload_id_marker,
                       int (*emit)(void *ctx, const struct cairn_upload_info *u), void *ctx)
{
    struct fs *fs = state;
    char dir[PATH_MAX], path[PATH_MAX];
    int rc = bucket_check(fs, bucket);
    if (rc == 0)
        rc = path_fmt(dir, "%s/buckets/%s/uploads", fs->root, bucket);
    if (rc != 0)
        return rc;
    prefix = prefix ? prefix : "";
    key_marker = key_marker ? key_marker : "";
    upload_id_marker = upload_id_marker ? upload_id_marker : "";
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? CAIRN_E_NO_SUCH_BUCKET : errno_error(errno);
    struct cairn_upload_info *ups = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        struct fs_object info;
        if (check_upload_id(e->d_name) != 0 || path_fmt(path, "%s/%s/info", dir, e->d_name) != 0)
            continue;
        int r = object_read(fs, req, path, &info);
        if (r == FS_ABSENT || (r == 0 && strncmp(info.key, prefix, strlen(prefix)) != 0))
            continue;
        if ((rc = r) != 0)
            break;
        if (n == cap) {
            struct cairn_upload_info *grown = realloc(ups, (cap = cap ? 2 * cap : 16) * sizeof *ups);
            if (!grown) {
                rc = CAIRN_E_NOMEM;
                break;
            }
            ups = grown;
        }
        ups[n].key = info.key;
        ups[n].upload_id = fs->sv->req_strdup(req, e->d_name);
        ups[n].initiated_ms = info.info.mtime_ms;
        ups[n].n_attrs = info.info.n_attrs;
        ups[n].attrs = info.info.attrs;
        if (!ups[n++].upload_id)
            rc = CAIRN_E_NOMEM;
    }
    closedir(d);
    if (rc == 0 && n > 1)
        qsort(ups, n, sizeof *ups, compare_uploads);

    /* Resume after the marker: past key_marker, or past that upload of it. */
    const struct cairn_upload_info *marker = NULL;
    for (size_t i = 0; i < n && *upload_id_marker; i++)
        if (strcmp(ups[i].key, key_marker) == 0 && strcmp(ups[i].upload_id, upload_id_marker) == 0)
            marker = &ups[i];
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int c = strcmp(ups[i].key, key_marker);
        if (*key_marker && (c < 0 || (c == 0 && (!marker || compare_uploads(&ups[i], marker) <= 0))))
            continue;
        rc = emit(ctx, &ups[i]);
    }
    free(ups);
    return rc > 0 ? 0 : rc;
}

/* ------------------------------------------------------------------------ */
/* Instance and descriptor                                                   */
/* ------------------------------------------------------------------------ */

static int fs_init(const struct cairn_services *sv, const struct cairn_config *config,
                   void **state_r)
{
    const char *root = sv->config_string(config, "root", NULL);
    if (!root || !*root) {
        sv->log(NULL, CAIRN_LOG_ERROR, "fsbackend: the setting `root` is required");
        return CAIRN_E_INVALID_ARGUMENT;
    }
    struct fs *fs = calloc(1, sizeof *fs);
    if (!fs)
        return CAIRN_E_NOMEM;
    fs->sv = sv;
    if ((size_t)snprintf(fs->root, sizeof fs->root, "%s", root) >= sizeof fs->root) {
        sv->log(NULL, CAIRN_LOG_ERROR, "fsbackend: root path too long: %s", root);
        free(fs);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    /* root, root/buckets and a fresh root/tmp (leftovers of a crash are garbage). */
    char buckets[PATH_MAX], tmp[PATH_MAX];
    snprintf(buckets, sizeof buckets, "%s/buckets", fs->root);
    snprintf(tmp, sizeof tmp, "%s/tmp", fs->root);
    remove_tree(tmp);
    if ((mkdir(fs->root, 0755) != 0 && errno != EEXIST) ||
        (mkdir(buckets, 0755) != 0 && errno != EEXIST) || mkdir(tmp, 0755) != 0) {
        sv->log(NULL, CAIRN_LOG_ERROR, "fsbackend: cannot create folders under %s: %s", fs->root,
                strerror(errno));
        free(fs);
        return CAIRN_E_IO;
    }
    pthread_mutex_init(&fs->commit_lock, NULL);
    sv->log(NULL, CAIRN_LOG_INFO, "fsbackend: storing in %s", fs->root);
    *state_r = fs;
    return 0;
}

static void fs_fini(void *state)
{
    struct fs *fs = state;
    pthread_mutex_destroy(&fs->commit_lock);
    free(fs);
}

static const struct cairn_backend_ops fs_ops = {
    .size = sizeof(struct cairn_backend_ops),
    .bucket_create = fs_bucket_create,
    .bucket_delete = fs_bucket_delete,
    .bucket_head = fs_bucket_head,
    .bucket_list = fs_bucket_list,
    .bucket_config_get = fs_bucket_config_get,
    .bucket_config_put = fs_bucket_config_put,
    .bucket_config_delete = fs_bucket_config_delete,
    .object_put = fs_object_put,
    .object_get = fs_object_get,
    .object_delete = fs_object_delete,
    .object_set_attrs = fs_object_set_attrs,
    .object_list = fs_object_list,
    .mpu_create = fs_mpu_create,
    .mpu_put_part = fs_mpu_put_part,
    .mpu_list_parts = fs_mpu_list_parts,
    .mpu_complete = fs_mpu_complete,
    .mpu_abort = fs_mpu_abort,
    .mpu_list = fs_mpu_list,
    .heal = NULL, /* one folder: nothing to heal */
};

/* The one exported symbol. */
CAIRN_PLUGIN_EXPORT const struct cairn_plugin_descriptor cairn_plugin = {
    .abi_major = CAIRN_ABI_MAJOR,
    .abi_minor = CAIRN_ABI_MINOR,
    .kind = CAIRN_PLUGIN_BACKEND,
    .name = "fsbackend",
    .version = "1.0",
    .init = fs_init,
    .fini = fs_fini,
    .backend = &fs_ops,
};
