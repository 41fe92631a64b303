/*
 * test-fsbackend.c -- what the generic conformance suite cannot see of the
 * example backend: its init errors, its files on disk (no tmp leftovers), and
 * how it survives damaged sidecars and data files.  TAP.
 *
 * It includes fsbackend.c to reach its static helpers and uses the
 * conformance suite's fake core for services and requests.
 */
#include "fsbackend.c"

#include <sys/types.h>

#include "fake-core.h"
#include "tap.h"

static const struct cairn_backend_ops *ops = &fs_ops;
static void *st;
static char root[1024];

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static int tmp_entries(void)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/tmp", root);
    return count_entries(path);
}

static int write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = fwrite(text, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

static int put(const char *key, uint32_t seed, uint64_t size, int64_t fail_after, int no_final)
{
    struct fake_body body;
    fake_body_init(&body, seed, size);
    body.fail_after = fail_after;
    body.fail_error = CAIRN_E_BAD_DIGEST;
    struct fake_req *r = fake_req_new(&body, NULL);
    struct cairn_object_info info;
    struct cairn_put p = {.bucket = "b", .key = key, .content_length = (int64_t)size,
                          .final = no_final ? NULL : &body.final};
    int rc = ops->object_put(st, &r->req, &p, &info);
    fake_body_release(&body);
    fake_req_free(r);
    return rc;
}

static int decide_all(void *ctx, const struct cairn_object_info *info, uint64_t *off,
                      uint64_t *len)
{
    *off = 0;
    *len = info->size;
    return 0;
}

static int get(const char *key, uint64_t *received)
{
    struct fake_sink sink;
    fake_sink_init(&sink, -1);
    struct fake_req *r = fake_req_new(NULL, &sink);
    struct cairn_get g = {.bucket = "b", .key = key, .decide = decide_all};
    int rc = ops->object_get(st, &r->req, &g);
    fake_sink_finish(&sink);
    fake_req_free(r);
    if (received)
        *received = sink.received;
    return rc;
}

static int emit_count(void *ctx, const struct cairn_list_entry *e)
{
    (*(int *)ctx)++;
    return 0;
}

static int list_count(int *n)
{
    struct fake_req *r = fake_req_new(NULL, NULL);
    struct cairn_list l = {.bucket = "b", .prefix = "", .delimiter = "", .after = "",
                           .emit = emit_count, .ctx = n};
    *n = 0;
    int rc = ops->object_list(st, &r->req, &l);
    fake_req_free(r);
    return rc;
}

/* The sidecar path of key in bucket "b". */
static void sidecar_of(const char *key, char *path)
{
    if (meta_path(st, "b", key, path) != 0)
        path[0] = '\0';
}

static void check_init(const struct cairn_services *sv, const char *base)
{
    struct cairn_config cfg = {0};
    void *s = NULL;
    is_int(fs_init(sv, &cfg, &s), CAIRN_E_INVALID_ARGUMENT, "init without root is refused");
    char file[1024], under[PATH_MAX];
    snprintf(file, sizeof file, "%s/a-file", base);
    write_text(file, "x", 1);
    snprintf(under, sizeof under, "%s/sub", file);
    fake_config_set(&cfg, "root", under);
    is_int(fs_init(sv, &cfg, &s), CAIRN_E_IO, "init with a root that cannot be made: IO");
    fake_config_clear(&cfg);
}

int main(void)
{
    const struct cairn_services *sv = fake_services();
    char base[] = "/tmp/cairn-fsbackend-test-XXXXXX", path[PATH_MAX], side[PATH_MAX];
    if (!mkdtemp(base)) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }
    snprintf(root, sizeof root, "%s/root", base);
    check_init(sv, base);

    /* Leftovers of a crash in tmp/ are removed by init. */
    snprintf(path, sizeof path, "%s/tmp/crashed-upload", root);
    mkdir(root, 0755);
    snprintf(side, sizeof side, "%s/tmp", root);
    mkdir(side, 0755);
    write_text(path, "half", 4);
    struct cairn_config cfg = {0};
    fake_config_set(&cfg, "root", root);
    is_int(fs_init(sv, &cfg, &st), 0, "init");
    is_int(tmp_entries(), 0, "init empties tmp/");

    struct fake_req *r = fake_req_new(NULL, NULL);
    struct cairn_bucket_info b = {.name = "b", .owner = "me"};
    is_int(ops->bucket_create(st, &r->req, &b), 0, "bucket_create");
    struct cairn_bucket_info other = {.name = "b", .owner = "someone-else"};
    is_int(ops->bucket_create(st, &r->req, &other), CAIRN_E_BUCKET_EXISTS,
           "bucket_create of another owner's bucket: BUCKET_EXISTS");
    struct cairn_bucket_info bad = {.name = "..", .owner = ""};
    is_int(ops->bucket_create(st, &r->req, &bad), CAIRN_E_INVALID_BUCKET_NAME,
           "bucket name '..' is refused");
    is_int(ops->bucket_config_put(st, &r->req, "b", "../policy", "x", 1), CAIRN_E_INVALID_ARGUMENT,
           "bucket document name with a path is refused");
    fake_req_free(r);

    /* Failed puts leave nothing in tmp/. */
    is_int(put("k", 1, 300000, 100000, 0), CAIRN_E_BAD_DIGEST, "put failing mid-body");
    is_int(tmp_entries(), 0, "a failed put leaves nothing in tmp/");
    is_int(put("k", 1, 1000, -1, 1), CAIRN_E_INVALID_ARGUMENT, "put without put->final is refused");
    is_int(tmp_entries(), 0, "the refused put leaves nothing in tmp/");
    is_int(put("k", 1, 1000, -1, 0), 0, "put");
    is_int(put("k", 2, 2000, -1, 0), 0, "overwrite");
    snprintf(path, sizeof path, "%s/buckets/b/data", root);
    is_int(count_entries(path), 1, "an overwrite drops the old data file");
    is_int(tmp_entries(), 0, "tmp/ is empty after puts");

    /* A data file shorter than its sidecar says: CORRUPT, never garbage. */
    char id_path[PATH_MAX + 256];
    DIR *d = opendir(path);
    struct dirent *e;
    id_path[0] = '\0';
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            snprintf(id_path, sizeof id_path, "%s/%s", path, e->d_name);
    if (d)
        closedir(d);
    ok(id_path[0] && truncate(id_path, 1500) == 0, "truncate the data file");
    uint64_t got = 0;
    is_int(get("k", &got), CAIRN_E_CORRUPT, "get of a truncated data file: CORRUPT");
    ok(got == 1500, "it streamed only the bytes that exist");

    /* Damaged sidecars: every one is CORRUPT on get, skipped by list, deletable. */
    static const char *const damaged[] = {
        "",
        "garbage",
        "5:abc,",
        "99999999999999999999:x,",
        "17:cairn-fsbackend-1,\n3:ab",
        "-1:a,",
        "17:cairn-fsbackend-1,\n1:k,\n",
        "17:cairn-fsbackend-1,\n1:k,\n12:../../../etc,\n1:0,\n1:0,\n0:,\n1:0,\n",
        "17:cairn-fsbackend-1,\n1:k,\n32:0123456789abcdef0123456789abcdef,\n1:0,\n1:0,\n0:,\n1:0,\n"
        "1:x,\n",
        "17:wrong-magic-here!,\n",
    };
    sidecar_of("k", side);
    for (size_t i = 0; i < sizeof damaged / sizeof *damaged; i++) {
        int n = -1;
        write_text(side, damaged[i], strlen(damaged[i]));
        int rc = get("k", NULL);
        ok(rc == CAIRN_E_CORRUPT, "damaged sidecar %zu: get gives CORRUPT", i);
        rc = list_count(&n);
        ok(rc == 0 && n == 0, "damaged sidecar %zu: list skips it", i);
    }
    is_int(put("other", 3, 10, -1, 0), 0, "put a healthy neighbour");
    int n = 0;
    ok(list_count(&n) == 0 && n == 1, "list shows the healthy object next to a damaged one");
    r = fake_req_new(NULL, NULL);
    is_int(ops->object_delete(st, &r->req, "b", "k", NULL, CAIRN_VERSIONING_OFF, NULL), 0,
           "a damaged object can be deleted");
    is_int(ops->object_delete(st, &r->req, "b", "other", NULL, CAIRN_VERSIONING_OFF, NULL), 0,
           "delete the neighbour");
    fake_req_free(r);
    is_int(get("k", NULL), CAIRN_E_NO_SUCH_KEY, "after delete: NO_SUCH_KEY");

    /* Multipart leaves no upload folder and nothing in tmp/. */
    char id[128];
    r = fake_req_new(NULL, NULL);
    is_int(ops->mpu_create(st, &r->req, "b", "m", 0, NULL, id), 0, "mpu_create");
    fake_req_free(r);
    struct fake_body body;
    fake_body_init(&body, 9, 4096);
    r = fake_req_new(&body, NULL);
    struct cairn_object_info info;
    struct cairn_put p = {.bucket = "b", .key = "m", .content_length = 4096, .final = &body.final};
    is_int(ops->mpu_put_part(st, &r->req, id, 1, &p, &info), 0, "mpu_put_part");
    is_int(ops->mpu_put_part(st, &r->req, id, 0, &p, &info), CAIRN_E_INVALID_ARGUMENT,
           "part number 0 is refused");
    struct cairn_part_info part = {.number = 1};
    snprintf(part.etag, sizeof part.etag, "\"%.32s\"", info.etag);
    is_int(ops->mpu_complete(st, &r->req, "b", "m", id, &part, 1, 5 << 20,
                             CAIRN_VERSIONING_OFF, 0, NULL, &info),
           0, "mpu_complete (ETag given quoted)");
    fake_body_release(&body);
    fake_req_free(r);
    snprintf(path, sizeof path, "%s/buckets/b/uploads", root);
    is_int(count_entries(path), 0, "no upload folder is left");
    is_int(tmp_entries(), 0, "nothing is left in tmp/");
    r = fake_req_new(NULL, NULL);
    is_int(ops->object_delete(st, &r->req, "b", "m", NULL, CAIRN_VERSIONING_OFF, NULL), 0,
           "delete the multipart object");
    is_int(ops->bucket_delete(st, &r->req, "b"), 0, "bucket_delete");
    fake_req_free(r);
    is_int(tmp_entries(), 0, "bucket_delete leaves nothing in tmp/");

    fs_fini(st);
    fake_config_clear(&cfg);
    remove_tree(base);
    return tap_done();
}
