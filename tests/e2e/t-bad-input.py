#!/usr/bin/env python3
"""Bad input end to end: malformed HTTP over raw sockets and signed S3
requests with bad keys, names, bodies, digests and ranges.  After each case the
server must answer the right error and stay healthy; at the end it must exit 0
on SIGTERM with no sanitizer report.  Signed requests are signed with
botocore's S3SigV4Auth and sent raw, so nothing "fixes" them on the way."""
import base64
import hashlib
import os
import socket
import threading
import time
import zlib

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cairn_test import REGION, ROOT_PASSWORD, ROOT_USER, Server, tap

# Small limits and timeouts so the slow-client cases finish quickly.
CONFIG = """
max_header_bytes = 16384;
max_url_bytes = 8192;
max_headers = 100;
read_timeout = 2;
idle_timeout = 3;
"""
CREDS = Credentials(ROOT_USER, ROOT_PASSWORD)
BUCKET = "bad-input"


def connect(srv, timeout=10):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
    return s


def read_response(s, head_only=False):
    """Reads one response: (status, headers dict, body bytes); status 0 on EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            chunk = b""
        if not chunk:
            break
        data += chunk
    if b"\r\n\r\n" not in data:
        return 0, {}, data
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if head_only:
        return status, headers, b""
    n = int(headers.get("content-length", "0") or 0)
    while len(rest) < n:
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:n]


def raw(srv, data, timeout=10):
    """Sends raw bytes on a fresh connection and reads one response."""
    s = connect(srv, timeout)
    try:
        s.sendall(data)
        return read_response(s)
    except (BrokenPipeError, ConnectionResetError):
        return 0, {}, b""
    finally:
        s.close()


def sign(srv, method, path, query="", headers=None, body=b""):
    """Returns the signed request's head (bytes, ending in CRLF CRLF)."""
    url = srv.endpoint + path + ("?" + query if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    S3SigV4Auth(CREDS, "s3", REGION).add_auth(req)
    target = path + ("?" + query if query else "")
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: 127.0.0.1:%d" % srv.port]
    for k, v in req.headers.items():
        if k.lower() != "host":
            lines.append("%s: %s" % (k, v))
    if body or method in ("PUT", "POST"):
        if "content-length" not in {k.lower() for k in req.headers.keys()}:
            lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def s3(srv, method, path, query="", headers=None, body=b""):
    """A signed request sent raw: (status, headers, body)."""
    return raw(srv, sign(srv, method, path, query, headers, body) + body)


def code_of(body):
    b = body.decode("utf-8", "replace")
    i = b.find("<Code>")
    return b[i + 6:b.find("</Code>")] if i >= 0 else None


def expect(srv, resp, status, code, name):
    st, _, body = resp
    tap.ok(st == status and (code is None or code_of(body) == code),
           "%s: %s %s" % (name, status, code or ""),
           "got %s %s: %r" % (st, code_of(body), body[:300]))
    tap.ok(srv.health(), "%s: server still healthy" % name)


def exists(srv, key):
    return s3(srv, "HEAD", "/%s/%s" % (BUCKET, key))[0] == 200


def files_outside(root, names):
    """Paths under `root` whose basename is in `names`."""
    hits = []
    for d, _, files in os.walk(root):
        for f in files:
            if f in names:
                hits.append(os.path.join(d, f))
    return hits


with Server(drives=4, config=CONFIG) as srv:
    st, _, _ = s3(srv, "PUT", "/" + BUCKET)
    tap.eq(st, 200, "bucket created")

    # ---- malformed HTTP --------------------------------------------------
    st, _, _ = raw(srv, b"GARBAGE\r\n\r\n")
    tap.ok(st in (0, 400), "malformed request line refused (400 or closed)", st)
    tap.ok(srv.health(), "malformed request line: server healthy")
    st, _, _ = raw(srv, b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n")
    tap.ok(st in (0, 400), "request line with 4 parts refused", st)
    st, _, _ = raw(srv, b"GET /minio/health/live HTTP/1.1\nHost: x\n\n")
    tap.ok(st in (0, 200, 400), "bare LF head: answered or refused cleanly", st)
    tap.ok(srv.health(), "bare LF: server healthy")
    st, _, _ = raw(srv, b"PUT /%s/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n" % BUCKET.encode())
    tap.ok(st in (0, 400, 403), "invalid chunked framing refused", st)
    tap.ok(srv.health(), "invalid chunked framing: server healthy")
    st, _, _ = raw(srv, b"PUT /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n")
    tap.ok(st in (0, 400, 403), "chunked together with Content-Length refused", st)
    big_head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (100 * 1024) + b"\r\n\r\n"
    st, _, _ = raw(srv, big_head)
    tap.ok(st in (400, 431), "100 KB head: 431 or 400", st)
    tap.ok(srv.health(), "100 KB head: server healthy")
    st, _, _ = raw(srv, b"GET /" + b"u" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    tap.eq(st, 414, "20 KB URL: 414")
    tap.ok(srv.health(), "20 KB URL: server healthy")
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(1000))
    st, _, _ = raw(srv, b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    tap.ok(st in (400, 431), "1000 headers: 431 or 400", st)
    tap.ok(srv.health(), "1000 headers: server healthy")

    # Content-Length larger than the body, then a disconnect.
    head = sign(srv, "PUT", "/%s/short-body" % BUCKET, headers={"Content-Length": "1000",
                "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    s = connect(srv)
    s.sendall(head + b"x" * 100)
    s.close()
    time.sleep(0.5)
    tap.ok(srv.health(), "short body then disconnect: server healthy")
    tap.ok(not exists(srv, "short-body"), "short body then disconnect: nothing visible")

    # A 10 MB PUT cut off mid-body leaves the earlier version intact.
    st, _, _ = s3(srv, "PUT", "/%s/cut" % BUCKET, body=b"first version")
    tap.eq(st, 200, "earlier version stored")
    size = 10 * 1024 * 1024
    head = sign(srv, "PUT", "/%s/cut" % BUCKET, headers={"Content-Length": str(size),
                "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    s = connect(srv)
    s.sendall(head)
    chunk = b"z" * 65536
    for _ in range(size // 2 // len(chunk)):
        s.sendall(chunk)
    s.close()
    time.sleep(1)
    st, _, body = s3(srv, "GET", "/%s/cut" % BUCKET)
    tap.ok(st == 200 and body == b"first version", "10 MB PUT cut mid-body: earlier version intact",
           "%s %r" % (st, body[:80]))
    tap.ok(srv.health(), "10 MB PUT cut mid-body: server healthy")

    # 200 connections that send nothing, then a normal request succeeds.
    idle = []
    for _ in range(200):
        try:
            idle.append(connect(srv))
        except OSError:
            break
    tap.eq(len(idle), 200, "200 silent connections opened")
    tap.ok(srv.health(), "server answers while 200 silent connections are open")
    time.sleep(4)  # past idle_timeout / read_timeout
    closed = 0
    for c in idle:
        c.settimeout(0.5)
        try:
            if c.recv(1) == b"":
                closed += 1
        except socket.timeout:
            pass
        except OSError:
            closed += 1
        c.close()
    tap.eq(closed, 200, "silent connections closed by the server's timeout")

    # Slowloris: one header byte per second.  read_timeout bounds silence, not
    # a whole head, so the server closes only if it also limits the head time.
    s = connect(srv, timeout=2)
    msg = b"GET /minio/health/live HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
    start = time.time()
    closed_after = None
    for b in msg:
        try:
            s.sendall(bytes([b]))
        except OSError:
            closed_after = time.time() - start
            break
        s.settimeout(1.0)
        try:
            if s.recv(4096) == b"":
                closed_after = time.time() - start
                break
        except socket.timeout:
            pass
        except OSError:
            closed_after = time.time() - start
            break
        if time.time() - start > 12:
            break
    s.close()
    tap.ok(closed_after is not None, "slowloris (1 byte/s) closed by the server within 12 s")
    tap.ok(srv.health(), "slowloris: server healthy")

    # ---- keys and bucket names ------------------------------------------
    parent = os.path.dirname(srv.dir)
    for key in ("../x", "a/../b", "./x"):
        expect(srv, s3(srv, "PUT", "/%s/%s" % (BUCKET, key), body=b"escape-attempt"),
               400, "InvalidArgument", "key %r" % key)
    hits = [h for h in files_outside(parent, {"x", "b"}) if not h.startswith(srv.dir)]
    hits = [h for h in hits if open(h, "rb").read(64).startswith(b"escape-attempt")]
    tap.ok(not hits, "no file written outside the drives", hits)
    expect(srv, s3(srv, "PUT", "/%s/%s" % (BUCKET, "k" * 1025), body=b"x"),
           400, "KeyTooLongError", "1025-byte key")
    st, _, _ = s3(srv, "PUT", "/%s/%s" % (BUCKET, "k" * 1024), body=b"x")
    tap.eq(st, 200, "1024-byte key accepted")
    for name in ("ab", "UPPER", "a..b", "192.168.1.1", "-start", "end-", "x" * 64, "under_score"):
        expect(srv, s3(srv, "PUT", "/" + name), 400, "InvalidBucketName", "bucket name %r" % name)

    # ---- malformed XML bodies ------------------------------------------
    def md5h(b):
        return {"Content-MD5": base64.b64encode(hashlib.md5(b).digest()).decode()}
    bad_xml = b"<Delete><Object><Key>a</Key></Object"
    expect(srv, s3(srv, "POST", "/" + BUCKET, "delete", md5h(bad_xml), bad_xml),
           400, "MalformedXML", "DeleteObjects malformed")
    st, _, body = s3(srv, "POST", "/%s/mpu" % BUCKET, "uploads")
    b = body.decode()
    upload = b[b.find("<UploadId>") + 10:b.find("</UploadId>")] if st == 200 else "none"
    tap.eq(st, 200, "multipart upload created")
    expect(srv, s3(srv, "POST", "/%s/mpu" % BUCKET, "uploadId=" + upload, body=b"<CompleteMultipartUpload><Part>"),
           400, "MalformedXML", "CompleteMultipartUpload malformed")
    s3(srv, "DELETE", "/%s/mpu" % BUCKET, "uploadId=" + upload)
    expect(srv, s3(srv, "PUT", "/" + BUCKET, "versioning", body=b"<VersioningConfiguration><Status>"),
           400, "MalformedXML", "PutBucketVersioning malformed")
    expect(srv, s3(srv, "PUT", "/%s/cut" % BUCKET, "tagging", md5h(b"<Tagging><TagSet>"), b"<Tagging><TagSet>"),
           400, "MalformedXML", "PutObjectTagging malformed")

    # ---- ranges -------------------------------------------------------
    s3(srv, "PUT", "/%s/ten" % BUCKET, body=b"0123456789")
    for rng in ("bytes=5-1", "bytes=abc", "items=0-1", "bytes=0-1,3-4"):
        st, _, body = s3(srv, "GET", "/%s/ten" % BUCKET, headers={"Range": rng})
        tap.ok(st == 200 and body == b"0123456789", "Range %r ignored: 200 full body" % rng, (st, body[:80]))
    st, _, body = s3(srv, "GET", "/%s/ten" % BUCKET, headers={"Range": "bytes=2-4"})
    tap.ok(st == 206 and body == b"234", "Range bytes=2-4: 206", (st, body))
    st, _, body = s3(srv, "GET", "/%s/ten" % BUCKET, headers={"Range": "bytes=20-"})
    tap.ok(st == 416 and code_of(body) == "InvalidRange", "Range past the end: 416 InvalidRange", (st, body[:200]))

    # ---- digests -------------------------------------------------------
    expect(srv, s3(srv, "PUT", "/%s/md5-bad" % BUCKET, headers={"Content-MD5": "not base64!"}, body=b"data"),
           400, "InvalidDigest", "Content-MD5 not base64")
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    expect(srv, s3(srv, "PUT", "/%s/md5-wrong" % BUCKET, headers={"Content-MD5": wrong}, body=b"data"),
           400, "BadDigest", "Content-MD5 wrong")
    tap.ok(not exists(srv, "md5-wrong"), "Content-MD5 wrong: nothing stored")
    crc = base64.b64encode((zlib.crc32(b"other") & 0xffffffff).to_bytes(4, "big")).decode()
    expect(srv, s3(srv, "PUT", "/%s/crc-wrong" % BUCKET, headers={"x-amz-checksum-crc32": crc}, body=b"data"),
           400, "BadDigest", "x-amz-checksum-crc32 wrong")
    tap.ok(not exists(srv, "crc-wrong"), "x-amz-checksum-crc32 wrong: nothing stored")

    # ---- unknown sub-resource -----------------------------------------
    # A sub-resource cairn does not implement gets 501; a query parameter S3
    # does not know at all is ignored (a plain listing), as S3 does.
    web = b"<WebsiteConfiguration><IndexDocument><Suffix>i.html</Suffix></IndexDocument></WebsiteConfiguration>"
    expect(srv, s3(srv, "PUT", "/" + BUCKET, "website", md5h(web), web), 501, "NotImplemented",
           "PUT ?website (not implemented)")
    expect(srv, s3(srv, "POST", "/%s/ten" % BUCKET, "restore", body=b"<RestoreRequest><Days>1</Days></RestoreRequest>"), 501, "NotImplemented",
           "POST object ?restore (not implemented)")
    st, _, body = s3(srv, "GET", "/" + BUCKET, "nosuchparameter")
    tap.ok(st == 200 and b"<ListBucketResult" in body, "unknown query parameter ignored: listing", st)

    tap.ok(srv.health(), "server healthy after all bad input")
tap.done()
