/*
 * sigv4-chunked.c -- the aws-chunked and SHA-256-checking body decoders.
 *
 * The aws-chunked decoder is a byte-driven state machine so that input may be
 * split anywhere: size line, extension, data, CRLF, trailer lines.  Data bytes
 * are copied straight to the output and into the chunk's SHA-256; the chunk's
 * signature is checked the moment its last byte has been seen.
 */
#include "sigv4-chunked.h"

#include <stdlib.h>
#include <string.h>

#include "sigv4-canon.h"
#include "sigv4-util.h"

/* Longest size line extension or trailer line we accept. */
#define LINE_MAX_LEN 1024
/* Most trailing headers we accept. */
#define MAX_TRAILERS 16
/* Largest single chunk: S3's largest single PUT. */
#define MAX_CHUNK_SIZE (UINT64_C(5) << 30)

enum chunk_state {
    ST_SIZE,       /* hex digits of the chunk size */
    ST_EXT,        /* ";chunk-signature=..." up to CR */
    ST_SIZE_LF,    /* LF ending the size line */
    ST_DATA,       /* chunk data */
    ST_DATA_CR,    /* CR after the data */
    ST_DATA_LF,    /* LF after the data */
    ST_TRAILER,    /* a trailer line (or the empty line ending the body) up to CR */
    ST_TRAILER_LF, /* LF ending a trailer line */
    ST_DONE,       /* everything seen */
};

struct chunk_decoder {
    struct cairn_body_decoder dec; /* first: dec.state points here */
    const struct cairn_services *sv;
    enum sigv4_chunk_mode mode;
    uint8_t key[32];
    char amz_date[17];
    char scope[128];
    char prev_sig[65];

    enum chunk_state st;
    int err;                 /* sticky: once failed, always failed */
    uint64_t size;           /* size of the current chunk */
    uint64_t remaining;      /* data bytes still to come in it */
    int size_digits;
    char line[LINE_MAX_LEN + 1];
    size_t line_len;
    char chunk_sig[65];      /* signature announced for the current chunk */
    int have_chunk_sig;
    struct cairn_hash *hash; /* SHA-256 of the current chunk's data */
    uint64_t total;          /* decoded bytes so far */

    /* Trailer: canonical "name:value\n" lines, hashed as they arrive. */
    struct cairn_hash *trailer_hash;
    int n_trailers;
    char trailer_sig[65];
    int have_trailer_sig;
};

static int is_signed(const struct chunk_decoder *d)
{
    return d->mode != SIGV4_CHUNKS_UNSIGNED_TRAILER;
}

static void chunk_destroy(void *state)
{
    struct chunk_decoder *d = state;
    if (!d)
        return;
    uint8_t sink[64];
    if (d->hash)
        d->sv->hash_final(d->hash, sink);
    if (d->trailer_hash)
        d->sv->hash_final(d->trailer_hash, sink);
    sigv4_secure_zero(d->key, sizeof(d->key));
    free(d);
}

/* Signature over `kind` ("AWS4-HMAC-SHA256-PAYLOAD" / "-TRAILER") with the
 * chained fields and `tail` (already-newline-joined hashes). */
static void chain_signature(struct chunk_decoder *d, const char *kind, const char *tail,
                            char out[65])
{
    char sts[512];
    size_t n = 0;
    const char *parts[] = {kind, "\n", d->amz_date, "\n", d->scope, "\n", d->prev_sig, "\n", tail};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        size_t l = strlen(parts[i]);
        memcpy(sts + n, parts[i], l); /* bounded: every part has a fixed maximum */
        n += l;
    }
    sigv4_hmac_hex(d->sv, d->key, sts, n, out);
}

/* Checks the signature of the chunk that just ended (its data hash is in d->hash). */
static int finish_chunk(struct chunk_decoder *d)
{
    uint8_t digest[64];
    char hex[65], tail[140], sig[65];
    struct cairn_hash *h = d->hash;
    d->hash = NULL;
    if (h) {
        d->sv->hash_final(h, digest);
        sigv4_hex(digest, 32, hex);
    } else {
        memcpy(hex, SIGV4_EMPTY_SHA256, 65);
    }
    if (!is_signed(d))
        return 0;
    memcpy(tail, SIGV4_EMPTY_SHA256 "\n", 65);
    memcpy(tail + 65, hex, 65);
    chain_signature(d, "AWS4-HMAC-SHA256-PAYLOAD", tail, sig);
    if (!sigv4_equal_ct(sig, d->chunk_sig, 64))
        return CAIRN_E_SIGNATURE_MISMATCH;
    memcpy(d->prev_sig, sig, 65);
    return 0;
}

/* The size line is complete: parse the extension, start the chunk. */
static int end_size_line(struct chunk_decoder *d)
{
    if (d->size_digits == 0)
        return CAIRN_E_INVALID_REQUEST;
    d->have_chunk_sig = 0;
    if (d->line_len) {
        static const char key[] = "chunk-signature=";
        d->line[d->line_len] = '\0';
        if (strncmp(d->line, key, sizeof(key) - 1) == 0) {
            const char *v = d->line + sizeof(key) - 1;
            if (!sigv4_is_hex(v, 64))
                return is_signed(d) ? CAIRN_E_SIGNATURE_MISMATCH : CAIRN_E_INVALID_REQUEST;
            memcpy(d->chunk_sig, v, 65); /* compared exactly, as the request's own */
            d->have_chunk_sig = 1;
        } else if (is_signed(d)) {
            return CAIRN_E_SIGNATURE_MISMATCH;
        }
        /* Unsigned streams: other chunk extensions are ignored (RFC 9112 7.1.1). */
    }
    d->line_len = 0;
    if (is_signed(d) && !d->have_chunk_sig)
        return CAIRN_E_SIGNATURE_MISMATCH;
    if (d->size > MAX_CHUNK_SIZE)
        return CAIRN_E_INVALID_REQUEST;
    if (d->dec.decoded_length >= 0 && d->size > (uint64_t)d->dec.decoded_length - d->total)
        return CAIRN_E_INVALID_REQUEST;
    if (d->size == 0) {
        /* The final chunk: its signature covers empty data. */
        int rc = finish_chunk(d);
        if (rc < 0)
            return rc;
        d->st = ST_TRAILER;
        return 0;
    }
    d->hash = d->sv->hash_new(CAIRN_HASH_SHA256);
    if (!d->hash)
        return CAIRN_E_NOMEM;
    d->remaining = d->size;
    d->st = ST_DATA;
    return 0;
}

/* The empty line after the final chunk (and any trailers): verify the trailer. */
static int end_of_body(struct chunk_decoder *d)
{
    if (d->mode == SIGV4_CHUNKS_SIGNED_TRAILER && (d->n_trailers > 0 || d->have_trailer_sig)) {
        if (!d->have_trailer_sig)
            return CAIRN_E_SIGNATURE_MISMATCH;
        uint8_t digest[64];
        char hex[65], sig[65];
        struct cairn_hash *h = d->trailer_hash;
        d->trailer_hash = NULL;
        if (h) {
            d->sv->hash_final(h, digest);
            sigv4_hex(digest, 32, hex);
        } else {
            memcpy(hex, SIGV4_EMPTY_SHA256, 65);
        }
        chain_signature(d, "AWS4-HMAC-SHA256-TRAILER", hex, sig);
        if (!sigv4_equal_ct(sig, d->trailer_sig, 64))
            return CAIRN_E_SIGNATURE_MISMATCH;
    }
    if (d->dec.decoded_length >= 0 && d->total != (uint64_t)d->dec.decoded_length)
        return CAIRN_E_INCOMPLETE_BODY;
    d->st = ST_DONE;
    return 0;
}

/* One complete trailer line ("name:value") in d->line. */
static int trailer_line(struct chunk_decoder *d, struct cairn_req *req)
{
    if (d->mode == SIGV4_CHUNKS_SIGNED)
        return CAIRN_E_INVALID_REQUEST; /* no trailers announced in this mode */
    d->line[d->line_len] = '\0';
    char *colon = strchr(d->line, ':');
    if (!colon || colon == d->line)
        return CAIRN_E_INVALID_REQUEST;
    *colon = '\0';
    char *name = d->line, *value = colon + 1;
    for (char *p = name; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
        else if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return CAIRN_E_INVALID_REQUEST;
    }
    while (*value == ' ' || *value == '\t')
        value++;
    size_t vlen = strlen(value);
    while (vlen && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
        value[--vlen] = '\0';
    if (strcmp(name, "x-amz-trailer-signature") == 0) {
        if (d->have_trailer_sig || !sigv4_is_hex(value, 64))
            return CAIRN_E_SIGNATURE_MISMATCH;
        memcpy(d->trailer_sig, value, 65);
        d->have_trailer_sig = 1;
        d->line_len = 0;
        return 0;
    }
    if (d->have_trailer_sig || ++d->n_trailers > MAX_TRAILERS)
        return CAIRN_E_INVALID_REQUEST; /* headers after the signature, or too many */
    if (d->mode == SIGV4_CHUNKS_SIGNED_TRAILER) {
        if (!d->trailer_hash && !(d->trailer_hash = d->sv->hash_new(CAIRN_HASH_SHA256)))
            return CAIRN_E_NOMEM;
        d->sv->hash_update(d->trailer_hash, name, strlen(name));
        d->sv->hash_update(d->trailer_hash, ":", 1);
        d->sv->hash_update(d->trailer_hash, value, vlen);
        d->sv->hash_update(d->trailer_hash, "\n", 1);
    }
    if (d->sv->req_set_trailer) {
        int rc = d->sv->req_set_trailer(req, name, value);
        if (rc < 0)
            return rc;
    }
    d->line_len = 0;
    return 0;
}

/* Appends one byte to the line buffer. */
static int line_add(struct chunk_decoder *d, uint8_t c)
{
    if (d->line_len >= LINE_MAX_LEN)
        return CAIRN_E_INVALID_REQUEST;
    d->line[d->line_len++] = (char)c;
    return 0;
}

/* Runs the state machine over the input. */
static int chunk_step(struct chunk_decoder *d, struct cairn_req *req, const uint8_t *in,
                      size_t in_len, size_t *consumed_r, uint8_t *out, size_t out_cap,
                      size_t *produced_r)
{
    size_t i = 0, o = 0;
    int rc = 0;
    while (i < in_len && rc == 0) {
        uint8_t c = in[i];
        switch (d->st) {
        case ST_SIZE: {
            int v = sigv4_hexval(c);
            if (v >= 0) {
                if (d->size_digits >= 16 || d->size > (UINT64_MAX >> 4))
                    rc = CAIRN_E_INVALID_REQUEST;
                else
                    d->size = d->size * 16 + (uint64_t)v, d->size_digits++;
            } else if (c == ';') {
                d->st = ST_EXT;
            } else if (c == '\r') {
                d->st = ST_SIZE_LF;
            } else {
                rc = CAIRN_E_INVALID_REQUEST;
            }
            i++;
            break;
        }
        case ST_EXT:
            if (c == '\r')
                d->st = ST_SIZE_LF;
            else if (c == '\n')
                rc = CAIRN_E_INVALID_REQUEST;
            else
                rc = line_add(d, c);
            i++;
            break;
        case ST_SIZE_LF:
            if (c != '\n') {
                rc = CAIRN_E_INVALID_REQUEST;
                break;
            }
            i++;
            rc = end_size_line(d);
            break;
        case ST_DATA: {
            size_t n = in_len - i;
            if (n > d->remaining)
                n = (size_t)d->remaining;
            if (n > out_cap - o)
                n = out_cap - o;
            if (n == 0)
                goto out; /* output full */
            memcpy(out + o, in + i, n);
            d->sv->hash_update(d->hash, in + i, n);
            i += n;
            o += n;
            d->remaining -= n;
            d->total += n;
            if (d->remaining == 0) {
                rc = finish_chunk(d);
                d->st = ST_DATA_CR;
            }
            break;
        }
        case ST_DATA_CR:
            rc = c == '\r' ? 0 : CAIRN_E_INVALID_REQUEST;
            d->st = ST_DATA_LF;
            i++;
            break;
        case ST_DATA_LF:
            rc = c == '\n' ? 0 : CAIRN_E_INVALID_REQUEST;
            d->st = ST_SIZE;
            d->size = 0;
            d->size_digits = 0;
            d->line_len = 0;
            i++;
            break;
        case ST_TRAILER:
            if (c == '\r')
                d->st = ST_TRAILER_LF;
            else if (c == '\n')
                rc = CAIRN_E_INVALID_REQUEST;
            else
                rc = line_add(d, c);
            i++;
            break;
        case ST_TRAILER_LF:
            if (c != '\n') {
                rc = CAIRN_E_INVALID_REQUEST;
                break;
            }
            i++;
            if (d->line_len == 0) {
                rc = end_of_body(d);
            } else {
                rc = trailer_line(d, req);
                d->st = ST_TRAILER;
            }
            break;
        case ST_DONE:
            rc = CAIRN_E_INVALID_REQUEST; /* bytes after the end of the body */
            break;
        }
    }
out:
    *consumed_r = i;
    *produced_r = o;
    return rc;
}

static int chunk_decode(void *state, struct cairn_req *req, const uint8_t *in, size_t in_len,
                        size_t *consumed_r, uint8_t *out, size_t out_cap, size_t *produced_r)
{
    struct chunk_decoder *d = state;
    *consumed_r = 0;
    *produced_r = 0;
    if (d->err)
        return d->err;
    int rc;
    if (in_len == 0) {
        /* End of the raw body.  A stream that stops right after the final
         * chunk's size line (no trailer section at all) is accepted. */
        if (d->st == ST_TRAILER && d->line_len == 0)
            rc = end_of_body(d);
        else
            rc = d->st == ST_DONE ? 0 : CAIRN_E_INCOMPLETE_BODY;
    } else {
        rc = chunk_step(d, req, in, in_len, consumed_r, out, out_cap, produced_r);
    }
    if (rc < 0)
        d->err = rc;
    return rc;
}

struct cairn_body_decoder *sigv4_chunked_decoder_new(const struct cairn_services *sv,
                                                     enum sigv4_chunk_mode mode,
                                                     const struct sigv4_chunk_signing *signing,
                                                     int64_t decoded_length)
{
    if (mode != SIGV4_CHUNKS_UNSIGNED_TRAILER &&
        (!signing || strlen(signing->scope) >= sizeof(((struct chunk_decoder *)0)->scope) ||
         strlen(signing->amz_date) != 16 || !sigv4_is_hex(signing->seed_signature, 64)))
        return NULL;
    struct chunk_decoder *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->sv = sv;
    d->mode = mode;
    if (mode != SIGV4_CHUNKS_UNSIGNED_TRAILER) {
        memcpy(d->key, signing->key, 32);
        memcpy(d->amz_date, signing->amz_date, 17);
        strcpy(d->scope, signing->scope);
        memcpy(d->prev_sig, signing->seed_signature, 65);
    }
    d->st = ST_SIZE;
    d->dec.size = sizeof(d->dec);
    d->dec.state = d;
    d->dec.decoded_length = decoded_length;
    d->dec.decode = chunk_decode;
    d->dec.destroy = chunk_destroy;
    return &d->dec;
}

/* ---- the SHA-256 pass-through ------------------------------------------ */

struct sha_decoder {
    struct cairn_body_decoder dec;
    const struct cairn_services *sv;
    struct cairn_hash *hash;
    char expected[65]; /* lower-case */
    int err;
    int done;
};

static int sha_decode(void *state, struct cairn_req *req, const uint8_t *in, size_t in_len,
                      size_t *consumed_r, uint8_t *out, size_t out_cap, size_t *produced_r)
{
    struct sha_decoder *d = state;
    *consumed_r = 0;
    *produced_r = 0;
    if (d->err)
        return d->err;
    if (in_len == 0) {
        if (d->done)
            return 0;
        uint8_t digest[64];
        char hex[65];
        d->sv->hash_final(d->hash, digest);
        d->hash = NULL;
        d->done = 1;
        sigv4_hex(digest, 32, hex);
        if (!sigv4_equal_ct(hex, d->expected, 64))
            return d->err = CAIRN_E_SHA256_MISMATCH;
        return 0;
    }
    if (d->done)
        return d->err = CAIRN_E_INVALID_REQUEST;
    size_t n = in_len < out_cap ? in_len : out_cap;
    if (n) {
        memcpy(out, in, n);
        d->sv->hash_update(d->hash, in, n);
    }
    *consumed_r = n;
    *produced_r = n;
    return 0;
}

static void sha_destroy(void *state)
{
    struct sha_decoder *d = state;
    if (!d)
        return;
    if (d->hash) {
        uint8_t sink[64];
        d->sv->hash_final(d->hash, sink);
    }
    free(d);
}

struct cairn_body_decoder *sigv4_sha256_decoder_new(const struct cairn_services *sv,
                                                    const char *expected_hex,
                                                    int64_t decoded_length)
{
    if (!sigv4_is_hex(expected_hex, 64))
        return NULL;
    struct sha_decoder *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->hash = sv->hash_new(CAIRN_HASH_SHA256);
    if (!d->hash) {
        free(d);
        return NULL;
    }
    d->sv = sv;
    for (int i = 0; i < 64; i++) {
        char c = expected_hex[i];
        d->expected[i] = (char)(c >= 'A' && c <= 'F' ? c + 32 : c);
    }
    d->expected[64] = '\0';
    d->dec.size = sizeof(d->dec);
    d->dec.state = d;
    d->dec.decoded_length = decoded_length;
    d->dec.decode = sha_decode;
    d->dec.destroy = sha_destroy;
    return &d->dec;
}
