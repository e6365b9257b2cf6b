#pragma once
/// bcache: memoize into a SQLite database that outlives the process and is shared by every
/// process using the same folder.
///
///   auto geocode = twat_cache::bcache(lookup, {.folder_name = "geo", .name = "geocode",
///                                              .ttl = 24h});
///
/// Without SQLite in the build, or when the database cannot be opened, it caches in memory with
/// one logged warning (backend() says which engine is in use).

#include <string_view>
#include <twat_cache/backends.hpp>
#include <twat_cache/codec.hpp>
#include <twat_cache/config.hpp>
#include <twat_cache/detail/persistent_factory.hpp>
#include <twat_cache/engines/fallback.hpp>
#include <twat_cache/engines/memory.hpp>
#include <twat_cache/mcache.hpp>
#include <twat_cache/memoize.hpp>
#include <twat_cache/options.hpp>
#include <type_traits>
#include <utility>

#if TWAT_CACHE_WITH_SQLITE
#include <twat_cache/engines/sqlite.hpp>
#endif

TWAT_CACHE_BEGIN_NAMESPACE

namespace engines {

/// What bcache uses when SQLite is not in the build.
struct sqlite_not_built {
  static constexpr std::string_view not_built_engine = "sqlite";
  static constexpr std::string_view not_built_reason =
      twat_cache::detail::find_known_engine(not_built_engine)->missing;
};

/// bcache's engine: SQLite, falling back to memory.
template <class Key, class Value>
using bcache_engine = with_fallback<
#if TWAT_CACHE_WITH_SQLITE
    sqlite<Key, Value>,
#else
    sqlite_not_built,
#endif
    memory<Key, Value>>;

}  // namespace engines

/// Memoizes `f` in the SQLite database of `options.folder_name`. Throws config_error for invalid
/// options (a missing `name` included).
template <class Sig = detail::deduce_signature, class F>
  requires detail::callable_not_options<F, bcache_options>
auto bcache(F&& f, const bcache_options& options) {
  return detail::make_persistent<engines::bcache_engine, Sig>("bcache", std::forward<F>(f),
                                                              options);
}

namespace detail {
/// What bcache's decorator form applies.
template <class Sig>
struct apply_bcache {
  template <class F>
  auto operator()(F&& f, const bcache_options& o) const {
    return bcache<Sig>(std::forward<F>(f), o);
  }
};
}  // namespace detail

/// Decorator form: bcache({.folder_name = "geo", .name = "geocode"})(f).
template <class Sig = detail::deduce_signature>
auto bcache(bcache_options options) {
  detail::validate_persistent_options("bcache", options);
  return detail::decorator<bcache_options, detail::apply_bcache<Sig>>{std::move(options)};
}

TWAT_CACHE_END_NAMESPACE
