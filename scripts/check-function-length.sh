#!/bin/sh
# Lists functions longer than 100 lines in the given src/ folders (clang-tidy's
# readability-function-size, LineThreshold=100), e.g.
#   scripts/check-function-length.sh src/identify src/inspect
# Exit status: 0 when none is longer, 1 when some are, 2 on a usage or tool error.
# BUILD_DIR (default build/debug) must hold compile_commands.json (any configured preset).
set -eu
cd "$(dirname "$0")/.."
[ "$#" -gt 0 ] || { echo "usage: $0 DIR..." >&2; exit 2; }
BUILD_DIR=${BUILD_DIR:-build/debug}
[ -f "$BUILD_DIR/compile_commands.json" ] || {
  echo "$BUILD_DIR/compile_commands.json missing: run cmake --preset debug first" >&2; exit 2; }
TIDY=$(command -v clang-tidy || command -v clang-tidy-14) || { echo "clang-tidy not found" >&2; exit 2; }
files=$(find "$@" -name '*.cpp' ! -name '*_test.cpp' | sort)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# g++-only flags and C++23 are given to clang as the nearest thing it knows.
"$TIDY" -p "$BUILD_DIR" --quiet \
  --checks='-*,readability-function-size' \
  --config="{CheckOptions: [{key: readability-function-size.LineThreshold, value: 100}]}" \
  --extra-arg=-std=c++2b --extra-arg=-Wno-unknown-warning-option \
  --extra-arg=-Wno-unknown-argument \
  $files >"$out" 2>/dev/null || true
# "file:line:col: warning: function 'F' exceeds ..." then a note with the line count.
long=$(awk '/warning: function .* exceeds recommended size\/complexity/ { w = $0; next }
  w != "" && /note: [0-9]+ lines including/ { match($0, /[0-9]+ lines/); n = substr($0, RSTART, RLENGTH)
    sub(/: warning: function /, ": ", w); sub(/ exceeds recommended.*/, "", w); print w " " n; w = "" }' "$out" | sort -u)
if [ -n "$long" ]; then
  echo "$long" | sed 's/ \[readability-function-size\]//'
  echo "$(echo "$long" | wc -l) function(s) over 100 lines in: $*"
  exit 1
fi
echo "no function over 100 lines in: $*"
