#!/usr/bin/env bash
# Runs every built libFuzzer target (or those named in FUZZ_TARGETS) for SECONDS (default 60)
# each, JOBS (default 1) at a time. Each target starts from the seeds kept in the repository
# (fuzz/corpus/<target>, read only) and its working corpus build/fuzz-corpus/<target>, which
# keeps what it finds. Prints per target: executions, coverage (cov = edges, ft = features),
# corpus size, and a crash if any. Exits non-zero if any target finds a crash, leak,
# time-out or out-of-memory. `scripts/keep-fuzz-seeds.sh` merges what grew into fuzz/corpus.
set -euo pipefail
build="${1:-build/fuzz}"
seconds="${2:-60}"
jobs="${JOBS:-1}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p build/fuzz-corpus

run_one() {
  local bin="$1" name corpus seeds log
  name="$(basename "$bin")"
  corpus="build/fuzz-corpus/$name"
  seeds="$root/fuzz/corpus/$name"
  log="build/fuzz-corpus/$name.log"
  mkdir -p "$corpus"
  local dirs=("$corpus")
  [ -d "$seeds" ] && dirs+=("$seeds")
  local rc=0
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
    -artifact_prefix="build/fuzz-corpus/$name-" "${dirs[@]}" > "$log" 2>&1 || rc=$?
  local stats execs
  stats="$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -E 's/^#([0-9]+)[[:space:]]+[A-Z]+[[:space:]]+//')"
  execs="$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')"
  if [ "$rc" -ne 0 ]; then
    echo "FAILED $name: exit $rc (see $log) $(grep -m1 -E 'ERROR|SUMMARY' "$log" || true)"
    return 1
  fi
  printf '%-32s execs %-10s %s\n' "$name" "${execs:-?}" "$stats"
}

targets=()
for bin in "$build"/fuzz/*_fuzz; do
  [ -x "$bin" ] || continue
  if [ -n "${FUZZ_TARGETS:-}" ] && ! [[ " $FUZZ_TARGETS " == *" $(basename "$bin") "* ]]; then
    continue
  fi
  targets+=("$bin")
done

status=0
pids=()
for bin in "${targets[@]}"; do
  run_one "$bin" &
  pids+=($!)
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
