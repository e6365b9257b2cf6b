#pragma once
// A doubly linked list threaded through a vector by 32-bit node index: no allocation per entry,
// half the link size of pointers, and links that survive the vector growing. Its operations are
// always inlined: they are a few stores each, on the hit path of lru, and gcc's unit-growth limit
// otherwise decides per translation unit whether they are.

#include <cstdint>
#include <limits>
#include <twat_cache/config.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

inline constexpr std::uint32_t npos = std::numeric_limits<std::uint32_t>::max();

struct list_links {
  std::uint32_t prev = npos;
  std::uint32_t next = npos;
};

/// Head and tail of one list whose links live in a caller-owned vector.
class index_list {
 public:
  [[nodiscard]] std::uint32_t front() const noexcept { return head_; }
  [[nodiscard]] bool empty() const noexcept { return head_ == npos; }
  /// True when node i is the list's only node.
  [[nodiscard]] bool holds_only(std::uint32_t i) const noexcept { return head_ == i && tail_ == i; }

  TWAT_CACHE_ALWAYS_INLINE void push_back(std::vector<list_links>& links,
                                          std::uint32_t i) noexcept {
    links[i].prev = tail_;
    links[i].next = npos;
    if (tail_ != npos) {
      links[tail_].next = i;
    } else {
      head_ = i;
    }
    tail_ = i;
  }

  TWAT_CACHE_ALWAYS_INLINE void remove(std::vector<list_links>& links, std::uint32_t i) noexcept {
    // Two 4-byte loads, not one 8-byte struct copy: the fields were just written one by one,
    // and a wide load over narrow pending stores defeats store forwarding (a ~12-cycle stall).
    const std::uint32_t prev = links[i].prev;
    const std::uint32_t next = links[i].next;
    if (prev != npos) {
      links[prev].next = next;
    } else {
      head_ = next;
    }
    if (next != npos) {
      links[next].prev = prev;
    } else {
      tail_ = prev;
    }
  }

  TWAT_CACHE_ALWAYS_INLINE void move_to_back(std::vector<list_links>& links,
                                             std::uint32_t i) noexcept {
    if (tail_ == i) return;
    remove(links, i);
    push_back(links, i);
  }

  /// move_to_back() of each node in [first, last), in order, with the list's ends held in
  /// registers: stores into `links` may alias head_ and tail_ (both are uint32_t), so one call
  /// per node reloads them after every store.
  void move_all_to_back(std::vector<list_links>& links, const std::uint32_t* first,
                        const std::uint32_t* last) noexcept {
    std::uint32_t head = head_;
    std::uint32_t tail = tail_;
    list_links* const l = links.data();
    for (; first != last; ++first) {
      const std::uint32_t i = *first;
      if (tail == i) continue;
      const std::uint32_t next = l[i].next;  // not npos: i is not the tail
      if (head == i) {
        // The front: its prev is known, and not loaded. Where each node moved is the next
        // one's front (a loop over the keys), that load would wait on the store just made.
        head = next;
        l[next].prev = npos;
      } else {
        const std::uint32_t prev = l[i].prev;
        l[prev].next = next;
        l[next].prev = prev;
      }
      l[i].prev = tail;
      l[i].next = npos;
      l[tail].next = i;  // tail is not npos: the list holds i
      tail = i;
    }
    head_ = head;
    tail_ = tail;
  }

  void clear() noexcept { head_ = tail_ = npos; }

 private:
  std::uint32_t head_ = npos;
  std::uint32_t tail_ = npos;
};

/// Grows a per-node metadata vector to cover indices below `n`, allocating exactly that: the
/// engine decides how far ahead to grow (geometrically, but never past maxsize).
template <class T>
void ensure_size(std::vector<T>& v, std::uint32_t n) {
  if (v.size() >= n) return;
  if (v.capacity() < n) v.reserve(n);
  v.resize(n);
}

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
