/*
 * sc-frame.h -- every small file the backends write (object metadata, bucket
 * metadata and configs, formats, uploads) is framed with a checksum line so
 * bitrot in it is detected:
 *
 *     "cairn-meta 1 " <16 lower-case hex digits: XXH64 (seed 0) of payload> "\n" payload
 */
#ifndef CAIRN_SC_FRAME_H
#define CAIRN_SC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define SC_FRAME_HDR_LEN 30 /* strlen("cairn-meta 1 ") + 16 + 1 */

/* Returns a malloc'd framed copy of payload (length *len_r), NULL when out of memory. */
uint8_t *sc_frame_wrap(const void *payload, size_t len, size_t *len_r);

/* Checks a framed buffer; 0 with *payload_r and *plen_r pointing inside `buf`, or
 * -EBADMSG when the header or checksum is wrong. */
int sc_frame_unwrap(const uint8_t *buf, size_t len, const uint8_t **payload_r, size_t *plen_r);

struct sc_drive;
/* Frames and writes atomically (sc_drive_write_atomic). */
int sc_frame_write(struct sc_drive *d, const char *rel, const void *payload, size_t len, int sync);
/* Reads and checks a framed file: 0 with a malloc'd NUL-terminated payload, a
 * negative errno from the drive, or -EBADMSG (bad checksum). */
int sc_frame_read(struct sc_drive *d, const char *rel, size_t max, char **payload_r,
                  size_t *len_r);

#endif
