/*
 * sigv4-plugin.c -- the auth-sigv4 plugin: descriptor, configuration and the
 * dispatch between its schemes.
 *
 * Recognised: "Authorization: AWS4-HMAC-SHA256 ..." (SigV4 header),
 * "Authorization: AWS AK:sig" (SigV2 header), X-Amz-Algorithm in the query
 * (SigV4 presigned), AWSAccessKeyId+Signature in the query (SigV2 presigned).
 * Everything else declines: no credentials (anonymous), another scheme, and
 * browser POST uploads, whose policy signature lives in the multipart body:
 * the core reads the form and calls authenticate_form (sigv4-form.c).
 */
#include <stdlib.h>
#include <string.h>

#include "sigv4-internal.h"

const char *sigv4_server_region(const struct cairn_http_request *http)
{
    return http->region && *http->region ? http->region : "us-east-1";
}

int sigv4_region_ok(const struct sigv4_plugin *pl, const struct cairn_http_request *http,
                    const char *region)
{
    if (strcmp(region, sigv4_server_region(http)) == 0)
        return 1;
    for (size_t i = 0; i < pl->n_extra_regions; i++)
        if (strcmp(region, pl->extra_regions[i]) == 0)
            return 1;
    return 0;
}

static int sigv4_authenticate(void *state, struct cairn_req *req,
                              const struct cairn_http_request *http, struct cairn_identity *id_r,
                              struct cairn_body_decoder **decoder_r, const char **detail_r)
{
    const struct sigv4_plugin *pl = state;
    struct sigv4_ctx cx = {.sv = pl->sv, .req = req};
    struct cairn_identity id;
    memset(&id, 0, sizeof(id));
    *decoder_r = NULL;
    *detail_r = NULL;

    const char *authz = sigv4_header(http, "authorization");
    struct sigv4_param *params;
    int n = sigv4_split_query(&cx, http->raw_query, &params);
    if (n < 0)
        return n;
    int rc;
    int v4_query = sigv4_param(params, n, "X-Amz-Algorithm") ||
                   sigv4_param(params, n, "X-Amz-Credential") ||
                   sigv4_param(params, n, "X-Amz-Signature");
    int v2_query = sigv4_param(params, n, "AWSAccessKeyId") != NULL;
    if (authz && (v4_query || v2_query) &&
        (strncmp(authz, "AWS4-HMAC-SHA256", 16) == 0 || strncmp(authz, "AWS ", 4) == 0))
        return CAIRN_E_INVALID_ARGUMENT; /* S3: "Only one auth mechanism allowed" */
    if (authz) {
        if (strncmp(authz, "AWS4-HMAC-SHA256", 16) == 0)
            rc = sigv4_auth_header(pl, &cx, http, authz, &id, decoder_r, detail_r);
        else if (strncmp(authz, "AWS ", 4) == 0)
            rc = sigv2_auth_header(pl, &cx, http, authz, params, n, &id, detail_r);
        else
            return CAIRN_DECLINED; /* another scheme: another plugin's business */
    } else if (v4_query) {
        rc = sigv4_auth_query(pl, &cx, http, params, n, &id, decoder_r, detail_r);
    } else if (v2_query || sigv4_param(params, n, "Signature")) {
        rc = sigv2_auth_query(pl, &cx, http, params, n, &id, detail_r);
    } else {
        return CAIRN_DECLINED; /* anonymous, or a browser POST form (not handled here) */
    }
    if (rc < 0) {
        if (*decoder_r) {
            (*decoder_r)->destroy((*decoder_r)->state);
            *decoder_r = NULL;
        }
        return rc;
    }
    *id_r = id;
    return 0;
}

static int sigv4_authenticate_form(void *state, struct cairn_req *req, size_t n_fields,
                                   const struct cairn_kv *fields, struct cairn_identity *id_r,
                                   const char **detail_r)
{
    const struct sigv4_plugin *pl = state;
    struct sigv4_ctx cx = {.sv = pl->sv, .req = req};
    return sigv4_auth_form(pl, &cx, n_fields, fields, id_r, detail_r);
}

static const struct cairn_auth_ops sigv4_ops = {
    .size = sizeof(struct cairn_auth_ops),
    .authenticate = sigv4_authenticate,
    .authenticate_form = sigv4_authenticate_form,
};

static void sigv4_fini(void *state)
{
    struct sigv4_plugin *pl = state;
    if (!pl)
        return;
    for (size_t i = 0; i < pl->n_extra_regions; i++)
        free(pl->extra_regions[i]);
    free(pl->extra_regions);
    free(pl);
}

/* Splits "a, b c" into malloc'd words. */
static int parse_region_list(struct sigv4_plugin *pl, const char *list)
{
    const char *p = list;
    while (p && *p) {
        p += strspn(p, ", \t");
        size_t n = strcspn(p, ", \t");
        if (n == 0)
            break;
        char **grown = realloc(pl->extra_regions, (pl->n_extra_regions + 1) * sizeof(char *));
        if (!grown)
            return CAIRN_E_NOMEM;
        pl->extra_regions = grown;
        pl->extra_regions[pl->n_extra_regions] = strndup(p, n);
        if (!pl->extra_regions[pl->n_extra_regions])
            return CAIRN_E_NOMEM;
        pl->n_extra_regions++;
        p += n;
    }
    return 0;
}

static int sigv4_init(const struct cairn_services *sv, const struct cairn_config *cfg,
                      void **state_r)
{
    if (sv->size < sizeof(struct cairn_services) || !sv->hash_new || !sv->hmac_sha256 ||
        !sv->req_alloc || !sv->iam_lookup) {
        if (sv->log)
            sv->log(NULL, CAIRN_LOG_ERROR, "auth-sigv4: the core's services table is too old");
        return CAIRN_E_INTERNAL;
    }
    struct sigv4_plugin *pl = calloc(1, sizeof(*pl));
    if (!pl)
        return CAIRN_E_NOMEM;
    pl->sv = sv;
    pl->sigv2_enabled = sv->config_int(cfg, "sigv2", 1) != 0;
    pl->max_skew_s = sv->config_int(cfg, "max_skew_seconds", 900);
    pl->domain = sv->config_string(cfg, "domain", "");
    if (pl->max_skew_s < 0) {
        sv->log(NULL, CAIRN_LOG_ERROR, "auth-sigv4: max_skew_seconds must not be negative");
        sigv4_fini(pl);
        return CAIRN_E_INVALID_ARGUMENT;
    }
    int rc = parse_region_list(pl, sv->config_string(cfg, "extra_regions", ""));
    if (rc < 0) {
        sigv4_fini(pl);
        return rc;
    }
    *state_r = pl;
    return 0;
}

CAIRN_PLUGIN_EXPORT const struct cairn_plugin_descriptor cairn_plugin = {
    .abi_major = CAIRN_ABI_MAJOR,
    .abi_minor = CAIRN_ABI_MINOR,
    .kind = CAIRN_PLUGIN_AUTH,
    .name = "auth-sigv4",
    .version = "0.1.0",
    .init = sigv4_init,
    .fini = sigv4_fini,
    .auth = &sigv4_ops,
};
