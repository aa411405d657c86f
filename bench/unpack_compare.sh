#!/usr/bin/env bash
# Two clearbox binaries unpacking the same router images, runs interleaved (A, B, A, B, ...)
# so that machine load hits both alike; prints each one's best wall time and peak memory and
# the ratio B/A, and the same for CPU time (user + system), which other load on the machine
# disturbs less than wall time. Used to check that new handlers (more signatures in the one multi-pattern
# pass) do not slow unpacking: issue 17 allows at most 5%.
# Usage: unpack_compare.sh OLD_CLEARBOX NEW_CLEARBOX. Env: RUNS (default 5), BENCH_DIR
# (default build/bench-compare; the images are made by make-router-image.sh, profiles elf and
# vendor).
set -euo pipefail
cd "$(dirname "$0")/.."
old="$(realpath "$1")" new="$(realpath "$2")"
dir="${BENCH_DIR:-build/bench-compare}"
runs="${RUNS:-5}"
mkdir -p "$dir"
for profile in elf vendor; do
  if [ ! -f "$dir/$profile/router.bin" ]; then
    mb=160; [ "$profile" = vendor ] && mb=180
    bash bench/make-router-image.sh "$dir/$profile" "$mb" "$profile" >/dev/null
  fi
done
best() {  # FILE of "secs kib cpu_secs" lines -> "best_secs kib_of_that_run"
  sort -n "$1" | head -n 1 | cut -d' ' -f1,2
}
best_cpu() {  # FILE of "secs kib cpu_secs" lines -> least cpu_secs
  cut -d' ' -f3 "$1" | sort -n | head -n 1
}
printf '%-8s %-5s %10s %10s %10s %9s\n' image side 'best s' 'best cpu s' 'peak MiB' runs
for profile in elf vendor; do
  image="$dir/$profile/router.bin"
  : > "$dir/$profile-old.times"; : > "$dir/$profile-new.times"
  for _ in $(seq "$runs"); do
    for side in old new; do
      bin="$old"; [ "$side" = new ] && bin="$new"
      rm -rf "$dir/out"; sync
      # clearbox exits 3 when it records problems (the vendor image has some); only time matters.
      /usr/bin/time -f '%e %M %U %S' -o "$dir/t" "$bin" unpack "$image" -o "$dir/out" >/dev/null 2>&1 || true
      tail -n 1 "$dir/t" | awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' >> "$dir/$profile-$side.times"
    done
  done
  read -r os ok < <(best "$dir/$profile-old.times")
  read -r ns nk < <(best "$dir/$profile-new.times")
  oc="$(best_cpu "$dir/$profile-old.times")" nc="$(best_cpu "$dir/$profile-new.times")"
  printf '%-8s %-5s %10.2f %10.2f %10.1f %9s\n' "$profile" old "$os" "$oc" "$(echo "$ok/1024" | bc -l)" "$runs"
  printf '%-8s %-5s %10.2f %10.2f %10.1f %9s\n' "$profile" new "$ns" "$nc" "$(echo "$nk/1024" | bc -l)" "$runs"
  printf '%-8s new/old wall %.3f cpu %.3f\n' "$profile" "$(echo "$ns/$os" | bc -l)" "$(echo "$nc/$oc" | bc -l)"
done
rm -rf "$dir/out"
