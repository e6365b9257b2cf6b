#pragma once
/// with_fallback<Primary, Fallback>: an engine that is Primary when Primary can start, and
/// Fallback (with one logged warning) when it cannot: at run time (Primary's constructor throws
/// engine_unavailable: a folder that cannot be made, a database of another version) or at
/// compile time (Primary is a not_built_engine: the build lacks its library). backend() names the
/// engine in use.

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <twat_cache/backends.hpp>
#include <twat_cache/errors.hpp>
#include <twat_cache/logging.hpp>
#include <twat_cache/options.hpp>
#include <twat_cache/stats.hpp>
#include <type_traits>
#include <utility>

TWAT_CACHE_BEGIN_NAMESPACE
namespace engines {

/// Stands for an engine this build does not have: a type with `not_built_engine` (its name) and
/// `not_built_reason` (what is missing, and how to get it).
template <class T>
concept not_built_engine = requires {
  T::not_built_engine;
  T::not_built_reason;
};

/// The memory engine's options for a persistent cache's: the same maxsize, ttl and clock, in
/// memory (max_bytes has no memory counterpart: the memory engine does not weigh values).
template <class PersistentOptions>
[[nodiscard]] mcache_options memory_options_for(const PersistentOptions& o) {
  mcache_options m;
  m.policy = policy::lru;  // as near as memory comes to "least recently stored"
  if (o.maxsize) m.maxsize = std::min(*o.maxsize, twat_cache::detail::max_memory_entries);
  m.ttl = o.ttl;
  m.name = o.name;
  if (o.clock) {
    // ttl only measures differences of time, so the wall clock serves as the steady one.
    m.clock = [wall = o.clock] {
      return std::chrono::steady_clock::time_point(
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
              wall().time_since_epoch()));
    };
  }
  return m;
}

/// Logs, once per engine, that `engine` cannot be used (`why`) and that `stand_in` caches instead.
inline void log_fallback(std::string_view engine, std::string_view stand_in, std::string_view why) {
  const auto* known = twat_cache::detail::find_known_engine(stand_in);
  const std::string place = known != nullptr && known->persistent
                                ? std::string(stand_in) + " instead"
                                : "memory instead (" + std::string(stand_in) + ")";
  twat_cache::detail::log_once(
      log_level::warning, "fallback." + std::string(engine),
      std::string(engine) + " engine unavailable, caching in " + place + ": " + std::string(why));
}

template <class Primary, class Fallback>
class with_fallback {
  static constexpr bool primary_built = !not_built_engine<Primary>;

 public:
  using key_type = typename Fallback::key_type;
  using value_type = typename Fallback::value_type;

  template <class Options>
  explicit with_fallback(const Options& options) {
    if constexpr (primary_built) {
      try {
        primary_ = std::make_unique<Primary>(options);
        return;
      } catch (const engine_unavailable& e) {
        log_fallback(Primary::name(), Fallback::name(), e.what());
      }
    } else {
      log_fallback(Primary::not_built_engine, Fallback::name(), Primary::not_built_reason);
    }
    fallback_.emplace(memory_options_for(options));
  }

  [[nodiscard]] static constexpr std::string_view name() noexcept {
    if constexpr (primary_built) {
      return Primary::name();
    } else {
      return Fallback::name();
    }
  }
  /// The engine in use.
  [[nodiscard]] std::string_view backend() const noexcept {
    if constexpr (primary_built) {
      if (primary_) return Primary::name();
    }
    return Fallback::name();
  }
  /// True when the primary engine could not start (or is not built) and memory stands in.
  [[nodiscard]] bool fell_back() const noexcept { return fallback_.has_value(); }

  /// The primary engine, or nullptr after a fallback.
  [[nodiscard]] auto* primary() noexcept {
    if constexpr (primary_built) {
      return primary_.get();
    } else {
      return static_cast<Fallback*>(nullptr);
    }
  }

  template <class K>
  [[nodiscard]] std::optional<value_type> get(const K& key) {
    return dispatch([&](auto& e) { return e.get(key); });
  }
  template <class K>
  [[nodiscard]] std::optional<value_type> peek(const K& key) {
    return dispatch([&](auto& e) { return e.peek(key); });
  }
  template <class K>
  [[nodiscard]] bool contains(const K& key) {
    return dispatch([&](auto& e) { return e.contains(key); });
  }
  void put(const key_type& key, const value_type& value) {
    dispatch([&](auto& e) { e.put(key, value); });
  }
  template <class K>
  bool erase(const K& key) {
    return dispatch([&](auto& e) { return e.erase(key); });
  }
  void clear() {
    dispatch([](auto& e) { e.clear(); });
  }
  [[nodiscard]] cache_stats stats() const {
    return const_cast<with_fallback*>(this)->dispatch([](const auto& e) { return e.stats(); });
  }

 private:
  template <class Body>
  decltype(auto) dispatch(Body&& body) {
    if constexpr (primary_built) {
      if (primary_) return body(*primary_);
    }
    return body(*fallback_);
  }

  using primary_holder = std::conditional_t<primary_built, std::unique_ptr<Primary>, char>;
  primary_holder primary_{};
  std::optional<Fallback> fallback_;
};

}  // namespace engines
TWAT_CACHE_END_NAMESPACE
