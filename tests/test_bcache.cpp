// bcache's own promises: its database, and what it does with rows and files it did not write.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <twat_cache/cache.hpp>
#include <vector>

#include "persistent_test_support.hpp"

#if TWAT_CACHE_WITH_SQLITE
#include <sqlite3.h>

namespace fs = std::filesystem;

namespace {

/// Runs SQL on a database the way another program would.
void run_sql(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  INFO((error != nullptr ? error : ""));
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("bcache keeps one database per folder, shared by names") {
  const auto folder = test_support::fresh_folder("layout");
  auto a = twat_cache::bcache([](int x) { return x; }, {.folder_name = folder, .name = "a"});
  auto b = twat_cache::bcache([](int x) { return x; }, {.folder_name = folder, .name = "b"});
  CHECK(a(1) == 1);
  CHECK(b(1) == 1);
  const fs::path db = twat_cache::get_cache_path(folder) / "cache.sqlite3";
  CHECK(a.engine().primary()->path() == db);
  CHECK(b.engine().primary()->path() == db);
  CHECK(fs::is_regular_file(db));
}

TEST_CASE("bcache: a name stored without limits gets them, old entries included, when reopened") {
  const auto folder = test_support::fresh_folder("tracking");
  {
    auto unlimited =
        twat_cache::bcache([](int x) { return x; }, {.folder_name = folder, .name = "grow"});
    for (int i = 0; i < 5; ++i)
      CHECK(unlimited(i) == i);
    CHECK(unlimited.stats().size == 5);
  }
  auto limited = twat_cache::bcache([](int x) { return x; },
                                    {.folder_name = folder, .name = "grow", .maxsize = 3});
  CHECK(limited.stats().size == 5);  // nothing is evicted before the next store
  CHECK(limited(5) == 5);
  CHECK(limited.stats().size == 3);
  CHECK(limited.stats().evictions == 3);
  CHECK_FALSE(limited.contains(2));  // the oldest went first, old entries included
  CHECK(limited.contains(3));
  // A cache without limits on that name now keeps the count exact too.
  auto again = twat_cache::bcache([](int x) { return x; }, {.folder_name = folder, .name = "grow"});
  CHECK(again(6) == 6);
  CHECK(again.stats().size == 4);
  CHECK(limited(7) == 7);
  CHECK(limited.stats().size == 3);
}

TEST_CASE("bcache: altered rows are counted misses, never wrong values") {
  const test_support::quiet_logger quiet;
  const auto folder = test_support::fresh_folder("altered");
  int calls = 0;
  auto f = twat_cache::bcache(
      [&calls](const std::string& s) {
        ++calls;
        return std::vector<std::string>{s, s + s};
      },
      {.folder_name = folder, .name = "split", .compress = true});
  const std::vector<std::string> expected{"ab", "abab"};
  CHECK(f("ab") == expected);
  const fs::path db = twat_cache::get_cache_path(folder) / "cache.sqlite3";

  SECTION("the value's bytes") {
    run_sql(db, "UPDATE entries SET value = X'0102'");
  }
  SECTION("the value with a matching checksum but a lying length") {
    // Without the checksum this would reach the decoder, which must refuse it too.
    run_sql(db, "UPDATE entries SET value = X'FFFFFFFF0F', checksum = 0");
  }
  SECTION("the raw size of a value that was not compressed") {
    run_sql(db, "UPDATE entries SET raw_size = 1000");
  }
  CHECK(f("ab") == expected);
  CHECK(calls == 2);
  CHECK(f.stats().errors == 1);
  CHECK(f("ab") == expected);
  CHECK(calls == 2);
}

TEST_CASE("bcache: a file that is not a database, or of another schema, is left alone") {
  const test_support::quiet_logger quiet;
  const auto folder = test_support::fresh_folder("foreign");
  const fs::path dir = twat_cache::get_cache_path(folder);
  fs::create_directories(dir);
  const fs::path db = dir / "cache.sqlite3";
  std::string original;

  SECTION("garbage") {
    original = std::string(8192, 'g');
    std::ofstream(db, std::ios::binary) << original;
  }
  SECTION("another program's database") {
    run_sql(db, "CREATE TABLE notes(text TEXT);");
  }
  SECTION("a newer schema") {
    run_sql(db,
            "CREATE TABLE twat_cache_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
            "INSERT INTO twat_cache_meta VALUES ('schema', 99);");
  }
  // As another program leaves its file: readable by others, in SQLite's default journal.
  fs::permissions(db, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                          fs::perms::others_read);
  const std::string before = test_support::read_all(db);
  const auto mode_before = fs::status(db).permissions();
  int calls = 0;
  auto f = twat_cache::bcache(
      [&calls](int x) {
        ++calls;
        return x + 1;
      },
      {.folder_name = folder, .name = "f"});
  CHECK(f.backend() == test_support::memory_backend());
  CHECK(f(1) == 2);
  CHECK(f(1) == 2);
  CHECK(calls == 1);
  CHECK(test_support::read_all(db) ==
        before);  // its journal mode too (a switch to WAL rewrites the header)
  CHECK(fs::status(db).permissions() == mode_before);
  CHECK(!fs::exists(dir / "cache.sqlite3-wal"));
}

TEST_CASE("bcache: its own database, found readable by others, is made 0600 again") {
  const auto folder = test_support::fresh_folder("reopened");
  {
    auto f = twat_cache::bcache([](int x) { return x; }, {.folder_name = folder, .name = "f"});
    CHECK(f(1) == 1);
  }
  const fs::path db = twat_cache::get_cache_path(folder) / "cache.sqlite3";
  fs::permissions(db, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  REQUIRE(test_support::mode_of(db) == 0644);
  int calls = 0;
  auto f = twat_cache::bcache(
      [&calls](int x) {
        ++calls;
        return x;
      },
      {.folder_name = folder, .name = "f"});
  CHECK(f.backend() == "sqlite");
  CHECK(f(1) == 1);
  CHECK(calls == 0);  // the entry of the first run
  CHECK(test_support::mode_of(db) == 0600);
}

#endif  // TWAT_CACHE_WITH_SQLITE

TEST_CASE("bcache without SQLite in the build caches in memory, with one warning") {
  std::vector<std::string> causes;
  twat_cache::set_logger([&](twat_cache::log_level, std::string_view cause, std::string_view) {
    causes.emplace_back(cause);
  });
  auto f = twat_cache::bcache([](int x) { return x * 2; },
                              {.folder_name = test_support::fresh_folder("build"), .name = "f"});
  CHECK(f(2) == 4);
  CHECK(f(2) == 4);
  CHECK(f.stats().hits == 1);
  twat_cache::set_logger({});
  if (TWAT_CACHE_WITH_SQLITE) {
    CHECK(f.backend() == "sqlite");
    CHECK(causes.empty());
  } else {
    CHECK(f.backend() == test_support::memory_backend());
    CHECK(causes == std::vector<std::string>{"fallback.sqlite"});
  }
}
