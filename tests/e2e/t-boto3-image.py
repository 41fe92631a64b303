#!/usr/bin/env python3
"""The image's boto3 (1.43: post-2025 default integrity, CRC32 checksums and
aws-chunked trailers) with default settings and with when_required."""
import os

import boto3

from boto3_workflows import client, workflows
from cairn_test import Server, tap

tap.ok(boto3.__version__ >= "1.36", "image boto3 is new (%s)" % boto3.__version__)
srv = Server(drives=4)
srv.port = 21350 + os.getpid() % 20  # ports 21350-21369
srv.endpoint = "http://127.0.0.1:%d" % srv.port
with srv:
    workflows(srv, client(srv), "new-default")
    workflows(srv, client(srv, request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"), "new-required")
tap.done()
