#!/usr/bin/env bash
# Builds test programs with gcc and clang under the hardening flag combinations, for the
# src/elf comparison tests. Usage: make-hardening-matrix.sh OUTDIR [sample|full]
#   sample: every compile-flag combination (compiler x canary x fortify x pie x cet = 32),
#           each linked twice with link-flag combinations (relro x execstack x rpath = 18)
#           chosen so that every link combination occurs, stripped or not alternately;
#           plus -shared, -static, -static-pie and relocatable objects.
#   full:   the whole product (32 x 18 x 2 = 1152 programs) plus the same extras.
# Writes OUTDIR/matrix.tsv: file compiler canary fortify pie cet relro execstack rpath strip
# (pie is on, off, shared or rel).
set -euo pipefail
out=${1:?usage: make-hardening-matrix.sh OUTDIR [sample|full]}
mode=${2:-sample}
mkdir -p "$out/bin" "$out/obj"
cat > "$out/prog.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <setjmp.h>
static jmp_buf env;
char *copy_any(char *dst, const char *src, size_t n) { return memcpy(dst, src, n); }
int main(int argc, char **argv) {
  char name[32];
  char buf[64];
  ssize_t got;
  strcpy(name, argc > 1 ? argv[1] : "x");
  memcpy(buf, name, strlen(name) + 1);
  got = read(0, buf, argc > 2 ? 8 : 0);
  printf("%s %s %zd\n", name, buf, got);
  if (setjmp(env)) return 1;
  if (argc > 5) longjmp(env, 1);
  char *heap = malloc(64);
  copy_any(heap, buf, 8);
  free(heap);
  return 0;
}
C
tsv="$out/matrix.tsv"
: > "$tsv"
relros=(none partial full)
execs=(noexecstack execstack)
rpaths=(none rpath runpath)
link_flags() {  # relro execstack rpath
  local f=""
  case $1 in none) f+=" -Wl,-z,norelro" ;; partial) f+=" -Wl,-z,relro -Wl,-z,lazy" ;; full) f+=" -Wl,-z,relro -Wl,-z,now" ;; esac
  f+=" -Wl,-z,$2"
  case $3 in rpath) f+=" -Wl,-rpath,/opt/cb/lib:/opt/cb/lib2 -Wl,--disable-new-dtags" ;; runpath) f+=" -Wl,-rpath,/opt/cb/run -Wl,--enable-new-dtags" ;; esac
  echo "$f"
}
index=0
for cc in gcc clang; do
  for canary in on off; do
    for fortify in on off; do
      for pie in on off; do
        for cet in on off; do
          cflags="-w"
          [[ $canary == on ]] && cflags+=" -fstack-protector-strong" || cflags+=" -fno-stack-protector"
          [[ $fortify == on ]] && cflags+=" -O2 -D_FORTIFY_SOURCE=2" || cflags+=" -O0 -U_FORTIFY_SOURCE"
          [[ $pie == on ]] && cflags+=" -fPIE" || cflags+=" -fno-PIE"
          [[ $cet == on ]] && cflags+=" -fcf-protection=full" || cflags+=" -fcf-protection=none"
          base="$cc-sp$canary-fs$fortify-pie$pie-cet$cet"
          obj="$out/obj/$base.o"
          $cc $cflags -c "$out/prog.c" -o "$obj"
          ldpie="-no-pie"
          [[ $pie == on ]] && ldpie="-pie"
          # Debian's crt*.o carry no CET property, so a plain link drops IBT/SHSTK (clang
          # programs show that); gcc programs force the properties with ld's -z ibt -z shstk.
          [[ $cet == on && $cc == gcc ]] && ldpie+=" -Wl,-z,ibt -Wl,-z,shstk"
          combos=()
          if [[ $mode == full ]]; then
            for ((c = 0; c < 18; c++)); do combos+=("$c 0" "$c 1"); done
          else
            combos+=("$((index % 18)) $((index % 2))" "$(((index + 9 + index / 18) % 18)) $(((index + 1) % 2))")
          fi
          for combo in "${combos[@]}"; do
            read -r c strip <<< "$combo"
            relro=${relros[$((c / 6))]}
            ex=${execs[$(((c / 3) % 2))]}
            rp=${rpaths[$((c % 3))]}
            st=no
            [[ $strip == 1 ]] && st=yes
            file="$out/bin/$base-relro$relro-$ex-rp$rp-strip$st"
            $cc $cflags $ldpie $(link_flags "$relro" "$ex" "$rp") "$obj" -o "$file"
            [[ $st == yes ]] && strip "$file"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$file" "$cc" "$canary" "$fortify" \
              "$pie" "$cet" "$relro" "$ex" "$rp" "$st" >> "$tsv"
          done
          index=$((index + 1))
        done
      done
    done
  done
done
# Extras: a shared library, static and static-pie programs, a relocatable object.
extra() {  # name compiler canary fortify pie cet relro execstack rpath strip -- command...
  local file="$out/bin/$1"
  shift
  local fields=("$@")
  "${fields[@]:10}" -o "$file"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$file" "${fields[@]:0:9}" >> "$tsv"
}
extra libcbtest.so gcc on on shared off full noexecstack runpath no -- \
  gcc -w -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIC -shared -Wl,-soname,libcbtest.so.1 \
  -Wl,-z,relro,-z,now -Wl,-rpath,/opt/cb/so -Wl,--enable-new-dtags "$out/prog.c"
extra libcbtest-clang.so clang off off shared off partial noexecstack none no -- \
  clang -w -O0 -fno-stack-protector -fPIC -shared -Wl,-z,relro -Wl,-z,lazy "$out/prog.c"
extra static gcc on on off off partial noexecstack none no -- \
  gcc -w -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -static "$out/prog.c"
extra static-pie gcc on off on off full noexecstack none no -- \
  gcc -w -O0 -fstack-protector-strong -static-pie -Wl,-z,now "$out/prog.c"
extra prog.o gcc on on rel off none noexecstack none no -- \
  gcc -w -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fcf-protection=none -c "$out/prog.c"
extra prog-cet.o clang off off rel on none noexecstack none no -- \
  clang -w -O0 -fno-stack-protector -fcf-protection=full -c "$out/prog.c"
