// Recursion: a lambda whose first parameter is `auto& self` receives the memoized wrapper, so
// every recursive call goes through the cache, and the exponential tree becomes linear.
#include <cstdio>
#include <twat_cache/cache.hpp>

int main() {
  long calls = 0;
  auto fib = twat_cache::mcache([&calls](auto& self, int n) -> long {
    ++calls;
    return n < 2 ? n : self(n - 1) + self(n - 2);
  });

  std::printf("fib(90) = %ld\n", fib(90));
  std::printf("function bodies run: %ld (plain recursion would run about 9.3e18)\n", calls);
  std::printf("fib(90) again = %ld, bodies run now: %ld\n", fib(90), calls);

  const auto s = fib.stats();
  std::printf("hits: %llu, misses: %llu\n", static_cast<unsigned long long>(s.hits),
              static_cast<unsigned long long>(s.misses));
}
