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

template <class View, class Value>
class flight_gate {
 public:
  /// Returns the value for `key`: computed by `compute()` if this caller leads, else shared from
  /// the caller that does. `recheck()` (an optional<Value>) runs first when leading, catching a
  /// value stored between this caller's miss and its registration.
  template <class Recheck, class Compute>
  Value run(std::uint64_t hash, const View& key, Recheck&& recheck, Compute&& compute) {
    stripe& s = stripes_[hash % stripe_count];
    std::unique_lock lock(s.mutex);
    for (flight* f = s.head; f != nullptr; f = f->next) {
      if (f->hash != hash || !key_equal<View>{}(*f->key, key)) continue;
      if (f->owner == std::this_thread::get_id()) {
        lock.unlock();
        return compute();  // re-entrant: waiting on ourselves would never end
      }
      return follow(s, lock, *f);
    }
    flight me{hash, &key, std::this_thread::get_id(), s.head, false, 0, nullptr, {}};
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
    unlink(s, &me);
    me.done = true;
    me.error = error;
    if (me.waiters != 0) {
      me.value = &value;
      s.cv.notify_all();
      s.cv.wait(lock, [&me] { return me.waiters == 0; });  // they copy from our stack
    }
    lock.unlock();
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }

 private:
  struct flight {
    std::uint64_t hash;
    const std::remove_reference_t<View>* key;
    std::thread::id owner;
    flight* next;
    bool done = false;
    unsigned waiters = 0;
    const std::optional<Value>* value = nullptr;
    std::exception_ptr error;
  };
  struct alignas(cache_line) stripe {
    std::mutex mutex;
    std::condition_variable cv;
    flight* head = nullptr;
  };
  static constexpr std::size_t stripe_count = 16;

  static Value follow(stripe& s, std::unique_lock<std::mutex>& lock, flight& f) {
    ++f.waiters;
    s.cv.wait(lock, [&f] { return f.done; });
    std::optional<Value> copy;
    std::exception_ptr error = f.error;
    if (!error) {
      try {
        copy.emplace(**f.value);
      } catch (...) {
        error = std::current_exception();
      }
    }
    if (--f.waiters == 0) s.cv.notify_all();
    lock.unlock();
    if (error) std::rethrow_exception(error);
    return std::move(*copy);
  }

  static void unlink(stripe& s, flight* me) noexcept {
    flight** p = &s.head;
    while (*p != me)
      p = &(*p)->next;
    *p = me->next;
  }

  std::array<stripe, stripe_count> stripes_;
};

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
