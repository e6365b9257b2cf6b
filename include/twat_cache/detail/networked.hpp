#pragma once
// What the networked engines (redis, memcached) share: their options validated into one shape
// (with the server list parsed from the url), the framing of an entry on the server (key bytes
// and a checksum, so a value written by another client or another format is a counted miss), the
// health of a server (calls skip it for a growing pause after a failure, so a dead server costs
// no timeout per call), and single flight across processes over a lock key.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <twat_cache/codec.hpp>
#include <twat_cache/config.hpp>
#include <twat_cache/detail/hash_bytes.hpp>
#include <twat_cache/detail/invalidation_fence.hpp>
#include <twat_cache/detail/persistent.hpp>
#include <twat_cache/detail/single_flight.hpp>
#include <twat_cache/errors.hpp>
#include <twat_cache/key.hpp>
#include <twat_cache/logging.hpp>
#include <twat_cache/options.hpp>
#include <twat_cache/paths.hpp>
#include <utility>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace detail {

/// Version of the entry framing below and of the key layout. It is part of every key, so a
/// build that frames entries otherwise finds none of this one's (a miss, never a misread).
inline constexpr int network_format_version = 1;

struct network_endpoint {
  std::string host;
  int port = 0;
};

/// redis_options or memcached_options, validated, in one shape.
struct network_config {
  std::vector<network_endpoint> servers;
  std::string user;      ///< redis ACL user; empty: the default user
  std::string password;  ///< redis AUTH; empty: none
  int db = 0;            ///< redis SELECT
  std::string name;
  std::optional<std::chrono::nanoseconds> ttl;
  bool compress = false;
  bool lock = false;
  std::chrono::milliseconds connect_timeout{};
  std::chrono::milliseconds command_timeout{};
  std::chrono::milliseconds lock_timeout{};
  std::size_t pool_size = 1;

  /// "host:port[,host:port...]", for messages.
  [[nodiscard]] std::string where() const {
    std::string out;
    for (const auto& s : servers)
      out += (out.empty() ? "" : ",") + s.host + ":" + std::to_string(s.port);
    return out;
  }
};

/// A url with its password hidden, for messages.
[[nodiscard]] inline std::string url_for_messages(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  const std::size_t at = url.rfind('@');
  if (scheme_end == std::string_view::npos || at == std::string_view::npos || at < scheme_end) {
    return printable(url);
  }
  return printable(url.substr(0, scheme_end + 3)) + "***" + printable(url.substr(at));
}

/// A port number, or nullopt when `text` is not one (1 to 65535, digits only).
[[nodiscard]] inline std::optional<int> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int port = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

/// host[:port] or [ipv6][:port]; throws via `fail(why)`.
template <class Fail>
[[nodiscard]] network_endpoint parse_endpoint(std::string_view text, int default_port,
                                              Fail&& fail) {
  network_endpoint e;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) fail("an IPv6 address lacks its ']'");
    e.host = std::string(text.substr(1, close - 1));
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) fail("text follows the IPv6 address");
    if (!rest.empty()) port_text = rest.substr(1);
  } else {
    const std::size_t colon = text.find(':');
    e.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) port_text = text.substr(colon + 1);
    if (colon != std::string_view::npos && port_text.empty()) fail("the port is empty");
  }
  if (e.host.empty()) fail("the host is empty");
  for (const char c : e.host) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_' || c == ':';
    if (!plain) fail("the host contains '" + printable(std::string_view(&c, 1)) + "'");
  }
  e.port = default_port;
  if (!port_text.empty()) {
    const auto port = parse_port(port_text);
    if (!port) fail("the port \"" + printable(port_text) + "\" is not a number from 1 to 65535");
    e.port = *port;
  }
  return e;
}

/// Parses redis://[[user]:password@]host[:port][/db] into `c`.
inline void parse_redis_url(std::string_view field, std::string_view url, network_config& c) {
  auto fail = [&](const std::string& why) {
    throw config_error(std::string(field) + " = \"" + url_for_messages(url) +
                       "\" is invalid: " + why +
                       "; use redis://[[user]:password@]host[:port][/db], e.g. "
                       "\"redis://127.0.0.1:6379/0\"");
  };
  if (url.empty()) {
    throw config_error(std::string(field) +
                       " is required: the redis server, e.g. \"redis://127.0.0.1:6379\"");
  }
  if (url.starts_with("rediss://")) {
    fail("TLS (rediss://) is not supported by this version (hiredis is built without it)");
  }
  if (!url.starts_with("redis://")) fail("it does not start with redis://");
  std::string_view rest = url.substr(8);
  const std::size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      fail(
          "the part before '@' has no ':' (a user without a password?); write :password@ or "
          "user:password@");
    }
    c.user = std::string(userinfo.substr(0, colon));
    c.password = std::string(userinfo.substr(colon + 1));
    if (c.password.empty()) fail("the password before '@' is empty");
    rest = rest.substr(at + 1);
  }
  const std::size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      if (db.size() > 5 ||
          !std::all_of(db.begin(), db.end(), [](char d) { return d >= '0' && d <= '9'; })) {
        fail("the database \"" + printable(db) + "\" is not a number");
      }
      c.db = std::stoi(std::string(db));
    }
    rest = rest.substr(0, slash);
  }
  c.servers = {parse_endpoint(rest, 6379, fail)};
}

/// Parses memcached://host[:port][,host[:port]...] into `c`.
inline void parse_memcached_url(std::string_view field, std::string_view url, network_config& c) {
  auto fail = [&](const std::string& why) {
    throw config_error(std::string(field) + " = \"" + url_for_messages(url) +
                       "\" is invalid: " + why +
                       "; use memcached://host[:port][,host[:port]...], e.g. "
                       "\"memcached://10.0.0.1:11211,10.0.0.2:11211\"");
  };
  if (url.empty()) {
    throw config_error(std::string(field) +
                       " is required: the memcached servers, e.g. \"memcached://127.0.0.1:11211\"");
  }
  if (!url.starts_with("memcached://")) fail("it does not start with memcached://");
  std::string_view rest = url.substr(12);
  if (rest.find('@') != std::string_view::npos) fail("memcached takes no password here");
  if (rest.find('/') != std::string_view::npos) fail("memcached has no database to select");
  for (;;) {
    const std::size_t comma = rest.find(',');
    c.servers.push_back(parse_endpoint(rest.substr(0, comma), 11211, fail));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
}

/// Validates the options of a networked engine; `where` is "redis_options" or
/// "memcached_options". Throws config_error naming the field.
template <class Options>
[[nodiscard]] network_config validate_network(std::string_view where, const Options& o) {
  network_config c;
  const std::string field = std::string(where) + ".url";
  if constexpr (std::is_same_v<Options, redis_options>) {
    parse_redis_url(field, o.url, c);
  } else {
    parse_memcached_url(field, o.url, c);
  }
  validate_function_name(where, o.name);
  validate_ttl(where, o.ttl);
  auto positive = [&](std::string_view name, std::chrono::milliseconds t) {
    if (t.count() <= 0) {
      throw config_error(std::string(where) + "." + std::string(name) + " = " +
                         std::to_string(t.count()) + "ms is invalid: use a positive duration");
    }
  };
  positive("connect_timeout", o.connect_timeout);
  positive("command_timeout", o.command_timeout);
  positive("lock_timeout", o.lock_timeout);
  if (o.pool_size == 0) {
    throw config_error(std::string(where) +
                       ".pool_size = 0 is invalid: keep at least 1 connection");
  }
  c.name = o.name;
  c.ttl = o.ttl;
  c.compress = o.compress;
  c.lock = o.lock;
  c.connect_timeout = o.connect_timeout;
  c.command_timeout = o.command_timeout;
  c.lock_timeout = o.lock_timeout;
  c.pool_size = o.pool_size;
  return c;
}

/// ttl in whole milliseconds, rounded up (a server keeps no finer time).
[[nodiscard]] inline std::int64_t ttl_milliseconds(std::chrono::nanoseconds ttl) noexcept {
  return std::max<std::int64_t>(1, (ttl.count() + 999'999) / 1'000'000);
}

// ---------------------------------------------------------------------------------------------
// Keys and entries on the server.

/// Where a function's entries live: twat_cache:<format>:<name>:<32 hex digits of the key's
/// 128-bit hash>. Names are plain ([A-Za-z0-9._-]), so the prefix is also a literal glob.
[[nodiscard]] inline std::string network_key_prefix(std::string_view name) {
  return "twat_cache:" + std::to_string(network_format_version) + ":" + std::string(name) + ":";
}

/// Appends the 32 hex digits of `h` to `out`.
inline void append_hex(std::string& out, const hash128& h) {
  constexpr char digits[] = "0123456789abcdef";
  for (const std::uint64_t word : {h.high, h.low}) {
    for (int shift = 60; shift >= 0; shift -= 4)
      out += digits[(word >> shift) & 0xf];
  }
}

inline constexpr std::string_view entry_magic = "twc1";

/// An entry as stored: magic, the full key bytes (compared on read: a hash collision is a miss),
/// raw size + 1 (0: the payload is the encoding itself; n + 1: zstd of an n-byte encoding), a
/// checksum of key and payload, the payload.
[[nodiscard]] inline std::string frame_entry(std::string_view key_bytes, const packed_value& v) {
  std::string out;
  out.reserve(entry_magic.size() + key_bytes.size() + v.bytes.size() + 24);
  out += entry_magic;
  encoder e(out);
  e.varint(key_bytes.size());
  e.bytes(key_bytes.data(), key_bytes.size());
  e.varint(static_cast<std::uint64_t>(v.raw_size + 1));
  e.scalar(checksum(key_bytes, v.bytes));
  e.bytes(v.bytes.data(), v.bytes.size());
  return out;
}

enum class entry_state : std::uint8_t { value, other_key, damaged };

/// The value in a stored entry for `key_bytes`: `state` says whether it was there, belongs to
/// another key (a plain miss), or does not read (a counted one, with `why`).
template <class Value>
[[nodiscard]] std::optional<Value> unframe_entry(std::string_view stored,
                                                 std::string_view key_bytes, entry_state& state,
                                                 std::string_view& why) {
  state = entry_state::damaged;
  if (!stored.starts_with(entry_magic)) {
    why = "it is not a twat_cache entry (written by another client?)";
    return std::nullopt;
  }
  decoder d(stored.substr(entry_magic.size()));
  std::uint64_t key_size = 0;
  std::uint64_t raw_size_plus_one = 0;
  std::uint64_t sum = 0;
  const unsigned char* key = nullptr;
  if (!d.varint(key_size) || key_size > d.remaining() ||
      (key = d.take(static_cast<std::size_t>(key_size))) == nullptr ||
      !d.varint(raw_size_plus_one) || raw_size_plus_one > max_decompressed_size + 1 ||
      !d.scalar(sum)) {
    why = "it is truncated or altered";
    return std::nullopt;
  }
  if (std::string_view(reinterpret_cast<const char*>(key), static_cast<std::size_t>(key_size)) !=
      key_bytes) {
    state = entry_state::other_key;
    return std::nullopt;
  }
  const std::string_view payload = stored.substr(stored.size() - d.remaining());
  if (checksum(key_bytes, payload) != sum) {
    why = "its checksum does not match";
    return std::nullopt;
  }
  auto value = unpack_value<Value>(payload, static_cast<std::int64_t>(raw_size_plus_one) - 1, why);
  if (value) state = entry_state::value;
  return value;
}

// ---------------------------------------------------------------------------------------------
// Health and errors.

/// After a failure the server is skipped for a pause that doubles on each further failure (from
/// min_pause to max_pause), so a dead server costs one timeout per pause, not one per call; the
/// first call after the pause tries again, and a success ends the pauses.
class server_health {
 public:
  static constexpr std::chrono::milliseconds min_pause{50};
  static constexpr std::chrono::milliseconds max_pause{2000};

  [[nodiscard]] bool should_try() const noexcept {
    const std::int64_t retry_at = retry_at_ns_.load(std::memory_order_relaxed);
    return retry_at == 0 || now_ns() >= retry_at;
  }
  void failed() noexcept {
    const std::int64_t before = pause_ns_.load(std::memory_order_relaxed);
    const std::int64_t pause = std::clamp<std::int64_t>(before * 2, ns(min_pause), ns(max_pause));
    pause_ns_.store(pause, std::memory_order_relaxed);
    retry_at_ns_.store(now_ns() + pause, std::memory_order_relaxed);
  }
  void succeeded() noexcept {
    if (retry_at_ns_.load(std::memory_order_relaxed) != 0) {
      retry_at_ns_.store(0, std::memory_order_relaxed);
      pause_ns_.store(0, std::memory_order_relaxed);
    }
  }

 private:
  static std::int64_t ns(std::chrono::milliseconds d) noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  }
  static std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  std::atomic<std::int64_t> retry_at_ns_{0};
  std::atomic<std::int64_t> pause_ns_{0};
};

/// Counts a failed exchange with a server and warns once per engine and kind of failure.
inline void report_network_error(persistent_counters& counters, std::string_view engine,
                                 const network_config& c, std::string_view what,
                                 std::string_view why) {
  counters.add(counters.errors);
  log_once(log_level::warning, "net." + std::string(engine),
           std::string(engine) + " at " + c.where() + ": " + std::string(what) + " failed: " +
               std::string(why) + " (the call goes to the function; counted in stats().errors)");
}

/// Counts an entry that was there but does not read, and warns once per engine.
inline void report_damaged_entry(persistent_counters& counters, std::string_view engine,
                                 const network_config& c, std::string_view why) {
  counters.add(counters.errors);
  log_once(log_level::error, "data." + std::string(engine),
           "an entry of \"" + c.name + "\" on " + std::string(engine) + " at " + c.where() +
               " was ignored: " + std::string(why) + " (counted as a miss)");
}

// ---------------------------------------------------------------------------------------------
// Single flight across processes.

enum class lock_result : std::uint8_t { acquired, held, failed };

/// The value for a key that missed, computed by one process at a time: the caller that takes the
/// key's lock (`try_lock`) looks once more (`peek`), else computes and stores it (`compute`) and
/// releases the lock (`unlock`); the others poll `peek` with a growing pause (1 to 50 ms) until
/// the value appears, or try the lock again (it is released, or lapsed after lock_timeout). A
/// server that cannot be asked (`failed`), or a wait past lock_timeout, is a plain computation.
template <class Value, class TryLock, class Unlock, class Peek, class Compute>
Value compute_once_across_processes(std::chrono::milliseconds lock_timeout, TryLock&& try_lock,
                                    Unlock&& unlock, Peek&& peek, Compute&& compute) {
  const auto deadline = std::chrono::steady_clock::now() + lock_timeout;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    switch (try_lock()) {
      case lock_result::acquired: {
        struct release {
          Unlock& unlock;
          ~release() { unlock(); }
        } guard{unlock};
        if (std::optional<Value> stored = peek()) return std::move(*stored);
        return compute();
      }
      case lock_result::failed:
        return compute();
      case lock_result::held:
        break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return compute();
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
    if (std::optional<Value> stored = peek()) return std::move(*stored);
  }
}

/// What the networked engines share over their transport: get, peek and contains (from
/// persistent_reads, over the engine's lookup(key, counted)), and single flight after a miss: in
/// this process through a gate; across processes, with `lock`, through the key's lock key
/// (compute_once_across_processes). The engine gives lookup, put, lock_key(owned key),
/// try_lock(lock key), unlock(lock key) and config_, and befriends this class.
template <class Engine, class Key, class Value>
class networked_engine_base : public persistent_reads<Engine, Value> {
 public:
  /// Validates `options` (config_error naming the field of `where`, "redis_options", ...).
  template <class Options>
  networked_engine_base(std::string_view where, const Options& options)
      : config_(validate_network(where, options)),
        keys_(config_.name),
        prefix_(network_key_prefix(config_.name)),
        token_(std::to_string(std::random_device{}()) + "-" +
               std::to_string(std::random_device{}())) {}

  template <class K, class MakeKey, class Compute, class OnStoreError>
  Value get_or_compute(const K&, MakeKey&& make_key, Compute&& compute,
                       OnStoreError&& on_store_error) {
    Engine& self = static_cast<Engine&>(*this);
    const Key owned = make_key();
    const std::uint64_t hash = key_hash<Key>{}(owned);
    const std::uint64_t generation = fence_.generation(hash);  // an erase() from now keeps it out
    auto compute_and_store = [&]() -> Value {
      Value value = compute();
      try {
        fence_.store_if_current(hash, generation, [&] { self.put(owned, value); });
      } catch (...) {
        on_store_error(std::current_exception());
      }
      return value;
    };
    // No second look before computing without `lock`: it would be one more round trip on every
    // miss, to save a computation in a rare race that computing twice resolves anyway.
    auto no_second_look = [] { return std::optional<Value>(); };
    return gate_.run(hash, owned, generation, no_second_look, [&]() -> Value {
      if (!self.config_.lock) return compute_and_store();
      const std::string lock_key = self.lock_key(owned);
      return compute_once_across_processes<Value>(
          self.config_.lock_timeout, [&] { return self.try_lock(lock_key); },
          [&] { self.unlock(lock_key); }, [&] { return self.peek(owned); }, compute_and_store);
    });
  }

 protected:
  network_config config_;
  persistent_keys<Key, Value> keys_;
  std::string prefix_;  ///< network_key_prefix(name)
  std::string token_;   ///< what our lock keys hold: a lock is released only by its taker
  /// erase() and clear() against the stores of this process's computations they overtook.
  invalidation_fence fence_;

 private:
  flight_gate<Key, Value> gate_;
};

}  // namespace detail
TWAT_CACHE_END_NAMESPACE
