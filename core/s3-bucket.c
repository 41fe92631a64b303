/*
 * s3-bucket.c -- bucket operations: create, delete, head, location,
 * versioning, policy, tagging, lifecycle, and the configuration
 * subresources cairn answers with S3's "nothing configured".
 */
#include <stdlib.h>
#include <string.h>

#include "s3-internal.h"
#include "s3-router.h"
#include "xml-parse.h"
#include "xml-writer.h"

enum cairn_versioning s3_bucket_versioning(struct s3_call *call)
{
    char *data = NULL;
    size_t len = 0;
    if (!call->be || !call->be->bucket_config_get)
        return CAIRN_VERSIONING_OFF;
    if (call->be->bucket_config_get(call->be_state, &call->req, call->bucket, "versioning",
                                    &data, &len) < 0 || !data)
        return CAIRN_VERSIONING_OFF;
    if (len >= 7 && strncmp(data, "Enabled", 7) == 0)
        return CAIRN_VERSIONING_ENABLED;
    if (len >= 9 && strncmp(data, "Suspended", 9) == 0)
        return CAIRN_VERSIONING_SUSPENDED;
    return CAIRN_VERSIONING_OFF;
}
