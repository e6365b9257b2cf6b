#pragma once
// Shared by the tests of invalidation during a computation (test_concurrency, test_acache): a
// record whose version changes while a call computes from the old one.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace test_support {

using namespace std::chrono_literals;

/// A function of the version of some record: a call made while `block_next` is set reads the
/// version, then waits for `release` before it returns what it read (a slow read of the record).
struct versioned_record {
  std::atomic<int> version{1};
  std::atomic<int> calls{0};
  std::atomic<bool> block_next{false};
  std::promise<void> started_promise;
  std::shared_future<void> started = started_promise.get_future().share();
  std::promise<void> release_promise;
  std::shared_future<void> release = release_promise.get_future().share();

  int read(int) {
    ++calls;
    const int v = version.load();
    if (block_next.exchange(false)) {
      started_promise.set_value();
      release.wait();
    }
    return v;
  }
};

/// The record changes while a call computes from its old version, and the caller invalidates
/// (or clears): the old value must not be stored, and a call made after invalidate() returns
/// must compute afresh rather than wait for the old computation.
template <class Memo>
void invalidation_overtakes_a_computation(versioned_record& record, Memo& f, bool clear) {
  record.calls = 0;
  record.block_next = true;
  std::thread slow([&] { CHECK(f(7) == 1); });  // began before the change: its value is 1
  record.started.wait();
  record.version = 2;
  if (clear) {
    f.clear();
  } else {
    f.invalidate(7);
  }
  auto after = std::async(std::launch::async, [&] { return f(7); });
  const bool answered = after.wait_for(10s) == std::future_status::ready;
  record.release_promise.set_value();
  slow.join();
  CHECK(answered);  // it did not wait for the computation that the invalidation overtook
  CHECK(after.get() == 2);
  CHECK(f(7) == 2);  // the overtaken computation's 1 was not stored
  CHECK(record.calls == 2);
}

}  // namespace test_support
