#pragma once
/// fcache: memoize into one file per entry, the right home for large results (arrays of
/// megabytes are read back with one copy).
///
///   auto load = twat_cache::fcache(load_array, {.folder_name = "arrays", .name = "load",
///                                                .compress = true});
///
/// When the folder cannot be made or opened, it caches in memory with one logged warning
/// (backend() says which engine is in use).

#include <twat_cache/detail/persistent_factory.hpp>
#include <twat_cache/engines/fallback.hpp>
#include <twat_cache/engines/files.hpp>
#include <twat_cache/engines/memory.hpp>
#include <twat_cache/memoize.hpp>
#include <twat_cache/options.hpp>
#include <utility>

TWAT_CACHE_BEGIN_NAMESPACE

namespace engines {

/// fcache's engine: files, falling back to memory.
template <class Key, class Value>
using fcache_engine = with_fallback<files<Key, Value>, memory<Key, Value>>;

}  // namespace engines

/// Memoizes `f` in files under get_cache_path(options.folder_name)/<options.name>/. Throws
/// config_error for invalid options (a missing `name` included).
template <class Sig = detail::deduce_signature, class F>
  requires detail::callable_not_options<F, fcache_options>
auto fcache(F&& f, const fcache_options& options) {
  return detail::make_persistent<engines::fcache_engine, Sig>("fcache", std::forward<F>(f),
                                                              options);
}

namespace detail {
/// What fcache's decorator form applies.
template <class Sig>
struct apply_fcache {
  template <class F>
  auto operator()(F&& f, const fcache_options& o) const {
    return fcache<Sig>(std::forward<F>(f), o);
  }
};
}  // namespace detail

/// Decorator form: fcache({.folder_name = "arrays", .name = "load"})(f).
template <class Sig = detail::deduce_signature>
auto fcache(fcache_options options) {
  detail::validate_persistent_options("fcache", options);
  return detail::decorator<fcache_options, detail::apply_fcache<Sig>>{std::move(options)};
}

TWAT_CACHE_END_NAMESPACE
