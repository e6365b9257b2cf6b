#pragma once
/// The SQLite engine of bcache: one database per folder_name, shared by every function (`name`)
/// and every process that uses that folder.
///
/// Table `entries`, one row per entry: `id` (the high 64 bits of the key's 128-bit hash, the
/// rowid, so a lookup is one B-tree search), `name`, the full `key` bytes (compared on every hit:
/// a hash collision is a miss, never another key's value), the `value` bytes (zstd when
/// `raw_size` >= 0), a `checksum` of key and value (an altered row is a miss), the stored `size`,
/// the `stored` and `expires` times (ns since the Unix epoch). Table `totals` keeps each name's
/// count and bytes, maintained by triggers in the writing transaction, so limits are exact across
/// processes.
///
/// Eviction is least-recently-stored: a hit only reads (no write transaction per hit, which
/// would cost more than the lookup and serialize every reader process); a write evicts the
/// oldest entries of its name beyond maxsize / max_bytes in the same transaction.
///
/// Concurrency: WAL (readers never wait for the writer), a busy timeout for writers, one
/// connection per concurrent caller from a small pool, each with its statements prepared once.

#include <sqlite3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <twat_cache/codec.hpp>
#include <twat_cache/detail/persistent.hpp>
#include <twat_cache/errors.hpp>
#include <twat_cache/logging.hpp>
#include <twat_cache/options.hpp>
#include <twat_cache/stats.hpp>
#include <utility>
#include <vector>

TWAT_CACHE_BEGIN_NAMESPACE
namespace engines {

namespace detail_sqlite {

/// Version of the tables below; a database with another is left alone (fallback to memory).
inline constexpr int schema_version = 1;
inline constexpr int busy_timeout_ms = 10000;
inline constexpr std::string_view database_file = twat_cache::detail::sqlite_database_file;
/// Puts between two sweeps of expired entries.
inline constexpr std::uint64_t expiry_sweep_interval = 256;

/// Names with maxsize, max_bytes or ttl are "tracked": their rows are in the index by age (for
/// eviction and expiry sweeps) and counted in `totals` (for exact limits across processes), both
/// kept in the writing transaction. Other names' rows are in neither, so storing one writes a
/// single B-tree: what an untracked cache pays over a plain INSERT is small. A name becomes
/// tracked, with its existing rows, when a cache with limits opens it.
inline constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS twat_cache_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO twat_cache_meta(key, value) VALUES ('schema', 1);
CREATE TABLE IF NOT EXISTS entries(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  key BLOB NOT NULL,
  value BLOB NOT NULL,
  raw_size INTEGER NOT NULL,
  checksum INTEGER NOT NULL,
  size INTEGER NOT NULL,
  stored INTEGER NOT NULL,
  expires INTEGER,
  tracked INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tracked_names(name TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_by_age ON entries(name, stored) WHERE tracked = 1;
CREATE TABLE IF NOT EXISTS totals(
  name TEXT PRIMARY KEY, count INTEGER NOT NULL, bytes INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS entries_added AFTER INSERT ON entries WHEN new.tracked = 1 BEGIN
  INSERT INTO totals(name, count, bytes) SELECT new.name, 0, 0
    WHERE NOT EXISTS (SELECT 1 FROM totals WHERE name = new.name);
  UPDATE totals SET count = count + 1, bytes = bytes + new.size WHERE name = new.name;
END;
CREATE TRIGGER IF NOT EXISTS entries_removed AFTER DELETE ON entries WHEN old.tracked = 1 BEGIN
  UPDATE totals SET count = count - 1, bytes = bytes - old.size WHERE name = old.name;
END;
CREATE TRIGGER IF NOT EXISTS entries_replaced AFTER UPDATE ON entries
  WHEN old.tracked = 1 OR new.tracked = 1 BEGIN
  UPDATE totals SET count = count - 1, bytes = bytes - old.size
    WHERE old.tracked = 1 AND name = old.name;
  INSERT INTO totals(name, count, bytes) SELECT new.name, 0, 0
    WHERE new.tracked = 1 AND NOT EXISTS (SELECT 1 FROM totals WHERE name = new.name);
  UPDATE totals SET count = count + 1, bytes = bytes + new.size
    WHERE new.tracked = 1 AND name = new.name;
END;
)sql";
// (Not INSERT OR IGNORE in the triggers: under the upsert that stores entries, SQLite applies
// the outer statement's conflict handling to them, and the IGNORE is lost.)

/// A prepared statement, reset whenever a use of it ends.
class statement {
 public:
  statement() = default;
  statement(sqlite3* db, std::string_view sql) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt_, nullptr) != SQLITE_OK) {
      throw engine_unavailable(std::string("cannot prepare `") + std::string(sql) +
                               "`: " + sqlite3_errmsg(db));
    }
  }
  statement(statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  statement& operator=(statement&& other) noexcept {
    if (this != &other) {
      sqlite3_finalize(stmt_);
      stmt_ = std::exchange(other.stmt_, nullptr);
    }
    return *this;
  }
  ~statement() { sqlite3_finalize(stmt_); }

  [[nodiscard]] sqlite3_stmt* get() const noexcept { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

/// Resets a statement (and drops its bindings' references) when a use of it ends, however.
class use {
 public:
  explicit use(const statement& s) noexcept : stmt_(s.get()) {}
  use(const use&) = delete;
  use& operator=(const use&) = delete;
  ~use() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  use& bind(int index, std::int64_t v) {
    sqlite3_bind_int64(stmt_, index, v);
    return *this;
  }
  use& bind_text(int index, std::string_view v) {
    sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  use& bind_blob(int index, std::string_view v) {
    sqlite3_bind_blob64(stmt_, index, v.data(), v.size(), SQLITE_STATIC);
    return *this;
  }
  use& bind_null(int index) {
    sqlite3_bind_null(stmt_, index);
    return *this;
  }
  [[nodiscard]] int step() noexcept { return sqlite3_step(stmt_); }
  [[nodiscard]] std::int64_t integer(int column) const noexcept {
    return sqlite3_column_int64(stmt_, column);
  }
  [[nodiscard]] bool is_null(int column) const noexcept {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }
  [[nodiscard]] std::string_view blob(int column) const noexcept {
    const void* data = sqlite3_column_blob(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    return data == nullptr
               ? std::string_view()
               : std::string_view(static_cast<const char*>(data), static_cast<std::size_t>(size));
  }

 private:
  sqlite3_stmt* stmt_;
};

// This process never opens and closes the database file itself once it may exist: closing any
// descriptor of a file drops every POSIX lock the process holds on it, SQLite's included (in WAL
// mode a connection holds one for its whole life), and other processes then write past them.

/// The database file's status without following a symlink; throws unless it is a regular file.
inline struct stat regular_file_status(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    throw engine_unavailable("cannot open " + path.string() + ": " +
                             twat_cache::detail::errno_text(errno));
  }
  if (S_ISLNK(st.st_mode)) {
    throw engine_unavailable("cannot open " + path.string() +
                             ": it is a symbolic link (refusing to follow it)");
  }
  if (!S_ISREG(st.st_mode)) throw engine_unavailable(path.string() + " is not a regular file");
  return st;
}

/// Creates the database file 0600 (whatever the umask) when there is none; an existing one is
/// only looked at (it may be another program's, or in use by this process's connections).
inline void create_database_file(const std::filesystem::path& path) {
  // Serialised so that no connection of this process opens a file this thread has just made
  // before the descriptor that made it is closed.
  static std::mutex creating;
  const std::lock_guard lock(creating);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);  // a new, empty file: no connection has it yet
    return;
  }
  if (errno != EEXIST) {
    throw engine_unavailable("cannot open " + path.string() + ": " +
                             twat_cache::detail::errno_text(errno));
  }
  static_cast<void>(regular_file_status(path));
}

/// Sets a cache database's mode to 0600 if others may read it, by path (no descriptor: see above).
inline void make_private(const std::filesystem::path& path) {
  const struct stat st = regular_file_status(path);
  if ((st.st_mode & 077) != 0 && ::chmod(path.c_str(), 0600) != 0) {
    throw engine_unavailable("cannot set mode 0600 on " + path.string() + ": " +
                             twat_cache::detail::errno_text(errno));
  }
}

/// One connection with its statements. Used by one thread at a time (the pool sees to it).
struct connection {
  sqlite3* db = nullptr;
  statement select, insert, totals, count_untracked, is_tracked, track, track_rows, oldest, remove,
      sweep_expired, clear_name, erase_key, begin, commit, rollback;

  connection(const std::filesystem::path& path, durability durable, bool create_schema) {
    const int rc = sqlite3_open_v2(
        path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
        nullptr);
    if (rc != SQLITE_OK) {
      std::string why = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close(db);
      db = nullptr;
      throw engine_unavailable("cannot open " + path.string() + ": " + why);
    }
    try {
      sqlite3_busy_timeout(db, busy_timeout_ms);
      if (create_schema) {
        // Before anything changes the file: another program's or version's database keeps its
        // mode and journal. SQLite gives its -wal and -shm files the database's mode, so 0600
        // comes before WAL.
        check_ours();
        make_private(path);
      }
      // Switching a new database to WAL takes a lock that SQLite's busy handler does not wait
      // for, so processes opening one database at once retry it (and the schema) themselves.
      retrying_while_locked([&] { exec("PRAGMA journal_mode=WAL"); });
      exec(durable == durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
      if (create_schema) {
        retrying_while_locked([&] {
          exec("BEGIN IMMEDIATE");
          try {
            check_ours();  // again, in the write lock: another process may have written since
            exec(schema_sql);
            exec("COMMIT");
          } catch (...) {
            sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
          }
        });
      }
      prepare();
    } catch (...) {
      close();
      throw;
    }
  }
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection() { close(); }

  void exec(const char* sql) const {
    char* message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string why = message != nullptr ? message : sqlite3_errmsg(db);
      sqlite3_free(message);
      throw engine_unavailable(std::string("SQLite: ") + why);
    }
  }

  [[nodiscard]] std::string error_text() const { return sqlite3_errmsg(db); }

  /// Runs `step` again while the database is locked by another connection, for up to the busy
  /// timeout; any other failure, or the lock outlasting the timeout, is thrown.
  template <class Step>
  void retrying_while_locked(Step&& step) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
    for (auto pause = std::chrono::microseconds(200);; pause = std::min(pause * 2, max_pause)) {
      try {
        step();
        return;
      } catch (const engine_unavailable&) {
        const int code = sqlite3_errcode(db) & 0xff;
        if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) ||
            std::chrono::steady_clock::now() + pause > deadline) {
          throw;
        }
      }
      std::this_thread::sleep_for(pause);
    }
  }
  static constexpr std::chrono::microseconds max_pause{50000};

 private:
  /// Throws engine_unavailable unless the database is empty or a twat_cache cache of this
  /// schema version.
  void check_ours() {
    statement tables(db,
                     "SELECT count(*), sum(name = 'twat_cache_meta') FROM sqlite_master "
                     "WHERE type = 'table'");
    use t(tables);
    if (t.step() != SQLITE_ROW) throw engine_unavailable("SQLite: " + error_text());
    if (t.integer(0) == 0) return;  // a new database
    if (t.integer(1) != 1) {
      throw engine_unavailable("the database is not a twat_cache cache; it is left as it is");
    }
    statement version(db, "SELECT value FROM twat_cache_meta WHERE key = 'schema'");
    use v(version);
    if (v.step() != SQLITE_ROW || v.integer(0) != schema_version) {
      throw engine_unavailable(
          "the database was written by another version of twat_cache (schema " +
          std::to_string(v.integer(0)) + ", this one reads " + std::to_string(schema_version) +
          "); it is left as it is");
    }
  }

  void prepare() {
    select = statement(db,
                       "SELECT key, value, raw_size, checksum, expires FROM entries "
                       "WHERE id = ?1");
    insert =
        statement(db,
                  "INSERT INTO entries(id, name, key, value, raw_size, checksum, size, stored, "
                  "expires, tracked) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, EXISTS (SELECT "
                  "1 FROM tracked_names WHERE name = ?2)) ON CONFLICT(id) DO UPDATE SET "
                  "name = excluded.name, key = excluded.key, value = excluded.value, "
                  "raw_size = excluded.raw_size, checksum = excluded.checksum, "
                  "size = excluded.size, stored = excluded.stored, expires = excluded.expires, "
                  "tracked = excluded.tracked");
    totals = statement(db, "SELECT count, bytes FROM totals WHERE name = ?1");
    count_untracked = statement(db,
                                "SELECT count(*), coalesce(sum(size), 0) FROM entries WHERE "
                                "name = ?1");
    is_tracked = statement(db, "SELECT 1 FROM tracked_names WHERE name = ?1");
    track = statement(db, "INSERT INTO tracked_names(name) VALUES (?1)");
    track_rows = statement(db, "UPDATE entries SET tracked = 1 WHERE name = ?1 AND tracked = 0");
    // Never the row just written (?2): stored at the same time as older rows (a clock that did
    // not move, or ticks coarser than writes), it could sort first among them.
    oldest = statement(db,
                       "SELECT id FROM entries WHERE name = ?1 AND tracked = 1 AND id != ?2 "
                       "ORDER BY stored LIMIT 1");
    remove = statement(db, "DELETE FROM entries WHERE id = ?1");
    // Expired rows are looked for among the oldest stored only (one bounded index walk): with
    // one ttl per name they are exactly those.
    sweep_expired = statement(db,
                              "DELETE FROM entries WHERE id IN (SELECT id FROM (SELECT id, expires "
                              "FROM entries WHERE name = ?1 AND tracked = 1 ORDER BY stored "
                              "LIMIT 1024) WHERE "
                              "expires <= ?2)");
    clear_name = statement(db, "DELETE FROM entries WHERE name = ?1");
    erase_key = statement(db, "DELETE FROM entries WHERE id = ?1 AND key = ?2 RETURNING expires");
    begin = statement(db, "BEGIN IMMEDIATE");
    commit = statement(db, "COMMIT");
    rollback = statement(db, "ROLLBACK");
  }

  void close() noexcept {
    select = {}, insert = {}, totals = {}, count_untracked = {}, is_tracked = {}, track = {};
    track_rows = {}, oldest = {}, remove = {};
    sweep_expired = {}, clear_name = {}, erase_key = {}, begin = {}, commit = {}, rollback = {};
    if (db != nullptr) sqlite3_close(db);
    db = nullptr;
  }
};

}  // namespace detail_sqlite

/// bcache's engine. Thread-safe; several processes may share one folder.
template <class Key, class Value>
class sqlite : public twat_cache::detail::persistent_reads<sqlite<Key, Value>, Value> {
  friend class twat_cache::detail::persistent_reads<sqlite, Value>;
  using twat_cache::detail::persistent_reads<sqlite, Value>::counters_;
  static_assert(twat_cache::detail::require_encodable<Key>::value);
  static_assert(twat_cache::detail::require_encodable<Value>::value);
  using connection = detail_sqlite::connection;
  using use = detail_sqlite::use;

 public:
  using key_type = Key;
  using value_type = Value;

  /// Opens (creating when needed) the folder's database; throws config_error for bad options and
  /// engine_unavailable when the database cannot be used.
  explicit sqlite(const bcache_options& options)
      : config_(twat_cache::detail::validate_persistent("bcache_options", options)),
        keys_(config_.name) {
    const auto folder = twat_cache::detail::open_cache_folder(config_.folder_name);
    path_ = folder / detail_sqlite::database_file;
    detail_sqlite::create_database_file(path_);
    auto first = std::make_unique<connection>(path_, config_.durable, /*create_schema=*/true);
    if (config_.maxsize || config_.max_bytes || config_.ttl) track_name(*first);
    idle_.push_back(std::move(first));
  }
  sqlite(const sqlite&) = delete;
  sqlite& operator=(const sqlite&) = delete;
  ~sqlite() = default;

  [[nodiscard]] static constexpr std::string_view name() noexcept { return "sqlite"; }

  /// The database file.
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  void put(const Key& key, const Value& value) {
    const std::string key_bytes(keys_.bytes(key));
    const auto packed = twat_cache::detail::pack_value(value, config_.compress);
    const std::string_view value_bytes = packed.bytes;
    const std::uint64_t size = key_bytes.size() + value_bytes.size();
    if (config_.max_bytes && size > *config_.max_bytes) return;  // could never be kept
    const auto id = row_id(key_bytes);
    const std::int64_t now = twat_cache::detail::wall_now_ns(config_.clock);

    auto lease = acquire();
    write(*lease, [&](connection& c) {
      {
        use insert(c.insert);
        insert.bind(1, id).bind_text(2, config_.name).bind_blob(3, key_bytes);
        insert.bind_blob(4, value_bytes).bind(5, packed.raw_size);
        insert.bind(
            6, static_cast<std::int64_t>(twat_cache::detail::checksum(key_bytes, value_bytes)));
        insert.bind(7, static_cast<std::int64_t>(size)).bind(8, now);
        if (config_.ttl) {
          insert.bind(9, now + config_.ttl->count());
        } else {
          insert.bind_null(9);
        }
        if (insert.step() != SQLITE_DONE) fail(c, "inserting an entry");
      }
      if (config_.ttl &&
          puts_.fetch_add(1, std::memory_order_relaxed) % detail_sqlite::expiry_sweep_interval ==
              0) {
        use sweep(c.sweep_expired);
        sweep.bind_text(1, config_.name).bind(2, now);
        if (sweep.step() != SQLITE_DONE) fail(c, "removing expired entries");
        counters_.add(counters_.expirations, static_cast<std::uint64_t>(sqlite3_changes(c.db)));
      }
      evict_beyond_limits(c, id);
    });
  }

  /// Drops the entry for `key`; true if there was one. A database error is counted and logged,
  /// and reads as "there was none".
  template <class K>
  bool erase(const K& key) {
    const std::string key_bytes(keys_.bytes(key));
    bool erased = false;
    write_reporting("erasing an entry", [&](connection& c) {
      use erase(c.erase_key);
      erase.bind(1, row_id(key_bytes)).bind_blob(2, key_bytes);
      int rc = erase.step();
      // An expired row goes too, but was not there for the caller, as contains() says.
      for (; rc == SQLITE_ROW; rc = erase.step()) {
        erased = erased || erase.is_null(0) ||
                 erase.integer(0) > twat_cache::detail::wall_now_ns(config_.clock);
      }
      if (rc != SQLITE_DONE) fail(c, "erasing an entry");
    });
    return erased;
  }

  /// Removes this name's entries (other names in the folder keep theirs) and zeroes the
  /// counters. A database error is counted and logged.
  void clear() {
    counters_.reset();
    write_reporting("clearing", [&](connection& c) {
      use clear(c.clear_name);
      clear.bind_text(1, config_.name);
      if (clear.step() != SQLITE_DONE) fail(c, "clearing");
    });
  }

  /// Counters, with size and bytes read from the database: from `totals` for a tracked name,
  /// else by counting the name's rows (a scan of the table).
  [[nodiscard]] cache_stats stats() const {
    cache_stats s;
    counters_.fill(s);
    s.capacity = config_.maxsize.value_or(0);
    try {
      auto lease = acquire();
      bool tracked = false;
      {
        use is_tracked(lease->is_tracked);
        is_tracked.bind_text(1, config_.name);
        tracked = is_tracked.step() == SQLITE_ROW;
      }
      use totals(tracked ? lease->totals : lease->count_untracked);
      totals.bind_text(1, config_.name);
      if (totals.step() == SQLITE_ROW) {
        s.size = static_cast<std::uint64_t>(totals.integer(0));
        s.bytes = static_cast<std::uint64_t>(totals.integer(1));
      }
    } catch (const std::exception&) {
      ++s.errors;  // the counters are still worth returning
    }
    return s;
  }

 private:
  /// A pooled connection, returned to the pool when the lease ends.
  class lease {
   public:
    lease(const sqlite& owner, std::unique_ptr<connection> c) noexcept
        : owner_(&owner), c_(std::move(c)) {}
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease() {
      const std::lock_guard lock(owner_->pool_mutex_);
      owner_->idle_.push_back(std::move(c_));
    }
    connection& operator*() const noexcept { return *c_; }
    connection* operator->() const noexcept { return c_.get(); }

   private:
    const sqlite* owner_;
    std::unique_ptr<connection> c_;
  };

  lease acquire() const {
    {
      const std::lock_guard lock(pool_mutex_);
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return lease(*this, std::move(c));
      }
    }
    try {
      return lease(*this, std::make_unique<connection>(path_, config_.durable, false));
    } catch (const engine_unavailable& e) {
      throw cache_io_error(e.what());
    }
  }

  [[noreturn]] static void fail(const connection& c, std::string_view what) {
    throw cache_io_error("SQLite, " + std::string(what) + ": " + c.error_text());
  }

  /// Makes this name tracked (see schema_sql), with the rows it has already: once per database.
  void track_name(connection& c) {
    try {
      write(c, [&](connection& w) {
        {
          use is_tracked(w.is_tracked);
          is_tracked.bind_text(1, config_.name);
          if (is_tracked.step() == SQLITE_ROW) return;
        }
        use track(w.track);
        track.bind_text(1, config_.name);
        if (track.step() != SQLITE_DONE) fail(w, "tracking a name");
        use rows(w.track_rows);  // the update trigger counts them into totals
        rows.bind_text(1, config_.name);
        if (rows.step() != SQLITE_DONE) fail(w, "tracking a name's entries");
      });
    } catch (const cache_io_error& e) {
      throw engine_unavailable(e.what());
    }
  }

  /// write() for the calls that must not throw (erase, clear): a failure is counted and logged.
  template <class Body>
  void write_reporting(std::string_view what, Body&& body) noexcept {
    try {
      auto lease = acquire();
      write(*lease, body);
    } catch (const std::exception& e) {
      counters_.add(counters_.errors);
      twat_cache::detail::log_once(
          log_level::error, "io.sqlite.write",
          std::string(what) + " in " + path_.string() + " failed: " + e.what());
    }
  }

  /// Runs `body` in a write transaction, rolled back if anything in it fails.
  template <class Body>
  static void write(connection& c, Body&& body) {
    {
      use begin(c.begin);
      if (begin.step() != SQLITE_DONE) fail(c, "starting a write");
    }
    try {
      body(c);
      use commit(c.commit);
      if (commit.step() != SQLITE_DONE) fail(c, "committing a write");
    } catch (...) {
      use rollback(c.rollback);
      static_cast<void>(rollback.step());
      throw;
    }
  }

  /// Evicts the oldest rows of this name while over a limit, never `written` (the row just
  /// stored, which alone is within both: put() checks).
  void evict_beyond_limits(connection& c, std::int64_t written) {
    if (!config_.maxsize && !config_.max_bytes) return;
    for (;;) {
      std::int64_t count = 0;
      std::int64_t bytes = 0;
      {
        use totals(c.totals);
        totals.bind_text(1, config_.name);
        if (totals.step() != SQLITE_ROW) fail(c, "reading the totals");
        count = totals.integer(0);
        bytes = totals.integer(1);
      }
      const bool over =
          (config_.maxsize && count > static_cast<std::int64_t>(*config_.maxsize)) ||
          (config_.max_bytes && bytes > static_cast<std::int64_t>(*config_.max_bytes));
      if (!over) return;
      std::int64_t victim = 0;
      {
        use oldest(c.oldest);
        oldest.bind_text(1, config_.name).bind(2, written);
        if (oldest.step() != SQLITE_ROW) fail(c, "finding the oldest entry");
        victim = oldest.integer(0);
      }
      use remove(c.remove);
      remove.bind(1, victim);
      if (remove.step() != SQLITE_DONE) fail(c, "evicting");
      counters_.add(counters_.evictions);
    }
  }

  [[nodiscard]] static std::int64_t row_id(std::string_view key_bytes) noexcept {
    return static_cast<std::int64_t>(twat_cache::detail::key_hash128(key_bytes).high);
  }

  /// The live value for `key`, or nullopt: absent, expired, altered, undecodable or unreadable
  /// (the last three counted as errors when `counted`: get, not peek or contains).
  template <class K>
  std::optional<Value> lookup(const K& key, bool counted) {
    const std::string_view key_bytes = keys_.bytes(key);
    try {
      auto lease = acquire();
      use select(lease->select);
      select.bind(1, row_id(key_bytes));
      const int rc = select.step();
      if (rc == SQLITE_DONE) return std::nullopt;
      if (rc != SQLITE_ROW) fail(*lease, "looking up an entry");
      if (select.blob(0) != key_bytes) return std::nullopt;  // another key with this hash
      if (!select.is_null(4) &&
          select.integer(4) <= twat_cache::detail::wall_now_ns(config_.clock)) {
        if (counted) counters_.add(counters_.expirations);  // the store that follows replaces it
        return std::nullopt;
      }
      const std::string_view stored = select.blob(1);
      if (static_cast<std::uint64_t>(select.integer(3)) !=
          twat_cache::detail::checksum(key_bytes, stored)) {
        if (counted) counters_.damaged(name(), path_, "its checksum does not match");
        return std::nullopt;
      }
      std::string_view why;
      auto value = twat_cache::detail::unpack_value<Value>(stored, select.integer(2), why);
      if (!value && counted) counters_.damaged(name(), path_, why);
      return value;
    } catch (const std::exception& e) {
      if (counted) counters_.read_failed(name(), path_, e.what());
      return std::nullopt;
    }
  }

  twat_cache::detail::persistent_config config_;
  twat_cache::detail::persistent_keys<Key, Value> keys_;
  std::filesystem::path path_;
  mutable std::mutex pool_mutex_;  // guards idle_ only
  mutable std::vector<std::unique_ptr<connection>> idle_;
  std::atomic<std::uint64_t> puts_{0};
};

}  // namespace engines
TWAT_CACHE_END_NAMESPACE
