/*
 * post-policy.h -- the policy document of a browser POST upload: parsing
 * (JSON, after the caller decoded the form's base64 "policy" field) and the
 * checks S3 makes against the form: expiration, then every condition
 * (exact-match objects, ["eq", "$f", v], ["starts-with", "$f", prefix],
 * {"bucket": b}), then that every form field is covered by a condition.
 * content-length-range is handed to the caller, which enforces it while the
 * file streams.
 */
#ifndef CAIRN_POST_POLICY_H
#define CAIRN_POST_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "form-data.h"

/* Errors, each with S3's message through why_r. */
enum post_policy_error {
    POLICY_E_INVALID = -1101,   /* InvalidPolicyDocument (400) */
    POLICY_E_EXPIRED = -1102,   /* AccessDenied: "Invalid according to Policy: Policy expired." */
    POLICY_E_CONDITION = -1103, /* AccessDenied: "... Policy Condition failed: [...]" */
    POLICY_E_EXTRA_FIELD = -1104, /* AccessDenied: "... Extra input fields: name" */
};

struct post_policy;

/*
 * Parses the JSON policy document (`len` bytes) into request memory.  Returns
 * 0 and *policy_r, or POLICY_E_INVALID with S3's reason in *why_r.
 */
int post_policy_parse(struct arena *a, const char *json, size_t len,
                      struct post_policy **policy_r, const char **why_r);

/* The expiration, in ms since the epoch. */
int64_t post_policy_expiration_ms(const struct post_policy *p);

/*
 * Checks the form against the policy at `now_ms`: expiration, conditions
 * ("bucket" is matched against `bucket`, "key" against `key`, the key after
 * ${filename} substitution; other names against the form fields, absent ones
 * as ""), then coverage of every field (except policy, signature,
 * x-amz-signature, awsaccesskeyid, file and x-ignore-*).  Returns 0 or a
 * POLICY_E_* code with S3's message in *why_r (request memory).
 */
int post_policy_check(const struct post_policy *p, struct arena *a,
                      const struct form_field *fields, size_t n_fields, const char *bucket,
                      const char *key, int64_t now_ms, const char **why_r);

/* The content-length-range condition: 1 with [*min_r, *max_r], or 0 when the
 * policy has none. */
int post_policy_length_range(const struct post_policy *p, int64_t *min_r, int64_t *max_r);

#endif
