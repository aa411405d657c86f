#!/usr/bin/env bash
# Transparency log benchmark: builds only the ledger_bench target (release, in its own build
# dir) and the clearbox binary, then measures appends per second (single and batched), proof
# generation/verification at ENTRIES entries, disk bytes per entry, and single appends through
# the CLI (process start included).
# Env: BENCH_DIR (default build/bench-ledger), ENTRIES (10000000), BATCH (65536),
#      SINGLE (500), ENTRY_BYTES (128), CLI_APPENDS (100), KEEP=1 keeps the log afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BENCH_BUILD:-build/bench-ledger}"
dir="${BENCH_DIR:-$build/data}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCLEARBOX_BENCH=ON \
  -DCLEARBOX_TESTS=OFF >/dev/null
nice cmake --build "$build" -j2 --target ledger_bench clearbox >/dev/null
mkdir -p "$dir"
echo "# ledger_bench $dir/log ${ENTRIES:-10000000} ${BATCH:-65536} ${SINGLE:-500} ${ENTRY_BYTES:-128}"
"$build/bench/ledger_bench" "$dir/log" "${ENTRIES:-10000000}" "${BATCH:-65536}" \
  "${SINGLE:-500}" "${ENTRY_BYTES:-128}"
# CLI appends: one process per entry (open, recheck the root from the tiles, append, fsync).
cli="$build/src/cli/clearbox"
rm -rf "$dir/cli" "$dir/cli-log"
mkdir -p "$dir/cli"
"$cli" keygen bench.example/cli -o "$dir/cli/k" >/dev/null
"$cli" log init "$dir/cli-log" --origin bench.example/cli --key "$dir/cli/k.skey" >/dev/null
head -c "${ENTRY_BYTES:-128}" /dev/zero >"$dir/cli/entry"
n="${CLI_APPENDS:-100}"
start=$(date +%s.%N)
for _ in $(seq "$n"); do "$cli" log append "$dir/cli-log" "$dir/cli/entry" >/dev/null; done
end=$(date +%s.%N)
echo "clearbox log append (one process per entry): $n in $(echo "$end - $start" | bc) s" \
  "= $(echo "scale=1; $n / ($end - $start)" | bc) appends/s"
if [ "${KEEP:-0}" != 1 ]; then rm -rf "$dir"; fi
