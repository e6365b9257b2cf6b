#pragma once
// Single flight: concurrent callers of one key share one computation. The first caller (the
// leader) registers a flight record on its own stack, so the common, uncontended miss allocates
// nothing; later callers of the same key wait on it and get a copy of its value or its exception.
// A call of the same key from inside its own computation (same thread) computes directly rather
// than wait for itself.

#include <array>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <twat_cache/detail/reader_slots.hpp>
#include <twat_cache/key.hpp>
#include <utility>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

/// One computation in progress, on its leader's stack, in a list guarded by some mutex (`lock`
/// below) with a condition variable (`cv`) that leader and followers share. Used by flight_gate
/// and by engines that run single flight on their own locks.
template <class Key, class Value>
struct flight {
  const Key* key;
  std::thread::id owner;
  flight* next = nullptr;
  std::uint64_t hash = 0;  // a cheap first test, where the list's user has it
  // Invalidations of its key (or clears) counted when it began, where the list's user counts
  // them: one begun before the latest is stale, and neither stores its value nor takes joiners.
  std::uint64_t generation = 0;
  bool done = false;
  unsigned waiters = 0;
  const Value* value = nullptr;  // the leader's result, valid until waiters reach 0
  std::exception_ptr error;

  flight(const Key* k, std::uint64_t h) : key(k), owner(std::this_thread::get_id()), hash(h) {}

  /// Removes this flight from the list at `head`.
  void unlink(flight*& head) noexcept {
    flight** p = &head;
    while (*p != this)
      p = &(*p)->next;
    *p = next;
  }

  /// A follower: waits for the leader, then returns a copy of its value or throws its exception.
  Value follow(std::unique_lock<std::mutex>& lock, std::condition_variable& cv) {
    ++waiters;
    return follow_joined(lock, cv);
  }

  /// follow() of a follower already counted in `waiters` (counted under another lock, one the
  /// leader takes before it reads `waiters`).
  Value follow_joined(std::unique_lock<std::mutex>& lock, std::condition_variable& cv) {
    cv.wait(lock, [this] { return done; });
    std::optional<Value> copy;
    std::exception_ptr failure = error;
    if (!failure) {
      try {
        copy.emplace(*value);
      } catch (...) {
        failure = std::current_exception();
      }
    }
    if (--waiters == 0) cv.notify_all();
    lock.unlock();
    if (failure) std::rethrow_exception(failure);
    return std::move(*copy);
  }

  /// The leader, unlinked, with `lock` held: publishes its result and waits until every follower
  /// has copied it from the leader's stack.
  void land(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, const Value* result,
            std::exception_ptr failure) {
    done = true;
    value = result;
    error = std::move(failure);
    if (waiters != 0) {
      cv.notify_all();
      cv.wait(lock, [this] { return waiters == 0; });
    }
  }
};

template <class View, class Value>
class flight_gate {
 public:
  /// Returns the value for `key`: computed by `compute()` if this caller leads, else shared from
  /// the caller that does. `recheck()` (an optional<Value>) runs first when leading, catching a
  /// value stored between this caller's miss and its registration. `generation`: the caller's
  /// count of invalidations (cache_core::generation()); a flight begun at another is not joined.
  template <class Recheck, class Compute>
  Value run(std::uint64_t hash, const View& key, std::uint64_t generation, Recheck&& recheck,
            Compute&& compute) {
    stripe& s = stripes_[hash % stripe_count];
    std::unique_lock lock(s.mutex);
    for (flight_type* f = s.head; f != nullptr; f = f->next) {
      if (f->hash != hash || f->generation != generation || !key_equal<View>{}(*f->key, key))
        continue;
      if (f->owner == std::this_thread::get_id()) {
        lock.unlock();
        return compute();  // re-entrant: waiting on ourselves would never end
      }
      return f->follow(lock, s.cv);
    }
    flight_type me(&key, hash);
    me.generation = generation;
    me.next = s.head;
    s.head = &me;
    lock.unlock();

    std::optional<Value> value;
    std::exception_ptr error;
    try {
      value = recheck();
      if (!value) value.emplace(compute());
    } catch (...) {
      error = std::current_exception();
    }

    lock.lock();
    me.unlink(s.head);
    me.land(lock, s.cv, value ? &*value : nullptr, error);
    lock.unlock();
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }

 private:
  using flight_type = flight<std::remove_reference_t<View>, Value>;
  struct alignas(cache_line) stripe {
    std::mutex mutex;
    std::condition_variable cv;
    flight_type* head = nullptr;
  };
  static constexpr std::size_t stripe_count = 16;

  std::array<stripe, stripe_count> stripes_;
};

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
