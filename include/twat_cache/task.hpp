#pragma once
/// task<T>: a lazy coroutine task, and sync_wait() to run one from plain code.
///
///   twat_cache::task<int> answer() { co_return 42; }
///   twat_cache::task<int> twice() { co_return 2 * co_await answer(); }
///   int x = twat_cache::sync_wait(twice());
///
/// A task does nothing until it is awaited; awaiting it resumes it by symmetric transfer (no stack
/// growth however long a chain of tasks), and when it ends its awaiter resumes the same way. An
/// exception that leaves the coroutine is rethrown at the awaiter. Inside a task any awaitable may
/// be awaited. A task made by task<T>::from_value holds its value without a coroutine frame:
/// awaiting it does not suspend and allocates nothing (acache returns such tasks on a hit).

#include <condition_variable>
#include <coroutine>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <twat_cache/version.hpp>
#include <type_traits>
#include <utility>

TWAT_CACHE_BEGIN_NAMESPACE

template <class T = void>
class task;

namespace detail {

struct task_promise_base {
  std::coroutine_handle<> continuation = std::noop_coroutine();
  std::exception_ptr error;

  struct final_awaiter {
    [[nodiscard]] bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> done) const noexcept {
      return done.promise().continuation;
    }
    void await_resume() const noexcept {}
  };

  [[nodiscard]] std::suspend_always initial_suspend() const noexcept { return {}; }
  [[nodiscard]] final_awaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
  void rethrow_if_failed() const {
    if (error) std::rethrow_exception(error);
  }
};

template <class T>
struct task_promise : task_promise_base {
  std::optional<T> value;

  task<T> get_return_object() noexcept;
  template <class U = T>
    requires std::is_constructible_v<T, U&&>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    value.emplace(std::forward<U>(v));
  }
  T& result() & {
    rethrow_if_failed();
    return *value;
  }
};

template <>
struct task_promise<void> : task_promise_base {
  task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void result() const { rethrow_if_failed(); }
};

}  // namespace detail

/// A lazy coroutine task whose result is a T (or void).
template <class T>
class [[nodiscard]] task {
  static_assert(!std::is_reference_v<T>, "twat_cache::task<T&>: return a value or a pointer");

 public:
  using promise_type = detail::task_promise<T>;
  using value_type = T;

  task() noexcept = default;
  task(task&& other) noexcept
      : coroutine_(std::exchange(other.coroutine_, {})), ready_(std::move(other.ready_)) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      destroy();
      coroutine_ = std::exchange(other.coroutine_, {});
      ready_ = std::move(other.ready_);
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { destroy(); }

  /// A task that already has its result: awaiting it neither suspends nor allocates.
  template <class U = T>
    requires(!std::is_void_v<U> && std::is_constructible_v<U, U&&>)
  static task from_value(U value) {
    task t;
    t.ready_.emplace(std::move(value));
    return t;
  }

  /// True when awaiting would not suspend: a from_value task, or a finished coroutine.
  [[nodiscard]] bool is_ready() const noexcept {
    return has_ready_value() || (coroutine_ && coroutine_.done());
  }
  /// False for a default-constructed or moved-from task.
  [[nodiscard]] bool valid() const noexcept { return has_ready_value() || bool(coroutine_); }

  auto operator co_await() & noexcept { return awaiter<false>{*this}; }
  auto operator co_await() && noexcept { return awaiter<true>{*this}; }

 private:
  friend struct detail::task_promise<T>;
  using handle = std::coroutine_handle<promise_type>;
  struct no_value {};
  using ready_storage = std::conditional_t<std::is_void_v<T>, no_value, std::optional<T>>;

  explicit task(handle h) noexcept : coroutine_(h) {}

  [[nodiscard]] bool has_ready_value() const noexcept {
    if constexpr (std::is_void_v<T>) {
      return false;
    } else {
      return ready_.has_value();
    }
  }

  void destroy() noexcept {
    if (coroutine_) std::exchange(coroutine_, {}).destroy();
  }

  // Rvalue awaiting hands the result over (moved); lvalue awaiting gives a reference to it.
  template <bool Rvalue>
  struct awaiter {
    task& self;

    [[nodiscard]] bool await_ready() const noexcept {
      return self.has_ready_value() || !self.coroutine_ || self.coroutine_.done();
    }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) const noexcept {
      self.coroutine_.promise().continuation = awaiting;
      return self.coroutine_;
    }
    decltype(auto) await_resume() const {
      if constexpr (std::is_void_v<T>) {
        if (!self.coroutine_) throw std::logic_error("twat_cache::task: awaiting an empty task");
        self.coroutine_.promise().result();
      } else {
        T* result = nullptr;
        if (self.ready_) {
          result = &*self.ready_;
        } else if (self.coroutine_) {
          result = &self.coroutine_.promise().result();
        } else {
          throw std::logic_error("twat_cache::task: awaiting an empty task");
        }
        if constexpr (Rvalue) {
          return T(std::move(*result));
        } else {
          return static_cast<T&>(*result);
        }
      }
    }
  };

  handle coroutine_{};
  [[no_unique_address]] ready_storage ready_{};
};

namespace detail {

template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}

/// The awaiter that `co_await a` uses: a's member or free operator co_await, else a itself.
template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (requires { std::forward<A>(a).operator co_await(); }) {
    return std::forward<A>(a).operator co_await();
  } else if constexpr (requires { operator co_await(std::forward<A>(a)); }) {
    return operator co_await(std::forward<A>(a));
  } else {
    return std::forward<A>(a);
  }
}

template <class A>
using await_result_t =
    decltype(std::declval<decltype(get_awaiter(std::declval<A>()))&>().await_resume());

/// Set by the coroutine that sync_wait runs, on the waiting thread's stack. A mutex and condition
/// variable rather than an atomic flag: the waiter may return (and this object die) as soon as it
/// sees `done`, and the notifier then touches nothing more.
struct sync_wait_event {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;

  void set() {
    std::lock_guard lock(mutex);
    done = true;
    cv.notify_one();
  }
  void wait() {
    std::unique_lock lock(mutex);
    cv.wait(lock, [this] { return done; });
  }
};

/// What sync_wait keeps of a result: a reference as a pointer (it refers into the awaited object,
/// which outlives the wait), void as a flag.
template <class R>
using sync_wait_slot =
    std::optional<std::conditional_t<std::is_reference_v<R>, std::remove_reference_t<R>*,
                                     std::conditional_t<std::is_void_v<R>, bool, R>>>;

struct sync_wait_coroutine {
  struct promise_type {
    sync_wait_event* event = nullptr;
    std::exception_ptr error;

    sync_wait_coroutine get_return_object() noexcept {
      return sync_wait_coroutine(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    [[nodiscard]] std::suspend_always initial_suspend() const noexcept { return {}; }
    struct final_awaiter {
      [[nodiscard]] bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> done) const noexcept {
        done.promise().event->set();
      }
      void await_resume() const noexcept {}
    };
    [[nodiscard]] final_awaiter final_suspend() const noexcept { return {}; }
    void unhandled_exception() noexcept { error = std::current_exception(); }
    void return_void() const noexcept {}
  };

  explicit sync_wait_coroutine(std::coroutine_handle<promise_type> h) noexcept : handle(h) {}
  sync_wait_coroutine(sync_wait_coroutine&& other) noexcept
      : handle(std::exchange(other.handle, {})) {}
  sync_wait_coroutine(const sync_wait_coroutine&) = delete;
  sync_wait_coroutine& operator=(const sync_wait_coroutine&) = delete;
  sync_wait_coroutine& operator=(sync_wait_coroutine&&) = delete;
  ~sync_wait_coroutine() {
    if (handle) handle.destroy();
  }

  /// Runs the coroutine and blocks until it has finished; rethrows its exception.
  void run() {
    sync_wait_event event;
    handle.promise().event = &event;
    handle.resume();
    event.wait();
    if (handle.promise().error) std::rethrow_exception(handle.promise().error);
  }

  std::coroutine_handle<promise_type> handle;
};

template <class R, class A>
sync_wait_coroutine await_into(A&& awaitable, sync_wait_slot<R>& slot) {
  if constexpr (std::is_void_v<R>) {
    co_await std::forward<A>(awaitable);
    slot.emplace(true);
  } else if constexpr (std::is_reference_v<R>) {
    slot.emplace(&co_await std::forward<A>(awaitable));
  } else {
    slot.emplace(co_await std::forward<A>(awaitable));
  }
}

}  // namespace detail

/// Runs `awaitable` to completion, blocking this thread until it is done (it may finish on another
/// thread), and returns its result or rethrows its exception. A task that is ready (from a cache
/// hit) is read at once, without a coroutine frame.
template <class A>
decltype(auto) sync_wait(A&& awaitable) {
  using result_type = detail::await_result_t<A>;
  if constexpr (requires { awaitable.is_ready(); } && !std::is_reference_v<result_type>) {
    if (awaitable.is_ready()) return detail::get_awaiter(std::forward<A>(awaitable)).await_resume();
  }
  detail::sync_wait_slot<result_type> slot;
  detail::await_into<result_type>(std::forward<A>(awaitable), slot).run();
  if constexpr (std::is_void_v<result_type>) {
    return;
  } else if constexpr (std::is_reference_v<result_type>) {
    return static_cast<result_type>(**slot);
  } else {
    return result_type(std::move(*slot));
  }
}

TWAT_CACHE_END_NAMESPACE
