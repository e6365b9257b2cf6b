// acache hit costs, next to the mcache hit measured in the same run (the baseline):
//   acache/hit/mcache              mcache<int(int)>, the synchronous hit
//   acache/hit/task_sync_wait      acache of task<int>, each hit through sync_wait (goal: <= 3x)
//   acache/hit/task_co_await       acache of task<int>, each hit co_awaited inside one coroutine
//   acache/hit/boost_asio_co_await acache of boost::asio::awaitable<int>, co_awaited inside one
//                                  Asio coroutine (with Boost)
// Each reports allocs_per_hit: operator new calls per hit in the timed loop (this program counts
// them by replacing operator new). Keys cycle over 1024 ints, all cached before timing.
// Run: build/bench-release/bench/bench_acache; ratios: scripts/bench_ratios.py.

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // malloc/free pairs, inlined
#endif

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <twat_cache/acache.hpp>
#include <twat_cache/mcache.hpp>
#include <twat_cache/task.hpp>
#include <vector>

#if TWAT_CACHE_WITH_BOOST
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <twat_cache/boost_asio.hpp>
#endif

namespace {
std::atomic<std::uint64_t> allocations{0};
}
void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

namespace tc = twat_cache;
constexpr int key_count = 1024;

int square(int x) {
  return x * x;
}
tc::task<int> square_task(int x) {
  co_return x* x;
}

/// Times `state`'s loop through `body(key)`, and reports the allocations per iteration.
class alloc_meter {
 public:
  explicit alloc_meter(benchmark::State& state) : state_(state), start_(allocations.load()) {}
  ~alloc_meter() {
    const auto per_hit =
        static_cast<double>(allocations.load() - start_) /
        static_cast<double>(std::max<benchmark::IterationCount>(state_.iterations(), 1));
    state_.counters["allocs_per_hit"] = per_hit;
    state_.SetItemsProcessed(static_cast<std::int64_t>(state_.iterations()));
  }
  alloc_meter(const alloc_meter&) = delete;
  alloc_meter& operator=(const alloc_meter&) = delete;

 private:
  benchmark::State& state_;
  std::uint64_t start_;
};

void mcache_hit(benchmark::State& state) {
  auto f = tc::mcache(square);
  for (int k = 0; k < key_count; ++k)
    benchmark::DoNotOptimize(f(k));
  int k = 0;
  alloc_meter meter(state);
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(k));
    k = (k + 1) & (key_count - 1);
  }
}

void task_sync_wait_hit(benchmark::State& state) {
  auto f = tc::acache(square_task);
  for (int k = 0; k < key_count; ++k)
    benchmark::DoNotOptimize(tc::sync_wait(f(k)));
  int k = 0;
  alloc_meter meter(state);
  for (auto _ : state) {
    benchmark::DoNotOptimize(tc::sync_wait(f(k)));
    k = (k + 1) & (key_count - 1);
  }
}

template <class F>
tc::task<void> co_await_loop(benchmark::State& state, F& f) {
  int k = 0;
  alloc_meter meter(state);
  for (auto _ : state) {
    benchmark::DoNotOptimize(co_await f(k));
    k = (k + 1) & (key_count - 1);
  }
}

void task_co_await_hit(benchmark::State& state) {
  auto f = tc::acache(square_task);
  for (int k = 0; k < key_count; ++k)
    benchmark::DoNotOptimize(tc::sync_wait(f(k)));
  tc::sync_wait(co_await_loop(state, f));
}

#if TWAT_CACHE_WITH_BOOST
namespace net = boost::asio;

net::awaitable<int> square_awaitable(int x) {
  co_return x* x;
}

template <class F>
net::awaitable<void> asio_loop(benchmark::State& state, F& f) {
  for (int k = 0; k < key_count; ++k)
    benchmark::DoNotOptimize(co_await f(k));
  int k = 0;
  alloc_meter meter(state);
  for (auto _ : state) {
    benchmark::DoNotOptimize(co_await f(k));
    k = (k + 1) & (key_count - 1);
  }
}

void boost_asio_co_await_hit(benchmark::State& state) {
  auto f = tc::acache(square_awaitable);
  net::io_context io;
  net::co_spawn(io, asio_loop(state, f), net::detached);
  io.run();
}
#endif

}  // namespace

BENCHMARK(mcache_hit)->Name("acache/hit/mcache");
BENCHMARK(task_sync_wait_hit)->Name("acache/hit/task_sync_wait");
BENCHMARK(task_co_await_hit)->Name("acache/hit/task_co_await");
#if TWAT_CACHE_WITH_BOOST
BENCHMARK(boost_asio_co_await_hit)->Name("acache/hit/boost_asio_co_await");
#endif

BENCHMARK_MAIN();
