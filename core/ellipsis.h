/*
 * ellipsis.h -- MinIO's ellipsis expansion of drive and endpoint arguments.
 *
 *   /data{1...4}                 -> /data1 /data2 /data3 /data4
 *   /mnt/disk{01...16}           -> /mnt/disk01 ... /mnt/disk16 (zero-padded when
 *                                   the start has a leading zero and both ends
 *                                   have the same width)
 *   http://node{1...2}/d{1...2}  -> cartesian product, the leftmost range varying
 *                                   slowest: node1/d1 node1/d2 node2/d1 node2/d2
 *
 * Ranges are decimal, start <= end.  A '{' that does not open a range is kept
 * literally, unless its content looks like a mistyped range (digits and dots,
 * e.g. "{1..4}" or "{4...1}"), which is an error.
 */
#ifndef CAIRN_ELLIPSIS_H
#define CAIRN_ELLIPSIS_H

#include <stddef.h>

/* The most strings one pattern may expand to. */
#define ELLIPSIS_MAX_EXPANSION 65536

/*
 * Expands `pattern`.  On success sets *list_r to a malloc'd array of *n_r
 * malloc'd strings (free with ellipsis_free) and returns 0.  On a malformed
 * pattern returns CAIRN_E_INVALID_ARGUMENT with a message in `err` (which
 * names the pattern); CAIRN_E_NOMEM when out of memory.
 */
int ellipsis_expand(const char *pattern, char ***list_r, size_t *n_r, char *err, size_t err_cap);

/* Frees what ellipsis_expand returned; NULL is a no-op. */
void ellipsis_free(char **list, size_t n);

/* True when `s` contains at least one range that ellipsis_expand would expand. */
int ellipsis_has_range(const char *s);

#endif
