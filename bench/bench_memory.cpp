// bench_memory: the in-memory cache (mcache) against the limit and against what users hand-roll.
//
// Measured, all in one run (names are what scripts/bench_ratios.py pairs on):
//   hit/<key>/raw_flat_map/<hash>       a raw boost::unordered_flat_map find: the limit
//   hit/<key>/classic_lru/<safety>      the textbook std::list + std::unordered_map LRU
//   hit/<key>/mcache/<policy>/<safety>  a memoized call that hits
//   hit/int/mcache/s3fifo/<safety>/fn_ptr  the same, memoizing a plain function (a pointer)
//   miss/<key>/...                      a call that misses and evicts (maxsize 1,000, new keys)
//   mt/hit/int/...                      hit throughput on one shared object, 1 and 2 threads
//   floor/int/<policy>                  the least a hit under that policy can cost: the raw find
//                                        of an entry that carries its node index, then the
//                                        policy's own update (twat_cache's policy class, applied at
//                                        once; no wrapper, statistics or lock): no goal
//   big/int/<raw_flat_map or mcache>/... hits over 1,000,000 int keys, thread-safe: a table
//                                        larger than the CPU's caches, where what a hit costs is
//                                        the cache lines it reads (no goal: informational)
// <key>: int (int -> int), string (32-byte std::string -> int), tuple3 ((int, double,
// std::string) -> int, hits only). <safety>: safe (mcache thread_safe = true; the classic LRU
// under a std::mutex) or unsafe (thread_safe = false; the classic LRU with no lock).
//
// Method: 1,000 distinct keys, visited in a pre-shuffled order; hit caches are big enough that
// every access hits (warmed before timing). Misses use an ever-new key stream on a full cache of
// 1,000 entries and a trivially cheap function, so the cache's own cost dominates. main() starts
// and joins a thread first: glibc takes cheaper, non-atomic paths in a process that never did,
// and users' programs have threads.
//
// Run: bench_memory --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//        --benchmark_min_time=0.2 --benchmark_format=json | scripts/bench_ratios.py
// (see docs/performance.md).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <twat_cache/cache.hpp>

#include <boost/unordered/unordered_flat_map.hpp>

namespace {

namespace tc = twat_cache;

constexpr std::size_t key_count = 1000;
constexpr std::size_t hit_maxsize = 2048;  // every one of the 1,000 keys stays: all hits
constexpr std::size_t miss_maxsize = 1000;
constexpr std::size_t string_key_size = 32;
constexpr std::size_t big_key_count = 1'000'000;

// ---- the functions being memoized: trivially cheap, so the cache's cost is what shows ---------

constexpr auto f_int = [](int x) -> int { return x * 3 + 1; };
int plain_f_int(int x) {  // f_int as most users pass a function: a plain one, by pointer
  return x * 3 + 1;
}
constexpr auto f_string = [](const std::string& s) -> int {
  return static_cast<int>(s.size()) + s[s.size() - 1];
};
constexpr auto f_tuple3 = [](int a, double b, const std::string& c) -> int {
  return a + static_cast<int>(b) + static_cast<int>(c.size());
};

using memo_int = decltype(tc::mcache(f_int));
using memo_string = decltype(tc::mcache(f_string));
using memo_tuple3 = decltype(tc::mcache(f_tuple3));

// ---- keys ---------------------------------------------------------------------------------------

struct tuple3_args {
  int a;
  double b;
  std::string c;
};

/// A 32-byte key whose text depends on n (heap-allocated: past any small-string buffer).
std::string make_string_key(std::uint64_t n) {
  char head[24];
  std::snprintf(head, sizeof head, "key-%016llx-", static_cast<unsigned long long>(n));
  std::string s(head);
  s.resize(string_key_size, 'x');
  return s;
}

/// Overwrites the last 8 bytes of a 32-byte key with n: a new key per miss, no allocation.
void stamp_string_key(std::string& s, std::uint64_t n) {
  std::memcpy(s.data() + s.size() - sizeof n, &n, sizeof n);
}

struct key_sets {
  std::vector<int> ints;             // in shuffled access order
  std::vector<std::string> strings;  // ditto
  std::vector<tuple3_args> tuples;   // ditto
};

const key_sets& keys() {
  static const key_sets k = [] {
    key_sets s;
    std::mt19937_64 rng(20240611);
    std::vector<std::size_t> order(key_count);
    for (std::size_t i = 0; i < key_count; ++i)
      order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (const std::size_t i : order) {
      const int n = static_cast<int>(i) * 7919 + 13;  // spread out, distinct
      s.ints.push_back(n);
      s.strings.push_back(make_string_key(0x5eed0000u + i));
      s.tuples.push_back({n, static_cast<double>(i) * 0.25, make_string_key(0xbeef0000u + i)});
    }
    return s;
  }();
  return k;
}

/// big_key_count distinct ints in shuffled access order (built on first use: only big/ needs it).
const std::vector<int>& big_keys() {
  static const std::vector<int> k = [] {
    std::vector<int> v(big_key_count);
    for (std::size_t i = 0; i < big_key_count; ++i)
      v[i] = static_cast<int>(i) * 3 + 13;
    std::shuffle(v.begin(), v.end(), std::mt19937_64(20261206));
    return v;
  }();
  return k;
}

/// Next position in a ring of n accesses.
inline std::size_t next(std::size_t i, std::size_t n) {
  return i + 1 == n ? 0 : i + 1;
}

// ---- the classic LRU: what users hand-roll, and what most C++ LRU libraries are -------------

template <class K, class V>
class classic_lru {
 public:
  explicit classic_lru(std::size_t capacity) : capacity_(capacity) {}

  std::optional<V> get(const K& key) {
    const auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    items_.splice(items_.begin(), items_, it->second);  // most recently used to the front
    return it->second->second;
  }

  void put(const K& key, V value) {
    const auto it = map_.find(key);
    if (it != map_.end()) {
      it->second->second = std::move(value);
      items_.splice(items_.begin(), items_, it->second);
      return;
    }
    if (map_.size() >= capacity_) {  // evict the least recently used, at the back
      map_.erase(items_.back().first);
      items_.pop_back();
    }
    items_.emplace_front(key, std::move(value));
    map_.emplace(key, items_.begin());
  }

 private:
  using item_list = std::list<std::pair<K, V>>;
  item_list items_;
  std::unordered_map<K, typename item_list::iterator> map_;
  std::size_t capacity_;
};

/// The classic LRU made thread-safe the usual way: one std::mutex.
template <class K, class V>
class locked_classic_lru {
 public:
  explicit locked_classic_lru(std::size_t capacity) : lru_(capacity) {}
  std::optional<V> get(const K& key) {
    const std::lock_guard lock(mutex_);
    return lru_.get(key);
  }
  void put(const K& key, V value) {
    const std::lock_guard lock(mutex_);
    lru_.put(key, std::move(value));
  }

 private:
  std::mutex mutex_;
  classic_lru<K, V> lru_;
};

/// A memoized call through a hand-rolled cache: look up; on a miss compute (outside any lock),
/// then store.
template <class Cache, class F, class K>
inline int memo_call(Cache& cache, const F& f, const K& key) {
  if (auto hit = cache.get(key)) return *hit;
  const int value = f(key);
  cache.put(key, value);
  return value;
}

// ---- raw flat map baselines ---------------------------------------------------------------------

#if TWAT_CACHE_WITH_XXHASH
/// XXH3 over a key's bytes, marked avalanching so Boost does not mix it again (as our key_hash).
struct xxh3_hash {
  using is_transparent = void;
  using is_avalanching = void;
  std::size_t operator()(int k) const noexcept { return XXH3_64bits(&k, sizeof k); }
  std::size_t operator()(std::string_view s) const noexcept {
    return XXH3_64bits(s.data(), s.size());
  }
};
#endif

struct string_equal {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
};

using tuple3_key = std::tuple<int, double, std::string>;
using tuple3_view = std::tuple<int, double, std::string_view>;
/// The flat map a user would write for a 3-argument key, with heterogeneous lookup so a find
/// borrows (the library's own hash and equality, so only the container work differs).
using tuple3_map =
    boost::unordered_flat_map<tuple3_key, int, tc::key_hash<tuple3_key>, tc::key_equal<tuple3_key>>;

/// map_call()'s miss: out of line, as the caches' own misses are.
template <class Map, class F, class K>
TWAT_CACHE_NOINLINE int map_store(Map& map, const F& f, const K& key) {
  const int value = f(key);
  map.emplace(key, value);
  return value;
}

/// A memoized call through a raw map (the hit path is all that is measured). Always inlined: once
/// the file grew, g++ stopped inlining it whole (find and emplace) into the timed loop, and the
/// baseline read 3.4 ns where it had read 2.85 in the same hour.
template <class Map, class F, class K>
TWAT_CACHE_ALWAYS_INLINE int map_call(Map& map, const F& f, const K& key) {
  const auto it = map.find(key);
  if (it != map.end()) return it->second;
  return map_store(map, f, key);
}

/// The timed loop every hit benchmark shares: call(key) over the keys' ring, warmed first.
template <class Keys, class Call>
void time_ring(benchmark::State& state, const Keys& order, Call call) {
  for (const auto& k : order)
    benchmark::DoNotOptimize(call(k));  // warm: every access now hits
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(call(order[i]));
    i = next(i, order.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

template <class Map, class Keys, class F>
void bench_raw_hit(benchmark::State& state, const Keys& order, F f) {
  Map map;
  time_ring(state, order, [&](const auto& k) { return map_call(map, f, k); });
}

// ---- benchmark bodies ---------------------------------------------------------------------------

/// floor/int/<policy>: a raw flat map of int -> (value, node index) and one policy object over
/// the nodes, as mcache's memory engine keeps them, minus everything else a memoized call does.
template <class Policy>
void bench_floor_hit(benchmark::State& state) {
  const std::vector<int>& order = keys().ints;
  boost::unordered_flat_map<int, std::pair<int, std::uint32_t>> map;
  Policy policy;
  const auto node_hash = [](const void* keys_by_node, std::uint32_t node) -> std::uint64_t {
    return tc::key_hash<int>{}(static_cast<const std::vector<int>*>(keys_by_node)->at(node));
  };
  if constexpr (std::is_same_v<Policy, tc::policies::tinylfu>)
    policy.configure(hit_maxsize, tc::policies::node_hasher(&order, node_hash));
  policy.reserve(static_cast<std::uint32_t>(order.size()));
  for (std::uint32_t node = 0; node < order.size(); ++node) {
    map.emplace(order[node], std::pair{f_int(order[node]), node});
    policy.on_insert(node);
  }
  time_ring(state, order, [&](int k) {
    const auto it = map.find(k);
    policy.on_access(it->second.second);
    return it->second.first;
  });
}

template <class Cache, class Keys, class F>
void bench_classic_hit(benchmark::State& state, const Keys& order, F f) {
  Cache cache(hit_maxsize);
  time_ring(state, order, [&](const auto& k) { return memo_call(cache, f, k); });
}

template <class Memo, class Keys>
void bench_memo_hit(benchmark::State& state, Memo& memo, const Keys& order) {
  time_ring(state, order, [&](const auto& k) { return memo(k); });
  const tc::cache_stats s = memo.stats();
  if (s.misses != order.size() || s.evictions != 0) state.SkipWithError("hits were not all hits");
}

/// An ever-new key stream for misses: ints counting up, or one 32-byte string restamped.
struct int_stream {
  int n = 1 << 24;
  int operator()() { return n++; }
};
struct string_stream {
  std::string key = make_string_key(0);
  std::uint64_t n = 0;
  const std::string& operator()() {
    stamp_string_key(key, ++n);
    return key;
  }
};

template <class Stream, class Call>
void bench_miss(benchmark::State& state, Call call) {
  Stream stream;
  for (std::size_t k = 0; k < 2 * miss_maxsize; ++k)
    benchmark::DoNotOptimize(call(stream()));
  for (auto _ : state)
    benchmark::DoNotOptimize(call(stream()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// ---- registration -------------------------------------------------------------------------------

constexpr tc::policy all_policies[] = {tc::policy::lru, tc::policy::lfu,    tc::policy::fifo,
                                       tc::policy::rr,  tc::policy::s3fifo, tc::policy::tinylfu};

const char* safety_name(bool thread_safe) {
  return thread_safe ? "safe" : "unsafe";
}

std::string mcache_name(const char* path, tc::policy p, bool thread_safe) {
  return std::string(path) + "/mcache/" + std::string(tc::policy_name(p)) + "/" +
         safety_name(thread_safe);
}

template <class F>
void add(const std::string& name, F&& body) {
  benchmark::RegisterBenchmark(name.c_str(), std::forward<F>(body));
}

void register_hits() {
  // int -> int
  add("hit/int/raw_flat_map/boost_hash", [](benchmark::State& st) {
    bench_raw_hit<boost::unordered_flat_map<int, int>>(st, keys().ints, f_int);
  });
#if TWAT_CACHE_WITH_XXHASH
  add("hit/int/raw_flat_map/xxh3", [](benchmark::State& st) {
    bench_raw_hit<boost::unordered_flat_map<int, int, xxh3_hash>>(st, keys().ints, f_int);
  });
#endif
  add("floor/int/lru", bench_floor_hit<tc::policies::lru>);
  add("floor/int/lfu", bench_floor_hit<tc::policies::lfu>);
  add("floor/int/tinylfu", bench_floor_hit<tc::policies::tinylfu>);
  add("hit/int/classic_lru/unsafe", [](benchmark::State& st) {
    bench_classic_hit<classic_lru<int, int>>(st, keys().ints, f_int);
  });
  add("hit/int/classic_lru/safe", [](benchmark::State& st) {
    bench_classic_hit<locked_classic_lru<int, int>>(st, keys().ints, f_int);
  });
  for (const bool safe : {true, false}) {
    for (const tc::policy p : all_policies) {
      add(mcache_name("hit/int", p, safe), [p, safe](benchmark::State& st) {
        auto memo = tc::mcache(f_int, {.maxsize = hit_maxsize, .policy = p, .thread_safe = safe});
        bench_memo_hit(st, memo, keys().ints);
      });
    }
  }

  // A plain function: at -O2, g++ and clang++ kept part of its hit path out of line until
  // 2026-12-06 (2.0x to 2.3x the lambda's hit with g++); the default policy shows it.
  for (const bool safe : {true, false}) {
    add(mcache_name("hit/int", tc::policy::s3fifo, safe) + "/fn_ptr", [safe](benchmark::State& st) {
      auto memo = tc::mcache(plain_f_int, {.maxsize = hit_maxsize, .thread_safe = safe});
      bench_memo_hit(st, memo, keys().ints);
    });
  }

  // 32-byte std::string -> int
  add("hit/string/raw_flat_map/boost_hash", [](benchmark::State& st) {
    bench_raw_hit<boost::unordered_flat_map<std::string, int>>(st, keys().strings, f_string);
  });
#if TWAT_CACHE_WITH_XXHASH
  add("hit/string/raw_flat_map/xxh3", [](benchmark::State& st) {
    bench_raw_hit<boost::unordered_flat_map<std::string, int, xxh3_hash, string_equal>>(
        st, keys().strings, f_string);
  });
#endif
  add("hit/string/classic_lru/unsafe", [](benchmark::State& st) {
    bench_classic_hit<classic_lru<std::string, int>>(st, keys().strings, f_string);
  });
  add("hit/string/classic_lru/safe", [](benchmark::State& st) {
    bench_classic_hit<locked_classic_lru<std::string, int>>(st, keys().strings, f_string);
  });
  for (const bool safe : {true, false}) {
    for (const tc::policy p : all_policies) {
      add(mcache_name("hit/string", p, safe), [p, safe](benchmark::State& st) {
        auto memo =
            tc::mcache(f_string, {.maxsize = hit_maxsize, .policy = p, .thread_safe = safe});
        bench_memo_hit(st, memo, keys().strings);
      });
    }
  }

  // (int, double, std::string) -> int: a hit must build no owned key.
  // The flat map a user would write, looked up with a borrowed view (the limit) or with an
  // owned key tuple built per call (what a naive key costs: a string copy).
  const auto tuple3_raw = [](auto make_lookup_key) {
    return [make_lookup_key](benchmark::State& st) {
      tuple3_map map;
      const auto& order = keys().tuples;
      for (const auto& t : order)
        map.emplace(tuple3_key(t.a, t.b, t.c), f_tuple3(t.a, t.b, t.c));
      time_ring(st, order, [&](const tuple3_args& t) {
        const auto it = map.find(make_lookup_key(t));
        return it != map.end() ? it->second : f_tuple3(t.a, t.b, t.c);
      });
    };
  };
  add("hit/tuple3/raw_flat_map/view",
      tuple3_raw([](const tuple3_args& t) { return tuple3_view(t.a, t.b, t.c); }));
  add("hit/tuple3/raw_flat_map/owned_key",
      tuple3_raw([](const tuple3_args& t) { return tuple3_key(t.a, t.b, t.c); }));
  for (const bool safe : {true, false}) {
    add(mcache_name("hit/tuple3", tc::policy::lru, safe), [safe](benchmark::State& st) {
      auto memo = tc::mcache(f_tuple3, {.maxsize = hit_maxsize, .thread_safe = safe});
      const auto& order = keys().tuples;
      for (const auto& t : order)
        benchmark::DoNotOptimize(memo(t.a, t.b, t.c));
      std::size_t i = 0;
      for (auto _ : st) {
        const tuple3_args& t = order[i];
        benchmark::DoNotOptimize(memo(t.a, t.b, t.c));
        i = next(i, order.size());
      }
      st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
      if (memo.stats().misses != order.size()) st.SkipWithError("hits were not all hits");
    });
  }
}

void register_big() {
  add("big/int/raw_flat_map/boost_hash", [](benchmark::State& st) {
    bench_raw_hit<boost::unordered_flat_map<int, int>>(st, big_keys(), f_int);
  });
  for (const tc::policy p : all_policies) {
    add(mcache_name("big/int", p, true), [p](benchmark::State& st) {
      auto memo = tc::mcache(f_int, {.maxsize = 2 * big_key_count, .policy = p});
      bench_memo_hit(st, memo, big_keys());
    });
  }
}

void register_misses() {
  add("miss/int/classic_lru/unsafe", [](benchmark::State& st) {
    classic_lru<int, int> cache(miss_maxsize);
    bench_miss<int_stream>(st, [&](int k) { return memo_call(cache, f_int, k); });
  });
  add("miss/int/classic_lru/safe", [](benchmark::State& st) {
    locked_classic_lru<int, int> cache(miss_maxsize);
    bench_miss<int_stream>(st, [&](int k) { return memo_call(cache, f_int, k); });
  });
  for (const bool safe : {true, false}) {
    for (const tc::policy p : all_policies) {
      add(mcache_name("miss/int", p, safe), [p, safe](benchmark::State& st) {
        auto memo = tc::mcache(f_int, {.maxsize = miss_maxsize, .policy = p, .thread_safe = safe});
        bench_miss<int_stream>(st, [&](int k) { return memo(k); });
      });
    }
  }
  // Informational: what the single-flight gate costs a thread-safe miss.
  add("miss/int/mcache/lru/safe_no_single_flight", [](benchmark::State& st) {
    auto memo = tc::mcache(f_int, {.maxsize = miss_maxsize, .single_flight = false});
    bench_miss<int_stream>(st, [&](int k) { return memo(k); });
  });

  add("miss/string/classic_lru/unsafe", [](benchmark::State& st) {
    classic_lru<std::string, int> cache(miss_maxsize);
    bench_miss<string_stream>(st,
                              [&](const std::string& k) { return memo_call(cache, f_string, k); });
  });
  add("miss/string/classic_lru/safe", [](benchmark::State& st) {
    locked_classic_lru<std::string, int> cache(miss_maxsize);
    bench_miss<string_stream>(st,
                              [&](const std::string& k) { return memo_call(cache, f_string, k); });
  });
  for (const bool safe : {true, false}) {
    for (const tc::policy p : all_policies) {
      add(mcache_name("miss/string", p, safe), [p, safe](benchmark::State& st) {
        auto memo =
            tc::mcache(f_string, {.maxsize = miss_maxsize, .policy = p, .thread_safe = safe});
        bench_miss<string_stream>(st, [&](const std::string& k) { return memo(k); });
      });
    }
  }
}

// ---- 2-thread hit throughput on one shared object -------------------------------------------

/// Shared, warmed objects, built once before any benchmark runs (so no thread races the setup).
struct shared_objects {
  std::vector<memo_int> memos;  // one per policy, thread-safe
  locked_classic_lru<int, int> classic{hit_maxsize};
  boost::unordered_flat_map<int, int> raw;  // read-only while threads run: needs no lock

  shared_objects() {
    for (const tc::policy p : all_policies) {
      memos.push_back(tc::mcache(f_int, {.maxsize = hit_maxsize, .policy = p}));
      for (const int k : keys().ints)
        benchmark::DoNotOptimize(memos.back()(k));
    }
    for (const int k : keys().ints) {
      memo_call(classic, f_int, k);
      map_call(raw, f_int, k);
    }
  }
};
shared_objects* shared = nullptr;

template <class Call>
void bench_threads(benchmark::State& state, Call call) {
  const auto& order = keys().ints;
  // Each thread starts at its own place in the order, so threads do not walk in step.
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * (order.size() / 2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(call(order[i]));
    i = next(i, order.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void register_threads() {
  const auto threaded = [](benchmark::internal::Benchmark* b) {
    b->Threads(1)->Threads(2)->UseRealTime();
  };
  for (std::size_t n = 0; n < std::size(all_policies); ++n) {
    threaded(benchmark::RegisterBenchmark(mcache_name("mt/hit/int", all_policies[n], true).c_str(),
                                          [n](benchmark::State& st) {
                                            memo_int& memo = shared->memos[n];
                                            bench_threads(st, [&memo](int k) { return memo(k); });
                                          }));
  }
  threaded(benchmark::RegisterBenchmark("mt/hit/int/classic_lru/safe", [](benchmark::State& st) {
    bench_threads(st, [](int k) { return memo_call(shared->classic, f_int, k); });
  }));
  threaded(
      benchmark::RegisterBenchmark("mt/hit/int/raw_flat_map/boost_hash", [](benchmark::State& st) {
        bench_threads(st, [](int k) { return map_call(shared->raw, f_int, k); });
      }));
}

}  // namespace

int main(int argc, char** argv) {
  std::thread([] {}).join();  // a process that has started a thread, as users' programs are
  (void)keys();
  shared_objects objects;
  shared = &objects;

  register_hits();
  register_misses();
  register_threads();
  register_big();

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  shared = nullptr;
  return 0;
}
