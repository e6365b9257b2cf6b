// Eviction order of each policy, on both hash indices, with and without thread safety.
#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <twat_cache/cache.hpp>

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
  auto f = twat_cache::mcache([](int x) { return x; }, {.maxsize = 100});
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
  const auto p = GENERATE(policy::lru, policy::lfu, policy::fifo, policy::rr);
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
