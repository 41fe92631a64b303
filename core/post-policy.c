/*
 * post-policy.c -- browser POST policy documents (see post-policy.h).
 * Parsed with jansson into request memory; the JSON tree is freed at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "post-policy.h"

enum cond_op { COND_EQ, COND_STARTS_WITH, COND_RANGE };

struct post_condition {
    enum cond_op op;
    const char *field; /* lower-cased, without '$' */
    const char *value;
    int64_t min, max;  /* COND_RANGE */
};

struct post_policy {
    int64_t expiration_ms;
    struct post_condition *conds;
    size_t n_conds;
    int has_range;
    int64_t range_min, range_max;
};

/* Fields S3 never asks a condition for. */
static int field_exempt(const char *name)
{
    static const char *const exempt[] = {"policy", "signature", "x-amz-signature",
                                         "awsaccesskeyid", "file"};
    for (size_t i = 0; i < sizeof(exempt) / sizeof(exempt[0]); i++)
        if (strcmp(name, exempt[i]) == 0)
            return 1;
    return strncmp(name, "x-ignore-", 9) == 0;
}

/* Reads `n` digits; -1 when any is not a digit. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* "2015-12-30T12:00:00.000Z" (fraction optional) -> ms; -1 when malformed. */
static int64_t parse_expiration(const char *s)
{
    if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':')
        return -1;
    int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2), h = digits(s + 11, 2),
        mi = digits(s + 14, 2), se = digits(s + 17, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || se < 0 || se > 60)
        return -1;
    const char *p = s + 19;
    int ms = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n < 3)
                ms = ms * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0 || n > 9)
            return -1;
        for (; n < 3; n++)
            ms *= 10;
    }
    if (strcmp(p, "Z") != 0)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                    .tm_min = mi, .tm_sec = se};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    return (int64_t)t * 1000 + ms;
}

static char *lower_dup(struct arena *a, const char *s)
{
    char *out = arena_strdup(a, s);
    if (out)
        for (char *c = out; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
    return out;
}

/* A content-length-range bound: a non-negative integer, or a string of digits. */
static int range_bound(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return *out >= 0 ? 0 : -1;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        if (!*s || strlen(s) > 18)
            return -1;
        long long n = strtoll(s, &end, 10);
        if (*end || n < 0)
            return -1;
        *out = n;
        return 0;
    }
    return -1;
}

/* Parses one element of "conditions". */
static int parse_condition(struct arena *a, const json_t *c, struct post_policy *p,
                           const char **why_r)
{
    struct post_condition *pc = &p->conds[p->n_conds];
    if (json_is_object(c)) {
        if (json_object_size(c) != 1) {
            *why_r = "Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have "
                     "exactly one property specified.";
            return POLICY_E_INVALID;
        }
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)c, k, v) {
            if (!json_is_string(v)) {
                *why_r = "Invalid Policy: Invalid Simple-Condition: value must be a string.";
                return POLICY_E_INVALID;
            }
            pc->op = COND_EQ;
            pc->field = lower_dup(a, k[0] == '$' ? k + 1 : k);
            pc->value = arena_strdup(a, json_string_value(v));
        }
        p->n_conds++;
        return pc->field && pc->value ? 0 : POLICY_E_INVALID;
    }
    if (!json_is_array(c) || json_array_size(c) != 3 || !json_is_string(json_array_get(c, 0))) {
        *why_r = "Invalid Policy: Invalid Condition: conditions must be objects or "
                 "three-element arrays.";
        return POLICY_E_INVALID;
    }
    const char *op = json_string_value(json_array_get(c, 0));
    const json_t *a1 = json_array_get(c, 1), *a2 = json_array_get(c, 2);
    if (strcasecmp(op, "content-length-range") == 0) {
        if (range_bound(a1, &pc->min) < 0 || range_bound(a2, &pc->max) < 0 ||
            pc->min > pc->max) {
            *why_r = "Invalid Policy: Invalid content-length-range: bounds must be "
                     "non-negative integers, min <= max.";
            return POLICY_E_INVALID;
        }
        pc->op = COND_RANGE;
        pc->field = "";
        p->has_range = 1;
        p->range_min = pc->min;
        p->range_max = pc->max;
        p->n_conds++;
        return 0;
    }
    if (strcasecmp(op, "eq") == 0)
        pc->op = COND_EQ;
    else if (strcasecmp(op, "starts-with") == 0)
        pc->op = COND_STARTS_WITH;
    else {
        *why_r = "Invalid Policy: Invalid Condition: unknown operation (eq, starts-with, "
                 "content-length-range).";
        return POLICY_E_INVALID;
    }
    if (!json_is_string(a1) || json_string_value(a1)[0] != '$' || !json_is_string(a2)) {
        *why_r = "Invalid Policy: Invalid Condition: the field must be a string starting "
                 "with '$' and the value a string.";
        return POLICY_E_INVALID;
    }
    pc->field = lower_dup(a, json_string_value(a1) + 1);
    pc->value = arena_strdup(a, json_string_value(a2));
    p->n_conds++;
    return pc->field && pc->value ? 0 : POLICY_E_INVALID;
}

int post_policy_parse(struct arena *a, const char *json, size_t len,
                      struct post_policy **policy_r, const char **why_r)
{
    *policy_r = NULL;
    *why_r = "Invalid Policy: Invalid JSON.";
    json_error_t err;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return POLICY_E_INVALID;
    int rc = POLICY_E_INVALID;
    struct post_policy *p = arena_alloc(a, sizeof(*p));
    const json_t *exp = json_object_get(root, "expiration");
    const json_t *conds = json_object_get(root, "conditions");
    if (!p || !json_is_object(root))
        goto out;
    if (!json_is_string(exp)) {
        *why_r = "Invalid Policy: Policy missing expiration.";
        goto out;
    }
    p->expiration_ms = parse_expiration(json_string_value(exp));
    if (p->expiration_ms < 0) {
        *why_r = "Invalid Policy: Invalid 'expiration' value.";
        goto out;
    }
    if (!json_is_array(conds)) {
        *why_r = "Invalid Policy: Policy missing conditions.";
        goto out;
    }
    size_t n = json_array_size(conds);
    if (n > 1000) {
        *why_r = "Invalid Policy: too many conditions.";
        goto out;
    }
    p->conds = arena_alloc(a, (n ? n : 1) * sizeof(*p->conds));
    if (!p->conds)
        goto out;
    for (size_t i = 0; i < n; i++)
        if ((rc = parse_condition(a, json_array_get(conds, i), p, why_r)) < 0)
            goto out;
    *policy_r = p;
    *why_r = NULL;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int64_t post_policy_expiration_ms(const struct post_policy *p)
{
    return p->expiration_ms;
}

int post_policy_length_range(const struct post_policy *p, int64_t *min_r, int64_t *max_r)
{
    if (!p->has_range)
        return 0;
    *min_r = p->range_min;
    *max_r = p->range_max;
    return 1;
}

/* The value a condition on `field` is checked against ("" when absent). */
static const char *value_of(const char *field, const struct form_field *fields, size_t n,
                            const char *bucket, const char *key)
{
    if (strcmp(field, "bucket") == 0)
        return bucket;
    if (strcmp(field, "key") == 0)
        return key;
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, field) == 0)
            return fields[i].value;
    return "";
}

/* starts-with; for Content-Type every comma-separated value must match (S3). */
static int starts_with(const char *field, const char *value, const char *prefix)
{
    size_t plen = strlen(prefix);
    if (strcmp(field, "content-type") != 0 || !strchr(value, ','))
        return strncmp(value, prefix, plen) == 0;
    const char *p = value;
    for (;;) {
        p += strspn(p, " ");
        if (strncmp(p, prefix, plen) != 0)
            return 0;
        p = strchr(p, ',');
        if (!p)
            return 1;
        p++;
    }
}

/* JSON string escape for the condition text in error messages. */
static char *json_quote(struct arena *a, const char *s)
{
    json_t *j = json_string(s);
    char *dump = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    char *out = dump ? arena_strdup(a, dump) : NULL;
    free(dump);
    json_decref(j);
    return out;
}

static const char *condition_failed(struct arena *a, const struct post_condition *c)
{
    char *field = json_quote(a, c->field);
    char *value = json_quote(a, c->value);
    const char *op = c->op == COND_EQ ? "eq" : "starts-with";
    size_t cap = 96 + (field ? strlen(field) : 0) + (value ? strlen(value) : 0);
    char *msg = arena_alloc(a, cap);
    if (!msg || !field || !value)
        return "Invalid according to Policy: Policy Condition failed";
    /* field is "\"name\"": put the '$' inside its quotes. */
    snprintf(msg, cap, "Invalid according to Policy: Policy Condition failed: [\"%s\", \"$%s, %s]",
             op, field + 1, value);
    return msg;
}

int post_policy_check(const struct post_policy *p, struct arena *a,
                      const struct form_field *fields, size_t n_fields, const char *bucket,
                      const char *key, int64_t now_ms, const char **why_r)
{
    *why_r = NULL;
    if (now_ms >= p->expiration_ms) {
        *why_r = "Invalid according to Policy: Policy expired.";
        return POLICY_E_EXPIRED;
    }
    for (size_t i = 0; i < p->n_conds; i++) {
        const struct post_condition *c = &p->conds[i];
        if (c->op == COND_RANGE)
            continue;
        const char *v = value_of(c->field, fields, n_fields, bucket, key);
        int okay = c->op == COND_EQ ? strcmp(v, c->value) == 0 : starts_with(c->field, v, c->value);
        if (!okay) {
            *why_r = condition_failed(a, c);
            return POLICY_E_CONDITION;
        }
    }
    for (size_t i = 0; i < n_fields; i++) {
        const char *name = fields[i].name;
        if (field_exempt(name))
            continue;
        int covered = 0;
        for (size_t j = 0; j < p->n_conds && !covered; j++)
            covered = strcmp(p->conds[j].field, name) == 0;
        if (!covered) {
            size_t cap = 64 + strlen(name);
            char *msg = arena_alloc(a, cap);
            if (msg)
                snprintf(msg, cap, "Invalid according to Policy: Extra input fields: %s", name);
            *why_r = msg ? msg : "Invalid according to Policy: Extra input fields";
            return POLICY_E_EXTRA_FIELD;
        }
    }
    return 0;
}
