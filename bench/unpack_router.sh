#!/usr/bin/env bash
# Whole-run benchmark of `clearbox unpack` against `binwalk -Me` and bare `unsquashfs` on
# the same router image, in the same run. Prints wall times, peak memory and ratios.
# Env: BENCH_DIR (default build/bench), ROOTFS_MB (default 160), PROFILE (elf or vendor, see
# make-router-image.sh; default elf), SKIP_BINWALK=1, SKIP_BINWALK_RECURSIVE=1.
#
# binwalk is measured twice. Stock `binwalk -Me` (Debian's 2.3.3) does not look inside the
# files it gets out of a SquashFS: its extract.conf marks the squashfs rule recurse=False, so
# its run is one Python signature scan of the image plus unsquashfs and the kernel. "binwalk
# -Me, recursive" adds a user extract.conf (XDG_CONFIG_HOME) with the same unsquashfs rule
# marked recurse=True, so binwalk scans and unpacks every file of the root filesystem, the
# work `clearbox unpack` does.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${BENCH_DIR:-build/bench}"
clearbox="${CLEARBOX:-build/release/src/cli/clearbox}"
mkdir -p "$dir"
profile="${PROFILE:-elf}"
if [ ! -f "$dir/router.bin" ] || [ "$(cat "$dir/profile" 2>/dev/null)" != "$profile" ]; then
  bash bench/make-router-image.sh "$dir" "${ROOTFS_MB:-160}" "$profile"
  echo "$profile" > "$dir/profile"
fi
# measure NAME OUT_DIR CMD...: the best wall seconds over RUNS runs (default 3; this VM's
# disk writeback makes single runs vary by up to 2x) and that run's peak RSS (KiB). CMD writes
# into OUT_DIR, which is emptied before each run.
measure() {
  local name="$1" out="$2"; shift 2
  local log="$dir/$name.time" best_s="" best_k="" secs kib
  for _ in $(seq "${RUNS:-3}"); do
    rm -rf "$out"; sync
    /usr/bin/time -f '%e %M' -o "$log" "$@" >"$dir/$name.out" 2>&1 || true
    read -r secs kib < <(tail -n 1 "$log")
    if [ -z "$best_s" ] || python3 -c "import sys; sys.exit(0 if $secs < $best_s else 1)"; then
      best_s=$secs; best_k=$kib
    fi
  done
  echo "$name $best_s $best_k"
}
rm -rf "$dir/binwalk-out" "$dir/binwalk-rec-out"
cb=$(measure clearbox "$dir/cb-out" "$clearbox" unpack "$dir/router.bin" -o "$dir/cb-out")
us=$(measure unsquashfs "$dir/unsquashfs-out" \
       unsquashfs -no-progress -d "$dir/unsquashfs-out" "$dir/rootfs.sqfs")
sync
if [ "${SKIP_BINWALK:-0}" != 1 ]; then
  mkdir -p "$dir/binwalk-out"
  bw=$(cd "$dir/binwalk-out" && \
       /usr/bin/time -f '%e %M' -o ../binwalk.time timeout 3600 binwalk -Me --run-as=root \
         ../router.bin >../binwalk.out 2>&1 || true; \
       read -r s k < <(tail -n 1 ../binwalk.time); echo "binwalk $s $k")
else
  bw="binwalk nan 0"
fi
if [ "${SKIP_BINWALK:-0}" != 1 ] && [ "${SKIP_BINWALK_RECURSIVE:-0}" != 1 ]; then
  conf="$PWD/$dir/binwalk-config/binwalk/config"
  mkdir -p "$conf" "$dir/binwalk-rec-out"
  printf '%s\n' "^squashfs filesystem:squashfs:unsquashfs -d '%%squashfs-root%%' '%e':0:True" \
    > "$conf/extract.conf"
  bwr=$(cd "$dir/binwalk-rec-out" && \
        XDG_CONFIG_HOME="$(dirname "$(dirname "$conf")")" /usr/bin/time -f '%e %M' \
          -o ../binwalk-rec.time timeout 3600 binwalk -Me --run-as=root ../router.bin \
          >../binwalk-rec.out 2>&1 || true; \
        read -r s k < <(tail -n 1 ../binwalk-rec.time); echo "binwalk-rec $s $k")
else
  bwr="binwalk-rec nan 0"
fi
count_files() { find "$1" -type f 2>/dev/null | wc -l; }
python3 - "$cb" "$us" "$bw" "$bwr" "$(count_files "$dir/cb-out")" \
  "$(count_files "$dir/unsquashfs-out")" "$(count_files "$dir/binwalk-out")" \
  "$(count_files "$dir/binwalk-rec-out")" "$(stat -c %s "$dir/router.bin")" "$profile" <<'PY'
import sys
runs = [s.split() for s in sys.argv[1:5]]
files = sys.argv[5:9]
size, profile = int(sys.argv[9]), sys.argv[10]
labels = {"clearbox": "clearbox unpack", "unsquashfs": "unsquashfs",
          "binwalk": "binwalk -Me", "binwalk-rec": "binwalk -Me, recursive"}
print(f"image: {size/1048576:.1f} MiB, profile {profile}")
print(f"{'tool':<24}{'wall s':>10}{'peak MiB':>10}{'files':>8}")
for (name, secs, kib), n in zip(runs, files):
    if secs != 'nan':
        print(f"{labels[name]:<24}{float(secs):>10.2f}{int(kib)/1024:>10.1f}{n:>8}")
c = float(runs[0][1])
print(f"clearbox vs unsquashfs: {c/float(runs[1][1]):.2f}x the time (goal <= 1.5x)")
if runs[2][1] != 'nan':
    print(f"binwalk -Me vs clearbox: clearbox is {float(runs[2][1])/c:.1f}x faster (goal >= 5x;"
          " stock binwalk does not look inside the SquashFS's files)")
if runs[3][1] != 'nan':
    print(f"binwalk -Me, recursive vs clearbox: clearbox is {float(runs[3][1])/c:.1f}x faster"
          " (same work: every file of the root filesystem scanned)")
PY
