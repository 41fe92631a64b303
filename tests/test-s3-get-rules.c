/* test-s3-get-rules.c -- Range parsing, HTTP dates and conditional precedence. */
#include <string.h>

#include "s3-router.h"
#include "tap.h"

static void range_case(const char *hdr, uint64_t size, int want_rc, uint64_t want_off,
                       uint64_t want_len)
{
    uint64_t off = 777, len = 777;
    int rc = s3_parse_range(hdr, size, &off, &len);
    if (want_rc == 0)
        ok(rc == 0 && off == want_off && len == want_len,
           "Range \"%s\" on %llu bytes -> [%llu, +%llu) (got rc %d, %llu, +%llu)",
           hdr ? hdr : "(none)", (unsigned long long)size, (unsigned long long)want_off,
           (unsigned long long)want_len, rc, (unsigned long long)off, (unsigned long long)len);
    else
        ok(rc == want_rc, "Range \"%s\" on %llu bytes -> rc %d (got %d)", hdr ? hdr : "(none)",
           (unsigned long long)size, want_rc, rc);
}

static void test_ranges(void)
{
    range_case("bytes=0-9", 100, 0, 0, 10);
    range_case("bytes=10-", 100, 0, 10, 90);
    range_case("bytes=-10", 100, 0, 90, 10);
    range_case("bytes=-1000", 100, 0, 0, 100);
    range_case("bytes=90-1000", 100, 0, 90, 10);
    range_case("bytes=99-99", 100, 0, 99, 1);
    range_case("bytes=0-0", 1, 0, 0, 1);
    range_case("bytes=100-", 100, CAIRN_E_INVALID_RANGE, 0, 0);
    range_case("bytes=100-200", 100, CAIRN_E_INVALID_RANGE, 0, 0);
    range_case("bytes=0-", 0, CAIRN_E_INVALID_RANGE, 0, 0);
    range_case("bytes=-0", 100, CAIRN_E_INVALID_RANGE, 0, 0);
    range_case("bytes=-5", 0, CAIRN_E_INVALID_RANGE, 0, 0);
    /* malformed or unsupported: ignored (whole object) */
    range_case(NULL, 100, 1, 0, 0);
    range_case("bytes=9-1", 100, 1, 0, 0);
    range_case("bytes=a-b", 100, 1, 0, 0);
    range_case("items=0-1", 100, 1, 0, 0);
    range_case("bytes=0-1,5-6", 100, 1, 0, 0);
    range_case("bytes=", 100, 1, 0, 0);
    range_case("bytes=-", 100, 1, 0, 0);
    range_case("bytes=99999999999999999999999-", 100, 1, 0, 0);
}

static void test_dates(void)
{
    is_int(s3_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777000LL, "RFC 1123");
    is_int(s3_parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777000LL, "RFC 850");
    is_int(s3_parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777000LL, "asctime");
    is_int(s3_parse_http_date("yesterday"), -1, "garbage is -1");
    is_int(s3_parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), -1, "bad month is -1");
    is_int(s3_parse_http_date(""), -1, "empty is -1");
}

static void test_etag_match(void)
{
    const char *e = "0123456789abcdef0123456789abcdef";
    ok(s3_etag_matches("\"0123456789abcdef0123456789abcdef\"", e), "quoted etag matches");
    ok(s3_etag_matches("0123456789abcdef0123456789abcdef", e), "unquoted etag matches");
    ok(s3_etag_matches("\"x\", \"0123456789abcdef0123456789abcdef\"", e), "list matches");
    ok(s3_etag_matches("*", e), "* matches");
    ok(s3_etag_matches("W/\"0123456789abcdef0123456789abcdef\"", e), "weak prefix ignored");
    ok(!s3_etag_matches("\"0123\"", e), "other etag does not match");
    ok(!s3_etag_matches("", e), "empty does not match");
}

static void test_conditions(void)
{
    const char *etag = "abc";
    /* object modified at 1994-11-06 08:49:37 */
    int64_t mtime = 784111777000LL + 400; /* sub-second part is ignored */
    const char *before = "Sat, 05 Nov 1994 08:49:37 GMT";
    const char *same = "Sun, 06 Nov 1994 08:49:37 GMT";
    const char *after = "Mon, 07 Nov 1994 08:49:37 GMT";

    is_int(s3_check_conditions(NULL, NULL, NULL, NULL, etag, mtime), 0, "no conditions: serve");
    is_int(s3_check_conditions("\"abc\"", NULL, NULL, NULL, etag, mtime), 0, "If-Match true");
    is_int(s3_check_conditions("\"xyz\"", NULL, NULL, NULL, etag, mtime),
           CAIRN_E_PRECONDITION_FAILED, "If-Match false -> 412");
    is_int(s3_check_conditions(NULL, "\"abc\"", NULL, NULL, etag, mtime), CAIRN_E_NOT_MODIFIED,
           "If-None-Match matching -> 304");
    is_int(s3_check_conditions(NULL, "\"xyz\"", NULL, NULL, etag, mtime), 0,
           "If-None-Match not matching -> serve");
    is_int(s3_check_conditions(NULL, NULL, after, NULL, etag, mtime), CAIRN_E_NOT_MODIFIED,
           "If-Modified-Since after mtime -> 304");
    is_int(s3_check_conditions(NULL, NULL, same, NULL, etag, mtime), CAIRN_E_NOT_MODIFIED,
           "If-Modified-Since equal to mtime -> 304");
    is_int(s3_check_conditions(NULL, NULL, before, NULL, etag, mtime), 0,
           "If-Modified-Since before mtime -> serve");
    is_int(s3_check_conditions(NULL, NULL, NULL, before, etag, mtime),
           CAIRN_E_PRECONDITION_FAILED, "If-Unmodified-Since before mtime -> 412");
    is_int(s3_check_conditions(NULL, NULL, NULL, same, etag, mtime), 0,
           "If-Unmodified-Since equal -> serve");
    /* S3's documented precedence */
    is_int(s3_check_conditions("\"abc\"", NULL, NULL, before, etag, mtime), 0,
           "If-Match true + If-Unmodified-Since false -> 200");
    is_int(s3_check_conditions(NULL, "\"abc\"", before, NULL, etag, mtime), CAIRN_E_NOT_MODIFIED,
           "If-None-Match false + If-Modified-Since true -> 304");
    is_int(s3_check_conditions(NULL, "\"xyz\"", after, NULL, etag, mtime), 0,
           "If-None-Match true wins over If-Modified-Since false -> serve");
    is_int(s3_check_conditions("\"xyz\"", "\"abc\"", NULL, NULL, etag, mtime),
           CAIRN_E_PRECONDITION_FAILED, "412 wins over 304");
    is_int(s3_check_conditions(NULL, NULL, "garbage", "garbage", etag, mtime), 0,
           "malformed dates are ignored");
}

static void test_part_ranges(void)
{
    struct cairn_kv attrs[] = {{"content-type", "x/y"}, {S3_PART_SIZES_ATTR, "10,10,5"}};
    struct cairn_object_info mp = {.size = 25, .parts_count = 3, .n_attrs = 2, .attrs = attrs};
    uint64_t off = 0, len = 0;
    ok(s3_part_range(&mp, 1, &off, &len) == 0 && off == 0 && len == 10, "part 1 of 3");
    ok(s3_part_range(&mp, 3, &off, &len) == 0 && off == 20 && len == 5, "part 3 of 3");
    is_int(s3_part_range(&mp, 4, &off, &len), CAIRN_E_INVALID_RANGE, "part 4 of 3");
    is_int(s3_part_range(&mp, 0, &off, &len), CAIRN_E_INVALID_ARGUMENT, "part 0");
    struct cairn_object_info single = {.size = 7};
    ok(s3_part_range(&single, 1, &off, &len) == 0 && off == 0 && len == 7, "part 1 of a plain object");
    is_int(s3_part_range(&single, 2, &off, &len), CAIRN_E_INVALID_RANGE, "part 2 of a plain object");
    struct cairn_object_info nosizes = {.size = 25, .parts_count = 3};
    is_int(s3_part_range(&nosizes, 1, &off, &len), CAIRN_E_INVALID_RANGE, "sizes unknown");
    struct cairn_kv bad[] = {{S3_PART_SIZES_ATTR, "10,x"}};
    struct cairn_object_info badmp = {.size = 25, .parts_count = 2, .n_attrs = 1, .attrs = bad};
    is_int(s3_part_range(&badmp, 2, &off, &len), CAIRN_E_INVALID_RANGE, "malformed sizes");
    struct cairn_kv big[] = {{S3_PART_SIZES_ATTR, "10,100"}};
    struct cairn_object_info bigmp = {.size = 25, .parts_count = 2, .n_attrs = 1, .attrs = big};
    is_int(s3_part_range(&bigmp, 2, &off, &len), CAIRN_E_INVALID_RANGE, "sizes beyond the object");
}

int main(void)
{
    test_part_ranges();
    test_ranges();
    test_dates();
    test_etag_match();
    test_conditions();
    return tap_done();
}
