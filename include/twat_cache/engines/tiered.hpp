#pragma once
/// Two levels: a fast first level (a memory engine) in front of a shared second level (redis,
/// memcached, or any engine). A hit in the first level costs what a memory hit costs; a miss
/// there asks the second, and a value found there is kept in the first. A computed value goes to
/// both. Single flight after a miss is the second level's when it has its own (so redis's `lock`
/// works through the tiers), else a gate here.
///
/// Invalidation: erase and clear reach both levels of this process, and the second level, so other
/// processes' second-level reads miss; but another process's first level keeps its copy until its
/// own ttl or eviction ends it. Give the first level a ttl to bound how stale it can be.
///
///     auto f = twat_cache::memoize<engines::tiered<engines::memory, engines::redis>>(
///         g, mcache_options{.maxsize = 10'000, .ttl = 60s},
///         redis_options{.url = "redis://cache:6379", .name = "g"});

#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <twat_cache/config.hpp>
#include <twat_cache/detail/invalidation_fence.hpp>
#include <twat_cache/detail/single_flight.hpp>
#include <twat_cache/engine.hpp>
#include <twat_cache/key.hpp>
#include <twat_cache/stats.hpp>
#include <type_traits>
#include <utility>
#include <variant>

TWAT_CACHE_BEGIN_NAMESPACE
namespace engines {

/// The two-level engine over two engines of one key and value type.
template <class First, class Second>
class tiered_engine {
  static_assert(std::is_same_v<typename First::key_type, typename Second::key_type> &&
                    std::is_same_v<typename First::value_type, typename Second::value_type>,
                "twat_cache: the two levels of a tiered engine must have one key and value type");

  template <class E>
  static constexpr bool has_own_single_flight =
      requires(E& e, const typename E::key_type& k, typename E::key_type (*make_key)(),
               typename E::value_type (*compute)(), void (*on_store_error)(std::exception_ptr)) {
    e.get_or_compute(k, make_key, compute, on_store_error);
  };

 public:
  using key_type = typename First::key_type;
  using value_type = typename First::value_type;
  using first_type = First;
  using second_type = Second;

  template <class FirstOptions, class SecondOptions>
  tiered_engine(const FirstOptions& first, const SecondOptions& second)
      : first_(first), second_(second) {}
  tiered_engine(const tiered_engine&) = delete;
  tiered_engine& operator=(const tiered_engine&) = delete;
  ~tiered_engine() = default;

  [[nodiscard]] static constexpr std::string_view name() noexcept { return "tiered"; }

  /// "tiered(<first>, <second>)", e.g. "tiered(boost_unordered, redis)".
  [[nodiscard]] static std::string_view backend() {
    static const std::string label =
        "tiered(" + std::string(First::name()) + ", " + std::string(Second::name()) + ")";
    return label;
  }

  /// The first level's hit inlined; the rest one call away.
  template <class K>
  [[nodiscard]] TWAT_CACHE_ALWAYS_INLINE std::optional<value_type> get(const K& key) {
    if (auto found = first_.get(key)) return found;
    return get_second(key);
  }
  template <class K>
  [[nodiscard]] std::optional<value_type> peek(const K& key) {
    if (auto found = first_.peek(key)) return found;
    return second_.peek(key);
  }
  template <class K>
  [[nodiscard]] bool contains(const K& key) {
    return first_.contains(key) || second_.contains(key);
  }

  void put(const key_type& key, const value_type& value) {
    second_.put(key, value);  // first: a put that throws leaves no first-level copy behind
    first_.put(key, value);
  }

  /// Drops the entry from both levels (the second is shared: every process loses it there).
  template <class K>
  bool erase(const K& key) {
    // No copy of it read or computed before lands.
    const auto invalidating = fence_.invalidating(key_hash<key_type>{}(key));
    const bool in_second = second_.erase(key);
    return first_.erase(key) || in_second;
  }

  /// Clears both levels (the second's entries of this function, for every process).
  void clear() {
    const auto invalidating = fence_.invalidating_all();
    second_.clear();
    first_.clear();
  }

  /// hits: in either level; misses: in both; evictions, expirations, size and capacity: the
  /// first level's (first().stats() and second().stats() have each level's own); errors: both.
  [[nodiscard]] cache_stats stats() const {
    const cache_stats one = first_.stats();
    const cache_stats two = second_.stats();
    cache_stats s = one;
    s.hits = one.hits + two.hits;
    s.misses = two.misses;
    s.errors = one.errors + two.errors;
    return s;
  }

  template <class K, class MakeKey, class Compute, class OnStoreError>
  value_type get_or_compute(const K& key, MakeKey&& make_key, Compute&& compute,
                            OnStoreError&& on_store_error) {
    const std::uint64_t hash = key_hash<key_type>{}(key);
    const std::uint64_t generation = fence_.generation(hash);  // an erase() from now keeps it out
    if constexpr (has_own_single_flight<Second>) {
      value_type value = second_.get_or_compute(key, make_key, compute, on_store_error);
      keep_first(make_key(), value, hash, generation, on_store_error);
      return value;
    } else {
      const key_type owned = make_key();
      return gate_.run(
          hash, owned, generation, [&] { return peek(owned); },
          [&]() -> value_type {
            value_type value = compute();
            try {
              fence_.store_if_current(hash, generation, [&] { put(owned, value); });
            } catch (...) {
              on_store_error(std::current_exception());
            }
            return value;
          });
    }
  }

  [[nodiscard]] First& first() noexcept { return first_; }
  [[nodiscard]] const First& first() const noexcept { return first_; }
  [[nodiscard]] Second& second() noexcept { return second_; }
  [[nodiscard]] const Second& second() const noexcept { return second_; }

 private:
  template <class K>
  TWAT_CACHE_NOINLINE std::optional<value_type> get_second(const K& key) {
    const std::uint64_t hash = key_hash<key_type>{}(key);
    const std::uint64_t generation = fence_.generation(hash);
    auto found = second_.get(key);
    if (found) {
      keep_first(detail::to_owned_key<key_type>(key), *found, hash, generation,
                 [](std::exception_ptr) {});
    }
    return found;
  }

  /// Copies a value into the first level, unless an erase() of its key (hash `hash`) or a
  /// clear() came since `generation` (it was read or computed before).
  template <class OnStoreError>
  void keep_first(key_type key, const value_type& value, std::uint64_t hash,
                  std::uint64_t generation, OnStoreError&& on_store_error) {
    try {
      fence_.store_if_current(hash, generation, [&] { first_.put(std::move(key), value); });
    } catch (...) {
      on_store_error(std::current_exception());
    }
  }

  First first_;
  Second second_;
  [[no_unique_address]] std::conditional_t<has_own_single_flight<Second>, std::monostate,
                                           detail::flight_gate<key_type, value_type>>
      gate_;
  detail::invalidation_fence fence_;  // erase() and clear() against copies they overtook
};

/// tiered<engines::memory, engines::redis>: the two-level engine as a family of engines, one per
/// key and value type, for memoize<tiered<...>>(f, first_options, second_options).
template <template <class...> class First, template <class...> class Second>
struct tiered {
  template <class Key, class Value>
  using bind = tiered_engine<First<Key, Value>, Second<Key, Value>>;
};

}  // namespace engines
TWAT_CACHE_END_NAMESPACE
