// Invalid options throw config_error naming the field; the free functions.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <twat_cache/cache.hpp>

using namespace std::chrono_literals;
using Catch::Matchers::Contains;

namespace {
int identity(int x) {
  return x;
}
}  // namespace

TEST_CASE("maxsize = 0 is a config_error naming the field") {
  CHECK_THROWS_MATCHES(twat_cache::mcache(identity, {.maxsize = 0}), twat_cache::config_error,
                       Catch::Matchers::Predicate<twat_cache::config_error>([](const auto& e) {
                         return std::string(e.what()).find("mcache_options.maxsize") !=
                                std::string::npos;
                       }));
  CHECK_THROWS_AS(twat_cache::mcache({.maxsize = 0}), twat_cache::config_error);
}

TEST_CASE("a negative or zero ttl is a config_error") {
  CHECK_THROWS_WITH(twat_cache::mcache(identity, {.ttl = -1s}), Contains("mcache_options.ttl"));
  CHECK_THROWS_WITH(twat_cache::mcache(identity, {.ttl = 0s}), Contains("positive"));
}

TEST_CASE("a value that is not a policy is a config_error listing the allowed") {
  CHECK_THROWS_WITH(
      twat_cache::mcache(identity, {.policy = static_cast<twat_cache::policy>(42)}),
      Contains("mcache_options.policy") && Contains("lru, lfu, fifo, rr, s3fifo, tinylfu"));
}

TEST_CASE("maxsize beyond what the engine can index is a config_error") {
  CHECK_THROWS_WITH(twat_cache::mcache(identity, {.maxsize = std::size_t{1} << 40}),
                    Contains("too large"));
  // Handles take 30 bits of a word that also holds s3fifo's counter: 2^30 entries at most.
  CHECK_THROWS_WITH(twat_cache::mcache(identity, {.maxsize = (std::size_t{1} << 30) + 1}),
                    Contains("mcache_options.maxsize = 1073741825 is too large") &&
                        Contains("at most 1073741824 entries"));
  for (const auto policy : {twat_cache::policy::s3fifo, twat_cache::policy::tinylfu,
                            twat_cache::policy::lru, twat_cache::policy::fifo}) {
    auto largest =
        twat_cache::mcache(identity, {.maxsize = std::size_t{1} << 30, .policy = policy});
    CHECK(largest(7) == 7);
    CHECK(largest.stats().capacity == std::size_t{1} << 30);
  }
}

TEST_CASE("get_cache_path: environment order and folder_name validation") {
  ::setenv("TWAT_CACHE_DIR", "/tmp/twat_cache_test_root", 1);
  CHECK(twat_cache::get_cache_path("geo") ==
        std::filesystem::path("/tmp/twat_cache_test_root/geo"));
  CHECK(twat_cache::get_cache_path("a/b") ==
        std::filesystem::path("/tmp/twat_cache_test_root/a/b"));
  ::unsetenv("TWAT_CACHE_DIR");
  ::setenv("XDG_CACHE_HOME", "/tmp/xdg", 1);
  CHECK(twat_cache::get_cache_path("x") == std::filesystem::path("/tmp/xdg/twat_cache/x"));
  ::unsetenv("XDG_CACHE_HOME");
  ::setenv("HOME", "/home/someone", 1);
  CHECK(twat_cache::get_cache_path("x") ==
        std::filesystem::path("/home/someone/.cache/twat_cache/x"));

  CHECK_THROWS_WITH(twat_cache::get_cache_path("/etc"),
                    Contains("folder_name") && Contains("absolute"));
  CHECK_THROWS_WITH(twat_cache::get_cache_path("a/../../b"), Contains(".."));
  CHECK_THROWS_WITH(twat_cache::get_cache_path(std::string("a\0b", 3)), Contains("NUL"));
  CHECK_THROWS_WITH(twat_cache::get_cache_path(std::string(300, 'a')), Contains("255"));
}

TEST_CASE("available_backends lists this build's engines, best first, std_lru last") {
  const auto names = twat_cache::available_backends();
  REQUIRE_FALSE(names.empty());
  CHECK(names.back() == "std_lru");
  auto position = [&](std::string_view name) {
    return std::find(names.begin(), names.end(), name) - names.begin();
  };
  const auto absent = static_cast<std::ptrdiff_t>(names.size());
  CHECK(position("files") < position("std_unordered"));
  CHECK((position("sqlite") < position("files")) == bool(TWAT_CACHE_WITH_SQLITE));
  CHECK((position("sqlite") == absent) == !TWAT_CACHE_WITH_SQLITE);
#if TWAT_CACHE_WITH_BOOST
  CHECK(position("boost_unordered") < position("std_unordered"));
#else
  CHECK(position("boost_unordered") == absent);
#endif
}

TEST_CASE("get_stats and clear_cache see every live cache, by name") {
  auto a = twat_cache::mcache(identity, {.name = "alpha"});
  auto b = twat_cache::mcache(identity, {.name = "alpha"});
  a(1);
  a(1);
  b(2);
  {
    auto stats = twat_cache::get_stats();
    REQUIRE(stats.count("alpha") == 1);
    REQUIRE(stats.count("alpha#2") == 1);
    CHECK(stats["alpha"].hits == 1);
    CHECK(stats["alpha#2"].misses == 1);
  }
  twat_cache::clear_cache();
  CHECK_FALSE(a.contains(1));
  CHECK(a.stats().hits == 0);
  {
    auto gone = twat_cache::mcache(identity, {.name = "short-lived"});
    CHECK(twat_cache::get_stats().count("short-lived") == 1);
  }
  CHECK(twat_cache::get_stats().count("short-lived") == 0);
}
