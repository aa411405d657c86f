#!/usr/bin/env bash
# Installs the browser test's Node packages (tests/browser/package-lock.json: playwright-core,
# which drives Debian's chromium) into tests/browser/node_modules. Idempotent and offline when
# they are already installed; otherwise `npm ci` needs the npm registry. Installs Debian's npm
# first when the npm command is missing (Debian's nodejs comes without it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$here/tests/browser"
want="$(sed -n 's/.*"playwright-core": *"\([^"]*\)".*/\1/p' "$dir/package.json" | head -n 1)"
have="$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' \
  "$dir/node_modules/playwright-core/package.json" 2>/dev/null | head -n 1 || true)"
if [ -n "$want" ] && [ "$have" = "$want" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm
fi
echo "install-node-deps: npm ci in tests/browser (playwright-core $want)"
npm ci --prefix "$dir" --no-audit --no-fund --ignore-scripts
