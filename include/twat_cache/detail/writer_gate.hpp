#pragma once
// The one word a reader_slots_lock's writers take and its readers look at: the writer mutex and
// "readers keep out" in the same word, so a write that shuts readers out takes both with one
// locked instruction, which is also the store-load fence its Dekker handshake with readers
// needs. A std::mutex beside a separate flag cost a miss three locked instructions and two
// library calls (docs/performance.md, "The writer's lock word").
//
// Waiters poll with loads for a while (writes are short) and then sleep on the word
// (std::atomic::wait); whoever clears a bit that a sleeper waits on wakes them.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <twat_cache/config.hpp>
#include <twat_cache/detail/spin_lock.hpp>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

class writer_gate {
 public:
  static constexpr std::uint32_t held = 1;       // the writer mutex
  static constexpr std::uint32_t excluding = 2;  // readers keep out (only with held)
  static constexpr std::uint32_t sleepers = 4;   // someone sleeps on the word: wake on change

  writer_gate() = default;
  writer_gate(const writer_gate&) = delete;
  writer_gate& operator=(const writer_gate&) = delete;

  // The writer mutex alone (Lockable): for state that readers never touch.
  void lock() noexcept { take(held); }
  [[nodiscard]] bool try_lock() noexcept {
    std::uint32_t s = state_.load(std::memory_order_relaxed);
    while ((s & held) == 0) {
      if (state_.compare_exchange_weak(s, s | held, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }
  /// Releases the mutex, and readers if they were kept out.
  void unlock() noexcept {
    if (state_.exchange(0, std::memory_order_release) & sleepers) state_.notify_all();
  }

  /// The writer mutex, with readers kept out from now on. The locked instruction that takes it
  /// is seq_cst: ordered before the caller's seq_cst loads of the readers' slots.
  void lock_excluding() noexcept { take(held | excluding); }

  /// Keeps readers out from now on, the caller holding the writer mutex (taken by lock()): the
  /// second half of a write whose first half let readers go on. seq_cst, as lock_excluding().
  void exclude() noexcept { state_.fetch_or(excluding, std::memory_order_seq_cst); }

  /// Whether readers must keep out. A light reader loads with acquire; a locked one, seq_cst.
  [[nodiscard]] TWAT_CACHE_ALWAYS_INLINE bool excludes_readers(
      std::memory_order order) const noexcept {
    return (state_.load(order) & excluding) != 0;
  }

  /// For a reader that met a writer: returns once readers may enter again.
  void wait_for_readers_allowed() noexcept { wait_while(excluding); }

 private:
  void take(std::uint32_t bits) noexcept {
    for (;;) {
      std::uint32_t s = state_.load(std::memory_order_relaxed);
      while ((s & held) == 0) {
        if (state_.compare_exchange_weak(s, s | bits, std::memory_order_seq_cst,
                                         std::memory_order_relaxed)) {
          return;
        }
      }
      wait_while(held);
    }
  }

  /// Returns once no bit of `bits` is set (it may be set again by then: callers retry). Writes
  /// are short (a store and maybe an eviction), shorter than a futex sleep and wake-up, so it
  /// polls first, with loads only (the line stays shared), then sleeps.
  void wait_while(std::uint32_t bits) noexcept {
    if (clears_soon(bits)) return;
    for (;;) {
      std::uint32_t s = state_.load(std::memory_order_relaxed);
      if ((s & bits) == 0) return;
      if ((s & sleepers) == 0 &&
          !state_.compare_exchange_weak(s, s | sleepers, std::memory_order_relaxed)) {
        continue;
      }
      state_.wait(s | sleepers, std::memory_order_relaxed);
    }
  }

  /// Polls for up to spin_time: true once no bit of `bits` is set. By time, not by count: a
  /// `pause` takes 12 ns on one CPU and 50 on another.
  bool clears_soon(std::uint32_t bits) const noexcept {
    const auto deadline = std::chrono::steady_clock::now() + spin_time;
    for (;;) {
      for (unsigned spins = 0; spins < 64; ++spins) {
        if ((state_.load(std::memory_order_relaxed) & bits) == 0) return true;
        cpu_relax();
      }
      if (std::chrono::steady_clock::now() >= deadline) return false;
    }
  }
  // A write that applies a batch of pending stores (engines/memory.hpp) takes 10 to 50 us on a
  // VM where each cache line it takes from the other core costs 0.1 us; a futex sleep and
  // wake-up costs more than that there. Polling 3 us instead cost 2 threads a quarter of their
  // throughput on a 1-us function (docs/performance.md).
  static constexpr std::chrono::microseconds spin_time{50};

  std::atomic<std::uint32_t> state_{0};
};

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
