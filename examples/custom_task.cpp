// acache with a task type of another runtime: here a small hand-written `demo::job<T>`, standing
// for any coroutine task whose coroutines can await standard awaiters (cppcoro::task, folly's Task,
// ...). One specialization of twat_cache::task_traits is all acache needs.

#include <twat_cache/acache.hpp>

#include <coroutine>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <utility>

namespace demo {

/// A lazy task of "another runtime": started when awaited, resumes its awaiter when done.
template <class T>
class job {
 public:
  struct promise_type {
    std::optional<T> value;
    std::exception_ptr error;
    std::coroutine_handle<> awaiter = std::noop_coroutine();
    job get_return_object() {
      return job(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    auto final_suspend() noexcept {
      struct resume_awaiter {
        bool await_ready() noexcept { return false; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
          return h.promise().awaiter;
        }
        void await_resume() noexcept {}
      };
      return resume_awaiter{};
    }
    void return_value(T v) { value.emplace(std::move(v)); }
    void unhandled_exception() { error = std::current_exception(); }
  };

  explicit job(std::coroutine_handle<promise_type> h) : handle_(h) {}
  job(job&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  job& operator=(job&&) = delete;
  ~job() {
    if (handle_) handle_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) {
    handle_.promise().awaiter = awaiting;
    return handle_;
  }
  T await_resume() {
    if (handle_.promise().error) std::rethrow_exception(handle_.promise().error);
    return std::move(*handle_.promise().value);
  }

 private:
  std::coroutine_handle<promise_type> handle_;
};

}  // namespace demo

// The one thing acache needs: how to make a ready job (a hit) and a job that awaits the shared
// computation (a miss). demo::job coroutines await any standard awaiter, so the ready-made
// coroutine_task_traits does both.
template <class T>
struct twat_cache::task_traits<demo::job<T>> : twat_cache::coroutine_task_traits<demo::job<T>, T> {
};

int calls = 0;

demo::job<std::string> render(int page) {
  ++calls;
  co_return "<h1>page " + std::to_string(page) + "</h1>";
}

const auto cached_render = twat_cache::acache(render, {.maxsize = 100});

demo::job<int> three_views() {
  std::string a = co_await cached_render(1);
  std::string b = co_await cached_render(1);
  std::string c = co_await cached_render(2);
  co_return static_cast<int>(a.size() + b.size() + c.size());
}

int main() {
  // sync_wait runs any awaitable from plain code, this runtime's jobs included.
  const int bytes = twat_cache::sync_wait(three_views());
  std::printf("rendered %d bytes for 3 views with %d renders\n", bytes, calls);
}
