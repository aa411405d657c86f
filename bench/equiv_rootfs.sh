#!/usr/bin/env bash
# Whole-run benchmark of `clearbox equiv` against `diffoscope` (Debian's package) on the same
# pair of root filesystems of bench/make-equiv-rootfs.sh (a stripped vendor build and an
# unstripped lab rebuild of the same generated sources, one program in 50 changed), in the
# same run. Prints wall time, CPU time and peak memory of each, the ratio, and clearbox's
# peak memory on a quarter of the files (memory must not grow with the number of files).
#
# The two tools do not do the same work: diffoscope renders a full text diff of every pair
# (readelf, objdump and strings output of each side) and gives no verdict on which
# differences are harmless; clearbox compares the loaded content, names the tolerated
# classes and writes a per-file verdict. Both read every byte of both trees.
# Env: BENCH_DIR (default build/bench-equiv), COUNT (programs, default 300; COUNT/8 libraries
# are added), RUNS (clearbox runs, best kept; default 3), SKIP_DIFFOSCOPE=1.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${BENCH_DIR:-build/bench-equiv}"
clearbox="$(realpath "${CLEARBOX:-build/release/src/cli/clearbox}")"
count="${COUNT:-300}"
small=$((count / 4))
mkdir -p "$dir"
# make_pair NAME N: the rootfs pair of N programs in $dir/NAME (kept across runs).
make_pair() {
  if [ "$(cat "$dir/$1/count" 2>/dev/null)" != "$2" ]; then
    mkdir -p "$dir/$1"
    bash bench/make-equiv-rootfs.sh "$dir/$1" "$2"
    echo "$2" > "$dir/$1/count"
  fi
}
make_pair full "$count"
make_pair small "$small"

# measure NAME RUNS OUT CMD...: best wall seconds over RUNS runs, with that run's CPU seconds
# and peak RSS (KiB). OUT is removed before each run.
measure() {
  local name="$1" runs="$2" out="$3"; shift 3
  local best="" line
  for _ in $(seq "$runs"); do
    rm -rf "$out"; sync
    /usr/bin/time -f '%e %U %S %M' -o "$dir/$name.time" "$@" >"$dir/$name.out" 2>&1 || true
    line=$(tail -n 1 "$dir/$name.time")
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if ${line%% *} < ${best%% *} else 1)"; then
      best="$line"
    fi
  done
  echo "$best"
}
cb=$(measure clearbox "${RUNS:-3}" "$dir/cb-out" \
  "$clearbox" equiv "$dir/full/delivered" "$dir/full/rebuilt" -o "$dir/cb-out")
cb_small=$(measure clearbox-small "${RUNS:-3}" "$dir/cb-small-out" \
  "$clearbox" equiv "$dir/small/delivered" "$dir/small/rebuilt" -o "$dir/cb-small-out")
ds="skipped"
if [ "${SKIP_DIFFOSCOPE:-0}" != 1 ]; then
  ds=$(cd "$dir/full" && measure diffoscope 1 ../diffoscope.txt \
    diffoscope --no-progress --text ../diffoscope.txt delivered rebuilt)
fi
python3 - "$dir" "$count" "$small" "$cb" "$cb_small" "$ds" <<'PY'
import json, sys
d, count, small, cb, cb_small, ds = sys.argv[1:7]
def parse(t):
    w, u, s, k = t.split()
    return float(w), float(u) + float(s), int(k) / 1024
report = json.load(open(f"{d}/cb-out/equiv.json"))
verdicts = {}
for f in report["files"]:
    verdicts[f["verdict"]] = verdicts.get(f["verdict"], 0) + 1
different = sorted(f["path"] for f in report["files"] if f["verdict"] == "DIFFERENT")
expected = sorted(f"usr/bin/prog{i}" for i in range(50, int(count) + 1, 50))
print(f"pair: {sum(verdicts.values())} files per side ({count} programs, {int(count)//8} libraries)")
print("clearbox verdicts: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
print("DIFFERENT files are exactly the changed programs: " + ("yes" if [p.lstrip('/') for p in different] == expected else f"NO: {different}"))
print(f"{'run':<28}{'wall s':>10}{'cpu s':>10}{'peak MiB':>10}")
w, c, m = parse(cb)
print(f"{'clearbox equiv':<28}{w:>10.2f}{c:>10.2f}{m:>10.1f}")
ws, cs, ms = parse(cb_small)
print(f"{'clearbox equiv (' + small + ' progs)':<28}{ws:>10.2f}{cs:>10.2f}{ms:>10.1f}")
if ds != "skipped":
    wd, cd, md = parse(ds)
    print(f"{'diffoscope':<28}{wd:>10.2f}{cd:>10.2f}{md:>10.1f}")
    print(f"diffoscope / clearbox: {wd / w:.1f}x the wall time, {cd / c:.1f}x the CPU time (goal >= 10x)")
print(f"clearbox peak memory, {count} vs {small} programs: {m:.1f} vs {ms:.1f} MiB ({m / ms:.2f}x)")
PY
