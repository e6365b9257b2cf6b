// bench_ucache: ucache against the engine it chose, used directly, in the same run.
//
// Measured (names are what scripts/bench_ratios.py pairs on: ucache/<path>/ucache against
// ucache/<path>/direct):
//   ucache/hit_int_<best>/{direct,ucache}       (int -> int) hits on the best memory engine
//                                               (boost_unordered, else std_unordered)
//   ucache/hit_string_<best>/{direct,ucache}    (32-byte std::string -> int) hits
//   ucache/hit_sqlite/{direct,ucache}           (std::int64_t -> 100-byte std::string) hits
//   ucache/hit_files/{direct,ucache}            the same on the files engine
//   ucache/hit_int_preferred_<engine>/...       int hits on an engine ucache uses only when
//                                               preferred_engine names it: std_unordered (in a
//                                               build with Boost) and std_lru (informational)
//   ucache/miss_int_<best>/{direct,ucache}      a new key every call on a full cache (info)
//   ucache_paired/hit_{int,string}_<best>       both hits timed in alternating rounds of one
//                                               pass each; counter `ratio` is ucache / direct
//   ucache_paired/aa_int_<best>                 the method's control: mcache against another
//                                               mcache, paired the same way; must read 1.00x
// `direct` is the engine's own factory: mcache for the best memory engine, memoize over
// engines::basic_memory<..., std_unordered> and engines::std_lru with the same options, bcache,
// fcache. `ucache` is ucache with the options that choose that engine (preferred_engine where the
// default would choose another); each benchmark checks that backend() is the engine named.
//
// Method, as bench_memory's: 1,000 distinct keys (10,000 for sqlite, as bench_sqlite), visited in
// a fixed shuffled order; caches hold them all and are warmed before timing, and each benchmark
// checks afterwards that every timed call was a hit. Both variants of a persistent path read the
// same entries (one folder and name, filled once before any benchmark). TWAT_CACHE_DIR is a fresh
// mkdtemp folder, removed at exit. main() starts and joins a thread first, as bench_memory does.
//
// Run: bench_ucache --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//        --benchmark_min_time=0.2 --benchmark_format=json --benchmark_out=bench_ucache.json
//        --benchmark_out_format=json && scripts/bench_ratios.py bench_ucache.json
// (see docs/performance.md, section "ucache").

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <twat_cache/cache.hpp>

#include "bench_support.hpp"

namespace {

namespace tc = twat_cache;
namespace engines = tc::engines;

constexpr std::size_t key_count = 1000;
constexpr std::size_t sqlite_key_count = 10000;
constexpr std::size_t hit_maxsize = 2048;
constexpr std::size_t miss_maxsize = 1000;
constexpr std::size_t value_size = 100;

// ---- the functions being memoized: trivially cheap, so the cache's cost is what shows ---------

constexpr auto f_int = [](int x) -> int { return x * 3 + 1; };
constexpr auto f_string = [](const std::string& s) -> int {
  return static_cast<int>(s.size()) + s[s.size() - 1];
};
/// 100 bytes that depend on k.
const auto f_value = [](std::int64_t k) -> std::string {
  std::string s = "value-" + std::to_string(k) + "-";
  s.resize(value_size, static_cast<char>('a' + k % 26));
  return s;
};

template <class Key, class Value>
using std_memory = engines::basic_memory<Key, Value, engines::index_kind::std_unordered>;

// ---- keys
// -----------------------------------------------------------------------------------------

template <class T>
std::vector<T> shuffled(std::size_t n, T (*make)(std::size_t)) {
  std::vector<T> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(make(i));
  std::shuffle(out.begin(), out.end(), std::mt19937_64(20240611));
  return out;
}

const std::vector<int>& int_keys() {
  static const auto keys =
      shuffled<int>(key_count, [](std::size_t i) { return static_cast<int>(i) * 7919 + 13; });
  return keys;
}

const std::vector<std::string>& string_keys() {
  static const auto keys = shuffled<std::string>(key_count, [](std::size_t i) {
    std::string s = "key-" + std::to_string(0x5eed0000u + i) + "-";
    s.resize(32, 'x');  // past any small-string buffer
    return s;
  });
  return keys;
}

#if TWAT_CACHE_WITH_SQLITE
const std::vector<std::int64_t>& sqlite_keys() {
  static const auto keys = shuffled<std::int64_t>(
      sqlite_key_count, [](std::size_t i) { return static_cast<std::int64_t>(i); });
  return keys;
}
#endif

const std::vector<std::int64_t>& files_keys() {
  static const auto keys =
      shuffled<std::int64_t>(key_count, [](std::size_t i) { return static_cast<std::int64_t>(i); });
  return keys;
}

inline std::size_t next(std::size_t i, std::size_t n) {
  return i + 1 == n ? 0 : i + 1;
}

// ---- benchmark bodies ---------------------------------------------------------------------------

/// Times memo(key) over the keys' ring, warmed first; every timed call must hit.
template <class Memo, class Keys>
void bench_hit(benchmark::State& state, Memo& memo, const Keys& order, std::string_view engine) {
  if (memo.backend() != engine) {
    state.SkipWithError(
        ("ran on " + std::string(memo.backend()) + ", not " + std::string(engine)).c_str());
    return;
  }
  for (const auto& k : order)
    benchmark::DoNotOptimize(memo(k));
  const std::uint64_t misses_before = memo.stats().misses;
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(memo(order[i]));
    i = next(i, order.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  if (memo.stats().misses != misses_before) state.SkipWithError("hits were not all hits");
}

/// The direct engine and ucache in paired rounds (bench_support::paired_rounds): counter `ratio`
/// is ucache / direct. Every timed call must hit.
template <class Direct, class Ucache, class Keys>
void bench_hit_paired(benchmark::State& state, Direct& direct, Ucache& ucache, const Keys& order,
                      std::string_view engine) {
  if (direct.backend() != engine || ucache.backend() != engine) {
    state.SkipWithError("ran on another engine");
    return;
  }
  for (const auto& k : order) {  // stored once, so that every timed call hits
    benchmark::DoNotOptimize(direct(k));
    benchmark::DoNotOptimize(ucache(k));
  }
  const std::uint64_t misses_before = direct.stats().misses + ucache.stats().misses;
  bench_support::paired_rounds(
      state, order, [&](const auto& k) { return direct(k); },
      [&](const auto& k) { return ucache(k); });
  if (direct.stats().misses + ucache.stats().misses != misses_before)
    state.SkipWithError("hits were not all hits");
}

/// Times memo(new key) on a full cache of miss_maxsize entries: each call misses and evicts.
template <class Memo>
void bench_miss(benchmark::State& state, Memo& memo, std::string_view engine) {
  if (memo.backend() != engine) {
    state.SkipWithError("ran on another engine");
    return;
  }
  int key = 1 << 24;
  for (std::size_t k = 0; k < 2 * miss_maxsize; ++k)
    benchmark::DoNotOptimize(memo(key++));
  for (auto _ : state)
    benchmark::DoNotOptimize(memo(key++));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// ---- registration -------------------------------------------------------------------------------

template <class F>
void add(const std::string& name, F&& body) {
  benchmark::RegisterBenchmark(name.c_str(), std::forward<F>(body));
}

/// Registers ucache/<path>/direct and ucache/<path>/ucache, each timing `bench(state, memo)`.
template <class MakeDirect, class MakeUcache, class Bench>
void add_pair(const std::string& path, MakeDirect make_direct, MakeUcache make_ucache,
              Bench bench) {
  add("ucache/" + path + "/direct", [=](benchmark::State& st) {
    auto memo = make_direct();
    bench(st, memo);
  });
  add("ucache/" + path + "/ucache", [=](benchmark::State& st) {
    auto memo = make_ucache();
    bench(st, memo);
  });
}

const tc::mcache_options hit_memory{.maxsize = hit_maxsize};
const tc::mcache_options miss_memory{.maxsize = miss_maxsize};

void register_memory() {
  constexpr std::string_view best = TWAT_CACHE_WITH_BOOST ? "boost_unordered" : "std_unordered";
  const std::string best_name(best);
  const auto hit_ints = [](std::string_view engine) {
    return [engine](benchmark::State& st, auto& memo) { bench_hit(st, memo, int_keys(), engine); };
  };
  const auto misses = [](std::string_view engine) {
    return [engine](benchmark::State& st, auto& memo) { bench_miss(st, memo, engine); };
  };

  // The best memory engine: what ucache picks without folder_name, and what mcache uses.
  add_pair(
      "hit_int_" + best_name, [] { return tc::mcache(f_int, hit_memory); },
      [] { return tc::ucache(f_int, {.maxsize = hit_maxsize}); }, hit_ints(best));
  add_pair(
      "hit_string_" + best_name, [] { return tc::mcache(f_string, hit_memory); },
      [] { return tc::ucache(f_string, {.maxsize = hit_maxsize}); },
      [best](benchmark::State& st, auto& memo) { bench_hit(st, memo, string_keys(), best); });
  // The same two hits, paired (see bench_hit_paired).
  add("ucache_paired/hit_int_" + best_name, [best](benchmark::State& st) {
    auto direct = tc::mcache(f_int, hit_memory);
    auto ucache = tc::ucache(f_int, {.maxsize = hit_maxsize});
    bench_hit_paired(st, direct, ucache, int_keys(), best);
  });
  // The method's control: two identical mcaches paired; its ratio must read 1.00x.
  add("ucache_paired/aa_int_" + best_name, [best](benchmark::State& st) {
    auto first = tc::mcache(f_int, hit_memory);
    auto second = tc::mcache(f_int, hit_memory);
    bench_hit_paired(st, first, second, int_keys(), best);
  });
  add("ucache_paired/hit_string_" + best_name, [best](benchmark::State& st) {
    auto direct = tc::mcache(f_string, hit_memory);
    auto ucache = tc::ucache(f_string, {.maxsize = hit_maxsize});
    bench_hit_paired(st, direct, ucache, string_keys(), best);
  });
  add_pair(
      "miss_int_" + best_name, [] { return tc::mcache(f_int, miss_memory); },
      [] { return tc::ucache(f_int, {.maxsize = miss_maxsize}); }, misses(best));

  if constexpr (TWAT_CACHE_WITH_BOOST) {
    add_pair(
        "hit_int_preferred_std_unordered",
        [] { return tc::memoize<std_memory>(f_int, tc::memoize_options{}, hit_memory); },
        [] {
          return tc::ucache(f_int, {.maxsize = hit_maxsize, .preferred_engine = "std_unordered"});
        },
        hit_ints("std_unordered"));
  }
  add_pair(
      "hit_int_preferred_std_lru",
      [] { return tc::memoize<engines::std_lru>(f_int, tc::memoize_options{}, hit_memory); },
      [] { return tc::ucache(f_int, {.maxsize = hit_maxsize, .preferred_engine = "std_lru"}); },
      hit_ints("std_lru"));
}

/// Stores every key once through a cache of its own (closed again, so SQLite's WAL is folded into
/// the database before timing): both variants then read the same entries.
template <class Make, class Keys>
void fill(Make make, const Keys& keys) {
  auto memo = make();
  for (const auto& k : keys)
    benchmark::DoNotOptimize(memo(k));
}

void register_persistent() {
#if TWAT_CACHE_WITH_SQLITE
  fill([] { return tc::bcache(f_value, {.folder_name = "hit", .name = "hit"}); }, sqlite_keys());
  add_pair(
      "hit_sqlite", [] { return tc::bcache(f_value, {.folder_name = "hit", .name = "hit"}); },
      [] { return tc::ucache(f_value, {.folder_name = "hit", .name = "hit"}); },
      [](benchmark::State& st, auto& memo) { bench_hit(st, memo, sqlite_keys(), "sqlite"); });
#endif
  fill([] { return tc::fcache(f_value, {.folder_name = "hit", .name = "files"}); }, files_keys());
  add_pair(
      "hit_files", [] { return tc::fcache(f_value, {.folder_name = "hit", .name = "files"}); },
      [] {
        return tc::ucache(f_value,
                          {.folder_name = "hit", .name = "files", .preferred_engine = "files"});
      },
      [](benchmark::State& st, auto& memo) { bench_hit(st, memo, files_keys(), "files"); });
}

}  // namespace

int main(int argc, char** argv) {
  std::thread([] {}).join();  // a process that has started a thread, as users' programs are
  try {
    const bench_support::temp_cache_root root("bench_ucache");
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    register_memory();
    register_persistent();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ucache: %s\n", e.what());
    return 1;
  }
}
