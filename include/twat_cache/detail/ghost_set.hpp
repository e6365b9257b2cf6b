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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

  /// Never throws: where the table cannot be made, nothing is remembered (the ghost is a hint),
  /// as the evictions that call this must not fail.
  void insert(std::uint64_t hash) noexcept {
    if (capacity_ == 0) return;
    if (slots_.empty()) {
      try {
        slots_.assign(std::size_t{buckets_} * slots_per_bucket, 0);
      } catch (...) {
        return;
      }
    }
    std::uint32_t* bucket = bucket_of(hash);
    const std::uint32_t fp = fingerprint(hash);
    bucket[slot_to_replace(bucket, fp, now_)] = (fp << 16) | now_;
    const bool next_tick = ++added_in_tick_ == tick_length_;  // without a branch, as above
    added_in_tick_ = next_tick ? 0 : added_in_tick_;
    now_ = static_cast<std::uint16_t>(now_ + static_cast<std::uint16_t>(next_tick));
  }

  /// True when `hash` is a live ghost, which it then stops being (the key is back).
  bool take(std::uint64_t hash) noexcept {
    if (slots_.empty()) return false;  // no ghost yet
    std::uint32_t* bucket = bucket_of(hash);
    const unsigned live = live_matches(bucket, fingerprint(hash), now_);
    if (live == 0) return false;
    bucket[std::countr_zero(live)] = 0;
    return true;
  }

  static constexpr std::uint32_t slots_per_bucket = 4;
  static constexpr std::uint32_t lifetime_ticks = 256;

  // A bucket's scans, written twice: SSE2 (every x86-64) and portable, which the tests hold to
  // the same answers. Both are free of data-dependent branches: on a miss-heavy workload every
  // insert meets a full bucket whose ages are in no order, and a compare-and-jump per slot
  // mispredicted several times an insert (docs/performance.md, "The ghost's bucket scanned
  // without branches").

  /// The slot insert() writes: one holding the same fingerprint (refreshed), else the first
  /// empty one, else the first of the oldest.
  static std::uint32_t slot_to_replace_portable(const std::uint32_t* bucket, std::uint32_t fp,
                                                std::uint16_t now) noexcept {
    std::uint32_t best = 0;
    std::uint32_t best_rank = 0;
    for (std::uint32_t s = 0; s < slots_per_bucket; ++s) {
      const std::uint32_t slot = bucket[s];
      const std::uint32_t rank = (slot >> 16) == fp ? same_key_rank
                                 : slot == 0        ? empty_rank
                                                    : age_of(slot, now);
      const bool better = rank > best_rank;
      best = better ? s : best;
      best_rank = better ? rank : best_rank;
    }
    return best;
  }

  /// Bit s set: slot s holds `fp` and is alive.
  static unsigned live_matches_portable(const std::uint32_t* bucket, std::uint32_t fp,
                                        std::uint16_t now) noexcept {
    unsigned live = 0;
    for (std::uint32_t s = 0; s < slots_per_bucket; ++s) {
      const bool match = ((bucket[s] >> 16) == fp) & (age_of(bucket[s], now) < lifetime_ticks);
      live |= static_cast<unsigned>(match) << s;
    }
    return live;
  }

#if defined(__SSE2__)
  static std::uint32_t slot_to_replace(const std::uint32_t* bucket, std::uint32_t fp,
                                       std::uint16_t now) noexcept {
    const __m128i slots = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bucket));
    const __m128i same = same_fingerprint(slots, fp);
    const __m128i empty = _mm_cmpeq_epi32(slots, _mm_setzero_si128());
    const __m128i rank = _mm_or_si128(
        _mm_andnot_si128(_mm_or_si128(same, empty), ages(slots, now)),
        _mm_or_si128(_mm_and_si128(same, _mm_set1_epi32(static_cast<int>(same_key_rank))),
                     _mm_and_si128(empty, _mm_set1_epi32(static_cast<int>(empty_rank)))));
    // The highest rank in every lane (ranks are below 2^31, so a signed compare orders them).
    __m128i top = max_epi32(rank, _mm_shuffle_epi32(rank, _MM_SHUFFLE(1, 0, 3, 2)));
    top = max_epi32(top, _mm_shuffle_epi32(top, _MM_SHUFFLE(2, 3, 0, 1)));
    const int at_top = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(rank, top)));
    return static_cast<std::uint32_t>(std::countr_zero(static_cast<unsigned>(at_top)));
  }

  static unsigned live_matches(const std::uint32_t* bucket, std::uint32_t fp,
                               std::uint16_t now) noexcept {
    const __m128i slots = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bucket));
    const __m128i alive =
        _mm_cmplt_epi32(ages(slots, now), _mm_set1_epi32(static_cast<int>(lifetime_ticks)));
    const __m128i live = _mm_and_si128(same_fingerprint(slots, fp), alive);
    return static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(live)));
  }
#else
  static std::uint32_t slot_to_replace(const std::uint32_t* bucket, std::uint32_t fp,
                                       std::uint16_t now) noexcept {
    return slot_to_replace_portable(bucket, fp, now);
  }
  static unsigned live_matches(const std::uint32_t* bucket, std::uint32_t fp,
                               std::uint16_t now) noexcept {
    return live_matches_portable(bucket, fp, now);
  }
#endif

 private:
  // insert()'s ranks of a slot: above any age (which is below 2^16).
  static constexpr std::uint32_t same_key_rank = 1u << 17;
  static constexpr std::uint32_t empty_rank = 1u << 16;

#if defined(__SSE2__)
  static __m128i same_fingerprint(__m128i slots, std::uint32_t fp) noexcept {
    return _mm_cmpeq_epi32(_mm_srli_epi32(slots, 16), _mm_set1_epi32(static_cast<int>(fp)));
  }
  // Each slot's age_of(), four at once.
  static __m128i ages(__m128i slots, std::uint16_t now) noexcept {
    return _mm_and_si128(_mm_sub_epi32(_mm_set1_epi32(now), slots), _mm_set1_epi32(0xFFFF));
  }
  static __m128i max_epi32(__m128i a, __m128i b) noexcept {  // SSE4.1's _mm_max_epi32
    const __m128i a_greater = _mm_cmpgt_epi32(a, b);
    return _mm_or_si128(_mm_and_si128(a_greater, a), _mm_andnot_si128(a_greater, b));
  }
#endif

  std::uint32_t* bucket_of(std::uint64_t hash) noexcept {
    return slots_.data() + (hash & (buckets_ - 1)) * slots_per_bucket;
  }
  // The top 16 bits, never zero, so a used slot is never 0; the bucket took the low bits.
  static std::uint32_t fingerprint(std::uint64_t hash) noexcept {
    const auto fp = static_cast<std::uint32_t>(hash >> 48);
    return fp == 0 ? 1 : fp;
  }
  static std::uint32_t age_of(std::uint32_t slot, std::uint16_t now) noexcept {
    return static_cast<std::uint16_t>(now - static_cast<std::uint16_t>(slot));
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
