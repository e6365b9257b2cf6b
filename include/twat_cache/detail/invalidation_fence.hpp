#pragma once
// Keeps a computed value out of a cache when its key was invalidated (or the cache cleared)
// while it was being computed: the value may rest on what the invalidation was about, and stored
// after it, would outlive it. Guava's caches have this race; projects built on them add such a
// fence of their own. A computation takes generation(hash) before it starts and stores through
// store_if_current(); an erase runs while it holds invalidating(hash), a clear while it holds
// invalidating_all().
//
// Invalidations are counted per stripe of key hashes, as the memory engine counts them: with one
// count for all keys, a steady stream of erases of other keys would keep a slow computation from
// ever being stored.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <twat_cache/config.hpp>
#include <twat_cache/detail/hash_bytes.hpp>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

class invalidation_fence {
 public:
  /// What a computation of the key with hash `key_hash` starting now hands to store_if_current()
  /// when it ends. Computations of one key share it until that key's stripe is invalidated.
  [[nodiscard]] std::uint64_t generation(std::uint64_t key_hash) const noexcept {
    return count_of(key_hash).load(std::memory_order_acquire);
  }

  /// Held while the key with hash `key_hash` is erased: computations of it (and of the keys that
  /// share its stripe) running now then store nothing.
  [[nodiscard]] std::unique_lock<std::shared_mutex> invalidating(std::uint64_t key_hash) {
    std::unique_lock lock(mutex_);
    count_of(key_hash).fetch_add(1, std::memory_order_relaxed);
    return lock;
  }

  /// Held while a clear runs: every computation running now then stores nothing.
  [[nodiscard]] std::unique_lock<std::shared_mutex> invalidating_all() {
    std::unique_lock lock(mutex_);
    for (auto& count : counts_)
      count.fetch_add(1, std::memory_order_relaxed);
    return lock;
  }

  /// Runs `store` unless the stripe of `key_hash` was invalidated since `generation`; true if it
  /// ran. Coarse within a stripe: an invalidation of a key sharing it may skip a store that could
  /// have been kept (never the reverse). The shared lock keeps an invalidation from slipping
  /// between the test and the put.
  template <class Store>
  bool store_if_current(std::uint64_t key_hash, std::uint64_t generation, Store&& store) {
    const std::shared_lock lock(mutex_);
    if (count_of(key_hash).load(std::memory_order_relaxed) != generation) return false;
    store();
    return true;
  }

  /// store_if_current() for a cache one thread alone uses (an engine made with thread_safe =
  /// false): only that thread could invalidate, from inside the computation, so before this
  /// test; the test needs no lock, which would cost a single-threaded miss two atomic writes.
  template <class Store>
  bool store_if_current_alone(std::uint64_t key_hash, std::uint64_t generation, Store&& store) {
    if (count_of(key_hash).load(std::memory_order_relaxed) != generation) return false;
    store();
    return true;
  }

 private:
  static constexpr unsigned stripe_bits = 6;

  [[nodiscard]] std::atomic<std::uint64_t>& count_of(std::uint64_t key_hash) noexcept {
    return counts_[stripe_index(key_hash, stripe_bits)];
  }
  [[nodiscard]] const std::atomic<std::uint64_t>& count_of(std::uint64_t key_hash) const noexcept {
    return counts_[stripe_index(key_hash, stripe_bits)];
  }

  mutable std::shared_mutex mutex_;
  // Raised under the exclusive lock only; read without it when a computation begins. Unpadded:
  // invalidations are rare, and a miss reads one count.
  std::array<std::atomic<std::uint64_t>, std::size_t{1} << stripe_bits> counts_{};
};

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
