/*
 * sc-frame.c -- checksummed small files.
 */
#include "sc-frame.h"
#include "sc-drive.h"
#include "sc-util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *sc_frame_wrap(const void *payload, size_t len, size_t *len_r)
{
    uint8_t *buf = malloc(SC_FRAME_HDR_LEN + len);
    if (!buf)
        return NULL;
    char hdr[SC_FRAME_HDR_LEN + 1];
    snprintf(hdr, sizeof(hdr), "cairn-meta 1 %016llx\n",
             (unsigned long long)sc_xxh64(payload, len));
    memcpy(buf, hdr, SC_FRAME_HDR_LEN);
    if (len)
        memcpy(buf + SC_FRAME_HDR_LEN, payload, len);
    *len_r = SC_FRAME_HDR_LEN + len;
    return buf;
}

int sc_frame_unwrap(const uint8_t *buf, size_t len, const uint8_t **payload_r, size_t *plen_r)
{
    if (len < SC_FRAME_HDR_LEN || memcmp(buf, "cairn-meta 1 ", 13) ||
        buf[SC_FRAME_HDR_LEN - 1] != '\n')
        return -EBADMSG;
    uint8_t sum[8];
    if (sc_hex_decode((const char *)buf + 13, sum, 8))
        return -EBADMSG;
    const uint8_t *p = buf + SC_FRAME_HDR_LEN;
    size_t plen = len - SC_FRAME_HDR_LEN;
    if (sc_get_be64(sum) != sc_xxh64(p, plen))
        return -EBADMSG;
    *payload_r = p;
    *plen_r = plen;
    return 0;
}

int sc_frame_write(struct sc_drive *d, const char *rel, const void *payload, size_t len, int sync)
{
    size_t flen;
    uint8_t *f = sc_frame_wrap(payload, len, &flen);
    if (!f)
        return -ENOMEM;
    int rc = sc_drive_write_atomic(d, rel, f, flen, sync);
    free(f);
    return rc;
}

int sc_frame_read(struct sc_drive *d, const char *rel, size_t max, char **payload_r,
                  size_t *len_r)
{
    uint8_t *buf;
    size_t len;
    int rc = sc_drive_read_all(d, rel, max + SC_FRAME_HDR_LEN, &buf, &len);
    if (rc)
        return rc;
    const uint8_t *p;
    size_t plen;
    rc = sc_frame_unwrap(buf, len, &p, &plen);
    if (rc) {
        free(buf);
        return rc;
    }
    memmove(buf, p, plen);
    buf[plen] = '\0';
    *payload_r = (char *)buf;
    *len_r = plen;
    return 0;
}
