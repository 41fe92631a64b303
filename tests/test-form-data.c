/*
 * test-form-data.c -- the streaming multipart/form-data reader: boundaries
 * from Content-Type, fields before the file, the file streamed in pieces of
 * every size (the delimiter split across reads), limits, malformed bodies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form-data.h"
#include "tap.h"
#include "fuzz/step-source.h"

/* Appends printf output to a malloc'd growing string. */
static void add(char **s, size_t *len, const char *fmt, const char *a, const char *b)
{
    char tmp[512];
    int n = snprintf(tmp, sizeof(tmp), fmt, a, b);
    *s = realloc(*s, *len + (size_t)n + 1);
    memcpy(*s + *len, tmp, (size_t)n + 1);
    *len += (size_t)n;
}

static void add_bytes(char **s, size_t *len, const char *data, size_t n)
{
    *s = realloc(*s, *len + n + 1);
    memcpy(*s + *len, data, n);
    *len += n;
    (*s)[*len] = '\0';
}

#define B "----WebKitFormBoundary7MA4YWxkTrZu0gW"

/* A form with key, policy and x-amz-meta-a fields and a file of `flen` bytes. */
static char *make_form(const char *file, size_t flen, size_t *len_r)
{
    char *s = NULL;
    size_t len = 0;
    add(&s, &len, "--%s\r\nContent-Disposition: form-data; name=\"Key\"\r\n\r\n%s\r\n", B,
        "user/${filename}");
    add(&s, &len, "--%s\r\nContent-Disposition: form-data; name=\"policy\"\r\n\r\n%s\r\n", B,
        "eyJhIjoxfQ==");
    add(&s, &len, "--%s\r\ncontent-disposition: form-data; name=x-amz-meta-a\r\n\r\n%s\r\n", B,
        "line1\r\nline2");
    add(&s, &len,
        "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
        "Content-Type: image/png\r\n\r\n",
        B, "a \\\"b\\\".png");
    add_bytes(&s, &len, file, flen);
    add(&s, &len, "\r\n--%s\r\nContent-Disposition: form-data; name=\"submit\"\r\n\r\nUpload%s", B,
        "");
    add(&s, &len, "\r\n--%s--\r\n%s", B, "");
    *len_r = len;
    return s;
}

static void test_boundary(void)
{
    struct arena *a = arena_new();
    char *b;
    is_int(form_data_boundary(a, "multipart/form-data; boundary=abc", &b), 0, "plain boundary");
    is_str(b, "abc", "boundary value");
    is_int(form_data_boundary(a, "Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b;c\"", &b), 0,
           "quoted boundary after another parameter");
    is_str(b, "a b;c", "quoted value");
    is_int(form_data_boundary(a, "multipart/mixed; boundary=abc", &b), FORM_E_MALFORMED,
           "another multipart type");
    is_int(form_data_boundary(a, "multipart/form-data", &b), FORM_E_MALFORMED, "no boundary");
    is_int(form_data_boundary(a, "multipart/form-data; boundary=", &b), FORM_E_MALFORMED,
           "empty boundary");
    is_int(form_data_boundary(a, NULL, &b), FORM_E_MALFORMED, "no Content-Type");
    char big[300];
    snprintf(big, sizeof(big), "multipart/form-data; boundary=%0250d", 1);
    is_int(form_data_boundary(a, big, &b), FORM_E_MALFORMED, "boundary over 200 bytes");
    arena_free(a);
}

/* Parses a form read `step` bytes at a time and checks fields and file. */
static void check_form(const char *file, size_t flen, size_t step, size_t rbuf)
{
    size_t len;
    char *body = make_form(file, flen, &len);
    struct arena *a = arena_new();
    struct step_source s = {.data = body, .len = len, .step = step};
    struct form_data *fd = form_data_new(a, B, step_source_read, &s, NULL);
    int rc = form_data_read_fields(fd);
    int good = rc == 0;
    size_t n;
    const struct form_field *f = form_data_fields(fd, &n);
    good = good && n == 3 && strcmp(f[0].name, "key") == 0 &&
           strcmp(f[0].value, "user/${filename}") == 0 &&
           strcmp(form_data_field(fd, "x-amz-meta-a"), "line1\r\nline2") == 0 &&
           strcmp(form_data_filename(fd), "a \"b\".png") == 0 &&
           strcmp(form_data_file_type(fd), "image/png") == 0;
    char *got = malloc(flen + 1);
    size_t total = 0;
    char *chunk = malloc(rbuf);
    for (;;) {
        ssize_t r = form_data_read_file(fd, chunk, rbuf);
        if (r <= 0) {
            good = good && r == 0;
            break;
        }
        if (total + (size_t)r > flen) {
            good = 0;
            break;
        }
        memcpy(got + total, chunk, (size_t)r);
        total += (size_t)r;
    }
    good = good && total == flen && memcmp(got, file, flen) == 0;
    ok(good, "file of %zu bytes, source step %zu, read buffer %zu: fields and bytes exact", flen,
       step, rbuf);
    is_int(form_data_drain(fd, 1 << 20), 0, "drained the rest (step %zu)", step);
    free(chunk);
    free(got);
    free(body);
    arena_free(a);
}

static void test_streaming(void)
{
    /* A file that holds almost-delimiters: CRLF, "--", and the boundary minus
     * one byte, so that partial matches straddle every read size. */
    size_t flen = 300 * 1024;
    char *file = malloc(flen);
    for (size_t i = 0; i < flen; i++)
        file[i] = (char)(i * 131 + (i >> 8));
    const char *near = "\r\n--" B;
    for (size_t at = 1000; at + 64 < flen; at += 7919)
        memcpy(file + at, near, strlen(near) - 1);
    size_t steps[] = {1, 2, 3, 7, 41, 42, 43, 1000, 65536, 1 << 20};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        check_form(file, steps[i] < 8 ? 5000 : flen, steps[i], i % 2 ? 1 : 16384);
    check_form("", 0, 5, 100);
    check_form("\r\n", 2, 1, 1);
    check_form("--", 2, 3, 1);
    free(file);
}

static int run(const char *body, size_t len, size_t step, const struct form_limits *lim,
               ssize_t *file_rc_r)
{
    struct arena *a = arena_new();
    struct step_source s = {.data = body, .len = len, .step = step};
    struct form_data *fd = form_data_new(a, "XX", step_source_read, &s, lim);
    int rc = form_data_read_fields(fd);
    if (file_rc_r) {
        char buf[64];
        ssize_t r = 0;
        if (rc == 0)
            while ((r = form_data_read_file(fd, buf, sizeof(buf))) > 0)
                ;
        *file_rc_r = r;
    }
    arena_free(a);
    return rc;
}

#define RUN(lit, lim, frc) run(lit, sizeof(lit) - 1, 3, lim, frc)

static void test_malformed(void)
{
    ssize_t frc;
    is_int(RUN("", NULL, NULL), FORM_E_MALFORMED, "empty body");
    is_int(RUN("--XX--\r\n", NULL, NULL), FORM_E_NO_FILE, "no parts");
    is_int(RUN("--XX\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--XX--", NULL,
               NULL),
           FORM_E_NO_FILE, "fields but no file");
    is_int(RUN("--XX\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk", NULL, NULL),
           FORM_E_MALFORMED, "body ends inside a field");
    is_int(RUN("--XX\r\nContent-Disposition: form-data\r\n\r\nk\r\n--XX--", NULL, NULL),
           FORM_E_MALFORMED, "part without a name");
    is_int(RUN("--XX\r\nContent-Disposition: attachment; name=a\r\n\r\nk\r\n--XX--", NULL, NULL),
           FORM_E_MALFORMED, "not form-data");
    is_int(RUN("--XX\r\nbroken header line\r\n\r\nk\r\n--XX--", NULL, NULL), FORM_E_MALFORMED,
           "header line without a colon");
    is_int(RUN("--XXjunk\r\n", NULL, NULL), FORM_E_MALFORMED, "junk after the boundary");
    is_int(RUN("--XX\r\nContent-Disposition: form-data; name=\"a\r\n\r\n\r\n--XX--", NULL, NULL),
           FORM_E_MALFORMED, "unterminated quoted name");
    is_int(RUN("--XX\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
               "--XX\r\nContent-Disposition: form-data; name=A\r\n\r\n2\r\n--XX--",
               NULL, NULL),
           FORM_E_DUPLICATE, "a field twice (names are case-insensitive)");
    is_int(RUN("preamble text\r\n--XX \t\r\nContent-Disposition: form-data; name=file\r\n\r\n"
               "data\r\n--XX--",
               NULL, &frc),
           0, "preamble and transport padding accepted");
    is_int(frc, 0, "file read to its end");
    is_int(RUN("--XX\r\nContent-Disposition: form-data; name=file\r\n\r\ndata\r\n--X", NULL, &frc),
           0, "file part found");
    is_int(frc, FORM_E_MALFORMED, "body ends inside the file part");
    is_int(RUN("--XX\r\nContent-Disposition: form-data; name=\"a\"\0\r\n\r\n1\r\n--XX--", NULL,
               NULL),
           FORM_E_MALFORMED, "NUL byte in a part header");
}

static void test_limits(void)
{
    struct form_limits small = {.max_field_bytes = 16, .max_fields = 2, .max_part_head = 128};
    is_int(RUN("--XX\r\nContent-Disposition: form-data; name=a\r\n\r\n0123456789abcdefg\r\n"
               "--XX\r\nContent-Disposition: form-data; name=file\r\n\r\n\r\n--XX--",
               &small, NULL),
           FORM_E_TOO_LARGE, "a value over the field limit");
    is_int(RUN("--XX\r\nContent-Disposition: form-data; name=a\r\n\r\n01234567\r\n"
               "--XX\r\nContent-Disposition: form-data; name=b\r\n\r\n01234567\r\n"
               "--XX\r\nContent-Disposition: form-data; name=file\r\n\r\n\r\n--XX--",
               &small, NULL),
           FORM_E_TOO_LARGE, "names and values together over the limit");
    is_int(RUN("--XX\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n"
               "--XX\r\nContent-Disposition: form-data; name=b\r\n\r\n2\r\n"
               "--XX\r\nContent-Disposition: form-data; name=c\r\n\r\n3\r\n"
               "--XX\r\nContent-Disposition: form-data; name=file\r\n\r\n\r\n--XX--",
               &small, NULL),
           FORM_E_TOO_LARGE, "more fields than allowed");
    char head[400];
    memset(head, 'x', sizeof(head));
    char body[600];
    int n = snprintf(body, sizeof(body),
                     "--XX\r\nContent-Disposition: form-data; name=file\r\nX-Long: %.300s\r\n\r\n"
                     "d\r\n--XX--",
                     head);
    is_int(run(body, (size_t)n, 5, &small, NULL), FORM_E_MALFORMED, "part header over its limit");
    is_int(run(body, (size_t)n, 5, NULL, NULL), 0, "the same header under the default limit");
}

int main(void)
{
    test_boundary();
    test_streaming();
    test_malformed();
    test_limits();
    return tap_done();
}
