/*
 * test-sigv4-plugin.c -- the built module as the core loads it: dlopen the
 * .so, find `cairn_plugin`, check the descriptor, run init/authenticate/fini
 * through it with the fake core.
 */
#include <dlfcn.h>

#include "sigv4-test.h"

int main(void)
{
    fake_iam_add(AK, SK, "example-user", 0);
    void *h = dlopen(PLUGIN_SO, RTLD_NOW | RTLD_LOCAL);
    ok(h != NULL, "module loads: %s", h ? PLUGIN_SO : dlerror());
    if (!h)
        return tap_done();
    const struct cairn_plugin_descriptor *d = dlsym(h, CAIRN_PLUGIN_SYMBOL);
    ok(d != NULL, "exports cairn_plugin");
    ok(dlsym(h, "sigv4_parse_auth_header") == NULL, "internal functions are not exported");
    ok(dlsym(h, "sigv4_auth_header") == NULL, "scheme entry points are not exported");
    if (!d) {
        dlclose(h);
        return tap_done();
    }
    is_int(d->abi_major, CAIRN_ABI_MAJOR, "ABI major");
    ok(d->abi_minor <= CAIRN_ABI_MINOR, "ABI minor not newer");
    is_int(d->kind, CAIRN_PLUGIN_AUTH, "kind auth");
    is_str(d->name, "auth-sigv4", "name");
    ok(d->auth && d->auth->size >= sizeof(struct cairn_auth_ops) && d->auth->authenticate,
       "auth ops table");
    ok(!d->backend && !d->policy, "no other tables");

    /* A services table that is too small is refused. */
    struct cairn_services small = *fake_services();
    small.size = offsetof(struct cairn_services, iam_lookup);
    void *state = NULL;
    ok(d->init(&small, NULL, &state) < 0, "init refuses a services table without iam_lookup");

    struct cairn_config cfg = {{"sigv2", "extra_regions"}, {"0", "dummy"}, 2};
    is_int(d->init(fake_services(), &cfg, &state), 0, "init");
    struct treq r;
    treq_init(&r, "GET", "/test.txt", "");
    treq_header(&r, "host", "examplebucket.s3.amazonaws.com");
    treq_header(&r, "range", "bytes=0-9");
    treq_header(&r, "x-amz-content-sha256", SIGV4_EMPTY_SHA256);
    treq_header(&r, "x-amz-date", "20130524T000000Z");
    treq_header(&r, "authorization",
                "AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/aws4_request,"
                "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    struct cairn_req *req = fake_req_new();
    struct cairn_http_request http = {
        .method = r.method, .raw_path = r.path, .raw_query = r.query,
        .n_headers = r.n_headers, .headers = r.headers, .host = r.host,
        .region = "us-east-1", .now_ms = r.now_ms,
    };
    struct cairn_identity id;
    struct cairn_body_decoder *dec = NULL;
    const char *detail = NULL;
    is_int(d->auth->authenticate(state, req, &http, &id, &dec, &detail), 0,
           "the module verifies AWS's GET object example");
    is_str(id.user, "example-user", "identity from the module");
    if (dec)
        dec->destroy(dec->state);
    fake_req_free(req);
    d->fini(state);
    dlclose(h);
    return tap_done();
}
