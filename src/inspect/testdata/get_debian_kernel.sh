#!/bin/sh
# Fetches Debian's 6.1 cloud kernel and writes its decompressed vmlinux to OUT, for the
# optional test over a real kernel (crypto/testmgr.h self-test keys):
#   sh get_debian_kernel.sh OUT && CLEARBOX_TEST_VMLINUX=OUT ctest -R InspectKnownKeys
set -eu
out=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' |
  awk '{print $1}' | sort -V | tail -1)
apt-get download "$pkg" >/dev/null
dpkg-deb -x ./*.deb x
vmlinuz=$(ls x/boot/vmlinuz-*)
# Like the kernel's scripts/extract-vmlinux: try each compressed stream until one is an ELF.
python3 - "$vmlinuz" "$out" <<'PY'
import subprocess, sys
data = open(sys.argv[1], 'rb').read()
tools = [(b'\x02\x21\x4c\x18', ['lz4', '-dc']), (b'\xfd7zXZ\x00', ['xz', '-dc']),
         (b'\x28\xb5\x2f\xfd', ['zstd', '-dc']), (b'\x1f\x8b\x08', ['gzip', '-dc'])]
for magic, cmd in tools:
    at = data.find(magic)
    while at >= 0:
        r = subprocess.run(cmd, input=data[at:], capture_output=True)
        if r.stdout[:4] == b'\x7fELF':
            open(sys.argv[2], 'wb').write(r.stdout)
            sys.exit(0)
        at = data.find(magic, at + 1)
sys.exit('no vmlinux found in ' + sys.argv[1])
PY
