/*
 * fuzz-xml.c -- libFuzzer harness for the XML request-body parsers: the
 * generic tree parser (xml-parse.c) and the DeleteObjects and
 * CompleteMultipartUpload body parsers built on it (s3-request-xml.c).
 * The whole input is the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cairn/plugin.h>

#include "arena.h"
#include "s3-request-xml.h"
#include "xml-parse.h"

/* The libFuzzer entry point (declared here: libFuzzer has no header). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walks the tree touching every name and text so a dangling pointer shows. */
static size_t walk(const struct xml_node *n, int depth)
{
    size_t total = 0;
    for (; n; n = n->next) {
        total += strlen(n->name) + (n->text ? strlen(n->text) : 0);
        if (depth < 64)
            total += walk(n->first_child, depth + 1);
    }
    return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: the parsers take (pointer, length), no NUL. */
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    if (size)
        memcpy(body, data, size);

    struct arena *a = arena_new();
    if (!a) {
        free(body);
        return 0;
    }
    struct xml_node *root = xml_parse(a, body, size);
    if (root) {
        (void)walk(root, 0);
        (void)xml_child(root, "Part");
        (void)xml_child_text(root, "Status");
    }

    struct s3_delete_object *objs = NULL;
    size_t n = 0;
    int quiet = 0;
    if (s3_parse_delete_body(a, body, size, &objs, &n, &quiet) == 0) {
        for (size_t i = 0; i < n; i++) {
            (void)strlen(objs[i].key);
            if (objs[i].version_id)
                (void)strlen(objs[i].version_id);
        }
    }

    struct cairn_part_info *parts = NULL;
    if (s3_parse_complete_body(a, body, size, &parts, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            (void)strlen(parts[i].etag);
            for (size_t j = 0; j < parts[i].n_attrs; j++)
                (void)(strlen(parts[i].attrs[j].name) + strlen(parts[i].attrs[j].value));
        }
    }

    /* s3_etag_unquote on a NUL-terminated copy (capped: it refuses long ones). */
    char etag_in[200], etag_out[80];
    size_t el = size < sizeof(etag_in) - 1 ? size : sizeof(etag_in) - 1;
    memcpy(etag_in, data, el);
    etag_in[el] = '\0';
    (void)s3_etag_unquote(etag_in, etag_out);

    arena_free(a);
    free(body);
    return 0;
}
