/* sc-info.c -- a stored version as a cairn_object_info (see sc-info.h). */
#include "sc-info.h"

#include <stdio.h>
#include <string.h>

int sc_fill_info(const struct cairn_services *sv, struct cairn_req *req,
                 const struct sc_version *v, int is_latest, enum cairn_versioning shown,
                 struct cairn_object_info *info)
{
    memset(info, 0, sizeof(*info));
    info->size = v->size;
    info->mtime_ms = v->mtime_ms;
    snprintf(info->etag, sizeof(info->etag), "%s", v->etag);
    if (!(shown == CAIRN_VERSIONING_OFF && !strcmp(v->id, "null")))
        snprintf(info->version_id, sizeof(info->version_id), "%s", v->id);
    info->is_delete_marker = v->delete_marker;
    info->is_latest = is_latest;
    info->parts_count = v->parts_count;
    if (v->n_attrs) {
        info->attrs = sv->req_alloc(req, v->n_attrs * sizeof(*info->attrs));
        if (!info->attrs)
            return CAIRN_E_NOMEM;
        for (size_t i = 0; i < v->n_attrs; i++) {
            info->attrs[i].name = sv->req_strdup(req, v->attrs[i].name);
            info->attrs[i].value = sv->req_strdup(req, v->attrs[i].value);
            if (!info->attrs[i].name || !info->attrs[i].value)
                return CAIRN_E_NOMEM;
        }
        info->n_attrs = v->n_attrs;
    }
    return 0;
}
