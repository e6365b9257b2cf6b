// Results that outlive the process. Run it twice: the first run computes, the second answers
// from the cache on disk at once. bcache keeps small results in one SQLite database per folder;
// fcache keeps large ones (arrays) in one file each.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <tuple>
#include <twat_cache/cache.hpp>
#include <vector>

using namespace std::chrono_literals;

int slow_calls = 0;

// Stands in for a geocoder or a web API: slow, and the same answer every time.
std::string geocode(const std::string& place) {
  ++slow_calls;
  std::this_thread::sleep_for(300ms);
  return place == "Paris" ? "48.8566,2.3522" : "unknown";
}

// Stands in for loading and preprocessing a dataset: a large array.
std::vector<double> load_grid(int n) {
  ++slow_calls;
  std::this_thread::sleep_for(300ms);
  std::vector<double> grid(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < grid.size(); ++i)
    grid[i] = std::sin(static_cast<double>(i) * 1e-3);
  return grid;
}

int main() {
  // `name` is what the next run finds the entries by: give each function its own.
  auto cached_geocode =
      twat_cache::bcache(geocode, {.folder_name = "example", .name = "geocode", .ttl = 24h});
  auto cached_grid = twat_cache::fcache(
      load_grid, {.folder_name = "example", .name = "load_grid", .compress = true});

  auto timed = [](auto&& call) {
    const int calls_before = slow_calls;
    const auto start = std::chrono::steady_clock::now();
    auto result = call();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const char* how = slow_calls == calls_before ? "from the cache" : "computed";
    return std::tuple{std::move(result), how, ms};
  };

  const auto [where, geocode_how, geocode_ms] = timed([&] { return cached_geocode("Paris"); });
  std::printf("geocode(Paris) = %s  (%s, %.1f ms, backend %s)\n", where.c_str(), geocode_how,
              geocode_ms, std::string(cached_geocode.backend()).c_str());
  const auto [grid, grid_how, grid_ms] = timed([&] { return cached_grid(1'000'000); });
  std::printf("load_grid(1000000): %zu values  (%s, %.1f ms, backend %s)\n", grid.size(), grid_how,
              grid_ms, std::string(cached_grid.backend()).c_str());
  std::printf("slow calls in this run: %d\n", slow_calls);
  std::printf("cache folder: %s\n", twat_cache::get_cache_path("example").c_str());
  if (slow_calls != 0) std::printf("run it again: the second run is served from disk\n");
  return 0;
}
