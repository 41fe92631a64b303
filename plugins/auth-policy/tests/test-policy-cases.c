/*
 * test-policy-cases.c -- the table-driven suite: every case in
 * tests/cases.json is run through the auth-policy plugin's descriptor with a
 * fake core.  See the comment at the top of cases.json for its format.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-core.h"
#include "tap.h"

extern const struct cairn_plugin_descriptor cairn_plugin;

static json_t *named_policies;

/* A policy reference: a name from "policies", or an inline document.
 * Returns a malloc'd JSON text, or NULL. */
static char *policy_text(json_t *ref)
{
    if (json_is_string(ref)) {
        json_t *doc = json_object_get(named_policies, json_string_value(ref));
        if (!doc) {
            printf("# unknown policy name %s\n", json_string_value(ref));
            return NULL;
        }
        if (json_is_string(doc)) /* raw text, e.g. deliberately broken */
            return strdup(json_string_value(doc));
        return json_dumps(doc, JSON_COMPACT);
    }
    return json_dumps(ref, JSON_COMPACT);
}

static const char *scalar(json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, cap, "%s", json_is_true(v) ? "true" : "false");
    else
        snprintf(buf, cap, "?");
    return buf;
}

static int decision_of(const char *s)
{
    if (strcmp(s, "allow") == 0)
        return CAIRN_ALLOW;
    if (strcmp(s, "deny") == 0)
        return CAIRN_DENY;
    if (strcmp(s, "none") == 0)
        return CAIRN_NO_OPINION;
    if (strcmp(s, "error") == 0)
        return -1; /* any negative error */
    return -100;
}

static void run_case(void *state, json_t *tc, size_t index)
{
    const char *name = json_string_value(json_object_get(tc, "name"));
    struct cairn_identity who = { .access_key = "", .user = "", .parent = "", .content_sha256 = "" };
    json_t *w = json_object_get(tc, "who");
    char ak[128];
    if (!w || (json_is_string(w) && strcmp(json_string_value(w), "anonymous") == 0)) {
        who.is_anonymous = 1;
    } else if (json_is_string(w)) {
        who.user = json_string_value(w);
        snprintf(ak, sizeof(ak), "AK-%s", who.user);
        who.access_key = ak;
        who.auth_type = CAIRN_AUTH_HEADER;
        who.signature_version = 4;
    } else {
        json_t *v;
        if ((v = json_object_get(w, "user")))
            who.user = json_string_value(v);
        if ((v = json_object_get(w, "access_key")))
            who.access_key = json_string_value(v);
        if ((v = json_object_get(w, "parent")))
            who.parent = json_string_value(v);
        if ((v = json_object_get(w, "content_sha256")))
            who.content_sha256 = json_string_value(v);
        if ((v = json_object_get(w, "signature_version")))
            who.signature_version = (int)json_integer_value(v);
        if ((v = json_object_get(w, "auth_type"))) {
            const char *t = json_string_value(v);
            who.auth_type = strcmp(t, "header") == 0 ? CAIRN_AUTH_HEADER
                            : strcmp(t, "query") == 0 ? CAIRN_AUTH_QUERY
                            : strcmp(t, "post") == 0  ? CAIRN_AUTH_POST
                                                      : CAIRN_AUTH_ANONYMOUS;
        }
        who.is_root = json_is_true(json_object_get(w, "root"));
        who.is_anonymous = json_is_true(json_object_get(w, "anonymous"));
    }

    size_t n_id = json_array_size(json_object_get(tc, "identity"));
    char **ids = calloc(n_id + 1, sizeof(*ids));
    int broken = 0;
    for (size_t i = 0; i < n_id; i++)
        broken |= !(ids[i] = policy_text(json_array_get(json_object_get(tc, "identity"), i)));
    json_t *bref = json_object_get(tc, "bucket");
    char *bucket = bref ? policy_text(bref) : NULL;
    broken |= bref && !bucket;

    /* Context: {"key": "v"} or {"key": ["v1", "v2"]} (a multi-valued key). */
    json_t *ctx = json_object_get(tc, "context");
    struct cairn_kv kvs[64];
    char bufs[64][64];
    size_t n_kv = 0;
    const char *key;
    json_t *val;
    json_object_foreach(ctx, key, val) {
        size_t n = json_is_array(val) ? json_array_size(val) : 1;
        for (size_t i = 0; i < n && n_kv < 64; i++, n_kv++) {
            kvs[n_kv].name = key;
            kvs[n_kv].value = scalar(json_is_array(val) ? json_array_get(val, i) : val,
                                     bufs[n_kv], sizeof(bufs[n_kv]));
        }
    }
    struct cairn_policy_query q = {
        .who = &who,
        .action = json_string_value(json_object_get(tc, "action")),
        .resource = json_string_value(json_object_get(tc, "resource")),
        .bucket_owner = "",
        .n_identity_policies = n_id,
        .identity_policies = (const char *const *)ids,
        .bucket_policy = bucket,
        .n_context = n_kv,
        .context = kvs,
    };
    json_t *now = json_object_get(tc, "now_ms");
    fake_now_ms_value = now ? json_integer_value(now) : 1717200000000LL;

    char explain[512] = "";
    int got = broken ? -99 : cairn_plugin.policy->evaluate(state, NULL, &q, explain, sizeof(explain));
    int want = decision_of(json_string_value(json_object_get(tc, "expect")));
    const char *want_expl = json_string_value(json_object_get(tc, "explain"));
    int good = (got == want || (want == -1 && got < 0 && got != -99)) && (!want_expl || strstr(explain, want_expl));
    ok(good, "case %zu: %s", index + 1, name ? name : "(unnamed)");
    if (!good)
        printf("#   got %d (%s), want %d%s%s\n", got, explain, want, want_expl ? " explaining " : "",
               want_expl ? want_expl : "");
    for (size_t i = 0; i < n_id; i++)
        free(ids[i]);
    free(ids);
    free(bucket);
}

static void run_validation(void *state, json_t *tc, size_t index)
{
    const char *name = json_string_value(json_object_get(tc, "name"));
    json_t *doc = json_object_get(tc, "doc");
    char *text = json_is_string(doc) ? strdup(json_string_value(doc)) : json_dumps(doc, JSON_COMPACT);
    int is_bucket = json_is_true(json_object_get(tc, "bucket"));
    const char *want_reason = json_string_value(json_object_get(tc, "reason"));
    char reason[512] = "";
    int rc = cairn_plugin.policy->validate(state, text, strlen(text), is_bucket, reason,
                                           sizeof(reason));
    int good = want_reason ? rc == CAIRN_E_MALFORMED_POLICY && strstr(reason, want_reason)
                           : rc == 0;
    ok(good, "validate %zu: %s", index + 1, name ? name : "(unnamed)");
    if (!good)
        printf("#   rc %d, reason \"%s\", want %s\n", rc, reason, want_reason ? want_reason : "ok");
    free(text);
}

int main(void)
{
    const char *srcdir = getenv("srcdir");
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests/cases.json", srcdir ? srcdir : ".");
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        ok(0, "load %s: %s (line %d)", path, err.text, err.line);
        return tap_done();
    }
    named_policies = json_object_get(root, "policies");
    struct cairn_services svc = fake_services();
    void *state = NULL;
    is_int(cairn_plugin.init(&svc, NULL, &state), 0, "plugin init");

    json_t *tc;
    size_t i;
    json_array_foreach(json_object_get(root, "cases"), i, tc)
        run_case(state, tc, i);
    ok(json_array_size(json_object_get(root, "cases")) >= 150, "at least 150 evaluation cases (%zu)",
       json_array_size(json_object_get(root, "cases")));
    json_array_foreach(json_object_get(root, "validation"), i, tc)
        run_validation(state, tc, i);

    cairn_plugin.fini(state);
    json_decref(root);
    return tap_done();
}
