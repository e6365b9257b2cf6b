#pragma once
/// task_traits<A>: what acache needs to know about an awaitable type A to memoize a function that
/// returns one. Built in for twat_cache::task<T>; Asio's awaitable<T> in <twat_cache/asio.hpp>
/// (standalone) and <twat_cache/boost_asio.hpp>. For another runtime, specialize it:
///
///   template <class T>
///   struct twat_cache::task_traits<my::lazy<T>> : twat_cache::coroutine_task_traits<my::lazy<T>,
///   T> {};
///
/// when my::lazy<T> coroutines can co_await any standard awaiter; otherwise write `ready` and
/// `join` yourself (see docs/acache.md and <twat_cache/boost_asio.hpp>). A specialization provides:
///   using value_type = T;                          // what awaiting an A gives
///   static A ready(value_type v);                  // an A that gives v (a cache hit)
///   static A join(shared_flight<A> flight);        // an A that awaits the shared computation

#include <atomic>
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <twat_cache/detail/async_flight.hpp>
#include <twat_cache/errors.hpp>
#include <twat_cache/task.hpp>
#include <type_traits>
#include <utility>

TWAT_CACHE_BEGIN_NAMESPACE

/// Describes an awaitable type to acache; see the top of this header.
template <class A>
struct task_traits;

/// The type awaiting an A gives, as task_traits<A> says.
template <class A>
using task_value_t = typename task_traits<A>::value_type;

namespace detail {

/// The flight acache shares between the awaiters of one key (made by acache, one per miss).
template <class A>
class async_flight : public flight_result<task_value_t<A>> {
 public:
  /// The flight to wait on: this one (now registered), one already running for the key, or this
  /// one finished with the value that arrived in the cache meanwhile.
  virtual std::shared_ptr<async_flight> resolve() = 0;
  /// The function's task for this flight's arguments.
  virtual A call() = 0;
  /// True for exactly one caller: the one that starts the computation.
  bool claim_start() noexcept { return !started_.exchange(true, std::memory_order_acq_rel); }

 private:
  std::atomic<bool> started_{false};
};

}  // namespace detail

/// The right and the duty to run a shared computation (from shared_flight::claim_start): call()
/// gives the function's task; await it and pass its value or exception on. Destroyed before
/// that, it ends the flight with computation_abandoned, so no awaiter waits forever.
template <class A>
class flight_run {
 public:
  using value_type = task_value_t<A>;

  explicit flight_run(std::shared_ptr<detail::async_flight<A>> flight) noexcept
      : flight_(std::move(flight)) {}
  flight_run(flight_run&&) noexcept = default;
  flight_run& operator=(flight_run&&) = delete;
  flight_run(const flight_run&) = delete;
  flight_run& operator=(const flight_run&) = delete;
  ~flight_run() {
    if (flight_) {
      flight_->finish(std::nullopt, std::make_exception_ptr(computation_abandoned(
                                        "twat_cache::acache: the shared computation was destroyed "
                                        "before it finished")));
    }
  }

  /// The function's task for the flight's arguments.
  [[nodiscard]] A call() { return flight_->call(); }

  void set_value(value_type&& value) noexcept {
    std::optional<value_type> result;
    std::exception_ptr error;
    try {
      result.emplace(std::move(value));
    } catch (...) {
      error = std::current_exception();
    }
    std::exchange(flight_, {})->finish(std::move(result), std::move(error));
  }
  void set_exception(std::exception_ptr error) noexcept {
    std::exchange(flight_, {})->finish(std::nullopt, std::move(error));
  }

 private:
  std::shared_ptr<detail::async_flight<A>> flight_;
};

namespace detail {

/// A coroutine that runs by itself once started and frees its frame when it ends.
struct detached_coroutine {
  struct promise_type {
    detached_coroutine get_return_object() noexcept {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    [[nodiscard]] std::suspend_always initial_suspend() const noexcept { return {}; }
    [[nodiscard]] std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    [[noreturn]] void unhandled_exception() const noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> handle;
};

/// Runs a shared computation, detached from every awaiter (so none of them, destroyed, stops it
/// for the others).
template <class A>
detached_coroutine drive_flight(flight_run<A> run) {
  std::exception_ptr error;
  try {
    auto value = co_await run.call();
    run.set_value(std::move(value));
    co_return;
  } catch (...) {
    error = std::current_exception();
  }
  run.set_exception(std::move(error));
}

}  // namespace detail

/// The computation that every concurrent awaiter of one key shares. acache hands one to
/// task_traits<A>::join on a miss; join() must be called when the returned A is first awaited,
/// not before (a lazy A that is never awaited then costs nothing).
template <class A>
class shared_flight {
  using flight_type = detail::async_flight<A>;

 public:
  using value_type = task_value_t<A>;

  explicit shared_flight(std::shared_ptr<flight_type> candidate) noexcept
      : flight_(std::move(candidate)) {}

  /// Finds the computation to share (or the value cached meanwhile). Idempotent.
  void join() {
    if (!joined_) {
      flight_ = flight_->resolve();
      joined_ = true;
    }
  }
  /// After join(): the result is there.
  [[nodiscard]] bool done() const noexcept { return flight_->done(); }
  /// After join(): the run for exactly one caller (who must start it), empty for the others.
  [[nodiscard]] std::optional<flight_run<A>> claim_start() {
    if (!flight_->claim_start()) return std::nullopt;
    return std::optional<flight_run<A>>(std::in_place, flight_);
  }
  /// After join(): wake `w` when done; false if already done.
  bool subscribe(flight_waiter& w) { return flight_->subscribe(w); }
  /// Take `w` back (a cancelled awaiter); true if it had not been woken.
  bool unsubscribe(flight_waiter& w) { return flight_->unsubscribe(w); }
  /// After done(): a copy of the value, or the computation's exception rethrown.
  [[nodiscard]] value_type value() const { return flight_->value(); }

  /// Awaiting from a coroutine that can await any standard awaiter: joins, starts the computation
  /// on this thread if no one has, and resumes when it is done (on the thread that finished it).
  auto operator co_await() && {
    join();
    return awaiter(std::move(flight_));
  }

 private:
  class awaiter final : public flight_waiter {
   public:
    explicit awaiter(std::shared_ptr<flight_type> flight) noexcept : flight_(std::move(flight)) {}
    awaiter(awaiter&& other) noexcept : flight_(std::move(other.flight_)) {}
    awaiter& operator=(awaiter&&) = delete;
    ~awaiter() {
      // A destroyed awaiter (its coroutine destroyed while waiting) must not be woken.
      if (flight_ && subscribed_) flight_->unsubscribe(*this);
    }

    [[nodiscard]] bool await_ready() const noexcept { return flight_->done(); }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) {
      continuation_ = awaiting;
      std::coroutine_handle<> next = std::noop_coroutine();
      if (flight_->claim_start()) next = detail::drive_flight<A>(flight_run<A>(flight_)).handle;
      subscribed_ = true;
      if (!flight_->subscribe(*this)) return awaiting;  // finished meanwhile: go on at once
      // From here another thread may wake us and end this awaiter: touch no member.
      return next;
    }
    value_type await_resume() const { return flight_->value(); }
    void on_done() noexcept override { continuation_.resume(); }

   private:
    std::shared_ptr<flight_type> flight_;
    std::coroutine_handle<> continuation_;
    bool subscribed_ = false;
  };

  std::shared_ptr<flight_type> flight_;
  bool joined_ = false;
};

/// task_traits for a coroutine type A whose coroutines can co_await any standard awaiter
/// (cppcoro::task, folly::coro::Task, most hand-written tasks): hits and joins are coroutines of
/// type A. Derive a specialization from it: see the top of this header.
template <class A, class T>
struct coroutine_task_traits {
  using value_type = T;
  static A ready(T value) { co_return value; }
  static A join(shared_flight<A> flight) { co_return co_await std::move(flight); }
};

/// twat_cache::task<T>: a hit is a ready task (no coroutine frame, no allocation).
template <class T>
struct task_traits<task<T>> {
  using value_type = T;
  static task<T> ready(T value) { return task<T>::from_value(std::move(value)); }
  static task<T> join(shared_flight<task<T>> flight) { co_return co_await std::move(flight); }
};

/// An awaitable type acache can memoize: task_traits<A> is specialized and complete.
template <class A>
concept memoizable_task = requires(task_value_t<A> v, shared_flight<A> f) {
  { task_traits<A>::ready(std::move(v)) } -> std::same_as<A>;
  { task_traits<A>::join(std::move(f)) } -> std::same_as<A>;
};

TWAT_CACHE_END_NAMESPACE
