/*
 * sc-drive.h -- the one interface through which the storage backends touch a
 * drive.  Today every drive is a local directory (sc_drive_local_new); a drive
 * on another node can later implement the same operations table.
 *
 * Paths are relative to the drive's root, '/'-separated, and built only by the
 * backends from encoded names (sc-keypath.h), never from raw client input.
 * Every operation returns 0 (or a byte count) on success and a negative errno
 * value on failure (-ENOENT, -EIO, ...).
 */
#ifndef CAIRN_SC_DRIVE_H
#define CAIRN_SC_DRIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

struct sc_drive;

/* Where the storage backends keep their own files on each drive. */
#define SC_SYS_DIR ".cairn.sys"
#define SC_TMP_DIR ".cairn.sys/tmp"

struct sc_drive_ops {
    int (*stat)(struct sc_drive *d, const char *rel, struct stat *st_r);
    /* Creates `rel` and its missing parents (each new directory is fsynced
     * into its parent, so a later fsync of `rel` makes the whole path durable). */
    int (*mkdir_p)(struct sc_drive *d, const char *rel);
    /* Opens a file: O_RDONLY, or (create) O_WRONLY|O_CREAT|O_TRUNC.  Returns a handle >= 0. */
    int (*open)(struct sc_drive *d, const char *rel, int create);
    ssize_t (*pwrite)(struct sc_drive *d, int fh, const void *buf, size_t len, uint64_t off);
    /* Reads up to len bytes; returns the count (short only at end of file). */
    ssize_t (*pread)(struct sc_drive *d, int fh, void *buf, size_t len, uint64_t off);
    int (*fsync)(struct sc_drive *d, int fh);
    int (*close)(struct sc_drive *d, int fh);
    /* Atomically replaces `to` with `from` (files, or directories onto absent/empty ones). */
    int (*rename)(struct sc_drive *d, const char *from, const char *to);
    int (*fsync_dir)(struct sc_drive *d, const char *rel);
    /* Names in `rel` except "." and ".." (unsorted), malloc'd array of malloc'd strings. */
    int (*readdir)(struct sc_drive *d, const char *rel, char ***names_r, size_t *n_r);
    int (*unlink)(struct sc_drive *d, const char *rel);
    /* Removes an empty directory. */
    int (*rmdir)(struct sc_drive *d, const char *rel);
    /* Removes `rel` and everything below it; absent is success. */
    int (*remove_tree)(struct sc_drive *d, const char *rel);
    void (*free)(struct sc_drive *d);
    /* Writes the buffers of iov[0..iovcnt) back to back at `off` in one call
     * where the drive can (a checksum and its block: one syscall, not two).
     * Returns the byte count written (all of them) or a negative errno. */
    ssize_t (*pwritev)(struct sc_drive *d, int fh, const struct iovec *iov, int iovcnt,
                       uint64_t off);
};

struct sc_drive {
    const struct sc_drive_ops *ops;
    char *name; /* for messages: the directory or URL */
    int online; /* 0 when missing, foreign or failed */
    int index;  /* position in the configured drive list */
    struct sc_metacache *mc; /* parsed metadata files (sc-metacache.h), NULL when off;
                                the drive holds a reference and invalidates the
                                paths it renames onto or unlinks */
};

/* A drive backed by the local directory `root`; NULL when out of memory. */
struct sc_drive *sc_drive_local_new(const char *root);

/* Makes drive d use (and hold a reference to) cache mc. */
void sc_drive_set_cache(struct sc_drive *d, struct sc_metacache *mc);

/* Frees a drive; NULL is a no-op. */
void sc_drive_free(struct sc_drive *d);

/* Frees what readdir returned. */
void sc_names_free(char **names, size_t n);

/*
 * Writes `len` bytes to `rel` atomically: a temporary file under SC_TMP_DIR,
 * fsync (when `sync`), rename over `rel` (creating its parent), fsync of the
 * parent directory (when `sync`).
 */
int sc_drive_write_atomic(struct sc_drive *d, const char *rel, const void *data, size_t len,
                          int sync);

/* Reads the whole file `rel` (at most `max` bytes, else -EFBIG) into a malloc'd buffer. */
int sc_drive_read_all(struct sc_drive *d, const char *rel, size_t max, uint8_t **data_r,
                      size_t *len_r);

/* Removes `rel`'s parent directories up to (not including) `stop` while they are empty. */
void sc_drive_prune_dirs(struct sc_drive *d, const char *rel, const char *stop);

/* Parent directory of `rel` copied into `out` ("" for a top-level name). */
void sc_path_parent(const char *rel, char *out, size_t cap);

#endif
