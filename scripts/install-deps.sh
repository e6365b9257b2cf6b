#!/usr/bin/env bash
# Installs the Debian packages twat_cache is built and tested with, and only those that are missing.
# Idempotent: when everything is there it changes nothing and needs no network.
#
# Usage: scripts/install-deps.sh            the packages below
#        scripts/install-deps.sh PKG...     these packages instead (scripts/compare.sh's Python side)
# An install that apt would make by removing a package is refused (it would, for one, swap
# libboost1.81-dev for the 1.74 that some Python packages pull in).
set -euo pipefail

# The one list of packages (Debian 12 names).
PACKAGES=(
  g++
  clang
  libclang-rt-14-dev
  cmake
  ninja-build
  pkg-config
  libboost1.81-dev
  libxxhash-dev
  catch2
  libbenchmark-dev
  libsqlite3-dev
  libzstd-dev
  libcereal-dev
  libasio-dev
  libhiredis-dev
  libmemcached-dev
  redis-server
  memcached
)

if [ "$#" -gt 0 ]; then
  PACKAGES=("$@")
fi

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages are installed"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    echo "install-deps: missing ${missing[*]}, and not root and no sudo: install them by hand" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
removed="$(apt-get install -s --no-install-recommends "${missing[@]}" |
  sed -n 's/^Remv \([^ ]*\).*/\1/p')"
if [ -n "$removed" ]; then
  echo "install-deps: installing ${missing[*]} would remove: ${removed//$'\n'/ }; not doing it" >&2
  exit 1
fi
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
