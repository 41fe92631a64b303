/*
 * lifecycle.h -- bucket lifecycle rules: parsing and validating the stored
 * LifecycleConfiguration document, the pure decisions (does this rule expire
 * this version / abort this upload now?), and the background scanner that
 * applies them through the default backend.
 *
 * Time is measured in lifecycle "days" of `day_ms` milliseconds (86,400,000
 * normally; tests shorten it).  Unlike S3, ages are not rounded to midnight
 * UTC: an object of age >= Days days is due.
 */
#ifndef CAIRN_LIFECYCLE_H
#define CAIRN_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

#include <cairn/plugin.h>

#include "plugin-loader.h"

struct arena;

#define LC_MAX_TAGS 10

/* What a rule applies to.  Unset sizes are -1; prefix "" matches everything. */
struct lc_filter {
    const char *prefix;
    size_t n_tags;
    struct cairn_kv tags[LC_MAX_TAGS];
    int64_t size_gt; /* ObjectSizeGreaterThan, or -1 */
    int64_t size_lt; /* ObjectSizeLessThan, or -1 */
};

/* One rule.  Every unset number is -1. */
struct lc_rule {
    const char *id; /* "" when absent */
    int enabled;
    struct lc_filter filter;
    int64_t exp_days;        /* Expiration/Days */
    int64_t exp_date_ms;     /* Expiration/Date */
    int exp_delete_marker;   /* Expiration/ExpiredObjectDeleteMarker = true */
    int64_t nc_days;         /* NoncurrentVersionExpiration/NoncurrentDays */
    int64_t nc_newer;        /* NoncurrentVersionExpiration/NewerNoncurrentVersions, or 0 */
    int64_t abort_days;      /* AbortIncompleteMultipartUpload/DaysAfterInitiation */
};

struct lc_config {
    size_t n_rules;
    struct lc_rule *rules; /* in the arena */
};

/*
 * Parses and validates `len` bytes of LifecycleConfiguration XML into
 * *cfg_r (allocated from `arena`).  Returns 0; CAIRN_E_MALFORMED_XML when
 * the structure is wrong, or CAIRN_E_INVALID_ARGUMENT when a value is;
 * either way `reason` (capacity `cap`) says what, as S3 words it.
 */
int lifecycle_parse(struct arena *arena, const char *xml, size_t len, struct lc_config *cfg_r,
                    char *reason, size_t cap);

/* lifecycle_parse without keeping the result (PutBucketLifecycleConfiguration). */
int lifecycle_validate(const char *xml, size_t len, char *reason, size_t cap);

/* 1 when the rule's filter needs the object's tags (a Tag or And/Tag). */
int lifecycle_rule_needs_tags(const struct lc_rule *rule);

/*
 * 1 when the rule's filter matches `key` of `size` bytes with tag set
 * `tagging` (the x-amz-tagging attr, "k=v&k2=v2" URL-encoded; NULL = none).
 */
int lifecycle_filter_matches(const struct lc_rule *rule, const char *key, uint64_t size,
                             const char *tagging);

/*
 * The current version `info` (not a delete marker) of `key` is due for
 * Expiration at `now_ms`?  1 or 0.  Disabled rules never act.
 */
int lifecycle_expire_current(const struct lc_rule *rule, const char *key,
                             const struct cairn_object_info *info, const char *tagging,
                             int64_t now_ms, int64_t day_ms);

/*
 * A noncurrent version `info` of `key`, noncurrent since `noncurrent_since_ms`
 * (the mtime of the version that replaced it), with `newer_noncurrent`
 * noncurrent versions newer than it: due for NoncurrentVersionExpiration?
 */
int lifecycle_expire_noncurrent(const struct lc_rule *rule, const char *key,
                                const struct cairn_object_info *info, const char *tagging,
                                int64_t noncurrent_since_ms, uint64_t newer_noncurrent,
                                int64_t now_ms, int64_t day_ms);

/*
 * The latest version of `key` is a delete marker and `only_version` says
 * whether it is the key's only version: remove it (ExpiredObjectDeleteMarker,
 * or Expiration by Days/Date, which S3 also lets clean up lone markers)?
 */
int lifecycle_remove_marker(const struct lc_rule *rule, const char *key, int only_version);

/* An upload of `key` initiated at `initiated_ms`: abort it now? */
int lifecycle_abort_upload(const struct lc_rule *rule, const char *key, int64_t initiated_ms,
                           int64_t now_ms, int64_t day_ms);

struct lifecycle_settings {
    int64_t day_seconds;        /* length of a lifecycle day; 86400 */
    int64_t interval_seconds;   /* pause between scans; 3600 */
    int64_t stale_upload_age_s; /* uploads older than this are aborted in every
                                 * bucket, with or without rules; 0: never */
};

/*
 * Starts the scanner thread over the `n` backends (every backend buckets may
 * be placed on; they must outlive lifecycle_stop).  It scans once soon after
 * start, then every interval.  Returns 0 or CAIRN_E_INTERNAL (thread not
 * started).
 */
int lifecycle_start(const struct loaded_plugin *const *backends, size_t n,
                    const struct cairn_services *sv, const struct lifecycle_settings *settings);

/* Stops the scanner (waits for the current bucket to finish).  Safe when never started. */
void lifecycle_stop(void);

/* Runs one full scan of one backend synchronously (tests, and the thread):
 * every bucket's rules, and uploads older than stale_upload_ms (0: none) in
 * every bucket.  Returns 0 or the first error. */
int lifecycle_scan_once(const struct loaded_plugin *backend, const struct cairn_services *sv,
                        int64_t day_ms, int64_t stale_upload_ms);

#endif
