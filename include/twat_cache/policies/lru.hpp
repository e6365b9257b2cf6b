#pragma once
/// Least recently used: evicts the entry whose last use is oldest.

#include <cstdint>
#include <twat_cache/detail/index_list.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace policies {

/// Every policy has this shape: it is told of inserts, accesses and removals by node index, and
/// names the next victim. It owns its per-node metadata, so the hit path never touches it.
class lru {
 public:
  void reserve(std::uint32_t nodes) { detail::ensure_size(links_, nodes); }
  void on_insert(std::uint32_t i) noexcept { order_.push_back(links_, i); }
  TWAT_CACHE_ALWAYS_INLINE void on_access(std::uint32_t i) noexcept {
    order_.move_to_back(links_, i);
  }
  /// on_access() of each node in [first, last), in order (an access buffer applied).
  void on_access_all(const std::uint32_t* first, const std::uint32_t* last) noexcept {
    order_.move_all_to_back(links_, first, last);
  }
  void on_remove(std::uint32_t i) noexcept { order_.remove(links_, i); }
  [[nodiscard]] std::uint32_t victim() noexcept { return order_.front(); }
  void clear() noexcept {
    order_.clear();
    links_.clear();
  }

 private:
  std::vector<detail::list_links> links_;
  detail::index_list order_;  // front: least recently used
};

}  // namespace policies
TWAT_CACHE_END_NAMESPACE
