"""The boto3 workflows of the client suite, shared by t-boto3-image (the image's
boto3 1.43, default checksum settings and when_required) and t-boto3-debian
(Debian's python3-boto3 1.26)."""
import hashlib
import io
import os

import boto3
import botocore
from botocore.config import Config
from boto3.s3.transfer import TransferConfig

from cairn_test import ROOT_PASSWORD, ROOT_USER, REGION, Server, tap


def client(srv, **extra):
    cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **extra)
    return boto3.client("s3", endpoint_url=srv.endpoint, aws_access_key_id=ROOT_USER,
                        aws_secret_access_key=ROOT_PASSWORD, region_name=REGION, config=cfg)


def err_code(fn):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    return None


def workflows(srv, s3, tag):
    b = "boto-" + tag
    s3.create_bucket(Bucket=b)
    tap.ok(b in [x["Name"] for x in s3.list_buckets()["Buckets"]], "%s: bucket listed" % tag)
    tap.eq(err_code(lambda: s3.create_bucket(Bucket=b)), "BucketAlreadyOwnedByYou", "%s: create again" % tag)
    loc = s3.get_bucket_location(Bucket=b).get("LocationConstraint")
    tap.ok(loc in (None, ""), "%s: GetBucketLocation empty for us-east-1" % tag, loc)

    body = os.urandom(1000)
    r = s3.put_object(Bucket=b, Key="dir/a:b c+d.txt", Body=body, ContentType="text/plain",
                      Metadata={"Color": "Blue", "x": "y z"}, CacheControl="max-age=60")
    tap.eq(r["ETag"], '"%s"' % hashlib.md5(body).hexdigest(), "%s: put ETag is quoted MD5" % tag)
    g = s3.get_object(Bucket=b, Key="dir/a:b c+d.txt")
    tap.eq(g["Body"].read(), body, "%s: get byte-exact" % tag)
    tap.eq(g["ContentType"], "text/plain", "%s: content-type kept" % tag)
    tap.eq(g["Metadata"].get("color"), "Blue", "%s: user metadata kept" % tag)
    tap.eq(g.get("CacheControl"), "max-age=60", "%s: cache-control kept" % tag)
    h = s3.head_object(Bucket=b, Key="dir/a:b c+d.txt")
    tap.eq(h["ContentLength"], 1000, "%s: head content-length" % tag)
    r = s3.get_object(Bucket=b, Key="dir/a:b c+d.txt", Range="bytes=10-19")
    tap.eq(r["Body"].read(), body[10:20], "%s: range a-b" % tag)
    tap.eq(r["ContentRange"], "bytes 10-19/1000", "%s: content-range" % tag)
    r = s3.get_object(Bucket=b, Key="dir/a:b c+d.txt", Range="bytes=-7")
    tap.eq(r["Body"].read(), body[-7:], "%s: suffix range" % tag)
    tap.eq(err_code(lambda: s3.get_object(Bucket=b, Key="dir/a:b c+d.txt", Range="bytes=5000-")),
           "InvalidRange", "%s: unsatisfiable range" % tag)
    etag = h["ETag"]
    tap.eq(err_code(lambda: s3.get_object(Bucket=b, Key="dir/a:b c+d.txt", IfMatch='"nope"')),
           "PreconditionFailed", "%s: If-Match mismatch -> 412" % tag)
    tap.eq(err_code(lambda: s3.get_object(Bucket=b, Key="dir/a:b c+d.txt", IfNoneMatch=etag)),
           "304", "%s: If-None-Match match -> 304" % tag)
    tap.eq(err_code(lambda: s3.get_object(Bucket=b, Key="nope")), "NoSuchKey", "%s: NoSuchKey" % tag)

    # multipart through the transfer manager, above and below the threshold
    big = os.urandom(12 * 1024 * 1024 + 123)
    tc = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_fileobj(io.BytesIO(big), b, "big/obj", Config=tc)
    out = io.BytesIO()
    s3.download_fileobj(b, "big/obj", out, Config=tc)
    tap.ok(out.getvalue() == big, "%s: multipart upload + ranged download byte-exact" % tag)
    h = s3.head_object(Bucket=b, Key="big/obj")
    tap.ok(h["ETag"].endswith('-3"'), "%s: multipart ETag has -3" % tag, h["ETag"])
    part = s3.get_object(Bucket=b, Key="big/obj", PartNumber=2)
    mib5 = 5 * 1024 * 1024
    tap.ok(part["Body"].read() == big[mib5:2 * mib5] and part.get("PartsCount") == 3 and
           part.get("ContentRange") == "bytes %d-%d/%d" % (mib5, 2 * mib5 - 1, len(big)),
           "%s: GetObject PartNumber=2 is the second part" % tag,
           {k: part.get(k) for k in ("PartsCount", "ContentRange", "ContentLength")})
    tap.eq(err_code(lambda: s3.get_object(Bucket=b, Key="big/obj", PartNumber=4)), "InvalidPartNumber",
           "%s: GetObject PartNumber past the last part" % tag)

    for i in range(25):
        s3.put_object(Bucket=b, Key="list/%02d/x" % i, Body=b"x")
    keys, token = [], None
    while True:
        kw = {"Bucket": b, "Prefix": "list/", "MaxKeys": 10}
        if token:
            kw["ContinuationToken"] = token
        r = s3.list_objects_v2(**kw)
        keys += [c["Key"] for c in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    tap.eq(keys, ["list/%02d/x" % i for i in range(25)], "%s: ListObjectsV2 pagination" % tag)
    r = s3.list_objects_v2(Bucket=b, Prefix="list/", Delimiter="/")
    tap.eq(len(r.get("CommonPrefixes", [])), 25, "%s: delimiter roll-up" % tag)
    r = s3.list_objects(Bucket=b, Prefix="list/", MaxKeys=5, Delimiter="/")
    tap.ok(r["IsTruncated"] and r.get("NextMarker") == "list/04/", "%s: ListObjects V1 NextMarker" % tag, r.get("NextMarker"))

    s3.copy_object(Bucket=b, Key="copy/dst", CopySource={"Bucket": b, "Key": "dir/a:b c+d.txt"})
    tap.eq(s3.get_object(Bucket=b, Key="copy/dst")["Body"].read(), body, "%s: copy" % tag)
    s3.copy_object(Bucket=b, Key="copy/dst", CopySource="%s/copy/dst" % b, MetadataDirective="REPLACE",
                   Metadata={"new": "1"})
    tap.eq(s3.head_object(Bucket=b, Key="copy/dst")["Metadata"], {"new": "1"}, "%s: copy onto itself with REPLACE" % tag)

    r = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "list/%02d/x" % i} for i in range(25)] + [{"Key": "absent"}]})
    tap.eq(len(r.get("Deleted", [])), 26, "%s: DeleteObjects" % tag)
    for k in ("dir/a:b c+d.txt", "big/obj", "copy/dst"):
        s3.delete_object(Bucket=b, Key=k)
    tap.eq(s3.list_objects_v2(Bucket=b).get("KeyCount"), 0, "%s: bucket empty" % tag)
    s3.delete_bucket(Bucket=b)
    tap.eq(err_code(lambda: s3.head_bucket(Bucket=b)), "404", "%s: bucket gone" % tag)
