#pragma once
// Shared by the async tests: a gate that suspends coroutines until the test opens it, and an eager
// coroutine that starts a task at once and can be destroyed while it waits.

#include <coroutine>
#include <cstddef>
#include <exception>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace test_support {

/// Coroutines that await wait() suspend until open() resumes them (on the thread calling open).
class gate {
 public:
  auto wait() {
    struct awaiter {
      gate& g;
      bool await_ready() {
        std::lock_guard lock(g.mutex_);
        return g.open_;
      }
      bool await_suspend(std::coroutine_handle<> h) {
        std::lock_guard lock(g.mutex_);
        if (g.open_) return false;
        g.waiting_.push_back(h);
        return true;
      }
      void await_resume() const noexcept {}
    };
    return awaiter{*this};
  }
  void open() {
    std::vector<std::coroutine_handle<>> resumed;
    {
      std::lock_guard lock(mutex_);
      open_ = true;
      resumed.swap(waiting_);
    }
    for (auto h : resumed)
      h.resume();
  }
  std::size_t waiting() {
    std::lock_guard lock(mutex_);
    return waiting_.size();
  }

 private:
  std::mutex mutex_;
  bool open_ = false;
  std::vector<std::coroutine_handle<>> waiting_;
};

/// An eager coroutine: runs until its first suspension when made; its result is read once done.
/// Destroying it destroys the frame (and every task it awaits), wherever it is suspended.
template <class T>
class spawned {
 public:
  struct promise_type {
    std::optional<T> value;
    std::exception_ptr error;
    bool finished = false;
    spawned get_return_object() {
      return spawned(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept {
      finished = true;
      return {};
    }
    template <class U>
    void return_value(U&& v) {
      value.emplace(std::forward<U>(v));
    }
    void unhandled_exception() { error = std::current_exception(); }
  };

  explicit spawned(std::coroutine_handle<promise_type> h) : handle_(h) {}
  spawned(spawned&& o) noexcept : handle_(std::exchange(o.handle_, {})) {}
  spawned& operator=(spawned&&) = delete;
  ~spawned() { reset(); }
  void reset() {
    if (handle_) std::exchange(handle_, {}).destroy();
  }

  bool done() const { return handle_ && handle_.promise().finished; }
  T get() const {
    if (handle_.promise().error) std::rethrow_exception(handle_.promise().error);
    return *handle_.promise().value;
  }

 private:
  std::coroutine_handle<promise_type> handle_;
};

/// Starts awaiting `a` now.
template <class T, class Awaitable>
spawned<T> spawn(Awaitable a) {
  co_return co_await std::move(a);
}

}  // namespace test_support
