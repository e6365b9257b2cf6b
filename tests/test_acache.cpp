// acache over twat_cache::task<T>: hits, single flight (one thread and many), exceptions,
// destroyed awaiters, options, and a hit that allocates nothing.

// This file replaces operator new/delete (malloc/free) to count allocations; g++ cannot see that
// they match once inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <twat_cache/acache.hpp>
#include <twat_cache/clock.hpp>
#include <twat_cache/config.hpp>
#include <twat_cache/registry.hpp>
#include <vector>

#include "async_test_support.hpp"
#include "invalidation_test_support.hpp"

using twat_cache::sync_wait;
using twat_cache::task;
using namespace std::chrono_literals;

// Counts this thread's allocations, for the "a hit allocates nothing" test. Not under the
// sanitizers, whose runtimes own operator new.
#if defined(__SANITIZE_ADDRESS__) || TWAT_CACHE_UNDER_TSAN
#define TEST_COUNTS_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_COUNTS_ALLOCATIONS 0
#endif
#endif
#ifndef TEST_COUNTS_ALLOCATIONS
#define TEST_COUNTS_ALLOCATIONS 1
#endif

#if TEST_COUNTS_ALLOCATIONS
namespace {
thread_local std::size_t allocations = 0;
}
void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#endif

namespace {

std::atomic<int> square_calls{0};
task<int> square(int x) {
  ++square_calls;
  co_return x* x;
}

}  // namespace

TEST_CASE("acache: a hit does not call the function again", "[acache]") {
  square_calls = 0;
  auto f = twat_cache::acache(square, {.maxsize = 16});
  CHECK(sync_wait(f(3)) == 9);
  CHECK(sync_wait(f(3)) == 9);
  CHECK(sync_wait(f(4)) == 16);
  CHECK(square_calls == 2);
  auto s = f.stats();
  CHECK(s.hits == 1);
  CHECK(s.misses == 2);
  CHECK(f.contains(3));
  CHECK_FALSE(f.contains(5));
  CHECK(f.in_flight() == 0);
  CHECK(f.backend() == (TWAT_CACHE_WITH_BOOST ? "boost_unordered" : "std_unordered"));
}

TEST_CASE("acache: a hit is a ready task and allocates nothing", "[acache]") {
  auto f = twat_cache::acache(square);
  CHECK(sync_wait(f(12)) == 144);
  auto hit = f(12);
  CHECK(hit.is_ready());
  int total = 0;
#if TEST_COUNTS_ALLOCATIONS
  const std::size_t before = allocations;
#endif
  for (int i = 0; i < 1000; ++i)
    total += sync_wait(f(12));
#if TEST_COUNTS_ALLOCATIONS
  CHECK(allocations - before == 0);
#endif
  CHECK(total == 144000);
}

TEST_CASE("acache: awaited inside coroutines, with string keys", "[acache]") {
  int calls = 0;
  auto greet = [&calls](const std::string& who, int n) -> task<std::string> {
    ++calls;
    co_return who + "#" + std::to_string(n);
  };
  auto f = twat_cache::acache(greet);
  auto user = [&]() -> task<std::string> {
    std::string a = co_await f("ada", 1);  // a literal keys on its text
    std::string b = co_await f(std::string("ada"), 1);
    co_return a + "," + b;
  };
  CHECK(sync_wait(user()) == "ada#1,ada#1");
  CHECK(calls == 1);
}

TEST_CASE("acache: concurrent awaiters on one thread share one computation", "[acache]") {
  test_support::gate g;
  int calls = 0;
  auto slow = [&](int x) -> task<int> {
    ++calls;
    co_await g.wait();
    co_return x + 100;
  };
  auto f = twat_cache::acache(slow);
  auto a = test_support::spawn<int>(f(1));
  auto b = test_support::spawn<int>(f(1));
  auto c = test_support::spawn<int>(f(2));
  CHECK(calls == 2);
  CHECK(f.in_flight() == 2);
  CHECK_FALSE(a.done());
  g.open();
  REQUIRE(a.done());
  REQUIRE(b.done());
  REQUIRE(c.done());
  CHECK(a.get() == 101);
  CHECK(b.get() == 101);
  CHECK(c.get() == 102);
  CHECK(calls == 2);
  CHECK(f.in_flight() == 0);
  CHECK(sync_wait(f(1)) == 101);
  CHECK(calls == 2);
}

TEST_CASE("acache: concurrent awaiters on many threads share one computation", "[acache]") {
  test_support::gate g;
  std::atomic<int> calls{0};
  auto slow = [&](int x) -> task<int> {
    ++calls;
    co_await g.wait();
    co_return x * 3;
  };
  auto f = twat_cache::acache(slow);
  constexpr int threads = 8;
  std::vector<int> results(threads, 0);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&, i] { results[static_cast<std::size_t>(i)] = sync_wait(f(5)); });
  // Wait (bounded) until every thread has missed, and the computation is parked at the gate.
  for (int i = 0; i < 5000 && (f.stats().misses < threads || g.waiting() == 0); ++i)
    std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);  // let the last callers reach the flight
  g.open();
  for (auto& t : pool)
    t.join();
  CHECK(calls == 1);
  for (int r : results)
    CHECK(r == 15);
}

TEST_CASE("acache: an exception reaches every awaiter and is not cached", "[acache]") {
  test_support::gate g;
  int calls = 0;
  bool fail = true;
  auto flaky = [&](int x) -> task<int> {
    ++calls;
    co_await g.wait();
    if (fail) throw std::runtime_error("backend down");
    co_return x;
  };
  auto f = twat_cache::acache(flaky);
  auto a = test_support::spawn<int>(f(1));
  auto b = test_support::spawn<int>(f(1));
  g.open();
  REQUIRE(a.done());
  REQUIRE(b.done());
  CHECK_THROWS_WITH(a.get(), "backend down");
  CHECK_THROWS_WITH(b.get(), "backend down");
  CHECK(calls == 1);
  CHECK_FALSE(f.contains(1));
  fail = false;
  CHECK(sync_wait(f(1)) == 1);
  CHECK(calls == 2);
}

TEST_CASE("acache: a destroyed awaiter does not stop the computation for the others", "[acache]") {
  test_support::gate g;
  int calls = 0;
  auto slow = [&](int x) -> task<int> {
    ++calls;
    co_await g.wait();
    co_return x * 10;
  };
  auto f = twat_cache::acache(slow);
  auto first = test_support::spawn<int>(f(7));  // starts the computation
  auto second = test_support::spawn<int>(f(7));
  first.reset();  // the starter goes away mid-flight
  g.open();
  REQUIRE(second.done());
  CHECK(second.get() == 70);
  CHECK(calls == 1);
  CHECK(f.contains(7));  // the computation finished and was cached
}

TEST_CASE("acache: a task made on a miss but never awaited costs nothing", "[acache]") {
  int calls = 0;
  auto body = [&](int x) -> task<int> {
    ++calls;
    co_return x;
  };
  auto f = twat_cache::acache(body);
  { auto unused = f(1); }
  CHECK(calls == 0);
  CHECK(f.in_flight() == 0);
  CHECK(sync_wait(f(1)) == 1);
  CHECK(calls == 1);
}

TEST_CASE("acache: a value cached between the call and the await is used", "[acache]") {
  int calls = 0;
  auto body = [&](int x) -> task<int> {
    ++calls;
    co_return x + 1;
  };
  auto f = twat_cache::acache(body);
  auto late = f(1);  // a miss now
  CHECK(sync_wait(f(1)) == 2);
  CHECK(sync_wait(std::move(late)) == 2);
  CHECK(calls == 1);
}

TEST_CASE(
    "acache: invalidate() or clear() during a computation keeps its value out; another key's "
    "does not",
    "[acache]") {
  const auto how = GENERATE(test_support::every_invalidation());
  CAPTURE(how);
  test_support::versioned_record record;
  auto f =
      twat_cache::acache([&record](int x) -> twat_cache::task<int> { co_return record.read(x); });
  // Called from plain code, each call on the thread that makes it.
  struct blocking_calls {
    decltype(f)& memo;
    int operator()(int x) const { return twat_cache::sync_wait(memo(x)); }
    void clear() const { memo.clear(); }
    bool invalidate(int x) const { return memo.invalidate(x); }
  } calls{f};
  test_support::invalidate_during_a_computation(record, calls, how);
  CHECK(f.in_flight() == 0);
}

TEST_CASE("acache: maxsize, ttl and policy apply", "[acache]") {
  twat_cache::manual_clock clock;
  int calls = 0;
  auto body = [&](int x) -> task<int> {
    ++calls;
    co_return x;
  };
  auto f = twat_cache::acache(
      body, {.maxsize = 2, .ttl = 10s, .policy = twat_cache::policy::lru, .clock = clock});
  sync_wait(f(1));
  sync_wait(f(2));
  sync_wait(f(1));  // 1 is now the most recent
  sync_wait(f(3));  // evicts 2
  CHECK(f.contains(1));
  CHECK_FALSE(f.contains(2));
  CHECK(f.stats().evictions == 1);
  clock.advance(11s);
  CHECK_FALSE(f.contains(1));
  sync_wait(f(1));
  CHECK(calls == 4);

  auto lfu = twat_cache::acache(body, {.maxsize = 1, .policy = twat_cache::policy::lfu});
  CHECK(sync_wait(lfu(9)) == 9);
}

TEST_CASE("acache: invalid options are config errors naming the field", "[acache]") {
  auto body = [](int x) -> task<int> { co_return x; };
  CHECK_THROWS_AS(twat_cache::acache(body, {.maxsize = 0}), twat_cache::config_error);
  CHECK_THROWS_WITH(twat_cache::acache(body, {.ttl = -1s}), Catch::Contains("acache_options.ttl"));
  CHECK_THROWS_WITH(twat_cache::acache({.maxsize = 0}), Catch::Contains("acache_options.maxsize"));
}

TEST_CASE("acache: copies and the decorator form share one cache; get_stats sees it", "[acache]") {
  int calls = 0;
  auto body = [&](int x) -> task<int> {
    ++calls;
    co_return x;
  };
  auto f = twat_cache::acache({.maxsize = 8, .name = "acache-test-shared"})(body);
  auto copy = f;
  sync_wait(f(1));
  sync_wait(copy(1));
  CHECK(calls == 1);
  auto all = twat_cache::get_stats();
  REQUIRE(all.count("acache-test-shared") == 1);
  CHECK(all.at("acache-test-shared").hits == 1);
  CHECK(copy.invalidate(1));
  sync_wait(f(1));
  CHECK(calls == 2);
  f.clear();
  CHECK_FALSE(copy.contains(1));
}

TEST_CASE("acache: a recursive async function memoizes at every level", "[acache]") {
  int calls = 0;
  auto fib = twat_cache::acache<task<long>(int)>([&calls](auto& self, int n) -> task<long> {
    ++calls;
    if (n < 2) co_return n;
    co_return co_await self(n - 1) + co_await self(n - 2);
  });
  CHECK(sync_wait(fib(40)) == 102334155);
  CHECK(calls == 41);
}
