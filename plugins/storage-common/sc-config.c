/* sc-config.c -- settings both storage backends read alike (see sc-config.h). */
#include "sc-config.h"
#include "sc-metacache.h"

#include <stdlib.h>
#include <string.h>

int sc_config_drives(const struct cairn_services *sv, const struct cairn_config *cfg,
                     const char *plugin, size_t max, struct sc_drive ***drives_r, size_t *n_r)
{
    size_t n = sv->config_list_count(cfg, "drives");
    if (n == 0 || n > max) {
        sv->log(NULL, CAIRN_LOG_ERROR, "%s: `drives` must list 1 to %zu directories", plugin,
                max);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    int64_t cache = sv->config_int(cfg, "metadata_cache_bytes", SC_MC_DEFAULT_BYTES);
    if (cache < 0) {
        sv->log(NULL, CAIRN_LOG_ERROR, "%s: metadata_cache_bytes must be >= 0 (0 turns it off)",
                plugin);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    struct sc_drive **drives = calloc(n, sizeof(*drives));
    if (!drives)
        return CAIRN_E_NOMEM;
    /* one cache for the backend's drives; each drive holds a reference */
    struct sc_metacache *mc = sc_mc_new((size_t)cache);
    for (size_t i = 0; i < n; i++) {
        const char *path = sv->config_list_item(cfg, "drives", i);
        if (!path || !(drives[i] = sc_drive_local_new(path))) {
            sv->log(NULL, CAIRN_LOG_ERROR, "%s: bad drive path #%zu", plugin, i);
            for (size_t j = 0; j < i; j++)
                sc_drive_free(drives[j]);
            free(drives);
            sc_mc_unref(mc);
            return CAIRN_E_INVALID_ARGUMENT;
        }
        drives[i]->index = (int)i;
        sc_drive_set_cache(drives[i], mc);
    }
    sc_mc_unref(mc);
    *drives_r = drives;
    *n_r = n;
    return 0;
}

int sc_config_storage(const struct cairn_services *sv, const struct cairn_config *cfg,
                      const char *plugin, struct sc_storage_settings *out)
{
    int64_t bs = sv->config_int(cfg, "block_size", 1 << 20);
    if (bs < 4096 || bs > (64 << 20)) {
        sv->log(NULL, CAIRN_LOG_ERROR, "%s: block_size must be 4 KiB..64 MiB", plugin);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    out->block_size = (uint64_t)bs;
    int64_t il = sv->config_int(cfg, "inline_limit", 128 << 10);
    out->inline_limit = il < 0                           ? 0
                        : (uint64_t)il > out->block_size ? out->block_size
                                                         : (uint64_t)il;
    const char *sync = sv->config_string(cfg, "sync", "always");
    if (strcmp(sync, "always") && strcmp(sync, "none")) {
        sv->log(NULL, CAIRN_LOG_ERROR, "%s: sync must be \"always\" or \"none\"", plugin);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    out->sync = !strcmp(sync, "always");
    out->scanner_interval_s = sv->config_int(cfg, "scanner_interval_s", 3600);
    return 0;
}
