// The advisor: shadow caches of every policy estimate, from a cache's own keys, the hit ratio
// each policy would reach at half, one and two times its maxsize.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <twat_cache/cache.hpp>
#include <vector>

namespace {

using twat_cache::policy;

/// Keys of a skewed workload with a one-off scan after every `period` requests: a stream on which
/// lru is known to lose to s3fifo and tinylfu.
std::vector<int> scanned_stream(std::size_t requests, int hot_keys, std::size_t period) {
  std::mt19937_64 random(7);
  std::vector<int> keys;
  int fresh = 1'000'000;
  while (keys.size() < requests) {
    for (std::size_t i = 0; i < period; ++i) {
      // Squaring a uniform draw skews it towards 0: a few keys take most requests.
      const double u = std::uniform_real_distribution<double>(0.0, 1.0)(random);
      keys.push_back(static_cast<int>(u * u * hot_keys));
    }
    for (int i = 0; i < hot_keys; ++i)
      keys.push_back(fresh++);
  }
  return keys;
}

}  // namespace

TEST_CASE("advise() without the advisor, or the advisor without maxsize, is a config_error") {
  auto plain = twat_cache::mcache([](int x) { return x; }, {.maxsize = 10});
  CHECK_THROWS_WITH(plain.advise(),
                    "advise(): the cache was made without mcache_options.advisor = true");
  auto named = twat_cache::mcache([](int x) { return x; }, {.maxsize = 10, .name = "prices"});
  CHECK_THROWS_WITH(named.advise(), Catch::Contains("cache \"prices\" was made without"));
  CHECK_THROWS_AS(plain.advise(), twat_cache::config_error);
  CHECK_THROWS_WITH(twat_cache::mcache([](int x) { return x; }, {.advisor = true}),
                    Catch::Contains("mcache_options.advisor") && Catch::Contains("maxsize"));
}

TEST_CASE("the advisor's shadow of the cache's own policy and size sees exactly what it sees",
          "[shadow]") {
  const auto p = GENERATE(policy::lru, policy::fifo, policy::s3fifo, policy::tinylfu);
  CAPTURE(twat_cache::policy_name(p));
  auto f = twat_cache::mcache([](int x) { return x * 3; },
                              {.maxsize = 500, .policy = p, .thread_safe = false, .advisor = true});
  for (const int k : scanned_stream(60'000, 2'000, 5'000))
    REQUIRE(f(k) == k * 3);
  const auto advice = f.advise();
  CHECK(advice.sampling_rate == 1.0);  // a small cache: every key followed
  CHECK(advice.sampled_requests == f.stats().hits + f.stats().misses);
  CHECK(advice.estimates.size() == 18);  // six policies, three sizes
  const auto* own = advice.find(p, 500);
  REQUIRE(own != nullptr);
  CHECK(own->hit_ratio == Approx(f.stats().hit_ratio()).margin(1e-9));
}

TEST_CASE("the advisor ranks the policies as the real caches do, and size helps", "[ranking]") {
  const auto stream = scanned_stream(100'000, 4'000, 8'000);
  auto measure = [&](policy p) {
    auto g = twat_cache::mcache([](int x) { return x; }, {.maxsize = 1'000, .policy = p});
    for (const int k : stream)
      (void)g(k);
    return g.stats().hit_ratio();
  };
  auto f = twat_cache::mcache([](int x) { return x; }, {.maxsize = 1'000, .advisor = true});
  for (const int k : stream)
    (void)f(k);
  const auto advice = f.advise();
  for (const policy p : {policy::lru, policy::s3fifo, policy::tinylfu}) {
    CAPTURE(twat_cache::policy_name(p));
    const auto* estimate = advice.find(p, 1'000);
    REQUIRE(estimate != nullptr);
    // Thread-safe: hits reach the shadows in batches, so close rather than exact.
    CHECK(estimate->hit_ratio == Approx(measure(p)).margin(0.02));
    CHECK(advice.find(p, 500)->hit_ratio <= estimate->hit_ratio);
    CHECK(advice.find(p, 2'000)->hit_ratio >= estimate->hit_ratio);
  }
  CHECK(advice.find(policy::s3fifo, 1'000)->hit_ratio >
        advice.find(policy::lru, 1'000)->hit_ratio + 0.05);
  CHECK(advice.best_at(1'000) != policy::lru);
  const std::string table = advice.to_string();
  CHECK(table.find("s3fifo") != std::string::npos);
  CHECK(table.find("1000*") != std::string::npos);  // the cache's own size is marked
}

TEST_CASE("a big cache's advisor samples its keys and still estimates closely", "[sampling]") {
  constexpr std::size_t maxsize = 50'000;
  std::mt19937_64 random(11);
  std::vector<int> stream;
  for (int i = 0; i < 600'000; ++i) {
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(random);
    stream.push_back(static_cast<int>(u * u * u * 400'000));
  }
  auto f = twat_cache::mcache([](int x) { return x; },
                              {.maxsize = maxsize, .policy = policy::lru, .advisor = true});
  for (const int k : stream)
    (void)f(k);
  const auto advice = f.advise();
  CHECK(advice.sampling_rate < 0.1);
  CHECK(advice.sampled_requests < stream.size() / 5);
  CHECK(advice.find(policy::lru, maxsize)->hit_ratio == Approx(f.stats().hit_ratio()).margin(0.03));
}

TEST_CASE("clear() starts the advisor over") {
  auto f = twat_cache::mcache([](int x) { return x; }, {.maxsize = 10, .advisor = true});
  for (int k = 0; k < 100; ++k)
    (void)f(k % 20);
  REQUIRE(f.advise().sampled_requests == 100);
  f.clear();
  CHECK(f.advise().sampled_requests == 0);
  CHECK(f.advise().find(policy::lru, 10)->hit_ratio == 0.0);
}

TEST_CASE("the advisor under concurrent callers: every request fed at most once, no race") {
  auto f = twat_cache::mcache([](int x) { return x + 1; }, {.maxsize = 64, .advisor = true});
  constexpr int threads = 4;
  constexpr int calls_per_thread = 20'000;
  std::atomic<int> wrong{0};  // Catch's assertions are not thread-safe: count, check after
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&f, &wrong, t] {
      for (int i = 0; i < calls_per_thread; ++i) {
        const int k = (i * 7 + t) % 100;
        if (f(k) != k + 1) wrong.fetch_add(1);
        if (i % 5000 == 0) (void)f.advise();  // reports while others feed
      }
    });
  }
  for (auto& t : pool)
    t.join();
  CHECK(wrong.load() == 0);
  const auto advice = f.advise();
  // Hits reach the shadows in per-thread batches, and a batch is dropped when a writer holds
  // the lock, so some requests may be missing; none is counted twice.
  CHECK(advice.sampled_requests <= std::uint64_t{threads} * calls_per_thread);
  CHECK(advice.sampled_requests > 0);
}
