#pragma once
/// ucache: memoize on the best engine this build has for the options, chosen when the wrapper is
/// made; backend() says which one runs.
///
///   auto f = twat_cache::ucache(g);                                     // memory: the best map
///   auto f = twat_cache::ucache(g, {.folder_name = "geo", .name = "g"});  // sqlite, else files
///   auto f = twat_cache::ucache(g, {.name = "g", .preferred_engine = "files"});
///   auto f = twat_cache::ucache({.maxsize = 1024})(g);                  // decorator form
///
/// The chain: redis or memcached (with `url`), sqlite, files, boost_unordered, std_unordered,
/// std_lru. It starts at preferred_engine, else at redis with `url`, at sqlite with
/// `folder_name`, at boost_unordered otherwise; links the build lacks or that cannot start are
/// skipped (see engines/chosen.hpp and docs/ucache.md).

#include <twat_cache/engines/chosen.hpp>
#include <twat_cache/mcache.hpp>
#include <twat_cache/memoize.hpp>
#include <twat_cache/options.hpp>
#include <type_traits>
#include <utility>

TWAT_CACHE_BEGIN_NAMESPACE

/// Memoizes `f` on the engine the options and the build call for. Throws config_error for
/// invalid options (an unknown preferred_engine, a persistent cache without `name`, ...).
template <class Sig = detail::deduce_signature, class F>
  requires detail::callable_not_options<F, ucache_options>
auto ucache(F&& f, const ucache_options& options = {}) {
  using signature = detail::resolve_signature_t<Sig, F>;
  using engine =
      typename detail::engine_for_signature<engines::chosen, signature, std::decay_t<F>>::type;
  return memoized<engine, signature, std::decay_t<F>>(
      "ucache", memoize_options{.single_flight = true, .name = options.name}, std::forward<F>(f),
      options);
}

namespace detail {
/// What ucache's decorator form applies.
template <class Sig>
struct apply_ucache {
  template <class F>
  auto operator()(F&& f, const ucache_options& o) const {
    return ucache<Sig>(std::forward<F>(f), o);
  }
};
}  // namespace detail

/// Decorator form: ucache({.folder_name = "geo", .name = "geocode"})(f).
template <class Sig = detail::deduce_signature>
auto ucache(ucache_options options) {
  detail::validate(options);
  return detail::decorator<ucache_options, detail::apply_ucache<Sig>>{std::move(options)};
}

TWAT_CACHE_END_NAMESPACE
