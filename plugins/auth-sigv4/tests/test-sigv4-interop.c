/*
 * test-sigv4-interop.c -- requests signed by botocore's own signers (SigV4
 * header and presigned, SigV2 header and presigned), recorded as they go on
 * the wire in botocore-vectors.txt by gen-botocore-vectors.py: keys with
 * spaces, '+', ':', unicode and trailing '/', ignored parameters (x-id),
 * valueless sub-resources, encoding-type=url listings, metadata headers with
 * inner spaces, presigned overrides.  Each must verify, and must stop
 * verifying when its signature is altered.
 */
#include "sigv4-test.h"

/* One recorded request; strings point into the file buffer. */
struct vec {
    char *name, *method, *path, *query;
    struct treq r;
};

static char *trim_nl(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Alters the last character of the signature in `v` (header or query). */
static void corrupt_signature(struct treq *r, char *authz_copy, char *query_copy)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        if (strcmp(r->headers[i].name, "authorization") == 0) {
            strcpy(authz_copy, r->headers[i].value);
            size_t n = strlen(authz_copy);
            char *c = &authz_copy[n - 1];
            if (*c == '=') /* SigV2 base64 padding: change a data character instead */
                c = &authz_copy[n - 3];
            *c = *c == 'A' ? 'B' : 'A';
            r->headers[i].value = authz_copy;
            return;
        }
    }
    strcpy(query_copy, r->query);
    char *s = strstr(query_copy, "Signature=");
    if (s) {
        s += 10;
        *s = *s == 'A' ? 'B' : 'A';
    }
    r->query = query_copy;
}

int main(void)
{
    fake_iam_add(AK, SK, "example-user", 0);
    void *pl = plugin_new(NULL);
    FILE *f = fopen(VECTORS, "r");
    ok(f != NULL, "vectors file %s", VECTORS);
    if (!f)
        return tap_done();
    static char lines[256][1024];
    size_t nl = 0;
    struct treq r;
    int have = 0, count = 0;
    char name[256] = "";
    for (;;) {
        char *line = nl < 256 ? fgets(lines[nl], sizeof(lines[0]), f) : NULL;
        if (!line || line[0] == '\n') {
            if (have) {
                struct tres t = run_auth(pl, &r);
                is_int(t.rc, 0, "botocore: %s", name);
                if (t.rc && t.detail)
                    diag("%s", t.detail);
                tres_free(&t);
                static char a[1024], q[1024];
                corrupt_signature(&r, a, q);
                t = run_auth(pl, &r);
                is_int(t.rc, CAIRN_E_SIGNATURE_MISMATCH, "botocore: %s, altered signature refused", name);
                tres_free(&t);
                count++;
            }
            have = 0;
            nl = 0;
            if (!line)
                break;
            continue;
        }
        nl++;
        trim_nl(line);
        if (line[0] == '#')
            continue;
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        *sp = '\0';
        char *val = sp + 1;
        if (strcmp(line, "name") == 0) {
            snprintf(name, sizeof(name), "%s", val);
            have = 1;
        } else if (strcmp(line, "method") == 0) {
            treq_init(&r, val, "/", "");
        } else if (strcmp(line, "path") == 0) {
            r.path = val;
        } else if (strcmp(line, "query") == 0) {
            r.query = val;
        } else if (strcmp(line, "header") == 0) {
            char *colon = strstr(val, ": ");
            if (colon) {
                *colon = '\0';
                treq_header(&r, val, colon + 2);
            }
        } else if (strcmp(line, "now") == 0) {
            r.now_ms = strtoll(val, NULL, 10);
        }
    }
    fclose(f);
    ok(count >= 20, "%d recorded requests", count);
    cairn_plugin.fini(pl);
    return tap_done();
}
