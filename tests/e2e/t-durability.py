#!/usr/bin/env python3
"""Durability through the real server (backend-ec 2+2 over four drives):
  - drive loss: wipe two drives while the server is down, every object still
    reads byte-exact;
  - crash: 20 rounds of parallel PUT load and kill -9 at a random moment; after
    each restart every acknowledged object reads byte-exact and every listed
    object is complete (one of the bodies written to it)."""
import hashlib
import os
import random
import shutil
import threading
import time

import botocore

from cairn_test import Server, tap

ROUNDS = int(os.environ.get("CAIRN_CRASH_ROUNDS", "20"))
rng = random.Random(1234)


def body_for(key, gen, size):
    seed = hashlib.sha256(("%s/%d" % (key, gen)).encode()).digest()
    return (seed * (size // 32 + 1))[:size]


srv = Server(drives=4)
srv.start()
s3 = srv.boto3()
s3.create_bucket(Bucket="dur")

# -- drive loss ---------------------------------------------------------
want = {}
for i in range(60):
    size = rng.choice([0, 1, 100, 4096, 200_000, 1_500_000, 5_000_000])
    key = "loss/%03d" % i
    body = body_for(key, 0, size)
    s3.put_object(Bucket="dur", Key=key, Body=body)
    want[key] = hashlib.md5(body).hexdigest()
srv.stop()
for d in srv.drive_paths[2:]:
    for name in os.listdir(d):
        p = os.path.join(d, name)
        shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
srv.start()
s3 = srv.boto3()
bad = []
for key, digest in want.items():
    try:
        got = hashlib.md5(s3.get_object(Bucket="dur", Key=key)["Body"].read()).hexdigest()
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
    if got != digest:
        bad.append((key, got))
tap.ok(not bad, "after wiping 2 of 4 drives, all %d objects read byte-exact" % len(want), bad[:10])

# -- crash rounds -------------------------------------------------------
acked = {}      # key -> index (in attempted[key]) of the last acknowledged body
attempted = {}  # key -> md5s sent to the key, in order
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
                c.put_object(Bucket="dur", Key=key, Body=body)
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
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="dur", Prefix="crash/"):
        listed.update(o["Key"] for o in page.get("Contents", []))
    for key in sorted(set(snapshot) | listed):
        try:
            d = hashlib.md5(s3.get_object(Bucket="dur", Key=key)["Body"].read()).hexdigest()
        except botocore.exceptions.ClientError as e:
            d = e.response["Error"]["Code"]
        sent = attempted.get(key, [])
        # The body read must be the last acknowledged one or one sent after it
        # (an unacknowledged newer PUT may have committed before the kill).
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
