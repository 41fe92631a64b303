#!/usr/bin/env python3
"""Every signature scheme and payload mode the auth plugin accepts, proven with
real clients and byte-exact reads, plus the ways a request must be refused:

- Debian boto3 1.26 over HTTP (signed hex SHA-256 payload, multipart);
- minio-js and @aws-sdk/client-s3 over HTTP, seen through a logging proxy
  (signed payload; STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer);
- the image's boto3 1.43 and both awscli versions over HTTPS
  (UNSIGNED-PAYLOAD / STREAMING-UNSIGNED-PAYLOAD-TRAILER);
- STREAMING-AWS4-HMAC-SHA256-PAYLOAD and its -TRAILER variant from our own
  signer over a raw socket, and tampered versions of them;
- presigned SigV2 and SigV4 URLs from boto3, s3cmd with SigV2 and signurl;
- wrong secret, unknown key, clock skew, wrong region, payload hash
  mismatch, and SigV2 turned off in the config.
"""
import contextlib
import hashlib
import http.client
import json
import os
import random
import re
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from auth_helpers import (Client, LoggingProxy, SigV4, amz_now, crc32_b64, make_cert, make_server, port_in_range,
                          presign_v4, raw_request, sha256_hex, signed_chunked_body, sigv2_header)
from cairn_test import REGION, ROOT_PASSWORD, ROOT_USER, Server, run, tap

HERE = os.path.dirname(os.path.abspath(__file__))
ok, eq = tap.ok, tap.eq


def http_get(url, ctx=None, method="GET", data=None):
    """(status, body, headers) of a plain urllib request; errors included."""
    req = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def put_url(url, data):
    """PUT `data` to a presigned URL with no Content-Type (SigV2 signs it;
    urllib would add application/x-www-form-urlencoded)."""
    u = urllib.parse.urlsplit(url)
    hc = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        hc.request("PUT", u.path + ("?" + u.query if u.query else ""), body=data)
        r = hc.getresponse()
        return r.status, r.read()
    finally:
        hc.close()


def relay(lines, prefix):
    """Turns the JSON lines of a sub-script into TAP; returns True if it finished."""
    done = False
    for line in lines.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("done"):
            done = True
            continue
        ok(r["ok"], prefix + r["name"], r.get("diag"))
    return done


def requests_in(raw):
    """Splits captured client bytes into request heads (text, lower-cased)."""
    return [m.group(0).decode("latin-1").lower()
            for m in re.finditer(rb"(GET|PUT|POST|HEAD|DELETE) [^\r\n]* HTTP/1\.1\r\n.*?\r\n\r\n", raw, re.S)]


# -- Debian boto3 1.26 over HTTP ---------------------------------------------
DEBIAN_SCRIPT = r'''
import hashlib, json, os, sys, boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
def report(name, cond, diag=None):
    print(json.dumps({"name": name, "ok": bool(cond), "diag": None if diag is None else str(diag)}), flush=True)
ep, bucket = sys.argv[1], sys.argv[2]
report("is boto3 1.26 (%s)" % boto3.__version__, boto3.__version__.startswith("1.26"))
c = boto3.client("s3", endpoint_url=ep, aws_access_key_id="cairnadmin", aws_secret_access_key="cairnadmin-secret-key",
                 region_name="us-east-1", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
data = os.urandom(300001)
c.put_object(Bucket=bucket, Key="deb/put", Body=data)
back = c.get_object(Bucket=bucket, Key="deb/put")["Body"].read()
report("put_object/get_object byte-exact", back == data, len(back))
big = os.urandom(12 * 1024 * 1024 + 3)
path = os.path.join(sys.argv[3], "big")
open(path, "wb").write(big)
c.upload_file(path, bucket, "deb/multi", Config=TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20))
h = c.head_object(Bucket=bucket, Key="deb/multi")
report("upload_file multipart ETag has 3 parts", h["ETag"].endswith('-3"'), h["ETag"])
back = c.get_object(Bucket=bucket, Key="deb/multi")["Body"].read()
report("multipart byte-exact", hashlib.md5(back).digest() == hashlib.md5(big).digest(), len(back))
print(json.dumps({"done": True}))
'''


def test_debian_boto3(srv, tmp):
    proxy = LoggingProxy(port_in_range(), srv.port)
    try:
        rc, out = run(["/usr/bin/python3", "-c", DEBIAN_SCRIPT, "http://127.0.0.1:%d" % proxy.port, "modes", tmp],
                      env=srv.env(), timeout=120)
        ok(relay(out, "debian boto3 1.26: ") and rc == 0, "debian boto3 1.26: script finished", out[-3000:])
        puts = [r for r in requests_in(bytes(proxy.sent)) if r.startswith("put ")]
        hexed = [r for r in puts if re.search(r"\nx-amz-content-sha256: [0-9a-f]{64}\r", r)]
        ok(len(puts) >= 4 and len(hexed) == len(puts),
           "debian boto3 1.26: every PUT (object and parts) carried a hex SHA-256 payload hash",
           "%d PUTs, %d hex: %r" % (len(puts), len(hexed), puts[:2]))
    finally:
        proxy.close()


# -- minio-js and the JS SDK over HTTP ----------------------------------------
def test_js(srv):
    p1, p2 = LoggingProxy(port_in_range(), srv.port), LoggingProxy(port_in_range(), srv.port)
    try:
        rc, out = run(["node", os.path.join(HERE, "t-auth-js.mjs"), "http://127.0.0.1:%d" % p1.port,
                       "http://127.0.0.1:%d" % p2.port, "modes"], timeout=120)
        ok(relay(out, "") and rc == 0, "js: script finished", out[-3000:])
        mputs = [r for r in requests_in(bytes(p1.sent)) if r.startswith("put ")]
        ok(mputs and all(re.search(r"\nx-amz-content-sha256: [0-9a-f]{64}\r", r) for r in mputs),
           "minio-js: PUT signed the payload (hex SHA-256)", mputs[:1])
        sputs = [r for r in requests_in(bytes(p2.sent)) if r.startswith("put ")]
        modes = [re.search(r"\nx-amz-content-sha256: ([^\r]*)", r).group(1) for r in sputs]
        tap.ok(True, "# js sdk PUT payload modes seen: %s" % modes)
        ok("streaming-unsigned-payload-trailer" in modes,
           "js sdk: a PUT really used STREAMING-UNSIGNED-PAYLOAD-TRAILER over plain HTTP", modes)
        streaming = [r for r in sputs if "streaming-unsigned-payload-trailer" in r]
        ok(streaming and "\ntransfer-encoding: chunked\r" in streaming[0] and "\ncontent-encoding: aws-chunked" in
           streaming[0] and "\nx-amz-trailer: x-amz-checksum-crc32\r" in streaming[0],
           "js sdk: that PUT was aws-chunked inside HTTP chunked, announcing a CRC32 trailer", streaming[:1])
        # The trailer line travels in its own HTTP chunk, hence no "0\r\n" right before it.
        ok(re.search(rb"\r\nx-amz-checksum-crc32:[A-Za-z0-9+/=]+\r\n", bytes(p2.sent)),
           "js sdk: that body carried the CRC32 trailer line")
    finally:
        p1.close()
        p2.close()


# -- signed aws-chunked over a raw socket --------------------------------------
def test_signed_chunked(srv, cl):
    data = os.urandom(200 * 1024 + 3)
    r = cl.put_signed_chunked("/modes/chunked/plain", data, 64 * 1024)
    eq(r.status, 200, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD PUT accepted")
    g = cl.request("GET", "/modes/chunked/plain")
    ok(g.status == 200 and g.body == data, "signed chunked: byte-exact read-back", repr(g)[:300])
    ok(g.headers.get("etag") == '"%s"' % hashlib.md5(data).hexdigest(), "signed chunked: ETag is MD5 of decoded bytes")

    r = cl.put_signed_chunked("/modes/chunked/one", b"", 64 * 1024)
    g = cl.request("GET", "/modes/chunked/one")
    ok(r.status == 200 and g.status == 200 and g.body == b"", "signed chunked: empty object", repr(r))

    crc = crc32_b64(data)
    r = cl.put_signed_chunked("/modes/chunked/trailer", data, 8000, trailers=[("x-amz-checksum-crc32", crc)])
    eq(r.status, 200, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER PUT accepted")
    g = cl.request("GET", "/modes/chunked/trailer", headers={"x-amz-checksum-mode": "ENABLED"})
    ok(g.status == 200 and g.body == data, "signed trailer: byte-exact read-back")
    eq(g.headers.get("x-amz-checksum-crc32"), crc, "signed trailer: CRC32 from the trailer stored and returned")

    # A correctly signed trailer with the wrong CRC: the signature holds, the checksum doesn't.
    bad = crc32_b64(data + b"x")
    r = cl.put_signed_chunked("/modes/chunked/badcrc", data, 8000, trailers=[("x-amz-checksum-crc32", bad)])
    ok(r.status == 400 and r.code() == "BadDigest", "signed trailer with wrong CRC32 -> 400 BadDigest", repr(r))
    eq(cl.request("HEAD", "/modes/chunked/badcrc").status, 404, "  ... and nothing stored")

    # Tampering: the key has an earlier version that must survive every failed PUT.
    v1 = b"version one of the key"
    eq(cl.request("PUT", "/modes/chunked/victim", body=v1).status, 200, "earlier version stored")

    def flip_data(body):
        i = body.index(b"\r\n", body.index(b"chunk-signature=", 100)) + 10  # inside the 2nd chunk
        return body[:i] + bytes([body[i] ^ 1]) + body[i + 1:]

    def flip_sig(body):
        i = body.index(b"chunk-signature=", 100) + 16 + 5  # 2nd chunk's signature
        return body[:i] + (b"0" if body[i:i + 1] != b"0" else b"1") + body[i + 1:]

    def flip_trailer_value(body):
        i = body.index(b"x-amz-checksum-crc32:") + 21
        return body[:i] + (b"A" if body[i:i + 1] != b"A" else b"B") + body[i + 1:]

    def flip_trailer_sig(body):
        i = body.index(b"x-amz-trailer-signature:") + 24 + 10
        return body[:i] + (b"0" if body[i:i + 1] != b"0" else b"1") + body[i + 1:]

    cases = [("one chunk data byte", flip_data, None), ("one chunk signature", flip_sig, None),
             ("trailer value", flip_trailer_value, crc), ("trailer signature", flip_trailer_sig, crc),
             ("data byte, trailer mode", flip_data, crc)]
    for name, fn, trailer in cases:
        tr = [("x-amz-checksum-crc32", trailer)] if trailer else None
        for key in ("/modes/chunked/victim", "/modes/chunked/fresh"):
            r = cl.put_signed_chunked(key, data, 8000, trailers=tr, tamper=fn)
            ok(r.status == 403 and r.code() == "SignatureDoesNotMatch",
               "tampered %s (%s) -> 403 SignatureDoesNotMatch" % (name, key.rsplit("/", 1)[1]), repr(r))
        eq(cl.request("HEAD", "/modes/chunked/fresh").status, 404, "  ... new key not visible (HEAD 404)")
        g = cl.request("GET", "/modes/chunked/victim")
        ok(g.status == 200 and g.body == v1, "  ... earlier version intact", repr(g)[:200])

    # Trailer signature missing although a trailer was announced and signed mode used.
    probe = cl.put_signed_chunked("/modes/chunked/fresh", data, 8000, trailers=[("x-amz-checksum-crc32", crc)],
                                  tamper=lambda b: b[:b.index(b"x-amz-trailer-signature:")] + b"\r\n")
    ok(probe.status in (400, 403), "trailer signature missing -> refused (%s %s)" % (probe.status, probe.code()),
       repr(probe))
    eq(cl.request("HEAD", "/modes/chunked/fresh").status, 404, "  ... nothing stored")


# -- more modes: multipart parts, unsigned trailer from our own client, edge cases --------
def test_more_modes(srv, cl):
    r = cl.request("POST", "/modes/mpu/obj", query=[("uploads", "")])
    m = re.search(rb"<UploadId>([^<]+)</UploadId>", r.body)
    ok(r.status == 200 and m, "CreateMultipartUpload with own signer", repr(r))
    uid = m.group(1).decode() if m else "x"
    p1, p2, p3 = os.urandom(5 << 20), os.urandom(5 << 20), os.urandom(1000)
    s = SigV4(ROOT_USER, ROOT_PASSWORD)
    # part 1: signed chunks
    probe, _ = signed_chunked_body(s, "0" * 64, p1, 65536)
    hdrs = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(p1)),
            "content-length": str(len(probe))}
    q = [("partNumber", "1"), ("uploadId", uid)]
    target, signed, seed = s.sign("PUT", cl.hostport(), "/modes/mpu/obj", q, hdrs, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    body, _ = signed_chunked_body(s, seed, p1, 65536)
    r1 = raw_request("127.0.0.1", srv.port, "PUT", target, signed, body)
    eq(r1.status, 200, "UploadPart with STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    # part 2: unsigned trailer inside HTTP chunked, as botocore sends it
    crc = crc32_b64(p2)
    inner = b"%x\r\n" % len(p2) + p2 + b"\r\n0\r\nx-amz-checksum-crc32:" + crc.encode() + b"\r\n\r\n"
    outer = [b"%x\r\n" % len(inner[i:i + 100000]) + inner[i:i + 100000] + b"\r\n" for i in range(0, len(inner), 100000)]
    hdrs = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(p2)),
            "transfer-encoding": "chunked", "x-amz-trailer": "x-amz-checksum-crc32"}
    q = [("partNumber", "2"), ("uploadId", uid)]
    target, signed, _ = SigV4(ROOT_USER, ROOT_PASSWORD).sign("PUT", cl.hostport(), "/modes/mpu/obj", q, hdrs,
                                                              "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    r2 = raw_request("127.0.0.1", srv.port, "PUT", target, signed, outer + [b"0\r\n\r\n"])
    ok(r2.status == 200 and r2.headers.get("x-amz-checksum-crc32") in (None, crc),
       "UploadPart with STREAMING-UNSIGNED-PAYLOAD-TRAILER inside HTTP chunked", repr(r2))
    # part 3: signed trailer
    probe, _ = signed_chunked_body(s, "0" * 64, p3, 65536, [("x-amz-checksum-crc32", crc32_b64(p3))])
    hdrs = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(p3)),
            "content-length": str(len(probe)), "x-amz-trailer": "x-amz-checksum-crc32"}
    q = [("partNumber", "3"), ("uploadId", uid)]
    target, signed, seed = s.sign("PUT", cl.hostport(), "/modes/mpu/obj", q, hdrs,
                                  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
    body, _ = signed_chunked_body(s, seed, p3, 65536, [("x-amz-checksum-crc32", crc32_b64(p3))])
    r3 = raw_request("127.0.0.1", srv.port, "PUT", target, signed, body)
    eq(r3.status, 200, "UploadPart with STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
    xml = "<CompleteMultipartUpload>" + "".join(
        "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (i + 1, rr.headers.get("etag"))
        for i, rr in enumerate((r1, r2, r3))) + "</CompleteMultipartUpload>"
    r = cl.request("POST", "/modes/mpu/obj", query=[("uploadId", uid)], body=xml.encode())
    ok(r.status == 200 and b"<ETag>" in r.body, "CompleteMultipartUpload", repr(r))
    g = cl.request("GET", "/modes/mpu/obj")
    ok(g.status == 200 and g.body == p1 + p2 + p3, "parts in three streaming modes read back byte-exact",
       (g.status, len(g.body)))

    # Unsigned trailer with no trailer at all, and with Content-Length instead of HTTP chunked.
    data = os.urandom(3000)
    for name, tail in (("no trailer", b"0\r\n\r\n"), ("CRC32 trailer", b"0\r\nx-amz-checksum-crc32:" +
                                                        crc32_b64(data).encode() + b"\r\n\r\n")):
        body = b"bb8\r\n" + data + b"\r\n" + tail
        hdrs = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
                "content-length": str(len(body))}
        if "CRC" in name:
            hdrs["x-amz-trailer"] = "x-amz-checksum-crc32"
        r = cl.request("PUT", "/modes/ut/" + name.replace(" ", "-"), headers=hdrs, body=body,
                       payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        g = cl.request("GET", "/modes/ut/" + name.replace(" ", "-"))
        ok(r.status == 200 and g.body == data, "STREAMING-UNSIGNED-PAYLOAD-TRAILER, %s, Content-Length" % name,
           repr(r))
    # Bad CRC in the unsigned trailer.
    body = b"bb8\r\n" + data + b"\r\n0\r\nx-amz-checksum-crc32:" + crc32_b64(b"x").encode() + b"\r\n\r\n"
    r = cl.request("PUT", "/modes/ut/bad", headers={"content-encoding": "aws-chunked", "x-amz-trailer":
                   "x-amz-checksum-crc32", "x-amz-decoded-content-length": str(len(data)),
                   "content-length": str(len(body))}, body=body, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    ok(r.status == 400 and r.code() == "BadDigest", "unsigned trailer with wrong CRC32 -> BadDigest", repr(r))
    eq(cl.request("HEAD", "/modes/ut/bad").status, 404, "  ... nothing stored")
    # Decoded length larger than what the chunks carry.
    r = cl.put_signed_chunked("/modes/ut/short", data, 1000, headers={"x-amz-decoded-content-length": "4000"})
    ok(r.status == 400 and r.code() in ("IncompleteBody", "InvalidRequest"),
       "x-amz-decoded-content-length larger than the chunks -> 400 (%s)" % r.code(), repr(r))
    eq(cl.request("HEAD", "/modes/ut/short").status, 404, "  ... nothing stored")
    # A payload hash that is neither hex nor a known mode.
    r = cl.request("PUT", "/modes/ut/garbage", body=b"abc", payload_hash="NOT-A-MODE")
    ok(r.status == 400, "unknown x-amz-content-sha256 value -> 400 (%s)" % r.code(), repr(r))
    r = cl.request("PUT", "/modes/ut/sigv4a", body=b"abc", payload_hash="STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD")
    ok(r.status in (400, 501) and r.code() in ("NotImplemented", "InvalidArgument", "InvalidRequest"),
       "SigV4a streaming mode refused (%s %s)" % (r.status, r.code()), repr(r))
    # Presigned SigV4 from our own signer: valid now, dated an hour ahead, expired.
    for label, offset, expires, want in (("now", 0, 60, 200), ("dated an hour ahead", 3600, 60, 403),
                                         ("dated 2 minutes ago, 60 s lifetime", -120, 60, 403)):
        signer = SigV4(ROOT_USER, ROOT_PASSWORD, amz_date=amz_now(offset))
        target = presign_v4(signer, "GET", cl.hostport(), "/modes/mpu/obj", expires)
        r = raw_request("127.0.0.1", srv.port, "GET", target, {"Host": cl.hostport()})
        ok(r.status == want and (want == 200 or r.code() == "AccessDenied"),
           "own presigned SigV4 GET %s -> %d %s" % (label, want, "" if want == 200 else "AccessDenied"), repr(r)[:400])
    # Signed chunks with trailer sent in 1-7 byte TCP writes.
    data = os.urandom(20000)
    tr = [("x-amz-checksum-crc32", crc32_b64(data))]

    def dribble(body):
        out, i = [], 0
        while i < len(body):
            n = random.randint(1, 7)
            out.append(body[i:i + n])
            i += n
        return out
    r = cl.put_signed_chunked("/modes/ut/dribble", data, 3000, trailers=tr, tamper=dribble)
    g = cl.request("GET", "/modes/ut/dribble")
    ok(r.status == 200 and g.body == data, "signed chunks + trailer in 1-7 byte TCP writes", repr(r))
    # Presigned SigV4 HEAD and DELETE, and the 7-day limit.
    c = boto3_image(srv.endpoint, "s3v4")
    url = c.generate_presigned_url("head_object", Params={"Bucket": "modes", "Key": "mpu/obj"}, ExpiresIn=60)
    st, _, hd = http_get(url, method="HEAD")
    ok(st == 200 and hd.get("Content-Length") == str(len(p1 + p2 + p3)), "presigned SigV4 HEAD", (st, hd))
    url = c.generate_presigned_url("delete_object", Params={"Bucket": "modes", "Key": "ut/no-trailer"}, ExpiresIn=60)
    st, body, _ = http_get(url, method="DELETE")
    eq(st, 204, "presigned SigV4 DELETE")
    eq(cl.request("HEAD", "/modes/ut/no-trailer").status, 404, "  ... object gone")
    url = c.generate_presigned_url("get_object", Params={"Bucket": "modes", "Key": "mpu/obj"}, ExpiresIn=604801)
    st, body, _ = http_get(url)
    ok(st in (400, 403) and b"AuthorizationQueryParametersError" in body,
       "presigned SigV4 for more than 7 days -> AuthorizationQueryParametersError (%s)" % st, body[:400])
    url = c.generate_presigned_url("get_object", Params={"Bucket": "modes", "Key": "mpu/obj"}, ExpiresIn=604800)
    st, body, _ = http_get(url)
    ok(st == 200 and len(body) == len(p1 + p2 + p3), "presigned SigV4 for exactly 7 days works", st)


# -- presigned URLs -------------------------------------------------------------
def boto3_image(endpoint, sigver=None, verify=None):
    import boto3
    from botocore.config import Config
    kw = {"s3": {"addressing_style": "path"}, "retries": {"max_attempts": 1}}
    if sigver:
        kw["signature_version"] = sigver
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ROOT_USER,
                        aws_secret_access_key=ROOT_PASSWORD, region_name=REGION, config=Config(**kw), verify=verify)


def test_presigned(srv):
    for sigver, marker in (("s3", "AWSAccessKeyId="), ("s3v4", "X-Amz-Signature=")):
        c = boto3_image(srv.endpoint, sigver)
        data = os.urandom(5000) + b" " + sigver.encode()
        key = "pre/%s/a key+with:odd chars" % sigver
        url = c.generate_presigned_url("put_object", Params={"Bucket": "modes", "Key": key}, ExpiresIn=300)
        ok(marker in url, "presign %s: URL uses %s" % (sigver, marker.rstrip("=")), url)
        st, body = put_url(url, data)
        ok(st == 200, "presigned %s PUT with http.client" % sigver, (st, body))
        url = c.generate_presigned_url("get_object", Params={"Bucket": "modes", "Key": key}, ExpiresIn=300)
        st, body, _ = http_get(url)
        ok(st == 200 and body == data, "presigned %s GET with urllib byte-exact" % sigver, (st, body[:300]))
        cp = subprocess.run(["curl", "-sS", "-g", "--fail", url], stdout=subprocess.PIPE, timeout=30)
        ok(cp.returncode == 0 and cp.stdout == data, "presigned %s GET with curl byte-exact" % sigver, cp.returncode)
        url = c.generate_presigned_url("get_object", Params={"Bucket": "modes", "Key": key}, ExpiresIn=1)
        time.sleep(2.2)
        st, body, _ = http_get(url)
        ok(st == 403 and b"<Code>AccessDenied</Code>" in body and b"Request has expired" in body,
           "expired presigned %s URL -> 403 AccessDenied 'Request has expired'" % sigver, (st, body))


# -- s3cmd with SigV2 --------------------------------------------------------------
def s3cmd_cfg(srv, tmp, v2=True):
    path = os.path.join(tmp, "s3cfg-%d" % srv.port)
    with open(path, "w") as f:
        f.write("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = 127.0.0.1:%d\n"
                "host_bucket = 127.0.0.1:%d\nuse_https = False\nsignature_v2 = %s\nbucket_location = us-east-1\n"
                % (ROOT_USER, ROOT_PASSWORD, srv.port, srv.port, "True" if v2 else "False"))
    return path


def test_s3cmd(srv, tmp):
    cfg = s3cmd_cfg(srv, tmp)
    src = os.path.join(tmp, "s3cmd-src")
    data = os.urandom(70000)
    open(src, "wb").write(data)
    rc, out = run(["s3cmd", "-c", cfg, "put", src, "s3://modes/s3cmd/obj"], timeout=60)
    ok(rc == 0, "s3cmd signature_v2: put", out)
    dst = os.path.join(tmp, "s3cmd-dst")
    rc, out = run(["s3cmd", "-c", cfg, "get", "--force", "s3://modes/s3cmd/obj", dst], timeout=60)
    ok(rc == 0 and open(dst, "rb").read() == data, "s3cmd signature_v2: get byte-exact", out)
    rc, out = run(["s3cmd", "-c", cfg, "ls", "s3://modes/s3cmd/"], timeout=60)
    ok(rc == 0 and "s3://modes/s3cmd/obj" in out and "70000" in out, "s3cmd signature_v2: ls", out)
    # Multipart (?uploads, ?partNumber&uploadId, ?uploadId are SigV2 sub-resources) and odd keys.
    big = os.urandom(11 * 1024 * 1024 + 5)
    bsrc = os.path.join(tmp, "s3cmd-big")
    open(bsrc, "wb").write(big)
    rc, out = run(["s3cmd", "-c", cfg, "--multipart-chunk-size-mb=5", "put", bsrc, "s3://modes/s3cmd/big"],
                  timeout=120)
    etag = Client("127.0.0.1", srv.port, ROOT_USER, ROOT_PASSWORD).request("HEAD", "/modes/s3cmd/big").headers.get("etag")
    ok(rc == 0 and etag and etag.endswith('-3"'), "s3cmd signature_v2: multipart put (3 parts, %s)" % etag, out[-1500:])
    rc, out = run(["s3cmd", "-c", cfg, "get", "--force", "s3://modes/s3cmd/big", dst], timeout=120)
    ok(rc == 0 and open(dst, "rb").read() == big, "s3cmd signature_v2: multipart get byte-exact", out[-1500:])
    for key in ("s3cmd/sp ace+plus:colon", "s3cmd/ünicøde/文件", "s3cmd/tilde~*'()!$&=,;@"):
        rc, out = run(["s3cmd", "-c", cfg, "put", src, "s3://modes/" + key], timeout=60)
        rc2, out2 = run(["s3cmd", "-c", cfg, "get", "--force", "s3://modes/" + key, dst], timeout=60)
        ok(rc == 0 and rc2 == 0 and open(dst, "rb").read() == data, "s3cmd signature_v2: key %r" % key,
           out[-800:] + out2[-800:])
    rc, out = run(["s3cmd", "-c", cfg, "info", "s3://modes/s3cmd/obj"], timeout=60)
    ok(rc == 0 and "70000" in out, "s3cmd signature_v2: info", out[-1500:])
    rc, out = run(["s3cmd", "-c", cfg, "del", "s3://modes/s3cmd/obj2"], timeout=60)
    ok(rc == 0, "s3cmd signature_v2: del of an absent key", out[-800:])
    # SigV2 presigned GET with response-* overrides (signed sub-resources).
    c = boto3_image(srv.endpoint, "s3")
    url = c.generate_presigned_url("get_object", Params={"Bucket": "modes", "Key": "s3cmd/obj",
                                   "ResponseContentType": "text/x-test", "ResponseContentDisposition":
                                   'attachment; filename="a b.txt"'}, ExpiresIn=300)
    st, body, hd = http_get(url)
    ok(st == 200 and body == data and {k.lower(): v for k, v in hd.items()}.get("content-type") == "text/x-test",
       "presigned SigV2 GET with response-content-type/-disposition overrides", (st, hd, body[:300]))
    c4 = boto3_image(srv.endpoint, "s3v4")
    url = c4.generate_presigned_url("get_object", Params={"Bucket": "modes", "Key": "s3cmd/sp ace+plus:colon",
                                    "ResponseContentType": "text/x-test"}, ExpiresIn=300)
    st, body, hd = http_get(url)
    ok(st == 200 and body == data and {k.lower(): v for k, v in hd.items()}.get("content-type") == "text/x-test",
       "presigned SigV4 GET of an odd key with response-content-type", (st, hd, body[:300]))
    rc, out = run(["s3cmd", "-c", cfg, "signurl", "s3://modes/s3cmd/obj", "+300"], timeout=60)
    url = out.strip().splitlines()[-1] if out.strip() else ""
    st, body, _ = http_get(url) if url.startswith("http") else (None, b"", {})
    ok(rc == 0 and st == 200 and body == data, "s3cmd signurl: GET byte-exact", (rc, out, st))


# -- refusals ------------------------------------------------------------------------
def test_negative(srv, cl):
    r = cl.request("GET", "/modes", secret="not-the-secret-key")
    ok(r.status == 403 and r.code() == "SignatureDoesNotMatch" and b"<StringToSign>AWS4-HMAC-SHA256\n" in r.body,
       "wrong secret -> 403 SignatureDoesNotMatch with StringToSign", repr(r))
    ok(b"<CanonicalRequest>" in r.body, "  ... and CanonicalRequest in the error", repr(r))
    r = cl.request("GET", "/modes", access_key="NOSUCHKEY123")
    ok(r.status == 403 and r.code() == "InvalidAccessKeyId", "unknown key -> 403 InvalidAccessKeyId", repr(r))
    skewed = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 20 * 60))
    r = cl.request("GET", "/modes", amz_date=skewed)
    ok(r.status == 403 and r.code() == "RequestTimeTooSkewed", "signed 20 minutes ago -> 403 RequestTimeTooSkewed",
       repr(r))
    future = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() + 20 * 60))
    r = cl.request("GET", "/modes", amz_date=future)
    ok(r.status == 403 and r.code() == "RequestTimeTooSkewed", "signed 20 minutes ahead -> RequestTimeTooSkewed",
       repr(r))
    r = cl.request("GET", "/modes", region="eu-west-1")
    ok(r.status == 400 and r.code() == "AuthorizationHeaderMalformed" and b"<Region>us-east-1</Region>" in r.body,
       "wrong region -> 400 AuthorizationHeaderMalformed naming us-east-1", repr(r))
    data = b"the real body"
    r = cl.request("PUT", "/modes/neg/sha", body=data, payload_hash=sha256_hex(b"another body"))
    ok(r.status == 400 and r.code() == "XAmzContentSHA256Mismatch",
       "x-amz-content-sha256 mismatch -> 400 XAmzContentSHA256Mismatch", repr(r))
    eq(cl.request("HEAD", "/modes/neg/sha").status, 404, "  ... nothing stored")
    # The same with an existing version: it survives.
    eq(cl.request("PUT", "/modes/neg/sha2", body=b"keep me").status, 200, "version to keep stored")
    r = cl.request("PUT", "/modes/neg/sha2", body=data, payload_hash=sha256_hex(b"x"))
    g = cl.request("GET", "/modes/neg/sha2")
    ok(r.code() == "XAmzContentSHA256Mismatch" and g.body == b"keep me", "  ... failed overwrite keeps the old one",
       (r, g))
    # Unsigned payload over plain HTTP is accepted (rclone does this).
    r = cl.request("PUT", "/modes/neg/unsigned", body=data, payload_hash="UNSIGNED-PAYLOAD")
    g = cl.request("GET", "/modes/neg/unsigned")
    ok(r.status == 200 and g.body == data, "UNSIGNED-PAYLOAD PUT over HTTP accepted", repr(r))
    # SigV2 header works on this server.
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
    hdrs = {"Host": cl.hostport(), "Date": date}
    hdrs["Authorization"] = sigv2_header(ROOT_USER, ROOT_PASSWORD, "GET", "/modes/neg/unsigned", hdrs)
    r = raw_request("127.0.0.1", srv.port, "GET", "/modes/neg/unsigned", hdrs)
    ok(r.status == 200 and r.body == data, "SigV2 header GET (own signer) accepted", repr(r))
    old = {"Host": cl.hostport(), "Date": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() - 1200))}
    old["Authorization"] = sigv2_header(ROOT_USER, ROOT_PASSWORD, "GET", "/modes/neg/unsigned", old)
    r = raw_request("127.0.0.1", srv.port, "GET", "/modes/neg/unsigned", old)
    ok(r.status == 403 and r.code() == "RequestTimeTooSkewed", "SigV2 Date 20 minutes old -> RequestTimeTooSkewed",
       repr(r))
    target = presign_v4(SigV4(ROOT_USER, ROOT_PASSWORD, region="eu-west-1"), "GET", cl.hostport(), "/modes", 60)
    r = raw_request("127.0.0.1", srv.port, "GET", target, {"Host": cl.hostport()})
    ok(r.status == 400 and r.code() == "AuthorizationQueryParametersError" and b"<Region>us-east-1</Region>" in r.body,
       "presigned SigV4 for another region -> 400 AuthorizationQueryParametersError", repr(r))
    hdrs["Authorization"] = sigv2_header(ROOT_USER, "wrong-secret-key", "GET", "/modes/neg/unsigned", hdrs)
    r = raw_request("127.0.0.1", srv.port, "GET", "/modes/neg/unsigned", hdrs)
    ok(r.status == 403 and r.code() == "SignatureDoesNotMatch", "SigV2 wrong secret -> SignatureDoesNotMatch", repr(r))


def test_canonical(srv, cl):
    """Signing corners real clients hit: raw '/' in the query (s3fs), padded
    header values, Expect: 100-continue signed, a hex payload hash with a
    Transfer-Encoding: chunked body."""
    eq(cl.request("PUT", "/modes/canon/a/b", body=b"x").status, 200, "object for listing stored")
    s = SigV4(ROOT_USER, ROOT_PASSWORD)
    target, hdrs, _ = s.sign("GET", cl.hostport(), "/modes", [("list-type", "2"), ("prefix", "canon/a/")])
    raw_target = target.replace("canon%2Fa%2F", "canon/a/")
    r = raw_request("127.0.0.1", srv.port, "GET", raw_target, hdrs)
    ok(r.status == 200 and b"<Key>canon/a/b</Key>" in r.body, "raw '/' in a query value (s3fs) verifies", repr(r))
    r = cl.request("PUT", "/modes/canon/meta", headers={"x-amz-meta-pad": "  a   b  "}, body=b"m")
    ok(r.status == 200, "signed header value with padding and inner space runs", repr(r))
    r = cl.request("PUT", "/modes/canon/expect", headers={"expect": "100-continue"}, body=b"e" * 1000)
    g = cl.request("GET", "/modes/canon/expect")
    ok(r.status == 200 and g.body == b"e" * 1000, "Expect: 100-continue in SignedHeaders", repr(r))
    data = os.urandom(100000)
    target, hdrs, _ = s.sign("PUT", cl.hostport(), "/modes/canon/te", (), {"transfer-encoding": "chunked"},
                             sha256_hex(data))
    pieces = [b"%x\r\n" % len(data[i:i + 30000]) + data[i:i + 30000] + b"\r\n" for i in range(0, len(data), 30000)]
    r = raw_request("127.0.0.1", srv.port, "PUT", target, hdrs, pieces + [b"0\r\n\r\n"])
    g = cl.request("GET", "/modes/canon/te")
    ok(r.status == 200 and g.body == data, "hex payload hash with Transfer-Encoding: chunked", repr(r))
    target, hdrs, _ = s.sign("PUT", cl.hostport(), "/modes/canon/te2", (), {"transfer-encoding": "chunked"},
                             sha256_hex(data + b"!"))
    r = raw_request("127.0.0.1", srv.port, "PUT", target, hdrs, pieces + [b"0\r\n\r\n"])
    ok(r.code() == "XAmzContentSHA256Mismatch", "  ... and a wrong hash over a chunked body is caught", repr(r))
    eq(cl.request("HEAD", "/modes/canon/te2").status, 404, "  ... nothing stored")


def test_sigv2_off(tmp):
    cfg = ('auth = ( { name = "sigv4"; plugin = "auth-sigv4"; sigv2 = 0; } );\n')
    with make_server(Server, drives=1, config=cfg) as s:
        cl = Client("127.0.0.1", s.port, ROOT_USER, ROOT_PASSWORD)
        eq(cl.request("PUT", "/v2off").status, 200, "sigv2=0 server: SigV4 still works")
        eq(cl.request("PUT", "/v2off/k", body=b"data").status, 200, "sigv2=0 server: SigV4 PUT")
        date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
        hdrs = {"Host": cl.hostport(), "Date": date}
        hdrs["Authorization"] = sigv2_header(ROOT_USER, ROOT_PASSWORD, "GET", "/v2off/k", hdrs)
        r = raw_request("127.0.0.1", s.port, "GET", "/v2off/k", hdrs)
        ok(r.status in (400, 403) and r.body != b"data" and r.code() in ("InvalidRequest", "AccessDenied"),
           "sigv2=0: SigV2 header refused (%s %s)" % (r.status, r.code()), repr(r))
        c = boto3_image(s.endpoint, "s3")
        url = c.generate_presigned_url("get_object", Params={"Bucket": "v2off", "Key": "k"})
        st, body, _ = http_get(url)
        ok(st in (400, 403) and body != b"data", "sigv2=0: SigV2 presigned URL refused (%s)" % st, body)
        rc, out = run(["s3cmd", "-c", s3cmd_cfg(s, tmp, v2=True), "ls", "s3://v2off/"], timeout=60)
        ok(rc != 0, "sigv2=0: s3cmd signature_v2 ls fails", out[-500:])
        rc, out = run(["s3cmd", "-c", s3cmd_cfg(s, tmp, v2=False), "ls", "s3://v2off/"], timeout=60)
        ok(rc == 0 and "s3://v2off/k" in out, "sigv2=0: s3cmd with SigV4 works", out[-500:])


# -- HTTPS: image boto3 1.43 and awscli ---------------------------------------------------
def test_https(tmp):
    certs = os.path.join(tmp, "certs")
    crt = make_cert(certs)
    with make_server(Server, drives=4, tls_cert_dir=certs) as s:
        ok(s.endpoint.startswith("https://"), "HTTPS server up (%s)" % s.endpoint)
        c = boto3_image(s.endpoint, verify=crt)
        seen = []
        c.meta.events.register("before-send.s3.*", lambda request, **kw: seen.append(
            (request.method, request.url, {k.lower(): (v.decode() if isinstance(v, bytes) else v)
                                           for k, v in request.headers.items()})))
        c.create_bucket(Bucket="tls")
        data = os.urandom(1024 * 1024 + 7)
        path = os.path.join(tmp, "tls-src")
        open(path, "wb").write(data)
        seen.clear()
        with open(path, "rb") as f:
            c.put_object(Bucket="tls", Key="fileobj", Body=f)
        put_hdrs = seen[-1][2]
        eq(put_hdrs.get("x-amz-content-sha256"), "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
           "boto3 1.43 put_object(file) over HTTPS sends STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        eq(put_hdrs.get("x-amz-trailer"), "x-amz-checksum-crc32", "  ... with a CRC32 trailer announced")
        g = c.get_object(Bucket="tls", Key="fileobj", ChecksumMode="ENABLED")
        ok(g["Body"].read() == data, "boto3 1.43 HTTPS trailer upload byte-exact")
        eq(g.get("ChecksumCRC32"), crc32_b64(data), "  ... trailer CRC32 stored and returned")
        seen.clear()
        c.put_object(Bucket="tls", Key="bytes", Body=b"small bytes body")
        mode = seen[-1][2].get("x-amz-content-sha256")
        ok(mode in ("UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
           "boto3 1.43 put_object(bytes) over HTTPS: unsigned mode (%s)" % mode)
        eq(c.get_object(Bucket="tls", Key="bytes")["Body"].read(), b"small bytes body", "  ... byte-exact")
        # Explicit UNSIGNED-PAYLOAD over HTTPS from our own signer.
        cl = Client("127.0.0.1", s.port, ROOT_USER, ROOT_PASSWORD, tls_ctx=s.tls_ctx)
        r = cl.request("PUT", "/tls/unsigned", body=data[:1000], payload_hash="UNSIGNED-PAYLOAD")
        g = cl.request("GET", "/tls/unsigned")
        ok(r.status == 200 and g.body == data[:1000], "UNSIGNED-PAYLOAD over HTTPS byte-exact", repr(r))
        big = os.urandom(9 * 1024 * 1024 + 1)
        bpath = os.path.join(tmp, "tls-big")
        open(bpath, "wb").write(big)
        seen.clear()
        with open(bpath, "rb") as f:
            c.upload_fileobj(f, "tls", "multi")
        part_modes = {h.get("x-amz-content-sha256") for m, u, h in seen if m == "PUT"}
        tap.ok(True, "# boto3 1.43 upload_fileobj part modes: %s" % part_modes)
        h = c.head_object(Bucket="tls", Key="multi")
        ok(h["ETag"].endswith('-2"'), "boto3 1.43 upload_fileobj over HTTPS: multipart", h["ETag"])
        back = c.get_object(Bucket="tls", Key="multi")["Body"].read()
        ok(hashlib.md5(back).digest() == hashlib.md5(big).digest(), "  ... byte-exact")

        env = s.env()
        for aws, label in (("aws", "image aws-cli v1"), ("/usr/bin/aws", "Debian aws-cli v2")):
            base = [aws, "--endpoint-url", s.endpoint, "--ca-bundle", crt]
            key = "s3://tls/cli/%s" % label.replace(" ", "-")
            rc, out = run(base + ["s3", "cp", path, key], env=env, timeout=120)
            ok(rc == 0, "%s over HTTPS: s3 cp up" % label, out[-1500:])
            dst = os.path.join(tmp, "cli-dst")
            rc, out = run(base + ["s3", "cp", key, dst], env=env, timeout=120)
            ok(rc == 0 and open(dst, "rb").read() == data, "%s over HTTPS: s3 cp down byte-exact" % label, out[-1500:])
            rc, out = run(base + ["s3", "cp", bpath, key + "-big"], env=env, timeout=120)
            ok(rc == 0, "%s over HTTPS: multipart s3 cp" % label, out[-1500:])
            rc, out = run(base + ["s3api", "head-object", "--bucket", "tls", "--key", key[9:] + "-big"],
                          env=env, timeout=60)
            ok(rc == 0 and str(len(big)) in out, "%s over HTTPS: head-object size" % label, out[-1500:])
            rc, out = run([aws, "--endpoint-url", s.endpoint, "s3", "ls", "s3://tls/"], env=env, timeout=60)
            ok(rc != 0, "%s without --ca-bundle refuses the self-signed cert" % label, out[-500:])


def main():
    tmp = tempfile.mkdtemp(prefix="cairn-authmodes-")
    with make_server(Server, drives=4) as srv:
        cl = Client("127.0.0.1", srv.port, ROOT_USER, ROOT_PASSWORD)
        eq(cl.request("PUT", "/modes").status, 200, "bucket created with our own SigV4 signer")
        for name, fn in (("debian boto3", lambda: test_debian_boto3(srv, tmp)),
                         ("js", lambda: test_js(srv)),
                         ("signed chunked", lambda: test_signed_chunked(srv, cl)),
                         ("more modes", lambda: test_more_modes(srv, cl)),
                         ("presigned", lambda: test_presigned(srv)),
                         ("s3cmd", lambda: test_s3cmd(srv, tmp)),
                         ("negative", lambda: test_negative(srv, cl)),
                         ("canonical", lambda: test_canonical(srv, cl))):
            t0 = time.time()
            try:
                fn()
            except Exception as e:  # a crashing section fails, the others still run
                import traceback
                ok(False, "%s section ran to the end" % name, traceback.format_exc())
            print("# %s: %.1fs" % (name, time.time() - t0), flush=True)
    for name, fn in (("sigv2 off", lambda: test_sigv2_off(tmp)), ("https", lambda: test_https(tmp))):
        t0 = time.time()
        try:
            fn()
        except Exception:
            import traceback
            ok(False, "%s section ran to the end" % name, traceback.format_exc())
        print("# %s: %.1fs" % (name, time.time() - t0), flush=True)
    import shutil
    shutil.rmtree(tmp, ignore_errors=True)
    tap.done()


if __name__ == "__main__":
    main()
