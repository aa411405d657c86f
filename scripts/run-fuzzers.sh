#!/usr/bin/env bash
# Runs every built libFuzzer target for SECONDS (default 60) each; corpora live under
# build/fuzz-corpus/<target>. Exits non-zero if any target finds a crash.
set -euo pipefail
build="${1:-build/fuzz}"
seconds="${2:-60}"
status=0
for bin in "$build"/fuzz/*_fuzz; do
  [ -x "$bin" ] || continue
  name="$(basename "$bin")"
  corpus="build/fuzz-corpus/$name"
  mkdir -p "$corpus"
  echo "== $name ($seconds s)"
  if ! "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 \
      -artifact_prefix="build/fuzz-corpus/$name-" "$corpus" \
      > "build/fuzz-corpus/$name.log" 2>&1; then
    echo "FAILED: $name (see build/fuzz-corpus/$name.log)"; status=1
  fi
  tail -n 1 "build/fuzz-corpus/$name.log"
done
exit $status
