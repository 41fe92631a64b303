/*
 * test-sigv4-vectors.c -- AWS's published SigV4 examples for S3 (GET object
 * with Range, PUT object, GET bucket lifecycle, list objects, presigned URL)
 * and the published aws-chunked upload, plus the region, clock and payload
 * mode rules around them.
 */
#include "sigv4-test.h"

#define EX_HOST "examplebucket.s3.amazonaws.com"
#define CRED "Credential=" AK "/20130524/us-east-1/s3/aws4_request"

static void example_get_object(struct treq *r, const char *sig)
{
    static char authz[400];
    treq_init(r, "GET", "/test.txt", "");
    treq_header(r, "host", EX_HOST);
    treq_header(r, "range", "bytes=0-9");
    treq_header(r, "x-amz-content-sha256", SIGV4_EMPTY_SHA256);
    treq_header(r, "x-amz-date", "20130524T000000Z");
    snprintf(authz, sizeof(authz),
             "AWS4-HMAC-SHA256 " CRED
             ",SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=%s", sig);
    treq_header(r, "authorization", authz);
}

#define GET_OBJECT_SIG "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"

static void test_get_object(void *pl)
{
    struct treq r;
    example_get_object(&r, GET_OBJECT_SIG);
    struct tres t = run_auth(pl, &r);
    is_int(t.rc, 0, "GET object example verifies");
    is_str(t.id.access_key, AK, "identity access key");
    is_str(t.id.user, "example-user", "identity user from the IAM store");
    is_int(t.id.signature_version, 4, "signature version 4");
    is_int(t.id.auth_type, CAIRN_AUTH_HEADER, "header auth");
    is_str(t.id.content_sha256, SIGV4_EMPTY_SHA256, "content_sha256 recorded");
    ok(t.dec != NULL, "an empty-body SHA-256 check is installed");
    if (t.dec)
        is_int(decode_all(t.dec, t.req, "", 0, 1, 16, NULL, 0, NULL), 0, "empty body passes");
    tres_free(&t);

    /* Spaces after the commas, as botocore writes the header. */
    treq_init(&r, "GET", "/test.txt", "");
    treq_header(&r, "host", EX_HOST);
    treq_header(&r, "range", "bytes=0-9");
    treq_header(&r, "x-amz-content-sha256", SIGV4_EMPTY_SHA256);
    treq_header(&r, "x-amz-date", "20130524T000000Z");
    treq_header(&r, "authorization",
                "AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;range;x-amz-content-sha256;"
                "x-amz-date, Signature=" GET_OBJECT_SIG);
    t = run_auth(pl, &r);
    is_int(t.rc, 0, "components separated by ', ' verify too");
    tres_free(&t);

    /* Wrong signature: SignatureDoesNotMatch with S3's detail elements. */
    example_get_object(&r, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb40");
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_SIGNATURE_MISMATCH, "wrong signature -> SignatureDoesNotMatch");
    ok(t.detail && strstr(t.detail, "<AWSAccessKeyId>" AK "</AWSAccessKeyId>"), "detail names the key");
    ok(t.detail && strstr(t.detail, "<StringToSign>AWS4-HMAC-SHA256\n20130524T000000Z\n"
                                    "20130524/us-east-1/s3/aws4_request\n"
                                    "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
                                    "</StringToSign>"),
       "detail carries AWS's published string to sign");
    ok(t.detail && strstr(t.detail, "<CanonicalRequest>GET\n/test.txt\n\nhost:" EX_HOST
                                    "\nrange:bytes=0-9\n"),
       "detail carries the canonical request");
    ok(t.detail && strstr(t.detail, "<StringToSignBytes>41 57 53 34 "), "StringToSignBytes in hex");
    ok(t.detail && strstr(t.detail, "<CanonicalRequestBytes>47 45 54 0a "), "CanonicalRequestBytes in hex");
    ok(t.detail && strstr(t.detail, "<SignatureProvided>f0e8bdb8"), "SignatureProvided");
    ok(t.detail && !strstr(t.detail, SK), "the secret never appears");
    tres_free(&t);
}

static void test_put_object(void *pl)
{
    static const char body[] = "Welcome to Amazon S3.";
    struct treq r;
    treq_init(&r, "PUT", "/test$file.text", "");
    treq_header(&r, "host", EX_HOST);
    treq_header(&r, "date", "Fri, 24 May 2013 00:00:00 GMT");
    treq_header(&r, "x-amz-date", "20130524T000000Z");
    treq_header(&r, "x-amz-storage-class", "REDUCED_REDUNDANCY");
    treq_header(&r, "x-amz-content-sha256",
                "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    treq_header(&r, "content-length", "21");
    treq_header(&r, "authorization",
                "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=date;host;x-amz-content-sha256;"
                "x-amz-date;x-amz-storage-class,Signature="
                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    struct tres t = run_auth(pl, &r);
    is_int(t.rc, 0, "PUT object example verifies ('$' re-encoded as %%24)");
    ok(t.dec != NULL, "PUT installs the SHA-256 check");
    if (t.dec) {
        uint8_t out[64];
        size_t n = 0;
        is_int(t.dec->decoded_length, 21, "decoded length from Content-Length");
        is_int(decode_all(t.dec, t.req, body, 21, 1, 3, out, sizeof(out), &n), 0,
               "body matching x-amz-content-sha256 passes, fed 1 byte at a time");
        ok(n == 21 && memcmp(out, body, 21) == 0, "body passed through unchanged");
    }
    tres_free(&t);

    t = run_auth(pl, &r);
    if (t.dec)
        is_int(decode_all(t.dec, t.req, "Welcome to Amazon S3!", 21, 7, 64, NULL, 0, NULL),
               CAIRN_E_SHA256_MISMATCH, "a different body -> XAmzContentSHA256Mismatch");
    tres_free(&t);
}

static void test_lifecycle_and_list(void *pl)
{
    struct treq r;
    treq_init(&r, "GET", "/", "lifecycle");
    treq_header(&r, "host", EX_HOST);
    treq_header(&r, "x-amz-date", "20130524T000000Z");
    treq_header(&r, "x-amz-content-sha256", SIGV4_EMPTY_SHA256);
    treq_header(&r, "authorization",
                "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
                "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    struct tres t = run_auth(pl, &r);
    is_int(t.rc, 0, "GET bucket lifecycle example verifies (valueless ?lifecycle)");
    tres_free(&t);

    treq_init(&r, "GET", "/", "max-keys=2&prefix=J");
    treq_header(&r, "host", EX_HOST);
    treq_header(&r, "x-amz-date", "20130524T000000Z");
    treq_header(&r, "x-amz-content-sha256", SIGV4_EMPTY_SHA256);
    treq_header(&r, "authorization",
                "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
                "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    t = run_auth(pl, &r);
    is_int(t.rc, 0, "list objects example verifies");
    tres_free(&t);

    /* The same parameters in another order and with an empty path canonicalise alike. */
    treq_init(&r, "GET", "", "prefix=J&max-keys=2");
    treq_header(&r, "host", EX_HOST);
    treq_header(&r, "x-amz-date", "20130524T000000Z");
    treq_header(&r, "x-amz-content-sha256", SIGV4_EMPTY_SHA256);
    treq_header(&r, "authorization",
                "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
                "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    t = run_auth(pl, &r);
    is_int(t.rc, 0, "query order does not matter; empty path is '/'");
    tres_free(&t);
}

#define PRESIGN_Q                                                                        \
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AK                              \
    "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"             \
    "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="                      \
    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

static void test_presigned(void *pl)
{
    struct treq r;
    treq_init(&r, "GET", "/test.txt", PRESIGN_Q);
    treq_header(&r, "host", EX_HOST);
    struct tres t = run_auth(pl, &r);
    is_int(t.rc, 0, "presigned URL example verifies");
    is_int(t.id.auth_type, CAIRN_AUTH_QUERY, "query auth");
    is_str(t.id.content_sha256, "UNSIGNED-PAYLOAD", "presigned payload is UNSIGNED-PAYLOAD");
    ok(t.dec == NULL, "no decoder for an unsigned payload");
    tres_free(&t);

    r.now_ms = T20130524 + 86400 * 1000LL;
    t = run_auth(pl, &r);
    is_int(t.rc, 0, "still valid at the last second");
    tres_free(&t);
    r.now_ms = T20130524 + 86401 * 1000LL;
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_EXPIRED_REQUEST, "expired presigned URL -> AccessDenied (Request has expired)");
    is_str(t.detail, "<X-Amz-Expires>86400</X-Amz-Expires><Expires>2013-05-25T00:00:00Z</Expires>"
                     "<ServerTime>2013-05-25T00:00:01Z</ServerTime>", "expiry detail as S3 gives it");
    tres_free(&t);
    r.now_ms = T20130524 - 3600 * 1000LL;
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_ACCESS_DENIED, "not yet valid -> AccessDenied");
    tres_free(&t);

    treq_init(&r, "GET", "/test.txt",
              "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AK
              "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
              "&X-Amz-Expires=604801&X-Amz-SignedHeaders=host&X-Amz-Signature="
              "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    treq_header(&r, "host", EX_HOST);
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_AUTH_QUERY_MALFORMED, "X-Amz-Expires over 7 days -> AuthorizationQueryParametersError");
    tres_free(&t);

    treq_init(&r, "GET", "/test.txt",
              "X-Amz-Algorithm=AWS4-HMAC-SHA1&X-Amz-Credential=x&X-Amz-Signature=00");
    treq_header(&r, "host", EX_HOST);
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_AUTH_QUERY_MALFORMED, "bad presign algorithm -> AuthorizationQueryParametersError");
    tres_free(&t);
}

/* The published aws-chunked example: 64 KiB + 1 KiB of 'a'. */
static void test_chunked_example(void *pl)
{
    struct treq r;
    treq_init(&r, "PUT", "/examplebucket/chunkObject.txt", "");
    treq_header(&r, "host", "s3.amazonaws.com");
    treq_header(&r, "x-amz-date", "20130524T000000Z");
    treq_header(&r, "x-amz-storage-class", "REDUCED_REDUNDANCY");
    treq_header(&r, "x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    treq_header(&r, "content-encoding", "aws-chunked");
    treq_header(&r, "x-amz-decoded-content-length", "66560");
    treq_header(&r, "content-length", "66824");
    treq_header(&r, "authorization",
                "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=content-encoding;content-length;host;"
                "x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
                "x-amz-storage-class,Signature="
                "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    struct tbuf body = {0};
    char *a = malloc(65536);
    memset(a, 'a', 65536);
    tbuf_adds(&body, "10000;chunk-signature="
                     "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n");
    tbuf_add(&body, a, 65536);
    tbuf_adds(&body, "\r\n400;chunk-signature="
                     "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n");
    tbuf_add(&body, a, 1024);
    tbuf_adds(&body, "\r\n0;chunk-signature="
                     "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n");
    is_int(body.len, 66824, "example body is 66824 bytes");

    size_t steps[] = {1, 7, 4096, 66824};
    size_t caps[] = {1, 100, 65536, 1 << 20};
    for (int i = 0; i < 4; i++) {
        struct tres t = run_auth(pl, &r);
        is_int(t.rc, 0, "seed signature of the chunked example verifies");
        ok(t.dec != NULL, "aws-chunked decoder installed");
        if (t.dec) {
            is_int(t.dec->decoded_length, 66560, "decoded length from x-amz-decoded-content-length");
            uint8_t *out = malloc(70000);
            size_t n = 0;
            int rc = decode_all(t.dec, t.req, body.d, body.len, steps[i], caps[i], out, 70000, &n);
            is_int(rc, 0, "chunk signatures verify (input step %zu, out_cap %zu)", steps[i], caps[i]);
            ok(n == 66560 && memcmp(out, a, 65536) == 0 && memcmp(out + 65536, a, 1024) == 0,
               "decoded to 66560 'a' bytes");
            free(out);
        }
        tres_free(&t);
    }

    /* A data byte changed in the second chunk: rejected when that chunk completes. */
    body.d[65626 + 86 + 10] = 'b';
    struct tres t = run_auth(pl, &r);
    if (t.dec)
        is_int(decode_all(t.dec, t.req, body.d, body.len, 1000, 70000, NULL, 0, NULL),
               CAIRN_E_SIGNATURE_MISMATCH, "tampered chunk data -> SignatureDoesNotMatch");
    tres_free(&t);
    free(a);
    free(body.d);
}

static void test_rules(void *pl)
{
    struct treq r;
    struct tres t;

    /* Region: a wrong one names the expected region. */
    treq_init(&r, "GET", "/test.txt", "");
    treq_header(&r, "host", EX_HOST);
    treq_header(&r, "x-amz-content-sha256", SIGV4_EMPTY_SHA256);
    treq_header(&r, "x-amz-date", "20130524T000000Z");
    treq_header(&r, "authorization",
                "AWS4-HMAC-SHA256 Credential=" AK "/20130524/eu-west-1/s3/aws4_request,"
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=" GET_OBJECT_SIG);
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_AUTH_HEADER_MALFORMED, "wrong region -> AuthorizationHeaderMalformed");
    is_str(t.detail, "<Region>us-east-1</Region>", "the error names the expected region");
    tres_free(&t);

    /* "dummy" is accepted only when configured (Loki without a region). */
    treq_init(&r, "GET", "/test.txt", "");
    treq_header(&r, "host", EX_HOST);
    treq_header(&r, "x-amz-content-sha256", SIGV4_EMPTY_SHA256);
    treq_header(&r, "x-amz-date", "20130524T000000Z");
    treq_header(&r, "authorization",
                "AWS4-HMAC-SHA256 Credential=" AK "/20130524/dummy/s3/aws4_request,"
                "SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=" GET_OBJECT_SIG);
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_AUTH_HEADER_MALFORMED, "region 'dummy' refused by default");
    tres_free(&t);
    void *pl2 = plugin_new("extra_regions", "dummy, other", NULL);
    ok(pl2 != NULL, "plugin with extra_regions");
    t = run_auth(pl2, &r);
    is_int(t.rc, CAIRN_E_SIGNATURE_MISMATCH, "region 'dummy' accepted with extra_regions (then signature checked)");
    tres_free(&t);
    cairn_plugin.fini(pl2);

    /* Clock skew. */
    example_get_object(&r, GET_OBJECT_SIG);
    r.now_ms = T20130524 + 15 * 60 * 1000;
    t = run_auth(pl, &r);
    is_int(t.rc, 0, "15 minutes of skew is fine");
    tres_free(&t);
    r.now_ms = T20130524 + 15 * 60 * 1000 + 1000;
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_REQUEST_TIME_SKEWED, "more than 15 minutes -> RequestTimeTooSkewed");
    is_str(t.detail, "<RequestTime>20130524T000000Z</RequestTime><ServerTime>2013-05-24T00:15:01Z"
                     "</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>",
           "skew detail as S3 gives it");
    tres_free(&t);
    r.now_ms = T20130524 - 16 * 60 * 1000;
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_REQUEST_TIME_SKEWED, "request from the future -> RequestTimeTooSkewed");
    tres_free(&t);

    /* Unknown and disabled keys. */
    treq_init(&r, "GET", "/test.txt", "");
    treq_header(&r, "host", EX_HOST);
    treq_header(&r, "x-amz-content-sha256", SIGV4_EMPTY_SHA256);
    treq_header(&r, "x-amz-date", "20130524T000000Z");
    treq_header(&r, "authorization",
                "AWS4-HMAC-SHA256 Credential=NOSUCHKEY/20130524/us-east-1/s3/aws4_request,"
                "SignedHeaders=host;x-amz-date,Signature=" GET_OBJECT_SIG);
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_INVALID_ACCESS_KEY, "unknown key -> InvalidAccessKeyId");
    is_str(t.detail, "<AWSAccessKeyId>NOSUCHKEY</AWSAccessKeyId>", "the error names the key");
    tres_free(&t);
    treq_init(&r, "GET", "/test.txt", "");
    treq_header(&r, "host", EX_HOST);
    treq_header(&r, "x-amz-content-sha256", SIGV4_EMPTY_SHA256);
    treq_header(&r, "x-amz-date", "20130524T000000Z");
    treq_header(&r, "authorization",
                "AWS4-HMAC-SHA256 Credential=DISABLEDKEY/20130524/us-east-1/s3/aws4_request,"
                "SignedHeaders=host;x-amz-date,Signature=" GET_OBJECT_SIG);
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_ACCESS_DENIED, "disabled user -> AccessDenied");
    tres_free(&t);

    /* Malformed headers. */
    static const char *bad[] = {
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 ",
        "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request",
        "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,SignedHeaders=host",
        "AWS4-HMAC-SHA256 Credential=" AK "/2013052/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/ec2/aws4_request,SignedHeaders=host,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws5_request,SignedHeaders=host,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,SignedHeaders=range,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,SignedHeaders=Host,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;;x,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=abc",
        "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" GET_OBJECT_SIG ",Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Foo=bar,Signature=" GET_OBJECT_SIG,
        "AWS4-HMAC-SHA256Credential=" AK "/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" GET_OBJECT_SIG,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        treq_init(&r, "GET", "/test.txt", "");
        treq_header(&r, "host", EX_HOST);
        treq_header(&r, "x-amz-date", "20130524T000000Z");
        treq_header(&r, "authorization", bad[i]);
        t = run_auth(pl, &r);
        is_int(t.rc, CAIRN_E_AUTH_HEADER_MALFORMED, "malformed header %zu -> AuthorizationHeaderMalformed", i);
        tres_free(&t);
    }

    /* Missing date; credential date differing from the request date. */
    treq_init(&r, "GET", "/test.txt", "");
    treq_header(&r, "host", EX_HOST);
    treq_header(&r, "authorization",
                "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host,Signature=" GET_OBJECT_SIG);
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_ACCESS_DENIED, "no date at all -> AccessDenied");
    tres_free(&t);
    treq_header(&r, "x-amz-date", "20130525T000000Z");
    r.now_ms = T20130524 + 86400000;
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_AUTH_HEADER_MALFORMED, "credential date != request date -> malformed");
    tres_free(&t);

    /* x-amz-content-sha256 that is neither a hash nor a known mode. */
    treq_init(&r, "PUT", "/x", "");
    treq_header(&r, "host", EX_HOST);
    treq_header(&r, "x-amz-date", "20130524T000000Z");
    treq_header(&r, "x-amz-content-sha256", "nonsense");
    treq_header(&r, "authorization",
                "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host,Signature=" GET_OBJECT_SIG);
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_INVALID_ARGUMENT, "bad x-amz-content-sha256 -> InvalidArgument");
    tres_free(&t);

    /* Header and presigned query together. */
    example_get_object(&r, GET_OBJECT_SIG);
    r.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256";
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_E_INVALID_ARGUMENT, "two auth mechanisms -> InvalidArgument");
    tres_free(&t);

    /* No credentials, another scheme, a POST form: declined. */
    treq_init(&r, "GET", "/bucket/key", "");
    treq_header(&r, "host", EX_HOST);
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_DECLINED, "anonymous request declined");
    tres_free(&t);
    treq_header(&r, "authorization", "Bearer abc");
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_DECLINED, "another Authorization scheme declined");
    tres_free(&t);
    treq_init(&r, "POST", "/bucket", "");
    treq_header(&r, "host", EX_HOST);
    treq_header(&r, "content-type", "multipart/form-data; boundary=xyz");
    t = run_auth(pl, &r);
    is_int(t.rc, CAIRN_DECLINED, "browser POST form declined");
    tres_free(&t);
}

int main(void)
{
    fake_iam_add(AK, SK, "example-user", 0);
    fake_iam_add("DISABLEDKEY", SK, "disabled-user", 1);
    void *pl = plugin_new(NULL);
    ok(pl != NULL, "plugin initialises");
    test_get_object(pl);
    test_put_object(pl);
    test_lifecycle_and_list(pl);
    test_presigned(pl);
    test_chunked_example(pl);
    test_rules(pl);
    cairn_plugin.fini(pl);
    return tap_done();
}
