#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, when they are missing and we can (root + apt).
# Nothing here is needed to *use* movescreen's analyze command.
set -euo pipefail
pkgs=()
for p in "$@"; do pkgs+=("$p"); done
need() { command -v "$1" >/dev/null 2>&1 || pkgs+=("$2"); }
# filled in as features need them (browser for the HTML report, Xvfb for the live window, espeak-ng)
if [ -f scripts/system-packages.txt ]; then
  while read -r cmd pkg; do
    [ -z "${cmd:-}" ] || [ "${cmd:0:1}" = "#" ] && continue
    need "$cmd" "$pkg"
  done < scripts/system-packages.txt
fi
if [ ${#pkgs[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-deps: missing ${pkgs[*]}; install them with your package manager (tests that need them will skip)" >&2
  exit 0
fi
echo "system-deps: installing ${pkgs[*]}" >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
