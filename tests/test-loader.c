/* test-loader.c -- the plugin loader accepts good plugins and refuses bad ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "plugin-config.h"
#include "plugin-loader.h"
#include "services.h"
#include "tap.h"

static char tmpdir[] = "/tmp/cairn-test-loader-XXXXXX";
static char marker[512];
static config_t lc;

/* A plugin section { marker = "..."; tag = "..."; }. */
static struct cairn_config section(const char *tag)
{
    config_setting_t *g = config_setting_add(config_root_setting(&lc), NULL, CONFIG_TYPE_GROUP);
    if (!g) { /* root is a group: members need names */
        static int n;
        char name[32];
        snprintf(name, sizeof(name), "s%d", n++);
        g = config_setting_add(config_root_setting(&lc), name, CONFIG_TYPE_GROUP);
    }
    config_setting_set_string(config_setting_add(g, "marker", CONFIG_TYPE_STRING), marker);
    config_setting_set_string(config_setting_add(g, "tag", CONFIG_TYPE_STRING), tag);
    struct cairn_config c;
    plugin_config_init(&c, g);
    return c;
}

static void refuse(struct plugin_loader *l, const char *file, enum cairn_plugin_kind kind,
                   const char *fragment, const char *what)
{
    char err[1024];
    struct cairn_config c = section("refused");
    const struct loaded_plugin *p = plugin_loader_load(l, what, file, kind, &c, err, sizeof(err));
    ok(p == NULL, "%s: refused", what);
    if (!ok(strstr(err, fragment) != NULL, "%s: error says '%s'", what, fragment))
        printf("#   error was: %s\n", err);
}

static char *read_marker(void)
{
    static char buf[1024];
    FILE *f = fopen(marker, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    return buf;
}

int main(void)
{
    if (!mkdtemp(tmpdir))
        return 1;
    snprintf(marker, sizeof(marker), "%s/marker", tmpdir);
    config_init(&lc);
    core_log_set_level(CAIRN_LOG_ERROR);

    struct plugin_loader *l = plugin_loader_new("/nonexistent:" TEST_PLUGIN_DIR,
                                                core_services());
    ok(l != NULL, "loader created");
    char err[1024];

    /* Good plugins of each kind, by name through the search path. */
    struct cairn_config cb = section("b1"), ca = section("a1"), cp = section("p1");
    const struct loaded_plugin *b =
        plugin_loader_load(l, "b1", "good-backend", CAIRN_PLUGIN_BACKEND, &cb, err, sizeof(err));
    if (!ok(b != NULL, "good backend loads"))
        printf("#   %s\n", err);
    const struct loaded_plugin *a =
        plugin_loader_load(l, "a1", "good-auth", CAIRN_PLUGIN_AUTH, &ca, err, sizeof(err));
    if (!ok(a != NULL, "good auth loads"))
        printf("#   %s\n", err);
    const struct loaded_plugin *p =
        plugin_loader_load(l, "p1", TEST_PLUGIN_DIR "/good-policy.la", 0, &cp, err, sizeof(err));
    if (!ok(p != NULL, "good policy loads by path with any kind"))
        printf("#   %s\n", err);
    struct cairn_config cb2 = section("b2");
    const struct loaded_plugin *b2 =
        plugin_loader_load(l, "b2", "good-backend", CAIRN_PLUGIN_BACKEND, &cb2, err, sizeof(err));
    ok(b2 != NULL && b2 != b && b2->state != b->state, "a plugin loads twice as two instances");
    struct cairn_config ca2 = section("a2");
    const struct loaded_plugin *a2 = plugin_loader_load(l, "a2", TEST_PLUGIN_DIR "/good-auth",
                                                        CAIRN_PLUGIN_AUTH, &ca2, err, sizeof(err));
    if (!ok(a2 != NULL, "a path without extension loads"))
        printf("#   %s\n", err);

    if (b && a && p) {
        is_str(b->instance_name, "b1", "instance name kept");
        ok(strstr(b->path, "good-backend.la") != NULL, "path names the file (%s)", b->path);
        is_int(b->desc->kind, CAIRN_PLUGIN_BACKEND, "backend kind");
        ok(b->desc->backend && b->desc->backend->size >= sizeof(size_t), "backend ops");
        ok(a->desc->auth && a->desc->auth->authenticate, "auth ops");
        is_int(a->desc->auth->authenticate(a->state, NULL, NULL, NULL, NULL, NULL),
               CAIRN_DECLINED, "auth plugin callable");
        ok(p->desc->policy && p->desc->policy->evaluate, "policy ops");
    }
    is_int(plugin_loader_count(l), 5, "five instances");
    ok(plugin_loader_get(l, 0) == b && plugin_loader_get(l, 2) == p, "get in load order");
    ok(plugin_loader_get(l, 5) == NULL, "get out of range is NULL");

    /* <dir>/<name>/<name>.la: a build tree's plugins/ folder as search path. */
    {
        char tree[600], link[700];
        snprintf(tree, sizeof(tree), "%s/tree", tmpdir);
        snprintf(link, sizeof(link), "%s/good-auth", tree);
        mkdir(tree, 0755);
        ok(symlink(TEST_PLUGIN_DIR, link) == 0, "made a build-tree-like folder");
        struct plugin_loader *l2 = plugin_loader_new(tree, core_services());
        struct cairn_config c = section("tree");
        const struct loaded_plugin *t =
            plugin_loader_load(l2, "t", "good-auth", CAIRN_PLUGIN_AUTH, &c, err, sizeof(err));
        if (!ok(t != NULL && strstr(t->path, "/tree/good-auth/good-auth.la"),
                "found as <dir>/<name>/<name>.la"))
            printf("#   %s\n", err);
        plugin_loader_free(l2);
        unlink(link);
        rmdir(tree);
        unlink(marker); /* its fini wrote there */
    }

    /* Refusals, each with its message. */
    char want[128];
    snprintf(want, sizeof(want), "wrong-major.la: ABI 2.%d but this core speaks 1.%d",
             CAIRN_ABI_MINOR, CAIRN_ABI_MINOR);
    refuse(l, "wrong-major", CAIRN_PLUGIN_BACKEND, want, "wrong major");
    snprintf(want, sizeof(want), "newer-minor.la: ABI 1.%d but this core speaks 1.%d",
             CAIRN_ABI_MINOR + 1, CAIRN_ABI_MINOR);
    refuse(l, "newer-minor", CAIRN_PLUGIN_BACKEND, want, "newer minor");
    refuse(l, "no-symbol", CAIRN_PLUGIN_BACKEND, "no-symbol.la: no 'cairn_plugin' symbol",
           "missing symbol");
    refuse(l, "good-policy", CAIRN_PLUGIN_BACKEND,
           "good-policy.la: plugin 'test-plugin' is a policy plugin, expected a backend plugin",
           "wrong kind");
    refuse(l, "small-ops", CAIRN_PLUGIN_BACKEND, "operations table of 16 bytes, smaller than ABI 1.0",
           "too-small ops table");
    refuse(l, "no-ops", CAIRN_PLUGIN_BACKEND, "has no backend operations table", "missing ops");
    refuse(l, "fail-init", CAIRN_PLUGIN_BACKEND, "fail-init.la: init of backend plugin 'test-plugin' (instance 'failing init') failed: CAIRN_E_IO",
           "failing init");
    refuse(l, "good-backend", CAIRN_PLUGIN_BACKEND, "instance name 'b1' is already loaded", "b1");
    refuse(l, "absent-plugin", 0, "plugin 'absent-plugin' not found", "not found");
    refuse(l, "/nonexistent/x.so", 0, "/nonexistent/x.so: cannot load plugin", "bad path");

    /* A file that is not a shared object. */
    char junk[600];
    snprintf(junk, sizeof(junk), "%s/junk.so", tmpdir);
    FILE *f = fopen(junk, "w");
    fputs("not an ELF file\n", f);
    fclose(f);
    refuse(l, junk, 0, "cannot load plugin", "junk file");
    unlink(junk);
    is_int(plugin_loader_count(l), 5, "refusals loaded nothing");
    is_str(read_marker(), "", "no fini ran yet (refused plugins are not initialised)");

    /* fini in reverse order. */
    plugin_loader_free(l);
    is_str(read_marker(), "fini a2\nfini b2\nfini p1\nfini a1\nfini b1\n", "fini ran in reverse order");
    plugin_loader_free(NULL);

    ok(plugin_loader_new(NULL, NULL) == NULL, "no services: no loader");

    config_destroy(&lc);
    unlink(marker);
    rmdir(tmpdir);
    return tap_done();
}
