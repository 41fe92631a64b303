/*
 * s3-object.c -- object operations: PutObject, GetObject/HeadObject (Range,
 * conditionals, response-* overrides), DeleteObject, object tagging, ACLs and
 * GetObjectAttributes; plus the attribute and header helpers other operations
 * share.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "s3-internal.h"
#include "s3-router.h"
#include "xml-parse.h"
#include "xml-writer.h"

int s3_headers_add(struct s3_call *call, struct cairn_kv **headers_r, size_t *n_r,
                   size_t *cap_r, const char *name, const char *value)
{
    if (!name || !value)
        return CAIRN_E_NOMEM;
    if (*n_r == *cap_r) {
        size_t cap = *cap_r ? *cap_r * 2 : 16;
        struct cairn_kv *h = s3_alloc(call, cap * sizeof(*h));
        if (!h)
            return CAIRN_E_NOMEM;
        if (*n_r)
            memcpy(h, *headers_r, *n_r * sizeof(*h));
        *headers_r = h;
        *cap_r = cap;
    }
    (*headers_r)[(*n_r)++] = (struct cairn_kv){name, value};
    return 0;
}

/* Content-Encoding without the aws-chunked token (a transfer detail of
 * streaming uploads that S3 does not store); NULL when nothing remains. */
static const char *s3_strip_aws_chunked(struct s3_call *call, const char *ce)
{
    if (!ce || !strcasestr(ce, "aws-chunked"))
        return ce;
    char *out = s3_alloc(call, strlen(ce) + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    const char *p = ce;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t > 0 && p[t - 1] == ' ')
            t--;
        if (t > 0 && !(t == 11 && strncasecmp(p, "aws-chunked", 11) == 0)) {
            if (o)
                out[o++] = ',';
            memcpy(out + o, p, t);
            o += t;
        }
        p += n;
    }
    out[o] = '\0';
    return o ? out : NULL;
}

size_t s3_request_object_attrs(struct s3_call *call, struct cairn_kv **attrs_r)
{
    static const char *const plain[] = {"content-encoding", "cache-control",
                                        "content-disposition", "content-language", "expires"};
    size_t n = 0, cap = 0;
    struct cairn_kv *attrs = NULL;
    const char *ct = s3_header(call, "content-type");
    s3_headers_add(call, &attrs, &n, &cap, "content-type",
                   ct && *ct ? ct : "binary/octet-stream");
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        const char *v = s3_header(call, plain[i]);
        if (v && i == 0)
            v = s3_strip_aws_chunked(call, v);
        if (v)
            s3_headers_add(call, &attrs, &n, &cap, plain[i], v);
    }
    if (call->head)
        for (size_t i = 0; i < call->head->n_headers; i++)
            if (strncmp(call->head->headers[i].name, "x-amz-meta-", 11) == 0)
                s3_headers_add(call, &attrs, &n, &cap, call->head->headers[i].name,
                               call->head->headers[i].value);
    static const char *const amz[] = {"x-amz-tagging", "x-amz-storage-class",
                                      "x-amz-website-redirect-location"};
    for (size_t i = 0; i < sizeof(amz) / sizeof(amz[0]); i++) {
        const char *v = s3_header(call, amz[i]);
        if (v && *v)
            s3_headers_add(call, &attrs, &n, &cap, amz[i], v);
    }
    *attrs_r = attrs;
    return n;
}

void s3_add_checksum_headers(struct s3_call *call, const struct cairn_object_info *info,
                             struct cairn_kv **headers_r, size_t *n_r, size_t *cap_r)
{
    for (size_t i = 0; i < info->n_attrs; i++)
        if (strncmp(info->attrs[i].name, "x-amz-checksum-", 15) == 0)
            s3_headers_add(call, headers_r, n_r, cap_r, info->attrs[i].name,
                           info->attrs[i].value);
}
