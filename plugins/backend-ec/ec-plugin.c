/*
 * ec-plugin.c -- backend-ec: descriptor, configuration, drives and their
 * format files, and the background heal scanner.
 */
#include "ec-internal.h"
#include "sc-frame.h"
#include "sc-bucket.h"
#include "sc-config.h"
#include "sc-info.h"
#include "sc-keypath.h"
#include "sc-util.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#define FORMAT_FILE SC_SYS_DIR "/format.json"

int ec_fmt(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n;
}

size_t ec_set_of(struct ec_state *st, const char *bucket, const char *key)
{
    if (st->n_sets == 1)
        return 0;
    uint64_t h = XXH64(bucket, strlen(bucket), 7) ^ XXH64(key, strlen(key), 11);
    return (size_t)(h % st->n_sets);
}

void ec_distribution(const char *bucket, const char *key, int n, uint8_t *dist)
{
    uint64_t h = XXH64(key, strlen(key), 3) + XXH64(bucket, strlen(bucket), 5);
    for (int s = 0; s < n; s++)
        dist[s] = (uint8_t)((h + (uint64_t)s) % (uint64_t)n);
}

int ec_bucket_rel(const char *bucket, char *out, size_t cap)
{
    return sc_bucket_rel(bucket, out, cap);
}

int ec_key_rel(const char *bucket, const char *key, char *out, size_t cap)
{
    return sc_bucket_key_rel(bucket, key, out, cap);
}

int ec_bucket_exists(struct ec_state *st, size_t set, const char *bucket)
{
    char rel[EC_PATH];
    if (ec_bucket_rel(bucket, rel, sizeof(rel)))
        return 0;
    struct sc_drive **d = ec_set_drives(st, set);
    for (size_t i = 0; i < st->set_size; i++) {
        struct stat sb;
        if (d[i]->online && d[i]->ops->stat(d[i], rel, &sb) == 0)
            return 1;
    }
    return 0;
}

int ec_errno(int rc)
{
    switch (-rc) {
    case 0:
        return 0;
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

static int kind_index(const char *codec)
{
    return !strcmp(codec, "isal-rs") ? 0 : !strcmp(codec, "jerasure-rs-vand") ? 1 : 2;
}

struct ec_codec *ec_codec_get(struct ec_state *st, const char *name, int k, int m)
{
    if (!ec_codec_known(name) || k < 1 || m < 0 || k > EC_MAX_SET || m > EC_MAX_SET)
        return NULL;
    pthread_mutex_lock(&st->mu);
    struct ec_codec **slot = &st->codecs[kind_index(name)][k][m];
    if (!*slot)
        *slot = ec_codec_new(name, k, m);
    struct ec_codec *c = *slot;
    pthread_mutex_unlock(&st->mu);
    return c;
}

int ec_storage_class(struct ec_state *st, size_t n_attrs, const struct cairn_kv *attrs,
                     int *m_r, const char **codec_r)
{
    const char *sc = "STANDARD";
    for (size_t i = 0; i < n_attrs; i++)
        if (!strcmp(attrs[i].name, "x-amz-storage-class") && attrs[i].value[0])
            sc = attrs[i].value;
    char name[160];
    int64_t dflt = -1;
    if (!strcmp(sc, "STANDARD"))
        dflt = st->parity;
    else if (!strcmp(sc, "REDUCED_REDUNDANCY"))
        dflt = st->parity < 1 ? st->parity : 1;
    ec_fmt(name, sizeof(name), "storage_class_%s_parity", sc);
    int64_t m = st->sv->config_int(st->cfg, name, dflt);
    if (m < 0 || m > (int64_t)st->set_size / 2)
        return CAIRN_E_INVALID_STORAGE_CLASS;
    ec_fmt(name, sizeof(name), "storage_class_%s_codec", sc);
    const char *codec = st->sv->config_string(st->cfg, name, st->codec);
    if (!ec_codec_known(codec))
        return CAIRN_E_INVALID_STORAGE_CLASS;
    *m_r = (int)m;
    *codec_r = codec;
    return 0;
}

int ec_fill_info(struct ec_state *st, struct cairn_req *req, const struct sc_version *v,
                int is_latest, enum cairn_versioning shown, struct cairn_object_info *info)
{
    return sc_fill_info(st->sv, req, v, is_latest, shown, info);
}

/* ---- formats ---- */

static char *format_json(struct ec_state *st, size_t pos)
{
    json_t *o = json_pack("{si ss sI sI sI}", "format", 1, "deployment", st->deployment, "drives",
                          (json_int_t)st->n_drives, "set_size", (json_int_t)st->set_size,
                          "position", (json_int_t)pos);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static int write_format(struct ec_state *st, size_t pos)
{
    char *s = format_json(st, pos);
    if (!s)
        return CAIRN_E_NOMEM;
    struct sc_drive *d = st->drives[pos];
    int rc = d->ops->mkdir_p(d, SC_SYS_DIR);
    if (!rc)
        rc = sc_frame_write(d, FORMAT_FILE, s, strlen(s), 1);
    free(s);
    return rc;
}

/* Reads a drive's format: 0 with deployment/position, -ENOENT when absent,
 * CAIRN_E_CORRUPT when unreadable. */
static int read_format(struct sc_drive *d, char dep[33], int64_t *pos_r, int64_t *n_r)
{
    char *s;
    size_t len;
    int rc = sc_frame_read(d, FORMAT_FILE, 65536, &s, &len);
    if (rc)
        return rc;
    json_t *o = json_loadb(s, len, 0, NULL);
    free(s);
    const char *id = json_string_value(json_object_get(o, "deployment"));
    if (!id || strlen(id) != 32) {
        json_decref(o);
        return CAIRN_E_CORRUPT;
    }
    memcpy(dep, id, 33);
    *pos_r = json_integer_value(json_object_get(o, "position"));
    *n_r = json_integer_value(json_object_get(o, "drives"));
    json_decref(o);
    return 0;
}

/* Brings drive `i` online when it is usable, formatting it when empty. */
static void check_drive(struct ec_state *st, size_t i, int starting)
{
    struct sc_drive *d = st->drives[i];
    struct stat sb;
    if (d->ops->stat(d, "", &sb) || !S_ISDIR(sb.st_mode)) {
        if (d->online || starting)
            st->sv->log(NULL, CAIRN_LOG_ERROR, "backend-ec: drive %s is missing; continuing "
                        "without it while quorum allows", d->name);
        d->online = 0;
        return;
    }
    char dep[33];
    int64_t pos, n;
    int rc = read_format(d, dep, &pos, &n);
    if (rc == -ENOENT) {
        char **names;
        size_t nn;
        int empty = 1;
        if (d->ops->readdir(d, "", &names, &nn) == 0) {
            for (size_t j = 0; j < nn; j++)
                if (strcmp(names[j], SC_SYS_DIR) && strcmp(names[j], "lost+found"))
                    empty = 0;
            sc_names_free(names, nn);
        }
        if (!empty && starting) {
            st->sv->log(NULL, CAIRN_LOG_ERROR, "backend-ec: drive %s is not empty and has no "
                        "cairn format; refusing to use it", d->name);
            d->online = 0;
            return;
        }
        if (write_format(st, i)) {
            st->sv->log(NULL, CAIRN_LOG_ERROR, "backend-ec: cannot format drive %s", d->name);
            d->online = 0;
            return;
        }
        if (st->fresh)
            st->sv->log(NULL, CAIRN_LOG_INFO, "backend-ec: formatted new drive %s (position %zu)",
                        d->name, i);
        else
            st->sv->log(NULL, CAIRN_LOG_WARN, "backend-ec: formatted empty drive %s (position "
                        "%zu); it will be healed", d->name, i);
        d->online = 1;
        st->heal_pending = 1;
        return;
    }
    if (rc) {
        st->sv->log(NULL, CAIRN_LOG_ERROR, "backend-ec: drive %s has an unreadable format file; "
                    "not using it", d->name);
        d->online = 0;
        return;
    }
    if (strcmp(dep, st->deployment)) {
        st->sv->log(NULL, CAIRN_LOG_ERROR, "backend-ec: drive %s belongs to another deployment "
                    "(%s, expected %s); refusing to use it", d->name, dep, st->deployment);
        d->online = 0;
        return;
    }
    if (pos != (int64_t)i || n != (int64_t)st->n_drives) {
        st->sv->log(NULL, CAIRN_LOG_ERROR, "backend-ec: drive %s was position %lld of %lld, "
                    "now configured as %zu of %zu; refusing to use it", d->name, (long long)pos,
                    (long long)n, i, st->n_drives);
        d->online = 0;
        return;
    }
    d->online = 1;
}

void ec_check_drives(struct ec_state *st)
{
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < st->n_drives; i++)
        check_drive(st, i, 0);
    pthread_mutex_unlock(&st->mu);
}

static int setup_drives(struct ec_state *st)
{
    /* the deployment is the one most formatted drives agree on */
    char deps[64][33];
    int votes[64] = {0}, nd = 0, best = -1;
    for (size_t i = 0; i < st->n_drives; i++) {
        char dep[33];
        int64_t pos, n;
        if (read_format(st->drives[i], dep, &pos, &n))
            continue;
        int j = 0;
        while (j < nd && strcmp(deps[j], dep))
            j++;
        if (j == nd && nd < 64)
            memcpy(deps[nd++], dep, 33);
        if (j < nd && ++votes[j] > (best < 0 ? 0 : votes[best]))
            best = j;
    }
    if (best >= 0)
        memcpy(st->deployment, deps[best], 33);
    else
        sc_new_id(st->deployment);
    st->fresh = best < 0;
    int online = 0;
    for (size_t i = 0; i < st->n_drives; i++) {
        check_drive(st, i, 1);
        if (st->drives[i]->online) {
            online++;
            st->drives[i]->ops->remove_tree(st->drives[i], SC_TMP_DIR);
            st->drives[i]->ops->mkdir_p(st->drives[i], SC_TMP_DIR);
        }
    }
    if (st->fresh)
        st->heal_pending = 0; /* a new deployment has nothing to heal */
    st->fresh = 0;
    st->sv->log(NULL, CAIRN_LOG_INFO, "backend-ec: %d of %zu drives online, %zu set(s) of %zu, "
                "parity %d, codec %s, deployment %s", online, st->n_drives, st->n_sets,
                st->set_size, st->parity, st->codec, st->deployment);
    return 0;
}

/* ---- scanner ---- */

/* Stripe buffers unused this long are given back (ec_read_release_idle). */
#define EC_BUF_IDLE_MS 2000

/* Wakes every second to give back idle GET buffers; heals every set when a
 * heal is pending or scanner_interval_s (0: never) has passed. */
static void *scanner_main(void *arg)
{
    struct ec_state *st = arg;
    int64_t next_scan = st->scanner_interval_s > 0
                            ? sc_now_ms() + (int64_t)st->scanner_interval_s * 1000
                            : INT64_MAX;
    pthread_mutex_lock(&st->mu);
    while (!st->stop) {
        if (!st->heal_pending) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&st->cond, &st->mu, &ts);
            if (st->stop)
                break;
            pthread_mutex_unlock(&st->mu);
            ec_read_release_idle(EC_BUF_IDLE_MS);
            pthread_mutex_lock(&st->mu);
            if (!st->heal_pending && sc_now_ms() < next_scan)
                continue;
        }
        st->heal_pending = 0;
        pthread_mutex_unlock(&st->mu);
        ec_heal_all(st, NULL);
        pthread_mutex_lock(&st->mu);
        if (st->scanner_interval_s > 0)
            next_scan = sc_now_ms() + (int64_t)st->scanner_interval_s * 1000;
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

/* ---- init / fini ---- */

static void ec_fini(void *state)
{
    struct ec_state *st = state;
    if (!st)
        return;
    if (st->scanner_running) {
        pthread_mutex_lock(&st->mu);
        st->stop = 1;
        pthread_cond_signal(&st->cond);
        pthread_mutex_unlock(&st->mu);
        pthread_join(st->scanner, NULL);
    }
    for (int a = 0; a < 3; a++)
        for (int k = 0; k <= EC_MAX_SET; k++)
            for (int m = 0; m <= EC_MAX_SET; m++)
                ec_codec_free(st->codecs[a][k][m]);
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

static int default_parity(size_t n)
{
    return n <= 1 ? 0 : n <= 3 ? 1 : n <= 5 ? 2 : n <= 7 ? 3 : 4;
}

/*
 * libJerasure builds process-wide GF(2^8) tables on first use and never frees
 * them.  Keep it (and gf-complete) loaded for the life of the process, so the
 * tables stay reachable (and valid) after this plugin is unloaded.
 */
static void pin_libraries(void)
{
    static const char *const libs[] = {"libJerasure.so.2", "libgf_complete.so.1"};
    for (size_t i = 0; i < sizeof(libs) / sizeof(*libs); i++)
        (void)dlopen(libs[i], RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

static int ec_init(const struct cairn_services *sv, const struct cairn_config *cfg, void **state_r)
{
    pin_libraries();
    struct ec_state *st = calloc(1, sizeof(*st));
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
        (rc = sc_config_drives(sv, cfg, "backend-ec", 1024, &st->drives, &st->n_drives)))
        goto fail;
    rc = CAIRN_E_INVALID_ARGUMENT;
    size_t n = st->n_drives;
    size_t dflt_set = n;
    if (n > 16)
        for (dflt_set = 16; n % dflt_set; dflt_set--)
            ;
    int64_t ss = sv->config_int(cfg, "set_size", (int64_t)dflt_set);
    if (ss < 1 || ss > EC_MAX_SET || n % (size_t)ss) {
        sv->log(NULL, CAIRN_LOG_ERROR, "backend-ec: set_size %lld must be 1..16 and divide the "
                "%zu drives", (long long)ss, n);
        goto fail;
    }
    st->set_size = (size_t)ss;
    st->n_sets = n / st->set_size;
    int64_t par = sv->config_int(cfg, "parity", default_parity(st->set_size));
    if (par < 0 || par > (int64_t)st->set_size / 2) {
        sv->log(NULL, CAIRN_LOG_ERROR, "backend-ec: parity %lld must be 0..%zu", (long long)par,
                st->set_size / 2);
        goto fail;
    }
    st->parity = (int)par;
    const char *codec = sv->config_string(cfg, "codec", "isal-rs");
    if (!ec_codec_known(codec)) {
        sv->log(NULL, CAIRN_LOG_ERROR, "backend-ec: unknown codec \"%s\" (isal-rs, "
                "jerasure-rs-vand, jerasure-cauchy)", codec);
        goto fail;
    }
    ec_fmt(st->codec, sizeof(st->codec), "%s", codec);
    struct sc_storage_settings set;
    if ((rc = sc_config_storage(sv, cfg, "backend-ec", &set)))
        goto fail;
    st->block_size = set.block_size;
    st->inline_limit = set.inline_limit;
    st->sync = set.sync;
    st->scanner_interval_s = set.scanner_interval_s;
    if ((rc = setup_drives(st)))
        goto fail;
    if (pthread_create(&st->scanner, NULL, scanner_main, st) == 0)
        st->scanner_running = 1;
    *state_r = st;
    return 0;
fail:
    ec_fini(st);
    return rc;
}

static const struct cairn_backend_ops ec_ops = {
    .size = sizeof(struct cairn_backend_ops),
    .bucket_create = ec_bucket_create,
    .bucket_delete = ec_bucket_delete,
    .bucket_head = ec_bucket_head,
    .bucket_list = ec_bucket_list,
    .bucket_config_get = ec_bucket_config_get,
    .bucket_config_put = ec_bucket_config_put,
    .bucket_config_delete = ec_bucket_config_delete,
    .object_put = ec_object_put,
    .object_get = ec_object_get,
    .object_delete = ec_object_delete,
    .object_set_attrs = ec_object_set_attrs,
    .object_list = ec_object_list,
    .mpu_create = ec_mpu_create,
    .mpu_put_part = ec_mpu_put_part,
    .mpu_list_parts = ec_mpu_list_parts,
    .mpu_complete = ec_mpu_complete,
    .mpu_abort = ec_mpu_abort,
    .mpu_list = ec_mpu_list,
    .heal = ec_heal,
};

CAIRN_PLUGIN_EXPORT const struct cairn_plugin_descriptor cairn_plugin = {
    .abi_major = CAIRN_ABI_MAJOR,
    .abi_minor = CAIRN_ABI_MINOR,
    .kind = CAIRN_PLUGIN_BACKEND,
    .name = "backend-ec",
    .version = "0.1.0",
    .init = ec_init,
    .fini = ec_fini,
    .backend = &ec_ops,
};
