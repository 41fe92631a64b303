/* test-s3b-request-xml.c -- DeleteObjects and CompleteMultipartUpload bodies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "s3-request-xml.h"
#include "tap.h"

static int complete(struct arena *a, const char *body, struct cairn_part_info **p, size_t *n)
{
    *p = NULL;
    *n = 0;
    return s3_parse_complete_body(a, body, strlen(body), p, n);
}

static const char *attr(const struct cairn_part_info *p, const char *name)
{
    for (size_t i = 0; i < p->n_attrs; i++)
        if (strcmp(p->attrs[i].name, name) == 0)
            return p->attrs[i].value;
    return NULL;
}

static void test_complete_variants(struct arena *a)
{
    struct cairn_part_info *p;
    size_t n;

    /* awscli / boto3: namespace, quoted ETags, compact. */
    is_int(complete(a,
                    "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    "<Part><ETag>\"aaa\"</ETag><PartNumber>1</PartNumber></Part>"
                    "<Part><ETag>\"bbb\"</ETag><PartNumber>2</PartNumber></Part>"
                    "</CompleteMultipartUpload>",
                    &p, &n),
           0, "namespaced, quoted");
    is_int(n, 2, "two parts");
    is_int(p[0].number, 1, "part 1 number");
    is_str(p[0].etag, "aaa", "quotes stripped");
    is_int(p[1].number, 2, "part 2 number");
    is_str(p[1].etag, "bbb", "quotes stripped on part 2");
    is_int(p[0].n_attrs, 0, "no checksum attrs");

    /* s3cmd / minio-js: no namespace, pretty-printed, entity-escaped quotes. */
    is_int(complete(a,
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<CompleteMultipartUpload>\n"
                    "  <Part>\n    <PartNumber>1</PartNumber>\n"
                    "    <ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag>\n  </Part>\n"
                    "  <Part>\n    <PartNumber>3</PartNumber>\n"
                    "    <ETag>  fedcba9876543210fedcba9876543210  </ETag>\n  </Part>\n"
                    "</CompleteMultipartUpload>\n",
                    &p, &n),
           0, "pretty-printed, entity-escaped, gap in numbers");
    is_int(n, 2, "two parts");
    is_str(p[0].etag, "0123456789abcdef0123456789abcdef", "&quot; stripped");
    is_int(p[1].number, 3, "gap kept");
    is_str(p[1].etag, "fedcba9876543210fedcba9876543210", "unquoted, trimmed");

    /* Doubly escaped (&amp;quot;) and a prefixed namespace. */
    is_int(complete(a,
                    "<s3:CompleteMultipartUpload xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                    "<s3:Part><s3:PartNumber>7</s3:PartNumber><s3:ETag>&amp;quot;ccc&amp;quot;</s3:ETag></s3:Part>"
                    "</s3:CompleteMultipartUpload>",
                    &p, &n),
           0, "prefixed namespace, doubly escaped");
    is_str(p[0].etag, "ccc", "doubly escaped quotes stripped");

    /* New SDKs: checksum elements per part. */
    is_int(complete(a,
                    "<CompleteMultipartUpload><Part><ChecksumCRC32>NhCmhg==</ChecksumCRC32>"
                    "<ETag>\"e1\"</ETag><PartNumber>1</PartNumber></Part>"
                    "<Part><ChecksumCRC32C>AAAAAA==</ChecksumCRC32C><ChecksumCRC64NVME>AAAAAAAAAAA=</ChecksumCRC64NVME>"
                    "<ChecksumSHA1>s1</ChecksumSHA1><ChecksumSHA256>s256</ChecksumSHA256>"
                    "<ETag>e2</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>",
                    &p, &n),
           0, "checksum elements accepted");
    is_int(p[0].n_attrs, 1, "part 1 has one checksum");
    is_str(attr(&p[0], "x-amz-checksum-crc32"), "NhCmhg==", "crc32 attr");
    is_int(p[1].n_attrs, 4, "part 2 has four checksums");
    is_str(attr(&p[1], "x-amz-checksum-crc32c"), "AAAAAA==", "crc32c attr");
    is_str(attr(&p[1], "x-amz-checksum-crc64nvme"), "AAAAAAAAAAA=", "crc64nvme attr");
    is_str(attr(&p[1], "x-amz-checksum-sha1"), "s1", "sha1 attr");
    is_str(attr(&p[1], "x-amz-checksum-sha256"), "s256", "sha256 attr");

    /* 10000 parts, the maximum. */
    size_t cap = 10000 * 80 + 128, len = 0;
    char *big = malloc(cap);
    len += (size_t)sprintf(big + len, "<CompleteMultipartUpload>");
    for (int i = 1; i <= 10000; i++)
        len += (size_t)sprintf(big + len, "<Part><PartNumber>%d</PartNumber><ETag>x%d</ETag></Part>",
                               i, i);
    len += (size_t)sprintf(big + len, "</CompleteMultipartUpload>");
    is_int(s3_parse_complete_body(a, big, len, &p, &n), 0, "10000 parts");
    is_int(n, 10000, "10000 parts counted");
    is_str(p[9999].etag, "x10000", "last part etag");
    free(big);
}

static void test_complete_errors(struct arena *a)
{
    struct cairn_part_info *p;
    size_t n;
    is_int(complete(a, "<CompleteMultipartUpload></CompleteMultipartUpload>", &p, &n),
           CAIRN_E_MALFORMED_XML, "empty part list: MalformedXML");
    is_int(complete(a, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>",
                    &p, &n),
           CAIRN_E_MALFORMED_XML, "self-closed root: MalformedXML");
    is_int(complete(a, "<Complete><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></Complete>",
                    &p, &n),
           CAIRN_E_MALFORMED_XML, "wrong root: MalformedXML");
    is_int(complete(a, "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>", &p, &n),
           CAIRN_E_MALFORMED_XML, "truncated: MalformedXML");
    is_int(complete(a, "<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>",
                    &p, &n),
           CAIRN_E_MALFORMED_XML, "part without number: MalformedXML");
    is_int(complete(a,
                    "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part>"
                    "</CompleteMultipartUpload>",
                    &p, &n),
           CAIRN_E_MALFORMED_XML, "part without ETag: MalformedXML");
    is_int(complete(a,
                    "<CompleteMultipartUpload><Part><PartNumber>x1</PartNumber><ETag>a</ETag></Part>"
                    "</CompleteMultipartUpload>",
                    &p, &n),
           CAIRN_E_MALFORMED_XML, "non-numeric part number: MalformedXML");
    is_int(complete(a,
                    "<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag>a</ETag></Part>"
                    "</CompleteMultipartUpload>",
                    &p, &n),
           CAIRN_E_MALFORMED_XML, "negative part number: MalformedXML");
    is_int(complete(a,
                    "<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part>"
                    "</CompleteMultipartUpload>",
                    &p, &n),
           CAIRN_E_INVALID_ARGUMENT, "part 0: InvalidArgument");
    is_int(complete(a,
                    "<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>a</ETag></Part>"
                    "</CompleteMultipartUpload>",
                    &p, &n),
           CAIRN_E_INVALID_ARGUMENT, "part 10001: InvalidArgument");
    is_int(complete(a,
                    "<CompleteMultipartUpload><Part><PartNumber>99999999999999999999</PartNumber>"
                    "<ETag>a</ETag></Part></CompleteMultipartUpload>",
                    &p, &n),
           CAIRN_E_INVALID_ARGUMENT, "huge part number: InvalidArgument, no overflow");
    is_int(complete(a,
                    "<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>a</ETag></Part>"
                    "<Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>",
                    &p, &n),
           CAIRN_E_INVALID_PART_ORDER, "descending: InvalidPartOrder");
    is_int(complete(a,
                    "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part>"
                    "<Part><PartNumber>1</PartNumber><ETag>b</ETag></Part></CompleteMultipartUpload>",
                    &p, &n),
           CAIRN_E_INVALID_PART_ORDER, "duplicate number: InvalidPartOrder");
    is_int(complete(a,
                    "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"\"</ETag></Part>"
                    "</CompleteMultipartUpload>",
                    &p, &n),
           CAIRN_E_INVALID_PART, "empty ETag: InvalidPart");
    char etag[200];
    memset(etag, 'a', 100);
    etag[100] = '\0';
    char body[512];
    snprintf(body, sizeof(body),
             "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>"
             "</CompleteMultipartUpload>",
             etag);
    is_int(complete(a, body, &p, &n), CAIRN_E_INVALID_PART, "oversized ETag: InvalidPart");
    is_int(complete(a, "<!DOCTYPE x [<!ENTITY e \"1\">]><CompleteMultipartUpload/>", &p, &n),
           CAIRN_E_MALFORMED_XML, "DOCTYPE: MalformedXML");
}

static void test_etag_unquote(void)
{
    char out[80];
    is_int(s3_etag_unquote("\"abc\"", out), 0, "quoted");
    is_str(out, "abc", "quoted -> bare");
    is_int(s3_etag_unquote("abc-3", out), 0, "bare");
    is_str(out, "abc-3", "bare kept");
    is_int(s3_etag_unquote(" \"abc\" ", out), 0, "padded");
    is_str(out, "abc", "padded -> bare");
    is_int(s3_etag_unquote("\"", out), CAIRN_E_INVALID_PART, "lone quote refused");
}

static int delete_body(struct arena *a, const char *body, struct s3_delete_object **o, size_t *n,
                       int *quiet)
{
    *o = NULL;
    *n = 0;
    *quiet = -1;
    return s3_parse_delete_body(a, body, strlen(body), o, n, quiet);
}

static void test_delete(struct arena *a)
{
    struct s3_delete_object *o;
    size_t n;
    int quiet;
    is_int(delete_body(a,
                       "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
                       "<Object><Key>a/b c+d</Key></Object>"
                       "<Object><Key>k2</Key><VersionId>v2</VersionId></Object></Delete>",
                       &o, &n, &quiet),
           0, "namespaced delete body");
    is_int(n, 2, "two objects");
    is_int(quiet, 1, "quiet");
    is_str(o[0].key, "a/b c+d", "key verbatim");
    ok(o[0].version_id == NULL, "no version id");
    is_str(o[1].version_id, "v2", "version id");

    is_int(delete_body(a,
                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Delete>\n  <Object>\n"
                       "    <Key>x&amp;y&lt;z</Key>\n  </Object>\n</Delete>\n",
                       &o, &n, &quiet),
           0, "plain pretty-printed delete body");
    is_int(quiet, 0, "not quiet by default");
    is_str(o[0].key, "x&y<z", "entities decoded in key");

    is_int(delete_body(a, "<Delete><Quiet>False</Quiet><Object><Key>k</Key></Object></Delete>", &o,
                       &n, &quiet),
           0, "Quiet False");
    is_int(quiet, 0, "quiet off");
    is_int(delete_body(a, "<Delete><Object><Key></Key></Object></Delete>", &o, &n, &quiet), 0,
           "empty key parses (reported per key)");
    is_str(o[0].key, "", "empty key");
    is_int(delete_body(a, "<Delete><Quiet>maybe</Quiet><Object><Key>k</Key></Object></Delete>",
                       &o, &n, &quiet),
           CAIRN_E_MALFORMED_XML, "bad Quiet: MalformedXML");
    is_int(delete_body(a, "<Delete></Delete>", &o, &n, &quiet), CAIRN_E_MALFORMED_XML,
           "no objects: MalformedXML");
    is_int(delete_body(a, "<Delete><Object><VersionId>v</VersionId></Object></Delete>", &o, &n,
                       &quiet),
           CAIRN_E_MALFORMED_XML, "object without key: MalformedXML");
    is_int(delete_body(a, "<Remove><Object><Key>k</Key></Object></Remove>", &o, &n, &quiet),
           CAIRN_E_MALFORMED_XML, "wrong root: MalformedXML");
    is_int(delete_body(a, "<Delete><Object><Key>k</Key></Object>", &o, &n, &quiet),
           CAIRN_E_MALFORMED_XML, "truncated: MalformedXML");

    for (int count = 1000; count <= 1001; count++) {
        size_t cap = (size_t)count * 40 + 64, len = 0;
        char *big = malloc(cap);
        len += (size_t)sprintf(big + len, "<Delete>");
        for (int i = 0; i < count; i++)
            len += (size_t)sprintf(big + len, "<Object><Key>k%d</Key></Object>", i);
        len += (size_t)sprintf(big + len, "</Delete>");
        int rc = s3_parse_delete_body(a, big, len, &o, &n, &quiet);
        if (count == 1000) {
            is_int(rc, 0, "1000 keys accepted");
            is_int(n, 1000, "1000 keys counted");
        } else {
            is_int(rc, CAIRN_E_MALFORMED_XML, "1001 keys: MalformedXML");
        }
        free(big);
    }
}

int main(void)
{
    struct arena *a = arena_new();
    test_complete_variants(a);
    test_complete_errors(a);
    test_etag_unquote();
    test_delete(a);
    arena_free(a);
    return tap_done();
}
