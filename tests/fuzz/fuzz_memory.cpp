// libFuzzer target for the memory engine. The input picks a policy, a maxsize, a ttl or none,
// single flight, the advisor and whether a second thread has used the cache, then a run of calls,
// calls that throw, invalidations, clears, contains() over every key and steps of a manual clock.
// Each runs on two mcaches made alike but for thread_safe (true and false take different hit paths,
// buffers and locks) and, for lru, lfu and fifo, on an exact model of the policy
// (tests/reference_cache.hpp). After every step:
// - each call's value is right, and the function ran exactly when contains() said no entry;
// - a call that threw left no entry, and one that returned did (tinylfu may refuse it);
// - the two caches agree on every lookup, invalidation and counter (rr aside: it picks at random);
// - the model agrees on which keys live and on hits, evictions, expirations and size;
// - no live entry is older than the ttl, and the size stays within maxsize.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <thread>
#include <twat_cache/cache.hpp>

#include "../reference_cache.hpp"
#include "fuzz_support.hpp"

namespace {

using twat_cache::policy;
using namespace fuzz_support;

using memo_type = decltype(twat_cache::mcache(logged_function{nullptr}));

/// One cache under test with what the test knows of it.
struct subject {
  function_log log;
  memo_type memo;
  std::uint64_t lookups = 0;  // calls through the wrapper since clear()
  write_times written{};

  explicit subject(const twat_cache::mcache_options& options)
      : memo(twat_cache::mcache(logged_function{&log}, options)) {}

  bool call(int key, bool throwing, std::int64_t now, policy p, std::size_t step) {
    ++lookups;
    return checked_call(memo, log, written, key, throwing, p == policy::tinylfu, now, step);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const auto p = static_cast<policy>(data[0] % 6);
  const std::size_t maxsize = data[1] % 13;  // 0: unbounded
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
  subject locked(options(true));
  subject unlocked(options(false));
  if ((data[2] & 8) != 0) {
    // Once a second thread has used it, an unbounded thread-safe cache without a ttl leaves
    // computed values pending and stores them in batches: the calls below then go through them.
    // Two threads with slots of their own: this one's first, so the other cannot reuse its id.
    static_cast<void>(locked.memo.contains(0));
    std::thread([&locked] { static_cast<void>(locked.memo.contains(0)); }).join();
  }
  std::optional<twat_cache_test::reference_cache> model;
  if (twat_cache_test::reference_cache::models(p)) model.emplace(p, maxsize, with_ttl ? ttl_ns : 0);
  const bool alike = p != policy::rr;
  const auto now = [&clock] { return clock.now().time_since_epoch().count(); };

  for (std::size_t i = 3; i + 1 < size; i += 2) {
    const std::size_t step = (i - 3) / 2;
    const unsigned op = data[i] % 16;
    const int key = data[i + 1] % key_count;
    if (op <= 9 || (op == 15 && key >= 4)) {
      const bool throwing = op == 9;
      const bool hit = locked.call(key, throwing, now(), p, step);
      if (unlocked.call(key, throwing, now(), p, step) != hit && alike)
        fail("the caches with and without a lock disagreed on a hit", step, key);
      if (model) {
        if (model->live(key, now()) != hit)
          fail("a hit or miss the model disagreed with", step, key);
        if (hit) {
          model->read(key, now());
        } else if (!throwing) {
          model->insert(key, now());
        }
      }
    } else if (op <= 11) {
      const bool dropped = locked.memo.invalidate(key);
      if (unlocked.memo.invalidate(key) != dropped && alike)
        fail("invalidate() disagreed between the caches", step, key);
      if (model && model->erase(key, now()) != dropped) fail("invalidate() said wrong", step, key);
      if (locked.memo.contains(key) || unlocked.memo.contains(key))
        fail("an entry survived invalidate()", step, key);
    } else if (op == 12) {
      for (int k = 0; k < key_count; ++k) {
        const bool live = locked.memo.contains(k);
        if (alike && unlocked.memo.contains(k) != live)
          fail("the caches hold different keys", step, k);
        if (model && model->live(k, now()) != live) fail("the model holds other keys", step, k);
        if (with_ttl) {
          check_ttl(locked.memo, locked.written, k, now(), step);
          check_ttl(unlocked.memo, unlocked.written, k, now(), step);
        }
      }
    } else if (op <= 14) {
      if (with_ttl) clock.advance(std::chrono::nanoseconds((key + 1) * (ttl_ns / 16)));
    } else {
      locked.memo.clear();
      unlocked.memo.clear();
      locked.lookups = unlocked.lookups = 0;
      if (model) model->clear();
      if (locked.memo.stats().size != 0 || unlocked.memo.stats().size != 0)
        fail("clear() left entries", step, key);
    }

    const twat_cache::cache_stats a = locked.memo.stats();
    const twat_cache::cache_stats b = unlocked.memo.stats();
    for (const auto* s : {&a, &b}) {
      if (maxsize != 0 && s->size > maxsize) fail("more entries than maxsize", step, key);
    }
    if (a.hits + a.misses != locked.lookups || b.hits + b.misses != unlocked.lookups)
      fail("hits and misses do not add up to the calls", step, key);
    if (alike && (a.hits != b.hits || a.misses != b.misses || a.evictions != b.evictions ||
                  a.expirations != b.expirations || a.size != b.size))
      fail("the caches' counters differ", step, key);
    if (model && (a.hits != model->hits() || a.evictions != model->evictions() ||
                  a.expirations != model->expirations() || a.size != model->size()))
      fail("the counters differ from the model's", step, key);
  }
  return 0;
}
