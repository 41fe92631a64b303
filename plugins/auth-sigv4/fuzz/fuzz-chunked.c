/*
 * fuzz-chunked.c -- libFuzzer harness for the aws-chunked decoder.  Byte 0
 * picks the mode and whether x-amz-decoded-content-length is known, byte 1
 * the input step and byte 2 the output capacity; the rest is the body, fed in
 * steps, then the end-of-body call.  Signed modes chain from the published
 * example's seed signature and key, so corpus entries can carry valid chunks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake-services.h"
#include "sigv4-canon.h"
#include "sigv4-chunked.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    const struct cairn_services *sv = fake_services();
    enum sigv4_chunk_mode mode = (enum sigv4_chunk_mode)(data[0] % 3);
    int64_t decoded_length = (data[0] & 0x80) ? (int64_t)((data[0] >> 2) & 0x1f) * 64 : -1;
    size_t step = (size_t)data[1] + 1;
    size_t cap = (size_t)data[2] % 64 + 1;
    struct sigv4_chunk_signing sg;
    sigv4_signing_key(sv, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1",
                      "s3", sg.key);
    sg.amz_date = "20130524T000000Z";
    sg.scope = "20130524/us-east-1/s3/aws4_request";
    sg.seed_signature = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    struct cairn_body_decoder *d = sigv4_chunked_decoder_new(sv, mode, &sg, decoded_length);
    if (!d)
        abort();
    struct cairn_req *req = fake_req_new();
    const uint8_t *in = data + 3;
    size_t len = size - 3, pos = 0, total = 0;
    uint8_t out[64];
    int rc = 0;
    while (pos < len && rc == 0) {
        size_t n = len - pos < step ? len - pos : step;
        size_t consumed = 0, produced = 0;
        rc = d->decode(d->state, req, in + pos, n, &consumed, out, cap, &produced);
        if (consumed > n || produced > cap)
            abort(); /* the decoder overstepped its buffers */
        if (rc == 0 && consumed == 0 && produced == 0)
            abort(); /* no progress with input and output room: would hang */
        pos += consumed;
        total += produced;
    }
    if (rc == 0) {
        size_t consumed = 0, produced = 0;
        rc = d->decode(d->state, req, NULL, 0, &consumed, out, cap, &produced);
        total += produced;
        if (rc == 0 && decoded_length >= 0 && (int64_t)total != decoded_length)
            abort(); /* accepted a body of the wrong decoded length */
    }
    d->destroy(d->state);
    fake_req_free(req);
    return 0;
}
