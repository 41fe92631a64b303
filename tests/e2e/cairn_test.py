"""cairn_test -- helpers for end-to-end tests: start a real cairn server on
127.0.0.1 over temporary drive folders, speak TAP, clean up.

    from cairn_test import Server, tap
    with Server(drives=4) as srv:
        tap.ok(srv.health(), "live")
    tap.done()

The server binary comes from $CAIRN_BIN (script/test sets it to the
sanitizer build); its stderr is kept in the server's temp dir and checked for
sanitizer reports when it stops.
"""
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT_USER = "cairnadmin"
ROOT_PASSWORD = "cairnadmin-secret-key"
REGION = "us-east-1"


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        print(("ok %d - %s" if cond else "not ok %d - %s") % (self.n, name), flush=True)
        if not cond:
            self.failed += 1
            if diag:
                for line in str(diag).splitlines()[:40]:
                    print("#   " + line, flush=True)
        return bool(cond)

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got %r, want %r" % (got, want))

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(0)


tap = Tap()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """A cairn server over `drives` temp folders (or given `drive_paths`)."""

    def __init__(self, drives=4, drive_paths=None, args=(), env=None, config=None, keep_dir=None):
        self.dir = keep_dir or tempfile.mkdtemp(prefix="cairn-e2e-")
        self.drive_paths = drive_paths or [os.path.join(self.dir, "drive%d" % i) for i in range(1, drives + 1)]
        self.port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.args = list(args)
        self.extra_env = env or {}
        self.config = config
        self.proc = None
        self.log_path = os.path.join(self.dir, "server.log")
        self.logs = []

    # -- lifecycle --------------------------------------------------------
    def start(self, timeout=30):
        binary = os.environ.get("CAIRN_BIN", "cairn")
        env = dict(os.environ)
        env.update({"CAIRN_ROOT_USER": ROOT_USER, "CAIRN_ROOT_PASSWORD": ROOT_PASSWORD})
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:halt_on_error=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        env.update(self.extra_env)
        cmd = [binary, "server", "--address", "127.0.0.1:%d" % self.port]
        if self.config:
            cfg = os.path.join(self.dir, "cairn.cfg")
            with open(cfg, "w") as f:
                f.write(self.config)
            cmd += ["--config", cfg]
        cmd += self.args + self.drive_paths
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("cairn exited with %s:\n%s" % (self.proc.returncode, self.read_log()))
            if self.health():
                return self
            time.sleep(0.1)
        raise RuntimeError("cairn did not become healthy:\n" + self.read_log())

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Stops the server; returns its exit code."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        self.logs.append(self.read_log())
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def sanitizer_report(self):
        text = self.read_log()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            i = text.find(marker)
            if i >= 0:
                return text[max(0, i - 200):i + 3000]
        return None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.finish()
        return False

    def finish(self):
        """Stops the server for good: TAP checks that it exited cleanly on SIGTERM
        and left no sanitizer report, then removes its temp dir (kept when
        CAIRN_KEEP_TMP=1).  What `with Server(...)` does on leaving."""
        rc = self.stop()
        tap.ok(rc == 0, "server exited cleanly on SIGTERM (rc=%s)" % rc, self.read_log()[-3000:])
        report = self.sanitizer_report()
        tap.ok(report is None, "no sanitizer report in server log", report)
        if os.environ.get("CAIRN_KEEP_TMP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers ----------------------------------------------------------
    def health(self, path="/minio/health/live"):
        try:
            with urllib.request.urlopen(self.endpoint + path, timeout=2) as r:
                return r.status == 200
        except Exception:
            return False

    def env(self):
        """Environment for CLI clients (aws, s3cmd via config, rclone via env)."""
        e = dict(os.environ)
        # A CA bundle meant for the sandbox's outbound HTTPS makes some clients
        # (rclone's AWS SDK) refuse to build a plain-HTTP client.
        e.pop("AWS_CA_BUNDLE", None)
        e.update({
            "AWS_ACCESS_KEY_ID": ROOT_USER,
            "AWS_SECRET_ACCESS_KEY": ROOT_PASSWORD,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.path.join(self.dir, "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.dir, "aws-credentials"),
        })
        with open(e["AWS_CONFIG_FILE"], "w") as f:
            f.write("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n")
        open(e["AWS_SHARED_CREDENTIALS_FILE"], "w").close()
        return e

    def boto3(self, **config):
        import boto3
        from botocore.config import Config
        cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config)
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=ROOT_USER,
                            aws_secret_access_key=ROOT_PASSWORD, region_name=REGION, config=cfg)


def two_backend_server(env=None, extra_config=""):
    """A Server (not started) with two backends: backend-ec as the default on
    four drives ec1..ec4, and backend-replica with 3 copies on rep1..rep3
    (its heal scanner off); buckets named rep* are placed on the replica.
    `extra_config` is appended to the configuration.  Returns (server, ec
    drive paths, replica drive paths)."""
    srv = Server(drives=0, env=env)
    ec = [os.path.join(srv.dir, "ec%d" % i) for i in range(1, 5)]
    rep = [os.path.join(srv.dir, "rep%d" % i) for i in range(1, 4)]
    srv.drive_paths = []
    srv.config = """
backends = (
  { name = "default"; plugin = "backend-ec"; drives = [ %s ]; },
  { name = "replica"; plugin = "backend-replica"; drives = [ %s ]; copies = 3;
    scanner_interval_s = 0; }
);
placement = ( { prefix = "rep"; backend = "replica"; } );
""" % (", ".join('"%s"' % d for d in ec), ", ".join('"%s"' % d for d in rep)) + extra_config
    return srv, ec, rep


def run(cmd, env=None, input=None, timeout=600, cwd=None):
    """Runs a command; returns (returncode, stdout+stderr as text)."""
    p = subprocess.run(cmd, env=env, input=input, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout, cwd=cwd)
    return p.returncode, p.stdout.decode("utf-8", "replace")


# -- durability helpers -------------------------------------------------------

def body_for(key, gen, size):
    """`size` bytes that depend only on (key, gen): a test can rebuild any body it sent."""
    seed = hashlib.sha256(("%s/%d" % (key, gen)).encode()).digest()
    return (seed * (size // 32 + 1))[:size]


def wipe_drives(paths):
    """Removes everything inside each drive folder (the folders stay); the
    server must be stopped."""
    for d in paths:
        for name in os.listdir(d):
            p = os.path.join(d, name)
            shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)


def read_md5(s3, bucket, key):
    """The MD5 (hex) of the object's bytes, or the S3 error code when GET fails."""
    import botocore
    try:
        return hashlib.md5(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]


def mismatches(s3, bucket, want):
    """Reads every key of `want` (key -> MD5 hex); returns [(key, what was read)]
    for those that do not read back byte-exact."""
    return [(key, got) for key, got in ((k, read_md5(s3, bucket, k)) for k in want)
            if got != want[key]]


def crash_rounds(srv, bucket, rounds, rng, prefix="crash/", writers=4,
                 sizes=(10, 3000, 100_000, 700_000, 2_500_000)):
    """Crash-consistency test through the real server: `rounds` times, `writers`
    threads PUT bodies of `sizes` to 20 keys each under `prefix` in `bucket`
    until the server is killed with SIGKILL at a random moment (0.3-2 s, from
    `rng`), then it is restarted and checked: every acknowledged object reads
    back as its last acknowledged body or one sent after it (an unacknowledged
    newer PUT may have committed before the kill), and every listed object is
    one of the bodies sent to it (nothing partial).  Reports three TAP lines;
    returns {key: index of the last acknowledged body} for further checks."""
    acked = {}      # key -> index (in attempted[key]) of the last acknowledged body
    attempted = {}  # key -> md5s sent to the key, in order
    lock = threading.Lock()
    lost_total, torn_total = [], []
    for rnd in range(rounds):
        stop = threading.Event()

        def writer(tid):
            c = srv.boto3()
            gen = 0
            while not stop.is_set():
                key = "%s%d/%d" % (prefix, tid, rng.randrange(20))
                gen += 1
                body = body_for(key, gen * 1000 + rnd, rng.choice(sizes))
                d = hashlib.md5(body).hexdigest()
                with lock:
                    attempted.setdefault(key, []).append(d)
                    idx = len(attempted[key]) - 1
                try:
                    c.put_object(Bucket=bucket, Key=key, Body=body)
                except Exception:  # noqa: BLE001 -- the kill interrupts requests
                    return
                with lock:
                    acked[key] = max(acked.get(key, -1), idx)

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(writers)]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.3, 2.0))
        srv.kill9()
        stop.set()
        for t in threads:
            t.join()
        srv.start()
        s3 = srv.boto3()
        with lock:
            snapshot = dict(acked)
        listed = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            listed.update(o["Key"] for o in page.get("Contents", []))
        for key in sorted(set(snapshot) | listed):
            d = read_md5(s3, bucket, key)
            idx = max((i for i, x in enumerate(attempted.get(key, [])) if x == d), default=-1)
            if key in snapshot and idx < snapshot[key]:
                lost_total.append((key, d))
            elif key in listed and idx < 0:
                torn_total.append((key, d))
            if idx >= 0:
                acked[key] = max(acked.get(key, -1), idx)
    tap.ok(not lost_total, "%d kill -9 rounds: no acknowledged object lost or damaged" % rounds,
           lost_total[:10])
    tap.ok(not torn_total, "%d kill -9 rounds: no partial object visible" % rounds, torn_total[:10])
    tap.ok(len(acked) > 0, "crash rounds acknowledged %d keys" % len(acked))
    return acked
