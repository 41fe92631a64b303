/*
 * s3-request-xml.h -- the XML request bodies of DeleteObjects and
 * CompleteMultipartUpload, parsed and validated into plain structures
 * (pure functions: no server needed to test them).
 */
#ifndef CAIRN_S3_REQUEST_XML_H
#define CAIRN_S3_REQUEST_XML_H

#include <stddef.h>

#include <cairn/plugin.h>

struct arena;

/* The most keys one DeleteObjects request may name. */
#define S3_DELETE_MAX_KEYS 1000
/* Part numbers run 1..S3_MAX_PART_NUMBER. */
#define S3_MAX_PART_NUMBER 10000

struct s3_delete_object {
    const char *key;        /* may be "" (the caller reports a per-key error) */
    const char *version_id; /* NULL when not given */
};

/*
 * Parses `<Delete [xmlns]><Quiet>true</Quiet><Object><Key/><VersionId/></Object>...`.
 * Fills an arena array of objects (in body order) and *quiet_r.  Returns 0, or
 * CAIRN_E_MALFORMED_XML (not XML, wrong root, an Object without Key, no
 * Object, more than S3_DELETE_MAX_KEYS, Quiet neither true nor false).
 */
int s3_parse_delete_body(struct arena *a, const char *data, size_t len,
                         struct s3_delete_object **objects_r, size_t *n_r, int *quiet_r);

/*
 * Parses `<CompleteMultipartUpload [xmlns]><Part><PartNumber/><ETag/>
 * [<ChecksumCRC32/>...]</Part>...`.  ETags may be quoted, unquoted or
 * entity-escaped; they come out unquoted.  Checksum elements become attrs
 * named x-amz-checksum-<alg> (lower-case) with the given value.  Returns 0 and
 * an arena array, or: CAIRN_E_MALFORMED_XML (not XML, wrong root, no Part, a
 * Part without PartNumber or ETag, a non-numeric PartNumber);
 * CAIRN_E_INVALID_ARGUMENT (part number outside 1..10000);
 * CAIRN_E_INVALID_PART (empty or oversized ETag);
 * CAIRN_E_INVALID_PART_ORDER (numbers not strictly ascending).
 */
int s3_parse_complete_body(struct arena *a, const char *data, size_t len,
                           struct cairn_part_info **parts_r, size_t *n_r);

/*
 * Normalises a client's ETag into `out` (80 bytes): trims white space and one
 * level of surrounding quotes (literal or a left-over "&quot;").  Returns 0,
 * or CAIRN_E_INVALID_PART when empty or too long.
 */
int s3_etag_unquote(const char *etag, char out[80]);

#endif
