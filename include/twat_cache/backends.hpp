#pragma once
/// available_backends(): the engines compiled into this build and usable here, best first.

#include <string_view>
#include <twat_cache/config.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE

[[nodiscard]] inline std::vector<std::string_view> available_backends() {
  std::vector<std::string_view> names;
#if TWAT_CACHE_WITH_BOOST
  names.emplace_back("boost_unordered");
#endif
  names.emplace_back("std_unordered");
  names.emplace_back("std_lru");
  return names;
}

TWAT_CACHE_END_NAMESPACE
