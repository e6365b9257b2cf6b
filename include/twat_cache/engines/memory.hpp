#pragma once
/// The in-memory engine: every policy (lru, lfu, fifo, rr, s3fifo, tinylfu) with optional ttl, on
/// Boost's unordered_flat_map when available, else on std::unordered_map.
///
/// Layout: key and entry live inline in the hash map, so a hit costs what a raw find costs plus
/// the value copy. Each entry carries a small integer handle; policies, expiry times and the ttl
/// queue keep their bookkeeping in arrays indexed by handle, off the hit path (an int -> int entry
/// is 12 bytes in the map), and a handle -> element table
/// (refreshed when the map rehashes, the only time flat-map elements move) lets a policy's victim
/// be found again.
///
/// Thread safety (thread_safe = true): hits run under a reader_slots_lock, in parallel, writing
/// only the calling thread's own slot, with no locked instruction while writes are rare; accesses
/// are buffered there and applied to the policy by the thread whose buffer fills, and by every
/// writer before it evicts, so eviction order is what the policy says. s3fifo needs no buffer: a
/// hit raises a counter in the entry's own word. Once several threads use a cache, computed
/// values wait in batches (pending_entry); s3fifo chooses a batch's victims before it shuts hits
/// out, so they wait only for the map's part. thread_safe = false takes no lock and applies each
/// access at once.

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <twat_cache/advice.hpp>
#include <twat_cache/config.hpp>
#include <twat_cache/detail/advisor.hpp>
#include <twat_cache/detail/index_list.hpp>
#include <twat_cache/detail/reader_slots.hpp>
#include <twat_cache/detail/single_flight.hpp>
#include <twat_cache/detail/spin_lock.hpp>
#include <twat_cache/detail/store_error.hpp>
#include <twat_cache/detail/tagged_handle.hpp>
#include <twat_cache/key.hpp>
#include <twat_cache/options.hpp>
#include <twat_cache/policies/fifo.hpp>
#include <twat_cache/policies/lfu.hpp>
#include <twat_cache/policies/lru.hpp>
#include <twat_cache/policies/rr.hpp>
#include <twat_cache/policies/s3fifo.hpp>
#include <twat_cache/policies/tinylfu.hpp>
#include <twat_cache/stats.hpp>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#if TWAT_CACHE_WITH_BOOST
#include <boost/unordered/unordered_flat_map.hpp>
#endif

TWAT_CACHE_BEGIN_NAMESPACE
namespace engines {

namespace detail_memory {

/// Counts allocations, so the engine learns when a flat map rehashed (its only allocations),
/// even a rehash to the same bucket count, which boost does to clear out tombstones.
template <class T>
struct counting_allocator {
  using value_type = T;
  std::size_t* allocations;

  explicit counting_allocator(std::size_t* counter) noexcept : allocations(counter) {}
  template <class U>
  counting_allocator(const counting_allocator<U>& other) noexcept  // NOLINT: rebinding
      : allocations(other.allocations) {}

  T* allocate(std::size_t n) {
    ++*allocations;
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>{}.deallocate(p, n); }

  template <class U>
  bool operator==(const counting_allocator<U>& other) const noexcept {
    return allocations == other.allocations;
  }
};

}  // namespace detail_memory

/// Which hash index a memory engine uses.
enum class index_kind : unsigned char { boost_unordered, std_unordered };

inline constexpr index_kind default_index =
    TWAT_CACHE_WITH_BOOST ? index_kind::boost_unordered : index_kind::std_unordered;

template <class Key, class Value, index_kind Index = default_index>
class basic_memory {
  static_assert(TWAT_CACHE_WITH_BOOST || Index == index_kind::std_unordered,
                "index_kind::boost_unordered needs Boost >= 1.81 (TWAT_CACHE_WITH_BOOST)");

 public:
  using key_type = Key;
  using value_type = Value;

  explicit basic_memory(const mcache_options& options = {})
      : options_(options),
        capacity_(options.maxsize ? static_cast<std::uint32_t>(*options.maxsize) : 0),
        ttl_ns_(options.ttl ? options.ttl->count() : 0),
        map_(make_map(&map_allocations_)),
        rr_(detail::rr_seed_for(this)) {
    detail::validate(options_);
    access_ = access_for(options_.policy);
    if (options_.advisor) {
      advisor_ = std::make_unique<advisor_type>(capacity_, options_.policy);
      access_ = access_kind::advised;
    }
    if (options_.thread_safe && (access_ == access_kind::record || access_ == access_kind::advised))
      lock_.keep_access_records();
    // Without a lock, lfu's and tinylfu's reads are buffered too and applied in batches, as a
    // thread-safe engine's are: a batch runs their updates back to back, a hit then costs a
    // store (see drain_access_records for the order kept). lru's relink is cheaper done at once.
    // A buffer of one note would fill on every fast hit (lookup_in keeps one note free).
    if (TWAT_CACHE_ACCESS_BUFFER_SIZE >= 2 && !options_.thread_safe &&
        access_ == access_kind::record && options_.policy != policy::lru) {
      local_slot_.make_buffer();
      access_ = access_kind::record_unlocked;
    }
    // What the hit paths would otherwise test on every call: a ttl and the advisor need get()'s
    // calls, and so does a hit without a lock that applies more than lru's relink at once.
    fast_path_usable_ =
        ttl_ns_ == 0 && access_ != access_kind::advised &&
        (options_.thread_safe || access_ != access_kind::record || options_.policy == policy::lru);
    fast_path_ = fast_path_usable_;
    const policies::node_hasher hasher(this, &node_hash);
    if (options_.policy == policy::s3fifo) s3fifo_.configure(capacity_, hasher, node_words{this});
    if (options_.policy == policy::tinylfu) tinylfu_.configure(capacity_, hasher);
  }
  basic_memory(const basic_memory&) = delete;
  basic_memory& operator=(const basic_memory&) = delete;
  ~basic_memory() { drop_pending(); }

  [[nodiscard]] static constexpr std::string_view name() noexcept {
    return Index == index_kind::boost_unordered ? "boost_unordered" : "std_unordered";
  }

  [[nodiscard]] const mcache_options& options() const noexcept { return options_; }

  /// The value for `key` (or a view of it), counting a hit or a miss.
  template <class K>
  [[nodiscard]] TWAT_CACHE_ALWAYS_INLINE std::optional<Value> get(const K& key) {
    if (!options_.thread_safe) {
      std::optional<Value> result = get_in</*unlocked=*/true>(key, local_slot_);
      // One short of full, as get_fast_unlocked() leaves it: no record is ever dropped here.
      if (TWAT_CACHE_UNLIKELY(local_slot_.buffered + 1 >= local_slot_.buffer_capacity))
        apply_local_records();
      return result;
    }
    return get_locked(key);
  }

  /// get() of an engine made with thread_safe = true (a wrapper that knows it, such as ucache's
  /// engine, saves the test of the option).
  template <class K>
  [[nodiscard]] TWAT_CACHE_ALWAYS_INLINE std::optional<Value> get_locked(const K& key) {
    detail::reader_slot* slot = lock_.lock_shared();
    if (TWAT_CACHE_UNLIKELY(slot == nullptr)) return get_exclusive(key);
    const shared_guard guard{slot};
    std::optional<Value> result = get_in</*unlocked=*/false>(key, *slot);
    if (TWAT_CACHE_UNLIKELY(slot->buffered == slot->buffer_capacity)) drain_own_records(*slot);
    return result;
  }

  /// Whether the engine was made with thread_safe = true, so whether get_fast_locked() or
  /// get_fast_unlocked() is the wrapper's hit path.
  [[nodiscard]] bool thread_safe() const noexcept { return options_.thread_safe; }

  /// get() for the wrapper's hit path, without a call in it (so the path saves few registers),
  /// in an engine made with thread_safe = true: the value on a hit; nullopt with `miss` set on a
  /// miss (counted); nullopt with `miss` clear when get() must answer instead (a ttl, the advisor,
  /// no reader slot yet, a writer, a mode review, an access buffer about to fill). Each of those
  /// is decided before the lookup, so no key is looked up twice.
  template <class K>
  [[nodiscard]] TWAT_CACHE_ALWAYS_INLINE std::optional<Value> get_fast_locked(const K& key,
                                                                              bool& miss) {
    miss = false;
    if (!fast_path_) return std::nullopt;
    detail::reader_slot* slot = lock_.own_slot();
    if (TWAT_CACHE_UNLIKELY(slot == nullptr)) return std::nullopt;
    if (TWAT_CACHE_UNLIKELY(!lock_.try_lock_shared(slot))) return std::nullopt;
    const shared_guard guard{slot};
    // get_locked() drains a buffer that its record fills; this path leaves that to it. Read
    // inside the section: a writer empties every thread's buffer under the exclusive lock. But
    // a buffer as big as it gets, while another thread applies its own, could only drop this
    // record there too: answer here, where slot->record() drops it, at a hit's usual cost.
    if (access_ == access_kind::record && slot->buffered + 1 >= slot->buffer_capacity &&
        !(slot->buffer_capacity >= TWAT_CACHE_ACCESS_BUFFER_MAX && drain_lock_.held()))
      return std::nullopt;
    return lookup_in</*without_calls=*/true, /*unlocked=*/false>(key, *slot, miss);
  }

  /// get_fast_locked() of an engine made with thread_safe = false, which takes no lock: lru's
  /// relink is inlined, lfu's and tinylfu's reads are recorded (get() applies a full buffer).
  template <class K>
  [[nodiscard]] TWAT_CACHE_ALWAYS_INLINE std::optional<Value> get_fast_unlocked(const K& key,
                                                                                bool& miss) {
    miss = false;
    if (!fast_path_) return std::nullopt;
    return lookup_in</*without_calls=*/true, /*unlocked=*/true>(key, local_slot_, miss);
  }

  /// True when `key` has a live entry; counts nothing and leaves the eviction order alone.
  template <class K>
  [[nodiscard]] bool contains(const K& key) {
    return read([&] { return find_live(key) != nullptr || find_pending(key) != nullptr; });
  }

  /// The value for `key` without counting or refreshing it (single flight's second look).
  template <class K>
  [[nodiscard]] std::optional<Value> peek(const K& key) {
    return read([&]() -> std::optional<Value> {
      if (const element* e = find_live(key)) return e->second.value;
      // Set before it was published, and stays until an exclusive section: no lock to copy it.
      if (const pending_entry* p = find_pending(key)) return *p->value;
      return std::nullopt;
    });
  }

  void put(const Key& key, Value value) { put(Key(key), std::move(value)); }

  void put(Key&& key, Value value) {
    const exclusive_guard guard{*this};
    put_locked(std::move(key), std::move(value));
  }

  /// Single flight on the engine's own locks, called by the wrapper after a miss: returns the
  /// value for `key`, from the entry stored since the miss, from a concurrent caller computing
  /// the same key (its value or its exception), or from `compute()`, which it then stores.
  /// Registering needs no exclusive section: the lookup and the registration run in one shared
  /// section, under a spin lock of the key's stripe of the flight table, so no put can come
  /// between them, and a miss takes the exclusive lock once, to store and unlink its flight
  /// (an exclusive holder sees no registrant, so it needs no stripe lock). `make_key()` builds
  /// the owned key (once); `on_store_error(std::exception_ptr)` hears of a failed put, after
  /// which the computed value is returned all the same.
  template <class K, class MakeKey, class Compute, class OnStoreError>
  Value get_or_compute(const K& key, MakeKey&& make_key, Compute&& compute,
                       OnStoreError&& on_store_error) {
    if (!options_.thread_safe) {  // one thread by contract: no one to share
      Key owned = make_key();
      // Only the computation itself can invalidate meanwhile (erase() or clear() count in the
      // key's stripe): then its value rests on what was invalidated and is not stored.
      const std::uint64_t& invalidations = stripe_of(key_hash<Key>{}(owned)).invalidations;
      const std::uint64_t before = invalidations;
      Value value = compute();
      if (invalidations == before) store_reporting(std::move(owned), value, on_store_error);
      return value;
    }
    // Batched stores (see pending_entry) once a second thread has used the cache; the key is
    // built in its pending entry at once, so the flight can point at it and nothing moves later.
    std::unique_ptr<pending_entry> node;
    std::optional<Key> owned_here;
    const std::uint32_t batch = ttl_ns_ == 0 ? pending_batch_for(lock_.threads_seen()) : 1;
    if (batch > 1) {
      node = std::make_unique<pending_entry>(make_key());
    } else {
      owned_here.emplace(make_key());
    }
    Key& owned = node ? node->key : *owned_here;
    auto compute_alone = [&] {
      Value value = compute();
      store_reporting(Key(owned), value, on_store_error);
      return value;
    };
    const std::uint64_t hash = node ? node->hash : key_hash<Key>{}(owned);  // hashed once
    flight_stripe& stripe = stripe_of(hash);
    flight_type me(&owned, hash);
    std::optional<Value> stored;
    bool flush_found = false;
    flight_type* leader = nullptr;
    auto register_or_join = [&](detail::reader_slot* slot) {
      if (const element* e = find_live(key)) {  // stored since our miss
        stored.emplace(e->second.value);
        recount_miss_as_hit(slot);
        return;
      }
      const std::lock_guard hold(stripe.lock);
      if (pending_entry* p = find_pending_locked(key, hash)) {
        stored.emplace(*p->value);
        p->read_again = true;
        recount_miss_as_hit(slot);
        // Reads of pending values count toward a flush as stores do: a hot value left pending
        // by a thread that then stopped missing would otherwise take this path until some
        // thread's next batch of stores, which a read-only spell may never bring.
        if (slot != nullptr) {
          ++slot->pending_reads;
          p->read_order = slot->pending_reads + slot->pending.load(std::memory_order_relaxed);
          if (slot->pending_reads >= batch) flush_found = true;
        } else {
          p->read_order = max_pending_place;
        }
        return;
      }
      for (flight_type* f = stripe.head; f != nullptr; f = f->next) {
        // A flight begun before an invalidation of its key computes from what was invalidated.
        if (f->hash == hash && f->generation == stripe.invalidations &&
            key_equal<Key>{}(*f->key, key)) {
          leader = f;
          break;
        }
      }
      if (leader == nullptr) {
        me.generation = stripe.invalidations;
        me.next = stripe.head;
        stripe.head = &me;
      } else if (leader->owner != me.owner) {
        ++leader->waiters;  // read by the leader under this stripe lock, or the exclusive lock
      }
    };
    read_with_slot(register_or_join);
    if (stored) {
      if (flush_found) apply_pending_now(batch, on_store_error);
      return std::move(*stored);
    }
    if (leader != nullptr) {
      if (leader->owner == me.owner) return compute_alone();  // re-entrant: never wait on ourselves
      std::unique_lock lock(flight_mutex_);
      return leader->follow_joined(lock, flight_landed_);
    }

    std::optional<Value> value;
    std::exception_ptr error;
    try {
      value.emplace(compute());
    } catch (...) {
      error = std::current_exception();
    }
    std::exception_ptr store_error;
    unsigned followers = 0;
    bool published = false;  // left pending, in one step with the flight's unlinking
    bool flush = false;
    if (node && value) {
      try {
        node->value.emplace(*value);
      } catch (...) {
        store_error = std::current_exception();
      }
      if (node->value) {
        if (detail::reader_slot* slot = lock_.lock_shared()) {
          const shared_guard guard{slot};
          const std::lock_guard hold(stripe.lock);
          me.unlink(stripe.head);
          followers = me.waiters;                       // final: joining takes this stripe lock
          if (me.generation == stripe.invalidations) {  // else invalidated: not stored
            const std::uint32_t mine = slot->pending.load(std::memory_order_relaxed) + 1;
            slot->pending.store(mine, std::memory_order_relaxed);
            flush = mine >= batch;
            node->order = mine + slot->pending_reads;
            node->next = stripe.pending;
            stripe.pending = node.release();
          }
          published = true;
        }
      }
    }
    if (!published) {
      const exclusive_guard guard{*this};
      if (value && !store_error && me.generation == stripe.invalidations) {
        try {
          put_locked(std::move(owned), Value(*value));
        } catch (...) {
          store_error = std::current_exception();
        }
      }
      me.unlink(stripe.head);
      followers = me.waiters;  // final: joining takes a shared section, and none is open now
    }
    if (followers != 0) {
      std::unique_lock lock(flight_mutex_);
      me.land(lock, flight_landed_, value ? &*value : nullptr, error);
    }
    if (flush) apply_pending_now(batch, on_store_error);
    if (error) std::rethrow_exception(error);
    if (store_error) on_store_error(store_error);
    return std::move(*value);
  }

  template <class K>
  bool erase(const K& key) {
    const exclusive_guard guard{*this};
    ++stripe_of(key_hash<Key>{}(key)).invalidations;  // a computation of `key` now stores nothing
    // A pending store of `key` is erased with it. One that fails is counted (stats().errors) and
    // logged, as the wrapper does with the stores it makes: no caller is left to hear of it.
    apply_pending([this](std::exception_ptr error) {
      store_errors_.fetch_add(1, std::memory_order_relaxed);
      detail::log_store_error(name(), error);
    });
    drain_access_records();
    const auto it = map_.find(key);
    if (it == map_.end()) return false;
    // An expired entry goes too, but was not there for the caller, as contains() says.
    const bool live = ttl_ns_ == 0 || expires_at_[handle_of(it->second)] > now_ns();
    remove(it);
    return live;
  }

  /// Drops every entry and zeroes the counters.
  void clear() {
    const exclusive_guard guard{*this};
    for (flight_stripe& stripe : flight_stripes_)
      ++stripe.invalidations;  // computations running now store nothing
    drop_pending();
    map_.clear();
    element_of_.clear();
    free_handle_ = detail::npos;
    handle_capacity_ = 0;
    lru_.clear();
    lfu_.clear();
    fifo_.clear();
    rr_.clear();
    s3fifo_.clear();
    tinylfu_.clear();
    age_order_.clear();
    age_links_.clear();
    expires_at_.clear();
    lock_.for_each_slot([](detail::reader_slot& s) { reset_slot(s); });
    reset_slot(local_slot_);
    // Only an engine without a lock closes its fast path; a thread-safe one's hits read the
    // flag outside any lock, so it is never written after construction.
    if (!options_.thread_safe) fast_path_ = fast_path_usable_;
    if (advisor_) advisor_->clear();
    for (auto* counter :
         {&overflow_hits_, &overflow_misses_, &evictions_, &expirations_, &size_, &store_errors_}) {
      counter->store(0, std::memory_order_relaxed);
    }
  }

  /// True while hits announce themselves without a locked instruction (writes are rare, and the
  /// platform has an asymmetric fence). Diagnostic: the lock switches by itself.
  [[nodiscard]] bool light_readers() const noexcept { return lock_.light_readers(); }

  /// Computed values held pending, not yet in the map (see pending_entry). Diagnostic.
  [[nodiscard]] std::uint64_t pending_stores() const noexcept {
    std::uint64_t pending = 0;
    lock_.for_each_slot([&pending](const detail::reader_slot& slot) {
      pending += slot.pending.load(std::memory_order_relaxed);
    });
    return pending;
  }

  /// What-if: the hit ratio of every policy at 0.5x, 1x and 2x maxsize on this cache's keys so far.
  /// Needs mcache_options::advisor (else config_error).
  [[nodiscard]] cache_advice advise() const {
    if (!advisor_) {
      const std::string which =
          options_.name.empty() ? std::string("the cache") : "cache \"" + options_.name + "\"";
      throw config_error("advise(): " + which + " was made without mcache_options.advisor = true");
    }
    if (!options_.thread_safe) return advisor_->report();
    std::lock_guard lock(lock_);  // exclusive: buffers are applied, and the advisor fed, by readers
    return advisor_->report();
  }

  [[nodiscard]] cache_stats stats() const {
    cache_stats s;
    s.hits = local_slot_.hits.load(std::memory_order_relaxed) +
             overflow_hits_.load(std::memory_order_relaxed);
    s.misses = local_slot_.misses.load(std::memory_order_relaxed) +
               overflow_misses_.load(std::memory_order_relaxed);
    std::uint64_t pending = 0;  // stores held pending (see pending_entry), counted in one walk
    lock_.for_each_slot([&s, &pending](const detail::reader_slot& slot) {
      s.hits += slot.hits.load(std::memory_order_relaxed);
      s.misses += slot.misses.load(std::memory_order_relaxed);
      pending += slot.pending.load(std::memory_order_relaxed);
    });
    s.evictions = evictions_.load(std::memory_order_relaxed);
    s.expirations = expirations_.load(std::memory_order_relaxed);
    // Pending stores are held too; applied, each makes room for itself, so never past maxsize.
    s.size = size_.load(std::memory_order_relaxed) + pending;
    if (capacity_ != 0 && s.size > capacity_) s.size = capacity_;
    s.capacity = capacity_;
    s.errors = store_errors_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  struct entry {
    Value value;
    // The handle (an index into the policy's, expiry and the ttl queue's arrays) and s3fifo's
    // read counter: see detail/tagged_handle.hpp. Read it through handle_of().
    std::uint32_t word;
  };
  [[nodiscard]] static TWAT_CACHE_ALWAYS_INLINE std::uint32_t handle_of(const entry& e) noexcept {
    return detail::handle_in(detail::load_tagged(e.word));
  }
  // Flat-map elements move when the map rehashes; std::unordered_map's never do.
  static constexpr bool elements_move = Index == index_kind::boost_unordered;
#if TWAT_CACHE_WITH_BOOST
  using map_type = std::conditional_t<
      elements_move,
      boost::unordered_flat_map<Key, entry, key_hash<Key>, key_equal<Key>,
                                detail_memory::counting_allocator<std::pair<const Key, entry>>>,
      std::unordered_map<Key, entry, key_hash<Key>, key_equal<Key>>>;
#else
  using map_type = std::unordered_map<Key, entry, key_hash<Key>, key_equal<Key>>;
#endif

  static map_type make_map(std::size_t* allocations) {
    if constexpr (elements_move) {
      return map_type(0, key_hash<Key>{}, key_equal<Key>{},
                      typename map_type::allocator_type(allocations));
    } else {
      return map_type();
    }
  }
  using element = typename map_type::value_type;

  // ---- reads ---------------------------------------------------------------------------------
  std::int64_t now_ns() const {
    const auto t = options_.clock ? options_.clock() : std::chrono::steady_clock::now();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }

  template <class K>
  TWAT_CACHE_ALWAYS_INLINE const element* find_live(const K& key) const {
    const auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    if (ttl_ns_ != 0 && expires_at_[handle_of(it->second)] <= now_ns()) return nullptr;
    return &*it;
  }

  /// Runs a read-only lookup under the shared lock (or none, or the exclusive one).
  template <class F>
  auto read(F&& lookup) {
    if (!options_.thread_safe) return lookup();
    return read_with_slot([&lookup](detail::reader_slot*) { return lookup(); });
  }

  /// read(), for a thread-safe engine, handing `lookup` this thread's slot (nullptr when the
  /// thread has none and the exclusive lock is held instead).
  template <class F>
  auto read_with_slot(F&& lookup) {
    detail::reader_slot* slot = lock_.lock_shared();
    if (slot == nullptr) {
      std::lock_guard lock(lock_);
      return lookup(slot);
    }
    const shared_guard guard{slot};
    return lookup(slot);
  }

  /// The lookup proper, inside whatever lock the caller holds. `unlocked`: the engine has no
  /// lock (thread_safe = false, so no other thread can be here): lru relinks at once, and the
  /// advisor is fed at once; else every access is recorded in the slot, applied later.
  template <bool unlocked, class K>
  TWAT_CACHE_ALWAYS_INLINE std::optional<Value> get_in(const K& key, detail::reader_slot& slot) {
    bool miss = false;
    return lookup_in</*without_calls=*/false, unlocked>(key, slot, miss);
  }

  /// get_in(), and get_fast()'s lookup. `without_calls`: the caller has ruled out what needs a
  /// call (a ttl, the advisor, an unlocked record other than lru's relink or a note), so this
  /// compiles to none. `miss` is set on a miss.
  template <bool without_calls, bool unlocked, class K>
  TWAT_CACHE_ALWAYS_INLINE std::optional<Value> lookup_in(const K& key, detail::reader_slot& slot,
                                                          bool& miss) {
    const auto counted_miss = [&]() -> std::optional<Value> {
      detail::reader_slot::bump(slot.misses);
      miss = true;
      return std::nullopt;
    };
    const element* e;
    if constexpr (without_calls) {  // the end test on the iterator itself: one compare less
      const auto it = map_.find(key);
      if (it == map_.end()) return counted_miss();
      e = &*it;
    } else {
      e = find_live(key);
      if (e == nullptr) return counted_miss();
    }
    std::optional<Value> result(std::in_place, e->second.value);
    const std::uint32_t word = detail::load_tagged(e->second.word);
    const std::uint32_t handle = detail::handle_in(word);
    if (access_ == access_kind::touch) {  // the default policy's kind, tested first
      detail::count_read(e->second.word, word);
    } else if constexpr (!unlocked) {
      if (access_ == access_kind::record) {
        slot.record(handle);
      } else if constexpr (!without_calls) {
        if (access_ == access_kind::advised) advised_access(handle, slot, /*apply_now=*/false);
      }
    } else if (access_ >= access_kind::record) {  // one test leaves fifo and rr (none)
      if (access_ == access_kind::record) {
        if constexpr (without_calls) {
          lru_.on_access(handle);  // only lru gets here
        } else {
          apply_access(handle);
        }
      } else if (access_ == access_kind::record_unlocked) {
        slot.record(handle);
        // The note before the last: get() takes the next hit, and applies the full buffer (this
        // path makes no call). Tested here, not before the lookup, where fifo's and s3fifo's
        // hits would pay for it.
        if constexpr (without_calls) {
          if (TWAT_CACHE_UNLIKELY(slot.buffered + 1 >= slot.buffer_capacity)) fast_path_ = false;
        }
      } else if constexpr (!without_calls) {
        advised_access(handle, slot, /*apply_now=*/true);
      }
    }
    detail::reader_slot::bump(slot.hits);
    return result;
  }

  template <class K>
  TWAT_CACHE_NOINLINE std::optional<Value> get_exclusive(const K& key) {
    const exclusive_guard guard{*this};
    const element* e = find_live(key);
    if (e == nullptr) {
      overflow_misses_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    overflow_hits_.fetch_add(1, std::memory_order_relaxed);
    if (access_ != access_kind::none) {
      const std::uint32_t h = handle_of(e->second);
      apply_access(h);
      if (advisor_) advisor_->feed(node_hash(this, h));
    }
    return e->second.value;
  }

  // ---- policy --------------------------------------------------------------------------------
  /// What a hit does for the policy: nothing (fifo, rr), raise a counter in place, safe under the
  /// shared lock (s3fifo), or record the access to be applied later (the rest: drain_own_records;
  /// lru without a lock relinks at once). `record_unlocked`: lfu and tinylfu without a lock,
  /// recorded in the engine's own buffer (applied by get() when full, and before every write).
  /// `advised`: recorded whatever the policy, for the advisor's shadows too. A cache without the
  /// advisor never reaches that branch, so it costs nothing there.
  /// In this order: lookup_in() tests `>= record` for the last three.
  enum class access_kind : std::uint8_t { none, touch, record, record_unlocked, advised };
  static access_kind access_for(policy p) noexcept {
    switch (p) {
      case policy::fifo:
      case policy::rr:
        return access_kind::none;
      case policy::s3fifo:
        return access_kind::touch;
      default:
        return access_kind::record;
    }
  }

  /// The hash of a node's key, for the policies that keep hashes (s3fifo's ghost, tinylfu's
  /// sketch). Called by the policy from a writer or a drain, when the node's element is in place.
  static std::uint64_t node_hash(const void* self, std::uint32_t h) {
    return key_hash<Key>{}(static_cast<const basic_memory*>(self)->element_of_[h].item->first);
  }
  /// A live node's tagged word, for s3fifo's counter: read and written by writers (the eviction
  /// scan), and raised by an advised cache's drain.
  struct node_words {
    basic_memory* self;
    TWAT_CACHE_ALWAYS_INLINE std::uint32_t& operator()(std::uint32_t h) const noexcept {
      return self->element_of_[h].item->second.word;
    }
  };

  /// Calls f(the active policy): every policy has the same interface, so one switch serves all.
  template <class F>
  decltype(auto) with_policy(F&& f) {
    switch (options_.policy) {
      case policy::lfu:
        return f(lfu_);
      case policy::fifo:
        return f(fifo_);
      case policy::rr:
        return f(rr_);
      case policy::s3fifo:
        return f(s3fifo_);
      case policy::tinylfu:
        return f(tinylfu_);
      default:
        return f(lru_);
    }
  }
  void policy_reserve(std::uint32_t n) {
    with_policy([n](auto& p) { p.reserve(n); });
  }
  // On the hit path without thread safety: the policies that see reads, tested directly, lru
  // first (a full with_policy switch costs a hit about 1 ns more).
  void apply_access(std::uint32_t h) {
    if (options_.policy == policy::lru) {
      lru_.on_access(h);
    } else if (options_.policy == policy::s3fifo) {
      s3fifo_.on_access(h);
    } else if (options_.policy == policy::lfu) {
      lfu_.on_access(h);
    } else if (options_.policy == policy::tinylfu) {
      tinylfu_.on_access(h);
    }
  }
  void policy_insert(std::uint32_t h) {
    with_policy([h](auto& p) { p.on_insert(h); });
  }
  void policy_remove(std::uint32_t h) noexcept {
    with_policy([h](auto& p) noexcept { p.on_remove(h); });
  }
  std::uint32_t policy_victim() noexcept {
    return with_policy([](auto& p) noexcept { return p.victim(); });
  }

  /// Applies this thread's full access buffer, inside the caller's shared section: policy
  /// bookkeeping is never read by a hit, so other threads' hits run on, and a writer, which
  /// waits for every shared section to end, never meets a drain (nor has to take a lock of its
  /// own for the policy). The handles recorded are live: every writer drains all buffers before
  /// it removes anything. Drains exclude each other by drain_lock_, not by the writer mutex,
  /// which every hit reads and which would then bounce between cores on every drain. When
  /// another thread is draining, the buffer grows instead, and only a buffer that cannot grow
  /// drops later records until a later call drains it (lossy, as Caffeine's read buffers are):
  /// a hit never waits.
  TWAT_CACHE_NOINLINE void drain_own_records(detail::reader_slot& slot) {
    // A guard: the advisor's feed may throw (bad_alloc), and a drain_lock_ left held would make
    // every later drain drop its records.
    std::unique_lock lock(drain_lock_, std::try_to_lock);
    if (!lock.owns_lock()) {
      slot.grow_buffer();  // another thread is applying its buffer: hold more meanwhile
      return;
    }
    apply_records(slot);
  }

  void apply_records(detail::reader_slot& s) {
    // One dispatch per buffer, not per record: each policy's loop inlines its on_access.
    with_policy([&s](auto& p) {
      if constexpr (requires { p.on_access_all(s.buffer.get(), s.buffer.get()); }) {
        p.on_access_all(s.buffer.get(), s.buffer.get() + s.buffered);
      } else {
        for (std::uint32_t k = 0; k < s.buffered; ++k)
          p.on_access(s.buffer[k]);
      }
    });
    if (advisor_) {
      for (std::uint32_t k = 0; k < s.buffered; ++k)
        advisor_->feed(node_hash(this, s.buffer[k]));
    }
    s.buffered = 0;
  }

  TWAT_CACHE_NOINLINE void advised_access(std::uint32_t h, detail::reader_slot& slot,
                                          bool apply_now) {
    if (!apply_now) {
      slot.record(h);
      return;
    }
    apply_access(h);
    advisor_->feed(node_hash(this, h));
  }

  /// Applies every buffered access, in slot order. Caller holds the exclusive lock. Every write
  /// that reads the policy's order or removes an entry calls this first, so the handles recorded
  /// are live, and an engine without a lock evicts what applying each read at once would have.
  void drain_access_records() {
    // Empty buffers are skipped: on a miss (which drains) they are the rule, and a buffer's
    // dispatch to the policy cost a miss ~30 instructions for nothing.
    lock_.for_each_slot([this](detail::reader_slot& s) {
      if (s.buffered != 0) apply_records(s);
    });
    if (local_slot_.buffered != 0) apply_local_records();
  }

  /// Applies an engine's buffer without a lock (thread_safe = false), reopening the fast path
  /// that a nearly full buffer closed.
  void apply_local_records() {
    apply_records(local_slot_);
    fast_path_ = fast_path_usable_;
  }

  // ---- writes (exclusive) --------------------------------------------------------------------
  /// Stores `value` for `key` (exclusive lock held) and returns the entry's handle.
  std::uint32_t put_locked(Key&& key, Value&& value) {
    drain_access_records();
    const std::int64_t now = ttl_ns_ != 0 ? now_ns() : 0;
    if (ttl_ns_ != 0) purge_expired(now);
    if (const auto it = map_.find(key); it != map_.end()) {
      entry& e = it->second;
      e.value = std::move(value);
      const std::uint32_t h = handle_of(e);
      if (ttl_ns_ != 0) {
        expires_at_[h] = now + ttl_ns_;
        age_order_.move_to_back(age_links_, h);
      }
      apply_access(h);
      return h;
    }
    if (capacity_ != 0 && map_.size() >= capacity_) evict_one();
    return insert_new(std::move(key), std::move(value), now);
  }

  template <class OnStoreError>
  void store_reporting(Key&& key, const Value& value, OnStoreError& on_store_error) noexcept {
    try {
      put(std::move(key), value);
    } catch (...) {
      on_store_error(std::current_exception());
    }
  }

  // ---- single flight (flights live in the stripes below) -------------------------------------
  using flight_type = detail::flight<Key, Value>;

  // ---- pending stores ------------------------------------------------------------------------
  // Once a second thread uses the cache, a computed value is not stored at once: it is left
  // pending in its key's flight stripe, where a miss on that key finds it (under the stripe's
  // spin lock, as it finds a flight), and a thread's pending_batch_for()-th pending store
  // applies every pending store in one exclusive section. An exclusive section moves a handful
  // of cache lines between cores (the lock, the other threads' slots, the map's header), which
  // on a VM costs more than a 1-us function: batching shares that cost out. Without a ttl only,
  // so that an entry's expiry counts from its computation.
  struct pending_entry {
    explicit pending_entry(Key&& k) : key(std::move(k)), hash(key_hash<Key>{}(key)) {}
    Key key;
    std::optional<Value> value;  // set once computed
    std::uint64_t hash;
    pending_entry* next = nullptr;           // in its stripe's list
    pending_entry* next_in_batch = nullptr;  // in its place's list: see file_by_order()
    // Its place among its thread's pending stores and reads, and that of its last read (0:
    // unread): see file_by_order().
    std::uint32_t order = 0;
    std::uint32_t read_order = 0;
    std::uint32_t filed_read_order = 0;   // read_order when its batch was filed
    std::uint32_t victim = detail::npos;  // planned by choose_victims(), npos: none planned
    bool read_again = false;              // found by a miss while pending: an access for the policy
    bool planned = false;  // choose_victims() chose its victim (if any) and its queue
    bool to_main = false;  // planned into s3fifo's main queue (its key was a ghost)
  };
  static constexpr std::uint32_t max_pending_batch = 16;
  /// A thread's stores and reads of pending values since the last batch, at most a batch each.
  static constexpr std::uint32_t max_pending_place = 2 * max_pending_batch;
  /// A batch's entries by their place among their thread's pending stores and reads, each place
  /// a list through next_in_batch: the order apply_pending() stores them in. An entry read while
  /// pending takes the place of its last read (filed_read_order): stores made one at a time
  /// would have let that read hit only what the stores computed before it left, so the stores
  /// computed after the entry must not evict it after the read.
  using pending_by_order = std::array<pending_entry*, max_pending_place + 1>;
  /// Files `entry` at the head of its place's list. Walking the stripes and their lists in the
  /// same order then gives the same order to the same entries, whatever joined them since.
  static void file_by_order(pending_by_order& by_order, pending_entry* entry) noexcept {
    pending_entry*& place = by_order[std::min<std::size_t>(
        std::max(entry->order, entry->filed_read_order), max_pending_place)];
    entry->next_in_batch = place;
    place = entry;
  }
  /// Stores a thread leaves pending before it applies them all: 16, fewer in a small cache, so
  /// that every thread's batch together stays within a 64th of maxsize (s3fifo's small queue
  /// is a tenth: a batch must not push its own entries out before they can be read again).
  /// 1 (one thread so far, or a cache too small): no batching.
  std::uint32_t pending_batch_for(std::uint32_t threads) const noexcept {
    if (threads < 2) return 1;
    if (capacity_ == 0) return max_pending_batch;
    return static_cast<std::uint32_t>(
        std::min<std::uint64_t>(max_pending_batch, capacity_ / (std::uint64_t{64} * threads)));
  }

  struct flight_stripe;
  /// The flight stripe of a key's hash (detail::stripe_index: even a weak hash spreads).
  flight_stripe& stripe_of(std::uint64_t hash) noexcept {
    return flight_stripes_[detail::stripe_index(hash, flight_stripe_bits)];
  }

  /// The pending entry for `key` (whose hash is `hash`) in its stripe, whose lock the caller
  /// holds (or the exclusive lock).
  template <class K>
  pending_entry* find_pending_locked(const K& key, std::uint64_t hash) {
    for (pending_entry* p = stripe_of(hash).pending; p != nullptr; p = p->next) {
      if (p->hash == hash && key_equal<Key>{}(p->key, key)) return p;
    }
    return nullptr;
  }
  /// The same, taking the stripe lock (inside a shared section: the entry then stays).
  template <class K>
  const pending_entry* find_pending(const K& key) {
    const std::uint64_t hash = key_hash<Key>{}(key);
    const std::lock_guard hold(stripe_of(hash).lock);
    return find_pending_locked(key, hash);
  }

  /// A miss (counted by get()) whose value was stored or left pending by another thread before
  /// it could compute it: counted as the hit it is.
  void recount_miss_as_hit(detail::reader_slot* slot) noexcept {
    // A clear() since the miss zeroed the counters: then there is no miss to take back.
    if (slot == nullptr) {  // counted by get_exclusive()
      if (overflow_misses_.load(std::memory_order_relaxed) != 0)
        overflow_misses_.fetch_sub(1, std::memory_order_relaxed);
      overflow_hits_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (const std::uint64_t misses = slot->misses.load(std::memory_order_relaxed); misses != 0)
      slot->misses.store(misses - 1, std::memory_order_relaxed);
    detail::reader_slot::bump(slot->hits);
  }

  /// Stores every pending entry, each thread's in the order it computed them (every thread's
  /// first, then every thread's second, ...), so that a batch evicts (and leaves in the policy's
  /// order) what the thread's stores made one by one would have. In the stripes' order instead,
  /// rr could evict the value a thread had just computed with a store it computed before.
  /// Caller holds the exclusive lock, so no stripe lock is needed: stripes change only inside
  /// shared sections. A store that fails goes to `on_error` and the others go on.
  template <class OnError>
  void apply_pending(OnError&& on_error) noexcept {
    // One list per place in a thread's batch: a bucket sort, which allocates nothing.
    pending_by_order by_order{};
    for (flight_stripe& stripe : flight_stripes_) {
      for (pending_entry* entry = std::exchange(stripe.pending, nullptr); entry != nullptr;
           entry = entry->next) {
        if (!entry->planned) entry->filed_read_order = entry->read_order;  // planned: as planned
        file_by_order(by_order, entry);
      }
    }
    for (pending_entry* place : by_order) {
      while (place != nullptr) {
        const std::unique_ptr<pending_entry> entry(std::exchange(place, place->next_in_batch));
        try {
          const std::uint32_t h = entry->planned
                                      ? store_planned(*entry)
                                      : put_locked(std::move(entry->key), std::move(*entry->value));
          if (entry->read_again) apply_access(h);
        } catch (...) {
          try {
            on_error(std::current_exception());
          } catch (...) {  // a logger that throws must not lose the other entries
          }
        }
      }
    }
    reset_pending_counts();
  }

  /// apply_pending() in an exclusive section of its own (a full batch, stored or read). For
  /// s3fifo, the batch's victims are chosen first, under the writer mutex alone, while other
  /// threads' hits go on (see choose_victims): on two threads the exclusive section is what
  /// their hits wait for.
  template <class OnError>
  void apply_pending_now(std::uint32_t batch, OnError&& on_error) {
    if (!chooses_victims_early()) {
      const exclusive_guard guard{*this};
      if (flush_still_due(batch)) apply_pending(on_error);
      return;
    }
    struct writer_guard {
      detail::reader_slots_lock& lock;
      ~writer_guard() { lock.unlock(); }
    };
    lock_.lock_writer();
    const writer_guard guard{lock_};
    if (!flush_still_due(batch)) return;
    choose_victims();
    lock_.exclude_readers();
    apply_pending(on_error);
  }

  /// Whether the calling thread's batch is still to be applied, once it holds the writer mutex:
  /// another thread's batch applies every thread's pending stores, and resets their counts.
  [[nodiscard]] bool flush_still_due(std::uint32_t batch) const noexcept {
    const detail::reader_slot* slot = lock_.own_slot();
    return slot == nullptr || slot->pending.load(std::memory_order_relaxed) >= batch ||
           slot->pending_reads >= batch;
  }

  /// Whether a batch's victims can be chosen before readers are shut out: s3fifo's queues and
  /// ghost are touched by writers only, and it reads and writes the counters that hits raise
  /// with relaxed atomics. Not with the advisor (its drains feed s3fifo from shared sections),
  /// nor without maxsize (nothing is evicted). Pending stores exist only without a ttl.
  [[nodiscard]] bool chooses_victims_early() const noexcept {
    return options_.thread_safe && options_.policy == policy::s3fifo && !advisor_ && capacity_ != 0;
  }

  /// Plans the pending stores as apply_pending() will store them, one at a time: for each, in
  /// that order, the entry it will evict, which it takes out of s3fifo's queues (victim_before:
  /// the stores planned before it count as in the small queue already), and the queue it will
  /// enter (its key's ghost is taken now, as the insert would). So the batch evicts what the
  /// same stores made one by one in the exclusive section would; the map is changed only there.
  /// Planning stops at a store it cannot plan so: over a key that has an entry (a read for the
  /// policy), into main (a victim taken later would have to see it there), or one that would
  /// evict a store of the batch itself; from there on, each store asks the policy as it goes.
  /// Caller holds the writer mutex alone: readers only read the map and the pending entries'
  /// keys (each stripe's list grows at its head, under the stripe's lock; a store pending since
  /// is stored unplanned), and raise counters.
  void choose_victims() noexcept {
    pending_by_order by_order{};
    for (flight_stripe& stripe : flight_stripes_) {
      // Under the stripe's lock: hits of pending values set read_order (and read_again) under it.
      const std::lock_guard hold(stripe.lock);
      for (pending_entry* p = stripe.pending; p != nullptr; p = p->next) {
        p->filed_read_order = p->read_order;
        file_by_order(by_order, p);
      }
    }
    std::uint64_t entries = map_.size();  // once the stores planned so far are in
    std::uint32_t waiting = 0;            // of those, new entries of the small queue
    for (pending_entry* place : by_order) {
      for (pending_entry* p = place; p != nullptr; p = p->next_in_batch) {
        if (map_.find(p->key) != map_.end()) return;
        std::uint32_t victim = detail::npos;
        if (entries >= capacity_) {
          bool decided = true;
          victim = s3fifo_.victim_before(waiting, decided);
          if (!decided) return;
          if (victim != detail::npos) {
            s3fifo_.on_remove(victim);
            --entries;
          }
        }
        p->victim = victim;
        p->to_main = s3fifo_.takes_ghost(p->hash);
        p->planned = true;
        ++entries;
        if (p->to_main) return;
        ++waiting;
      }
    }
  }

  /// A planned store (choose_victims): its victim, out of the policy's queues already, leaves
  /// the map, and its entry goes into the queue planned. Exclusive lock held.
  std::uint32_t store_planned(pending_entry& p) {
    drain_access_records();
    if (p.victim != detail::npos) {
      evict(p.victim, /*listed=*/false);
    } else if (map_.size() >= capacity_) {  // stores pending since were stored before it
      evict_one();
    }
    return insert_new(std::move(p.key), std::move(*p.value), 0,
                      p.to_main ? placed::s3fifo_main : placed::s3fifo_small);
  }

  /// Deletes every pending entry unstored (clear(), the destructor).
  void drop_pending() noexcept {
    for (flight_stripe& stripe : flight_stripes_) {
      while (stripe.pending != nullptr)
        delete std::exchange(stripe.pending, stripe.pending->next);
    }
    reset_pending_counts();
  }

  /// No entry is pending any more: every thread's counts of them start again.
  void reset_pending_counts() noexcept {
    lock_.for_each_slot([](detail::reader_slot& s) {
      s.pending.store(0, std::memory_order_relaxed);
      s.pending_reads = 0;
    });
  }
  std::uint32_t allocate_handle() {
    if (free_handle_ != detail::npos) {
      const std::uint32_t h = free_handle_;
      free_handle_ = element_of_[h].next_free;
      return h;
    }
    const auto h = static_cast<std::uint32_t>(element_of_.size());
    if (h >= detail::max_memory_entries)
      throw std::length_error("twat_cache: memory engine is full");
    if (h == handle_capacity_) grow_handles(h);
    element_of_.push_back(handle_slot{nullptr});
    return h;
  }

  /// Grows every per-handle array at once: geometrically, as push_back would, but never past
  /// maxsize, which no handle reaches (a full cache evicts before it inserts). So a cache of
  /// 1.1 M entries does not carry arrays for 2 M.
  void grow_handles(std::uint32_t h) {
    std::uint64_t next = std::max<std::uint64_t>(16, std::uint64_t{h} * 2);
    if (capacity_ != 0)
      next = std::min<std::uint64_t>(next, std::max<std::uint64_t>(capacity_, h + 1));
    next = std::min<std::uint64_t>(next, detail::max_memory_entries);
    const auto n = static_cast<std::uint32_t>(next);
    element_of_.reserve(n);
    policy_reserve(n);
    if (ttl_ns_ != 0) {
      detail::ensure_size(age_links_, n);
      detail::ensure_size(expires_at_, n);
    }
    handle_capacity_ = n;
  }

  /// Free handles are chained through their own slots, so freeing one never allocates.
  void release_handle(std::uint32_t h) noexcept {
    element_of_[h].next_free = free_handle_;
    free_handle_ = h;
  }

  /// Where insert_new() puts the entry in the policy: where the policy says, or, for a store
  /// that choose_victims() planned, in the s3fifo queue it planned.
  enum class placed : std::uint8_t { by_policy, s3fifo_small, s3fifo_main };

  std::uint32_t insert_new(Key&& key, Value&& value, std::int64_t now,
                           placed where = placed::by_policy) {
    const std::uint32_t h = allocate_handle();
    if (ttl_ns_ != 0) expires_at_[h] = now + ttl_ns_;
    typename map_type::iterator it;
    try {
      it = map_.try_emplace(std::move(key), entry{std::move(value), h}).first;
    } catch (...) {
      release_handle(h);
      throw;
    }
    element_of_[h].item = &*it;
    if (elements_move && map_allocations_ != known_allocations_) {
      // The map rehashed, and flat-map elements moved: re-point every handle.
      known_allocations_ = map_allocations_;
      for (element& e : map_)
        element_of_[handle_of(e.second)].item = &e;
    }
    try {
      if (where == placed::by_policy) {
        policy_insert(h);
      } else {
        s3fifo_.on_insert_placed(h, where == placed::s3fifo_main);
      }
    } catch (...) {
      map_.erase(it);
      release_handle(h);
      throw;
    }
    if (ttl_ns_ != 0) age_order_.push_back(age_links_, h);
    size_.store(map_.size(), std::memory_order_relaxed);
    if (advisor_) advisor_->feed(node_hash(this, h));
    return h;
  }

  /// `listed`: still in the policy's queues (all but the victims choose_victims() took out).
  void remove(typename map_type::iterator it, bool listed = true) noexcept {
    const std::uint32_t h = handle_of(it->second);
    if (listed) policy_remove(h);
    if (ttl_ns_ != 0) age_order_.remove(age_links_, h);
    map_.erase(it);
    release_handle(h);
    size_.store(map_.size(), std::memory_order_relaxed);
  }

  /// Removes the entry behind a handle. Looked up by its key, as a flat map takes no pointer.
  void remove_handle(std::uint32_t h, bool listed = true) noexcept {
    remove(map_.find(element_of_[h].item->first), listed);
  }

  void evict_one() {
    const std::uint32_t victim = policy_victim();
    if (victim != detail::npos) evict(victim);
  }
  /// `listed`: see remove().
  void evict(std::uint32_t victim, bool listed = true) noexcept {
    remove_handle(victim, listed);
    // Writers are exclusive: a load and a store, not a locked add, which would wait for every
    // store the eviction made to reach memory (lines the other core holds: ~0.1 us each on a VM).
    detail::reader_slot::bump(evictions_);
  }

  /// With one ttl for all entries, expiry order is write order: expired entries are a prefix.
  void purge_expired(std::int64_t now) noexcept {
    while (!age_order_.empty() && expires_at_[age_order_.front()] <= now) {
      remove_handle(age_order_.front());
      detail::reader_slot::bump(expirations_);  // exclusive: see evict_one()
    }
  }

  static void reset_slot(detail::reader_slot& s) noexcept {
    s.buffered = 0;
    s.hits.store(0, std::memory_order_relaxed);
    s.misses.store(0, std::memory_order_relaxed);
  }

  // ---- locking -------------------------------------------------------------------------------
  struct shared_guard {
    detail::reader_slot* slot;
    ~shared_guard() { detail::reader_slots_lock::unlock_shared(slot); }
  };
  /// Exclusive when thread-safe; nothing at all when not.
  struct exclusive_guard {
    basic_memory& self;
    explicit exclusive_guard(basic_memory& s) : self(s) {
      if (self.options_.thread_safe) self.lock_.lock();
    }
    ~exclusive_guard() {
      if (self.options_.thread_safe) self.lock_.unlock();
    }
    exclusive_guard(const exclusive_guard&) = delete;
    exclusive_guard& operator=(const exclusive_guard&) = delete;
  };

  using advisor_type = detail::advisor<basic_memory<detail::prehashed_key, unsigned char, Index>>;

  mcache_options options_;
  std::uint32_t capacity_;  // 0: unbounded
  std::int64_t ttl_ns_;     // 0: no ttl

  std::size_t map_allocations_ = 0;  // bumped by the map's allocator: a rehash
  std::size_t known_allocations_ = 0;
  map_type map_;
  union handle_slot {
    element* item;            // a live handle's element
    std::uint32_t next_free;  // a free handle's successor in the free chain
  };
  std::vector<handle_slot> element_of_;
  std::uint32_t free_handle_ = detail::npos;  // head of the free chain
  std::uint32_t handle_capacity_ = 0;         // handles every per-handle array covers
  access_kind access_ = access_kind::record;
  bool fast_path_usable_ = false;  // no ttl, no advisor
  // get_fast_locked() or get_fast_unlocked() (by thread_safe) can answer: fast_path_usable_,
  // but closed while an engine without a lock has a buffer one record short of full.
  bool fast_path_ = false;

  policies::lru lru_;
  policies::lfu lfu_;
  policies::fifo fifo_;
  policies::rr rr_;
  policies::s3fifo<node_words> s3fifo_;
  policies::tinylfu tinylfu_;
  std::vector<detail::list_links> age_links_;
  detail::index_list age_order_;          // ttl only: front expires first
  std::vector<std::int64_t> expires_at_;  // ttl only: steady ns, by handle

  mutable detail::reader_slots_lock lock_;
  // Flights in progress, by key hash. A stripe's list changes under its spin lock inside a shared
  // section, or under the exclusive lock. Its own line: two threads' misses seldom share one.
  struct alignas(detail::cache_line) flight_stripe {
    detail::spin_lock lock;
    flight_type* head = nullptr;
    pending_entry* pending = nullptr;  // newest first
    // erase()s of this stripe's keys and clear()s so far: a flight begun at an older count was
    // invalidated while it computed. Raised under the exclusive lock only.
    std::uint64_t invalidations = 0;
  };
  static constexpr unsigned flight_stripe_bits = 4;
  flight_stripe flight_stripes_[1u << flight_stripe_bits];
  // Taken by a reader draining its access buffer (drain_own_records), in a shared section.
  alignas(detail::cache_line) detail::spin_lock drain_lock_;
  std::mutex flight_mutex_;                // followers wait here: a leader's result, then its
  std::condition_variable flight_landed_;  // waiters' count, are guarded by it
  detail::reader_slot local_slot_;         // counters when thread_safe = false
  std::atomic<std::uint64_t> overflow_hits_{0};
  std::atomic<std::uint64_t> overflow_misses_{0};
  std::atomic<std::uint64_t> evictions_{0};
  std::atomic<std::uint64_t> expirations_{0};
  std::atomic<std::uint64_t> size_{0};
  std::atomic<std::uint64_t> store_errors_{0};  // pending stores that erase() applied and failed
  std::unique_ptr<advisor_type> advisor_;       // mcache_options::advisor only
};

/// The memory engine with the best index this build has.
template <class Key, class Value>
using memory = basic_memory<Key, Value, default_index>;

}  // namespace engines
TWAT_CACHE_END_NAMESPACE
