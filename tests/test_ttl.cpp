// ttl: entries expire a fixed time after their write. A manual clock keeps the tests instant.
#include <catch2/catch.hpp>

#include <twat_cache/cache.hpp>

#include "policy_list.hpp"

using namespace std::chrono_literals;

TEST_CASE("an entry expires ttl after its write, for every policy") {
  const auto p = GENERATE(test_support::every_policy());
  const bool thread_safe = GENERATE(true, false);
  CAPTURE(twat_cache::policy_name(p), thread_safe);
  twat_cache::manual_clock clock;
  int calls = 0;
  auto f = twat_cache::mcache(
      [&calls](int x) {
        ++calls;
        return x * 10 + calls;
      },
      {.ttl = 30s, .policy = p, .thread_safe = thread_safe, .clock = clock});
  CHECK(f(1) == 11);
  clock.advance(29s);
  CHECK(f(1) == 11);  // still fresh
  CHECK(calls == 1);
  clock.advance(1s);
  CHECK_FALSE(f.contains(1));
  CHECK(f(1) == 12);  // expired at exactly ttl: recomputed
  CHECK(calls == 2);
  clock.advance(10s);
  CHECK(f(1) == 12);  // the new value lives 30 s from its own write
  const auto s = f.stats();
  CHECK(s.hits == 2);
  CHECK(s.misses == 2);
}

TEST_CASE("expired entries are purged on the next write, before any live entry is evicted") {
  twat_cache::manual_clock clock;
  auto f = twat_cache::mcache([](int x) { return x; }, {.maxsize = 3, .ttl = 10s, .clock = clock});
  f(1);
  f(2);
  clock.advance(5s);
  f(3);
  clock.advance(6s);  // 1 and 2 are expired, 3 is not
  f(4);
  const auto s = f.stats();
  CHECK(s.expirations == 2);
  CHECK(s.evictions == 0);
  CHECK(s.size == 2);
  CHECK(f.contains(3));
  CHECK(f.contains(4));
}

TEST_CASE("invalidate() of an expired entry drops it and says there was none, as contains()") {
  const auto p = GENERATE(test_support::every_policy());
  const bool thread_safe = GENERATE(true, false);
  CAPTURE(twat_cache::policy_name(p), thread_safe);
  twat_cache::manual_clock clock;
  auto f = twat_cache::mcache(
      [](int x) { return x; },
      {.maxsize = 8, .ttl = 10s, .policy = p, .thread_safe = thread_safe, .clock = clock});
  f(1);
  f(2);
  clock.advance(10s);
  f(3);  // a write purges 1 and 2 as it goes
  f(4);
  clock.advance(5s);
  CHECK(f.invalidate(4));  // live
  clock.advance(5s);       // 3 expires, not yet purged: nothing written since
  CHECK(f.stats().size == 1);
  CHECK_FALSE(f.contains(3));
  CHECK_FALSE(f.invalidate(3));
  CHECK(f.stats().size == 0);  // dropped all the same
  CHECK_FALSE(f.invalidate(3));
}

TEST_CASE("the std_lru engine honours ttl too") {
  twat_cache::manual_clock clock;
  int calls = 0;
  auto f = twat_cache::memoize<twat_cache::engines::std_lru>(
      [&calls](int x) {
        ++calls;
        return x;
      },
      twat_cache::mcache_options{.ttl = 1s, .clock = clock});
  f(1);
  f(1);
  CHECK(calls == 1);
  clock.advance(2s);
  f(1);
  CHECK(calls == 2);
  CHECK(f.stats().expirations == 1);
  CHECK(f.stats().size == 1);  // the expired entry was replaced, not kept beside the new one
}

TEST_CASE("std_lru: an expired entry is counted as expired, not evicted, and frees its place") {
  twat_cache::manual_clock clock;
  auto f = twat_cache::memoize<twat_cache::engines::std_lru>(
      [](int x) { return x; }, twat_cache::mcache_options{.maxsize = 2, .ttl = 1s, .clock = clock});
  f(1);
  clock.advance(2s);
  f(2);  // 1 has expired: this write drops it
  f(3);
  const auto s = f.stats();
  CHECK(s.expirations == 1);
  CHECK(s.evictions == 0);
  CHECK(s.size == 2);
  CHECK(f.contains(2));
  CHECK(f.contains(3));
}

TEST_CASE("std_lru: a store drops every expired entry before it evicts a live one") {
  twat_cache::manual_clock clock;
  auto f = twat_cache::memoize<twat_cache::engines::std_lru>(
      [](int x) { return x; },
      twat_cache::mcache_options{.maxsize = 2, .ttl = 10s, .clock = clock});
  f(1);
  clock.advance(5s);
  f(2);
  f(1);               // a hit: 2 is now the least recently used entry
  clock.advance(6s);  // 1 (written at 0 s) has expired, 2 (at 5 s) has not
  f(3);
  const auto s = f.stats();
  CHECK(s.expirations == 1);
  CHECK(s.evictions == 0);
  CHECK(f.contains(2));
  CHECK(f.contains(3));
  CHECK_FALSE(f.contains(1));
}

TEST_CASE("std_lru: a rewritten entry expires ttl after its last write") {
  twat_cache::manual_clock clock;
  twat_cache::engines::std_lru<int, int> e({.maxsize = 2, .ttl = 10s, .clock = clock});
  e.put(1, 10);
  clock.advance(5s);
  e.put(2, 20);
  clock.advance(1s);
  e.put(1, 11);       // written again at 6 s: expires at 16 s, after 2 (15 s)
  clock.advance(9s);  // 15 s: 2 has expired, 1 has not
  e.put(3, 30);
  const auto s = e.stats();
  CHECK(s.expirations == 1);
  CHECK(s.evictions == 0);
  CHECK(e.get(1) == 11);
  CHECK_FALSE(e.get(2).has_value());
  CHECK(e.get(3) == 30);
}

TEST_CASE("std_lru: invalidate() of an expired entry says there was none") {
  twat_cache::manual_clock clock;
  auto f = twat_cache::memoize<twat_cache::engines::std_lru>(
      [](int x) { return x; }, twat_cache::mcache_options{.ttl = 1s, .clock = clock});
  f(1);
  f(2);
  CHECK(f.invalidate(1));
  clock.advance(1s);
  CHECK_FALSE(f.contains(2));
  CHECK_FALSE(f.invalidate(2));
  CHECK(f.stats().size == 0);
}

TEST_CASE("without a manual clock, ttl runs on steady_clock") {
  auto f = twat_cache::mcache([](int x) { return x; }, {.ttl = 1h});
  f(1);
  CHECK(f.contains(1));
}
