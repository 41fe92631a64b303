#!/usr/bin/env python3
"""Lifecycle rules applied by the background scanner, with a 1-second
lifecycle day and a 1-second scan interval: expiration by prefix and by tag,
noncurrent versions (NewerNoncurrentVersions kept), expired delete markers,
stale multipart uploads; objects outside the filters are untouched.  Then a
server with backend-ec and backend-replica: rules apply to buckets on either
backend, and `stale_upload_age` aborts abandoned uploads in every bucket,
with or without rules."""
import time

import botocore.exceptions

from cairn_test import Server, tap, two_backend_server

DEADLINE = 30


def poll(fn, what):
    end = time.time() + DEADLINE
    while time.time() < end:
        if fn():
            return tap.ok(True, what)
        time.sleep(0.25)
    return tap.ok(False, what + " (within %d s)" % DEADLINE)


def exists(s3, b, k):
    try:
        s3.head_object(Bucket=b, Key=k)
        return True
    except botocore.exceptions.ClientError:
        return False


def versions(s3, b, prefix):
    r = s3.list_object_versions(Bucket=b, Prefix=prefix)
    return r.get("Versions", []), r.get("DeleteMarkers", [])


srv = Server(drives=3, env={"CAIRN_LIFECYCLE_DAY_SECONDS": "1",
                            "CAIRN_LIFECYCLE_INTERVAL_SECONDS": "1"})
with srv:
    s3 = srv.boto3()

    # Validation on PUT.
    s3.create_bucket(Bucket="lc-bad")
    for bad, want in [({"Rules": [{"Status": "Enabled", "Filter": {"Prefix": ""},
                                   "Expiration": {"Days": 0}}]}, "InvalidArgument"),
                      ({"Rules": [{"Status": "Enabled", "Filter": {"Prefix": ""}}]}, "InvalidArgument")]:
        try:
            s3.put_bucket_lifecycle_configuration(Bucket="lc-bad", LifecycleConfiguration=bad)
            got = None
        except botocore.exceptions.ClientError as e:
            got = e.response["Error"]["Code"]
        tap.eq(got, want, "invalid lifecycle refused with %s" % want)

    # Unversioned bucket: expiration by prefix and by tag; uploads aborted.
    b = "lc-plain"
    s3.create_bucket(Bucket=b)
    s3.put_object(Bucket=b, Key="tmp/a", Body=b"a")
    s3.put_object(Bucket=b, Key="keep/a", Body=b"k")
    s3.put_object(Bucket=b, Key="t1", Body=b"x", Tagging="expire=yes")
    s3.put_object(Bucket=b, Key="t2", Body=b"x", Tagging="expire=no")
    up = s3.create_multipart_upload(Bucket=b, Key="uploads/big")["UploadId"]
    up_keep = s3.create_multipart_upload(Bucket=b, Key="other/big")["UploadId"]
    s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
        {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 2}},
        {"ID": "tag", "Status": "Enabled", "Filter": {"Tag": {"Key": "expire", "Value": "yes"}},
         "Expiration": {"Days": 2}},
        {"ID": "mpu", "Status": "Enabled", "Filter": {"Prefix": "uploads/"},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
        {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "keep/"}, "Expiration": {"Days": 1}},
    ]})
    got = s3.get_bucket_lifecycle_configuration(Bucket=b)["Rules"]
    tap.eq(sorted(r["ID"] for r in got), ["mpu", "off", "tag", "tmp"], "GetBucketLifecycleConfiguration")
    poll(lambda: not exists(s3, b, "tmp/a"), "object under tmp/ expired")
    poll(lambda: not exists(s3, b, "t1"), "object tagged expire=yes expired")
    poll(lambda: up not in [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=b).get("Uploads", [])],
         "stale upload under uploads/ aborted")
    time.sleep(2.5)  # two more scans: nothing outside the filters may go
    tap.ok(exists(s3, b, "keep/a"), "object of a disabled rule untouched")
    tap.ok(exists(s3, b, "t2"), "object with another tag value untouched")
    tap.ok(up_keep in [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=b).get("Uploads", [])],
           "upload outside the filter kept")
    vs, ms = versions(s3, b, "tmp/")
    tap.ok(not vs and not ms, "unversioned: expiry leaves no version and no marker", (vs, ms))

    # Versioned bucket: noncurrent versions, delete markers.
    v = "lc-vers"
    s3.create_bucket(Bucket=v)
    s3.put_bucket_versioning(Bucket=v, VersioningConfiguration={"Status": "Enabled"})
    ids = [s3.put_object(Bucket=v, Key="nc/k", Body=b"v%d" % i)["VersionId"] for i in range(4)]
    s3.put_object(Bucket=v, Key="dm/k", Body=b"x")
    s3.delete_object(Bucket=v, Key="dm/k")
    s3.put_object(Bucket=v, Key="cur/k", Body=b"c")
    s3.put_object(Bucket=v, Key="other/k", Body=b"o1")
    s3.put_object(Bucket=v, Key="other/k", Body=b"o2")
    s3.put_bucket_lifecycle_configuration(Bucket=v, LifecycleConfiguration={"Rules": [
        {"ID": "nc", "Status": "Enabled", "Filter": {"Prefix": "nc/"},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}},
        {"ID": "dm", "Status": "Enabled", "Filter": {"Prefix": "dm/"},
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
         "Expiration": {"ExpiredObjectDeleteMarker": True}},
        {"ID": "cur", "Status": "Enabled", "Filter": {"Prefix": "cur/"}, "Expiration": {"Days": 1}},
    ]})
    # nc/k: current + 1 newest noncurrent kept; the 2 older noncurrent go.
    poll(lambda: sorted(x["VersionId"] for x in versions(s3, v, "nc/")[0]) == sorted(ids[2:]),
         "noncurrent versions expired, NewerNoncurrentVersions=1 kept")
    tap.eq(s3.get_object(Bucket=v, Key="nc/k")["Body"].read(), b"v3", "current version untouched")
    # dm/k: the old version expires (noncurrent), then the lone marker is removed.
    poll(lambda: versions(s3, v, "dm/") == ([], []), "expired delete marker removed")
    # cur/k: expiring the current version adds a delete marker and keeps the data.
    poll(lambda: not exists(s3, v, "cur/k"), "versioned current version expired")
    vs, ms = versions(s3, v, "cur/")
    tap.ok(len(vs) == 1 and len(ms) == 1 and ms[0]["IsLatest"],
           "versioned expiry added a delete marker over the old version", (vs, ms))
    vs, ms = versions(s3, v, "other/")
    tap.ok(len(vs) == 2 and not ms, "versions outside every filter untouched", (vs, ms))
    s3.delete_bucket_lifecycle(Bucket=v)
    try:
        s3.get_bucket_lifecycle_configuration(Bucket=v)
        got = None
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
    tap.eq(got, "NoSuchLifecycleConfiguration", "DeleteBucketLifecycle")

# Two backends (as t-replica.py): buckets named rep* live on backend-replica.
srv, _, _ = two_backend_server(env={"CAIRN_LIFECYCLE_DAY_SECONDS": "1",
                                    "CAIRN_LIFECYCLE_INTERVAL_SECONDS": "1",
                                    "CAIRN_STALE_UPLOAD_AGE": "4"})
with srv:
    s3 = srv.boto3()

    def uploads(b):
        return [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=b).get("Uploads", [])]

    for b in ("rep-lc", "ec-lc"):
        s3.create_bucket(Bucket=b)
        s3.put_object(Bucket=b, Key="tmp/a", Body=b"a")
        s3.put_object(Bucket=b, Key="keep/a", Body=b"k")
        old = s3.create_multipart_upload(Bucket=b, Key="abandoned")["UploadId"]
        s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
            {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 2}}]})
        poll(lambda: not exists(s3, b, "tmp/a"), "%s: rule expired tmp/a" % b)
        tap.ok(exists(s3, b, "keep/a"), "%s: object outside the rule untouched" % b)
        poll(lambda: old not in uploads(b), "%s: upload older than stale_upload_age aborted" % b)
        fresh = s3.create_multipart_upload(Bucket=b, Key="fresh")["UploadId"]
        time.sleep(1.5)  # at least one scan; the upload is younger than 4 s
        tap.ok(fresh in uploads(b), "%s: a younger upload is kept" % b)
    # A bucket without any rule is swept too.
    s3.create_bucket(Bucket="rep-norules")
    old = s3.create_multipart_upload(Bucket="rep-norules", Key="x")["UploadId"]
    poll(lambda: old not in uploads("rep-norules"), "bucket without rules: stale upload aborted")
tap.done()
