/*
 * cairn-bench -- an S3 load generator in the spirit of MinIO's warp.
 *
 *   cairn-bench --endpoint http://127.0.0.1:9000 --op get --size 1MiB \
 *               --concurrency 16 --duration 10 [--json]
 *
 * Each worker thread keeps one keep-alive connection and issues requests back
 * to back.  Payloads are generated once before the run (every object of a
 * given size has the same bytes), so the client spends no CPU on hashing:
 * SigV4 uses UNSIGNED-PAYLOAD, or with --signed-payload a SHA-256 computed once
 * per size.  GET compares every byte it receives with the payload; wrong
 * bytes and errors are counted and printed, never hidden.
 *
 * Operations: put, get, head, delete, list, multipart, mixed (45% get,
 * 30% put, 15% head, 10% delete over a shared key space).  GET, HEAD and mixed
 * first PUT --objects objects.  --anonymous sends unsigned requests (a bucket
 * policy or a plain web server such as nginx must allow them); --no-bucket
 * skips creating the bucket (for nginx).  --public-read sets up the bucket and
 * objects signed, gives the bucket a policy that lets anyone s3:GetObject, and
 * then runs the load anonymously (issue 9's GET setup).  --reuse skips all set-up
 * (the bucket and objects of an earlier run are read again, e.g. under a profiler).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum op { OP_PUT, OP_GET, OP_HEAD, OP_DELETE, OP_LIST, OP_MULTIPART, OP_MIXED };
static const char *const op_names[] = {"put", "get", "head", "delete", "list", "multipart", "mixed"};

struct options {
    char host[256];
    int port;
    char access_key[128], secret_key[128], region[64];
    char bucket[64], prefix[128];
    enum op op;
    size_t size;
    size_t part_size;
    int concurrency;
    double duration;
    long count;
    long objects;
    int anonymous, signed_payload, json, no_bucket, quiet, public_read, reuse;
};

static struct options opt;
static unsigned char *payload; /* opt.size bytes (or part_size for multipart) */
static char payload_sha256[65];
static volatile int stop_flag;
static long issued; /* requests handed out so far, with --count */

struct stats {
    long ops, errors, wrong_bytes;
    uint64_t bytes;
    double *lat; /* seconds */
    long nlat, caplat;
};

struct worker {
    pthread_t thread;
    int id;
    int fd;
    struct stats st;
    char *resp; /* response head buffer */
    size_t resp_cap;
    unsigned char *rbuf;
    uint64_t rng;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cairn-bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static size_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        die("bad size '%s'", s);
    if (!strcasecmp(end, "k") || !strcasecmp(end, "kib") || !strcasecmp(end, "kb"))
        v *= 1024;
    else if (!strcasecmp(end, "m") || !strcasecmp(end, "mib") || !strcasecmp(end, "mb"))
        v *= 1024 * 1024;
    else if (!strcasecmp(end, "g") || !strcasecmp(end, "gib") || !strcasecmp(end, "gb"))
        v *= 1024.0 * 1024 * 1024;
    else if (*end && strcasecmp(end, "b"))
        die("bad size unit in '%s'", s);
    return (size_t)v;
}

/* ---- SigV4 (UNSIGNED-PAYLOAD or a precomputed payload hash) ---- */

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[32];
    unsigned int n = 32;
    EVP_Digest(data, len, d, &n, EVP_sha256(), NULL);
    hex(d, 32, out);
}

static void hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &n);
}

/* Appends the signing headers for `method path?query` to `hdr`. */
static void sign(const char *method, const char *path, const char *query, const char *content_sha,
                 char *hdr, size_t cap)
{
    if (opt.anonymous) {
        hdr[0] = 0;
        return;
    }
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char amzdate[32], date[16];
    strftime(amzdate, sizeof amzdate, "%Y%m%dT%H%M%SZ", &tm);
    strftime(date, sizeof date, "%Y%m%d", &tm);
    char host[300];
    snprintf(host, sizeof host, "%s:%d", opt.host, opt.port);
    char creq[4096];
    snprintf(creq, sizeof creq,
             "%s\n%s\n%s\nhost:%s\nx-amz-content-sha256:%s\nx-amz-date:%s\n\n"
             "host;x-amz-content-sha256;x-amz-date\n%s",
             method, path, query, host, content_sha, amzdate, content_sha);
    char creq_hash[65];
    sha256_hex(creq, strlen(creq), creq_hash);
    char sts[512];
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s", amzdate, date,
             opt.region, creq_hash);
    char k0[200];
    snprintf(k0, sizeof k0, "AWS4%s", opt.secret_key);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    hmac(k0, strlen(k0), date, k1);
    hmac(k1, 32, opt.region, k2);
    hmac(k2, 32, "s3", k3);
    hmac(k3, 32, "aws4_request", k4);
    hmac(k4, 32, sts, sig);
    char sighex[65];
    hex(sig, 32, sighex);
    snprintf(hdr, cap,
             "x-amz-content-sha256: %s\r\nx-amz-date: %s\r\n"
             "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request, "
             "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=%s\r\n",
             content_sha, amzdate, opt.access_key, date, opt.region, sighex);
}

/* ---- connection and one request ---- */

static int connect_server(void)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    char port[16];
    snprintf(port, sizeof port, "%d", opt.port);
    if (getaddrinfo(opt.host, port, &hints, &res) != 0)
        return -1;
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Sends one request and reads the response.  `body`/`body_len` is the request
 * body.  When `expect` is set, the response body is compared with it.  Returns
 * the HTTP status, or -1 on a transport error; *resp_body_len_r gets the
 * response body length, *wrong_r is set when bytes differed.
 */
static int do_request(struct worker *w, const char *method, const char *path, const char *query,
                      const void *body, size_t body_len, const unsigned char *expect,
                      char **xml_r, uint64_t *resp_len_r, int *wrong_r)
{
    char auth[1024], head[2048];
    const char *sha = opt.signed_payload && body_len ? payload_sha256 : "UNSIGNED-PAYLOAD";
    if (opt.signed_payload && !body_len)
        sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    sign(method, path, query, sha, auth, sizeof auth);
    int n = snprintf(head, sizeof head,
                     "%s %s%s%s HTTP/1.1\r\nHost: %s:%d\r\nContent-Length: %zu\r\n%s\r\n", method,
                     path, *query ? "?" : "", query, opt.host, opt.port, body_len, auth);
    if (w->fd < 0 && (w->fd = connect_server()) < 0)
        return -1;
    if (write_all(w->fd, head, (size_t)n) || (body_len && write_all(w->fd, body, body_len))) {
        close(w->fd);
        w->fd = -1;
        return -1;
    }
    /* Read the head. */
    size_t have = 0;
    char *end = NULL;
    while (!end) {
        if (have + 1 >= w->resp_cap) {
            close(w->fd);
            w->fd = -1;
            return -1;
        }
        ssize_t r = recv(w->fd, w->resp + have, w->resp_cap - 1 - have, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            close(w->fd);
            w->fd = -1;
            return -1;
        }
        have += (size_t)r;
        w->resp[have] = 0;
        end = strstr(w->resp, "\r\n\r\n");
    }
    int status = atoi(w->resp + 9);
    long long clen = -1;
    int chunked = 0, close_after = 0;
    for (char *line = strstr(w->resp, "\r\n") + 2; line < end; line = strstr(line, "\r\n") + 2) {
        if (!strncasecmp(line, "content-length:", 15))
            clen = atoll(line + 15);
        else if (!strncasecmp(line, "transfer-encoding:", 18) && strstr(line, "chunked"))
            chunked = 1;
        else if (!strncasecmp(line, "connection:", 11) && strcasestr(line, "close") &&
                 strcasestr(line, "close") < strstr(line, "\r\n"))
            close_after = 1;
    }
    if (chunked) { /* the server answers S3 bodies with Content-Length; refuse otherwise */
        close(w->fd);
        w->fd = -1;
        return -1;
    }
    if (!strcmp(method, "HEAD") || status == 204 || status == 304)
        clen = 0;
    if (clen < 0)
        clen = 0;
    size_t body_have = have - (size_t)(end + 4 - w->resp);
    const unsigned char *first = (const unsigned char *)end + 4;
    int wrong = 0;
    uint64_t off = 0;
    char *xml = NULL;
    if (xml_r && clen < (1 << 24)) {
        xml = malloc((size_t)clen + 1);
        xml[clen] = 0;
    }
    /* bytes already read */
    size_t take = body_have < (size_t)clen ? body_have : (size_t)clen;
    if (expect && memcmp(first, expect, take))
        wrong = 1;
    if (xml)
        memcpy(xml, first, take);
    off = take;
    while (off < (uint64_t)clen) {
        size_t want = (size_t)((uint64_t)clen - off);
        if (want > (1u << 20))
            want = 1u << 20;
        ssize_t r = recv(w->fd, w->rbuf, want, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            close(w->fd);
            w->fd = -1;
            free(xml);
            return -1;
        }
        if (expect && memcmp(w->rbuf, expect + off, (size_t)r))
            wrong = 1;
        if (xml)
            memcpy(xml + off, w->rbuf, (size_t)r);
        off += (uint64_t)r;
    }
    if (close_after) {
        close(w->fd);
        w->fd = -1;
    }
    if (xml_r)
        *xml_r = xml;
    if (resp_len_r)
        *resp_len_r = (uint64_t)clen;
    if (wrong_r)
        *wrong_r = wrong;
    return status;
}

static void record(struct worker *w, double t0, int ok, uint64_t bytes, int wrong)
{
    struct stats *s = &w->st;
    if (!ok) {
        s->errors++;
        return;
    }
    if (wrong)
        s->wrong_bytes++;
    s->ops++;
    s->bytes += bytes;
    if (s->nlat == s->caplat) {
        s->caplat = s->caplat ? s->caplat * 2 : 4096;
        s->lat = realloc(s->lat, (size_t)s->caplat * sizeof(double));
    }
    s->lat[s->nlat++] = now_s() - t0;
}

static uint64_t next_rand(struct worker *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

static void key_path(char *out, size_t cap, long i)
{
    snprintf(out, cap, "/%s/%sobj-%08ld", opt.bucket, opt.prefix, i);
}

static int one_put(struct worker *w, long i)
{
    char path[512];
    key_path(path, sizeof path, i);
    double t0 = now_s();
    int st = do_request(w, "PUT", path, "", payload, opt.size, NULL, NULL, NULL, NULL);
    record(w, t0, st == 200 || st == 201 || st == 204, opt.size, 0);
    return st;
}

static void one_get(struct worker *w, long i, int head)
{
    char path[512];
    key_path(path, sizeof path, i);
    double t0 = now_s();
    uint64_t len = 0;
    int wrong = 0;
    int st = do_request(w, head ? "HEAD" : "GET", path, "", NULL, 0, head ? NULL : payload, NULL,
                        &len, &wrong);
    if (!head && st == 200 && len != opt.size)
        wrong = 1;
    record(w, t0, st == 200, head ? 0 : len, wrong);
}

static void one_delete(struct worker *w, long i)
{
    char path[512];
    key_path(path, sizeof path, i);
    double t0 = now_s();
    int st = do_request(w, "DELETE", path, "", NULL, 0, NULL, NULL, NULL, NULL);
    record(w, t0, st == 204 || st == 200, 0, 0);
}

static void one_list(struct worker *w)
{
    char path[300], query[300];
    snprintf(path, sizeof path, "/%s", opt.bucket);
    snprintf(query, sizeof query, "list-type=2&max-keys=1000&prefix=%s", opt.prefix);
    double t0 = now_s();
    uint64_t len = 0;
    int st = do_request(w, "GET", path, query, NULL, 0, NULL, NULL, &len, NULL);
    record(w, t0, st == 200, len, 0);
}

static void one_multipart(struct worker *w, long i)
{
    char path[512], query[512], *xml = NULL;
    key_path(path, sizeof path, i);
    double t0 = now_s();
    int st = do_request(w, "POST", path, "uploads=", NULL, 0, NULL, &xml, NULL, NULL);
    char *a = xml ? strstr(xml, "<UploadId>") : NULL, *b = a ? strstr(a, "</UploadId>") : NULL;
    if (st != 200 || !a || !b) {
        free(xml);
        record(w, t0, 0, 0, 0);
        return;
    }
    char upload[256];
    snprintf(upload, sizeof upload, "%.*s", (int)(b - a - 10), a + 10);
    free(xml);
    size_t nparts = (opt.size + opt.part_size - 1) / opt.part_size;
    if (!nparts)
        nparts = 1;
    size_t cap = 200 + nparts * 120, used;
    char *done = malloc(cap);
    used = (size_t)snprintf(done, cap, "<CompleteMultipartUpload>");
    for (size_t p = 0; p < nparts; p++) {
        size_t len = opt.size - p * opt.part_size;
        if (len > opt.part_size)
            len = opt.part_size;
        snprintf(query, sizeof query, "partNumber=%zu&uploadId=%s", p + 1, upload);
        st = do_request(w, "PUT", path, query, payload, len, NULL, NULL, NULL, NULL);
        if (st != 200) {
            free(done);
            record(w, t0, 0, 0, 0);
            return;
        }
        /* the ETag of a part is the MD5 of its bytes: the server checks it, so
         * send the real value, computed once per distinct length */
        static char md5s[2][33];
        static size_t md5_len[2];
        static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        pthread_mutex_lock(&mu);
        int slot = len == opt.part_size ? 0 : 1;
        if (md5_len[slot] != len) {
            unsigned char d[16];
            unsigned int dn = 16;
            EVP_Digest(payload, len, d, &dn, EVP_md5(), NULL);
            hex(d, 16, md5s[slot]);
            md5_len[slot] = len;
        }
        used += (size_t)snprintf(done + used, cap - used,
                                 "<Part><PartNumber>%zu</PartNumber><ETag>\"%s\"</ETag></Part>",
                                 p + 1, md5s[slot]);
        pthread_mutex_unlock(&mu);
    }
    used += (size_t)snprintf(done + used, cap - used, "</CompleteMultipartUpload>");
    snprintf(query, sizeof query, "uploadId=%s", upload);
    int saved = opt.signed_payload;
    opt.signed_payload = 0; /* the completion body is not the payload */
    st = do_request(w, "POST", path, query, done, used, NULL, &xml, NULL, NULL);
    opt.signed_payload = saved;
    int ok = st == 200 && xml && !strstr(xml, "<Error>");
    free(xml);
    free(done);
    record(w, t0, ok, opt.size, 0);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    while (!stop_flag) {
        long i;
        if (opt.count > 0) {
            i = __atomic_fetch_add(&issued, 1, __ATOMIC_RELAXED);
            if (i >= opt.count)
                break;
        } else {
            i = (long)(next_rand(w) % (uint64_t)(opt.objects > 0 ? opt.objects : 1000000));
        }
        long k = opt.objects > 0 ? i % opt.objects : i;
        switch (opt.op) {
        case OP_PUT:
            one_put(w, opt.objects > 0 ? k : (long)w->id * 100000000L + w->st.ops + w->st.errors);
            break;
        case OP_GET: one_get(w, k, 0); break;
        case OP_HEAD: one_get(w, k, 1); break;
        case OP_DELETE: one_delete(w, opt.count > 0 ? i : k); break;
        case OP_LIST: one_list(w); break;
        case OP_MULTIPART: one_multipart(w, (long)w->id * 100000000L + w->st.ops + w->st.errors); break;
        case OP_MIXED: {
            unsigned r = (unsigned)(next_rand(w) % 100);
            if (r < 45)
                one_get(w, k, 0);
            else if (r < 75)
                one_put(w, k);
            else if (r < 90)
                one_get(w, k, 1);
            else {
                one_delete(w, k);
                one_put(w, k); /* keep the key space populated */
            }
            break;
        }
        }
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, long n, double p)
{
    if (!n)
        return 0;
    long i = (long)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[i];
}

static void usage(void)
{
    fprintf(stderr,
            "usage: cairn-bench --endpoint http://HOST:PORT [--op put|get|head|delete|list|multipart|mixed]\n"
            "       [--size 4KiB] [--part-size 5MiB] [--concurrency 16] [--duration 10 | --count N]\n"
            "       [--objects N] [--bucket NAME] [--prefix P] [--access-key K --secret-key S]\n"
            "       [--region us-east-1] [--anonymous] [--public-read] [--reuse] [--signed-payload] [--no-bucket]\n"
            "       [--json] [--quiet]\n"
            "Credentials default to $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY.\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *endpoint = "http://127.0.0.1:9000";
    const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
    snprintf(opt.access_key, sizeof opt.access_key, "%s", ak ? ak : "");
    snprintf(opt.secret_key, sizeof opt.secret_key, "%s", sk ? sk : "");
    snprintf(opt.region, sizeof opt.region, "us-east-1");
    snprintf(opt.bucket, sizeof opt.bucket, "bench");
    opt.op = OP_GET;
    opt.size = 4096;
    opt.part_size = 5 << 20;
    opt.concurrency = 16;
    opt.duration = 10;
    opt.objects = -1;
    static const struct option longopts[] = {
        {"endpoint", 1, 0, 'e'}, {"op", 1, 0, 'o'}, {"size", 1, 0, 's'},
        {"part-size", 1, 0, 'P'}, {"concurrency", 1, 0, 'c'}, {"duration", 1, 0, 'd'},
        {"count", 1, 0, 'n'}, {"objects", 1, 0, 'N'}, {"bucket", 1, 0, 'b'},
        {"prefix", 1, 0, 'p'}, {"access-key", 1, 0, 'a'}, {"secret-key", 1, 0, 'k'},
        {"region", 1, 0, 'r'}, {"anonymous", 0, 0, 'A'}, {"signed-payload", 0, 0, 'S'},
        {"no-bucket", 0, 0, 'B'}, {"json", 0, 0, 'j'}, {"quiet", 0, 0, 'q'},
        {"public-read", 0, 0, 'R'}, {"reuse", 0, 0, 'U'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'e': endpoint = optarg; break;
        case 'o': {
            int found = 0;
            for (int i = 0; i <= OP_MIXED; i++)
                if (!strcmp(optarg, op_names[i])) {
                    opt.op = (enum op)i;
                    found = 1;
                }
            if (!found)
                die("unknown op '%s'", optarg);
            break;
        }
        case 's': opt.size = parse_size(optarg); break;
        case 'P': opt.part_size = parse_size(optarg); break;
        case 'c': opt.concurrency = atoi(optarg); break;
        case 'd': opt.duration = atof(optarg); break;
        case 'n': opt.count = atol(optarg); break;
        case 'N': opt.objects = atol(optarg); break;
        case 'b': snprintf(opt.bucket, sizeof opt.bucket, "%s", optarg); break;
        case 'p': snprintf(opt.prefix, sizeof opt.prefix, "%s", optarg); break;
        case 'a': snprintf(opt.access_key, sizeof opt.access_key, "%s", optarg); break;
        case 'k': snprintf(opt.secret_key, sizeof opt.secret_key, "%s", optarg); break;
        case 'r': snprintf(opt.region, sizeof opt.region, "%s", optarg); break;
        case 'A': opt.anonymous = 1; break;
        case 'R': opt.public_read = 1; break;
        case 'U': opt.reuse = opt.no_bucket = 1; break;
        case 'S': opt.signed_payload = 1; break;
        case 'B': opt.no_bucket = 1; break;
        case 'j': opt.json = 1; break;
        case 'q': opt.quiet = 1; break;
        default: usage();
        }
    }
    if (strncmp(endpoint, "http://", 7))
        die("only http:// endpoints are supported");
    const char *hp = endpoint + 7, *colon = strrchr(hp, ':');
    if (!colon)
        die("endpoint needs a port");
    snprintf(opt.host, sizeof opt.host, "%.*s", (int)(colon - hp), hp);
    opt.port = atoi(colon + 1);
    if (opt.concurrency < 1 || opt.concurrency > 4096)
        die("bad concurrency");
    if (!opt.anonymous && (!opt.access_key[0] || !opt.secret_key[0]))
        die("no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or --anonymous");
    if ((opt.op == OP_GET || opt.op == OP_HEAD || opt.op == OP_MIXED) && opt.objects < 0)
        opt.objects = 100;

    size_t plen = opt.op == OP_MULTIPART && opt.part_size < opt.size ? opt.part_size : opt.size;
    payload = malloc(plen ? plen : 1);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < plen; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        payload[i] = (unsigned char)x;
    }
    if (opt.signed_payload)
        sha256_hex(payload, plen, payload_sha256);

    struct worker *ws = calloc((size_t)opt.concurrency, sizeof *ws);
    for (int i = 0; i < opt.concurrency; i++) {
        ws[i].id = i;
        ws[i].fd = -1;
        ws[i].resp_cap = 65536;
        ws[i].resp = malloc(ws[i].resp_cap);
        ws[i].rbuf = malloc(1 << 20);
        ws[i].rng = 0x2545F4914F6CDD1Dull * (uint64_t)(i + 1);
    }
    /* Set up: bucket and, for reads, the objects. */
    if (!opt.no_bucket) {
        char path[128];
        snprintf(path, sizeof path, "/%s", opt.bucket);
        int st = do_request(&ws[0], "PUT", path, "", NULL, 0, NULL, NULL, NULL, NULL);
        if (st != 200 && st != 409)
            die("cannot create bucket %s (HTTP %d)", opt.bucket, st);
    }
    if (opt.objects > 0 && opt.op != OP_PUT && opt.op != OP_DELETE && !opt.reuse) {
        for (long i = 0; i < opt.objects; i++) {
            int st = one_put(&ws[0], i);
            if (st != 200 && st != 201 && st != 204)
                die("preparing object %ld failed (HTTP %d)", i, st);
        }
        ws[0].st.ops = ws[0].st.errors = 0;
        ws[0].st.bytes = 0;
        ws[0].st.nlat = 0;
    }
    if (opt.public_read && opt.reuse) {
        opt.anonymous = 1;
    } else if (opt.public_read) {
        char path[128], policy[512];
        snprintf(path, sizeof path, "/%s", opt.bucket);
        int n = snprintf(policy, sizeof policy,
                         "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
                         "\"Principal\":\"*\",\"Action\":[\"s3:GetObject\"],"
                         "\"Resource\":[\"arn:aws:s3:::%s/*\"]}]}", opt.bucket);
        int saved = opt.signed_payload;
        opt.signed_payload = 0; /* payload_sha256 is the object's, not the policy's */
        int st = do_request(&ws[0], "PUT", path, "policy=", policy, (size_t)n, NULL, NULL, NULL,
                            NULL);
        opt.signed_payload = saved;
        if (st != 200 && st != 204)
            die("cannot set the public-read policy on %s (HTTP %d)", opt.bucket, st);
        opt.anonymous = 1; /* the load itself is unsigned */
    }
    if (opt.op == OP_DELETE && opt.count <= 0)
        die("--op delete needs --count (it deletes obj-0..count-1, which must exist)");

    double t0 = now_s();
    for (int i = 0; i < opt.concurrency; i++)
        pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]);
    long last_ops = 0;
    while (1) {
        usleep(opt.count > 0 ? 100000 : 250000);
        double el = now_s() - t0;
        long ops = 0, done = 0;
        for (int i = 0; i < opt.concurrency; i++)
            ops += ws[i].st.ops + ws[i].st.errors;
        if (opt.count > 0)
            done = ops >= opt.count;
        else
            done = el >= opt.duration;
        if (!opt.quiet && !opt.json && (long)(el * 4) % 4 == 0 && ops != last_ops)
            fprintf(stderr, "\r%6.1f s  %ld ops  %.0f ops/s   ", el, ops, ops / el);
        last_ops = ops;
        if (done)
            break;
    }
    stop_flag = 1;
    for (int i = 0; i < opt.concurrency; i++)
        pthread_join(ws[i].thread, NULL);
    double el = now_s() - t0;
    if (!opt.quiet && !opt.json)
        fprintf(stderr, "\n");

    struct stats tot = {0};
    for (int i = 0; i < opt.concurrency; i++) {
        tot.ops += ws[i].st.ops;
        tot.errors += ws[i].st.errors;
        tot.wrong_bytes += ws[i].st.wrong_bytes;
        tot.bytes += ws[i].st.bytes;
        tot.nlat += ws[i].st.nlat;
    }
    double *lat = malloc((size_t)(tot.nlat ? tot.nlat : 1) * sizeof(double));
    long k = 0;
    for (int i = 0; i < opt.concurrency; i++) {
        memcpy(lat + k, ws[i].st.lat, (size_t)ws[i].st.nlat * sizeof(double));
        k += ws[i].st.nlat;
    }
    qsort(lat, (size_t)tot.nlat, sizeof(double), cmp_double);
    double opsps = tot.ops / el, mbps = tot.bytes / el / 1e6;
    if (opt.json)
        printf("{\"op\":\"%s\",\"size\":%zu,\"concurrency\":%d,\"seconds\":%.3f,\"ops\":%ld,"
               "\"ops_per_s\":%.1f,\"mb_per_s\":%.2f,\"errors\":%ld,\"wrong_bytes\":%ld,"
               "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f}\n",
               op_names[opt.op], opt.size, opt.concurrency, el, tot.ops, opsps, mbps, tot.errors,
               tot.wrong_bytes, pct(lat, tot.nlat, 50) * 1e3, pct(lat, tot.nlat, 90) * 1e3,
               pct(lat, tot.nlat, 99) * 1e3, pct(lat, tot.nlat, 99.9) * 1e3);
    else
        printf("%s %zu B x%d: %ld ops in %.2f s = %.1f ops/s, %.2f MB/s; errors %ld, wrong bytes %ld;\n"
               "latency ms p50 %.3f p90 %.3f p99 %.3f p99.9 %.3f\n",
               op_names[opt.op], opt.size, opt.concurrency, tot.ops, el, opsps, mbps, tot.errors,
               tot.wrong_bytes, pct(lat, tot.nlat, 50) * 1e3, pct(lat, tot.nlat, 90) * 1e3,
               pct(lat, tot.nlat, 99) * 1e3, pct(lat, tot.nlat, 99.9) * 1e3);
    for (int i = 0; i < opt.concurrency; i++) {
        if (ws[i].fd >= 0)
            close(ws[i].fd);
        free(ws[i].resp);
        free(ws[i].rbuf);
        free(ws[i].st.lat);
    }
    free(ws);
    free(lat);
    free(payload);
    return tot.errors || tot.wrong_bytes ? 1 : 0;
}
