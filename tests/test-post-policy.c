/*
 * test-post-policy.c -- browser POST policy documents: AWS's documented
 * SigV4 example policy against its example form, expiration, each kind of
 * condition, field coverage, content-length-range, malformed documents.
 */
#include <stdlib.h>
#include <string.h>

#include "post-policy.h"
#include "tap.h"

/* The policy of AWS's "Example: Browser-Based Upload using HTTP POST (Using
 * AWS Signature Version 4)", with the line breaks of the published base64. */
static const char aws_policy[] =
    "{ \"expiration\": \"2015-12-30T12:00:00.000Z\",\r\n"
    "  \"conditions\": [\r\n"
    "    {\"bucket\": \"sigv4examplebucket\"},\r\n"
    "    [\"starts-with\", \"$key\", \"user/user1/\"],\r\n"
    "    {\"acl\": \"public-read\"},\r\n"
    "    {\"success_action_redirect\": "
    "\"http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html\"},\r\n"
    "    [\"starts-with\", \"$Content-Type\", \"image/\"],\r\n"
    "    {\"x-amz-meta-uuid\": \"14365123651274\"},\r\n"
    "    {\"x-amz-server-side-encryption\": \"AES256\"},\r\n"
    "    [\"starts-with\", \"$x-amz-meta-tag\", \"\"],\r\n"
    "\r\n"
    "    {\"x-amz-credential\": \"AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request\"},\r\n"
    "    {\"x-amz-algorithm\": \"AWS4-HMAC-SHA256\"},\r\n"
    "    {\"x-amz-date\": \"20151229T000000Z\" }\r\n"
    "  ]\r\n"
    "}";

/* 2015-12-29T12:00:00Z and the expiration 2015-12-30T12:00:00Z, in ms. */
#define NOW_MS 1451390400000LL
#define EXP_MS 1451476800000LL

/* The example's form fields (names as the form reader lower-cases them). */
static struct form_field aws_fields[] = {
    {"key", "user/user1/${filename}", 0},
    {"acl", "public-read", 0},
    {"success_action_redirect", "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html", 0},
    {"content-type", "image/jpeg", 0},
    {"x-amz-meta-uuid", "14365123651274", 0},
    {"x-amz-server-side-encryption", "AES256", 0},
    {"x-amz-credential", "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request", 0},
    {"x-amz-algorithm", "AWS4-HMAC-SHA256", 0},
    {"x-amz-date", "20151229T000000Z", 0},
    {"x-amz-meta-tag", "", 0},
    {"policy", "(base64)", 0},
    {"x-amz-signature", "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e", 0},
};
#define N_AWS (sizeof(aws_fields) / sizeof(aws_fields[0]))

static struct post_policy *parse(struct arena *a, const char *json, const char **why)
{
    struct post_policy *p = NULL;
    int rc = post_policy_parse(a, json, strlen(json), &p, why);
    return rc == 0 ? p : NULL;
}

/* Checks the example form with field `name` set to `value` (NULL: removed). */
static int check_with(struct arena *a, const struct post_policy *p, const char *name,
                      const char *value, const char *key, const char **why)
{
    struct form_field f[N_AWS + 1];
    size_t n = 0;
    int replaced = 0;
    for (size_t i = 0; i < N_AWS; i++) {
        if (name && strcmp(aws_fields[i].name, name) == 0) {
            replaced = 1;
            if (!value)
                continue;
            f[n] = aws_fields[i];
            f[n++].value = value;
        } else {
            f[n++] = aws_fields[i];
        }
    }
    if (name && value && !replaced)
        f[n++] = (struct form_field){name, value, strlen(value)};
    return post_policy_check(p, a, f, n, "sigv4examplebucket", key, NOW_MS, why);
}

static void test_aws_example(void)
{
    struct arena *a = arena_new();
    const char *why = NULL;
    struct post_policy *p = parse(a, aws_policy, &why);
    ok(p != NULL, "AWS example policy parses");
    if (!p) {
        arena_free(a);
        return;
    }
    is_int(post_policy_expiration_ms(p), EXP_MS, "expiration 2015-12-30T12:00:00.000Z");
    int64_t lo, hi;
    is_int(post_policy_length_range(p, &lo, &hi), 0, "no content-length-range");
    const char *key = "user/user1/photo.jpg";
    is_int(check_with(a, p, NULL, NULL, key, &why), 0, "the example form passes");
    is_int(post_policy_check(p, a, aws_fields, N_AWS, "sigv4examplebucket", key, EXP_MS, &why),
           POLICY_E_EXPIRED, "at the expiration instant: expired");
    is_str(why, "Invalid according to Policy: Policy expired.", "S3's message for expiry");
    is_int(post_policy_check(p, a, aws_fields, N_AWS, "otherbucket", key, NOW_MS, &why),
           POLICY_E_CONDITION, "another bucket fails {\"bucket\": ...}");
    is_str(why,
           "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$bucket\", "
           "\"sigv4examplebucket\"]",
           "S3's message names the condition");
    is_int(check_with(a, p, NULL, NULL, "user/user2/photo.jpg", &why), POLICY_E_CONDITION,
           "key outside the starts-with prefix");
    is_str(why,
           "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$key\", "
           "\"user/user1/\"]",
           "starts-with message");
    is_int(check_with(a, p, "acl", "private", key, &why), POLICY_E_CONDITION,
           "exact-match object fails on another value");
    is_int(check_with(a, p, "acl", NULL, key, &why), POLICY_E_CONDITION,
           "exact-match object fails on an absent field");
    is_int(check_with(a, p, "content-type", "text/plain", key, &why), POLICY_E_CONDITION,
           "Content-Type starts-with image/ fails for text/plain");
    is_int(check_with(a, p, "content-type", "image/png, image/gif", key, &why), 0,
           "Content-Type list: every value starts with image/");
    is_int(check_with(a, p, "content-type", "image/png, text/html", key, &why),
           POLICY_E_CONDITION, "Content-Type list with one value outside the prefix");
    is_int(check_with(a, p, "x-amz-meta-tag", "anything at all", key, &why), 0,
           "starts-with \"\" allows any value");
    is_int(check_with(a, p, "x-amz-meta-other", "v", key, &why), POLICY_E_EXTRA_FIELD,
           "a field no condition names");
    is_str(why, "Invalid according to Policy: Extra input fields: x-amz-meta-other",
           "S3's message for an extra field");
    is_int(check_with(a, p, "x-ignore-note", "v", key, &why), 0, "x-ignore-* fields are exempt");
    is_int(check_with(a, p, "signature", "v", key, &why), 0, "signature field is exempt");
    is_int(check_with(a, p, "x-amz-date", "20151230T000000Z", key, &why), POLICY_E_CONDITION,
           "x-amz-date must match its condition");
    arena_free(a);
}

static void test_conditions(void)
{
    struct arena *a = arena_new();
    const char *why = NULL;
    struct post_policy *p = parse(
        a,
        "{\"expiration\": \"2099-01-01T00:00:00Z\", \"conditions\": ["
        "[\"eq\", \"$key\", \"exact/key\"], [\"content-length-range\", 10, \"2048\"],"
        "[\"EQ\", \"$Success_Action_Status\", \"201\"], {\"$x-amz-meta-a\": \"1\"}]}",
        &why);
    ok(p != NULL, "eq arrays, string bounds, '$' in an object condition, any-case names");
    if (p) {
        int64_t lo = 0, hi = 0;
        is_int(post_policy_length_range(p, &lo, &hi), 1, "content-length-range present");
        ok(lo == 10 && hi == 2048, "bounds 10..2048");
        struct form_field f[] = {{"key", "exact/key", 9},
                                 {"success_action_status", "201", 3},
                                 {"x-amz-meta-a", "1", 1}};
        is_int(post_policy_check(p, a, f, 3, "b", "exact/key", 0, &why), 0, "all conditions hold");
        is_int(post_policy_check(p, a, f, 3, "b", "exact/key2", 0, &why), POLICY_E_CONDITION,
               "eq is exact, not a prefix");
        f[1].value = "200";
        is_int(post_policy_check(p, a, f, 3, "b", "exact/key", 0, &why), POLICY_E_CONDITION,
               "success_action_status must match");
    }
    p = parse(a, "{\"expiration\": \"2099-01-01T00:00:00.5Z\", \"conditions\": []}", &why);
    ok(p && post_policy_expiration_ms(p) == 4070908800500LL, "one-digit fraction is 500 ms");
    if (p) {
        struct form_field f[] = {{"key", "k", 1}};
        is_int(post_policy_check(p, a, f, 1, "b", "k", 0, &why), POLICY_E_EXTRA_FIELD,
               "with no conditions even the key is an extra field");
    }
    arena_free(a);
}

static void test_invalid(void)
{
    static const struct {
        const char *json, *name;
    } bad[] = {
        {"", "empty"},
        {"[]", "not an object"},
        {"{\"conditions\": []}", "no expiration"},
        {"{\"expiration\": \"2099-01-01T00:00:00Z\"}", "no conditions"},
        {"{\"expiration\": \"2099-01-01\", \"conditions\": []}", "date without time"},
        {"{\"expiration\": \"2099-13-01T00:00:00Z\", \"conditions\": []}", "month 13"},
        {"{\"expiration\": \"2099-01-01T00:00:00+01:00\", \"conditions\": []}", "not UTC"},
        {"{\"expiration\": 5, \"conditions\": []}", "expiration not a string"},
        {"{\"expiration\": \"2099-01-01T00:00:00Z\", \"conditions\": {}}", "conditions object"},
        {"{\"expiration\": \"2099-01-01T00:00:00Z\", \"conditions\": [{\"a\": \"1\", \"b\": \"2\"}]}",
         "object condition with two properties"},
        {"{\"expiration\": \"2099-01-01T00:00:00Z\", \"conditions\": [{\"a\": 1}]}",
         "object condition with a number"},
        {"{\"expiration\": \"2099-01-01T00:00:00Z\", \"conditions\": [[\"eq\", \"key\", \"v\"]]}",
         "field without '$'"},
        {"{\"expiration\": \"2099-01-01T00:00:00Z\", \"conditions\": [[\"like\", \"$key\", \"v\"]]}",
         "unknown operation"},
        {"{\"expiration\": \"2099-01-01T00:00:00Z\", \"conditions\": [[\"eq\", \"$key\"]]}",
         "two-element array"},
        {"{\"expiration\": \"2099-01-01T00:00:00Z\", \"conditions\": "
         "[[\"content-length-range\", 10, 5]]}",
         "range min > max"},
        {"{\"expiration\": \"2099-01-01T00:00:00Z\", \"conditions\": "
         "[[\"content-length-range\", -1, 5]]}",
         "negative range"},
        {"{\"expiration\": \"2099-01-01T00:00:00Z\", \"conditions\": "
         "[[\"content-length-range\", \"1x\", 5]]}",
         "range bound not a number"},
        {"{\"expiration\": \"2099-01-01T00:00:00Z\", \"expiration\": \"2099-01-01T00:00:00Z\", "
         "\"conditions\": []}",
         "duplicate member"},
    };
    struct arena *a = arena_new();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct post_policy *p = NULL;
        const char *why = NULL;
        int rc = post_policy_parse(a, bad[i].json, strlen(bad[i].json), &p, &why);
        ok(rc == POLICY_E_INVALID && p == NULL && why && strncmp(why, "Invalid Policy: ", 16) == 0,
           "InvalidPolicyDocument: %s", bad[i].name);
    }
    arena_free(a);
}

int main(void)
{
    test_aws_example();
    test_conditions();
    test_invalid();
    return tap_done();
}
