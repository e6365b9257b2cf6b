// Thread safety: single flight, shared exceptions, re-entrancy, and a mixed stress test.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <random>
#include <stdexcept>
#include <thread>
#include <twat_cache/cache.hpp>
#include <twat_cache/detail/writer_gate.hpp>
#include <vector>

#include "invalidation_test_support.hpp"
#include "policy_list.hpp"

using namespace std::chrono_literals;

namespace {

/// Runs `body(thread_index)` on n threads released together.
template <class F>
void run_threads(int n, F body) {
  std::barrier start(n);
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      body(t);
    });
  }
  for (auto& th : threads)
    th.join();
}

/// The two single-flight implementations: the memory engine's own (on its writer mutex) and the
/// wrapper's generic gate, which every engine without one gets (std_lru here).
struct via_memory_engine {
  template <class F>
  static auto make(F f) {
    return twat_cache::mcache(std::move(f));
  }
};
struct via_generic_gate {
  template <class F>
  static auto make(F f) {
    return twat_cache::memoize<twat_cache::engines::std_lru>(std::move(f));
  }
};

}  // namespace

TEMPLATE_TEST_CASE("single flight: 8 concurrent callers of one key run the function once", "",
                   via_memory_engine, via_generic_gate) {
  std::atomic<int> calls{0};
  auto f = TestType::make([&calls](int x) {
    calls.fetch_add(1);
    std::this_thread::sleep_for(50ms);  // long enough that every caller arrives while it runs
    return x * 3;
  });
  std::vector<int> results(8);
  run_threads(8, [&](int t) { results[static_cast<std::size_t>(t)] = f(7); });
  CHECK(calls.load() == 1);
  for (int r : results)
    CHECK(r == 21);
  CHECK(f.stats().size == 1);
}

TEMPLATE_TEST_CASE("single flight: the leader's exception reaches every waiter and is not cached",
                   "", via_memory_engine, via_generic_gate) {
  std::atomic<int> calls{0};
  // The leader throws once all 8 callers have missed (a bounded wait), and a little after, for
  // the last to reach the flight: a fixed sleep from the start would fail whenever the scheduler
  // held a caller back longer than it, as that caller then computed again.
  std::function<std::uint64_t()> misses_so_far;
  auto f = TestType::make([&calls, &misses_so_far](int) -> int {
    calls.fetch_add(1);
    for (int i = 0; i < 5'000 && misses_so_far() < 8; ++i)
      std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(20ms);
    throw std::runtime_error("backend down");
  });
  misses_so_far = [&f] { return f.stats().misses; };
  std::atomic<int> caught{0};
  run_threads(8, [&](int) {
    try {
      f(1);
    } catch (const std::runtime_error& e) {
      if (std::string(e.what()) == "backend down") caught.fetch_add(1);
    }
  });
  CHECK(caught.load() == 8);
  CHECK(calls.load() == 1);
  CHECK_FALSE(f.contains(1));
  CHECK_THROWS(f(1));
  CHECK(calls.load() == 2);
}

TEST_CASE("single flight off: concurrent callers each compute") {
  std::atomic<int> calls{0};
  auto f = twat_cache::mcache(
      [&calls](int x) {
        calls.fetch_add(1);
        std::this_thread::sleep_for(50ms);
        return x;
      },
      {.single_flight = false});
  run_threads(4, [&](int) { f(1); });
  CHECK(calls.load() == 4);
}

TEMPLATE_TEST_CASE("single flight: a re-entrant call of the same key does not wait on itself", "",
                   via_memory_engine, via_generic_gate) {
  auto f = TestType::make([](auto& self, int n) -> int {
    thread_local int depth = 0;
    if (depth > 0) return n + 100;
    ++depth;
    const int inner = self(n);  // the same key, from inside its own computation
    --depth;
    return inner;
  });
  CHECK(f(1) == 101);
  CHECK(f(1) == 101);
}

TEMPLATE_TEST_CASE("single flight: different keys compute in parallel", "", via_memory_engine,
                   via_generic_gate) {
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  auto f = TestType::make([&](int x) {
    const int now = running.fetch_add(1) + 1;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(30ms);
    running.fetch_sub(1);
    return x;
  });
  run_threads(4, [&](int t) { f(t); });
  CHECK(most.load() > 1);
}

TEMPLATE_TEST_CASE("single flight: threads racing over many keys compute each key once", "",
                   via_memory_engine, via_generic_gate) {
  constexpr int keys = 3000;  // far more keys than flight stripes: lists of several flights
  std::vector<std::atomic<int>> calls(keys);
  auto f = TestType::make([&calls](int x) {
    calls[static_cast<std::size_t>(x)].fetch_add(1);
    return x * 3;
  });
  std::atomic<int> wrong{0};
  run_threads(4, [&](int t) {
    std::vector<int> order(keys);
    for (int k = 0; k < keys; ++k)
      order[static_cast<std::size_t>(k)] = k;
    // Two threads walk the keys in one order, so they meet on every key; two in others.
    if (t >= 2) std::shuffle(order.begin(), order.end(), std::mt19937(static_cast<unsigned>(t)));
    for (int k : order) {
      if (f(k) != k * 3) wrong.fetch_add(1);
    }
  });
  CHECK(wrong.load() == 0);
  int computed_twice = 0;
  for (auto& c : calls) {
    if (c.load() != 1) ++computed_twice;
  }
  CHECK(computed_twice == 0);
  CHECK(f.stats().size == keys);
}

TEST_CASE("stress: many threads, mixed hits, misses, evictions and invalidations, values checked") {
  const auto p = GENERATE(test_support::every_policy());
  CAPTURE(twat_cache::policy_name(p));
  std::atomic<long> calls{0};
  auto f = twat_cache::mcache(
      [&calls](int key, const std::string& salt) {
        calls.fetch_add(1, std::memory_order_relaxed);
        return std::to_string(key) + ":" + salt;
      },
      {.maxsize = 64, .policy = p});
  constexpr int threads = 8;
  constexpr int ops = 20000;
  std::atomic<long> lookups{0};
  std::atomic<int> wrong{0};
  run_threads(threads, [&](int t) {
    std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1u);
    std::uniform_int_distribution<int> hot(0, 40);
    std::uniform_int_distribution<int> cold(0, 400);
    std::uniform_int_distribution<int> op(0, 99);
    for (int i = 0; i < ops; ++i) {
      const int o = op(rng);
      const int key = o < 80 ? hot(rng) : cold(rng);
      const std::string salt = key % 2 ? "odd" : "even";
      if (o < 95) {
        const std::string value = f(key, salt);
        lookups.fetch_add(1, std::memory_order_relaxed);
        if (value != std::to_string(key) + ":" + salt) wrong.fetch_add(1);
      } else if (o < 99) {
        f.invalidate(key, salt);
      } else {
        (void)f.contains(key, salt);
        (void)f.stats();
      }
    }
  });
  CHECK(wrong.load() == 0);
  const auto s = f.stats();
  CHECK(s.hits + s.misses == static_cast<std::uint64_t>(lookups.load()));
  CHECK(s.size <= 64);
  CHECK(s.hits > 0);
  CHECK(s.evictions > 0);
  CHECK(calls.load() <= static_cast<long>(s.misses));
}

TEST_CASE("lru and lfu: hits on two threads at once all count toward the order") {
  // Each thread notes its hits in a buffer of its own, applied when full. A thread whose buffer
  // fills while the other applies its own used to drop the hits that followed, and an entry
  // read only then kept its old place in the order. Two threads that start together fill their
  // buffers together; now the buffer grows instead.
  const auto p = GENERATE(twat_cache::policy::lru, twat_cache::policy::lfu);
  for (int round = 0; round < 200; ++round) {  // the threads must meet: often enough in 200
    auto f = twat_cache::mcache([](int x) { return x; }, {.maxsize = 1'000, .policy = p});
    for (int k = 0; k < 1'000; ++k)
      REQUIRE(f(k) == k);  // 0 is the least recent, and (lfu) all are used once
    std::atomic<int> wrong{0};
    run_threads(2, [&](int t) {  // the older half read once more, half by each thread
      for (int k = t * 250; k < t * 250 + 250; ++k) {
        if (f(k) != k) wrong.fetch_add(1);
      }
    });
    REQUIRE(wrong.load() == 0);
    for (int k = 1'000; k < 1'500; ++k)
      REQUIRE(f(k) == k);  // 500 evictions (less a batch left pending): never one of 0..499
    REQUIRE(f.stats().evictions >= 400);
    for (int k = 0; k < 500; ++k)
      REQUIRE(f.contains(k));
  }
}

TEST_CASE("more threads than reader slots still get right answers") {
  auto f = twat_cache::mcache([](int x) { return x * 2; }, {.maxsize = 32});
  std::atomic<int> wrong{0};
  run_threads(TWAT_CACHE_MAX_READER_SLOTS + 16, [&](int t) {
    for (int i = 0; i < 200; ++i) {
      const int key = (t + i) % 50;
      if (f(key) != key * 2) wrong.fetch_add(1);
    }
  });
  CHECK(wrong.load() == 0);
  const auto s = f.stats();
  CHECK(s.hits + s.misses == static_cast<std::uint64_t>((TWAT_CACHE_MAX_READER_SLOTS + 16) * 200));
}

TEST_CASE("clear and get_stats race safely with calls") {
  auto f = twat_cache::mcache([](int x) { return x + 1; }, {.maxsize = 16, .name = "racing"});
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::thread clearer([&] {
    for (int i = 0; i < 200 && !stop.load(); ++i) {
      f.clear();
      (void)twat_cache::get_stats();
      std::this_thread::yield();
    }
  });
  run_threads(4, [&](int t) {
    for (int i = 0; i < 20000; ++i) {
      const int key = (i * 7 + t) % 40;
      if (f(key) != key + 1) wrong.fetch_add(1);
    }
  });
  stop.store(true);
  clearer.join();
  CHECK(wrong.load() == 0);
}

TEST_CASE("once several threads use a cache, stores wait in batches and are never lost") {
  // A cache used by more than one thread stores what it computes in batches (one exclusive
  // section per 16 stores of a thread). Until then a value is pending: it must be found, not
  // computed again, counted as a hit, seen by contains(), dropped by invalidate() and clear().
  std::atomic<int> calls{0};
  std::atomic<int> wrong{0};
  const auto times_11 = [&calls](int x) {
    calls.fetch_add(1);
    if (x < 0) throw std::invalid_argument("negative");
    return x * 11;
  };
  auto f = twat_cache::mcache(times_11, {.maxsize = 10'000});
  run_threads(2, [&](int t) {  // a second thread has used the cache
    if (f(1000 + t) != (1000 + t) * 11) wrong.fetch_add(1);
  });
  const int before = calls.load();

  REQUIRE(f(1) == 11);  // pending now: no batch is full
  REQUIRE(f(1) == 11);
  CHECK(calls.load() == before + 1);
  CHECK(f.contains(1));
  CHECK(f.stats().hits == 1);
  CHECK(f.stats().misses == 3);  // the two threads' calls and the first f(1)

  CHECK(f.invalidate(1));
  CHECK_FALSE(f.contains(1));
  REQUIRE(f(1) == 11);
  CHECK(calls.load() == before + 2);

  CHECK_THROWS_AS(f(-1), std::invalid_argument);  // an exception is still never cached
  CHECK_THROWS_AS(f(-1), std::invalid_argument);
  CHECK(calls.load() == before + 4);

  f.clear();
  CHECK_FALSE(f.contains(1));
  REQUIRE(f(1) == 11);
  CHECK(calls.load() == before + 5);

  // Many batches: every key computed once, read again at once (pending or stored), and kept.
  f.clear();
  const int start = calls.load();
  run_threads(2, [&](int t) {
    for (int k = 0; k < 2'000; ++k) {
      const int key = t * 2'000 + k;
      if (f(key) != key * 11 || f(key) != key * 11) wrong.fetch_add(1);
    }
  });
  CHECK(wrong.load() == 0);
  CHECK(calls.load() == start + 4'000);
  CHECK(f.stats().hits == 4'000);
  CHECK(f.stats().size <= 4'000);
  int kept = 0;
  for (int key = 0; key < 4'000; ++key)
    kept += f.contains(key) ? 1 : 0;
  CHECK(kept == 4'000);

  // Past maxsize: the map never holds more, and every value is right.
  auto g = twat_cache::mcache(times_11, {.maxsize = 2'048});
  run_threads(2, [&](int t) {
    for (int k = 0; k < 20'000; ++k) {
      const int key = (k * 7 + t * 3) % 6'000;
      if (g(key) != key * 11) wrong.fetch_add(1);
      if (g.stats().size > 2'048) wrong.fetch_add(1);
    }
  });
  CHECK(wrong.load() == 0);
  CHECK(g.stats().size <= 2'048);
  CHECK(g.stats().evictions > 0);
}

TEST_CASE("a batch stores a thread's values in the order it computed them", "[batch_order]") {
  // Once a second thread has used a cache, its stores wait in batches (two per thread at maxsize
  // 256). A batch must leave the cache as the thread's stores one by one would have: the same
  // keys evicted, and a value just computed never pushed out by one computed before it (rr
  // could, when a batch was stored in the order of its keys' hashes).
  const auto p = GENERATE(test_support::every_policy());
  CAPTURE(twat_cache::policy_name(p));
  const auto times_11 = [](int x) { return x * 11; };
  auto batched = twat_cache::mcache(times_11, {.maxsize = 256, .policy = p});
  auto one_by_one =
      twat_cache::mcache(times_11, {.maxsize = 256, .policy = p, .thread_safe = false});
  CHECK_FALSE(batched.contains(0));  // this thread's slot, then another's: stores go pending now
  std::thread([&batched] { CHECK_FALSE(batched.contains(0)); }).join();
  int wrong = 0;
  int lost = 0;
  int differing = 0;
  int compared = 0;
  for (int k = 0; k < 20'000; ++k) {
    if (batched(k) != k * 11 || one_by_one(k) != k * 11) ++wrong;
    if (!batched.contains(k)) ++lost;
    // rr evicts at random: which keys live is compared for the other policies, when no store
    // is pending (a batch evicts when it is stored).
    if (p == twat_cache::policy::rr || batched.engine().pending_stores() != 0) continue;
    ++compared;
    for (int old = std::max(0, k - 300); old <= k; ++old)
      differing += batched.contains(old) != one_by_one.contains(old) ? 1 : 0;
  }
  CHECK(wrong == 0);
  CHECK(lost == 0);
  CHECK(differing == 0);
  CHECK(batched.stats().evictions > 0);
  if (p != twat_cache::policy::rr) CHECK(compared >= 5'000);
}

TEST_CASE("the advisor does not change what a cache keeps, with batched stores too",
          "[advisor_batches]") {
  // Runs of 128 keys over 640, each run starting where an earlier one may have passed: some
  // keys come back while still cached (read again: s3fifo moves them to its main queue), some
  // after their eviction (s3fifo's ghost), some never. Once a second thread has used a cache,
  // its stores wait in batches. A cache with the advisor must keep the same keys and hit the same
  // calls as one without: the advisor only watches. (It also stores a batch one entry at a time,
  // where s3fifo without it chose all of a batch's victims before storing any of it, and took
  // them from main once the small queue ran below its share, which stores one by one refill.)
  const auto p = GENERATE(test_support::every_policy());
  const bool batches = GENERATE(false, true);
  CAPTURE(twat_cache::policy_name(p), batches);
  if (p == twat_cache::policy::rr) return;  // it evicts at random
  const auto times_13 = [](int x) { return x * 13; };
  auto plain = twat_cache::mcache(times_13, {.maxsize = 256, .policy = p});
  auto advised = twat_cache::mcache(times_13, {.maxsize = 256, .policy = p, .advisor = true});
  if (batches) {  // this thread's slot, then another's: stores go pending now
    CHECK_FALSE(plain.contains(0));
    CHECK_FALSE(advised.contains(0));
    std::thread([&] {
      CHECK_FALSE(plain.contains(0));
      CHECK_FALSE(advised.contains(0));
    }).join();
  }
  constexpr int keys = 640;
  int wrong = 0;
  int differing = 0;
  int compared = 0;
  std::uint32_t start = 12345;
  for (int run = 0; run < 300; ++run) {
    start = start * 1'103'515'245u + 12'345u;
    for (int n = 0; n < 128; ++n) {
      const int k = static_cast<int>((start >> 8) % keys + n) % keys;
      if (plain(k) != k * 13 || advised(k) != k * 13) ++wrong;
      if (plain.engine().pending_stores() != advised.engine().pending_stores()) ++differing;
      // Every 16th call when nothing is pending (a batch evicts when it is stored): comparing
      // all 640 keys after every call made the test too slow under ThreadSanitizer.
      if (n % 16 != 15 || plain.engine().pending_stores() != 0) continue;
      ++compared;
      for (int old = 0; old < keys; ++old)
        differing += plain.contains(old) != advised.contains(old) ? 1 : 0;
    }
  }
  CHECK(wrong == 0);
  CHECK(differing == 0);
  CHECK(compared >= 300);
  CHECK(plain.stats().hits == advised.stats().hits);
  CHECK(plain.stats().evictions == advised.stats().evictions);
  CHECK(plain.stats().evictions > 0);
}

TEST_CASE(
    "a full cache's batches evict one entry per new one, and keep what hits read, while hits go "
    "on") {
  // s3fifo chooses a batch's victims before it shuts readers out, while other threads' hits
  // raise the counters it reads: it must take out exactly as many as the batch's new keys need,
  // and still spare the entries those hits keep reading.
  const auto p = GENERATE(test_support::every_policy());
  CAPTURE(twat_cache::policy_name(p));
  std::atomic<long> calls{0};
  auto f = twat_cache::mcache(
      [&calls](int x) {
        calls.fetch_add(1, std::memory_order_relaxed);
        return x * 5 + 2;
      },
      {.maxsize = 2'048, .policy = p});
  constexpr int hot = 100;
  for (int k = 0; k < hot; ++k)
    REQUIRE(f(k) == k * 5 + 2);
  std::atomic<int> wrong{0};
  run_threads(2, [&](int t) {
    for (int k = 0; k < 6'000; ++k) {
      const int fresh = 1'000'000 * (t + 1) + k;  // computed once: every call a new entry
      if (f(fresh) != fresh * 5 + 2) wrong.fetch_add(1);
      for (int h = (k * 7) % hot, n = 0; n < 4; ++n, h = (h + 13) % hot) {
        if (f(h) != h * 5 + 2) wrong.fetch_add(1);
      }
    }
  });
  REQUIRE(wrong.load() == 0);
  // Full since long before the last batch: the map holds maxsize, besides what is pending.
  long live = 0;
  for (int t = 0; t < 2; ++t) {
    for (int k = 0; k < 6'000; ++k)
      live += f.contains(1'000'000 * (t + 1) + k) ? 1 : 0;
  }
  for (int k = 0; k < hot; ++k)
    live += f.contains(k) ? 1 : 0;
  CHECK(live == 2'048 + static_cast<long>(f.engine().pending_stores()));
  CHECK_FALSE(f.invalidate(-1));  // stores what is still pending
  const twat_cache::cache_stats s = f.stats();
  CHECK(s.size == 2'048);
  CHECK(s.evictions == static_cast<std::uint64_t>(calls.load()) - 2'048);
  CHECK(calls.load() >= 12'000 + hot);  // each new key once, each hot key once or more
  if (p == twat_cache::policy::s3fifo || p == twat_cache::policy::lru ||
      p == twat_cache::policy::lfu) {
    int kept = 0;
    for (int k = 0; k < hot; ++k)
      kept += f.contains(k) ? 1 : 0;
    CHECK(kept >= 95);
  }
}

namespace {
/// A value whose move throws while `poisoned_moves` is set and the value is marked: a store that
/// fails after the value was computed (the map moves the value into its entry).
std::atomic<bool> poisoned_moves{false};
struct move_refusing {
  int n = 0;
  bool marked = false;
  move_refusing() = default;
  move_refusing(int value, bool mark) : n(value), marked(mark) {}
  move_refusing(const move_refusing&) = default;
  move_refusing& operator=(const move_refusing&) = default;
  move_refusing(move_refusing&& other) : n(other.n), marked(other.marked) {
    if (marked && poisoned_moves.load()) throw std::runtime_error("move of a marked value");
  }
  move_refusing& operator=(move_refusing&& other) {
    if (other.marked && poisoned_moves.load()) throw std::runtime_error("move of a marked value");
    n = other.n;
    marked = other.marked;
    return *this;
  }
};
}  // namespace

TEST_CASE("a pending store that fails when invalidate() applies it is counted, not lost silently") {
  std::atomic<int> calls{0};
  auto f = twat_cache::mcache(
      [&calls](int x) {
        calls.fetch_add(1);
        return move_refusing(x, x == 7);
      },
      {.maxsize = 10'000});
  run_threads(2, [&](int t) { (void)f(1000 + t); });  // a second thread: stores now batch
  REQUIRE(f(7).n == 7);                               // pending: no batch is full
  CHECK(f.stats().errors == 0);
  poisoned_moves = true;
  CHECK_FALSE(f.invalidate(8));  // applies what is pending first: the store of 7 fails
  poisoned_moves = false;
  CHECK(f.stats().errors == 1);
  CHECK_FALSE(f.contains(7));
  const int before = calls.load();
  REQUIRE(f(7).n == 7);  // computed again
  CHECK(calls.load() == before + 1);
}

TEST_CASE("threads that wait out a long write are woken when it ends") {
  // The writers' lock word: waiters poll for 50 us, then sleep on the word. A write longer
  // than that (a clear() of a large cache, a thread preempted while writing) must wake them all.
  twat_cache::detail::writer_gate gate;
  std::atomic<int> readers_in{0};
  std::atomic<int> writers_in{0};

  gate.lock_excluding();
  CHECK_FALSE(gate.try_lock());
  CHECK(gate.excludes_readers(std::memory_order_seq_cst));
  std::vector<std::thread> waiting;
  for (int i = 0; i < 2; ++i) {
    waiting.emplace_back([&] {
      gate.wait_for_readers_allowed();
      readers_in.fetch_add(1);
    });
  }
  waiting.emplace_back([&] {
    gate.lock();  // the writer mutex alone
    writers_in.fetch_add(1);
    CHECK_FALSE(gate.excludes_readers(std::memory_order_seq_cst));
    gate.unlock();
  });
  std::this_thread::sleep_for(20ms);  // 400 times the polling: they sleep by now
  CHECK(readers_in.load() == 0);
  CHECK(writers_in.load() == 0);
  gate.unlock();
  for (auto& t : waiting)
    t.join();
  CHECK(readers_in.load() == 2);
  CHECK(writers_in.load() == 1);
  CHECK(gate.try_lock());  // free again, with no sleeper's mark left behind
  CHECK_FALSE(gate.excludes_readers(std::memory_order_seq_cst));
  gate.unlock();
}

TEST_CASE("values left pending by threads that stopped are stored once they are read") {
  // Stores wait in batches of 16 per thread (previous test). Threads that leave a few pending
  // and stop must not leave them so for good: until stored, every read of one takes the miss
  // path. Reads of pending values count toward a batch as stores do.
  std::atomic<int> calls{0};
  const auto plus_one = [&calls](int x) {
    calls.fetch_add(1);
    return x + 1;
  };
  auto f = twat_cache::mcache(plus_one, {.maxsize = 10'000});
  REQUIRE(f(1000) == 1001);  // stored at once: only this thread has used the cache so far
  run_threads(2, [&](int t) {
    for (int k = 0; k < 4; ++k)
      (void)f(t * 100 + k);  // pending: a second thread uses the cache, and no batch is full
  });
  REQUIRE(f.engine().pending_stores() == 8);
  CHECK(f.stats().size == 9);  // pending values are held, so stats() counts them

  const int calls_before = calls.load();
  const auto hits_before = f.stats().hits;
  for (int round = 0; round < 4; ++round) {
    for (int t = 0; t < 2; ++t) {
      for (int k = 0; k < 4; ++k)
        CHECK(f(t * 100 + k) == t * 100 + k + 1);
    }
  }
  CHECK(calls.load() == calls_before);
  CHECK(f.stats().hits == hits_before + 32);
  CHECK(f.engine().pending_stores() == 0);  // the 16th read of a pending value stored them all
  for (int t = 0; t < 2; ++t) {
    for (int k = 0; k < 4; ++k)
      CHECK(f.contains(t * 100 + k));
  }
  CHECK(f.stats().size == 9);
}

TEST_CASE("a hit that completes a batch keeps the value it read") {
  // rr with maxsize 384, used by two threads: batches of 3 (pending_batch_for). The thread
  // computes a then b (both pending), then reads a three times: the third read completes the
  // batch, which stores a, then b, and b's store evicts an entry at random. Stores made one at a
  // time would have run before the reads, which then hit only if a survived: a hit must leave
  // its key in the cache.
  auto f = twat_cache::mcache([](int x) { return x + 1; },
                              {.maxsize = 384, .policy = twat_cache::policy::rr});
  (void)f(-1);
  std::thread([&f] { (void)f(-2); }).join();
  for (int k = 0; k < 384; ++k)
    (void)f(1'000'000 + k);
  for (int r = 0; r < 3; ++r)
    (void)f(1'000'000);  // whatever is pending now is applied
  int lost = 0;
  for (int trial = 0; trial < 3'000; ++trial) {
    const int a = 2 * trial;
    const int b = a + 1;
    REQUIRE(f(a) == a + 1);
    REQUIRE(f(b) == b + 1);
    for (int r = 0; r < 3; ++r)
      REQUIRE(f(a) == a + 1);
    if (!f.contains(a)) ++lost;
  }
  CHECK(lost == 0);
}

TEST_CASE("what counts as rare writes follows what the writer's barrier costs here") {
  // On a VM the barrier that fence-free hits need from each writer can cost 100 times what it
  // does on bare metal (15 us against 0.15 us). The same write rate must then keep hits on
  // locked instructions. The cost the lock learns is set here before each write, as if measured.
  if (!twat_cache::detail::heavy_barrier_available()) return;  // no light mode to switch to
  using twat_cache::detail::heavy_barrier_ns;
  using twat_cache::detail::light_reads_per_write;
  CHECK(light_reads_per_write(128) == 64);
  CHECK(light_reads_per_write(20) == 64);  // never below the bare-metal figure
  CHECK(light_reads_per_write(15'000) == 7'500);

  constexpr int keys = 256;
  constexpr int writes = 60;
  constexpr int reads_per_write = 4'000;
  // Returns, for each write period, whether it ended with light readers.
  const auto run = [](std::uint32_t barrier_ns) {
    // A ttl keeps every store its own exclusive section (no batches), so each write below
    // costs one barrier. (Two threads would otherwise batch 8 writes into one section here.)
    auto f = twat_cache::mcache([](int x) { return x * 5 - 2; },
                                {.maxsize = 4 * keys, .ttl = std::chrono::hours(1)});
    // A second reader (after this thread's first call, so it cannot take this thread's slot): a
    // writer that is the cache's only reader needs no barrier at all.
    REQUIRE(f(0) == -2);
    std::thread([&f] { REQUIRE(f(1) == 3); }).join();
    for (int k = 0; k < keys; ++k)
      REQUIRE(f(k) == k * 5 - 2);
    for (int i = 0; i < 3 * 4'096; ++i)  // reads alone: a review period without writes
      REQUIRE(f(i % keys) == (i % keys) * 5 - 2);
    REQUIRE(f.engine().light_readers());
    std::vector<bool> light_after;
    for (int w = 1; w <= writes; ++w) {    // then one write in every 4,000 calls
      heavy_barrier_ns.store(barrier_ns);  // as if each write had measured it so
      REQUIRE(f(keys * w) == keys * w * 5 - 2);
      for (int i = 0; i < reads_per_write; ++i)
        REQUIRE(f(i % keys) == (i % keys) * 5 - 2);
      light_after.push_back(f.engine().light_readers());
    }
    return light_after;
  };
  const std::uint32_t learned = heavy_barrier_ns.load();
  // 4,000 reads pay for a 0.13 us barrier many times over. But each write also times its real
  // barrier into the cost set before it, and one call that the scheduler stalled (a sample
  // counts for up to 100 us) makes it 12.6 us, which 4,000 reads do not pay for: that write can
  // switch readers to locked, until a review sees the cost set back, a period or two later.
  // (Judging the last period alone failed in CI so.) Hence most periods, not all.
  const std::vector<bool> cheap = run(128);
  CHECK(std::count(cheap.begin(), cheap.end(), true) >= writes - 10);
  // Not for a 1 ms barrier: the average gap, which starts long after a read-only spell, falls
  // below what pays within some 20 writes, and readers stay locked from then on.
  const std::vector<bool> dear = run(1'000'000);
  CHECK(std::count(dear.begin() + writes / 2, dear.end(), true) == 0);
  heavy_barrier_ns.store(learned);
}

TEST_CASE("a cache that one thread uses keeps fence-free hits however often it writes") {
  // Its writer has no other reader to fence against, so it skips the barrier, and the write
  // rate no longer matters. A second thread ends that: its writes need the barrier again, and
  // frequent writes send readers back to locked instructions.
  if (!twat_cache::detail::heavy_barrier_available()) return;  // no light mode to switch to
  constexpr int keys = 32;
  int calls = 0;
  auto f = twat_cache::mcache(
      [&calls](int x) {
        ++calls;
        return x * 3 + 4;
      },
      {.maxsize = 2 * keys});
  for (int i = 0; i < 3 * 4'096; ++i) {  // every other call a miss that evicts
    REQUIRE(f(i % keys) == (i % keys) * 3 + 4);
    REQUIRE(f(1'000 + i) == (1'000 + i) * 3 + 4);
  }
  CHECK(f.engine().light_readers());
  for (int k = 0; k < keys; ++k)  // stored if they were not
    REQUIRE(f(k) == k * 3 + 4);
  const int before = calls;
  for (int k = 0; k < keys; ++k)  // then hits, which do not call the function
    REQUIRE(f(k) == k * 3 + 4);
  CHECK(calls == before);

  std::atomic<int> wrong{0};
  auto g = twat_cache::mcache([](int x) { return x * 3 + 4; }, {.maxsize = 2 * keys});
  for (int i = 0; i < 3 * 4'096; ++i)
    REQUIRE(g(i % keys) == (i % keys) * 3 + 4);
  REQUIRE(g.engine().light_readers());
  // A second thread arrives while the only one writes without barriers: its first read must
  // wait out the write it did not fence against, and every value must stay right.
  std::atomic<bool> writing{false};
  std::thread reader([&] {
    while (!writing.load())
      std::this_thread::yield();
    for (int i = 0; i < 20'000; ++i) {
      const int k = i % keys;
      if (g(k) != k * 3 + 4) wrong.fetch_add(1);
    }
  });
  for (int i = 0; i < 20'000; ++i) {  // every call a miss that evicts
    if (i == 100) writing.store(true);
    const int k = 10'000 + i;
    if (g(k) != k * 3 + 4) wrong.fetch_add(1);
  }
  reader.join();
  REQUIRE(wrong.load() == 0);
  for (int i = 0; i < 100; ++i)  // a burst of writes with no reads between them
    REQUIRE(g(-1 - i) == (-1 - i) * 3 + 4);
  CHECK_FALSE(g.engine().light_readers());
}

TEST_CASE("hits switch to fence-free announcements when writes are rare, and back; values hold") {
  // The reader lock changes how hits announce themselves with the write rate. Whatever the mode,
  // and across every switch, each call must return its own key's value. (Catch2's assertions
  // are not thread-safe: threads count wrong values, the test thread checks the count.)
  constexpr int keys = 256;
  auto f = twat_cache::mcache([](int x) { return x * 7 + 1; }, {.maxsize = 2 * keys});
  for (int k = 0; k < keys; ++k)
    REQUIRE(f(k) == k * 7 + 1);

  const bool light_possible = twat_cache::detail::heavy_barrier_available();
  std::atomic<int> wrong{0};
  for (int round = 0; round < 3; ++round) {
    // Read-mostly: two threads hit for a while; the mode turns light where it can.
    run_threads(2, [&](int t) {
      for (int i = 0; i < 40'000; ++i) {
        const int k = (i * 31 + t) % keys;
        if (f(k) != k * 7 + 1) wrong.fetch_add(1);
      }
    });
    REQUIRE(wrong.load() == 0);
    if (light_possible) CHECK(f.engine().light_readers());

    // Write-heavy: every call a new key, evicting; hits keep running on the other thread.
    run_threads(2, [&](int t) {
      for (int i = 0; i < 5'000; ++i) {
        const int k = t == 0 ? keys + round * 100'000 + i : i % keys;
        if (f(k) != k * 7 + 1) wrong.fetch_add(1);
      }
    });
    REQUIRE(wrong.load() == 0);
    // A burst of writes with no reads between them: readers go back to locked instructions.
    for (int i = 0; i < 100; ++i) {
      const int k = -1 - round * 1000 - i;
      REQUIRE(f(k) == k * 7 + 1);
    }
    CHECK_FALSE(f.engine().light_readers());
  }
}

TEST_CASE(
    "invalidate() or clear() during a computation keeps its value out of the cache; another "
    "key's invalidate() does not") {
  const auto how = GENERATE(test_support::every_invalidation());
  CAPTURE(how);
  SECTION("mcache, every policy, with and without single flight") {
    const auto p = GENERATE(test_support::every_policy());
    const bool single_flight = GENERATE(true, false);
    CAPTURE(twat_cache::policy_name(p), single_flight);
    test_support::versioned_record record;
    auto f = twat_cache::mcache([&record](int x) { return record.read(x); },
                                {.policy = p, .single_flight = single_flight});
    test_support::invalidate_during_a_computation(record, f, how);
  }
  SECTION("a cache used by several threads, whose stores wait in batches") {
    test_support::versioned_record record;
    auto f = twat_cache::mcache([&record](int x) { return record.read(x); });
    CHECK_FALSE(f.contains(1));  // this thread's slot, then another's: stores go pending now
    std::thread([&f] { CHECK_FALSE(f.contains(1)); }).join();
    CHECK(f(100) == 1);
    CHECK(f.engine().pending_stores() == 1);
    test_support::invalidate_during_a_computation(record, f, how);
  }
  SECTION("std_lru, through the wrapper's single flight") {
    test_support::versioned_record record;
    auto f = twat_cache::memoize<twat_cache::engines::std_lru>(
        [&record](int x) { return record.read(x); }, twat_cache::mcache_options{});
    test_support::invalidate_during_a_computation(record, f, how);
  }
  SECTION("ucache on std_lru, through its engine's own gate") {
    test_support::versioned_record record;
    auto f = twat_cache::ucache([&record](int x) { return record.read(x); },
                                {.preferred_engine = "std_lru"});
    test_support::invalidate_during_a_computation(record, f, how);
  }
}
