/*
 * test-sigv4-chunked.c -- the aws-chunked decoder in its three modes and the
 * SHA-256 pass-through: byte-at-a-time input, signature chains, trailers
 * (signed, unsigned, missing), and every way the framing can be wrong.
 */
#include "sigv4-chunked.h"
#include "sigv4-test.h"

#define SEED "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"

static struct cairn_body_decoder *new_dec(enum sigv4_chunk_mode mode, int64_t decoded_length)
{
    struct sigv4_chunk_signing sg;
    t_example_key(sg.key);
    sg.amz_date = "20130524T000000Z";
    sg.scope = "20130524/us-east-1/s3/aws4_request";
    sg.seed_signature = SEED;
    return sigv4_chunked_decoder_new(fake_services(), mode, &sg, decoded_length);
}

/* Decodes `body` with a fresh decoder; returns the result code. */
static int run(enum sigv4_chunk_mode mode, int64_t dl, const char *body, size_t len, size_t step,
               size_t cap, struct cairn_req **req_r, size_t *n_r)
{
    struct cairn_body_decoder *d = new_dec(mode, dl);
    struct cairn_req *req = fake_req_new();
    size_t n = 0;
    int rc = decode_all(d, req, body, len, step, cap, NULL, 0, &n);
    d->destroy(d->state);
    if (req_r)
        *req_r = req;
    else
        fake_req_free(req);
    if (n_r)
        *n_r = n;
    return rc;
}

static void test_signed(void)
{
    uint8_t key[32];
    t_example_key(key);
    size_t sizes[] = {8192, 100, 1};
    struct tbuf b = {0};
    t_chunked_body(&b, 1, key, SEED, sizes, 3, 'x', NULL);
    size_t n = 0;
    is_int(run(SIGV4_CHUNKS_SIGNED, 8293, b.d, b.len, 1, 1, NULL, &n), 0,
           "signed chunks, 1 byte in / 1 byte out");
    is_int(n, 8293, "all data decoded");
    is_int(run(SIGV4_CHUNKS_SIGNED, -1, b.d, b.len, 3, 5000, NULL, NULL), 0,
           "unknown decoded length is fine");
    is_int(run(SIGV4_CHUNKS_SIGNED, 8292, b.d, b.len, 4096, 65536, NULL, NULL),
           CAIRN_E_INVALID_REQUEST, "chunk beyond x-amz-decoded-content-length refused");
    is_int(run(SIGV4_CHUNKS_SIGNED, 9000, b.d, b.len, 4096, 65536, NULL, NULL),
           CAIRN_E_INCOMPLETE_BODY, "fewer bytes than x-amz-decoded-content-length -> IncompleteBody");

    /* Every prefix is an incomplete body, except the one that only lacks the
     * empty line after the (verified) final chunk, which is accepted. */
    int bad = 0;
    for (size_t cut = 0; cut < b.len; cut += (cut < 200 || cut > b.len - 200) ? 1 : 97) {
        int rc = run(SIGV4_CHUNKS_SIGNED, 8293, b.d, cut, 50, 4096, NULL, NULL);
        if (rc != (cut == b.len - 2 ? 0 : CAIRN_E_INCOMPLETE_BODY)) {
            bad++;
            diag("cut at %zu of %zu: %d", cut, b.len, rc);
        }
    }
    is_int(bad, 0, "every truncation -> IncompleteBody");

    /* Chunks reordered (second and first swapped): chain breaks. */
    struct tbuf b2 = {0};
    size_t s2[] = {10, 10};
    t_chunked_body(&b2, 1, key, SEED, s2, 2, 'y', NULL);
    /* Swap the two 10-byte chunks' lines (same length each). */
    char *c1 = strstr(b2.d, "a;chunk-signature=");
    char *c2 = strstr(c1 + 1, "a;chunk-signature=");
    size_t seg = (size_t)(c2 - c1);
    char tmp[256];
    memcpy(tmp, c1, seg);
    memmove(c1, c2, seg);
    memcpy(c2, tmp, seg);
    is_int(run(SIGV4_CHUNKS_SIGNED, 20, b2.d, b2.len, 1, 64, NULL, NULL),
           CAIRN_E_SIGNATURE_MISMATCH, "reordered chunks -> SignatureDoesNotMatch");
    free(b2.d);

    /* A wrong seed: the very first chunk fails. */
    {
        struct tbuf b3 = {0};
        size_t s3[] = {5};
        t_chunked_body(&b3, 1, key, "00000000000000000000000000000000000000000000000000000000000000ff",
                       s3, 1, 'z', NULL);
        is_int(run(SIGV4_CHUNKS_SIGNED, 5, b3.d, b3.len, 1, 64, NULL, NULL),
               CAIRN_E_SIGNATURE_MISMATCH, "chain from another seed -> SignatureDoesNotMatch");
        free(b3.d);
    }

    /* A chunk without a signature in a signed stream. */
    static const char nosig[] = "5\r\nhello\r\n0\r\n\r\n";
    is_int(run(SIGV4_CHUNKS_SIGNED, 5, nosig, sizeof(nosig) - 1, 1, 64, NULL, NULL),
           CAIRN_E_SIGNATURE_MISMATCH, "unsigned chunk in a signed stream -> SignatureDoesNotMatch");
    /* Trailers are not allowed in the plain signed mode. */
    struct tbuf b4 = {0};
    size_t s4[] = {5};
    t_chunked_body(&b4, 1, key, SEED, s4, 1, 'q', NULL);
    b4.len -= 2; /* drop the final CRLF and add a trailer line */
    tbuf_adds(&b4, "x-amz-checksum-crc32:AAAAAA==\r\n\r\n");
    is_int(run(SIGV4_CHUNKS_SIGNED, 5, b4.d, b4.len, 1, 64, NULL, NULL), CAIRN_E_INVALID_REQUEST,
           "trailer in a stream that announced none -> refused");
    free(b4.d);
    free(b.d);
}

/* Flipping any single byte of a signed body must make it fail. */
static void test_flip_every_byte(void)
{
    uint8_t key[32];
    t_example_key(key);
    size_t sizes[] = {17, 3};
    struct tbuf b = {0};
    t_chunked_body(&b, 1, key, SEED, sizes, 2, 'm', NULL);
    is_int(run(SIGV4_CHUNKS_SIGNED, 20, b.d, b.len, 1, 64, NULL, NULL), 0, "small signed body ok");
    int accepted = 0;
    for (size_t i = 0; i < b.len; i++) {
        for (int mask = 1; mask <= 0x80; mask <<= 1) {
            b.d[i] ^= (char)mask;
            int rc = run(SIGV4_CHUNKS_SIGNED, 20, b.d, b.len, 7, 64, NULL, NULL);
            if (rc == 0) {
                accepted++;
                diag("accepted flip of byte %zu mask %x", i, mask);
            }
            b.d[i] ^= (char)mask;
        }
    }
    is_int(accepted, 0, "every single-bit flip of a signed aws-chunked body is rejected (%zu bytes x 8)", b.len);
    free(b.d);

    /* Same for the signed trailer. */
    struct tbuf t = {0};
    t_chunked_body(&t, 1, key, SEED, sizes, 2, 'm', "x-amz-checksum-crc32c:sOO8/Q==");
    is_int(run(SIGV4_CHUNKS_SIGNED_TRAILER, 20, t.d, t.len, 1, 64, NULL, NULL), 0,
           "signed body with signed trailer ok");
    accepted = 0;
    for (size_t i = 0; i < t.len; i++) {
        t.d[i] ^= 1;
        if (run(SIGV4_CHUNKS_SIGNED_TRAILER, 20, t.d, t.len, 5, 64, NULL, NULL) == 0) {
            accepted++;
            diag("accepted flip of byte %zu", i);
        }
        t.d[i] ^= 1;
    }
    is_int(accepted, 0, "every byte flip of a signed body + trailer is rejected");
    free(t.d);
}

static void test_framing(void)
{
    static const struct {
        const char *body;
        int want;
        const char *what;
    } cases[] = {
        {"zz\r\nhello\r\n0\r\n\r\n", CAIRN_E_INVALID_REQUEST, "bad hex size"},
        {"\r\n", CAIRN_E_INVALID_REQUEST, "empty size"},
        {"5 \r\nhello\r\n0\r\n\r\n", CAIRN_E_INVALID_REQUEST, "space after size"},
        {"-5\r\nhello\r\n0\r\n\r\n", CAIRN_E_INVALID_REQUEST, "negative size"},
        {"10000000000000000\r\n", CAIRN_E_INVALID_REQUEST, "17 hex digits"},
        {"ffffffffffffffff\r\n", CAIRN_E_INVALID_REQUEST, "size beyond 5 GiB"},
        {"5\r\nhelloX\r\n0\r\n\r\n", CAIRN_E_INVALID_REQUEST, "data longer than size"},
        {"5\r\nhell\r\n0\r\n\r\n", CAIRN_E_INVALID_REQUEST, "data shorter than size"},
        {"5\nhello\r\n0\r\n\r\n", CAIRN_E_INVALID_REQUEST, "bare LF after size"},
        {"5\r\nhello\r\n", CAIRN_E_INCOMPLETE_BODY, "missing final chunk"},
        {"5\r\nhello\r\n0", CAIRN_E_INCOMPLETE_BODY, "final chunk line cut"},
        {"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==", CAIRN_E_INCOMPLETE_BODY, "trailer line cut"},
        {"5\r\nhello\r\n0\r\nno-colon\r\n\r\n", CAIRN_E_INVALID_REQUEST, "trailer without ':'"},
        {"5\r\nhello\r\n0\r\n:v\r\n\r\n", CAIRN_E_INVALID_REQUEST, "trailer with empty name"},
        {"5\r\nhello\r\n0\r\n\r\nextra", CAIRN_E_INVALID_REQUEST, "bytes after the end"},
        {"", CAIRN_E_INCOMPLETE_BODY, "empty body"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t step = 1; step <= 64; step *= 8) {
            int rc = run(SIGV4_CHUNKS_UNSIGNED_TRAILER, -1, cases[i].body, strlen(cases[i].body),
                         step, 3, NULL, NULL);
            is_int(rc, cases[i].want, "%s (step %zu)", cases[i].what, step);
        }
    }
    /* A very long extension or trailer line is refused, not buffered. */
    struct tbuf b = {0};
    tbuf_adds(&b, "5;");
    for (int i = 0; i < 2000; i++)
        tbuf_adds(&b, "x");
    is_int(run(SIGV4_CHUNKS_UNSIGNED_TRAILER, -1, b.d, b.len, 100, 64, NULL, NULL),
           CAIRN_E_INVALID_REQUEST, "over-long chunk extension refused");
    free(b.d);
}

static void test_unsigned_trailer(void)
{
    static const char with[] = "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    struct cairn_req *req;
    size_t n;
    is_int(run(SIGV4_CHUNKS_UNSIGNED_TRAILER, 11, with, sizeof(with) - 1, 1, 1, &req, &n), 0,
           "unsigned chunks with a checksum trailer");
    is_int(n, 11, "11 bytes decoded");
    is_str(fake_req_trailer(req, "x-amz-checksum-crc32"), "DUoRhQ==", "trailer reported to the core");
    fake_req_free(req);

    static const char without[] = "5\r\nhello\r\n0\r\n\r\n";
    is_int(run(SIGV4_CHUNKS_UNSIGNED_TRAILER, 5, without, sizeof(without) - 1, 1, 8, NULL, NULL),
           0, "missing trailer still works");
    static const char bare[] = "5\r\nhello\r\n0\r\n";
    is_int(run(SIGV4_CHUNKS_UNSIGNED_TRAILER, 5, bare, sizeof(bare) - 1, 2, 8, NULL, NULL), 0,
           "stream ending right after the final chunk works");
    static const char upper[] = "3\r\nabc\r\n0\r\nX-Amz-Checksum-CRC32C:  abc= \r\n\r\n";
    is_int(run(SIGV4_CHUNKS_UNSIGNED_TRAILER, 3, upper, sizeof(upper) - 1, 1, 8, &req, NULL), 0,
           "trailer with upper-case name and padded value");
    is_str(fake_req_trailer(req, "x-amz-checksum-crc32c"), "abc=", "name lower-cased, value trimmed");
    fake_req_free(req);
    static const char spaced[] = "3\r\nabc\r\n0\r\nx-amz-checksum-crc32c :abc=\r\n\r\n";
    is_int(run(SIGV4_CHUNKS_UNSIGNED_TRAILER, 3, spaced, sizeof(spaced) - 1, 1, 8, NULL, NULL),
           CAIRN_E_INVALID_REQUEST, "whitespace before ':' refused");
    static const char ext[] = "3;foo=bar\r\nabc\r\n0\r\n\r\n";
    is_int(run(SIGV4_CHUNKS_UNSIGNED_TRAILER, 3, ext, sizeof(ext) - 1, 1, 8, NULL, NULL), 0,
           "unknown chunk extensions ignored in unsigned streams");
}

static void test_signed_trailer(void)
{
    uint8_t key[32];
    t_example_key(key);
    size_t sizes[] = {1024};
    struct tbuf b = {0};
    t_chunked_body(&b, 1, key, SEED, sizes, 1, 'a', "x-amz-checksum-crc32c:sOO8/Q==");
    struct cairn_req *req;
    is_int(run(SIGV4_CHUNKS_SIGNED_TRAILER, 1024, b.d, b.len, 1, 100, &req, NULL), 0,
           "signed chunks + signed trailer verify");
    is_str(fake_req_trailer(req, "x-amz-checksum-crc32c"), "sOO8/Q==", "signed trailer reported");
    fake_req_free(req);

    /* Bad trailer signature: flip a digit of it. */
    char *ts = strstr(b.d, "x-amz-trailer-signature:") + 24;
    ts[10] = ts[10] == '0' ? '1' : '0';
    is_int(run(SIGV4_CHUNKS_SIGNED_TRAILER, 1024, b.d, b.len, 3, 100, NULL, NULL),
           CAIRN_E_SIGNATURE_MISMATCH, "bad trailer signature -> SignatureDoesNotMatch");
    free(b.d);

    /* Trailer changed after signing. */
    struct tbuf c = {0};
    t_chunked_body(&c, 1, key, SEED, sizes, 1, 'a', "x-amz-checksum-crc32c:sOO8/Q==");
    char *v = strstr(c.d, "sOO8");
    v[0] = 'X';
    is_int(run(SIGV4_CHUNKS_SIGNED_TRAILER, 1024, c.d, c.len, 3, 100, NULL, NULL),
           CAIRN_E_SIGNATURE_MISMATCH, "tampered trailer value -> SignatureDoesNotMatch");
    free(c.d);

    /* Trailer without its signature. */
    struct tbuf d = {0};
    t_chunked_body(&d, 1, key, SEED, sizes, 1, 'a', NULL);
    d.len -= 2;
    tbuf_adds(&d, "x-amz-checksum-crc32c:sOO8/Q==\r\n\r\n");
    is_int(run(SIGV4_CHUNKS_SIGNED_TRAILER, 1024, d.d, d.len, 3, 100, NULL, NULL),
           CAIRN_E_SIGNATURE_MISMATCH, "unsigned trailer in a signed-trailer stream -> refused");
    free(d.d);

    /* No trailer at all in signed-trailer mode: nothing to protect. */
    struct tbuf e = {0};
    t_chunked_body(&e, 1, key, SEED, sizes, 1, 'a', NULL);
    is_int(run(SIGV4_CHUNKS_SIGNED_TRAILER, 1024, e.d, e.len, 3, 100, NULL, NULL), 0,
           "signed-trailer stream without trailers accepted");
    free(e.d);
}

static void test_sha256_decoder(void)
{
    char hex[65];
    t_sha_hex("hello world", 11, hex);
    struct cairn_body_decoder *d = sigv4_sha256_decoder_new(fake_services(), hex, 11);
    struct cairn_req *req = fake_req_new();
    uint8_t out[16];
    size_t n;
    is_int(decode_all(d, req, "hello world", 11, 1, 1, out, sizeof(out), &n), 0,
           "SHA-256 pass-through accepts the right body");
    ok(n == 11 && memcmp(out, "hello world", 11) == 0, "bytes unchanged");
    d->destroy(d->state);
    d = sigv4_sha256_decoder_new(fake_services(), hex, 11);
    is_int(decode_all(d, req, "hello worle", 11, 4, 16, NULL, 0, NULL), CAIRN_E_SHA256_MISMATCH,
           "wrong body -> XAmzContentSHA256Mismatch");
    d->destroy(d->state);
    d = sigv4_sha256_decoder_new(fake_services(), hex, 11);
    is_int(decode_all(d, req, "hello", 5, 4, 16, NULL, 0, NULL), CAIRN_E_SHA256_MISMATCH,
           "short body -> XAmzContentSHA256Mismatch");
    d->destroy(d->state);
    /* Destroy before the end (client went away) must not leak. */
    d = sigv4_sha256_decoder_new(fake_services(), hex, 11);
    size_t c, p;
    d->decode(d->state, req, (const uint8_t *)"hel", 3, &c, out, sizeof(out), &p);
    d->destroy(d->state);
    ok(1, "destroy mid-body");
    ok(sigv4_sha256_decoder_new(fake_services(), "xyz", 0) == NULL, "bad expected hash refused");
    fake_req_free(req);
}

/* End to end through authenticate: each streaming mode of x-amz-content-sha256. */
static void test_modes_via_authenticate(void *pl)
{
    static const char *modes[] = {"STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                                  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                                  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "UNSIGNED-PAYLOAD"};
    uint8_t key[32];
    t_example_key(key);
    for (int m = 0; m < 4; m++) {
        struct treq r;
        char authz[512], sig[65];
        treq_init(&r, "PUT", "/bucket/key", "x-id=PutObject");
        treq_header(&r, "host", "127.0.0.1:19600");
        treq_header(&r, "x-amz-date", "20130524T000000Z");
        treq_header(&r, "x-amz-content-sha256", modes[m]);
        treq_header(&r, "content-encoding", "aws-chunked");
        treq_header(&r, "x-amz-decoded-content-length", "300");
        treq_header(&r, "x-amz-trailer", "x-amz-checksum-crc32");
        t_sign_v4(&r, "content-encoding;host;x-amz-content-sha256;x-amz-date;"
                      "x-amz-decoded-content-length;x-amz-trailer",
                  modes[m], authz, sig);
        treq_header(&r, "authorization", authz);
        struct tres t = run_auth(pl, &r);
        is_int(t.rc, 0, "%s: request signature verifies", modes[m]);
        is_str(t.id.content_sha256, modes[m], "content_sha256 recorded");
        if (m == 3) {
            ok(t.dec == NULL, "UNSIGNED-PAYLOAD: no decoder");
            tres_free(&t);
            continue;
        }
        ok(t.dec != NULL, "decoder installed");
        size_t sizes[] = {200, 100};
        struct tbuf b = {0};
        t_chunked_body(&b, m != 0, key, sig, sizes, 2, 'k', m != 1 ? "x-amz-checksum-crc32:AAAAAA==" : NULL);
        size_t n = 0;
        if (t.dec) {
            is_int(decode_all(t.dec, t.req, b.d, b.len, 1, 7, NULL, 0, &n), 0, "body decodes and verifies");
            is_int(n, 300, "300 decoded bytes");
        }
        tres_free(&t);
        free(b.d);
    }
}

/* The body botocore's AwsChunkedWrapper produced (see gen-botocore-vectors.py). */
static void test_botocore_body(void)
{
    FILE *f = fopen(BOTOCORE_BODY, "rb");
    ok(f != NULL, "botocore body file");
    if (!f)
        return;
    static char body[20000];
    size_t len = fread(body, 1, sizeof(body), f);
    fclose(f);
    struct cairn_body_decoder *d = sigv4_chunked_decoder_new(fake_services(),
                                                             SIGV4_CHUNKS_UNSIGNED_TRAILER, NULL, 12000);
    struct cairn_req *req = fake_req_new();
    static uint8_t out[13000];
    size_t n = 0;
    is_int(decode_all(d, req, body, len, 1, 1000, out, sizeof(out), &n), 0,
           "botocore's unsigned-trailer body decodes (1 byte at a time)");
    is_int(n, 12000, "12000 decoded bytes");
    ok(n == 12000 && memcmp(out, "hello world hello", 17) == 0 &&
           memcmp(out + 11988, "hello world ", 12) == 0, "decoded content");
    is_str(fake_req_trailer(req, "x-amz-checksum-crc32"), "vwx6Eg==", "botocore's CRC32 trailer reported");
    d->destroy(d->state);
    fake_req_free(req);
}

int main(void)
{
    fake_iam_add(AK, SK, "example-user", 0);
    void *pl = plugin_new(NULL);
    test_signed();
    test_flip_every_byte();
    test_framing();
    test_unsigned_trailer();
    test_signed_trailer();
    test_sha256_decoder();
    test_modes_via_authenticate(pl);
    test_botocore_body();
    cairn_plugin.fini(pl);
    return tap_done();
}
