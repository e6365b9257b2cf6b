#pragma once
// Keeps a computed value out of a cache when its key was invalidated (or the cache cleared)
// while it was being computed: the value may rest on what the invalidation was about, and stored
// after it, would outlive it. Guava's caches have this race; projects built on them add such a
// fence of their own. A computation takes generation() before it starts and stores through
// store_if_current(); an erase or clear runs while it holds invalidating().

#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <twat_cache/config.hpp>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

class invalidation_fence {
 public:
  /// What a computation starting now hands to store_if_current() when it ends.
  [[nodiscard]] std::uint64_t generation() const noexcept {
    return invalidations_.load(std::memory_order_acquire);
  }

  /// Held while an erase or a clear runs: computations running now then store nothing.
  [[nodiscard]] std::unique_lock<std::shared_mutex> invalidating() {
    std::unique_lock lock(mutex_);
    invalidations_.fetch_add(1, std::memory_order_relaxed);
    return lock;
  }

  /// Runs `store` unless invalidate() ran since `generation`; true if it ran. Coarse: any key's
  /// invalidation counts, so a store may be skipped that could have been kept (never the
  /// reverse). The shared lock keeps an invalidation from slipping between the test and the put.
  template <class Store>
  bool store_if_current(std::uint64_t generation, Store&& store) {
    const std::shared_lock lock(mutex_);
    if (invalidations_.load(std::memory_order_relaxed) != generation) return false;
    store();
    return true;
  }

  /// store_if_current() for a cache one thread alone uses (an engine made with thread_safe =
  /// false): only that thread could invalidate, from inside the computation, so before this
  /// test; the test needs no lock, which would cost a single-threaded miss two atomic writes.
  template <class Store>
  bool store_if_current_alone(std::uint64_t generation, Store&& store) {
    if (invalidations_.load(std::memory_order_relaxed) != generation) return false;
    store();
    return true;
  }

 private:
  mutable std::shared_mutex mutex_;
  std::atomic<std::uint64_t> invalidations_{0};
};

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
