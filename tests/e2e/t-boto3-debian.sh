#!/bin/sh
# Debian's python3-boto3 (1.26, pre-2025 SDK) runs the same workflows.
exec /usr/bin/python3 - <<'PY'
import boto3
from boto3_workflows import client, workflows
from cairn_test import Server, tap
tap.ok(boto3.__version__.startswith("1.26"), "Debian boto3 (%s)" % boto3.__version__)
with Server(drives=4) as srv:
    workflows(srv, client(srv), "old")
tap.done()
PY
