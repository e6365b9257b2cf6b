#pragma once
/// Least frequently used, ties broken by least recently used, in O(1) per operation: entries sit
/// in per-frequency buckets kept in ascending order (Shah, Mitra and Matani, 2010).

#include <cstdint>
#include <twat_cache/detail/index_list.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace policies {

class lfu {
 public:
  void reserve(std::uint32_t nodes) {
    detail::ensure_size(links_, nodes);
    detail::ensure_size(bucket_of_, nodes);
  }

  void on_insert(std::uint32_t i) {
    std::uint32_t b = first_bucket_;
    if (b == detail::npos || buckets_[b].frequency != 1) b = new_bucket(1, detail::npos, b);
    enter(b, i);
  }

  // Always inlined, with enter() and leave(): into the loop that applies a buffer of reads, where
  // a call per read cost a third of a hit (saving and restoring six registers each time).
  TWAT_CACHE_ALWAYS_INLINE void on_access(std::uint32_t i) {
    const std::uint32_t from = bucket_of_[i];
    const std::uint64_t frequency = buckets_[from].frequency + 1;
    std::uint32_t to = buckets_[from].next;
    if (to == detail::npos || buckets_[to].frequency != frequency) {
      // Alone at its count, with none at the next: the bucket itself moves up. The usual case of
      // a popular key, whose count no other key shares: no bucket made, none freed.
      if (buckets_[from].entries.holds_only(i)) {
        buckets_[from].frequency = frequency;
        return;
      }
      to = new_bucket(frequency, from, to);
    }
    leave(from, i);
    enter(to, i);
  }

  void on_remove(std::uint32_t i) noexcept { leave(bucket_of_[i], i); }

  [[nodiscard]] std::uint32_t victim() const noexcept {
    return first_bucket_ == detail::npos ? detail::npos : buckets_[first_bucket_].entries.front();
  }

  /// How often node i was used (1 after insertion).
  [[nodiscard]] std::uint64_t frequency(std::uint32_t i) const noexcept {
    return buckets_[bucket_of_[i]].frequency;
  }

  void clear() noexcept {
    links_.clear();
    bucket_of_.clear();
    buckets_.clear();
    free_buckets_.clear();
    first_bucket_ = detail::npos;
  }

 private:
  struct bucket {
    std::uint64_t frequency = 0;
    std::uint32_t prev = detail::npos;  // neighbouring buckets, ascending frequency
    std::uint32_t next = detail::npos;
    detail::index_list entries;  // front: least recently entered this frequency
  };

  std::uint32_t new_bucket(std::uint64_t frequency, std::uint32_t prev, std::uint32_t next) {
    std::uint32_t b;
    if (!free_buckets_.empty()) {
      b = free_buckets_.back();
      free_buckets_.pop_back();
    } else {
      b = static_cast<std::uint32_t>(buckets_.size());
      buckets_.emplace_back();
      free_buckets_.reserve(buckets_.capacity());  // so leave() never allocates
    }
    buckets_[b] = bucket{frequency, prev, next, {}};
    if (prev != detail::npos) {
      buckets_[prev].next = b;
    } else {
      first_bucket_ = b;
    }
    if (next != detail::npos) buckets_[next].prev = b;
    return b;
  }

  TWAT_CACHE_ALWAYS_INLINE void enter(std::uint32_t b, std::uint32_t i) noexcept {
    buckets_[b].entries.push_back(links_, i);
    bucket_of_[i] = b;
  }

  TWAT_CACHE_ALWAYS_INLINE void leave(std::uint32_t b, std::uint32_t i) noexcept {
    buckets_[b].entries.remove(links_, i);
    if (!buckets_[b].entries.empty()) return;
    const bucket gone = buckets_[b];
    if (gone.prev != detail::npos) {
      buckets_[gone.prev].next = gone.next;
    } else {
      first_bucket_ = gone.next;
    }
    if (gone.next != detail::npos) buckets_[gone.next].prev = gone.prev;
    free_buckets_.push_back(b);
  }

  std::vector<detail::list_links> links_;
  std::vector<std::uint32_t> bucket_of_;
  std::vector<bucket> buckets_;
  std::vector<std::uint32_t> free_buckets_;
  std::uint32_t first_bucket_ = detail::npos;
};

}  // namespace policies
TWAT_CACHE_END_NAMESPACE
