#pragma once
// Every eviction policy, for a test that runs once per policy: GENERATE(every_policy()).

#include <catch2/catch.hpp>

#include <twat_cache/options.hpp>

namespace test_support {

inline Catch::Generators::GeneratorWrapper<twat_cache::policy> every_policy() {
  using twat_cache::policy;
  return Catch::Generators::values(
      {policy::lru, policy::lfu, policy::fifo, policy::rr, policy::s3fifo, policy::tinylfu});
}

}  // namespace test_support
