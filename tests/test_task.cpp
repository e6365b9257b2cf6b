// twat_cache::task<T> and sync_wait: laziness, results, exceptions, chains, threads.

#include <catch2/catch.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <twat_cache/task.hpp>

#include "async_test_support.hpp"

using twat_cache::sync_wait;
using twat_cache::task;

namespace {

task<int> forty_two() {
  co_return 42;
}
task<int> doubled() {
  co_return 2 * co_await forty_two();
}
task<void> set_flag(bool& flag) {
  flag = true;
  co_return;
}
task<int> fails() {
  throw std::runtime_error("computation failed");
  co_return 0;
}
task<long> count_down(int n) {
  if (n == 0) co_return 0;
  co_return 1 + co_await count_down(n - 1);
}

}  // namespace

TEST_CASE("a task runs only when awaited", "[task]") {
  int runs = 0;
  auto body = [&]() -> task<int> {
    ++runs;
    co_return 7;
  };
  auto t = body();
  CHECK(runs == 0);
  CHECK_FALSE(t.is_ready());
  CHECK(sync_wait(std::move(t)) == 7);
  CHECK(runs == 1);
}

TEST_CASE("tasks await tasks and give their results", "[task]") {
  CHECK(sync_wait(doubled()) == 84);
  bool flag = false;
  sync_wait(set_flag(flag));
  CHECK(flag);
  auto owned = [](std::string s) -> task<std::unique_ptr<std::string>> {
    co_return std::make_unique<std::string>(s + "!");
  };
  CHECK(*sync_wait(owned("move-only")) == "move-only!");
}

TEST_CASE("an exception reaches the awaiter", "[task]") {
  CHECK_THROWS_WITH(sync_wait(fails()), "computation failed");
  auto outer = []() -> task<std::string> {
    try {
      co_await fails();
    } catch (const std::runtime_error& e) {
      co_return std::string("caught: ") + e.what();
    }
    co_return "not thrown";
  };
  CHECK(sync_wait(outer()) == "caught: computation failed");
}

TEST_CASE("a long chain of awaits finishes", "[task]") {
  // Symmetric transfer keeps this off the stack where the compiler makes it a tail call; the
  // depth here is safe without that too (g++ at -O0, sanitizers).
  CHECK(sync_wait(count_down(2000)) == 2000);
}

TEST_CASE("from_value gives a ready task that awaits without suspending", "[task]") {
  auto t = task<std::string>::from_value("ready");
  CHECK(t.valid());
  CHECK(t.is_ready());
  auto user = [](task<std::string> inner) -> task<std::size_t> {
    co_return (co_await std::move(inner)).size();
  };
  CHECK(sync_wait(user(std::move(t))) == 5);
}

TEST_CASE("awaiting a task as an lvalue gives a reference to its result", "[task]") {
  auto t = doubled();
  int& first = sync_wait(t);
  CHECK(first == 84);
  first = 1;
  CHECK(sync_wait(t) == 1);  // finished: the same result, not a second run
}

TEST_CASE("awaiting an empty task is an error, not a crash", "[task]") {
  task<int> empty;
  CHECK_FALSE(empty.valid());
  CHECK_THROWS_AS(sync_wait(std::move(empty)), std::logic_error);
}

TEST_CASE("sync_wait waits for a task that another thread resumes", "[task]") {
  test_support::gate g;
  auto waits = [&]() -> task<int> {
    co_await g.wait();
    co_return 5;
  };
  std::thread opener([&] {
    for (int i = 0; i < 2000 && g.waiting() == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    g.open();
  });
  CHECK(sync_wait(waits()) == 5);
  opener.join();
}

TEST_CASE("destroying a suspended task frees its whole chain", "[task]") {
  test_support::gate g;
  auto shared = std::make_shared<int>(1);
  auto inner = [&g](std::shared_ptr<int> keep) -> task<int> {
    co_await g.wait();
    co_return *keep;
  };
  {
    auto s = test_support::spawn<int>(inner(shared));
    CHECK_FALSE(s.done());
    CHECK(shared.use_count() == 2);
  }
  CHECK(shared.use_count() == 1);  // the frames were destroyed (ASan checks for leaks too)
}
