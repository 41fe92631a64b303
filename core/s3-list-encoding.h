/*
 * s3-list-encoding.h -- the pure parts of S3 listings, testable without a
 * server: encoding-type=url, opaque continuation tokens, max-keys style
 * numbers, and the `after` bound handed to a backend for a marker.
 */
#ifndef CAIRN_S3_LIST_ENCODING_H
#define CAIRN_S3_LIST_ENCODING_H

#include <stddef.h>

struct arena;

/*
 * Percent-encodes `s` as S3 does for encoding-type=url: every byte except
 * A-Z a-z 0-9 - _ . ~ and '/' becomes %XX (upper-case hex); a space is %20, so
 * both plain percent-decoding and form decoding (unquote_plus) recover it.
 * Returns an arena copy, or NULL when out of memory.
 */
char *s3_url_encode(struct arena *a, const char *s);

/* Returns `s` encoded with s3_url_encode when `encode` is set, else `s`. */
const char *s3_list_name(struct arena *a, const char *s, int encode);

/*
 * Continuation tokens (ListObjectsV2): an opaque base64 text of the last key or
 * common prefix a page returned.  encode returns an arena string or NULL.
 * decode returns 0 and the marker, or CAIRN_E_INVALID_ARGUMENT for a token this
 * server did not make (bad base64, empty, or containing a NUL byte).
 */
char *s3_list_token_encode(struct arena *a, const char *marker);
int s3_list_token_decode(struct arena *a, const char *token, char **marker_r);

/*
 * Parses a max-keys / max-uploads / max-parts value: NULL gives `dflt`; a
 * decimal number >= 0 is clamped to `limit`; anything else (sign, spaces,
 * letters, empty) is CAIRN_E_INVALID_ARGUMENT.  Returns 0 and *value_r.
 */
int s3_parse_max(const char *s, int dflt, int limit, int *value_r);

/*
 * Parses a non-negative decimal integer no larger than `limit` (part numbers,
 * part-number-marker).  Returns 0 and *value_r or CAIRN_E_INVALID_ARGUMENT.
 */
int s3_parse_uint(const char *s, unsigned long limit, unsigned long *value_r);

/*
 * The bound to hand a backend (struct cairn_list.after) for resuming after
 * `marker`.  When `marker` is itself a common prefix under `prefix` and
 * `delimiter` (it ends at the first delimiter past the prefix), everything
 * under it was already returned as that prefix, so the bound is the marker
 * followed by 0xFF: greater than every UTF-8 key starting with it, smaller than
 * every key after them.  Otherwise the marker itself.  NULL when out of memory.
 */
const char *s3_list_backend_after(struct arena *a, const char *prefix, const char *delimiter,
                                  const char *marker);

/*
 * If `key` (which starts with `prefix`) has `delimiter` after the prefix,
 * returns the common prefix it rolls up to (an arena string, through the first
 * delimiter after the prefix) in *rolled_r and 1; else 0.  -1 when out of memory.
 */
int s3_list_roll_up(struct arena *a, const char *key, const char *prefix, const char *delimiter,
                    char **rolled_r);

#endif
