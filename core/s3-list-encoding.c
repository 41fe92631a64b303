/* s3-list-encoding.c -- encoding-type=url, continuation tokens, list bounds. */
#include <stdlib.h>
#include <string.h>

#include <cairn/plugin.h>

#include "arena.h"
#include "checksum.h"
#include "s3-list-encoding.h"

static int url_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~' || c == '/';
}

char *s3_url_encode(struct arena *a, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += url_unreserved(*p) ? 1 : 3;
    char *out = arena_alloc(a, n + 1);
    if (!out)
        return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (url_unreserved(*p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

const char *s3_list_name(struct arena *a, const char *s, int encode)
{
    if (!s || !encode)
        return s;
    return s3_url_encode(a, s);
}

char *s3_list_token_encode(struct arena *a, const char *marker)
{
    size_t len = strlen(marker);
    size_t cap = CHECKSUM_BASE64_LEN(len);
    char *out = arena_alloc(a, cap);
    if (!out || checksum_base64_encode(marker, len, out, cap) < 0)
        return NULL;
    return out;
}

int s3_list_token_decode(struct arena *a, const char *token, char **marker_r)
{
    size_t len = strlen(token);
    if (len == 0 || len > 8192)
        return CAIRN_E_INVALID_ARGUMENT;
    uint8_t *buf = arena_alloc(a, len + 1);
    if (!buf)
        return CAIRN_E_NOMEM;
    ssize_t n = checksum_base64_decode(token, len, buf, len);
    if (n <= 0 || memchr(buf, '\0', (size_t)n))
        return CAIRN_E_INVALID_ARGUMENT;
    buf[n] = '\0';
    *marker_r = (char *)buf;
    return 0;
}

int s3_parse_uint(const char *s, unsigned long limit, unsigned long *value_r)
{
    if (!s || *s < '0' || *s > '9')
        return CAIRN_E_INVALID_ARGUMENT;
    unsigned long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return CAIRN_E_INVALID_ARGUMENT;
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > limit)
            return CAIRN_E_INVALID_ARGUMENT;
    }
    *value_r = v;
    return 0;
}

int s3_parse_max(const char *s, int dflt, int limit, int *value_r)
{
    if (!s) {
        *value_r = dflt;
        return 0;
    }
    if (*s < '0' || *s > '9')
        return CAIRN_E_INVALID_ARGUMENT;
    unsigned long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return CAIRN_E_INVALID_ARGUMENT;
        if (v <= (unsigned long)limit)
            v = v * 10 + (unsigned long)(*p - '0');
        /* Larger numbers (even beyond 2^31, as S3 accepts) clamp to the limit. */
    }
    *value_r = v > (unsigned long)limit ? limit : (int)v;
    return 0;
}

int s3_list_roll_up(struct arena *a, const char *key, const char *prefix, const char *delimiter,
                    char **rolled_r)
{
    size_t plen = strlen(prefix);
    if (!delimiter || !*delimiter || strncmp(key, prefix, plen) != 0)
        return 0;
    const char *d = strstr(key + plen, delimiter);
    if (!d)
        return 0;
    size_t n = (size_t)(d - key) + strlen(delimiter);
    *rolled_r = arena_strndup(a, key, n);
    return *rolled_r ? 1 : -1;
}

const char *s3_list_backend_after(struct arena *a, const char *prefix, const char *delimiter,
                                  const char *marker)
{
    if (!marker || !*marker)
        return "";
    char *rolled = NULL;
    int r = s3_list_roll_up(a, marker, prefix, delimiter, &rolled);
    if (r < 0)
        return NULL;
    if (r == 0 || strcmp(rolled, marker) != 0)
        return marker;
    size_t n = strlen(marker);
    char *after = arena_alloc(a, n + 2);
    if (!after)
        return NULL;
    memcpy(after, marker, n);
    after[n] = (char)0xFF;
    after[n + 1] = '\0';
    return after;
}
