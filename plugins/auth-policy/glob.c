/* glob.c -- wildcard matching and the string buffer it is built with. */
#include "glob.h"

#include <stdlib.h>
#include <string.h>

void sbuf_init(struct sbuf *b)
{
    b->p = b->inline_store;
    b->len = 0;
    b->cap = sizeof(b->inline_store);
    b->failed = 0;
    b->p[0] = '\0';
}

void sbuf_release(struct sbuf *b)
{
    if (b->p != b->inline_store)
        free(b->p);
    sbuf_init(b);
}

void sbuf_reset(struct sbuf *b)
{
    b->len = 0;
    b->failed = 0;
    b->p[0] = '\0';
}

static int sbuf_reserve(struct sbuf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap * 2;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *np = malloc(cap);
    if (!np) {
        b->failed = 1;
        return -1;
    }
    memcpy(np, b->p, b->len + 1);
    if (b->p != b->inline_store)
        free(b->p);
    b->p = np;
    b->cap = cap;
    return 0;
}

void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
    if (sbuf_reserve(b, n) < 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sbuf_addc(struct sbuf *b, char c)
{
    sbuf_add(b, &c, 1);
}

void glob_add_literal(struct sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '*' || s[i] == '?' || s[i] == '\\')
            sbuf_addc(b, '\\');
        sbuf_addc(b, s[i]);
    }
}

char *glob_from_raw(const char *raw)
{
    size_t n = strlen(raw), extra = 0;
    for (size_t i = 0; i < n; i++)
        extra += raw[i] == '\\';
    char *out = malloc(n + extra + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (raw[i] == '\\')
            *o++ = '\\';
        *o++ = raw[i];
    }
    *o = '\0';
    return out;
}

/* Length of the UTF-8 sequence starting at s (1 for stray bytes). */
static size_t utf8_len(const char *s)
{
    unsigned char c = (unsigned char)*s;
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    for (size_t i = 1; i < n; i++)
        if (((unsigned char)s[i] >> 6) != 2)
            return 1;
    return n;
}

/* ASCII-only folding: IAM action names are ASCII, and it avoids locale calls. */
static inline char fold(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static inline int same(char a, char b, int icase)
{
    return a == b || (icase && fold(a) == fold(b));
}

int glob_match(const char *p, const char *s, int icase)
{
    /* Classic greedy match with one backtrack point: the last `*` seen. */
    const char *star_p = NULL, *star_s = NULL;
    while (*s) {
        if (*p == '*') {
            while (*p == '*')
                p++;
            if (!*p)
                return 1;
            star_p = p;
            star_s = s;
            continue;
        }
        if (*p == '?') {
            p++;
            s += utf8_len(s);
            continue;
        }
        const char *lit = p;
        size_t plen = 1;
        if (*p == '\\' && p[1]) {
            lit = p + 1;
            plen = 2;
        }
        if (*p && same(*lit, *s, icase)) {
            p += plen;
            s++;
            continue;
        }
        if (!star_p)
            return 0;
        p = star_p;
        s = ++star_s;
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}
