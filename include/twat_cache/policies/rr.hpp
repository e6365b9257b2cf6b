#pragma once
/// Random replacement: evicts an entry chosen uniformly at random.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <twat_cache/detail/index_list.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

/// Nonzero: the seed of every rr policy made from now on, in place of one drawn per cache. For
/// tests and fuzzing, whose runs must replay (a fuzz input seeds it from its bytes); not API.
inline std::atomic<std::uint64_t> rr_seed_override{0};

/// The seed of the rr policy of the cache at `owner`: the override, else the cache's address and
/// the time, so that caches made alike still draw differently.
[[nodiscard]] inline std::uint64_t rr_seed_for(const void* owner) noexcept {
  if (const std::uint64_t fixed = rr_seed_override.load(std::memory_order_relaxed)) return fixed;
  return reinterpret_cast<std::uintptr_t>(owner) ^
         static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace detail

namespace policies {

class rr {
 public:
  explicit rr(std::uint64_t seed = 0x853C49E6748FEA9BULL) : state_(seed | 1) {}

  void reserve(std::uint32_t nodes) {
    detail::ensure_size(position_, nodes);
    dense_.reserve(nodes);
  }
  void on_insert(std::uint32_t i) {
    position_[i] = static_cast<std::uint32_t>(dense_.size());
    dense_.push_back(i);
  }
  void on_access(std::uint32_t) noexcept {}
  void on_remove(std::uint32_t i) noexcept {
    // Swap-remove keeps the live entries dense, so a victim is one random index away.
    const std::uint32_t pos = position_[i];
    const std::uint32_t last = dense_.back();
    dense_[pos] = last;
    position_[last] = pos;
    dense_.pop_back();
  }
  [[nodiscard]] std::uint32_t victim() noexcept {
    if (dense_.empty()) return detail::npos;
    return dense_[next_random() % dense_.size()];
  }
  void clear() noexcept {
    dense_.clear();
    position_.clear();
  }

 private:
  std::uint64_t next_random() noexcept {  // xorshift64*: fast, and good enough to pick victims
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1DULL;
  }

  std::vector<std::uint32_t> dense_;     // live node indices, in no order
  std::vector<std::uint32_t> position_;  // node index -> its place in dense_
  std::uint64_t state_;
};

}  // namespace policies
TWAT_CACHE_END_NAMESPACE
