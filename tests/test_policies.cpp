// Eviction order of each policy, on both hash indices, with and without thread safety.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <twat_cache/cache.hpp>
#include <twat_cache/detail/ghost_set.hpp>
#include <utility>
#include <vector>

#include "reference_cache.hpp"

namespace {

using twat_cache::policy;
using twat_cache::engines::index_kind;

template <index_kind Index, bool ThreadSafe>
struct config {
  static constexpr index_kind index = Index;
  static constexpr bool thread_safe = ThreadSafe;
};

template <class Config>
using engine_for = twat_cache::engines::basic_memory<int, int, Config::index>;

template <class Config>
engine_for<Config> make(std::size_t maxsize, policy p) {
  return engine_for<Config>({.maxsize = maxsize, .policy = p, .thread_safe = Config::thread_safe});
}

template <class Engine>
std::set<int> live_keys(Engine& e, int up_to) {
  std::set<int> keys;
  for (int k = 0; k <= up_to; ++k) {
    if (e.contains(k)) keys.insert(k);
  }
  return keys;
}

/// An mcache of 16 entries of x -> x * 7 that counts its calls in `calls`.
auto counted_times_seven(int& calls, policy p, bool thread_safe) {
  return twat_cache::mcache(
      [&calls](int x) {
        ++calls;
        return x * 7;
      },
      {.maxsize = 16, .policy = p, .thread_safe = thread_safe});
}

}  // namespace

#if TWAT_CACHE_WITH_BOOST
#define INDEX_CONFIGS                                                                    \
  (config<index_kind::std_unordered, true>), (config<index_kind::std_unordered, false>), \
      (config<index_kind::boost_unordered, true>), (config<index_kind::boost_unordered, false>)
#else
#define INDEX_CONFIGS \
  (config<index_kind::std_unordered, true>), (config<index_kind::std_unordered, false>)
#endif

TEMPLATE_TEST_CASE("lru evicts the least recently used", "[policy]", INDEX_CONFIGS) {
  auto e = make<TestType>(3, policy::lru);
  e.put(1, 10);
  e.put(2, 20);
  e.put(3, 30);
  CHECK(e.get(1) == 10);  // order now 2, 3, 1
  e.put(4, 40);           // evicts 2
  CHECK(live_keys(e, 9) == std::set<int>{1, 3, 4});
  CHECK(e.get(3) == 30);  // order 1, 4, 3
  e.put(5, 50);           // evicts 1
  CHECK(live_keys(e, 9) == std::set<int>{3, 4, 5});
  CHECK(e.stats().evictions == 2);
  CHECK(e.stats().size == 3);
}

TEMPLATE_TEST_CASE("lfu evicts the least frequently used, ties by least recent", "[policy]",
                   INDEX_CONFIGS) {
  auto e = make<TestType>(3, policy::lfu);
  e.put(1, 10);
  e.put(2, 20);
  e.put(3, 30);
  for (int i = 0; i < 3; ++i)
    CHECK(e.get(1) == 10);
  CHECK(e.get(3) == 30);
  e.put(4, 40);  // frequencies 1:4, 2:1, 3:2 -> evicts 2
  CHECK(live_keys(e, 9) == std::set<int>{1, 3, 4});
  e.put(5, 50);  // 4 and 5... 4 has frequency 1, the only one -> evicts 4
  CHECK(live_keys(e, 9) == std::set<int>{1, 3, 5});
  CHECK(e.get(5) == 50);  // 5 and 3 now both at 2; 3 got there first
  e.put(6, 60);           // evicts 3
  CHECK(live_keys(e, 9) == std::set<int>{1, 5, 6});
}

TEMPLATE_TEST_CASE("lfu: a key alone at its count climbs, and joins the next count behind its keys",
                   "[policy]", INDEX_CONFIGS) {
  auto e = make<TestType>(2, policy::lfu);
  e.put(1, 10);
  e.put(2, 20);
  CHECK(e.get(1) == 10);  // 1 at count 2, alone
  CHECK(e.get(1) == 10);  // 1 at count 3, alone, none at 4
  CHECK(e.get(2) == 20);  // 2 at count 2, alone: 1 is at 3
  CHECK(e.get(2) == 20);  // 2 at count 3, after 1
  e.put(3, 30);           // room for 3: both at count 3, and 1 got there first, so 1 goes
  CHECK(live_keys(e, 9) == std::set<int>{2, 3});
}

TEMPLATE_TEST_CASE("fifo evicts the oldest write, whatever was read", "[policy]", INDEX_CONFIGS) {
  auto e = make<TestType>(3, policy::fifo);
  e.put(1, 10);
  e.put(2, 20);
  e.put(3, 30);
  for (int i = 0; i < 5; ++i)
    CHECK(e.get(1) == 10);
  e.put(4, 40);  // evicts 1 all the same
  CHECK(live_keys(e, 9) == std::set<int>{2, 3, 4});
  e.put(5, 50);
  CHECK(live_keys(e, 9) == std::set<int>{3, 4, 5});
}

TEMPLATE_TEST_CASE("rr evicts one entry at random and keeps the size bound", "[policy]",
                   INDEX_CONFIGS) {
  auto e = make<TestType>(8, policy::rr);
  std::set<int> evicted_oldest_first;
  int evictions_of_oldest = 0;
  for (int k = 0; k < 2000; ++k) {
    const auto before = live_keys(e, k);
    e.put(k, k);
    const auto after = live_keys(e, k);
    CHECK(after.size() == std::min<std::size_t>(8, static_cast<std::size_t>(k) + 1));
    CHECK(after.count(k) == 1);  // the new entry is never the victim
    if (before.size() == 8) {
      std::set<int> gone;
      for (int b : before) {
        if (after.count(b) == 0) gone.insert(b);
      }
      REQUIRE(gone.size() == 1);
      if (*gone.begin() == *before.begin()) ++evictions_of_oldest;
    }
  }
  // Uniform over 8 entries: the oldest goes about 1/8 of the time, not always (fifo), not never.
  CHECK(evictions_of_oldest > 100);
  CHECK(evictions_of_oldest < 500);
}

TEMPLATE_TEST_CASE("rr draws differently per cache, and alike under a fixed seed (fuzz replays)",
                   "[policy]", INDEX_CONFIGS) {
  const auto kept_after_run = [] {
    auto e = make<TestType>(8, policy::rr);
    for (int k = 0; k < 100; ++k)
      e.put(k, k);
    return live_keys(e, 100);
  };
  // Without a seed, two caches made alike keep different keys (equal by chance: C(100,8)^-1).
  CHECK(kept_after_run() != kept_after_run());
  struct reset {
    ~reset() { twat_cache::detail::rr_seed_override.store(0); }
  } const restore;
  twat_cache::detail::rr_seed_override.store(0x9e3779b97f4a7c15ULL);
  const auto first = kept_after_run();
  CHECK(first.size() == 8);
  CHECK(kept_after_run() == first);
}

TEMPLATE_TEST_CASE("the lru policy engine agrees with the plain std_lru on random workloads",
                   "[policy]", INDEX_CONFIGS) {
  auto e = make<TestType>(16, policy::lru);
  twat_cache::engines::std_lru<int, int> reference({.maxsize = 16});
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> key(0, 40);
  std::uniform_int_distribution<int> op(0, 9);
  for (int step = 0; step < 20000; ++step) {
    const int k = key(rng);
    const int o = op(rng);
    if (o < 6) {
      const auto got = e.get(k);
      REQUIRE(got == reference.get(k));
      if (!got) {
        e.put(k, k * 7);
        reference.put(k, k * 7);
      }
    } else if (o < 9) {
      REQUIRE(e.erase(k) == reference.erase(k));
    } else {
      e.put(k, k * 7);
      reference.put(k, k * 7);
    }
  }
  CHECK(live_keys(e, 40) == live_keys(reference, 40));
  CHECK(e.stats().hits == reference.stats().hits);
  CHECK(e.stats().evictions == reference.stats().evictions);
}

TEST_CASE("access records buffered by many hits still decide the lru victim") {
  auto f = twat_cache::mcache([](int x) { return x; }, {.maxsize = 100, .policy = policy::lru});
  for (int k = 0; k < 100; ++k)
    f(k);
  // Touch every key except 0 many times, far beyond one access buffer.
  for (int round = 0; round < 5; ++round) {
    for (int k = 1; k < 100; ++k)
      f(k);
  }
  f(1000);
  CHECK_FALSE(f.contains(0));
  for (int k = 1; k < 100; ++k)
    CHECK(f.contains(k));
}

TEST_CASE("lru through mcache agrees with std_lru, thread-safe or not, over many access buffers") {
  // Through the wrapper's hit path: records buffered and drained (thread-safe) or relinked at
  // once (not), every decision of the victim the same as the plain list's.
  for (const bool thread_safe : {true, false}) {
    CAPTURE(thread_safe);
    int calls = 0;
    auto f = counted_times_seven(calls, policy::lru, thread_safe);
    twat_cache::engines::std_lru<int, int> reference({.maxsize = 16});
    std::mt19937 rng(777);
    std::uniform_int_distribution<int> key(0, 24);
    int expected_calls = 0;
    for (int step = 0; step < 20000; ++step) {
      const int k = key(rng);
      if (!reference.get(k)) {
        reference.put(k, k * 7);
        ++expected_calls;
      }
      REQUIRE(f(k) == k * 7);
      REQUIRE(calls == expected_calls);
    }
    CHECK(live_keys(f, 24) == live_keys(reference, 24));
    CHECK(f.stats().hits == reference.stats().hits);
  }
}

TEST_CASE("lfu through mcache agrees with an exact lfu, thread-safe or not, over many buffers") {
  // Reads are recorded and applied in batches with or without a lock; a batch is applied
  // before each eviction, so every victim must be exact lfu's: least count, ties by the read or
  // write that brought the key to its count longest ago.
  for (const bool thread_safe : {true, false}) {
    CAPTURE(thread_safe);
    int calls = 0;
    auto f = counted_times_seven(calls, policy::lfu, thread_safe);
    twat_cache_test::reference_cache reference(policy::lfu, 16);
    std::mt19937 rng(4242);
    // Skewed keys, so counts differ and decide; a miss about every 300 calls, so buffers of
    // reads fill between two writes.
    std::geometric_distribution<int> key(0.3);
    int expected_calls = 0;
    for (int step = 0; step < 60000; ++step) {
      const int k = std::min(key(rng), 60);
      if (!reference.read(k)) {
        reference.insert(k);
        ++expected_calls;
      }
      REQUIRE(f(k) == k * 7);
      REQUIRE(calls == expected_calls);
    }
    CHECK(live_keys(f, 60) == reference.live_keys());
  }
}

TEST_CASE("tinylfu decides the same with and without a lock, over many access buffers") {
  // One thread, one key stream: the thread-safe engine applies its reads in batches, and so does
  // the one without a lock; both apply them before each write, so every admission duel and
  // victim must be the same.
  const auto run = [](bool thread_safe) {
    std::vector<int> calls_at;
    int calls = 0;
    auto f = twat_cache::mcache(
        [&calls](int x) {
          ++calls;
          return x + 1;
        },
        {.maxsize = 64, .policy = policy::tinylfu, .thread_safe = thread_safe});
    std::mt19937 rng(99);
    // A miss about every 300 calls, so buffers of reads fill between two writes.
    std::geometric_distribution<int> hot(0.1);
    std::uniform_int_distribution<int> cold(1000, 100000);
    std::uniform_int_distribution<int> pick(0, 399);
    for (int step = 0; step < 60000; ++step) {
      const int k = pick(rng) == 0 ? cold(rng) : hot(rng);
      REQUIRE(f(k) == k + 1);
      if (step % 97 == 0) calls_at.push_back(calls);
    }
    calls_at.push_back(static_cast<int>(f.stats().evictions));
    for (int k = 0; k < 400; ++k) {
      if (f.contains(k)) calls_at.push_back(k);
    }
    return calls_at;
  };
  const std::vector<int> locked = run(true);
  const std::vector<int> unlocked = run(false);
  REQUIRE(locked.size() == unlocked.size());
  CHECK(locked == unlocked);
}

TEST_CASE("an unbounded cache never evicts") {
  auto f = twat_cache::mcache([](int x) { return x; });
  for (int k = 0; k < 50000; ++k)
    f(k);
  CHECK(f.stats().size == 50000);
  CHECK(f.stats().evictions == 0);
  for (int k = 0; k < 50000; k += 997)
    CHECK(f.contains(k));
}

TEST_CASE("the std_lru engine evicts in lru order and rejects other policies") {
  auto f = twat_cache::memoize<twat_cache::engines::std_lru>(
      [](int x) { return x; }, twat_cache::mcache_options{.maxsize = 2});
  f(1);
  f(2);
  f(1);
  f(3);
  CHECK(f.contains(1));
  CHECK_FALSE(f.contains(2));
  CHECK_THROWS_AS((twat_cache::engines::std_lru<int, int>({.policy = policy::lfu})),
                  twat_cache::config_error);
}

TEMPLATE_TEST_CASE("long churn at a fixed size keeps every entry intact (rehash with tombstones)",
                   "[policy]", INDEX_CONFIGS) {
  const auto p =
      GENERATE(policy::lru, policy::lfu, policy::fifo, policy::rr, policy::s3fifo, policy::tinylfu);
  CAPTURE(twat_cache::policy_name(p));
  auto e = make<TestType>(1000, p);
  // Each insert evicts one entry: the hash map fills with tombstones and rehashes in place,
  // which moves every element; the engine must follow them.
  for (int k = 0; k < 100000; ++k) {
    e.put(k, k * 3);
    if (k % 97 == 0) {
      for (int back = std::max(0, k - 50); back <= k; ++back) {
        const auto v = e.get(back);
        if (v) REQUIRE(*v == back * 3);
      }
    }
  }
  const auto s = e.stats();
  CHECK(s.size == 1000);
  CHECK(s.evictions == 99000);
  int live = 0;
  for (int k = 0; k < 100000; ++k) {
    if (const auto v = e.get(k)) {
      REQUIRE(*v == k * 3);
      ++live;
    }
  }
  CHECK(live == 1000);
}

// ---- s3fifo and tinylfu: their defining behaviours -----------------------------------------

TEMPLATE_TEST_CASE("s3fifo: a one-off scan does not flush the frequent keys", "[policy]",
                   INDEX_CONFIGS) {
  auto e = make<TestType>(100, policy::s3fifo);
  for (int k = 0; k < 50; ++k)
    e.put(k, k);
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 50; ++k)
      REQUIRE(e.get(k) == k);
  }
  for (int k = 1000; k < 11000; ++k) {  // each key once, 100 times the cache
    if (!e.get(k)) e.put(k, k);
  }
  CHECK(live_keys(e, 49).size() == 50);
  CHECK(e.stats().size == 100);

  // The same workload flushes lru completely: the scan is what s3fifo is built for.
  auto lru = make<TestType>(100, policy::lru);
  for (int k = 0; k < 50; ++k)
    lru.put(k, k);
  for (int k = 0; k < 50; ++k)
    REQUIRE(lru.get(k) == k);
  for (int k = 1000; k < 11000; ++k)
    lru.put(k, k);
  CHECK(live_keys(lru, 49).empty());
}

TEMPLATE_TEST_CASE("s3fifo: a key back soon after its eviction is remembered by the ghost",
                   "[policy]", INDEX_CONFIGS) {
  auto e = make<TestType>(20, policy::s3fifo);
  e.put(1, 1);
  int next = 100;
  while (e.contains(1))  // never read: it leaves the small queue, into the ghost
    e.put(next++, 0);
  REQUIRE(next < 200);
  e.put(1, 1);  // a ghost: straight to main
  e.put(2, 2);  // new: small
  for (int k = 1000; k < 1100; ++k)
    e.put(k, k);
  CHECK(e.contains(1));
  CHECK_FALSE(e.contains(2));
}

TEMPLATE_TEST_CASE("s3fifo: the ghost remembers the keys evicted lately, not those of long ago",
                   "[policy]", INDEX_CONFIGS) {
  // 100 keys leave the small queue unread, into the ghost. Back soon, they go to main, where a
  // stream of fresh keys never reaches them. Back after twice the ghost's capacity of other
  // evictions, they are strangers again: small, and gone with the stream.
  constexpr int maxsize = 10'000;
  constexpr int ghost_capacity = maxsize - maxsize / 10;
  for (const int evictions_between : {0, 2 * ghost_capacity}) {
    CAPTURE(evictions_between);
    auto e = make<TestType>(maxsize, policy::s3fifo);
    int fresh = 100'000;
    for (int k = 0; k < 100; ++k)
      e.put(k, k);
    for (int n = 0; n < maxsize + evictions_between; ++n)  // fills the cache, then evicts 0..99
      e.put(fresh++, 0);
    REQUIRE(live_keys(e, 99).empty());
    for (int k = 0; k < 100; ++k)
      e.put(k, k);
    for (int n = 0; n < 2 * maxsize; ++n)
      e.put(fresh++, 0);
    const auto kept = live_keys(e, 99).size();
    if (evictions_between == 0) {
      CHECK(kept >= 95);  // a full bucket of the ghost may forget a few early
    } else {
      CHECK(kept == 0);
    }
  }
}

#if defined(__SSE2__)
TEST_CASE("s3fifo's ghost: the SSE2 and portable scans of a bucket agree", "[policy]") {
  // Buckets are made of a few fingerprints and stamps, so that matches, empty slots, dead
  // ghosts, equal ages and stamps across the 16-bit wrap all occur often.
  using ghost = twat_cache::detail::ghost_set;
  std::mt19937 random(12345);
  const std::uint32_t fingerprints[] = {1, 2, 0xFFFF};
  const std::uint16_t stamps[] = {0, 1, 2, 255, 256, 257, 0x8000, 0xFFFE, 0xFFFF};
  auto pick = [&random](const auto& from) { return from[random() % std::size(from)]; };
  for (int round = 0; round < 200'000; ++round) {
    std::uint32_t bucket[ghost::slots_per_bucket];
    for (auto& slot : bucket)
      slot = random() % 5 == 0 ? 0 : (pick(fingerprints) << 16) | pick(stamps);
    const std::uint32_t fp = pick(fingerprints);
    const std::uint16_t now = pick(stamps);
    INFO("bucket " << bucket[0] << " " << bucket[1] << " " << bucket[2] << " " << bucket[3]
                   << ", fingerprint " << fp << ", now " << now);
    REQUIRE(ghost::slot_to_replace(bucket, fp, now) ==
            ghost::slot_to_replace_portable(bucket, fp, now));
    REQUIRE(ghost::live_matches(bucket, fp, now) == ghost::live_matches_portable(bucket, fp, now));
  }
}
#endif

TEMPLATE_TEST_CASE("s3fifo: main keeps what is read and lets go of what is not", "[policy]",
                   INDEX_CONFIGS) {
  auto e = make<TestType>(10, policy::s3fifo);
  for (int k = 0; k < 10; ++k) {
    e.put(k, k);
    REQUIRE(e.get(k) == k);  // read once: each moves to main when it leaves small
  }
  for (int k = 10; k < 20; ++k)
    e.put(k, k);
  // Reads since: only 3 and 7. Fresh keys churn in small; main keeps the ones read again.
  for (int round = 0; round < 5; ++round) {
    REQUIRE(e.get(3) == 3);
    REQUIRE(e.get(7) == 7);
    for (int k = 100 + round * 20; k < 120 + round * 20; ++k)
      e.put(k, k);
  }
  CHECK(e.contains(3));
  CHECK(e.contains(7));
  CHECK(e.stats().size == 10);
}

TEMPLATE_TEST_CASE("tinylfu: admission refuses a cold newcomer over a hot victim", "[policy]",
                   INDEX_CONFIGS) {
  auto e = make<TestType>(100, policy::tinylfu);
  for (int k = 0; k < 100; ++k)
    e.put(k, k);
  for (int round = 0; round < 5; ++round) {
    for (int k = 0; k < 100; ++k)
      REQUIRE(e.get(k) == k);
  }
  for (int k = 1000; k < 1300; ++k) {  // cold: each asked for once
    if (!e.get(k)) e.put(k, k);
  }
  // Every newcomer passes through the one-entry window and loses its duel: the victim is always
  // the newcomer or the one before it, so at most one hot key made room for the window.
  CHECK(live_keys(e, 99).size() >= 99);
  CHECK(e.stats().size == 100);
  CHECK(e.stats().evictions == 300);
}

TEMPLATE_TEST_CASE("tinylfu: a sketch grown with the entries still refuses cold newcomers",
                   "[policy]", INDEX_CONFIGS) {
  // The sketch starts at 1,024 columns and doubles as entries pass its width, to 8,192 here.
  auto e = make<TestType>(5'000, policy::tinylfu);
  for (int k = 0; k < 5'000; ++k)
    e.put(k, k);
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 5'000; ++k)
      REQUIRE(e.get(k) == k);
  }
  for (int k = 100'000; k < 103'000; ++k) {  // cold: each asked for once
    if (!e.get(k)) e.put(k, k);
  }
  // The window's 50 hot keys leave (a tie keeps the incumbent), and a few more to cold keys whose
  // four counters all share columns with hot keys (a count-min sketch overestimates): 53 on
  // average over 40 ranges of keys, 68 at most.
  CHECK(live_keys(e, 4'999).size() >= 4'900);
  CHECK(e.stats().evictions == 3'000);
  // And the grown sketch still counts: a newcomer missed again and again (as a memoized function
  // sees it) outgrows the hot keys' counts and wins its duel.
  for (int round = 0; round < 10; ++round) {
    if (!e.get(200'000)) e.put(200'000, 1);
    for (int k = 0; k < 50; ++k)  // the window's size: pushes it out, to its duel
      e.put(300'000 + round * 50 + k, k);
  }
  CHECK(e.contains(200'000));
}

TEMPLATE_TEST_CASE("tinylfu: a newcomer asked for more often than the victim is admitted",
                   "[policy]", INDEX_CONFIGS) {
  auto e = make<TestType>(100, policy::tinylfu);
  for (int k = 0; k < 100; ++k)
    e.put(k, k);
  for (int k = 0; k < 100; ++k)
    REQUIRE(e.get(k) == k);  // every incumbent asked for twice
  // 5000 misses of one key (as a memoized function sees them): its frequency climbs.
  for (int round = 0; round < 5; ++round) {
    if (!e.get(5000)) e.put(5000, 5000);
    for (int k = 6000 + round * 10; k < 6010 + round * 10; ++k)
      e.put(k, k);  // pushes 5000 out of the window: it must win its duel
  }
  CHECK(e.contains(5000));
}

TEST_CASE("s3fifo and tinylfu through mcache: hot keys stay hits while a long scan passes") {
  const auto p = GENERATE(policy::s3fifo, policy::tinylfu, policy::lru);
  CAPTURE(twat_cache::policy_name(p));
  int hot_calls = 0;
  auto f = twat_cache::mcache(
      [&hot_calls](int x) {
        if (x < 100) ++hot_calls;
        return x * 2;
      },
      {.maxsize = 200, .policy = p});
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 100; ++k)
      REQUIRE(f(k) == k * 2);
  }
  REQUIRE(hot_calls == 100);
  hot_calls = 0;
  // 50 rounds: 300 keys never seen again, then the 100 hot ones; the scan is 75x the cache.
  for (int round = 0; round < 50; ++round) {
    for (int k = 0; k < 300; ++k)
      REQUIRE(f(10000 + round * 300 + k) == (10000 + round * 300 + k) * 2);
    for (int k = 0; k < 100; ++k)
      REQUIRE(f(k) == k * 2);
  }
  if (p == policy::lru) {
    CHECK(hot_calls == 5000);  // each round's scan flushes lru: every hot call recomputes
  } else {
    CHECK(hot_calls <= 100);
  }
  CHECK(f.stats().size == 200);
}

TEST_CASE("clear() then refill past the old size, for every policy, with and without ttl") {
  const auto p =
      GENERATE(policy::lru, policy::lfu, policy::fifo, policy::rr, policy::s3fifo, policy::tinylfu);
  const bool with_ttl = GENERATE(false, true);
  CAPTURE(twat_cache::policy_name(p), with_ttl);
  twat_cache::engines::memory<int, int> e(
      {.maxsize = 300,
       .ttl =
           with_ttl ? std::optional<std::chrono::nanoseconds>(std::chrono::hours(1)) : std::nullopt,
       .policy = p});
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 1000; ++k) {
      e.put(k, k + round);
      if (k % 3 == 0) REQUIRE(e.get(k) == k + round);
    }
    CHECK(e.stats().size == 300);
    e.clear();
    CHECK(e.stats().size == 0);
  }
}
