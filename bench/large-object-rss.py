#!/usr/bin/env python3
"""bench/large-object-rss.py [SIZE_MIB] -- one large PUT and GET through cairn,
reporting the server's peak resident memory (VmHWM) after each.

The body streams from a generator through curl (chunked upload to a presigned
SigV4 URL, so nothing is hashed on the client and no file is written), and the
download goes to a streaming MD5.  Goal (issue 2 / issue 9): peak RSS under
64 MiB for a 2 GiB object.  Uses the release build (script/build)."""
import hashlib
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from cairn_test import Server  # noqa: E402


def rss_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def main():
    size_mib = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
    size = size_mib << 20
    srv = Server(drives=4).start()
    try:
        s3 = srv.boto3(signature_version="s3v4")
        s3.create_bucket(Bucket="big")
        pid = srv.proc.pid
        idle = rss_kib(pid, "VmRSS")

        url = s3.generate_presigned_url("put_object", Params={"Bucket": "big", "Key": "blob"}, ExpiresIn=3600)
        block = hashlib.sha256(b"cairn").digest() * (1 << 15)  # 1 MiB pattern
        want = hashlib.md5()
        t0 = time.time()
        curl = subprocess.Popen(["curl", "-sS", "-f", "-X", "PUT", "-T", "-", "-H", "Expect:", url],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(size_mib):
            curl.stdin.write(block)
            want.update(block)
        curl.stdin.close()
        out = curl.stdout.read().decode()
        rc = curl.wait()
        put_s = time.time() - t0
        if rc != 0:
            raise SystemExit("PUT failed: %s %s" % (rc, out))
        peak_put = rss_kib(pid, "VmHWM")

        url = s3.generate_presigned_url("get_object", Params={"Bucket": "big", "Key": "blob"}, ExpiresIn=3600)
        t0 = time.time()
        curl = subprocess.Popen(["curl", "-sS", "-f", url], stdout=subprocess.PIPE)
        got = hashlib.md5()
        n = 0
        while True:
            chunk = curl.stdout.read(1 << 20)
            if not chunk:
                break
            got.update(chunk)
            n += len(chunk)
        rc = curl.wait()
        get_s = time.time() - t0
        peak_get = rss_kib(pid, "VmHWM")
        ok = rc == 0 and n == size and got.hexdigest() == want.hexdigest()
        print("object: %d MiB; byte-exact: %s" % (size_mib, "yes" if ok else "NO"))
        print("server RSS idle:            %6.1f MiB" % (idle / 1024))
        print("server peak RSS after PUT:  %6.1f MiB  (PUT %.1f s, %.0f MB/s)" % (peak_put / 1024, put_s, size / put_s / 1e6))
        print("server peak RSS after GET:  %6.1f MiB  (GET %.1f s, %.0f MB/s)" % (peak_get / 1024, get_s, size / get_s / 1e6))
        print("goal: peak under 64 MiB -> %s" % ("met" if max(peak_put, peak_get) < 64 * 1024 else "NOT met"))
        return 0 if ok else 1
    finally:
        srv.stop()


if __name__ == "__main__":
    if "CAIRN_BIN" not in os.environ:
        top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
        os.environ["CAIRN_BIN"] = os.path.join(top, "build", "release", "root", "bin", "cairn")
    sys.exit(main())
