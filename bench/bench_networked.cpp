// bench_networked: the redis and memcached engines against their raw client libraries, and the
// tiered engine against mcache, measured in the same run, against servers this program starts on
// 127.0.0.1 at free ports (tests/server_process.hpp) and stops at exit.
//
// Measured (names are what scripts/bench_ratios.py pairs on):
//   redis/hit/raw             one hiredis GET (redisCommandArgv) of a key holding the bytes the
//                             engine stores for the same entry (same key length, same value
//                             bytes), the reply copied into a std::string
//   redis/hit/engine          a memoized (int) -> std::string call that hits, through
//                             memoize<engines::redis>: GET, check and decode
//   redis/get_many100/raw     100 such GETs pipelined (redisAppendCommandArgv, redisGetReply)
//   redis/get_many100/engine  engine.get_many() of 100 keys: one pipelined round trip
//   tiered/hit/mcache         a mcache (int) -> std::string hit
//   tiered/hit/tiered         the same call through memoize<tiered<memory, redis>>, a first-level
//                             hit
//   memcached/hit/raw         one libmemcached memcached_get of bytes like the engine's
//   memcached/hit/engine      a memoized call that hits, through memoize<engines::memcached>
// Values are 100 bytes. Each engine benchmark checks afterwards that every timed call was a hit.
//
// On a 2-vCPU VM most of a round trip is the two processes (client and server) waiting to be
// scheduled, so the absolute times swing with the machine's load; the ratios, measured side by
// side, are what to read.
//
// Run: bench_networked --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//        --benchmark_format=json > net.json && scripts/bench_ratios.py net.json
// (see docs/performance.md, section "Networked engines").

#include <benchmark/benchmark.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <optional>
#include <string>
#include <twat_cache/cache.hpp>
#include <vector>

#include "server_process.hpp"

#if TWAT_CACHE_WITH_MEMCACHED
#include <libmemcached-1.0/memcached.h>
#endif

namespace {

using twat_cache::engines::memory;
using twat_cache::engines::redis;
using twat_cache::engines::tiered;

std::unique_ptr<twat_cache_test::server_process> redis_server;
#if TWAT_CACHE_WITH_MEMCACHED
std::unique_ptr<twat_cache_test::server_process> memcached_server;
#endif

std::string value_of(int i) {
  return std::string(100, static_cast<char>('a' + i % 26));
}

std::string computed(int i) {
  return value_of(i);
}

/// The bytes an engine stores for key `i` of a function called "bench", and a server key of the
/// engine's length: what the raw side reads, so both move the same bytes.
std::string stored_bytes(int i) {
  const twat_cache::detail::persistent_keys<int, std::string> keys("bench");
  return twat_cache::detail::frame_entry(keys.bytes(i),
                                         twat_cache::detail::pack_value(value_of(i), false));
}
std::string raw_key(int i) {
  std::string key = twat_cache::detail::network_key_prefix("raw-bench");
  twat_cache::detail::append_hex(key, twat_cache::detail::key_hash128(std::to_string(i)));
  return key;
}

std::string redis_url() {
  return "redis://127.0.0.1:" + std::to_string(redis_server->port());
}

struct redis_connection {
  redisContext* c = redisConnect("127.0.0.1", redis_server->port());
  redis_connection() {
    if (c == nullptr || c->err != 0) throw std::runtime_error("cannot connect to redis");
  }
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;
  ~redis_connection() { redisFree(c); }
  void set(const std::string& key, const std::string& value) const {
    const char* argv[] = {"SET", key.data(), value.data()};
    const std::size_t lengths[] = {3, key.size(), value.size()};
    freeReplyObject(redisCommandArgv(c, 3, argv, lengths));
  }
};

void redis_hit_raw(benchmark::State& state) {
  const redis_connection conn;
  const std::string key = raw_key(1);
  conn.set(key, stored_bytes(1));
  const char* argv[] = {"GET", key.data()};
  const std::size_t lengths[] = {3, key.size()};
  for (auto _ : state) {
    auto* reply = static_cast<redisReply*>(redisCommandArgv(conn.c, 2, argv, lengths));
    std::string value(reply->str, reply->len);
    benchmark::DoNotOptimize(value);
    freeReplyObject(reply);
  }
}

void redis_hit_engine(benchmark::State& state) {
  auto f = twat_cache::memoize<redis>(
      computed, twat_cache::redis_options{.url = redis_url(), .name = "bench"});
  benchmark::DoNotOptimize(f(1));
  const auto before = f.stats();
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(1));
  }
  const auto after = f.stats();
  if (after.misses != before.misses || after.errors != 0) state.SkipWithError("a call missed");
}

void redis_get_many_raw(benchmark::State& state) {
  const redis_connection conn;
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) {
    keys.push_back(raw_key(i));
    conn.set(keys.back(), stored_bytes(i));
  }
  for (auto _ : state) {
    for (const auto& key : keys) {
      const char* argv[] = {"GET", key.data()};
      const std::size_t lengths[] = {3, key.size()};
      redisAppendCommandArgv(conn.c, 2, argv, lengths);
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
      void* raw = nullptr;
      redisGetReply(conn.c, &raw);
      auto* reply = static_cast<redisReply*>(raw);
      std::string value(reply->str, reply->len);
      benchmark::DoNotOptimize(value);
      freeReplyObject(reply);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 100);
}

void redis_get_many_engine(benchmark::State& state) {
  redis<int, std::string> engine(twat_cache::redis_options{.url = redis_url(), .name = "bench"});
  std::vector<int> keys;
  for (int i = 0; i < 100; ++i) {
    keys.push_back(i);
    engine.put(i, value_of(i));
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(engine.get_many(keys));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 100);
  if (engine.stats().misses != 0 || engine.stats().errors != 0) state.SkipWithError("a key missed");
}

void tiered_hit_mcache(benchmark::State& state) {
  auto f = twat_cache::mcache(computed, {.maxsize = 1000});
  benchmark::DoNotOptimize(f(1));
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(1));
  }
}

void tiered_hit_tiered(benchmark::State& state) {
  auto f = twat_cache::memoize<tiered<memory, redis>>(
      computed, twat_cache::mcache_options{.maxsize = 1000},
      twat_cache::redis_options{.url = redis_url(), .name = "bench-tiered"});
  benchmark::DoNotOptimize(f(1));
  const auto before = f.stats();
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(1));
  }
  if (f.stats().misses != before.misses) state.SkipWithError("a call missed");
}

#if TWAT_CACHE_WITH_MEMCACHED
void memcached_hit_raw(benchmark::State& state) {
  const std::string config = "--SERVER=127.0.0.1:" + std::to_string(memcached_server->port());
  memcached_st* m = memcached(config.data(), config.size());
  const std::string key = raw_key(1);
  const std::string bytes = stored_bytes(1);
  memcached_set(m, key.data(), key.size(), bytes.data(), bytes.size(), 0, 0);
  for (auto _ : state) {
    std::size_t length = 0;
    std::uint32_t flags = 0;
    memcached_return_t rc{};
    char* got = memcached_get(m, key.data(), key.size(), &length, &flags, &rc);
    std::string value(got, length);
    benchmark::DoNotOptimize(value);
    std::free(got);
  }
  memcached_free(m);
}

void memcached_hit_engine(benchmark::State& state) {
  auto f = twat_cache::memoize<twat_cache::engines::memcached>(
      computed, twat_cache::memcached_options{
                    .url = "memcached://127.0.0.1:" + std::to_string(memcached_server->port()),
                    .name = "bench"});
  benchmark::DoNotOptimize(f(1));
  const auto before = f.stats();
  for (auto _ : state) {
    benchmark::DoNotOptimize(f(1));
  }
  const auto after = f.stats();
  if (after.misses != before.misses || after.errors != 0) state.SkipWithError("a call missed");
}
#endif

}  // namespace

BENCHMARK(redis_hit_raw)->Name("redis/hit/raw")->Unit(benchmark::kMicrosecond);
BENCHMARK(redis_hit_engine)->Name("redis/hit/engine")->Unit(benchmark::kMicrosecond);
BENCHMARK(redis_get_many_raw)->Name("redis/get_many100/raw")->Unit(benchmark::kMicrosecond);
BENCHMARK(redis_get_many_engine)->Name("redis/get_many100/engine")->Unit(benchmark::kMicrosecond);
BENCHMARK(tiered_hit_mcache)->Name("tiered/hit/mcache");
BENCHMARK(tiered_hit_tiered)->Name("tiered/hit/tiered");
#if TWAT_CACHE_WITH_MEMCACHED
BENCHMARK(memcached_hit_raw)->Name("memcached/hit/raw")->Unit(benchmark::kMicrosecond);
BENCHMARK(memcached_hit_engine)->Name("memcached/hit/engine")->Unit(benchmark::kMicrosecond);
#endif

int main(int argc, char** argv) {
  redis_server = std::make_unique<twat_cache_test::server_process>("redis");
#if TWAT_CACHE_WITH_MEMCACHED
  memcached_server = std::make_unique<twat_cache_test::server_process>("memcached");
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
