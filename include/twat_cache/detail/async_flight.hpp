#pragma once
// The shared state of one async computation (acache's single flight): the result once there is
// one, and the waiters to wake then. Guarded by one mutex; waiters are woken outside it, in the
// order they came, on the thread that set the result.

#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <twat_cache/version.hpp>
#include <utility>

TWAT_CACHE_BEGIN_NAMESPACE

namespace detail {
struct flight_list;
}

/// One awaiter of a shared async computation (see shared_flight). It is linked into the flight
/// while it waits; on_done() is called once, after the result is set, unless unsubscribe() took it
/// out first.
class flight_waiter {
 public:
  flight_waiter() = default;
  flight_waiter(const flight_waiter&) = delete;
  flight_waiter& operator=(const flight_waiter&) = delete;

  /// The result is set: read it and resume the awaiter. Must not throw.
  virtual void on_done() noexcept = 0;

 protected:
  ~flight_waiter() = default;

 private:
  friend struct detail::flight_list;
  flight_waiter* prev_ = nullptr;
  flight_waiter* next_ = nullptr;
  bool linked_ = false;
};

namespace detail {

/// An intrusive FIFO of waiters (no allocation per waiter).
struct flight_list {
  flight_waiter* head = nullptr;
  flight_waiter* tail = nullptr;

  void push(flight_waiter& w) noexcept {
    w.prev_ = tail;
    w.next_ = nullptr;
    (tail ? tail->next_ : head) = &w;
    tail = &w;
    w.linked_ = true;
  }
  bool remove(flight_waiter& w) noexcept {
    if (!w.linked_) return false;
    (w.prev_ ? w.prev_->next_ : head) = w.next_;
    (w.next_ ? w.next_->prev_ : tail) = w.prev_;
    w.linked_ = false;
    return true;
  }
  /// Takes every waiter out (under the owner's lock: unsubscribe() then finds them gone).
  flight_list take_all() noexcept {
    for (flight_waiter* w = head; w != nullptr; w = w->next_)
      w->linked_ = false;
    return std::exchange(*this, {});
  }
  /// Calls on_done() on each waiter of a taken list, in order (without the lock).
  static void wake_all(flight_list list) noexcept {
    for (flight_waiter* w = list.head; w != nullptr;) {
      flight_waiter* next = w->next_;
      w->on_done();  // may end w's lifetime
      w = next;
    }
  }
};

/// The result of one computation, shared by its awaiters. `Value` is what awaiting gives.
template <class Value>
class flight_result {
 public:
  flight_result() = default;
  flight_result(const flight_result&) = delete;
  flight_result& operator=(const flight_result&) = delete;
  virtual ~flight_result() = default;

  [[nodiscard]] bool done() const noexcept { return done_.load(std::memory_order_acquire); }

  /// Adds `w` unless the result is already set (then false: read it now).
  bool subscribe(flight_waiter& w) {
    std::lock_guard lock(mutex_);
    if (done_.load(std::memory_order_relaxed)) return false;
    waiters_.push(w);
    return true;
  }
  /// Takes `w` out before it is woken; false if it was already woken (or never added).
  bool unsubscribe(flight_waiter& w) {
    std::lock_guard lock(mutex_);
    return waiters_.remove(w);
  }

  /// A copy of the value, or the computation's exception rethrown. Only once done().
  [[nodiscard]] Value value() const {
    if (error_) std::rethrow_exception(error_);
    return *value_;
  }
  [[nodiscard]] std::exception_ptr error() const noexcept { return error_; }

  /// Sets the result (the first call wins) and wakes every waiter.
  void finish(std::optional<Value>&& value, std::exception_ptr error) noexcept {
    flight_list woken;
    {
      std::lock_guard lock(mutex_);
      if (done_.load(std::memory_order_relaxed)) return;
      if (error) {
        error_ = std::move(error);
      } else {
        value_ = std::move(value);
      }
      done_.store(true, std::memory_order_release);
      woken = waiters_.take_all();
    }
    published(value_ ? &*value_ : nullptr);
    flight_list::wake_all(woken);
  }

 protected:
  /// Called once, after the result is set and before the waiters wake (acache stores the value
  /// and retires the flight here).
  virtual void published(const Value* value) noexcept = 0;

 private:
  mutable std::mutex mutex_;
  std::atomic<bool> done_{false};
  std::optional<Value> value_;
  std::exception_ptr error_;
  flight_list waiters_;
};

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
