/*
 * xml-parse.c -- small XML request bodies into a tree, with expat.
 *
 * Hardening: any DOCTYPE is refused (so no entity can be declared: no billion
 * laughs, no external entities), nesting is limited to XML_MAX_DEPTH levels and
 * the document to XML_MAX_ELEMENTS elements.  Names lose their namespace
 * prefix ("s3:Delete" -> "Delete"); xmlns attributes are ignored, so bodies with
 * or without the S3 namespace parse alike.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "arena.h"
#include "xml-parse.h"

#define XML_MAX_DEPTH 32
#define XML_MAX_ELEMENTS 100000

/* One open element: its node, the last child appended, and its text so far. */
struct open_elem {
    struct xml_node *node;
    struct xml_node *last_child;
    char *text;
    size_t text_len, text_cap;
};

struct parse_state {
    XML_Parser parser;
    struct arena *arena;
    struct xml_node *root;
    struct open_elem stack[XML_MAX_DEPTH];
    int depth;
    size_t n_elements;
    int failed;
};

static void fail(struct parse_state *st)
{
    if (!st->failed) {
        st->failed = 1;
        XML_StopParser(st->parser, XML_FALSE);
    }
}

/* "prefix:local" -> "local". */
static const char *local_name(const char *name)
{
    const char *colon = strrchr(name, ':');
    return colon ? colon + 1 : name;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    struct parse_state *st = ud;
    (void)attrs;
    if (st->failed)
        return;
    if (st->depth >= XML_MAX_DEPTH || ++st->n_elements > XML_MAX_ELEMENTS) {
        fail(st);
        return;
    }
    struct xml_node *node = arena_alloc(st->arena, sizeof(*node));
    if (!node || !(node->name = arena_strdup(st->arena, local_name(name)))) {
        fail(st);
        return;
    }
    if (st->depth == 0) {
        st->root = node;
    } else {
        struct open_elem *parent = &st->stack[st->depth - 1];
        if (parent->last_child)
            parent->last_child->next = node;
        else
            parent->node->first_child = node;
        parent->last_child = node;
    }
    struct open_elem *e = &st->stack[st->depth++];
    memset(e, 0, sizeof(*e));
    e->node = node;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    struct parse_state *st = ud;
    (void)name;
    if (st->failed || st->depth == 0)
        return;
    struct open_elem *e = &st->stack[--st->depth];
    const char *s = e->text ? e->text : "";
    size_t len = e->text_len;
    while (len > 0 && is_space(*s)) {
        s++;
        len--;
    }
    while (len > 0 && is_space(s[len - 1]))
        len--;
    e->node->text = arena_strndup(st->arena, s, len);
    free(e->text);
    e->text = NULL;
    if (!e->node->text)
        fail(st);
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct parse_state *st = ud;
    if (st->failed || st->depth == 0 || len <= 0)
        return;
    struct open_elem *e = &st->stack[st->depth - 1];
    if (e->text_len + (size_t)len + 1 > e->text_cap) {
        size_t cap = e->text_cap ? e->text_cap : 64;
        while (cap < e->text_len + (size_t)len + 1)
            cap *= 2;
        char *p = realloc(e->text, cap);
        if (!p) {
            fail(st);
            return;
        }
        e->text = p;
        e->text_cap = cap;
    }
    memcpy(e->text + e->text_len, s, (size_t)len);
    e->text_len += (size_t)len;
}

/* A DOCTYPE could declare entities (billion laughs, external files): refuse it. */
static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
    fail(ud);
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid,
                                   const XML_Char *notation)
{
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid;
    (void)pubid, (void)notation;
    fail(ud);
}

struct xml_node *xml_parse(struct arena *arena, const char *data, size_t len)
{
    if (!arena || !data || len == 0 || len > INT_MAX)
        return NULL;
    struct parse_state *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->arena = arena;
    st->parser = XML_ParserCreate(NULL);
    if (!st->parser) {
        free(st);
        return NULL;
    }
    XML_SetUserData(st->parser, st);
    XML_SetElementHandler(st->parser, on_start, on_end);
    XML_SetCharacterDataHandler(st->parser, on_text);
    XML_SetStartDoctypeDeclHandler(st->parser, on_doctype);
    XML_SetEntityDeclHandler(st->parser, on_entity_decl);
    XML_SetParamEntityParsing(st->parser, XML_PARAM_ENTITY_PARSING_NEVER);

    enum XML_Status status = XML_Parse(st->parser, data, (int)len, XML_TRUE);
    struct xml_node *root = NULL;
    if (status == XML_STATUS_OK && !st->failed && st->depth == 0)
        root = st->root;
    /* After an abort, elements still open hold text buffers. */
    for (int i = 0; i < st->depth; i++)
        free(st->stack[i].text);
    XML_ParserFree(st->parser);
    free(st);
    return root;
}

struct xml_node *xml_child(const struct xml_node *node, const char *name)
{
    if (!node || !name)
        return NULL;
    for (struct xml_node *c = node->first_child; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

const char *xml_child_text(const struct xml_node *node, const char *name)
{
    struct xml_node *c = xml_child(node, name);
    return c ? c->text : NULL;
}
