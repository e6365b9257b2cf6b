// libFuzzer target for the memory engine. The input picks a policy, a maxsize (small, or big
// enough for batched stores), a ttl or none, single flight, the advisor and whether a second
// thread has used the cache, then a run of calls, calls that throw, invalidations, clears,
// contains() over the keys and steps of a manual clock.
// Each runs on two mcaches made alike but for thread_safe (true and false take different hit paths,
// buffers and locks), on an acache of a coroutine (its own flights, awaited with sync_wait), on
// ucache's memory engines (through its own engine, `chosen`; std_lru for lru) and,
// for lru, lfu and fifo, on an exact model of the policy (tests/reference_cache.hpp). After every
// step:
// - each call's value is right, and the function ran exactly when contains() said no entry;
// - a call that threw left no entry, and one that returned did (tinylfu may refuse it);
// - the caches agree on every lookup, invalidation and counter (rr aside: it picks at random;
//   and where batched stores evict, the caches that batch agree among themselves);
// - the model agrees on which keys live and on hits, evictions, expirations and size;
// - no live entry is older than the ttl, and the size stays within maxsize.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <thread>
#include <twat_cache/cache.hpp>
#include <vector>

#include "../reference_cache.hpp"
#include "fuzz_support.hpp"

namespace {

using twat_cache::policy;
using namespace fuzz_support;

/// A cache under test, whatever its wrapper, with what the test knows of it.
struct cache_under_test {
  const char* name = "";  // in reports
  function_log log;
  std::uint64_t lookups = 0;  // calls through the wrapper since clear()
  write_times written{};
  bool hit = false;      // of the last call
  bool dropped = false;  // what the last invalidate() said

  cache_under_test() = default;
  cache_under_test(const cache_under_test&) = delete;
  cache_under_test& operator=(const cache_under_test&) = delete;
  virtual ~cache_under_test() = default;
  virtual bool call(int key, bool throwing, std::int64_t now, policy p, std::size_t step) = 0;
  virtual bool invalidate(int key) = 0;
  [[nodiscard]] virtual bool contains(int key) const = 0;
  virtual void clear() = 0;
  [[nodiscard]] virtual twat_cache::cache_stats stats() const = 0;
};

template <class Memo>
struct cache_of final : cache_under_test {
  Memo memo;

  template <class Make>
  explicit cache_of(Make make) : memo(make(&log)) {}
  bool call(int key, bool throwing, std::int64_t now, policy p, std::size_t step) override {
    ++lookups;
    return checked_call(memo, log, written, key, throwing, p == policy::tinylfu, now, step);
  }
  bool invalidate(int key) override { return memo.invalidate(key); }
  [[nodiscard]] bool contains(int key) const override { return memo.contains(key); }
  void clear() override {
    memo.clear();
    lookups = 0;
  }
  [[nodiscard]] twat_cache::cache_stats stats() const override { return memo.stats(); }
};

/// logged_function as a coroutine, for acache: it runs when the task is awaited.
struct logged_task_function {
  function_log* log;
  twat_cache::task<int> operator()(int x) const {
    ++log->calls;
    if (log->throw_next) throw std::runtime_error("planned failure");
    co_return x * 7 + 1;
  }
};

/// An acache called from plain code: what checked_call() expects of a cache.
template <class Async>
struct sync_adapter {
  Async memo;
  int operator()(int x) const { return twat_cache::sync_wait(memo(x)); }
  [[nodiscard]] bool contains(int x) const { return memo.contains(x); }
  bool invalidate(int x) const { return memo.invalidate(x); }
  void clear() const { memo.clear(); }
  [[nodiscard]] twat_cache::cache_stats stats() const { return memo.stats(); }
};

/// Every cache's counters, and the model's, on stderr: what a report of differing counters needs.
void print_counters(const std::vector<cache_under_test*>& caches,
                    const std::optional<twat_cache_test::reference_cache>& model) {
  const auto line = [](const char* name, const twat_cache::cache_stats& s) {
    std::fprintf(
        stderr, "  %-24s hits %llu misses %llu evictions %llu expirations %llu size %llu\n", name,
        static_cast<unsigned long long>(s.hits), static_cast<unsigned long long>(s.misses),
        static_cast<unsigned long long>(s.evictions),
        static_cast<unsigned long long>(s.expirations), static_cast<unsigned long long>(s.size));
  };
  for (const cache_under_test* c : caches)
    line(c->name, c->stats());
  if (model) {
    twat_cache::cache_stats m;
    m.hits = model->hits();
    m.evictions = model->evictions();
    m.expirations = model->expirations();
    m.size = model->size();
    line("model (misses not kept)", m);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  // rr's victims drawn from the input's bytes, not from each cache's address and the time, so a
  // failing input fails again when it is replayed.
  twat_cache::detail::rr_seed_override.store(twat_cache::detail::hash_bytes(data, size) | 1);
  const auto p = static_cast<policy>(data[0] % 6);
  // Big caches: maxsize 256 to 448, where the stores of two threads wait in batches (a smaller
  // cache stores each at once) and s3fifo chooses a batch's victims before it shuts hits out;
  // a call step there calls a run of 128 keys, so that a few steps fill it and evict.
  const bool big = (data[2] & 0x30) == 0x30;  // a quarter of the inputs: each step is slower
  const std::size_t maxsize = big ? 256 + 64 * (data[1] % 4) : data[1] % 13;  // 0: unbounded
  const int keys = big ? big_key_count : key_count;
  const bool with_ttl = (data[2] & 1) != 0;
  twat_cache::manual_clock clock;
  const auto options = [&](bool thread_safe) {
    twat_cache::mcache_options o{.policy = p,
                                 .thread_safe = thread_safe,
                                 .single_flight = (data[2] & 2) != 0,
                                 .clock = clock,
                                 .advisor = (data[2] & 4) != 0 && maxsize != 0};
    if (maxsize != 0) o.maxsize = maxsize;
    if (with_ttl) o.ttl = std::chrono::nanoseconds(ttl_ns);
    return o;
  };
  const auto make_mcache = [&](bool thread_safe) {
    return [o = options(thread_safe)](function_log* log) {
      return twat_cache::mcache(logged_function{log}, o);
    };
  };
  twat_cache::acache_options async_options{.policy = p, .clock = clock};
  if (maxsize != 0) async_options.maxsize = maxsize;
  if (with_ttl) async_options.ttl = std::chrono::nanoseconds(ttl_ns);
  // ucache's memory engines, each through ucache's own engine (chosen: its hit branch, gate and
  // fence): the best one, the one on std::unordered_map, and std_lru where the policy is lru.
  const auto make_ucache = [&](const char* engine) {
    twat_cache::ucache_options o{.policy = p, .preferred_engine = engine, .clock = clock};
    if (maxsize != 0) o.maxsize = maxsize;
    if (with_ttl) o.ttl = std::chrono::nanoseconds(ttl_ns);
    return [o](function_log* log) { return twat_cache::ucache(logged_function{log}, o); };
  };
  using mcache_type = decltype(twat_cache::mcache(logged_function{nullptr}));
  using ucache_type = decltype(twat_cache::ucache(logged_function{nullptr}));
  using acache_type = sync_adapter<decltype(twat_cache::acache(logged_task_function{nullptr}))>;
  // The first is what the others are held against (but see batches_evict below).
  cache_of<mcache_type> locked(make_mcache(true));
  cache_of<mcache_type> unlocked(make_mcache(false));
  cache_of<acache_type> awaited([&async_options](function_log* log) {
    return acache_type{twat_cache::acache(logged_task_function{log}, async_options)};
  });
  cache_of<ucache_type> best(make_ucache(""));
  cache_of<ucache_type> std_map(make_ucache("std_unordered"));
  std::optional<cache_of<ucache_type>> std_lru;
  if (p == policy::lru) std_lru.emplace(make_ucache("std_lru"));
  std::vector<cache_under_test*> caches = {&locked, &unlocked, &awaited, &best, &std_map};
  if (std_lru) caches.push_back(&*std_lru);
  locked.name = "mcache, thread-safe";
  unlocked.name = "mcache, thread_safe false";
  awaited.name = "acache";
  best.name = "ucache, best memory";
  std_map.name = "ucache, std_unordered";
  if (std_lru) std_lru->name = "ucache, std_lru";
  if ((data[2] & 8) != 0) {
    // Once a second thread has used it, a thread-safe cache without a ttl, unbounded or big,
    // leaves computed values pending and stores them in batches: the calls below then go
    // through them.
    // Two threads with slots of their own: this one's first, so the other cannot reuse its id.
    for (cache_under_test* c :
         {static_cast<cache_under_test*>(&locked), static_cast<cache_under_test*>(&best)})
      static_cast<void>(c->contains(0));
    std::thread([&locked, &best] {
      static_cast<void>(locked.contains(0));
      static_cast<void>(best.contains(0));
    }).join();
  }
  // A batch evicts when it is stored. Where batches evict (a big cache without a ttl that a
  // second thread used), the caches that batch (thread-safe, through the engine's single
  // flight: mcache with single flight, and ucache) keep a victim a little longer than the
  // others, so their hits and counters part: each group is then held against its own first
  // cache, and the model against the caches that store at once.
  const bool batches_evict = (data[2] & 8) != 0 && big && !with_ttl;
  const auto batches = [&](const cache_under_test* c) {
    return batches_evict && (c == &best || (c == &locked && (data[2] & 2) != 0));
  };
  const cache_under_test* const batching_leader =
      batches(&locked) ? static_cast<cache_under_test*>(&locked) : &best;
  const cache_under_test* const storing_leader =
      batches(&locked) ? static_cast<cache_under_test*>(&unlocked) : &locked;
  const auto leader_of = [&](const cache_under_test* c) {
    return batches(c) ? batching_leader : storing_leader;
  };
  const cache_under_test& modelled = *leader_of(&unlocked);
  std::optional<twat_cache_test::reference_cache> model;
  if (twat_cache_test::reference_cache::models(p)) model.emplace(p, maxsize, with_ttl ? ttl_ns : 0);
  const bool alike = p != policy::rr;
  const auto now = [&clock] { return clock.now().time_since_epoch().count(); };

  for (std::size_t i = 3; i + 1 < size; i += 2) {
    const std::size_t step = (i - 3) / 2;
    const unsigned op = data[i] % 16;
    const int key = big ? data[i + 1] * 8 % big_key_count : data[i + 1] % key_count;
    if (op <= 9 || (op == 15 && key >= 4)) {
      for (int run = 0; run < (big ? 128 : 1); ++run) {
        const int k = (key + run) % keys;
        const bool throwing = op == 9 && run == 0;
        for (cache_under_test* c : caches)
          c->hit = c->call(k, throwing, now(), p, step);
        for (const cache_under_test* c : caches) {
          if (alike && c->hit != leader_of(c)->hit) fail("the caches disagreed on a hit", step, k);
        }
        const bool hit = modelled.hit;
        if (model) {
          if (model->live(k, now()) != hit) fail("a hit or miss the model disagreed with", step, k);
          if (hit) {
            model->read(k, now());
          } else if (!throwing) {
            model->insert(k, now());
          }
        }
      }
    } else if (op <= 11) {
      for (cache_under_test* c : caches)
        c->dropped = c->invalidate(key);
      for (const cache_under_test* c : caches) {
        if (alike && c->dropped != leader_of(c)->dropped)
          fail("invalidate() disagreed between the caches", step, key);
        if (c->contains(key)) fail("an entry survived invalidate()", step, key);
      }
      const bool dropped = modelled.dropped;
      if (model && model->erase(key, now()) != dropped) fail("invalidate() said wrong", step, key);
    } else if (op == 12) {
      // Every key of a small cache; 32 from `key` in a big one.
      for (int n = 0; n < (big ? 32 : key_count); ++n) {
        const int k = ((big ? key : 0) + n) % keys;
        for (const cache_under_test* c : caches) {
          if (alike && c->contains(k) != leader_of(c)->contains(k))
            fail("the caches hold different keys", step, k);
          if (with_ttl) check_ttl(*c, c->written, k, now(), step);
        }
        if (model && model->live(k, now()) != modelled.contains(k))
          fail("the model holds other keys", step, k);
      }
    } else if (op <= 14) {
      if (with_ttl) clock.advance(std::chrono::nanoseconds((key + 1) * (ttl_ns / 16)));
    } else {
      for (cache_under_test* c : caches)
        c->clear();
      if (model) model->clear();
      for (const cache_under_test* c : caches) {
        if (c->stats().size != 0) fail("clear() left entries", step, key);
      }
    }

    for (const cache_under_test* c : caches) {
      const twat_cache::cache_stats s = c->stats();
      const twat_cache::cache_stats first = leader_of(c)->stats();
      if (maxsize != 0 && s.size > maxsize) fail("more entries than maxsize", step, key);
      if (s.hits + s.misses != c->lookups)
        fail("hits and misses do not add up to the calls", step, key);
      if (alike &&
          (s.hits != first.hits || s.misses != first.misses || s.evictions != first.evictions ||
           s.expirations != first.expirations || s.size != first.size)) {
        print_counters(caches, model);
        fail("the caches' counters differ", step, key);
      }
    }
    const twat_cache::cache_stats first = modelled.stats();
    if (model && (first.hits != model->hits() || first.evictions != model->evictions() ||
                  first.expirations != model->expirations() || first.size != model->size())) {
      print_counters(caches, model);
      fail("the counters differ from the model's", step, key);
    }
  }
  return 0;
}
