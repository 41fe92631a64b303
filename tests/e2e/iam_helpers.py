"""iam_helpers -- what e2e tests of users and permissions share: the
`cairn admin` CLI as root against a running server, a boto3 client for any
credentials, and the S3 error code of a call.

    rc, out = admin(srv, "user", "add", "alice", "alice-secret-1")
    alice = client(srv, "alice", "alice-secret-1")
    tap.eq(code_of(lambda: alice.get_object(Bucket="b", Key="k")), "AccessDenied", "...")
"""
import os
import subprocess

from cairn_test import ROOT_USER, ROOT_PASSWORD, REGION


def admin(srv, *args):
    """Runs `cairn admin ARGS` as root against `srv`; returns (exit code, output)."""
    env = dict(os.environ)
    env.update({"CAIRN_ROOT_USER": ROOT_USER, "CAIRN_ROOT_PASSWORD": ROOT_PASSWORD,
                "CAIRN_ENDPOINT": srv.endpoint})
    p = subprocess.run([os.environ.get("CAIRN_BIN", "cairn"), "admin"] + list(args), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def client(srv, key=ROOT_USER, secret=ROOT_PASSWORD, **config):
    """A path-style boto3 S3 client of `srv` for (key, secret); `config` goes
    to botocore's Config (e.g. signature_version="s3")."""
    import boto3
    from botocore.config import Config
    cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config)
    return boto3.client("s3", endpoint_url=srv.endpoint, aws_access_key_id=key,
                        aws_secret_access_key=secret, region_name=REGION, config=cfg)


def code_of(fn):
    """Calls fn(): "OK", or the S3 error code it raised."""
    from botocore.exceptions import ClientError
    try:
        fn()
        return "OK"
    except ClientError as e:
        return e.response["Error"]["Code"]
