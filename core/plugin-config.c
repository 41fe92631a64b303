/* plugin-config.c -- plugins read their libconfig section through these. */
#include <errno.h>
#include <stdlib.h>

#include "plugin-config.h"

void plugin_config_init(struct cairn_config *cfg, config_setting_t *group)
{
    cfg->group = group;
}

static config_setting_t *lookup(const struct cairn_config *cfg, const char *name)
{
    if (!cfg || !cfg->group || !name || !*name)
        return NULL;
    return config_setting_lookup(cfg->group, name);
}

const char *plugin_config_string(const struct cairn_config *cfg, const char *name,
                                 const char *dflt)
{
    config_setting_t *s = lookup(cfg, name);
    if (!s || config_setting_type(s) != CONFIG_TYPE_STRING)
        return dflt;
    const char *v = config_setting_get_string(s);
    return v ? v : dflt;
}

int64_t plugin_config_int(const struct cairn_config *cfg, const char *name, int64_t dflt)
{
    config_setting_t *s = lookup(cfg, name);
    if (!s)
        return dflt;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT: return config_setting_get_int(s);
    case CONFIG_TYPE_INT64: return config_setting_get_int64(s);
    case CONFIG_TYPE_BOOL: return config_setting_get_bool(s) ? 1 : 0;
    case CONFIG_TYPE_STRING: {
        const char *v = config_setting_get_string(s);
        char *end;
        if (!v || !*v)
            return dflt;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        return (errno || *end) ? dflt : (int64_t)n;
    }
    default: return dflt;
    }
}

size_t plugin_config_list_count(const struct cairn_config *cfg, const char *name)
{
    config_setting_t *s = lookup(cfg, name);
    if (!s)
        return 0;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST: return (size_t)config_setting_length(s);
    case CONFIG_TYPE_STRING: return 1;
    default: return 0;
    }
}

const char *plugin_config_list_item(const struct cairn_config *cfg, const char *name,
                                    size_t index)
{
    config_setting_t *s = lookup(cfg, name);
    if (!s)
        return NULL;
    if (config_setting_type(s) == CONFIG_TYPE_STRING)
        return index == 0 ? config_setting_get_string(s) : NULL;
    if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST)
        return NULL;
    if (index >= (size_t)config_setting_length(s))
        return NULL;
    config_setting_t *item = config_setting_get_elem(s, (unsigned int)index);
    if (!item || config_setting_type(item) != CONFIG_TYPE_STRING)
        return NULL;
    return config_setting_get_string(item);
}
