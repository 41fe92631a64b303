#!/usr/bin/env python3
"""t-s3-api -- the parts of the S3 API that the client suite does not reach,
with real clients against one server that runs backend-ec (the default) and
backend-replica side by side (buckets named rep* live on the replica):
  - GetObject / HeadObject ?partNumber=N on multipart objects (boto3's
    PartNumber, awscli's s3api, a parallel download by part): 206, the
    part's bytes, Content-Range, x-amz-mp-parts-count, the object's ETag;
    416 InvalidPartNumber past the last part; a single-part object is one
    part; partNumber with Range is 400; on both backends;
  - CopyObject and UploadPartCopy between buckets on different backends
    (ec -> replica and replica -> ec), byte-exact, metadata directives kept;
  - DeleteObjects authorizes each key on its own: AccessDenied entries for
    keys the caller may not delete, the others deleted.
Ports 21300-21399."""
import concurrent.futures
import hashlib
import json
import os
import tempfile

from botocore.exceptions import ClientError

from cairn_test import run, tap, two_backend_server
from iam_helpers import admin, client, code_of

MiB = 1024 * 1024


def md5(data):
    return hashlib.md5(data).hexdigest()


def body(seed, size):
    block = hashlib.sha256(seed.encode()).digest()
    return (block * (size // 32 + 1))[:size]


def user_client(srv, name, policy_doc):
    """A user made with `cairn admin` with one policy attached; its boto3 client."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(policy_doc, f)
    rc1, out1 = admin(srv, "policy", "create", name + "-policy", f.name)
    os.unlink(f.name)
    rc2, out2 = admin(srv, "user", "add", name, name + "-secret-1")
    rc3, out3 = admin(srv, "policy", "attach", name + "-policy", "--user", name)
    tap.ok(rc1 == 0 and rc2 == 0 and rc3 == 0, "user %s with its policy" % name, out1 + out2 + out3)
    return client(srv, name, name + "-secret-1")


def multipart_upload(s3, bucket, key, parts, **create):
    """Uploads `parts` (list of bytes) as parts 1..n; returns the completion's ETag."""
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)
    done = []
    for i, data in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=i, Body=data)
        done.append({"PartNumber": i, "ETag": r["ETag"]})
    r = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up["UploadId"],
                                     MultipartUpload={"Parts": done})
    return r["ETag"]


# -- GetObject ?partNumber -----------------------------------------------------------

def part_number_reads(srv, s3, bucket):
    tag = bucket
    parts = [body(bucket + "p1", 5 * MiB), body(bucket + "p2", 5 * MiB + 3), body(bucket + "p3", 1234)]
    whole = b"".join(parts)
    etag = multipart_upload(s3, bucket, "mp/obj", parts, ContentType="text/x-parts",
                            Metadata={"kind": "multipart"})
    tap.ok(etag.endswith('-3"'), "%s: multipart ETag ends in -3" % tag, etag)
    h = s3.head_object(Bucket=bucket, Key="mp/obj")
    tap.ok("PartsCount" not in h, "%s: plain HEAD has no x-amz-mp-parts-count (as S3)" % tag, h.get("PartsCount"))
    off = 0
    for n, data in enumerate(parts, 1):
        g = s3.get_object(Bucket=bucket, Key="mp/obj", PartNumber=n)
        got = g["Body"].read()
        tap.ok(got == data, "%s: GET partNumber=%d returns the part's %d bytes" % (tag, n, len(data)))
        tap.eq(g["ResponseMetadata"]["HTTPStatusCode"], 206, "%s: part %d is a 206" % (tag, n))
        tap.eq(g.get("ContentRange"), "bytes %d-%d/%d" % (off, off + len(data) - 1, len(whole)),
               "%s: part %d Content-Range" % (tag, n))
        tap.eq(g.get("PartsCount"), 3, "%s: part %d x-amz-mp-parts-count" % (tag, n))
        tap.eq(g["ETag"], etag, "%s: part %d carries the object's ETag" % (tag, n))
        tap.eq(g.get("ContentType"), "text/x-parts", "%s: part %d keeps the content-type" % (tag, n))
        off += len(data)
    h = s3.head_object(Bucket=bucket, Key="mp/obj", PartNumber=2)
    tap.ok(h["ContentLength"] == len(parts[1]) and h.get("PartsCount") == 3 and
           h.get("ContentRange") == "bytes %d-%d/%d" % (len(parts[0]), len(parts[0]) + len(parts[1]) - 1,
                                                        len(whole)),
           "%s: HEAD partNumber=2: the part's length, range and count" % tag,
           {k: h.get(k) for k in ("ContentLength", "PartsCount", "ContentRange")})
    tap.eq(code_of(lambda: s3.get_object(Bucket=bucket, Key="mp/obj", PartNumber=4)), "InvalidPartNumber",
           "%s: partNumber past the last part -> InvalidPartNumber" % tag)
    try:
        s3.head_object(Bucket=bucket, Key="mp/obj", PartNumber=4)
        st = 200
    except ClientError as e:
        st = e.response["ResponseMetadata"]["HTTPStatusCode"]
    tap.eq(st, 416, "%s: HEAD partNumber past the last part -> 416" % tag)
    tap.eq(code_of(lambda: s3.get_object(Bucket=bucket, Key="mp/obj", PartNumber=1, Range="bytes=0-9")),
           "InvalidRequest", "%s: partNumber with Range -> InvalidRequest" % tag)
    tap.eq(code_of(lambda: s3.get_object(Bucket=bucket, Key="mp/obj", PartNumber=10001)),
           "InvalidArgument", "%s: partNumber 10001 -> InvalidArgument" % tag)
    g = s3.get_object(Bucket=bucket, Key="mp/obj", PartNumber=2, IfMatch=etag)
    tap.ok(g["Body"].read() == parts[1], "%s: partNumber with If-Match of the object's ETag" % tag)

    # a parallel download by part, as a client that knows the count would do
    count = s3.head_object(Bucket=bucket, Key="mp/obj", PartNumber=1)["PartsCount"]
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        pieces = list(pool.map(lambda n: s3.get_object(Bucket=bucket, Key="mp/obj",
                                                       PartNumber=n)["Body"].read(),
                               range(1, count + 1)))
    tap.ok(b"".join(pieces) == whole, "%s: parallel download by part is byte-exact" % tag)

    # a single-part object is one part: the whole object
    small = body(bucket + "small", 777)
    s3.put_object(Bucket=bucket, Key="single", Body=small)
    g = s3.get_object(Bucket=bucket, Key="single", PartNumber=1)
    tap.ok(g["Body"].read() == small and "PartsCount" not in g,
           "%s: partNumber=1 of a single-part object is the whole object, no parts count" % tag)
    tap.eq(code_of(lambda: s3.get_object(Bucket=bucket, Key="single", PartNumber=2)), "InvalidPartNumber",
           "%s: partNumber=2 of a single-part object -> InvalidPartNumber" % tag)

    # the part sizes are internal: never a header or user metadata
    h = s3.head_object(Bucket=bucket, Key="mp/obj")
    leaked = [k for k in h["ResponseMetadata"]["HTTPHeaders"] if "cairn" in k.lower()]
    tap.ok(h["Metadata"] == {"kind": "multipart"} and not leaked,
           "%s: the stored part sizes are not shown to clients" % tag, (h["Metadata"], leaked))
    return whole


def part_number_clients(srv, s3, bucket, whole):
    """awscli's s3api get-object --part-number, and awscli s3 cp (ranged download)."""
    env = srv.env()
    out_path = os.path.join(srv.dir, "part2.bin")
    rc, out = run(["aws", "--endpoint-url", srv.endpoint, "s3api", "get-object", "--bucket", bucket,
                   "--key", "mp/obj", "--part-number", "2", out_path], env=env)
    ok = rc == 0 and os.path.exists(out_path)
    data = open(out_path, "rb").read() if ok else b""
    tap.ok(ok and data == whole[5 * MiB:10 * MiB + 3] and '"PartsCount": 3' in out,
           "awscli s3api get-object --part-number 2", out[-1500:])
    dst = os.path.join(srv.dir, "whole.bin")
    rc, out = run(["aws", "--endpoint-url", srv.endpoint, "s3", "cp", "s3://%s/mp/obj" % bucket, dst],
                  env=env)
    tap.ok(rc == 0 and open(dst, "rb").read() == whole, "awscli s3 cp of the multipart object", out[-1500:])


# -- copies between backends ---------------------------------------------------------

def cross_backend_copies(s3, src_bucket, dst_bucket):
    tag = "%s->%s" % (src_bucket, dst_bucket)
    for size, name in ((100, "inline"), (3 * MiB + 5, "large")):
        data = body(tag + name, size)
        s3.put_object(Bucket=src_bucket, Key="src/" + name, Body=data, ContentType="text/x-src",
                      Metadata={"origin": src_bucket}, CacheControl="no-cache",
                      Tagging="t=1")
        r = s3.copy_object(Bucket=dst_bucket, Key="copy/" + name,
                           CopySource={"Bucket": src_bucket, "Key": "src/" + name})
        tap.eq(r["CopyObjectResult"]["ETag"], '"%s"' % md5(data), "%s: copy %s ETag is the MD5" % (tag, name))
        g = s3.get_object(Bucket=dst_bucket, Key="copy/" + name)
        tap.ok(g["Body"].read() == data, "%s: copy %s (%d bytes) byte-exact" % (tag, name, size))
        tap.ok(g["ContentType"] == "text/x-src" and g["Metadata"] == {"origin": src_bucket} and
               g.get("CacheControl") == "no-cache" and g.get("TagCount") == 1,
               "%s: COPY directive keeps content-type, metadata, cache-control, tags" % tag,
               {k: g.get(k) for k in ("ContentType", "Metadata", "CacheControl", "TagCount")})
    r = s3.copy_object(Bucket=dst_bucket, Key="copy/replaced",
                       CopySource="%s/src/inline" % src_bucket, MetadataDirective="REPLACE",
                       ContentType="text/x-new", Metadata={"new": "yes"})
    h = s3.head_object(Bucket=dst_bucket, Key="copy/replaced")
    tap.ok(h["ContentType"] == "text/x-new" and h["Metadata"] == {"new": "yes"} and
           "CacheControl" not in h, "%s: REPLACE directive takes the request's metadata" % tag,
           (h["ContentType"], h["Metadata"]))
    src_etag = s3.head_object(Bucket=src_bucket, Key="src/inline")["ETag"]
    tap.eq(code_of(lambda: s3.copy_object(Bucket=dst_bucket, Key="copy/cond",
                                          CopySource="%s/src/inline" % src_bucket,
                                          CopySourceIfMatch='"0000"')),
           "PreconditionFailed", "%s: x-amz-copy-source-if-match is checked on the source" % tag)
    tap.eq(code_of(lambda: s3.copy_object(Bucket=dst_bucket, Key="copy/cond",
                                          CopySource="%s/src/inline" % src_bucket,
                                          CopySourceIfMatch=src_etag)),
           "OK", "%s: and passes with the source's ETag" % tag)
    tap.eq(code_of(lambda: s3.copy_object(Bucket=dst_bucket, Key="copy/none",
                                          CopySource="%s/src/absent" % src_bucket)),
           "NoSuchKey", "%s: absent source key -> NoSuchKey" % tag)

    # UploadPartCopy with ranges from the other backend, plus an uploaded part
    large = body(tag + "large", 3 * MiB + 5)
    up = s3.create_multipart_upload(Bucket=dst_bucket, Key="mpcopy")
    uid = up["UploadId"]
    r1 = s3.upload_part_copy(Bucket=dst_bucket, Key="mpcopy", UploadId=uid, PartNumber=1,
                             CopySource={"Bucket": src_bucket, "Key": "src/large"},
                             CopySourceRange="bytes=0-%d" % (MiB - 1))
    tail = body(tag + "tail", 4 * MiB)
    r2 = s3.upload_part(Bucket=dst_bucket, Key="mpcopy", UploadId=uid, PartNumber=2, Body=tail)
    r3 = s3.upload_part_copy(Bucket=dst_bucket, Key="mpcopy", UploadId=uid, PartNumber=3,
                             CopySource={"Bucket": src_bucket, "Key": "src/large"},
                             CopySourceRange="bytes=%d-%d" % (MiB, 3 * MiB + 4))
    tap.eq(r1["CopyPartResult"]["ETag"], '"%s"' % md5(large[:MiB]), "%s: UploadPartCopy range ETag" % tag)
    parts = [{"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]},
             {"PartNumber": 2, "ETag": r2["ETag"]},
             {"PartNumber": 3, "ETag": r3["CopyPartResult"]["ETag"]}]
    # parts under 5 MiB: the server is configured with a 1 MiB minimum part size
    s3.complete_multipart_upload(Bucket=dst_bucket, Key="mpcopy", UploadId=uid,
                                 MultipartUpload={"Parts": parts})
    want = large[:MiB] + tail + large[MiB:]
    tap.ok(s3.get_object(Bucket=dst_bucket, Key="mpcopy")["Body"].read() == want,
           "%s: UploadPartCopy ranges + an uploaded part complete byte-exact" % tag)
    tap.eq(code_of(lambda: s3.upload_part_copy(Bucket=dst_bucket, Key="mpcopy", UploadId=uid, PartNumber=4,
                                               CopySource={"Bucket": src_bucket, "Key": "src/large"})),
           "NoSuchUpload", "%s: UploadPartCopy to a completed upload -> NoSuchUpload" % tag)
    uid = s3.create_multipart_upload(Bucket=dst_bucket, Key="mpcopy2")["UploadId"]
    try:
        s3.upload_part_copy(Bucket=dst_bucket, Key="mpcopy2", UploadId=uid, PartNumber=1,
                            CopySource={"Bucket": src_bucket, "Key": "src/large"},
                            CopySourceRange="bytes=0-%d" % (3 * MiB + 5))
        got = "OK"
    except ClientError as e:
        got = (e.response["Error"]["Code"], e.response["Error"]["Message"])
    tap.eq(got[0] if isinstance(got, tuple) else got, "InvalidRange",
           "%s: UploadPartCopy range past the source's end -> InvalidRange" % tag)
    s3.abort_multipart_upload(Bucket=dst_bucket, Key="mpcopy2", UploadId=uid)
    g = s3.get_object(Bucket=dst_bucket, Key="mpcopy", PartNumber=3)
    tap.ok(g["Body"].read() == large[MiB:], "%s: partNumber=3 of that object is the copied range" % tag)


# -- DeleteObjects, one authorization per key -------------------------------------------

def delete_objects_per_key(srv, root):
    bucket = "delkeys"
    root.create_bucket(Bucket=bucket)
    keys = ["tmp/a", "tmp/b", "keep/c", "other/d"]
    for k in keys:
        root.put_object(Bucket=bucket, Key=k, Body=k.encode())

    def remaining():
        return sorted(o["Key"] for o in root.list_objects_v2(Bucket=bucket).get("Contents", []))

    # Allowed on the bucket's objects, with an explicit Deny on keep/*.
    deny_keep = user_client(srv, "deny-keep", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:DeleteObject", "s3:ListBucket"],
         "Resource": ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/*" % bucket]},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::%s/keep/*" % bucket}]})
    r = deny_keep.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "tmp/a"}, {"Key": "keep/c"}]})
    tap.eq([d["Key"] for d in r.get("Deleted", [])], ["tmp/a"], "DeleteObjects deletes the allowed key")
    tap.eq([(e["Key"], e["Code"]) for e in r.get("Errors", [])], [("keep/c", "AccessDenied")],
           "and answers AccessDenied for the key an explicit Deny covers")
    tap.eq(remaining(), ["keep/c", "other/d", "tmp/b"], "keep/c is still there")
    r = deny_keep.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "keep/c"}], "Quiet": True})
    tap.eq([(e["Key"], e["Code"]) for e in r.get("Errors", [])], [("keep/c", "AccessDenied")],
           "Quiet still lists the AccessDenied entry")

    # Allowed only under tmp/: the request is accepted and each key decided.
    tmp_only = user_client(srv, "tmp-only", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::%s/tmp/*" % bucket}]})
    try:
        r = tmp_only.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "tmp/b"}, {"Key": "other/d"}]})
        got = ([d["Key"] for d in r.get("Deleted", [])],
               [(e["Key"], e["Code"]) for e in r.get("Errors", [])])
    except ClientError as e:
        got = e.response["Error"]["Code"]
    tap.eq(got, (["tmp/b"], [("other/d", "AccessDenied")]),
           "a user allowed only tmp/*: tmp/b deleted, other/d AccessDenied")
    tap.eq(remaining(), ["keep/c", "other/d"], "only the allowed keys are gone")

    # s3:DeleteObjectVersion is its own action
    vb = "delversions"
    root.create_bucket(Bucket=vb)
    root.put_bucket_versioning(Bucket=vb, VersioningConfiguration={"Status": "Enabled"})
    v1 = root.put_object(Bucket=vb, Key="k", Body=b"one")["VersionId"]
    no_versions = user_client(srv, "no-versions", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::%s/*" % vb}]})
    r = no_versions.delete_objects(Bucket=vb, Delete={"Objects": [{"Key": "k", "VersionId": v1}, {"Key": "k"}]})
    tap.eq([(e["Key"], e.get("VersionId"), e["Code"]) for e in r.get("Errors", [])],
           [("k", v1, "AccessDenied")], "deleting a version needs s3:DeleteObjectVersion")
    tap.ok([d.get("DeleteMarker") for d in r.get("Deleted", [])] == [True],
           "while the plain delete of the same key makes a marker", r.get("Deleted"))
    tap.eq(root.get_object(Bucket=vb, Key="k", VersionId=v1)["Body"].read(), b"one",
           "the version itself is kept")


srv, ec, rep = two_backend_server(extra_config='min_part_size = "1MiB";\n')
srv.port = 21300 + os.getpid() % 50
srv.endpoint = "http://127.0.0.1:%d" % srv.port
with srv:
    s3 = srv.boto3()
    for b in ("ecb", "repb"):
        s3.create_bucket(Bucket=b)
    s3.put_object(Bucket="repb", Key="where", Body=b"here")
    on_replica = [r for d in rep for r, _, files in os.walk(d) if "repb" in r and files]
    tap.ok(on_replica, "bucket repb lives on backend-replica")

    whole = part_number_reads(srv, s3, "ecb")
    part_number_reads(srv, s3, "repb")
    part_number_clients(srv, s3, "ecb", whole)

    cross_backend_copies(s3, "ecb", "repb")
    cross_backend_copies(s3, "repb", "ecb")
    tap.eq(code_of(lambda: s3.copy_object(Bucket="ecb", Key="x", CopySource="nobucket/k")),
           "NoSuchBucket", "copy from an absent bucket -> NoSuchBucket")
    # A copy of a multipart object is one part.
    s3.copy_object(Bucket="ecb", Key="mp-copy", CopySource="repb/mp/obj")
    g = s3.get_object(Bucket="ecb", Key="mp-copy", PartNumber=1)
    tap.ok(g["Body"].read() == s3.get_object(Bucket="repb", Key="mp/obj")["Body"].read() and
           "PartsCount" not in g, "a copied multipart object is a single part")

    delete_objects_per_key(srv, s3)
tap.done()
