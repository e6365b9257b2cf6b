// The version macros of the header are the project version CMake parsed from them: the build passes
// it in as TWAT_CACHE_TEST_PROJECT_VERSION_{MAJOR,MINOR,PATCH} and "...", so a header edited out of
// the shape CMake reads, or a hand-set project version, fails here.
#include <twat_cache/version.hpp>

#include <catch2/catch.hpp>
#include <string>
#include <type_traits>

TWAT_CACHE_BEGIN_NAMESPACE
namespace test_detail {
inline constexpr int abi_probe = 1;
}
TWAT_CACHE_END_NAMESPACE

TEST_CASE("version macros equal the CMake project version", "[version]") {
  STATIC_REQUIRE(TWAT_CACHE_VERSION_MAJOR == TWAT_CACHE_TEST_PROJECT_VERSION_MAJOR);
  STATIC_REQUIRE(TWAT_CACHE_VERSION_MINOR == TWAT_CACHE_TEST_PROJECT_VERSION_MINOR);
  STATIC_REQUIRE(TWAT_CACHE_VERSION_PATCH == TWAT_CACHE_TEST_PROJECT_VERSION_PATCH);

  // Appended piecewise: chained operator+ on std::string trips g++ 12's false -Wrestrict at -O3.
  std::string from_macros = std::to_string(TWAT_CACHE_VERSION_MAJOR);
  from_macros += '.';
  from_macros += std::to_string(TWAT_CACHE_VERSION_MINOR);
  from_macros += '.';
  from_macros += std::to_string(TWAT_CACHE_VERSION_PATCH);
  CHECK(from_macros == TWAT_CACHE_TEST_PROJECT_VERSION);
}

TEST_CASE("TWAT_CACHE_VERSION packs major, minor and patch", "[version]") {
  STATIC_REQUIRE(TWAT_CACHE_VERSION == TWAT_CACHE_VERSION_MAJOR * 10000 +
                                           TWAT_CACHE_VERSION_MINOR * 100 +
                                           TWAT_CACHE_VERSION_PATCH);
  STATIC_REQUIRE(TWAT_CACHE_VERSION_MINOR < 100);
  STATIC_REQUIRE(TWAT_CACHE_VERSION_PATCH < 100);
}

#define TWAT_CACHE_TEST_STR_(x) #x
#define TWAT_CACHE_TEST_STR(x) TWAT_CACHE_TEST_STR_(x)

TEST_CASE("the inline ABI namespace carries the major version", "[version]") {
  // Reachable both through the inline namespace and without naming it.
  STATIC_REQUIRE(twat_cache::test_detail::abi_probe == 1);
  STATIC_REQUIRE(
      std::is_same_v<decltype(twat_cache::TWAT_CACHE_ABI_NAMESPACE::test_detail::abi_probe),
                     const int>);
  std::string expected = "v";  // appended, not "v" + ...: see the first test case
  expected += std::to_string(TWAT_CACHE_TEST_PROJECT_VERSION_MAJOR);
  CHECK(std::string(TWAT_CACHE_TEST_STR(TWAT_CACHE_ABI_NAMESPACE)) == expected);
}
