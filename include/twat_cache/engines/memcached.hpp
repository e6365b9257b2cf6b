#pragma once
/// The memcached engine: a function's results shared by every process, on every host, that
/// reaches the same memcached servers. Keys are spread over the servers by consistent hashing
/// (libketama-compatible), so adding or removing a server moves about 1/n of them; every process
/// must list the servers with the same host:port spelling (the ring is built from those names).
///
/// Keys are twat_cache:<format>:<name>:<generation>:<128-bit hash of the key bytes>; a value
/// carries the full key bytes and a checksum (a collision, or a value another client wrote, is a
/// miss). `ttl` is the server's own expiry, in whole seconds (rounded up); the server's LRU does
/// the evicting. memcached cannot list keys, so clear() moves the name to a new generation (a
/// counter on the servers) and the old entries age out; another process sees a clear() within
/// generation_refresh (1 s), see current_generation(). The generation lives on one server; if
/// that server restarts (or evicts it), the name starts a fresh random generation: a clear().
///
/// A server that is down, slow or refuses us never reaches the caller: the call goes to the
/// function, the failure is counted in stats().errors and logged once, and after a failure that
/// server is skipped for a pause that grows to 2 s (so a dead server costs no timeout per call);
/// the other servers serve their keys meanwhile. Thread-safe: each call leases a libmemcached
/// handle (not thread-safe itself) from a small pool.

#include <libmemcached-1.0/memcached.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <initializer_list>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <twat_cache/codec.hpp>
#include <twat_cache/detail/networked.hpp>
#include <twat_cache/detail/persistent.hpp>
#include <twat_cache/detail/single_flight.hpp>
#include <twat_cache/errors.hpp>
#include <twat_cache/key.hpp>
#include <twat_cache/options.hpp>
#include <twat_cache/stats.hpp>
#include <unordered_map>
#include <utility>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace engines {

namespace detail_memcached {

/// A broken exchange (connection refused or lost, a timeout): the handle is closed and the
/// server paused.
class failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An answer the call cannot use (a value too large, a foreign value under our generation key):
/// counted; the server answered, so it is not paused.
class refused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct handle_deleter {
  void operator()(memcached_st* m) const noexcept { memcached_free(m); }
};
using handle_ptr = std::unique_ptr<memcached_st, handle_deleter>;

/// How often a process re-reads the generation: the longest it keeps reading entries that
/// another process's clear() dropped.
inline constexpr std::chrono::milliseconds generation_refresh{1000};

/// memcached reads a larger expiration as a unix time.
inline constexpr std::int64_t max_relative_expiration = 60 * 60 * 24 * 30;
/// A unix time before any server started: memcached expires such an item at once (it is what
/// the server itself makes of a negative expiration, which libmemcached cannot send).
inline constexpr time_t expired_now = static_cast<time_t>(max_relative_expiration + 1);

/// A duration as memcached's expiration: whole seconds rounded up (at least 1); past 30 days, the
/// unix time it ends at (capped at 2038: the server parses a 32-bit number).
[[nodiscard]] inline time_t expiration_of(std::int64_t milliseconds) noexcept {
  const std::int64_t seconds = std::max<std::int64_t>(1, (milliseconds + 999) / 1000);
  if (seconds <= max_relative_expiration) return static_cast<time_t>(seconds);
  const std::int64_t at = static_cast<std::int64_t>(std::time(nullptr)) + seconds;
  return static_cast<time_t>(std::min<std::int64_t>(at, std::numeric_limits<std::int32_t>::max()));
}

/// libmemcached's message without its "(0x...) " handle address, its " -> file:line" suffix and
/// its ", host: ..." (our messages name the server).
[[nodiscard]] inline std::string tidy(std::string_view message) {
  if (message.starts_with("(0x")) {
    const std::size_t close = message.find(") ");
    if (close != std::string_view::npos) message.remove_prefix(close + 2);
  }
  for (const std::string_view tail : {std::string_view(" -> "), std::string_view(", ")}) {
    const std::size_t at = message.rfind(tail);
    if (at == std::string_view::npos) continue;
    const std::string_view rest = message.substr(at + tail.size());
    if (tail == " -> " || rest.find_first_not_of(' ') == rest.find("host: ")) {
      message = message.substr(0, at);
    }
  }
  return std::string(message);
}

/// What went wrong with `rc`: libmemcached's details (errno, reason) when it kept them.
[[nodiscard]] inline std::string describe(const memcached_st& m, memcached_return_t rc) {
  if (memcached_last_error(&m) == rc) return tidy(memcached_last_error_message(&m));
  return memcached_strerror(&m, rc);
}

/// Returns `rc` when it is one of `expected`; else throws failure (a broken exchange) or refused
/// (an answer we cannot use).
inline memcached_return_t check(const memcached_st& m, memcached_return_t rc,
                                std::initializer_list<memcached_return_t> expected) {
  if (std::find(expected.begin(), expected.end(), rc) != expected.end()) return rc;
  if (memcached_fatal(rc)) throw failure(describe(m, rc));
  throw refused("the server answered " + describe(m, rc));
}

/// A result on the stack: memcached_fetch_result frees a heap-allocated one itself when the
/// fetch ends, so one owned by a smart pointer would be freed twice.
class result {
 public:
  explicit result(const memcached_st& m) {
    if (memcached_result_create(&m, &r_) == nullptr) throw std::bad_alloc();
  }
  result(const result&) = delete;
  result& operator=(const result&) = delete;
  ~result() { memcached_result_free(&r_); }
  memcached_result_st* get() noexcept { return &r_; }
  [[nodiscard]] std::string_view key() const noexcept {
    return {memcached_result_key_value(&r_), memcached_result_key_length(&r_)};
  }
  [[nodiscard]] std::string_view value() const noexcept {
    return {memcached_result_value(&r_), memcached_result_length(&r_)};
  }

 private:
  memcached_result_st r_{};
};

/// The value of one key, and its cas when `cas` is given; false when it is absent.
inline bool get_one(memcached_st& m, std::string_view key, std::string& value,
                    std::uint64_t* cas = nullptr) {
  const char* keys[] = {key.data()};
  const std::size_t lengths[] = {key.size()};
  check(m, memcached_mget(&m, keys, lengths, 1), {MEMCACHED_SUCCESS});
  result r(m);
  bool found = false;
  memcached_return_t rc = MEMCACHED_SUCCESS;
  while (memcached_fetch_result(&m, r.get(), &rc) != nullptr) {
    if (r.key() != key) continue;
    found = true;
    value.assign(r.value());
    if (cas != nullptr) *cas = memcached_result_cas(r.get());
  }
  check(m, rc, {MEMCACHED_END, MEMCACHED_NOTFOUND, MEMCACHED_SUCCESS});
  return found;
}

/// A new handle (it connects to each server on first use): the servers on a libketama ring,
/// operations bounded by the timeouts.
[[nodiscard]] inline handle_ptr make_handle(const twat_cache::detail::network_config& c) {
  handle_ptr m(memcached_create(nullptr));
  if (!m) throw std::bad_alloc();
  auto set = [&](memcached_behavior_t behavior, std::int64_t value, std::string_view what) {
    const memcached_return_t rc =
        memcached_behavior_set(m.get(), behavior, static_cast<std::uint64_t>(value));
    if (rc != MEMCACHED_SUCCESS) {
      throw failure("cannot set " + std::string(what) + ": " + memcached_strerror(m.get(), rc));
    }
  };
  auto capped = [](std::int64_t v) {
    return std::min<std::int64_t>(v, std::numeric_limits<std::int32_t>::max());
  };
  // The text protocol (libmemcached's default): memcached 1.6 deprecates the binary one, the
  // text one is what every server and proxy speaks and libmemcached's most used path, and its
  // multi-get is one "gets k1 k2 ..." per server. Its incr cannot create a key: clear() adds it.
  set(MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 0, "the text protocol");
  // libketama's consistent hashing (MD5 keys, weighted points), as other ketama clients do:
  // adding a server moves ~1/n of the keys.
  set(MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1, "consistent hashing (ketama)");
  set(MEMCACHED_BEHAVIOR_SUPPORT_CAS, 1, "cas");  // gets: unlock() compares before expiring
  set(MEMCACHED_BEHAVIOR_TCP_NODELAY, 1, "TCP_NODELAY");
  set(MEMCACHED_BEHAVIOR_TCP_KEEPALIVE, 1, "TCP keepalive");
  set(MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, capped(c.connect_timeout.count()), "connect_timeout");
  // Sockets are non-blocking: POLL_TIMEOUT bounds each wait for an answer; SO_RCVTIMEO and
  // SO_SNDTIMEO (microseconds) are set alike for completeness.
  set(MEMCACHED_BEHAVIOR_POLL_TIMEOUT, capped(c.command_timeout.count()), "command_timeout");
  set(MEMCACHED_BEHAVIOR_RCV_TIMEOUT, capped(c.command_timeout.count() * 1000), "receive timeout");
  set(MEMCACHED_BEHAVIOR_SND_TIMEOUT, capped(c.command_timeout.count() * 1000), "send timeout");
  // A dead server: libmemcached keeps a failed server aside for RETRY_TIMEOUT seconds (per
  // handle; we drop such handles anyway and pause the server ourselves). No ejection
  // (REMOVE_FAILED_SERVERS, DEAD_TIMEOUT): it would remap the dead server's keys onto the others
  // differently in each handle and process, and remap them back when it returns; its keys are
  // misses (computed) until it is back instead.
  set(MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 1, "the retry timeout");
  set(MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS, 0, "no ejection of failed servers");
  for (const auto& s : c.servers) {
    const memcached_return_t rc =
        memcached_server_add(m.get(), s.host.c_str(), static_cast<in_port_t>(s.port));
    if (rc != MEMCACHED_SUCCESS) {
      throw failure("cannot add the server " + s.host + ":" + std::to_string(s.port) + ": " +
                    memcached_strerror(m.get(), rc));
    }
  }
  return m;
}

/// A fresh generation: random below 2^62, so increments never wrap and a generation key that was
/// lost (evicted, server restarted) never comes back as an older generation.
[[nodiscard]] inline std::uint64_t new_generation() {
  std::random_device random;
  const std::uint64_t r = (std::uint64_t{random()} << 32) ^ random();
  return (r >> 2) | 1;
}

/// A stored generation (memcached pads a number it shrank in place with spaces), or nullopt.
[[nodiscard]] inline std::optional<std::uint64_t> parse_generation(std::string_view text) {
  while (!text.empty() && text.back() == ' ')
    text.remove_suffix(1);
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace detail_memcached

/// The memcached engine. Thread-safe; any number of processes may share the servers.
template <class Key, class Value>
class memcached
    : public twat_cache::detail::networked_engine_base<memcached<Key, Value>, Key, Value> {
  friend class twat_cache::detail::persistent_reads<memcached, Value>;
  friend class twat_cache::detail::networked_engine_base<memcached, Key, Value>;
  using base = twat_cache::detail::networked_engine_base<memcached, Key, Value>;
  using base::config_;
  using base::counters_;
  using base::fence_;
  using base::keys_;
  using base::prefix_;
  using base::token_;
  static_assert(twat_cache::detail::require_encodable<Key>::value);
  static_assert(twat_cache::detail::require_encodable<Value>::value);
  using handle_ptr = detail_memcached::handle_ptr;
  using failure = detail_memcached::failure;
  using refused = detail_memcached::refused;

 public:
  using key_type = Key;
  using value_type = Value;

  /// Throws config_error for invalid options. Does not need the servers to be up: until they
  /// are, calls go to the function (counted as errors).
  explicit memcached(const memcached_options& options)
      : base("memcached_options", options),
        generation_key_(kind_key("#generation")),
        ring_(make_ring(config_)),
        health_(std::make_unique<twat_cache::detail::server_health[]>(config_.servers.size())),
        generation_server_(server_of(generation_key_)) {}
  memcached(const memcached&) = delete;
  memcached& operator=(const memcached&) = delete;
  ~memcached() = default;

  [[nodiscard]] static constexpr std::string_view name() noexcept { return "memcached"; }

  void put(const Key& key, const Value& value) {
    const auto generation = current_generation(/*counted=*/false);  // the get counted it
    if (!generation) return;
    const std::string key_bytes(keys_.bytes(key));
    const std::string where = entry_key(*generation, key_bytes);
    const std::size_t server = server_of(where);
    if (!health_[server].should_try()) return;  // the get of this call already counted the failure
    const std::string entry = twat_cache::detail::frame_entry(
        key_bytes, twat_cache::detail::pack_value(value, config_.compress));
    const time_t expiration =
        config_.ttl
            ? detail_memcached::expiration_of(twat_cache::detail::ttl_milliseconds(*config_.ttl))
            : 0;
    exchange("storing an entry", true, server, [&](memcached_st& m) {
      detail_memcached::check(
          m,
          memcached_set(&m, where.data(), where.size(), entry.data(), entry.size(), expiration, 0),
          {MEMCACHED_SUCCESS});
    });
  }

  /// Drops the entry for `key`; true if there was one.
  template <class K>
  bool erase(const K& key) {
    const auto invalidating =
        fence_.invalidating(key_hash<Key>{}(key));  // this process's computations of it
    const auto generation = current_generation(/*counted=*/true);
    if (!generation) return false;
    const std::string where = entry_key(*generation, keys_.bytes(key));
    bool erased = false;
    exchange("erasing an entry", true, server_of(where), [&](memcached_st& m) {
      erased = detail_memcached::check(m, memcached_delete(&m, where.data(), where.size(), 0),
                                       {MEMCACHED_SUCCESS, MEMCACHED_DELETED,
                                        MEMCACHED_NOTFOUND}) != MEMCACHED_NOTFOUND;
    });
    return erased;
  }

  /// Makes this name's entries unreachable (other names keep theirs) and zeroes the counters:
  /// memcached cannot list keys, so this moves the name to the next generation (one incr) and
  /// the old entries age out by ttl or LRU. This process sees it at once, others within
  /// generation_refresh.
  void clear() {
    const auto invalidating = fence_.invalidating_all();  // this process's computations
    counters_.reset();
    const std::lock_guard lock(generation_mutex_);  // no refresh may store an older generation
    exchange("clearing", true, generation_server_, [&](memcached_st& m) {
      const std::string_view key = generation_key_;
      for (int attempt = 0; attempt < 3; ++attempt) {
        std::uint64_t next = 0;
        const memcached_return_t rc = detail_memcached::check(
            m, memcached_increment(&m, key.data(), key.size(), 1, &next),
            {MEMCACHED_SUCCESS, MEMCACHED_NOTFOUND, MEMCACHED_CLIENT_ERROR});
        if (rc == MEMCACHED_SUCCESS) return store_generation(next);
        next = detail_memcached::new_generation();
        const std::string text = std::to_string(next);
        if (rc == MEMCACHED_CLIENT_ERROR) {  // not a number (another client's value): replace it
          detail_memcached::check(
              m, memcached_set(&m, key.data(), key.size(), text.data(), text.size(), 0, 0),
              {MEMCACHED_SUCCESS});
          return store_generation(next);
        }
        // Absent (first clear, evicted, server restarted): a fresh one, unless another process
        // made one just now (then increment that).
        if (detail_memcached::check(
                m, memcached_add(&m, key.data(), key.size(), text.data(), text.size(), 0, 0),
                {MEMCACHED_SUCCESS, MEMCACHED_NOTSTORED, MEMCACHED_DATA_EXISTS}) ==
            MEMCACHED_SUCCESS) {
          return store_generation(next);
        }
      }
      throw refused("the generation key keeps vanishing");
    });
  }

  /// Counters. size stays 0: memcached cannot count one name's keys.
  [[nodiscard]] cache_stats stats() const {
    cache_stats s;
    counters_.fill(s);
    return s;
  }

  /// The values of many keys in one round trip per server (one multi-get, all servers asked
  /// before any answer is read): what to call to warm a process up. Each is counted as a hit
  /// or a miss.
  [[nodiscard]] std::vector<std::optional<Value>> get_many(std::span<const Key> keys) {
    std::vector<std::optional<Value>> values(keys.size());
    if (!keys.empty()) {
      if (const auto generation = current_generation(/*counted=*/true)) {
        std::vector<std::string> key_bytes;
        std::vector<std::string> wheres;
        key_bytes.reserve(keys.size());
        wheres.reserve(keys.size());
        for (const Key& key : keys) {
          key_bytes.emplace_back(keys_.bytes(key));
          wheres.push_back(entry_key(*generation, key_bytes.back()));
        }
        fetch("looking up entries", true, wheres, [&](std::size_t i, std::string_view stored) {
          values[i] = from_stored(stored, key_bytes[i], true);
        });
      }
    }
    for (const auto& v : values)
      counters_.add(v ? counters_.hits : counters_.misses);
    return values;
  }

  /// True when every server answers (a version request, on new connections: a pooled handle
  /// answers it from memory); a failure counts as an error.
  [[nodiscard]] bool reachable() {
    bool all = true;
    for (std::size_t s = 0; s < config_.servers.size(); ++s) {
      if (!health_[s].should_try()) {
        report("asking the version", s, "the server failed moments ago");
        all = false;
      }
    }
    if (!all) return false;
    try {
      const handle_ptr m = detail_memcached::make_handle(config_);
      const memcached_return_t rc = memcached_version(m.get());
      all = settle(*m, "asking the version", true, std::vector<char>(config_.servers.size(), 1));
      if (all && memcached_failed(rc)) {
        twat_cache::detail::report_network_error(counters_, name(), config_, "asking the version",
                                                 detail_memcached::describe(*m, rc));
        all = false;
      }
    } catch (const std::exception& e) {
      twat_cache::detail::report_network_error(counters_, name(), config_, "asking the version",
                                               e.what());
      all = false;
    }
    return all;
  }

 private:
  /// A leased handle, and the pool epoch it was made in.
  struct lease {
    handle_ptr handle;
    std::uint64_t epoch = 0;
  };

  /// The ring the keys are placed on: a handle that never connects, only asked where a key
  /// lives (memcached_generate_hash reads it only, so threads share it).
  static handle_ptr make_ring(const twat_cache::detail::network_config& c) {
    try {
      return detail_memcached::make_handle(c);
    } catch (const failure& e) {
      throw config_error("memcached_options.url: the servers " + c.where() +
                         " cannot be used: " + e.what());
    }
  }

  /// The index of the server that holds `where`.
  [[nodiscard]] std::size_t server_of(std::string_view where) const noexcept {
    const std::uint32_t s = memcached_generate_hash(ring_.get(), where.data(), where.size());
    return s < config_.servers.size() ? s : 0;
  }

  [[nodiscard]] std::string server_name(std::size_t s) const {
    return config_.servers[s].host + ":" + std::to_string(config_.servers[s].port);
  }

  void report(std::string_view what, std::size_t server, std::string_view why) const {
    twat_cache::detail::report_network_error(counters_, name(), config_, what,
                                             server_name(server) + ": " + std::string(why));
  }

  /// An idle handle from the pool, or a new one.
  lease take_handle() const {
    std::uint64_t epoch = 0;
    {
      const std::lock_guard lock(pool_mutex_);
      if (!idle_.empty()) {
        lease l = std::move(idle_.back());
        idle_.pop_back();
        return l;
      }
      epoch = epoch_;
    }
    return lease{detail_memcached::make_handle(config_), epoch};
  }

  /// Returns a handle that served well to the pool, unless it predates a failure (its
  /// connection to that server is likely dead too) or the pool is full.
  void give_back(lease l) const noexcept {
    const std::lock_guard lock(pool_mutex_);
    if (l.epoch == epoch_ && idle_.size() < config_.pool_size) idle_.push_back(std::move(l));
  }

  /// A server failed: pause it, and retire every handle made before (after a restart their
  /// connections are all dead, and each would fail once more).
  void server_failed(std::size_t server) const noexcept {
    health_[server].failed();
    const std::lock_guard lock(pool_mutex_);
    ++epoch_;
    idle_.clear();
  }

  /// Runs body(handle) for an operation on `server` unless that server is being skipped; true
  /// when it ran through. A broken exchange closes the handle and pauses the server; a refusal
  /// only closes the handle. Either is counted and logged when `counted`.
  template <class Body>
  bool exchange(std::string_view what, bool counted, std::size_t server,
                Body&& body) const noexcept {
    if (!health_[server].should_try()) {
      if (counted) report(what, server, "the server failed moments ago");
      return false;
    }
    try {
      lease l = take_handle();  // closed, not given back, when the body throws
      body(*l.handle);
      give_back(std::move(l));
      health_[server].succeeded();
      return true;
    } catch (const refused& e) {
      if (counted) report(what, server, e.what());
      return false;
    } catch (const std::exception& e) {
      server_failed(server);
      if (counted) report(what, server, e.what());
      return false;
    }
  }

  /// After a multi-server operation on `m`: every asked server (asked[s] != 0) whose instance
  /// holds a broken exchange is paused and counted (when `counted`), the others marked well;
  /// true when none broke. libmemcached keeps each server's last error on its instance, and
  /// handles that saw one are never pooled, so what is there is from this operation.
  bool settle(memcached_st& m, std::string_view what, bool counted,
              const std::vector<char>& asked) const {
    bool all = true;
    for (std::size_t s = 0; s < asked.size(); ++s) {
      if (asked[s] == 0) continue;
      const memcached_instance_st* instance =
          memcached_server_instance_by_position(&m, static_cast<std::uint32_t>(s));
      if (instance != nullptr && memcached_fatal(memcached_server_error_return(instance))) {
        all = false;
        server_failed(s);
        if (counted) report(what, s, detail_memcached::tidy(memcached_server_error(instance)));
      } else {
        health_[s].succeeded();
      }
    }
    return all;
  }

  /// Looks up server keys `wheres` in one multi-get (one request per server, all sent before
  /// any answer is read) and calls found(i, stored bytes) for each one there. Keys on a paused
  /// server are skipped; a server that fails is paused; each is counted once when `counted`.
  template <class Found>
  void fetch(std::string_view what, bool counted, std::span<const std::string> wheres,
             Found&& found) noexcept {
    try {
      constexpr std::size_t none = static_cast<std::size_t>(-1);
      std::vector<char> asked(config_.servers.size(), 0);  // 0: no key; 1: asked; 2: paused
      std::vector<const char*> keys;
      std::vector<std::size_t> lengths;
      std::unordered_map<std::string_view, std::size_t> first;  // a key asked twice is sent once
      std::vector<std::size_t> same(wheres.size(), none);       // the next index with that key
      for (std::size_t i = 0; i < wheres.size(); ++i) {
        const std::size_t s = server_of(wheres[i]);
        if (asked[s] == 0) asked[s] = health_[s].should_try() ? 1 : 2;
        if (asked[s] == 2) continue;
        const auto [at, fresh] = first.try_emplace(wheres[i], i);
        if (!fresh) {
          std::size_t last = at->second;
          while (same[last] != none)
            last = same[last];
          same[last] = i;
          continue;
        }
        keys.push_back(wheres[i].data());
        lengths.push_back(wheres[i].size());
      }
      for (std::size_t s = 0; s < asked.size(); ++s) {
        if (asked[s] == 2 && counted) report(what, s, "the server failed moments ago");
        if (asked[s] == 2) asked[s] = 0;
      }
      if (keys.empty()) return;
      lease l = take_handle();
      memcached_st& m = *l.handle;
      const memcached_return_t sent = memcached_mget(&m, keys.data(), lengths.data(), keys.size());
      if (sent == MEMCACHED_SUCCESS || sent == MEMCACHED_SOME_ERRORS) {
        detail_memcached::result r(m);
        memcached_return_t rc = MEMCACHED_SUCCESS;
        // A server that fails is skipped and the others still read (a timeout ends the reading:
        // what was not read yet is a miss).
        while (memcached_fetch_result(&m, r.get(), &rc) != nullptr) {
          const auto at = first.find(r.key());
          if (at == first.end()) continue;
          for (std::size_t i = at->second; i != none; i = same[i])
            found(i, r.value());
        }
      }
      bool well = settle(m, what, counted, asked);
      if (well && memcached_fatal(sent) && sent != MEMCACHED_SOME_ERRORS) {
        // Broken before any server was asked, and no server holds the error: blame them all.
        const std::string why = detail_memcached::describe(m, sent);
        for (std::size_t s = 0; s < asked.size(); ++s) {
          if (asked[s] == 0) continue;
          server_failed(s);
          if (counted) report(what, s, why);
        }
        well = false;
      }
      if (well) give_back(std::move(l));
    } catch (const std::exception& e) {
      if (counted) {
        twat_cache::detail::report_network_error(counters_, name(), config_, what, e.what());
      }
    }
  }

  /// A key outside the entries' namespace: the prefix without its ':', then `kind`.
  [[nodiscard]] std::string kind_key(std::string_view kind) const {
    std::string out = prefix_;
    out.pop_back();
    out += kind;
    return out;
  }

  /// The server key of some key bytes in a generation: the prefix, the generation, the hash in
  /// hex (at most 13 + 128 + 1 + 19 + 1 + 32 = 194 bytes of [A-Za-z0-9._:-]: a valid memcached
  /// key).
  [[nodiscard]] std::string entry_key(std::uint64_t generation, std::string_view key_bytes) const {
    std::string out = prefix_;
    out += std::to_string(generation);
    out += ':';
    twat_cache::detail::append_hex(out, twat_cache::detail::key_hash128(key_bytes));
    return out;
  }

  /// This name's generation, part of every entry key. Read from the servers at most every
  /// generation_refresh; in between, the one in memory is used. Consistency: after a clear() in
  /// another process, this one keeps reading (and writing) the old generation's entries for up
  /// to generation_refresh, and while the generation's server is unreachable, until it answers
  /// again (the last one read stays in use, so the other servers keep serving). The hit path
  /// stays one round trip; once per generation_refresh a call makes one more. nullopt (counted
  /// when `counted`) only while no generation was ever read.
  std::optional<std::uint64_t> current_generation(bool counted) {
    auto fresh = [&] {
      return generation_known_.load(std::memory_order_acquire) &&
             steady_ns() - generation_read_at_.load(std::memory_order_relaxed) <
                 std::chrono::nanoseconds(detail_memcached::generation_refresh).count();
    };
    if (fresh()) return generation_.load(std::memory_order_relaxed);
    std::unique_lock lock(generation_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) {
      // Another thread is reading it: use the one known meanwhile, or wait for the first.
      if (generation_known_.load(std::memory_order_acquire)) {
        return generation_.load(std::memory_order_relaxed);
      }
      lock.lock();
    }
    if (!fresh()) {
      const bool known = generation_known_.load(std::memory_order_acquire);
      // While its server is paused the known one is used silently; the pause is counted by the
      // calls that need that server.
      if (!known || health_[generation_server_].should_try()) {
        exchange("reading the generation", counted, generation_server_,
                 [&](memcached_st& m) { read_generation(m); });
      }
    }
    if (!generation_known_.load(std::memory_order_acquire)) return std::nullopt;
    return generation_.load(std::memory_order_relaxed);
  }

  /// Reads the generation, making it when absent; replaces one that is not a number.
  void read_generation(memcached_st& m) {
    const std::string_view key = generation_key_;
    for (int attempt = 0; attempt < 3; ++attempt) {
      std::string text;
      if (detail_memcached::get_one(m, key, text)) {
        if (const auto g = detail_memcached::parse_generation(text)) return store_generation(*g);
        twat_cache::detail::report_damaged_entry(counters_, name(), config_,
                                                 "its generation key does not hold a number");
        const std::uint64_t next = detail_memcached::new_generation();
        text = std::to_string(next);
        detail_memcached::check(
            m, memcached_set(&m, key.data(), key.size(), text.data(), text.size(), 0, 0),
            {MEMCACHED_SUCCESS});
        return store_generation(next);
      }
      const std::uint64_t next = detail_memcached::new_generation();
      text = std::to_string(next);
      if (detail_memcached::check(
              m, memcached_add(&m, key.data(), key.size(), text.data(), text.size(), 0, 0),
              {MEMCACHED_SUCCESS, MEMCACHED_NOTSTORED, MEMCACHED_DATA_EXISTS}) ==
          MEMCACHED_SUCCESS) {
        return store_generation(next);
      }
      // Another process made it between our get and add: read theirs.
    }
    throw refused("the generation key keeps vanishing");
  }

  void store_generation(std::uint64_t g) noexcept {
    generation_.store(g, std::memory_order_relaxed);
    generation_read_at_.store(steady_ns(), std::memory_order_relaxed);
    generation_known_.store(true, std::memory_order_release);
  }

  [[nodiscard]] static std::int64_t steady_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  /// The value in stored bytes for these key bytes, or nullopt (a damaged one is counted when
  /// `counted`).
  std::optional<Value> from_stored(std::string_view stored, std::string_view key_bytes,
                                   bool counted) {
    twat_cache::detail::entry_state state{};
    std::string_view why;
    auto value = twat_cache::detail::unframe_entry<Value>(stored, key_bytes, state, why);
    if (state == twat_cache::detail::entry_state::damaged && counted) {
      twat_cache::detail::report_damaged_entry(counters_, name(), config_, why);
    }
    return value;
  }

  /// The key of the lock a computing process holds for `owned` (with `lock`).
  [[nodiscard]] std::string lock_key(const Key& owned) const {
    std::string key = kind_key("#lock:");
    twat_cache::detail::append_hex(key, twat_cache::detail::key_hash128(keys_.bytes(owned)));
    return key;
  }

  template <class K>
  std::optional<Value> lookup(const K& key, bool counted) {
    const auto generation = current_generation(counted);
    if (!generation) return std::nullopt;
    const std::string key_bytes(keys_.bytes(key));
    const std::string where[] = {entry_key(*generation, key_bytes)};
    std::optional<Value> value;
    fetch("looking up an entry", counted, where, [&](std::size_t, std::string_view stored) {
      value = from_stored(stored, key_bytes, counted);
    });
    return value;
  }

  twat_cache::detail::lock_result try_lock(const std::string& lock_key) {
    using twat_cache::detail::lock_result;
    lock_result result = lock_result::failed;
    const time_t expiration = detail_memcached::expiration_of(config_.lock_timeout.count());
    exchange("taking a lock", false, server_of(lock_key), [&](memcached_st& m) {
      const memcached_return_t rc =
          detail_memcached::check(m,
                                  memcached_add(&m, lock_key.data(), lock_key.size(), token_.data(),
                                                token_.size(), expiration, 0),
                                  {MEMCACHED_SUCCESS, MEMCACHED_NOTSTORED, MEMCACHED_DATA_EXISTS});
      result = rc == MEMCACHED_SUCCESS ? lock_result::acquired : lock_result::held;
    });
    return result;
  }

  /// Releases a lock key only while it still holds our token: a lock that lapsed and was taken
  /// by another process stays theirs. memcached has no compare-and-delete, but a cas (which
  /// fails if the key changed since our gets) to an expiration in the past is one, atomically.
  void unlock(const std::string& lock_key) {
    exchange("releasing a lock", false, server_of(lock_key), [&](memcached_st& m) {
      std::string held;
      std::uint64_t cas = 0;
      if (!detail_memcached::get_one(m, lock_key, held, &cas) || held != token_) return;
      detail_memcached::check(m,
                              memcached_cas(&m, lock_key.data(), lock_key.size(), "", 0,
                                            detail_memcached::expired_now, 0, cas),
                              {MEMCACHED_SUCCESS, MEMCACHED_DATA_EXISTS, MEMCACHED_NOTFOUND});
    });
  }

  std::string generation_key_;  ///< twat_cache:<format>:<name>#generation
  handle_ptr ring_;
  /// One per server, in config_.servers order (libmemcached's server index).
  std::unique_ptr<twat_cache::detail::server_health[]> health_;
  std::size_t generation_server_;
  std::mutex generation_mutex_;  // one reader of the generation at a time; clear() holds it
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<std::int64_t> generation_read_at_{0};  ///< steady clock, ns
  std::atomic<bool> generation_known_{false};
  mutable std::mutex pool_mutex_;  // guards idle_ and epoch_ only
  mutable std::vector<lease> idle_;
  mutable std::uint64_t epoch_ = 0;  ///< bumped by each failure: older handles are not pooled
};

}  // namespace engines
TWAT_CACHE_END_NAMESPACE
