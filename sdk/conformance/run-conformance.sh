#!/bin/sh
# run-conformance.sh PLUGIN [key=value ...]
#
# Runs the backend conformance suite against PLUGIN (a .la or .so) with the
# given settings ("@TMP@" in a value becomes a temporary folder); TAP on stdout.
# Finds cairn-conformance through $CAIRN_CONFORMANCE, $CAIRN_BUILDDIR/sdk/conformance,
# or ../sdk/conformance from a build subdirectory (where `make check` runs).
#
# Example, for a TESTS entry of another directory:
#   exec "$CAIRN_SRCDIR/sdk/conformance/run-conformance.sh" \
#       "$CAIRN_BUILDDIR/plugins/backend-ec/backend-ec.la" \
#       drives=@TMP@/d1,@TMP@/d2,@TMP@/d3,@TMP@/d4
if [ $# -lt 1 ]; then
    echo "usage: $0 PLUGIN [key=value ...]" >&2
    exit 2
fi
bin=${CAIRN_CONFORMANCE:-}
if [ -z "$bin" ]; then
    for candidate in "${CAIRN_BUILDDIR:-.}/sdk/conformance/cairn-conformance" \
                     ../sdk/conformance/cairn-conformance ./conformance/cairn-conformance; do
        if [ -x "$candidate" ]; then
            bin=$candidate
            break
        fi
    done
fi
if [ -z "$bin" ]; then
    echo "1..0 # SKIP cairn-conformance is not built"
    exit 0
fi
plugin=$1
shift
if [ ! -e "$plugin" ]; then
    echo "Bail out! no plugin file $plugin"
    exit 1
fi
exec "$bin" "$plugin" "$@"
