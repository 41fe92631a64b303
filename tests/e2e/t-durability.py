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

from cairn_test import Server, body_for, crash_rounds, mismatches, tap, wipe_drives

ROUNDS = int(os.environ.get("CAIRN_CRASH_ROUNDS", "20"))
rng = random.Random(1234)

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
wipe_drives(srv.drive_paths[2:])
srv.start()
bad = mismatches(srv.boto3(), "dur", want)
tap.ok(not bad, "after wiping 2 of 4 drives, all %d objects read byte-exact" % len(want), bad[:10])

# -- crash rounds -------------------------------------------------------
crash_rounds(srv, "dur", ROUNDS, rng)

srv.finish()
tap.done()
