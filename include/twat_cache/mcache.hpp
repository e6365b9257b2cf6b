#pragma once
/// mcache: memoize in memory, on the best memory engine this build has.
///
///   auto f = twat_cache::mcache(g);                                  // unbounded
///   auto f = twat_cache::mcache(g, {.maxsize = 1024, .ttl = 30s});
///   auto f = twat_cache::mcache({.maxsize = 1024})(g);               // decorator form
///   auto f = twat_cache::mcache<int(int)>([](auto x) { return x; }); // generic lambda

#include <twat_cache/engines/memory.hpp>
#include <twat_cache/memoize.hpp>
#include <twat_cache/options.hpp>
#include <type_traits>
#include <utility>

TWAT_CACHE_BEGIN_NAMESPACE

namespace detail {

/// The decorator form of a factory: holds options, applies them to a callable with `Apply`, a
/// named function object (not a lambda template argument, which clang 14 cannot keep in a
/// precompiled header).
template <class Options, class Apply>
struct decorator {
  Options options;
  template <class F>
  auto operator()(F&& f) const {
    return Apply{}(std::forward<F>(f), options);
  }
};

template <class F, class Options>
concept callable_not_options = !std::is_same_v<std::decay_t<F>, Options>;

}  // namespace detail

/// Memoizes `f` in memory. Throws config_error for invalid options.
template <class Sig = detail::deduce_signature, class F>
  requires detail::callable_not_options<F, mcache_options>
auto mcache(F&& f, mcache_options options = {}) {
  detail::validate(options);
  using signature = detail::resolve_signature_t<Sig, F>;
  using engine =
      typename detail::engine_for_signature<engines::memory, signature, std::decay_t<F>>::type;
  memoize_options wrapper{.single_flight = options.single_flight && options.thread_safe,
                          .name = options.name};
  return memoized<engine, signature, std::decay_t<F>>("mcache", std::move(wrapper),
                                                      std::forward<F>(f), options);
}

namespace detail {
/// What mcache's decorator form applies.
template <class Sig>
struct apply_mcache {
  template <class F>
  auto operator()(F&& f, const mcache_options& o) const {
    return mcache<Sig>(std::forward<F>(f), o);
  }
};
}  // namespace detail

/// Decorator form: mcache({.maxsize = 128})(f).
template <class Sig = detail::deduce_signature>
auto mcache(mcache_options options) {
  detail::validate(options);
  return detail::decorator<mcache_options, detail::apply_mcache<Sig>>{std::move(options)};
}

TWAT_CACHE_END_NAMESPACE
