#pragma once
/// chosen<Key, Value>: ucache's engine. It is one of the engines this build has, picked when it
/// is made from ucache_options, down the chain redis, memcached, sqlite, files, boost_unordered,
/// std_unordered, std_lru: the first link the options ask for that the build has and that
/// starts. Every alternative is compiled in (the persistent ones only when Key and Value have a
/// codec), in one union. A hit reaches the best memory engine through one branch, inlined; every
/// other call reaches the engine in use through one switch.
///
/// Where the chain starts: preferred_engine when given; else the engine of the url's scheme
/// (redis://, memcached://) when `url` is set; else sqlite when `folder_name` is set; else
/// boost_unordered. A link the build lacks is skipped (with one warning when preferred_engine or
/// url named it), and so is a persistent link whose constructor throws engine_unavailable (with
/// one warning, `fallback.<engine>`). A networked engine the build lacks falls back to memory:
/// its entries were to be shared, not kept on this machine's disk. With `maxsize`, a networked
/// engine gets a memory first level of that many entries in front of it (engines::tiered).

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <twat_cache/backends.hpp>
#include <twat_cache/codec.hpp>
#include <twat_cache/config.hpp>
#include <twat_cache/detail/invalidation_fence.hpp>
#include <twat_cache/detail/networked.hpp>
#include <twat_cache/detail/persistent.hpp>
#include <twat_cache/detail/single_flight.hpp>
#include <twat_cache/engines/fallback.hpp>
#include <twat_cache/engines/files.hpp>
#include <twat_cache/engines/memory.hpp>
#include <twat_cache/engines/std_lru.hpp>
#include <twat_cache/engines/tiered.hpp>
#include <twat_cache/errors.hpp>
#include <twat_cache/key.hpp>
#include <twat_cache/options.hpp>
#include <twat_cache/paths.hpp>
#include <twat_cache/stats.hpp>
#include <type_traits>
#include <utility>
#include <vector>

#if TWAT_CACHE_WITH_SQLITE
#include <twat_cache/engines/sqlite.hpp>
#endif
#if TWAT_CACHE_WITH_HIREDIS
#include <twat_cache/engines/redis.hpp>
#endif
#if TWAT_CACHE_WITH_MEMCACHED
#include <twat_cache/engines/memcached.hpp>
#endif

TWAT_CACHE_BEGIN_NAMESPACE

namespace detail {

/// A link of ucache's chain: an index into known_engines; then the networked engines with a
/// memory first level (not links of their own: they run under their engine's name).
enum class chain_link : std::uint8_t {
  redis,
  memcached,
  sqlite,
  files,
  boost_unordered,
  std_unordered,
  std_lru,
  redis_tiered,
  memcached_tiered,
};

[[nodiscard]] constexpr const known_engine& engine_at(chain_link link) noexcept {
  if (link == chain_link::redis_tiered) link = chain_link::redis;
  if (link == chain_link::memcached_tiered) link = chain_link::memcached;
  return known_engines[static_cast<std::size_t>(link)];
}

static_assert(engine_at(chain_link::redis).name == "redis" &&
                  engine_at(chain_link::memcached).name == "memcached" &&
                  engine_at(chain_link::sqlite).name == "sqlite" &&
                  engine_at(chain_link::files).name == "files" &&
                  engine_at(chain_link::boost_unordered).name == "boost_unordered" &&
                  engine_at(chain_link::std_unordered).name == "std_unordered" &&
                  engine_at(chain_link::std_lru).name == "std_lru" && known_engines.size() == 7,
              "chain_link follows known_engines");

/// Where ucache_options start the chain.
struct ucache_plan {
  chain_link first = chain_link::boost_unordered;
  bool asked = false;       ///< preferred_engine or url named it: a build without it warns
  bool persistent = false;  ///< the chain starts at a persistent engine
};

[[nodiscard]] inline std::string quote_text(std::string_view text) {
  return "\"" + printable(text) + "\"";
}

/// The option that made a cache persistent, for messages: `folder_name = "geo"`.
[[nodiscard]] inline std::string persistent_because(const ucache_options& o) {
  if (!o.preferred_engine.empty()) return "preferred_engine = " + quote_text(o.preferred_engine);
  if (!o.url.empty()) return "url = \"" + url_for_messages(o.url) + "\"";
  return "folder_name = " + quote_text(o.folder_name);
}

[[nodiscard]] inline std::string unknown_engine_message(std::string_view name) {
  std::string built;
  std::string missing;
  for (const known_engine& e : known_engines) {
    std::string& list = e.built ? built : missing;
    list += (list.empty() ? "" : ", ") + quote_text(e.name);
  }
  return "ucache_options.preferred_engine = " + quote_text(name) +
         " is not an engine twat_cache knows; allowed: " + built +
         " (this build's engines, best first), or empty for the best one the options allow" +
         (missing.empty() ? "" : "; also known but not in this build (they fall back): " + missing);
}

/// The checks of ucache_options for a networked engine (`link`): its url, a name; maxsize and
/// policy are the memory first level's; what only disks have is refused.
inline void validate_networked_ucache(const ucache_options& o, chain_link link) {
  constexpr std::string_view where = "ucache_options";
  const std::string field = "ucache_options.url";
  network_config parsed;
  if (link == chain_link::redis) {
    if (o.url.empty()) {
      throw config_error(
          "ucache_options.url is required with preferred_engine = \"redis\": the server, e.g. "
          "\"redis://127.0.0.1:6379\"");
    }
    parse_redis_url(field, o.url, parsed);
  } else {
    if (o.url.empty()) {
      throw config_error(
          "ucache_options.url is required with preferred_engine = \"memcached\": the servers, "
          "e.g. \"memcached://127.0.0.1:11211\"");
    }
    parse_memcached_url(field, o.url, parsed);
  }
  validate_function_name(where, o.name);
  validate_ttl(where, o.ttl);
  const std::string engine = quote_text(engine_at(link).name);
  auto not_here = [&](std::string_view option, std::string_view why) {
    return config_error("ucache_options." + std::string(option) + " does not apply to the " +
                        engine + " engine: " + std::string(why));
  };
  if (!o.folder_name.empty()) {
    throw not_here("folder_name", "its entries live on the server; leave folder_name empty");
  }
  if (o.max_bytes) {
    throw not_here("max_bytes", "the server's own memory limit (maxmemory, -m) bounds it");
  }
  if (o.durability != durability::fast) {
    throw not_here("durability", "the server's own persistence settings decide it");
  }
  validate_maxsize(where, o.maxsize, max_memory_entries);
  if (o.policy) {
    validate_memory_policy(where, *o.policy);
    if (!o.maxsize) {
      throw config_error(
          "ucache_options.policy applies to the memory first level in front of the " + engine +
          " engine, which maxsize asks for; set maxsize too, or leave policy empty");
    }
  }
}

/// Validates `o` as far as the function's types do not matter, and says where the chain starts.
/// Throws config_error naming the field.
[[nodiscard]] inline ucache_plan plan_ucache(const ucache_options& o) {
  constexpr std::string_view where = "ucache_options";
  ucache_plan plan;
  if (!o.preferred_engine.empty()) {
    const known_engine* known = find_known_engine(o.preferred_engine);
    if (known == nullptr) throw config_error(unknown_engine_message(o.preferred_engine));
    plan.first = static_cast<chain_link>(known - known_engines.data());
    plan.asked = true;
  } else if (!o.url.empty()) {
    plan.first = o.url.starts_with("memcached://") ? chain_link::memcached : chain_link::redis;
    plan.asked = true;
  } else if (!o.folder_name.empty()) {
    plan.first = chain_link::sqlite;
  }
  plan.persistent = engine_at(plan.first).persistent;
  if (engine_at(plan.first).networked) {
    validate_networked_ucache(o, plan.first);
    return plan;
  }
  if (!o.url.empty()) {
    throw config_error(
        "ucache_options.url = \"" + url_for_messages(o.url) +
        "\" names a server, but preferred_engine = " + quote_text(o.preferred_engine) +
        " uses none; leave one of them empty, or name \"redis\" or \"memcached\"");
  }
  if (o.lock) {
    throw config_error(
        "ucache_options.lock = true applies to the networked engines (redis, memcached) only; "
        "other engines coalesce concurrent callers within the process already");
  }

  if (plan.persistent) {
    static_cast<void>(validate_persistent(where, o));
    if (o.policy && *o.policy != policy::lru) {
      throw config_error("ucache_options.policy = " + std::string(policy_name(*o.policy)) +
                         " applies to memory engines only: a persistent cache (" +
                         persistent_because(o) +
                         ") evicts the least recently stored entries of its name; leave policy "
                         "empty (or lru), or cache in memory");
    }
    return plan;
  }
  // In memory. folder_name is set only when preferred_engine names a memory engine.
  const std::string in_memory = "preferred_engine = " + quote_text(o.preferred_engine);
  if (!o.folder_name.empty()) {
    throw config_error("ucache_options.folder_name = " + quote_text(o.folder_name) +
                       " asks for a persistent cache, but " + in_memory +
                       " keeps entries in memory; leave one of them empty");
  }
  auto persistent_only = [&](std::string_view field) {
    return config_error("ucache_options." + std::string(field) +
                        " applies to persistent engines only, and this cache is in memory (" +
                        (o.preferred_engine.empty() ? "folder_name is empty" : in_memory) +
                        "); set folder_name for a persistent cache, or leave " +
                        std::string(field) + " at its default");
  };
  if (o.max_bytes) throw persistent_only("max_bytes");
  if (o.compress) throw persistent_only("compress");
  if (o.durability != durability::fast) throw persistent_only("durability");
  validate_maxsize(where, o.maxsize, max_memory_entries);
  validate_ttl(where, o.ttl);
  if (o.policy) validate_memory_policy(where, *o.policy);
  if (plan.first == chain_link::std_lru && o.policy && *o.policy != policy::lru) {
    throw config_error("ucache_options.policy = " + std::string(policy_name(*o.policy)) +
                       " is not supported by the std_lru engine; allowed: lru");
  }
  return plan;
}

/// Throws config_error for invalid ucache_options (those checks that need no types).
inline void validate(const ucache_options& o) {
  static_cast<void>(plan_ucache(o));
}

/// The name of T as the compiler spells it, for messages ("a type" where that is unknown).
template <class T>
[[nodiscard]] std::string_view type_name() noexcept {
#if defined(__GNUC__) || defined(__clang__)
  std::string_view f = __PRETTY_FUNCTION__;  // "... [with T = X; ...]" (g++), "... [T = X]"
  const std::size_t start = f.find("T = ");
  if (start == std::string_view::npos) return "a type";
  f.remove_prefix(start + 4);
  std::size_t end = f.find("; ");
  if (end == std::string_view::npos) end = f.rfind(']');
  return f.substr(0, end);
#else
  return "a type";
#endif
}

[[noreturn]] inline void unreachable() noexcept {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_unreachable();
#else
  std::terminate();
#endif
}

}  // namespace detail

namespace engines {

/// Stands for an alternative that this build, or these key and value types, cannot have.
struct absent_engine {};

/// True when E runs single flight on its own locks (memoized then uses it instead of a gate).
template <class E>
concept own_single_flight = requires(E& e, const typename E::key_type& k,
                                     typename E::key_type (*make_key)(),
                                     typename E::value_type (*compute)(),
                                     void (*on_store_error)(std::exception_ptr)) {
  e.get_or_compute(k, make_key, compute, on_store_error);
};

template <class Key, class Value>
class chosen {
  using link = twat_cache::detail::chain_link;

 public:
  using key_type = Key;
  using value_type = Value;

  /// True when Key and Value have a codec: only then are the persistent engines compiled in.
  static constexpr bool persistent_capable =
      twat_cache::encodable<Key> && twat_cache::encodable<Value>;

 private:
#if TWAT_CACHE_WITH_SQLITE
  using sqlite_type = std::conditional_t<persistent_capable, sqlite<Key, Value>, absent_engine>;
#else
  using sqlite_type = absent_engine;
#endif
  using files_type = std::conditional_t<persistent_capable, files<Key, Value>, absent_engine>;
#if TWAT_CACHE_WITH_BOOST
  using boost_type = basic_memory<Key, Value, index_kind::boost_unordered>;
#else
  using boost_type = absent_engine;
#endif
  using std_type = basic_memory<Key, Value, index_kind::std_unordered>;
  using lru_type = std_lru<Key, Value>;
  /// The first level in front of a networked engine: the best memory engine.
  using local_type = std::conditional_t<TWAT_CACHE_WITH_BOOST != 0, boost_type, std_type>;
#if TWAT_CACHE_WITH_HIREDIS
  using redis_type = std::conditional_t<persistent_capable, redis<Key, Value>, absent_engine>;
#else
  using redis_type = absent_engine;
#endif
#if TWAT_CACHE_WITH_MEMCACHED
  using memcached_type =
      std::conditional_t<persistent_capable, memcached<Key, Value>, absent_engine>;
#else
  using memcached_type = absent_engine;
#endif
  template <class Networked>
  using tiered_over = std::conditional_t<std::is_same_v<Networked, absent_engine>, absent_engine,
                                         tiered_engine<local_type, Networked>>;

  template <link L>
  using type_at = std::tuple_element_t<
      static_cast<std::size_t>(L),
      std::tuple<redis_type, memcached_type, sqlite_type, files_type, boost_type, std_type,
                 lru_type, tiered_over<redis_type>, tiered_over<memcached_type>>>;
  template <link L>
  static constexpr bool built = !std::is_same_v<type_at<L>, absent_engine>;
  template <link L>
  using link_constant = std::integral_constant<link, L>;
  static constexpr link best_memory =
      built<link::boost_unordered> ? link::boost_unordered : link::std_unordered;

 public:
  /// Starts the first engine down the chain that the options ask for, the build has and that
  /// can start. Throws config_error for invalid options, and for a persistent cache of types
  /// without a codec.
  explicit chosen(const ucache_options& options) {
    const auto plan = twat_cache::detail::plan_ucache(options);
    if (plan.persistent && !persistent_capable) throw config_error(not_encodable(options));
    std::vector<std::pair<std::string_view, std::string>> skipped;  // engine, why
    bool started = false;
    for (auto i = static_cast<std::size_t>(plan.first);
         !started && i < twat_cache::detail::known_engines.size(); ++i) {
      const auto l = static_cast<link>(i);
      const auto& known = twat_cache::detail::engine_at(l);
      if (!is_built(l)) {
        // The best a build has is chosen silently; a missing engine the options named warns.
        if (plan.asked && l == plan.first) skipped.emplace_back(known.name, known.missing);
        // Entries meant to be shared go to memory, not to this machine's disk.
        if (known.networked) i = static_cast<std::size_t>(link::boost_unordered) - 1;
        continue;
      }
      try {
        start(with_first_level(l, options), options);
        started = true;
      } catch (const engine_unavailable& e) {
        skipped.emplace_back(known.name, e.what());
      }
    }
    if (!started) throw engine_unavailable("ucache: no engine could start");  // memory always can
    try {
      for (const auto& [engine, why] : skipped)
        log_fallback(engine, backend(), why);
      if (!dispatch(*this,
                    [](auto& e) { return own_single_flight<std::remove_cvref_t<decltype(e)>>; }))
        gate_ = std::make_unique<twat_cache::detail::flight_gate<Key, Value>>();
    } catch (...) {  // a throwing logger, no memory: no destructor will end the engine
      dispatch(*this, [](auto& e) { std::destroy_at(&e); });
      throw;
    }
  }
  chosen(const chosen&) = delete;
  chosen& operator=(const chosen&) = delete;
  ~chosen() {
    dispatch(*this, [](auto& e) { std::destroy_at(&e); });
  }

  [[nodiscard]] static constexpr std::string_view name() noexcept {
    return "ucache";
  }

  /// The engine in use: "redis", "memcached", "sqlite", "files", "boost_unordered",
  /// "std_unordered" or "std_lru" (a networked engine with a memory first level: its own name).
  [[nodiscard]] std::string_view backend() const noexcept {
    return twat_cache::detail::engine_at(in_use_).name;
  }

  /// Calls f(engine in use) and returns what it returns (the same type for every engine).
  template <class F>
  decltype(auto) visit(F&& f) {
    return dispatch(*this, f);
  }
  template <class F>
  decltype(auto) visit(F&& f) const {
    return dispatch(*this, f);
  }

  /// The hot path (the wrapper's first look): one predictable branch, then the best memory
  /// engine's get_fast() inlined, as mcache inlines it. Any other engine answers through get().
  template <class K>
  [[nodiscard]] TWAT_CACHE_ALWAYS_INLINE std::optional<Value> get_fast(const K& key, bool& miss) {
    if (in_use_ == best_memory) return alternative<best_memory>(*this).get_fast_locked(key, miss);
    miss = false;
    return std::nullopt;
  }

  /// The full lookup: the best memory engine's hit inlined, the other engines' one call away, so
  /// that a caller's code stays as small as with mcache.
  template <class K>
  [[nodiscard]] TWAT_CACHE_ALWAYS_INLINE std::optional<Value> get(const K& key) {
    // ucache's memory engines are always thread-safe: their get skips testing that option.
    if (in_use_ == best_memory) return alternative<best_memory>(*this).get_locked(key);
    // Through memory, not a returned optional: gcc would build that optional byte by byte on the
    // stack and load it whole, a store-forwarding stall that costs a small value's hit 4 ns.
    std::optional<Value> found;
    get_elsewhere(key, found);
    return found;
  }
  template <class K>
  [[nodiscard]] TWAT_CACHE_NOINLINE std::optional<Value> peek(const K& key) {
    return dispatch(*this, [&key](auto& e) { return e.peek(key); });
  }
  template <class K>
  [[nodiscard]] TWAT_CACHE_NOINLINE bool contains(const K& key) {
    return dispatch(*this, [&key](auto& e) { return e.contains(key); });
  }
  TWAT_CACHE_NOINLINE void put(const Key& key, const Value& value) {
    dispatch(*this, [&](auto& e) { e.put(key, value); });
  }
  TWAT_CACHE_NOINLINE void put(Key&& key, const Value& value) {
    dispatch(*this, [&](auto& e) { e.put(std::move(key), value); });
  }
  template <class K>
  TWAT_CACHE_NOINLINE bool erase(const K& key) {
    // A flight of the gate computing `key` stores nothing now.
    const auto invalidating = fence_.invalidating(key_hash<Key>{}(key));
    return dispatch(*this, [&key](auto& e) { return e.erase(key); });
  }
  TWAT_CACHE_NOINLINE void clear() {
    const auto invalidating = fence_.invalidating_all();
    dispatch(*this, [](auto& e) { e.clear(); });
  }
  [[nodiscard]] TWAT_CACHE_NOINLINE cache_stats stats() const {
    return dispatch(*this, [](const auto& e) { return e.stats(); });
  }

  /// Single flight after a miss (see engines.md): the memory engines' own, on their locks; for
  /// the others, a gate keyed by the owned key, with the engine's peek as its second look.
  template <class K, class MakeKey, class Compute, class OnStoreError>
  Value get_or_compute(const K& key, MakeKey&& make_key, Compute&& compute,
                       OnStoreError&& on_store_error) {
    return dispatch(*this, [&](auto& e) -> Value {
      if constexpr (own_single_flight<std::remove_cvref_t<decltype(e)>>) {
        return e.get_or_compute(key, make_key, compute, on_store_error);
      } else {
        const Key owned = make_key();
        const std::uint64_t hash = key_hash<Key>{}(owned);
        const std::uint64_t generation = fence_.generation(hash);  // an erase() from now: out
        return gate_->run(
            hash, owned, generation, [&] { return e.peek(key); },
            [&]() -> Value {
              Value value = compute();
              try {
                fence_.store_if_current(hash, generation, [&] { e.put(owned, value); });
              } catch (...) {
                on_store_error(std::current_exception());
              }
              return value;
            });
      }
    });
  }

 private:
  /// Calls f(link_constant<L>{}) for the run-time link `l`, which must be built.
  template <class F>
  static decltype(auto) on_link(link l, F&& f) {
    using result = decltype(f(link_constant<link::std_lru>{}));
    switch (l) {
      case link::redis:
        return on_built<link::redis, result>(f);
      case link::memcached:
        return on_built<link::memcached, result>(f);
      case link::redis_tiered:
        return on_built<link::redis_tiered, result>(f);
      case link::memcached_tiered:
        return on_built<link::memcached_tiered, result>(f);
      case link::sqlite:
        return on_built<link::sqlite, result>(f);
      case link::files:
        return on_built<link::files, result>(f);
      case link::boost_unordered:
        return on_built<link::boost_unordered, result>(f);
      case link::std_unordered:
        return on_built<link::std_unordered, result>(f);
      case link::std_lru:
        return on_built<link::std_lru, result>(f);
    }
    twat_cache::detail::unreachable();
  }
  template <link L, class Result, class F>
  static Result on_built(F& f) {
    if constexpr (built<L>) {
      return f(link_constant<L>{});
    } else {
      twat_cache::detail::unreachable();
    }
  }

  /// Calls body(the engine in use), const when `self` is.
  template <class Self, class Body>
  static decltype(auto) dispatch(Self& self, Body&& body) {
    return on_link(self.in_use_, [&](auto l) -> decltype(auto) {
      constexpr link L = decltype(l)::value;
      if constexpr (twat_cache::detail::engine_at(L).persistent) {
        return out_of_line(body, alternative<L>(self));
      } else {
        return body(alternative<L>(self));
      }
    });
  }

  /// body(engine), never inlined: the persistent engines' code stays out of every caller, so it
  /// does not spend the inlining the hit path needs.
  template <class Body, class Engine>
  TWAT_CACHE_NOINLINE static decltype(auto) out_of_line(Body& body, Engine& engine) {
    return body(engine);
  }

  /// get on any engine but the best memory one.
  template <class K>
  TWAT_CACHE_NOINLINE void get_elsewhere(const K& key, std::optional<Value>& found) {
    // Emplaced, not assigned: an assigned optional is built on the stack and copied whole.
    auto take = [&found](std::optional<Value>&& value) {
      if (value) found.emplace(std::move(*value));
    };
    switch (in_use_) {
      case link::std_unordered:
        return take(storage_.std_memory.get(key));
      case link::std_lru:
        return take(storage_.lru.get(key));
      default:
        return take(dispatch(*this, [&key](auto& e) { return e.get(key); }));
    }
  }

  template <link L, class Self>
  static auto& alternative(Self& self) noexcept {
    if constexpr (L == link::redis) {
      return self.storage_.redis_engine;
    } else if constexpr (L == link::memcached) {
      return self.storage_.memcached_engine;
    } else if constexpr (L == link::redis_tiered) {
      return self.storage_.tiered_redis;
    } else if constexpr (L == link::memcached_tiered) {
      return self.storage_.tiered_memcached;
    } else if constexpr (L == link::sqlite) {
      return self.storage_.sqlite_engine;
    } else if constexpr (L == link::files) {
      return self.storage_.files_engine;
    } else if constexpr (L == link::boost_unordered) {
      return self.storage_.boost_memory;
    } else if constexpr (L == link::std_unordered) {
      return self.storage_.std_memory;
    } else {
      static_assert(L == link::std_lru);
      return self.storage_.lru;
    }
  }

  static constexpr bool is_built(link l) noexcept {
    constexpr std::array<bool, 9> built_links{
        built<link::redis>,   built<link::memcached>,       built<link::sqlite>,
        built<link::files>,   built<link::boost_unordered>, built<link::std_unordered>,
        built<link::std_lru>, built<link::redis_tiered>,    built<link::memcached_tiered>};
    return built_links[static_cast<std::size_t>(l)];
  }

  /// A networked link with a memory first level in front when the options give it a maxsize.
  static link with_first_level(link l, const ucache_options& o) noexcept {
    if (!o.maxsize) return l;
    if (l == link::redis) return link::redis_tiered;
    if (l == link::memcached) return link::memcached_tiered;
    return l;
  }

  /// Makes the engine of link `l` from the options; on success it is the one in use.
  void start(link l, const ucache_options& o) {
    on_link(l, [&](auto c) {
      constexpr link L = decltype(c)::value;
      auto& place = alternative<L>(*this);
      if constexpr (L == link::redis_tiered || L == link::memcached_tiered) {
        constexpr link networked = L == link::redis_tiered ? link::redis : link::memcached;
        auto construct = [&o](auto& p) {
          mcache_options local = memory_options_for(o);
          local.policy = o.policy.value_or(default_policy);
          std::construct_at(&p, local, options_for<networked>(o));
        };
        out_of_line(construct, place);
      } else if constexpr (twat_cache::detail::engine_at(L).persistent) {
        auto construct = [&o](auto& p) { std::construct_at(&p, options_for<L>(o)); };
        out_of_line(construct, place);
      } else {
        std::construct_at(&place, options_for<L>(o));
      }
    });
    in_use_ = l;
  }

  /// The options of link L's engine, from ucache's.
  template <link L>
  static auto options_for(const ucache_options& o) {
    if constexpr (L == link::redis || L == link::memcached) {
      using options = std::conditional_t<L == link::redis, redis_options, memcached_options>;
      return options{
          .url = o.url, .name = o.name, .ttl = o.ttl, .compress = o.compress, .lock = o.lock};
    } else if constexpr (L == link::sqlite || L == link::files) {
      using options = std::conditional_t<L == link::sqlite, bcache_options, fcache_options>;
      return options{.folder_name = o.folder_name,
                     .name = o.name,
                     .maxsize = o.maxsize,
                     .max_bytes = o.max_bytes,
                     .ttl = o.ttl,
                     .compress = o.compress,
                     .durability = o.durability,
                     .clock = o.clock};
    } else {
      mcache_options m = memory_options_for(o);
      m.policy = o.policy.value_or(L == link::std_lru ? policy::lru : default_policy);
      return m;
    }
  }

  static std::string not_encodable(const ucache_options& o) {
    const std::string_view type = twat_cache::encodable<Value>
                                      ? twat_cache::detail::type_name<Key>()
                                      : twat_cache::detail::type_name<Value>();
    return "ucache_options." + twat_cache::detail::persistent_because(o) +
           " asks for a persistent cache, but " + std::string(type) +
           " has no twat_cache::codec, so no persistent engine is compiled in for this function; "
           "give the type a codec (specialize twat_cache::codec<T>, or give it an ADL function "
           "twat_cache_fields), or cache in memory";
  }

  union alternatives {
    alternatives() noexcept {}  // the constructor of chosen starts one member
    ~alternatives() {}          // and the destructor of chosen ends it
    alternatives(const alternatives&) = delete;
    alternatives& operator=(const alternatives&) = delete;
    redis_type redis_engine;
    memcached_type memcached_engine;
    tiered_over<redis_type> tiered_redis;
    tiered_over<memcached_type> tiered_memcached;
    sqlite_type sqlite_engine;
    files_type files_engine;
    boost_type boost_memory;
    std_type std_memory;
    lru_type lru;
  };

  link in_use_ = link::std_lru;
  alternatives storage_;
  std::unique_ptr<twat_cache::detail::flight_gate<Key, Value>> gate_;  // engines without their own
  twat_cache::detail::invalidation_fence fence_;  // erase() and clear() against the gate's stores
};

}  // namespace engines
TWAT_CACHE_END_NAMESPACE
