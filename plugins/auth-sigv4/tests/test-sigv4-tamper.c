/*
 * test-sigv4-tamper.c -- every single-bit change to a signed request is
 * rejected: the method, path, query, every signed header value (dates
 * included) and the Authorization header / presigned signature of AWS's
 * published examples, SigV4 and SigV2.
 *
 * The one change that is not a change: the case of the hex digits of a %XX
 * escape ("%2F" vs "%2f" name the same byte, and AWS canonicalises both alike),
 * which is skipped and counted.
 */
#include "sigv4-test.h"

/* A request whose parts are mutable copies. */
struct mreq {
    char method[16], path[128], query[512];
    char names[16][64];
    char values[16][512];
    int n;
    int64_t now_ms;
};

static void mreq_header(struct mreq *m, const char *name, const char *value)
{
    snprintf(m->names[m->n], sizeof(m->names[0]), "%s", name);
    snprintf(m->values[m->n], sizeof(m->values[0]), "%s", value);
    m->n++;
}

static int mreq_auth(void *pl, struct mreq *m)
{
    struct treq r;
    treq_init(&r, m->method, m->path, m->query);
    for (int i = 0; i < m->n; i++)
        treq_header(&r, m->names[i], m->values[i]);
    r.now_ms = m->now_ms;
    struct tres t = run_auth(pl, &r);
    int rc = t.rc;
    tres_free(&t);
    return rc;
}

/* 1 when byte i of s is a hex digit inside a %XX escape. */
static int in_escape(const char *s, size_t i)
{
    return (i >= 1 && s[i - 1] == '%') || (i >= 2 && s[i - 2] == '%');
}

/* Flips every bit of every byte of `field`; returns how many variants passed. */
static int flip_all(void *pl, struct mreq *m, char *field, int *skipped)
{
    int accepted = 0;
    size_t len = strlen(field);
    for (size_t i = 0; i < len; i++) {
        for (int mask = 1; mask <= 0x80; mask <<= 1) {
            char orig = field[i];
            char changed = (char)(orig ^ mask);
            if (changed == '\0')
                continue; /* would shorten the string, not change a byte */
            if (mask == 0x20 && in_escape(field, i) && sigv4_hexval((unsigned char)changed) >= 0) {
                (*skipped)++;
                continue;
            }
            field[i] = changed;
            if (mreq_auth(pl, m) == 0) {
                accepted++;
                diag("accepted: %s", field);
            }
            field[i] = orig;
        }
    }
    return accepted;
}

/* `unsigned_header`: a header the scheme does not sign (SigV2 leaves out Host). */
static void tamper(void *pl, struct mreq *m, const char *what, const char *unsigned_header)
{
    is_int(mreq_auth(pl, m), 0, "%s: the untouched request verifies", what);
    int skipped = 0;
    is_int(flip_all(pl, m, m->method, &skipped), 0, "%s: every method change rejected", what);
    is_int(flip_all(pl, m, m->path, &skipped), 0, "%s: every path change rejected", what);
    is_int(flip_all(pl, m, m->query, &skipped), 0, "%s: every query change rejected", what);
    for (int i = 0; i < m->n; i++)
        if (!unsigned_header || strcmp(m->names[i], unsigned_header) != 0)
            is_int(flip_all(pl, m, m->values[i], &skipped), 0, "%s: every change to %s rejected", what,
                  m->names[i]);
    diag("%s: %d equivalent %%XX case changes skipped", what, skipped);
}

#define EX_HOST "examplebucket.s3.amazonaws.com"
#define CRED "Credential=" AK "/20130524/us-east-1/s3/aws4_request"

int main(void)
{
    fake_iam_add(AK, SK, "example-user", 0);
    void *pl = plugin_new(NULL);
    struct mreq m;

    memset(&m, 0, sizeof(m));
    strcpy(m.method, "GET");
    strcpy(m.path, "/test.txt");
    m.now_ms = T20130524;
    mreq_header(&m, "host", EX_HOST);
    mreq_header(&m, "range", "bytes=0-9");
    mreq_header(&m, "x-amz-content-sha256", SIGV4_EMPTY_SHA256);
    mreq_header(&m, "x-amz-date", "20130524T000000Z");
    mreq_header(&m, "authorization",
                "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    tamper(pl, &m, "GET object", NULL);

    memset(&m, 0, sizeof(m));
    strcpy(m.method, "GET");
    strcpy(m.path, "/");
    strcpy(m.query, "max-keys=2&prefix=J");
    m.now_ms = T20130524;
    mreq_header(&m, "host", EX_HOST);
    mreq_header(&m, "x-amz-date", "20130524T000000Z");
    mreq_header(&m, "x-amz-content-sha256", SIGV4_EMPTY_SHA256);
    mreq_header(&m, "authorization",
                "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
                "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    tamper(pl, &m, "list objects", NULL);

    memset(&m, 0, sizeof(m));
    strcpy(m.method, "PUT");
    strcpy(m.path, "/test$file.text");
    m.now_ms = T20130524;
    mreq_header(&m, "host", EX_HOST);
    mreq_header(&m, "date", "Fri, 24 May 2013 00:00:00 GMT");
    mreq_header(&m, "x-amz-date", "20130524T000000Z");
    mreq_header(&m, "x-amz-storage-class", "REDUCED_REDUNDANCY");
    mreq_header(&m, "x-amz-content-sha256",
                "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    mreq_header(&m, "authorization",
                "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=date;host;x-amz-content-sha256;"
                "x-amz-date;x-amz-storage-class,Signature="
                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    tamper(pl, &m, "PUT object", NULL);

    memset(&m, 0, sizeof(m));
    strcpy(m.method, "GET");
    strcpy(m.path, "/test.txt");
    strcpy(m.query, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AK
                    "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
                    "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
                    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    m.now_ms = T20130524;
    mreq_header(&m, "host", EX_HOST);
    tamper(pl, &m, "presigned URL", NULL);

    memset(&m, 0, sizeof(m));
    strcpy(m.method, "GET");
    strcpy(m.path, "/awsexamplebucket1/photos/puppy.jpg");
    strcpy(m.query, "acl");
    m.now_ms = 1175024202000LL;
    mreq_header(&m, "host", "s3.us-west-1.amazonaws.com");
    mreq_header(&m, "date", "Tue, 27 Mar 2007 19:36:42 +0000");
    mreq_header(&m, "authorization", "AWS " AK ":P0/mgJO64z11/xtyPPIrMNogAvM=");
    tamper(pl, &m, "SigV2 GET ?acl", "host");

    cairn_plugin.fini(pl);
    return tap_done();
}
