#!/usr/bin/env bash
# Whole-run benchmark of `clearbox unpack` against `binwalk -Me` and bare `unsquashfs` on
# the same router image, in the same run. Prints wall times, peak memory and ratios.
# Env: BENCH_DIR (default build/bench), ROOTFS_MB (default 160), SKIP_BINWALK=1.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${BENCH_DIR:-build/bench}"
clearbox="${CLEARBOX:-build/release/src/cli/clearbox}"
mkdir -p "$dir"
if [ ! -f "$dir/router.bin" ]; then
  bash bench/make-router-image.sh "$dir" "${ROOTFS_MB:-160}"
fi
# measure NAME CMD...: wall seconds and peak RSS (KiB) via GNU time.
measure() {
  local name="$1"; shift
  local log="$dir/$name.time"
  /usr/bin/time -f '%e %M' -o "$log" "$@" >"$dir/$name.out" 2>&1 || true
  read -r secs kib < <(tail -n 1 "$log")
  echo "$name $secs $kib"
}
rm -rf "$dir/cb-out" "$dir/unsquashfs-out" "$dir/binwalk-out"; mkdir -p "$dir/binwalk-out"
sync
cb=$(measure clearbox "$clearbox" unpack "$dir/router.bin" -o "$dir/cb-out")
us=$(measure unsquashfs unsquashfs -no-progress -d "$dir/unsquashfs-out" "$dir/rootfs.sqfs")
if [ "${SKIP_BINWALK:-0}" != 1 ]; then
  mkdir -p "$dir/binwalk-out"
  bw=$(cd "$dir/binwalk-out" && measure_dir="$PWD"; \
       /usr/bin/time -f '%e %M' -o ../binwalk.time timeout 3600 binwalk -Me --run-as=root \
         ../router.bin >../binwalk.out 2>&1 || true; \
       read -r s k < <(tail -n 1 ../binwalk.time); echo "binwalk $s $k")
else
  bw="binwalk nan 0"
fi
files_cb=$(find "$dir/cb-out" -type f | wc -l)
files_us=$(find "$dir/unsquashfs-out" -type f | wc -l)
files_bw=$(find "$dir/binwalk-out" -type f 2>/dev/null | wc -l)
python3 - "$cb" "$us" "$bw" "$files_cb" "$files_us" "$files_bw" "$(stat -c %s "$dir/router.bin")" <<'PY'
import sys
cb, us, bw = (s.split() for s in sys.argv[1:4])
files = sys.argv[4:7]
size = int(sys.argv[7])
print(f"image: {size/1048576:.1f} MiB")
print(f"{'tool':<12}{'wall s':>10}{'peak MiB':>10}{'files':>8}")
for (name, secs, kib), n in zip((cb, us, bw), files):
    print(f"{name:<12}{float(secs):>10.2f}{int(kib)/1024:>10.1f}{n:>8}")
c = float(cb[1])
print(f"clearbox vs unsquashfs: {c/float(us[1]):.2f}x the time (goal <= 1.5x)")
if bw[1] != 'nan':
    print(f"binwalk -Me vs clearbox: clearbox is {float(bw[1])/c:.1f}x faster (goal >= 5x)")
PY
