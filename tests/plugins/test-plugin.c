/*
 * test-plugin.c -- one source, many test plugins for the loader's unit test.
 * Each module is built from it with one VARIANT_* macro:
 *   VARIANT_BACKEND, VARIANT_AUTH, VARIANT_POLICY  good plugins of each kind
 *   VARIANT_WRONG_MAJOR   ABI 2.0
 *   VARIANT_NEWER_MINOR   ABI 1.(core's minor + 1)
 *   VARIANT_NO_SYMBOL     exports something else than cairn_plugin
 *   VARIANT_SMALL_OPS     a backend whose operations table is too small
 *   VARIANT_NO_OPS        a backend without an operations table
 *   VARIANT_FAIL_INIT     a backend whose init fails
 * The good ones read "marker" from their configuration and append
 * "fini <tag>" to that file when fini runs, <tag> being their "tag" setting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/plugin.h>

struct state {
    char marker[512];
    char tag[64];
};

static int test_init(const struct cairn_services *svc, const struct cairn_config *cfg,
                     void **state_r)
{
#ifdef VARIANT_FAIL_INIT
    svc->log(NULL, CAIRN_LOG_ERROR, "test plugin: failing init on purpose");
    (void)cfg;
    (void)state_r;
    return CAIRN_E_IO;
#else
    struct state *st = calloc(1, sizeof(*st));
    if (!st)
        return CAIRN_E_NOMEM;
    snprintf(st->marker, sizeof(st->marker), "%s", svc->config_string(cfg, "marker", ""));
    snprintf(st->tag, sizeof(st->tag), "%s", svc->config_string(cfg, "tag", "?"));
    *state_r = st;
    return 0;
#endif
}

static void test_fini(void *state)
{
    struct state *st = state;
    if (!st)
        return;
    if (st->marker[0]) {
        FILE *f = fopen(st->marker, "a");
        if (f) {
            fprintf(f, "fini %s\n", st->tag);
            fclose(f);
        }
    }
    free(st);
}

static int test_authenticate(void *state, struct cairn_req *req,
                             const struct cairn_http_request *http, struct cairn_identity *id_r,
                             struct cairn_body_decoder **decoder_r, const char **detail_r)
{
    return CAIRN_DECLINED;
}

static int test_evaluate(void *state, struct cairn_req *req, const struct cairn_policy_query *q,
                         char *explain_r, size_t explain_cap)
{
    return CAIRN_NO_OPINION;
}

static const struct cairn_backend_ops backend_ops = {
#ifdef VARIANT_SMALL_OPS
    .size = sizeof(size_t) + sizeof(void *), /* a table from a broken build */
#else
    .size = sizeof(struct cairn_backend_ops),
#endif
};
static const struct cairn_auth_ops auth_ops = {
    .size = sizeof(struct cairn_auth_ops),
    .authenticate = test_authenticate,
};
static const struct cairn_policy_ops policy_ops = {
    .size = sizeof(struct cairn_policy_ops),
    .evaluate = test_evaluate,
};

#if defined(VARIANT_AUTH)
#define KIND CAIRN_PLUGIN_AUTH
#elif defined(VARIANT_POLICY)
#define KIND CAIRN_PLUGIN_POLICY
#else
#define KIND CAIRN_PLUGIN_BACKEND
#endif

#ifdef VARIANT_WRONG_MAJOR
#define MAJOR (CAIRN_ABI_MAJOR + 1)
#else
#define MAJOR CAIRN_ABI_MAJOR
#endif
#ifdef VARIANT_NEWER_MINOR
#define MINOR (CAIRN_ABI_MINOR + 1)
#else
#define MINOR CAIRN_ABI_MINOR
#endif

#ifdef VARIANT_NO_SYMBOL
#define SYMBOL not_cairn_plugin
#else
#define SYMBOL cairn_plugin
#endif

CAIRN_PLUGIN_EXPORT const struct cairn_plugin_descriptor SYMBOL = {
    .abi_major = MAJOR,
    .abi_minor = MINOR,
    .kind = KIND,
    .name = "test-plugin",
    .version = "0.0.1",
    .init = test_init,
    .fini = test_fini,
#if defined(VARIANT_AUTH)
    .auth = &auth_ops,
#elif defined(VARIANT_POLICY)
    .policy = &policy_ops,
#elif !defined(VARIANT_NO_OPS)
    .backend = &backend_ops,
#endif
};

/* Keep the unused tables referenced so every variant compiles warning-free. */
CAIRN_PLUGIN_EXPORT const void *test_plugin_tables[] = {&backend_ops, &auth_ops, &policy_ops};
