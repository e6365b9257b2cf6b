#pragma once
// What every memoizing wrapper's shared state has: the engine, the store errors the wrapper saw
// (counted and logged, never thrown at the caller), and its entry in the process-wide registry
// (get_stats, clear_cache).

#include <atomic>
#include <cstdint>
#include <exception>
#include <string>
#include <twat_cache/detail/registry.hpp>
#include <twat_cache/detail/store_error.hpp>
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
  /// Drops every entry and zeroes the wrapper's error count.
  void clear() {
    engine.clear();
    errors.store(0, std::memory_order_relaxed);
  }

  /// Counts and logs a failed store; the caller still gets its value.
  void report_store_error(std::exception_ptr error) noexcept {
    errors.fetch_add(1, std::memory_order_relaxed);
    log_store_error(Engine::name(), error);
  }

  Engine engine;
  std::atomic<std::uint64_t> errors{0};
  std::uint64_t registration = 0;
};

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
