/*
 * sc-blockfile.c -- checksummed shard blocks.
 */
#include "sc-blockfile.h"
#include "sc-drive.h"
#include "sc-util.h"

#include <errno.h>
#include <string.h>

void sc_block_encode(const uint8_t *data, size_t len, uint8_t *out)
{
    sc_put_be64(out, sc_xxh64(data, len));
    memcpy(out + SC_BLOCK_SUM, data, len);
}

int sc_block_write(struct sc_drive *d, int fh, uint64_t block, size_t full_len,
                   const uint8_t *data, size_t len)
{
    uint8_t sum[SC_BLOCK_SUM];
    sc_put_be64(sum, sc_xxh64(data, len));
    uint64_t off = sc_block_offset(block, full_len);
    ssize_t n;
    if (d->ops->pwritev) {
        struct iovec iov[2] = {{sum, SC_BLOCK_SUM}, {(void *)data, len}};
        n = d->ops->pwritev(d, fh, iov, 2, off);
    } else {
        n = d->ops->pwrite(d, fh, sum, SC_BLOCK_SUM, off);
        if (n >= 0)
            n = d->ops->pwrite(d, fh, data, len, off + SC_BLOCK_SUM);
    }
    return n < 0 ? (int)n : 0;
}

int sc_block_read(struct sc_drive *d, int fh, uint64_t block, size_t full_len, uint8_t *data,
                  size_t len, uint8_t *scratch)
{
    ssize_t n = d->ops->pread(d, fh, scratch, SC_BLOCK_SUM + len, sc_block_offset(block, full_len));
    if (n < 0)
        return (int)n;
    if ((size_t)n != SC_BLOCK_SUM + len)
        return -EBADMSG;
    if (sc_get_be64(scratch) != sc_xxh64(scratch + SC_BLOCK_SUM, len))
        return -EBADMSG;
    memcpy(data, scratch + SC_BLOCK_SUM, len);
    return 0;
}

int sc_block_read_inplace(struct sc_drive *d, int fh, uint64_t block, size_t full_len,
                          uint8_t *data, size_t len)
{
    uint8_t *hdr = data - SC_BLOCK_SUM, save[SC_BLOCK_SUM];
    memcpy(save, hdr, SC_BLOCK_SUM);
    ssize_t n = d->ops->pread(d, fh, hdr, SC_BLOCK_SUM + len, sc_block_offset(block, full_len));
    uint64_t sum = sc_get_be64(hdr);
    memcpy(hdr, save, SC_BLOCK_SUM);
    if (n < 0)
        return (int)n;
    if ((size_t)n != SC_BLOCK_SUM + len || sum != sc_xxh64(data, len))
        return -EBADMSG;
    return 0;
}

int sc_block_read_mem(const uint8_t *mem, size_t mem_len, uint64_t block, size_t full_len,
                      uint8_t *data, size_t len)
{
    uint64_t off = sc_block_offset(block, full_len);
    if (off > mem_len || mem_len - off < SC_BLOCK_SUM + len)
        return -EBADMSG;
    if (sc_get_be64(mem + off) != sc_xxh64(mem + off + SC_BLOCK_SUM, len))
        return -EBADMSG;
    memcpy(data, mem + off + SC_BLOCK_SUM, len);
    return 0;
}
