#!/usr/bin/env python3
"""HTTPS from a certs folder (public.crt + private.key), as docs/configuration.md
describes: with certificates the address serves HTTPS only.  Real clients
(boto3 with verify=<cert>, both awscli versions with --ca-bundle), the health
endpoint over HTTPS, and hostile or confused clients (plain HTTP to the TLS
port, wrong or no SNI, untrusting clients, garbage, a half ClientHello, a
silent connection) that must be closed cleanly without crashing or hanging
the server.  Then HTTP and HTTPS side by side: with --tls-address the address
serves plain HTTP and the tls_address HTTPS (boto3 on both), and the
misconfigurations (tls_address without certificates, equal to address) are
refused at startup.
"""
import concurrent.futures
import hashlib
import os
import shutil
import socket
import ssl
import tempfile
import time
import urllib.request

from auth_helpers import Client, make_cert, make_server, port_in_range
from cairn_test import REGION, ROOT_PASSWORD, ROOT_USER, Server, run, tap

ok, eq = tap.ok, tap.eq


def read_until_close(sock, limit=10.0):
    """Reads until EOF/reset or `limit` seconds; returns (bytes, seconds, closed)."""
    sock.settimeout(limit)
    t0 = time.time()
    data = b""
    try:
        while True:
            d = sock.recv(65536)
            if not d:
                return data, time.time() - t0, True
            data += d
    except (ConnectionResetError, ssl.SSLError, ssl.SSLEOFError):
        return data, time.time() - t0, True
    except socket.timeout:
        return data, time.time() - t0, False


def side_by_side(certs, crt):
    """--tls-address: plain HTTP on the address, HTTPS on tls_address."""
    import boto3
    from botocore.config import Config
    tls_port = port_in_range(20600, 20699)
    s = make_server(Server, drives=4, args=["--certs-dir", certs,
                                            "--tls-address", "127.0.0.1:%d" % tls_port])
    s.port = port_in_range(20600, 20699)
    while s.port == tls_port:
        s.port = port_in_range(20600, 20699)
    s.endpoint = "http://127.0.0.1:%d" % s.port
    with s:
        https = "https://127.0.0.1:%d" % tls_port
        ok("http://127.0.0.1:%d" % s.port in s.read_log() and https in s.read_log(),
           "banner names both endpoints")
        cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
        plain = boto3.client("s3", endpoint_url=s.endpoint, aws_access_key_id=ROOT_USER,
                             aws_secret_access_key=ROOT_PASSWORD, region_name=REGION, config=cfg)
        secure = boto3.client("s3", endpoint_url=https, aws_access_key_id=ROOT_USER,
                              aws_secret_access_key=ROOT_PASSWORD, region_name=REGION, verify=crt,
                              config=cfg)
        plain.create_bucket(Bucket="both")
        data = os.urandom(1024 * 1024 + 5)
        plain.put_object(Bucket="both", Key="via-http", Body=data)
        secure.put_object(Bucket="both", Key="via-https", Body=data[::-1])
        eq(secure.get_object(Bucket="both", Key="via-http")["Body"].read(), data,
           "tls_address: boto3 over HTTPS reads what boto3 over HTTP wrote")
        eq(plain.get_object(Bucket="both", Key="via-https")["Body"].read(), data[::-1],
           "address: boto3 over plain HTTP reads what boto3 over HTTPS wrote")
        keys = [o["Key"] for o in secure.list_objects_v2(Bucket="both").get("Contents", [])]
        eq(keys, ["via-http", "via-https"], "listing over HTTPS")
        ctx = ssl.create_default_context(cafile=crt)
        with socket.create_connection(("127.0.0.1", s.port)) as raw:
            try:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1"):
                    tls_on_plain = True
            except (ssl.SSLError, OSError):
                tls_on_plain = False
        ok(not tls_on_plain, "the plain address does not speak TLS")
        with socket.create_connection(("127.0.0.1", tls_port), timeout=10) as sock:
            sock.sendall(b"GET /minio/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            got, _, closed = read_until_close(sock)
        ok(closed and b"200 OK" not in got, "plain HTTP to the tls_address gets no answer")
        ok(s.health(), "server healthy")

    for args, why in (([], "without certificates"),
                      (["--certs-dir", certs], "equal to the address")):
        bad = Server(drives=1)
        bad.port = port_in_range(20600, 20699)
        tls_addr = "127.0.0.1:%d" % (bad.port if args else port_in_range(20600, 20699))
        bad.args = args + ["--tls-address", tls_addr]
        try:
            bad.start(timeout=15)
            ok(False, "tls_address %s is refused at startup" % why)
            bad.stop()
        except RuntimeError as e:
            ok("tls_address" in str(e), "tls_address %s is refused at startup" % why, str(e)[-300:])
        shutil.rmtree(bad.dir, ignore_errors=True)


def main():
    tmp = tempfile.mkdtemp(prefix="cairn-tls-")
    certs = os.path.join(tmp, "certs")
    crt = make_cert(certs)
    # Short timeouts so that a silent connection is seen to be closed.
    with make_server(Server, drives=4, tls_cert_dir=certs, args=["--read-timeout", "3", "--idle-timeout", "3"]) as s:
        ctx = s.tls_ctx
        host, port = "127.0.0.1", s.port

        def healthy():
            return s.health() and s.proc.poll() is None

        ok(s.endpoint.startswith("https://"), "server started with --certs-dir (%s)" % s.endpoint)
        for path in ("/minio/health/live", "/minio/health/ready"):
            with urllib.request.urlopen(s.endpoint + path, timeout=5, context=ctx) as r:
                eq(r.status, 200, "GET %s over HTTPS" % path)
        with socket.create_connection((host, port)) as raw, ctx.wrap_socket(raw, server_hostname=host) as t:
            cert = t.getpeercert()
            ok(("IP Address", "127.0.0.1") in cert.get("subjectAltName", ()), "server presents public.crt",
               cert)
            ok(t.version() in ("TLSv1.2", "TLSv1.3"), "TLS version %s" % t.version())

        # -- boto3 with verify=<cert> --------------------------------------
        import boto3
        from botocore.config import Config
        c = boto3.client("s3", endpoint_url=s.endpoint, aws_access_key_id=ROOT_USER,
                         aws_secret_access_key=ROOT_PASSWORD, region_name=REGION, verify=crt,
                         config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
        c.create_bucket(Bucket="tls")
        data = os.urandom(2 * 1024 * 1024 + 11)
        c.put_object(Bucket="tls", Key="dir/obj", Body=data)
        eq(c.get_object(Bucket="tls", Key="dir/obj")["Body"].read(), data, "boto3 verify=cert: put/get byte-exact")
        r = c.get_object(Bucket="tls", Key="dir/obj", Range="bytes=1000-1999")
        eq(r["Body"].read(), data[1000:2000], "boto3 over HTTPS: ranged get")
        keys = [o["Key"] for o in c.list_objects_v2(Bucket="tls").get("Contents", [])]
        eq(keys, ["dir/obj"], "boto3 over HTTPS: list")
        try:
            boto3.client("s3", endpoint_url=s.endpoint, aws_access_key_id=ROOT_USER,
                         aws_secret_access_key=ROOT_PASSWORD, region_name=REGION,
                         config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
                         ).list_buckets()
            ok(False, "boto3 without the cert refuses the self-signed server")
        except Exception as e:
            ok("SSL" in type(e).__name__ or "certificate" in str(e).lower(),
               "boto3 without the cert refuses the self-signed server", repr(e))

        # -- awscli -----------------------------------------------------------
        env = s.env()
        src = os.path.join(tmp, "src")
        open(src, "wb").write(data)
        for aws, label in (("aws", "image aws-cli v1"), ("/usr/bin/aws", "Debian aws-cli v2")):
            base = [aws, "--endpoint-url", s.endpoint, "--ca-bundle", crt]
            rc, out = run(base + ["s3", "cp", src, "s3://tls/cli/%s" % label[:5]], env=env, timeout=120)
            ok(rc == 0, "%s: s3 cp up over HTTPS" % label, out[-1500:])
            dst = os.path.join(tmp, "dst")
            rc, out = run(base + ["s3", "cp", "s3://tls/cli/%s" % label[:5], dst], env=env, timeout=120)
            ok(rc == 0 and open(dst, "rb").read() == data, "%s: s3 cp down byte-exact" % label, out[-1500:])
            rc, out = run(base + ["s3", "ls", "s3://tls/cli/"], env=env, timeout=60)
            ok(rc == 0 and label[:5] in out, "%s: s3 ls" % label, out[-1500:])

        # -- parallel HTTPS requests -----------------------------------------------
        cl = Client(host, port, ROOT_USER, ROOT_PASSWORD, tls_ctx=ctx)

        def one(i):
            r = cl.request("GET", "/tls/dir/obj")
            return r.status == 200 and hashlib.md5(r.body).digest() == hashlib.md5(data).digest()
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            results = list(ex.map(one, range(48)))
        eq(sum(results), 48, "48 GETs over 16 parallel TLS connections byte-exact")

        # -- clients that get it wrong -----------------------------------------------
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(b"GET /minio/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            got, secs, closed = read_until_close(sock)
        ok(closed and not got.startswith(b"HTTP/1.1 200"),
           "plain HTTP to the HTTPS port: not served, connection closed (%.1fs, %d bytes back)" % (secs, len(got)),
           got[:200])
        ok(healthy(), "  ... server still healthy")
        try:
            with urllib.request.urlopen("http://%s:%d/minio/health/live" % (host, port), timeout=10) as r:
                ok(False, "urllib plain HTTP to the HTTPS port fails", r.status)
        except Exception as e:
            ok(True, "urllib plain HTTP to the HTTPS port fails (%s)" % type(e).__name__)

        lax = ssl.create_default_context()
        lax.check_hostname = False
        lax.verify_mode = ssl.CERT_NONE
        for sni in ("wrong.example.com", None):
            try:
                with socket.create_connection((host, port), timeout=10) as raw, \
                        lax.wrap_socket(raw, server_hostname=sni) as t:
                    t.sendall(b"GET /minio/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    got, secs, closed = read_until_close(t)
                ok(closed and got.startswith(b"HTTP/1.1 200"),
                   "TLS with SNI %r: served (one certificate), closed after Connection: close" % sni, got[:200])
            except (ssl.SSLError, OSError) as e:
                ok(True, "TLS with SNI %r: handshake refused cleanly (%s)" % (sni, e))
            ok(healthy(), "  ... server still healthy")

        strict = ssl.create_default_context()  # does not trust the self-signed cert
        try:
            with socket.create_connection((host, port), timeout=10) as raw, \
                    strict.wrap_socket(raw, server_hostname=host):
                ok(False, "an untrusting client aborts the handshake")
        except ssl.SSLCertVerificationError:
            ok(True, "an untrusting client aborts the handshake")
        ok(healthy(), "  ... server still healthy")

        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(os.urandom(3000))
            got, secs, closed = read_until_close(sock)
        ok(closed, "random bytes to the TLS port: closed (%.1fs)" % secs)
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 20)  # half a ClientHello
            got, secs, closed = read_until_close(sock, 15)
        ok(closed, "half a ClientHello, then silence: closed by the server (%.1fs)" % secs)
        with socket.create_connection((host, port), timeout=10) as raw, ctx.wrap_socket(raw, server_hostname=host) as t:
            got, secs, closed = read_until_close(t, 15)
        ok(closed and secs < 14, "silent TLS connection closed after the idle timeout (%.1fs)" % secs)
        with socket.create_connection((host, port), timeout=10) as sock:
            pass  # connect and close at once
        ok(healthy(), "  ... server still healthy after all of the above")

        with urllib.request.urlopen(s.endpoint + "/minio/health/live", timeout=5, context=ctx) as r:
            eq(r.status, 200, "health over HTTPS at the end")

    side_by_side(certs, crt)
    shutil.rmtree(tmp, ignore_errors=True)
    tap.done()


if __name__ == "__main__":
    main()
