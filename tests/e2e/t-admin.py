#!/usr/bin/env python3
"""t-admin -- `cairn admin` against a real server: users (add, list, disable,
enable, remove take effect at once), persistence across a restart, service
accounts limited by their parent's policies, groups, named policies and the
policy simulator.  Ports 20000-20049."""
import json
import os
import subprocess
import tempfile

from cairn_test import Server, tap, ROOT_USER, ROOT_PASSWORD
import iam_helpers
from iam_helpers import client, code_of

BIN = os.environ.get("CAIRN_BIN", "cairn")


def admin(srv, *args, creds=None):
    """Runs `cairn admin --json ...`; returns (exit code, parsed JSON or text)."""
    env = dict(os.environ)
    env.update({"CAIRN_ROOT_USER": ROOT_USER, "CAIRN_ROOT_PASSWORD": ROOT_PASSWORD,
                "CAIRN_ENDPOINT": srv.endpoint})
    cmd = [BIN, "admin"]
    if creds:
        cmd += ["--access-key", creds[0], "--secret-key", creds[1]]
    cmd += ["--json"] + list(args)
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    out = p.stdout.decode("utf-8", "replace")
    try:
        return p.returncode, json.loads(out)
    except ValueError:
        return p.returncode, out + p.stderr.decode("utf-8", "replace")


def human(srv, *args):
    """Runs `cairn admin ARGS` (human-readable output)."""
    return iam_helpers.admin(srv, *args)


def user_names(srv):
    rc, r = admin(srv, "user", "list")
    return [u["accessKey"] for u in r["users"]] if rc == 0 else None


srv = Server(drives=4)
srv.port = 20000 + os.getpid() % 50
srv.endpoint = "http://127.0.0.1:%d" % srv.port
with srv:
    root = srv.boto3()
    root.create_bucket(Bucket="shared")
    root.put_object(Bucket="shared", Key="hello.txt", Body=b"hello")

    # -- users ----------------------------------------------------------------
    rc, r = admin(srv, "user", "add", "alice", "alice-secret-1")
    tap.eq(rc, 0, "user add alice")
    tap.eq(user_names(srv), ["alice"], "user list shows alice")
    rc, r = admin(srv, "user", "add", "alice", "alice-secret-1")
    tap.ok(rc == 1 and r.get("Code") == "UserAlreadyExists", "adding alice twice is refused", r)
    rc, text = human(srv, "user", "list")
    tap.ok(rc == 0 and "alice" in text and "enabled" in text, "human-readable list", text)
    rc, text = human(srv, "user", "add", "onlyname")
    tap.eq(rc, 2, "usage error exits 2")

    alice = client(srv, "alice", "alice-secret-1")
    tap.eq(code_of(lambda: alice.get_object(Bucket="shared", Key="hello.txt")), "AccessDenied",
           "a user without policies is denied")
    tap.eq(admin(srv, "policy", "attach", "readwrite", "--user", "alice")[0], 0,
           "attach readwrite to alice")
    tap.eq(code_of(lambda: alice.get_object(Bucket="shared", Key="hello.txt")), "OK",
           "alice can read at once")

    tap.eq(admin(srv, "user", "disable", "alice")[0], 0, "disable alice")
    c = code_of(lambda: alice.get_object(Bucket="shared", Key="hello.txt"))
    tap.ok(c in ("AccessDenied", "InvalidAccessKeyId"), "disabled alice is refused at once", c)
    rc, r = admin(srv, "user", "info", "alice")
    tap.ok(rc == 0 and r["enabled"] is False, "info shows disabled", r)
    tap.eq(admin(srv, "user", "enable", "alice")[0], 0, "enable alice")
    tap.eq(code_of(lambda: alice.get_object(Bucket="shared", Key="hello.txt")), "OK",
           "enabled alice works again")

    # -- admin API authorization ---------------------------------------------
    rc, r = admin(srv, "user", "list", creds=("alice", "alice-secret-1"))
    tap.ok(rc == 1 and r.get("Code") == "AccessDenied", "a non-admin user cannot use the admin API", r)
    rc, r = admin(srv, "user", "list", creds=(ROOT_USER, "wrong-password-x"))
    tap.ok(rc == 1 and r.get("Code") == "SignatureDoesNotMatch", "a bad signature is refused", r)
    tap.eq(admin(srv, "user", "add", "boss", "boss-secret-1")[0], 0, "user add boss")
    tap.eq(admin(srv, "policy", "attach", "consoleAdmin", "--user", "boss")[0], 0,
           "boss gets consoleAdmin")
    rc, r = admin(srv, "user", "list", creds=("boss", "boss-secret-1"))
    tap.ok(rc == 0 and "boss" in [u["accessKey"] for u in r["users"]],
           "a user whose policy allows admin:* may use the admin API", r)

    # -- service accounts ------------------------------------------------------
    tap.eq(admin(srv, "user", "add", "reader", "reader-secret-1")[0], 0, "user add reader")
    tap.eq(admin(srv, "policy", "attach", "readonly", "--user", "reader")[0], 0, "reader is readonly")
    rc, sa = admin(srv, "svcacct", "add", "reader")
    tap.ok(rc == 0 and sa.get("secretKey") and sa.get("parent") == "reader",
           "svcacct add returns a key and secret", sa)
    svc = client(srv, sa["accessKey"], sa["secretKey"])
    tap.eq(code_of(lambda: svc.get_object(Bucket="shared", Key="hello.txt")), "OK",
           "the service account's key works with boto3")
    tap.eq(code_of(lambda: svc.put_object(Bucket="shared", Key="x", Body=b"x")), "AccessDenied",
           "and is limited by its parent's readonly policy")
    rc, r = admin(srv, "svcacct", "list", "reader")
    tap.ok(rc == 0 and [s["accessKey"] for s in r["serviceAccounts"]] == [sa["accessKey"]],
           "svcacct list", r)
    tap.ok("secretKey" not in json.dumps(r), "listings never show secrets")

    # -- named policies and groups ---------------------------------------------
    pol = {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadHello", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": ["arn:aws:s3:::shared/hello*"]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(pol, f)
        pol_file = f.name
    tap.eq(admin(srv, "policy", "create", "hello-reader", pol_file)[0], 0, "policy create")
    with open(pol_file, "w") as f:
        f.write('{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}')
    rc, r = admin(srv, "policy", "create", "broken", pol_file)
    tap.ok(rc == 1 and r.get("Code") == "MalformedPolicy" and r.get("Message"),
           "an invalid policy is refused with the reason", r)
    os.unlink(pol_file)
    rc, r = admin(srv, "policy", "list")
    names = [p["name"] for p in r.get("policies", [])] if rc == 0 else []
    tap.ok("hello-reader" in names and "readonly" in names, "policy list", r)
    rc, r = admin(srv, "policy", "info", "hello-reader")
    tap.ok(rc == 0 and r["policy"]["Statement"][0]["Sid"] == "ReadHello", "policy info", r)

    tap.eq(admin(srv, "user", "add", "gina", "gina-secret-1")[0], 0, "user add gina")
    tap.eq(admin(srv, "group", "add", "readers", "gina")[0], 0, "group add readers gina")
    tap.eq(admin(srv, "policy", "attach", "hello-reader", "--group", "readers")[0], 0,
           "attach the policy to the group")
    gina = client(srv, "gina", "gina-secret-1")
    tap.eq(code_of(lambda: gina.get_object(Bucket="shared", Key="hello.txt")), "OK",
           "a group member gets the group's policy")
    root.put_object(Bucket="shared", Key="other.txt", Body=b"o")
    tap.eq(code_of(lambda: gina.get_object(Bucket="shared", Key="other.txt")), "AccessDenied",
           "but only what it allows")
    rc, r = admin(srv, "group", "info", "readers")
    tap.ok(rc == 0 and r["members"] == ["gina"] and r["policies"] == ["hello-reader"], "group info", r)

    # -- simulator -------------------------------------------------------------
    rc, r = admin(srv, "policy", "simulate", "--user", "gina", "--action", "s3:GetObject",
                  "--resource", "arn:aws:s3:::shared/hello.txt")
    tap.ok(rc == 0 and r["decision"] == "allow" and "ReadHello" in r["explanation"],
           "simulate: allow, naming the statement", r)
    rc, r = admin(srv, "policy", "simulate", "--user", "gina", "--action", "s3:PutObject",
                  "--resource", "arn:aws:s3:::shared/hello.txt")
    tap.ok(rc == 0 and r["decision"] == "deny", "simulate: deny", r)
    rc, text = human(srv, "policy", "simulate", "--user", "gina", "--action", "s3:GetObject",
                     "--resource", "arn:aws:s3:::shared/hello.txt", "--context", "aws:SourceIp=10.0.0.1")
    tap.ok(rc == 0 and text.startswith("allow"), "simulate, human-readable with a context", text)

    # -- heal and info ---------------------------------------------------------
    rc, r = admin(srv, "heal", "shared", "hello.txt")
    tap.ok(rc == 0 and r.get("status") == "ok", "heal one object", r)
    rc, r = admin(srv, "heal")
    tap.ok(rc == 0 and r.get("status") == "ok", "heal everything", r)
    rc, r = admin(srv, "info")
    tap.ok(rc == 0 and r["drives"] == 4 and r["backend"]["plugin"] == "backend-ec" and
           any(p["kind"] == "policy" for p in r["plugins"]), "info", r)

    # -- persistence -----------------------------------------------------------
    tap.eq(admin(srv, "user", "disable", "boss")[0], 0, "disable boss before the restart")
    tap.eq(srv.stop(), 0, "server stops")
    srv.start()
    tap.eq(sorted(user_names(srv) or []), ["alice", "boss", "gina", "reader"],
           "users survive a restart")
    rc, r = admin(srv, "user", "info", "boss")
    tap.ok(rc == 0 and r["enabled"] is False and r["policies"] == ["consoleAdmin"],
           "with their state and policies", r)
    rc, r = admin(srv, "group", "info", "readers")
    tap.ok(rc == 0 and r["members"] == ["gina"], "groups survive", r)
    rc, r = admin(srv, "policy", "info", "hello-reader")
    tap.eq(rc, 0, "named policies survive")
    tap.eq(code_of(lambda: gina.get_object(Bucket="shared", Key="hello.txt")), "OK",
           "gina still reads after the restart")
    tap.eq(code_of(lambda: svc.get_object(Bucket="shared", Key="hello.txt")), "OK",
           "the service account survives")
    names = [b["Name"] for b in root.list_buckets()["Buckets"]]
    tap.ok(not any(n.startswith(".") for n in names), "the system bucket is not listed", names)

    # -- removal ---------------------------------------------------------------
    tap.eq(admin(srv, "svcacct", "remove", sa["accessKey"])[0], 0, "svcacct remove")
    c = code_of(lambda: svc.get_object(Bucket="shared", Key="hello.txt"))
    tap.eq(c, "InvalidAccessKeyId", "a removed service account is refused")
    tap.eq(admin(srv, "user", "remove", "alice")[0], 0, "user remove alice")
    c = code_of(lambda: alice.get_object(Bucket="shared", Key="hello.txt"))
    tap.eq(c, "InvalidAccessKeyId", "removed alice is refused at once")
    rc, r = admin(srv, "user", "remove", "alice")
    tap.ok(rc == 1 and r.get("Code") == "NoSuchUser", "removing twice: not found, exit 1", r)
    tap.eq(admin(srv, "group", "remove", "readers")[0], 0, "group remove")
    tap.eq(admin(srv, "policy", "delete", "hello-reader")[0], 0, "policy delete")
    tap.eq(code_of(lambda: gina.get_object(Bucket="shared", Key="hello.txt")), "AccessDenied",
           "gina lost the group's policy")
tap.done()
