#pragma once
/// What-if telemetry: the hit ratio each eviction policy would have reached on a cache's own key
/// stream, at its size, half of it and twice it. Asked for with mcache_options::advisor and read
/// with advise().

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <twat_cache/options.hpp>
#include <twat_cache/version.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE

/// One shadow cache's result.
struct policy_estimate {
  twat_cache::policy policy = twat_cache::policy::lru;
  std::size_t capacity = 0;  ///< entries of the real cache this shadow stands for
  double hit_ratio = 0.0;    ///< on the sampled keys since the advisor started (or clear())
};

/// The advisor's report: every policy at 0.5x, 1x and 2x the cache's maxsize.
struct cache_advice {
  std::size_t capacity = 0;                              ///< the cache's maxsize
  twat_cache::policy current = twat_cache::policy::lru;  ///< the cache's own policy
  double sampling_rate = 1.0;              ///< share of distinct keys the shadows follow
  std::uint64_t sampled_requests = 0;      ///< requests fed to the shadows
  std::vector<policy_estimate> estimates;  ///< by policy, then capacity ascending

  /// The estimate for a policy at a capacity, or nullptr when the advisor has none.
  [[nodiscard]] const policy_estimate* find(twat_cache::policy p, std::size_t size) const {
    for (const auto& e : estimates) {
      if (e.policy == p && e.capacity == size) return &e;
    }
    return nullptr;
  }

  /// The policy with the best estimate at `size` (the cache's own on a tie).
  [[nodiscard]] twat_cache::policy best_at(std::size_t size) const {
    twat_cache::policy best = current;
    double best_ratio = -1.0;
    if (const auto* own = find(current, size)) best_ratio = own->hit_ratio;
    for (const auto& e : estimates) {
      if (e.capacity == size && e.hit_ratio > best_ratio) {
        best = e.policy;
        best_ratio = e.hit_ratio;
      }
    }
    return best;
  }

  /// A table for a log: one row per policy, one column per size.
  [[nodiscard]] std::string to_string() const {
    std::vector<std::size_t> sizes;
    for (const auto& e : estimates) {
      if (std::find(sizes.begin(), sizes.end(), e.capacity) == sizes.end())
        sizes.push_back(e.capacity);
    }
    std::string out = "hit ratio by policy and maxsize (" + std::to_string(sampled_requests) +
                      " sampled requests, sampling " + percent(sampling_rate) + ")\n";
    out += "policy  ";
    for (const std::size_t s : sizes)
      out += pad(std::to_string(s) + (s == capacity ? "*" : ""), 12);
    out += '\n';
    std::vector<twat_cache::policy> policies;
    for (const auto& e : estimates) {
      if (std::find(policies.begin(), policies.end(), e.policy) == policies.end())
        policies.push_back(e.policy);
    }
    for (const auto p : policies) {
      std::string row(policy_name(p));
      if (p == current) row += '*';
      row.resize(8, ' ');
      for (const std::size_t s : sizes) {
        const auto* e = find(p, s);
        row += pad(e ? percent(e->hit_ratio) : "-", 12);
      }
      out += row + '\n';
    }
    return out;
  }

 private:
  static std::string percent(double ratio) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f%%", ratio * 100.0);
    return text;
  }
  static std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) s.insert(0, width - s.size(), ' ');
    return s;
  }
};

TWAT_CACHE_END_NAMESPACE
