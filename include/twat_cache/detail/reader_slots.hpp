#pragma once
// A reader-writer lock whose readers never write a shared cache line: each thread owns a slot
// (a cache line of its own) per lock, and a reader announces itself in its slot only, so two
// threads hitting the cache scale instead of fighting over a mutex. Writers (misses, evictions)
// take a mutex and wait for every announced reader to leave.
//
// The announcement needs a store-load fence. While writes are frequent it is a locked instruction
// in the reader; while they are rare (a warm cache: the hot path worth having) it moves to the
// writer as an asymmetric heavy_barrier(), and an uncontended hit then runs no locked instruction
// at all. The lock switches between the two by itself from the write rate it sees.
//
// The slot also carries what a reader must record without a shared write: hit and miss counters
// and a buffer of accessed entries, applied to the eviction policy under the writer mutex.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <twat_cache/config.hpp>
#include <twat_cache/detail/heavy_barrier.hpp>
#include <twat_cache/detail/spin_lock.hpp>
#include <twat_cache/detail/writer_gate.hpp>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

/// Small integer ids for threads, reused after a thread exits, so per-lock slot arrays stay small.
class thread_ids {
 public:
  static constexpr std::uint32_t none = 0xFFFFFFFEu;  // a thread past exit: use the slow path

  static std::uint32_t current() noexcept {
    const std::uint32_t id_plus_one = tls_id_plus_one;
    if (TWAT_CACHE_LIKELY(id_plus_one != 0)) return id_plus_one - 1;
    return assign();
  }
  /// current() without assigning: an id past every slot (0xFFFFFFFF) while there is none yet.
  static std::uint32_t current_if_assigned() noexcept { return tls_id_plus_one - 1; }

 private:
  struct registry {
    std::mutex mutex;
    std::vector<std::uint32_t> free;
    std::uint32_t next = 0;
  };
  static registry& global() {
    static auto* r = new registry;  // leaked on purpose: threads may exit after static destructors
    return *r;
  }
  struct releaser {
    std::uint32_t id;
    ~releaser() {
      tls_id_plus_one = none + 1;
      auto& r = global();
      std::lock_guard lock(r.mutex);
      r.free.push_back(id);
    }
  };
  TWAT_CACHE_NOINLINE static std::uint32_t assign() {
    std::uint32_t id;
    {
      auto& r = global();
      std::lock_guard lock(r.mutex);
      if (!r.free.empty()) {
        // Smallest free id first keeps live ids dense below the slot count.
        auto smallest = r.free.begin();
        for (auto it = r.free.begin(); it != r.free.end(); ++it) {
          if (*it < *smallest) smallest = it;
        }
        id = *smallest;
        r.free.erase(smallest);
      } else {
        id = r.next++;
      }
    }
    static thread_local releaser release_at_exit{id};
    tls_id_plus_one = release_at_exit.id + 1;
    return release_at_exit.id;
  }

  // Trivially initialised, so reading it needs no guard: the hot path is one TLS load.
  static inline thread_local std::uint32_t tls_id_plus_one = 0;
};

inline constexpr std::size_t cache_line = 64;

/// One thread's corner of a lock: written by that thread, read by writers and stats().
struct alignas(cache_line) reader_slot {
  std::atomic<std::uint32_t> active{0};
  std::uint32_t buffered = 0;  // access records waiting in `buffer`
  // Stores this thread left pending in the engine (computed, not yet in its map). Like
  // `buffered`: raised by the owner inside a shared section, zeroed under the exclusive lock;
  // atomic (with a load and a store) as stats() reads it at any time.
  std::atomic<std::uint32_t> pending{0};
  // Pending values this thread found since the last batch was applied: owner-raised, zeroed
  // under the exclusive lock, like `buffered`.
  std::uint32_t pending_reads = 0;
  // Locked reader sections until the owner next reviews the lock's mode (see review_mode).
  static constexpr std::uint32_t review_period = 4096;
  std::uint32_t until_review = review_period;
  // Single writer (the owning thread, or a holder of the exclusive lock): updated with a load and
  // a store, never a locked read-modify-write.
  std::atomic<std::uint64_t> hits{0};
  std::atomic<std::uint64_t> misses{0};
  // Access records waiting for the policy, in a buffer only a thread-safe engine whose policy
  // records reads gives its slots (keep_access_records). It starts at
  // TWAT_CACHE_ACCESS_BUFFER_SIZE records and grows to TWAT_CACHE_ACCESS_BUFFER_MAX while other
  // threads apply theirs (grow_buffer). Without one, the capacity is never reached.
  static constexpr std::uint32_t no_buffer = UINT32_MAX;
  std::uint32_t buffer_capacity = no_buffer;
  std::unique_ptr<std::uint32_t[]> buffer;

  TWAT_CACHE_ALWAYS_INLINE static void bump(std::atomic<std::uint64_t>& counter) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  /// Records an access. The owner drains a full buffer right after its lookup; a buffer that
  /// stays full (memory ran out, or it is as big as it gets) drops records, and the policy is
  /// then approximate.
  TWAT_CACHE_ALWAYS_INLINE void record(std::uint32_t handle) noexcept {
    if (buffered < buffer_capacity) buffer[buffered++] = handle;
  }

  void make_buffer() {
    buffer = std::make_unique<std::uint32_t[]>(TWAT_CACHE_ACCESS_BUFFER_SIZE);
    buffer_capacity = TWAT_CACHE_ACCESS_BUFFER_SIZE;
  }

  /// Doubles the buffer, up to TWAT_CACHE_ACCESS_BUFFER_MAX, keeping its records. For the owner,
  /// when another thread is applying its buffer: waiting would stall a hit, and dropping what
  /// comes meanwhile (what a fixed buffer must do) lost 40 % of lru's records on two threads.
  /// Each record applied costs less in a bigger batch, as the policy's lines then cross between
  /// cores once per batch, not once per record. No-op when memory runs out.
  void grow_buffer() noexcept {
    const auto grown = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(std::uint64_t{2} * buffer_capacity, TWAT_CACHE_ACCESS_BUFFER_MAX));
    if (grown <= buffer_capacity) return;
    std::unique_ptr<std::uint32_t[]> bigger(new (std::nothrow) std::uint32_t[grown]);
    if (!bigger) return;
    std::copy_n(buffer.get(), buffered, bigger.get());
    buffer = std::move(bigger);
    buffer_capacity = grown;
  }
};

class reader_slots_lock {
 public:
  static constexpr std::uint32_t max_slots = TWAT_CACHE_MAX_READER_SLOTS;

  reader_slots_lock() = default;
  reader_slots_lock(const reader_slots_lock&) = delete;
  reader_slots_lock& operator=(const reader_slots_lock&) = delete;
  ~reader_slots_lock() {
    for (auto& s : slots_)
      delete s.load(std::memory_order_relaxed);
  }

  /// Gives every slot made from now on an access buffer (reader_slot::buffer). Before any read.
  void keep_access_records() noexcept { keeps_access_records_ = true; }

  /// Enters a shared section and returns this thread's slot, or nullptr when this thread has no
  /// slot (more live threads than max_slots): the caller then takes the exclusive lock instead.
  [[nodiscard]] TWAT_CACHE_ALWAYS_INLINE reader_slot* lock_shared() {
    const std::uint32_t id = thread_ids::current();
    if (TWAT_CACHE_UNLIKELY(id >= max_slots)) return nullptr;
    reader_slot* slot = slots_[id].load(std::memory_order_acquire);
    if (TWAT_CACHE_UNLIKELY(slot == nullptr)) slot = create_slot(id);
    for (;;) {
      // Dekker's handshake with lock(): announce, then look for a writer; at least one of the
      // two sees the other. The reader's half of the fence is either a locked instruction or,
      // while writes are rare, nothing but a compiler barrier, the writer's heavy_barrier()
      // supplying the hardware fence for both.
      if (light_readers_.load(std::memory_order_relaxed)) {
        slot->active.store(1, std::memory_order_relaxed);
        std::atomic_signal_fence(std::memory_order_seq_cst);
        // The mode is read again: a writer that switched readers back to locked instructions
        // skips heavy_barrier() from then on, so a stale light announcement must not stand.
        if (TWAT_CACHE_LIKELY(!gate_.excludes_readers(std::memory_order_acquire) &&
                              light_readers_.load(std::memory_order_relaxed))) {
          return slot;
        }
      } else {
        // exchange, not store: g++ compiles a seq_cst store to mov+mfence, slower than xchg.
        slot->active.exchange(1, std::memory_order_seq_cst);
        if (TWAT_CACHE_LIKELY(!gate_.excludes_readers(std::memory_order_seq_cst))) {
          if (TWAT_CACHE_UNLIKELY(--slot->until_review == 0)) review_mode(*slot);
          return slot;
        }
      }
      slot->active.store(0, std::memory_order_release);
      wait_for_writer();
    }
  }

  /// This thread's slot, or nullptr when it has none yet (or cannot have one). Takes no lock.
  [[nodiscard]] TWAT_CACHE_ALWAYS_INLINE reader_slot* own_slot() const noexcept {
    const std::uint32_t id = thread_ids::current_if_assigned();
    if (TWAT_CACHE_UNLIKELY(id >= max_slots)) return nullptr;
    return slots_[id].load(std::memory_order_acquire);
  }

  /// lock_shared()'s common case alone, on this thread's slot: true when the shared section is
  /// entered, false (nothing held) where lock_shared() would wait for a writer or review the
  /// mode. It calls nothing, so a hit path built on it needs no saved registers.
  [[nodiscard]] TWAT_CACHE_ALWAYS_INLINE bool try_lock_shared(reader_slot* slot) noexcept {
    if (light_readers_.load(std::memory_order_relaxed)) {
      slot->active.store(1, std::memory_order_relaxed);
      std::atomic_signal_fence(std::memory_order_seq_cst);
      if (TWAT_CACHE_LIKELY(!gate_.excludes_readers(std::memory_order_acquire) &&
                            light_readers_.load(std::memory_order_relaxed))) {
        return true;
      }
    } else {
      if (TWAT_CACHE_UNLIKELY(slot->until_review <= 1)) return false;  // lock_shared() reviews
      slot->active.exchange(1, std::memory_order_seq_cst);
      if (TWAT_CACHE_LIKELY(!gate_.excludes_readers(std::memory_order_seq_cst))) {
        --slot->until_review;
        return true;
      }
    }
    slot->active.store(0, std::memory_order_release);
    return false;
  }

  static void unlock_shared(reader_slot* slot) noexcept {
    slot->active.store(0, std::memory_order_release);
  }

  void lock() {
    gate_.lock_excluding();
    wait_out_readers();
  }

  /// lock() in two steps: the writer mutex alone (other writers wait, readers go on), for work
  /// on state that readers never touch; then exclude_readers(), which makes it lock()'s whole.
  /// unlock() ends either.
  void lock_writer() noexcept { gate_.lock(); }
  void exclude_readers() {
    gate_.exclude();
    wait_out_readers();
  }

  void unlock() noexcept { gate_.unlock(); }

  /// How many threads have taken a shared section of this lock so far (a thread that exits and
  /// a new one that reuses its id count once).
  [[nodiscard]] std::uint32_t threads_seen() const noexcept {
    return slots_created_.load(std::memory_order_relaxed);
  }

  /// True while readers announce themselves without a locked instruction (for tests).
  [[nodiscard]] bool light_readers() const noexcept {
    return light_readers_.load(std::memory_order_relaxed) != 0;
  }

  /// Calls f(slot) for every slot created so far. Under lock(), the slots are quiet.
  template <class F>
  void for_each_slot(F&& f) const {
    const std::uint32_t used = slots_used_.load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < used; ++i) {
      if (reader_slot* slot = slots_[i].load(std::memory_order_acquire)) f(*slot);
    }
  }

 private:
  // Light readers pay off when writes come rarely, against what a heavy_barrier() costs here
  // (light_reads_per_write()): switched off when writes average fewer reads than that between
  // them (keep_light_or_not); on after a review period whose writes were 16 times rarer than
  // that (so the mode does not flap: with a bare-metal barrier, at most 4 writes in 4,096 reads).
  static constexpr std::uint64_t light_margin = 16;

  /// True when no thread but the caller can be in a shared section: no slot was ever made, or
  /// the only one is the caller's. Called after lock_excluding()'s fence; a thread that makes a
  /// slot after this read sees the excluding bit before its first announcement (create_slot's
  /// fence), so the caller needs no barrier against it.
  [[nodiscard]] bool caller_is_only_reader() const noexcept {
    const std::uint32_t created = slots_created_.load(std::memory_order_seq_cst);
    return created == 0 || (created == 1 && own_slot() != nullptr);
  }

  /// After readers were told to keep out: waits until none is inside (the Dekker handshake's
  /// writer half), and reviews the lock's mode. Inlined, so lock() stays one call.
  TWAT_CACHE_ALWAYS_INLINE void wait_out_readers() {
    const bool light = light_readers_.load(std::memory_order_relaxed) != 0;
    // A writer that is the only thread with a slot has no reader to fence against: a cache used
    // by one thread keeps fence-free hits however often it writes.
    const bool alone = light && caller_is_only_reader();
    if (light && !alone) full_barrier_on_every_cpu();
    std::uint64_t reads = 0;
    const std::uint32_t used = slots_used_.load(std::memory_order_seq_cst);
    for (std::uint32_t i = 0; i < used; ++i) {
      reader_slot* slot = slots_[i].load(std::memory_order_acquire);
      if (slot == nullptr) continue;
      for (unsigned spins = 0; slot->active.load(std::memory_order_seq_cst) != 0; ++spins) {
        if (spins > 64) std::this_thread::yield();
      }
      reads +=
          slot->hits.load(std::memory_order_relaxed) + slot->misses.load(std::memory_order_relaxed);
    }
    ++writes_;
    if (light && !alone) keep_light_or_not(reads);
    reads_at_last_write_ = reads;
  }

  /// A reader that met a writer: waits until readers may enter (polls, then sleeps).
  TWAT_CACHE_NOINLINE void wait_for_writer() { gate_.wait_for_readers_allowed(); }

  /// A light writer's look at the write rate. Frequent writes make heavy_barrier() dearer than
  /// the locked instructions it saves readers: back to those. "Frequent" follows what the
  /// barrier has cost here, and is judged on the reads between writes averaged over about 8
  /// writes, as misses come at random: one short gap is no trend. Each gap counts for at most
  /// light_margin times what pays, so a long read-only spell is forgotten within some 20 writes;
  /// the average starts there too. A barrier that the scheduler stalled once (a 100 us sample
  /// makes a 0.13 us cost 12.6 us) can still end light readers, until a review (timing a barrier
  /// again now and then) sees the cost fall. Counters zeroed by clear() read as a long gap, which
  /// keeps the mode.
  void keep_light_or_not(std::uint64_t reads) noexcept {
    const std::uint64_t pays =
        light_reads_per_write(heavy_barrier_ns.load(std::memory_order_relaxed));
    const std::uint64_t longest = pays * light_margin;
    const std::uint64_t gap =
        reads >= reads_at_last_write_ ? reads - reads_at_last_write_ : longest;
    light_gap_average_ = (std::min(light_gap_average_, longest) * 7 + std::min(gap, longest)) / 8;
    if (light_gap_average_ < pays) light_readers_.store(0, std::memory_order_relaxed);
  }

  /// A locked reader's periodic look at the write rate: rare writes switch readers to light.
  TWAT_CACHE_NOINLINE void review_mode(reader_slot& slot) {
    slot.until_review = reader_slot::review_period;
    if (!heavy_barrier_available()) return;
    std::unique_lock lock(gate_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    const std::uint64_t writes = writes_ - writes_at_review_;
    writes_at_review_ = writes_;
    if (caller_is_only_reader()) {  // its writes skip the barrier (lock()): light always pays
      light_gap_average_ = UINT64_MAX;
      light_readers_.store(1, std::memory_order_relaxed);
      return;
    }
    const auto rare_enough = [writes](std::uint64_t barrier_ns) {
      return writes * light_margin * light_reads_per_write(barrier_ns) <=
             reader_slot::review_period;
    };
    if (!rare_enough(heavy_barrier_ns.load(std::memory_order_relaxed))) {
      // Rare enough for a cheap barrier but not for the one learned: the cost is learned only
      // while readers are light, so it would never fall again (the threads that made it dear
      // may have stopped). Time one barrier now and then to see; one in 16 such reviews costs
      // less than 0.25 ns a read even at 15 us.
      if (!rare_enough(0) || ++stale_cost_reviews_ % 16 != 0) return;
      if (!timed_heavy_barrier() || !rare_enough(heavy_barrier_ns.load(std::memory_order_relaxed)))
        return;
    }
    light_gap_average_ = UINT64_MAX;  // no gap seen yet: as long as counts (keep_light_or_not)
    light_readers_.store(1, std::memory_order_relaxed);
  }

  static void full_barrier_on_every_cpu() noexcept {
    // Registered successfully, the system call does not fail; should it all the same, retrying
    // is the only answer that keeps readers out of a half-made write.
    while (!timed_heavy_barrier())
      std::this_thread::yield();
  }

  TWAT_CACHE_NOINLINE reader_slot* create_slot(std::uint32_t id) {
    auto fresh = std::make_unique<reader_slot>();
    if (keeps_access_records_) fresh->make_buffer();
    reader_slot* expected = nullptr;
    // Only thread `id` creates slot `id`, but a recycled id may find it made already.
    if (slots_[id].compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel)) {
      expected = fresh.release();
      slots_created_.fetch_add(1, std::memory_order_seq_cst);
      // The new slot before this thread's first announcement: a writer that did not see it
      // counted (caller_is_only_reader) is seen by that announcement's look at the gate.
      std::atomic_thread_fence(std::memory_order_seq_cst);
    }
    std::uint32_t used = slots_used_.load(std::memory_order_seq_cst);
    while (used <= id &&
           !slots_used_.compare_exchange_weak(used, id + 1, std::memory_order_seq_cst)) {
    }
    return expected;
  }

  std::atomic<reader_slot*> slots_[max_slots] = {};
  bool keeps_access_records_ = false;  // set before any slot is made
  std::atomic<std::uint32_t> slots_used_{0};
  std::atomic<std::uint32_t> slots_created_{0};  // threads that have read through this lock
  // Read by every reader, written by writers only: one line, apart from the slot table.
  alignas(cache_line) writer_gate gate_;
  std::atomic<std::uint8_t> light_readers_{0};
  // Guarded by the writer mutex (gate_).
  std::uint64_t writes_ = 0;
  std::uint64_t writes_at_review_ = 0;
  std::uint64_t reads_at_last_write_ = 0;
  std::uint64_t stale_cost_reviews_ = 0;
  std::uint64_t light_gap_average_ = 0;  // reads between writes, while light
};

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
