#!/usr/bin/env bash
# Builds and tests twat_cache in every configuration, each in build/ci-<name>:
#   gcc        g++, every optional dependency, -Werror: tests, examples, benchmarks (smoke), consumer
#              and compile-failure tests, every header compiled alone
#   asan       clang++ with AddressSanitizer + UndefinedBehaviorSanitizer (less -fsanitize=function,
#              which clang 14 cannot apply to coroutines), every optional dependency, -O0: tests,
#              examples, the programs the docs show, compile-failure tests, and the libFuzzer targets
#              (tests/fuzz), each fuzzing for a bounded time
#   bare       g++, every TWAT_CACHE_WITH_* OFF (each fallback): tests, examples, consumer and
#              compile-failure tests, every header compiled alone
#   no-<a>-<b> clang++, TWAT_CACHE_WITH_<A> and _<B> OFF, every other optional dependency ON (the
#              CMakePresets.json presets called no-*: no-boost-zstd, no-xxhash-asio, ...); each
#              dependency is off in exactly one of them, paired with one whose code its fallback
#              does not touch, so four builds cover what eight did: tests only, -O0 without debug
#              info, to keep them cheap
#   tsan       clang++ with ThreadSanitizer: tests only, -O0
# clang++ builds under the sanitizers only: a clang++ build of its own (the clang preset, -O2) took
# 380 s of the run to compile what asan compiles again, and g++ builds the optimised code (gcc).
# The headers alone and the consumer projects are checked with g++ (gcc, bare): the same standard
# library and CMake package as clang++'s.
# Every configuration compiles its tests with one precompiled header (Catch2 and cache.hpp,
# tests/CMakeLists.txt), in groups of files that are one translation unit each
# (TWAT_CACHE_TEST_UNITY), and the sanitizers at -O0, which compiles three times faster than -O1.
# gcc and bare are built here at -O2 without debug info (their presets add -g for a developer's
# tree), which takes 40 % off their compile time; their tests at -O1, 30 % less again, while
# benchmarks, examples and header checks keep -O2 and its warnings. clang++ compiles these
# templates in a third of g++'s time at -O0 and with the sanitizers.
# After configuring, each configuration is checked to have exactly the optional dependencies its name
# says (gcc, asan and tsan all of them), and every TWAT_CACHE_WITH_<NAME> that CMake defines
# must be OFF in exactly one preset no-*: a new optional dependency goes into a preset no-* (a pair,
# or alone as no-<name>) and gets an OFF in bare, and this script refuses to run until both are
# there.
# Usage: scripts/run-tests.sh [config...]     (no argument: all of them, in that order)
#   RUN_TESTS_CTEST_ARGS="-R key"  extra ctest arguments, for local use (e.g. -R/-E/-L selections)
# Stops at the first failure (non-zero exit). Ends with one line per configuration and a last line
# `N passed, M failed` that totals the CTest tests of all configurations.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# The configurations with some optional dependencies OFF: the presets no-<a>-<b>..., in their order
# (read from the file: CMake may not be installed yet).
mapfile -t WITHOUT_CONFIGS < <(grep -oE '"name": *"no-[^"]+"' CMakePresets.json |
  sed -E 's/.*"(no-[^"]+)"$/\1/' | awk '!seen[$0]++')
if [ "${#WITHOUT_CONFIGS[@]}" -eq 0 ]; then
  echo "run-tests: CMakePresets.json has no preset no-*" >&2
  exit 1
fi
ALL_CONFIGS=(gcc asan bare "${WITHOUT_CONFIGS[@]}" tsan)
JOBS="$(nproc 2>/dev/null || echo 2)"

# Per configuration: the CMakePresets.json preset it starts from, and what it adds to it.
preset_of() {
  local c
  for c in "${ALL_CONFIGS[@]}"; do
    if [ "$c" = "$1" ]; then
      echo "$1"
      return 0
    fi
  done
  return 1
}
cmake_args_of() {
  local no_debug_info="-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2"
  case "$1" in
    gcc) echo "-DTWAT_CACHE_WERROR=ON $no_debug_info -DTWAT_CACHE_TEST_CXX_FLAGS=-O1" ;;
    bare) echo "-DTWAT_CACHE_BUILD_BENCHMARKS=OFF $no_debug_info -DTWAT_CACHE_TEST_CXX_FLAGS=-O1" ;;
    *) echo "" ;; # no-*, asan, tsan: their presets say what they build
  esac
}

# The optional dependencies a preset no-<a>-<b>... turns off, one lower-case name per line.
dependencies_off_in() { # preset
  tr '-' '\n' <<<"${1#no-}"
}

# Whether TWAT_CACHE_WITH_<NAME> must be ON or OFF in configuration $1.
wanted_dependency() { # config, NAME
  local lower
  lower="$(tr '[:upper:]' '[:lower:]' <<<"$2")"
  case "$1" in
    bare) echo OFF ;;
    no-*) if dependencies_off_in "$1" | grep -qx "$lower"; then echo OFF; else echo ON; fi ;;
    *) echo ON ;;
  esac
}

# The presets no-* that turn dependency $1 (lower case) off.
presets_without() {
  local preset
  for preset in "${WITHOUT_CONFIGS[@]}"; do
    if dependencies_off_in "$preset" | grep -qx "$1"; then echo "$preset"; fi
  done
}

# Checks a configured tree against its name: every TWAT_CACHE_WITH_* as the configuration says, and
# each OFF in exactly one preset no-* (so no optional dependency goes without its configuration).
check_dependencies() { # config, build dir
  local name="$1" cache="$2/CMakeCache.txt" line dep value want hint lower preset bad=0
  local -a seen=()
  while IFS= read -r line; do
    dep="${line%%:*}"
    dep="${dep#TWAT_CACHE_WITH_}"
    value="${line#*=}"
    case "$(tr '[:lower:]' '[:upper:]' <<<"$value")" in
      ON | TRUE | YES | Y | 1) value=ON ;;
      *) value=OFF ;;
    esac
    seen+=("$dep")
    want="$(wanted_dependency "$name" "$dep")"
    if [ "$value" != "$want" ]; then
      if [ "$want" = ON ]; then
        hint="it was not found: scripts/install-deps.sh installs it"
      else
        hint="its preset must set it OFF"
      fi
      echo "run-tests: $name needs TWAT_CACHE_WITH_$dep=$want but has $value ($hint)" >&2
      bad=1
    fi
    lower="$(tr '[:upper:]' '[:lower:]' <<<"$dep")"
    case "$(presets_without "$lower" | wc -l)" in
      1) ;;
      0)
        echo "run-tests: CMake has the optional dependency $dep but no preset no-* in" \
          "CMakePresets.json turns it off: add it to one (like no-boost-zstd) and" \
          "TWAT_CACHE_WITH_$dep OFF to bare" >&2
        bad=1
        ;;
      *)
        echo "run-tests: $dep is off in more than one preset no-*:" \
          "$(presets_without "$lower" | tr '\n' ' ')" >&2
        bad=1
        ;;
    esac
  done < <(grep -E '^TWAT_CACHE_WITH_[A-Z0-9_]+:BOOL=' "$cache")
  for preset in "${WITHOUT_CONFIGS[@]}"; do
    while IFS= read -r lower; do
      dep="$(tr '[:lower:]' '[:upper:]' <<<"$lower")"
      if ! printf '%s\n' "${seen[@]}" | grep -qx "$dep"; then
        echo "run-tests: preset $preset, but CMake has no option TWAT_CACHE_WITH_$dep" >&2
        bad=1
      fi
    done < <(dependencies_off_in "$preset")
  done
  [ "$bad" -eq 0 ]
}

usage() {
  echo "usage: $0 [${ALL_CONFIGS[*]}]..." >&2
  exit 2
}

configs=()
if [ "$#" -eq 0 ]; then
  configs=("${ALL_CONFIGS[@]}")
else
  for arg in "$@"; do
    case "$arg" in
      -h | --help) usage ;;
    esac
    preset_of "$arg" >/dev/null || {
      echo "run-tests: unknown configuration '$arg'" >&2
      usage
    }
    configs+=("$arg")
  done
fi

"$ROOT/scripts/install-deps.sh"

total_passed=0
total_failed=0
summaries=()

now() { echo "${EPOCHREALTIME/,/.}"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fs", b - a }'; }

finish() {
  echo
  echo "================ summary ================"
  local line
  for line in "${summaries[@]}"; do
    echo "$line"
  done
  echo "${total_passed} passed, ${total_failed} failed"
}

fail() { # config, step, passed, failed
  summaries+=("$(printf '%-9s FAILED at %s' "$1" "$2")")
  total_passed=$((total_passed + $3))
  total_failed=$((total_failed + $4))
  finish
  exit 1
}

# ThreadSanitizer's runtime cannot map its shadow memory under some kernels' ASLR (mmap_rnd_bits
# above 28 on newer kernels): every TSan binary then dies at start with "FATAL: ThreadSanitizer:
# unexpected memory mapping". Only then are the tests run with address randomisation turned off for
# them (setarch -R); elsewhere they run as they are.
TSAN_WRAPPER=()
probe_tsan() { # the configured tsan tree, whose compiler the probe uses
  local cxx
  cxx="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$1/CMakeCache.txt")"
  local dir="$ROOT/build/ci-tsan-probe"
  mkdir -p "$dir"
  printf '%s\n' '#include <thread>' 'int x;' \
    'int main() { std::thread t([] { x = 1; }); t.join(); return x == 1 ? 0 : 1; }' \
    >"$dir/probe.cpp"
  "$cxx" -std=c++20 -fsanitize=thread -pthread "$dir/probe.cpp" -o "$dir/probe"
  if "$dir/probe" >"$dir/probe.log" 2>&1; then
    echo "run-tests: ThreadSanitizer binaries run on this kernel as they are"
  elif grep -q "unexpected memory mapping" "$dir/probe.log" &&
    setarch "$(uname -m)" -R "$dir/probe" >/dev/null 2>&1; then
    echo "run-tests: TSan needs ASLR off here (unexpected memory mapping); using setarch -R"
    TSAN_WRAPPER=(setarch "$(uname -m)" -R)
  else
    cat "$dir/probe.log"
    echo "run-tests: ThreadSanitizer does not work on this machine" >&2
    return 1
  fi
}

run_config() {
  local name="$1"
  local dir="build/ci-$name"
  local preset
  preset="$(preset_of "$name")"
  local -a extra
  read -r -a extra <<<"$(cmake_args_of "$name")"
  local -a test_env=()
  local -a wrapper=()
  case "$name" in
    asan)
      test_env=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1)
      ;;
    tsan)
      test_env=(TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1)
      ;;
  esac

  echo
  echo "================ $name ($dir) ================"
  local t0 t1 t2 t3
  t0="$(now)"
  cmake --preset "$preset" -B "$dir" --fresh "${extra[@]}" || fail "$name" configure 0 1
  check_dependencies "$name" "$dir" || fail "$name" "configure (optional dependencies)" 0 1
  if [ "$name" = tsan ]; then
    probe_tsan "$dir" || fail "$name" "ThreadSanitizer probe" 0 1
    wrapper=("${TSAN_WRAPPER[@]}")
  fi
  t1="$(now)"
  echo "[$name] configure: $(elapsed "$t0" "$t1")"
  cmake --build "$dir" -j "$JOBS" || fail "$name" build 0 1
  t2="$(now)"
  echo "[$name] build: $(elapsed "$t1" "$t2")"

  local log="$dir/ctest.log"
  local rc=0
  set +e
  local -a ctest_extra
  read -r -a ctest_extra <<<"${RUN_TESTS_CTEST_ARGS:-}"
  env "${test_env[@]}" "${wrapper[@]}" ctest --test-dir "$dir" --output-on-failure -j "$JOBS" \
    --no-tests=error "${ctest_extra[@]}" 2>&1 | tee "$log"
  rc="${PIPESTATUS[0]}"
  set -e
  t3="$(now)"
  echo "[$name] test: $(elapsed "$t2" "$t3")"

  # "100% tests passed, 0 tests failed out of 19"
  local line failed total passed
  line="$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)"
  if [ -z "$line" ]; then
    fail "$name" "test (no CTest summary line)" 0 1
  fi
  failed="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
  total="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")"
  passed=$((total - failed))
  if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then
    [ "$failed" -eq 0 ] && failed=1
    fail "$name" "test ($passed passed, $failed failed)" "$passed" "$failed"
  fi
  total_passed=$((total_passed + passed))
  summaries+=("$(printf '%-9s %4d passed, 0 failed   configure %s, build %s, test %s' "$name" \
    "$passed" "$(elapsed "$t0" "$t1")" "$(elapsed "$t1" "$t2")" "$(elapsed "$t2" "$t3")")")
}

start="$(now)"
for config in "${configs[@]}"; do
  run_config "$config"
done
summaries+=("total time $(elapsed "$start" "$(now)")")
finish
