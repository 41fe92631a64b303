#!/usr/bin/env python3
"""s3cmd, rclone and awscli workflows: put/get above and below the multipart
threshold, sync of a 500-file tree twice (the second run uploads nothing),
listing, delete-many."""
import hashlib
import os
import shutil

from cairn_test import ROOT_PASSWORD, ROOT_USER, Server, run, tap


def make_tree(root, n=500):
    for i in range(n):
        d = os.path.join(root, "d%02d" % (i % 20))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "f%03d.txt" % i), "wb") as f:
            f.write(("file %d\n" % i).encode() * (i % 7 + 1))


def md5(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


srv = Server(drives=4)
srv.port = 21370 + os.getpid() % 20  # ports 21370-21389
srv.endpoint = "http://127.0.0.1:%d" % srv.port
with srv:
    env = srv.env()
    tree = os.path.join(srv.dir, "tree")
    make_tree(tree)
    big = os.path.join(srv.dir, "big.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(20 * 1024 * 1024 + 17))
    small = os.path.join(srv.dir, "small.bin")
    with open(small, "wb") as f:
        f.write(os.urandom(3000))

    # --- s3cmd -----------------------------------------------------------
    cfg = os.path.join(srv.dir, "s3cfg")
    with open(cfg, "w") as f:
        f.write("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = 127.0.0.1:%d\n"
                "host_bucket = 127.0.0.1:%d\nuse_https = False\nsignature_v2 = False\n"
                "multipart_chunk_size_mb = 15\n" % (ROOT_USER, ROOT_PASSWORD, srv.port, srv.port))
    s3cmd = ["s3cmd", "-c", cfg]
    rc, out = run(s3cmd + ["mb", "s3://s3cmd-b"])
    tap.ok(rc == 0, "s3cmd mb", out)
    for name, path in (("small", small), ("big multipart", big)):
        rc, out = run(s3cmd + ["put", path, "s3://s3cmd-b/obj/" + os.path.basename(path)])
        tap.ok(rc == 0, "s3cmd put %s" % name, out)
        dst = path + ".s3cmd"
        rc, out = run(s3cmd + ["get", "--force", "s3://s3cmd-b/obj/" + os.path.basename(path), dst])
        tap.ok(rc == 0 and md5(dst) == md5(path), "s3cmd get %s byte-exact" % name, out)
    rc, out = run(s3cmd + ["sync", tree + "/", "s3://s3cmd-b/tree/"])
    tap.ok(rc == 0, "s3cmd sync 500 files", out[-2000:])
    rc, out = run(s3cmd + ["sync", tree + "/", "s3://s3cmd-b/tree/"])
    tap.ok(rc == 0 and "upload:" not in out, "s3cmd second sync uploads nothing", out[-2000:])
    rc, out = run(s3cmd + ["ls", "s3://s3cmd-b/tree/"])
    tap.ok(rc == 0 and out.count("DIR") == 20, "s3cmd ls with delimiter shows 20 dirs", out[-1500:])
    rc, out = run(s3cmd + ["ls", "-r", "s3://s3cmd-b/tree/"])
    tap.eq(len([l for l in out.splitlines() if "s3://" in l]), 500, "s3cmd ls -r lists 500 files")
    rc, out = run(s3cmd + ["del", "-r", "--force", "s3://s3cmd-b/"])
    tap.ok(rc == 0, "s3cmd del -r (delete-many)", out[-1500:])
    rc, out = run(s3cmd + ["rb", "s3://s3cmd-b"])
    tap.ok(rc == 0, "s3cmd rb", out)

    # --- rclone ----------------------------------------------------------
    rcfg = os.path.join(srv.dir, "rclone.conf")
    with open(rcfg, "w") as f:
        f.write("[cairn]\ntype = s3\nprovider = Minio\naccess_key_id = %s\nsecret_access_key = %s\n"
                "endpoint = %s\nforce_path_style = true\nregion = us-east-1\n" % (ROOT_USER, ROOT_PASSWORD, srv.endpoint))
    rclone = ["rclone", "--config", rcfg, "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"]
    run_cli = run

    def run(cmd, env=env):  # noqa: F811 -- rclone and aws get the client environment
        return run_cli(cmd, env=env)
    rc, out = run(rclone + ["mkdir", "cairn:rclone-b"])
    tap.ok(rc == 0, "rclone mkdir", out)
    for name, path in (("small", small), ("big multipart", big)):
        rc, out = run(rclone + ["copyto", path, "cairn:rclone-b/obj/" + os.path.basename(path)])
        tap.ok(rc == 0, "rclone copyto %s" % name, out)
        dst = path + ".rclone"
        rc, out = run(rclone + ["copyto", "cairn:rclone-b/obj/" + os.path.basename(path), dst])
        tap.ok(rc == 0 and os.path.exists(dst) and md5(dst) == md5(path), "rclone download %s byte-exact" % name, out)
    rc, out = run(rclone + ["sync", tree, "cairn:rclone-b/tree", "-v"])
    tap.ok(rc == 0, "rclone sync 500 files", out[-2000:])
    rc, out = run(rclone + ["sync", tree, "cairn:rclone-b/tree", "-v"])
    tap.ok(rc == 0 and "Copied" not in out, "rclone second sync copies nothing", out[-2000:])
    rc, out = run(rclone + ["check", tree, "cairn:rclone-b/tree"])
    tap.ok(rc == 0, "rclone check (size and MD5) agrees", out[-2000:])
    rc, out = run(rclone + ["lsf", "cairn:rclone-b/tree"])
    tap.eq(len(out.split()), 20, "rclone lsf (delimiter) shows 20 dirs")
    rc, out = run(rclone + ["purge", "cairn:rclone-b"])
    tap.ok(rc == 0, "rclone purge", out[-1500:])

    # --- awscli (Debian's v2 and the image's v1) ------------------------
    for n, cli in enumerate(sorted({c for c in ("/usr/bin/aws", shutil.which("aws")) if c})):
        aws = [cli, "--endpoint-url", srv.endpoint]
        b = "awscli-%d" % n
        rc, out = run(aws + ["s3", "mb", "s3://" + b], env=env)
        tap.ok(rc == 0, "%s mb" % cli, out)
        rc, out = run(aws + ["s3", "sync", tree, "s3://%s/tree" % b], env=env)
        tap.ok(rc == 0, "%s sync 500 files" % cli, out[-1500:])
        rc, out = run(aws + ["s3", "sync", tree, "s3://%s/tree" % b], env=env)
        tap.ok(rc == 0 and "upload:" not in out, "%s second sync uploads nothing" % cli, out[-1500:])
        rc, out = run(aws + ["s3", "ls", "s3://%s/tree/" % b], env=env)
        tap.eq(out.count("PRE "), 20, "%s ls with delimiter" % cli)
        rc, out = run(aws + ["s3api", "get-object", "--bucket", b, "--key", "tree/d00/f000.txt",
                             "--range", "bytes=0-3", os.path.join(srv.dir, "part")], env=env)
        tap.ok(rc == 0 and open(os.path.join(srv.dir, "part"), "rb").read() == b"file", "%s ranged get" % cli, out)
        # above the 8 MiB threshold: multipart upload, multipart copy (UploadPartCopy
        # with ranges), ranged download, and one part by number
        copy, got = "s3://%s/big-copy.bin" % b, big + ".aws%d" % n
        rc1, out1 = run(aws + ["s3", "cp", big, "s3://%s/big.bin" % b], env=env)
        rc2, out2 = run(aws + ["s3", "cp", "s3://%s/big.bin" % b, copy], env=env)
        rc3, out3 = run(aws + ["s3", "cp", copy, got], env=env)
        tap.ok(rc1 == rc2 == rc3 == 0 and md5(got) == md5(big),
               "%s cp above the multipart threshold: upload, copy, download byte-exact" % cli,
               (out1 + out2 + out3)[-1500:])
        rc, out = run(aws + ["s3api", "get-object", "--bucket", b, "--key", "big.bin", "--part-number", "3",
                             got], env=env)
        tap.ok(rc == 0 and open(got, "rb").read() == open(big, "rb").read()[16 << 20:] and
               '"PartsCount": 3' in out, "%s get-object --part-number" % cli, out[-1500:])
        rc, out = run(aws + ["s3", "rm", "--recursive", "s3://%s/" % b], env=env)
        tap.ok(rc == 0, "%s rm --recursive" % cli, out[-1500:])
        rc, out = run(aws + ["s3", "rb", "s3://" + b], env=env)
        tap.ok(rc == 0, "%s rb" % cli, out)
tap.done()
