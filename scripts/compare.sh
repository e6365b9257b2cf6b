#!/usr/bin/env bash
# One command that compares twat_cache with what users would pick instead, in one run on one
# machine: mcache, bcache and fcache against Python's functools.lru_cache, cachetools (LRU, TTL),
# diskcache (memoize) and joblib.Memory, on the same workloads (hit and miss of small keys, hit of
# an 8 MB array). Prints a Markdown table (ns per call, and ratios) and draws a PNG chart.
#
# Usage: scripts/compare.sh [compare.py options]
#   e.g. scripts/compare.sh --png docs/images/compare.png --markdown /tmp/compare.md
#   (default: the table on standard output, the chart in docs/images/compare.png; see
#    scripts/compare.py --help)
#
# Steps:
#   1. scripts/install-deps.sh: the C++ toolchain and libraries, only what is missing;
#   2. the Python side's Debian packages, through the same script;
#   3. a Release build in build/compare (Ninja) of the one target bench_compare;
#   4. scripts/compare.py, which runs both sides and prints the table.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="$ROOT/build/compare"
START=$SECONDS

# ---- 1. the C++ side's packages ------------------------------------------------------------------
scripts/install-deps.sh

# ---- 2. the Python side's packages (Debian 12 names) ---------------------------------------------
# python3-munkres is there for apt's sake: python3-matplotlib needs python3-fonttools, which needs
# `python3-scipy | python3-munkres`. Left to itself apt takes scipy, whose python3-pythran pulls
# libboost-dev (1.74), which conflicts with libboost1.81-dev and would REMOVE it (the Boost of the
# memory engine). With munkres asked for, nothing is removed (and install-deps.sh refuses an
# install that would remove anything).
PYTHON_PACKAGES=(
  python3
  python3-cachetools
  python3-diskcache
  python3-joblib
  python3-munkres
  python3-matplotlib
  python3-numpy
)
scripts/install-deps.sh "${PYTHON_PACKAGES[@]}"

# Debian's python3, which the packages above are for (a python3 earlier on PATH, e.g. pyenv's,
# does not see them).
PYTHON=/usr/bin/python3

# ---- 3. the C++ benchmark, optimised -------------------------------------------------------------
# Only bench_compare is built; the tests, examples and header checks are not even configured.
mkdir -p "$BUILD_DIR"
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DTWAT_CACHE_BUILD_BENCHMARKS=ON -DTWAT_CACHE_BUILD_TESTS=OFF -DTWAT_CACHE_BUILD_EXAMPLES=OFF \
  -DTWAT_CACHE_VERIFY_HEADERS=OFF -DTWAT_CACHE_INSTALL=OFF -DTWAT_CACHE_WERROR=ON \
  >"$BUILD_DIR/configure.log" 2>&1 || {
  cat "$BUILD_DIR/configure.log" >&2
  exit 1
}
cmake --build "$BUILD_DIR" --target bench_compare

# ---- 4. both sides, one table --------------------------------------------------------------------
"$PYTHON" "$ROOT/scripts/compare.py" --binary "$BUILD_DIR/bench/bench_compare" "$@"
echo "compare: done in $((SECONDS - START)) s"
