/* admin-cli.c -- `cairn admin`: builds, signs and sends admin API requests. */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "admin-api.h"
#include "admin-cli.h"

#define RESPONSE_MAX (64u << 20)

static void admin_usage(FILE *out)
{
    fprintf(out,
            "usage: cairn admin [--endpoint URL] [--access-key K --secret-key S] [--region R]\n"
            "                   [--json] GROUP VERB ARGS...\n\n"
            "  user add NAME SECRET | remove NAME | enable NAME | disable NAME | list | info NAME\n"
            "  svcacct add PARENT | remove KEY | list PARENT\n"
            "  policy create NAME FILE | delete NAME | list | info NAME\n"
            "  policy attach NAME (--user U | --group G) | detach NAME (--user U | --group G)\n"
            "  policy simulate --user U --action A --resource R [--context k=v ...]\n"
            "  group add NAME [MEMBER...] | remove NAME [MEMBER...] | list | info NAME\n"
            "  heal [BUCKET [KEY]]\n"
            "  info\n\n"
            "Credentials: CAIRN_ROOT_USER/CAIRN_ROOT_PASSWORD or AWS_ACCESS_KEY_ID/\n"
            "AWS_SECRET_ACCESS_KEY; endpoint: CAIRN_ENDPOINT (default http://127.0.0.1:9000).\n"
            "Exit codes: 0 done, 1 refused or not found, 2 usage.\n");
}

static int usage_err(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return 2;
}

/* Reads a whole file (at most 1 MiB) into a malloc'd string. */
static char *read_file(const char *path, size_t *len_r)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1u << 20, n = 0;
    char *buf = malloc(cap + 1);
    while (buf && n < cap) {
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    int too_big = buf && n == cap && fgetc(f) != EOF;
    if (f != stdin)
        fclose(f);
    if (!buf || too_big) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len_r = n;
    return buf;
}

/* The value after a flag like --user; NULL when absent. */
static const char *flag_value(int argc, char **argv, int from, const char *flag)
{
    for (int i = from; i + 1 < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return argv[i + 1];
    return NULL;
}

int admin_cli_build(int argc, char **argv, const char **endpoint_r, char **body_r, char *err,
                    size_t err_cap)
{
    *body_r = NULL;
    *endpoint_r = NULL;
    if (argc < 1)
        return usage_err(err, err_cap, "missing command");
    for (int i = 0; i < argc; i++) {
        json_t *t = json_string(argv[i]); /* NULL when not UTF-8 */
        if (!t)
            return usage_err(err, err_cap, "arguments must be UTF-8 text");
        json_decref(t);
    }
    const char *g = argv[0], *v = argc > 1 ? argv[1] : "";
    int na = argc - 2; /* arguments after GROUP VERB */
    char **a = argv + 2;
    json_t *o = json_object();
    int rc = 2;
    if (!o)
        return usage_err(err, err_cap, "out of memory");
#define NEED(n, text)                                                                           \
    do {                                                                                        \
        if (na != (n)) {                                                                        \
            rc = usage_err(err, err_cap, "usage: cairn admin %s", text);                        \
            goto out;                                                                           \
        }                                                                                       \
    } while (0)
    if (strcmp(g, "user") == 0) {
        if (strcmp(v, "add") == 0) {
            NEED(2, "user add NAME SECRET");
            json_object_set_new(o, "accessKey", json_string(a[0]));
            json_object_set_new(o, "secretKey", json_string(a[1]));
            *endpoint_r = "user/add";
        } else if (!strcmp(v, "remove") || !strcmp(v, "enable") || !strcmp(v, "disable") ||
                   !strcmp(v, "info")) {
            NEED(1, "user remove|enable|disable|info NAME");
            json_object_set_new(o, "accessKey", json_string(a[0]));
            *endpoint_r = !strcmp(v, "remove")   ? "user/remove"
                          : !strcmp(v, "enable") ? "user/enable"
                          : !strcmp(v, "info")   ? "user/info"
                                                 : "user/disable";
        } else if (strcmp(v, "list") == 0) {
            NEED(0, "user list");
            *endpoint_r = "user/list";
        }
    } else if (strcmp(g, "svcacct") == 0) {
        if (strcmp(v, "add") == 0 || strcmp(v, "list") == 0) {
            NEED(1, "svcacct add|list PARENT");
            json_object_set_new(o, "parent", json_string(a[0]));
            *endpoint_r = strcmp(v, "add") == 0 ? "svcacct/add" : "svcacct/list";
        } else if (strcmp(v, "remove") == 0) {
            NEED(1, "svcacct remove ACCESS_KEY");
            json_object_set_new(o, "accessKey", json_string(a[0]));
            *endpoint_r = "svcacct/remove";
        }
    } else if (strcmp(g, "policy") == 0) {
        if (strcmp(v, "create") == 0) {
            NEED(2, "policy create NAME FILE");
            size_t len = 0;
            char *text = read_file(a[1], &len);
            if (!text) {
                rc = usage_err(err, err_cap, "cannot read %s (or it is over 1 MiB)", a[1]);
                goto out;
            }
            json_object_set_new(o, "name", json_string(a[0]));
            json_t *s = json_stringn(text, len);
            free(text);
            if (!s) {
                rc = usage_err(err, err_cap, "%s is not UTF-8 text", a[1]);
                goto out;
            }
            json_object_set_new(o, "policy", s); /* the server validates it */
            *endpoint_r = "policy/create";
        } else if (!strcmp(v, "delete") || !strcmp(v, "info")) {
            NEED(1, "policy delete|info NAME");
            json_object_set_new(o, "name", json_string(a[0]));
            *endpoint_r = !strcmp(v, "delete") ? "policy/delete" : "policy/info";
        } else if (strcmp(v, "list") == 0) {
            NEED(0, "policy list");
            *endpoint_r = "policy/list";
        } else if (!strcmp(v, "attach") || !strcmp(v, "detach")) {
            NEED(3, "policy attach|detach NAME --user U | --group G");
            if (strcmp(a[1], "--user") != 0 && strcmp(a[1], "--group") != 0) {
                rc = usage_err(err, err_cap, "usage: cairn admin policy %s NAME --user U | --group G", v);
                goto out;
            }
            json_object_set_new(o, "name", json_string(a[0]));
            json_object_set_new(o, a[1] + 2, json_string(a[2]));
            *endpoint_r = !strcmp(v, "attach") ? "policy/attach" : "policy/detach";
        } else if (strcmp(v, "simulate") == 0) {
            const char *u = flag_value(na, a, 0, "--user");
            const char *act = flag_value(na, a, 0, "--action");
            const char *res = flag_value(na, a, 0, "--resource");
            if (!u || !act || !res) {
                rc = usage_err(err, err_cap, "usage: cairn admin policy simulate --user U "
                                             "--action A --resource R [--context k=v ...]");
                goto out;
            }
            json_t *ctx = json_object();
            for (int i = 0; i < na; i++) {
                if (strcmp(a[i], "--context") == 0 && i + 1 < na) {
                    const char *eq = strchr(a[i + 1], '=');
                    if (!eq || eq == a[i + 1]) {
                        json_decref(ctx);
                        rc = usage_err(err, err_cap, "--context wants key=value, not %s", a[i + 1]);
                        goto out;
                    }
                    char key[256];
                    snprintf(key, sizeof(key), "%.*s", (int)(eq - a[i + 1]), a[i + 1]);
                    json_object_set_new(ctx, key, json_string(eq + 1));
                    i++;
                } else if ((!strcmp(a[i], "--user") || !strcmp(a[i], "--action") ||
                            !strcmp(a[i], "--resource")) && i + 1 < na) {
                    i++;
                } else {
                    json_decref(ctx);
                    rc = usage_err(err, err_cap, "policy simulate: unexpected %s", a[i]);
                    goto out;
                }
            }
            json_object_set_new(o, "user", json_string(u));
            json_object_set_new(o, "action", json_string(act));
            json_object_set_new(o, "resource", json_string(res));
            json_object_set_new(o, "context", ctx);
            *endpoint_r = "policy/simulate";
        }
    } else if (strcmp(g, "group") == 0) {
        if (!strcmp(v, "add") || !strcmp(v, "remove")) {
            if (na < 1) {
                rc = usage_err(err, err_cap, "usage: cairn admin group %s NAME [MEMBER...]", v);
                goto out;
            }
            json_object_set_new(o, "name", json_string(a[0]));
            if (na > 1 || !strcmp(v, "add")) {
                json_t *m = json_array();
                for (int i = 1; i < na; i++)
                    json_array_append_new(m, json_string(a[i]));
                json_object_set_new(o, "members", m);
            }
            *endpoint_r = !strcmp(v, "add") ? "group/add" : "group/remove";
        } else if (strcmp(v, "list") == 0) {
            NEED(0, "group list");
            *endpoint_r = "group/list";
        } else if (strcmp(v, "info") == 0) {
            NEED(1, "group info NAME");
            json_object_set_new(o, "name", json_string(a[0]));
            *endpoint_r = "group/info";
        }
    } else if (strcmp(g, "heal") == 0) {
        if (argc > 3) {
            rc = usage_err(err, err_cap, "usage: cairn admin heal [BUCKET [KEY]]");
            goto out;
        }
        if (argc > 1)
            json_object_set_new(o, "bucket", json_string(argv[1]));
        if (argc > 2)
            json_object_set_new(o, "key", json_string(argv[2]));
        *endpoint_r = "heal";
    } else if (strcmp(g, "info") == 0) {
        if (argc != 1) {
            rc = usage_err(err, err_cap, "usage: cairn admin info");
            goto out;
        }
        *endpoint_r = "info";
    }
#undef NEED
    if (!*endpoint_r) {
        rc = usage_err(err, err_cap, "unknown command: %s %s", g, v);
        goto out;
    }
    /* Arguments that are not UTF-8 made json_string return NULL above. */
    if (!(*body_r = json_dumps(o, JSON_COMPACT))) {
        rc = usage_err(err, err_cap, "arguments must be UTF-8 text");
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        *endpoint_r = NULL;
    json_decref(o);
    return rc;
}

/* ---- SigV4 ------------------------------------------------------------------ */

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[32];
    SHA256(data, len, d);
    hex(d, 32, out);
}

static void hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &n);
}

int admin_cli_sign(const char *method, const char *path, const char *host,
                   const char *payload_sha256, const char *amz_date, const char *region,
                   const char *access_key, const char *secret_key, char *out, size_t out_cap)
{
    char date[9];
    snprintf(date, sizeof(date), "%.8s", amz_date);
    size_t clen = strlen(method) + strlen(path) + strlen(host) + 2 * strlen(payload_sha256) +
                  strlen(amz_date) + 200;
    char *canon = malloc(clen);
    if (!canon)
        return -1;
    /* Paths of the admin API are plain ASCII: no segment needs encoding. */
    snprintf(canon, clen,
             "%s\n%s\n\nhost:%s\nx-amz-content-sha256:%s\nx-amz-date:%s\n\n"
             "host;x-amz-content-sha256;x-amz-date\n%s",
             method, path, host, payload_sha256, amz_date, payload_sha256);
    char canon_hash[65];
    sha256_hex(canon, strlen(canon), canon_hash);
    free(canon);
    char scope[128], sts[512];
    snprintf(scope, sizeof(scope), "%s/%s/s3/aws4_request", date, region);
    snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, canon_hash);
    char k0[256];
    snprintf(k0, sizeof(k0), "AWS4%s", secret_key);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    hmac(k0, strlen(k0), date, k1);
    hmac(k1, 32, region, k2);
    hmac(k2, 32, "s3", k3);
    hmac(k3, 32, "aws4_request", k4);
    hmac(k4, 32, sts, sig);
    memset(k0, 0, sizeof(k0));
    char sig_hex[65];
    hex(sig, 32, sig_hex);
    int n = snprintf(out, out_cap,
                     "AWS4-HMAC-SHA256 Credential=%s/%s, "
                     "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=%s",
                     access_key, scope, sig_hex);
    return n < 0 || (size_t)n >= out_cap ? -1 : 0;
}

/* ---- HTTP ------------------------------------------------------------------- */

/* Splits http://HOST[:PORT][/] into host and port.  0 or -1. */
static int parse_endpoint(const char *url, char *host, size_t host_cap, char *port,
                          size_t port_cap, char *hostport, size_t hp_cap)
{
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    const char *p = url + 7;
    size_t n = strcspn(p, "/");
    if (n == 0 || n >= hp_cap)
        return -1;
    snprintf(hostport, hp_cap, "%.*s", (int)n, p);
    const char *colon = hostport[0] == '[' ? strstr(hostport, "]:") : strrchr(hostport, ':');
    if (colon && hostport[0] == '[')
        colon++;
    const char *h = hostport;
    size_t hl = colon ? (size_t)(colon - hostport) : strlen(hostport);
    if (h[0] == '[') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= host_cap)
        return -1;
    snprintf(host, host_cap, "%.*s", (int)hl, h);
    snprintf(port, port_cap, "%s", colon ? colon + 1 : "80");
    return 0;
}

/* Sends one request and reads the reply; 0 with the status and a malloc'd
 * body, or -1 with a message on stderr. */
static int http_post(const char *host, const char *port, const char *request, size_t req_len,
                     int *status_r, char **body_r)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0) {
        fprintf(stderr, "cairn admin: %s: %s\n", host, gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        fprintf(stderr, "cairn admin: cannot connect to %s:%s: %s\n", host, port, strerror(errno));
        return -1;
    }
    for (size_t off = 0; off < req_len;) {
        ssize_t w = send(fd, request + off, req_len - off, MSG_NOSIGNAL);
        if (w <= 0) {
            fprintf(stderr, "cairn admin: send: %s\n", strerror(errno));
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf)
            break;
        if (n == cap) {
            char *grown = cap < RESPONSE_MAX ? realloc(buf, 2 * cap + 1) : NULL;
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + n, cap - n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (!buf) {
        fprintf(stderr, "cairn admin: the reply is too large\n");
        return -1;
    }
    buf[n] = '\0';
    int status = 0;
    char *end = strstr(buf, "\r\n\r\n");
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || !end) {
        fprintf(stderr, "cairn admin: not an HTTP reply\n");
        free(buf);
        return -1;
    }
    /* Connection: close and Content-Length: the body runs to the end. */
    size_t body_len = n - (size_t)(end + 4 - buf);
    memmove(buf, end + 4, body_len);
    buf[body_len] = '\0';
    *status_r = status;
    *body_r = buf;
    return 0;
}

/* ---- output ----------------------------------------------------------------- */

static void print_strings(const char *label, json_t *a)
{
    printf("  %s:", label);
    size_t i;
    json_t *v;
    if (json_array_size(a) == 0)
        printf(" -");
    json_array_foreach(a, i, v) printf("%s%s", i ? ", " : " ", json_string_value(v));
    printf("\n");
}

static void print_user(json_t *u)
{
    const char *parent = json_string_value(json_object_get(u, "parent"));
    printf("%s  %s%s%s\n", json_string_value(json_object_get(u, "accessKey")),
           json_is_true(json_object_get(u, "enabled")) ? "enabled" : "disabled",
           parent && *parent ? "  parent: " : "", parent && *parent ? parent : "");
    print_strings("policies", json_object_get(u, "policies"));
    print_strings("groups", json_object_get(u, "groups"));
}

static void print_group(json_t *g)
{
    printf("%s  %s\n", json_string_value(json_object_get(g, "name")),
           json_is_true(json_object_get(g, "enabled")) ? "enabled" : "disabled");
    print_strings("members", json_object_get(g, "members"));
    print_strings("policies", json_object_get(g, "policies"));
}

/* Human-readable output of a successful reply. */
static void print_reply(const char *endpoint, json_t *r)
{
    size_t i;
    json_t *v;
    if (!strcmp(endpoint, "user/list") || !strcmp(endpoint, "svcacct/list")) {
        json_t *a = json_object_get(r, strcmp(endpoint, "user/list") ? "serviceAccounts" : "users");
        json_array_foreach(a, i, v) print_user(v);
    } else if (!strcmp(endpoint, "user/info")) {
        print_user(r);
    } else if (!strcmp(endpoint, "group/list")) {
        json_array_foreach(json_object_get(r, "groups"), i, v) print_group(v);
    } else if (!strcmp(endpoint, "group/info")) {
        print_group(r);
    } else if (!strcmp(endpoint, "policy/list")) {
        json_array_foreach(json_object_get(r, "policies"), i, v)
            printf("%s%s\n", json_string_value(json_object_get(v, "name")),
                   json_is_true(json_object_get(v, "canned")) ? "  (canned)" : "");
    } else if (!strcmp(endpoint, "policy/info")) {
        char *text = json_dumps(json_object_get(r, "policy"), JSON_INDENT(2));
        printf("%s\n", text ? text : "");
        free(text);
    } else if (!strcmp(endpoint, "policy/simulate")) {
        printf("%s: %s\n", json_string_value(json_object_get(r, "decision")),
               json_string_value(json_object_get(r, "explanation")));
    } else if (!strcmp(endpoint, "svcacct/add")) {
        printf("Access Key: %s\nSecret Key: %s\nParent:     %s\n",
               json_string_value(json_object_get(r, "accessKey")),
               json_string_value(json_object_get(r, "secretKey")),
               json_string_value(json_object_get(r, "parent")));
    } else if (json_object_size(r) == 1 && json_object_get(r, "status")) {
        printf("%s\n", json_string_value(json_object_get(r, "status")));
    } else {
        char *text = json_dumps(r, JSON_INDENT(2));
        printf("%s\n", text ? text : "");
        free(text);
    }
}

/* ---- main --------------------------------------------------------------------- */

static const char *env2(const char *a, const char *b)
{
    const char *v = getenv(a);
    return v && *v ? v : getenv(b);
}

int admin_cli_main(int argc, char **argv)
{
    const char *endpoint_url = getenv("CAIRN_ENDPOINT");
    const char *ak = env2("CAIRN_ROOT_USER", "AWS_ACCESS_KEY_ID");
    const char *sk = getenv("CAIRN_ROOT_USER") && *getenv("CAIRN_ROOT_USER")
                         ? getenv("CAIRN_ROOT_PASSWORD")
                         : getenv("AWS_SECRET_ACCESS_KEY");
    const char *region = getenv("CAIRN_REGION");
    int as_json = 0, i = 0;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--json")) {
            as_json = 1;
            continue;
        }
        if (!strcmp(f, "--help")) {
            admin_usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "cairn admin: %s needs a value\n", f);
            return 2;
        }
        if (!strcmp(f, "--endpoint"))
            endpoint_url = argv[++i];
        else if (!strcmp(f, "--access-key"))
            ak = argv[++i];
        else if (!strcmp(f, "--secret-key"))
            sk = argv[++i];
        else if (!strcmp(f, "--region"))
            region = argv[++i];
        else {
            fprintf(stderr, "cairn admin: unknown flag %s\n", f);
            admin_usage(stderr);
            return 2;
        }
    }
    if (i < argc && (!strcmp(argv[i], "help") || !strcmp(argv[i], "-h"))) {
        admin_usage(stdout);
        return 0;
    }
    if (!endpoint_url || !*endpoint_url)
        endpoint_url = "http://127.0.0.1:9000";
    if (!region || !*region)
        region = "us-east-1";
    if (!ak || !*ak || !sk || !*sk) {
        fprintf(stderr, "cairn admin: no credentials: set CAIRN_ROOT_USER/CAIRN_ROOT_PASSWORD "
                        "or pass --access-key and --secret-key\n");
        return 2;
    }
    const char *endpoint = NULL;
    char *body = NULL, err[512];
    if (admin_cli_build(argc - i, argv + i, &endpoint, &body, err, sizeof(err)) != 0) {
        fprintf(stderr, "cairn admin: %s\n", err);
        if (argc - i < 2)
            admin_usage(stderr);
        return 2;
    }
    char host[256], port[16], hostport[300];
    if (parse_endpoint(endpoint_url, host, sizeof(host), port, sizeof(port), hostport,
                       sizeof(hostport)) < 0) {
        fprintf(stderr, "cairn admin: the endpoint must be http://HOST[:PORT] (got %s)\n",
                endpoint_url);
        free(body);
        return 2;
    }
    char path[256], payload_hash[65], amz_date[17], auth[1024];
    snprintf(path, sizeof(path), "%s%s", ADMIN_API_PREFIX, endpoint);
    size_t body_len = strlen(body);
    sha256_hex(body, body_len, payload_hash);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
    if (admin_cli_sign("POST", path, hostport, payload_hash, amz_date, region, ak, sk, auth,
                       sizeof(auth)) < 0) {
        fprintf(stderr, "cairn admin: the credentials are too long\n");
        free(body);
        return 2;
    }
    size_t req_cap = body_len + 2048;
    char *request = malloc(req_cap);
    int status = 0, rc = 1;
    char *reply = NULL;
    if (!request) {
        free(body);
        return 1;
    }
    int hn = snprintf(request, req_cap,
                      "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: cairn-admin\r\n"
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                      "X-Amz-Date: %s\r\nX-Amz-Content-Sha256: %s\r\nAuthorization: %s\r\n"
                      "Connection: close\r\n\r\n",
                      path, hostport, body_len, amz_date, payload_hash, auth);
    memcpy(request + hn, body, body_len);
    if (http_post(host, port, request, (size_t)hn + body_len, &status, &reply) == 0) {
        json_t *r = json_loads(reply, 0, NULL);
        if (as_json) {
            printf("%s\n", reply);
        } else if (status == 200 && r) {
            print_reply(endpoint, r);
        } else if (r && json_object_get(r, "Code")) {
            fprintf(stderr, "cairn admin: %s: %s\n", json_string_value(json_object_get(r, "Code")),
                    json_string_value(json_object_get(r, "Message")));
        } else {
            fprintf(stderr, "cairn admin: HTTP %d\n%s\n", status, reply);
        }
        rc = status == 200 ? 0 : 1;
        json_decref(r);
        memset(reply, 0, strlen(reply)); /* may hold a new secret */
        free(reply);
    }
    memset(request, 0, req_cap); /* holds a user's secret for user add */
    free(request);
    free(body);
    return rc;
}
