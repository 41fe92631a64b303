/* test-config.c -- server configuration: defaults, file, environment, flags, errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "plugin-config.h"
#include "tap.h"

static char tmpdir[] = "/tmp/cairn-test-config-XXXXXX";
static char path[512];

static void clear_env(void)
{
    static const char *vars[] = {"CAIRN_ADDRESS", "CAIRN_CERTS_DIR", "CAIRN_REGION",
                                 "MINIO_REGION", "CAIRN_DOMAIN", "MINIO_DOMAIN",
                                 "CAIRN_ROOT_USER", "MINIO_ROOT_USER", "CAIRN_ROOT_PASSWORD",
                                 "MINIO_ROOT_PASSWORD", "CAIRN_PLUGIN_PATH", "CAIRN_LOG_LEVEL",
                                 "CAIRN_IO_THREADS", "CAIRN_WORKER_THREADS", "CAIRN_CONFIG",
                                 "CAIRN_VOLUMES", "MINIO_VOLUMES", "CAIRN_MAX_HEADER_BYTES"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
}

static const char *write_file(const char *text)
{
    snprintf(path, sizeof(path), "%s/cairn.conf", tmpdir);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads with argv (NULL-terminated), returns rc; err receives the message. */
static int load(struct server_config *cfg, char *err, size_t cap, const char *const *args)
{
    int argc = 0;
    while (args[argc])
        argc++;
    return server_config_load(cfg, argc, (char *const *)args, err, cap);
}

/* Expects a refusal whose message contains `fragment`. */
static void refuse(const char *what, const char *const *args, const char *fragment)
{
    struct server_config cfg;
    char err[512];
    int rc = load(&cfg, err, sizeof(err), args);
    is_int(rc, CAIRN_E_INVALID_ARGUMENT, "%s: refused", what);
    if (!ok(strstr(err, fragment) != NULL, "%s: error mentions '%s'", what, fragment))
        printf("#   error was: %s\n", err);
    server_config_release(&cfg);
}

static void test_defaults(void)
{
    struct server_config cfg;
    char err[512];
    clear_env();
    int rc = load(&cfg, err, sizeof(err), (const char *[]){"/d{1...4}", NULL});
    if (!ok(rc == 0, "defaults load"))
        printf("#   %s\n", err);
    is_str(cfg.address, ":9000", "default address");
    is_str(cfg.region, "us-east-1", "default region");
    ok(cfg.domain == NULL, "no domain");
    ok(cfg.root_is_default, "default root credentials flagged");
    is_str(cfg.root_user, "minioadmin", "default root user");
    is_int(cfg.log_level, CAIRN_LOG_INFO, "default log level");
    is_int(cfg.http.io_threads, 2, "default io threads");
    is_int(cfg.http.worker_threads, 16, "default workers");
    is_int(cfg.http.max_header_bytes, 16384, "default header limit");
    is_int(cfg.http.body_buffer_bytes, 1048576, "default body buffer");
    is_int(cfg.http.n_listen, 1, "one listener");
    is_str(cfg.http.listen[0], ":9000", "listener is the address");
    ok(!cfg.tls && cfg.http.n_tls_listen == 0, "no TLS");
    is_int(cfg.min_part_size, 5 * 1024 * 1024, "min part size 5 MiB");
    is_int(cfg.n_backends, 1, "one backend");
    is_str(cfg.backends[0].name, "default", "backend named default");
    is_str(cfg.backends[0].plugin, "backend-ec", "backend-ec");
    is_int(plugin_config_list_count(&cfg.backends[0].config, "drives"), 4, "four drives");
    is_str(plugin_config_list_item(&cfg.backends[0].config, "drives", 3), "/d4", "fourth drive");
    ok(plugin_config_list_item(&cfg.backends[0].config, "drives", 4) == NULL, "no fifth drive");
    is_int(cfg.n_auth, 1, "one auth plugin");
    is_str(cfg.auth[0].plugin, "auth-sigv4", "auth-sigv4");
    ok(cfg.policy && strcmp(cfg.policy->plugin, "auth-policy") == 0, "policy auth-policy");
    server_config_release(&cfg);
}

static void test_precedence(void)
{
    struct server_config cfg;
    char err[512];
    clear_env();
    write_file("region = \"file-region\";\nio_threads = 3;\nworker_threads = 5;\n"
               "log_level = \"debug\";\nmax_header_bytes = \"32KiB\";\n");

    is_int(load(&cfg, err, sizeof(err), (const char *[]){"--config", path, "/d", NULL}), 0,
           "file loads");
    is_str(cfg.region, "file-region", "file beats default");
    is_int(cfg.http.io_threads, 3, "file io_threads");
    is_int(cfg.http.max_header_bytes, 32768, "size suffix in file");
    is_int(cfg.log_level, CAIRN_LOG_DEBUG, "file log level");
    server_config_release(&cfg);

    setenv("MINIO_REGION", "minio-region", 1);
    setenv("CAIRN_IO_THREADS", "4", 1);
    load(&cfg, err, sizeof(err), (const char *[]){"--config", path, "/d", NULL});
    is_str(cfg.region, "minio-region", "MINIO_REGION beats the file");
    is_int(cfg.http.io_threads, 4, "env beats file");
    is_int(cfg.http.worker_threads, 5, "file value kept when env is unset");
    server_config_release(&cfg);

    setenv("CAIRN_REGION", "cairn-region", 1);
    load(&cfg, err, sizeof(err), (const char *[]){"--config", path, "/d", NULL});
    is_str(cfg.region, "cairn-region", "CAIRN_REGION beats MINIO_REGION");
    server_config_release(&cfg);

    load(&cfg, err, sizeof(err),
         (const char *[]){"--config", path, "--region", "flag-region", "--io-threads=6", "/d",
                          NULL});
    is_str(cfg.region, "flag-region", "flag beats env");
    is_int(cfg.http.io_threads, 6, "--flag=value form");
    server_config_release(&cfg);

    setenv("CAIRN_IO_THREADS", "", 1);
    load(&cfg, err, sizeof(err), (const char *[]){"--config", path, "/d", NULL});
    is_int(cfg.http.io_threads, 3, "empty env var counts as unset");
    server_config_release(&cfg);

    clear_env();
    setenv("CAIRN_CONFIG", path, 1);
    load(&cfg, err, sizeof(err), (const char *[]){"/d", NULL});
    is_str(cfg.region, "file-region", "CAIRN_CONFIG names the file");
    server_config_release(&cfg);

    clear_env();
    setenv("MINIO_ROOT_USER", "admin", 1);
    setenv("MINIO_ROOT_PASSWORD", "secret-password", 1);
    load(&cfg, err, sizeof(err), (const char *[]){"/d", NULL});
    is_str(cfg.root_user, "admin", "MINIO_ROOT_USER");
    is_str(cfg.root_password, "secret-password", "MINIO_ROOT_PASSWORD");
    ok(!cfg.root_is_default, "not the default credentials");
    server_config_release(&cfg);

    clear_env();
    setenv("MINIO_VOLUMES", "/v{1...2} /w", 1);
    load(&cfg, err, sizeof(err), (const char *[]){NULL});
    is_int(plugin_config_list_count(&cfg.backends[0].config, "drives"), 3,
           "MINIO_VOLUMES gives the drives");
    server_config_release(&cfg);
    clear_env();
}

static void test_instances(void)
{
    struct server_config cfg;
    char err[512];
    clear_env();
    write_file("backends = (\n"
               "  { plugin = \"backend-ec\"; drives = [\"/a{1...2}\", \"/b\"]; parity = 1;\n"
               "    big = 5000000000L; },\n"
               "  { name = \"cold\"; plugin = \"backend-replica\"; drives = \"/c{1...3}\"; }\n"
               ");\n"
               "auth = ( \"auth-sigv4\", { name = \"extra\"; plugin = \"/x/auth-x.so\"; } );\n"
               "policy = \"\";\n");
    int rc = load(&cfg, err, sizeof(err), (const char *[]){"--config", path, NULL});
    if (!ok(rc == 0, "instances load"))
        printf("#   %s\n", err);
    is_int(cfg.n_backends, 2, "two backends");
    is_str(cfg.backends[0].name, "default", "first backend named default");
    is_int(plugin_config_list_count(&cfg.backends[0].config, "drives"), 3,
           "ellipsis expanded in file drives");
    is_str(plugin_config_list_item(&cfg.backends[0].config, "drives", 1), "/a2", "second drive");
    is_int(plugin_config_int(&cfg.backends[0].config, "parity", 9), 1, "plugin int setting");
    ok(plugin_config_int(&cfg.backends[0].config, "big", 0) == 5000000000LL, "int64 setting");
    is_int(plugin_config_int(&cfg.backends[0].config, "absent", 7), 7, "int default");
    is_str(plugin_config_string(&cfg.backends[0].config, "plugin", NULL), "backend-ec",
           "string setting");
    is_str(plugin_config_string(&cfg.backends[0].config, "nope", "dflt"), "dflt",
           "string default");
    is_str(plugin_config_string(&cfg.backends[0].config, "parity", "dflt"), "dflt",
           "non-string gives default");
    is_str(cfg.backends[1].name, "cold", "second backend name");
    is_int(plugin_config_list_count(&cfg.backends[1].config, "drives"), 3,
           "single-string drives expanded");
    is_int(cfg.n_auth, 2, "two auth plugins");
    is_str(cfg.auth[0].name, "auth-sigv4", "auth instance named after its plugin");
    is_str(cfg.auth[1].name, "extra", "named auth instance");
    is_str(cfg.auth[1].plugin, "/x/auth-x.so", "auth by path");
    ok(cfg.policy == NULL, "policy \"\" means none");
    server_config_release(&cfg);

    rc = load(&cfg, err, sizeof(err), (const char *[]){"--config", path, "/z{1...2}", NULL});
    is_int(rc, 0, "command-line drives with a file");
    is_int(plugin_config_list_count(&cfg.backends[0].config, "drives"), 2,
           "command-line drives replace the first backend's");
    is_str(plugin_config_list_item(&cfg.backends[0].config, "drives", 0), "/z1", "cli drive");
    is_int(plugin_config_list_count(&cfg.backends[1].config, "drives"), 3,
           "other backends keep theirs");
    server_config_release(&cfg);

    /* NULL and empty configs read as absent. */
    is_int(plugin_config_list_count(NULL, "drives"), 0, "NULL config: no list");
    is_str(plugin_config_string(NULL, "x", "d"), "d", "NULL config: default string");
}

static void test_errors(void)
{
    clear_env();
    refuse("no drives", (const char *[]){NULL}, "no drives given");
    refuse("unknown flag", (const char *[]){"--bogus", "/d", NULL}, "unknown flag '--bogus'");
    refuse("flag without value", (const char *[]){"/d", "--address", NULL}, "needs a value");
    refuse("bad address", (const char *[]){"--address", "nowhere", "/d", NULL},
           "flag --address: address 'nowhere'");
    refuse("bad port", (const char *[]){"--address", ":99999", "/d", NULL}, "address ':99999'");
    refuse("bad number", (const char *[]){"--io-threads", "many", "/d", NULL},
           "flag --io-threads: io_threads 'many' is not a whole number");
    refuse("out of range", (const char *[]){"--worker-threads", "0", "/d", NULL},
           "out of range");
    refuse("bad size", (const char *[]){"--body-buffer-bytes", "1XB", "/d", NULL}, "not a size");
    refuse("bad level", (const char *[]){"--log-level", "loud", "/d", NULL}, "not one of");
    refuse("bad ellipsis", (const char *[]){"/d{1..4}", NULL}, "malformed ellipsis");
    refuse("missing file", (const char *[]){"--config", "/nonexistent/cairn.conf", "/d", NULL},
           "/nonexistent/cairn.conf: cannot read");
    refuse("missing certs dir", (const char *[]){"--certs-dir", "/nonexistent/certs", "/d", NULL},
           "not a directory");

    setenv("CAIRN_ROOT_PASSWORD", "short", 1);
    refuse("short password", (const char *[]){"/d", NULL},
           "environment CAIRN_ROOT_PASSWORD: root password must be 8 to 40");
    clear_env();
    setenv("CAIRN_IO_THREADS", "x", 1);
    refuse("bad env number", (const char *[]){"/d", NULL}, "environment CAIRN_IO_THREADS");
    clear_env();

    write_file("region = \"a\";\nio_threads = ;\n");
    refuse("syntax error", (const char *[]){"--config", path, "/d", NULL}, "cairn.conf:2:");
    write_file("region = \"a\";\n\nfoo = 1;\n");
    refuse("unknown setting", (const char *[]){"--config", path, "/d", NULL},
           "cairn.conf:3: unknown setting 'foo'");
    write_file("region = 5;\n");
    refuse("wrong type", (const char *[]){"--config", path, "/d", NULL},
           "cairn.conf:1: setting 'region' must be a string");
    write_file("io_threads = 0;\n");
    refuse("file out of range", (const char *[]){"--config", path, "/d", NULL},
           "cairn.conf:1: io_threads 0 is out of range");
    write_file("backends = ( { drives = [\"/d\"]; } );\n");
    refuse("backend without plugin", (const char *[]){"--config", path, NULL},
           "cairn.conf:1: backend needs plugin");
    write_file("backends = ( { plugin = \"backend-ec\"; drives = [\"/d{3...1}\"]; } );\n");
    refuse("bad drive ellipsis in file", (const char *[]){"--config", path, NULL},
           "start after its end");
    write_file("backends = ( { plugin = \"b\"; drives = [1, 2]; } );\n");
    refuse("non-string drives", (const char *[]){"--config", path, NULL}, "must hold strings");
    write_file("backends = ();\n");
    refuse("empty backends", (const char *[]){"--config", path, NULL}, "non-empty list");
    write_file("auth = ( \"auth-sigv4\", \"auth-sigv4\" );\n");
    refuse("duplicate instance", (const char *[]){"--config", path, "/d", NULL},
           "'auth-sigv4' is used twice");
    write_file("auth = 5;\n");
    refuse("bad auth", (const char *[]){"--config", path, "/d", NULL}, "'auth' must be");
    write_file("policy = { name = \"p\"; };\n");
    refuse("policy without plugin", (const char *[]){"--config", path, "/d", NULL},
           "cairn.conf:1: policy needs plugin");
}

int main(void)
{
    if (!mkdtemp(tmpdir))
        return 1;
    setenv("HOME", tmpdir, 1); /* no ~/.cairn/certs */
    test_defaults();
    test_precedence();
    test_instances();
    test_errors();
    unlink(path);
    rmdir(tmpdir);
    return tap_done();
}
