/*
 * xml-writer.h -- builds small XML documents (S3 responses) into a growing
 * buffer, escaping text.
 *
 *   struct xml_writer w; xml_writer_init(&w);
 *   xml_open(&w, "ListBucketResult", S3_XMLNS);
 *   xml_elem(&w, "Name", bucket);
 *   xml_elemf(&w, "MaxKeys", "%d", 1000);
 *   xml_close(&w, "ListBucketResult");
 *   ... w.buf, w.len ...; xml_writer_clear(&w);
 */
#ifndef CAIRN_XML_WRITER_H
#define CAIRN_XML_WRITER_H

#include <stddef.h>

#define S3_XMLNS "http://s3.amazonaws.com/doc/2006-03-01/"

struct xml_writer {
    char *buf;  /* NUL-terminated, starts with the XML declaration */
    size_t len;
    size_t cap;
    int failed; /* set when an allocation failed; the document is then unusable */
};

void xml_writer_init(struct xml_writer *w);
void xml_writer_clear(struct xml_writer *w);
/* <name xmlns="ns"> (ns may be NULL). */
void xml_open(struct xml_writer *w, const char *name, const char *xmlns);
void xml_close(struct xml_writer *w, const char *name);
/* <name>escaped text</name>; NULL text writes <name></name>. */
void xml_elem(struct xml_writer *w, const char *name, const char *text);
void xml_elemf(struct xml_writer *w, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends raw (already valid) XML. */
void xml_raw(struct xml_writer *w, const char *xml);

#endif
