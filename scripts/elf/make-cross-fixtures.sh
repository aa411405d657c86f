#!/usr/bin/env bash
# Builds freestanding ELF fixtures for other architectures with clang + lld (no sysroot), for
# the src/elf tests. Usage: make-cross-fixtures.sh OUTDIR
# Writes OUTDIR/cross.tsv: file arch bits endian type nx pie relro rpath runpath bti pac needed
# (the values the flags used must produce; lld makes no PT_GNU_RELRO on MIPS, whose GOT the
# loader writes). Targets clang cannot link are skipped.
set -euo pipefail
out=${1:?usage: make-cross-fixtures.sh OUTDIR}
mkdir -p "$out/cross"
cat > "$out/start.c" <<'C'
int counter;
int helper(int x) { return x * 3 + counter; }
void _start(void) { counter = helper(counter); for (;;) {} }
C
tsv="$out/cross.tsv"
: > "$tsv"
# target arch bits endian
targets=(
  "i386-linux-gnu x86 32 little"
  "arm-linux-gnueabihf arm 32 little"
  "aarch64-linux-gnu aarch64 64 little"
  "aarch64_be-linux-gnu aarch64 64 big"
  "mips-linux-gnu mips 32 big"
  "mipsel-linux-gnu mips 32 little"
  "mips64-linux-gnuabi64 mips64 64 big"
  "mips64el-linux-gnuabi64 mips64 64 little"
  "powerpc-linux-gnu powerpc 32 big"
  "powerpc64-linux-gnu powerpc64 64 big"
  "powerpc64le-linux-gnu powerpc64 64 little"
  "riscv32-linux-gnu riscv32 32 little"
  "riscv64-linux-gnu riscv64 64 little"
)
cc() { clang --target="$1" -ffreestanding -nostdlib -fuse-ld=lld -Wl,-e,_start -O1 -w "${@:2}" "$out/start.c"; }
for entry in "${targets[@]}"; do
  read -r target arch bits endian <<< "$entry"
  base="$out/cross/$target"
  full=full partial=partial
  [[ $arch == mips* ]] && full=none partial=none
  # Shared object, partial RELRO, RUNPATH.
  if ! cc "$target" -fPIC -shared -Wl,-soname,libcross.so -Wl,-z,relro,-z,lazy \
    -Wl,-z,noexecstack -Wl,-rpath,/opt/r -Wl,--enable-new-dtags -o "$base.so" 2> /dev/null; then
    continue
  fi
  printf '%s\t%s\t%s\t%s\tshared\tyes\tno\t%s\t-\t/opt/r\tno\tno\t-\n' "$base.so" "$arch" "$bits" "$endian" "$partial" >> "$tsv"
  # PIE, full RELRO, non-executable stack.
  cc "$target" -fPIE -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack -o "$base.pie"
  printf '%s\t%s\t%s\t%s\tpie\tyes\tyes\t%s\t-\t-\tno\tno\t-\n' "$base.pie" "$arch" "$bits" "$endian" "$full" >> "$tsv"
  # Position-dependent, no RELRO, executable stack, RPATH, linked against the shared object.
  cc "$target" -fno-PIE -no-pie -Wl,-z,norelro -Wl,-z,execstack -Wl,-rpath,/opt/x:/opt/y \
    -Wl,--disable-new-dtags "$base.so" -o "$base.exec"
  printf '%s\t%s\t%s\t%s\texec\tno\tno\tnone\t/opt/x:/opt/y\t-\tno\tno\tlibcross.so\n' "$base.exec" "$arch" "$bits" "$endian" >> "$tsv"
  # Relocatable object.
  cc "$target" -c -o "$base.o"
  printf '%s\t%s\t%s\t%s\trelocatable\tno\tno\tnone\t-\t-\tno\tno\t-\n' "$base.o" "$arch" "$bits" "$endian" >> "$tsv"
done
# AArch64 branch protection: BTI and PAC GNU properties.
if cc aarch64-linux-gnu -mbranch-protection=standard -fPIE -pie -Wl,-z,relro,-z,now \
  -o "$out/cross/aarch64-bti.pie" 2> /dev/null; then
  printf '%s\taarch64\t64\tlittle\tpie\tyes\tyes\tfull\t-\t-\tyes\tyes\t-\n' "$out/cross/aarch64-bti.pie" >> "$tsv"
fi
