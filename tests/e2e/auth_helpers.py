"""auth_helpers -- a small independent S3 signer for end-to-end tests of the
auth plugin: SigV4 header signing, aws-chunked bodies with chained chunk
signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD and its -TRAILER variant),
SigV2 header signing, a raw-socket HTTP client that sends bytes exactly as
given, a logging TCP proxy, and a self-signed certificate maker.

Written from AWS's "Signature Version 4" and "Transferring payload in
multiple chunks" documentation, not from the server's code, so the two can
disagree only if one of them misreads the spec.
"""
import base64
import binascii
import datetime
import hashlib
import hmac
import http.client
import os
import re
import socket
import ssl
import subprocess
import threading
import urllib.parse

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def _hmac(key, msg):
    return hmac.new(key, msg.encode() if isinstance(msg, str) else msg, hashlib.sha256).digest()


def amz_now(offset_seconds=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_seconds)
    return t.strftime("%Y%m%dT%H%M%SZ")


def signing_key(secret, date, region, service="s3"):
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def _uri_encode(s, keep_slash):
    return urllib.parse.quote(s, safe="/~" if keep_slash else "~")


class SigV4:
    """Signs one request; `sign` returns the headers to send (with Authorization)."""

    def __init__(self, access_key, secret, region="us-east-1", amz_date=None):
        self.access_key = access_key
        self.secret = secret
        self.region = region
        self.amz_date = amz_date or amz_now()
        self.date = self.amz_date[:8]
        self.scope = "%s/%s/s3/aws4_request" % (self.date, region)
        self.key = signing_key(secret, self.date, region)

    def sign(self, method, host, path, query=(), headers=None, payload_hash=EMPTY_SHA256):
        """`path` is the unencoded key path (/bucket/key); `query` a list of
        (name, value) pairs.  Returns (request target, headers dict, seed signature)."""
        hdrs = {"host": host, "x-amz-date": self.amz_date, "x-amz-content-sha256": payload_hash}
        for k, v in (headers or {}).items():
            hdrs[k.lower()] = str(v)
        canon_uri = _uri_encode(path, True)
        pairs = sorted((_uri_encode(k, False), _uri_encode(v, False)) for k, v in query)
        canon_query = "&".join("%s=%s" % p for p in pairs)
        names = sorted(hdrs)
        canon_headers = "".join("%s:%s\n" % (n, " ".join(hdrs[n].split())) for n in names)
        signed = ";".join(names)
        creq = "\n".join([method, canon_uri, canon_query, canon_headers, signed, payload_hash])
        sts = "\n".join(["AWS4-HMAC-SHA256", self.amz_date, self.scope, sha256_hex(creq.encode())])
        sig = hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()
        hdrs["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
            self.access_key, self.scope, signed, sig)
        target = canon_uri + ("?" + canon_query if canon_query else "")
        return target, hdrs, sig

    def chunk_signature(self, prev_sig, data):
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", self.amz_date, self.scope, prev_sig,
                         EMPTY_SHA256, sha256_hex(data)])
        return hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()

    def trailer_signature(self, prev_sig, trailer_lines):
        canon = "".join("%s:%s\n" % (n, v) for n, v in trailer_lines).encode()
        sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", self.amz_date, self.scope, prev_sig, sha256_hex(canon)])
        return hmac.new(self.key, sts.encode(), hashlib.sha256).hexdigest()


def crc32_b64(data):
    return base64.b64encode((binascii.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")).decode()


def signed_chunked_body(signer, seed_sig, data, chunk_size, trailers=None):
    """The aws-chunked encoding of `data` with chained chunk signatures; with
    `trailers` (list of (name, value)) also the trailer lines and
    x-amz-trailer-signature.  Returns (body bytes, list of chunk signatures)."""
    out = []
    sigs = []
    prev = seed_sig
    chunks = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
    for c in chunks:
        prev = signer.chunk_signature(prev, c)
        sigs.append(prev)
        out.append(b"%x;chunk-signature=%s\r\n" % (len(c), prev.encode()))
        if c:
            out.append(c + b"\r\n")
    if trailers is None:
        out.append(b"\r\n")
    else:
        for n, v in trailers:
            out.append(("%s:%s\r\n" % (n, v)).encode())
        out.append(("x-amz-trailer-signature:%s\r\n\r\n" % signer.trailer_signature(prev, trailers)).encode())
    return b"".join(out), sigs


def sigv2_header(access_key, secret, method, resource, headers):
    """`Authorization: AWS ak:sig` for `resource` (/bucket/key[?subresource])."""
    lower = {k.lower(): v for k, v in headers.items()}
    amz = sorted((k, " ".join(str(v).split())) for k, v in lower.items() if k.startswith("x-amz-"))
    sts = "\n".join([method, lower.get("content-md5", ""), lower.get("content-type", ""),
                     "" if "x-amz-date" in lower else lower.get("date", "")])
    sts += "\n" + "".join("%s:%s\n" % kv for kv in amz) + resource
    sig = base64.b64encode(hmac.new(secret.encode(), sts.encode(), hashlib.sha1).digest()).decode()
    return "AWS %s:%s" % (access_key, sig)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def code(self):
        m = re.search(rb"<Code>([^<]*)</Code>", self.body)
        return m.group(1).decode() if m else None

    def __repr__(self):
        return "<%d %r %r>" % (self.status, self.headers, self.body[:600])


def raw_request(host, port, method, target, headers, body=b"", tls_ctx=None, timeout=30,
                server_hostname=None):
    """Sends exactly `headers` and `body` (bytes, or a list of byte pieces sent
    one by one) and returns a Response.  Adds nothing, not even Host."""
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # pieces stay separate writes
    if tls_ctx is not None:
        sock = tls_ctx.wrap_socket(sock, server_hostname=server_hostname or host)
    try:
        head = "%s %s HTTP/1.1\r\n" % (method, target)
        head += "".join("%s: %s\r\n" % (k, v) for k, v in headers.items())
        head += "Connection: close\r\n\r\n"
        sock.sendall(head.encode())
        pieces = body if isinstance(body, list) else [body]
        for p in pieces:
            if p:
                sock.sendall(p)
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        data = resp.read()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        sock.close()


class Client:
    """Signs and sends requests to one server with SigV4 (header auth)."""

    def __init__(self, host, port, access_key, secret, region="us-east-1", tls_ctx=None):
        self.host, self.port = host, port
        self.access_key, self.secret, self.region = access_key, secret, region
        self.tls_ctx = tls_ctx

    def hostport(self):
        return "%s:%d" % (self.host, self.port)

    def request(self, method, path, query=(), headers=None, body=b"", payload_hash=None,
                amz_date=None, secret=None, region=None, access_key=None):
        s = SigV4(access_key or self.access_key, secret or self.secret, region or self.region, amz_date)
        hdrs = dict(headers or {})
        if method in ("PUT", "POST") and not any(k.lower() == "content-length" for k in hdrs):
            hdrs["content-length"] = str(len(body))
        ph = payload_hash if payload_hash is not None else sha256_hex(body)
        target, signed, _ = s.sign(method, self.hostport(), path, query, hdrs, ph)
        return raw_request(self.host, self.port, method, target, signed, body, self.tls_ctx)

    def put_signed_chunked(self, path, data, chunk_size, trailers=None, tamper=None, headers=None):
        """PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]; `tamper(body)`
        may return a modified body before it is sent."""
        s = SigV4(self.access_key, self.secret, self.region)
        mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailers is not None else "")
        # The encoded length depends only on sizes, so compute it with a dummy seed first.
        probe, _ = signed_chunked_body(s, "0" * 64, data, chunk_size, trailers)
        hdrs = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
                "content-length": str(len(probe))}
        if trailers is not None:
            hdrs["x-amz-trailer"] = ",".join(n for n, _ in trailers)
        hdrs.update(headers or {})
        target, signed, seed = s.sign("PUT", self.hostport(), path, (), hdrs, mode)
        body, _ = signed_chunked_body(s, seed, data, chunk_size, trailers)
        assert len(body) == len(probe)
        if tamper:
            body = tamper(body)
        return raw_request(self.host, self.port, "PUT", target, signed, body, self.tls_ctx)


class LoggingProxy:
    """A TCP proxy on 127.0.0.1:`port` to `target_port` that records every
    byte clients send (self.sent) so tests can see what an SDK put on the wire."""

    def __init__(self, port, target_port):
        self.sent = bytearray()
        self.lock = threading.Lock()
        self.target_port = target_port
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", port))
        self.lsock.listen(16)
        self.port = port
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pump, args=(c, u, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c, False), daemon=True).start()

    def _pump(self, src, dst, record):
        try:
            while True:
                d = src.recv(65536)
                if not d:
                    break
                if record:
                    with self.lock:
                        self.sent += d
                dst.sendall(d)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self):
        self.closed = True
        self.lsock.close()


def make_cert(folder):
    """A self-signed certificate for CN=127.0.0.1 (SAN IP:127.0.0.1,
    DNS:localhost) as folder/public.crt + folder/private.key; returns the cert path."""
    os.makedirs(folder, exist_ok=True)
    crt, key = os.path.join(folder, "public.crt"), os.path.join(folder, "private.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", key, "-out", crt, "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-addext", "basicConstraints=critical,CA:TRUE"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return crt


def port_in_range(lo=20100, hi=20199):
    """A free port from this test suite's range (20100-20199)."""
    import random
    cands = list(range(lo, hi + 1))
    random.shuffle(cands)
    for p in cands:
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port in %d-%d" % (lo, hi))


def make_server(cls_server, tls_cert_dir=None, **kw):
    """A cairn_test.Server on a port from our range; with `tls_cert_dir` it is
    started with --certs-dir and probed over HTTPS."""
    args = list(kw.pop("args", ()))
    if tls_cert_dir:
        args += ["--certs-dir", tls_cert_dir]
    srv = cls_server(args=args, **kw)
    srv.port = port_in_range()
    scheme = "https" if tls_cert_dir else "http"
    srv.endpoint = "%s://127.0.0.1:%d" % (scheme, srv.port)
    if tls_cert_dir:
        ctx = ssl.create_default_context(cafile=os.path.join(tls_cert_dir, "public.crt"))
        srv.tls_ctx = ctx

        def health(path="/minio/health/live"):
            import urllib.request
            try:
                with urllib.request.urlopen(srv.endpoint + path, timeout=2, context=ctx) as r:
                    return r.status == 200
            except Exception:
                return False
        srv.health = health
    else:
        srv.tls_ctx = None
    return srv


def presign_v4(signer, method, host, path, expires, extra_query=()):
    """A SigV4 presigned request target (UNSIGNED-PAYLOAD, only host signed)
    dated signer.amz_date, so tests can make URLs from the past or future."""
    q = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
         ("X-Amz-Credential", "%s/%s" % (signer.access_key, signer.scope)),
         ("X-Amz-Date", signer.amz_date), ("X-Amz-Expires", str(expires)),
         ("X-Amz-SignedHeaders", "host")] + list(extra_query)
    canon_q = "&".join("%s=%s" % p for p in sorted((_uri_encode(k, False), _uri_encode(v, False)) for k, v in q))
    canon_uri = _uri_encode(path, True)
    creq = "\n".join([method, canon_uri, canon_q, "host:%s\n" % host, "host", "UNSIGNED-PAYLOAD"])
    sts = "\n".join(["AWS4-HMAC-SHA256", signer.amz_date, signer.scope, sha256_hex(creq.encode())])
    sig = hmac.new(signer.key, sts.encode(), hashlib.sha256).hexdigest()
    return "%s?%s&X-Amz-Signature=%s" % (canon_uri, canon_q, sig)
