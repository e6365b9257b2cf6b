// fcache against the raw thing, in one run: reading an 8 MB array of doubles back.
//
//   files/hit_8MB/raw           open, fstat, read() the whole file into a freshly allocated,
//                               uninitialized buffer, close (the baseline)
//   files/hit_8MB/raw_vector    the same into a std::vector<double> (zero-filled first: what
//                               naive code pays; informational)
//   files/hit_8MB/fcache        a hit of an fcache-memoized function returning that vector
//   files/hit_8MB/fcache_zstd   the same with compress = true (random doubles: stored raw)
//   files/small/raw, files/small/fcache   the same for a 100-byte string (informational)
//   zstd/<data>/<op>            zstd level 3 on the 8 MB array: ratio and speed
//
// TWAT_CACHE_DIR is set to a fresh temporary folder, removed at exit.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <twat_cache/cache.hpp>
#include <vector>

#if TWAT_CACHE_WITH_ZSTD
#include <zstd.h>
#endif

namespace {

constexpr std::size_t array_size = std::size_t{1} << 20;  // doubles: 8 MiB

std::vector<double> random_doubles() {
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> d(-1.0, 1.0);
  std::vector<double> v(array_size);
  for (auto& x : v)
    x = d(random);
  return v;
}

std::vector<double> smooth_doubles() {
  std::vector<double> v(array_size);
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = std::round(std::sin(static_cast<double>(i) * 1e-3) * 1000.0) / 1000.0;
  return v;
}

struct scratch_dir {
  std::filesystem::path path;
  scratch_dir() {
    char pattern[] = "/tmp/twat_cache_bench_files_XXXXXX";
    path = ::mkdtemp(pattern);
    ::setenv("TWAT_CACHE_DIR", path.c_str(), 1);
  }
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

scratch_dir& scratch() {
  static scratch_dir dir;
  return dir;
}

std::filesystem::path write_raw_file(const std::string& name, const void* data, std::size_t n) {
  const auto path = scratch().path / name;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ::write(fd, data, n) != static_cast<ssize_t>(n)) std::abort();
  ::close(fd);
  return path;
}

/// One read() of the whole file into `buffer`.
std::size_t read_whole(const std::filesystem::path& path, void* buffer, std::size_t capacity) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) std::abort();
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size > capacity) std::abort();
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, static_cast<char*>(buffer) + done, size - done);
    if (n <= 0) std::abort();
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return size;
}

void raw_8mb(benchmark::State& state) {
  const auto data = random_doubles();
  const auto path = write_raw_file("raw.bin", data.data(), data.size() * sizeof(double));
  for (auto _ : state) {
    std::unique_ptr<double[]> buffer(new double[array_size]);  // uninitialized
    benchmark::DoNotOptimize(read_whole(path, buffer.get(), array_size * sizeof(double)));
    benchmark::DoNotOptimize(buffer.get());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(array_size * sizeof(double)));
}

void raw_vector_8mb(benchmark::State& state) {
  const auto data = random_doubles();
  const auto path = write_raw_file("raw_vector.bin", data.data(), data.size() * sizeof(double));
  for (auto _ : state) {
    std::vector<double> v(array_size);
    benchmark::DoNotOptimize(read_whole(path, v.data(), v.size() * sizeof(double)));
    benchmark::DoNotOptimize(v.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(array_size * sizeof(double)));
}

void fcache_8mb(benchmark::State& state, bool compress) {
  const auto data = random_doubles();
  auto load = twat_cache::fcache([&data](int) { return data; },
                                 {.folder_name = "bench",
                                  .name = compress ? "hit_8MB_zstd" : "hit_8MB",
                                  .compress = compress});
  if (load(1) != data) std::abort();  // stored
  for (auto _ : state) {
    auto v = load(1);
    benchmark::DoNotOptimize(v.data());
  }
  if (load.stats().hits < static_cast<std::uint64_t>(state.iterations())) {
    state.SkipWithError("not every call was a hit");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(array_size * sizeof(double)));
}

void raw_small(benchmark::State& state) {
  const std::string text(100, 's');
  const auto path = write_raw_file("small.bin", text.data(), text.size());
  for (auto _ : state) {
    std::string s(128, '\0');
    s.resize(read_whole(path, s.data(), s.size()));
    benchmark::DoNotOptimize(s.data());
  }
}

void fcache_small(benchmark::State& state) {
  auto f = twat_cache::fcache([](int) { return std::string(100, 's'); },
                              {.folder_name = "bench", .name = "small"});
  static_cast<void>(f(1));
  for (auto _ : state) {
    auto s = f(1);
    benchmark::DoNotOptimize(s.data());
  }
}

#if TWAT_CACHE_WITH_ZSTD
void zstd_round(benchmark::State& state, bool smooth, bool decompress) {
  const auto data = smooth ? smooth_doubles() : random_doubles();
  const std::size_t n = data.size() * sizeof(double);
  std::string packed(ZSTD_compressBound(n), '\0');
  packed.resize(ZSTD_compress(packed.data(), packed.size(), data.data(), n, 3));
  std::vector<double> out(data.size());
  for (auto _ : state) {
    if (decompress) {
      benchmark::DoNotOptimize(ZSTD_decompress(out.data(), n, packed.data(), packed.size()));
    } else {
      std::string again(ZSTD_compressBound(n), '\0');
      benchmark::DoNotOptimize(ZSTD_compress(again.data(), again.size(), data.data(), n, 3));
    }
  }
  state.counters["ratio"] = static_cast<double>(n) / static_cast<double>(packed.size());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n));
}
#endif

}  // namespace

BENCHMARK(raw_8mb)->Name("files/hit_8MB/raw")->Unit(benchmark::kMicrosecond);
BENCHMARK(raw_vector_8mb)->Name("files/hit_8MB/raw_vector")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(fcache_8mb, raw, false)
    ->Name("files/hit_8MB/fcache")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(fcache_8mb, zstd, true)
    ->Name("files/hit_8MB/fcache_zstd")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(raw_small)->Name("files/small/raw");
BENCHMARK(fcache_small)->Name("files/small/fcache");
#if TWAT_CACHE_WITH_ZSTD
BENCHMARK_CAPTURE(zstd_round, random_compress, false, false)
    ->Name("zstd/random/compress")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(zstd_round, random_decompress, false, true)
    ->Name("zstd/random/decompress")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(zstd_round, smooth_compress, true, false)
    ->Name("zstd/smooth/compress")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(zstd_round, smooth_decompress, true, true)
    ->Name("zstd/smooth/decompress")
    ->Unit(benchmark::kMicrosecond);
#endif

BENCHMARK_MAIN();
