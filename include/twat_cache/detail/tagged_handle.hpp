#pragma once
// A memory-engine entry's handle and a 2-bit read counter in one 32-bit word, stored beside the
// value. A hit reads the word anyway (for the handle), so raising the counter there costs no
// other cache line, and two threads raising counters of different entries rarely share a line.
// Only s3fifo counts; under the other policies the counter stays 0.

#include <atomic>
#include <cstdint>
#include <twat_cache/config.hpp>
#include <twat_cache/options.hpp>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

inline constexpr unsigned handle_bits = 30;
inline constexpr std::uint32_t handle_mask = (std::uint32_t{1} << handle_bits) - 1;
inline constexpr std::uint32_t counter_one = std::uint32_t{1} << handle_bits;
inline constexpr std::uint32_t counter_max = 3;
static_assert(max_memory_entries - 1 <= handle_mask, "every handle must fit below the counter");

[[nodiscard]] constexpr std::uint32_t handle_in(std::uint32_t word) noexcept {
  return word & handle_mask;
}
[[nodiscard]] constexpr std::uint32_t counter_in(std::uint32_t word) noexcept {
  return word >> handle_bits;
}

/// The word, read while other threads may be counting reads in it (relaxed: a plain load).
[[nodiscard]] TWAT_CACHE_ALWAYS_INLINE std::uint32_t load_tagged(
    const std::uint32_t& word) noexcept {
  // The word is never const itself: entries are mutable map elements.
  return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(word))
      .load(std::memory_order_relaxed);
}

/// Stores `value` in the word, which other threads may be counting reads in (relaxed: a plain
/// store). For a writer that lets hits go on (s3fifo's scan for a batch's victims): a read
/// counted in between may be lost, as between two readers.
TWAT_CACHE_ALWAYS_INLINE void store_tagged(std::uint32_t& word, std::uint32_t value) noexcept {
  std::atomic_ref<std::uint32_t>(word).store(value, std::memory_order_relaxed);
}
/// One read more in `word`, which was `seen`, capped at counter_max. Safe under a shared lock,
/// concurrently with other readers: a racing read may be lost, which only makes the counter
/// approximate, and the handle bits written are the ones read, which change only under the
/// exclusive lock. Stores nothing once the counter is full, so a hot entry's line stays shared.
TWAT_CACHE_ALWAYS_INLINE void count_read(const std::uint32_t& word, std::uint32_t seen) noexcept {
  if (seen < (counter_max << handle_bits)) {
    std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(word))
        .store(seen + counter_one, std::memory_order_relaxed);
  }
}

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
