#!/usr/bin/env python3
"""Foundation end to end: health endpoints with curl, then aws-cli (Debian's
awscli 2 and the image's aws-cli 1) making a bucket, copying a 100 MiB file up
and down (checksums equal), listing and removing."""
import hashlib
import os
import shutil

from cairn_test import Server, run, tap

AWS_CLIS = [c for c in ("/usr/bin/aws", shutil.which("aws")) if c and os.path.exists(c)]

with Server(drives=4) as srv:
    for path in ("/minio/health/live", "/minio/health/ready"):
        rc, out = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", srv.endpoint + path])
        tap.eq(out.strip(), "200", "curl %s answers 200 without credentials" % path)
    rc, out = run(["curl", "-s", "-i", srv.endpoint + "/nosuchbucket-x/key"])
    tap.ok("x-amz-request-id" in out.lower(), "anonymous request gets a request id", out)
    tap.ok(" 403 " in out.splitlines()[0] if out else False, "anonymous GET is denied (403)", out)

    env = srv.env()
    big = os.path.join(srv.dir, "big.bin")
    with open(big, "wb") as f:
        for i in range(100):
            f.write(hashlib.sha256(str(i).encode()).digest() * 32768)  # 1 MiB each
    want = hashlib.md5(open(big, "rb").read()).hexdigest()

    for n, cli in enumerate(sorted(set(AWS_CLIS))):
        aws = [cli, "--endpoint-url", srv.endpoint]
        bucket = "found-%d" % n
        rc, out = run(aws + ["s3", "mb", "s3://" + bucket], env=env)
        tap.ok(rc == 0, "%s s3 mb" % cli, out)
        rc, out = run(aws + ["s3", "cp", "--no-progress", big, "s3://%s/dir/big.bin" % bucket], env=env)
        tap.ok(rc == 0, "%s s3 cp 100 MiB up" % cli, out)
        back = os.path.join(srv.dir, "back-%d.bin" % n)
        rc, out = run(aws + ["s3", "cp", "--no-progress", "s3://%s/dir/big.bin" % bucket, back], env=env)
        tap.ok(rc == 0, "%s s3 cp 100 MiB down" % cli, out)
        got = hashlib.md5(open(back, "rb").read()).hexdigest() if os.path.exists(back) else None
        tap.eq(got, want, "%s round trip is byte-exact" % cli)
        rc, out = run(aws + ["s3", "ls", "s3://%s/dir/" % bucket], env=env)
        tap.ok(rc == 0 and "big.bin" in out and str(100 * 1024 * 1024) in out, "%s s3 ls shows the object" % cli, out)
        rc, out = run(aws + ["s3", "rm", "s3://%s/dir/big.bin" % bucket], env=env)
        tap.ok(rc == 0, "%s s3 rm" % cli, out)
        rc, out = run(aws + ["s3", "ls", "s3://%s/" % bucket], env=env)
        tap.ok(rc == 0 and "big.bin" not in out, "%s object gone after rm" % cli, out)
        rc, out = run(aws + ["s3", "rb", "s3://" + bucket], env=env)
        tap.ok(rc == 0, "%s s3 rb" % cli, out)
tap.done()
