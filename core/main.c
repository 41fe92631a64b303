/*
 * main.c -- the `cairn` command: `cairn server [flags] DRIVE...`,
 * `cairn --version`, `cairn help`.
 *
 * Startup: configuration -> logging -> IAM root -> drive folders -> plugins ->
 * S3 layer -> HTTP server -> banner.  SIGINT and SIGTERM are blocked in every
 * thread and taken with sigwait() by the main thread, which then shuts down in
 * the reverse order (no work inside a signal handler).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin-api.h"
#include "admin-cli.h"
#include "config.h"
#include "lifecycle.h"
#include "iam-persist.h"
#include "iam-store.h"
#include "metrics.h"
#include "plugin-loader.h"
#include "s3.h"
#include "services.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
    fprintf(out, "usage: cairn server [flags] DRIVE...   serve S3 over the drives\n"
                 "       cairn admin [flags] GROUP VERB ... manage users and policies (cairn admin help)\n"
                 "       cairn --version                print the version\n"
                 "       cairn help                     this text\n\n"
                 "DRIVE may use MinIO's ellipses: /data{1...4} is /data1 ... /data4.\n"
                 "Flags (each also FLAG=VALUE; see docs/configuration.md for the\n"
                 "config file and environment variables):\n");
    server_config_usage(out);
    fprintf(out, "\nCredentials come from CAIRN_ROOT_USER / CAIRN_ROOT_PASSWORD\n"
                 "(or MINIO_ROOT_USER / MINIO_ROOT_PASSWORD).\n");
}

/* mkdir -p; 0 or -1 with errno set. */
static int make_dirs(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(buf, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* Creates the local drive folders of every backend (as MinIO does); the
 * backend formats them.  Endpoints (URLs) are left alone. */
static int create_drives(const struct server_config *cfg, size_t *n_drives_r)
{
    *n_drives_r = 0;
    for (size_t b = 0; b < cfg->n_backends; b++) {
        const struct cairn_config *c = &cfg->backends[b].config;
        size_t n = plugin_config_list_count(c, "drives");
        for (size_t i = 0; i < n; i++) {
            const char *d = plugin_config_list_item(c, "drives", i);
            if (!d || strstr(d, "://"))
                continue;
            if (make_dirs(d) != 0) {
                core_log(NULL, CAIRN_LOG_ERROR, "drive %s: cannot create it: %s", d,
                         strerror(errno));
                return -1;
            }
        }
        if (b == 0)
            *n_drives_r = n;
    }
    return 0;
}

/* The URL clients use, from the configured address and the bound port. */
static void endpoint(const char *a, int tls, int port, char *out, size_t cap)
{
    const char *colon = a[0] == '[' ? strchr(a, ']') + 1 : strrchr(a, ':');
    size_t host_len = (size_t)(colon - a);
    const char *scheme = tls ? "https" : "http";
    if (host_len == 0 || (host_len == 7 && strncmp(a, "0.0.0.0", 7) == 0))
        snprintf(out, cap, "%s://127.0.0.1:%d (all interfaces)", scheme, port);
    else
        snprintf(out, cap, "%s://%.*s:%d", scheme, (int)host_len, a, port);
}

/* Loads every plugin instance; *auth_r and *backends_r are the lists the
 * caller frees (plugins->auth and plugins->backends point into them). */
static int load_plugins(struct plugin_loader *loader, const struct server_config *cfg,
                        struct s3_plugins *plugins, const struct loaded_plugin ***auth_r,
                        const struct loaded_plugin ***backends_r)
{
    char err[1024];
    const struct loaded_plugin **auth = calloc(cfg->n_auth ? cfg->n_auth : 1, sizeof(*auth));
    if (!auth)
        return -1;
    *auth_r = auth;
    const struct loaded_plugin **backends = calloc(cfg->n_backends ? cfg->n_backends : 1,
                                                   sizeof(*backends));
    if (!backends)
        return -1;
    *backends_r = backends;
    plugins->backends = backends;
    for (size_t i = 0; i < cfg->n_backends; i++) {
        const struct plugin_instance *in = &cfg->backends[i];
        const struct loaded_plugin *p = plugin_loader_load(
            loader, in->name, in->plugin, CAIRN_PLUGIN_BACKEND, &in->config, err, sizeof(err));
        if (!p) {
            core_log(NULL, CAIRN_LOG_ERROR, "backend '%s': %s", in->name, err);
            return -1;
        }
        if (i == 0)
            plugins->backend = p;
        backends[i] = p;
        plugins->n_backends = i + 1;
    }
    /* Per-bucket placement (s3-placement.h): config rules name these backends. */
    plugins->placement = cfg->placement;
    plugins->n_placement = cfg->n_placement;
    for (size_t i = 0; i < cfg->n_auth; i++) {
        const struct plugin_instance *in = &cfg->auth[i];
        auth[i] = plugin_loader_load(loader, in->name, in->plugin, CAIRN_PLUGIN_AUTH, &in->config,
                                     err, sizeof(err));
        if (!auth[i]) {
            core_log(NULL, CAIRN_LOG_ERROR, "auth '%s': %s", in->name, err);
            return -1;
        }
    }
    plugins->auth = auth;
    plugins->n_auth = cfg->n_auth;
    if (cfg->policy) {
        const struct plugin_instance *in = cfg->policy;
        plugins->policy = plugin_loader_load(loader, in->name, in->plugin, CAIRN_PLUGIN_POLICY,
                                             &in->config, err, sizeof(err));
        if (!plugins->policy) {
            core_log(NULL, CAIRN_LOG_ERROR, "policy '%s': %s", in->name, err);
            return -1;
        }
    }
    return 0;
}

/* The HTTP handler: the admin API's paths go to it, everything else to S3. */
struct front {
    struct s3_server *s3;
    struct admin_api *admin;
};

static void front_handle(struct http_exchange *ex, void *arg)
{
    struct front *f = arg;
    if (admin_api_is_admin_path(http_exchange_head(ex)->raw_path))
        admin_api_handle(ex, f->admin);
    else
        s3_server_handle(ex, f->s3);
}

static int run_server(int argc, char **argv)
{
    /* Block the shutdown signals before any thread exists, so that every
     * thread inherits the mask and only sigwait() below sees them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct server_config cfg;
    char err[1024];
    if (server_config_load(&cfg, argc, argv, err, sizeof(err)) < 0) {
        fprintf(stderr, "cairn: %s\n", err);
        server_config_release(&cfg);
        return 2;
    }
    core_log_set_level(cfg.log_level);
    if (cfg.root_is_default)
        core_log(NULL, CAIRN_LOG_WARN,
                 "WARNING: the root credentials are the well-known default minioadmin:minioadmin. "
                 "Anyone can use them. Set CAIRN_ROOT_USER and CAIRN_ROOT_PASSWORD.");

    int status = 1;
    struct plugin_loader *loader = NULL;
    const struct loaded_plugin **auth = NULL;
    const struct loaded_plugin **backends = NULL;
    struct s3_server *s3 = NULL;
    struct http_server *http = NULL;
    struct s3_plugins plugins = {0};
    struct admin_api *admin = NULL;
    struct front front = {0};
    size_t n_drives = 0;

    if (iam_store_set_root(cfg.root_user, cfg.root_password) < 0) {
        core_log(NULL, CAIRN_LOG_ERROR, "the root credentials are not valid");
        goto out;
    }
    if (create_drives(&cfg, &n_drives) < 0)
        goto out;
    if (!(loader = plugin_loader_new(cfg.plugin_path, core_services()))) {
        core_log(NULL, CAIRN_LOG_ERROR, "cannot initialise the plugin loader");
        goto out;
    }
    if (load_plugins(loader, &cfg, &plugins, &auth, &backends) < 0)
        goto out;
    /* Users, groups and policies stored by earlier runs, before serving. */
    if (iam_persist_start(plugins.backend, core_services()) < 0) {
        core_log(NULL, CAIRN_LOG_ERROR, "cannot load the IAM store from the backend");
        goto out;
    }

    struct s3_settings settings = {
        .region = cfg.region,
        .domain = cfg.domain,
        .min_part_size = cfg.min_part_size,
        .stale_upload_age_s = cfg.stale_upload_age_s,
    };
    if (!(s3 = s3_server_new(&settings, &plugins, core_services()))) {
        core_log(NULL, CAIRN_LOG_ERROR, "cannot start the S3 layer");
        goto out;
    }
    struct admin_api_settings admin_settings = {
        .version = PACKAGE_VERSION,
        .region = cfg.region,
        .n_drives = n_drives,
        .plugins = &plugins,
        .loader = loader,
        .services = core_services(),
    };
    if (!(admin = admin_api_new(&admin_settings)))
        goto out;
    front.s3 = s3;
    front.admin = admin;
    if (!(http = http_server_start(&cfg.http, front_handle, &front)))
        goto out; /* the HTTP layer logged why */
    struct lifecycle_settings lc = {cfg.lifecycle_day_s, cfg.lifecycle_interval_s,
                                    cfg.stale_upload_age_s};
    if (lifecycle_start(plugins.n_backends ? plugins.backends : &plugins.backend,
                        plugins.n_backends ? plugins.n_backends : 1, core_services(), &lc) < 0)
        core_log(NULL, CAIRN_LOG_WARN, "lifecycle scanner not started");

    char url[640];
    endpoint(cfg.address, cfg.tls && !cfg.tls_address, http_server_port(http), url, sizeof(url));
    if (cfg.tls_address) {
        /* The HTTPS port as configured (the bound one is reported for `address` only). */
        const char *a = cfg.tls_address;
        const char *colon = a[0] == '[' ? strchr(a, ']') + 1 : strrchr(a, ':');
        size_t len = strlen(url);
        char tls_url[300];
        endpoint(a, 1, atoi(colon + 1), tls_url, sizeof(tls_url));
        snprintf(url + len, sizeof(url) - len, ", %s", tls_url);
    }
    printf("cairn %s (plugin ABI %d.%d)\n"
           "API:      %s\n"
           "Region:   %s\n"
           "Drives:   %zu (backend '%s', plugin %s)\n"
           "RootUser: %s\n",
           PACKAGE_VERSION, CAIRN_ABI_MAJOR, CAIRN_ABI_MINOR, url, cfg.region, n_drives,
           plugins.backend->instance_name, plugins.backend->desc->name, cfg.root_user);
    fflush(stdout);
    core_log(NULL, CAIRN_LOG_INFO, "serving %s, region %s, %zu drive(s)", url, cfg.region,
             n_drives);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    core_log(NULL, CAIRN_LOG_INFO, "%s received: finishing in-flight requests (up to %d s)",
             sig == SIGINT ? "SIGINT" : "SIGTERM", cfg.http.shutdown_timeout_s);
    status = 0;

out:
    if (http)
        http_server_stop(http);
    lifecycle_stop();
    iam_persist_stop();
    admin_api_free(admin);
    s3_server_free(s3);
    plugin_loader_free(loader); /* fini in reverse order */
    free(auth);
    free(backends);
    iam_store_clear();
    metrics_reset();
    if (status == 0)
        core_log(NULL, CAIRN_LOG_INFO, "stopped");
    server_config_release(&cfg);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0 || strcmp(cmd, "-v") == 0) {
        printf("cairn %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, CAIRN_ABI_MAJOR,
               CAIRN_ABI_MINOR);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "server") == 0) {
        for (int i = 2; i < argc; i++)
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                usage(stdout);
                return 0;
            }
        return run_server(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "admin") == 0)
        return admin_cli_main(argc - 2, argv + 2);
    fprintf(stderr, "cairn: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
