#pragma once
/// Options of each factory: one aggregate per factory, filled with designated initializers, so an
/// option a factory does not take is a compile error. Field order is part of the contract.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <twat_cache/clock.hpp>
#include <twat_cache/errors.hpp>
#include <twat_cache/version.hpp>

TWAT_CACHE_BEGIN_NAMESPACE

/// Which entry to evict when the cache is full.
enum class policy : std::uint8_t {
  lru,      ///< least recently used
  lfu,      ///< least frequently used (ties: least recently used)
  fifo,     ///< first in, first out
  rr,       ///< random replacement
  s3fifo,   ///< S3-FIFO: small and main FIFO queues and a ghost set (Yang et al., 2023)
  tinylfu,  ///< W-TinyLFU: window LRU, frequency-sketch admission, segmented LRU (Caffeine)
};

/// The policy of mcache and acache, and of ucache in memory, when none is given: S3-FIFO, for
/// its hit ratio on every trace measured and its hit path, which needs no lock on shared state
/// (docs/performance.md, "Eviction policies").
inline constexpr policy default_policy = policy::s3fifo;

/// The name of a policy, as used in messages and docs.
[[nodiscard]] constexpr std::string_view policy_name(policy p) noexcept {
  switch (p) {
    case policy::lru:
      return "lru";
    case policy::lfu:
      return "lfu";
    case policy::fifo:
      return "fifo";
    case policy::rr:
      return "rr";
    case policy::s3fifo:
      return "s3fifo";
    case policy::tinylfu:
      return "tinylfu";
  }
  return "unknown";
}

/// Options of mcache (and of the memory engine).
struct mcache_options {
  std::optional<std::size_t> maxsize = std::nullopt;           ///< entries; empty = unbounded
  std::optional<std::chrono::nanoseconds> ttl = std::nullopt;  ///< per entry, from its write
  twat_cache::policy policy = twat_cache::default_policy;
  bool thread_safe = true;    ///< false: no lock at all; one thread at a time only
  bool single_flight = true;  ///< concurrent callers of one key: one computes, the others wait
  std::string name = {};      ///< label in get_stats(); empty: "mcache" (taken: "mcache#2", ...)
  clock_fn clock = {};        ///< time source for ttl; empty: std::chrono::steady_clock
  /// Shadow caches of every policy at 0.5x, 1x and 2x maxsize follow the keys: advise() then says
  /// which would hit most here. Needs maxsize. Off: costs nothing (see docs/mcache.md).
  bool advisor = false;
};

/// How hard a persistent cache works to keep an entry through a crash. Whatever the choice, an
/// entry is never read back torn: writes are atomic and checked.
enum class durability : std::uint8_t {
  /// Survives the process crashing; the last entries may be lost if the machine loses power.
  /// SQLite runs with synchronous=NORMAL; files are renamed into place without fsync.
  fast,
  /// Each write reaches the disk before the call returns: SQLite's synchronous=FULL, and fsync
  /// of each file and of its folder. Much slower writes (see docs/persistence.md).
  full,
};

/// A source of wall-clock time for persistent ttl (entries outlive the process, so steady_clock
/// cannot be used). Empty means std::chrono::system_clock. A manual_clock converts to it.
using wall_clock_fn = std::function<std::chrono::system_clock::time_point()>;

/// Options of bcache (the SQLite engine). `name` is required: it is what the entries are found by
/// in the next run, and what keeps two functions in one folder apart.
struct bcache_options {
  std::string folder_name = {};  ///< subfolder of the cache root; empty: the root itself
  std::string name = {};         ///< stable identity of the function; required
  std::optional<std::size_t> maxsize = std::nullopt;           ///< entries of this name
  std::optional<std::uint64_t> max_bytes = std::nullopt;       ///< stored bytes of this name
  std::optional<std::chrono::nanoseconds> ttl = std::nullopt;  ///< per entry, from its write
  bool compress = false;  ///< zstd, where it pays (small or incompressible values stay raw)
  twat_cache::durability durability = twat_cache::durability::fast;
  wall_clock_fn clock = {};  ///< time source for ttl; empty: std::chrono::system_clock
};

/// Options of fcache (one file per entry). Same fields and meaning as bcache_options.
struct fcache_options {
  std::string folder_name = {};
  std::string name = {};
  std::optional<std::size_t> maxsize = std::nullopt;
  std::optional<std::uint64_t> max_bytes = std::nullopt;
  std::optional<std::chrono::nanoseconds> ttl = std::nullopt;
  bool compress = false;
  twat_cache::durability durability = twat_cache::durability::fast;
  wall_clock_fn clock = {};
};

/// Options of acache (memory engine, awaited). Concurrent awaiters of one key always share one
/// computation.
struct acache_options {
  std::optional<std::size_t> maxsize = std::nullopt;           ///< entries; empty = unbounded
  std::optional<std::chrono::nanoseconds> ttl = std::nullopt;  ///< per entry, from its write
  twat_cache::policy policy = twat_cache::default_policy;
  std::string name = {};  ///< label in get_stats(); empty: "acache" (taken: "acache#2", ...)
  clock_fn clock = {};    ///< time source for ttl; empty: std::chrono::steady_clock
};

/// Options of ucache: the best engine this build has for them. With `folder_name` (or a
/// persistent `preferred_engine`) it is persistent and `name` is required; without, in memory.
struct ucache_options {
  std::string folder_name = {};  ///< persistent: subfolder of the cache root
  std::string name = {};         ///< stable identity of the function (persistent engines)
  std::optional<std::size_t> maxsize = std::nullopt;
  std::optional<std::uint64_t> max_bytes = std::nullopt;  ///< persistent engines only
  std::optional<std::chrono::nanoseconds> ttl = std::nullopt;
  /// Memory engines; empty: default_policy (std_lru: lru). Persistent engines take only lru.
  std::optional<twat_cache::policy> policy = std::nullopt;
  bool compress = false;              ///< persistent engines; zstd
  std::string preferred_engine = {};  ///< a name from available_backends(); empty: the best
  /// Server(s) of a networked engine, which the scheme picks: redis://[[user]:password@]host
  /// [:port][/db], or memcached://host[:port][,host[:port]...].
  std::string url = {};
  twat_cache::durability durability = twat_cache::durability::fast;
  wall_clock_fn clock = {};  ///< time source for ttl; empty: system_clock (steady in memory)
  bool lock = false;         ///< networked engines: cross-process single flight (see redis_options)
};

/// Options of the redis engine (memoize<engines::redis>, or ucache with a redis:// url).
/// A server that fails or is slow is never the caller's problem: the call goes to the function,
/// the failure is counted in stats().errors and logged once.
struct redis_options {
  std::string url = {};  ///< redis://[[user]:password@]host[:port][/db]; port 6379, db 0 by default
  std::string name = {};  ///< stable identity of the function: the key prefix; required
  std::optional<std::chrono::nanoseconds> ttl = std::nullopt;  ///< per entry (SET ... PX)
  bool compress = false;                                       ///< zstd, where it pays
  /// Cross-process single flight: the first process to miss a key takes a lock key (SET NX PX)
  /// and computes; the others poll until the value appears or the lock lapses.
  bool lock = false;
  std::chrono::milliseconds connect_timeout{250};
  std::chrono::milliseconds command_timeout{250};
  /// How long a computing process holds a key's lock: a process that dies computing delays
  /// the others by at most this, and a computation longer than this may run twice.
  std::chrono::milliseconds lock_timeout{30000};
  std::size_t pool_size = 8;  ///< idle connections kept for reuse (more are opened as needed)
};

/// Options of the memcached engine (memoize<engines::memcached>, or ucache with a memcached://
/// url). Same fields and meaning as redis_options; memcached keeps
/// time in whole seconds, so a ttl is rounded up to one.
struct memcached_options {
  std::string url = {};  ///< memcached://host[:port][,host[:port]...]; port 11211 by default
  std::string name = {};
  std::optional<std::chrono::nanoseconds> ttl = std::nullopt;
  bool compress = false;
  bool lock = false;  ///< cross-process single flight, with memcached's add
  std::chrono::milliseconds connect_timeout{250};
  std::chrono::milliseconds command_timeout{250};
  std::chrono::milliseconds lock_timeout{30000};
  std::size_t pool_size = 8;
};

namespace detail {

/// Largest maxsize a memory engine accepts: node indices take 30 bits of a word whose other two
/// hold s3fifo's read counter (detail/tagged_handle.hpp).
inline constexpr std::size_t max_memory_entries = (std::size_t{1} << 30);

inline void validate_maxsize(std::string_view where, const std::optional<std::size_t>& maxsize,
                             std::size_t limit) {
  if (!maxsize) return;
  if (*maxsize == 0) {
    throw config_error(std::string(where) +
                       ".maxsize = 0 is invalid: use a positive number of entries, or leave it "
                       "empty (std::nullopt) for an unbounded cache");
  }
  if (*maxsize > limit) {
    throw config_error(std::string(where) + ".maxsize = " + std::to_string(*maxsize) +
                       " is too large: at most " + std::to_string(limit) + " entries");
  }
}

inline void validate_ttl(std::string_view where,
                         const std::optional<std::chrono::nanoseconds>& ttl) {
  if (ttl && ttl->count() <= 0) {
    throw config_error(std::string(where) + ".ttl = " + std::to_string(ttl->count()) +
                       "ns is invalid: use a positive duration, or leave it empty for no expiry");
  }
}

inline void validate_memory_policy(std::string_view where, policy p) {
  switch (p) {
    case policy::lru:
    case policy::lfu:
    case policy::fifo:
    case policy::rr:
    case policy::s3fifo:
    case policy::tinylfu:
      return;
  }
  throw config_error(std::string(where) + ".policy = " + std::to_string(static_cast<unsigned>(p)) +
                     " is not a twat_cache::policy; allowed: lru, lfu, fifo, rr, s3fifo, tinylfu");
}

inline void validate(const mcache_options& o) {
  validate_maxsize("mcache_options", o.maxsize, max_memory_entries);
  if (o.advisor && !o.maxsize) {
    throw config_error(
        "mcache_options.advisor = true needs a maxsize: the advisor compares policies at the "
        "cache's size, half of it and twice it");
  }
  validate_ttl("mcache_options", o.ttl);
  validate_memory_policy("mcache_options", o.policy);
}

inline void validate(const acache_options& o) {
  validate_maxsize("acache_options", o.maxsize, max_memory_entries);
  validate_ttl("acache_options", o.ttl);
  validate_memory_policy("acache_options", o.policy);
}

}  // namespace detail

TWAT_CACHE_END_NAMESPACE
