#!/usr/bin/env bash
# Makes small starting inputs for the handler fuzz targets with the formats' own tools, into
# build/fuzz-corpus/<target>/ (the working corpora run-fuzzers.sh uses). Seeds that grow
# coverage are kept in fuzz/corpus by keep-fuzz-seeds.sh; these generated ones are not.
set -euo pipefail
out="build/fuzz-corpus"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/t/d" "$out"
printf 'hello firmware\n' > "$work/t/a.txt"
head -c 3000 /dev/urandom | base64 > "$work/t/d/b.txt"
ln -s a.txt "$work/t/link"
seed() { mkdir -p "$out/$1"; cp "$2" "$out/$1/$(basename "$2")"; }
(cd "$work/t" && tar -cf ../s.tar a.txt d link && tar --format=gnu -cf ../g.tar a.txt d link \
  && tar --format=pax -cf ../p.tar a.txt d link)
for f in s g p; do seed tar_fuzz "$work/$f.tar"; done
gzip -9 -n -c "$work/s.tar" > "$work/s.tar.gz" && seed gzip_fuzz "$work/s.tar.gz"
xz -c "$work/s.tar" > "$work/s.tar.xz" && seed xz_fuzz "$work/s.tar.xz"
xz -c --check=crc32 "$work/t/a.txt" > "$work/a.xz" && cat "$work/a.xz" "$work/a.xz" > "$work/two.xz" \
  && seed xz_fuzz "$work/two.xz"
bzip2 -c "$work/s.tar" > "$work/s.tar.bz2" && seed bzip2_fuzz "$work/s.tar.bz2"
command -v zstd >/dev/null && zstd -q -c "$work/s.tar" > "$work/s.tar.zst" && seed zstd_fuzz "$work/s.tar.zst"
command -v lz4 >/dev/null && lz4 -q -c "$work/s.tar" > "$work/s.tar.lz4" && seed lz4_fuzz "$work/s.tar.lz4"
(cd "$work/t" && find . | cpio -o -H newc --quiet > ../s.cpio) && seed cpio_fuzz "$work/s.cpio"
(cd "$work/t" && zip -q -r ../s.zip .) && seed zip_fuzz "$work/s.zip"
mksquashfs "$work/t" "$work/s.sqfs" -noappend -quiet -no-progress -comp gzip -b 4096 >/dev/null \
  && seed squashfs_fuzz "$work/s.sqfs"
mksquashfs "$work/t" "$work/x.sqfs" -noappend -quiet -no-progress -comp xz -b 4096 >/dev/null \
  && seed squashfs_fuzz "$work/x.sqfs"
# YAFFS: no Debian writer; the repository's generator (2048+64 LE, kernel-style tags after
# the bad block marker BE, 512+16 yaffs1).
mkyaffs="python3 scripts/fixtures/mkyaffs2.py --pages-per-block 0"
$mkyaffs "$work/t" "$work/s.yaffs2" && seed yaffs_fuzz "$work/s.yaffs2"
$mkyaffs -e big --tag-offset 2 --extra-tags "$work/t" "$work/b.yaffs2" && seed yaffs_fuzz "$work/b.yaffs2"
$mkyaffs -p 512 -s 16 --tags yaffs1 "$work/t" "$work/s.yaffs1" && seed yaffs_fuzz "$work/s.yaffs1"
if command -v mkfs.ubifs >/dev/null; then
  mkfs.ubifs -q -r "$work/t" -m 2048 -e 126976 -c 32 -o "$work/s.ubifs" && seed ubifs_fuzz "$work/s.ubifs"
fi
if command -v mkimage >/dev/null && command -v dtc >/dev/null; then
  cat > "$work/f.its" <<ITS
/dts-v1/;
/ { description = "seed"; #address-cells = <1>;
  images { kernel { description = "k"; data = /incbin/("$work/t/a.txt"); type = "kernel";
    arch = "arm"; os = "linux"; compression = "none"; load = <0>; entry = <0>;
    hash-1 { algo = "crc32"; }; }; };
  configurations { default = "c"; c { kernel = "kernel"; }; }; };
ITS
  mkimage -q -f "$work/f.its" "$work/f.itb" >/dev/null && seed fit_fuzz "$work/f.itb"
  mkimage -q -E -f "$work/f.its" "$work/e.itb" >/dev/null && seed fit_fuzz "$work/e.itb"
fi
if command -v img2simg >/dev/null; then
  head -c 65536 /dev/zero > "$work/raw.img" && printf 'data' >> "$work/raw.img" \
    && img2simg "$work/raw.img" "$work/sparse.img" && seed android_sparse_fuzz "$work/sparse.img"
fi
# Partition tables and FAT/exFAT volumes (tiny: sfdisk/sgdisk need no alignment at these sizes).
truncate -s 40K "$work/mbr.img" && printf 'label: dos\nstart=1, size=16, type=83\nstart=17, size=8, type=c\nstart=25, size=50, type=5\nstart=27, size=8, type=83\nstart=37, size=8, type=82\n' \
  | sfdisk -q "$work/mbr.img" && seed mbr_fuzz "$work/mbr.img"
seed mbr_fuzz tests/oracle/binwalk/mbr.bin
truncate -s 64K "$work/gpt.img" && sgdisk -a 1 -o -n 1:34:49 -c 1:boot -n 2:50:70 "$work/gpt.img" >/dev/null \
  && seed gpt_fuzz "$work/gpt.img"
mkfs.vfat -C -F 12 "$work/fat12.img" 64 >/dev/null \
  && MTOOLS_SKIP_CHECK=1 mcopy -s -i "$work/fat12.img" "$work/t/a.txt" "$work/t/d" ::/ \
  && MTOOLS_SKIP_CHECK=1 mcopy -i "$work/fat12.img" "$work/t/a.txt" "::/A long name.txt" \
  && seed fat_fuzz "$work/fat12.img"
# exFAT: a 2 MiB volume with 512-byte clusters and one file set added by hand, cut after its
# root directory (the handler extracts what is there).
truncate -s 2M "$work/exfat.img" && mkfs.exfat -b 4K -c 512 "$work/exfat.img" >/dev/null \
  && python3 - "$work/exfat.img" <<'PY' && seed exfat_fuzz "$work/exfat.img"
import struct, sys
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
heap, root = struct.unpack_from("<I", d, 88)[0] * 512, struct.unpack_from("<I", d, 96)[0]
at = heap + (root - 2) * 512
while d[at]:
    at += 32
name, data = "a.txt", b"hello exfat\n"
s = bytearray(96)
s[0], s[1] = 0x85, 2
struct.pack_into("<H", s, 4, 0x20)
s[32], s[33], s[35] = 0xC0, 0x03, len(name)
h = 0
for ch in name.upper().encode("utf-16-le"):
    h = ((0x8000 if h & 1 else 0) + (h >> 1) + ch) & 0xFFFF
struct.pack_into("<HQ", s, 36, h, len(data))
struct.pack_into("<IQ", s, 52, root + 1, len(data))
s[64] = 0xC1
s[66:66 + 2 * len(name)] = name.encode("utf-16-le")
c = 0
for i, b in enumerate(s):
    if i not in (2, 3):
        c = ((0x8000 if c & 1 else 0) + (c >> 1) + b) & 0xFFFF
struct.pack_into("<H", s, 2, c)
d[at:at + 96] = s
d[heap + (root - 1) * 512:heap + (root - 1) * 512 + len(data)] = data
open(p, "wb").write(d[:heap + root * 512])
PY
# Intel HEX / S-records (srec_cat), device trees (dtc), Android boot images (mkbootimg and
# the v4 generator) and zlib streams (pigz -z).
if command -v srec_cat >/dev/null; then
  head -c 300 /dev/urandom > "$work/h.bin"
  srec_cat "$work/h.bin" -binary -offset 0x0800fff0 -execution-start-address=0x08000100 \
    -o "$work/i32.hex" -intel && seed ihex_fuzz "$work/i32.hex"
  srec_cat "$work/h.bin" -binary -offset 0x100 -o "$work/i8.hex" -intel -address-length=2 \
    -output_block_size=16 && seed ihex_fuzz "$work/i8.hex"
  for n in 2 3 4; do
    srec_cat "$work/h.bin" -binary -offset 0x100 -execution-start-address=0x100 \
      -o "$work/s$n.srec" -motorola -address-length=$n && seed srec_fuzz "$work/s$n.srec"
  done
fi
if command -v dtc >/dev/null; then
  head -c 4100 /dev/urandom > "$work/blob"
  printf '/dts-v1/;\n/memreserve/ 0x1000 0x100;\n/ { model = "seed"; compatible = "a,b", "c";\n  soc { uart@0 { reg = <0 4>; mac = [00 11 22]; empty; }; };\n  fw { blob = /incbin/("blob"); }; };\n' \
    > "$work/b.dts"
  (cd "$work" && dtc -q -I dts -O dtb -o b.dtb b.dts) && seed dtb_fuzz "$work/b.dtb"
fi
if command -v mkbootimg >/dev/null; then
  head -c 100 /dev/urandom > "$work/k" && head -c 50 /dev/urandom > "$work/r"
  (cd "$work" && mkbootimg --kernel k --ramdisk r --second r --header_version 0 -o v0.img \
    && mkbootimg --kernel k --ramdisk r --header_version 3 -o v3.img \
    && mkbootimg --header_version 3 --vendor_boot vb3.img --vendor_ramdisk r --dtb r --pagesize 2048) \
    && for f in v0 v3 vb3; do seed android_boot_fuzz "$work/$f.img"; done
  python3 scripts/fixtures/make-android-boot-v4.py vendor -o "$work/vb4.img" --dtb "$work/k" \
    --pagesize 2048 --ramdisk a:platform:"$work/r" --bootconfig "$work/r" \
    && seed android_boot_fuzz "$work/vb4.img"
fi
command -v pigz >/dev/null && seq 1 400 | pigz -z -n -c > "$work/seq.zz" && seed zlib_fuzz "$work/seq.zz"
# Disk images (qemu-img), Android super (generator: Debian has no lpmake), QNX IFS and
# Windows CE B000FF (generator: no Debian writer), big-endian cramfs.
if command -v qemu-img >/dev/null; then
  head -c 131072 /dev/zero > "$work/disk.raw" \
    && dd if="$work/t/d/b.txt" of="$work/disk.raw" conv=notrunc status=none
  qemu-img convert -f raw -O vmdk "$work/disk.raw" "$work/s.vmdk" && seed vmdk_fuzz "$work/s.vmdk"
  qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$work/disk.raw" "$work/so.vmdk" \
    && seed vmdk_fuzz "$work/so.vmdk"
  qemu-img convert -f raw -O vpc -o subformat=fixed "$work/disk.raw" "$work/f.vhd" \
    && tail -c 512 "$work/f.vhd" > "$work/footer.vhd" && seed vhd_fuzz "$work/footer.vhd"
fi
python3 scripts/fixtures/make-tiny-vhd.py "$work/tiny.vhd" && seed vhd_fuzz "$work/tiny.vhd"
python3 scripts/fixtures/make-tiny-vdi.py "$work/tiny.vdi" && seed vdi_fuzz "$work/tiny.vdi"
python3 scripts/fixtures/make-android-super.py "$work/super.img" a="$work/t/a.txt" \
  b="$work/t/d/b.txt" --split b --zero z=2 --slots 1 --max-size 4096 \
  && seed android_super_fuzz "$work/super.img"
python3 scripts/fixtures/make-rtos-images.py qnx "$work/le.ifs" && seed qnx_ifs_fuzz "$work/le.ifs"
python3 scripts/fixtures/make-rtos-images.py qnx "$work/be.ifs" --big && seed qnx_ifs_fuzz "$work/be.ifs"
python3 scripts/fixtures/make-rtos-images.py wince "$work/nk.bin" && seed wince_fuzz "$work/nk.bin"
command -v mkfs.cramfs >/dev/null && mkfs.cramfs -N big "$work/t" "$work/be.cramfs" >/dev/null \
  && seed cramfs_fuzz "$work/be.cramfs"
# DLOB and RTK0 wrappers (generator: no Debian writer) around a gzip member.
gzip -n -c "$work/t/a.txt" > "$work/a.gz"
python3 scripts/fixtures/make-vendor-headers.py dlob "$work/a.gz" "$work/a.dlob" && seed dlob_fuzz "$work/a.dlob"
python3 scripts/fixtures/make-vendor-headers.py rtk "$work/a.gz" "$work/a.rtk" && seed rtk_fuzz "$work/a.rtk"
# The link and budget targets: scripts of operations.
mkdir -p "$out/unpack_links_fuzz" "$out/core_budget_fuzz"
printf '\x00d/a/b\n\n\x02d/a/b/s\n../../..\n\x02d/a/b/e\ns/../../etc/passwd\n\x01f\n\n\x03h\nf\n' \
  > "$out/unpack_links_fuzz/chain"
head -c 200 /dev/urandom > "$out/core_budget_fuzz/random"
echo "seeds in $out"
