/*
 * config.h -- the server's configuration: built-in defaults, then a libconfig
 * file (--config FILE or CAIRN_CONFIG), then environment variables, then
 * command-line flags; each later source overrides the earlier ones.
 * docs/configuration.md describes every setting.
 *
 * The plugin instances (backends, the auth chain, the policy) end up as
 * libconfig groups -- read from the file or built in memory -- so that each
 * plugin reads its section through services->config_*.
 */
#ifndef CAIRN_CONFIG_H
#define CAIRN_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libconfig.h>

#include <cairn/plugin.h>

#include "http-exchange.h"
#include "plugin-config.h"
#include "s3-placement.h"

/* One plugin instance to load. */
struct plugin_instance {
    const char *name;   /* instance name, unique per server */
    const char *plugin; /* plugin name ("backend-ec") or path to a module */
    struct cairn_config config; /* its section */
};

struct server_config {
    config_t lc; /* owns every plugin section and the strings below that come from it */

    const char *config_file;  /* NULL when none */
    const char *address;      /* "127.0.0.1:9000", ":9000" */
    const char *tls_address;  /* NULL, or HTTPS here and plain HTTP on address */
    const char *certs_dir;    /* NULL when none */
    int tls;                  /* certs_dir holds public.crt and private.key */
    const char *region;
    const char *domain;       /* NULL when not set */
    const char *root_user;
    const char *root_password;
    int root_is_default;      /* the well-known minioadmin credentials are in use */
    const char *plugin_path;  /* colon-separated, NULL when not set */
    enum cairn_log_level log_level;
    uint64_t min_part_size;
    int64_t stale_upload_age_s;
    int64_t lifecycle_day_s;      /* length of a lifecycle day (86400) */
    int64_t lifecycle_interval_s; /* seconds between lifecycle scans (3600) */

    /* The HTTP limits; listen/tls_listen point at `address` (and `tls_address`). */
    struct http_server_options http;

    struct plugin_instance *backends; /* the first is the default backend */
    size_t n_backends;
    struct s3_placement_rule *placement; /* bucket prefix -> backend rules, in order */
    size_t n_placement;
    struct plugin_instance *auth;     /* the auth chain, in order */
    size_t n_auth;
    struct plugin_instance *policy;   /* NULL: no policy plugin */

    /* Private: strings owned by the configuration. */
    char **owned;
    size_t n_owned;
};

/*
 * Builds the configuration from `argc`/`argv`, the arguments after "server"
 * (flags and drives), the environment and the file a --config flag or
 * CAIRN_CONFIG names.  Returns 0, or CAIRN_E_INVALID_ARGUMENT with a message
 * in `err` naming the source (file and line, environment variable or flag)
 * and the setting; CAIRN_E_NOMEM.  Call server_config_release either way.
 */
int server_config_load(struct server_config *cfg, int argc, char *const argv[], char *err,
                       size_t err_cap);

/* Frees everything the configuration holds (after the plugins' fini). */
void server_config_release(struct server_config *cfg);

/* Parses "error", "warn", "info" or "debug"; -1 when unknown. */
int server_config_parse_level(const char *s);

/* Usage text for `cairn help`: the flags with a line each. */
void server_config_usage(FILE *out);

#endif
