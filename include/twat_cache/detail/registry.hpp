#pragma once
// The process-wide list of live caches, for get_stats() and clear_cache().

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <twat_cache/stats.hpp>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

class cache_registry {
 public:
  struct entry {
    std::string name;
    const void* cache;
    cache_stats (*stats)(const void*);
    void (*clear)(const void*);
  };

  static cache_registry& instance() {
    static auto* registry = new cache_registry;  // leaked: caches may die after static destructors
    return *registry;
  }

  /// Registers a cache under `name` (made unique with a "#n" suffix); returns its id.
  std::uint64_t add(std::string name, const void* cache, cache_stats (*stats)(const void*),
                    void (*clear)(const void*)) {
    std::lock_guard lock(mutex_);
    const std::uint64_t id = ++last_id_;
    if (name.empty()) name = "cache";
    std::string unique = name;
    for (unsigned n = 2; names_in_use(unique); ++n)
      unique = name + "#" + std::to_string(n);
    entries_.emplace(id, entry{std::move(unique), cache, stats, clear});
    return id;
  }

  /// Unregisters; returns only when no get_stats()/clear_cache() is using the cache.
  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    entries_.erase(id);
  }

  std::map<std::string, cache_stats> stats() {
    std::lock_guard lock(mutex_);
    std::map<std::string, cache_stats> out;
    for (const auto& [id, e] : entries_)
      out.emplace(e.name, e.stats(e.cache));
    return out;
  }

  void clear_all() {
    std::lock_guard lock(mutex_);
    for (const auto& [id, e] : entries_)
      e.clear(e.cache);
  }

 private:
  bool names_in_use(const std::string& name) const {
    for (const auto& [id, e] : entries_) {
      if (e.name == name) return true;
    }
    return false;
  }

  std::mutex mutex_;
  std::uint64_t last_id_ = 0;
  std::map<std::uint64_t, entry> entries_;
};

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
