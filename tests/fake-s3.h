/*
 * fake-s3.h -- what the S3-layer unit tests (test-s3-ops, test-s3b-ops) share
 * to drive s3_server_handle in one process:
 *
 *  - a fake HTTP exchange: fake-s3.c defines the http_exchange_* functions of
 *    core/http-exchange.h, so the real HTTP layer is not linked.  A request is
 *    built with fake_exchange_new() and fake_exchange_add_header(); the
 *    response (status, headers, body) is recorded in the struct for the test
 *    to check, then exchange_free() releases it;
 *  - fake_s3_server_new(): an S3 server over a test's backend, auth and policy
 *    tables, with the settings every such test uses.
 */
#ifndef CAIRN_TESTS_FAKE_S3_H
#define CAIRN_TESTS_FAKE_S3_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "http-exchange.h"
#include "s3.h"

#define FAKE_MAX_REQ_HEADERS 16
#define FAKE_MAX_RESP_HEADERS 64

struct http_exchange {
    /* the request */
    struct http_request_head head;
    char path[2048], query[2048]; /* head.raw_path and head.raw_query point here */
    struct cairn_kv req_headers[FAKE_MAX_REQ_HEADERS];
    const char *body;
    size_t body_len, body_off;
    /* the response, as the S3 layer wrote it */
    int status;
    int responded, finished; /* finished counts http_exchange_finish calls */
    int64_t resp_content_length;
    struct cairn_kv resp_headers[FAKE_MAX_RESP_HEADERS]; /* copies, freed by exchange_free */
    size_t n_resp;
    char resp_body[1 << 17]; /* NUL-terminated; a longer body fails with CLIENT_GONE */
    size_t resp_len;
};

/* The most bytes one http_exchange_read returns (default 7): small pieces
 * exercise the S3 layer's body pipeline. */
extern size_t fake_read_piece;

/*
 * A new request (calloc'd): method, target ("/b/k?x", split into path and
 * query), body (NULL: none, Content-Length absent) and request id (16 hex
 * digits, echoed in error documents).  No headers yet.  The strings must
 * outlive the exchange.
 */
struct http_exchange *fake_exchange_new(const char *method, const char *target, const char *body,
                                        const char *request_id);

/* Adds a request header (name lower-case); aborts when more than
 * FAKE_MAX_REQ_HEADERS are added (a broken test). */
void fake_exchange_add_header(struct http_exchange *ex, const char *name, const char *value);

/* Adds the header pairs of `ap` (name, value, ..., NULL). */
void fake_exchange_add_headers(struct http_exchange *ex, va_list ap);

/* The three below have short names: the tests call them on nearly every line. */

/* The first response header `name` (as the S3 layer spelled it), or NULL. */
const char *resp_header(struct http_exchange *ex, const char *name);

/* True when the response body contains `needle`. */
int has(struct http_exchange *ex, const char *needle);

/* Frees the exchange and its response header copies. */
void exchange_free(struct http_exchange *ex);

/*
 * An S3 server (region us-east-1, no virtual-host domain, 5 MiB minimum part
 * size) over the given plugin tables: `backend` is the default backend,
 * `auth` the only auth plugin, `policy` may be NULL (only root is allowed).
 * One server per program; free it with s3_server_free.  NULL on failure.
 */
struct s3_server *fake_s3_server_new(const struct cairn_backend_ops *backend,
                                     const struct cairn_auth_ops *auth,
                                     const struct cairn_policy_ops *policy);

#endif
