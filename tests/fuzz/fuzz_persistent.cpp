// libFuzzer target for the persistent engines. The input picks bcache or fcache (or ucache on the
// engine of either, through ucache's own engine), a maxsize, a ttl
// or none and compression, then a run of calls, calls that throw, invalidations, clears,
// contains() over every key, steps of a manual wall clock, and reopenings, on two wrappers over one
// folder and name (as two processes would hold them). After every step:
// - each call's value is right, and the function ran exactly when contains() said no entry;
// - a call that threw left no entry, and one that returned did;
// - both wrappers see the same entries, and a reopened wrapper every entry of the one it replaced;
// - invalidate() drops the entry for both, and says whether it lived;
// - no live entry is older than the ttl; the size stays within maxsize (for fcache, whose writers
//   count their own writes between scans, once a wrapper is made again) and, without a ttl, is
//   the number of keys with an entry; hits and misses add up to the calls of each wrapper.
// The caches live in ./cache under the fuzzer's working directory ($TWAT_CACHE_DIR).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <twat_cache/cache.hpp>
#include <type_traits>
#include <utility>

#include "fuzz_support.hpp"

namespace {

using namespace fuzz_support;

/// What the wrappers under test are: bcache, fcache, or ucache on either engine.
enum class engine_kind { sqlite, files };

template <class Options, class Make, engine_kind Engine>
struct store_under_test {
  static constexpr bool exact_limits = Engine == engine_kind::sqlite;
  using memo_type = decltype(std::declval<Make>()(logged_function{nullptr}, Options{}));

  struct wrapper {
    function_log log;
    std::optional<memo_type> memo;
    std::uint64_t lookups = 0;  // calls through it since it was made or cleared
  };

  Options options;
  Make make;
  wrapper a, b;
  write_times written{};  // one store: either wrapper's write is what both read back

  store_under_test(Options o, Make m) : options(std::move(o)), make(m) {
    open(a);
    open(b);
  }

  void open(wrapper& w) {
    w.memo.reset();
    w.memo.emplace(make(logged_function{&w.log}, options));
    w.lookups = 0;
  }
};

template <class Store>
void run(Store& store, const std::uint8_t* data, std::size_t size, std::size_t maxsize,
         bool with_ttl, twat_cache::manual_clock& clock) {
  const auto now = [&clock] {
    return static_cast<std::int64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock.now().time_since_epoch())
            .count());
  };
  store.a.memo->clear();
  store.a.lookups = store.b.lookups = 0;
  for (std::size_t i = 0; i + 1 < size; i += 2) {
    const std::size_t step = i / 2;
    const unsigned op = data[i] % 16;
    const int key = data[i + 1] % key_count;
    auto& one = (key & 1) != 0 ? store.b : store.a;  // the wrapper this step goes through
    auto& other = (key & 1) != 0 ? store.a : store.b;
    if (op <= 9 || (op == 15 && key >= 4)) {
      ++one.lookups;
      checked_call(*one.memo, one.log, store.written, key, op == 9, false, now(), step);
      if (one.memo->contains(key) != other.memo->contains(key))
        fail("the two wrappers see different entries", step, key);
    } else if (op == 10) {
      const bool live = one.memo->contains(key);
      if (one.memo->invalidate(key) != live) fail("invalidate() said wrong", step, key);
      if (one.memo->contains(key) || other.memo->contains(key))
        fail("an entry survived invalidate()", step, key);
    } else if (op == 11) {
      std::size_t with_entry = 0;
      for (int k = 0; k < key_count; ++k) {
        const bool live = store.a.memo->contains(k);
        if (store.b.memo->contains(k) != live)
          fail("the two wrappers see different entries", step, k);
        with_entry += live ? 1 : 0;
        if (with_ttl) check_ttl(*store.a.memo, store.written, k, now(), step);
      }
      if (!with_ttl && store.a.memo->stats().size != with_entry)
        fail("stats().size is not the number of entries", step, key);
    } else if (op <= 13) {
      if (with_ttl) clock.advance(std::chrono::nanoseconds((key + 1) * (ttl_ns / 16)));
    } else if (op == 14) {
      std::array<bool, key_count> before{};
      std::size_t count_before = 0;
      for (int k = 0; k < key_count; ++k) {
        before[static_cast<std::size_t>(k)] = one.memo->contains(k);
        count_before += before[static_cast<std::size_t>(k)] ? 1 : 0;
      }
      store.open(one);
      // The scan of a new fcache wrapper evicts what two writers put past maxsize; else nothing
      // may go, and nothing ever comes back.
      const bool may_evict = !Store::exact_limits && maxsize != 0 && count_before > maxsize;
      for (int k = 0; k < key_count; ++k) {
        const bool now_there = one.memo->contains(k);
        if (now_there != before[static_cast<std::size_t>(k)] && (now_there || !may_evict))
          fail("a reopened wrapper sees other entries", step, k);
      }
    } else {
      one.memo->clear();  // every entry, and this wrapper's counters
      one.lookups = 0;
      if (other.memo->stats().size != 0) fail("clear() left entries", step, key);
    }
    for (const auto* w : {&store.a, &store.b}) {
      const twat_cache::cache_stats s = w->memo->stats();
      // fcache counts each wrapper's own writes between scans, so two writers may overshoot
      // (docs/persistence.md) until one is made again, which scans: exact then.
      const bool bounded = Store::exact_limits || (op == 14 && w == &one);
      if (bounded && maxsize != 0 && s.size > maxsize) fail("more entries than maxsize", step, key);
      if (s.errors != 0) fail("a store or read failed", step, key);
    }
    // Each wrapper counts its own calls.
    const twat_cache::cache_stats sa = store.a.memo->stats();
    const twat_cache::cache_stats sb = store.b.memo->stats();
    if (sa.hits + sa.misses != store.a.lookups || sb.hits + sb.misses != store.b.lookups)
      fail("hits and misses do not add up to the calls", step, key);
  }
}

template <class Options, engine_kind Engine, class Make>
void run_on(Make make, const std::uint8_t* data, std::size_t size) {
  const std::size_t maxsize = data[1] % 13;  // 0: none
  const bool with_ttl = (data[0] & 2) != 0;
  twat_cache::manual_clock clock;
  clock.advance(std::chrono::hours(24 * 365 * 50));  // a plausible wall-clock time
  Options o{.folder_name = "fuzz", .name = "fuzz"};
  if (maxsize != 0) o.maxsize = maxsize;
  if (with_ttl) o.ttl = std::chrono::nanoseconds(ttl_ns);
  o.compress = (data[0] & 4) != 0;
  o.clock = clock;
  if constexpr (std::is_same_v<Options, twat_cache::ucache_options>)
    o.preferred_engine = Engine == engine_kind::sqlite ? "sqlite" : "files";
  store_under_test<Options, Make, Engine> store(o, make);
  run(store, data + 2, size - 2, maxsize, with_ttl, clock);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::filesystem::path root = std::filesystem::current_path() / "cache";
  setenv("TWAT_CACHE_DIR", root.c_str(), 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // Without SQLite, bcache is a memory cache, and ucache's sqlite link is not built.
  const bool sqlite = (data[0] & 1) == 0 && TWAT_CACHE_WITH_SQLITE;
  const auto make_ucache = [](logged_function f, const twat_cache::ucache_options& o) {
    return twat_cache::ucache(f, o);
  };
  if ((data[0] & 8) != 0) {  // ucache's own engine (chosen) over the same two engines
    if (sqlite) {
      run_on<twat_cache::ucache_options, engine_kind::sqlite>(make_ucache, data, size);
    } else {
      run_on<twat_cache::ucache_options, engine_kind::files>(make_ucache, data, size);
    }
  } else if (sqlite) {
    run_on<twat_cache::bcache_options, engine_kind::sqlite>(
        [](logged_function f, const twat_cache::bcache_options& o) {
          return twat_cache::bcache(f, o);
        },
        data, size);
  } else {
    run_on<twat_cache::fcache_options, engine_kind::files>(
        [](logged_function f, const twat_cache::fcache_options& o) {
          return twat_cache::fcache(f, o);
        },
        data, size);
  }
  return 0;
}
