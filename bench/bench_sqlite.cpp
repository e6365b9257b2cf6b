// bench_sqlite: bcache (the SQLite engine) against raw SQLite, measured in the same run.
//
// Measured (names are what scripts/bench_ratios.py pairs on: sqlite/<path>/<variant> against
// sqlite/<path>/raw):
//   sqlite/hit/raw          a raw prepared `SELECT key, value FROM t WHERE id = ?1` that finds its
//                           row, the key compared and the value copied into a std::string
//   sqlite/hit/bcache       a memoized (std::int64_t) -> std::string call that hits
//   sqlite/miss_insert/raw  the same SELECT missing, the value computed, then one autocommit
//                           INSERT of the row
//   sqlite/miss_insert/bcache  a memoized call with a key never seen: lookup miss, compute, store
//                           (no maxsize, max_bytes or ttl: an untracked name, one B-tree written)
// Informational rows (no goal), to show where the engine's extra time goes:
//   sqlite/hit/raw_engine_select  the raw side running the engine's own SELECT (5 columns) and
//                                 checksum on the same table
//   sqlite/miss_insert/raw_with_index   the raw miss, the table having the engine's index by age
//   sqlite/miss_insert/raw_with_totals  the raw miss, the table having the engine's per-name
//                                 count/bytes table kept by triggers
//   sqlite/miss_insert/raw_engine_schema  the raw side with what the engine keeps for a tracked
//                                 name (one with maxsize, max_bytes or ttl): that index and those
//                                 triggers, in a BEGIN IMMEDIATE ... COMMIT as the engine writes
//   sqlite/miss_insert/bcache_maxsize  bcache with maxsize = 2,000 on a full cache (a tracked
//                                 name): every store also evicts the oldest entry
//
// Method. Both sides use the same table shape (the engine's `entries` columns: id INTEGER PRIMARY
// KEY, name, key BLOB, value BLOB, raw_size, checksum, size, stored, expires), their own database
// file in one temporary folder, WAL, synchronous=NORMAL, connections opened with
// SQLITE_OPEN_NOMUTEX (as the engine's are) and statements prepared once. The raw rows have the
// engine's row ids (random 64-bit values: the engine's id is a hash of the key) and keys of the
// engine's key length, so both B-trees have the same shape. Values are 100 bytes, computed from the
// key (so the miss path's "compute" is trivial and the same on both sides).
//   Hits: 10,000 entries, visited in a fixed shuffled order; both databases are checkpointed (WAL
// emptied) and read through once before timing; each benchmark checks afterwards that every timed
// call was a hit.
//   Misses: a key never seen on every call (a counter from a fixed start). Disk use is bounded by
// emptying the table every 2,000 calls with the timer paused (state.PauseTiming/ResumeTiming), on
// both sides alike: bcache without maxsize never evicts, so its eviction costs nothing here, and
// both tables hold between 0 and 2,000 rows while timed. (bcache_maxsize instead keeps 2,000
// entries by evicting.) Each run starts from an empty table and the same key.
//
// TWAT_CACHE_DIR is set to a fresh folder from mkdtemp (under $TMPDIR, else /tmp) before any
// cache is made; main() removes it at exit. main() also starts and joins a thread first, as in
// bench_memory: glibc takes cheaper, non-atomic paths in a process that never did.
//
// Run: bench_sqlite --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//        --benchmark_min_time=0.2 --benchmark_format=json --benchmark_out=bench_sqlite.json
//        --benchmark_out_format=json && scripts/bench_ratios.py bench_sqlite.json
// (see docs/performance.md, section "bcache (SQLite)").

#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <twat_cache/bcache.hpp>

#include "bench_support.hpp"

#if !TWAT_CACHE_WITH_SQLITE
#error "bench_sqlite needs SQLite (TWAT_CACHE_WITH_SQLITE); bench/CMakeLists.txt skips it without"
#endif

namespace {

namespace tc = twat_cache;

constexpr std::size_t hit_entries = 10000;
constexpr std::size_t value_size = 100;
/// Calls between two emptyings of the miss benchmarks' tables (timer paused).
constexpr std::size_t miss_clear_period = 2000;
/// First key of the miss benchmarks: far from the hit keys.
constexpr std::int64_t miss_first_key = std::int64_t{1} << 40;

// ---- the memoized function: trivially cheap, so the cache's cost is what shows -----------------

/// 100 bytes that depend on k.
std::string make_value(std::int64_t k) {
  char head[32];
  const int n = std::snprintf(head, sizeof head, "value-%lld-", static_cast<long long>(k));
  std::string s(head, static_cast<std::size_t>(n));
  s.resize(value_size, static_cast<char>('a' + (k % 26 + 26) % 26));
  return s;
}

const auto f_value = [](std::int64_t k) -> std::string { return make_value(k); };

using memo_type = decltype(tc::bcache(f_value, tc::bcache_options{.name = "x"}));

// ---- errors -------------------------------------------------------------------------------------

struct bench_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Runs a benchmark body; an exception (a failed SQLite call) skips the benchmark with its text.
template <class Body>
void guarded(benchmark::State& state, Body&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

// ---- raw SQLite ---------------------------------------------------------------------------------

class raw_statement {
 public:
  raw_statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
      throw bench_error(std::string("prepare `") + sql + "`: " + sqlite3_errmsg(db));
  }
  raw_statement(const raw_statement&) = delete;
  raw_statement& operator=(const raw_statement&) = delete;
  ~raw_statement() { sqlite3_finalize(stmt_); }
  sqlite3_stmt* get() const noexcept { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

/// The columns of the engine's `entries` table (include/twat_cache/engines/sqlite.hpp).
constexpr const char* raw_table_sql =
    "CREATE TABLE IF NOT EXISTS t("
    "id INTEGER PRIMARY KEY, name TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, "
    "raw_size INTEGER NOT NULL, checksum INTEGER NOT NULL, size INTEGER NOT NULL, "
    "stored INTEGER NOT NULL, expires INTEGER)";

/// What the engine adds to that table: an index by age (for eviction) ...
constexpr const char* raw_index_sql = "CREATE INDEX IF NOT EXISTS t_by_age ON t(name, stored)";
/// ... and per-name totals (count and bytes, for limits and stats) kept by triggers.
constexpr const char* raw_totals_sql = R"sql(
CREATE TABLE IF NOT EXISTS totals(
  name TEXT PRIMARY KEY, count INTEGER NOT NULL, bytes INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS t_added AFTER INSERT ON t BEGIN
  INSERT INTO totals(name, count, bytes) SELECT new.name, 0, 0
    WHERE NOT EXISTS (SELECT 1 FROM totals WHERE name = new.name);
  UPDATE totals SET count = count + 1, bytes = bytes + new.size WHERE name = new.name;
END;
CREATE TRIGGER IF NOT EXISTS t_removed AFTER DELETE ON t BEGIN
  UPDATE totals SET count = count - 1, bytes = bytes - old.size WHERE name = old.name;
END;
)sql";

/// A raw connection configured as the engine configures its own.
class raw_db {
 public:
  explicit raw_db(const std::filesystem::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw bench_error("open " + path.string() + ": " + why);
    }
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
  }
  raw_db(const raw_db&) = delete;
  raw_db& operator=(const raw_db&) = delete;
  ~raw_db() { sqlite3_close(db_); }

  sqlite3* get() const noexcept { return db_; }

  void exec(const char* sql) const {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      const std::string why = message != nullptr ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      throw bench_error(std::string("`") + sql + "`: " + why);
    }
  }

  /// Empties the WAL into the database file, so reads do not depend on how it was written.
  void checkpoint() const { exec("PRAGMA wal_checkpoint(TRUNCATE)"); }

  [[noreturn]] void fail(const char* what) const {
    throw bench_error(std::string(what) + ": " + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_ = nullptr;
};

/// The raw side's database, a file of its own in the same temporary root as bcache's.
std::filesystem::path raw_path(const char* file) {
  const std::filesystem::path root = tc::get_cache_path();
  std::filesystem::create_directories(root / "raw");
  return root / "raw" / file;
}

/// A well-mixed 64-bit row id for k: the engine's ids are hashes, so both B-trees get random keys.
std::int64_t raw_id(std::int64_t k) {
  std::uint64_t z = static_cast<std::uint64_t>(k) + 0x9e3779b97f4a7c15ULL;  // splitmix64
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<std::int64_t>(z ^ (z >> 31));
}

/// The raw side's key bytes: a fixed prefix, then k, as long as the engine's key for the same
/// call (set from the engine's database at start: raw_key_prefix_size).
std::size_t raw_key_prefix_size = 24;

void make_raw_key(std::int64_t k, std::string& out) {
  out.assign(raw_key_prefix_size, 'k');
  char bytes[sizeof k];
  std::memcpy(bytes, &k, sizeof k);
  out.append(bytes, sizeof bytes);
}

/// A wall-clock time in ns since the epoch (late 2026), as the engine's `stored` column holds.
constexpr std::int64_t raw_stored_base = 1'795'000'000'000'000'000;

/// The INSERT of one row on the raw side, with every column bound as the engine binds it.
void raw_insert(const raw_db& db, sqlite3_stmt* insert, std::int64_t k, const std::string& key,
                const std::string& value) {
  sqlite3_bind_int64(insert, 1, raw_id(k));
  sqlite3_bind_text(insert, 2, "raw", 3, SQLITE_STATIC);
  sqlite3_bind_blob64(insert, 3, key.data(), key.size(), SQLITE_STATIC);
  sqlite3_bind_blob64(insert, 4, value.data(), value.size(), SQLITE_STATIC);
  sqlite3_bind_int64(insert, 5, -1);
  // checksum and stored as wide as the engine's (a 64-bit hash, ns since the epoch), so rows are
  // as long and the B-trees have as many pages
  sqlite3_bind_int64(insert, 6, raw_id(~k));
  sqlite3_bind_int64(insert, 7, static_cast<std::int64_t>(key.size() + value.size()));
  sqlite3_bind_int64(insert, 8, raw_stored_base + k);
  sqlite3_bind_null(insert, 9);
  if (sqlite3_step(insert) != SQLITE_DONE) db.fail("insert");
  sqlite3_reset(insert);
}

constexpr const char* raw_insert_sql =
    "INSERT INTO t(id, name, key, value, raw_size, checksum, size, stored, expires) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

// ---- keys ---------------------------------------------------------------------------------------

/// The hit keys 0 .. 9,999 in a fixed shuffled order.
const std::vector<std::int64_t>& hit_order() {
  static const std::vector<std::int64_t> order = [] {
    std::vector<std::int64_t> v(hit_entries);
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<std::int64_t>(i);
    std::shuffle(v.begin(), v.end(), std::mt19937_64(20240611));
    return v;
  }();
  return order;
}

inline std::size_t next(std::size_t i, std::size_t n) {
  return i + 1 == n ? 0 : i + 1;
}

// ---- bcache -------------------------------------------------------------------------------------

memo_type make_memo(const char* folder, const char* name, std::optional<std::size_t> maxsize = {}) {
  auto memo = tc::bcache(f_value, {.folder_name = folder, .name = name, .maxsize = maxsize});
  if (memo.backend() != "sqlite")
    throw bench_error("bcache fell back to " + std::string(memo.backend()) + ", not SQLite");
  return memo;
}

/// bcache's database file.
const std::filesystem::path& engine_db(const memo_type& memo) {
  return memo.engine().primary()->path();
}

/// Empties bcache's WAL into its database file, through a raw connection of our own.
void checkpoint(const memo_type& memo) {
  raw_db(engine_db(memo)).checkpoint();
}

// ---- hit benchmarks -----------------------------------------------------------------------------

constexpr const char* hit_folder = "hit";

void bench_bcache_hit(benchmark::State& state) {
  guarded(state, [&] {
    memo_type memo = make_memo(hit_folder, "hit");
    const auto& order = hit_order();
    for (const std::int64_t k : order)  // stores what the database does not hold yet
      benchmark::DoNotOptimize(memo(k));
    checkpoint(memo);
    for (const std::int64_t k : order)  // warm: reads every entry once more
      benchmark::DoNotOptimize(memo(k));
    const std::uint64_t misses_before = memo.stats().misses;
    std::size_t i = 0;
    for (auto _ : state) {
      std::string value = memo(order[i]);
      benchmark::DoNotOptimize(value);
      i = next(i, order.size());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    const tc::cache_stats s = memo.stats();
    if (s.misses != misses_before) state.SkipWithError("hits were not all hits");
    if (s.errors != 0) state.SkipWithError("the engine counted errors");
  });
}

/// The raw side's hit table, filled once (10,000 rows of the engine's key and value sizes).
std::filesystem::path raw_hit_db() {
  static const std::filesystem::path path = [] {
    const std::filesystem::path p = raw_path("hit.sqlite3");
    raw_db db(p);
    db.exec(raw_table_sql);
    db.exec("DELETE FROM t");
    db.exec("BEGIN");
    {
      raw_statement insert(db.get(), raw_insert_sql);
      std::string key;
      for (std::size_t k = 0; k < hit_entries; ++k) {
        make_raw_key(static_cast<std::int64_t>(k), key);
        raw_insert(db, insert.get(), static_cast<std::int64_t>(k), key,
                   make_value(static_cast<std::int64_t>(k)));
      }
    }
    db.exec("COMMIT");
    db.checkpoint();
    return p;
  }();
  return path;
}

/// One raw lookup: the row for k, its key compared, its value copied out. False on a miss.
inline bool raw_lookup(sqlite3_stmt* select, std::int64_t k, std::string& key, std::string& value) {
  make_raw_key(k, key);
  sqlite3_bind_int64(select, 1, raw_id(k));
  bool found = false;
  if (sqlite3_step(select) == SQLITE_ROW) {
    const auto* stored_key = static_cast<const char*>(sqlite3_column_blob(select, 0));
    const auto key_size = static_cast<std::size_t>(sqlite3_column_bytes(select, 0));
    if (key_size == key.size() && std::memcmp(stored_key, key.data(), key_size) == 0) {
      const auto* bytes = static_cast<const char*>(sqlite3_column_blob(select, 1));
      value.assign(bytes, static_cast<std::size_t>(sqlite3_column_bytes(select, 1)));
      found = true;
    }
  }
  sqlite3_reset(select);
  return found;
}

void bench_raw_hit(benchmark::State& state) {
  guarded(state, [&] {
    raw_db db(raw_hit_db());
    raw_statement select(db.get(), "SELECT key, value FROM t WHERE id = ?1");
    const auto& order = hit_order();
    std::string key;
    std::string value;
    for (const std::int64_t k : order)  // warm
      raw_lookup(select.get(), k, key, value);
    std::size_t misses = 0;
    std::size_t i = 0;
    for (auto _ : state) {
      std::string out;  // a fresh string per call, as a memoized call returns one
      if (!raw_lookup(select.get(), order[i], key, out)) ++misses;
      benchmark::DoNotOptimize(out);
      i = next(i, order.size());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    if (misses != 0) state.SkipWithError("hits were not all hits");
  });
}

/// Informational: the engine's own SELECT and checks on the raw table (5 columns, key compared,
/// expiry looked at, checksum of key and value), still without the engine's C++ around it.
void bench_raw_hit_engine_select(benchmark::State& state) {
  guarded(state, [&] {
    raw_db db(raw_hit_db());
    raw_statement select(db.get(),
                         "SELECT key, value, raw_size, checksum, expires FROM t WHERE id = ?1");
    sqlite3_stmt* s = select.get();
    const auto& order = hit_order();
    std::string key;
    std::size_t misses = 0;
    auto call = [&](std::int64_t k, std::string& out) {
      make_raw_key(k, key);
      sqlite3_bind_int64(s, 1, raw_id(k));
      bool found = false;
      if (sqlite3_step(s) == SQLITE_ROW) {
        const std::string_view stored_key(static_cast<const char*>(sqlite3_column_blob(s, 0)),
                                          static_cast<std::size_t>(sqlite3_column_bytes(s, 0)));
        const bool live = sqlite3_column_type(s, 4) == SQLITE_NULL;
        const std::string_view bytes(static_cast<const char*>(sqlite3_column_blob(s, 1)),
                                     static_cast<std::size_t>(sqlite3_column_bytes(s, 1)));
        const std::uint64_t sum = tc::detail::checksum(stored_key, bytes);
        benchmark::DoNotOptimize(sum);
        if (stored_key == key && live && sqlite3_column_int64(s, 2) < 0) {
          out.assign(bytes);
          found = true;
        }
      }
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
      return found;
    };
    for (const std::int64_t k : order) {  // warm
      std::string out;
      call(k, out);
    }
    std::size_t i = 0;
    for (auto _ : state) {
      std::string out;
      if (!call(order[i], out)) ++misses;
      benchmark::DoNotOptimize(out);
      i = next(i, order.size());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    if (misses != 0) state.SkipWithError("hits were not all hits");
  });
}

// ---- miss + insert benchmarks -------------------------------------------------------------------

/// Calls `call(k)` with a new key each iteration; every miss_clear_period calls, `clear()` empties
/// the table with the timer paused (this is what bounds the disk use).
template <class Call, class Clear>
void miss_loop(benchmark::State& state, Call&& call, Clear&& clear) {
  std::int64_t k = miss_first_key;
  std::size_t since_clear = 0;
  for (auto _ : state) {
    if (since_clear == miss_clear_period) {
      state.PauseTiming();
      clear();
      since_clear = 0;
      state.ResumeTiming();
    }
    call(k++);
    ++since_clear;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void bench_bcache_miss(benchmark::State& state, const char* folder,
                       std::optional<std::size_t> maxsize) {
  guarded(state, [&] {
    memo_type memo = make_memo(folder, "miss", maxsize);
    memo.clear();
    if (maxsize) {  // fill, so that every timed store evicts one entry
      for (std::size_t n = 0; n < *maxsize; ++n)
        benchmark::DoNotOptimize(memo(-1 - static_cast<std::int64_t>(n)));
    }
    checkpoint(memo);
    // clear() zeroes the counters: those of each period are added up first.
    std::uint64_t hits = 0;
    std::uint64_t errors = 0;
    auto count = [&] {
      const tc::cache_stats s = memo.stats();
      hits += s.hits;
      errors += s.errors;  // a failed store is counted, never thrown at the caller
    };
    miss_loop(
        state,
        [&](std::int64_t k) {
          std::string value = memo(k);
          benchmark::DoNotOptimize(value);
        },
        [&] {
          if (maxsize) return;  // with maxsize, eviction bounds the table
          count();
          memo.clear();
        });
    count();
    if (hits != 0) state.SkipWithError("a new key was found in the cache");
    if (errors != 0) state.SkipWithError("the engine counted errors (failed stores?)");
  });
}

/// What the raw side of a miss benchmark adds to the plain table, and how it writes.
struct raw_miss_setup {
  const char* file;
  std::vector<const char*> extra_schema;  // run after raw_table_sql
  bool like_engine = false;               // BEGIN IMMEDIATE; INSERT; COMMIT
};

/// The raw miss: the SELECT misses, the value is computed, the row inserted (autocommit, or as
/// the engine writes when `like_engine`).
void bench_raw_miss(benchmark::State& state, const raw_miss_setup& setup) {
  guarded(state, [&] {
    raw_db db(raw_path(setup.file));
    db.exec(raw_table_sql);
    for (const char* sql : setup.extra_schema)
      db.exec(sql);
    db.exec("DELETE FROM t");
    db.checkpoint();
    raw_statement select(db.get(), "SELECT key, value FROM t WHERE id = ?1");
    raw_statement insert(db.get(), raw_insert_sql);
    raw_statement begin(db.get(), "BEGIN IMMEDIATE");
    raw_statement commit(db.get(), "COMMIT");
    auto run = [&](sqlite3_stmt* s, const char* what) {
      if (sqlite3_step(s) != SQLITE_DONE) db.fail(what);
      sqlite3_reset(s);
    };
    std::string key;
    std::size_t hits = 0;
    miss_loop(
        state,
        [&](std::int64_t k) {
          std::string value;
          if (raw_lookup(select.get(), k, key, value)) {
            ++hits;
          } else {
            value = make_value(k);
            if (setup.like_engine) {
              run(begin.get(), "begin");
              raw_insert(db, insert.get(), k, key, value);
              run(commit.get(), "commit");
            } else {
              raw_insert(db, insert.get(), k, key, value);  // autocommit
            }
          }
          benchmark::DoNotOptimize(value);
        },
        [&] { db.exec("DELETE FROM t"); });
    if (hits != 0) state.SkipWithError("a new key was found in the table");
  });
}

// ---- setup --------------------------------------------------------------------------------------

/// Makes the raw keys as long as the engine's: reads the length of a stored key from bcache's
/// hit database (storing one entry first when it is empty).
void match_key_size() {
  memo_type memo = make_memo(hit_folder, "hit");
  benchmark::DoNotOptimize(memo(0));
  raw_db db(engine_db(memo));
  raw_statement length(db.get(), "SELECT length(key) FROM entries LIMIT 1");
  if (sqlite3_step(length.get()) != SQLITE_ROW) db.fail("reading a key length");
  const auto size = static_cast<std::size_t>(sqlite3_column_int64(length.get(), 0));
  raw_key_prefix_size = size > sizeof(std::int64_t) ? size - sizeof(std::int64_t) : 0;
}

void register_all() {
  benchmark::RegisterBenchmark("sqlite/hit/raw", bench_raw_hit);
  benchmark::RegisterBenchmark("sqlite/hit/raw_engine_select", bench_raw_hit_engine_select);
  benchmark::RegisterBenchmark("sqlite/hit/bcache", bench_bcache_hit);
  const auto raw_miss = [](const char* name, raw_miss_setup setup) {
    benchmark::RegisterBenchmark(name,
                                 [setup](benchmark::State& st) { bench_raw_miss(st, setup); });
  };
  raw_miss("sqlite/miss_insert/raw", {.file = "miss.sqlite3", .extra_schema = {}});
  raw_miss("sqlite/miss_insert/raw_with_index",
           {.file = "miss-index.sqlite3", .extra_schema = {raw_index_sql}});
  raw_miss("sqlite/miss_insert/raw_with_totals",
           {.file = "miss-totals.sqlite3", .extra_schema = {raw_totals_sql}});
  raw_miss("sqlite/miss_insert/raw_engine_schema", {.file = "miss-engine-schema.sqlite3",
                                                    .extra_schema = {raw_index_sql, raw_totals_sql},
                                                    .like_engine = true});
  benchmark::RegisterBenchmark("sqlite/miss_insert/bcache", [](benchmark::State& st) {
    bench_bcache_miss(st, "miss", std::nullopt);
  });
  benchmark::RegisterBenchmark("sqlite/miss_insert/bcache_maxsize", [](benchmark::State& st) {
    bench_bcache_miss(st, "miss-maxsize", miss_clear_period);
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::thread([] {}).join();  // a process that has started a thread, as users' programs are
  try {
    const bench_support::temp_cache_root root("bench_sqlite");
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    match_key_size();
    (void)raw_hit_db();
    register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_sqlite: %s\n", e.what());
    return 1;
  }
}
