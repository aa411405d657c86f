#!/usr/bin/env bash
# Builds the same generated source tree twice, the way a vendor's delivery and a lab's rebuild
# differ, for bench/equiv_rootfs.sh (issue 15):
#   DIR/delivered: built in DIR/build-vendor, -g, stripped with `strip --strip-unneeded` after
#                  `objcopy --add-gnu-debuglink` (the vendor keeps the debug files), a fixed
#                  build date (SOURCE_DATE_EPOCH=1600000000);
#   DIR/rebuilt:   built in DIR/build-lab-01 (another build path of the same length, as
#                  reproducible-builds setups arrange), -g, unstripped, another build date
#                  (SOURCE_DATE_EPOCH=1700000000).
# Sources are compiled by absolute path, so __FILE__ puts the build path into .rodata.
# Both from identical sources, so every pair is EQUIVALENT; COUNT programs and COUNT/8 shared
# libraries (default COUNT=400), each a few hundred lines of generated C. One program in
# every 50 gets a changed constant in the rebuild (DIFFERENT), so the comparison must find them.
# Usage: make-equiv-rootfs.sh DIR [COUNT]
set -euo pipefail
dir="$1"
count="${2:-400}"
jobs="$(nproc)"
rm -rf "$dir/build-vendor" "$dir/build-lab-01" "$dir/delivered" "$dir/rebuilt"
mkdir -p "$dir/build-vendor" "$dir/build-lab-01" "$dir/delivered/usr/bin" \
  "$dir/delivered/usr/lib" "$dir/rebuilt/usr/bin" "$dir/rebuilt/usr/lib"

# Every source file of both sides in one Python run: programs of 24 functions and libraries
# of 40, their constants drawn from a seed per file.
python3 - "$dir" "$count" <<'PY'
import random, sys
root, count = sys.argv[1], int(sys.argv[2])

def program(seed, changed):
    rng = random.Random(seed)
    out = ['#include <stdio.h>', '#include <string.h>', '#include <stdlib.h>', '',
           'static const char build_info[] = "built " __DATE__ " " __TIME__ " from " __FILE__;']
    for f in range(24):
        k = rng.randrange(1, 1 << 20) + (1 if changed and f == 7 else 0)
        out += [f'static unsigned long step_{f}(unsigned long x, const char *s) {{',
                f'  unsigned long acc = x ^ {k}UL;',
                f'  for (size_t i = 0; s[i]; ++i) acc = acc * {rng.randrange(3, 977)}UL + (unsigned char)s[i];',
                f'  if (acc % {rng.randrange(2, 31)}) acc += strlen(s) * {rng.randrange(1, 99)};',
                f'  char buf[64]; snprintf(buf, sizeof buf, "%lu-{f}", acc);',
                '  return acc + (unsigned long)atoi(buf);', '}']
    out.append('int main(int argc, char **argv) {')
    out.append('  unsigned long v = (unsigned long)argc;')
    out += [f'  v = step_{f}(v, argc > 1 ? argv[1] : "x");' for f in range(24)]
    out += ['  printf("%lu %s\\n", v, build_info);', '  return 0;', '}']
    return "\n".join(out) + "\n"

def library(seed):
    rng = random.Random(1000 + seed)
    lines = ['#include <string.h>']
    for f in range(40):
        lines.append(f'unsigned long lib{seed}_fn{f}(const char *s) {{ unsigned long a = {rng.randrange(1, 1 << 24)}UL;'
                     f' while (*s) a = a * {rng.randrange(3, 999)}UL ^ (unsigned char)*s++; return a + strlen(s); }}')
    return "\n".join(lines) + "\n"

for side in ("build-vendor", "build-lab-01"):
    for i in range(1, count + 1):
        # one program in every 50 has a changed constant in the rebuild
        changed = side == "build-lab-01" and i % 50 == 0
        open(f"{root}/{side}/prog{i}.c", "w").write(program(i, changed))
    for i in range(1, count // 8 + 1):
        open(f"{root}/{side}/lib{i}.c", "w").write(library(i))
PY

# build SIDE_SRC OUT EPOCH STRIP: compiles every program and library of SIDE_SRC into OUT.
build() {
  local src="$1" out="$2" epoch="$3" strip="$4"
  (
    cd "$src"
    export SOURCE_DATE_EPOCH="$epoch"
    ls prog*.c | sed 's/\.c$//' | xargs -P "$jobs" -I{} sh -c \
      "gcc -O2 -g -o '$out/usr/bin/{}' \"\$PWD/{}.c\""
    ls lib*.c | sed 's/\.c$//' | xargs -P "$jobs" -I{} sh -c \
      "gcc -O2 -g -fPIC -shared -o '$out/usr/lib/{}.so' \"\$PWD/{}.c\""
  )
  if [ "$strip" = 1 ]; then
    find "$out" -type f | while read -r f; do
      objcopy --only-keep-debug "$f" "$f.debug"
      strip --strip-unneeded "$f"
      objcopy --add-gnu-debuglink="$f.debug" "$f"
      rm -f "$f.debug"
    done
  fi
}
build "$dir/build-vendor" "$(realpath "$dir/delivered")" 1600000000 1
build "$dir/build-lab-01" "$(realpath "$dir/rebuilt")" 1700000000 0
echo "make-equiv-rootfs: $(find "$dir/delivered" -type f | wc -l) files per side in $dir"
