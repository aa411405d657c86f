#!/usr/bin/env bash
# ctest install_package: clearbox installed (cmake --install) and packaged (cpack -G DEB) works
# outside its build tree. Checks, in order:
#  1. `cmake --install` lays out bin/, share/clearbox/ (every required data entry), the man
#     page and bash completion; the man page renders; completion completes subcommands.
#  2. The installed binary scans the demo image from an unrelated directory and its report.json
#     is byte-identical to the build-tree binary's.
#  3. A binary copied out alone fails with exit code 4 and a message naming what is missing;
#     with CLEARBOX_DATA_DIR it works; a data directory lacking a file is named too.
#  4. The .deb: name, version, Depends (from dpkg-shlibdeps, satisfiable here per apt), content.
#  5. As root: the .deb installed with `dpkg --root` into an empty root holding only the
#     shared libraries the binary loads (a container-like root, no build tree, no source), and
#     `clearbox scan` run there in a chroot from /tmp gives the same report.json.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build=$(realpath "$1"); source=$(realpath "$2"); work=$3
rm -rf "$work"; mkdir -p "$work"; work=$(realpath "$work")
unset CLEARBOX_DATA_DIR
export CLEARBOX_NO_CACHE=1 SOURCE_DATE_EPOCH=1700000000
fail() { echo "FAIL: $*" >&2; exit 1; }

# The demo image and the reference report from the build-tree binary.
bash "$source/scripts/make-demo-image.sh" "$work/demo" >/dev/null
mkdir -p "$work/elsewhere"; cp "$work/demo/router.bin" "$work/elsewhere/"
scan_in() {  # scan_in DIR CLEARBOX OUT: scan router.bin from DIR, exit 0 or 3 accepted
  local rc=0
  (cd "$1" && "$2" scan router.bin -o "$3" -q >/dev/null) || rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "$2 scan exited $rc"
}
scan_in "$work/elsewhere" "$build/src/cli/clearbox" "$work/ref"

# 1. cmake --install
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
[ -x "$prefix/bin/clearbox" ] || fail "no bin/clearbox"
for entry in signatures rules/catalogue.json standards inspect/services.json vuln/schema.sql \
             vuln/product_aliases.json vuln/snapshot identify/debian-udeb-sources.json; do
  [ -e "$prefix/share/clearbox/$entry" ] || fail "share/clearbox/$entry not installed"
done
man -l "$prefix/share/man/man1/clearbox.1.gz" 2>/dev/null | grep -q "clearbox scan IMAGE -o OUT" ||
  fail "man page does not render"
version=$("$prefix/bin/clearbox" --version)
[ "$version" = "clearbox $(sed -n 's/^project(clearbox VERSION \([0-9.]*\).*/\1/p' "$source/CMakeLists.txt")" ] ||
  fail "--version printed '$version'"
completions=$(bash -c 'source /usr/share/bash-completion/bash_completion
  source "$1"; COMP_WORDS=(clearbox sc); COMP_CWORD=1; COMP_LINE="clearbox sc"; COMP_POINT=11
  _clearbox; echo "${COMPREPLY[*]}"' _ "$prefix/share/bash-completion/completions/clearbox")
[ "$completions" = "scan" ] || fail "completion of 'clearbox sc' gave '$completions'"
echo "install: layout, man page, --version ($version), completion ok"

# 2. The installed binary from an unrelated directory.
scan_in "$work/elsewhere" "$prefix/bin/clearbox" "$work/installed"
cmp "$work/ref/report.json" "$work/installed/report.json" || fail "installed report.json differs"
echo "install: installed binary's report.json is identical to the build tree's"

# 3. A binary copied out without its data (outside the build tree, where the work dir may lie).
lonely=$(mktemp -d /tmp/clearbox-lonely.XXXXXX); trap 'rm -rf "$lonely"' EXIT
mkdir -p "$lonely/bin"; cp "$prefix/bin/clearbox" "$lonely/bin/"
rc=0; err=$( (cd "$work/elsewhere" && "$lonely/bin/clearbox" scan router.bin -o "$work/lonely-out") 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 4 ] || fail "lonely binary exited $rc, want 4"
grep -q "data directory $lonely/share/clearbox does not exist" <<<"$err" || fail "message: $err"
grep -q "CLEARBOX_DATA_DIR" <<<"$err" || fail "message does not say how to fix: $err"
CLEARBOX_DATA_DIR=$prefix/share/clearbox scan_in "$work/elsewhere" "$lonely/bin/clearbox" "$work/lonely-env"
cmp "$work/ref/report.json" "$work/lonely-env/report.json" || fail "CLEARBOX_DATA_DIR report differs"
cp -r "$prefix/share" "$lonely/share"; rm "$lonely/share/clearbox/rules/catalogue.json"
rc=0; err=$( (cd "$work/elsewhere" && "$lonely/bin/clearbox" assess "$work/ref/report.json" --standard all -o "$work/lonely-assess") 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 4 ] || fail "assess without rules exited $rc, want 4"
grep -q "is missing rules/catalogue.json" <<<"$err" || fail "message: $err"
echo "install: a binary without its data exits 4 naming what is missing: $err"

# 4. The Debian package.
(cd "$build" && cpack -G DEB -B "$work/pkg" >/dev/null)
deb=$(ls "$work"/pkg/clearbox_*.deb)
[ "$(dpkg-deb -f "$deb" Package)" = clearbox ] || fail "package name"
[ "clearbox $(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "package version"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libssl3 libarchive13 libsquashfs1 libvectorscan5 libsqlite3-0; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/clearbox ./usr/share/clearbox/rules/catalogue.json \
            ./usr/share/man/man1/clearbox.1.gz ./usr/share/bash-completion/completions/clearbox; do
  grep -q " $path\$" <<<"$contents" || fail "package lacks $path"
done
if apt-get --help >/dev/null 2>&1; then
  apt-get -s -o Debug::NoLocking=1 install "$deb" >"$work/apt.txt" 2>&1 || { cat "$work/apt.txt"; fail "apt cannot satisfy the package's Depends"; }
  grep -q "^Inst clearbox" "$work/apt.txt" || { cat "$work/apt.txt"; fail "apt would not install clearbox"; }
fi
echo "install: package $(basename "$deb"), Depends: $depends"

# 5. dpkg --root into an empty root, then scan in a chroot.
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
  echo "install: not root (or no unshare): the chroot step is skipped"
  exit 0
fi
root=$work/root
mkdir -p "$root"/{dev,proc,tmp,usr/bin,var/lib/dpkg/info,var/lib/dpkg/updates}
touch "$root/var/lib/dpkg/status"
# dpkg checks Depends against the root's own (empty) database: the libraries are copied in below.
dpkg --root="$root" --force-depends --force-not-root --log=/dev/null -i "$deb" >/dev/null 2>&1 ||
  fail "dpkg --root -i failed"
[ -x "$root/usr/bin/clearbox" ] || fail "dpkg did not install /usr/bin/clearbox"
copy_libs() {  # the loader and every shared library $1 loads, at the same paths inside root
  ldd "$1" | awk '/=> \// {print $3} /^\s*\/[^ ]+ \(/ {print $1}' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"
  done
}
copy_libs "$root/usr/bin/clearbox"
cp /bin/sh "$root/usr/bin/sh"; copy_libs /bin/sh
cp "$work/demo/router.bin" "$root/tmp/"
env -i PATH=/usr/sbin:/usr/bin SOURCE_DATE_EPOCH=1700000000 CLEARBOX_NO_CACHE=1 HOME=/tmp \
  unshare --mount --propagation private -- sh -c \
  'mount -t proc proc "$1/proc" && touch "$1/dev/null" && mount --bind /dev/null "$1/dev/null" &&
   exec chroot "$1" /usr/bin/sh -c "cd /tmp && clearbox scan router.bin -o out -q >/dev/null; echo \$? >/tmp/rc"' \
  _ "$root"
rc=$(cat "$root/tmp/rc")
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "clearbox in the chroot exited $rc"
cmp "$work/ref/report.json" "$root/tmp/out/report.json" || fail "chroot report.json differs"
[ ! -e "$root$source" ] || fail "the source tree is visible in the root"
echo "install: dpkg --root install + chroot scan from /tmp: report.json identical"
