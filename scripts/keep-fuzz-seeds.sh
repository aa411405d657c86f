#!/usr/bin/env bash
# Merges each target's working corpus (build/fuzz-corpus/<target>) into the seeds kept in the
# repository (fuzz/corpus/<target>): only inputs that add coverage are kept (libFuzzer
# -merge=1), and none larger than MAX_SEED_BYTES (default 16 KiB), so the seeds stay small.
set -euo pipefail
build="${1:-build/fuzz}"
max="${MAX_SEED_BYTES:-16384}"
for bin in "$build"/fuzz/*_fuzz; do
  [ -x "$bin" ] || continue
  name="$(basename "$bin")"
  work="build/fuzz-corpus/$name"
  [ -d "$work" ] || continue
  seeds="fuzz/corpus/$name"
  mkdir -p "$seeds"
  "$bin" -merge=1 -max_len="$max" -rss_limit_mb=2048 -timeout=20 "$seeds" "$work" \
    > "build/fuzz-corpus/$name.merge.log" 2>&1 || echo "merge failed: $name"
  find "$seeds" -type f -size +"${max}"c -delete
  echo "$name: $(find "$seeds" -type f | wc -l) seeds, $(du -sk "$seeds" | cut -f1) KiB"
done
