#pragma once
// Shared by the tests of the persistent factories: a fresh folder per test, the factories as
// types (so one TEMPLATE_TEST_CASE covers each), and a child-process runner.

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <twat_cache/cache.hpp>
#include <vector>

namespace test_support {

/// A folder name no other test uses, so tests may run in any order and in parallel.
inline std::string fresh_folder(std::string_view stem) {
  static std::atomic<int> counter{0};
  return std::string(stem) + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

struct use_bcache {
  using options = twat_cache::bcache_options;
  static constexpr std::string_view factory = "bcache";
  static constexpr std::string_view engine = TWAT_CACHE_WITH_SQLITE ? "sqlite" : "";
  template <class Sig = twat_cache::detail::deduce_signature, class F>
  static auto make(F&& f, const options& o) {
    return twat_cache::bcache<Sig>(std::forward<F>(f), o);
  }
};

struct use_fcache {
  using options = twat_cache::fcache_options;
  static constexpr std::string_view factory = "fcache";
  static constexpr std::string_view engine = "files";
  template <class Sig = twat_cache::detail::deduce_signature, class F>
  static auto make(F&& f, const options& o) {
    return twat_cache::fcache<Sig>(std::forward<F>(f), o);
  }
};

/// Silences twat_cache's warnings while it lives (tests that provoke them on purpose).
struct quiet_logger {
  quiet_logger() {
    twat_cache::set_logger([](auto, auto, auto) {});
  }
  quiet_logger(const quiet_logger&) = delete;
  quiet_logger& operator=(const quiet_logger&) = delete;
  ~quiet_logger() { twat_cache::set_logger({}); }
};

/// The memory engine's name, which a fallback reports.
inline std::string_view memory_backend() {
  return TWAT_CACHE_WITH_BOOST ? "boost_unordered" : "std_unordered";
}

/// A file's bytes (empty if it cannot be read).
inline std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Mode bits of a path (not following a final symlink).
inline unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return 0xffffffffu;
  return static_cast<unsigned>(st.st_mode & 07777);
}

/// Starts `program args...` without waiting for it; returns its pid (-1 if fork failed).
inline pid_t start_process(const std::vector<std::string>& argv) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

/// Waits for a started process; its exit status (-1 if it did not exit normally).
inline int wait_process(pid_t pid) {
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// Runs `program args...` and returns its exit status (-1 if it did not exit normally).
inline int run_process(const std::vector<std::string>& argv) {
  return wait_process(start_process(argv));
}

}  // namespace test_support
