// The fallback chain against the build. tests/CMakeLists.txt tells this test what CMake enabled,
// apart from the TWAT_CACHE_WITH_* definitions the headers read: TWAT_CACHE_TEST_EXPECT_<NAME> is
// 0 or 1 for each optional dependency, and TWAT_CACHE_TEST_DEPENDENCIES lists them all
// ("BOOST=1,XXHASH=0,..."). Everything below is checked against those: available_backends(), the
// engine behind each factory, the observable effect of each dependency, and that every factory
// memoizes correctly with whatever the build has. scripts/run-tests.sh runs it in the full build,
// in the bare one and with each optional dependency off alone.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <twat_cache/cache.hpp>
#include <twat_cache/detail/hash_bytes.hpp>
#include <type_traits>
#include <utility>
#include <vector>

#include "log_capture.hpp"
#include "persistent_test_support.hpp"

#if !defined(TWAT_CACHE_TEST_DEPENDENCIES) || !defined(TWAT_CACHE_TEST_EXPECT_BOOST)
#error "tests/CMakeLists.txt defines TWAT_CACHE_TEST_DEPENDENCIES and TWAT_CACHE_TEST_EXPECT_<NAME>"
#endif

#if TWAT_CACHE_TEST_EXPECT_CEREAL
#include <cereal/types/string.hpp>
#endif
#if TWAT_CACHE_TEST_EXPECT_SQLITE
#include <sqlite3.h>
#endif
#if TWAT_CACHE_TEST_EXPECT_ZSTD
#include <zstd.h>
#endif

namespace fs = std::filesystem;
using test_support::warnings;

namespace {

constexpr bool expect_boost = TWAT_CACHE_TEST_EXPECT_BOOST != 0;
constexpr bool expect_xxhash = TWAT_CACHE_TEST_EXPECT_XXHASH != 0;
constexpr bool expect_sqlite = TWAT_CACHE_TEST_EXPECT_SQLITE != 0;
constexpr bool expect_zstd = TWAT_CACHE_TEST_EXPECT_ZSTD != 0;
constexpr bool expect_cereal = TWAT_CACHE_TEST_EXPECT_CEREAL != 0;
constexpr bool expect_asio = TWAT_CACHE_TEST_EXPECT_ASIO != 0;
constexpr bool expect_hiredis = TWAT_CACHE_TEST_EXPECT_HIREDIS != 0;
constexpr bool expect_memcached = TWAT_CACHE_TEST_EXPECT_MEMCACHED != 0;

struct dependency {
  std::string_view name;
  bool expected;    // what CMake enabled
  bool in_headers;  // what the headers compiled with
};

/// Every optional dependency this test knows. One that CMake gains (twat_cache_optional_dependency)
/// fails the first test case until it is added here, with a check of what it changes.
constexpr std::array known_dependencies = {
    dependency{"BOOST", expect_boost, TWAT_CACHE_WITH_BOOST != 0},
    dependency{"XXHASH", expect_xxhash, TWAT_CACHE_WITH_XXHASH != 0},
    dependency{"SQLITE", expect_sqlite, TWAT_CACHE_WITH_SQLITE != 0},
    dependency{"ZSTD", expect_zstd, TWAT_CACHE_WITH_ZSTD != 0},
    dependency{"CEREAL", expect_cereal, TWAT_CACHE_WITH_CEREAL != 0},
    dependency{"ASIO", expect_asio, TWAT_CACHE_WITH_ASIO != 0},
    dependency{"HIREDIS", expect_hiredis, TWAT_CACHE_WITH_HIREDIS != 0},
    dependency{"MEMCACHED", expect_memcached, TWAT_CACHE_WITH_MEMCACHED != 0},
};

/// TWAT_CACHE_TEST_DEPENDENCIES as (name, enabled) pairs.
std::vector<std::pair<std::string, bool>> cmake_dependencies() {
  std::vector<std::pair<std::string, bool>> out;
  const std::string_view all = TWAT_CACHE_TEST_DEPENDENCIES;
  std::size_t start = 0;
  while (start < all.size()) {
    std::size_t end = all.find(',', start);
    if (end == std::string_view::npos) end = all.size();
    const std::string_view item = all.substr(start, end - start);
    const std::size_t eq = item.find('=');
    REQUIRE(eq != std::string_view::npos);
    out.emplace_back(std::string(item.substr(0, eq)), item.substr(eq + 1) == "1");
    start = end + 1;
  }
  return out;
}

/// The memory engine this build should have.
constexpr std::string_view expected_memory_backend =
    expect_boost ? "boost_unordered" : "std_unordered";

/// The factories, as types: make(f, folder, name), decorate(f, folder, name), the engine the build
/// implies, and whether that engine keeps entries past the cache (primary: the engine tried first).
struct via_mcache {
  static constexpr std::string_view engine = expected_memory_backend;
  static constexpr bool persists = false;
  template <class F>
  static auto make(F&& f, const std::string&, const std::string& name) {
    return twat_cache::mcache(std::forward<F>(f), {.name = name});
  }
  template <class F>
  static auto decorate(F&& f, const std::string&, const std::string& name) {
    return twat_cache::mcache({.maxsize = 100, .name = name})(std::forward<F>(f));
  }
};

struct via_bcache {
  static constexpr std::string_view primary = "sqlite";
  static constexpr std::string_view engine = expect_sqlite ? "sqlite" : expected_memory_backend;
  static constexpr bool persists = expect_sqlite;
  template <class F>
  static auto make(F&& f, const std::string& folder, const std::string& name) {
    return twat_cache::bcache(std::forward<F>(f), {.folder_name = folder, .name = name});
  }
  template <class F>
  static auto decorate(F&& f, const std::string& folder, const std::string& name) {
    return twat_cache::bcache({.folder_name = folder, .name = name, .maxsize = 100})(
        std::forward<F>(f));
  }
};

struct via_fcache {
  static constexpr std::string_view primary = "files";
  static constexpr std::string_view engine = "files";
  static constexpr bool persists = true;
  template <class F>
  static auto make(F&& f, const std::string& folder, const std::string& name) {
    return twat_cache::fcache(std::forward<F>(f), {.folder_name = folder, .name = name});
  }
  template <class F>
  static auto decorate(F&& f, const std::string& folder, const std::string& name) {
    return twat_cache::fcache({.folder_name = folder, .name = name, .maxsize = 100})(
        std::forward<F>(f));
  }
};

struct via_ucache {
  static constexpr std::string_view primary = expect_sqlite ? "sqlite" : "files";
  static constexpr std::string_view engine = primary;
  static constexpr bool persists = true;
  template <class F>
  static auto make(F&& f, const std::string& folder, const std::string& name) {
    return twat_cache::ucache(std::forward<F>(f), {.folder_name = folder, .name = name});
  }
  template <class F>
  static auto decorate(F&& f, const std::string& folder, const std::string& name) {
    return twat_cache::ucache({.folder_name = folder, .name = name, .maxsize = 100})(
        std::forward<F>(f));
  }
};

/// A type cereal can serialize, with no codec<T> of its own.
struct cereal_point {
  int x = 0;
  std::string label;
  bool operator==(const cereal_point&) const = default;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(x, label);
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------------
// What the build has

TEST_CASE("CMake's optional dependencies are the ones checked here, and reach the headers as set") {
  const auto from_cmake = cmake_dependencies();
  for (const auto& entry : from_cmake) {
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    const std::string& name = entry.first;
    const bool enabled = entry.second;
    INFO("TWAT_CACHE_WITH_" << name << " is " << (enabled ? "ON" : "OFF") << " in CMake");
    const auto known = std::find_if(known_dependencies.begin(), known_dependencies.end(),
                                    [&](const dependency& d) { return d.name == name; });
    REQUIRE(known != known_dependencies.end());  // a new dependency: add it to this test
    CHECK(known->expected == enabled);
    CHECK(known->in_headers == enabled);  // the headers see what CMake set
  }
  for (const auto& d : known_dependencies) {
    INFO("test_backends knows " << d.name);
    CHECK(std::count_if(from_cmake.begin(), from_cmake.end(),
                        [&](const auto& c) { return c.first == d.name; }) == 1);
  }
}

TEST_CASE("available_backends() is exactly this build's engines, best first") {
  std::vector<std::string_view> expected;
  if (expect_hiredis) expected.emplace_back("redis");
  if (expect_memcached) expected.emplace_back("memcached");
  if (expect_sqlite) expected.emplace_back("sqlite");
  expected.emplace_back("files");
  if (expect_boost) expected.emplace_back("boost_unordered");
  expected.emplace_back("std_unordered");
  expected.emplace_back("std_lru");
  CHECK(twat_cache::available_backends() == expected);
}

TEST_CASE("each factory runs on the engine the build implies, falling back with one warning") {
  warnings seen;
  const auto folder = test_support::fresh_folder("engines");
  auto m = twat_cache::mcache([](int x) { return x; });
  auto b1 = twat_cache::bcache([](int x) { return x; }, {.folder_name = folder, .name = "b1"});
  auto b2 = twat_cache::bcache([](int x) { return x; }, {.folder_name = folder, .name = "b2"});
  auto f = twat_cache::fcache([](int x) { return x; }, {.folder_name = folder, .name = "f"});
  CHECK(m.backend() == expected_memory_backend);
  CHECK(b1.backend() == via_bcache::engine);
  CHECK(b2.backend() == via_bcache::engine);
  CHECK(f.backend() == "files");
  CHECK(b1.engine().fell_back() == !expect_sqlite);
  CHECK_FALSE(f.engine().fell_back());
  CHECK(m(1) + b1(1) + b2(1) + f(1) == 4);
  if (expect_sqlite) {
    CHECK(seen.causes.empty());
    CHECK(fs::is_regular_file(twat_cache::get_cache_path(folder) / "cache.sqlite3"));
  } else {
    // Two bcaches, one warning: the cause is reported once.
    CHECK(seen.causes == std::vector<std::string>{"fallback.sqlite"});
  }
}

TEST_CASE("ucache takes the engine the build implies, and each engine it has by name") {
  warnings seen;
  const auto folder = test_support::fresh_folder("ucache");
  CHECK(twat_cache::ucache([](int x) { return x; }).backend() == expected_memory_backend);
  CHECK(twat_cache::ucache([](int x) { return x; }, {.folder_name = folder, .name = "best"})
            .backend() == (expect_sqlite ? "sqlite" : "files"));
  for (const std::string_view engine : twat_cache::available_backends()) {
    INFO("preferred_engine = " << engine);
    const bool persistent = engine == "sqlite" || engine == "files";
    twat_cache::ucache_options options{.preferred_engine = std::string(engine)};
    if (persistent) {
      options.folder_name = folder;
      options.name = "by-name";
    }
    if (engine == "redis" || engine == "memcached") {
      // Nothing listens on port 1: the engine starts all the same, and calls go to the function
      // (test_networked has the servers).
      options.name = "by-name";
      options.url = std::string(engine) + "://127.0.0.1:1";
    }
    auto f = twat_cache::ucache([](int x) { return x + 1; }, options);
    CHECK(f.backend() == engine);
    CHECK(f(1) == 2);
  }
  // No fallback; the unreachable servers' errors only.
  CHECK(std::all_of(seen.causes.begin(), seen.causes.end(),
                    [](const std::string& c) { return c.starts_with("net."); }));
  seen.causes.clear();
  // The engines this build lacks: the next one down the chain, with one warning each.
  if (!expect_sqlite) {
    auto f = twat_cache::ucache(
        [](int x) { return x; },
        {.folder_name = folder, .name = "no-sqlite", .preferred_engine = "sqlite"});
    CHECK(f.backend() == "files");
  }
  if (!expect_boost) {
    auto f = twat_cache::ucache([](int x) { return x; }, {.preferred_engine = "boost_unordered"});
    CHECK(f.backend() == "std_unordered");
  }
  const auto built = twat_cache::available_backends();
  for (const std::string_view networked : {"redis", "memcached"}) {
    if (std::find(built.begin(), built.end(), networked) != built.end()) continue;
    // Entries meant for a server are not written to this machine's disk instead: memory.
    auto f = twat_cache::ucache([](int x) { return x; },
                                {.name = "missing", .url = std::string(networked) + "://h"});
    CHECK(f.backend() == expected_memory_backend);
  }
  std::vector<std::string> causes;
  if (!expect_hiredis) causes.emplace_back("fallback.redis");
  if (!expect_memcached) causes.emplace_back("fallback.memcached");
  if (!expect_sqlite) causes.emplace_back("fallback.sqlite");
  if (!expect_boost) causes.emplace_back("fallback.boost_unordered");
  std::sort(causes.begin(), causes.end());
  std::sort(seen.causes.begin(), seen.causes.end());
  CHECK(seen.causes == causes);
}

TEMPLATE_TEST_CASE("a folder that cannot be made: this build's memory engine, with warnings", "",
                   via_bcache, via_fcache, via_ucache) {
  warnings seen;
  const auto folder = test_support::fresh_folder("blocked");
  const fs::path blocked = twat_cache::get_cache_path(folder);
  fs::create_directories(blocked.parent_path());
  std::ofstream(blocked) << "a file where the cache folder should be";
  int calls = 0;
  auto f = TestType::make(
      [&calls](int x) {
        ++calls;
        return x * 3;
      },
      folder, "blocked");
  CHECK(f.backend() == expected_memory_backend);
  CHECK(f(2) == 6);
  CHECK(f(2) == 6);
  CHECK(calls == 1);
  // ucache walks down the whole chain: sqlite (when built) and then files, a warning for each.
  std::vector<std::string> causes{"fallback." + std::string(TestType::primary)};
  if (std::is_same_v<TestType, via_ucache> && expect_sqlite) causes.emplace_back("fallback.files");
  CHECK(seen.causes == causes);
  CHECK(fs::is_regular_file(blocked));
}

TEST_CASE("mcache's memory engine: Boost's flat map when built, else std::unordered_map") {
  using engine = decltype(twat_cache::mcache([](int x) { return x; }))::engine_type;
  CHECK(engine::name() == expected_memory_backend);
  // The std index is always there, whatever the build has.
  using std_engine =
      twat_cache::engines::basic_memory<int, int, twat_cache::engines::index_kind::std_unordered>;
  CHECK(std_engine::name() == "std_unordered");
}

TEST_CASE("zstd: compress = true shrinks compressible values only when the build has it") {
  const auto folder = test_support::fresh_folder("zstd");
  const std::vector<double> zeros(100000);
  constexpr std::uint64_t raw_bytes = 100000 * sizeof(double);
  auto f =
      twat_cache::fcache([](int n) { return std::vector<double>(static_cast<std::size_t>(n)); },
                         {.folder_name = folder, .name = "zeros", .compress = true});
  CHECK(f(100000) == zeros);
  CHECK(f(100000) == zeros);
  CHECK(f.stats().hits == 1);
  CHECK((f.stats().bytes < raw_bytes / 20) == expect_zstd);
  CHECK((f.stats().bytes >= raw_bytes) == !expect_zstd);
  if (expect_sqlite) {
    auto b =
        twat_cache::bcache([](int n) { return std::vector<double>(static_cast<std::size_t>(n)); },
                           {.folder_name = folder, .name = "zeros", .compress = true});
    CHECK(b(100000) == zeros);
    CHECK(b(100000) == zeros);
    CHECK((b.stats().bytes < raw_bytes / 20) == expect_zstd);
  }
#if TWAT_CACHE_TEST_EXPECT_ZSTD
  CHECK(ZSTD_versionNumber() > 0);  // linked
#endif
}

TEST_CASE("xxHash: byte hashes are XXH3 exactly when the build has it") {
  // XXH3_64bits of no bytes, seed 0 (xxHash's own test vector).
  constexpr std::uint64_t xxh3_of_nothing = 0x2D06800538D394C2ULL;
  CHECK((twat_cache::detail::hash_bytes("", 0) == xxh3_of_nothing) == expect_xxhash);
  // Either hash tells inputs apart and is stable.
  const std::string a = "twat_cache";
  const std::string b = "twat_cachf";
  CHECK(twat_cache::detail::hash_bytes(a.data(), a.size()) ==
        twat_cache::detail::hash_bytes(a.data(), a.size()));
  CHECK(twat_cache::detail::hash_bytes(a.data(), a.size()) !=
        twat_cache::detail::hash_bytes(b.data(), b.size()));
  CHECK_FALSE(twat_cache::detail::hash_bytes128(a.data(), a.size()) ==
              twat_cache::detail::hash_bytes128(b.data(), b.size()));
}

TEST_CASE("cereal: a cereal-serializable type persists exactly when the build has cereal") {
  STATIC_REQUIRE(twat_cache::encodable<cereal_point> == expect_cereal);
#if TWAT_CACHE_TEST_EXPECT_CEREAL
  int calls = 0;
  auto f = twat_cache::fcache(
      [&calls](int x) {
        ++calls;
        return cereal_point{x, "p" + std::to_string(x)};
      },
      {.folder_name = test_support::fresh_folder("cereal"), .name = "point"});
  CHECK(f(4) == cereal_point{4, "p4"});
  CHECK(f(4) == cereal_point{4, "p4"});
  CHECK(calls == 1);
#endif
}

TEST_CASE("SQLite: bcache's database is a real SQLite file exactly when the build has it") {
  const auto folder = test_support::fresh_folder("sqlite");
  const test_support::quiet_logger quiet;
  auto f = twat_cache::bcache([](int x) { return x + 1; }, {.folder_name = folder, .name = "f"});
  CHECK(f(1) == 2);
  const fs::path db = twat_cache::get_cache_path(folder) / "cache.sqlite3";
  CHECK(fs::exists(db) == expect_sqlite);
#if TWAT_CACHE_TEST_EXPECT_SQLITE
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* count = nullptr;
  REQUIRE(sqlite3_prepare_v2(handle, "SELECT COUNT(*) FROM entries", -1, &count, nullptr) ==
          SQLITE_OK);
  REQUIRE(sqlite3_step(count) == SQLITE_ROW);
  CHECK(sqlite3_column_int(count, 0) == 1);
  sqlite3_finalize(count);
  sqlite3_close(handle);
#endif
}

TEST_CASE("Asio: the build's TWAT_CACHE_WITH_ASIO is what CMake found") {
  // What acache does with asio::awaitable is tested with acache; here only that the switch holds.
  CHECK(bool(TWAT_CACHE_WITH_ASIO) == expect_asio);
}

// ---------------------------------------------------------------------------------------------------
// Every factory memoizes, whatever the build has

TEMPLATE_TEST_CASE("every factory memoizes: a hit never calls the function, values are right", "",
                   via_mcache, via_bcache, via_fcache, via_ucache) {
  const test_support::quiet_logger quiet;
  int calls = 0;
  auto f = TestType::make(
      [&calls](int x, const std::string& s) {
        ++calls;
        return s + ":" + std::to_string(x * x);
      },
      test_support::fresh_folder("memoizes"), "square");
  CHECK(f.backend() == TestType::engine);
  CHECK(f(3, "a") == "a:9");
  CHECK(f(3, "a") == "a:9");
  CHECK(f(3, std::string("a")) == "a:9");
  CHECK(calls == 1);
  CHECK(f(3, "b") == "b:9");
  CHECK(f(-3, "a") == "a:9");
  CHECK(calls == 3);
  for (int i = 0; i < 20; ++i)
    CHECK(f(i, "n") == "n:" + std::to_string(i * i));
  for (int i = 0; i < 20; ++i)
    CHECK(f(i, "n") == "n:" + std::to_string(i * i));
  CHECK(calls == 23);
  const auto stats = f.stats();
  CHECK(stats.hits == 22);
  CHECK(stats.misses == 23);
  CHECK(stats.size == 23);

  CHECK(f.contains(3, "a"));
  CHECK_FALSE(f.contains(4, "a"));
  CHECK(f.invalidate(3, "a"));
  CHECK_FALSE(f.invalidate(3, "a"));
  CHECK(f(3, "a") == "a:9");
  CHECK(calls == 24);
  f.clear();
  CHECK_FALSE(f.contains(3, "b"));
  CHECK(f(3, "b") == "b:9");
  CHECK(calls == 25);

  // Copies share one cache.
  auto copy = f;
  CHECK(copy(3, "b") == "b:9");
  CHECK(calls == 25);
}

TEMPLATE_TEST_CASE("every factory's decorator form memoizes", "", via_mcache, via_bcache,
                   via_fcache, via_ucache) {
  const test_support::quiet_logger quiet;
  int calls = 0;
  auto f = TestType::decorate(
      [&calls](int x, const std::string& s) {
        ++calls;
        return s + std::to_string(x);
      },
      test_support::fresh_folder("decorator"), "concat");
  CHECK(f.backend() == TestType::engine);
  CHECK(f(1, "a") == "a1");
  CHECK(f(1, "a") == "a1");
  CHECK(f(2, "a") == "a2");
  CHECK(calls == 2);
}

TEMPLATE_TEST_CASE("every factory memoizes recursion through auto& self", "", via_mcache,
                   via_bcache, via_fcache, via_ucache) {
  const test_support::quiet_logger quiet;
  int calls = 0;
  auto fib = TestType::make(
      [&calls](auto& self, int n) -> int {
        ++calls;
        return n < 2 ? n : self(n - 1) + self(n - 2);
      },
      test_support::fresh_folder("fib"), "fib");
  CHECK(fib(40) == 102334155);
  CHECK(calls == 41);
  CHECK(fib(40) == 102334155);
  CHECK(calls == 41);
}

TEMPLATE_TEST_CASE("every factory computes a key once under concurrent callers", "", via_mcache,
                   via_bcache, via_fcache, via_ucache) {
  const test_support::quiet_logger quiet;
  std::atomic<int> calls{0};
  auto f = TestType::make(
      [&calls](int x) {
        ++calls;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return x * 2;
      },
      test_support::fresh_folder("threads"), "twice");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&f, &wrong] {
      for (int i = 0; i < 16; ++i) {
        if (f(i) != i * 2) ++wrong;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  CHECK(wrong == 0);
  CHECK(calls == 16);
}

TEMPLATE_TEST_CASE("a new cache over the same folder finds the entries exactly when they persist",
                   "", via_mcache, via_bcache, via_fcache, via_ucache) {
  const test_support::quiet_logger quiet;
  const auto folder = test_support::fresh_folder("reopen");
  int calls = 0;
  auto make = [&] {
    return TestType::make(
        [&calls](int x, const std::string& s) {
          ++calls;
          return s + std::string(s.rbegin(), s.rend()) + std::to_string(x);
        },
        folder, "mirror");
  };
  {
    auto first = make();
    CHECK(first(1, "abc") == "abccba1");
  }
  auto second = make();
  CHECK(second(1, "abc") == "abccba1");
  CHECK(calls == (TestType::persists ? 1 : 2));
}

TEST_CASE("memoize over std_lru, the end of every chain, memoizes in every build") {
  int calls = 0;
  auto f = twat_cache::memoize<twat_cache::engines::std_lru>(
      [&calls](int x) {
        ++calls;
        return x + 100;
      },
      twat_cache::mcache_options{.maxsize = 2});
  CHECK(f.backend() == "std_lru");
  CHECK(f(1) == 101);
  CHECK(f(1) == 101);
  CHECK(calls == 1);
  CHECK(f(2) == 102);
  CHECK(f(3) == 103);  // evicts 1
  CHECK(f(1) == 101);
  CHECK(calls == 4);
}
