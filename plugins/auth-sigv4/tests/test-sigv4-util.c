/*
 * test-sigv4-util.c -- canonicalisation and parsing pieces: canonical URI,
 * query and headers as S3 clients sign them, dates, encodings, credentials.
 */
#include "sigv4-test.h"

static struct cairn_req *req;
static struct sigv4_ctx cx;

static const char *curi(const char *raw)
{
    struct sigv4_buf b;
    sigv4_buf_init(&b, &cx);
    sigv4_canonical_uri(&b, raw);
    return b.data;
}

static const char *cquery(const char *raw, const char *exclude)
{
    struct sigv4_param *ps;
    int n = sigv4_split_query(&cx, raw, &ps);
    struct sigv4_buf b;
    sigv4_buf_init(&b, &cx);
    sigv4_buf_adds(&b, "");
    sigv4_canonical_query(&b, ps, n, exclude);
    return b.data;
}

static void test_uri(void)
{
    is_str(curi(""), "/", "empty path -> /");
    is_str(curi("/"), "/", "root");
    is_str(curi("/bucket/key"), "/bucket/key", "plain");
    is_str(curi("/b/a b"), "/b/a%20b", "raw space encoded");
    is_str(curi("/b/a%20b"), "/b/a%20b", "encoded space kept");
    is_str(curi("/b/a+b"), "/b/a%2Bb", "'+' is a literal plus");
    is_str(curi("/b/a%2bb"), "/b/a%2Bb", "lower-case escape normalised");
    is_str(curi("/b/%7Euser/%41"), "/b/~user/A", "unreserved escapes decoded");
    is_str(curi("/b/tenant/fp/1:2:abc"), "/b/tenant/fp/1%3A2%3Aabc", "':' (Loki keys) encoded");
    is_str(curi("/b/dir/"), "/b/dir/", "trailing slash kept (s3fs markers)");
    is_str(curi("/b//x/./../y"), "/b//x/./../y", "no normalisation of '//', '.', '..' (S3)");
    is_str(curi("/b/a%2Fb"), "/b/a%2Fb", "encoded slash stays encoded");
    is_str(curi("/b/\xe2\x82\xac"), "/b/%E2%82%AC", "UTF-8 bytes percent-encoded");
    is_str(curi("/b/50%"), "/b/50%25", "stray '%%' encoded");
    is_str(curi("/b/%zz"), "/b/%25zz", "invalid escape taken literally");
    is_str(curi("/b/a%00b"), "/b/a%00b", "%%00 survives");
    is_str(curi("/test$file.text"), "/test%24file.text", "'$' as in AWS's PUT example");
}

static void test_query(void)
{
    is_str(cquery("", NULL), "", "no query");
    is_str(cquery("uploads", NULL), "uploads=", "valueless parameter");
    is_str(cquery("uploads=", NULL), "uploads=", "empty value");
    is_str(cquery("location", NULL), "location=", "?location");
    is_str(cquery("x-id=PutObject&uploadId=abc", NULL), "uploadId=abc&x-id=PutObject",
           "ignored parameters are still signed, sorted by name");
    is_str(cquery("prefix=a/b/&delimiter=/", NULL), "delimiter=%2F&prefix=a%2Fb%2F",
           "raw '/' in values (s3fs) encoded");
    is_str(cquery("a=2&a=1&a=10", NULL), "a=1&a=10&a=2", "same name sorted by value");
    is_str(cquery("b=%7e&a=%2a", NULL), "a=%2A&b=~", "re-encoded RFC 3986");
    is_str(cquery("k=a+b", NULL), "k=a%2Bb", "'+' is not a space");
    is_str(cquery("k=a%20b", NULL), "k=a%20b", "space stays %%20");
    is_str(cquery("&&a=1&", NULL), "a=1", "empty pieces skipped");
    is_str(cquery("X-Amz-Signature=abc&X-Amz-Date=1", "X-Amz-Signature"), "X-Amz-Date=1",
           "X-Amz-Signature excluded for presigned");
    is_str(cquery("a==b", NULL), "a=%3Db", "'=' in a value");
    is_str(cquery("encoding-type=url&list-type=2&prefix=%E2%82%AC", NULL),
           "encoding-type=url&list-type=2&prefix=%E2%82%AC", "unicode prefix");
}

static void test_headers(void)
{
    struct cairn_kv h[] = {
        {"host", "example.com:9000"},
        {"x-amz-meta-a", "  one   two\tthree  "},
        {"x-amz-meta-b", "first"},
        {"x-amz-meta-b", "second"},
        {"content-type", ""},
    };
    struct cairn_http_request http = {.headers = h, .n_headers = 5, .host = "example.com:9000"};
    struct sigv4_buf b;
    sigv4_buf_init(&b, &cx);
    sigv4_canonical_headers(&b, &http, "content-type;expect;host;x-amz-meta-a;x-amz-meta-b");
    is_str(b.data,
           "content-type:\nexpect:100-continue\nhost:example.com:9000\nx-amz-meta-a:one two three\n"
           "x-amz-meta-b:first,second\n",
           "trimmed, runs collapsed, repeated joined with ',', absent expect = 100-continue");
    http.n_headers = 0;
    sigv4_buf_init(&b, &cx);
    sigv4_canonical_headers(&b, &http, "host");
    is_str(b.data, "host:example.com:9000\n", "host falls back to the request's host");
}

static void test_dates(void)
{
    int64_t t = 0;
    is_int(sigv4_parse_iso8601_basic("20130524T000000Z", &t), 0, "ISO 8601 basic");
    is_int(t, 1369353600, "2013-05-24");
    is_int(sigv4_parse_iso8601_basic("20240229T235959Z", &t), 0, "leap day");
    is_int(sigv4_parse_iso8601_basic("20230229T000000Z", &t), -1, "no Feb 29 in 2023");
    is_int(sigv4_parse_iso8601_basic("20130524T240000Z", &t), -1, "hour 24");
    is_int(sigv4_parse_iso8601_basic("20130524T000000", &t), -1, "missing Z");
    is_int(sigv4_parse_iso8601_basic("2013-05-24T00:00:00Z", &t), -1, "extended format refused");
    is_int(sigv4_parse_iso8601_basic("2013052aT000000Z", &t), -1, "letters refused");
    is_int(sigv4_parse_http_date("Fri, 24 May 2013 00:00:00 GMT", &t), 0, "RFC 1123");
    is_int(t, 1369353600, "same instant");
    is_int(sigv4_parse_http_date("Tue, 27 Mar 2007 19:36:42 +0000", &t), 0, "numeric zone");
    is_int(t, 1175024202, "2007-03-27 19:36:42");
    is_int(sigv4_parse_http_date("Tue, 27 Mar 2007 21:36:42 +0200", &t), 0, "+0200 zone");
    is_int(t, 1175024202, "offset applied");
    is_int(sigv4_parse_http_date("27 Mar 2007 19:36:42 GMT", &t), 0, "weekday optional");
    is_int(sigv4_parse_http_date("Tue, 27 Foo 2007 19:36:42 GMT", &t), -1, "bad month");
    is_int(sigv4_parse_http_date("Tue, 27 Mar 2007 19:36 GMT", &t), -1, "missing seconds");
    is_int(sigv4_parse_http_date("", &t), -1, "empty");
    char s[17];
    sigv4_format_iso8601_basic(1175024202, s);
    is_str(s, "20070327T193642Z", "formatting");
    sigv4_format_iso8601_basic(951782400, s);
    is_str(s, "20000229T000000Z", "formatting a leap day");
}

static void test_credentials(void)
{
    struct sigv4_credential c;
    is_int(sigv4_parse_credential(&cx, AK "/20130524/us-east-1/s3/aws4_request", &c), 0, "credential");
    is_str(c.access_key, AK, "access key");
    is_str(c.region, "us-east-1", "region");
    is_str(c.scope, "20130524/us-east-1/s3/aws4_request", "scope");
    is_int(sigv4_parse_credential(&cx, "a/b/20130524/us-east-1/s3/aws4_request", &c), 0,
           "access key containing '/' (split from the right)");
    is_str(c.access_key, "a/b", "that key");
    is_int(sigv4_parse_credential(&cx, AK "/20130524//s3/aws4_request", &c), -1, "empty region");
    is_int(sigv4_parse_credential(&cx, AK "/20130524/us-east-1/s3", &c), -1, "too few parts");
    is_int(sigv4_parse_credential(&cx, "", &c), -1, "empty");
    is_int(sigv4_check_signed_headers("host;x-amz-date"), 0, "signed headers ok");
    is_int(sigv4_check_signed_headers("x-amz-date"), -1, "host is required");
    is_int(sigv4_check_signed_headers("host;"), -1, "empty name");
    is_int(sigv4_check_signed_headers("host; range"), -1, "space");
}

static void test_encodings(void)
{
    char out[64];
    sigv4_base64((const uint8_t *)"", 0, out);
    is_str(out, "", "base64 empty");
    sigv4_base64((const uint8_t *)"f", 1, out);
    is_str(out, "Zg==", "base64 1");
    sigv4_base64((const uint8_t *)"fo", 2, out);
    is_str(out, "Zm8=", "base64 2");
    sigv4_base64((const uint8_t *)"foobar", 6, out);
    is_str(out, "Zm9vYmFy", "base64 6");
    struct sigv4_buf b;
    sigv4_buf_init(&b, &cx);
    sigv4_buf_add_xml(&b, "<a&'\">", 6);
    is_str(b.data, "&lt;a&amp;&apos;&quot;&gt;", "XML escaping");
    sigv4_buf_init(&b, &cx);
    sigv4_buf_add_xml(&b, "\xe2\x82\xac\xff\x01\xc0\xaf\xe2\x82", 9);
    is_str(b.data, "\xe2\x82\xac\\xff\\x01\\xc0\\xaf\\xe2\\x82",
           "valid UTF-8 kept; control, invalid, overlong and cut sequences escaped");
    sigv4_buf_init(&b, &cx);
    sigv4_buf_add_hex_bytes(&b, "AB\n", 3);
    is_str(b.data, "41 42 0a", "hex bytes");
    ok(sigv4_is_hex("00aF", 4), "hex check");
    ok(!sigv4_is_hex("00aG", 4), "non-hex");
    ok(!sigv4_is_hex("00a", 4), "short");
}

int main(void)
{
    req = fake_req_new();
    cx.sv = fake_services();
    cx.req = req;
    test_uri();
    test_query();
    test_headers();
    test_dates();
    test_credentials();
    test_encodings();
    fake_req_free(req);
    return tap_done();
}
