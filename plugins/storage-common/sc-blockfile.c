/*
 * sc-blockfile.c -- checksummed shard blocks.
 */
#include "sc-blockfile.h"
#include "sc-drive.h"
#include "sc-util.h"

#include <errno.h>
#include <isa-l/crc64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

uint64_t sc_block_sum(enum sc_block_sum alg, const void *data, size_t len)
{
    if (alg == SC_SUM_XXH64)
        return sc_xxh64(data, len);
    /* ISA-L picks its PCLMULQDQ / VPCLMULQDQ kernel at run time; seed 0 with
     * its built-in inversions is CRC-64/XZ (check 0x995DC9BBDF1939FA). */
    return crc64_ecma_refl(0, data, len);
}

static const char *const sum_names[] = {[SC_SUM_CRC64XZ] = "crc64xz", [SC_SUM_XXH64] = "xxh64"};

const char *sc_block_sum_name(enum sc_block_sum alg)
{
    return (size_t)alg < sizeof(sum_names) / sizeof(sum_names[0]) ? sum_names[alg] : "?";
}

int sc_block_sum_parse(const char *name, enum sc_block_sum *alg_r)
{
    if (!name) {
        *alg_r = SC_SUM_XXH64;
        return 0;
    }
    for (size_t i = 0; i < sizeof(sum_names) / sizeof(sum_names[0]); i++)
        if (!strcmp(name, sum_names[i])) {
            *alg_r = (enum sc_block_sum)i;
            return 0;
        }
    return -1;
}

void sc_block_encode(enum sc_block_sum alg, const uint8_t *data, size_t len, uint8_t *out)
{
    sc_put_be64(out, sc_block_sum(alg, data, len));
    memcpy(out + SC_BLOCK_SUM, data, len);
}

int sc_block_write(struct sc_drive *d, int fh, uint64_t block, size_t full_len,
                   enum sc_block_sum alg, const uint8_t *data, size_t len)
{
    uint8_t sum[SC_BLOCK_SUM];
    sc_put_be64(sum, sc_block_sum(alg, data, len));
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

int sc_block_read(struct sc_drive *d, int fh, uint64_t block, size_t full_len,
                  enum sc_block_sum alg, uint8_t *data, size_t len, uint8_t *scratch)
{
    ssize_t n = d->ops->pread(d, fh, scratch, SC_BLOCK_SUM + len, sc_block_offset(block, full_len));
    if (n < 0)
        return (int)n;
    if ((size_t)n != SC_BLOCK_SUM + len)
        return -EBADMSG;
    if (sc_get_be64(scratch) != sc_block_sum(alg, scratch + SC_BLOCK_SUM, len))
        return -EBADMSG;
    memcpy(data, scratch + SC_BLOCK_SUM, len);
    return 0;
}

int sc_block_read_inplace(struct sc_drive *d, int fh, uint64_t block, size_t full_len,
                          enum sc_block_sum alg, uint8_t *data, size_t len)
{
    uint8_t *hdr = data - SC_BLOCK_SUM, save[SC_BLOCK_SUM];
    memcpy(save, hdr, SC_BLOCK_SUM);
    ssize_t n = d->ops->pread(d, fh, hdr, SC_BLOCK_SUM + len, sc_block_offset(block, full_len));
    uint64_t sum = sc_get_be64(hdr);
    memcpy(hdr, save, SC_BLOCK_SUM);
    if (n < 0)
        return (int)n;
    if ((size_t)n != SC_BLOCK_SUM + len || sum != sc_block_sum(alg, data, len))
        return -EBADMSG;
    return 0;
}

int sc_block_read_mem(const uint8_t *mem, size_t mem_len, uint64_t block, size_t full_len,
                      enum sc_block_sum alg, uint8_t *data, size_t len)
{
    uint64_t off = sc_block_offset(block, full_len);
    if (off > mem_len || mem_len - off < SC_BLOCK_SUM + len)
        return -EBADMSG;
    if (sc_get_be64(mem + off) != sc_block_sum(alg, mem + off + SC_BLOCK_SUM, len))
        return -EBADMSG;
    memcpy(data, mem + off + SC_BLOCK_SUM, len);
    return 0;
}

int sc_blockfile_verify(struct sc_drive *d, const char *rel, uint64_t size, uint64_t bs,
                        enum sc_block_sum alg)
{
    if (!d->online)
        return -EIO;
    struct stat sb;
    int rc = d->ops->stat(d, rel, &sb);
    if (rc)
        return rc;
    uint64_t nblk = (size + bs - 1) / bs;
    if ((uint64_t)sb.st_size != size + nblk * SC_BLOCK_SUM)
        return -EBADMSG;
    int fh = d->ops->open(d, rel, 0);
    if (fh < 0)
        return fh;
    uint8_t *data = malloc(bs), *scratch = malloc(SC_BLOCK_SUM + bs);
    rc = data && scratch ? 0 : -ENOMEM;
    for (uint64_t b = 0; b < nblk && !rc; b++) {
        size_t blen = (size_t)(size - b * bs < bs ? size - b * bs : bs);
        rc = sc_block_read(d, fh, b, (size_t)bs, alg, data, blen, scratch);
    }
    d->ops->close(d, fh);
    free(data);
    free(scratch);
    return rc;
}

#define SC_COPY_SRCS 32

int sc_blockfile_copy(struct sc_drive *const *srcs, int n_src, struct sc_drive *dst,
                      const char *rel, uint64_t size, uint64_t bs, enum sc_block_sum alg,
                      int sync)
{
    char id[33], tmp[128], parent[4096];
    sc_new_id(id);
    snprintf(tmp, sizeof(tmp), SC_TMP_DIR "/%s.heal", id);
    if (n_src > SC_COPY_SRCS)
        n_src = SC_COPY_SRCS;
    int fh[SC_COPY_SRCS], out = dst->ops->open(dst, tmp, 1);
    if (out < 0)
        return out;
    for (int i = 0; i < n_src; i++)
        fh[i] = srcs[i]->online ? srcs[i]->ops->open(srcs[i], rel, 0) : -1;
    uint8_t *data = malloc(bs), *scratch = malloc(SC_BLOCK_SUM + bs);
    int rc = data && scratch ? 0 : -ENOMEM;
    uint64_t nblk = (size + bs - 1) / bs;
    for (uint64_t b = 0; b < nblk && !rc; b++) {
        size_t blen = (size_t)(size - b * bs < bs ? size - b * bs : bs);
        rc = -EBADMSG;
        for (int i = 0; i < n_src && rc; i++)
            if (fh[i] >= 0)
                rc = sc_block_read(srcs[i], fh[i], b, (size_t)bs, alg, data, blen, scratch);
        if (!rc)
            rc = sc_block_write(dst, out, b, (size_t)bs, alg, data, blen);
    }
    if (!rc && sync)
        rc = dst->ops->fsync(dst, out);
    dst->ops->close(dst, out);
    for (int i = 0; i < n_src; i++)
        if (fh[i] >= 0)
            srcs[i]->ops->close(srcs[i], fh[i]);
    free(data);
    free(scratch);
    sc_path_parent(rel, parent, sizeof(parent));
    if (!rc)
        rc = dst->ops->mkdir_p(dst, parent);
    if (!rc)
        rc = dst->ops->rename(dst, tmp, rel);
    if (!rc && sync)
        rc = dst->ops->fsync_dir(dst, parent);
    if (rc)
        dst->ops->unlink(dst, tmp);
    return rc;
}
