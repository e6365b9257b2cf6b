#pragma once
/// TinyLFU's memory of how often keys were asked for (Einziger, Friedman and Manes, "TinyLFU: A
/// Highly Efficient Cache Admission Policy", 2017): a count-min sketch of 4-bit counters, four
/// rows, growing to the next power of two above the cache's capacity, behind a doorkeeper bloom
/// filter that absorbs keys seen once (most of a long tail) so they take no counter. Every
/// 10 x capacity additions, all counters halve and the doorkeeper empties: old popularity fades.
/// About 6 bytes per entry of capacity (6 KB at least). The table grows with the cache's entries
/// (grow_for), so a cache pays for what it holds, not for its maxsize up front. Each growth
/// starts the counts over, as Caffeine does when it makes its sketch at half full: the last comes
/// before the cache is full, and counts matter only to evictions.

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <twat_cache/version.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

class frequency_sketch {
 public:
  static constexpr std::uint32_t max_count = 15;

  void reset(std::uint32_t capacity) {
    capacity_ = std::max<std::uint32_t>(capacity, 1);
    resize(min_width);
  }

  /// Widens the table for `entries` keys (counts start over), up to the capacity's width.
  void grow_for(std::uint32_t entries) {
    if (entries <= width_ || width_ >= capacity_) return;
    resize(std::bit_ceil(std::min(entries, capacity_)));
  }

  void clear() {
    std::fill(counters_.begin(), counters_.end(), 0);
    std::fill(doorkeeper_.begin(), doorkeeper_.end(), 0);
    additions_ = 0;
  }

  /// One more request for the key with this (well mixed) hash.
  void add(std::uint64_t hash) {
    if (counters_.empty()) return;
    if (++additions_ >= sample_size_) age();
    if (!doorkeeper_set(hash)) return;  // first sighting since the last ageing
    for (std::uint32_t r = 0; r < rows; ++r) {
      const auto [word, shift] = position(hash, r);
      if (count_at(word, shift) != max_count) counters_[word] += std::uint64_t{1} << shift;
    }
  }

  /// How often the key was asked for since about the last ageing (0 to max_count + 1).
  [[nodiscard]] std::uint32_t estimate(std::uint64_t hash) const noexcept {
    if (counters_.empty()) return 0;
    std::uint32_t least = max_count;
    // A row at 0 settles the minimum: a newcomer's (most of a miss's duels) usually the first.
    for (std::uint32_t r = 0; r < rows && least != 0; ++r) {
      const auto [word, shift] = position(hash, r);
      least = std::min(least, count_at(word, shift));
    }
    return least + (doorkeeper_has(hash) ? 1 : 0);
  }

  /// estimate(hash) < bound, reading no more than it needs: the doorkeeper first, then the rows
  /// until one is low enough. A duel's incumbent is usually settled by its doorkeeper bits alone.
  [[nodiscard]] bool estimate_below(std::uint64_t hash, std::uint32_t bound) const noexcept {
    if (counters_.empty()) return bound != 0;
    const std::uint32_t door = doorkeeper_has(hash) ? 1 : 0;
    if (door >= bound) return false;
    for (std::uint32_t r = 0; r < rows; ++r) {
      const auto [word, shift] = position(hash, r);
      if (count_at(word, shift) + door < bound) return true;
    }
    return false;
  }

 private:
  static constexpr std::uint32_t rows = 4;
  // At least 1,024 columns: a small cache's few hot keys would otherwise share counters with its
  // newcomers, and lend them their counts.
  static constexpr std::uint32_t min_width = 1024;
  static constexpr std::uint32_t counters_per_word = 16;
  static constexpr std::array<std::uint64_t, rows> seeds = {
      0x9E3779B97F4A7C15ULL, 0xC2B2AE3D27D4EB4FULL, 0x165667B19E3779F9ULL, 0xD6E8FEB86659FD93ULL};

  struct counter_position {
    std::uint64_t word;
    std::uint32_t shift;
  };
  // Row r's counter: its own multiplicative hash of the key's hash, top bits; rows are stored
  // one after another.
  counter_position position(std::uint64_t hash, std::uint32_t r) const noexcept {
    const std::uint64_t column = (hash * seeds[r]) >> (64 - width_bits_);
    const std::uint64_t index = (std::uint64_t{r} << width_bits_) + column;
    return {index / counters_per_word, static_cast<std::uint32_t>(index % counters_per_word) * 4};
  }

  std::uint32_t count_at(std::uint64_t word, std::uint32_t shift) const noexcept {
    return static_cast<std::uint32_t>((counters_[word] >> shift) & 0xF);
  }

  std::uint64_t door_bit(std::uint64_t hash, std::uint32_t probe) const noexcept {
    return ((hash ^ (hash >> 29)) * seeds[(probe + 2) % rows]) >> (64 - door_bits_);
  }
  bool doorkeeper_has(std::uint64_t hash) const noexcept {
    for (std::uint32_t p = 0; p < 2; ++p) {
      const std::uint64_t bit = door_bit(hash, p);
      if ((doorkeeper_[bit / 64] & (std::uint64_t{1} << (bit % 64))) == 0) return false;
    }
    return true;
  }
  /// Sets the key's bits; true when they were all set already.
  bool doorkeeper_set(std::uint64_t hash) noexcept {
    bool was_set = true;
    for (std::uint32_t p = 0; p < 2; ++p) {
      const std::uint64_t bit = door_bit(hash, p);
      std::uint64_t& word = doorkeeper_[bit / 64];
      const std::uint64_t mask = std::uint64_t{1} << (bit % 64);
      was_set = was_set && (word & mask) != 0;
      word |= mask;
    }
    return was_set;
  }

  void resize(std::uint64_t width) {
    width_ = static_cast<std::uint32_t>(std::max<std::uint64_t>(width, min_width));
    width_bits_ = static_cast<std::uint32_t>(std::countr_zero(width_));
    counters_.assign(std::uint64_t{rows} * width_ / counters_per_word, 0);
    // 32 bits per column. Between two agings come up to 10 new keys per entry; at 8 bits the
    // filter was about 90 % full by the end of such a run, so one-off keys passed it and took
    // counters: 32 bits gained up to half a point of hit ratio, and a new key's miss 10 ns.
    door_bits_ = width_bits_ + 5;
    doorkeeper_.assign((std::uint64_t{1} << door_bits_) / 64, 0);
    sample_size_ = 10 * std::uint64_t{std::min(capacity_, width_)};
    additions_ = 0;
  }

  void age() noexcept {
    for (std::uint64_t& word : counters_)
      word = (word >> 1) & 0x7777777777777777ULL;
    std::fill(doorkeeper_.begin(), doorkeeper_.end(), 0);
    additions_ /= 2;
  }

  std::uint32_t capacity_ = 1;
  std::uint32_t width_ = 0;  // counters per row, a power of two
  std::uint32_t width_bits_ = 0;
  std::uint32_t door_bits_ = 0;
  std::vector<std::uint64_t> counters_;
  std::vector<std::uint64_t> doorkeeper_;
  std::uint64_t sample_size_ = 0;
  std::uint64_t additions_ = 0;
};

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
