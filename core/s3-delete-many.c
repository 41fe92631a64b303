/*
 * s3-delete-many.c -- DeleteObjects (POST /bucket?delete).
 *
 * The body (verified by the body pipeline: Content-MD5 or x-amz-checksum-*)
 * names up to 1000 keys; each is authorized and deleted as DeleteObject would
 * be (s3:DeleteObject, or s3:DeleteObjectVersion with a VersionId, on that
 * key), and the answer lists every key's outcome (only the failures when
 * Quiet): a key the caller may not delete is an AccessDenied entry, not a
 * failure of the request.  Deleting an absent key is a success, as in S3.
 */
#include <string.h>

#include "s3-internal.h"
#include "s3-request-xml.h"
#include "xml-writer.h"

/* 1000 keys of up to 1 KiB each, entity-escaped and pretty-printed, fit. */
#define S3_DELETE_BODY_MAX (8 * 1024 * 1024)

static void write_error(struct xml_writer *w, const struct s3_delete_object *o, int err)
{
    xml_open(w, "Error", NULL);
    xml_elem(w, "Key", o->key);
    if (o->version_id)
        xml_elem(w, "VersionId", o->version_id);
    xml_elem(w, "Code", s3_error_name(err));
    xml_elem(w, "Message", s3_error_message(err));
    xml_close(w, "Error");
}

static void write_deleted(struct xml_writer *w, const struct s3_delete_object *o,
                          const struct cairn_object_info *info)
{
    xml_open(w, "Deleted", NULL);
    xml_elem(w, "Key", o->key);
    if (o->version_id) {
        /* A version was removed; if it was a delete marker, S3 says so. */
        xml_elem(w, "VersionId", o->version_id);
        if (info->is_delete_marker) {
            xml_elem(w, "DeleteMarker", "true");
            xml_elem(w, "DeleteMarkerVersionId", o->version_id);
        }
    } else if (info->is_delete_marker && info->version_id[0]) {
        /* Versioned bucket: the delete made a marker. */
        xml_elem(w, "DeleteMarker", "true");
        xml_elem(w, "DeleteMarkerVersionId", info->version_id);
    }
    xml_close(w, "Deleted");
}

int s3_op_delete_objects(struct s3_call *call)
{
    if (!call->be->object_delete)
        return CAIRN_E_NOT_IMPLEMENTED;
    /* A missing bucket fails the request as a whole, before reading the body. */
    int err = 0;
    s3_bucket_owner(call, &err);
    if (err < 0)
        return err;

    size_t max = S3_DELETE_BODY_MAX;
    if (call->head && call->head->content_length >= 0 &&
        (uint64_t)call->head->content_length < max)
        max = (size_t)call->head->content_length;
    char *body;
    size_t len;
    int rc = s3_read_small_body(call, max, &body, &len);
    if (rc < 0)
        return rc == CAIRN_E_ENTITY_TOO_LARGE ? CAIRN_E_MALFORMED_XML : rc;

    struct s3_delete_object *objs;
    size_t n;
    int quiet;
    rc = s3_parse_delete_body(call->req.arena, body, len, &objs, &n, &quiet);
    if (rc < 0)
        return rc;

    enum cairn_versioning versioning = s3_bucket_versioning(call);
    struct xml_writer w;
    xml_writer_init(&w);
    xml_open(&w, "DeleteResult", S3_XMLNS);
    for (size_t i = 0; i < n; i++) {
        const struct s3_delete_object *o = &objs[i];
        if (!*o->key) {
            write_error(&w, o, CAIRN_E_INVALID_ARGUMENT);
            continue;
        }
        rc = s3_authorize_action(call, o->version_id ? "s3:DeleteObjectVersion"
                                                     : "s3:DeleteObject",
                                 call->bucket, o->key);
        if (rc < 0) {
            write_error(&w, o, rc);
            continue;
        }
        struct cairn_object_info info;
        memset(&info, 0, sizeof(info));
        rc = call->be->object_delete(call->be_state, &call->req, call->bucket, o->key,
                                     o->version_id, versioning, &info);
        if (rc == CAIRN_E_NO_SUCH_KEY || rc == CAIRN_E_NO_SUCH_VERSION)
            rc = 0; /* deleting what is not there succeeds */
        if (rc == CAIRN_E_CLIENT_GONE) {
            xml_writer_clear(&w);
            return rc;
        }
        if (rc < 0)
            write_error(&w, o, rc);
        else if (!quiet)
            write_deleted(&w, o, &info);
    }
    xml_close(&w, "DeleteResult");
    rc = w.failed ? CAIRN_E_NOMEM : 0;
    if (rc == 0)
        s3_respond_xml(call, 200, w.buf, w.len, NULL, 0);
    xml_writer_clear(&w);
    return rc;
}
