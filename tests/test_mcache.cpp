// The memoized wrapper over the memory engine: the API a user calls.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <twat_cache/cache.hpp>
#include <utility>
#if defined(__linux__)
#include <unistd.h>
#endif

using namespace std::chrono_literals;

namespace {

int twice_calls = 0;
int twice(int x) {
  ++twice_calls;
  return 2 * x;
}

struct account {
  int id = 0;
  int balance = 0;
  bool operator==(const account&) const = default;
  int projected(int years) const { return balance + years * id; }
};
auto twat_cache_key(const account& a) {
  return std::tie(a.id, a.balance);
}

/// The smallest engine a user could write: a map, no eviction.
template <class K, class V>
struct map_engine {
  using key_type = K;
  using value_type = V;
  std::map<K, V> entries;
  std::uint64_t hits = 0, misses = 0;
  std::optional<V> get(const K& k) {
    auto it = entries.find(k);
    if (it == entries.end()) {
      ++misses;
      return std::nullopt;
    }
    ++hits;
    return it->second;
  }
  void put(const K& k, V v) { entries.insert_or_assign(k, std::move(v)); }
  bool erase(const K& k) { return entries.erase(k) > 0; }
  void clear() { entries.clear(); }
  twat_cache::cache_stats stats() const {
    twat_cache::cache_stats s;
    s.hits = hits;
    s.misses = misses;
    s.size = entries.size();
    return s;
  }
  static std::string_view name() { return "map"; }
};

struct not_an_engine {
  using key_type = int;
  using value_type = int;
  int get(int) { return 0; }
};

}  // namespace

static_assert(twat_cache::cache_engine<map_engine<int, int>>);
static_assert(twat_cache::cache_engine<twat_cache::engines::memory<int, int>>);
static_assert(twat_cache::cache_engine<twat_cache::engines::std_lru<std::string, int>>);
static_assert(!twat_cache::cache_engine<not_an_engine>);
static_assert(!twat_cache::cache_engine<int>);

TEST_CASE("a hit does not call the function again") {
  twice_calls = 0;
  auto f = twat_cache::mcache(twice);
  CHECK(f(21) == 42);
  CHECK(f(21) == 42);
  CHECK(f(21) == 42);
  CHECK(twice_calls == 1);
  CHECK(f(1) == 2);
  CHECK(twice_calls == 2);
  const auto s = f.stats();
  CHECK(s.hits == 2);
  CHECK(s.misses == 2);
  CHECK(s.size == 2);
  CHECK(s.capacity == 0);
  CHECK(s.evictions == 0);
  CHECK(s.hit_ratio() == Approx(0.5));
}

#if defined(__linux__)
namespace {
std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t total_pages = 0;
  std::size_t resident_pages = 0;
  statm >> total_pages >> resident_pages;
  return resident_pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}
}  // namespace

TEST_CASE("a large maxsize costs memory only as entries come") {
  // A user sets maxsize "to be safe". Every policy's state, s3fifo's ghost set and tinylfu's
  // frequency sketch included, grows with the entries: at maxsize 2^28 these took 1 GB and
  // 0.75 GB at once.
  for (const auto policy :
       {twat_cache::policy::s3fifo, twat_cache::policy::tinylfu, twat_cache::policy::lru,
        twat_cache::policy::lfu, twat_cache::policy::fifo, twat_cache::policy::rr}) {
    CAPTURE(policy);
    const std::size_t before = resident_bytes();
    auto f = twat_cache::mcache([](int x) { return x + 1; },
                                {.maxsize = std::size_t{1} << 28, .policy = policy});
    for (int k = 0; k < 10'000; ++k)
      REQUIRE(f(k) == k + 1);
    for (int k = 0; k < 10'000; ++k)
      REQUIRE(f(k) == k + 1);
    CHECK(f.stats().hits == 10'000);
    CHECK(resident_bytes() - std::min(before, resident_bytes()) < std::size_t{64} << 20);
  }
}
#endif

TEST_CASE("copies share one cache") {
  int calls = 0;
  auto f = twat_cache::mcache([&calls](int x) {
    ++calls;
    return x;
  });
  auto copy = f;
  CHECK(f(1) == 1);
  CHECK(copy(1) == 1);
  CHECK(calls == 1);
  CHECK(copy.stats().hits == 1);
}

TEST_CASE("an exception is not cached and reaches the caller") {
  int calls = 0;
  auto f = twat_cache::mcache([&calls](int x) -> int {
    if (++calls == 1) throw std::runtime_error("first call fails");
    return x;
  });
  CHECK_THROWS_WITH(f(5), "first call fails");
  CHECK_FALSE(f.contains(5));
  CHECK(f(5) == 5);
  CHECK(f(5) == 5);
  CHECK(calls == 2);
}

TEST_CASE("recursion through auto& self memoizes every level") {
  int calls = 0;
  auto fib = twat_cache::mcache([&calls](auto& self, int n) -> long {
    ++calls;
    return n < 2 ? n : self(n - 1) + self(n - 2);
  });
  CHECK(fib(90) == 2880067194370816120L);
  CHECK(calls == 91);
  CHECK(fib.stats().size == 91);
}

TEST_CASE("recursion with an explicit signature and a deduced return type") {
  auto fact = twat_cache::mcache<long(int)>(
      [](auto& self, int n) { return n <= 1 ? 1L : n * self(n - 1); });
  CHECK(fact(20) == 2432902008176640000L);
}

TEST_CASE("a generic lambda takes an explicit signature") {
  auto f = twat_cache::mcache<std::string(const std::string&, int)>(
      [](const auto& s, auto n) { return s + std::to_string(n); });
  CHECK(f("a", 1) == "a1");
  CHECK(f("a", 1) == "a1");
  CHECK(f.stats().hits == 1);
}

TEST_CASE("member functions take the object as first argument, keyed by its value") {
  auto f = twat_cache::mcache(&account::projected);
  account a{2, 100};
  CHECK(f(a, 10) == 120);
  CHECK(f(a, 10) == 120);
  CHECK(f.stats().hits == 1);
  a.balance = 200;  // another value: another key, never a stale result
  CHECK(f(a, 10) == 220);
  CHECK(f.stats().misses == 2);
}

TEST_CASE("the decorator form applies options to a callable") {
  auto decorate = twat_cache::mcache({.maxsize = 2, .policy = twat_cache::policy::fifo});
  auto f = decorate([](int x) { return x + 1; });
  CHECK(f(1) == 2);
  CHECK(f.stats().capacity == 2);
}

TEST_CASE("invalidate, contains and clear") {
  int calls = 0;
  auto f = twat_cache::mcache([&calls](int x) {
    ++calls;
    return x;
  });
  f(1);
  f(2);
  CHECK(f.contains(1));
  CHECK_FALSE(f.contains(3));
  CHECK(f.invalidate(1));
  CHECK_FALSE(f.invalidate(1));
  CHECK_FALSE(f.contains(1));
  f(1);
  CHECK(calls == 3);
  const auto before = f.stats();
  CHECK(before.hits == 0);
  CHECK(before.misses == 3);
  f.clear();
  CHECK(f.stats().size == 0);
  CHECK(f.stats().misses == 0);
  CHECK_FALSE(f.contains(2));
  f(2);
  CHECK(calls == 4);
}

namespace {

/// A computation during which the record it read changes, and `change` invalidates its key (or
/// clears): its value must not be stored, and the next call computes afresh.
template <class Make>
void invalidated_during_its_computation(Make make, bool clear) {
  int version = 1;
  int calls = 0;
  std::function<void()> change;  // run by the next computation, after it read the record
  auto f = make([&](int x) {
    ++calls;
    const int read = version;
    if (change) std::exchange(change, nullptr)();
    return x * 10 + read;
  });
  change = [&] {
    version = 2;
    if (clear) {
      f.clear();
    } else {
      CHECK_FALSE(f.invalidate(7));  // nothing stored yet
    }
  };
  CHECK(f(7) == 71);  // computed from version 1
  CHECK_FALSE(f.contains(7));
  CHECK(f(7) == 72);  // computed afresh
  CHECK(f(7) == 72);  // and stored
  CHECK(calls == 2);
}

}  // namespace

TEST_CASE("a computation that invalidates its own key, or clears, stores nothing") {
  // An invalidation from inside the computation (a callback, a re-entrant call), with a lock or
  // without one (thread_safe = false: one thread, so no fence takes a lock).
  const bool clear = GENERATE(true, false);
  CAPTURE(clear);
  SECTION("mcache, thread-safe (the engine's single flight)") {
    invalidated_during_its_computation([](auto fn) { return twat_cache::mcache(fn); }, clear);
  }
  SECTION("mcache, thread_safe = false (the wrapper's fence, no single flight)") {
    invalidated_during_its_computation(
        [](auto fn) { return twat_cache::mcache(fn, {.thread_safe = false}); }, clear);
  }
  SECTION("the memory engine, thread_safe = false, under the wrapper's single flight") {
    invalidated_during_its_computation(
        [](auto fn) {
          return twat_cache::memoize<twat_cache::engines::memory>(
              fn, twat_cache::memoize_options{}, twat_cache::mcache_options{.thread_safe = false});
        },
        clear);
  }
}

TEST_CASE("contains() neither counts nor changes the eviction order") {
  auto f = twat_cache::mcache([](int x) { return x; },
                              {.maxsize = 2, .policy = twat_cache::policy::lru});
  f(1);
  f(2);
  CHECK(f.contains(1));  // a get() here would make 1 the most recent
  f(3);                  // evicts the least recently used: 1
  CHECK_FALSE(f.contains(1));
  CHECK(f.contains(2));
  CHECK(f.stats().hits == 0);
}

TEST_CASE("backend() and engine() name and expose the engine in use") {
  auto f = twat_cache::mcache([](int x) { return x; });
  CHECK(f.backend() == (TWAT_CACHE_WITH_BOOST ? "boost_unordered" : "std_unordered"));
  f(1);
  f.engine().put(2, 20);  // direct access: the next call is a hit on what we stored
  CHECK(f(2) == 20);
  CHECK(f.engine().stats().size == 2);
}

TEST_CASE("memoize<Engine> plugs in a user's engine") {
  int calls = 0;
  auto f = twat_cache::memoize<map_engine>([&calls](int x) {
    ++calls;
    return x * x;
  });
  CHECK(f(3) == 9);
  CHECK(f(3) == 9);
  CHECK(calls == 1);
  CHECK(f.backend() == "map");
  CHECK(f.engine().entries.size() == 1);
  CHECK(f.invalidate(3));
  CHECK_FALSE(f.contains(3));
}

TEST_CASE("memoize<Engine> with memoize_options and engine arguments") {
  auto f = twat_cache::memoize<twat_cache::engines::std_lru>(
      [](int x) { return x; }, twat_cache::memoize_options{.single_flight = false, .name = "plain"},
      twat_cache::mcache_options{.maxsize = 1});
  f(1);
  f(2);
  CHECK(f.backend() == "std_lru");
  CHECK_FALSE(f.contains(1));
  CHECK(f.stats().evictions == 1);
  CHECK(twat_cache::get_stats().count("plain") == 1);
}

TEST_CASE("rvalue-reference and by-value parameters get their own copy") {
  auto f = twat_cache::mcache([](std::string&& s) {
    std::string taken = std::move(s);
    return taken.size();
  });
  const std::string arg = "four";
  CHECK(f(arg) == 4);
  CHECK(f(arg) == 4);
  CHECK(arg == "four");
  CHECK(f.stats().hits == 1);
}

TEST_CASE("a failing put is counted and logged, and the call still returns") {
  struct failing_engine : map_engine<int, int> {
    void put(const int&, int) { throw std::runtime_error("disk full"); }
  };
  std::vector<std::string> logged;
  twat_cache::set_logger(
      [&logged](twat_cache::log_level, std::string_view cause, std::string_view message) {
        logged.emplace_back(std::string(cause) + ": " + std::string(message));
      });
  auto f = twat_cache::memoize<failing_engine>([](int x) { return x + 1; });
  CHECK(f(1) == 2);
  CHECK(f(1) == 2);
  CHECK(f.stats().errors == 2);
  REQUIRE(logged.size() == 1);  // once per cause
  CHECK(logged[0].find("disk full") != std::string::npos);
  twat_cache::set_logger({});
}

namespace {
// A value whose copy fails on demand: storing it in the cache copies it, returning it moves it.
bool fail_copies = false;
struct copy_refusing {
  int v = 0;
  explicit copy_refusing(int x) : v(x) {}
  copy_refusing(const copy_refusing& other) : v(other.v) {
    if (fail_copies) throw std::runtime_error("copy refused");
  }
  copy_refusing(copy_refusing&&) noexcept = default;
  copy_refusing& operator=(const copy_refusing&) = default;
  copy_refusing& operator=(copy_refusing&&) noexcept = default;
};
}  // namespace

TEST_CASE("a result that cannot be stored is still returned, counted as an error, not cached") {
  int calls = 0;
  auto f = twat_cache::mcache([&calls](int x) {
    ++calls;
    return copy_refusing(x * 2);
  });
  twat_cache::set_logger([](twat_cache::log_level, std::string_view, std::string_view) {});
  fail_copies = true;
  const copy_refusing first = f(4);
  fail_copies = false;
  twat_cache::set_logger(nullptr);
  CHECK(first.v == 8);
  CHECK(f.stats().errors == 1);
  CHECK_FALSE(f.contains(4));
  CHECK(f(4).v == 8);  // computed again, and stored this time
  CHECK(f(4).v == 8);
  CHECK(calls == 2);
  CHECK(f.stats().hits == 1);
}
