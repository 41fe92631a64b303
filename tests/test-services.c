/* test-services.c -- the services table, logging, metrics and the IAM store. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "arena.h"
#include "iam-store.h"
#include "metrics.h"
#include "request.h"
#include "services.h"
#include "tap.h"

static const struct cairn_services *svc;

/* ---- body forwarding -------------------------------------------------------- */

static int written;
static char trailer[64];

static ssize_t fake_read(struct cairn_req *req, void *buf, size_t len)
{
    memset(buf, 'x', len > 3 ? 3 : len);
    return len > 3 ? 3 : (ssize_t)len;
}

static int fake_write(struct cairn_req *req, const void *buf, size_t len)
{
    written += (int)len;
    return 0;
}

static int fake_trailer(struct cairn_req *req, const char *name, const char *value)
{
    snprintf(trailer, sizeof(trailer), "%s=%s", name, value);
    return 0;
}

static void test_table(void)
{
    svc = core_services();
    ok(svc != NULL, "services table");
    is_int(svc->size, sizeof(struct cairn_services), "size");
    is_int(svc->abi_major, CAIRN_ABI_MAJOR, "abi major");
    is_int(svc->abi_minor, CAIRN_ABI_MINOR, "abi minor");
    ok(svc->log && svc->config_string && svc->config_int && svc->config_list_count &&
           svc->config_list_item && svc->req_alloc && svc->req_strdup && svc->body_read &&
           svc->body_write && svc->hash_new && svc->hash_update && svc->hash_final &&
           svc->hmac_sha256 && svc->now_ms && svc->random_bytes && svc->metric_add &&
           svc->iam_lookup && svc->req_set_trailer,
       "every member set");

    struct cairn_req req = {.request_id = "REQ1", .arena = arena_new()};
    char *s = svc->req_strdup(&req, "hello");
    is_str(s, "hello", "req_strdup");
    void *p = svc->req_alloc(&req, 100000);
    ok(p != NULL && ((unsigned char *)p)[99999] == 0, "req_alloc large and zeroed");
    ok(svc->req_alloc(NULL, 8) == NULL, "req_alloc without request is NULL");

    char buf[8];
    is_int(svc->body_read(&req, buf, sizeof(buf)), CAIRN_E_INTERNAL, "body_read without source");
    is_int(svc->body_write(&req, "ab", 2), CAIRN_E_INTERNAL, "body_write without sink");
    is_int(svc->req_set_trailer(&req, "a", "b"), CAIRN_E_INTERNAL, "trailer without sink");
    req.read = fake_read;
    req.write = fake_write;
    req.set_trailer = fake_trailer;
    is_int(svc->body_read(&req, buf, sizeof(buf)), 3, "body_read forwards");
    is_int(svc->body_write(&req, "abcd", 4), 0, "body_write forwards");
    is_int(written, 4, "bytes reached the sink");
    svc->req_set_trailer(&req, "x-amz-checksum-crc32", "AAAAAA==");
    is_str(trailer, "x-amz-checksum-crc32=AAAAAA==", "trailer forwarded");

    int64_t now = svc->now_ms();
    ok(now > 1700000000000LL && now < 4102444800000LL, "now_ms is epoch milliseconds");
    unsigned char r1[32] = {0}, r2[32] = {0};
    is_int(svc->random_bytes(r1, sizeof(r1)), 0, "random_bytes");
    svc->random_bytes(r2, sizeof(r2));
    ok(memcmp(r1, r2, 32) != 0, "random bytes differ");

    struct cairn_hash *h = svc->hash_new(CAIRN_HASH_SHA256);
    svc->hash_update(h, "abc", 3);
    uint8_t d[32];
    is_int(svc->hash_final(h, d), 32, "hash through services");
    ok(d[0] == 0xba && d[31] == 0xad, "sha256 abc through services");
    arena_free(req.arena);
}

/* ---- logging ---------------------------------------------------------------- */

static void test_log(void)
{
    char path[] = "/tmp/cairn-test-log-XXXXXX";
    int fd = mkstemp(path);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    struct cairn_req req = {.request_id = "0123456789ABCDEF"};
    core_log_set_level(CAIRN_LOG_INFO);
    core_log(&req, CAIRN_LOG_INFO, "hello %d", 42);
    core_log(NULL, CAIRN_LOG_DEBUG, "hidden");
    core_log(NULL, CAIRN_LOG_ERROR, "two\nlines");
    core_log_set_level(CAIRN_LOG_DEBUG);
    svc->log(NULL, CAIRN_LOG_DEBUG, "shown");
    char big[5000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    core_log(NULL, CAIRN_LOG_WARN, "%s", big);
    core_log_set_level(CAIRN_LOG_INFO);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);

    char text[8192] = "";
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, text, sizeof(text) - 1);
    text[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);

    char *lines[8] = {0};
    int nl = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && nl < 8;
         l = strtok_r(NULL, "\n", &save))
        lines[nl++] = l;
    is_int(nl, 4, "four lines (debug hidden at info, one line per event)");
    if (nl < 4)
        return;
    /* 2026-11-25T12:00:00.000Z INFO  req=... hello 42 */
    ok(strlen(lines[0]) > 25 && lines[0][4] == '-' && lines[0][10] == 'T' && lines[0][23] == 'Z',
       "ISO-8601 UTC timestamp: %s", lines[0]);
    ok(strstr(lines[0], " INFO  req=0123456789ABCDEF hello 42") != NULL, "level, request id, message");
    ok(strstr(lines[1], " ERROR two lines") != NULL, "newline in message flattened");
    ok(strstr(lines[2], " DEBUG shown") != NULL, "debug shown at debug level");
    ok(strstr(lines[3], " WARN ") != NULL && strstr(lines[3], "...") != NULL &&
           strlen(lines[3]) < 2100,
       "long message truncated with ...");
}

/* ---- metrics ---------------------------------------------------------------- */

static void *add_many(void *arg)
{
    for (int i = 0; i < 10000; i++)
        svc->metric_add("cairn_test_parallel_total", 1);
    return arg;
}

static void test_metrics(void)
{
    metrics_reset();
    svc->metric_add("cairn_requests_total{op=\"GetObject\"}", 2);
    svc->metric_add("cairn_requests_total{op=\"PutObject\"}", 1);
    svc->metric_add("cairn_requests_total_more", 1);
    svc->metric_add("cairn_requests_total{op=\"GetObject\"}", 3);
    svc->metric_add("cairn_bytes_total", 1.5);
    svc->metric_add("bad name", 1);
    svc->metric_add("bad{unclosed=\"x}", 1);
    svc->metric_add(NULL, 1);
    ok(metrics_get("cairn_requests_total{op=\"GetObject\"}") == 5, "counter adds up");
    ok(metrics_get("cairn_metrics_dropped_total") == 3, "invalid names dropped and counted");
    ok(metrics_get("cairn_absent") == 0, "absent counter is 0");

    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, add_many, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ok(metrics_get("cairn_test_parallel_total") == 40000, "thread-safe counting");

    char *text;
    size_t len;
    is_int(metrics_render(&text, &len), 0, "render");
    is_int(len, strlen(text), "render length");
    is_str(text,
           "# TYPE cairn_bytes_total counter\n"
           "cairn_bytes_total 1.5\n"
           "# TYPE cairn_requests_total counter\n"
           "cairn_requests_total{op=\"GetObject\"} 5\n"
           "cairn_requests_total{op=\"PutObject\"} 1\n"
           "# TYPE cairn_requests_total_more counter\n"
           "cairn_requests_total_more 1\n"
           "# TYPE cairn_test_parallel_total counter\n"
           "cairn_test_parallel_total 40000\n"
           "# TYPE cairn_metrics_dropped_total counter\n"
           "cairn_metrics_dropped_total 3\n",
           "Prometheus text, one TYPE line per metric");
    free(text);
    metrics_reset();
}

/* ---- IAM ---------------------------------------------------------------------- */

static int count_users(void *ctx, const struct iam_user_info *u)
{
    char *out = ctx;
    char line[256];
    snprintf(line, sizeof(line), "%s:%s:%d:%zu:%zu;", u->access_key, u->parent, u->enabled,
             u->n_policies, u->n_groups);
    strcat(out, line);
    return 0;
}

static void test_iam(void)
{
    struct cairn_req req = {.request_id = "R", .arena = arena_new()};
    struct cairn_identity id;
    char secret[64];

    is_int(svc->iam_lookup(&req, "root", &id, secret, sizeof(secret)), CAIRN_E_INVALID_ACCESS_KEY,
           "no root yet");
    is_int(iam_store_set_root("ab", "minioadmin"), CAIRN_E_INVALID_ARGUMENT, "short root user");
    is_int(iam_store_set_root("root", "short"), CAIRN_E_INVALID_ARGUMENT, "short root password");
    is_int(iam_store_set_root("rootuser", "rootpassword"), 0, "set root");
    is_int(svc->iam_lookup(&req, "rootuser", &id, secret, sizeof(secret)), 0, "root lookup");
    ok(id.is_root && !id.is_anonymous, "root identity");
    is_str(id.user, "rootuser", "root user is the root access key");
    is_str(id.access_key, "rootuser", "root access key");
    is_str(id.parent, "", "root has no parent");
    is_str(secret, "rootpassword", "root secret copied");
    is_int(svc->iam_lookup(&req, "rootuser", &id, secret, 5), CAIRN_E_INVALID_ARGUMENT,
           "secret buffer too small");

    is_int(iam_user_add("alice", "alicesecret", NULL), 0, "add alice");
    is_int(iam_user_add("alice", "alicesecret", NULL), CAIRN_E_INVALID_ARGUMENT, "duplicate user");
    is_int(iam_user_add("rootuser", "whatever1", NULL), CAIRN_E_INVALID_ARGUMENT,
           "root key cannot be a user");
    is_int(iam_user_add("bad/key", "whatever1", NULL), CAIRN_E_INVALID_ARGUMENT, "bad key");
    is_int(iam_user_add("bob", "short", NULL), CAIRN_E_INVALID_ARGUMENT, "short secret");
    is_int(iam_user_add("svc1", "svcsecret1", "alice"), 0, "service account of alice");
    is_int(iam_user_add("svc2", "svcsecret2", "svc1"), CAIRN_E_INVALID_ARGUMENT,
           "no service account of a service account");
    is_int(iam_user_add("svc3", "svcsecret3", "nobody"), CAIRN_E_INVALID_ARGUMENT,
           "unknown parent");
    is_int(iam_user_add("bob", "bobsecret", NULL), 0, "add bob");

    is_int(svc->iam_lookup(&req, "alice", &id, secret, sizeof(secret)), 0, "alice lookup");
    ok(!id.is_root, "alice is not root");
    is_str(secret, "alicesecret", "alice secret");
    is_int(svc->iam_lookup(&req, "svc1", &id, secret, sizeof(secret)), 0, "service account lookup");
    is_str(id.parent, "alice", "service account parent");
    is_str(id.user, "svc1", "service account user is its own name");

    is_int(iam_user_set_enabled("alice", 0), 0, "disable alice");
    is_int(svc->iam_lookup(&req, "alice", &id, secret, sizeof(secret)), CAIRN_E_ACCESS_DENIED,
           "disabled user denied");
    is_int(svc->iam_lookup(&req, "svc1", &id, secret, sizeof(secret)), CAIRN_E_ACCESS_DENIED,
           "service account of a disabled user denied");
    iam_user_set_enabled("alice", 1);
    is_int(iam_user_set_enabled("nobody", 0), CAIRN_E_INVALID_ACCESS_KEY, "enable unknown");

    /* Policies. */
    const char *rw[] = {"readwrite"}, *custom[] = {"mypolicy"}, *ro[] = {"readonly", "readonly"};
    const char *doc = "{\"Version\":\"2012-10-17\",\"Statement\":[]}";
    is_int(iam_user_set_policies("alice", custom, 1), CAIRN_E_INVALID_ARGUMENT,
           "unknown policy refused");
    is_int(iam_policy_put("mypolicy", doc), 0, "put policy");
    is_int(iam_policy_put("readwrite", doc), CAIRN_E_INVALID_ARGUMENT, "canned cannot be replaced");
    is_int(iam_policy_put("bad name", doc), CAIRN_E_INVALID_ARGUMENT, "bad policy name");
    is_int(iam_user_set_policies("alice", custom, 1), 0, "attach custom policy");
    is_int(iam_user_set_policies("bob", ro, 2), 0, "attach readonly twice (kept once)");
    char *json = NULL;
    is_int(iam_policy_get("mypolicy", &json), 0, "get policy");
    is_str(json, doc, "policy document");
    free(json);
    is_int(iam_policy_get("nope", &json), CAIRN_E_INVALID_ARGUMENT, "get unknown policy");

    /* Groups. */
    const char *members[] = {"alice", "bob"}, *ghost[] = {"ghost"};
    is_int(iam_group_add_members("devs", ghost, 1), CAIRN_E_INVALID_ARGUMENT,
           "unknown member refused");
    is_int(iam_group_add_members("devs", members, 2), 0, "group created with members");
    is_int(iam_group_set_policies("devs", rw, 1), 0, "group policy");
    is_int(iam_group_remove("devs"), CAIRN_E_INVALID_REQUEST, "non-empty group not removed");

    const char *const *docs;
    size_t n;
    is_int(iam_identity_policies(&req, "alice", &docs, &n), 0, "alice's policies");
    is_int(n, 2, "alice: own + group policy");
    ok(n == 2 && strcmp(docs[0], doc) == 0 && strcmp(docs[1], iam_canned_policy("readwrite")) == 0,
       "alice: documents in order (own, then group)");
    iam_identity_policies(&req, "svc1", &docs, &n);
    is_int(n, 2, "service account inherits its parent's policies");
    iam_identity_policies(&req, "bob", &docs, &n);
    is_int(n, 2, "bob: readonly + group readwrite");
    iam_group_set_enabled("devs", 0);
    iam_identity_policies(&req, "bob", &docs, &n);
    is_int(n, 1, "disabled group gives nothing");
    iam_group_set_enabled("devs", 1);
    iam_identity_policies(&req, "rootuser", &docs, &n);
    is_int(n, 0, "root has no documents");
    iam_identity_policies(&req, "nobody", &docs, &n);
    is_int(n, 0, "unknown key has no documents");

    char listing[1024] = "";
    iam_user_list(count_users, listing);
    is_str(listing, "alice::1:1:1;svc1:alice:1:0:0;bob::1:1:1;", "list users");

    is_int(iam_policy_remove("mypolicy"), 0, "remove policy");
    is_int(iam_policy_remove("readonly"), CAIRN_E_INVALID_ARGUMENT, "canned cannot be removed");
    iam_identity_policies(&req, "alice", &docs, &n);
    is_int(n, 1, "removed policy detached");

    is_int(iam_user_remove("alice"), 0, "remove alice");
    is_int(svc->iam_lookup(&req, "svc1", &id, secret, sizeof(secret)), CAIRN_E_INVALID_ACCESS_KEY,
           "service account removed with its parent");
    listing[0] = '\0';
    iam_user_list(count_users, listing);
    is_str(listing, "bob::1:1:1;", "only bob left");
    is_int(iam_user_remove("alice"), CAIRN_E_INVALID_ACCESS_KEY, "remove twice");
    const char *bob[] = {"bob"};
    is_int(iam_group_remove_members("devs", bob, 1), 0, "remove bob from devs");
    is_int(iam_group_remove("devs"), 0, "empty group removed");
    is_int(iam_group_remove("devs"), CAIRN_E_INVALID_ARGUMENT, "unknown group");

    /* Canned policies are valid JSON with statements. */
    static const char *canned[] = {"readwrite", "readonly", "writeonly", "diagnostics",
                                   "consoleAdmin"};
    for (size_t i = 0; i < 5; i++) {
        json_error_t e;
        json_t *j = json_loads(iam_canned_policy(canned[i]), 0, &e);
        ok(j && json_is_array(json_object_get(j, "Statement")) &&
               json_array_size(json_object_get(j, "Statement")) > 0,
           "canned %s is valid JSON", canned[i]);
        json_decref(j);
    }
    ok(iam_canned_policy("nope") == NULL, "unknown canned policy");

    iam_store_clear();
    is_int(svc->iam_lookup(&req, "rootuser", &id, secret, sizeof(secret)),
           CAIRN_E_INVALID_ACCESS_KEY, "cleared");
    arena_free(req.arena);
}

int main(void)
{
    test_table();
    test_log();
    test_metrics();
    test_iam();
    return tap_done();
}
