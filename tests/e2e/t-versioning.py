#!/usr/bin/env python3
"""Bucket versioning end to end with boto3: three versions, reads by version,
delete markers, ListObjectVersions paging, restore by copy, deleting specific
versions, suspended versioning and the null version, multipart on a versioned
bucket.  Runs the same workflow on backend-ec and on backend-replica."""
import os

import botocore.exceptions

from cairn_test import Server, tap


def err(fn):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return e.response
    return None


def code(fn):
    r = err(fn)
    return r and r["Error"]["Code"]


def workflow(s3, tag):
    b = "vers-" + tag
    s3.create_bucket(Bucket=b)
    tap.eq(s3.get_bucket_versioning(Bucket=b).get("Status"), None,
           "%s: a new bucket has no versioning status" % tag)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    tap.eq(s3.get_bucket_versioning(Bucket=b).get("Status"), "Enabled", "%s: Enabled" % tag)

    bodies = [b"first version", b"second version, longer", b"third" * 1000]
    vids = [s3.put_object(Bucket=b, Key="doc.txt", Body=x)["VersionId"] for x in bodies]
    tap.ok(all(vids) and len(set(vids)) == 3 and "null" not in vids,
           "%s: three PUTs, three distinct version ids" % tag, vids)
    tap.eq(s3.get_object(Bucket=b, Key="doc.txt")["Body"].read(), bodies[2],
           "%s: GET latest = third" % tag)
    for i, v in enumerate(vids):
        r = s3.get_object(Bucket=b, Key="doc.txt", VersionId=v)
        tap.ok(r["Body"].read() == bodies[i] and r["VersionId"] == v,
               "%s: GET version %d byte-exact" % (tag, i + 1))
        h = s3.head_object(Bucket=b, Key="doc.txt", VersionId=v)
        tap.ok(h["ContentLength"] == len(bodies[i]) and h["VersionId"] == v,
               "%s: HEAD version %d" % (tag, i + 1))
    tap.eq(code(lambda: s3.get_object(Bucket=b, Key="doc.txt", VersionId="nosuchversion")),
           "NoSuchVersion", "%s: unknown version id -> NoSuchVersion" % tag)

    # A plain DELETE adds a delete marker.
    d = s3.delete_object(Bucket=b, Key="doc.txt")
    tap.ok(d.get("DeleteMarker") is True and d.get("VersionId"),
           "%s: DELETE -> delete marker with a version id" % tag, d)
    dm = d.get("VersionId")
    r = err(lambda: s3.get_object(Bucket=b, Key="doc.txt"))
    tap.ok(r and r["Error"]["Code"] == "NoSuchKey" and
           r["ResponseMetadata"]["HTTPHeaders"].get("x-amz-delete-marker") == "true",
           "%s: GET after delete -> NoSuchKey with x-amz-delete-marker" % tag,
           r and r["ResponseMetadata"])
    r = err(lambda: s3.get_object(Bucket=b, Key="doc.txt", VersionId=dm))
    tap.ok(r and r["ResponseMetadata"]["HTTPStatusCode"] == 405 and
           r["Error"]["Code"] == "MethodNotAllowed",
           "%s: GET ?versionId of a delete marker -> 405 MethodNotAllowed" % tag,
           r and (r["Error"], r["ResponseMetadata"]["HTTPStatusCode"]))

    # ListObjectVersions.
    s3.put_object(Bucket=b, Key="dir/a", Body=b"a")
    s3.put_object(Bucket=b, Key="dir/b", Body=b"b")
    s3.put_object(Bucket=b, Key="sp ace+%.txt", Body=b"s")
    lv = s3.list_object_versions(Bucket=b, Prefix="doc")
    vs = lv.get("Versions", [])
    ms = lv.get("DeleteMarkers", [])
    tap.eq([v["VersionId"] for v in vs], vids[::-1], "%s: 3 versions, newest first" % tag)
    tap.ok(not any(v["IsLatest"] for v in vs), "%s: no version is latest" % tag)
    tap.ok(len(ms) == 1 and ms[0]["VersionId"] == dm and ms[0]["IsLatest"],
           "%s: 1 delete marker, latest" % tag, ms)
    lv = s3.list_object_versions(Bucket=b, Delimiter="/")
    tap.eq([p["Prefix"] for p in lv.get("CommonPrefixes", [])], ["dir/"],
           "%s: delimiter rolls up dir/" % tag)
    # Paging one entry at a time walks every version and marker exactly once.
    seen, km, vm, pages = [], None, None, 0
    while pages < 50:
        kw = {"Bucket": b, "MaxKeys": 1}
        if km is not None:
            kw.update(KeyMarker=km, VersionIdMarker=vm)
        p = s3.list_object_versions(**kw)
        pages += 1
        got = [(x["Key"], x["VersionId"]) for x in p.get("Versions", []) + p.get("DeleteMarkers", [])]
        tap.ok(len(got) <= 1, "%s: max-keys=1 page %d has at most one entry" % (tag, pages))
        seen += got
        if not p.get("IsTruncated"):
            break
        km, vm = p.get("NextKeyMarker"), p.get("NextVersionIdMarker")
    tap.eq(len(seen), 7, "%s: paging saw 7 entries (3 versions + marker of doc.txt, dir/a, dir/b, sp ace)" % tag)
    tap.eq(len(set(seen)), len(seen), "%s: no entry twice while paging" % tag)
    raw = s3.list_object_versions(Bucket=b, Prefix="sp", EncodingType="url")
    tap.eq([v["Key"] for v in raw.get("Versions", [])], ["sp%20ace%2B%25.txt"],
           "%s: encoding-type=url encodes keys (boto3 leaves an explicit EncodingType to the caller)" % tag)

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=b).get("Contents", [])]
    tap.ok("doc.txt" not in keys and "dir/a" in keys, "%s: ListObjectsV2 hides a deleted key" % tag, keys)

    # Restore by copying an old version.
    c = s3.copy_object(Bucket=b, Key="doc.txt",
                       CopySource={"Bucket": b, "Key": "doc.txt", "VersionId": vids[0]})
    restored = c.get("VersionId")
    tap.ok(restored and restored not in vids + [dm], "%s: copy from version 1 makes a new version" % tag, c)
    tap.eq(c.get("CopySourceVersionId"), vids[0], "%s: x-amz-copy-source-version-id" % tag)
    tap.eq(s3.get_object(Bucket=b, Key="doc.txt")["Body"].read(), bodies[0],
           "%s: restored: latest = first body" % tag)

    # Delete specific versions.
    d = s3.delete_object(Bucket=b, Key="doc.txt", VersionId=vids[1])
    tap.eq(d.get("VersionId"), vids[1], "%s: DeleteObject VersionId" % tag)
    r = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "doc.txt", "VersionId": vids[2]}]})
    tap.ok([x.get("VersionId") for x in r.get("Deleted", [])] == [vids[2]] and not r.get("Errors"),
           "%s: DeleteObjects with VersionId" % tag, r)
    tap.eq(code(lambda: s3.get_object(Bucket=b, Key="doc.txt", VersionId=vids[1])), "NoSuchVersion",
           "%s: deleted version 2 is gone" % tag)
    tap.eq(code(lambda: s3.head_object(Bucket=b, Key="doc.txt", VersionId=vids[2])), "404",
           "%s: deleted version 3 is gone" % tag)
    tap.eq(s3.get_object(Bucket=b, Key="doc.txt", VersionId=vids[0])["Body"].read(), bodies[0],
           "%s: version 1 intact" % tag)
    left = s3.list_object_versions(Bucket=b, Prefix="doc.txt")
    tap.eq(sorted(v["VersionId"] for v in left.get("Versions", [])), sorted([vids[0], restored]),
           "%s: versions left: 1 and the restored copy" % tag)

    # Removing a delete marker by version id brings the key back.
    s3.put_object(Bucket=b, Key="back", Body=b"I am back")
    d = s3.delete_object(Bucket=b, Key="back")
    tap.eq(code(lambda: s3.get_object(Bucket=b, Key="back")), "NoSuchKey", "%s: marker hides key" % tag)
    d2 = s3.delete_object(Bucket=b, Key="back", VersionId=d["VersionId"])
    tap.ok(d2.get("DeleteMarker") is True, "%s: deleting a marker says x-amz-delete-marker" % tag, d2)
    tap.eq(s3.get_object(Bucket=b, Key="back")["Body"].read(), b"I am back",
           "%s: removing the marker brings the key back" % tag)

    # Multipart complete on a versioned bucket returns a version id.
    up = s3.create_multipart_upload(Bucket=b, Key="mp")
    part = s3.upload_part(Bucket=b, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"m" * 1000)
    done = s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    tap.ok(done.get("VersionId") and done["VersionId"] != "null",
           "%s: multipart complete returns a version id" % tag, done)

    # Suspended: writes replace the null version; versions stay.
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    tap.eq(s3.get_bucket_versioning(Bucket=b).get("Status"), "Suspended", "%s: Suspended" % tag)
    p1 = s3.put_object(Bucket=b, Key="doc.txt", Body=b"null one")
    p2 = s3.put_object(Bucket=b, Key="doc.txt", Body=b"null two")
    tap.ok(p1.get("VersionId", "null") == "null" and p2.get("VersionId", "null") == "null",
           "%s: suspended PUTs write the null version" % tag, (p1.get("VersionId"), p2.get("VersionId")))
    lv = s3.list_object_versions(Bucket=b, Prefix="doc.txt").get("Versions", [])
    nulls = [v for v in lv if v["VersionId"] == "null"]
    tap.ok(len(nulls) == 1 and nulls[0]["IsLatest"], "%s: one null version, latest" % tag, lv)
    tap.eq(s3.get_object(Bucket=b, Key="doc.txt", VersionId="null")["Body"].read(), b"null two",
           "%s: null version replaced" % tag)
    tap.eq(s3.get_object(Bucket=b, Key="doc.txt", VersionId=vids[0])["Body"].read(), bodies[0],
           "%s: older versions survive suspension" % tag)

    # Never back to unversioned.
    r = err(lambda: s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Disabled"}))
    tap.ok(r and r["Error"]["Code"] in ("MalformedXML", "IllegalVersioningConfigurationException"),
           "%s: Status Disabled refused" % tag, r and r["Error"])
    tap.eq(s3.get_bucket_versioning(Bucket=b).get("Status"), "Suspended", "%s: still Suspended" % tag)

    # Older versions live in files of their own: deleting the latest by id
    # brings back the next newest; deleting the oldest leaves the rest.
    k = "stack"
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    sv = [s3.put_object(Bucket=b, Key=k, Body=b"v%d" % i)["VersionId"] for i in range(4)]
    s3.delete_object(Bucket=b, Key=k, VersionId=sv[3])
    r = s3.get_object(Bucket=b, Key=k)
    tap.ok(r["Body"].read() == b"v2" and r["VersionId"] == sv[2],
           "%s: deleting the latest version by id makes the next newest current" % tag)
    s3.delete_object(Bucket=b, Key=k, VersionId=sv[0])
    lv = s3.list_object_versions(Bucket=b, Prefix=k).get("Versions", [])
    tap.eq([(v["VersionId"], v["IsLatest"]) for v in lv], [(sv[2], True), (sv[1], False)],
           "%s: deleting the oldest by id leaves the others, newest first" % tag)
    dm2 = s3.delete_object(Bucket=b, Key=k)["VersionId"]
    s3.delete_object(Bucket=b, Key=k, VersionId=dm2)
    tap.eq(s3.get_object(Bucket=b, Key=k)["Body"].read(), b"v2",
           "%s: removing the delete marker by id restores the object" % tag)
    # Suspended: a new null version replaces an older null version that is
    # no longer the latest.
    n = "nulls"
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=b, Key=n, Body=b"null-1")
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    mid = s3.put_object(Bucket=b, Key=n, Body=b"versioned")["VersionId"]
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=b, Key=n, Body=b"null-2")
    lv = s3.list_object_versions(Bucket=b, Prefix=n).get("Versions", [])
    tap.eq([v["VersionId"] for v in lv], ["null", mid],
           "%s: one null version after a suspended PUT over an older null" % tag)
    tap.eq(s3.get_object(Bucket=b, Key=n, VersionId="null")["Body"].read(), b"null-2",
           "%s: the null version is the new one" % tag)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    s3.delete_object(Bucket=b, Key=n, VersionId="null")
    tap.eq(s3.get_object(Bucket=b, Key=n)["Body"].read(), b"versioned",
           "%s: deleting the latest (null) version brings back the versioned one" % tag)

    # Unversioned bucket: version id null/absent.
    u = "plain-" + tag
    s3.create_bucket(Bucket=u)
    s3.put_object(Bucket=u, Key="k", Body=b"1")
    lv = s3.list_object_versions(Bucket=u).get("Versions", [])
    tap.ok(len(lv) == 1 and lv[0]["VersionId"] == "null" and lv[0]["IsLatest"],
           "%s: unversioned bucket lists the null version" % tag, lv)


backends = [("ec", None)]
if os.environ.get("CAIRN_SKIP_REPLICA") != "1":
    backends.append(("replica", 'backends = ( { name = "default"; plugin = "backend-replica"; '
                                'drives = [ %s ]; } );\n'))
for name, cfg in backends:
    srv = Server(drives=3)
    if cfg:
        srv.config = cfg % ", ".join('"%s"' % d for d in srv.drive_paths)
    with srv:
        workflow(srv.boto3(), name)
tap.done()
