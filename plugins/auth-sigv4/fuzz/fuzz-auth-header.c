/*
 * fuzz-auth-header.c -- libFuzzer harness for the signature parsers: the
 * input's lines are the Authorization header, the raw query, the raw path, the
 * x-amz-date and x-amz-content-sha256 values; it runs the plugin's whole
 * authenticate (SigV4 header, presigned, SigV2) against a fake core, then the
 * Authorization parser alone.
 *
 * Built with clang -fsanitize=fuzzer,address by script/fuzz, and without
 * libFuzzer by `make check`, which replays the corpus in corpus-auth-header/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake-services.h"
#include "sigv4-canon.h"

extern const struct cairn_plugin_descriptor cairn_plugin;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void *plugin_state;

/* Copies line `i` (0-based, '\n'-separated) of the input, or NULL. */
static char *line_of(const uint8_t *data, size_t size, int i)
{
    size_t start = 0;
    for (int k = 0; k < i; k++) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        if (!nl)
            return NULL;
        start = (size_t)(nl - data) + 1;
    }
    const uint8_t *nl = memchr(data + start, '\n', size - start);
    size_t end = nl ? (size_t)(nl - data) : size;
    char *s = malloc(end - start + 1);
    if (!s)
        return NULL;
    memcpy(s, data + start, end - start);
    s[end - start] = '\0';
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!plugin_state) {
        fake_iam_add("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "u", 0);
        fake_iam_add("DISABLED", "x", "d", 1);
        static struct cairn_config cfg = {{"extra_regions"}, {"dummy"}, 1};
        if (cairn_plugin.init(fake_services(), &cfg, &plugin_state) < 0)
            abort();
    }
    char *authz = line_of(data, size, 0);
    char *query = line_of(data, size, 1);
    char *path = line_of(data, size, 2);
    char *date = line_of(data, size, 3);
    char *sha = line_of(data, size, 4);

    struct cairn_kv headers[8];
    size_t n = 0;
    headers[n++] = (struct cairn_kv){"host", "examplebucket.s3.amazonaws.com"};
    if (authz && *authz)
        headers[n++] = (struct cairn_kv){"authorization", authz};
    if (date && *date) {
        headers[n++] = (struct cairn_kv){"x-amz-date", date};
        headers[n++] = (struct cairn_kv){"date", date};
    }
    if (sha && *sha)
        headers[n++] = (struct cairn_kv){"x-amz-content-sha256", sha};
    headers[n++] = (struct cairn_kv){"range", "bytes=0-9"};
    struct cairn_http_request http = {
        .method = "GET",
        .raw_path = path ? path : "/test.txt",
        .raw_query = query ? query : "",
        .n_headers = n,
        .headers = headers,
        .host = "examplebucket.s3.amazonaws.com",
        .remote_addr = "127.0.0.1",
        .region = "us-east-1",
        .now_ms = 1369353600000,
    };
    struct cairn_req *req = fake_req_new();
    struct cairn_identity id;
    struct cairn_body_decoder *dec = NULL;
    const char *detail = NULL;
    int rc = cairn_plugin.auth->authenticate(plugin_state, req, &http, &id, &dec, &detail);
    if (rc == 0 && dec) {
        uint8_t out[16];
        size_t consumed, produced;
        dec->decode(dec->state, req, data, size, &consumed, out, sizeof(out), &produced);
        dec->decode(dec->state, req, NULL, 0, &consumed, out, sizeof(out), &produced);
    }
    if (dec)
        dec->destroy(dec->state);
    if (detail && strlen(detail) == 0)
        abort(); /* a detail, when set, is never empty */

    /* The Authorization parser on its own, on the whole input. */
    char *whole = malloc(size + 1);
    if (whole) {
        memcpy(whole, data, size);
        whole[size] = '\0';
        struct sigv4_ctx cx = {.sv = fake_services(), .req = req};
        struct sigv4_auth_header a;
        if (sigv4_parse_auth_header(&cx, whole, &a) == 0 &&
            (strlen(a.signature) != 64 || !a.cred.scope || !a.signed_headers))
            abort();
        free(whole);
    }
    fake_req_free(req);
    free(authz);
    free(query);
    free(path);
    free(date);
    free(sha);
    return 0;
}
