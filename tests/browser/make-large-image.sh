#!/usr/bin/env bash
# Builds DIR/large.bin for the report.html scale test: a SquashFS (gzip) root filesystem with
# COUNT small text files in directories of 100, plus copies of a few system ELF programs.
# Deterministic: fixed contents and timestamps.
set -euo pipefail
out="${1:?usage: make-large-image.sh DIR [COUNT]}"
count="${2:-4000}"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000
root="$work/rootfs"
mkdir -p "$root/bin" "$root/data"
for i in $(seq 0 $((count - 1))); do
  d="$root/data/d$((i / 100))"
  [ -d "$d" ] || mkdir "$d"
  printf 'file %d of the large image\n' "$i" > "$d/f$i.txt"
done
for program in ls cat cp mv rm ln mkdir chmod chown date df du echo grep sed tar gzip sort uniq wc; do
  path="$(type -P "$program" || true)"
  if [ -n "$path" ]; then cp "$path" "$root/bin/$program"; fi
done
find "$root" -exec touch -h -d @$SOURCE_DATE_EPOCH {} +
mksquashfs "$root" "$out/large.bin" -comp gzip -noappend -all-root -quiet -no-progress >/dev/null
echo "large image: $out/large.bin ($(stat -c %s "$out/large.bin") bytes)"
