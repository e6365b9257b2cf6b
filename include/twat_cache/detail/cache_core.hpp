#pragma once
// What every memoizing wrapper's shared state has: the engine, the store errors the wrapper saw
// (counted and logged, never thrown at the caller), and its entry in the process-wide registry
// (get_stats, clear_cache).

#include <atomic>
#include <cstdint>
#include <exception>
#include <string>
#include <twat_cache/detail/invalidation_fence.hpp>
#include <twat_cache/detail/registry.hpp>
#include <twat_cache/detail/store_error.hpp>
#include <twat_cache/key.hpp>
#include <twat_cache/stats.hpp>
#include <utility>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

template <class Engine>
struct cache_core {
  template <class... EngineArgs>
  explicit cache_core(EngineArgs&&... engine_args)
      : engine(std::forward<EngineArgs>(engine_args)...) {}
  cache_core(const cache_core&) = delete;
  cache_core& operator=(const cache_core&) = delete;
  ~cache_core() {
    if (registration != 0) cache_registry::instance().remove(registration);
  }

  /// Lists this cache in get_stats() under `label`.
  void register_as(std::string label) {
    registration = cache_registry::instance().add(
        std::move(label), this,
        [](const void* self) { return static_cast<const cache_core*>(self)->stats(); },
        [](const void* self) {
          const_cast<cache_core*>(static_cast<const cache_core*>(self))->clear();
        });
  }

  /// The engine's counters plus the errors the wrapper saw.
  [[nodiscard]] cache_stats stats() const {
    cache_stats s = engine.stats();
    s.errors += errors.load(std::memory_order_relaxed);
    return s;
  }
  /// Drops every entry and zeroes the wrapper's error count. Computations running now store
  /// nothing (store_if_current).
  void clear() {
    const auto invalidating = fence.invalidating_all();
    engine.clear();
    errors.store(0, std::memory_order_relaxed);
  }

  /// engine.erase(key); computations of `key` running now store nothing (store_if_current).
  template <class K>
  bool erase(const K& key) {
    const auto invalidating = fence.invalidating(key_hash<K>{}(key));
    return engine.erase(key);
  }

  /// What a computation of the key with hash `key_hash` (key_hash<>) starting now hands to
  /// store_if_current() when it ends.
  [[nodiscard]] std::uint64_t generation(std::uint64_t key_hash) const noexcept {
    return fence.generation(key_hash);
  }

  /// Runs `store` (a put of a computed value) unless an erase() of its key or a clear() came
  /// since `generation`, when the computation began (detail::invalidation_fence). A failure is
  /// counted and logged.
  template <class Store>
  void store_if_current(std::uint64_t key_hash, std::uint64_t generation, Store&& store) noexcept {
    try {
      if constexpr (requires(const Engine& e) { e.thread_safe(); }) {
        if (!engine.thread_safe()) {
          fence.store_if_current_alone(key_hash, generation, store);
          return;
        }
      }
      fence.store_if_current(key_hash, generation, store);
    } catch (...) {
      report_store_error(std::current_exception());
    }
  }

  /// Counts and logs a failed store; the caller still gets its value.
  void report_store_error(std::exception_ptr error) noexcept {
    errors.fetch_add(1, std::memory_order_relaxed);
    log_store_error(Engine::name(), error);
  }

  Engine engine;
  std::atomic<std::uint64_t> errors{0};
  std::uint64_t registration = 0;
  invalidation_fence fence;  // erase() and clear() against the stores they overtook
};

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
