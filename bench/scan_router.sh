#!/usr/bin/env bash
# Whole-run benchmark of `clearbox scan` against `clearbox unpack` alone on the router image
# of bench/make-router-image.sh (issue 3: scan must take at most 2x the unpack time).
# Env: BENCH_DIR (default build/bench), ROOTFS_MB (default 160), RUNS (default 3, best kept).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${BENCH_DIR:-build/bench}"
clearbox="${CLEARBOX:-build/release/src/cli/clearbox}"
runs="${RUNS:-3}"
mkdir -p "$dir"
if [ ! -f "$dir/router.bin" ]; then
  bash bench/make-router-image.sh "$dir" "${ROOTFS_MB:-160}"
fi
# best NAME CMD...: the best wall time (s) and its peak RSS (KiB) over $runs runs.
best() {
  local name="$1"; shift
  local best_s="" best_k="" best_cpu=""
  for _ in $(seq "$runs"); do
    rm -rf "$dir/$name-out"
    sync
    /usr/bin/time -f '%e %M %U %S' -o "$dir/$name.time" "$@" "$dir/router.bin" -o "$dir/$name-out" \
      >"$dir/$name.out" 2>&1 || true
    read -r s k u y < <(tail -n 1 "$dir/$name.time")
    if [ -z "$best_s" ] || python3 -c "import sys; sys.exit(0 if $s < $best_s else 1)"; then
      best_s=$s; best_k=$k; best_cpu=$(python3 -c "print($u + $y)")
    fi
  done
  echo "$best_s $best_k $best_cpu"
}
read -r us uk uc < <(best unpack "$clearbox" unpack)
read -r ss sk sc < <(SOURCE_DATE_EPOCH=1700000000 best scan "$clearbox" scan -q)
python3 - "$us" "$uk" "$ss" "$sk" "$uc" "$sc" "$(stat -c %s "$dir/router.bin")" "$dir/scan-out/report.json" <<'PY'
import json, sys
us, uk, ss, sk, uc, sc, size, report = sys.argv[1:9]
r = json.load(open(report))["summary"]
print(f"image: {int(size)/1048576:.1f} MiB; scan found {r['files']} objects, {r['binaries']} ELF, "
      f"{r['components']} components, {r['findings']} findings")
print(f"{'run':<16}{'wall s':>10}{'cpu s':>10}{'peak MiB':>10}")
print(f"{'clearbox unpack':<16}{float(us):>10.2f}{float(uc):>10.2f}{int(uk)/1024:>10.1f}")
print(f"{'clearbox scan':<16}{float(ss):>10.2f}{float(sc):>10.2f}{int(sk)/1024:>10.1f}")
print(f"scan / unpack: {float(ss)/float(us):.2f}x the time (goal <= 2x)")
PY
