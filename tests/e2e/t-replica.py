#!/usr/bin/env python3
"""backend-replica through the real server, with boto3:
  - a server configured with two backends (backend-replica as the default,
    3 copies over three drives, and a backend-ec instance loaded beside it);
    buckets, PUT/GET of several sizes, ranges, multipart, listing, delete;
  - drive loss: wipe 2 of the 3 drives while the server is down, every
    object still reads byte-exact;
  - crash: >= 20 rounds of parallel PUT load and kill -9 at a random moment;
    after each restart every acknowledged object reads byte-exact and every
    listed object is complete.
Placement of buckets on a chosen backend is not in the core yet, so the
backend-ec instance is loaded but not reachable by requests."""
import hashlib
import os
import random
import shutil
import threading
import time

import botocore

from cairn_test import Server, tap

ROUNDS = int(os.environ.get("CAIRN_CRASH_ROUNDS", "20"))
rng = random.Random(4321)


def body_for(key, gen, size):
    seed = hashlib.sha256(("%s/%d" % (key, gen)).encode()).digest()
    return (seed * (size // 32 + 1))[:size]


srv = Server(drives=0)
rep = [os.path.join(srv.dir, "rep%d" % i) for i in range(1, 4)]
ec = [os.path.join(srv.dir, "ec%d" % i) for i in range(1, 5)]
srv.drive_paths = []
srv.config = """
backends = (
  { name = "default"; plugin = "backend-replica"; drives = [ %s ]; copies = 3;
    scanner_interval_s = 0; },
  { name = "ec"; plugin = "backend-ec"; drives = [ %s ]; }
);
""" % (", ".join('"%s"' % d for d in rep), ", ".join('"%s"' % d for d in ec))
srv.start()
log = srv.read_log()
tap.ok("backend-replica" in log and "3 copies" in log, "server runs backend-replica with 3 copies")
tap.ok("backend-ec" in log, "and a backend-ec instance beside it")
s3 = srv.boto3()
s3.create_bucket(Bucket="rep")

# -- basic workflow -----------------------------------------------------
want = {}
for i, size in enumerate([0, 1, 100, 4096, 200_000, 1_500_000, 5_000_000]):
    key = "basic/%02d" % i
    body = body_for(key, 0, size)
    s3.put_object(Bucket="rep", Key=key, Body=body)
    want[key] = hashlib.md5(body).hexdigest()
bad = [k for k, d in want.items()
       if hashlib.md5(s3.get_object(Bucket="rep", Key=k)["Body"].read()).hexdigest() != d]
tap.ok(not bad, "PUT/GET of 7 sizes byte-exact", bad)
body = body_for("basic/06", 0, 5_000_000)
got = s3.get_object(Bucket="rep", Key="basic/06", Range="bytes=1048570-1048590")["Body"].read()
tap.ok(got == body[1048570:1048591], "range across a block boundary")
mp = s3.create_multipart_upload(Bucket="rep", Key="mp/obj")
p1, p2 = body_for("mp", 1, 5 * 1024 * 1024), body_for("mp", 2, 1234)
e1 = s3.upload_part(Bucket="rep", Key="mp/obj", UploadId=mp["UploadId"], PartNumber=1, Body=p1)["ETag"]
e2 = s3.upload_part(Bucket="rep", Key="mp/obj", UploadId=mp["UploadId"], PartNumber=2, Body=p2)["ETag"]
s3.complete_multipart_upload(Bucket="rep", Key="mp/obj", UploadId=mp["UploadId"],
                             MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1},
                                                        {"PartNumber": 2, "ETag": e2}]})
got = s3.get_object(Bucket="rep", Key="mp/obj")["Body"].read()
tap.ok(got == p1 + p2, "multipart upload completes and reads back")
want["mp/obj"] = hashlib.md5(p1 + p2).hexdigest()
lst = s3.list_objects_v2(Bucket="rep", Delimiter="/")
tap.eq(sorted(p["Prefix"] for p in lst.get("CommonPrefixes", [])), ["basic/", "mp/"],
       "listing rolls up at the delimiter")
s3.put_object(Bucket="rep", Key="gone", Body=b"x")
s3.delete_object(Bucket="rep", Key="gone")
try:
    s3.head_object(Bucket="rep", Key="gone")
    tap.ok(False, "deleted object is gone")
except botocore.exceptions.ClientError as e:
    tap.eq(e.response["Error"]["Code"], "404", "deleted object is gone")

# -- drive loss ---------------------------------------------------------
srv.stop()
for d in rep[:2]:
    for name in os.listdir(d):
        p = os.path.join(d, name)
        shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
srv.start()
s3 = srv.boto3()
bad = []
for key, digest in want.items():
    try:
        got = hashlib.md5(s3.get_object(Bucket="rep", Key=key)["Body"].read()).hexdigest()
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
    if got != digest:
        bad.append((key, got))
tap.ok(not bad, "after wiping 2 of 3 drives, all %d objects read byte-exact" % len(want), bad[:10])

# -- crash rounds -------------------------------------------------------
acked, attempted = {}, {}
lock = threading.Lock()
lost_total, torn_total = [], []
for rnd in range(ROUNDS):
    stop = threading.Event()

    def writer(tid):
        c = srv.boto3()
        gen = 0
        while not stop.is_set():
            key = "crash/%d/%d" % (tid, rng.randrange(20))
            gen += 1
            size = rng.choice([10, 3000, 100_000, 700_000, 2_500_000])
            body = body_for(key, gen * 1000 + rnd, size)
            d = hashlib.md5(body).hexdigest()
            with lock:
                attempted.setdefault(key, []).append(d)
                idx = len(attempted[key]) - 1
            try:
                c.put_object(Bucket="rep", Key=key, Body=body)
            except Exception:  # noqa: BLE001 -- the kill interrupts requests
                return
            with lock:
                acked[key] = max(acked.get(key, -1), idx)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    time.sleep(rng.uniform(0.3, 2.0))
    srv.kill9()
    stop.set()
    for t in threads:
        t.join()
    srv.start()
    s3 = srv.boto3()
    lost, torn = [], []
    with lock:
        snapshot = dict(acked)
    listed = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="rep", Prefix="crash/"):
        listed.update(o["Key"] for o in page.get("Contents", []))
    for key in sorted(set(snapshot) | listed):
        try:
            d = hashlib.md5(s3.get_object(Bucket="rep", Key=key)["Body"].read()).hexdigest()
        except botocore.exceptions.ClientError as e:
            d = e.response["Error"]["Code"]
        sent = attempted.get(key, [])
        idx = max((i for i, x in enumerate(sent) if x == d), default=-1)
        if key in snapshot and idx < snapshot[key]:
            lost.append((key, d))
        elif key in listed and idx < 0:
            torn.append((key, d))
        if idx >= 0:
            acked[key] = max(acked.get(key, -1), idx)
    lost_total += lost
    torn_total += torn
tap.ok(not lost_total, "%d kill -9 rounds: no acknowledged object lost or damaged" % ROUNDS, lost_total[:10])
tap.ok(not torn_total, "%d kill -9 rounds: no partial object visible" % ROUNDS, torn_total[:10])
tap.ok(len(acked) > 0, "crash rounds acknowledged %d keys" % len(acked))

rc = srv.stop()
tap.ok(rc == 0, "server exited cleanly (rc=%s)" % rc, srv.read_log()[-2000:])
report = srv.sanitizer_report()
tap.ok(report is None, "no sanitizer report", report)
if os.environ.get("CAIRN_KEEP_TMP") != "1":
    shutil.rmtree(srv.dir, ignore_errors=True)
tap.done()
