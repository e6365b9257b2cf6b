// fcache's own promises: its files, what it does with files it did not write (or that were
// damaged), planted symlinks, large arrays.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <twat_cache/cache.hpp>
#include <vector>

#include "persistent_test_support.hpp"

namespace fs = std::filesystem;

namespace {

/// The entry files of a cache (there is one folder per name).
std::vector<fs::path> entry_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".twc") out.push_back(e.path());
  }
  return out;
}

void write_all(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace

TEST_CASE("fcache writes one file per entry, named by hash only, under folder/name") {
  const auto folder = test_support::fresh_folder("layout");
  auto f = twat_cache::fcache([](const std::string& s) { return s + s; },
                              {.folder_name = folder, .name = "twice"});
  CHECK(f("../../etc/passwd") == "../../etc/passwd../../etc/passwd");
  CHECK(f("second") == "secondsecond");
  const fs::path dir = twat_cache::get_cache_path(folder) / "twice";
  CHECK(f.engine().primary()->directory() == dir);
  const auto files = entry_files(dir);
  REQUIRE(files.size() == 2);
  for (const auto& p : files) {
    CHECK(p.filename().string().size() == 32 + 4);  // 128-bit hash in hex, ".twc"
    CHECK(test_support::read_all(p).substr(0, 4) == "TWCF");
  }
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 2);  // no temps
}

TEST_CASE("fcache: altered, truncated and foreign files are counted misses, never wrong values") {
  const test_support::quiet_logger quiet;
  const auto folder = test_support::fresh_folder("damage");
  int calls = 0;
  auto f = twat_cache::fcache(
      [&calls](int n) {
        ++calls;
        return std::vector<std::int32_t>(static_cast<std::size_t>(n), n);
      },
      {.folder_name = folder, .name = "fill"});
  const fs::path dir = twat_cache::get_cache_path(folder) / "fill";
  const auto expected = std::vector<std::int32_t>(100, 100);
  CHECK(f(100) == expected);
  const fs::path file = entry_files(dir).at(0);
  const std::string good = test_support::read_all(file);

  SECTION("a flipped bit in the value") {
    std::string bad = good;
    bad[bad.size() - 3] ^= 0x10;
    write_all(file, bad);
  }
  SECTION("a flipped bit in the header's sizes") {
    std::string bad = good;
    bad[16] ^= 0x01;
    write_all(file, bad);
  }
  SECTION("truncated") {
    write_all(file, good.substr(0, good.size() - 10));
  }
  SECTION("truncated inside the header") {
    write_all(file, good.substr(0, 20));
  }
  SECTION("empty") {
    write_all(file, "");
  }
  SECTION("foreign bytes") {
    write_all(file, std::string(4096, 'z'));
  }
  SECTION("another format version") {
    std::string bad = good;
    bad[4] = 9;
    write_all(file, bad);
  }

  CHECK(f(100) == expected);  // recomputed, right
  CHECK(calls == 2);
  CHECK(f.stats().errors == 1);
  CHECK(f(100) == expected);  // and stored again, whole
  CHECK(calls == 2);
}

TEST_CASE("fcache: an entry file replaced by a symlink is not followed, to read or to write") {
  const test_support::quiet_logger quiet;
  const auto folder = test_support::fresh_folder("entrylink");
  auto f = twat_cache::fcache([](int x) { return x * 2; }, {.folder_name = folder, .name = "dbl"});
  CHECK(f(21) == 42);
  const fs::path dir = twat_cache::get_cache_path(folder) / "dbl";
  const fs::path entry = entry_files(dir).at(0);
  const fs::path outside = twat_cache::get_cache_path(folder + "-outside.txt");
  write_all(outside, "precious");
  fs::remove(entry);
  fs::create_symlink(outside, entry);
  CHECK(f(21) == 42);  // a miss: the link is not read
  CHECK(test_support::read_all(outside) == "precious");
  CHECK(fs::is_regular_file(fs::symlink_status(entry)));  // the write replaced the link itself
  f.clear();
  CHECK(test_support::read_all(outside) == "precious");
}

TEST_CASE("fcache: a symlink planted as the name's folder is refused, and nothing written out") {
  const test_support::quiet_logger quiet;
  const auto folder = test_support::fresh_folder("namelink");
  const fs::path outside = twat_cache::get_cache_path(folder + "-outside");
  fs::create_directories(outside);
  fs::create_directories(twat_cache::get_cache_path(folder));
  fs::create_directory_symlink(outside, twat_cache::get_cache_path(folder) / "planted");
  auto f = twat_cache::fcache([](int x) { return x; }, {.folder_name = folder, .name = "planted"});
  CHECK(f.backend() == test_support::memory_backend());
  CHECK(f(5) == 5);
  f.clear();
  CHECK(fs::is_empty(outside));
}

TEST_CASE("fcache: a large array comes back whole, raw or compressed") {
  const auto folder = test_support::fresh_folder("large");
  for (const bool compress : {false, true}) {
    int calls = 0;
    auto f = twat_cache::fcache(
        [&calls](int n) {
          ++calls;
          std::vector<double> v(static_cast<std::size_t>(n));
          for (std::size_t i = 0; i < v.size(); ++i)
            v[i] = static_cast<double>(i % 1000) * 0.25;
          return v;
        },
        {.folder_name = folder, .name = compress ? "packed" : "raw", .compress = compress});
    const auto first = f(1 << 20);  // 8 MB
    const auto again = f(1 << 20);
    CHECK(calls == 1);
    CHECK(again == first);
    if (compress && TWAT_CACHE_WITH_ZSTD) {
      CHECK(f.stats().bytes < (std::uint64_t{8} << 20) / 4);
    } else {
      CHECK(f.stats().bytes > (std::uint64_t{8} << 20));
    }
  }
}

TEST_CASE("fcache: clear removes this name's files and leaves the others") {
  const auto folder = test_support::fresh_folder("clear");
  auto a = twat_cache::fcache([](int x) { return x; }, {.folder_name = folder, .name = "a"});
  auto b = twat_cache::fcache([](int x) { return -x; }, {.folder_name = folder, .name = "b"});
  for (int i = 0; i < 5; ++i) {
    CHECK(a(i) == i);
    CHECK(b(i) == -i);
  }
  a.clear();
  CHECK(a.stats().size == 0);
  CHECK(b.stats().size == 5);
  CHECK(entry_files(twat_cache::get_cache_path(folder) / "a").empty());
}

TEST_CASE("fcache: durability full syncs and still round-trips") {
  auto f = twat_cache::fcache([](int x) { return std::to_string(x); },
                              {.folder_name = test_support::fresh_folder("durable"),
                               .name = "sync",
                               .durability = twat_cache::durability::full});
  CHECK(f(7) == "7");
  CHECK(f(7) == "7");
  CHECK(f.stats().hits == 1);
}

TEST_CASE("fcache: an I/O error after start is counted and logged; the call still returns") {
  std::vector<std::string> causes;
  twat_cache::set_logger([&](twat_cache::log_level, std::string_view cause, std::string_view) {
    causes.emplace_back(cause);
  });
  const auto folder = test_support::fresh_folder("ioerror");
  int calls = 0;
  auto f = twat_cache::fcache(
      [&calls](int x) {
        ++calls;
        return x + 100;
      },
      {.folder_name = folder, .name = "gone"});
  CHECK(f(1) == 101);
  // The folder disappears under the running cache: every write now fails.
  fs::remove_all(twat_cache::get_cache_path(folder) / "gone");
  CHECK(f(2) == 102);
  CHECK(f(2) == 102);
  twat_cache::set_logger({});
  CHECK(calls == 3);
  CHECK(f.stats().errors == 2);
  CHECK(f.backend() == "files");
  CHECK(std::count(causes.begin(), causes.end(), "put.files") == 1);  // logged once per cause
}

TEST_CASE("fcache: damage anywhere in a large array is a counted miss") {
  // Large arrays are checked and copied chunk by chunk: damage in the first, a middle or the last
  // chunk, or in the count in front of them, must all be caught.
  const test_support::quiet_logger quiet;
  const auto folder = test_support::fresh_folder("largedamage");
  int calls = 0;
  auto f = twat_cache::fcache(
      [&calls](int n) {
        ++calls;
        std::vector<std::uint64_t> v(static_cast<std::size_t>(n));
        for (std::size_t i = 0; i < v.size(); ++i)
          v[i] = i * 2654435761u;
        return v;
      },
      {.folder_name = folder, .name = "big"});
  const int n = 100'000;  // 800 KB: mapped, and 13 chunks
  const auto expected = f(n);
  const fs::path file = entry_files(twat_cache::get_cache_path(folder) / "big").at(0);
  const std::string good = test_support::read_all(file);
  const std::size_t value_start = good.size() - n * sizeof(std::uint64_t) - 3;  // varint: 3 bytes
  std::size_t offset = 0;
  SECTION("the count") {
    offset = value_start;
  }
  SECTION("the first chunk") {
    offset = value_start + 10;
  }
  SECTION("a middle chunk") {
    offset = good.size() / 2;
  }
  SECTION("the last byte") {
    offset = good.size() - 1;
  }
  std::string bad = good;
  bad[offset] ^= 0x04;
  write_all(file, bad);
  CHECK(f(n) == expected);
  CHECK(calls == 2);
  CHECK(f.stats().errors == 1);
  CHECK(f(n) == expected);
  CHECK(calls == 2);
}

TEST_CASE(
    "fcache: a full cache evicts down to 1/16 below maxsize, so it does not scan every write") {
  auto f = twat_cache::fcache(
      [](int x) { return x * 2; },
      {.folder_name = test_support::fresh_folder("lowwater"), .name = "bounded", .maxsize = 64});
  for (int k = 0; k < 64; ++k)
    REQUIRE(f(k) == k * 2);
  CHECK(f.stats().evictions == 0);
  REQUIRE(f(64) == 128);  // the 65th entry: over the limit, down to 64 - 64/16 = 60
  CHECK(f.stats().evictions == 5);
  CHECK(f.stats().size == 60);
  CHECK_FALSE(f.contains(0));  // the oldest went first
  CHECK(f.contains(64));
  for (int k = 65; k < 69; ++k)  // back up to 64: within the limit, nothing evicted
    REQUIRE(f(k) == k * 2);
  CHECK(f.stats().evictions == 5);
  REQUIRE(f(69) == 138);
  CHECK(f.stats().evictions == 10);
  CHECK(f.stats().size == 60);
}
