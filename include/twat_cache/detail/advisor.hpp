#pragma once
/// The advisor behind mcache_options::advisor: small shadow caches of every policy, at half, one
/// and two times the cache's maxsize, fed the hashes of the keys the cache sees. A shadow is a
/// real memory engine over hashes, so what it estimates is what that policy would do here.
///
/// Shadows of a big cache would cost as much as the cache. They follow a spatial sample instead
/// (Waldspurger et al., "Efficient MRC Construction with SHARDS", FAST '15): only keys whose hash
/// falls below a threshold, at a rate that makes the 1x shadow about `sampled_entries` entries,
/// and every shadow's capacity scaled by the same rate. A sampled key is followed on every
/// request, so each shadow sees a faithful miniature of the stream.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <twat_cache/advice.hpp>
#include <twat_cache/key.hpp>
#include <twat_cache/options.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

/// A shadow's key: the real key's hash, hashed as itself, so the policies that hash keys (s3fifo's
/// ghost, tinylfu's sketch) see the very hashes the real cache's policy sees.
struct prehashed_key {
  std::uint64_t hash;
  friend bool operator==(prehashed_key, prehashed_key) = default;
};

}  // namespace detail

template <>
struct hash<detail::prehashed_key> {
  [[nodiscard]] std::uint64_t operator()(detail::prehashed_key k) const noexcept { return k.hash; }
};

namespace detail {

template <class Shadow>
class advisor {
 public:
  /// Entries of the 1x shadow once sampling starts: the estimate's error is then about 1 % of
  /// the hit ratio on SHARDS's traces, and all 18 shadows hold about 60,000 hashes.
  static constexpr std::size_t sampled_entries = 4096;
  static constexpr policy all_policies[] = {policy::lru, policy::lfu,    policy::fifo,
                                            policy::rr,  policy::s3fifo, policy::tinylfu};

  advisor(std::size_t capacity, policy current) : capacity_(capacity), current_(current) {
    threshold_ = capacity <= sampled_entries
                     ? hash_space
                     : std::max<std::uint64_t>(1, hash_space * sampled_entries / capacity);
    const std::size_t sizes[] = {std::max<std::size_t>(1, capacity / 2), capacity, 2 * capacity};
    for (const policy p : all_policies) {
      for (const std::size_t size : sizes) {
        const auto scaled = static_cast<std::size_t>(std::max<std::uint64_t>(
            1, (static_cast<std::uint64_t>(size) * threshold_ + hash_space / 2) / hash_space));
        shadows_.push_back(
            {p, size,
             std::make_unique<Shadow>(mcache_options{
                 .maxsize = scaled, .policy = p, .thread_safe = false, .single_flight = false})});
      }
    }
  }

  /// One request for the key with this hash (a key_hash: well mixed).
  void feed(std::uint64_t hash) {
    if ((hash >> (64 - hash_bits)) >= threshold_) return;
    ++sampled_;
    for (auto& s : shadows_) {
      if (!s.cache->get(prehashed_key{hash})) s.cache->put(prehashed_key{hash}, 0);
    }
  }

  [[nodiscard]] cache_advice report() const {
    cache_advice advice;
    advice.capacity = capacity_;
    advice.current = current_;
    advice.sampling_rate = static_cast<double>(threshold_) / static_cast<double>(hash_space);
    advice.sampled_requests = sampled_;
    for (const auto& s : shadows_)
      advice.estimates.push_back({s.kind, s.capacity, s.cache->stats().hit_ratio()});
    return advice;
  }

  void clear() {
    sampled_ = 0;
    for (auto& s : shadows_)
      s.cache->clear();
  }

 private:
  static constexpr unsigned hash_bits = 24;  // sampling resolution: rates down to 1 in 16 M
  static constexpr std::uint64_t hash_space = std::uint64_t{1} << hash_bits;

  struct shadow {
    policy kind;
    std::size_t capacity;
    std::unique_ptr<Shadow> cache;
  };

  std::size_t capacity_;
  policy current_;
  std::uint64_t threshold_ = hash_space;
  std::uint64_t sampled_ = 0;
  std::vector<shadow> shadows_;
};

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
