/*
 * sc-keypath.h -- object keys and bucket names to drive paths, with no way out
 * of the drive.
 *
 * A key is split at '/' into segments; each segment becomes one directory
 * level.  A segment is written as a file name that is always safe:
 *   - '%' becomes "%25" and a leading '.' becomes "%2E" (names starting with
 *     '.' are the backend's own: ".obj", ".d.<id>", ".cairn.sys", ...);
 *   - an empty segment (from "a//b" or a trailing '/') becomes "%";
 *   - a segment longer than SC_PIECE raw bytes is cut into pieces of SC_PIECE
 *     bytes; every piece after the first is a nested directory named "%+"
 *     followed by the piece's encoding.
 * So no output is "", "." or "..", none contains '/' or NUL, and each name is
 * at most 242 bytes.  The object's own files live in the directory of its last
 * segment (SC_OBJ_FILE), so "a" and "a/b" coexist.
 */
#ifndef CAIRN_SC_KEYPATH_H
#define CAIRN_SC_KEYPATH_H

#include <stddef.h>

#define SC_PIECE 80
#define SC_OBJ_FILE ".obj"
#define SC_MAX_KEY 1024

/* 0 when `key` is a storable object key, else CAIRN_E_INVALID_OBJECT_NAME ("",
 * a "." or ".." segment) or CAIRN_E_KEY_TOO_LONG (over 1024 bytes). */
int sc_key_check(const char *key);

/* Encodes `key` as a relative directory path into `out`; CAIRN_E_KEY_TOO_LONG
 * when it does not fit in `cap`.  Call sc_key_check first. */
int sc_key_encode(const char *key, char *out, size_t cap);

/* Encodes one name (a bucket name, a config name, a short segment) as a single
 * safe file name; -1 when it is longer than SC_PIECE or does not fit. */
int sc_name_encode(const char *name, char *out, size_t cap);

/* Decodes one directory entry made by the encoders (without a leading "%+").
 * Returns the decoded length, or -1 when `name` is not a valid encoding. */
int sc_name_decode(const char *name, char *out, size_t cap);

#endif
