/*
 * plugin-loader.h -- loads plugins with libltdl and checks their ABI.
 *
 * Used by the server and by the backend conformance suite (sdk/conformance).
 */
#ifndef CAIRN_PLUGIN_LOADER_H
#define CAIRN_PLUGIN_LOADER_H

#include <stddef.h>

#include <cairn/plugin.h>

struct plugin_loader;

/* One loaded and initialised plugin instance. */
struct loaded_plugin {
    const char *instance_name;   /* the config's name for this instance */
    const char *path;            /* the file it was loaded from */
    const struct cairn_plugin_descriptor *desc;
    void *state;                 /* from desc->init */
};

/*
 * Creates a loader searching `search_path` (colon-separated directories; the
 * compiled-in plugin directory is appended).  `services` is handed to every
 * plugin's init and must outlive the loader.  NULL on failure.
 */
struct plugin_loader *plugin_loader_new(const char *search_path,
                                        const struct cairn_services *services);

/*
 * Loads the plugin `name_or_path` (a name such as "backend-ec", looked up as
 * <dir>/<name>.la or .so in the search path, or a path to a file), checks it
 * and calls its init with `config`.  Refuses, with an error written into
 * `err` (naming the file and, for ABI errors, both versions): a file that
 * cannot be opened, a missing `cairn_plugin` symbol, a major differing from
 * the core's, a newer minor, a kind other than `expected_kind` (0: any), an
 * operations table that is missing or too small, an instance name already
 * loaded, or an init that fails.  Returns the instance, owned by the loader,
 * or NULL.
 */
const struct loaded_plugin *plugin_loader_load(struct plugin_loader *loader,
                                               const char *instance_name,
                                               const char *name_or_path,
                                               enum cairn_plugin_kind expected_kind,
                                               const struct cairn_config *config, char *err,
                                               size_t err_cap);

/* The loaded instances in load order. */
size_t plugin_loader_count(const struct plugin_loader *loader);
const struct loaded_plugin *plugin_loader_get(const struct plugin_loader *loader, size_t i);

/* Calls fini of every instance in reverse load order, unloads, frees. */
void plugin_loader_free(struct plugin_loader *loader);

#endif
