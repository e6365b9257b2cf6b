#pragma once
/// Where a cache reads the time for ttl: steady_clock, or a clock of your own (tests, simulations).

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <twat_cache/version.hpp>

TWAT_CACHE_BEGIN_NAMESPACE

/// A source of time for ttl. Empty means std::chrono::steady_clock.
using clock_fn = std::function<std::chrono::steady_clock::time_point()>;

/// A clock that moves only when told to, so ttl tests need not sleep. Copies share one time.
class manual_clock {
 public:
  using duration = std::chrono::steady_clock::duration;
  using time_point = std::chrono::steady_clock::time_point;

  manual_clock() : now_(std::make_shared<std::atomic<duration::rep>>(0)) {}

  [[nodiscard]] time_point now() const noexcept {
    return time_point(duration(now_->load(std::memory_order_acquire)));
  }
  void advance(duration d) noexcept { now_->fetch_add(d.count(), std::memory_order_acq_rel); }

  /// Lets a manual_clock be given where a clock_fn is expected: `.clock = my_clock`.
  operator clock_fn() const {  // NOLINT(google-explicit-constructor): the point is implicit use
    return [state = now_] { return time_point(duration(state->load(std::memory_order_acquire))); };
  }

  /// Lets a manual_clock be given where a wall clock is expected (persistent caches): its time
  /// counts from the Unix epoch.
  operator std::function<std::chrono::system_clock::time_point()>() const {  // NOLINT: as above
    return [state = now_] {
      return std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              duration(state->load(std::memory_order_acquire))));
    };
  }

 private:
  std::shared_ptr<std::atomic<duration::rep>> now_;
};

TWAT_CACHE_END_NAMESPACE
