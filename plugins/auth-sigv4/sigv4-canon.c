/*
 * sigv4-canon.c -- SigV4 parsing, canonical request and signature pieces.
 */
#include "sigv4-canon.h"

#include <stdlib.h>
#include <string.h>

int sigv4_parse_credential(struct sigv4_ctx *cx, const char *s, struct sigv4_credential *cred_r)
{
    memset(cred_r, 0, sizeof(*cred_r));
    if (!s)
        return -1;
    /* Split from the right: the access key is everything before the last four '/'. */
    size_t len = strlen(s);
    const char *slash[4];
    int found = 0;
    for (size_t i = len; i > 0 && found < 4; i--)
        if (s[i - 1] == '/')
            slash[found++] = s + i - 1;
    if (found < 4)
        return -1;
    /* slash[3] ends the access key; slash[2] the date; slash[1] the region; slash[0] the service. */
    const char *ak = s, *date = slash[3] + 1, *region = slash[2] + 1, *service = slash[1] + 1;
    const char *term = slash[0] + 1;
    size_t ak_len = (size_t)(slash[3] - ak), date_len = (size_t)(slash[2] - date);
    size_t region_len = (size_t)(slash[1] - region), service_len = (size_t)(slash[0] - service);
    if (ak_len == 0 || date_len != 8 || region_len == 0 || region_len > 64)
        return -1;
    for (size_t i = 0; i < 8; i++)
        if (date[i] < '0' || date[i] > '9')
            return -1;
    if (service_len != 2 || strncmp(service, "s3", 2) != 0 || strcmp(term, "aws4_request") != 0)
        return -1;
    cred_r->access_key = sigv4_strndup(cx, ak, ak_len);
    cred_r->date = sigv4_strndup(cx, date, 8);
    cred_r->region = sigv4_strndup(cx, region, region_len);
    cred_r->service = sigv4_strndup(cx, service, service_len);
    cred_r->scope = sigv4_strndup(cx, date, (size_t)(s + len - date));
    if (!cred_r->access_key || !cred_r->date || !cred_r->region || !cred_r->service ||
        !cred_r->scope)
        return CAIRN_E_NOMEM;
    return 0;
}

int sigv4_check_signed_headers(const char *list)
{
    if (!list || !*list)
        return -1;
    int has_host = 0;
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0)
            return -1;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c <= ' ' || c >= 0x7f || (c >= 'A' && c <= 'Z') || c == ':' || c == ',')
                return -1;
        }
        if (n == 4 && strncmp(p, "host", 4) == 0)
            has_host = 1;
        if (!end)
            break;
        p = end + 1;
    }
    return has_host ? 0 : -1;
}

int sigv4_parse_auth_header(struct sigv4_ctx *cx, const char *value, struct sigv4_auth_header *a_r)
{
    static const char algo[] = "AWS4-HMAC-SHA256";
    memset(a_r, 0, sizeof(*a_r));
    if (!value || strncmp(value, algo, sizeof(algo) - 1) != 0)
        return -1;
    const char *p = value + sizeof(algo) - 1;
    if (*p != ' ')
        return -1;
    const char *cred = NULL, *sh = NULL, *sig = NULL;
    size_t cred_len = 0, sh_len = 0, sig_len = 0;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq)
            return -1;
        size_t klen = (size_t)(eq - p);
        const char *v = eq + 1;
        size_t vlen = (size_t)(end - v);
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        const char **slot = NULL;
        size_t *slot_len = NULL;
        if (klen == 10 && strncmp(p, "Credential", 10) == 0) {
            slot = &cred;
            slot_len = &cred_len;
        } else if (klen == 13 && strncmp(p, "SignedHeaders", 13) == 0) {
            slot = &sh;
            slot_len = &sh_len;
        } else if (klen == 9 && strncmp(p, "Signature", 9) == 0) {
            slot = &sig;
            slot_len = &sig_len;
        } else {
            return -1;
        }
        if (*slot)
            return -1; /* given twice */
        *slot = v;
        *slot_len = vlen;
        p = end;
    }
    if (!cred || !sh || !sig || sig_len != 64)
        return -1;
    char *cred_s = sigv4_strndup(cx, cred, cred_len);
    char *sh_s = sigv4_strndup(cx, sh, sh_len);
    char *sig_s = sigv4_strndup(cx, sig, sig_len);
    if (!cred_s || !sh_s || !sig_s)
        return CAIRN_E_NOMEM;
    if (!sigv4_is_hex(sig_s, 64))
        return -1;
    int rc = sigv4_parse_credential(cx, cred_s, &a_r->cred);
    if (rc < 0)
        return rc;
    if (sigv4_check_signed_headers(sh_s) < 0)
        return -1;
    a_r->signed_headers = sh_s;
    a_r->signature = sig_s;
    return 0;
}

void sigv4_canonical_uri(struct sigv4_buf *b, const char *raw_path)
{
    if (!raw_path || !*raw_path) {
        sigv4_buf_addc(b, '/');
        return;
    }
    if (*raw_path != '/')
        sigv4_buf_addc(b, '/');
    const char *p = raw_path;
    while (*p) {
        if (*p == '/') {
            sigv4_buf_addc(b, '/');
            p++;
            continue;
        }
        const char *end = strchr(p, '/');
        if (!end)
            end = p + strlen(p);
        size_t dlen;
        char *seg = sigv4_percent_decode(b->cx, p, (size_t)(end - p), &dlen);
        if (!seg) {
            b->failed = 1;
            return;
        }
        sigv4_buf_add_uri_encoded(b, seg, dlen, 0);
        p = end;
    }
}

/* One encoded name=value pair of the canonical query. */
struct enc_pair {
    char *name;
    char *value;
};

static int cmp_pair(const void *a, const void *b)
{
    const struct enc_pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

int sigv4_canonical_query(struct sigv4_buf *b, const struct sigv4_param *params, int n,
                          const char *exclude)
{
    if (n <= 0)
        return 0;
    struct enc_pair *pairs = b->cx->sv->req_alloc(b->cx->req, (size_t)n * sizeof(*pairs));
    if (!pairs)
        return CAIRN_E_NOMEM;
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (exclude && strcmp(params[i].name, exclude) == 0 &&
            params[i].name_len == strlen(exclude))
            continue;
        struct sigv4_buf nb, vb;
        sigv4_buf_init(&nb, b->cx);
        sigv4_buf_init(&vb, b->cx);
        sigv4_buf_add_uri_encoded(&nb, params[i].name, params[i].name_len, 0);
        sigv4_buf_add_uri_encoded(&vb, params[i].value, params[i].value_len, 0);
        sigv4_buf_add(&nb, "", 0);
        sigv4_buf_add(&vb, "", 0);
        if (nb.failed || vb.failed)
            return CAIRN_E_NOMEM;
        pairs[m].name = nb.data;
        pairs[m].value = vb.data;
        m++;
    }
    qsort(pairs, (size_t)m, sizeof(*pairs), cmp_pair);
    for (int i = 0; i < m; i++) {
        if (i)
            sigv4_buf_addc(b, '&');
        sigv4_buf_adds(b, pairs[i].name);
        sigv4_buf_addc(b, '=');
        sigv4_buf_adds(b, pairs[i].value);
    }
    return b->failed ? CAIRN_E_NOMEM : 0;
}

void sigv4_canonical_headers(struct sigv4_buf *b, const struct cairn_http_request *http,
                             const char *signed_headers)
{
    const char *p = signed_headers;
    while (p && *p) {
        const char *end = strchr(p, ';');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        sigv4_buf_add(b, p, n);
        sigv4_buf_addc(b, ':');
        int seen = 0;
        for (size_t i = 0; i < http->n_headers; i++) {
            const char *name = http->headers[i].name;
            if (!name || strlen(name) != n || strncmp(name, p, n) != 0)
                continue;
            if (seen++)
                sigv4_buf_addc(b, ',');
            sigv4_buf_add_trimmed(b, http->headers[i].value ? http->headers[i].value : "");
        }
        if (!seen && n == 4 && strncmp(p, "host", 4) == 0 && http->host)
            sigv4_buf_add_trimmed(b, http->host);
        else if (!seen && n == 6 && strncmp(p, "expect", 6) == 0)
            sigv4_buf_adds(b, "100-continue");
        sigv4_buf_addc(b, '\n');
        p = end ? end + 1 : NULL;
    }
}

void sigv4_sha256_hex(const struct cairn_services *sv, const void *data, size_t len,
                      char out[65])
{
    uint8_t d[64];
    struct cairn_hash *h = sv->hash_new(CAIRN_HASH_SHA256);
    if (!h) {
        /* Cannot hash: produce a value that can never match a real digest. */
        memset(out, 'x', 64);
        out[64] = '\0';
        return;
    }
    sv->hash_update(h, data, len);
    sv->hash_final(h, d);
    sigv4_hex(d, 32, out);
}

void sigv4_signing_key(const struct cairn_services *sv, const char *secret, const char *date,
                       const char *region, const char *service, uint8_t key_r[32])
{
    size_t slen = strlen(secret);
    uint8_t k[32];
    char *ks = malloc(slen + 5);
    if (!ks) {
        memset(key_r, 0, 32);
        return;
    }
    memcpy(ks, "AWS4", 4);
    memcpy(ks + 4, secret, slen + 1);
    sv->hmac_sha256(ks, slen + 4, date, strlen(date), k);
    sigv4_secure_zero(ks, slen + 4);
    free(ks);
    sv->hmac_sha256(k, 32, region, strlen(region), k);
    sv->hmac_sha256(k, 32, service, strlen(service), k);
    sv->hmac_sha256(k, 32, "aws4_request", 12, key_r);
    sigv4_secure_zero(k, sizeof(k));
}

void sigv4_hmac_hex(const struct cairn_services *sv, const uint8_t key[32], const char *data,
                    size_t len, char out[65])
{
    uint8_t mac[32];
    sv->hmac_sha256(key, 32, data, len, mac);
    sigv4_hex(mac, 32, out);
}

char *sigv4_string_to_sign(struct sigv4_ctx *cx, const char *amz_date, const char *scope,
                           const char *canonical_request, size_t cr_len)
{
    char h[65];
    sigv4_sha256_hex(cx->sv, canonical_request, cr_len, h);
    struct sigv4_buf b;
    sigv4_buf_init(&b, cx);
    sigv4_buf_adds(&b, "AWS4-HMAC-SHA256\n");
    sigv4_buf_adds(&b, amz_date);
    sigv4_buf_addc(&b, '\n');
    sigv4_buf_adds(&b, scope);
    sigv4_buf_addc(&b, '\n');
    sigv4_buf_adds(&b, h);
    return b.failed ? NULL : b.data;
}
