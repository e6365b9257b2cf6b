#pragma once
/// available_backends(): the engines compiled into this build, best first: the networked ones
/// (shared between machines), the persistent ones, then the memory ones, ending with the plain std
/// LRU (taken only when named: the memory engine before it always starts). Whether a persistent one
/// can start here (its folder) is known when a cache is made; backend() then says which engine
/// runs.

#include <array>
#include <string_view>
#include <twat_cache/config.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE

namespace detail {

/// An engine twat_cache knows by name.
struct known_engine {
  std::string_view name;
  bool persistent;           ///< keeps entries past the process: needs a `name` and a codec
  bool networked;            ///< on a server, shared between machines: needs a `url`
  bool built;                ///< compiled into this build
  std::string_view missing;  ///< why a build lacks it, and how to get it
};

/// Every engine known by name, best first: the order available_backends() lists them in and
/// ucache falls back in.
inline constexpr std::array<known_engine, 7> known_engines{{
    {"redis", true, true, TWAT_CACHE_WITH_HIREDIS != 0,
     "this build has no hiredis (TWAT_CACHE_WITH_HIREDIS is 0: install libhiredis-dev and "
     "reconfigure)"},
    {"memcached", true, true, TWAT_CACHE_WITH_MEMCACHED != 0,
     "this build has no libmemcached (TWAT_CACHE_WITH_MEMCACHED is 0: install libmemcached-dev "
     "and reconfigure)"},
    {"sqlite", true, false, TWAT_CACHE_WITH_SQLITE != 0,
     "this build has no SQLite (TWAT_CACHE_WITH_SQLITE is 0: install libsqlite3-dev and "
     "reconfigure)"},
    {"files", true, false, true, ""},
    {"boost_unordered", false, false, TWAT_CACHE_WITH_BOOST != 0,
     "this build has no Boost >= 1.81 (TWAT_CACHE_WITH_BOOST is 0: install libboost1.81-dev and "
     "reconfigure)"},
    {"std_unordered", false, false, true, ""},
    {"std_lru", false, false, true, ""},
}};

/// The known engine called `name`, or nullptr.
[[nodiscard]] constexpr const known_engine* find_known_engine(std::string_view name) noexcept {
  for (const known_engine& e : known_engines) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

}  // namespace detail

[[nodiscard]] inline std::vector<std::string_view> available_backends() {
  std::vector<std::string_view> names;
  for (const detail::known_engine& e : detail::known_engines) {
    if (e.built) names.push_back(e.name);
  }
  return names;
}

TWAT_CACHE_END_NAMESPACE
