/*
 * sc-config.h -- the settings both storage backends read alike from their
 * configuration section: the drive list and how data is stored.  Each
 * reader logs what is wrong as "<plugin>: ..." and fails with
 * CAIRN_E_INVALID_ARGUMENT (or CAIRN_E_NOMEM).
 */
#ifndef CAIRN_SC_CONFIG_H
#define CAIRN_SC_CONFIG_H

#include <cairn/plugin.h>
#include <stddef.h>
#include <stdint.h>

#include "sc-drive.h"

/*
 * The `drives` list (1 to `max` directories) as local drives, each with its
 * position as index, sharing one parsed-metadata cache of
 * `metadata_cache_bytes` (default 16 MiB, 0 turns it off; sc-metacache.h).  0 with *drives_r (calloc'd; each freed with
 * sc_drive_free) and *n_r; on failure nothing is left allocated.
 */
int sc_config_drives(const struct cairn_services *sv, const struct cairn_config *cfg,
                     const char *plugin, size_t max, struct sc_drive ***drives_r, size_t *n_r);

/* How data is stored, with the defaults both backends use. */
struct sc_storage_settings {
    uint64_t block_size;        /* block_size: 4 KiB..64 MiB, 1 MiB */
    uint64_t inline_limit;      /* inline_limit: at most block_size, 128 KiB */
    int sync;                   /* sync: "always" (1, default) or "none" (0) */
    int64_t scanner_interval_s; /* scanner_interval_s: 3600; <= 0 turns the scanner off */
};

/* Reads block_size, inline_limit, sync and scanner_interval_s; 0 or
 * CAIRN_E_INVALID_ARGUMENT. */
int sc_config_storage(const struct cairn_services *sv, const struct cairn_config *cfg,
                      const char *plugin, struct sc_storage_settings *out);

#endif
