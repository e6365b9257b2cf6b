// Uses the installed / added / fetched twat_cache the way a user would: one include, one memoized
// function. Prints the version and what the cache saw, for consumer_test.cmake to check.
#include <twat_cache/cache.hpp>

#include <cstdio>
#include <string>

int main() {
  int calls = 0;
  auto square = twat_cache::mcache(
      [&calls](int x) {
        ++calls;
        return x * x;
      },
      {.maxsize = 16});
  const int first = square(12);
  const int second = square(12);
  const auto stats = square.stats();
  std::printf("twat_cache version %d\n", TWAT_CACHE_VERSION);
  std::printf("results %d %d calls %d hits %llu misses %llu backend %s\n", first, second, calls,
              static_cast<unsigned long long>(stats.hits),
              static_cast<unsigned long long>(stats.misses), std::string(square.backend()).c_str());
  return first == 144 && second == 144 && calls == 1 && stats.hits == 1 ? 0 : 1;
}
