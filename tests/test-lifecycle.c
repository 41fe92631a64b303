/* test-lifecycle.c -- the lifecycle rule parser and its pure decisions. */
#include <string.h>

#include "../core/arena.h"
#include "../core/lifecycle.h"
#include "tap.h"

#define DAY 1000 /* a 1 s lifecycle day in ms */

static struct cairn_object_info obj(uint64_t size, int64_t mtime)
{
    struct cairn_object_info i;
    memset(&i, 0, sizeof(i));
    i.size = size;
    i.mtime_ms = mtime;
    return i;
}

static int parse(struct arena *a, const char *xml, struct lc_config *cfg, char *why)
{
    return lifecycle_parse(a, xml, strlen(xml), cfg, why, 256);
}

int main(void)
{
    struct arena *a = arena_new();
    struct lc_config cfg;
    char why[256];

    /* A full document: every filter form and every action. */
    const char *doc =
        "<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Rule><ID>logs</ID><Status>Enabled</Status><Filter><Prefix>logs/</Prefix></Filter>"
        "<Expiration><Days>3</Days></Expiration></Rule>"
        "<Rule><ID>tagged</ID><Status>Enabled</Status>"
        "<Filter><And><Prefix>t/</Prefix><Tag><Key>tmp</Key><Value>yes please</Value></Tag>"
        "<ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>100</ObjectSizeLessThan>"
        "</And></Filter><Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration></Rule>"
        "<Rule><ID>nc</ID><Status>Enabled</Status><Prefix>v/</Prefix>"
        "<NoncurrentVersionExpiration><NoncurrentDays>2</NoncurrentDays>"
        "<NewerNoncurrentVersions>1</NewerNoncurrentVersions></NoncurrentVersionExpiration>"
        "<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>"
        "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation>"
        "</AbortIncompleteMultipartUpload></Rule>"
        "<Rule><ID>off</ID><Status>Disabled</Status><Filter></Filter>"
        "<Expiration><Days>1</Days></Expiration></Rule>"
        "</LifecycleConfiguration>";
    is_int(parse(a, doc, &cfg, why), 0, "full document parses");
    is_int((int)cfg.n_rules, 4, "four rules");
    const struct lc_rule *logs = &cfg.rules[0], *tagged = &cfg.rules[1], *nc = &cfg.rules[2],
                         *off = &cfg.rules[3];
    is_str(logs->id, "logs", "rule ID");
    is_str(logs->filter.prefix, "logs/", "filter prefix");
    is_int((int)logs->exp_days, 3, "Expiration Days");
    ok(tagged->exp_date_ms == 1893456000000LL, "Expiration Date in ms");
    is_int((int)tagged->filter.n_tags, 1, "And/Tag");
    is_int((int)tagged->filter.size_gt, 10, "ObjectSizeGreaterThan");
    is_int((int)tagged->filter.size_lt, 100, "ObjectSizeLessThan");
    ok(lifecycle_rule_needs_tags(tagged) && !lifecycle_rule_needs_tags(logs), "needs tags");
    is_str(nc->filter.prefix, "v/", "legacy top-level Prefix");
    is_int((int)nc->nc_days, 2, "NoncurrentDays");
    is_int((int)nc->nc_newer, 1, "NewerNoncurrentVersions");
    ok(nc->exp_delete_marker, "ExpiredObjectDeleteMarker");
    is_int((int)nc->abort_days, 1, "DaysAfterInitiation");
    ok(!off->enabled && logs->enabled, "Status");

    /* Invalid documents: a clear error, never a crash. */
    static const struct {
        const char *xml;
        int rc;
        const char *what;
    } bad[] = {
        {"", CAIRN_E_MALFORMED_XML, "empty body"},
        {"<LifecycleConfiguration>", CAIRN_E_MALFORMED_XML, "not well-formed"},
        {"<Other/>", CAIRN_E_MALFORMED_XML, "wrong root"},
        {"<LifecycleConfiguration/>", CAIRN_E_MALFORMED_XML, "no rules"},
        {"<LifecycleConfiguration><Rule><Expiration><Days>1</Days></Expiration></Rule>"
         "</LifecycleConfiguration>", CAIRN_E_MALFORMED_XML, "no Status"},
        {"<LifecycleConfiguration><Rule><Status>On</Status><Expiration><Days>1</Days>"
         "</Expiration></Rule></LifecycleConfiguration>", CAIRN_E_MALFORMED_XML, "bad Status"},
        {"<LifecycleConfiguration><Rule><Status>Enabled</Status></Rule></LifecycleConfiguration>",
         CAIRN_E_INVALID_ARGUMENT, "no action"},
        {"<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>0</Days>"
         "</Expiration></Rule></LifecycleConfiguration>", CAIRN_E_INVALID_ARGUMENT, "Days 0"},
        {"<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>-3</Days>"
         "</Expiration></Rule></LifecycleConfiguration>", CAIRN_E_INVALID_ARGUMENT, "Days < 0"},
        {"<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>1</Days>"
         "<Date>2030-01-01T00:00:00Z</Date></Expiration></Rule></LifecycleConfiguration>",
         CAIRN_E_MALFORMED_XML, "Days and Date"},
        {"<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Date>soon</Date>"
         "</Expiration></Rule></LifecycleConfiguration>", CAIRN_E_INVALID_ARGUMENT, "bad Date"},
        {"<LifecycleConfiguration><Rule><Status>Enabled</Status><Prefix>a</Prefix><Filter/>"
         "<Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>",
         CAIRN_E_MALFORMED_XML, "Prefix and Filter"},
        {"<LifecycleConfiguration><Rule><Status>Enabled</Status><Filter><Prefix>a</Prefix>"
         "<Tag><Key>k</Key><Value>v</Value></Tag></Filter><Expiration><Days>1</Days>"
         "</Expiration></Rule></LifecycleConfiguration>", CAIRN_E_MALFORMED_XML,
         "two filter elements without And"},
        {"<LifecycleConfiguration><Rule><ID>x</ID><Status>Enabled</Status><Expiration><Days>1"
         "</Days></Expiration></Rule><Rule><ID>x</ID><Status>Enabled</Status><Expiration>"
         "<Days>1</Days></Expiration></Rule></LifecycleConfiguration>", CAIRN_E_INVALID_ARGUMENT,
         "duplicate IDs"},
        {"<LifecycleConfiguration><Rule><Status>Enabled</Status><NoncurrentVersionExpiration>"
         "<NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101"
         "</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>"
         "</LifecycleConfiguration>", CAIRN_E_INVALID_ARGUMENT, "NewerNoncurrentVersions > 100"},
        {"<LifecycleConfiguration><Rule><Status>Enabled</Status><Filter><Tag><Key>k</Key>"
         "<Value>v</Value></Tag></Filter><AbortIncompleteMultipartUpload><DaysAfterInitiation>1"
         "</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
         "</LifecycleConfiguration>", CAIRN_E_INVALID_ARGUMENT, "abort with a tag filter"},
        {"<LifecycleConfiguration><Rule><Status>Enabled</Status><Filter><And>"
         "<ObjectSizeGreaterThan>100</ObjectSizeGreaterThan><ObjectSizeLessThan>50"
         "</ObjectSizeLessThan></And></Filter><Expiration><Days>1</Days></Expiration></Rule>"
         "</LifecycleConfiguration>", CAIRN_E_INVALID_ARGUMENT, "empty size range"},
        {"<LifecycleConfiguration><Rule><Status>Enabled</Status><Bogus/><Expiration><Days>1"
         "</Days></Expiration></Rule></LifecycleConfiguration>", CAIRN_E_MALFORMED_XML,
         "unknown element"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        int rc = lifecycle_validate(bad[i].xml, strlen(bad[i].xml), why, sizeof(why));
        is_int(rc, bad[i].rc, bad[i].what);
        ok(why[0] != '\0', "  with a reason");
    }
    is_int(lifecycle_validate(doc, strlen(doc), why, sizeof(why)), 0, "validate accepts");

    /* Expiration by Days: due at mtime + Days days. */
    int64_t t0 = 1000000;
    struct cairn_object_info o = obj(5, t0);
    ok(!lifecycle_expire_current(logs, "logs/a", &o, NULL, t0 + 3 * DAY - 1, DAY), "not yet");
    ok(lifecycle_expire_current(logs, "logs/a", &o, NULL, t0 + 3 * DAY, DAY), "due at 3 days");
    ok(!lifecycle_expire_current(logs, "data/a", &o, NULL, t0 + 9 * DAY, DAY),
       "other prefix untouched");
    o.is_delete_marker = 1;
    ok(!lifecycle_expire_current(logs, "logs/a", &o, NULL, t0 + 9 * DAY, DAY),
       "a delete marker is not expired as an object");
    o = obj(5, t0);
    ok(!lifecycle_expire_current(off, "x", &o, NULL, t0 + 9 * DAY, DAY), "disabled rule");

    /* Date, tags and sizes. */
    struct cairn_object_info m = obj(50, 0);
    int64_t after = 1893456000000LL;
    ok(lifecycle_expire_current(tagged, "t/x", &m, "tmp=yes+please&b=c", after, DAY),
       "tag (URL-encoded, +) and size match after the date");
    ok(lifecycle_expire_current(tagged, "t/x", &m, "a=1&tmp=yes%20please", after, DAY),
       "tag second in the set, percent-encoded space");
    ok(!lifecycle_expire_current(tagged, "t/x", &m, "tmp=yes+please", after - 1, DAY),
       "before the date");
    ok(!lifecycle_expire_current(tagged, "t/x", &m, "tmp=no", after, DAY), "tag value differs");
    ok(!lifecycle_expire_current(tagged, "t/x", &m, NULL, after, DAY), "untagged");
    ok(!lifecycle_expire_current(tagged, "t/x", &m, "tmp", after, DAY), "tag without value");
    m.size = 10;
    ok(!lifecycle_expire_current(tagged, "t/x", &m, "tmp=yes+please", after, DAY),
       "size not greater than 10");
    m.size = 100;
    ok(!lifecycle_expire_current(tagged, "t/x", &m, "tmp=yes+please", after, DAY),
       "size not less than 100");

    /* Noncurrent versions: NoncurrentDays since replaced, NewerNoncurrentVersions kept. */
    struct cairn_object_info v = obj(1, 0);
    ok(!lifecycle_expire_noncurrent(nc, "v/k", &v, NULL, t0, 0, t0 + 9 * DAY, DAY),
       "the newest noncurrent version is kept (NewerNoncurrentVersions 1)");
    ok(lifecycle_expire_noncurrent(nc, "v/k", &v, NULL, t0, 1, t0 + 2 * DAY, DAY),
       "an older one goes after NoncurrentDays");
    ok(!lifecycle_expire_noncurrent(nc, "v/k", &v, NULL, t0, 1, t0 + 2 * DAY - 1, DAY),
       "not before NoncurrentDays");
    ok(!lifecycle_expire_noncurrent(nc, "w/k", &v, NULL, t0, 5, t0 + 9 * DAY, DAY),
       "outside the prefix");
    ok(!lifecycle_expire_noncurrent(logs, "logs/k", &v, NULL, t0, 5, t0 + 9 * DAY, DAY),
       "a rule without NoncurrentVersionExpiration");

    /* Delete markers. */
    ok(lifecycle_remove_marker(nc, "v/k", 1), "a lone marker goes (ExpiredObjectDeleteMarker)");
    ok(!lifecycle_remove_marker(nc, "v/k", 0), "a marker over versions stays");
    ok(!lifecycle_remove_marker(nc, "w/k", 1), "outside the prefix");
    ok(lifecycle_remove_marker(logs, "logs/k", 1), "Expiration Days also clears lone markers");
    ok(!lifecycle_remove_marker(tagged, "t/k", 1), "tag filters never match markers");

    /* Multipart uploads. */
    ok(lifecycle_abort_upload(nc, "v/u", t0, t0 + DAY, DAY), "stale upload aborted");
    ok(!lifecycle_abort_upload(nc, "v/u", t0, t0 + DAY - 1, DAY), "fresh upload kept");
    ok(!lifecycle_abort_upload(nc, "x/u", t0, t0 + 9 * DAY, DAY), "outside the prefix");
    ok(!lifecycle_abort_upload(logs, "logs/u", t0, t0 + 9 * DAY, DAY), "rule without the action");

    arena_free(a);
    return tap_done();
}
