// A separate process for the persistence tests: fills, reads back or hammers a persistent cache,
// and says by its exit status whether every value it got was right.
//   persistent_worker <bcache|fcache> <folder> write  <n>         stores f(0..n-1)
//   persistent_worker <bcache|fcache> <folder> read   <n>         f(0..n-1) all hits, all right
//   persistent_worker <bcache|fcache> <folder> hammer <n> <seed>  random calls, all right
// Exit status: 0 fine, 2 usage, 3 a wrong value, 4 a miss where a hit was due, 5 cache errors,
// 6 not on the expected engine.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <twat_cache/cache.hpp>
#include <vector>

#include "persistent_test_support.hpp"

namespace {

// Values of many sizes, so a torn or mixed-up write could not pass for a right one.
std::vector<std::int64_t> value_of(int i) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(1 + (i % 7) * 300));
  for (std::size_t k = 0; k < v.size(); ++k)
    v[k] = static_cast<std::int64_t>(i) * 1000003 + static_cast<std::int64_t>(k);
  return v;
}

template <class Use>
int run(const std::string& folder, std::string_view mode, int n, unsigned seed) {
  int calls = 0;
  auto f = Use::make(
      [&calls](int i) {
        ++calls;
        return value_of(i);
      },
      {.folder_name = folder, .name = "worker"});
  if (f.backend() != Use::engine) return 6;
  if (mode == "write" || mode == "read") {
    for (int i = 0; i < n; ++i) {
      if (f(i) != value_of(i)) return 3;
    }
    if (mode == "read" && calls != 0) return 4;
  } else if (mode == "hammer") {
    std::mt19937 random(seed);
    for (int round = 0; round < 4 * n; ++round) {
      const int i = static_cast<int>(random() % static_cast<unsigned>(n));
      if (f(i) != value_of(i)) return 3;
      if (round % 17 == 0) f.invalidate(i);  // deletes race with reads and writes too
    }
  } else {
    return 2;
  }
  return f.stats().errors == 0 ? 0 : 5;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) return 2;
  const std::string_view factory = argv[1];
  const std::string folder = argv[2];
  const std::string_view mode = argv[3];
  const int n = std::atoi(argv[4]);
  const unsigned seed = argc > 5 ? static_cast<unsigned>(std::atoi(argv[5])) : 1;
  if (factory == "bcache") return run<test_support::use_bcache>(folder, mode, n, seed);
  if (factory == "fcache") return run<test_support::use_fcache>(folder, mode, n, seed);
  return 2;
}
