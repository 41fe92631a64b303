/*
 * admin-cli.h -- the client side of the admin API: `cairn admin ...`.
 *
 *   cairn admin [--endpoint URL] [--access-key K --secret-key S] [--region R]
 *               [--json] GROUP VERB ARGS...
 *
 * Credentials default to CAIRN_ROOT_USER / CAIRN_ROOT_PASSWORD, then
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; the endpoint to CAIRN_ENDPOINT,
 * then http://127.0.0.1:9000; the region to CAIRN_REGION, then us-east-1.
 * Requests are POSTs of a JSON body signed with SigV4 (x-amz-content-sha256 is
 * the body's hex SHA-256) over a plain blocking socket (HTTP only).
 *
 * Exit codes: 0 done, 1 refused / not found / unreachable, 2 usage.
 */
#ifndef CAIRN_ADMIN_CLI_H
#define CAIRN_ADMIN_CLI_H

#include <stddef.h>

/* Runs `cairn admin` with the arguments after "admin"; returns the exit code. */
int admin_cli_main(int argc, char **argv);

/*
 * Builds the JSON request for the command line `argv` (GROUP VERB ARGS...,
 * global flags already removed): the endpoint path below /cairn/admin/v1/ in
 * *endpoint_r (static) and the malloc'd JSON body in *body_r.  File arguments
 * (policy create) are read.  Returns 0, or 2 (usage) with a message in `err`.
 */
int admin_cli_build(int argc, char **argv, const char **endpoint_r, char **body_r, char *err,
                    size_t err_cap);

/*
 * The SigV4 Authorization header value for a request with no query and the
 * signed headers host, x-amz-content-sha256 and x-amz-date:
 * `amz_date` is "YYYYMMDDTHHMMSSZ", `payload_sha256` the body's hex SHA-256.
 * Writes into `out` (at least 512 bytes recommended); 0 or -1 when too small.
 */
int admin_cli_sign(const char *method, const char *path, const char *host,
                   const char *payload_sha256, const char *amz_date, const char *region,
                   const char *access_key, const char *secret_key, char *out, size_t out_cap);

#endif
