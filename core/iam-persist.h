/*
 * iam-persist.h -- keeps the IAM store (iam-store.h) in the default backend.
 *
 * The whole store (users with their secrets, service accounts, groups, named
 * policies; never root, which comes from the environment) is one JSON
 * document, iam_store_export's, stored as the object IAM_PERSIST_KEY in the
 * reserved bucket IAM_PERSIST_BUCKET.  Bucket names starting with '.' can
 * never be named by an S3 request (the router rejects them), so only the core
 * reaches it; the document shares the data's redundancy (erasure coding or
 * replicas) and the drives are the trust boundary for the secrets in it.
 *
 * Writes are write-through: every admin change saves the whole document with
 * one object_put, which the backend commits atomically, so a reader (or a
 * restart) sees either the old or the new store, never a mixture.  Saves are
 * serialised by a mutex and each exports the store after taking it, so the
 * last save always holds the latest state.
 */
#ifndef CAIRN_IAM_PERSIST_H
#define CAIRN_IAM_PERSIST_H

#include <cairn/plugin.h>

#include "plugin-loader.h"

#define IAM_PERSIST_BUCKET ".cairn.sys"
#define IAM_PERSIST_KEY "iam/store.json"

/*
 * Binds persistence to `backend` (the default backend; must outlive it) and
 * loads the stored document into the IAM store: creates the system bucket
 * when absent, and leaves the store empty when no document exists yet.  A
 * backend whose table lacks bucket_create/object_get/object_put (a test
 * double) gives 0 with a warning, and saves stay no-ops.
 * Returns 0, or a negative CAIRN_E_* error (the backend's, or
 * CAIRN_E_INVALID_ARGUMENT for a stored document that does not import; the
 * reason is logged).
 */
int iam_persist_start(const struct loaded_plugin *backend, const struct cairn_services *sv);

/*
 * Writes the current store through the backend.  Returns 0 (also when
 * persistence was never started: tests of the admin API run without a
 * backend), or the backend's negative error.
 */
int iam_persist_save(void);

/* Unbinds persistence (shutdown); later saves are no-ops. */
void iam_persist_stop(void);

#endif
