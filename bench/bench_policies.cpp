// bench_policies: every eviction policy of mcache side by side, on what a policy costs beyond its
// hit ratio: throughput of a shared, thread-safe cache under a Zipf workload with 1 and 2 threads,
// and the memory each entry takes.
//
// Measured (names are what scripts/bench_ratios.py pairs on):
//   mt/zipf90/<policy>/real_time/threads:N  one shared mcache(f, {.maxsize = 10,000, .policy}),
//                                           int -> int, a Zipf key stream that hits ~90 % (the
//                                           counter hit_ratio is what this run reached), items/s
//   mt/zipf90_1us/<policy>/...             the same, memoizing a function of about 1 us (a
//                                           1,000-step multiply chain) instead of x * 3 + 1
//   mt/zipf999/<policy>/real_time/threads:N the same over 10,100 keys: one call in ~750 misses
//                                           (rare writes; informational)
//   mt/zipf100/<policy>/real_time/threads:N the same over 10,000 keys: all hits (informational,
//                                           the hit path's own scaling)
//   mt/<zipf90 or zipf90_1us>/limit_private baseline: each thread calls its own s3fifo mcache, so
//                                           nothing is shared: how far 2 threads scale on this
//                                           machine doing the same work
//   mt/<zipf90 or zipf90_1us>/limit_shared  baseline: the least a shared cache can do (64 shards
//                                           of open addressing behind sequence locks, FIFO,
//                                           no single flight, no statistics): how far 2
//                                           threads sharing one cache can scale when one call
//                                           in ten writes to it
//   mt/<zipf90 or zipf90_1us>/limit_featured the same table doing the least of what mcache's
//                                           default does besides: hits raise a 2-bit counter
//                                           that eviction reads (CLOCK, as s3fifo's main
//                                           queue), and a miss looks again and registers its
//                                           flight under the shard lock before computing
//                                           (single flight): how far a redesign of mcache
//                                           around readers that never wait could scale
//   memory/int_int/1M/<policy>              live heap bytes per entry after memoizing keys
//                                           0..1,000,999 with maxsize 1,000,000 (counters
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
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <variant>
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

/// A function just costly enough to be worth memoizing: a 1,000-step dependent multiply chain,
/// about 1 us (0.8 us on the machine of docs/performance.md).
constexpr auto f_1us = [](int x) -> int {
  auto v = static_cast<std::uint32_t>(x);
  for (int i = 0; i < 1000; ++i) {
    v = v * 2654435761u + 1;
    benchmark::DoNotOptimize(v);  // each step waits for the one before; none is folded away
  }
  return static_cast<int>(v);
};
using memo_1us = decltype(tc::mcache(f_1us));
using any_memo = std::variant<memo_int, memo_1us>;

// ---- Zipf workload ------------------------------------------------------------------------------

constexpr std::size_t zipf_maxsize = 10'000;
constexpr double zipf_alpha = 1.0;

/// A workload: Zipf ranks over `universe` keys, memoizing f_int or f_1us. zipf90 is the one the
/// goal is about (with alpha 1.0, LRU hits ~90 % of 20,000 keys at 10,000 entries); zipf90_1us is
/// the same with a function worth caching; zipf100 fits in the cache, so every call hits once warm:
/// the hit path alone under threads, for telling its cost from the misses'.
/// zipf999 misses about one call in 750: writes rare enough that hits may announce themselves
/// without a locked instruction, yet each write then costs a barrier on every CPU, whose price
/// varies a hundredfold between machines (0.15 us bare, 15 us on a KVM guest); the lock must
/// choose by what it costs here.
struct workload {
  const char* name;
  std::size_t universe;
  bool costly;  // f_1us, else f_int
  bool limits;  // also run limit_private and limit_shared on it
};
constexpr workload workloads[] = {{"zipf90", 20'000, false, true},
                                  {"zipf90_1us", 20'000, true, true},
                                  {"zipf999", 10'100, false, false},
                                  {"zipf100", zipf_maxsize, false, false}};
constexpr std::size_t zipf_length = std::size_t{1} << 20;
constexpr std::uint64_t zipf_seed = 20240611;

int key_of_rank(std::size_t rank) {
  return static_cast<int>(rank) * 7919 + 13;  // spread out, distinct, positive
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

any_memo make_memo(const workload& w, tc::policy p) {
  if (w.costly) return tc::mcache(f_1us, {.maxsize = zipf_maxsize, .policy = p});
  return tc::mcache(f_int, {.maxsize = zipf_maxsize, .policy = p});
}

// ---- the limits of 2-thread scaling, measured in the same run ----------------------------------

/// The CPU's spin-wait hint, where it has one.
inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// The least a shared cache can do, for the limit of how far two threads sharing one cache can
/// scale when one call in ten writes: int keys in 64 shards, each an open-addressing table behind
/// a sequence lock (a hit reads the shard's sequence number and writes nothing; a miss takes the
/// shard's spin lock and bumps the sequence twice), FIFO eviction per shard, no single flight, no
/// statistics, no TTL. Not a cache to use: an insert can make a concurrent hit retry.
/// Featured: also what mcache's default does per call (see limit_featured above): a hit raises
/// its entry's 2-bit counter (written only while below 3, as s3fifo's touch), eviction gives an
/// entry with a count another round (CLOCK), and a miss takes the shard lock once more before
/// computing, to look again and register its flight (waiters are not modelled: Zipf misses of
/// one key by both threads at once are rare).
template <class F, bool Featured = false>
class limit_shared_cache {
 public:
  explicit limit_shared_cache(F f) : f_(f), shards_(std::make_unique<shard[]>(shard_count)) {}

  int operator()(int key, bool& hit) {
    const std::uint64_t h = static_cast<std::uint64_t>(static_cast<std::uint32_t>(key)) * golden;
    shard& s = shards_[h >> 58];  // 64 shards
    int value = 0;
    hit = s.find(key, value);
    if (!hit) {
      if constexpr (Featured) {
        if (s.register_flight(key, value)) {  // stored since the lookup
          hit = true;
          return value;
        }
      }
      value = f_(key);
      s.insert(key, value);
    }
    return value;
  }

 private:
  static constexpr std::uint64_t golden = 0x9E3779B97F4A7C15u;
  static constexpr std::uint32_t shard_count = 64;
  static constexpr std::uint32_t per_shard = zipf_maxsize / shard_count;
  static constexpr std::uint32_t slot_count = 256;  // a power of 2, at most 61 % full
  static constexpr std::uint32_t mask = slot_count - 1;
  static constexpr int empty = -1;  // keys are positive

  struct alignas(64) shard {
    std::atomic<std::uint32_t> sequence{0};  // odd while a writer changes the table
    std::atomic<bool> locked{false};
    std::atomic<int> keys[slot_count];
    std::atomic<int> values[slot_count];
    std::atomic<std::uint8_t> counts[Featured ? slot_count : 1];  // reads, capped at 3
    int fifo[per_shard] = {};                                     // writers only
    std::uint32_t fifo_head = 0, fifo_size = 0;
    std::vector<int> flights;  // keys being computed (Featured)

    shard() {
      for (auto& k : keys)
        k.store(empty, std::memory_order_relaxed);
      for (auto& c : counts)
        c.store(0, std::memory_order_relaxed);
      flights.reserve(8);
    }
    void lock() {
      while (locked.exchange(true, std::memory_order_acquire)) {
        while (locked.load(std::memory_order_relaxed))
          spin_pause();
      }
    }
    void unlock() { locked.store(false, std::memory_order_release); }
    /// Single flight's second look and registration: true (and `value`) if `key` was stored
    /// since the lookup.
    bool register_flight(int key, int& value) {
      lock();
      const std::uint32_t i = probe(key);
      const bool stored = keys[i].load(std::memory_order_relaxed) == key;
      if (stored) {
        value = values[i].load(std::memory_order_relaxed);
      } else {
        flights.push_back(key);
      }
      unlock();
      return stored;
    }
    void touch(std::uint32_t i) {
      const std::uint8_t c = counts[i].load(std::memory_order_relaxed);
      if (c < 3) counts[i].store(static_cast<std::uint8_t>(c + 1), std::memory_order_relaxed);
    }
    static std::uint32_t home(int key) {
      const std::uint64_t h = static_cast<std::uint64_t>(static_cast<std::uint32_t>(key)) * golden;
      return static_cast<std::uint32_t>(h >> 50) & mask;  // bits below the shard's
    }
    /// The slot holding `key`, or the empty slot that ends its probe sequence.
    std::uint32_t probe(int key) const {
      std::uint32_t i = home(key);
      for (int k; (k = keys[i].load(std::memory_order_relaxed)) != key && k != empty;)
        i = (i + 1) & mask;
      return i;
    }
    bool find(int key, int& value) {
      for (;;) {
        const std::uint32_t before = sequence.load(std::memory_order_acquire);
        if (before & 1) {
          spin_pause();
          continue;
        }
        const std::uint32_t i = probe(key);
        const bool found = keys[i].load(std::memory_order_relaxed) == key;
        const int v = values[i].load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (sequence.load(std::memory_order_relaxed) == before) {
          if constexpr (Featured) {
            if (found) touch(i);
          }
          value = v;
          return found;
        }
      }
    }
    void insert(int key, int value) {
      lock();
      if (keys[probe(key)].load(std::memory_order_relaxed) != key) {  // not stored meanwhile
        const std::uint32_t seq = sequence.load(std::memory_order_relaxed);
        sequence.store(seq + 1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        if (fifo_size == per_shard) {
          if constexpr (Featured) {  // CLOCK: an entry read since it last came round goes again
            // Ends: hits touch only between writes (their sequence check fails during one).
            for (;;) {
              const std::uint32_t at = probe(fifo[fifo_head]);
              const std::uint8_t c = counts[at].load(std::memory_order_relaxed);
              if (c == 0) break;
              counts[at].store(static_cast<std::uint8_t>(c - 1), std::memory_order_relaxed);
              fifo_head = (fifo_head + 1) % per_shard;  // the ring keeps it, now at the back
            }
          }
          erase_at(probe(fifo[fifo_head]));
          fifo[fifo_head] = key;
          fifo_head = (fifo_head + 1) % per_shard;
        } else {
          fifo[(fifo_head + fifo_size++) % per_shard] = key;
        }
        const std::uint32_t i = probe(key);
        keys[i].store(key, std::memory_order_relaxed);
        values[i].store(value, std::memory_order_relaxed);
        if constexpr (Featured) counts[i].store(0, std::memory_order_relaxed);
        sequence.store(seq + 2, std::memory_order_release);
      }
      if constexpr (Featured) {  // the flight lands
        const auto it = std::find(flights.begin(), flights.end(), key);
        if (it != flights.end()) {
          *it = flights.back();
          flights.pop_back();
        }
      }
      unlock();
    }
    /// Linear probing's deletion: later keys of the run move back over the hole.
    void erase_at(std::uint32_t hole) {
      for (std::uint32_t j = (hole + 1) & mask;; j = (j + 1) & mask) {
        const int k = keys[j].load(std::memory_order_relaxed);
        if (k == empty) break;
        if (((j - home(k)) & mask) >= ((j - hole) & mask)) {  // the hole is on k's probe path
          keys[hole].store(k, std::memory_order_relaxed);
          values[hole].store(values[j].load(std::memory_order_relaxed), std::memory_order_relaxed);
          if constexpr (Featured)
            counts[hole].store(counts[j].load(std::memory_order_relaxed),
                               std::memory_order_relaxed);
          hole = j;
        }
      }
      keys[hole].store(empty, std::memory_order_relaxed);
    }
  };

  F f_;
  std::unique_ptr<shard[]> shards_;
};

using any_limit_shared =
    std::variant<limit_shared_cache<decltype(f_int)>, limit_shared_cache<decltype(f_1us)>>;
using any_limit_featured = std::variant<limit_shared_cache<decltype(f_int), true>,
                                        limit_shared_cache<decltype(f_1us), true>>;

/// A workload's caches, made before any benchmark runs (so no thread races the setup).
struct workload_caches {
  const workload* w;
  std::vector<int> stream;
  std::vector<std::pair<tc::policy, any_memo>> shared;  // one shared mcache per policy
  std::vector<any_memo> private_memos;  // limit_private: thread i calls its own s3fifo mcache
  std::optional<any_limit_shared> limit_shared;
  std::optional<any_limit_featured> limit_featured;
};
std::vector<workload_caches>* caches = nullptr;

/// Per thread, the fraction of calls that hit, averaged over the threads.
void report_hit_ratio(benchmark::State& state, std::uint64_t hits) {
  state.counters["hit_ratio"] =
      benchmark::Counter(static_cast<double>(hits) / static_cast<double>(state.iterations()),
                         benchmark::Counter::kAvgThreads);
}

/// Each thread starts at its own place in the stream, so threads do not walk in step.
std::size_t start_of(const benchmark::State& state, const std::vector<int>& stream) {
  return static_cast<std::size_t>(state.thread_index()) * (stream.size() / 2);
}

template <class Memo>
void bench_zipf(benchmark::State& state, Memo& memo, const std::vector<int>& stream) {
  std::size_t i = start_of(state, stream);
  const tc::cache_stats before = memo.stats();
  for (auto _ : state) {
    benchmark::DoNotOptimize(memo(stream[i]));
    i = next(i, stream.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  if (state.thread_index() == 0) {
    // Thread 0 before any call and after every thread's last (the start and finish barriers),
    // or, for a private cache, this thread's own.
    const tc::cache_stats after = memo.stats();
    const auto hits = static_cast<double>(after.hits - before.hits);
    const auto lookups = hits + static_cast<double>(after.misses - before.misses);
    state.counters["hit_ratio"] = lookups == 0 ? 0.0 : hits / lookups;
  }
}

template <class Limit>
void bench_limit_shared(benchmark::State& state, Limit& limit, const std::vector<int>& stream) {
  std::size_t i = start_of(state, stream);
  std::uint64_t hits = 0;
  for (auto _ : state) {
    bool hit;
    benchmark::DoNotOptimize(limit(stream[i], hit));
    hits += hit;
    i = next(i, stream.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  report_hit_ratio(state, hits);
}

// ---- memory per entry ---------------------------------------------------------------------------

constexpr int memory_entries = 1'000'000;
// Keys memoized past maxsize: the cache is full and evicting, as in steady state (s3fifo makes its
// ghost set at the first eviction).
constexpr int memory_evicted = 1'000;
constexpr double key_value_bytes = sizeof(int) + sizeof(int);

void bench_memory_per_entry(benchmark::State& state, tc::policy p) {
  static std::vector<tc::policy> printed;  // one stderr breakdown per policy, not per repetition
  for (auto _ : state) {
    double bytes = 0, blocks = 0, peak = 0;
    std::vector<std::size_t> big;
    {
      const alloc_count::window window;
      auto memo = tc::mcache(f_int, {.maxsize = memory_entries, .policy = p});
      for (int k = 0; k < memory_entries + memory_evicted; ++k)
        benchmark::DoNotOptimize(memo(k));
      bytes = static_cast<double>(window.bytes());
      blocks = static_cast<double>(window.blocks());
      peak = static_cast<double>(window.peak());
      big = window.big_blocks();
      const tc::cache_stats s = memo.stats();
      if (s.size != static_cast<std::uint64_t>(memory_entries) ||
          s.evictions != static_cast<std::uint64_t>(memory_evicted)) {
        state.SkipWithError("the cache is not full, or evicted more than it had to");
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

template <class Bench>
void register_mt(const std::string& name, Bench bench) {
  benchmark::RegisterBenchmark(name.c_str(), bench)->Threads(1)->Threads(2)->UseRealTime();
}

void register_all(const std::vector<tc::policy>& policies) {
  for (std::size_t n = 0; n < caches->size(); ++n) {
    const std::string prefix = std::string("mt/") + (*caches)[n].w->name + "/";
    for (std::size_t m = 0; m < (*caches)[n].shared.size(); ++m) {
      register_mt(prefix + policy_str((*caches)[n].shared[m].first), [n, m](benchmark::State& st) {
        workload_caches& c = (*caches)[n];
        std::visit([&](auto& memo) { bench_zipf(st, memo, c.stream); }, c.shared[m].second);
      });
    }
    if (!(*caches)[n].private_memos.empty()) {
      register_mt(prefix + "limit_private", [n](benchmark::State& st) {
        workload_caches& c = (*caches)[n];
        auto& memo = c.private_memos[static_cast<std::size_t>(st.thread_index())];
        std::visit([&](auto& own) { bench_zipf(st, own, c.stream); }, memo);
      });
    }
    if ((*caches)[n].limit_shared) {
      register_mt(prefix + "limit_shared", [n](benchmark::State& st) {
        workload_caches& c = (*caches)[n];
        std::visit([&](auto& limit) { bench_limit_shared(st, limit, c.stream); }, *c.limit_shared);
      });
    }
    if ((*caches)[n].limit_featured) {
      register_mt(prefix + "limit_featured", [n](benchmark::State& st) {
        workload_caches& c = (*caches)[n];
        std::visit([&](auto& limit) { bench_limit_shared(st, limit, c.stream); },
                   *c.limit_featured);
      });
    }
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
  std::vector<workload_caches> objects;
  objects.reserve(std::size(workloads));
  for (const workload& w : workloads) {
    workload_caches& c = objects.emplace_back();
    c.w = &w;
    c.stream = make_zipf_stream(w.universe);
    auto warm = [&](auto& call) {  // one walk: what the cache keeps in steady state
      for (const int k : c.stream)
        benchmark::DoNotOptimize(call(k));
    };
    auto warm_memo = [&](any_memo& memo) { std::visit([&](auto& m) { warm(m); }, memo); };
    for (const tc::policy p : policies) {
      c.shared.emplace_back(p, make_memo(w, p));
      warm_memo(c.shared.back().second);
    }
    if (!w.limits) continue;
    for (int t = 0; t < 2; ++t) {
      c.private_memos.push_back(make_memo(w, tc::default_policy));
      warm_memo(c.private_memos.back());
    }
    if (w.costly) {
      c.limit_shared.emplace(std::in_place_index<1>, f_1us);
      c.limit_featured.emplace(std::in_place_index<1>, f_1us);
    } else {
      c.limit_shared.emplace(std::in_place_index<0>, f_int);
      c.limit_featured.emplace(std::in_place_index<0>, f_int);
    }
    auto warm_limit = [&](auto& limit) {
      auto call = [&limit](int k) {
        bool hit;
        return limit(k, hit);
      };
      warm(call);
    };
    std::visit(warm_limit, *c.limit_shared);
    std::visit(warm_limit, *c.limit_featured);
  }
  caches = &objects;

  register_all(policies);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  caches = nullptr;
  return 0;
}
