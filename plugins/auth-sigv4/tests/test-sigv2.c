/*
 * test-sigv2.c -- AWS's published Signature Version 2 examples (the
 * awsexamplebucket1 requests of "Signing and authenticating REST requests"),
 * presigned SigV2 URLs, sub-resources, and the sigv2 = 0 switch.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4-test.h"

/* now = the example's date. */
static int64_t ms_of(const char *http_date)
{
    int64_t s = 0;
    sigv4_parse_http_date(http_date, &s);
    return s * 1000;
}

static struct tres v2(void *pl, const char *method, const char *path, const char *query,
                      const char *date, const char *ctype, const char *sig)
{
    static char authz[128];
    struct treq r;
    treq_init(&r, method, path, query);
    treq_header(&r, "host", "s3.us-west-1.amazonaws.com");
    treq_header(&r, "date", date);
    if (ctype)
        treq_header(&r, "content-type", ctype);
    snprintf(authz, sizeof(authz), "AWS " AK ":%s", sig);
    treq_header(&r, "authorization", authz);
    r.now_ms = ms_of(date);
    return run_auth(pl, &r);
}

/* base64(HMAC-SHA1(secret, s)) -- the test's own SigV2 signer. */
static void sign_v2(const char *s, char out[29])
{
    uint8_t mac[20];
    unsigned int n = 20;
    HMAC(EVP_sha1(), SK, (int)strlen(SK), (const uint8_t *)s, strlen(s), mac, &n);
    sigv4_base64(mac, 20, out);
}

static void test_examples(void *pl)
{
    struct tres t;
    /* Path-style equivalents of the virtual-hosted examples: same canonical resource. */
    t = v2(pl, "GET", "/awsexamplebucket1/photos/puppy.jpg", "", "Tue, 27 Mar 2007 19:36:42 +0000",
           NULL, "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
    is_int(t.rc, 0, "SigV2 example: GET object");
    is_int(t.id.signature_version, 2, "signature version 2");
    is_str(t.id.user, "example-user", "user from the IAM store");
    ok(t.dec == NULL, "no decoder for SigV2");
    tres_free(&t);
    t = v2(pl, "PUT", "/awsexamplebucket1/photos/puppy.jpg", "", "Tue, 27 Mar 2007 21:15:45 +0000",
           "image/jpeg", "iqRzw+ileNPu1fhspnRs8nOjjIA=");
    is_int(t.rc, 0, "SigV2 example: PUT object with Content-Type");
    tres_free(&t);
    t = v2(pl, "GET", "/awsexamplebucket1/", "prefix=photos&max-keys=50&marker=puppy",
           "Tue, 27 Mar 2007 19:42:41 +0000", NULL, "m0WP8eCtspQl5Ahe6L1SozdX9YA=");
    is_int(t.rc, 0, "SigV2 example: list (query parameters are not sub-resources)");
    tres_free(&t);
    t = v2(pl, "GET", "/awsexamplebucket1/", "acl", "Tue, 27 Mar 2007 19:44:46 +0000", NULL,
           "82ZHiFIjc+WbcwFKGUVEQspPn+0=");
    is_int(t.rc, 0, "SigV2 example: GET ?acl (sub-resource)");
    tres_free(&t);
    t = v2(pl, "DELETE", "/awsexamplebucket1/photos/puppy.jpg", "",
           "Tue, 27 Mar 2007 21:20:26 +0000", NULL, "XbyTlbQdu9Xw5o8P4iMwPktxQd8=");
    is_int(t.rc, 0, "SigV2 example: DELETE object");
    tres_free(&t);

    t = v2(pl, "GET", "/awsexamplebucket1/photos/puppy.jpg", "", "Tue, 27 Mar 2007 19:36:42 +0000",
           NULL, "qgk2+6Sv9/oM7G3qLEjTH1a1l1h=");
    is_int(t.rc, CAIRN_E_SIGNATURE_MISMATCH, "wrong SigV2 signature -> SignatureDoesNotMatch");
    ok(t.detail && strstr(t.detail, "<StringToSign>GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n"
                                    "/awsexamplebucket1/photos/puppy.jpg</StringToSign>"),
       "detail carries the SigV2 string to sign");
    tres_free(&t);
    t = v2(pl, "GET", "/awsexamplebucket1/photos/puppy.jpg", "", "Tue, 27 Mar 2007 19:36:42 +0000",
           NULL, "qgk2+6Sv9/oM7G3qLEjTH1a1l1g");
    is_int(t.rc, CAIRN_E_SIGNATURE_MISMATCH, "truncated SigV2 signature -> SignatureDoesNotMatch");
    tres_free(&t);

    /* Virtual-host style with the configured domain. */
    void *vh = plugin_new("domain", "s3.us-west-1.amazonaws.com", NULL);
    struct treq r;
    treq_init(&r, "GET", "/photos/puppy.jpg", "");
    treq_header(&r, "host", "awsexamplebucket1.s3.us-west-1.amazonaws.com");
    treq_header(&r, "date", "Tue, 27 Mar 2007 19:36:42 +0000");
    treq_header(&r, "authorization", "AWS " AK ":qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
    r.now_ms = ms_of("Tue, 27 Mar 2007 19:36:42 +0000");
    t = run_auth(vh, &r);
    is_int(t.rc, 0, "SigV2 virtual-host example with domain configured");
    tres_free(&t);
    cairn_plugin.fini(vh);
}

static void test_amz_headers_and_subresources(void *pl)
{
    /* x-amz-date replaces Date; x-amz-* sorted, repeated names joined; sub-resources sorted. */
    const char *sts = "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\n\n"
                      "x-amz-date:Tue, 27 Mar 2007 21:06:08 +0000\n"
                      "x-amz-meta-checksumalgorithm:crc32\n"
                      "x-amz-meta-reviewedby:joe@example.com,jane@example.com\n"
                      "/static.example.com/db-backup.dat.gz?partNumber=2&uploadId=abc%2F";
    char sig[29], authz[100];
    sign_v2(sts, sig);
    snprintf(authz, sizeof(authz), "AWS " AK ":%s", sig);
    struct treq r;
    treq_init(&r, "PUT", "/static.example.com/db-backup.dat.gz", "uploadId=abc%252F&partNumber=2&foo=bar");
    treq_header(&r, "host", "s3.amazonaws.com");
    treq_header(&r, "x-amz-date", "Tue, 27 Mar 2007 21:06:08 +0000");
    treq_header(&r, "x-amz-meta-reviewedby", "joe@example.com");
    treq_header(&r, "x-amz-meta-reviewedby", "jane@example.com");
    treq_header(&r, "content-type", "application/x-download");
    treq_header(&r, "content-md5", "4gJE4saaMU4BqNR0kLY+lw==");
    treq_header(&r, "x-amz-meta-checksumalgorithm", "  crc32 ");
    treq_header(&r, "authorization", authz);
    r.now_ms = ms_of("Tue, 27 Mar 2007 21:06:08 +0000");
    struct tres t = run_auth(pl, &r);
    is_int(t.rc, 0, "x-amz headers canonicalised, sub-resources sorted and decoded");
    if (t.rc)
        diag("%s", t.detail ? t.detail : "");
    tres_free(&t);

    r.now_ms += 16 * 60 * 1000;
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_REQUEST_TIME_SKEWED, "SigV2 clock skew -> RequestTimeTooSkewed");
    tres_free(&t);

    /* Valueless and empty-valued sub-resources: "?uploads" and "?uploads=". */
    sign_v2("POST\n\n\nTue, 27 Mar 2007 21:06:08 +0000\n/b/k?uploads", sig);
    snprintf(authz, sizeof(authz), "AWS " AK ":%s", sig);
    treq_init(&r, "POST", "/b/k", "uploads");
    treq_header(&r, "host", "h");
    treq_header(&r, "date", "Tue, 27 Mar 2007 21:06:08 +0000");
    treq_header(&r, "authorization", authz);
    r.now_ms = ms_of("Tue, 27 Mar 2007 21:06:08 +0000");
    t = run_auth(pl, &r);
    is_int(t.rc, 0, "?uploads signs as 'uploads'");
    tres_free(&t);
    sign_v2("POST\n\n\nTue, 27 Mar 2007 21:06:08 +0000\n/b/k?uploads=", sig);
    snprintf(authz, sizeof(authz), "AWS " AK ":%s", sig);
    treq_init(&r, "POST", "/b/k", "uploads=");
    treq_header(&r, "host", "h");
    treq_header(&r, "date", "Tue, 27 Mar 2007 21:06:08 +0000");
    treq_header(&r, "authorization", authz);
    r.now_ms = ms_of("Tue, 27 Mar 2007 21:06:08 +0000");
    t = run_auth(pl, &r);
    is_int(t.rc, 0, "?uploads= signs as 'uploads='");
    tres_free(&t);

    treq_init(&r, "GET", "/b/k", "");
    treq_header(&r, "host", "h");
    treq_header(&r, "authorization", "AWS " AK);
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_AUTH_HEADER_MALFORMED, "SigV2 header without ':' -> malformed");
    tres_free(&t);
    treq_init(&r, "GET", "/b/k", "");
    treq_header(&r, "host", "h");
    treq_header(&r, "authorization", "AWS " AK ":abc");
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_ACCESS_DENIED, "SigV2 without a date -> AccessDenied");
    tres_free(&t);
}

static void test_presigned(void *pl)
{
    char sig[29], q[300];
    sign_v2("GET\n\n\n1175139620\n/awsexamplebucket1/photos/puppy.jpg?response-content-type=text/plain", sig);
    /* URL-encode the signature as boto3 does. */
    char enc[100] = "";
    for (const char *p = sig; *p; p++) {
        char e[4];
        if (*p == '+' || *p == '/' || *p == '=')
            snprintf(e, sizeof(e), "%%%02X", (unsigned char)*p);
        else
            snprintf(e, sizeof(e), "%c", *p);
        strcat(enc, e);
    }
    snprintf(q, sizeof(q), "AWSAccessKeyId=" AK "&Expires=1175139620&Signature=%s"
             "&response-content-type=text%%2Fplain", enc);
    struct treq r;
    treq_init(&r, "GET", "/awsexamplebucket1/photos/puppy.jpg", q);
    treq_header(&r, "host", "s3.amazonaws.com");
    r.now_ms = 1175139620000LL - 60000;
    struct tres t = run_auth(pl, &r);
    is_int(t.rc, 0, "SigV2 presigned URL verifies");
    is_int(t.id.auth_type, CAIRN_AUTH_QUERY, "query auth");
    is_int(t.id.signature_version, 2, "version 2");
    tres_free(&t);
    r.now_ms = 1175139621000LL;
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_EXPIRED_REQUEST, "expired SigV2 URL -> AccessDenied (Request has expired)");
    tres_free(&t);
    treq_init(&r, "GET", "/awsexamplebucket1/photos/puppy.jpg",
              "AWSAccessKeyId=" AK "&Expires=soon&Signature=abc");
    treq_header(&r, "host", "s3.amazonaws.com");
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_ACCESS_DENIED, "non-numeric Expires refused");
    tres_free(&t);
    treq_init(&r, "GET", "/awsexamplebucket1/photos/puppy.jpg", "AWSAccessKeyId=" AK "&Signature=abc");
    treq_header(&r, "host", "s3.amazonaws.com");
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_ACCESS_DENIED, "missing Expires refused");
    tres_free(&t);
}

static void test_disabled(void)
{
    void *off = plugin_new("sigv2", "0", NULL);
    ok(off != NULL, "plugin with sigv2 = 0");
    struct tres t = v2(off, "GET", "/awsexamplebucket1/photos/puppy.jpg", "",
                       "Tue, 27 Mar 2007 19:36:42 +0000", NULL, "qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
    is_int(t.rc, CAIRN_E_INVALID_REQUEST, "SigV2 header refused when turned off");
    tres_free(&t);
    struct treq r;
    treq_init(&r, "GET", "/b/k", "AWSAccessKeyId=" AK "&Expires=1175139620&Signature=x");
    treq_header(&r, "host", "h");
    t = run_auth(off, &r);
    is_int(t.rc, CAIRN_E_INVALID_REQUEST, "SigV2 presigned refused when turned off");
    tres_free(&t);
    cairn_plugin.fini(off);
}

int main(void)
{
    fake_iam_add(AK, SK, "example-user", 0);
    void *pl = plugin_new(NULL);
    test_examples(pl);
    test_amz_headers_and_subresources(pl);
    test_presigned(pl);
    test_disabled();
    cairn_plugin.fini(pl);
    return tap_done();
}
