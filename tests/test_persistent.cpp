// The persistent factories (bcache, fcache): what every persistent cache must do, on real SQLite
// and real files in the test's own TWAT_CACHE_DIR.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <twat_cache/cache.hpp>
#include <vector>

#include "invalidation_test_support.hpp"
#include "persistent_test_support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using test_support::use_bcache;
using test_support::use_fcache;

namespace {

/// True when the factory's persistent engine is in this build (else it must fall back).
template <class Use>
constexpr bool persistent_built() {
  return !Use::engine.empty();
}

std::vector<double> series(int n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    v[static_cast<std::size_t>(i)] = i * 0.5;
  return v;
}

}  // namespace

TEMPLATE_TEST_CASE("a persistent cache answers hits without calling the function", "", use_bcache,
                   use_fcache) {
  int calls = 0;
  auto f = TestType::make(
      [&calls](int x, const std::string& s) {
        ++calls;
        return s + std::to_string(x);
      },
      {.folder_name = test_support::fresh_folder("hits"), .name = "concat"});
  if constexpr (persistent_built<TestType>()) {
    CHECK(f.backend() == TestType::engine);
  } else {
    CHECK(f.backend() == test_support::memory_backend());
  }
  CHECK(f(1, "a") == "a1");
  CHECK(f(1, "a") == "a1");
  CHECK(f(2, "a") == "a2");
  CHECK(f(1, std::string("a")) == "a1");
  CHECK(calls == 2);
  const auto s = f.stats();
  CHECK(s.hits == 2);
  CHECK(s.misses == 2);
  CHECK(s.size == 2);
  CHECK(s.errors == 0);
  CHECK(f.contains(1, "a"));
  CHECK(f.invalidate(1, "a"));
  CHECK_FALSE(f.invalidate(1, "a"));
  CHECK_FALSE(f.contains(1, "a"));
  CHECK(f(1, "a") == "a1");
  CHECK(calls == 3);
  f.clear();
  CHECK_FALSE(f.contains(2, "a"));
  CHECK(f.stats().size == 0);
}

TEMPLATE_TEST_CASE("entries outlive the wrapper: a new one over the same folder finds them", "",
                   use_bcache, use_fcache) {
  if constexpr (persistent_built<TestType>()) {
    const auto folder = test_support::fresh_folder("restart");
    int calls = 0;
    auto make = [&] {
      return TestType::make(
          [&calls](int n) {
            ++calls;
            return series(n);
          },
          {.folder_name = folder, .name = "series"});
    };
    {
      auto first = make();
      CHECK(first(1000) == series(1000));
      CHECK(first(3) == series(3));
    }
    auto second = make();
    CHECK(second(1000) == series(1000));
    CHECK(second(3) == series(3));
    CHECK(calls == 2);
    CHECK(second.stats().size == 2);
  }
}

TEMPLATE_TEST_CASE("a second process finds the first one's entries", "", use_bcache, use_fcache) {
  if constexpr (persistent_built<TestType>()) {
    const auto folder = test_support::fresh_folder("processes");
    const std::string factory(TestType::factory);
    CHECK(test_support::run_process(
              {TWAT_CACHE_TEST_PERSISTENT_WORKER, factory, folder, "write", "40"}) == 0);
    CHECK(test_support::run_process(
              {TWAT_CACHE_TEST_PERSISTENT_WORKER, factory, folder, "read", "40"}) == 0);
  }
}

TEMPLATE_TEST_CASE("four processes hammering one cache lose nothing and see no torn value", "",
                   use_bcache, use_fcache) {
  if constexpr (persistent_built<TestType>()) {
    const auto folder = test_support::fresh_folder("hammer");
    const std::string factory(TestType::factory);
    std::vector<std::thread> parents;
    std::vector<int> status(4, -1);
    for (int p = 0; p < 4; ++p) {
      parents.emplace_back([&, p] {
        status[static_cast<std::size_t>(p)] =
            test_support::run_process({TWAT_CACHE_TEST_PERSISTENT_WORKER, factory, folder, "hammer",
                                       "60", std::to_string(p + 1)});
      });
    }
    for (auto& t : parents)
      t.join();
    CHECK(status == std::vector<int>{0, 0, 0, 0});
    // Whatever survived the invalidations is right, as a last process reads it.
    CHECK(test_support::run_process(
              {TWAT_CACHE_TEST_PERSISTENT_WORKER, factory, folder, "write", "60"}) == 0);
  }
}

TEMPLATE_TEST_CASE("threads sharing one persistent cache all get right values", "", use_bcache,
                   use_fcache) {
  std::atomic<int> calls{0};
  auto f = TestType::make(
      [&calls](int i) {
        ++calls;
        return std::to_string(i * 7);
      },
      {.folder_name = test_support::fresh_folder("threads"), .name = "sevens"});
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        const int i = (round * (t + 3)) % 50;
        if (f(i) != std::to_string(i * 7)) ++wrong;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  CHECK(wrong == 0);
  CHECK(calls <= 50 + 4);  // single flight: about one call per key
  CHECK(f.stats().errors == 0);
}

TEMPLATE_TEST_CASE("ttl: an entry older than its ttl is a miss", "", use_bcache, use_fcache) {
  twat_cache::manual_clock clock;
  clock.advance(std::chrono::hours(24 * 365 * 50));  // a plausible wall-clock time
  int calls = 0;
  typename TestType::options o{.folder_name = test_support::fresh_folder("ttl"), .name = "ttl"};
  o.ttl = 10s;
  o.clock = clock;
  auto f = TestType::make(
      [&calls](int x) {
        ++calls;
        return x + 1;
      },
      o);
  CHECK(f(1) == 2);
  clock.advance(9s);
  CHECK(f(1) == 2);
  CHECK(calls == 1);
  // (Also when the cache fell back to memory: the fallback keeps the ttl and the clock.)
  clock.advance(2s);
  CHECK(f(1) == 2);
  CHECK(calls == 2);
  CHECK(f.stats().expirations == 1);
  CHECK(f.stats().size == 1);  // replaced, not added
  clock.advance(5s);
  CHECK(f(1) == 2);
  CHECK(calls == 2);
}

TEMPLATE_TEST_CASE("ttl: invalidate() of an expired entry says there was none", "", use_bcache,
                   use_fcache) {
  twat_cache::manual_clock clock;
  clock.advance(std::chrono::hours(24 * 365 * 50));  // a plausible wall-clock time
  typename TestType::options o{.folder_name = test_support::fresh_folder("ttl_invalidate"),
                               .name = "ttl_invalidate"};
  o.ttl = 10s;
  o.clock = clock;
  auto f = TestType::make([](int x) { return x + 1; }, o);
  f(1);
  f(2);
  CHECK(f.invalidate(1));
  CHECK_FALSE(f.invalidate(1));
  clock.advance(10s);
  CHECK_FALSE(f.contains(2));
  CHECK_FALSE(f.invalidate(2));
  CHECK(f.stats().size == 0);  // dropped all the same
}

TEMPLATE_TEST_CASE(
    "invalidate() or clear() during a computation keeps its value out; another key's does not", "",
    use_bcache, use_fcache) {
  const auto how = GENERATE(test_support::every_invalidation());
  CAPTURE(how);
  test_support::versioned_record record;
  typename TestType::options o{.folder_name = test_support::fresh_folder("overtaken"),
                               .name = "overtaken"};
  auto f = TestType::make([&record](int x) { return record.read(x); }, o);
  test_support::invalidate_during_a_computation(record, f, how);
}

TEMPLATE_TEST_CASE("maxsize evicts the least recently stored entries", "", use_bcache, use_fcache) {
  int calls = 0;
  auto f = TestType::make(
      [&calls](int x) {
        ++calls;
        return x * 10;
      },
      {.folder_name = test_support::fresh_folder("maxsize"), .name = "bounded", .maxsize = 3});
  for (int i = 0; i < 5; ++i)
    CHECK(f(i) == i * 10);
  const auto s = f.stats();
  CHECK(s.size == 3);
  CHECK(s.evictions == 2);
  CHECK(s.capacity == 3);
  if constexpr (persistent_built<TestType>()) {
    CHECK_FALSE(f.contains(0));
    CHECK_FALSE(f.contains(1));
    CHECK(f(4) == 40);  // a hit does not move an entry: the order is by store time
    CHECK(f(5) == 50);
    CHECK_FALSE(f.contains(2));
    CHECK(f.contains(3));
    CHECK(f.contains(4));
  }
}

TEMPLATE_TEST_CASE("maxsize never evicts the value just stored, even at the same time as others",
                   "", use_bcache, use_fcache) {
  // A clock that does not move stores every entry at one time: "least recently stored" is then
  // a tie, which must not be broken against the entry being written.
  twat_cache::manual_clock clock;
  clock.advance(std::chrono::hours(24 * 365 * 50));
  typename TestType::options o{.folder_name = test_support::fresh_folder("tie"), .name = "tie"};
  o.maxsize = 1;
  o.clock = clock;
  auto f = TestType::make([](int x) { return x * 2; }, o);
  for (int k = 0; k < 40; ++k) {
    CHECK(f(k) == 2 * k);
    CHECK(f.contains(k));
  }
  CHECK(f.stats().size == 1);
}

TEMPLATE_TEST_CASE("max_bytes bounds the stored bytes of a name", "", use_bcache, use_fcache) {
  if constexpr (persistent_built<TestType>()) {
    auto f = TestType::make(
        [](int n) { return std::string(static_cast<std::size_t>(n), 'x'); },
        {.folder_name = test_support::fresh_folder("bytes"), .name = "bytes", .max_bytes = 5000});
    for (int i = 0; i < 10; ++i)
      CHECK(f(1000 + i).size() == static_cast<std::size_t>(1000 + i));
    const auto s = f.stats();
    CHECK(s.bytes <= 5000);
    CHECK(s.bytes >= 3000);
    CHECK(s.evictions >= 5);
    CHECK(f.contains(1009));
    CHECK_FALSE(f.contains(1000));
    // A value larger than max_bytes is returned and not kept.
    CHECK(f(6000).size() == 6000);
    CHECK_FALSE(f.contains(6000));
    CHECK(f.contains(1009));
  }
}

TEMPLATE_TEST_CASE("two names in one folder never share entries", "", use_bcache, use_fcache) {
  const auto folder = test_support::fresh_folder("names");
  auto plus = TestType::make([](int x) { return x + 1; }, {.folder_name = folder, .name = "plus"});
  auto minus =
      TestType::make([](int x) { return x - 1; }, {.folder_name = folder, .name = "minus"});
  for (int i = 0; i < 20; ++i) {
    CHECK(plus(i) == i + 1);
    CHECK(minus(i) == i - 1);
  }
  for (int i = 0; i < 20; ++i) {
    CHECK(plus(i) == i + 1);
    CHECK(minus(i) == i - 1);
  }
  CHECK(plus.stats().size == 20);
  minus.clear();
  CHECK(plus.stats().size == 20);  // clearing one name leaves the other's entries
  CHECK(plus.contains(3));
}

TEMPLATE_TEST_CASE("a changed result type under the same name keys apart, never misreads", "",
                   use_bcache, use_fcache) {
  const auto folder = test_support::fresh_folder("types");
  auto as_int = TestType::make([](int x) { return std::int32_t{x}; },
                               {.folder_name = folder, .name = "same"});
  CHECK(as_int(1078530011) == 1078530011);
  int calls = 0;
  auto as_float = TestType::make(
      [&calls](int x) {
        ++calls;
        return static_cast<float>(x) / 2;
      },
      {.folder_name = folder, .name = "same"});
  CHECK(as_float(1078530011) == static_cast<float>(1078530011) / 2);
  CHECK(calls == 1);
}

TEMPLATE_TEST_CASE("compress: compressible values shrink, incompressible ones stay raw", "",
                   use_bcache, use_fcache) {
  if constexpr (persistent_built<TestType>() && TWAT_CACHE_WITH_ZSTD) {
    const auto folder = test_support::fresh_folder("compress");
    auto zeros = TestType::make([](int n) { return std::vector<double>(static_cast<size_t>(n)); },
                                {.folder_name = folder, .name = "zeros", .compress = true});
    CHECK(zeros(100000) == std::vector<double>(100000));
    CHECK(zeros(100000) == std::vector<double>(100000));
    CHECK(zeros.stats().bytes < 100000 * 8 / 20);
    CHECK(zeros.stats().hits == 1);

    auto noise = TestType::make(
        [](int n) {
          std::mt19937_64 random(static_cast<std::uint64_t>(n));
          std::uniform_real_distribution<double> d;
          std::vector<double> v(static_cast<std::size_t>(n));
          for (auto& x : v)
            x = d(random);
          return v;
        },
        {.folder_name = folder, .name = "noise", .compress = true});
    const auto first = noise(300000);
    CHECK(noise(300000) == first);
    CHECK(noise.stats().bytes >= 300000 * 8);
  }
}

TEMPLATE_TEST_CASE("folders are 0700 and files 0600, whatever the umask", "", use_bcache,
                   use_fcache) {
  if constexpr (persistent_built<TestType>()) {
    const auto folder = test_support::fresh_folder("modes") + "/nested";
    const mode_t old_mask = ::umask(0);
    auto f = TestType::make([](int x) { return x; }, {.folder_name = folder, .name = "modes"});
    CHECK(f(1) == 1);
    ::umask(old_mask);
    const fs::path path = twat_cache::get_cache_path(folder);
    CHECK(test_support::mode_of(path) == 0700);
    CHECK(test_support::mode_of(path.parent_path()) == 0700);
    int files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(path)) {
      INFO(entry.path());
      if (entry.is_directory()) {
        CHECK(test_support::mode_of(entry.path()) == 0700);
      } else {
        ++files;
        CHECK(test_support::mode_of(entry.path()) == 0600);
      }
    }
    CHECK(files >= 1);
  }
}

TEMPLATE_TEST_CASE("a folder that cannot be made: memory, one warning, right results", "",
                   use_bcache, use_fcache) {
  std::vector<std::string> warnings;
  twat_cache::set_logger([&](twat_cache::log_level, std::string_view cause, std::string_view) {
    warnings.emplace_back(cause);
  });
  // A regular file where the folder should be: not even root can make a folder there.
  const auto blocker = test_support::fresh_folder("blocked");
  fs::create_directories(twat_cache::get_cache_path());
  std::ofstream(twat_cache::get_cache_path(blocker)) << "not a folder";
  int calls = 0;
  auto f = TestType::make(
      [&calls](int x) {
        ++calls;
        return x * 3;
      },
      {.folder_name = blocker + "/inside", .name = "blocked"});
  CHECK(f.backend() == test_support::memory_backend());
  CHECK(f(2) == 6);
  CHECK(f(2) == 6);
  CHECK(calls == 1);
  auto g = TestType::make([](int x) { return x; }, {.folder_name = blocker, .name = "again"});
  CHECK(g(1) == 1);
  twat_cache::set_logger({});
  CHECK(warnings.size() == 1);  // once per cause, however many caches fall back
}

TEMPLATE_TEST_CASE("a cache root on a read-only file system: memory, right results", "", use_bcache,
                   use_fcache) {
  // /proc refuses new folders to everyone, root included: a real read-only place.
  const std::string saved = std::getenv("TWAT_CACHE_DIR") ? std::getenv("TWAT_CACHE_DIR") : "";
  ::setenv("TWAT_CACHE_DIR", "/proc/self/twat_cache_read_only", 1);
  twat_cache::set_logger([](auto, auto, auto) {});
  int calls = 0;
  auto f = TestType::make(
      [&calls](int x) {
        ++calls;
        return x * 5;
      },
      {.folder_name = "ro", .name = "read_only"});
  CHECK(f(3) == 15);
  CHECK(f(3) == 15);
  twat_cache::set_logger({});
  if (saved.empty()) {
    ::unsetenv("TWAT_CACHE_DIR");
  } else {
    ::setenv("TWAT_CACHE_DIR", saved.c_str(), 1);
  }
  CHECK(f.backend() == test_support::memory_backend());
  CHECK(calls == 1);
  CHECK(f.stats().hits == 1);
}

TEMPLATE_TEST_CASE("a symlink planted in the cache folder is never followed", "", use_bcache,
                   use_fcache) {
  if constexpr (persistent_built<TestType>()) {
    const auto folder = test_support::fresh_folder("symlink");
    const fs::path outside = fs::path(twat_cache::get_cache_path()) / (folder + "-outside");
    fs::create_directories(outside);
    const fs::path victim = outside / "victim.txt";
    std::ofstream(victim) << "precious";
    // A link where the cache's own folder should be, pointing outside.
    fs::create_directory_symlink(outside, twat_cache::get_cache_path(folder));
    twat_cache::set_logger([](auto, auto, auto) {});
    auto f = TestType::make([](int x) { return x + 1; }, {.folder_name = folder, .name = "link"});
    CHECK(f(1) == 2);
    f.clear();
    twat_cache::set_logger({});
    CHECK(f.backend() == test_support::memory_backend());
    CHECK(fs::directory_iterator(outside)->path() == victim);  // nothing written beside it
    std::ifstream in(victim);
    std::string text;
    in >> text;
    CHECK(text == "precious");
  }
}

TEST_CASE("a persistent cache without a name, or with a bad one, is a config_error") {
  auto f = [](int x) { return x; };
  using twat_cache::config_error;
  CHECK_THROWS_WITH(twat_cache::bcache(f, {.folder_name = "x"}),
                    Catch::Contains("bcache_options.name is required"));
  CHECK_THROWS_WITH(twat_cache::bcache(f, {.folder_name = "x", .name = "a/b"}),
                    Catch::Contains("bcache_options.name") && Catch::Contains("'/'"));
  CHECK_THROWS_WITH(twat_cache::bcache(f, {.folder_name = "x", .name = ".."}),
                    Catch::Contains("starts with '.'"));
  CHECK_THROWS_WITH(twat_cache::bcache(f, {.folder_name = "/etc", .name = "f"}),
                    Catch::Contains("bcache_options.folder_name") && Catch::Contains("absolute"));
  CHECK_THROWS_WITH(twat_cache::bcache(f, {.folder_name = "a/../../b", .name = "f"}),
                    Catch::Contains("'..'"));
  CHECK_THROWS_WITH(twat_cache::bcache(f, {.folder_name = "x", .name = "f", .maxsize = 0}),
                    Catch::Contains("maxsize = 0"));
  CHECK_THROWS_WITH(twat_cache::bcache(f, {.folder_name = "x", .name = "f", .max_bytes = 0}),
                    Catch::Contains("max_bytes = 0"));
  CHECK_THROWS_WITH(twat_cache::bcache(f, {.folder_name = "x", .name = "f", .ttl = -1s}),
                    Catch::Contains("ttl"));
  CHECK_THROWS_AS(twat_cache::bcache({.folder_name = "x"}), config_error);  // decorator form too
  CHECK_THROWS_AS(twat_cache::bcache(f, {.folder_name = std::string("a\0b", 3), .name = "f"}),
                  config_error);
  CHECK_THROWS_AS(twat_cache::bcache(f, {.folder_name = "x", .name = std::string(129, 'n')}),
                  config_error);
  CHECK_THROWS_WITH(twat_cache::fcache(f, {.folder_name = "x", .name = "cache.sqlite3-wal"}),
                    Catch::Contains("reserved for bcache's database"));
}

TEST_CASE("the decorator form of bcache") {
  auto f = twat_cache::bcache({.folder_name = test_support::fresh_folder("decorator"),
                               .name = "square"})([](int x) { return x * x; });
  CHECK(f(9) == 81);
  CHECK(f(9) == 81);
  CHECK(f.stats().hits == 1);
}
