/* xml-writer.c -- builds small XML documents into a growing, escaped buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml-writer.h"

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

/* Makes room for `more` bytes plus the NUL; sets `failed` when it cannot. */
static int xml_reserve(struct xml_writer *w, size_t more)
{
    if (w->failed)
        return -1;
    if (w->len + more + 1 <= w->cap)
        return 0;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + more + 1)
        cap *= 2;
    char *p = realloc(w->buf, cap);
    if (!p) {
        w->failed = 1;
        return -1;
    }
    w->buf = p;
    w->cap = cap;
    return 0;
}

static void xml_append(struct xml_writer *w, const char *s, size_t n)
{
    if (xml_reserve(w, n) < 0)
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void xml_puts(struct xml_writer *w, const char *s)
{
    xml_append(w, s, strlen(s));
}

/*
 * Escapes text for element content.  Besides the five XML entities, control
 * characters other than tab/newline/CR are written as character references
 * (&#x1; is not legal XML 1.0 either, but S3 keys may contain them and S3
 * itself emits them that way; clients decode them).
 */
static void xml_escape(struct xml_writer *w, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        char num[16];
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n') {
                snprintf(num, sizeof(num), "&#x%X;", c);
                rep = num;
            } else if (c == '\r') {
                rep = "&#xD;";
            }
        }
        if (rep) {
            xml_append(w, run, (size_t)(s - run));
            xml_puts(w, rep);
            run = s + 1;
        }
    }
    xml_append(w, run, (size_t)(s - run));
}

void xml_writer_init(struct xml_writer *w)
{
    memset(w, 0, sizeof(*w));
    xml_puts(w, XML_DECL);
}

void xml_writer_clear(struct xml_writer *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

void xml_open(struct xml_writer *w, const char *name, const char *xmlns)
{
    xml_puts(w, "<");
    xml_puts(w, name);
    if (xmlns) {
        xml_puts(w, " xmlns=\"");
        xml_escape(w, xmlns);
        xml_puts(w, "\"");
    }
    xml_puts(w, ">");
}

void xml_close(struct xml_writer *w, const char *name)
{
    xml_puts(w, "</");
    xml_puts(w, name);
    xml_puts(w, ">");
}

void xml_elem(struct xml_writer *w, const char *name, const char *text)
{
    xml_open(w, name, NULL);
    if (text)
        xml_escape(w, text);
    xml_close(w, name);
}

void xml_elemf(struct xml_writer *w, const char *name, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        w->failed = 1;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        xml_elem(w, name, small);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        w->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    xml_elem(w, name, big);
    free(big);
}

void xml_raw(struct xml_writer *w, const char *xml)
{
    xml_puts(w, xml);
}
