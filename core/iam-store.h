/*
 * iam-store.h -- the core's identity store: the root credentials, users
 * (including service accounts, which have a parent), groups and named policy
 * documents.  It answers services->iam_lookup and gives the S3 layer the
 * identity policies to hand to the policy plugin.
 *
 * Design note: the store is one process-wide table kept in memory and guarded
 * by a read-write lock; every function is thread-safe.  Persistence
 * (iam-persist.c) saves iam_store_export's document through the backend after
 * each change and loads it with iam_store_import at startup.
 *
 * Names: an access key is 3..128 characters without whitespace, '/', ':' or
 * ',' (a user's name is its access key); a secret is 8..40 characters; group
 * and policy names are 1..128 characters of [A-Za-z0-9_.+=@-].
 *
 * Secrets are copied out only by iam_lookup; nothing here compares secrets.
 */
#ifndef CAIRN_IAM_STORE_H
#define CAIRN_IAM_STORE_H

#include <stddef.h>

#include <cairn/plugin.h>

/* Sets the root credentials (replacing earlier ones).  Returns 0 or
 * CAIRN_E_INVALID_ARGUMENT (bad lengths), CAIRN_E_NOMEM. */
int iam_store_set_root(const char *access_key, const char *secret);

/* Forgets everything, root included (shutdown, tests). */
void iam_store_clear(void);

/* services->iam_lookup, as cairn/plugin.h documents it.  A user that is
 * disabled, or whose parent is disabled, gives CAIRN_E_ACCESS_DENIED.
 * CAIRN_E_INVALID_ARGUMENT when the secret does not fit `secret_cap`. */
int iam_lookup(struct cairn_req *req, const char *access_key, struct cairn_identity *id_r,
               char *secret_r, size_t secret_cap);

/* ---- users ---------------------------------------------------------------- */

/* Adds an enabled user; `parent` NULL or "" for a plain user, else the access
 * key of an existing user (or root) for a service account.  CAIRN_E_INVALID_ARGUMENT
 * for bad names, an existing key (root's included) or an unknown parent. */
int iam_user_add(const char *access_key, const char *secret, const char *parent);

/* Removes a user, its service accounts and its group memberships.
 * CAIRN_E_INVALID_ACCESS_KEY when unknown. */
int iam_user_remove(const char *access_key);

/* Enables or disables a user.  CAIRN_E_INVALID_ACCESS_KEY when unknown. */
int iam_user_set_enabled(const char *access_key, int enabled);

/* Replaces the user's attached policies by these names, each a canned policy
 * or one added with iam_policy_put (else CAIRN_E_INVALID_ARGUMENT). */
int iam_user_set_policies(const char *access_key, const char *const *names, size_t n);

/* What iam_user_list reports; valid during the callback only. */
struct iam_user_info {
    const char *access_key;
    const char *parent; /* "" for a plain user */
    int enabled;
    size_t n_policies;
    const char *const *policies;
    size_t n_groups;
    const char *const *groups; /* the groups that list this user */
};

/* Calls `emit` for every user (root excluded) in the order added; stops when
 * it returns non-zero and returns that value.  The store is read-locked during
 * the walk: `emit` must not call the store. */
int iam_user_list(int (*emit)(void *ctx, const struct iam_user_info *u), void *ctx);

/* ---- groups --------------------------------------------------------------- */

/* Adds existing users to `group`, creating it (enabled) when absent.
 * CAIRN_E_INVALID_ARGUMENT for a bad name or an unknown member. */
int iam_group_add_members(const char *group, const char *const *members, size_t n);

/* Removes members (absent ones are ignored).  CAIRN_E_INVALID_ARGUMENT when
 * the group does not exist. */
int iam_group_remove_members(const char *group, const char *const *members, size_t n);

/* Removes an empty group; CAIRN_E_INVALID_REQUEST when it still has members,
 * CAIRN_E_INVALID_ARGUMENT when unknown. */
int iam_group_remove(const char *group);

/* Enables or disables a group (a disabled group gives its members nothing). */
int iam_group_set_enabled(const char *group, int enabled);

/* Replaces the group's policies (names as for iam_user_set_policies). */
int iam_group_set_policies(const char *group, const char *const *names, size_t n);

/* ---- policies ------------------------------------------------------------- */

/* Adds or replaces the named policy document (JSON, copied; validated by the
 * policy plugin before it gets here).  Canned names cannot be replaced
 * (CAIRN_E_INVALID_ARGUMENT). */
int iam_policy_put(const char *name, const char *json);

/* Removes a named policy; users and groups that name it lose it silently.
 * CAIRN_E_INVALID_ARGUMENT when unknown or canned. */
int iam_policy_remove(const char *name);

/* A malloc'd copy of the named policy (stored or canned) into *json_r.
 * CAIRN_E_INVALID_ARGUMENT when unknown. */
int iam_policy_get(const char *name, char **json_r);

/* The canned policy `name` ("readwrite", "readonly", "writeonly",
 * "diagnostics", "consoleAdmin"), or NULL.  Static storage. */
const char *iam_canned_policy(const char *name);

/*
 * The identity-policy documents that apply to `access_key`: its own policies,
 * those of its enabled groups and, for a service account, its parent's.  Each
 * document once.  *docs_r is a request-lifetime array of request-lifetime
 * strings (req_alloc); root and unknown keys give none (root is allowed
 * everything by the core, not by a document).  Returns 0 or CAIRN_E_NOMEM.
 */
int iam_identity_policies(struct cairn_req *req, const char *access_key,
                          const char *const **docs_r, size_t *n_r);

/* ---- attachment, snapshots and persistence ---------------------------------- */

/* Attaches (attach != 0) or detaches the named policy to/from exactly one of
 * `user` or `group` (the other NULL).  Attaching twice or detaching a policy
 * that is not attached is a no-op.  CAIRN_E_INVALID_ARGUMENT for an unknown
 * policy (on attach) or group, CAIRN_E_INVALID_ACCESS_KEY for an unknown user. */
int iam_policy_attach(const char *name, const char *user, const char *group, int attach);

/*
 * The whole store but root as one JSON document (malloc'd, in *json_r):
 *   {"format":"cairn-iam","version":1,
 *    "users":[{"accessKey":..,"secretKey":..,"parent":..,"enabled":true,"policies":[..]}],
 *    "groups":[{"name":..,"enabled":true,"members":[..],"policies":[..]}],
 *    "policies":[{"name":..,"document":"<policy JSON text>"}]}
 * With `with_secrets` 0 every secretKey is omitted (for listings).  Users
 * come in the order added, so parents precede their service accounts.
 * 0 or CAIRN_E_NOMEM.
 */
int iam_store_export(int with_secrets, char **json_r);

/*
 * Replaces users, groups and policies (root is kept) by those of a document
 * iam_store_export(1, ..) wrote.  The document is checked completely first:
 * on any error (not JSON, wrong format or version, a bad name or secret, a
 * duplicate, an unknown parent, member or policy) nothing changes and
 * CAIRN_E_INVALID_ARGUMENT is returned; `err`, when not NULL, gets a reason.
 */
int iam_store_import(const char *json, size_t len, char *err, size_t err_cap);

#endif
