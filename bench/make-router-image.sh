#!/usr/bin/env bash
# Builds a realistic router image from real Debian binaries: a 64-byte vendor header, an
# LZMA-alone compressed "kernel" and a SquashFS (xz) root filesystem at a 64 KiB-aligned
# offset. Usage: make-router-image.sh OUT_DIR [ROOTFS_MB]. Writes OUT_DIR/router.bin and
# OUT_DIR/rootfs.sqfs. Deterministic for a given machine's files.
set -euo pipefail
out="${1:?usage: make-router-image.sh OUT_DIR [ROOTFS_MB]}"
want_mb="${2:-160}"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root"/{bin,sbin,lib,usr/bin,usr/lib,etc,www}
budget=$((want_mb * 1024 * 1024))
total=0
# Real ELF binaries and libraries, in a stable order, until the size budget is met.
while IFS= read -r f; do
  size=$(stat -c %s "$f")
  [ $((total + size)) -gt "$budget" ] && continue
  case "$f" in
    /usr/lib/*) dest="$root/usr/lib/$(basename "$f")" ;;
    *) dest="$root/usr/bin/$(basename "$f")" ;;
  esac
  cp "$f" "$dest"
  total=$((total + size))
done < <(find /usr/bin /usr/lib/x86_64-linux-gnu -maxdepth 1 -type f -size +8k -size -20M | LC_ALL=C sort)
cp -r /etc/ssl "$root/etc/" 2>/dev/null || true
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
mksquashfs "$root" "$out/rootfs.sqfs" -comp xz -noappend -all-root -quiet -no-progress >/dev/null
# A stand-in kernel of real code, LZMA-alone compressed as router kernels are.
find /usr/lib/x86_64-linux-gnu -maxdepth 1 -name 'lib*.so*' -type f -size +1M | LC_ALL=C sort \
  | head -n 4 | xargs cat > "$work/kernel.raw"
head -c $((6 * 1024 * 1024)) "$work/kernel.raw" > "$work/vmlinux"
xz --format=lzma -6 -c "$work/vmlinux" > "$work/kernel.lzma"
{
  printf 'HDR0ROUTER-BENCH'; head -c 48 /dev/zero
  cat "$work/kernel.lzma"
  size=$((64 + $(stat -c %s "$work/kernel.lzma")))
  head -c $(( (65536 - size % 65536) % 65536 )) /dev/zero | tr '\0' '\377'
  cat "$out/rootfs.sqfs"
} > "$out/router.bin"
echo "router image: $out/router.bin $(( $(stat -c %s "$out/router.bin") / 1048576 )) MiB" \
     "(rootfs input ${total} bytes, squashfs $(stat -c %s "$out/rootfs.sqfs") bytes)"
