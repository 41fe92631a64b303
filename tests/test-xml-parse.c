/* test-xml-parse.c -- the expat-based request-body parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "tap.h"
#include "xml-parse.h"

static struct xml_node *parse(struct arena *a, const char *s)
{
    return xml_parse(a, s, strlen(s));
}

static void test_plain_and_namespaced(struct arena *a)
{
    const char *plain = "<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object>"
                        "<Object><Key>b</Key><VersionId>v1</VersionId></Object></Delete>";
    struct xml_node *root = parse(a, plain);
    ok(root != NULL, "plain document parses");
    is_str(root ? root->name : NULL, "Delete", "root name");
    is_str(xml_child_text(root, "Quiet"), "true", "child text");
    struct xml_node *o = xml_child(root, "Object");
    is_str(xml_child_text(o, "Key"), "a", "first Object key");
    ok(o && o->next && strcmp(o->next->name, "Object") == 0, "siblings in order");
    is_str(o && o->next ? xml_child_text(o->next, "VersionId") : NULL, "v1", "second version");
    ok(xml_child(root, "Nope") == NULL, "absent child is NULL");
    ok(xml_child_text(root, "Nope") == NULL, "absent child text is NULL");

    const char *ns = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                     "<Object><Key>k</Key></Object></Delete>";
    root = parse(a, ns);
    is_str(root ? root->name : NULL, "Delete", "default namespace: local name");
    is_str(xml_child_text(xml_child(root, "Object"), "Key"), "k", "default namespace: child");

    const char *pfx = "<s3:Delete xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                      "<s3:Object><s3:Key>p</s3:Key></s3:Object></s3:Delete>";
    root = parse(a, pfx);
    is_str(root ? root->name : NULL, "Delete", "prefixed namespace: local name");
    is_str(xml_child_text(xml_child(root, "Object"), "Key"), "p", "prefixed namespace: child");
}

static void test_entities_and_whitespace(struct arena *a)
{
    const char *doc = "<CompleteMultipartUpload>\n"
                      "  <Part>\n"
                      "    <PartNumber> 1 </PartNumber>\n"
                      "    <ETag>&quot;abc&quot;</ETag>\n"
                      "  </Part>\n"
                      "  <Part><PartNumber>2</PartNumber><ETag>&#34;d&amp;e&lt;&gt;&apos;&#x41;</ETag></Part>\n"
                      "</CompleteMultipartUpload>\n";
    struct xml_node *root = parse(a, doc);
    ok(root != NULL, "pretty-printed document parses");
    struct xml_node *p = xml_child(root, "Part");
    is_str(xml_child_text(p, "PartNumber"), "1", "text is trimmed");
    is_str(xml_child_text(p, "ETag"), "\"abc\"", "&quot; decoded");
    is_str(p && p->next ? xml_child_text(p->next, "ETag") : NULL, "\"d&e<>'A",
           "predefined and character entities decoded");
    is_str(root ? root->text : NULL, "", "parent text excludes children, trimmed to empty");

    root = parse(a, "<A><![CDATA[ x<y ]]></A>");
    is_str(root ? root->text : NULL, "x<y", "CDATA is text");
    root = parse(a, "<A>caf\xc3\xa9 \xe2\x82\xac</A>");
    is_str(root ? root->text : NULL, "caf\xc3\xa9 \xe2\x82\xac", "UTF-8 text kept");
    root = parse(a, "<A>one<!-- c --><B/>two</A>");
    is_str(root ? root->text : NULL, "onetwo", "text around comments and children joined");
    root = parse(a, "<A/>");
    ok(root && root->text && root->text[0] == '\0' && !root->first_child, "empty element");
}

static void test_malformed(struct arena *a)
{
    ok(parse(a, "") == NULL, "empty input refused");
    ok(xml_parse(a, "<A/>", 0) == NULL, "zero length refused");
    ok(parse(a, "<A>") == NULL, "unclosed element refused");
    ok(parse(a, "<A></B>") == NULL, "mismatched tags refused");
    ok(parse(a, "<A>&bogus;</A>") == NULL, "undefined entity refused");
    ok(parse(a, "<A/><B/>") == NULL, "two roots refused");
    ok(parse(a, "not xml") == NULL, "text refused");
    ok(parse(a, "<A x='1' x='2'/>") == NULL, "duplicate attribute refused");
    ok(parse(a, "<A>\x01</A>") == NULL, "control character refused");
    ok(parse(a, "<A>\xff\xfe</A>") == NULL, "invalid UTF-8 refused");
    ok(xml_parse(a, "<A>x</A>trailing", 8) != NULL, "length bounds the input");
    ok(xml_parse(NULL, "<A/>", 4) == NULL, "NULL arena refused");
    ok(xml_parse(a, NULL, 4) == NULL, "NULL data refused");
}

static void test_doctype_refused(struct arena *a)
{
    const char *laughs =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE lolz [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        "]>\n"
        "<lolz>&lol4;</lolz>";
    ok(parse(a, laughs) == NULL, "billion laughs refused");
    ok(parse(a, "<!DOCTYPE A SYSTEM \"file:///etc/passwd\"><A>&x;</A>") == NULL,
       "external DOCTYPE refused");
    ok(parse(a, "<!DOCTYPE A [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><A>&x;</A>") == NULL,
       "external entity refused");
    ok(parse(a, "<!DOCTYPE A><A/>") == NULL, "bare DOCTYPE refused");
}

static void test_limits(struct arena *a)
{
    char buf[1024];
    size_t n = 0;
    /* 32 levels: accepted; 33: refused. */
    for (int i = 0; i < 32; i++)
        n += (size_t)sprintf(buf + n, "<a>");
    for (int i = 0; i < 32; i++)
        n += (size_t)sprintf(buf + n, "</a>");
    ok(xml_parse(a, buf, n) != NULL, "32 levels accepted");
    n = 0;
    for (int i = 0; i < 33; i++)
        n += (size_t)sprintf(buf + n, "<a>");
    for (int i = 0; i < 33; i++)
        n += (size_t)sprintf(buf + n, "</a>");
    ok(xml_parse(a, buf, n) == NULL, "33 levels refused");

    /* A very deep document (an attacker's) is refused without recursion. */
    size_t deep = 100000;
    char *big = malloc(deep * 7 + 1);
    n = 0;
    for (size_t i = 0; i < deep; i++)
        memcpy(big + n, "<a>", 3), n += 3;
    for (size_t i = 0; i < deep; i++)
        memcpy(big + n, "</a>", 4), n += 4;
    ok(xml_parse(a, big, n) == NULL, "100000 levels refused");
    free(big);

    /* Element count: 100,000 accepted, 100,001 refused (root included). */
    size_t count = 100000;
    big = malloc(count * 4 + 16);
    n = 0;
    memcpy(big + n, "<r>", 3), n += 3;
    for (size_t i = 0; i < count - 1; i++)
        memcpy(big + n, "<a/>", 4), n += 4;
    memcpy(big + n, "</r>", 4), n += 4;
    ok(xml_parse(a, big, n) != NULL, "100000 elements accepted");
    n -= 4;
    memcpy(big + n, "<a/></r>", 8), n += 8;
    ok(xml_parse(a, big, n) == NULL, "100001 elements refused");
    free(big);
}

int main(void)
{
    struct arena *a = arena_new();
    test_plain_and_namespaced(a);
    test_entities_and_whitespace(a);
    test_malformed(a);
    test_doctype_refused(a);
    test_limits(a);
    arena_free(a);
    return tap_done();
}
