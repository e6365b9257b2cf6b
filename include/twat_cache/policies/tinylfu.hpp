#pragma once
/// W-TinyLFU (Einziger, Friedman and Manes, 2017; as in Caffeine): new entries enter a window LRU
/// of 1 % of the entries; the one leaving the window must win a duel to stay: it is admitted to
/// the main area only when the frequency sketch says it was asked for more often than main's
/// victim, else it goes instead. Main is a segmented LRU: a probation segment, from which an entry
/// read again rises to the protected one (80 % of main), whose overflow falls back to probation.
/// So a burst of new keys cannot flush what is popular, and recency still gets a small window.
///
/// Reads move entries between lists, so hits are recorded and applied later (as for lru).
/// Each entry keeps 32 bits of its key's hash for the sketch (4 bytes): every applied read and
/// every duel would otherwise fetch the key from the map and hash it again.

#include <array>
#include <cstdint>
#include <twat_cache/detail/frequency_sketch.hpp>
#include <twat_cache/detail/index_list.hpp>
#include <twat_cache/policies/node_hash.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace policies {

class tinylfu {
 public:
  /// `capacity`: the cache's maxsize (0: unbounded, nothing is ever evicted: no sketch).
  void configure(std::uint32_t capacity, node_hasher hash) {
    capacity_ = capacity;
    window_target_ = capacity / 100 == 0 ? 1 : capacity / 100;
    main_target_ = capacity > window_target_ ? capacity - window_target_ : 0;
    protected_target_ = main_target_ - main_target_ / 5;
    hash_ = hash;
    if (capacity != 0) sketch_.reset(capacity);
  }

  void reserve(std::uint32_t nodes) {
    detail::ensure_size(links_, nodes);
    detail::ensure_size(segment_of_, nodes);
    if (capacity_ != 0) detail::ensure_size(sketch_keys_, nodes);
  }

  void on_insert(std::uint32_t i) {
    if (capacity_ != 0) {
      sketch_keys_[i] = static_cast<std::uint32_t>(hash_(i) >> 32);
      sketch_.grow_for(sizes_[window] + main_size() + 1);
      sketch_.add(sketch_keys_[i]);
    }
    enter(window, i);
  }

  void on_access(std::uint32_t i) {
    if (capacity_ != 0) sketch_.add(sketch_keys_[i]);
    switch (segment_of_[i]) {
      case window:
        lists_[window].move_to_back(links_, i);
        break;
      case probation:
        leave(i);
        enter(protected_, i);
        if (sizes_[protected_] > protected_target_) {
          const std::uint32_t demoted = lists_[protected_].front();
          leave(demoted);
          enter(probation, demoted);
        }
        break;
      default:
        lists_[protected_].move_to_back(links_, i);
        break;
    }
  }

  void on_remove(std::uint32_t i) noexcept { leave(i); }

  [[nodiscard]] std::uint32_t victim() {
    // While main has room (the cache filling, or entries erased), the window's oldest moves in.
    while (sizes_[window] >= window_target_ && sizes_[window] != 0 && main_size() < main_target_) {
      const std::uint32_t moved = lists_[window].front();
      leave(moved);
      enter(probation, moved);
    }
    if (sizes_[window] == 0 || sizes_[window] < window_target_) return main_victim();
    const std::uint32_t candidate = lists_[window].front();
    const std::uint32_t rival = main_victim();
    if (rival == detail::npos) return candidate;
    if (!admit(sketch_keys_[candidate], sketch_keys_[rival])) return candidate;
    leave(candidate);
    enter(probation, candidate);
    return rival;
  }

  void clear() noexcept {
    links_.clear();
    segment_of_.clear();
    sketch_keys_.clear();
    for (auto& list : lists_)
      list.clear();
    sizes_ = {};
    sketch_.clear();
  }

 private:
  enum segment : std::uint8_t { window, probation, protected_, segment_count };

  std::uint32_t main_size() const noexcept { return sizes_[probation] + sizes_[protected_]; }

  std::uint32_t main_victim() const noexcept {
    if (sizes_[probation] != 0) return lists_[probation].front();
    if (sizes_[protected_] != 0) return lists_[protected_].front();
    return lists_[window].front();
  }

  /// Caffeine's rule: the more frequent wins; a tie keeps the incumbent. But a warm candidate
  /// (more than 5) is let in one time in 128 at random, so an attacker who keeps a victim's count
  /// high cannot lock every newcomer out.
  bool admit(std::uint64_t candidate_key, std::uint64_t victim_key) noexcept {
    const std::uint32_t candidate = sketch_.estimate(candidate_key);
    if (sketch_.estimate_below(victim_key, candidate)) return true;
    if (candidate <= 5) return false;
    return (next_random() & 127) == 0;
  }

  std::uint64_t next_random() noexcept {  // xorshift64*
    random_ ^= random_ >> 12;
    random_ ^= random_ << 25;
    random_ ^= random_ >> 27;
    return random_ * 0x2545F4914F6CDD1DULL;
  }

  void enter(segment s, std::uint32_t i) noexcept {
    lists_[s].push_back(links_, i);
    segment_of_[i] = s;
    ++sizes_[s];
  }
  void leave(std::uint32_t i) noexcept {
    const auto s = static_cast<segment>(segment_of_[i]);
    lists_[s].remove(links_, i);
    --sizes_[s];
  }

  std::uint32_t capacity_ = 0;
  std::uint32_t window_target_ = 1;
  std::uint32_t main_target_ = 0;
  std::uint32_t protected_target_ = 0;
  node_hasher hash_;
  std::vector<detail::list_links> links_;
  std::vector<std::uint8_t> segment_of_;
  std::vector<std::uint32_t> sketch_keys_;  // per node: the high half of its key's hash
  std::array<detail::index_list, segment_count> lists_;  // front of each: its least recently used
  std::array<std::uint32_t, segment_count> sizes_ = {};
  detail::frequency_sketch sketch_;
  std::uint64_t random_ = 0x853C49E6748FEA9BULL;
};

}  // namespace policies
TWAT_CACHE_END_NAMESPACE
