#!/bin/sh
# The conformance suite against the in-tree example backend (sdk/examples/fsbackend).
here=$(cd "$(dirname "$0")" && pwd)
build=${CAIRN_BUILDDIR:-$(cd .. && pwd)}
exec "$here/run-conformance.sh" "$build/sdk/examples/fsbackend/fsbackend.la" root=@TMP@/root
