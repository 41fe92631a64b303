/*
 * sc-keypath.c -- see sc-keypath.h for the encoding.
 */
#include "sc-keypath.h"

#include <cairn/plugin.h>
#include <string.h>

int sc_key_check(const char *key)
{
    size_t n = strlen(key);
    if (n == 0)
        return CAIRN_E_INVALID_OBJECT_NAME;
    if (n > SC_MAX_KEY)
        return CAIRN_E_KEY_TOO_LONG;
    const char *s = key;
    for (;;) {
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
            return CAIRN_E_INVALID_OBJECT_NAME;
        if (!e)
            break;
        s = e + 1;
    }
    return 0;
}

/* Appends the encoding of raw[0..len) to out at *o; `first` escapes a leading '.'. */
static int encode_piece(const char *raw, size_t len, int first, char *out, size_t cap, size_t *o)
{
    static const char hex[] = "0123456789ABCDEF";
    if (len == 0) {
        if (*o + 1 >= cap)
            return -1;
        out[(*o)++] = '%';
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%' || (c == '.' && i == 0 && first)) {
            if (*o + 3 >= cap)
                return -1;
            out[(*o)++] = '%';
            out[(*o)++] = hex[c >> 4];
            out[(*o)++] = hex[c & 15];
        } else {
            if (*o + 1 >= cap)
                return -1;
            out[(*o)++] = (char)c;
        }
    }
    return 0;
}

int sc_key_encode(const char *key, char *out, size_t cap)
{
    size_t o = 0;
    const char *s = key;
    for (;;) {
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (s != key) {
            if (o + 1 >= cap)
                return CAIRN_E_KEY_TOO_LONG;
            out[o++] = '/';
        }
        size_t off = 0;
        do {
            size_t piece = len - off > SC_PIECE ? SC_PIECE : len - off;
            if (off) {
                if (o + 3 >= cap)
                    return CAIRN_E_KEY_TOO_LONG;
                out[o++] = '/';
                out[o++] = '%';
                out[o++] = '+';
            }
            if (encode_piece(s + off, piece, off == 0, out, cap, &o))
                return CAIRN_E_KEY_TOO_LONG;
            off += piece;
        } while (off < len);
        if (!e)
            break;
        s = e + 1;
    }
    out[o] = '\0';
    return 0;
}

int sc_name_encode(const char *name, char *out, size_t cap)
{
    size_t len = strlen(name), o = 0;
    if (len > SC_PIECE || encode_piece(name, len, 1, out, cap, &o))
        return -1;
    out[o] = '\0';
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sc_name_decode(const char *name, char *out, size_t cap)
{
    if (!strcmp(name, "%")) {
        if (cap < 1)
            return -1;
        out[0] = '\0';
        return 0;
    }
    size_t o = 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (c == '%') {
            int hi = hexval(p[1]);
            int lo = hi < 0 ? -1 : hexval(p[2]);
            if (lo < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            p += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (int)o;
}
