/*
 * request.h -- the core's side of `struct cairn_req`, the request handle that
 * plugins see as opaque.  The S3 layer makes one per S3 request (and internal
 * ones, e.g. for the IAM store and for the two halves of a copy), pointing its
 * body callbacks at the HTTP exchange, at a body decoder, or at a pipe.
 */
#ifndef CAIRN_REQUEST_H
#define CAIRN_REQUEST_H

#include <stddef.h>
#include <sys/types.h>

#include <cairn/plugin.h>

#include "arena.h"

struct cairn_req {
    const char *request_id;
    struct arena *arena;
    /* Body source and sink, as services->body_read/body_write document them. */
    ssize_t (*read)(struct cairn_req *req, void *buf, size_t len);
    int (*write)(struct cairn_req *req, const void *buf, size_t len);
    /* Record a trailing header (aws-chunked trailer); may be NULL. */
    int (*set_trailer)(struct cairn_req *req, const char *name, const char *value);
    void *owner; /* the layer that made the request keeps its state here */
};

#endif
