#pragma once
/// The ghost queue of S3-FIFO: the hashes of the last `capacity` keys evicted from the small queue,
/// with no data. As the paper suggests, it is a bucketed table of fingerprints stamped with their
/// eviction time, not a queue: a ghost is alive while fewer than `capacity` ghosts were added
/// after it. Four bytes per slot (16-bit fingerprint, 16-bit coarse time), so the ghost of a
/// million-entry cache costs about 4 MB. The table is made at the first insert, that is the
/// cache's first eviction: a cache that never fills costs nothing for it, whatever its maxsize.
/// It is approximate, as a cache may be: a full bucket forgets its oldest ghost early, and one
/// lookup in 16,384 may match a stranger's fingerprint.

#include <algorithm>
#include <bit>
#include <cstdint>
#include <twat_cache/version.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

class ghost_set {
 public:
  void reset(std::uint32_t capacity) {
    capacity_ = capacity;
    const std::uint32_t wanted =
        std::max<std::uint32_t>(1, (capacity + slots_per_bucket - 1) / slots_per_bucket);
    buckets_ = std::bit_ceil(wanted);
    slots_ = std::vector<std::uint32_t>();  // made by the first insert
    // Time advances one tick per 1/256 of the capacity, so "alive" is "at most 256 ticks old".
    tick_length_ = std::max<std::uint32_t>(1, capacity / lifetime_ticks);
    added_in_tick_ = 0;
    now_ = 1;
  }

  void clear() {
    std::fill(slots_.begin(), slots_.end(), 0);
    added_in_tick_ = 0;
    now_ = 1;
  }

  void insert(std::uint64_t hash) {
    if (capacity_ == 0) return;
    if (slots_.empty()) slots_.assign(std::size_t{buckets_} * slots_per_bucket, 0);
    std::uint32_t* bucket = bucket_of(hash);
    const std::uint32_t fp = fingerprint(hash);
    std::uint32_t* replace = bucket;
    std::uint32_t oldest_age = 0;
    for (std::uint32_t s = 0; s < slots_per_bucket; ++s) {
      const std::uint32_t slot = bucket[s];
      if (slot == 0) {
        replace = bucket + s;
        break;
      }
      if ((slot >> 16) == fp) {  // already a ghost: refresh it
        replace = bucket + s;
        break;
      }
      const std::uint32_t age = age_of(slot);
      if (age >= oldest_age) {
        oldest_age = age;
        replace = bucket + s;
      }
    }
    *replace = (fp << 16) | now_;
    if (++added_in_tick_ == tick_length_) {
      added_in_tick_ = 0;
      now_ = static_cast<std::uint16_t>(now_ + 1);
    }
  }

  /// True when `hash` is a live ghost, which it then stops being (the key is back).
  bool take(std::uint64_t hash) noexcept {
    if (slots_.empty()) return false;  // no ghost yet
    std::uint32_t* bucket = bucket_of(hash);
    const std::uint32_t fp = fingerprint(hash);
    for (std::uint32_t s = 0; s < slots_per_bucket; ++s) {
      if (bucket[s] != 0 && (bucket[s] >> 16) == fp && age_of(bucket[s]) < lifetime_ticks) {
        bucket[s] = 0;
        return true;
      }
    }
    return false;
  }

 private:
  static constexpr std::uint32_t slots_per_bucket = 4;
  static constexpr std::uint32_t lifetime_ticks = 256;

  std::uint32_t* bucket_of(std::uint64_t hash) noexcept {
    return slots_.data() + (hash & (buckets_ - 1)) * slots_per_bucket;
  }
  // The top 16 bits, never zero, so a used slot is never 0; the bucket took the low bits.
  static std::uint32_t fingerprint(std::uint64_t hash) noexcept {
    const auto fp = static_cast<std::uint32_t>(hash >> 48);
    return fp == 0 ? 1 : fp;
  }
  std::uint32_t age_of(std::uint32_t slot) const noexcept {
    return static_cast<std::uint16_t>(now_ - static_cast<std::uint16_t>(slot));
  }

  std::uint32_t capacity_ = 0;
  std::uint32_t buckets_ = 1;
  std::vector<std::uint32_t> slots_;
  std::uint32_t tick_length_ = 1;
  std::uint32_t added_in_tick_ = 0;
  std::uint16_t now_ = 1;
};

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
