#pragma once
// An exact model of what the memory engine's deterministic policies (lru, lfu, fifo) decide, with
// an optional ttl, written plainly (a std::map and linear scans) so that a test can hold the
// engine's decisions against it step by step. int keys; the values are the caller's business.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <twat_cache/options.hpp>

namespace twat_cache_test {

class reference_cache {
 public:
  /// `capacity` 0: unbounded. `ttl_ns` 0: entries never expire.
  reference_cache(twat_cache::policy policy, std::size_t capacity, std::int64_t ttl_ns = 0)
      : policy_(policy), capacity_(capacity), ttl_ns_(ttl_ns) {}

  /// A read at `now`: true (and the entry's place updated) when `key` has a live entry.
  bool read(int key, std::int64_t now = 0) {
    const auto it = entries_.find(key);
    if (it == entries_.end() || expired(it->second, now)) return false;
    ++hits_;
    entry& e = it->second;
    ++e.count;
    e.since = ++clock_;
    return true;
  }

  /// A store of a key that has no live entry, at `now`: expired entries go first (the engine
  /// purges them on every write), then the policy's victim if the cache is full.
  void insert(int key, std::int64_t now = 0) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (!expired(it->second, now)) {
        ++it;
        continue;
      }
      it = entries_.erase(it);
      ++expirations_;
    }
    entries_.erase(key);
    if (capacity_ != 0 && entries_.size() >= capacity_) {
      auto victim = entries_.begin();
      for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (rank(it->second) < rank(victim->second)) victim = it;
      }
      entries_.erase(victim);
      ++evictions_;
    }
    ++clock_;
    entries_[key] = entry{1, clock_, clock_, now};
  }

  /// Drops `key`: true when it had a live entry (an expired one goes all the same).
  bool erase(int key, std::int64_t now = 0) {
    const auto it = entries_.find(key);
    if (it == entries_.end()) return false;
    const bool live = !expired(it->second, now);
    entries_.erase(it);
    return live;
  }

  void clear() {
    entries_.clear();
    hits_ = evictions_ = expirations_ = 0;
  }

  [[nodiscard]] bool live(int key, std::int64_t now = 0) const {
    const auto it = entries_.find(key);
    return it != entries_.end() && !expired(it->second, now);
  }
  [[nodiscard]] std::set<int> live_keys(std::int64_t now = 0) const {
    std::set<int> keys;
    for (const auto& [key, e] : entries_) {
      if (!expired(e, now)) keys.insert(key);
    }
    return keys;
  }
  /// Entries held, expired ones not yet purged included (what the engine's stats().size counts).
  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
  [[nodiscard]] std::uint64_t hits() const noexcept { return hits_; }
  [[nodiscard]] std::uint64_t evictions() const noexcept { return evictions_; }
  [[nodiscard]] std::uint64_t expirations() const noexcept { return expirations_; }

  /// Whether this model decides as `p` does: lru, lfu and fifo; the others are not exact.
  static bool models(twat_cache::policy p) {
    return p == twat_cache::policy::lru || p == twat_cache::policy::lfu ||
           p == twat_cache::policy::fifo;
  }

 private:
  struct entry {
    std::uint64_t count;     // reads since the write, plus one
    std::uint64_t since;     // the clock at the last read or the write
    std::uint64_t inserted;  // the clock at the write
    std::int64_t written_ns;
  };

  [[nodiscard]] bool expired(const entry& e, std::int64_t now) const {
    return ttl_ns_ != 0 && e.written_ns + ttl_ns_ <= now;
  }

  /// The victim has the least rank: lru, the oldest read or write; lfu, the fewest reads, ties by
  /// the read or write that brought the entry to its count longest ago; fifo, the oldest write.
  [[nodiscard]] std::pair<std::uint64_t, std::uint64_t> rank(const entry& e) const {
    switch (policy_) {
      case twat_cache::policy::lfu:
        return {e.count, e.since};
      case twat_cache::policy::fifo:
        return {0, e.inserted};
      default:
        return {0, e.since};
    }
  }

  twat_cache::policy policy_;
  std::size_t capacity_;
  std::int64_t ttl_ns_;
  std::map<int, entry> entries_;
  std::uint64_t clock_ = 0;
  std::uint64_t hits_ = 0;
  std::uint64_t evictions_ = 0;
  std::uint64_t expirations_ = 0;
};

}  // namespace twat_cache_test
