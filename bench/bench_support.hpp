#pragma once
// What the benchmarks share: a cache root of their own for the run (persistent caches), and
// paired rounds (a subject timed against its baseline in turns, for noisy machines).

#include <benchmark/benchmark.h>
#include <stdlib.h>  // mkdtemp, setenv

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace bench_support {

/// One pass of call(key) over all the keys, in nanoseconds per call.
template <class Keys, class Call>
double timed_pass(const Keys& order, Call& call) {
  const auto start = std::chrono::steady_clock::now();
  for (const auto& k : order)
    benchmark::DoNotOptimize(call(k));
  const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
  return took.count() / static_cast<double>(order.size());
}

inline double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

/// Each iteration is one round: a pass over the keys through `baseline` and one through
/// `subject`, in turn first (both warmed before). A VM's neighbours slow both passes of a round
/// alike, so the median of the rounds' ratios holds still where the ratio of two separately
/// timed benchmarks moves by 10 to 20 %. Counters: ratio (subject / baseline), baseline_ns and
/// subject_ns (medians, per call).
template <class Keys, class Baseline, class Subject>
void paired_rounds(benchmark::State& state, const Keys& order, Baseline baseline, Subject subject) {
  timed_pass(order, baseline);
  timed_pass(order, subject);
  std::vector<double> ratios, baseline_ns, subject_ns;
  bool subject_first = false;
  for (auto _ : state) {
    const double s_first = subject_first ? timed_pass(order, subject) : 0.0;
    const double b = timed_pass(order, baseline);
    const double s = subject_first ? s_first : timed_pass(order, subject);
    subject_first = !subject_first;
    ratios.push_back(s / b);
    baseline_ns.push_back(b);
    subject_ns.push_back(s);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(2 * order.size() * state.iterations()));
  if (ratios.empty()) return;
  state.counters["ratio"] = median(ratios);
  state.counters["baseline_ns"] = median(baseline_ns);
  state.counters["subject_ns"] = median(subject_ns);
}

/// A fresh folder from mkdtemp (under $TMPDIR, else /tmp), which is TWAT_CACHE_DIR from its
/// construction on, and is removed with everything in it when this object goes. Make it before
/// any cache.
class temp_cache_root {
 public:
  explicit temp_cache_root(std::string_view program) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = (base != nullptr && *base != '\0') ? base : "/tmp";
    pattern += "/twat_cache_" + std::string(program) + ".XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
    path_ = pattern;
    if (setenv("TWAT_CACHE_DIR", path_.c_str(), 1) != 0)
      throw std::runtime_error(std::string("setenv TWAT_CACHE_DIR: ") + std::strerror(errno));
  }
  temp_cache_root(const temp_cache_root&) = delete;
  temp_cache_root& operator=(const temp_cache_root&) = delete;
  ~temp_cache_root() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace bench_support
