#!/usr/bin/env python3
"""backend-replica through the real server, with boto3:
  - a server configured with two backends (backend-ec as the default over four
    drives, and backend-replica, 3 copies over three drives) and a placement
    rule (buckets named rep* go to the replica backend);
  - placement: one bucket on each backend by the rule, one on the replica by
    the x-cairn-backend header, an unknown header name refused; on disk the
    replica's objects are full copies on 3 drives, the ec ones are shards;
    ListBuckets shows all of them; DeleteBucket removes them from both;
  - on the replica bucket: PUT/GET of several sizes, ranges, multipart,
    listing, delete;
  - drive loss: wipe 2 of the 3 drives while the server is down, every
    object still reads byte-exact;
  - crash: >= 20 rounds of parallel PUT load and kill -9 at a random moment;
    after each restart every acknowledged object reads byte-exact and every
    listed object is complete."""
import hashlib
import os
import random

import botocore

from cairn_test import body_for, crash_rounds, mismatches, tap, two_backend_server, wipe_drives

ROUNDS = int(os.environ.get("CAIRN_CRASH_ROUNDS", "20"))
rng = random.Random(4321)

srv, ec, rep = two_backend_server()
srv.start()
log = srv.read_log()
tap.ok("backend-replica" in log and "3 copies" in log, "server runs backend-replica with 3 copies")
tap.ok("backend-ec: 4 of 4 drives online" in log, "and backend-ec as the default")
s3 = srv.boto3()
s3.create_bucket(Bucket="rep")   # by the placement rule
s3.create_bucket(Bucket="ecb")   # no rule: the default (ec)


def create_with_backend(bucket, backend):
    """CreateBucket with the x-cairn-backend header (signed like any header)."""
    c = srv.boto3()

    def add_header(request, **_):
        request.headers["x-cairn-backend"] = backend
    c.meta.events.register("before-sign.s3.CreateBucket", add_header)
    return c.create_bucket(Bucket=bucket)


create_with_backend("hdr", "replica")
try:
    create_with_backend("nobackend", "no-such-backend")
    tap.ok(False, "unknown x-cairn-backend refused")
except botocore.exceptions.ClientError as e:
    tap.eq(e.response["Error"]["Code"], "InvalidArgument", "unknown x-cairn-backend refused")
names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
tap.eq(names, ["ecb", "hdr", "rep"], "ListBuckets shows buckets of both backends, not the refused one")
try:
    create_with_backend("rep", "default")
    tap.ok(False, "a name taken on another backend stays taken")
except botocore.exceptions.ClientError as e:
    tap.eq(e.response["Error"]["Code"], "BucketAlreadyOwnedByYou",
           "a name taken on another backend stays taken")

SIZE = 300_000
for b in ("rep", "ecb", "hdr"):
    s3.put_object(Bucket=b, Key="placed/obj", Body=body_for(b, 7, SIZE))
bad = [b for b in ("rep", "ecb", "hdr")
       if s3.get_object(Bucket=b, Key="placed/obj")["Body"].read() != body_for(b, 7, SIZE)]
tap.ok(not bad, "PUT/GET on the rule-, default- and header-placed buckets", bad)


def data_files(drives, bucket):
    """Sizes of the data files (not metadata) of placed/obj on each drive."""
    out = []
    for d in drives:
        top = os.path.join(d, bucket, "placed", "obj")
        sizes = []
        for root, _, files in os.walk(top):
            sizes += [os.path.getsize(os.path.join(root, f)) for f in files
                      if not f.startswith(".")]
        out.append(sizes)
    return out


for b in ("rep", "hdr"):
    files = data_files(rep, b)
    tap.ok(all(len(f) == 1 and SIZE <= f[0] < SIZE * 1.01 for f in files),
           "%s: a full copy (object-sized file) on each of the 3 replica drives" % b, files)
    tap.ok(not any(data_files(ec, b)), "%s: no data on the ec drives" % b, data_files(ec, b))
files = data_files(ec, "ecb")
tap.ok(all(len(f) == 1 and f[0] < SIZE * 0.6 for f in files),
       "ecb: shards (about size/k) on each of the 4 ec drives", files)
tap.ok(not any(data_files(rep, "ecb")), "ecb: no data on the replica drives")
tap.ok(all(os.path.exists(os.path.join(d, "rep")) for d in ec),
       "the replica bucket is also recorded on the default backend")

# DeleteBucket: not empty refused, then gone from both backends; the name is free again.
try:
    s3.delete_bucket(Bucket="hdr")
    tap.ok(False, "DeleteBucket of a non-empty placed bucket refused")
except botocore.exceptions.ClientError as e:
    tap.eq(e.response["Error"]["Code"], "BucketNotEmpty", "DeleteBucket of a non-empty placed bucket refused")
s3.delete_object(Bucket="hdr", Key="placed/obj")
s3.delete_bucket(Bucket="hdr")
tap.ok(not any(os.path.exists(os.path.join(d, "hdr")) for d in rep + ec),
       "DeleteBucket removed the bucket from both backends")
s3.create_bucket(Bucket="hdr")  # now on the default, by no rule
s3.put_object(Bucket="hdr", Key="placed/obj", Body=body_for("hdr", 8, SIZE))
tap.ok(s3.get_object(Bucket="hdr", Key="placed/obj")["Body"].read() == body_for("hdr", 8, SIZE)
       and not any(data_files(rep, "hdr")) and all(data_files(ec, "hdr")),
       "a re-created bucket of the same name follows its new placement (cache forgotten)")

# -- basic workflow -----------------------------------------------------
want = {}
for i, size in enumerate([0, 1, 100, 4096, 200_000, 1_500_000, 5_000_000]):
    key = "basic/%02d" % i
    body = body_for(key, 0, size)
    s3.put_object(Bucket="rep", Key=key, Body=body)
    want[key] = hashlib.md5(body).hexdigest()
bad = mismatches(s3, "rep", want)
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
tap.eq(sorted(p["Prefix"] for p in lst.get("CommonPrefixes", [])), ["basic/", "mp/", "placed/"],
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
wipe_drives(rep[:2])
srv.start()
bad = mismatches(srv.boto3(), "rep", want)
tap.ok(not bad, "after wiping 2 of 3 drives, all %d objects read byte-exact" % len(want), bad[:10])

# -- crash rounds -------------------------------------------------------
crash_rounds(srv, "rep", ROUNDS, rng)

srv.finish()
tap.done()
