/*
 * test-s3-body.c -- the request body pipeline: MD5/ETag, Content-MD5,
 * x-amz-checksum-* as header or trailer, length checks, a body decoder,
 * driven by a fake raw source (no HTTP layer).
 */
#include <stdlib.h>
#include <string.h>

#include "s3-internal.h"
#include "services.h"
#include "tap.h"

#define FOX "The quick brown fox jumps over the lazy dog"
#define FOX_MD5_HEX "9e107d9d372bb6826bd81d3542a419d6"
#define FOX_MD5_B64 "nhB9nTcrtoJr2B01QqQZ1g=="
#define FOX_CRC32_B64 "QU+jOQ=="
#define FOX_SHA256_B64 "16j7swfXgJRpypq8sAguT41WUeRtPNt2LQLQvzfJ5ZI="

/* A raw source that hands out `data` at most `step` bytes at a time. */
struct fake_src {
    const char *data;
    size_t len, off, step;
    int fail_at_end; /* return this error instead of 0 at the end */
};

static ssize_t fake_read(void *ctx, void *buf, size_t len)
{
    struct fake_src *s = ctx;
    if (s->off == s->len)
        return s->fail_at_end ? s->fail_at_end : 0;
    size_t n = s->len - s->off;
    if (n > len)
        n = len;
    if (n > s->step)
        n = s->step;
    memcpy(buf, s->data + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

struct harness {
    struct arena *arena;
    struct http_request_head head;
    struct s3_call call;
    struct s3_call_ext ext;
    struct fake_src src;
    struct cairn_kv headers[8];
    struct cairn_object_info final;
};

static void setup(struct harness *h, const char *body, size_t step, int64_t content_length,
                  const struct cairn_kv *headers, size_t n_headers)
{
    memset(h, 0, sizeof(*h));
    h->arena = arena_new();
    h->head.method = "PUT";
    h->head.raw_path = "/bkt/key";
    h->head.raw_query = "";
    h->head.content_length = content_length;
    if (n_headers)
        memcpy(h->headers, headers, n_headers * sizeof(*headers));
    h->head.headers = h->headers;
    h->head.n_headers = n_headers;
    h->head.request_id = "0000000000000001";
    h->call.services = core_services();
    h->call.head = &h->head;
    h->call.bucket = "bkt";
    h->call.key = "key";
    h->call.req.request_id = h->head.request_id;
    h->call.req.arena = h->arena;
    h->call.req.set_trailer = s3_req_set_trailer;
    h->call.req.owner = &h->ext;
    h->ext.call = &h->call;
    h->src = (struct fake_src){.data = body, .len = strlen(body), .step = step};
    h->ext.raw_read = fake_read;
    h->ext.raw_ctx = &h->src;
}

/* Reads the whole body like a backend; returns the final read result. */
static ssize_t drain(struct harness *h, size_t bufsize, size_t *total_r)
{
    char buf[64];
    size_t total = 0;
    if (bufsize > sizeof(buf))
        bufsize = sizeof(buf);
    for (;;) {
        ssize_t n = h->call.req.read(&h->call.req, buf, bufsize);
        if (n <= 0) {
            *total_r = total;
            return n;
        }
        total += (size_t)n;
    }
}

static void teardown(struct harness *h)
{
    s3_body_end(&h->call);
    arena_free(h->arena);
}

static const char *final_attr(const struct cairn_object_info *f, const char *name)
{
    for (size_t i = 0; i < f->n_attrs; i++)
        if (strcmp(f->attrs[i].name, name) == 0)
            return f->attrs[i].value;
    return NULL;
}

static void test_plain(void)
{
    struct harness h;
    setup(&h, FOX, 5, 43, NULL, 0);
    is_int(s3_body_begin_put(&h.call, &h.final), 0, "plain: begin");
    size_t total;
    is_int(drain(&h, 7, &total), 0, "plain: EOF after every check");
    is_int(total, 43, "plain: all bytes");
    is_int(h.final.size, 43, "plain: final size");
    is_str(h.final.etag, FOX_MD5_HEX, "plain: etag is hex MD5");
    is_int(h.final.n_attrs, 0, "plain: no checksum attrs");
    is_int(h.call.req.read(&h.call.req, (char[4]){0}, 4), 0, "plain: EOF again after EOF");
    teardown(&h);
}

static void test_content_md5(void)
{
    struct harness h;
    size_t total;
    struct cairn_kv good[] = {{"content-md5", FOX_MD5_B64}};
    setup(&h, FOX, 64, 43, good, 1);
    is_int(s3_body_begin_put(&h.call, &h.final), 0, "md5: begin");
    is_int(drain(&h, 64, &total), 0, "md5: matching Content-MD5 passes");
    teardown(&h);

    struct cairn_kv bad[] = {{"content-md5", "AAAAAAAAAAAAAAAAAAAAAA=="}};
    setup(&h, FOX, 64, 43, bad, 1);
    is_int(s3_body_begin_put(&h.call, &h.final), 0, "md5 mismatch: begin");
    is_int(drain(&h, 64, &total), CAIRN_E_BAD_DIGEST, "md5 mismatch: BadDigest at the end");
    is_int(total, 43, "md5 mismatch: bytes were delivered before the verdict");
    is_int(h.call.req.read(&h.call.req, (char[4]){0}, 4), CAIRN_E_BAD_DIGEST,
           "md5 mismatch: the error is sticky");
    ok(h.final.etag[0] == '\0', "md5 mismatch: final not filled");
    teardown(&h);

    struct cairn_kv malformed[] = {{"content-md5", "not base64!"}};
    setup(&h, FOX, 64, 43, malformed, 1);
    is_int(s3_body_begin_put(&h.call, &h.final), CAIRN_E_INVALID_DIGEST,
           "malformed Content-MD5 -> InvalidDigest");
    teardown(&h);

    struct cairn_kv short_md5[] = {{"content-md5", "AAAA"}};
    setup(&h, FOX, 64, 43, short_md5, 1);
    is_int(s3_body_begin_put(&h.call, &h.final), CAIRN_E_INVALID_DIGEST,
           "Content-MD5 of the wrong size -> InvalidDigest");
    teardown(&h);
}

static void test_checksum_header(void)
{
    struct harness h;
    size_t total;
    struct cairn_kv crc[] = {{"x-amz-checksum-crc32", FOX_CRC32_B64}};
    setup(&h, FOX, 3, 43, crc, 1);
    is_int(s3_body_begin_put(&h.call, &h.final), 0, "crc32 header: begin");
    is_int(drain(&h, 10, &total), 0, "crc32 header: verified");
    is_str(final_attr(&h.final, "x-amz-checksum-crc32"), FOX_CRC32_B64,
           "crc32 header: stored in final attrs");
    teardown(&h);

    struct cairn_kv bad[] = {{"x-amz-checksum-sha256", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}};
    setup(&h, FOX, 64, 43, bad, 1);
    is_int(s3_body_begin_put(&h.call, &h.final), 0, "sha256 mismatch: begin");
    is_int(drain(&h, 64, &total), CAIRN_E_BAD_DIGEST, "sha256 mismatch -> BadDigest");
    teardown(&h);

    struct cairn_kv sha[] = {{"x-amz-checksum-sha256", FOX_SHA256_B64},
                             {"content-md5", FOX_MD5_B64}};
    setup(&h, FOX, 64, 43, sha, 2);
    is_int(s3_body_begin_put(&h.call, &h.final), 0, "sha256 + md5: begin");
    is_int(drain(&h, 64, &total), 0, "sha256 + md5: both verified");
    is_str(final_attr(&h.final, "x-amz-checksum-sha256"), FOX_SHA256_B64, "sha256 stored");
    teardown(&h);

    struct cairn_kv garbage[] = {{"x-amz-checksum-crc32", "%%%"}};
    setup(&h, FOX, 64, 43, garbage, 1);
    ok(s3_body_begin_put(&h.call, &h.final) < 0, "undecodable checksum header is refused");
    teardown(&h);

    struct cairn_kv sdk[] = {{"x-amz-sdk-checksum-algorithm", "CRC32"}};
    setup(&h, FOX, 64, 43, sdk, 1);
    is_int(s3_body_begin_put(&h.call, &h.final), 0, "sdk algorithm without value: begin");
    is_int(drain(&h, 64, &total), 0, "sdk algorithm without value: passes");
    is_str(final_attr(&h.final, "x-amz-checksum-crc32"), FOX_CRC32_B64,
           "sdk algorithm: checksum computed and stored");
    teardown(&h);
}

static void test_length(void)
{
    struct harness h;
    size_t total;
    setup(&h, FOX, 64, 50, NULL, 0);
    is_int(s3_body_begin_put(&h.call, &h.final), 0, "short body: begin");
    is_int(drain(&h, 64, &total), CAIRN_E_INCOMPLETE_BODY, "short body -> IncompleteBody");
    teardown(&h);

    struct cairn_kv dl[] = {{"x-amz-decoded-content-length", "43"}};
    setup(&h, FOX, 64, -1, dl, 1);
    is_int(s3_body_begin_put(&h.call, &h.final), 0, "decoded length: begin");
    is_int(drain(&h, 64, &total), 0, "decoded length matches");
    teardown(&h);

    struct cairn_kv baddl[] = {{"x-amz-decoded-content-length", "4x"}};
    setup(&h, FOX, 64, -1, baddl, 1);
    is_int(s3_body_begin_put(&h.call, &h.final), CAIRN_E_INVALID_ARGUMENT,
           "malformed decoded length refused");
    teardown(&h);

    setup(&h, FOX, 64, -1, NULL, 0);
    h.src.fail_at_end = CAIRN_E_CLIENT_GONE;
    is_int(s3_body_begin_put(&h.call, &h.final), 0, "client gone: begin");
    is_int(drain(&h, 64, &total), CAIRN_E_CLIENT_GONE, "source error is passed on");
    teardown(&h);
}

/*
 * A toy decoder: input is "<data>|<trailer value>"; it passes data through
 * at most 4 bytes per call, needs at least 2 bytes of input unless at the
 * end, and at the end reports the trailer x-amz-checksum-crc32.
 */
struct toy {
    int seen_bar;
    char trailer[64];
    size_t tlen;
};

static int toy_decode(void *state, struct cairn_req *req, const uint8_t *in, size_t in_len,
                      size_t *consumed_r, uint8_t *out, size_t out_cap, size_t *produced_r)
{
    struct toy *t = state;
    *consumed_r = *produced_r = 0;
    if (in_len == 0) {
        if (t->tlen) {
            t->trailer[t->tlen] = '\0';
            req->set_trailer(req, "X-Amz-Checksum-Crc32", t->trailer);
            t->tlen = 0;
        }
        return t->seen_bar ? 0 : CAIRN_E_INCOMPLETE_BODY;
    }
    if (in_len < 2 && !t->seen_bar)
        return 0; /* wants more */
    size_t i = 0, o = 0;
    while (i < in_len && o < out_cap && o < 4) {
        if (t->seen_bar) {
            if (t->tlen + 1 < sizeof(t->trailer))
                t->trailer[t->tlen++] = (char)in[i];
        } else if (in[i] == '|') {
            t->seen_bar = 1;
        } else {
            out[o++] = in[i];
        }
        i++;
    }
    *consumed_r = i;
    *produced_r = o;
    return 0;
}

static void toy_destroy(void *state)
{
    (void)state;
}

static void test_decoder_trailer(void)
{
    struct harness h;
    size_t total;
    struct toy toy;
    struct cairn_body_decoder dec = {sizeof(dec), &toy, 43, toy_decode, toy_destroy};

    struct cairn_kv tr[] = {{"x-amz-trailer", "x-amz-checksum-crc32"}};
    memset(&toy, 0, sizeof(toy));
    setup(&h, FOX "|" FOX_CRC32_B64, 1, 52, tr, 1);
    h.call.decoder = &dec;
    is_int(s3_body_begin_put(&h.call, &h.final), 0, "decoder+trailer: begin");
    is_int(drain(&h, 5, &total), 0, "decoder+trailer: verified");
    is_int(total, 43, "decoder+trailer: only decoded bytes");
    is_str(h.final.etag, FOX_MD5_HEX, "decoder+trailer: etag of decoded bytes");
    is_str(s3_trailer(&h.call, "x-amz-checksum-crc32"), FOX_CRC32_B64, "trailer recorded");
    is_str(final_attr(&h.final, "x-amz-checksum-crc32"), FOX_CRC32_B64, "trailer checksum stored");
    teardown(&h);

    memset(&toy, 0, sizeof(toy));
    setup(&h, FOX "|AAAAAA==", 7, 52, tr, 1);
    h.call.decoder = &dec;
    is_int(s3_body_begin_put(&h.call, &h.final), 0, "bad trailer: begin");
    is_int(drain(&h, 64, &total), CAIRN_E_BAD_DIGEST, "bad trailer -> BadDigest");
    teardown(&h);

    memset(&toy, 0, sizeof(toy));
    setup(&h, FOX "|", 64, 44, tr, 1);
    h.call.decoder = &dec;
    is_int(s3_body_begin_put(&h.call, &h.final), 0, "missing trailer: begin");
    is_int(drain(&h, 64, &total), 0, "missing trailer is allowed");
    is_str(final_attr(&h.final, "x-amz-checksum-crc32"), FOX_CRC32_B64,
           "missing trailer: checksum still computed");
    teardown(&h);

    memset(&toy, 0, sizeof(toy));
    setup(&h, FOX, 64, 43, tr, 1);
    h.call.decoder = &dec;
    is_int(s3_body_begin_put(&h.call, &h.final), 0, "truncated stream: begin");
    ok(drain(&h, 64, &total) < 0, "decoder error at the end is returned");
    teardown(&h);

    memset(&toy, 0, sizeof(toy));
    dec.decoded_length = 40;
    setup(&h, FOX "|", 64, 44, NULL, 0);
    h.call.decoder = &dec;
    is_int(s3_body_begin_put(&h.call, &h.final), 0, "decoded length mismatch: begin");
    is_int(drain(&h, 64, &total), CAIRN_E_INCOMPLETE_BODY, "decoded length mismatch");
    teardown(&h);
}

static void test_small_body(void)
{
    struct harness h;
    char *data;
    size_t len;
    setup(&h, FOX, 4, 43, NULL, 0);
    is_int(s3_read_small_body(&h.call, 100, &data, &len), 0, "small body read");
    is_int(len, 43, "small body length");
    is_str(data, FOX, "small body content, NUL-terminated");
    teardown(&h);

    setup(&h, FOX, 4, -1, NULL, 0);
    is_int(s3_read_small_body(&h.call, 10, &data, &len), CAIRN_E_ENTITY_TOO_LARGE,
           "oversized small body refused");
    teardown(&h);

    setup(&h, FOX, 64, 43, NULL, 0);
    is_int(s3_read_small_body(&h.call, 43, &data, &len), 0, "body of exactly max bytes");
    teardown(&h);

    setup(&h, "", 4, 0, NULL, 0);
    is_int(s3_read_small_body(&h.call, 10, &data, &len), 0, "empty small body");
    is_int(len, 0, "empty length");
    teardown(&h);
}

static void test_encoders(void)
{
    struct arena *a = arena_new();
    struct s3_call call;
    memset(&call, 0, sizeof(call));
    call.req.arena = a;
    is_str(s3_base64(&call, (const uint8_t *)"f", 1), "Zg==", "base64 f");
    is_str(s3_base64(&call, (const uint8_t *)"fo", 2), "Zm8=", "base64 fo");
    is_str(s3_base64(&call, (const uint8_t *)"foo", 3), "Zm9v", "base64 foo");
    uint8_t out[8];
    is_int(s3_base64_decode("Zm9vYg==", out, sizeof(out)), 4, "decode foob");
    ok(memcmp(out, "foob", 4) == 0, "decoded bytes");
    is_int(s3_base64_decode("Zm9", out, sizeof(out)), -1, "bad length");
    is_int(s3_base64_decode("Zg=a", out, sizeof(out)), -1, "data after padding");
    is_int(s3_base64_decode("Zm9vYmFyYmF6", out, 4), -1, "over capacity");
    char hex[9];
    s3_hex((const uint8_t *)"\x01\xab\xff\x00", 4, hex);
    is_str(hex, "01abff00", "hex");
    is_int(s3_checksum_algo("CRC32C"), CAIRN_HASH_CRC32C, "algo by name, any case");
    is_int(s3_checksum_algo("md5"), 0, "md5 is not an x-amz-checksum");
    arena_free(a);
}

int main(void)
{
    test_plain();
    test_content_md5();
    test_checksum_header();
    test_length();
    test_decoder_trailer();
    test_small_body();
    test_encoders();
    return tap_done();
}
