/*
 * sigv4-form.c -- the signature of a browser POST upload.  The string to sign
 * is the form's base64 "policy" field itself:
 *   SigV4: x-amz-signature = hex(HMAC-SHA256(signing key of the credential's
 *          date/region/service, policy))
 *   SigV2: signature = base64(HMAC-SHA1(secret, policy))
 * Field names arrive lower-cased.  The region is not checked here: the form
 * call carries no request (and the core checks no region for POST either);
 * the signature still binds the region the client signed with.
 */
#include <string.h>

#include "sigv4-canon.h"
#include "sigv4-internal.h"

static const char *form_field(size_t n, const struct cairn_kv *fields, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (fields[i].name && strcmp(fields[i].name, name) == 0)
            return fields[i].value ? fields[i].value : "";
    return NULL;
}

static int form_v4(struct sigv4_ctx *cx, size_t n, const struct cairn_kv *fields,
                   const char *policy, struct cairn_identity *id_r, const char **detail_r)
{
    const char *alg = form_field(n, fields, "x-amz-algorithm");
    const char *cred_s = form_field(n, fields, "x-amz-credential");
    const char *date = form_field(n, fields, "x-amz-date");
    const char *sig = form_field(n, fields, "x-amz-signature");
    if (!alg || strcmp(alg, "AWS4-HMAC-SHA256") != 0 || !cred_s || !date || !sig)
        return CAIRN_E_INVALID_ARGUMENT; /* S3: "Bucket POST must contain a field named ..." */
    struct sigv4_credential cred;
    int rc = sigv4_parse_credential(cx, cred_s, &cred);
    if (rc == CAIRN_E_NOMEM)
        return rc;
    int64_t t;
    if (rc < 0 || sigv4_parse_iso8601_basic(date, &t) < 0 || strncmp(date, cred.date, 8) != 0)
        return CAIRN_E_INVALID_ARGUMENT;
    if (strlen(sig) != 64 || !sigv4_is_hex(sig, 64)) {
        *detail_r = sigv4_mismatch_detail(cx, cred.access_key, policy, sig, NULL);
        return CAIRN_E_SIGNATURE_MISMATCH;
    }

    char secret[SIGV4_SECRET_CAP];
    rc = sigv4_lookup(cx, cred.access_key, CAIRN_AUTH_POST, 4, id_r, secret);
    if (rc == CAIRN_E_INVALID_ACCESS_KEY)
        *detail_r = sigv4_key_detail(cx, cred.access_key);
    if (rc < 0)
        return rc;
    uint8_t key[32];
    char expected[65];
    sigv4_signing_key(cx->sv, secret, cred.date, cred.region, cred.service, key);
    sigv4_secure_zero(secret, sizeof(secret));
    sigv4_hmac_hex(cx->sv, key, policy, strlen(policy), expected);
    sigv4_secure_zero(key, sizeof(key));
    if (!sigv4_equal_ct(expected, sig, 64)) {
        cx->sv->log(cx->req, CAIRN_LOG_DEBUG, "sigv4: POST policy signature mismatch for %s",
                    cred.access_key);
        *detail_r = sigv4_mismatch_detail(cx, cred.access_key, policy, sig, NULL);
        return CAIRN_E_SIGNATURE_MISMATCH;
    }
    return 0;
}

static int form_v2(const struct sigv4_plugin *pl, struct sigv4_ctx *cx, size_t n,
                   const struct cairn_kv *fields, const char *policy,
                   struct cairn_identity *id_r, const char **detail_r)
{
    if (!pl->sigv2_enabled)
        return sigv2_disabled(cx);
    const char *ak = form_field(n, fields, "awsaccesskeyid");
    const char *sig = form_field(n, fields, "signature");
    if (!ak || !*ak || !sig)
        return CAIRN_E_INVALID_ARGUMENT;
    return sigv2_check(cx, ak, policy, sig, CAIRN_AUTH_POST, id_r, detail_r);
}

int sigv4_auth_form(const struct sigv4_plugin *pl, struct sigv4_ctx *cx, size_t n_fields,
                    const struct cairn_kv *fields, struct cairn_identity *id_r,
                    const char **detail_r)
{
    *detail_r = NULL;
    int v4 = form_field(n_fields, fields, "x-amz-algorithm") ||
             form_field(n_fields, fields, "x-amz-credential") ||
             form_field(n_fields, fields, "x-amz-signature");
    int v2 = form_field(n_fields, fields, "awsaccesskeyid") ||
             form_field(n_fields, fields, "signature");
    if (!v4 && !v2)
        return CAIRN_DECLINED; /* unsigned: anonymous, if a bucket policy allows */
    if (v4 && v2)
        return CAIRN_E_INVALID_ARGUMENT; /* S3: only one auth mechanism allowed */
    const char *policy = form_field(n_fields, fields, "policy");
    if (!policy || !*policy)
        return CAIRN_E_INVALID_ARGUMENT; /* a signature signs the policy */
    struct cairn_identity id;
    memset(&id, 0, sizeof(id));
    int rc = v4 ? form_v4(cx, n_fields, fields, policy, &id, detail_r)
                : form_v2(pl, cx, n_fields, fields, policy, &id, detail_r);
    if (rc < 0)
        return rc;
    *id_r = id;
    return 0;
}
