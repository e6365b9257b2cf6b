// bench_compare: the C++ side of scripts/compare.py, which runs the same workloads through
// Python's functools.lru_cache, cachetools (LRU, TTL), diskcache and joblib.Memory and prints
// both side by side (scripts/compare.sh is the one command).
//
// Measured (names are what scripts/compare.py pairs on: compare/<workload>/<cache>):
//   compare/hit_small/{mcache,bcache,fcache}   a memoized int -> int call that hits; 1,000 keys
//                                              visited in a fixed shuffled order, all stored
//   compare/miss_small/{mcache,bcache,fcache}  a memoized int -> int call with a key never seen:
//                                              lookup miss, the (trivial) function, store; the
//                                              cache is full (maxsize 1,000), so every store
//                                              also evicts one entry
//   compare/hit_8MB/{mcache,bcache,fcache}     a hit of a function returning an 8 MiB
//                                              std::vector<double> (1,048,576 elements) by value:
//                                              mcache copies the vector, bcache and fcache read
//                                              and decode it
//   compare/hit_8MB/mcache_shared_ptr          the idiomatic C++ for a large in-memory result:
//                                              the function returns
//                                              std::shared_ptr<const std::vector<double>>, so a hit
//                                              copies a pointer (as Python's caches return a
//                                              reference to the same object)
//
// Every cache has maxsize 1,000 and otherwise its defaults (mcache: s3fifo, thread-safe, single
// flight; bcache and fcache: durability::fast, no compression). The functions are the ones
// scripts/compare.py memoizes: f(x) = 3x + 1, and for the array element i = 0.5 i + k.
// Each benchmark checks the cache's counters afterwards: every timed call of a hit benchmark was
// a hit, of a miss benchmark a miss (else it is reported as an error).
//
// TWAT_CACHE_DIR is set to a fresh folder from mkdtemp (under $TMPDIR, else /tmp) before any
// cache is made, and removed at exit. main() starts and joins a thread first, as bench_memory
// does: glibc takes cheaper, non-atomic paths in a process that never did.
//
// Run: scripts/compare.sh (builds this in build/compare and runs scripts/compare.py), or
//   bench_compare --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//     --benchmark_format=json > compare.json && scripts/compare.py --cpp-json compare.json

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <twat_cache/cache.hpp>

#include "bench_support.hpp"

namespace {

namespace tc = twat_cache;

constexpr std::size_t key_count = 1000;
constexpr std::size_t maxsize = 1000;
constexpr std::size_t array_size = std::size_t{1} << 20;  // doubles: 8 MiB

// ---- the functions being memoized: the same as scripts/compare.py's -----------------------------

int f_small(int x) {
  return x * 3 + 1;
}

std::vector<double> f_array(int k) {
  std::vector<double> v(array_size);
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<double>(i) * 0.5 + static_cast<double>(k);
  return v;
}

std::shared_ptr<const std::vector<double>> f_array_shared(int k) {
  return std::make_shared<const std::vector<double>>(f_array(k));
}

// ---- keys ---------------------------------------------------------------------------------------

/// The hit keys 7919 i + 13 (i < 1,000) in a fixed shuffled order, as scripts/compare.py's.
const std::vector<int>& hit_keys() {
  static const std::vector<int> keys = [] {
    std::vector<int> v(key_count);
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<int>(i) * 7919 + 13;
    std::shuffle(v.begin(), v.end(), std::mt19937_64(20240611));
    return v;
  }();
  return keys;
}

/// Keys never seen before, for the miss benchmarks: one counter for the whole run, far above the
/// hit keys, so a persistent cache never holds a key from an earlier repetition.
int fresh_key() {
  static int next = 1 << 24;
  return next++;
}

inline std::size_t next(std::size_t i, std::size_t n) {
  return i + 1 == n ? 0 : i + 1;
}

// ---- the caches ---------------------------------------------------------------------------------

/// Which cache a benchmark runs through. bcache's and fcache's entries live under the folder
/// "compare", one name per workload.
enum class kind { mcache, bcache, fcache };

/// Calls body(memo) with the cache of kind k over f, named `name` for the persistent ones (the
/// three factories return different types: body is generic). A persistent cache that fell back
/// to memory, or an exception, skips the benchmark with a message.
template <kind K, class F, class Body>
void with_cache(benchmark::State& state, F f, const char* name, Body&& body) {
  try {
    if constexpr (K == kind::mcache) {
      (void)name;
      body(tc::mcache(f, {.maxsize = maxsize}));
    } else if constexpr (K == kind::bcache) {
      auto memo = tc::bcache(f, {.folder_name = "compare", .name = name, .maxsize = maxsize});
      if (memo.backend() != "sqlite") {
        state.SkipWithError("bcache fell back from SQLite (a build without SQLite?)");
        return;
      }
      body(std::move(memo));
    } else {
      auto memo = tc::fcache(f, {.folder_name = "compare", .name = name, .maxsize = maxsize});
      if (memo.backend() != "files") {
        state.SkipWithError("fcache fell back from files");
        return;
      }
      body(std::move(memo));
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

template <class Memo>
void check_counts(benchmark::State& state, const Memo& memo, const tc::cache_stats& before,
                  bool hits) {
  const tc::cache_stats after = memo.stats();
  const auto n = static_cast<std::uint64_t>(state.iterations());
  if (after.errors != before.errors) state.SkipWithError("the cache counted errors");
  if (hits && after.hits - before.hits < n) state.SkipWithError("a timed call was not a hit");
  if (!hits && after.misses - before.misses < n) state.SkipWithError("a timed call was a hit");
}

// ---- hit/small ----------------------------------------------------------------------------------

template <kind K>
void hit_small(benchmark::State& state) {
  with_cache<K>(state, f_small, "hit_small", [&](auto memo) {
    const std::vector<int>& keys = hit_keys();
    for (int round = 0; round < 2; ++round) {  // stores, then reads every entry once
      for (const int key : keys)
        benchmark::DoNotOptimize(memo(key));
    }
    const tc::cache_stats before = memo.stats();
    std::size_t i = 0;
    for (auto _ : state) {
      int value = memo(keys[i]);
      benchmark::DoNotOptimize(value);
      i = next(i, keys.size());
    }
    check_counts(state, memo, before, true);
  });
}

// ---- miss/small ---------------------------------------------------------------------------------

template <kind K>
void miss_small(benchmark::State& state) {
  with_cache<K>(state, f_small, "miss_small", [&](auto memo) {
    // Full, so that every timed store evicts (a persistent cache may be full from the last run).
    for (auto n = memo.stats().size; n < maxsize; ++n)
      benchmark::DoNotOptimize(memo(fresh_key()));
    const tc::cache_stats before = memo.stats();
    for (auto _ : state) {
      int value = memo(fresh_key());
      benchmark::DoNotOptimize(value);
    }
    check_counts(state, memo, before, false);
  });
}

// ---- hit/8MB ------------------------------------------------------------------------------------

template <kind K>
void hit_8mb(benchmark::State& state) {
  with_cache<K>(state, f_array, "hit_8MB", [&](auto memo) {
    if (memo(0).size() != array_size) state.SkipWithError("wrong size");  // stored
    const tc::cache_stats before = memo.stats();
    for (auto _ : state) {
      std::vector<double> v = memo(0);
      benchmark::DoNotOptimize(v.data());
    }
    check_counts(state, memo, before, true);
  });
}

void hit_8mb_shared(benchmark::State& state) {
  with_cache<kind::mcache>(state, f_array_shared, "", [&](auto memo) {
    if (memo(0)->size() != array_size) state.SkipWithError("wrong size");  // stored
    const tc::cache_stats before = memo.stats();
    for (auto _ : state) {
      std::shared_ptr<const std::vector<double>> v = memo(0);
      benchmark::DoNotOptimize(v.get());
    }
    check_counts(state, memo, before, true);
  });
}

template <kind K>
void register_kind(const char* name) {
  const std::string cache(name);
  benchmark::RegisterBenchmark(("compare/hit_small/" + cache).c_str(), hit_small<K>);
  benchmark::RegisterBenchmark(("compare/miss_small/" + cache).c_str(), miss_small<K>);
  benchmark::RegisterBenchmark(("compare/hit_8MB/" + cache).c_str(), hit_8mb<K>)
      ->Unit(benchmark::kMicrosecond);
}

void register_all() {
  register_kind<kind::mcache>("mcache");
  register_kind<kind::bcache>("bcache");
  register_kind<kind::fcache>("fcache");
  benchmark::RegisterBenchmark("compare/hit_8MB/mcache_shared_ptr", hit_8mb_shared);
}

}  // namespace

int main(int argc, char** argv) {
  std::thread([] {}).join();  // a process that has started a thread, as users' programs are
  try {
    const bench_support::temp_cache_root root("bench_compare");
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_compare: %s\n", e.what());
    return 1;
  }
}
