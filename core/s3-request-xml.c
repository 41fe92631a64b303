/* s3-request-xml.c -- DeleteObjects and CompleteMultipartUpload bodies. */
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "s3-request-xml.h"
#include "xml-parse.h"

int s3_parse_delete_body(struct arena *a, const char *data, size_t len,
                         struct s3_delete_object **objects_r, size_t *n_r, int *quiet_r)
{
    struct xml_node *root = xml_parse(a, data, len);
    if (!root || strcmp(root->name, "Delete") != 0)
        return CAIRN_E_MALFORMED_XML;

    int quiet = 0;
    const char *q = xml_child_text(root, "Quiet");
    if (q) {
        if (strcasecmp(q, "true") == 0)
            quiet = 1;
        else if (strcasecmp(q, "false") != 0)
            return CAIRN_E_MALFORMED_XML;
    }

    size_t n = 0;
    for (struct xml_node *c = root->first_child; c; c = c->next)
        if (strcmp(c->name, "Object") == 0 && ++n > S3_DELETE_MAX_KEYS)
            return CAIRN_E_MALFORMED_XML;
    if (n == 0)
        return CAIRN_E_MALFORMED_XML;

    struct s3_delete_object *objs = arena_alloc(a, n * sizeof(*objs));
    if (!objs)
        return CAIRN_E_NOMEM;
    size_t i = 0;
    for (struct xml_node *c = root->first_child; c; c = c->next) {
        if (strcmp(c->name, "Object") != 0)
            continue;
        const char *key = xml_child_text(c, "Key");
        if (!key)
            return CAIRN_E_MALFORMED_XML;
        const char *vid = xml_child_text(c, "VersionId");
        objs[i].key = key;
        objs[i].version_id = vid && *vid ? vid : NULL;
        i++;
    }
    *objects_r = objs;
    *n_r = n;
    *quiet_r = quiet;
    return 0;
}

int s3_etag_unquote(const char *etag, char out[80])
{
    const char *s = etag;
    size_t n = strlen(s);
    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n >= 1 && (s[0] == '"' || s[n - 1] == '"')) {
        /* Quoted (or half-quoted): drop the quotes. */
        if (s[0] == '"')
            s++, n--;
        if (n > 0 && s[n - 1] == '"')
            n--;
    } else if (n >= 12 && strncmp(s, "&quot;", 6) == 0 && strncmp(s + n - 6, "&quot;", 6) == 0) {
        /* Escaped twice by the client: the parser decoded only one level. */
        s += 6;
        n -= 12;
    }
    if (n == 0 || n >= 80)
        return CAIRN_E_INVALID_PART;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* The per-part checksum elements S3 accepts, and the attr each becomes. */
static const struct {
    const char *elem;
    const char *attr;
} part_checksums[] = {
    {"ChecksumCRC32", "x-amz-checksum-crc32"},
    {"ChecksumCRC32C", "x-amz-checksum-crc32c"},
    {"ChecksumCRC64NVME", "x-amz-checksum-crc64nvme"},
    {"ChecksumSHA1", "x-amz-checksum-sha1"},
    {"ChecksumSHA256", "x-amz-checksum-sha256"},
};
#define N_PART_CHECKSUMS (sizeof(part_checksums) / sizeof(part_checksums[0]))

static int parse_part_number(const char *s, uint32_t *number_r)
{
    if (!s || !*s)
        return CAIRN_E_MALFORMED_XML;
    unsigned long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return CAIRN_E_MALFORMED_XML;
        if (v <= S3_MAX_PART_NUMBER)
            v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v < 1 || v > S3_MAX_PART_NUMBER)
        return CAIRN_E_INVALID_ARGUMENT;
    *number_r = (uint32_t)v;
    return 0;
}

static int parse_part(struct arena *a, const struct xml_node *node, struct cairn_part_info *p)
{
    int rc = parse_part_number(xml_child_text(node, "PartNumber"), &p->number);
    if (rc < 0)
        return rc;
    const char *etag = xml_child_text(node, "ETag");
    if (!etag)
        return CAIRN_E_MALFORMED_XML;
    rc = s3_etag_unquote(etag, p->etag);
    if (rc < 0)
        return rc;
    size_t n = 0;
    for (size_t i = 0; i < N_PART_CHECKSUMS; i++)
        if (xml_child_text(node, part_checksums[i].elem))
            n++;
    if (n == 0)
        return 0;
    p->attrs = arena_alloc(a, n * sizeof(*p->attrs));
    if (!p->attrs)
        return CAIRN_E_NOMEM;
    for (size_t i = 0; i < N_PART_CHECKSUMS; i++) {
        const char *v = xml_child_text(node, part_checksums[i].elem);
        if (v)
            p->attrs[p->n_attrs++] = (struct cairn_kv){part_checksums[i].attr, v};
    }
    return 0;
}

int s3_parse_complete_body(struct arena *a, const char *data, size_t len,
                           struct cairn_part_info **parts_r, size_t *n_r)
{
    struct xml_node *root = xml_parse(a, data, len);
    if (!root || strcmp(root->name, "CompleteMultipartUpload") != 0)
        return CAIRN_E_MALFORMED_XML;
    size_t n = 0;
    for (struct xml_node *c = root->first_child; c; c = c->next)
        if (strcmp(c->name, "Part") == 0)
            n++;
    if (n == 0)
        return CAIRN_E_MALFORMED_XML;
    struct cairn_part_info *parts = arena_alloc(a, n * sizeof(*parts));
    if (!parts)
        return CAIRN_E_NOMEM;
    size_t i = 0;
    int order_rc = 0;
    for (struct xml_node *c = root->first_child; c; c = c->next) {
        if (strcmp(c->name, "Part") != 0)
            continue;
        int rc = parse_part(a, c, &parts[i]);
        if (rc < 0)
            return rc;
        /* Order is checked after every part parsed, so a malformed part wins. */
        if (i > 0 && parts[i].number <= parts[i - 1].number)
            order_rc = CAIRN_E_INVALID_PART_ORDER;
        i++;
    }
    if (order_rc < 0)
        return order_rc;
    *parts_r = parts;
    *n_r = n;
    return 0;
}
