#pragma once
/// S3-FIFO (Yang et al., "FIFO queues are all you need for cache eviction", SOSP 2023). New keys
/// enter a small FIFO holding a tenth of the entries; one read again before it reaches the small
/// queue's end moves on to the main FIFO, the others leave and are remembered in a ghost set, from
/// which a returning key goes straight to main. Main is a CLOCK with a 2-bit counter: an entry
/// read since it last came round goes round again. So a one-off scan passes through the small
/// queue and never displaces main.
///
/// A read only raises a 2-bit counter that the engine keeps in the entry's own tagged word
/// (detail::count_read), safe under a shared lock: no list moves, nothing recorded for later and
/// no cache line but the entry's, so hits on several threads scale like fifo's. The policy's own
/// arrays are touched by writers only. victim() reads and writes the counters with relaxed
/// atomics, so a writer may run it while hits go on (the engine's batches of stores do).

#include <cstdint>
#include <twat_cache/config.hpp>
#include <twat_cache/detail/ghost_set.hpp>
#include <twat_cache/detail/index_list.hpp>
#include <twat_cache/detail/tagged_handle.hpp>
#include <twat_cache/policies/node_hash.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace policies {

/// `NodeWords`: a callable the engine gives, `std::uint32_t& (std::uint32_t node)`, the tagged
/// word of a live node (whose counter the engine raises on a hit). A type, not a function
/// pointer: victim() reads one word per step, and a scan can take dozens of steps.
template <class NodeWords>
class s3fifo {
 public:
  /// `capacity`: the cache's maxsize (0: unbounded, nothing is ever evicted, so no ghost).
  void configure(std::uint32_t capacity, node_hasher hash, NodeWords words) {
    capacity_ = capacity;
    small_target_ = capacity / 10 == 0 ? 1 : capacity / 10;
    hash_ = hash;
    words_ = words;
    ghost_.reset(capacity == 0 ? 0 : capacity - (capacity / 10));
  }

  void reserve(std::uint32_t nodes) {
    detail::ensure_size(links_, nodes);
    detail::ensure_size(in_main_, nodes);
  }

  /// A new node, whose word's counter is 0.
  void on_insert(std::uint32_t i) { on_insert_placed(i, takes_ghost(hash_(i))); }

  /// True when a new key of this hash is a live ghost, which it then stops being: on_insert()'s
  /// choice of queue, made ahead of the insert by a planner (see victim_before).
  bool takes_ghost(std::uint64_t hash) noexcept { return capacity_ != 0 && ghost_.take(hash); }

  /// on_insert() with its queue chosen already: main when `to_main` (a ghost came back).
  void on_insert_placed(std::uint32_t i, bool to_main) noexcept {
    if (to_main) {
      in_main_[i] = 1;
      main_.push_back(links_, i);
      ++main_size_;
    } else {
      in_main_[i] = 0;
      small_.push_back(links_, i);
      ++small_size_;
    }
  }

  /// A read applied later (a hit under the exclusive lock, a store over an existing key, or an
  /// advised cache's buffered hit, applied by a drain while other hits go on).
  void on_access(std::uint32_t i) noexcept {
    const std::uint32_t& word = words_(i);
    detail::count_read(word, detail::load_tagged(word));
  }

  void on_remove(std::uint32_t i) noexcept {
    if (in_main_[i]) {
      main_.remove(links_, i);
      --main_size_;
    } else {
      small_.remove(links_, i);
      --small_size_;
    }
  }

  [[nodiscard]] std::uint32_t victim() {
    bool decided = true;
    return victim_before(0, decided);
  }

  /// The victim that victim() will give once `waiting` new entries have entered the small queue
  /// behind the present ones, which a planner (the engine's batch of stores) chooses before it
  /// inserts them: the entries waiting count toward the small queue's share, as they will when
  /// stores made one by one evict in turn. `decided` false (and npos): the victim would be one
  /// of the waiting entries, which the planner leaves to victim() once they are in.
  /// Whatever it moved before it stopped, victim() would have moved first as well.
  TWAT_CACHE_ALWAYS_INLINE std::uint32_t victim_before(std::uint32_t waiting, bool& decided) {
    scan_cursor ahead;
    for (;;) {
      const std::uint32_t small_size = small_size_ + waiting;
      if (small_size != 0 && (small_size >= small_target_ || main_size_ == 0)) {
        if (small_size_ == 0) {  // only the waiting entries: their turn comes after they are in
          decided = false;
          return detail::npos;
        }
        const std::uint32_t i = small_.front();
        if (frequency(i) == 0) {
          ghost_.insert(hash_(i));
          return i;
        }
        small_.remove(links_, i);  // read while small: it has earned main, and starts it unread
        --small_size_;
        std::uint32_t& word = words_(i);
        detail::store_tagged(word, detail::load_tagged(word) & detail::handle_mask);
        in_main_[i] = 1;
        main_.push_back(links_, i);
        ++main_size_;
        continue;
      }
      if (main_size_ == 0) return detail::npos;
      const std::uint32_t i = main_.front();
      prefetch_ahead(ahead, i);
      if (frequency(i) == 0) return i;
      std::uint32_t& word = words_(i);
      detail::store_tagged(word, detail::load_tagged(word) - detail::counter_one);  // round again
      main_.move_to_back(links_, i);
    }
  }

  void clear() noexcept {
    links_.clear();
    in_main_.clear();
    small_.clear();
    main_.clear();
    small_size_ = main_size_ = 0;
    ghost_.clear();
  }

 private:
  /// How far ahead of main's front victim() has prefetched: `lead` entries, up to `node`.
  struct scan_cursor {
    std::uint32_t node = detail::npos;
    unsigned lead = 0;
  };
  static constexpr unsigned prefetch_distance = 4;

  /// Prefetches the words of the `prefetch_distance` entries after main's front `i`, which the
  /// scan reads next. On a skewed workload a scan passes dozens of read entries before it finds
  /// an unread one, each on a line that the CPU's caches may not hold (or the other core holds),
  /// and the exclusive section would otherwise wait for them one at a time (docs/performance.md,
  /// "The counter beside the entry").
  void prefetch_ahead(scan_cursor& c, std::uint32_t i) noexcept {
    if (c.lead == 0) c.node = i;  // first step, or the last pass ran off the tail
    while (c.lead < prefetch_distance && c.node != detail::npos) {
      c.node = links_[c.node].next;
      ++c.lead;
      if (c.node != detail::npos) __builtin_prefetch(&words_(c.node), 1);
    }
    --c.lead;  // i leaves the front
  }

  // Reads since insertion or since the entry last came round, capped at detail::counter_max.
  std::uint32_t frequency(std::uint32_t i) const noexcept {
    return detail::counter_in(detail::load_tagged(words_(i)));
  }

  std::uint32_t capacity_ = 0;
  std::uint32_t small_target_ = 1;
  node_hasher hash_;
  NodeWords words_{};
  std::vector<detail::list_links> links_;
  std::vector<std::uint8_t> in_main_;  // per node: 1 in main, 0 in small (not vector<bool>'s bits)
  detail::index_list small_;
  detail::index_list main_;
  std::uint32_t small_size_ = 0;
  std::uint32_t main_size_ = 0;
  detail::ghost_set ghost_;
};

}  // namespace policies
TWAT_CACHE_END_NAMESPACE
