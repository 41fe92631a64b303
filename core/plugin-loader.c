/* plugin-loader.c -- libltdl loading with ABI, kind and table-size checks. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ltdl.h>

#include "plugin-loader.h"

#ifndef CAIRN_PLUGINDIR
#define CAIRN_PLUGINDIR "/usr/local/lib/cairn/plugins"
#endif

/* The size of each operations table in ABI 1.0: up to and including its last
 * 1.0 member.  Tables may be larger (newer minors append); never smaller. */
#define OPS_SIZE_1_0(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))
static const size_t backend_ops_1_0 = OPS_SIZE_1_0(struct cairn_backend_ops, heal);
static const size_t auth_ops_1_0 = OPS_SIZE_1_0(struct cairn_auth_ops, authenticate);
static const size_t policy_ops_1_0 = OPS_SIZE_1_0(struct cairn_policy_ops, evaluate);

struct loaded {
    struct loaded_plugin pub; /* handed out: its address never changes */
    lt_dlhandle handle;
    char *instance_name;
    char *path;
};

struct plugin_loader {
    const struct cairn_services *services;
    char **dirs;
    size_t n_dirs;
    struct loaded **items;
    size_t n_items;
};

static const char *kind_name(enum cairn_plugin_kind kind)
{
    switch (kind) {
    case CAIRN_PLUGIN_BACKEND: return "backend";
    case CAIRN_PLUGIN_AUTH: return "auth";
    case CAIRN_PLUGIN_POLICY: return "policy";
    }
    return "unknown";
}

static const char *error_name(int code)
{
    switch (code) {
#define CAIRN_X_NAME(name, value, s3code, status, msg) \
    case value: return "CAIRN_E_" #name;
        CAIRN_ERROR_TABLE(CAIRN_X_NAME)
#undef CAIRN_X_NAME
    }
    return "an unknown error";
}

static int add_dir(struct plugin_loader *l, const char *dir, size_t len)
{
    if (len == 0)
        return 0;
    char **grown = realloc(l->dirs, (l->n_dirs + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    l->dirs = grown;
    if (!(l->dirs[l->n_dirs] = strndup(dir, len)))
        return -1;
    l->n_dirs++;
    return 0;
}

struct plugin_loader *plugin_loader_new(const char *search_path,
                                        const struct cairn_services *services)
{
    if (!services)
        return NULL;
    struct plugin_loader *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->services = services;
    /* lt_dlinit counts its calls; plugin_loader_free balances it. */
    if (lt_dlinit() != 0) {
        free(l);
        return NULL;
    }
    const char *p = search_path ? search_path : "";
    while (*p) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        if (add_dir(l, p, len) < 0)
            goto fail;
        p += len;
        if (*p == ':')
            p++;
    }
    if (add_dir(l, CAIRN_PLUGINDIR, strlen(CAIRN_PLUGINDIR)) < 0)
        goto fail;
    return l;
fail:
    plugin_loader_free(l);
    return NULL;
}

/*
 * Opens `name_or_path`: a path as given, or the first <dir>/<name>.la or
 * <dir>/<name>.so in the search path.  Sets *path_r (malloc'd).
 */
static lt_dlhandle open_module(struct plugin_loader *l, const char *name_or_path, char **path_r,
                               char *err, size_t err_cap)
{
    *path_r = NULL;
    if (strchr(name_or_path, '/')) {
        /* As given, else with .la or .so appended. */
        static const char *const try_ext[] = {"", ".la", ".so"};
        char *path = NULL;
        for (size_t e = 0; e < 3 && !path; e++) {
            if (asprintf(&path, "%s%s", name_or_path, try_ext[e]) < 0) {
                snprintf(err, err_cap, "%s: out of memory", name_or_path);
                return NULL;
            }
            if (access(path, F_OK) != 0 && e < 2) {
                free(path);
                path = NULL;
            }
        }
        if (access(path, F_OK) != 0) { /* none exists: report the name as given */
            free(path);
            path = strdup(name_or_path);
            if (!path) {
                snprintf(err, err_cap, "%s: out of memory", name_or_path);
                return NULL;
            }
        }
        lt_dlhandle h = lt_dlopen(path);
        if (!h) {
            const char *why = lt_dlerror();
            snprintf(err, err_cap, "%s: cannot load plugin: %s", path,
                     why ? why : "unknown error");
            free(path);
            return NULL;
        }
        *path_r = path;
        return h;
    }
    if (!*name_or_path || strcmp(name_or_path, ".") == 0 || strcmp(name_or_path, "..") == 0) {
        snprintf(err, err_cap, "'%s' is not a plugin name", name_or_path);
        return NULL;
    }
    /* <dir>/<name>.la, <dir>/<name>.so, then <dir>/<name>/<name>.la so that
     * a build tree's plugins/ folder works as a plugin directory. */
    static const char *const forms[] = {"%1$s/%2$s.la", "%1$s/%2$s.so", "%1$s/%2$s/%2$s.la"};
    for (size_t d = 0; d < l->n_dirs; d++)
        for (size_t e = 0; e < 3; e++) {
            char *path = NULL;
            if (asprintf(&path, forms[e], l->dirs[d], name_or_path) < 0) {
                snprintf(err, err_cap, "%s: out of memory", name_or_path);
                return NULL;
            }
            if (access(path, R_OK) != 0) {
                free(path);
                continue;
            }
            lt_dlhandle h = lt_dlopen(path);
            if (!h) {
                const char *why = lt_dlerror();
                snprintf(err, err_cap, "%s: cannot load plugin: %s", path,
                         why ? why : "unknown error");
                free(path);
                return NULL;
            }
            *path_r = path;
            return h;
        }
    /* Name the directories searched so the fix is obvious. */
    size_t used = (size_t)snprintf(err, err_cap,
                                   "plugin '%s' not found (looked for %s.la, %s.so and %s/%s.la in",
                                   name_or_path, name_or_path, name_or_path, name_or_path,
                                   name_or_path);
    for (size_t d = 0; d < l->n_dirs && used < err_cap; d++)
        used += (size_t)snprintf(err + used, err_cap - used, " %s", l->dirs[d]);
    if (used < err_cap)
        snprintf(err + used, err_cap - used, "; set --plugin-dir or CAIRN_PLUGIN_PATH)");
    return NULL;
}

/* Checks the descriptor; 0 or -1 with `err` set. */
static int check_descriptor(const char *path, const struct cairn_plugin_descriptor *d,
                            enum cairn_plugin_kind expected, char *err, size_t err_cap)
{
    /* The versions come first and protect the rest: read nothing else until
     * they match. */
    if (d->abi_major != CAIRN_ABI_MAJOR || d->abi_minor > CAIRN_ABI_MINOR) {
        snprintf(err, err_cap, "%s: ABI %u.%u but this core speaks %d.%d%s", path,
                 d->abi_major, d->abi_minor, CAIRN_ABI_MAJOR, CAIRN_ABI_MINOR,
                 d->abi_major == CAIRN_ABI_MAJOR ? " (the plugin needs a newer core)" : "");
        return -1;
    }
    const char *name = d->name ? d->name : "(unnamed)";
    if (d->kind != CAIRN_PLUGIN_BACKEND && d->kind != CAIRN_PLUGIN_AUTH &&
        d->kind != CAIRN_PLUGIN_POLICY) {
        snprintf(err, err_cap, "%s: plugin '%s' has an unknown kind %d", path, name, (int)d->kind);
        return -1;
    }
    if (expected && d->kind != expected) {
        snprintf(err, err_cap, "%s: plugin '%s' is a %s plugin, expected a %s plugin", path, name,
                 kind_name(d->kind), kind_name(expected));
        return -1;
    }
    if (!d->name || !*d->name) {
        snprintf(err, err_cap, "%s: the plugin descriptor has no name", path);
        return -1;
    }
    if (!d->init) {
        snprintf(err, err_cap, "%s: plugin '%s' has no init function", path, name);
        return -1;
    }
    const size_t *size = NULL;
    size_t need = 0;
    switch (d->kind) {
    case CAIRN_PLUGIN_BACKEND:
        size = d->backend ? &d->backend->size : NULL;
        need = backend_ops_1_0;
        break;
    case CAIRN_PLUGIN_AUTH:
        size = d->auth ? &d->auth->size : NULL;
        need = auth_ops_1_0;
        break;
    case CAIRN_PLUGIN_POLICY:
        size = d->policy ? &d->policy->size : NULL;
        need = policy_ops_1_0;
        break;
    }
    if (!size) {
        snprintf(err, err_cap, "%s: plugin '%s' has no %s operations table", path, name,
                 kind_name(d->kind));
        return -1;
    }
    if (*size < need) {
        snprintf(err, err_cap,
                 "%s: plugin '%s' has a %s operations table of %zu bytes, smaller than ABI "
                 "1.0's %zu",
                 path, name, kind_name(d->kind), *size, need);
        return -1;
    }
    return 0;
}

const struct loaded_plugin *plugin_loader_load(struct plugin_loader *loader,
                                               const char *instance_name,
                                               const char *name_or_path,
                                               enum cairn_plugin_kind expected_kind,
                                               const struct cairn_config *config, char *err,
                                               size_t err_cap)
{
    char dummy[1];
    if (!err || err_cap == 0) {
        err = dummy;
        err_cap = sizeof(dummy);
    }
    err[0] = '\0';
    if (!loader || !instance_name || !*instance_name || !name_or_path) {
        snprintf(err, err_cap, "plugin_loader_load: missing instance name or plugin");
        return NULL;
    }
    for (size_t i = 0; i < loader->n_items; i++)
        if (strcmp(loader->items[i]->instance_name, instance_name) == 0) {
            snprintf(err, err_cap, "%s: instance name '%s' is already loaded (from %s)",
                     name_or_path, instance_name, loader->items[i]->path);
            return NULL;
        }

    char *path = NULL;
    lt_dlhandle h = open_module(loader, name_or_path, &path, err, err_cap);
    if (!h)
        return NULL;
    struct loaded *item = NULL;
    const struct cairn_plugin_descriptor *d = lt_dlsym(h, CAIRN_PLUGIN_SYMBOL);
    if (!d) {
        snprintf(err, err_cap, "%s: no '%s' symbol: not a cairn plugin", path,
                 CAIRN_PLUGIN_SYMBOL);
        goto fail;
    }
    if (check_descriptor(path, d, expected_kind, err, err_cap) < 0)
        goto fail;

    struct loaded **grown = realloc(loader->items, (loader->n_items + 1) * sizeof(*grown));
    if (!grown)
        goto nomem;
    loader->items = grown;
    if (!(item = calloc(1, sizeof(*item))) || !(item->instance_name = strdup(instance_name)))
        goto nomem;

    void *state = NULL;
    int rc = d->init(loader->services, config, &state);
    if (rc < 0) {
        snprintf(err, err_cap, "%s: init of %s plugin '%s' (instance '%s') failed: %s (%d)", path,
                 kind_name(d->kind), d->name, instance_name, error_name(rc), rc);
        goto fail;
    }
    item->handle = h;
    item->path = path;
    item->pub.instance_name = item->instance_name;
    item->pub.path = item->path;
    item->pub.desc = d;
    item->pub.state = state;
    loader->items[loader->n_items++] = item;
    return &item->pub;

nomem:
    snprintf(err, err_cap, "%s: out of memory", path);
fail:
    if (item)
        free(item->instance_name);
    free(item);
    lt_dlclose(h);
    free(path);
    return NULL;
}

size_t plugin_loader_count(const struct plugin_loader *loader)
{
    return loader ? loader->n_items : 0;
}

const struct loaded_plugin *plugin_loader_get(const struct plugin_loader *loader, size_t i)
{
    if (!loader || i >= loader->n_items)
        return NULL;
    return &loader->items[i]->pub;
}

void plugin_loader_free(struct plugin_loader *loader)
{
    if (!loader)
        return;
    for (size_t i = loader->n_items; i-- > 0;) {
        struct loaded *item = loader->items[i];
        if (item->pub.desc->fini)
            item->pub.desc->fini(item->pub.state);
        lt_dlclose(item->handle);
        free(item->instance_name);
        free(item->path);
        free(item);
    }
    free(loader->items);
    for (size_t i = 0; i < loader->n_dirs; i++)
        free(loader->dirs[i]);
    free(loader->dirs);
    free(loader);
    lt_dlexit();
}
