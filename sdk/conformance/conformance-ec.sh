#!/bin/sh
# The conformance suite against backend-ec: 2+2 over four drives with the
# default codec, and once each with the two jerasure codecs.
here=$(cd "$(dirname "$0")" && pwd)
build=${CAIRN_BUILDDIR:-$(cd .. && pwd)}
plugin="$build/plugins/backend-ec/backend-ec.la"
codec=${CAIRN_EC_CODEC:-isal-rs}
exec "$here/run-conformance.sh" "$plugin" drives=@TMP@/d1,@TMP@/d2,@TMP@/d3,@TMP@/d4 codec="$codec"
