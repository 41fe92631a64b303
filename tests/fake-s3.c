/*
 * fake-s3.c -- the fake HTTP exchange and S3 server set-up shared by the
 * S3-layer unit tests (see fake-s3.h).
 */
#include "fake-s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin-loader.h"
#include "services.h"

size_t fake_read_piece = 7;

/* ---- the http_exchange_* functions the S3 layer calls ------------------------- */

const struct http_request_head *http_exchange_head(struct http_exchange *ex)
{
    return &ex->head;
}

const char *http_exchange_header(struct http_exchange *ex, const char *name)
{
    for (size_t i = 0; i < ex->head.n_headers; i++)
        if (strcmp(ex->head.headers[i].name, name) == 0)
            return ex->head.headers[i].value;
    return NULL;
}

ssize_t http_exchange_read(struct http_exchange *ex, void *buf, size_t len)
{
    size_t n = ex->body_len - ex->body_off;
    if (n > len)
        n = len;
    if (n > fake_read_piece)
        n = fake_read_piece;
    memcpy(buf, ex->body + ex->body_off, n);
    ex->body_off += n;
    return (ssize_t)n;
}

int http_exchange_respond(struct http_exchange *ex, int status, const struct cairn_kv *headers,
                          size_t n_headers, int64_t content_length)
{
    ex->status = status;
    ex->responded = 1;
    ex->resp_content_length = content_length;
    for (size_t i = 0; i < n_headers && ex->n_resp < FAKE_MAX_RESP_HEADERS; i++) {
        ex->resp_headers[ex->n_resp].name = strdup(headers[i].name);
        ex->resp_headers[ex->n_resp].value = strdup(headers[i].value ? headers[i].value : "(null)");
        ex->n_resp++;
    }
    return 0;
}

int http_exchange_write(struct http_exchange *ex, const void *buf, size_t len)
{
    if (ex->resp_len + len >= sizeof(ex->resp_body))
        return CAIRN_E_CLIENT_GONE;
    memcpy(ex->resp_body + ex->resp_len, buf, len);
    ex->resp_len += len;
    ex->resp_body[ex->resp_len] = '\0';
    return 0;
}

/* Copies, then releases at once: the test reads resp_body after the call. */
int http_exchange_write_ref(struct http_exchange *ex, const void *buf, size_t len,
                            void (*release)(const void *buf, void *arg), void *arg)
{
    int rc = http_exchange_write(ex, buf, len);
    if (release)
        release(buf, arg);
    return rc;
}

int http_exchange_responded(struct http_exchange *ex)
{
    return ex->responded;
}

void http_exchange_finish(struct http_exchange *ex)
{
    ex->finished++;
}

void *http_exchange_alloc(struct http_exchange *ex, size_t size)
{
    return NULL;
}

/* ---- building requests, reading responses ----------------------------------------- */

struct http_exchange *fake_exchange_new(const char *method, const char *target, const char *body,
                                        const char *request_id)
{
    struct http_exchange *ex = calloc(1, sizeof(*ex));
    if (!ex)
        abort();
    const char *q = strchr(target, '?');
    snprintf(ex->path, sizeof(ex->path), "%.*s",
             (int)(q ? (size_t)(q - target) : strlen(target)), target);
    snprintf(ex->query, sizeof(ex->query), "%s", q ? q + 1 : "");
    ex->head.method = method;
    ex->head.raw_target = target;
    ex->head.raw_path = ex->path;
    ex->head.raw_query = ex->query;
    ex->head.remote_addr = "127.0.0.1";
    ex->head.request_id = request_id;
    ex->body = body ? body : "";
    ex->body_len = strlen(ex->body);
    ex->head.content_length = body ? (int64_t)ex->body_len : -1;
    ex->head.headers = ex->req_headers;
    return ex;
}

void fake_exchange_add_header(struct http_exchange *ex, const char *name, const char *value)
{
    if (ex->head.n_headers == FAKE_MAX_REQ_HEADERS) {
        fprintf(stderr, "fake-s3: more than %d request headers\n", FAKE_MAX_REQ_HEADERS);
        abort();
    }
    ex->req_headers[ex->head.n_headers++] = (struct cairn_kv){name, value};
}

void fake_exchange_add_headers(struct http_exchange *ex, va_list ap)
{
    for (;;) {
        const char *name = va_arg(ap, const char *);
        if (!name)
            break;
        fake_exchange_add_header(ex, name, va_arg(ap, const char *));
    }
}

const char *resp_header(struct http_exchange *ex, const char *name)
{
    for (size_t i = 0; i < ex->n_resp; i++)
        if (strcmp(ex->resp_headers[i].name, name) == 0)
            return ex->resp_headers[i].value;
    return NULL;
}

int has(struct http_exchange *ex, const char *needle)
{
    return strstr(ex->resp_body, needle) != NULL;
}

void exchange_free(struct http_exchange *ex)
{
    for (size_t i = 0; i < ex->n_resp; i++) {
        free((char *)ex->resp_headers[i].name);
        free((char *)ex->resp_headers[i].value);
    }
    free(ex);
}

/* ---- the server ----------------------------------------------------------------------- */

struct s3_server *fake_s3_server_new(const struct cairn_backend_ops *backend,
                                     const struct cairn_auth_ops *auth,
                                     const struct cairn_policy_ops *policy)
{
    /* Static: the server keeps pointers to the plugins for its lifetime. */
    static struct cairn_plugin_descriptor be_desc = {
        .abi_major = CAIRN_ABI_MAJOR, .abi_minor = CAIRN_ABI_MINOR,
        .kind = CAIRN_PLUGIN_BACKEND, .name = "mem", .version = "1"};
    static struct cairn_plugin_descriptor auth_desc = {
        .abi_major = CAIRN_ABI_MAJOR, .abi_minor = CAIRN_ABI_MINOR,
        .kind = CAIRN_PLUGIN_AUTH, .name = "fake-auth", .version = "1"};
    static struct cairn_plugin_descriptor policy_desc = {
        .abi_major = CAIRN_ABI_MAJOR, .abi_minor = CAIRN_ABI_MINOR,
        .kind = CAIRN_PLUGIN_POLICY, .name = "fake-policy", .version = "1"};
    static struct loaded_plugin be_plugin = {"mem", "mem", &be_desc, NULL};
    static struct loaded_plugin auth_plugin = {"auth", "auth", &auth_desc, NULL};
    static struct loaded_plugin policy_plugin = {"policy", "policy", &policy_desc, NULL};
    static const struct loaded_plugin *auth_chain[] = {&auth_plugin};
    static struct s3_plugins plugins = {.backend = &be_plugin, .auth = auth_chain, .n_auth = 1};
    static const struct s3_settings settings = {"us-east-1", NULL, 5 << 20, 86400};

    be_desc.backend = backend;
    auth_desc.auth = auth;
    policy_desc.policy = policy;
    plugins.policy = policy ? &policy_plugin : NULL;
    return s3_server_new(&settings, &plugins, core_services());
}
