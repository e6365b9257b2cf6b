#pragma once
/// First in, first out: evicts the entry written longest ago; reads do not matter.

#include <cstdint>
#include <twat_cache/detail/index_list.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace policies {

class fifo {
 public:
  void reserve(std::uint32_t nodes) { detail::ensure_size(links_, nodes); }
  void on_insert(std::uint32_t i) noexcept { order_.push_back(links_, i); }
  void on_access(std::uint32_t) noexcept {}
  void on_remove(std::uint32_t i) noexcept { order_.remove(links_, i); }
  [[nodiscard]] std::uint32_t victim() noexcept { return order_.front(); }
  void clear() noexcept {
    order_.clear();
    links_.clear();
  }

 private:
  std::vector<detail::list_links> links_;
  detail::index_list order_;  // front: oldest write
};

}  // namespace policies
TWAT_CACHE_END_NAMESPACE
