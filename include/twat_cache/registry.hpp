#pragma once
/// Process-wide views of every live memoized function: get_stats() and clear_cache().

#include <map>
#include <string>
#include <twat_cache/detail/registry.hpp>
#include <twat_cache/stats.hpp>

TWAT_CACHE_BEGIN_NAMESPACE

/// Stats of every live cache, by name (the `name` option; a generated one when empty; "#2",
/// "#3", ... appended when two live caches share a name).
[[nodiscard]] inline std::map<std::string, cache_stats> get_stats() {
  return detail::cache_registry::instance().stats();
}

/// Clears every live cache (entries and counters).
inline void clear_cache() {
  detail::cache_registry::instance().clear_all();
}

TWAT_CACHE_END_NAMESPACE
