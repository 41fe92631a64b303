/* config.c -- defaults, config file, environment and flags, in that order. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "ellipsis.h"

/* ---- the scalar settings ------------------------------------------------- */

enum value_type {
    V_STR,   /* any string */
    V_INT,   /* a whole number within [min, max] */
    V_SIZE,  /* bytes: a number, optionally with K/KiB/M/MiB/G/GiB */
    V_LEVEL, /* error, warn, info, debug */
};

enum setting_id {
    S_ADDRESS,
    S_TLS_ADDRESS,
    S_CERTS_DIR,
    S_REGION,
    S_DOMAIN,
    S_ROOT_USER,
    S_ROOT_PASSWORD,
    S_PLUGIN_PATH,
    S_LOG_LEVEL,
    S_IO_THREADS,
    S_WORKER_THREADS,
    S_MAX_HEADER_BYTES,
    S_MAX_URL_BYTES,
    S_MAX_HEADERS,
    S_IDLE_TIMEOUT,
    S_READ_TIMEOUT,
    S_MAX_CONNECTIONS,
    S_BODY_BUFFER_BYTES,
    S_SHUTDOWN_TIMEOUT,
    S_MIN_PART_SIZE,
    S_STALE_UPLOAD_AGE,
    S_LIFECYCLE_DAY,
    S_LIFECYCLE_INTERVAL,
    S_COUNT
};

struct setting_def {
    const char *key;  /* in the config file */
    const char *flag; /* NULL: no flag (secrets stay off the command line) */
    const char *env[2];
    enum value_type type;
    const char *dflt; /* NULL: unset */
    long long min, max;
    const char *help;
};

#define KiB 1024LL
#define MiB (1024LL * 1024)
#define GiB (1024LL * 1024 * 1024)

static const struct setting_def defs[S_COUNT] = {
    [S_ADDRESS] = {"address", "--address", {"CAIRN_ADDRESS", NULL}, V_STR, ":9000", 0, 0,
                   "listen address HOST:PORT, :PORT or [V6]:PORT"},
    [S_TLS_ADDRESS] = {"tls_address", "--tls-address", {"CAIRN_TLS_ADDRESS", NULL}, V_STR, NULL,
                       0, 0, "with certificates: HTTPS here, plain HTTP on the address"},
    [S_CERTS_DIR] = {"certs_dir", "--certs-dir", {"CAIRN_CERTS_DIR", NULL}, V_STR, NULL, 0, 0,
                     "directory with public.crt and private.key for TLS"},
    [S_REGION] = {"region", "--region", {"CAIRN_REGION", "MINIO_REGION"}, V_STR, "us-east-1", 0,
                  0, "the region the server answers for"},
    [S_DOMAIN] = {"domain", "--domain", {"CAIRN_DOMAIN", "MINIO_DOMAIN"}, V_STR, NULL, 0, 0,
                  "base domain for virtual-host style requests"},
    [S_ROOT_USER] = {"root_user", NULL, {"CAIRN_ROOT_USER", "MINIO_ROOT_USER"}, V_STR,
                     "minioadmin", 0, 0, "root access key"},
    [S_ROOT_PASSWORD] = {"root_password", NULL, {"CAIRN_ROOT_PASSWORD", "MINIO_ROOT_PASSWORD"},
                         V_STR, "minioadmin", 0, 0, "root secret key"},
    [S_PLUGIN_PATH] = {"plugin_path", "--plugin-dir", {"CAIRN_PLUGIN_PATH", NULL}, V_STR, NULL,
                       0, 0, "colon-separated plugin directories"},
    [S_LOG_LEVEL] = {"log_level", "--log-level", {"CAIRN_LOG_LEVEL", NULL}, V_LEVEL, "info", 0, 0,
                     "error, warn, info or debug"},
    [S_IO_THREADS] = {"io_threads", "--io-threads", {"CAIRN_IO_THREADS", NULL}, V_INT, "2", 1,
                      256, "I/O threads"},
    [S_WORKER_THREADS] = {"worker_threads", "--worker-threads", {"CAIRN_WORKER_THREADS", NULL},
                          V_INT, "16", 1, 4096, "worker threads"},
    [S_MAX_HEADER_BYTES] = {"max_header_bytes", "--max-header-bytes",
                            {"CAIRN_MAX_HEADER_BYTES", NULL}, V_SIZE, "16KiB", 1 * KiB, 1 * MiB,
                            "largest request head"},
    [S_MAX_URL_BYTES] = {"max_url_bytes", "--max-url-bytes", {"CAIRN_MAX_URL_BYTES", NULL},
                         V_SIZE, "8KiB", 256, 1 * MiB, "longest request target"},
    [S_MAX_HEADERS] = {"max_headers", "--max-headers", {"CAIRN_MAX_HEADERS", NULL}, V_INT, "100",
                       8, 10000, "most header fields per request"},
    [S_IDLE_TIMEOUT] = {"idle_timeout", "--idle-timeout", {"CAIRN_IDLE_TIMEOUT", NULL}, V_INT,
                        "60", 1, 86400, "keep-alive idle seconds"},
    [S_READ_TIMEOUT] = {"read_timeout", "--read-timeout", {"CAIRN_READ_TIMEOUT", NULL}, V_INT,
                        "30", 1, 86400, "slow-client seconds without a byte"},
    [S_MAX_CONNECTIONS] = {"max_connections", "--max-connections",
                           {"CAIRN_MAX_CONNECTIONS", NULL}, V_INT, "10000", 1, 1000000,
                           "most open connections"},
    [S_BODY_BUFFER_BYTES] = {"body_buffer_bytes", "--body-buffer-bytes",
                             {"CAIRN_BODY_BUFFER_BYTES", NULL}, V_SIZE, "1MiB", 4 * KiB,
                             1 * GiB, "per-request body buffer"},
    [S_SHUTDOWN_TIMEOUT] = {"shutdown_timeout", "--shutdown-timeout",
                            {"CAIRN_SHUTDOWN_TIMEOUT", NULL}, V_INT, "30", 0, 3600,
                            "seconds in-flight requests get at shutdown"},
    [S_MIN_PART_SIZE] = {"min_part_size", "--min-part-size", {"CAIRN_MIN_PART_SIZE", NULL},
                         V_SIZE, "5MiB", 0, 5 * GiB, "smallest multipart part but the last"},
    [S_STALE_UPLOAD_AGE] = {"stale_upload_age", "--stale-upload-age",
                            {"CAIRN_STALE_UPLOAD_AGE", NULL}, V_INT, "86400", 1,
                            100LL * 365 * 86400, "seconds before abandoned uploads are removed"},
    [S_LIFECYCLE_DAY] = {"lifecycle_day_seconds", "--lifecycle-day-seconds",
                         {"CAIRN_LIFECYCLE_DAY_SECONDS", NULL}, V_INT, "86400", 1, 86400,
                         "length of a lifecycle day in seconds (shorten for tests)"},
    [S_LIFECYCLE_INTERVAL] = {"lifecycle_interval_seconds", "--lifecycle-interval-seconds",
                              {"CAIRN_LIFECYCLE_INTERVAL_SECONDS", NULL}, V_INT, "3600", 1,
                              7 * 86400, "seconds between lifecycle scans"},
};

/* Where the current value of a setting came from, for error messages. */
struct layered {
    const char *value[S_COUNT];
    char source[S_COUNT][160];
};

/* ---- helpers ------------------------------------------------------------- */

static void set_err(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

/* Keeps a malloc'd copy of `s` in the configuration; NULL when out of memory. */
static const char *own(struct server_config *cfg, const char *s)
{
    char **grown = realloc(cfg->owned, (cfg->n_owned + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    cfg->owned = grown;
    char *copy = strdup(s);
    if (copy)
        cfg->owned[cfg->n_owned++] = copy;
    return copy;
}

int server_config_parse_level(const char *s)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; s && i < 4; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    if (s && strcasecmp(s, "warning") == 0)
        return CAIRN_LOG_WARN;
    return -1;
}

/* Parses a whole number, with a size suffix when `sizes`.  0 or -1. */
static int parse_number(const char *s, int sizes, long long *out)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == ' ')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    unsigned long long mult = 1;
    if (*end && sizes) {
        static const struct {
            const char *suffix;
            unsigned long long mult;
        } units[] = {{"K", KiB}, {"KiB", KiB}, {"KB", KiB}, {"M", MiB}, {"MiB", MiB},
                     {"MB", MiB}, {"G", GiB}, {"GiB", GiB}, {"GB", GiB}};
        size_t i;
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strcmp(end, units[i].suffix) == 0)
                break;
        if (i == sizeof(units) / sizeof(units[0]))
            return -1;
        mult = units[i].mult;
        end += strlen(end);
    }
    if (*end || v > (unsigned long long)LLONG_MAX / mult)
        return -1;
    *out = (long long)(v * mult);
    return 0;
}

/* Checks "HOST:PORT", ":PORT" or "[V6]:PORT". */
static int valid_address(const char *a)
{
    const char *colon;
    if (a[0] == '[') {
        const char *close = strchr(a, ']');
        if (!close || close == a + 1 || close[1] != ':')
            return 0;
        colon = close + 1;
    } else {
        colon = strrchr(a, ':');
        if (!colon || memchr(a, ':', (size_t)(colon - a)))
            return 0;
    }
    long long port;
    return parse_number(colon + 1, 0, &port) == 0 && port <= 65535;
}

static int file_exists(const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
        return 0;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int dir_exists(const char *dir)
{
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* "FILE:LINE" of a setting for messages. */
static void where(const config_setting_t *s, const char *file, char *buf, size_t cap)
{
    const char *f = config_setting_source_file(s);
    snprintf(buf, cap, "%s:%u", f ? f : file, config_setting_source_line(s));
}

/* ---- flags ---------------------------------------------------------------- */

static int find_flag(const char *arg, size_t len)
{
    for (int i = 0; i < S_COUNT; i++)
        if (defs[i].flag && strlen(defs[i].flag) == len && strncmp(defs[i].flag, arg, len) == 0)
            return i;
    if (len == 13 && strncmp(arg, "--plugin-path", 13) == 0)
        return S_PLUGIN_PATH;
    return -1;
}

void server_config_usage(FILE *out)
{
    fprintf(out, "  --config FILE             libconfig file (env CAIRN_CONFIG)\n");
    for (int i = 0; i < S_COUNT; i++)
        if (defs[i].flag)
            fprintf(out, "  %-25s %s%s%s%s\n", defs[i].flag, defs[i].help,
                    defs[i].dflt ? " (default " : "", defs[i].dflt ? defs[i].dflt : "",
                    defs[i].dflt ? ")" : "");
}

/* Drives from the command line (or CAIRN_VOLUMES), expanded. */
struct drives {
    char **list;
    size_t n;
};

static int drives_add(struct drives *d, const char *pattern, const char *source, char *err,
                      size_t err_cap)
{
    char **items, e[256];
    size_t n;
    int rc = ellipsis_expand(pattern, &items, &n, e, sizeof(e));
    if (rc == CAIRN_E_INVALID_ARGUMENT) {
        set_err(err, err_cap, "%s: %s", source, e);
        return rc;
    }
    if (rc < 0)
        return rc;
    char **grown = realloc(d->list, (d->n + n) * sizeof(*grown));
    if (!grown) {
        ellipsis_free(items, n);
        return CAIRN_E_NOMEM;
    }
    d->list = grown;
    memcpy(d->list + d->n, items, n * sizeof(*items));
    d->n += n;
    free(items); /* the strings moved into d->list */
    return 0;
}

static void drives_free(struct drives *d)
{
    ellipsis_free(d->list, d->n);
    d->list = NULL;
    d->n = 0;
}

/*
 * Reads argv: flags into `flags` (values are argv strings), drives into `d`,
 * the --config value into *config_file_r.
 */
static int parse_args(int argc, char *const argv[], struct layered *flags, struct drives *d,
                      const char **config_file_r, char *err, size_t err_cap)
{
    int only_drives = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (only_drives || arg[0] != '-' || strcmp(arg, "-") == 0) {
            int rc = drives_add(d, arg, "drive argument", err, err_cap);
            if (rc < 0)
                return rc;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_drives = 1;
            continue;
        }
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        const char *value = eq ? eq + 1 : NULL;
        int id = find_flag(arg, name_len);
        int is_config = name_len == 8 && strncmp(arg, "--config", 8) == 0;
        if (id < 0 && !is_config) {
            set_err(err, err_cap, "unknown flag '%.*s' (see 'cairn help')", (int)name_len, arg);
            return CAIRN_E_INVALID_ARGUMENT;
        }
        if (!value) {
            if (i + 1 >= argc) {
                set_err(err, err_cap, "flag '%s' needs a value", arg);
                return CAIRN_E_INVALID_ARGUMENT;
            }
            value = argv[++i];
        }
        if (is_config) {
            *config_file_r = value;
        } else {
            flags->value[id] = value;
            snprintf(flags->source[id], sizeof(flags->source[id]), "flag %s", defs[id].flag);
        }
    }
    return 0;
}

/* ---- the config file ------------------------------------------------------- */

/* Lists and groups read by read_instances, not scalar settings. */
static const char *const instance_keys[] = {"backends", "auth", "policy", "placement"};

/* Reads the scalar settings of the file into `file_layer`. */
static int read_file_scalars(struct server_config *cfg, const char *file,
                             struct layered *file_layer, char *err, size_t err_cap)
{
    config_setting_t *root = config_root_setting(&cfg->lc);
    int n = config_setting_length(root);
    for (int i = 0; i < n; i++) {
        config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s);
        char at[PATH_MAX + 32];
        where(s, file, at, sizeof(at));
        int known = 0;
        for (size_t k = 0; k < sizeof(instance_keys) / sizeof(instance_keys[0]); k++)
            if (strcmp(name, instance_keys[k]) == 0)
                known = 1;
        if (known)
            continue;
        int id;
        for (id = 0; id < S_COUNT; id++)
            if (strcmp(defs[id].key, name) == 0)
                break;
        if (id == S_COUNT) {
            set_err(err, err_cap, "%s: unknown setting '%s'", at, name);
            return CAIRN_E_INVALID_ARGUMENT;
        }
        const char *value = NULL;
        char num[32];
        switch (config_setting_type(s)) {
        case CONFIG_TYPE_STRING: value = config_setting_get_string(s); break;
        case CONFIG_TYPE_INT:
            if (defs[id].type == V_INT || defs[id].type == V_SIZE) {
                snprintf(num, sizeof(num), "%d", config_setting_get_int(s));
                value = num;
            }
            break;
        case CONFIG_TYPE_INT64:
            if (defs[id].type == V_INT || defs[id].type == V_SIZE) {
                snprintf(num, sizeof(num), "%lld", config_setting_get_int64(s));
                value = num;
            }
            break;
        default: break;
        }
        if (!value) {
            set_err(err, err_cap, "%s: setting '%s' must be %s", at, name,
                    defs[id].type == V_STR || defs[id].type == V_LEVEL ? "a string"
                                                                       : "a number or a string");
            return CAIRN_E_INVALID_ARGUMENT;
        }
        if (!(file_layer->value[id] = own(cfg, value)))
            return CAIRN_E_NOMEM;
        snprintf(file_layer->source[id], sizeof(file_layer->source[id]), "%.150s", at);
    }
    return 0;
}

/* Replaces the "drives" setting of `group` with the expanded `list`. */
static int set_drives(config_setting_t *group, char *const *list, size_t n)
{
    if (config_setting_get_member(group, "drives"))
        config_setting_remove(group, "drives");
    config_setting_t *arr = config_setting_add(group, "drives", CONFIG_TYPE_ARRAY);
    if (!arr)
        return CAIRN_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (!config_setting_set_string_elem(arr, -1, list[i]))
            return CAIRN_E_NOMEM;
    return 0;
}

/* Expands the ellipses of a backend's drives in place. */
static int expand_group_drives(config_setting_t *group, const char *file, char *err,
                               size_t err_cap)
{
    config_setting_t *s = config_setting_get_member(group, "drives");
    if (!s)
        return 0;
    char at[PATH_MAX + 32];
    where(s, file, at, sizeof(at));
    struct drives d = {0};
    int rc = 0;
    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        rc = drives_add(&d, config_setting_get_string(s), at, err, err_cap);
    } else if (config_setting_type(s) == CONFIG_TYPE_ARRAY ||
               config_setting_type(s) == CONFIG_TYPE_LIST) {
        for (int i = 0; rc == 0 && i < config_setting_length(s); i++) {
            const char *item = config_setting_get_string_elem(s, i);
            if (!item) {
                set_err(err, err_cap, "%s: 'drives' must hold strings", at);
                rc = CAIRN_E_INVALID_ARGUMENT;
            } else {
                rc = drives_add(&d, item, at, err, err_cap);
            }
        }
    } else {
        set_err(err, err_cap, "%s: 'drives' must be a string or a list of strings", at);
        rc = CAIRN_E_INVALID_ARGUMENT;
    }
    if (rc == 0)
        rc = set_drives(group, d.list, d.n);
    drives_free(&d);
    return rc;
}

/* A group holding name and plugin, made in memory under the hidden root group. */
static config_setting_t *make_group(struct server_config *cfg, const char *name,
                                    const char *plugin)
{
    config_setting_t *root = config_root_setting(&cfg->lc);
    config_setting_t *built = config_setting_get_member(root, "builtin_instances");
    if (!built)
        built = config_setting_add(root, "builtin_instances", CONFIG_TYPE_LIST);
    config_setting_t *g = built ? config_setting_add(built, NULL, CONFIG_TYPE_GROUP) : NULL;
    if (!g)
        return NULL;
    config_setting_t *n = config_setting_add(g, "name", CONFIG_TYPE_STRING);
    config_setting_t *p = config_setting_add(g, "plugin", CONFIG_TYPE_STRING);
    if (!n || !p || !config_setting_set_string(n, name) || !config_setting_set_string(p, plugin))
        return NULL;
    return g;
}

/*
 * Turns one instance entry (a string naming a plugin, or a group with
 * plugin = "..." and optionally name = "...") into `inst`.
 */
static int instance_from(struct server_config *cfg, config_setting_t *s, const char *file,
                         const char *what, const char *dflt_name, struct plugin_instance *inst,
                         char *err, size_t err_cap)
{
    char at[PATH_MAX + 32];
    where(s, file, at, sizeof(at));
    if (config_setting_type(s) == CONFIG_TYPE_STRING) {
        const char *plugin = config_setting_get_string(s);
        if (!plugin || !*plugin) {
            set_err(err, err_cap, "%s: %s: empty plugin name", at, what);
            return CAIRN_E_INVALID_ARGUMENT;
        }
        config_setting_t *g = make_group(cfg, dflt_name ? dflt_name : plugin, plugin);
        if (!g)
            return CAIRN_E_NOMEM;
        s = g;
    } else if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
        set_err(err, err_cap, "%s: %s must be a plugin name or a group { plugin = \"...\"; ... }",
                at, what);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    const char *plugin = NULL, *name = NULL;
    config_setting_t *p = config_setting_get_member(s, "plugin");
    if (!p || !(plugin = config_setting_get_string(p)) || !*plugin) {
        set_err(err, err_cap, "%s: %s needs plugin = \"<name or path>\"", at, what);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    config_setting_t *n = config_setting_get_member(s, "name");
    if (n && (!(name = config_setting_get_string(n)) || !*name)) {
        set_err(err, err_cap, "%s: %s: name must be a non-empty string", at, what);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    inst->name = name ? name : (dflt_name ? dflt_name : plugin);
    inst->plugin = plugin;
    plugin_config_init(&inst->config, s);
    return 0;
}

/* Reads backends, auth and policy (from the file, or the defaults). */
static int read_instances(struct server_config *cfg, const char *file, const struct drives *cli,
                          char *err, size_t err_cap)
{
    config_setting_t *root = config_root_setting(&cfg->lc);
    int rc;

    /* Backends. */
    config_setting_t *b = config_setting_get_member(root, "backends");
    if (b) {
        char at[PATH_MAX + 32];
        where(b, file, at, sizeof(at));
        if (config_setting_type(b) != CONFIG_TYPE_LIST || config_setting_length(b) == 0) {
            set_err(err, err_cap,
                    "%s: 'backends' must be a non-empty list of groups ( { name = ...; plugin = ...; drives = [...]; } )",
                    at);
            return CAIRN_E_INVALID_ARGUMENT;
        }
        size_t n = (size_t)config_setting_length(b);
        if (!(cfg->backends = calloc(n, sizeof(*cfg->backends))))
            return CAIRN_E_NOMEM;
        for (size_t i = 0; i < n; i++) {
            config_setting_t *g = config_setting_get_elem(b, (unsigned)i);
            if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
                where(g, file, at, sizeof(at));
                set_err(err, err_cap, "%s: each backend must be a group { plugin = ...; }", at);
                return CAIRN_E_INVALID_ARGUMENT;
            }
            if ((rc = instance_from(cfg, g, file, "backend", i == 0 ? "default" : NULL,
                                    &cfg->backends[i], err, err_cap)) < 0)
                return rc;
            cfg->n_backends++;
            if (i == 0 && cli->n > 0)
                rc = set_drives(g, cli->list, cli->n);
            else
                rc = expand_group_drives(g, file, err, err_cap);
            if (rc < 0)
                return rc;
        }
    } else {
        if (cli->n == 0) {
            set_err(err, err_cap, "no drives given: cairn server [flags] DRIVE... "
                                  "(e.g. /data{1...4}), or backends in a config file");
            return CAIRN_E_INVALID_ARGUMENT;
        }
        if (!(cfg->backends = calloc(1, sizeof(*cfg->backends))))
            return CAIRN_E_NOMEM;
        config_setting_t *g = make_group(cfg, "default", "backend-ec");
        if (!g || set_drives(g, cli->list, cli->n) < 0)
            return CAIRN_E_NOMEM;
        cfg->backends[0].name = "default";
        cfg->backends[0].plugin = config_setting_get_string(config_setting_get_member(g, "plugin"));
        plugin_config_init(&cfg->backends[0].config, g);
        cfg->n_backends = 1;
    }

    /* The auth chain: a list (or array) of names or groups; absent: auth-sigv4. */
    config_setting_t *a = config_setting_get_member(root, "auth");
    if (a) {
        char at[PATH_MAX + 32];
        where(a, file, at, sizeof(at));
        int t = config_setting_type(a);
        size_t n = (t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY)
                       ? (size_t)config_setting_length(a)
                       : 1;
        if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_STRING &&
            t != CONFIG_TYPE_GROUP) {
            set_err(err, err_cap, "%s: 'auth' must be a list of plugin names or groups", at);
            return CAIRN_E_INVALID_ARGUMENT;
        }
        if (n && !(cfg->auth = calloc(n, sizeof(*cfg->auth))))
            return CAIRN_E_NOMEM;
        for (size_t i = 0; i < n; i++) {
            config_setting_t *item =
                (t == CONFIG_TYPE_LIST || t == CONFIG_TYPE_ARRAY) ? config_setting_get_elem(a, (unsigned)i) : a;
            if ((rc = instance_from(cfg, item, file, "auth plugin", NULL, &cfg->auth[i], err,
                                    err_cap)) < 0)
                return rc;
            cfg->n_auth++;
        }
    } else {
        if (!(cfg->auth = calloc(1, sizeof(*cfg->auth))))
            return CAIRN_E_NOMEM;
        config_setting_t *g = make_group(cfg, "auth-sigv4", "auth-sigv4");
        if (!g)
            return CAIRN_E_NOMEM;
        cfg->auth[0].name = cfg->auth[0].plugin = "auth-sigv4";
        plugin_config_init(&cfg->auth[0].config, g);
        cfg->n_auth = 1;
    }

    /* The policy: a name, a group, or "" for none; absent: auth-policy. */
    config_setting_t *p = config_setting_get_member(root, "policy");
    if (p && config_setting_type(p) == CONFIG_TYPE_STRING &&
        strcmp(config_setting_get_string(p), "") == 0)
        return 0;
    if (!(cfg->policy = calloc(1, sizeof(*cfg->policy))))
        return CAIRN_E_NOMEM;
    if (p)
        return instance_from(cfg, p, file, "policy", NULL, cfg->policy, err, err_cap);
    config_setting_t *g = make_group(cfg, "auth-policy", "auth-policy");
    if (!g)
        return CAIRN_E_NOMEM;
    cfg->policy->name = cfg->policy->plugin = "auth-policy";
    plugin_config_init(&cfg->policy->config, g);
    return 0;
}

/* ---- putting it together -------------------------------------------------- */

/* Converts the final string values into the typed fields. */
static int apply(struct server_config *cfg, const struct layered *v, char *err, size_t err_cap)
{
    long long num[S_COUNT] = {0};
    for (int i = 0; i < S_COUNT; i++) {
        const char *s = v->value[i];
        if (!s)
            continue;
        switch (defs[i].type) {
        case V_STR: break;
        case V_LEVEL:
            if (server_config_parse_level(s) < 0) {
                set_err(err, err_cap, "%s: %s '%s' is not one of error, warn, info, debug",
                        v->source[i], defs[i].key, s);
                return CAIRN_E_INVALID_ARGUMENT;
            }
            break;
        case V_INT:
        case V_SIZE:
            if (parse_number(s, defs[i].type == V_SIZE, &num[i]) < 0) {
                set_err(err, err_cap, "%s: %s '%s' is not a %s", v->source[i], defs[i].key, s,
                        defs[i].type == V_SIZE ? "size (e.g. 1048576, 64KiB, 1MiB)"
                                               : "whole number");
                return CAIRN_E_INVALID_ARGUMENT;
            }
            if (num[i] < defs[i].min || num[i] > defs[i].max) {
                set_err(err, err_cap, "%s: %s %s is out of range [%lld, %lld]", v->source[i],
                        defs[i].key, s, defs[i].min, defs[i].max);
                return CAIRN_E_INVALID_ARGUMENT;
            }
            break;
        }
    }

    cfg->address = v->value[S_ADDRESS];
    if (!valid_address(cfg->address)) {
        set_err(err, err_cap, "%s: address '%s' is not HOST:PORT, :PORT or [V6]:PORT",
                v->source[S_ADDRESS], cfg->address);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    cfg->region = v->value[S_REGION];
    if (!*cfg->region || strspn(cfg->region, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
                             strlen(cfg->region)) {
        set_err(err, err_cap, "%s: region '%s' must be lower-case letters, digits and '-'",
                v->source[S_REGION], cfg->region);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    cfg->domain = v->value[S_DOMAIN] && *v->value[S_DOMAIN] ? v->value[S_DOMAIN] : NULL;
    cfg->root_user = v->value[S_ROOT_USER];
    cfg->root_password = v->value[S_ROOT_PASSWORD];
    if (strlen(cfg->root_user) < 3) {
        set_err(err, err_cap, "%s: root user must be at least 3 characters",
                v->source[S_ROOT_USER]);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    if (strlen(cfg->root_password) < 8 || strlen(cfg->root_password) > 40) {
        set_err(err, err_cap, "%s: root password must be 8 to 40 characters",
                v->source[S_ROOT_PASSWORD]);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    cfg->root_is_default = strcmp(cfg->root_user, "minioadmin") == 0 &&
                           strcmp(cfg->root_password, "minioadmin") == 0;
    cfg->plugin_path = v->value[S_PLUGIN_PATH] && *v->value[S_PLUGIN_PATH]
                           ? v->value[S_PLUGIN_PATH]
                           : NULL;
    cfg->log_level = (enum cairn_log_level)server_config_parse_level(v->value[S_LOG_LEVEL]);
    cfg->min_part_size = (uint64_t)num[S_MIN_PART_SIZE];
    cfg->stale_upload_age_s = num[S_STALE_UPLOAD_AGE];
    cfg->lifecycle_day_s = num[S_LIFECYCLE_DAY];
    cfg->lifecycle_interval_s = num[S_LIFECYCLE_INTERVAL];

    cfg->certs_dir = v->value[S_CERTS_DIR] && *v->value[S_CERTS_DIR] ? v->value[S_CERTS_DIR]
                                                                     : NULL;
    if (cfg->certs_dir && v->source[S_CERTS_DIR][0] != 'd' && !dir_exists(cfg->certs_dir)) {
        set_err(err, err_cap, "%s: certs dir '%s' is not a directory", v->source[S_CERTS_DIR],
                cfg->certs_dir);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    cfg->tls = cfg->certs_dir && file_exists(cfg->certs_dir, "public.crt") &&
               file_exists(cfg->certs_dir, "private.key");

    cfg->tls_address = v->value[S_TLS_ADDRESS] && *v->value[S_TLS_ADDRESS]
                           ? v->value[S_TLS_ADDRESS]
                           : NULL;
    if (cfg->tls_address) {
        if (!valid_address(cfg->tls_address)) {
            set_err(err, err_cap, "%s: tls_address '%s' is not HOST:PORT, :PORT or [V6]:PORT",
                    v->source[S_TLS_ADDRESS], cfg->tls_address);
            return CAIRN_E_INVALID_ARGUMENT;
        }
        if (!cfg->tls) {
            set_err(err, err_cap,
                    "%s: tls_address '%s' needs certificates (public.crt and private.key in "
                    "certs_dir)",
                    v->source[S_TLS_ADDRESS], cfg->tls_address);
            return CAIRN_E_INVALID_ARGUMENT;
        }
        if (strcmp(cfg->tls_address, cfg->address) == 0) {
            set_err(err, err_cap, "%s: tls_address '%s' must differ from address",
                    v->source[S_TLS_ADDRESS], cfg->tls_address);
            return CAIRN_E_INVALID_ARGUMENT;
        }
    }

    struct http_server_options *h = &cfg->http;
    memset(h, 0, sizeof(*h));
    if (cfg->tls && cfg->tls_address) {
        /* Both: plain HTTP on the address, HTTPS on tls_address. */
        h->listen = &cfg->address;
        h->n_listen = 1;
        h->tls_listen = &cfg->tls_address;
        h->n_tls_listen = 1;
        h->certs_dir = cfg->certs_dir;
    } else if (cfg->tls) {
        /* As MinIO: with certificates (and no tls_address) the address serves TLS only. */
        h->tls_listen = &cfg->address;
        h->n_tls_listen = 1;
        h->certs_dir = cfg->certs_dir;
    } else {
        h->listen = &cfg->address;
        h->n_listen = 1;
    }
    h->io_threads = (int)num[S_IO_THREADS];
    h->worker_threads = (int)num[S_WORKER_THREADS];
    h->max_header_bytes = (size_t)num[S_MAX_HEADER_BYTES];
    h->max_url_bytes = (size_t)num[S_MAX_URL_BYTES];
    h->max_headers = (size_t)num[S_MAX_HEADERS];
    h->idle_timeout_s = (int)num[S_IDLE_TIMEOUT];
    h->read_timeout_s = (int)num[S_READ_TIMEOUT];
    h->max_connections = (int)num[S_MAX_CONNECTIONS];
    h->body_buffer_bytes = (size_t)num[S_BODY_BUFFER_BYTES];
    h->shutdown_timeout_s = (int)num[S_SHUTDOWN_TIMEOUT];
    return 0;
}

/* Reads `placement = ( { prefix = "..."; backend = "NAME"; }, ... )`: each
 * backend must be one of the configured backend instances. */
static int read_placement(struct server_config *cfg, const char *file, char *err,
                          size_t err_cap)
{
    config_setting_t *p = config_setting_get_member(config_root_setting(&cfg->lc), "placement");
    if (!p)
        return 0;
    char at[PATH_MAX + 32];
    where(p, file, at, sizeof(at));
    if (config_setting_type(p) != CONFIG_TYPE_LIST) {
        set_err(err, err_cap,
                "%s: 'placement' must be a list of groups ( { prefix = \"...\"; backend = \"...\"; } )",
                at);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    size_t n = (size_t)config_setting_length(p);
    if (n == 0)
        return 0;
    if (!(cfg->placement = calloc(n, sizeof(*cfg->placement))))
        return CAIRN_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        config_setting_t *g = config_setting_get_elem(p, (unsigned)i);
        where(g, file, at, sizeof(at));
        const char *prefix = NULL, *backend = NULL;
        if (config_setting_type(g) != CONFIG_TYPE_GROUP ||
            !config_setting_lookup_string(g, "prefix", &prefix) ||
            !config_setting_lookup_string(g, "backend", &backend)) {
            set_err(err, err_cap,
                    "%s: each placement rule must be { prefix = \"...\"; backend = \"...\"; }",
                    at);
            return CAIRN_E_INVALID_ARGUMENT;
        }
        if (config_setting_length(g) != 2) {
            set_err(err, err_cap, "%s: a placement rule holds only prefix and backend", at);
            return CAIRN_E_INVALID_ARGUMENT;
        }
        size_t b = 0;
        while (b < cfg->n_backends && strcmp(cfg->backends[b].name, backend) != 0)
            b++;
        if (b == cfg->n_backends) {
            set_err(err, err_cap, "%s: placement rule names backend '%s', which is not in 'backends'",
                    at, backend);
            return CAIRN_E_INVALID_ARGUMENT;
        }
        cfg->placement[i].prefix = prefix;
        cfg->placement[i].backend = backend;
        cfg->n_placement++;
    }
    return 0;
}

/* Instance names must be unique across kinds (the loader refuses duplicates
 * too, but this error can name the config file). */
static int check_unique(const struct server_config *cfg, char *err, size_t err_cap)
{
    const char *names[512];
    size_t n = 0;
    for (size_t i = 0; i < cfg->n_backends && n < 512; i++)
        names[n++] = cfg->backends[i].name;
    for (size_t i = 0; i < cfg->n_auth && n < 512; i++)
        names[n++] = cfg->auth[i].name;
    if (cfg->policy && n < 512)
        names[n++] = cfg->policy->name;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) == 0) {
                set_err(err, err_cap, "%s: plugin instance name '%s' is used twice (set name = \"...\")",
                        cfg->config_file ? cfg->config_file : "configuration", names[i]);
                return CAIRN_E_INVALID_ARGUMENT;
            }
    return 0;
}

int server_config_load(struct server_config *cfg, int argc, char *const argv[], char *err,
                       size_t err_cap)
{
    memset(cfg, 0, sizeof(*cfg));
    config_init(&cfg->lc);
    if (err_cap)
        err[0] = '\0';

    struct layered v, file_layer, flags;
    memset(&v, 0, sizeof(v));
    memset(&file_layer, 0, sizeof(file_layer));
    memset(&flags, 0, sizeof(flags));
    struct drives cli = {0};
    const char *config_file = NULL;
    int rc;

    /* 1. defaults */
    for (int i = 0; i < S_COUNT; i++) {
        v.value[i] = defs[i].dflt;
        snprintf(v.source[i], sizeof(v.source[i]), "default");
    }
    const char *home = getenv("HOME");
    char certs[PATH_MAX];
    if (home && *home && snprintf(certs, sizeof(certs), "%s/.cairn/certs", home) < (int)sizeof(certs) &&
        dir_exists(certs)) {
        if (!(v.value[S_CERTS_DIR] = own(cfg, certs)))
            return CAIRN_E_NOMEM;
    }

    if ((rc = parse_args(argc, argv, &flags, &cli, &config_file, err, err_cap)) < 0)
        goto out;
    if (!config_file) {
        const char *e = getenv("CAIRN_CONFIG");
        if (e && *e)
            config_file = e;
    }

    /* 2. the config file */
    if (config_file) {
        if (!(cfg->config_file = own(cfg, config_file))) {
            rc = CAIRN_E_NOMEM;
            goto out;
        }
        if (config_read_file(&cfg->lc, cfg->config_file) != CONFIG_TRUE) {
            if (config_error_type(&cfg->lc) == CONFIG_ERR_FILE_IO)
                set_err(err, err_cap, "%s: cannot read config file: %s", cfg->config_file,
                        strerror(errno ? errno : ENOENT));
            else
                set_err(err, err_cap, "%s:%d: %s",
                        config_error_file(&cfg->lc) ? config_error_file(&cfg->lc)
                                                    : cfg->config_file,
                        config_error_line(&cfg->lc), config_error_text(&cfg->lc));
            rc = CAIRN_E_INVALID_ARGUMENT;
            goto out;
        }
        if ((rc = read_file_scalars(cfg, cfg->config_file, &file_layer, err, err_cap)) < 0)
            goto out;
        for (int i = 0; i < S_COUNT; i++)
            if (file_layer.value[i]) {
                v.value[i] = file_layer.value[i];
                memcpy(v.source[i], file_layer.source[i], sizeof(v.source[i]));
            }
    }

    /* 3. the environment (an empty variable counts as unset, as in MinIO) */
    for (int i = 0; i < S_COUNT; i++)
        for (int k = 0; k < 2 && defs[i].env[k]; k++) {
            const char *e = getenv(defs[i].env[k]);
            if (e && *e) {
                if (!(v.value[i] = own(cfg, e))) {
                    rc = CAIRN_E_NOMEM;
                    goto out;
                }
                snprintf(v.source[i], sizeof(v.source[i]), "environment %s", defs[i].env[k]);
                break; /* CAIRN_* wins over MINIO_* */
            }
        }
    if (cli.n == 0) {
        const char *vols = getenv("CAIRN_VOLUMES");
        const char *src = "environment CAIRN_VOLUMES";
        if (!vols || !*vols) {
            vols = getenv("MINIO_VOLUMES");
            src = "environment MINIO_VOLUMES";
        }
        if (vols && *vols) {
            char *copy = strdup(vols), *save = NULL;
            if (!copy) {
                rc = CAIRN_E_NOMEM;
                goto out;
            }
            for (char *tok = strtok_r(copy, " \t", &save); tok && rc == 0;
                 tok = strtok_r(NULL, " \t", &save))
                rc = drives_add(&cli, tok, src, err, err_cap);
            free(copy);
            if (rc < 0)
                goto out;
        }
    }

    /* 4. flags */
    for (int i = 0; i < S_COUNT; i++)
        if (flags.value[i]) {
            if (!(v.value[i] = own(cfg, flags.value[i]))) {
                rc = CAIRN_E_NOMEM;
                goto out;
            }
            memcpy(v.source[i], flags.source[i], sizeof(v.source[i]));
        }

    if ((rc = apply(cfg, &v, err, err_cap)) < 0)
        goto out;
    if ((rc = read_instances(cfg, cfg->config_file ? cfg->config_file : "", &cli, err,
                             err_cap)) < 0)
        goto out;
    if ((rc = check_unique(cfg, err, err_cap)) < 0)
        goto out;
    rc = read_placement(cfg, cfg->config_file ? cfg->config_file : "", err, err_cap);
out:
    drives_free(&cli);
    if (rc == CAIRN_E_NOMEM && err_cap && !err[0])
        set_err(err, err_cap, "out of memory reading the configuration");
    return rc;
}

void server_config_release(struct server_config *cfg)
{
    if (!cfg)
        return;
    config_destroy(&cfg->lc);
    free(cfg->backends);
    free(cfg->placement);
    free(cfg->auth);
    free(cfg->policy);
    for (size_t i = 0; i < cfg->n_owned; i++) {
        /* The root password may be among them: wipe before freeing. */
        memset(cfg->owned[i], 0, strlen(cfg->owned[i]));
        free(cfg->owned[i]);
    }
    free(cfg->owned);
    memset(cfg, 0, sizeof(*cfg));
}
