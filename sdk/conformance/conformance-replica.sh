#!/bin/sh
# The conformance suite against backend-replica: 3 copies over three drives.
here=$(cd "$(dirname "$0")" && pwd)
build=${CAIRN_BUILDDIR:-$(cd .. && pwd)}
plugin="$build/plugins/backend-replica/backend-replica.la"
exec "$here/run-conformance.sh" "$plugin" drives=@TMP@/d1,@TMP@/d2,@TMP@/d3 copies=3
