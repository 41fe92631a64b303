/*
 * test-sigv4-form.c -- authenticate_form, the signature of browser POST
 * uploads: AWS's documented SigV4 POST example (its policy and signature),
 * the SigV2 signature of the same policy, every single-byte change to the
 * policy or the signature rejected, and the refusals (unknown key, disabled
 * user, missing fields, mixed schemes, SigV2 turned off).
 */
#include "sigv4-test.h"

/* From AWS's "Example: Browser-Based Upload using HTTP POST (Using AWS
 * Signature Version 4)": the base64 policy and the signature it documents. */
static const char aws_policy_b64[] =
    "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7"
    "ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91"
    "c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3Qi"
    "OiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwi"
    "fSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRh"
    "LXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVT"
    "MjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNy"
    "ZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9"
    "LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAi"
    "MjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
#define AWS_SIG "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
#define AWS_CRED AK "/20151229/us-east-1/s3/aws4_request"
/* base64(HMAC-SHA1(SK, policy)): the same policy signed with SigV2's rule
 * (derived with Python's hmac module, not published by AWS). */
#define V2_SIG "QyigO3Da7gYxPW1IXllc6C7gI74="

struct tform {
    struct cairn_kv f[16];
    size_t n;
};

static void tform_set(struct tform *t, const char *name, const char *value)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->f[i].name, name) == 0) {
            if (value) {
                t->f[i].value = value;
            } else {
                t->f[i] = t->f[t->n - 1];
                t->n--;
            }
            return;
        }
    if (value)
        t->f[t->n++] = (struct cairn_kv){name, value};
}

/* The example's form (the fields that matter to the signature, and others). */
static void aws_form(struct tform *t)
{
    memset(t, 0, sizeof(*t));
    tform_set(t, "key", "user/user1/${filename}");
    tform_set(t, "acl", "public-read");
    tform_set(t, "x-amz-credential", AWS_CRED);
    tform_set(t, "x-amz-algorithm", "AWS4-HMAC-SHA256");
    tform_set(t, "x-amz-date", "20151229T000000Z");
    tform_set(t, "policy", aws_policy_b64);
    tform_set(t, "x-amz-signature", AWS_SIG);
}

static void v2_form(struct tform *t)
{
    memset(t, 0, sizeof(*t));
    tform_set(t, "key", "user/user1/${filename}");
    tform_set(t, "awsaccesskeyid", AK);
    tform_set(t, "policy", aws_policy_b64);
    tform_set(t, "signature", V2_SIG);
}

static int run_form(void *pl, const struct tform *t, struct cairn_identity *id_r,
                    const char **detail_r)
{
    struct cairn_req *req = fake_req_new();
    struct cairn_identity id;
    memset(&id, 0, sizeof(id));
    const char *detail = NULL;
    int rc = cairn_plugin.auth->authenticate_form(pl, req, t->n, t->f, &id, &detail);
    if (id_r) {
        *id_r = id;
        id_r->user = id.user && strcmp(id.user, "example-user") == 0 ? "example-user" : "?";
        id_r->access_key = "";
        id_r->parent = "";
    }
    if (detail_r)
        *detail_r = detail && strstr(detail, "<StringToSign>") ? "mismatch-detail"
                    : detail && strstr(detail, "<AWSAccessKeyId>") ? "key-detail"
                                                                    : NULL;
    fake_req_free(req);
    return rc;
}

static void test_aws_example(void *pl)
{
    ok(CAIRN_TABLE_HAS(cairn_plugin.auth, authenticate_form) &&
           cairn_plugin.auth->authenticate_form != NULL,
       "the plugin offers authenticate_form (ABI 1.1)");
    struct tform t;
    aws_form(&t);
    struct cairn_identity id;
    is_int(run_form(pl, &t, &id, NULL), 0, "AWS SigV4 POST example: documented signature accepted");
    is_str(id.user, "example-user", "signer from the IAM store");
    is_int(id.signature_version, 4, "signature version 4");
    is_int(id.auth_type, CAIRN_AUTH_POST, "auth type POST");
    ok(!id.is_anonymous, "not anonymous");

    v2_form(&t);
    is_int(run_form(pl, &t, &id, NULL), 0, "SigV2 signature of the same policy accepted");
    is_int(id.signature_version, 2, "signature version 2");
    is_int(id.auth_type, CAIRN_AUTH_POST, "auth type POST (SigV2)");
}

/* Every single-character change of `field` must be refused. */
static void tamper_all(void *pl, void (*make)(struct tform *), const char *field,
                       const char *alphabet, const char *what)
{
    struct tform t;
    make(&t);
    const char *orig = NULL;
    for (size_t i = 0; i < t.n; i++)
        if (strcmp(t.f[i].name, field) == 0)
            orig = t.f[i].value;
    size_t len = strlen(orig), refused = 0;
    char *copy = strdup(orig);
    for (size_t i = 0; i < len; i++) {
        char was = copy[i];
        copy[i] = alphabet[(strchr(alphabet, was) - alphabet + 1) % strlen(alphabet)];
        tform_set(&t, field, copy);
        const char *detail;
        if (run_form(pl, &t, NULL, &detail) == CAIRN_E_SIGNATURE_MISMATCH && detail)
            refused++;
        copy[i] = was;
    }
    is_int(refused, len, "%s: all %zu single-character changes refused with SignatureDoesNotMatch",
           what, len);
    free(copy);
}

#define B64 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
#define HEX "0123456789abcdef"

static void test_tamper(void *pl)
{
    tamper_all(pl, aws_form, "policy", B64, "SigV4 policy");
    tamper_all(pl, aws_form, "x-amz-signature", HEX, "SigV4 signature");
    tamper_all(pl, v2_form, "policy", B64, "SigV2 policy");
    tamper_all(pl, v2_form, "signature", B64, "SigV2 signature");

    struct tform t;
    aws_form(&t);
    tform_set(&t, "x-amz-credential", AK "/20151229/eu-west-1/s3/aws4_request");
    is_int(run_form(pl, &t, NULL, NULL), CAIRN_E_SIGNATURE_MISMATCH,
           "another region in the credential changes the signing key");
    aws_form(&t);
    tform_set(&t, "x-amz-signature", "8AFDBF4008C03F22C2CD3CDB72E4AFBB1F6A588F3255AC628749A66D7F09699E");
    is_int(run_form(pl, &t, NULL, NULL), CAIRN_E_SIGNATURE_MISMATCH, "upper-case hex refused");
    tform_set(&t, "x-amz-signature", "8afdbf40");
    is_int(run_form(pl, &t, NULL, NULL), CAIRN_E_SIGNATURE_MISMATCH, "short signature refused");
}

static void test_refusals(void *pl)
{
    struct tform t;
    const char *detail;
    aws_form(&t);
    tform_set(&t, "x-amz-credential", "AKIDUNKNOWN/20151229/us-east-1/s3/aws4_request");
    is_int(run_form(pl, &t, NULL, &detail), CAIRN_E_INVALID_ACCESS_KEY, "unknown access key");
    is_str(detail, "key-detail", "InvalidAccessKeyId names the key");
    aws_form(&t);
    tform_set(&t, "x-amz-credential", "AKIDOFF/20151229/us-east-1/s3/aws4_request");
    is_int(run_form(pl, &t, NULL, NULL), CAIRN_E_ACCESS_DENIED, "disabled user");
    aws_form(&t);
    tform_set(&t, "x-amz-date", "20151230T000000Z");
    is_int(run_form(pl, &t, NULL, NULL), CAIRN_E_INVALID_ARGUMENT,
           "x-amz-date of another day than the credential");
    tform_set(&t, "x-amz-date", "yesterday");
    is_int(run_form(pl, &t, NULL, NULL), CAIRN_E_INVALID_ARGUMENT, "malformed x-amz-date");
    aws_form(&t);
    tform_set(&t, "x-amz-algorithm", "AWS4-HMAC-SHA512");
    is_int(run_form(pl, &t, NULL, NULL), CAIRN_E_INVALID_ARGUMENT, "unknown algorithm");
    aws_form(&t);
    tform_set(&t, "x-amz-credential", AK "/20151229/us-east-1/sqs/aws4_request");
    is_int(run_form(pl, &t, NULL, NULL), CAIRN_E_INVALID_ARGUMENT, "service other than s3");
    aws_form(&t);
    tform_set(&t, "x-amz-date", NULL);
    is_int(run_form(pl, &t, NULL, NULL), CAIRN_E_INVALID_ARGUMENT, "no x-amz-date");
    aws_form(&t);
    tform_set(&t, "policy", NULL);
    is_int(run_form(pl, &t, NULL, NULL), CAIRN_E_INVALID_ARGUMENT, "signature without a policy");
    aws_form(&t);
    tform_set(&t, "awsaccesskeyid", AK);
    is_int(run_form(pl, &t, NULL, NULL), CAIRN_E_INVALID_ARGUMENT, "SigV4 and SigV2 fields mixed");
    v2_form(&t);
    tform_set(&t, "awsaccesskeyid", NULL);
    is_int(run_form(pl, &t, NULL, NULL), CAIRN_E_INVALID_ARGUMENT, "SigV2 without AWSAccessKeyId");

    memset(&t, 0, sizeof(t));
    tform_set(&t, "key", "k");
    tform_set(&t, "policy", aws_policy_b64);
    is_int(run_form(pl, &t, NULL, NULL), CAIRN_DECLINED, "unsigned form declined (anonymous)");
    is_int(cairn_plugin.auth->authenticate_form(pl, NULL, 0, NULL, NULL, &detail), CAIRN_DECLINED,
           "no fields at all: declined");

    void *off = plugin_new("sigv2", "0", NULL);
    v2_form(&t);
    is_int(run_form(off, &t, NULL, NULL), CAIRN_E_INVALID_REQUEST, "SigV2 form with sigv2 = 0");
    aws_form(&t);
    is_int(run_form(off, &t, NULL, NULL), 0, "SigV4 form with sigv2 = 0");
    cairn_plugin.fini(off);
}

int main(void)
{
    fake_iam_add(AK, SK, "example-user", 0);
    fake_iam_add("AKIDOFF", SK, "disabled-user", 1);
    void *pl = plugin_new(NULL);
    test_aws_example(pl);
    test_tamper(pl);
    test_refusals(pl);
    cairn_plugin.fini(pl);
    return tap_done();
}
