/*
 * plugin-config.h -- `struct cairn_config`, a plugin instance's configuration
 * section as plugins see it (opaque), and the readers behind
 * services->config_*.
 *
 * It always wraps a libconfig group setting: one read from the config file, or
 * one the server configuration built in memory (config_setting_add).  The
 * strings it returns belong to the libconfig tree and stay valid while that
 * tree lives (the server keeps it until every plugin's fini has run).
 */
#ifndef CAIRN_PLUGIN_CONFIG_H
#define CAIRN_PLUGIN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include <cairn/plugin.h>

struct cairn_config {
    config_setting_t *group; /* NULL: an empty section */
};

/* Wraps `group` (a libconfig group, or NULL for an empty section). */
void plugin_config_init(struct cairn_config *cfg, config_setting_t *group);

/* services->config_string: the string setting `name` (a libconfig path such
 * as "a.b"), or `dflt` when absent or not a string. */
const char *plugin_config_string(const struct cairn_config *cfg, const char *name,
                                 const char *dflt);

/* services->config_int: an int or int64 setting (a boolean gives 0 or 1, a
 * string holding only a decimal integer is accepted too); `dflt` otherwise. */
int64_t plugin_config_int(const struct cairn_config *cfg, const char *name, int64_t dflt);

/* services->config_list_count: items of the array or list `name` (a single
 * string counts as a list of one); 0 when absent. */
size_t plugin_config_list_count(const struct cairn_config *cfg, const char *name);

/* services->config_list_item: item `index` as a string, or NULL when absent,
 * out of range or not a string. */
const char *plugin_config_list_item(const struct cairn_config *cfg, const char *name,
                                    size_t index);

#endif
