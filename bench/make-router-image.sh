#!/usr/bin/env bash
# Builds a router image from real Debian files: a 64-byte vendor header, an LZMA-alone
# compressed "kernel" and a SquashFS (xz) root filesystem at a 64 KiB-aligned offset.
# Usage: make-router-image.sh OUT_DIR [ROOTFS_MB] [PROFILE]. Writes OUT_DIR/router.bin and
# OUT_DIR/rootfs.sqfs. Deterministic for a given machine's files.
# PROFILE (default elf):
#   elf     only ELF programs and libraries of 8 KiB-20 MiB (few, large files: the time is
#           almost all xz decoding, the case closest to bare unsquashfs);
#   vendor  the layout of a vendor router's root filesystem: busybox and its applet links,
#           programs and libraries of every size, scripts (Python modules stand in for
#           LuCI's Lua), a web UI tree (HTML, JavaScript, icons), /etc, zoneinfo and
#           translations; thousands of small files, as in real firmware.
set -euo pipefail
shopt -s lastpipe  # copy_listed runs in this shell, so it can add to $total
out="${1:?usage: make-router-image.sh OUT_DIR [ROOTFS_MB] [PROFILE]}"
want_mb="${2:-160}"
profile="${3:-elf}"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
mkdir -p "$root"/{bin,sbin,lib,usr/bin,usr/sbin,usr/lib,usr/share,etc,www}
total=0
# copy_listed DEST_DIR BUDGET_BYTES [keep-tree PREFIX]: copies the files named on stdin, in
# order, while the budget lasts; flat into DEST_DIR, or keeping their path below PREFIX.
copy_listed() {
  local dest_dir="$1" budget="$2" keep_prefix="${3:-}" used=0 f size dest
  while IFS= read -r f; do
    [ -r "$f" ] || continue
    size=$(stat -c %s "$f")
    [ $((used + size)) -gt "$budget" ] && continue
    if [ -n "$keep_prefix" ]; then
      dest="$dest_dir/${f#"$keep_prefix"/}"
      mkdir -p "$(dirname "$dest")"
    else
      dest="$dest_dir/$(basename "$f")"
    fi
    [ -e "$dest" ] && continue
    cp "$f" "$dest"
    used=$((used + size))
  done
  total=$((total + used))
}
budget=$((want_mb * 1024 * 1024))
case "$profile" in
  elf)
    # Real ELF programs, then libraries, in a stable order, until the size budget is met.
    find /usr/bin -maxdepth 1 -type f -size +8k -size -20M | LC_ALL=C sort \
      | copy_listed "$root/usr/bin" "$budget"
    find /usr/lib/x86_64-linux-gnu -maxdepth 1 -type f -size +8k -size -20M | LC_ALL=C sort \
      | copy_listed "$root/usr/lib" $((budget - total))
    cp -r /etc/ssl "$root/etc/" 2>/dev/null || true
    ;;
  vendor)
    # Shares of the budget, in percent, follow the make-up of vendor router images: most
    # bytes in programs and libraries, most files in scripts, web pages and configuration.
    cp /usr/bin/busybox "$root/bin/busybox"
    total=$((total + $(stat -c %s /usr/bin/busybox)))
    for applet in $(/usr/bin/busybox --list | LC_ALL=C sort); do
      [ "$applet" = busybox ] && continue
      case "$applet" in
        *init|*mod|ifconfig|route|reboot|halt|poweroff|syslogd|klogd|udhcpc) d=sbin ;;
        *) d=bin ;;
      esac
      ln -sf busybox "$root/$d/$applet" 2>/dev/null || true
    done
    find /usr/bin /usr/sbin -maxdepth 1 -type f -size -20M | LC_ALL=C sort \
      | copy_listed "$root/usr/bin" $((budget * 30 / 100))
    find /usr/lib/x86_64-linux-gnu -maxdepth 1 -type f -name 'lib*.so*' -size -20M | LC_ALL=C sort \
      | copy_listed "$root/usr/lib" $((budget * 40 / 100))
    find /usr/lib/python3.11 /usr/lib/python3/dist-packages -type f -name '*.py' | LC_ALL=C sort \
      | copy_listed "$root/usr/lib/scripts" $((budget * 12 / 100)) /usr/lib
    { find /usr/share/javascript /usr/share/doc -type f \( -name '*.html' -o -name '*.js' \
        -o -name '*.css' \); find /usr/share/icons -type f \( -name '*.png' -o -name '*.svg' \); } \
      | LC_ALL=C sort | copy_listed "$root/www" $((budget * 10 / 100)) /usr/share
    find /etc -type f | LC_ALL=C sort | copy_listed "$root/etc" $((budget * 3 / 100)) /etc
    find /usr/share/zoneinfo -type f | LC_ALL=C sort \
      | copy_listed "$root/usr/share/zoneinfo" $((budget * 2 / 100)) /usr/share/zoneinfo
    find /usr/share/locale -type f -name '*.mo' | LC_ALL=C sort \
      | copy_listed "$root/usr/share/locale" $((budget * 3 / 100)) /usr/share/locale
    ;;
  *) echo "make-router-image.sh: unknown profile '$profile' (elf or vendor)" >&2; exit 2 ;;
esac
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
echo "router image ($profile): $out/router.bin $(( $(stat -c %s "$out/router.bin") / 1048576 )) MiB" \
     "(rootfs input ${total} bytes in $(find "$root" -type f | wc -l) files," \
     "$(find "$root" -type l | wc -l) links; squashfs $(stat -c %s "$out/rootfs.sqfs") bytes)"
