/*
 * admin-api.h -- the server side of `cairn admin`: a signed JSON API under
 * /cairn/admin/v1/ for users, service accounts, groups, named policies, the
 * policy simulator, heal and server info (docs/admin.md lists every endpoint).
 *
 * Requests are authenticated by the same auth plugin chain as S3 (SigV4 with
 * the Authorization header; the JSON body's SHA-256 is verified by the auth
 * plugin's body decoder).  Only root, or a user whose identity policies allow
 * the endpoint's `admin:*` action on "arn:aws:s3:::*" (judged by the policy
 * plugin), may call it; others get 403 AccessDenied.  Every change is written
 * through to the backend (iam-persist.h) before the reply.
 *
 * Every endpoint takes POST with a JSON object body (an empty body is {}),
 * and answers JSON; errors are {"Code": ..., "Message": ...} with the HTTP
 * status that fits (400, 403, 404, 409, 500, 501).  Secrets appear only in
 * the reply to svcacct/add and are never logged.
 */
#ifndef CAIRN_ADMIN_API_H
#define CAIRN_ADMIN_API_H

#include <stddef.h>

#include <cairn/plugin.h>

#include "http-exchange.h"
#include "plugin-loader.h"
#include "s3.h"

/* The path prefix of the admin API. */
#define ADMIN_API_PREFIX "/cairn/admin/v1/"

/* What `info` reports and what the API calls into.  Everything must outlive
 * the API. */
struct admin_api_settings {
    const char *version;                /* PACKAGE_VERSION */
    const char *region;
    size_t n_drives;                    /* of the default backend */
    const struct s3_plugins *plugins;   /* backend (may be NULL in tests), auth chain, policy */
    const struct plugin_loader *loader; /* every loaded instance, for `info`; may be NULL */
    const struct cairn_services *services;
};

struct admin_api;

/* Makes the admin API (copies the settings struct).  NULL when out of memory. */
struct admin_api *admin_api_new(const struct admin_api_settings *settings);

/* Frees it; NULL is a no-op. */
void admin_api_free(struct admin_api *api);

/* True when `raw_path` belongs to the admin API. */
int admin_api_is_admin_path(const char *raw_path);

/* Serves one HTTP exchange whose path admin_api_is_admin_path accepted:
 * authenticates, reads the body, answers, and finishes the exchange. */
void admin_api_handle(struct http_exchange *ex, struct admin_api *api);

/*
 * The part of admin_api_handle after authentication, for tests: authorizes
 * `who` for `endpoint` (e.g. "user/add", without the prefix), runs it with the
 * JSON `body` (`len` bytes; 0 means {}), and returns the HTTP status with the
 * reply in *json_r (malloc'd; the caller frees).  `req` supplies an arena.
 * Returns the status (200, 4xx, 5xx); *json_r is NULL only when out of memory.
 */
int admin_api_call(struct admin_api *api, struct cairn_req *req, const struct cairn_identity *who,
                   const char *endpoint, const char *body, size_t len, char **json_r);

#endif
