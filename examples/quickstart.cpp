// A slow function made fast: the first call computes, every later call with the same
// arguments is answered from the cache.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <twat_cache/cache.hpp>

using namespace std::chrono_literals;

// Stands in for anything expensive: a database query, a geocoder, a model.
std::string describe(int user_id, const std::string& locale) {
  std::this_thread::sleep_for(200ms);
  return "user " + std::to_string(user_id) + " (" + locale + ")";
}

int main() {
  auto cached_describe = twat_cache::mcache(describe, {.maxsize = 1024, .ttl = 10min});

  auto timed = [&](int id, const char* locale) {
    const auto start = std::chrono::steady_clock::now();
    const std::string result = cached_describe(id, locale);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    std::printf("%-22s %8lld us\n", result.c_str(), static_cast<long long>(us));
    return us;
  };

  const auto first = timed(42, "en_GB");   // computed: ~200 ms
  const auto second = timed(42, "en_GB");  // from the cache
  timed(7, "fr_FR");                       // other arguments: computed
  timed(7, "fr_FR");

  const auto s = cached_describe.stats();
  std::printf("backend: %.*s\n", static_cast<int>(cached_describe.backend().size()),
              cached_describe.backend().data());
  std::printf("hits: %llu, misses: %llu, size: %llu, hit ratio: %.2f\n",
              static_cast<unsigned long long>(s.hits), static_cast<unsigned long long>(s.misses),
              static_cast<unsigned long long>(s.size), s.hit_ratio());
  std::printf("speed-up of a hit: %s\n", second * 100 < first ? "over 100x" : "under 100x");
}
