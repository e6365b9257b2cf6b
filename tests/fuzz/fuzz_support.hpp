#pragma once
// What the fuzz targets of caches share: a memoized function that logs its calls and throws when
// told to, and the checks of one call through a cache (value, hit or miss, exceptions, ttl).

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace fuzz_support {

constexpr int key_count = 24;  // twice the largest maxsize: hits, misses and evictions all come
constexpr std::int64_t ttl_ns = 1600;
// fuzz_memory's big caches (maxsize 256 to 448): what batches of stores take (see there).
constexpr int big_key_count = 640;

/// Reports a broken promise and stops, so libFuzzer keeps the input.
[[noreturn]] inline void fail(const char* what, std::size_t step, int key) {
  std::fprintf(stderr, "fuzz: %s (step %zu, key %d)\n", what, step, key);
  std::abort();
}

/// What the memoized function has done; `throw_next` makes its next call throw.
struct function_log {
  int calls = 0;
  bool throw_next = false;
};

struct logged_function {
  function_log* log;
  int operator()(int x) const {
    ++log->calls;
    if (log->throw_next) throw std::runtime_error("planned failure");
    return x * 7 + 1;
  }
};

/// When each key's entry in one store was last computed (steady or wall ns, by the cache's clock).
using write_times = std::array<std::int64_t, big_key_count>;

/// One call for `key` through `memo`, whose function logs into `log` (a call that throws, when
/// `throwing`), checked: the function ran exactly when contains() said no entry, the value is
/// right, an exception reached the caller and left no entry, and a value computed was kept
/// (unless `may_refuse`: an admission policy). Records the write in `written`; returns whether
/// the call was a hit.
template <class Memo>
bool checked_call(const Memo& memo, function_log& log, write_times& written, int key, bool throwing,
                  bool may_refuse, std::int64_t now, std::size_t step) {
  const bool present = memo.contains(key);
  const int calls_before = log.calls;
  log.throw_next = throwing;
  bool threw = false;
  int value = 0;
  try {
    value = memo(key);
  } catch (const std::runtime_error&) {
    threw = true;
  }
  log.throw_next = false;
  const bool computed = log.calls != calls_before;
  if (computed == present) fail("contains() disagreed with the call that followed", step, key);
  if (log.calls - calls_before > 1) fail("one call ran the function twice", step, key);
  if (threw != (throwing && !present)) fail("an exception was lost or made up", step, key);
  if (threw) {
    if (memo.contains(key)) fail("a call that threw left an entry", step, key);
    return present;
  }
  if (value != key * 7 + 1) fail("a wrong value", step, key);
  if (computed) written[static_cast<std::size_t>(key)] = now;
  if (!may_refuse && !memo.contains(key)) fail("a value computed was not kept", step, key);
  return present;
}

/// Checks that `memo` holds no live entry for `key` older than the ttl.
template <class Memo>
void check_ttl(const Memo& memo, const write_times& written, int key, std::int64_t now,
               std::size_t step) {
  if (memo.contains(key) && written[static_cast<std::size_t>(key)] + ttl_ns <= now)
    fail("an entry outlived its ttl", step, key);
}

}  // namespace fuzz_support
