#pragma once
// Shared by the tests of invalidation during a computation (test_concurrency, test_acache,
// test_persistent, test_networked): a record whose version changes while a call computes from
// the old one.

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

/// An invalidation of another key while a call computes keeps nothing out: the call's value is
/// stored. Fences count invalidations per stripe of key hashes (the wrapper's 64 stripes, the
/// memory engine's 16), and the hashes of 7 and 8 fall in different stripes of both; with one
/// count for all keys, a stream of other keys' invalidations kept a slow key out for good.
template <class Memo>
void invalidation_of_another_key_keeps_a_computation(versioned_record& record, Memo& f) {
  record.calls = 0;
  record.block_next = true;
  std::thread slow([&] { CHECK(f(7) == 1); });
  record.started.wait();
  record.version = 2;  // a record that 8's invalidation was about, not 7's
  f.invalidate(8);
  record.release_promise.set_value();
  slow.join();
  CHECK(f(7) == 1);  // the computation's value was stored
  CHECK(record.calls == 1);
}

/// What a test does while a call computes: invalidate its key, clear, or invalidate another key.
enum class invalidation { of_the_key, clear, of_another_key };

inline auto every_invalidation() {
  return Catch::Generators::values(
      {invalidation::of_the_key, invalidation::clear, invalidation::of_another_key});
}

template <class Memo>
void invalidate_during_a_computation(versioned_record& record, Memo& f, invalidation how) {
  if (how == invalidation::of_another_key) {
    invalidation_of_another_key_keeps_a_computation(record, f);
  } else {
    invalidation_overtakes_a_computation(record, f, how == invalidation::clear);
  }
}

}  // namespace test_support
