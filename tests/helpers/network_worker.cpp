// A separate process for the networked-engine tests: asks a redis or memcached cache for one key
// of a function that takes a while, so several of these at once show whether the processes share
// the value and, with `lock`, compute it once.
//   network_worker <redis|memcached> <url> <name> <lock 0|1> <key> <log-file>
// Each computation appends one line to <log-file>. Exit status: 0 the right value, 2 usage,
// 3 a wrong value, 6 this build lacks the engine.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <twat_cache/cache.hpp>

namespace {

long slow_square(int key, const std::string& log_file) {
  const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0) {
    const std::string line = "computed " + std::to_string(::getpid()) + "\n";
    static_cast<void>(::write(fd, line.data(), line.size()));
    ::close(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  return static_cast<long>(key) * key;
}

template <class Options>
Options options_for(const std::string& url, const std::string& name, bool lock) {
  Options o;
  o.url = url;
  o.name = name;
  o.lock = lock;
  o.command_timeout = std::chrono::milliseconds(2000);  // a loaded CI machine, not a slow server
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) return 2;
  const std::string_view engine = argv[1];
  const std::string url = argv[2];
  const std::string name = argv[3];
  [[maybe_unused]] const bool lock = std::string_view(argv[4]) == "1";
  const int key = std::atoi(argv[5]);
  const std::string log_file = argv[6];
  [[maybe_unused]] auto f = [&log_file](int k) { return slow_square(k, log_file); };
  long got = -1;
  if (engine == "redis") {
#if TWAT_CACHE_WITH_HIREDIS
    got = twat_cache::memoize<twat_cache::engines::redis>(
        f, options_for<twat_cache::redis_options>(url, name, lock))(key);
#else
    return 6;
#endif
  } else if (engine == "memcached") {
#if TWAT_CACHE_WITH_MEMCACHED
    got = twat_cache::memoize<twat_cache::engines::memcached>(
        f, options_for<twat_cache::memcached_options>(url, name, lock))(key);
#else
    return 6;
#endif
  } else {
    return 2;
  }
  return got == static_cast<long>(key) * key ? 0 : 3;
}
