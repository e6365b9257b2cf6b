#pragma once
/// The memoizing wrapper over any cache_engine. The data flow of one call, all in operator():
///   key view from the arguments -> engine.get -> (miss) single-flight gate -> f(args...)
///   -> engine.put -> return value.
/// An exception from f is not cached and reaches every caller waiting on that key. An error
/// from the engine's put is counted in stats().errors and logged, never thrown at the caller.

#include <atomic>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <twat_cache/detail/cache_core.hpp>
#include <twat_cache/detail/signature.hpp>
#include <twat_cache/detail/single_flight.hpp>
#include <twat_cache/engine.hpp>
#include <twat_cache/key.hpp>
#include <twat_cache/logging.hpp>
#include <twat_cache/stats.hpp>
#include <type_traits>
#include <utility>

TWAT_CACHE_BEGIN_NAMESPACE

/// Options of the wrapper itself, for memoize<Engine>(f, memoize_options{...}, engine_args...).
struct memoize_options {
  bool single_flight = true;
  std::string name = {};  ///< label in get_stats()
};

namespace detail {

/// How the wrapper hands a parameter of type P to the function: as it holds it, except that an
/// rvalue-reference parameter gets a fresh copy (the cache keeps the original for the key).
template <class P>
using passed_t =
    std::conditional_t<std::is_rvalue_reference_v<P>, std::remove_cvref_t<P>, call_param_t<P>>;

template <class P>
inline constexpr bool non_const_lvalue_ref_v =
    std::is_lvalue_reference_v<P> && !std::is_const_v<std::remove_reference_t<P>>;

}  // namespace detail

template <class Engine, class Signature, class F>
class memoized;

/// A memoized callable. Copies share one cache; it is safe to call from many threads when the
/// engine is thread-safe.
template <class Engine, class F, class R, class... Params>
class memoized<Engine, R(Params...), F> {
  static_assert(!std::is_void_v<R>, "twat_cache: a function returning void has nothing to cache");
  static_assert(!(detail::non_const_lvalue_ref_v<Params> || ...),
                "twat_cache: a memoized function cannot take a non-const reference parameter (nor "
                "be a non-const member function): a cache hit would skip the changes it makes. "
                "Take the parameter by value or by const reference.");
  static_assert(cache_engine<Engine>, "twat_cache: Engine does not model twat_cache::cache_engine");

  using traits = key_traits<Params...>;
  using view_type = typename traits::view_type;

  // What the engine is asked with: the borrowed view when it takes one, else an owned key.
  static constexpr bool engine_takes_view = requires(Engine & e, const view_type& v) { e.get(v); };
  using lookup_type = std::conditional_t<engine_takes_view, view_type, typename traits::key_type>;

  // An engine may offer a get() for the hit path alone (get_fast: nullopt with `miss` clear
  // when its full get() must answer), or one per mode fixed at construction (the memory
  // engine's thread_safe).
  enum class fast_path { locked, unlocked, engine_choice };
  static constexpr bool has_fast_path = requires(Engine & e, const lookup_type& k, bool& m) {
    e.get_fast(k, m);
  };
  static constexpr bool has_split_fast_path = requires(Engine & e, const lookup_type& k, bool& m) {
    { e.thread_safe() } -> std::convertible_to<bool>;
    e.get_fast_locked(k, m);
    e.get_fast_unlocked(k, m);
  };

  // An engine with its own single flight (sharing its locks) is used instead of the generic gate.
  static constexpr bool native_single_flight =
      requires(Engine & e, const lookup_type& k, typename traits::key_type (*make_key)(),
               std::remove_cvref_t<R> (*compute)(), void (*on_store_error)(std::exception_ptr)) {
    e.get_or_compute(k, make_key, compute, on_store_error);
  };

 public:
  using engine_type = Engine;
  using key_type = typename traits::key_type;
  using value_type = std::remove_cvref_t<R>;
  using signature = R(Params...);

  template <class Fn, class... EngineArgs>
  explicit memoized(std::string_view default_name, memoize_options options, Fn&& fn,
                    EngineArgs&&... engine_args)
      : state_(std::make_shared<state>(std::move(options), std::forward<Fn>(fn),
                                       std::forward<EngineArgs>(engine_args)...)) {
    state_->register_as(state_->options.name.empty() ? std::string(default_name)
                                                     : state_->options.name);
  }

  /// Returns f(args...), from the cache when it has it.
  value_type operator()(detail::call_param_t<Params>... args) const {
    if constexpr (has_split_fast_path) {
      // One hit path per mode, chosen here: each holds one inlined lookup, where one function
      // holding both would save registers on every call.
      if (state_->engine.thread_safe()) return call_fast<fast_path::locked>(args...);
      return call_fast<fast_path::unlocked>(args...);
    } else if constexpr (has_fast_path) {
      return call_fast<fast_path::engine_choice>(args...);
    } else {
      const view_type view = traits::make_view(args...);
      if (auto hit = state_->engine.get(lookup(view))) return std::move(*hit);
      return miss(view, args...);
    }
  }

  /// Counters of this cache (engine counters plus errors the wrapper saw).
  [[nodiscard]] cache_stats stats() const { return state_->stats(); }

  /// What-if telemetry of an engine that has it (memory engines made with
  /// mcache_options::advisor): the hit ratio of every policy at 0.5x, 1x and 2x maxsize.
  [[nodiscard]] auto advise() const requires requires(const Engine& e) { e.advise(); }
  { return state_->engine.advise(); }

  /// Drops every entry (and zeroes the counters).
  void clear() const { state_->clear(); }

  /// Drops the entry for these arguments; true if there was one. A computation of them running
  /// now still answers the calls waiting for it, but stores nothing.
  bool invalidate(detail::call_param_t<Params>... args) const {
    return state_->erase(lookup(traits::make_view(args...)));
  }

  /// True if these arguments have a live entry. Counts neither a hit nor a miss, and does not
  /// refresh the entry's place in the eviction order (where the engine allows).
  [[nodiscard]] bool contains(detail::call_param_t<Params>... args) const {
    const view_type view = traits::make_view(args...);
    if constexpr (requires(Engine & e) { e.contains(lookup(view)); }) {
      return state_->engine.contains(lookup(view));
    } else {
      return state_->engine.get(lookup(view)).has_value();
    }
  }

  /// The engine actually in use ("boost_unordered", "std_lru", "sqlite", ...).
  [[nodiscard]] std::string_view backend() const {
    if constexpr (requires(const Engine& e) { e.backend(); }) {
      return state_->engine.backend();
    } else {
      return Engine::name();
    }
  }

  /// Direct access to the engine.
  [[nodiscard]] Engine& engine() const noexcept { return state_->engine; }

 private:
  struct state : detail::cache_core<Engine> {
    template <class Fn, class... EngineArgs>
    state(memoize_options o, Fn&& f, EngineArgs&&... engine_args)
        : detail::cache_core<Engine>(std::forward<EngineArgs>(engine_args)...),
          options(std::move(o)),
          fn(std::forward<Fn>(f)) {
      if (options.single_flight && !native_single_flight)
        gate = std::make_unique<detail::flight_gate<view_type, value_type>>();
    }

    memoize_options options;
    F fn;
    std::unique_ptr<detail::flight_gate<view_type, value_type>> gate;  // null: no single flight
  };

  static decltype(auto) lookup(const view_type& view) {
    if constexpr (engine_takes_view) {
      return (view);
    } else {
      return traits::make_key(view);
    }
  }

  /// The hit path of an engine with get_fast(), or get_fast_locked() and get_fast_unlocked().
  template <fast_path path>
  TWAT_CACHE_NOINLINE value_type call_fast(detail::call_param_t<Params>... args) const {
    state& s = *state_;
    const view_type view = traits::make_view(args...);
    // The calls off the hit take the arguments, not the view (which would need this frame), so
    // that they are tail calls and the hit needs no frame.
    bool missed;
    std::optional<value_type> hit = fast_lookup<path>(s.engine, view, missed);
    if (hit) return std::move(*hit);
    if (missed) return miss_of(args...);
    return get_or_miss(args...);
  }

  /// The engine's fast lookup for `path`. Forced inline: g++ -O2 kept an immediately invoked
  /// lambda here out of line, and the call and its closure on the stack made a hit 2.7 times
  /// slower than at -O3.
  template <fast_path path>
  TWAT_CACHE_ALWAYS_INLINE static std::optional<value_type> fast_lookup(Engine& engine,
                                                                        const view_type& view,
                                                                        bool& missed) {
    if constexpr (path == fast_path::locked) {
      return engine.get_fast_locked(lookup(view), missed);
    } else if constexpr (path == fast_path::unlocked) {
      return engine.get_fast_unlocked(lookup(view), missed);
    } else {
      return engine.get_fast(lookup(view), missed);
    }
  }

  /// The engine's full get(), then miss(): where its fast path cannot answer.
  TWAT_CACHE_NOINLINE value_type get_or_miss(detail::call_param_t<Params>... args) const {
    const view_type view = traits::make_view(args...);
    if (auto hit = state_->engine.get(lookup(view))) return std::move(*hit);
    return miss(view, args...);
  }
  TWAT_CACHE_NOINLINE value_type miss_of(detail::call_param_t<Params>... args) const {
    return miss(traits::make_view(args...), args...);
  }

  TWAT_CACHE_NOINLINE value_type miss(const view_type& view,
                                      detail::call_param_t<Params>... args) const {
    state& s = *state_;
    if constexpr (native_single_flight) {
      if (s.options.single_flight) {
        // The engine's single flight keeps invalidated computations out of its stores itself.
        return s.engine.get_or_compute(
            lookup(view), [&view] { return traits::make_key(view); },
            [&] { return invoke(args...); },
            [this](std::exception_ptr e) { report_store_error(e); });
      }
    }
    // A computation stores through the wrapper's fence, counted from before it began, so that an
    // invalidate() of its key or a clear() meanwhile keeps its value out
    // (cache_core::store_if_current).
    const std::uint64_t hash = key_hash<key_type>{}(view);
    const std::uint64_t generation = s.generation(hash);
    auto compute = [&]() -> value_type {
      value_type value = invoke(args...);
      s.store_if_current(hash, generation, [&] { s.engine.put(traits::make_key(view), value); });
      return value;
    };
    if constexpr (!native_single_flight) {
      if (s.options.single_flight) {
        auto recheck = [&]() -> std::optional<value_type> {
          if constexpr (requires(Engine & e) { e.peek(lookup(view)); }) {
            return s.engine.peek(lookup(view));
          } else {
            return std::nullopt;
          }
        };
        return s.gate->run(hash, view, generation, recheck, compute);
      }
    }
    return compute();
  }

  value_type invoke(detail::call_param_t<Params>... args) const {
    if constexpr (std::is_invocable_v<F&, detail::passed_t<Params>...>) {
      return std::invoke(state_->fn, static_cast<detail::passed_t<Params>>(args)...);
    } else {
      static_assert(std::is_invocable_v<F&, const memoized&, detail::passed_t<Params>...>,
                    "twat_cache: the callable cannot be called with the memoized signature's "
                    "arguments, neither plainly nor with the wrapper as first argument (self)");
      return std::invoke(state_->fn, *this, static_cast<detail::passed_t<Params>>(args)...);
    }
  }

  /// A failed put is counted and logged, never thrown at the caller: the call has its value.
  void report_store_error(std::exception_ptr error) const noexcept {
    state_->report_store_error(error);
  }

  std::shared_ptr<state> state_;
};

namespace detail {

template <template <class...> class EngineTemplate, class Sig, class F>
struct engine_for_signature;
template <template <class...> class EngineTemplate, class F, class R, class... Params>
struct engine_for_signature<EngineTemplate, R(Params...), F> {
  using type = EngineTemplate<typename key_traits<Params...>::key_type, std::remove_cvref_t<R>>;
};

/// A family of engines, one per key and value type (engines::tiered<...>): Family::bind<K, V>.
template <class Family>
concept engine_family = requires {
  typename Family::template bind<int, int>;
};

template <class Family, class Sig, class F>
struct family_member;
template <class Family, class F, class R, class... Params>
struct family_member<Family, R(Params...), F> {
  using type = typename Family::template bind<typename key_traits<Params...>::key_type,
                                              std::remove_cvref_t<R>>;
};

template <class T>
inline constexpr bool is_memoize_options_v =
    std::is_same_v<std::remove_cvref_t<T>, memoize_options>;

template <class Engine, class Sig, class F, class... Args>
auto make_memoized(F&& f, Args&&... args) {
  using fn_type = std::decay_t<F>;
  using signature = resolve_signature_t<Sig, F>;
  return [&]<class First, class... Rest>(First&& first, Rest&&... rest) {
    if constexpr (is_memoize_options_v<First>) {
      return memoized<Engine, signature, fn_type>("memoize", std::forward<First>(first),
                                                  std::forward<F>(f), std::forward<Rest>(rest)...);
    } else {
      return memoized<Engine, signature, fn_type>("memoize", memoize_options{}, std::forward<F>(f),
                                                  std::forward<First>(first),
                                                  std::forward<Rest>(rest)...);
    }
  }(std::forward<Args>(args)...);
}

}  // namespace detail

/// Memoizes `f` over a concrete engine type: memoize<MyEngine>(f, engine_ctor_args...), or over
/// a family of engines (memoize<engines::tiered<engines::memory, engines::redis>>(f, ...)).
/// A leading memoize_options argument sets the wrapper's own options.
template <class Engine, class Sig = detail::deduce_signature, class F, class... Args>
auto memoize(F&& f, Args&&... args) {
  if constexpr (detail::engine_family<Engine>) {
    using member = typename detail::family_member<Engine, detail::resolve_signature_t<Sig, F>,
                                                  std::decay_t<F>>::type;
    return memoize<member, Sig>(std::forward<F>(f), std::forward<Args>(args)...);
  } else if constexpr (sizeof...(Args) == 0) {
    return detail::make_memoized<Engine, Sig>(std::forward<F>(f), memoize_options{});
  } else {
    return detail::make_memoized<Engine, Sig>(std::forward<F>(f), std::forward<Args>(args)...);
  }
}

/// Memoizes `f` over an engine template instantiated with the key and value types of f's
/// signature: memoize<twat_cache::engines::memory>(f, mcache_options{...}).
template <template <class...> class Engine, class Sig = detail::deduce_signature, class F,
          class... Args>
auto memoize(F&& f, Args&&... args) {
  using engine = typename detail::engine_for_signature<Engine, detail::resolve_signature_t<Sig, F>,
                                                       std::decay_t<F>>::type;
  return memoize<engine, Sig>(std::forward<F>(f), std::forward<Args>(args)...);
}

TWAT_CACHE_END_NAMESPACE
