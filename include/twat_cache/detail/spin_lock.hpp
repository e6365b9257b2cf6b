#pragma once
// A lock for sections of a few dozen instructions that two cores may enter at once: one locked
// instruction to take, a plain store to release, and a waiter that polls with loads (the line
// stays shared while it waits) instead of sleeping. A futex sleep and wake-up costs
// microseconds on a VM, far more than such a section; a std::mutex costs two locked instructions
// when uncontended.

#include <atomic>
#include <thread>
#include <twat_cache/config.hpp>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

/// Tells the CPU this is a spin-wait loop (saves power, yields to a sibling hyperthread).
TWAT_CACHE_ALWAYS_INLINE void cpu_relax() noexcept {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  __builtin_ia32_pause();
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
  asm volatile("yield" ::: "memory");
#endif
}

class spin_lock {
 public:
  void lock() noexcept {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      // Its holder may have been preempted: after a while, let it run.
      for (unsigned spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
        if (spins < 1024) {
          cpu_relax();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  /// Takes the lock if it is free; a load first, so a busy lock's line is not taken from its
  /// holder.
  [[nodiscard]] bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }
  /// Whether some thread holds the lock now (a hint: it may change at once).
  [[nodiscard]] bool held() const noexcept { return locked_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
