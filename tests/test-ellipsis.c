/* test-ellipsis.c -- MinIO-style {1...4} expansion and its errors. */
#include <stdlib.h>
#include <string.h>

#include <cairn/plugin.h>

#include "ellipsis.h"
#include "tap.h"

/* Expands `pattern` and compares with the space-separated `want`. */
static void expect(const char *pattern, const char *want)
{
    char **list, err[256];
    size_t n;
    int rc = ellipsis_expand(pattern, &list, &n, err, sizeof(err));
    if (!ok(rc == 0, "%s expands", pattern)) {
        printf("#   %s\n", err);
        return;
    }
    char joined[4096] = "";
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(joined, " ");
        strcat(joined, list[i]);
    }
    is_str(joined, want, "%s -> %s", pattern, want);
    ellipsis_free(list, n);
}

static void refuse(const char *pattern, const char *fragment)
{
    char **list = (char **)1, err[256];
    size_t n = 99;
    int rc = ellipsis_expand(pattern, &list, &n, err, sizeof(err));
    is_int(rc, CAIRN_E_INVALID_ARGUMENT, "'%s' refused", pattern);
    ok(list == NULL && n == 0, "'%s' leaves nothing", pattern);
    if (!ok(strstr(err, fragment) != NULL, "'%s' error mentions '%s'", pattern, fragment))
        printf("#   error was: %s\n", err);
}

int main(void)
{
    expect("/data{1...4}", "/data1 /data2 /data3 /data4");
    expect("/data", "/data");
    expect("/data{3...3}", "/data3");
    expect("/mnt/disk{01...04}", "/mnt/disk01 /mnt/disk02 /mnt/disk03 /mnt/disk04");
    expect("/d{08...11}", "/d08 /d09 /d10 /d11");
    expect("/d{9...11}", "/d9 /d10 /d11");
    expect("/mnt/disk{1...2}/export{1...3}",
           "/mnt/disk1/export1 /mnt/disk1/export2 /mnt/disk1/export3 "
           "/mnt/disk2/export1 /mnt/disk2/export2 /mnt/disk2/export3");
    expect("http://node{1...2}:9000/data{1...2}",
           "http://node1:9000/data1 http://node1:9000/data2 "
           "http://node2:9000/data1 http://node2:9000/data2");
    expect("/literal{braces}", "/literal{braces}");
    expect("/x{}", "/x{}");
    expect("{1...2}", "1 2");
    ok(ellipsis_has_range("/d{1...4}"), "has_range on a range");
    ok(!ellipsis_has_range("/d{a}"), "no range in literal braces");
    ok(!ellipsis_has_range("/d{1..4}"), "no range in a malformed one");

    {
        char **list, err[128];
        size_t n;
        is_int(ellipsis_expand("/d{1...16}", &list, &n, err, sizeof(err)), 0, "16 drives");
        is_int(n, 16, "count 16");
        is_str(list[15], "/d16", "last is /d16");
        ellipsis_free(list, n);
    }

    refuse("/data{1..4}", "malformed ellipsis");
    refuse("/data{1....4}", "malformed ellipsis");
    refuse("/data{...4}", "malformed ellipsis");
    refuse("/data{1...}", "malformed ellipsis");
    refuse("/data{4...1}", "start after its end");
    refuse("/data{1...4", "unclosed");
    refuse("/d{1...1000}/e{1...1000}", "more than");
    refuse("/d{1...9999999999999999999}", "too large");
    refuse("", "empty");

    /* Random patterns from a hostile alphabet: never a crash or a leak. */
    srand(42);
    int bad_rc = 0;
    for (int i = 0; i < 20000; i++) {
        static const char alphabet[] = "{}.0123456789/a";
        char pat[40], **list, err[256];
        size_t len = (size_t)(rand() % 39), n;
        for (size_t k = 0; k < len; k++)
            pat[k] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
        pat[len] = '\0';
        int rc = ellipsis_expand(pat, &list, &n, err, sizeof(err));
        if (rc == 0)
            ellipsis_free(list, n);
        else if (rc != CAIRN_E_INVALID_ARGUMENT)
            bad_rc++;
    }
    is_int(bad_rc, 0, "20000 random patterns: expanded or refused");
    return tap_done();
}
