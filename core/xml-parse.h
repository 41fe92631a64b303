/*
 * xml-parse.h -- parses small XML request bodies (CompleteMultipartUpload,
 * DeleteObjects, Tagging, VersioningConfiguration, LifecycleConfiguration)
 * into a tree, with expat.  Namespaces are ignored: element names are local
 * names, so bodies with or without the S3 namespace parse the same.  Entity
 * references (&quot; ...) are decoded; DOCTYPE / external entities are refused.
 */
#ifndef CAIRN_XML_PARSE_H
#define CAIRN_XML_PARSE_H

#include <stddef.h>

struct arena;

struct xml_node {
    const char *name;        /* local name, without prefix */
    const char *text;        /* concatenated character data, trimmed of surrounding white space */
    struct xml_node *first_child;
    struct xml_node *next;   /* next sibling */
};

/*
 * Parses `len` bytes.  Returns the root element, allocated from `arena`, or
 * NULL when the document is not well-formed, is deeper than 32 levels, or has
 * more than 100,000 elements.
 */
struct xml_node *xml_parse(struct arena *arena, const char *data, size_t len);

/* First child named `name`, or NULL. */
struct xml_node *xml_child(const struct xml_node *node, const char *name);

/* Text of the first child named `name`, or NULL. */
const char *xml_child_text(const struct xml_node *node, const char *name);

#endif
