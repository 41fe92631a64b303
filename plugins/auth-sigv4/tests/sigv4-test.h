/*
 * sigv4-test.h -- helpers for the auth-sigv4 unit tests: build a request,
 * run the plugin's authenticate, feed a decoder, sign aws-chunked bodies.
 */
#ifndef SIGV4_TEST_H
#define SIGV4_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/plugin.h>

#include "fake-services.h"
#include "sigv4-canon.h"
#include "tap.h"

extern const struct cairn_plugin_descriptor cairn_plugin;

/* A TAP comment line. */
#define diag(...) (printf("# "), printf(__VA_ARGS__), printf("\n"))

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define T20130524 INT64_C(1369353600000)

/* A request under construction. */
struct treq {
    const char *method, *path, *query, *host, *region;
    int64_t now_ms;
    struct cairn_kv headers[32];
    size_t n_headers;
};

static inline void treq_init(struct treq *r, const char *method, const char *path,
                             const char *query)
{
    memset(r, 0, sizeof(*r));
    r->method = method;
    r->path = path;
    r->query = query ? query : "";
    r->region = "us-east-1";
    r->now_ms = T20130524;
}

static inline void treq_header(struct treq *r, const char *name, const char *value)
{
    r->headers[r->n_headers].name = name;
    r->headers[r->n_headers].value = value;
    r->n_headers++;
    if (strcmp(name, "host") == 0)
        r->host = value;
}

/* A plugin instance with up to 4 settings ("name", "value", ..., NULL). */
static inline void *plugin_new(const char *name, ...)
{
    static struct cairn_config cfg;
    va_list ap;
    memset(&cfg, 0, sizeof(cfg));
    va_start(ap, name);
    for (const char *n = name; n && cfg.n < 8; n = va_arg(ap, const char *)) {
        cfg.names[cfg.n] = n;
        cfg.values[cfg.n] = va_arg(ap, const char *);
        cfg.n++;
    }
    va_end(ap);
    void *state = NULL;
    if (cairn_plugin.init(fake_services(), &cfg, &state) < 0)
        return NULL;
    return state;
}

/* Result of one authenticate call; free with tres_free. */
struct tres {
    int rc;
    struct cairn_identity id;
    struct cairn_body_decoder *dec;
    const char *detail;
    struct cairn_req *req;
};

static inline struct tres run_auth(void *state, const struct treq *r)
{
    struct tres t;
    memset(&t, 0, sizeof(t));
    t.req = fake_req_new();
    struct cairn_http_request http = {
        .method = r->method,
        .raw_path = r->path,
        .raw_query = r->query,
        .n_headers = r->n_headers,
        .headers = r->headers,
        .host = r->host,
        .remote_addr = "127.0.0.1",
        .region = r->region,
        .now_ms = r->now_ms,
    };
    t.rc = cairn_plugin.auth->authenticate(state, t.req, &http, &t.id, &t.dec, &t.detail);
    return t;
}

static inline void tres_free(struct tres *t)
{
    if (t->dec)
        t->dec->destroy(t->dec->state);
    fake_req_free(t->req);
    memset(t, 0, sizeof(*t));
}

/*
 * Feeds `len` bytes to `dec` in pieces of `step` bytes with an output buffer of
 * `out_cap` bytes, then the end-of-body call.  Decoded bytes go to `out` (up to
 * out_max).  Returns 0 or the first error.
 */
static inline int decode_all(struct cairn_body_decoder *dec, struct cairn_req *req,
                             const void *body, size_t len, size_t step, size_t out_cap,
                             uint8_t *out, size_t out_max, size_t *out_len)
{
    const uint8_t *in = body;
    size_t pos = 0, o = 0;
    uint8_t *buf = malloc(out_cap ? out_cap : 1);
    int rc = 0;
    int stalls = 0;
    while (pos < len && rc == 0) {
        size_t n = len - pos < step ? len - pos : step;
        size_t consumed = 0, produced = 0;
        rc = dec->decode(dec->state, req, in + pos, n, &consumed, buf, out_cap, &produced);
        if (produced && out && o + produced <= out_max)
            memcpy(out + o, buf, produced);
        o += produced;
        pos += consumed;
        if (rc == 0 && consumed == 0 && produced == 0 && ++stalls > 3) {
            rc = -9999; /* no progress: a decoder bug */
            break;
        }
        if (consumed || produced)
            stalls = 0;
    }
    while (rc == 0) {
        size_t consumed = 0, produced = 0;
        rc = dec->decode(dec->state, req, NULL, 0, &consumed, buf, out_cap, &produced);
        if (produced && out && o + produced <= out_max)
            memcpy(out + o, buf, produced);
        o += produced;
        if (produced == 0)
            break;
    }
    free(buf);
    if (out_len)
        *out_len = o;
    return rc;
}

/* Appends to a malloc'd growing buffer. */
struct tbuf {
    char *d;
    size_t len, cap;
};

static inline void tbuf_add(struct tbuf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->d = realloc(b->d, b->cap);
    }
    memcpy(b->d + b->len, p, n);
    b->len += n;
    b->d[b->len] = '\0';
}

static inline void tbuf_adds(struct tbuf *b, const char *s)
{
    tbuf_add(b, s, strlen(s));
}

/* Hex HMAC-SHA256 with the fake services (test-side signer). */
static inline void t_hmac_hex(const uint8_t key[32], const char *s, char out[65])
{
    uint8_t mac[32];
    fake_services()->hmac_sha256(key, 32, s, strlen(s), mac);
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hx[mac[i] >> 4];
        out[2 * i + 1] = hx[mac[i] & 15];
    }
    out[64] = '\0';
}

static inline void t_sha_hex(const void *d, size_t n, char out[65])
{
    const struct cairn_services *sv = fake_services();
    struct cairn_hash *h = sv->hash_new(CAIRN_HASH_SHA256);
    uint8_t dg[64];
    sv->hash_update(h, d, n);
    sv->hash_final(h, dg);
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hx[dg[i] >> 4];
        out[2 * i + 1] = hx[dg[i] & 15];
    }
    out[64] = '\0';
}

/* The signing key of the AWS examples (20130524/us-east-1/s3). */
static inline void t_example_key(uint8_t key[32])
{
    sigv4_signing_key(fake_services(), SK, "20130524", "us-east-1", "s3", key);
}

/*
 * Test-side aws-chunked signer: appends `n_chunks` chunks of the given sizes
 * (data byte `fill`) and the final chunk, chaining from `seed`; with
 * `trailer` (a "name:value" line or NULL) adds it and, when signed, its
 * x-amz-trailer-signature.  `is_signed` 0 writes the unsigned framing.
 */
static inline void t_chunked_body(struct tbuf *b, int is_signed, const uint8_t key[32],
                                  const char *seed, const size_t *sizes, int n_chunks, char fill,
                                  const char *trailer)
{
    static const char scope[] = "20130524/us-east-1/s3/aws4_request";
    char prev[65], sig[65], h[65];
    strcpy(prev, seed ? seed : "");
    for (int i = 0; i <= n_chunks; i++) {
        size_t n = i < n_chunks ? sizes[i] : 0;
        char *data = malloc(n + 1);
        memset(data, fill, n);
        char line[200];
        if (is_signed) {
            t_sha_hex(data, n, h);
            char sts[600];
            snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n%s\n%s\n%s\n%s",
                     scope, prev, SIGV4_EMPTY_SHA256, h);
            t_hmac_hex(key, sts, sig);
            snprintf(line, sizeof(line), "%zx;chunk-signature=%s\r\n", n, sig);
            strcpy(prev, sig);
        } else {
            snprintf(line, sizeof(line), "%zx\r\n", n);
        }
        tbuf_adds(b, line);
        if (n) {
            tbuf_add(b, data, n);
            tbuf_adds(b, "\r\n");
        }
        free(data);
    }
    if (trailer) {
        tbuf_adds(b, trailer);
        tbuf_adds(b, "\r\n");
        if (is_signed) {
            char canon[300];
            snprintf(canon, sizeof(canon), "%s\n", trailer);
            t_sha_hex(canon, strlen(canon), h);
            char sts[600];
            snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256-TRAILER\n20130524T000000Z\n%s\n%s\n%s",
                     scope, prev, h);
            t_hmac_hex(key, sts, sig);
            tbuf_adds(b, "x-amz-trailer-signature:");
            tbuf_adds(b, sig);
            tbuf_adds(b, "\r\n");
        }
    }
    tbuf_adds(b, "\r\n");
}

/*
 * Test-side SigV4 signer (uses the plugin's canonicalisation, which the AWS
 * vectors pin down): adds an Authorization header for the example key to `r`,
 * signing `signed_headers`; the signature goes to sig_r[65].  `authz_buf`
 * (at least 512 bytes) holds the header value.
 */
static inline void t_sign_v4(struct treq *r, const char *signed_headers, const char *payload,
                             char *authz_buf, char sig_r[65])
{
    struct cairn_req *req = fake_req_new();
    struct sigv4_ctx cx = {.sv = fake_services(), .req = req};
    struct cairn_http_request http = {
        .method = r->method, .raw_path = r->path, .raw_query = r->query,
        .n_headers = r->n_headers, .headers = r->headers, .host = r->host,
    };
    struct sigv4_buf b;
    sigv4_buf_init(&b, &cx);
    sigv4_buf_adds(&b, r->method);
    sigv4_buf_addc(&b, '\n');
    sigv4_canonical_uri(&b, r->path);
    sigv4_buf_addc(&b, '\n');
    struct sigv4_param *ps;
    int n = sigv4_split_query(&cx, r->query, &ps);
    sigv4_canonical_query(&b, ps, n, "X-Amz-Signature");
    sigv4_buf_addc(&b, '\n');
    sigv4_canonical_headers(&b, &http, signed_headers);
    sigv4_buf_addc(&b, '\n');
    sigv4_buf_adds(&b, signed_headers);
    sigv4_buf_addc(&b, '\n');
    sigv4_buf_adds(&b, payload);
    char *sts = sigv4_string_to_sign(&cx, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
                                     b.data, b.len);
    uint8_t key[32];
    t_example_key(key);
    t_hmac_hex(key, sts, sig_r);
    snprintf(authz_buf, 512,
             "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request, "
             "SignedHeaders=%s, Signature=%s", signed_headers, sig_r);
    fake_req_free(req);
}

#endif
