#pragma once
/// The last engine of ucache's chain (taken only when named): a plain LRU on std::list +
/// std::unordered_map, under one mutex. Small and obviously right; every other memory engine is
/// tested against it.

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <twat_cache/key.hpp>
#include <twat_cache/options.hpp>
#include <twat_cache/stats.hpp>
#include <unordered_map>
#include <utility>

TWAT_CACHE_BEGIN_NAMESPACE
namespace engines {

template <class Key, class Value>
class std_lru {
 public:
  using key_type = Key;
  using value_type = Value;

  explicit std_lru(const mcache_options& options = {}) : options_(options) {
    detail::validate(options_);
    // The default is accepted too: this engine is the plain LRU a user or ucache chose by name.
    if (options_.policy != policy::lru && options_.policy != default_policy) {
      throw config_error("mcache_options.policy = " + std::string(policy_name(options_.policy)) +
                         " is not supported by the std_lru engine; allowed: lru");
    }
  }

  [[nodiscard]] static constexpr std::string_view name() noexcept { return "std_lru"; }

  template <class K>
  [[nodiscard]] std::optional<Value> get(const K& key) {
    const guard g(*this);
    // An expired entry is a miss here, and stays until the next store purges it, as in the
    // memory engine: both count it as one expiration at the same point.
    const auto it = find_live(key);
    if (it == map_.end()) {
      ++misses_;
      return std::nullopt;
    }
    order_.splice(order_.end(), order_, it->second);
    ++hits_;
    return it->second->value;
  }

  template <class K>
  [[nodiscard]] bool contains(const K& key) {
    const guard g(*this);
    return find_live(key) != map_.end();
  }

  template <class K>
  [[nodiscard]] std::optional<Value> peek(const K& key) {
    const guard g(*this);
    const auto it = find_live(key);
    if (it == map_.end()) return std::nullopt;
    return it->second->value;
  }

  /// Expired entries go first, all of them, as the memory engine's do; then, in a full cache,
  /// the least recently used one.
  void put(const Key& key, Value value) {
    const guard g(*this);
    std::chrono::nanoseconds expires = std::chrono::nanoseconds::max();
    if (options_.ttl) {
      const auto t = now();
      purge_expired(t);
      expires = t + *options_.ttl;
    }
    if (const auto it = map_.find(key); it != map_.end()) {
      it->second->value = std::move(value);
      it->second->expires = expires;
      order_.splice(order_.end(), order_, it->second);
      if (options_.ttl) rewrite(it->second);
      return;
    }
    if (options_.maxsize && map_.size() >= *options_.maxsize) {
      remove(map_.find(order_.front().key));
      ++evictions_;
    }
    order_.push_back(entry{key, std::move(value), expires, next_write_});
    try {
      const auto it = map_.emplace(key, std::prev(order_.end())).first;
      try {
        if (options_.ttl) by_write_.emplace(next_write_, it->second);
      } catch (...) {
        map_.erase(it);
        throw;
      }
    } catch (...) {
      order_.pop_back();
      throw;
    }
    ++next_write_;
  }

  template <class K>
  bool erase(const K& key) {
    const guard g(*this);
    const auto it = map_.find(key);
    if (it == map_.end()) return false;
    const bool live = !expired(*it->second);  // an expired entry goes, but was not there
    remove(it);
    return live;
  }

  void clear() {
    const guard g(*this);
    map_.clear();
    order_.clear();
    by_write_.clear();
    hits_ = misses_ = evictions_ = expirations_ = 0;
  }

  [[nodiscard]] cache_stats stats() const {
    const guard g(*this);
    cache_stats s;
    s.hits = hits_;
    s.misses = misses_;
    s.evictions = evictions_;
    s.expirations = expirations_;
    s.size = map_.size();
    s.capacity = options_.maxsize.value_or(0);
    return s;
  }

 private:
  struct entry {
    Key key;
    Value value;
    std::chrono::nanoseconds expires;
    std::uint64_t written;  // its place in by_write_ (with a ttl)
  };
  using entry_list = std::list<entry>;
  using entry_map =
      std::unordered_map<Key, typename entry_list::iterator, key_hash<Key>, key_equal<Key>>;

  struct guard {
    const std_lru& self;
    explicit guard(const std_lru& s) : self(s) {
      if (self.options_.thread_safe) self.mutex_.lock();
    }
    ~guard() {
      if (self.options_.thread_safe) self.mutex_.unlock();
    }
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
  };

  std::chrono::nanoseconds now() const {
    const auto t = options_.clock ? options_.clock() : std::chrono::steady_clock::now();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  }

  bool expired(const entry& e) const { return options_.ttl && e.expires <= now(); }

  template <class K>
  typename entry_map::iterator find_live(const K& key) {
    const auto it = map_.find(key);
    return it != map_.end() && expired(*it->second) ? map_.end() : it;
  }

  void remove(typename entry_map::iterator it) {
    const auto node = it->second;
    if (options_.ttl) by_write_.erase(node->written);
    map_.erase(it);
    order_.erase(node);
  }

  /// With one ttl for every entry, the oldest write expires first: expired entries are a prefix
  /// of by_write_.
  void purge_expired(std::chrono::nanoseconds t) {
    while (!by_write_.empty() && by_write_.begin()->second->expires <= t) {
      remove(map_.find(by_write_.begin()->second->key));
      ++expirations_;
    }
  }

  /// Moves a rewritten entry to the end of the write order.
  void rewrite(typename entry_list::iterator node) {
    // The node out, then in under a new key: no allocation, so nothing here can throw.
    auto handle = by_write_.extract(node->written);
    handle.key() = next_write_++;
    node->written = handle.key();
    by_write_.insert(std::move(handle));
  }

  mcache_options options_;
  mutable std::mutex mutex_;
  entry_list order_;  // front: least recently used
  entry_map map_;
  std::map<std::uint64_t, typename entry_list::iterator> by_write_;  // with a ttl: oldest first
  std::uint64_t next_write_ = 0;
  std::uint64_t hits_ = 0, misses_ = 0, evictions_ = 0, expirations_ = 0;
};

}  // namespace engines
TWAT_CACHE_END_NAMESPACE
