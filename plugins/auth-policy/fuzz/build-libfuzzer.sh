#!/bin/sh
# Builds the policy fuzzer with libFuzzer and runs it on the seed corpus.
#   plugins/auth-policy/fuzz/build-libfuzzer.sh [seconds]   (default 60)
# Run from anywhere; needs clang.  New inputs go to a scratch corpus copy
# under ${TMPDIR:-/tmp}; interesting ones can be copied back into corpus/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
secs=${1:-60}
out=${TMPDIR:-/tmp}/cairn-fuzz-policy
mkdir -p "$out/corpus"
cp "$here"/corpus/* "$out/corpus/"
clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
  -I"$top/sdk/include" -I"$here/.." \
  "$here/fuzz-policy.c" "$here"/../glob.c "$here"/../policy-values.c \
  "$here"/../policy-parse.c "$here"/../policy-eval.c "$here"/../policy-cache.c \
  "$here"/../policy-decide.c \
  $(pkg-config --cflags --libs jansson libxxhash) -lpthread -lm \
  -o "$out/fuzz-policy"
"$out/fuzz-policy" -max_total_time="$secs" -max_len=8192 "$out/corpus"
