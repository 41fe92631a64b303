#!/usr/bin/env python3
"""t-principals -- several users are distinct principals (issue 5): two users
made with `cairn admin user add`, whose only identity policy lets them create
and list buckets, own the buckets they create (ownership is their access); ListBuckets shows each only their own (root sees all);
the other user's bucket answers AccessDenied until its owner grants access
with a bucket policy, and then only for what the policy grants.
Ports 21450-21499."""
import json
import os
import tempfile

from cairn_test import Server, tap
from iam_helpers import admin, client, code_of


# What a tenant may do outside ownership: make buckets and list their own.
TENANT = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:CreateBucket", "s3:ListAllMyBuckets"], "Resource": "*"}]}


def user(srv, name):
    secret = name + "-secret-1"
    rc, out = admin(srv, "user", "add", name, secret)
    rc2, out2 = admin(srv, "policy", "attach", "tenant", "--user", name)
    tap.ok(rc == 0 and rc2 == 0, "cairn admin user add %s (policy tenant)" % name, out + out2)
    return client(srv, name, secret)


def names(c):
    return sorted(b["Name"] for b in c.list_buckets()["Buckets"])


srv = Server(drives=4)
srv.port = 21450 + os.getpid() % 50
srv.endpoint = "http://127.0.0.1:%d" % srv.port
with srv:
    root = srv.boto3()
    root.create_bucket(Bucket="root-bucket")
    doc = os.path.join(tempfile.mkdtemp(prefix="cairn-principals-"), "tenant.json")
    with open(doc, "w") as f:
        json.dump(TENANT, f)
    rc, out = admin(srv, "policy", "create", "tenant", doc)
    tap.eq(rc, 0, "policy tenant: CreateBucket and ListAllMyBuckets only")
    alice = user(srv, "alice")
    bob = user(srv, "bob")
    tap.eq(code_of(lambda: alice.create_bucket(Bucket="alice-data")), "OK", "alice creates alice-data")
    tap.eq(code_of(lambda: bob.create_bucket(Bucket="bob-data")), "OK", "bob creates bob-data")
    alice.put_object(Bucket="alice-data", Key="a.txt", Body=b"alice's")
    bob.put_object(Bucket="bob-data", Key="b.txt", Body=b"bob's")

    tap.eq(names(alice), ["alice-data"], "ListBuckets shows alice only her bucket")
    tap.eq(names(bob), ["bob-data"], "ListBuckets shows bob only his bucket")
    tap.eq(names(root), ["alice-data", "bob-data", "root-bucket"], "root sees every bucket")
    owner = alice.list_buckets()["Owner"]
    tap.ok(owner.get("ID") == "alice" or owner.get("DisplayName") == "alice",
           "ListBuckets names alice as the owner", owner)
    tap.eq(code_of(lambda: bob.create_bucket(Bucket="alice-data")), "BucketAlreadyExists",
           "bob cannot take alice's bucket name")

    # Another user's bucket: AccessDenied (ownership is per principal).
    tap.eq(code_of(lambda: bob.get_object(Bucket="alice-data", Key="a.txt")), "AccessDenied",
           "bob cannot read alice's object")
    tap.eq(code_of(lambda: bob.list_objects_v2(Bucket="alice-data")), "AccessDenied",
           "bob cannot list alice's bucket")
    tap.eq(code_of(lambda: bob.put_object(Bucket="alice-data", Key="x", Body=b"x")), "AccessDenied",
           "bob cannot write into alice's bucket")
    tap.eq(code_of(lambda: bob.delete_bucket(Bucket="alice-data")), "AccessDenied",
           "bob cannot delete alice's bucket")
    tap.eq(code_of(lambda: alice.get_object(Bucket="bob-data", Key="b.txt")), "AccessDenied",
           "alice cannot read bob's object")
    tap.eq(code_of(lambda: bob.put_bucket_policy(Bucket="alice-data", Policy="{}")), "AccessDenied",
           "bob cannot set a policy on alice's bucket")

    # The owner grants bob read access on one prefix with a bucket policy.
    alice.put_object(Bucket="alice-data", Key="shared/s.txt", Body=b"for bob")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ["bob"]}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::alice-data/shared/*"}]}
    tap.eq(code_of(lambda: alice.put_bucket_policy(Bucket="alice-data", Policy=json.dumps(policy))),
           "OK", "alice grants bob s3:GetObject on shared/*")
    got = code_of(lambda: bob.get_object(Bucket="alice-data", Key="shared/s.txt"))
    tap.eq(got, "OK", "bob reads alice-data/shared/s.txt through the bucket policy")
    if got == "OK":
        body = bob.get_object(Bucket="alice-data", Key="shared/s.txt")["Body"].read()
        tap.eq(body, b"for bob", "the bytes are alice's")
    tap.eq(code_of(lambda: bob.get_object(Bucket="alice-data", Key="a.txt")), "AccessDenied",
           "outside the granted prefix bob is still refused")
    tap.eq(code_of(lambda: bob.put_object(Bucket="alice-data", Key="shared/y", Body=b"y")),
           "AccessDenied", "the policy grants reading only")
    tap.eq(names(bob), ["bob-data"], "a grant does not put alice's bucket in bob's ListBuckets")
tap.done()
