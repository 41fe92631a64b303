#!/usr/bin/env python3
"""bench/list-bench.py -- ListObjectsV2 cost per page at 1,000 and 100,000 objects.

Starts a release cairn (script/build -> build/release) on 4 drives (backend-ec,
2+2), fills bucket A with 1,000 and bucket B with 100,000 16-byte objects
(keys dirNNN/obj-NNNNNNNN, 1,000 per "directory", so delimiter listings have
prefixes) with parallel PUTs from cairn-bench, then times pages of 1,000 keys:
the first page, a middle page (start-after), the last page, and delimiter "/"
listings (top level, and one prefix's page), REPS times each.  Prints the median
per page and the ratio 100k / 1k per page type.  The claim checked: a page's
cost grows with the page, not with the bucket (ratio near 1).

Populating is the cost.  With the default `sync = "always"` every PUT fsyncs
the metadata file and directory on every drive; 100,000 of them take minutes
on ordinary disks, so the backend here runs with `sync = "none"` (documented in
plugins/backend-ec/README.md: not durable).  Listing reads are the same with
either setting.  The populate rate is printed.

Requests are signed with botocore and sent over one keep-alive connection with
http.client, so the time measured is the server's plus one socket round trip,
not boto3's XML parsing.

Usage: bench/list-bench.py [--reps N] [--big N] [--dir TMPDIR] [--port P]
                           [--build DIR] [--plugin-dir DIR[,DIR2...]]
(port 20500 by default).  --build uses an already built tree (DIR/root/bin/cairn,
DIR/bench/cairn-bench) instead of running script/build; --plugin-dir loads the
plugins from DIR; with several, the same drives are measured under each in
turn (populated once), to compare builds of backend-ec."""
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))


def arg(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


REPS = int(arg("--reps", 7))
SMALL = 1000
BIG = int(arg("--big", 100000))
PER_DIR = 1000
PORT = int(arg("--port", 20500))


class Lister:
    """Signed ListObjectsV2 over one keep-alive connection."""

    def __init__(self, host, port, user, password, region):
        from botocore.auth import SigV4Auth
        from botocore.credentials import Credentials
        self.host, self.port = host, port
        self.auth = SigV4Auth(Credentials(user, password), "s3", region)
        self.conn = http.client.HTTPConnection(host, port, timeout=120)

    def list(self, bucket, **params):
        from botocore.awsrequest import AWSRequest
        q = dict(params)
        q["list-type"] = "2"
        query = urllib.parse.urlencode(sorted(q.items()), quote_via=urllib.parse.quote, safe="-_.~")
        url = "http://%s:%d/%s?%s" % (self.host, self.port, bucket, query)
        req = AWSRequest(method="GET", url=url)
        self.auth.add_auth(req)
        headers = dict(req.headers.items())
        t0 = time.perf_counter()
        self.conn.request("GET", "/%s?%s" % (bucket, query), headers=headers)
        resp = self.conn.getresponse()
        body = resp.read()
        dt = time.perf_counter() - t0
        if resp.status != 200:
            raise RuntimeError("list %s %s: HTTP %d %s" % (bucket, params, resp.status, body[:300]))
        text = body.decode()
        keys = len(re.findall(r"<Key>", text))
        prefixes = len(re.findall(r"<CommonPrefixes>", text))
        return dt, keys, prefixes


def populate(cb, endpoint, env, bucket, n):
    """n objects as dirNNN/obj-NNNNNNNN, PER_DIR per dir, 4 cairn-bench at a time (32 connections)."""
    dirs = (n + PER_DIR - 1) // PER_DIR
    t0 = time.time()
    running = []
    first = True
    for d in range(dirs):
        count = min(PER_DIR, n - d * PER_DIR)
        cmd = [cb, "--endpoint", endpoint, "--op", "put", "--size", "16", "--concurrency", "8",
               "--count", str(count), "--bucket", bucket, "--prefix", "dir%03d/" % d, "--json", "--quiet"]
        if first:  # the first run creates the bucket; wait for it
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
            first = False
            continue
        running.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env))
        while len(running) >= 4:
            for p in list(running):
                if p.poll() is not None:
                    if p.returncode:
                        raise RuntimeError("cairn-bench put failed (%d)" % p.returncode)
                    running.remove(p)
            time.sleep(0.02)
    for p in running:
        if p.wait():
            raise RuntimeError("cairn-bench put failed (%d)" % p.returncode)
    dt = time.time() - t0
    print("  populated %s: %d objects in %.1f s (%.0f PUT/s)" % (bucket, n, dt, n / dt),
          file=sys.stderr, flush=True)


def cases(n):
    """(name, params, expected keys, expected prefixes) for a bucket of n objects."""
    dirs = (n + PER_DIR - 1) // PER_DIR
    mid = dirs // 2
    last_dir = dirs - 1
    return [
        ("first page (1000 keys)", {"max-keys": "1000"}, min(1000, n), 0),
        ("middle page, start-after", {"max-keys": "1000",
                                      "start-after": "dir%03d/obj-%08d" % (mid, 499) if dirs > 1
                                      else "dir000/obj-%08d" % 0}, None, 0),
        ("last page, start-after", {"max-keys": "1000",
                                    "start-after": "dir%03d/obj-%08d" % (last_dir - 1, 999) if dirs > 1
                                    else ""}, None, 0),
        ("delimiter / at top level", {"delimiter": "/", "max-keys": "1000"}, 0, min(dirs, 1000)),
        ("delimiter /, one prefix's page", {"delimiter": "/", "prefix": "dir%03d/" % mid, "max-keys": "1000"},
         PER_DIR, 0),
    ]


def measure(srv, label, reps):
    """Times each page type on both buckets and prints the table."""
    from cairn_test import REGION, ROOT_PASSWORD, ROOT_USER
    lister = Lister("127.0.0.1", PORT, ROOT_USER, ROOT_PASSWORD, REGION)
    res = {}
    for bucket, n in (("list-a", SMALL), ("list-b", BIG)):
        for name, params, want_keys, want_prefixes in cases(n):
            lister.list(bucket, **params)  # warm-up (directory listing cache, page cache)
            times = []
            for _ in range(reps):
                dt, keys, prefixes = lister.list(bucket, **params)
                times.append(dt)
            if want_keys is not None and keys != want_keys:
                print("  WARNING %s %s: %d keys, expected %d" % (bucket, name, keys, want_keys),
                      file=sys.stderr)
            if prefixes != want_prefixes:
                print("  WARNING %s %s: %d prefixes, expected %d" % (bucket, name, prefixes,
                                                                     want_prefixes), file=sys.stderr)
            res[(name, n)] = (statistics.median(times) * 1000, keys, prefixes)
            print("  %-8s %-32s %8.2f ms  (%d keys, %d prefixes)"
                  % (bucket, name, res[(name, n)][0], keys, prefixes), file=sys.stderr, flush=True)
    print()
    print("ListObjectsV2, backend-ec 2+2 on 4 drives, median of %d, milliseconds per page%s"
          % (reps, " (plugins: %s)" % label if label else ""))
    print()
    print("| page | %d objects | %d objects | ratio %dk / %dk |" % (SMALL, BIG, BIG // 1000, SMALL // 1000))
    print("|---|---:|---:|---:|")
    for name, _, _, _ in cases(SMALL):
        a = res[(name, SMALL)][0]
        b = res[(name, BIG)][0]
        print("| %s | %.2f | %.2f | %.2f |" % (name, a, b, b / a if a else 0.0))
    print()
    lister.conn.close()


def main():
    build = arg("--build", None) or subprocess.run(
        [os.path.join(TOP, "script", "build")], check=True, stdout=subprocess.PIPE,
        text=True).stdout.strip().splitlines()[-1]
    plugin_dirs = (arg("--plugin-dir", None) or "").split(",")
    if plugin_dirs[0]:
        os.environ["CAIRN_PLUGIN_PATH"] = plugin_dirs[0]
    cb = os.path.join(build, "bench", "cairn-bench")
    os.environ["CAIRN_BIN"] = os.path.join(build, "root", "bin", "cairn")
    from cairn_test import REGION, ROOT_PASSWORD, ROOT_USER, Server

    tmp = tempfile.mkdtemp(prefix="cairn-list-bench-", dir=arg("--dir", None))
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ROOT_USER, AWS_SECRET_ACCESS_KEY=ROOT_PASSWORD)
    drives = [os.path.join(tmp, "drive%d" % i) for i in range(1, 5)]
    srv = Server(drives=0, drive_paths=[], keep_dir=os.path.join(tmp, "srv"))
    srv.port = PORT
    srv.endpoint = "http://127.0.0.1:%d" % PORT
    os.makedirs(srv.dir, exist_ok=True)
    srv.config = ('backends = ( { name = "default"; plugin = "backend-ec"; drives = [ %s ]; '
                  'sync = "none"; scanner_interval_s = 0; } );\n' % ", ".join('"%s"' % p for p in drives))
    srv.start()
    t_start = time.time()
    try:
        populate(cb, srv.endpoint, env, "list-a", SMALL)
        populate(cb, srv.endpoint, env, "list-b", BIG)
        for i, pdir in enumerate(plugin_dirs):
            if i:
                srv.stop()
                os.environ["CAIRN_PLUGIN_PATH"] = pdir
                srv.start()
            measure(srv, pdir, REPS)
        print("total bench time %.0f s" % (time.time() - t_start))
    finally:
        srv.stop()
        if os.environ.get("CAIRN_KEEP_TMP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
