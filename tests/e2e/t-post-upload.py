#!/usr/bin/env python3
"""t-post-upload -- browser POST uploads (PostObject) end to end: forms made by
boto3 1.43's generate_presigned_post (SigV4, and SigV2 with signature_version
's3'), posted with curl -F and with python requests, read back byte-exact
(small and 20 MiB); then the policy checks S3 makes (starts-with key,
content-length-range too big and too small, expiry, tampered policy, wrong
secret, unknown key, missing and uncovered fields), success_action_status 201
(PostResponse XML) and success_action_redirect (303), Content-MD5, malformed
bodies, and authorization: a user without s3:PutObject is refused, anonymous
POST only where a bucket policy grants it.  Ports 21400-21449."""
import base64
import hashlib
import json
import os
import subprocess
import tempfile
import urllib.parse
import xml.etree.ElementTree as ET

import boto3
import requests
from botocore.exceptions import ClientError

from cairn_test import Server, tap
from iam_helpers import admin, client


def v4(srv, *args, **kw):
    """A client that signs forms with SigV4 (botocore's POST default is SigV2)."""
    return client(srv, *args, signature_version="s3v4", **kw)

BUCKET = "forms"


def post_requests(post, data, filename="f.bin", fields=None, drop=()):
    """POSTs the form with python requests; returns (status, headers, body)."""
    f = dict(post["fields"])
    f.update(fields or {})
    for d in drop:
        f.pop(d, None)
    r = requests.post(post["url"], data=f, files={"file": (filename, data)},
                      allow_redirects=False, timeout=120)
    return r.status_code, r.headers, r.content


def post_curl(post, path, tmp):
    """POSTs the form with curl -F (file last, as S3 requires)."""
    out = os.path.join(tmp, "curl-out")
    cmd = ["curl", "-sS", "-o", out, "-w", "%{http_code}"]
    for k, v in post["fields"].items():
        cmd += ["--form-string", "%s=%s" % (k, v)]
    cmd += ["-F", "file=@%s" % path, post["url"]]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    with open(out, "rb") as f:
        body = f.read()
    return int(p.stdout or b"0"), body


def err_code(body):
    try:
        root = ET.fromstring(body)
        return root.findtext("Code"), root.findtext("Message")
    except ET.ParseError:
        return None, body[:200]


def get_bytes(c, key):
    try:
        return c.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    except ClientError as e:
        return e.response["Error"]["Code"]


def expect_error(res, status, code, name, message_part=None):
    st, _, body = res
    got, msg = err_code(body)
    good = st == status and got == code and (message_part is None or message_part in (msg or ""))
    tap.ok(good, name, "got %s %s %r" % (st, got, msg))


def port(base):
    return base + os.getpid() % 50


srv = Server(drives=4)
srv.port = port(21400)
srv.endpoint = "http://127.0.0.1:%d" % srv.port
tmp = tempfile.mkdtemp(prefix="cairn-post-")
with srv:
    root = v4(srv)
    root.create_bucket(Bucket=BUCKET)
    small = os.urandom(1500)
    big = os.urandom(20 * 1024 * 1024)
    big_path = os.path.join(tmp, "big.bin")
    small_path = os.path.join(tmp, "small.bin")
    with open(big_path, "wb") as f:
        f.write(big)
    with open(small_path, "wb") as f:
        f.write(small)

    # -- (a) SigV4 forms from boto3 1.43, posted with curl and requests -------
    tap.ok(boto3.__version__.startswith("1.43"), "boto3 is 1.43 (%s)" % boto3.__version__)
    post = root.generate_presigned_post(BUCKET, "curl/${filename}", ExpiresIn=600)
    tap.ok(post["fields"].get("x-amz-algorithm") == "AWS4-HMAC-SHA256" and "x-amz-signature" in post["fields"],
           "boto3 makes a SigV4 form", sorted(post["fields"]))
    for name, path, data in (("small.bin", small_path, small), ("big.bin", big_path, big)):
        st, body = post_curl(post, path, tmp)
        tap.eq(st, 204, "curl -F %s (%d bytes, SigV4): 204" % (name, len(data)))
        tap.ok(get_bytes(root, "curl/" + name) == data, "curl upload %s reads back byte-exact" % name)
    for name, data in (("small", small), ("big", big)):
        post = root.generate_presigned_post(BUCKET, "requests/" + name, ExpiresIn=600)
        st, hdr, body = post_requests(post, data)
        tap.eq(st, 204, "requests POST %s (SigV4): 204" % name)
        tap.eq(hdr.get("ETag"), '"%s"' % hashlib.md5(data).hexdigest(), "ETag header is the MD5 (%s)" % name)
        tap.ok(get_bytes(root, "requests/" + name) == data, "requests upload %s reads back byte-exact" % name)

    # Stored metadata and Content-Type come from covered fields.
    post = root.generate_presigned_post(
        BUCKET, "meta.txt", Fields={"Content-Type": "text/plain", "x-amz-meta-color": "blue",
                                    "Cache-Control": "no-cache"},
        Conditions=[{"Content-Type": "text/plain"}, {"x-amz-meta-color": "blue"},
                    ["starts-with", "$Cache-Control", ""]], ExpiresIn=600)
    st, _, _ = post_requests(post, b"hello")
    h = root.head_object(Bucket=BUCKET, Key="meta.txt")
    tap.ok(st == 204 and h["ContentType"] == "text/plain" and h["Metadata"] == {"color": "blue"}
           and h.get("CacheControl") == "no-cache", "Content-Type, Cache-Control and x-amz-meta-* stored", h)

    # -- (b) SigV2 policy (botocore signature_version 's3') ----------------------
    v2 = client(srv, signature_version="s3")
    post = v2.generate_presigned_post(BUCKET, "v2/${filename}", ExpiresIn=600)
    tap.ok("signature" in post["fields"] and "AWSAccessKeyId" in post["fields"],
           "botocore 's3' makes a SigV2 form", sorted(post["fields"]))
    st, body = post_curl(post, small_path, tmp)
    tap.eq(st, 204, "curl -F with a SigV2 policy: 204")
    tap.ok(get_bytes(root, "v2/small.bin") == small, "SigV2 upload reads back byte-exact")
    bad = dict(post, fields=dict(post["fields"], signature=base64.b64encode(b"x" * 20).decode()))
    expect_error(post_requests(bad, small), 403, "SignatureDoesNotMatch", "SigV2 wrong signature refused")

    # -- (c) conditions ---------------------------------------------------------
    post = root.generate_presigned_post(BUCKET, "user/${filename}", ExpiresIn=600)
    st, _, _ = post_requests(post, b"ok", filename="a.txt")
    tap.ok(st == 204 and get_bytes(root, "user/a.txt") == b"ok", "starts-with $key user/: user/a.txt accepted")
    expect_error(post_requests(post, b"no", fields={"key": "other/a.txt"}), 403, "AccessDenied",
                 "starts-with $key: other/a.txt refused", "Policy Condition failed")
    tap.eq(get_bytes(root, "other/a.txt"), "NoSuchKey", "nothing stored for the refused key")

    post = root.generate_presigned_post(BUCKET, "ranged", Conditions=[["content-length-range", 10, 1000]],
                                        ExpiresIn=600)
    expect_error(post_requests(post, b"x" * 5000), 400, "EntityTooLarge", "content-length-range: too big")
    tap.eq(get_bytes(root, "ranged"), "NoSuchKey", "too big: nothing committed")
    expect_error(post_requests(post, b"x" * 5), 400, "EntityTooSmall", "content-length-range: too small")
    tap.eq(get_bytes(root, "ranged"), "NoSuchKey", "too small: nothing committed")
    st, _, _ = post_requests(post, b"x" * 1000)
    tap.eq(st, 204, "content-length-range: the maximum itself is accepted")
    big_post = root.generate_presigned_post(BUCKET, "ranged-big", ExpiresIn=600,
                                            Conditions=[["content-length-range", 0, 1024 * 1024]])
    st, body = post_curl(big_post, big_path, tmp)
    tap.ok(st == 400 and err_code(body)[0] == "EntityTooLarge", "20 MiB against a 1 MiB range: EntityTooLarge", st)

    expired = root.generate_presigned_post(BUCKET, "late", ExpiresIn=-60)
    expect_error(post_requests(expired, b"late"), 403, "AccessDenied", "expired policy refused",
                 "Policy expired")

    post = root.generate_presigned_post(BUCKET, "tamper", ExpiresIn=600)
    doc = json.loads(base64.b64decode(post["fields"]["policy"]))
    doc["conditions"].append(["content-length-range", 0, 10 ** 12])
    forged = base64.b64encode(json.dumps(doc).encode()).decode()
    expect_error(post_requests(post, b"t", fields={"policy": forged}), 403, "SignatureDoesNotMatch",
                 "tampered policy refused")
    expect_error(post_requests(post, b"t", fields={"x-amz-signature": "0" * 64}), 403,
                 "SignatureDoesNotMatch", "wrong signature refused")
    wrong = v4(srv, secret="not-the-secret").generate_presigned_post(BUCKET, "tamper", ExpiresIn=600)
    expect_error(post_requests(wrong, b"t"), 403, "SignatureDoesNotMatch", "form signed with a wrong secret")
    unknown = v4(srv, key="NOSUCHKEY", secret="x").generate_presigned_post(BUCKET, "tamper", ExpiresIn=600)
    expect_error(post_requests(unknown, b"t"), 403, "InvalidAccessKeyId", "unknown access key")
    expect_error(post_requests(post, b"t", drop=("key",)), 400, "InvalidArgument", "missing key field")
    expect_error(post_requests(post, b"t", drop=("policy",)), 400, "InvalidArgument", "missing policy field")
    expect_error(post_requests(post, b"t", drop=("x-amz-date",)), 400, "InvalidArgument",
                 "missing x-amz-date field")
    expect_error(post_requests(post, b"t", fields={"x-amz-meta-extra": "1"}), 403, "AccessDenied",
                 "a field no condition covers", "Extra input fields: x-amz-meta-extra")
    st, _, _ = post_requests(post, b"t", fields={"x-ignore-note": "1"})
    tap.eq(st, 204, "x-ignore-* fields need no condition")
    tap.eq(get_bytes(root, "tamper"), b"t", "only the honest form stored")

    post = root.generate_presigned_post(BUCKET, "created", Fields={"success_action_status": "201"},
                                        Conditions=[{"success_action_status": "201"}], ExpiresIn=600)
    st, hdr, body = post_requests(post, b"201 body")
    x = ET.fromstring(body) if st == 201 else None
    etag = '"%s"' % hashlib.md5(b"201 body").hexdigest()
    tap.ok(x is not None and x.tag == "PostResponse" and x.findtext("Bucket") == BUCKET
           and x.findtext("Key") == "created" and x.findtext("ETag") == etag
           and x.findtext("Location", "").endswith("/%s/created" % BUCKET),
           "success_action_status 201: PostResponse XML", body)
    post = root.generate_presigned_post(BUCKET, "ok200", Fields={"success_action_status": "200"},
                                        Conditions=[{"success_action_status": "200"}], ExpiresIn=600)
    tap.eq(post_requests(post, b"x")[0], 200, "success_action_status 200")

    redirect = "http://example.test/done?from=cairn"
    post = root.generate_presigned_post(BUCKET, "dir/redirected file", ExpiresIn=600,
                                        Fields={"success_action_redirect": redirect},
                                        Conditions=[{"success_action_redirect": redirect}])
    st, hdr, _ = post_requests(post, b"moved")
    loc = urllib.parse.urlsplit(hdr.get("Location", ""))
    q = urllib.parse.parse_qs(loc.query)
    tap.ok(st == 303 and loc.netloc == "example.test" and q.get("bucket") == [BUCKET]
           and q.get("key") == ["dir/redirected file"]
           and q.get("etag") == ['"%s"' % hashlib.md5(b"moved").hexdigest()] and q.get("from") == ["cairn"],
           "success_action_redirect: 303 with bucket, key and etag", hdr.get("Location"))

    data = b"checked"
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    post = root.generate_presigned_post(BUCKET, "md5", Fields={"Content-MD5": md5},
                                        Conditions=[["starts-with", "$Content-MD5", ""]], ExpiresIn=600)
    tap.eq(post_requests(post, data)[0], 204, "Content-MD5 field that matches")
    expect_error(post_requests(post, b"other"), 400, "BadDigest", "Content-MD5 field that does not match")

    # -- malformed requests -------------------------------------------------------
    r = requests.post(srv.endpoint + "/" + BUCKET, data={"key": "x"}, timeout=30)
    expect_error((r.status_code, r.headers, r.content), 412, "PreconditionFailed",
                 "POST that is not multipart/form-data")
    post = root.generate_presigned_post(BUCKET, "big-field", ExpiresIn=600)
    expect_error(post_requests(post, b"x", fields={"x-ignore-pad": "p" * 70000}), 400,
                 "MaxPostPreDataLengthExceeded", "fields over 64 KiB before the file")
    hdrs = {"Content-Type": "multipart/form-data; boundary=XX"}
    cut = b'--XX\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--XX\r\nContent-Disp'
    r = requests.post(srv.endpoint + "/" + BUCKET, data=cut, headers=hdrs, timeout=30)
    expect_error((r.status_code, r.headers, r.content), 400, "MalformedPOSTRequest", "truncated form")
    nofile = b'--XX\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--XX--\r\n'
    r = requests.post(srv.endpoint + "/" + BUCKET, data=nofile, headers=hdrs, timeout=30)
    expect_error((r.status_code, r.headers, r.content), 400, "InvalidArgument", "form without a file")

    # -- (d) authorization ----------------------------------------------------------
    rc, out = admin(srv, "user", "add", "reader", "reader-secret-1")
    rc2, out2 = admin(srv, "policy", "attach", "readonly", "--user", "reader")
    rc3, out3 = admin(srv, "user", "add", "writer", "writer-secret-1")
    rc4, out4 = admin(srv, "policy", "attach", "writeonly", "--user", "writer")
    tap.ok(rc == rc2 == rc3 == rc4 == 0, "users reader (readonly) and writer (writeonly)", out + out2 + out3 + out4)
    post = v4(srv, "reader", "reader-secret-1").generate_presigned_post(BUCKET, "by-reader", ExpiresIn=600)
    expect_error(post_requests(post, b"r"), 403, "AccessDenied", "a user without s3:PutObject is refused")
    tap.eq(get_bytes(root, "by-reader"), "NoSuchKey", "nothing stored for the reader")
    post = v4(srv, "writer", "writer-secret-1").generate_presigned_post(BUCKET, "by-writer", ExpiresIn=600)
    st, _, _ = post_requests(post, b"w")
    tap.ok(st == 204 and get_bytes(root, "by-writer") == b"w", "a user with s3:PutObject uploads")

    anon = {"url": srv.endpoint + "/" + BUCKET, "fields": {"key": "drop/anon.txt"}}
    expect_error(post_requests(anon, b"a"), 403, "AccessDenied", "anonymous POST without a bucket policy")
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::%s/drop/*" % BUCKET}]}
    root.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    st, _, _ = post_requests(anon, b"a")
    tap.ok(st == 204 and get_bytes(root, "drop/anon.txt") == b"a",
           "anonymous POST where the bucket policy grants s3:PutObject")
    anon["fields"] = {"key": "private/anon.txt"}
    expect_error(post_requests(anon, b"a"), 403, "AccessDenied", "anonymous POST outside the granted prefix")
tap.done()
