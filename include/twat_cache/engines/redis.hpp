#pragma once
/// The redis engine: a function's results shared by every process, on every host, that reaches
/// one redis server. Keys are twat_cache:<format>:<name>:<128-bit hash of the key bytes>; a value
/// carries the full key bytes and a checksum (a collision, or a value another client wrote, is a
/// miss). `ttl` is the server's own expiry (PX); the server's maxmemory policy does the evicting.
///
/// A server that is down, slow or refuses us never reaches the caller: the call goes to the
/// function, the failure is counted in stats().errors and logged once, and after a failure the
/// server is skipped for a pause that grows to 2 s (so a dead server costs no timeout per call).
/// Thread-safe: each call leases a connection from a small pool.

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
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
#include <twat_cache/key.hpp>
#include <twat_cache/options.hpp>
#include <twat_cache/stats.hpp>
#include <utility>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace engines {

namespace detail_redis {

/// A failed exchange (no connection, a timeout, a lost reply): the connection is closed and the
/// server paused.
class failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An error reply (READONLY on a replica, OOM, MOVED from a cluster): counted; the connection
/// still works and the server answers, so neither is dropped.
class refused : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct reply_deleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

struct context_deleter {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using context_ptr = std::unique_ptr<redisContext, context_deleter>;

[[nodiscard]] inline timeval to_timeval(std::chrono::milliseconds t) noexcept {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(t.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000);
  return tv;
}

[[nodiscard]] inline std::string_view text_of(const redisReply& r) noexcept {
  return r.str == nullptr ? std::string_view() : std::string_view(r.str, r.len);
}

/// Sends one command (binary-safe arguments) and returns its reply; an error reply is thrown
/// when `errors_throw`, else returned.
[[nodiscard]] inline reply_ptr command(redisContext& c,
                                       std::initializer_list<std::string_view> args,
                                       bool errors_throw = true) {
  const char* argv[8];
  std::size_t lengths[8];
  int n = 0;
  for (const std::string_view a : args) {
    argv[n] = a.data();
    lengths[n++] = a.size();
  }
  reply_ptr reply(static_cast<redisReply*>(redisCommandArgv(&c, n, argv, lengths)));
  if (!reply) throw failure(c.errstr[0] != '\0' ? c.errstr : "no reply");
  if (errors_throw && reply->type == REDIS_REPLY_ERROR) {
    throw refused("the server answered " + std::string(text_of(*reply)));
  }
  return reply;
}

/// A new connection: connected within connect_timeout, commands bounded by command_timeout,
/// authenticated and on the configured database.
[[nodiscard]] inline context_ptr connect(const twat_cache::detail::network_config& c) {
  const auto& server = c.servers.front();
  context_ptr ctx(
      redisConnectWithTimeout(server.host.c_str(), server.port, to_timeval(c.connect_timeout)));
  if (!ctx) throw failure("cannot allocate a connection");
  if (ctx->err != 0) throw failure(std::string("cannot connect: ") + ctx->errstr);
  if (redisSetTimeout(ctx.get(), to_timeval(c.command_timeout)) != REDIS_OK) {
    throw failure("cannot set the command timeout");
  }
  redisEnableKeepAlive(ctx.get());
  if (!c.password.empty()) {
    try {
      if (c.user.empty()) {
        static_cast<void>(command(*ctx, {"AUTH", c.password}));
      } else {
        static_cast<void>(command(*ctx, {"AUTH", c.user, c.password}));
      }
    } catch (const std::runtime_error& e) {  // no use of this connection without it
      throw failure(std::string("authentication (AUTH) was refused: ") + e.what());
    }
  }
  if (c.db != 0) {
    try {
      static_cast<void>(command(*ctx, {"SELECT", std::to_string(c.db)}));
    } catch (const std::runtime_error& e) {
      throw failure(std::string("selecting the database failed: ") + e.what());
    }
  }
  return ctx;
}

/// Deletes a lock key only while it still holds our token: a lock that lapsed and was taken by
/// another process stays theirs.
inline constexpr std::string_view unlock_script =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
    "else return 0 end";

}  // namespace detail_redis

/// The redis engine. Thread-safe; any number of processes may share one server.
template <class Key, class Value>
class redis : public twat_cache::detail::networked_engine_base<redis<Key, Value>, Key, Value> {
  friend class twat_cache::detail::persistent_reads<redis, Value>;
  friend class twat_cache::detail::networked_engine_base<redis, Key, Value>;
  using base = twat_cache::detail::networked_engine_base<redis, Key, Value>;
  using base::config_;
  using base::counters_;
  using base::fence_;
  using base::keys_;
  using base::prefix_;
  using base::token_;
  static_assert(twat_cache::detail::require_encodable<Key>::value);
  static_assert(twat_cache::detail::require_encodable<Value>::value);
  using context_ptr = detail_redis::context_ptr;
  using reply_ptr = detail_redis::reply_ptr;
  using failure = detail_redis::failure;

 public:
  using key_type = Key;
  using value_type = Value;

  /// Throws config_error for invalid options. Does not need the server to be up: until it is,
  /// calls go to the function (counted as errors).
  explicit redis(const redis_options& options) : base("redis_options", options) {}
  redis(const redis&) = delete;
  redis& operator=(const redis&) = delete;
  ~redis() = default;

  [[nodiscard]] static constexpr std::string_view name() noexcept { return "redis"; }

  void put(const Key& key, const Value& value) {
    if (!health_.should_try()) return;  // the get of this call already counted the failure
    const std::string key_bytes(keys_.bytes(key));
    const std::string entry = twat_cache::detail::frame_entry(
        key_bytes, twat_cache::detail::pack_value(value, config_.compress));
    const std::string where = server_key(key_bytes);
    exchange("storing an entry", true, [&](redisContext& c) {
      if (config_.ttl) {
        const std::string px = std::to_string(twat_cache::detail::ttl_milliseconds(*config_.ttl));
        static_cast<void>(detail_redis::command(c, {"SET", where, entry, "PX", px}));
      } else {
        static_cast<void>(detail_redis::command(c, {"SET", where, entry}));
      }
    });
  }

  /// Drops the entry for `key`; true if there was one.
  template <class K>
  bool erase(const K& key) {
    const auto invalidating =
        fence_.invalidating(key_hash<Key>{}(key));  // this process's computations of it
    const std::string where = server_key(keys_.bytes(key));
    bool erased = false;
    exchange("erasing an entry", true, [&](redisContext& c) {
      erased = detail_redis::command(c, {"DEL", where})->integer > 0;
    });
    return erased;
  }

  /// Removes this name's entries from the server (other names keep theirs) and zeroes the
  /// counters. Walks the keys with SCAN, so the server never blocks on it.
  void clear() {
    const auto invalidating = fence_.invalidating_all();  // this process's computations
    counters_.reset();
    scan_keys("clearing", [](redisContext& c, const redisReply& keys) {
      if (keys.elements == 0) return;
      std::vector<const char*> argv{"UNLINK"};
      std::vector<std::size_t> lengths{6};
      for (std::size_t i = 0; i < keys.elements; ++i) {
        argv.push_back(keys.element[i]->str);
        lengths.push_back(keys.element[i]->len);
      }
      reply_ptr reply(static_cast<redisReply*>(
          redisCommandArgv(&c, static_cast<int>(argv.size()), argv.data(), lengths.data())));
      if (!reply) throw failure(c.errstr);
    });
  }

  /// Counters; size is this name's keys on the server, counted with SCAN (a walk of the
  /// server's keys: fine now and then, not in a loop).
  [[nodiscard]] cache_stats stats() const {
    cache_stats s;
    counters_.fill(s);
    std::uint64_t size = 0;
    if (scan_keys(
            "counting entries",
            [&size](redisContext&, const redisReply& keys) { size += keys.elements; },
            /*counted=*/false)) {
      s.size = size;
    }
    return s;
  }

  /// The values of many keys in one round trip (a pipeline): what to call to warm a process
  /// up. Each is counted as a hit or a miss.
  [[nodiscard]] std::vector<std::optional<Value>> get_many(std::span<const Key> keys) {
    std::vector<std::optional<Value>> values(keys.size());
    std::vector<std::string> key_bytes;
    std::vector<std::string> wheres;
    key_bytes.reserve(keys.size());
    wheres.reserve(keys.size());
    for (const Key& key : keys) {
      key_bytes.emplace_back(keys_.bytes(key));
      wheres.push_back(server_key(key_bytes.back()));
    }
    exchange("looking up entries", true, [&](redisContext& c) {
      for (const std::string& where : wheres) {
        const char* argv[] = {"GET", where.data()};
        const std::size_t lengths[] = {3, where.size()};
        if (redisAppendCommandArgv(&c, 2, argv, lengths) != REDIS_OK) throw failure(c.errstr);
      }
      std::string refusal;  // an error reply leaves the connection good: every reply is read
      for (std::size_t i = 0; i < wheres.size(); ++i) {
        void* raw = nullptr;
        if (redisGetReply(&c, &raw) != REDIS_OK) throw failure(c.errstr);
        const reply_ptr reply(static_cast<redisReply*>(raw));
        if (reply->type == REDIS_REPLY_ERROR) {
          if (refusal.empty())
            refusal = "the server answered " + std::string(detail_redis::text_of(*reply));
          continue;
        }
        values[i] = from_reply(*reply, key_bytes[i], true);
      }
      if (!refusal.empty()) throw detail_redis::refused(refusal);  // one counted error, no pause
    });
    for (const auto& v : values)
      counters_.add(v ? counters_.hits : counters_.misses);
    return values;
  }

  /// True when the server answers (a PING); a failure counts as an error.
  [[nodiscard]] bool reachable() {
    return exchange("PING", true,
                    [](redisContext& c) { static_cast<void>(detail_redis::command(c, {"PING"})); });
  }

 private:
  /// An idle connection from the pool, or a new one.
  context_ptr take_connection() const {
    {
      const std::lock_guard lock(pool_mutex_);
      if (!idle_.empty()) {
        context_ptr c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
    }
    return detail_redis::connect(config_);
  }

  /// Returns a connection that served well to the pool (beyond pool_size, closes it).
  void give_back(context_ptr c) const noexcept {
    const std::lock_guard lock(pool_mutex_);
    if (idle_.size() < config_.pool_size) idle_.push_back(std::move(c));
  }

  /// Runs body(connection) unless the server is being skipped; true when it ran through. A
  /// failure closes the connection, starts a pause, and is counted and logged when `counted`.
  template <class Body>
  bool exchange(std::string_view what, bool counted, Body&& body) const noexcept {
    if (!health_.should_try()) {
      if (counted) {
        twat_cache::detail::report_network_error(counters_, name(), config_, what,
                                                 "the server failed moments ago");
      }
      return false;
    }
    std::string why;
    bool broken = true;
    try {
      context_ptr c = take_connection();  // closed, not given back, when the body fails
      try {
        body(*c);
      } catch (const detail_redis::refused&) {
        give_back(std::move(c));
        throw;
      }
      give_back(std::move(c));
      health_.succeeded();
      return true;
    } catch (const detail_redis::refused& e) {
      why = e.what();
      broken = false;
    } catch (const std::exception& e) {
      why = e.what();
    } catch (...) {
      why = "an unknown exception";
    }
    if (broken) {
      health_.failed();
      drop_idle();  // after a restart, each of them would fail once more
    }
    if (counted) twat_cache::detail::report_network_error(counters_, name(), config_, what, why);
    return false;
  }

  void drop_idle() const noexcept {
    std::vector<context_ptr> dropped;
    const std::lock_guard lock(pool_mutex_);
    dropped.swap(idle_);
  }

  /// The server key of some key bytes: the prefix (or the lock prefix) and the hash in hex.
  [[nodiscard]] std::string server_key(std::string_view key_bytes,
                                       std::string_view kind = {}) const {
    std::string out = prefix_;
    if (!kind.empty()) {
      out.pop_back();  // the ':' of the prefix: lock keys are not in the entries' namespace
      out += kind;
    }
    twat_cache::detail::append_hex(out, twat_cache::detail::key_hash128(key_bytes));
    return out;
  }

  /// The value in a GET reply for these key bytes, or nullopt (a damaged one is counted when
  /// `counted`).
  std::optional<Value> from_reply(const redisReply& reply, std::string_view key_bytes,
                                  bool counted) {
    if (reply.type == REDIS_REPLY_NIL) return std::nullopt;
    if (reply.type != REDIS_REPLY_STRING) throw failure("GET did not answer a string");
    twat_cache::detail::entry_state state{};
    std::string_view why;
    auto value = twat_cache::detail::unframe_entry<Value>(detail_redis::text_of(reply), key_bytes,
                                                          state, why);
    if (state == twat_cache::detail::entry_state::damaged && counted) {
      twat_cache::detail::report_damaged_entry(counters_, name(), config_, why);
    }
    return value;
  }

  /// The key of the lock a computing process holds for `owned` (with `lock`).
  [[nodiscard]] std::string lock_key(const Key& owned) const {
    return server_key(keys_.bytes(owned), "#lock:");
  }

  template <class K>
  std::optional<Value> lookup(const K& key, bool counted) {
    const std::string key_bytes(keys_.bytes(key));
    const std::string where = server_key(key_bytes);
    std::optional<Value> value;
    exchange("looking up an entry", counted, [&](redisContext& c) {
      const reply_ptr reply = detail_redis::command(c, {"GET", where});
      value = from_reply(*reply, key_bytes, counted);
    });
    return value;
  }

  twat_cache::detail::lock_result try_lock(const std::string& lock_key) {
    using twat_cache::detail::lock_result;
    lock_result result = lock_result::failed;
    const std::string px = std::to_string(config_.lock_timeout.count());
    exchange("taking a lock", false, [&](redisContext& c) {
      const reply_ptr reply = detail_redis::command(c, {"SET", lock_key, token_, "NX", "PX", px});
      result = reply->type == REDIS_REPLY_NIL ? lock_result::held : lock_result::acquired;
    });
    return result;
  }

  void unlock(const std::string& lock_key) {
    exchange("releasing a lock", false, [&](redisContext& c) {
      static_cast<void>(
          detail_redis::command(c, {"EVAL", detail_redis::unlock_script, "1", lock_key, token_}));
    });
  }

  /// Calls each(connection, array of keys) for every batch of this name's keys; true when the
  /// walk ended (a failure is counted and logged when `counted`).
  template <class Each>
  bool scan_keys(std::string_view what, Each&& each, bool counted = true) const {
    const std::string pattern = prefix_ + "*";
    return exchange(what, counted, [&](redisContext& c) {
      std::string cursor = "0";
      do {
        const reply_ptr reply =
            detail_redis::command(c, {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
            reply->element[0]->type != REDIS_REPLY_STRING ||
            reply->element[1]->type != REDIS_REPLY_ARRAY) {
          throw failure("SCAN answered something else than a cursor and keys");
        }
        cursor = std::string(detail_redis::text_of(*reply->element[0]));
        each(c, *reply->element[1]);
      } while (cursor != "0");  // SCAN's contract: a full walk ends at cursor 0
    });
  }

  mutable twat_cache::detail::server_health health_;
  mutable std::mutex pool_mutex_;  // guards idle_ only
  mutable std::vector<context_ptr> idle_;
};

}  // namespace engines
TWAT_CACHE_END_NAMESPACE
