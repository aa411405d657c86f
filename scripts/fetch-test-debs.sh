#!/usr/bin/env bash
# Downloads every Debian binary package named in tests/debian/signature-packages/*.txt, for
# amd64 and armhf, into DEST/<arch>/ (default <repo>/.cache/test-debs/<arch>/), and the
# artefacts of tests/debian/artefacts.txt into DEST/all/, with `apt-get download`. Idempotent: a package whose .deb is already there is skipped. Lines with
# `arch=amd64` are fetched for amd64 only. Prints one summary line.
#
# Usage: scripts/fetch-test-debs.sh [DEST]
# The signature test (src/identify/signature_debian_test.cpp) reads DEST through
# CLEARBOX_TEST_DEBS; it never uses the network itself.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$repo/.cache/test-debs}"
lists=("$repo"/tests/debian/signature-packages/*.txt)
arches=(amd64 armhf)
start=$(date +%s)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# Packages wanted for one architecture: first word of each non-comment line, minus lines
# restricted to another architecture.
wanted() {
  local arch="$1"
  sed 's/#.*//' "${lists[@]}" | awk -v arch="$arch" '
    NF >= 2 {
      only = ""
      for (i = 3; i <= NF; i++) if ($i ~ /^arch=/) only = substr($i, 6)
      if (only == "" || only == arch) print $1
    }' | sort -u
}

# The .deb of a package already in a directory (its own arch or arch "all").
present() {
  compgen -G "$1/$2_*_$3.deb" >/dev/null || compgen -G "$1/$2_*_all.deb" >/dev/null
}

updated=0
if ! dpkg --print-foreign-architectures | grep -qx armhf; then
  $SUDO dpkg --add-architecture armhf
  $SUDO apt-get update -qq
  updated=1
fi

fetched=0
skipped=0
failed=()
for arch in "${arches[@]}"; do
  dir="$dest/$arch"
  mkdir -p "$dir"
  missing=()
  while IFS= read -r pkg; do
    if present "$dir" "$pkg" "$arch"; then
      skipped=$((skipped + 1))
    else
      missing+=("$pkg")
    fi
  done < <(wanted "$arch")
  [ ${#missing[@]} -eq 0 ] && continue
  # Lists that do not know the armhf packages yet (or a stale list): one update, once.
  if [ $updated -eq 0 ] && ! apt-cache show "${missing[0]}:$arch" >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    updated=1
  fi
  specs=()
  for pkg in "${missing[@]}"; do specs+=("$pkg:$arch"); done
  # One call for all (apt downloads nothing when a name fails: those are dropped from its
  # error messages and the rest asked again).
  while [ ${#specs[@]} -gt 0 ]; do
    if err=$(cd "$dir" && apt-get download -qq "${specs[@]}" 2>&1 >/dev/null); then
      fetched=$((fetched + ${#specs[@]}))
      break
    fi
    mapfile -t bad < <(grep -oE "(package|packages) [^ ]+" <<<"$err" | awk '{print $2}' |
      sed 's/:[a-z0-9]*$//' | sort -u)
    if [ ${#bad[@]} -eq 0 ]; then  # an error naming no package: give up on this arch
      failed+=("${specs[@]}")
      echo "$err" >&2
      break
    fi
    # A name unknown for the arch may be an Architecture: all package: asked once as pkg:all.
    rest=()
    changed=0
    for spec in "${specs[@]}"; do
      pkg="${spec%:*}"
      if ! printf '%s\n' "${bad[@]}" | grep -qx -- "$pkg"; then
        rest+=("$spec")
      elif [ "${spec##*:}" != all ]; then
        rest+=("$pkg:all")
        changed=1
      else
        failed+=("$pkg:$arch")
        changed=1
      fi
    done
    [ $changed -eq 0 ] && { failed+=("${specs[@]}"); echo "$err" >&2; break; }
    specs=("${rest[@]}")
  done
done

# Whole artefacts the end-to-end tests scan (tests/debian/artefacts.txt, Architecture: all),
# into DEST/all/.
mkdir -p "$dest/all"
while IFS= read -r pkg; do
  if compgen -G "$dest/all/${pkg}_*_all.deb" >/dev/null; then
    skipped=$((skipped + 1))
  elif (cd "$dest/all" && apt-get download -qq "$pkg" >/dev/null 2>&1); then
    fetched=$((fetched + 1))
  else
    failed+=("$pkg")
  fi
done < <(sed 's/#.*//' "$repo/tests/debian/artefacts.txt" | awk 'NF {print $1}')

size=$(du -sh "$dest" 2>/dev/null | cut -f1)
echo "fetch-test-debs: $fetched fetched, $skipped already present, ${#failed[@]} failed" \
  "(${failed[*]:-none}); $size in $dest; $(($(date +%s) - start)) s"
[ ${#failed[@]} -eq 0 ]
