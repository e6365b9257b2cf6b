#pragma once
/// available_backends(): the engines compiled into this build, best first: the persistent ones,
/// then the memory ones, ending with the plain std LRU every fallback chain ends at. Whether a
/// persistent one can start here (its folder) is known when a cache is made; backend() then says
/// which engine runs.

#include <string_view>
#include <twat_cache/config.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE

[[nodiscard]] inline std::vector<std::string_view> available_backends() {
  std::vector<std::string_view> names;
#if TWAT_CACHE_WITH_SQLITE
  names.emplace_back("sqlite");
#endif
  names.emplace_back("files");
#if TWAT_CACHE_WITH_BOOST
  names.emplace_back("boost_unordered");
#endif
  names.emplace_back("std_unordered");
  names.emplace_back("std_lru");
  return names;
}

TWAT_CACHE_END_NAMESPACE
