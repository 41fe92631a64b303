/* test-s3-xml-writer.c -- XML writer output and escaping. */
#include <string.h>

#include "tap.h"
#include "xml-writer.h"

#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

int main(void)
{
    struct xml_writer w;
    xml_writer_init(&w);
    is_str(w.buf, DECL, "starts with the declaration");
    xml_open(&w, "ListBucketResult", S3_XMLNS);
    xml_elem(&w, "Name", "b<&>\"'c");
    xml_elemf(&w, "MaxKeys", "%d", 1000);
    xml_elem(&w, "Empty", NULL);
    xml_elem(&w, "Ctl", "a\x01" "b\tc\r");
    xml_raw(&w, "<Raw/>");
    xml_close(&w, "ListBucketResult");
    is_str(w.buf,
           DECL "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                "<Name>b&lt;&amp;&gt;&quot;&apos;c</Name><MaxKeys>1000</MaxKeys>"
                "<Empty></Empty><Ctl>a&#x1;b\tc&#xD;</Ctl><Raw/></ListBucketResult>",
           "document with escaping");
    is_int(w.len, strlen(w.buf), "len matches the text");
    ok(!w.failed, "no failure");
    xml_writer_clear(&w);
    ok(w.buf == NULL && w.len == 0, "clear resets");

    /* A long element goes through the heap path of xml_elemf. */
    xml_writer_init(&w);
    char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    xml_elemf(&w, "Big", "%s&", big);
    ok(strstr(w.buf, "xxx&amp;</Big>") != NULL, "long formatted text escaped");
    is_int(w.len, strlen(DECL) + strlen("<Big></Big>") + 2999 + 5, "long element length");
    xml_writer_clear(&w);

    /* UTF-8 passes through untouched. */
    xml_writer_init(&w);
    xml_elem(&w, "Key", "\xE2\x82\xAC/x y+z");
    is_str(w.buf, DECL "<Key>\xE2\x82\xAC/x y+z</Key>", "UTF-8 kept");
    xml_writer_clear(&w);
    return tap_done();
}
