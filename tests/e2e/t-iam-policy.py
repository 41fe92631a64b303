#!/usr/bin/env python3
"""t-iam-policy -- IAM and bucket policies end to end with boto3 and plain
HTTP: canned readonly / writeonly users, anonymous GET granted by a bucket
policy on one prefix, a Deny on aws:SecureTransport=false, users confined to
home/${aws:username}/, a disabled user, MalformedPolicy; then the
deliberately simple policy plugin loaded instead of auth-policy through the
config file.  Ports 20050-20099."""
import json
import os
import tempfile
import urllib.error
import urllib.request

from botocore.exceptions import ClientError

from cairn_test import Server, tap
from iam_helpers import admin, client, code_of


def anon_get(srv, path):
    """Unsigned GET with urllib; returns the HTTP status."""
    try:
        with urllib.request.urlopen(srv.endpoint + path, timeout=10) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def add_user(srv, name, policy):
    rc, out = admin(srv, "user", "add", name, name + "-secret-1")
    rc2, out2 = admin(srv, "policy", "attach", policy, "--user", name) if policy else (0, "")
    tap.ok(rc == 0 and rc2 == 0, "user %s with %s" % (name, policy or "no policy"), out + out2)
    return client(srv, name, name + "-secret-1")


def port(base):
    return base + os.getpid() % 25


srv = Server(drives=4)
srv.port = port(20050)
srv.endpoint = "http://127.0.0.1:%d" % srv.port
with srv:
    root = srv.boto3()
    for b in ("data", "pub", "sec", "homes"):
        root.create_bucket(Bucket=b)
    root.put_object(Bucket="data", Key="a.txt", Body=b"a")

    # -- canned policies --------------------------------------------------------
    ro = add_user(srv, "ro-user", "readonly")
    tap.eq(code_of(lambda: ro.get_object(Bucket="data", Key="a.txt")), "OK", "readonly can GET")
    tap.eq(code_of(lambda: ro.list_objects_v2(Bucket="data")), "OK", "readonly can LIST")
    tap.eq(code_of(lambda: ro.put_object(Bucket="data", Key="b.txt", Body=b"b")), "AccessDenied",
           "readonly cannot PUT")
    wo = add_user(srv, "wo-user", "writeonly")
    tap.eq(code_of(lambda: wo.put_object(Bucket="data", Key="w.txt", Body=b"w")), "OK",
           "writeonly can PUT")
    tap.eq(code_of(lambda: wo.get_object(Bucket="data", Key="a.txt")), "AccessDenied",
           "writeonly cannot GET")
    nobody = add_user(srv, "no-policy", None)
    tap.eq(code_of(lambda: nobody.get_object(Bucket="data", Key="a.txt")), "AccessDenied",
           "a user with no policy cannot GET another's bucket")

    # -- anonymous GET on one prefix -------------------------------------------
    root.put_object(Bucket="pub", Key="public/x", Body=b"public")
    root.put_object(Bucket="pub", Key="private/x", Body=b"private")
    tap.eq(anon_get(srv, "/pub/public/x"), 403, "anonymous GET refused before any bucket policy")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::pub/public/*"}]}
    tap.eq(code_of(lambda: root.put_bucket_policy(Bucket="pub", Policy=json.dumps(policy))), "OK",
           "PutBucketPolicy as root")
    tap.eq(anon_get(srv, "/pub/public/x"), 200, "anonymous GET of public/x works")
    tap.eq(anon_get(srv, "/pub/private/x"), 403, "anonymous GET of private/x is 403")
    tap.eq(anon_get(srv, "/pub/"), 403, "anonymous LIST is 403")

    # -- Deny on aws:SecureTransport=false -------------------------------------
    rw = add_user(srv, "rw-user", "readwrite")
    root.put_object(Bucket="sec", Key="s.txt", Body=b"s")
    tap.eq(code_of(lambda: rw.get_object(Bucket="sec", Key="s.txt")), "OK",
           "readwrite user reads over HTTP before the policy")
    deny_http = {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyPlainHTTP", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::sec", "arn:aws:s3:::sec/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    root.put_bucket_policy(Bucket="sec", Policy=json.dumps(deny_http))
    tap.eq(code_of(lambda: rw.get_object(Bucket="sec", Key="s.txt")), "AccessDenied",
           "the Deny on SecureTransport=false blocks plain HTTP")
    tap.eq(code_of(lambda: rw.put_object(Bucket="sec", Key="t.txt", Body=b"t")), "AccessDenied",
           "writes too")
    tap.eq(code_of(lambda: rw.get_object(Bucket="data", Key="a.txt")), "OK",
           "other buckets are unaffected")

    # -- home/${aws:username}/ ---------------------------------------------------
    home = {"Version": "2012-10-17", "Statement": [
        {"Sid": "ListOwnHome", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": "arn:aws:s3:::homes",
         "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*",
                                                    "home/${aws:username}/"]}}},
        {"Sid": "OwnObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": "arn:aws:s3:::homes/home/${aws:username}/*"}]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(home, f)
    rc, out = admin(srv, "policy", "create", "own-home", f.name)
    os.unlink(f.name)
    tap.eq(rc, 0, "policy own-home created with the CLI")
    hanna = add_user(srv, "hanna", "own-home")
    henry = add_user(srv, "henry", "own-home")
    root.put_object(Bucket="homes", Key="home/henry/secret.txt", Body=b"henry's")
    tap.eq(code_of(lambda: hanna.put_object(Bucket="homes", Key="home/hanna/a.txt", Body=b"h")),
           "OK", "hanna writes in her home")
    tap.eq(code_of(lambda: hanna.get_object(Bucket="homes", Key="home/hanna/a.txt")), "OK",
           "hanna reads her home")
    try:
        keys = [o["Key"] for o in
                hanna.list_objects_v2(Bucket="homes", Prefix="home/hanna/").get("Contents", [])]
    except ClientError as e:
        keys = e.response["Error"]["Code"]
    tap.eq(keys, ["home/hanna/a.txt"], "hanna lists her home")
    tap.eq(code_of(lambda: hanna.list_objects_v2(Bucket="homes", Prefix="home/henry/")),
           "AccessDenied", "hanna cannot list henry's home")
    tap.eq(code_of(lambda: hanna.list_objects_v2(Bucket="homes")), "AccessDenied",
           "nor the whole bucket")
    tap.eq(code_of(lambda: hanna.get_object(Bucket="homes", Key="home/henry/secret.txt")),
           "AccessDenied", "hanna cannot read henry's files")
    tap.eq(code_of(lambda: henry.get_object(Bucket="homes", Key="home/henry/secret.txt")), "OK",
           "henry can")

    # -- disabled user -----------------------------------------------------------
    tap.eq(admin(srv, "user", "disable", "ro-user")[0], 0, "disable ro-user")
    c = code_of(lambda: ro.get_object(Bucket="data", Key="a.txt"))
    tap.ok(c in ("AccessDenied", "InvalidAccessKeyId"), "a disabled user is refused at once", c)

    # -- MalformedPolicy ---------------------------------------------------------
    bad = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Perhaps", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::pub/*"}]}
    try:
        root.put_bucket_policy(Bucket="pub", Policy=json.dumps(bad))
        got = ("OK", "")
    except ClientError as e:
        got = (e.response["Error"]["Code"], e.response["Error"].get("Message", ""))
    tap.ok(got[0] == "MalformedPolicy" and got[1], "an invalid Effect: MalformedPolicy with a reason", got)
    tap.eq(code_of(lambda: root.put_bucket_policy(Bucket="pub", Policy="{not json")),
           "MalformedPolicy", "a document that is not JSON: MalformedPolicy")
    tap.eq(anon_get(srv, "/pub/public/x"), 200, "the earlier bucket policy still holds")

# -- the simple policy plugin, loaded through the config file ----------------------
simple = Server(drives=1, config='policy = { name = "simple"; plugin = "policy-simple"; prefix = "team-"; };\n')
simple.port = port(20075)
simple.endpoint = "http://127.0.0.1:%d" % simple.port
with simple:
    rc, out = admin(simple, "--json", "info")
    tap.ok(rc == 0 and '"policy-simple"' in out, "info names policy-simple", out)
    root = simple.boto3()
    root.create_bucket(Bucket="team-a")
    root.create_bucket(Bucket="private")
    root.put_object(Bucket="private", Key="p", Body=b"p")
    u = add_user(simple, "member", None)
    tap.eq(code_of(lambda: u.put_object(Bucket="team-a", Key="k", Body=b"k")), "OK",
           "a non-root user may write a team-* bucket")
    tap.eq(code_of(lambda: u.get_object(Bucket="team-a", Key="k")), "OK", "and read it")
    tap.eq(code_of(lambda: u.get_object(Bucket="private", Key="p")), "AccessDenied",
           "but is refused elsewhere")
    tap.eq(code_of(lambda: u.put_object(Bucket="private", Key="q", Body=b"q")), "AccessDenied",
           "writes too")
    tap.eq(anon_get(simple, "/team-a/k"), 403, "anonymous callers get nothing from policy-simple")
tap.done()
