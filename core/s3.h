/*
 * s3.h -- the S3 layer: routes each HTTP exchange to an S3 operation,
 * authenticates (auth plugins), authorizes (policy plugin), calls the backend
 * and writes S3's XML responses and errors.
 */
#ifndef CAIRN_S3_H
#define CAIRN_S3_H

#include <stddef.h>
#include <stdint.h>

#include <cairn/plugin.h>

#include "http-exchange.h"
#include "plugin-loader.h"

struct s3_settings {
    const char *region;          /* "us-east-1" */
    const char *domain;          /* virtual-host style base domain, or NULL */
    uint64_t min_part_size;      /* 5 MiB */
    int64_t stale_upload_age_s;  /* abandoned multipart uploads are removed after this */
};

struct s3_placement_rule; /* s3-placement.h */

struct s3_plugins {
    const struct loaded_plugin *backend;       /* the default backend */
    const struct loaded_plugin *const *auth;   /* the auth chain, in order */
    size_t n_auth;
    const struct loaded_plugin *policy;        /* NULL: only root is allowed */
    /* Every loaded backend (the default among them), for per-bucket placement;
     * NULL/0 means only `backend`.  See s3-placement.h. */
    const struct loaded_plugin *const *backends;
    size_t n_backends;
    const struct s3_placement_rule *placement; /* config rules, first match wins */
    size_t n_placement;
};

struct s3_server;

/* Makes the S3 layer.  Everything passed must outlive it.  NULL on failure. */
struct s3_server *s3_server_new(const struct s3_settings *settings,
                                const struct s3_plugins *plugins,
                                const struct cairn_services *services);

/* The http_handler_fn: `arg` is the struct s3_server. */
void s3_server_handle(struct http_exchange *ex, void *arg);

/* Frees the S3 layer (plugins are the loader's). */
void s3_server_free(struct s3_server *s3);

#endif
