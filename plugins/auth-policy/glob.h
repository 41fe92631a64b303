/*
 * glob.h -- the `*` / `?` wildcard matching of IAM policies.
 *
 * Patterns are kept in an "escaped glob" form so that text which must be
 * literal (the ${*} / ${?} / ${$} escapes, substituted variable values) can
 * sit next to real wildcards:  `*` matches any run of bytes, `?` one
 * character (one UTF-8 sequence), and a backslash makes the next byte
 * literal.
 */
#ifndef CAIRN_POLICY_GLOB_H
#define CAIRN_POLICY_GLOB_H

#include <stddef.h>

/* A growable string buffer with a small inline store. */
struct sbuf {
    char *p;
    size_t len, cap;
    int failed; /* an allocation failed; contents are incomplete */
    char inline_store[256];
};

/* Makes `b` empty and ready. */
void sbuf_init(struct sbuf *b);
/* Releases heap memory held by `b` (b stays usable after sbuf_init). */
void sbuf_release(struct sbuf *b);
/* Empties `b`, keeping its memory. */
void sbuf_reset(struct sbuf *b);
/* Appends n bytes / one byte; sets b->failed on allocation failure. */
void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_addc(struct sbuf *b, char c);

/* Appends `s` so that every byte matches only itself (escapes * ? \). */
void glob_add_literal(struct sbuf *b, const char *s, size_t n);

/* Returns a malloc'd escaped-glob form of a pattern as written in a policy
 * without variables: `*` and `?` stay wildcards, a backslash is literal.
 * NULL on allocation failure. */
char *glob_from_raw(const char *raw);

/* Does `s` match the escaped glob `pattern`?  icase: ASCII case-insensitive. */
int glob_match(const char *pattern, const char *s, int icase);

#endif
