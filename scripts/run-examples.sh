#!/usr/bin/env bash
# Builds the examples in the full configuration (Release, every optional dependency found) in
# build/examples and runs each, printing its output. An example whose examples/<name>.expect lines
# do not match its output, or that exits non-zero, makes the script fail. An example with an
# examples/<name>.second.expect runs twice over one cache folder (the second run checked with it).
# Usage: scripts/run-examples.sh [example-name...]   (no argument: all of them)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIR="build/examples"

"$ROOT/scripts/install-deps.sh"

cmake --preset gcc -B "$DIR" -DCMAKE_BUILD_TYPE=Release -DTWAT_CACHE_BUILD_TESTS=OFF \
  -DTWAT_CACHE_BUILD_BENCHMARKS=OFF -DTWAT_CACHE_VERIFY_HEADERS=OFF >/dev/null
cmake --build "$DIR" -j "$(nproc 2>/dev/null || echo 2)"

names=("$@")
if [ "${#names[@]}" -eq 0 ]; then
  for source in examples/*.cpp; do
    [ -e "$source" ] || continue
    names+=("$(basename "$source" .cpp)")
  done
fi
if [ "${#names[@]}" -eq 0 ]; then
  echo "run-examples: no examples/*.cpp" >&2
  exit 1
fi

failed=()
for name in "${names[@]}"; do
  exe="$DIR/examples/example_$name"
  [ -x "$exe" ] || { echo "run-examples: no example '$name' ($exe)" >&2; exit 2; }
  echo
  echo "=== $name ==="
  cache="$ROOT/$DIR/example-cache/$name"
  if ! TWAT_CACHE_DIR="$cache" cmake -DCOMMAND="$ROOT/$exe" -DEXPECT_FILE="$ROOT/examples/$name.expect" \
    -DCLEAN_DIR="$cache" -P "$ROOT/cmake/run_and_check.cmake" 2>&1; then
    failed+=("$name")
  fi
  # An example with a .second.expect is run again over the same cache: what a restart finds.
  if [ -f "$ROOT/examples/$name.second.expect" ]; then
    echo "--- $name, second run ---"
    if ! TWAT_CACHE_DIR="$cache" cmake -DCOMMAND="$ROOT/$exe" \
      -DEXPECT_FILE="$ROOT/examples/$name.second.expect" -P "$ROOT/cmake/run_and_check.cmake" 2>&1; then
      failed+=("$name (second run)")
    fi
  fi
done

echo
if [ "${#failed[@]}" -ne 0 ]; then
  echo "run-examples: failed: ${failed[*]}" >&2
  exit 1
fi
echo "run-examples: ${#names[@]} examples ran and matched their expected output"
