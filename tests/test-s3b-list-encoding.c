/* test-s3b-list-encoding.c -- encoding-type=url, continuation tokens, list bounds. */
#include <string.h>

#include <cairn/plugin.h>

#include "arena.h"
#include "s3-list-encoding.h"
#include "tap.h"

static void test_url_encode(struct arena *a)
{
    is_str(s3_url_encode(a, "plain/key-1_2.3~x"), "plain/key-1_2.3~x", "unreserved and / kept");
    is_str(s3_url_encode(a, "a b+c"), "a%20b%2Bc", "space and plus encoded");
    is_str(s3_url_encode(a, "t/fp/1:2:3"), "t/fp/1%3A2%3A3", "colon encoded (Loki keys)");
    is_str(s3_url_encode(a, "caf\xc3\xa9"), "caf%C3%A9", "UTF-8 bytes encoded upper-case");
    is_str(s3_url_encode(a, "\x01\x1f\x7f"), "%01%1F%7F", "control characters encoded");
    is_str(s3_url_encode(a, "%&<>?=#\"'"), "%25%26%3C%3E%3F%3D%23%22%27", "specials encoded");
    is_str(s3_url_encode(a, ""), "", "empty stays empty");
    is_str(s3_list_name(a, "a b", 0), "a b", "no encoding when not asked");
    is_str(s3_list_name(a, "a b", 1), "a%20b", "encoding when asked");
    ok(s3_list_name(a, NULL, 1) == NULL, "NULL stays NULL");
}

static void test_tokens(struct arena *a)
{
    const char *markers[] = {"a", "dir/", "t/fp/1:2:3", "caf\xc3\xa9 x+y", "x\xff"};
    for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++) {
        char *tok = s3_list_token_encode(a, markers[i]);
        char *back = NULL;
        ok(tok != NULL, "token made for marker %zu", i);
        is_int(s3_list_token_decode(a, tok, &back), 0, "token %zu decodes", i);
        is_str(back, markers[i], "token %zu round trip", i);
    }
    char *m = NULL;
    is_int(s3_list_token_decode(a, "", &m), CAIRN_E_INVALID_ARGUMENT, "empty token refused");
    is_int(s3_list_token_decode(a, "!!!!", &m), CAIRN_E_INVALID_ARGUMENT, "bad base64 refused");
    is_int(s3_list_token_decode(a, "YQ", &m), CAIRN_E_INVALID_ARGUMENT, "unpadded refused");
    is_int(s3_list_token_decode(a, "AA==", &m), CAIRN_E_INVALID_ARGUMENT,
           "token with NUL byte refused");
}

static void test_parse_max(void)
{
    int v = -1;
    is_int(s3_parse_max(NULL, 1000, 1000, &v), 0, "absent");
    is_int(v, 1000, "absent gives the default");
    is_int(s3_parse_max("0", 1000, 1000, &v), 0, "zero");
    is_int(v, 0, "zero allowed");
    is_int(s3_parse_max("17", 1000, 1000, &v), 0, "17");
    is_int(v, 17, "17 parsed");
    is_int(s3_parse_max("5000", 1000, 1000, &v), 0, "5000");
    is_int(v, 1000, "clamped to 1000");
    is_int(s3_parse_max("99999999999999999999999", 1000, 1000, &v), 0, "huge");
    is_int(v, 1000, "huge clamped, no overflow");
    is_int(s3_parse_max("-1", 1000, 1000, &v), CAIRN_E_INVALID_ARGUMENT, "negative refused");
    is_int(s3_parse_max("", 1000, 1000, &v), CAIRN_E_INVALID_ARGUMENT, "empty refused");
    is_int(s3_parse_max("12a", 1000, 1000, &v), CAIRN_E_INVALID_ARGUMENT, "trailing junk refused");
    is_int(s3_parse_max(" 1", 1000, 1000, &v), CAIRN_E_INVALID_ARGUMENT, "space refused");

    unsigned long u = 0;
    is_int(s3_parse_uint("10000", 10000, &u), 0, "uint at limit");
    is_int(u, 10000, "uint value");
    is_int(s3_parse_uint("10001", 10000, &u), CAIRN_E_INVALID_ARGUMENT, "uint over limit");
    is_int(s3_parse_uint("", 10000, &u), CAIRN_E_INVALID_ARGUMENT, "uint empty");
    is_int(s3_parse_uint("1.5", 10000, &u), CAIRN_E_INVALID_ARGUMENT, "uint junk");
    ok(s3_parse_uint(NULL, 10000, &u) == CAIRN_E_INVALID_ARGUMENT, "uint NULL");
}

static void test_bounds(struct arena *a)
{
    char *r = NULL;
    is_int(s3_list_roll_up(a, "a/b/c", "", "/", &r), 1, "rolls up at the first delimiter");
    is_str(r, "a/", "rolled prefix");
    is_int(s3_list_roll_up(a, "a/b/c", "a/", "/", &r), 1, "rolls up after the prefix");
    is_str(r, "a/b/", "rolled prefix under a/");
    is_int(s3_list_roll_up(a, "a/b", "a/", "/", &r), 0, "no delimiter after the prefix");
    is_int(s3_list_roll_up(a, "a/b", "", "", &r), 0, "empty delimiter: no roll-up");
    is_int(s3_list_roll_up(a, "xxABCyyABC", "", "ABC", &r), 1, "multi-byte delimiter");
    is_str(r, "xxABC", "rolled at a multi-byte delimiter");

    is_str(s3_list_backend_after(a, "", "/", ""), "", "no marker");
    is_str(s3_list_backend_after(a, "", "/", "a/b"), "a/b", "a key marker is passed as is");
    is_str(s3_list_backend_after(a, "", "", "a/"), "a/", "no delimiter: passed as is");
    is_str(s3_list_backend_after(a, "", "/", "a/"), "a/\xff", "a common prefix skips its keys");
    is_str(s3_list_backend_after(a, "p/", "/", "p/q/"), "p/q/\xff", "common prefix under a prefix");
    is_str(s3_list_backend_after(a, "p/", "/", "p/q/r/"), "p/q/r/",
           "deeper than one level: not a common prefix of this listing");
    ok(strcmp("a/\xff", "a/zzz") > 0 && strcmp("a/\xff", "a0") < 0,
       "the bound sorts after the prefix's keys and before the next key");
}

int main(void)
{
    struct arena *a = arena_new();
    test_url_encode(a);
    test_tokens(a);
    test_parse_max();
    test_bounds(a);
    arena_free(a);
    return tap_done();
}
