#!/bin/sh
# The conformance suite against backend-ec with the jerasure-rs-vand codec.
CAIRN_EC_CODEC=jerasure-rs-vand exec "$(cd "$(dirname "$0")" && pwd)/conformance-ec.sh"
