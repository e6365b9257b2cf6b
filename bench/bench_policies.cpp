// bench_policies: every eviction policy of mcache side by side, on what a policy costs beyond its
// hit ratio: throughput of a shared, thread-safe cache under a Zipf workload with 1 and 2 threads,
// and the memory each entry takes.
//
// Measured (names are what scripts/bench_ratios.py pairs on):
//   mt/zipf90/<policy>/real_time/threads:N  one shared mcache(f, {.maxsize = 10,000, .policy}),
//                                           int -> int, a Zipf key stream that hits ~90 % (the
//                                           counter hit_ratio is what this run reached), items/s
//   mt/zipf100/<policy>/real_time/threads:N the same over 10,000 keys: all hits (informational,
//                                           the hit path's own scaling)
//   memory/int_int/1M/<policy>              live heap bytes per entry after memoizing keys
//                                           0..999,999 with maxsize 1,000,000 (counters
//                                           bytes_per_entry, overhead_per_entry beyond the 8
//                                           bytes of key and value, hash_table_per_entry,
//                                           peak_bytes_per_entry, live_blocks)
// Policies that throw config_error when made (not built in this version) are skipped with a note
// on stderr, so the program picks them up when they land.
//
// Method. Zipf: ranks 1..20,000 (zipf100: 1..10,000) with P(k) ~ k^-1.0, drawn by an exact inverse
// CDF (binary search of the cumulative weights) from mt19937_64 with a fixed seed, 2^20 draws
// precomputed; rank k is key k * 7919 + 13. With 10,000 entries LRU hits ~90 % of it (other
// policies more or less: see hit_ratio). Each thread walks the stream from its own offset; the
// caches are warmed by one full walk before any timing. Memory: a replacement global operator
// new/delete counts the bytes of the blocks allocated while a measurement window is open that are
// still live when it is read, so the key stream, Google Benchmark's own state and blocks freed
// before the read are excluded. main() starts and joins a thread first, as bench_memory does.
//
// Run: bench_policies --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//        --benchmark_format=json > p.json; scripts/bench_ratios.py p.json

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <twat_cache/cache.hpp>

// ---- counting global allocation -----------------------------------------------------------------
//
// Every block carries a 16-byte header (its size, and whether it was allocated inside a window),
// so unsized and sized deletes alike give back exactly what was counted, and a block allocated
// before a window opened and freed inside it does not make the count go negative.

namespace alloc_count {

struct header {
  std::size_t size;
  std::size_t counted;  // 1: allocated while a window was open
};
static_assert(sizeof(header) == 16);
constexpr std::size_t header_size = 16;  // keeps __STDCPP_DEFAULT_NEW_ALIGNMENT__ (16) alignment

std::atomic<bool> open{false};
std::atomic<std::int64_t> live_bytes{0};
std::atomic<std::int64_t> live_blocks{0};
std::atomic<std::int64_t> peak_bytes{0};

// Large blocks live in the window, for a breakdown: a fixed table, as operator new cannot itself
// use an allocating container. Tables and per-handle arrays of a 1M-entry cache are all large.
constexpr std::size_t big_block = 64 * 1024;
constexpr std::size_t big_slots = 256;
struct big_entry {
  std::uintptr_t ptr;  // an address, never dereferenced (0: free)
  std::size_t size;
};
big_entry big[big_slots];
std::atomic_flag big_lock = ATOMIC_FLAG_INIT;

void lock_big() noexcept {
  while (big_lock.test_and_set(std::memory_order_acquire)) {
  }
}
void unlock_big() noexcept {
  big_lock.clear(std::memory_order_release);
}

void note_alloc(std::uintptr_t user, std::size_t size) noexcept {
  const auto n = static_cast<std::int64_t>(size);
  const std::int64_t now = live_bytes.fetch_add(n, std::memory_order_relaxed) + n;
  live_blocks.fetch_add(1, std::memory_order_relaxed);
  std::int64_t peak = peak_bytes.load(std::memory_order_relaxed);
  while (now > peak && !peak_bytes.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
  if (size < big_block) return;
  lock_big();
  for (big_entry& e : big) {
    if (e.ptr == 0) {
      e = {user, size};
      break;
    }
  }
  unlock_big();
}

void note_free(std::uintptr_t user, std::size_t size) noexcept {
  live_bytes.fetch_sub(static_cast<std::int64_t>(size), std::memory_order_relaxed);
  live_blocks.fetch_sub(1, std::memory_order_relaxed);
  if (size < big_block) return;
  lock_big();
  for (big_entry& e : big) {
    if (e.ptr == user) {
      e = {0, 0};
      break;
    }
  }
  unlock_big();
}

/// `offset` bytes before the user block start the underlying allocation; the header sits just
/// before the user block.
void* finish(void* base, std::size_t offset, std::size_t size) noexcept {
  char* user = static_cast<char*>(base) + offset;
  const bool counted = open.load(std::memory_order_relaxed);
  ::new (user - header_size) header{size, counted ? 1u : 0u};
  if (counted) note_alloc(reinterpret_cast<std::uintptr_t>(user), size);
  return user;
}

void* try_allocate(std::size_t size, std::size_t align) noexcept {
  if (align <= header_size) {
    void* base = std::malloc(size + header_size);
    return base == nullptr ? nullptr : finish(base, header_size, size);
  }
  // An over-aligned block: the header goes in the first `align` bytes, so the user block keeps
  // the alignment.
  const std::size_t total = (size + align + align - 1) / align * align;
  void* base = std::aligned_alloc(align, total);
  return base == nullptr ? nullptr : finish(base, align, size);
}

/// As the standard operator new: retry through the new-handler, else throw.
void* allocate(std::size_t size, std::size_t align) {
  for (;;) {
    if (void* p = try_allocate(size, align)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void* allocate_nothrow(std::size_t size, std::size_t align) noexcept {
  try {
    return allocate(size, align);
  } catch (...) {
    return nullptr;
  }
}

void release(void* user, std::size_t align) noexcept {
  if (user == nullptr) return;
  char* p = static_cast<char*>(user);
  const header* h = reinterpret_cast<const header*>(p - header_size);
  if (h->counted != 0) note_free(reinterpret_cast<std::uintptr_t>(user), h->size);
  std::free(p - (align <= header_size ? header_size : align));
}

/// A measurement: counts what is allocated from its construction on and still live when read.
class window {
 public:
  window() {
    live_bytes.store(0, std::memory_order_relaxed);
    live_blocks.store(0, std::memory_order_relaxed);
    peak_bytes.store(0, std::memory_order_relaxed);
    open.store(true, std::memory_order_relaxed);
  }
  ~window() { open.store(false, std::memory_order_relaxed); }
  window(const window&) = delete;
  window& operator=(const window&) = delete;

  std::int64_t bytes() const noexcept { return live_bytes.load(std::memory_order_relaxed); }
  std::int64_t blocks() const noexcept { return live_blocks.load(std::memory_order_relaxed); }
  std::int64_t peak() const noexcept { return peak_bytes.load(std::memory_order_relaxed); }
  /// Sizes of the live large blocks, largest first.
  std::vector<std::size_t> big_blocks() const {
    std::vector<std::size_t> sizes;
    sizes.reserve(big_slots);  // allocated before the table is read, so it does not change it
    lock_big();
    for (const big_entry& e : big) {
      if (e.ptr != 0) sizes.push_back(e.size);
    }
    unlock_big();
    std::sort(sizes.begin(), sizes.end(), std::greater<>());
    return sizes;
  }
};

}  // namespace alloc_count

void* operator new(std::size_t n) {
  return alloc_count::allocate(n, 0);
}
void* operator new[](std::size_t n) {
  return alloc_count::allocate(n, 0);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return alloc_count::allocate_nothrow(n, 0);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return alloc_count::allocate_nothrow(n, 0);
}
void* operator new(std::size_t n, std::align_val_t a) {
  return alloc_count::allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return alloc_count::allocate(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return alloc_count::allocate_nothrow(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return alloc_count::allocate_nothrow(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept {
  alloc_count::release(p, 0);
}
void operator delete[](void* p) noexcept {
  alloc_count::release(p, 0);
}
void operator delete(void* p, std::size_t) noexcept {
  alloc_count::release(p, 0);
}
void operator delete[](void* p, std::size_t) noexcept {
  alloc_count::release(p, 0);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  alloc_count::release(p, 0);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  alloc_count::release(p, 0);
}
void operator delete(void* p, std::align_val_t a) noexcept {
  alloc_count::release(p, static_cast<std::size_t>(a));
}
void operator delete[](void* p, std::align_val_t a) noexcept {
  alloc_count::release(p, static_cast<std::size_t>(a));
}
void operator delete(void* p, std::size_t, std::align_val_t a) noexcept {
  alloc_count::release(p, static_cast<std::size_t>(a));
}
void operator delete[](void* p, std::size_t, std::align_val_t a) noexcept {
  alloc_count::release(p, static_cast<std::size_t>(a));
}
void operator delete(void* p, std::align_val_t a, const std::nothrow_t&) noexcept {
  alloc_count::release(p, static_cast<std::size_t>(a));
}
void operator delete[](void* p, std::align_val_t a, const std::nothrow_t&) noexcept {
  alloc_count::release(p, static_cast<std::size_t>(a));
}

namespace {

namespace tc = twat_cache;

constexpr tc::policy all_policies[] = {tc::policy::lru, tc::policy::lfu,    tc::policy::fifo,
                                       tc::policy::rr,  tc::policy::s3fifo, tc::policy::tinylfu};

constexpr auto f_int = [](int x) -> int { return x * 3 + 1; };  // cheap: the cache's cost shows
using memo_int = decltype(tc::mcache(f_int));

// ---- Zipf workload ------------------------------------------------------------------------------

constexpr std::size_t zipf_maxsize = 10'000;
constexpr double zipf_alpha = 1.0;

/// A workload: Zipf ranks over `universe` keys. zipf90 is the one the goal is about (with alpha
/// 1.0, LRU hits ~90 % of 20,000 keys at 10,000 entries); zipf100 fits in the cache, so every
/// call hits once warm: the hit path alone under threads, for telling its cost from the misses'.
struct workload {
  const char* name;
  std::size_t universe;
};
constexpr workload workloads[] = {{"zipf90", 20'000}, {"zipf100", zipf_maxsize}};
constexpr std::size_t zipf_length = std::size_t{1} << 20;
constexpr std::uint64_t zipf_seed = 20240611;

int key_of_rank(std::size_t rank) {
  return static_cast<int>(rank) * 7919 + 13;  // spread out, distinct
}

/// The key stream: exact inverse-CDF sampling, reproducible across standard libraries (the
/// uniform draw is built from mt19937_64's bits, not by a distribution whose output varies).
std::vector<int> make_zipf_stream(std::size_t universe) {
  std::vector<double> cdf(universe);
  double sum = 0;
  for (std::size_t k = 0; k < universe; ++k) {
    sum += std::pow(static_cast<double>(k + 1), -zipf_alpha);
    cdf[k] = sum;
  }
  for (double& c : cdf)
    c /= sum;
  std::mt19937_64 rng(zipf_seed);
  std::vector<int> stream(zipf_length);
  for (int& key : stream) {
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // uniform in [0, 1)
    const auto rank =
        static_cast<std::size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
    key = key_of_rank(std::min(rank, universe - 1));  // rounding may leave u past cdf.back()
  }
  return stream;
}

inline std::size_t next(std::size_t i, std::size_t n) {
  return i + 1 == n ? 0 : i + 1;
}

/// A shared, warmed cache per workload and policy built in this version, made before any
/// benchmark runs (so no thread races the setup).
struct shared_cache {
  std::string name;  // mt/<workload>/<policy>
  const std::vector<int>* stream;
  memo_int memo;
};
struct shared_caches {
  std::vector<std::vector<int>> streams;  // one per workload
  std::vector<shared_cache> caches;
};
shared_caches* shared = nullptr;

void bench_zipf(benchmark::State& state, memo_int& memo, const std::vector<int>& stream) {
  // Each thread starts at its own place in the stream, so threads do not walk in step.
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * (stream.size() / 2);
  std::optional<tc::cache_stats> before;
  if (state.thread_index() == 0) before = memo.stats();  // before the start barrier: no call yet
  for (auto _ : state) {
    benchmark::DoNotOptimize(memo(stream[i]));
    i = next(i, stream.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  if (before) {  // past the finish barrier: every thread's calls are counted
    const tc::cache_stats after = memo.stats();
    const auto hits = static_cast<double>(after.hits - before->hits);
    const auto lookups = hits + static_cast<double>(after.misses - before->misses);
    state.counters["hit_ratio"] = lookups == 0 ? 0.0 : hits / lookups;
  }
}

// ---- memory per entry ---------------------------------------------------------------------------

constexpr int memory_entries = 1'000'000;
constexpr double key_value_bytes = sizeof(int) + sizeof(int);

void bench_memory_per_entry(benchmark::State& state, tc::policy p) {
  static std::vector<tc::policy> printed;  // one stderr breakdown per policy, not per repetition
  for (auto _ : state) {
    double bytes = 0, blocks = 0, peak = 0;
    std::vector<std::size_t> big;
    {
      const alloc_count::window window;
      auto memo = tc::mcache(f_int, {.maxsize = memory_entries, .policy = p});
      for (int k = 0; k < memory_entries; ++k)
        benchmark::DoNotOptimize(memo(k));
      bytes = static_cast<double>(window.bytes());
      blocks = static_cast<double>(window.blocks());
      peak = static_cast<double>(window.peak());
      big = window.big_blocks();
      const tc::cache_stats s = memo.stats();
      if (s.size != static_cast<std::uint64_t>(memory_entries) || s.evictions != 0) {
        state.SkipWithError("the cache did not hold every entry");
        return;
      }
    }
    const double n = memory_entries;
    state.counters["bytes_per_entry"] = bytes / n;
    state.counters["overhead_per_entry"] = bytes / n - key_value_bytes;
    state.counters["peak_bytes_per_entry"] = peak / n;
    state.counters["live_blocks"] = blocks;  // the engine allocates nothing per int -> int entry
    // The largest block is the hash table (per-handle arrays are at most a pointer per entry).
    state.counters["hash_table_per_entry"] = big.empty() ? 0.0 : static_cast<double>(big[0]) / n;
    if (std::find(printed.begin(), printed.end(), p) == printed.end()) {
      printed.push_back(p);
      std::fprintf(stderr,
                   "bench_policies: memory/int_int/1M/%s: %.2f B/entry (%.2f B overhead), peak "
                   "%.2f B/entry, %.0f live blocks; large blocks (B/entry):",
                   std::string(tc::policy_name(p)).c_str(), bytes / n, bytes / n - key_value_bytes,
                   peak / n, blocks);
      double rest = bytes;
      for (const std::size_t b : big) {
        std::fprintf(stderr, " %.2f", static_cast<double>(b) / n);
        rest -= static_cast<double>(b);
      }
      std::fprintf(stderr, "; the rest %.4f\n", rest / n);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * memory_entries);
}

// ---- registration -------------------------------------------------------------------------------

std::string policy_str(tc::policy p) {
  return std::string(tc::policy_name(p));
}

/// The policies this version builds; a note on stderr for each one it does not.
std::vector<tc::policy> built_policies() {
  std::vector<tc::policy> built;
  for (const tc::policy p : all_policies) {
    try {
      (void)tc::mcache(f_int, {.maxsize = zipf_maxsize, .policy = p});
      built.push_back(p);
    } catch (const tc::config_error& e) {
      std::fprintf(stderr, "bench_policies: policy %s skipped: %s\n", policy_str(p).c_str(),
                   e.what());
    }
  }
  return built;
}

void register_all(const std::vector<tc::policy>& policies) {
  for (std::size_t n = 0; n < shared->caches.size(); ++n) {
    benchmark::RegisterBenchmark(shared->caches[n].name.c_str(),
                                 [n](benchmark::State& st) {
                                   shared_cache& c = shared->caches[n];
                                   bench_zipf(st, c.memo, *c.stream);
                                 })
        ->Threads(1)
        ->Threads(2)
        ->UseRealTime();
  }
  for (const tc::policy p : policies) {
    const std::string name = "memory/int_int/1M/" + policy_str(p);
    benchmark::RegisterBenchmark(name.c_str(),
                                 [p](benchmark::State& st) { bench_memory_per_entry(st, p); })
        ->Iterations(1)  // one fill is the measurement; repetitions repeat it
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::thread([] {}).join();  // a process that has started a thread, as users' programs are
  const std::vector<tc::policy> policies = built_policies();
  shared_caches objects;
  for (const workload& w : workloads)
    objects.streams.push_back(make_zipf_stream(w.universe));
  for (std::size_t n = 0; n < std::size(workloads); ++n) {
    for (const tc::policy p : policies) {
      objects.caches.push_back({std::string("mt/") + workloads[n].name + "/" + policy_str(p),
                                &objects.streams[n],
                                tc::mcache(f_int, {.maxsize = zipf_maxsize, .policy = p})});
      for (const int k : objects.streams[n])  // warm: what the policy keeps in steady state
        benchmark::DoNotOptimize(objects.caches.back().memo(k));
    }
  }
  shared = &objects;

  register_all(policies);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  shared = nullptr;
  return 0;
}
