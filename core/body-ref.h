/*
 * body-ref.h -- response bytes by reference (services->body_write_ref).
 *
 * A request whose body goes straight to its HTTP exchange (an S3 request
 * answering a client) hands the caller's buffer to the socket's output
 * queue without a copy; any other sink (a copy's pipe, an internal request)
 * gets the bytes through its write callback and the buffer is released at
 * once.
 */
#ifndef CAIRN_BODY_REF_H
#define CAIRN_BODY_REF_H

#include <stddef.h>

#include <cairn/plugin.h>

/* Writes `len` bytes of `buf` to the request's response body and calls
 * release(buf, arg) exactly once when the bytes are no longer needed (from
 * any thread, possibly before returning).  0 or a negative CAIRN_E_*. */
int s3_req_write_ref(struct cairn_req *req, const void *buf, size_t len,
                     void (*release)(const void *buf, void *arg), void *arg);

#endif
