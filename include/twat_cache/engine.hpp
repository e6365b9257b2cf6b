#pragma once
/// The `cache_engine` concept: what memoize<Engine> needs from a storage engine.

#include <concepts>
#include <optional>
#include <string_view>
#include <twat_cache/stats.hpp>

TWAT_CACHE_BEGIN_NAMESPACE

/// A storage engine: maps key_type to value_type, may evict, reports stats, and names itself.
/// Engines may also offer, and the wrapper then uses:
///  - get/contains/erase templated on a lookup view (heterogeneous lookup: a hit builds no key);
///  - `contains(key)` that neither counts nor refreshes (else get() stands in);
///  - `backend() const` naming the engine in use when that is only known at run time;
///  - `get_or_compute(key, make_key, compute, on_store_error)`: single flight on the engine's
///    own locks, used instead of the wrapper's generic gate.
template <class E>
concept cache_engine = requires(E& engine, const E& const_engine, const typename E::key_type& key,
                                const typename E::value_type& value) {
  typename E::key_type;
  typename E::value_type;
  { engine.get(key) } -> std::same_as<std::optional<typename E::value_type>>;
  engine.put(key, value);  // the wrapper stores a copy: the caller gets the original
  { engine.erase(key) } -> std::same_as<bool>;
  engine.clear();
  { const_engine.stats() } -> std::same_as<cache_stats>;
  { E::name() } -> std::convertible_to<std::string_view>;
};

TWAT_CACHE_END_NAMESPACE
