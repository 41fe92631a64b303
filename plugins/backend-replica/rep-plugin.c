/*
 * rep-plugin.c -- backend-replica: descriptor, configuration, placement,
 * drive checks and the background heal scanner.
 */
#include "rep-internal.h"
#include "sc-bucket.h"
#include "sc-config.h"
#include "sc-info.h"
#include "sc-keypath.h"
#include "sc-util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

const char *const rep_class_names[REP_N_CLASSES] = {
    "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
    "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS", "EXPRESS_ONEZONE",
};

int rep_fmt(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n;
}

void rep_placement(struct rep_state *st, const char *bucket, const char *key, int *order)
{
    uint64_t h = XXH64(bucket, strlen(bucket), 17) ^ XXH64(key, strlen(key), 29);
    size_t start = (size_t)(h % st->n_drives);
    for (size_t i = 0; i < st->n_drives && i < REP_MAX; i++)
        order[i] = (int)((start + i) % st->n_drives);
}

int rep_storage_class(struct rep_state *st, size_t n_attrs, const struct cairn_kv *attrs,
                      int *copies_r)
{
    const char *sc = "STANDARD";
    for (size_t i = 0; i < n_attrs; i++)
        if (!strcmp(attrs[i].name, "x-amz-storage-class") && attrs[i].value[0])
            sc = attrs[i].value;
    for (int i = 0; i < REP_N_CLASSES; i++)
        if (!strcmp(sc, rep_class_names[i])) {
            *copies_r = st->class_copies[i];
            return 0;
        }
    return CAIRN_E_INVALID_STORAGE_CLASS;
}

int rep_bucket_rel(const char *bucket, char *out, size_t cap)
{
    return sc_bucket_rel(bucket, out, cap);
}

int rep_key_rel(const char *bucket, const char *key, char *out, size_t cap)
{
    return sc_bucket_key_rel(bucket, key, out, cap);
}

int rep_bucket_exists(struct rep_state *st, const char *bucket)
{
    char rel[REP_PATH];
    if (rep_bucket_rel(bucket, rel, sizeof(rel)))
        return 0;
    for (size_t i = 0; i < st->n_drives; i++) {
        struct stat sb;
        struct sc_drive *d = st->drives[i];
        if (d->online && d->ops->stat(d, rel, &sb) == 0)
            return 1;
    }
    return 0;
}

int rep_errno(int rc)
{
    if (rc >= 0 || rc <= -1000)
        return rc;
    switch (-rc) {
    case ENOMEM:
        return CAIRN_E_NOMEM;
    case ENAMETOOLONG:
        return CAIRN_E_KEY_TOO_LONG;
    case EBADMSG:
        return CAIRN_E_CORRUPT;
    default:
        return CAIRN_E_IO;
    }
}

int rep_fill_info(struct rep_state *st, struct cairn_req *req, const struct sc_version *v,
                 int is_latest, enum cairn_versioning shown, struct cairn_object_info *info)
{
    return sc_fill_info(st->sv, req, v, is_latest, shown, info);
}

/* A drive is usable when its root is a directory; its temp dir is (re)made. */
static void check_drive(struct rep_state *st, size_t i, int starting)
{
    struct sc_drive *d = st->drives[i];
    struct stat sb;
    if (d->ops->stat(d, "", &sb) || !S_ISDIR(sb.st_mode)) {
        if (d->online || starting)
            st->sv->log(NULL, CAIRN_LOG_ERROR, "backend-replica: drive %s is missing; "
                        "continuing without it while quorum allows", d->name);
        d->online = 0;
        return;
    }
    if (starting)
        d->ops->remove_tree(d, SC_TMP_DIR);
    if (d->ops->mkdir_p(d, SC_TMP_DIR)) {
        st->sv->log(NULL, CAIRN_LOG_ERROR, "backend-replica: drive %s is not writable",
                    d->name);
        d->online = 0;
        return;
    }
    d->online = 1;
}

void rep_check_drives(struct rep_state *st)
{
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < st->n_drives; i++)
        check_drive(st, i, 0);
    pthread_mutex_unlock(&st->mu);
}

/* Heals everything every scanner_interval_s seconds, paced to
 * scanner_keys_per_s keys a second so it does not starve client traffic. */
static void *scanner_main(void *arg)
{
    struct rep_state *st = arg;
    pthread_mutex_lock(&st->mu);
    while (!st->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += st->scanner_interval_s;
        while (!st->stop && pthread_cond_timedwait(&st->cond, &st->mu, &ts) != ETIMEDOUT)
            ;
        if (st->stop)
            break;
        pthread_mutex_unlock(&st->mu);
        rep_heal_all(st, NULL, st->scanner_keys_per_s);
        pthread_mutex_lock(&st->mu);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

static void rep_fini(void *state)
{
    struct rep_state *st = state;
    if (!st)
        return;
    if (st->scanner_running) {
        pthread_mutex_lock(&st->mu);
        st->stop = 1;
        pthread_cond_broadcast(&st->cond);
        pthread_mutex_unlock(&st->mu);
        pthread_join(st->scanner, NULL);
    }
    for (size_t i = 0; i < st->n_drives; i++)
        sc_drive_free(st->drives[i]);
    free(st->drives);
    sc_dircache_free(st->dircache);
    sc_locks_destroy(&st->locks);
    sc_locks_destroy(&st->upload_locks);
    pthread_cond_destroy(&st->cond);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

static int rep_init(const struct cairn_services *sv, const struct cairn_config *cfg,
                    void **state_r)
{
    struct rep_state *st = calloc(1, sizeof(*st));
    if (!st)
        return CAIRN_E_NOMEM;
    st->sv = sv;
    st->cfg = cfg;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cond, NULL);
    sc_locks_init(&st->locks);
    sc_locks_init(&st->upload_locks);
    int rc = CAIRN_E_NOMEM;
    st->dircache = sc_dircache_new();
    if (!st->dircache ||
        (rc = sc_config_drives(sv, cfg, "backend-replica", 255, &st->drives, &st->n_drives)))
        goto fail;
    rc = CAIRN_E_INVALID_ARGUMENT;
    size_t n = st->n_drives;
    int cap = n < REP_MAX ? (int)n : REP_MAX;
    int64_t copies = sv->config_int(cfg, "copies", 3);
    if (copies < 1) {
        sv->log(NULL, CAIRN_LOG_ERROR, "backend-replica: copies must be at least 1");
        goto fail;
    }
    st->copies = copies > cap ? cap : (int)copies;
    st->meta_n = st->copies;
    for (int i = 0; i < REP_N_CLASSES; i++) {
        char name[96];
        rep_fmt(name, sizeof(name), "storage_class_%s_copies", rep_class_names[i]);
        int64_t c = i == 0 ? st->copies : sv->config_int(cfg, name, st->copies);
        if (c < 1) {
            sv->log(NULL, CAIRN_LOG_ERROR, "backend-replica: %s must be at least 1", name);
            goto fail;
        }
        st->class_copies[i] = c > cap ? cap : (int)c;
        if (st->class_copies[i] > st->meta_n)
            st->meta_n = st->class_copies[i];
    }
    struct sc_storage_settings set;
    if ((rc = sc_config_storage(sv, cfg, "backend-replica", &set)))
        goto fail;
    st->block_size = set.block_size;
    st->inline_limit = set.inline_limit;
    st->sync = set.sync;
    st->scanner_interval_s = set.scanner_interval_s;
    st->scanner_keys_per_s = sv->config_int(cfg, "scanner_keys_per_s", 200);
    int online = 0;
    for (size_t i = 0; i < n; i++) {
        check_drive(st, i, 1);
        online += st->drives[i]->online;
    }
    sv->log(NULL, CAIRN_LOG_INFO, "backend-replica: %d of %zu drives online, %d copies",
            online, n, st->copies);
    if (st->scanner_interval_s > 0 &&
        pthread_create(&st->scanner, NULL, scanner_main, st) == 0)
        st->scanner_running = 1;
    *state_r = st;
    return 0;
fail:
    rep_fini(st);
    return rc;
}

int rep_heal(void *state, struct cairn_req *req, const char *bucket, const char *key)
{
    struct rep_state *st = state;
    rep_check_drives(st);
    if (!bucket)
        return rep_heal_all(st, req, 0);
    int rc = rep_heal_bucket(st, bucket);
    if (rc || !key)
        return rc;
    return rep_heal_key(st, req, bucket, key);
}

static const struct cairn_backend_ops rep_ops = {
    .size = sizeof(struct cairn_backend_ops),
    .bucket_create = rep_bucket_create,
    .bucket_delete = rep_bucket_delete,
    .bucket_head = rep_bucket_head,
    .bucket_list = rep_bucket_list,
    .bucket_config_get = rep_bucket_config_get,
    .bucket_config_put = rep_bucket_config_put,
    .bucket_config_delete = rep_bucket_config_delete,
    .object_put = rep_object_put,
    .object_get = rep_object_get,
    .object_delete = rep_object_delete,
    .object_set_attrs = rep_object_set_attrs,
    .object_list = rep_object_list,
    .mpu_create = rep_mpu_create,
    .mpu_put_part = rep_mpu_put_part,
    .mpu_list_parts = rep_mpu_list_parts,
    .mpu_complete = rep_mpu_complete,
    .mpu_abort = rep_mpu_abort,
    .mpu_list = rep_mpu_list,
    .heal = rep_heal,
};

CAIRN_PLUGIN_EXPORT const struct cairn_plugin_descriptor cairn_plugin = {
    .abi_major = CAIRN_ABI_MAJOR,
    .abi_minor = CAIRN_ABI_MINOR,
    .kind = CAIRN_PLUGIN_BACKEND,
    .name = "backend-replica",
    .version = "0.1.0",
    .init = rep_init,
    .fini = rep_fini,
    .backend = &rep_ops,
};
