#pragma once
// What bcache and fcache share: validating their options and building the wrapper over their
// engine, with keys and results required to be encodable whichever engine ends up running (so
// code that builds without SQLite still builds with it).

#include <string>
#include <string_view>
#include <twat_cache/codec.hpp>
#include <twat_cache/detail/persistent.hpp>
#include <twat_cache/mcache.hpp>
#include <twat_cache/memoize.hpp>
#include <type_traits>
#include <utility>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

/// Throws config_error for invalid options of `factory` ("bcache", "fcache").
template <class Options>
void validate_persistent_options(std::string_view factory, const Options& options) {
  static_cast<void>(validate_persistent(std::string(factory) + "_options", options));
}

template <template <class...> class Engine, class Sig, class F, class Options>
auto make_persistent(std::string_view factory, F&& f, const Options& options) {
  validate_persistent_options(factory, options);
  using signature = resolve_signature_t<Sig, F>;
  using engine = typename engine_for_signature<Engine, signature, std::decay_t<F>>::type;
  static_assert(require_encodable<typename engine::key_type>::value);
  static_assert(require_encodable<typename engine::value_type>::value);
  return memoized<engine, signature, std::decay_t<F>>(
      factory, memoize_options{.single_flight = true, .name = options.name}, std::forward<F>(f),
      options);
}

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
