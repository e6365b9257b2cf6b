// The networked engines (redis, memcached) against real servers on 127.0.0.1: the shared ones the
// CTest fixtures start (tests/servers/server.sh), and private ones a test kills, pauses and
// restarts (server_process.hpp). In a build without either engine, ucache's fallback is tested.

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <twat_cache/cache.hpp>
#include <vector>

#include "invalidation_test_support.hpp"
#include "log_capture.hpp"
#include "persistent_test_support.hpp"
#include "server_process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test_support::warnings;

namespace {

[[maybe_unused]] std::string unique_name(std::string_view stem) {
  return test_support::fresh_folder(stem);  // letters, digits and '-': a valid name
}

/// Sends one request to a server on 127.0.0.1 and reads until `done` says the answer is whole.
template <class Done>
[[maybe_unused]] std::string ask(int port, std::string_view request, Done done) {
  namespace sd = twat_cache_test::server_detail;
  const sd::fd_guard fd(sd::connect_loopback(port));
  REQUIRE(fd.get() >= 0);
  REQUIRE(sd::send_all(fd.get(), request));
  std::string answer;
  sd::receive_until(fd.get(), answer, done);
  return answer;
}

#if TWAT_CACHE_WITH_HIREDIS
struct use_redis {
  static constexpr std::string_view kind = "redis";
  using options = twat_cache::redis_options;
  template <class Key, class Value>
  using engine = twat_cache::engines::redis<Key, Value>;
  static std::string url(int port, std::string_view password = {}) {
    return "redis://" + (password.empty() ? "" : ":" + std::string(password) + "@") +
           "127.0.0.1:" + std::to_string(port);
  }
  /// A command in the protocol's array form.
  static std::string resp(std::initializer_list<std::string_view> args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const std::string_view a : args)
      out += "$" + std::to_string(a.size()) + "\r\n" + std::string(a) + "\r\n";
    return out;
  }
  /// Sends one command whose answer is one line (+OK, :1, -ERR ...) and returns that line.
  static std::string ask_line(int port, std::initializer_list<std::string_view> args) {
    return ask(port, resp(args), [](std::string_view s) { return s.find("\r\n") != s.npos; });
  }
  /// The server keys of every entry of `name`.
  static std::vector<std::string> entry_keys(int port, const std::string& name) {
    const std::string pattern = "twat_cache:1:" + name + ":*";
    const std::string keys = ask(
        port, "*2\r\n$4\r\nKEYS\r\n$" + std::to_string(pattern.size()) + "\r\n" + pattern + "\r\n",
        [](std::string_view s) {
          // "*N\r\n" then N "$len\r\nkey\r\n": count the lines.
          const auto first = s.find("\r\n");
          if (first == std::string_view::npos) return false;
          const int n = std::atoi(std::string(s.substr(1, first)).c_str());
          std::size_t lines = 0;
          for (std::size_t at = 0; (at = s.find("\r\n", at)) != std::string_view::npos; at += 2)
            ++lines;
          return lines >= static_cast<std::size_t>(1 + 2 * n);
        });
    std::vector<std::string> found;
    for (std::size_t at = keys.find("\r\n$"); at != std::string::npos;
         at = keys.find("\r\n$", at + 1)) {
      const std::size_t start = keys.find("\r\n", at + 2) + 2;
      found.push_back(keys.substr(start, keys.find("\r\n", start) - start));
    }
    return found;
  }
  /// Overwrites every entry of `name` with bytes another client might have written.
  static int overwrite_entries(int port, const std::string& name) {
    int n = 0;
    for (const std::string& key : entry_keys(port, name)) {
      CHECK(ask_line(port, {"SET", key, "garbage"}) == "+OK\r\n");
      ++n;
    }
    return n;
  }
};
#endif

#if TWAT_CACHE_WITH_MEMCACHED
struct use_memcached {
  static constexpr std::string_view kind = "memcached";
  using options = twat_cache::memcached_options;
  template <class Key, class Value>
  using engine = twat_cache::engines::memcached<Key, Value>;
  static std::string url(int port, std::string_view = {}) {
    return "memcached://127.0.0.1:" + std::to_string(port);
  }
  static std::string url_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  }
  /// Overwrites every entry of `name` (listed with the LRU crawler) with foreign bytes.
  static int overwrite_entries(int port, const std::string& name) {
    const std::string dump = ask(port, "lru_crawler metadump all\r\n", [](std::string_view s) {
      return s.ends_with("END\r\n") || s.starts_with("ERROR") || s.starts_with("BUSY");
    });
    int n = 0;
    const std::string prefix = "twat_cache:1:" + name + ":";
    for (std::size_t at = dump.find("key="); at != std::string::npos;
         at = dump.find("key=", at + 1)) {
      const std::string key = url_decode(dump.substr(at + 4, dump.find(' ', at) - at - 4));
      if (!key.starts_with(prefix)) continue;
      CHECK(ask(port, "set " + key + " 0 0 7\r\ngarbage\r\n",
                [](std::string_view s) { return s.find("\r\n") != s.npos; }) == "STORED\r\n");
      ++n;
    }
    return n;
  }
};
#endif

[[maybe_unused]] std::size_t lines_in(const fs::path& file) {
  std::ifstream in(file);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);)
    ++n;
  return n;
}

[[maybe_unused]] fs::path scratch_file(std::string_view stem) {
  const char* root = std::getenv("TWAT_CACHE_DIR");
  const fs::path dir = root != nullptr ? fs::path(root) : fs::temp_directory_path();
  fs::create_directories(dir);
  return dir / (unique_name(stem) + ".log");
}

}  // namespace

#if TWAT_CACHE_WITH_HIREDIS && TWAT_CACHE_WITH_MEMCACHED
#define NETWORKED_ENGINES use_redis, use_memcached
#elif TWAT_CACHE_WITH_HIREDIS
#define NETWORKED_ENGINES use_redis
#elif TWAT_CACHE_WITH_MEMCACHED
#define NETWORKED_ENGINES use_memcached
#endif

#ifdef NETWORKED_ENGINES

TEMPLATE_TEST_CASE("a networked cache: hits do not call the function, and processes share values",
                   "[networked]", NETWORKED_ENGINES) {
  const int port = twat_cache_test::shared_server_port(TestType::kind);
  const std::string name = unique_name("shared");
  int calls = 0;
  auto f = twat_cache::memoize<TestType::template engine>(
      [&calls](int x) {
        ++calls;
        return static_cast<long>(x) * x;
      },
      typename TestType::options{.url = TestType::url(port), .name = name});
  CHECK(f.backend() == TestType::kind);
  CHECK(f(7) == 49);
  CHECK(f(7) == 49);
  CHECK(f(8) == 64);
  CHECK(calls == 2);
  CHECK(f.contains(7));
  const auto s = f.stats();
  CHECK(s.hits == 1);
  CHECK(s.misses == 2);
  CHECK(s.errors == 0);

  // Another process finds the values this one stored, without computing them.
  const fs::path log = scratch_file("shared");
  CHECK(test_support::run_process({TWAT_CACHE_TEST_NETWORK_WORKER, std::string(TestType::kind),
                                   TestType::url(port), name, "0", "7", log.string()}) == 0);
  CHECK(lines_in(log) == 0);
  // And this process finds what it stored.
  CHECK(test_support::run_process({TWAT_CACHE_TEST_NETWORK_WORKER, std::string(TestType::kind),
                                   TestType::url(port), name, "0", "9", log.string()}) == 0);
  CHECK(lines_in(log) == 1);
  CHECK(f(9) == 81);
  CHECK(calls == 2);

  // invalidate drops one entry for everyone; clear drops the name's entries, not others'.
  auto other = twat_cache::memoize<TestType::template engine>(
      [](int x) { return static_cast<long>(x); },
      typename TestType::options{.url = TestType::url(port), .name = name + "-other"});
  CHECK(other(1) == 1);
  CHECK(f.invalidate(7));
  CHECK_FALSE(f.invalidate(7));
  CHECK_FALSE(f.contains(7));
  f.clear();
  CHECK_FALSE(f.contains(8));
  CHECK_FALSE(f.contains(9));
  CHECK(other.contains(1));
  CHECK(f.stats().errors == 0);
}

TEMPLATE_TEST_CASE("a networked cache keeps strings, tuples and vectors, and compresses",
                   "[networked]", NETWORKED_ENGINES) {
  const int port = twat_cache_test::shared_server_port(TestType::kind);
  for (const bool compress : {false, true}) {
    int calls = 0;
    auto f = twat_cache::memoize<TestType::template engine>(
        [&calls](const std::string& s, int n) {
          ++calls;
          return std::vector<std::string>(static_cast<std::size_t>(n), s);
        },
        typename TestType::options{
            .url = TestType::url(port), .name = unique_name("types"), .compress = compress});
    const auto big = f(std::string(300, 'x'), 50);  // 15 KB of one letter: zstd keeps it
    CHECK(big.size() == 50);
    CHECK(f(std::string(300, 'x'), 50) == big);
    CHECK(f("a", 2) == std::vector<std::string>{"a", "a"});
    CHECK(f(std::string("a"), 2) == std::vector<std::string>{"a", "a"});
    CHECK(calls == 2);
  }
}

TEMPLATE_TEST_CASE("a networked cache's ttl is the server's expiry", "[networked]",
                   NETWORKED_ENGINES) {
  const int port = twat_cache_test::shared_server_port(TestType::kind);
  int calls = 0;
  auto f = twat_cache::memoize<TestType::template engine>(
      [&calls](int x) {
        ++calls;
        return x;
      },
      typename TestType::options{
          .url = TestType::url(port), .name = unique_name("ttl"), .ttl = 1s});
  CHECK(f(1) == 1);
  CHECK(f(1) == 1);
  CHECK(calls == 1);
  // memcached counts whole seconds: an entry of 1 s lives 1 to 2 s. Bounded wait.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (f.contains(1) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  CHECK_FALSE(f.contains(1));
  CHECK(f(1) == 1);
  CHECK(calls == 2);
}

TEMPLATE_TEST_CASE("a networked cache survives its server dying, hanging and coming back",
                   "[networked]", NETWORKED_ENGINES) {
  warnings seen;
  twat_cache_test::server_process server{std::string(TestType::kind)};
  int calls = 0;
  auto f = twat_cache::memoize<TestType::template engine>(
      [&calls](int x) {
        ++calls;
        return x + 1;
      },
      typename TestType::options{.url = TestType::url(server.port()),
                                 .name = unique_name("dies"),
                                 .command_timeout = 200ms});
  CHECK(f(1) == 2);
  CHECK(f(1) == 2);
  CHECK(calls == 1);

  server.stop();  // killed: every call goes to the function, and is counted as an error
  for (int i = 0; i < 20; ++i)
    CHECK(f(1) == 2);
  CHECK(calls == 21);
  CHECK(f.stats().errors >= 1);
  CHECK(std::count(seen.causes.begin(), seen.causes.end(), "net." + std::string(TestType::kind)) ==
        1);

  server.start();  // the engine finds it again once its pause (at most 2 s) is over
  const auto recovered_by = std::chrono::steady_clock::now() + 10s;
  bool recovered = false;
  while (!recovered && std::chrono::steady_clock::now() < recovered_by) {
    const auto hits = f.stats().hits;
    CHECK(f(5) == 6);
    recovered = f(5) == 6 && f.stats().hits > hits;
    if (!recovered) std::this_thread::sleep_for(100ms);
  }
  CHECK(recovered);

  server.pause();  // hangs: a call waits for the command timeout, no longer
  const auto start = std::chrono::steady_clock::now();
  CHECK(f(2) == 3);
  CHECK(std::chrono::steady_clock::now() - start < 5s);  // 200 ms timeouts, generous bound
  server.resume();
}

TEMPLATE_TEST_CASE("a value another client wrote in another format is a counted miss",
                   "[networked]", NETWORKED_ENGINES) {
  warnings seen;
  const int port = twat_cache_test::shared_server_port(TestType::kind);
  const std::string name = unique_name("foreign");
  int calls = 0;
  auto f = twat_cache::memoize<TestType::template engine>(
      [&calls](int x) {
        ++calls;
        return std::string(static_cast<std::size_t>(x), 'v');
      },
      typename TestType::options{.url = TestType::url(port), .name = name});
  CHECK(f(3) == "vvv");
  CHECK(TestType::overwrite_entries(port, name) >= 1);
  CHECK(f(3) == "vvv");  // not "garbage", not a crash: a miss, computed again
  CHECK(calls == 2);
  CHECK(f.stats().errors == 1);
  CHECK(std::count(seen.causes.begin(), seen.causes.end(), "data." + std::string(TestType::kind)) ==
        1);
  CHECK(f(3) == "vvv");  // and stored again, readable
  CHECK(calls == 2);
}

TEMPLATE_TEST_CASE("with lock, processes asking for one key at once compute it once", "[networked]",
                   NETWORKED_ENGINES) {
  const int port = twat_cache_test::shared_server_port(TestType::kind);
  const std::string name = unique_name("lock");
  for (const bool lock : {true, false}) {
    const fs::path log = scratch_file("lock");
    std::vector<pid_t> workers;
    for (int i = 0; i < 4; ++i) {
      workers.push_back(test_support::start_process(
          {TWAT_CACHE_TEST_NETWORK_WORKER, std::string(TestType::kind), TestType::url(port),
           name + (lock ? "-on" : "-off"), lock ? "1" : "0", "12", log.string()}));
    }
    for (const pid_t pid : workers)
      CHECK(test_support::wait_process(pid) == 0);
    if (lock) {
      CHECK(lines_in(log) == 1);
    } else {
      CHECK(lines_in(log) >= 1);  // without the lock each process may compute (no promise)
    }
  }
}

TEMPLATE_TEST_CASE("a tiered cache: local hits, shared misses, documented invalidation",
                   "[networked]", NETWORKED_ENGINES) {
  const int port = twat_cache_test::shared_server_port(TestType::kind);
  const std::string name = unique_name("tiered");
  std::atomic<int> calls{0};
  auto make = [&] {
    return twat_cache::memoize<
        twat_cache::engines::tiered<twat_cache::engines::memory, TestType::template engine>>(
        [&calls](int x) {
          ++calls;
          return x * 10;
        },
        twat_cache::mcache_options{.maxsize = 100},
        typename TestType::options{.url = TestType::url(port), .name = name});
  };
  auto a = make();  // two wrappers with their own first levels: two processes, as far as the
  auto b = make();  // tiers can tell
  CHECK(a.backend() == "tiered(" + std::string(test_support::memory_backend()) + ", " +
                           std::string(TestType::kind) + ")");
  CHECK(a(1) == 10);
  CHECK(b(1) == 10);  // b's first level misses, the shared level hits
  CHECK(calls == 1);
  CHECK(b.engine().first().contains(1));  // and keeps it locally now
  CHECK(a.stats().misses == 1);
  CHECK(b.stats().hits == 1);

  // a's invalidate reaches a's first level and the shared one; b's copy stays (documented).
  CHECK(a.invalidate(1));
  CHECK_FALSE(a.engine().second().contains(1));
  CHECK_FALSE(a.engine().first().contains(1));
  CHECK(b(1) == 10);
  CHECK(calls == 1);
  CHECK(a(1) == 10);
  CHECK(calls == 2);
}

TEMPLATE_TEST_CASE(
    "invalidate() or clear() during a computation keeps its value out (another key's does "
    "not), in one process, alone or tiered",
    "[networked]", NETWORKED_ENGINES) {
  const int port = twat_cache_test::shared_server_port(TestType::kind);
  const auto how = GENERATE(test_support::every_invalidation());
  const bool tiered = GENERATE(false, true);
  CAPTURE(how, tiered);
  const std::string name = unique_name("overtaken");
  test_support::versioned_record record;
  const auto read = [&record](int x) { return record.read(x); };
  const typename TestType::options server{.url = TestType::url(port), .name = name};
  if (tiered) {
    auto f = twat_cache::memoize<
        twat_cache::engines::tiered<twat_cache::engines::memory, TestType::template engine>>(
        read, twat_cache::mcache_options{.maxsize = 100}, server);
    test_support::invalidate_during_a_computation(record, f, how);
  } else {
    auto f = twat_cache::memoize<TestType::template engine>(read, server);
    test_support::invalidate_during_a_computation(record, f, how);
  }
}

TEMPLATE_TEST_CASE("get_many fetches many keys in one round trip", "[networked]",
                   NETWORKED_ENGINES) {
  const int port = twat_cache_test::shared_server_port(TestType::kind);
  typename TestType::template engine<int, std::string> e(
      typename TestType::options{.url = TestType::url(port), .name = unique_name("many")});
  for (int i = 0; i < 50; i += 2)
    e.put(i, std::to_string(i));
  std::vector<int> keys(50);
  for (int i = 0; i < 50; ++i)
    keys[static_cast<std::size_t>(i)] = i;
  const auto values = e.get_many(keys);
  REQUIRE(values.size() == 50);
  for (int i = 0; i < 50; ++i) {
    INFO("key " << i);
    if (i % 2 == 0) {
      CHECK(values[static_cast<std::size_t>(i)] == std::to_string(i));
    } else {
      CHECK_FALSE(values[static_cast<std::size_t>(i)].has_value());
    }
  }
  CHECK(e.stats().hits == 25);
  CHECK(e.stats().misses == 25);
}

TEMPLATE_TEST_CASE("ucache reaches a networked engine by its url", "[networked]",
                   NETWORKED_ENGINES) {
  const int port = twat_cache_test::shared_server_port(TestType::kind);
  int calls = 0;
  auto plain = twat_cache::ucache(
      [&calls](int x) {
        ++calls;
        return x - 1;
      },
      {.name = unique_name("ucache"), .url = TestType::url(port)});
  CHECK(plain.backend() == TestType::kind);
  CHECK(plain(10) == 9);
  CHECK(plain(10) == 9);
  CHECK(calls == 1);
  auto named =
      twat_cache::ucache([](int x) { return x; }, {.name = unique_name("ucache"),
                                                   .maxsize = 16,
                                                   .preferred_engine = std::string(TestType::kind),
                                                   .url = TestType::url(port),
                                                   .lock = true});
  CHECK(named.backend() == TestType::kind);
  CHECK(named(3) == 3);
  CHECK(named(3) == 3);
  CHECK(named.stats().hits == 1);
  CHECK(named.stats().capacity == 16);  // the memory first level
}

#endif  // NETWORKED_ENGINES

#if TWAT_CACHE_WITH_HIREDIS
TEST_CASE("redis: a wrong password is a counted error with a warning, the right one works",
          "[networked]") {
  warnings seen;
  twat_cache_test::server_process server{"redis", {"--requirepass", "s3cret"}};
  int calls = 0;
  auto f = [&calls](int x) {
    ++calls;
    return x;
  };
  auto wrong = twat_cache::memoize<twat_cache::engines::redis>(
      f, twat_cache::redis_options{.url = use_redis::url(server.port(), "nope"), .name = "pw"});
  CHECK(wrong(1) == 1);
  CHECK(wrong(1) == 1);
  CHECK(calls == 2);
  CHECK(wrong.stats().errors >= 1);
  REQUIRE(seen.messages.size() == 1);
  CHECK(seen.messages.front().find("AUTH") != std::string::npos);
  CHECK(seen.messages.front().find("nope") == std::string::npos);  // never log a password

  auto right = twat_cache::memoize<twat_cache::engines::redis>(
      f, twat_cache::redis_options{.url = use_redis::url(server.port(), "s3cret"), .name = "pw"});
  CHECK(right(1) == 1);
  CHECK(right(1) == 1);
  CHECK(calls == 3);
  CHECK(right.stats().errors == 0);
}

TEST_CASE("redis: a database number in the url keeps entries apart", "[networked]") {
  const int port = twat_cache_test::shared_server_port("redis");
  const std::string name = unique_name("db");
  auto on = [&](int db) {
    return twat_cache::memoize<twat_cache::engines::redis>(
        [db](int x) { return x + db; },
        twat_cache::redis_options{.url = use_redis::url(port) + "/" + std::to_string(db),
                                  .name = name});
  };
  auto zero = on(0);
  auto three = on(3);
  CHECK(zero(1) == 1);
  CHECK(three(1) == 4);
  CHECK(zero(1) == 1);
  CHECK(three.stats().errors == 0);
}

TEST_CASE("redis: an error reply in get_many is one counted error, and the server stays in use",
          "[networked]") {
  warnings seen;
  const int port = twat_cache_test::shared_server_port("redis");
  const std::string name = unique_name("refused");
  twat_cache::engines::redis<int, std::string> e(
      twat_cache::redis_options{.url = use_redis::url(port), .name = name});
  e.put(2, "two");
  // Another client made key 2's entry a list: GET answers WRONGTYPE, an error reply.
  const auto keys = use_redis::entry_keys(port, name);
  REQUIRE(keys.size() == 1);
  CHECK(use_redis::ask_line(port, {"DEL", keys.front()}) == ":1\r\n");
  CHECK(use_redis::ask_line(port, {"RPUSH", keys.front(), "x"}) == ":1\r\n");
  e.put(1, "one");
  e.put(3, "three");

  const std::vector<int> asked{1, 2, 3};
  const auto values = e.get_many(asked);
  REQUIRE(values.size() == 3);
  CHECK(values[0] == "one");
  CHECK_FALSE(values[1].has_value());
  CHECK(values[2] == "three");  // the replies after the error were read too
  CHECK(e.stats().errors == 1);
  REQUIRE(seen.messages.size() == 1);
  CHECK(seen.messages.front().find("WRONGTYPE") != std::string::npos);
  // The server answered: not paused, so the next lookup reaches it.
  CHECK(e.get(3) == "three");
  CHECK(e.stats().errors == 1);
}
#endif

TEST_CASE("networked options: bad values are config errors naming the field", "[networked]") {
  auto f = [](int x) { return x; };
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.name = "n", .url = "http://x"}),
                    Contains("ucache_options.url") && Contains("redis://"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.name = "n", .url = "redis://h:0"}), Contains("port"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.name = "n", .url = "rediss://h"}), Contains("TLS"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.name = "n", .url = "redis://:pw@h/x"}),
                    Contains("database") && !Contains("pw"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.name = "n", .url = "redis://secret@h"}),
                    Contains("user:password@") && !Contains("secret"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.url = "redis://h"}), Contains("ucache_options.name"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.name = "n", .preferred_engine = "redis"}),
                    Contains("ucache_options.url is required"));
  CHECK_THROWS_WITH(
      twat_cache::ucache(
          f, {.name = "n", .preferred_engine = "memcached", .url = "memcached://a:1,:2"}),
      Contains("host is empty"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.folder_name = "x", .name = "n", .url = "redis://h"}),
                    Contains("folder_name"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.name = "n", .max_bytes = 5, .url = "redis://h"}),
                    Contains("max_bytes"));
  CHECK_THROWS_WITH(
      twat_cache::ucache(f, {.name = "n", .policy = twat_cache::policy::lfu, .url = "redis://h"}),
      Contains("maxsize"));
  CHECK_THROWS_WITH(twat_cache::ucache(f, {.lock = true}), Contains("ucache_options.lock"));
  CHECK_THROWS_WITH(
      twat_cache::ucache(f, {.name = "n", .preferred_engine = "sqlite", .url = "redis://h"}),
      Contains("ucache_options.url"));
#if TWAT_CACHE_WITH_HIREDIS
  CHECK_THROWS_WITH(
      twat_cache::memoize<twat_cache::engines::redis>(
          f, twat_cache::redis_options{.url = "redis://h", .name = "n", .command_timeout = 0ms}),
      Contains("redis_options.command_timeout"));
  CHECK_THROWS_WITH(twat_cache::memoize<twat_cache::engines::redis>(
                        f, twat_cache::redis_options{.url = "redis://h", .name = "a b"}),
                    Contains("redis_options.name"));
#endif
#if TWAT_CACHE_WITH_MEMCACHED
  CHECK_THROWS_WITH(
      twat_cache::memoize<twat_cache::engines::memcached>(
          f, twat_cache::memcached_options{.url = "memcached://h", .name = "n", .pool_size = 0}),
      Contains("memcached_options.pool_size"));
#endif
}

TEST_CASE("a networked engine this build lacks falls back to memory with one warning",
          "[networked]") {
  warnings seen;
  const bool redis_built = TWAT_CACHE_WITH_HIREDIS != 0;
  const bool memcached_built = TWAT_CACHE_WITH_MEMCACHED != 0;
  // Port 1 on loopback: nothing listens, so a built engine counts errors and still computes.
  auto r = twat_cache::ucache([](int x) { return x * 2; },
                              {.name = "fallback", .url = "redis://127.0.0.1:1"});
  auto m = twat_cache::ucache([](int x) { return x * 3; },
                              {.name = "fallback", .url = "memcached://127.0.0.1:1"});
  CHECK(r.backend() == (redis_built ? "redis" : test_support::memory_backend()));
  CHECK(m.backend() == (memcached_built ? "memcached" : test_support::memory_backend()));
  CHECK(r(2) == 4);
  CHECK(m(2) == 6);
  CHECK(std::count(seen.causes.begin(), seen.causes.end(), "fallback.redis") ==
        (redis_built ? 0 : 1));
  CHECK(std::count(seen.causes.begin(), seen.causes.end(), "fallback.memcached") ==
        (memcached_built ? 0 : 1));
  if (!redis_built) {  // memoized in memory
    CHECK(r(2) == 4);
    CHECK(r.stats().hits == 1);
  }
}
