/*
 * sc-info.h -- a stored version (sc-objmeta.h) as the struct cairn_object_info
 * the core receives, the same for both storage backends.
 */
#ifndef CAIRN_SC_INFO_H
#define CAIRN_SC_INFO_H

#include <cairn/plugin.h>

#include "sc-objmeta.h"

/*
 * Fills *info from version `v`: size, time, ETag, version id (left empty for
 * the "null" version when `shown` is CAIRN_VERSIONING_OFF), delete marker,
 * parts count, and its attributes copied into request memory.  0 or
 * CAIRN_E_NOMEM.
 */
int sc_fill_info(const struct cairn_services *sv, struct cairn_req *req,
                 const struct sc_version *v, int is_latest, enum cairn_versioning shown,
                 struct cairn_object_info *info);

#endif
