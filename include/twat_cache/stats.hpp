#pragma once
/// Counters every engine reports.

#include <cstdint>
#include <twat_cache/version.hpp>

TWAT_CACHE_BEGIN_NAMESPACE

/// A snapshot of one cache's counters. Counters may be a few operations apart from each other
/// under concurrent use: they are read without stopping the cache.
struct cache_stats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t evictions = 0;    ///< entries removed to respect maxsize / max_bytes
  std::uint64_t size = 0;         ///< entries held now (expired ones not yet removed included)
  std::uint64_t capacity = 0;     ///< maxsize, or 0 when unbounded
  std::uint64_t errors = 0;       ///< cache I/O errors, counted and logged, never thrown
  std::uint64_t bytes = 0;        ///< bytes held (persistent engines)
  std::uint64_t expirations = 0;  ///< entries removed because their ttl had passed

  /// hits / (hits + misses), or 0 before the first lookup.
  [[nodiscard]] double hit_ratio() const noexcept {
    const auto lookups = hits + misses;
    return lookups == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(lookups);
  }
};

TWAT_CACHE_END_NAMESPACE
