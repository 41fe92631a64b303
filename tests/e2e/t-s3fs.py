#!/usr/bin/env python3
"""s3fs: mount a bucket, write, ls, rename, read back, unmount."""
import os
import subprocess
import time

from cairn_test import ROOT_PASSWORD, ROOT_USER, Server, run, tap

with Server(drives=4) as srv:
    s3 = srv.boto3()
    s3.create_bucket(Bucket="fsbucket")
    pw = os.path.join(srv.dir, "passwd")
    with open(pw, "w") as f:
        f.write("%s:%s\n" % (ROOT_USER, ROOT_PASSWORD))
    os.chmod(pw, 0o600)
    mnt = os.path.join(srv.dir, "mnt")
    os.makedirs(mnt)
    rc, out = run(["s3fs", "fsbucket", mnt, "-o", "url=" + srv.endpoint, "-o", "use_path_request_style",
                   "-o", "passwd_file=" + pw, "-o", "allow_other,nonempty", "-o", "dbglevel=warn"], timeout=60)
    mounted = False
    for _ in range(50):
        if os.path.ismount(mnt):
            mounted = True
            break
        time.sleep(0.1)
    if not tap.ok(mounted, "s3fs mounts the bucket", out):
        tap.done()
    try:
        data = os.urandom(11 * 1024 * 1024)  # above s3fs's 10 MB multipart size
        with open(os.path.join(mnt, "hello.txt"), "w") as f:
            f.write("hello from s3fs\n")
        os.makedirs(os.path.join(mnt, "sub"))
        with open(os.path.join(mnt, "sub", "big.bin"), "wb") as f:
            f.write(data)
        tap.eq(sorted(os.listdir(mnt)), ["hello.txt", "sub"], "ls of the mount")
        os.rename(os.path.join(mnt, "hello.txt"), os.path.join(mnt, "sub", "renamed.txt"))
        tap.eq(sorted(os.listdir(os.path.join(mnt, "sub"))), ["big.bin", "renamed.txt"], "rename into a directory")
        tap.eq(open(os.path.join(mnt, "sub", "renamed.txt")).read(), "hello from s3fs\n", "read back the renamed file")
        tap.ok(open(os.path.join(mnt, "sub", "big.bin"), "rb").read() == data, "read back 11 MiB byte-exact")
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="fsbucket").get("Contents", []))
        tap.ok("sub/big.bin" in keys and "sub/renamed.txt" in keys and "hello.txt" not in keys,
               "objects seen through S3 match", keys)
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "s3fs file operations", repr(e))
    finally:
        subprocess.run(["umount", mnt], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            if not os.path.ismount(mnt):
                break
            time.sleep(0.1)
tap.done()
