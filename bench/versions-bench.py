#!/usr/bin/env python3
"""versions-bench -- latency of reading the latest version of a key with many
versions versus a key with one version (GET and HEAD through the real server),
and of a PUT onto a key with 1 version versus one with many.

    CAIRN_BIN=build-rel/root/bin/cairn CAIRN_PLUGIN_PATH=build-rel/root/lib/cairn/plugins \
        bench/versions-bench.py [--versions 1000] [--requests 300] [--writers 8] \
        [--backend backend-ec|backend-replica] [--port 21000]

The versions are written by `writers` concurrent clients (the order between
them does not matter: only the count does).  Prints median and p99 latencies
per case and the ratio many/one; a ratio near 1 means the number of versions
does not slow reads of the latest.  Take numbers from a release build."""
import argparse
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from cairn_test import Server  # noqa: E402


def timed(fn, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    out.sort()
    return statistics.median(out), out[min(len(out) - 1, int(len(out) * 0.99))]


def write_versions(srv, bucket, key, body, n, writers):
    """PUTs n versions of key from `writers` threads, each with its own client."""
    left = [n]
    mu = threading.Lock()
    errors = []

    def worker():
        s3 = srv.boto3()
        while True:
            with mu:
                if left[0] == 0:
                    return
                left[0] -= 1
            try:
                s3.put_object(Bucket=bucket, Key=key, Body=body)
            except Exception as e:  # noqa: BLE001 -- reported below
                errors.append(e)
                return

    ts = [threading.Thread(target=worker) for _ in range(writers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--versions", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--writers", type=int, default=8)
    ap.add_argument("--backend", default="backend-ec")
    ap.add_argument("--port", type=int, default=21000)
    a = ap.parse_args()
    srv = Server(drives=4)
    if a.backend != "backend-ec":
        srv.config = 'backends = ( { name = "default"; plugin = "%s"; drives = [ %s ]; } );\n' % (
            a.backend, ", ".join('"%s"' % d for d in srv.drive_paths))
    srv.port = a.port
    srv.endpoint = "http://127.0.0.1:%d" % a.port
    srv.start()
    try:
        s3 = srv.boto3()
        s3.create_bucket(Bucket="bench")
        s3.put_bucket_versioning(Bucket="bench", VersioningConfiguration={"Status": "Enabled"})
        body = b"x" * 4096
        put = lambda k: s3.put_object(Bucket="bench", Key=k, Body=body)  # noqa: E731
        t = time.perf_counter()
        put("one")
        first_put = time.perf_counter() - t
        t0 = time.time()
        write_versions(srv, "bench", "many", body, a.versions - 1, a.writers)
        print("backend %s: wrote %d versions with %d writers in %.1f s" %
              (a.backend, a.versions - 1, a.writers, time.time() - t0))
        t = time.perf_counter()
        put("many")  # the 1,000th version
        last_put = time.perf_counter() - t
        n = 0
        pages = s3.get_paginator("list_object_versions").paginate(Bucket="bench", Prefix="many")
        for page in pages:
            n += len(page.get("Versions", []))
        print("ListObjectVersions of 'many': %d versions" % n)
        res = {}
        for op in ("GET", "HEAD"):
            for key in ("one", "many"):
                if op == "GET":
                    fn = lambda k=key: s3.get_object(Bucket="bench", Key=k)["Body"].read()  # noqa
                else:
                    fn = lambda k=key: s3.head_object(Bucket="bench", Key=k)  # noqa
                timed(fn, 20)  # warm up
                res[op, key] = timed(fn, a.requests)
                print("%-4s %-4s median %.3f ms  p99 %.3f ms" % (op, key, res[op, key][0] * 1e3,
                                                                res[op, key][1] * 1e3))
        for op in ("GET", "HEAD"):
            print("%s ratio (%d versions / 1 version): median %.2f  p99 %.2f" %
                  (op, a.versions, res[op, "many"][0] / res[op, "one"][0],
                   res[op, "many"][1] / res[op, "one"][1]))
        # PUT: the 1st version of a key vs the next on the many-version key (medians of 20)
        put_many = timed(lambda: put("many"), 20)
        put_new = []
        for i in range(20):
            t = time.perf_counter()
            put("new%d" % i)
            put_new.append(time.perf_counter() - t)
        print("PUT 1st version: single %.3f ms, median of 20 new keys %.3f ms; PUT %dth "
              "version: single %.3f ms, median of 20 more %.3f ms" %
              (first_put * 1e3, statistics.median(put_new) * 1e3, a.versions, last_put * 1e3,
               put_many[0] * 1e3))
    finally:
        srv.stop()
        if os.environ.get("CAIRN_KEEP_TMP") != "1":
            import shutil
            shutil.rmtree(srv.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
