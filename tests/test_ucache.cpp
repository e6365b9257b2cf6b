// ucache: the engine it picks for the options and the build, the fallbacks down the chain, its
// configuration errors, and memoization through whichever engine runs. Expectations follow the
// build (TWAT_CACHE_WITH_SQLITE, TWAT_CACHE_WITH_BOOST), so each build checks its own chain.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <latch>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <twat_cache/cache.hpp>
#include <vector>

#include "log_capture.hpp"
#include "persistent_test_support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using test_support::fresh_folder;
using test_support::memory_backend;
using test_support::warnings;
using twat_cache::config_error;

namespace {

constexpr bool with_sqlite = TWAT_CACHE_WITH_SQLITE != 0;
constexpr bool with_boost = TWAT_CACHE_WITH_BOOST != 0;

/// The engine ucache picks for a folder_name in this build.
constexpr std::string_view persistent_backend = with_sqlite ? "sqlite" : "files";

/// A type with a hash but no codec: a key or a result in memory only.
struct widget {
  int size = 0;
  bool operator==(const widget&) const = default;
  friend auto twat_cache_key(const widget& w) { return std::tie(w.size); }
};

/// A function that counts its calls.
struct counted {
  std::atomic<int>* calls;
  int operator()(int x) const {
    ++*calls;
    return x * 2 + 1;
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------------
// The choice

TEST_CASE("ucache without folder_name caches in the build's best memory engine") {
  warnings seen;
  std::atomic<int> calls{0};
  auto f = twat_cache::ucache(counted{&calls});
  CHECK(f.backend() == memory_backend());
  CHECK(f(1) == 3);
  CHECK(f(1) == 3);
  CHECK(f(2) == 5);
  CHECK(calls == 2);
  CHECK(f.stats().hits == 1);
  CHECK(f.stats().misses == 2);
  CHECK(seen.causes.empty());
}

TEST_CASE("ucache with folder_name is persistent: sqlite when built, else files") {
  warnings seen;
  const auto folder = fresh_folder("ucache-default");
  std::atomic<int> calls{0};
  {
    auto first = twat_cache::ucache(counted{&calls}, {.folder_name = folder, .name = "twice"});
    CHECK(first.backend() == persistent_backend);
    CHECK(first(20) == 41);
    CHECK(first(20) == 41);
    CHECK(calls == 1);
  }
  // Another ucache over the same folder and name finds the entry.
  auto second = twat_cache::ucache(counted{&calls}, {.folder_name = folder, .name = "twice"});
  CHECK(second(20) == 41);
  CHECK(calls == 1);
  CHECK(second.stats().hits == 1);
  CHECK(second.stats().size == 1);
  CHECK(seen.causes.empty());
  if (with_sqlite) {
    CHECK(fs::is_regular_file(twat_cache::get_cache_path(folder) / "cache.sqlite3"));
  } else {
    CHECK(fs::is_directory(twat_cache::get_cache_path(folder) / "twice"));
  }
}

TEST_CASE("preferred_engine picks each engine of available_backends()") {
  warnings seen;
  for (const std::string_view name : twat_cache::available_backends()) {
    INFO("preferred_engine = " << name);
    if (name == "redis" || name == "memcached") continue;  // need servers: test_networked
    const bool persistent = name == "sqlite" || name == "files";
    twat_cache::ucache_options o{.preferred_engine = std::string(name)};
    if (persistent) {
      o.folder_name = fresh_folder("preferred");
      o.name = "each";
    }
    std::atomic<int> calls{0};
    auto f = twat_cache::ucache(counted{&calls}, o);
    CHECK(f.backend() == name);
    CHECK(f(5) == 11);
    CHECK(f(5) == 11);
    CHECK(calls == 1);
    CHECK(f.contains(5));
    CHECK(f.invalidate(5));
    CHECK_FALSE(f.contains(5));
    CHECK(f(5) == 11);
    CHECK(calls == 2);
    // The engine in use counts each call once, a hit or a miss.
    CHECK(f.stats().hits == 1);
    CHECK(f.stats().misses == 2);
    f.clear();
    CHECK(f.stats().size == 0);
  }
  // A persistent preference without folder_name uses the cache root itself.
  auto root = twat_cache::ucache([](int x) { return x; },
                                 {.name = fresh_folder("in-root"), .preferred_engine = "files"});
  CHECK(root.backend() == "files");
  CHECK(root(3) == 3);
  CHECK(seen.causes.empty());
}

TEST_CASE("an unknown preferred_engine is a config_error listing the valid names") {
  auto f = [](int x) { return x; };
  try {
    static_cast<void>(twat_cache::ucache(f, {.preferred_engine = "sqlite3"}));
    FAIL("no config_error");
  } catch (const config_error& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find("ucache_options.preferred_engine = \"sqlite3\"") != std::string::npos);
    for (const std::string_view name : twat_cache::available_backends()) {
      CHECK(what.find("\"" + std::string(name) + "\"") != std::string::npos);
    }
    CHECK(what.find("\"redis\"") != std::string::npos);  // known, built or not
  }
  CHECK_THROWS_AS(twat_cache::ucache(f, {.preferred_engine = "SQLite"}), config_error);
  CHECK_THROWS_AS(twat_cache::ucache({.preferred_engine = "memory"}), config_error);  // decorator
}

TEST_CASE("a preferred engine this build lacks falls back down the chain with one warning") {
  auto f = [](int x) { return x + 1; };
  // The networked engines' fallback (to memory) is in test_networked.
  SECTION("sqlite and boost_unordered: used when built, else the next link and one warning") {
    struct preference {
      twat_cache::ucache_options options;
      bool built;
      std::string_view stand_in;
    };
    const preference preferences[] = {
        {{.folder_name = fresh_folder("want-sqlite"), .name = "s", .preferred_engine = "sqlite"},
         with_sqlite,
         "files"},
        {{.preferred_engine = "boost_unordered"}, with_boost, "std_unordered"},
    };
    for (const auto& p : preferences) {
      INFO("preferred_engine = " << p.options.preferred_engine);
      warnings seen;
      auto a = twat_cache::ucache(f, p.options);
      CHECK(a(1) == 2);
      if (p.built) {
        CHECK(a.backend() == p.options.preferred_engine);
        CHECK(seen.causes.empty());
      } else {
        CHECK(a.backend() == p.stand_in);
        CHECK(seen.causes == std::vector<std::string>{"fallback." + p.options.preferred_engine});
      }
    }
  }
}

TEST_CASE("a folder that cannot be made: memory, a warning for each engine skipped") {
  warnings seen;
  // A regular file where the folder should be: not even root can make a folder there.
  const auto blocker = fresh_folder("ucache-blocked");
  fs::create_directories(twat_cache::get_cache_path());
  std::ofstream(twat_cache::get_cache_path(blocker)) << "not a folder";
  std::atomic<int> calls{0};
  auto f = twat_cache::ucache(counted{&calls}, {.folder_name = blocker + "/in", .name = "b"});
  CHECK(f.backend() == memory_backend());
  CHECK(f(4) == 9);
  CHECK(f(4) == 9);
  CHECK(calls == 1);
  if (with_sqlite) {
    CHECK(seen.causes == std::vector<std::string>{"fallback.sqlite", "fallback.files"});
  } else {
    CHECK(seen.causes == std::vector<std::string>{"fallback.files"});
  }
  for (const auto& message : seen.messages) {
    CHECK(message.find("caching in memory instead (" + std::string(memory_backend()) + ")") !=
          std::string::npos);
  }
}

#if TWAT_CACHE_WITH_SQLITE
TEST_CASE("a database ucache cannot use falls back to files, not to memory") {
  warnings seen;
  const auto folder = fresh_folder("ucache-foreign");
  const fs::path dir = twat_cache::get_cache_path(folder);
  fs::create_directories(dir);
  std::ofstream(dir / "cache.sqlite3", std::ios::binary) << std::string(8192, 'g');
  std::atomic<int> calls{0};
  {
    auto f = twat_cache::ucache(counted{&calls}, {.folder_name = folder, .name = "next"});
    CHECK(f.backend() == "files");
    CHECK(f(1) == 3);
  }
  auto again = twat_cache::ucache(counted{&calls}, {.folder_name = folder, .name = "next"});
  CHECK(again(1) == 3);
  CHECK(calls == 1);  // persistent all the same
  CHECK(seen.causes == std::vector<std::string>{"fallback.sqlite"});
  CHECK(fs::file_size(dir / "cache.sqlite3") == 8192);  // left alone
}
#endif

// ---------------------------------------------------------------------------------------------------
// Options

TEST_CASE("invalid ucache_options are config_errors naming the field") {
  auto f = [](int x) { return x; };
  // Persistent caches need a plain name and a folder inside the cache root.
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.folder_name = "x"}),
                    Catch::Contains("ucache_options.name is required"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.preferred_engine = "files"}),
                    Catch::Contains("ucache_options.name is required"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.folder_name = "/etc", .name = "f"}),
                    Catch::Contains("ucache_options.folder_name") && Catch::Contains("absolute"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.folder_name = "x", .name = "a/b"}),
                    Catch::Contains("ucache_options.name"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.folder_name = "x", .name = "f", .max_bytes = 0}),
                    Catch::Contains("max_bytes = 0"));
  // policy is for memory engines; persistent ones evict the least recently stored.
  CHECK_THROWS_WITH(
      twat_cache::ucache(f, {.folder_name = "x", .name = "f", .policy = twat_cache::policy::lfu}),
      Catch::Contains("ucache_options.policy = lfu") && Catch::Contains("folder_name = \"x\"") &&
          Catch::Contains("least recently stored"));
  // What only persistent engines have, in memory.
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.max_bytes = 100}),
                    Catch::Contains("ucache_options.max_bytes applies to persistent engines"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.compress = true}),
                    Catch::Contains("ucache_options.compress"));
  CHECK_THROWS_WITH(
      twat_cache::ucache(
          f, {.preferred_engine = "std_unordered", .durability = twat_cache::durability::full}),
      Catch::Contains("ucache_options.durability") && Catch::Contains("std_unordered"));
  CHECK_THROWS_WITH(
      twat_cache::ucache(f, {.folder_name = "x", .name = "f", .preferred_engine = "std_lru"}),
      Catch::Contains("ucache_options.folder_name = \"x\"") && Catch::Contains("in memory"));
  // Memory engines' own limits.
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.maxsize = 0}), Catch::Contains("maxsize = 0"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.ttl = -1s}), Catch::Contains("ucache_options.ttl"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.policy = static_cast<twat_cache::policy>(42)}),
                    Catch::Contains("ucache_options.policy = 42"));
  CHECK_THROWS_WITH(
      twat_cache::ucache(f, {.policy = twat_cache::policy::lfu, .preferred_engine = "std_lru"}),
      Catch::Contains("std_lru") && Catch::Contains("allowed: lru"));
  // url is redis's.
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.name = "f", .url = "http://localhost"}),
                    Catch::Contains("ucache_options.url") && Catch::Contains("redis://"));
  CHECK_THROWS_WITH(
      twat_cache::ucache(f, {.name = "f", .preferred_engine = "sqlite", .url = "redis://h:1"}),
      Catch::Contains("ucache_options.url") && Catch::Contains("\"sqlite\""));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.name = "f", .preferred_engine = "redis"}),
                    Catch::Contains("ucache_options.url is required"));
  // The decorator form checks what it can before it has a function.
  CHECK_THROWS_AS(twat_cache::ucache({.folder_name = "x"}), config_error);
  CHECK_THROWS_AS(twat_cache::ucache({.max_bytes = 1}), config_error);
}

TEST_CASE(
    "a function without a codec caches in memory; asked to persist, a config_error says why") {
  auto make_widget = [](int n) { return widget{n}; };
  auto f = twat_cache::ucache(make_widget, {.maxsize = 10});
  CHECK(f.backend() == memory_backend());
  CHECK(f(3).size == 3);
  CHECK(f(3).size == 3);
  CHECK(f.stats().hits == 1);
  CHECK_THROWS_WITH(twat_cache::ucache(make_widget, {.folder_name = "w", .name = "w"}),
                    Catch::Contains("ucache_options.folder_name = \"w\"") &&
                        Catch::Contains("widget") && Catch::Contains("codec"));
  CHECK_THROWS_WITH(
      twat_cache::ucache([](const widget& w) { return w.size; },
                         {.name = "w", .preferred_engine = "files"}),
      Catch::Contains("ucache_options.preferred_engine = \"files\"") && Catch::Contains("widget"));
  // A memory preference needs no codec either, nor does a key type.
  auto g = twat_cache::ucache(make_widget, {.preferred_engine = "std_lru"});
  CHECK(g(1).size == 1);
  auto by_widget = twat_cache::ucache([](const widget& w) { return w.size; });
  CHECK(by_widget(widget{2}) == 2);
  CHECK(by_widget(widget{2}) == 2);
  CHECK(by_widget.stats().hits == 1);
}

TEST_CASE("policy, maxsize and ttl reach the memory engine") {
  SECTION("lfu keeps the entry used most") {
    auto f = twat_cache::ucache([](int x) { return x; },
                                {.maxsize = 2, .policy = twat_cache::policy::lfu});
    CHECK(f(1) == 1);
    CHECK(f(1) == 1);
    CHECK(f(1) == 1);
    CHECK(f(2) == 2);
    CHECK(f(3) == 3);  // evicts 2, used once (lru would evict 1)
    CHECK(f.contains(1));
    CHECK_FALSE(f.contains(2));
    CHECK(f.stats().evictions == 1);
    CHECK(f.stats().capacity == 2);
  }
  SECTION("ttl, on the clock given") {
    twat_cache::manual_clock clock;
    std::atomic<int> calls{0};
    for (const char* engine : {"", "std_unordered", "std_lru"}) {
      INFO("preferred_engine = " << engine);
      calls = 0;
      auto f = twat_cache::ucache(counted{&calls},
                                  {.ttl = 10s, .preferred_engine = engine, .clock = clock});
      CHECK(f(1) == 3);
      clock.advance(9s);
      CHECK(f(1) == 3);
      CHECK(calls == 1);
      clock.advance(2s);
      CHECK(f(1) == 3);
      CHECK(calls == 2);
    }
  }
}

TEST_CASE("persistent options reach the persistent engine") {
  twat_cache::manual_clock clock;
  clock.advance(std::chrono::hours(24 * 365 * 50));  // a plausible wall-clock time
  for (const std::string_view engine : {persistent_backend, std::string_view("files")}) {
    INFO("preferred_engine = " << engine);
    std::atomic<int> calls{0};
    auto f = twat_cache::ucache(counted{&calls}, {.folder_name = fresh_folder("limits"),
                                                  .name = "limits",
                                                  .maxsize = 3,
                                                  .ttl = 10s,
                                                  .preferred_engine = std::string(engine),
                                                  .clock = clock});
    CHECK(f.backend() == engine);
    for (int i = 0; i < 5; ++i) {
      CHECK(f(i) == 2 * i + 1);
      clock.advance(1s);  // eviction is by store time: make each one later
    }
    CHECK(f.stats().size == 3);
    CHECK(f.stats().evictions == 2);
    CHECK_FALSE(f.contains(0));
    CHECK(f.contains(4));
    clock.advance(11s);
    CHECK_FALSE(f.contains(4));
    CHECK(f(4) == 9);
    CHECK(calls == 6);
  }
}

// ---------------------------------------------------------------------------------------------------
// Memoization through whichever engine runs

TEST_CASE("concurrent callers of one key share one computation, on every engine") {
  std::vector<twat_cache::ucache_options> choices{{}, {.preferred_engine = "std_lru"}};
  for (const auto engine : {persistent_backend, std::string_view("files")}) {
    choices.push_back({.folder_name = fresh_folder("flight"),
                       .name = "slow",
                       .preferred_engine = std::string(engine)});
  }
  for (const auto& o : choices) {
    std::atomic<int> calls{0};
    auto f = twat_cache::ucache(
        [&calls](int x) {
          ++calls;
          std::this_thread::sleep_for(50ms);
          return x * 3;
        },
        o);
    INFO("backend " << f.backend());
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        if (f(7) != 21) ++wrong;
      });
    }
    for (auto& t : threads)
      t.join();
    CHECK(wrong == 0);
    CHECK(calls == 1);
  }
}

TEST_CASE("more threads than the memory engine has reader slots, on every engine") {
  // All alive at once, so that some threads get no reader slot of a memory engine.
  constexpr int threads = TWAT_CACHE_MAX_READER_SLOTS + 8;
  std::vector<twat_cache::ucache_options> choices{{}, {.preferred_engine = "std_lru"}};
  choices.push_back({.folder_name = fresh_folder("many"), .name = "many"});
  for (const auto& o : choices) {
    std::atomic<int> calls{0};
    auto f = twat_cache::ucache(counted{&calls}, o);
    INFO("backend " << f.backend());
    std::latch all_started(threads);
    std::atomic<int> wrong{0};
    std::vector<std::thread> running;
    for (int t = 0; t < threads; ++t) {
      running.emplace_back([&, t] {
        all_started.arrive_and_wait();
        for (int i = 0; i < 20; ++i) {
          const int key = (t + i) % 10;
          if (f(key) != key * 2 + 1) ++wrong;
        }
      });
    }
    for (auto& t : running)
      t.join();
    CHECK(wrong == 0);
    CHECK(calls == 10);  // single flight: each key computed once
    const auto s = f.stats();
    CHECK(s.hits + s.misses >= static_cast<std::uint64_t>(threads) * 20);
    CHECK(s.hits >= static_cast<std::uint64_t>(threads) * 20 - 10 * threads);
  }
}

TEST_CASE("an exception is not cached, in memory or on disk") {
  for (const std::string& folder : {std::string(), fresh_folder("throws")}) {
    int calls = 0;
    auto f = twat_cache::ucache(
        [&calls](int x) {
          if (++calls == 1) throw std::runtime_error("first call fails");
          return x;
        },
        {.folder_name = folder, .name = "throws"});
    INFO("backend " << f.backend());
    CHECK_THROWS_WITH(f(1), "first call fails");
    CHECK_FALSE(f.contains(1));
    CHECK(f(1) == 1);
    CHECK(f(1) == 1);
    CHECK(calls == 2);
  }
}

TEST_CASE("recursion through auto& self memoizes every level, on every engine") {
  for (const std::string& folder : {std::string(), fresh_folder("fib")}) {
    std::atomic<int> calls{0};
    auto fib = twat_cache::ucache(
        [&calls](auto& self, int n) -> long {
          ++calls;
          return n < 2 ? n : self(n - 1) + self(n - 2);
        },
        {.folder_name = folder, .name = "fib"});
    INFO("backend " << fib.backend());
    CHECK(fib(60) == 1548008755920L);
    CHECK(calls == 61);
  }
}

TEST_CASE("the decorator form, a label in get_stats, and the engine in use through visit") {
  auto f = twat_cache::ucache({.name = "ucache-label", .preferred_engine = "std_lru"})(
      [](const std::string& s) { return s.size(); });
  CHECK(f("four") == 4);
  CHECK(f(std::string("four")) == 4);
  CHECK(f.stats().hits == 1);
  CHECK(twat_cache::get_stats().count("ucache-label") == 1);
  CHECK(f.engine().visit([](auto& engine) { return std::string(engine.name()); }) == "std_lru");

  auto g = twat_cache::ucache<long(long)>([](auto x) { return x * 2; });
  CHECK(g(21) == 42);
  CHECK(decltype(g)::engine_type::name() == "ucache");
  static_assert(twat_cache::cache_engine<twat_cache::engines::chosen<int, int>>);
}
