#!/bin/sh
# Builds the example backend the way a vendor does -- out of tree, with only the
# installed header and pkg-config file -- and checks what comes out.  TAP.
#
# Needs CAIRN_SRCDIR and CAIRN_BUILDDIR (set by make check).
src=${CAIRN_SRCDIR:?set CAIRN_SRCDIR to the source tree}
build=${CAIRN_BUILDDIR:?set CAIRN_BUILDDIR to the build tree}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cairn-oot-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
check() { # check DESCRIPTION COMMAND...
    desc=$1
    shift
    n=$((n + 1))
    if "$@" >"$tmp/out" 2>&1; then
        echo "ok $n - $desc"
    else
        echo "not ok $n - $desc"
        sed 's/^/#   /' "$tmp/out" | head -40
    fi
}
echo "1..6"

# `make install DESTDIR=...` of the SDK, then pkg-config with that sysroot: what a
# vendor's build machine sees after installing cairn's development files.
destdir=$tmp/destdir
install_sdk() {
    (cd "$build/sdk" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make install \
        DESTDIR="$destdir") >/dev/null || return 1
    pc=$(find "$destdir" -name cairn-plugin.pc) && echo "pc: $pc" && [ -f "$pc" ] &&
        includedir=$(PKG_CONFIG_LIBDIR=$(dirname "$pc") pkg-config --variable=includedir \
            cairn-plugin) && echo "includedir: $includedir" &&
        [ -f "$destdir$includedir/cairn/plugin.h" ]
}
check "make install DESTDIR= installs cairn-plugin.pc and \$includedir/cairn/plugin.h" install_sdk

PKG_CONFIG_LIBDIR=$(dirname "$pc")
PKG_CONFIG_PATH=
PKG_CONFIG_SYSROOT_DIR=$destdir
export PKG_CONFIG_LIBDIR PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
cflags_point_there() {
    cflags=$(pkg-config --cflags cairn-plugin | sed "s/ *$//") && echo "cflags: $cflags" &&
        [ "$cflags" = "-I$destdir$includedir" ] &&
        pkg-config --variable=plugindir cairn-plugin | grep -q '/cairn/plugins$'
}
check "pkg-config finds cairn-plugin there (cflags, plugindir)" cflags_point_there

mkdir "$tmp/vendor"
cp "$src/sdk/examples/fsbackend/fsbackend.c" "$src/sdk/examples/fsbackend/Makefile.example" \
    "$tmp/vendor/"
build_example() {
    # A clean make: nothing of this build's make leaks in.
    (cd "$tmp/vendor" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -f Makefile.example \
        CC="${CC:-cc}" CFLAGS="-O2 -Wall -Wextra -Wno-unused-parameter -Werror")
}
check "Makefile.example builds fsbackend.so out of tree, warning-free" build_example

one_symbol() {
    syms=$(nm -D --defined-only "$tmp/vendor/fsbackend.so" | awk '{print $3}')
    echo "exported: $syms"
    [ "$syms" = "cairn_plugin" ]
}
check "fsbackend.so exports exactly one dynamic symbol, cairn_plugin" one_symbol

installs() {
    (cd "$tmp/vendor" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -f Makefile.example \
        install DESTDIR="$tmp/dest") &&
        ls "$tmp/dest$(pkg-config --variable=plugindir cairn-plugin)/fsbackend.so"
}
check "make -f Makefile.example install puts it in the plugin directory" installs

suite=${CAIRN_CONFORMANCE:-$build/sdk/conformance/cairn-conformance}
conformance() {
    CAIRN_CONFORMANCE=$suite "$src/sdk/conformance/run-conformance.sh" \
        "$tmp/vendor/fsbackend.so" root=@TMP@/root >"$tmp/tap" 2>"$tmp/log"
    rc=$?
    grep -c '^ok' "$tmp/tap"
    grep '^not ok\|^Bail' "$tmp/tap"
    [ $rc -eq 0 ] && grep -q '^1\.\.[1-9]' "$tmp/tap" && ! grep -q '^not ok\|^Bail' "$tmp/tap"
}
if [ -x "$suite" ]; then
    check "the out-of-tree build passes the conformance suite" conformance
else
    n=$((n + 1))
    echo "ok $n - the out-of-tree build passes the conformance suite # SKIP $suite not built"
fi
