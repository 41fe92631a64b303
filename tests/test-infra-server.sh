#!/bin/sh
# test-infra-server.sh -- the `cairn` command itself: version, help, refusals,
# and a server started over the test plugins that answers health checks and
# stops cleanly on SIGTERM and SIGINT (plugins' fini in reverse order, exit 0).
# TAP output; run by `make check` from the build directory's tests/ folder.
CAIRN=${CAIRN:-../core/cairn}
PLUGINS=${PLUGINS:-$(pwd)/plugins}
T=$(mktemp -d /tmp/cairn-test-server-XXXXXX)
n=0
fails=0
pid=

cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

ok() { # ok COND-EXIT-STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi
}

"$CAIRN" --version >"$T/v" 2>&1
ok $? "cairn --version exits 0"
# The ABI the header declares, so a minor bump needs no edit here.
hdr="$(dirname "$0")/../sdk/include/cairn/plugin.h"
abi="$(sed -n 's/^#define CAIRN_ABI_MAJOR \([0-9]*\)$/\1/p' "$hdr").$(sed -n 's/^#define CAIRN_ABI_MINOR \([0-9]*\)$/\1/p' "$hdr")"
grep -qF "(plugin ABI $abi)" "$T/v"
ok $? "version names the ABI"

"$CAIRN" help >"$T/h" 2>&1
ok $? "cairn help exits 0"
grep -q -- '--address' "$T/h" && grep -q -- '--certs-dir' "$T/h"
ok $? "help lists --address and --certs-dir"

"$CAIRN" bogus >/dev/null 2>&1
[ $? -eq 2 ]
ok $? "unknown command exits 2"

"$CAIRN" server >/dev/null 2>"$T/e"
[ $? -eq 2 ] && grep -q 'no drives given' "$T/e"
ok $? "server without drives exits 2 with a message"

"$CAIRN" server --address nowhere "$T/d" >/dev/null 2>"$T/e"
[ $? -eq 2 ] && grep -q "flag --address: address 'nowhere'" "$T/e"
ok $? "bad --address refused"

# A plugin that exists nowhere (not even in the compiled-in directory, which
# holds backend-ec once the tree is installed).
printf 'backends = ( { plugin = "no-such-backend"; drives = [ "%s/d" ]; } );\n' "$T" >"$T/missing.conf"
timeout 20 "$CAIRN" server --plugin-dir /nonexistent --config "$T/missing.conf" >/dev/null 2>"$T/e"
[ $? -eq 1 ] && grep -q "plugin 'no-such-backend' not found" "$T/e"
ok $? "missing plugin: exit 1 naming the plugin"

# A config with the test plugins: good-backend's fini appends to a marker.
cat >"$T/cairn.conf" <<CONF
backends = ( { plugin = "good-backend"; marker = "$T/marker"; tag = "backend";
               drives = [ "$T/drive{1...3}" ]; } );
auth = ( { name = "a1"; plugin = "good-auth"; marker = "$T/marker"; tag = "auth"; } );
policy = { name = "p1"; plugin = "good-policy"; marker = "$T/marker"; tag = "policy"; };
CONF

start() { # start SIGNAL-DESCRIPTION
    rm -f "$T/marker" "$T/out"
    CAIRN_ROOT_USER=testroot CAIRN_ROOT_PASSWORD=testpassword \
        "$CAIRN" server --config "$T/cairn.conf" --plugin-dir "$PLUGINS" \
        --address 127.0.0.1:0 --shutdown-timeout 5 >"$T/out" 2>"$T/err" &
    pid=$!
    i=0
    while [ $i -lt 100 ] && ! grep -q '^API:' "$T/out" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    port=$(sed -n 's/^API: *http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/out")
}

start
[ -n "$port" ]
ok $? "server started and printed its endpoint"
grep -q '^Drives: *3 ' "$T/out"
ok $? "banner: three drives from the ellipsis"
[ -d "$T/drive1" ] && [ -d "$T/drive3" ]
ok $? "missing drive folders created"
grep -q 'testpassword' "$T/out" "$T/err"
[ $? -ne 0 ]
ok $? "the secret is never printed"
grep -q 'RootUser: testroot' "$T/out"
ok $? "banner names the root user"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/minio/health/live")
[ "$code" = 200 ]
ok $? "health/live answers 200 (got $code)"
kill -TERM "$pid"
wait "$pid"
st=$?
pid=
[ $st -eq 0 ]
ok $? "SIGTERM: exit 0 (got $st)"
printf 'fini policy\nfini auth\nfini backend\n' | cmp -s - "$T/marker"
ok $? "plugins' fini ran in reverse load order"

start
[ -n "$port" ]
ok $? "server started again"
kill -INT "$pid"
wait "$pid"
st=$?
pid=
[ $st -eq 0 ] && [ -s "$T/marker" ]
ok $? "SIGINT: exit 0 with fini (got $st)"

echo "1..$n"
exit 0
