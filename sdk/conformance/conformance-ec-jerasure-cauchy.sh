#!/bin/sh
# The conformance suite against backend-ec with the jerasure-cauchy codec.
CAIRN_EC_CODEC=jerasure-cauchy exec "$(cd "$(dirname "$0")" && pwd)/conformance-ec.sh"
