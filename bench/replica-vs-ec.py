#!/usr/bin/env python3
"""bench/replica-vs-ec.py -- backend-replica against backend-ec on the same
drives in the same run.

Builds the release tree (script/build, or --build DIR for an existing build
with root/ installed), then for each layout starts a server over the same
three drive folders (subfolders rep/ and ec/ of each, so both sit on the same
disks), and measures with bench/cairn-bench: PUT and GET throughput of 1 MiB
and 16 MiB objects and PUT/GET operations per second of 4 KiB objects.
backend-replica keeps 3 copies (write quorum 2); backend-ec runs 2+1.
Prints a Markdown table.  --quick shortens every run."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
QUICK = "--quick" in sys.argv
DUR = 2 if QUICK else 5


def arg(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def bench(cb, endpoint, env, op, size, conc, *extra):
    out = subprocess.run([cb, "--endpoint", endpoint, "--op", op, "--size", str(size),
                          "--concurrency", str(conc), "--duration", str(DUR), "--json", "--quiet"]
                         + list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except Exception:  # noqa: BLE001
        print("  (run failed: %s)" % out.stderr.strip()[-300:], file=sys.stderr)
        return {"ops_per_s": 0, "mb_per_s": 0, "errors": -1}


CASES = [  # (label, op, size, concurrency, metric, extra)
    ("PUT 1 MiB c=8", "put", 1 << 20, 8, "mb_per_s", ()),
    ("GET 1 MiB c=8", "get", 1 << 20, 8, "mb_per_s", ("--objects", "64")),
    ("PUT 16 MiB c=4", "put", 16 << 20, 4, "mb_per_s", ()),
    ("GET 16 MiB c=4", "get", 16 << 20, 4, "mb_per_s", ("--objects", "16")),
    ("PUT 4 KiB c=16", "put", 4096, 16, "ops_per_s", ()),
    ("GET 4 KiB c=16", "get", 4096, 16, "ops_per_s", ("--objects", "256")),
]


def main():
    build = arg("--build")
    if not build:
        build = subprocess.run([os.path.join(TOP, "script", "build")], check=True, stdout=subprocess.PIPE,
                               text=True).stdout.strip().splitlines()[-1]
    cb = os.path.join(build, "bench", "cairn-bench")
    os.environ["CAIRN_BIN"] = os.path.join(build, "root", "bin", "cairn")
    from cairn_test import ROOT_PASSWORD, ROOT_USER, Server

    tmp = tempfile.mkdtemp(prefix="cairn-rep-bench-", dir=arg("--dir"))
    drives = [os.path.join(tmp, "drive%d" % i) for i in range(1, 4)]
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ROOT_USER, AWS_SECRET_ACCESS_KEY=ROOT_PASSWORD)
    layouts = [
        ("backend-replica", "copies = 3;"),
        ("backend-ec", "parity = 1;"),
    ]
    res = {}
    try:
        for plugin, extra in layouts:
            sub = "rep" if plugin == "backend-replica" else "ec"
            paths = [os.path.join(d, sub) for d in drives]
            for p in paths:
                os.makedirs(p, exist_ok=True)
            srv = Server(drives=0, drive_paths=[], keep_dir=os.path.join(tmp, "srv-" + sub))
            os.makedirs(srv.dir, exist_ok=True)
            srv.config = ('backends = ( { name = "default"; plugin = "%s"; drives = [ %s ]; %s '
                          'scanner_interval_s = 0; } );\n'
                          % (plugin, ", ".join('"%s"' % p for p in paths), extra))
            srv.start()
            try:
                for label, op, size, conc, metric, more in CASES:
                    r = bench(cb, srv.endpoint, env, op, size, conc, "--bucket",
                              "b-%s-%d" % (op, size), *more)
                    res[(label, plugin)] = (r.get(metric, 0), r.get("errors", 0))
                    print("  %-16s %-16s %10.1f %s" % (label, plugin, r.get(metric, 0),
                                                     "MB/s" if metric == "mb_per_s" else "ops/s"),
                          file=sys.stderr, flush=True)
            finally:
                srv.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("| case | unit | backend-replica (3 copies) | backend-ec (2+1) | replica / ec |")
    print("|---|---|---:|---:|---:|")
    for label, op, size, conc, metric, more in CASES:
        a, ea = res.get((label, "backend-replica"), (0, -1))
        b, eb = res.get((label, "backend-ec"), (0, -1))
        note = "" if not ea and not eb else " (errors: %s/%s)" % (ea, eb)
        print("| %s | %s | %.1f | %.1f | %.2f%s |" % (label, "MB/s" if metric == "mb_per_s" else "ops/s",
                                                    a, b, a / b if b else 0.0, note))


if __name__ == "__main__":
    main()
