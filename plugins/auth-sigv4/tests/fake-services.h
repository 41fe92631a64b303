/*
 * fake-services.h -- a fake core for the auth-sigv4 unit tests and fuzz
 * harnesses: a services table backed by OpenSSL, a request arena, an in-memory
 * IAM store and a configuration section made of name/value strings.
 */
#ifndef SIGV4_FAKE_SERVICES_H
#define SIGV4_FAKE_SERVICES_H

#include <cairn/plugin.h>

/* The fake request: its arena and the trailers reported through it. */
struct cairn_req {
    void **ptrs;
    size_t n_ptrs, cap_ptrs;
    size_t n_trailers;
    char *trailer_names[32];
    char *trailer_values[32];
};

/* A configuration section: up to 8 settings as strings. */
struct cairn_config {
    const char *names[8];
    const char *values[8];
    int n;
};

/* The services table (filled on first use). */
const struct cairn_services *fake_services(void);

/* A fresh request / frees it with everything allocated in it. */
struct cairn_req *fake_req_new(void);
void fake_req_free(struct cairn_req *req);

/* The value of trailer `name` reported on `req`, or NULL. */
const char *fake_req_trailer(const struct cairn_req *req, const char *name);

/* Adds a user to the fake IAM store (strings must outlive the test). */
void fake_iam_add(const char *access_key, const char *secret, const char *user, int disabled);

/* Number of iam_lookup calls so far. */
int fake_iam_lookups(void);

#endif
