#!/usr/bin/env bash
# Builds the built-in demo image DIR/router.bin from real tools: a vendor header, an
# LZMA-compressed "kernel" and a SquashFS (xz) root filesystem holding a gzip'd tarball.
# Deterministic: fixed contents and timestamps. DEMO_HOSTILE_NAMES=1 adds files whose names are
# HTML (www/<script>alert(1)</script> and one with quotes) or not UTF-8 (a 0xFF byte), for the
# report.html browser test.
#
# DEMO_VARIANT picks two releases for `clearbox diff` tests; unset gives the demo image above.
#   release  the demo image plus bin/httpd, a small daemon built as a PIE;
#   next     the release's successor with exactly these changes: dropbear upgraded
#            (2016.72-1 -> 2022.83-1 in the opkg status), bin/httpd rebuilt without PIE, a second
#            private key etc/ssl/private/server.key, www/index.html removed, and the root
#            filesystem 64 KiB further into the image.
set -euo pipefail
out="${1:-build/demo}"
variant="${DEMO_VARIANT:-}"
case "$variant" in
  "" | release | next) ;;
  *) echo "make-demo-image.sh: unknown DEMO_VARIANT '$variant' (release, next)" >&2; exit 2 ;;
esac
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000

root="$work/rootfs"
mkdir -p "$root"/{bin,etc/init.d,etc/ssh,etc/ssl/private,lib,www,usr/share/doc,usr/lib/opkg}
cp /bin/busybox "$root/bin/" 2>/dev/null || cp /bin/ls "$root/bin/busybox"
ln -sf busybox "$root/bin/sh"
cp /bin/ls /bin/cat "$root/bin/"
printf 'root:x:0:0:root:/root:/bin/sh\nadmin:x:1000:1000::/home/admin:/bin/sh\n' > "$root/etc/passwd"
# Default credentials, as shipped by too many routers (MD5-crypt of "admin", SHA-512 of "1234").
printf 'root:%s:19000:0:99999:7:::\nadmin:%s:19000:0:99999:7:::\n' \
  "$(openssl passwd -1 -salt demosalt admin)" "$(openssl passwd -6 -salt demosalt2 1234)" \
  > "$root/etc/shadow"
printf 'Port 22\nPermitRootLogin yes\nPasswordAuthentication yes\n' > "$root/etc/ssh/sshd_config"
# A deterministic Ed25519 private key (PKCS#8 around a fixed seed), as if left in the image.
{ printf '302e020100300506032b657004220420'; printf 'demo-router-private-key-seed' | sha256sum | cut -c1-64; } \
  | xxd -r -p | openssl pkey -inform DER -out "$root/etc/ssl/private/device.key"
# Shared libraries the scan identifies and judges FORTIFY against.
cp /lib/x86_64-linux-gnu/libc.so.6 "$root/lib/"
cp -L /usr/lib/x86_64-linux-gnu/libz.so.1 "$root/lib/libz.so.1"
dropbear_version=2016.72-1
[ "$variant" = next ] && dropbear_version=2022.83-1
printf 'Package: dropbear\nVersion: %s\nStatus: install user installed\nArchitecture: mips_24kc\n\nPackage: dnsmasq\nVersion: 2.80-15\nStatus: install user installed\nArchitecture: mips_24kc\n\n' \
  "$dropbear_version" > "$root/usr/lib/opkg/status"
# A legacy daemon built without any hardening (no canary, no PIE, executable stack, no RELRO).
printf 'int main(void) { return 0; }\n' > "$work/legacyd.c"
gcc -O0 -fno-stack-protector -no-pie -z execstack -Wl,-z,norelro -o "$root/bin/legacyd" \
  "$work/legacyd.c"
if [ -n "$variant" ]; then
  # A small daemon the next release rebuilds without PIE (no arrays, so no canary either way).
  printf 'int main(int argc, char **argv) { (void)argv; return argc > 3; }\n' > "$work/httpd.c"
  pie_flags="-fPIE -pie"
  [ "$variant" = next ] && pie_flags="-fno-PIE -no-pie"
  # shellcheck disable=SC2086
  gcc -O1 $pie_flags -o "$root/bin/httpd" "$work/httpd.c"
fi
if [ "$variant" = next ]; then
  { printf '302e020100300506032b657004220420'; printf 'demo-router-server-key-seed' | sha256sum | cut -c1-64; } \
    | xxd -r -p | openssl pkey -inform DER -out "$root/etc/ssl/private/server.key"
fi
printf '#!/bin/sh\ntelnetd -l /bin/sh\n' > "$root/etc/init.d/rcS"
chmod 755 "$root/etc/init.d/rcS"
[ "$variant" = next ] || printf '<html><body>demo router</body></html>\n' > "$root/www/index.html"
if [ "${DEMO_HOSTILE_NAMES:-0}" = 1 ]; then
  # A name cannot hold '/', so the directory "<script>alert(1)<" and the file "script>" make
  # the path www/<script>alert(1)</script>.
  mkdir -p "$root/www/<script>alert(1)<"
  printf 'hostile name\n' > "$root/www/<script>alert(1)</script>"
  printf 'hostile name\n' > "$root/www/\"><img src=x onerror=alert(2)>'"
  printf 'hostile name\n' > "$root/www/not-utf8-$(printf '\377')-name"
fi
seq 1 20000 > "$root/usr/share/doc/numbers.txt"
tar -C "$root/usr/share/doc" --mtime=@$SOURCE_DATE_EPOCH --sort=name --owner=0 --group=0 \
  -cf - numbers.txt | gzip -n > "$root/usr/share/doc/backup.tar.gz"
find "$root" -exec touch -h -d @$SOURCE_DATE_EPOCH {} +

mksquashfs "$root" "$work/rootfs.sqfs" -comp xz -noappend -all-root -quiet -no-progress >/dev/null

# A stand-in kernel: real code bytes, LZMA-alone compressed as in many router images.
head -c 600000 /bin/bash > "$work/kernel.bin" 2>/dev/null || head -c 600000 /bin/ls > "$work/kernel.bin"
xz --format=lzma -6 -c "$work/kernel.bin" > "$work/kernel.lzma"

{
  # A 64-byte vendor header: magic, version, padding.
  printf 'DEMOFW01'; printf 'v1.0.0-demo'; head -c 45 /dev/zero
  cat "$work/kernel.lzma"
  # Align the filesystem to 64 KiB as flash layouts do.
  size=$((64 + $(stat -c %s "$work/kernel.lzma")))
  pad=$(( (65536 - size % 65536) % 65536 ))
  [ "$variant" = next ] && pad=$((pad + 65536))
  head -c "$pad" /dev/zero | tr '\0' '\377'
  cat "$work/rootfs.sqfs"
} > "$out/router.bin"
echo "demo image: $out/router.bin ($(stat -c %s "$out/router.bin") bytes)"
