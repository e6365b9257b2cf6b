#pragma once
/// S3-FIFO (Yang et al., "FIFO queues are all you need for cache eviction", SOSP 2023). New keys
/// enter a small FIFO holding a tenth of the entries; one read again before it reaches the small
/// queue's end moves on to the main FIFO, the others leave and are remembered in a ghost set, from
/// which a returning key goes straight to main. Main is a CLOCK with a 2-bit counter: an entry
/// read since it last came round goes round again. So a one-off scan passes through the small
/// queue and never displaces main.
///
/// A read only raises a counter in a byte array (touch()), which is safe under a shared lock: no
/// list moves and nothing recorded for later, so hits on several threads scale like fifo's.

#include <atomic>
#include <cstdint>
#include <twat_cache/config.hpp>
#include <twat_cache/detail/ghost_set.hpp>
#include <twat_cache/detail/index_list.hpp>
#include <twat_cache/policies/node_hash.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace policies {

class s3fifo {
 public:
  /// `capacity`: the cache's maxsize (0: unbounded, nothing is ever evicted, so no ghost).
  void configure(std::uint32_t capacity, node_hasher hash) {
    capacity_ = capacity;
    small_target_ = capacity / 10 == 0 ? 1 : capacity / 10;
    hash_ = hash;
    ghost_.reset(capacity == 0 ? 0 : capacity - (capacity / 10));
  }

  void reserve(std::uint32_t nodes) {
    detail::ensure_size(links_, nodes);
    detail::ensure_size(state_, nodes);
  }

  void on_insert(std::uint32_t i) {
    if (capacity_ != 0 && ghost_.take(hash_(i))) {
      state_[i] = in_main;
      main_.push_back(links_, i);
      ++main_size_;
    } else {
      state_[i] = 0;
      small_.push_back(links_, i);
      ++small_size_;
    }
  }

  /// A read. Safe under a shared lock, concurrently with other touches: racing touches may lose
  /// an increment, which only makes the counter approximate. Stores nothing once the counter is
  /// full, so a hot entry's cache line stays shared between cores.
  TWAT_CACHE_ALWAYS_INLINE void touch(std::uint32_t i) noexcept {
    std::atomic_ref<std::uint8_t> s(state_[i]);
    const std::uint8_t v = s.load(std::memory_order_relaxed);
    if ((v & frequency_mask) != frequency_mask)
      s.store(static_cast<std::uint8_t>(v + 1), std::memory_order_relaxed);
  }
  void on_access(std::uint32_t i) noexcept { touch(i); }

  void on_remove(std::uint32_t i) noexcept {
    if (state_[i] & in_main) {
      main_.remove(links_, i);
      --main_size_;
    } else {
      small_.remove(links_, i);
      --small_size_;
    }
  }

  [[nodiscard]] std::uint32_t victim() {
    for (;;) {
      if (small_size_ != 0 && (small_size_ >= small_target_ || main_size_ == 0)) {
        const std::uint32_t i = small_.front();
        if (frequency(i) == 0) {
          ghost_.insert(hash_(i));
          return i;
        }
        small_.remove(links_, i);  // read while small: it has earned main
        --small_size_;
        state_[i] = in_main;
        main_.push_back(links_, i);
        ++main_size_;
        continue;
      }
      if (main_size_ == 0) return detail::npos;
      const std::uint32_t i = main_.front();
      if (frequency(i) == 0) return i;
      state_[i] = static_cast<std::uint8_t>(state_[i] - 1);  // round again, one read spent
      main_.move_to_back(links_, i);
    }
  }

  void clear() noexcept {
    links_.clear();
    state_.clear();
    small_.clear();
    main_.clear();
    small_size_ = main_size_ = 0;
    ghost_.clear();
  }

 private:
  static constexpr std::uint8_t frequency_mask = 0x3;  // reads, capped at 3
  static constexpr std::uint8_t in_main = 0x4;

  std::uint32_t frequency(std::uint32_t i) const noexcept { return state_[i] & frequency_mask; }

  std::uint32_t capacity_ = 0;
  std::uint32_t small_target_ = 1;
  node_hasher hash_;
  std::vector<detail::list_links> links_;
  std::vector<std::uint8_t> state_;  // per node: frequency_mask bits and in_main
  detail::index_list small_;
  detail::index_list main_;
  std::uint32_t small_size_ = 0;
  std::uint32_t main_size_ = 0;
  detail::ghost_set ghost_;
};

}  // namespace policies
TWAT_CACHE_END_NAMESPACE
