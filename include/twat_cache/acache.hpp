#pragma once
/// acache: memoize a function that returns an awaitable (twat_cache::task<T>, Asio's awaitable<T>,
/// or any type with a task_traits specialization); the memoized function returns the same kind.
///
///   twat_cache::task<int> fetch(int id);
///   auto cached = twat_cache::acache(fetch, {.maxsize = 256});
///   int v = co_await cached(7);
///
/// The data flow of one call:
///   cached(args...)  -> engine.get(args)            hit: task_traits<A>::ready(value), no frame
///                                                   for task<T>
///                    -> (miss) task_traits<A>::join(flight), lazy: when first awaited it
///                       -> joins the key's running flight if there is one (single flight,
///                          across threads), else takes the value cached meanwhile, else
///                          starts the flight: f(args...) awaited by a detached driver
///                    -> flight done: value stored in the engine, then every awaiter resumed with
///                       a copy (an exception reaches every awaiter and is not cached)
/// An awaiter that is destroyed or cancelled leaves the flight; the computation goes on for the
/// others and its value is cached.

#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <twat_cache/detail/cache_core.hpp>
#include <twat_cache/detail/signature.hpp>
#include <twat_cache/engines/memory.hpp>
#include <twat_cache/key.hpp>
#include <twat_cache/logging.hpp>
#include <twat_cache/mcache.hpp>
#include <twat_cache/options.hpp>
#include <twat_cache/stats.hpp>
#include <twat_cache/task.hpp>
#include <twat_cache/task_traits.hpp>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE

template <class Signature, class F>
class async_memoized;

/// A memoized async callable. Copies share one cache; safe to call from many threads.
template <class A, class F, class... Params>
class async_memoized<A(Params...), F> {
  static_assert(memoizable_task<A>,
                "twat_cache::acache: the function must return an awaitable that has a "
                "twat_cache::task_traits specialization: twat_cache::task<T>; Asio's awaitable<T> "
                "after #include <twat_cache/boost_asio.hpp> or <twat_cache/asio.hpp>; or your "
                "runtime's task type once you specialize task_traits (docs/acache.md)");
  static_assert(!(detail::non_const_lvalue_ref_v<Params> || ...),
                "twat_cache::acache: a memoized function cannot take a non-const reference "
                "parameter: a cache hit would skip the changes it makes");

  using traits = task_traits<A>;
  using keys = key_traits<Params...>;
  using view_type = typename keys::view_type;

 public:
  using key_type = typename keys::key_type;
  using value_type = task_value_t<A>;
  using engine_type = engines::memory<key_type, value_type>;
  using signature = A(Params...);

  template <class Fn>
  async_memoized(Fn&& fn, const acache_options& options)
      : state_(std::make_shared<state>(std::forward<Fn>(fn), options)) {
    state_->register_as(options.name.empty() ? std::string("acache") : options.name);
  }

  /// An A that gives f(args...): ready at once on a hit; on a miss, it shares the computation of
  /// every concurrent call with these arguments when awaited.
  A operator()(detail::call_param_t<Params>... args) const {
    const view_type view = keys::make_view(args...);
    if (auto hit = state_->engine.get(view)) return traits::ready(std::move(*hit));
    return traits::join(shared_flight<A>(std::make_shared<flight>(state_, keys::make_key(view))));
  }

  /// Counters of this cache; `misses` counts calls that found no value (awaiters that then
  /// shared a running computation included).
  [[nodiscard]] cache_stats stats() const { return state_->stats(); }
  /// Drops every entry. Computations in flight still finish and answer their awaiters, but store
  /// nothing, and a call from now on starts a computation of its own.
  void clear() const {
    retire_flights([](const key_type&) { return true; });
    state_->clear();
  }
  /// Drops the entry for these arguments; true if there was one. A computation of them in flight
  /// still answers its awaiters, but stores nothing, and a call from now on starts its own.
  bool invalidate(detail::call_param_t<Params>... args) const {
    const auto view = keys::make_view(args...);
    retire_flights([&view](const key_type& k) { return key_equal<key_type>{}(k, view); });
    return state_->erase(view);
  }
  /// True if these arguments have a live entry (neither a hit nor a miss is counted).
  [[nodiscard]] bool contains(detail::call_param_t<Params>... args) const {
    return state_->engine.contains(keys::make_view(args...));
  }
  /// Computations running now whose values will be stored (each shared by all its awaiters).
  [[nodiscard]] std::size_t in_flight() const {
    std::lock_guard lock(state_->flights_mutex);
    return state_->flights.size();
  }
  [[nodiscard]] std::string_view backend() const { return engine_type::name(); }
  [[nodiscard]] engine_type& engine() const noexcept { return state_->engine; }

 private:
  struct flight;

  struct state : detail::cache_core<engine_type> {
    template <class Fn>
    state(Fn&& f, const acache_options& o)
        : detail::cache_core<engine_type>(memory_options(o)), fn(std::forward<Fn>(f)) {}

    static mcache_options memory_options(const acache_options& o) {
      detail::validate(o);
      // The flights do the single flight; the engine only stores.
      return mcache_options{.maxsize = o.maxsize,
                            .ttl = o.ttl,
                            .policy = o.policy,
                            .thread_safe = true,
                            .single_flight = false,
                            .name = o.name,
                            .clock = o.clock};
    }

    F fn;
    // Keys with a computation running; guarded by flights_mutex.
    mutable std::mutex flights_mutex;
    std::unordered_map<key_type, std::shared_ptr<flight>, key_hash<key_type>, key_equal<key_type>>
        flights;
  };

  struct flight final : detail::async_flight<A>, std::enable_shared_from_this<flight> {
    flight(std::shared_ptr<state> s, key_type k) : owner(std::move(s)), key(std::move(k)) {}

    std::shared_ptr<detail::async_flight<A>> resolve() override {
      state& s = *owner;
      std::lock_guard lock(s.flights_mutex);
      if (auto running = s.flights.find(key); running != s.flights.end()) return running->second;
      // A flight that finished between our miss and now stored its value before retiring.
      if (auto cached = s.engine.peek(key)) {
        this->finish(std::move(cached), nullptr);
        return this->shared_from_this();
      }
      auto self = this->shared_from_this();
      s.flights.emplace(key, self);
      registered = true;
      hash = key_hash<key_type>{}(key);
      generation = s.generation(hash);  // under flights_mutex: see retire_flights()
      return self;
    }

    A call() override {
      return std::apply(
          [this](const auto&... stored) -> A {
            if constexpr (std::is_invocable_v<F&, detail::passed_t<Params>...>) {
              return std::invoke(owner->fn, static_cast<detail::passed_t<Params>>(stored)...);
            } else {
              static_assert(
                  std::is_invocable_v<F&, const async_memoized&, detail::passed_t<Params>...>,
                  "twat_cache::acache: the callable cannot be called with the memoized "
                  "signature's arguments, neither plainly nor with the wrapper as first argument");
              // The task may keep `self` past this call: it lives as long as the flight.
              if (!self) self.reset(new async_memoized(owner));
              return std::invoke(owner->fn, *self,
                                 static_cast<detail::passed_t<Params>>(stored)...);
            }
          },
          as_tuple(key));
    }

    void published(const value_type* value) noexcept override {
      if (!registered) return;  // finished from the cache: nothing to store or retire
      state& s = *owner;
      if (value != nullptr)
        s.store_if_current(hash, generation, [&] { s.engine.put(key, *value); });
      std::shared_ptr<flight> retired;  // released after the lock: it may be the last reference
      std::lock_guard lock(s.flights_mutex);
      if (auto it = s.flights.find(key); it != s.flights.end() && it->second.get() == this) {
        retired = std::move(it->second);
        s.flights.erase(it);
      }
    }

    std::shared_ptr<state> owner;
    key_type key;
    std::unique_ptr<const async_memoized> self;  // for a function that takes `auto& self`
    bool registered = false;       // in owner->flights: it stores its value and retires when done
    std::uint64_t hash = 0;        // of key
    std::uint64_t generation = 0;  // owner's invalidations of key's stripe when it registered
  };

  /// Takes the flights of the keys `matching` out of the map, so that calls from now on do not
  /// join them (an invalidation is coming, which keeps their values out of the cache).
  template <class Matching>
  void retire_flights(Matching&& matching) const {
    std::vector<std::shared_ptr<flight>> retired;  // released after the lock, as in published()
    std::lock_guard lock(state_->flights_mutex);
    for (auto it = state_->flights.begin(); it != state_->flights.end();) {
      if (matching(it->first)) {
        retired.push_back(std::move(it->second));
        it = state_->flights.erase(it);
      } else {
        ++it;
      }
    }
  }

  static decltype(auto) as_tuple(const key_type& key) {
    if constexpr (sizeof...(Params) == 1) {
      return std::forward_as_tuple(key);
    } else {
      return (key);
    }
  }

  explicit async_memoized(std::shared_ptr<state> s) noexcept : state_(std::move(s)) {}

  std::shared_ptr<state> state_;
};

/// Memoizes `f`, a callable returning an awaitable, in memory. Throws config_error for invalid
/// options.
template <class Sig = detail::deduce_signature, class F>
  requires detail::callable_not_options<F, acache_options>
auto acache(F&& f, const acache_options& options = {}) {
  using signature = detail::resolve_signature_t<Sig, F>;
  return async_memoized<signature, std::decay_t<F>>(std::forward<F>(f), options);
}

namespace detail {
/// What acache's decorator form applies.
template <class Sig>
struct apply_acache {
  template <class F>
  auto operator()(F&& f, const acache_options& o) const {
    return acache<Sig>(std::forward<F>(f), o);
  }
};
}  // namespace detail

/// Decorator form: acache({.maxsize = 256})(f).
template <class Sig = detail::deduce_signature>
auto acache(acache_options options) {
  detail::validate(options);
  return detail::decorator<acache_options, detail::apply_acache<Sig>>{std::move(options)};
}

TWAT_CACHE_END_NAMESPACE
