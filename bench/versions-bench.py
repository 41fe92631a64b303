#!/usr/bin/env python3
"""versions-bench -- latency of reading the latest version of a key with many
versions versus a key with one version (GET and HEAD), same server, same run.

    CAIRN_BIN=build-rel/core/cairn CAIRN_PLUGIN_PATH=build-rel/plugins \
        bench/versions-bench.py [--versions 1000] [--requests 300]

Prints median and p90 latencies per case and the ratio many/one; a ratio near 1
means the number of versions does not slow reads of the latest."""
import argparse
import os
import statistics
import sys
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
    return statistics.median(out), out[int(len(out) * 0.9)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--versions", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=300)
    a = ap.parse_args()
    srv = Server(drives=4)
    srv.start()
    try:
        s3 = srv.boto3()
        s3.create_bucket(Bucket="bench")
        s3.put_bucket_versioning(Bucket="bench", VersioningConfiguration={"Status": "Enabled"})
        body = b"x" * 4096
        s3.put_object(Bucket="bench", Key="one", Body=body)
        t0 = time.time()
        for i in range(a.versions):
            s3.put_object(Bucket="bench", Key="many", Body=body)
        print("wrote %d versions in %.1f s" % (a.versions, time.time() - t0))
        n = len(s3.list_object_versions(Bucket="bench", Prefix="many", MaxKeys=1000).get("Versions", []))
        print("listed versions of 'many': %d (first page)" % n)
        res = {}
        for op in ("GET", "HEAD"):
            for key in ("one", "many"):
                if op == "GET":
                    fn = lambda k=key: s3.get_object(Bucket="bench", Key=k)["Body"].read()
                else:
                    fn = lambda k=key: s3.head_object(Bucket="bench", Key=k)
                timed(fn, 20)  # warm up
                res[op, key] = timed(fn, a.requests)
                print("%-4s %-4s median %.3f ms  p90 %.3f ms" % (op, key, res[op, key][0] * 1e3,
                                                                res[op, key][1] * 1e3))
        for op in ("GET", "HEAD"):
            print("%s ratio (%d versions / 1 version, median): %.2f" %
                  (op, a.versions, res[op, "many"][0] / res[op, "one"][0]))
    finally:
        srv.stop()
        if os.environ.get("CAIRN_KEEP_TMP") != "1":
            import shutil
            shutil.rmtree(srv.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
